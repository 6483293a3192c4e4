//! A baseline: the findings an implementation is known to have, so that a
//! project with known defects can run the oracle in CI and fail only on
//! new ones.
//!
//! Promises: [`Baseline::read`] takes data the oracle wrote: a JSON report
//! of `lifecycle check --json` (its `results`), or an expected-findings
//! file of the examples (`adapters/examples/expected/NAME.json`, its
//! `findings`); each finding is known by its case id and verdict. Against
//! a run, a violation or divergence is new unless its case has that
//! verdict in the baseline; a baseline finding is fixed when its case ran
//! and is no longer that finding (so the baseline can be tightened); a
//! baseline case that did not run (another `--suite`, `--run`) is neither.
//! Bad input is an error that names the file and what is wrong, never an
//! empty baseline.
//!
//! Does not promise: that a known finding still fails for the same reason:
//! a case that broke another rule with the same verdict is still known.
//! Compare sections with the JSON reports when that matters.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::report::Verdict;

/// The known findings: case id to verdict.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Baseline {
    /// The file it was read from, as given.
    pub file: String,
    pub known: BTreeMap<String, Verdict>,
}

impl Baseline {
    /// The baseline in the file at `path`.
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the baseline {file}: {e}"))?;
        Baseline::parse(&text, &file)
    }

    /// The baseline in `text`, read from `file`.
    pub fn parse(text: &str, file: &str) -> Result<Baseline, String> {
        let bad = |why: String| {
            format!("the baseline {file} is not a report of lifecycle check --json nor an expected-findings file: {why}")
        };
        let json: Value = serde_json::from_str(text).map_err(|e| bad(format!("{e}")))?;
        let entries = match (json.get("results"), json.get("findings")) {
            (Some(Value::Array(results)), _) => results,
            (None, Some(Value::Array(findings))) => findings,
            _ => {
                return Err(bad(
                    "it has no array \"results\" or \"findings\"".to_string()
                ))
            }
        };
        let mut known = BTreeMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let text_of = |member: &str| {
                entry
                    .get(member)
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("entry {i} has no string \"{member}\"")))
            };
            let case = text_of("case")?;
            let verdict = text_of("verdict")?;
            let verdict = Verdict::ALL
                .into_iter()
                .find(|v| v.name() == verdict)
                .ok_or_else(|| bad(format!("entry {i} has the unknown verdict {verdict:?}")))?;
            if verdict.is_finding() {
                known.insert(case.to_string(), verdict);
            }
        }
        Ok(Baseline {
            file: file.to_string(),
            known,
        })
    }

    /// Whether `case` with `verdict` is a known finding.
    pub fn knows(&self, case: &str, verdict: Verdict) -> bool {
        self.known.get(case) == Some(&verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_report_gives_its_findings_and_nothing_else() {
        let text = r#"{"results": [
            {"suite": "vectors", "case": "vectors/load/a", "verdict": "violation", "spec": "§1.1.5"},
            {"suite": "kill", "case": "kill/b", "verdict": "divergence", "spec": "§3.3"},
            {"suite": "vectors", "case": "vectors/load/c", "verdict": "pass", "spec": "§1"},
            {"suite": "vectors", "case": "vectors/load/d", "verdict": "info", "spec": "§2.1"}
        ]}"#;
        let baseline = Baseline::parse(text, "report.json").expect("a report");
        assert_eq!(baseline.known.len(), 2);
        assert!(baseline.knows("vectors/load/a", Verdict::Violation));
        assert!(baseline.knows("kill/b", Verdict::Divergence));
        assert!(!baseline.knows("kill/b", Verdict::Violation));
        assert!(!baseline.knows("vectors/load/c", Verdict::Pass));
    }

    #[test]
    fn an_expected_findings_file_of_the_examples_is_a_baseline() {
        let text = r#"{"findings": [
            {"case": "power/old_record", "verdict": "violation", "spec": "§3.4.2", "why": "no fsync"}
        ]}"#;
        let baseline = Baseline::parse(text, "expected/x.json").expect("findings");
        assert!(baseline.knows("power/old_record", Verdict::Violation));
    }

    #[test]
    fn a_file_that_is_neither_is_refused_with_its_name_and_the_reason() {
        for (text, why) in [
            ("not json", "expected ident"),
            ("{\"summary\": {}}", "no array \"results\" or \"findings\""),
            (
                "{\"results\": [{\"verdict\": \"violation\"}]}",
                "entry 0 has no string \"case\"",
            ),
            (
                "{\"results\": [{\"case\": \"a\", \"verdict\": \"bad\"}]}",
                "unknown verdict \"bad\"",
            ),
        ] {
            let err = Baseline::parse(text, "b.json").expect_err(text);
            assert!(err.contains("the baseline b.json"), "{err}");
            assert!(err.contains(why), "{err}");
        }
    }
}
