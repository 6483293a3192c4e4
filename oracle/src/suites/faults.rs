//! `faults`: a save whose system calls fail, one at a time.
//!
//! Promises: for each starting directory (none yet, an old record of mode
//! 0600, 0644, 0640 or 0666, a corrupt file, a directory made 0755, a
//! symlink to the old record or to nothing:
//! `traced::start::interrupted_starts`), the adapter's save of a new record
//! is recorded under the tracer and replayed once per call that changes the
//! disk or makes it durable (create, write, truncate, chmod, mkdir, rename,
//! link, fsync, the open of a directory that is then fsynced, the close of
//! a written file) and per errno of a failing disk (ENOSPC, EDQUOT, EIO),
//! the call failing instead of running; see `traced::replay`. Each replay
//! is judged by its outcome (requirements §7: by outcome, not by steps). A
//! save that returns an error must leave the old record (after the rename
//! onto the record path, the old or the new), and nothing in the directory
//! but the record and the declared sidecar files, nor a file it created
//! exclusively outside the case directory (a temp file in `$TMPDIR`). A
//! save that returns success must have recovered: the new record at the
//! path, 0600, and durable, which is judged by running the replay's own
//! trace through the power model (a swallowed failure of a write or an
//! fsync leaves a disk without it); what it recovered from is an `info`.
//! Every point is judged; the case reports its first finding (a violation
//! before a divergence) and how many other replays broke a rule.
//!
//! Does not promise: faults in calls that only read, stat or remove (a
//! failed sweep or cleanup need not fail a save), nor in the calls on a
//! temp file made outside the case directory and moved in (though a
//! replay's trace follows them, so its op log holds that temp); a strace
//! replay's reads are not in its trace (`lifecycle trace` writes them
//! all), so there a save that reads a file through the descriptor it
//! then writes is judged as if the read had not moved the offset.

use std::collections::BTreeSet;

use lifecycle_harness::subject::Failure;
use lifecycle_harness::Finding;
use lifecycle_model::persistence::{Crash, CrashSpace, Disk, Op};
use lifecycle_model::spec::{FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::Record;

use crate::case::{Case, Judged, Planned};
use crate::syscalls::{descriptor, next_close, opens};
use crate::traced;
use crate::traced::held::{allowed, holds, Broken, Held};
use crate::traced::record::{op_log_of, Recorded, Traced};
use crate::traced::replay::{found_at, interrupt_each, Replay};
use crate::traced::start::{interrupted_starts, new_record, StartingState};
use crate::tracer::Action;

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
            | Op::CreateUnnamed { .. }
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
            Op::Chmod { .. }
            | Op::ChmodFile { .. }
            | Op::Link { .. }
            | Op::Mkdir { .. }
            | Op::Rename { .. } => {}
        }
        points.insert(traced.call);
    }
    // A point is addressed among the calls that touch the case directory
    // (a temp file made outside it and moved in is not injected at).
    points
        .into_iter()
        .filter(|i| recorded.touching.contains(i))
        .flat_map(|i| ERRNOS.map(|errno| (i, Action::Fail(errno))))
        .collect()
}

/// The rule every finding of a failed call breaks.
const FAILED_SAVE: &str =
    "a save whose write, sync or rename fails returns the error, leaves the old record intact and removes what it made";

/// The block sizes a power loss after a save that recovered may tear
/// writes at.
const BLOCKS: [usize; 2] = [512, 4096];

/// What a replay left, judged for a fault: a save that returned the error
/// left the old record (after the rename, the old or the new) and nothing
/// else; a save that returned success left the new record, 0600, durable
/// by the replay's own op log. `Ok(Some(_))` says what a save recovered
/// from.
fn judge_fault(
    start: StartingState,
    run: &Replay,
    recorded: &Recorded,
) -> Result<Option<String>, Judged> {
    let point = &run.point;
    let new = new_record();
    let errno = match point.injection.action {
        Action::Fail(errno) => errno,
        Action::Kill => "SIGKILL",
    };
    let violation = |how: &str, message: String| {
        Finding::violation("§3.5.1", FAILED_SAVE, message).broken_by(how)
    };
    match &run.saved {
        Ok(()) => return judge_recovered(run, recorded, &start.held(), errno).map(Some),
        Err(Failure::Crashed { what }) => {
            return Err(found_at(
                violation(
                    "save did not return the error",
                    format!(
                        "after {} failed with {errno}, save did not return: {what}",
                        run.hit
                    ),
                ),
                point,
                recorded,
                "save must return the error",
            ))
        }
        Err(_) => {}
    }
    let held = Held::read(&run.scope.dir).map_err(unreadable)?;
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
            violation(
                "the record path does not hold the old record",
                format!(
                    "after {} failed with {errno}, the record path holds {}; it must hold {allowed_text} ({})",
                    run.hit,
                    held.describe(),
                    old.describe()
                ),
            ),
            point,
            recorded,
            "then the record path is read",
        ));
    }
    let mut left = run.leftovers();
    left.extend(run.strays.iter().map(|p| p.display().to_string()));
    if !left.is_empty() {
        return Err(found_at(
            violation(
                "a file the save made is left behind",
                format!(
                    "after {} failed with {errno}, save left {} behind",
                    run.hit,
                    left.join(", ")
                ),
            ),
            point,
            recorded,
            "then the directory is listed",
        ));
    }
    Ok(None)
}

fn unreadable(e: std::io::Error) -> Judged {
    Judged::Skipped(format!("the oracle could not read the record path: {e}"))
}

/// A save that returned success though a call failed: requirements §7
/// lets it recover (a probe that failed, a step retried), if the new
/// record is at the path, 0600, and durable: every disk a power loss after
/// the replay's own op log may leave holds it. A swallowed failure of a
/// write or a sync shows as a disk without it.
fn judge_recovered(
    run: &Replay,
    recorded: &Recorded,
    old: &Held,
    errno: &str,
) -> Result<String, Judged> {
    let point = &run.point;
    let new = new_record();
    let held = Held::read(&run.scope.dir).map_err(unreadable)?;
    if let Err(broken) = allowed(&held, old, &new, true) {
        let message = format!(
            "save returned success though {} failed with {errno}, but: {}; the record path holds {}",
            run.hit,
            broken.why,
            held.describe()
        );
        return Err(found_at(
            broken.violation(message),
            point,
            recorded,
            "then the record path is read",
        ));
    }
    let (scope, before) = &run.disk;
    let converted = op_log_of(&run.trace, scope, before, None)?;
    let ops: Vec<Op> = converted.ops.iter().map(|t| t.op.clone()).collect();
    let record_path = run.scope.dir.join(RECORD_FILE_NAME);
    let record_path = record_path.to_string_lossy();
    let Some((block, after, broken)) =
        not_durable(&converted.before, &ops, &record_path, old, &new)?
    else {
        return Ok(format!("{} failing with {errno}", run.hit));
    };
    let recorded_ops: Vec<Op> = recorded.ops.iter().map(|t| t.op.clone()).collect();
    // A save that is not durable without the failure either is the power
    // suite's finding; this one says so rather than blame the failure.
    let unfailed = not_durable(
        &recorded.before,
        &recorded_ops,
        &recorded.record_path,
        old,
        &new,
    )?;
    let cause = if unfailed.is_some() {
        "; the save is not durable without the failure either (the power suite shows why)"
    } else {
        "; the failure was swallowed"
    };
    let message = format!(
        "save returned success though {} failed with {errno}, but a power loss after it ({block}-byte blocks) may leave {} at the record path: {}{cause}",
        run.hit,
        after.describe(),
        broken.why
    );
    // Not durable anyway: the power suite's defect, under its rule. Else
    // the failure was swallowed: §3.5.1 wants it returned.
    let finding = if unfailed.is_some() {
        broken.violation(message)
    } else {
        Finding::violation("§3.5.1", FAILED_SAVE, message).broken_by(
            "save returned success though the call failed, and the record is not durable",
        )
    };
    Err(found_at(
        finding,
        point,
        recorded,
        "save returned success; then the power goes",
    ))
}

/// The first disk a power loss after the whole of `ops` may leave whose
/// record path does not hold `new`, 0600: its block size, what the path
/// holds, and why that is not allowed; `None` when the save is durable.
/// `old` is what the path held before the save.
fn not_durable(
    before: &Disk,
    ops: &[Op],
    record_path: &str,
    old: &Held,
    new: &Record,
) -> Result<Option<(usize, Held, Broken)>, Judged> {
    for block in BLOCKS {
        let space =
            CrashSpace::new(before, ops, Crash::PowerLoss { block_size: block }).map_err(|e| {
                Judged::OracleFailed(format!("the persistence model rejects an op log: {e}"))
            })?;
        for disk in space.states() {
            let after = Held::of(&disk, record_path);
            if let Err(broken) = allowed(&after, old, new, true) {
                return Ok(Some((block, after, broken)));
            }
        }
    }
    Ok(None)
}

fn run_case(case: &mut Case<'_>, command: Option<&str>, start: StartingState) -> Judged {
    let traced = match Traced::find(command) {
        Ok(traced) => traced,
        Err(judged) => return judged,
    };
    match interrupt_each(case, &traced, start, fault_points, |_, run, recorded| {
        judge_fault(start, run, recorded)
    }) {
        Ok(interrupted) => interrupted.judged("the call fails with ENOSPC, EDQUOT and EIO in turn"),
        Err(judged) => judged,
    }
}

pub fn plan(command: Option<String>) -> Vec<Planned> {
    traced::per_start(
        "faults",
        "§3.5.1",
        &interrupted_starts(),
        "ENOSPC, EDQUOT and EIO at each call that changes the disk or syncs it; save must fail and leave the old record, no temp file",
        command,
        run_case,
    )
}
