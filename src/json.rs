//! A strict RFC 8259 reader and the string writer the codec needs.
//!
//! Promises: [`parse_object`] accepts exactly one RFC 8259 value surrounded by
//! optional JSON whitespace, rejects every duplicate member name (compared after
//! unescaping) at any depth, rejects unpaired surrogate escapes and non-JSON
//! tokens such as `NaN`, and never recurses, so nesting depth is bounded only
//! by the input size. It hands back the top-level members as raw text slices,
//! which is what lets unknown members survive a round trip byte for byte.
//!
//! Does not promise: any interpretation of numbers (they stay text) or any
//! record rule; that is the codec's job.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// Why a text is not one well-formed JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset where the problem was noticed.
    pub offset: usize,
    pub kind: SyntaxErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// The text ended where a value or a closing bracket was still due.
    UnexpectedEnd,
    /// A byte that cannot start or continue anything here (this is how `NaN`,
    /// `Infinity`, comments, single quotes and the like are reported).
    UnexpectedByte(u8),
    /// Something other than whitespace follows the one value.
    TrailingBytes,
    /// A number that breaks the RFC 8259 grammar (`01`, `1.`, `.5`, `+1`, `1e`).
    InvalidNumber,
    /// `tru`, `nul`, `True` and other misspelt literals.
    InvalidLiteral,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacterInString,
    /// A backslash escape RFC 8259 does not define, or a malformed `\u`.
    InvalidEscape,
    /// A `\u` escape of a surrogate that is not part of a high/low pair.
    UnpairedSurrogate,
    /// The same member name twice in one object.
    DuplicateMember(String),
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            SyntaxErrorKind::UnexpectedEnd => write!(f, "unexpected end of input at byte {at}"),
            SyntaxErrorKind::UnexpectedByte(b) if b.is_ascii_graphic() => {
                write!(f, "unexpected character '{}' at byte {at}", *b as char)
            }
            SyntaxErrorKind::UnexpectedByte(b) => {
                write!(f, "unexpected byte 0x{b:02x} at byte {at}")
            }
            SyntaxErrorKind::TrailingBytes => {
                write!(f, "trailing bytes after the JSON value at byte {at}")
            }
            SyntaxErrorKind::InvalidNumber => write!(f, "malformed number at byte {at}"),
            SyntaxErrorKind::InvalidLiteral => write!(f, "malformed literal at byte {at}"),
            SyntaxErrorKind::ControlCharacterInString => {
                write!(f, "raw control character in a string at byte {at}")
            }
            SyntaxErrorKind::InvalidEscape => write!(f, "invalid escape sequence at byte {at}"),
            SyntaxErrorKind::UnpairedSurrogate => {
                write!(f, "unpaired surrogate escape at byte {at}")
            }
            SyntaxErrorKind::DuplicateMember(name) => {
                write!(f, "duplicate member name {name:?} at byte {at}")
            }
        }
    }
}

impl std::error::Error for SyntaxError {}

/// The one top-level value of a document.
#[derive(Debug, PartialEq, Eq)]
pub enum TopLevel<'a> {
    /// An object: its members in document order, each value as raw text
    /// without surrounding whitespace.
    Object(Vec<(String, &'a str)>),
    /// Any other kind of value; the name of its kind (`"array"`, `"string"`, ...).
    Other(&'static str),
}

/// The kind of a raw value slice produced by this module.
pub fn kind_of(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// Validates `text` as exactly one JSON value and returns its top-level members.
pub fn parse_object(text: &str) -> Result<TopLevel<'_>, SyntaxError> {
    Parser::new(text).run()
}

/// Validates `text` as exactly one JSON value (any kind).
pub fn validate(text: &str) -> Result<(), SyntaxError> {
    parse_object(text).map(|_| ())
}

/// The unescaped contents of a raw string slice (`"..."`) from a validated text.
pub fn string_contents(raw: &str) -> Option<Cow<'_, str>> {
    if kind_of(raw) != "string" {
        return None;
    }
    let mut parser = Parser::new(raw);
    parser.string().ok()
}

/// Appends `value` to `out` as a JSON string literal.
pub fn write_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

enum Container<'a> {
    Array,
    Object { names: MemberNames<'a> },
}

/// The member names seen so far in one object, to find duplicates.
///
/// Most objects have a handful of members: a linear scan of borrowed names
/// costs no allocation and no hashing; past [`MemberNames::SCAN_LIMIT`]
/// names a hash set keeps huge objects linear.
#[derive(Default)]
struct MemberNames<'a> {
    few: Vec<Cow<'a, str>>,
    many: Option<HashSet<Cow<'a, str>>>,
}

impl<'a> MemberNames<'a> {
    const SCAN_LIMIT: usize = 16;

    /// Adds `name`; false when it was already there.
    fn insert(&mut self, name: Cow<'a, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(name);
        }
        if self.few.contains(&name) {
            return false;
        }
        self.few.push(name);
        if self.few.len() > Self::SCAN_LIMIT {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// What the parser expects next.
enum Expect {
    Value,
    MemberName,
    AfterValue,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn error(&self, kind: SyntaxErrorKind) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            kind,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_byte(&mut self, wanted: u8) -> Result<(), SyntaxError> {
        match self.peek() {
            Some(b) if b == wanted => {
                self.pos += 1;
                Ok(())
            }
            Some(b) => Err(self.error(SyntaxErrorKind::UnexpectedByte(b))),
            None => Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
        }
    }

    fn run(mut self) -> Result<TopLevel<'a>, SyntaxError> {
        let mut stack: Vec<Container<'a>> = Vec::new();
        let mut top_members: Vec<(String, &'a str)> = Vec::new();
        let mut top_kind: &'static str = "object";
        // The member name and value start of the top-level member being read.
        let mut pending_name: Option<Cow<'a, str>> = None;
        let mut value_start = 0;
        let mut expect = Expect::Value;

        self.skip_whitespace();
        loop {
            match expect {
                Expect::Value => {
                    if stack.len() == 1 {
                        value_start = self.pos;
                    }
                    match self.peek() {
                        None => return Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
                        Some(b'{') => {
                            if stack.is_empty() {
                                top_kind = "object";
                            }
                            self.pos += 1;
                            self.skip_whitespace();
                            if self.peek() == Some(b'}') {
                                self.pos += 1;
                            } else {
                                stack.push(Container::Object {
                                    names: MemberNames::default(),
                                });
                                expect = Expect::MemberName;
                                continue;
                            }
                        }
                        Some(b'[') => {
                            if stack.is_empty() {
                                top_kind = "array";
                            }
                            self.pos += 1;
                            self.skip_whitespace();
                            if self.peek() == Some(b']') {
                                self.pos += 1;
                            } else {
                                stack.push(Container::Array);
                                continue;
                            }
                        }
                        Some(b) => {
                            let kind = self.scalar(b)?;
                            if stack.is_empty() {
                                top_kind = kind;
                            }
                        }
                    }
                    // A value just ended (scalar or empty container): fall
                    // through to the after-value handling below.
                }
                Expect::MemberName => {
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b'"') => {}
                        Some(b) => return Err(self.error(SyntaxErrorKind::UnexpectedByte(b))),
                        None => return Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
                    }
                    let name_start = self.pos;
                    let name = self.string()?;
                    if let Some(Container::Object { names }) = stack.last_mut() {
                        if !names.insert(name.clone()) {
                            return Err(SyntaxError {
                                offset: name_start,
                                kind: SyntaxErrorKind::DuplicateMember(name.into_owned()),
                            });
                        }
                    }
                    if stack.len() == 1 {
                        pending_name = Some(name);
                    }
                    self.skip_whitespace();
                    self.expect_byte(b':')?;
                    self.skip_whitespace();
                    expect = Expect::Value;
                    continue;
                }
                Expect::AfterValue => {}
            }

            // After a complete value: record top-level members, then decide
            // what the enclosing container allows next.
            if stack.len() == 1 {
                if let Some(name) = pending_name.take() {
                    top_members.push((name.into_owned(), &self.text[value_start..self.pos]));
                }
            }
            self.skip_whitespace();
            match stack.last() {
                None => break,
                Some(Container::Array) => match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_whitespace();
                        expect = Expect::Value;
                    }
                    Some(b']') => {
                        self.pos += 1;
                        stack.pop();
                        expect = Expect::AfterValue;
                    }
                    Some(b) => return Err(self.error(SyntaxErrorKind::UnexpectedByte(b))),
                    None => return Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
                },
                Some(Container::Object { .. }) => match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        expect = Expect::MemberName;
                    }
                    Some(b'}') => {
                        self.pos += 1;
                        stack.pop();
                        expect = Expect::AfterValue;
                    }
                    Some(b) => return Err(self.error(SyntaxErrorKind::UnexpectedByte(b))),
                    None => return Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
                },
            }
        }

        if self.pos != self.bytes.len() {
            return Err(self.error(SyntaxErrorKind::TrailingBytes));
        }
        if top_kind == "object" {
            Ok(TopLevel::Object(top_members))
        } else {
            Ok(TopLevel::Other(top_kind))
        }
    }

    /// Reads a string, number or literal starting with `first`; returns its kind.
    fn scalar(&mut self, first: u8) -> Result<&'static str, SyntaxError> {
        match first {
            b'"' => {
                self.string()?;
                Ok("string")
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Ok("number")
            }
            b't' => self.literal(b"true").map(|_| "boolean"),
            b'f' => self.literal(b"false").map(|_| "boolean"),
            b'n' => self.literal(b"null").map(|_| "null"),
            b => Err(self.error(SyntaxErrorKind::UnexpectedByte(b))),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), SyntaxError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error(SyntaxErrorKind::InvalidLiteral))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let invalid = |p: &Self| SyntaxError {
            offset: p.pos,
            kind: SyntaxErrorKind::InvalidNumber,
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(invalid(self));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(invalid(self)),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(invalid(self));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(invalid(self));
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, SyntaxError> {
        let Some(chunk) = self.bytes.get(self.pos..self.pos + 4) else {
            return Err(self.error(SyntaxErrorKind::InvalidEscape));
        };
        let mut value: u16 = 0;
        for &b in chunk {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.error(SyntaxErrorKind::InvalidEscape)),
            };
            value = value * 16 + u16::from(digit);
        }
        self.pos += 4;
        Ok(value)
    }

    /// Reads a string starting at the opening quote; returns its contents.
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        self.expect_byte(b'"')?;
        let start = self.pos;
        // Fast path: no escapes, borrow the slice. One tight scan for the
        // three bytes that end it; records carry long plain strings.
        let plain = self.bytes[self.pos..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        match plain {
            None => {
                self.pos = self.bytes.len();
                return Err(self.error(SyntaxErrorKind::UnexpectedEnd));
            }
            Some(n) => self.pos += n,
        }
        match self.peek() {
            Some(b'"') => {
                let contents = &self.text[start..self.pos];
                self.pos += 1;
                return Ok(Cow::Borrowed(contents));
            }
            Some(b'\\') => {}
            _ => return Err(self.error(SyntaxErrorKind::ControlCharacterInString)),
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                None => return Err(self.error(SyntaxErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    let escape_at = self.pos;
                    self.pos += 1;
                    let Some(code) = self.peek() else {
                        return Err(self.error(SyntaxErrorKind::UnexpectedEnd));
                    };
                    self.pos += 1;
                    match code {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{08}'),
                        b'f' => out.push('\u{0c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape(escape_at)?),
                        _ => {
                            self.pos = escape_at;
                            return Err(self.error(SyntaxErrorKind::InvalidEscape));
                        }
                    }
                }
                Some(b) if b < 0x20 => {
                    return Err(self.error(SyntaxErrorKind::ControlCharacterInString))
                }
                Some(_) => {
                    // Copy one whole UTF-8 character; the text is valid UTF-8.
                    let rest = &self.text[self.pos..];
                    let ch = rest.chars().next().unwrap_or('\u{fffd}');
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }

    /// Decodes the `XXXX` (and a following `\uXXXX` low half) after `\u`.
    fn unicode_escape(&mut self, escape_at: usize) -> Result<char, SyntaxError> {
        let unpaired = SyntaxError {
            offset: escape_at,
            kind: SyntaxErrorKind::UnpairedSurrogate,
        };
        let first = self.hex4()?;
        match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return Err(unpaired);
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(unpaired);
                }
                let code =
                    0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
                char::from_u32(code).ok_or(unpaired)
            }
            0xDC00..=0xDFFF => Err(unpaired),
            code => char::from_u32(u32::from(code)).ok_or(unpaired),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_of_names_every_json_type() {
        for (raw, kind) in [
            ("{}", "object"),
            ("[1]", "array"),
            ("\"x\"", "string"),
            ("true", "boolean"),
            ("false", "boolean"),
            ("null", "null"),
            ("-1.5e3", "number"),
            ("0", "number"),
        ] {
            assert_eq!(kind_of(raw), kind, "{raw}");
        }
    }

    fn kind(text: &str) -> SyntaxErrorKind {
        parse_object(text).expect_err(text).kind
    }

    #[test]
    fn top_level_members_keep_their_raw_text() {
        let doc = r#" { "a" : [1, {"b":2}] , "c":"x\u0041" } "#;
        let TopLevel::Object(members) = parse_object(doc).expect("valid") else {
            panic!("not an object")
        };
        assert_eq!(
            members,
            vec![
                ("a".to_string(), r#"[1, {"b":2}]"#),
                ("c".to_string(), r#""x\u0041""#)
            ]
        );
    }

    #[test]
    fn duplicate_names_are_found_after_unescaping_at_any_depth() {
        assert!(matches!(
            kind(r#"{"a":[{"k":1,"\u006b":2}]}"#),
            SyntaxErrorKind::DuplicateMember(name) if name == "k"
        ));
    }

    #[test]
    fn non_json_tokens_are_rejected() {
        for text in [
            "NaN",
            "[Infinity]",
            "[-Infinity]",
            "{'a':1}",
            "[1,]",
            "[01]",
            "[1.]",
        ] {
            assert!(parse_object(text).is_err(), "{text} accepted");
        }
    }

    #[test]
    fn surrogates_must_pair() {
        assert_eq!(kind(r#"["\ud800"]"#), SyntaxErrorKind::UnpairedSurrogate);
        assert_eq!(kind(r#"["\udc00"]"#), SyntaxErrorKind::UnpairedSurrogate);
        assert_eq!(
            kind(r#"["\ud800\u0041"]"#),
            SyntaxErrorKind::UnpairedSurrogate
        );
        assert_eq!(
            string_contents(r#""\ud83d\ude00""#).as_deref(),
            Some("\u{1F600}")
        );
    }

    #[test]
    fn a_million_open_brackets_is_an_error_not_a_crash() {
        let text = "[".repeat(1_000_000);
        assert_eq!(kind(&text), SyntaxErrorKind::UnexpectedEnd);
    }

    #[test]
    fn written_strings_read_back_unchanged() {
        let original = "quote\" back\\ nl\n ctl\u{1} nul\u{0} é 😀";
        let mut out = String::new();
        write_string(&mut out, original);
        assert_eq!(string_contents(&out).as_deref(), Some(original));
    }
}
