//! The calls of a recorded save as the persistence model's op log.
//!
//! Promises: [`op_log`] returns, in the order the calls returned, one
//! `lifecycle_model::persistence::Op` for each call that changed the record's
//! directory D (a path at or under D, a directory above D that the save
//! created, removed or synced, or a descriptor opened on one of them), each
//! with the index of its call, such that `persistence::apply` of the log to
//! the disk before the save gives the disk the process left. A call resolves
//! its descriptors as they were when it was entered, so threads that close
//! and reuse descriptor numbers are followed. Creating opens
//! become `Create` (mode: the first `fstat` after it, else the requested mode
//! less the umask), `O_TRUNC`, `truncate` and `ftruncate` become `Truncate`,
//! writes of any kind become `Write` at the offset the kernel used (file
//! offsets are followed through `lseek`, reads, `O_APPEND`, `dup` and
//! `fork`), `fsync` and `fdatasync` become `FsyncFile`, `FdatasyncFile` or
//! `FsyncDir`, and `mkdir`, `rename`, `unlink`, `rmdir`, `chmod` become their
//! ops (`renameat2` with `RENAME_NOREPLACE` is a rename). Failed calls, calls that only read, stat or lock, and calls that
//! touch nothing of D make no op. Anything else that touches D is refused
//! with a [`Refusal`] naming the call and the path: `link`, `symlink`,
//! `O_TMPFILE`, `renameat2` with `RENAME_EXCHANGE` or `RENAME_WHITEOUT`,
//! a rename into or out of D or of a directory, a shared writable `mmap`,
//! `fallocate`, `copy_file_range`, `sendfile`, `syncfs`, `sync_file_range`,
//! a successful `ioctl`, an `fchmod` of a file without a name, a call whose
//! outcome strace did not see, and a trace that contradicts the disk before
//! the save. A refused case is one the model cannot judge, never a pass.
//!
//! Does not promise: to follow symlinks (paths compare as written, after
//! `.` and `..` are resolved; pass D as the adapter was given it, without
//! symlinks), hard links, several mount points, or the effect of `sync()`
//! (which names nothing and is ignored, so a save relying on it is judged
//! as if it had not synced). Calls it does not know are judged by their
//! arguments: a descriptor on D or a string that resolves to a path at,
//! under or above D makes them refused, which may refuse a harmless call,
//! never pass a harmful one. Flag values are Linux's on x86-64, arm64 and
//! riscv64 (the asm-generic ones).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::rc::Rc;

use lifecycle_model::persistence::{Disk, InodeId, Node, Op};

use super::strace::{array_items, integer, struct_field, Arg, Call, CallResult};

/// Linux's flag values (asm-generic; x86-64 shares these).
mod linux {
    pub const O_WRONLY: i64 = 0o1;
    pub const O_CREAT: i64 = 0o100;
    pub const O_EXCL: i64 = 0o200;
    pub const O_TRUNC: i64 = 0o1000;
    pub const O_APPEND: i64 = 0o2000;
    /// The bit that makes `O_TMPFILE` of `O_DIRECTORY`.
    pub const O_TMPFILE_BIT: i64 = 0o20000000;
    pub const AT_FDCWD: i64 = -100;
    pub const AT_REMOVEDIR: i64 = 0x200;
    pub const RENAME_NOREPLACE: i64 = 1;
    pub const RENAME_EXCHANGE: i64 = 2;
    pub const RENAME_WHITEOUT: i64 = 4;
    pub const CLONE_FILES: i64 = 0x400;
    pub const F_DUPFD: i64 = 0;
    pub const F_SETFL: i64 = 4;
    pub const F_DUPFD_CLOEXEC: i64 = 1030;
    /// F_GETFD, F_SETFD, F_GETFL, the record locks (also their 64-bit
    /// numbers on 32-bit systems), the open file description locks,
    /// F_GETOWN, F_GETSIG, F_GETPIPE_SZ and F_GET_SEALS: they change no
    /// file.
    pub const F_HARMLESS: [i64; 16] = [1, 2, 3, 5, 6, 7, 9, 11, 12, 13, 14, 36, 37, 38, 1032, 1034];
    pub const PROT_WRITE: i64 = 0x2;
    pub const MAP_TYPE: i64 = 0xf;
    pub const MAP_SHARED: i64 = 0x1;
    pub const MAP_SHARED_VALIDATE: i64 = 0x3;
    pub const RWF_APPEND: i64 = 0x10;
    pub const CLOSE_RANGE_UNSHARE: i64 = 0x2;
    pub const CLOSE_RANGE_CLOEXEC: i64 = 0x4;
}

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
    /// above D do not count: every process resolves them.
    pub touching: Vec<usize>,
}

/// The op log and the calls that touch `context.dir`.
pub fn convert(calls: &[Call], context: &SaveContext<'_>) -> Result<Converted, Refusal> {
    let mut converter = Converter::new(context);
    for (_, returns, call) in entries_and_returns(calls) {
        if returns {
            converter.call(call)?;
        } else {
            converter.enter(call);
        }
    }
    converter.touching.sort_unstable();
    Ok(Converted {
        ops: converter.ops,
        touching: converter.touching,
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

/// The disk before a save into `dir`, read from the file system: every
/// existing directory above `dir`, and `dir` with everything under it (files
/// numbered from inode 1 in path order). Fails on what the model cannot
/// hold: a symlink, a FIFO, a socket or a device, or a name that is not
/// UTF-8.
pub fn disk_before(dir: &str) -> io::Result<Disk> {
    let dir =
        String::from_utf8(normalize(dir.as_bytes())).map_err(|_| unsupported(dir, "not UTF-8"))?;
    let mut disk = Disk::default();
    for ancestor in ancestors(&dir) {
        match std::fs::symlink_metadata(&ancestor) {
            Ok(meta) if meta.is_dir() => {
                let mode = meta.permissions().mode() & 0o7777;
                disk.nodes.insert(ancestor, Node::Dir { mode });
            }
            Ok(_) => return Err(unsupported(&ancestor, "not a directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(disk),
            Err(e) => return Err(e),
        }
    }
    let mut inode: InodeId = 0;
    let mut stack = vec![dir];
    while let Some(path) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            other => other?,
        };
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            disk.nodes.insert(path.clone(), Node::Dir { mode });
            let mut names = Vec::new();
            for entry in std::fs::read_dir(&path)? {
                let name = entry?.file_name();
                let name = name
                    .to_str()
                    .ok_or_else(|| unsupported(&path, "holds a name that is not UTF-8"))?;
                names.push(format!("{path}/{name}"));
            }
            names.sort();
            stack.extend(names.into_iter().rev());
        } else if meta.is_file() {
            inode += 1;
            let data = std::fs::read(&path)?;
            disk.nodes.insert(path, Node::File { inode, mode, data });
        } else {
            return Err(unsupported(
                &path,
                "neither a file nor a directory, which the persistence model cannot hold",
            ));
        }
    }
    Ok(disk)
}

fn unsupported(path: &str, what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{path} is {what}"))
}

/// The directories above `dir`, outermost first, without `/`.
fn ancestors(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = parent(dir.as_bytes());
    while at != b"/" {
        out.push(String::from_utf8_lossy(at).into_owned());
        at = parent(at);
    }
    out.reverse();
    out
}

/// Where a path lies with respect to D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// D itself.
    Dir,
    /// Strictly under D.
    Under,
    /// A directory above D, other than `/`.
    Above,
    Outside,
}

impl Place {
    fn touches(self) -> bool {
        self != Place::Outside
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File(InodeId),
    Dir,
}

/// What an open file description refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    File(InodeId),
    Dir(Vec<u8>),
}

/// An open file description: shared by `dup`, `fork` and threads.
#[derive(Debug)]
struct OpenFile {
    target: Target,
    offset: u64,
    append: bool,
}

type Description = Rc<RefCell<OpenFile>>;
/// A descriptor table: shared by threads (`CLONE_FILES`), copied by `fork`.
type Table = Rc<RefCell<HashMap<i64, Description>>>;

struct Converter {
    dir: Vec<u8>,
    /// Every name the converter knows: the disk before, then the save's
    /// changes.
    names: BTreeMap<Vec<u8>, Entry>,
    sizes: HashMap<InodeId, u64>,
    next_inode: InodeId,
    tables: HashMap<u32, Table>,
    cwd: Vec<u8>,
    umask: u32,
    /// Ops whose creation mode a later stat may still tell, by what they
    /// created.
    mode_unknown: HashMap<Target, usize>,
    /// Per call entered and not yet returned: its descriptors' open files
    /// at entry.
    entered: HashMap<usize, HashMap<i64, Description>>,
    /// The same for the call being converted.
    at_entry: HashMap<i64, Description>,
    ops: Vec<TracedOp>,
    touching: Vec<usize>,
}

/// Calls that read, stat, lock or set times: nothing the model holds
/// changes.
const NO_CHANGE: &[&str] = &[
    "pread64",
    "preadv",
    "preadv2",
    "flock",
    "getdents",
    "getdents64",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "fadvise64",
    "statfs",
    "fstatfs",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "exit",
    "exit_group",
    "munmap",
    "madvise",
    "execve",
];

/// Calls whose strings are data, never paths.
const NO_PATHS: &[&str] = &[
    "getrandom",
    "sendto",
    "sendmsg",
    "recvfrom",
    "recvmsg",
    "setsockopt",
    "getsockopt",
    "prctl",
    "sethostname",
    "setdomainname",
];

impl Converter {
    fn new(context: &SaveContext<'_>) -> Converter {
        let mut names = BTreeMap::new();
        let mut sizes = HashMap::new();
        let mut largest: InodeId = 0;
        for (path, node) in &context.before.nodes {
            let entry = match node {
                Node::Dir { .. } => Entry::Dir,
                Node::File { inode, data, .. } => {
                    sizes.insert(*inode, data.len() as u64);
                    largest = largest.max(*inode);
                    Entry::File(*inode)
                }
            };
            names.insert(normalize(path.as_bytes()), entry);
        }
        Converter {
            dir: normalize(context.dir.as_bytes()),
            names,
            sizes,
            next_inode: largest + 1,
            tables: HashMap::new(),
            cwd: normalize(context.cwd.as_bytes()),
            umask: context.umask,
            mode_unknown: HashMap::new(),
            entered: HashMap::new(),
            at_entry: HashMap::new(),
            ops: Vec::new(),
            touching: Vec::new(),
        }
    }

    /// Notes the open files behind the call's descriptors as it enters.
    fn enter(&mut self, call: &Call) {
        let table = self.table(call.pid);
        let table = table.borrow();
        let mut open = HashMap::new();
        for arg in &call.args {
            if let Arg::Fd { fd, .. } = arg {
                if let Some(file) = table.get(fd) {
                    open.insert(*fd, file.clone());
                }
            }
        }
        self.entered.insert(call.index, open);
    }

    /// The call's effect, as it returns.
    fn call(&mut self, call: &Call) -> Result<(), Refusal> {
        self.at_entry = self.entered.remove(&call.index).unwrap_or_default();
        self.learn_cwd(call);
        if self.inside(call) {
            self.touching.push(call.index);
        }
        let name = call.name.as_str();
        match &call.result {
            CallResult::Err { .. } => {
                // Linux releases the descriptor even when close fails.
                if name == "close" {
                    self.close(call);
                }
                return Ok(());
            }
            CallResult::Unknown => return self.unknown_outcome(call),
            CallResult::Ok { .. } => {}
        }
        match name {
            "open" | "openat" | "openat2" | "creat" => self.open(call),
            "mkdir" | "mkdirat" => self.mkdir(call),
            "rename" | "renameat" | "renameat2" => self.rename(call),
            "unlink" | "unlinkat" | "rmdir" => self.remove(call),
            "chmod" | "fchmodat" | "fchmodat2" | "fchmod" => self.chmod(call),
            "write" | "pwrite64" | "writev" | "pwritev" | "pwritev2" => self.write(call),
            "read" | "readv" => self.advance(call),
            "lseek" => self.seek(call),
            "fsync" | "fdatasync" => self.sync(call),
            "truncate" | "ftruncate" => self.truncate(call),
            "close" => {
                self.close(call);
                Ok(())
            }
            "close_range" => {
                self.close_range(call);
                Ok(())
            }
            "dup" | "dup2" | "dup3" => {
                self.dup(call, 0);
                Ok(())
            }
            "fcntl" => self.fcntl(call),
            "mmap" => self.mmap(call),
            "chdir" | "fchdir" | "getcwd" => {
                self.chdir(call);
                Ok(())
            }
            "umask" => {
                if let Some(mask) = number(call.args.first()) {
                    self.umask = (mask & 0o777) as u32;
                }
                Ok(())
            }
            "clone" | "clone3" | "fork" | "vfork" => {
                self.fork(call);
                Ok(())
            }
            "fstat" | "stat" | "lstat" | "newfstatat" | "statx" => self.stat(call),
            _ if NO_CHANGE.contains(&name) => Ok(()),
            _ => self.other(call),
        }
    }

    // ---- paths ----

    fn place(&self, path: &[u8]) -> Place {
        let dir = self.dir.as_slice();
        if path == dir {
            Place::Dir
        } else if is_under(path, dir) {
            Place::Under
        } else if path != b"/" && is_under(dir, path) {
            Place::Above
        } else {
            Place::Outside
        }
    }

    /// The absolute path a call names with the string at `index`, relative
    /// to the directory descriptor at `base` (or the working directory).
    fn path_arg(&self, call: &Call, base: Option<usize>, index: usize) -> Option<Vec<u8>> {
        let Some(Arg::Str(path)) = call.args.get(index) else {
            return None;
        };
        self.resolve(base.and_then(|b| call.args.get(b)), path)
    }

    fn resolve(&self, base: Option<&Arg>, path: &[u8]) -> Option<Vec<u8>> {
        if path.starts_with(b"/") {
            return Some(normalize(path));
        }
        let base: &[u8] = match base {
            None | Some(Arg::Int(linux::AT_FDCWD)) => &self.cwd,
            Some(Arg::Fd { path, .. }) if path.starts_with(b"/") => path,
            Some(_) => return None,
        };
        let mut joined = base.to_vec();
        if !path.is_empty() {
            joined.push(b'/');
            joined.extend_from_slice(path);
        }
        Some(normalize(&joined))
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

    /// The path that names `inode` now, if any.
    fn name_of(&self, inode: InodeId) -> Option<Vec<u8>> {
        self.names
            .iter()
            .find(|(_, entry)| **entry == Entry::File(inode))
            .map(|(path, _)| path.clone())
    }

    // ---- descriptors ----

    fn table(&mut self, pid: u32) -> Table {
        self.tables.entry(pid).or_default().clone()
    }

    /// The open file behind the descriptor argument at `index`: `None` when
    /// it refers to nothing of D; refused when strace shows it on D but the
    /// trace never opened it.
    fn description(&mut self, call: &Call, index: usize) -> Result<Option<Description>, Refusal> {
        let Some(fd) = number(call.args.get(index)) else {
            return Ok(None);
        };
        if let Some(open) = self.at_entry.get(&fd) {
            return Ok(Some(open.clone()));
        }
        match call.args.get(index) {
            Some(Arg::Fd { path, .. }) if self.place(path).touches() => Err(refuse(
                call,
                shown(path),
                format!("descriptor {fd} refers to it, but the trace never showed it opened"),
            )),
            _ => Ok(None),
        }
    }

    fn close(&mut self, call: &Call) {
        if let Some(fd) = number(call.args.first()) {
            self.table(call.pid).borrow_mut().remove(&fd);
        }
    }

    fn close_range(&mut self, call: &Call) {
        let (Some(first), Some(last)) = (number(call.args.first()), number(call.args.get(1)))
        else {
            return;
        };
        let flags = number(call.args.get(2)).unwrap_or(0);
        if flags & linux::CLOSE_RANGE_CLOEXEC != 0 {
            return;
        }
        if flags & linux::CLOSE_RANGE_UNSHARE != 0 {
            let copy = self.table(call.pid).borrow().clone();
            self.tables.insert(call.pid, Rc::new(RefCell::new(copy)));
        }
        // The last descriptor may be printed as ~0U, a u32 that wrapped.
        let last = if last < 0 { i64::MAX } else { last };
        let table = self.table(call.pid);
        table.borrow_mut().retain(|fd, _| *fd < first || *fd > last);
    }

    /// `new = dup(old)`, for the descriptor argument at `old_index`.
    fn dup(&mut self, call: &Call, old_index: usize) {
        let (Some(old), Some(new)) = (number(call.args.get(old_index)), call.result.value()) else {
            return;
        };
        if old == new {
            return;
        }
        let open = self.at_entry.get(&old).cloned();
        let table = self.table(call.pid);
        let mut table = table.borrow_mut();
        table.remove(&new);
        if let Some(open) = open {
            table.insert(new, open);
        }
    }

    fn fork(&mut self, call: &Call) {
        let Some(child) = call.result.value().and_then(|c| u32::try_from(c).ok()) else {
            return;
        };
        if child == 0 {
            return;
        }
        let flags = match call.name.as_str() {
            "clone" => call.args.iter().find_map(|arg| match arg {
                Arg::Other(text) => text.strip_prefix("flags=").and_then(flags_value),
                _ => None,
            }),
            "clone3" => match call.args.first() {
                Some(Arg::Struct(text)) => number(struct_field(text, "flags").as_ref()),
                _ => None,
            },
            _ => None,
        }
        .unwrap_or(0);
        let parent = self.table(call.pid);
        let table = if flags & linux::CLONE_FILES != 0 {
            parent
        } else {
            // A copy of the table whose descriptions stay shared.
            Rc::new(RefCell::new(parent.borrow().clone()))
        };
        self.tables.insert(child, table);
    }

    fn chdir(&mut self, call: &Call) {
        let path = match (call.name.as_str(), call.args.first()) {
            ("chdir", Some(Arg::Str(path))) => self.resolve(None, path),
            ("getcwd", Some(Arg::Str(path))) => Some(normalize(path)),
            ("fchdir", Some(Arg::Fd { path, .. })) if path.starts_with(b"/") => {
                Some(normalize(path))
            }
            _ => None,
        };
        if let Some(path) = path {
            self.cwd = path;
        }
    }

    // ---- calls that make ops ----

    fn push(&mut self, call: &Call, op: Op) -> usize {
        self.ops.push(TracedOp {
            call: call.index,
            op,
        });
        self.ops.len() - 1
    }

    fn open(&mut self, call: &Call) -> Result<(), Refusal> {
        let (base, flags, mode) = match call.name.as_str() {
            "open" => (None, number(call.args.get(1)), number(call.args.get(2))),
            "creat" => (
                None,
                Some(linux::O_CREAT | linux::O_WRONLY | linux::O_TRUNC),
                number(call.args.get(1)),
            ),
            "openat2" => match call.args.get(2) {
                Some(Arg::Struct(how)) => (
                    Some(0),
                    number(struct_field(how, "flags").as_ref()),
                    number(struct_field(how, "mode").as_ref()),
                ),
                _ => (Some(0), None, None),
            },
            _ => (Some(0), number(call.args.get(2)), number(call.args.get(3))),
        };
        let path_index = usize::from(base.is_some());
        let Some(fd) = call.result.value() else {
            return Ok(());
        };
        self.table(call.pid).borrow_mut().remove(&fd);
        let Some(path) = self.path_arg(call, base, path_index) else {
            return self.other(call);
        };
        if !self.place(&path).touches() {
            return Ok(());
        }
        let flags = flags.ok_or_else(|| refuse(call, shown(&path), "strace printed no flags"))?;
        if flags & linux::O_TMPFILE_BIT != 0 {
            return Err(refuse(
                call,
                shown(&path),
                "O_TMPFILE (a file without a name, linked in later) is not modelled",
            ));
        }
        let target = match self.names.get(&path).cloned() {
            Some(Entry::Dir) => Target::Dir(path),
            Some(Entry::File(inode)) => {
                if flags & (linux::O_CREAT | linux::O_EXCL) == linux::O_CREAT | linux::O_EXCL {
                    return Err(inconsistent(
                        call,
                        &path,
                        "it was created exclusively, but the disk before the save already holds it",
                    ));
                }
                if flags & linux::O_TRUNC != 0 {
                    self.push(call, Op::Truncate { inode, size: 0 });
                    self.sizes.insert(inode, 0);
                }
                Target::File(inode)
            }
            None if flags & linux::O_CREAT != 0 => {
                let mode = mode.ok_or_else(|| {
                    refuse(
                        call,
                        shown(&path),
                        "strace printed no mode for a creating open",
                    )
                })?;
                self.create(call, &path, mode)?
            }
            None => {
                return Err(inconsistent(
                    call,
                    &path,
                    "it was opened, but the disk before the save does not hold it",
                ))
            }
        };
        let open = OpenFile {
            target,
            offset: 0,
            append: flags & linux::O_APPEND != 0,
        };
        self.table(call.pid)
            .borrow_mut()
            .insert(fd, Rc::new(RefCell::new(open)));
        Ok(())
    }

    fn create(&mut self, call: &Call, path: &[u8], mode: i64) -> Result<Target, Refusal> {
        self.expect_parent(call, path)?;
        let inode = self.next_inode;
        self.next_inode += 1;
        let op = Op::Create {
            path: model_path(call, path)?,
            inode,
            mode: self.masked(mode),
        };
        let at = self.push(call, op);
        self.mode_unknown.insert(Target::File(inode), at);
        self.names.insert(path.to_vec(), Entry::File(inode));
        self.sizes.insert(inode, 0);
        Ok(Target::File(inode))
    }

    fn masked(&self, mode: i64) -> u32 {
        (mode as u32) & 0o7777 & !self.umask
    }

    fn expect_parent(&self, call: &Call, path: &[u8]) -> Result<(), Refusal> {
        let parent = parent(path);
        if parent == b"/" || self.names.get(parent) == Some(&Entry::Dir) {
            Ok(())
        } else {
            Err(inconsistent(
                call,
                path,
                "its directory is not on the disk before the save, nor created by the trace",
            ))
        }
    }

    fn mkdir(&mut self, call: &Call) -> Result<(), Refusal> {
        let (base, mode_index) = match call.name.as_str() {
            "mkdirat" => (Some(0), 2),
            _ => (None, 1),
        };
        let Some(path) = self.path_arg(call, base, mode_index - 1) else {
            return self.other(call);
        };
        if !self.place(&path).touches() {
            return Ok(());
        }
        if self.names.contains_key(&path) {
            return Err(inconsistent(
                call,
                &path,
                "it was created, but the disk before the save already holds it",
            ));
        }
        self.expect_parent(call, &path)?;
        let mode = number(call.args.get(mode_index))
            .ok_or_else(|| refuse(call, shown(&path), "strace printed no mode"))?;
        let op = Op::Mkdir {
            path: model_path(call, &path)?,
            mode: self.masked(mode),
        };
        let at = self.push(call, op);
        self.mode_unknown.insert(Target::Dir(path.clone()), at);
        self.names.insert(path, Entry::Dir);
        Ok(())
    }

    fn rename(&mut self, call: &Call) -> Result<(), Refusal> {
        let (from, to, flags) = match call.name.as_str() {
            "rename" => (
                self.path_arg(call, None, 0),
                self.path_arg(call, None, 1),
                0,
            ),
            name => (
                self.path_arg(call, Some(0), 1),
                self.path_arg(call, Some(2), 3),
                if name == "renameat2" {
                    number(call.args.get(4)).unwrap_or(0)
                } else {
                    0
                },
            ),
        };
        let (Some(from), Some(to)) = (from, to) else {
            return self.other(call);
        };
        let places = (self.place(&from), self.place(&to));
        if !places.0.touches() && !places.1.touches() {
            return Ok(());
        }
        let both = format!("{} to {}", shown(&from), shown(&to));
        if flags & !linux::RENAME_NOREPLACE != 0 {
            return Err(refuse(call, both, rename_flags(flags)));
        }
        if places != (Place::Under, Place::Under) {
            return Err(refuse(
                call,
                both,
                "a rename into or out of the record's directory, or of a directory at or above it, is not modelled",
            ));
        }
        let inode =
            match self.names.get(&from) {
                Some(Entry::File(inode)) => *inode,
                Some(Entry::Dir) => {
                    return Err(refuse(
                        call,
                        both,
                        "the rename of a directory is not modelled",
                    ))
                }
                None => return Err(inconsistent(
                    call,
                    &from,
                    "it was renamed, but neither the disk before the save nor the trace holds it",
                )),
            };
        if self.names.get(&to) == Some(&Entry::Dir) {
            return Err(inconsistent(
                call,
                &to,
                "a file was renamed over it, but it is a directory",
            ));
        }
        // rename(2) of a name onto itself does nothing.
        if from == to {
            return Ok(());
        }
        let op = Op::Rename {
            from: model_path(call, &from)?,
            to: model_path(call, &to)?,
        };
        self.push(call, op);
        self.names.remove(&from);
        self.names.insert(to, Entry::File(inode));
        Ok(())
    }

    fn remove(&mut self, call: &Call) -> Result<(), Refusal> {
        let (path, directory) = match call.name.as_str() {
            "unlinkat" => (
                self.path_arg(call, Some(0), 1),
                number(call.args.get(2)).unwrap_or(0) & linux::AT_REMOVEDIR != 0,
            ),
            name => (self.path_arg(call, None, 0), name == "rmdir"),
        };
        let Some(path) = path else {
            return self.other(call);
        };
        if !self.place(&path).touches() {
            return Ok(());
        }
        let op =
            match (self.names.get(&path), directory) {
                (Some(Entry::Dir), true) => {
                    let mut prefix = path.clone();
                    prefix.push(b'/');
                    // Every name under the directory sorts at or after `dir/`.
                    let first_after = self.names.range(prefix..).next();
                    if first_after.is_some_and(|(name, _)| is_under(name, &path)) {
                        return Err(inconsistent(
                            call,
                            &path,
                            "it was removed, but the converter still knows names inside it",
                        ));
                    }
                    self.mode_unknown.remove(&Target::Dir(path.clone()));
                    Op::Rmdir {
                        path: model_path(call, &path)?,
                    }
                }
                (Some(Entry::File(_)), false) => Op::Unlink {
                    path: model_path(call, &path)?,
                },
                (Some(_), _) => {
                    return Err(inconsistent(
                        call,
                        &path,
                        "it was removed as the wrong kind (a file as a directory, or the reverse)",
                    ))
                }
                (None, _) => return Err(inconsistent(
                    call,
                    &path,
                    "it was removed, but neither the disk before the save nor the trace holds it",
                )),
            };
        self.push(call, op);
        self.names.remove(&path);
        Ok(())
    }

    fn chmod(&mut self, call: &Call) -> Result<(), Refusal> {
        let (target, mode_index) = match call.name.as_str() {
            "fchmod" => match self.description(call, 0)? {
                Some(open) => (open.borrow().target.clone(), 1),
                None => return Ok(()),
            },
            name => {
                let (base, path_index) = if name == "chmod" {
                    (None, 0)
                } else {
                    (Some(0), 1)
                };
                let Some(path) = self.path_arg(call, base, path_index) else {
                    return self.other(call);
                };
                if !self.place(&path).touches() {
                    return Ok(());
                }
                match self.names.get(&path) {
                    Some(Entry::File(inode)) => (Target::File(*inode), path_index + 1),
                    Some(Entry::Dir) => (Target::Dir(path), path_index + 1),
                    None => {
                        return Err(inconsistent(call, &path, "its mode was set, but neither the disk before the save nor the trace holds it"))
                    }
                }
            }
        };
        let path = match &target {
            Target::Dir(path) => path.clone(),
            Target::File(inode) => self.name_of(*inode).ok_or_else(|| {
                refuse(
                    call,
                    descriptor_path(call),
                    "the mode of a file that no longer has a name is not modelled",
                )
            })?,
        };
        let mode = number(call.args.get(mode_index))
            .ok_or_else(|| refuse(call, shown(&path), "strace printed no mode"))?;
        let op = Op::Chmod {
            path: model_path(call, &path)?,
            mode: (mode as u32) & 0o7777,
        };
        self.push(call, op);
        self.mode_unknown.remove(&target);
        Ok(())
    }

    fn write(&mut self, call: &Call) -> Result<(), Refusal> {
        let Some(open) = self.description(call, 0)? else {
            return Ok(());
        };
        let Target::File(inode) = open.borrow().target else {
            return Err(refuse(
                call,
                descriptor_path(call),
                "a write to a directory",
            ));
        };
        let written = call.result.value().unwrap_or(0).max(0) as u64;
        let printed = match call.name.as_str() {
            "write" | "pwrite64" => match call.args.get(1) {
                Some(Arg::Str(data)) => data.clone(),
                _ => Vec::new(),
            },
            _ => match call.args.get(1) {
                Some(Arg::Array(text)) => iovec_bytes(text),
                _ => Vec::new(),
            },
        };
        if (printed.len() as u64) < written {
            return Err(refuse(
                call,
                descriptor_path(call),
                format!(
                    "strace printed {} of the {written} bytes written; record with a larger -s",
                    printed.len()
                ),
            ));
        }
        let data = printed[..written as usize].to_vec();
        let (position, append_flag) = match call.name.as_str() {
            "pwrite64" | "pwritev" => (number(call.args.get(3)), false),
            "pwritev2" => (
                number(call.args.get(3)).filter(|&offset| offset != -1),
                number(call.args.get(4)).unwrap_or(0) & linux::RWF_APPEND != 0,
            ),
            _ => (None, false),
        };
        let size = self.sizes.get(&inode).copied().unwrap_or(0);
        let mut open = open.borrow_mut();
        // Linux appends even a positional write on an O_APPEND file.
        let offset = if open.append || append_flag {
            size
        } else {
            match position {
                Some(at) => u64::try_from(at).map_err(|_| {
                    refuse(call, descriptor_path(call), "a write at a negative offset")
                })?,
                None => open.offset,
            }
        };
        if position.is_none() {
            open.offset = offset + written;
        }
        drop(open);
        if written > 0 {
            self.push(
                call,
                Op::Write {
                    inode,
                    offset,
                    data,
                },
            );
            self.sizes.insert(inode, size.max(offset + written));
        }
        Ok(())
    }

    /// A read moves the file offset a later write starts from.
    fn advance(&mut self, call: &Call) -> Result<(), Refusal> {
        if let Some(open) = self.description(call, 0)? {
            let read = call.result.value().unwrap_or(0).max(0) as u64;
            open.borrow_mut().offset += read;
        }
        Ok(())
    }

    fn seek(&mut self, call: &Call) -> Result<(), Refusal> {
        if let (Some(open), Some(at)) = (self.description(call, 0)?, call.result.value()) {
            open.borrow_mut().offset = at.max(0) as u64;
        }
        Ok(())
    }

    fn sync(&mut self, call: &Call) -> Result<(), Refusal> {
        let Some(open) = self.description(call, 0)? else {
            return Ok(());
        };
        let target = open.borrow().target.clone();
        let op = match target {
            Target::Dir(path) => Op::FsyncDir {
                path: model_path(call, &path)?,
            },
            Target::File(inode) if call.name == "fdatasync" => Op::FdatasyncFile { inode },
            Target::File(inode) => Op::FsyncFile { inode },
        };
        self.push(call, op);
        Ok(())
    }

    fn truncate(&mut self, call: &Call) -> Result<(), Refusal> {
        let inode = if call.name == "ftruncate" {
            let Some(open) = self.description(call, 0)? else {
                return Ok(());
            };
            let target = open.borrow().target.clone();
            match target {
                Target::File(inode) => inode,
                Target::Dir(path) => {
                    return Err(refuse(call, shown(&path), "a truncation of a directory"))
                }
            }
        } else {
            let Some(path) = self.path_arg(call, None, 0) else {
                return self.other(call);
            };
            if !self.place(&path).touches() {
                return Ok(());
            }
            match self.names.get(&path) {
                Some(Entry::File(inode)) => *inode,
                _ => {
                    return Err(inconsistent(call, &path, "it was truncated, but it is not a file the disk before the save or the trace holds"))
                }
            }
        };
        let size = number(call.args.get(1))
            .and_then(|size| u64::try_from(size).ok())
            .ok_or_else(|| refuse(call, descriptor_path(call), "strace printed no size"))?;
        self.push(call, Op::Truncate { inode, size });
        self.sizes.insert(inode, size);
        Ok(())
    }

    fn fcntl(&mut self, call: &Call) -> Result<(), Refusal> {
        let command = number(call.args.get(1)).unwrap_or(-1);
        match command {
            linux::F_DUPFD | linux::F_DUPFD_CLOEXEC => {
                self.dup(call, 0);
                Ok(())
            }
            linux::F_SETFL => {
                if let Some(open) = self.description(call, 0)? {
                    let flags = number(call.args.get(2)).unwrap_or(0);
                    open.borrow_mut().append = flags & linux::O_APPEND != 0;
                }
                Ok(())
            }
            c if linux::F_HARMLESS.contains(&c) => Ok(()),
            _ => match self.description(call, 0)? {
                Some(_) => Err(refuse(
                    call,
                    descriptor_path(call),
                    format!("fcntl command {command} is not modelled"),
                )),
                None => Ok(()),
            },
        }
    }

    fn mmap(&mut self, call: &Call) -> Result<(), Refusal> {
        let prot = number(call.args.get(2)).unwrap_or(0);
        let flags = number(call.args.get(3)).unwrap_or(0);
        let shared = matches!(
            flags & linux::MAP_TYPE,
            linux::MAP_SHARED | linux::MAP_SHARED_VALIDATE
        );
        if prot & linux::PROT_WRITE == 0 || !shared {
            return Ok(());
        }
        match self.description(call, 4)? {
            Some(_) => Err(refuse(
                call,
                descriptor_path(call),
                "a shared writable mapping (its writes reach the file without a write call) is not modelled",
            )),
            None => Ok(()),
        }
    }

    /// A stat after a creation tells the mode the kernel gave it.
    fn stat(&mut self, call: &Call) -> Result<(), Refusal> {
        let (base, path_index, struct_index, member) = match call.name.as_str() {
            "fstat" => (None, None, 1, "st_mode"),
            "stat" | "lstat" => (None, Some(0), 1, "st_mode"),
            "newfstatat" => (Some(0), Some(1), 2, "st_mode"),
            _ => (Some(0), Some(1), 4, "stx_mode"),
        };
        let empty_path =
            matches!(path_index.and_then(|i| call.args.get(i)), Some(Arg::Str(p)) if p.is_empty());
        let target = match path_index {
            Some(index) if !empty_path => {
                let Some(path) = self.path_arg(call, base, index) else {
                    return Ok(());
                };
                match self.names.get(&path) {
                    Some(Entry::File(inode)) => Target::File(*inode),
                    Some(Entry::Dir) => Target::Dir(path),
                    None => return Ok(()),
                }
            }
            _ => match self.description(call, 0)? {
                Some(open) => open.borrow().target.clone(),
                None => return Ok(()),
            },
        };
        let Some(at) = self.mode_unknown.get(&target).copied() else {
            return Ok(());
        };
        let mode = match call.args.get(struct_index) {
            Some(Arg::Struct(text)) => number(struct_field(text, member).as_ref()),
            _ => None,
        };
        if let Some(mode) = mode {
            let mode = (mode as u32) & 0o7777;
            match &mut self.ops[at].op {
                Op::Create { mode: m, .. } | Op::Mkdir { mode: m, .. } => *m = mode,
                _ => {}
            }
            self.mode_unknown.remove(&target);
        }
        Ok(())
    }

    // ---- everything else ----

    fn unknown_outcome(&mut self, call: &Call) -> Result<(), Refusal> {
        let name = call.name.as_str();
        if name == "close" {
            self.close(call);
            return Ok(());
        }
        if NO_CHANGE.contains(&name)
            || matches!(
                name,
                "fstat" | "stat" | "lstat" | "newfstatat" | "statx" | "read" | "readv" | "lseek"
            )
        {
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

    fn other(&mut self, call: &Call) -> Result<(), Refusal> {
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
        self.named(call, true, Place::touches)
    }

    /// Whether a call names a path at or under D (the directories above
    /// D are everyone's: an interpreter resolves them as it starts).
    fn inside(&self, call: &Call) -> bool {
        self.named(call, false, |place| {
            matches!(place, Place::Dir | Place::Under)
        })
        .is_some()
    }

    /// The first path a call names, by a descriptor or by a string, whose
    /// place is `wanted` (or, when `open_counts`, by a descriptor the
    /// converter follows).
    fn named(&self, call: &Call, open_counts: bool, wanted: fn(Place) -> bool) -> Option<Vec<u8>> {
        let data_only = NO_PATHS.contains(&call.name.as_str());
        let mut previous: Option<&Arg> = None;
        for arg in &call.args {
            let named = match arg {
                Arg::Fd { fd, path, .. } if *fd != linux::AT_FDCWD => {
                    let open = open_counts && self.at_entry.contains_key(fd);
                    Some(path.clone()).filter(|path| open || wanted(self.place(path)))
                }
                Arg::Str(text) if !data_only && looks_like_path(text) => {
                    // A string after a descriptor is relative to it (the *at calls).
                    let base = previous.filter(|p| matches!(p, Arg::Fd { .. }));
                    self.resolve(base, text)
                        .filter(|path| wanted(self.place(path)))
                }
                _ => None,
            };
            if named.is_some() {
                return named;
            }
            previous = Some(arg);
        }
        None
    }
}

fn rename_flags(flags: i64) -> String {
    let mut names = Vec::new();
    if flags & linux::RENAME_EXCHANGE != 0 {
        names.push("RENAME_EXCHANGE (a swap of two names)");
    }
    if flags & linux::RENAME_WHITEOUT != 0 {
        names.push("RENAME_WHITEOUT");
    }
    if names.is_empty() {
        format!("renameat2 flags {flags:#x} are not modelled")
    } else {
        format!("{} is not modelled", names.join(" and "))
    }
}

fn looks_like_path(text: &[u8]) -> bool {
    !text.is_empty() && text.len() <= 4096 && !text.contains(&0)
}

/// A number argument: an integer, a descriptor's number, or flags joined
/// by `|` as `-X raw` prints some (`|0x100`).
fn number(arg: Option<&Arg>) -> Option<i64> {
    match arg? {
        Arg::Int(value) => Some(*value),
        Arg::Fd { fd, .. } => Some(*fd),
        Arg::Other(text) => flags_value(text),
        _ => None,
    }
}

fn flags_value(text: &str) -> Option<i64> {
    let mut value = 0;
    let mut any = false;
    for part in text.split('|').filter(|p| !p.is_empty()) {
        value |= integer(part.trim())?;
        any = true;
    }
    any.then_some(value)
}

/// The bytes of an iovec array's `iov_base` members, in order.
fn iovec_bytes(text: &str) -> Vec<u8> {
    let mut data = Vec::new();
    for item in array_items(text) {
        if let Arg::Struct(member) = item {
            if let Some(Arg::Str(bytes)) = struct_field(&member, "iov_base") {
                data.extend_from_slice(&bytes);
            }
        }
    }
    data
}

/// `/a//b/./c/../d/` → `/a/b/d`.
fn normalize(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    let mut out = Vec::with_capacity(path.len() + 1);
    for part in &parts {
        out.push(b'/');
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

fn parent(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(0) | None => b"/",
        Some(at) => &path[..at],
    }
}

/// Whether `path` is strictly under `dir`.
fn is_under(path: &[u8], dir: &[u8]) -> bool {
    if dir == b"/" {
        return path.len() > 1 && path.starts_with(b"/");
    }
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

/// A path for a reader: UTF-8 as it is, control characters and other bytes
/// as `\xNN`.
pub fn shown(path: &[u8]) -> String {
    let mut out = String::new();
    for chunk in path.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::strace::parse;

    /// `/d` holds `old` (inode 1, "0123456789"); D is `/d`.
    fn before() -> Disk {
        let mut disk = Disk::default();
        disk.nodes.insert("/d".into(), Node::Dir { mode: 0o700 });
        disk.nodes.insert(
            "/d/old".into(),
            Node::File {
                inode: 1,
                mode: 0o600,
                data: b"0123456789".to_vec(),
            },
        );
        disk
    }

    /// What `super::convert` makes of `trace`, a save into `dir`.
    fn converted_in(dir: &str, trace: &str) -> Result<Converted, Refusal> {
        let calls = match parse(trace) {
            Ok(trace) => trace.calls,
            Err(e) => panic!("{e}"),
        };
        let disk = before();
        let context = SaveContext {
            dir,
            before: &disk,
            umask: 0o022,
            cwd: "/w",
        };
        super::convert(&calls, &context)
    }

    fn convert(trace: &str) -> Result<Vec<Op>, Refusal> {
        converted_in("/d", trace).map(|c| c.ops.into_iter().map(|t| t.op).collect())
    }

    fn ops(trace: &str) -> Vec<Op> {
        convert(trace).unwrap_or_else(|e| panic!("{e}"))
    }

    fn refusal(trace: &str) -> Refusal {
        match convert(trace) {
            Err(refusal) => refusal,
            Ok(ops) => panic!("converted to {ops:?}"),
        }
    }

    fn create(path: &str, inode: InodeId, mode: u32) -> Op {
        Op::Create {
            path: path.into(),
            inode,
            mode,
        }
    }

    fn write(inode: InodeId, offset: u64, data: &[u8]) -> Op {
        Op::Write {
            inode,
            offset,
            data: data.to_vec(),
        }
    }

    #[test]
    fn calls_outside_the_directory_make_no_op() {
        let trace = "\
1 openat(-100</w>, \"/e/x\", 0xc1, 0600) = 3</e/x>
1 write(3</e/x>, \"abc\", 3) = 3
1 fsync(3</e/x>) = 0
1 write(1<pipe:[7]>, \"reply\", 5) = 5
1 mkdir(\"/dd\", 0700) = 0
1 rename(\"/e/x\", \"/e/y\") = 0
1 getrandom(\"/d/x\", 4, 0) = 4
";
        assert_eq!(ops(trace), vec![]);
    }

    #[test]
    fn failed_calls_make_no_op() {
        let trace = "\
1 openat(-100</w>, \"/d/a/t\", 0xc1, 0600) = -1 ENOENT (No such file or directory)
1 mkdir(\"/d\", 0777) = -1 EEXIST (File exists)
1 renameat2(-100</w>, \"/d/old\", -100</w>, \"/d/x\", 0x2) = -1 EINVAL (Invalid argument)
1 link(\"/d/old\", \"/d/x\") = -1 EPERM (Operation not permitted)
";
        assert_eq!(ops(trace), vec![]);
    }

    #[test]
    fn a_save_in_the_directory_becomes_its_op_log() {
        let trace = "\
1 openat(-100</w>, \"/d/t\", 0x800c1, 0600) = 3</d/t>
1 write(3</d/t>, \"new\", 3) = 3
1 fsync(3</d/t>) = 0
1 close(3</d/t>) = 0
1 rename(\"/d/t\", \"/d/f\") = 0
1 openat(-100</w>, \"/d\", 0x90000) = 3</d>
1 fsync(3</d>) = 0
";
        assert_eq!(
            ops(trace),
            vec![
                create("/d/t", 2, 0o600),
                write(2, 0, b"new"),
                Op::FsyncFile { inode: 2 },
                Op::Rename {
                    from: "/d/t".into(),
                    to: "/d/f".into()
                },
                Op::FsyncDir { path: "/d".into() },
            ]
        );
    }

    #[test]
    fn the_calls_that_touch_the_directory_are_counted_failed_or_not() {
        let trace = "\
1 openat(-100</w>, \"/lib/libc.so\", 0x80000) = 3</lib/libc.so>
1 close(3</lib/libc.so>) = 0
1 newfstatat(-100</w>, \"/d/f\", 0x7ffd, 0) = -1 ENOENT (No such file or directory)
1 openat(-100</w>, \"/d/t\", 0x800c1, 0600) = 3</d/t>
1 write(1<pipe:[7]>, \"{}\", 2) = 2
1 write(3</d/t>, \"new\", 3) = 3
1 close(3</d/t>) = 0
1 openat(-100</w>, \"/\", 0x90000) = 4</>
";
        let converted = converted_in("/d", trace).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(converted.touching, vec![2, 3, 5, 6]);
        assert_eq!(converted.ops.len(), 2);
        // Above D: an interpreter resolving its own path, not the save.
        let above = "1 readlink(\"/d\", 0x7ffd, 4096) = -1 EINVAL (Invalid argument)\n1 newfstatat(-100</w>, \"/d/e/f\", 0x7ffd, 0) = -1 ENOENT (No such file or directory)\n";
        let converted = converted_in("/d/e", above).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(converted.touching, vec![1]);
    }

    #[test]
    fn each_op_names_the_call_it_came_from() {
        let calls = match parse(
            "1 getpid() = 1\n1 mkdir(\"/d/n\", 0700) = 0\n1 getpid() = 1\n1 rmdir(\"/d/n\") = 0\n",
        ) {
            Ok(trace) => trace.calls,
            Err(e) => panic!("{e}"),
        };
        let disk = before();
        let context = SaveContext {
            dir: "/d",
            before: &disk,
            umask: 0,
            cwd: "/",
        };
        let log = op_log(&calls, &context).unwrap_or_else(|e| panic!("{e}"));
        let indices: Vec<usize> = log.iter().map(|t| t.call).collect();
        assert_eq!(indices, [1, 3]);
    }

    #[test]
    fn the_creation_mode_is_the_requested_one_less_the_umask() {
        let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0666) = 3</d/t>
1 mkdir(\"/d/n\", 0777) = 0
";
        assert_eq!(
            ops(trace),
            vec![
                create("/d/t", 2, 0o644),
                Op::Mkdir {
                    path: "/d/n".into(),
                    mode: 0o755
                }
            ]
        );
    }

    #[test]
    fn a_stat_after_a_creation_tells_the_mode_the_kernel_gave() {
        let trace = "\
1 umask(077) = 022
1 openat(-100</w>, \"/d/t\", 0xc1, 0666) = 3</d/t>
1 newfstatat(3</d/t>, \"\", {st_mode=0100640, st_size=0, ...}, 0x1000) = 0
1 mkdir(\"/d/n\", 0777) = 0
1 statx(-100</w>, \"/d/n\", |0x100, 0xfff, {stx_mask=0x1fff, stx_mode=040750, ...}) = 0
";
        assert_eq!(
            ops(trace),
            vec![
                create("/d/t", 2, 0o640),
                Op::Mkdir {
                    path: "/d/n".into(),
                    mode: 0o750
                }
            ]
        );
    }

    #[test]
    fn a_stat_after_a_chmod_does_not_change_the_creation_mode() {
        let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 fchmod(3</d/t>, 0644) = 0
1 fstat(3</d/t>, {st_mode=0100644, st_size=0, ...}) = 0
";
        assert_eq!(
            ops(trace),
            vec![
                create("/d/t", 2, 0o600),
                Op::Chmod {
                    path: "/d/t".into(),
                    mode: 0o644
                }
            ]
        );
    }

    #[test]
    fn o_trunc_on_an_existing_file_is_a_truncation() {
        let trace = "\
1 openat(-100</w>, \"/d/old\", 0x241, 0666) = 3</d/old>
1 write(3</d/old>, \"ab\", 2) = 2
1 creat(\"/d/old\", 0600) = 4</d/old>
";
        assert_eq!(
            ops(trace),
            vec![
                Op::Truncate { inode: 1, size: 0 },
                write(1, 0, b"ab"),
                Op::Truncate { inode: 1, size: 0 },
            ]
        );
    }

    #[test]
    fn truncate_and_ftruncate_are_truncations() {
        let trace = "\
1 truncate(\"/d/old\", 4) = 0
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 ftruncate(3</d/old>, 20) = 0
";
        assert_eq!(
            ops(trace),
            vec![
                Op::Truncate { inode: 1, size: 4 },
                Op::Truncate { inode: 1, size: 20 },
            ]
        );
    }

    #[test]
    fn writes_land_at_the_offset_the_kernel_used() {
        let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 read(3</d/old>, \"0123\", 4) = 4
1 write(3</d/old>, \"ab\", 2) = 2
1 lseek(3</d/old>, 1, 0) = 1
1 write(3</d/old>, \"c\", 1) = 1
1 pwrite64(3</d/old>, \"zz\", 2, 8) = 2
1 write(3</d/old>, \"d\", 1) = 1
1 dup(3</d/old>) = 4</d/old>
1 write(4</d/old>, \"e\", 1) = 1
1 write(3</d/old>, \"f\", 1) = 1
";
        assert_eq!(
            ops(trace),
            vec![
                write(1, 4, b"ab"),
                write(1, 1, b"c"),
                write(1, 8, b"zz"),
                write(1, 2, b"d"),
                write(1, 3, b"e"),
                write(1, 4, b"f"),
            ]
        );
    }

    #[test]
    fn an_o_append_write_lands_at_the_end() {
        let trace = "\
1 openat(-100</w>, \"/d/old\", 0x401) = 3</d/old>
1 write(3</d/old>, \"ab\", 2) = 2
1 pwrite64(3</d/old>, \"c\", 1, 0) = 1
1 fcntl(3</d/old>, 0x4, 0) = 0
1 lseek(3</d/old>, 0, 0) = 0
1 write(3</d/old>, \"d\", 1) = 1
";
        assert_eq!(
            ops(trace),
            vec![write(1, 10, b"ab"), write(1, 12, b"c"), write(1, 0, b"d")]
        );
    }

    #[test]
    fn vectored_writes_join_their_buffers() {
        let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 writev(3</d/t>, [{iov_base=\"ab\", iov_len=2}, {iov_base=\"cd\", iov_len=2}], 2) = 3
1 pwritev(3</d/t>, [{iov_base=\"xy\", iov_len=2}], 1, 10) = 2
";
        assert_eq!(
            ops(trace),
            vec![
                create("/d/t", 2, 0o600),
                write(2, 0, b"abc"),
                write(2, 10, b"xy")
            ]
        );
    }

    #[test]
    fn a_write_strace_printed_only_in_part_is_refused() {
        let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 write(3</d/t>, \"ab\"..., 100) = 100
";
        let refusal = refusal(trace);
        assert_eq!(refusal.syscall, "write");
        assert!(refusal.reason.contains("2 of the 100 bytes"), "{refusal}");
    }

    #[test]
    fn fsync_and_fdatasync_of_files_and_directories() {
        let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 fdatasync(3</d/old>) = 0
1 fsync(3</d/old>) = 0
1 openat(-100</w>, \"/d\", 0x10000) = 4</d>
1 fdatasync(4</d>) = 0
";
        assert_eq!(
            ops(trace),
            vec![
                Op::FdatasyncFile { inode: 1 },
                Op::FsyncFile { inode: 1 },
                Op::FsyncDir { path: "/d".into() },
            ]
        );
    }

    #[test]
    fn directories_above_d_count_when_the_save_creates_or_syncs_them() {
        let mut disk = Disk::default();
        disk.nodes.insert("/p".into(), Node::Dir { mode: 0o755 });
        let calls = match parse(
            "\
1 mkdir(\"/p/q\", 0700) = 0
1 mkdir(\"/p/q/d\", 0700) = 0
1 openat(-100</w>, \"/p\", 0x10000) = 3</p>
1 fsync(3</p>) = 0
1 mkdir(\"/p/other\", 0700) = 0
",
        ) {
            Ok(trace) => trace.calls,
            Err(e) => panic!("{e}"),
        };
        let context = SaveContext {
            dir: "/p/q/d",
            before: &disk,
            umask: 0,
            cwd: "/",
        };
        let log: Vec<Op> = match op_log(&calls, &context) {
            Ok(log) => log.into_iter().map(|t| t.op).collect(),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            log,
            vec![
                Op::Mkdir {
                    path: "/p/q".into(),
                    mode: 0o700
                },
                Op::Mkdir {
                    path: "/p/q/d".into(),
                    mode: 0o700
                },
                Op::FsyncDir { path: "/p".into() },
            ]
        );
    }

    #[test]
    fn unlink_rmdir_and_unlinkat_remove_entries() {
        let trace = "\
1 mkdir(\"/d/n\", 0700) = 0
1 unlinkat(-100</w>, \"/d/n\", 0x200) = 0
1 unlinkat(-100</w>, \"/d/old\", 0) = 0
1 mkdir(\"/d/m\", 0700) = 0
1 rmdir(\"/d/m\") = 0
";
        assert_eq!(
            ops(trace),
            vec![
                Op::Mkdir {
                    path: "/d/n".into(),
                    mode: 0o700
                },
                Op::Rmdir {
                    path: "/d/n".into()
                },
                Op::Unlink {
                    path: "/d/old".into()
                },
                Op::Mkdir {
                    path: "/d/m".into(),
                    mode: 0o700
                },
                Op::Rmdir {
                    path: "/d/m".into()
                },
            ]
        );
    }

    #[test]
    fn relative_paths_resolve_against_their_directory_descriptor_or_the_cwd() {
        let trace = "\
1 openat(-100</w>, \"/d\", 0x10000) = 3</d>
1 openat(3</d>, \"t\", 0xc1, 0600) = 4</d/t>
1 renameat(3</d>, \"t\", 3</d>, \"./f\") = 0
1 chdir(\"/d\") = 0
1 unlink(\"../d/f\") = 0
";
        assert_eq!(
            ops(trace),
            vec![
                create("/d/t", 2, 0o600),
                Op::Rename {
                    from: "/d/t".into(),
                    to: "/d/f".into()
                },
                Op::Unlink {
                    path: "/d/f".into()
                },
            ]
        );
    }

    #[test]
    fn an_fchmod_after_a_rename_sets_the_mode_of_the_new_name() {
        let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 rename(\"/d/t\", \"/d/f\") = 0
1 fchmod(3</d/f>, 0640) = 0
";
        assert_eq!(
            ops(trace)[2],
            Op::Chmod {
                path: "/d/f".into(),
                mode: 0o640
            }
        );
    }

    #[test]
    fn a_call_sees_descriptors_as_they_were_when_it_was_entered() {
        // Thread 2 closes fd 3 while thread 1's fsync of it runs, then
        // thread 1 opens a file that gets fd 3 back while thread 2's close
        // of the old fd 4 runs.
        let trace = "\
1 openat(-100</w>, \"/d/a\", 0xc1, 0600) = 3</d/a>
1 openat(-100</w>, \"/d/b\", 0xc1, 0600) = 4</d/b>
1 fsync(3</d/a> <unfinished ...>
2 close(3</d/a>) = 0
1 <... fsync resumed>) = 0
1 openat(-100</w>, \"/d/c\", 0xc1, 0600 <unfinished ...>
2 close(4</d/b>) = 0
1 <... openat resumed>) = 4</d/c>
1 fsync(4</d/c>) = 0
";
        // Both threads share one table, as threads do.
        let mut shared = String::from("1 clone3({flags=0x3d0f00, exit_signal=0}, 88) = 2\n");
        shared.push_str(trace);
        assert_eq!(
            ops(&shared),
            vec![
                create("/d/a", 2, 0o600),
                create("/d/b", 3, 0o600),
                Op::FsyncFile { inode: 2 },
                create("/d/c", 4, 0o600),
                Op::FsyncFile { inode: 4 },
            ]
        );
    }

    #[test]
    fn a_forked_child_has_its_own_descriptor_table() {
        let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 clone(child_stack=NULL, flags=0x1200000|17, child_tidptr=0x7f) = 2
2 close(3</d/old>) = 0
1 write(3</d/old>, \"x\", 1) = 1
2 write(3<pipe:[9]>, \"y\", 1) = 1
";
        assert_eq!(ops(trace), vec![write(1, 0, b"x")]);
    }

    #[test]
    fn renameat2_with_rename_exchange_is_refused() {
        let refusal = refusal("1 renameat2(-100</w>, \"/d/old\", -100</w>, \"/d/x\", 0x2) = 0\n");
        assert_eq!(refusal.syscall, "renameat2");
        assert_eq!(refusal.path, "/d/old to /d/x");
        assert!(refusal.reason.contains("RENAME_EXCHANGE"), "{refusal}");
        assert_eq!(refusal.line, 1);
    }

    #[test]
    fn renameat2_with_rename_noreplace_is_a_rename() {
        let trace = "1 renameat2(-100</w>, \"/d/old\", -100</w>, \"/d/x\", 0x1) = 0\n";
        assert_eq!(
            ops(trace),
            vec![Op::Rename {
                from: "/d/old".into(),
                to: "/d/x".into()
            }]
        );
    }

    #[test]
    fn links_and_symlinks_into_the_directory_are_refused() {
        let link = refusal("1 link(\"/e/x\", \"/d/x\") = 0\n");
        assert_eq!(
            (link.syscall.as_str(), link.path.as_str()),
            ("link", "/d/x")
        );
        let symlink = refusal("1 symlinkat(\"/e/x\", -100</w>, \"/d/x\") = 0\n");
        assert_eq!(symlink.path, "/d/x");
    }

    #[test]
    fn a_rename_into_the_directory_from_outside_is_refused() {
        let refusal = refusal("1 rename(\"/e/t\", \"/d/f\") = 0\n");
        assert!(refusal.reason.contains("into or out of"), "{refusal}");
    }

    #[test]
    fn o_tmpfile_is_refused() {
        let refusal = refusal("1 openat(-100</w>, \"/d\", 0x410002, 0600) = 3</d/#12>(deleted)\n");
        assert!(refusal.reason.contains("O_TMPFILE"), "{refusal}");
    }

    #[test]
    fn a_shared_writable_mapping_is_refused_and_a_private_one_is_not() {
        let open = "1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>\n";
        let private = format!("{open}1 mmap(NULL, 10, 0x3, 0x2, 3</d/old>, 0) = 0x7f00\n");
        assert_eq!(ops(&private), vec![]);
        let shared = format!("{open}1 mmap(NULL, 10, 0x3, 0x1, 3</d/old>, 0) = 0x7f00\n");
        let refusal = refusal(&shared);
        assert_eq!(refusal.syscall, "mmap");
        assert_eq!(refusal.line, 2);
    }

    #[test]
    fn other_calls_on_the_directory_are_refused() {
        let open = "1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>\n";
        for call in [
            "1 fallocate(3</d/old>, 0, 0, 4096) = 0\n",
            "1 ioctl(3</d/old>, 0x40049409, 4) = 0\n",
            "1 syncfs(3</d/old>) = 0\n",
        ] {
            let refusal = refusal(&format!("{open}{call}"));
            assert_eq!(refusal.path, "/d/old", "{refusal}");
        }
    }

    #[test]
    fn a_call_whose_outcome_is_unknown_is_refused() {
        let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 write(3</d/old>, \"x\", 1 <unfinished ...>
1 +++ killed by SIGKILL +++
";
        let refusal = refusal(trace);
        assert_eq!(refusal.syscall, "write");
        assert!(refusal.reason.contains("unknown"), "{refusal}");
    }

    #[test]
    fn a_trace_that_contradicts_the_disk_before_is_refused() {
        let refusal = refusal("1 openat(-100</w>, \"/d/ghost\", 0x0) = 3</d/ghost>\n");
        assert!(refusal.reason.contains("does not hold it"), "{refusal}");
    }

    #[test]
    fn a_refusal_names_the_call_and_the_path_with_bytes_escaped() {
        let refusal = refusal("1 link(\"/e/x\", \"/d/\\xff\\x0a\") = 0\n");
        assert_eq!(
            refusal.to_string(),
            "link of /d/\\xff\\x0a (line 1 of the trace): \
             the converter does not map this system call to the persistence model"
        );
    }

    #[test]
    fn the_disk_before_is_read_from_the_file_system() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = tmp.path().to_str().unwrap_or_else(|| panic!("not UTF-8"));
        let dir = format!("{root}/d");
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(format!("{dir}/f"), b"x").unwrap_or_else(|e| panic!("{e}"));
        let disk = disk_before(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(disk.nodes.get(root), Some(Node::Dir { .. })));
        assert!(matches!(disk.nodes.get(&dir), Some(Node::Dir { .. })));
        assert!(matches!(
            disk.nodes.get(&format!("{dir}/f")),
            Some(Node::File { inode: 1, data, .. }) if data == b"x"
        ));
        let missing = disk_before(&format!("{root}/n/d")).unwrap_or_else(|e| panic!("{e}"));
        assert!(missing.nodes.contains_key(root));
        assert!(!missing
            .nodes
            .keys()
            .any(|k| k.starts_with(&format!("{root}/n"))));
    }
}
