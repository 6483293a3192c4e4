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
//! list as its reproduction. A sequence that passes where the
//! implementation took a side of a point of requirements §7 the model does
//! not take (a file read as corrupt, a save refused, another field named)
//! is `info`, listing those choices: whatever else its records held, a
//! conforming choice is never a violation.
//!
//! Does not promise: crashes, injected errors or power loss (they need the
//! simulated disk of the in-process tests).

use std::cell::RefCell;

use lifecycle_harness::generate;
use lifecycle_harness::transition::Script;
use lifecycle_harness::{Driver, Finding, Rules};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use crate::adapter::Adapter;
use crate::case::{Judged, Planned};
use crate::subject::AdapterSubject;

/// Runs of one trace at most, shrinking included: each runs the whole
/// sequence again.
const MAX_RUNS: u64 = 300;

/// `script` with the steps a real directory cannot take left out.
fn on_a_real_disk(mut script: Script) -> Script {
    script.transitions.retain(|t| !t.simulated_only());
    script
}

/// What a run of a script came to.
struct Run {
    /// What each step did, when kept.
    steps: Vec<String>,
    /// The sides of requirements §7 the implementation took where the
    /// model takes the other.
    choices: Vec<String>,
    /// The finding it stopped at, if it did.
    finding: Option<Finding>,
}

/// Runs `script` on a fresh directory.
fn run_script(adapter: &mut Adapter, dir: &std::path::Path, script: &Script, journal: bool) -> Run {
    let subject = AdapterSubject::new(adapter, dir);
    let mut driver = Driver::judged_by(subject, &script.start.build(), Rules::Requirements);
    if journal {
        driver.keep_journal();
    }
    // A step the adapter does not offer is left out, as shrinking would
    // leave it out: the trace goes on with the next.
    let finding = script
        .transitions
        .iter()
        .find_map(|transition| driver.apply(transition).err());
    Run {
        steps: driver.journal().to_vec(),
        choices: driver.choices().to_vec(),
        finding,
    }
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
                    // The finding of the last failing run: proptest ends
                    // its shrinking on the last sequence that failed, so
                    // this is the minimal sequence's.
                    let last_finding: RefCell<Option<Finding>> = RefCell::new(None);
                    // The §7 choices of the last run (the only one, when
                    // the sequence passes).
                    let choices: RefCell<Vec<String>> = RefCell::new(Vec::new());
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
                        let run = run_script(&mut adapter, &dir, &script, false);
                        choices.replace(run.choices);
                        match run.finding {
                            Some(finding) => {
                                let reason = TestCaseError::fail(finding.to_string());
                                last_finding.replace(Some(finding));
                                Err(reason)
                            }
                            None => Ok(()),
                        }
                    });
                    match result {
                        Ok(()) if choices.borrow().is_empty() => {
                            Judged::Pass("the sequence ran as the model says".into())
                        }
                        Ok(()) => Judged::Info(format!(
                            "the sequence ran as the model says, but for choices requirements §7 leaves open: {}",
                            choices.borrow().join("; ")
                        )),
                        Err(TestError::Fail(reason, minimal)) => {
                            let minimal = on_a_real_disk(minimal);
                            let dir = root.join("minimal");
                            let mut adapter = adapter.borrow_mut();
                            let Run {
                                steps,
                                finding: again,
                                ..
                            } = run_script(&mut adapter, &dir, &minimal, true);
                            // The finding of the run that wrote the steps
                            // down; shrinking's own when a flaky adapter
                            // passed this time.
                            let Some(finding) = again.or_else(|| last_finding.take()) else {
                                return Judged::OracleFailed(reason.message().to_string());
                            };
                            let reproduction = steps
                                .iter()
                                .enumerate()
                                .map(|(i, s)| format!("{}. {s}", i + 1))
                                .collect::<Vec<_>>()
                                .join("\n");
                            Judged::Found(finding.reproduced_by(format!(
                                "{reproduction}\n(after every step the oracle loads the record and checks the directory)"
                            )))
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
