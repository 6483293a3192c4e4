//! `transitions`: a script of writer operations, clock steps and outside
//! changes to the file, run by the store on [`SimFs`] and by the model's
//! `writer::operate`, compared after every step.
//!
//! Promises to check, after every writer step (dispatch, the five
//! sleep-cycle operations, save): both succeed or both fail with the same
//! error (`Overflow`, `NoSteps`, `Quarantined`, `NoCycle`,
//! `WrongStep{expected, got}`, `StepOutOfRange`, `QuarantineOutOfRange`); on success the
//! store's `wrote` is the model's `writes` (SPEC §4.6: a different
//! serialized form), the record in force is the model's, the corrupt file
//! was preserved exactly when the model says so and the copy holds its
//! bytes, at most five copies are kept, and a dispatch reports the model's
//! state and shutdown signal; the file then holds the record's serialized
//! form when written and is unchanged otherwise; a failed step changes
//! nothing but the lock file. After every step of any kind, load agrees
//! with the model's predicate on the file (as in `load_bytes`).
//!
//! Does not check: I/O faults, crashes (`crash_schedule` does), locking
//! between writers, or the names of preserved copies beyond their prefix.

use std::time::Duration;

use lifecycle_model::persistence::Disk;
use lifecycle_model::sleep_cycle::Refusal;
use lifecycle_model::writer::{self, Failure, Found as ModelFound, Outcome, WriterOp};
use lifecycle_model::{Guards as ModelGuards, Timestamp};
use lifecycle_state::sleep_cycle::SleepCycleError;
use lifecycle_state::store::Found;
use lifecycle_state::{
    Clock, Event, Guards, ManualClock, Options, Record, SaveError, Shutdown, State, Store,
    StoreError, Updated,
};
use lifecycle_testkit::SimFs;

use crate::bridge;
use crate::input::{Reader, Shape, Writer};
use crate::json_doc::Doc;
use crate::record_spec::{timestamp, RecordSpec, Text, TsSpec, MAX_INTEGER};
use crate::report::excerpt;
use crate::world::{self, file, model_now, LOCK, RECORD};

// -------------------------------------------------------------------- script

/// What the record path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Missing,
    Record(RecordSpec),
    /// Any bytes, usually a near-valid record (valid or corrupt).
    File(Doc),
}

impl Shape for Start {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(3) {
            0 => Start::Missing,
            1 => Start::Record(r.read()),
            _ => Start::File(r.read()),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Start::Missing => w.below(0, 3),
            Start::Record(spec) => {
                w.below(1, 3);
                w.write(spec);
            }
            Start::File(doc) => {
                w.below(2, 3);
                w.write(doc);
            }
        }
    }
}

/// A step number, mostly relative to the stored progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepNo {
    /// `last_completed_step + 1`: the step that is due.
    Next,
    /// `last_completed_step`.
    Last,
    Small(u8),
    /// 2^53 − 1, 2^53, `u64::MAX`.
    Huge(u8),
}

const HUGE: [u64; 3] = [MAX_INTEGER, MAX_INTEGER + 1, u64::MAX];

impl Shape for StepNo {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(8) {
            0..=3 => StepNo::Next,
            4 => StepNo::Last,
            5 | 6 => StepNo::Small(r.below(8) as u8),
            _ => StepNo::Huge(r.below(HUGE.len()) as u8),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            StepNo::Next => w.below(0, 8),
            StepNo::Last => w.below(4, 8),
            StepNo::Small(n) => {
                w.below(5, 8);
                w.below(usize::from(*n), 8);
            }
            StepNo::Huge(i) => {
                w.below(7, 8);
                w.below(usize::from(*i), HUGE.len());
            }
        }
    }
}

impl StepNo {
    fn resolve(self, last_completed: u64) -> u64 {
        match self {
            StepNo::Next => last_completed.saturating_add(1),
            StepNo::Last => last_completed,
            StepNo::Small(n) => u64::from(n),
            StepNo::Huge(i) => HUGE[usize::from(i)],
        }
    }
}

/// Quarantine lengths, seconds: none, short, the default, past year 9999.
pub const TTLS: [u64; 9] = [
    0,
    1,
    59,
    3_600,
    86_400,
    86_400,
    31_536_000,
    315_360_000_000,
    u64::MAX,
];

/// Clock steps, microseconds.
pub const ADVANCES: [u64; 10] = [
    0,
    1,
    1_000_000,
    59_000_000,
    3_600_000_000,
    86_399_000_000,
    86_400_000_000,
    86_400_000_001,
    31_536_000_000_000,
    31_536_000_000_000_000,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Dispatch {
        event: Event,
        sleep_eligible: bool,
        still_idle: bool,
        shadow_run: bool,
    },
    Begin(StepNo),
    StepDone(StepNo),
    StepFailed {
        step: StepNo,
        error: Text,
        ttl_secs: u64,
    },
    CycleDone,
    ResetQuarantine,
    Save(RecordSpec),
    /// Saves the stored record with one timestamp respelled (`Z` ⇄
    /// `+00:00`, or one more fraction digit): same instant, new text.
    Respell(u8),
    /// Moves the clock by one of [`ADVANCES`].
    Advance(u64),
    SetClock(TsSpec),
    /// Something else rewrites (or removes) the file between operations.
    Replace(Start),
}

const STEP_TAGS: [u8; 21] = [
    0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10,
];

impl Shape for Step {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick(&STEP_TAGS) {
            0 => Step::Dispatch {
                event: r.pick(&Event::ALL),
                sleep_eligible: r.flag(),
                still_idle: r.flag(),
                shadow_run: r.flag(),
            },
            1 => Step::Begin(r.read()),
            2 => Step::StepDone(r.read()),
            3 => Step::StepFailed {
                step: r.read(),
                error: r.read(),
                ttl_secs: r.pick(&TTLS),
            },
            4 => Step::CycleDone,
            5 => Step::ResetQuarantine,
            6 => Step::Save(r.read()),
            7 => Step::Respell(r.byte()),
            8 => Step::Advance(r.pick(&ADVANCES)),
            9 => Step::SetClock(r.read()),
            _ => Step::Replace(r.read()),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Step::Dispatch {
                event,
                sleep_eligible,
                still_idle,
                shadow_run,
            } => {
                w.pick(&STEP_TAGS, &0);
                w.pick(&Event::ALL, event);
                w.flag(*sleep_eligible);
                w.flag(*still_idle);
                w.flag(*shadow_run);
            }
            Step::Begin(n) => {
                w.pick(&STEP_TAGS, &1);
                w.write(n);
            }
            Step::StepDone(n) => {
                w.pick(&STEP_TAGS, &2);
                w.write(n);
            }
            Step::StepFailed {
                step,
                error,
                ttl_secs,
            } => {
                w.pick(&STEP_TAGS, &3);
                w.write(step);
                w.write(error);
                w.pick(&TTLS, ttl_secs);
            }
            Step::CycleDone => w.pick(&STEP_TAGS, &4),
            Step::ResetQuarantine => w.pick(&STEP_TAGS, &5),
            Step::Save(spec) => {
                w.pick(&STEP_TAGS, &6);
                w.write(spec);
            }
            Step::Respell(i) => {
                w.pick(&STEP_TAGS, &7);
                w.byte(*i);
            }
            Step::Advance(micros) => {
                w.pick(&STEP_TAGS, &8);
                w.pick(&ADVANCES, micros);
            }
            Step::SetClock(ts) => {
                w.pick(&STEP_TAGS, &9);
                w.write(ts);
            }
            Step::Replace(start) => {
                w.pick(&STEP_TAGS, &10);
                w.write(start);
            }
        }
    }
}

/// The whole input: what the file holds, then up to 24 steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub start: Start,
    pub steps: Vec<Step>,
}

impl Shape for Script {
    fn read(r: &mut Reader<'_>) -> Self {
        Script {
            start: r.read(),
            steps: r.list(24),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.start);
        w.list(&self.steps, 24);
    }
}

// -------------------------------------------------------------------- target

pub fn transitions(data: &[u8]) {
    let script = Script::from_bytes(data);
    let world = World {
        fs: SimFs::new(),
        clock: world::clock(),
    };
    world.fs.put_dir(world::DIR, 0o700);
    world.replace(&script.start);
    world.check_load();
    for step in &script.steps {
        world.run(step);
        world.check_load();
    }
}

struct World {
    fs: SimFs,
    clock: ManualClock,
}

/// One writer operation with its arguments resolved.
// Lives for one step; boxing the record would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Call {
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
    Save(Record),
}

/// What a dispatch reports beyond the update.
type Transition = Option<(State, State, Shutdown)>;

impl World {
    fn store(&self, options: Options) -> Store<SimFs, &ManualClock> {
        Store::new(self.fs.clone(), &self.clock, RECORD, options)
    }

    fn replace(&self, start: &Start) {
        match start {
            Start::Missing => self.fs.remove(RECORD),
            Start::Record(spec) => {
                self.fs
                    .put_file(RECORD, &lifecycle_state::encode(&spec.build()), 0o600)
            }
            Start::File(doc) => self.fs.put_file(RECORD, &doc.render(), 0o600),
        }
    }

    /// The record the next writer starts from, as the model reads the file.
    fn found(&self, disk: &Disk) -> ModelFound {
        match file(disk, RECORD) {
            None => ModelFound::Missing,
            Some(bytes) => match lifecycle_model::record::decode(bytes) {
                Ok(record) => ModelFound::Valid(record),
                Err(_) => ModelFound::Corrupt,
            },
        }
    }

    fn run(&self, step: &Step) {
        let disk = self.fs.disk();
        let found = self.found(&disk);
        let last_completed = match &found {
            ModelFound::Valid(r) => r
                .sleep_cycle_progress
                .as_ref()
                .map_or(0, |p| p.last_completed_step.unwrap_or(0)),
            _ => 0,
        };
        let call = match step {
            Step::Advance(micros) => return self.clock.advance(Duration::from_micros(*micros)),
            Step::SetClock(ts) => return self.clock.set(&ts.build()),
            Step::Replace(start) => return self.replace(start),
            Step::Dispatch {
                event,
                sleep_eligible,
                still_idle,
                shadow_run,
            } => Call::Dispatch {
                event: *event,
                guards: Guards {
                    sleep_eligible: *sleep_eligible,
                    still_idle: *still_idle,
                },
                shadow_run: *shadow_run,
            },
            Step::Begin(n) => Call::Begin(n.resolve(last_completed)),
            Step::StepDone(n) => Call::StepDone(n.resolve(last_completed)),
            Step::StepFailed {
                step,
                error,
                ttl_secs,
            } => Call::StepFailed {
                step: step.resolve(last_completed),
                error: error.build(),
                ttl_secs: *ttl_secs,
            },
            Step::CycleDone => Call::CycleDone,
            Step::ResetQuarantine => Call::ResetQuarantine,
            Step::Save(spec) => Call::Save(spec.build()),
            Step::Respell(which) => match self.respelled(&disk, *which) {
                Some(record) => Call::Save(record),
                None => return,
            },
        };
        self.compare(&call, found, &disk);
    }

    /// The stored record with one of its timestamps respelled, if the file
    /// holds a valid record.
    fn respelled(&self, disk: &Disk, which: u8) -> Option<Record> {
        let mut record = lifecycle_state::decode(file(disk, RECORD)?).ok()?;
        let mut stamps = vec![&mut record.since_ts, &mut record.last_activity_ts];
        if let Some(p) = record.sleep_cycle_progress.as_mut() {
            stamps.extend(p.started_at.as_mut());
        }
        if let Some(q) = record.quarantine.as_mut() {
            stamps.push(&mut q.until_ts);
            stamps.push(&mut q.since_ts);
        }
        let count = stamps.len();
        let ts = stamps.swap_remove(usize::from(which) % count);
        *ts = timestamp(&respell(ts.as_str(), which >= 128));
        Some(record)
    }

    fn call_store(&self, call: &Call) -> Result<(Updated, Transition), StoreError> {
        let options = |shadow_run, ttl_secs| Options {
            shadow_run,
            quarantine_ttl: Duration::from_secs(ttl_secs),
        };
        let plain = || self.store(Options::default());
        let updated = match call {
            Call::Dispatch {
                event,
                guards,
                shadow_run,
            } => {
                let d = self
                    .store(options(*shadow_run, 0))
                    .dispatch(*event, *guards)?;
                return Ok((d.update, Some((d.from, d.to, d.shutdown))));
            }
            Call::Begin(n) => plain().begin_sleep_cycle(*n),
            Call::StepDone(k) => plain().step_done(*k),
            Call::StepFailed {
                step,
                error,
                ttl_secs,
            } => self
                .store(options(false, *ttl_secs))
                .step_failed(*step, error),
            Call::CycleDone => plain().cycle_done(),
            Call::ResetQuarantine => plain().reset_quarantine(),
            Call::Save(record) => plain().save(record),
        }?;
        Ok((updated, None))
    }

    fn model_op(call: &Call) -> WriterOp {
        match call {
            Call::Dispatch {
                event,
                guards,
                shadow_run,
            } => WriterOp::Dispatch {
                event: bridge::model_event(*event),
                guards: ModelGuards {
                    sleep_eligible: guards.sleep_eligible,
                    still_idle: guards.still_idle,
                },
                shadow_run: *shadow_run,
            },
            Call::Begin(n) => WriterOp::Begin(*n),
            Call::StepDone(k) => WriterOp::StepDone(*k),
            Call::StepFailed {
                step,
                error,
                ttl_secs,
            } => WriterOp::StepFailed {
                step: *step,
                error: error.clone(),
                ttl_secs: *ttl_secs,
            },
            Call::CycleDone => WriterOp::CycleDone,
            Call::ResetQuarantine => WriterOp::ResetQuarantine,
            Call::Save(record) => WriterOp::Save(bridge::record(record)),
        }
    }

    fn compare(&self, call: &Call, found: ModelFound, before: &Disk) {
        let now = model_now(&self.clock);
        let store = self.call_store(call);
        if let Call::Save(record) = call {
            // SPEC §3.1: an invalid record is refused before the lock and
            // never reaches a writer, so the model has no say.
            let valid = bridge::record(record).is_valid();
            match &store {
                Err(StoreError::Save(SaveError::Invalid(why))) => {
                    assert!(
                        !valid,
                        "the store refused a record the model calls valid ({why}): {record:?}"
                    );
                    return self.unchanged(before, call);
                }
                _ => assert!(
                    valid,
                    "the store did not refuse a record the model calls invalid: {record:?}"
                ),
            }
        }
        let model = writer::operate(&found, &Self::model_op(call), &now);
        match (store, model) {
            (Ok((updated, transition)), Ok(outcome)) => {
                self.agree(call, &found, before, &now, &updated, transition, &outcome)
            }
            (Err(e), Err(f)) => {
                assert!(
                    same_failure(&e, &f),
                    "{call:?} failed differently: store {e:?}, model {f:?}"
                );
                self.unchanged(before, call);
            }
            (store, model) => panic!(
                "{call:?} on {found:?} at {}: the store says {store:?}, the model says {model:?}",
                now.as_str()
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn agree(
        &self,
        call: &Call,
        found: &ModelFound,
        before: &Disk,
        now: &Timestamp,
        updated: &Updated,
        transition: Transition,
        outcome: &Outcome,
    ) {
        let context = || format!("{call:?} on {found:?} at {}", now.as_str());
        let got = bridge::record(&updated.record);
        assert!(
            got == outcome.record,
            "{}: the record in force differs:\nstore: {got:?}\nmodel: {:?}",
            context(),
            outcome.record
        );
        assert!(
            updated.wrote == outcome.wrote,
            "{}: the store wrote: {}, the model writes: {} (SPEC §4.6)",
            context(),
            updated.wrote,
            outcome.wrote
        );
        let kinds_match = matches!(
            (&updated.found, found),
            (Found::Valid, ModelFound::Valid(_))
                | (Found::Missing, ModelFound::Missing)
                | (Found::Corrupt { .. }, ModelFound::Corrupt)
        );
        assert!(
            kinds_match,
            "{}: the store found {:?}",
            context(),
            updated.found
        );
        let preserved = matches!(updated.found, Found::Corrupt { .. });
        assert!(
            preserved == outcome.preserved,
            "{}: the store preserved: {preserved}, the model preserves: {} (SPEC §4.4)",
            context(),
            outcome.preserved
        );
        if let Some((from, to, shutdown)) = transition {
            let start = match found {
                ModelFound::Valid(r) => r.current_state,
                _ => lifecycle_model::State::Wake,
            };
            assert!(
                bridge::state(from) == start
                    && bridge::state(to) == outcome.record.current_state
                    && bridge::shutdown(shutdown) == outcome.shutdown,
                "{}: the store reports {from:?} -> {to:?} with {shutdown:?}, the model {:?}",
                context(),
                outcome.shutdown
            );
        }
        let after = self.fs.disk();
        let old = file(before, RECORD);
        let new = file(&after, RECORD);
        if updated.wrote {
            let encoded = lifecycle_state::encode(&updated.record);
            assert!(
                new == Some(&encoded[..]),
                "{}: the file does not hold the record written",
                context()
            );
        } else {
            assert!(
                new == old,
                "{}: the store said it wrote nothing, but the file changed",
                context()
            );
        }
        if let Found::Corrupt { preserved_as, .. } = &updated.found {
            let copy = file(&after, &lifecycle_testkit::sim_fs::normalize(preserved_as));
            assert!(
                copy.is_some() && copy == old,
                "{}: {} does not hold the corrupt bytes",
                context(),
                preserved_as.display()
            );
        }
        let copies = after
            .nodes
            .keys()
            .filter(|p| p.starts_with("/state/lifecycle_state.json.corrupt-"))
            .count();
        assert!(
            copies <= 5,
            "{}: {copies} corrupt copies are kept (SPEC §4.4.2)",
            context()
        );
        let temps = world::temp_files(&after);
        assert!(
            temps.is_empty(),
            "{}: temp files are left: {temps:?}",
            context()
        );
    }

    /// A refused operation writes nothing (the lock file aside).
    fn unchanged(&self, before: &Disk, call: &Call) {
        let mut after = self.fs.disk();
        let mut before = before.clone();
        after.nodes.remove(LOCK);
        before.nodes.remove(LOCK);
        assert!(after == before, "{call:?} was refused but changed the disk");
    }

    /// Load, without the lock, agrees with the model's predicate.
    fn check_load(&self) {
        let disk = self.fs.disk();
        let loaded = self.store(Options::default()).load();
        let default = Record::default_at(self.clock.now());
        let ok = match (file(&disk, RECORD), &loaded.outcome) {
            (None, lifecycle_state::LoadOutcome::Missing) => loaded.record == default,
            (Some(bytes), lifecycle_state::LoadOutcome::Valid) => {
                lifecycle_model::record::decode(bytes)
                    .is_ok_and(|m| m == bridge::record(&loaded.record))
            }
            (Some(bytes), lifecycle_state::LoadOutcome::Corrupt(_)) => {
                lifecycle_model::record::decode(bytes).is_err() && loaded.record == default
            }
            _ => false,
        };
        assert!(
            ok,
            "load says {} ({:?}) for the file {}",
            loaded.outcome,
            loaded.record,
            file(&disk, RECORD).map_or("(none)".to_string(), excerpt)
        );
    }
}

/// `Z` ⇄ `+00:00`, or one more fraction digit (`.0` when there is none).
fn respell(text: &str, longer_fraction: bool) -> String {
    let (body, offset) = match text.strip_suffix('Z') {
        Some(body) => (body, "Z"),
        None => (text.strip_suffix("+00:00").unwrap_or(text), "+00:00"),
    };
    if longer_fraction {
        let dot = if body.contains('.') { "" } else { "." };
        format!("{body}{dot}0{offset}")
    } else if offset == "Z" {
        format!("{body}+00:00")
    } else {
        format!("{body}Z")
    }
}

fn same_failure(store: &StoreError, model: &Failure) -> bool {
    match (store, model) {
        (StoreError::Overflow(_), Failure::Overflow(_)) => true,
        (StoreError::SleepCycle(e), Failure::Refused(r)) => match (e, r) {
            (SleepCycleError::NoSteps, Refusal::NoSteps)
            | (SleepCycleError::Quarantined { .. }, Refusal::Quarantined)
            | (SleepCycleError::NoCycle, Refusal::NoCycle)
            | (SleepCycleError::QuarantineOutOfRange, Refusal::QuarantineOutOfRange) => true,
            (SleepCycleError::StepOutOfRange { step }, Refusal::StepOutOfRange { step: s }) => {
                step == s
            }
            (
                SleepCycleError::WrongStep { expected, got },
                Refusal::WrongStep {
                    expected: e,
                    got: g,
                },
            ) => expected == e && got == g,
            _ => false,
        },
        _ => false,
    }
}
