//! The system under test: the real store, checked against the model after
//! every transition.
//!
//! Proves, for every generated sequence: each writer operation returns what
//! `lifecycle_model::writer::operate` predicts (the record via the bridge,
//! whether it wrote, the shutdown signal, what it found, or the same
//! refusal), every load returns the model's record and outcome, an invalid
//! record is refused naming its field without a single file-system call,
//! and the invariants of `invariants` hold.
//!
//! Nondeterminism. A crash, an injected fault or a power loss may leave the
//! old or the new record (a power loss after the rename but before the
//! directory fsync, a failed directory fsync after the rename), and the
//! reference state cannot know which. So the reference state machine keeps a
//! guess for generation only, and this side keeps its own model state,
//! chosen by observation: after such a transition it computes every file
//! the SPEC allows (the old one; the new one, `writer::operate` applied; no
//! file when an oversize corrupt file was being renamed away, SPEC §4.4.1;
//! after a power loss also every earlier file whose replacement was never
//! made durable), requires the file on disk to be one of them and the
//! store's load to agree with the model on it, and continues from that one.
//! Every other transition must match the model exactly. This is the sound
//! way to check a nondeterministic specification: any store behaviour
//! outside the allowed set fails, and no allowed one does.
//!
//! Does not prove: the file-system call order (`strace_save`), locking
//! between processes (`writer_lock`), or behaviour on symlinks, FIFOs and
//! permissions (`load`).

use std::io;
use std::time::Duration;

use lifecycle_model::persistence::Crash;
use lifecycle_model::sleep_cycle::Refusal;
use lifecycle_model::writer::{Failure, Outcome, WriterOp};
use lifecycle_state::sleep_cycle::SleepCycleError;
use lifecycle_state::store::Found;
use lifecycle_state::{ManualClock, Options, SaveError, Shutdown, Store, StoreError, Timestamp};
use lifecycle_testkit::Fault;

use super::bridge;
use super::coverage;
use super::disk::{Entry, TestDisk, RECORD_NAME};
use super::invalid;
use super::invariants;
use super::records::InvalidSave;
use super::transitions::Transition;
use super::world::{FileView, LoadKind, World};

/// What one writer operation returned.
#[derive(Debug)]
struct Observed {
    record: lifecycle_state::Record,
    found: Found,
    wrote: bool,
    /// Only dispatch has one.
    shutdown: Option<Shutdown>,
}

fn store_ts(micros: i64) -> Timestamp {
    Timestamp::from_unix_nanos(i128::from(micros) * 1_000).expect("the clock stays in range")
}

pub struct Sut<D: TestDisk> {
    disk: D,
    clock: ManualClock,
    /// The model state, chosen by observation after nondeterminism.
    world: World,
    /// Files a power loss may still bring back: every state a writer that
    /// failed before (or at) its directory fsync passed through. Emptied by
    /// anything that makes the directory durable.
    undurable: Vec<FileView>,
}

impl<D: TestDisk> Sut<D> {
    pub fn new(world: &World) -> Sut<D> {
        let disk = D::create();
        match &world.file {
            FileView::Missing => {}
            FileView::Valid(r) => disk.put_file(RECORD_NAME, &r.encode(), 0o600),
            FileView::Corrupt(bytes) => disk.put_file(RECORD_NAME, bytes, 0o600),
            FileView::Unreadable => disk.put_dir(RECORD_NAME),
        }
        Sut {
            disk,
            clock: ManualClock::at(&store_ts(world.now_micros)),
            world: world.clone(),
            undurable: Vec::new(),
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    fn store(&self, options: Options) -> Store<D::Fs, &ManualClock> {
        Store::new(
            self.disk.fs(),
            &self.clock,
            self.disk.record_path(),
            options,
        )
    }

    fn run(&self, op: &WriterOp) -> Result<Observed, StoreError> {
        let mut options = Options::default();
        let updated = |u: lifecycle_state::Updated| Observed {
            record: u.record,
            found: u.found,
            wrote: u.wrote,
            shutdown: None,
        };
        match op {
            WriterOp::Dispatch {
                event,
                guards,
                shadow_run,
            } => {
                options.shadow_run = *shadow_run;
                let d = self
                    .store(options)
                    .dispatch(bridge::store_event(*event), bridge::store_guards(*guards))?;
                Ok(Observed {
                    shutdown: Some(d.shutdown),
                    ..updated(d.update)
                })
            }
            WriterOp::Begin(n) => self.store(options).begin_sleep_cycle(*n).map(updated),
            WriterOp::StepDone(k) => self.store(options).step_done(*k).map(updated),
            WriterOp::StepFailed {
                step,
                error,
                ttl_secs,
            } => {
                options.quarantine_ttl = Duration::from_secs(*ttl_secs);
                self.store(options).step_failed(*step, error).map(updated)
            }
            WriterOp::CycleDone => self.store(options).cycle_done().map(updated),
            WriterOp::ResetQuarantine => self.store(options).reset_quarantine().map(updated),
            WriterOp::Save(record) => self.store(options).save(&store_record(record)).map(updated),
        }
    }

    fn current_bytes(&self) -> Option<Vec<u8>> {
        match self.disk.entries().remove(RECORD_NAME) {
            Some(Entry::File { data, .. }) => Some(data.to_vec()),
            _ => None,
        }
    }

    pub fn apply(&mut self, transition: Transition) {
        coverage::hit(format!("transition/{}", transition.kind()));
        if let Some(detail) = transition.detail() {
            coverage::hit(detail);
        }
        match transition {
            Transition::Write(op) => self.write(&op),
            Transition::SaveInvalid(kind) => self.save_invalid(&kind),
            Transition::Load => self.load_writes_nothing(),
            Transition::AdvanceClock(advance) => {
                let target = advance.target(self.world.now_micros);
                self.world.set_clock(target);
                self.clock.set(&store_ts(self.world.now_micros));
            }
            Transition::Corrupt(corruption) => {
                let current = self.current_bytes();
                let bytes = corruption.bytes(current.as_deref(), self.world.now_micros);
                self.disk.put_file(RECORD_NAME, &bytes, 0o600);
                self.world.file = FileView::of_bytes(&bytes);
                coverage::hit(match self.world.file {
                    FileView::Valid(_) => "corrupt/still_valid",
                    _ => "corrupt/corrupt",
                });
                // Test set-up checkpoints SimFs: all of it is durable now.
                self.undurable.clear();
            }
            Transition::PutDirectory => {
                self.disk.put_dir(RECORD_NAME);
                self.world.file = FileView::Unreadable;
                self.undurable.clear();
            }
            Transition::Delete => {
                self.disk.remove(RECORD_NAME);
                self.world.file = FileView::Missing;
                self.undurable.clear();
            }
            Transition::StaleTemp(n) => {
                let name = format!(".lifecycle_state.{n:016x}.tmp");
                self.disk.put_file(&name, b"{\"stale\":", 0o600);
                self.undurable.clear();
            }
            Transition::Crash {
                op,
                at_call,
                crash,
                choice,
            } => self.crash(&op, at_call, crash, choice),
            Transition::PowerLoss { block_size, choice } => {
                let candidates = self.power_loss_candidates(vec![self.world.file.clone()]);
                self.recover(Crash::PowerLoss { block_size }, choice);
                self.observe("a power loss", &candidates);
                self.undurable.clear();
            }
            Transition::Fault { op, at_call, fault } => self.fault(&op, at_call, fault),
        }
        invariants::files_are_private(&self.disk.entries(), self.disk.dir_mode());
        self.check_load();
        coverage::hit(format!("state/{}", self.world.file.state().name()));
    }

    fn write(&mut self, op: &WriterOp) {
        let before = self.world.clone();
        let entries_before = self.disk.entries();
        let expected = before.predict(op);
        let actual = self.run(op);
        if let Err(disagreement) = agrees(&before, op, &expected, &actual) {
            panic!("{disagreement}");
        }
        count_outcome(&expected);
        if let (Ok(outcome), Ok(observed)) = (&expected, &actual) {
            if outcome.wrote {
                // Equal to the model's record by value; kept as the store
                // spelled it, since "changed" (SPEC §4.6) is decided on the
                // serialized form.
                self.world.file = FileView::Valid(bridge::record(&observed.record));
                self.undurable.clear();
            }
        }
        let entries = self.disk.entries();
        if before.file == FileView::Unreadable {
            invariants::unreadable_changes_nothing(&entries_before, &entries);
        } else {
            invariants::no_temp_files_remain(&entries);
        }
        invariants::sequence_never_goes_backwards(op, &before.file, &self.world.file);
        if let (
            Ok(Observed {
                found: Found::Corrupt { preserved_as, .. },
                ..
            }),
            FileView::Corrupt(bytes),
        ) = (&actual, &before.file)
        {
            invariants::corrupt_bytes_are_preserved(&entries, bytes, preserved_as);
        }
    }

    fn save_invalid(&mut self, kind: &InvalidSave) {
        let store = self.store(Options::default());
        let (record, field) = invalid::build(&store.load().record, kind);
        assert!(
            !bridge::record(&record).is_valid(),
            "the model calls valid a record the store must refuse ({kind:?})"
        );
        let before = self.disk.entries();
        let calls = self.disk.sim().map(|s| s.calls());
        match store.save(&record) {
            Err(StoreError::Save(SaveError::Invalid(invalid))) => {
                if let Some(field) = field {
                    assert_eq!(invalid.field, field, "the refusal names the wrong field");
                }
            }
            other => panic!("save of an invalid record ({kind:?}) returned {other:?}"),
        }
        assert!(
            self.disk.entries() == before,
            "a refused save changed the directory"
        );
        assert_eq!(
            self.disk.sim().map(|s| s.calls()),
            calls,
            "a refused save made file-system calls"
        );
    }

    fn load_writes_nothing(&mut self) {
        let before = self.disk.entries();
        let log = self.disk.sim().map(|s| s.log().len());
        let _ = self.store(Options::default()).load();
        assert!(
            self.disk.entries() == before,
            "a load changed the directory"
        );
        assert_eq!(
            self.disk.sim().map(|s| s.log().len()),
            log,
            "a load logged a persistence operation"
        );
    }

    fn check_load(&self) {
        let loaded = self.store(Options::default()).load();
        let (kind, record) = self.world.expected_load();
        assert_eq!(
            LoadKind::of(&loaded.outcome),
            kind,
            "load found {} where the model has {:?}",
            loaded.outcome,
            self.world.file
        );
        assert_eq!(
            bridge::record(&loaded.record),
            record,
            "load returned another record than the model"
        );
    }

    fn sim(&self) -> &lifecycle_testkit::SimFs {
        self.disk
            .sim()
            .expect("crash, fault and power-loss transitions run on SimFs only")
    }

    fn recover(&self, crash: Crash, choice: u64) {
        let recovered = self
            .sim()
            .recover(crash, choice)
            .unwrap_or_else(|e| panic!("the persistence model rejects the store's log: {e}"));
        if recovered.states > 1 {
            coverage::hit("recover/several_states");
        }
    }

    fn power_loss_candidates(&self, mut candidates: Vec<FileView>) -> Vec<FileView> {
        candidates.extend(self.undurable.iter().cloned());
        candidates
    }

    fn crash(&mut self, op: &WriterOp, at_call: u64, crash: Crash, choice: u64) {
        let before = self.world.clone();
        let mut candidates = before.interrupted(op);
        if matches!(crash, Crash::PowerLoss { .. }) {
            candidates = self.power_loss_candidates(candidates);
        }
        self.sim().crash_at_call(at_call);
        // Whatever the store returns, it returned it as it died.
        let _ = self.run(op);
        self.recover(crash, choice);
        self.observe("a crash", &candidates);
        self.undurable.clear();
        // A power loss may legitimately bring back a file older than
        // `before` (one whose replacement's directory fsync failed, SPEC
        // §3.5.2); the sequence is only monotonic across the op itself.
        if before.interrupted(op).contains(&self.world.file) {
            invariants::sequence_never_goes_backwards(op, &before.file, &self.world.file);
        }
    }

    fn fault(&mut self, op: &WriterOp, at_call: u64, fault: Fault) {
        let before = self.world.clone();
        let expected = before.predict(op);
        self.sim().fail_call(at_call, fault);
        let actual = self.run(op);
        self.sim().clear_faults();
        match (&actual, agrees(&before, op, &expected, &actual)) {
            // The fault struck no call, or one whose failure is harmless
            // (a sweep, a retention removal): the model's outcome exactly.
            (_, Ok(())) => coverage::hit("fault/no_effect"),
            (Err(e), Err(disagreement)) => {
                let errno = io_error(e).and_then(io::Error::raw_os_error);
                assert_eq!(
                    errno,
                    Some(fault.errno()),
                    "{disagreement}, and the error is not the injected {fault}"
                );
                coverage::hit("fault/reported");
            }
            (Ok(_), Err(disagreement)) => panic!("{disagreement}"),
        }
        self.observe("an injected fault", &before.interrupted(op));
        if matches!(&actual, Ok(o) if o.wrote) {
            self.undurable.clear();
        } else if self.world.file != before.file {
            // Nothing of the failed operation is durable: a power loss may
            // stop it at any state it passed through (the old file, or none
            // while an oversize corrupt file was moved away, SPEC §4.4.1).
            for view in before.interrupted(op) {
                if view != self.world.file && !self.undurable.contains(&view) {
                    self.undurable.push(view);
                }
            }
        }
        invariants::sequence_never_goes_backwards(op, &before.file, &self.world.file);
    }

    /// Requires the record file to be one of `candidates` and continues
    /// from what the file holds.
    fn observe(&mut self, after: &str, candidates: &[FileView]) {
        let actual = self.disk.entries().remove(RECORD_NAME);
        // Spelling first: two candidates may differ in timestamp spelling
        // alone, and the next write depends on it (SPEC §4.6). By value
        // next: the model spells the timestamps it makes its own way.
        let matched = [true, false]
            .into_iter()
            .find_map(|exact| candidates.iter().find(|c| holds(&actual, c, exact)));
        let Some(view) = matched else {
            panic!(
                "after {after}, the record file is {actual:?}, none of the allowed {candidates:?}"
            )
        };
        coverage::hit(if *view == self.world.file {
            "observed/old_file"
        } else {
            "observed/another_file"
        });
        self.world.file = match actual {
            None => FileView::Missing,
            Some(Entry::Dir { .. }) => FileView::Unreadable,
            Some(Entry::File { data, .. }) => FileView::of_bytes(&data),
        };
    }
}

/// Whether the record file `actual` is `view`: by value, or also by
/// spelling when `exact`.
fn holds(actual: &Option<Entry>, view: &FileView, exact: bool) -> bool {
    match (view, actual) {
        (FileView::Missing, None) => true,
        (FileView::Unreadable, Some(Entry::Dir { .. })) => true,
        (FileView::Corrupt(bytes), Some(Entry::File { data, .. })) => *bytes == **data,
        (FileView::Valid(r), Some(Entry::File { data, .. })) => {
            lifecycle_model::record::decode(data)
                .is_ok_and(|d| d == *r && (!exact || d.encode() == r.encode()))
        }
        _ => false,
    }
}

/// The store record for a record the model calls valid.
fn store_record(record: &lifecycle_model::Record) -> lifecycle_state::Record {
    assert!(
        record.is_valid(),
        "the model calls a generated record invalid: {record:?}"
    );
    let store = lifecycle_state::decode(&record.encode()).unwrap_or_else(|e| {
        panic!("the store rejects a record the model calls valid ({e}): {record:?}")
    });
    assert_eq!(
        bridge::record(&store),
        *record,
        "the store reads another record than the model"
    );
    store
}

fn io_error(e: &StoreError) -> Option<&io::Error> {
    match e {
        StoreError::Lock(e) | StoreError::Unreadable(e) | StoreError::Preserve(e) => Some(e),
        StoreError::Save(SaveError::Io { source, .. }) => Some(source),
        _ => None,
    }
}

fn same_refusal(model: &Refusal, store: &SleepCycleError) -> bool {
    match (model, store) {
        (Refusal::NoSteps, SleepCycleError::NoSteps)
        | (Refusal::Quarantined, SleepCycleError::Quarantined { .. })
        | (Refusal::NoCycle, SleepCycleError::NoCycle)
        | (Refusal::QuarantineOutOfRange, SleepCycleError::QuarantineOutOfRange) => true,
        (Refusal::StepOutOfRange { step }, SleepCycleError::StepOutOfRange { step: s }) => {
            step == s
        }
        (
            Refusal::WrongStep { expected, got },
            SleepCycleError::WrongStep {
                expected: e,
                got: g,
            },
        ) => expected == e && got == g,
        _ => false,
    }
}

fn same_found(before: &FileView, found: &Found) -> bool {
    matches!(
        (before, found),
        (FileView::Valid(_), Found::Valid)
            | (FileView::Missing, Found::Missing)
            | (FileView::Corrupt(_), Found::Corrupt { .. })
    )
}

/// Whether the store did what the model predicts for `op` on `before`.
fn agrees(
    before: &World,
    op: &WriterOp,
    expected: &Result<Outcome, Failure>,
    actual: &Result<Observed, StoreError>,
) -> Result<(), String> {
    let context = || format!("{op:?} at {:?} on {:?}", before.now(), before.file);
    let differ = |what: &str, model: &dyn std::fmt::Debug, store: &dyn std::fmt::Debug| {
        Err(format!(
            "{what} of {}: the model has {model:?}, the store {store:?}",
            context()
        ))
    };
    match (expected, actual) {
        (Ok(outcome), Ok(observed)) => {
            let record = bridge::record(&observed.record);
            if record != outcome.record {
                return differ("the record", &outcome.record, &record);
            }
            if observed.wrote != outcome.wrote {
                return differ("whether it wrote", &outcome.wrote, &observed.wrote);
            }
            if let Some(shutdown) = observed.shutdown.map(bridge::shutdown) {
                if shutdown != outcome.shutdown {
                    return differ("the shutdown signal", &outcome.shutdown, &shutdown);
                }
            }
            if !same_found(&before.file, &observed.found) {
                return differ("what it found", &before.file, &observed.found);
            }
            Ok(())
        }
        (Err(Failure::Unreadable), Err(StoreError::Unreadable(_)))
        | (Err(Failure::Overflow(_)), Err(StoreError::Overflow(_))) => Ok(()),
        (Err(Failure::Refused(refusal)), Err(StoreError::SleepCycle(error)))
            if same_refusal(refusal, error) =>
        {
            Ok(())
        }
        (expected, actual) => differ("the result", expected, actual),
    }
}

fn count_outcome(expected: &Result<Outcome, Failure>) {
    let key = match expected {
        Ok(o) if o.shutdown != lifecycle_model::Shutdown::None => {
            format!("outcome/shutdown/{:?}", o.shutdown)
        }
        Ok(o) if o.preserved => "outcome/preserved_and_wrote".to_string(),
        Ok(o) if o.wrote => "outcome/wrote".to_string(),
        Ok(_) => "outcome/no_write".to_string(),
        Err(Failure::Refused(Refusal::WrongStep { .. })) => "outcome/refused/WrongStep".to_string(),
        Err(f) => format!("outcome/failed/{f:?}"),
    };
    coverage::hit(key);
}
