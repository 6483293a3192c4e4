//! The record predicate of SPEC §1.
//!
//! Promises: [`decode`] returns `Ok` exactly when SPEC §1 calls the bytes a
//! valid record, and then the record they denote: known members checked as
//! `serde_json::Value` (integers by their literal text, SPEC §1.3), unknown
//! members kept as (name, raw text) in document order (§1.5). [`Record::is_valid`]
//! is the same predicate for a record built in memory (integer ranges, no
//! unknown member named like a known one or like another unknown member,
//! unknown raw texts that are single valid JSON values, serialized size).
//!
//! Does not promise: which class is reported when a file breaks several rules
//! at once; callers compare valid against corrupt, not reasons.

use crate::timestamp::Ts;

/// 2^53 − 1 (SPEC §1.3).
pub const MAX_INTEGER: u64 = 9_007_199_254_740_991;

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
    pub started_at: Option<Ts>,
    pub unknown: Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    pub until_ts: Ts,
    pub since_ts: Ts,
    pub reason: String,
    pub unknown: Unknown,
}

/// A record as SPEC §1.2 describes it. `==` compares known members by value
/// (timestamps by instant) and unknown members by name, order and raw text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub current_state: State,
    pub since_ts: Ts,
    pub last_activity_ts: Ts,
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

impl Record {
    /// SPEC §1.7 at instant `now`.
    pub fn default_at(now: &Ts) -> Record {
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
        todo!()
    }

    /// The serialized form of SPEC §3.2: compact JSON and one `\n`, known
    /// members in table order (absent nullable top-level members as `null`),
    /// then unknown members as their raw text.
    pub fn encode(&self) -> Vec<u8> {
        todo!()
    }

    /// SPEC §5.1: quarantine non-null and `now < until_ts`.
    pub fn is_quarantined(&self, now: &Ts) -> bool {
        self.quarantine.as_ref().is_some_and(|q| *now < q.until_ts)
    }
}

/// SPEC §1: the record the bytes hold, or why they hold none.
pub fn decode(bytes: &[u8]) -> Result<Record, Corrupt> {
    todo!("{}", bytes.len())
}
