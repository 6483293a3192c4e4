//! Builds the store records that save must refuse (SPEC §3.1).
//!
//! Proves nothing by itself: the harness checks that the store refuses each
//! of these, names the field, touches nothing, and that the model agrees
//! the record is invalid.

use lifecycle_state::record::MAX_INTEGER;
use lifecycle_state::{Progress, Quarantine, RawJson, Record};

use super::records::{InvalidSave, Level};

const TOO_LARGE: u64 = MAX_INTEGER + 1;

fn raw(text: &str) -> RawJson {
    RawJson::parse(text).expect("a valid JSON value")
}

fn progress(record: &mut Record) -> &mut Progress {
    record
        .sleep_cycle_progress
        .get_or_insert_with(Progress::default)
}

fn quarantine(record: &mut Record) -> &mut Quarantine {
    let now = record.since_ts.clone();
    record.quarantine.get_or_insert_with(|| Quarantine {
        until_ts: now.clone(),
        since_ts: now,
        reason: String::new(),
        unknown: Vec::new(),
    })
}

fn unknown_at(record: &mut Record, level: Level) -> &mut Vec<(String, RawJson)> {
    match level {
        Level::Top => &mut record.unknown,
        Level::Progress => &mut progress(record).unknown,
        Level::Quarantine => &mut quarantine(record).unknown,
    }
}

/// `base` broken as `kind` says, and the field path the refusal must name
/// (`None` for the record as a whole).
pub fn build(base: &Record, kind: &InvalidSave) -> (Record, Option<String>) {
    let mut r = base.clone();
    let field = match kind {
        InvalidSave::SequenceTooLarge(by) => {
            r.wrapper_event_seq = TOO_LARGE.saturating_add(*by);
            Some("wrapper_event_seq".to_string())
        }
        InvalidSave::AttemptTooLarge(by) => {
            progress(&mut r).attempt = Some(TOO_LARGE.saturating_add(*by));
            Some("sleep_cycle_progress.attempt".to_string())
        }
        InvalidSave::LastCompletedStepTooLarge(by) => {
            progress(&mut r).last_completed_step = Some(TOO_LARGE.saturating_add(*by));
            Some("sleep_cycle_progress.last_completed_step".to_string())
        }
        InvalidSave::UnknownNamedLikeKnown { level, known } => {
            let name = level.keys()[*known];
            unknown_at(&mut r, *level).push((name.to_string(), raw("1")));
            Some(format!("{}{name}", level.prefix()))
        }
        InvalidSave::DuplicateUnknown(level) => {
            let members = unknown_at(&mut r, *level);
            members.push(("twin".to_string(), raw("1")));
            members.push(("twin".to_string(), raw("2")));
            Some(format!("{}twin", level.prefix()))
        }
        InvalidSave::Oversize => {
            let big = format!(
                "\"{}\"",
                "x".repeat(lifecycle_state::codec::MAX_RECORD_BYTES)
            );
            r.unknown.push(("ballast".to_string(), raw(&big)));
            None
        }
    };
    (r, field)
}
