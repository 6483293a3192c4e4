//! A save recorded under the tracer, as the persistence model's op log.
//!
//! Promises: [`record_save`] makes the starting disk in a fresh case
//! directory, reads it as the model's disk before the save, starts the
//! adapter's command afresh under the tracer (recording every call of
//! every process; the umask asked for; [`TRACED_TIMEOUT_FACTOR`] times the
//! usual timeout, since the tracer slows every call down), saves the new
//! record, and turns the trace into the op log of the calls that touch the
//! record's directory and the directory above it (so a temp file made
//! beside the record's directory and renamed across is seen). A save that
//! fails is a finding; a call the model cannot hold makes the case
//! skipped, naming the call (a blind spot, never a pass); a trace that
//! cannot be read is the oracle's failure. A run records each save once
//! ([`Recordings`]): the suites that start from the same disk under the
//! same umask (`power`, `kill`, `faults`, and `permissions` under the
//! run's umask) judge one recording, and its outcome is theirs alike.
//! [`Traced`] finds the command and the tracer a traced case needs, or
//! says why the case is skipped.
//!
//! Does not promise: that a second run of the same command makes the same
//! calls; the replays check that themselves.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifecycle_harness::subject::Subject;
use lifecycle_harness::{compare, report, Finding};
use lifecycle_model::persistence::Disk;
use lifecycle_model::spec::RECORD_FILE_NAME;

use crate::adapter::{Adapter, Config, Launch};
use crate::case::{Case, Judged};
use crate::subject::AdapterSubject;
use crate::syscalls::convert::{self, Converted, SaveContext, TracedOp};
use crate::syscalls::strace::Trace;
use crate::traced::pinned::Pinned;
use crate::traced::start::{new_record, StartingState, STATE};
use crate::tracer::{self, Tracer};

/// How many times the usual timeout a traced adapter's request may take.
pub const TRACED_TIMEOUT_FACTOR: u32 = 5;

/// What a traced case runs: the adapter's command and the tracer.
pub struct Traced {
    pub command: String,
    pub tracer: Box<dyn Tracer>,
}

impl Traced {
    /// The command and this machine's tracer, or the skip that says which
    /// is missing.
    pub fn find(command: Option<&str>) -> Result<Traced, Judged> {
        let command = command
            .ok_or_else(|| Judged::Skipped("no adapter command to trace".into()))?
            .to_string();
        let tracer = tracer::find().map_err(Judged::Skipped)?;
        Ok(Traced { command, tracer })
    }

    /// The adapter's configuration for one traced run of `launch` (a
    /// command line the tracer made), under `umask` (`None`: the usual
    /// one).
    pub fn config(usual: &Config, launch: String, umask: Option<u32>) -> Config {
        Config {
            launch: Launch::Command(launch),
            timeout: usual.timeout * TRACED_TIMEOUT_FACTOR,
            umask: umask.or(usual.umask),
        }
    }
}

/// The umask this process runs under (the adapter inherits it).
pub fn own_umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// The case directory `scope` as text, and the disk before a save into it
/// (the directories above it, and it with all it holds); or why the case
/// is skipped.
pub fn disk_before(scope: &Path) -> Result<(String, Disk), Judged> {
    let text = scope
        .to_str()
        .ok_or_else(|| Judged::Skipped("the case directory is not UTF-8".into()))?;
    let before = convert::disk_before(text).map_err(|e| {
        Judged::Skipped(format!(
            "the oracle could not read the directory before the save: {e}"
        ))
    })?;
    Ok((text.to_string(), before))
}

/// The op log of a traced save into the case directory `scope` (the
/// adapter under `umask`, `None`: this process's), or the skip that names
/// the call the persistence model cannot hold.
pub fn op_log_of(
    trace: &Trace,
    scope: &str,
    before: &Disk,
    umask: Option<u32>,
) -> Result<Converted, Judged> {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.to_str().map(str::to_string))
        .unwrap_or_else(|| "/".to_string());
    let context = SaveContext {
        dir: scope,
        before,
        umask: umask.unwrap_or_else(own_umask),
        cwd: &cwd,
    };
    convert::convert(&trace.calls, &context).map_err(|refusal| {
        Judged::Skipped(format!(
            "the save made a call the persistence model cannot hold: {refusal}"
        ))
    })
}

/// What a recorded save came to.
pub struct Recorded {
    /// The case directory the save was recorded in: the record's
    /// directory is its [`STATE`].
    pub top: PathBuf,
    /// The record path the save wrote (the op log names it so).
    pub record_path: String,
    pub trace: Trace,
    pub ops: Vec<TracedOp>,
    /// The calls that touch the case directory (`Converted::touching`).
    pub touching: Vec<usize>,
    pub before: Disk,
}

/// The saves a run recorded, each once: what decides a recording is the
/// traced command, the start and the umask (every traced save writes
/// [`new_record`]), so every suite that asks for the same one judges the
/// same recording, its outcome (a save that failed under the tracer, a
/// call the model cannot hold) included. Shared by the cases of a run;
/// of two that record the same save at once, the first one kept is the
/// one both get.
#[derive(Default)]
pub struct Recordings {
    saves: Mutex<HashMap<RecordingKey, Outcome>>,
}

/// What decides a recording: the traced command, the start, the umask.
type RecordingKey = (String, StartingState, u32);

/// A recording, or the outcome its case ended with.
type Outcome = Result<Arc<Recorded>, Judged>;

impl Recordings {
    fn get(&self, key: &RecordingKey) -> Option<Outcome> {
        // A panic while the map was held leaves it whole: it only inserts.
        let saves = self.saves.lock().unwrap_or_else(|p| p.into_inner());
        saves.get(key).cloned()
    }

    /// Keeps `outcome` unless one was kept meanwhile: the one kept.
    fn keep(&self, key: RecordingKey, outcome: Outcome) -> Outcome {
        let mut saves = self.saves.lock().unwrap_or_else(|p| p.into_inner());
        saves.entry(key).or_insert(outcome).clone()
    }
}

/// The save of [`new_record`] from `start` recorded under the tracer, the
/// adapter under `umask` (`None`: the run's): recorded in a fresh case
/// directory the first time the run asks for it, then the same recording
/// (`Recordings`).
pub fn record_save(
    case: &Case<'_>,
    traced: &Traced,
    start: StartingState,
    umask: Option<u32>,
) -> Outcome {
    let umask = umask.or(case.adapter.config().umask);
    let key = (
        traced.command.clone(),
        start,
        umask.unwrap_or_else(own_umask),
    );
    if let Some(outcome) = case.recordings.get(&key) {
        return outcome;
    }
    let outcome = record_afresh(case, traced, &case.lasting_dir(), start, umask).map(Arc::new);
    case.recordings.keep(key, outcome)
}

/// Runs one save of [`new_record`] into the case directory `top` (its
/// [`STATE`] made as `start` says) under the tracer, the adapter under
/// `umask` (`None`: this process's): the trace, its op log, and the disk
/// before; or the outcome the case ends with.
fn record_afresh(
    case: &Case<'_>,
    traced: &Traced,
    top: &Path,
    start: StartingState,
    umask: Option<u32>,
) -> Result<Recorded, Judged> {
    let skipped = |why: String| Judged::Skipped(why);
    let dir = top.join(STATE);
    start.make(&dir).map_err(|e| {
        skipped(format!(
            "the oracle could not make the starting directory: {e}"
        ))
    })?;
    let (dir_text, before) = disk_before(top)?;
    let trace_path = top.with_extension("trace");
    let usual = case.adapter.config();
    let config = Traced::config(
        usual,
        traced.tracer.recording(&traced.command, &trace_path),
        umask,
    );
    let pinned = Pinned::here();
    let mut adapter = Adapter::start(config).map_err(|e| {
        Judged::Found(Finding::violation(
            "§3",
            "the adapter starts and saves a valid record under the tracer",
            format!("the adapter did not start under strace: {e}"),
        ))
    })?;
    let saved = new_record();
    let saved_ok = AdapterSubject::new(&mut adapter, &dir).save(&saved);
    adapter.finish(Duration::from_secs(10));
    drop(pinned);
    if let Err(failure) = saved_ok {
        return Err(Judged::Found(compare::valid_save_failed(
            format!(
                "save of the valid record {} failed under strace: {failure}",
                report::record(&saved)
            ),
            &failure,
        )));
    }
    let trace = traced
        .tracer
        .read(&trace_path)
        .map_err(Judged::OracleFailed)?;
    let converted = op_log_of(&trace, &dir_text, &before, umask)?;
    Ok(Recorded {
        top: top.to_path_buf(),
        record_path: format!("{}/{RECORD_FILE_NAME}", dir.display()),
        trace,
        ops: converted.ops,
        touching: converted.touching,
        before: converted.before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::adapter::Answerer;
    use crate::options::Options;
    use crate::traced::templates::Templates;
    use crate::tracer::{Counting, Injection};

    /// A tracer whose recordings are a command that fails at once, and
    /// that counts how many it was asked for.
    #[derive(Default)]
    struct Counter {
        recordings: Arc<AtomicUsize>,
    }

    impl Tracer for Counter {
        fn recording(&self, _: &str, _: &Path) -> String {
            self.recordings.fetch_add(1, Ordering::SeqCst);
            "exit 3".to_string()
        }
        fn injecting(&self, _: &str, _: &Path, _: &Path, _: &Injection) -> String {
            unreachable!("a recording injects nothing")
        }
        fn read(&self, _: &Path) -> Result<Trace, String> {
            Err("no trace".into())
        }
        fn counting(&self) -> Counting {
            Counting::InScope
        }
        fn counted(&self, _: &Path, _: &Trace) -> Result<Option<Vec<usize>>, String> {
            Ok(None)
        }
    }

    fn options(umask: Option<u32>) -> Options {
        let answer: Answerer = Arc::new(|line: &str| {
            line.contains(r#""cmd":"start""#).then(|| {
                r#"{"cmd":"start","version":1,"implementation":{"name":"t","language":"rust"},"capabilities":["store"]}"#.to_string()
            })
        });
        Options::plain(Config {
            launch: Launch::InProcess(answer),
            timeout: Duration::from_secs(2),
            umask,
        })
    }

    #[test]
    fn a_run_records_a_save_once_for_each_start_and_umask() {
        let root = tempfile::tempdir().expect("a temp dir");
        let options = options(Some(0o077));
        let mut adapter = Adapter::start(options.config.clone()).expect("the answerer starts");
        let recordings = Recordings::default();
        let templates = Templates::default();
        let case = Case::new(&mut adapter, root.path(), &recordings, &templates, &options);
        let counter = Counter::default();
        let asked = Arc::clone(&counter.recordings);
        let traced = Traced {
            command: "the adapter".into(),
            tracer: Box::new(counter),
        };
        let outcome = |start, umask| record_save(&case, &traced, start, umask).err();
        let first = outcome(StartingState::OldRecord, None);
        assert!(
            matches!(&first, Some(Judged::Found(f)) if f.message.contains("did not start")),
            "{first:?}"
        );
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // The run's umask asked for by name is the same recording.
        assert_eq!(outcome(StartingState::OldRecord, Some(0o077)), first);
        assert_eq!(outcome(StartingState::OldRecord, None), first);
        assert_eq!(asked.load(Ordering::SeqCst), 1, "recorded again");
        outcome(StartingState::OldRecord, Some(0o022));
        assert_eq!(asked.load(Ordering::SeqCst), 2, "another umask");
        outcome(StartingState::NoDirectory, None);
        assert_eq!(asked.load(Ordering::SeqCst), 3, "another start");
    }
}
