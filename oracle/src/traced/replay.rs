//! A recorded save replayed with one of its calls interrupted: the part
//! `kill` and `faults` share.
//!
//! Promises: the calls of a recorded save that touch the case directory (by
//! a path or by a descriptor, failed or not) are its points, so interpreter
//! start-up and protocol I/O never count; so is the first call of a
//! thread after one that touches it. [`interrupt_each`] replays a save
//! once per point a suite picks, `Case::jobs` replays at once (each in a
//! thread of its own, its adapter and tracer processes its own), judged
//! one by one in the order of the points, so the outcome is the same
//! whatever the number: a fresh case directory made as the
//! starting state says, an adapter as it is just after its handshake
//! under the tracer (a copy forked from a template the run keeps,
//! `adapter::Template` and `traced::templates`, when the adapter reads
//! its requests as one process with one thread and the run allows it;
//! else a fresh one; a copy that hung or wrote what is not its reply is
//! replayed again in a fresh one, from the starting state made again),
//! the same save,
//! and the tracer acting at that call, counted the tracer's way
//! (`tracer::Counting`): per system call and per process, among the calls
//! that touch the case directory (`lifecycle trace`, whose process is a
//! thread group: a runtime makes a save's calls from whichever of its
//! threads it likes, another in each run), or among all the process's
//! calls (strace, whose process is a thread, as `when=N` counts); either
//! way processes are numbered in the order of their first call that
//! touches the case directory, so a process beside the adapter (a `tee`
//! of its protocol) shifts none. The call just after the last that
//! touches the case directory is the next call of the thread that made
//! that last one. The replay's own trace, counted the same way (the calls
//! `lifecycle trace` counted are those it lists beside its trace,
//! `Tracer::counted`; a strace replay's are told by their paths), must
//! show that the call hit is the one meant (same process, same system
//! call and ordinal, paths of the same kind, as `syscalls::paths_named`
//! reads them, killed or failed as meant: a SIGKILL of any thread of its
//! process); if not, the case is the oracle's failure (harness broken),
//! never a pass or a violation. The suite judges what each replay left; a
//! finding carries the op log of the save, marked where it stopped.
//!
//! Does not promise: more than one finding per case in words (the first,
//! a violation before a divergence; the others are counted).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::ops::ControlFlow;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lifecycle_harness::subject::{Failure, Subject};
use lifecycle_harness::Finding;
use lifecycle_model::persistence::Disk;
use lifecycle_model::spec::RECORD_FILE_NAME;
use lifecycle_model::Record;

use crate::adapter::{Adapter, Config, Template};
use crate::case::{Case, Judged};
use crate::in_order::in_order;
use crate::subject::{sidecars, AdapterSubject};
use crate::syscalls::convert::shown;
use crate::syscalls::strace::{Call, CallResult, EventKind, Trace};
use crate::syscalls::{created_exclusively, paths_named, ThreadGroups};
use crate::traced::op_log::op_log_text;
use crate::traced::pinned::Pinned;
use crate::traced::record::{disk_before, record_save, Recorded, Traced};
use crate::traced::start::{new_record, StartingState, ELSEWHERE, STATE};
use crate::traced::templates::Templates;
use crate::tracer::{Action, Counting, Injection};

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

/// The calls of `trace` that name a path at or under the case directory
/// (by `paths_named`): how a strace replay's touching calls are told.
fn touching_in(trace: &Trace, scope: &CaseScope) -> Vec<usize> {
    trace
        .calls
        .iter()
        .filter(|c| paths_named(c).iter().any(|p| scope.relative(p).is_some()))
        .map(|c| c.index)
        .collect()
}

/// What the points of a trace are counted against, as the tracer counts
/// ([`Counting`]): the calls counted, with their process and name, and the
/// processes in the order of their first call that touches the case
/// directory (so a process that never touches it, such as a `tee` beside
/// the adapter, numbers nothing). A process is a thread group for
/// `lifecycle trace` (its threads' calls count together, whichever thread
/// a runtime makes them from) and a thread for strace, which counts
/// `when=N` per thread.
struct Counted<'t> {
    trace: &'t Trace,
    counting: Counting,
    /// The thread group of each thread of the trace.
    groups: ThreadGroups,
    /// Per call of the trace, its process and name when counted.
    named: Vec<Option<(u32, &'t str)>>,
    /// The processes, each by its id as [`Counted::process`] gives it.
    processes: Vec<u32>,
}

impl<'t> Counted<'t> {
    /// `trace` counted as `counting` says, `touching` its calls that touch
    /// the case directory.
    fn of(trace: &'t Trace, counting: Counting, touching: &[usize]) -> Counted<'t> {
        let mut counted = Counted {
            trace,
            counting,
            groups: ThreadGroups::of(trace),
            named: Vec::new(),
            processes: Vec::new(),
        };
        for call in touching.iter().filter_map(|&i| trace.calls.get(i)) {
            let process = counted.process(call.pid);
            if !counted.processes.contains(&process) {
                counted.processes.push(process);
            }
        }
        let touches: BTreeSet<usize> = touching.iter().copied().collect();
        counted.named = trace
            .calls
            .iter()
            .map(|c| {
                let counts = match counting {
                    Counting::EveryCall => true,
                    Counting::InScope => touches.contains(&c.index),
                };
                counts.then_some((counted.process(c.pid), c.name.as_str()))
            })
            .collect();
        counted
    }

    /// The process whose calls thread `pid`'s count among, by its id: the
    /// thread's group, or the thread itself for strace.
    fn process(&self, pid: u32) -> u32 {
        match self.counting {
            Counting::EveryCall => pid,
            Counting::InScope => self.groups.group(pid),
        }
    }

    /// A recorded save counted as `counting` says.
    fn recorded(recorded: &'t Recorded, counting: Counting) -> Counted<'t> {
        Counted::of(&recorded.trace, counting, &recorded.touching)
    }

    /// A replay's trace counted as `counting` says, `counted` the calls
    /// its tracer says it counted (`Tracer::counted`: `lifecycle trace`'s);
    /// else, for strace, which counts every call, its processes are
    /// numbered by their calls that touch the case directory by their
    /// paths.
    fn replayed(
        trace: &'t Trace,
        counting: Counting,
        counted: Option<&[usize]>,
        scope: &CaseScope,
    ) -> Counted<'t> {
        match counted {
            Some(counted) => Counted::of(trace, counting, counted),
            None => Counted::of(trace, counting, &touching_in(trace, scope)),
        }
    }

    /// The ordinal of counted call `index` among its process's counted
    /// calls of its name.
    fn ordinal(&self, index: usize) -> Option<u64> {
        self.named.get(index).copied().flatten()?;
        let counted: Vec<(u32, &str)> = self.named[..=index].iter().flatten().copied().collect();
        Some(Injection::ordinal_of(&counted, counted.len() - 1))
    }

    /// How many counted calls of any name `process` made up to call
    /// `index`, included.
    fn made_by(&self, process: u32, index: usize) -> u64 {
        self.named[..=index.min(self.named.len().saturating_sub(1))]
            .iter()
            .flatten()
            .filter(|(p, _)| *p == process)
            .count() as u64
    }

    /// The call of `process` that is its `ordinal`-th counted call named
    /// `name` (any name: `None`).
    fn nth(&self, process: u32, name: Option<&str>, ordinal: u64) -> Option<&'t Call> {
        let skip = usize::try_from(ordinal.checked_sub(1)?).ok()?;
        self.trace
            .calls
            .iter()
            .zip(&self.named)
            .filter(|(_, named)| {
                named.is_some_and(|(p, n)| p == process && name.is_none_or(|name| n == name))
            })
            .map(|(call, _)| call)
            .nth(skip)
    }

    /// The next call of the same thread after `call`, in the trace.
    fn next_of_thread(&self, call: &Call) -> Option<&'t Call> {
        self.trace
            .calls
            .iter()
            .skip(call.index + 1)
            .find(|c| c.pid == call.pid)
    }
}

/// One call of the recorded save to kill or fail.
pub struct Point {
    /// Its index in the recorded trace.
    pub call: usize,
    pub injection: Injection,
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
    /// The point at call `index` of the recorded save, counted as
    /// `counted`: `None` when the call is neither counted nor the first
    /// call of its process after a counted one.
    fn new(
        recorded: &Recorded,
        counted: &Counted<'_>,
        scope: &CaseScope,
        index: usize,
        action: Action,
    ) -> Option<Point> {
        let call = recorded.trace.calls.get(index)?;
        let owner = counted.process(call.pid);
        let process = counted.processes.iter().position(|&p| p == owner)?;
        let (ordinal, after) = match counted.ordinal(index) {
            Some(ordinal) => (ordinal, false),
            None => {
                // Not counted: the first call of its thread after one
                // that is (the point after the last call in the case
                // directory), counted by that one's place among its
                // process's.
                let before = recorded.trace.calls[..index]
                    .iter()
                    .rev()
                    .find(|c| c.pid == call.pid)?;
                counted.ordinal(before.index)?;
                (counted.made_by(owner, before.index), true)
            }
        };
        Some(Point {
            call: index,
            injection: Injection {
                syscall: call.name.clone(),
                ordinal,
                process,
                after,
                action,
            },
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

    /// The call meant, in words, without an article: which of its
    /// process's calls.
    fn which(&self, counting: Counting) -> String {
        let among = match counting {
            Counting::EveryCall => "",
            Counting::InScope => " in the case directory",
        };
        let process = self.injection.process + 1;
        let ordinal = nth(self.injection.ordinal);
        if self.injection.after {
            // strace's process is a thread; lifecycle trace's may have
            // several, and the call after is that thread's.
            let by = match counting {
                Counting::EveryCall => "",
                Counting::InScope => ", by the thread that made that one",
            };
            format!("first call of process #{process} after its {ordinal} call{among}{by}")
        } else {
            format!(
                "{ordinal} {} call{among} of process #{process}",
                self.injection.syscall
            )
        }
    }

    /// Whether `replay`, run with this point's injection in `scope` by a
    /// tracer counting as `counting` says, and counting the calls
    /// `counted` (`None`: every call), hit the call meant: the hit call in
    /// words (its temp file may have another name than the recording's);
    /// else what it hit.
    fn verify(
        &self,
        replay: &Trace,
        counted: Option<&[usize]>,
        scope: &CaseScope,
        counting: Counting,
    ) -> Result<String, String> {
        let counted = Counted::replayed(replay, counting, counted, scope);
        let Some(&process) = counted.processes.get(self.injection.process) else {
            return Err(format!(
                "the replay has no process #{} in the case directory to hit {}",
                self.injection.process + 1,
                self.text
            ));
        };
        let injection = &self.injection;
        // After the last call in the case directory, any call will do:
        // the save's effects are all made and its reply is not sent (a
        // runtime's threads make the next call a futex in one run, a write
        // in the next).
        let hit = if injection.after {
            counted
                .nth(process, None, injection.ordinal)
                .and_then(|last| counted.next_of_thread(last))
        } else {
            counted.nth(process, Some(&injection.syscall), injection.ordinal)
        };
        let Some(hit) = hit else {
            return Err(format!(
                "the replay made no {}, so {} was not hit",
                self.which(counting),
                self.text
            ));
        };
        let roles: Vec<String> = paths_named(hit).iter().map(|p| scope.role(p)).collect();
        if roles != self.roles && !injection.after {
            return Err(format!(
                "the {} of the replay was {} (line {} of its trace), not {}",
                self.which(counting),
                call_text(hit, scope),
                hit.line,
                self.text
            ));
        }
        // A SIGKILL ends every thread of the hit call's thread group;
        // which of them the tracer saw die first is no matter.
        let group = counted.groups.group(hit.pid);
        let as_meant = match (self.injection.action, &hit.result) {
            (Action::Kill, CallResult::Unknown) => replay.events.iter().any(|e| {
                counted.groups.group(e.pid) == group
                    && e.kind == EventKind::Killed("SIGKILL".into())
            }),
            (Action::Fail(errno), CallResult::Err { errno: got }) => got == errno,
            _ => false,
        };
        if as_meant {
            Ok(call_text(hit, scope))
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
    /// The call the replay interrupted, in words with the replay's own
    /// names: what a message about the replay's leftovers names.
    pub hit: String,
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
    /// The files the save created exclusively outside the case directory
    /// (a temp file or a probe in `$TMPDIR`) that were still there after
    /// it, where no writer of the record sweeps them.
    pub strays: Vec<PathBuf>,
}

impl Replay {
    /// What the save added besides its record, its directory and the
    /// sidecar files.
    pub fn leftovers(&self) -> Vec<String> {
        self.scope.leftovers(&self.before)
    }
}

/// The files a save traced as `trace` created exclusively outside the case
/// directory of `scope` (`O_CREAT | O_EXCL`, so nothing was there before)
/// that are still there. A file made there by a plain `O_CREAT` open may
/// have been there before the save, so it is not counted.
fn strays_of(trace: &Trace, scope: &CaseScope) -> Vec<PathBuf> {
    let mut strays: Vec<PathBuf> = trace
        .calls
        .iter()
        .filter_map(created_exclusively)
        .map(|path| PathBuf::from(OsString::from_vec(path)))
        .filter(|path| !path.starts_with(&scope.top))
        .filter(|path| fs::symlink_metadata(path).is_ok_and(|m| m.is_file()))
        .collect();
    strays.sort();
    strays.dedup();
    strays
}

/// What every replay of a case shares: the traced command and its tracer,
/// the adapter's configuration and its sidecar files. Each replay has its
/// own case directory, adapter and tracer, so several run at once.
struct Replayer<'a> {
    traced: &'a Traced,
    usual: Config,
    sidecars: Vec<String>,
    start: StartingState,
    new: Record,
    /// Whether replays may run in copies forked from a template.
    fork: bool,
}

/// A runner's adapter to fork its replays from: one the run kept
/// (`templates`), taken at its first replay, or else one started in
/// `dir` (its control socket, its own trace); given back to the run when
/// the case is done.
struct Forks<'a> {
    templates: &'a Templates,
    command: &'a str,
    dir: PathBuf,
    template: Option<Template>,
}

impl Drop for Forks<'_> {
    fn drop(&mut self) {
        if let Some(template) = self.template.take() {
            self.templates.give_back(self.command, template);
        }
    }
}

impl Replayer<'_> {
    /// A copy of the adapter after its handshake, forked from `forks`'s
    /// template (taken from the run's or made if need be), for the replay
    /// of `point` counted in `scope` and traced to `trace`; `None` when the
    /// adapter cannot be forked: then a fresh one is started.
    fn forked(
        &self,
        forks: &mut Forks,
        scope: &Path,
        trace: &Path,
        point: &Point,
    ) -> Option<Adapter> {
        let command = &self.traced.command;
        if !self.fork || !forks.templates.forks(command) {
            return None;
        }
        if forks.template.as_ref().is_some_and(|t| !t.usable()) {
            forks.template = None;
        }
        if forks.template.is_none() {
            forks.template = forks.templates.take(command);
        }
        if forks.template.is_none() {
            let _ = fs::create_dir_all(&forks.dir);
            let socket = forks.dir.join("control");
            let launch =
                self.traced
                    .tracer
                    .serving(command, &forks.dir.join("template.trace"), &socket)?;
            let config = Traced::config(&self.usual, launch, None);
            match Template::start(config, &socket) {
                Ok(template) => forks.template = Some(template),
                Err(_) => {
                    forks.templates.not_forked(command);
                    return None;
                }
            }
        }
        let template = forks.template.as_mut()?;
        let spec = point.injection.spec().to_string();
        match template.fork(scope, trace, &spec) {
            Ok(adapter) => Some(adapter),
            Err(_) => {
                if template.refused().is_some() {
                    forks.templates.not_forked(command);
                }
                forks.template = None;
                None
            }
        }
    }

    /// One replay of the save from a fresh case directory `top`, its
    /// call `point` interrupted: in a copy forked from the runner's
    /// template when it can, else (or when the copy went other than a
    /// fresh adapter can: it hung, or wrote what is not its reply) in a
    /// fresh adapter.
    fn replay(&self, forks: &mut Forks, top: PathBuf, point: Point) -> Result<Replay, Judged> {
        let traced = self.traced;
        let scope = CaseScope::new(top, &self.sidecars);
        let made = |scope: &CaseScope| {
            self.start.make(&scope.dir).map_err(|e| {
                Judged::Skipped(format!(
                    "the oracle could not make the starting directory: {e}"
                ))
            })?;
            Ok::<_, Judged>((scope.entries(), disk_before(&scope.top)?))
        };
        let (mut before, mut disk) = made(&scope)?;
        let trace_path = scope.top.with_extension("trace");
        let mut saved = None;
        if let Some(mut copy) = self.forked(forks, &scope.top, &trace_path, &point) {
            let outcome = AdapterSubject::new(&mut copy, &scope.dir).save(&self.new);
            let (faults, only_died) = (copy.tally().faults, copy.only_died());
            copy.finish(Duration::from_secs(10));
            // A copy that died did so in the tracer's sight (the template
            // still usable), not by the template's end.
            let died = only_died && forks.template.as_ref().is_some_and(Template::usable);
            if faults == 0 || died {
                saved = Some(outcome);
            } else {
                // Started again from scratch, as a fresh adapter would be;
                // what the copy made elsewhere goes.
                forks.template = None;
                if let Ok(copied) = traced.tracer.read(&trace_path) {
                    remove(&strays_of(&copied, &scope));
                }
                fs::remove_dir_all(&scope.top).map_err(|e| {
                    Judged::Skipped(format!(
                        "the oracle could not empty the case directory: {e}"
                    ))
                })?;
                (before, disk) = made(&scope)?;
            }
        }
        let saved = match saved {
            Some(saved) => saved,
            None => {
                let launch = traced.tracer.injecting(
                    &traced.command,
                    &trace_path,
                    &scope.top,
                    &point.injection,
                );
                let config = Traced::config(&self.usual, launch, None);
                let mut adapter = Adapter::start(config)
                    .map_err(|e| {
                        Judged::OracleFailed(format!(
                            "the adapter did not start under the tracer to replay {}: {e}",
                            point.describe()
                        ))
                    })?
                    .once();
                let saved = AdapterSubject::new(&mut adapter, &scope.dir).save(&self.new);
                adapter.finish(Duration::from_secs(10));
                saved
            }
        };
        let trace = traced
            .tracer
            .read(&trace_path)
            .map_err(Judged::OracleFailed)?;
        let counted = traced
            .tracer
            .counted(&trace_path, &trace)
            .map_err(Judged::OracleFailed)?;
        let strays = strays_of(&trace, &scope);
        let hit = point
            .verify(&trace, counted.as_deref(), &scope, traced.tracer.counting())
            .map_err(|why| {
                // What the save made elsewhere goes, judged or not.
                remove(&strays);
                Judged::OracleFailed(format!(
                    "the replay meant to interrupt {}, but {why}; the adapter does not make the same calls in every run",
                    point.text
                ))
            })?;
        Ok(Replay {
            point,
            hit,
            scope,
            before,
            disk,
            saved,
            trace,
            strays,
        })
    }
}

/// The oracle leaves no litter in the adapter's `$TMPDIR`.
fn remove(strays: &[PathBuf]) {
    for stray in strays {
        let _ = fs::remove_file(stray);
    }
}

/// Runs `replay` on each of `points` with `jobs` of them at once, each
/// runner on a CPU of its own while there are enough ([`Pinned`]), and
/// hands each outcome to `each` in the order of `points` ([`in_order`]).
/// A point that is already an outcome (`Err`) is handed on in its place.
fn replay_all<S: Send, P: Send, R: Send>(
    runners: Vec<S>,
    points: Vec<Result<P, Judged>>,
    replay: impl Fn(&mut S, P) -> Result<R, Judged> + Sync,
    each: impl FnMut(Result<R, Judged>) -> ControlFlow<()>,
) {
    in_order(
        runners,
        points,
        |runner, state, point| {
            let _pinned = Pinned::to(runner);
            point.and_then(|point| replay(state, point))
        },
        each,
    );
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
    let sidecars = sidecars(case.adapter);
    let recorded = record_save(case, traced, start, None)?;
    let recording = CaseScope::new(recorded.top.clone(), &sidecars);
    let runs = pick(&recorded);
    let counted = Counted::recorded(&recorded, traced.tracer.counting());
    let points = runs
        .iter()
        .map(|&(index, action)| {
            let point = Point::new(&recorded, &counted, &recording, index, action).ok_or_else(|| {
                Judged::OracleFailed(format!(
                    "call {index} of the recorded trace neither touches the case directory nor follows a call that does"
                ))
            })?;
            Ok((case.fresh_dir(), point))
        })
        .collect();
    let replayer = Replayer {
        traced,
        usual: case.adapter.config().clone(),
        sidecars,
        start,
        new: new_record(),
        fork: case.fork,
    };
    let runners = (0..case.jobs.max(1))
        .map(|_| Forks {
            templates: case.templates,
            command: &traced.command,
            // A template started there may serve later cases.
            dir: case.lasting_dir(),
            template: None,
        })
        .collect();
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut ended = None;
    replay_all(
        runners,
        points,
        |forks, (top, point)| replayer.replay(forks, top, point),
        |outcome| {
            if ended.is_some() {
                // Replays already under way when the case ended.
                if let Ok(run) = outcome {
                    remove(&run.strays);
                }
                return ControlFlow::Break(());
            }
            let judged = outcome.and_then(|run| {
                let judged = judge(case, &run, &recorded);
                remove(&run.strays);
                judged
            });
            match judged {
                Ok(note) => notes.extend(note),
                Err(Judged::Found(finding)) => findings.push(finding),
                Err(end) => {
                    ended = Some(end);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        },
    );
    if let Some(ended) = ended {
        return Err(ended);
    }
    // A broken MUST first, whichever replay broke it.
    findings.sort_by_key(|f| f.level);
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
    use crate::syscalls::strace::parse;
    use lifecycle_model::persistence::Disk;
    use std::sync::atomic::Ordering;
    use std::thread;

    fn trace(text: &str) -> Trace {
        parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A recorded save of a `tee` (7) beside the adapter (8), whose other
    /// thread (9) and whose own calls elsewhere come between its calls in
    /// the case directory `/r/c`.
    fn recorded() -> Recorded {
        let trace = trace(
            "\
7 write(1<pipe:[1]>, \"\\x7b\", 1) = 1
8 openat(-100</w>, \"/r/c/state/.t.tmp\", 0xc1, 0600) = 3</r/c/state/.t.tmp>
9 fsync(4</tmp/noise>) = 0
8 fsync(5</tmp/noise>) = 0
8 write(3</r/c/state/.t.tmp>, \"\\x7b\", 1) = 1
8 fsync(3</r/c/state/.t.tmp>) = 0
8 rename(\"/r/c/state/.t.tmp\", \"/r/c/state/lifecycle_state.json\") = 0
8 futex(0x7f, 0x81, 1) = 0
8 write(1<pipe:[2]>, \"\\x7b\", 1) = 1
",
        );
        Recorded {
            top: PathBuf::from("/r/c"),
            record_path: "/r/c/state/lifecycle_state.json".to_string(),
            trace,
            ops: Vec::new(),
            touching: vec![1, 4, 5, 6],
            before: Disk::default(),
        }
    }

    fn scope() -> CaseScope {
        CaseScope::new(PathBuf::from("/r/c"), &[])
    }

    /// `point` verified in `replay` as `lifecycle trace` counts: among
    /// the calls that touch the case directory.
    fn verified_in_scope(point: &Point, replay: &Trace) -> Result<(), String> {
        hit_in_scope(point, replay).map(drop)
    }

    /// The call `point` hit in `replay`, in words.
    fn hit_in_scope(point: &Point, replay: &Trace) -> Result<String, String> {
        let counted = touching_in(replay, &scope());
        point.verify(replay, Some(&counted), &scope(), Counting::InScope)
    }

    fn point(recorded: &Recorded, counting: Counting, index: usize, action: Action) -> Point {
        let counted = Counted::recorded(recorded, counting);
        Point::new(recorded, &counted, &scope(), index, action).expect("a point")
    }

    /// Outcomes of `replay_all` over `points` with `jobs` at once, each
    /// replay `n` taking 3 ms less than the one before so they end out
    /// of order, `each` stopping at `stop_at`: what `each` got, and how
    /// many replays started.
    fn replayed_all(
        points: Vec<Result<u64, Judged>>,
        jobs: usize,
        stop_at: Option<u64>,
    ) -> (Vec<Result<u64, Judged>>, usize) {
        let started = std::sync::atomic::AtomicUsize::new(0);
        let mut got = Vec::new();
        let total = points.len() as u64;
        replay_all(
            vec![(); jobs],
            points,
            |(), n| {
                started.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(total.saturating_sub(n) * 3));
                Ok(n * 10)
            },
            |outcome| {
                let stop = matches!(&outcome, Ok(v) if Some(*v) == stop_at.map(|s| s * 10));
                got.push(outcome);
                if stop {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        (got, started.into_inner())
    }

    #[test]
    fn replays_run_at_once_are_judged_in_the_order_of_their_points() {
        let failed = Judged::OracleFailed("no point".into());
        let points = vec![Ok(0), Ok(1), Err(failed.clone()), Ok(3), Ok(4), Ok(5)];
        for jobs in [1, 2, 3, 8] {
            let (got, started) = replayed_all(points.clone(), jobs, None);
            assert_eq!(
                got,
                vec![Ok(0), Ok(10), Err(failed.clone()), Ok(30), Ok(40), Ok(50)],
                "{jobs} at once"
            );
            assert_eq!(started, 5, "every point but the failed one is replayed");
        }
        let (got, _) = replayed_all(Vec::new(), 2, None);
        assert!(got.is_empty());
    }

    #[test]
    fn once_a_case_ends_no_more_replays_start() {
        let points: Vec<Result<u64, Judged>> = (0..40).map(Ok).collect();
        for jobs in [1, 2, 4] {
            let (got, started) = replayed_all(points.clone(), jobs, Some(3));
            // What was under way is handed on; nothing new starts.
            assert_eq!(got[..4], [Ok(0), Ok(10), Ok(20), Ok(30)], "{jobs} at once");
            assert!(
                started <= 4 + jobs,
                "{started} replays started with {jobs} at once after the 4th ended the case"
            );
        }
    }

    #[test]
    fn a_judge_that_panics_starts_no_more_replays() {
        let started = std::sync::atomic::AtomicUsize::new(0);
        let started_at_panic = std::sync::atomic::AtomicUsize::new(0);
        let points: Vec<Result<u64, Judged>> = (0..40).map(Ok).collect();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            replay_all(
                vec![(); 2],
                points,
                |(), n| {
                    started.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(2));
                    Ok(n)
                },
                |outcome| {
                    if outcome == Ok(3) {
                        started_at_panic.store(started.load(Ordering::SeqCst), Ordering::SeqCst);
                        // A panic without the hook's message, which would
                        // take longer than the replays.
                        std::panic::resume_unwind(Box::new("the judge's own bug"));
                    }
                    ControlFlow::Continue(())
                },
            )
        }));
        assert!(panicked.is_err());
        // Each of the 2 runners may be between its look at the stop and
        // its next point as the judge panics, and start one more; no
        // other starts, however late the judge's thread ran (a timed bound
        // failed on a loaded machine).
        let (started, at_panic) = (started.into_inner(), started_at_panic.into_inner());
        assert!(
            started <= at_panic + 2,
            "{started} replays started, {at_panic} when the judge panicked"
        );
    }

    #[test]
    fn a_point_is_counted_among_the_calls_in_the_case_directory_or_all_as_the_tracer_counts() {
        let recorded = recorded();
        let fsync = point(&recorded, Counting::InScope, 5, Action::Kill);
        assert_eq!(
            (fsync.injection.ordinal, fsync.injection.process),
            (1, 0),
            "the fsync elsewhere does not count, nor does the tee number"
        );
        assert!(!fsync.injection.after);
        let fsync = point(&recorded, Counting::EveryCall, 5, Action::Kill);
        assert_eq!((fsync.injection.ordinal, fsync.injection.process), (2, 0));
        let rename = point(&recorded, Counting::InScope, 6, Action::Fail("EIO"));
        assert_eq!(rename.injection.ordinal, 1);
        assert_eq!(
            rename.roles,
            ["state/(a new name)", "state/lifecycle_state.json"]
        );
    }

    #[test]
    fn the_call_after_the_last_in_the_case_directory_is_counted_from_that_last_one() {
        let recorded = recorded();
        let after = point(&recorded, Counting::InScope, 7, Action::Kill);
        assert!(after.injection.after);
        assert_eq!((after.injection.ordinal, after.injection.process), (4, 0));
        assert_eq!(after.injection.syscall, "futex");
        // A call elsewhere that follows none in the case directory is no
        // point.
        let counted = Counted::recorded(&recorded, Counting::InScope);
        assert!(Point::new(&recorded, &counted, &scope(), 0, Action::Kill).is_none());
        assert!(Point::new(&recorded, &counted, &scope(), 8, Action::Kill).is_none());
    }

    #[test]
    fn a_replay_is_verified_counting_as_its_tracer_counts() {
        let recorded = recorded();
        let fsync = point(&recorded, Counting::InScope, 5, Action::Kill);
        // What lifecycle trace counts: the calls in the case directory,
        // under other process ids, up to the call killed.
        let killed = trace(
            "\
18 openat(-100</w>, \"/r/c/state/.u.tmp\", 0xc1, 0600) = 3</r/c/state/.u.tmp>
18 write(3</r/c/state/.u.tmp>, \"\\x7b\", 1) = 1
18 fsync(3</r/c/state/.u.tmp> <unfinished ...>
18 +++ killed by SIGKILL +++
",
        );
        assert_eq!(
            hit_in_scope(&fsync, &killed).as_deref(),
            Ok("fsync of state/.u.tmp"),
            "the replay's own temp name"
        );
        // Counted strace's way, the fsync meant is the process's 2nd.
        let error = point(&recorded, Counting::EveryCall, 5, Action::Kill)
            .verify(&killed, None, &scope(), Counting::EveryCall)
            .expect_err("strace's count");
        assert!(
            error.contains("made no 2nd fsync call of process #1"),
            "{error}"
        );
        let survived = trace(
            "\
18 openat(-100</w>, \"/r/c/state/.u.tmp\", 0xc1, 0600) = 3</r/c/state/.u.tmp>
18 fsync(3</r/c/state/.u.tmp>) = 0
",
        );
        let error = verified_in_scope(&fsync, &survived).expect_err("not killed");
        assert!(error.contains("was not killed"), "{error}");
        let elsewhere = trace(
            "\
18 fsync(3</r/c/other>) = ?
18 +++ killed by SIGKILL +++
",
        );
        let error = verified_in_scope(&fsync, &elsewhere).expect_err("another file");
        assert!(error.contains("was fsync of other"), "{error}");
    }

    #[test]
    fn the_call_after_the_last_may_be_any_call_of_that_process() {
        let recorded = recorded();
        let after = point(&recorded, Counting::InScope, 7, Action::Kill);
        let replay = |last: &str| {
            trace(&format!(
                "\
18 openat(-100</w>, \"/r/c/state/.u.tmp\", 0xc1, 0600) = 3</r/c/state/.u.tmp>
18 write(3</r/c/state/.u.tmp>, \"\\x7b\", 1) = 1
18 fsync(3</r/c/state/.u.tmp>) = 0
18 rename(\"/r/c/state/.u.tmp\", \"/r/c/state/lifecycle_state.json\") = 0
{last}
18 +++ killed by SIGKILL +++
"
            ))
        };
        for last in [
            "18 write(1<pipe:[2]> <unfinished ...>",
            "18 futex( <unfinished ...>",
        ] {
            assert_eq!(verified_in_scope(&after, &replay(last)), Ok(()), "{last}");
        }
        let error = verified_in_scope(&after, &replay("")).expect_err("nothing after the rename");
        assert!(
            error.contains(
                "made no first call of process #1 after its 4th call in the case directory"
            ),
            "{error}"
        );
    }

    /// A recorded save whose process (8) makes its calls in the case
    /// directory from two threads (8 and 9) in turn, then forks a child
    /// (10) that syncs the directory.
    fn recorded_with_threads() -> Recorded {
        let trace = trace(
            "\
8 clone(child_stack=0x7f00, flags=0x3d0f00) = 9
8 openat(-100</w>, \"/r/c/state/.t.tmp\", 0xc1, 0600) = 3</r/c/state/.t.tmp>
9 write(3</r/c/state/.t.tmp>, \"\\x7b\", 1) = 1
8 fsync(3</r/c/state/.t.tmp>) = 0
9 rename(\"/r/c/state/.t.tmp\", \"/r/c/state/lifecycle_state.json\") = 0
9 futex(0x7f, 0x81, 1) = 0
8 clone(child_stack=NULL, flags=0x1200011) = 10
10 openat(-100</w>, \"/r/c/state\", 0x10000) = 4</r/c/state>
10 fsync(4</r/c/state>) = 0
",
        );
        Recorded {
            top: PathBuf::from("/r/c"),
            record_path: "/r/c/state/lifecycle_state.json".to_string(),
            trace,
            ops: Vec::new(),
            touching: vec![1, 2, 3, 4, 7, 8],
            before: Disk::default(),
        }
    }

    #[test]
    fn the_threads_of_a_process_count_together_in_the_case_directory_and_a_fork_child_apart() {
        let recorded = recorded_with_threads();
        let spec = |index: usize| {
            let injection = point(&recorded, Counting::InScope, index, Action::Kill).injection;
            (
                injection.syscall,
                injection.ordinal,
                injection.process,
                injection.after,
            )
        };
        assert_eq!(
            spec(2),
            ("write".into(), 1, 0, false),
            "thread 9 is process #1"
        );
        assert_eq!(spec(4), ("rename".into(), 1, 0, false));
        // After the rename, the 4th call of the process, made by thread 9.
        assert_eq!(spec(5), ("futex".into(), 4, 0, true));
        assert_eq!(spec(8), ("fsync".into(), 1, 1, false), "the child is #2");
        // strace counts each thread apart.
        let write = point(&recorded, Counting::EveryCall, 2, Action::Kill).injection;
        assert_eq!((write.ordinal, write.process), (1, 1));
    }

    #[test]
    fn a_replay_whose_threads_share_the_calls_otherwise_hits_the_same_points() {
        let recorded = recorded_with_threads();
        // The same calls, each from the other thread than in the
        // recording, under other ids; the only SIGKILL the trace shows
        // (the tracer was killed too, say) is thread 21's, not the one
        // killed in its call: one SIGKILL ends the whole group.
        let replay = |last: &str| {
            trace(&format!(
                "\
20 clone(child_stack=0x7f00, flags=0x3d0f00) = 21
21 openat(-100</w>, \"/r/c/state/.u.tmp\", 0xc1, 0600) = 3</r/c/state/.u.tmp>
20 write(3</r/c/state/.u.tmp>, \"\\x7b\", 1) = 1
21 fsync(3</r/c/state/.u.tmp>) = 0
{last}
21 +++ killed by SIGKILL +++
"
            ))
        };
        let renamed = "20 rename(\"/r/c/state/.u.tmp\", \"/r/c/state/lifecycle_state.json\") = 0";
        let killed_rename = replay(
            "20 rename(\"/r/c/state/.u.tmp\", \"/r/c/state/lifecycle_state.json\" <unfinished ...>",
        );
        let rename = point(&recorded, Counting::InScope, 4, Action::Kill);
        assert_eq!(verified_in_scope(&rename, &killed_rename), Ok(()));
        let after = point(&recorded, Counting::InScope, 5, Action::Kill);
        let killed_after = replay(&format!("{renamed}\n20 write(1<pipe:[2]> <unfinished ...>"));
        assert_eq!(verified_in_scope(&after, &killed_after), Ok(()));
        // The call after is the rename's thread's, not the process's.
        let other_thread = replay(&format!("{renamed}\n21 write(1<pipe:[2]> <unfinished ...>"));
        let error = verified_in_scope(&after, &other_thread)
            .expect_err("thread 20 made no call after the rename");
        assert!(
            error.contains("made no first call of process #1 after its 4th call in the case directory, by the thread that made that one"),
            "{error}"
        );
        let fsync_of_child = point(&recorded, Counting::InScope, 8, Action::Kill);
        let forked = replay(&format!(
            "{renamed}\n20 fork() = 30\n30 openat(-100</w>, \"/r/c/state\", 0x10000) = 4</r/c/state>\n30 fsync(4</r/c/state> <unfinished ...>\n30 +++ killed by SIGKILL +++"
        ));
        assert_eq!(verified_in_scope(&fsync_of_child, &forked), Ok(()));
    }

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
