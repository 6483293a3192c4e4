//! A save protocol on the simulated file system, judged by the harness's
//! crash judge at every crash point.
//!
//! Promises: [`check`] runs a save `protocol` on a [`SimFs`] holding the
//! start disk, takes the log of persistence operations it made, and hands
//! it to `lifecycle_harness::crash::judge_save`, which judges every state a
//! crash after each operation may leave with the model's decoder. The
//! exhaustive crash test, its broken protocols and the crash benchmark all
//! run through here.

use std::path::Path;

use lifecycle_harness::crash::{
    initial_disk, judge_save, Checked, Layout, StartingDisk, Violation,
};
use lifecycle_model::persistence::{Crash, Node};
use lifecycle_model::Record;

use crate::sim_fs::SimFs;

/// A save protocol under test: writes `bytes` as the record at `path`.
pub type Protocol = fn(&SimFs, &Path, &[u8]) -> Result<(), String>;

/// Every crash point of `protocol` saving `new` over `start` × every crash
/// × every state the persistence model allows: the first violation, or how
/// much was checked. A protocol that fails without any crash is a
/// violation too.
pub fn check(
    protocol: Protocol,
    start: StartingDisk,
    old: &Record,
    new: &Record,
) -> Result<Checked, Box<Violation>> {
    let layout = Layout::state_dir();
    let initial = initial_disk(&layout, start, old);
    let sim = SimFs::from_disk(&initial);
    let path = layout.record_path();
    if let Err(e) = protocol(&sim, Path::new(&path), &new.encode()) {
        return Err(Box::new(Violation {
            after_ops: sim.ops(),
            ops: sim.ops(),
            crash: Crash::Process,
            state_index: 0,
            what: format!("the save failed without any crash: {e}"),
            disk: sim.disk(),
        }));
    }
    let old = matches!(initial.nodes.get(&path), Some(Node::File { .. })).then_some(old);
    judge_save(&layout, &initial, &sim.log(), old, new)
}
