//! The reference state machine: the model's best guess of the world, used
//! to generate transitions.
//!
//! Proves nothing by itself. After a crash, an injected fault or a power
//! loss the real outcome is one of several the SPEC allows, and the guess
//! here (the file as it was) may be wrong; that only makes some generated
//! transitions less pointed (a step number that is no longer next). The
//! checking side keeps its own model state, chosen by observation (see
//! `sut`).

use std::marker::PhantomData;

use proptest::prelude::*;
use proptest_state_machine::ReferenceStateMachine;

use super::disk::TestDisk;
use super::records::valid_record;
use super::transitions::{transition, Transition};
use super::world::{FileView, World, MAX_MICROS};

/// The machine test over the disk `D`.
pub struct Machine<D>(PhantomData<fn() -> D>);

#[derive(Clone, Debug)]
pub struct RefState {
    pub world: World,
    /// Whether crashes, faults and power loss may be generated.
    pub simulated: bool,
}

/// 2024-01-01T00:00:00Z.
const START_MICROS: i64 = 1_704_067_200_000_000;
const YEAR_MICROS: i64 = 365 * 86_400_000_000;

fn start_clock() -> impl Strategy<Value = i64> {
    prop_oneof![
        9 => START_MICROS..START_MICROS + 5 * YEAR_MICROS,
        // Where now + 24 h passes year 9999 (SPEC §5.4.3).
        1 => MAX_MICROS - 2 * 86_400_000_000..MAX_MICROS - 3_600_000_000,
    ]
}

fn start_file(now_micros: i64) -> impl Strategy<Value = FileView> {
    prop_oneof![
        1 => Just(FileView::Missing),
        1 => valid_record(now_micros).prop_map(FileView::Valid),
    ]
}

/// The reference's guess of the file after `transition`.
fn guess(world: &World, transition: &Transition) -> FileView {
    match transition {
        Transition::Write(op) => world.after(op),
        Transition::Corrupt(c) => {
            let bytes = c.bytes(world.file.approximate_bytes().as_deref(), world.now_micros);
            FileView::of_bytes(&bytes)
        }
        Transition::PutDirectory => FileView::Unreadable,
        Transition::Delete => FileView::Missing,
        Transition::SaveInvalid(_)
        | Transition::Load
        | Transition::AdvanceClock(_)
        | Transition::StaleTemp(_)
        | Transition::Crash { .. }
        | Transition::PowerLoss { .. }
        | Transition::Fault { .. } => world.file.clone(),
    }
}

impl<D: TestDisk + 'static> ReferenceStateMachine for Machine<D> {
    type State = RefState;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<RefState> {
        start_clock()
            .prop_flat_map(|now_micros| {
                start_file(now_micros).prop_map(move |file| RefState {
                    world: World { now_micros, file },
                    simulated: D::SIMULATED,
                })
            })
            .boxed()
    }

    fn transitions(state: &RefState) -> BoxedStrategy<Transition> {
        transition(&state.world, state.simulated)
    }

    fn apply(mut state: RefState, transition: &Transition) -> RefState {
        state.world.file = guess(&state.world, transition);
        if let Transition::AdvanceClock(advance) = transition {
            let target = advance.target(state.world.now_micros);
            state.world.set_clock(target);
        }
        state
    }

    fn preconditions(state: &RefState, transition: &Transition) -> bool {
        // Generation already leaves these out on a real disk; this also
        // keeps hand-written sequences (`replay`) from asking for them.
        state.simulated
            || !matches!(
                transition,
                Transition::Crash { .. } | Transition::PowerLoss { .. } | Transition::Fault { .. }
            )
    }
}
