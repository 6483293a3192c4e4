//! The calls of a recorded save as the persistence model's op log.
//!
//! Promises: [`op_log`] returns, in the order the calls returned, one
//! `lifecycle_model::persistence::Op` for each call that changed the record's
//! directory D (a path at or under D, a directory above D that the save
//! created, removed or synced, or a descriptor opened on one of them), each
//! with the index of its call, such that `persistence::apply` of the log to
//! the disk before the save gives the disk the process left. A call resolves
//! its descriptors as they were when it was entered, so threads that close
//! and reuse descriptor numbers are followed. Which handler a call goes to
//! is the system-call table's [`super::table::Model`]: creating
//! opens become `Create` (mode: the first `fstat` after it, else the
//! requested mode less the umask), `O_TRUNC`, `truncate` and `ftruncate`
//! become `Truncate`, writes of any kind become `Write` at the offset the
//! kernel used (file offsets are followed through `lseek`, reads,
//! `O_APPEND`, `dup` and `fork`), `fsync` and `fdatasync` become
//! `FsyncFile`, `FdatasyncFile` or `FsyncDir`, and `mkdir`, `rename`,
//! `unlink`, `rmdir`, `chmod` become their ops (`renameat2` with
//! `RENAME_NOREPLACE` is a rename); an `O_TMPFILE` open is a
//! `CreateUnnamed`, `link`/`linkat` a `Link` (of a file of D, or of an
//! unnamed one by `AT_EMPTY_PATH` or `/proc/self/fd/N`), an `fchmod` of an
//! unnamed file a `ChmodFile`; a temp file the save makes outside D and
//! then renames or links into D is followed from its creation, its
//! directory taken into the disk before ([`Converted::before`]); the
//! handlers are in `convert/names.rs` and `convert/data.rs`. Failed
//! calls, calls that only read, stat, lock or set owners or times, and
//! calls that touch nothing of D make no op. Anything else that touches D
//! is refused with a [`Refusal`] naming the call and the path: `symlink`,
//! a link or rename of a file the save did not make into D, out of D, or
//! of a directory, `renameat2` with `RENAME_EXCHANGE` or
//! `RENAME_WHITEOUT`, a shared writable `mmap`, `fallocate`,
//! `copy_file_range`, `sendfile`, `syncfs`, `sync_file_range`, a
//! successful `ioctl`, a call whose outcome strace did not see, and a
//! trace that contradicts the disk before the save. A refused case is one
//! the model cannot judge, never a pass. [`disk_before`] and [`shown`] are
//! re-exported here for the suites.
//!
//! Does not promise: to follow symlinks (paths compare as written, after
//! `.` and `..` are resolved; pass D as the adapter was given it, without
//! symlinks), several mount points, or the effect of `sync()`
//! (which names nothing and is ignored, so a save relying on it is judged
//! as if it had not synced). Calls the table does not know are judged by
//! their arguments: a descriptor on D or a string that resolves to a path
//! at, under or above D makes them refused, which may refuse a harmless
//! call, never pass a harmful one. Flag values are Linux's on x86-64, arm64
//! and riscv64 (the asm-generic ones).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use lifecycle_model::persistence::{Disk, InodeId, Node, Op};

use super::args::{mentions, number, Mention};
use super::descriptors::{Description, Descriptors, Target};
use super::linux;
use super::paths::{normalize, parent, path_arg, region, Region};
use super::strace::{Arg, Call, CallResult};
use super::table::{lookup, Model, PathArg, Syscall};

pub use super::before::disk_before;
pub use super::paths::shown;

mod data;
mod names;
#[cfg(test)]
mod tests;

/// What the converter needs to know besides the calls.
#[derive(Debug, Clone, Copy)]
pub struct SaveContext<'a> {
    /// D, the record's directory: absolute, as the adapter was given it.
    pub dir: &'a str,
    /// The disk before the save: every existing directory above D, and D
    /// with everything in it (as [`disk_before`] reads it). Files keep
    /// their inode ids; new files get ids above the largest.
    pub before: &'a Disk,
    /// The umask of the traced process when it started (a `umask` call in
    /// the trace replaces it).
    pub umask: u32,
    /// The working directory of the traced process when it started, for
    /// relative paths before strace has shown one (`-100</cwd>`).
    pub cwd: &'a str,
}

/// One operation of the op log and the call it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedOp {
    /// [`Call::index`] of the call.
    pub call: usize,
    pub op: Op,
}

/// A call the converter cannot turn into the model's operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// [`Call::index`] of the call.
    pub call: usize,
    /// Its line in the trace file.
    pub line: usize,
    /// The system call's name.
    pub syscall: String,
    /// The path or paths it touched, bytes outside printable UTF-8 escaped.
    pub path: String,
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} (line {} of the trace): {}",
            self.syscall, self.path, self.line, self.reason
        )
    }
}

impl std::error::Error for Refusal {}

/// The op log of the calls that touch `context.dir`.
///
/// Ops come in the order their calls returned. A call sees descriptors as
/// they were when it was entered: another thread may close a descriptor,
/// or get its number back from an open, while the call runs.
pub fn op_log(calls: &[Call], context: &SaveContext<'_>) -> Result<Vec<TracedOp>, Refusal> {
    convert(calls, context).map(|converted| converted.ops)
}

/// What [`convert`] makes of a save's calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The op log, as [`op_log`] returns it.
    pub ops: Vec<TracedOp>,
    /// [`Call::index`] of every call, failed or not, that names a path at
    /// or under D (by a string or by a descriptor), in the order the calls
    /// were entered: the calls a kill or a fault may hit. The directories
    /// above D do not count: every process resolves them, nor do the calls
    /// on a temp file made outside D and moved in later.
    pub touching: Vec<usize>,
    /// The disk before the save as the op log needs it: the context's,
    /// plus the directories outside D that hold a temp file the save made
    /// there and then renamed or linked into D (they existed before the
    /// save; their other files are not part of the model).
    pub before: Disk,
}

/// The op log and the calls that touch `context.dir`.
pub fn convert(calls: &[Call], context: &SaveContext<'_>) -> Result<Converted, Refusal> {
    let mut converter = Converter::new(context);
    converter.adopt(calls, context);
    for (_, returns, call) in entries_and_returns(calls) {
        if returns {
            converter.call(call)?;
        } else {
            converter.descriptors.enter(call);
        }
    }
    converter.touching.sort_unstable();
    Ok(Converted {
        ops: converter.ops,
        touching: converter.touching,
        before: converter.before,
    })
}

/// Each call twice, (line, returns, call), in the order of the trace's
/// lines: entered on `line`, returned on `end_line` (last when never).
fn entries_and_returns(calls: &[Call]) -> Vec<(usize, bool, &Call)> {
    let mut steps: Vec<(usize, bool, &Call)> = Vec::with_capacity(calls.len() * 2);
    for call in calls {
        steps.push((call.line, false, call));
        steps.push((call.end_line.unwrap_or(usize::MAX), true, call));
    }
    steps.sort_by_key(|&(line, returns, call)| (line, returns, call.index));
    steps
}

/// What a name refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    File(InodeId),
    Dir,
    /// A symlink of the disk before, to this target (as `readlink` gives
    /// it).
    Symlink(Vec<u8>),
}

struct Converter {
    dir: Vec<u8>,
    /// Every name the converter knows: the disk before, then the save's
    /// changes.
    names: BTreeMap<Vec<u8>, Named>,
    sizes: HashMap<InodeId, u64>,
    next_inode: InodeId,
    descriptors: Descriptors,
    cwd: Vec<u8>,
    umask: u32,
    /// Ops whose creation mode a later stat may still tell, by what they
    /// created.
    mode_unknown: HashMap<Target, usize>,
    ops: Vec<TracedOp>,
    touching: Vec<usize>,
    /// Paths outside D where the save makes a file it later renames or
    /// links into D: followed from their creation like paths of D.
    adopted: BTreeSet<Vec<u8>>,
    /// The disk before, with the directories of the adopted paths.
    before: Disk,
}

impl Converter {
    fn new(context: &SaveContext<'_>) -> Converter {
        let mut names = BTreeMap::new();
        let mut sizes = HashMap::new();
        let mut largest: InodeId = 0;
        for (path, node) in &context.before.nodes {
            let named = match node {
                Node::Dir { .. } => Named::Dir,
                Node::Symlink { target } => Named::Symlink(target.as_bytes().to_vec()),
                Node::File { inode, data, .. } => {
                    sizes.insert(*inode, data.len() as u64);
                    largest = largest.max(*inode);
                    Named::File(*inode)
                }
            };
            names.insert(normalize(path.as_bytes()), named);
        }
        Converter {
            dir: normalize(context.dir.as_bytes()),
            names,
            sizes,
            next_inode: largest + 1,
            descriptors: Descriptors::default(),
            cwd: normalize(context.cwd.as_bytes()),
            umask: context.umask,
            mode_unknown: HashMap::new(),
            ops: Vec::new(),
            touching: Vec::new(),
            adopted: BTreeSet::new(),
            before: context.before.clone(),
        }
    }

    /// Finds the paths outside D that a successful rename or link moves
    /// into D, and takes their directories (which existed before the save:
    /// the temp file is made in them) into the disk before.
    fn adopt(&mut self, calls: &[Call], context: &SaveContext<'_>) {
        let cwd = normalize(context.cwd.as_bytes());
        for call in calls {
            let Some(known) = lookup(&call.name) else {
                continue;
            };
            if !matches!(known.model, Model::Rename | Model::Link)
                || !matches!(call.result, CallResult::Ok { .. })
            {
                continue;
            }
            let path = |i: usize| {
                known
                    .paths
                    .get(i)
                    .and_then(|a| path_arg(call, a, Some(&cwd)))
            };
            let (Some(from), Some(to)) = (path(0), path(1)) else {
                continue;
            };
            if self.region(&to) == Region::Under && self.region(&from) == Region::Outside {
                self.adopted.insert(from);
            }
        }
        for path in &self.adopted {
            let mut dir = parent(path);
            while dir != b"/" {
                if let Ok(text) = std::str::from_utf8(dir) {
                    self.names.entry(dir.to_vec()).or_insert(Named::Dir);
                    self.before
                        .nodes
                        .entry(text.to_string())
                        .or_insert(Node::Dir { mode: 0o755 });
                }
                dir = parent(dir);
            }
        }
    }

    /// The call's effect, as it returns.
    fn call(&mut self, call: &Call) -> Result<(), Refusal> {
        self.descriptors.returned(call);
        self.learn_cwd(call);
        if self.inside(call) {
            self.touching.push(call.index);
        }
        let known = lookup(&call.name);
        let model = known.map_or(Model::Unmapped, |k| k.model);
        match &call.result {
            CallResult::Err { .. } => {
                // Linux releases the descriptor even when close fails.
                if model == Model::Close {
                    self.descriptors.close(call);
                }
                return Ok(());
            }
            CallResult::Unknown => return self.unknown_outcome(call, model),
            CallResult::Ok { .. } => {}
        }
        let Some(known) = known else {
            return self.other(call);
        };
        match known.model {
            Model::Open => self.open(call, known),
            Model::Mkdir => self.mkdir(call, known),
            Model::Rename => self.rename(call, known),
            Model::Remove => self.remove(call, known),
            Model::Chmod => self.chmod(call, known),
            Model::Link => self.link(call, known),
            Model::Write => self.write(call),
            Model::Truncate => self.truncate(call, known),
            Model::Sync => self.sync(call),
            Model::Advance => self.advance(call),
            Model::Seek => self.seek(call),
            Model::Stat => self.stat(call, known),
            Model::Close => {
                self.descriptors.close(call);
                Ok(())
            }
            Model::CloseRange => {
                self.descriptors.close_range(call);
                Ok(())
            }
            Model::Dup => {
                self.descriptors.dup(call, 0);
                Ok(())
            }
            Model::Fcntl => self.fcntl(call),
            Model::Fork => {
                self.descriptors.fork(call);
                Ok(())
            }
            Model::Chdir => {
                self.chdir(call, known);
                Ok(())
            }
            Model::Umask => {
                if let Some(mask) = number(call.args.first()) {
                    self.umask = (mask & 0o777) as u32;
                }
                Ok(())
            }
            Model::Mmap => self.mmap(call),
            Model::Ignored => Ok(()),
            Model::Unmapped => self.other(call),
        }
    }

    // ---- paths ----

    fn region(&self, path: &[u8]) -> Region {
        region(path, &self.dir)
    }

    /// The absolute path the call names with the path argument `arg` of
    /// its table entry.
    fn path(&self, call: &Call, arg: Option<&PathArg>) -> Option<Vec<u8>> {
        path_arg(call, arg?, Some(&self.cwd))
    }

    /// The path argument `arg` names, when it lies at, under or above D;
    /// `None` when it lies elsewhere. A path that cannot be resolved (a
    /// directory descriptor strace printed without its path) leaves the
    /// call to [`Converter::other`].
    fn path_touching(
        &self,
        call: &Call,
        arg: Option<&PathArg>,
    ) -> Result<Option<Vec<u8>>, Refusal> {
        match self.path(call, arg) {
            None => self.other(call).map(|()| None),
            Some(path) if self.region(&path).touches() || self.adopted.contains(&path) => {
                Ok(Some(path))
            }
            Some(_) => Ok(None),
        }
    }

    /// `path` with the symlinks the converter knows at its end followed,
    /// as the kernel follows them for an open, a chmod or a truncate (a
    /// symlink in a directory above it is not followed: paths compare as
    /// written).
    fn follow(&self, path: &[u8]) -> Vec<u8> {
        let mut path = path.to_vec();
        // Linux gives up after 40 links (ELOOP); so does the converter.
        for _ in 0..40 {
            let Some(Named::Symlink(target)) = self.names.get(&path) else {
                break;
            };
            let mut next = if target.starts_with(b"/") {
                Vec::new()
            } else {
                parent(&path).to_vec()
            };
            next.push(b'/');
            next.extend_from_slice(target);
            path = normalize(&next);
        }
        path
    }

    fn learn_cwd(&mut self, call: &Call) {
        for arg in &call.args {
            if let Arg::Fd {
                fd: linux::AT_FDCWD,
                path,
                ..
            } = arg
            {
                if path.starts_with(b"/") {
                    self.cwd = normalize(path);
                }
            }
        }
    }

    fn chdir(&mut self, call: &Call, known: &Syscall) {
        let path = match (call.name.as_str(), call.args.first()) {
            ("getcwd", Some(Arg::Str(path))) => Some(normalize(path)),
            ("fchdir", Some(Arg::Fd { path, .. })) if path.starts_with(b"/") => {
                Some(normalize(path))
            }
            _ => self.path(call, known.paths.first()),
        };
        if let Some(path) = path {
            self.cwd = path;
        }
    }

    /// The open file behind the descriptor argument at `index`: `None` when
    /// it refers to nothing of D; refused when strace shows it on D but the
    /// trace never opened it.
    fn description(&self, call: &Call, index: usize) -> Result<Option<Description>, Refusal> {
        let Some(fd) = number(call.args.get(index)) else {
            return Ok(None);
        };
        if let Some(open) = self.descriptors.at_entry(fd) {
            return Ok(Some(open.clone()));
        }
        match call.args.get(index) {
            Some(Arg::Fd { path, .. }) if self.region(path).touches() => Err(refuse(
                call,
                shown(path),
                format!("descriptor {fd} refers to it, but the trace never showed it opened"),
            )),
            _ => Ok(None),
        }
    }

    fn push(&mut self, call: &Call, op: Op) -> usize {
        self.ops.push(TracedOp {
            call: call.index,
            op,
        });
        self.ops.len() - 1
    }

    // ---- calls the model does not map ----

    fn unknown_outcome(&mut self, call: &Call, model: Model) -> Result<(), Refusal> {
        if model == Model::Close {
            self.descriptors.close(call);
            return Ok(());
        }
        if !model.outcome_matters() {
            return Ok(());
        }
        match self.touched(call) {
            Some(path) => Err(refuse(
                call,
                shown(&path),
                "strace shows no result (the process ended in the call), so whether it took effect is unknown",
            )),
            None => Ok(()),
        }
    }

    fn other(&self, call: &Call) -> Result<(), Refusal> {
        match self.touched(call) {
            Some(path) => Err(refuse(
                call,
                shown(&path),
                "the converter does not map this system call to the persistence model",
            )),
            None => Ok(()),
        }
    }

    /// The first path at, under or above D that a call names, by a
    /// descriptor or by a string.
    fn touched(&self, call: &Call) -> Option<Vec<u8>> {
        self.named(call, true, Region::touches)
    }

    /// Whether a call names a path at or under D (the directories above
    /// D are everyone's: an interpreter resolves them as it starts).
    fn inside(&self, call: &Call) -> bool {
        self.named(call, false, |region| {
            matches!(region, Region::Dir | Region::Under)
        })
        .is_some()
    }

    /// The first path a call names, by a descriptor or by a string, whose
    /// region is `wanted` (or, when `open_counts`, by a descriptor the
    /// converter follows).
    fn named(&self, call: &Call, open_counts: bool, wanted: fn(Region) -> bool) -> Option<Vec<u8>> {
        mentions(call, Some(&self.cwd))
            .into_iter()
            .find_map(|mention| match mention {
                Mention::Descriptor { fd, path } => {
                    let open = open_counts && self.descriptors.at_entry(fd).is_some();
                    (open || wanted(self.region(path))).then(|| path.to_vec())
                }
                Mention::Path(path) => wanted(self.region(&path)).then_some(path),
            })
    }
}

/// The path strace printed for the call's first descriptor.
fn descriptor_path(call: &Call) -> String {
    match call.args.first() {
        Some(Arg::Fd { path, .. }) => shown(path),
        _ => "its descriptor".to_string(),
    }
}

fn model_path(call: &Call, path: &[u8]) -> Result<String, Refusal> {
    String::from_utf8(path.to_vec()).map_err(|_| {
        refuse(
            call,
            shown(path),
            "the path is not UTF-8, which the persistence model cannot name",
        )
    })
}

fn refuse(call: &Call, path: impl Into<String>, reason: impl Into<String>) -> Refusal {
    Refusal {
        call: call.index,
        line: call.line,
        syscall: call.name.clone(),
        path: path.into(),
        reason: reason.into(),
    }
}

/// The trace and the disk before the save disagree.
fn inconsistent(call: &Call, path: &[u8], what: &str) -> Refusal {
    refuse(
        call,
        shown(path),
        format!("the trace does not fit the disk before the save: {what}"),
    )
}
