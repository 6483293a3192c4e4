//! The record predicate of SPEC §1.
//!
//! Promises: [`decode`] returns `Ok` exactly when SPEC §1 calls the bytes a
//! valid record, and then the record they denote: known members checked as
//! `serde_json::Value` (integers by their literal text, SPEC §1.3; the
//! nested known objects by their members, via [`crate::json`]), unknown
//! members kept as (name, raw text) in document order (§1.5). [`Record::is_valid`]
//! is the same predicate for a record built in memory (integer ranges, no
//! unknown member named like a known one or like another unknown member,
//! unknown raw texts that are single valid JSON values, serialized size).
//!
//! Does not promise: which class is reported when a file breaks several rules
//! at once; callers compare valid against corrupt, not reasons.

use std::collections::HashSet;

use crate::json::{self, Member};
use crate::timestamp::Timestamp;

use crate::spec::{MAX_FILE_BYTES, MAX_INTEGER};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Wake,
    Drowsy,
    Sleep,
    Hibernation,
}

impl State {
    pub const ALL: [State; 4] = [State::Wake, State::Drowsy, State::Sleep, State::Hibernation];

    pub fn name(self) -> &'static str {
        match self {
            State::Wake => "WAKE",
            State::Drowsy => "DROWSY",
            State::Sleep => "SLEEP",
            State::Hibernation => "HIBERNATION",
        }
    }
}

/// Unknown members: (unescaped name, raw JSON text of the value).
pub type Unknown = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Progress {
    pub last_completed_step: Option<u64>,
    pub attempt: Option<u64>,
    /// Absent (`None`), `null` (`Some(None)`) or a message.
    pub last_error: Option<Option<String>>,
    pub started_at: Option<Timestamp>,
    pub unknown: Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    pub until_ts: Timestamp,
    pub since_ts: Timestamp,
    pub reason: String,
    pub unknown: Unknown,
}

/// A record as SPEC §1.2 describes it. `==` compares known members by value
/// (timestamps by instant) and unknown members by name, order and raw text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub current_state: State,
    pub since_ts: Timestamp,
    pub last_activity_ts: Timestamp,
    pub wrapper_event_seq: u64,
    pub sleep_cycle_progress: Option<Progress>,
    pub quarantine: Option<Quarantine>,
    pub shadow_run: bool,
    pub unknown: Unknown,
}

/// Why bytes are not a record: the class of SPEC §1.6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corrupt {
    /// Classes 1-8.
    Raw(crate::json::RawClass),
    /// Class 9: a required member is missing (field path).
    Missing(String),
    /// Class 10: a known member breaks its rule (field path).
    Invalid(String),
}

impl Corrupt {
    /// The item number of this class in SPEC §1.6 (1 to 10).
    pub fn item(&self) -> u8 {
        match self {
            Corrupt::Raw(class) => class.item(),
            Corrupt::Missing(_) => 9,
            Corrupt::Invalid(_) => 10,
        }
    }
}

impl Record {
    /// SPEC §1.7 at instant `now`.
    pub fn default_at(now: &Timestamp) -> Record {
        Record {
            current_state: State::Wake,
            since_ts: now.clone(),
            last_activity_ts: now.clone(),
            wrapper_event_seq: 0,
            sleep_cycle_progress: None,
            quarantine: None,
            shadow_run: false,
            unknown: Vec::new(),
        }
    }

    /// True when saving this record must succeed (SPEC §3.1).
    pub fn is_valid(&self) -> bool {
        let progress_ok = || {
            self.sleep_cycle_progress.as_ref().is_none_or(|p| {
                p.last_completed_step.is_none_or(|n| n <= MAX_INTEGER)
                    && p.attempt.is_none_or(|n| n <= MAX_INTEGER)
                    && unknown_ok(&p.unknown, &PROGRESS_KEYS)
            })
        };
        let quarantine_ok = || {
            self.quarantine
                .as_ref()
                .is_none_or(|q| unknown_ok(&q.unknown, &QUARANTINE_KEYS))
        };
        // The size first: it is cheaper than checking an oversize record's
        // unknown members one by one; and a record whose serialized form
        // cannot reach the limit is not encoded to measure it.
        self.wrapper_event_seq <= MAX_INTEGER
            && (self.encoded_len_bound() <= MAX_FILE_BYTES || self.encode().len() <= MAX_FILE_BYTES)
            && progress_ok()
            && quarantine_ok()
            && unknown_ok(&self.unknown, &TOP_KEYS)
    }

    /// An upper bound of `self.encode().len()`, without encoding: every
    /// byte of a string may take six once escaped (`\u001f`), every name
    /// and raw value its quotes, colon and comma, and everything else of
    /// the form (the known names, numbers, literals, braces, the newline)
    /// is under [`FIXED_FORM_BOUND`] bytes.
    pub fn encoded_len_bound(&self) -> usize {
        fn string(s: &str) -> usize {
            6 * s.len() + 2
        }
        fn unknown(members: &Unknown) -> usize {
            members
                .iter()
                .map(|(name, raw)| string(name) + raw.len() + 2)
                .sum()
        }
        let progress = self.sleep_cycle_progress.as_ref().map_or(0, |p| {
            p.last_error
                .as_ref()
                .and_then(Option::as_deref)
                .map_or(0, string)
                + p.started_at.as_ref().map_or(0, |t| string(t.as_str()))
                + unknown(&p.unknown)
        });
        let quarantine = self.quarantine.as_ref().map_or(0, |q| {
            string(q.until_ts.as_str())
                + string(q.since_ts.as_str())
                + string(&q.reason)
                + unknown(&q.unknown)
        });
        FIXED_FORM_BOUND
            + string(self.since_ts.as_str())
            + string(self.last_activity_ts.as_str())
            + progress
            + quarantine
            + unknown(&self.unknown)
    }

    /// The serialized form of SPEC §3.2: compact JSON and one `\n`, known
    /// members in table order (absent nullable top-level members as `null`),
    /// then unknown members as their raw text.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Object::default();
        out.string("current_state", self.current_state.name());
        out.string("since_ts", self.since_ts.as_str());
        out.string("last_activity_ts", self.last_activity_ts.as_str());
        out.raw("wrapper_event_seq", &self.wrapper_event_seq.to_string());
        let progress = self.sleep_cycle_progress.as_ref().map(encode_progress);
        out.raw(
            "sleep_cycle_progress",
            progress.as_deref().unwrap_or("null"),
        );
        let quarantine = self.quarantine.as_ref().map(encode_quarantine);
        out.raw("quarantine", quarantine.as_deref().unwrap_or("null"));
        out.raw("shadow_run", if self.shadow_run { "true" } else { "false" });
        out.unknown(&self.unknown);
        let mut text = out.finish();
        text.push('\n');
        text.into_bytes()
    }

    /// SPEC §5.1: quarantine non-null and `now < until_ts`.
    pub fn is_quarantined(&self, now: &Timestamp) -> bool {
        self.quarantine.as_ref().is_some_and(|q| *now < q.until_ts)
    }
}

/// SPEC §1: the record the bytes hold, or why they hold none.
pub fn decode(bytes: &[u8]) -> Result<Record, Corrupt> {
    let top = Members::new(
        json::split_object(bytes).map_err(Corrupt::Raw)?,
        "",
        &TOP_KEYS,
    );
    Ok(Record {
        current_state: top.required("current_state", state)?,
        since_ts: top.required("since_ts", timestamp)?,
        last_activity_ts: top.required("last_activity_ts", timestamp)?,
        wrapper_event_seq: top.required("wrapper_event_seq", integer)?,
        sleep_cycle_progress: top
            .optional("sleep_cycle_progress", nullable_object)?
            .flatten()
            .map(decode_progress)
            .transpose()?,
        quarantine: top
            .optional("quarantine", nullable_object)?
            .flatten()
            .map(decode_quarantine)
            .transpose()?,
        shadow_run: top.required("shadow_run", boolean)?,
        unknown: top.unknown,
    })
}

/// More than the serialized form of a record holds besides its strings
/// and unknown members: the known names with their quotes, colons and
/// commas (under 250 bytes), the state name, three integers of at most 20
/// digits, `null`/`true`/`false`, braces and the newline.
const FIXED_FORM_BOUND: usize = 512;

/// Known member names, in the order of SPEC §1.2 / §3.2.
pub const TOP_KEYS: [&str; 7] = [
    "current_state",
    "since_ts",
    "last_activity_ts",
    "wrapper_event_seq",
    "sleep_cycle_progress",
    "quarantine",
    "shadow_run",
];
pub const PROGRESS_KEYS: [&str; 4] = ["last_completed_step", "attempt", "last_error", "started_at"];
pub const QUARANTINE_KEYS: [&str; 3] = ["until_ts", "since_ts", "reason"];

fn decode_progress(members: Vec<Member>) -> Result<Progress, Corrupt> {
    let m = Members::new(members, "sleep_cycle_progress", &PROGRESS_KEYS);
    Ok(Progress {
        last_completed_step: m.optional("last_completed_step", integer)?,
        attempt: m.optional("attempt", integer)?,
        last_error: m.optional("last_error", nullable_string)?,
        started_at: m.optional("started_at", timestamp)?,
        unknown: m.unknown,
    })
}

fn decode_quarantine(members: Vec<Member>) -> Result<Quarantine, Corrupt> {
    let m = Members::new(members, "quarantine", &QUARANTINE_KEYS);
    Ok(Quarantine {
        until_ts: m.required("until_ts", timestamp)?,
        since_ts: m.required("since_ts", timestamp)?,
        reason: m.required("reason", string)?,
        unknown: m.unknown,
    })
}

/// The members of one object, split into known (by name) and unknown (in
/// document order). Names are unique: `json` rejected duplicates.
struct Members {
    path: &'static str,
    known: Vec<Member>,
    unknown: Unknown,
}

impl Members {
    fn new(members: Vec<Member>, path: &'static str, keys: &[&str]) -> Members {
        let (known, unknown): (Vec<Member>, Vec<Member>) = members
            .into_iter()
            .partition(|m| keys.contains(&m.name.as_str()));
        let unknown = unknown.into_iter().map(|m| (m.name, m.raw)).collect();
        Members {
            path,
            known,
            unknown,
        }
    }

    fn field_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// `None` when absent; `Invalid` when `check` rejects the raw text.
    fn optional<T>(&self, key: &str, check: fn(&str) -> Option<T>) -> Result<Option<T>, Corrupt> {
        match self.known.iter().find(|m| m.name == key) {
            None => Ok(None),
            Some(m) => check(&m.raw)
                .map(Some)
                .ok_or_else(|| Corrupt::Invalid(self.field_path(key))),
        }
    }

    fn required<T>(&self, key: &str, check: fn(&str) -> Option<T>) -> Result<T, Corrupt> {
        self.optional(key, check)?
            .ok_or_else(|| Corrupt::Missing(self.field_path(key)))
    }
}

// Checks of one known member's raw text, which is already one valid JSON
// value. Only strings, booleans and null reach serde_json: the first byte
// tells the type, so a deeply nested array or object never meets its
// recursion limit, and numbers are checked on their literal (SPEC §1.3).

fn scalar(raw: &str) -> Option<serde_json::Value> {
    match raw.as_bytes().first() {
        Some(b'"' | b't' | b'f' | b'n') => serde_json::from_str(raw).ok(),
        _ => None,
    }
}

fn string(raw: &str) -> Option<String> {
    match scalar(raw)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

fn nullable_string(raw: &str) -> Option<Option<String>> {
    match scalar(raw)? {
        serde_json::Value::String(s) => Some(Some(s)),
        serde_json::Value::Null => Some(None),
        _ => None,
    }
}

fn state(raw: &str) -> Option<State> {
    let name = string(raw)?;
    State::ALL.into_iter().find(|s| s.name() == name)
}

fn timestamp(raw: &str) -> Option<Timestamp> {
    Timestamp::parse(&string(raw)?)
}

fn boolean(raw: &str) -> Option<bool> {
    scalar(raw)?.as_bool()
}

/// SPEC §1.3, on the literal text: `-?(0|[1-9][0-9]*)` in 0..=2^53−1, so
/// `-0` is 0 and any other negative is out of range.
fn integer(raw: &str) -> Option<u64> {
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let grammar = !digits.is_empty()
        && digits.bytes().all(|d| d.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    // More than 16 digits exceeds 2^53−1 and could overflow u64.
    if !grammar || digits.len() > 16 {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    (value <= MAX_INTEGER && (!negative || value == 0)).then_some(value)
}

/// `null` or the members of an object; anything else is the wrong type.
fn nullable_object(raw: &str) -> Option<Option<Vec<Member>>> {
    if raw.starts_with('{') {
        json::members_of(raw).map(Some)
    } else {
        scalar(raw)?.is_null().then_some(None)
    }
}

/// SPEC §3.1 for one object's unknown members: not named like a known
/// member or like each other, each a single valid JSON value.
fn unknown_ok(unknown: &Unknown, keys: &[&str]) -> bool {
    let mut seen = HashSet::new();
    unknown.iter().all(|(name, raw)| {
        !keys.contains(&name.as_str()) && seen.insert(name.as_str()) && json::is_exact_value(raw)
    })
}

fn encode_progress(p: &Progress) -> String {
    let mut out = Object::default();
    if let Some(n) = p.last_completed_step {
        out.raw("last_completed_step", &n.to_string());
    }
    if let Some(n) = p.attempt {
        out.raw("attempt", &n.to_string());
    }
    match &p.last_error {
        None => {}
        Some(None) => out.raw("last_error", "null"),
        Some(Some(e)) => out.string("last_error", e),
    }
    if let Some(t) = &p.started_at {
        out.string("started_at", t.as_str());
    }
    out.unknown(&p.unknown);
    out.finish()
}

fn encode_quarantine(q: &Quarantine) -> String {
    let mut out = Object::default();
    out.string("until_ts", q.until_ts.as_str());
    out.string("since_ts", q.since_ts.as_str());
    out.string("reason", &q.reason);
    out.unknown(&q.unknown);
    out.finish()
}

/// A compact JSON object under construction.
#[derive(Default)]
struct Object {
    text: String,
}

impl Object {
    fn raw(&mut self, name: &str, value: &str) {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        push_json_string(&mut self.text, name);
        self.text.push(':');
        self.text.push_str(value);
    }

    fn string(&mut self, name: &str, value: &str) {
        let mut quoted = String::new();
        push_json_string(&mut quoted, value);
        self.raw(name, &quoted);
    }

    fn unknown(&mut self, unknown: &Unknown) {
        for (name, raw) in unknown {
            self.raw(name, raw);
        }
    }

    fn finish(mut self) -> String {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        self.text
    }
}

/// `s` as a JSON string: quotes, backslashes and control characters
/// escaped, everything else as is.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::RawClass;

    const BASE: &str = r#"{"current_state":"WAKE","since_ts":"2026-11-26T07:41:10.123456Z","last_activity_ts":"2026-11-26T07:41:10Z","wrapper_event_seq":42,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}"#;

    const QUARANTINE: &str =
        r#"{"until_ts":"2026-11-27T00:00:00Z","since_ts":"2026-11-26T00:00:00Z","reason":"r"}"#;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text} is a timestamp"))
    }

    /// BASE with member `name` set to `raw` (`None` removes it).
    fn with(name: &str, raw: Option<&str>) -> String {
        let mut members = json::split_object(BASE.as_bytes()).expect("BASE is valid");
        match raw {
            None => members.retain(|m| m.name != name),
            Some(raw) => match members.iter_mut().find(|m| m.name == name) {
                Some(m) => m.raw = raw.to_string(),
                None => members.push(Member {
                    name: name.to_string(),
                    raw: raw.to_string(),
                }),
            },
        }
        let body: Vec<String> = members
            .iter()
            .map(|m| format!("{:?}:{}", m.name, m.raw))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    fn decode_str(text: &str) -> Result<Record, Corrupt> {
        decode(text.as_bytes())
    }

    fn invalid<T>(path: &str) -> Result<T, Corrupt> {
        Err(Corrupt::Invalid(path.to_string()))
    }

    fn seq_of(raw: &str) -> Result<u64, Corrupt> {
        decode_str(&with("wrapper_event_seq", Some(raw))).map(|r| r.wrapper_event_seq)
    }

    fn sample() -> Record {
        Record {
            current_state: State::Sleep,
            since_ts: ts("2024-01-01T00:00:00+00:00"),
            last_activity_ts: ts("2016-12-31T23:59:60.5Z"),
            wrapper_event_seq: MAX_INTEGER,
            sleep_cycle_progress: Some(Progress {
                last_completed_step: Some(2),
                attempt: None,
                last_error: Some(Some("disk \"full\"\n\u{1}é".to_string())),
                started_at: Some(ts("2024-01-01T00:00:00Z")),
                unknown: vec![("p\"x".to_string(), "[1e400, {\"a\":-0}]".to_string())],
            }),
            quarantine: Some(Quarantine {
                until_ts: ts("2024-01-02T00:00:00Z"),
                since_ts: ts("2024-01-01T00:00:00Z"),
                reason: String::new(),
                unknown: vec![("current_state".to_string(), "7".to_string())],
            }),
            shadow_run: true,
            unknown: vec![
                ("z".to_string(), "1.50".to_string()),
                ("a".to_string(), "\"\\u0061\"".to_string()),
            ],
        }
    }

    #[test]
    fn base_record_decodes_to_its_values() {
        let r = decode_str(BASE).expect("valid");
        assert_eq!(r.current_state, State::Wake);
        assert_eq!(r.since_ts, ts("2026-11-26T07:41:10.123456Z"));
        assert_eq!(r.wrapper_event_seq, 42);
        assert_eq!((r.sleep_cycle_progress, r.quarantine), (None, None));
        assert!(!r.shadow_run && r.unknown.is_empty());
    }

    #[test]
    fn raw_classes_are_reported_as_raw() {
        assert_eq!(decode(b"[]"), Err(Corrupt::Raw(RawClass::NotAnObject)));
        assert_eq!(decode(b"\xff"), Err(Corrupt::Raw(RawClass::InvalidUtf8)));
    }

    #[test]
    fn each_required_top_level_member_missing_is_named() {
        for name in [
            "current_state",
            "since_ts",
            "last_activity_ts",
            "wrapper_event_seq",
            "shadow_run",
        ] {
            assert_eq!(
                decode_str(&with(name, None)),
                Err(Corrupt::Missing(name.to_string()))
            );
        }
    }

    #[test]
    fn absent_nullable_members_decode_as_null() {
        let text = with("quarantine", None);
        let r = decode_str(&with_in(&text, "sleep_cycle_progress")).expect("valid");
        assert_eq!((r.sleep_cycle_progress, r.quarantine), (None, None));
    }

    fn with_in(text: &str, remove: &str) -> String {
        let members = json::split_object(text.as_bytes()).expect("valid");
        let body: Vec<String> = members
            .iter()
            .filter(|m| m.name != remove)
            .map(|m| format!("{:?}:{}", m.name, m.raw))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    #[test]
    fn current_state_must_be_an_exact_state_name() {
        for raw in [
            r#""wake""#,
            r#""WAKE ""#,
            r#""""#,
            r#""WAKE\u0000""#,
            "null",
            "1",
            "{}",
        ] {
            assert_eq!(
                decode_str(&with("current_state", Some(raw))),
                invalid("current_state"),
                "{raw}"
            );
        }
        let r = decode_str(&with("current_state", Some(r#""HIBERN\u0041TION""#))).expect("valid");
        assert_eq!(r.current_state, State::Hibernation);
    }

    #[test]
    fn deeply_nested_known_member_is_invalid_without_crashing() {
        let deep = format!("{}{}", "[".repeat(400_000), "]".repeat(400_000));
        assert_eq!(
            decode_str(&with("current_state", Some(&deep))),
            invalid("current_state")
        );
        assert_eq!(
            decode_str(&with("wrapper_event_seq", Some(&deep))),
            invalid("wrapper_event_seq")
        );
        let objects = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
        let progress = format!(r#"{{"last_error":{objects}}}"#);
        assert_eq!(
            decode_str(&with("sleep_cycle_progress", Some(&progress))),
            invalid("sleep_cycle_progress.last_error")
        );
    }

    #[test]
    fn deeply_nested_unknown_member_under_one_mib_is_valid() {
        let deep = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
        let r = decode_str(&with("x", Some(&deep))).expect("valid");
        assert_eq!(r.unknown, vec![("x".to_string(), deep)]);
        assert!(r.is_valid());
    }

    #[test]
    fn largest_integer_is_valid() {
        assert_eq!(seq_of("9007199254740991"), Ok(MAX_INTEGER));
    }

    #[test]
    fn two_to_the_53_is_invalid() {
        assert_eq!(seq_of("9007199254740992"), invalid("wrapper_event_seq"));
        assert_eq!(seq_of("18446744073709551616"), invalid("wrapper_event_seq"));
    }

    #[test]
    fn negative_zero_is_zero() {
        assert_eq!(seq_of("-0"), Ok(0));
    }

    #[test]
    fn negative_integers_are_invalid() {
        assert_eq!(seq_of("-1"), invalid("wrapper_event_seq"));
        assert_eq!(seq_of("-9007199254740991"), invalid("wrapper_event_seq"));
    }

    #[test]
    fn non_integer_literals_are_invalid_integers() {
        for raw in [
            "1.0", "1e0", "1E2", "-0.0", "0e0", "true", "false", "\"1\"", "null", "[1]",
        ] {
            assert_eq!(seq_of(raw), invalid("wrapper_event_seq"), "{raw}");
        }
    }

    #[test]
    fn shadow_run_must_be_a_boolean() {
        for raw in ["0", "1", "\"true\"", "null", "{}"] {
            assert_eq!(
                decode_str(&with("shadow_run", Some(raw))),
                invalid("shadow_run"),
                "{raw}"
            );
        }
        assert!(
            decode_str(&with("shadow_run", Some("true")))
                .expect("valid")
                .shadow_run
        );
    }

    #[test]
    fn timestamps_must_follow_spec_1_4() {
        for raw in [
            r#""2023-02-29T00:00:00Z""#,
            r#""2024-01-01T00:00:00+01:00""#,
            "null",
            "0",
        ] {
            assert_eq!(
                decode_str(&with("since_ts", Some(raw))),
                invalid("since_ts"),
                "{raw}"
            );
        }
    }

    #[test]
    fn nullable_objects_reject_other_types() {
        for raw in ["[]", "false", "0", "\"x\""] {
            for name in ["sleep_cycle_progress", "quarantine"] {
                assert_eq!(
                    decode_str(&with(name, Some(raw))),
                    invalid(name),
                    "{name} {raw}"
                );
            }
        }
    }

    #[test]
    fn empty_progress_is_valid_with_all_members_absent() {
        let r = decode_str(&with("sleep_cycle_progress", Some("{}"))).expect("valid");
        assert_eq!(r.sleep_cycle_progress, Some(Progress::default()));
    }

    #[test]
    fn progress_members_are_checked_with_their_path() {
        let cases = [
            (
                r#"{"last_completed_step":null}"#,
                "sleep_cycle_progress.last_completed_step",
            ),
            (
                r#"{"attempt":9007199254740992}"#,
                "sleep_cycle_progress.attempt",
            ),
            (r#"{"last_error":7}"#, "sleep_cycle_progress.last_error"),
            (r#"{"started_at":null}"#, "sleep_cycle_progress.started_at"),
        ];
        for (raw, path) in cases {
            assert_eq!(
                decode_str(&with("sleep_cycle_progress", Some(raw))),
                invalid(path)
            );
        }
    }

    #[test]
    fn progress_members_decode_with_unknown_ones_kept() {
        let raw = r#"{"x":[1,{"wrapper_event_seq":1.5}],"attempt":-0,"last_error":null,"last_completed_step":3,"started_at":"2024-01-01T00:00:00Z"}"#;
        let r = decode_str(&with("sleep_cycle_progress", Some(raw))).expect("valid");
        let want = Progress {
            last_completed_step: Some(3),
            attempt: Some(0),
            last_error: Some(None),
            started_at: Some(ts("2024-01-01T00:00:00Z")),
            unknown: vec![(
                "x".to_string(),
                r#"[1,{"wrapper_event_seq":1.5}]"#.to_string(),
            )],
        };
        assert_eq!(r.sleep_cycle_progress, Some(want));
    }

    #[test]
    fn quarantine_required_members_missing_are_named() {
        for name in ["until_ts", "since_ts", "reason"] {
            let members = json::members_of(QUARANTINE).expect("object");
            let body: Vec<String> = members
                .iter()
                .filter(|m| m.name != name)
                .map(|m| format!("{:?}:{}", m.name, m.raw))
                .collect();
            let raw = format!("{{{}}}", body.join(","));
            assert_eq!(
                decode_str(&with("quarantine", Some(&raw))),
                Err(Corrupt::Missing(format!("quarantine.{name}")))
            );
        }
    }

    #[test]
    fn quarantine_members_are_checked_with_their_path() {
        let raw = QUARANTINE.replace("2026-11-27T00:00:00Z", "2026-11-27T24:00:00Z");
        assert_eq!(
            decode_str(&with("quarantine", Some(&raw))),
            invalid("quarantine.until_ts")
        );
        let raw = QUARANTINE.replace(r#""r""#, "null");
        assert_eq!(
            decode_str(&with("quarantine", Some(&raw))),
            invalid("quarantine.reason")
        );
    }

    #[test]
    fn quarantine_unknown_member_named_like_a_top_level_member_is_unknown() {
        let raw = QUARANTINE.replace('}', r#","current_state":"nope"}"#);
        let q = decode_str(&with("quarantine", Some(&raw)))
            .expect("valid")
            .quarantine;
        let unknown = q.expect("non-null").unknown;
        assert_eq!(
            unknown,
            vec![("current_state".to_string(), "\"nope\"".to_string())]
        );
    }

    #[test]
    fn known_member_name_spelled_with_an_escape_is_known() {
        let text = BASE.replace("\"shadow_run\"", r#""shadow\u005frun""#);
        assert!(decode_str(&text).expect("valid").unknown.is_empty());
    }

    #[test]
    fn unknown_members_keep_raw_text_and_order() {
        let text = BASE.replace('{', r#"{"z" : 1.50 ,"a":1e400,"#);
        let r = decode_str(&text).expect("valid");
        let want = vec![
            ("z".to_string(), "1.50".to_string()),
            ("a".to_string(), "1e400".to_string()),
        ];
        assert_eq!(r.unknown, want);
    }

    #[test]
    fn duplicate_unknown_member_after_unescaping_is_corrupt() {
        let text = BASE.replace('{', r#"{"x":[{"a":1,"\u0061":2}],"#);
        assert_eq!(
            decode_str(&text),
            Err(Corrupt::Raw(RawClass::DuplicateName))
        );
    }

    #[test]
    fn encode_is_compact_in_table_order_with_a_newline() {
        let text = with("zz", Some("[1, 2]"));
        let r = decode_str(&with_in(&text, "quarantine")).expect("valid");
        let want = format!("{},\"zz\":[1, 2]}}\n", &BASE[..BASE.len() - 1]);
        assert_eq!(String::from_utf8(r.encode()).expect("utf8"), want);
    }

    #[test]
    fn encode_writes_negative_zero_as_zero() {
        let r = decode_str(&with("wrapper_event_seq", Some("-0"))).expect("valid");
        assert!(String::from_utf8(r.encode())
            .expect("utf8")
            .contains("\"wrapper_event_seq\":0,"));
    }

    #[test]
    fn encode_escapes_strings_and_unknown_names() {
        let text = String::from_utf8(sample().encode()).expect("utf8");
        assert!(
            text.contains(r#""last_error":"disk \"full\"\n\u0001é""#),
            "{text}"
        );
        assert!(text.contains(r#""p\"x":[1e400, {"a":-0}]"#), "{text}");
    }

    #[test]
    fn encode_then_decode_returns_the_record() {
        let r = sample();
        assert_eq!(decode(&r.encode()), Ok(r));
    }

    #[test]
    fn sample_record_is_valid() {
        assert!(sample().is_valid());
    }

    #[test]
    fn integer_above_two_to_the_53_minus_1_is_not_valid() {
        let mut r = sample();
        r.wrapper_event_seq = MAX_INTEGER + 1;
        assert!(!r.is_valid());
        let mut r = sample();
        if let Some(p) = &mut r.sleep_cycle_progress {
            p.attempt = Some(MAX_INTEGER + 1);
        }
        assert!(!r.is_valid());
    }

    #[test]
    fn unknown_member_named_like_a_known_one_is_not_valid() {
        let mut r = sample();
        r.unknown.push(("shadow_run".to_string(), "1".to_string()));
        assert!(!r.is_valid());
        let mut r = sample();
        if let Some(q) = &mut r.quarantine {
            q.unknown.push(("reason".to_string(), "1".to_string()));
        }
        assert!(!r.is_valid());
    }

    #[test]
    fn two_unknown_members_with_one_name_are_not_valid() {
        let mut r = sample();
        r.unknown.push(("z".to_string(), "2".to_string()));
        assert!(!r.is_valid());
    }

    #[test]
    fn unknown_raw_text_must_be_one_valid_json_value() {
        for raw in [
            "NaN",
            "1 2",
            "",
            " 1",
            r#"{"a":1,"a":1}"#,
            r#""\ud800""#,
            "[1,]",
        ] {
            let mut r = sample();
            r.unknown.push(("new".to_string(), raw.to_string()));
            assert!(!r.is_valid(), "{raw:?}");
        }
    }

    #[test]
    fn record_whose_encoding_exceeds_one_mib_is_not_valid() {
        let base = Record::default_at(&ts("2024-01-01T00:00:00Z"));
        let room = MAX_FILE_BYTES - base.encode().len() - r#","x":"""#.len();
        let mut r = base.clone();
        r.unknown
            .push(("x".to_string(), format!("\"{}\"", "a".repeat(room))));
        assert_eq!(r.encode().len(), MAX_FILE_BYTES);
        assert!(r.is_valid());
        r.unknown[0].1 = format!("\"{}\"", "a".repeat(room + 1));
        assert!(!r.is_valid());
    }

    #[test]
    fn default_record_encodes_as_spec_1_7() {
        let r = Record::default_at(&ts("2024-01-01T00:00:00Z"));
        let want = "{\"current_state\":\"WAKE\",\"since_ts\":\"2024-01-01T00:00:00Z\",\"last_activity_ts\":\"2024-01-01T00:00:00Z\",\"wrapper_event_seq\":0,\"sleep_cycle_progress\":null,\"quarantine\":null,\"shadow_run\":false}\n";
        assert_eq!(String::from_utf8(r.encode()).expect("utf8"), want);
    }

    #[test]
    fn quarantined_means_now_before_until_ts() {
        let r = sample();
        assert!(r.is_quarantined(&ts("2024-01-01T23:59:59.9Z")));
        assert!(!r.is_quarantined(&ts("2024-01-02T00:00:00+00:00")));
        assert!(!Record::default_at(&ts("2024-01-01T00:00:00Z"))
            .is_quarantined(&ts("2000-01-01T00:00:00Z")));
    }

    #[test]
    fn the_size_bound_is_never_below_the_serialized_size() {
        let control: String = (0u8..0x20).map(char::from).collect();
        let mut worst = sample();
        worst.wrapper_event_seq = u64::MAX;
        if let Some(p) = worst.sleep_cycle_progress.as_mut() {
            p.last_completed_step = Some(u64::MAX);
            p.attempt = Some(u64::MAX);
            p.last_error = Some(Some(control.repeat(3)));
        }
        if let Some(q) = worst.quarantine.as_mut() {
            q.reason = format!("{control}\"\\");
            q.unknown.push((control.clone(), "null".to_string()));
        }
        worst.current_state = State::Hibernation;
        worst.unknown = vec![(control.clone(), "[]".to_string()); 5];
        let mut empty_progress = sample();
        empty_progress.sleep_cycle_progress = Some(Progress::default());
        let at = ts("2024-01-01T00:00:00Z");
        for record in [sample(), worst, empty_progress, Record::default_at(&at)] {
            assert!(
                record.encoded_len_bound() >= record.encode().len(),
                "{record:?}"
            );
        }
    }

    #[test]
    fn the_size_bound_holds_and_stays_within_six_times_the_form_wherever_the_bytes_are() {
        let long = "a".repeat(100_000);
        let raw = format!("\"{long}\"");
        let mut places: Vec<Record> = Vec::new();
        let mut with = |change: &dyn Fn(&mut Record)| {
            let mut record = sample();
            change(&mut record);
            assert!(record.encode().len() > 100_000, "nowhere to put the bytes");
            places.push(record);
        };
        with(&|r| r.unknown = vec![(long.clone(), "1".into())]);
        with(&|r| r.unknown = vec![("x".into(), raw.clone())]);
        with(&|r| {
            if let Some(p) = r.sleep_cycle_progress.as_mut() {
                p.last_error = Some(Some(long.clone()));
            }
        });
        with(&|r| {
            if let Some(p) = r.sleep_cycle_progress.as_mut() {
                p.unknown = vec![(long.clone(), raw.clone())];
            }
        });
        with(&|r| {
            if let Some(q) = r.quarantine.as_mut() {
                q.reason = long.clone();
            }
        });
        with(&|r| {
            if let Some(q) = r.quarantine.as_mut() {
                q.unknown = vec![(long.clone(), raw.clone())];
            }
        });
        places.push(sample());
        for record in places {
            let (len, bound) = (record.encode().len(), record.encoded_len_bound());
            assert!(
                len <= bound && bound <= FIXED_FORM_BOUND + 6 * len,
                "{len} {bound}"
            );
        }
    }

    #[test]
    fn each_class_says_its_item_of_spec_1_6() {
        assert_eq!(Corrupt::Raw(RawClass::TooLarge).item(), 1);
        assert_eq!(Corrupt::Missing("since_ts".into()).item(), 9);
        assert_eq!(Corrupt::Invalid("since_ts".into()).item(), 10);
    }

    #[test]
    fn a_record_past_the_bound_is_measured() {
        let mut big = sample();
        big.unknown = vec![(
            "x".to_string(),
            format!("\"{}\"", "a".repeat(MAX_FILE_BYTES)),
        )];
        assert!(big.encoded_len_bound() > MAX_FILE_BYTES && !big.is_valid());
        big.unknown = vec![(
            "x".to_string(),
            format!("\"{}\"", "a".repeat(MAX_FILE_BYTES / 2)),
        )];
        assert!(big.encoded_len_bound() <= MAX_FILE_BYTES);
        big.unknown[0].0 = "n".repeat(MAX_FILE_BYTES / 10);
        assert!(big.encoded_len_bound() > MAX_FILE_BYTES && big.is_valid());
    }
}
