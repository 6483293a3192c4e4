//! `kill` and `faults`: a save interrupted at each of its system calls.
//!
//! Promises: for each starting directory (none yet, an old record, a
//! corrupt file), the adapter's save of a new record is first recorded
//! under strace (`power::record_save`); the calls of that save which touch
//! the case directory (by a path or by a descriptor, failed or not) are
//! its points, so interpreter start-up and protocol I/O never count. Each
//! point is then replayed: a fresh adapter under strace, the same
//! requests, and strace acting at that call, counted strace's way (per
//! system call, per process). The replay's own trace must show the call
//! hit is the one meant (same system call, same process, paths of the same
//! kind, as `syscalls::paths_named` reads them); if not, the case is the
//! oracle's failure (harness broken), never a pass or a violation.
//!
//! - `kill`: SIGKILL as each point is entered, and as the first call after
//!   the last point is. The record path must hold what it held before or
//!   the complete new record, 0600 (SPEC §3.4.1, §3.6); a fresh adapter
//!   must load it as the model does (§2); with the `machine` capability a
//!   `dispatch` of `tick` (the writer that holds the lock) should remove
//!   what the killed save left (§3.7, a SHOULD: a divergence); a later
//!   save must succeed and leave the new record.
//! - `faults`: at each point that changes the disk or makes it durable
//!   (create, write, truncate, chmod, mkdir, rename, fsync, the open of a
//!   directory that is then fsynced, the close of a written file) the call
//!   fails, not run, with ENOSPC, with EDQUOT and with EIO (a replay
//!   each). The save must return an error (§3.5: a success after a failed fsync is a
//!   violation), add nothing to the directory but the record and the
//!   declared sidecar files, and leave the old record; after a failure
//!   that follows the rename onto the record path, the old or the new.
//!
//! Does not promise: faults in calls that only read, stat or remove (a failed sweep or cleanup need
//! not fail a save); more than the first finding of a case (each finding
//! names its point and carries the op log, marked where the save stopped).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lifecycle_harness::compare::Finding;
use lifecycle_harness::generate::record::at_micros;
use lifecycle_harness::report;
use lifecycle_harness::subject::{Failure, Subject};
use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::persistence::Op;
use lifecycle_model::spec::{FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::WriterOp;
use lifecycle_model::Record;

use crate::adapter::{Adapter, Config, Launch};
use crate::check::{Case, Judged, Planned};
use crate::subject::{sidecars, AdapterSubject};
use crate::suites::power::{
    self, allowed, holds, judge_load, new_record, op_log_text, Held, Recorded, Start,
    TRACED_TIMEOUT_FACTOR,
};
use crate::suites::FIXED_NOW;
use crate::syscalls::convert::shown;
use crate::syscalls::strace::{Call, CallResult, EventKind, Trace};
use crate::syscalls::{descriptor, next_close, opens, paths_named};
use crate::tracer::{self, Action, Injection, Tracer};

/// The starts of both suites.
const STARTS: [Start; 3] = [Start::NoDirectory, Start::OldRecord, Start::CorruptFile];

/// The name of the record's directory inside a case directory.
const STATE: &str = "state";

/// Which suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    Kill,
    Fault,
}

impl Interruption {
    fn suite(self) -> &'static str {
        match self {
            Interruption::Kill => "kill",
            Interruption::Fault => "faults",
        }
    }
}

/// A case directory: the scope strace's calls are counted in, the
/// record's directory inside it, and the names the case fixes.
struct Place {
    scope: PathBuf,
    dir: PathBuf,
    /// Names relative to `scope` whose kind of path is their name: the
    /// record's directory, the record, the sidecar files.
    known: BTreeSet<String>,
}

impl Place {
    fn new(scope: PathBuf, sidecars: &[String]) -> Place {
        let mut known = BTreeSet::from([STATE.to_string(), format!("{STATE}/{RECORD_FILE_NAME}")]);
        known.extend(sidecars.iter().map(|s| format!("{STATE}/{s}")));
        Place {
            dir: scope.join(STATE),
            scope,
            known,
        }
    }

    /// `path` relative to the scope; `None` outside it.
    fn relative(&self, path: &[u8]) -> Option<String> {
        let scope = self.scope.as_os_str().as_encoded_bytes();
        let rest = path.strip_prefix(scope)?;
        match rest {
            [] => Some(String::new()),
            [b'/', rest @ ..] => Some(shown(rest)),
            _ => None,
        }
    }

    /// The kind of a path, the same in every run of a case: a name the
    /// case fixes (the record, its directory, a sidecar), a new name in a
    /// directory (a temp file's random name), or outside the case.
    fn role(&self, path: &[u8]) -> String {
        match self.relative(path) {
            None => "(outside the case directory)".to_string(),
            Some(rel) if rel.is_empty() => "(the case directory)".to_string(),
            Some(rel) if self.known.contains(&rel) => rel,
            Some(rel) => match rel.rsplit_once('/') {
                Some((parent, _)) => format!("{parent}/(a new name)"),
                None => "(a new name)".to_string(),
            },
        }
    }

    /// Every name under the scope, two levels deep (the record's directory
    /// and what is beside it).
    fn entries(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let list = |dir: &Path| -> Vec<String> {
            fs::read_dir(dir)
                .map(|it| {
                    it.filter_map(Result::ok)
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        for name in list(&self.scope) {
            if name == STATE {
                for inner in list(&self.dir) {
                    out.insert(format!("{STATE}/{inner}"));
                }
            }
            out.insert(name);
        }
        out
    }

    /// What a save added besides its record, its directory and the
    /// sidecar files.
    fn leftovers(&self, before: &BTreeSet<String>) -> Vec<String> {
        self.entries()
            .difference(before)
            .filter(|name| !self.known.contains(*name))
            .cloned()
            .collect()
    }
}

/// The processes of a trace in the order they first made a call.
fn processes(trace: &Trace) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for call in &trace.calls {
        if !out.contains(&call.pid) {
            out.push(call.pid);
        }
    }
    out
}

/// What every point of a recorded save is counted against: each call's
/// process and name, and the processes in order of appearance.
struct Counted<'t> {
    named: Vec<(u32, &'t str)>,
    processes: Vec<u32>,
}

impl<'t> Counted<'t> {
    fn of(trace: &'t Trace) -> Counted<'t> {
        Counted {
            named: trace
                .calls
                .iter()
                .map(|c| (c.pid, c.name.as_str()))
                .collect(),
            processes: processes(trace),
        }
    }
}

/// One call of the recorded save to kill or fail.
struct Point {
    /// Its index in the recorded trace.
    call: usize,
    injection: Injection,
    /// Which process made it, by order of appearance.
    process: usize,
    /// Its paths' kinds.
    roles: Vec<String>,
    /// The call in words.
    text: String,
    /// Its line in the recorded trace.
    line: usize,
    /// How many operations of the op log came before it.
    ops_before: usize,
}

impl Point {
    fn new(
        recorded: &Recorded,
        counted: &Counted<'_>,
        place: &Place,
        index: usize,
        action: Action,
    ) -> Option<Point> {
        let call = recorded.trace.calls.get(index)?;
        let process = counted.processes.iter().position(|&p| p == call.pid)?;
        Some(Point {
            call: index,
            injection: Injection {
                syscall: call.name.clone(),
                ordinal: Injection::ordinal_of(&counted.named, index),
                action,
            },
            process,
            roles: paths_named(call).iter().map(|p| place.role(p)).collect(),
            text: call_text(call, place),
            line: call.line,
            ops_before: recorded.ops.iter().filter(|t| t.call < index).count(),
        })
    }

    fn describe(&self) -> String {
        match self.injection.action {
            Action::Kill => format!(
                "SIGKILL as the adapter enters {} (strace line {} of the recorded save)",
                self.text, self.line
            ),
            Action::Fail(errno) => format!(
                "{} fails with {errno} (strace line {} of the recorded save)",
                self.text, self.line
            ),
        }
    }

    /// Whether `replay`, run with this point's injection in `place`, hit
    /// the call meant; else what it hit.
    fn verify(&self, replay: &Trace, place: &Place) -> Result<(), String> {
        let Some(&pid) = processes(replay).get(self.process) else {
            return Err(format!(
                "the replay has no process #{} to hit {}",
                self.process + 1,
                self.text
            ));
        };
        let hit = replay
            .calls
            .iter()
            .filter(|c| c.pid == pid && c.name == self.injection.syscall)
            .nth(usize::try_from(self.injection.ordinal.saturating_sub(1)).unwrap_or(usize::MAX));
        let Some(hit) = hit else {
            return Err(format!(
                "the replay made no {} {} call, so {} was not hit",
                nth(self.injection.ordinal),
                self.injection.syscall,
                self.text
            ));
        };
        let roles: Vec<String> = paths_named(hit).iter().map(|p| place.role(p)).collect();
        if roles != self.roles {
            return Err(format!(
                "the replay's {} {} call was {} (line {} of its trace), not {}",
                nth(self.injection.ordinal),
                self.injection.syscall,
                call_text(hit, place),
                hit.line,
                self.text
            ));
        }
        let as_meant = match (self.injection.action, &hit.result) {
            (Action::Kill, CallResult::Unknown) => replay
                .events
                .iter()
                .any(|e| e.pid == pid && e.kind == EventKind::Killed("SIGKILL".into())),
            (Action::Fail(errno), CallResult::Err { errno: got }) => got == errno,
            _ => false,
        };
        if as_meant {
            Ok(())
        } else {
            Err(format!(
                "{} (line {} of the replay's trace) was not {} as meant",
                call_text(hit, place),
                hit.line,
                match self.injection.action {
                    Action::Kill => "killed".to_string(),
                    Action::Fail(errno) => format!("failed with {errno}"),
                }
            ))
        }
    }
}

/// `n` as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 22nd.
fn nth(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A call in words: its name and its paths in the case directory.
fn call_text(call: &Call, place: &Place) -> String {
    let named: Vec<String> = paths_named(call)
        .iter()
        .filter_map(|p| place.relative(p))
        .map(|rel| if rel.is_empty() { ".".to_string() } else { rel })
        .collect();
    if named.is_empty() {
        format!("{} (outside the case directory)", call.name)
    } else {
        format!("{} of {}", call.name, named.join(" to "))
    }
}

/// The errnos of a failed disk: full, over quota, broken.
const ERRNOS: [&str; 3] = ["ENOSPC", "EDQUOT", "EIO"];

/// The calls of the recorded save where a fault must fail the save: those
/// of its operations other than removals, the opens of directories it
/// fsyncs, and the closes of files it wrote.
fn fault_points(recorded: &Recorded) -> Vec<usize> {
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
    points.into_iter().collect()
}

/// The calls of the recorded save to kill at: every call that touches the
/// case directory, and the first call of the same process after the last
/// (the save's effects all made, its reply not yet sent).
fn kill_points(recorded: &Recorded) -> Vec<usize> {
    let mut points = recorded.touching.clone();
    if let Some(last) = points.last().and_then(|&i| recorded.trace.calls.get(i)) {
        if let Some(after) = recorded
            .trace
            .calls
            .iter()
            .skip(last.index + 1)
            .find(|c| c.pid == last.pid)
        {
            points.push(after.index);
        }
    }
    points
}

/// One replay: a fresh case directory made as `start` says, the adapter
/// under strace with the point's injection, the save of `new`.
struct Replay {
    place: Place,
    before: BTreeSet<String>,
    saved: Result<(), Failure>,
}

fn replay(
    case: &Case<'_>,
    command: &str,
    tracer: &dyn Tracer,
    start: Start,
    point: &Point,
    new: &Record,
) -> Result<Replay, Judged> {
    let place = Place::new(case.fresh_dir(), &sidecars(case.adapter));
    start.make(&place.dir).map_err(|e| {
        Judged::Skipped(format!(
            "the oracle could not make the starting directory: {e}"
        ))
    })?;
    let before = place.entries();
    let trace_path = place.scope.with_extension("trace");
    let usual = case.adapter.config();
    let config = Config {
        launch: Launch::Command(tracer.injecting(command, &trace_path, &point.injection)),
        timeout: usual.timeout * TRACED_TIMEOUT_FACTOR,
        umask: usual.umask,
    };
    let mut adapter = Adapter::start(config)
        .map_err(|e| {
            Judged::OracleFailed(format!(
                "the adapter did not start under strace to replay {}: {e}",
                point.describe()
            ))
        })?
        .once();
    let saved = AdapterSubject::new(&mut adapter, &place.dir).save(new);
    adapter.finish(Duration::from_secs(10));
    let trace = tracer.read(&trace_path).map_err(Judged::OracleFailed)?;
    if let Err(why) = point.verify(&trace, &place) {
        return Err(Judged::OracleFailed(format!(
            "the replay meant to interrupt {}, but {why}; the adapter does not make the same calls in every run",
            point.text
        )));
    }
    Ok(Replay {
        place,
        before,
        saved,
    })
}

/// A finding at `point`, with the op log marked where the save stopped.
fn found(finding: Finding, point: &Point, recorded: &Recorded, what: &str) -> Judged {
    let mark = match point.injection.action {
        Action::Kill => format!("SIGKILL here, as the adapter enters {}", point.text),
        Action::Fail(errno) => format!("here {} fails with {errno}", point.text),
    };
    Judged::FoundWith(
        finding,
        format!(
            "{}; {what}\nthe op log of the save, as strace recorded it without interruption:\n{}",
            point.describe(),
            op_log_text(recorded, Some(point.ops_before), &mark)
        ),
    )
}

/// What the case directory holds after a replay, judged for a kill.
fn judge_kill(
    case: &mut Case<'_>,
    start: Start,
    point: &Point,
    recorded: &Recorded,
    run: &Replay,
    new: &Record,
) -> Result<Vec<String>, Judged> {
    let dir = &run.place.dir;
    let held = Held::read(dir)
        .map_err(|e| Judged::Skipped(format!("the oracle could not read the record path: {e}")))?;
    if let Err(why) = allowed(&held, &start.held(), new, false) {
        let spec = if power::held_mode_wrong(&held) {
            "§3.6"
        } else {
            "§3.4"
        };
        return Err(found(
            Finding::violation(
                spec,
                format!(
                    "after a SIGKILL during save the record path holds {}: {why}",
                    held.describe()
                ),
            ),
            point,
            recorded,
            "then the record path is read",
        ));
    }
    if let Err(f) = judge_load(case.adapter, dir, &held) {
        return Err(found(
            f,
            point,
            recorded,
            &format!(
                "then a fresh adapter loads the record path, which holds {}",
                held.describe()
            ),
        ));
    }
    let left = run.place.leftovers(&run.before);
    let mut subject = AdapterSubject::new(case.adapter, dir);
    let sweeps = subject.offers(&tick());
    if !left.is_empty() && sweeps {
        let now = at_micros(FIXED_NOW);
        if let Err(failure) = subject.write(&tick(), &now) {
            return Err(found(
                Finding::violation(
                    "§4.3",
                    format!("a dispatch of tick after a killed save failed: {failure}"),
                ),
                point,
                recorded,
                &format!("the save left {}; then dispatch tick", left.join(", ")),
            ));
        }
        let now_there = run.place.entries();
        let not_swept: Vec<String> = left
            .iter()
            .filter(|n| now_there.contains(*n))
            .cloned()
            .collect();
        if !not_swept.is_empty() {
            return Err(found(
                Finding::divergence(
                    "§3.7",
                    format!(
                        "the killed save left {} and the next dispatch (which holds the lock) did not remove it",
                        not_swept.join(", ")
                    ),
                ),
                point,
                recorded,
                "then dispatch tick by a fresh adapter",
            ));
        }
    }
    if let Err(failure) = subject.save(new) {
        return Err(found(
            Finding::violation(
                "§3.3",
                format!("a later save by a fresh adapter failed: {failure}"),
            ),
            point,
            recorded,
            "then a fresh adapter saves the new record again",
        ));
    }
    match Held::read(dir) {
        Ok(Held::File { data, .. }) if holds(&data, new) => {}
        Ok(other) => {
            return Err(found(
                Finding::violation(
                    "§3.4",
                    format!(
                        "a later save by a fresh adapter returned success, but the record path holds {}",
                        other.describe()
                    ),
                ),
                point,
                recorded,
                "then a fresh adapter saves the new record again",
            ))
        }
        Err(e) => {
            return Err(Judged::Skipped(format!(
                "the oracle could not read the record path: {e}"
            )))
        }
    }
    Ok(if sweeps { Vec::new() } else { left })
}

fn tick() -> WriterOp {
    WriterOp::Dispatch {
        event: Event::Tick,
        guards: Guards::default(),
        shadow_run: false,
    }
}

/// What a replay left, judged for a fault.
fn judge_fault(
    start: Start,
    point: &Point,
    recorded: &Recorded,
    record_path: &str,
    run: &Replay,
    new: &Record,
) -> Result<(), Judged> {
    let errno = match point.injection.action {
        Action::Fail(errno) => errno,
        Action::Kill => "SIGKILL",
    };
    match &run.saved {
        Ok(()) => {
            return Err(found(
                Finding::violation(
                    "§3.5",
                    format!(
                        "save returned success though {} failed with {errno}",
                        point.text
                    ),
                ),
                point,
                recorded,
                "save must return the error",
            ))
        }
        Err(Failure::Crashed { what }) => {
            return Err(found(
                Finding::violation(
                    "§3.5",
                    format!(
                        "after {} failed with {errno}, save did not return: {what}",
                        point.text
                    ),
                ),
                point,
                recorded,
                "save must return the error",
            ))
        }
        Err(_) => {}
    }
    let held = Held::read(&run.place.dir)
        .map_err(|e| Judged::Skipped(format!("the oracle could not read the record path: {e}")))?;
    let after_rename = recorded.ops.iter().any(|t| {
        t.call < point.call && matches!(&t.op, Op::Rename { to, .. } if *to == record_path)
    });
    let old = start.held();
    let new_there =
        matches!(&held, Held::File { mode, data } if *mode == FILE_MODE && holds(data, new));
    if held != old && !(after_rename && new_there) {
        let allowed_text = if after_rename {
            "the old record or the new one"
        } else {
            "the old record, intact"
        };
        return Err(found(
            Finding::violation(
                "§3.5",
                format!(
                    "after {} failed with {errno}, the record path holds {}; it must hold {allowed_text} ({})",
                    point.text,
                    held.describe(),
                    old.describe()
                ),
            ),
            point,
            recorded,
            "then the record path is read",
        ));
    }
    let left = run.place.leftovers(&run.before);
    if !left.is_empty() {
        return Err(found(
            Finding::violation(
                "§3.5",
                format!(
                    "after {} failed with {errno}, save left {} behind",
                    point.text,
                    left.join(", ")
                ),
            ),
            point,
            recorded,
            "then the directory is listed",
        ));
    }
    Ok(())
}

fn run_case(
    case: &mut Case<'_>,
    command: Option<&str>,
    start: Start,
    what: Interruption,
) -> Judged {
    let Some(command) = command else {
        return Judged::Skipped("no adapter command to trace".into());
    };
    let tracer = match tracer::find() {
        Ok(t) => t,
        Err(why) => return Judged::Skipped(why),
    };
    let new = new_record();
    let place = Place::new(case.fresh_dir(), &sidecars(case.adapter));
    let recorded = match power::record_save(
        case,
        command,
        tracer.as_ref(),
        &place.dir,
        start,
        &new,
        None,
    ) {
        Ok(r) => r,
        Err(judged) => return judged,
    };
    let indices = match what {
        Interruption::Kill => kill_points(&recorded),
        Interruption::Fault => fault_points(&recorded),
    };
    let record_path = format!("{}/{RECORD_FILE_NAME}", place.dir.display());
    // Runs whose killed save left something no writer of the adapter may
    // sweep, and one such name.
    let mut left_behind: (usize, Option<String>) = (0, None);
    let counted = Counted::of(&recorded.trace);
    let runs: Vec<(usize, Action)> = match what {
        Interruption::Kill => indices.iter().map(|&i| (i, Action::Kill)).collect(),
        Interruption::Fault => indices
            .iter()
            .flat_map(|&i| ERRNOS.map(|errno| (i, Action::Fail(errno))))
            .collect(),
    };
    for &(index, action) in &runs {
        let Some(point) = Point::new(&recorded, &counted, &place, index, action) else {
            return Judged::OracleFailed(format!("call {index} is not in the recorded trace"));
        };
        let run = match replay(case, command, tracer.as_ref(), start, &point, &new) {
            Ok(run) => run,
            Err(judged) => return judged,
        };
        let judged = match what {
            Interruption::Kill => {
                judge_kill(case, start, &point, &recorded, &run, &new).map(|left| {
                    if !left.is_empty() {
                        left_behind.0 += 1;
                        left_behind.1 = left_behind.1.take().or(left.into_iter().next());
                    }
                })
            }
            Interruption::Fault => judge_fault(start, &point, &recorded, &record_path, &run, &new),
        };
        if let Err(judged) = judged {
            return judged;
        }
    }
    let mut message = format!(
        "{} calls of the save touch the case directory; {} interrupted in {} runs ({}), each as allowed",
        recorded.touching.len(),
        indices.len(),
        runs.len(),
        match what {
            Interruption::Kill => "SIGKILL as the call is entered",
            Interruption::Fault => "the call fails with ENOSPC, EDQUOT and EIO in turn",
        }
    );
    if let (runs, Some(example)) = left_behind {
        message.push_str(&format!(
            "; {runs} killed saves left a file behind, such as {example} (not judged: without the machine capability no writer holds the lock, and save never sweeps, §3.7)"
        ));
    }
    Judged::Pass(message)
}

pub fn plan(what: Interruption, command: Option<String>) -> Vec<Planned> {
    STARTS
        .into_iter()
        .map(|start| {
            let command = command.clone();
            let how = match what {
                Interruption::Kill => "SIGKILL as it enters each of its calls in the case directory; the record path, a load, a later writer",
                Interruption::Fault => "ENOSPC, EDQUOT and EIO at each call that changes the disk or syncs it; save must fail and leave the old record, no temp file",
            };
            Planned::new(
                format!("{}/{}", what.suite(), start.name()),
                match what {
                    Interruption::Kill => "§3.4",
                    Interruption::Fault => "§3.5",
                },
                format!(
                    "{}; save of {} under strace, {how}",
                    start.describe(),
                    report::record(&new_record())
                ),
                move |case| run_case(case, command.as_deref(), start, what),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_file_is_a_new_name_and_the_record_keeps_its_own() {
        let place = Place::new(PathBuf::from("/r/case-3"), &[]);
        assert_eq!(place.role(b"/r/case-3/state/.x.tmp"), "state/(a new name)");
        assert_eq!(
            place.role(b"/r/case-3/state/lifecycle_state.json"),
            "state/lifecycle_state.json"
        );
        assert_eq!(place.role(b"/r/case-3"), "(the case directory)");
        assert_eq!(
            place.role(b"/r/case-30/state"),
            "(outside the case directory)"
        );
        assert_eq!(place.role(b"pipe:[77]"), "(outside the case directory)");
    }

    #[test]
    fn ordinals_read_as_english() {
        let read: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 157]
            .into_iter()
            .map(nth)
            .collect();
        assert_eq!(
            read,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th", "157th"
            ]
        );
    }
}
