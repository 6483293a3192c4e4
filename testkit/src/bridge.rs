//! The store's types to the model's and back, field by field.
//!
//! Promises: [`to_model`] turns a store record into the model's (timestamps
//! re-parsed from their text, unknown members as their raw text) and
//! [`to_store`] the other way, so the in-process subject answers in the
//! model's vocabulary and can hand the store any record the harness builds,
//! invalid ones included. Events, guards, shutdown signals and refusals
//! map by name. It lives outside both crates so the model never depends on
//! the store.
//!
//! A text one side accepts and the other rejects (a timestamp, a raw JSON
//! value) is a disagreement between the store and the model; the
//! conversion panics with both texts, which the harness reports.

use lifecycle_model::sleep_cycle::Refusal;
use lifecycle_model::{Progress, Quarantine, Record, State, Timestamp};
use lifecycle_state::sleep_cycle::SleepCycleError;

pub fn state(state: lifecycle_state::State) -> State {
    match state {
        lifecycle_state::State::Wake => State::Wake,
        lifecycle_state::State::Drowsy => State::Drowsy,
        lifecycle_state::State::Sleep => State::Sleep,
        lifecycle_state::State::Hibernation => State::Hibernation,
    }
}

fn store_state(state: State) -> lifecycle_state::State {
    match state {
        State::Wake => lifecycle_state::State::Wake,
        State::Drowsy => lifecycle_state::State::Drowsy,
        State::Sleep => lifecycle_state::State::Sleep,
        State::Hibernation => lifecycle_state::State::Hibernation,
    }
}

pub fn timestamp(ts: &lifecycle_state::Timestamp) -> Timestamp {
    Timestamp::parse(ts.as_str()).unwrap_or_else(|| {
        panic!(
            "the store holds the timestamp {:?}, which the model rejects (SPEC §1.4)",
            ts.as_str()
        )
    })
}

pub fn store_timestamp(ts: &Timestamp) -> lifecycle_state::Timestamp {
    lifecycle_state::Timestamp::parse(ts.as_str()).unwrap_or_else(|e| {
        panic!(
            "the store rejects the timestamp {:?}, which the model accepts (SPEC §1.4): {e}",
            ts.as_str()
        )
    })
}

fn unknown(members: &lifecycle_state::record::UnknownMembers) -> Vec<(String, String)> {
    members
        .iter()
        .map(|(name, raw)| (name.clone(), raw.as_str().to_string()))
        .collect()
}

fn store_unknown(members: &[(String, String)]) -> lifecycle_state::record::UnknownMembers {
    members
        .iter()
        .map(|(name, raw)| {
            let value = lifecycle_state::RawJson::parse(raw).unwrap_or_else(|e| {
                panic!("the store rejects the JSON value {raw:?}, which the model accepts (SPEC §1.5): {e}")
            });
            assert_eq!(
                value.as_str(),
                raw,
                "the store keeps the JSON value {raw:?} as another text (SPEC §1.5)"
            );
            (name.clone(), value)
        })
        .collect()
}

/// The model's record for a store record.
pub fn to_model(r: &lifecycle_state::Record) -> Record {
    convert(r, timestamp)
}

/// [`to_model`], where `known` is a timestamp the model already holds
/// (the `now` of the request): a store timestamp spelled exactly as it is
/// `known` itself, not parsed again (the model's reading of one text is
/// one timestamp); any other is parsed.
pub fn to_model_knowing(r: &lifecycle_state::Record, known: &Timestamp) -> Record {
    convert(r, |ts| {
        if ts.as_str() == known.as_str() {
            known.clone()
        } else {
            timestamp(ts)
        }
    })
}

fn convert(
    r: &lifecycle_state::Record,
    timestamp: impl Fn(&lifecycle_state::Timestamp) -> Timestamp,
) -> Record {
    Record {
        current_state: state(r.current_state),
        since_ts: timestamp(&r.since_ts),
        last_activity_ts: timestamp(&r.last_activity_ts),
        wrapper_event_seq: r.wrapper_event_seq,
        sleep_cycle_progress: r.sleep_cycle_progress.as_ref().map(|p| Progress {
            last_completed_step: p.last_completed_step,
            attempt: p.attempt,
            last_error: p.last_error.clone(),
            started_at: p.started_at.as_ref().map(&timestamp),
            unknown: unknown(&p.unknown),
        }),
        quarantine: r.quarantine.as_ref().map(|q| Quarantine {
            until_ts: timestamp(&q.until_ts),
            since_ts: timestamp(&q.since_ts),
            reason: q.reason.clone(),
            unknown: unknown(&q.unknown),
        }),
        shadow_run: r.shadow_run,
        unknown: unknown(&r.unknown),
    }
}

/// The store's record for a model record, valid or not.
pub fn to_store(r: &Record) -> lifecycle_state::Record {
    lifecycle_state::Record {
        current_state: store_state(r.current_state),
        since_ts: store_timestamp(&r.since_ts),
        last_activity_ts: store_timestamp(&r.last_activity_ts),
        wrapper_event_seq: r.wrapper_event_seq,
        sleep_cycle_progress: r
            .sleep_cycle_progress
            .as_ref()
            .map(|p| lifecycle_state::Progress {
                last_completed_step: p.last_completed_step,
                attempt: p.attempt,
                last_error: p.last_error.clone(),
                started_at: p.started_at.as_ref().map(store_timestamp),
                unknown: store_unknown(&p.unknown),
            }),
        quarantine: r.quarantine.as_ref().map(|q| lifecycle_state::Quarantine {
            until_ts: store_timestamp(&q.until_ts),
            since_ts: store_timestamp(&q.since_ts),
            reason: q.reason.clone(),
            unknown: store_unknown(&q.unknown),
        }),
        shadow_run: r.shadow_run,
        unknown: store_unknown(&r.unknown),
    }
}

pub fn shutdown(s: lifecycle_state::Shutdown) -> lifecycle_model::Shutdown {
    match s {
        lifecycle_state::Shutdown::None => lifecycle_model::Shutdown::None,
        lifecycle_state::Shutdown::Requested => lifecycle_model::Shutdown::Requested,
        lifecycle_state::Shutdown::WouldRequest => lifecycle_model::Shutdown::WouldRequest,
    }
}

/// The store's event of the same name.
pub fn store_event(e: lifecycle_model::Event) -> lifecycle_state::Event {
    let name = e.name();
    lifecycle_state::Event::from_name(name)
        .unwrap_or_else(|| panic!("the store does not know the event {name}"))
}

pub fn store_guards(g: lifecycle_model::Guards) -> lifecycle_state::Guards {
    lifecycle_state::Guards {
        sleep_eligible: g.sleep_eligible,
        still_idle: g.still_idle,
    }
}

/// The model's reason for a refusal of SPEC §5.
pub fn refusal(e: &SleepCycleError) -> Refusal {
    match e {
        SleepCycleError::NoSteps => Refusal::NoSteps,
        SleepCycleError::Quarantined { .. } => Refusal::Quarantined,
        SleepCycleError::NoCycle => Refusal::NoCycle,
        SleepCycleError::WrongStep { expected, got } => Refusal::WrongStep {
            expected: *expected,
            got: *got,
        },
        SleepCycleError::QuarantineOutOfRange => Refusal::QuarantineOutOfRange,
        SleepCycleError::StepOutOfRange { step } => Refusal::StepOutOfRange { step: *step },
    }
}
