//! The writer lock (SPEC §4.5, §6): one writer at a time, in this process or
//! another, refused rather than queued; readers never wait.
//!
//! The cross-process tests re-run this very test binary as a child
//! ([`HOLD_ENV`] set) whose helper test holds the lock until its stdin
//! closes; `cli/tests/writer_lock.rs` runs the `lifecycle` binary as the
//! contending writer.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use lifecycle_state::store::LOCK_FILE_NAME;
use lifecycle_state::{
    persist, Event, Guards, LoadOutcome, Progress, Record, State, Store, StoreError,
};
use lifecycle_testkit::fixtures::{
    mode_of as mode, save, setup, snapshot, store, ts, FILE_NAME, NOW,
};

/// Set in the child process: the record path whose lock the helper holds.
const HOLD_ENV: &str = "LIFECYCLE_WRITER_LOCK_TEST_HOLD";
/// The helper test the child runs.
const HELPER: &str = "a_lock_holder_keeps_other_writers_out_until_it_lets_go";
/// What the helper prints once it holds the lock.
const LOCKED_LINE: &str = "locked";
const PATIENCE: Duration = Duration::from_secs(60);

fn drowsy_with_cycle() -> Record {
    let mut r = Record::default_at(ts("2024-01-01T00:00:00Z"));
    r.current_state = State::Drowsy;
    r.wrapper_event_seq = 77;
    r.sleep_cycle_progress = Some(Progress {
        last_completed_step: Some(1),
        attempt: Some(1),
        last_error: Some(None),
        started_at: None,
        unknown: Vec::new(),
    });
    r
}

// ---------------------------------------------------------------------------
// One process
// ---------------------------------------------------------------------------

/// SPEC §4.5.3, §4.5.4: a second writer in the same process is refused with
/// `Locked` while the first holds the lock, and writes nothing.
#[test]
fn second_writer_in_the_same_process_is_refused_and_writes_nothing() {
    let (dir, path) = setup();
    save(&path, &drowsy_with_cycle());
    let first = store(&path);
    let _guard = first.lock().unwrap();
    let before = snapshot(dir.path());
    let result = store(&path).dispatch(Event::RequestArrived, Guards::default());
    assert!(matches!(result, Err(StoreError::Locked)), "{result:?}");
    assert_eq!(snapshot(dir.path()), before);
}

/// SPEC §4.5.3: the lock is per open file description, so even the store
/// that holds it cannot take it a second time.
#[test]
fn the_lock_holder_cannot_take_the_lock_twice() {
    let (_dir, path) = setup();
    let s = store(&path);
    let _guard = s.lock().unwrap();
    assert!(matches!(s.lock(), Err(StoreError::Locked)));
    assert!(matches!(
        s.dispatch(Event::Idle5Min, Guards::default()),
        Err(StoreError::Locked)
    ));
}

/// SPEC §4.5.1, §4.5.4: every writer operation (dispatch, save, the five
/// sleep-cycle operations) is refused while another writer holds the lock.
#[test]
fn every_writer_operation_is_refused_while_the_lock_is_held() {
    let (dir, path) = setup();
    let r = drowsy_with_cycle();
    save(&path, &r);
    let holder = store(&path);
    let _guard = holder.lock().unwrap();
    let before = snapshot(dir.path());
    let other = store(&path);
    let results = [
        (
            "dispatch",
            other
                .dispatch(Event::HeartbeatRefresh, Guards::default())
                .map(|_| ()),
        ),
        ("save", other.save(&Record::default_at(ts(NOW))).map(|_| ())),
        ("begin", other.begin_sleep_cycle(1).map(|_| ())),
        ("step_done", other.step_done(2).map(|_| ())),
        ("step_failed", other.step_failed(2, "x").map(|_| ())),
        ("cycle_done", other.cycle_done().map(|_| ())),
        ("reset_quarantine", other.reset_quarantine().map(|_| ())),
    ];
    for (name, result) in results {
        assert!(
            matches!(result, Err(StoreError::Locked)),
            "{name}: {result:?}"
        );
    }
    assert_eq!(snapshot(dir.path()), before);
}

/// SPEC §4.5.4: a refused writer does not create the record file either.
#[test]
fn a_refused_writer_creates_no_record_file() {
    let (_dir, path) = setup();
    let holder = store(&path);
    let _guard = holder.lock().unwrap();
    let result = store(&path).dispatch(Event::Idle5Min, Guards::default());
    assert!(matches!(result, Err(StoreError::Locked)));
    assert!(!path.exists());
}

/// SPEC §4.5: once the guard drops, the next writer gets the lock and writes.
#[test]
fn writing_works_again_after_the_guard_drops() {
    let (_dir, path) = setup();
    save(&path, &drowsy_with_cycle());
    let holder = store(&path);
    let guard = holder.lock().unwrap();
    let other = store(&path);
    assert!(other
        .dispatch(Event::HeartbeatRefresh, Guards::default())
        .is_err());
    drop(guard);
    let d = other
        .dispatch(Event::HeartbeatRefresh, Guards::default())
        .unwrap();
    assert!(d.update.wrote);
    let stored = persist::load(&path).record;
    assert_eq!(stored.current_state, State::Wake);
    assert_eq!(stored.wrapper_event_seq, 78);
}

/// SPEC §2.2.5, §6.1: readers take no lock; a load while a writer holds it
/// returns the stored record at once.
#[test]
fn readers_are_not_blocked_by_the_lock() {
    let (_dir, path) = setup();
    let r = drowsy_with_cycle();
    save(&path, &r);
    let holder = store(&path);
    let _guard = holder.lock().unwrap();
    let via_store = store(&path).load();
    assert!(matches!(via_store.outcome, LoadOutcome::Valid));
    assert_eq!(via_store.record, r);
    assert_eq!(persist::load(&path).record, r);
}

/// SPEC §4.5.2: the lock file is created with mode 0600 and never removed.
#[test]
fn the_lock_file_is_created_0600_and_never_removed() {
    let (dir, path) = setup();
    let s = store(&path);
    s.dispatch(Event::Idle5Min, Guards::default()).unwrap();
    let lock = dir.path().join(LOCK_FILE_NAME);
    assert!(lock.is_file(), "no lock file after a dispatch");
    assert_eq!(mode(&lock), 0o600);
    s.dispatch(Event::Tick, Guards::default()).unwrap();
    s.begin_sleep_cycle(2).unwrap();
    assert!(lock.is_file(), "the lock file was removed");
}

/// SPEC §4.5.2, §3.3 step 2: taking the lock creates missing directories
/// with mode 0700.
#[test]
fn taking_the_lock_creates_missing_directories_0700() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("a").join("b");
    let path = dir.join(FILE_NAME);
    let s = store(&path);
    let guard = s.lock().unwrap();
    assert!(dir.join(LOCK_FILE_NAME).is_file());
    assert_eq!(mode(&root.path().join("a")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(LOCK_FILE_NAME)), 0o600);
    drop(guard);
    assert!(!path.exists(), "taking the lock wrote a record");
}

// ---------------------------------------------------------------------------
// Two processes: a child holds the lock
// ---------------------------------------------------------------------------

/// Child mode: take the lock on `path`, say so, hold it until stdin closes.
fn hold_for_parent(path: &Path) {
    let s = Store::open(path);
    let guard = s.lock().expect("the child takes the lock");
    println!("\n{LOCKED_LINE}");
    std::io::stdout().flush().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = tx.send(());
    });
    // Released when the parent closes our stdin, or at the latest after PATIENCE.
    let _ = rx.recv_timeout(PATIENCE);
    drop(guard);
}

/// SPEC §4.5.3: a lock holder keeps every other writer out until it lets go.
/// Run normally this checks that in one process; run as the child of
/// [`store_dispatch_is_refused_while_a_child_process_holds_the_lock`] it
/// holds the lock for the parent instead.
#[test]
fn a_lock_holder_keeps_other_writers_out_until_it_lets_go() {
    if let Some(path) = std::env::var_os(HOLD_ENV) {
        hold_for_parent(Path::new(&path));
        return;
    }
    let (_dir, path) = setup();
    let holder = store(&path);
    let guard = holder.lock().unwrap();
    assert!(matches!(store(&path).lock(), Err(StoreError::Locked)));
    drop(guard);
    assert!(store(&path).lock().is_ok());
}

/// SPEC §4.5, §6.2: while another process holds the lock, `Store::dispatch`
/// here is refused with `Locked` and writes nothing, readers still read, and
/// once the other process exits the dispatch goes through.
#[test]
fn store_dispatch_is_refused_while_a_child_process_holds_the_lock() {
    let (dir, path) = setup();
    let r = drowsy_with_cycle();
    save(&path, &r);
    let mut child = lifecycle_testkit::fixtures::rerun_self(HELPER)
        .env(HOLD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the test binary re-runs itself");

    let lines = lifecycle_testkit::fixtures::stdout_lines(child.stdout.take().unwrap());
    let deadline = std::time::Instant::now() + PATIENCE;
    let holds_lock = std::iter::from_fn(|| {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        lines.recv_timeout(left).ok()
    })
    .any(|line| line.trim() == LOCKED_LINE);
    if !holds_lock {
        let _ = child.kill();
        panic!("the child never reported holding the lock");
    }

    let before = snapshot(dir.path());
    let s = store(&path);
    let result = s.dispatch(Event::RequestArrived, Guards::default());
    let loaded = s.load();
    drop(child.stdin.take()); // lets the child release the lock and exit
    let status = child.wait().unwrap();

    assert!(matches!(result, Err(StoreError::Locked)), "{result:?}");
    assert_eq!(snapshot(dir.path()), before);
    assert!(matches!(loaded.outcome, LoadOutcome::Valid));
    assert_eq!(loaded.record, r);
    assert!(status.success(), "the child failed: {status}");
    let d = s
        .dispatch(Event::RequestArrived, Guards::default())
        .unwrap();
    assert_eq!(d.to, State::Wake);
    assert_eq!(persist::load(&path).record.wrapper_event_seq, 78);
}

// Regression: a child forked by another thread held a copy of the lock
// descriptor until its exec, so the lock outlived its writer and the next
// writer got `Locked` (found by tests/concurrent_readers.rs). The lock is now
// released with an explicit unlock.
#[test]
fn a_child_forked_by_another_thread_does_not_keep_the_lock_of_a_finished_writer() {
    let (_dir, path) = setup();
    let s = store(&path);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spawner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut spawned = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(mut child) = Command::new("true").spawn() {
                    let _ = child.wait();
                    spawned += 1;
                }
            }
            spawned
        })
    };
    let mut locked = 0;
    for _ in 0..300 {
        match s.dispatch(Event::RequestArrived, Guards::default()) {
            Ok(_) => {}
            Err(StoreError::Locked) => locked += 1,
            Err(e) => panic!("{e}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let spawned = spawner.join().unwrap();
    assert!(spawned > 10, "only {spawned} children were spawned");
    assert_eq!(
        locked, 0,
        "{locked} of 300 writers were refused with no other writer"
    );
}
