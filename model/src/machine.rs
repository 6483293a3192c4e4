//! SPEC §4: the transition table and the dispatch bookkeeping, pure.
//!
//! Promises: [`next_state`] is the table of SPEC §4.2 row by row;
//! [`dispatch`] is SPEC §4.3 steps 3-5 and 7 on a record in memory.
//!
//! Does not promise: locking, loading or saving; see [`crate::writer`].

use crate::record::{Record, State, MAX_INTEGER};
use crate::timestamp::Ts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    HeartbeatRefresh,
    Idle5Min,
    Idle30Min,
    SleepEligible,
    RequestArrived,
    SleepCycleDone,
    HibernationGraceExpired,
    WakeSignal,
    Tick,
}

impl Event {
    pub const ALL: [Event; 9] = [
        Event::HeartbeatRefresh,
        Event::Idle5Min,
        Event::Idle30Min,
        Event::SleepEligible,
        Event::RequestArrived,
        Event::SleepCycleDone,
        Event::HibernationGraceExpired,
        Event::WakeSignal,
        Event::Tick,
    ];

    /// The wire name of SPEC §4.1.
    pub fn name(self) -> &'static str {
        match self {
            Event::HeartbeatRefresh => "heartbeat_refresh",
            Event::Idle5Min => "idle_5min",
            Event::Idle30Min => "idle_30min",
            Event::SleepEligible => "sleep_eligible",
            Event::RequestArrived => "request_arrived",
            Event::SleepCycleDone => "sleep_cycle_done",
            Event::HibernationGraceExpired => "hibernation_grace_expired",
            Event::WakeSignal => "wake_signal",
            Event::Tick => "tick",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guards {
    pub sleep_eligible: bool,
    pub still_idle: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    None,
    Requested,
    WouldRequest,
}

/// The outcome of one event on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatched {
    pub record: Record,
    pub from: State,
    pub to: State,
    pub shutdown: Shutdown,
}

/// `wrapper_event_seq` is already 2^53−1 (SPEC §4.3 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

/// SPEC §4.2.
pub fn next_state(from: State, event: Event, guards: Guards) -> State {
    todo!("{from:?} {event:?} {guards:?}")
}

/// SPEC §4.3 steps 3-5 and 7.
pub fn dispatch(
    record: &Record,
    event: Event,
    guards: Guards,
    shadow_run: bool,
    now: &Ts,
) -> Result<Dispatched, Overflow> {
    let _ = MAX_INTEGER;
    todo!("{record:?} {event:?} {guards:?} {shadow_run} {now:?}")
}
