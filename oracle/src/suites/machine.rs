//! `machine`: the whole transition table of SPEC §4.2 and the dispatch
//! steps of §4.3 through the adapter.
//!
//! Promises: one case per state × event × guards × shadow flag (288), each
//! a dispatch on a valid record in that state, judged by the harness's
//! driver against the model (the record, whether it wrote, the shutdown
//! signal, the transition, the files); and the edges: a dispatch that
//! would overflow `wrapper_event_seq`, dispatches on a missing file, on a
//! corrupt file (its bytes preserved, SPEC §4.4.1) and on a directory (an
//! I/O error, nothing written, §4.4.4). With the `clock` capability now is
//! the oracle's fixed instant; without it, the wall clock.
//!
//! Does not promise: anything about a second writer (the lock).

use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::spec::MAX_INTEGER;
use lifecycle_model::writer::{Found, WriterOp};
use lifecycle_model::State;

use crate::case::{record, stamp, Planned};

/// A valid record in `state`, its sequence at `seq`.
fn in_state(state: State, seq: u64, now: i64) -> lifecycle_model::Record {
    record(&format!(
        r#"{{"current_state":"{}","since_ts":"{}","last_activity_ts":"{}","wrapper_event_seq":{seq},"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x-newer-writer":{{"kept":[1,2]}}}}"#,
        state.name(),
        stamp(now - 3_600_000_000),
        stamp(now - 60_000_000),
    ))
}

fn dispatch(event: Event, sleep_eligible: bool, still_idle: bool, shadow_run: bool) -> WriterOp {
    WriterOp::Dispatch {
        event,
        guards: Guards {
            sleep_eligible,
            still_idle,
        },
        shadow_run,
    }
}

pub fn plan(now: i64) -> Vec<Planned> {
    let mut cases = Vec::new();
    for state in State::ALL {
        for event in Event::ALL {
            for flags in 0..8u8 {
                let (eligible, idle, shadow) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
                let mut id = format!("machine/{}/{}", state.name(), event.name());
                for (on, name) in [
                    (eligible, "sleep_eligible"),
                    (idle, "still_idle"),
                    (shadow, "shadow_run"),
                ] {
                    if on {
                        id.push('+');
                        id.push_str(name);
                    }
                }
                cases.push(Planned::writer(
                    id,
                    "§4.2",
                    now,
                    Found::Valid(in_state(state, 5, now)),
                    dispatch(event, eligible, idle, shadow),
                ));
            }
        }
    }
    let edges = [
        (
            "machine/overflow",
            "§4.3",
            Found::Valid(in_state(State::Drowsy, MAX_INTEGER, now)),
            dispatch(Event::HeartbeatRefresh, false, false, false),
        ),
        (
            "machine/missing_file/tick",
            "§4.6",
            Found::Missing,
            dispatch(Event::Tick, false, false, false),
        ),
        (
            "machine/missing_file/request_arrived",
            "§4.3",
            Found::Missing,
            dispatch(Event::RequestArrived, false, false, false),
        ),
        (
            "machine/corrupt_file/idle_5min",
            "§4.4",
            Found::Corrupt(b"{\"current_state\":\"WAKE\",".to_vec()),
            dispatch(Event::Idle5Min, false, false, false),
        ),
        (
            "machine/directory/request_arrived",
            "§4.4",
            Found::Unreadable,
            dispatch(Event::RequestArrived, false, false, false),
        ),
    ];
    for (id, spec, file, op) in edges {
        cases.push(Planned::writer(id.to_string(), spec, now, file, op));
    }
    cases
}
