//! Bare tokens: [`Lit`].
//!
//! Promises: the three JSON literals are the likely choices; the others are
//! tokens SPEC §1.1.4 bans (`NaN`, `Infinity`, comments, hex, a truncated
//! literal, nothing at all) or other languages' spellings (`None`,
//! `True`), each rendered as a fixed text.
//!
//! Does not promise: that a token is corrupt by itself; `// c\n1` and
//! `/* c */1` end in a valid number, and only their comment is banned.

use crate::input::{Reader, Shape, Writer};

/// A bare token: the three JSON literals and words that are not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lit {
    Null,
    True,
    False,
    NaN,
    Infinity,
    NegInfinity,
    Undefined,
    PyNone,
    CapitalTrue,
    Truncated,
    SingleQuoted,
    LineComment,
    BlockComment,
    Hex,
    Plus,
    Nothing,
}

const LITS: [(u8, Lit); 16] = [
    (3, Lit::Null),
    (3, Lit::True),
    (3, Lit::False),
    (1, Lit::NaN),
    (1, Lit::Infinity),
    (1, Lit::NegInfinity),
    (1, Lit::Undefined),
    (1, Lit::PyNone),
    (1, Lit::CapitalTrue),
    (1, Lit::Truncated),
    (1, Lit::SingleQuoted),
    (1, Lit::LineComment),
    (1, Lit::BlockComment),
    (1, Lit::Hex),
    (1, Lit::Plus),
    (1, Lit::Nothing),
];

impl Lit {
    pub(super) fn text(self) -> &'static str {
        match self {
            Lit::Null => "null",
            Lit::True => "true",
            Lit::False => "false",
            Lit::NaN => "NaN",
            Lit::Infinity => "Infinity",
            Lit::NegInfinity => "-Infinity",
            Lit::Undefined => "undefined",
            Lit::PyNone => "None",
            Lit::CapitalTrue => "True",
            Lit::Truncated => "tru",
            Lit::SingleQuoted => "'a'",
            Lit::LineComment => "// c\n1",
            Lit::BlockComment => "/* c */1",
            Lit::Hex => "0x1F",
            Lit::Plus => "+1",
            Lit::Nothing => "",
        }
    }
}

impl Shape for Lit {
    fn read(r: &mut Reader<'_>) -> Self {
        r.pick_weighted(&LITS)
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&LITS, self);
    }
}
