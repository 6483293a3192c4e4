//! The central property test: the store and the reference model driven
//! side by side, on the simulated file system (with crashes, injected I/O
//! errors and power loss) and on a real temp directory (without them).
//!
//! Proves what `lifecycle_harness::driver` describes, through the store's
//! one in-process subject (`lifecycle_testkit::StoreSubject`), for the
//! number of random sequences below (more with `PROPTEST_CASES`), and that
//! every transition kind, every lifecycle state and every corrupt class of
//! SPEC §1.6 was reached. Failures are persisted in
//! `tests/machine.proptest-regressions` (commit it) and replayed first on
//! later runs; `machine_regressions.rs` names the bugs they stood for.
//!
//! Does not prove anything beyond the model: where the model and the store
//! agree on a misreading of SPEC.md, this test passes.

use lifecycle_harness::coverage;
use lifecycle_harness::machine::{self, Subjects};
use lifecycle_testkit::{OnRealFs, OnSimFs};

/// Sequences per run on SimFs: about 30 s in a debug build on 2 cores.
const SIM_CASES: u32 = 1024;
/// Sequences per run on the real file system, where every save fsyncs:
/// about 9 s in a debug build on 2 cores (ext4).
const REAL_CASES: u32 = 256;
const SIM_MAX_TRANSITIONS: usize = 48;
const REAL_MAX_TRANSITIONS: usize = 40;

fn run_and_check<F: Subjects>(cases: u32, max_transitions: usize) {
    let config = machine::config(cases, file!());
    let result = machine::run::<F>(config, max_transitions);
    let histogram = coverage::histogram(F::LABEL);
    println!(
        "coverage of the {} machine:\n{}",
        F::LABEL,
        coverage::render(&histogram)
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let unreached = machine::unreached::<F>(&histogram);
    assert!(unreached.is_empty(), "never reached: {unreached:?}");
}

#[test]
fn the_store_follows_the_model_on_the_simulated_file_system() {
    run_and_check::<OnSimFs>(SIM_CASES, SIM_MAX_TRANSITIONS);
}

#[test]
fn the_store_follows_the_model_on_the_real_file_system() {
    run_and_check::<OnRealFs>(REAL_CASES, REAL_MAX_TRANSITIONS);
}
