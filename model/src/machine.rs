//! SPEC §4: the transition table and the dispatch bookkeeping, pure.
//!
//! Promises: [`next_state`] is the table of SPEC §4.2 row by row;
//! [`dispatch`] is SPEC §4.3 steps 3-5 and 7 on a record in memory.
//!
//! Does not promise: locking, loading or saving; see [`crate::writer`].

use crate::record::{Record, State};
use crate::spec::MAX_INTEGER;
use crate::timestamp::Timestamp;

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
    match (from, event) {
        (_, Event::RequestArrived) => State::Wake,
        (State::Wake, Event::Idle5Min) => State::Drowsy,
        (State::Drowsy, Event::HeartbeatRefresh) => State::Wake,
        (State::Drowsy, Event::Idle30Min) if guards.sleep_eligible => State::Sleep,
        (State::Sleep, Event::SleepCycleDone) if guards.still_idle => State::Hibernation,
        (State::Hibernation, Event::WakeSignal) => State::Wake,
        _ => from,
    }
}

/// The events that count as activity (SPEC §4.3 step 3).
fn is_activity(event: Event) -> bool {
    matches!(
        event,
        Event::HeartbeatRefresh | Event::RequestArrived | Event::WakeSignal
    )
}

/// SPEC §4.3 steps 3-5 and 7.
pub fn dispatch(
    record: &Record,
    event: Event,
    guards: Guards,
    shadow_run: bool,
    now: &Timestamp,
) -> Result<Dispatched, Overflow> {
    let mut record = record.clone();
    if is_activity(event) {
        if record.wrapper_event_seq >= MAX_INTEGER {
            return Err(Overflow);
        }
        record.wrapper_event_seq += 1;
        record.last_activity_ts = now.clone();
    }
    record.shadow_run = shadow_run;
    let from = record.current_state;
    let to = next_state(from, event, guards);
    if to != from {
        record.current_state = to;
        record.since_ts = now.clone();
    }
    // Step 7 assumes the save succeeds: a failed save is the writer's error.
    let shutdown = match (to != from && to == State::Hibernation, shadow_run) {
        (false, _) => Shutdown::None,
        (true, false) => Shutdown::Requested,
        (true, true) => Shutdown::WouldRequest,
    };
    Ok(Dispatched {
        record,
        from,
        to,
        shutdown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_its_own_wire_name_of_spec_4_1() {
        let spec = include_str!("../../SPEC.md");
        let names: std::collections::BTreeSet<&str> = Event::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names.len(), Event::ALL.len());
        for name in names {
            assert!(
                spec.contains(&format!("`{name}`")),
                "{name} is not in SPEC.md"
            );
        }
    }

    const BOTH: Guards = Guards {
        sleep_eligible: true,
        still_idle: true,
    };
    const NONE: Guards = Guards {
        sleep_eligible: false,
        still_idle: false,
    };

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text} is a timestamp"))
    }

    fn then() -> Timestamp {
        ts("2024-01-01T00:00:00Z")
    }

    fn now() -> Timestamp {
        ts("2024-01-02T00:00:00Z")
    }

    fn record_in(state: State) -> Record {
        Record {
            current_state: state,
            ..Record::default_at(&then())
        }
    }

    /// SPEC §4.2 written out as (from, event, guards needed, to).
    const ROWS: [(Option<State>, Event, Guards, State); 6] = [
        (None, Event::RequestArrived, NONE, State::Wake),
        (Some(State::Wake), Event::Idle5Min, NONE, State::Drowsy),
        (
            Some(State::Drowsy),
            Event::HeartbeatRefresh,
            NONE,
            State::Wake,
        ),
        (
            Some(State::Drowsy),
            Event::Idle30Min,
            Guards {
                sleep_eligible: true,
                still_idle: false,
            },
            State::Sleep,
        ),
        (
            Some(State::Sleep),
            Event::SleepCycleDone,
            Guards {
                sleep_eligible: false,
                still_idle: true,
            },
            State::Hibernation,
        ),
        (
            Some(State::Hibernation),
            Event::WakeSignal,
            NONE,
            State::Wake,
        ),
    ];

    fn all_guards() -> [Guards; 4] {
        [false, true]
            .map(|s| {
                [false, true].map(move |i| Guards {
                    sleep_eligible: s,
                    still_idle: i,
                })
            })
            .concat()
            .try_into()
            .expect("four guard combinations")
    }

    #[test]
    fn every_combination_follows_the_table_or_stays() {
        for from in State::ALL {
            for event in Event::ALL {
                for guards in all_guards() {
                    let row = ROWS.iter().find(|(f, e, need, _)| {
                        f.is_none_or(|f| f == from)
                            && *e == event
                            && (!need.sleep_eligible || guards.sleep_eligible)
                            && (!need.still_idle || guards.still_idle)
                    });
                    let want = row.map_or(from, |r| r.3);
                    assert_eq!(
                        next_state(from, event, guards),
                        want,
                        "{from:?} {event:?} {guards:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn idle_30min_without_sleep_eligible_stays_drowsy() {
        assert_eq!(
            next_state(State::Drowsy, Event::Idle30Min, NONE),
            State::Drowsy
        );
    }

    #[test]
    fn sleep_cycle_done_without_still_idle_stays_asleep() {
        let guards = Guards {
            sleep_eligible: true,
            still_idle: false,
        };
        assert_eq!(
            next_state(State::Sleep, Event::SleepCycleDone, guards),
            State::Sleep
        );
    }

    #[test]
    fn sleep_eligible_grace_and_tick_events_never_move() {
        for from in State::ALL {
            for event in [
                Event::SleepEligible,
                Event::HibernationGraceExpired,
                Event::Tick,
            ] {
                assert_eq!(next_state(from, event, BOTH), from);
            }
        }
    }

    #[test]
    fn activity_event_bumps_seq_and_last_activity_without_transition() {
        let d = dispatch(
            &record_in(State::Wake),
            Event::RequestArrived,
            NONE,
            false,
            &now(),
        )
        .expect("no overflow");
        assert_eq!(d.record.wrapper_event_seq, 1);
        assert_eq!(d.record.last_activity_ts, now());
        assert_eq!(d.record.since_ts, then());
        assert_eq!((d.from, d.to), (State::Wake, State::Wake));
    }

    #[test]
    fn heartbeat_and_wake_signal_count_as_activity_in_any_state() {
        for event in [Event::HeartbeatRefresh, Event::WakeSignal] {
            let d = dispatch(&record_in(State::Sleep), event, NONE, false, &now()).expect("ok");
            assert_eq!(d.record.wrapper_event_seq, 1, "{event:?}");
        }
    }

    #[test]
    fn other_events_leave_seq_and_last_activity_alone() {
        for event in [
            Event::Idle5Min,
            Event::Idle30Min,
            Event::SleepEligible,
            Event::SleepCycleDone,
            Event::HibernationGraceExpired,
            Event::Tick,
        ] {
            let d = dispatch(&record_in(State::Drowsy), event, BOTH, false, &now()).expect("ok");
            assert_eq!(d.record.wrapper_event_seq, 0, "{event:?}");
            assert_eq!(d.record.last_activity_ts, then(), "{event:?}");
        }
    }

    #[test]
    fn activity_at_the_largest_seq_overflows() {
        let mut r = record_in(State::Wake);
        r.wrapper_event_seq = MAX_INTEGER;
        assert_eq!(
            dispatch(&r, Event::HeartbeatRefresh, NONE, false, &now()),
            Err(Overflow)
        );
    }

    #[test]
    fn non_activity_at_the_largest_seq_does_not_overflow() {
        let mut r = record_in(State::Wake);
        r.wrapper_event_seq = MAX_INTEGER;
        assert!(dispatch(&r, Event::Idle5Min, NONE, false, &now()).is_ok());
    }

    #[test]
    fn transition_sets_state_and_since_ts() {
        let d = dispatch(
            &record_in(State::Wake),
            Event::Idle5Min,
            NONE,
            false,
            &now(),
        )
        .expect("ok");
        assert_eq!(d.record.current_state, State::Drowsy);
        assert_eq!(d.record.since_ts, now());
        assert_eq!((d.from, d.to), (State::Wake, State::Drowsy));
    }

    #[test]
    fn shadow_run_is_the_machines_flag() {
        let mut r = record_in(State::Wake);
        r.shadow_run = true;
        let d = dispatch(&r, Event::Tick, NONE, false, &now()).expect("ok");
        assert!(!d.record.shadow_run);
        let d = dispatch(&record_in(State::Wake), Event::Tick, NONE, true, &now()).expect("ok");
        assert!(d.record.shadow_run);
    }

    #[test]
    fn no_op_leaves_the_record_unchanged() {
        let r = record_in(State::Sleep);
        let d = dispatch(&r, Event::Tick, BOTH, false, &now()).expect("ok");
        assert_eq!(d.record, r);
        assert_eq!(d.shutdown, Shutdown::None);
    }

    #[test]
    fn entering_hibernation_requests_shutdown() {
        let d = dispatch(
            &record_in(State::Sleep),
            Event::SleepCycleDone,
            BOTH,
            false,
            &now(),
        )
        .expect("ok");
        assert_eq!(d.shutdown, Shutdown::Requested);
    }

    #[test]
    fn entering_hibernation_in_shadow_run_only_reports_it() {
        let d = dispatch(
            &record_in(State::Sleep),
            Event::SleepCycleDone,
            BOTH,
            true,
            &now(),
        )
        .expect("ok");
        assert_eq!(d.shutdown, Shutdown::WouldRequest);
    }

    #[test]
    fn staying_in_hibernation_requests_nothing() {
        let d = dispatch(
            &record_in(State::Hibernation),
            Event::SleepCycleDone,
            BOTH,
            false,
            &now(),
        )
        .expect("ok");
        assert_eq!(d.shutdown, Shutdown::None);
    }
}
