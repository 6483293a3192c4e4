//! Bytes ⇄ [`Record`]: the strict decoder and the encoder of SPEC §1.
//!
//! Promises: [`decode`] accepts a byte string exactly when SPEC §1 calls it a
//! valid record and otherwise says which rule it broke (and, where one is to
//! blame, which field); it never panics and never recurses on nesting.
//! [`encode`] writes compact JSON that [`decode`] reads back to an equal
//! record, with unknown members byte for byte as they were read.
//!
//! Does not promise: that encoding preserves the whitespace, member order or
//! number spelling of known members of the input (`-0` comes back as `0`).

use std::fmt;

use crate::json::{self, SyntaxError, TopLevel};
use crate::record::{
    InvalidRecord, Progress, Quarantine, RawJson, Record, State, UnknownMembers, MAX_INTEGER,
    PROGRESS_NAMES, QUARANTINE_NAMES, TOP_LEVEL_NAMES,
};
use crate::timestamp::Timestamp;

/// The largest valid file, SPEC §1.6.
pub const MAX_RECORD_BYTES: usize = 1_048_576;

/// Why bytes are not a valid record (SPEC §1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corruption {
    /// More than [`MAX_RECORD_BYTES`]; `len` is how many bytes were seen
    /// (reads stop at one byte past the limit).
    TooLarge { len: usize },
    /// The file starts with a UTF-8 byte order mark.
    ByteOrderMark,
    /// Not valid UTF-8; `offset` is where the first bad sequence starts.
    InvalidUtf8 { offset: usize },
    /// Not exactly one well-formed JSON value.
    Syntax(SyntaxError),
    /// One JSON value, but not an object.
    NotAnObject { kind: &'static str },
    /// An object whose member breaks a rule of SPEC §1.2-§1.5.
    Field(InvalidRecord),
}

impl Corruption {
    /// The dotted path of the field to blame, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Corruption::Field(invalid) => Some(&invalid.field),
            _ => None,
        }
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corruption::TooLarge { len } => {
                write!(f, "larger than {MAX_RECORD_BYTES} bytes (read {len})")
            }
            Corruption::ByteOrderMark => write!(f, "starts with a byte order mark"),
            Corruption::InvalidUtf8 { offset } => write!(f, "invalid UTF-8 at byte {offset}"),
            Corruption::Syntax(e) => write!(f, "not one well-formed JSON value: {e}"),
            Corruption::NotAnObject { kind } => {
                write!(f, "the top-level value is {kind}, not an object")
            }
            Corruption::Field(invalid) => write!(f, "{invalid}"),
        }
    }
}

impl std::error::Error for Corruption {}

/// Reads a record from the bytes of a file.
pub fn decode(bytes: &[u8]) -> Result<Record, Corruption> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(Corruption::TooLarge { len: bytes.len() });
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(Corruption::ByteOrderMark);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Corruption::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    decode_str(text)
}

/// Reads a record from text (the UTF-8 and size rules are the caller's).
pub fn decode_str(text: &str) -> Result<Record, Corruption> {
    match json::parse_object(text).map_err(Corruption::Syntax)? {
        TopLevel::Object(members) => record_from_members(members).map_err(Corruption::Field),
        TopLevel::Other(kind) => Err(Corruption::NotAnObject { kind }),
    }
}

/// Writes a record as compact JSON followed by a newline.
pub fn encode(record: &Record) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    let mut obj = ObjectWriter::new(&mut out);
    obj.string("current_state", record.current_state.as_str());
    obj.string("since_ts", record.since_ts.as_str());
    obj.string("last_activity_ts", record.last_activity_ts.as_str());
    obj.raw("wrapper_event_seq", &record.wrapper_event_seq.to_string());
    match &record.sleep_cycle_progress {
        None => obj.raw("sleep_cycle_progress", "null"),
        Some(progress) => {
            obj.name("sleep_cycle_progress");
            write_progress(obj.out, progress);
        }
    }
    match &record.quarantine {
        None => obj.raw("quarantine", "null"),
        Some(quarantine) => {
            obj.name("quarantine");
            write_quarantine(obj.out, quarantine);
        }
    }
    obj.raw(
        "shadow_run",
        if record.shadow_run { "true" } else { "false" },
    );
    obj.unknown(&record.unknown);
    obj.finish();
    out.push('\n');
    out.into_bytes()
}

fn write_progress(out: &mut String, progress: &Progress) {
    let mut obj = ObjectWriter::new(out);
    if let Some(n) = progress.last_completed_step {
        obj.raw("last_completed_step", &n.to_string());
    }
    if let Some(n) = progress.attempt {
        obj.raw("attempt", &n.to_string());
    }
    match &progress.last_error {
        None => {}
        Some(None) => obj.raw("last_error", "null"),
        Some(Some(message)) => obj.string("last_error", message),
    }
    if let Some(ts) = &progress.started_at {
        obj.string("started_at", ts.as_str());
    }
    obj.unknown(&progress.unknown);
    obj.finish();
}

fn write_quarantine(out: &mut String, quarantine: &Quarantine) {
    let mut obj = ObjectWriter::new(out);
    obj.string("until_ts", quarantine.until_ts.as_str());
    obj.string("since_ts", quarantine.since_ts.as_str());
    obj.string("reason", &quarantine.reason);
    obj.unknown(&quarantine.unknown);
    obj.finish();
}

/// Writes `{"a":1,"b":2}` one member at a time.
struct ObjectWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    fn new(out: &'a mut String) -> Self {
        out.push('{');
        ObjectWriter { out, first: true }
    }

    fn name(&mut self, name: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        json::write_string(self.out, name);
        self.out.push(':');
    }

    fn raw(&mut self, name: &str, raw: &str) {
        self.name(name);
        self.out.push_str(raw);
    }

    fn string(&mut self, name: &str, value: &str) {
        self.name(name);
        json::write_string(self.out, value);
    }

    fn unknown(&mut self, members: &UnknownMembers) {
        for (name, value) in members {
            self.raw(name, value.as_str());
        }
    }

    fn finish(self) {
        self.out.push('}');
    }
}

/// Members of one object, looked up by name; what is not taken is unknown.
struct Members<'a> {
    prefix: &'static str,
    members: Vec<(String, &'a str)>,
}

impl<'a> Members<'a> {
    fn take(&mut self, name: &str) -> Option<&'a str> {
        let index = self.members.iter().position(|(n, _)| n == name)?;
        Some(self.members.remove(index).1)
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn invalid(&self, name: &str, reason: impl Into<String>) -> InvalidRecord {
        InvalidRecord::new(self.path(name), reason)
    }

    fn required(&mut self, name: &str) -> Result<&'a str, InvalidRecord> {
        self.take(name)
            .ok_or_else(|| self.invalid(name, "required member is missing"))
    }

    fn string(&self, name: &str, raw: &str) -> Result<String, InvalidRecord> {
        json::string_contents(raw)
            .map(|s| s.into_owned())
            .ok_or_else(|| self.wrong_kind(name, "a string", raw))
    }

    fn timestamp(&self, name: &str, raw: &str) -> Result<Timestamp, InvalidRecord> {
        let text = self.string(name, raw)?;
        Timestamp::parse(&text).map_err(|e| self.invalid(name, e.to_string()))
    }

    fn integer(&self, name: &str, raw: &str) -> Result<u64, InvalidRecord> {
        if json::kind_of(raw) != "number" {
            return Err(self.wrong_kind(name, "an integer", raw));
        }
        let digits = raw.strip_prefix('-').unwrap_or(raw);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.invalid(
                name,
                format!("{raw} is not an integer literal (no fraction or exponent allowed)"),
            ));
        }
        let too_large = || self.invalid(name, format!("{raw} is outside 0..=2^53-1"));
        let value: u64 = digits.parse().map_err(|_| too_large())?;
        if raw.starts_with('-') && value != 0 {
            return Err(self.invalid(name, format!("{raw} is negative")));
        }
        if value > MAX_INTEGER {
            return Err(too_large());
        }
        Ok(value)
    }

    fn wrong_kind(&self, name: &str, wanted: &str, raw: &str) -> InvalidRecord {
        self.invalid(
            name,
            format!("expected {wanted}, found {}", json::kind_of(raw)),
        )
    }

    /// The remaining members, all unknown to this object.
    fn into_unknown(self) -> UnknownMembers {
        self.members
            .into_iter()
            .map(|(name, raw)| (name, RawJson::from_validated(raw)))
            .collect()
    }
}

fn object_members<'a>(
    prefix: &'static str,
    field: &str,
    raw: &'a str,
) -> Result<Members<'a>, InvalidRecord> {
    // `raw` comes from a validated document, so only the kind can be wrong.
    match json::parse_object(raw) {
        Ok(TopLevel::Object(members)) => Ok(Members { prefix, members }),
        _ => Err(InvalidRecord::new(
            field,
            format!("expected an object or null, found {}", json::kind_of(raw)),
        )),
    }
}

fn record_from_members(members: Vec<(String, &str)>) -> Result<Record, InvalidRecord> {
    let mut m = Members {
        prefix: "",
        members,
    };
    debug_assert_eq!(TOP_LEVEL_NAMES.len(), 7);

    let raw = m.required("current_state")?;
    let name = m.string("current_state", raw)?;
    let current_state = State::from_name(&name).ok_or_else(|| {
        m.invalid(
            "current_state",
            format!("{name:?} is not one of WAKE, DROWSY, SLEEP, HIBERNATION"),
        )
    })?;
    let raw = m.required("since_ts")?;
    let since_ts = m.timestamp("since_ts", raw)?;
    let raw = m.required("last_activity_ts")?;
    let last_activity_ts = m.timestamp("last_activity_ts", raw)?;
    let raw = m.required("wrapper_event_seq")?;
    let wrapper_event_seq = m.integer("wrapper_event_seq", raw)?;
    let sleep_cycle_progress = match m.take("sleep_cycle_progress") {
        None | Some("null") => None,
        Some(raw) => Some(progress_from(raw)?),
    };
    let quarantine = match m.take("quarantine") {
        None | Some("null") => None,
        Some(raw) => Some(quarantine_from(raw)?),
    };
    let raw = m.required("shadow_run")?;
    let shadow_run = match raw {
        "true" => true,
        "false" => false,
        _ => return Err(m.wrong_kind("shadow_run", "a boolean", raw)),
    };
    Ok(Record {
        current_state,
        since_ts,
        last_activity_ts,
        wrapper_event_seq,
        sleep_cycle_progress,
        quarantine,
        shadow_run,
        unknown: m.into_unknown(),
    })
}

fn progress_from(raw: &str) -> Result<Progress, InvalidRecord> {
    let mut m = object_members("sleep_cycle_progress.", "sleep_cycle_progress", raw)?;
    debug_assert_eq!(PROGRESS_NAMES.len(), 4);
    let last_completed_step = match m.take("last_completed_step") {
        None => None,
        Some(raw) => Some(m.integer("last_completed_step", raw)?),
    };
    let attempt = match m.take("attempt") {
        None => None,
        Some(raw) => Some(m.integer("attempt", raw)?),
    };
    let last_error = match m.take("last_error") {
        None => None,
        Some("null") => Some(None),
        Some(raw) => {
            Some(Some(m.string("last_error", raw).map_err(|_| {
                m.wrong_kind("last_error", "a string or null", raw)
            })?))
        }
    };
    let started_at = match m.take("started_at") {
        None => None,
        Some(raw) => Some(m.timestamp("started_at", raw)?),
    };
    Ok(Progress {
        last_completed_step,
        attempt,
        last_error,
        started_at,
        unknown: m.into_unknown(),
    })
}

fn quarantine_from(raw: &str) -> Result<Quarantine, InvalidRecord> {
    let mut m = object_members("quarantine.", "quarantine", raw)?;
    debug_assert_eq!(QUARANTINE_NAMES.len(), 3);
    let raw = m.required("until_ts")?;
    let until_ts = m.timestamp("until_ts", raw)?;
    let raw = m.required("since_ts")?;
    let since_ts = m.timestamp("since_ts", raw)?;
    let raw = m.required("reason")?;
    let reason = m.string("reason", raw)?;
    Ok(Quarantine {
        until_ts,
        since_ts,
        reason,
        unknown: m.into_unknown(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"{"current_state":"WAKE","since_ts":"2026-11-26T07:41:10Z","last_activity_ts":"2026-11-26T07:41:10Z","wrapper_event_seq":0,"shadow_run":false}"#;

    fn with_member(name: &str, raw: &str) -> String {
        format!("{},\"{name}\":{raw}}}", &BASE[..BASE.len() - 1])
    }

    #[test]
    fn corrupt_field_is_named() {
        let text = BASE.replace(
            "\"wrapper_event_seq\":0",
            "\"wrapper_event_seq\":9007199254740992",
        );
        let err = decode(text.as_bytes()).expect_err("2^53 is out of range");
        assert_eq!(err.field(), Some("wrapper_event_seq"));

        let text = with_member(
            "quarantine",
            r#"{"until_ts":"x","since_ts":"2026-11-26T07:41:10Z","reason":""}"#,
        );
        let err = decode(text.as_bytes()).expect_err("bad until_ts");
        assert_eq!(err.field(), Some("quarantine.until_ts"));
    }

    #[test]
    fn unknown_members_survive_encoding_byte_for_byte() {
        let unknown = r#"{"z":[1e400, -0.5, 123456789012345678901234567890], "s":"\u00e9"}"#;
        let text = with_member("from_newer_writer", unknown);
        let record = decode(text.as_bytes()).expect("valid");
        let encoded = String::from_utf8(encode(&record)).expect("utf-8");
        assert!(
            encoded.contains(&format!("\"from_newer_writer\":{unknown}")),
            "{encoded}"
        );
        assert_eq!(decode(encoded.as_bytes()), Ok(record));
    }

    #[test]
    fn booleans_are_not_integers() {
        let text = BASE.replace("\"wrapper_event_seq\":0", "\"wrapper_event_seq\":true");
        assert_eq!(
            decode(text.as_bytes()).expect_err("bool").field(),
            Some("wrapper_event_seq")
        );
    }

    #[test]
    fn deep_nesting_inside_a_valid_record_is_fine() {
        let depth = 400_000;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = with_member("deep", &nested);
        let record = decode(text.as_bytes()).expect("valid");
        assert_eq!(decode(&encode(&record)), Ok(record));
    }
}
