//! How records, operations, files and bytes appear in a message.
//!
//! Promises: a message built from these reads without the harness's source
//! at hand: a record is its JSON text (the serialized form of SPEC §3.2), an
//! operation is named in the SPEC's words with its arguments, a file's bytes
//! are escaped and capped. Never a Rust `Debug` dump of internal types:
//! the subject's answers that appear in messages ([`NotARecord`], [`Entry`])
//! read through the `Display` this module gives them.
//!
//! Escapes are JSON's, whatever language the reader maintains: bytes and
//! text shown as a string ([`excerpt`], [`excerpt_within`], [`around`])
//! are the JSON string that holds them, in double quotes: `\"`, `\\`,
//! `\n`, `\r`, `\t`, `\b`, `\f`; `\uXXXX` (four lowercase hex digits)
//! for every other control character and every character that does not
//! print (Unicode's general categories Other and Separator but the space:
//! U+2028, U+2029, U+FEFF, private use, unassigned code points), as a
//! surrogate pair (`\ud83d\ude00`) past U+FFFF; every printable character
//! as itself. JSON has no escape for a raw byte: a byte that is not part of
//! valid UTF-8 is written `\xNN` (two lowercase hex digits), which no JSON
//! string holds, so it cannot be mistaken for a character. A record, and a
//! member's value, is shown as its JSON text with the same `\uXXXX` for
//! the characters that do not print (inside its strings: the text denotes
//! the same value). [`escape`] is the one function that writes them all.
//!
//! What is cut is said outside the quotes: `"{\"a\":1,"… (1048577 bytes
//! in all)`. A place in a file is shown by [`around`] as the bytes before
//! and after it, each a string of their own with `»here«` between them
//! (outside both strings, so no byte of the file can look like it):
//! `at byte 7: "{\"a\":1," »here« "\"a\":2}"`.

use std::fmt;

use lifecycle_model::writer::{Found, WriterOp};
use lifecycle_model::Record;
use unicode_general_category::{get_general_category, GeneralCategory};

use crate::subject::{Entry, Listing, NotARecord};

/// The most bytes a message shows of a file or a record.
pub const SHOWN: usize = 400;

/// How much of a file [`around`] shows on each side of a place.
const AROUND: usize = 48;

/// Where [`escape`] writes: inside a JSON string (every character a
/// string cannot hold as itself is escaped, quotes and backslashes too),
/// or a JSON text (a record, a member's value: only the characters that
/// do not print, which only its strings can hold, are escaped).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Within {
    String,
    JsonText,
}

/// Whether `c` prints: not in Unicode's general categories Other (control,
/// format, surrogate, private use, unassigned) or Separator (line,
/// paragraph, space), the space itself aside.
fn prints(c: char) -> bool {
    use GeneralCategory::*;
    c == ' '
        || !matches!(
            get_general_category(c),
            Control
                | Format
                | Surrogate
                | PrivateUse
                | Unassigned
                | LineSeparator
                | ParagraphSeparator
                | SpaceSeparator
        )
}

/// Appends `bytes` to `out` with JSON's escapes, as the module says: in a
/// JSON string or a JSON text (`within`); a byte that is not valid UTF-8
/// as `\xNN`.
pub fn escape(out: &mut String, bytes: &[u8], within: Within) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let quoted = within == Within::String;
            match c {
                '"' if quoted => out.push_str("\\\""),
                '\\' if quoted => out.push_str("\\\\"),
                '\n' if quoted => out.push_str("\\n"),
                '\r' if quoted => out.push_str("\\r"),
                '\t' if quoted => out.push_str("\\t"),
                '\u{8}' if quoted => out.push_str("\\b"),
                '\u{c}' if quoted => out.push_str("\\f"),
                '\n' | '\r' | '\t' => out.push(c),
                c if prints(c) => out.push(c),
                c => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
}

/// `bytes` as a JSON string in double quotes, cut after [`SHOWN`] bytes.
pub fn excerpt(bytes: &[u8]) -> String {
    excerpt_within(bytes, SHOWN)
}

/// `bytes` as a JSON string in double quotes, cut after `cap` bytes (at
/// the start of a character), saying how long it was.
pub fn excerpt_within(bytes: &[u8], cap: usize) -> String {
    let end = boundary_before(bytes, cap.min(bytes.len()));
    let mut text = String::from("\"");
    escape(&mut text, &bytes[..end], Within::String);
    text.push('"');
    if end < bytes.len() {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    text
}

/// The bytes of `bytes` around byte `offset`: those before it and those
/// from it on, each a JSON string of at most 48 bytes (`AROUND`), `»here«`
/// between them; `…` where more of the file is left out.
pub fn around(bytes: &[u8], offset: usize) -> String {
    let offset = offset.min(bytes.len());
    let start = boundary_after(bytes, offset.saturating_sub(AROUND));
    let end = boundary_before(bytes, (offset + AROUND).min(bytes.len()));
    let string = |part: &[u8]| {
        let mut text = String::from("\"");
        escape(&mut text, part, Within::String);
        text.push('"');
        text
    };
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    if start < offset {
        shown.push_str(&string(&bytes[start..offset]));
        shown.push(' ');
    }
    shown.push_str("»here«");
    if offset < end {
        shown.push(' ');
        shown.push_str(&string(&bytes[offset..end]));
    }
    if end < bytes.len() {
        shown.push('…');
    }
    shown
}

/// Whether `byte` continues a UTF-8 sequence.
fn continues(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

/// `at`, moved back over at most three continuation bytes: a cut there
/// does not split a character (in valid UTF-8).
fn boundary_before(bytes: &[u8], mut at: usize) -> usize {
    let floor = at.saturating_sub(3);
    while at > floor && at < bytes.len() && continues(bytes[at]) {
        at -= 1;
    }
    at
}

/// `at`, moved on over at most three continuation bytes.
fn boundary_after(bytes: &[u8], mut at: usize) -> usize {
    let ceiling = (at + 3).min(bytes.len());
    while at < ceiling && continues(bytes[at]) {
        at += 1;
    }
    at
}

/// A JSON text shown as itself, the characters that do not print escaped
/// (the module says how), cut after [`SHOWN`] bytes, saying how long it
/// was.
pub fn json_text(text: &str) -> String {
    let end = boundary_before(text.as_bytes(), SHOWN.min(text.len()));
    let mut shown = String::new();
    escape(&mut shown, &text.as_bytes()[..end], Within::JsonText);
    if end < text.len() {
        shown.push_str(&format!("… ({} bytes in all)", text.len()));
    }
    shown
}

/// A record as its JSON text (SPEC §3.2), shown by [`json_text`].
pub fn record(record: &Record) -> String {
    json_text(&record_text(record))
}

/// A record's whole JSON text: its serialized form (SPEC §3.2) without the
/// final newline.
pub fn record_text(record: &Record) -> String {
    let mut text = record.encode();
    if text.last() == Some(&b'\n') {
        text.pop();
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// What the record path holds, in words.
pub fn found(found: &Found) -> String {
    match found {
        Found::Valid(r) => format!("the valid record {}", record(r)),
        Found::Missing => "no file".to_string(),
        Found::Corrupt(bytes) => format!("the corrupt file {}", excerpt(bytes)),
        Found::Unreadable => "something unreadable (a directory, a FIFO, a device)".to_string(),
    }
}

/// A directory's entries in words: `{lifecycle_state.json: file 600
/// "{…}", .lifecycle.lock: file 600 ""}`.
pub fn listing(entries: &Listing) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(name, entry)| format!("{name}: {entry}"))
        .collect();
    format!("{{{}}}", items.join(", "))
}

impl fmt::Display for NotARecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", excerpt(self.json.as_bytes()), self.why)
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::File { mode, data } => write!(f, "file {mode:o} {}", excerpt(data)),
            Entry::Dir { mode } => write!(f, "directory {mode:o}"),
            Entry::Other { what } => write!(f, "{what}"),
        }
    }
}

impl fmt::Debug for Entry {
    // Files may be megabytes; a failed assertion needs their mode and head.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A writer operation in the words of SPEC §4 and §5 (and §7 `save`).
pub fn op(op: &WriterOp) -> String {
    match op {
        WriterOp::Dispatch {
            event,
            guards,
            shadow_run,
        } => {
            let mut flags = Vec::new();
            if guards.sleep_eligible {
                flags.push("sleep_eligible");
            }
            if guards.still_idle {
                flags.push("still_idle");
            }
            if *shadow_run {
                flags.push("shadow_run");
            }
            if flags.is_empty() {
                format!("dispatch {}", event.name())
            } else {
                format!("dispatch {} ({})", event.name(), flags.join(", "))
            }
        }
        WriterOp::Begin(n) => format!("begin({n})"),
        WriterOp::StepDone(k) => format!("step_done({k})"),
        WriterOp::StepFailed {
            step,
            error,
            ttl_secs,
        } => format!(
            "step_failed({step}, {}) with a quarantine of {ttl_secs} s",
            excerpt_within(error.as_bytes(), usize::MAX)
        ),
        WriterOp::CycleDone => "cycle_done()".to_string(),
        WriterOp::ResetQuarantine => "reset_quarantine()".to_string(),
        WriterOp::Save(r) => format!("a locked save of {}", record(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_model::{Event, Guards, Timestamp};

    #[test]
    fn what_the_record_path_holds_is_said_in_words() {
        let valid = Record::default_at(&Timestamp::parse("2024-01-01T00:00:00Z").expect("a time"));
        assert_eq!(
            found(&Found::Valid(valid.clone())),
            format!("the valid record {}", record(&valid))
        );
        assert_eq!(found(&Found::Missing), "no file");
        assert_eq!(
            found(&Found::Corrupt(b"{\"a\"".to_vec())),
            r#"the corrupt file "{\"a\"""#
        );
        assert!(found(&Found::Unreadable).starts_with("something unreadable"));
    }

    #[test]
    fn long_files_are_cut_and_escaped_saying_how_long_they_were() {
        let mut bytes = b"\"\n\xff".to_vec();
        bytes.resize(1000, b'x');
        let shown = excerpt(&bytes);
        assert!(shown.starts_with(r#""\"\n\xffxxx"#), "{shown}");
        assert!(shown.ends_with("x\"… (1000 bytes in all)"), "{shown}");
    }

    #[test]
    fn escapes_are_json_string_escapes() {
        let text = "\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}\u{85}";
        assert_eq!(
            excerpt(text.as_bytes()),
            r#""\"\\\n\r\t\b\f\u0000\u001f\u007f\u0085""#
        );
    }

    #[test]
    fn a_json_text_keeps_its_line_breaks_and_tabs_and_escapes_other_controls() {
        let text = "{\"a\\\"\":1}\n\r\t\u{8}\u{c}";
        let mut out = String::new();
        escape(&mut out, text.as_bytes(), Within::JsonText);
        assert_eq!(out, "{\"a\\\"\":1}\n\r\t\\u0008\\u000c");
        let mut out = String::new();
        escape(&mut out, text.as_bytes(), Within::String);
        assert_eq!(out, r#"{\"a\\\"\":1}\n\r\t\b\f"#);
    }

    #[test]
    fn characters_that_do_not_print_are_escaped_and_printable_ones_are_not() {
        let text = "é日本😀\u{2028}\u{2029}\u{feff}\u{a0}\u{200b}\u{e000}\u{bb09a}\u{10ffff} ";
        assert_eq!(
            excerpt(text.as_bytes()),
            r#""é日本😀\u2028\u2029\ufeff\u00a0\u200b\ue000\udaac\udc9a\udbff\udfff ""#
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_written_as_hex_escapes() {
        assert_eq!(excerpt(b"a\xed\xa0\x80b\xc3"), r#""a\xed\xa0\x80b\xc3""#);
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let mut bytes = vec![b'x'; SHOWN - 1];
        bytes.extend("é and more".as_bytes());
        let shown = excerpt(&bytes);
        assert!(shown.ends_with("x\"… (410 bytes in all)"), "{shown}");
        assert!(!shown.contains("\\x"), "{shown}");
    }

    #[test]
    fn a_long_json_text_is_cut_and_says_how_long_it_was() {
        let text = format!("[{}]", "1,".repeat(SHOWN));
        let shown = json_text(&text);
        assert!(shown.starts_with("[1,1,"), "{shown}");
        assert!(
            shown.ends_with(&format!("… ({} bytes in all)", 2 * SHOWN + 2)),
            "{shown}"
        );
        assert_eq!(json_text("[1]"), "[1]");
    }

    #[test]
    fn a_place_in_a_file_is_marked_between_the_bytes_before_and_after_it() {
        let file = br#"{"a":1,"a":2}"#;
        assert_eq!(around(file, 7), r#""{\"a\":1," »here« "\"a\":2}""#);
        assert_eq!(around(file, 0), r#"»here« "{\"a\":1,\"a\":2}""#);
        assert_eq!(around(file, 13), r#""{\"a\":1,\"a\":2}" »here«"#);
        let mut long = vec![b' '; 100];
        long.extend(b"NaN");
        long.extend(vec![b' '; 100]);
        let shown = around(&long, 100);
        assert!(shown.starts_with("…\" "), "{shown}");
        assert!(shown.contains(" »here« \"NaN "), "{shown}");
        assert!(shown.ends_with(" \"…"), "{shown}");
    }

    #[test]
    fn a_cut_moves_back_over_at_most_three_continuation_bytes() {
        // Not UTF-8: eight continuation bytes from byte SHOWN - 4 on. A
        // character has at most three, so the cut stops three bytes back.
        let mut bytes = vec![b'x'; SHOWN - 4];
        bytes.extend([0x80; 8]);
        let shown = excerpt(&bytes);
        assert!(shown.ends_with("x\\x80\"… (404 bytes in all)"), "{shown}");
    }

    #[test]
    fn an_entry_debugs_as_its_mode_and_head() {
        let entry = Entry::File {
            mode: 0o600,
            data: std::sync::Arc::new(b"{}".to_vec()),
        };
        assert_eq!(format!("{entry:?}"), format!("{entry}"));
    }

    #[test]
    fn a_place_is_shown_from_at_most_three_continuation_bytes_on() {
        // Not UTF-8: eight continuation bytes from byte 10, where the 48
        // bytes before `NaN` (at 58) start.
        let mut file = vec![b'x'; 10];
        file.extend([0x80; 8]);
        file.extend(vec![b'y'; 40]);
        file.extend(b"NaN");
        let shown = around(&file, 58);
        assert!(shown.starts_with(r#"…"\x80\x80\x80\x80\x80y"#), "{shown}");
    }

    #[test]
    fn a_place_in_a_file_is_shown_from_the_start_of_a_character() {
        // `x`, forty `é` (bytes 1 to 80), `y`, then `NaN` at byte 82: the
        // 48 bytes before it start at byte 34, inside an `é`.
        let mut file = b"x".to_vec();
        file.extend("é".repeat(40).as_bytes());
        file.extend(b"yNaN");
        let shown = around(&file, 82);
        assert_eq!(shown, format!("…\"{}y\" »here« \"NaN\"", "é".repeat(23)));
    }

    #[test]
    fn a_listing_says_each_entry_as_a_file_or_directory_with_its_mode() {
        let mut entries = Listing::new();
        entries.insert(
            "lifecycle_state.json".to_string(),
            Entry::File {
                mode: 0o600,
                data: std::sync::Arc::new(b"{}\n".to_vec()),
            },
        );
        entries.insert("d".to_string(), Entry::Dir { mode: 0o700 });
        entries.insert(
            "p".to_string(),
            Entry::Other {
                what: "a named pipe".to_string(),
            },
        );
        assert_eq!(
            listing(&entries),
            r#"{d: directory 700, lifecycle_state.json: file 600 "{}\n", p: a named pipe}"#
        );
    }

    #[test]
    fn records_are_json_text_with_the_characters_that_do_not_print_escaped() {
        let now = Timestamp::parse("2024-01-01T00:00:00Z").expect("a timestamp");
        let mut r = Record::default_at(&now);
        r.unknown
            .push(("x".to_string(), "\"a\u{2028}b\u{0}é\"".to_string()));
        let text = record(&r);
        assert!(text.ends_with(r#""x":"a\u2028b\u0000é"}"#), "{text}");
    }

    #[test]
    fn operations_read_as_the_spec_names_them() {
        let op = op(&WriterOp::Dispatch {
            event: Event::Idle30Min,
            guards: Guards {
                sleep_eligible: true,
                still_idle: false,
            },
            shadow_run: true,
        });
        assert_eq!(op, "dispatch idle_30min (sleep_eligible, shadow_run)");
    }

    #[test]
    fn records_read_as_their_json_text() {
        let now = Timestamp::parse("2024-01-01T00:00:00Z").expect("a timestamp");
        let text = record(&Record::default_at(&now));
        assert!(text.starts_with(r#"{"current_state":"WAKE""#), "{text}");
        assert!(!text.ends_with('\n'));
    }
}
