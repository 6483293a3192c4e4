//! Fixtures for the tests of the store and of the CLI on a real disk.
//!
//! - record builders ([`ts`], [`raw`], [`record`], [`full_record`]);
//! - directory snapshots ([`snapshot`]) to prove "left exactly as it was";
//! - store fixtures ([`setup`], [`store`], [`save`], [`on_disk`]): a record
//!   path in a fresh temp dir and a store on it whose clock stands at [`NOW`];
//! - processes: any command under a umask or as an unprivileged user
//!   (`setpriv`, util-linux), run with input, and this test binary run again
//!   as a helper process.
//!
//! Promises nothing to the store's users: this is test equipment.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lifecycle_model::spec;
use lifecycle_state::{
    persist, ManualClock, Options, Progress, Quarantine, RawJson, RealFs, Record, State, Store,
    Timestamp,
};

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

/// A valid record in SLEEP, sequence 12, stored at [`STORED_TS`].
pub fn sleeping() -> Record {
    let mut r = Record::default_at(ts(STORED_TS));
    r.current_state = State::Sleep;
    r.wrapper_event_seq = 12;
    r
}

/// Sleep-cycle progress at `last_completed_step`, attempt `attempt`.
pub fn sleep_progress(last_completed_step: u64, attempt: u64) -> Progress {
    Progress {
        last_completed_step: Some(last_completed_step),
        attempt: Some(attempt),
        last_error: Some(None),
        started_at: Some(ts(STORED_TS)),
        unknown: Vec::new(),
    }
}

/// [`sleeping`] with progress `p`.
pub fn sleeping_with(p: Progress) -> Record {
    let mut r = sleeping();
    r.sleep_cycle_progress = Some(p);
    r
}

/// A quarantine from [`STORED_TS`] until `until`.
pub fn quarantine_until(until: &str) -> Quarantine {
    Quarantine {
        until_ts: ts(until),
        since_ts: ts(STORED_TS),
        reason: "earlier trouble".into(),
        unknown: Vec::new(),
    }
}

/// A valid record without the two nullable members (SPEC §1.2).
pub const MINIMAL: &str = r#"{"current_state":"DROWSY","since_ts":"2024-05-01T12:00:00Z","last_activity_ts":"2024-05-01T12:34:56.789Z","wrapper_event_seq":41,"shadow_run":false}"#;

/// `MINIMAL` in the serialized form of SPEC §3.2.
pub const MINIMAL_SERIALIZED: &str = "{\"current_state\":\"DROWSY\",\"since_ts\":\"2024-05-01T12:00:00Z\",\"last_activity_ts\":\"2024-05-01T12:34:56.789Z\",\"wrapper_event_seq\":41,\"sleep_cycle_progress\":null,\"quarantine\":null,\"shadow_run\":false}\n";

/// The serialized form of `record` (SPEC §3.2) as text.
pub fn encoded(record: &Record) -> String {
    String::from_utf8(lifecycle_state::encode(record)).expect("the encoder writes UTF-8")
}

// ---------------------------------------------------------------------------
// The file system as observed from outside
// ---------------------------------------------------------------------------

/// One entry of a [`snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotEntry {
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
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, SnapshotEntry> {
    let mut out = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let full = root.join(&rel);
        let meta =
            fs::symlink_metadata(&full).unwrap_or_else(|e| panic!("stat {}: {e}", full.display()));
        let mode = meta.permissions().mode() & 0o7777;
        let ino = meta.ino();
        let entry = if meta.file_type().is_symlink() {
            SnapshotEntry::Symlink {
                ino,
                target: fs::read_link(&full).expect("readlink"),
            }
        } else if meta.is_dir() {
            for child in fs::read_dir(&full).expect("read_dir") {
                pending.push(rel.join(child.expect("dir entry").file_name()));
            }
            SnapshotEntry::Dir { ino, mode }
        } else if meta.is_file() {
            SnapshotEntry::File {
                ino,
                mode,
                bytes: fs::read(&full).expect("read"),
            }
        } else {
            SnapshotEntry::Other { ino, mode }
        };
        out.insert(rel, entry);
    }
    out
}

/// True for the temp names SPEC §3.3 step 3 allows: `.lifecycle_state.<16
/// lowercase hex>.tmp`.
pub fn is_spec_temp_name(name: &OsStr) -> bool {
    name.to_str().is_some_and(spec::is_save_temp_name)
}

/// Names in `dir` (recursively) that look like temp files (`.lifecycle_state.*.tmp`).
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_keys()
        .filter(|rel| {
            rel.file_name()
                .and_then(OsStr::to_str)
                .is_some_and(spec::is_temp_name)
        })
        .collect()
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| {
            let name = e.expect("a directory entry").file_name();
            name.to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    names
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
// Processes
// ---------------------------------------------------------------------------

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `PROGRAM ARGS...` under `umask` (set in a child shell, since the umask
/// is process-wide and tests run on parallel threads).
pub fn under_umask(umask: &str, program: &OsStr, args: &[&OsStr]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(program)
        .args(args);
    cmd
}

/// `setpriv` arguments that drop to uid/gid 65534 with no supplementary groups.
const SETPRIV_ARGS: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/// `cmd` as an unprivileged user: uid/gid 65534 through `setpriv` when the
/// tests run as root (so DAC applies), else as the current (already
/// unprivileged) user.
pub fn unprivileged(cmd: Command) -> Command {
    if !is_root() {
        return cmd;
    }
    assert!(
        Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "setpriv (util-linux) is required to run a command as uid 65534"
    );
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(SETPRIV_ARGS)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    wrapped
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
pub const FILE_NAME: &str = spec::RECORD_FILE_NAME;
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
