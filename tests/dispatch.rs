//! `Store::dispatch` on a real directory (SPEC §4.3-§4.7); the
//! `lifecycle dispatch` and `lifecycle status` commands are tested in
//! `cli/tests/dispatch.rs`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use lifecycle_state::store::{Found, LOCK_FILE_NAME};
use lifecycle_state::{
    Clock, Event, Guards, LoadOutcome, Options, RawJson, Record, Shutdown, State, StoreError,
};
use lifecycle_testkit::fixtures::{
    names, on_disk, save, setup, snapshot, store, store_with, ts, FILE_NAME, NOW, STORED_TS,
};

/// `NOW` in the form of a preserved copy's suffix (SPEC §4.4.1).
const NOW_SUFFIX: &str = "20240501T120000.000000Z";
const MAX_SEQ: u64 = 9_007_199_254_740_991;
const MIB: usize = 1_048_576;

fn record(state: State, seq: u64) -> Record {
    let mut r = Record::default_at(ts(STORED_TS));
    r.current_state = state;
    r.wrapper_event_seq = seq;
    r
}

fn shadow() -> Options {
    Options {
        shadow_run: true,
        ..Options::default()
    }
}

fn corrupt_copies(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with("lifecycle_state.json.corrupt-"))
        .collect()
}

fn noop() -> Guards {
    Guards::default()
}

// ---------------------------------------------------------------------------
// §4.6: no-ops write nothing
// ---------------------------------------------------------------------------

/// SPEC §4.3 step 6, §4.6: a pure no-op on a valid file leaves it untouched
/// (same bytes, same inode, same mtime) and reports `wrote == false`.
#[test]
fn pure_noop_on_a_valid_file_writes_nothing() {
    let (dir, path) = setup();
    let noops = [
        (State::Wake, Event::Tick, noop()),
        (State::Wake, Event::HibernationGraceExpired, noop()),
        (State::Drowsy, Event::SleepEligible, noop()),
        (State::Drowsy, Event::Idle30Min, noop()),
        (State::Sleep, Event::SleepCycleDone, noop()),
        (State::Hibernation, Event::Idle5Min, noop()),
    ];
    for (state, event, guards) in noops {
        save(&path, &record(state, 7));
        let s = store(&path);
        drop(s.lock().unwrap()); // creates the lock file before the snapshot
        let before = snapshot(dir.path());
        let mtime_before = std::fs::metadata(&path).unwrap().modified().unwrap();
        let d = s.dispatch(event, guards).unwrap();
        assert!(!d.update.wrote, "{state} + {event} wrote");
        assert_eq!(d.update.found, Found::Valid);
        assert_eq!(d.from, state);
        assert_eq!(d.to, state);
        assert_eq!(snapshot(dir.path()), before, "{state} + {event}");
        let mtime_after = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(mtime_after, mtime_before, "{state} + {event} touched mtime");
    }
}

/// SPEC §4.6: a pure no-op on a missing file creates no record file.
#[test]
fn noop_on_a_missing_file_writes_nothing() {
    let (dir, path) = setup();
    let d = store(&path).dispatch(Event::Tick, noop()).unwrap();
    assert!(!d.update.wrote);
    assert_eq!(d.update.found, Found::Missing);
    assert_eq!(d.update.record, Record::default_at(ts(NOW)));
    assert!(!path.exists(), "a no-op created the record file");
    assert_eq!(names(dir.path()), vec![LOCK_FILE_NAME.to_string()]);
}

/// SPEC §4.6, §1.7: a transition on a missing file writes the default with
/// the change applied, all timestamps at the one `now`.
#[test]
fn transition_on_a_missing_file_writes_the_changed_default() {
    let (_dir, path) = setup();
    let d = store(&path).dispatch(Event::Idle5Min, noop()).unwrap();
    assert!(d.update.wrote);
    assert_eq!(d.update.found, Found::Missing);
    let mut expected = Record::default_at(ts(NOW));
    expected.current_state = State::Drowsy;
    assert_eq!(on_disk(&path), expected);
}

/// SPEC §4.3 step 4, §4.6: a flip of the machine's `shadow_run` flag alone
/// is a change and is written, in both directions.
#[test]
fn shadow_run_flag_flips_are_written() {
    let (_dir, path) = setup();
    save(&path, &record(State::Drowsy, 3));
    let on = store_with(&path, shadow())
        .dispatch(Event::Tick, noop())
        .unwrap();
    assert!(on.update.wrote);
    let r = on_disk(&path);
    assert!(r.shadow_run);
    assert_eq!((r.current_state, r.wrapper_event_seq), (State::Drowsy, 3));

    let off = store(&path).dispatch(Event::Tick, noop()).unwrap();
    assert!(off.update.wrote);
    assert!(!on_disk(&path).shadow_run);
}

/// SPEC §1.5, §4.3: a dispatch keeps unknown members byte for byte.
#[test]
fn unknown_members_survive_a_dispatch() {
    let (_dir, path) = setup();
    let mut r = record(State::Wake, 1);
    r.unknown = vec![
        ("zeta".into(), RawJson::parse("1.50").unwrap()),
        ("alpha".into(), RawJson::parse("{\"x\":[1e400]}").unwrap()),
    ];
    save(&path, &r);
    store(&path).dispatch(Event::Idle5Min, noop()).unwrap();
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    assert!(
        text.ends_with(",\"zeta\":1.50,\"alpha\":{\"x\":[1e400]}}\n"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// §4.3 step 3: overflow
// ---------------------------------------------------------------------------

/// SPEC §4.3 step 3: at seq 2^53−1 every activity event fails with
/// `Overflow` and the file stays byte-identical (same inode).
#[test]
fn overflow_at_max_seq_fails_and_leaves_the_file_byte_identical() {
    let (dir, path) = setup();
    save(&path, &record(State::Hibernation, MAX_SEQ));
    let s = store(&path);
    drop(s.lock().unwrap()); // creates the lock file before the snapshot
    let before = snapshot(dir.path());
    for event in [
        Event::HeartbeatRefresh,
        Event::RequestArrived,
        Event::WakeSignal,
    ] {
        let result = s.dispatch(event, noop());
        assert!(
            matches!(result, Err(StoreError::Overflow(_))),
            "{event}: {result:?}"
        );
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{event} touched the directory"
        );
    }
}

/// SPEC §4.3 step 3: seq 2^53−2 bumps to 2^53−1 without error.
#[test]
fn seq_one_below_max_bumps_to_max() {
    let (_dir, path) = setup();
    save(&path, &record(State::Sleep, MAX_SEQ - 1));
    let d = store(&path)
        .dispatch(Event::RequestArrived, noop())
        .unwrap();
    assert_eq!(d.update.record.wrapper_event_seq, MAX_SEQ);
    let r = on_disk(&path);
    assert_eq!(r.wrapper_event_seq, MAX_SEQ);
    assert_eq!(r.current_state, State::Wake);
}

/// SPEC §4.3 step 3: a non-activity transition at seq 2^53−1 still works.
#[test]
fn non_activity_transition_at_max_seq_is_not_an_overflow() {
    let (_dir, path) = setup();
    save(&path, &record(State::Wake, MAX_SEQ));
    let d = store(&path).dispatch(Event::Idle5Min, noop()).unwrap();
    assert_eq!(d.to, State::Drowsy);
    assert_eq!(on_disk(&path).wrapper_event_seq, MAX_SEQ);
}

// ---------------------------------------------------------------------------
// §4.4: corrupt files
// ---------------------------------------------------------------------------

/// SPEC §4.4.1, §4.6: a corrupt file's bytes are preserved exactly as
/// `F.corrupt-<now>` and the default is written, even for a no-op event.
#[test]
fn corrupt_file_is_preserved_exactly_and_healed_by_a_noop_event() {
    let (dir, path) = setup();
    let corrupt = b"{\"current_state\":\"WAKE\",\x00 not json \xff".to_vec();
    std::fs::write(&path, &corrupt).unwrap();
    let d = store(&path).dispatch(Event::Tick, noop()).unwrap();

    let copy = dir.path().join(format!("{FILE_NAME}.corrupt-{NOW_SUFFIX}"));
    assert!(d.update.wrote, "a corrupt file must be healed");
    match &d.update.found {
        Found::Corrupt { preserved_as, .. } => assert_eq!(preserved_as, &copy),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(std::fs::read(&copy).unwrap(), corrupt);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        lifecycle_state::encode(&Record::default_at(ts(NOW)))
    );
}

/// SPEC §4.4, §4.3 step 5: after preserving, the event applies to the default.
#[test]
fn corrupt_file_is_replaced_by_the_default_with_the_event_applied() {
    let (_dir, path) = setup();
    std::fs::write(&path, b"[]").unwrap();
    let d = store(&path).dispatch(Event::Idle5Min, noop()).unwrap();
    assert_eq!((d.from, d.to), (State::Wake, State::Drowsy));
    let mut expected = Record::default_at(ts(NOW));
    expected.current_state = State::Drowsy;
    assert_eq!(on_disk(&path), expected);
}

/// SPEC §4.4.1: a corrupt file larger than 1 MiB is preserved whole; the
/// load bound of §2.2.3 does not apply to the copy.
#[test]
fn corrupt_file_larger_than_one_mib_is_preserved_whole() {
    let (dir, path) = setup();
    let mut big = Vec::with_capacity(2 * MIB + 3);
    big.extend_from_slice(b"{\"pad\":\"");
    while big.len() < 2 * MIB {
        big.extend_from_slice(b"0123456789abcdef");
    }
    big.extend_from_slice(b"\"}\n");
    std::fs::write(&path, &big).unwrap();
    let d = store(&path).dispatch(Event::Tick, noop()).unwrap();
    assert!(matches!(d.update.found, Found::Corrupt { .. }));
    let copies = corrupt_copies(dir.path());
    assert_eq!(copies.len(), 1);
    let preserved = std::fs::read(dir.path().join(&copies[0])).unwrap();
    assert_eq!(preserved.len(), big.len());
    assert!(
        preserved == big,
        "the preserved copy differs from the original"
    );
}

/// SPEC §4.4.1, §3.3 step 3, §3.6: the preserved copy is written with the
/// save protocol, so it has mode 0600 whatever the corrupt file's mode was.
#[test]
fn preserved_corrupt_copy_has_mode_0600() {
    let (dir, path) = setup();
    std::fs::write(&path, b"not json").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    store(&path).dispatch(Event::Tick, noop()).unwrap();
    let copies = corrupt_copies(dir.path());
    assert_eq!(copies.len(), 1);
    let mode = std::fs::metadata(dir.path().join(&copies[0]))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o600, "preserved copy mode is {mode:o}");
}

/// SPEC §2.2.1, §4.4.1: when the state path is a symlink to a corrupt file,
/// what is preserved is the file's bytes (a regular file), not the link.
#[test]
fn corrupt_file_behind_a_symlink_is_preserved_as_bytes() {
    let (dir, path) = setup();
    let target = dir.path().join("elsewhere.json");
    std::fs::write(&target, b"{oops").unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    store(&path).dispatch(Event::Tick, noop()).unwrap();
    // The target may change later; the preserved copy must not.
    std::fs::write(&target, b"rewritten").unwrap();
    let copies = corrupt_copies(dir.path());
    assert_eq!(copies.len(), 1);
    let copy = dir.path().join(&copies[0]);
    assert!(
        std::fs::symlink_metadata(&copy).unwrap().is_file(),
        "the preserved copy is a symlink, not the file's bytes"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), b"{oops");
}

/// SPEC §4.4.2: seven corruptions at distinct times keep the newest five
/// copies, each holding the bytes of its own corruption.
#[test]
fn seven_corruptions_keep_exactly_the_newest_five_copies() {
    let (dir, path) = setup();
    let s = store(&path);
    let mut expected = Vec::new();
    for i in 0..7 {
        std::fs::write(&path, format!("corrupt #{i}")).unwrap();
        let name = format!("{FILE_NAME}.corrupt-{}", s.clock().now().file_name_form());
        s.dispatch(Event::Tick, noop()).unwrap();
        expected.push((name, format!("corrupt #{i}")));
        s.clock().advance(Duration::from_secs(1));
    }
    let kept = &expected[2..];
    let want: Vec<String> = kept.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(corrupt_copies(dir.path()), want);
    for (name, content) in kept {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(name)).unwrap(),
            *content
        );
    }
}

/// SPEC §4.4.2: after the clock went back, the copy just made is the oldest
/// by its timestamp and is still kept (regression: retention pruned it at
/// once, losing the bytes it had just preserved; found by the `transitions`
/// fuzz target).
#[test]
fn a_copy_made_after_the_clock_went_back_is_kept() {
    let (dir, path) = setup();
    let s = store(&path);
    for i in 0..5 {
        std::fs::write(&path, format!("corrupt #{i}")).unwrap();
        s.dispatch(Event::Tick, noop()).unwrap();
        s.clock().advance(Duration::from_secs(60));
    }
    s.clock().set(&ts("2000-01-01T00:00:00Z"));
    std::fs::write(&path, "corrupt after the clock went back").unwrap();
    let d = s.dispatch(Event::Tick, noop()).unwrap();
    let Found::Corrupt { preserved_as, .. } = &d.update.found else {
        panic!("expected a corrupt file, got {:?}", d.update.found);
    };
    assert_eq!(
        std::fs::read_to_string(preserved_as).unwrap(),
        "corrupt after the clock went back"
    );
    assert_eq!(corrupt_copies(dir.path()).len(), 5);
}

/// SPEC §4.4.1: two corruptions at the same clock instant are both kept,
/// the second under a `-1` suffix.
#[test]
fn two_corruptions_at_the_same_instant_are_both_preserved() {
    let (dir, path) = setup();
    let s = store(&path);
    std::fs::write(&path, "first").unwrap();
    s.dispatch(Event::Tick, noop()).unwrap();
    std::fs::write(&path, "second").unwrap();
    let d = s.dispatch(Event::Tick, noop()).unwrap();

    let base = format!("{FILE_NAME}.corrupt-{NOW_SUFFIX}");
    let suffixed = format!("{base}-1");
    assert_eq!(
        corrupt_copies(dir.path()),
        vec![base.clone(), suffixed.clone()]
    );
    assert!(
        matches!(&d.update.found, Found::Corrupt { preserved_as, .. } if preserved_as.ends_with(&suffixed))
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&base)).unwrap(),
        "first"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&suffixed)).unwrap(),
        "second"
    );
}

// ---------------------------------------------------------------------------
// §4.4.4: unreadable paths
// ---------------------------------------------------------------------------

/// Asserts `dispatch` on an unreadable path fails and leaves the directory
/// exactly as it was: nothing preserved, swept or written.
fn assert_unreadable_changes_nothing(dir: &Path, path: &Path) {
    let s = store(path);
    drop(s.lock().unwrap()); // creates the lock file before the snapshot
    std::fs::write(dir.join(".lifecycle_state.0123456789abcdef.tmp"), "stale").unwrap();
    let before = snapshot(dir);
    let result = s.dispatch(Event::RequestArrived, noop());
    assert!(
        matches!(result, Err(StoreError::Unreadable(_))),
        "expected Unreadable, got {result:?}"
    );
    assert_eq!(snapshot(dir), before);
}

/// SPEC §2.1, §4.4.4: a directory at the state path is `Unreadable`.
#[test]
fn directory_at_the_state_path_fails_unreadable_and_changes_nothing() {
    let (dir, path) = setup();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("inside"), "x").unwrap();
    assert_unreadable_changes_nothing(dir.path(), &path);
    assert_eq!(std::fs::read(path.join("inside")).unwrap(), b"x");
}

/// SPEC §2.2.2, §4.4.4: a FIFO at the state path is `Unreadable` and does
/// not block the dispatch.
#[test]
fn fifo_at_the_state_path_fails_unreadable_without_blocking() {
    let (dir, path) = setup();
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: `c_path` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let (tx, rx) = mpsc::channel();
    let dir_path = dir.path().to_path_buf();
    std::thread::spawn(move || {
        assert_unreadable_changes_nothing(&dir_path, &path);
        tx.send(()).unwrap();
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("dispatch blocked on a FIFO"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the dispatch thread panicked"),
    }
}

// ---------------------------------------------------------------------------
// §3.7: stale temp files
// ---------------------------------------------------------------------------

/// SPEC §3.7, §4.3 step 2: a dispatch holding the lock removes stale
/// `.lifecycle_state.*.tmp` files, even when it writes nothing, and leaves
/// every other file alone.
#[test]
fn stale_temp_files_are_swept_by_a_locked_dispatch_and_others_kept() {
    let (dir, path) = setup();
    let bytes = save(&path, &record(State::Wake, 1));
    let stale = [
        ".lifecycle_state.0123456789abcdef.tmp",
        ".lifecycle_state.x.tmp",
    ];
    let unrelated = [
        "lifecycle_state.json.tmp",
        ".lifecycle_state.tmp",
        ".lifecycle_state.0123456789abcdef.tmp.keep",
        ".lifecycle_state.0123456789abcdef",
        "lifecycle_state.0123456789abcdef.tmp",
        "notes.txt",
    ];
    for name in stale.iter().chain(&unrelated) {
        std::fs::write(dir.path().join(name), name.as_bytes()).unwrap();
    }
    let d = store(&path).dispatch(Event::Tick, noop()).unwrap();
    assert!(!d.update.wrote);
    for name in stale {
        assert!(!dir.path().join(name).exists(), "{name} was not swept");
    }
    for name in unrelated {
        assert_eq!(
            std::fs::read(dir.path().join(name)).unwrap(),
            name.as_bytes(),
            "{name} was touched"
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// SPEC §3.7: only the lock holder sweeps; a refused writer leaves temp
/// files where they are.
#[test]
fn stale_temp_files_are_kept_when_the_dispatch_is_locked_out() {
    let (dir, path) = setup();
    save(&path, &record(State::Wake, 1));
    let temp = dir.path().join(".lifecycle_state.fedcba9876543210.tmp");
    std::fs::write(&temp, "half a record").unwrap();
    let s = store(&path);
    let _guard = s.lock().unwrap();
    assert!(matches!(
        store(&path).dispatch(Event::Tick, noop()),
        Err(StoreError::Locked)
    ));
    assert_eq!(std::fs::read(&temp).unwrap(), b"half a record");
}

// ---------------------------------------------------------------------------
// §4.3 step 7: shutdown through the store
// ---------------------------------------------------------------------------

/// SPEC §4.3 step 7: entering HIBERNATION through the store asks for a
/// shutdown and the file says HIBERNATION.
#[test]
fn entering_hibernation_through_the_store_requests_shutdown() {
    let (_dir, path) = setup();
    save(&path, &record(State::Sleep, 5));
    let still_idle = Guards {
        still_idle: true,
        ..Guards::default()
    };
    let d = store(&path)
        .dispatch(Event::SleepCycleDone, still_idle)
        .unwrap();
    assert_eq!(d.shutdown, Shutdown::Requested);
    assert!(d.update.wrote);
    let r = on_disk(&path);
    assert_eq!(r.current_state, State::Hibernation);
    assert_eq!(r.since_ts, ts(NOW));
}

/// SPEC §4.3 step 7: in shadow mode the store only reports the shutdown.
#[test]
fn entering_hibernation_in_shadow_run_reports_would_shutdown() {
    let (_dir, path) = setup();
    save(&path, &record(State::Sleep, 5));
    let still_idle = Guards {
        still_idle: true,
        ..Guards::default()
    };
    let d = store_with(&path, shadow())
        .dispatch(Event::SleepCycleDone, still_idle)
        .unwrap();
    assert_eq!(d.shutdown, Shutdown::WouldRequest);
    let r = on_disk(&path);
    assert_eq!(r.current_state, State::Hibernation);
    assert!(r.shadow_run);
}

/// SPEC §4.3 step 7: staying in HIBERNATION is not entering it.
#[test]
fn staying_in_hibernation_asks_for_no_shutdown() {
    let (_dir, path) = setup();
    save(&path, &record(State::Hibernation, 5));
    let d = store(&path)
        .dispatch(
            Event::SleepCycleDone,
            Guards {
                sleep_eligible: true,
                still_idle: true,
            },
        )
        .unwrap();
    assert_eq!(d.shutdown, Shutdown::None);
    assert!(!d.update.wrote);
}

/// SPEC §2.1: sanity check that the unreadable fixture really is unreadable
/// for a plain load (so the CLI tests in `cli/tests/dispatch.rs` test what
/// they claim).
#[test]
fn a_directory_at_the_state_path_loads_as_unreadable() {
    let (_dir, path) = setup();
    std::fs::create_dir(&path).unwrap();
    assert!(matches!(
        store(&path).load().outcome,
        LoadOutcome::Unreadable(_)
    ));
}
