//! The model's view of the world: the clock and what the record path holds.
//!
//! Promises: every prediction goes through `lifecycle_model`
//! (`record::decode` for bytes, `writer::operate` for writer operations);
//! this module only keeps the state they are asked about, and lists the
//! files an interrupted operation may leave.

use lifecycle_model::spec::MAX_FILE_BYTES;
use lifecycle_model::writer::{self, Failure, Found, LoadKind, Outcome, WriterOp};
use lifecycle_model::{Record, Timestamp};

use crate::generate::record::{at_micros, MAX_MICROS, MIN_MICROS};

/// The clock and the file, as the model sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct World {
    /// Now, in µs since the epoch.
    pub now_micros: i64,
    /// Now, as a timestamp: made once per clock move, asked for often.
    now: Timestamp,
    pub file: Found,
}

impl World {
    /// The world at `now_micros` (kept within SPEC §1.4's years) with `file`.
    pub fn new(now_micros: i64, file: Found) -> World {
        let now_micros = now_micros.clamp(MIN_MICROS, MAX_MICROS);
        World {
            now_micros,
            now: at_micros(now_micros),
            file,
        }
    }

    /// The same clock, with `file` at the record path.
    pub fn with_file(&self, file: Found) -> World {
        World {
            now_micros: self.now_micros,
            now: self.now.clone(),
            file,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now.clone()
    }

    /// SPEC §4.3/§5.1: what a conforming writer does with `op` now.
    pub fn predict(&self, op: &WriterOp) -> Result<Outcome, Failure> {
        writer::operate(&self.file, op, &self.now())
    }

    /// The file after `op` ran to completion.
    pub fn after(&self, op: &WriterOp) -> Found {
        match self.predict(op) {
            Ok(outcome) if outcome.wrote => Found::Valid(outcome.record),
            _ => self.file.clone(),
        }
    }

    /// Every file an interrupted `op` may leave: the old one, the new one,
    /// and, when the op preserves an oversize corrupt file by renaming it
    /// away (SPEC §4.4.1), no file at all.
    pub fn interrupted(&self, op: &WriterOp) -> Vec<Found> {
        let mut candidates = vec![self.file.clone()];
        if let Ok(outcome) = self.predict(op) {
            if outcome.wrote {
                candidates.push(Found::Valid(outcome.record));
            }
            let oversize = matches!(&self.file, Found::Corrupt(b) if b.len() > MAX_FILE_BYTES);
            if outcome.preserved && oversize {
                candidates.push(Found::Missing);
            }
        }
        candidates
    }

    /// What load returns now and its outcome (SPEC §2.1).
    pub fn expected_load(&self) -> (LoadKind, Record) {
        (self.file.kind(), self.file.loaded(&self.now))
    }

    /// Whether `record` is what load returns now (SPEC §2.1).
    pub fn loads_as(&self, record: &Record) -> bool {
        match self.file.record() {
            Some(stored) => record == stored,
            None => *record == Record::default_at(&self.now),
        }
    }

    /// Sets the clock to `micros`, kept within SPEC §1.4's years.
    pub fn set_clock(&mut self, micros: i64) {
        *self = World::new(micros, std::mem::replace(&mut self.file, Found::Missing));
    }
}
