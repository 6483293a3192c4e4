//! Whether a call, stopped at its entry, touches the scope.
//!
//! Promises: [`Scope::entry`] reads a call's arguments as the system-call
//! table names them: a path string from the process's memory
//! (`process_vm_readv`), a descriptor as the path `/proc/PID/fd/N` links
//! to, `AT_FDCWD` as the working directory `/proc/PID/cwd` links to (as
//! strace's `-y` prints them); the call touches the scope when one of
//! the paths `syscalls::paths_named` reads from those arguments, a
//! relative path without a directory descriptor made absolute against the
//! working directory first, lies at or under the scope, compared as text
//! as the converter compares them (so a scope reached through a symlink
//! counts the same calls in both). `getcwd` names the working directory.
//!
//! Does not promise: anything of a call the table does not know (it
//! touches nothing here, and the converter refuses such a call when it
//! touches the case directory, so no point is ever made of one); a path
//! longer than `PATH_MAX`.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::syscalls::paths_named;
use crate::syscalls::strace::{Arg, Call, CallResult};
use crate::syscalls::table::{lookup, Syscall};

const AT_FDCWD: i64 = -100;
/// The kernel's longest path, with its NUL.
const PATH_MAX: usize = 4096;

/// The directory whose calls count, as given.
pub(super) struct Scope {
    dir: Vec<u8>,
}

/// A call at its entry, its arguments read.
pub(super) struct Entry {
    /// The arguments as the trace file shows them.
    pub args: Vec<Arg>,
    pub touches: bool,
}

impl Scope {
    pub(super) fn new(dir: &Path) -> Scope {
        Scope {
            dir: trimmed(dir.as_os_str().as_bytes()),
        }
    }

    /// Whether `path` (absolute, normalized) is the scope or under it.
    fn contains(&self, path: &[u8]) -> bool {
        path.strip_prefix(self.dir.as_slice())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/") || self.dir == b"/")
    }

    /// Call `name` of process `pid`, stopped at its entry with `regs` as
    /// its arguments.
    pub(super) fn entry(&self, pid: i32, name: &str, regs: [u64; 6]) -> Entry {
        let Some(known) = lookup(name) else {
            return Entry {
                args: Vec::new(),
                touches: false,
            };
        };
        let mut process = Process { pid, cwd: None };
        let args: Vec<Arg> = (0..arity(known))
            .map(|index| process.arg(known, index, regs[index]))
            .collect();
        let mut judged = call(pid, name, args.clone());
        // paths_named leaves out relative paths no directory descriptor
        // anchors: the working directory anchors them here.
        for path in known.paths.iter().filter(|p| p.dir.is_none()) {
            if let Some(Arg::Str(text)) = judged.args.get_mut(path.index) {
                if !text.starts_with(b"/") {
                    if let Some(cwd) = process.cwd() {
                        let mut absolute = cwd;
                        absolute.push(b'/');
                        absolute.extend_from_slice(text);
                        *text = absolute;
                    }
                }
            }
        }
        let touches = paths_named(&judged).iter().any(|path| self.contains(path));
        Entry { args, touches }
    }
}

/// A path without its trailing slashes (`/` stays).
fn trimmed(path: &[u8]) -> Vec<u8> {
    let mut path = path.to_vec();
    while path.len() > 1 && path.ends_with(b"/") {
        path.pop();
    }
    path
}

fn call(pid: i32, name: &str, args: Vec<Arg>) -> Call {
    Call {
        index: 0,
        line: 0,
        end_line: None,
        pid: u32::try_from(pid).unwrap_or_default(),
        name: name.to_string(),
        args,
        result: CallResult::Unknown,
    }
}

/// How many arguments to show: every one the table names, and the flags
/// and modes that follow them in the calls the converter reads.
fn arity(known: &Syscall) -> usize {
    let named = known
        .paths
        .iter()
        .map(|p| p.index)
        .chain(known.fds.iter().copied())
        .max()
        .map_or(0, |last| last + 1);
    let usual = match known.name {
        "openat" | "openat2" | "renameat2" | "statx" | "mmap" => 4,
        "open" | "mkdirat" | "fchmodat" | "fchmodat2" | "newfstatat" | "write" | "pwrite64"
        | "writev" | "pwritev" | "pwritev2" | "dup3" | "fcntl" | "lseek" | "unlinkat" | "read"
        | "readv" | "pread64" | "faccessat" | "faccessat2" | "utimensat" => 3,
        "creat" | "mkdir" | "chmod" | "fchmod" | "truncate" | "ftruncate" | "clone" | "umask"
        | "access" | "stat" | "lstat" | "fstat" | "flock" | "ioctl" => 2,
        _ => 1,
    };
    named.max(usual).min(6)
}

/// A traced process, its working directory read once if at all.
struct Process {
    pid: i32,
    cwd: Option<Option<Vec<u8>>>,
}

impl Process {
    fn cwd(&mut self) -> Option<Vec<u8>> {
        let pid = self.pid;
        self.cwd
            .get_or_insert_with(|| link(&format!("/proc/{pid}/cwd")).map(|(path, _)| path))
            .clone()
    }

    /// Argument `index` of call `known`, its register holding `value`.
    fn arg(&mut self, known: &Syscall, index: usize, value: u64) -> Arg {
        if known.name == "getcwd" && index == 0 {
            return match self.cwd() {
                Some(cwd) => Arg::Str(cwd),
                None => Arg::Int(value as i64),
            };
        }
        if known.fds.contains(&index) {
            // A descriptor is an int: the register's low 32 bits.
            let fd = i64::from(value as u32 as i32);
            let anchors = known.paths.iter().any(|p| p.dir == Some(index));
            if fd == AT_FDCWD && anchors {
                return match self.cwd() {
                    Some(path) => Arg::Fd {
                        fd,
                        path,
                        deleted: false,
                    },
                    None => Arg::Int(fd),
                };
            }
            return match (fd >= 0)
                .then(|| link(&format!("/proc/{}/fd/{fd}", self.pid)))
                .flatten()
            {
                Some((path, deleted)) => Arg::Fd { fd, path, deleted },
                None => Arg::Int(fd),
            };
        }
        if known.paths.iter().any(|p| p.index == index) {
            if value == 0 {
                return Arg::Other("NULL".to_string());
            }
            return match read_string(self.pid, value) {
                Some(text) => Arg::Str(text),
                None => Arg::Int(value as i64),
            };
        }
        Arg::Int(value as i64)
    }
}

/// Where a `/proc` link points, and whether the file was deleted (the
/// kernel's ` (deleted)` suffix, taken off).
fn link(path: &str) -> Option<(Vec<u8>, bool)> {
    let target = std::fs::read_link(path).ok()?;
    let bytes = OsString::from(target).into_vec();
    match bytes.strip_suffix(b" (deleted)") {
        Some(name) if name.starts_with(b"/") => Some((name.to_vec(), true)),
        _ => Some((bytes, false)),
    }
}

/// The NUL-terminated string at `address` in process `pid`'s memory, at
/// most `PATH_MAX` bytes; `None` when unreadable or longer.
fn read_string(pid: i32, address: u64) -> Option<Vec<u8>> {
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut at = address;
    while out.len() < PATH_MAX {
        // Never across a page boundary: the next page may be unmapped
        // though the string ends before it.
        let chunk = (PAGE - at % PAGE).min((PATH_MAX - out.len()) as u64) as usize;
        let mut buf = vec![0u8; chunk];
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: chunk,
        };
        let remote = libc::iovec {
            iov_base: at as *mut libc::c_void,
            iov_len: chunk,
        };
        // SAFETY: `local` describes `buf`, a live buffer of exactly
        // `chunk` bytes this function owns, and is the only buffer the
        // kernel writes to; `remote` is an address in the other process,
        // which the kernel checks (a bad one is EFAULT, not a fault here).
        // One iovec each side, as the counts say.
        let read = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
        let read = usize::try_from(read).ok().filter(|&n| n > 0)?;
        buf.truncate(read);
        if let Some(end) = buf.iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..end]);
            return Some(out);
        }
        out.extend_from_slice(&buf);
        at = at.checked_add(read as u64)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sibling_whose_name_starts_with_the_scope_is_outside_it() {
        let scope = Scope::new(Path::new("/r/case-3/"));
        assert!(scope.contains(b"/r/case-3"));
        assert!(scope.contains(b"/r/case-3/state/x"));
        assert!(!scope.contains(b"/r/case-30"));
        assert!(!scope.contains(b"/r"));
        assert!(!scope.contains(b"pipe:[3]"));
    }

    #[test]
    fn this_process_reading_its_own_strings_and_descriptors_touches_as_the_table_says() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let scope = Scope::new(dir.path());
        let pid = i32::try_from(std::process::id()).expect("a pid");
        let inside =
            std::ffi::CString::new(dir.path().join("x").as_os_str().as_bytes()).expect("no NUL");
        let outside = std::ffi::CString::new("/etc/hostname").expect("no NUL");
        let at = |c: &std::ffi::CString| c.as_ptr() as u64;
        let open = scope.entry(pid, "openat", [AT_FDCWD as u64, at(&inside), 0, 0, 0, 0]);
        assert!(open.touches);
        assert_eq!(
            open.args[1],
            Arg::Str(inside.as_bytes().to_vec()),
            "{:?}",
            open.args
        );
        assert!(matches!(open.args[0], Arg::Fd { fd: AT_FDCWD, .. }));
        let elsewhere = scope.entry(pid, "openat", [AT_FDCWD as u64, at(&outside), 0, 0, 0, 0]);
        assert!(!elsewhere.touches);
        // A write's buffer is data, never a path.
        let write = scope.entry(pid, "write", [2, at(&inside), 1, 0, 0, 0]);
        assert!(!write.touches);
        let file = std::fs::File::create(dir.path().join("f")).expect("created");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let fsync = scope.entry(pid, "fsync", [fd as u64, 0, 0, 0, 0, 0]);
        assert!(fsync.touches, "{:?}", fsync.args);
        assert!(!scope.entry(pid, "frobnicate", [fd as u64; 6]).touches);
    }
}
