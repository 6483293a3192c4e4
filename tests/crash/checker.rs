//! The exhaustive crash check of one save, shared by `tests/crash.rs` and
//! the crash benchmark.
//!
//! Promises: [`check`] runs a save protocol on [`SimFs`] once per crash point
//! (before each file-system call, and after the save returned), and for each
//! asks the persistence model for every state a process crash and a power
//! loss (512- and 4096-byte blocks) may leave. Each state is checked with the
//! store's own `load`: the record file holds the complete old or the complete
//! new record (the new one once save has returned), is mode 0600, and every
//! other file the save left is a temp file that the next lock holder sweeps.
//!
//! Does not promise: anything about saves that run concurrently, or about
//! file systems weaker than the persistence model (see `model/README.md`).

use std::fmt;
use std::path::Path;

use lifecycle_model::persistence::{Crash, CrashSpace, Disk, Node};
use lifecycle_state::persist::{self, LoadOutcome};
use lifecycle_state::{ManualClock, Record, Timestamp};
use lifecycle_testkit::SimFs;

/// A save protocol under test: writes `bytes` as the record at `path`.
pub type Protocol = fn(&SimFs, &Path, &[u8]) -> Result<(), String>;

pub const DIR: &str = "/state";
pub const RECORD: &str = "/state/lifecycle_state.json";

/// The crashes every crash point is checked under.
pub const CRASHES: [Crash; 3] = [
    Crash::Process,
    Crash::PowerLoss { block_size: 512 },
    Crash::PowerLoss { block_size: 4096 },
];

/// What the disk holds before the save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// `/state` holds the old record.
    OldRecord,
    /// `/state` exists, the record file does not.
    NoRecord,
    /// Not even `/state` exists: the save creates it.
    NoDirectory,
}

/// One state that breaks the contract, with how it was reached.
#[derive(Debug, Clone)]
pub struct Violation {
    pub crash_before_call: u64,
    pub save_returned: bool,
    pub crash: Crash,
    pub state_index: u64,
    pub what: String,
    pub disk: Disk,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<String> = self
            .disk
            .nodes
            .iter()
            .map(|(path, node)| match node {
                Node::Dir { mode } => format!("{path}/ ({mode:o})"),
                Node::File { mode, data, .. } => {
                    format!("{path} ({mode:o}, {} bytes)", data.len())
                }
            })
            .collect();
        write!(
            f,
            "{} — crash before call {} (save returned: {}), {:?}, state {}; disk: {}",
            self.what,
            self.crash_before_call,
            self.save_returned,
            self.crash,
            self.state_index,
            files.join(", ")
        )
    }
}

/// How much [`check`] looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    pub crash_points: u64,
    pub states: u64,
}

/// The disk before the save.
pub fn initial_disk(start: Start, old: &Record) -> Disk {
    let sim = SimFs::new();
    match start {
        Start::OldRecord => sim.put_file(RECORD, &lifecycle_state::encode(old), 0o600),
        Start::NoRecord => sim.put_dir(DIR, 0o700),
        Start::NoDirectory => {}
    }
    sim.disk()
}

/// Every crash point × every crash × every state the model allows.
/// Returns the first violation, or how much was checked.
pub fn check(
    protocol: Protocol,
    start: Start,
    old: &Record,
    new: &Record,
) -> Result<Checked, Box<Violation>> {
    let initial = initial_disk(start, old);
    let new_bytes = lifecycle_state::encode(new);
    let dry = SimFs::from_disk(&initial);
    if let Err(e) = protocol(&dry, Path::new(RECORD), &new_bytes) {
        return Err(Box::new(Violation {
            crash_before_call: dry.calls(),
            save_returned: false,
            crash: Crash::Process,
            state_index: 0,
            what: format!("the save failed without any crash: {e}"),
            disk: dry.disk(),
        }));
    }
    let calls = dry.calls();
    let old = (start == Start::OldRecord).then_some(old);
    let clock = ManualClock::at(&Timestamp::parse("2030-01-01T00:00:00Z").expect("valid"));
    let mut checked = Checked::default();
    for crash_before_call in 0..=calls {
        let sim = SimFs::from_disk(&initial);
        sim.crash_at_call(crash_before_call);
        let save_returned = protocol(&sim, Path::new(RECORD), &new_bytes).is_ok();
        checked.crash_points += 1;
        for crash in CRASHES {
            let space = match CrashSpace::new(&sim.base(), &sim.log(), crash) {
                Ok(space) => space,
                Err(e) => panic!("SimFs logged what the model calls impossible: {e}"),
            };
            for state_index in 0..space.len() {
                checked.states += 1;
                let verdict = check_state(
                    space.state(state_index),
                    &initial,
                    old,
                    new,
                    save_returned,
                    &clock,
                );
                if let Err((what, disk)) = verdict {
                    return Err(Box::new(Violation {
                        crash_before_call,
                        save_returned,
                        crash,
                        state_index,
                        what,
                        disk,
                    }));
                }
            }
        }
    }
    Ok(checked)
}

/// The contract for one recovered disk; on a violation, what and the disk.
fn check_state(
    disk: Disk,
    initial: &Disk,
    old: Option<&Record>,
    new: &Record,
    save_returned: bool,
    clock: &ManualClock,
) -> Result<(), (String, Disk)> {
    if let Err(what) = check_files(&disk, initial) {
        return Err((what, disk));
    }
    let sim = SimFs::from_owned_disk(disk);
    let loaded = persist::load_with(&sim, clock, Path::new(RECORD));
    let what = match (&loaded.outcome, old) {
        (LoadOutcome::Valid, _) if loaded.record == *new => return Ok(()),
        (LoadOutcome::Valid, Some(old)) if loaded.record == *old && !save_returned => return Ok(()),
        (LoadOutcome::Missing, None) if !save_returned => return Ok(()),
        (LoadOutcome::Valid, _) if save_returned => {
            "after save returned, the old record is back".to_string()
        }
        (outcome, _) => format!("the record file is neither old nor new: {outcome}"),
    };
    Err((what, sim.disk()))
}

/// Modes, and that every new file is the record or a sweepable temp file.
fn check_files(disk: &Disk, initial: &Disk) -> Result<(), String> {
    if let Some(Node::File { mode, .. }) = disk.nodes.get(RECORD) {
        if *mode != 0o600 {
            return Err(format!("the record file is visible with mode {mode:o}"));
        }
    }
    for (path, node) in &disk.nodes {
        let is_new = !initial.nodes.contains_key(path);
        match node {
            Node::File { .. } if path != RECORD && is_new && !is_swept_temp(path) => {
                return Err(format!(
                    "{path} is left behind and no lock holder will sweep it"
                ))
            }
            Node::Dir { mode } if is_new && *mode != 0o700 => {
                return Err(format!("directory {path} was created with mode {mode:o}"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// `/state/.lifecycle_state.*.tmp`: what the next lock holder removes.
fn is_swept_temp(path: &str) -> bool {
    path.strip_prefix("/state/")
        .is_some_and(|name| persist::is_temp_name(name.as_ref()))
}
