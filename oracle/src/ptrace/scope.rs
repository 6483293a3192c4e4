//! Whether a call, stopped at its entry, touches the scope.
//!
//! Promises: [`Scope::touches`] judges a call by the arguments [`entry`]
//! decoded (`super::decode`): a path string read from the process's
//! memory, a descriptor as the path `/proc/PID/fd/N` links to, `AT_FDCWD`
//! as the working directory `/proc/PID/cwd` links to (as strace's `-y`
//! prints them); the call touches the scope when one of the paths
//! `syscalls::paths_named` reads from those arguments, a relative path
//! without a directory descriptor made absolute against the working
//! directory first, lies at or under the scope, compared as text as the
//! converter compares them (so a scope reached through a symlink counts
//! the same calls in both). `getcwd` names the working directory. A call
//! that makes a process, sets the umask or the working directory, or
//! closes descriptors by range is judged by its arguments as written (a
//! `chdir` by a relative path touches nothing).
//!
//! Does not promise: anything of a call the table does not know (it
//! touches nothing here, and the converter refuses such a call when it
//! touches the case directory, so no point is ever made of one); a path
//! longer than `PATH_MAX`.
//!
//! [`entry`]: super::decode::entry

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::syscalls::paths_named;
use crate::syscalls::strace::{Arg, Call, CallResult};
use crate::syscalls::table::lookup;

use super::process::Process;

/// The calls judged by what they name as written, their relative paths
/// not made absolute: those that make a process, set the umask or the
/// working directory, or close descriptors by range. Of these only a
/// `chdir` or `fchdir` into the scope names it.
const AS_WRITTEN: [&str; 8] = [
    "clone",
    "clone3",
    "fork",
    "vfork",
    "umask",
    "chdir",
    "fchdir",
    "close_range",
];

/// Whether `path` is `scope` or lies under it, compared as text (trailing
/// slashes of `scope` aside).
fn within(path: &[u8], scope: &[u8]) -> bool {
    let mut scope = scope;
    while scope.len() > 1 && scope.ends_with(b"/") {
        scope = &scope[..scope.len() - 1];
    }
    path.strip_prefix(scope)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/") || scope == b"/")
}

/// The directory whose calls count, as given.
pub(super) struct Scope {
    dir: PathBuf,
}

impl Scope {
    pub(super) fn new(dir: &Path) -> Scope {
        Scope {
            dir: dir.to_path_buf(),
        }
    }

    /// Whether call `name` of `process`, entered with `args` as
    /// [`super::decode::entry`] decoded them, touches the scope.
    pub(super) fn touches(&self, process: &mut Process, name: &str, args: &[Arg]) -> bool {
        let Some(known) = lookup(name) else {
            return false;
        };
        let mut judged = call(process.pid, name, args.to_vec());
        // paths_named leaves out relative paths no directory descriptor
        // anchors: the working directory anchors them here (but for the
        // calls judged as written).
        let as_written = AS_WRITTEN.contains(&name);
        for path in known
            .paths
            .iter()
            .filter(|p| p.dir.is_none() && !as_written)
        {
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
        paths_named(&judged)
            .iter()
            .any(|path| within(path, self.dir.as_os_str().as_bytes()))
    }
}

/// A call as the trace file shows it, at its entry.
pub(super) fn call(pid: i32, name: &str, args: Vec<Arg>) -> Call {
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

#[cfg(test)]
mod tests {
    use super::super::decode::entry;
    use super::*;

    #[test]
    fn a_sibling_whose_name_starts_with_the_scope_is_outside_it() {
        assert!(within(b"/r/case-3", b"/r/case-3/"));
        assert!(within(b"/r/case-3/state/x", b"/r/case-3"));
        assert!(!within(b"/r/case-30", b"/r/case-3"));
        assert!(!within(b"/r", b"/r/case-3"));
        assert!(!within(b"pipe:[3]", b"/r/case-3"));
        assert!(within(b"/x", b"/"));
    }

    const AT_FDCWD: i64 = -100;

    #[test]
    fn this_process_reading_its_own_strings_and_descriptors_touches_as_the_table_says() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let scope = Scope::new(dir.path());
        let pid = i32::try_from(std::process::id()).expect("a pid");
        let mut process = Process::new(pid);
        let inside =
            std::ffi::CString::new(dir.path().join("x").as_os_str().as_bytes()).expect("no NUL");
        let outside = std::ffi::CString::new("/etc/hostname").expect("no NUL");
        let at = |c: &std::ffi::CString| c.as_ptr() as u64;
        let mut judge = |name: &str, regs: [u64; 6]| {
            let args = entry(&mut process, name, regs);
            (scope.touches(&mut process, name, &args), args)
        };
        let (touches, open) = judge("openat", [AT_FDCWD as u64, at(&inside), 0, 0, 0, 0]);
        assert!(touches);
        assert_eq!(open[1], Arg::Str(inside.as_bytes().to_vec()), "{open:?}");
        assert!(matches!(open[0], Arg::Fd { fd: AT_FDCWD, .. }));
        let (touches, _) = judge("openat", [AT_FDCWD as u64, at(&outside), 0, 0, 0, 0]);
        assert!(!touches);
        // A write's buffer is data, never a path.
        let (touches, _) = judge("write", [2, at(&inside), 1, 0, 0, 0]);
        assert!(!touches);
        let file = std::fs::File::create(dir.path().join("f")).expect("created");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let (touches, fsync) = judge("fsync", [fd as u64, 0, 0, 0, 0, 0]);
        assert!(touches, "{fsync:?}");
        assert!(!judge("frobnicate", [fd as u64; 6]).0);
        // The calls that set up a process touch only by what they name as
        // written: clone never, chdir when it names the scope.
        assert!(!judge("clone", [0x3d0f00, 0, 0, 0, 0, 0]).0);
        assert!(judge("chdir", [at(&inside), 0, 0, 0, 0, 0]).0);
        assert!(!judge("chdir", [at(&outside), 0, 0, 0, 0, 0]).0);
    }

    #[test]
    fn a_relative_path_lies_in_the_working_directory_but_for_a_chdir_by_it() {
        let cwd = std::env::current_dir().expect("a working directory");
        let scope = Scope::new(&cwd);
        let mut process = Process::new(i32::try_from(std::process::id()).expect("a pid"));
        let relative = std::ffi::CString::new("sub").expect("no NUL");
        let mut judge = |name: &str, regs: [u64; 6]| {
            let args = entry(&mut process, name, regs);
            scope.touches(&mut process, name, &args)
        };
        let at = relative.as_ptr() as u64;
        assert!(judge("mkdir", [at, 0o700, 0, 0, 0, 0]));
        assert!(!judge("chdir", [at, 0, 0, 0, 0, 0]));
    }
}
