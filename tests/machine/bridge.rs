//! The bridge between the store's types and the model's, shared by the
//! machine test and the fuzz crate (`fuzz/src/lib.rs` includes this file).
//!
//! Proves nothing by itself: it converts a `lifecycle_state::Record` to a
//! `lifecycle_model::Record` field by field (timestamps re-parsed from their
//! text, unknown members as their raw text), so the harness can compare the
//! store with the model with the model's own `==` (timestamps by instant),
//! and events and guards between the two by name. It lives outside both
//! crates so that the model never depends on the store.
//!
//! Does not prove that the two parsers agree: a timestamp the store accepted
//! but the model rejects makes the conversion panic, which the harness then
//! reports as a disagreement.

use lifecycle_model::record::{Progress, Quarantine, Record, State};
use lifecycle_model::Timestamp;

pub fn state(state: lifecycle_state::State) -> State {
    match state {
        lifecycle_state::State::Wake => State::Wake,
        lifecycle_state::State::Drowsy => State::Drowsy,
        lifecycle_state::State::Sleep => State::Sleep,
        lifecycle_state::State::Hibernation => State::Hibernation,
    }
}

pub fn timestamp(ts: &lifecycle_state::Timestamp) -> Timestamp {
    Timestamp::parse(ts.as_str()).unwrap_or_else(|| {
        panic!(
            "the store holds the timestamp {:?}, which the model rejects",
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

pub fn record(r: &lifecycle_state::Record) -> Record {
    Record {
        current_state: state(r.current_state),
        since_ts: timestamp(&r.since_ts),
        last_activity_ts: timestamp(&r.last_activity_ts),
        wrapper_event_seq: r.wrapper_event_seq,
        sleep_cycle_progress: r.sleep_cycle_progress.as_ref().map(|p| Progress {
            last_completed_step: p.last_completed_step,
            attempt: p.attempt,
            last_error: p.last_error.clone(),
            started_at: p.started_at.as_ref().map(timestamp),
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

/// The model's event of the same name.
pub fn model_event(e: lifecycle_state::Event) -> lifecycle_model::Event {
    let name = e.as_str();
    lifecycle_model::Event::ALL
        .into_iter()
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("the model does not know the event {name}"))
}

pub fn store_guards(g: lifecycle_model::Guards) -> lifecycle_state::Guards {
    lifecycle_state::Guards {
        sleep_eligible: g.sleep_eligible,
        still_idle: g.still_idle,
    }
}
