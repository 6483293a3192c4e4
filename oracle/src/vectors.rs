//! The conformance vectors: files a load must read as a record or as the
//! default, exported for any test runner and read back.
//!
//! Promises: [`embedded`] is every vector of `tests/vectors` (compiled into
//! the binary) plus the ones too large to store (exactly 1 MiB, 1 MiB + 1,
//! 2 MiB, nesting 200,000 deep), each with what a load must make of it:
//! `valid` (the stored record), `corrupt` (the default), or
//! `implementation-defined` (requirements §7: either, reported as
//! information). [`export`] writes them as data files with `index.json`
//! and a README; [`read`] reads such a directory back, so an export is
//! proven to round-trip. [`without_lone_surrogates`] says where a
//! vector's only fault is an unpaired surrogate escape, for the vectors
//! suite to hand its text to a save.
//!
//! Does not promise: that a name says more than its expectation; the model
//! judges every vector again when it runs.

use std::fs;
use std::path::Path;

use lifecycle_model::implementation_defined::{self, Point};
use lifecycle_model::record::decode;
use lifecycle_model::spec::MAX_FILE_BYTES;
use serde_json::{json, Value};

include!(concat!(env!("OUT_DIR"), "/vectors.rs"));

/// What a load must make of a vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Valid,
    Corrupt,
    /// Either, by requirements §7: the points it touches.
    ImplementationDefined(Vec<Point>),
}

impl Expected {
    pub fn name(&self) -> &'static str {
        match self {
            Expected::Valid => "valid",
            Expected::Corrupt => "corrupt",
            Expected::ImplementationDefined(_) => "implementation-defined",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vector {
    /// The file name without `.json`, e.g. `corrupt_bom`.
    pub name: String,
    pub bytes: Vec<u8>,
    pub expected: Expected,
}

impl Vector {
    /// A vector named `name`, its expectation from the name's prefix
    /// unless it touches a point of requirements §7.
    pub fn named(name: &str, bytes: Vec<u8>) -> Vector {
        let points = implementation_defined::of_bytes(&bytes);
        let expected = if !points.is_empty() {
            Expected::ImplementationDefined(points)
        } else if name.starts_with("valid_") {
            Expected::Valid
        } else {
            Expected::Corrupt
        };
        Vector {
            name: name.to_string(),
            bytes,
            expected,
        }
    }

    /// The SPEC rule it tests.
    pub fn rule(&self) -> String {
        match (&self.expected, decode(&self.bytes)) {
            (Expected::ImplementationDefined(_), _) => "requirements §7".to_string(),
            (_, Ok(_)) => "§1".to_string(),
            (_, Err(corrupt)) => format!("§1.6 item {}", corrupt.item()),
        }
    }

    /// One line on what it is.
    pub fn description(&self) -> String {
        let what = self
            .name
            .split_once('_')
            .map_or(self.name.as_str(), |(_, rest)| rest)
            .replace('_', " ");
        match &self.expected {
            Expected::ImplementationDefined(points) => {
                let points: Vec<&str> = points.iter().map(|p| p.describe()).collect();
                format!("{what} (either outcome conforms: {})", points.join("; "))
            }
            other => format!("{what} (load must find it {})", other.name()),
        }
    }
}

/// A JSON text with its unpaired surrogate escapes spelled `\ufffd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub bytes: Vec<u8>,
    /// Whether one was in a member name.
    pub in_a_name: bool,
}

/// `bytes` with every unpaired surrogate escape (`\ud800` alone, a low
/// one first, a high one before anything but a low one; SPEC §1.1.3)
/// spelled `\ufffd` instead, or `None` when it has none.
pub fn without_lone_surrogates(bytes: &[u8]) -> Option<Replaced> {
    let unit = |at: usize| -> Option<u16> {
        let hex = bytes.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(bytes.len());
    let (mut lone, mut lone_here, mut in_a_name) = (false, false, false);
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !in_string {
            in_string = b == b'"';
            out.push(b);
            i += 1;
            continue;
        }
        match (b, unit(i)) {
            (b'"', _) => {
                in_string = false;
                out.push(b);
                i += 1;
                // A string followed by a colon is a member name.
                let next = bytes[i..]
                    .iter()
                    .find(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'));
                in_a_name |= lone_here && next == Some(&b':');
                lone_here = false;
            }
            (b'\\', Some(0xD800..=0xDBFF)) if matches!(unit(i + 6), Some(0xDC00..=0xDFFF)) => {
                out.extend_from_slice(&bytes[i..i + 12]);
                i += 12;
            }
            (b'\\', Some(0xD800..=0xDFFF)) => {
                lone = true;
                lone_here = true;
                out.extend_from_slice(b"\\ufffd");
                i += 6;
            }
            (b'\\', _) => {
                out.extend_from_slice(&bytes[i..(i + 2).min(bytes.len())]);
                i += 2;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    lone.then_some(Replaced {
        bytes: out,
        in_a_name,
    })
}

/// A valid record of exactly `size` bytes (whitespace after the value), or
/// `None` when it cannot be that small.
fn padded(size: usize) -> Vec<u8> {
    let mut bytes = br#"{"current_state":"WAKE","since_ts":"2026-11-26T07:41:10.123456Z","last_activity_ts":"2026-11-26T07:41:10Z","wrapper_event_seq":42,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}"#.to_vec();
    bytes.resize(size, b' ');
    bytes
}

/// The vectors too large to store in the repository.
fn generated() -> Vec<Vector> {
    let deep = 200_000;
    let mut nested = br#"{"current_state":"WAKE","since_ts":"2026-11-26T07:41:10Z","last_activity_ts":"2026-11-26T07:41:10Z","wrapper_event_seq":1,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x":"#.to_vec();
    nested.extend(std::iter::repeat_n(b'[', deep));
    nested.extend(std::iter::repeat_n(b']', deep));
    nested.push(b'}');
    vec![
        Vector::named("valid_exactly_1_mib", padded(MAX_FILE_BYTES)),
        Vector::named("corrupt_1_mib_plus_1", padded(MAX_FILE_BYTES + 1)),
        Vector::named("corrupt_2_mib", padded(2 * MAX_FILE_BYTES)),
        Vector::named("valid_nesting_200000_deep_in_unknown", nested),
    ]
}

/// Every vector: the stored ones, then the generated ones.
pub fn embedded() -> Vec<Vector> {
    let mut vectors: Vec<Vector> = EMBEDDED
        .iter()
        .map(|(name, bytes)| Vector::named(name, bytes.to_vec()))
        .collect();
    vectors.extend(generated());
    vectors
}

const README: &str = r#"# Conformance vectors for `lifecycle_state.json`

Exported by `lifecycle vectors --out DIR`. Each `<name>.json` is the whole
content of a record file (some are not JSON, some are not UTF-8: read them
as bytes). `index.json` lists them:

| member | meaning |
|---|---|
| `name` | the vector's name; the file is `<name>.json` |
| `expected` | `valid`: load returns the stored record; `corrupt`: load returns the default record (requirements §1, §2); `implementation-defined`: either conforms (requirements §7) |
| `spec` | the rule it tests: `§1`, `§1.6 item N` (SPEC.md's list of corrupt files), or `requirements §7` |
| `description` | one line on what it is |

To run them in any test runner: for each entry, write the file's bytes to
`lifecycle_state.json` in an empty directory, call your load, and check the
result against `expected`. For `valid`, compare the returned record with the
file's JSON value as requirements §7 compares records (timestamps as
instants, unknown members as JSON values). A load that crashes, hangs or
raises fails every vector, whatever it expects.

`lifecycle check --vectors DIR --adapter CMD` runs an exported set through
an adapter.
"#;

/// Writes every vector of `vectors` into `dir` (made if missing), with
/// `index.json` and `README.md`.
pub fn export(vectors: &[Vector], dir: &Path) -> Result<(), String> {
    let fail = |what: &Path, e: std::io::Error| format!("cannot write {}: {e}", what.display());
    fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let mut index = Vec::new();
    for v in vectors {
        let path = dir.join(format!("{}.json", v.name));
        fs::write(&path, &v.bytes).map_err(|e| fail(&path, e))?;
        index.push(json!({
            "name": v.name,
            "expected": v.expected.name(),
            "spec": v.rule(),
            "description": v.description(),
        }));
    }
    let path = dir.join("index.json");
    let text = serde_json::to_string_pretty(&Value::Array(index))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    fs::write(&path, text + "\n").map_err(|e| fail(&path, e))?;
    let path = dir.join("README.md");
    fs::write(&path, README).map_err(|e| fail(&path, e))
}

/// Reads a directory written by [`export`].
pub fn read(dir: &Path) -> Result<Vec<Vector>, String> {
    let path = dir.join("index.json");
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let index: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let entries = index
        .as_array()
        .ok_or_else(|| format!("{} is not a JSON array", path.display()))?;
    let mut vectors = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{} entry {i}: no string member {name:?}", path.display()))
        };
        let name = field("name")?;
        if name.contains('/') || name.starts_with('.') {
            return Err(format!(
                "{} entry {i}: the name {name:?} is not a file name",
                path.display()
            ));
        }
        let file = dir.join(format!("{name}.json"));
        let bytes = fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let points = implementation_defined::of_bytes(&bytes);
        let expected = match field("expected")? {
            "valid" => Expected::Valid,
            "corrupt" => Expected::Corrupt,
            "implementation-defined" => Expected::ImplementationDefined(points),
            other => {
                return Err(format!(
                "{} entry {i}: expected is {other:?}, not valid, corrupt or implementation-defined",
                path.display()
            ))
            }
        };
        vectors.push(Vector {
            name: name.to_string(),
            bytes,
            expected,
        });
    }
    Ok(vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_vector_is_embedded_and_the_large_ones_are_made() {
        let vectors = embedded();
        assert!(EMBEDDED.len() >= 400, "{} stored vectors", EMBEDDED.len());
        assert_eq!(vectors.len(), EMBEDDED.len() + 4);
        let big = vectors
            .iter()
            .find(|v| v.name == "valid_exactly_1_mib")
            .expect("made");
        assert_eq!(big.bytes.len(), MAX_FILE_BYTES);
        assert_eq!(big.expected, Expected::Valid);
    }

    #[test]
    fn lone_surrogate_escapes_are_found_and_pairs_are_kept() {
        let fixed = |text: &str| {
            without_lone_surrogates(text.as_bytes())
                .map(|r| (String::from_utf8(r.bytes).expect("UTF-8"), r.in_a_name))
        };
        assert_eq!(
            fixed(r#"{"x":"\ud800"}"#),
            Some((r#"{"x":"\ufffd"}"#.to_string(), false))
        );
        assert_eq!(
            fixed(r#"{"a\udc00" :"\ud800\n","y":"\ude00\ud83d"}"#),
            Some((
                r#"{"a\ufffd" :"\ufffd\n","y":"\ufffd\ufffd"}"#.to_string(),
                true
            ))
        );
        assert_eq!(fixed(r#"{"x":"\ud83d\ude00\\ud800"}"#), None);
        assert_eq!(fixed(r#"{"x":"ud800"}"#), None);
    }

    #[test]
    fn an_export_reads_back_as_it_was() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let vectors = embedded();
        export(&vectors, dir.path()).expect("exported");
        assert_eq!(read(dir.path()).expect("read back"), vectors);
    }

    #[test]
    fn a_bad_index_is_refused_with_its_entry() {
        let dir = tempfile::tempdir().expect("a temp dir");
        fs::write(
            dir.path().join("index.json"),
            r#"[{"name":"a","expected":"fine"}]"#,
        )
        .expect("written");
        fs::write(dir.path().join("a.json"), "{}").expect("written");
        let error = read(dir.path()).expect_err("refused");
        assert!(
            error.contains("entry 0") && error.contains("fine"),
            "{error}"
        );
    }
}
