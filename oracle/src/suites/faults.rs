//! `faults`: a save whose system calls fail, one at a time.
//!
//! Promises: for each starting directory (none yet, an old record, a
//! corrupt file), the adapter's save of a new record is recorded under the
//! tracer and replayed once per call that changes the disk or makes it
//! durable (create, write, truncate, chmod, mkdir, rename, fsync, the open
//! of a directory that is then fsynced, the close of a written file) and
//! per errno of a failing disk (ENOSPC, EDQUOT, EIO), the call failing
//! instead of running; see `traced::replay`. After each: the save must
//! return an error (§3.5: a success after a failed fsync is a violation),
//! add nothing to the directory but the record and the declared sidecar
//! files, and leave the old record; after a failure that follows the
//! rename onto the record path, the old or the new.
//!
//! Does not promise: faults in calls that only read, stat or remove (a
//! failed sweep or cleanup need not fail a save); more than the first
//! finding of a case.

use std::collections::BTreeSet;

use lifecycle_harness::subject::Failure;
use lifecycle_harness::Finding;
use lifecycle_model::persistence::Op;
use lifecycle_model::spec::FILE_MODE;

use crate::case::{Case, Judged, Planned};
use crate::syscalls::{descriptor, next_close, opens};
use crate::traced;
use crate::traced::held::{holds, Held};
use crate::traced::record::{Recorded, Traced};
use crate::traced::replay::{found_at, interrupt_each, Replay};
use crate::traced::start::{new_record, StartingState};
use crate::tracer::Action;

const STARTS: [StartingState; 3] = [
    StartingState::NoDirectory,
    StartingState::OldRecord,
    StartingState::CorruptFile,
];

/// The errnos of a failed disk: full, over quota, broken.
const ERRNOS: [&str; 3] = ["ENOSPC", "EDQUOT", "EIO"];

/// The calls of the recorded save where a fault must fail the save: those
/// of its operations other than removals, the opens of directories it
/// fsyncs, and the closes of files it wrote.
fn fault_points(recorded: &Recorded) -> Vec<(usize, Action)> {
    let trace = &recorded.trace;
    let mut points = BTreeSet::new();
    for traced in &recorded.ops {
        let Some(call) = trace.calls.get(traced.call) else {
            continue;
        };
        match traced.op {
            Op::Unlink { .. } | Op::Rmdir { .. } => continue,
            Op::FsyncDir { .. } => {
                // The open that gave the descriptor fsynced.
                if let Some(fd) = descriptor(call) {
                    let opened = trace.calls[..traced.call]
                        .iter()
                        .rev()
                        .find(|c| c.pid == fd.0 && opens(c) && descriptor(c) == Some(fd));
                    if let Some(open) = opened {
                        points.insert(open.index);
                    }
                }
            }
            Op::Create { .. }
            | Op::Write { .. }
            | Op::Truncate { .. }
            | Op::FsyncFile { .. }
            | Op::FdatasyncFile { .. } => {
                if let Some(fd) = descriptor(call) {
                    if let Some(close) = next_close(trace, traced.call, fd) {
                        points.insert(close);
                    }
                }
            }
            Op::Chmod { .. } | Op::Mkdir { .. } | Op::Rename { .. } => {}
        }
        points.insert(traced.call);
    }
    points
        .into_iter()
        .flat_map(|i| ERRNOS.map(|errno| (i, Action::Fail(errno))))
        .collect()
}

/// The rule every finding of a failed call breaks.
const FAILED_SAVE: &str =
    "a save whose write, sync or rename fails returns the error, leaves the old record and no temp file";

/// What a replay left, judged for a fault.
fn judge_fault(start: StartingState, run: &Replay, recorded: &Recorded) -> Result<(), Judged> {
    let point = &run.point;
    let new = new_record();
    let errno = match point.injection.action {
        Action::Fail(errno) => errno,
        Action::Kill => "SIGKILL",
    };
    let violation = |message: String| Finding::violation("§3.5", FAILED_SAVE, message);
    match &run.saved {
        Ok(()) => {
            return Err(found_at(
                violation(format!(
                    "save returned success though {} failed with {errno}",
                    point.text
                )),
                point,
                recorded,
                "save must return the error",
            ))
        }
        Err(Failure::Crashed { what }) => {
            return Err(found_at(
                violation(format!(
                    "after {} failed with {errno}, save did not return: {what}",
                    point.text
                )),
                point,
                recorded,
                "save must return the error",
            ))
        }
        Err(_) => {}
    }
    let held = Held::read(&run.scope.dir)
        .map_err(|e| Judged::Skipped(format!("the oracle could not read the record path: {e}")))?;
    let after_rename = recorded.ops.iter().any(|t| {
        t.call < point.call && matches!(&t.op, Op::Rename { to, .. } if *to == recorded.record_path)
    });
    let old = start.held();
    let new_there =
        matches!(&held, Held::File { mode, data } if *mode == FILE_MODE && holds(data, &new));
    if held != old && !(after_rename && new_there) {
        let allowed_text = if after_rename {
            "the old record or the new one"
        } else {
            "the old record, intact"
        };
        return Err(found_at(
            violation(format!(
                "after {} failed with {errno}, the record path holds {}; it must hold {allowed_text} ({})",
                point.text,
                held.describe(),
                old.describe()
            )),
            point,
            recorded,
            "then the record path is read",
        ));
    }
    let left = run.leftovers();
    if !left.is_empty() {
        return Err(found_at(
            violation(format!(
                "after {} failed with {errno}, save left {} behind",
                point.text,
                left.join(", ")
            )),
            point,
            recorded,
            "then the directory is listed",
        ));
    }
    Ok(())
}

fn run_case(case: &mut Case<'_>, command: Option<&str>, start: StartingState) -> Judged {
    let traced = match Traced::find(command) {
        Ok(traced) => traced,
        Err(judged) => return judged,
    };
    match interrupt_each(case, &traced, start, fault_points, |_, run, recorded| {
        judge_fault(start, run, recorded)
    }) {
        Ok(interrupted) => Judged::Pass(format!(
            "{} calls of the save touch the case directory; {} interrupted in {} runs (the call fails with ENOSPC, EDQUOT and EIO in turn), each as allowed",
            interrupted.touching, interrupted.points, interrupted.runs
        )),
        Err(judged) => judged,
    }
}

pub fn plan(command: Option<String>) -> Vec<Planned> {
    traced::per_start(
        "faults",
        "§3.5",
        &STARTS,
        "ENOSPC, EDQUOT and EIO at each call that changes the disk or syncs it; save must fail and leave the old record, no temp file",
        command,
        run_case,
    )
}
