//! The writer lock seen from the `lifecycle` command (SPEC §4.5, §6.1,
//! §7.2): while this process holds the lock, every CLI writer exits 3 and
//! writes nothing, and `load` and `status` still work.

mod common;

use std::process::{Command, Output};

use lifecycle_state::{Record, State};
use lifecycle_testkit::fixtures::{record, run, save, setup, snapshot, stderr_of, store, ts, NOW};

fn lifecycle(args: &[&str], stdin: &[u8]) -> Output {
    run(Command::new(common::LIFECYCLE).args(args), stdin)
}

/// SPEC §4.5, §7.2: `lifecycle dispatch` in another process exits 3, says
/// it is locked, and leaves the file unchanged.
#[test]
fn cli_dispatch_exits_3_while_this_process_holds_the_lock() {
    let (dir, path) = setup();
    save(&path, &record(State::Drowsy, 77));
    let holder = store(&path);
    let _guard = holder.lock().unwrap();
    let before = snapshot(dir.path());
    let out = lifecycle(
        &[
            "dispatch",
            "--state",
            path.to_str().unwrap(),
            "request_arrived",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr_of(&out));
    assert!(
        stderr_of(&out).to_lowercase().contains("locked"),
        "stderr: {}",
        stderr_of(&out)
    );
    assert_eq!(snapshot(dir.path()), before);
}

/// SPEC §4.5.1, §7.2: the other CLI writers (`save`, `sleep ...`) also exit 3
/// and write nothing.
#[test]
fn cli_save_and_sleep_commands_exit_3_while_locked() {
    let (dir, path) = setup();
    save(&path, &record(State::Drowsy, 77));
    let holder = store(&path);
    let _guard = holder.lock().unwrap();
    let before = snapshot(dir.path());
    let p = path.to_str().unwrap();
    let record = lifecycle_state::encode(&Record::default_at(ts(NOW)));
    let runs: [(&[&str], &[u8]); 3] = [
        (&["save", p], &record),
        (&["sleep", "begin", "3", "--state", p], b""),
        (&["sleep", "step-done", "2", "--state", p], b""),
    ];
    for (args, stdin) in runs {
        let out = lifecycle(args, stdin);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr_of(&out));
    }
    assert_eq!(snapshot(dir.path()), before);
}

/// SPEC §7.1, §6.1: `lifecycle load` and `status` take no lock and work
/// while a writer holds it.
#[test]
fn cli_load_and_status_work_while_locked() {
    let (_dir, path) = setup();
    let bytes = save(&path, &record(State::Drowsy, 77));
    let holder = store(&path);
    let _guard = holder.lock().unwrap();
    let p = path.to_str().unwrap();
    let load = lifecycle(&["load", p], b"");
    assert_eq!(load.status.code(), Some(0), "{}", stderr_of(&load));
    assert_eq!(load.stdout, bytes);
    let status = lifecycle(&["status", "--state", p], b"");
    assert_eq!(status.status.code(), Some(0), "{}", stderr_of(&status));
    assert!(String::from_utf8_lossy(&status.stdout).contains("DROWSY"));
}
