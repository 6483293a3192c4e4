//! What each system call the oracle knows means: one table.
//!
//! Promises: [`lookup`] gives, for each call of [`TABLE`], which arguments
//! are paths (and relative to which directory-descriptor argument), which
//! are descriptors, whether a successful call returns a new descriptor,
//! what it does ([`Kind`]) and which handler of the converter turns it into
//! the persistence model's ops ([`Model`]). Every string argument not
//! named a path is data (a buffer, a name, a random value) and never read
//! as a path. The converter's dispatch, the calls it ignores, the calls the
//! tracer leaves out of replays ([`reads`]) and the helpers that read one
//! call ([`super::paths_named`], [`super::descriptor`], [`super::opens`],
//! [`super::next_close`]) all read this table and keep no list of their
//! own.
//!
//! Does not promise: to know every system call. A call not in the table is
//! judged by its arguments (every descriptor, and every string that could
//! be a path, relative to the descriptor before it), which may refuse a
//! harmless call, never pass a harmful one. Argument positions are those
//! strace prints on Linux (x86-64, arm64, riscv64).

use std::collections::HashMap;
use std::sync::OnceLock;

/// One system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syscall {
    pub name: &'static str,
    pub kind: Kind,
    pub model: Model,
    /// The arguments that are paths.
    pub paths: &'static [PathArg],
    /// The arguments that are descriptors, directory descriptors of
    /// [`PathArg::dir`] included.
    pub fds: &'static [usize],
    /// Whether a successful call's value is a new descriptor.
    pub returns_fd: bool,
}

/// A path argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathArg {
    /// Its position, from 0.
    pub index: usize,
    /// The position of the directory descriptor a relative path is
    /// relative to (`AT_FDCWD` meaning the working directory); `None`: the
    /// working directory.
    pub dir: Option<usize>,
}

/// What a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Changes, or may change, what the disk holds: a name, a file's data
    /// or size, a mode.
    Changes,
    /// Makes earlier changes durable.
    Syncs,
    /// Only reads a file's data through a descriptor.
    Reads,
    /// Stats, lists, locks, advises, or sets times or owners: nothing the
    /// model holds changes.
    Observes,
    /// Closes or duplicates descriptors, or sets their flags or offsets.
    Descriptors,
    /// Changes the process: a child, its working directory, its umask, its
    /// program, its end.
    Process,
    /// Maps or unmaps memory (a shared writable mapping of a file writes to
    /// it without a write call).
    Memory,
    /// Works on what is not a file of the disk: sockets, random bytes, the
    /// process's or the host's names.
    Elsewhere,
}

/// Which handler of the converter turns a successful call into ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// `Create`, or `Truncate` for `O_TRUNC`, and a new open file.
    Open,
    /// `Mkdir`.
    Mkdir,
    /// `Rename` of a file within D; refused otherwise.
    Rename,
    /// `Unlink` or `Rmdir`.
    Remove,
    /// `Chmod` by path, `ChmodFile` by a descriptor of a file without a
    /// name.
    Chmod,
    /// `Link`: a new name for a file, named before or made without a name
    /// (`O_TMPFILE`, linked by `AT_EMPTY_PATH` or `/proc/self/fd/N`).
    Link,
    /// `Write` at the offset the kernel used.
    Write,
    /// `Truncate`.
    Truncate,
    /// `FsyncFile`, `FdatasyncFile` or `FsyncDir`.
    Sync,
    /// No op; moves the file offset by what was read.
    Advance,
    /// No op; sets the file offset.
    Seek,
    /// No op; tells the mode the kernel gave a file or directory the save
    /// created.
    Stat,
    /// Closes a descriptor (also when the call fails).
    Close,
    /// Closes a range of descriptors.
    CloseRange,
    /// A new descriptor for an open file.
    Dup,
    /// A new descriptor, `O_APPEND` set or cleared, or refused.
    Fcntl,
    /// A child process, with a copy of the descriptor table or the same one.
    Fork,
    /// A new working directory.
    Chdir,
    /// A new umask.
    Umask,
    /// Refused when shared, writable and on a file of D.
    Mmap,
    /// Nothing the model holds changes.
    Ignored,
    /// Not mapped: refused when it names a path at, under or above D.
    Unmapped,
}

impl Model {
    /// Whether the op log depends on the call having run, so a call whose
    /// outcome strace never saw must be refused when it touches D: false
    /// for the calls that only observe or move a file offset.
    pub fn outcome_matters(self) -> bool {
        !matches!(
            self,
            Model::Ignored | Model::Stat | Model::Advance | Model::Seek
        )
    }
}

use Kind::*;
use Model::*;

/// No path, no descriptor.
const NONE: &[usize] = &[];
/// The first argument is a descriptor.
const FD0: &[usize] = &[0];
/// A path relative to the working directory.
const fn cwd(index: usize) -> PathArg {
    PathArg { index, dir: None }
}
/// A path relative to the directory descriptor at `dir`.
const fn at(index: usize, dir: usize) -> PathArg {
    PathArg {
        index,
        dir: Some(dir),
    }
}

const fn sys(
    name: &'static str,
    kind: Kind,
    model: Model,
    paths: &'static [PathArg],
    fds: &'static [usize],
) -> Syscall {
    Syscall {
        name,
        kind,
        model,
        paths,
        fds,
        returns_fd: false,
    }
}

impl Syscall {
    const fn returning_fd(mut self) -> Syscall {
        self.returns_fd = true;
        self
    }
}

/// Every call the oracle knows. A new one goes here, with its model
/// mapping and a test.
pub static TABLE: &[Syscall] = &[
    // Changes the disk.
    sys("open", Changes, Open, &[cwd(0)], NONE).returning_fd(),
    sys("openat", Changes, Open, &[at(1, 0)], FD0).returning_fd(),
    sys("openat2", Changes, Open, &[at(1, 0)], FD0).returning_fd(),
    sys("creat", Changes, Open, &[cwd(0)], NONE).returning_fd(),
    sys("mkdir", Changes, Mkdir, &[cwd(0)], NONE),
    sys("mkdirat", Changes, Mkdir, &[at(1, 0)], FD0),
    sys("rename", Changes, Rename, &[cwd(0), cwd(1)], NONE),
    sys("renameat", Changes, Rename, &[at(1, 0), at(3, 2)], &[0, 2]),
    sys("renameat2", Changes, Rename, &[at(1, 0), at(3, 2)], &[0, 2]),
    sys("unlink", Changes, Remove, &[cwd(0)], NONE),
    sys("unlinkat", Changes, Remove, &[at(1, 0)], FD0),
    sys("rmdir", Changes, Remove, &[cwd(0)], NONE),
    sys("chmod", Changes, Chmod, &[cwd(0)], NONE),
    sys("fchmod", Changes, Chmod, &[], FD0),
    sys("fchmodat", Changes, Chmod, &[at(1, 0)], FD0),
    sys("fchmodat2", Changes, Chmod, &[at(1, 0)], FD0),
    sys("write", Changes, Write, &[], FD0),
    sys("pwrite64", Changes, Write, &[], FD0),
    sys("writev", Changes, Write, &[], FD0),
    sys("pwritev", Changes, Write, &[], FD0),
    sys("pwritev2", Changes, Write, &[], FD0),
    sys("truncate", Changes, Truncate, &[cwd(0)], NONE),
    sys("ftruncate", Changes, Truncate, &[], FD0),
    sys("link", Changes, Link, &[cwd(0), cwd(1)], NONE),
    sys("linkat", Changes, Link, &[at(1, 0), at(3, 2)], &[0, 2]),
    // A symlink's target counts as a path too: a symlink into D is refused
    // either way.
    sys("symlink", Changes, Unmapped, &[cwd(0), cwd(1)], NONE),
    sys("symlinkat", Changes, Unmapped, &[cwd(0), at(2, 1)], &[1]),
    sys("fallocate", Changes, Unmapped, &[], FD0),
    sys("copy_file_range", Changes, Unmapped, &[], &[0, 2]),
    sys("sendfile", Changes, Unmapped, &[], &[0, 1]),
    // An ioctl may do anything to its file (FICLONE, FS_IOC_SETFLAGS).
    sys("ioctl", Changes, Unmapped, &[], FD0),
    // Makes changes durable.
    sys("fsync", Syncs, Sync, &[], FD0),
    sys("fdatasync", Syncs, Sync, &[], FD0),
    sys("syncfs", Syncs, Unmapped, &[], FD0),
    sys("sync_file_range", Syncs, Unmapped, &[], FD0),
    // Names nothing, so never refused: a save relying on it is judged as
    // if it had not synced.
    sys("sync", Syncs, Unmapped, &[], NONE),
    // Only reads data. The tracer leaves these out of replays.
    sys("read", Reads, Advance, &[], FD0),
    sys("readv", Reads, Advance, &[], FD0),
    sys("pread64", Reads, Ignored, &[], FD0),
    sys("preadv", Reads, Ignored, &[], FD0),
    sys("preadv2", Reads, Ignored, &[], FD0),
    // Stats, lists, locks, advises, sets times.
    sys("fstat", Observes, Stat, &[], FD0),
    sys("stat", Observes, Stat, &[cwd(0)], NONE),
    sys("lstat", Observes, Stat, &[cwd(0)], NONE),
    sys("newfstatat", Observes, Stat, &[at(1, 0)], FD0),
    sys("statx", Observes, Stat, &[at(1, 0)], FD0),
    sys("access", Observes, Ignored, &[cwd(0)], NONE),
    sys("faccessat", Observes, Ignored, &[at(1, 0)], FD0),
    sys("faccessat2", Observes, Ignored, &[at(1, 0)], FD0),
    sys("readlink", Observes, Ignored, &[cwd(0)], NONE),
    sys("readlinkat", Observes, Ignored, &[at(1, 0)], FD0),
    sys("getdents", Observes, Ignored, &[], FD0),
    sys("getdents64", Observes, Ignored, &[], FD0),
    sys("flock", Observes, Ignored, &[], FD0),
    sys("fadvise64", Observes, Ignored, &[], FD0),
    // Go registers every file it opens with its poller; regular files are refused.
    sys("epoll_ctl", Observes, Ignored, &[], &[0, 2]),
    sys("statfs", Observes, Ignored, &[cwd(0)], NONE),
    sys("fstatfs", Observes, Ignored, &[], FD0),
    sys("getxattr", Observes, Ignored, &[cwd(0)], NONE),
    sys("lgetxattr", Observes, Ignored, &[cwd(0)], NONE),
    sys("fgetxattr", Observes, Ignored, &[], FD0),
    sys("listxattr", Observes, Ignored, &[cwd(0)], NONE),
    sys("llistxattr", Observes, Ignored, &[cwd(0)], NONE),
    sys("flistxattr", Observes, Ignored, &[], FD0),
    sys("utime", Observes, Ignored, &[cwd(0)], NONE),
    sys("utimes", Observes, Ignored, &[cwd(0)], NONE),
    sys("utimensat", Observes, Ignored, &[at(1, 0)], FD0),
    sys("futimesat", Observes, Ignored, &[at(1, 0)], FD0),
    // Owners are not part of the model: a library copies the old record's
    // owner to its temp file.
    sys("chown", Observes, Ignored, &[cwd(0)], NONE),
    sys("lchown", Observes, Ignored, &[cwd(0)], NONE),
    sys("fchown", Observes, Ignored, &[], FD0),
    sys("fchownat", Observes, Ignored, &[at(1, 0)], FD0),
    // Manages descriptors.
    sys("close", Descriptors, Close, &[], FD0),
    sys("close_range", Descriptors, CloseRange, &[], NONE),
    sys("dup", Descriptors, Dup, &[], FD0).returning_fd(),
    sys("dup2", Descriptors, Dup, &[], &[0, 1]).returning_fd(),
    sys("dup3", Descriptors, Dup, &[], &[0, 1]).returning_fd(),
    sys("fcntl", Descriptors, Fcntl, &[], FD0),
    sys("lseek", Descriptors, Seek, &[], FD0),
    // Changes the process.
    sys("clone", Process, Fork, &[], NONE),
    sys("clone3", Process, Fork, &[], NONE),
    sys("fork", Process, Fork, &[], NONE),
    sys("vfork", Process, Fork, &[], NONE),
    sys("chdir", Process, Chdir, &[cwd(0)], NONE),
    sys("fchdir", Process, Chdir, &[], FD0),
    // Its string is the working directory, which counts as a path named.
    sys("getcwd", Process, Chdir, &[cwd(0)], NONE),
    sys("umask", Process, Umask, &[], NONE),
    sys("execve", Process, Ignored, &[cwd(0)], NONE),
    sys("exit", Process, Ignored, &[], NONE),
    sys("exit_group", Process, Ignored, &[], NONE),
    // Memory.
    sys("mmap", Memory, Mmap, &[], &[4]),
    sys("munmap", Memory, Ignored, &[], NONE),
    sys("madvise", Memory, Ignored, &[], NONE),
    // Not files: their strings are data.
    sys("getrandom", Elsewhere, Unmapped, &[], NONE),
    sys("sendto", Elsewhere, Unmapped, &[], FD0),
    sys("sendmsg", Elsewhere, Unmapped, &[], FD0),
    sys("recvfrom", Elsewhere, Unmapped, &[], FD0),
    sys("recvmsg", Elsewhere, Unmapped, &[], FD0),
    sys("setsockopt", Elsewhere, Unmapped, &[], FD0),
    sys("getsockopt", Elsewhere, Unmapped, &[], FD0),
    sys("prctl", Elsewhere, Unmapped, &[], NONE),
    sys("sethostname", Elsewhere, Unmapped, &[], NONE),
    sys("setdomainname", Elsewhere, Unmapped, &[], NONE),
];

/// The entry of the call named `name`.
pub fn lookup(name: &str) -> Option<&'static Syscall> {
    static BY_NAME: OnceLock<HashMap<&'static str, &'static Syscall>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| TABLE.iter().map(|s| (s.name, s)).collect())
        .get(name)
        .copied()
}

/// The calls that only read a descriptor's data, in the table's order.
pub fn reads() -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|s| s.kind == Reads)
        .map(|s| s.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_name_appears_once() {
        let mut seen = HashSet::new();
        for call in TABLE {
            assert!(seen.insert(call.name), "{} twice", call.name);
            assert_eq!(lookup(call.name), Some(call));
        }
        assert_eq!(lookup("frobnicate"), None);
    }

    #[test]
    fn each_path_argument_is_neither_a_descriptor_nor_another_path() {
        for call in TABLE {
            for (i, path) in call.paths.iter().enumerate() {
                assert!(!call.fds.contains(&path.index), "{}", call.name);
                assert!(
                    call.paths[i + 1..].iter().all(|p| p.index != path.index),
                    "{}",
                    call.name
                );
                if let Some(dir) = path.dir {
                    assert!(call.fds.contains(&dir), "{}: {dir}", call.name);
                    assert!(dir < path.index, "{}", call.name);
                }
            }
        }
    }

    #[test]
    fn a_call_the_converter_ignores_changes_and_syncs_nothing() {
        for call in TABLE.iter().filter(|c| c.model == Ignored) {
            assert!(!matches!(call.kind, Changes | Syncs), "{}", call.name);
        }
    }

    #[test]
    fn the_handlers_that_make_ops_serve_only_calls_that_change_or_sync() {
        let makes_ops = [
            Open, Mkdir, Rename, Remove, Chmod, Link, Write, Truncate, Sync,
        ];
        for call in TABLE.iter().filter(|c| makes_ops.contains(&c.model)) {
            assert!(matches!(call.kind, Changes | Syncs), "{}", call.name);
            assert!(call.model.outcome_matters(), "{}", call.name);
        }
    }

    #[test]
    fn only_the_calls_that_open_or_duplicate_return_a_descriptor() {
        for call in TABLE {
            assert_eq!(
                call.returns_fd,
                matches!(call.model, Open | Dup),
                "{}",
                call.name
            );
        }
    }

    #[test]
    fn the_read_only_calls_are_the_five_reads_of_a_descriptor() {
        assert_eq!(reads(), ["read", "readv", "pread64", "preadv", "preadv2"]);
    }
}
