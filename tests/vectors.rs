//! Table-driven conformance vectors for `lifecycle_state::codec`.
//!
//! Every `*.json` file in `tests/vectors/` is one case; its name states the
//! verdict: `valid_*` must decode, `corrupt_*` must be rejected. The files are
//! written by `tests/vectors/generate.py` (see `tests/vectors/README.md`).
//!
//! Both tests collect every mismatch and fail once with the full list, so a
//! single run shows everything the decoder gets wrong.

use std::fmt::Display;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lifecycle_state::codec::{decode, encode};
use lifecycle_state::Record;

/// The directory must hold at least this many cases.
const MIN_VECTORS: usize = 60;
/// Every vector stays below 64 KiB (larger inputs are tested in code).
const MAX_VECTOR_BYTES: usize = 64 * 1024;
/// Long texts (records, messages) are cut to this many characters in reports.
const REPORT_CHARS: usize = 300;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Valid,
    Corrupt,
}

struct Vector {
    name: String,
    bytes: Vec<u8>,
}

impl Vector {
    /// The verdict the file name states, or `None` for an unknown prefix.
    fn expected(&self) -> Option<Verdict> {
        if self.name.starts_with("valid_") {
            Some(Verdict::Valid)
        } else if self.name.starts_with("corrupt_") {
            Some(Verdict::Corrupt)
        } else {
            None
        }
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

/// Every `*.json` file in the vectors directory, sorted by name.
fn load_vectors() -> Vec<Vector> {
    let dir = vectors_dir();
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut vectors = Vec::new();
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let path = entry.path();
        let name = match path.file_name().and_then(|n| n.to_str()) {
            Some(name) if name.ends_with(".json") => name.to_owned(),
            Some(_) => continue,
            None => panic!("vector file name is not UTF-8: {}", path.display()),
        };
        let bytes =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        vectors.push(Vector { name, bytes });
    }
    vectors.sort_by(|a, b| a.name.cmp(&b.name));
    vectors
}

fn shorten(text: impl Display) -> String {
    let text = text.to_string();
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(REPORT_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}… ({} chars in all)", text.chars().count())
    } else {
        head
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// `decode`, with a panic turned into an error text (decoding must never
/// panic; a panic is reported as a mismatch instead of aborting the table).
fn guarded_decode(bytes: &[u8]) -> Result<Result<Record, String>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        decode(bytes).map_err(|e| e.to_string())
    }))
    .map_err(|payload| format!("decode panicked: {}", panic_message(payload.as_ref())))
}

/// `encode`, with a panic turned into an error text.
fn guarded_encode(record: &Record) -> Result<Vec<u8>, String> {
    catch_unwind(AssertUnwindSafe(|| encode(record)))
        .map_err(|payload| format!("encode panicked: {}", panic_message(payload.as_ref())))
}

fn fail_with(title: &str, checked: usize, mismatches: &[String]) {
    if !mismatches.is_empty() {
        panic!(
            "{title}: {} of {checked} vectors mismatch:\n  {}",
            mismatches.len(),
            mismatches.join("\n  ")
        );
    }
}

#[test]
fn every_vector_gets_the_verdict_its_name_states() {
    let vectors = load_vectors();
    let valid = vectors
        .iter()
        .filter(|v| v.expected() == Some(Verdict::Valid))
        .count();
    let corrupt = vectors
        .iter()
        .filter(|v| v.expected() == Some(Verdict::Corrupt))
        .count();
    assert!(
        vectors.len() >= MIN_VECTORS,
        "expected at least {MIN_VECTORS} vectors in {}, found {}",
        vectors_dir().display(),
        vectors.len()
    );
    assert!(valid > 0, "no valid_*.json vectors found");
    assert!(corrupt > 0, "no corrupt_*.json vectors found");

    let mut mismatches = Vec::new();
    for vector in &vectors {
        let name = &vector.name;
        if vector.bytes.len() >= MAX_VECTOR_BYTES {
            mismatches.push(format!(
                "{name}: {} bytes; vectors must stay under {MAX_VECTOR_BYTES} bytes",
                vector.bytes.len()
            ));
        }
        let Some(expected) = vector.expected() else {
            mismatches.push(format!(
                "{name}: name must start with `valid_` or `corrupt_`"
            ));
            continue;
        };
        match (expected, guarded_decode(&vector.bytes)) {
            (_, Err(panicked)) => mismatches.push(format!("{name}: {}", shorten(panicked))),
            (Verdict::Valid, Ok(Ok(_))) | (Verdict::Corrupt, Ok(Err(_))) => {}
            (Verdict::Valid, Ok(Err(reason))) => mismatches.push(format!(
                "{name}: expected a valid record, decoder said corrupt: {}",
                shorten(reason)
            )),
            (Verdict::Corrupt, Ok(Ok(record))) => mismatches.push(format!(
                "{name}: expected corrupt, decoder accepted it as {}",
                shorten(format!("{record:?}"))
            )),
        }
    }
    fail_with(
        "decode verdicts differ from the vector names",
        vectors.len(),
        &mismatches,
    );
}

/// Where two byte strings first differ, with a little context from each.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(40);
    let snippet = |s: &[u8]| {
        shorten(String::from_utf8_lossy(
            &s[from.min(s.len())..(at + 40).min(s.len())],
        ))
    };
    format!(
        "lengths {} vs {}, first difference at byte {at}: {:?} vs {:?}",
        a.len(),
        b.len(),
        snippet(a),
        snippet(b)
    )
}

#[test]
fn every_valid_vector_round_trips_through_encode_to_a_fixed_point() {
    let vectors: Vec<Vector> = load_vectors()
        .into_iter()
        .filter(|v| v.expected() == Some(Verdict::Valid))
        .collect();
    assert!(!vectors.is_empty(), "no valid_*.json vectors found");

    let mut mismatches = Vec::new();
    for vector in &vectors {
        let name = &vector.name;
        let record = match guarded_decode(&vector.bytes) {
            Ok(Ok(record)) => record,
            Ok(Err(reason)) => {
                mismatches.push(format!(
                    "{name}: cannot round-trip, decoder said corrupt: {}",
                    shorten(reason)
                ));
                continue;
            }
            Err(panicked) => {
                mismatches.push(format!("{name}: {}", shorten(panicked)));
                continue;
            }
        };
        let encoded = match guarded_encode(&record) {
            Ok(bytes) => bytes,
            Err(panicked) => {
                mismatches.push(format!("{name}: {}", shorten(panicked)));
                continue;
            }
        };
        let again = match guarded_decode(&encoded) {
            Ok(Ok(again)) => again,
            Ok(Err(reason)) => {
                mismatches.push(format!(
                    "{name}: encode(decode(file)) does not decode: {}; encoded: {}",
                    shorten(reason),
                    shorten(String::from_utf8_lossy(&encoded))
                ));
                continue;
            }
            Err(panicked) => {
                mismatches.push(format!(
                    "{name}: decoding encode(decode(file)): {}",
                    shorten(panicked)
                ));
                continue;
            }
        };
        if again != record {
            mismatches.push(format!(
                "{name}: decode(encode(r)) != r: {} vs {}",
                shorten(format!("{again:?}")),
                shorten(format!("{record:?}"))
            ));
            continue;
        }
        match guarded_encode(&again) {
            Ok(re_encoded) if re_encoded == encoded => {}
            Ok(re_encoded) => mismatches.push(format!(
                "{name}: encode(decode(encode(r))) != encode(r): {}",
                first_difference(&re_encoded, &encoded)
            )),
            Err(panicked) => mismatches.push(format!("{name}: {}", shorten(panicked))),
        }
    }
    fail_with(
        "valid vectors do not round-trip",
        vectors.len(),
        &mismatches,
    );
}
