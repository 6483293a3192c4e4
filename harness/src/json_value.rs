//! JSON values as requirements §7 compares unknown members.
//!
//! Promises: [`equal`] says whether two JSON texts are the same value:
//! member order and whitespace aside, strings by their decoded value,
//! numbers as binary64 values, where a number past the binary64 range is
//! the nearest finite one (so `1e400`, kept as the largest finite double,
//! still equals itself; requirements §7 allows either). Texts nested
//! deeper than [`MAX_DEPTH`], or that do not parse, compare as text with
//! their whitespace and string escapes normalized.
//!
//! Hand-written on purpose: a JSON crate's value type either rounds a
//! number on reading (and `1e400` is an error to serde_json) or keeps its
//! text (and `1.0` differs from `1`); requirements §7 wants numbers as
//! binary64 values with the out-of-range ones clamped.
//!
//! Does not promise: a JSON parser for anything else; it reads values the
//! model has already called valid.

use crate::canonical;

/// Deeper values compare as normalized text.
pub const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

struct Parser<'a> {
    b: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.at < self.b.len() && matches!(self.b[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8], node: Node) -> Option<Node> {
        if self.b.get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Some(node)
        } else {
            None
        }
    }

    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.at += 1;
        while self.at < self.b.len() && self.b[self.at] != b'"' {
            self.at += if self.b[self.at] == b'\\' { 2 } else { 1 };
        }
        self.at += 1;
        let token = std::str::from_utf8(self.b.get(start..self.at)?).ok()?;
        serde_json::from_str::<String>(token).ok()
    }

    fn number(&mut self) -> Option<Node> {
        let start = self.at;
        while self.at < self.b.len()
            && matches!(
                self.b[self.at],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.b[start..self.at]).ok()?;
        let x: f64 = text.parse().ok()?;
        Some(Node::Number(x.clamp(f64::MIN, f64::MAX)))
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.space();
        let node = match *self.b.get(self.at)? {
            b'n' => self.literal(b"null", Node::Null)?,
            b't' => self.literal(b"true", Node::Bool(true))?,
            b'f' => self.literal(b"false", Node::Bool(false))?,
            b'"' => Node::String(self.string()?),
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.b.get(self.at) == Some(&b']') {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.space();
                        match self.b.get(self.at)? {
                            b',' => self.at += 1,
                            b']' => {
                                self.at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Node::Array(items)
            }
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                self.space();
                if self.b.get(self.at) == Some(&b'}') {
                    self.at += 1;
                } else {
                    loop {
                        self.space();
                        if self.b.get(self.at) != Some(&b'"') {
                            return None;
                        }
                        let name = self.string()?;
                        self.space();
                        if self.b.get(self.at) != Some(&b':') {
                            return None;
                        }
                        self.at += 1;
                        members.push((name, self.value(depth + 1)?));
                        self.space();
                        match self.b.get(self.at)? {
                            b',' => self.at += 1,
                            b'}' => {
                                self.at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                members.sort_by(|a, b| a.0.cmp(&b.0));
                Node::Object(members)
            }
            _ => self.number()?,
        };
        Some(node)
    }
}

fn parse(text: &str) -> Option<Node> {
    let mut parser = Parser {
        b: text.as_bytes(),
        at: 0,
    };
    let node = parser.value(0)?;
    parser.space();
    (parser.at == parser.b.len()).then_some(node)
}

/// Whether two JSON texts are the same value by requirements §7.
pub fn equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => {
            canonical::compact(&canonical::strings(a.as_bytes()))
                == canonical::compact(&canonical::strings(b.as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_whitespace_escapes_and_number_spelling_do_not_matter() {
        assert!(equal(
            r#"{"x": [1.0, "\u00e9"], "y": null}"#,
            r#"{"y":null,"x":[1,"é"]}"#
        ));
        assert!(equal("1.50", "1.5"));
        assert!(equal("[true, false, null, 1.0]", "[true,false,null,1]"));
        assert!(equal(
            "123456789012345678901234567890",
            "1.2345678901234568e29"
        ));
        assert!(equal("1e400", "1.7976931348623157e308"));
        // Empty containers among members.
        assert!(equal(
            r#"{"a":{},"b":[],"c":1.0}"#,
            r#"{"c":1,"b":[ ],"a":{ }}"#
        ));
    }

    #[test]
    fn different_values_differ() {
        assert!(!equal(r#"{"x":[1,2]}"#, r#"{"x":[2,1]}"#));
        assert!(!equal("1", "\"1\""));
        assert!(!equal("1e400", "-1e400"));
        assert!(!equal(r#"{"a":1}"#, r#"{"a":1,"b":2}"#));
    }

    #[test]
    fn values_too_deep_to_parse_compare_as_text() {
        let deep = format!("{}{}", "[ ".repeat(300), "]".repeat(300));
        let tight = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(equal(&deep, &tight));
        assert!(!equal(
            &tight,
            &format!("{}1{}", "[".repeat(300), "]".repeat(300))
        ));
        // `1.0` and `1` are the same value, and different text: the same
        // up to the depth parsed, different past it.
        let nested = |levels: usize, number: &str| {
            format!("{}{number}{}", "[".repeat(levels), "]".repeat(levels))
        };
        assert!(equal(&nested(MAX_DEPTH, "1.0"), &nested(MAX_DEPTH, "1")));
        assert!(!equal(
            &nested(MAX_DEPTH + 1, "1.0"),
            &nested(MAX_DEPTH + 1, "1")
        ));
        let in_objects = |levels: usize, number: &str| {
            format!(
                "{}{number}{}",
                r#"{"a":"#.repeat(levels),
                "}".repeat(levels)
            )
        };
        assert!(equal(
            &in_objects(MAX_DEPTH, "1.0"),
            &in_objects(MAX_DEPTH, "1")
        ));
        assert!(!equal(
            &in_objects(MAX_DEPTH + 1, "1.0"),
            &in_objects(MAX_DEPTH + 1, "1")
        ));
    }
}
