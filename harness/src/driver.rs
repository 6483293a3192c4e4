//! A run of transitions against a subject, judged after every step.
//!
//! Promises, for every transition: each writer operation answers what
//! `lifecycle_model::writer::operate` predicts (the record, whether it
//! wrote, the shutdown signal and the transition, what its load found, the
//! same refusal), through [`compare::write`]; a record that breaks SPEC §1
//! is refused naming its field and touches nothing (not a single
//! file-system call, on a simulated disk); every load answers what the
//! model predicts; and the invariants of [`invariants`] hold on the
//! directory. A broken rule ends the step with a [`Finding`] (the SPEC
//! section, the rule and a message in the SPEC's words), returned to the
//! caller as a value; an operation the subject does not offer, or declines,
//! is a [`Step::Skipped`], never a pass. (proptest's state machine and the
//! fuzz targets, which can only report by panicking, panic with the
//! finding's line.)
//!
//! Any implementation. Answers are compared by the world's rules: this
//! project's SPEC, or requirements §7 for another implementation
//! ([`Driver::judged_by`]). A subject that does not offer an operation (an
//! adapter without the `machine` capability, or without the locked save)
//! skips it, and a locked save becomes the library save of SPEC §3. A
//! subject that reads its own clock is asked at the wall clock, and a
//! timestamp it makes may be any instant of the request's window (by
//! requirements §7, also the reading of a coarser clock, truncated:
//! `compare`). On a point of requirements §7 (a leap second, huge numbers
//! in unknown members, …) either reading of the file conforms: the driver
//! follows the one the implementation's load shows, lets its save (library
//! or locked) refuse such a record, and lets a refusal of an invalid
//! record that also holds one name any field or none; each such choice,
//! where the model takes the other side, is kept in words
//! ([`Driver::choices`]) for the caller to report as information. Two
//! saves judged whole: [`Driver::save_on_a_point`] (a record on a point of
//! §7: saved and loaded back as itself, or refused) and
//! [`Driver::save_with_a_lone_surrogate`] (refused, or saved into a file
//! that is not corrupt).
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

use std::time::{SystemTime, UNIX_EPOCH};

use lifecycle_model::implementation_defined::{self, Point};
use lifecycle_model::persistence::Crash;
use lifecycle_model::spec::{self, FILE_MODE};
use lifecycle_model::writer::{Found, Outcome, WriterOp};
use lifecycle_model::{Record, Timestamp};

use crate::compare;
use crate::coverage;
use crate::difference::Sides;
use crate::finding::Finding;
use crate::generate::invalid::InvalidSave;
use crate::invariants;
use crate::report;
use crate::subject::{Entry, Failure, Injected, Listing, Loaded, Simulation, Subject, Written};
use crate::transition::{Start, Transition};
use crate::world::{Rules, World};

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

/// What a step of a run came to when it broke no rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The subject was asked (or the disk set from outside) and what it
    /// did was judged.
    Judged,
    /// Nothing was judged: the subject does not offer the operation, or
    /// declined it; why, in words.
    Skipped(String),
}

/// A step's outcome: what it came to, or the rule it broke.
pub type Judgement = Result<Step, Finding>;

/// The wall clock, µs since the epoch.
fn wall_micros() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// Whether an operation that answered `observed` wrote, by its own word
/// or, when it does not say, by the model's.
fn wrote(observed: &Result<Written, Failure>, expected: Option<&Outcome>) -> bool {
    match observed {
        Ok(written) => written
            .wrote
            .unwrap_or_else(|| expected.is_some_and(|o| o.wrote)),
        Err(_) => false,
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
    /// The files besides the record the subject keeps for good.
    sidecars: Vec<String>,
    /// What each step did, in words, when kept (a reproduction).
    journal: Option<Vec<String>>,
    /// Where the implementation took the side of a point of requirements
    /// §7 that the model does not take, in words.
    choices: Vec<String>,
}

impl<S: Subject> Driver<S> {
    /// `subject` with the record path set as `initial` says.
    pub fn new(subject: S, initial: &Initial) -> Driver<S> {
        Driver::judged_by(subject, initial, Rules::Spec)
    }

    /// [`Driver::new`], the answers compared by `rules`.
    pub fn judged_by(mut subject: S, initial: &Initial, rules: Rules) -> Driver<S> {
        let name = subject.record_name().to_string();
        put(&mut subject, &name, &initial.file);
        let sidecars = subject.sidecars();
        Driver {
            subject,
            world: World::new(initial.now_micros, as_read(initial.file.clone())).with_rules(rules),
            undurable: Vec::new(),
            sidecars,
            journal: None,
            choices: Vec::new(),
        }
    }

    /// Keeps from now on what each step does, in words.
    pub fn keep_journal(&mut self) {
        let start = format!(
            "start: the clock at {}, the record path holds {}",
            self.world.now().as_str(),
            report::found(&self.world.file)
        );
        self.journal = Some(vec![start]);
    }

    /// What the steps did, when kept.
    pub fn journal(&self) -> &[String] {
        self.journal.as_deref().unwrap_or_default()
    }

    /// Where the implementation took a side of a point of requirements §7
    /// the model does not take (it reads a file the model reads as valid
    /// as corrupt, or the other way round; it refuses to save a record on
    /// such a point, or names another field when it refuses an invalid
    /// one), in words: each conforms, and a caller reports it as
    /// information.
    pub fn choices(&self) -> &[String] {
        &self.choices
    }

    fn chose(&mut self, choice: String) {
        if !self.choices.contains(&choice) {
            self.choices.push(choice);
        }
    }

    fn note(&mut self, line: impl FnOnce(&World) -> String) {
        if let Some(journal) = self.journal.as_mut() {
            journal.push(line(&self.world));
        }
    }

    /// Asks the subject one request at the world's now and returns the
    /// world to judge the answer by. For a subject that reads its own
    /// clock, now is the wall clock when the request is sent, and the world
    /// knows when the answer came (its clock window).
    pub fn ask<T>(&mut self, request: impl FnOnce(&mut S, &Timestamp) -> T) -> (World, T) {
        if !self.subject.takes_now() {
            self.world.set_clock(wall_micros());
        }
        let answer = request(&mut self.subject, self.world.now());
        if !self.subject.takes_now() {
            self.world.set_window_end(wall_micros());
        }
        (self.world.clone(), answer)
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

    pub fn apply(&mut self, transition: &Transition) -> Judgement {
        coverage::kind(transition.kind());
        if coverage::on() {
            if let Some(detail) = transition.detail() {
                coverage::hit(detail);
            }
        }
        let step = match transition {
            Transition::Write(spec) => match spec.resolve(&self.world) {
                Some(op) => {
                    // A reproduction lists only the steps that ran: an
                    // operation the subject does not offer is left out (a
                    // locked save runs as the library save).
                    match &op {
                        WriterOp::Save(r) if !self.subject.offers(&op) => {
                            self.note(|_| format!("save of {}", report::record(r)))
                        }
                        op if !self.subject.offers(op) => {}
                        op => self.note(|_| report::op(op)),
                    }
                    self.write(&op)?
                }
                None => Step::Judged,
            },
            Transition::SaveInvalid(kind) => self.save_invalid(kind)?,
            Transition::Load => {
                self.note(|_| "load".to_string());
                self.load_writes_nothing()?;
                Step::Judged
            }
            Transition::Clock(step) => {
                // A subject that reads its own clock cannot be moved.
                if let Some(target) = step
                    .target(&self.world)
                    .filter(|_| self.subject.takes_now())
                {
                    self.world.set_clock(target);
                    self.note(|w| format!("the clock moves to {}", w.now().as_str()));
                }
                Step::Judged
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
                self.note(|_| {
                    format!(
                        "the record file is overwritten from outside with {}",
                        report::excerpt(&bytes)
                    )
                });
                self.subject.put_file(&name, &bytes, FILE_MODE);
                self.world.file = file;
                self.undurable.clear();
                Step::Judged
            }
            Transition::Replace(spec) => {
                let file = spec.build(self.world.now_micros);
                self.note(|_| {
                    format!(
                        "the record path is set from outside to {}",
                        report::found(&file)
                    )
                });
                self.set_from_outside(file);
                Step::Judged
            }
            Transition::PutDirectory => {
                self.note(|_| "a directory is put at the record path".to_string());
                self.set_from_outside(Found::Unreadable);
                Step::Judged
            }
            Transition::StaleTemp(n) => {
                let name = spec::temp_name(*n);
                self.note(|_| format!("a stale temp file {name} is put beside the record"));
                self.subject.put_file(&name, b"{\"stale\":", FILE_MODE);
                self.undurable.clear();
                Step::Judged
            }
            Transition::Crash {
                op,
                at_call,
                crash,
                choice,
            } => {
                if let Some(op) = op.resolve(&self.world) {
                    self.crash(&op, u64::from(*at_call), *crash, *choice)?;
                }
                Step::Judged
            }
            Transition::PowerLoss { block_size, choice } => {
                self.power_loss(*block_size, *choice)?;
                Step::Judged
            }
            Transition::Fault { op, at_call, fault } => {
                if let Some(op) = op.resolve(&self.world) {
                    self.fault(&op, u64::from(*at_call), *fault)?;
                }
                Step::Judged
            }
        };
        self.after_step()?;
        Ok(step)
    }

    /// What is checked after every step: modes, and load against the model.
    pub fn after_step(&mut self) -> Result<(), Finding> {
        invariants::files_are_private(
            self.world.rules(),
            self.subject.record_name(),
            &self.subject.entries(),
            self.subject.dir_mode(),
        )?;
        self.check_load()?;
        let state = self
            .world
            .file
            .record()
            .map_or(lifecycle_model::State::Wake, |r| r.current_state);
        coverage::state(state);
        Ok(())
    }

    /// The record path set from outside, durably.
    fn set_from_outside(&mut self, file: Found) {
        let name = self.name();
        put(&mut self.subject, &name, &file);
        self.world.file = as_read(file);
        self.undurable.clear();
    }

    /// One writer operation, run to completion and judged.
    pub fn write(&mut self, op: &WriterOp) -> Judgement {
        if let WriterOp::Save(record) = op {
            if !record.is_valid() {
                return self.refused_save(record, None);
            }
        }
        if !self.subject.offers(op) {
            if let WriterOp::Save(record) = op {
                self.library_save(record)?;
                return Ok(Step::Judged);
            }
            coverage::hit("unsupported");
            return Ok(Step::Skipped(format!(
                "the implementation does not offer {}",
                report::op(op)
            )));
        }
        if self.other_side().is_some() {
            // Which side of §7 the implementation takes decides what the
            // writer finds: a load says.
            self.check_load()?;
        }
        let entries_before = self.subject.entries();
        let (before, observed) = self.ask(|s, now| s.write(op, now));
        if let WriterOp::Save(record) = op {
            let refused = observed.as_ref().map(|_| ()).map_err(Clone::clone);
            if self.may_refuse(record, &refused) {
                return self
                    .refused_on_a_point(record, &entries_before)
                    .map(|()| Step::Judged);
            }
        }
        if let Err(Failure::Unsupported { message }) = observed {
            // The adapter skipped it (a known bug it wants recorded).
            coverage::hit("unsupported");
            return Ok(Step::Skipped(format!(
                "the implementation declined {}: {message}",
                report::op(op)
            )));
        }
        // The model is asked once: its answer judges the subject's and
        // says what the disk must hold.
        let expected = before.predict(op);
        compare::write_predicted(&before, op, &expected, &observed)?;
        count_outcome(&before, op);
        let expected = expected.ok();
        let entries = self.subject.entries();
        let name = self.name();
        if let Ok(written) = &observed {
            let wrote = wrote(&observed, expected.as_ref());
            invariants::record_file_holds(
                &before,
                &name,
                &entries_before,
                &entries,
                wrote,
                &written.record,
            )?;
            invariants::no_temp_files_remain(
                &name,
                &self.sidecars,
                &entries_before,
                &entries,
                before.file != Found::Unreadable && before.rules() == Rules::Spec,
            )?;
            if wrote {
                // Equal to the model's record by value; kept as the
                // implementation spelled it, since "changed" (SPEC §4.6) is
                // decided on the serialized form.
                self.world.file = compare::found_at(entries.get(&name));
                self.undurable.clear();
            }
            let preserved = expected.as_ref().is_some_and(|o| o.preserved);
            if let (true, Found::Corrupt(bytes)) = (preserved, &before.file) {
                let said = written.preserved_as.clone().flatten();
                invariants::corrupt_bytes_are_preserved(&name, &entries, bytes, said.as_deref())?;
            }
        } else {
            let spec = match op {
                WriterOp::Save(_) => "§3.5.1",
                WriterOp::Dispatch { .. } => "§4.3",
                _ => "§5.1",
            };
            invariants::nothing_written(
                spec,
                &format!("a failed {}", report::op(op)),
                &self.sidecars,
                &entries_before,
                &entries,
                before.file != Found::Unreadable,
            )?;
        }
        invariants::sequence_never_goes_backwards(op, &before.file, &self.world.file)?;
        Ok(Step::Judged)
    }

    /// The library save of SPEC §3 of a valid record, for a subject without
    /// the locked one: it succeeds and the record path holds the record,
    /// or, over a directory, it fails with an I/O error and writes nothing.
    pub fn library_save(&mut self, record: &Record) -> Result<(), Finding> {
        let entries_before = self.subject.entries();
        let (before, observed) = self.ask(|s, _| s.save(record));
        let entries = self.subject.entries();
        let name = self.name();
        match &observed {
            _ if self.may_refuse(record, &observed) => {
                return self.refused_on_a_point(record, &entries_before);
            }
            Err(Failure::Io { .. }) if before.file == Found::Unreadable => {
                return invariants::nothing_written(
                    "§3.5.1",
                    "a save over a directory that failed",
                    &self.sidecars,
                    &entries_before,
                    &entries,
                    false,
                );
            }
            _ if before.file == Found::Unreadable => {}
            _ => compare::save(record, None, &observed)?,
        }
        if observed.is_ok() {
            invariants::record_file_holds(
                &before,
                &name,
                &entries_before,
                &entries,
                true,
                &Ok(record.clone()),
            )?;
            invariants::no_temp_files_remain(
                &name,
                &self.sidecars,
                &entries_before,
                &entries,
                false,
            )?;
            self.world.file = compare::found_at(entries.get(&name));
            self.undurable.clear();
        }
        Ok(())
    }

    fn save_invalid(&mut self, kind: &InvalidSave) -> Judgement {
        let base = self.world.file.loaded(self.world.now());
        let (record, field) = kind.build(&base);
        assert!(
            !record.is_valid(),
            "harness bug: the model calls valid a record built to be invalid ({kind:?})"
        );
        if kind.has_duplicate_names() && !self.locked_save() {
            // A JSON request cannot carry two members of one name to most
            // languages: the vectors suite checks such files through load.
            coverage::hit("unsupported");
            return Ok(Step::Skipped(
                "a record with two members of one name goes only to a locked save".to_string(),
            ));
        }
        self.note(|_| format!("save of the invalid record {}", report::record(&record)));
        self.refused_save(&record, field.as_deref())
    }

    /// Whether the subject has the locked save (SPEC §7 `save`).
    fn locked_save(&self) -> bool {
        let probe = WriterOp::Save(Record::default_at(self.world.now()));
        self.subject.offers(&probe)
    }

    /// A save of `record`, which the model calls invalid, is refused naming
    /// `field` and touches nothing (SPEC §3.1): the locked save when the
    /// subject has it, else the library save.
    fn refused_save(&mut self, record: &Record, field: Option<&str>) -> Judgement {
        if self.locked_save() {
            let op = WriterOp::Save(record.clone());
            let points = self.points(|| implementation_defined::of_record(record));
            // The record's text only for a finding.
            let text = || report::record_text(record);
            self.refused(text, field, &points, "a locked save", |s, now| {
                s.write(&op, now).map(|_| ())
            })?;
        } else {
            self.refused_save_json(&report::record_text(record), field)?;
        }
        Ok(Step::Judged)
    }

    /// The library save of a record given as JSON text that breaks SPEC §1
    /// is refused naming `field` and touches nothing (SPEC §3.1); by
    /// requirements §7, a record that also holds one of its points may be
    /// refused naming any field or none. Returns the field the refusal
    /// named.
    pub fn refused_save_json(
        &mut self,
        json: &str,
        field: Option<&str>,
    ) -> Result<Option<String>, Finding> {
        let points = self.points(|| implementation_defined::of_text(json.as_bytes()));
        self.refused(
            || json.to_string(),
            field,
            &points,
            "a save",
            |s, _| s.save_json(json),
        )
    }

    /// The points of requirements §7 `find` finds, when the answers are
    /// judged by requirements §7 (none by this project's SPEC, which picks
    /// a side on each).
    fn points(&self, find: impl FnOnce() -> Vec<Point>) -> Vec<Point> {
        match self.world.rules() {
            Rules::Requirements => find(),
            Rules::Spec => Vec::new(),
        }
    }

    /// `text` gives the record's whole JSON text, for a finding.
    fn refused(
        &mut self,
        text: impl FnOnce() -> String,
        field: Option<&str>,
        points: &[Point],
        what: &str,
        request: impl FnOnce(&mut S, &Timestamp) -> Result<(), Failure>,
    ) -> Result<Option<String>, Finding> {
        let before = self.subject.entries();
        let calls = self.subject.simulation().map(|s| s.calls());
        let (_, observed) = self.ask(request);
        // Requirements §7: a record on one of its points may be refused
        // for that point, so naming any field or none.
        let wanted = if points.is_empty() { field } else { None };
        compare::save_judged(text, false, wanted, &observed).map_err(|f| f.during(what))?;
        let named = match &observed {
            Err(Failure::InvalidRecord { field }) => field.clone(),
            _ => None,
        };
        if let (Some(want), false) = (field, points.is_empty()) {
            if named.as_deref() != Some(want) {
                self.chose(format!(
                    "{what} refused an invalid record holding {} naming {}, not {want}",
                    described(points),
                    named.as_deref().unwrap_or("no field")
                ));
            }
        }
        let after = self.subject.entries();
        if after != before {
            return Err(Finding::violation(
                "§3.1",
                REFUSED_TOUCHES_NOTHING,
                format!(
                    "{what} of an invalid record changed the directory from {} to {}",
                    report::listing(&before),
                    report::listing(&after)
                ),
            ));
        }
        let calls_after = self.subject.simulation().map(|s| s.calls());
        if calls_after != calls {
            return Err(Finding::violation(
                "§3.1",
                REFUSED_TOUCHES_NOTHING,
                format!("{what} of an invalid record made file-system calls"),
            ));
        }
        Ok(named)
    }

    /// A save of `record`, on a point of requirements §7, refused as an
    /// invalid record (which §7 allows): it touches nothing.
    fn refused_on_a_point(&mut self, record: &Record, before: &Listing) -> Result<(), Finding> {
        let points = implementation_defined::of_record(record);
        self.chose(format!(
            "save refused a record holding {}",
            described(&points)
        ));
        self.touched_nothing(ON_A_POINT_REFUSED, before)
    }

    /// `what` left the directory as `before` (the lock file aside).
    fn touched_nothing(&self, what: &str, before: &Listing) -> Result<(), Finding> {
        invariants::nothing_written(
            "§3.1",
            what,
            &self.sidecars,
            before,
            &self.subject.entries(),
            false,
        )
    }

    /// A save of the record given as JSON text `json`, which holds a point
    /// of requirements §7 (`record` is the model's reading of it on the
    /// side that accepts it), then a load. Requirements §7 allows two
    /// outcomes: refused as an invalid record (naming any field or none),
    /// the directory as it was; or saved into a file that is a record on
    /// some side of §7 and loaded back as `record`, its unknown members
    /// kept exactly or with their numbers as the nearest binary64 values.
    /// Anything else (another failure, a file the SPEC calls corrupt, a
    /// load of the default, a value changed otherwise, such as `1e400`
    /// come back as the string "Infinity") is a finding.
    pub fn save_on_a_point(&mut self, json: &str, record: &Record) -> Result<OnAPoint, Finding> {
        let before = self.subject.entries();
        let (_, observed) = self.ask(|s, _| s.save_json(json));
        let shown = || shown_text(json);
        match observed {
            Ok(()) => {}
            Err(Failure::InvalidRecord { field }) => {
                self.touched_nothing(ON_A_POINT_REFUSED, &before)?;
                return Ok(OnAPoint::Refused(field));
            }
            Err(failure) => {
                return Err(Finding::violation(
                    "§3",
                    ON_A_POINT,
                    format!(
                        "save of {} failed: {failure}; requirements §7 lets a save of a record on one of its points save it or refuse it as an invalid record, nothing else",
                        shown()
                    ),
                ))
            }
        }
        let entry = self.record_entry();
        let held = match &entry {
            Some(Entry::File { data, .. }) => match implementation_defined::as_valid(data) {
                Some(r) if compare::same_record(&self.world, record, &r) => None,
                Some(r) => Some(
                    match compare::difference(
                        &self.world,
                        &compare::Predicted::exactly(record),
                        &r,
                        SAVED_AND_HELD,
                    ) {
                        Some(differs) => {
                            format!("another record ({differs}), {}", report::record(&r))
                        }
                        None => format!("the record {}", report::record(&r)),
                    },
                ),
                None => Some(match lifecycle_model::record::decode(data) {
                    Err(corrupt) => format!(
                        "a file that breaks {}; {}",
                        compare::breaks(data, &corrupt),
                        compare::whole_file(data)
                    ),
                    Ok(_) => report::excerpt(data),
                }),
            },
            other => Some(invariants::entry(other.as_ref())),
        };
        if let Some(held) = held {
            return Err(Finding::violation(
                "§3.2",
                ON_A_POINT,
                format!(
                    "save succeeded, but not into a file that holds the record saved (its numbers kept exactly or as the nearest binary64 values) and that the SPEC calls valid: the record path holds {held}; the record saved: {}",
                    shown()
                ),
            ));
        }
        self.world.file = compare::found_at(entry.as_ref());
        self.undurable.clear();
        let (world, loaded) = self.ask(|s, now| s.load(now));
        let back = match &loaded {
            Ok(Loaded {
                record: Ok(back), ..
            }) => back,
            Ok(Loaded { record: Err(_), .. }) | Err(_) => {
                let returned = match &loaded {
                    Ok(Loaded {
                        record: Err(not), ..
                    }) => format!("something that is not a record: {not}"),
                    Ok(Loaded { record: Ok(r), .. }) => report::record(r),
                    Err(failure) => failure.to_string(),
                };
                return Err(Finding::violation(
                    "§3.2",
                    ON_A_POINT,
                    format!(
                        "save of {} succeeded, then load answered {returned}; a load of a saved record returns that record",
                        shown()
                    ),
                ));
            }
        };
        if !compare::same_record(&world, record, back) {
            let default = compare::default_record(&world, &Ok(Ok(back.clone())));
            let why = if default.is_ok() {
                "the default: it reads the file it wrote as corrupt"
            } else {
                "another record: requirements §7 lets a number be kept exactly or as the nearest binary64 value, and changes nothing else"
            };
            return Err(Finding::violation(
                "§3.2",
                ON_A_POINT,
                format!(
                    "save of {} succeeded, then load returned {}, {why}",
                    shown(),
                    report::record(back)
                ),
            ));
        }
        let exactly = compare::unknown_kept_exactly(record, back);
        Ok(OnAPoint::Kept { exactly })
    }

    /// A save of the record given as JSON text `json`, whose strings hold
    /// an unpaired surrogate escape (SPEC §1.1.3): refused as an invalid
    /// record (naming any field or none: the model's own decoder calls the
    /// text corrupt as a whole, SPEC §1.6 item 6), the directory as it
    /// was; or, when the implementation's JSON reader made it a record
    /// without one (U+FFFD in its place, say), saved into a file the SPEC
    /// calls valid. A file that holds the surrogate (an escape, or its
    /// bytes) is a finding, as is any other failure.
    pub fn save_with_a_lone_surrogate(&mut self, json: &str) -> Result<LoneSurrogate, Finding> {
        let before = self.subject.entries();
        let (_, observed) = self.ask(|s, _| s.save_json(json));
        match observed {
            Err(Failure::InvalidRecord { field }) => {
                self.touched_nothing("a refused save of an invalid record", &before)?;
                Ok(LoneSurrogate::Refused(field))
            }
            Err(failure) => Err(Finding::violation(
                "§3.1",
                "save refuses a record that breaks SPEC §1 as an invalid record",
                format!(
                    "save of {} failed with {failure}, not as an invalid record",
                    shown_text(json)
                ),
            )),
            Ok(()) => {
                let entry = self.record_entry();
                let wrote = match &entry {
                    Some(Entry::File { data, .. }) => lifecycle_model::record::decode(data)
                        .map(drop)
                        .map_err(|corrupt| {
                            format!(
                                "wrote a file that breaks {}; {}",
                                compare::breaks(data, &corrupt),
                                compare::whole_file(data)
                            )
                        }),
                    other => Err(format!(
                        "left {} at the record path",
                        invariants::entry(other.as_ref())
                    )),
                };
                if let Err(wrote) = wrote {
                    return Err(Finding::violation(
                        "§3.1",
                        compare::SAVED_INVALID,
                        format!(
                            "save succeeded and {wrote}; a record holding an unpaired surrogate must be refused; the record saved: {}",
                            shown_text(json)
                        ),
                    ));
                }
                self.world.file = compare::found_at(entry.as_ref());
                self.undurable.clear();
                Ok(LoneSurrogate::Saved)
            }
        }
    }

    /// The default record is the one of SPEC §1.7 at now.
    pub fn check_default(&mut self) -> Result<(), Finding> {
        let (world, answer) = self.ask(|s, now| s.default_record(now));
        compare::default_record(&world, &answer)
    }

    /// The record path was set from outside to hold what the model reads
    /// as `file`.
    pub fn set_file(&mut self, file: Found) {
        self.world.file = file;
        self.undurable.clear();
    }

    fn load_writes_nothing(&mut self) -> Result<(), Finding> {
        let before = self.subject.entries();
        let ops = self.subject.simulation().map(|s| s.ops());
        let _ = self.ask(|s, now| s.load(now));
        let after = self.subject.entries();
        if after != before {
            return Err(Finding::violation(
                "§2.2.5",
                LOAD_WRITES_NOTHING,
                format!(
                    "a load changed the directory from {} to {}",
                    report::listing(&before),
                    report::listing(&after)
                ),
            ));
        }
        if self.subject.simulation().map(|s| s.ops()) != ops {
            return Err(Finding::violation(
                "§2.2.5",
                LOAD_WRITES_NOTHING,
                "a load made a persistence operation",
            ));
        }
        Ok(())
    }

    fn check_load(&mut self) -> Result<(), Finding> {
        if coverage::on() {
            if let Found::Corrupt(bytes) = &self.world.file {
                if let Err(corrupt) = lifecycle_model::record::decode(bytes) {
                    coverage::corrupt_class(corrupt.item());
                }
            }
        }
        let (world, loaded) = self.ask(|s, now| s.load(now));
        let judged = compare::load(&world, &loaded);
        if judged.is_err() {
            if let Some(other) = self.other_side() {
                if compare::load(&world.with_file(other.clone()), &loaded).is_ok() {
                    // The implementation chose the other side of a point
                    // of requirements §7; the model follows its choice.
                    let read_as = match other {
                        Found::Corrupt(_) => "corrupt",
                        _ => "valid",
                    };
                    let points = match self.record_entry() {
                        Some(Entry::File { data, .. }) => implementation_defined::of_bytes(&data),
                        _ => Vec::new(),
                    };
                    self.chose(format!(
                        "load read a file holding {} as {read_as}",
                        described(&points)
                    ));
                    self.world.file = other;
                    return Ok(());
                }
            }
        }
        judged.map_err(|finding| match self.record_entry() {
            // Told again with the bytes loaded: the same verdict, the file
            // as written beside the record the model reads in it.
            Some(Entry::File { data, .. }) => compare::load_of(&world, Some(&data), &loaded)
                .err()
                .unwrap_or(finding),
            _ => finding,
        })
    }

    /// Under requirements §7, the other reading of a file on one of its
    /// implementation-defined points: corrupt for a record the model reads
    /// as valid, the record for a file the model reads as corrupt.
    fn other_side(&self) -> Option<Found> {
        if self.world.rules() != Rules::Requirements {
            return None;
        }
        let Some(Entry::File { data, .. }) = self.record_entry() else {
            return None;
        };
        if implementation_defined::of_bytes(&data).is_empty() {
            return None;
        }
        match &self.world.file {
            Found::Valid(_) => Some(Found::Corrupt(data.to_vec())),
            Found::Corrupt(_) => implementation_defined::as_valid(&data).map(Found::Valid),
            _ => None,
        }
    }

    /// Whether requirements §7 lets the implementation refuse to save
    /// `record` (a record on one of its points, which the implementation
    /// may call invalid as it may call such a file corrupt).
    fn may_refuse(&self, record: &Record, observed: &Result<(), Failure>) -> bool {
        self.world.rules() == Rules::Requirements
            && matches!(observed, Err(Failure::InvalidRecord { .. }))
            && !implementation_defined::of_record(record).is_empty()
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
    pub fn power_loss(&mut self, block_size: usize, choice: u64) -> Result<(), Finding> {
        let mut candidates = vec![self.world.file.clone()];
        candidates.extend(self.undurable.iter().cloned());
        self.recover(Crash::PowerLoss { block_size }, choice);
        self.observe("a power loss", &candidates)?;
        self.undurable.clear();
        Ok(())
    }

    /// `op` cut short before its call `at_call` by `crash`; the disk comes
    /// back in state `choice` of those the persistence model allows.
    pub fn crash(
        &mut self,
        op: &WriterOp,
        at_call: u64,
        crash: Crash,
        choice: u64,
    ) -> Result<(), Finding> {
        let before = self.world.clone();
        let mut candidates = before.interrupted(op);
        if matches!(crash, Crash::PowerLoss { .. }) {
            candidates.extend(self.undurable.iter().cloned());
        }
        self.simulation().crash_before_call(at_call);
        // Whatever the subject answers, it answered as it died.
        let _ = self.subject.write(op, before.now());
        self.recover(crash, choice);
        self.observe("a crash", &candidates)?;
        self.undurable.clear();
        // A power loss may legitimately bring back a file older than
        // `before` (one whose replacement's directory fsync failed, SPEC
        // §3.5.2); the sequence is only monotonic across the op itself.
        if before.interrupted(op).contains(&self.world.file) {
            invariants::sequence_never_goes_backwards(op, &before.file, &self.world.file)?;
        }
        Ok(())
    }

    /// `op` with its call `at_call` failing once with `fault`.
    pub fn fault(&mut self, op: &WriterOp, at_call: u64, fault: Injected) -> Result<(), Finding> {
        let before = self.world.clone();
        self.simulation().fail_call(at_call, fault);
        let observed = self.subject.write(op, before.now());
        self.simulation().clear_faults();
        match (&observed, compare::write(&before, op, &observed)) {
            // The fault struck no call, or one whose failure is harmless
            // (a sweep, a retention removal): the model's outcome exactly.
            (_, Ok(())) => {
                if coverage::on() {
                    coverage::hit("fault/no_effect");
                }
            }
            (Err(Failure::Io { errno, .. }), Err(mut disagreement)) => {
                if *errno != Some(fault.errno()) {
                    disagreement.message.push_str(&format!(
                        ", and the error is not the injected {}",
                        fault.name()
                    ));
                    return Err(disagreement);
                }
                if coverage::on() {
                    coverage::hit("fault/reported");
                }
            }
            (_, Err(disagreement)) => return Err(disagreement),
        }
        self.observe("an injected fault", &before.interrupted(op))?;
        if wrote(&observed, before.predict(op).ok().as_ref()) {
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
        invariants::sequence_never_goes_backwards(op, &before.file, &self.world.file)
    }

    /// Requires the record path to hold one of `candidates` and continues
    /// from what it holds.
    fn observe(&mut self, after: &str, candidates: &[Found]) -> Result<(), Finding> {
        let actual = self.record_entry();
        let matched = compare::observe(&self.world, after, actual.as_ref(), candidates)?;
        if coverage::on() {
            coverage::hit(if *matched == self.world.file {
                "observed/old_file"
            } else {
                "observed/another_file"
            });
        }
        self.world.file = compare::found_at(actual.as_ref());
        Ok(())
    }
}

const REFUSED_TOUCHES_NOTHING: &str = "a refused save of an invalid record touches nothing";

/// The sides of a difference between a record saved and its file.
const SAVED_AND_HELD: Sides<'static> = Sides {
    ours: "the record saved has",
    theirs: "the file holds",
};

const ON_A_POINT_REFUSED: &str = "a refused save of a record on a point of requirements §7";
const ON_A_POINT: &str =
    "a record on a point of requirements §7 is saved and loaded back as itself, or refused as invalid";

/// How a save of a record on a point of requirements §7 came out, when it
/// conformed ([`Driver::save_on_a_point`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnAPoint {
    /// Refused as an invalid record, naming this field (or none).
    Refused(Option<String>),
    /// Saved and loaded back; `exactly` when every unknown member came
    /// back as written, not only as the same JSON value.
    Kept { exactly: bool },
}

/// How a save of a record holding an unpaired surrogate escape came out,
/// when it conformed ([`Driver::save_with_a_lone_surrogate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoneSurrogate {
    /// Refused as an invalid record, naming this field (or none).
    Refused(Option<String>),
    /// Saved into a file the SPEC calls valid: the implementation's JSON
    /// reader left no surrogate in the record.
    Saved,
}

const LOAD_WRITES_NOTHING: &str = "load writes nothing";

/// Points of requirements §7 in its words, joined.
fn described(points: &[Point]) -> String {
    let words: Vec<&str> = points.iter().map(|p| p.describe()).collect();
    words.join("; ")
}

/// A record's JSON text as a finding shows it (`report::json_text`).
fn shown_text(text: &str) -> String {
    report::json_text(text)
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

#[cfg(test)]
mod tests;
