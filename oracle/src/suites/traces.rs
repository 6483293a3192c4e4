//! `traces`: the harness's generated sequences against the adapter and the
//! model side by side, shrunk to a minimal failing sequence.
//!
//! Promises: case `traces/N` runs one sequence of up to 24 steps drawn by
//! proptest from a generator seeded by `--seed` and N alone, so `--case
//! traces/N --seed S --cases M` (M above N) runs the same sequence again.
//! The steps are the
//! harness's vocabulary on a real directory: saves of valid and invalid
//! records, loads, corruptions and replacements written by the oracle,
//! deletion, stale temp files, clock moves (with the `clock` capability),
//! and the dispatch and sleep-cycle operations the adapter offers; every
//! step is judged by the harness's driver. A failing sequence is shrunk,
//! and reported with what each step of its last failing run (the minimal
//! sequence) did as its reproduction.
//!
//! A request that gets no reply is a finding like any other. While a
//! sequence shrinks, the adapter answers a request that already failed
//! twice in the case with the same fault without sending it again
//! (`adapter::RESENDS`), so a sequence whose request kills the adapter
//! shrinks at the cost of two restarts; the minimal sequence found so is
//! run once more with that request sent, and when it passes then, the last
//! sequence that failed for real is the one reported. A run in which a
//! request was not sent at all (the case reached `adapter::CASE_FAULTS`)
//! ends the shrinking, as a pass does.
//!
//! A sequence that passes where the implementation took a side of a point
//! of requirements §7 the model does not take (a file read as corrupt, a
//! save refused, another field named) is `info`, listing those choices:
//! whatever else its records held, a conforming choice is never a
//! violation.
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
    /// What each step did.
    steps: Vec<String>,
    /// The sides of requirements §7 the implementation took where the
    /// model takes the other.
    choices: Vec<String>,
    /// The finding it stopped at, if it did.
    finding: Option<Finding>,
}

/// Runs `script` on a fresh directory.
fn run_script(adapter: &mut Adapter, dir: &std::path::Path, script: &Script) -> Run {
    let subject = AdapterSubject::new(adapter, dir);
    let mut driver = Driver::judged_by(subject, &script.start.build(), Rules::Requirements);
    driver.keep_journal();
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

/// A run of a sequence that failed: the sequence, what each step did, and
/// the finding it stopped at.
#[derive(Clone)]
struct Failed {
    script: Script,
    steps: Vec<String>,
    finding: Finding,
}

/// How one run of a sequence came out.
enum Ran {
    /// With the §7 choices the implementation made.
    Passed(Vec<String>),
    /// It stopped at a finding; `answered` when every request the finding
    /// rests on reached the adapter (not a fault it had shown before in
    /// this case, answered again without sending).
    Failed { failed: Box<Failed>, answered: bool },
    /// A request of it was not sent (the case's faults reached the
    /// adapter's cap): nothing is known.
    Unknown,
}

/// Runs `script` on `dir`, its steps written down.
fn run_once(adapter: &mut Adapter, dir: &std::path::Path, script: &Script) -> Ran {
    let before = adapter.tally();
    let run = run_script(adapter, dir, script);
    let after = adapter.tally();
    match run.finding {
        None => Ran::Passed(run.choices),
        Some(_) if after.withheld > before.withheld => Ran::Unknown,
        Some(finding) => Ran::Failed {
            failed: Box::new(Failed {
                script: script.clone(),
                steps: run.steps,
                finding,
            }),
            answered: after.repeated == before.repeated,
        },
    }
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
                    // The last run that failed, and whether the adapter
                    // answered it for real: proptest ends its shrinking on
                    // the last sequence that failed, so this is the
                    // minimal one, its steps written down as it ran.
                    let last: RefCell<Option<(Failed, bool)>> = RefCell::new(None);
                    // The last run the adapter failed for real.
                    let last_answered: RefCell<Option<Failed>> = RefCell::new(None);
                    // The §7 choices of the last run that passed (the only
                    // one, when the sequence passes).
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
                        match run_once(&mut adapter, &dir, &script) {
                            // A run that learnt nothing ends the
                            // shrinking, as a pass does.
                            Ran::Passed(made) => {
                                choices.replace(made);
                                Ok(())
                            }
                            Ran::Unknown => Ok(()),
                            Ran::Failed { failed, answered } => {
                                let reason = TestCaseError::fail(failed.finding.to_string());
                                if answered {
                                    last_answered.replace(Some((*failed).clone()));
                                }
                                last.replace(Some((*failed, answered)));
                                Err(reason)
                            }
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
                        Err(TestError::Fail(reason, _)) => {
                            let mut adapter = adapter.borrow_mut();
                            let Some((minimal, answered)) = last.take() else {
                                return Judged::OracleFailed(reason.message().to_string());
                            };
                            // The minimal sequence failed at a request the
                            // adapter had failed before in the case, not
                            // sent again: sent once more, it shows whether
                            // the sequence fails by itself; if it does not,
                            // the last sequence the adapter failed for real
                            // is the reproduction.
                            let failed = if answered {
                                minimal
                            } else {
                                adapter.send_once_more();
                                let dir = root.join("minimal");
                                match run_once(&mut adapter, &dir, &minimal.script) {
                                    Ran::Failed {
                                        failed,
                                        answered: true,
                                    } => *failed,
                                    _ => last_answered.take().unwrap_or(minimal),
                                }
                            };
                            let reproduction = failed
                                .steps
                                .iter()
                                .enumerate()
                                .map(|(i, s)| format!("{}. {s}", i + 1))
                                .collect::<Vec<_>>()
                                .join("\n");
                            Judged::Found(failed.finding.reproduced_by(format!(
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
