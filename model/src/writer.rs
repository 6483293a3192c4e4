//! One locked writer operation (SPEC §4.3, §4.4, §4.6, §5.1), pure.
//!
//! Promises: given what the record file held when the writer loaded it and
//! the operation, [`operate`] says what a conforming writer does: refuse
//! (and write nothing), or end with a record in force, whether it writes the
//! record file, and whether it must first preserve the corrupt bytes.
//!
//! Does not promise: the lock itself, file names of preserved copies, or
//! retention (SPEC §4.4.2); the property tests check those on the disk.

use crate::machine::{self, Event, Guards, Overflow, Shutdown};
use crate::record::Record;
use crate::sleep_cycle::{self, Refusal};
use crate::timestamp::Ts;

/// What the writer's load found (SPEC §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Valid(Record),
    Missing,
    /// Corrupt bytes; the writer continues from the default.
    Corrupt,
    /// Not readable: every writer fails and writes nothing (SPEC §4.4.4).
    Unreadable,
}

/// A writer operation (SPEC §4.3, §5, §7 `save`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriterOp {
    Dispatch {
        event: Event,
        guards: Guards,
        shadow_run: bool,
    },
    Begin(u64),
    StepDone(u64),
    StepFailed {
        step: u64,
        error: String,
        ttl_secs: u64,
    },
    CycleDone,
    ResetQuarantine,
    /// Save of a record the caller built (it must be valid: an invalid one is
    /// refused before the lock, SPEC §3.1, and never reaches a writer).
    Save(Record),
}

/// Why a writer operation failed without writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Unreadable,
    Overflow(Overflow),
    Refused(Refusal),
}

/// What a conforming writer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The record in force afterwards.
    pub record: Record,
    /// Whether the record file is written (SPEC §4.6).
    pub writes: bool,
    /// Whether the corrupt bytes are preserved first (SPEC §4.4.1).
    pub preserves: bool,
    /// SPEC §4.3 step 7 (dispatch only; `None` otherwise).
    pub shutdown: Shutdown,
}

/// SPEC §4.3 steps 2-7 and §5.1 for `op` at instant `now`.
pub fn operate(found: &Found, op: &WriterOp, now: &Ts) -> Result<Outcome, Failure> {
    let _ = (machine::next_state, sleep_cycle::cycle_done, Event::Tick, Guards::default());
    todo!("{found:?} {op:?} {now:?}")
}

impl From<Overflow> for Failure {
    fn from(o: Overflow) -> Failure {
        Failure::Overflow(o)
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Failure {
        Failure::Refused(r)
    }
}

#[allow(dead_code)]
fn _unused(_: Record) {}
