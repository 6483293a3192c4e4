//! Shared helpers for the integration tests.
//!
//! - [`FaultyFs`]: an [`Fs`] wrapper that logs every call and fails the N-th
//!   call of a chosen operation with a chosen errno, before or after the
//!   operation takes effect.
//! - record builders ([`ts`], [`raw`], [`record`], [`full_record`]);
//! - directory snapshots ([`snapshot`]) to prove "left exactly as it was";
//! - CLI runners for the `lifecycle` binary, also under a umask and as an
//!   unprivileged user (`setpriv`, util-linux);
//! - store fixtures ([`setup`], [`store`], [`save`], [`on_disk`]): a record
//!   path in a fresh temp dir and a store on it whose clock stands at [`NOW`].
//!
//! Each test crate uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use lifecycle_state::fs::LockError;
use lifecycle_state::{
    persist, Fs, ManualClock, Options, Progress, Quarantine, RawJson, RealFs, Record, State, Store,
    Timestamp,
};

// ---------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------

/// One kind of [`Fs`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    CreateExclusive,
    WriteAt,
    SyncFile,
    Close,
    Rename,
    SyncDir,
    RemoveFile,
    RemoveDir,
    CreateDir,
    SetMode,
    ReadBounded,
    ListDir,
    TryLock,
}

/// When an injected fault strikes relative to the real operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// The call fails and the operation never happens.
    Before,
    /// The operation happens, then the call reports the error. For
    /// [`Op::WriteAt`] only the first half of the data is written (a short
    /// write that ends in an error, as `ENOSPC` mid-write does).
    After,
}

#[derive(Debug, Clone, Copy)]
struct Fault {
    op: Op,
    /// 1-based index of the first call of `op` that fails.
    nth: usize,
    /// Every call from `nth` on fails, not only the `nth`.
    sticky: bool,
    errno: i32,
    timing: Timing,
}

impl Fault {
    fn matches(&self, op: Op, n: usize) -> bool {
        self.op == op && (n == self.nth || (self.sticky && n > self.nth))
    }
}

/// One logged call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: Op,
    /// The paths the call named (`rename`: from, to; file handles: the path
    /// the file was created at).
    pub paths: Vec<PathBuf>,
    /// The numeric argument: the mode for `create_*`/`set_mode`, the data
    /// length for `write_at`, the limit for `read_bounded`.
    pub arg: Option<u64>,
    /// Whether this call's error was injected.
    pub injected: bool,
    /// The call's result (errors by kind and raw errno).
    pub result: Result<(), (io::ErrorKind, Option<i32>)>,
}

/// A file handle of a [`FaultyFs`]: the inner handle and where it was created.
#[derive(Debug)]
pub struct Tracked<T> {
    pub inner: T,
    pub path: PathBuf,
}

/// An [`Fs`] that records every call and fails chosen calls.
#[derive(Debug, Default)]
pub struct FaultyFs<F: Fs = RealFs> {
    inner: F,
    faults: Vec<Fault>,
    counts: Mutex<HashMap<Op, usize>>,
    log: Mutex<Vec<Call>>,
}

impl FaultyFs<RealFs> {
    /// The real file system, recorded, with no fault yet.
    pub fn new() -> Self {
        FaultyFs::wrap(RealFs)
    }
}

impl<F: Fs> FaultyFs<F> {
    pub fn wrap(inner: F) -> Self {
        FaultyFs {
            inner,
            faults: Vec::new(),
            counts: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Fails the `nth` (1-based) call of `op` with `errno`, before it acts.
    pub fn fail(self, op: Op, nth: usize, errno: i32) -> Self {
        self.fault(op, nth, errno, Timing::Before, false)
    }

    /// Fails the `nth` call of `op` with `errno` after it took effect.
    pub fn fail_after_effect(self, op: Op, nth: usize, errno: i32) -> Self {
        self.fault(op, nth, errno, Timing::After, false)
    }

    /// Fails every call of `op` from the `nth` on with `errno`.
    pub fn fail_from(self, op: Op, nth: usize, errno: i32) -> Self {
        self.fault(op, nth, errno, Timing::Before, true)
    }

    fn fault(mut self, op: Op, nth: usize, errno: i32, timing: Timing, sticky: bool) -> Self {
        assert!(nth >= 1, "calls are counted from 1");
        self.faults.push(Fault {
            op,
            nth,
            sticky,
            errno,
            timing,
        });
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.log.lock().unwrap().clone()
    }

    /// The kinds of every call so far, in order.
    pub fn ops(&self) -> Vec<Op> {
        self.calls().into_iter().map(|c| c.op).collect()
    }

    /// How many calls of `op` were made.
    pub fn count(&self, op: Op) -> usize {
        self.counts.lock().unwrap().get(&op).copied().unwrap_or(0)
    }

    /// How many injected faults fired.
    pub fn injected(&self) -> usize {
        self.calls().iter().filter(|c| c.injected).count()
    }

    /// Counts a call of `op` and returns the fault it must suffer, if any.
    fn next(&self, op: Op) -> Option<Fault> {
        let mut counts = self.counts.lock().unwrap();
        let n = counts.entry(op).or_insert(0);
        *n += 1;
        let n = *n;
        self.faults.iter().copied().find(|f| f.matches(op, n))
    }

    /// Runs one call: decides the fault, performs (fully, partially or not
    /// at all) and logs.
    fn call<T>(
        &self,
        op: Op,
        paths: Vec<PathBuf>,
        arg: Option<u64>,
        perform: impl FnOnce(Timing) -> io::Result<T>,
    ) -> io::Result<T> {
        let fault = self.next(op);
        let result = match fault {
            None => perform(Timing::Before),
            Some(f) => {
                if f.timing == Timing::After {
                    // The effect happens; whatever it returned is dropped.
                    let _ = perform(Timing::After);
                }
                Err(io::Error::from_raw_os_error(f.errno))
            }
        };
        self.log.lock().unwrap().push(Call {
            op,
            paths,
            arg,
            injected: fault.is_some(),
            result: match &result {
                Ok(_) => Ok(()),
                Err(e) => Err((e.kind(), e.raw_os_error())),
            },
        });
        result
    }
}

impl<F: Fs> Fs for FaultyFs<F> {
    type File = Tracked<F::File>;
    type Lock = F::Lock;

    fn create_exclusive(&self, path: &Path, mode: u32) -> io::Result<Self::File> {
        self.call(
            Op::CreateExclusive,
            vec![path.to_path_buf()],
            Some(u64::from(mode)),
            |_| {
                self.inner
                    .create_exclusive(path, mode)
                    .map(|inner| Tracked {
                        inner,
                        path: path.to_path_buf(),
                    })
            },
        )
    }

    fn write_at(&self, file: &mut Self::File, offset: u64, data: &[u8]) -> io::Result<()> {
        let path = file.path.clone();
        self.call(
            Op::WriteAt,
            vec![path],
            Some(data.len() as u64),
            |timing| match timing {
                Timing::Before => self.inner.write_at(&mut file.inner, offset, data),
                Timing::After => {
                    let half = &data[..data.len() / 2];
                    self.inner.write_at(&mut file.inner, offset, half)
                }
            },
        )
    }

    fn sync_file(&self, file: &mut Self::File) -> io::Result<()> {
        let path = file.path.clone();
        self.call(Op::SyncFile, vec![path], None, |_| {
            self.inner.sync_file(&mut file.inner)
        })
    }

    fn close(&self, file: Self::File) -> io::Result<()> {
        let Tracked { inner, path } = file;
        // A close that fails before acting still drops (and so closes) the
        // handle: no descriptor leaks from a test.
        self.call(Op::Close, vec![path], None, |_| self.inner.close(inner))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.call(
            Op::Rename,
            vec![from.to_path_buf(), to.to_path_buf()],
            None,
            |_| self.inner.rename(from, to),
        )
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.call(Op::SyncDir, vec![dir.to_path_buf()], None, |_| {
            self.inner.sync_dir(dir)
        })
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.call(Op::RemoveFile, vec![path.to_path_buf()], None, |_| {
            self.inner.remove_file(path)
        })
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.call(Op::RemoveDir, vec![path.to_path_buf()], None, |_| {
            self.inner.remove_dir(path)
        })
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.call(
            Op::CreateDir,
            vec![path.to_path_buf()],
            Some(u64::from(mode)),
            |_| self.inner.create_dir(path, mode),
        )
    }

    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.call(
            Op::SetMode,
            vec![path.to_path_buf()],
            Some(u64::from(mode)),
            |_| self.inner.set_mode(path, mode),
        )
    }

    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        self.call(
            Op::ReadBounded,
            vec![path.to_path_buf()],
            Some(limit),
            |_| self.inner.read_bounded(path, limit),
        )
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        self.call(Op::ListDir, vec![dir.to_path_buf()], None, |_| {
            self.inner.list_dir(dir)
        })
    }

    fn try_lock(&self, path: &Path) -> Result<Self::Lock, LockError> {
        let mut refused = false;
        let result = self.call(Op::TryLock, vec![path.to_path_buf()], None, |_| match self
            .inner
            .try_lock(path)
        {
            Ok(lock) => Ok(lock),
            Err(LockError::Locked) => {
                refused = true;
                Err(io::Error::from(io::ErrorKind::WouldBlock))
            }
            Err(LockError::Io(e)) => Err(e),
        });
        match result {
            Ok(lock) => Ok(lock),
            Err(_) if refused => Err(LockError::Locked),
            Err(e) => Err(LockError::Io(e)),
        }
    }
}

/// `io::Error` for a raw errno, as the kernel would report it.
pub fn os_error(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// The four errnos every failing step is tried with (SPEC §3.5.1).
pub const FAILURE_ERRNOS: [(i32, &str); 4] = [
    (libc::ENOSPC, "ENOSPC"),
    (libc::EIO, "EIO"),
    (libc::EDQUOT, "EDQUOT"),
    (libc::EROFS, "EROFS"),
];

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/// A timestamp that must parse (SPEC §1.4).
pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|e| panic!("test timestamp {text:?}: {e}"))
}

/// Raw JSON text that must be one valid value (SPEC §1.5).
pub fn raw(text: &str) -> RawJson {
    RawJson::parse(text).unwrap_or_else(|e| panic!("test JSON {text:?}: {e}"))
}

/// A small valid record: `state`, sequence `seq`, no nested objects.
pub fn record(state: State, seq: u64) -> Record {
    Record {
        current_state: state,
        since_ts: ts("2024-05-01T12:00:00Z"),
        last_activity_ts: ts("2024-05-01T12:34:56.789Z"),
        wrapper_event_seq: seq,
        sleep_cycle_progress: None,
        quarantine: None,
        shadow_run: false,
        unknown: Vec::new(),
    }
}

/// A valid record with every member populated, unknown members included.
pub fn full_record() -> Record {
    Record {
        current_state: State::Sleep,
        since_ts: ts("2024-06-01T00:00:00+00:00"),
        last_activity_ts: ts("2024-06-01T00:00:01.5Z"),
        wrapper_event_seq: 9_007_199_254_740_991,
        sleep_cycle_progress: Some(Progress {
            last_completed_step: Some(2),
            attempt: Some(3),
            last_error: Some(Some("disk \"full\"\n".to_string())),
            started_at: Some(ts("2024-06-01T00:00:00Z")),
            unknown: vec![("p_extra".to_string(), raw("[1.50, -0]"))],
        }),
        quarantine: Some(Quarantine {
            until_ts: ts("2024-06-02T00:00:00Z"),
            since_ts: ts("2024-06-01T00:00:00Z"),
            reason: "sleep step 3 failed 3x: é".to_string(),
            unknown: vec![("q_extra".to_string(), raw("1e400"))],
        }),
        shadow_run: true,
        unknown: vec![("top_extra".to_string(), raw(r#"{"a": [true, null]}"#))],
    }
}

/// The serialized form of `record` (SPEC §3.2) as text.
pub fn encoded(record: &Record) -> String {
    String::from_utf8(lifecycle_state::encode(record)).expect("the encoder writes UTF-8")
}

// ---------------------------------------------------------------------------
// The file system as observed from outside
// ---------------------------------------------------------------------------

/// One entry of a [`snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `ino` tells an entry replaced (say by a rename) from one left in place.
    File {
        ino: u64,
        mode: u32,
        bytes: Vec<u8>,
    },
    Dir {
        ino: u64,
        mode: u32,
    },
    Symlink {
        ino: u64,
        target: PathBuf,
    },
    Other {
        ino: u64,
        mode: u32,
    },
}

/// Every entry under `root` (recursively, `root` itself as `""`), with
/// inodes, modes, file contents and symlink targets: equal snapshots mean the tree
/// was left exactly as it was.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let full = root.join(&rel);
        let meta =
            fs::symlink_metadata(&full).unwrap_or_else(|e| panic!("stat {}: {e}", full.display()));
        let mode = meta.permissions().mode() & 0o7777;
        let ino = meta.ino();
        let entry = if meta.file_type().is_symlink() {
            Entry::Symlink {
                ino,
                target: fs::read_link(&full).expect("readlink"),
            }
        } else if meta.is_dir() {
            for child in fs::read_dir(&full).expect("read_dir") {
                pending.push(rel.join(child.expect("dir entry").file_name()));
            }
            Entry::Dir { ino, mode }
        } else if meta.is_file() {
            Entry::File {
                ino,
                mode,
                bytes: fs::read(&full).expect("read"),
            }
        } else {
            Entry::Other { ino, mode }
        };
        out.insert(rel, entry);
    }
    out
}

/// True for the temp names SPEC §3.3 step 3 allows: `.lifecycle_state.<16
/// lowercase hex>.tmp`.
pub fn is_spec_temp_name(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let Some(hex) = name
        .strip_prefix(".lifecycle_state.")
        .and_then(|rest| rest.strip_suffix(".tmp"))
    else {
        return false;
    };
    hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Names in `dir` (recursively) that look like temp files (`.lifecycle_state.*.tmp`).
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_keys()
        .filter(|rel| {
            rel.file_name()
                .and_then(OsStr::to_str)
                .is_some_and(|n| n.starts_with(".lifecycle_state.") && n.ends_with(".tmp"))
        })
        .collect()
}

/// Permission bits of `path` (not following a symlink).
pub fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Creates a FIFO at `path`.
pub fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).expect("no NUL in path");
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(
        rc,
        0,
        "mkfifo {}: {}",
        path.display(),
        io::Error::last_os_error()
    );
    assert!(fs::symlink_metadata(path).unwrap().file_type().is_fifo());
}

/// A temp directory that an unprivileged user may traverse (mode 0755).
pub fn shared_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    set_mode(dir.path(), 0o755);
    dir
}

// ---------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------

pub const LIFECYCLE: &str = env!("CARGO_BIN_EXE_lifecycle");

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `lifecycle ARGS...` as the current user.
pub fn lifecycle(args: &[&OsStr]) -> Command {
    let mut cmd = Command::new(LIFECYCLE);
    cmd.args(args);
    cmd
}

/// `lifecycle ARGS...` under `umask` (set in a child shell, since the umask
/// is process-wide and tests run on parallel threads).
pub fn lifecycle_under_umask(umask: &str, args: &[&OsStr]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(LIFECYCLE)
        .args(args);
    cmd
}

/// `setpriv` arguments that drop to uid/gid 65534 with no supplementary groups.
const SETPRIV_ARGS: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/// `setpriv PROGRAM ARGS...`, checking that setpriv (util-linux) exists.
fn setpriv(program: &OsStr, args: Vec<&OsStr>) -> Command {
    assert!(
        Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "setpriv (util-linux) is required to run the CLI as uid 65534"
    );
    let mut cmd = Command::new("setpriv");
    cmd.args(SETPRIV_ARGS).arg(program).args(args);
    cmd
}

/// `lifecycle ARGS...` as an unprivileged user: uid/gid 65534 through
/// `setpriv` when the tests run as root (so DAC applies), else as the
/// current (already unprivileged) user.
pub fn lifecycle_unprivileged(args: &[&OsStr]) -> Command {
    if !is_root() {
        return lifecycle(args);
    }
    setpriv(OsStr::new(LIFECYCLE), args.to_vec())
}

/// `lifecycle ARGS...` as the unprivileged user of [`lifecycle_unprivileged`]
/// and under `umask`.
pub fn lifecycle_unprivileged_under_umask(umask: &str, args: &[&OsStr]) -> Command {
    let shell = lifecycle_under_umask(umask, args);
    if !is_root() {
        return shell;
    }
    setpriv(shell.get_program(), shell.get_args().collect())
}

/// Gives `path` to uid/gid 65534 when the tests run as root (no-op
/// otherwise: the caller is then the unprivileged user).
pub fn give_to_unprivileged(path: &Path) {
    if is_root() {
        std::os::unix::fs::chown(path, Some(65534), Some(65534))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    }
}

/// Runs `cmd` with `stdin` on its standard input and collects its output.
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    // The child may exit before reading everything (a broken pipe is fine).
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("wait for the child")
}

/// stderr of `out` as text.
pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout of `out` as text.
pub fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------
// Store fixtures
// ---------------------------------------------------------------------------

/// The record's file name in every fixture directory.
pub const FILE_NAME: &str = "lifecycle_state.json";
/// When fixture records were last written: before [`NOW`].
pub const STORED_TS: &str = "2024-01-01T00:00:00Z";
/// Where the fixture stores' clocks stand.
pub const NOW: &str = "2024-05-01T12:00:00.000000Z";

/// A fresh temp dir and the record path inside it.
pub fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    (dir, path)
}

/// A store on `path` on the real file system, its clock at [`NOW`].
pub fn store(path: &Path) -> Store<RealFs, ManualClock> {
    store_with(path, Options::default())
}

pub fn store_with(path: &Path, options: Options) -> Store<RealFs, ManualClock> {
    Store::new(RealFs, ManualClock::at(&ts(NOW)), path, options)
}

/// Saves `r` at `path` with the library save and returns the file's bytes.
pub fn save(path: &Path, r: &Record) -> Vec<u8> {
    persist::save(path, r).unwrap();
    fs::read(path).unwrap()
}

/// The record stored at `path`, which must be valid.
pub fn on_disk(path: &Path) -> Record {
    lifecycle_state::decode(&fs::read(path).unwrap()).expect("the file is a valid record")
}

// ---------------------------------------------------------------------------
// Helper processes
// ---------------------------------------------------------------------------

/// This test binary run again with only the test `entry`, which an
/// environment variable set by the caller turns into a helper process.
pub fn rerun_self(entry: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args(["--exact", entry, "--nocapture", "--test-threads=1"]);
    cmd
}

/// The lines of a child's stdout as they arrive, read on a thread; the
/// channel closes when the child closes its stdout.
pub fn stdout_lines(stdout: impl io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in io::BufRead::lines(io::BufReader::new(stdout)) {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
