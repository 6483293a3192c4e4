//! A save recorded under the tracer, as the persistence model's op log.
//!
//! Promises: [`record_save`] makes the starting disk, reads it as the
//! model's disk before the save, starts the adapter's command afresh under
//! the tracer (recording every call of every process; the umask asked for;
//! [`TRACED_TIMEOUT_FACTOR`] times the usual timeout, since the tracer
//! slows every call down), saves one record, and turns the trace into the
//! op log of the calls that touch the record's directory and the directory
//! above it (so a temp file made beside the record's directory and renamed
//! across is seen). A save that fails is a finding; a call the model
//! cannot hold makes the case skipped, naming the call (a blind spot,
//! never a pass); a trace that cannot be read is the oracle's failure.
//! [`Traced`] finds the command and the tracer a traced case needs, or
//! says why the case is skipped.
//!
//! Does not promise: that a second run of the same command makes the same
//! calls; the replays check that themselves.

use std::fs;
use std::path::Path;
use std::time::Duration;

use lifecycle_harness::subject::Subject;
use lifecycle_harness::{compare, report, Finding};
use lifecycle_model::persistence::Disk;
use lifecycle_model::spec::RECORD_FILE_NAME;
use lifecycle_model::Record;

use crate::adapter::{Adapter, Config, Launch};
use crate::case::{Case, Judged};
use crate::subject::AdapterSubject;
use crate::syscalls::convert::{self, Converted, SaveContext, TracedOp};
use crate::syscalls::strace::Trace;
use crate::traced::pinned::Pinned;
use crate::traced::start::StartingState;
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
    /// The record path the save wrote (the op log names it so).
    pub record_path: String,
    pub trace: Trace,
    pub ops: Vec<TracedOp>,
    /// The calls that touch the case directory (`Converted::touching`).
    pub touching: Vec<usize>,
    pub before: Disk,
}

/// Runs one save of `saved` into `dir` (made as `start` says) under the
/// tracer, the adapter under `umask` (`None`: the run's): the trace, its
/// op log, and the disk before; or the outcome the case ends with.
pub fn record_save(
    case: &Case<'_>,
    traced: &Traced,
    dir: &Path,
    start: StartingState,
    saved: &Record,
    umask: Option<u32>,
) -> Result<Recorded, Judged> {
    let skipped = |why: String| Judged::Skipped(why);
    let scope = dir
        .parent()
        .ok_or_else(|| skipped("the record's directory has no parent".into()))?;
    start.make(dir).map_err(|e| {
        skipped(format!(
            "the oracle could not make the starting directory: {e}"
        ))
    })?;
    let (dir_text, before) = disk_before(scope)?;
    let trace_path = case.fresh_dir().with_extension("trace");
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
    let saved_ok = AdapterSubject::new(&mut adapter, dir).save(saved);
    adapter.finish(Duration::from_secs(10));
    drop(pinned);
    if let Err(failure) = saved_ok {
        return Err(Judged::Found(compare::valid_save_failed(
            format!(
                "save of the valid record {} failed under strace: {failure}",
                report::record(saved)
            ),
            &failure,
        )));
    }
    let trace = traced
        .tracer
        .read(&trace_path)
        .map_err(Judged::OracleFailed)?;
    let converted = op_log_of(&trace, &dir_text, &before, umask.or(usual.umask))?;
    Ok(Recorded {
        record_path: format!("{}/{RECORD_FILE_NAME}", dir.display()),
        trace,
        ops: converted.ops,
        touching: converted.touching,
        before: converted.before,
    })
}
