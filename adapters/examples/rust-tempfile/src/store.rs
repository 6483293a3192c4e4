//! A `lifecycle_state.json` store (requirements.md §1-§3) on the `tempfile`
//! crate, written the way its users write an atomic replace: validate,
//! `serde_json::to_vec`, `DirBuilder` with mode 0o700, then
//! `NamedTempFile::new_in(dir)`, `write_all`, `sync_all`, `persist(path)`.

use std::fmt;
use std::fs::{self, DirBuilder};
use std::io::{self, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tempfile::NamedTempFile;

const STATES: [&str; 4] = ["WAKE", "DROWSY", "SLEEP", "HIBERNATION"];
const MAX_BYTES: usize = 1 << 20;
const MAX_COUNT: u64 = (1 << 53) - 1;

/// A record that breaks requirements.md §1; `field` is its dotted path.
#[derive(Debug)]
pub struct InvalidRecord {
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for InvalidRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for InvalidRecord {}

#[derive(Debug)]
pub enum SaveError {
    Invalid(InvalidRecord),
    Io(io::Error),
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::Invalid(e) => e.fmt(f),
            SaveError::Io(e) => e.fmt(f),
        }
    }
}

impl From<io::Error> for SaveError {
    fn from(e: io::Error) -> Self {
        SaveError::Io(e)
    }
}

fn invalid(field: &str, message: &str) -> InvalidRecord {
    InvalidRecord {
        field: (!field.is_empty()).then(|| field.to_owned()),
        message: message.to_owned(),
    }
}

fn is_timestamp(value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .is_some_and(|t| t.offset().local_minus_utc() == 0)
}

fn is_count(value: Option<&Value>) -> bool {
    value.and_then(Value::as_u64).is_some_and(|n| n <= MAX_COUNT)
}

/// Checks a record against requirements.md §1.
pub fn validate(record: &Value) -> Result<(), InvalidRecord> {
    let r = record
        .as_object()
        .ok_or_else(|| invalid("", "the record must be an object"))?;
    let state = r.get("current_state").and_then(Value::as_str);
    if !state.is_some_and(|s| STATES.contains(&s)) {
        return Err(invalid("current_state", "must be one of WAKE, DROWSY, SLEEP, HIBERNATION"));
    }
    for key in ["since_ts", "last_activity_ts"] {
        if !is_timestamp(r.get(key)) {
            return Err(invalid(key, "must be an RFC 3339 UTC timestamp"));
        }
    }
    if !is_count(r.get("wrapper_event_seq")) {
        return Err(invalid("wrapper_event_seq", "must be an integer in 0..2^53-1"));
    }
    if !r.get("shadow_run").is_some_and(Value::is_boolean) {
        return Err(invalid("shadow_run", "must be a boolean"));
    }
    match r.get("sleep_cycle_progress") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            for key in ["last_completed_step", "attempt"] {
                if p.contains_key(key) && !is_count(p.get(key)) {
                    return Err(invalid(
                        &format!("sleep_cycle_progress.{key}"),
                        "must be an integer in 0..2^53-1",
                    ));
                }
            }
            if !matches!(p.get("last_error"), None | Some(Value::Null | Value::String(_))) {
                return Err(invalid("sleep_cycle_progress.last_error", "must be a string or null"));
            }
            if p.contains_key("started_at") && !is_timestamp(p.get("started_at")) {
                return Err(invalid(
                    "sleep_cycle_progress.started_at",
                    "must be an RFC 3339 UTC timestamp",
                ));
            }
        }
        Some(_) => return Err(invalid("sleep_cycle_progress", "must be an object or null")),
    }
    match r.get("quarantine") {
        None | Some(Value::Null) => {}
        Some(Value::Object(q)) => {
            for key in ["until_ts", "since_ts"] {
                if !is_timestamp(q.get(key)) {
                    return Err(invalid(
                        &format!("quarantine.{key}"),
                        "must be an RFC 3339 UTC timestamp",
                    ));
                }
            }
            if !q.get("reason").is_some_and(Value::is_string) {
                return Err(invalid("quarantine.reason", "must be a string"));
            }
        }
        Some(_) => return Err(invalid("quarantine", "must be an object or null")),
    }
    Ok(())
}

/// The default record of requirements.md §1.
pub fn default_record() -> Value {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    json!({
        "current_state": "WAKE",
        "since_ts": now,
        "last_activity_ts": now,
        "wrapper_event_seq": 0,
        "sleep_cycle_progress": null,
        "quarantine": null,
        "shadow_run": false,
    })
}

/// What a load found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Valid,
    Missing,
    Corrupt,
    Unreadable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::Missing => "missing",
            Outcome::Corrupt => "corrupt",
            Outcome::Unreadable => "unreadable",
        }
    }
}

/// Never fails: the stored record when it is valid, else the default, with
/// what happened and why.
pub fn load(path: &Path) -> (Value, Outcome, String) {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return (default_record(), Outcome::Missing, e.to_string())
        }
        Err(e) => return (default_record(), Outcome::Unreadable, e.to_string()),
    };
    if bytes.len() > MAX_BYTES {
        return (default_record(), Outcome::Corrupt, "larger than 1 MiB".into());
    }
    let mut record: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return (default_record(), Outcome::Corrupt, e.to_string()),
    };
    if let Err(e) = validate(&record) {
        return (default_record(), Outcome::Corrupt, e.to_string());
    }
    let obj: &mut Map<String, Value> = record.as_object_mut().expect("validated");
    for key in ["sleep_cycle_progress", "quarantine"] {
        obj.entry(key).or_insert(Value::Null);
    }
    (record, Outcome::Valid, String::new())
}

/// Validates `record` and replaces `path` with it atomically.
pub fn save(path: &Path, record: &Value) -> Result<(), SaveError> {
    validate(record).map_err(SaveError::Invalid)?;
    let mut data = serde_json::to_vec(record).map_err(io::Error::from)?;
    data.push(b'\n');
    if data.len() > MAX_BYTES {
        return Err(SaveError::Invalid(invalid("", "the record is larger than 1 MiB")));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mut tmp = NamedTempFile::new_in(dir)?;
    tmp.write_all(&data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
