//! The transitions of the machine test and how they are generated.
//!
//! Proves nothing by itself. Generation reads the reference state (the
//! model's best guess of the world) only to aim: the event that moves the
//! lifecycle forward, the sleep step that comes next, the instant a
//! quarantine ends. Every transition is valid in every state, so shrinking
//! needs no preconditions.

use lifecycle_model::persistence::Crash;
use lifecycle_model::spec::MAX_INTEGER;
use lifecycle_model::writer::WriterOp;
use lifecycle_model::{Event, Guards, State};
use lifecycle_state::Timestamp;
use lifecycle_testkit::Fault;
use proptest::prelude::*;
use proptest::strategy::Union;

use super::corruptions::{corruption, Corruption};
use super::records::{invalid_save, respelled, valid_record, InvalidSave};
use super::world::World;

#[derive(Clone, Debug)]
pub enum Transition {
    /// One writer operation, run to completion.
    Write(WriterOp),
    SaveInvalid(InvalidSave),
    Load,
    AdvanceClock(Advance),
    Corrupt(Corruption),
    /// A directory at the record path (SPEC §2.1 `Unreadable`).
    PutDirectory,
    Delete,
    /// A stale `.lifecycle_state.<16 hex>.tmp` file.
    StaleTemp(u64),
    /// The process dies at call `at_call` of `op`, then `crash` happens.
    Crash {
        op: WriterOp,
        at_call: u64,
        crash: Crash,
        choice: u64,
    },
    /// The machine loses power between operations.
    PowerLoss {
        block_size: usize,
        choice: u64,
    },
    /// Call `at_call` of `op` fails once with `fault`.
    Fault {
        op: WriterOp,
        at_call: u64,
        fault: Fault,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advance {
    By(i64),
    /// To an instant in µs since the epoch (a quarantine's end).
    To(i64),
}

impl Advance {
    pub fn target(self, now_micros: i64) -> i64 {
        match self {
            Advance::By(d) => now_micros.saturating_add(d),
            Advance::To(t) => t,
        }
    }
}

/// The name of each writer operation in the coverage histogram.
pub fn op_kind(op: &WriterOp) -> &'static str {
    match op {
        WriterOp::Dispatch { .. } => "dispatch",
        WriterOp::Begin(_) => "begin",
        WriterOp::StepDone(_) => "step_done",
        WriterOp::StepFailed { .. } => "step_failed",
        WriterOp::CycleDone => "cycle_done",
        WriterOp::ResetQuarantine => "reset_quarantine",
        WriterOp::Save(_) => "save_valid",
    }
}

/// Every transition kind, and whether it needs the simulated file system.
pub const KINDS: [(&str, bool); 17] = [
    ("dispatch", false),
    ("begin", false),
    ("step_done", false),
    ("step_failed", false),
    ("cycle_done", false),
    ("reset_quarantine", false),
    ("save_valid", false),
    ("save_invalid", false),
    ("load", false),
    ("advance_clock", false),
    ("corrupt", false),
    ("put_directory", false),
    ("delete", false),
    ("stale_temp", false),
    ("crash", true),
    ("power_loss", true),
    ("fault", true),
];

impl Transition {
    pub fn kind(&self) -> &'static str {
        match self {
            Transition::Write(op) => op_kind(op),
            Transition::SaveInvalid(_) => "save_invalid",
            Transition::Load => "load",
            Transition::AdvanceClock(_) => "advance_clock",
            Transition::Corrupt(_) => "corrupt",
            Transition::PutDirectory => "put_directory",
            Transition::Delete => "delete",
            Transition::StaleTemp(_) => "stale_temp",
            Transition::Crash { .. } => "crash",
            Transition::PowerLoss { .. } => "power_loss",
            Transition::Fault { .. } => "fault",
        }
    }

    /// A finer name for the histogram, where the kind has variants.
    pub fn detail(&self) -> Option<String> {
        match self {
            Transition::Write(WriterOp::Dispatch { event, .. }) => {
                Some(format!("event/{}", event.name()))
            }
            Transition::Write(WriterOp::Begin(0)) => Some("begin/0".to_string()),
            Transition::AdvanceClock(Advance::To(_)) => {
                Some("advance/to_quarantine_end".to_string())
            }
            Transition::AdvanceClock(Advance::By(d)) if *d > 86_400_000_000 => {
                Some("advance/more_than_a_day".to_string())
            }
            Transition::Corrupt(c) => Some(format!("corrupt/{}", c.kind())),
            Transition::Crash { crash, op, .. } => Some(format!(
                "crash/{}/{}",
                match crash {
                    Crash::Process => "process",
                    Crash::PowerLoss { .. } => "power_loss",
                },
                op_kind(op)
            )),
            Transition::Fault { fault, op, .. } => Some(format!("fault/{fault:?}/{}", op_kind(op))),
            _ => None,
        }
    }
}

/// The event that moves `state` forward along WAKE → DROWSY → SLEEP →
/// HIBERNATION → WAKE, so that HIBERNATION is reached often.
fn forward_event(state: State) -> Event {
    match state {
        State::Wake => Event::Idle5Min,
        State::Drowsy => Event::Idle30Min,
        State::Sleep => Event::SleepCycleDone,
        State::Hibernation => Event::WakeSignal,
    }
}

fn dispatch(state: State) -> BoxedStrategy<WriterOp> {
    let both = Guards {
        sleep_eligible: true,
        still_idle: true,
    };
    let event = prop_oneof![
        3 => Just((forward_event(state), both)),
        2 => (
            prop::sample::select(Event::ALL.to_vec()),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(e, sleep_eligible, still_idle)| (
                e,
                Guards {
                    sleep_eligible,
                    still_idle
                }
            )),
    ];
    (event, prop::bool::weighted(0.3))
        .prop_map(|((event, guards), shadow_run)| WriterOp::Dispatch {
            event,
            guards,
            shadow_run,
        })
        .boxed()
}

/// Mostly the step that comes next, sometimes any other.
fn step(world: &World) -> BoxedStrategy<u64> {
    let next = world
        .file
        .record()
        .and_then(|r| r.sleep_cycle_progress.as_ref())
        .map_or(1, |p| p.last_completed_step.unwrap_or(0) + 1);
    prop_oneof![4 => Just(next), 1 => 0u64..6, 1 => Just(MAX_INTEGER), 1 => Just(MAX_INTEGER + 1)]
        .boxed()
}

fn ttl_secs() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(86_400u64),
        2 => 0u64..3,
        2 => 1u64..200_000,
        1 => Just(400_000_000_000u64),
        1 => Just(u64::MAX),
    ]
}

pub fn writer_op(world: &World) -> BoxedStrategy<WriterOp> {
    let error = prop_oneof![
        3 => "[a-z ]{0,10}",
        1 => Just("\"quoted\"\n\u{0}é".to_string()),
    ];
    prop_oneof![
        12 => dispatch(world.file.state()),
        3 => prop_oneof![1 => Just(0u64), 6 => 1u64..5, 1 => Just(u64::MAX)]
            .prop_map(WriterOp::Begin),
        3 => step(world).prop_map(WriterOp::StepDone),
        3 => (step(world), error, ttl_secs()).prop_map(|(step, error, ttl_secs)| {
            WriterOp::StepFailed {
                step,
                error,
                ttl_secs,
            }
        }),
        1 => Just(WriterOp::CycleDone),
        1 => Just(WriterOp::ResetQuarantine),
        2 => valid_record(world.now_micros).prop_map(WriterOp::Save),
        1 => match world.file.record() {
            Some(r) => respelled(r).prop_map(WriterOp::Save).boxed(),
            None => Just(WriterOp::CycleDone).boxed(),
        },
    ]
    .boxed()
}

/// The end of the stored quarantine in µs, when it is still ahead.
fn quarantine_end(world: &World) -> Option<i64> {
    let q = world.file.record()?.quarantine.as_ref()?;
    let until = Timestamp::parse(q.until_ts.as_str()).ok()?;
    let micros = i64::try_from(until.unix_nanos().div_euclid(1_000)).ok()?;
    (micros > world.now_micros).then_some(micros)
}

fn advance(world: &World) -> BoxedStrategy<Advance> {
    let by = prop_oneof![
        2 => 1i64..1_000,
        3 => 1_000_000i64..600_000_000,
        2 => 3_600_000_000i64..108_000_000_000,
        1 => 86_400_000_000i64..8_640_000_000_000,
    ]
    .prop_map(Advance::By);
    let now = world.now_micros;
    // Never backwards: the clock may go back (clock.rs), but a preserved
    // copy named by an earlier instant than the newest five would be removed
    // by retention at once, which SPEC §4.4.2 allows and this test does not
    // model.
    match quarantine_end(world) {
        Some(end) => prop_oneof![
            2 => by,
            1 => Just(Advance::To(end)),
            1 => (-2i64..3).prop_map(move |d| Advance::To((end + d).max(now))),
        ]
        .boxed(),
        None => by.boxed(),
    }
}

fn crash_kind() -> impl Strategy<Value = Crash> {
    prop_oneof![
        Just(Crash::Process),
        Just(Crash::PowerLoss { block_size: 512 }),
        Just(Crash::PowerLoss { block_size: 4096 }),
    ]
}

/// Every transition that may follow `world`; crashes, faults and power loss
/// only when the file system is simulated.
pub fn transition(world: &World, simulated: bool) -> BoxedStrategy<Transition> {
    let mut arms: Vec<(u32, BoxedStrategy<Transition>)> = vec![
        (40, writer_op(world).prop_map(Transition::Write).boxed()),
        (2, invalid_save().prop_map(Transition::SaveInvalid).boxed()),
        (2, Just(Transition::Load).boxed()),
        (8, advance(world).prop_map(Transition::AdvanceClock).boxed()),
        (4, corruption().prop_map(Transition::Corrupt).boxed()),
        (1, Just(Transition::PutDirectory).boxed()),
        (2, Just(Transition::Delete).boxed()),
        (2, any::<u64>().prop_map(Transition::StaleTemp).boxed()),
    ];
    if simulated {
        arms.push((
            4,
            (writer_op(world), 0u64..20, crash_kind(), any::<u64>())
                .prop_map(|(op, at_call, crash, choice)| Transition::Crash {
                    op,
                    at_call,
                    crash,
                    choice,
                })
                .boxed(),
        ));
        arms.push((
            2,
            (prop::sample::select(vec![512usize, 4096]), any::<u64>())
                .prop_map(|(block_size, choice)| Transition::PowerLoss { block_size, choice })
                .boxed(),
        ));
        arms.push((
            4,
            (
                writer_op(world),
                0u64..20,
                prop::sample::select(Fault::ALL.to_vec()),
            )
                .prop_map(|(op, at_call, fault)| Transition::Fault { op, at_call, fault })
                .boxed(),
        ));
    }
    Union::new_weighted(arms).boxed()
}
