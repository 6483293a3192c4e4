//! The run of [`crate::driver`] as a proptest state machine: random starts
//! and sequences of transitions, shrunk to a minimal failing sequence.
//!
//! Promises (through [`run`]): for random sequences of up to a few dozen
//! transitions (every event with its guards, every sleep-cycle operation,
//! clock moves, valid and invalid saves, loads, corruptions, outside
//! rewrites, deletions, stale temp files and, on a simulated disk, crashes,
//! injected I/O errors and power loss) the subject does what
//! `lifecycle_model` says SPEC.md requires (see [`crate::driver`]).
//! Transitions are read from random bytes by the same definitions the fuzz
//! targets read theirs with ([`crate::generate`]), so the two explore the
//! same space. The reference state machine only generates: a run keeps its
//! model state in the driver, chosen by observation.
//!
//! Does not promise anything about concurrency (one writer at a time here).

use std::collections::BTreeMap;
use std::marker::PhantomData;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

use crate::coverage;
use crate::driver::{Driver, Initial};

use crate::generate::strategy;
use crate::subject::Subject;
use crate::transition::{Start, Transition};

/// How a machine run makes the subject it drives.
pub trait Subjects: 'static {
    type Subject: Subject;
    /// Whether crashes, injected faults and power loss can be simulated.
    const SIMULATED: bool;
    /// Names the run in the coverage histogram.
    const LABEL: &'static str;
    /// A fresh subject with an empty record directory.
    fn create() -> Self::Subject;
}

/// The machine test over the subjects `F` makes.
pub struct Machine<F>(PhantomData<fn() -> F>);

#[derive(Clone, Debug)]
pub struct RefState {
    pub initial: Initial,
    /// Whether crashes, faults and power loss may be generated.
    pub simulated: bool,
}

impl<F: Subjects> ReferenceStateMachine for Machine<F> {
    type State = RefState;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<RefState> {
        strategy::<Start>()
            .prop_map(|start| RefState {
                initial: start.build(),
                simulated: F::SIMULATED,
            })
            .boxed()
    }

    fn transitions(_state: &RefState) -> BoxedStrategy<Transition> {
        // Transitions are aimed when they run (see `OpSpec::resolve`), so
        // generation needs no state.
        strategy::<Transition>()
    }

    fn apply(state: RefState, _transition: &Transition) -> RefState {
        state
    }

    fn preconditions(state: &RefState, transition: &Transition) -> bool {
        state.simulated || !transition.simulated_only()
    }
}

impl<F: Subjects> StateMachineTest for Machine<F> {
    type SystemUnderTest = Driver<F::Subject>;
    type Reference = Machine<F>;

    fn init_test(ref_state: &RefState) -> Driver<F::Subject> {
        Driver::new(F::create(), &ref_state.initial)
    }

    fn apply(
        mut driver: Driver<F::Subject>,
        _ref_state: &RefState,
        transition: Transition,
    ) -> Driver<F::Subject> {
        // A state machine test reports by panicking; proptest shrinks on it.
        if let Err(finding) = driver.apply(&transition) {
            panic!("{finding}");
        }
        driver
    }
}

/// A proptest configuration: `default_cases` unless `PROPTEST_CASES` says
/// otherwise; failures persisted beside `source_file`, in
/// `<source_file without .rs>.proptest-regressions`.
pub fn config(default_cases: u32, source_file: &'static str) -> Config {
    let base = Config::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        base.cases
    } else {
        default_cases
    };
    Config {
        cases,
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        // A failing sequence of crashes shrinks slowly; a minute of
        // shrinking gives a readable case without stalling CI.
        max_shrink_time: if base.max_shrink_time == 0 {
            60_000
        } else {
            base.max_shrink_time
        },
        // On a real disk the simulated-only transitions generated (one in
        // seven) are rejected and drawn again.
        max_local_rejects: base.max_local_rejects.max(1 << 20),
        ..base
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps this thread's panics out of the output while proptest shrinks: it
/// reports the minimal case's panic itself, and a thousand others bury it.
/// The oracle, which judges every panic of a case itself, keeps them out
/// for the whole run.
pub fn quiet_panics(quiet: bool) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(quiet));
}

/// Runs the machine over `F` for `config.cases` sequences of up to
/// `max_transitions` transitions; returns the coverage histogram of this
/// run, or the failure proptest found (after shrinking).
pub fn run<F: Subjects>(
    config: Config,
    max_transitions: usize,
) -> Result<BTreeMap<String, u64>, String> {
    coverage::set_label(F::LABEL);
    let mut runner = TestRunner::new(config.clone());
    let strategy = Machine::<F>::sequential_strategy(1..max_transitions);
    quiet_panics(true);
    let result = runner.run(&strategy, |(initial, transitions, seen)| {
        Machine::<F>::test_sequential(config.clone(), initial, transitions, seen);
        Ok(())
    });
    quiet_panics(false);
    result.map_err(|e| e.to_string())?;
    Ok(coverage::histogram(F::LABEL))
}

/// Required histogram keys that were never reached over `F`.
pub fn unreached<F: Subjects>(histogram: &BTreeMap<String, u64>) -> Vec<String> {
    coverage::unreached(histogram, F::SIMULATED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::Plain;

    /// Runs with a simulated disk, or not; never started.
    struct Simulated<const YES: bool>;

    impl<const YES: bool> Subjects for Simulated<YES> {
        type Subject = Plain;
        const SIMULATED: bool = YES;
        const LABEL: &'static str = "machine-tests";
        fn create() -> Plain {
            Plain
        }
    }

    #[test]
    fn crashes_power_loss_and_faults_are_drawn_and_required_only_on_a_simulated_disk() {
        let state = |simulated| RefState {
            initial: Initial {
                now_micros: 0,
                file: lifecycle_model::writer::Found::Missing,
            },
            simulated,
        };
        let power_loss = Transition::PowerLoss {
            block_size: 512,
            choice: 0,
        };
        for simulated in [true, false] {
            assert!(Machine::<Simulated<true>>::preconditions(
                &state(simulated),
                &Transition::Load
            ));
            assert_eq!(
                Machine::<Simulated<true>>::preconditions(&state(simulated), &power_loss),
                simulated
            );
        }
        let never = BTreeMap::new();
        let on_sim = unreached::<Simulated<true>>(&never);
        let on_disk = unreached::<Simulated<false>>(&never);
        for key in ["transition/load", "state/WAKE", "corrupt_class/10"] {
            assert!(on_sim.iter().any(|k| k == key), "{key}: {on_sim:?}");
            assert!(on_disk.iter().any(|k| k == key), "{key}: {on_disk:?}");
        }
        assert!(on_sim.iter().any(|k| k == "transition/power_loss"));
        assert!(!on_disk.iter().any(|k| k == "transition/power_loss"));
    }

    #[test]
    fn a_run_replays_the_failures_persisted_beside_its_source_file() {
        // The workspace's machine test, as it names itself (`file!()`):
        // proptest finds it from the working directory up.
        let config = config(7, "tests/machine.rs");
        let committed = include_str!("../../tests/machine.proptest-regressions");
        let seeds = committed.lines().filter(|l| l.starts_with("cc ")).count();
        assert!(seeds > 0, "the committed file holds regressions");
        let persistence = config
            .failure_persistence
            .as_ref()
            .expect("failures are persisted");
        // Beside the source file itself, wherever a crate root is.
        assert_eq!(
            persistence
                .as_any()
                .downcast_ref::<FileFailurePersistence>(),
            Some(&FileFailurePersistence::WithSource("proptest-regressions"))
        );
        assert_eq!(
            persistence
                .load_persisted_failures2(config.source_file)
                .len(),
            seeds
        );
        if std::env::var_os("PROPTEST_CASES").is_none() {
            assert_eq!(config.cases, 7);
        }
        // Shrinking stops after a minute unless the environment says
        // otherwise; rejected draws are many on a real disk.
        if std::env::var_os("PROPTEST_MAX_SHRINK_TIME").is_none() {
            assert_eq!(config.max_shrink_time, 60_000);
        }
        assert!(config.max_local_rejects >= 1 << 20);
    }
}
