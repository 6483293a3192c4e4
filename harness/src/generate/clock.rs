//! Where the clock starts and how it moves.
//!
//! Promises: a [`ClockStart`] is an instant in 2024-2029 or within two days
//! of the end of year 9999 (where now + 24 h passes it, SPEC §5.4.3); a
//! [`ClockMove`] moves the clock by microseconds to months, to any instant
//! of years 0000-9999 (so also backwards), or to within microseconds of the
//! stored quarantine's end, where "quarantined" flips (SPEC §5.1).
//! [`ClockMove::target`] resolves a move against the world; the clock never
//! leaves SPEC §1.4's years.

use crate::generate::record::TsSpec;
use crate::input::{Reader, Shape, Writer};
use crate::world::{World, MAX_MICROS, MIN_MICROS};

/// 2024-01-01T00:00:00Z in µs since the epoch.
pub const START_MICROS: i64 = 1_704_067_200_000_000;
const YEAR_MICROS: u64 = 365 * 86_400_000_000;
const DAY_MICROS: u64 = 86_400_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStart {
    /// [`START_MICROS`] plus up to five years.
    Ordinary(u64),
    /// Between two days and one hour before the end of year 9999.
    NearTheEnd(u64),
}

impl Shape for ClockStart {
    fn read(r: &mut Reader<'_>) -> Self {
        if r.below(10) < 9 {
            ClockStart::Ordinary(r.u64() % (5 * YEAR_MICROS))
        } else {
            ClockStart::NearTheEnd(r.u64() % (2 * DAY_MICROS - 3_600_000_000))
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            ClockStart::Ordinary(us) => {
                assert!(*us < 5 * YEAR_MICROS, "{us} µs is past five years");
                w.below(0, 10);
                w.u64(*us);
            }
            ClockStart::NearTheEnd(us) => {
                assert!(
                    *us < 2 * DAY_MICROS - 3_600_000_000,
                    "{us} µs is past the end"
                );
                w.below(9, 10);
                w.u64(*us);
            }
        }
    }
}

impl ClockStart {
    pub fn micros(self) -> i64 {
        match self {
            ClockStart::Ordinary(us) => START_MICROS + (us % (5 * YEAR_MICROS)) as i64,
            ClockStart::NearTheEnd(us) => {
                MAX_MICROS - 2 * DAY_MICROS as i64 + (us % (2 * DAY_MICROS)) as i64
            }
        }
    }
}

/// Ranges a step of the clock falls in, µs, with their weights: below a
/// millisecond, seconds to minutes, hours, days to months.
const STEPS: [(u8, (u64, u64)); 4] = [
    (2, (1, 1_000)),
    (3, (1_000_000, 600_000_000)),
    (2, (3_600_000_000, 108_000_000_000)),
    (1, (DAY_MICROS, 100 * DAY_MICROS)),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockMove {
    /// Forward by this many µs.
    By(u64),
    /// To this instant (possibly backwards).
    To(TsSpec),
    /// To the stored quarantine's end plus this many µs (nothing without a
    /// quarantine).
    ToQuarantineEnd(i8),
}

/// Weights of a step forward (0), a jump to an instant (1) and a move to the
/// quarantine's end (2).
const MOVE_TAGS: [(u8, u8); 3] = [(5, 0), (1, 1), (2, 2)];

impl Shape for ClockMove {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick_weighted(&MOVE_TAGS) {
            0 => {
                let (lo, hi) = r.pick_weighted(&STEPS);
                ClockMove::By(lo + r.u64() % (hi - lo))
            }
            1 => ClockMove::To(r.read()),
            _ => ClockMove::ToQuarantineEnd((r.below(5) as i8) - 2),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            ClockMove::By(us) => {
                w.pick_weighted(&MOVE_TAGS, &0);
                let (_, range) = STEPS
                    .iter()
                    .find(|(_, (lo, hi))| (lo..hi).contains(&us))
                    .unwrap_or_else(|| panic!("{us} µs is in no range of a clock step"));
                w.pick_weighted(&STEPS, range);
                w.u64(us - range.0);
            }
            ClockMove::To(ts) => {
                w.pick_weighted(&MOVE_TAGS, &1);
                w.write(ts);
            }
            ClockMove::ToQuarantineEnd(d) => {
                w.pick_weighted(&MOVE_TAGS, &2);
                w.below((d + 2) as usize, 5);
            }
        }
    }
}

impl ClockMove {
    /// Where the clock goes from `world`, in µs since the epoch (within
    /// SPEC §1.4's years); `None` when there is nowhere to go.
    pub fn target(&self, world: &World) -> Option<i64> {
        let target = match self {
            ClockMove::By(us) => world.now_micros.saturating_add(*us as i64),
            ClockMove::To(ts) => ts.build().unix_micros()?,
            ClockMove::ToQuarantineEnd(d) => {
                let q = world.file.record()?.quarantine.as_ref()?;
                q.until_ts.unix_micros()?.saturating_add(i64::from(*d))
            }
        };
        Some(target.clamp(MIN_MICROS, MAX_MICROS))
    }
}
