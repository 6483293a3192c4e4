//! Replays every committed fuzz input through its target on stable Rust.
//!
//! For each target of `lifecycle_fuzz::TARGETS`, the replay runs every
//! file of `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` (both
//! committed, and never written by a fuzzer: `cargo fuzz run` grows the
//! ignored `fuzz/corpus/<target>/`) through the same library function the
//! cargo-fuzz binary calls, and fails with the names of the files that
//! panicked, of every target at once. A minimum file count per target
//! makes it fail if the seeds vanished. A target added to `TARGETS` is
//! replayed with no change here.
//!
//! A regression named `open-*` reproduces a bug that is not fixed yet: it
//! must still fail, and the test says so when it stops failing (then drop
//! the `open-` prefix so it guards the fix).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lifecycle_fuzz::Target;

/// The regular files of `dir` (none if it is missing), dotfiles and
/// READMEs aside, in name order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !n.starts_with("README"))
        })
        .collect();
    files.sort();
    files
}

/// What went wrong replaying `target`'s committed inputs through `body`:
/// too few of them, files that failed, `open-` files that pass; one line
/// each.
fn replay(target: &str, body: Target, at_least: usize) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = files(&root.join("seeds").join(target));
    inputs.extend(files(&root.join("regressions").join(target)));
    let mut wrong = Vec::new();
    if inputs.len() < at_least {
        wrong.push(format!(
            "only {} inputs, expected at least {at_least}: did the seeds vanish?",
            inputs.len()
        ));
    }
    wrong.extend(inputs.iter().filter_map(|path| {
        let data =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let failed = catch_unwind(AssertUnwindSafe(|| body(&data))).is_err();
        let open = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("open-"));
        match (failed, open) {
            (true, false) => Some(format!("fails: {}", path.display())),
            (false, true) => Some(format!(
                "passes now, drop its open- prefix: {}",
                path.display()
            )),
            _ => None,
        }
    }));
    wrong
}

/// The fewest committed inputs `target` may have before its seeds count as
/// vanished: for `load_bytes`, the copies of tests/vectors (one file per
/// rule of SPEC §1); for the others, their hand-made seeds (all are in
/// their seed folders).
fn at_least(target: &str) -> usize {
    if target == "load_bytes" {
        return 400;
    }
    lifecycle_fuzz::seeds::all()
        .into_iter()
        .find(|(t, _)| *t == target)
        .map_or(0, |(_, seeds)| seeds.len())
}

#[test]
fn every_corpus_file_of_every_target_replays_cleanly() {
    let report: Vec<String> = lifecycle_fuzz::TARGETS
        .iter()
        .flat_map(|(target, body)| {
            replay(target, *body, at_least(target))
                .into_iter()
                .map(move |line| format!("{target}: {line}"))
        })
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// SPEC §1.6.1 from both sides, which the committed corpus is too small to
/// hold: the valid base record padded to exactly 1 MiB, and one byte more.
#[test]
fn load_bytes_holds_at_both_sides_of_the_size_limit() {
    let base = br#"{"current_state":"WAKE","since_ts":"2026-11-26T07:41:10Z","last_activity_ts":"2026-11-26T07:41:10Z","wrapper_event_seq":0,"shadow_run":false}"#;
    for size in [1_048_576, 1_048_577] {
        let mut file = base.to_vec();
        file.resize(size, b' ');
        lifecycle_fuzz::load_bytes(&file);
        lifecycle_fuzz::load_bytes::one_file(Arc::new(file), true);
    }
}

/// SPEC §1.1.6, deeper than the fuzzers go (they stop at 4,095 levels to
/// stay fast): half a million nested arrays and 100,000 nested objects in
/// a valid record, and the same as a known member (corrupt).
#[test]
fn load_bytes_and_the_codec_hold_for_deep_nesting() {
    let base = r#"{"current_state":"WAKE","since_ts":"2026-11-26T07:41:10Z","last_activity_ts":"2026-11-26T07:41:10Z","wrapper_event_seq":0,"shadow_run":false,"#;
    let arrays = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    for (name, value) in [
        ("deep", &arrays),
        ("deep", &objects),
        ("quarantine", &objects),
    ] {
        let file = format!(r#"{base}"{name}":{value}}}"#);
        lifecycle_fuzz::load_bytes(file.as_bytes());
        lifecycle_fuzz::load_bytes::one_file(Arc::new(file.into_bytes()), true);
    }
}
