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
    pub file: Found,
}

impl World {
    pub fn now(&self) -> Timestamp {
        at_micros(self.now_micros)
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
        (self.file.kind(), self.file.loaded(&self.now()))
    }

    /// Sets the clock to `micros`, kept within SPEC §1.4's years.
    pub fn set_clock(&mut self, micros: i64) {
        self.now_micros = micros.clamp(MIN_MICROS, MAX_MICROS);
    }
}
