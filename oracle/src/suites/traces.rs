//! `traces`: the harness's generated sequences against the adapter and the
//! model side by side, shrunk to a minimal failing sequence.
//!
//! Promises: case `traces/N` runs one sequence of up to 24 steps drawn by
//! proptest from a generator seeded by `--seed` and N alone, so `--case
//! traces/N --seed S` runs the same sequence again. The steps are the
//! harness's vocabulary on a real directory: saves of valid and invalid
//! records, loads, corruptions and replacements written by the oracle,
//! deletion, stale temp files, clock moves (with the `clock` capability),
//! and the dispatch and sleep-cycle operations the adapter offers; every
//! step is judged by the harness's driver. A failing sequence is shrunk,
//! run once more to write down what each step did, and reported with that
//! list as its reproduction.
//!
//! Does not promise: crashes, injected errors or power loss (they need the
//! simulated disk of the in-process tests).

use std::cell::RefCell;

use lifecycle_harness::compare::{Finding, Rules};
use lifecycle_harness::generate;
use lifecycle_harness::transition::Script;
use lifecycle_harness::Driver;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::adapter::Adapter;
use crate::check::{judged, Judged, Planned};
use crate::subject::AdapterSubject;

/// Runs of one trace at most, shrinking included: each runs the whole
/// sequence again.
const MAX_RUNS: u64 = 300;

/// `script` with the steps a real directory cannot take left out.
fn on_a_real_disk(mut script: Script) -> Script {
    script.transitions.retain(|t| !t.simulated_only());
    script
}

/// Runs `script` on a fresh directory: what each step did (when `journal`)
/// and why it stopped, if it did (a finding, or the oracle's own failure).
fn run_script(
    adapter: &mut Adapter,
    dir: &std::path::Path,
    script: &Script,
    journal: bool,
) -> (Vec<String>, Option<Judged>) {
    let subject = AdapterSubject::new(adapter, dir);
    let mut driver = Driver::judged_by(subject, &script.start.build(), Rules::Requirements);
    if journal {
        driver.keep_journal();
    }
    for transition in &script.transitions {
        let step = judged(|| {
            driver.apply(transition);
            Judged::Pass(String::new())
        });
        if !matches!(step, Judged::Pass(_)) {
            return (driver.journal().to_vec(), Some(step));
        }
    }
    (driver.journal().to_vec(), None)
}

/// The seed of trace `n` of a run seeded `seed`.
fn seed_bytes(seed: u64, n: u32) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..12].copy_from_slice(&n.to_le_bytes());
    bytes[12..].copy_from_slice(b"lifecycle trace seed");

    bytes
}

pub fn plan(cases: u32) -> Vec<Planned> {
    (0..cases)
        .map(|n| {
            Planned::new(
                format!("traces/{n}"),
                "§3",
                "a generated sequence (its steps are listed when it fails)",
                move |case| {
                    let config = Config {
                        cases: 1,
                        failure_persistence: None,
                        // proptest's default is four per case; MAX_RUNS
                        // is the cap.
                        max_shrink_iters: u32::MAX - 1,
                        ..Config::default()
                    };
                    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(case.seed, n));
                    let mut runner = TestRunner::new_with_rng(config, rng);
                    let root = case.fresh_dir();
                    let adapter = RefCell::new(&mut *case.adapter);
                    let runs = RefCell::new(0u64);
                    let strategy = generate::strategy::<Script>();
                    let result = runner.run(&strategy, |script| {
                        let script = on_a_real_disk(script);
                        let run = runs.replace_with(|n| *n + 1);
                        if run > MAX_RUNS {
                            // Shrinking stops here (proptest's own cap
                            // would print to the terminal).
                            return Ok(());
                        }
                        let dir = root.join(format!("run-{run}"));
                        let mut adapter = adapter.borrow_mut();
                        if adapter.broken().is_some() {
                            return Ok(());
                        }
                        match run_script(&mut adapter, &dir, &script, false) {
                            (_, Some(Judged::Found(f))) => Err(TestCaseError::fail(f.line())),
                            (_, Some(Judged::OracleFailed(why))) => Err(TestCaseError::fail(why)),
                            _ => Ok(()),
                        }
                    });
                    match result {
                        Ok(()) => Judged::Pass("the sequence ran as the model says".into()),
                        Err(TestError::Fail(reason, minimal)) => {
                            let minimal = on_a_real_disk(minimal);
                            let dir = root.join("minimal");
                            let mut adapter = adapter.borrow_mut();
                            let (steps, again) = run_script(&mut adapter, &dir, &minimal, true);
                            // The finding of the run that wrote the steps
                            // down; shrinking's own when a flaky adapter
                            // passed this time.
                            let again = match again {
                                Some(Judged::Found(f)) => Some(f),
                                _ => None,
                            };
                            let Some(finding) = again.or_else(|| Finding::parse(reason.message())) else {
                                return Judged::OracleFailed(reason.message().to_string());
                            };
                            let reproduction = steps
                                .iter()
                                .enumerate()
                                .map(|(i, s)| format!("{}. {s}", i + 1))
                                .collect::<Vec<_>>()
                                .join("\n");
                            Judged::FoundWith(
                                finding,
                                format!("{reproduction}\n(after every step the oracle loads the record and checks the directory)"),
                            )
                        }
                        Err(TestError::Abort(why)) => {
                            Judged::Skipped(format!("proptest gave up: {why}"))
                        }
                    }
                },
            )
        })
        .collect()
}
