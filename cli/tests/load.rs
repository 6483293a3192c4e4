//! The `lifecycle load` command (SPEC §2, §7.1, §7.2): it prints the
//! record in the §3.2 form and the outcome, exits 0 whatever the file holds
//! or whoever may read it, and writes nothing.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use common::{lifecycle, lifecycle_unprivileged};
use lifecycle_state::{decode, Record, State};
use lifecycle_testkit::fixtures::{
    is_root, record, run, set_mode, shared_tempdir, snapshot, stderr_of, stdout_of,
    FILE_NAME as NAME, MINIMAL, MINIMAL_SERIALIZED,
};

fn cli_load(path: &Path) -> std::process::Output {
    run(&mut lifecycle(&[OsStr::new("load"), path.as_os_str()]), b"")
}

/// Decodes CLI stdout, which must be one record in the serialized form.
fn stdout_record(out: &std::process::Output) -> Record {
    decode(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not a record ({e}): {}", stdout_of(out)))
}

/// SPEC §7.1, §2.3: `lifecycle load` prints the record in the §3.2 form,
/// with `null` for absent progress and quarantine, all seven members.
#[test]
fn cli_load_prints_all_seven_members_with_null_for_absent_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, MINIMAL).unwrap();
    let out = cli_load(&path);
    let stdout = stdout_of(&out);
    assert!(stdout.contains("\"sleep_cycle_progress\":null"), "{stdout}");
    assert!(stdout.contains("\"quarantine\":null"), "{stdout}");
    assert_eq!(stdout, MINIMAL_SERIALIZED);
}

/// SPEC §7.1, §7.2: a valid file: exit 0, outcome `valid` on stderr.
#[test]
fn cli_load_of_a_valid_file_exits_0_and_reports_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, MINIMAL).unwrap();
    let out = cli_load(&path);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("valid"),
        "stderr: {}",
        stderr_of(&out)
    );
    assert_eq!(stdout_record(&out), record(State::Drowsy, 41));
}

/// SPEC §7.1, §7.2: a missing file: exit 0, the default on stdout,
/// `missing` on stderr.
#[test]
fn cli_load_of_a_missing_file_exits_0_prints_the_default_and_reports_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli_load(&dir.path().join(NAME));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("missing"),
        "stderr: {}",
        stderr_of(&out)
    );
    let r = stdout_record(&out);
    assert_eq!((r.current_state, r.wrapper_event_seq), (State::Wake, 0));
    assert_eq!(r.since_ts, r.last_activity_ts);
}

/// SPEC §7.1, §7.2: a corrupt file: exit 0, the default on stdout,
/// `corrupt` on stderr.
#[test]
fn cli_load_of_a_corrupt_file_exits_0_prints_the_default_and_reports_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, b"[").unwrap();
    let out = cli_load(&path);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("corrupt"),
        "stderr: {}",
        stderr_of(&out)
    );
    let r = stdout_record(&out);
    assert_eq!((r.current_state, r.wrapper_event_seq), (State::Wake, 0));
}

/// SPEC §7.1 ("no lock, no write"), §2.2.5: loading a corrupt file leaves
/// the directory exactly as it was (no lock file, no preserved copy).
#[test]
fn cli_load_of_a_corrupt_file_leaves_the_directory_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, b"{\"current_state\":").unwrap();
    let before = snapshot(dir.path());
    let out = cli_load(&path);
    assert!(out.status.code().is_some(), "killed by a signal");
    assert_eq!(snapshot(dir.path()), before);
}

/// SPEC §7.2 (`load` always exits 0): a directory at the path prints the
/// default, reports `unreadable` and exits 0.
#[test]
fn cli_load_of_a_directory_exits_0_and_reports_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::create_dir(&path).unwrap();
    let out = cli_load(&path);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("unreadable"),
        "stderr: {}",
        stderr_of(&out)
    );
}

/// A root-owned (or, when not root, the caller's own) record file with
/// mode 0600 (0000 when not root) in a traversable directory, which the
/// unprivileged CLI cannot read.
fn unreadable_record() -> (tempfile::TempDir, PathBuf) {
    let dir = shared_tempdir();
    let path = dir.path().join(NAME);
    fs::write(&path, MINIMAL).unwrap();
    set_mode(&path, if is_root() { 0o600 } else { 0o000 });
    (dir, path)
}

/// SPEC §2.1 (`EACCES`), §7.1: `lifecycle load` as uid 65534 on a
/// root-owned 0600 file prints the default and reports `unreadable`.
#[test]
fn cli_load_of_a_file_the_caller_cannot_read_prints_the_default_and_reports_unreadable() {
    let (_dir, path) = unreadable_record();
    let out = run(
        &mut lifecycle_unprivileged(&[OsStr::new("load"), path.as_os_str()]),
        b"",
    );
    let stderr = stderr_of(&out);
    assert!(stderr.contains("unreadable"), "stderr: {stderr}");
    let r = stdout_record(&out);
    assert_eq!((r.current_state, r.wrapper_event_seq), (State::Wake, 0));
    assert_eq!(r.since_ts, r.last_activity_ts);
}

/// SPEC §7.2: `lifecycle load` exits 0 even when the file cannot be read.
#[test]
fn cli_load_of_a_file_the_caller_cannot_read_exits_0() {
    let (_dir, path) = unreadable_record();
    let out = run(
        &mut lifecycle_unprivileged(&[OsStr::new("load"), path.as_os_str()]),
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
}
