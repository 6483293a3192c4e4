//! String literals: [`Str`], a list of [`Piece`]s between quotes.
//!
//! Promises: a piece is a vocabulary word, printable ASCII (quote and
//! backslash escaped), any scalar value raw, a short or `\uXXXX` escape
//! (lone surrogates included), a surrogate pair, or one of [`BAD_PIECES`]
//! (raw control characters, invalid UTF-8, bad escapes); words and ASCII
//! are likely, so most strings are valid.
//!
//! Does not promise: that a string is valid; a [`Piece::Char`] may be a raw
//! `"` or control character, which ends or breaks the string as it should.

use crate::input::{Reader, Shape, Writer};
use crate::vocabulary::{word_index, WORDS};

/// Raw bytes inside a string that break SPEC §1.1.1/§1.1.3, plus a few
/// that look odd but are fine (DEL, a raw BOM character).
pub const BAD_PIECES: &[&[u8]] = &[
    b"\x00",
    b"\x1f",
    b"\n",
    b"\t",
    b"\x7f",
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\x80",
    b"\xe2\x82",
    b"\\a",
    b"\\x41",
    b"\\'",
    b"\\U0041",
    b"\\u12",
    b"\\u12G4",
    b"\\",
    b"\\ud800",
    b"\\udc00",
    b"\\ud800\\u0041",
    b"\\udc00\\ud800",
    b"\\ud800\\n",
    b"\xef\xbb\xbf",
];

const SIMPLE_ESCAPES: [&str; 8] = ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"];

/// One piece of a string literal's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A word of [`WORDS`], as is.
    Word(u8),
    /// A printable ASCII character (`"` and `\` escaped).
    Ascii(u8),
    /// Any scalar value, raw UTF-8 (a raw `"`, `\` or control character
    /// breaks the string, as it should).
    Char(char),
    /// One of the eight short escapes.
    Escape(u8),
    /// `\uXXXX` of any code unit, lone surrogates included.
    U { unit: u16, upper: bool },
    /// A supplementary character as a `\uD8xx\uDCxx` pair.
    Pair(char),
    /// One of [`BAD_PIECES`].
    Bad(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PieceTag {
    Word,
    Ascii,
    Char,
    Escape,
    U,
    Pair,
    Bad,
}

const PIECE_TAGS: [(u8, PieceTag); 7] = [
    (3, PieceTag::Word),
    (4, PieceTag::Ascii),
    (2, PieceTag::Char),
    (2, PieceTag::Escape),
    (2, PieceTag::U),
    (1, PieceTag::Pair),
    (1, PieceTag::Bad),
];

/// `code % 0x110000` as a char; surrogates become U+FFFD.
pub fn scalar(code: u32) -> char {
    char::from_u32(code % 0x11_0000).unwrap_or('\u{fffd}')
}

impl Piece {
    fn tag(&self) -> PieceTag {
        match self {
            Piece::Word(_) => PieceTag::Word,
            Piece::Ascii(_) => PieceTag::Ascii,
            Piece::Char(_) => PieceTag::Char,
            Piece::Escape(_) => PieceTag::Escape,
            Piece::U { .. } => PieceTag::U,
            Piece::Pair(_) => PieceTag::Pair,
            Piece::Bad(_) => PieceTag::Bad,
        }
    }

    fn render(&self, out: &mut Vec<u8>) {
        match self {
            Piece::Word(i) => out.extend_from_slice(WORDS[usize::from(*i)].as_bytes()),
            Piece::Ascii(b'"') => out.extend_from_slice(b"\\\""),
            Piece::Ascii(b'\\') => out.extend_from_slice(b"\\\\"),
            Piece::Ascii(c) => out.push(*c),
            Piece::Char(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Piece::Escape(i) => out.extend_from_slice(SIMPLE_ESCAPES[usize::from(*i)].as_bytes()),
            Piece::U { unit, upper } => {
                let text = if *upper {
                    format!("\\u{unit:04X}")
                } else {
                    format!("\\u{unit:04x}")
                };
                out.extend_from_slice(text.as_bytes());
            }
            Piece::Pair(c) => {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
                }
            }
            Piece::Bad(i) => out.extend_from_slice(BAD_PIECES[usize::from(*i)]),
        }
    }
}

impl Shape for Piece {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick_weighted(&PIECE_TAGS) {
            PieceTag::Word => Piece::Word(r.below(WORDS.len()) as u8),
            PieceTag::Ascii => Piece::Ascii(0x20 + r.below(95) as u8),
            PieceTag::Char => Piece::Char(scalar(r.u32())),
            PieceTag::Escape => Piece::Escape(r.below(SIMPLE_ESCAPES.len()) as u8),
            PieceTag::U => Piece::U {
                unit: r.u16(),
                upper: r.flag(),
            },
            PieceTag::Pair => Piece::Pair(scalar(0x1_0000 + r.u32() % 0x10_0000)),
            PieceTag::Bad => Piece::Bad(r.below(BAD_PIECES.len()) as u8),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&PIECE_TAGS, &self.tag());
        match self {
            Piece::Word(i) => w.below(usize::from(*i), WORDS.len()),
            Piece::Ascii(c) => w.below(usize::from(c - 0x20), 95),
            Piece::Char(c) => w.u32(u32::from(*c)),
            Piece::Escape(i) => w.below(usize::from(*i), SIMPLE_ESCAPES.len()),
            Piece::U { unit, upper } => {
                w.u16(*unit);
                w.flag(*upper);
            }
            Piece::Pair(c) => w.u32(u32::from(*c) - 0x1_0000),
            Piece::Bad(i) => w.below(usize::from(*i), BAD_PIECES.len()),
        }
    }
}

/// A string literal: `"` pieces `"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str(pub Vec<Piece>);

impl Str {
    /// A string of one word of [`WORDS`].
    pub fn word(word: &str) -> Str {
        Str(vec![Piece::Word(word_index(word))])
    }

    /// A string of printable ASCII.
    pub fn ascii(text: &str) -> Str {
        Str(text.bytes().map(Piece::Ascii).collect())
    }

    pub fn render(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        self.0.iter().for_each(|p| p.render(out));
        out.push(b'"');
    }
}

impl Shape for Str {
    fn read(r: &mut Reader<'_>) -> Self {
        Str(r.list(12))
    }
    fn write(&self, w: &mut Writer) {
        w.list(&self.0, 12);
    }
}

impl Str {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.render(&mut out);
        out
    }
}
