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
        let nanos = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        };
        // A wall clock outside years 0000-9999 is broken; the epoch is the
        // least surprising valid answer.
        Timestamp::from_unix_nanos(nanos)
            .unwrap_or_else(|| Timestamp::from_unix_nanos(0).expect("the epoch is in range"))
    }
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
