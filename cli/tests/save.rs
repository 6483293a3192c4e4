//! The `lifecycle save` command (SPEC §3, §4.5.2, §7): it stores the record
//! from stdin with the modes SPEC §3.6 requires under any umask, refuses an
//! invalid record naming the field, and exits 1 on an I/O failure, also as
//! an unprivileged user.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use common::{
    lifecycle, lifecycle_under_umask, lifecycle_unprivileged, lifecycle_unprivileged_under_umask,
};
use lifecycle_state::persist::SaveStep;
use lifecycle_state::State;
use lifecycle_testkit::fixtures::{
    encoded, full_record, give_to_unprivileged, is_root, mode_of, record, run, set_mode,
    shared_tempdir, snapshot, stderr_of, temp_files, FILE_NAME as NAME,
};

/// The record every save in this file writes.
fn new_bytes() -> Vec<u8> {
    lifecycle_state::encode(&full_record())
}

fn cli_save_under_umask(umask: &str, target: &Path) {
    let out = run(
        &mut lifecycle_under_umask(umask, &[OsStr::new("save"), target.as_os_str()]),
        &new_bytes(),
    );
    assert!(
        out.status.success(),
        "lifecycle save under umask {umask} failed: {:?} {}",
        out.status,
        stderr_of(&out)
    );
    assert_eq!(fs::read(target).unwrap(), new_bytes());
}

/// SPEC §3.3 step 3, §3.6: under umask 0077 the record is still 0600.
#[test]
fn cli_save_under_umask_0077_writes_the_record_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    cli_save_under_umask("0077", &target);
    assert_eq!(mode_of(&target), 0o600);
}

/// SPEC §3.3 step 3 ("if the umask stripped bits, fchmod it to 0600"),
/// §3.6: umask 0277 strips the owner's write bit; the record is still 0600.
#[test]
fn cli_save_under_umask_0277_writes_the_record_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    cli_save_under_umask("0277", &target);
    assert_eq!(mode_of(&target), 0o600);
}

/// SPEC §3.3 step 2, §3.6: under umask 0077 missing directories are 0700.
#[test]
fn cli_save_under_umask_0077_creates_missing_directories_with_mode_0700() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = a.join("b");
    cli_save_under_umask("0077", &b.join(NAME));
    assert_eq!((mode_of(&a), mode_of(&b)), (0o700, 0o700));
}

/// SPEC §3.3 step 2, §3.6: umask 0277 would make new directories 0500;
/// they must still be 0700, nested parents included.
#[test]
fn cli_save_under_umask_0277_creates_missing_directories_with_mode_0700() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = a.join("b");
    cli_save_under_umask("0277", &b.join(NAME));
    assert_eq!((mode_of(&a), mode_of(&b)), (0o700, 0o700));
}

/// SPEC §4.5.2, §7.1 (`save` runs under the lock): the lock file the CLI
/// creates is 0600 even under umask 0277.
#[test]
fn cli_save_under_umask_0277_creates_the_lock_file_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    cli_save_under_umask("0277", &target);
    assert_eq!(mode_of(&dir.path().join(".lifecycle.lock")), 0o600);
}

/// SPEC §4.5.2, §3.3 step 2: after a save under umask 0277 by an
/// unprivileged user, the same user's next save still succeeds (a lock file
/// left 0400 would refuse every later writer with EACCES).
#[test]
fn a_second_cli_save_by_the_same_unprivileged_user_under_umask_0277_succeeds() {
    let dir = shared_tempdir();
    let state_dir = dir.path().join("state");
    fs::create_dir(&state_dir).unwrap();
    give_to_unprivileged(&state_dir);
    let target = state_dir.join(NAME);
    let args = [OsStr::new("save"), target.as_os_str()];
    let first = run(
        &mut lifecycle_unprivileged_under_umask("0277", &args),
        &lifecycle_state::encode(&record(State::Drowsy, 1)),
    );
    assert_eq!(first.status.code(), Some(0), "first: {}", stderr_of(&first));
    let second = run(
        &mut lifecycle_unprivileged_under_umask("0277", &args),
        &new_bytes(),
    );
    assert_eq!(
        second.status.code(),
        Some(0),
        "second: {}",
        stderr_of(&second)
    );
    assert_eq!(fs::read(&target).unwrap(), new_bytes());
}

/// An old record in a directory an unprivileged user cannot write: root-owned
/// 0755 when the tests run as root (the CLI then runs as uid 65534), else
/// 0555. `readable` makes the record and a pre-made lock file accessible to
/// that user so the save gets past the lock and the load.
fn read_only_dir_with_old_record(readable: bool) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = shared_tempdir();
    let target = dir.path().join(NAME);
    let old = lifecycle_state::encode(&record(State::Drowsy, 1));
    fs::write(&target, &old).unwrap();
    set_mode(&target, if readable { 0o644 } else { 0o600 });
    if readable {
        let lock = dir.path().join(".lifecycle.lock");
        fs::write(&lock, b"").unwrap();
        set_mode(&lock, 0o666);
    }
    if !is_root() {
        set_mode(dir.path(), 0o555);
    }
    (dir, target, old)
}

fn restore_writable(dir: &Path) {
    set_mode(dir, 0o755);
}

/// SPEC §3.5.1, §7.2: `lifecycle save` as an unprivileged user into a
/// directory it cannot write exits 1; the old record is intact, nothing is
/// added.
#[test]
fn cli_save_as_an_unprivileged_user_into_a_read_only_directory_exits_1() {
    let (dir, target, old) = read_only_dir_with_old_record(false);
    let before = snapshot(dir.path());
    let out = run(
        &mut lifecycle_unprivileged(&[OsStr::new("save"), target.as_os_str()]),
        &new_bytes(),
    );
    let after = snapshot(dir.path());
    restore_writable(dir.path());
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr_of(&out));
    assert_eq!(fs::read(&target).unwrap(), old);
    assert_eq!(after, before, "the directory changed");
}

/// SPEC §3.3 step 3, §3.5.1, §7.2: with the lock file and the record
/// accessible but the directory read-only, `lifecycle save` fails at the temp
/// file (EACCES), exits 1, keeps the old record and leaves no temp file.
#[test]
fn cli_save_as_an_unprivileged_user_fails_at_the_temp_file_and_exits_1() {
    let (dir, target, old) = read_only_dir_with_old_record(true);
    let out = run(
        &mut lifecycle_unprivileged(&[OsStr::new("save"), target.as_os_str()]),
        &new_bytes(),
    );
    let temps = temp_files(dir.path());
    restore_writable(dir.path());
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&SaveStep::CreateTemp.to_string()),
        "stderr does not name the temp step: {stderr}"
    );
    assert_eq!(fs::read(&target).unwrap(), old);
    assert_eq!(temps, Vec::<PathBuf>::new());
}

/// SPEC §7.1, §7.2: `lifecycle save PATH` stores the stdin record and exits 0.
#[test]
fn cli_save_exits_0_and_stores_the_record_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    let out = run(
        &mut lifecycle(&[OsStr::new("save"), target.as_os_str()]),
        &new_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert_eq!(fs::read(&target).unwrap(), new_bytes());
}

/// SPEC §7.2, §3.1: an invalid record on stdin exits 2, names the field on
/// stderr and creates nothing (not even the missing directory).
#[test]
fn cli_save_exits_2_and_names_the_field_for_an_invalid_record() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("state").join(NAME);
    let invalid = encoded(&record(State::Wake, 5)).replace(
        "\"wrapper_event_seq\":5",
        "\"wrapper_event_seq\":9007199254740992",
    );
    let out = run(
        &mut lifecycle(&[OsStr::new("save"), target.as_os_str()]),
        invalid.as_bytes(),
    );
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("wrapper_event_seq"), "stderr: {stderr}");
    assert!(
        !dir.path().join("state").exists(),
        "a directory was created"
    );
}

/// SPEC §7.2: an I/O failure (a directory at the target) exits 1; the
/// directory is untouched and no temp file remains.
#[test]
fn cli_save_exits_1_when_a_directory_is_at_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    fs::create_dir(&target).unwrap();
    fs::write(target.join("inside"), b"x").unwrap();
    let inside = snapshot(&target);
    let out = run(
        &mut lifecycle(&[OsStr::new("save"), target.as_os_str()]),
        &new_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr_of(&out));
    assert_eq!(snapshot(&target), inside, "the directory changed");
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

/// A valid record whose serialized form, padded inside a string, is
/// exactly `len` bytes.
fn record_of_len(len: usize) -> Vec<u8> {
    let base = lifecycle_state::encode(&record(State::Wake, 1));
    let text = String::from_utf8(base).expect("UTF-8");
    let head = text.trim_end().strip_suffix('}').expect("an object");
    let empty = format!("{head},\"pad\":\"\"}}\n");
    let pad = "x".repeat(len - empty.len());
    format!("{head},\"pad\":\"{pad}\"}}\n").into_bytes()
}

/// SPEC §7.1 (`save` reads at most 1 MiB), §1.6.1: a record of exactly
/// 1 MiB on stdin is saved whole.
#[test]
fn cli_save_takes_a_record_of_exactly_1_mib_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    let bytes = record_of_len(lifecycle_model::spec::MAX_FILE_BYTES);
    let out = run(
        &mut lifecycle(&[OsStr::new("save"), target.as_os_str()]),
        &bytes,
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert_eq!(fs::read(&target).unwrap(), bytes);
}

/// SPEC §7.2, §1.6.1: one byte more on stdin is an invalid record: exit 2,
/// nothing written.
#[test]
fn cli_save_refuses_1_mib_and_one_byte_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    let mut bytes = record_of_len(lifecycle_model::spec::MAX_FILE_BYTES);
    bytes.push(b' ');
    let out = run(
        &mut lifecycle(&[OsStr::new("save"), target.as_os_str()]),
        &bytes,
    );
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr_of(&out));
    assert!(!target.exists(), "a record was written");
}
