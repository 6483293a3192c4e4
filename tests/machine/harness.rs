//! The machine test's harness: the store and the reference model driven
//! side by side by `proptest-state-machine`.
//!
//! Proves (through `run`), for random sequences of up to a few dozen
//! transitions — every event with its guards, every sleep-cycle operation,
//! clock moves, valid and invalid saves, loads, corruptions, deletions,
//! crashes, injected I/O errors, power loss and stale temp files — that
//! the store does what `lifecycle_model` says SPEC.md requires; see `sut`
//! for how a crash's several allowed outcomes are checked, and `invariants`
//! for what is checked on the disk.
//!
//! Does not prove anything about concurrency (one writer at a time here) or
//! about file systems other than SimFs's persistence model and the real
//! one the tests run on.
//!
//! Kept free of `#[test]` functions so a benchmark can include it with
//! `#[path = "../tests/machine/harness.rs"] mod harness;`.

// Each includer uses a different part.
#![allow(dead_code, unused_imports)]

#[path = "bridge.rs"]
pub mod bridge;
#[path = "corruptions.rs"]
pub mod corruptions;
#[path = "coverage.rs"]
pub mod coverage;
#[path = "disk.rs"]
pub mod disk;
#[path = "invalid.rs"]
pub mod invalid;
#[path = "invariants.rs"]
pub mod invariants;
#[path = "records.rs"]
pub mod records;
#[path = "reference.rs"]
pub mod reference;
#[path = "sut.rs"]
pub mod sut;
#[path = "transitions.rs"]
pub mod transitions;
#[path = "world.rs"]
pub mod world;

use std::collections::BTreeMap;

use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

pub use disk::{RealDir, SimDisk, TestDisk};
pub use reference::{Machine, RefState};
pub use sut::Sut;
pub use transitions::Transition;

impl<D: TestDisk + 'static> StateMachineTest for Machine<D> {
    type SystemUnderTest = Sut<D>;
    type Reference = Machine<D>;

    fn init_test(ref_state: &RefState) -> Sut<D> {
        Sut::new(&ref_state.world)
    }

    fn apply(mut sut: Sut<D>, _ref_state: &RefState, transition: Transition) -> Sut<D> {
        // The reference state is a guess after nondeterminism; the SUT keeps
        // the model state it observed (see `sut`).
        sut.apply(transition);
        sut
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
        ..base
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps this thread's panics out of the output while proptest shrinks: it
/// reports the minimal case's panic itself, and a thousand others bury it.
fn quiet_panics(quiet: bool) {
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

/// Runs the machine over `D` for `config.cases` sequences of up to
/// `max_transitions` transitions; returns the coverage histogram of this
/// run, or the failure proptest found (after shrinking).
pub fn run<D: TestDisk + 'static>(
    config: Config,
    max_transitions: usize,
) -> Result<BTreeMap<String, u64>, String> {
    coverage::set_label(D::LABEL);
    let mut runner = TestRunner::new(config.clone());
    let strategy = Machine::<D>::sequential_strategy(1..max_transitions);
    quiet_panics(true);
    let result = runner.run(&strategy, |(initial, transitions, seen)| {
        Machine::<D>::test_sequential(config.clone(), initial, transitions, seen);
        Ok(())
    });
    quiet_panics(false);
    result.map_err(|e| e.to_string())?;
    Ok(coverage::histogram(D::LABEL))
}

/// Runs one hand-written sequence from `initial` (for regression tests).
pub fn replay<D: TestDisk + 'static>(initial: RefState, transitions: Vec<Transition>) {
    coverage::set_label("replay");
    Machine::<D>::test_sequential(Config::default(), initial, transitions, None);
}

/// Required histogram keys that were never reached: every transition kind
/// the disk supports and every lifecycle state.
pub fn unreached<D: TestDisk>(histogram: &BTreeMap<String, u64>) -> Vec<String> {
    let kinds = transitions::KINDS
        .iter()
        .filter(|(_, simulated_only)| D::SIMULATED || !simulated_only)
        .map(|(kind, _)| format!("transition/{kind}"));
    let states = lifecycle_model::State::ALL
        .iter()
        .map(|s| format!("state/{}", s.name()));
    kinds
        .chain(states)
        .filter(|key| !histogram.contains_key(key))
        .collect()
}
