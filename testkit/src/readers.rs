//! Readers during a write (SPEC §6.1): the records a writer saves, the
//! writer, and the checker of what one reader saw.
//!
//! Promises: r0..rn differ in size and in every known member, so a read
//! that mixed two files or stopped early is corrupt or unequal to every ri;
//! [`check`] fails on every load SPEC §6.1 forbids (the tests of
//! `tests/concurrent_readers.rs` prove it). Does not promise anything about
//! how the readers run: the tests drive them.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lifecycle_state::{Progress, Quarantine, RawJson, Record, State, Store};

use crate::fixtures::{encoded, ts};

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
pub const RECORDS: u64 = 300;

pub fn r0() -> Record {
    lifecycle_state::decode(R0_TEXT.as_bytes()).expect("R0_TEXT is a valid record")
}

/// ri: r0 with every known member changed as a function of `i`, and an
/// unknown `pad` member of a length that varies with `i`.
pub fn record_at(i: u64) -> Record {
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
pub fn all_records() -> Vec<Record> {
    (0..=RECORDS).map(record_at).collect()
}

/// A load whose result differed from the previous load's (the first load
/// always counts as different).
#[derive(Debug, Clone)]
pub struct Observation {
    /// 0-based index of the load among the reader's loads.
    pub load: u64,
    /// The outcome as `LoadOutcome` displays it (`valid`, `missing`, ...).
    pub outcome: String,
    pub record: Record,
}

/// Everything one reader saw.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    pub loads: u64,
    /// Loads made before the reader was told to stop (while the writer ran,
    /// for the reader threads).
    pub loads_before_stop: u64,
    /// Whether the loop ended because it was told to stop, rather than at a
    /// deadline or a bound on its loads.
    pub stopped: bool,
    pub observations: Vec<Observation>,
}

/// SPEC §6.1 for one reader over `records` = r0..rn: every load was `Valid`
/// and returned one of r0..rn whole; the sequence never went backwards; the
/// first load returned r0 and the last rn; the loop ended because it was
/// told to, after at least `min_loads` loads.
pub fn check(report: &Report, records: &[Record], min_loads: u64) -> Result<(), String> {
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
        let json = encoded(&obs.record);
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

/// Saves r1..rn at `path`, calling `pace(i)` before saving ri, then sets
/// `done` (also when a save fails, so that no reader waits for a writer that
/// is gone). Returns how long the saves took.
pub fn write_all(
    path: &Path,
    records: &[Record],
    pace: &dyn Fn(u64),
    done: &AtomicBool,
) -> Duration {
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
