//! One spelling for every string literal in a JSON text.
//!
//! SPEC §3.2 fixes the serialized form except the escape spelling of
//! re-encoded strings ("their value is preserved, not their escape
//! spelling"): the store writes a backspace as `\b`, the model as `\u0008`.
//! [`strings`] rewrites every string literal of a text the same way, so two
//! serialized forms can be compared byte for byte on everything the SPEC
//! does fix: member order, compactness, integers, raw unknown values, the
//! final newline.
//!
//! Promises: for valid UTF-8 JSON text, the result differs from the input
//! only inside string literals, each rewritten with `"`, `\` and control
//! characters escaped (`\"`, `\\`, `\u00XX`) and nothing else. Text that is
//! not UTF-8 comes back unchanged.
//!
//! [`compact`] drops the whitespace between tokens and leaves strings as
//! they are.
//!
//! Does not promise: anything for text that is not JSON (an unpaired
//! surrogate escape becomes U+FFFD).

/// `text` with every string literal spelled canonically.
pub fn strings(text: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(text) else {
        return text.to_vec();
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        let value = read_string(&mut chars);
        write_string(&mut out, &value);
    }
    out.into_bytes()
}

/// `text` without whitespace between tokens (strings untouched): one line
/// for a protocol request, one spelling for a comparison.
pub fn compact(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

/// Reads a string literal's value up to and including its closing quote.
fn read_string(chars: &mut std::str::Chars<'_>) -> String {
    let mut value = String::new();
    let mut pending_high: Option<u16> = None;
    while let Some(c) = chars.next() {
        let unit = match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    u16::from_str_radix(&hex, 16).ok()
                }
                Some(escaped) => {
                    flush(&mut value, &mut pending_high);
                    value.push(match escaped {
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        other => other,
                    });
                    None
                }
                None => None,
            },
            c => {
                flush(&mut value, &mut pending_high);
                value.push(c);
                None
            }
        };
        if let Some(unit) = unit {
            match (pending_high.take(), unit) {
                (Some(high), 0xDC00..=0xDFFF) => {
                    let code =
                        0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                    value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                (high, 0xD800..=0xDBFF) => {
                    if high.is_some() {
                        value.push('\u{fffd}');
                    }
                    pending_high = Some(unit);
                }
                (high, unit) => {
                    if high.is_some() {
                        value.push('\u{fffd}');
                    }
                    value.push(char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}'));
                }
            }
        }
    }
    flush(&mut value, &mut pending_high);
    value
}

fn flush(value: &mut String, pending_high: &mut Option<u16>) {
    if pending_high.take().is_some() {
        value.push('\u{fffd}');
    }
}

fn write_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{compact, strings};

    #[test]
    fn escapes_of_one_value_meet() {
        let a = strings(br#"{"a\u0062":"\b\f\n\u00e9\ud83d\ude00","x":[1, "\/"]}"#);
        let b = strings("{\"ab\":\"\\u0008\\u000c\\u000aé😀\",\"x\":[1, \"/\"]}".as_bytes());
        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    }

    #[test]
    fn a_string_is_spelled_with_three_escapes_only() {
        assert_eq!(
            String::from_utf8_lossy(&strings(br#"["\/\u00e9\t", "a\"\\b"]"#)),
            "[\"/\u{e9}\\u0009\", \"a\\\"\\\\b\"]"
        );
    }

    #[test]
    fn an_unpaired_surrogate_escape_becomes_a_replacement_character() {
        for (text, value) in [
            (&br#""a\ud83d""#[..], "\"a\u{fffd}\""),
            (br#""\ud83db""#, "\"\u{fffd}b\""),
            (br#""\ude00a""#, "\"\u{fffd}a\""),
        ] {
            assert_eq!(String::from_utf8_lossy(&strings(text)), value);
        }
    }

    #[test]
    fn only_characters_below_a_space_are_escaped_by_code() {
        assert_eq!(
            String::from_utf8_lossy(&strings(b"\"\\u001f \\u007f~\"")),
            "\"\\u001f \u{7f}~\""
        );
    }

    #[test]
    fn compact_keeps_the_blanks_of_a_string_past_an_escaped_quote() {
        assert_eq!(
            String::from_utf8_lossy(&compact(b"{ \"a \\\" b\" : [ 1 , \" \\\\\" ] }\n")),
            "{\"a \\\" b\":[1,\" \\\\\"]}"
        );
    }

    #[test]
    fn text_outside_strings_is_kept() {
        assert_eq!(strings(b"[1, 2e5 ,true]"), b"[1, 2e5 ,true]");
    }
}
