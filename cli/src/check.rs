//! `lifecycle check`: the command line of the conformance oracle.
//!
//! Promises: parses the options the README and PROTOCOL.md name, runs the
//! oracle (`lifecycle_oracle::run`) on the adapter given, or on the
//! built-in store in process, prints the report, writes the files asked
//! for (JSON, JUnit XML, Markdown) and exits 0 (no violation, or none
//! that `--baseline` does not know), 1 (violations), 2 (usage, a baseline
//! that cannot be read) or 3 (harness broken).
//!
//! Does not promise: anything the oracle does not.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use lifecycle_oracle::adapter::{Config, Launch};
use lifecycle_oracle::baseline::Baseline;
use lifecycle_oracle::shell;
use lifecycle_oracle::suites::Suite;
use lifecycle_oracle::{vectors, Options, Report, Selection};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The adapter's command line, run with `sh -c` (default: the built-in
    /// store, in process).
    #[arg(long)]
    adapter: Option<String>,
    /// Run only this suite (repeatable).
    #[arg(long = "suite", value_parser = suite_parser())]
    suites: Vec<Suite>,
    /// Run only cases whose id matches this glob (repeatable), e.g.
    /// 'vectors/load/*'.
    #[arg(long)]
    run: Vec<String>,
    /// Skip cases whose id matches this glob (repeatable).
    #[arg(long)]
    skip: Vec<String>,
    /// Run this one case, by its id (as a report's rerun command gives it).
    #[arg(long)]
    case: Option<String>,
    /// The seed of the generated traces.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many generated traces.
    #[arg(long, default_value_t = 64)]
    cases: u32,
    /// How many replays of the `kill` and `faults` suites run at once,
    /// each its own adapter under its own tracer, held on a CPU of its own
    /// while there are enough, and how many cases of the other suites but
    /// `smoke` and `concurrency`, each on an adapter of its own (default:
    /// one per core). The report is the same whatever the number.
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
    /// Start a fresh adapter for every replay of `kill` and `faults`.
    /// By default a replay runs in a copy of the adapter forked just
    /// after its handshake, from one started once per runner for the run,
    /// when the adapter is one process with one thread that reads its
    /// requests with `read` (an interpreter's start is then paid once,
    /// not once per replay); else in a fresh one. The report is the same
    /// either way.
    #[arg(long)]
    no_fork: bool,
    /// Seconds an adapter has to answer a load (a request that writes gets
    /// five times as long).
    #[arg(long, default_value_t = 2.0, value_parser = parse_timeout)]
    timeout: f64,
    /// Run the vectors exported to this directory (`lifecycle vectors
    /// --out`) instead of the embedded ones.
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Check every message the adapter sends against protocol/schema.json.
    #[arg(long)]
    validate_protocol: bool,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the report as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write the report as Markdown to this file (at most 60,000
    /// characters: the table, then as many groups of findings as fit).
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// The findings known before: a JSON report of an earlier run, or an
    /// expected-findings file of the examples. The run fails (exit 1) only
    /// on a violation it does not list, and says which of its findings
    /// are fixed.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

/// The suites by name, every one listed in the help and in the error for
/// an unknown name.
fn suite_parser() -> impl TypedValueParser<Value = Suite> {
    PossibleValuesParser::new(Suite::ALL.map(Suite::name))
        .try_map(|name| Suite::from_name(&name).ok_or(format!("unknown suite {name:?}")))
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(secs),
        _ => Err(format!(
            "{text:?} is not a number of seconds between 0 and 3600"
        )),
    }
}

const USAGE: u8 = 2;
const HARNESS_BROKEN: u8 = 3;

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn write_reports(args: &CheckArgs, report: &Report) -> Result<(), String> {
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        write(path, &(text + "\n"))?;
    }
    if let Some(path) = &args.junit {
        write(path, &report.to_junit()?)?;
    }
    if let Some(path) = &args.markdown {
        let json = args.json.as_ref().map(|p| p.display().to_string());
        write(path, &report.to_markdown(json.as_deref()))?;
    }
    Ok(())
}

pub fn run(args: CheckArgs) -> ExitCode {
    let vectors = match &args.vectors {
        Some(dir) => match vectors::read(dir) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("lifecycle check: {e}");
                return ExitCode::from(USAGE);
            }
        },
        None => vectors::embedded(),
    };
    let baseline = match &args.baseline {
        Some(path) => match Baseline::read(path) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("lifecycle check: {e}");
                return ExitCode::from(USAGE);
            }
        },
        None => None,
    };
    let selection = match Selection::new(&args.run, &args.skip, args.case.clone()) {
        Ok(selection) => selection,
        Err(e) => {
            eprintln!("lifecycle check: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let launch = match &args.adapter {
        Some(command) => Launch::Command(command.clone()),
        None => Launch::InProcess(Arc::new(crate::adapter::answer)),
    };
    let options = Options {
        config: Config {
            launch,
            timeout: Duration::from_secs_f64(args.timeout),
            umask: None,
        },
        suites: args.suites.clone(),
        selection,
        seed: args.seed,
        cases: args.cases,
        jobs: args.jobs.map_or_else(cores, usize::from),
        fork: !args.no_fork,
        vectors,
        vectors_dir: args.vectors.clone(),
        validate_protocol: args.validate_protocol,
        // The in-process store, as a process strace can follow; `exec`
        // spares the shell's fork, which costs milliseconds under a
        // tracer that follows it.
        trace_command: std::env::current_exe()
            .ok()
            .map(|exe| format!("exec {} adapter", shell::word(&exe.display().to_string()))),
        // This executable runs `lifecycle trace`, the tracer that counts
        // calls in the case directory only.
        tracer_program: std::env::current_exe().ok(),
    };
    let mut report = match lifecycle_oracle::run(&options) {
        Ok(report) => report,
        Err(why) => {
            eprintln!("lifecycle check: {why}");
            return ExitCode::from(HARNESS_BROKEN);
        }
    };
    report.baseline = baseline;
    print!("{}", report.to_text());
    // A run that ended early (a broken adapter) says why itself: its
    // case may be planned all the same.
    let ended_early = report.harness_broken.is_some() || report.adapter_broken.is_some();
    if let Some(case) = args.case.as_ref().filter(|_| !ended_early) {
        if report.results.iter().all(|r| &r.case != case) {
            eprintln!(
                "lifecycle check: no case has the id {case:?}{}",
                trace_hint(case, args.cases)
            );
            return ExitCode::from(USAGE);
        }
    }
    if let Err(e) = write_reports(&args, &report) {
        eprintln!("lifecycle check: {e}");
        return ExitCode::from(HARNESS_BROKEN);
    }
    ExitCode::from(report.exit_code())
}

/// The cores this process may run on (1 when unknown).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// For `traces/N` past the run's number of traces, the option that plans
/// it.
fn trace_hint(case: &str, cases: u32) -> String {
    match case
        .strip_prefix("traces/")
        .and_then(|n| n.parse::<u32>().ok())
    {
        Some(n) if n >= cases => format!(
            " (this run has {cases} traces, traces/0 to traces/{}: --cases {} or more plans it)",
            cases.saturating_sub(1),
            u64::from(n) + 1
        ),
        _ => String::new(),
    }
}
