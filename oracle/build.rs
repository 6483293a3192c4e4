//! Embeds the conformance vectors (`tests/vectors/*.json`) so `lifecycle
//! check` and `lifecycle vectors --out` need no file beside the binary.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../tests/vectors");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the vectors at {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let mut out = String::from("/// Every vector of `tests/vectors`: its name (without `.json`) and bytes.\npub const EMBEDDED: &[(&str, &[u8])] = &[\n");
    for name in &names {
        let path = dir.join(name).canonicalize().expect("a vector's path");
        out.push_str(&format!(
            "    ({:?}, include_bytes!({:?})),\n",
            name.trim_end_matches(".json"),
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let target = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("vectors.rs");
    fs::write(&target, out).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
}
