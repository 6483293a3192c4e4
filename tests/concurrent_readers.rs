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
//! checked the same way, in about a hundred runs at most, while `Store::save`
//! writes (this once found that a spawned child kept the writer lock, see
//! `writer_lock.rs`).
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

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{setup, ts};
use lifecycle_state::{Loaded, Progress, Quarantine, RawJson, Record, State, Store};

/// r0, as JSON text with whitespace, nested objects and unknown members.
const R0_TEXT: &str = r#"{
  "current_state": "DROWSY",
  "since_ts": "2024-05-01T12:00:00+00:00",
  "last_activity_ts": "2024-05-01T12:34:56.5Z",
  "wrapper_event_seq": 0,
  "sleep_cycle_progress": {"last_completed_step": 1, "attempt": 2, "last_error": null, "p_extra": [1.50, -0]},
  "quarantine": null,
  "shadow_run": false,
  "pad": "",
  "extra": {"nested": [true, null, "\u00e9"]}
}"#;

/// The writer saves r1..=r[`RECORDS`] over r0.
const RECORDS: u64 = 300;
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
// The records
// ---------------------------------------------------------------------------

fn r0() -> Record {
    lifecycle_state::decode(R0_TEXT.as_bytes()).expect("R0_TEXT is a valid record")
}

/// ri: r0 with every known member changed as a function of `i`, and an
/// unknown `pad` member of a length that varies with `i`.
fn record_at(i: u64) -> Record {
    let mut r = r0();
    if i == 0 {
        return r;
    }
    r.wrapper_event_seq = i;
    r.current_state = State::ALL[(i % 4) as usize];
    r.since_ts = ts(&format!("2024-05-02T{:02}:00:00Z", i % 24));
    r.last_activity_ts = ts(&format!(
        "2024-05-02T{:02}:{:02}:{:02}.{i}Z",
        i % 24,
        (i / 60) % 60,
        i % 60
    ));
    r.shadow_run = !i.is_multiple_of(2);
    r.sleep_cycle_progress = (!i.is_multiple_of(5)).then(|| Progress {
        last_completed_step: Some(i % 7),
        attempt: Some(1 + i % 3),
        last_error: Some(i.is_multiple_of(3).then(|| format!("step {i} failed"))),
        started_at: Some(ts("2024-05-02T00:00:00Z")),
        unknown: Vec::new(),
    });
    r.quarantine = i.is_multiple_of(7).then(|| Quarantine {
        until_ts: ts("2024-05-03T00:00:00Z"),
        since_ts: ts("2024-05-02T00:00:00Z"),
        reason: format!("quarantine {i}"),
        unknown: Vec::new(),
    });
    let letter = char::from(b'a' + (i % 26) as u8);
    let pad: String = std::iter::repeat_n(letter, ((i * 797) % 3_000) as usize).collect();
    let pad = RawJson::parse(&format!("\"{pad}\"")).expect("a plain string is valid JSON");
    let slot = r
        .unknown
        .iter_mut()
        .find(|(name, _)| name == "pad")
        .expect("R0_TEXT has a pad member");
    slot.1 = pad;
    r
}

/// r0..=r[`RECORDS`], indexed by `wrapper_event_seq`.
fn all_records() -> Vec<Record> {
    (0..=RECORDS).map(record_at).collect()
}

// ---------------------------------------------------------------------------
// Readers and what they report
// ---------------------------------------------------------------------------

/// A load whose result differed from the previous load's (the first load
/// always counts as different).
#[derive(Debug, Clone)]
struct Observation {
    /// 0-based index of the load among the reader's loads.
    load: u64,
    /// The outcome as `LoadOutcome` displays it (`valid`, `missing`, ...).
    outcome: String,
    record: Record,
}

/// Everything one reader saw.
#[derive(Debug, Clone)]
struct Report {
    name: String,
    loads: u64,
    /// Loads made before the reader was told to stop (while the writer ran,
    /// for the reader threads).
    loads_before_stop: u64,
    /// Whether the loop ended because it was told to stop, rather than at
    /// [`READER_DEADLINE`] or [`MAX_LOADS`].
    stopped: bool,
    observations: Vec<Observation>,
}

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
            let json = common::encoded(record);
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

/// SPEC §6.1 for one reader over `records` = r0..rn: every load was `Valid`
/// and returned one of r0..rn whole; the sequence never went backwards; the
/// first load returned r0 and the last rn; the loop ended because it was
/// told to, after at least `min_loads` loads.
fn check(report: &Report, records: &[Record], min_loads: u64) -> Result<(), String> {
    let name = &report.name;
    if !report.stopped {
        return Err(format!("{name} hit its deadline or load bound"));
    }
    if report.loads < min_loads {
        return Err(format!(
            "{name} made {} loads, fewer than {min_loads}",
            report.loads
        ));
    }
    let mut previous: Option<u64> = None;
    for obs in &report.observations {
        if obs.load >= report.loads {
            return Err(format!(
                "{name}: load #{} of only {}",
                obs.load, report.loads
            ));
        }
        let json = common::encoded(&obs.record);
        if obs.outcome != "valid" {
            return Err(format!(
                "{name}: load #{} was {}, returning {json}",
                obs.load, obs.outcome
            ));
        }
        let seq = obs.record.wrapper_event_seq;
        let expected = usize::try_from(seq).ok().and_then(|i| records.get(i));
        if expected != Some(&obs.record) {
            return Err(format!(
                "{name}: load #{} returned {json}, which is none of r0..r{}",
                obs.load,
                records.len() - 1
            ));
        }
        if let Some(before) = previous.filter(|&before| seq < before) {
            return Err(format!(
                "{name}: load #{} returned r{seq} after r{before}",
                obs.load
            ));
        }
        previous = Some(seq);
    }
    let first = report
        .observations
        .first()
        .map(|o| (o.load, o.record.wrapper_event_seq));
    if first != Some((0, 0)) {
        return Err(format!(
            "{name}: the first load did not return r0: {first:?}"
        ));
    }
    let last = records.len() as u64 - 1;
    if previous != Some(last) {
        return Err(format!(
            "{name}: the last load returned r{previous:?}, not r{last}"
        ));
    }
    Ok(())
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
    let mut child = common::rerun_self(READER_ENTRY)
        .env(READER_PATH_ENV, path)
        .env(READER_UNTIL_ENV, until)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the test binary re-runs itself");
    let rx = common::stdout_lines(child.stdout.take().unwrap());
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

/// Saves r1..rn at `path`, calling `pace(i)` before saving ri, then sets
/// `done` (also when a save fails, so that no reader waits for a writer that
/// is gone). Returns how long the saves took.
fn write_all(path: &Path, records: &[Record], pace: &dyn Fn(u64), done: &AtomicBool) -> Duration {
    let started = Instant::now();
    let store = Store::open(path);
    let result = (1..records.len()).try_for_each(|i| {
        pace(i as u64);
        store.save(&records[i]).map(drop).map_err(|e| e.to_string())
    });
    done.store(true, Ordering::Release);
    if let Err(e) = result {
        panic!("the writer failed: {e}");
    }
    started.elapsed()
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

/// SPEC §6.1, through the CLI: `lifecycle load` run again and again while a
/// writer saves r1..rn prints `outcome: valid` and one of r0..rn whole, and
/// successive runs never go backwards.
#[test]
fn the_load_command_prints_only_saved_records_in_order_while_a_writer_saves() {
    const MAX_RUNS: u64 = 100;
    let (_dir, path) = setup();
    let records = all_records();
    lifecycle_state::save(&path, &records[0]).unwrap();

    let load_once = |runs: u64| -> Observation {
        let out = Command::new(common::LIFECYCLE)
            .arg("load")
            .arg(&path)
            .output()
            .expect("run lifecycle load");
        assert!(out.status.success(), "lifecycle load: {out:?}");
        let stderr = common::stderr_of(&out);
        let outcome = stderr
            .trim()
            .strip_prefix("outcome: ")
            .unwrap_or_else(|| panic!("no outcome on stderr: {stderr:?}"))
            .to_string();
        let record = lifecycle_state::decode(&out.stdout).unwrap_or_else(|e| {
            panic!("stdout is not a record ({e}): {}", common::stdout_of(&out))
        });
        Observation {
            load: runs,
            outcome,
            record,
        }
    };

    let writer_done = AtomicBool::new(false);
    let mut observations = vec![load_once(0)];
    std::thread::scope(|s| {
        s.spawn(|| write_all(&path, &records, &|_| {}, &writer_done));
        while !writer_done.load(Ordering::Acquire) && (observations.len() as u64) < MAX_RUNS {
            observations.push(load_once(observations.len() as u64));
        }
    });
    observations.push(load_once(observations.len() as u64));

    let report = Report {
        name: "lifecycle load".to_string(),
        loads: observations.len() as u64,
        loads_before_stop: observations.len() as u64 - 1,
        stopped: true,
        observations,
    };
    if let Err(e) = check(&report, &records, 2) {
        panic!("{e}");
    }
    let mut seqs: Vec<u64> = report
        .observations
        .iter()
        .map(|o| o.record.wrapper_event_seq)
        .collect();
    seqs.dedup();
    eprintln!(
        "{} runs of lifecycle load, {} distinct records",
        report.loads,
        seqs.len()
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
