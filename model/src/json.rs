//! The raw-bytes rules of SPEC §1.1 and §1.6 classes 1-8.
//!
//! Promises: [`split_object`] accepts exactly the byte strings that are at
//! most 1 MiB, UTF-8 without a BOM, and one RFC 8259 value (§1.1.2-§1.1.4)
//! with no raw control characters, no invalid escapes, no unpaired surrogate
//! escapes and no duplicate member names after unescaping at any depth
//! (§1.1.3, §1.1.5), and whose top-level value is an object; for those it
//! returns the top-level members as (unescaped name, raw value text) in
//! document order. It never recurses on nesting (§1.1.6). [`locate`]
//! says, for the byte strings it refuses, the same class and the byte
//! offset of the first place that makes them corrupt (for messages).
//!
//! When several classes hold, the one reported is the first of: TooLarge,
//! InvalidUtf8, ByteOrderMark, the first syntax error in the text
//! (NotOneValue, Token or BadString, whichever comes first), DuplicateName,
//! NotAnObject. So a duplicate name is reported only for syntactically
//! well-formed text, and NotAnObject only for a well-formed value.
//!
//! The three syntax classes split as SPEC §1.6.4-§1.6.6 do: the text ends
//! before its value does, goes on after it, or has whitespace outside
//! §1.1.2 where a token may stand: NotOneValue (4); a byte that starts no
//! RFC 8259 token there (`NaN`, a comment, a trailing comma, `01`): Token
//! (5); a raw control character, an invalid escape or an unpaired surrogate
//! inside a string: BadString (6).
//!
//! Hand-written on purpose: no JSON crate classifies a rejected text by the
//! rules of SPEC §1.6 (which class, first of several), keeps a member's raw
//! value text, and refuses duplicate names after unescaping at any depth
//! without recursing; serde_json, for one, keeps the last duplicate and
//! recurses. The model must also not share a parser with the store it
//! judges.
//!
//! Does not promise: anything about what the members mean; that is
//! [`crate::record`].

use std::collections::HashSet;

use crate::spec::MAX_FILE_BYTES;

/// Which of SPEC §1.6 classes 1-8 a byte string falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RawClass {
    /// §1.6.1
    TooLarge,
    /// §1.6.2
    InvalidUtf8,
    /// §1.6.3
    ByteOrderMark,
    /// §1.6.4: not exactly one value (empty, cut short, trailing bytes,
    /// whitespace outside §1.1.2).
    NotOneValue,
    /// §1.6.5: a token outside RFC 8259.
    Token,
    /// §1.6.6: a string with a raw control character, an invalid escape or
    /// an unpaired surrogate.
    BadString,
    /// §1.6.7
    DuplicateName,
    /// §1.6.8
    NotAnObject,
}

impl RawClass {
    /// The item number of this class in SPEC §1.6.
    pub fn item(self) -> u8 {
        match self {
            RawClass::TooLarge => 1,
            RawClass::InvalidUtf8 => 2,
            RawClass::ByteOrderMark => 3,
            RawClass::NotOneValue => 4,
            RawClass::Token => 5,
            RawClass::BadString => 6,
            RawClass::DuplicateName => 7,
            RawClass::NotAnObject => 8,
        }
    }
}

/// One member of an object: its unescaped name and the raw text of its
/// value, exactly as it appears in the input (no surrounding whitespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub raw: String,
}

/// Checks `bytes` against SPEC §1.1 and §1.6.1-§1.6.8 and splits the
/// top-level object into its members.
pub fn split_object(bytes: &[u8]) -> Result<Vec<Member>, RawClass> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(RawClass::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| RawClass::InvalidUtf8)?;
    if text.starts_with('\u{feff}') {
        return Err(RawClass::ByteOrderMark);
    }
    parse(text)
        .map_err(|stop| stop.class)?
        .ok_or(RawClass::NotAnObject)
}

/// Where `bytes` break SPEC §1.6 items 1-8: the class [`split_object`]
/// returns, and the byte offset of the first place that makes the text
/// corrupt; `None` when `split_object` accepts them. The place is: the
/// first byte past 1 MiB (1); the first byte of the first sequence that is
/// not UTF-8 (2); the BOM at 0 (3); the end of the text for a text that
/// ends before its value does, else the first byte after the value, or
/// the first whitespace outside §1.1.2, that is not where it may be (4);
/// the byte no token starts with (5); the raw control character, or the
/// backslash of the invalid or unpaired escape (6); the opening quote of
/// the second occurrence of a duplicate name, the first such in the text
/// (7); the first byte of the top-level value (8).
///
/// For messages: the same single pass as `split_object`, which it does
/// not slow down (the place is carried on the error path only).
pub fn locate(bytes: &[u8]) -> Option<(RawClass, usize)> {
    if bytes.len() > MAX_FILE_BYTES {
        return Some((RawClass::TooLarge, MAX_FILE_BYTES));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return Some((RawClass::InvalidUtf8, e.valid_up_to())),
    };
    if text.starts_with('\u{feff}') {
        return Some((RawClass::ByteOrderMark, 0));
    }
    match parse(text) {
        Ok(Some(_)) => None,
        Ok(None) => Some((RawClass::NotAnObject, skip_ws(bytes, 0))),
        Err(stop) => Some((stop.class, stop.at)),
    }
}

/// Splits the raw text of a JSON object that [`split_object`] already
/// accepted as part of a larger document (a nested known object).
/// `None` when `raw` is not an object.
pub fn members_of(raw: &str) -> Option<Vec<Member>> {
    parse(raw).ok().flatten()
}

/// True when `raw` is exactly one JSON value by SPEC §1.1 (syntax,
/// surrogates, duplicate names at any depth), with no whitespace around it:
/// the form in which [`split_object`] returns a member's raw text.
pub fn is_exact_value(raw: &str) -> bool {
    let trimmed = raw.trim_start_matches(is_ws).trim_end_matches(is_ws);
    trimmed.len() == raw.len() && parse(raw).is_ok()
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Where and why a text stops being one value of §1.1: the class and the
/// byte offset [`locate`] reports.
struct Stop {
    class: RawClass,
    at: usize,
}

impl Stop {
    fn at(class: RawClass, at: usize) -> Stop {
        Stop { class, at }
    }
}

/// An open container. Objects carry the names seen so far (§1.1.5).
enum Frame {
    Array,
    Object(HashSet<String>),
}

/// One pass over `text` as exactly one JSON value, with an explicit stack
/// instead of recursion (§1.1.6). `Ok(Some(members))` for a top-level
/// object, `Ok(None)` for any other value.
fn parse(text: &str) -> Result<Option<Vec<Member>>, Stop> {
    let b = text.as_bytes();
    let mut p = 0;
    let mut stack: Vec<Frame> = Vec::new();
    let mut top_is_object = false;
    let mut members = Vec::new();
    // The name of the top-level member whose value is being read, and where
    // that value starts.
    let mut member_name: Option<String> = None;
    let mut value_start = 0;
    // Syntax errors anywhere outrank duplicates, so a duplicate only marks
    // where its first second occurrence is.
    let mut duplicate: Option<usize> = None;

    'value: loop {
        p = skip_ws(b, p);
        if stack.len() == 1 && top_is_object {
            value_start = p;
        }
        match b.get(p) {
            Some(b'{') => {
                top_is_object |= stack.is_empty();
                p = skip_ws(b, p + 1);
                if b.get(p) == Some(&b'}') {
                    p += 1;
                } else {
                    let (name, next) = member_key(text, p)?;
                    p = next;
                    if stack.is_empty() {
                        member_name = Some(name.clone());
                    }
                    stack.push(Frame::Object(HashSet::from([name])));
                    continue 'value;
                }
            }
            Some(b'[') => {
                p = skip_ws(b, p + 1);
                if b.get(p) == Some(&b']') {
                    p += 1;
                } else {
                    stack.push(Frame::Array);
                    continue 'value;
                }
            }
            Some(b'"') => p = string(text, p)?.1,
            Some(b'-' | b'0'..=b'9') => p = number(text, p)?,
            _ => {
                p = ["true", "false", "null"]
                    .iter()
                    .find(|word| b[p..].starts_with(word.as_bytes()))
                    .map(|word| p + word.len())
                    .ok_or_else(|| unexpected(text, p))?;
            }
        }
        // A value ended at `p`: close containers until one wants more.
        loop {
            if stack.len() == 1 && top_is_object {
                if let Some(name) = member_name.take() {
                    let raw = text[value_start..p].to_string();
                    members.push(Member { name, raw });
                }
            }
            p = skip_ws(b, p);
            let depth = stack.len();
            match (stack.last_mut(), b.get(p)) {
                (None, None) => break 'value,
                (None, Some(_)) => return Err(Stop::at(RawClass::NotOneValue, p)),
                (Some(Frame::Array), Some(b',')) => {
                    p += 1;
                    continue 'value;
                }
                (Some(Frame::Object(names)), Some(b',')) => {
                    let key = skip_ws(b, p + 1);
                    let (name, next) = member_key(text, key)?;
                    p = next;
                    if !names.insert(name.clone()) && duplicate.is_none() {
                        duplicate = Some(key);
                    }
                    if depth == 1 {
                        member_name = Some(name);
                    }
                    continue 'value;
                }
                (Some(Frame::Array), Some(b']')) | (Some(Frame::Object(_)), Some(b'}')) => {
                    p += 1;
                    stack.pop();
                }
                _ => return Err(unexpected(text, p)),
            }
        }
    }
    if let Some(at) = duplicate {
        return Err(Stop::at(RawClass::DuplicateName, at));
    }
    Ok(top_is_object.then_some(members))
}

/// The class of a syntax error at `p` outside a string: the text ended, or
/// has whitespace outside §1.1.2 there (§1.6.4), or a character no token
/// starts with (§1.6.5). `p` is on a character boundary: outside strings
/// the reader only steps over ASCII.
fn unexpected(text: &str, p: usize) -> Stop {
    let class = match text.get(p..).and_then(|rest| rest.chars().next()) {
        None => RawClass::NotOneValue,
        Some(c) if c.is_whitespace() || matches!(c, '\0' | '\u{feff}') => RawClass::NotOneValue,
        Some(_) => RawClass::Token,
    };
    Stop::at(class, p)
}

fn skip_ws(b: &[u8], mut p: usize) -> usize {
    while matches!(b.get(p), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        p += 1;
    }
    p
}

/// A member name at `p`, then `:`: the unescaped name and the position
/// after the colon.
fn member_key(text: &str, p: usize) -> Result<(String, usize), Stop> {
    let b = text.as_bytes();
    if b.get(p) != Some(&b'"') {
        return Err(unexpected(text, p));
    }
    let (name, p) = string(text, p)?;
    let p = skip_ws(b, p);
    match b.get(p) {
        Some(b':') => Ok((name, p + 1)),
        _ => Err(unexpected(text, p)),
    }
}

/// The string whose opening quote is at `p`: its unescaped value and the
/// position after the closing quote (§1.1.3).
fn string(text: &str, p: usize) -> Result<(String, usize), Stop> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut p = p + 1;
    let mut run = p;
    loop {
        match b.get(p) {
            None => return Err(Stop::at(RawClass::NotOneValue, p)),
            Some(b'"') => {
                out.push_str(&text[run..p]);
                return Ok((out, p + 1));
            }
            Some(b'\\') => {
                out.push_str(&text[run..p]);
                let (c, next) = escape(b, p)?;
                out.push(c);
                p = next;
                run = p;
            }
            Some(&c) if c < 0x20 => return Err(Stop::at(RawClass::BadString, p)),
            // Non-ASCII bytes are copied as runs; `run` and `p` only stop on
            // ASCII bytes, so the slices fall on char boundaries.
            Some(_) => p += 1,
        }
    }
}

/// The escape whose backslash is at `p`: the character and the position
/// after it. An escape that breaks §1.1.3 stops at its backslash; one cut
/// short by the end of the text, at the end.
fn escape(b: &[u8], p: usize) -> Result<(char, usize), Stop> {
    escape_class(b, p).map_err(|class| match class {
        RawClass::NotOneValue => Stop::at(class, b.len()),
        _ => Stop::at(class, p),
    })
}

/// [`escape`], its error the class alone.
fn escape_class(b: &[u8], p: usize) -> Result<(char, usize), RawClass> {
    let simple = match b.get(p + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let unit = hex4(b, p + 2)?;
            return match unit {
                0xD800..=0xDBFF => {
                    // §1.1.3: a high surrogate must be followed immediately
                    // by a `\u` low surrogate.
                    if b.get(p + 6) != Some(&b'\\') || b.get(p + 7) != Some(&b'u') {
                        return Err(RawClass::BadString);
                    }
                    let low = hex4(b, p + 8)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(RawClass::BadString);
                    }
                    let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    let c = char::from_u32(code).ok_or(RawClass::BadString)?;
                    Ok((c, p + 12))
                }
                // A lone low surrogate (0xDC00..=0xDFFF) is no char.
                _ => Ok((char::from_u32(unit).ok_or(RawClass::BadString)?, p + 6)),
            };
        }
        None => return Err(RawClass::NotOneValue),
        _ => return Err(RawClass::BadString),
    };
    Ok((simple, p + 2))
}

/// Four hex digits (either case) at `p`.
fn hex4(b: &[u8], p: usize) -> Result<u32, RawClass> {
    let digits = b.get(p..p + 4).ok_or(RawClass::NotOneValue)?;
    digits.iter().try_fold(0, |n, &d| {
        let v = char::from(d).to_digit(16).ok_or(RawClass::BadString)?;
        Ok(n * 16 + v)
    })
}

/// The number at `p` by the RFC 8259 grammar (§1.1.4); the position after
/// it. What may follow is the caller's check.
fn number(text: &str, mut p: usize) -> Result<usize, Stop> {
    let b = text.as_bytes();
    let digits = |mut p: usize| {
        let start = p;
        while b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        if p == start {
            Err(unexpected(text, p))
        } else {
            Ok(p)
        }
    };
    if b.get(p) == Some(&b'-') {
        p += 1;
    }
    p = match b.get(p) {
        Some(b'0') => p + 1,
        Some(b'1'..=b'9') => digits(p)?,
        _ => return Err(unexpected(text, p)),
    };
    if b.get(p) == Some(&b'.') {
        p = digits(p + 1)?;
    }
    if matches!(b.get(p), Some(b'e' | b'E')) {
        p += 1;
        if matches!(b.get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        p = digits(p)?;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Result<Vec<Member>, RawClass> {
        split_object(text.as_bytes())
    }

    fn not_one_value(text: &str) -> bool {
        class(text) == Err(RawClass::NotOneValue)
    }

    fn token(text: &str) -> bool {
        class(text) == Err(RawClass::Token)
    }

    fn bad_string(text: &str) -> bool {
        class(text) == Err(RawClass::BadString)
    }

    fn member(name: &str, raw: &str) -> Member {
        Member {
            name: name.to_string(),
            raw: raw.to_string(),
        }
    }

    #[test]
    fn members_come_back_in_order_with_their_raw_text() {
        let got = class(" {\"b\" : [1, 2] ,\"a\":\t1.50e3\r\n, \"c\":{\"x\":null}}\n");
        let want = vec![
            member("b", "[1, 2]"),
            member("a", "1.50e3"),
            member("c", "{\"x\":null}"),
        ];
        assert_eq!(got, Ok(want));
    }

    #[test]
    fn member_names_are_unescaped() {
        let got = class(r#"{"\u0061\/\n\ud83d\ude00":true}"#);
        assert_eq!(got, Ok(vec![member("a/\n\u{1f600}", "true")]));
    }

    #[test]
    fn empty_object_has_no_members() {
        assert_eq!(class("{ }"), Ok(vec![]));
    }

    #[test]
    fn more_than_one_mib_is_too_large() {
        let mut text = b"{}".to_vec();
        text.resize(MAX_FILE_BYTES + 1, b' ');
        assert_eq!(split_object(&text), Err(RawClass::TooLarge));
    }

    #[test]
    fn exactly_one_mib_is_not_too_large() {
        let mut text = b"{}".to_vec();
        text.resize(MAX_FILE_BYTES, b' ');
        assert_eq!(split_object(&text), Ok(vec![]));
        assert_eq!(locate(&text), None);
    }

    #[test]
    fn invalid_utf8_is_its_own_class() {
        for bytes in [
            &b"{\"x\":\"\xff\"}"[..],
            b"{\"x\":\"\xed\xa0\x80\"}",
            b"{\"x\":\"\xc0\x80\"}",
            b"{\"x\":\"\xf4\x90\x80\x80\"}",
            b"{\"x\":\"\xe2\x82\"}",
        ] {
            assert_eq!(split_object(bytes), Err(RawClass::InvalidUtf8), "{bytes:?}");
        }
    }

    #[test]
    fn leading_byte_order_mark_is_its_own_class() {
        assert_eq!(
            split_object(b"\xef\xbb\xbf{}"),
            Err(RawClass::ByteOrderMark)
        );
    }

    #[test]
    fn byte_order_mark_after_whitespace_is_a_syntax_error() {
        assert!(not_one_value("  \u{feff}{}"));
    }

    #[test]
    fn empty_and_whitespace_only_texts_hold_no_value() {
        assert!(not_one_value(""));
        assert!(not_one_value(" \t\r\n"));
    }

    #[test]
    fn anything_after_the_value_is_a_syntax_error() {
        assert!(not_one_value("{} {}"));
        assert!(not_one_value("{}}"));
        assert!(not_one_value("{},"));
        assert!(not_one_value("{}\u{0}"));
    }

    #[test]
    fn whitespace_outside_rfc_8259_is_a_syntax_error() {
        for ws in ["\u{c}", "\u{b}", "\u{a0}", "\u{2028}", "\u{0}"] {
            assert!(not_one_value(&format!("{{{ws}}}")), "{ws:?}");
        }
    }

    #[test]
    fn comments_and_trailing_commas_are_syntax_errors() {
        assert!(token("{/* c */}"));
        assert!(not_one_value("{} // c"), "after the value: §1.6.4");
        assert!(token(r#"{"a":1,}"#));
        assert!(token(r#"{"a":[1,]}"#));
        assert!(token(r#"{"a":[,1]}"#));
        assert!(token(r#"{,"a":1}"#));
        assert!(token(r#"{"a":1,,"b":2}"#));
    }

    #[test]
    fn single_quotes_and_unquoted_names_are_syntax_errors() {
        assert!(token("{'a':1}"));
        assert!(token(r#"{"a":'x'}"#));
        assert!(token("{a:1}"));
        assert!(token("{1:1}"));
    }

    #[test]
    fn bare_words_other_than_true_false_null_are_syntax_errors() {
        for word in [
            "NaN",
            "Infinity",
            "-Infinity",
            "True",
            "None",
            "undefined",
            "tru",
            "nul",
        ] {
            assert!(token(&format!(r#"{{"x":{word}}}"#)), "{word}");
        }
    }

    #[test]
    fn rfc_8259_numbers_are_accepted() {
        for n in [
            "0",
            "-0",
            "1.5",
            "-3",
            "1e400",
            "1E+2",
            "1e-400",
            "0.0e0",
            "123456789012345678901234567890",
        ] {
            assert!(class(&format!(r#"{{"x":{n}}}"#)).is_ok(), "{n}");
        }
    }

    #[test]
    fn numbers_outside_the_grammar_are_syntax_errors() {
        for n in [
            "01", "-01", "+1", "1.", ".5", "0x1F", "-", "1e", "1e+", "1.e3", "--1", "1.5.2",
        ] {
            assert!(token(&format!(r#"{{"x":{n}}}"#)), "{n}");
        }
    }

    #[test]
    fn raw_control_characters_in_strings_are_syntax_errors() {
        for c in ['\u{0}', '\t', '\n', '\r', '\u{1f}'] {
            assert!(bad_string(&format!("{{\"x\":\"a{c}b\"}}")), "{c:?}");
            assert!(bad_string(&format!("{{\"a{c}\":1}}")), "{c:?}");
        }
    }

    #[test]
    fn raw_del_and_non_ascii_in_strings_are_accepted() {
        assert!(class("{\"x\":\"\u{7f}\u{80}\u{2028}\u{10ffff}\"}").is_ok());
    }

    #[test]
    fn only_the_rfc_8259_escapes_are_accepted() {
        assert!(class(r#"{"x":"\" \\ \/ \b \f \n \r \t \u00e9 \uFFFF"}"#).is_ok());
        for e in [r"\a", r"\'", r"\x41", r"\0", r"\U0041", r"\u004", r"\u00g1"] {
            assert!(bad_string(&format!(r#"{{"x":"{e}"}}"#)), "{e}");
        }
    }

    #[test]
    fn backslash_at_end_of_input_is_a_syntax_error() {
        assert!(not_one_value(r#"{"x":"\"#));
    }

    #[test]
    fn escaped_nul_is_accepted() {
        assert_eq!(class(r#"{"\u0000":1}"#), Ok(vec![member("\0", "1")]));
    }

    #[test]
    fn paired_surrogate_escapes_are_accepted() {
        assert!(class(r#"{"x":"\uD83D\uDE00"}"#).is_ok());
    }

    #[test]
    fn lone_high_surrogate_is_corrupt() {
        assert!(bad_string(r#"{"x":"\ud800"}"#));
        assert!(bad_string(r#"{"x":"\ud800abc"}"#));
    }

    #[test]
    fn high_surrogate_followed_by_a_non_low_escape_is_corrupt() {
        assert!(bad_string(r#"{"x":"\ud800\ud800"}"#));
        assert!(bad_string(r#"{"x":"\ud800\u0041"}"#));
        assert!(bad_string(r#"{"x":"\ud800\n"}"#));
    }

    #[test]
    fn lone_low_surrogate_is_corrupt() {
        assert!(bad_string(r#"{"x":"\udc00"}"#));
        assert!(bad_string(r#"{"x":"\udfff\ud800"}"#));
    }

    #[test]
    fn unclosed_or_mismatched_containers_are_syntax_errors() {
        assert!(token(r#"{"x":[1,2}"#));
        assert!(token(r#"{"x":{"a":1]}"#));
        assert!(token(r#"{"x":[1 2]}"#));
        assert!(token(r#"{"x" 1}"#));
        assert!(token(r#"{"x"=1}"#));
        assert!(not_one_value(r#"{"x":"abc}"#));
        assert!(token(r#"{"x":}"#));
        assert!(not_one_value(r#"{"x":[1,2"#));
    }

    #[test]
    fn duplicate_top_level_name_is_reported() {
        assert_eq!(
            class(r#"{"a":1,"b":2,"a":1}"#),
            Err(RawClass::DuplicateName)
        );
    }

    #[test]
    fn duplicate_names_are_compared_after_unescaping() {
        assert_eq!(class(r#"{"a":1,"\u0061":2}"#), Err(RawClass::DuplicateName));
        assert_eq!(class(r#"{"é":1,"\u00E9":2}"#), Err(RawClass::DuplicateName));
        assert_eq!(class(r#"{"/":1,"\/":2}"#), Err(RawClass::DuplicateName));
    }

    #[test]
    fn duplicate_names_inside_arrays_are_reported() {
        let text = r#"{"x":[1,{"k":{"a":1,"\u0061":2}}]}"#;
        assert_eq!(class(text), Err(RawClass::DuplicateName));
    }

    #[test]
    fn same_name_in_different_objects_is_not_a_duplicate() {
        assert!(class(r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#).is_ok());
    }

    #[test]
    fn names_differing_only_in_case_or_normalization_are_distinct() {
        assert!(class("{\"a\":1,\"A\":2,\"\u{e9}\":3,\"e\u{301}\":4}").is_ok());
    }

    #[test]
    fn syntax_errors_outrank_duplicates() {
        assert_eq!(class(r#"{"a":1,"a":2,}"#), Err(RawClass::Token));
    }

    #[test]
    fn every_class_has_its_item_number_of_spec_1_6() {
        let cases: [(&[u8], u8); 8] = [
            (&[b' '; MAX_FILE_BYTES + 1], 1),
            (b"{\"x\":\"\xff\"}", 2),
            (b"\xef\xbb\xbf{}", 3),
            (b"{} x", 4),
            (b"{\"x\":NaN}", 5),
            (b"{\"x\":\"\\q\"}", 6),
            (b"{\"x\":1,\"x\":2}", 7),
            (b"[]", 8),
        ];
        for (bytes, item) in cases {
            let got = split_object(bytes).map(|_| ()).map_err(RawClass::item);
            assert_eq!(
                got,
                Err(item),
                "{:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(20)])
            );
        }
    }

    #[test]
    fn top_level_values_other_than_objects_are_not_objects() {
        for text in ["[]", "[{}]", "1", "\"x\"", "true", "null"] {
            assert_eq!(class(text), Err(RawClass::NotAnObject), "{text}");
        }
    }

    #[test]
    fn a_million_unclosed_brackets_are_not_one_value_without_crashing() {
        let text = "[".repeat(1_000_000);
        assert_eq!(split_object(text.as_bytes()), Err(RawClass::NotOneValue));
    }

    #[test]
    fn a_million_closed_brackets_at_top_level_are_not_an_object() {
        let mut text = "[".repeat(524_000);
        text.push_str(&"]".repeat(524_000));
        assert_eq!(split_object(text.as_bytes()), Err(RawClass::NotAnObject));
    }

    #[test]
    fn deeply_nested_member_value_is_kept_whole() {
        let deep = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
        let got = class(&format!(r#"{{"x":{deep}}}"#)).expect("valid");
        assert_eq!(got, vec![member("x", &deep)]);
    }

    #[test]
    fn deeply_nested_objects_are_checked_without_recursion() {
        let depth = 100_000;
        let deep = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        assert!(class(&format!(r#"{{"x":{deep}}}"#)).is_ok());
        let dup = format!("{}1,\"a\":2{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        assert_eq!(
            class(&format!(r#"{{"x":{dup}}}"#)),
            Err(RawClass::DuplicateName)
        );
    }

    fn located(bytes: &[u8]) -> Option<(RawClass, usize)> {
        let found = locate(bytes);
        assert_eq!(
            found.map(|(class, _)| class),
            split_object(bytes).err(),
            "locate and split_object disagree on the class"
        );
        found
    }

    #[test]
    fn locate_finds_nothing_in_a_file_split_object_accepts() {
        assert_eq!(located(br#" {"a":[1,{"b":"\u00e9"}],"c":-0} "#), None);
    }

    #[test]
    fn locate_puts_a_file_over_one_mib_at_its_first_byte_past_the_limit() {
        let mut text = b"{}".to_vec();
        text.resize(MAX_FILE_BYTES + 1, b' ');
        assert_eq!(located(&text), Some((RawClass::TooLarge, MAX_FILE_BYTES)));
    }

    #[test]
    fn locate_puts_invalid_utf8_at_its_first_bad_byte() {
        assert_eq!(
            located(b"{\"x\":\"ok \xff\"}"),
            Some((RawClass::InvalidUtf8, 9))
        );
        assert_eq!(
            located(b"{\"\xc3\xa9\":\"\xe2\x82\"}"),
            Some((RawClass::InvalidUtf8, 7))
        );
        assert_eq!(
            located(b"{\"x\":\"\xed\xa0\x80\"}"),
            Some((RawClass::InvalidUtf8, 6))
        );
    }

    #[test]
    fn locate_puts_a_byte_order_mark_at_zero() {
        assert_eq!(
            located(b"\xef\xbb\xbf{}"),
            Some((RawClass::ByteOrderMark, 0))
        );
    }

    #[test]
    fn locate_puts_an_unexpected_token_at_its_first_byte() {
        assert_eq!(located(br#"{"x":NaN}"#), Some((RawClass::Token, 5)));
        assert_eq!(located(br#"{"a":1,}"#), Some((RawClass::Token, 7)));
        assert_eq!(located(br#"{"x":01}"#), Some((RawClass::Token, 6)));
        assert_eq!(located(br#"{"x":[1 2]}"#), Some((RawClass::Token, 8)));
        assert_eq!(located(b"{'a':1}"), Some((RawClass::Token, 1)));
    }

    #[test]
    fn locate_puts_a_bad_string_at_its_backslash_or_control_character() {
        assert_eq!(located(br#"{"x":"ab\q"}"#), Some((RawClass::BadString, 8)));
        assert_eq!(
            located(br#"{"x":"a\ud800b"}"#),
            Some((RawClass::BadString, 7))
        );
        assert_eq!(
            located(br#"{"x":"\ud83d\ude00 \udc00"}"#),
            Some((RawClass::BadString, 19))
        );
        assert_eq!(
            located(br#"{"x":"\u00g1"}"#),
            Some((RawClass::BadString, 6))
        );
        assert_eq!(located(b"{\"x\":\"a\tb\"}"), Some((RawClass::BadString, 7)));
    }

    #[test]
    fn locate_puts_a_duplicate_name_at_its_second_occurrence() {
        assert_eq!(
            located(br#"{"a":1,"b":2,"a":3}"#),
            Some((RawClass::DuplicateName, 13))
        );
        // Nested, after unescaping, and the first of two duplicates.
        let text = br#"{"x":{"k":1, "\u006b":2},"y":1,"y":2}"#;
        assert_eq!(located(text), Some((RawClass::DuplicateName, 13)));
        // A syntax error after it outranks it.
        assert_eq!(located(br#"{"a":1,"a":2,}"#), Some((RawClass::Token, 13)));
    }

    #[test]
    fn locate_puts_a_top_level_value_that_is_not_an_object_at_its_first_byte() {
        assert_eq!(located(b"  [1]"), Some((RawClass::NotAnObject, 2)));
        assert_eq!(located(b"null"), Some((RawClass::NotAnObject, 0)));
    }

    #[test]
    fn locate_puts_a_file_cut_short_at_its_end() {
        for text in [
            &br#"{"x":[1,2"#[..],
            br#"{"x":"abc"#,
            br#"{"x":"\u00"#,
            br#"{"x":"\"#,
            br#"{"x":"\ud800\ud"#,
            b"",
            b" \n",
        ] {
            assert_eq!(
                located(text),
                Some((RawClass::NotOneValue, text.len())),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn locate_puts_what_follows_the_value_at_its_first_byte() {
        assert_eq!(located(b"{} x"), Some((RawClass::NotOneValue, 3)));
        assert_eq!(located(b"{}}"), Some((RawClass::NotOneValue, 2)));
        assert_eq!(
            located("{\u{a0}}".as_bytes()),
            Some((RawClass::NotOneValue, 1))
        );
    }

    #[test]
    fn members_of_splits_a_nested_object() {
        let got = members_of(r#"{"a":[1],"b":"x"}"#);
        assert_eq!(got, Some(vec![member("a", "[1]"), member("b", "\"x\"")]));
    }

    #[test]
    fn members_of_is_none_for_a_non_object() {
        assert_eq!(members_of("[1]"), None);
        assert_eq!(members_of("null"), None);
    }

    #[test]
    fn exact_value_has_no_surrounding_whitespace() {
        assert!(is_exact_value("[1, 2]"));
        assert!(!is_exact_value(" 1"));
        assert!(!is_exact_value("1\n"));
    }

    #[test]
    fn exact_value_is_checked_by_all_rules() {
        assert!(!is_exact_value(""));
        assert!(!is_exact_value("NaN"));
        assert!(!is_exact_value("1 2"));
        assert!(!is_exact_value(r#"{"a":1,"a":2}"#));
        assert!(!is_exact_value(r#""\udc00""#));
    }
}
