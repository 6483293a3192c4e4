//! `concurrency`: readers in other processes while a writer saves (SPEC
//! §6.1, requirements §6).
//!
//! Promises: one case, `concurrency/readers_during_saves`: the record file
//! holds r0; [`READERS`] more adapter processes (threads, for the in-process
//! store) load it in a loop while the case's adapter saves r1, r2, … (each
//! a few kilobytes, so a torn write shows), until the readers have made at
//! least [`MIN_LOADS`] loads between them. Every load must return one of
//! r0…rn, never the default, and each reader's successive loads never go
//! backwards. The first load that breaks this is the finding, with the
//! reader, the load's number and what it returned.
//!
//! Does not promise: anything about two writers (the lock); the timing of
//! loads, which the implementation's speed decides.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use lifecycle_harness::report;
use lifecycle_harness::subject::Subject;
use lifecycle_harness::world::at_micros;
use lifecycle_harness::World;
use lifecycle_harness::{compare, Finding, Rules};
use lifecycle_model::spec::{FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::Found;
use lifecycle_model::Record;

use crate::adapter::{Adapter, Config};
use crate::case::{record, stamp, FIXED_NOW};
use crate::case::{Case, Judged, Planned};
use crate::subject::AdapterSubject;

/// Reader processes beside the writer.
pub const READERS: usize = 2;
/// Loads the readers make between them, at least.
pub const MIN_LOADS: usize = 2_000;
/// Saves at most, and time at most: a slow implementation still ends.
const MAX_SAVES: u64 = 5_000;
const MAX_TIME: Duration = Duration::from_secs(60);
/// r_i's sequence number is this plus i, so no r_i is the default.
const FIRST_SEQ: u64 = 1_000;
/// How many times the usual timeout each request of the case may take.
const CONTENTION_FACTOR: u32 = 5;

/// r_i: sequence `FIRST_SEQ + i`, and ballast of a size that changes with
/// i, several pages long.
fn numbered(i: u64) -> Record {
    let ballast = "x".repeat(4_000 + (i % 7) as usize * 1_500);
    record(&format!(
        r#"{{"current_state":"WAKE","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":{},"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"ballast":"{ballast}"}}"#,
        FIRST_SEQ + i,
        t = stamp(FIXED_NOW)
    ))
}

/// What one reader saw: the index of the record each load returned, or
/// what was wrong with the first load that broke the rules.
struct Seen {
    loads: usize,
    problem: Option<String>,
}

fn read_loop(
    adapter: &mut Adapter,
    dir: &std::path::Path,
    reader: usize,
    saving: &AtomicBool,
    loads: &AtomicUsize,
    failed: &AtomicBool,
) -> Seen {
    let world = World::new(FIXED_NOW, Found::Missing).with_rules(Rules::Requirements);
    let mut subject = AdapterSubject::new(adapter, dir);
    let mut last = 0;
    let mut count = 0;
    // One more load after the writer stops: the last record is seen too.
    let mut after_stop = 0;
    while after_stop < 1 {
        if !saving.load(Ordering::Acquire) {
            after_stop += 1;
        }
        count += 1;
        loads.fetch_add(1, Ordering::Relaxed);
        let at = |what: String| {
            // The writer need not go on: the finding is made.
            failed.store(true, Ordering::Release);
            Some(format!("reader {reader}, load {count}: {what}"))
        };
        let loaded = match subject.load(&at_micros(FIXED_NOW)) {
            Ok(loaded) => loaded,
            Err(failure) => {
                return Seen {
                    loads: count,
                    problem: at(format!("load failed: {failure}")),
                }
            }
        };
        let got = match &loaded.record {
            Ok(r) => r,
            Err(not) => {
                return Seen {
                    loads: count,
                    problem: at(format!(
                        "load returned something that is not a record: {not}"
                    )),
                }
            }
        };
        let index = got.wrapper_event_seq.checked_sub(FIRST_SEQ);
        let known = index.filter(|i| compare::same_record(&world, &numbered(*i), got));
        let Some(index) = known else {
            return Seen {
                loads: count,
                problem: at(format!(
                    "load returned {}, none of the records saved (the default, or a mix of two)",
                    report::record(got)
                )),
            };
        };
        if index < last {
            return Seen {
                loads: count,
                problem: at(format!("load went backwards: r{index} after r{last}")),
            };
        }
        last = index;
    }
    Seen {
        loads: count,
        problem: None,
    }
}

fn readers_during_saves(case: &mut Case<'_>) -> Judged {
    let dir = case.dir.clone();
    case.subject()
        .put_file(RECORD_FILE_NAME, &numbered(0).encode(), FILE_MODE);
    // Three processes on the same file slow each other down: each gets
    // more time than a request alone would, so contention is not taken
    // for a hang.
    let config = Config {
        timeout: case.adapter.config().timeout * CONTENTION_FACTOR,
        ..case.adapter.config().clone()
    };
    let mut adapters = Vec::new();
    for _ in 0..=READERS {
        match Adapter::start(config.clone()) {
            Ok(adapter) => adapters.push(adapter),
            Err(why) => {
                return Judged::Found(Finding::violation(
                    "§6.1",
                    "the adapter starts for each reader and the writer",
                    format!("an adapter for the readers or the writer did not start: {why}"),
                ))
            }
        }
    }
    let mut writer = adapters.remove(0);
    let mut readers = adapters;
    let saving = AtomicBool::new(true);
    let loads = AtomicUsize::new(0);
    let reader_failed = AtomicBool::new(false);
    let started = Instant::now();
    let (seen, saved, failed) = thread::scope(|scope| {
        let handles: Vec<_> = readers
            .iter_mut()
            .enumerate()
            .map(|(n, adapter)| {
                let (dir, saving, loads, failed) = (&dir, &saving, &loads, &reader_failed);
                scope.spawn(move || read_loop(adapter, dir, n + 1, saving, loads, failed))
            })
            .collect();
        let mut subject = AdapterSubject::new(&mut writer, &dir);
        let mut saved = 0;
        let mut failed = None;
        while saved < MAX_SAVES
            && started.elapsed() < MAX_TIME
            && !reader_failed.load(Ordering::Acquire)
            && (saved < 50 || loads.load(Ordering::Relaxed) < MIN_LOADS)
        {
            if let Err(failure) = subject.save(&numbered(saved + 1)) {
                failed = Some(format!("save of r{} failed: {failure}", saved + 1));
                break;
            }
            saved += 1;
        }
        saving.store(false, Ordering::Release);
        let seen: Vec<Seen> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or(Seen {
                    loads: 0,
                    problem: Some("a reader thread of the oracle panicked".to_string()),
                })
            })
            .collect();
        (seen, saved, failed)
    });
    let total: usize = seen.iter().map(|s| s.loads).sum();
    if let Some(problem) = seen.iter().find_map(|s| s.problem.clone()) {
        return Judged::Found(Finding::violation(
            "§6.1",
            "a load while a writer saves returns a record that was saved, never older than one it returned before",
            format!("while a writer saved r1..r{saved} over r0: {problem}"),
        ));
    }
    if let Some(why) = failed {
        return Judged::Found(Finding::violation(
            "§3",
            "save of a valid record succeeds",
            why,
        ));
    }
    Judged::Pass(format!(
        "{total} loads by {READERS} readers while {saved} saves ran: never the default, never backwards"
    ))
}

pub fn plan() -> Vec<Planned> {
    vec![Planned::new(
        "concurrency/readers_during_saves",
        "§6.1",
        format!(
            "the record file holds r0 (wrapper_event_seq {FIRST_SEQ}); {READERS} reader processes load in a loop while a writer saves r1, r2, … (wrapper_event_seq {FIRST_SEQ}+i, 4 to 13 KB each) until {MIN_LOADS} loads"
        ),
        readers_during_saves,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_numbered_records_are_valid_and_tell_themselves_apart() {
        let (a, b) = (numbered(1), numbered(2));
        assert!(a.is_valid() && b.is_valid());
        assert_ne!(a.encode().len(), b.encode().len());
        assert!(a.encode().len() > 4_096);
        assert_eq!(b.wrapper_event_seq, FIRST_SEQ + 2);
    }
}
