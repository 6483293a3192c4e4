//! Integration tests for load (SPEC §2); the `lifecycle load` command is
//! tested in `cli/tests/load.rs`.
//!
//! Every path state (missing, empty, directory, FIFO, socket, device,
//! dangling or looping symlink, a file in the way of the path, a name too
//! long, a file the caller may not read, sizes around 1 MiB, a huge sparse
//! file, pathological nesting) must give a valid record and the right
//! outcome, without blocking, crashing or reading more than 1 MiB + 1 byte.
//! The library is driven with a `ManualClock` so the default record's
//! timestamps are known.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use lifecycle_state::persist::load_with;
use lifecycle_state::{
    save, Clock, Corruption, LoadOutcome, Loaded, ManualClock, RealFs, Record, State,
};
use lifecycle_testkit::faulty_fs::Op;
use lifecycle_testkit::fixtures::*;
use lifecycle_testkit::FaultyFs;

const NAME: &str = "lifecycle_state.json";
const MIB: usize = 1_048_576;
/// A stack as small as a default spawned thread's: deep recursion over
/// 100,000 levels would overflow it.
const SMALL_STACK: usize = 2 * 1024 * 1024;

fn clock() -> ManualClock {
    ManualClock::at(&ts("2031-02-03T04:05:06.123456Z"))
}

fn load_at(path: &Path) -> (Loaded, ManualClock) {
    let clock = clock();
    let loaded = load_with(&RealFs, &clock, path);
    (loaded, clock)
}

/// SPEC §1.7: the record is the default at the clock's now.
fn assert_default(loaded: &Loaded, clock: &ManualClock) {
    assert_eq!(
        loaded.record,
        Record::default_at(clock.now()),
        "{}",
        loaded.outcome
    );
}

fn assert_unreadable(loaded: &Loaded) {
    assert!(
        matches!(loaded.outcome, LoadOutcome::Unreadable(_)),
        "expected Unreadable, got {}",
        loaded.outcome
    );
}

fn assert_corrupt(loaded: &Loaded) {
    assert!(
        matches!(loaded.outcome, LoadOutcome::Corrupt(_)),
        "expected Corrupt, got {}",
        loaded.outcome
    );
}

/// Runs `f` on a thread with a 2 MiB stack and returns its result (a stack
/// overflow aborts the test binary, a panic fails the test).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread panicked")
}

/// `MINIMAL` with one more top-level member `"deep":value`.
fn minimal_with_deep(value: &str) -> String {
    format!("{},\"deep\":{value}}}", &MINIMAL[..MINIMAL.len() - 1])
}

// ---------------------------------------------------------------------------
// The default record (SPEC §1.7)
// ---------------------------------------------------------------------------

/// SPEC §1.7: the default is WAKE, sequence 0, not a shadow run, no
/// progress, no quarantine, and both timestamps are the one now of the load.
#[test]
fn the_default_record_is_wake_seq_0_not_shadow_run_with_both_timestamps_at_now() {
    let dir = tempfile::tempdir().unwrap();
    let (loaded, clock) = load_at(&dir.path().join(NAME));
    let r = &loaded.record;
    assert_eq!(r.current_state, State::Wake);
    assert_eq!(r.wrapper_event_seq, 0);
    assert!(!r.shadow_run);
    assert_eq!(r.sleep_cycle_progress, None);
    assert_eq!(r.quarantine, None);
    assert!(r.unknown.is_empty());
    assert_eq!(r.since_ts, clock.now());
    assert_eq!(r.last_activity_ts, clock.now());
}

// ---------------------------------------------------------------------------
// Path states (SPEC §2.1, §2.2)
// ---------------------------------------------------------------------------

/// SPEC §2.1: ENOENT gives the default and `Missing`.
#[test]
fn a_missing_file_gives_the_default_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (loaded, clock) = load_at(&dir.path().join(NAME));
    assert!(
        matches!(loaded.outcome, LoadOutcome::Missing),
        "{}",
        loaded.outcome
    );
    assert_default(&loaded, &clock);
}

/// SPEC §1.6.4, §2.1: an empty file gives the default and `Corrupt`.
#[test]
fn an_empty_file_gives_the_default_and_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    File::create(&path).unwrap();
    let (loaded, clock) = load_at(&path);
    assert_corrupt(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1 (`EISDIR`): a directory at the path gives the default and
/// `Unreadable`.
#[test]
fn a_directory_gives_the_default_and_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::create_dir(&path).unwrap();
    let (loaded, clock) = load_at(&path);
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1, §2.2.2: a FIFO with no writer gives the default and
/// `Unreadable` without blocking. A watchdog opens the FIFO for writing if
/// the load is still stuck after a minute (releasing it) and fails the test.
#[test]
fn a_fifo_gives_the_default_and_unreadable_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    mkfifo(&path);
    let (tx, rx) = mpsc::channel();
    let loader_path = path.clone();
    let loader = std::thread::spawn(move || {
        let clock = clock();
        let loaded = load_with(&RealFs, &clock, &loader_path);
        tx.send((loaded, clock)).expect("send");
    });
    let (loaded, clock) = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(result) => result,
        Err(_) => {
            // Release a reader blocked in open(2) so the test can end.
            let _writer = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&path);
            panic!("load blocked on a FIFO (SPEC §2.2.2)");
        }
    };
    loader.join().unwrap();
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1 ("socket ... not a regular file"): a Unix socket gives the
/// default and `Unreadable`.
#[test]
fn a_unix_socket_gives_the_default_and_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    let _listener = UnixListener::bind(&path).expect("bind");
    let (loaded, clock) = load_at(&path);
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1 ("device ... not a regular file"), §2.2.2: a symlink to
/// `/dev/null` is a device, so `Unreadable`, not an empty (corrupt) file.
#[test]
fn a_symlink_to_dev_null_is_unreadable_not_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    symlink("/dev/null", &path).unwrap();
    let (loaded, clock) = load_at(&path);
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1, §2.2.3-4: a symlink to `/dev/zero` (endless content) is an
/// `Unreadable` device and does not exhaust memory.
#[test]
fn a_symlink_to_dev_zero_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    symlink("/dev/zero", &path).unwrap();
    let (loaded, clock) = load_at(&path);
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1 ("including a dangling symlink"): gives the default and `Missing`.
#[test]
fn a_dangling_symlink_gives_the_default_and_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    symlink(dir.path().join("nowhere.json"), &path).unwrap();
    let (loaded, clock) = load_at(&path);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Missing),
        "{}",
        loaded.outcome
    );
    assert_default(&loaded, &clock);
}

/// SPEC §2.2.1: a symlink to a valid regular file is read as that file.
#[test]
fn a_symlink_to_a_valid_file_is_read_as_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    fs::write(&real, MINIMAL).unwrap();
    let path = dir.path().join(NAME);
    symlink(&real, &path).unwrap();
    let (loaded, _) = load_at(&path);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "{}",
        loaded.outcome
    );
    assert_eq!(loaded.record, record(State::Drowsy, 41));
}

/// SPEC §2.1 (`ELOOP`): a symlink loop gives the default and `Unreadable`.
#[test]
fn a_symlink_loop_gives_the_default_and_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    let other = dir.path().join("other");
    symlink(&other, &path).unwrap();
    symlink(&path, &other).unwrap();
    let (loaded, clock) = load_at(&path);
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1 (`ENOTDIR`): a regular file in place of the directory gives
/// the default and `Unreadable`, not `Missing`.
#[test]
fn a_regular_file_in_place_of_the_directory_gives_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, b"x").unwrap();
    let (loaded, clock) = load_at(&file.join(NAME));
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1 (`ENAMETOOLONG`): a 300-byte file name gives the default and
/// `Unreadable`.
#[test]
fn a_name_too_long_gives_the_default_and_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let (loaded, clock) = load_at(&dir.path().join("n".repeat(300)));
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// Loads a valid file through a read that fails with `errno`.
fn load_with_failing_read(errno: i32) -> (Loaded, ManualClock, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, MINIMAL).unwrap();
    let fs = FaultyFs::new().fail(Op::ReadBounded, 1, errno);
    let clock = clock();
    let loaded = load_with(&fs, &clock, &path);
    (loaded, clock, fs.injected())
}

/// SPEC §2.1 (`EIO`): a read error gives the default and `Unreadable`.
#[test]
fn an_eio_while_reading_gives_the_default_and_unreadable() {
    let (loaded, clock, injected) = load_with_failing_read(libc::EIO);
    assert_eq!(injected, 1);
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.1 (`EACCES`): a permission error gives the default and
/// `Unreadable` (injected: root bypasses DAC; see the CLI test below for the
/// real thing).
#[test]
fn an_eacces_while_reading_gives_the_default_and_unreadable() {
    let (loaded, clock, injected) = load_with_failing_read(libc::EACCES);
    assert_eq!(injected, 1);
    assert_unreadable(&loaded);
    assert_default(&loaded, &clock);
}

/// SPEC §2.2.5: load takes no lock and writes nothing: its only file-system
/// call is the bounded read.
#[test]
fn load_makes_one_bounded_read_and_no_other_call() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, b"{ corrupt").unwrap();
    let fs = FaultyFs::new();
    let _ = load_with(&fs, &clock(), &path);
    assert_eq!(fs.ops(), vec![Op::ReadBounded]);
}

/// SPEC §2.2.3: load asks for at most 1,048,577 bytes.
#[test]
fn load_reads_at_most_1_mib_plus_1_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, MINIMAL).unwrap();
    let fs = FaultyFs::new();
    let _ = load_with(&fs, &clock(), &path);
    let calls = fs.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].arg, Some(MIB as u64 + 1));
}

// ---------------------------------------------------------------------------
// Size (SPEC §1.6.1, §2.2.3)
// ---------------------------------------------------------------------------

/// `MINIMAL` padded with trailing spaces to exactly `len` bytes.
fn padded_minimal(len: usize) -> Vec<u8> {
    let mut bytes = MINIMAL.as_bytes().to_vec();
    bytes.resize(len, b' ');
    bytes
}

/// SPEC §1.6.1: exactly 1,048,576 bytes is not corrupt for size.
#[test]
fn a_valid_file_of_exactly_1_mib_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, padded_minimal(MIB)).unwrap();
    let (loaded, _) = load_at(&path);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "{}",
        loaded.outcome
    );
    assert_eq!(loaded.record, record(State::Drowsy, 41));
}

/// SPEC §1.6.1: 1,048,577 bytes is corrupt as too large.
#[test]
fn a_file_of_1_mib_plus_1_byte_is_corrupt_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, padded_minimal(MIB + 1)).unwrap();
    let (loaded, clock) = load_at(&path);
    match &loaded.outcome {
        LoadOutcome::Corrupt(Corruption::TooLarge { len }) => assert_eq!(*len, MIB + 1),
        other => panic!("expected TooLarge, got {other}"),
    }
    assert_default(&loaded, &clock);
}

/// SPEC §2.2.3: an 8 GiB sparse file is too large after reading exactly
/// 1,048,577 bytes (a whole read would take 8 GiB of memory).
#[test]
fn a_huge_sparse_file_is_too_large_after_reading_only_1_mib_plus_1_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    File::create(&path)
        .unwrap()
        .set_len(8 << 30)
        .expect("a sparse 8 GiB file");
    let (loaded, clock) = load_at(&path);
    match &loaded.outcome {
        LoadOutcome::Corrupt(Corruption::TooLarge { len }) => assert_eq!(*len, MIB + 1),
        other => panic!("expected TooLarge, got {other}"),
    }
    assert_default(&loaded, &clock);
}

// ---------------------------------------------------------------------------
// Content (SPEC §1.1.6, §1.6, §2.2.4, §2.3)
// ---------------------------------------------------------------------------

/// SPEC §2.1, §2.3: a valid file returns the stored record, every member.
#[test]
fn a_valid_file_returns_the_stored_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, encoded(&full_record())).unwrap();
    let (loaded, _) = load_at(&path);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "{}",
        loaded.outcome
    );
    assert_eq!(loaded.record, full_record());
}

/// SPEC §1.6 ("the load reason names ... the field path"): a corrupt known
/// member is named in the outcome.
#[test]
fn a_corrupt_field_is_named_in_the_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(
        &path,
        MINIMAL.replace("\"wrapper_event_seq\":41", "\"wrapper_event_seq\":-1"),
    )
    .unwrap();
    let (loaded, clock) = load_at(&path);
    match &loaded.outcome {
        LoadOutcome::Corrupt(c) => assert_eq!(c.field(), Some("wrapper_event_seq"), "{c}"),
        other => panic!("expected Corrupt, got {other}"),
    }
    assert!(loaded.outcome.to_string().contains("wrapper_event_seq"));
    assert_default(&loaded, &clock);
}

/// SPEC §1.1.6, §2.2.4: a file of 1,000,000 `[` is corrupt, on a 2 MiB
/// stack, without crashing.
#[test]
fn a_file_of_a_million_open_brackets_is_corrupt_without_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, "[".repeat(1_000_000)).unwrap();
    let loaded = on_small_stack(move || {
        let clock = clock();
        let loaded = load_with(&RealFs, &clock, &path);
        (
            matches!(loaded.outcome, LoadOutcome::Corrupt(_)),
            loaded.record == Record::default_at(clock.now()),
        )
    });
    assert_eq!(loaded, (true, true), "(corrupt, default)");
}

/// SPEC §1.1.6: 100,000 nested arrays inside an unknown member load as
/// valid on a 2 MiB stack, the nesting kept verbatim.
#[test]
fn a_record_with_100000_nested_arrays_in_an_unknown_member_loads_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(&path, minimal_with_deep(&nested)).unwrap();
    let (valid, kept) = on_small_stack(move || {
        let loaded = load_with(&RealFs, &clock(), &path);
        let kept = loaded
            .record
            .unknown
            .first()
            .map(|(n, v)| (n.clone(), v.as_str() == nested));
        (matches!(loaded.outcome, LoadOutcome::Valid), kept)
    });
    assert!(valid, "not valid");
    assert_eq!(kept, Some(("deep".to_string(), true)));
}

/// SPEC §1.1.6: 100,000 nested objects inside an unknown member load as
/// valid on a 2 MiB stack.
#[test]
fn a_record_with_100000_nested_objects_in_an_unknown_member_loads_valid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    let nested = format!("{}0{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    fs::write(&path, minimal_with_deep(&nested)).unwrap();
    let valid = on_small_stack(move || {
        matches!(
            load_with(&RealFs, &clock(), &path).outcome,
            LoadOutcome::Valid
        )
    });
    assert!(valid, "not valid");
}

/// SPEC §1.1.6 ("no reader or writer recurses"), §3.2: a record with
/// 100,000 nested arrays survives save and load on a 2 MiB stack.
#[test]
fn a_record_with_100000_nested_arrays_survives_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.json");
    let target = dir.path().join(NAME);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(&source, minimal_with_deep(&nested)).unwrap();
    let target_in = target.clone();
    let same = on_small_stack(move || {
        let first = load_with(&RealFs, &clock(), &source);
        save(&target_in, &first.record).expect("save");
        let second = load_with(&RealFs, &clock(), &target_in);
        matches!(second.outcome, LoadOutcome::Valid) && second.record == first.record
    });
    assert!(same, "the record did not survive save and load");
    let saved = fs::read_to_string(&target).unwrap();
    assert!(saved.contains(&format!("\"deep\":{nested}")));
}

/// SPEC §2.3: a file without `sleep_cycle_progress` and `quarantine` loads
/// with both as null, and the record re-encodes all seven members.
#[test]
fn absent_progress_and_quarantine_come_back_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(NAME);
    fs::write(&path, MINIMAL).unwrap();
    let (loaded, _) = load_at(&path);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "{}",
        loaded.outcome
    );
    assert_eq!(loaded.record.sleep_cycle_progress, None);
    assert_eq!(loaded.record.quarantine, None);
    assert_eq!(encoded(&loaded.record), MINIMAL_SERIALIZED);
}
