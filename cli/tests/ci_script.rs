//! The CI recipe for other projects, outside GitHub Actions:
//! `ci/lifecycle-check.sh` run with `bash` and its inputs in the
//! environment, as GitLab CI, Jenkins or a shell runs it, and `action.yml`,
//! the GitHub Action that calls it.
//!
//! The built-in store behind `lifecycle adapter` passes (exit 0) and a
//! store whose adapter turns every refused record into an I/O error fails
//! (exit 1); the JSON report of that run given back as the baseline passes,
//! and a baseline whose findings are fixed lists them; the job summary
//! gets the Markdown report and `$GITHUB_OUTPUT` the exit code, the
//! violations of the JSON summary and the reports' paths, only when
//! GitHub's variables are set; a missing adapter, a baseline that does
//! not exist, an unmatched quote in the extra options are refused with
//! exit 2 before anything runs; without strace the traced suites are
//! announced as blind spots, or, when strace must be installed and cannot
//! be, the run stops with exit 3. Every path here has a space in it.
//! Every input the action declares reaches the script (or is the action's
//! own, named here), every variable the script reads is set by the
//! action, and their defaults agree; the action's shell steps, run as
//! GitHub's runner runs them, upload the reports and fail last with
//! lifecycle's exit code. The README's table names every input and its
//! variable, and its example workflow gives only inputs of the action.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::LIFECYCLE;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn script_path() -> PathBuf {
    repo().join("ci/lifecycle-check.sh")
}

fn script_text() -> String {
    fs::read_to_string(script_path()).expect("ci/lifecycle-check.sh is readable")
}

/// The environment variables the script reads: `LIFECYCLE` and every
/// `LIFECYCLE_…` named in its text.
fn script_variables() -> BTreeSet<String> {
    let text = script_text();
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("LIFECYCLE") {
        let rest = &text[at..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let before = text[..at].chars().next_back();
        // `LIFECYCLE` inside another word (`MY_LIFECYCLE`) is not one.
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.insert(name.trim_end_matches('_').to_string());
        }
    }
    names
}

/// A directory whose path has a space in it.
fn spaced_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ci script ")
        .tempdir()
        .expect("a temp dir")
}

/// `word` quoted for `sh -c`.
fn sh_word(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The place of one run: a working directory, the `lifecycle` binary
/// linked into a directory with a space, and GitHub's two files.
struct Place {
    _dir: tempfile::TempDir,
    root: PathBuf,
    work: PathBuf,
    lifecycle: PathBuf,
    summary: PathBuf,
    outputs: PathBuf,
}

impl Place {
    fn new() -> Place {
        let dir = spaced_dir();
        let root = dir.path().to_path_buf();
        let work = root.join("work dir");
        let bin = root.join("bin dir");
        fs::create_dir_all(&work).expect("work dir");
        fs::create_dir_all(&bin).expect("bin dir");
        let lifecycle = bin.join("lifecycle");
        std::os::unix::fs::symlink(LIFECYCLE, &lifecycle).expect("lifecycle linked");
        Place {
            _dir: dir,
            summary: root.join("step summary.md"),
            outputs: root.join("github output.txt"),
            root,
            work,
            lifecycle,
        }
    }

    /// The built-in store, a conforming one.
    fn conforming_adapter(&self) -> String {
        format!("{} adapter", sh_word(&self.lifecycle.display().to_string()))
    }

    /// The built-in store, with every `invalid_record` error its adapter
    /// sends turned into an `io` error: each record a save must refuse
    /// looks as if the save had failed on the disk, a violation.
    fn broken_adapter(&self) -> String {
        format!(
            r#"{} | sed -u 's/"class":"invalid_record"/"class":"io","errno":"EIO"/'"#,
            self.conforming_adapter()
        )
    }

    /// The script with `inputs`, in GitHub Actions' place (both files
    /// set) when `github`.
    fn run(&self, github: bool, inputs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(script_path()).current_dir(&self.root);
        // Nothing of the caller's environment is an input here, and no
        // GitHub file of a CI this test may itself run in is written.
        for name in script_variables() {
            cmd.env_remove(name);
        }
        for name in ["GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS"] {
            cmd.env_remove(name);
        }
        if github {
            cmd.env("GITHUB_STEP_SUMMARY", &self.summary)
                .env("GITHUB_OUTPUT", &self.outputs);
        }
        cmd.env("LIFECYCLE", &self.lifecycle)
            .env("LIFECYCLE_WORKING_DIRECTORY", &self.work)
            // The tests run side by side on two cores: a request may wait
            // for the processor longer than the default 2 s.
            .env("LIFECYCLE_ARGS", "--timeout 10")
            .envs(inputs.iter().copied());
        cmd.output().expect("bash runs the script")
    }

    /// The `name=value` lines the script wrote to `$GITHUB_OUTPUT`.
    fn outputs(&self) -> BTreeMap<String, String> {
        fs::read_to_string(&self.outputs)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

fn said(output: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts the script refused its inputs (exit 2) saying `why`; gives what
/// it printed.
fn refused(output: &Output, why: &str) -> String {
    let printed = said(output);
    assert_eq!(output.status.code(), Some(2), "{printed}");
    assert!(printed.contains(why), "{printed}");
    printed
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the JSON report {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the JSON report {} parses: {e}", path.display()))
}

const FAST: &str = "smoke vectors";

#[test]
fn a_conforming_store_passes_and_the_summary_the_reports_and_the_outputs_are_written() {
    let place = Place::new();
    let adapter = place.conforming_adapter();
    let output = place.run(
        true,
        &[
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_SUITES", FAST),
            ("LIFECYCLE_JSON", "reports here/lifecycle report.json"),
            ("LIFECYCLE_MARKDOWN", "reports here/lifecycle report.md"),
        ],
    );
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");

    let json_path = place.work.join("reports here/lifecycle report.json");
    let report = read_json(&json_path);
    assert_eq!(report["summary"]["violation"], 0, "{printed}");
    assert!(report["seconds"]["vectors"].is_number(), "{report}");

    let markdown = fs::read_to_string(place.work.join("reports here/lifecycle report.md"))
        .expect("the Markdown report is written");
    let summary = fs::read_to_string(&place.summary).expect("the job summary is written");
    assert!(summary.starts_with("## lifecycle check"), "{summary}");
    assert_eq!(summary, markdown, "the summary is the Markdown report");
    assert!(summary.contains("| vectors |"), "{summary}");

    let outputs = place.outputs();
    assert_eq!(outputs.get("exit-code").map(String::as_str), Some("0"));
    assert_eq!(outputs.get("violations").map(String::as_str), Some("0"));
    assert_eq!(
        outputs.get("json").map(PathBuf::from),
        Some(json_path),
        "{outputs:?}"
    );
}

#[test]
fn a_broken_store_fails_and_passes_with_its_own_report_as_baseline_which_lists_what_is_fixed() {
    let place = Place::new();
    let broken = place.broken_adapter();
    let output = place.run(
        true,
        &[("LIFECYCLE_ADAPTER", &broken), ("LIFECYCLE_SUITES", FAST)],
    );
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(1), "{printed}");
    let report = read_json(&place.work.join("lifecycle-report.json"));
    let violations = report["summary"]["violation"].as_u64().expect("a count");
    assert!(violations > 0, "{printed}");
    let outputs = place.outputs();
    assert_eq!(outputs.get("exit-code").map(String::as_str), Some("1"));
    assert_eq!(
        outputs.get("violations"),
        Some(&violations.to_string()),
        "the count of the JSON summary"
    );
    let summary = fs::read_to_string(&place.summary).expect("the job summary is written");
    assert!(
        summary.starts_with("## lifecycle check") && summary.contains("### Findings"),
        "{summary}"
    );

    // That report, committed as the baseline: the same findings pass.
    let baseline_dir = place.work.join("known findings");
    fs::create_dir_all(&baseline_dir).expect("a dir");
    fs::copy(
        place.work.join("lifecycle-report.json"),
        baseline_dir.join("lifecycle baseline.json"),
    )
    .expect("baseline copied");
    let baseline = "known findings/lifecycle baseline.json";
    let output = place.run(
        false,
        &[
            ("LIFECYCLE_ADAPTER", &broken),
            ("LIFECYCLE_SUITES", FAST),
            ("LIFECYCLE_BASELINE", baseline),
        ],
    );
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    let report = read_json(&place.work.join("lifecycle-report.json"));
    assert_eq!(report["summary"]["violation"], violations, "{printed}");
    assert_eq!(report["baseline"]["new"], Value::Array(vec![]), "{printed}");

    // The store fixed: the baseline's findings are listed as fixed, so it
    // can be tightened.
    let conforming = place.conforming_adapter();
    let output = place.run(
        false,
        &[
            ("LIFECYCLE_ADAPTER", &conforming),
            ("LIFECYCLE_SUITES", FAST),
            ("LIFECYCLE_BASELINE", baseline),
        ],
    );
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    let report = read_json(&place.work.join("lifecycle-report.json"));
    let fixed = report["baseline"]["fixed"]
        .as_array()
        .expect("fixed listed");
    assert_eq!(fixed.len() as u64, violations, "{printed}");
    let markdown =
        fs::read_to_string(place.work.join("lifecycle-report.md")).expect("Markdown written");
    assert!(
        markdown.contains("no longer found: remove it from the baseline"),
        "{markdown}"
    );
}

#[test]
fn without_github_variables_only_the_reports_are_written() {
    let place = Place::new();
    let adapter = place.conforming_adapter();
    let output = place.run(
        false,
        &[
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_SUITES", "smoke"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", said(&output));
    let mut written: Vec<String> = fs::read_dir(&place.work)
        .expect("the work dir")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    written.sort();
    assert_eq!(written, ["lifecycle-report.json", "lifecycle-report.md"]);
    assert!(!place.summary.exists() && !place.outputs.exists());
    assert!(!String::from_utf8_lossy(&output.stdout).contains("::"));
}

#[test]
fn a_missing_adapter_is_refused_with_exit_2_and_a_clear_message() {
    let place = Place::new();
    for inputs in [&[][..], &[("LIFECYCLE_ADAPTER", "  ")][..]] {
        let output = place.run(true, inputs);
        refused(&output, "no adapter: set LIFECYCLE_ADAPTER");
        assert!(!place.work.join("lifecycle-report.json").exists());
        assert_eq!(
            place.outputs().get("exit-code").map(String::as_str),
            Some("2")
        );
        fs::remove_file(&place.outputs).expect("outputs removed");
    }
    // In GitHub Actions it is an annotation too.
    let output = place.run(true, &[("GITHUB_ACTIONS", "true")]);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("::error title=lifecycle-check::no adapter"),
        "{}",
        said(&output)
    );
}

#[test]
fn a_baseline_that_does_not_exist_is_refused_with_exit_2_before_the_check_runs() {
    let place = Place::new();
    let adapter = place.conforming_adapter();
    let output = place.run(
        true,
        &[
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_BASELINE", "known findings/nowhere.json"),
        ],
    );
    let printed = refused(
        &output,
        "the baseline known findings/nowhere.json does not exist",
    );
    assert!(
        !printed.contains("lifecycle check:"),
        "the check ran: {printed}"
    );
    assert!(!place.work.join("lifecycle-report.json").exists());
    assert!(!place.summary.exists());
}

#[test]
fn the_report_cannot_overwrite_the_baseline_it_is_checked_against() {
    let place = Place::new();
    let adapter = place.conforming_adapter();
    fs::write(
        place.work.join("lifecycle-report.json"),
        "{\"results\": []}",
    )
    .expect("written");
    let output = place.run(
        true,
        &[
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_BASELINE", "lifecycle-report.json"),
        ],
    );
    refused(&output, "is the JSON report this run writes");
    assert_eq!(
        fs::read_to_string(place.work.join("lifecycle-report.json")).expect("kept"),
        "{\"results\": []}"
    );
}

#[test]
fn extra_options_are_split_as_xargs_splits_words_and_an_unmatched_quote_is_refused() {
    let place = Place::new();
    let adapter = place.conforming_adapter();
    let output = place.run(
        true,
        &[
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_SUITES", "smoke\nvectors"),
            (
                "LIFECYCLE_ARGS",
                "--timeout 10 --run 'smoke/*' --junit \"junit report.xml\"",
            ),
        ],
    );
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    let report = read_json(&place.work.join("lifecycle-report.json"));
    let suites: BTreeSet<&str> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["suite"].as_str())
        .collect();
    assert_eq!(
        suites,
        BTreeSet::from(["smoke"]),
        "--run 'smoke/*' kept whole"
    );
    assert!(place.work.join("junit report.xml").exists(), "{printed}");

    let output = place.run(
        true,
        &[
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_ARGS", "--junit 'junit report.xml"),
        ],
    );
    refused(&output, "an unmatched quote");
}

#[test]
fn a_usage_error_of_lifecycle_passes_through_with_a_summary_that_says_so() {
    let place = Place::new();
    let adapter = place.conforming_adapter();
    let output = place.run(
        true,
        &[
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_SUITES", "smoke no-such-suite"),
        ],
    );
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(2), "{printed}");
    let summary = fs::read_to_string(&place.summary).expect("a summary");
    assert!(
        summary.starts_with("## lifecycle check") && summary.contains("exited 2"),
        "{summary}"
    );
    assert_eq!(
        place.outputs().get("exit-code").map(String::as_str),
        Some("2")
    );
}

/// A directory of links to every program on `PATH` but `hidden`.
fn path_without(hidden: &[&str], into: &Path) -> PathBuf {
    let dir = into.join("path without strace");
    fs::create_dir_all(&dir).expect("a dir");
    let path = std::env::var_os("PATH").unwrap_or_default();
    for bin in std::env::split_paths(&path) {
        let Ok(entries) = fs::read_dir(&bin) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = dir.join(&name);
            if hidden.iter().any(|h| name == *h) || link.symlink_metadata().is_ok() {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), &link).expect("linked");
        }
    }
    dir
}

#[test]
fn without_strace_the_traced_suites_are_blind_spots_unless_it_must_be_installed() {
    let place = Place::new();
    let path = path_without(&["strace", "apt-get", "sudo"], &place.root);
    let adapter = place.conforming_adapter();
    let path = path.display().to_string();
    let inputs = [
        ("PATH", path.as_str()),
        ("LIFECYCLE_ADAPTER", &adapter),
        ("LIFECYCLE_SUITES", "smoke power"),
    ];
    let output = place.run(true, &inputs);
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("strace is not installed: the traced suites"),
        "{printed}"
    );
    let summary = fs::read_to_string(&place.summary).expect("a summary");
    assert!(summary.contains("**Blind spots:**"), "{summary}");

    // Suites that trace nothing need no strace, and say nothing of it.
    let output = place.run(
        false,
        &[
            ("PATH", path.as_str()),
            ("LIFECYCLE_ADAPTER", &adapter),
            ("LIFECYCLE_SUITES", "smoke"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", said(&output));
    assert!(!said(&output).contains("strace"));

    // Asked to install it, with no way to: the run stops.
    let mut asked = inputs.to_vec();
    asked.push(("LIFECYCLE_INSTALL_STRACE", "true"));
    fs::remove_file(place.work.join("lifecycle-report.json")).expect("removed");
    let output = place.run(true, &asked);
    let printed = said(&output);
    assert_eq!(output.status.code(), Some(3), "{printed}");
    assert!(
        printed.contains(
            "strace was asked for (LIFECYCLE_INSTALL_STRACE=true) and could not be installed"
        ),
        "{printed}"
    );
    assert!(!place.work.join("lifecycle-report.json").exists());
}

/// action.yml, parsed.
fn action() -> serde_yaml::Value {
    let text = fs::read_to_string(repo().join("action.yml")).expect("action.yml is readable");
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

fn steps(action: &serde_yaml::Value) -> &Vec<serde_yaml::Value> {
    action["runs"]["steps"]
        .as_sequence()
        .expect("runs.steps is a list")
}

fn step<'a>(action: &'a serde_yaml::Value, id: &str) -> &'a serde_yaml::Value {
    steps(action)
        .iter()
        .find(|s| s["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("a step with id {id}"))
}

/// The environment variable of the script an input of the action is.
fn variable_of(input: &str) -> String {
    format!("LIFECYCLE_{}", input.to_uppercase().replace('-', "_"))
}

/// Inputs the action uses itself instead of passing them to the script:
/// the input, the step that takes it, and what that step reads.
const ACTION_ONLY: [(&str, &str, &str); 2] = [
    // Found or built by the step `prepare`, whose output is the script's
    // LIFECYCLE.
    ("lifecycle", "prepare", "env.INPUT_LIFECYCLE"),
    ("artifact-name", "upload", "with.name"),
];

#[test]
fn every_input_of_the_action_reaches_the_script_and_every_variable_of_the_script_is_set() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_mapping().expect("inputs");
    let check = step(&action, "check");
    assert!(
        check["run"]
            .as_str()
            .is_some_and(|r| r.contains("ci/lifecycle-check.sh")),
        "the step check runs the script"
    );
    let env = check["env"].as_mapping().expect("the step check has env");
    let env: BTreeMap<&str, &str> = env
        .iter()
        .map(|(k, v)| (k.as_str().expect("a name"), v.as_str().expect("a value")))
        .collect();
    let mut problems = Vec::new();
    for name in inputs.keys().map(|k| k.as_str().expect("an input name")) {
        let used = format!("${{{{ inputs.{name} }}}}");
        match ACTION_ONLY.iter().find(|(input, _, _)| *input == name) {
            Some((_, id, member)) => {
                let (outer, inner) = member.split_once('.').expect("a dotted member");
                let found = step(&action, id)[outer][inner].as_str();
                if found != Some(used.as_str()) {
                    problems.push(format!(
                        "{name}: step {id} {member} is {found:?}, not {used}"
                    ));
                }
            }
            None => {
                let variable = variable_of(name);
                if env.get(variable.as_str()) != Some(&used.as_str()) {
                    problems.push(format!("{name}: the step check has no {variable}: {used}"));
                }
            }
        }
    }
    let script = script_variables();
    for variable in &script {
        if !env.contains_key(variable.as_str()) {
            problems.push(format!(
                "the script reads {variable}, which the action does not set"
            ));
        }
    }
    for variable in env.keys() {
        if !script.contains(*variable) {
            problems.push(format!(
                "the action sets {variable}, which the script does not read"
            ));
        }
    }
    assert_eq!(
        env.get("LIFECYCLE"),
        Some(&"${{ steps.prepare.outputs.lifecycle }}")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_action_and_the_script_have_the_same_defaults() {
    let action = action();
    let text = script_text();
    // Defaults the action chooses otherwise on purpose: a GitHub runner
    // has sudo, so the traced suites run there without asking.
    let chosen = BTreeMap::from([("install-strace", ("true", "false"))]);
    let mut compared = 0;
    for (name, input) in action["inputs"].as_mapping().expect("inputs") {
        let name = name.as_str().expect("a name");
        let Some(default) = input["default"].as_str().filter(|d| !d.is_empty()) else {
            continue;
        };
        let variable = variable_of(name);
        let Some(script_default) = text
            .split(&format!("${{{variable}:-"))
            .nth(1)
            .and_then(|rest| rest.split_once('}'))
            .map(|(default, _)| default)
        else {
            continue;
        };
        compared += 1;
        match chosen.get(name) {
            Some(&(in_action, in_script)) => {
                assert_eq!((default, script_default), (in_action, in_script), "{name}")
            }
            None => assert_eq!(default, script_default, "the default of {name}"),
        }
    }
    assert!(
        compared >= 4,
        "json, markdown, working-directory, install-strace"
    );
}

#[test]
fn the_action_steps_run_no_expression_in_a_shell_and_parse_as_bash() {
    let action = action();
    for step in steps(&action) {
        let Some(run) = step["run"].as_str() else {
            assert!(step["uses"].is_string(), "a step runs or uses: {step:?}");
            continue;
        };
        // `${{ … }}` in a script is pasted in before the shell reads it:
        // inputs reach the shell through env only.
        assert!(!run.contains("${{"), "{run}");
        assert_eq!(step["shell"].as_str(), Some("bash"), "{run}");
        let output = Command::new("bash")
            .args(["-n", "-c", run])
            .output()
            .expect("bash runs");
        assert!(output.status.success(), "{run}\n{}", said(&output));
    }
}

/// The action's steps as GitHub's runner takes them, for the steps that
/// run a shell (those that use another action are only judged: would
/// they run?). Expressions: `inputs.NAME`, `steps.ID.outputs.NAME`,
/// `always()`, `==`, `!=` and `&&`, all the action uses in what runs.
struct Runner<'a> {
    action: &'a serde_yaml::Value,
    inputs: BTreeMap<String, String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    failed: bool,
    /// Each step's name, and whether it ran (for `uses` steps: whether it
    /// would have).
    ran: Vec<(String, bool)>,
    /// The exit code of the step that failed the action.
    exit: Option<i32>,
}

impl<'a> Runner<'a> {
    fn new(action: &'a serde_yaml::Value, given: &[(&str, &str)]) -> Runner<'a> {
        let mut inputs = BTreeMap::new();
        for (name, input) in action["inputs"].as_mapping().expect("inputs") {
            let default = input["default"].as_str().unwrap_or("");
            inputs.insert(
                name.as_str().expect("a name").to_string(),
                default.to_string(),
            );
        }
        for (name, value) in given {
            assert!(inputs.contains_key(*name), "the action has no input {name}");
            inputs.insert(name.to_string(), value.to_string());
        }
        Runner {
            action,
            inputs,
            outputs: BTreeMap::new(),
            failed: false,
            ran: Vec::new(),
            exit: None,
        }
    }

    fn eval(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some(name) = expr.strip_prefix("inputs.") {
            return self.inputs.get(name).cloned().unwrap_or_default();
        }
        if let Some((id, name)) = expr
            .strip_prefix("steps.")
            .and_then(|rest| rest.split_once(".outputs."))
        {
            return self
                .outputs
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default();
        }
        panic!("an expression this test does not know: {expr}");
    }

    /// `text` with each `${{ … }}` evaluated.
    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("${{") {
            out.push_str(&rest[..at]);
            let (expr, after) = rest[at + 3..].split_once("}}").expect("a closed ${{");
            out.push_str(&self.eval(expr));
            rest = after;
        }
        out + rest
    }

    fn runs(&self, step: &serde_yaml::Value) -> bool {
        let Some(text) = step["if"].as_str() else {
            return !self.failed;
        };
        let mut always = false;
        let mut holds = true;
        for term in text.split("&&").map(str::trim) {
            if term == "always()" {
                always = true;
                continue;
            }
            let (lhs, rhs, equal) = match term.split_once("==") {
                Some((l, r)) => (l, r, true),
                None => {
                    let (l, r) = term.split_once("!=").expect("== or !=");
                    (l, r, false)
                }
            };
            let literal = rhs.trim().trim_matches('\'');
            holds &= (self.eval(lhs) == literal) == equal;
        }
        holds && (always || !self.failed)
    }

    /// Runs every step in `workspace`, the job summary in `summary`.
    fn run(&mut self, workspace: &Path, summary: &Path) {
        self.run_until(workspace, summary, None);
    }

    /// Runs the steps before the one named `last` (every step when none).
    fn run_until(&mut self, workspace: &Path, summary: &Path, last: Option<&str>) {
        let scratch = spaced_dir();
        let steps = steps(self.action).clone();
        for (n, step) in steps.iter().enumerate() {
            let name = step["name"].as_str().unwrap_or("a step").to_string();
            if last == Some(name.as_str()) {
                return;
            }
            let runs = self.runs(step);
            self.ran.push((name, runs));
            let Some(script) = step["run"].as_str().filter(|_| runs) else {
                continue;
            };
            let file = scratch.path().join(format!("step {n}.sh"));
            fs::write(&file, script).expect("the step's script");
            let outputs = scratch.path().join(format!("step {n} outputs"));
            fs::write(&outputs, "").expect("an output file");
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&file)
                .current_dir(workspace);
            for name in script_variables() {
                cmd.env_remove(name);
            }
            cmd.env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTION_PATH", repo())
                .env("GITHUB_OUTPUT", &outputs)
                .env("GITHUB_STEP_SUMMARY", summary);
            if let Some(env) = step["env"].as_mapping() {
                for (k, v) in env {
                    let value = self.substitute(v.as_str().expect("an env value"));
                    cmd.env(k.as_str().expect("an env name"), value);
                }
            }
            let output = cmd.output().expect("bash runs the step");
            if let Some(id) = step["id"].as_str() {
                let written = fs::read_to_string(&outputs).expect("the outputs");
                let map = written
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()));
                self.outputs.entry(id.to_string()).or_default().extend(map);
            }
            if !output.status.success() && !self.failed {
                self.failed = true;
                self.exit = output.status.code();
            }
        }
    }

    fn ran(&self, name: &str) -> bool {
        self.ran
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no step {name}"))
            .1
    }

    /// The action's output `name`.
    fn output(&self, name: &str) -> String {
        let value = self.action["outputs"][name]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("the action has no output {name}"));
        self.substitute(value)
    }
}

#[test]
fn the_action_uploads_the_reports_and_fails_with_the_exit_code_of_lifecycle_last() {
    let action = action();
    let place = Place::new();
    let lifecycle = place.lifecycle.display().to_string();
    let broken = place.broken_adapter();
    let work = place.work.display().to_string();
    let mut runner = Runner::new(
        &action,
        &[
            ("adapter", &broken),
            ("suites", FAST),
            ("args", "--timeout 10"),
            ("lifecycle", &lifecycle),
            ("working-directory", &work),
        ],
    );
    runner.run(&place.root, &place.summary);
    assert!(!runner.ran("Build lifecycle"), "the binary was given");
    assert!(runner.ran("lifecycle check") && runner.ran("Upload the reports"));
    assert_eq!(runner.exit, Some(1), "{:?}", runner.ran);
    let last = runner.ran.last().expect("steps");
    assert_eq!(last, &("Fail with lifecycle's exit code".to_string(), true));
    let report = read_json(&place.work.join("lifecycle-report.json"));
    assert_eq!(runner.output("exit-code"), "1");
    assert_eq!(
        runner.output("violations"),
        report["summary"]["violation"].to_string()
    );
    assert_eq!(
        PathBuf::from(runner.output("json")),
        place.work.join("lifecycle-report.json")
    );
    let summary = fs::read_to_string(&place.summary).expect("the job summary");
    assert!(summary.starts_with("## lifecycle check"), "{summary}");

    // No adapter: refused, nothing to upload, the action fails with 2.
    let mut runner = Runner::new(&action, &[("adapter", ""), ("lifecycle", &lifecycle)]);
    runner.run(&place.root, &place.summary);
    assert!(!runner.ran("Upload the reports"));
    assert_eq!(runner.exit, Some(2), "{:?}", runner.ran);
    assert_eq!(runner.output("exit-code"), "2");
}

#[test]
fn without_a_binary_the_action_builds_one_cached_under_a_hash_of_its_source() {
    let action = action();
    let place = Place::new();
    let mut keys = BTreeSet::new();
    for _ in 0..2 {
        let mut runner = Runner::new(&action, &[("adapter", "true")]);
        runner.run_until(&place.root, &place.summary, Some("Build lifecycle"));
        assert_eq!(runner.exit, None, "{:?}", runner.ran);
        let prepared = &runner.outputs["prepare"];
        assert_eq!(prepared["build"], "true");
        let key = &prepared["key"];
        assert!(
            key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()),
            "{key}"
        );
        keys.insert(key.clone());
        assert!(
            prepared["lifecycle"].starts_with(&prepared["root"])
                && prepared["lifecycle"].ends_with("/bin/lifecycle"),
            "{prepared:?}"
        );
        // No cache hit: the build step runs.
        let build = steps(&action)
            .iter()
            .find(|s| s["name"].as_str() == Some("Build lifecycle"))
            .expect("a build step");
        assert!(runner.runs(build));
        assert!(build["run"]
            .as_str()
            .is_some_and(|r| r.contains("cargo install --locked --path")));
    }
    assert_eq!(keys.len(), 1, "the same source, the same key: {keys:?}");
}

/// The README's section "lifecycle check in your CI".
fn readme_section() -> String {
    let text = fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = text
        .find("## lifecycle check in your CI")
        .expect("the README's section");
    let rest = &text[start + 3..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

#[test]
fn the_readme_names_every_input_and_its_example_uses_only_inputs_of_the_action() {
    let action = action();
    let section = readme_section();
    let inputs: BTreeSet<&str> = action["inputs"]
        .as_mapping()
        .expect("inputs")
        .keys()
        .map(|k| k.as_str().expect("a name"))
        .collect();
    // The table: `input` | `VARIABLE` | …
    let rows: BTreeMap<&str, &str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| {
            let (input, rest) = l.split_once("` | ")?;
            let variable = rest.split(" | ").next()?.trim_matches('`');
            Some((input, variable))
        })
        .collect();
    assert_eq!(rows.keys().copied().collect::<BTreeSet<_>>(), inputs);
    let variables: BTreeSet<String> = rows
        .values()
        .filter(|v| **v != "—")
        .map(|v| v.to_string())
        .collect();
    assert_eq!(variables, script_variables(), "the table's variables");

    let example = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a YAML example");
    let workflow: serde_yaml::Value = serde_yaml::from_str(example).expect("the example parses");
    let steps = workflow["jobs"]["lifecycle"]["steps"]
        .as_sequence()
        .expect("the example's steps");
    let uses = steps
        .iter()
        .find(|s| s["uses"].as_str() == Some("<owner>/<repo>@<ref>"))
        .expect("a step uses the action");
    let given: BTreeSet<&str> = uses["with"]
        .as_mapping()
        .expect("with")
        .keys()
        .map(|k| k.as_str().expect("a name"))
        .collect();
    assert!(given.is_subset(&inputs), "{given:?} not all in {inputs:?}");
    for (name, input) in action["inputs"].as_mapping().expect("inputs") {
        if input["required"].as_bool() == Some(true) {
            let name = name.as_str().expect("a name");
            assert!(given.contains(name), "the example gives {name}");
        }
    }
    for output in ["violations", "exit-code", "json"] {
        assert!(action["outputs"][output]["value"].is_string(), "{output}");
    }
}
