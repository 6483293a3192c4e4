//! A whole file: [`Doc`], a body between an optional BOM and a tail.
//!
//! Promises: the body is usually a record ([`RecordDoc`]) and otherwise
//! any value (a non-object top level); the tail is usually a newline or
//! nothing, and otherwise whitespace, a second value, a comma, or spaces
//! padding the file to within a few bytes of 1 MiB on either side
//! ([`Tail::Pad`]); a BOM is rare.
//!
//! Does not promise: a file under 1 MiB: a padded file or a deep nest may
//! be larger, as the size limit is one of the classes to reach.

use lifecycle_model::spec::MAX_FILE_BYTES;

use super::members::Render;
use super::{RecordDoc, Value, Ws};
use crate::input::{Reader, Shape, Writer};

/// The top-level value: usually a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Record(Box<RecordDoc>),
    Value(Value),
}

const BODY_IS_RECORD: [(u8, bool); 2] = [(7, true), (1, false)];

impl Shape for Body {
    fn read(r: &mut Reader<'_>) -> Self {
        if r.pick_weighted(&BODY_IS_RECORD) {
            Body::Record(r.read())
        } else {
            Body::Value(r.read())
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Body::Record(record) => {
                w.pick_weighted(&BODY_IS_RECORD, &true);
                w.write(record);
            }
            Body::Value(value) => {
                w.pick_weighted(&BODY_IS_RECORD, &false);
                w.write(value);
            }
        }
    }
}

/// What follows the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    Nothing,
    Newline,
    Ws(Ws),
    /// A second value (SPEC §1.6.4).
    Second(Value),
    Comma,
    /// Spaces up to `1 MiB + offset` bytes in all (offset -2..=8): the
    /// size limit from both sides (SPEC §1.6.1).
    Pad(i8),
}

/// Weights of the tags, in the order of [`Tail`]'s variants. One tail in
/// 32 pads (the size limit is decided before any parsing, so a too-large
/// file is cheap; only [`Tail::Pad`] offsets 0, -1, -2 make a file the
/// decoders read to the end).
const TAILS: [(u8, u8); 6] = [(16, 0), (8, 1), (2, 2), (3, 3), (2, 4), (1, 5)];

/// Pad offsets: bytes 253-255 are 1 MiB − 2, − 1 and exactly 1 MiB (valid
/// sizes, read whole); any other byte is 1 to 8 bytes too large.
fn pad_offset(b: u8) -> i8 {
    match b {
        255 => 0,
        254 => -1,
        253 => -2,
        b => 1 + (b % 8) as i8,
    }
}

fn pad_byte(offset: i8) -> u8 {
    match offset {
        0 => 255,
        -1 => 254,
        -2 => 253,
        o if (1..=8).contains(&o) => (o - 1) as u8,
        o => panic!("pad offset {o} is not one of -2..=8"),
    }
}

impl Shape for Tail {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick_weighted(&TAILS) {
            0 => Tail::Nothing,
            1 => Tail::Newline,
            2 => Tail::Ws(r.read()),
            3 => Tail::Second(r.nested(|r| r.read())),
            4 => Tail::Comma,
            _ => Tail::Pad(pad_offset(r.byte())),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Tail::Nothing => w.pick_weighted(&TAILS, &0),
            Tail::Newline => w.pick_weighted(&TAILS, &1),
            Tail::Ws(ws) => {
                w.pick_weighted(&TAILS, &2);
                w.write(ws);
            }
            Tail::Second(v) => {
                w.pick_weighted(&TAILS, &3);
                w.write(v);
            }
            Tail::Comma => w.pick_weighted(&TAILS, &4),
            Tail::Pad(offset) => {
                w.pick_weighted(&TAILS, &5);
                w.byte(pad_byte(*offset));
            }
        }
    }
}

const BOMS: [(u8, bool); 2] = [(15, false), (1, true)];

/// A whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub bom: bool,
    pub lead: Ws,
    pub body: Body,
    pub tail: Tail,
}

impl Shape for Doc {
    fn read(r: &mut Reader<'_>) -> Self {
        Doc {
            bom: r.pick_weighted(&BOMS),
            lead: r.read(),
            body: r.read(),
            tail: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&BOMS, &self.bom);
        w.write(&self.lead);
        w.write(&self.body);
        w.write(&self.tail);
    }
}

impl Doc {
    /// A document holding just `record`.
    pub fn record(record: RecordDoc) -> Doc {
        Doc {
            bom: false,
            lead: Ws::None,
            body: Body::Record(Box::new(record)),
            tail: Tail::Newline,
        }
    }

    /// The file's bytes.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.bom {
            out.extend_from_slice(Ws::Bom.bytes());
        }
        out.extend_from_slice(self.lead.bytes());
        match &self.body {
            Body::Record(record) => record.render(&mut out),
            Body::Value(value) => value.render(&mut out),
        }
        match &self.tail {
            Tail::Nothing => {}
            Tail::Newline => out.push(b'\n'),
            Tail::Ws(ws) => out.extend_from_slice(ws.bytes()),
            Tail::Second(v) => v.render(&mut out),
            Tail::Comma => out.push(b','),
            Tail::Pad(offset) => {
                let target = MAX_FILE_BYTES.saturating_add_signed(isize::from(*offset));
                if out.len() < target {
                    out.resize(target, b' ');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pad_offset_from_two_under_to_eight_over_is_read_and_written_back() {
        let offsets: std::collections::BTreeSet<i8> = (0..=255u8).map(pad_offset).collect();
        assert_eq!(offsets, (-2..=8).collect());
        for b in 0..=255u8 {
            let offset = pad_offset(b);
            assert_eq!(pad_offset(pad_byte(offset)), offset, "byte {b}");
        }
    }

    #[test]
    #[should_panic(expected = "pad offset 9 is not one of -2..=8")]
    fn a_pad_offset_no_byte_reads_as_is_refused() {
        pad_byte(9);
    }
}
