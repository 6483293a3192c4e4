//! `judge-uninstrumented.sh` runs a command with itself as Cargo's rustc
//! wrapper, and as the wrapper drops the sanitizer-coverage flags from the
//! compilations of the judge's crates and of nothing else.
//!
//! Runs the wrapper with a stand-in for rustc that prints the arguments it
//! was given, one per line.

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("judge-uninstrumented.sh")
}

/// The arguments rustc receives when the wrapper is given `args`.
fn passed_on(args: &[&str]) -> Vec<String> {
    let out = Command::new("bash")
        .arg(script())
        .env("LIFECYCLE_JUDGE_UNINSTRUMENTED", "wrapper")
        .arg("printf")
        .arg("%s\\n")
        .args(args)
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "the wrapper failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8 arguments")
        .lines()
        .map(str::to_string)
        .collect()
}

/// What cargo-fuzz adds to RUSTFLAGS for a `-s none` build, in both of the
/// spellings rustc accepts.
const FUZZ_FLAGS: [&str; 8] = [
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-C",
    "llvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
    "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
];

fn compile(crate_name: &str) -> Vec<String> {
    let mut args = vec!["--crate-name", crate_name, "--edition=2021"];
    args.extend(FUZZ_FLAGS);
    passed_on(&args)
}

#[test]
fn the_judges_crates_are_compiled_without_coverage_but_with_everything_else() {
    for judge in ["lifecycle_harness", "lifecycle_testkit"] {
        assert_eq!(
            compile(judge),
            [
                "--crate-name",
                judge,
                "--edition=2021",
                "--cfg",
                "fuzzing",
                "-Cllvm-args=-simplifycfg-branch-fold-threshold=0"
            ],
            "{judge}"
        );
    }
}

#[test]
fn the_store_the_model_and_the_targets_keep_their_coverage() {
    for subject in [
        "lifecycle_state",
        "lifecycle_model",
        "lifecycle_fuzz",
        "load_bytes",
    ] {
        let mut expected = vec!["--crate-name", subject, "--edition=2021"];
        expected.extend(FUZZ_FLAGS);
        assert_eq!(compile(subject), expected, "{subject}");
    }
}

#[test]
fn a_call_that_compiles_no_crate_passes_through() {
    assert_eq!(passed_on(&["-vV"]), ["-vV"]);
    assert_eq!(
        passed_on(&["@/tmp/argfile", "-Cpasses=sancov-module"]),
        ["@/tmp/argfile", "-Cpasses=sancov-module"]
    );
}

#[test]
fn a_command_runs_with_the_script_as_rustc_wrapper_and_a_flag_that_forces_a_rebuild() {
    let run = |rustflags: Option<&str>| {
        let mut command = Command::new("bash");
        command
            .arg(script())
            .args(["sh", "-c", "printf '%s|%s|%s' \"$RUSTC_WRAPPER\" \"$RUSTFLAGS\" \"$LIFECYCLE_JUDGE_UNINSTRUMENTED\""])
            .env_remove("LIFECYCLE_JUDGE_UNINSTRUMENTED")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTFLAGS");
        if let Some(flags) = rustflags {
            command.env("RUSTFLAGS", flags);
        }
        let out = command.output().expect("run bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let wrapper = script().canonicalize().expect("the script exists");
    let wrapper = wrapper.to_str().expect("a UTF-8 path");
    assert_eq!(
        run(None),
        format!("{wrapper}|--cfg judge_uninstrumented|wrapper")
    );
    assert_eq!(
        run(Some("-Cdebug-assertions")),
        format!("{wrapper}|-Cdebug-assertions --cfg judge_uninstrumented|wrapper")
    );
}

#[test]
fn without_a_command_it_says_how_to_use_it() {
    let out = Command::new("bash")
        .arg(script())
        .env_remove("LIFECYCLE_JUDGE_UNINSTRUMENTED")
        .output()
        .expect("run bash");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fuzz/judge-uninstrumented.sh cargo"));
}
