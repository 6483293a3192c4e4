//! What the command line asked of one run of `lifecycle check`, and what
//! follows from it alone: which cases are selected, which command the
//! traced suites run, the command that re-runs one case.
//!
//! Promises: `--run` and `--skip` are globs of case ids (`globset`: `*`
//! any run of characters, `/` included, `?` one character, `[…]` a class,
//! `{a,b}` either), checked when the selection is made, so a bad pattern
//! is a usage error and never a silent empty run; `--case` selects exactly
//! one id. A rerun command is quoted for `sh` (`shell`) and carries every
//! option the case depends on (adapter, vectors, timeout, and for a trace
//! its seed and the number of traces), so it runs the same case.
//!
//! Does not promise: that a selected id exists; the run says so when
//! `--case` matched nothing.

use std::path::PathBuf;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::adapter::{Config, Launch};
use crate::shell;
use crate::suites::Suite;
use crate::vectors::Vector;

/// Which cases run.
#[derive(Debug, Clone)]
pub struct Selection {
    run: GlobSet,
    /// Whether any `--run` glob was given (an empty set selects all).
    any_run: bool,
    skip: GlobSet,
    case: Option<String>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            run: GlobSet::empty(),
            any_run: false,
            skip: GlobSet::empty(),
            case: None,
        }
    }
}

fn glob_set(patterns: &[String], option: &str) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| format!("{option} {pattern:?}: {e}"))?;
        set.add(glob);
    }
    set.build().map_err(|e| format!("{option}: {e}"))
}

impl Selection {
    /// Cases whose id matches a glob of `run` (all when empty) and none of
    /// `skip`; or, with `case`, that case alone.
    pub fn new(run: &[String], skip: &[String], case: Option<String>) -> Result<Selection, String> {
        Ok(Selection {
            run: glob_set(run, "--run")?,
            any_run: !run.is_empty(),
            skip: glob_set(skip, "--skip")?,
            case,
        })
    }

    pub fn selects(&self, id: &str) -> bool {
        if let Some(case) = &self.case {
            return case == id;
        }
        (!self.any_run || self.run.is_match(id)) && !self.skip.is_match(id)
    }

    /// The one case asked for with `--case`.
    pub fn case(&self) -> Option<&str> {
        self.case.as_deref()
    }
}

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: Config,
    /// Suites to run (empty: all).
    pub suites: Vec<Suite>,
    pub selection: Selection,
    /// The seed of generated cases.
    pub seed: u64,
    /// How many generated traces.
    pub cases: u32,
    /// How many replays of the traced suites (`kill`, `faults`) run at
    /// once, each its own adapter under its own tracer (at least 1).
    pub jobs: usize,
    /// Whether a replay of `kill` and `faults` may run in a copy forked
    /// from an adapter started once (`adapter::Template`), rather than
    /// in an adapter started for it.
    pub fork: bool,
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
    /// The `lifecycle` executable, which runs the oracle's own tracer
    /// (`lifecycle trace`) for the replays of the traced suites; `None`:
    /// strace does them (`tracer::find`).
    pub tracer_program: Option<PathBuf>,
}

impl Options {
    /// A run of every suite with `config` and nothing else asked for: one
    /// generated trace, one job, the embedded vectors (none here). For
    /// tests, which each set what they are about.
    #[cfg(test)]
    pub(crate) fn plain(config: Config) -> Options {
        Options {
            config,
            suites: Vec::new(),
            selection: Selection::default(),
            seed: 1,
            cases: 1,
            jobs: 1,
            fork: true,
            vectors: Vec::new(),
            vectors_dir: None,
            validate_protocol: false,
            trace_command: None,
            tracer_program: None,
        }
    }

    /// The command the suites that trace system calls run under strace:
    /// the adapter's, or for an in-process check [`Options::trace_command`].
    pub fn command_to_trace(&self) -> Option<String> {
        match &self.config.launch {
            Launch::Command(command) => Some(command.clone()),
            Launch::InProcess(_) => self.trace_command.clone(),
        }
    }

    /// The command that re-runs case `id` alone, as this run ran it: the
    /// same adapter, vectors and timeout, and for a generated case
    /// (`seeded`) the run's seed and number of traces, without which a
    /// trace past the default number is no case at all.
    pub fn rerun(&self, id: &str, seeded: bool) -> String {
        let mut command = String::from("lifecycle check");
        if let Launch::Command(cmd) = &self.config.launch {
            command.push_str(&format!(" --adapter {}", shell::word(cmd)));
        }
        if let Some(dir) = &self.vectors_dir {
            command.push_str(&format!(
                " --vectors {}",
                shell::word(&dir.display().to_string())
            ));
        }
        command.push_str(&format!(" --case {}", shell::word(id)));
        if seeded {
            command.push_str(&format!(" --seed {} --cases {}", self.seed, self.cases));
        }
        // A hang is judged by the timeout: the rerun waits as long.
        command.push_str(&format!(" --timeout {}", self.config.timeout.as_secs_f64()));
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(run: &[&str], skip: &[&str]) -> Selection {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Selection::new(&strings(run), &strings(skip), None).expect("good globs")
    }

    #[test]
    fn a_star_matches_across_slashes_and_skip_wins_over_run() {
        let s = selection(&["vectors/*"], &["vectors/load/corrupt_*"]);
        assert!(s.selects("vectors/roundtrip/valid_minimal"));
        assert!(!s.selects("vectors/load/corrupt_bom"));
        assert!(!s.selects("traces/1"));
        assert!(selection(&[], &[]).selects("traces/1"));
        assert!(selection(&["traces/?"], &[]).selects("traces/7"));
        assert!(!selection(&["traces/?"], &[]).selects("traces/17"));
    }

    #[test]
    fn a_bad_glob_is_refused_naming_the_option_and_the_pattern() {
        let error =
            Selection::new(&["vectors/[".to_string()], &[], None).expect_err("an unclosed class");
        assert!(error.starts_with("--run \"vectors/[\""), "{error}");
    }

    fn options(launch: Launch) -> Options {
        Options {
            seed: 7,
            cases: 200,
            jobs: 2,
            vectors_dir: Some(PathBuf::from("/tmp/my vectors")),
            ..Options::plain(Config {
                launch,
                timeout: std::time::Duration::from_millis(2500),
                umask: None,
            })
        }
    }

    #[test]
    fn a_rerun_carries_every_option_its_case_depends_on() {
        let options = options(Launch::Command("python3 a.py --module 'x y.py'".into()));
        let adapter = r#"--adapter "python3 a.py --module 'x y.py'" --vectors '/tmp/my vectors'"#;
        assert_eq!(
            options.rerun("traces/150", true),
            format!(
                "lifecycle check {adapter} --case traces/150 --seed 7 --cases 200 --timeout 2.5"
            )
        );
        assert_eq!(
            options.rerun("vectors/load/corrupt_bom", false),
            format!("lifecycle check {adapter} --case vectors/load/corrupt_bom --timeout 2.5")
        );
    }

    #[test]
    fn a_case_selects_itself_alone() {
        let s = Selection::new(&[], &[], Some("traces/3".into())).expect("no globs");
        assert!(s.selects("traces/3"));
        assert!(!s.selects("traces/30"));
    }
}
