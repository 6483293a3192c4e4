//! What a check found: one result per case, and the report of a run.
//!
//! Promises: every result names its suite, its case (an id that
//! `--case` takes back), the SPEC section it checks, its verdict, and one
//! sentence; a finding (violation or divergence) also carries a minimal
//! reproduction (file bytes escaped, or the sequence of operations in the
//! SPEC's words) and the exact command that re-runs just that case. The
//! report writes itself as JSON, JUnit XML (through quick-junit) and
//! Markdown, and as a table for a terminal.
//!
//! Does not promise: any order of results beyond suite, then case.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::baseline::Baseline;
use crate::groups::{self, Group};
use crate::protocol::Implementation;

/// The verdict of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Pass,
    /// A MUST broken.
    Violation,
    /// A SHOULD broken.
    Divergence,
    /// Which side of an implementation-defined point (requirements §7).
    Info,
    Skipped,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Pass,
        Verdict::Violation,
        Verdict::Divergence,
        Verdict::Info,
        Verdict::Skipped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Violation => "violation",
            Verdict::Divergence => "divergence",
            Verdict::Info => "info",
            Verdict::Skipped => "skipped",
        }
    }

    /// A violation or a divergence: something to fix.
    pub fn is_finding(self) -> bool {
        matches!(self, Verdict::Violation | Verdict::Divergence)
    }
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub suite: &'static str,
    /// Unique within the run, e.g. `vectors/load/corrupt_bom`.
    pub case: String,
    /// The SPEC section, e.g. `§3.4`.
    pub spec: String,
    pub verdict: Verdict,
    /// One sentence; for a finding, what broke.
    pub message: String,
    /// For a finding: what to run again by hand.
    pub reproduction: Option<String>,
    /// For a finding: the command that re-runs just this case.
    pub rerun: Option<String>,
    /// For a finding: the rule broken, the same sentence for every case
    /// of that rule.
    pub rule: String,
    /// For a finding: how the rule broke (`Finding::how`), empty when it
    /// breaks one way only.
    pub how: String,
    /// The adapter's last lines of standard error, when it wrote any.
    pub stderr: Option<String>,
}

impl CaseResult {
    pub fn pass(suite: &'static str, case: String, spec: &str, message: impl Into<String>) -> Self {
        CaseResult {
            suite,
            case,
            spec: spec.to_string(),
            verdict: Verdict::Pass,
            message: message.into(),
            reproduction: None,
            rerun: None,
            rule: String::new(),
            how: String::new(),
            stderr: None,
        }
    }

    pub fn with(mut self, verdict: Verdict, message: impl Into<String>) -> Self {
        self.verdict = verdict;
        self.message = message.into();
        self
    }

    pub fn reproduce(mut self, reproduction: impl Into<String>) -> Self {
        self.reproduction = Some(reproduction.into());
        self
    }

    /// The adapter's standard error, unless the message already shows it
    /// (a request that got no reply says so with its standard error).
    fn stderr_beside_message(&self) -> Option<&str> {
        self.stderr
            .as_deref()
            .filter(|err| !self.message.contains(err))
    }
}

/// A duration in seconds, to the millisecond.
fn seconds(d: Duration) -> f64 {
    (d.as_millis() as f64) / 1000.0
}

/// A suite's counts in the order of [`Verdict::ALL`].
fn row(counts: &BTreeMap<Verdict, usize>) -> [usize; 5] {
    Verdict::ALL.map(|v| counts.get(&v).copied().unwrap_or(0))
}

/// The JSON report, borrowed from a [`Report`]: what `--json` writes
/// (`protocol/report.schema.json` describes it).
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    implementation: JsonImplementation<'a>,
    /// One count per verdict name.
    summary: BTreeMap<&'static str, usize>,
    /// Per suite that ran.
    seconds: BTreeMap<&'static str, f64>,
    exit_code: u8,
    // Null when absent, where a result's optional members are left out:
    // readers of the report test these two for null.
    harness_broken: Option<&'a str>,
    adapter_broken: Option<&'a str>,
    /// The crash cases that could not be judged ([`Report::blind_spots`]).
    blind_spots: Vec<&'a str>,
    /// The findings grouped by root cause (`groups`), most severe first.
    groups: Vec<JsonGroup<'a>>,
    /// Null without `--baseline`.
    baseline: Option<JsonBaseline<'a>>,
    results: Vec<JsonResult<'a>>,
}

#[derive(Debug, Serialize)]
struct JsonImplementation<'a> {
    name: &'a str,
    language: &'a str,
    version: &'a str,
    homepage: &'a str,
    capabilities: &'a [String],
}

#[derive(Debug, Serialize)]
struct JsonGroup<'a> {
    verdict: &'static str,
    spec: &'a str,
    rule: &'a str,
    how: &'a str,
    suites: Vec<&'static str>,
    count: usize,
    /// The case to read first (the smallest reproduction).
    example: &'a str,
    cases: Vec<&'a str>,
    /// With a baseline: the cases of the group it does not know.
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<Vec<&'a str>>,
}

#[derive(Debug, Serialize)]
struct JsonBaseline<'a> {
    file: &'a str,
    known: usize,
    new: Vec<&'a str>,
    fixed: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
struct JsonResult<'a> {
    suite: &'static str,
    case: &'a str,
    spec: &'a str,
    verdict: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    rule: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    how: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reproduction: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rerun: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stderr: Option<&'a str>,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    pub implementation: Implementation,
    pub capabilities: Vec<String>,
    pub results: Vec<CaseResult>,
    /// How long each suite took, smoke included.
    pub durations: BTreeMap<&'static str, Duration>,
    /// Set when the run could not go on (exit 3).
    pub harness_broken: Option<String>,
    /// Set when the smoke suite failed: the adapter, not the implementation,
    /// is most likely at fault.
    pub adapter_broken: Option<String>,
    /// The known findings (`--baseline`): only others fail the run.
    pub baseline: Option<Baseline>,
}

/// The suites that judge what an implementation's own system calls leave:
/// a case of theirs that is skipped is a blind spot, not a pass.
pub const CRASH_SUITES: [&str; 4] = ["kill", "faults", "power", "permissions"];

/// The most characters of Markdown a report writes: a pull request comment
/// holds 65,536, and the rest is room for what a CI job adds around it.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// The most case ids a group lists in the terminal and in Markdown (the
/// JSON report lists them all).
const IDS_SHOWN: usize = 12;

/// The most characters of one message or reproduction in Markdown.
const MARKDOWN_TEXT: usize = 2_000;

impl Report {
    /// The crash cases that were skipped (a call the model cannot hold, no
    /// tracer, a replay that could not be matched): shown before anything
    /// else, since a row of skips among passes reads like passes.
    pub fn blind_spots(&self) -> Vec<&CaseResult> {
        self.results
            .iter()
            .filter(|r| r.verdict == Verdict::Skipped && CRASH_SUITES.contains(&r.suite))
            .collect()
    }

    /// The blind spots in words, one line each, for the text and Markdown
    /// reports.
    fn blind_spot_lines(&self) -> Vec<String> {
        self.blind_spots()
            .iter()
            .map(|r| format!("{}: {}", r.case, r.message.replace('\n', " ")))
            .collect()
    }

    /// The findings grouped by root cause, most severe first.
    pub fn groups(&self) -> Vec<Group<'_>> {
        groups::of(&self.results)
    }

    /// Whether `r` is a finding the baseline does not know (every finding
    /// without a baseline).
    pub fn is_new(&self, r: &CaseResult) -> bool {
        r.verdict.is_finding()
            && self
                .baseline
                .as_ref()
                .is_none_or(|b| !b.knows(&r.case, r.verdict))
    }

    /// The ids of `cases` that are new findings.
    fn new_cases<'r>(&self, cases: &[&'r CaseResult]) -> Vec<&'r str> {
        cases
            .iter()
            .filter(|r| self.is_new(r))
            .map(|r| r.case.as_str())
            .collect()
    }

    /// The baseline's findings whose case ran and is no longer that
    /// finding.
    pub fn fixed(&self) -> Vec<&str> {
        let Some(baseline) = &self.baseline else {
            return Vec::new();
        };
        baseline
            .known
            .iter()
            .filter(|(case, verdict)| {
                self.results
                    .iter()
                    .find(|r| &r.case == *case)
                    .is_some_and(|r| r.verdict != **verdict)
            })
            .map(|(case, _)| case.as_str())
            .collect()
    }

    /// The seconds `suite` took (0 when it did not run).
    pub fn seconds_of(&self, suite: &str) -> f64 {
        self.durations.get(suite).copied().map_or(0.0, seconds)
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.results.iter().filter(|r| r.verdict == verdict).count()
    }

    /// The exit code of `lifecycle check`: 3 when the harness or the
    /// adapter is broken (not the implementation), 1 for a violation the
    /// baseline (if any) does not know, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.harness_broken.is_some() || self.adapter_broken.is_some() {
            3
        } else if self
            .results
            .iter()
            .any(|r| r.verdict == Verdict::Violation && self.is_new(r))
        {
            1
        } else {
            0
        }
    }

    /// Verdict counts per suite, suites in the order they ran.
    pub fn table(&self) -> Vec<(&'static str, BTreeMap<Verdict, usize>)> {
        let mut rows: Vec<(&'static str, BTreeMap<Verdict, usize>)> = Vec::new();
        for result in &self.results {
            let row = match rows.iter_mut().find(|(s, _)| *s == result.suite) {
                Some(row) => row,
                None => {
                    rows.push((result.suite, BTreeMap::new()));
                    rows.last_mut().expect("just pushed")
                }
            };
            *row.1.entry(result.verdict).or_default() += 1;
        }
        rows
    }

    /// The report as JSON: serialize it (`serde_json::to_string_pretty`).
    pub fn to_json(&self) -> JsonReport<'_> {
        let implementation = &self.implementation;
        let findings: Vec<&CaseResult> = self
            .results
            .iter()
            .filter(|r| r.verdict.is_finding())
            .collect();
        JsonReport {
            implementation: JsonImplementation {
                name: &implementation.name,
                language: &implementation.language,
                version: &implementation.version,
                homepage: &implementation.homepage,
                capabilities: &self.capabilities,
            },
            summary: Verdict::ALL
                .iter()
                .map(|v| (v.name(), self.count(*v)))
                .collect(),
            seconds: self
                .durations
                .iter()
                .map(|(suite, d)| (*suite, seconds(*d)))
                .collect(),
            exit_code: self.exit_code(),
            harness_broken: self.harness_broken.as_deref(),
            adapter_broken: self.adapter_broken.as_deref(),
            blind_spots: self.blind_spots().iter().map(|r| r.case.as_str()).collect(),
            groups: self
                .groups()
                .iter()
                .map(|g| JsonGroup {
                    verdict: g.verdict.name(),
                    spec: g.spec,
                    rule: g.rule,
                    how: g.how,
                    suites: g.suites.clone(),
                    count: g.cases.len(),
                    example: &g.example.case,
                    cases: g.cases.iter().map(|r| r.case.as_str()).collect(),
                    new: self.baseline.as_ref().map(|_| self.new_cases(&g.cases)),
                })
                .collect(),
            baseline: self.baseline.as_ref().map(|b| JsonBaseline {
                file: &b.file,
                known: b.known.len(),
                new: self.new_cases(&findings),
                fixed: self.fixed(),
            }),
            results: self
                .results
                .iter()
                .map(|r| JsonResult {
                    suite: r.suite,
                    case: &r.case,
                    spec: &r.spec,
                    verdict: r.verdict.name(),
                    message: &r.message,
                    rule: &r.rule,
                    how: &r.how,
                    reproduction: r.reproduction.as_deref(),
                    rerun: r.rerun.as_deref(),
                    stderr: r.stderr.as_deref(),
                })
                .collect(),
        }
    }

    /// JUnit XML: one test suite per suite, one test case per case; a
    /// violation is a failure, a divergence a failure of type
    /// `divergence`, a skipped case skipped.
    pub fn to_junit(&self) -> Result<String, String> {
        use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
        let mut report = JReport::new(format!("lifecycle check: {}", self.implementation));
        for (suite, _) in self.table() {
            let mut test_suite = TestSuite::new(suite);
            if let Some(d) = self.durations.get(suite) {
                test_suite.set_time(*d);
            }
            for r in self.results.iter().filter(|r| r.suite == suite) {
                let status = match r.verdict {
                    Verdict::Pass | Verdict::Info => TestCaseStatus::success(),
                    Verdict::Skipped => {
                        let mut s = TestCaseStatus::skipped();
                        s.set_message(r.message.clone());
                        s
                    }
                    Verdict::Violation | Verdict::Divergence => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(format!("{} {}", r.spec, r.message));
                        s.set_type(r.verdict.name());
                        let mut text = String::new();
                        if !r.rule.is_empty() {
                            let _ = writeln!(text, "rule: {}", sentence(&r.rule, &r.how));
                        }
                        if let Some(rep) = &r.reproduction {
                            let _ = writeln!(text, "reproduction:\n{rep}");
                        }
                        if let Some(rerun) = &r.rerun {
                            let _ = writeln!(text, "rerun: {rerun}");
                        }
                        if let Some(err) = r.stderr_beside_message() {
                            let _ = writeln!(text, "{err}");
                        }
                        s.set_description(text);
                        s
                    }
                };
                let mut case = TestCase::new(r.case.clone(), status);
                case.set_classname(suite);
                test_suite.add_test_case(case);
            }
            report.add_test_suite(test_suite);
        }
        report
            .to_string()
            .map_err(|e| format!("could not write JUnit XML: {e}"))
    }

    /// The title of a group: verdict, section, how many cases in which
    /// suites, then the rule and how it broke.
    fn group_title(&self, g: &Group<'_>) -> String {
        let cases = if g.cases.len() == 1 {
            "1 case".to_string()
        } else {
            format!("{} cases", g.cases.len())
        };
        let new = match &self.baseline {
            Some(_) => {
                let n = g.cases.iter().filter(|r| self.is_new(r)).count();
                if n == 0 {
                    ", all in the baseline".to_string()
                } else {
                    format!(", {n} NEW")
                }
            }
            None => String::new(),
        };
        format!(
            "{} {} ({cases}{new}; {}): {}",
            g.verdict.name().to_uppercase(),
            g.spec,
            g.suites.join(", "),
            g.sentence()
        )
    }

    /// The case ids of a group other than its example, at most
    /// [`IDS_SHOWN`].
    fn other_cases(g: &Group<'_>) -> Option<String> {
        let others: Vec<&str> = g
            .cases
            .iter()
            .filter(|r| r.case != g.example.case)
            .map(|r| r.case.as_str())
            .collect();
        if others.is_empty() {
            return None;
        }
        let shown = others.len().min(IDS_SHOWN);
        let mut line = others[..shown].join(", ");
        if others.len() > shown {
            let _ = write!(
                line,
                " and {} more (the JSON report lists them)",
                others.len() - shown
            );
        }
        Some(line)
    }

    /// The implementation-defined choices: one line per distinct message,
    /// with how many cases said it and one of them.
    fn info_lines(&self) -> Vec<String> {
        let mut lines: Vec<(&str, &str, usize)> = Vec::new();
        for r in self.results.iter().filter(|r| r.verdict == Verdict::Info) {
            match lines.iter_mut().find(|(m, _, _)| *m == r.message) {
                Some(line) => line.2 += 1,
                None => lines.push((&r.message, &r.case, 1)),
            }
        }
        lines
            .into_iter()
            .map(|(message, case, n)| match n {
                1 => format!("{case}: {message}"),
                n => format!("{message} ({n} cases, e.g. {case})"),
            })
            .collect()
    }

    /// The baseline's verdict in words: what it knows, what is new, what
    /// was fixed.
    fn baseline_lines(&self) -> Vec<String> {
        let Some(baseline) = &self.baseline else {
            return Vec::new();
        };
        let new: Vec<&CaseResult> = self.results.iter().filter(|r| self.is_new(r)).collect();
        let fixed = self.fixed();
        let mut lines = vec![format!(
            "baseline {}: {} known findings; {} new in this run; {} fixed",
            baseline.file,
            baseline.known.len(),
            new.len(),
            fixed.len()
        )];
        for r in new {
            lines.push(format!("new {}: {}", r.verdict.name(), r.case));
        }
        for case in fixed {
            lines.push(format!(
                "fixed: {case} (no longer found: remove it from the baseline)"
            ));
        }
        lines
    }

    /// The report for a terminal: the table of suites × verdicts, then the
    /// findings by group, then the implementation-defined choices.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "lifecycle check: {}", self.implementation);
        if !self.capabilities.is_empty() {
            let _ = writeln!(out, "capabilities: {}", self.capabilities.join(", "));
        }
        let blind = self.blind_spot_lines();
        if !blind.is_empty() {
            let _ = writeln!(
                out,
                "\nBLIND SPOTS: {} crash cases could not be judged, so nothing is known of them:",
                blind.len()
            );
            for line in blind {
                let _ = writeln!(out, "  {line}");
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<12} {:>6} {:>10} {:>11} {:>5} {:>8} {:>8}",
            "suite", "pass", "violation", "divergence", "info", "skipped", "seconds"
        );
        for (suite, counts) in self.table() {
            let [pass, violation, divergence, info, skipped] = row(&counts);
            let _ = writeln!(
                out,
                "{suite:<12} {pass:>6} {violation:>10} {divergence:>11} {info:>5} {skipped:>8} {:>8.1}",
                self.seconds_of(suite)
            );
        }
        let groups = self.groups();
        if !groups.is_empty() {
            let _ = writeln!(
                out,
                "\n{} findings in {} groups (one rule broken one way each):",
                groups.iter().map(|g| g.cases.len()).sum::<usize>(),
                groups.len()
            );
        }
        for g in &groups {
            let r = g.example;
            let _ = writeln!(out, "\n{}", self.group_title(g));
            let _ = writeln!(out, "  {}: {}", r.case, r.message.replace('\n', "\n  "));
            if let Some(rep) = &r.reproduction {
                let _ = writeln!(out, "  reproduction:");
                for line in rep.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            if let Some(rerun) = &r.rerun {
                let _ = writeln!(out, "  rerun: {rerun}");
            }
            if let Some(err) = r.stderr_beside_message() {
                let _ = writeln!(out, "  {}", err.replace('\n', "\n  "));
            }
            if let Some(others) = Report::other_cases(g) {
                let _ = writeln!(out, "  also: {others}");
            }
        }
        let infos = self.info_lines();
        if !infos.is_empty() {
            let _ = writeln!(out, "\nimplementation-defined choices (requirements §7):");
            for line in infos {
                let _ = writeln!(out, "  {line}");
            }
        }
        let _ = writeln!(out);
        for line in self.baseline_lines() {
            let _ = writeln!(out, "{line}");
        }
        if let Some(why) = &self.harness_broken {
            let _ = writeln!(
                out,
                "HARNESS BROKEN: the check could not run to its end: {why}"
            );
        }
        if let Some(why) = &self.adapter_broken {
            let _ = writeln!(
                out,
                "ADAPTER BROKEN: the smoke suite failed, so the other suites were skipped: {why}"
            );
        }
        let _ = writeln!(
            out,
            "{} violations, {} divergences ({} groups), {} info, {} passed, {} skipped",
            self.count(Verdict::Violation),
            self.count(Verdict::Divergence),
            groups.len(),
            self.count(Verdict::Info),
            self.count(Verdict::Pass),
            self.count(Verdict::Skipped)
        );
        out
    }

    /// A Markdown summary for a CI job or a pull request comment, at most
    /// [`MARKDOWN_LIMIT`] characters whatever the run: the table, then the
    /// groups, most severe first, as many as fit, and a line saying how
    /// many were left out and that `json` (the JSON report's name, when
    /// one is written) has them all.
    pub fn to_markdown(&self, json: Option<&str>) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## lifecycle check: {}\n", self.implementation);
        let blind = self.blind_spot_lines();
        if !blind.is_empty() {
            let _ = writeln!(
                md,
                "**Blind spots:** {} crash cases could not be judged, so nothing is known of them:\n",
                blind.len()
            );
            for line in blind.iter().take(IDS_SHOWN) {
                let _ = writeln!(md, "- {}", cut(line, 300));
            }
            if blind.len() > IDS_SHOWN {
                let _ = writeln!(md, "- and {} more", blind.len() - IDS_SHOWN);
            }
            let _ = writeln!(md);
        }
        if let Some(why) = &self.harness_broken {
            let _ = writeln!(
                md,
                "**The check could not run to its end:** {}\n",
                cut(why, MARKDOWN_TEXT)
            );
        }
        if let Some(why) = &self.adapter_broken {
            let _ = writeln!(
                md,
                "**The adapter looks broken** (the smoke suite failed): {}\n",
                cut(why, MARKDOWN_TEXT)
            );
        }
        let _ = writeln!(
            md,
            "| suite | pass | violation | divergence | info | skipped | seconds |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for (suite, counts) in self.table() {
            let [pass, violation, divergence, info, skipped] = row(&counts);
            let _ = writeln!(
                md,
                "| {suite} | {pass} | {violation} | {divergence} | {info} | {skipped} | {:.1} |",
                self.seconds_of(suite)
            );
        }
        let baseline = self.baseline_lines();
        if let Some((head, rest)) = baseline.split_first() {
            let _ = writeln!(md, "\n**{head}**");
            for line in rest.iter().take(IDS_SHOWN) {
                let _ = writeln!(md, "- {line}");
            }
            if rest.len() > IDS_SHOWN {
                let _ = writeln!(md, "- and {} more", rest.len() - IDS_SHOWN);
            }
        }
        let groups = self.groups();
        // Each piece is whole or absent: a cut group would read as whole.
        let mut pieces: Vec<String> = Vec::new();
        if !groups.is_empty() {
            pieces.push(format!(
                "\n### Findings: {} in {} groups\n\n",
                groups.iter().map(|g| g.cases.len()).sum::<usize>(),
                groups.len()
            ));
        }
        for g in &groups {
            let r = g.example;
            let mut piece = format!(
                "#### {}\n\n`{}`: {}\n",
                self.group_title(g),
                r.case,
                cut(&r.message, MARKDOWN_TEXT)
            );
            if let Some(rep) = &r.reproduction {
                let _ = writeln!(piece, "\n{}", fenced(&cut(rep, MARKDOWN_TEXT)));
            }
            if let Some(rerun) = &r.rerun {
                let _ = writeln!(piece, "\nrerun: `{rerun}`");
            }
            if let Some(others) = Report::other_cases(g) {
                let _ = writeln!(piece, "\nalso: {others}");
            }
            piece.push('\n');
            pieces.push(piece);
        }
        let infos = self.info_lines();
        if !infos.is_empty() {
            pieces.push("\n### Implementation-defined choices (requirements §7)\n\n".to_string());
            for line in infos {
                pieces.push(format!("- {}\n", cut(&line, 500)));
            }
        }
        let full = match json {
            Some(name) => format!("the JSON report ({name}) has every case"),
            None => "the JSON report (`--json FILE`) has every case".to_string(),
        };
        // Room for the line that says what was left out.
        let room = MARKDOWN_LIMIT.saturating_sub(md.chars().count() + 200 + full.len());
        let mut used = 0;
        let mut left_out = 0;
        for piece in pieces {
            let n = piece.chars().count();
            if left_out == 0 && used + n <= room {
                md.push_str(&piece);
                used += n;
            } else {
                left_out += 1;
            }
        }
        if left_out > 0 {
            let _ = writeln!(
                md,
                "\n**{left_out} more parts of this report (groups or choices) were left out to stay under {MARKDOWN_LIMIT} characters; {full}.**"
            );
        }
        md
    }
}

/// A rule and how it broke, as one sentence.
fn sentence(rule: &str, how: &str) -> String {
    if how.is_empty() {
        rule.to_string()
    } else {
        format!("{rule}: {how}")
    }
}

/// `text` cut to at most `max` characters, saying so.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!(
            "{}… ({} characters in all)",
            &text[..at],
            text.chars().count()
        ),
    }
}

/// `text` as a Markdown code block whose fence no line of it can close.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}\n{text}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn small_report() -> Report {
        let case = |id: &str| format!("vectors/load/{id}");
        let mut violation = CaseResult::pass("vectors", case("corrupt_bom"), "§3.4", "")
            .with(Verdict::Violation, "accepted a BOM")
            .reproduce("write \\xef\\xbb\\xbf{} then load");
        violation.rerun = Some("lifecycle check --case vectors/load/corrupt_bom".to_string());
        violation.rule =
            "load of a file that breaks SPEC §1 returns the default record".to_string();
        violation.how = "the file breaks §1.6 item 3".to_string();
        Report {
            implementation: Implementation {
                name: "strict".to_string(),
                language: "python".to_string(),
                version: "1.2".to_string(),
                homepage: String::new(),
            },
            capabilities: vec!["store".to_string()],
            results: vec![
                CaseResult::pass("vectors", case("valid"), "§3.1", "loaded"),
                violation,
                CaseResult::pass("sleep", "sleep/cycle".to_string(), "§5", "")
                    .with(Verdict::Skipped, "no sleep capability"),
                CaseResult::pass("power", "power/old_record".to_string(), "§3.4", "")
                    .with(Verdict::Skipped, "a call the model cannot hold"),
            ],
            durations: BTreeMap::from([
                ("vectors", Duration::from_millis(1500)),
                ("sleep", Duration::ZERO),
                ("power", Duration::ZERO),
            ]),
            harness_broken: None,
            adapter_broken: None,
            baseline: None,
        }
    }

    #[test]
    fn the_json_report_has_exactly_the_members_and_values_of_the_run() {
        let json = serde_json::to_value(small_report().to_json()).expect("serializes");
        assert_eq!(
            json,
            json!({
                "implementation": {
                    "name": "strict",
                    "language": "python",
                    "version": "1.2",
                    "homepage": "",
                    "capabilities": ["store"],
                },
                "summary": {"pass": 1, "violation": 1, "divergence": 0, "info": 0, "skipped": 2},
                "seconds": {"vectors": 1.5, "sleep": 0.0, "power": 0.0},
                "exit_code": 1,
                "harness_broken": null,
                "adapter_broken": null,
                "blind_spots": ["power/old_record"],
                "groups": [
                    {"verdict": "violation", "spec": "§3.4",
                     "rule": "load of a file that breaks SPEC §1 returns the default record",
                     "how": "the file breaks §1.6 item 3", "suites": ["vectors"], "count": 1,
                     "example": "vectors/load/corrupt_bom", "cases": ["vectors/load/corrupt_bom"]},
                ],
                "baseline": null,
                "results": [
                    {"suite": "vectors", "case": "vectors/load/valid", "spec": "§3.1",
                     "verdict": "pass", "message": "loaded"},
                    {"suite": "vectors", "case": "vectors/load/corrupt_bom", "spec": "§3.4",
                     "verdict": "violation", "message": "accepted a BOM",
                     "rule": "load of a file that breaks SPEC §1 returns the default record",
                     "how": "the file breaks §1.6 item 3",
                     "reproduction": "write \\xef\\xbb\\xbf{} then load",
                     "rerun": "lifecycle check --case vectors/load/corrupt_bom"},
                    {"suite": "sleep", "case": "sleep/cycle", "spec": "§5",
                     "verdict": "skipped", "message": "no sleep capability"},
                    {"suite": "power", "case": "power/old_record", "spec": "§3.4",
                     "verdict": "skipped", "message": "a call the model cannot hold"},
                ],
            })
        );
    }

    #[test]
    fn standard_error_a_finding_shows_already_is_not_printed_twice() {
        let mut report = small_report();
        let shown = "adapter stderr:\n  cannot read this request";
        let finding = &mut report.results[1];
        finding.message = format!("the adapter died during save\n{shown}");
        finding.stderr = Some(shown.to_string());
        let text = report.to_text();
        assert_eq!(
            text.matches("cannot read this request").count(),
            1,
            "{text}"
        );
        report.results[1].message = "save answered nothing".to_string();
        let text = report.to_text();
        assert_eq!(
            text.matches("cannot read this request").count(),
            1,
            "{text}"
        );
    }

    #[test]
    fn a_broken_run_says_why_in_the_json_report() {
        let mut report = small_report();
        report.adapter_broken = Some("the smoke suite failed".to_string());
        let json: Value = serde_json::to_value(report.to_json()).expect("serializes");
        assert_eq!(json["adapter_broken"], "the smoke suite failed");
        assert_eq!(json["harness_broken"], Value::Null);
        assert_eq!(json["exit_code"], 3);
    }

    #[test]
    fn a_skipped_crash_case_is_a_blind_spot_shown_first_and_a_skipped_capability_is_not() {
        let report = small_report();
        let text = report.to_text();
        let blind = text
            .find("BLIND SPOTS: 1 crash cases")
            .expect("the blind spot is shown");
        let table = text.find("suite ").expect("the table");
        assert!(blind < table, "{text}");
        assert!(
            text.contains("power/old_record: a call the model cannot hold"),
            "{text}"
        );
        assert!(!text[blind..table].contains("sleep/cycle"), "{text}");
        let md = report.to_markdown(None);
        assert!(md.contains("**Blind spots:** 1 crash cases"), "{md}");
    }

    /// A report of `n` findings of `rules` different rules, each with a
    /// long message and reproduction.
    fn big_report(n: usize, rules: usize) -> Report {
        let mut report = small_report();
        report.results.clear();
        for i in 0..n {
            let mut r = CaseResult::pass("vectors", format!("vectors/load/case_{i}"), "§1.1.5", "")
                .with(
                    Verdict::Violation,
                    format!("case {i}: {}", "x".repeat(3_000)),
                )
                .reproduce("y".repeat(5_000));
            r.rule = format!("rule {}", i % rules);
            r.rerun = Some(format!("lifecycle check --case vectors/load/case_{i}"));
            report.results.push(r);
        }
        report
    }

    #[test]
    fn markdown_stays_under_the_limit_and_says_what_it_left_out() {
        for (n, rules) in [(2_000, 500), (500, 3), (30, 30)] {
            let report = big_report(n, rules);
            let md = report.to_markdown(Some("report.json"));
            assert!(
                md.chars().count() <= MARKDOWN_LIMIT,
                "{n} findings: {} characters",
                md.chars().count()
            );
            assert!(
                md.contains("| vectors | 0 | "),
                "the summary table comes first"
            );
            let shown = md.matches("#### VIOLATION").count();
            assert!(shown >= 1, "at least one group is shown");
            if shown < rules {
                assert!(
                    md.contains("were left out to stay under 60000 characters; the JSON report (report.json) has every case"),
                    "{}",
                    &md[md.len() - 500..]
                );
            } else {
                assert!(!md.contains("left out"), "nothing was left out");
            }
        }
    }

    #[test]
    fn the_text_report_shows_one_group_per_rule_with_its_example_and_the_other_cases() {
        let report = big_report(40, 2);
        let text = report.to_text();
        assert_eq!(
            text.matches("\nVIOLATION §1.1.5 (20 cases; vectors): rule ")
                .count(),
            2,
            "{}",
            &text[..2_000]
        );
        assert!(text.contains("and 7 more (the JSON report lists them)"));
        assert!(text.contains("40 violations, 0 divergences (2 groups)"));
        let json = serde_json::to_value(report.to_json()).expect("serializes");
        assert_eq!(json["groups"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            json["groups"][0]["cases"].as_array().map(Vec::len),
            Some(20)
        );
    }

    #[test]
    fn a_baseline_that_knows_every_violation_makes_the_run_pass_and_lists_what_is_new_and_fixed() {
        let mut report = small_report();
        assert_eq!(report.exit_code(), 1);
        report.baseline = Some(Baseline {
            file: "old.json".to_string(),
            known: BTreeMap::from([
                ("vectors/load/corrupt_bom".to_string(), Verdict::Violation),
                ("vectors/load/valid".to_string(), Verdict::Violation),
                ("kill/not_run".to_string(), Verdict::Violation),
            ]),
        });
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.fixed(), ["vectors/load/valid"]);
        let text = report.to_text();
        assert!(
            text.contains("baseline old.json: 3 known findings; 0 new in this run; 1 fixed"),
            "{text}"
        );
        assert!(text.contains("fixed: vectors/load/valid"), "{text}");
        assert!(text.contains("all in the baseline"), "{text}");
        let json = serde_json::to_value(report.to_json()).expect("serializes");
        assert_eq!(
            json["baseline"]["fixed"],
            serde_json::json!(["vectors/load/valid"])
        );
        assert_eq!(json["groups"][0]["new"], serde_json::json!([]));

        report.baseline = Some(Baseline {
            file: "old.json".to_string(),
            known: BTreeMap::from([("vectors/load/corrupt_bom".to_string(), Verdict::Divergence)]),
        });
        assert_eq!(
            report.exit_code(),
            1,
            "a divergence that became a violation is new"
        );
        let json = serde_json::to_value(report.to_json()).expect("serializes");
        assert_eq!(
            json["baseline"]["new"],
            serde_json::json!(["vectors/load/corrupt_bom"])
        );
        assert!(report
            .to_text()
            .contains("new violation: vectors/load/corrupt_bom"));
    }

    #[test]
    fn a_reproduction_with_backticks_cannot_close_its_code_block() {
        let block = fenced("a ``` b");
        assert!(block.starts_with("````\n"), "{block}");
        assert!(block.ends_with("\n````"), "{block}");
    }

    #[test]
    fn reports_of_every_shape_are_valid_by_the_report_schema() {
        let schema = crate::schema::Schema::report();
        let mut with_baseline = small_report();
        with_baseline.baseline = Some(Baseline {
            file: "old.json".to_string(),
            known: BTreeMap::from([("vectors/load/valid".to_string(), Verdict::Violation)]),
        });
        let mut broken = small_report();
        broken.harness_broken = Some("the adapter died".to_string());
        for report in [
            small_report(),
            big_report(40, 3),
            with_baseline,
            broken,
            Report::default(),
        ] {
            let json = serde_json::to_value(report.to_json()).expect("serializes");
            assert_eq!(schema.check("report", &json), Ok(()), "{json}");
        }
    }

    #[test]
    fn the_report_schema_refuses_what_a_reader_could_not_rely_on() {
        let schema = crate::schema::Schema::report();
        let json = serde_json::to_value(small_report().to_json()).expect("serializes");
        let broken = |f: &dyn Fn(&mut Value)| {
            let mut j = json.clone();
            f(&mut j);
            schema.check("report", &j)
        };
        assert!(broken(&|j| j["results"][0]["verdict"] = json!("fine")).is_err());
        assert!(broken(&|j| j["groups"][0]["count"] = json!(0)).is_err());
        assert!(broken(&|j| j["exit_code"] = json!(2)).is_err());
        assert!(broken(&|j| j["results"][0]["spec"] = json!("3.4")).is_err());
        assert!(broken(&|j| {
            j.as_object_mut().map(|o| o.remove("groups"));
        })
        .is_err());
    }
}
