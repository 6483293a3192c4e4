//! Crash states loaded per second through an adapter.
//!
//! The `power` suite's last step, timed: every disk the persistence model
//! allows after a power loss at every point of SPEC §3.3's save (an old
//! record of 300 bytes replaced by a new one of 1,700; 512- and 4096-byte
//! blocks) is written into a directory of its own, then each is loaded
//! through an adapter child process speaking PROTOCOL.md and the answer is
//! judged against the model (`power::judge_load`). Criterion reports the
//! throughput in states loaded per second for `lifecycle adapter` and, in
//! the same run when python3 is there, for the Python adapter around
//! `adapters/python/conforming_store.py`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lifecycle_model::persistence::{Crash, CrashSpace, Disk, Node, Op};
use lifecycle_model::spec::{DIR_MODE, FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::Record;
use lifecycle_oracle::adapter::{Adapter, Config, Launch};
use lifecycle_oracle::traced::held::{materialize, Held};
use lifecycle_oracle::traced::load::judge_load;

const DIR: &str = "/s";

fn record(seq: u64, pad: usize) -> Record {
    let text = format!(
        r#"{{"current_state":"DROWSY","since_ts":"2024-03-01T00:00:00Z","last_activity_ts":"2024-03-01T00:00:00Z","wrapper_event_seq":{seq},"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"pad":"{}"}}"#,
        "x".repeat(pad)
    );
    lifecycle_model::record::decode(text.as_bytes()).expect("a valid bench record")
}

/// What the record path may hold after a power loss anywhere in the save.
fn crash_states() -> Vec<Held> {
    let record_path = format!("{DIR}/{RECORD_FILE_NAME}");
    let temp = format!("{DIR}/.lifecycle_state.0123456789abcdef.tmp");
    let mut before = Disk::default();
    before
        .nodes
        .insert(DIR.to_string(), Node::Dir { mode: DIR_MODE });
    before.nodes.insert(
        record_path.clone(),
        Node::File {
            inode: 1,
            mode: FILE_MODE,
            data: record(7, 300).encode(),
        },
    );
    let ops = [
        Op::Create {
            path: temp.clone(),
            inode: 2,
            mode: FILE_MODE,
        },
        Op::Write {
            inode: 2,
            offset: 0,
            data: record(8, 1700).encode(),
        },
        Op::FsyncFile { inode: 2 },
        Op::Rename {
            from: temp,
            to: record_path.clone(),
        },
        Op::FsyncDir {
            path: DIR.to_string(),
        },
    ];
    let mut states = Vec::new();
    for cut in 0..=ops.len() {
        for block_size in [512, 4096] {
            let space = CrashSpace::new(&before, &ops[..cut], Crash::PowerLoss { block_size })
                .expect("a valid op log");
            states.extend(space.states().map(|disk| Held::of(&disk, &record_path)));
        }
    }
    states
}

fn adapters() -> Vec<(&'static str, String)> {
    let mut out = vec![(
        "lifecycle_adapter",
        format!("{} adapter", env!("CARGO_BIN_EXE_lifecycle")),
    )];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    match python {
        Some(python) => out.push((
            "python_conforming_store",
            format!(
                "{python} {} --module {}",
                root.join("adapters/python/lifecycle_adapter.py").display(),
                root.join("adapters/python/conforming_store.py").display()
            ),
        )),
        None => eprintln!("python3 is not installed: only lifecycle adapter is measured"),
    }
    out
}

fn bench_states_loaded(c: &mut Criterion) {
    let states = crash_states();
    let root = tempfile::tempdir().expect("a temp dir");
    let dirs: Vec<PathBuf> = states
        .iter()
        .enumerate()
        .map(|(i, held)| {
            let dir = root.path().join(format!("state-{i}"));
            materialize(&dir, held).expect("a state written");
            dir
        })
        .collect();
    eprintln!(
        "{} crash states, {} distinct record files",
        states.len(),
        states
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    let mut group = c.benchmark_group("adapter");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    for (name, command) in adapters() {
        let config = Config {
            launch: Launch::Command(command),
            timeout: Duration::from_secs(10),
            umask: None,
        };
        let mut adapter = Adapter::start(config).expect("the adapter starts");
        let mut next = 0;
        group.bench_function(format!("crash_states_loaded/{name}"), |b| {
            b.iter(|| {
                next = (next + 1) % states.len();
                let judged = judge_load(&mut adapter, &dirs[next], &states[next]);
                if let Err(finding) = judged {
                    panic!("{name} loads a crash state wrongly: {}", finding.message);
                }
                black_box(judged)
            })
        });
        adapter.finish(Duration::from_secs(1));
    }
    group.finish();
}

criterion_group!(benches, bench_states_loaded);
criterion_main!(benches);
