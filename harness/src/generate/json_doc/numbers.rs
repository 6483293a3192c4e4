//! Numbers as written: [`Num`], its [`Digits`], [`Exp`] and [`NumForm`].
//!
//! Promises: a [`Num`] renders its digits exactly as read, leading zeros,
//! `-0`, 24-digit integers and huge exponents included, so the RFC 8259
//! grammar and the SPEC §1.3 integer range are reached from both sides;
//! the RFC spelling is the likely [`NumForm`], the banned ones (leading
//! `+`, leading or trailing dot, hex) rarer.
//!
//! Does not promise: a value; a number is text here, and whether it is a
//! valid integer member is the model's to say.

use crate::input::{Reader, Shape, Writer};

/// Decimal digits as written, leading zeros and all (0 to 24 of them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Digits(pub Vec<u8>);

impl Digits {
    pub fn of(text: &str) -> Digits {
        Digits(text.bytes().map(|b| b - b'0').collect())
    }

    pub(super) fn render(&self, out: &mut Vec<u8>) {
        out.extend(self.0.iter().map(|d| b'0' + d));
    }
}

impl Shape for Digits {
    fn read(r: &mut Reader<'_>) -> Self {
        let n = r.below(25);
        Digits((0..n).map(|_| r.below(10) as u8).collect())
    }
    fn write(&self, w: &mut Writer) {
        w.below(self.0.len(), 25);
        self.0.iter().for_each(|d| w.below(usize::from(*d), 10));
    }
}

/// How a number is spelled: RFC 8259, or one of the forms SPEC §1.1.4 bans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumForm {
    Plain,
    LeadingPlus,
    LeadingDot,
    TrailingDot,
    Hex,
}

const NUM_FORMS: [(u8, NumForm); 5] = [
    (12, NumForm::Plain),
    (1, NumForm::LeadingPlus),
    (1, NumForm::LeadingDot),
    (1, NumForm::TrailingDot),
    (1, NumForm::Hex),
];

/// `e`/`E`, an optional sign, digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exp {
    pub upper: bool,
    /// 0: none, 1: `+`, 2: `-`.
    pub sign: u8,
    pub digits: Digits,
}

impl Shape for Exp {
    fn read(r: &mut Reader<'_>) -> Self {
        Exp {
            upper: r.flag(),
            sign: r.below(3) as u8,
            digits: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.flag(self.upper);
        w.below(usize::from(self.sign), 3);
        w.write(&self.digits);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Num {
    pub form: NumForm,
    pub negative: bool,
    pub int: Digits,
    pub frac: Option<Digits>,
    pub exp: Option<Exp>,
}

impl Num {
    pub fn int(text: &str) -> Num {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, text),
        };
        Num {
            form: NumForm::Plain,
            negative,
            int: Digits::of(digits),
            frac: None,
            exp: None,
        }
    }

    pub(super) fn render(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        match self.form {
            NumForm::Plain | NumForm::LeadingPlus => {
                if self.form == NumForm::LeadingPlus {
                    out.push(b'+');
                }
                self.int.render(out);
                if let Some(frac) = &self.frac {
                    out.push(b'.');
                    frac.render(out);
                }
            }
            NumForm::LeadingDot => {
                out.push(b'.');
                self.int.render(out);
            }
            NumForm::TrailingDot => {
                self.int.render(out);
                out.push(b'.');
            }
            NumForm::Hex => {
                out.extend_from_slice(b"0x");
                self.int.render(out);
            }
        }
        if let Some(exp) = &self.exp {
            out.push(if exp.upper { b'E' } else { b'e' });
            match exp.sign {
                1 => out.push(b'+'),
                2 => out.push(b'-'),
                _ => {}
            }
            exp.digits.render(out);
        }
    }
}

impl Shape for Num {
    fn read(r: &mut Reader<'_>) -> Self {
        Num {
            form: r.pick_weighted(&NUM_FORMS),
            negative: r.flag(),
            int: r.read(),
            frac: r.read(),
            exp: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&NUM_FORMS, &self.form);
        w.flag(self.negative);
        w.write(&self.int);
        w.write(&self.frac);
        w.write(&self.exp);
    }
}
