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

/// The JSON report, borrowed from a [`Report`]: what `--json` writes.
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
struct JsonResult<'a> {
    suite: &'static str,
    case: &'a str,
    spec: &'a str,
    verdict: &'static str,
    message: &'a str,
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
}

/// The suites that judge what an implementation's own system calls leave:
/// a case of theirs that is skipped is a blind spot, not a pass.
pub const CRASH_SUITES: [&str; 4] = ["kill", "faults", "power", "permissions"];

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

    /// The seconds `suite` took (0 when it did not run).
    pub fn seconds_of(&self, suite: &str) -> f64 {
        self.durations.get(suite).copied().map_or(0.0, seconds)
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.results.iter().filter(|r| r.verdict == verdict).count()
    }

    /// The exit code of `lifecycle check`: 3 when the harness or the
    /// adapter is broken (not the implementation), 1 violations, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.harness_broken.is_some() || self.adapter_broken.is_some() {
            3
        } else if self.count(Verdict::Violation) > 0 {
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
            results: self
                .results
                .iter()
                .map(|r| JsonResult {
                    suite: r.suite,
                    case: &r.case,
                    spec: &r.spec,
                    verdict: r.verdict.name(),
                    message: &r.message,
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

    /// The report for a terminal: the table of suites × verdicts, then the
    /// findings, then the implementation-defined choices.
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
        for r in self.results.iter().filter(|r| r.verdict.is_finding()) {
            let _ = writeln!(
                out,
                "\n{} {} ({}): {}",
                r.verdict.name().to_uppercase(),
                r.case,
                r.spec,
                r.message
            );
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
        }
        let infos: Vec<&CaseResult> = self
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Info)
            .collect();
        if !infos.is_empty() {
            let _ = writeln!(out, "\nimplementation-defined choices (requirements §7):");
            for r in infos {
                let _ = writeln!(out, "  {}: {}", r.case, r.message);
            }
        }
        let _ = writeln!(out);
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
            "{} violations, {} divergences, {} info, {} passed, {} skipped",
            self.count(Verdict::Violation),
            self.count(Verdict::Divergence),
            self.count(Verdict::Info),
            self.count(Verdict::Pass),
            self.count(Verdict::Skipped)
        );
        out
    }

    /// A Markdown summary for a CI job or a pull request comment.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## lifecycle check: {}\n", self.implementation);
        let blind = self.blind_spot_lines();
        if !blind.is_empty() {
            let _ = writeln!(
                md,
                "**Blind spots:** {} crash cases could not be judged, so nothing is known of them:\n",
                blind.len()
            );
            for line in blind {
                let _ = writeln!(md, "- {line}");
            }
            let _ = writeln!(md);
        }
        if let Some(why) = &self.harness_broken {
            let _ = writeln!(md, "**The check could not run to its end:** {why}\n");
        }
        if let Some(why) = &self.adapter_broken {
            let _ = writeln!(
                md,
                "**The adapter looks broken** (the smoke suite failed): {why}\n"
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
        let findings: Vec<&CaseResult> = self
            .results
            .iter()
            .filter(|r| r.verdict.is_finding())
            .collect();
        if !findings.is_empty() {
            let _ = writeln!(md, "\n### Findings\n");
            for r in findings {
                let _ = writeln!(
                    md,
                    "- **{}** `{}` ({}): {}",
                    r.verdict.name(),
                    r.case,
                    r.spec,
                    r.message.replace('\n', " ")
                );
                if let Some(rerun) = &r.rerun {
                    let _ = writeln!(md, "  - rerun: `{rerun}`");
                }
                if let Some(rep) = &r.reproduction {
                    let _ = writeln!(md, "  - reproduction:\n\n```\n{rep}\n```\n");
                }
            }
        }
        let infos: Vec<&CaseResult> = self
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Info)
            .collect();
        if !infos.is_empty() {
            let _ = writeln!(
                md,
                "\n### Implementation-defined choices (requirements §7)\n"
            );
            for r in infos {
                let _ = writeln!(md, "- `{}`: {}", r.case, r.message);
            }
        }
        md
    }
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
                "results": [
                    {"suite": "vectors", "case": "vectors/load/valid", "spec": "§3.1",
                     "verdict": "pass", "message": "loaded"},
                    {"suite": "vectors", "case": "vectors/load/corrupt_bom", "spec": "§3.4",
                     "verdict": "violation", "message": "accepted a BOM",
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
        let md = report.to_markdown();
        assert!(md.contains("**Blind spots:** 1 crash cases"), "{md}");
    }
}
