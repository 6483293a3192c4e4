//! Sleep-cycle bookkeeping of SPEC §5 as pure functions on a record.
//!
//! Promises: each function is one operation of SPEC §5 applied to a record in
//! memory at a given instant; it returns the new record or says why the
//! operation is refused. Unknown members of the progress object survive every
//! operation that keeps the object.
//!
//! Does not promise: persistence or locking; `store` wraps each operation in
//! one locked, atomic save.

use std::fmt;
use std::time::Duration;

use crate::record::{Progress, Quarantine, Record, MAX_INTEGER};
use crate::timestamp::Timestamp;

/// How long a quarantine lasts unless the caller says otherwise (SPEC §5).
pub const DEFAULT_QUARANTINE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Failures counted per step before the quarantine (SPEC §5).
pub const STRIKES: u64 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SleepCycleError {
    /// `begin(0)`: a cycle has at least one step.
    NoSteps,
    /// `begin` while a quarantine is in force.
    Quarantined { until: Timestamp },
    /// `step_done`/`step_failed` with no cycle in progress.
    NoCycle,
    /// The step is not the one after `last_completed_step`.
    WrongStep { expected: u64, got: u64 },
    /// `now + ttl` is past year 9999.
    QuarantineOutOfRange,
    /// `step_done(k)` with k past 2^53−1: no valid record can hold it.
    StepOutOfRange { step: u64 },
}

impl fmt::Display for SleepCycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SleepCycleError::NoSteps => write!(f, "a sleep cycle needs at least one step"),
            SleepCycleError::Quarantined { until } => {
                write!(f, "the sleep cycle is quarantined until {until}")
            }
            SleepCycleError::NoCycle => write!(f, "no sleep cycle is in progress"),
            SleepCycleError::WrongStep { expected, got } => {
                write!(f, "step {got} is out of order: the next step is {expected}")
            }
            SleepCycleError::StepOutOfRange { step } => {
                write!(
                    f,
                    "step {step} is larger than 2^53-1, the largest step a record holds"
                )
            }
            SleepCycleError::QuarantineOutOfRange => {
                write!(f, "the quarantine would end after year 9999")
            }
        }
    }
}

impl std::error::Error for SleepCycleError {}

fn fresh_progress(now: &Timestamp) -> Progress {
    Progress {
        last_completed_step: Some(0),
        attempt: Some(1),
        last_error: Some(None),
        started_at: Some(now.clone()),
        unknown: Vec::new(),
    }
}

/// `begin(N)`: start a cycle of `steps` steps, or resume the stored one.
pub fn begin(record: &Record, steps: u64, now: &Timestamp) -> Result<Record, SleepCycleError> {
    if steps == 0 {
        return Err(SleepCycleError::NoSteps);
    }
    if let Some(q) = &record.quarantine {
        if record.is_quarantined(now) {
            return Err(SleepCycleError::Quarantined {
                until: q.until_ts.clone(),
            });
        }
    }
    let mut next = record.clone();
    next.quarantine = None;
    let finished_or_none = next
        .sleep_cycle_progress
        .as_ref()
        .is_none_or(|p| p.last_completed_step.unwrap_or(0) >= steps);
    if finished_or_none {
        next.sleep_cycle_progress = Some(fresh_progress(now));
    }
    Ok(next)
}

/// The progress object and the step that must come next.
fn expect_step(record: &mut Record, step: u64) -> Result<&mut Progress, SleepCycleError> {
    let progress = record
        .sleep_cycle_progress
        .as_mut()
        .ok_or(SleepCycleError::NoCycle)?;
    let expected = progress.last_completed_step.unwrap_or(0) + 1;
    if step != expected {
        return Err(SleepCycleError::WrongStep {
            expected,
            got: step,
        });
    }
    Ok(progress)
}

/// `step_done(k)`.
pub fn step_done(record: &Record, step: u64) -> Result<Record, SleepCycleError> {
    let mut next = record.clone();
    let progress = expect_step(&mut next, step)?;
    if step > MAX_INTEGER {
        return Err(SleepCycleError::StepOutOfRange { step });
    }
    progress.last_completed_step = Some(step);
    progress.attempt = Some(1);
    progress.last_error = Some(None);
    Ok(next)
}

/// `step_failed(k, error)`: the third failure of a step quarantines the cycle.
pub fn step_failed(
    record: &Record,
    step: u64,
    error: &str,
    now: &Timestamp,
    ttl: Duration,
) -> Result<Record, SleepCycleError> {
    let mut next = record.clone();
    let progress = expect_step(&mut next, step)?;
    progress.last_error = Some(Some(error.to_string()));
    let attempt = progress.attempt.unwrap_or(1);
    if attempt >= STRIKES {
        progress.attempt = Some(1);
        let until_ts = now
            .checked_add(ttl)
            .ok_or(SleepCycleError::QuarantineOutOfRange)?;
        next.quarantine = Some(Quarantine {
            until_ts,
            since_ts: now.clone(),
            reason: format!("sleep step {step} failed {STRIKES}x: {error}"),
            unknown: Vec::new(),
        });
    } else {
        progress.attempt = Some(attempt + 1);
    }
    Ok(next)
}

/// `cycle_done()`.
pub fn cycle_done(record: &Record) -> Record {
    let mut next = record.clone();
    next.sleep_cycle_progress = None;
    next
}

/// `reset_quarantine()`: lifts the quarantine and restarts the attempt count.
pub fn reset_quarantine(record: &Record) -> Record {
    let mut next = record.clone();
    next.quarantine = None;
    if let Some(progress) = next.sleep_cycle_progress.as_mut() {
        progress.attempt = Some(1);
    }
    next
}
