//! One run of `lifecycle check`: the adapter started, the suites' cases
//! selected and run one by one, each judged into a [`CaseResult`].
//!
//! Promises: every case runs in a fresh directory of its own under one
//! temporary root, removed at the end; a case that panics (the harness's
//! driver reports a finding that way) is judged by the finding its panic
//! carries, never by crashing the run; when the adapter cannot go on (too
//! many restarts), the run stops and says so (exit 3); when the smoke suite
//! fails, the other suites are skipped and the report says the adapter is
//! broken. `--case`, `--run` and `--skip` select cases by id; `--suite`
//! selects suites.
//!
//! Does not promise: any order of cases beyond the suites' own.

use std::io::{IsTerminal, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lifecycle_harness::compare::{Finding, Level, Rules};
use lifecycle_harness::{Driver, Initial};

use crate::adapter::{Adapter, Config, Launch};
use crate::report::{CaseResult, Report, Verdict};
use crate::subject::AdapterSubject;
use crate::suites::{self, Suite};
use crate::vectors::Vector;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: Config,
    /// Suites to run (empty: all).
    pub suites: Vec<Suite>,
    /// Run only cases whose id matches one of these globs (empty: all).
    pub run: Vec<String>,
    /// Skip cases whose id matches one of these globs.
    pub skip: Vec<String>,
    /// Run this case only.
    pub case: Option<String>,
    /// The seed of generated cases.
    pub seed: u64,
    /// How many generated traces.
    pub cases: u32,
    /// The vectors to run.
    pub vectors: Vec<Vector>,
    /// `--vectors DIR`, for the rerun commands.
    pub vectors_dir: Option<PathBuf>,
    /// Every message the adapter sends is checked against the schema, and
    /// any that breaks it is a finding.
    pub validate_protocol: bool,
    /// For an in-process check, the command that runs the same
    /// implementation as a process, for the suites that trace its system
    /// calls (`lifecycle adapter`).
    pub trace_command: Option<String>,
}

/// How a case came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    Pass(String),
    /// Which side of a point of requirements §7 the implementation chose.
    Info(String),
    Skipped(String),
    Found(Finding),
    /// A finding with a reproduction made while the case ran (a shrunk
    /// trace).
    FoundWith(Finding, String),
    /// The oracle itself failed (a panic that carries no finding): never
    /// blamed on the implementation; the run ends as harness broken.
    OracleFailed(String),
}

/// What a case runs with.
pub struct Case<'a> {
    pub adapter: &'a mut Adapter,
    pub dir: PathBuf,
    pub seed: u64,
    pub cases: u32,
    root: &'a Path,
}

impl Case<'_> {
    pub fn subject(&mut self) -> AdapterSubject<'_> {
        AdapterSubject::new(self.adapter, &self.dir)
    }

    /// A driver of the harness on this case's subject, judging by
    /// requirements §7.
    pub fn driver(&mut self, initial: &Initial) -> Driver<AdapterSubject<'_>> {
        Driver::judged_by(self.subject(), initial, Rules::Requirements)
    }

    /// A fresh directory under the run's root (for a case that needs more
    /// than one, such as each run of a shrinking trace).
    pub fn fresh_dir(&self) -> PathBuf {
        fresh_dir(self.root)
    }
}

/// One case of a suite, planned before it runs.
pub struct Planned {
    pub id: String,
    /// The SPEC section it checks.
    pub spec: &'static str,
    /// What to do by hand to see a failure again (set up, then operations).
    pub reproduction: String,
    pub run: Box<dyn FnOnce(&mut Case<'_>) -> Judged>,
}

impl Planned {
    pub fn new(
        id: impl Into<String>,
        spec: &'static str,
        reproduction: impl Into<String>,
        run: impl FnOnce(&mut Case<'_>) -> Judged + 'static,
    ) -> Planned {
        Planned {
            id: id.into(),
            spec,
            reproduction: reproduction.into(),
            run: Box::new(run),
        }
    }
}

static DIRS: AtomicU64 = AtomicU64::new(0);

fn fresh_dir(root: &Path) -> PathBuf {
    root.join(format!("case-{}", DIRS.fetch_add(1, Ordering::Relaxed)))
}

/// The temporary root of a run, removed when dropped.
struct Root(PathBuf);

impl Root {
    fn new() -> Result<Root, String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("lifecycle-check-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| {
            format!(
                "cannot make a directory for the cases at {}: {e}",
                path.display()
            )
        })?;
        Ok(Root(path))
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // Cases leave unreadable files and FIFOs; all of it goes.
        let _ = make_writable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn make_writable(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let meta = std::fs::symlink_metadata(entry.path())?;
        if meta.is_dir() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o700))?;
            make_writable(&entry.path())?;
        }
    }
    Ok(())
}

/// Whether `id` matches the glob `pattern` (`*` any run of characters,
/// `?` one character).
pub fn glob_matches(pattern: &str, id: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = id.chars().collect();
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl Options {
    fn selected(&self, id: &str) -> bool {
        if let Some(case) = &self.case {
            return case == id;
        }
        (self.run.is_empty() || self.run.iter().any(|g| glob_matches(g, id)))
            && !self.skip.iter().any(|g| glob_matches(g, id))
    }

    /// The command the suites that trace system calls run under strace:
    /// the adapter's, or for an in-process check [`Options::trace_command`].
    pub fn command_to_trace(&self) -> Option<String> {
        match &self.config.launch {
            Launch::Command(command) => Some(command.clone()),
            Launch::InProcess(_) => self.trace_command.clone(),
        }
    }

    /// The command that re-runs case `id` alone.
    pub fn rerun(&self, id: &str, seeded: bool) -> String {
        let mut command = String::from("lifecycle check");
        if let Launch::Command(cmd) = &self.config.launch {
            command.push_str(&format!(" --adapter {}", shell_quote(cmd)));
        }
        if let Some(dir) = &self.vectors_dir {
            command.push_str(&format!(
                " --vectors {}",
                shell_quote(&dir.display().to_string())
            ));
        }
        command.push_str(&format!(" --case {}", shell_quote(id)));
        if seeded {
            command.push_str(&format!(" --seed {}", self.seed));
        }
        command
    }
}

/// `text` as one word of `sh`.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

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

/// Runs `f`, turning a panic into the finding its message carries.
pub fn judged(f: impl FnOnce() -> Judged) -> Judged {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(judged) => judged,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            match Finding::parse(&message) {
                Some(finding) => Judged::Found(finding),
                None => Judged::OracleFailed(message),
            }
        }
    }
}

/// Keeps panics quiet while the run judges them itself.
struct QuietPanics;

impl QuietPanics {
    fn new() -> QuietPanics {
        lifecycle_harness::machine::quiet_panics(true);
        QuietPanics
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        lifecycle_harness::machine::quiet_panics(false);
    }
}

/// Runs the check: the report, or why it could not start.
pub fn run(options: &Options) -> Result<Report, String> {
    let mut adapter = if options.validate_protocol {
        Adapter::start_recording(options.config.clone())?
    } else {
        Adapter::start(options.config.clone())?
    };
    let root = Root::new()?;
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
    let _quiet = QuietPanics::new();
    let wanted: Vec<Suite> = if options.suites.is_empty() {
        Suite::ALL.to_vec()
    } else {
        options.suites.clone()
    };
    // Smoke first, always: its failure says the adapter is broken.
    let mut order = vec![Suite::Smoke];
    order.extend(wanted.iter().copied().filter(|s| *s != Suite::Smoke));
    for suite in order {
        // Smoke always runs; its passes show only when it was asked for.
        let quiet = |id: &str| {
            suite == Suite::Smoke && !(wanted.contains(&Suite::Smoke) && options.selected(id))
        };
        if report.adapter_broken.is_some() {
            report.results.push(
                CaseResult::pass(suite.name(), suite.name().to_string(), "§1", "").with(
                    Verdict::Skipped,
                    "skipped: the smoke suite failed, so the adapter is broken",
                ),
            );
            continue;
        }
        let planned: Vec<Planned> = suites::plan(suite, options, adapter.handshake())
            .into_iter()
            .filter(|p| options.selected(&p.id) || suite == Suite::Smoke)
            .collect();
        let total = planned.len();
        let started = Instant::now();
        let mut smoke_failures = Vec::new();
        for (done, case) in planned.into_iter().enumerate() {
            progress.show(suite.name(), done, total);
            let id = case.id.clone();
            let spec = case.spec;
            let reproduction = case.reproduction;
            let run = case.run;
            let judged = {
                let mut context = Case {
                    adapter: &mut adapter,
                    dir: fresh_dir(&root.0),
                    seed: options.seed,
                    cases: options.cases,
                    root: &root.0,
                };
                judged(|| run(&mut context))
            };
            if let Judged::OracleFailed(why) = &judged {
                report
                    .harness_broken
                    .get_or_insert_with(|| format!("the oracle failed on case {id}: {why}"));
            }
            if let Some(why) = adapter.broken() {
                report.harness_broken = Some(format!("{why} (during case {id})"));
                progress.show(suite.name(), total, total);
                return Ok(finish(report, &adapter, options));
            }
            let stderr = adapter.stderr();
            let result = result_of(suite, id, spec, reproduction, judged, options, stderr);
            if suite == Suite::Smoke && result.verdict.is_finding() {
                smoke_failures.push(format!("{}: {}", result.case, result.message));
            }
            if !(quiet(&result.case) && result.verdict == Verdict::Pass) {
                report.results.push(result);
            }
        }
        progress.show(suite.name(), total, total);
        report.durations.insert(suite.name(), started.elapsed());
        if !smoke_failures.is_empty() {
            report.adapter_broken = Some(smoke_failures.join("; "));
        }
    }
    Ok(finish(report, &adapter, options))
}

fn finish(mut report: Report, adapter: &Adapter, options: &Options) -> Report {
    if options.validate_protocol {
        report
            .results
            .extend(crate::suites::protocol::judge_transcript(adapter));
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
    let finding = |base: CaseResult, finding: Finding, reproduction: String| {
        let verdict = match finding.level {
            Level::Violation => Verdict::Violation,
            Level::Divergence => Verdict::Divergence,
        };
        let mut result = base.with(verdict, finding.message).reproduce(reproduction);
        result.spec = finding.spec.to_string();
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
        Judged::Found(f) => finding(base, f, reproduction),
        Judged::FoundWith(f, shrunk) => finding(base, f, shrunk),
        Judged::OracleFailed(why) => base.with(
            Verdict::Skipped,
            format!("the oracle itself failed, so nothing is known: {why}"),
        ),
    }
}
