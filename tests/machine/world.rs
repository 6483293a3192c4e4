//! The model's view of the world: the clock and what the record file holds.
//!
//! Proves nothing by itself. It is the state both sides of the machine test
//! keep: the reference state machine keeps one to generate transitions, and
//! the system-under-test side keeps one, selected by observation, to check
//! the store against. Every prediction goes through `lifecycle_model`
//! (`record::decode` for bytes, `writer::operate` for writer operations).

use std::fmt;

use lifecycle_model::record::{self, Record};
use lifecycle_model::writer::{self, Failure, Found, Outcome, WriterOp};
use lifecycle_model::{State, Timestamp};

/// 9999-12-31T23:59:59.999999Z: the clock never goes past it, because a
/// clock outside SPEC §1.4's years has no timestamp to give.
pub const MAX_MICROS: i64 = 253_402_300_799_999_999;
/// 0000-01-01T00:00:00Z.
pub const MIN_MICROS: i64 = -62_167_219_200_000_000;

/// The model's view of the record file.
// Boxing the record would only add noise where views are built and matched.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, Eq)]
pub enum FileView {
    Missing,
    Valid(Record),
    Corrupt(Vec<u8>),
    /// A directory at the path (SPEC §2.1 `Unreadable`).
    Unreadable,
}

impl fmt::Debug for FileView {
    // Corrupt files may be megabytes; a failure report needs their shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileView::Missing => write!(f, "Missing"),
            FileView::Valid(r) => write!(f, "Valid({r:?})"),
            FileView::Corrupt(bytes) => write!(f, "Corrupt({})", preview(bytes)),
            FileView::Unreadable => write!(f, "Unreadable"),
        }
    }
}

/// The first bytes of `bytes` and their count, for failure messages.
pub fn preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 96;
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN)]);
    if bytes.len() > SHOWN {
        format!("{} bytes: {head:?}…", bytes.len())
    } else {
        format!("{} bytes: {head:?}", bytes.len())
    }
}

impl FileView {
    /// What the model calls the file holding `bytes` (SPEC §1).
    pub fn of_bytes(bytes: &[u8]) -> FileView {
        match record::decode(bytes) {
            Ok(r) => FileView::Valid(r),
            Err(_) => FileView::Corrupt(bytes.to_vec()),
        }
    }

    pub fn found(&self) -> Found {
        match self {
            FileView::Missing => Found::Missing,
            FileView::Valid(r) => Found::Valid(r.clone()),
            FileView::Corrupt(_) => Found::Corrupt,
            FileView::Unreadable => Found::Unreadable,
        }
    }

    pub fn record(&self) -> Option<&Record> {
        match self {
            FileView::Valid(r) => Some(r),
            _ => None,
        }
    }

    /// The lifecycle state in force: the stored one, or the default's WAKE.
    pub fn state(&self) -> State {
        self.record().map_or(State::Wake, |r| r.current_state)
    }

    /// Bytes to edit when corrupting: the file's (approximate, from the
    /// model's encoding, on the reference side), or none.
    pub fn approximate_bytes(&self) -> Option<Vec<u8>> {
        match self {
            FileView::Valid(r) => Some(r.encode()),
            FileView::Corrupt(b) => Some(b.clone()),
            FileView::Missing | FileView::Unreadable => None,
        }
    }
}

pub fn ts(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(micros)
        .unwrap_or_else(|| panic!("the clock left SPEC §1.4's years: {micros} µs"))
}

/// The clock and the file, as the model sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct World {
    pub now_micros: i64,
    pub file: FileView,
}

impl World {
    pub fn now(&self) -> Timestamp {
        ts(self.now_micros)
    }

    /// SPEC §4.3/§5.1: what a conforming writer does with `op` now.
    pub fn predict(&self, op: &WriterOp) -> Result<Outcome, Failure> {
        writer::operate(&self.file.found(), op, &self.now())
    }

    /// The file after `op` ran to completion.
    pub fn after(&self, op: &WriterOp) -> FileView {
        match self.predict(op) {
            Ok(outcome) if outcome.wrote => FileView::Valid(outcome.record),
            _ => self.file.clone(),
        }
    }

    /// Every file an interrupted `op` may leave: the old one, the new one,
    /// and, when the op preserves an oversize corrupt file by renaming it
    /// away (SPEC §4.4.1), no file at all.
    pub fn interrupted(&self, op: &WriterOp) -> Vec<FileView> {
        let mut candidates = vec![self.file.clone()];
        if let Ok(outcome) = self.predict(op) {
            if outcome.wrote {
                candidates.push(FileView::Valid(outcome.record));
            }
            let oversize = matches!(&self.file, FileView::Corrupt(b) if b.len() > lifecycle_model::spec::MAX_FILE_BYTES);
            if outcome.preserved && oversize {
                candidates.push(FileView::Missing);
            }
        }
        candidates
    }

    /// The record load returns and its outcome, as the model predicts.
    pub fn expected_load(&self) -> (LoadKind, Record) {
        let default = || Record::default_at(&self.now());
        match &self.file {
            FileView::Valid(r) => (LoadKind::Valid, r.clone()),
            FileView::Missing => (LoadKind::Missing, default()),
            FileView::Corrupt(_) => (LoadKind::Corrupt, default()),
            FileView::Unreadable => (LoadKind::Unreadable, default()),
        }
    }

    /// Sets the clock to `micros`, kept within SPEC §1.4's years.
    pub fn set_clock(&mut self, micros: i64) {
        self.now_micros = micros.clamp(MIN_MICROS, MAX_MICROS);
    }
}

/// The outcome of a load (SPEC §2.1), without its details.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKind {
    Valid,
    Missing,
    Corrupt,
    Unreadable,
}

impl LoadKind {
    pub fn of(outcome: &lifecycle_state::LoadOutcome) -> LoadKind {
        match outcome {
            lifecycle_state::LoadOutcome::Valid => LoadKind::Valid,
            lifecycle_state::LoadOutcome::Missing => LoadKind::Missing,
            lifecycle_state::LoadOutcome::Corrupt(_) => LoadKind::Corrupt,
            lifecycle_state::LoadOutcome::Unreadable(_) => LoadKind::Unreadable,
        }
    }
}
