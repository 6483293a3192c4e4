//! The traced save: one save of an adapter recorded under a system-call
//! tracer, and what the `power`, `kill`, `faults` and traced `permissions`
//! suites judge it with. They use this module as peers; none imports
//! another.
//!
//! Promises, one job a module:
//! - [`start`]: the disks a traced save starts from, made on the real disk,
//!   and the record it saves;
//! - [`record`]: the save recorded under the tracer and turned into the
//!   persistence model's op log (or skipped, naming the call the model
//!   cannot hold);
//! - [`held`]: what the record path holds, on the real disk or in a model
//!   disk, and which of those a save may leave;
//! - [`load`]: a load through the adapter of what a save left, judged by
//!   the model;
//! - [`op_log`]: the op log in words, for a reproduction;
//! - [`replay`]: the save replayed with one call killed or failed, each
//!   replay checked to hit the call it meant (for `kill` and `faults`);
//! - [`pinned`]: a save under the tracer held on one CPU, tracer and
//!   adapter together (a wake-up across CPUs is what a stop costs most);
//! - [`templates`]: the adapters kept to fork replays from, shared by the
//!   cases of a run.
//!
//! Does not promise: anything without a tracer (every traced case is then
//! skipped, saying how to install one).

use lifecycle_harness::report;

use crate::case::{Case, Judged, Planned};
use start::{new_record, StartingState};

pub mod held;
pub mod load;
pub mod op_log;
pub mod pinned;
pub mod record;
pub mod replay;
pub mod start;
pub mod templates;

/// A traced suite's cases, one per starting state: `SUITE/START`, checking
/// `spec`, reproduced as the start, the save of the new record under
/// strace, then `how`; each runs `run` with the command to trace.
pub fn per_start(
    suite: &str,
    spec: &'static str,
    starts: &[StartingState],
    how: &str,
    command: Option<String>,
    run: fn(&mut Case<'_>, Option<&str>, StartingState) -> Judged,
) -> Vec<Planned> {
    starts
        .iter()
        .map(|&start| {
            let command = command.clone();
            Planned::new(
                format!("{suite}/{}", start.name()),
                spec,
                format!(
                    "{}; save of {} under strace, {how}",
                    start.describe(),
                    report::record(&new_record())
                ),
                move |case| run(case, command.as_deref(), start),
            )
        })
        .collect()
}
