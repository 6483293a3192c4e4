//! `power`: every disk a power loss may leave during a save, loaded.
//!
//! Promises: for each starting directory (none yet, an empty one, one
//! holding an old record), the adapter's save of a new record is recorded
//! under strace and turned into the persistence model's op log
//! (`syscalls`). Then, for a power loss after every prefix of that log
//! and for 512- and 4096-byte blocks, every disk `model::persistence`
//! allows is judged: the record path must hold the complete old record
//! (nothing, when there was none) or the complete new one, 0600; once the
//! whole save has run (it returned success), only the new one (SPEC §3.4);
//! and no disk may hold a new file outside the record's directory, where
//! no writer would ever sweep it (§3.3 step 3: the temp file belongs
//! beside the record).
//! Each distinct file the record path may hold is also materialized in a
//! fresh directory and loaded through the adapter, which must read it as
//! the model does. A finding shows the op log, with the strace line of
//! each operation and where the power went.
//!
//! Does not promise: states a real file system could reach that the model
//! does not allow (its rules are in `model/README.md`); a save whose calls
//! the model cannot hold is `skipped`, naming the call.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use lifecycle_harness::compare::{self, Finding, Rules};
use lifecycle_harness::generate::record::at_micros;
use lifecycle_harness::report;
use lifecycle_harness::subject::Subject;
use lifecycle_harness::World;
use lifecycle_model::persistence::{Crash, CrashSpace, Disk, Node, Op};
use lifecycle_model::spec::{DIR_MODE, FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::Found;
use lifecycle_model::Record;

use crate::adapter::{Adapter, Config, Launch};
use crate::check::{Case, Judged, Planned};
use crate::protocol::Capability;
use crate::subject::AdapterSubject;
use crate::suites::{record, stamp, wall_micros, FIXED_NOW};
use crate::syscalls::convert::{self, SaveContext, TracedOp};
use crate::syscalls::strace::Trace;
use crate::tracer::{self, Tracer};

/// How many times the usual timeout a traced adapter's request may take.
pub const TRACED_TIMEOUT_FACTOR: u32 = 5;

/// The block sizes a power loss may tear writes at.
const BLOCKS: [usize; 2] = [512, 4096];

/// How a case's directory starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The record's directory does not exist.
    NoDirectory,
    /// It exists, empty.
    EmptyDirectory,
    /// It holds an old record.
    OldRecord,
    /// The record file holds [`CORRUPT`] bytes.
    CorruptFile,
}

/// The bytes of a corrupt record file: a record torn off mid-member.
pub const CORRUPT: &[u8] = b"{\"current_state\":\"DROWSY\",\"since_ts\":\"2024-06";

impl Start {
    /// The starts of the `power` suite.
    pub const POWER: [Start; 3] = [Start::NoDirectory, Start::EmptyDirectory, Start::OldRecord];

    pub fn name(self) -> &'static str {
        match self {
            Start::NoDirectory => "no_directory",
            Start::EmptyDirectory => "empty_directory",
            Start::OldRecord => "old_record",
            Start::CorruptFile => "corrupt_file",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Start::NoDirectory => "the record's directory does not exist",
            Start::EmptyDirectory => "the record's directory is empty",
            Start::OldRecord => "the record file holds an old record",
            Start::CorruptFile => "the record file holds a corrupt record",
        }
    }

    /// What the record path holds at the start.
    pub fn held(self) -> Held {
        match self {
            Start::NoDirectory | Start::EmptyDirectory => Held::Nothing,
            Start::OldRecord => Held::File {
                mode: FILE_MODE,
                data: old_record().encode(),
            },
            Start::CorruptFile => Held::File {
                mode: FILE_MODE,
                data: CORRUPT.to_vec(),
            },
        }
    }

    /// Makes `dir` so, and the directory above it (0700) in any case.
    pub fn make(self, dir: &Path) -> std::io::Result<()> {
        if self == Start::NoDirectory {
            return dir.parent().map_or(Ok(()), |parent| {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(parent)
            });
        }
        materialize(dir, &self.held())?;
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
    }
}

pub fn old_record() -> Record {
    record(&format!(
        r#"{{"current_state":"DROWSY","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":41,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x-old":"the old record"}}"#,
        t = stamp(FIXED_NOW - 60_000_000)
    ))
}

pub fn new_record() -> Record {
    record(&format!(
        r#"{{"current_state":"WAKE","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":42,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x-new":"the new record, a little longer than the old one"}}"#,
        t = stamp(FIXED_NOW)
    ))
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

/// What a recorded save came to.
pub struct Recorded {
    pub trace: Trace,
    pub ops: Vec<TracedOp>,
    /// The calls that touch the case directory (`Converted::touching`).
    pub touching: Vec<usize>,
    pub before: Disk,
}

/// Runs one save of `saved` into `dir` (made as `start` says) under
/// strace, the adapter under `umask` (`None`: the run's): the trace, its
/// op log, and the disk before; or why the case cannot be judged.
pub fn record_save(
    case: &Case<'_>,
    command: &str,
    tracer: &dyn Tracer,
    dir: &Path,
    start: Start,
    saved: &Record,
    umask: Option<u32>,
) -> Result<Recorded, Judged> {
    let skipped = |why: String| Judged::Skipped(why);
    // The model follows the calls under the directory above the record's,
    // so a temp file made beside that directory (renamed across) is seen.
    let scope = dir
        .parent()
        .ok_or_else(|| skipped("the record's directory has no parent".into()))?;
    start.make(dir).map_err(|e| {
        skipped(format!(
            "the oracle could not make the starting directory: {e}"
        ))
    })?;
    let dir_text = scope
        .to_str()
        .ok_or_else(|| skipped("the case directory is not UTF-8".into()))?;
    let before = convert::disk_before(dir_text).map_err(|e| {
        skipped(format!(
            "the oracle could not read the directory before the save: {e}"
        ))
    })?;
    let trace_path = case.fresh_dir().with_extension("trace");
    let usual = case.adapter.config();
    let usual_umask = usual.umask;
    let config = Config {
        launch: Launch::Command(tracer.recording(command, &trace_path)),
        // strace slows every call down.
        timeout: usual.timeout * TRACED_TIMEOUT_FACTOR,
        umask: umask.or(usual.umask),
    };
    let mut traced = Adapter::start(config).map_err(|e| {
        Judged::Found(Finding::violation(
            "§3",
            format!("the adapter did not start under strace: {e}"),
        ))
    })?;
    let saved_ok = AdapterSubject::new(&mut traced, dir).save(saved);
    traced.finish(Duration::from_secs(10));
    if let Err(failure) = saved_ok {
        return Err(Judged::Found(Finding::violation(
            "§3",
            format!(
                "save of the valid record {} failed under strace: {failure}",
                report::record(saved)
            ),
        )));
    }
    let trace = tracer.read(&trace_path).map_err(Judged::OracleFailed)?;
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.to_str().map(str::to_string))
        .unwrap_or_else(|| "/".to_string());
    let context = SaveContext {
        dir: dir_text,
        before: &before,
        umask: umask.or(usual_umask).unwrap_or_else(own_umask),
        cwd: &cwd,
    };
    let converted = convert::convert(&trace.calls, &context).map_err(|refusal| {
        skipped(format!(
            "the save made a call the persistence model cannot hold: {refusal}"
        ))
    })?;
    Ok(Recorded {
        trace,
        ops: converted.ops,
        touching: converted.touching,
        before,
    })
}

/// An operation of the log in words.
pub fn describe(op: &Op) -> String {
    match op {
        Op::Mkdir { path, mode } => format!("mkdir {path} (mode {mode:o})"),
        Op::Create { path, inode, mode } => {
            format!("create {path} as file #{inode} (mode {mode:o})")
        }
        Op::Write {
            inode,
            offset,
            data,
        } => format!(
            "write {} bytes at offset {offset} of file #{inode}: {}",
            data.len(),
            report::excerpt(data)
        ),
        Op::FsyncFile { inode } => format!("fsync file #{inode}"),
        Op::FdatasyncFile { inode } => format!("fdatasync file #{inode}"),
        Op::Truncate { inode, size } => format!("truncate file #{inode} to {size} bytes"),
        Op::Rename { from, to } => format!("rename {from} to {to}"),
        Op::Unlink { path } => format!("unlink {path}"),
        Op::Rmdir { path } => format!("rmdir {path}"),
        Op::Chmod { path, mode } => format!("chmod {path} to {mode:o}"),
        Op::FsyncDir { path } => format!("fsync directory {path}"),
    }
}

/// The op log, numbered, with the strace line of each operation, and
/// `mark` after the first `cut` operations (where the power went, or the
/// process was killed).
pub fn op_log_text(recorded: &Recorded, cut: Option<usize>, mark: &str) -> String {
    let mut lines = Vec::new();
    let mark = format!("  -- {mark} --");
    if cut == Some(0) {
        lines.push(mark.clone());
    }
    for (i, traced) in recorded.ops.iter().enumerate() {
        let line = recorded.trace.calls.get(traced.call).map_or(0, |c| c.line);
        lines.push(format!(
            "  {}. {} (strace line {line})",
            i + 1,
            describe(&traced.op)
        ));
        if cut == Some(i + 1) {
            lines.push(mark.clone());
        }
    }
    if recorded.ops.is_empty() {
        lines.push("  (no operation touched the record's directory)".to_string());
    }
    lines.join("\n")
}

/// What the record path holds in a disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Held {
    Nothing,
    Directory,
    File { mode: u32, data: Vec<u8> },
}

impl Held {
    pub fn of(disk: &Disk, record_path: &str) -> Held {
        match disk.nodes.get(record_path) {
            None => Held::Nothing,
            Some(Node::Dir { .. }) => Held::Directory,
            Some(Node::File { mode, data, .. }) => Held::File {
                mode: *mode,
                data: data.clone(),
            },
        }
    }

    /// What `dir`'s record path holds on the real disk.
    pub fn read(dir: &Path) -> std::io::Result<Held> {
        let path = dir.join(RECORD_FILE_NAME);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Held::Nothing),
            Err(e) => Err(e),
            Ok(meta) if meta.is_dir() => Ok(Held::Directory),
            Ok(meta) => Ok(Held::File {
                mode: meta.permissions().mode() & 0o7777,
                data: fs::read(&path)?,
            }),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Held::Nothing => "no file".to_string(),
            Held::Directory => "a directory".to_string(),
            Held::File { mode, data } => {
                format!("a file of mode {mode:o} holding {}", report::excerpt(data))
            }
        }
    }

    pub fn found(&self) -> Found {
        match self {
            Held::Nothing => Found::Missing,
            Held::Directory => Found::Unreadable,
            Held::File { data, .. } => Found::of_bytes(data),
        }
    }
}

/// Whether the record path may hold `held`: what it held before (`old`)
/// unless `returned`, or the new record; a record file 0600.
pub fn allowed(held: &Held, old: &Held, new: &Record, returned: bool) -> Result<(), String> {
    match held {
        Held::File { mode, .. } if *mode != FILE_MODE => Err(format!(
            "the record file has mode {mode:o}, not {FILE_MODE:o}"
        )),
        Held::File { data, .. } if holds(data, new) => Ok(()),
        _ if !returned && held == old => Ok(()),
        _ if returned => {
            Err("the save had returned success, so only the new record may be there".into())
        }
        _ => Err("only the complete old record or the complete new one may be there".into()),
    }
}

/// The first disk of the crash space that breaks the rules, and every
/// distinct thing the record path may hold with where it first appears.
fn judge_states(
    recorded: &Recorded,
    record_path: &str,
    old: &Held,
    new: &Record,
) -> Result<BTreeMap<Held, (usize, usize)>, Judged> {
    let ops: Vec<Op> = recorded.ops.iter().map(|t| t.op.clone()).collect();
    let mut seen: BTreeMap<Held, (usize, usize)> = BTreeMap::new();
    for cut in 0..=ops.len() {
        for block in BLOCKS {
            let space = CrashSpace::new(
                &recorded.before,
                &ops[..cut],
                Crash::PowerLoss { block_size: block },
            )
            .map_err(|e| {
                Judged::OracleFailed(format!("the persistence model rejects the op log: {e}"))
            })?;
            for disk in space.states() {
                if let Some(stray) = stray_file(&disk, &recorded.before, record_path) {
                    return Err(Judged::FoundWith(
                        Finding::violation(
                            "§3.3",
                            format!(
                                "a power loss after operation {cut} of {} ({block}-byte blocks) may leave {stray}, a file outside the record's directory that no writer sweeps: the temp file belongs in the record's directory (§3.3 step 3)",
                                ops.len()
                            ),
                        ),
                        format!(
                            "the op log of the save, as strace recorded it:\n{}",
                            op_log_text(recorded, Some(cut), "the power goes here")
                        ),
                    ));
                }
                let held = Held::of(&disk, record_path);
                if seen.contains_key(&held) && cut < ops.len() {
                    continue;
                }
                if let Err(why) = allowed(&held, old, new, cut == ops.len()) {
                    let spec = if held_mode_wrong(&held) {
                        "§3.6"
                    } else {
                        "§3.4"
                    };
                    let when = if cut == ops.len() {
                        "after the save returned".to_string()
                    } else {
                        format!("after operation {cut} of {}", ops.len())
                    };
                    return Err(Judged::FoundWith(
                        Finding::violation(
                            spec,
                            format!(
                                "a power loss {when} ({block}-byte blocks) may leave {} at the record path: {why}",
                                held.describe()
                            ),
                        ),
                        format!(
                            "the op log of the save, as strace recorded it:\n{}",
                            op_log_text(recorded, Some(cut), "the power goes here")
                        ),
                    ));
                }
                seen.entry(held).or_insert((cut, block));
            }
        }
    }
    Ok(seen)
}

/// Whether `data` is `record` (timestamps as instants, unknown members
/// as JSON values: requirements §7).
pub fn holds(data: &[u8], record: &Record) -> bool {
    let world = World::new(FIXED_NOW, Found::Missing).with_rules(Rules::Requirements);
    lifecycle_model::record::decode(data).is_ok_and(|d| compare::same_record(&world, record, &d))
}

/// A file of `disk` that was not there `before`, outside the directory
/// of `record_path`.
fn stray_file(disk: &Disk, before: &Disk, record_path: &str) -> Option<String> {
    let dir = record_path.rsplit_once('/').map_or("", |(d, _)| d);
    disk.nodes.iter().find_map(|(path, node)| {
        let outside = path
            .rsplit_once('/')
            .is_none_or(|(parent, _)| parent != dir);
        (matches!(node, Node::File { .. }) && outside && !before.nodes.contains_key(path))
            .then(|| path.clone())
    })
}

/// Whether `held` is a record file of a mode other than 0600.
pub fn held_mode_wrong(held: &Held) -> bool {
    matches!(held, Held::File { mode, .. } if *mode != FILE_MODE)
}

/// Loads the record in `dir` through the adapter and judges the answer as
/// the model's load of `held`: at the oracle's fixed instant with the
/// `clock` capability, else within the request's window of wall time.
pub fn judge_load(adapter: &mut Adapter, dir: &Path, held: &Held) -> Result<(), Finding> {
    let clock = adapter.handshake().has(Capability::Clock);
    let start = if clock { FIXED_NOW } else { wall_micros() };
    let mut world = World::new(start, held.found()).with_rules(Rules::Requirements);
    let loaded = AdapterSubject::new(adapter, dir).load(&at_micros(start));
    if !clock {
        world.set_window_end(wall_micros());
    }
    compare::load(&world, &loaded)
}

/// Puts what `held` says at the record path of a fresh directory.
pub fn materialize(dir: &Path, held: &Held) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    let path = dir.join(RECORD_FILE_NAME);
    match held {
        Held::Nothing => Ok(()),
        Held::Directory => fs::DirBuilder::new().mode(DIR_MODE).create(&path),
        Held::File { mode, data } => {
            fs::write(&path, data)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(*mode))
        }
    }
}

fn power_case(case: &mut Case<'_>, command: Option<&str>, start: Start) -> Judged {
    let Some(command) = command else {
        return Judged::Skipped("no adapter command to trace".into());
    };
    let tracer = match tracer::find() {
        Ok(t) => t,
        Err(why) => return Judged::Skipped(why),
    };
    let dir = case.dir.join("state");
    let new = new_record();
    let old = start.held();
    let recorded = match record_save(case, command, tracer.as_ref(), &dir, start, &new, None) {
        Ok(r) => r,
        Err(judged) => return judged,
    };
    let record_path = format!("{}/{RECORD_FILE_NAME}", dir.display());
    let seen = match judge_states(&recorded, &record_path, &old, &new) {
        Ok(seen) => seen,
        Err(judged) => return judged,
    };
    // Each distinct record file, loaded through the adapter as it is.
    for (n, held) in seen.keys().enumerate() {
        let fresh: PathBuf = case.fresh_dir().join(format!("state-{n}"));
        if let Err(e) = materialize(&fresh, held) {
            return Judged::Skipped(format!("the oracle could not materialize a state: {e}"));
        }
        if let Err(f) = judge_load(case.adapter, &fresh, held) {
            return Judged::FoundWith(
                f,
                format!(
                    "the record path holds {} after a power loss during the save; load\nthe op log of the save:\n{}",
                    held.describe(),
                    op_log_text(&recorded, None, "")
                ),
            );
        }
    }
    Judged::Pass(format!(
        "{} operations, {} distinct record files a power loss may leave: each the old or the new record",
        recorded.ops.len(),
        seen.len()
    ))
}

pub fn plan(command: Option<String>) -> Vec<Planned> {
    Start::POWER
        .into_iter()
        .map(|start| {
            let command = command.clone();
            Planned::new(
                format!("power/{}", start.name()),
                "§3.4",
                format!(
                    "{}; save of {} recorded under strace; every disk a power loss may leave, loaded",
                    start.describe(),
                    report::record(&new_record())
                ),
                move |case| power_case(case, command.as_deref(), start),
            )
        })
        .collect()
}
