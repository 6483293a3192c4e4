//! A run of transitions against a subject, judged after every step.
//!
//! Promises, for every transition: each writer operation answers what
//! `lifecycle_model::writer::operate` predicts (the record, whether it
//! wrote, the shutdown signal and the transition, what its load found, the
//! same refusal), through [`compare::write`]; a record that breaks SPEC §1
//! is refused naming its field and touches nothing (not a single
//! file-system call, on a simulated disk); every load answers what the
//! model predicts; and the invariants of [`invariants`] hold on the
//! directory. A failure panics with a message in the SPEC's words, which is
//! how proptest and libFuzzer see it.
//!
//! Nondeterminism. A crash, an injected fault or a power loss may leave the
//! old or the new record (a power loss after the rename but before the
//! directory fsync, a failed directory fsync after the rename), and the
//! model cannot know which. So the driver keeps its own model state, chosen
//! by observation: after such a transition it computes every file the SPEC
//! allows (the old one; the new one, `writer::operate` applied; no file
//! when an oversize corrupt file was being renamed away, SPEC §4.4.1; after
//! a power loss also every earlier file whose replacement was never made
//! durable), requires the file on disk to be one of them and load to agree
//! with the model on it, and continues from that one. Every other
//! transition must match the model exactly. This is the sound way to check
//! a nondeterministic specification: any behaviour outside the allowed set
//! fails, and no allowed one does.
//!
//! Does not promise: anything about the order of file-system calls (the
//! strace test) or several writers at once (the lock tests).

use lifecycle_model::persistence::Crash;
use lifecycle_model::spec::{self, FILE_MODE};
use lifecycle_model::writer::{Found, WriterOp};

use crate::compare;
use crate::coverage;
use crate::generate::invalid::InvalidSave;
use crate::invariants;
use crate::report;
use crate::subject::{Entry, Failure, Injected, Simulation, Subject, Written};
use crate::transition::{Start, Transition};
use crate::world::World;

/// Where a run starts: the clock and what the record path holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Initial {
    pub now_micros: i64,
    pub file: Found,
}

impl Start {
    pub fn build(&self) -> Initial {
        let now_micros = self.clock.micros();
        Initial {
            now_micros,
            file: self.file.build(now_micros),
        }
    }
}

/// Panics with `message` when `result` is an error: how a run reports.
fn check(result: Result<(), String>) {
    if let Err(message) = result {
        panic!("{message}");
    }
}

pub struct Driver<S: Subject> {
    subject: S,
    /// The model state, chosen by observation after nondeterminism.
    world: World,
    /// Files a power loss may still bring back: every state a writer that
    /// failed before (or at) its directory fsync passed through. Emptied by
    /// anything that makes the directory durable.
    undurable: Vec<Found>,
}

impl<S: Subject> Driver<S> {
    /// `subject` with the record path set as `initial` says.
    pub fn new(mut subject: S, initial: &Initial) -> Driver<S> {
        let name = subject.record_name().to_string();
        put(&mut subject, &name, &initial.file);
        Driver {
            subject,
            world: World::new(initial.now_micros, as_read(initial.file.clone())),
            undurable: Vec::new(),
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn subject(&mut self) -> &mut S {
        &mut self.subject
    }

    fn name(&self) -> String {
        self.subject.record_name().to_string()
    }

    fn record_entry(&self) -> Option<Entry> {
        self.subject.entries().remove(self.subject.record_name())
    }

    pub fn apply(&mut self, transition: &Transition) {
        coverage::kind(transition.kind());
        if coverage::on() {
            if let Some(detail) = transition.detail() {
                coverage::hit(detail);
            }
        }
        match transition {
            Transition::Write(spec) => {
                if let Some(op) = spec.resolve(&self.world) {
                    self.write(&op);
                }
            }
            Transition::SaveInvalid(kind) => self.save_invalid(kind),
            Transition::Load => self.load_writes_nothing(),
            Transition::Clock(step) => {
                if let Some(target) = step.target(&self.world) {
                    self.world.set_clock(target);
                }
            }
            Transition::Corrupt(corruption) => {
                let current = match self.record_entry() {
                    Some(Entry::File { data, .. }) => Some(data.to_vec()),
                    _ => None,
                };
                let bytes = corruption.bytes(current.as_deref(), self.world.now_micros);
                let file = Found::of_bytes(&bytes);
                if coverage::on() {
                    coverage::hit(match file {
                        Found::Valid(_) => "corrupt/still_valid",
                        _ => "corrupt/corrupt",
                    });
                }
                let name = self.name();
                self.subject.put_file(&name, &bytes, FILE_MODE);
                self.world.file = file;
                self.undurable.clear();
            }
            Transition::Replace(spec) => {
                let file = spec.build(self.world.now_micros);
                self.set_from_outside(file);
            }
            Transition::PutDirectory => self.set_from_outside(Found::Unreadable),
            Transition::StaleTemp(n) => {
                self.subject
                    .put_file(&spec::temp_name(*n), b"{\"stale\":", FILE_MODE);
                self.undurable.clear();
            }
            Transition::Crash {
                op,
                at_call,
                crash,
                choice,
            } => {
                if let Some(op) = op.resolve(&self.world) {
                    self.crash(&op, u64::from(*at_call), *crash, *choice);
                }
            }
            Transition::PowerLoss { block_size, choice } => self.power_loss(*block_size, *choice),
            Transition::Fault { op, at_call, fault } => {
                if let Some(op) = op.resolve(&self.world) {
                    self.fault(&op, u64::from(*at_call), *fault);
                }
            }
        }
        self.after_step();
    }

    /// What is checked after every step: modes, and load against the model.
    pub fn after_step(&mut self) {
        check(invariants::files_are_private(
            &self.subject.entries(),
            self.subject.dir_mode(),
        ));
        self.check_load();
        let state = self
            .world
            .file
            .record()
            .map_or(lifecycle_model::State::Wake, |r| r.current_state);
        coverage::state(state);
    }

    /// The record path set from outside, durably.
    fn set_from_outside(&mut self, file: Found) {
        let name = self.name();
        put(&mut self.subject, &name, &file);
        self.world.file = as_read(file);
        self.undurable.clear();
    }

    /// One writer operation, run to completion and judged.
    pub fn write(&mut self, op: &WriterOp) {
        if let WriterOp::Save(record) = op {
            if !record.is_valid() {
                return self.refused_save(record, None, "a locked save");
            }
        }
        let before = self.world.clone();
        let entries_before = self.subject.entries();
        let observed = self.subject.write(op, &before.now());
        check(compare::write(&before, op, &observed));
        count_outcome(&before, op);
        let entries = self.subject.entries();
        let name = self.name();
        if let Ok(written) = &observed {
            check(invariants::record_file_holds(
                &name,
                &entries_before,
                &entries,
                written.wrote,
                &written.record,
            ));
            if written.wrote {
                // Equal to the model's record by value; kept as the
                // implementation spelled it, since "changed" (SPEC §4.6) is
                // decided on the serialized form.
                self.world.file = Found::Valid(written.record.clone());
                self.undurable.clear();
            }
            if let (Some(preserved_as), Found::Corrupt(bytes)) =
                (&written.preserved_as, &before.file)
            {
                check(invariants::corrupt_bytes_are_preserved(
                    &name,
                    &entries,
                    bytes,
                    preserved_as,
                ));
            }
        } else {
            check(invariants::nothing_written(
                &format!("a failed {}", report::op(op)),
                &entries_before,
                &entries,
                before.file != Found::Unreadable,
            ));
        }
        if before.file != Found::Unreadable {
            check(invariants::no_temp_files_remain(&entries));
        }
        check(invariants::sequence_never_goes_backwards(
            op,
            &before.file,
            &self.world.file,
        ));
    }

    fn save_invalid(&mut self, kind: &InvalidSave) {
        let base = self.world.file.loaded(&self.world.now());
        let (record, field) = kind.build(&base);
        assert!(
            !record.is_valid(),
            "harness bug: the model calls valid a record built to be invalid ({kind:?})"
        );
        self.refused_save(&record, field.as_deref(), "a locked save");
    }

    /// A save of `record`, which the model calls invalid, is refused naming
    /// `field` and touches nothing (SPEC §3.1).
    fn refused_save(&mut self, record: &lifecycle_model::Record, field: Option<&str>, what: &str) {
        let before = self.subject.entries();
        let calls = self.subject.simulation().map(|s| s.calls());
        let op = WriterOp::Save(record.clone());
        let now = self.world.now();
        let observed = self.subject.write(&op, &now).map(|_| ());
        let judged = compare::save_judged(record, false, field, &observed);
        check(judged.map_err(|e| format!("{what}: {e}")));
        if self.subject.entries() != before {
            panic!("{what} of an invalid record changed the directory (SPEC §3.1)");
        }
        let after = self.subject.simulation().map(|s| s.calls());
        if after != calls {
            panic!("{what} of an invalid record made file-system calls (SPEC §3.1)");
        }
    }

    fn load_writes_nothing(&mut self) {
        let before = self.subject.entries();
        let ops = self.subject.simulation().map(|s| s.ops());
        let _ = self.subject.load(&self.world.now());
        if self.subject.entries() != before {
            panic!("a load changed the directory (SPEC §2.2.5)");
        }
        if self.subject.simulation().map(|s| s.ops()) != ops {
            panic!("a load made a persistence operation (SPEC §2.2.5)");
        }
    }

    fn check_load(&mut self) {
        if coverage::on() {
            if let Found::Corrupt(bytes) = &self.world.file {
                if let Err(corrupt) = lifecycle_model::record::decode(bytes) {
                    coverage::corrupt_class(corrupt.item());
                }
            }
        }
        let loaded = self.subject.load(&self.world.now());
        check(compare::load(&self.world, &loaded));
    }

    fn simulation(&mut self) -> &mut dyn Simulation {
        self.subject
            .simulation()
            .expect("crash, fault and power-loss transitions need a simulated disk")
    }

    fn recover(&mut self, crash: Crash, choice: u64) {
        let states = self
            .simulation()
            .recover(crash, choice)
            .unwrap_or_else(|e| panic!("the persistence model rejects the subject's log: {e}"));
        if states > 1 && coverage::on() {
            coverage::hit("recover/several_states");
        }
    }

    /// The machine loses power between operations; the disk comes back in
    /// state `choice` of those the persistence model allows.
    pub fn power_loss(&mut self, block_size: usize, choice: u64) {
        let mut candidates = vec![self.world.file.clone()];
        candidates.extend(self.undurable.iter().cloned());
        self.recover(Crash::PowerLoss { block_size }, choice);
        self.observe("a power loss", &candidates);
        self.undurable.clear();
    }

    /// `op` cut short before its call `at_call` by `crash`; the disk comes
    /// back in state `choice` of those the persistence model allows.
    pub fn crash(&mut self, op: &WriterOp, at_call: u64, crash: Crash, choice: u64) {
        let before = self.world.clone();
        let mut candidates = before.interrupted(op);
        if matches!(crash, Crash::PowerLoss { .. }) {
            candidates.extend(self.undurable.iter().cloned());
        }
        self.simulation().crash_before_call(at_call);
        // Whatever the subject answers, it answered as it died.
        let _ = self.subject.write(op, &before.now());
        self.recover(crash, choice);
        self.observe("a crash", &candidates);
        self.undurable.clear();
        // A power loss may legitimately bring back a file older than
        // `before` (one whose replacement's directory fsync failed, SPEC
        // §3.5.2); the sequence is only monotonic across the op itself.
        if before.interrupted(op).contains(&self.world.file) {
            check(invariants::sequence_never_goes_backwards(
                op,
                &before.file,
                &self.world.file,
            ));
        }
    }

    /// `op` with its call `at_call` failing once with `fault`.
    pub fn fault(&mut self, op: &WriterOp, at_call: u64, fault: Injected) {
        let before = self.world.clone();
        self.simulation().fail_call(at_call, fault);
        let observed = self.subject.write(op, &before.now());
        self.simulation().clear_faults();
        match (&observed, compare::write(&before, op, &observed)) {
            // The fault struck no call, or one whose failure is harmless
            // (a sweep, a retention removal): the model's outcome exactly.
            (_, Ok(())) => {
                if coverage::on() {
                    coverage::hit("fault/no_effect");
                }
            }
            (Err(Failure::Io { errno, .. }), Err(disagreement)) => {
                if *errno != Some(fault.errno()) {
                    panic!(
                        "{disagreement}, and the error is not the injected {}",
                        fault.name()
                    );
                }
                if coverage::on() {
                    coverage::hit("fault/reported");
                }
            }
            (_, Err(disagreement)) => panic!("{disagreement}"),
        }
        self.observe("an injected fault", &before.interrupted(op));
        if matches!(&observed, Ok(Written { wrote: true, .. })) {
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
        check(invariants::sequence_never_goes_backwards(
            op,
            &before.file,
            &self.world.file,
        ));
    }

    /// Requires the record path to hold one of `candidates` and continues
    /// from what it holds.
    fn observe(&mut self, after: &str, candidates: &[Found]) {
        let actual = self.record_entry();
        let matched = compare::observe(after, actual.as_ref(), candidates)
            .unwrap_or_else(|message| panic!("{message}"));
        if coverage::on() {
            coverage::hit(if *matched == self.world.file {
                "observed/old_file"
            } else {
                "observed/another_file"
            });
        }
        self.world.file = compare::found_at(actual.as_ref());
    }
}

/// `file` as the model reads it: bytes put as corrupt may be a record.
fn as_read(file: Found) -> Found {
    match file {
        Found::Corrupt(bytes) => Found::of_bytes(&bytes),
        file => file,
    }
}

/// Sets the record path `name` of `subject` to hold `file`, durably.
fn put<S: Subject>(subject: &mut S, name: &str, file: &Found) {
    match file {
        Found::Missing => subject.remove(name),
        Found::Valid(record) => subject.put_file(name, &record.encode(), FILE_MODE),
        Found::Corrupt(bytes) => subject.put_file(name, bytes, FILE_MODE),
        Found::Unreadable => subject.put_dir(name),
    }
}

fn count_outcome(before: &World, op: &WriterOp) {
    if !coverage::on() {
        return;
    }
    use lifecycle_model::sleep_cycle::Refusal;
    use lifecycle_model::writer::Failure as Expected;
    let key = match before.predict(op) {
        Ok(o) if o.shutdown != lifecycle_model::Shutdown::None => {
            format!("outcome/shutdown/{:?}", o.shutdown)
        }
        Ok(o) if o.preserved => "outcome/preserved_and_wrote".to_string(),
        Ok(o) if o.wrote => "outcome/wrote".to_string(),
        Ok(_) => "outcome/no_write".to_string(),
        Err(Expected::Refused(Refusal::WrongStep { .. })) => "outcome/refused/WrongStep".into(),
        Err(f) => format!("outcome/failed/{f:?}"),
    };
    coverage::hit(key);
}
