//! `sleep`: the sleep-cycle bookkeeping of SPEC §5 through the adapter.
//!
//! Promises: every operation of §5 (`begin`, `step_done`, `step_failed`,
//! `cycle_done`, `reset_quarantine`, with arguments due, out of order, zero
//! and past 2^53−1, quarantine lengths up to past year 9999) on every kind
//! of starting record (no cycle, a cycle in progress, one failure from a
//! quarantine, quarantined, a quarantine that has expired, a missing file,
//! a corrupt file): one case each, judged by the harness's driver against
//! the model.
//!
//! Does not promise: anything about a second writer (the lock).

use lifecycle_model::spec::MAX_INTEGER;
use lifecycle_model::writer::{Found, WriterOp};

use crate::case::{record, stamp, Planned};

const HOUR: i64 = 3_600_000_000;

fn starts(now: i64) -> Vec<(&'static str, Found)> {
    let with = |progress: &str, quarantine: &str| {
        Found::Valid(record(&format!(
            r#"{{"current_state":"SLEEP","since_ts":"{s}","last_activity_ts":"{s}","wrapper_event_seq":9,"sleep_cycle_progress":{progress},"quarantine":{quarantine},"shadow_run":false}}"#,
            s = stamp(now - 2 * HOUR)
        )))
    };
    let progress = |step: u64, attempt: u64| {
        format!(
            r#"{{"last_completed_step":{step},"attempt":{attempt},"last_error":"disk full","started_at":"{}"}}"#,
            stamp(now - HOUR)
        )
    };
    let quarantine = |until: i64| {
        format!(
            r#"{{"until_ts":"{}","since_ts":"{}","reason":"sleep step 2 failed 3x: disk full","x-note":"kept"}}"#,
            stamp(until),
            stamp(now - HOUR)
        )
    };
    vec![
        ("no_cycle", with("null", "null")),
        ("in_progress", with(&progress(2, 1), "null")),
        ("third_attempt", with(&progress(2, 3), "null")),
        (
            "quarantined",
            with(&progress(1, 1), &quarantine(now + HOUR)),
        ),
        (
            "quarantine_expired",
            with(&progress(1, 1), &quarantine(now - 1_000_000)),
        ),
        ("missing_file", Found::Missing),
        (
            "corrupt_file",
            Found::Corrupt(b"[\"not a record\"]".to_vec()),
        ),
    ]
}

fn ops() -> Vec<(&'static str, WriterOp)> {
    let failed = |step: u64, ttl_secs: u64| WriterOp::StepFailed {
        step,
        error: "disk full".to_string(),
        ttl_secs,
    };
    vec![
        ("begin(0)", WriterOp::Begin(0)),
        ("begin(1)", WriterOp::Begin(1)),
        ("begin(3)", WriterOp::Begin(3)),
        ("step_done(1)", WriterOp::StepDone(1)),
        ("step_done(3)", WriterOp::StepDone(3)),
        ("step_done(5)", WriterOp::StepDone(5)),
        ("step_done(2^53)", WriterOp::StepDone(MAX_INTEGER + 1)),
        ("step_failed(1)", failed(1, 86_400)),
        ("step_failed(3)", failed(3, 86_400)),
        ("step_failed(3,ttl=60)", failed(3, 60)),
        ("step_failed(3,ttl=past_9999)", failed(3, 315_360_000_000)),
        ("cycle_done", WriterOp::CycleDone),
        ("reset_quarantine", WriterOp::ResetQuarantine),
    ]
}

pub fn plan(now: i64) -> Vec<Planned> {
    let mut cases = Vec::new();
    for (start, file) in starts(now) {
        for (name, op) in ops() {
            let spec = match &op {
                WriterOp::Begin(_) => "§5.2",
                WriterOp::StepDone(_) => "§5.3",
                WriterOp::StepFailed { .. } => "§5.4",
                WriterOp::CycleDone => "§5.5",
                _ => "§5.6",
            };
            cases.push(Planned::writer(
                format!("sleep/{start}/{name}"),
                spec,
                now,
                file.clone(),
                op,
            ));
        }
    }
    cases
}
