//! JSON-ish text built from structure: near-valid records and documents.
//!
//! Promises: a [`Doc`] renders to bytes that are usually *almost* a valid
//! record: the generator starts from the seven known members with typed,
//! mostly valid values and then breaks things one at a time, with weights
//! that favour the valid choice. Every corrupt class of SPEC §1.6 is within
//! reach: a size at either side of 1 MiB ([`Tail::Pad`]), invalid UTF-8 and
//! raw control characters ([`Piece::Bad`]), a BOM, stray or non-JSON
//! whitespace ([`Ws`]), non-RFC tokens ([`Lit`], [`NumForm`]), bad escapes
//! and lone surrogates, duplicate names (also through escapes,
//! [`Edit::Duplicate`] + [`Edit::EscapeName`]), non-object top levels,
//! missing members ([`Edit::Remove`]) and known members of the wrong type or
//! value ([`Slot::Wild`], [`IntVal`], [`TsVal`]); deep nesting up to 4,095
//! levels ([`Value::Nest`]), both rare so that runs stay fast.
//!
//! Does not promise: that a rendered text is valid or invalid. The target
//! asks the model which it is; this module only makes the interesting
//! inputs likely.

use crate::input::{Reader, Shape, Writer};
use crate::vocabulary::{word_index, WORDS};

use lifecycle_model::spec::MAX_FILE_BYTES;

// ---------------------------------------------------------------- whitespace

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

const WS: [Ws; 17] = [
    Ws::None,
    Ws::None,
    Ws::None,
    Ws::None,
    Ws::None,
    Ws::None,
    Ws::Space,
    Ws::Newline,
    Ws::Tab,
    Ws::CrLf,
    Ws::Indent,
    Ws::FormFeed,
    Ws::VerticalTab,
    Ws::Nbsp,
    Ws::LineSeparator,
    Ws::Nul,
    Ws::Bom,
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
        r.pick(&WS)
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&WS, self);
    }
}

// ------------------------------------------------------------------ literals

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

const LITS: [Lit; 22] = [
    Lit::Null,
    Lit::Null,
    Lit::Null,
    Lit::True,
    Lit::True,
    Lit::True,
    Lit::False,
    Lit::False,
    Lit::False,
    Lit::NaN,
    Lit::Infinity,
    Lit::NegInfinity,
    Lit::Undefined,
    Lit::PyNone,
    Lit::CapitalTrue,
    Lit::Truncated,
    Lit::SingleQuoted,
    Lit::LineComment,
    Lit::BlockComment,
    Lit::Hex,
    Lit::Plus,
    Lit::Nothing,
];

impl Lit {
    fn text(self) -> &'static str {
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
        r.pick(&LITS)
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&LITS, self);
    }
}

// ------------------------------------------------------------------- numbers

/// Decimal digits as written, leading zeros and all (0 to 24 of them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Digits(pub Vec<u8>);

impl Digits {
    pub fn of(text: &str) -> Digits {
        Digits(text.bytes().map(|b| b - b'0').collect())
    }

    fn render(&self, out: &mut Vec<u8>) {
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

const NUM_FORMS: [NumForm; 16] = [
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::Plain,
    NumForm::LeadingPlus,
    NumForm::LeadingDot,
    NumForm::TrailingDot,
    NumForm::Hex,
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

    fn render(&self, out: &mut Vec<u8>) {
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
            form: r.pick(&NUM_FORMS),
            negative: r.flag(),
            int: r.read(),
            frac: r.read(),
            exp: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&NUM_FORMS, &self.form);
        w.flag(self.negative);
        w.write(&self.int);
        w.write(&self.frac);
        w.write(&self.exp);
    }
}

// ------------------------------------------------------------------- strings

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

const PIECE_TAGS: [PieceTag; 15] = [
    PieceTag::Word,
    PieceTag::Word,
    PieceTag::Word,
    PieceTag::Ascii,
    PieceTag::Ascii,
    PieceTag::Ascii,
    PieceTag::Ascii,
    PieceTag::Char,
    PieceTag::Char,
    PieceTag::Escape,
    PieceTag::Escape,
    PieceTag::U,
    PieceTag::U,
    PieceTag::Pair,
    PieceTag::Bad,
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
        match r.pick(&PIECE_TAGS) {
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
        w.pick(&PIECE_TAGS, &self.tag());
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

// ---------------------------------------------------------------- containers

/// How a container is punctuated: properly, or with one mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Punct {
    Proper,
    TrailingComma,
    LeadingComma,
    DoubleComma,
    MissingComma,
    MissingColon,
    EqualsForColon,
    SingleQuotedName,
    Unclosed,
    ExtraClose,
    WrongClose,
    Comment,
}

const PUNCTS: [Punct; 31] = [
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::Proper,
    Punct::TrailingComma,
    Punct::LeadingComma,
    Punct::DoubleComma,
    Punct::MissingComma,
    Punct::MissingColon,
    Punct::EqualsForColon,
    Punct::SingleQuotedName,
    Punct::Unclosed,
    Punct::ExtraClose,
    Punct::WrongClose,
    Punct::Comment,
];

impl Shape for Punct {
    fn read(r: &mut Reader<'_>) -> Self {
        r.pick(&PUNCTS)
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&PUNCTS, self);
    }
}

/// One object member, rendered: the name literal and the value text.
pub type RenderedMember = (Vec<u8>, Vec<u8>);

/// Renders `[a,b]` or `{"a":1}` with `ws` around every token and `punct`'s
/// one mistake (if any) at the first place it fits.
fn render_container(
    out: &mut Vec<u8>,
    object: bool,
    ws: Ws,
    punct: Punct,
    items: &[RenderedMember],
) {
    let (open, close, wrong) = if object {
        (b'{', b'}', b']')
    } else {
        (b'[', b']', b'}')
    };
    let ws = ws.bytes();
    out.push(open);
    out.extend_from_slice(ws);
    if punct == Punct::LeadingComma {
        out.push(b',');
    }
    for (i, (name, value)) in items.iter().enumerate() {
        if i > 0 {
            match punct {
                Punct::MissingComma if i == 1 => {}
                Punct::DoubleComma if i == 1 => out.extend_from_slice(b",,"),
                _ => out.push(b','),
            }
            out.extend_from_slice(ws);
        }
        if object {
            let first = i == 0;
            match punct {
                Punct::SingleQuotedName if first && name.len() >= 2 => {
                    out.push(b'\'');
                    out.extend_from_slice(&name[1..name.len() - 1]);
                    out.push(b'\'');
                }
                _ => out.extend_from_slice(name),
            }
            out.extend_from_slice(ws);
            match punct {
                Punct::MissingColon if first => {}
                Punct::EqualsForColon if first => out.push(b'='),
                _ => out.push(b':'),
            }
            out.extend_from_slice(ws);
        }
        out.extend_from_slice(value);
        out.extend_from_slice(ws);
    }
    match punct {
        Punct::TrailingComma => out.push(b','),
        Punct::Comment => out.extend_from_slice(b"/* c */"),
        _ => {}
    }
    match punct {
        Punct::Unclosed => {}
        Punct::ExtraClose => out.extend_from_slice(&[close, close]),
        Punct::WrongClose => out.push(wrong),
        _ => out.push(close),
    }
}

// -------------------------------------------------------------------- values

/// Any JSON-ish value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Lit(Lit),
    Num(Num),
    Str(Str),
    Array {
        ws: Ws,
        punct: Punct,
        items: Vec<Value>,
    },
    Object {
        ws: Ws,
        punct: Punct,
        members: Vec<(Str, Value)>,
    },
    /// `depth` nested arrays (`[[…]]`) or objects (`{"a":{"a":…}}`)
    /// around `inner`, rendered without recursion (and cut short past
    /// 1 MiB, where only the size matters).
    Nest {
        object: bool,
        depth: u32,
        inner: Box<Value>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueTag {
    Lit,
    Num,
    Str,
    Array,
    Object,
    Nest,
}

const VALUE_TAGS: [ValueTag; 13] = [
    ValueTag::Lit,
    ValueTag::Lit,
    ValueTag::Num,
    ValueTag::Num,
    ValueTag::Num,
    ValueTag::Str,
    ValueTag::Str,
    ValueTag::Str,
    ValueTag::Array,
    ValueTag::Array,
    ValueTag::Object,
    ValueTag::Object,
    ValueTag::Nest,
];

/// Nesting is `selector % SHALLOW` levels deep, or up to [`MAX_DEPTH`]
/// when the selector is [`DEEP`]: rare and bounded, because a deeply nested
/// document costs milliseconds to decode and would slow every run that
/// mutates it. (The replay test covers half a million nested arrays and
/// 100,000 nested objects.)
const SHALLOW: u32 = 200;
const DEEP: u8 = 255;
pub const MAX_DEPTH: u16 = 4095;

/// Appends `piece` `n` times, stopping once the text is over 1 MiB: past
/// that, every reader rejects it for its size alone (SPEC §1.6.1), so the
/// rest cannot matter and is not worth the time.
fn repeat(out: &mut Vec<u8>, piece: &[u8], n: usize) {
    let room = (MAX_FILE_BYTES + 1).saturating_sub(out.len());
    let n = n.min(room.div_ceil(piece.len()));
    out.reserve(n * piece.len());
    (0..n).for_each(|_| out.extend_from_slice(piece));
}

impl Value {
    fn tag(&self) -> ValueTag {
        match self {
            Value::Lit(_) => ValueTag::Lit,
            Value::Num(_) => ValueTag::Num,
            Value::Str(_) => ValueTag::Str,
            Value::Array { .. } => ValueTag::Array,
            Value::Object { .. } => ValueTag::Object,
            Value::Nest { .. } => ValueTag::Nest,
        }
    }

    pub fn render(&self, out: &mut Vec<u8>) {
        match self {
            Value::Lit(lit) => out.extend_from_slice(lit.text().as_bytes()),
            Value::Num(num) => num.render(out),
            Value::Str(s) => s.render(out),
            Value::Array { ws, punct, items } => {
                let items: Vec<RenderedMember> =
                    items.iter().map(|v| (Vec::new(), v.to_bytes())).collect();
                render_container(out, false, *ws, *punct, &items);
            }
            Value::Object { ws, punct, members } => {
                let members: Vec<RenderedMember> = members
                    .iter()
                    .map(|(name, value)| (name.to_bytes(), value.to_bytes()))
                    .collect();
                render_container(out, true, *ws, *punct, &members);
            }
            Value::Nest {
                object,
                depth,
                inner,
            } => {
                let (open, close): (&[u8], &[u8]) = if *object {
                    (b"{\"a\":", b"}")
                } else {
                    (b"[", b"]")
                };
                let depth = *depth as usize;
                repeat(out, open, depth);
                if out.len() <= MAX_FILE_BYTES {
                    inner.render(out);
                }
                repeat(out, close, depth);
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.render(&mut out);
        out
    }
}

impl Str {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.render(&mut out);
        out
    }
}

impl Shape for Value {
    fn read(r: &mut Reader<'_>) -> Self {
        let tag = r.pick(&VALUE_TAGS);
        let container = matches!(tag, ValueTag::Array | ValueTag::Object | ValueTag::Nest);
        if container && r.is_deep() {
            return Value::Lit(Lit::Null);
        }
        match tag {
            ValueTag::Lit => Value::Lit(r.read()),
            ValueTag::Num => Value::Num(r.read()),
            ValueTag::Str => Value::Str(r.read()),
            ValueTag::Array => r.nested(|r| Value::Array {
                ws: r.read(),
                punct: r.read(),
                items: r.list(5),
            }),
            ValueTag::Object => r.nested(|r| Value::Object {
                ws: r.read(),
                punct: r.read(),
                members: r.list(5),
            }),
            ValueTag::Nest => r.nested(|r| {
                let object = r.flag();
                let selector = r.byte();
                let depth = if selector == DEEP {
                    u32::from(r.u16() & MAX_DEPTH)
                } else {
                    u32::from(selector) % SHALLOW
                };
                Value::Nest {
                    object,
                    depth,
                    inner: r.read(),
                }
            }),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&VALUE_TAGS, &self.tag());
        match self {
            Value::Lit(lit) => w.write(lit),
            Value::Num(num) => w.write(num),
            Value::Str(s) => w.write(s),
            Value::Array { ws, punct, items } => {
                w.write(ws);
                w.write(punct);
                w.list(items, 5);
            }
            Value::Object { ws, punct, members } => {
                w.write(ws);
                w.write(punct);
                w.list(members, 5);
            }
            Value::Nest {
                object,
                depth,
                inner,
            } => {
                w.flag(*object);
                if *depth < SHALLOW {
                    w.byte(*depth as u8);
                } else {
                    let depth = u16::try_from(*depth)
                        .ok()
                        .filter(|d| *d <= MAX_DEPTH)
                        .unwrap_or_else(|| panic!("a nest is at most {MAX_DEPTH} deep"));
                    w.byte(DEEP);
                    w.u16(depth);
                }
                w.write(inner);
            }
        }
    }
}

// ------------------------------------------------------------- typed members

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
    fn to_bytes(&self) -> Vec<u8> {
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
pub const STATE_TEXTS: &[&str] = &[
    "\"WAKE\"",
    "\"WAKE\"",
    "\"DROWSY\"",
    "\"DROWSY\"",
    "\"SLEEP\"",
    "\"SLEEP\"",
    "\"HIBERNATION\"",
    "\"HIBERNATION\"",
    "\"wake\"",
    "\"Wake\"",
    "\"HIBERNATE\"",
    "\"\"",
    "\" WAKE\"",
    "\"WAKE \"",
    "\"WAKE\\u0000\"",
    "\"\\u0057AKE\"",
    "\"SLEEP\\n\"",
    "\"D\\u0052OWSY\"",
];

/// A member value that is one JSON text picked from a fixed list.
macro_rules! picked_text {
    ($name:ident, $texts:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub &'static str);

        impl Shape for $name {
            fn read(r: &mut Reader<'_>) -> Self {
                $name(r.pick($texts))
            }
            fn write(&self, w: &mut Writer) {
                w.pick($texts, &self.0);
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
pub const BOOL_TEXTS: &[&str] = &[
    "true",
    "true",
    "true",
    "true",
    "false",
    "false",
    "false",
    "false",
    "0",
    "1",
    "\"true\"",
    "\"false\"",
    "null",
    "True",
    "[]",
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

const SEPARATORS: [&str; 8] = ["T", "T", "T", "T", "T", "T", "t", " "];
const OFFSETS: [&str; 12] = [
    "Z",
    "Z",
    "Z",
    "Z",
    "+00:00",
    "+00:00",
    "z",
    "-00:00",
    "+01:00",
    "",
    "+0000",
    "+00:00:00",
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
            separator: r.pick(&SEPARATORS),
            offset: r.pick(&OFFSETS),
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
                w.pick(&SEPARATORS, &p.separator);
                w.pick(&OFFSETS, &p.offset);
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

// -------------------------------------------------------- near-valid objects

/// One change to an object's member list, applied after it is built.
/// Indexes are taken modulo the number of members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Remove(u8),
    Duplicate(u8),
    Swap(u8, u8),
    Replace(u8, Value),
    Rename(u8, Str),
    /// Spells the first character of the name as `\u00XX` (same name).
    EscapeName(u8),
}

impl Shape for Edit {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(6) {
            0 => Edit::Remove(r.byte()),
            1 => Edit::Duplicate(r.byte()),
            2 => Edit::Swap(r.byte(), r.byte()),
            3 => Edit::Replace(r.byte(), r.nested(|r| r.read())),
            4 => Edit::Rename(r.byte(), r.read()),
            _ => Edit::EscapeName(r.byte()),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Edit::Remove(i) => {
                w.below(0, 6);
                w.byte(*i);
            }
            Edit::Duplicate(i) => {
                w.below(1, 6);
                w.byte(*i);
            }
            Edit::Swap(i, j) => {
                w.below(2, 6);
                w.byte(*i);
                w.byte(*j);
            }
            Edit::Replace(i, v) => {
                w.below(3, 6);
                w.byte(*i);
                w.write(v);
            }
            Edit::Rename(i, s) => {
                w.below(4, 6);
                w.byte(*i);
                w.write(s);
            }
            Edit::EscapeName(i) => {
                w.below(5, 6);
                w.byte(*i);
            }
        }
    }
}

/// How many edits an object gets: usually none, so most records stay
/// near-valid.
const EDIT_COUNTS: [usize; 10] = [0, 0, 0, 0, 0, 0, 1, 1, 2, 3];

/// The edits of one object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edits(pub Vec<Edit>);

impl Shape for Edits {
    fn read(r: &mut Reader<'_>) -> Self {
        let n = r.pick(&EDIT_COUNTS);
        Edits((0..n).map(|_| r.read()).collect())
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&EDIT_COUNTS, &self.0.len());
        self.0.iter().for_each(|e| e.write(w));
    }
}

/// Unknown members of one object (0 to 3).
pub type Unknown = Vec<(Str, Value)>;

fn read_unknown(r: &mut Reader<'_>) -> Unknown {
    r.nested(|r| r.list(3))
}

fn name(text: &str) -> Vec<u8> {
    format!("\"{text}\"").into_bytes()
}

/// Applies `edits` to `members`, then renders the object.
fn render_object(out: &mut Vec<u8>, ws: Ws, mut members: Vec<RenderedMember>, edits: &Edits) {
    for edit in &edits.0 {
        if members.is_empty() {
            break;
        }
        let len = members.len();
        let at = |i: &u8| usize::from(*i) % len;
        match edit {
            Edit::Remove(i) => {
                members.remove(at(i));
            }
            Edit::Duplicate(i) => {
                let copy = members[at(i)].clone();
                members.push(copy);
            }
            Edit::Swap(i, j) => {
                let (i, j) = (at(i), at(j));
                members.swap(i, j);
            }
            Edit::Replace(i, v) => {
                let i = at(i);
                members[i].1 = v.to_bytes();
            }
            Edit::Rename(i, s) => {
                let i = at(i);
                members[i].0 = s.to_bytes();
            }
            Edit::EscapeName(i) => {
                let name = &mut members[at(i)].0;
                if let Some(&c) = name.get(1).filter(|c| c.is_ascii_alphanumeric()) {
                    let escaped = format!("\\u{:04x}", c);
                    name.splice(1..2, escaped.bytes());
                }
            }
        }
    }
    render_container(out, true, ws, Punct::Proper, &members);
}

fn push_unknown(members: &mut Vec<RenderedMember>, unknown: &Unknown) {
    for (name, value) in unknown {
        members.push((name.to_bytes(), value.to_bytes()));
    }
}

/// Absent, `null`, or an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nullable<T> {
    Absent,
    Null,
    Present(T),
}

const NULLABLE: [u8; 8] = [0, 1, 1, 2, 2, 2, 2, 2];

impl<T: Shape> Shape for Nullable<T> {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick(&NULLABLE) {
            0 => Nullable::Absent,
            1 => Nullable::Null,
            _ => Nullable::Present(r.nested(|r| r.read())),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Nullable::Absent => w.pick(&NULLABLE, &0),
            Nullable::Null => w.pick(&NULLABLE, &1),
            Nullable::Present(t) => {
                w.pick(&NULLABLE, &2);
                w.write(t);
            }
        }
    }
}

/// A nullable known member of the record, pushed unless absent.
fn push_nullable<T: Render>(
    members: &mut Vec<RenderedMember>,
    key: &str,
    slot: &Slot<Nullable<T>>,
) {
    let value = match slot {
        Slot::Wild(v) => v.to_bytes(),
        Slot::Typed(Nullable::Absent) => return,
        Slot::Typed(Nullable::Null) => b"null".to_vec(),
        Slot::Typed(Nullable::Present(t)) => {
            let mut out = Vec::new();
            t.render(&mut out);
            out
        }
    };
    members.push((name(key), value));
}

/// `sleep_cycle_progress`: every member optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressDoc {
    pub last_completed_step: Option<Slot<IntVal>>,
    pub attempt: Option<Slot<IntVal>>,
    pub last_error: Option<Slot<Option<Str>>>,
    pub started_at: Option<Slot<TsVal>>,
    pub unknown: Unknown,
    pub edits: Edits,
}

impl Shape for ProgressDoc {
    fn read(r: &mut Reader<'_>) -> Self {
        ProgressDoc {
            last_completed_step: r.read(),
            attempt: r.read(),
            last_error: r.read(),
            started_at: r.read(),
            unknown: read_unknown(r),
            edits: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.last_completed_step);
        w.write(&self.attempt);
        w.write(&self.last_error);
        w.write(&self.started_at);
        w.list(&self.unknown, 3);
        w.write(&self.edits);
    }
}

impl Render for ProgressDoc {
    fn render(&self, out: &mut Vec<u8>) {
        let mut members = Vec::new();
        if let Some(slot) = &self.last_completed_step {
            members.push((name("last_completed_step"), slot.to_bytes()));
        }
        if let Some(slot) = &self.attempt {
            members.push((name("attempt"), slot.to_bytes()));
        }
        if let Some(slot) = &self.last_error {
            members.push((name("last_error"), slot.to_bytes()));
        }
        if let Some(slot) = &self.started_at {
            members.push((name("started_at"), slot.to_bytes()));
        }
        push_unknown(&mut members, &self.unknown);
        render_object(out, Ws::None, members, &self.edits);
    }
}

/// `quarantine`: three required members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineDoc {
    pub until_ts: Slot<TsVal>,
    pub since_ts: Slot<TsVal>,
    pub reason: Slot<Str>,
    pub unknown: Unknown,
    pub edits: Edits,
}

impl Shape for QuarantineDoc {
    fn read(r: &mut Reader<'_>) -> Self {
        QuarantineDoc {
            until_ts: r.read(),
            since_ts: r.read(),
            reason: r.read(),
            unknown: read_unknown(r),
            edits: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.until_ts);
        w.write(&self.since_ts);
        w.write(&self.reason);
        w.list(&self.unknown, 3);
        w.write(&self.edits);
    }
}

impl Render for QuarantineDoc {
    fn render(&self, out: &mut Vec<u8>) {
        let mut members = vec![
            (name("until_ts"), self.until_ts.to_bytes()),
            (name("since_ts"), self.since_ts.to_bytes()),
            (name("reason"), self.reason.to_bytes()),
        ];
        push_unknown(&mut members, &self.unknown);
        render_object(out, Ws::None, members, &self.edits);
    }
}

/// A record: the seven known members in table order, unknown members, then
/// the edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDoc {
    pub ws: Ws,
    pub current_state: Slot<StateVal>,
    pub since_ts: Slot<TsVal>,
    pub last_activity_ts: Slot<TsVal>,
    pub wrapper_event_seq: Slot<IntVal>,
    pub sleep_cycle_progress: Slot<Nullable<ProgressDoc>>,
    pub quarantine: Slot<Nullable<QuarantineDoc>>,
    pub shadow_run: Slot<BoolVal>,
    pub unknown: Unknown,
    pub edits: Edits,
}

impl Shape for RecordDoc {
    fn read(r: &mut Reader<'_>) -> Self {
        RecordDoc {
            ws: r.read(),
            current_state: r.read(),
            since_ts: r.read(),
            last_activity_ts: r.read(),
            wrapper_event_seq: r.read(),
            sleep_cycle_progress: r.read(),
            quarantine: r.read(),
            shadow_run: r.read(),
            unknown: read_unknown(r),
            edits: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.ws);
        w.write(&self.current_state);
        w.write(&self.since_ts);
        w.write(&self.last_activity_ts);
        w.write(&self.wrapper_event_seq);
        w.write(&self.sleep_cycle_progress);
        w.write(&self.quarantine);
        w.write(&self.shadow_run);
        w.list(&self.unknown, 3);
        w.write(&self.edits);
    }
}

impl Render for RecordDoc {
    fn render(&self, out: &mut Vec<u8>) {
        let mut members = vec![
            (name("current_state"), self.current_state.to_bytes()),
            (name("since_ts"), self.since_ts.to_bytes()),
            (name("last_activity_ts"), self.last_activity_ts.to_bytes()),
            (name("wrapper_event_seq"), self.wrapper_event_seq.to_bytes()),
        ];
        push_nullable(
            &mut members,
            "sleep_cycle_progress",
            &self.sleep_cycle_progress,
        );
        push_nullable(&mut members, "quarantine", &self.quarantine);
        members.push((name("shadow_run"), self.shadow_run.to_bytes()));
        push_unknown(&mut members, &self.unknown);
        render_object(out, self.ws, members, &self.edits);
    }
}

// ----------------------------------------------------------------- documents

/// The top-level value: usually a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Record(Box<RecordDoc>),
    Value(Value),
}

const BODY_IS_RECORD: [bool; 8] = [true, true, true, true, true, true, true, false];

impl Shape for Body {
    fn read(r: &mut Reader<'_>) -> Self {
        if r.pick(&BODY_IS_RECORD) {
            Body::Record(r.read())
        } else {
            Body::Value(r.read())
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Body::Record(record) => {
                w.pick(&BODY_IS_RECORD, &true);
                w.write(record);
            }
            Body::Value(value) => {
                w.pick(&BODY_IS_RECORD, &false);
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

/// One tail in 32 pads (the size limit is decided before any parsing, so
/// a too-large file is cheap; only [`Tail::Pad`] offsets 0, -1, -2 make a
/// file the decoders read to the end).
const TAILS: [u8; 32] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5,
];

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
        match r.pick(&TAILS) {
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
            Tail::Nothing => w.pick(&TAILS, &0),
            Tail::Newline => w.pick(&TAILS, &1),
            Tail::Ws(ws) => {
                w.pick(&TAILS, &2);
                w.write(ws);
            }
            Tail::Second(v) => {
                w.pick(&TAILS, &3);
                w.write(v);
            }
            Tail::Comma => w.pick(&TAILS, &4),
            Tail::Pad(offset) => {
                w.pick(&TAILS, &5);
                w.byte(pad_byte(*offset));
            }
        }
    }
}

const BOMS: [bool; 16] = [
    false, false, false, false, false, false, false, false, false, false, false, false, false,
    false, false, true,
];

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
            bom: r.pick(&BOMS),
            lead: r.read(),
            body: r.read(),
            tail: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&BOMS, &self.bom);
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

impl RecordDoc {
    /// The valid base record of `tests/vectors`: every member typed and
    /// valid, progress and quarantine `null`.
    pub fn base() -> RecordDoc {
        let ts = |text| Slot::Typed(TsVal::Fixed(text));
        RecordDoc {
            ws: Ws::None,
            current_state: Slot::Typed(StateVal("\"WAKE\"")),
            since_ts: ts("2000-02-29T00:00:00Z"),
            last_activity_ts: ts("2016-12-31T23:59:60Z"),
            wrapper_event_seq: Slot::Typed(IntVal::Edge("1")),
            sleep_cycle_progress: Slot::Typed(Nullable::Null),
            quarantine: Slot::Typed(Nullable::Null),
            shadow_run: Slot::Typed(BoolVal("false")),
            unknown: Vec::new(),
            edits: Edits::default(),
        }
    }
}
