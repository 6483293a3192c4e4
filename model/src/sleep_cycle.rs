//! SPEC §5: the sleep-cycle bookkeeping, pure.
//!
//! Promises: each function is one operation of SPEC §5.2-§5.6 on a record
//! in memory at instant `now`: the new record, or why it is refused.
//!
//! Does not promise: locking, loading or saving; see [`crate::writer`].

use crate::record::{Progress, Quarantine, Record};
use crate::spec::MAX_INTEGER;
use crate::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `begin(0)` (§5.2.1).
    NoSteps,
    /// §5.2.2.
    Quarantined,
    /// §5.3.1, §5.4.1.
    NoCycle,
    /// §5.3.2, §5.4.1.
    WrongStep { expected: u64, got: u64 },
    /// now + ttl after year 9999 (§5.4.3).
    QuarantineOutOfRange,
    /// `step_done(k)` with k > 2^53−1 (§5.3.3).
    StepOutOfRange { step: u64 },
}

/// SPEC §5.2.
pub fn begin(record: &Record, steps: u64, now: &Timestamp) -> Result<Record, Refusal> {
    if steps == 0 {
        return Err(Refusal::NoSteps);
    }
    if record.is_quarantined(now) {
        return Err(Refusal::Quarantined);
    }
    let mut record = record.clone();
    // Not quarantined, so a non-null quarantine has expired (§5.2.3).
    record.quarantine = None;
    let finished = record
        .sleep_cycle_progress
        .as_ref()
        .is_none_or(|p| last_completed(p) >= steps);
    if finished {
        record.sleep_cycle_progress = Some(Progress {
            last_completed_step: Some(0),
            attempt: Some(1),
            last_error: Some(None),
            started_at: Some(now.clone()),
            unknown: Vec::new(),
        });
    }
    Ok(record)
}

/// SPEC §5.3.
pub fn step_done(record: &Record, step: u64) -> Result<Record, Refusal> {
    let mut record = record.clone();
    let progress = expect_step(&mut record, step)?;
    if step > MAX_INTEGER {
        return Err(Refusal::StepOutOfRange { step });
    }
    progress.last_completed_step = Some(step);
    progress.attempt = Some(1);
    progress.last_error = Some(None);
    Ok(record)
}

/// SPEC §5.4.
pub fn step_failed(
    record: &Record,
    step: u64,
    error: &str,
    now: &Timestamp,
    ttl_secs: u64,
) -> Result<Record, Refusal> {
    let mut record = record.clone();
    let progress = expect_step(&mut record, step)?;
    progress.last_error = Some(Some(error.to_string()));
    let attempt = progress.attempt.unwrap_or(1);
    if attempt < 3 {
        progress.attempt = Some(attempt + 1);
        return Ok(record);
    }
    progress.attempt = Some(1);
    let until_ts = now
        .plus_secs(ttl_secs)
        .ok_or(Refusal::QuarantineOutOfRange)?;
    record.quarantine = Some(Quarantine {
        until_ts,
        since_ts: now.clone(),
        reason: format!("sleep step {step} failed 3x: {error}"),
        unknown: Vec::new(),
    });
    Ok(record)
}

/// SPEC §5.5.
pub fn cycle_done(record: &Record) -> Record {
    Record {
        sleep_cycle_progress: None,
        ..record.clone()
    }
}

/// SPEC §5.6.
pub fn reset_quarantine(record: &Record) -> Record {
    let mut record = record.clone();
    record.quarantine = None;
    if let Some(progress) = &mut record.sleep_cycle_progress {
        progress.attempt = Some(1);
    }
    record
}

/// An absent `last_completed_step` counts as 0 (SPEC §5.1).
fn last_completed(progress: &Progress) -> u64 {
    progress.last_completed_step.unwrap_or(0)
}

/// The progress of `record` when `step` is the next step (§5.3.1-2).
fn expect_step(record: &mut Record, step: u64) -> Result<&mut Progress, Refusal> {
    let progress = record
        .sleep_cycle_progress
        .as_mut()
        .ok_or(Refusal::NoCycle)?;
    let expected = last_completed(progress) + 1;
    if step != expected {
        return Err(Refusal::WrongStep {
            expected,
            got: step,
        });
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::DEFAULT_TTL_SECS;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text} is a timestamp"))
    }

    fn then() -> Timestamp {
        ts("2024-01-01T00:00:00Z")
    }

    fn now() -> Timestamp {
        ts("2024-01-02T00:00:00Z")
    }

    fn fresh(at: &Timestamp) -> Progress {
        Progress {
            last_completed_step: Some(0),
            attempt: Some(1),
            last_error: Some(None),
            started_at: Some(at.clone()),
            unknown: Vec::new(),
        }
    }

    fn quarantine_until(until: &str) -> Quarantine {
        Quarantine {
            until_ts: ts(until),
            since_ts: then(),
            reason: "r".to_string(),
            unknown: vec![("q".to_string(), "1".to_string())],
        }
    }

    fn with_progress(progress: Progress) -> Record {
        Record {
            sleep_cycle_progress: Some(progress),
            ..Record::default_at(&then())
        }
    }

    fn midway() -> Progress {
        Progress {
            last_completed_step: Some(2),
            attempt: Some(2),
            last_error: Some(Some("e".to_string())),
            started_at: Some(then()),
            unknown: vec![("u".to_string(), "[1]".to_string())],
        }
    }

    #[test]
    fn begin_zero_is_refused() {
        assert_eq!(
            begin(&Record::default_at(&then()), 0, &now()),
            Err(Refusal::NoSteps)
        );
    }

    #[test]
    fn begin_while_quarantined_is_refused() {
        let mut r = Record::default_at(&then());
        r.quarantine = Some(quarantine_until("2024-01-02T00:00:00.000001Z"));
        assert_eq!(begin(&r, 3, &now()), Err(Refusal::Quarantined));
    }

    #[test]
    fn begin_after_quarantine_expired_clears_it() {
        let mut r = Record::default_at(&then());
        r.quarantine = Some(quarantine_until("2024-01-02T00:00:00+00:00"));
        let got = begin(&r, 3, &now()).expect("not quarantined");
        assert_eq!(got.quarantine, None);
    }

    #[test]
    fn begin_without_progress_starts_fresh() {
        let got = begin(&Record::default_at(&then()), 3, &now()).expect("ok");
        assert_eq!(got.sleep_cycle_progress, Some(fresh(&now())));
    }

    #[test]
    fn begin_past_the_last_step_replaces_progress_and_its_unknown_members() {
        let mut p = midway();
        p.last_completed_step = Some(3);
        let got = begin(&with_progress(p), 3, &now()).expect("ok");
        assert_eq!(got.sleep_cycle_progress, Some(fresh(&now())));
    }

    #[test]
    fn begin_midway_resumes_the_stored_progress() {
        let r = with_progress(midway());
        assert_eq!(begin(&r, 3, &now()), Ok(r));
    }

    #[test]
    fn begin_with_absent_last_completed_step_resumes_as_step_zero() {
        let r = with_progress(Progress::default());
        assert_eq!(begin(&r, 1, &now()), Ok(r));
    }

    #[test]
    fn step_done_without_progress_is_refused() {
        assert_eq!(
            step_done(&Record::default_at(&then()), 1),
            Err(Refusal::NoCycle)
        );
    }

    #[test]
    fn step_done_past_the_largest_integer_is_refused() {
        let record = with_progress(Progress {
            last_completed_step: Some(MAX_INTEGER),
            ..fresh(&then())
        });
        let got = step_done(&record, MAX_INTEGER + 1);
        assert_eq!(
            got,
            Err(Refusal::StepOutOfRange {
                step: MAX_INTEGER + 1
            })
        );
    }

    #[test]
    fn step_done_of_the_largest_integer_is_taken() {
        let record = with_progress(Progress {
            last_completed_step: Some(MAX_INTEGER - 1),
            ..fresh(&then())
        });
        let got = step_done(&record, MAX_INTEGER).map(|r| r.sleep_cycle_progress);
        assert!(
            matches!(&got, Ok(Some(p)) if p.last_completed_step == Some(MAX_INTEGER)),
            "{got:?}"
        );
    }

    #[test]
    fn step_done_for_the_wrong_step_is_refused() {
        let got = step_done(&with_progress(midway()), 2);
        assert_eq!(
            got,
            Err(Refusal::WrongStep {
                expected: 3,
                got: 2
            })
        );
    }

    #[test]
    fn step_done_with_absent_last_completed_step_expects_step_one() {
        let got = step_done(&with_progress(Progress::default()), 2);
        assert_eq!(
            got,
            Err(Refusal::WrongStep {
                expected: 1,
                got: 2
            })
        );
    }

    #[test]
    fn step_done_advances_and_keeps_other_members() {
        let got = step_done(&with_progress(midway()), 3).expect("ok");
        let want = Progress {
            last_completed_step: Some(3),
            attempt: Some(1),
            last_error: Some(None),
            ..midway()
        };
        assert_eq!(got.sleep_cycle_progress, Some(want));
    }

    #[test]
    fn step_failed_without_progress_is_refused() {
        let got = step_failed(
            &Record::default_at(&then()),
            1,
            "e",
            &now(),
            DEFAULT_TTL_SECS,
        );
        assert_eq!(got, Err(Refusal::NoCycle));
    }

    #[test]
    fn step_failed_for_the_wrong_step_is_refused() {
        let got = step_failed(&with_progress(midway()), 4, "e", &now(), DEFAULT_TTL_SECS);
        assert_eq!(
            got,
            Err(Refusal::WrongStep {
                expected: 3,
                got: 4
            })
        );
    }

    #[test]
    fn step_failed_below_three_attempts_counts_the_attempt() {
        let got = step_failed(
            &with_progress(midway()),
            3,
            "boom",
            &now(),
            DEFAULT_TTL_SECS,
        )
        .expect("ok");
        let want = Progress {
            attempt: Some(3),
            last_error: Some(Some("boom".to_string())),
            ..midway()
        };
        assert_eq!(got.sleep_cycle_progress, Some(want));
        assert_eq!(got.quarantine, None);
    }

    #[test]
    fn step_failed_with_absent_attempt_counts_it_as_one() {
        let got = step_failed(&with_progress(Progress::default()), 1, "e", &now(), 1).expect("ok");
        let attempt = got.sleep_cycle_progress.and_then(|p| p.attempt);
        assert_eq!(attempt, Some(2));
    }

    #[test]
    fn third_failure_quarantines_and_resets_the_attempt() {
        let mut r = with_progress(Progress {
            attempt: Some(3),
            ..midway()
        });
        r.quarantine = Some(quarantine_until("2000-01-01T00:00:00Z"));
        let got = step_failed(&r, 3, "disk full", &now(), DEFAULT_TTL_SECS).expect("ok");
        let want = Quarantine {
            until_ts: ts("2024-01-03T00:00:00Z"),
            since_ts: now(),
            reason: "sleep step 3 failed 3x: disk full".to_string(),
            unknown: Vec::new(),
        };
        assert_eq!(got.quarantine, Some(want));
        let progress = got.sleep_cycle_progress.expect("kept");
        assert_eq!(progress.attempt, Some(1));
        assert_eq!(progress.last_error, Some(Some("disk full".to_string())));
    }

    #[test]
    fn attempt_above_three_also_quarantines() {
        let r = with_progress(Progress {
            attempt: Some(7),
            ..midway()
        });
        let got = step_failed(&r, 3, "e", &now(), 0).expect("ok");
        assert_eq!(got.quarantine.map(|q| q.until_ts), Some(now()));
    }

    #[test]
    fn quarantine_past_year_9999_is_refused() {
        let r = with_progress(Progress {
            attempt: Some(3),
            ..midway()
        });
        let got = step_failed(&r, 3, "e", &ts("9999-12-31T00:00:00Z"), DEFAULT_TTL_SECS);
        assert_eq!(got, Err(Refusal::QuarantineOutOfRange));
    }

    #[test]
    fn cycle_done_clears_progress() {
        assert_eq!(
            cycle_done(&with_progress(midway())).sleep_cycle_progress,
            None
        );
    }

    #[test]
    fn cycle_done_without_progress_changes_nothing() {
        let r = Record::default_at(&then());
        assert_eq!(cycle_done(&r), r);
    }

    #[test]
    fn reset_quarantine_clears_it_and_resets_the_attempt() {
        let mut r = with_progress(midway());
        r.quarantine = Some(quarantine_until("2030-01-01T00:00:00Z"));
        let got = reset_quarantine(&r);
        assert_eq!(got.quarantine, None);
        let want = Progress {
            attempt: Some(1),
            ..midway()
        };
        assert_eq!(got.sleep_cycle_progress, Some(want));
    }

    #[test]
    fn reset_quarantine_without_progress_keeps_it_null() {
        let mut r = Record::default_at(&then());
        r.quarantine = Some(quarantine_until("2030-01-01T00:00:00Z"));
        assert_eq!(reset_quarantine(&r).sleep_cycle_progress, None);
    }
}
