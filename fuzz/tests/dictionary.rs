//! `lifecycle.dict` is a well-formed libFuzzer dictionary that knows the
//! vocabulary the structured generators use.

use std::path::Path;

fn entries() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("lifecycle.dict");
    let text = std::fs::read_to_string(&path).expect("read lifecycle.dict");
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `name="value"` or `"value"`.
        let quoted = line.find('"').map(|i| &line[i..]);
        let name_ok = line[..line.find('"').unwrap_or(0)]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '=');
        match quoted {
            Some(q) if q.len() >= 2 && q.ends_with('"') && name_ok => {
                entries.push(q[1..q.len() - 1].to_string())
            }
            _ => panic!("lifecycle.dict line {} is not an entry: {line}", n + 1),
        }
    }
    entries
}

#[test]
fn the_dictionary_is_well_formed_and_holds_every_word() {
    let entries = entries();
    assert!(entries.len() >= 60, "only {} entries", entries.len());
    for word in lifecycle_harness::vocabulary::WORDS {
        let quoted = format!("\\\"{word}\\\"");
        assert!(
            entries.iter().any(|e| e == word || *e == quoted),
            "lifecycle.dict lacks {word}"
        );
    }
}
