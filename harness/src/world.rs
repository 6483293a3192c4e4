//! The model's view of the world: the clock and what the record path holds.
//!
//! Promises: every prediction goes through `lifecycle_model`
//! (`record::decode` for bytes, `writer::operate` for writer operations);
//! this module only keeps the state they are asked about, and lists the
//! files an interrupted operation may leave; the [`Rules`] an answer is
//! compared by; the clock's bounds (SPEC §1.4's years, [`at_micros`]); and,
//! for an implementation that reads its own clock, the window of wall-clock
//! time a request took ([`World::set_window_end`]). How far a timestamp
//! made from now may stray from that window (a coarser clock, rounding
//! below a microsecond) is the comparator's rule, `compare`.

use lifecycle_model::spec::MAX_FILE_BYTES;
use lifecycle_model::writer::{self, Failure, Found, LoadKind, Outcome, WriterOp};
use lifecycle_model::{Record, Timestamp};

/// How an answer is compared with the model: by this project's SPEC, or by
/// requirements §7 for any implementation (the comparator, `compare`, says
/// what each allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rules {
    /// This project's SPEC.
    #[default]
    Spec,
    /// requirements §7, for any implementation.
    Requirements,
}

/// The clock and the file, as the model sees them, and how an answer is
/// compared with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct World {
    /// Now, in µs since the epoch.
    pub now_micros: i64,
    /// Now, as a timestamp: made once per clock move, asked for often.
    now: Timestamp,
    pub file: Found,
    rules: Rules,
    /// For an implementation that reads its own clock: the wall-clock
    /// instant (µs) the last request was answered by; now is when it was
    /// sent.
    window_end: Option<i64>,
}

impl World {
    /// The world at `now_micros` (kept within SPEC §1.4's years) with `file`.
    pub fn new(now_micros: i64, file: Found) -> World {
        let now_micros = now_micros.clamp(MIN_MICROS, MAX_MICROS);
        World {
            now_micros,
            now: at_micros(now_micros),
            file,
            rules: Rules::Spec,
            window_end: None,
        }
    }

    /// The same world, its answers compared by `rules`.
    pub fn with_rules(mut self, rules: Rules) -> World {
        self.rules = rules;
        self
    }

    pub fn rules(&self) -> Rules {
        self.rules
    }

    /// The same file at the end of the clock window of the last request,
    /// when the implementation reads its own clock.
    pub fn at_window_end(&self) -> Option<World> {
        let end = self.window_end?;
        let mut world = self.clone();
        world.set_clock(end);
        Some(world)
    }

    /// The implementation read its own clock somewhere between now and
    /// `end_micros`.
    pub fn set_window_end(&mut self, end_micros: i64) {
        self.window_end = Some(end_micros.max(self.now_micros));
    }

    /// The same world with its clock `by_micros` away, or `None` where that
    /// leaves SPEC §1.4's years. The comparator asks the model there what
    /// it asked at now: a timestamp that moves with the clock is one the
    /// model makes from now, one that stays is copied from the file.
    pub fn moved(&self, by_micros: i64) -> Option<World> {
        let micros = self.now_micros.checked_add(by_micros)?;
        if !(MIN_MICROS..=MAX_MICROS).contains(&micros) {
            return None;
        }
        let mut world = self.clone();
        world.set_clock(micros);
        world.window_end = self.window_end;
        Some(world)
    }

    /// The same clock, with `file` at the record path.
    pub fn with_file(&self, file: Found) -> World {
        World {
            file,
            ..self.clone_clock()
        }
    }

    fn clone_clock(&self) -> World {
        World {
            now_micros: self.now_micros,
            now: self.now.clone(),
            file: Found::Missing,
            rules: self.rules,
            window_end: self.window_end,
        }
    }

    pub fn now(&self) -> &Timestamp {
        &self.now
    }

    /// SPEC §4.3/§5.1: what a conforming writer does with `op` now.
    pub fn predict(&self, op: &WriterOp) -> Result<Outcome, Failure> {
        writer::operate(&self.file, op, self.now())
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

    /// Sets the clock to `micros`, kept within SPEC §1.4's years.
    pub fn set_clock(&mut self, micros: i64) {
        let file = std::mem::replace(&mut self.file, Found::Missing);
        *self = World::new(micros, file).with_rules(self.rules);
    }
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, in µs since the
/// epoch: the clock of the harness stays between them (SPEC §1.4).
pub const MIN_MICROS: i64 = -62_167_219_200_000_000;
pub const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// The model's timestamp at `micros` since the epoch, clamped to SPEC §1.4's
/// years.
pub fn at_micros(micros: i64) -> Timestamp {
    let micros = micros.clamp(MIN_MICROS, MAX_MICROS);
    Timestamp::from_unix_micros(micros)
        .unwrap_or_else(|| panic!("harness bug: {micros} µs has no timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_model::machine::{Event, Guards};

    #[test]
    fn only_an_oversize_corrupt_file_may_be_gone_while_a_writer_replaces_it() {
        let heartbeat = WriterOp::Dispatch {
            event: Event::HeartbeatRefresh,
            guards: Guards::default(),
            shadow_run: false,
        };
        for (bytes, may_be_gone) in [(vec![b'{'], false), (vec![b' '; MAX_FILE_BYTES + 1], true)] {
            let world = World::new(0, Found::Corrupt(bytes.clone()));
            let left = world.interrupted(&heartbeat);
            assert_eq!(left[0], Found::Corrupt(bytes), "the old file first");
            assert!(matches!(left[1], Found::Valid(_)), "then the new record");
            assert_eq!(left.contains(&Found::Missing), may_be_gone);
        }
    }
}
