//! A recorded save replayed with one of its calls interrupted: the part
//! `kill` and `faults` share.
//!
//! Promises: the calls of a recorded save that touch the case directory (by
//! a path or by a descriptor, failed or not) are its points, so interpreter
//! start-up and protocol I/O never count. [`interrupt_each`] replays a
//! save once per point a suite picks: a fresh case directory made as the
//! starting state says, a fresh adapter under the tracer, the same save,
//! and the tracer acting at that call, counted the tracer's way (per system
//! call, per process). The replay's own trace must show that the call hit
//! is the one meant (same process, same system call and ordinal, paths of
//! the same kind, as `syscalls::paths_named` reads them, killed or failed
//! as meant); if not, the case is the
//! oracle's failure (harness broken), never a pass or a violation. The
//! suite judges what each replay left; a finding carries the op log of the
//! save, marked where it stopped.
//!
//! Does not promise: more than the first finding of a case.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lifecycle_harness::subject::{Failure, Subject};
use lifecycle_harness::Finding;
use lifecycle_model::persistence::Disk;
use lifecycle_model::spec::RECORD_FILE_NAME;
use lifecycle_model::Record;

use crate::adapter::Adapter;
use crate::case::{Case, Judged};
use crate::subject::{sidecars, AdapterSubject};
use crate::syscalls::convert::shown;
use crate::syscalls::paths_named;
use crate::syscalls::strace::{Call, CallResult, EventKind, Trace};
use crate::traced::op_log::op_log_text;
use crate::traced::record::{disk_before, record_save, Recorded, Traced};
use crate::traced::start::{new_record, StartingState, ELSEWHERE};
use crate::tracer::{Action, Injection};

/// The name of the record's directory inside a case directory.
const STATE: &str = "state";

/// A case directory: the scope strace's calls are counted in, the
/// record's directory inside it, and the names the case fixes.
pub struct CaseScope {
    /// The case directory.
    top: PathBuf,
    /// The record's directory inside it.
    pub dir: PathBuf,
    /// Names relative to `top` whose kind of path is their name: the
    /// record's directory, the record, the sidecar files.
    known: BTreeSet<String>,
}

impl CaseScope {
    pub fn new(top: PathBuf, sidecars: &[String]) -> CaseScope {
        // What a symlink start's record path points to is the record too.
        let mut known = BTreeSet::from([
            STATE.to_string(),
            format!("{STATE}/{RECORD_FILE_NAME}"),
            ELSEWHERE.to_string(),
            format!("{ELSEWHERE}/{RECORD_FILE_NAME}"),
        ]);
        known.extend(sidecars.iter().map(|s| format!("{STATE}/{s}")));
        CaseScope {
            dir: top.join(STATE),
            top,
            known,
        }
    }

    /// `path` relative to the case directory; `None` outside it.
    fn relative(&self, path: &[u8]) -> Option<String> {
        let top = self.top.as_os_str().as_encoded_bytes();
        let rest = path.strip_prefix(top)?;
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

    /// Every name under the case directory, two levels deep (the record's
    /// directory, what is beside it, and what is in each).
    pub fn entries(&self) -> BTreeSet<String> {
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
        for name in list(&self.top) {
            for inner in list(&self.top.join(&name)) {
                out.insert(format!("{name}/{inner}"));
            }
            out.insert(name);
        }
        out
    }

    /// What a save added besides its record, its directory and the
    /// sidecar files.
    pub fn leftovers(&self, before: &BTreeSet<String>) -> Vec<String> {
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
pub struct Point {
    /// Its index in the recorded trace.
    pub call: usize,
    pub injection: Injection,
    /// Which process made it, by order of appearance.
    process: usize,
    /// Its paths' kinds.
    roles: Vec<String>,
    /// The call in words.
    pub text: String,
    /// Its line in the recorded trace.
    line: usize,
    /// How many operations of the op log came before it.
    ops_before: usize,
}

impl Point {
    fn new(
        recorded: &Recorded,
        counted: &Counted<'_>,
        scope: &CaseScope,
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
            roles: paths_named(call).iter().map(|p| scope.role(p)).collect(),
            text: call_text(call, scope),
            line: call.line,
            ops_before: recorded.ops.iter().filter(|t| t.call < index).count(),
        })
    }

    pub fn describe(&self) -> String {
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

    /// Whether `replay`, run with this point's injection in `scope`, hit
    /// the call meant; else what it hit.
    fn verify(&self, replay: &Trace, scope: &CaseScope) -> Result<(), String> {
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
        let roles: Vec<String> = paths_named(hit).iter().map(|p| scope.role(p)).collect();
        if roles != self.roles {
            return Err(format!(
                "the replay's {} {} call was {} (line {} of its trace), not {}",
                nth(self.injection.ordinal),
                self.injection.syscall,
                call_text(hit, scope),
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
                call_text(hit, scope),
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
fn call_text(call: &Call, scope: &CaseScope) -> String {
    let named: Vec<String> = paths_named(call)
        .iter()
        .filter_map(|p| scope.relative(p))
        .map(|rel| if rel.is_empty() { ".".to_string() } else { rel })
        .collect();
    if named.is_empty() {
        format!("{} (outside the case directory)", call.name)
    } else {
        format!("{} of {}", call.name, named.join(" to "))
    }
}

/// One replay: a fresh case directory made as the starting state says, the
/// adapter under the tracer with the point's injection, the save of the
/// new record.
pub struct Replay {
    pub point: Point,
    pub scope: CaseScope,
    /// What the case directory held before the save.
    pub before: BTreeSet<String>,
    /// The same as the persistence model's disk, and the case directory
    /// as text: what the replay's own trace is converted against.
    pub disk: (String, Disk),
    /// What the save answered.
    pub saved: Result<(), Failure>,
    /// The replay's own trace.
    pub trace: Trace,
}

impl Replay {
    /// What the save added besides its record, its directory and the
    /// sidecar files.
    pub fn leftovers(&self) -> Vec<String> {
        self.scope.leftovers(&self.before)
    }
}

fn replay(
    case: &Case<'_>,
    traced: &Traced,
    start: StartingState,
    point: Point,
    new: &Record,
) -> Result<Replay, Judged> {
    let scope = CaseScope::new(case.fresh_dir(), &sidecars(case.adapter));
    start.make(&scope.dir).map_err(|e| {
        Judged::Skipped(format!(
            "the oracle could not make the starting directory: {e}"
        ))
    })?;
    let before = scope.entries();
    let disk = disk_before(&scope.top)?;
    let trace_path = scope.top.with_extension("trace");
    let launch = traced
        .tracer
        .injecting(&traced.command, &trace_path, &point.injection);
    let config = Traced::config(case.adapter.config(), launch, None);
    let mut adapter = Adapter::start(config)
        .map_err(|e| {
            Judged::OracleFailed(format!(
                "the adapter did not start under strace to replay {}: {e}",
                point.describe()
            ))
        })?
        .once();
    let saved = AdapterSubject::new(&mut adapter, &scope.dir).save(new);
    adapter.finish(Duration::from_secs(10));
    let trace = traced
        .tracer
        .read(&trace_path)
        .map_err(Judged::OracleFailed)?;
    if let Err(why) = point.verify(&trace, &scope) {
        return Err(Judged::OracleFailed(format!(
            "the replay meant to interrupt {}, but {why}; the adapter does not make the same calls in every run",
            point.text
        )));
    }
    Ok(Replay {
        point,
        scope,
        before,
        disk,
        saved,
        trace,
    })
}

/// `finding` made at a replay's point, its reproduction the op log marked
/// where the save stopped and `then`, what was done after.
pub fn found_at(finding: Finding, point: &Point, recorded: &Recorded, then: &str) -> Judged {
    let mark = match point.injection.action {
        Action::Kill => format!("SIGKILL here, as the adapter enters {}", point.text),
        Action::Fail(errno) => format!("here {} fails with {errno}", point.text),
    };
    Judged::Found(finding.reproduced_by(format!(
        "{}; {then}\nthe op log of the save, as strace recorded it without interruption:\n{}",
        point.describe(),
        op_log_text(recorded, Some(point.ops_before), &mark)
    )))
}

/// How the replays of a case went.
pub struct Interrupted {
    /// The calls of the save that touch the case directory.
    pub touching: usize,
    /// The calls interrupted.
    pub points: usize,
    /// The replays run.
    pub runs: usize,
    /// What the replays broke, a finding per replay that broke a rule.
    pub findings: Vec<Finding>,
    /// What the judge noted of replays that broke nothing (a failure the
    /// save recovered from).
    pub notes: Vec<String>,
}

impl Interrupted {
    /// The case's outcome: its first finding, saying how many other
    /// replays broke a rule; else `info` with the notes; else a pass
    /// saying `what` was done.
    pub fn judged(self, what: &str) -> Judged {
        let summary = format!(
            "{} calls of the save touch the case directory; {} interrupted in {} runs ({what})",
            self.touching, self.points, self.runs
        );
        let others = self.findings.len().saturating_sub(1);
        if let Some(mut first) = self.findings.into_iter().next() {
            if others > 0 {
                first.message.push_str(&format!(
                    " ({others} more of the {} replays broke a rule too)",
                    self.runs
                ));
            }
            return Judged::Found(first);
        }
        if self.notes.is_empty() {
            Judged::Pass(format!("{summary}, each as allowed"))
        } else {
            Judged::Info(format!(
                "{summary}, each as allowed; the save recovered from: {}",
                self.notes.join("; ")
            ))
        }
    }
}

/// Records a save of the new record from `start`, then replays it once per
/// (call, action) `pick` chooses from the recording, each replay checked to
/// hit its call and handed to `judge` with the recording. Every point is
/// judged: a finding does not stop the case; a skip or the oracle's
/// failure does. `judge` may note what a replay that broke nothing
/// recovered from.
pub fn interrupt_each(
    case: &mut Case<'_>,
    traced: &Traced,
    start: StartingState,
    pick: impl Fn(&Recorded) -> Vec<(usize, Action)>,
    mut judge: impl FnMut(&mut Case<'_>, &Replay, &Recorded) -> Result<Option<String>, Judged>,
) -> Result<Interrupted, Judged> {
    let new = new_record();
    let recording = CaseScope::new(case.fresh_dir(), &sidecars(case.adapter));
    let recorded = record_save(case, traced, &recording.dir, start, &new, None)?;
    let runs = pick(&recorded);
    let counted = Counted::of(&recorded.trace);
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    for &(index, action) in &runs {
        let point =
            Point::new(&recorded, &counted, &recording, index, action).ok_or_else(|| {
                Judged::OracleFailed(format!("call {index} is not in the recorded trace"))
            })?;
        let run = replay(case, traced, start, point, &new)?;
        match judge(case, &run, &recorded) {
            Ok(note) => notes.extend(note),
            Err(Judged::Found(finding)) => findings.push(finding),
            Err(ended) => return Err(ended),
        }
    }
    let points: BTreeSet<usize> = runs.iter().map(|(index, _)| *index).collect();
    Ok(Interrupted {
        touching: recorded.touching.len(),
        points: points.len(),
        runs: runs.len(),
        findings,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_file_is_a_new_name_and_the_record_keeps_its_own() {
        let scope = CaseScope::new(PathBuf::from("/r/case-3"), &[]);
        assert_eq!(scope.role(b"/r/case-3/state/.x.tmp"), "state/(a new name)");
        assert_eq!(
            scope.role(b"/r/case-3/state/lifecycle_state.json"),
            "state/lifecycle_state.json"
        );
        assert_eq!(scope.role(b"/r/case-3"), "(the case directory)");
        assert_eq!(
            scope.role(b"/r/case-30/state"),
            "(outside the case directory)"
        );
        assert_eq!(scope.role(b"pipe:[77]"), "(outside the case directory)");
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
