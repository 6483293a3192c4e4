//! What every stateful target shares: where the record lives, a fixed
//! clock, and reading the simulated disk.

use lifecycle_model::persistence::{Disk, Node};
use lifecycle_model::Timestamp;
use lifecycle_state::{Clock, ManualClock};

use crate::record_spec::timestamp;

pub const DIR: &str = "/state";
pub const RECORD: &str = "/state/lifecycle_state.json";
pub const LOCK: &str = "/state/.lifecycle.lock";

/// Every run starts at the same instant, so a crash input replays exactly.
pub const EPOCH: &str = "2030-01-01T00:00:00Z";

pub fn clock() -> ManualClock {
    ManualClock::at(&timestamp(EPOCH))
}

/// The model's view of the store's "now" (the clock is the harness's
/// input, not something under test).
pub fn model_now(clock: &impl Clock) -> Timestamp {
    let now = clock.now();
    Timestamp::parse(now.as_str()).unwrap_or_else(|| {
        panic!(
            "the store's clock made {:?}, which the model rejects (SPEC §1.4)",
            now.as_str()
        )
    })
}

/// The bytes of the file at `path`, if there is one.
pub fn file<'d>(disk: &'d Disk, path: &str) -> Option<&'d [u8]> {
    match disk.nodes.get(path) {
        Some(Node::File { data, .. }) => Some(data),
        _ => None,
    }
}

/// The name of `path` when it is a temp file of the store in `/state`
/// (what the next lock holder sweeps, SPEC §3.7).
pub fn temp_files_in(path: &str) -> Option<&str> {
    path.strip_prefix("/state/")
        .filter(|name| lifecycle_state::persist::is_temp_name(name.as_ref()))
}

/// The store's temp files in `/state`.
pub fn temp_files(disk: &Disk) -> Vec<&str> {
    disk.nodes.keys().filter_map(|p| temp_files_in(p)).collect()
}
