//! What goes between tokens: [`Ws`].
//!
//! Promises: each [`Ws`] is one fixed byte sequence, either SPEC §1.1.2
//! whitespace or a look-alike that a lenient parser might skip (form feed,
//! vertical tab, NBSP, U+2028, NUL, a BOM); no whitespace at all is the
//! likeliest choice, so most texts stay compact and near-valid.
//!
//! Does not promise: where it goes; containers and documents place it.

use crate::input::{Reader, Shape, Writer};

/// What goes between tokens: SPEC §1.1.2 whitespace, or something that is
/// not (form feed, vertical tab, NBSP, U+2028, NUL, a BOM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ws {
    None,
    Space,
    Newline,
    Tab,
    CrLf,
    Indent,
    FormFeed,
    VerticalTab,
    Nbsp,
    LineSeparator,
    Nul,
    Bom,
}

const WS: [(u8, Ws); 12] = [
    (6, Ws::None),
    (1, Ws::Space),
    (1, Ws::Newline),
    (1, Ws::Tab),
    (1, Ws::CrLf),
    (1, Ws::Indent),
    (1, Ws::FormFeed),
    (1, Ws::VerticalTab),
    (1, Ws::Nbsp),
    (1, Ws::LineSeparator),
    (1, Ws::Nul),
    (1, Ws::Bom),
];

impl Ws {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Ws::None => b"",
            Ws::Space => b" ",
            Ws::Newline => b"\n",
            Ws::Tab => b"\t",
            Ws::CrLf => b"\r\n",
            Ws::Indent => b"\n  ",
            Ws::FormFeed => b"\x0c",
            Ws::VerticalTab => b"\x0b",
            Ws::Nbsp => "\u{a0}".as_bytes(),
            Ws::LineSeparator => "\u{2028}".as_bytes(),
            Ws::Nul => b"\0",
            Ws::Bom => b"\xEF\xBB\xBF",
        }
    }
}

impl Shape for Ws {
    fn read(r: &mut Reader<'_>) -> Self {
        r.pick_weighted(&WS)
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&WS, self);
    }
}
