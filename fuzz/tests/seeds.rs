//! The hand-made seeds in `fuzz/seeds/` are the ones `src/seeds.rs` makes.
//!
//! `seed-<name>` files are written from readable values; when the input
//! format changes, rewrite them with
//! `LIFECYCLE_FUZZ_WRITE_SEEDS=1 cargo test --manifest-path fuzz/Cargo.toml --test seeds`.

use std::path::Path;

use lifecycle_fuzz::seeds::{all, regressions, Seed};

#[test]
fn committed_seeds_are_the_ones_seeds_rs_makes() {
    check("seeds", "seed-", all());
}

#[test]
fn hand_made_regressions_are_the_ones_seeds_rs_makes() {
    check("regressions", "", regressions());
}

/// `folder/<target>/<prefix><name>` holds each seed's bytes; with
/// `LIFECYCLE_FUZZ_WRITE_SEEDS` set, writes them (and drops stale seeds).
fn check(folder: &str, prefix: &str, made: Vec<(&str, Vec<Seed>)>) {
    let write = std::env::var_os("LIFECYCLE_FUZZ_WRITE_SEEDS").is_some();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    for (target, seeds) in made {
        let dir = corpus.join(target);
        let made: Vec<String> = seeds.iter().map(|(n, _)| format!("{prefix}{n}")).collect();
        if write {
            std::fs::create_dir_all(&dir).expect("create the seed folder");
            for entry in std::fs::read_dir(&dir).expect("list the seed folder") {
                let path = entry.expect("a seed folder entry").path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if !prefix.is_empty() && name.starts_with(prefix) && !made.iter().any(|m| m == name)
                {
                    std::fs::remove_file(&path).expect("remove a stale seed");
                }
            }
        }
        for ((name, bytes), file) in seeds.iter().zip(&made) {
            let path = dir.join(file);
            if write {
                std::fs::write(&path, bytes).expect("write a seed");
                continue;
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == *bytes,
                "{} is not the seed {name} of src/seeds.rs; rewrite the seeds with LIFECYCLE_FUZZ_WRITE_SEEDS=1",
                path.display()
            );
        }
        let stale: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| !prefix.is_empty() && n.starts_with(prefix) && !made.contains(n))
            .collect();
        assert!(
            stale.is_empty(),
            "stale seeds in {}: {stale:?}",
            dir.display()
        );
    }
}
