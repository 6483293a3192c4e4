//! The known members' values: [`Slot`]s of typed values.
//!
//! Promises: a [`Slot`] is usually a typed value of its member's type and
//! sometimes any [`Value`] at all. The typed values are mostly valid and
//! reach the edges the model must rule on: `current_state` and
//! `shadow_run` texts ([`StateVal`], [`BoolVal`]) with near misses and
//! escaped spellings, integers out of range and SPEC §1.3's edges
//! ([`IntVal`]), timestamps built from fields a little past their ranges or
//! picked from leap days, leap seconds and banned shapes ([`TsVal`]).
//!
//! Does not promise: that a typed value is valid; only that it is of the
//! member's JSON type most of the time.

use super::{Digits, Str, Value};
use crate::input::{Reader, Shape, Writer};

/// A known member's value: typed (mostly valid), or any value at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot<T> {
    Typed(T),
    Wild(Value),
}

const WILD_FROM: u8 = 224;

impl<T: Shape> Shape for Slot<T> {
    fn read(r: &mut Reader<'_>) -> Self {
        if r.byte() < WILD_FROM {
            Slot::Typed(r.read())
        } else {
            Slot::Wild(r.nested(|r| r.read()))
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Slot::Typed(t) => {
                w.byte(0);
                w.write(t);
            }
            Slot::Wild(v) => {
                w.byte(WILD_FROM);
                w.write(v);
            }
        }
    }
}

/// Renders a typed value as JSON text.
pub trait Render {
    fn render(&self, out: &mut Vec<u8>);
}

impl<T: Render> Slot<T> {
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Slot::Typed(t) => t.render(&mut out),
            Slot::Wild(v) => v.render(&mut out),
        }
        out
    }
}

impl Render for Str {
    fn render(&self, out: &mut Vec<u8>) {
        Str::render(self, out);
    }
}

impl Render for Option<Str> {
    fn render(&self, out: &mut Vec<u8>) {
        match self {
            Some(s) => s.render(out),
            None => out.extend_from_slice(b"null"),
        }
    }
}

/// JSON texts for `current_state`: the four states (weighted), near misses,
/// and valid spellings through escapes.
pub const STATE_TEXTS: &[(u8, &str)] = &[
    (2, "\"WAKE\""),
    (2, "\"DROWSY\""),
    (2, "\"SLEEP\""),
    (2, "\"HIBERNATION\""),
    (1, "\"wake\""),
    (1, "\"Wake\""),
    (1, "\"HIBERNATE\""),
    (1, "\"\""),
    (1, "\" WAKE\""),
    (1, "\"WAKE \""),
    (1, "\"WAKE\\u0000\""),
    (1, "\"\\u0057AKE\""),
    (1, "\"SLEEP\\n\""),
    (1, "\"D\\u0052OWSY\""),
];

/// A member value that is one JSON text picked from a fixed list.
macro_rules! picked_text {
    ($name:ident, $texts:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub &'static str);

        impl Shape for $name {
            fn read(r: &mut Reader<'_>) -> Self {
                $name(r.pick_weighted($texts))
            }
            fn write(&self, w: &mut Writer) {
                w.pick_weighted($texts, &self.0);
            }
        }

        impl Render for $name {
            fn render(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(self.0.as_bytes());
            }
        }
    };
}

picked_text!(StateVal, STATE_TEXTS);

/// JSON texts for `shadow_run`.
pub const BOOL_TEXTS: &[(u8, &str)] = &[
    (4, "true"),
    (4, "false"),
    (1, "0"),
    (1, "1"),
    (1, "\"true\""),
    (1, "\"false\""),
    (1, "null"),
    (1, "True"),
    (1, "[]"),
];

picked_text!(BoolVal, BOOL_TEXTS);

/// SPEC §1.3 edges and near misses for the three integer members.
pub const INT_EDGES: &[&str] = &[
    "0",
    "-0",
    "1",
    "2",
    "3",
    "9007199254740991",
    "9007199254740992",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "01",
    "00",
    "1.0",
    "1e0",
    "1E2",
    "-0.0",
    "0.5",
    "123456789012345678901234567890",
    "true",
    "\"1\"",
    "null",
    "+1",
    "[1]",
    "-9007199254740991",
    "1e400",
];

/// An integer member: a number (often out of range) or an edge text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntVal {
    Value(u64),
    Edge(&'static str),
}

const EDGE_FROM: u8 = 160;

impl Shape for IntVal {
    fn read(r: &mut Reader<'_>) -> Self {
        let selector = r.byte();
        if selector < EDGE_FROM {
            // Shifting makes small values as likely as huge ones.
            IntVal::Value(r.u64() >> (selector % 64))
        } else {
            IntVal::Edge(INT_EDGES[usize::from(selector - EDGE_FROM) % INT_EDGES.len()])
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            IntVal::Value(v) => {
                w.byte(0);
                w.u64(*v);
            }
            IntVal::Edge(text) => {
                let index = INT_EDGES
                    .iter()
                    .position(|e| e == text)
                    .unwrap_or_else(|| panic!("{text} is not an integer edge"));
                w.byte(EDGE_FROM + index as u8);
            }
        }
    }
}

impl Render for IntVal {
    fn render(&self, out: &mut Vec<u8>) {
        match self {
            IntVal::Value(v) => out.extend_from_slice(v.to_string().as_bytes()),
            IntVal::Edge(text) => out.extend_from_slice(text.as_bytes()),
        }
    }
}

/// Timestamp strings that a random date rarely hits: leap days and
/// seconds on both sides of the rule, the year range, and shapes SPEC §1.4
/// rejects. Escaped spellings of valid timestamps are valid (the rule is
/// on the value).
pub const FIXED_TIMESTAMPS: &[&str] = &[
    "2016-12-31T23:59:60Z",
    "2016-12-31T23:59:60.999+00:00",
    "2024-06-30T23:59:60Z",
    "2024-01-01T12:00:60Z",
    "2024-01-01T23:58:60Z",
    "2000-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "0000-02-29T00:00:00Z",
    "9999-12-31T23:59:59.999999999999Z",
    "0000-01-01T00:00:00Z",
    "2024-01-01",
    "2024-01-01Z",
    "12:00:00Z",
    "2024-01-01T12:00Z",
    "20240101T120000Z",
    "2024-01-01T12:00:00.Z",
    "2024-01-01T12:00:00,5Z",
    "2024-1-01T12:00:00Z",
    "+2024-01-01T12:00:00Z",
    "2024-01-01T12:00:00Z ",
    "\\u0032024-01-01T00:00:00Z",
    "2024-01-01T00:00:00\\u005a",
    "\u{662}024-01-01T00:00:00Z",
];

const SEPARATORS: [(u8, &str); 3] = [(6, "T"), (1, "t"), (1, " ")];
const OFFSETS: [(u8, &str); 8] = [
    (4, "Z"),
    (2, "+00:00"),
    (1, "z"),
    (1, "-00:00"),
    (1, "+01:00"),
    (1, ""),
    (1, "+0000"),
    (1, "+00:00:00"),
];

/// A timestamp built from fields, each a little past its range sometimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsParts {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub fraction: Option<Digits>,
    pub separator: &'static str,
    pub offset: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsVal {
    Parts(TsParts),
    Fixed(&'static str),
}

const FIXED_FROM: u8 = 232;

impl Shape for TsVal {
    fn read(r: &mut Reader<'_>) -> Self {
        let selector = r.byte();
        if selector >= FIXED_FROM {
            let index = usize::from(selector - FIXED_FROM) % FIXED_TIMESTAMPS.len();
            return TsVal::Fixed(FIXED_TIMESTAMPS[index]);
        }
        TsVal::Parts(TsParts {
            year: r.u16() % 10_000,
            month: r.below(14) as u8,
            day: r.below(33) as u8,
            hour: r.below(25) as u8,
            minute: r.below(61) as u8,
            second: r.below(62) as u8,
            fraction: r.read(),
            separator: r.pick_weighted(&SEPARATORS),
            offset: r.pick_weighted(&OFFSETS),
        })
    }
    fn write(&self, w: &mut Writer) {
        match self {
            TsVal::Fixed(text) => {
                let index = FIXED_TIMESTAMPS
                    .iter()
                    .position(|t| t == text)
                    .unwrap_or_else(|| panic!("{text} is not a fixed timestamp"));
                w.byte(FIXED_FROM + index as u8);
            }
            TsVal::Parts(p) => {
                w.byte(0);
                w.u16(p.year);
                w.below(usize::from(p.month), 14);
                w.below(usize::from(p.day), 33);
                w.below(usize::from(p.hour), 25);
                w.below(usize::from(p.minute), 61);
                w.below(usize::from(p.second), 62);
                w.write(&p.fraction);
                w.pick_weighted(&SEPARATORS, &p.separator);
                w.pick_weighted(&OFFSETS, &p.offset);
            }
        }
    }
}

impl Render for TsVal {
    fn render(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        match self {
            TsVal::Fixed(text) => out.extend_from_slice(text.as_bytes()),
            TsVal::Parts(p) => {
                let text = format!(
                    "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
                    p.year, p.month, p.day, p.separator, p.hour, p.minute, p.second
                );
                out.extend_from_slice(text.as_bytes());
                if let Some(fraction) = &p.fraction {
                    out.push(b'.');
                    fraction.render(out);
                }
                out.extend_from_slice(p.offset.as_bytes());
            }
        }
        out.push(b'"');
    }
}
