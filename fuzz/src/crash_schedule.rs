//! `crash_schedule`: saves on [`SimFs`] cut short by a crash at any call,
//! with an optional injected I/O error, recovered into any state the
//! persistence model allows.
//!
//! Like `tests/crash/checker.rs`, but the fuzz input picks one schedule
//! instead of walking them all: the starting disk (old record, empty
//! directory, no directory), one to three saves (each through the bare
//! `persist::save_with` or the locked `Store::save`), the call the process
//! dies before, the crash (process, or power loss with 512- or 4096-byte
//! blocks), which of the model's states the disk comes back in, and
//! optionally an ENOSPC/EIO/EDQUOT/EROFS at one call.
//!
//! Promises to check (SPEC §3.4-§3.6): the recovered record file holds the
//! last record whose save returned, or the record of a save that had not
//! returned (the one the crash cut, or one whose directory fsync failed);
//! never a partial, empty or mixed file, never an older record, and no file
//! at all only while no save has returned over a missing one; a save that
//! failed before its rename left nothing of its record; the record file is
//! mode 0600 and new directories 0700; every other new file is the lock
//! file or a temp file, and the next lock holder sweeps the temp files.
//!
//! Does not check: concurrent writers, or file systems weaker than the
//! persistence model (`model/README.md`).

use std::path::Path;

use lifecycle_model::persistence::{Crash, Disk, Node};
use lifecycle_state::persist::{self, LoadOutcome, SaveError, SaveStep};
use lifecycle_state::{ManualClock, Options, Record, Store, StoreError};
use lifecycle_testkit::{Fault, SimFs};

use crate::bridge;
use crate::input::{Reader, Shape, Writer};
use crate::record_spec::RecordSpec;
use crate::world::{self, DIR, LOCK, RECORD};

/// What the disk holds before the first save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    OldRecord,
    NoRecord,
    NoDirectory,
}

const STARTS: [Start; 3] = [Start::OldRecord, Start::NoRecord, Start::NoDirectory];

pub const CRASHES: [Crash; 3] = [
    Crash::Process,
    Crash::PowerLoss { block_size: 512 },
    Crash::PowerLoss { block_size: 4096 },
];

/// One save: the record, and whether it goes through the locked store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveSpec {
    pub record: RecordSpec,
    pub locked: bool,
}

impl Shape for SaveSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        SaveSpec {
            record: r.read(),
            locked: r.flag(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.record);
        w.flag(self.locked);
    }
}

/// An I/O error at call `call` (counted from the first save's first call;
/// a call past the last one injects nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultSpec {
    pub call: u8,
    pub fault: Fault,
}

impl Shape for FaultSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        FaultSpec {
            call: r.byte() % 64,
            fault: r.pick(&Fault::ALL),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.byte(self.call);
        w.pick(&Fault::ALL, &self.fault);
    }
}

/// The whole schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub start: Start,
    pub old: RecordSpec,
    /// One to three saves.
    pub saves: Vec<SaveSpec>,
    /// The crash comes before call `crash_call % (calls + 1)`: the last
    /// choice is "after every save returned".
    pub crash_call: u16,
    pub crash: Crash,
    /// Which of the persistence model's states (modulo their number).
    pub state: u64,
    pub fault: Option<FaultSpec>,
}

impl Shape for Plan {
    fn read(r: &mut Reader<'_>) -> Self {
        let start = r.pick(&STARTS);
        let old = r.read();
        let count = 1 + r.below(3);
        Plan {
            start,
            old,
            saves: (0..count).map(|_| r.read()).collect(),
            crash_call: r.u16(),
            crash: r.pick(&CRASHES),
            state: r.u64(),
            fault: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&STARTS, &self.start);
        w.write(&self.old);
        assert!((1..=3).contains(&self.saves.len()), "one to three saves");
        w.below(self.saves.len() - 1, 3);
        self.saves.iter().for_each(|s| s.write(w));
        w.u16(self.crash_call);
        w.pick(&CRASHES, &self.crash);
        w.u64(self.state);
        w.write(&self.fault);
    }
}

/// What the record file may hold after the crash.
#[derive(Debug, Default)]
struct Allowed {
    /// The last record known durable (`None`: no record file).
    durable: Option<Record>,
    /// Records that may have replaced it.
    in_flight: Vec<Record>,
}

pub fn crash_schedule(data: &[u8]) {
    let plan = Plan::from_bytes(data);
    let old = plan.old.build();
    // An invalid old record would be a corrupt file, not an "old record".
    let start = match plan.start {
        Start::OldRecord if !bridge::record(&old).is_valid() => Start::NoRecord,
        start => start,
    };
    let initial = initial_disk(start, &old);
    let saves: Vec<(Record, bool)> = plan
        .saves
        .iter()
        .map(|s| (s.record.build(), s.locked))
        .collect();
    let clock = world::clock();

    let dry = SimFs::from_disk(&initial);
    if let Some(f) = plan.fault {
        dry.fail_call(u64::from(f.call), f.fault);
    }
    run_saves(&dry, &clock, &saves, None);
    let calls = dry.calls();

    let sim = SimFs::from_disk(&initial);
    if let Some(f) = plan.fault {
        sim.fail_call(u64::from(f.call), f.fault);
    }
    let crash_before = u64::from(plan.crash_call) % (calls + 1);
    sim.crash_at_call(crash_before);
    let durable = (start == Start::OldRecord).then(|| old.clone());
    let allowed = run_saves(&sim, &clock, &saves, durable);

    let context = format!(
        "{start:?}, crash before call {crash_before} of {calls}, {:?}, state {}",
        plan.crash, plan.state
    );
    if let Err(e) = sim.recover(plan.crash, plan.state) {
        panic!("{context}: SimFs logged what the persistence model calls impossible: {e}");
    }
    let disk = sim.disk();
    if let Err(what) = check_files(&disk, &initial) {
        panic!("{context}: {what}");
    }
    let loaded = persist::load_with(&sim, &clock, Path::new(RECORD));
    let ok = match &loaded.outcome {
        LoadOutcome::Valid => {
            allowed.durable.as_ref() == Some(&loaded.record)
                || allowed.in_flight.contains(&loaded.record)
        }
        LoadOutcome::Missing => allowed.durable.is_none(),
        _ => false,
    };
    assert!(
        ok,
        "{context}: the record file is neither the durable record nor one in flight: {} {:?}\nallowed: {allowed:?}",
        loaded.outcome, loaded.record
    );
    next_writer_sweeps(&sim, &clock, &context);
}

fn initial_disk(start: Start, old: &Record) -> Disk {
    let sim = SimFs::new();
    match start {
        Start::OldRecord => sim.put_file(RECORD, &lifecycle_state::encode(old), 0o600),
        Start::NoRecord => sim.put_dir(DIR, 0o700),
        Start::NoDirectory => {}
    }
    sim.disk()
}

/// Runs the saves in order and says what the record file may hold after.
fn run_saves(
    sim: &SimFs,
    clock: &ManualClock,
    saves: &[(Record, bool)],
    durable: Option<Record>,
) -> Allowed {
    let mut allowed = Allowed {
        durable,
        in_flight: Vec::new(),
    };
    for (record, locked) in saves {
        let valid = bridge::record(record).is_valid();
        let dead_already = sim.crashed();
        let result = if *locked {
            match Store::new(sim.clone(), clock, RECORD, Options::default()).save(record) {
                Ok(_) => Ok(()),
                Err(StoreError::Save(e)) => Err(Some(e)),
                Err(_) => Err(None),
            }
        } else {
            persist::save_with(sim, Path::new(RECORD), record).map_err(Some)
        };
        match result {
            Ok(()) => {
                assert!(valid, "the store saved a record the model calls invalid");
                allowed.durable = Some(record.clone());
                allowed.in_flight.clear();
            }
            Err(Some(SaveError::Invalid(_))) => {
                assert!(!valid, "the store refused a record the model calls valid");
            }
            Err(e) => {
                assert!(valid, "an invalid record reached the file system: {e:?}");
                // SPEC §3.5: a failure before the rename leaves the old
                // record; after it (the directory fsync) the new one may
                // be in place; a crash may stop anywhere.
                let after_rename = matches!(
                    e,
                    Some(SaveError::Io {
                        step: SaveStep::SyncDir,
                        ..
                    })
                );
                if !dead_already && (sim.crashed() || after_rename) {
                    allowed.in_flight.push(record.clone());
                }
            }
        }
    }
    allowed
}

/// Modes, and that every new file is the record, the lock or a temp file.
fn check_files(disk: &Disk, initial: &Disk) -> Result<(), String> {
    for (path, node) in &disk.nodes {
        let is_new = !initial.nodes.contains_key(path);
        match node {
            Node::File { mode, .. } if (path == RECORD || path == LOCK) && *mode != 0o600 => {
                return Err(format!("{path} is visible with mode {mode:o}"));
            }
            Node::File { .. } if path == RECORD || path == LOCK => {}
            Node::File { .. } if is_new && world::temp_files_in(path).is_none() => {
                return Err(format!("{path} is left behind and no writer will sweep it"));
            }
            Node::Dir { mode } if is_new && *mode != 0o700 => {
                return Err(format!("directory {path} was created with mode {mode:o}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// SPEC §3.7: the next lock holder removes what a killed writer left.
fn next_writer_sweeps(sim: &SimFs, clock: &ManualClock, context: &str) {
    let store = Store::new(sim.clone(), clock, RECORD, Options::default());
    if let Err(e) = store.cycle_done() {
        panic!("{context}: the first writer after recovery failed: {e}");
    }
    let disk = sim.disk();
    let left = world::temp_files(&disk);
    assert!(
        left.is_empty(),
        "{context}: the next writer did not sweep {left:?}"
    );
}
