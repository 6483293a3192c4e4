//! One run of `lifecycle check`: the adapter started, the suites' cases
//! selected and run, each judged into a [`CaseResult`].
//!
//! The cases of a suite run `--jobs` at once where the suite allows it
//! (`runners`), each runner with an adapter process of its own (started
//! when first needed, kept for the run) and a CPU of its own; suites next
//! to each other that allow it run as one batch (`batches`), the cases in
//! the order of the suites. The outcomes are taken in the order of the
//! cases (`in_order`), failed cases in a row counted in that order across
//! the runners' adapters (`adapter::FailedCases`): the report is the same
//! whatever the number. A suite's time runs from the start of its first
//! case to the end of its last, so the times of a batch's suites overlap.
//!
//! Promises: every case runs in a fresh directory of its own under one
//! temporary root (`root`): removed as soon as the case has ended, while
//! the next cases run, and the rest (recorded saves later cases judge,
//! templates' traces) at the end; each case's [`Judged`] outcome
//! becomes one [`CaseResult`] (a finding keeps its section, its message and
//! its reproduction); a request that got no reply is a finding on its
//! case, and the run goes on with the next. A case that panics is the
//! oracle's own failure, never the implementation's, and makes the run
//! harness broken (exit 3); an adapter that cannot be started, or cannot
//! go on (it failed `adapter::MAX_FAILED_CASES` cases in a row), ends the
//! run so, the case it failed last reported; when the smoke suite fails,
//! the other suites are skipped and the report says the adapter is
//! broken. `--case`, `--run` and `--skip` select cases by id (`options`);
//! `--suite` selects suites.
//!
//! Does not promise: any order of cases beyond the suites' own; anything
//! about a case but its outcome (the suites define their cases).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use lifecycle_harness::{Finding, Level};

use crate::adapter::{Adapter, CaseEnd, Config, FailedCases, Launch};
use crate::case::{Case, Judged, Planned, Planning, Run};
use crate::in_order::in_order;
use crate::options::Options;
use crate::report::{CaseResult, Report, Verdict};
use crate::root::Root;
use crate::suites::{self, Suite};
use crate::traced::pinned::Pinned;
use crate::traced::record::Recordings;
use crate::traced::templates::Templates;
use crate::tracer;

/// A progress bar on standard error, when it is a terminal.
struct Progress {
    on: bool,
}

impl Progress {
    fn show(&self, suite: &str, done: usize, total: usize) {
        if !self.on || total == 0 {
            return;
        }
        let width = 30;
        let filled = done * width / total;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r{suite:<12} [{}{}] {done}/{total}",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
        if done == total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// The message a panic carried.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        "the case panicked without a message".to_string()
    }
}

/// Runs a case: its outcome, or the oracle's own failure when it panicked
/// (a bug of the oracle, never a finding: checkers return findings).
fn judged(f: impl FnOnce() -> Judged) -> Judged {
    panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Judged::OracleFailed(panic_message(payload.as_ref())))
}

/// Runs the check: the report, or why it could not start.
pub fn run(options: &Options) -> Result<Report, String> {
    // The traced cases find their tracer on this thread, where they run.
    tracer::with_program(options.tracer_program.as_deref(), || run_cases(options))
}

/// How many cases of `suite` run at once, each on an adapter process of
/// its own: `--jobs`, but one at a time for `smoke` (its failure ends
/// the run), `kill` and `faults` (a case's replays already run `--jobs`
/// at once), `concurrency` (it times readers against a writer), when the
/// protocol is validated (one transcript is judged), and for an adapter
/// in this process under a umask of its own (`permissions`: a process
/// has one umask).
fn runners(suite: Suite, options: &Options) -> usize {
    let one_at_a_time = matches!(
        suite,
        Suite::Smoke | Suite::Kill | Suite::Faults | Suite::Concurrency
    ) || options.validate_protocol
        || (suite == Suite::Permissions && matches!(options.config.launch, Launch::InProcess(_)));
    if one_at_a_time {
        1
    } else {
        options.jobs.max(1)
    }
}

/// `order` cut into the suites that run one after another: the suites
/// next to each other whose cases may run `--jobs` at once run as one
/// batch, their cases in the order of the suites, so one suite's slow
/// case (a load that waits for its timeout) does not hold the runners
/// the next suite could use.
fn batches(order: &[Suite], options: &Options) -> Vec<Vec<Suite>> {
    let mut batches: Vec<Vec<Suite>> = Vec::new();
    for &suite in order {
        let together = runners(suite, options) > 1;
        match batches.last_mut() {
            Some(last) if together && runners(last[0], options) > 1 => last.push(suite),
            _ => batches.push(vec![suite]),
        }
    }
    batches
}

/// What running a case came to on the adapter that ran it.
struct Ran {
    judged: Judged,
    end: CaseEnd,
    stderr: String,
}

/// Runs `run`, a case, on `adapter`.
fn run_case(
    adapter: &mut Adapter,
    run: Run,
    root: &Root,
    recordings: &Recordings,
    templates: &Templates,
    options: &Options,
) -> Ran {
    adapter.begin_case();
    let (judged, made) = {
        let mut context = Case::new(adapter, root.path(), recordings, templates, options);
        let outcome = judged(|| run(&mut context));
        (outcome, context.into_made())
    };
    let end = adapter.end_case();
    root.sweep(made);
    Ran {
        judged,
        end,
        stderr: adapter.stderr(),
    }
}

fn run_cases(options: &Options) -> Result<Report, String> {
    let start = |config: &Config| {
        if options.validate_protocol {
            Adapter::start_keeping_transcript(config.clone())
        } else {
            Adapter::start(config.clone())
        }
    };
    let mut adapter = start(&options.config)?;
    // The adapters of the other runners, started when a suite first needs
    // them and kept for the run.
    let mut others: Vec<Adapter> = Vec::new();
    let root = Root::new()?;
    let recordings = Recordings::default();
    let templates = Templates::default();
    let mut failed_cases = FailedCases::default();
    let mut report = Report {
        implementation: adapter.handshake().implementation.clone(),
        capabilities: adapter
            .handshake()
            .capabilities
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        ..Report::default()
    };
    let progress = Progress {
        on: std::io::stderr().is_terminal(),
    };
    let wanted: Vec<Suite> = if options.suites.is_empty() {
        Suite::ALL.to_vec()
    } else {
        options.suites.clone()
    };
    // Smoke first, always: its failure says the adapter is broken.
    let mut order = vec![Suite::Smoke];
    order.extend(wanted.iter().copied().filter(|s| *s != Suite::Smoke));
    for batch in batches(&order, options) {
        if report.adapter_broken.is_some() {
            for suite in batch {
                report.results.push(
                    CaseResult::pass(suite.name(), suite.name().to_string(), "§1", "").with(
                        Verdict::Skipped,
                        "skipped: the smoke suite failed, so the adapter is broken",
                    ),
                );
            }
            continue;
        }
        let planning = Planning {
            handshake: adapter.handshake(),
            vectors: &options.vectors,
            traces: options.cases,
            command_to_trace: options.command_to_trace(),
        };
        let mut planned: Vec<(Suite, Planned)> = Vec::new();
        let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
        for &suite in &batch {
            let cases: Vec<Planned> = suites::plan(suite, &planning)
                .into_iter()
                .filter(|p| options.selection.selects(&p.id) || suite == Suite::Smoke)
                .collect();
            totals.insert(suite.name(), cases.len());
            planned.extend(cases.into_iter().map(|case| (suite, case)));
        }
        let wanted_runners = runners(batch[0], options).min(planned.len().max(1));
        while others.len() + 1 < wanted_runners {
            // A runner whose adapter does not start is one runner fewer.
            match start(&options.config) {
                Ok(other) => others.push(other),
                Err(_) => break,
            }
        }
        let mut adapters: Vec<&mut Adapter> = vec![&mut adapter];
        adapters.extend(others.iter_mut().take(wanted_runners - 1));
        let several = adapters.len() > 1;
        // When each suite's first case began and its last ended.
        let mut spans: BTreeMap<&str, (Instant, Instant)> = BTreeMap::new();
        let mut done: BTreeMap<&str, usize> = BTreeMap::new();
        let mut smoke_failures = Vec::new();
        let mut ended = None;
        in_order(
            adapters,
            planned,
            |runner, adapter, (suite, case)| {
                // Each runner, and the adapters it starts (a traced one),
                // on a CPU of its own.
                let _pinned = several.then(|| Pinned::to(runner));
                let began = Instant::now();
                let Planned {
                    id,
                    spec,
                    reproduction,
                    run,
                } = case;
                let ran = tracer::with_program(options.tracer_program.as_deref(), || {
                    run_case(adapter, run, &root, &recordings, &templates, options)
                });
                (suite, id, spec, reproduction, ran, began, Instant::now())
            },
            |(suite, id, spec, reproduction, ran, began, finished)| {
                if ended.is_some() {
                    // A case under way when the run ended.
                    return ControlFlow::Break(());
                }
                let span = spans.entry(suite.name()).or_insert((began, finished));
                *span = (span.0.min(began), span.1.max(finished));
                let count = done.entry(suite.name()).or_default();
                *count += 1;
                progress.show(suite.name(), *count, totals[suite.name()]);
                let Ran {
                    judged,
                    end,
                    stderr,
                } = ran;
                if let Judged::OracleFailed(why) = &judged {
                    report
                        .harness_broken
                        .get_or_insert_with(|| format!("the oracle failed on case {id}: {why}"));
                }
                let result = result_of(
                    suite,
                    id.clone(),
                    spec,
                    reproduction,
                    judged,
                    options,
                    stderr,
                );
                if suite == Suite::Smoke && result.verdict.is_finding() {
                    smoke_failures.push(format!("{}: {}", result.case, result.message));
                }
                // Smoke always runs; its passes show only when it was
                // asked for.
                let quiet = suite == Suite::Smoke
                    && !(wanted.contains(&Suite::Smoke) && options.selection.selects(&result.case));
                if !(quiet && result.verdict == Verdict::Pass) {
                    report.results.push(result);
                }
                // The case that broke the adapter keeps its finding: the
                // report shows it, and `--case` re-runs it.
                if let Some(why) = failed_cases.count(end) {
                    ended = Some(format!("{why} (the last: case {id})"));
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            },
        );
        for &suite in &batch {
            let total = totals[suite.name()];
            let span = spans.get(suite.name());
            // A suite the run did not reach has no time.
            if span.is_some() || (ended.is_none() && total == 0) {
                progress.show(suite.name(), total, total);
                let took = span.map_or(Duration::ZERO, |(b, e)| *e - *b);
                report.durations.insert(suite.name(), took);
            }
        }
        if let Some(why) = ended {
            report.harness_broken = Some(why);
            return Ok(finish(report, &adapter, options));
        }
        if !smoke_failures.is_empty() {
            report.adapter_broken = Some(smoke_failures.join("; "));
        }
    }
    Ok(finish(report, &adapter, options))
}

fn finish(mut report: Report, adapter: &Adapter, options: &Options) -> Report {
    if options.validate_protocol {
        report.results.extend(suites::judge_transcript(adapter));
    }
    report
}

fn result_of(
    suite: Suite,
    id: String,
    spec: &'static str,
    reproduction: String,
    judged: Judged,
    options: &Options,
    stderr: String,
) -> CaseResult {
    let base = CaseResult::pass(suite.name(), id.clone(), spec, "");
    let seeded = suite == Suite::Traces;
    let finding = |base: CaseResult, finding: Finding| {
        let verdict = match finding.level {
            Level::Violation => Verdict::Violation,
            Level::Divergence => Verdict::Divergence,
        };
        // The finding's own reproduction (a shrunk trace, an op log) is
        // more telling than the case's plan.
        let shown = finding.reproduction.unwrap_or(reproduction);
        let mut result = base.with(verdict, finding.message).reproduce(shown);
        result.spec = finding.spec.to_string();
        result.rule = finding.rule.to_string();
        result.how = finding.how;
        result.rerun = Some(options.rerun(&id, seeded));
        if !stderr.is_empty() {
            result.stderr = Some(stderr.trim_start().to_string());
        }
        result
    };
    match judged {
        Judged::Pass(message) => base.with(Verdict::Pass, message),
        Judged::Info(message) => base.with(Verdict::Info, message),
        Judged::Skipped(message) => base.with(Verdict::Skipped, message),
        Judged::Found(f) => finding(base, f),
        Judged::OracleFailed(why) => base.with(
            Verdict::Skipped,
            format!("the oracle itself failed, so nothing is known: {why}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::Config;

    fn options(launch: Launch, jobs: usize) -> Options {
        Options {
            jobs,
            ..Options::plain(Config {
                launch,
                timeout: std::time::Duration::from_secs(2),
                umask: None,
            })
        }
    }

    fn names(batches: Vec<Vec<Suite>>) -> Vec<Vec<&'static str>> {
        batches
            .into_iter()
            .map(|b| b.into_iter().map(Suite::name).collect())
            .collect()
    }

    #[test]
    fn suites_next_to_each_other_that_run_cases_at_once_are_one_batch() {
        let command = Launch::Command("python3 a.py".into());
        assert_eq!(
            names(batches(&Suite::ALL, &options(command.clone(), 2))),
            [
                &["smoke"][..],
                &["vectors", "traces", "machine", "sleep", "permissions"],
                &["concurrency"],
                &["kill"],
                &["faults"],
                &["power"],
            ]
        );
        // In process, permissions sets the one umask of the process.
        let in_process = Launch::InProcess(std::sync::Arc::new(|_: &str| None));
        assert_eq!(
            names(batches(&Suite::ALL, &options(in_process, 2)))[1..3],
            [
                &["vectors", "traces", "machine", "sleep"][..],
                &["permissions"]
            ]
        );
        // One job: one suite after another.
        assert!(batches(&Suite::ALL, &options(command.clone(), 1))
            .iter()
            .all(|b| b.len() == 1));
        let mut validating = options(command, 4);
        validating.validate_protocol = true;
        assert!(batches(&Suite::ALL, &validating)
            .iter()
            .all(|b| b.len() == 1));
    }
}
