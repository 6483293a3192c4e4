//! The implementation-defined points of requirements §7: where conforming
//! implementations may differ, and so where a judge of another
//! implementation must accept either side.
//!
//! Promises: [`Point`] lists the points of the §7 table; [`of_record`] says
//! which a record touches (a leap second, year 0000, nesting deeper than 64
//! levels or a number beyond what binary64 holds exactly inside an unknown
//! member); [`of_bytes`] says the same of a file, and also finds a
//! lowercase `t` or `z` in a known timestamp, which this project's SPEC
//! calls corrupt and §7 lets another implementation accept; [`of_text`]
//! says it of a record to save given as JSON text, whatever else the record
//! holds (§7 lets a save refuse such a record naming any field, even when
//! it is invalid for another reason too); [`as_valid`] reads a file on the
//! side that accepts it; [`nesting`] says how deep a JSON text nests. This
//! project's SPEC picks a side on each (SPEC §1.4, §1.5); the model
//! follows it.
//!
//! Does not promise: anything beyond the §7 table; [`of_text`] finds
//! nothing in a text that is not one JSON object (SPEC §1.6 items 1-8).

use std::fmt;

use crate::json::{members_of, split_object, Member};
use crate::record::{decode, Record, PROGRESS_KEYS, QUARANTINE_KEYS, TOP_KEYS};
use crate::spec::MAX_INTEGER;
use crate::timestamp::Timestamp;

/// One row of the table of requirements §7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Point {
    DeepUnknown,
    BigNumber,
    LowercaseTZ,
    LeapSecond,
    YearZero,
}

impl Point {
    pub const ALL: [Point; 5] = [
        Point::DeepUnknown,
        Point::BigNumber,
        Point::LowercaseTZ,
        Point::LeapSecond,
        Point::YearZero,
    ];

    /// The row's words, as requirements §7 puts them.
    pub fn describe(self) -> &'static str {
        match self {
            Point::DeepUnknown => "nesting deeper than 64 levels inside an unknown member",
            Point::BigNumber => {
                "a number in an unknown member beyond ±(2^53−1), overflowing binary64, or of more than 4,300 digits"
            }
            Point::LowercaseTZ => "lowercase t or z in a timestamp",
            Point::LeapSecond => "second 60 (a leap second)",
            Point::YearZero => "year 0000",
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Nesting deeper than this inside an unknown member is a §7 point.
const DEPTH: usize = 64;
/// Digits past which a number is a §7 point whatever its value.
const DIGITS: usize = 4300;

fn timestamp_point(ts: &Timestamp) -> Option<Point> {
    let text = ts.as_str();
    if text.get(17..19) == Some("60") {
        return Some(Point::LeapSecond);
    }
    (text.get(0..4) == Some("0000")).then_some(Point::YearZero)
}

/// A token of a JSON text that the points of §7 are about.
enum Token<'a> {
    Open,
    Close,
    Number(&'a str),
}

/// Calls `on` with each bracket and number of the JSON text `text`, in
/// order, strings skipped.
fn tokens<'a>(text: &'a str, mut on: impl FnMut(Token<'a>)) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' => on(Token::Open),
            b']' | b'}' => on(Token::Close),
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                // Number characters are ASCII: `i` is on a char boundary.
                on(Token::Number(&text[start..i]));
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// How deep the JSON text `text` nests: the most arrays and objects open
/// at once.
pub fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    tokens(text, |token| match token {
        Token::Open => {
            depth += 1;
            deepest = deepest.max(depth);
        }
        Token::Close => depth = depth.saturating_sub(1),
        Token::Number(_) => {}
    });
    deepest
}

/// The §7 points in the raw text of one JSON value: nesting deeper than
/// 64, a number binary64 cannot hold exactly enough, or both.
fn raw_points(raw: &str) -> Vec<Point> {
    let mut points = Vec::new();
    if nesting(raw) > DEPTH {
        points.push(Point::DeepUnknown);
    }
    let mut big = false;
    tokens(raw, |token| {
        if let Token::Number(literal) = token {
            big = big || number_point(literal);
        }
    });
    if big {
        points.push(Point::BigNumber);
    }
    points
}

/// An integer beyond ±(2^53−1), a number that overflows binary64, or one
/// of more than 4,300 digits.
fn number_point(literal: &str) -> bool {
    let digits = literal.bytes().filter(u8::is_ascii_digit).count();
    if digits > DIGITS {
        return true;
    }
    let integer = !literal.contains(['.', 'e', 'E']);
    if integer {
        let magnitude = literal.trim_start_matches('-');
        return magnitude.len() > 16 || magnitude.parse::<u64>().map_or(true, |n| n > MAX_INTEGER);
    }
    literal.parse::<f64>().map_or(true, |x| !x.is_finite())
}

/// The §7 points `record` touches.
pub fn of_record(record: &Record) -> Vec<Point> {
    let mut points = Vec::new();
    let mut stamps = vec![&record.since_ts, &record.last_activity_ts];
    let mut unknown: Vec<&str> = record.unknown.iter().map(|(_, raw)| raw.as_str()).collect();
    if let Some(p) = &record.sleep_cycle_progress {
        stamps.extend(p.started_at.as_ref());
        unknown.extend(p.unknown.iter().map(|(_, raw)| raw.as_str()));
    }
    if let Some(q) = &record.quarantine {
        stamps.push(&q.until_ts);
        stamps.push(&q.since_ts);
        unknown.extend(q.unknown.iter().map(|(_, raw)| raw.as_str()));
    }
    points.extend(stamps.into_iter().filter_map(timestamp_point));
    points.extend(unknown.into_iter().flat_map(raw_points));
    points.sort();
    points.dedup();
    points
}

/// The §7 points a record to save, given as the JSON text `json`, holds,
/// whatever else it holds: in the unknown members of the top level,
/// `sleep_cycle_progress` and `quarantine`, and in the known timestamps (a
/// leap second, year 0000, or a lowercase `t` or `z` in a timestamp that is
/// one of SPEC §1.4 once made uppercase). Nothing for a text that is not
/// one JSON object.
pub fn of_text(json: &[u8]) -> Vec<Point> {
    let Ok(top) = split_object(json) else {
        return Vec::new();
    };
    let mut points = Vec::new();
    let mut objects = vec![(top, &TOP_KEYS[..])];
    while let Some((members, keys)) = objects.pop() {
        for Member { name, raw } in members {
            if !keys.contains(&name.as_str()) {
                points.extend(raw_points(&raw));
                continue;
            }
            // Only the top level knows these two names.
            let nested = match name.as_str() {
                "sleep_cycle_progress" => Some(&PROGRESS_KEYS[..]),
                "quarantine" => Some(&QUARANTINE_KEYS[..]),
                _ => None,
            };
            match nested {
                Some(inner) => objects.extend(members_of(&raw).map(|m| (m, inner))),
                None => points.extend(text_timestamp_points(&raw)),
            }
        }
    }
    points.sort();
    points.dedup();
    points
}

/// The §7 points of a known member's raw value when it is a timestamp of
/// SPEC §1.4, or one once its `t` and `z` are made uppercase.
fn text_timestamp_points(raw: &str) -> Vec<Point> {
    let Ok(text) = serde_json::from_str::<String>(raw) else {
        return Vec::new();
    };
    // A timestamp's only letters are its `T` and `Z`.
    let upper = text.to_ascii_uppercase();
    let Some(ts) = Timestamp::parse(&upper) else {
        return Vec::new();
    };
    let mut points: Vec<Point> = timestamp_point(&ts).into_iter().collect();
    if upper != text {
        points.push(Point::LowercaseTZ);
    }
    points
}

/// The §7 points a file holding `bytes` touches: those of the record it
/// holds, and a lowercase `t` or `z` in a known timestamp of a file that
/// would otherwise be valid.
pub fn of_bytes(bytes: &[u8]) -> Vec<Point> {
    if let Ok(record) = decode(bytes) {
        return of_record(&record);
    }
    // Corrupt for this SPEC; valid for an implementation that accepts a
    // lowercase `t` or `z`?
    let upper = uppercase_timestamps(bytes);
    if upper == bytes {
        return Vec::new();
    }
    match decode(&upper) {
        Ok(record) => {
            let mut points = of_record(&record);
            points.push(Point::LowercaseTZ);
            points.sort();
            points.dedup();
            points
        }
        Err(_) => Vec::new(),
    }
}

/// The record a file holding `bytes` is, read on the side of requirements
/// §7 that accepts it: this SPEC's reading, or the record with a lowercase
/// `t` or `z` read as uppercase. `None` when no side makes it a record.
pub fn as_valid(bytes: &[u8]) -> Option<Record> {
    decode(bytes)
        .or_else(|_| decode(&uppercase_timestamps(bytes)))
        .ok()
}

/// `bytes` with the `t` and `z` of every timestamp-shaped string made
/// uppercase.
fn uppercase_timestamps(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] == b'"' {
            let start = i + 1;
            let mut end = start;
            while end < out.len() && out[end] != b'"' {
                end += if out[end] == b'\\' { 2 } else { 1 };
            }
            let end = end.min(out.len());
            let s = &out[start..end];
            let shaped = s.len() >= 20 && s[4] == b'-' && s[7] == b'-' && s[13] == b':';
            if shaped {
                if s[10] == b't' {
                    out[start + 10] = b'T';
                }
                if out[end - 1] == b'z' {
                    out[end - 1] = b'Z';
                }
            }
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"{"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":0,"shadow_run":false"#;

    fn file(extra: &str) -> Vec<u8> {
        format!("{BASE}{extra}}}").into_bytes()
    }

    #[test]
    fn a_plain_record_touches_no_point() {
        assert_eq!(of_bytes(&file("")), Vec::new());
        assert_eq!(
            of_bytes(&file(r#","x":[1.5,-3,9007199254740991,"1e400"]"#)),
            Vec::new()
        );
    }

    #[test]
    fn a_record_to_save_names_its_points_whatever_else_it_holds() {
        // Invalid for its sequence, yet on two points of §7.
        let text = format!(
            "{}}}",
            BASE.replace(":0,", ":true,").replace(
                "2024-01-01T00:00:00Z\",\"last",
                "2016-12-31t23:59:60Z\",\"last"
            ) + r#","q":{"deep":1e400}"#
        );
        assert_eq!(
            of_text(text.as_bytes()),
            vec![Point::BigNumber, Point::LowercaseTZ, Point::LeapSecond]
        );
        let nested = format!(
            "{BASE},\"quarantine\":{{\"until_ts\":\"0000-01-01T00:00:00Z\",\"since_ts\":\"x\",\"reason\":\"\",\"n\":{}{}}}}}",
            "[".repeat(65),
            "]".repeat(65)
        );
        assert_eq!(
            of_text(nested.as_bytes()),
            vec![Point::DeepUnknown, Point::YearZero]
        );
        assert_eq!(of_text(&file("")), Vec::new());
        assert_eq!(of_text(b"{\"x\":\"\\ud800\",\"y\":1e400}"), Vec::new());
        // A second 60 that is no leap second is no point: corrupt on
        // either side.
        let not_leap = String::from_utf8(file(""))
            .unwrap()
            .replacen("00:00:00Z", "12:00:60Z", 1);
        assert_eq!(of_text(not_leap.as_bytes()), Vec::new());
    }

    #[test]
    fn of_text_agrees_with_of_bytes_on_a_file_that_is_a_record_on_some_side() {
        let deep = format!(",\"x\":{}{}", "[".repeat(65), "]".repeat(65));
        for extra in [
            "",
            r#","x":1e400"#,
            r#","x":[1,{"y":9007199254740993}]"#,
            deep.as_str(),
        ] {
            let bytes = file(extra);
            assert_eq!(of_text(&bytes), of_bytes(&bytes), "{extra}");
        }
        let lower = String::from_utf8(file(""))
            .unwrap()
            .replacen("T00:00:00Z", "t00:00:00z", 1);
        assert_eq!(of_text(lower.as_bytes()), of_bytes(lower.as_bytes()));
    }

    #[test]
    fn each_point_reads_as_its_row_of_requirements_7() {
        let words: Vec<String> = Point::ALL.iter().map(|p| p.to_string()).collect();
        for (point, text) in Point::ALL.iter().zip(&words) {
            assert_eq!(text, point.describe());
        }
        assert_eq!(Point::LeapSecond.to_string(), "second 60 (a leap second)");
        assert_eq!(Point::YearZero.to_string(), "year 0000");
        let distinct: std::collections::BTreeSet<&String> = words.iter().collect();
        assert_eq!(distinct.len(), Point::ALL.len());
    }

    #[test]
    fn nesting_counts_what_is_open_at_once_outside_strings_even_in_a_text_cut_short() {
        assert_eq!(nesting("[[],[],{}]"), 2);
        assert_eq!(nesting(r#"["]]]\"[[[", [1]]"#), 2);
        assert_eq!(nesting("[\"abc"), 1);
        assert_eq!(nesting("\"abc\\"), 0);
    }

    #[test]
    fn a_number_is_a_point_by_its_length_past_4300_digits_not_at_4300() {
        let fraction = |digits: usize| format!("0.{}1", "0".repeat(digits - 2));
        assert!(!number_point(&fraction(4300)));
        assert!(number_point(&fraction(4301)));
    }

    #[test]
    fn a_record_to_save_is_searched_inside_its_progress_and_quarantine() {
        let progress = format!("{BASE},\"sleep_cycle_progress\":{{\"n\":1e400}}}}");
        assert_eq!(of_text(progress.as_bytes()), vec![Point::BigNumber]);
        let quarantine = format!(
            "{BASE},\"quarantine\":{{\"until_ts\":\"x\",\"since_ts\":\"x\",\"reason\":\"\",\"n\":1e400}}}}"
        );
        assert_eq!(of_text(quarantine.as_bytes()), vec![Point::BigNumber]);
    }

    #[test]
    fn a_file_with_a_lowercase_t_or_z_is_read_on_the_side_that_accepts_it() {
        let lower = String::from_utf8(file(""))
            .unwrap()
            .replacen("T00:00:00Z", "t00:00:00z", 1);
        let upper = as_valid(lower.as_bytes()).expect("valid once uppercase");
        assert_eq!(Some(upper), as_valid(&file("")));
        assert_eq!(as_valid(b"{\"since_ts\":\"2024-01-01t00:00:00z\"}"), None);
        assert_eq!(of_bytes(b"{\"a\":\"abc"), Vec::new());
    }

    #[test]
    fn only_the_t_and_z_of_timestamp_shaped_strings_are_made_uppercase() {
        let text = br#"{"a\"b":"2024-01-01t00:00:00z","c":"x\"2024-01-01t00:00:00z","e":"","dd":"2024-01-01t00:00:00.5z"}"#;
        let want = br#"{"a\"b":"2024-01-01T00:00:00Z","c":"x\"2024-01-01t00:00:00z","e":"","dd":"2024-01-01T00:00:00.5Z"}"#;
        assert_eq!(
            String::from_utf8_lossy(&uppercase_timestamps(text)),
            String::from_utf8_lossy(want)
        );
    }

    #[test]
    fn each_point_is_found() {
        assert_eq!(of_bytes(&file(r#","x":1e400"#)), vec![Point::BigNumber]);
        assert_eq!(
            of_bytes(&file(r#","x":9007199254740992"#)),
            vec![Point::BigNumber]
        );
        let deep = format!(",\"x\":{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(of_bytes(&file(&deep)), vec![Point::DeepUnknown]);
        let both = format!(",\"x\":{}1e400{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(
            of_bytes(&file(&both)),
            vec![Point::DeepUnknown, Point::BigNumber]
        );
        let shallow = format!(",\"x\":{}{}", "[".repeat(64), "]".repeat(64));
        assert_eq!(nesting(&shallow), 64);
        assert_eq!(nesting(r#"{"a":"[[{","b":[1,{}]}"#), 3);
        assert_eq!(of_bytes(&file(&shallow)), Vec::new());
        let leap = String::from_utf8(file(""))
            .unwrap()
            .replacen("00:00:00Z", "23:59:60Z", 1);
        assert_eq!(of_bytes(leap.as_bytes()), vec![Point::LeapSecond]);
        let zero = String::from_utf8(file(""))
            .unwrap()
            .replacen("2024-", "0000-", 1);
        assert_eq!(of_bytes(zero.as_bytes()), vec![Point::YearZero]);
        let lower = String::from_utf8(file(""))
            .unwrap()
            .replacen("T00:00:00Z", "t00:00:00z", 1);
        assert_eq!(of_bytes(lower.as_bytes()), vec![Point::LowercaseTZ]);
    }
}
