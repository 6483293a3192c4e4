//! The `lifecycle dispatch` and `lifecycle status` commands (SPEC §7.1,
//! §7.2): what they print, their exit codes, and that they write what the
//! store writes.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use lifecycle_state::{Clock, Quarantine, State, SystemClock, Timestamp};
use lifecycle_testkit::fixtures::{
    names, on_disk, record, save, setup, sleep_progress, sleeping_with, stderr_of, stdout_of,
    FILE_NAME,
};

const MAX_SEQ: u64 = lifecycle_model::spec::MAX_INTEGER;

fn lifecycle(args: &[&str]) -> Output {
    Command::new(common::LIFECYCLE)
        .args(args)
        .output()
        .expect("the lifecycle binary runs")
}

fn dispatch_cli(path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["dispatch", "--state", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    lifecycle(&args)
}

/// SPEC §7.1, §7.2: `lifecycle dispatch` applies the event, prints the new
/// state and exits 0.
#[test]
fn cli_dispatch_prints_the_new_state_and_exits_0() {
    let (_dir, path) = setup();
    save(&path, &record(State::Wake, 9));
    let out = dispatch_cli(&path, &["idle_5min"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("DROWSY"),
        "stdout: {}",
        stdout_of(&out)
    );
    assert_eq!(on_disk(&path).current_state, State::Drowsy);
}

/// SPEC §7.1: entering HIBERNATION prints the shutdown line.
#[test]
fn cli_dispatch_prints_shutdown_on_entering_hibernation() {
    let (_dir, path) = setup();
    save(&path, &record(State::Sleep, 9));
    let out = dispatch_cli(&path, &["sleep_cycle_done", "--still-idle"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    let text = stdout_of(&out);
    assert!(text.contains("HIBERNATION"), "stdout: {text}");
    assert!(text.contains("shutdown: requested"), "stdout: {text}");
    assert_eq!(on_disk(&path).current_state, State::Hibernation);
}

/// SPEC §7.1: with `--shadow-run` the line reports a would-be shutdown.
#[test]
fn cli_dispatch_with_shadow_run_prints_would_shutdown() {
    let (_dir, path) = setup();
    save(&path, &record(State::Sleep, 9));
    let out = dispatch_cli(&path, &["sleep_cycle_done", "--still-idle", "--shadow-run"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    let text = stdout_of(&out);
    assert!(text.contains("would"), "stdout: {text}");
    assert!(!text.contains("shutdown: requested"), "stdout: {text}");
    assert!(on_disk(&path).shadow_run);
}

/// SPEC §7.1: the guard flags reach the machine (`--sleep-eligible`).
#[test]
fn cli_dispatch_passes_the_sleep_eligible_guard() {
    let (_dir, path) = setup();
    save(&path, &record(State::Drowsy, 9));
    let out = dispatch_cli(&path, &["idle_30min"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(on_disk(&path).current_state, State::Drowsy);
    let out = dispatch_cli(&path, &["idle_30min", "--sleep-eligible"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(on_disk(&path).current_state, State::Sleep);
}

/// SPEC §7.2: an unknown event exits 2 and writes nothing.
#[test]
fn cli_dispatch_unknown_event_exits_2_and_writes_nothing() {
    let (dir, path) = setup();
    let bytes = save(&path, &record(State::Wake, 9));
    let out = dispatch_cli(&path, &["nap_time"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr_of(&out));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(names(dir.path()), vec![FILE_NAME.to_string()]);
}

/// SPEC §7.2: `Overflow` exits 4 and the file stays byte-identical.
#[test]
fn cli_dispatch_overflow_exits_4_and_leaves_the_file() {
    let (_dir, path) = setup();
    let bytes = save(&path, &record(State::Wake, MAX_SEQ));
    let out = dispatch_cli(&path, &["heartbeat_refresh"]);
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr_of(&out));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// SPEC §7.2: an unreadable state file makes `dispatch` exit 1.
#[test]
fn cli_dispatch_on_an_unreadable_path_exits_1() {
    let (_dir, path) = setup();
    std::fs::create_dir(&path).unwrap();
    let out = dispatch_cli(&path, &["request_arrived"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr_of(&out));
}

/// SPEC §7.1: `status` names the state, the event seq and how long the
/// quarantine has left, and writes nothing.
#[test]
fn cli_status_mentions_state_seq_and_quarantine_time_left() {
    let (dir, path) = setup();
    let now = SystemClock.now();
    let until = now.checked_add(Duration::from_secs(3 * 3600)).unwrap();
    let mut r = record(State::Sleep, 1234);
    r.quarantine = Some(Quarantine {
        until_ts: until.clone(),
        since_ts: now,
        reason: "sleep step 2 failed 3x: boom".into(),
        unknown: Vec::new(),
    });
    let bytes = save(&path, &r);
    let out = lifecycle(&["status", "--state", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    let text = stdout_of(&out);
    assert!(text.contains("SLEEP"), "{text}");
    assert!(text.contains("1234"), "{text}");
    assert!(text.contains(until.as_str()), "{text}");
    assert!(
        text.contains("2h59m left") || text.contains("3h00m left"),
        "no time left in: {text}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(names(dir.path()), vec![FILE_NAME.to_string()]);
}

/// SPEC §7.2: `status` never fails: on an unreadable state file it says so
/// and shows the default record, exiting 0.
#[test]
fn cli_status_on_an_unreadable_path_reports_it_and_exits_0() {
    let (_dir, path) = setup();
    std::fs::create_dir(&path).unwrap();
    let out = lifecycle(&["status", "--state", path.to_str().unwrap()]);
    assert!(
        stdout_of(&out).contains("WAKE"),
        "stdout: {}",
        stdout_of(&out)
    );
    assert!(
        stdout_of(&out).contains("unreadable"),
        "stdout: {}",
        stdout_of(&out)
    );
    assert_eq!(out.status.code(), Some(0), "stdout: {}", stdout_of(&out));
}

/// SPEC §7.1: `dispatch` says whether the state changed.
#[test]
fn cli_dispatch_says_whether_it_transitioned() {
    let (_dir, path) = setup();
    save(&path, &record(State::Wake, 9));
    let moved = dispatch_cli(&path, &["idle_5min"]);
    assert!(
        stdout_of(&moved).contains("transitioned: true"),
        "{}",
        stdout_of(&moved)
    );
    let stayed = dispatch_cli(&path, &["tick"]);
    assert!(
        stdout_of(&stayed).contains("transitioned: false"),
        "{}",
        stdout_of(&stayed)
    );
}

/// SPEC §4.4, §7.1: a writer that finds the state file corrupt says on
/// stderr that it was, and where its bytes were preserved.
#[test]
fn cli_dispatch_on_a_corrupt_file_names_where_its_bytes_went() {
    let (dir, path) = setup();
    std::fs::write(&path, b"{\"current_state\":").unwrap();
    let out = dispatch_cli(&path, &["tick"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    let stderr = stderr_of(&out);
    let copy = names(dir.path())
        .into_iter()
        .find(|n| n.starts_with("lifecycle_state.json.corrupt-"))
        .expect("a preserved copy");
    assert!(stderr.contains("was corrupt"), "stderr: {stderr}");
    assert!(
        stderr.contains(&copy),
        "stderr does not name {copy}: {stderr}"
    );
    assert_eq!(
        std::fs::read(dir.path().join(copy)).unwrap(),
        b"{\"current_state\":"
    );
}

/// `t` moved back by `secs` seconds.
fn ago(t: &Timestamp, secs: u64) -> Timestamp {
    Timestamp::from_unix_nanos(t.unix_nanos() - i128::from(secs) * 1_000_000_000).expect("in range")
}

fn status(path: &Path) -> String {
    let out = lifecycle(&["status", "--state", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    stdout_of(&out)
}

/// SPEC §7.1: `status` says how long ago the state began in seconds,
/// minutes, hours or days.
#[test]
fn cli_status_says_how_long_ago_in_the_largest_units() {
    let (_dir, path) = setup();
    let now = SystemClock.now();
    // A second may pass between saving and the status command.
    for (secs, shown) in [
        (30, ["30s ago", "31s ago"]),
        (90, ["1m30s ago", "1m31s ago"]),
        (2 * 3600 + 5 * 60, ["2h05m ago", "2h05m ago"]),
        (3 * 86_400 + 4 * 3600, ["3d04h ago", "3d04h ago"]),
    ] {
        let mut r = record(State::Drowsy, 1);
        r.since_ts = ago(&now, secs);
        save(&path, &r);
        let text = status(&path);
        assert!(
            shown.iter().any(|s| text.contains(s)),
            "{secs} s: none of {shown:?} in: {text}"
        );
    }
}

/// SPEC §7.1: `status` shows the sleep-cycle progress with its last error,
/// the shadow-run flag, and a quarantine that has expired.
#[test]
fn cli_status_shows_progress_shadow_run_and_an_expired_quarantine() {
    let (_dir, path) = setup();
    let now = SystemClock.now();
    let mut r = sleeping_with(sleep_progress(2, 3));
    if let Some(p) = r.sleep_cycle_progress.as_mut() {
        p.last_error = Some(Some("disk full".to_string()));
    }
    r.shadow_run = true;
    let until = ago(&now, 60);
    r.quarantine = Some(Quarantine {
        until_ts: until.clone(),
        since_ts: ago(&now, 3600),
        reason: "sleep step 3 failed 3x: disk full".into(),
        unknown: Vec::new(),
    });
    save(&path, &r);
    let text = status(&path);
    let started = r
        .sleep_cycle_progress
        .as_ref()
        .and_then(|p| p.started_at.clone());
    let expected_cycle = format!(
        "sleep cycle: last completed step 2, attempt 3, started {}, last error: disk full",
        started.expect("a start").as_str()
    );
    assert!(text.contains(&expected_cycle), "{text}");
    assert!(text.contains("shadow run: yes"), "{text}");
    assert!(
        text.contains(&format!(
            "quarantine: expired at {}: sleep step 3 failed 3x: disk full",
            until.as_str()
        )),
        "{text}"
    );
    assert!(text.contains("file:       valid"), "{text}");
}

/// SPEC §7.1: without progress or quarantine, `status` says none, and
/// shows the default's shadow-run flag as no.
#[test]
fn cli_status_of_a_plain_record_says_none_and_no() {
    let (_dir, path) = setup();
    save(&path, &record(State::Wake, 3));
    let text = status(&path);
    for line in [
        "sleep cycle: none",
        "quarantine: none",
        "shadow run: no",
        "event seq:  3",
    ] {
        assert!(text.contains(line), "no {line:?} in: {text}");
    }
}
