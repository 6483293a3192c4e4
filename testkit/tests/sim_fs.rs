//! `SimFs`: the in-memory file system the property tests run the store on.
//!
//! Proves: its process view always equals the persistence model's replay of
//! its log; crash points stop every later call; injected faults strike one
//! call with the chosen errno and no effect; recovery installs a state the
//! model allows; the lock excludes a second writer.
//!
//! Does not prove: that the persistence model matches a real kernel (see
//! `model/README.md` for where its rules come from).

use std::io;
use std::path::Path;

use lifecycle_harness::Injected;
use lifecycle_model::persistence::{apply, Crash, CrashSpace, Node};
use lifecycle_state::fs::{Fs, LockError};
use lifecycle_state::{Event, Guards, ManualClock, Options, Store, Timestamp};
use lifecycle_testkit::sim_fs::is_crash;
use lifecycle_testkit::SimFs;

const RECORD: &str = "/state/lifecycle_state.json";

fn clock() -> ManualClock {
    ManualClock::at(&Timestamp::parse("2030-01-01T00:00:00Z").expect("valid"))
}

fn store<'c>(sim: &SimFs, clock: &'c ManualClock) -> Store<SimFs, &'c ManualClock> {
    Store::new(sim.clone(), clock, RECORD, Options::default())
}

#[test]
fn the_process_view_is_the_model_replay_of_the_log() {
    let sim = SimFs::new();
    let clock = clock();
    for event in [
        Event::RequestArrived,
        Event::Idle5Min,
        Event::HeartbeatRefresh,
    ] {
        store(&sim, &clock)
            .dispatch(event, Guards::default())
            .expect("dispatch");
        assert_eq!(apply(&sim.base(), &sim.log()), Ok(sim.disk()));
    }
    assert!(sim.log().len() > 10, "the store's steps were not logged");
}

#[test]
fn a_crash_point_fails_that_call_and_every_later_one() {
    let sim = SimFs::new();
    sim.put_dir("/state", 0o700);
    sim.crash_at_call(1);
    assert!(sim.create_exclusive(Path::new("/state/a"), 0o600).is_ok());
    let second = sim.create_exclusive(Path::new("/state/b"), 0o600);
    assert!(second.as_ref().is_err_and(is_crash), "{second:?}");
    assert!(sim
        .list_dir(Path::new("/state"))
        .is_err_and(|e| is_crash(&e)));
    assert!(sim.crashed());
    assert!(!sim.disk().nodes.contains_key("/state/b"));
}

#[test]
fn an_injected_fault_strikes_one_call_without_effect() {
    for fault in Injected::ALL {
        let sim = SimFs::new();
        sim.put_dir("/state", 0o700);
        sim.fail_call(0, fault);
        let failed = sim.create_exclusive(Path::new("/state/a"), 0o600);
        let errno = failed.err().and_then(|e| e.raw_os_error());
        assert_eq!(errno, Some(fault.errno()), "{fault:?}");
        assert!(!sim.disk().nodes.contains_key("/state/a"));
        assert!(sim.create_exclusive(Path::new("/state/a"), 0o600).is_ok());
    }
}

#[test]
fn a_fault_at_any_call_of_a_dispatch_leaves_the_old_or_the_new_record() {
    let sim = SimFs::new();
    let clock = clock();
    store(&sim, &clock)
        .dispatch(Event::RequestArrived, Guards::default())
        .expect("first dispatch");
    let before = sim.disk();
    let calls_before = sim.calls();
    store(&sim, &clock)
        .dispatch(Event::RequestArrived, Guards::default())
        .expect("second dispatch");
    let calls = sim.calls() - calls_before;
    let mut failures = 0;
    for n in 0..calls {
        let sim = SimFs::from_disk(&before);
        sim.fail_call(n, Injected::Io);
        let result = store(&sim, &clock).dispatch(Event::RequestArrived, Guards::default());
        let seq = store(&sim, &clock).load().record.wrapper_event_seq;
        match result {
            Ok(_) => assert_eq!(seq, 2, "call {n}: success without the new record"),
            Err(e) if e.to_string().contains("fsync the directory") => {
                assert_eq!(seq, 2, "call {n}: {e}")
            }
            Err(e) => {
                failures += 1;
                assert_eq!(seq, 1, "call {n}: failed ({e}) but wrote");
            }
        }
    }
    assert!(
        failures >= 5,
        "only {failures} of {calls} faults were reported"
    );
}

#[test]
fn recovery_installs_a_state_of_the_crash_space() {
    let sim = SimFs::new();
    let clock = clock();
    store(&sim, &clock)
        .dispatch(Event::RequestArrived, Guards::default())
        .expect("dispatch");
    let space = CrashSpace::new(
        &sim.base(),
        &sim.log(),
        Crash::PowerLoss { block_size: 512 },
    )
    .expect("valid log");
    let recovered = sim
        .recover(Crash::PowerLoss { block_size: 512 }, 3)
        .expect("valid log");
    assert_eq!(recovered.states, space.len());
    assert_eq!(sim.disk(), space.state(recovered.chosen));
    assert!(sim.log().is_empty());
}

#[test]
fn the_lock_excludes_a_second_writer_until_released() {
    let sim = SimFs::new();
    sim.put_dir("/state", 0o700);
    let lock = Path::new("/state/.lifecycle.lock");
    let first = sim.try_lock(lock).expect("first lock");
    assert!(matches!(sim.try_lock(lock), Err(LockError::Locked)));
    drop(first);
    assert!(sim.try_lock(lock).is_ok());
}

#[test]
fn a_file_under_a_file_is_not_a_directory() {
    let sim = SimFs::new();
    sim.put_file("/state", b"x", 0o600);
    let err = sim
        .read_bounded(Path::new("/state/f"), 10)
        .expect_err("not a directory");
    assert_eq!(err.raw_os_error(), Some(libc_enotdir()));
}

fn libc_enotdir() -> i32 {
    io::Error::from(io::ErrorKind::NotADirectory)
        .raw_os_error()
        .unwrap_or(20)
}

#[test]
fn reads_stop_at_the_limit() {
    let sim = SimFs::new();
    sim.put_file(RECORD, &[b'x'; 100], 0o600);
    let read = sim.read_bounded(Path::new(RECORD), 10).expect("read");
    assert_eq!(read.len(), 10);
}

#[test]
fn put_file_creates_missing_directories_as_0700() {
    let sim = SimFs::new();
    sim.put_file("/a/b/f", b"x", 0o600);
    assert_eq!(
        sim.disk().nodes.get("/a/b"),
        Some(&Node::Dir { mode: 0o700 })
    );
}
