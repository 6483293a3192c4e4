//! The lifecycle machine of SPEC §4 as pure functions.
//!
//! Promises: [`next_state`] is exactly the transition table of SPEC §4.2;
//! [`dispatch`] is the bookkeeping of SPEC §4.3 steps 3-5 and 7 on a
//! record in memory. Nothing here touches a file or a clock: `store` loads,
//! locks and saves around these functions.
//!
//! Does not promise: anything about events other than the nine of SPEC §4.1.

use std::fmt;

use crate::record::{Record, State, MAX_INTEGER};
use crate::timestamp::Timestamp;

/// The nine events of SPEC §4.1.
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

    pub fn as_str(self) -> &'static str {
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

    pub fn from_name(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Events that count as wrapper activity (SPEC §4.3 step 3).
    pub fn is_activity(self) -> bool {
        matches!(
            self,
            Event::HeartbeatRefresh | Event::RequestArrived | Event::WakeSignal
        )
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payload guards of SPEC §4.1 (absent = false).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Guards {
    pub sleep_eligible: bool,
    pub still_idle: bool,
}

/// SPEC §4.2: the state after `event`; `from` itself when the pair is a no-op.
pub fn next_state(from: State, event: Event, guards: Guards) -> State {
    use Event::*;
    use State::*;
    match (from, event) {
        (_, RequestArrived) => Wake,
        (Wake, Idle5Min) => Drowsy,
        (Drowsy, HeartbeatRefresh) => Wake,
        (Drowsy, Idle30Min) if guards.sleep_eligible => Sleep,
        (Sleep, SleepCycleDone) if guards.still_idle => Hibernation,
        (Hibernation, WakeSignal) => Wake,
        (state, _) => state,
    }
}

/// What the caller must do after an event (SPEC §4.3 step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Nothing to do.
    None,
    /// HIBERNATION was entered with `shadow_run` false: shut down.
    Requested,
    /// HIBERNATION was entered in shadow mode: report, do not shut down.
    WouldRequest,
}

/// The result of one event on a record in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub record: Record,
    pub from: State,
    pub to: State,
    pub shutdown: Shutdown,
}

impl Applied {
    /// True when the state changed (SPEC §4.2, §4.3 step 5).
    pub fn transitioned(&self) -> bool {
        self.from != self.to
    }
}

/// The sequence number is already 2^53−1 and the event would bump it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wrapper_event_seq is already 2^53-1 ({MAX_INTEGER})")
    }
}

impl std::error::Error for Overflow {}

/// SPEC §4.3 steps 3-5 and 7 on `record` at instant `now`.
pub fn dispatch(
    record: &Record,
    event: Event,
    guards: Guards,
    shadow_run: bool,
    now: &Timestamp,
) -> Result<Applied, Overflow> {
    let mut next = record.clone();
    if event.is_activity() {
        if next.wrapper_event_seq >= MAX_INTEGER {
            return Err(Overflow);
        }
        next.wrapper_event_seq += 1;
        next.last_activity_ts = now.clone();
    }
    next.shadow_run = shadow_run;
    let from = record.current_state;
    let to = next_state(from, event, guards);
    if to != from {
        next.current_state = to;
        next.since_ts = now.clone();
    }
    let shutdown = match (to != from && to == State::Hibernation, shadow_run) {
        (false, _) => Shutdown::None,
        (true, false) => Shutdown::Requested,
        (true, true) => Shutdown::WouldRequest,
    };
    Ok(Applied {
        record: next,
        from,
        to,
        shutdown,
    })
}
