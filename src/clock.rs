//! Where "now" comes from.
//!
//! Promises: the store asks a [`Clock`] for every timestamp it writes, so a
//! test can fix or advance time ([`ManualClock`]) and expire a quarantine
//! without sleeping.
//!
//! Does not promise: monotonic time. A clock may go backwards; the store only
//! compares timestamps where SPEC §5 says so.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::timestamp::Timestamp;

pub trait Clock {
    fn now(&self) -> Timestamp;
}

/// The system's wall clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        at(SystemTime::now())
    }
}

/// The timestamp of a wall-clock reading, also before 1970. A reading
/// outside years 0000-9999 is a broken clock; the epoch is the least
/// surprising valid answer.
fn at(time: SystemTime) -> Timestamp {
    let nanos = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    };
    Timestamp::from_unix_nanos(nanos)
        .unwrap_or_else(|| Timestamp::from_unix_nanos(0).expect("the epoch is in range"))
}

/// A clock that moves only when told to, with microsecond resolution.
#[derive(Debug)]
pub struct ManualClock {
    unix_micros: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn at(start: &Timestamp) -> ManualClock {
        ManualClock {
            unix_micros: AtomicI64::new((start.unix_nanos() / 1_000) as i64),
        }
    }

    pub fn advance(&self, by: Duration) {
        self.unix_micros
            .fetch_add(by.as_micros() as i64, Ordering::SeqCst);
    }

    pub fn set(&self, to: &Timestamp) {
        self.unix_micros
            .store((to.unix_nanos() / 1_000) as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let micros = i128::from(self.unix_micros.load(Ordering::SeqCst));
        Timestamp::from_unix_nanos(micros * 1_000)
            .unwrap_or_else(|| Timestamp::from_unix_nanos(0).expect("the epoch is in range"))
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_clock_before_1970_gives_a_timestamp_before_1970() {
        let before = UNIX_EPOCH - Duration::from_millis(1_500);
        assert_eq!(at(before).as_str(), "1969-12-31T23:59:58.500000Z");
        let after = UNIX_EPOCH + Duration::from_micros(1);
        assert_eq!(at(after).as_str(), "1970-01-01T00:00:00.000001Z");
    }

    #[test]
    fn a_wall_clock_outside_the_years_of_a_timestamp_gives_the_epoch() {
        let far = UNIX_EPOCH + Duration::from_secs(400 * 365 * 86_400 * 25);
        assert_eq!(at(far).as_str(), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(&at(UNIX_EPOCH));
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now().as_str(), "1970-01-01T00:01:30.000000Z");
        clock.set(&at(UNIX_EPOCH - Duration::from_secs(1)));
        assert_eq!(clock.now().as_str(), "1969-12-31T23:59:59.000000Z");
    }
}
