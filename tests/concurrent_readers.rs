//! Readers during a write (SPEC §6.1), on the real file system.
//!
//! What this file proves: while one writer (`Store::save`, under the writer
//! lock) saves records r1..rn over a valid r0, every load made by three reader
//! threads and by one reader process (this test binary re-run as a child, see
//! [`READER_PATH_ENV`]) returns outcome `Valid` and a record equal, as a
//! whole, to one of r0..rn: never the default, never a torn or mixed file. The
//! loads of each reader never go backwards (after ri, only rj with j ≥ i), each
//! reader sees r0 before the writer starts and rn once it is done, and together
//! the readers make at least [`MIN_TOTAL_LOADS`] loads. The writer waits for
//! the reader threads to keep pace, so their loads spread over the whole
//! write rather than bunching after it. The `lifecycle load` command is
//! checked the same way in `cli/tests/concurrent_readers.rs`. The records,
//! the writer and the checker of SPEC §6.1 are `lifecycle_testkit::readers`.
//!
//! The records differ in size (an unknown `pad` member of 0 to ~3 KB) and in
//! every known member, so a read that mixed two files or stopped early would
//! be corrupt or unequal to every ri.
//!
//! What it does not prove: anything about a crash or a power loss (SPEC §3.4,
//! see `save.rs` and `strace_save.rs`), about several writers (SPEC §6.2, see
//! `writer_lock.rs`), about file systems other than the one `TempDir` lands
//! on, or about interleavings these runs did not happen to produce: it is a
//! stress test, not a proof over all schedules.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lifecycle_state::{Loaded, Record};
use lifecycle_testkit::fixtures::{rerun_self, setup, stdout_lines, ts};
use lifecycle_testkit::readers::{
    all_records, check, r0, record_at, write_all, Observation, Report, RECORDS,
};

const READER_THREADS: usize = 3;
/// Each reader thread loads at least this often, nearly all of it while the
/// writer runs (the writer keeps pace with the threads).
const MIN_THREAD_LOADS: u64 = 2_500;
/// The reader process loads at least this often.
const MIN_PROCESS_LOADS: u64 = 2_500;
/// Threads and process together, asserted.
const MIN_TOTAL_LOADS: u64 = 10_000;
/// Loads each reader makes once told to stop, so its last load sees rn.
const LOADS_AFTER_STOP: u64 = 20;
/// Hard bounds on every reader loop, so no run can hang CI.
const MAX_LOADS: u64 = 5_000_000;
const READER_DEADLINE: Duration = Duration::from_secs(60);
/// How long the parent waits for a reader to start or to finish.
const PATIENCE: Duration = Duration::from_secs(90);

/// Set in the reader process: the record path to load in a loop.
const READER_PATH_ENV: &str = "LIFECYCLE_READER_PATH";
/// Set in the reader process: the file whose appearance tells it to stop.
const READER_UNTIL_ENV: &str = "LIFECYCLE_READER_UNTIL";
/// The test the reader process runs (see its doc).
const READER_ENTRY: &str = "the_reader_process_reports_each_record_it_sees_in_order";

// ---------------------------------------------------------------------------
// Readers and what they report
// ---------------------------------------------------------------------------

/// How a [`reader_loop`] ended.
#[derive(Debug, Clone, Copy)]
struct LoopEnd {
    loads: u64,
    loads_before_stop: u64,
    stopped: bool,
}

/// Loads `path` until `stop()` has held for [`LOADS_AFTER_STOP`] loads and at
/// least `min_loads` loads were made, or until a hard bound. Calls `observe`
/// for every load whose outcome or record differs from the previous load's,
/// so always for load 0, and publishes the number of loads so far in
/// `progress`.
fn reader_loop(
    path: &Path,
    min_loads: u64,
    stop: &dyn Fn() -> bool,
    progress: &AtomicU64,
    observe: &mut dyn FnMut(u64, &str, &Record),
) -> LoopEnd {
    let started = Instant::now();
    let mut previous: Option<(String, Record)> = None;
    let mut loads = 0;
    let mut after_stop = 0;
    let mut stopped = false;
    while loads < MAX_LOADS && started.elapsed() < READER_DEADLINE {
        let Loaded { record, outcome } = lifecycle_state::load(path);
        let outcome = outcome.to_string();
        let same = matches!(&previous, Some((o, r)) if *o == outcome && *r == record);
        if !same {
            observe(loads, &outcome, &record);
            previous = Some((outcome, record));
        }
        loads += 1;
        progress.store(loads, Ordering::Release);
        if stop() {
            after_stop += 1;
            if after_stop >= LOADS_AFTER_STOP && loads >= min_loads {
                stopped = true;
                break;
            }
        }
    }
    LoopEnd {
        loads,
        loads_before_stop: loads - after_stop,
        stopped,
    }
}

/// What the reader process prints, one line each (tab-separated).
const READY_LINE: &str = "reader-ready";
const OBS_TAG: &str = "reader-obs";
const END_TAG: &str = "reader-end";

/// The reader process's loop: [`reader_loop`] on `path` until `until`
/// exists, reporting on `out` in the line format [`parse_process_report`]
/// reads.
fn run_reader_process(path: &Path, until: &Path, min_loads: u64, out: &mut dyn Write) {
    // The test harness may have left a partial line on stdout.
    writeln!(out).unwrap();
    let mut failed_write = None;
    let end = reader_loop(
        path,
        min_loads,
        &|| until.exists(),
        &AtomicU64::new(0),
        &mut |load, outcome, record| {
            let json = lifecycle_testkit::fixtures::encoded(record);
            let outcome = outcome.replace(['\t', '\n'], " ");
            let mut written = writeln!(out, "{OBS_TAG}\t{load}\t{outcome}\t{}", json.trim_end());
            if load == 0 {
                // The parent starts the writer once the first load is done.
                written = written
                    .and_then(|()| writeln!(out, "{READY_LINE}"))
                    .and_then(|()| out.flush());
            }
            if let Err(e) = written {
                failed_write.get_or_insert(e);
            }
        },
    );
    if let Some(e) = failed_write {
        panic!("the reader process could not report: {e}");
    }
    let LoopEnd {
        loads,
        loads_before_stop,
        stopped,
    } = end;
    writeln!(out, "{END_TAG}\t{loads}\t{loads_before_stop}\t{stopped}").unwrap();
    out.flush().unwrap();
}

/// Reads the lines of [`run_reader_process`] back into a [`Report`]. Lines
/// without one of its tags (the test harness's own) are skipped.
fn parse_process_report(name: &str, lines: &[String]) -> Result<Report, String> {
    let mut observations = Vec::new();
    let mut end = None;
    for line in lines {
        let fields: Vec<&str> = line.splitn(4, '\t').collect();
        match fields.as_slice() {
            [OBS_TAG, load, outcome, json] => {
                let load = load.parse().map_err(|e| format!("{name}: {line:?}: {e}"))?;
                let record = lifecycle_state::decode(json.as_bytes())
                    .map_err(|e| format!("{name}: reported record {json:?}: {e}"))?;
                observations.push(Observation {
                    load,
                    outcome: outcome.to_string(),
                    record,
                });
            }
            [END_TAG, loads, before_stop, stopped] => {
                let number = |text: &str| -> Result<u64, String> {
                    text.parse().map_err(|e| format!("{name}: {line:?}: {e}"))
                };
                let stopped = stopped
                    .parse()
                    .map_err(|e| format!("{name}: {line:?}: {e}"))?;
                end = Some((number(loads)?, number(before_stop)?, stopped));
            }
            _ => {}
        }
    }
    let (loads, loads_before_stop, stopped) =
        end.ok_or_else(|| format!("{name}: no {END_TAG} line"))?;
    Ok(Report {
        name: name.to_string(),
        loads,
        loads_before_stop,
        stopped,
        observations,
    })
}

/// Kills the reader process if the parent gives up early (a panic), so no
/// child outlives the test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Re-runs this test binary as a reader process on `path`, stopping once
/// `until` exists. Its stdout lines arrive on the returned channel.
fn spawn_reader_process(path: &Path, until: &Path) -> (KillOnDrop, mpsc::Receiver<String>) {
    let mut child = rerun_self(READER_ENTRY)
        .env(READER_PATH_ENV, path)
        .env(READER_UNTIL_ENV, until)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the test binary re-runs itself");
    let rx = stdout_lines(child.stdout.take().unwrap());
    (KillOnDrop(child), rx)
}

/// Collects lines from `rx` until `done(line)` holds (true) or the sender
/// hangs up (false), panicking after [`PATIENCE`].
fn collect_until(
    rx: &mpsc::Receiver<String>,
    lines: &mut Vec<String>,
    done: impl Fn(&str) -> bool,
) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let finished = done(&line);
                lines.push(line);
                if finished {
                    return true;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("the reader process was silent for {PATIENCE:?}: {lines:?}")
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// SPEC §6.1: while one writer saves r1..rn over r0, three reader threads and
/// one reader process load the record over and over (at least
/// [`MIN_TOTAL_LOADS`] loads in all). Every load is `Valid` and returns one
/// of r0..rn whole, never the default; no reader ever goes backwards; each
/// sees r0 before the writer starts and rn after it is done.
#[test]
fn every_load_while_a_writer_saves_is_a_saved_record_and_never_goes_backwards() {
    let (dir, path) = setup();
    let records = all_records();
    lifecycle_state::save(&path, &records[0]).unwrap();
    let until = dir.path().join("readers-stop");
    let started = Instant::now();

    let (mut child, lines_rx) = spawn_reader_process(&path, &until);
    let mut lines = Vec::new();
    let ready = collect_until(&lines_rx, &mut lines, |l| l.trim() == READY_LINE);
    assert!(
        ready,
        "the reader process ended before its first load: {lines:?}"
    );

    let writer_done = AtomicBool::new(false);
    let progress: [AtomicU64; READER_THREADS] = std::array::from_fn(|_| AtomicU64::new(0));
    // Before saving ri, wait until every reader thread has made its share
    // (i-1)/n of MIN_THREAD_LOADS (and at least its first load), so their
    // loads spread over the whole write.
    let pace_deadline = Instant::now() + PATIENCE;
    let pace = |i: u64| {
        let share = (MIN_THREAD_LOADS * (i - 1) / RECORDS).max(1);
        while progress.iter().any(|p| p.load(Ordering::Acquire) < share)
            && Instant::now() < pace_deadline
        {
            std::thread::sleep(Duration::from_micros(50));
        }
    };
    let mut write_time = Duration::ZERO;
    let mut reports: Vec<Report> = std::thread::scope(|s| {
        let readers: Vec<_> = (0..READER_THREADS)
            .map(|n| {
                let (path, writer_done, progress) = (&path, &writer_done, &progress[n]);
                s.spawn(move || {
                    let mut observations = Vec::new();
                    let end = reader_loop(
                        path,
                        MIN_THREAD_LOADS,
                        &|| writer_done.load(Ordering::Acquire),
                        progress,
                        &mut |load, outcome, record| {
                            observations.push(Observation {
                                load,
                                outcome: outcome.to_string(),
                                record: record.clone(),
                            })
                        },
                    );
                    Report {
                        name: format!("reader thread {n}"),
                        loads: end.loads,
                        loads_before_stop: end.loads_before_stop,
                        stopped: end.stopped,
                        observations,
                    }
                })
            })
            .collect();

        // pace(1) lets every reader thread load r0 before the first save.
        write_time = write_all(&path, &records, &pace, &writer_done);
        readers
            .into_iter()
            .map(|r| r.join().expect("a reader thread panicked"))
            .collect()
    });
    assert_eq!(
        reports.len(),
        READER_THREADS,
        "every reader thread reported"
    );

    std::fs::write(&until, b"").unwrap();
    let ended = collect_until(&lines_rx, &mut lines, |l| l.starts_with(END_TAG));
    let status = child.0.wait().unwrap();
    assert!(
        ended,
        "the reader process ended without a report: {lines:?}"
    );
    assert!(status.success(), "the reader process failed: {status}");
    reports.push(parse_process_report("reader process", &lines).unwrap());

    for report in &reports {
        let min = if report.name == "reader process" {
            MIN_PROCESS_LOADS
        } else {
            MIN_THREAD_LOADS
        };
        if let Err(e) = check(report, &records, min) {
            panic!("{e}");
        }
    }
    let total: u64 = reports.iter().map(|r| r.loads).sum();
    let summary: Vec<String> = reports
        .iter()
        .map(|r| {
            format!(
                "{}: {} loads ({} before told to stop), {} distinct records",
                r.name,
                r.loads,
                r.loads_before_stop,
                r.observations.len()
            )
        })
        .collect();
    eprintln!(
        "{total} loads in {:?}, {RECORDS} saves in {write_time:?}: {}",
        started.elapsed(),
        summary.join("; ")
    );
    assert!(
        total >= MIN_TOTAL_LOADS,
        "only {total} loads: {}",
        summary.join("; ")
    );
}

/// The reader process's side of
/// [`every_load_while_a_writer_saves_is_a_saved_record_and_never_goes_backwards`].
///
/// Run as that test's child ([`READER_PATH_ENV`] set), it loads the record in
/// a loop and reports on stdout. Run normally, it checks that report: over a
/// file nobody writes, the reader reports r0 once, then its load count, and
/// the parent's parser and checker accept exactly that.
#[test]
fn the_reader_process_reports_each_record_it_sees_in_order() {
    if let Some(path) = std::env::var_os(READER_PATH_ENV) {
        let until = std::env::var_os(READER_UNTIL_ENV).expect("the stop file is named");
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        run_reader_process(
            Path::new(&path),
            Path::new(&until),
            MIN_PROCESS_LOADS,
            &mut out,
        );
        return;
    }
    let (dir, path) = setup();
    let r = r0();
    lifecycle_state::save(&path, &r).unwrap();
    let until: PathBuf = dir.path().join("readers-stop");
    std::fs::write(&until, b"").unwrap();

    let mut out = Vec::new();
    run_reader_process(&path, &until, 50, &mut out);
    let lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.iter().filter(|l| l.as_str() == READY_LINE).count(), 1);
    let report = parse_process_report("reader", &lines).unwrap();
    assert_eq!(report.loads, 50);
    assert!(report.stopped);
    assert_eq!(report.observations.len(), 1, "{report:?}");
    assert_eq!(report.observations[0].outcome, "valid");
    assert_eq!(report.observations[0].record, r);
    assert_eq!(check(&report, &[r], 50), Ok(()));
}

/// The checker of SPEC §6.1 fails on each thing §6.1 forbids: a non-valid
/// outcome (the default), a record that is none of r0..rn, a step backwards,
/// a last load that is not rn, and too few loads; it accepts a correct run.
#[test]
fn the_checker_rejects_every_load_that_spec_6_1_forbids() {
    let records: Vec<Record> = (0..=3).map(record_at).collect();
    let obs = |load: u64, outcome: &str, record: &Record| Observation {
        load,
        outcome: outcome.to_string(),
        record: record.clone(),
    };
    let report = |observations: Vec<Observation>| Report {
        name: "reader".to_string(),
        loads: 10,
        loads_before_stop: 9,
        stopped: true,
        observations,
    };
    let good = vec![
        obs(0, "valid", &records[0]),
        obs(3, "valid", &records[2]),
        obs(7, "valid", &records[3]),
    ];
    assert_eq!(check(&report(good.clone()), &records, 10), Ok(()));

    let mut default = good.clone();
    let now = Record::default_at(ts("2024-05-01T12:00:00Z"));
    default.insert(1, obs(1, "missing", &now));
    assert!(check(&report(default), &records, 10).is_err());

    let mut stranger = good.clone();
    let mut changed = records[1].clone();
    changed.shadow_run = !changed.shadow_run;
    stranger.insert(1, obs(1, "valid", &changed));
    assert!(check(&report(stranger), &records, 10).is_err());

    let mut backwards = good.clone();
    backwards.insert(2, obs(5, "valid", &records[1]));
    assert!(check(&report(backwards), &records, 10).is_err());

    let short = good[..2].to_vec();
    assert!(check(&report(short), &records, 10).is_err());

    assert!(check(&report(good), &records, 11).is_err());
}
