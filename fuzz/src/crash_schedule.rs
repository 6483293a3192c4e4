//! `crash_schedule`: saves on SimFs cut short by a crash at any call, with
//! an optional injected I/O error, recovered into any state the persistence
//! model allows.
//!
//! Like the exhaustive crash test (`tests/crash.rs`), but the fuzz input
//! picks one schedule instead of walking them all: the starting disk (old
//! record, empty directory, no directory), one to three saves (each the
//! library save of SPEC §3 or the locked save of the writer), the call the
//! process dies before, the crash (process, or power loss with 512- or
//! 4096-byte blocks), which of the model's states the disk comes back in,
//! and optionally an ENOSPC/EIO/EDQUOT/EROFS at one call. The store runs
//! through its in-process subject; the disk is judged by the harness's
//! crash judge, with the model's decoder.
//!
//! Promises to check (SPEC §3.4-§3.6): the recovered record file holds the
//! last record whose save returned, or the record of a save that had not
//! returned (the one the crash cut, or one that failed after its rename);
//! never a partial, empty or mixed file, never an older record, and no file
//! at all only while no save has returned over a missing one; a save that
//! failed before its rename left nothing of its record; the record file is
//! mode 0600 and new directories 0700; every other new file is the lock
//! file or a temp file; load agrees with the model on the recovered disk;
//! and the next lock holder sweeps the temp files.
//!
//! Does not check: concurrent writers, or file systems weaker than the
//! persistence model (`model/README.md`).

use lifecycle_harness::crash::{
    initial_disk, judge_disk_read, Allowed, Layout, StartingDisk, STARTING_DISKS,
};
use lifecycle_harness::generate::record::RecordSpec;
use lifecycle_harness::input::{Reader, Shape, Writer};
use lifecycle_harness::subject::{Failure, Subject};
use lifecycle_harness::transition::CRASHES;
use lifecycle_harness::{compare, invariants, report, Injected, World};
use lifecycle_model::persistence::{Crash, Disk, Op};
use lifecycle_model::writer::WriterOp;
use lifecycle_model::Record;
use lifecycle_testkit::backend::SimDisk;
use lifecycle_testkit::{SimFs, StoreSubject};

use crate::EPOCH_MICROS;

/// One save: the record, and whether it goes through the locked writer.
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
    pub fault: Injected,
}

impl Shape for FaultSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        FaultSpec {
            call: r.byte() % 64,
            fault: r.pick(&Injected::ALL),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.byte(self.call);
        w.pick(&Injected::ALL, &self.fault);
    }
}

/// The whole schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub start: StartingDisk,
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
        let start = r.pick(&STARTING_DISKS);
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
        w.pick(&STARTING_DISKS, &self.start);
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

type Saver = StoreSubject<SimDisk>;

/// A subject on a simulated disk holding `initial`, with `fault` armed.
fn subject(initial: &Disk, fault: Option<FaultSpec>) -> (Saver, SimFs) {
    let sim = SimFs::from_disk(initial);
    if let Some(f) = fault {
        sim.fail_call(u64::from(f.call), f.fault);
    }
    (StoreSubject::on(SimDisk::on(sim.clone())), sim)
}

pub fn crash_schedule(data: &[u8]) {
    let plan = Plan::from_bytes(data);
    let layout = Layout::state_dir();
    let old = plan.old.build(EPOCH_MICROS);
    // An invalid old record would be a corrupt file, not an "old record".
    let start = match plan.start {
        StartingDisk::OldRecord if !old.is_valid() => StartingDisk::NoRecord,
        start => start,
    };
    let initial = initial_disk(&layout, start, &old);
    let saves: Vec<Save> = plan
        .saves
        .iter()
        .map(|s| {
            let record = s.record.build_as_written(EPOCH_MICROS);
            Save {
                valid: record.is_valid(),
                record,
                locked: s.locked,
            }
        })
        .collect();

    // The dry run counts the calls and checks every answer: with no crash,
    // each save must be what SPEC §3.1 says of its record.
    let (mut dry, dry_sim) = subject(&initial, plan.fault);
    run_saves(
        &mut dry,
        &dry_sim,
        &layout,
        &saves,
        Allowed::default(),
        true,
    );
    let calls = dry_sim.calls();

    let (mut subject, sim) = subject(&initial, plan.fault);
    let crash_before = u64::from(plan.crash_call) % (calls + 1);
    sim.crash_at_call(crash_before);
    let durable = match start {
        StartingDisk::OldRecord => Allowed::default().or(&old),
        _ => Allowed::default().or_missing(),
    };
    let allowed = run_saves(&mut subject, &sim, &layout, &saves, durable, false);

    let context = format!(
        "{start:?}, crash before call {crash_before} of {calls}, {:?}, state {}",
        plan.crash, plan.state
    );
    if let Err(e) = sim.recover(plan.crash, plan.state) {
        panic!("{context}: SimFs logged what the persistence model calls impossible: {e}");
    }
    // What the record path holds as the model reads it: read once, for the
    // crash judge and for the load after.
    let found = compare::found_at(subject.entries().get(&layout.record));
    if let Err(what) = judge_disk_read(&sim.disk(), &initial, &layout, &allowed, &found) {
        panic!("{context}: {what}");
    }
    let world = World::new(EPOCH_MICROS, found);
    if let Err(message) = compare::load(&world, &subject.load(world.now())) {
        panic!("{context}: {message}");
    }
    next_writer_sweeps(&mut subject, &world, &context);
}

/// One save of the plan.
struct Save {
    record: Record,
    locked: bool,
    /// What the model says of the record (SPEC §3.1), decided once.
    valid: bool,
}

/// Runs the saves in order and says what the record file may hold after,
/// starting from `durable`: a returned save that wrote makes its record the
/// one durable record; a save cut by the crash, or one that failed after its
/// rename (the log shows it), may have left its record in place. With
/// `check`, each answer is judged.
fn run_saves(
    subject: &mut Saver,
    sim: &SimFs,
    layout: &Layout,
    saves: &[Save],
    mut allowed: Allowed,
    check: bool,
) -> Allowed {
    let record_path = layout.record_path();
    let now = lifecycle_harness::world::at_micros(EPOCH_MICROS);
    for Save {
        record,
        locked,
        valid,
    } in saves
    {
        let dead_already = sim.crashed();
        let logged = sim.ops();
        // Whether a save that returned wrote: the library save always does;
        // the writer's does not when the record is what the file holds
        // (SPEC §4.6), a missing file standing for the default.
        let (result, wrote) = if *locked {
            match subject.write(&WriterOp::Save(record.clone()), &now) {
                Ok(written) => (Ok(()), written.wrote != Some(false)),
                Err(failure) => (Err(failure), false),
            }
        } else {
            (subject.save(record), true)
        };
        // An I/O error is the injected fault; anything else must be what
        // SPEC §3.1 says of this record.
        match &result {
            Err(Failure::Io { .. }) if check => assert!(
                *valid,
                "an invalid record reached the file system: {}",
                lifecycle_harness::report::record(record)
            ),
            _ if check => {
                if let Err(message) =
                    compare::save_judged(|| report::record_text(record), *valid, None, &result)
                {
                    panic!("{message}");
                }
            }
            _ => {}
        }
        let renamed = sim.log()[logged..]
            .iter()
            .any(|op| matches!(op, Op::Rename { to, .. } if *to == record_path));
        match result {
            Ok(()) if wrote => allowed.only(record),
            Ok(()) => {}
            Err(Failure::InvalidRecord { .. }) => {}
            Err(_) if !dead_already && (sim.crashed() || renamed) => allowed.add(record),
            Err(_) => {}
        }
    }
    allowed
}

/// SPEC §3.7: the next lock holder removes what a killed writer left.
fn next_writer_sweeps(subject: &mut Saver, world: &World, context: &str) {
    let before = subject.entries();
    if let Err(e) = subject.write(&WriterOp::CycleDone, world.now()) {
        panic!("{context}: the first writer after recovery failed: {e}");
    }
    let sidecars = subject.sidecars();
    let name = subject.record_name().to_string();
    let swept =
        invariants::no_temp_files_remain(&name, &sidecars, &before, &subject.entries(), true);
    if let Err(message) = swept {
        panic!("{context}: the next writer did not sweep: {message}");
    }
}
