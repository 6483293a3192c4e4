//! Records that save must refuse (SPEC §3.1), built from a valid one.
//!
//! Promises: [`InvalidSave::build`] breaks exactly one rule of SPEC §1 that
//! a record in memory can break (an integer past 2^53−1, an unknown member
//! named like a known one or like another unknown member, a serialized form
//! over 1 MiB) and says which field path the refusal must name (`None`
//! for the record as a whole). The model must call the result invalid; the
//! harness checks that too.

use lifecycle_model::record::{PROGRESS_KEYS, QUARANTINE_KEYS, TOP_KEYS};
use lifecycle_model::spec::{MAX_FILE_BYTES, MAX_INTEGER};
use lifecycle_model::{Progress, Quarantine, Record};

use crate::input::{Reader, Shape, Writer};

/// Which level of the record an unknown member is put in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Top,
    Progress,
    Quarantine,
}

const LEVELS: [Level; 3] = [Level::Top, Level::Progress, Level::Quarantine];

impl Level {
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Level::Top => &TOP_KEYS,
            Level::Progress => &PROGRESS_KEYS,
            Level::Quarantine => &QUARANTINE_KEYS,
        }
    }

    /// The dotted prefix of field paths at this level.
    pub fn prefix(self) -> &'static str {
        match self {
            Level::Top => "",
            Level::Progress => "sleep_cycle_progress.",
            Level::Quarantine => "quarantine.",
        }
    }
}

impl Shape for Level {
    fn read(r: &mut Reader<'_>) -> Self {
        r.pick(&LEVELS)
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&LEVELS, self);
    }
}

/// How far past 2^53−1 an integer is: by 1, by a little, or up to u64::MAX
/// (added saturating, so the last is u64::MAX itself).
const PAST: [u64; 4] = [0, 1, 999, u64::MAX];

/// A record save must refuse (SPEC §3.1), built from the record in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidSave {
    /// `wrapper_event_seq` = 2^53 + the offset.
    SequenceTooLarge(u64),
    AttemptTooLarge(u64),
    LastCompletedStepTooLarge(u64),
    /// An unknown member named like the `known`-th member of `level`.
    UnknownNamedLikeKnown {
        level: Level,
        known: usize,
    },
    /// Two unknown members with the same name at `level`.
    DuplicateUnknown(Level),
    /// An unknown member so large the serialized record exceeds 1 MiB.
    Oversize,
}

impl Shape for InvalidSave {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(6) {
            0 => InvalidSave::SequenceTooLarge(r.pick(&PAST)),
            1 => InvalidSave::AttemptTooLarge(r.pick(&PAST)),
            2 => InvalidSave::LastCompletedStepTooLarge(r.pick(&PAST)),
            3 => {
                let level: Level = r.read();
                InvalidSave::UnknownNamedLikeKnown {
                    level,
                    known: r.below(level.keys().len()),
                }
            }
            4 => InvalidSave::DuplicateUnknown(r.read()),
            _ => InvalidSave::Oversize,
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            InvalidSave::SequenceTooLarge(by) => {
                w.below(0, 6);
                w.pick(&PAST, by);
            }
            InvalidSave::AttemptTooLarge(by) => {
                w.below(1, 6);
                w.pick(&PAST, by);
            }
            InvalidSave::LastCompletedStepTooLarge(by) => {
                w.below(2, 6);
                w.pick(&PAST, by);
            }
            InvalidSave::UnknownNamedLikeKnown { level, known } => {
                w.below(3, 6);
                w.write(level);
                w.below(*known, level.keys().len());
            }
            InvalidSave::DuplicateUnknown(level) => {
                w.below(4, 6);
                w.write(level);
            }
            InvalidSave::Oversize => w.below(5, 6),
        }
    }
}

const TOO_LARGE: u64 = MAX_INTEGER + 1;

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

fn unknown_at(record: &mut Record, level: Level) -> &mut Vec<(String, String)> {
    match level {
        Level::Top => &mut record.unknown,
        Level::Progress => &mut progress(record).unknown,
        Level::Quarantine => &mut quarantine(record).unknown,
    }
}

impl InvalidSave {
    /// `base` broken as this says, and the field path the refusal must name
    /// (`None` for the record as a whole).
    pub fn build(&self, base: &Record) -> (Record, Option<String>) {
        let mut r = base.clone();
        let field = match self {
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
                let name = level.keys()[*known % level.keys().len()];
                unknown_at(&mut r, *level).push((name.to_string(), "1".to_string()));
                Some(format!("{}{name}", level.prefix()))
            }
            InvalidSave::DuplicateUnknown(level) => {
                let members = unknown_at(&mut r, *level);
                members.push(("twin".to_string(), "1".to_string()));
                members.push(("twin".to_string(), "2".to_string()));
                Some(format!("{}twin", level.prefix()))
            }
            InvalidSave::Oversize => {
                let big = format!("\"{}\"", "x".repeat(MAX_FILE_BYTES));
                r.unknown.push(("ballast".to_string(), big));
                None
            }
        };
        (r, field)
    }

    /// Whether the record it builds has two members of one name in an
    /// object: something a JSON request cannot carry to most languages,
    /// whose parsers keep one of the two.
    pub fn has_duplicate_names(&self) -> bool {
        matches!(
            self,
            InvalidSave::UnknownNamedLikeKnown { .. } | InvalidSave::DuplicateUnknown(_)
        )
    }

    /// The name coverage counts it under.
    pub fn kind(&self) -> &'static str {
        match self {
            InvalidSave::SequenceTooLarge(_) => "sequence_too_large",
            InvalidSave::AttemptTooLarge(_) => "attempt_too_large",
            InvalidSave::LastCompletedStepTooLarge(_) => "last_completed_step_too_large",
            InvalidSave::UnknownNamedLikeKnown { .. } => "unknown_named_like_known",
            InvalidSave::DuplicateUnknown(_) => "duplicate_unknown",
            InvalidSave::Oversize => "oversize",
        }
    }
}
