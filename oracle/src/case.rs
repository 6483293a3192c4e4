//! What a case of a suite is: planned before it runs, run in a directory of
//! its own, judged into one outcome.
//!
//! Promises: a [`Planned`] case has a stable id, the SPEC section it
//! checks, a reproduction in the SPEC's words and the function that runs
//! it; a [`Case`] is what that function runs with (the adapter, a fresh
//! directory, the run's seed); [`Judged`] is how it came out: a pass, an
//! implementation-defined choice (info), a skip with its reason, a
//! [`Finding`], or the oracle's own failure, each a value of its own. Every
//! suite builds on these types and on the fixtures here (the oracle's fixed
//! instant, records written as JSON text, the writer case machine and sleep
//! share); nothing here knows a suite.
//!
//! Does not promise: any order of cases, nor that a case's directory
//! exists before the case makes it (the driver makes it when it sets the
//! record path).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use lifecycle_harness::{report, Driver, Finding, Initial, Rules, Step};
use lifecycle_model::writer::{Found, WriterOp};
use lifecycle_model::Record;

use crate::adapter::Adapter;
use crate::options::Options;
use crate::protocol::{Capability, Handshake};
use crate::subject::AdapterSubject;
use crate::traced::record::Recordings;
use crate::traced::templates::Templates;
use crate::vectors::Vector;

/// What planning a suite's cases needs to know of the run.
pub struct Planning<'a> {
    /// The adapter's handshake: its capabilities and sidecar files.
    pub handshake: &'a Handshake,
    /// The conformance vectors to run.
    pub vectors: &'a [Vector],
    /// How many generated traces.
    pub traces: u32,
    /// The command the traced suites run under the tracer, when there is
    /// one (`None`: they are skipped).
    pub command_to_trace: Option<String>,
}

impl Planning<'_> {
    /// The instant a case's clock starts at: the oracle's fixed instant
    /// for an adapter with the `clock` capability, else the wall clock,
    /// which the implementation reads.
    pub fn now(&self) -> i64 {
        if self.handshake.has(Capability::Clock) {
            FIXED_NOW
        } else {
            wall_micros()
        }
    }
}

/// How a case came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    Pass(String),
    /// Which side of a point of requirements §7 the implementation chose.
    Info(String),
    /// Nothing was judged: why (a capability the adapter lacks, a tool
    /// missing, a save the persistence model cannot hold).
    Skipped(String),
    /// A rule of the SPEC broke.
    Found(Finding),
    /// The oracle itself failed: never blamed on the implementation; the
    /// run ends as harness broken.
    OracleFailed(String),
}

impl From<Finding> for Judged {
    fn from(finding: Finding) -> Judged {
        Judged::Found(finding)
    }
}

impl Judged {
    /// `Pass(message)` when `result` broke no rule, else its finding.
    pub fn pass_unless(result: Result<(), Finding>, message: &str) -> Judged {
        match result {
            Ok(()) => Judged::Pass(message.to_string()),
            Err(finding) => Judged::Found(finding),
        }
    }

    /// The same outcome, its finding (if any) rewritten by `f`.
    pub fn relabel(self, f: impl FnOnce(Finding) -> Finding) -> Judged {
        match self {
            Judged::Found(finding) => Judged::Found(f(finding)),
            other => other,
        }
    }
}

/// What a case runs with.
pub struct Case<'a> {
    pub adapter: &'a mut Adapter,
    /// The case's own directory, not made yet.
    pub dir: PathBuf,
    /// The run's seed and number of generated traces.
    pub seed: u64,
    pub cases: u32,
    /// How many replays of a traced suite run at once.
    pub jobs: usize,
    /// Whether replays may run in forked copies of one adapter.
    pub fork: bool,
    /// The saves the run recorded under the tracer.
    pub recordings: &'a Recordings,
    /// The adapters the run keeps to fork replays from.
    pub templates: &'a Templates,
    root: &'a Path,
    /// The directories of the case's own, removed once it has ended.
    made: Mutex<Vec<PathBuf>>,
}

impl<'a> Case<'a> {
    /// A case with a fresh directory under the run's `root`, its options
    /// and its recorded saves those of the run.
    pub fn new(
        adapter: &'a mut Adapter,
        root: &'a Path,
        recordings: &'a Recordings,
        templates: &'a Templates,
        options: &Options,
    ) -> Case<'a> {
        let dir = fresh_dir(root);
        Case {
            adapter,
            made: Mutex::new(vec![dir.clone()]),
            dir,
            seed: options.seed,
            cases: options.cases,
            jobs: options.jobs,
            fork: options.fork,
            recordings,
            templates,
            root,
        }
    }

    pub fn subject(&mut self) -> AdapterSubject<'_> {
        AdapterSubject::new(self.adapter, &self.dir)
    }

    /// A driver of the harness on this case's subject, judging by
    /// requirements §7.
    pub fn driver(&mut self, initial: &Initial) -> Driver<AdapterSubject<'_>> {
        Driver::judged_by(self.subject(), initial, Rules::Requirements)
    }

    /// A fresh directory under the run's root (for a case that needs more
    /// than one, such as each run of a shrinking trace), the case's own:
    /// it may be removed once the case has ended.
    pub fn fresh_dir(&self) -> PathBuf {
        let dir = fresh_dir(self.root);
        self.made
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(dir.clone());
        dir
    }

    /// A fresh directory under the run's root that later cases use too (a
    /// recorded save they judge, a template's trace): it stays until the
    /// run ends.
    pub fn lasting_dir(&self) -> PathBuf {
        fresh_dir(self.root)
    }

    /// The directories of the case's own ([`Case::fresh_dir`]), for
    /// removal once it has ended.
    pub fn into_made(self) -> Vec<PathBuf> {
        self.made.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

static DIRS: AtomicU64 = AtomicU64::new(0);

fn fresh_dir(root: &Path) -> PathBuf {
    root.join(format!("case-{}", DIRS.fetch_add(1, Ordering::Relaxed)))
}

/// The function a planned case runs.
pub type Run = Box<dyn FnOnce(&mut Case<'_>) -> Judged + Send>;

/// One case of a suite, planned before it runs.
pub struct Planned {
    pub id: String,
    /// The SPEC section it checks.
    pub spec: &'static str,
    /// What to do by hand to see a failure again (set up, then operations).
    pub reproduction: String,
    pub run: Run,
}

impl Planned {
    pub fn new(
        id: impl Into<String>,
        spec: &'static str,
        reproduction: impl Into<String>,
        run: impl FnOnce(&mut Case<'_>) -> Judged + Send + 'static,
    ) -> Planned {
        Planned {
            id: id.into(),
            spec,
            reproduction: reproduction.into(),
            run: Box::new(run),
        }
    }

    /// The case `id`: `op` on a record path holding `file` at `now`,
    /// judged by the harness's driver (the answer, the files, a load
    /// after it).
    pub fn writer(id: String, spec: &'static str, now: i64, file: Found, op: WriterOp) -> Planned {
        let reproduction = format!(
            "the record path holds {}; {}",
            report::found(&file),
            report::op(&op)
        );
        Planned::new(id, spec, reproduction, move |case| {
            let initial = Initial {
                now_micros: now,
                file,
            };
            let mut driver = case.driver(&initial);
            match driver.write(&op) {
                Ok(Step::Judged) => Judged::pass_unless(driver.after_step(), "as the model says"),
                Ok(Step::Skipped(why)) => Judged::Skipped(why),
                Err(finding) => Judged::Found(finding),
            }
        })
    }
}

/// 2024-06-01T12:00:00Z: the instant the oracle's clock stands at for an
/// adapter with the `clock` capability.
pub const FIXED_NOW: i64 = 1_717_243_200_000_000;

/// The wall clock, µs since the epoch.
pub fn wall_micros() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// A record written as JSON text by a suite: valid by construction, which
/// the suites' tests check (a panic here is the oracle's own failure).
pub fn record(json: &str) -> Record {
    lifecycle_model::record::decode(json.as_bytes())
        .unwrap_or_else(|e| panic!("a suite's record is invalid (item {}): {json}", e.item()))
}

/// A timestamp `micros` µs after the epoch, as JSON text.
pub fn stamp(micros: i64) -> String {
    lifecycle_harness::world::at_micros(micros)
        .as_str()
        .to_string()
}
