//! The shared conformance vectors (`tests/vectors/`) against the model's
//! decoder: an independent check of `lifecycle_model::record::decode`.
//!
//! Every mismatch is collected so one run lists them all.

use std::fs;
use std::path::Path;

use lifecycle_model::record::{decode, Record};

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"));
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .expect("the vectors directory is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let bytes = fs::read(&path).expect("a readable vector");
            (name, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_vector_gets_the_verdict_its_name_states() {
    let vectors = vectors();
    assert!(vectors.len() >= 60, "only {} vectors", vectors.len());
    let mut mismatches = Vec::new();
    for (name, bytes) in &vectors {
        let verdict = decode(bytes);
        let ok = if name.starts_with("valid_") {
            verdict.is_ok()
        } else if name.starts_with("corrupt_") {
            verdict.is_err()
        } else {
            false
        };
        if !ok {
            mismatches.push(format!("{name}: {verdict:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn both_verdicts_are_present_among_the_vectors() {
    let vectors = vectors();
    assert!(vectors.iter().any(|(n, _)| n.starts_with("valid_")));
    assert!(vectors.iter().any(|(n, _)| n.starts_with("corrupt_")));
}

#[test]
fn every_valid_vector_round_trips_through_encode() {
    let mut mismatches = Vec::new();
    for (name, bytes) in vectors() {
        let Ok(record) = decode(&bytes) else { continue };
        let encoded = record.encode();
        let again: Result<Record, _> = decode(&encoded);
        match again {
            Ok(r) if r == record && r.encode() == encoded && r.is_valid() => {}
            other => mismatches.push(format!("{name}: {other:?}")),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
