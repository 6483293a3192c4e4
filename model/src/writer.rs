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
use crate::timestamp::Timestamp;

/// What the record path holds, as a writer's load finds it (SPEC §2.1).
// Boxing the record would change the public shape tests build; the size
// does not matter for a model.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, Eq)]
pub enum Found {
    Valid(Record),
    Missing,
    /// These corrupt bytes; the writer preserves them and continues from
    /// the default.
    Corrupt(Vec<u8>),
    /// Not readable (a directory, say): every writer fails and writes
    /// nothing (SPEC §4.4.4).
    Unreadable,
}

/// The outcome of a load (SPEC §2.1), without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LoadKind {
    Valid,
    Missing,
    Corrupt,
    Unreadable,
}

impl LoadKind {
    /// The word SPEC §2.1 and §7.1 use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadKind::Valid => "valid",
            LoadKind::Missing => "missing",
            LoadKind::Corrupt => "corrupt",
            LoadKind::Unreadable => "unreadable",
        }
    }
}

impl Found {
    /// What a regular file holding `bytes` is (SPEC §1).
    pub fn of_bytes(bytes: &[u8]) -> Found {
        match crate::record::decode(bytes) {
            Ok(record) => Found::Valid(record),
            Err(_) => Found::Corrupt(bytes.to_vec()),
        }
    }

    pub fn kind(&self) -> LoadKind {
        match self {
            Found::Valid(_) => LoadKind::Valid,
            Found::Missing => LoadKind::Missing,
            Found::Corrupt(_) => LoadKind::Corrupt,
            Found::Unreadable => LoadKind::Unreadable,
        }
    }

    /// The stored record, when the file holds a valid one.
    pub fn record(&self) -> Option<&Record> {
        match self {
            Found::Valid(record) => Some(record),
            _ => None,
        }
    }

    /// SPEC §2.1: what load returns at `now`: the stored record when
    /// valid, otherwise the default.
    pub fn loaded(&self, now: &Timestamp) -> Record {
        self.record()
            .cloned()
            .unwrap_or_else(|| Record::default_at(now))
    }
}

impl std::fmt::Debug for Found {
    // Corrupt files may be megabytes; a report needs their size and head.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Valid(r) => write!(f, "Valid({r:?})"),
            Found::Missing => write!(f, "Missing"),
            Found::Corrupt(bytes) => {
                const SHOWN: usize = 96;
                let head = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN)]);
                let more = if bytes.len() > SHOWN { "…" } else { "" };
                write!(f, "Corrupt({} bytes: {head:?}{more})", bytes.len())
            }
            Found::Unreadable => write!(f, "Unreadable"),
        }
    }
}

/// A writer operation (SPEC §4.3, §5, §7 `save`).
#[allow(clippy::large_enum_variant)]
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
    pub wrote: bool,
    /// Whether the corrupt bytes are preserved first (SPEC §4.4.1).
    pub preserved: bool,
    /// SPEC §4.3 step 7 (dispatch only; `None` otherwise).
    pub shutdown: Shutdown,
}

/// SPEC §4.3 steps 2-7 and §5.1 for `op` at instant `now`.
pub fn operate(found: &Found, op: &WriterOp, now: &Timestamp) -> Result<Outcome, Failure> {
    // `on_disk` is what §4.6 compares against; `None` means always write.
    let (start, on_disk) = match found {
        Found::Unreadable => return Err(Failure::Unreadable),
        Found::Valid(record) => (record.clone(), Some(record.clone())),
        Found::Missing => (Record::default_at(now), Some(Record::default_at(now))),
        Found::Corrupt(_) => (Record::default_at(now), None),
    };
    let (record, shutdown) = apply(&start, op, now)?;
    // SPEC §4.6: "changed" is a different serialized form. Timestamps keep
    // their spelling there, so `Timestamp` equality (by instant) would miss a
    // respelled one.
    let wrote = on_disk.is_none_or(|old| !same_serialized_form(&old, &record));
    Ok(Outcome {
        // Preservation happens only for a write, and a corrupt file that
        // gets this far is always written (§4.4.1, §4.6).
        preserved: wrote && matches!(found, Found::Corrupt(_)),
        wrote,
        record,
        shutdown,
    })
}

/// `a.encode() == b.encode()`, without encoding when the answer shows
/// sooner: the form opens with `current_state`, `since_ts`,
/// `last_activity_ts` and `wrapper_event_seq` at fixed places, each
/// delimited (a quoted, escaped string; digits then a comma), so forms
/// differing there differ; and records equal member by member, timestamps
/// by their text, have one form.
pub fn same_serialized_form(a: &Record, b: &Record) -> bool {
    if a.current_state != b.current_state
        || a.wrapper_event_seq != b.wrapper_event_seq
        || a.since_ts.as_str() != b.since_ts.as_str()
        || a.last_activity_ts.as_str() != b.last_activity_ts.as_str()
    {
        return false;
    }
    if a == b && same_spelling(a, b) {
        return true;
    }
    a.encode() == b.encode()
}

/// For records equal by value (`==`, timestamps by instant): whether every
/// timestamp is also spelled the same.
fn same_spelling(a: &Record, b: &Record) -> bool {
    let progress = match (&a.sleep_cycle_progress, &b.sleep_cycle_progress) {
        (Some(p), Some(q)) => match (&p.started_at, &q.started_at) {
            (Some(x), Some(y)) => x.as_str() == y.as_str(),
            (x, y) => x.is_none() && y.is_none(),
        },
        (p, q) => p.is_none() && q.is_none(),
    };
    let quarantine = match (&a.quarantine, &b.quarantine) {
        (Some(p), Some(q)) => {
            p.until_ts.as_str() == q.until_ts.as_str() && p.since_ts.as_str() == q.since_ts.as_str()
        }
        (p, q) => p.is_none() && q.is_none(),
    };
    a.since_ts.as_str() == b.since_ts.as_str()
        && a.last_activity_ts.as_str() == b.last_activity_ts.as_str()
        && progress
        && quarantine
}

/// The record `op` makes from `record`, or why it is refused.
fn apply(record: &Record, op: &WriterOp, now: &Timestamp) -> Result<(Record, Shutdown), Failure> {
    let record = match op {
        WriterOp::Dispatch {
            event,
            guards,
            shadow_run,
        } => {
            let d = machine::dispatch(record, *event, *guards, *shadow_run, now)?;
            return Ok((d.record, d.shutdown));
        }
        WriterOp::Begin(steps) => sleep_cycle::begin(record, *steps, now)?,
        WriterOp::StepDone(step) => sleep_cycle::step_done(record, *step)?,
        WriterOp::StepFailed {
            step,
            error,
            ttl_secs,
        } => sleep_cycle::step_failed(record, *step, error, now, *ttl_secs)?,
        WriterOp::CycleDone => sleep_cycle::cycle_done(record),
        WriterOp::ResetQuarantine => sleep_cycle::reset_quarantine(record),
        WriterOp::Save(new) => new.clone(),
    };
    Ok((record, Shutdown::None))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::State;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text} is a timestamp"))
    }

    fn then() -> Timestamp {
        ts("2024-01-01T00:00:00Z")
    }

    fn now() -> Timestamp {
        ts("2024-01-02T00:00:00Z")
    }

    fn dispatch(event: Event) -> WriterOp {
        WriterOp::Dispatch {
            event,
            guards: Guards {
                sleep_eligible: true,
                still_idle: true,
            },
            shadow_run: false,
        }
    }

    fn stored() -> Record {
        Record::default_at(&then())
    }

    #[test]
    fn the_form_is_compared_as_encoding_compares_it() {
        use crate::record::{Progress, Quarantine};
        let base = stored();
        let mut records = vec![base.clone()];
        let mut vary = |f: &dyn Fn(&mut Record)| {
            let mut r = base.clone();
            f(&mut r);
            records.push(r);
        };
        vary(&|r| r.current_state = State::Sleep);
        vary(&|r| r.since_ts = ts("2024-01-01T00:00:00+00:00"));
        vary(&|r| r.last_activity_ts = ts("2024-01-01T00:00:00.000Z"));
        vary(&|r| r.last_activity_ts = now());
        vary(&|r| r.wrapper_event_seq = 10);
        vary(&|r| r.wrapper_event_seq = 1);
        vary(&|r| r.shadow_run = true);
        vary(&|r| r.unknown = vec![("x".into(), "1".into())]);
        vary(&|r| r.unknown = vec![("x".into(), "1.0".into())]);
        // Invalid records whose forms agree although their members differ.
        vary(&|r| r.unknown = vec![("shadow_run".into(), "false".into())]);
        vary(&|r| {
            r.sleep_cycle_progress = Some(Progress {
                attempt: Some(5),
                ..Progress::default()
            })
        });
        vary(&|r| {
            r.sleep_cycle_progress = Some(Progress {
                unknown: vec![("attempt".into(), "5".into())],
                ..Progress::default()
            })
        });
        vary(&|r| {
            r.sleep_cycle_progress = Some(Progress {
                started_at: Some(ts("2024-01-01T00:00:00+00:00")),
                ..Progress::default()
            })
        });
        vary(&|r| {
            r.sleep_cycle_progress = Some(Progress {
                started_at: Some(then()),
                ..Progress::default()
            })
        });
        for (until, since) in [
            ("2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z"),
            ("2024-01-02T00:00:00+00:00", "2024-01-01T00:00:00Z"),
            ("2024-01-02T00:00:00Z", "2024-01-01T00:00:00+00:00"),
        ] {
            vary(&|r| {
                r.quarantine = Some(Quarantine {
                    until_ts: ts(until),
                    since_ts: ts(since),
                    reason: "r".into(),
                    unknown: Vec::new(),
                })
            });
        }
        for a in &records {
            for b in &records {
                assert_eq!(
                    same_serialized_form(a, b),
                    a.encode() == b.encode(),
                    "{a:?} against {b:?}"
                );
            }
        }
    }

    #[test]
    fn unreadable_fails_every_operation() {
        let ops = [
            dispatch(Event::Tick),
            WriterOp::CycleDone,
            WriterOp::Save(stored()),
        ];
        for op in ops {
            assert_eq!(
                operate(&Found::Unreadable, &op, &now()),
                Err(Failure::Unreadable)
            );
        }
    }

    #[test]
    fn valid_no_op_writes_nothing() {
        let got = operate(&Found::Valid(stored()), &dispatch(Event::Tick), &now()).expect("ok");
        assert_eq!((got.wrote, got.preserved), (false, false));
        assert_eq!(got.record, stored());
    }

    #[test]
    fn valid_change_writes_without_preserving() {
        let got = operate(&Found::Valid(stored()), &dispatch(Event::Idle5Min), &now()).expect("ok");
        assert_eq!((got.wrote, got.preserved), (true, false));
        assert_eq!(got.record.current_state, State::Drowsy);
    }

    #[test]
    fn missing_no_op_writes_nothing_and_keeps_the_default() {
        let got = operate(&Found::Missing, &dispatch(Event::Tick), &now()).expect("ok");
        assert!(!got.wrote);
        assert_eq!(got.record, Record::default_at(&now()));
    }

    #[test]
    fn missing_change_writes() {
        let got = operate(&Found::Missing, &dispatch(Event::HeartbeatRefresh), &now()).expect("ok");
        assert_eq!((got.wrote, got.preserved), (true, false));
        assert_eq!(got.record.wrapper_event_seq, 1);
    }

    #[test]
    fn corrupt_no_op_still_writes_the_default_and_preserves() {
        let got = operate(
            &Found::Corrupt(b"x".to_vec()),
            &dispatch(Event::Tick),
            &now(),
        )
        .expect("ok");
        assert_eq!((got.wrote, got.preserved), (true, true));
        assert_eq!(got.record, Record::default_at(&now()));
    }

    #[test]
    fn corrupt_with_cycle_done_on_null_progress_still_writes() {
        let got =
            operate(&Found::Corrupt(b"x".to_vec()), &WriterOp::CycleDone, &now()).expect("ok");
        assert_eq!((got.wrote, got.preserved), (true, true));
    }

    #[test]
    fn refusal_on_a_corrupt_file_preserves_and_writes_nothing() {
        assert_eq!(
            operate(
                &Found::Corrupt(b"x".to_vec()),
                &WriterOp::StepDone(1),
                &now()
            ),
            Err(Failure::Refused(Refusal::NoCycle))
        );
    }

    #[test]
    fn overflow_is_a_failure() {
        let mut r = stored();
        r.wrapper_event_seq = crate::spec::MAX_INTEGER;
        let got = operate(&Found::Valid(r), &dispatch(Event::WakeSignal), &now());
        assert_eq!(got, Err(Failure::Overflow(Overflow)));
    }

    #[test]
    fn entering_hibernation_signals_shutdown() {
        let mut r = stored();
        r.current_state = State::Sleep;
        let got = operate(&Found::Valid(r), &dispatch(Event::SleepCycleDone), &now()).expect("ok");
        assert!(got.wrote);
        assert_eq!(got.shutdown, Shutdown::Requested);
    }

    #[test]
    fn sleep_operations_never_signal_shutdown() {
        let got = operate(&Found::Missing, &WriterOp::Begin(2), &now()).expect("ok");
        assert_eq!(got.shutdown, Shutdown::None);
        assert!(got.wrote);
    }

    #[test]
    fn begin_zero_is_refused_by_the_writer() {
        let got = operate(&Found::Valid(stored()), &WriterOp::Begin(0), &now());
        assert_eq!(got, Err(Failure::Refused(Refusal::NoSteps)));
    }

    #[test]
    fn step_failed_reaches_the_sleep_cycle_rules() {
        let op = WriterOp::StepFailed {
            step: 1,
            error: "e".to_string(),
            ttl_secs: 60,
        };
        let got = operate(&Found::Valid(stored()), &op, &now());
        assert_eq!(got, Err(Failure::Refused(Refusal::NoCycle)));
    }

    #[test]
    fn reset_quarantine_without_quarantine_writes_nothing() {
        let got = operate(&Found::Valid(stored()), &WriterOp::ResetQuarantine, &now()).expect("ok");
        assert!(!got.wrote);
    }

    #[test]
    fn save_of_the_stored_record_writes_nothing() {
        let got = operate(&Found::Valid(stored()), &WriterOp::Save(stored()), &now()).expect("ok");
        assert!(!got.wrote);
    }

    #[test]
    fn save_of_an_equal_instant_with_other_spelling_writes_it() {
        let mut respelled = stored();
        respelled.since_ts = ts("2024-01-01T00:00:00.000+00:00");
        let got = operate(&Found::Valid(stored()), &WriterOp::Save(respelled), &now()).expect("ok");
        assert!(got.wrote, "SPEC §4.6: the serialized form changed");
    }

    #[test]
    fn save_of_the_same_record_writes_nothing() {
        let got = operate(&Found::Valid(stored()), &WriterOp::Save(stored()), &now()).expect("ok");
        assert!(!got.wrote);
    }

    #[test]
    fn save_of_a_different_record_writes_it() {
        let mut new = stored();
        new.unknown.push(("x".to_string(), "1".to_string()));
        let got = operate(
            &Found::Valid(stored()),
            &WriterOp::Save(new.clone()),
            &now(),
        )
        .expect("ok");
        assert!(got.wrote);
        assert_eq!(got.record, new);
    }

    #[test]
    fn save_on_a_missing_file_equal_to_the_default_writes_nothing() {
        let op = WriterOp::Save(Record::default_at(&now()));
        assert!(!operate(&Found::Missing, &op, &now()).expect("ok").wrote);
    }

    #[test]
    fn save_on_a_corrupt_file_writes_and_preserves() {
        let op = WriterOp::Save(Record::default_at(&now()));
        let got = operate(&Found::Corrupt(b"x".to_vec()), &op, &now()).expect("ok");
        assert_eq!((got.wrote, got.preserved), (true, true));
    }
}
