//! SPEC §5: the sleep-cycle bookkeeping, pure.
//!
//! Promises: each function is one operation of SPEC §5.2-§5.6 on a record
//! in memory at instant `now`: the new record, or why it is refused.
//!
//! Does not promise: locking, loading or saving; see [`crate::writer`].

use crate::record::Record;
use crate::timestamp::Ts;

/// The default quarantine length, 24 h (SPEC §5.4).
pub const DEFAULT_TTL_SECS: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `begin(0)` (§5.2.1).
    NoSteps,
    /// §5.2.2.
    Quarantined,
    /// §5.3.1, §5.4.1.
    NoCycle,
    /// §5.3.2, §5.4.1.
    WrongStep { expected: u64, got: u64 },
    /// now + ttl after year 9999 (§5.4.3).
    QuarantineOutOfRange,
}

pub fn begin(record: &Record, steps: u64, now: &Ts) -> Result<Record, Refusal> {
    todo!("{record:?} {steps} {now:?}")
}

pub fn step_done(record: &Record, step: u64) -> Result<Record, Refusal> {
    todo!("{record:?} {step}")
}

pub fn step_failed(
    record: &Record,
    step: u64,
    error: &str,
    now: &Ts,
    ttl_secs: u64,
) -> Result<Record, Refusal> {
    todo!("{record:?} {step} {error} {now:?} {ttl_secs}")
}

pub fn cycle_done(record: &Record) -> Record {
    todo!("{record:?}")
}

pub fn reset_quarantine(record: &Record) -> Record {
    todo!("{record:?}")
}
