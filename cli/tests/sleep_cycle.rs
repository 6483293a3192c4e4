//! The `lifecycle sleep` commands (SPEC §5, §7.1, §7.2): each operation
//! through the CLI, its exit code, and what it writes.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use lifecycle_testkit::fixtures::{
    on_disk, quarantine_until, save, setup, sleep_progress as progress, sleeping as base,
    sleeping_with as with_progress, stderr_of,
};

fn sleep_cli(path: &Path, args: &[&str]) -> Output {
    let mut all = vec!["sleep"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--state", path.to_str().unwrap()]);
    Command::new(common::LIFECYCLE)
        .args(&all)
        .output()
        .expect("the lifecycle binary runs")
}

/// SPEC §7.1: `sleep begin N` starts a cycle, exits 0, and prints the record.
#[test]
fn cli_sleep_begin_starts_a_cycle_and_exits_0() {
    let (_dir, path) = setup();
    let out = sleep_cli(&path, &["begin", "3"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    let p = on_disk(&path).sleep_cycle_progress.expect("a cycle");
    assert_eq!((p.last_completed_step, p.attempt), (Some(0), Some(1)));
    assert_eq!(
        lifecycle_state::decode(&out.stdout).ok(),
        Some(on_disk(&path))
    );
}

/// SPEC §7.1, §7.2: the whole cycle through the CLI: step-done in order,
/// then cycle-done, each exiting 0.
#[test]
fn cli_sleep_runs_a_whole_cycle() {
    let (_dir, path) = setup();
    for args in [
        &["begin", "2"][..],
        &["step-done", "1"],
        &["step-done", "2"],
    ] {
        let out = sleep_cli(&path, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr_of(&out));
    }
    assert_eq!(
        on_disk(&path)
            .sleep_cycle_progress
            .unwrap()
            .last_completed_step,
        Some(2)
    );
    let out = sleep_cli(&path, &["cycle-done"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(on_disk(&path).sleep_cycle_progress, None);
}

/// SPEC §7.2: `begin` while quarantined exits 4 and writes nothing.
#[test]
fn cli_sleep_begin_while_quarantined_exits_4() {
    let (_dir, path) = setup();
    let mut r = base();
    r.quarantine = Some(quarantine_until("9999-01-01T00:00:00Z"));
    let bytes = save(&path, &r);
    let out = sleep_cli(&path, &["begin", "2"]);
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr_of(&out));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// SPEC §7.2: `step-done` out of order exits 4 and writes nothing.
#[test]
fn cli_sleep_step_done_out_of_order_exits_4() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(progress(1, 1)));
    let out = sleep_cli(&path, &["step-done", "3"]);
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr_of(&out));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// SPEC §7.2: `step-done` with no cycle exits 4.
#[test]
fn cli_sleep_step_done_without_a_cycle_exits_4() {
    let (_dir, path) = setup();
    let bytes = save(&path, &base());
    let out = sleep_cli(&path, &["step-done", "1"]);
    assert_eq!(out.status.code(), Some(4), "stderr: {}", stderr_of(&out));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// SPEC §7.2: `begin 0` is invalid input: exit 2, nothing written.
#[test]
fn cli_sleep_begin_zero_exits_2() {
    let (_dir, path) = setup();
    let out = sleep_cli(&path, &["begin", "0"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr_of(&out));
    assert!(!path.exists());
}

/// SPEC §7.1: `step-failed K ERROR --ttl-secs S` quarantines for S seconds
/// on the third strike.
#[test]
fn cli_sleep_step_failed_honours_ttl_secs() {
    let (_dir, path) = setup();
    save(&path, &with_progress(progress(0, 3)));
    let out = sleep_cli(&path, &["step-failed", "1", "boom", "--ttl-secs", "60"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    let q = on_disk(&path).quarantine.expect("quarantined");
    assert_eq!(q.reason, "sleep step 1 failed 3x: boom");
    assert_eq!(q.since_ts.until(&q.until_ts), Duration::from_secs(60));
}

/// SPEC §7.2: a malformed `--ttl-secs` exits 2 and writes nothing.
#[test]
fn cli_sleep_step_failed_with_a_bad_ttl_exits_2() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(progress(0, 3)));
    for bad in ["-1", "1.5", "soon", "18446744073709551616"] {
        let out = sleep_cli(&path, &["step-failed", "1", "x", "--ttl-secs", bad]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "--ttl-secs {bad}: {}",
            stderr_of(&out)
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
}

/// SPEC §5.4.3, §7.2: a `--ttl-secs` that puts `until_ts` past year 9999 is
/// out of range: exit 2, nothing written.
#[test]
fn cli_sleep_step_failed_with_an_out_of_range_ttl_exits_2() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(progress(0, 3)));
    // About 10,000 years: past 9999-12-31 from any present-day clock.
    let out = sleep_cli(
        &path,
        &["step-failed", "1", "x", "--ttl-secs", "315576000000"],
    );
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr_of(&out));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// SPEC §7.1: `reset-quarantine` lifts the quarantine and exits 0.
#[test]
fn cli_sleep_reset_quarantine_lifts_the_quarantine() {
    let (_dir, path) = setup();
    let mut r = with_progress(progress(1, 3));
    r.quarantine = Some(quarantine_until("9999-01-01T00:00:00Z"));
    save(&path, &r);
    let out = sleep_cli(&path, &["reset-quarantine"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr_of(&out));
    let stored = on_disk(&path);
    assert_eq!(stored.quarantine, None);
    assert_eq!(stored.sleep_cycle_progress, Some(progress(1, 1)));
}
