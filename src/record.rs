//! The typed record of SPEC §1.
//!
//! Promises: every field has the type SPEC §1.2 gives it; timestamps and raw
//! JSON values are valid by construction; unknown members are kept as their
//! original JSON text, in order, at the top level and inside both nested
//! objects; [`Record::validate`] checks the rules the types cannot express
//! (integer ranges, member names) and names the offending field.
//!
//! Does not promise: anything about files. Reading and writing bytes is
//! `codec`, reading and writing files is `store`.

use std::fmt;

use crate::json;
use crate::timestamp::Timestamp;

/// 2^53 − 1: the largest integer every JSON reader represents exactly.
pub const MAX_INTEGER: u64 = (1 << 53) - 1;

/// The four lifecycle states of SPEC §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Wake,
    Drowsy,
    Sleep,
    Hibernation,
}

impl State {
    pub const ALL: [State; 4] = [State::Wake, State::Drowsy, State::Sleep, State::Hibernation];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Wake => "WAKE",
            State::Drowsy => "DROWSY",
            State::Sleep => "SLEEP",
            State::Hibernation => "HIBERNATION",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text of one well-formed JSON value, kept exactly as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawJson(String);

impl RawJson {
    /// Accepts `text` when it is exactly one JSON value by the rules of
    /// SPEC §1.1 (no duplicate names, no unpaired surrogates, any depth).
    pub fn parse(text: &str) -> Result<RawJson, json::SyntaxError> {
        json::validate(text)?;
        Ok(RawJson(
            text.trim_matches([' ', '\t', '\n', '\r']).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Built from a slice the reader already validated.
    pub(crate) fn from_validated(text: &str) -> RawJson {
        RawJson(text.to_string())
    }
}

/// Members the record does not know, in document order.
pub type UnknownMembers = Vec<(String, RawJson)>;

/// `sleep_cycle_progress` (SPEC §1.2): every member optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Progress {
    pub last_completed_step: Option<u64>,
    pub attempt: Option<u64>,
    /// Absent (`None`), `null` (`Some(None)`) or a message.
    pub last_error: Option<Option<String>>,
    pub started_at: Option<Timestamp>,
    pub unknown: UnknownMembers,
}

/// `quarantine` (SPEC §1.2): all three members required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    pub until_ts: Timestamp,
    pub since_ts: Timestamp,
    pub reason: String,
    pub unknown: UnknownMembers,
}

/// The whole record of `lifecycle_state.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub current_state: State,
    pub since_ts: Timestamp,
    pub last_activity_ts: Timestamp,
    pub wrapper_event_seq: u64,
    pub sleep_cycle_progress: Option<Progress>,
    pub quarantine: Option<Quarantine>,
    pub shadow_run: bool,
    pub unknown: UnknownMembers,
}

pub(crate) const TOP_LEVEL_NAMES: [&str; 7] = [
    "current_state",
    "since_ts",
    "last_activity_ts",
    "wrapper_event_seq",
    "sleep_cycle_progress",
    "quarantine",
    "shadow_run",
];
pub(crate) const PROGRESS_NAMES: [&str; 4] =
    ["last_completed_step", "attempt", "last_error", "started_at"];
pub(crate) const QUARANTINE_NAMES: [&str; 3] = ["until_ts", "since_ts", "reason"];

/// A record that breaks SPEC §1, and the field that breaks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecord {
    /// Dotted path of the field, e.g. `quarantine.until_ts`.
    pub field: String,
    pub reason: String,
}

impl InvalidRecord {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidRecord {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for InvalidRecord {}

impl Record {
    /// The default record of SPEC §1.7 at instant `now`.
    pub fn default_at(now: Timestamp) -> Record {
        Record {
            current_state: State::Wake,
            since_ts: now.clone(),
            last_activity_ts: now,
            wrapper_event_seq: 0,
            sleep_cycle_progress: None,
            quarantine: None,
            shadow_run: false,
            unknown: Vec::new(),
        }
    }

    /// Checks what the types leave open: integer ranges and member names.
    pub fn validate(&self) -> Result<(), InvalidRecord> {
        check_integer("wrapper_event_seq", self.wrapper_event_seq)?;
        check_unknown_names("", &TOP_LEVEL_NAMES, &self.unknown)?;
        if let Some(progress) = &self.sleep_cycle_progress {
            for (name, value) in [
                ("last_completed_step", progress.last_completed_step),
                ("attempt", progress.attempt),
            ] {
                if let Some(n) = value {
                    check_integer(&format!("sleep_cycle_progress.{name}"), n)?;
                }
            }
            check_unknown_names("sleep_cycle_progress.", &PROGRESS_NAMES, &progress.unknown)?;
        }
        if let Some(quarantine) = &self.quarantine {
            check_unknown_names("quarantine.", &QUARANTINE_NAMES, &quarantine.unknown)?;
        }
        Ok(())
    }

    /// True when a quarantine is present and `now` is before its `until_ts`.
    pub fn is_quarantined(&self, now: &Timestamp) -> bool {
        self.quarantine
            .as_ref()
            .is_some_and(|q| now.cmp_instant(&q.until_ts).is_lt())
    }
}

fn check_integer(field: &str, n: u64) -> Result<(), InvalidRecord> {
    if n > MAX_INTEGER {
        return Err(InvalidRecord::new(
            field,
            format!("{n} is larger than 2^53-1 ({MAX_INTEGER})"),
        ));
    }
    Ok(())
}

fn check_unknown_names(
    prefix: &str,
    known: &[&str],
    unknown: &UnknownMembers,
) -> Result<(), InvalidRecord> {
    let mut seen = std::collections::HashSet::new();
    for (name, _) in unknown {
        if known.contains(&name.as_str()) {
            return Err(InvalidRecord::new(
                format!("{prefix}{name}"),
                "an unknown member may not reuse a known member's name",
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(InvalidRecord::new(
                format!("{prefix}{name}"),
                "duplicate member name",
            ));
        }
    }
    Ok(())
}
