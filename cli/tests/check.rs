//! `lifecycle check`: the oracle run end to end, as a maintainer runs it.
//!
//! The built-in store passes every suite, in process and through `lifecycle
//! adapter`; the strict Python store passes too; the Python original is
//! reported with its real defects; eleven Python stores broken one way each
//! are each caught under the right SPEC section; Python stores that make
//! the choices requirements §7 leaves open (a millisecond or whole-second
//! clock, a depth-limited JSON library) pass, and three that take a third
//! way (a clock rounded up, `1e400` saved as "Infinity", a lone surrogate
//! saved as an escape) are caught; broken save protocols are
//! each caught by the traced suite that owns them (`power`, `kill`,
//! `faults`, `permissions`), with strace lines in the reproduction;
//! an adapter that hangs, dies,
//! prints garbage or an endless line at one request gets a finding on that
//! case and the run goes on (every suite, and the oracle's memory
//! bounded); one that fails ten cases in a row, or speaks another version,
//! ends the run; every rerun command a report prints runs its case.
//! Every verdict of the built-in store, the strict Python store and the
//! Python original is compared with the data committed in
//! `cli/tests/expected/`, so a change of the oracle that changes a verdict
//! shows. Tests that need `python3`, `strace` or `../shared` say so and
//! skip when absent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::thread;

use common::LIFECYCLE;
use lifecycle_oracle::schema::Schema;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn python() -> bool {
    let found = Command::new("python3").arg("--version").output().is_ok();
    if !found {
        eprintln!("skipped: python3 is not installed");
    }
    found
}

fn seed() -> Option<PathBuf> {
    let seed = repo().join("../shared/seeds/lifecycle_state.py");
    if !seed.exists() {
        eprintln!("skipped: {} is absent", seed.display());
        return None;
    }
    Some(seed)
}

/// The Python interpreter itself: a version manager's `python3` shim
/// (pyenv's) starts a shell and several processes before Python, which
/// the traced suites would pay at every one of their runs.
fn interpreter() -> &'static str {
    static FOUND: OnceLock<String> = OnceLock::new();
    FOUND.get_or_init(|| {
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty() && !p.contains(char::is_whitespace))
            .unwrap_or_else(|| "python3".to_string())
    })
}

fn python_adapter(module: &Path) -> String {
    adapter_script_for(&repo().join("adapters/python/lifecycle_adapter.py"), module)
}

/// The Python adapter script `adapter` for the store `module`.
fn adapter_script_for(adapter: &Path, module: &Path) -> String {
    format!(
        "{} {} --module {}",
        interpreter(),
        adapter.display(),
        module.display()
    )
}

/// `lifecycle check ARGS…` with a JSON report: the exit code, the report,
/// and what it printed.
fn check(args: &[&str]) -> (i32, Value, String) {
    check_with(&[], args)
}

/// [`check`] with `env` added to the environment.
fn check_with(env: &[(&str, &str)], args: &[&str]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("report.json");
    // The tests run side by side on two cores: a request may wait for the
    // processor longer than the default 2 s, which is no hang. The tests
    // of hangs set their own.
    let timeout: &[&str] = if args.contains(&"--timeout") {
        &[]
    } else {
        &["--timeout", "10"]
    };
    let output: Output = Command::new(LIFECYCLE)
        .envs(env.iter().copied())
        .arg("check")
        .args(timeout)
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("lifecycle runs");
    outcome(&output, &json)
}

/// The JSON report a run wrote to `json` (null when it wrote none).
fn read_report(json: &Path) -> Value {
    fs::read_to_string(json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// What a run that wrote its report to `json` came to: its exit code, the
/// report, and what it printed. Every report is valid by
/// `protocol/report.schema.json`, and every finding of every run of these tests
/// (the built-in store, the original, each broken store and adapter) cites
/// the section [`SECTIONS`] gives its rule.
fn outcome(output: &Output, json: &Path) -> (i32, Value, String) {
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_report(json);
    if !report.is_null() {
        let valid = Schema::report().check("report", &report);
        assert_eq!(
            valid,
            Ok(()),
            "the report breaks protocol/report.schema.json"
        );
    }
    assert_sections_as_in_the_table(&report);
    (output.status.code().unwrap_or(-1), report, printed)
}

/// The most specific section of the SPEC each rule a finding can name
/// breaks, written down apart from the code that cites it. A rule of §1
/// that a load or a save lets through is cited under the section of the
/// class of §1.6 its input breaks ([`not_a_record_section`]).
const SECTIONS: &[(&str, &[&str])] = &[
    ("a save is atomic: the record path holds the complete old record or the complete new one", &["§3.4.1"]),
    ("an interrupted writer leaves the record path holding one of the files the SPEC allows", &["§3.4.1"]),
    ("once save returns success, the new record survives a power loss", &["§3.4.2"]),
    ("the record file has mode 0600 whenever it is visible", &["§3.6"]),
    ("every directory a save makes has mode 0700, and is never more open than that", &["§3.6"]),
    ("the adapter starts under any umask", &["§3.6"]),
    ("a save whose write, sync or rename fails returns the error, leaves the old record intact and removes what it made", &["§3.5.1"]),
    ("a killed save leaves no file outside the record's directory, where no writer sweeps it", &["§3.3"]),
    ("a power loss leaves no file of a save outside the record's directory, where no writer sweeps it", &["§3.3"]),
    ("a save after a killed save succeeds and leaves its record", &["§3.3"]),
    ("a completed operation leaves no file but the record, its sidecars and preserved copies", &["§3.3"]),
    ("after a writer wrote, the record file holds the record it wrote", &["§3.2", "§3.3"]),
    ("the record file holds the record's serialized form", &["§3.2"]),
    ("the next writer holding the lock sweeps what a killed save left", &["§3.7"]),
    ("a writer that loaded a readable file sweeps stale temp files", &["§3.7"]),
    ("a dispatch after a killed save succeeds", &["§4.3"]),
    ("load returns a record and never fails", &["§2.2.4"]),
    ("every request gets an answer of the protocol", &["§2.2.4"]),
    ("load does not block on a FIFO", &["§2.2.2"]),
    ("load writes nothing", &["§2.2.5"]),
    ("load says what it found: valid, missing, corrupt or unreadable", &["§2.1"]),
    ("a writer says what its load found", &["§2.1"]),
    ("load returns the stored record of a valid file, else the default", &["§2.1"]),
    ("load returns a record of SPEC §1 with every known member", &["§2.3"]),
    ("a result carries a record", &["§2.3"]),
    ("on a point requirements §7 leaves open, load returns the stored record or the default", &["§2.1", "§2.2.4"]),
    ("unknown members are kept as written, by load and by save (their numbers as binary64 values, requirements §7)", &["§1.5"]),
    ("unknown members survive a save and a load", &["§1.5"]),
    ("a load of a saved valid record returns that record", &["§3.2"]),
    ("a record on a point of requirements §7 is saved and loaded back as itself, or refused as invalid", &["§3", "§3.2"]),
    ("save of a valid record succeeds", &["§3", "§3.1"]),
    ("save refuses a record that breaks SPEC §1", &["§3.1"]),
    ("save refuses a record that breaks SPEC §1 as an invalid record", &["§3.1"]),
    ("a refused save names the field that breaks SPEC §1", &["§3.1"]),
    ("a refused save of an invalid record touches nothing", &["§3.1"]),
    ("a writer that fails or is refused writes nothing", &["§3.1", "§3.5.1", "§4.3", "§5.1"]),
    ("the default record is the one of SPEC §1.7 at now", &["§1.7"]),
    ("a load while a writer saves returns a record that was saved, never older than one it returned before", &["§6.1"]),
    ("the adapter starts for each reader and the writer", &["§6.1"]),
    ("dispatch reports a transition exactly when the state changed", &["§4.2"]),
    ("dispatch reports the shutdown signal of step 7", &["§4.3"]),
    ("wrapper_event_seq never goes backwards", &["§4.3"]),
    ("a writer that replaces a corrupt file preserves its bytes", &["§4.4"]),
    ("a writer that replaces a corrupt file keeps its exact bytes in a copy beside the record", &["§4.4"]),
    ("at most five corrupt copies remain", &["§4.4"]),
    ("a writer operation answers and writes what the SPEC's rules give for the file and the clock", &["§4.2", "§4.3", "§4.4", "§4.6", "§5.2", "§5.3", "§5.4", "§5.5", "§5.6"]),
];

/// The section of §1 a file or record that breaks §1.6 item `item` is
/// cited under: the rule of §1.1 for the encoding and syntax, the member's
/// section for item 10.
fn not_a_record_section(item: u32) -> &'static [&'static str] {
    match item {
        1 => &["§1.6"],
        2 | 3 | 4 | 8 => &["§1.1.1"],
        5 => &["§1.1.4"],
        6 => &["§1.1.3"],
        7 => &["§1.1.5"],
        9 => &["§1.2"],
        _ => &["§1.2", "§1.3", "§1.4"],
    }
}

fn assert_sections_as_in_the_table(report: &Value) {
    let mut wrong = Vec::new();
    for f in findings(report) {
        let (rule, spec, how) = (
            f["rule"].as_str().unwrap_or_default(),
            f["spec"].as_str().unwrap_or_default(),
            f["how"].as_str().unwrap_or_default(),
        );
        let allowed: &[&str] =
            if rule.starts_with("a file or record that breaks SPEC §1 is not a record") {
                let item = how
                    .strip_prefix("§1.6 item ")
                    .and_then(|rest| rest.split(',').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                not_a_record_section(item)
            } else if rule == "save of a valid record succeeds" {
                // Refused as invalid: the validation of §3.1 is wrong.
                if how == "refused as an invalid record" {
                    &["§3.1"]
                } else {
                    &["§3"]
                }
            } else if rule.starts_with("every reply to ") {
                &["PROTOCOL.md"]
            } else {
                match SECTIONS.iter().find(|(r, _)| *r == rule) {
                    Some((_, sections)) => sections,
                    None => {
                        wrong.push(format!(
                            "{}: the rule {rule:?} is not in SECTIONS",
                            f["case"]
                        ));
                        continue;
                    }
                }
            };
        if !allowed.contains(&spec) {
            wrong.push(format!(
                "{}: {spec} for the rule {rule:?} ({how}), not one of {allowed:?}",
                f["case"]
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "findings under the wrong section:\n{}",
        wrong.join("\n")
    );
}

fn results(report: &Value) -> Vec<&Value> {
    report["results"]
        .as_array()
        .map(|r| r.iter().collect())
        .unwrap_or_default()
}

/// Each result of `report` as (case, verdict, and its member `third`).
fn case_verdicts(report: &Value, third: &str) -> Vec<(String, String, String)> {
    results(report)
        .iter()
        .map(|r| {
            let field = |name: &str| r[name].as_str().unwrap_or_default().to_string();
            (field("case"), field("verdict"), field(third))
        })
        .collect()
}

fn findings(report: &Value) -> Vec<&Value> {
    results(report)
        .into_iter()
        .filter(|r| matches!(r["verdict"].as_str(), Some("violation" | "divergence")))
        .collect()
}

/// A case whose verdict depends on who runs the check (root reads a file
/// of mode 000), left out of the committed verdicts.
const DEPENDS_ON_THE_USER: &str = "vectors/path/unreadable_file";

/// What a report's verdicts are, as `cli/tests/expected/` keeps them: the
/// passes counted per suite, every other case with its verdict and section.
fn verdicts(report: &Value) -> Value {
    let mut passed: BTreeMap<&str, u64> = BTreeMap::new();
    let mut other: BTreeMap<&str, String> = BTreeMap::new();
    for r in results(report) {
        let (Some(suite), Some(case), Some(verdict)) = (
            r["suite"].as_str(),
            r["case"].as_str(),
            r["verdict"].as_str(),
        ) else {
            panic!("a result without suite, case or verdict: {r}");
        };
        if case == DEPENDS_ON_THE_USER {
            continue;
        }
        if verdict == "pass" {
            *passed.entry(suite).or_default() += 1;
        } else {
            let spec = r["spec"].as_str().unwrap_or_default();
            other.insert(case, format!("{verdict} {spec}"));
        }
    }
    serde_json::json!({ "passed": passed, "other": other })
}

/// Every verdict of `report` is the one committed in
/// `cli/tests/expected/NAME.json`: a change of the oracle that changes a
/// verdict, a section or the number of cases fails here, naming the cases.
/// `LIFECYCLE_BLESS=1` writes the file instead, for a change meant to.
fn assert_verdicts_as_committed(report: &Value, name: &str) {
    let path = repo()
        .join("cli/tests/expected")
        .join(format!("{name}.json"));
    let actual = verdicts(report);
    if std::env::var_os("LIFECYCLE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&actual).expect("JSON");
        fs::write(&path, text + "\n").expect("the expected verdicts are written");
        return;
    }
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (LIFECYCLE_BLESS=1 writes it)", path.display()));
    let expected: Value = serde_json::from_str(&text).expect("the expected verdicts are JSON");
    let mut differences = Vec::new();
    if actual["passed"] != expected["passed"] {
        differences.push(format!(
            "passes per suite: {} now, {} committed",
            actual["passed"], expected["passed"]
        ));
    }
    let (now, then) = (&actual["other"], &expected["other"]);
    let cases: BTreeSet<&String> = now
        .as_object()
        .into_iter()
        .chain(then.as_object())
        .flat_map(|o| o.keys())
        .collect();
    for case in cases {
        if now[case] != then[case] {
            differences.push(format!(
                "{case}: {} now, {} committed",
                now[case], then[case]
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "the verdicts differ from {}:\n{}",
        path.display(),
        differences.join("\n")
    );
}

/// Every suite of `lifecycle check`, by name.
const SUITES: [&str; 10] = [
    "smoke",
    "vectors",
    "traces",
    "machine",
    "sleep",
    "permissions",
    "concurrency",
    "kill",
    "faults",
    "power",
];

/// Every suite ran, and nothing but a pass, an info or an allowed skip.
fn assert_all_pass(report: &Value, printed: &str) {
    assert_eq!(findings(report), Vec::<&Value>::new(), "{printed}");
    let suites: BTreeSet<&str> = results(report)
        .iter()
        .filter(|r| r["verdict"] == "pass")
        .filter_map(|r| r["suite"].as_str())
        .collect();
    for suite in SUITES {
        assert!(
            suites.contains(suite),
            "no case of {suite} passed:\n{printed}"
        );
    }
    for r in results(report) {
        if r["verdict"] == "skipped" {
            assert_eq!(r["case"], "vectors/path/unreadable_file", "{r}");
        }
    }
}

#[test]
fn the_built_in_store_passes_every_suite_in_process() {
    let (code, report, printed) = check(&[]);
    assert_eq!(code, 0, "{printed}");
    assert_all_pass(&report, &printed);
    assert_verdicts_as_committed(&report, "built_in_store");
    assert_eq!(report["implementation"]["name"], "lifecycle-state");
    assert!(
        report["summary"]["pass"].as_u64().unwrap_or(0) > 1000,
        "{printed}"
    );
}

#[test]
fn the_built_in_store_passes_every_suite_through_lifecycle_adapter() {
    let adapter = format!("{LIFECYCLE} adapter");
    let (code, report, printed) = check(&["--adapter", &adapter]);
    assert_eq!(code, 0, "{printed}");
    assert_all_pass(&report, &printed);
    assert_verdicts_as_committed(&report, "built_in_store");
}

#[test]
fn the_strict_python_store_has_no_violation_and_no_divergence() {
    if !python() {
        return;
    }
    let store = repo().join("adapters/python/conforming_store.py");
    let (code, report, printed) = check(&["--adapter", &python_adapter(&store), "--cases", "200"]);
    assert_eq!(code, 0, "{printed}");
    assert_eq!(findings(&report), Vec::<&Value>::new(), "{printed}");
    assert_verdicts_as_committed(&report, "conforming_store");
    assert_eq!(
        report["implementation"]["capabilities"],
        serde_json::json!(["store", "clock"])
    );
}

#[test]
fn a_report_is_the_same_whatever_the_number_of_jobs() {
    let Some(seed) = seed() else { return };
    if !python() {
        return;
    }
    // The suites whose cases run side by side, on the original, which
    // fails some of each (a trace shrinks); the FIFO would only wait.
    let adapter = python_adapter(&seed);
    let run = |jobs: &str| {
        let (code, report, printed) = check(&[
            "--adapter",
            &adapter,
            "--suite",
            "vectors",
            "--suite",
            "traces",
            "--suite",
            "permissions",
            "--cases",
            "24",
            "--skip",
            "vectors/path/fifo",
            "--jobs",
            jobs,
        ]);
        assert_eq!(code, 1, "{printed}");
        case_verdicts(&report, "rule")
    };
    let one = run("1");
    assert!(
        ["vectors/", "traces/", "permissions/"]
            .iter()
            .all(|suite| one
                .iter()
                .any(|(case, verdict, _)| case.starts_with(suite) && verdict == "violation")),
        "each suite has a finding: {one:?}"
    );
    assert_eq!(run("3"), one);
}

#[test]
fn kill_and_faults_judge_the_same_whether_replays_run_in_forked_copies_or_fresh_adapters() {
    if !python() || !strace() {
        return;
    }
    // A store each suite finds a defect in, so that both verdicts show.
    let dir = tempfile::tempdir().expect("a temp dir");
    let patch = |broken: Broken| (broken.1, broken.2);
    let store = patched_store(
        dir.path(),
        "fixed_temp_name_left_when_a_step_fails",
        &[
            patch(ONE_FIXED_TEMP_NAME),
            patch(TEMP_LEFT_WHEN_A_LATER_STEP_FAILS),
        ],
    );
    // Every start of the adapter is a line of `starts` (the shell's echo
    // makes no process, and exec leaves the interpreter alone).
    let run = |starts: &Path, more: &[&str]| {
        let adapter = format!(
            "echo >> {}; exec {}",
            starts.display(),
            python_adapter(&store)
        );
        let mut args = vec![
            "--adapter",
            &adapter,
            "--run",
            "kill/old_record",
            "--run",
            "kill/no_directory",
            "--run",
            "faults/old_record",
            "--run",
            "faults/no_directory",
        ];
        args.extend_from_slice(more);
        let (code, report, printed) = check(&args);
        assert_eq!(code, 1, "{printed}");
        let verdicts = case_verdicts(&report, "spec");
        let started = fs::read_to_string(starts).map_or(0, |s| s.lines().count());
        (verdicts, started)
    };
    let (forked, forked_starts) = run(&dir.path().join("forked"), &[]);
    for suite in ["kill/", "faults/"] {
        assert!(
            forked
                .iter()
                .any(|(case, verdict, _)| case.starts_with(suite) && verdict == "violation"),
            "{suite} finds the defect: {forked:?}"
        );
    }
    let (fresh, fresh_starts) = run(&dir.path().join("fresh"), &["--no-fork"]);
    assert_eq!(forked, fresh);
    // Fresh, each of the 80-odd replays starts the adapter; forked, a
    // template per case and runner does, and the replay after the last
    // call, which any call may be.
    assert!(
        forked_starts * 3 < fresh_starts,
        "{forked_starts} starts forked, {fresh_starts} fresh"
    );
}

#[test]
fn the_python_adapter_says_how_it_is_used_when_no_module_is_given() {
    if !python() {
        return;
    }
    let adapter = repo().join("adapters/python/lifecycle_adapter.py");
    for args in [
        &[][..],
        &["--module"][..],
        &["--module", "a.py", "b.py"][..],
        &["--modul=a.py"][..],
    ] {
        let out = Command::new(interpreter())
            .arg(&adapter)
            .args(args)
            .output()
            .expect("python runs");
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(
            said.contains("usage: lifecycle_adapter.py --module PATH"),
            "{args:?}: {said}"
        );
    }
    let help = Command::new(interpreter())
        .arg(&adapter)
        .arg("--help")
        .output()
        .expect("python runs");
    assert_eq!(help.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("Usage: lifecycle_adapter.py --module PATH")
    );
}

/// The finding of `case` in `report`, with its section.
fn finding<'r>(report: &'r Value, case: &str) -> Option<&'r Value> {
    findings(report).into_iter().find(|r| r["case"] == case)
}

#[test]
fn the_python_original_is_reported_with_its_real_defects() {
    let (Some(seed), true) = (seed(), python()) else {
        return;
    };
    let (code, report, printed) = check(&["--adapter", &python_adapter(&seed)]);
    assert_eq!(code, 1, "{printed}");
    assert_verdicts_as_committed(&report, "python_original");
    // SPEC §8 lists them; each shows up where it should.
    let expected = [
        ("vectors/load/corrupt_seq_true", "§1.3"),
        ("vectors/load/corrupt_seq_2_pow_53", "§1.3"),
        ("vectors/load/corrupt_since_ts_offset_plus_01_00", "§1.4"),
        ("vectors/load/corrupt_duplicate_key_top_level", "§1.1.5"),
        ("vectors/load/corrupt_nan_in_unknown_member", "§2.2.4"),
        ("vectors/load/corrupt_2_mib", "§1.6"),
        ("vectors/load/corrupt_invalid_utf8_byte_ff", "§2.2.4"),
        ("vectors/load/valid_missing_nullable_quarantine", "§2.3"),
        ("vectors/path/fifo", "§2.2.2"),
        ("vectors/save_invalid/seq_2_pow_53", "§1.3"),
        ("vectors/load_reports_outcome", "§2.1"),
        ("permissions/umask_022/save_into_new_directories", "§3.6"),
        ("permissions/umask_022/traced_no_directory", "§3.6"),
        // No fsync of the directory after the rename: not durable.
        ("power/old_record", "§3.4.2"),
    ];
    for (case, spec) in expected {
        let found =
            finding(&report, case).unwrap_or_else(|| panic!("{case} not reported:\n{printed}"));
        assert_eq!(found["spec"], spec, "{found}");
        assert!(
            found["rerun"].as_str().is_some_and(|r| r.contains(case)),
            "{found}"
        );
        assert!(found["reproduction"].is_string(), "{found}");
    }
    assert_eq!(
        finding(&report, "vectors/load_reports_outcome").map(|f| &f["verdict"]),
        Some(&Value::from("divergence"))
    );
    for suite in ["machine", "sleep"] {
        let skipped = results(&report)
            .into_iter()
            .find(|r| r["suite"] == suite)
            .expect("planned");
        assert_eq!(skipped["verdict"], "skipped", "{skipped}");
    }
}

/// A copy of the strict store with `old` replaced by `new`, once.
fn broken_store(dir: &Path, name: &str, old: &str, new: &str) -> PathBuf {
    patched_store(dir, name, &[(old, new)])
}

/// A copy of the strict store with each `(old, new)` of `patches` applied,
/// each exactly once.
fn patched_store(dir: &Path, name: &str, patches: &[(&str, &str)]) -> PathBuf {
    patched("adapters/python/conforming_store.py", dir, name, patches)
}

/// A copy in `dir`, named `name`, of the repository's file `source` with
/// each `(old, new)` of `patches` applied, each exactly once.
fn patched(source: &str, dir: &Path, name: &str, patches: &[(&str, &str)]) -> PathBuf {
    let mut text = fs::read_to_string(repo().join(source)).expect("the file to patch");
    for (old, new) in patches {
        assert_eq!(
            text.matches(old).count(),
            1,
            "{name}: the patch must apply exactly once: {old}"
        );
        text = text.replace(old, new);
    }
    let path = dir.join(format!("{name}.py"));
    fs::write(&path, text).expect("written");
    path
}

/// The strict store's own clock (it is given now otherwise), patched.
const OWN_CLOCK: (&str, &str) = ("TAKES_NOW = True", "TAKES_NOW = False");

#[test]
fn choices_requirements_section_7_leaves_open_pass_and_third_outcomes_are_caught() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // A clock of a millisecond, or of a second, is the store's to have.
    let millisecond_given_now: &[(&str, &str)] = &[(
        "    now = now or now_text()\n",
        "    now = now or now_text()\n    now = now[:23] + \"Z\" if len(now) > 24 else now\n",
    )];
    let whole_second_own_clock: &[(&str, &str)] = &[
        OWN_CLOCK,
        (
            "strftime(\"%Y-%m-%dT%H:%M:%S.%fZ\")",
            "strftime(\"%Y-%m-%dT%H:%M:%SZ\")",
        ),
    ];
    // A JSON library that stops past 128 levels: its save refuses.
    let depth_limited: &[(&str, &str)] = &[(
        "    validate(record)\n    data = serialize(record)",
        "    validate(record)\n    if \"[\" * 129 in json.dumps(record, separators=(\",\", \":\")):\n        raise Invalid(\"(record)\", \"nested deeper than 128 levels\")\n    data = serialize(record)",
    )];
    let conforming = [
        ("millisecond_clock_given_now", millisecond_given_now),
        ("whole_second_own_clock", whole_second_own_clock),
        ("depth_limited_json", depth_limited),
    ];
    // Its own clock rounded up to the second: after every request.
    let rounds_up: &[(&str, &str)] = &[
        OWN_CLOCK,
        (
            "    return datetime.now(timezone.utc).strftime(\"%Y-%m-%dT%H:%M:%S.%fZ\")",
            "    now = datetime.now(timezone.utc)\n    return datetime.fromtimestamp(-(-now.timestamp() // 1), timezone.utc).strftime(\"%Y-%m-%dT%H:%M:%SZ\")",
        ),
    ];
    // 1e400 saved as the string "Infinity".
    let infinity_string: &[(&str, &str)] = &[
        (
            "            raise Invalid(path, \"a number that is not finite\")",
            "            pass",
        ),
        (
            "separators=(\",\", \":\"), allow_nan=False)",
            "separators=(\",\", \":\"), allow_nan=True).replace(\"Infinity\", '\"Infinity\"')",
        ),
    ];
    // A lone surrogate saved as the escape it came as: a corrupt file.
    let surrogate_escape: &[(&str, &str)] = &[
        (
            "            if any(0xD800 <= ord(c) <= 0xDFFF for c in v):",
            "            if False:",
        ),
        (
            "json.dumps(top, ensure_ascii=False",
            "json.dumps(top, ensure_ascii=True",
        ),
    ];
    let caught = [
        ("clock_rounded_up", rounds_up, "vectors/default", "§1.7"),
        (
            "infinity_string",
            infinity_string,
            "vectors/roundtrip/valid_number_1e400_in_unknown_member",
            "§3.2",
        ),
        (
            "lone_surrogate_escape",
            surrogate_escape,
            "vectors/save_invalid/corrupt_unpaired_high_surrogate_ud800_in_quarantine_reason",
            "§1.1.3",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, patches) in conforming {
        let store = patched_store(dir.path(), name, patches);
        let (code, report, printed) = check(&[
            "--adapter",
            &python_adapter(&store),
            "--suite",
            "vectors",
            "--suite",
            "traces",
            "--cases",
            "30",
        ]);
        if code != 0 || !findings(&report).is_empty() {
            wrong.push(format!("{name} conforms, yet:\n{printed}"));
        }
    }
    let deep = "vectors/roundtrip/valid_deep_nesting_200_in_unknown_member";
    let store = patched_store(dir.path(), "depth_limited_json", depth_limited);
    let (_, report, _) = check(&["--adapter", &python_adapter(&store), "--case", deep]);
    let refused = results(&report).into_iter().any(|r| {
        r["verdict"] == "info" && r["message"].as_str().is_some_and(|m| m.contains("refused"))
    });
    if !refused {
        wrong.push(format!(
            "{deep}: not reported as a refusal, a §7 choice: {report}"
        ));
    }
    for (name, patches, case, spec) in caught {
        let store = patched_store(dir.path(), name, patches);
        let (code, report, printed) =
            check(&["--adapter", &python_adapter(&store), "--suite", "vectors"]);
        match finding(&report, case) {
            Some(f) if code == 1 && f["verdict"] == "violation" && f["spec"] == spec => {}
            other => wrong.push(format!(
                "{name}: {case} should be a violation of {spec}, is {other:?}:\n{printed}"
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn each_broken_store_is_caught_under_the_right_section() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // (name, what is broken, the section its violation must name, one case that shows it)
    let broken: [(&str, &str, &str, &str, &str); 11] = [
        ("wrong_default", "\"current_state\": \"WAKE\",\n        \"since_ts\": now,", "\"current_state\": \"SLEEP\",\n        \"since_ts\": now,", "§1.7", "vectors/default"),
        ("any_state", "if record[\"current_state\"] not in STATES or not isinstance(record[\"current_state\"], str):", "if not isinstance(record[\"current_state\"], str):", "§1.2", "vectors/load/corrupt_current_state_lowercase"),
        ("true_is_an_integer", "return type(value) is int and 0 <= value <= MAX_INTEGER", "return isinstance(value, int) and 0 <= value <= MAX_INTEGER", "§1.3", "vectors/load/corrupt_seq_true"),
        ("save_without_validation", "    validate(record)\n    data = serialize(record)", "    data = serialize(record)", "§1.3", "vectors/save_invalid/seq_2_pow_53"),
        ("unknown_members_dropped", "    top.update((k, v) for k, v in record.items() if k not in TOP)\n", "", "§1.5", "vectors/roundtrip/valid_keys_differing_only_in_case"),
        ("duplicates_accepted", "            object_pairs_hook=no_duplicates,\n", "", "§1.1.5", "vectors/load/corrupt_duplicate_key_top_level"),
        ("exception_escapes_load", "    except Corrupt:\n        return default_state(now), \"corrupt\"", "    except ZeroDivisionError:\n        return default_state(now), \"corrupt\"", "§2.2.4", "vectors/load/corrupt_bom"),
        ("no_size_limit", "    if len(data) > MAX_BYTES:\n        raise Corrupt(\"larger than 1 MiB\")\n", "", "§1.6", "vectors/load/corrupt_1_mib_plus_1"),
        ("absent_nullables_not_filled", "    record.setdefault(\"sleep_cycle_progress\", None)\n    record.setdefault(\"quarantine\", None)\n", "", "§2.3", "vectors/load/valid_missing_nullable_quarantine"),
        ("timestamps_not_checked", "    if not isinstance(value, str):\n        return False\n    m = TIMESTAMP", "    if isinstance(value, str):\n        return True\n    m = TIMESTAMP", "§1.4", "vectors/load/corrupt_since_ts_offset_plus_01_00"),
        ("record_left_0644", "            os.fchmod(fd, 0o600)  # what the umask took away", "            os.fchmod(fd, 0o644)", "§3.6", "permissions/umask_077/save_over_record"),
    ];
    let stores: Vec<(&str, PathBuf, &str, &str)> = broken
        .iter()
        .map(|(name, old, new, spec, case)| {
            (
                *name,
                broken_store(dir.path(), name, old, new),
                *spec,
                *case,
            )
        })
        .collect();
    // Two at a time: the machine has two cores.
    let verdicts: Vec<(String, Option<String>)> = stores
        .chunks(2)
        .flat_map(|pair| {
            let handles: Vec<_> = pair
                .iter()
                .map(|(name, path, spec, case)| {
                    let (name, adapter, spec, case) = (
                        name.to_string(),
                        python_adapter(path),
                        spec.to_string(),
                        case.to_string(),
                    );
                    thread::spawn(move || {
                        // The suite of the case alone: a store's other
                        // suites cannot change this case's verdict.
                        let suite = case.split('/').next().unwrap_or_default();
                        let (code, report, printed) =
                            check(&["--adapter", &adapter, "--suite", suite]);
                        let problem = if code != 1 {
                            Some(format!("exit {code}, not 1:\n{printed}"))
                        } else {
                            match finding(&report, &case) {
                                None => Some(format!("{case} not reported:\n{printed}")),
                                Some(f)
                                    if f["verdict"] != "violation"
                                        || f["spec"] != spec.as_str() =>
                                {
                                    Some(format!(
                                        "{case} reported as {f}, not a violation of {spec}"
                                    ))
                                }
                                Some(_) => None,
                            }
                        };
                        (name, problem)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a check thread"))
                .collect::<Vec<_>>()
        })
        .collect();
    let missed: Vec<String> = verdicts
        .into_iter()
        .filter_map(|(name, problem)| problem.map(|p| format!("{name}: {p}")))
        .collect();
    assert!(
        missed.is_empty(),
        "broken stores not caught:\n{}",
        missed.join("\n\n")
    );
}

#[test]
fn one_defect_is_one_group_of_the_report_and_two_defects_are_two() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // Duplicate names read as records, in 18 vectors; no size limit, in
    // the files and records over 1 MiB: each one group.
    let duplicates = ("            object_pairs_hook=no_duplicates,\n", "");
    let no_size_limit = (
        "    if len(data) > MAX_BYTES:\n        raise Corrupt(\"larger than 1 MiB\")\n",
        "",
    );
    let one = patched_store(dir.path(), "one_defect", &[duplicates]);
    let two = patched_store(dir.path(), "two_defects", &[duplicates, no_size_limit]);
    for (store, sections) in [(one, vec!["§1.1.5"]), (two, vec!["§1.1.5", "§1.6"])] {
        let (code, report, printed) =
            check(&["--adapter", &python_adapter(&store), "--suite", "vectors"]);
        assert_eq!(code, 1, "{printed}");
        let groups = report["groups"].as_array().cloned().unwrap_or_default();
        let got: Vec<&str> = groups.iter().filter_map(|g| g["spec"].as_str()).collect();
        assert_eq!(got, sections, "{printed}");
        let grouped: u64 = groups.iter().filter_map(|g| g["count"].as_u64()).sum();
        assert!(grouped >= 18, "{printed}");
        assert_eq!(
            grouped,
            findings(&report).len() as u64,
            "every finding in one group"
        );
        assert!(
            printed.contains(&format!("({} groups)", sections.len())),
            "{printed}"
        );
    }
}

#[test]
fn a_store_that_writes_in_place_is_caught_by_the_concurrency_suite() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = broken_store(
        dir.path(),
        "write_in_place",
        "    temp = os.path.join(directory, \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
        "    with open(path, \"wb\") as f:\n        f.write(data)\n    return\n    temp = None",
    );
    let (code, report, printed) = check(&[
        "--adapter",
        &python_adapter(&store),
        "--suite",
        "concurrency",
    ]);
    assert_eq!(code, 1, "{printed}");
    let found = finding(&report, "concurrency/readers_during_saves").expect("caught");
    assert_eq!(found["spec"], "§6.1", "{found}");
    assert!(
        found["message"]
            .as_str()
            .is_some_and(|m| m.contains("reader")),
        "{found}"
    );
}

fn strace() -> bool {
    let found = Command::new("strace").arg("-V").output().is_ok();
    if !found {
        eprintln!("skipped: strace is not installed");
    }
    found
}

/// A broken protocol: a name, the patch of the strict store that breaks
/// it, and the section its violation must name.
type Broken = (&'static str, &'static str, &'static str, &'static str);

/// Each store of `broken` checked by `suite` alone must get a violation of
/// its section whose reproduction shows the strace lines of the save.
fn assert_each_caught_by(suite: &str, broken: &[Broken]) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut missed = Vec::new();
    for &(name, old, new, spec) in broken {
        let store = broken_store(dir.path(), name, old, new);
        let (code, report, printed) =
            check(&["--adapter", &python_adapter(&store), "--suite", suite]);
        // A temp file a power loss may leave outside the record's
        // directory is a divergence (requirements §7 lets a save make it
        // there; nobody sweeps it): the only one of these.
        let verdict = if name == "temp_in_another_directory" {
            "divergence"
        } else {
            "violation"
        };
        let caught = findings(&report).into_iter().find(|f| {
            f["verdict"] == verdict
                && f["spec"] == spec
                && f["suite"] == suite
                && f["reproduction"]
                    .as_str()
                    .is_some_and(|r| r.contains("strace line"))
        });
        match caught {
            Some(_) if code == i32::from(verdict == "violation") => {}
            _ => missed.push(format!(
                "{name} (expected a {verdict} of {spec}):\n{printed}"
            )),
        }
    }
    assert!(
        missed.is_empty(),
        "broken protocols {suite} did not catch:\n{}",
        missed.join("\n\n")
    );
}

/// What two libraries do: copy the old record's mode to the temp file (an
/// old 0644 record stays 0644).
const KEEPS_THE_OLD_MODE: Broken = (
    "keeps_the_old_mode",
    "            os.fchmod(fd, 0o600)  # what the umask took away\n",
    "            try:\n                os.fchmod(fd, os.stat(path).st_mode & 0o7777)\n            except FileNotFoundError:\n                os.fchmod(fd, 0o600)\n",
    "§3.6",
);

/// And one: take the mode of what is at the path without following it, a
/// symlink's 0777.
const TAKES_THE_MODE_OF_A_SYMLINK: Broken = (
    "takes_the_mode_of_a_symlink",
    "            os.fchmod(fd, 0o600)  # what the umask took away\n",
    "            try:\n                os.fchmod(fd, os.lstat(path).st_mode & 0o777)\n            except FileNotFoundError:\n                os.fchmod(fd, 0o600)\n",
    "§3.6",
);

const ONE_FIXED_TEMP_NAME: Broken = (
    "one_fixed_temp_name",
    "    temp = os.path.join(directory, \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
    "    temp = os.path.join(directory, \".lifecycle_state.tmp\")",
    "§3.3",
);

const TEMP_LEFT_WHEN_A_LATER_STEP_FAILS: Broken = (
    "temp_left_when_a_later_step_fails",
    "            os.unlink(temp)\n",
    "            pass\n",
    "§3.5.1",
);

const WRITE_IN_PLACE: Broken = (
    "write_in_place",
    "    temp = os.path.join(directory, \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
    "    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)\n    os.write(fd, data)\n    os.fsync(fd)\n    os.close(fd)\n    fsync_dir(directory)\n    return\n    temp = None",
    "§3.4.1",
);

#[test]
fn each_broken_save_protocol_is_caught_by_the_power_suite() {
    if !python() || !strace() {
        return;
    }
    // The five broken protocols tests/crash.rs checks in process, and a
    // temp file created 0644, now through an adapter.
    assert_each_caught_by(
        "power",
        &[
            ("no_file_fsync", "            os.fsync(fd)\n", "", "§3.4.1"),
            ("no_directory_fsync", "    fsync_dir(directory)\n", "", "§3.4.2"),
            WRITE_IN_PLACE,
            (
                "temp_created_0644",
                "            os.fchmod(fd, 0o600)  # what the umask took away\n",
                "            os.fchmod(fd, 0o644)\n",
                "§3.6",
            ),
            (
                "chmod_after_rename",
                "        os.rename(temp, path)\n",
                "        os.fchmod(os.open(temp, os.O_RDONLY), 0o644)\n        os.rename(temp, path)\n        os.chmod(path, 0o600)\n",
                "§3.6",
            ),
            (
                "temp_in_another_directory",
                "    temp = os.path.join(directory, \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
                "    temp = os.path.join(os.path.dirname(directory), \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
                "§3.3",
            ),
            KEEPS_THE_OLD_MODE,
            TAKES_THE_MODE_OF_A_SYMLINK,
        ],
    );
}

/// The strict store probing its directory with a scratch file before the
/// save, going on whether the probe worked or not: a choice requirements §7
/// allows.
const PROBE: (&str, &str) = (
    "    ensure_dir(directory)\n",
    "    ensure_dir(directory)\n    probe = os.path.join(directory, \".probe.%s\" % secrets.token_hex(4))\n    try:\n        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))\n        os.unlink(probe)\n    except OSError:\n        pass\n",
);

/// The strict store going on as if a failed fsync of its temp file had
/// worked.
const FSYNC_SWALLOWED: (&str, &str) = (
    "            os.fsync(fd)\n",
    "            try:\n                os.fsync(fd)\n            except OSError:\n                pass\n",
);

/// Ways of saving requirements §7 lets a store choose ("judged by outcome,
/// not by steps"), each a patch of the strict store and the traced cases
/// where the choice shows.
const CONFORMING_CHOICES: &[(&str, &str, &str, &[&str])] = &[
    (
        "chowns_its_temp_file",
        "            os.fchmod(fd, 0o600)  # what the umask took away\n",
        "            os.fchmod(fd, 0o600)  # what the umask took away\n            os.fchown(fd, os.getuid(), os.getgid())\n",
        &["power/old_record", "kill/old_record"],
    ),
    (
        "links_an_unnamed_temp_file",
        "    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)\n",
        "    fd = os.open(directory, os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC, 0o600)\n    import ctypes\n    linkat = ctypes.CDLL(None, use_errno=True).linkat\n    real_fsync = os.fsync\n    def fsync_then_link(fd):\n        os.fsync = real_fsync\n        real_fsync(fd)\n        if linkat(fd, b\"\", -100, os.fsencode(temp), 0x1000) != 0:\n            raise OSError(ctypes.get_errno(), \"linkat\", temp)\n    os.fsync = fsync_then_link\n",
        &[
            "power/old_record",
            "faults/old_record",
            "permissions/umask_022/traced_old_record",
        ],
    ),
    (
        "makes_its_temp_file_in_tmpdir",
        "    temp = os.path.join(directory, \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
        "    import tempfile\n    temp = os.path.join(tempfile.gettempdir(), \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
        &["power/old_record", "kill/old_record"],
    ),
    (
        "probes_its_directory_first",
        PROBE.0,
        PROBE.1,
        &["faults/old_record"],
    ),
    (
        "retries_a_failed_mkdir",
        "        os.mkdir(path, 0o700)\n",
        "        try:\n            os.mkdir(path, 0o700)\n        except FileExistsError:\n            raise\n        except OSError:\n            os.mkdir(path, 0o700)\n",
        &["faults/no_directory"],
    ),
];

#[test]
fn saves_that_requirements_let_a_store_choose_get_no_violation_from_the_crash_suites() {
    if !python() || !strace() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut flagged = Vec::new();
    for &(name, old, new, cases) in CONFORMING_CHOICES {
        let store = broken_store(dir.path(), name, old, new);
        let mut args = vec!["--adapter".to_string(), python_adapter(&store)];
        for case in cases {
            args.extend(["--run".to_string(), case.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, report, printed) = check(&args);
        let wrong: Vec<String> = results(&report)
            .into_iter()
            .filter(|r| {
                // A temp file made outside the record's directory may be
                // left there by a power loss or a kill: a divergence,
                // never more.
                let allowed_divergence = name == "makes_its_temp_file_in_tmpdir"
                    && r["verdict"] == "divergence"
                    && r["spec"] == "§3.3";
                match r["verdict"].as_str() {
                    Some("violation" | "divergence") => !allowed_divergence,
                    Some("skipped") => r["case"] != DEPENDS_ON_THE_USER,
                    _ => false,
                }
            })
            .map(|r| {
                format!(
                    "{} {} {}: {}",
                    r["case"], r["verdict"], r["spec"], r["message"]
                )
            })
            .collect();
        // And it is that divergence: the killed save's temp file stays in
        // $TMPDIR, where nobody sweeps it.
        let stray_seen = finding(&report, "kill/old_record").is_some_and(|f| {
            f["verdict"] == "divergence"
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("outside the record's directory"))
        });
        if name == "makes_its_temp_file_in_tmpdir" && !stray_seen {
            flagged.push(format!(
                "{name}: the temp file a killed save left in $TMPDIR was not reported\n{printed}"
            ));
        }
        if code != 0 || !wrong.is_empty() {
            flagged.push(format!(
                "{name} (exit {code}):\n{}\n{printed}",
                wrong.join("\n")
            ));
        }
    }
    assert!(flagged.is_empty(), "{}", flagged.join("\n\n"));
}

#[test]
fn each_broken_save_protocol_is_caught_by_the_faults_suite() {
    if !python() || !strace() {
        return;
    }
    assert_each_caught_by(
        "faults",
        &[
            TEMP_LEFT_WHEN_A_LATER_STEP_FAILS,
            (
                "failed_fsync_swallowed",
                FSYNC_SWALLOWED.0,
                FSYNC_SWALLOWED.1,
                "§3.5.1",
            ),
        ],
    );
}

#[test]
fn a_failed_fsync_swallowed_after_a_probe_it_recovered_from_is_caught() {
    if !python() || !strace() {
        return;
    }
    // The failed probe is recovered from, so the save returns success
    // whichever call fails: the judge must tell the probe, which leaves a
    // durable record, from the fsync, which does not.
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = patched_store(
        dir.path(),
        "probes_then_swallows_a_failed_fsync",
        &[PROBE, FSYNC_SWALLOWED],
    );
    let (code, report, printed) = check(&[
        "--adapter",
        &python_adapter(&store),
        "--run",
        "faults/old_record",
    ]);
    let caught = finding(&report, "faults/old_record").filter(|f| {
        f["verdict"] == "violation"
            && f["spec"] == "§3.5.1"
            && f["message"].as_str().is_some_and(|m| {
                m.contains("fsync of state/") && m.contains("the failure was swallowed")
            })
    });
    assert!(code == 1 && caught.is_some(), "{printed}");
}

#[test]
fn modes_a_save_gets_wrong_are_caught_by_the_permissions_suite() {
    if !python() || !strace() {
        return;
    }
    // The modes at the end are right; only the trace shows the directory
    // was 0755 from its creation to the chmod. The mode of an old record
    // kept, and a symlink's taken, show from their starts.
    assert_each_caught_by(
        "permissions",
        &[
            (
                "directory_made_0755",
                "        os.mkdir(path, 0o700)\n",
                "        os.mkdir(path, 0o755)\n",
                "§3.6",
            ),
            KEEPS_THE_OLD_MODE,
            TAKES_THE_MODE_OF_A_SYMLINK,
        ],
    );
}

#[test]
fn each_broken_save_protocol_is_caught_by_the_kill_suite() {
    if !python() || !strace() {
        return;
    }
    assert_each_caught_by("kill", &[WRITE_IN_PLACE, ONE_FIXED_TEMP_NAME]);
}

#[test]
fn a_store_that_makes_other_calls_in_each_run_ends_the_kill_suite_as_harness_broken() {
    if !python() || !strace() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // A random number of extra opens before the temp file's: a replay's
    // n-th open is then most likely not the one recorded.
    let store = broken_store(
        dir.path(),
        "random_opens",
        "    temp = os.path.join(directory, \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
        "    for _ in range(1 + secrets.randbelow(50)):\n        os.close(os.open(directory, os.O_RDONLY))\n    temp = os.path.join(directory, \".lifecycle_state.%s.tmp\" % secrets.token_hex(8))",
    );
    let (code, report, printed) = check(&[
        "--adapter",
        &python_adapter(&store),
        "--suite",
        "kill",
        "--case",
        "kill/old_record",
    ]);
    assert_eq!(code, 3, "{printed}");
    assert!(
        report["harness_broken"]
            .as_str()
            .is_some_and(|why| why.contains("does not make the same calls in every run")),
        "{printed}"
    );
    assert_eq!(findings(&report), Vec::<&Value>::new(), "{printed}");
}

/// Every case of every suite of `suites` ran and passed (or took a side of
/// requirements §7), each traced one with its replays all matched to the
/// recording (a replay that hit another call ends the run as harness
/// broken).
fn assert_every_case_passes(code: i32, report: &Value, printed: &str, suites: &[&str]) {
    assert_eq!(code, 0, "{printed}");
    assert!(report["harness_broken"].is_null(), "{printed}");
    let results = results(report);
    for suite in suites {
        assert!(
            results.iter().any(|r| r["suite"] == *suite),
            "no case of {suite}:\n{printed}"
        );
    }
    for result in results {
        assert!(
            matches!(result["verdict"].as_str(), Some("pass" | "info")),
            "{result}"
        );
    }
}

/// The strict store behind a wrapper that, like a JVM re-reading cgroup
/// files on a timer, makes a random number of calls outside the case
/// directory: opens, reads, writes, fsyncs and renames of its own files
/// (under `dir`, a folder per process, which a killed one cannot remove)
/// and reads of /proc, before each save and during it, from a thread of
/// its own and from another that never stops.
fn noisy_store(dir: &Path) -> PathBuf {
    let path = dir.join("noisy_store.py");
    let strict = repo().join("adapters/python/conforming_store.py");
    let noise = dir.join("noise");
    fs::create_dir(&noise).expect("made");
    fs::write(
        &path,
        format!(
            r#"import importlib.util, os, random, tempfile, threading, time

_spec = importlib.util.spec_from_file_location("conforming_store", {strict:?})
_strict = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_strict)
globals().update((k, v) for k, v in vars(_strict).items() if not k.startswith("__"))

_elsewhere = tempfile.mkdtemp(prefix="noise-", dir={noise:?})


def _noise(times):
    for _ in range(times):
        for name in ("/proc/self/status", "/proc/self/stat"):
            with open(name, "rb") as f:
                f.read(64)
        mine = os.path.join(_elsewhere, "n%d" % threading.get_ident())
        fd = os.open(mine, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, b"noise")
        os.fsync(fd)
        os.close(fd)
        os.rename(mine, mine + ".old")


def _forever():
    while True:
        _noise(1)
        time.sleep(random.random() / 100)


threading.Thread(target=_forever, daemon=True).start()


def save_state(record, path, *args, **kwargs):
    _noise(random.randrange(1, 30))
    during = threading.Thread(target=_noise, args=(random.randrange(1, 30),))
    during.start()
    _strict.save_state(record, path, *args, **kwargs)
    during.join()
"#
        ),
    )
    .expect("written");
    path
}

#[test]
fn a_store_that_makes_a_random_number_of_calls_elsewhere_passes_kill_and_faults() {
    if !python() || !strace() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = noisy_store(dir.path());
    let (code, report, printed) = check(&[
        "--adapter",
        &python_adapter(&store),
        "--suite",
        "kill",
        "--suite",
        "faults",
    ]);
    assert_every_case_passes(code, &report, &printed, &["kill", "faults"]);
}

#[test]
fn an_adapter_behind_a_pipeline_passes_the_traced_suites_under_either_tracer() {
    if !python() || !strace() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let strict = repo().join("adapters/python/conforming_store.py");
    // The protocol teed into a log, the adapter's errors appended to
    // another: a shell and a tee traced beside the adapter.
    let adapter = format!(
        "{} 2>>{} | tee -a {}",
        python_adapter(&strict),
        dir.path().join("errors.log").display(),
        dir.path().join("protocol.log").display()
    );
    let (code, report, printed) = check(&[
        "--adapter",
        &adapter,
        "--suite",
        "kill",
        "--suite",
        "faults",
        "--suite",
        "power",
        "--suite",
        "permissions",
    ]);
    assert_every_case_passes(
        code,
        &report,
        &printed,
        &["kill", "faults", "power", "permissions"],
    );
    let logged = fs::read_to_string(dir.path().join("protocol.log")).expect("a log");
    assert!(logged.contains("\"implementation\""), "{logged}");
    // strace alone: the replays count strace's way, processes numbered by
    // their first call in the case directory, and a trace cut short as
    // the adapter's process group is killed still reads.
    let (code, report, printed) = check_with(
        &[("LIFECYCLE_TRACER", "strace")],
        &["--adapter", &adapter, "--suite", "kill"],
    );
    assert_every_case_passes(code, &report, &printed, &["kill"]);
}

/// The strict store with a `dispatch` that only does what the kill suite
/// asks of a writer holding the lock (a tick: load, write nothing), with or
/// without the sweep of SPEC §3.7.
fn store_with_a_tick(dir: &Path, name: &str, sweeps: bool) -> PathBuf {
    let text = fs::read_to_string(repo().join("adapters/python/conforming_store.py"))
        .expect("the strict store");
    let sweep = if sweeps {
        "    import fcntl, glob\n    directory = os.path.dirname(os.fspath(path))\n    lock = os.open(os.path.join(directory, \".lifecycle.lock\"), os.O_RDWR | os.O_CREAT, 0o600)\n    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    for stale in glob.glob(os.path.join(directory, \".lifecycle_state.*.tmp\")):\n        os.unlink(stale)\n    os.close(lock)\n"
    } else {
        ""
    };
    let path = dir.join(format!("{name}.py"));
    fs::write(
        &path,
        format!(
            "{text}\n\ndef dispatch(path, event, sleep_eligible, still_idle, shadow_run, now=None):\n    record = load_state(path, now)\n{sweep}    return {{\"record\": record, \"wrote\": False}}\n"
        ),
    )
    .expect("written");
    path
}

#[test]
fn a_temp_file_of_a_killed_save_that_the_next_dispatch_leaves_is_a_divergence() {
    if !python() || !strace() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let leaves = store_with_a_tick(dir.path(), "tick_leaves_temp_files", false);
    let (code, report, printed) = check(&[
        "--adapter",
        &python_adapter(&leaves),
        "--suite",
        "kill",
        "--case",
        "kill/old_record",
    ]);
    // A SHOULD: reported, but no violation.
    assert_eq!(code, 0, "{printed}");
    let found = finding(&report, "kill/old_record").expect("reported");
    assert_eq!(found["verdict"], "divergence", "{found}");
    assert_eq!(found["spec"], "§3.7", "{found}");
    assert!(
        found["message"]
            .as_str()
            .is_some_and(|m| m.contains(".lifecycle_state.")),
        "{found}"
    );
    // The same store, sweeping under the lock: nothing to report.
    let sweeps = store_with_a_tick(dir.path(), "tick_sweeps", true);
    let (code, report, printed) = check(&[
        "--adapter",
        &python_adapter(&sweeps),
        "--suite",
        "kill",
        "--case",
        "kill/old_record",
    ]);
    assert_eq!(code, 0, "{printed}");
    assert_eq!(findings(&report), Vec::<&Value>::new(), "{printed}");
    assert_eq!(results(&report).len(), 1, "{printed}");
}

/// When a misbehaving adapter misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum When {
    /// At its `at`-th request, once in the whole run.
    Once,
    /// At the `at`-th request of each of its starts.
    EveryStart,
    /// At its `at`-th request, and at every request of every start after.
    FromThenOn,
}

/// An adapter around `lifecycle adapter`, in Python, named `name`: for
/// each line it reads (`line`, `n` counting those but `start`) it runs
/// `on_request` (statements indented 4, which may `continue` or exit),
/// passes the line on, and runs `on_reply` (the same, which may rewrite
/// `reply`) before printing the reply.
fn wrapped_adapter(dir: &Path, name: &str, on_request: &str, on_reply: &str) -> String {
    let script = dir.join(format!("{name}.py"));
    fs::write(
        &script,
        format!(
            r#"import json, os, subprocess, sys, time
inner = subprocess.Popen([{LIFECYCLE:?}, "adapter"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
n = 0
for line in sys.stdin:
    if '"cmd":"start"' not in line:
        n += 1
{on_request}
    inner.stdin.write(line)
    inner.stdin.flush()
    if '"cmd":"stop"' in line:
        break
    reply = inner.stdout.readline()
{on_reply}
    print(reply, end="", flush=True)
"#
        ),
    )
    .expect("written");
    format!("python3 {}", script.display())
}

/// An adapter around `lifecycle adapter` that misbehaves at its `at`-th
/// request (counted from its start), as `when` says: `how` is `hang`,
/// `exit`, `garbage` (a line that is not JSON) or `endless` (a line
/// without end).
fn misbehaving_adapter(dir: &Path, how: &str, at: u32, when: When) -> String {
    let marker = dir.join(format!("{how}.done"));
    let python_bool = |b: bool| if b { "True" } else { "False" };
    let on_request = format!(
        r#"    done = os.path.exists({marker:?})
    now = n == {at} and not ({once} and done)
    if '"cmd":"start"' not in line and (now or ({from_then_on} and done)):
        open({marker:?}, "w").close()
        if "{how}" == "hang":
            time.sleep(3600)
        if "{how}" == "exit":
            sys.exit(7)
        if "{how}" == "garbage":
            print("DEBUG: about to answer", flush=True)
            continue
        if "{how}" == "endless":
            while True:
                sys.stdout.write("x" * 65536)"#,
        marker = marker.display().to_string(),
        once = python_bool(when == When::Once),
        from_then_on = python_bool(when == When::FromThenOn),
    );
    wrapped_adapter(dir, how, &on_request, "")
}

#[test]
fn adapters_that_hang_die_or_print_garbage_are_reported_and_the_run_completes() {
    if !python() {
        return;
    }
    for (how, says) in [
        ("hang", "did not answer within"),
        ("exit", "the adapter died"),
        ("garbage", "not a JSON object"),
    ] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let adapter = misbehaving_adapter(dir.path(), how, 40, When::Once);
        // One job: two adapter processes could each reach their 40th
        // request before either marks the misbehaviour done.
        let (code, report, printed) = check(&[
            "--adapter",
            &adapter,
            "--jobs",
            "1",
            "--suite",
            "vectors",
            "--timeout",
            "0.5",
        ]);
        assert_eq!(code, 1, "{how}: {printed}");
        let found = findings(&report);
        assert_eq!(
            found.len(),
            1,
            "{how}: one finding, on the case at hand:\n{printed}"
        );
        let message = found[0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{how}: {message}");
        assert_eq!(found[0]["verdict"], "violation");
        // The run went on to the end of the suite.
        let load_cases = results(&report)
            .iter()
            .filter(|r| {
                r["case"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("vectors/load/"))
            })
            .count();
        assert!(load_cases > 400, "{how}: {load_cases} load cases");
        assert!(
            report["harness_broken"].is_null(),
            "{how}: {}",
            report["harness_broken"]
        );
    }
}

#[test]
fn an_adapter_that_hangs_from_the_start_is_reported_as_broken() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let adapter = misbehaving_adapter(dir.path(), "hang", 1, When::EveryStart);
    let (code, report, printed) = check(&["--adapter", &adapter, "--timeout", "0.2"]);
    assert_eq!(code, 3, "{printed}");
    assert!(printed.contains("ADAPTER BROKEN"), "{printed}");
    assert!(
        report["adapter_broken"]
            .as_str()
            .is_some_and(|w| w.contains("did not answer")),
        "{printed}"
    );
    // Nothing but the smoke suite's three findings and the skipped suites.
    assert_eq!(findings(&report).len(), 3, "{printed}");
}

#[test]
fn an_adapter_that_keeps_hanging_ends_the_run_as_harness_broken_and_leaves_no_process() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // It answers the smoke suite's four requests, then hangs at every
    // request, started again or not.
    let adapter = misbehaving_adapter(dir.path(), "hang", 5, When::FromThenOn);
    // Long enough for the smoke suite on a busy machine. One job: an
    // adapter process of a second runner would count its requests apart
    // and answer some before the first one hangs.
    let (code, report, printed) = check(&["--adapter", &adapter, "--jobs", "1", "--timeout", "1"]);
    assert_eq!(code, 3, "{printed}");
    assert!(printed.contains("HARNESS BROKEN"), "{printed}");
    assert!(
        report["harness_broken"]
            .as_str()
            .is_some_and(|w| w.contains("failed 10 cases in a row")),
        "{}",
        report["harness_broken"]
    );
    // Each of the ten cases has its finding, the last one included.
    let found = findings(&report);
    assert_eq!(found.len(), 10, "{printed}");
    assert_eq!(found[0]["case"], "vectors/default", "{printed}");
    for f in &found {
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("did not answer within") && message.contains("the request as sent"),
            "{f}"
        );
    }
    // Its rerun names the adapter broken, not an unknown case.
    let last = found[9]["case"].as_str().expect("a case id");
    let (code, _, printed) = check(&["--adapter", &adapter, "--timeout", "1", "--case", last]);
    assert_eq!(code, 3, "{printed}");
    assert!(!printed.contains("no case has the id"), "{printed}");
    let script = dir.path().join("hang.py");
    let alive = Command::new("pgrep")
        .arg("-f")
        .arg(script.as_os_str())
        .output();
    if let Ok(alive) = alive {
        assert!(
            alive.stdout.is_empty(),
            "adapters outlived the check: {}",
            String::from_utf8_lossy(&alive.stdout)
        );
    }
}

#[test]
fn an_adapter_of_another_protocol_version_is_refused_with_both_versions() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let script = dir.path().join("v2.py");
    fs::write(
        &script,
        r#"import sys
for line in sys.stdin:
    print('{"cmd":"start","version":2,"implementation":{"name":"v2","language":"python"},"capabilities":["store"]}', flush=True)
"#,
    )
    .expect("written");
    let (code, _, printed) = check(&["--adapter", &format!("python3 {}", script.display())]);
    assert_eq!(code, 3, "{printed}");
    assert!(
        printed.contains("version 2") && printed.contains("version 1"),
        "{printed}"
    );
}

#[test]
fn exported_vectors_run_as_the_embedded_ones() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().join("vectors");
    let status = Command::new(LIFECYCLE)
        .arg("vectors")
        .arg("--out")
        .arg(&out)
        .status()
        .expect("runs");
    assert!(status.success());
    let index: Value =
        serde_json::from_str(&fs::read_to_string(out.join("index.json")).expect("index"))
            .expect("JSON");
    let entries = index.as_array().expect("an array");
    assert!(fs::read_to_string(out.join("README.md"))
        .expect("a README")
        .contains("index.json"));
    for e in entries {
        for member in ["name", "expected", "spec", "description"] {
            assert!(e[member].is_string(), "{e}");
        }
    }
    let dir_arg = out.display().to_string();
    let (code, report, printed) = check(&["--vectors", &dir_arg, "--suite", "vectors"]);
    assert_eq!(code, 0, "{printed}");
    let loads = results(&report)
        .iter()
        .filter(|r| {
            r["case"]
                .as_str()
                .is_some_and(|c| c.starts_with("vectors/load/"))
        })
        .count();
    assert_eq!(loads, entries.len());
}

#[test]
fn a_case_reruns_alone_and_bad_usage_exits_2() {
    let (code, report, printed) = check(&["--case", "machine/SLEEP/sleep_cycle_done+still_idle"]);
    assert_eq!(code, 0, "{printed}");
    let cases: Vec<&str> = results(&report)
        .iter()
        .filter_map(|r| r["case"].as_str())
        .collect();
    assert_eq!(
        cases,
        vec!["machine/SLEEP/sleep_cycle_done+still_idle"],
        "{printed}"
    );
    let (code, _, printed) = check(&["--case", "no/such/case"]);
    assert_eq!(code, 2, "{printed}");
    let (code, _, printed) = check(&["--suite", "bogus"]);
    assert_eq!(code, 2, "{printed}");
    assert!(printed.contains("invalid value 'bogus'"), "{printed}");
    let (code, _, printed) = check(&["--run", "vectors/["]);
    assert_eq!(code, 2, "{printed}");
    assert!(printed.contains("--run \"vectors/[\""), "{printed}");
    let (code, _, printed) = check(&["--jobs", "0"]);
    assert_eq!(code, 2, "{printed}");
    assert!(
        printed.contains("invalid value '0' for '--jobs"),
        "{printed}"
    );
}

#[test]
fn the_help_and_a_wrong_suite_name_every_suite() {
    let help = Command::new(LIFECYCLE)
        .args(["check", "--help"])
        .output()
        .expect("lifecycle runs");
    let help = String::from_utf8_lossy(&help.stdout);
    let (_, _, wrong) = check(&["--suite", "bogus"]);
    for suite in SUITES {
        assert!(help.contains(suite), "{suite} is not in the help:\n{help}");
        assert!(wrong.contains(suite), "{suite} is not named:\n{wrong}");
    }
}

#[test]
fn the_reports_come_as_json_junit_and_markdown() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let junit = dir.path().join("report.xml");
    let markdown = dir.path().join("report.md");
    let output = Command::new(LIFECYCLE)
        .args(["check", "--suite", "machine", "--junit"])
        .arg(&junit)
        .arg("--markdown")
        .arg(&markdown)
        .output()
        .expect("runs");
    assert!(output.status.success());
    let xml = fs::read_to_string(&junit).expect("JUnit written");
    assert!(
        xml.starts_with("<?xml") && xml.contains("<testsuite name=\"machine\""),
        "{xml}"
    );
    let md = fs::read_to_string(&markdown).expect("Markdown written");
    assert!(
        md.contains("| suite | pass |") && md.contains("| machine | 293 |"),
        "{md}"
    );
}

#[test]
fn validating_the_protocol_names_the_wrong_field() {
    let (code, report, printed) = check(&["--validate-protocol", "--suite", "smoke"]);
    assert_eq!(code, 0, "{printed}");
    let protocol: Vec<&Value> = results(&report)
        .into_iter()
        .filter(|r| r["suite"] == "protocol")
        .collect();
    assert!(
        protocol
            .iter()
            .any(|r| r["case"] == "protocol/load" && r["verdict"] == "pass"),
        "{printed}"
    );
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let adapter = wrapped_adapter(
        dir.path(),
        "extra",
        "",
        r#"    if '"cmd":"load"' in line:
        reply = reply.replace('"outcome":', '"mood":"fine","outcome":')"#,
    );
    let (code, report, printed) = check(&[
        "--validate-protocol",
        "--suite",
        "smoke",
        "--adapter",
        &adapter,
    ]);
    // Replies the oracle cannot read fail the smoke suite: the adapter is
    // broken, and the protocol suite says where.
    assert_eq!(code, 3, "{printed}");
    let load = results(&report)
        .into_iter()
        .find(|r| r["case"] == "protocol/load")
        .expect("judged");
    assert_eq!(load["verdict"], "violation");
    assert!(
        load["message"]
            .as_str()
            .is_some_and(|m| m.contains("/result/") && m.contains("mood")),
        "{load}"
    );
}

/// A copy of the Python adapter that, for a request holding `marker`,
/// does `then` (Python statements, indented 8) instead of answering.
fn python_adapter_failing_at(dir: &Path, patches: &[(&str, &str)]) -> String {
    let anchor = "    for line in sys.stdin:\n";
    let checks: String = patches
        .iter()
        .map(|(marker, then)| format!("        if {marker:?} in line:\n{then}"))
        .collect();
    let with_checks = format!("{anchor}{checks}");
    let adapter = patched(
        "adapters/python/lifecycle_adapter.py",
        dir,
        "failing_adapter",
        &[(anchor, with_checks.as_str())],
    );
    adapter_script_for(
        &adapter,
        &repo().join("adapters/python/conforming_store.py"),
    )
}

/// `text` holds each of `parts`.
fn assert_says_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} is not in: {text}");
    }
}

#[test]
fn requests_that_get_no_reply_are_findings_on_their_cases_and_every_suite_runs() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // The strict store, behind an adapter that dies at one save (a record
    // whose quarantine reason is German) and prints a line that is not
    // JSON at another (a record with numbers in exponent forms): both
    // records are those of vectors alone.
    let adapter = python_adapter_failing_at(
        dir.path(),
        &[
            (
                "Schritt fehlgeschlagen",
                "            sys.stderr.write(\"cannot read this request\\n\")\n            sys.stderr.flush()\n            sys.exit(9)\n",
            ),
            (
                "-1.5E+05",
                "            print(\"DEBUG: not the reply\", flush=True)\n            continue\n",
            ),
        ],
    );
    let (code, report, printed) = check(&["--adapter", &adapter]);
    assert_eq!(code, 1, "{printed}");
    assert!(report["harness_broken"].is_null(), "{printed}");
    assert!(report["adapter_broken"].is_null(), "{printed}");
    let cases: Vec<&str> = findings(&report)
        .iter()
        .filter_map(|f| f["case"].as_str())
        .collect();
    assert_eq!(
        cases,
        [
            "vectors/roundtrip/valid_number_exponent_forms_in_unknown_member",
            "vectors/roundtrip/valid_quarantine_reason_unicode",
        ],
        "{printed}"
    );
    let message = |case: &str| {
        finding(&report, case).expect("found")["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_says_all(
        &message("vectors/roundtrip/valid_quarantine_reason_unicode"),
        &[
            "the adapter died during save (exit status: 9)",
            "the request as sent: \"{\\\"cmd\\\":\\\"save\\\"",
            "Schritt fehlgeschlagen – 日本 😀",
            "adapter stderr:\n  cannot read this request",
        ],
    );
    assert_says_all(
        &message("vectors/roundtrip/valid_number_exponent_forms_in_unknown_member"),
        &[
            "the adapter answered save with a line that is not its reply",
            "not a JSON object",
            "DEBUG: not the reply",
            "-1.5E+05",
        ],
    );
    // Every suite ran to its end, the traced ones included.
    for suite in [
        "smoke",
        "vectors",
        "traces",
        "permissions",
        "concurrency",
        "kill",
        "faults",
        "power",
    ] {
        assert!(
            results(&report)
                .iter()
                .any(|r| r["suite"] == suite && r["verdict"] == "pass"),
            "no case of {suite} passed:\n{printed}"
        );
    }
}

/// `lifecycle check ARGS…` with its peak memory: the exit code, the report
/// and the peak resident set size in KiB (of the oracle, or of an adapter
/// it waited for if one grew larger).
fn check_measuring_memory(args: &[&str]) -> (i32, Value, i64) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("report.json");
    // wait4 below reaps it: std's wait would not give its rusage.
    #[expect(clippy::zombie_processes, reason = "reaped by wait4")]
    let child = Command::new(LIFECYCLE)
        .arg("check")
        .args(args)
        .arg("--json")
        .arg(&json)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("lifecycle runs");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: rusage is plain integers and timevals, for which all zero
    // bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes only to the two places given, both alive and
    // of their types; `pid` is our child, not reaped yet (std's `Child`
    // never waits unless asked).
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "{}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, read_report(&json), usage.ru_maxrss)
}

#[test]
fn an_endless_line_is_a_finding_and_the_oracle_memory_stays_bounded() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // Its fifth request, after the smoke suite's four, is the default of
    // vectors/default: it answers with bytes and no newline, without end.
    // One job: an adapter process of a second runner would count its own.
    let adapter = misbehaving_adapter(dir.path(), "endless", 5, When::Once);
    let (code, report, peak_kib) = check_measuring_memory(&[
        "--adapter",
        &adapter,
        "--jobs",
        "1",
        "--timeout",
        "10",
        "--suite",
        "vectors",
        "--run",
        "vectors/default",
        "--run",
        "vectors/load/valid_base_record",
    ]);
    assert_eq!(code, 1, "{report}");
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["case"], "vectors/default");
    assert!(
        found[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("wrote more than 64 MiB in answer to default")),
        "{}",
        found[0]
    );
    assert!(
        finding(&report, "vectors/load/valid_base_record").is_none()
            && results(&report)
                .iter()
                .any(|r| r["case"] == "vectors/load/valid_base_record" && r["verdict"] == "pass"),
        "the run went on after the endless line: {report}"
    );
    eprintln!("peak memory of the oracle: {} MiB", peak_kib / 1024);
    assert!(
        peak_kib < 256 * 1024,
        "the oracle grew to {peak_kib} KiB reading an endless line"
    );
}

/// An adapter around `lifecycle adapter` that answers every request but
/// its start with an exception of the implementation: every trace and
/// every vector is a finding (and the smoke suite passes: an exception is
/// an answer).
fn adapter_that_raises(dir: &Path) -> String {
    wrapped_adapter(
        dir,
        "raises",
        "",
        r#"    if '"cmd":"start"' not in line:
        reply = json.dumps({"seq": json.loads(line)["seq"], "errored": {"type": "Fire", "message": "the disk is on fire", "traceback": ""}}) + "\n""#,
    )
}

/// Runs a report's rerun command, its `lifecycle` this build's, with a
/// JSON report.
fn rerun(command: &str) -> (i32, Value, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let json = dir.path().join("report.json");
    let tail = command
        .strip_prefix("lifecycle check ")
        .unwrap_or_else(|| panic!("a rerun command: {command}"));
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" check {tail} --json \"$1\""))
        .arg(LIFECYCLE)
        .arg(&json)
        .output()
        .expect("sh runs");
    outcome(&output, &json)
}

#[test]
fn the_rerun_of_a_trace_past_the_default_count_and_of_a_vector_runs_that_case_alone() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let vectors = dir.path().join("vectors");
    let status = Command::new(LIFECYCLE)
        .arg("vectors")
        .arg("--out")
        .arg(&vectors)
        .status()
        .expect("runs");
    assert!(status.success());
    let adapter = adapter_that_raises(dir.path());
    let (code, report, printed) = check(&[
        "--adapter",
        &adapter,
        "--vectors",
        &vectors.display().to_string(),
        "--cases",
        "70",
        "--seed",
        "5",
        "--run",
        "traces/67",
        "--run",
        "vectors/load/valid_base_record",
    ]);
    assert_eq!(code, 1, "{printed}");
    let found = findings(&report);
    assert_eq!(found.len(), 2, "{printed}");
    for f in found {
        let case = f["case"].as_str().expect("an id");
        let command = f["rerun"].as_str().expect("a rerun command");
        let (code, again, printed) = rerun(command);
        assert_eq!(code, 1, "{command}:\n{printed}");
        let cases: Vec<&str> = results(&again)
            .iter()
            .filter_map(|r| r["case"].as_str())
            .collect();
        assert_eq!(cases, [case], "{command}:\n{printed}");
        let same = &results(&again)[0];
        for member in ["verdict", "spec", "reproduction"] {
            assert_eq!(same[member], f[member], "{command}: {member}");
        }
    }
    // Without the number of traces, the trace is no case, and the
    // message says which option plans it.
    let (code, _, printed) = check(&["--adapter", &adapter, "--case", "traces/67"]);
    assert_eq!(code, 2, "{printed}");
    assert!(printed.contains("--cases 68 or more plans it"), "{printed}");
}

#[test]
fn a_trace_whose_request_kills_the_adapter_shrinks_to_one_finding_at_a_bounded_cost() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let sent = dir.path().join("dispatches");
    let adapter = wrapped_adapter(
        dir.path(),
        "dies_at_dispatch",
        &format!(
            r#"    if '"cmd":"dispatch"' in line:
        with open({sent:?}, "a") as log:
            log.write(json.loads(line)["path"] + "\n")
        sys.exit(3)"#,
            sent = sent.display().to_string()
        ),
        "",
    );
    let (code, report, printed) = check(&[
        "--adapter",
        &adapter,
        "--suite",
        "traces",
        "--cases",
        "8",
        "--seed",
        "5",
    ]);
    assert_eq!(code, 1, "{printed}");
    assert!(report["harness_broken"].is_null(), "{printed}");
    let found = findings(&report);
    assert!(!found.is_empty(), "{printed}");
    for f in &found {
        let message = f["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("the adapter died during dispatch (exit status: 3)")
                && message.contains("the request as sent: \"{\\\"cmd\\\":\\\"dispatch\\\""),
            "{f}"
        );
        // Shrunk, the dispatch its last step.
        let steps = f["reproduction"].as_str().unwrap_or_default();
        let last = steps.lines().rev().nth(1).unwrap_or_default();
        assert!(last.contains(". dispatch "), "{steps}");
        assert!(steps.lines().count() < 12, "{steps}");
    }
    // Each trace (its runs in directories of one case's) sent dispatches
    // at most as often as a case's faults allow, and once more.
    let log = fs::read_to_string(&sent).expect("dispatches were sent");
    let mut per_case: BTreeMap<&str, usize> = BTreeMap::new();
    for path in log.lines() {
        let case = path
            .split('/')
            .find(|part| part.starts_with("case-"))
            .expect("a case directory");
        *per_case.entry(case).or_default() += 1;
    }
    assert_eq!(per_case.len(), found.len(), "{log}");
    assert!(per_case.values().all(|n| *n <= 6), "{per_case:?}");
}

#[test]
fn a_store_reading_a_device_as_an_empty_file_passes_and_one_calling_it_missing_is_caught() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let regular_check = "        if not stat.S_ISREG(st.st_mode):\n            raise OSError(22, \"not a regular file\", str(path))\n";
    let case = "vectors/path/symlink_to_device";
    let verdict = |store: &Path| {
        let (_, report, printed) = check(&["--adapter", &python_adapter(store), "--run", case]);
        let results = results(&report);
        assert_eq!(results.len(), 1, "{printed}");
        (results[0]["verdict"].clone(), results[0]["message"].clone())
    };
    // /dev/null reads as zero bytes without an error: corrupt (empty).
    let as_empty = broken_store(dir.path(), "reads_devices", regular_check, "");
    let (got, message) = verdict(&as_empty);
    assert_eq!(got, "pass", "{message}");
    assert!(
        message.as_str().is_some_and(|m| m.contains("empty file")),
        "{message}"
    );
    let as_missing = broken_store(
        dir.path(),
        "calls_devices_missing",
        regular_check,
        "        if not stat.S_ISREG(st.st_mode):\n            raise FileNotFoundError(2, \"not a regular file\", str(path))\n",
    );
    let (got, message) = verdict(&as_missing);
    assert_eq!(got, "divergence", "{message}");
}
