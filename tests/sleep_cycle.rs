//! Sleep-cycle bookkeeping through the locked store (SPEC §5); the
//! `lifecycle sleep` commands are tested in `cli/tests/sleep_cycle.rs`.

use std::cell::Cell;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use lifecycle_state::fs::LockError;
use lifecycle_state::sleep_cycle::SleepCycleError;
use lifecycle_state::store::{Found, LOCK_FILE_NAME};
use lifecycle_state::{
    Clock, Fs, ManualClock, Options, Progress, RawJson, RealFs, Record, Store, StoreError,
    Timestamp, Updated,
};
use lifecycle_testkit::fixtures::{
    on_disk, quarantine_until, save, setup, sleep_progress as progress, sleeping as base,
    sleeping_with as with_progress, store, store_with, ts, FILE_NAME, NOW, STORED_TS,
};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn fresh_progress(now: &Timestamp) -> Progress {
    Progress {
        last_completed_step: Some(0),
        attempt: Some(1),
        last_error: Some(None),
        started_at: Some(now.clone()),
        unknown: Vec::new(),
    }
}

/// Asserts a refused operation left the file exactly as it was.
fn assert_untouched(path: &Path, bytes: &[u8], ino: u64) {
    assert_eq!(std::fs::read(path).unwrap(), bytes, "the file changed");
    assert_eq!(
        std::fs::metadata(path).unwrap().ino(),
        ino,
        "the file was replaced"
    );
}

fn ino(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

fn written(result: Result<Updated, StoreError>) -> Updated {
    let updated = result.unwrap_or_else(|e| panic!("operation failed: {e}"));
    assert!(updated.wrote, "the operation wrote nothing");
    updated
}

// ---------------------------------------------------------------------------
// §5.2 begin
// ---------------------------------------------------------------------------

/// SPEC §5.2.4: with no progress, `begin` starts a fresh cycle at now.
#[test]
fn begin_without_progress_starts_a_fresh_cycle() {
    let (_dir, path) = setup();
    save(&path, &base());
    let s = store(&path);
    let u = written(s.begin_sleep_cycle(3));
    let mut expected = base();
    expected.sleep_cycle_progress = Some(fresh_progress(&s.clock().now()));
    assert_eq!(u.record, expected);
    assert_eq!(on_disk(&path), expected);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(&format!(
            "\"sleep_cycle_progress\":{{\"last_completed_step\":0,\"attempt\":1,\"last_error\":null,\"started_at\":\"{NOW}\"}}"
        )),
        "{text}"
    );
}

/// SPEC §5.2.4, §4.6: on a missing file `begin` writes the default with a
/// fresh cycle.
#[test]
fn begin_on_a_missing_file_writes_the_default_with_a_fresh_cycle() {
    let (_dir, path) = setup();
    let u = written(store(&path).begin_sleep_cycle(1));
    assert_eq!(u.found, Found::Missing);
    let mut expected = Record::default_at(ts(NOW));
    expected.sleep_cycle_progress = Some(fresh_progress(&ts(NOW)));
    assert_eq!(on_disk(&path), expected);
}

/// SPEC §5.2.4, §4.6: a cycle in progress (last step < N) is resumed as
/// stored, so nothing is written.
#[test]
fn begin_resumes_a_cycle_in_progress_without_writing() {
    let (_dir, path) = setup();
    let mut p = progress(2, 2);
    p.last_error = Some(Some("flaky".into()));
    p.unknown = vec![("owner".into(), RawJson::parse("\"cron\"").unwrap())];
    let bytes = save(&path, &with_progress(p.clone()));
    let before = ino(&path);
    let u = store(&path).begin_sleep_cycle(5).unwrap();
    assert!(!u.wrote);
    assert_eq!(u.record.sleep_cycle_progress, Some(p));
    assert_untouched(&path, &bytes, before);
}

/// SPEC §5.1, §5.2.4: an absent `last_completed_step` counts as 0, so an
/// empty progress object is a cycle in progress for any N ≥ 1.
#[test]
fn begin_treats_absent_last_completed_step_as_zero() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(Progress::default()));
    let u = store(&path).begin_sleep_cycle(1).unwrap();
    assert!(!u.wrote);
    assert_eq!(u.record.sleep_cycle_progress, Some(Progress::default()));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// SPEC §5.2.4: `last_completed_step` ≥ N restarts the cycle, replacing the
/// old object and its unknown members.
#[test]
fn begin_restarts_when_last_completed_step_reaches_n() {
    for stored_step in [5, 6, 100] {
        let (_dir, path) = setup();
        let mut p = progress(stored_step, 3);
        p.last_error = Some(Some("old".into()));
        p.unknown = vec![("gone".into(), RawJson::parse("true").unwrap())];
        save(&path, &with_progress(p));
        written(store(&path).begin_sleep_cycle(5));
        assert_eq!(
            on_disk(&path).sleep_cycle_progress,
            Some(fresh_progress(&ts(NOW))),
            "stored step {stored_step}"
        );
    }
}

/// SPEC §5.2.1: `begin(0)` is refused and writes nothing, not even a file.
#[test]
fn begin_zero_is_refused_and_writes_nothing() {
    let (dir, path) = setup();
    let result = store(&path).begin_sleep_cycle(0);
    assert!(
        matches!(
            result,
            Err(StoreError::SleepCycle(SleepCycleError::NoSteps))
        ),
        "{result:?}"
    );
    assert!(!path.exists());
    let names: Vec<OsString> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![OsString::from(LOCK_FILE_NAME)]);
}

/// SPEC §5.2.2, §5.1: `begin` during a quarantine fails with `Quarantined`
/// and writes nothing.
#[test]
fn begin_while_quarantined_is_refused_and_writes_nothing() {
    let (_dir, path) = setup();
    let mut r = with_progress(progress(1, 1));
    r.quarantine = Some(quarantine_until("2024-05-01T13:00:00Z"));
    let bytes = save(&path, &r);
    let before = ino(&path);
    let result = store(&path).begin_sleep_cycle(3);
    match result {
        Err(StoreError::SleepCycle(SleepCycleError::Quarantined { until })) => {
            assert_eq!(until, ts("2024-05-01T13:00:00Z"))
        }
        other => panic!("expected Quarantined, got {other:?}"),
    }
    assert_untouched(&path, &bytes, before);
}

/// SPEC §5.1: one microsecond before `until_ts` the quarantine still holds.
#[test]
fn begin_one_microsecond_before_until_ts_is_still_quarantined() {
    let (_dir, path) = setup();
    let mut r = base();
    r.quarantine = Some(quarantine_until("2024-05-01T12:00:00.000001Z"));
    save(&path, &r);
    let result = store(&path).begin_sleep_cycle(3);
    assert!(matches!(
        result,
        Err(StoreError::SleepCycle(SleepCycleError::Quarantined { .. }))
    ));
}

/// SPEC §5.3.3: the step after 2^53−1 is refused; no record can hold it
/// (found by the machine test).
#[test]
fn step_done_past_the_largest_integer_is_refused_and_writes_nothing() {
    let (_dir, path) = setup();
    let r = with_progress(progress(lifecycle_state::record::MAX_INTEGER, 1));
    let bytes = save(&path, &r);
    let before = ino(&path);
    let result = store(&path).step_done(lifecycle_state::record::MAX_INTEGER + 1);
    assert!(
        matches!(
            result,
            Err(StoreError::SleepCycle(
                SleepCycleError::StepOutOfRange { .. }
            ))
        ),
        "{result:?}"
    );
    assert_untouched(&path, &bytes, before);
}

/// SPEC §1.4, §5.1: a quarantine ending 10^-10 s after now still holds; the
/// fraction counts at any length (regression: digits past the ninth were
/// ignored, so this quarantine counted as expired).
#[test]
fn quarantine_ending_a_tenth_of_a_nanosecond_after_now_is_still_in_force() {
    let (_dir, path) = setup();
    let mut r = base();
    r.quarantine = Some(quarantine_until("2024-05-01T12:00:00.0000000001Z"));
    save(&path, &r);
    let result = store(&path).begin_sleep_cycle(3);
    assert!(
        matches!(
            result,
            Err(StoreError::SleepCycle(SleepCycleError::Quarantined { .. }))
        ),
        "{result:?}"
    );
}

/// SPEC §5.2.3: after the clock passes `until_ts`, `begin` clears the
/// quarantine and starts the cycle.
#[test]
fn begin_clears_a_quarantine_once_the_clock_passes_until_ts() {
    let (_dir, path) = setup();
    let mut r = base();
    r.quarantine = Some(quarantine_until("2024-05-01T13:00:00Z"));
    save(&path, &r);
    let s = store(&path);
    assert!(s.begin_sleep_cycle(3).is_err());
    s.clock().advance(Duration::from_secs(3601));
    let u = written(s.begin_sleep_cycle(3));
    assert_eq!(u.record.quarantine, None);
    let stored = on_disk(&path);
    assert_eq!(stored.quarantine, None);
    assert_eq!(
        stored.sleep_cycle_progress,
        Some(fresh_progress(&s.clock().now()))
    );
}

/// SPEC §5.1, §5.2.3: exactly at `until_ts` (`now < until_ts` is false) the
/// quarantine has expired.
#[test]
fn begin_exactly_at_until_ts_counts_as_expired() {
    let (_dir, path) = setup();
    let mut r = base();
    r.quarantine = Some(quarantine_until("2024-05-01T12:00:00+00:00"));
    save(&path, &r);
    let u = written(store(&path).begin_sleep_cycle(2));
    assert_eq!(u.record.quarantine, None);
    assert_eq!(on_disk(&path).quarantine, None);
}

/// SPEC §5.2.3, §5.2.4: an expired quarantine is cleared even when the
/// cycle in progress is resumed unchanged.
#[test]
fn begin_clears_an_expired_quarantine_while_resuming() {
    let (_dir, path) = setup();
    let mut r = with_progress(progress(1, 2));
    r.quarantine = Some(quarantine_until("2024-04-01T00:00:00Z"));
    save(&path, &r);
    written(store(&path).begin_sleep_cycle(4));
    let stored = on_disk(&path);
    assert_eq!(stored.quarantine, None);
    assert_eq!(stored.sleep_cycle_progress, Some(progress(1, 2)));
}

/// SPEC §1.4 order, §5.1: `23:59:60.5` sorts before the next day's
/// `00:00:00`, so at that instant a quarantine until the leap second is over.
#[test]
fn quarantine_until_a_leap_second_has_expired_at_the_next_midnight() {
    let (_dir, path) = setup();
    let mut r = base();
    r.quarantine = Some(quarantine_until("2016-12-31T23:59:60.5Z"));
    save(&path, &r);
    let s = Store::new(
        RealFs,
        ManualClock::at(&ts("2017-01-01T00:00:00Z")),
        &path,
        Options::default(),
    );
    let u = written(s.begin_sleep_cycle(1));
    assert_eq!(u.record.quarantine, None);
}

// ---------------------------------------------------------------------------
// §5.3 step_done
// ---------------------------------------------------------------------------

/// SPEC §5.3.3: `step_done(k)` records k, resets attempt to 1 and the error to null.
#[test]
fn step_done_advances_the_step_and_resets_attempt_and_error() {
    let (_dir, path) = setup();
    let mut p = progress(1, 3);
    p.last_error = Some(Some("timeout".into()));
    save(&path, &with_progress(p));
    written(store(&path).step_done(2));
    let stored = on_disk(&path).sleep_cycle_progress.unwrap();
    assert_eq!(stored.last_completed_step, Some(2));
    assert_eq!(stored.attempt, Some(1));
    assert_eq!(stored.last_error, Some(None));
    assert_eq!(stored.started_at, Some(ts(STORED_TS)));
}

/// SPEC §5.3.2: a step out of order is refused with expected and got, and
/// nothing is written.
#[test]
fn step_done_out_of_order_is_refused_with_expected_and_got() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(progress(2, 1)));
    let before = ino(&path);
    for got in [1, 2, 4, 0] {
        let result = store(&path).step_done(got);
        match result {
            Err(StoreError::SleepCycle(SleepCycleError::WrongStep { expected, got: g })) => {
                assert_eq!((expected, g), (3, got));
            }
            other => panic!("step_done({got}): expected WrongStep, got {other:?}"),
        }
        assert_untouched(&path, &bytes, before);
    }
}

/// SPEC §5.1: with `last_completed_step` absent the next step is 1.
#[test]
fn step_done_with_absent_last_completed_step_expects_step_one() {
    let (_dir, path) = setup();
    save(&path, &with_progress(Progress::default()));
    let result = store(&path).step_done(2);
    assert!(matches!(
        result,
        Err(StoreError::SleepCycle(SleepCycleError::WrongStep {
            expected: 1,
            got: 2
        }))
    ));
    written(store(&path).step_done(1));
    assert_eq!(
        on_disk(&path)
            .sleep_cycle_progress
            .unwrap()
            .last_completed_step,
        Some(1)
    );
}

/// SPEC §5.3.1: without a cycle `step_done` fails with `NoCycle`.
#[test]
fn step_done_without_a_cycle_is_refused_with_no_cycle() {
    let (_dir, path) = setup();
    let bytes = save(&path, &base());
    let before = ino(&path);
    let result = store(&path).step_done(1);
    assert!(matches!(
        result,
        Err(StoreError::SleepCycle(SleepCycleError::NoCycle))
    ));
    assert_untouched(&path, &bytes, before);
}

/// SPEC §5.3.3, §1.5: unknown members inside the progress object survive
/// `step_done`, byte for byte and in order.
#[test]
fn step_done_keeps_unknown_members_of_progress() {
    let (_dir, path) = setup();
    let mut p = progress(0, 1);
    p.unknown = vec![
        ("host".into(), RawJson::parse("\"db-1\"").unwrap()),
        ("weights".into(), RawJson::parse("[1.50,1e400]").unwrap()),
    ];
    save(&path, &with_progress(p.clone()));
    written(store(&path).step_done(1));
    let stored = on_disk(&path).sleep_cycle_progress.unwrap();
    assert_eq!(stored.unknown, p.unknown);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(",\"host\":\"db-1\",\"weights\":[1.50,1e400]}"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// §5.4 step_failed
// ---------------------------------------------------------------------------

/// SPEC §5.4.2, §5.4.4: the first two failures record the error and count
/// attempts 1 → 2 → 3.
#[test]
fn step_failed_counts_attempts_and_records_the_error() {
    let (_dir, path) = setup();
    save(&path, &with_progress(progress(1, 1)));
    let s = store(&path);
    for (n, attempt) in [(1, 2), (2, 3)] {
        written(s.step_failed(2, &format!("error {n}")));
        let r = on_disk(&path);
        let p = r.sleep_cycle_progress.unwrap();
        assert_eq!(p.attempt, Some(attempt));
        assert_eq!(p.last_error, Some(Some(format!("error {n}"))));
        assert_eq!(p.last_completed_step, Some(1));
        assert_eq!(r.quarantine, None);
    }
}

/// SPEC §5.4.3: the third strike quarantines for 24 h with the spec's
/// reason text and resets attempt to 1.
#[test]
fn step_failed_third_strike_quarantines_for_a_day() {
    let (_dir, path) = setup();
    save(&path, &with_progress(progress(1, 3)));
    let s = store(&path);
    written(s.step_failed(2, "disk full"));
    let r = on_disk(&path);
    let q = r.quarantine.expect("quarantined");
    let now = s.clock().now();
    assert_eq!(q.reason, "sleep step 2 failed 3x: disk full");
    assert_eq!(q.since_ts.cmp_instant(&now), std::cmp::Ordering::Equal);
    assert_eq!(now.until(&q.until_ts), DAY);
    let p = r.sleep_cycle_progress.unwrap();
    assert_eq!(p.attempt, Some(1));
    assert_eq!(p.last_error, Some(Some("disk full".into())));
    assert_eq!(p.last_completed_step, Some(1));
}

/// SPEC §5.4.3: three failures in a row from a fresh step quarantine.
#[test]
fn step_failed_three_times_in_a_row_quarantines() {
    let (_dir, path) = setup();
    save(&path, &with_progress(progress(0, 1)));
    let s = store(&path);
    for _ in 0..2 {
        written(s.step_failed(1, "nope"));
        assert_eq!(on_disk(&path).quarantine, None);
    }
    written(s.step_failed(1, "nope"));
    assert!(on_disk(&path).is_quarantined(&s.clock().now()));
}

/// SPEC §5.4.3: `until_ts` = now + ttl with a ttl given in `Options`.
#[test]
fn step_failed_quarantine_uses_the_configured_ttl() {
    let (_dir, path) = setup();
    save(&path, &with_progress(progress(0, 3)));
    let ttl = Duration::from_secs(90);
    let s = store_with(
        &path,
        Options {
            quarantine_ttl: ttl,
            ..Options::default()
        },
    );
    written(s.step_failed(1, "x"));
    let q = on_disk(&path).quarantine.unwrap();
    assert_eq!(s.clock().now().until(&q.until_ts), ttl);
    assert_eq!(
        q.until_ts.cmp_instant(&ts("2024-05-01T12:01:30Z")),
        std::cmp::Ordering::Equal
    );
}

/// SPEC §5.4.3: a new quarantine replaces a previous one, unknown members and all.
#[test]
fn step_failed_third_strike_replaces_a_previous_quarantine() {
    let (_dir, path) = setup();
    let mut r = with_progress(progress(0, 3));
    let mut old = quarantine_until("2024-01-02T00:00:00Z");
    old.unknown = vec![("ticket".into(), RawJson::parse("42").unwrap())];
    r.quarantine = Some(old);
    save(&path, &r);
    written(store(&path).step_failed(1, "again"));
    let q = on_disk(&path).quarantine.unwrap();
    assert_eq!(q.reason, "sleep step 1 failed 3x: again");
    assert!(q.unknown.is_empty());
    assert_eq!(q.since_ts, ts(NOW));
}

/// SPEC §5.4.1: `step_failed` with the wrong step is refused, nothing written.
#[test]
fn step_failed_out_of_order_is_refused_with_expected_and_got() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(progress(1, 3)));
    let before = ino(&path);
    let result = store(&path).step_failed(3, "x");
    assert!(matches!(
        result,
        Err(StoreError::SleepCycle(SleepCycleError::WrongStep {
            expected: 2,
            got: 3
        }))
    ));
    assert_untouched(&path, &bytes, before);
}

/// SPEC §5.4.1: `step_failed` without a cycle is `NoCycle`.
#[test]
fn step_failed_without_a_cycle_is_refused_with_no_cycle() {
    let (_dir, path) = setup();
    let bytes = save(&path, &base());
    let before = ino(&path);
    let result = store(&path).step_failed(1, "x");
    assert!(matches!(
        result,
        Err(StoreError::SleepCycle(SleepCycleError::NoCycle))
    ));
    assert_untouched(&path, &bytes, before);
}

/// SPEC §5.4.3: a quarantine ending after year 9999 is refused, nothing written.
#[test]
fn step_failed_quarantine_past_year_9999_is_refused() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(progress(0, 3)));
    let before = ino(&path);
    let s = Store::new(
        RealFs,
        ManualClock::at(&ts("9999-12-31T12:00:00Z")),
        &path,
        Options::default(),
    );
    let result = s.step_failed(1, "late");
    assert!(
        matches!(
            result,
            Err(StoreError::SleepCycle(
                SleepCycleError::QuarantineOutOfRange
            ))
        ),
        "{result:?}"
    );
    assert_untouched(&path, &bytes, before);
}

/// SPEC §5.2.2, §5.4.3: after the third strike, `begin` is refused until
/// the ttl has passed.
#[test]
fn third_strike_blocks_begin_until_the_ttl_passes() {
    let (_dir, path) = setup();
    save(&path, &with_progress(progress(0, 3)));
    let s = store(&path);
    written(s.step_failed(1, "x"));
    s.clock().advance(DAY - Duration::from_micros(1));
    assert!(matches!(
        s.begin_sleep_cycle(2),
        Err(StoreError::SleepCycle(SleepCycleError::Quarantined { .. }))
    ));
    s.clock().advance(Duration::from_micros(1));
    written(s.begin_sleep_cycle(2));
    assert_eq!(on_disk(&path).quarantine, None);
}

// ---------------------------------------------------------------------------
// §5.5 cycle_done, §5.6 reset_quarantine
// ---------------------------------------------------------------------------

/// SPEC §5.5: `cycle_done` sets progress to null.
#[test]
fn cycle_done_clears_the_progress() {
    let (_dir, path) = setup();
    save(&path, &with_progress(progress(4, 2)));
    written(store(&path).cycle_done());
    let r = on_disk(&path);
    assert_eq!(r.sleep_cycle_progress, None);
    assert_eq!(r.wrapper_event_seq, 12);
}

/// SPEC §5.5, §4.6: `cycle_done` with no progress writes nothing.
#[test]
fn cycle_done_without_progress_writes_nothing() {
    let (_dir, path) = setup();
    let bytes = save(&path, &base());
    let before = ino(&path);
    let u = store(&path).cycle_done().unwrap();
    assert!(!u.wrote);
    assert_untouched(&path, &bytes, before);
}

/// SPEC §5.6: `reset_quarantine` clears the quarantine, sets attempt to 1
/// and keeps `last_completed_step` and everything else in progress.
#[test]
fn reset_quarantine_keeps_the_step_and_sets_attempt_to_one() {
    let (_dir, path) = setup();
    let mut p = progress(3, 3);
    p.last_error = Some(Some("bad".into()));
    p.unknown = vec![("k".into(), RawJson::parse("{}").unwrap())];
    let mut r = with_progress(p.clone());
    r.quarantine = Some(quarantine_until("2030-01-01T00:00:00Z"));
    save(&path, &r);
    written(store(&path).reset_quarantine());
    let stored = on_disk(&path);
    assert_eq!(stored.quarantine, None);
    let mut expected = p;
    expected.attempt = Some(1);
    assert_eq!(stored.sleep_cycle_progress, Some(expected));
}

/// SPEC §5.6: with progress null, `reset_quarantine` leaves it null.
#[test]
fn reset_quarantine_leaves_null_progress_null() {
    let (_dir, path) = setup();
    let mut r = base();
    r.quarantine = Some(quarantine_until("2030-01-01T00:00:00Z"));
    save(&path, &r);
    written(store(&path).reset_quarantine());
    let stored = on_disk(&path);
    assert_eq!(stored.quarantine, None);
    assert_eq!(stored.sleep_cycle_progress, None);
}

/// SPEC §5.6, §4.6: nothing to reset means nothing written.
#[test]
fn reset_quarantine_with_nothing_to_reset_writes_nothing() {
    let (_dir, path) = setup();
    let bytes = save(&path, &with_progress(progress(2, 1)));
    let before = ino(&path);
    let u = store(&path).reset_quarantine().unwrap();
    assert!(!u.wrote);
    assert_untouched(&path, &bytes, before);
}

// ---------------------------------------------------------------------------
// §5.1: one atomic save per operation; corrupt files
// ---------------------------------------------------------------------------

/// `RealFs` that counts renames onto the record path and temp files created.
#[derive(Default)]
struct CountingFs {
    renames_onto: Cell<usize>,
    temps: Cell<usize>,
    target: PathBuf,
}

impl Fs for &CountingFs {
    type File = File;
    type Lock = lifecycle_state::fs::FileLock;

    fn create_exclusive(&self, path: &Path, mode: u32) -> io::Result<File> {
        self.temps.set(self.temps.get() + 1);
        RealFs.create_exclusive(path, mode)
    }
    fn write_at(&self, file: &mut File, offset: u64, data: &[u8]) -> io::Result<()> {
        RealFs.write_at(file, offset, data)
    }
    fn sync_file(&self, file: &mut File) -> io::Result<()> {
        RealFs.sync_file(file)
    }
    fn close(&self, file: File) -> io::Result<()> {
        RealFs.close(file)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        if to == self.target {
            self.renames_onto.set(self.renames_onto.get() + 1);
        }
        RealFs.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        RealFs.sync_dir(dir)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        RealFs.remove_file(path)
    }
    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        RealFs.remove_dir(path)
    }
    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        RealFs.create_dir(path, mode)
    }
    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        RealFs.read_bounded(path, limit)
    }
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        RealFs.list_dir(dir)
    }
    fn try_lock(&self, path: &Path) -> Result<lifecycle_state::fs::FileLock, LockError> {
        RealFs.try_lock(path)
    }
}

/// SPEC §5.1, §3.3, §3.6: every writing operation is exactly one atomic
/// save (one temp file renamed over the record), leaves no temp file
/// behind, and the record stays mode 0600.
#[test]
fn each_operation_is_one_atomic_save_leaving_a_0600_file_and_no_temp() {
    let (dir, path) = setup();
    let fs = CountingFs {
        target: path.clone(),
        ..CountingFs::default()
    };
    let s = Store::new(&fs, ManualClock::at(&ts(NOW)), &path, Options::default());
    type Op<'a> = Box<dyn Fn() -> Result<Updated, StoreError> + 'a>;
    let ops: Vec<(&str, Op)> = vec![
        ("begin(2)", Box::new(|| s.begin_sleep_cycle(2))),
        ("step_failed(1)", Box::new(|| s.step_failed(1, "a"))),
        ("step_failed(1)", Box::new(|| s.step_failed(1, "b"))),
        ("step_failed(1)", Box::new(|| s.step_failed(1, "c"))),
        ("reset_quarantine", Box::new(|| s.reset_quarantine())),
        ("step_done(1)", Box::new(|| s.step_done(1))),
        ("step_done(2)", Box::new(|| s.step_done(2))),
        ("cycle_done", Box::new(|| s.cycle_done())),
    ];
    for (name, op) in ops {
        let (renames, temps) = (fs.renames_onto.get(), fs.temps.get());
        let u = op().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(u.wrote, "{name} wrote nothing");
        assert_eq!(fs.renames_onto.get() - renames, 1, "{name}: renames");
        assert_eq!(fs.temps.get() - temps, 1, "{name}: temp files");
        let mut entries: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        entries.sort();
        assert_eq!(entries, vec![LOCK_FILE_NAME, FILE_NAME], "after {name}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600, "after {name}");
        assert_eq!(on_disk(&path), u.record, "after {name}");
    }
}

/// SPEC §5.1, §4.4.1: a sleep operation on a corrupt file preserves the
/// bytes and works on the default.
#[test]
fn begin_on_a_corrupt_file_preserves_it_and_starts_fresh() {
    let (dir, path) = setup();
    std::fs::write(&path, b"{\"current_state\":\"NAP\"}").unwrap();
    let u = written(store(&path).begin_sleep_cycle(2));
    assert!(matches!(u.found, Found::Corrupt { .. }));
    let copy = dir
        .path()
        .join(format!("{FILE_NAME}.corrupt-20240501T120000.000000Z"));
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        b"{\"current_state\":\"NAP\"}"
    );
    let mut expected = Record::default_at(ts(NOW));
    expected.sleep_cycle_progress = Some(fresh_progress(&ts(NOW)));
    assert_eq!(on_disk(&path), expected);
}

/// SPEC §5.1 ("a refused operation writes nothing"), §4.4.1 (the corrupt
/// bytes are *copied*): a refused operation on a corrupt file must leave the
/// record path holding the corrupt bytes, not remove it.
#[test]
fn refused_step_done_on_a_corrupt_file_leaves_the_file_in_place() {
    let (_dir, path) = setup();
    std::fs::write(&path, b"garbage").unwrap();
    let result = store(&path).step_done(1);
    assert!(matches!(
        result,
        Err(StoreError::SleepCycle(SleepCycleError::NoCycle))
    ));
    assert_eq!(
        std::fs::read(&path).ok().as_deref(),
        Some(&b"garbage"[..]),
        "the record path no longer holds the corrupt bytes"
    );
}
