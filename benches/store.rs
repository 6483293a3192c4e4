//! Benchmarks of the store on the real file system.
//!
//! - `load/typical_record`: `lifecycle_state::load` of a ~400-byte record with
//!   progress, quarantine and an unknown member, from a real file (target ≤ 20 µs);
//! - `load/open_fstat_read_close`: the floor of any load, the same file
//!   opened, its size asked, read and closed (`std::fs::read`); the summary
//!   prints the ratio of the two medians of the same run (`load/floor
//!   ratio`, target ≤ 1.25);
//! - `decode/typical_record`, `validate/typical_record`: the codec and the
//!   validation alone, in memory;
//! - `save/lifecycle_save` against `save/std_baseline`: the full protocol of
//!   SPEC §3.3 against a bare std create/write_all/sync_all/rename/dir-sync_all
//!   of the same bytes, both on the real disk under `target/bench-tmp` (not
//!   `/tmp`, which may be a tmpfs where fsync costs nothing);
//! - `dispatch/request_arrived` (writes) and `dispatch/tick` (no write).
//!
//! After criterion, two comparisons run in the same process, each printing
//! its figures (targets are reported, never enforced):
//!
//! - `save/baseline ratio` runs both saves again, interleaved, N = 200 each,
//!   and prints the medians and their ratio (target ≤ 1.2), plus the same
//!   ratio from criterion's own estimates when they can be read;
//! - `load/python ratio` times `load_state` of the Python original
//!   (`../shared/seeds/lifecycle_state.py` from the crate root) on the same
//!   record file, in one `python3` process started once (its start-up and
//!   import are not timed), in rounds interleaved with rounds of
//!   `lifecycle_state::load`, and prints the medians and how many times
//!   faster the Rust load is (target ≥ 4), plus the ratio against criterion's
//!   `load/typical_record` median. Without `python3` or the seed file it says
//!   the comparison was skipped and why.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use lifecycle_state::codec;
use lifecycle_state::{Event, Guards, LoadOutcome, Record, Store};

/// A typical record: mid sleep cycle, one earlier quarantine, one unknown member.
const TYPICAL: &str = concat!(
    r#"{"current_state":"SLEEP","since_ts":"2024-03-01T09:30:00Z","#,
    r#""last_activity_ts":"2024-03-01T09:05:12.250Z","wrapper_event_seq":1042,"#,
    r#""sleep_cycle_progress":{"last_completed_step":2,"attempt":2,"#,
    r#""last_error":"step 3: timeout","started_at":"2024-03-01T09:30:00Z"},"#,
    r#""quarantine":{"until_ts":"2024-03-02T09:30:00Z","since_ts":"2024-03-01T09:30:00Z","#,
    r#""reason":"sleep step 3 failed 3x"},"shadow_run":false,"host":"w-17"}"#,
    "\n"
);

/// The bench of a bare read of the record file: open, fstat, read, close.
const READ_FLOOR_ID: &str = "open_fstat_read_close";

/// Interleaved iterations of each kind for the ratio.
const RATIO_N: usize = 200;
const RATIO_WARM_UP: usize = 10;

/// Interleaved rounds of each load for the Python comparison, and loads per
/// round: a Rust round takes some 20 ms, a Python round some 100 ms.
const PYTHON_ROUNDS: usize = 11;
const PYTHON_LOADS_PER_ROUND: usize = 2000;
/// The Python original, relative to the crate root.
const PYTHON_SEED: &str = "../shared/seeds/lifecycle_state.py";
/// How many times faster than the Python original a load should be.
const PYTHON_TARGET: f64 = 4.0;

const SAVE_GROUP: &str = "save";
const SAVE_ID: &str = "lifecycle_save";
const BASELINE_ID: &str = "std_baseline";

/// A fresh directory under `<crate>/target/bench-tmp`, on the real disk.
fn bench_dir() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-tmp");
    std::fs::create_dir_all(&root).expect("create target/bench-tmp");
    tempfile::Builder::new()
        .prefix("store.")
        .tempdir_in(&root)
        .expect("create a bench directory")
}

fn typical_record() -> Record {
    codec::decode(TYPICAL.as_bytes()).expect("TYPICAL is a valid record")
}

/// The bare baseline: what any careful atomic save must at least do.
fn std_save(dir: &Path, target: &Path, bytes: &[u8]) {
    let temp = dir.join(".baseline.tmp");
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .expect("create the baseline temp");
    file.write_all(bytes).expect("write the baseline temp");
    file.sync_all().expect("fsync the baseline temp");
    drop(file);
    std::fs::rename(&temp, target).expect("rename the baseline temp");
    File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("fsync the directory");
}

fn lifecycle_save(target: &Path, record: &Record) {
    lifecycle_state::save(target, record).expect("lifecycle_state::save");
}

fn bench_load(c: &mut Criterion) {
    let dir = bench_dir();
    let path = dir.path().join("lifecycle_state.json");
    std::fs::write(&path, TYPICAL).expect("write the record");
    let loaded = lifecycle_state::load(&path);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "the bench record does not load as valid: {}",
        loaded.outcome
    );

    let mut group = c.benchmark_group("load");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("typical_record", |b| {
        b.iter(|| lifecycle_state::load(black_box(&path)))
    });
    // The floor any load pays: the same file opened, its size asked
    // (std's read does fstat/statx), read and closed.
    group.bench_function(READ_FLOOR_ID, |b| {
        b.iter(|| std::fs::read(black_box(&path)).expect("read the record"))
    });
    group.finish();
}

fn bench_codec(c: &mut Criterion) {
    let bytes = TYPICAL.as_bytes();
    let record = typical_record();
    let configure = |group: &mut criterion::BenchmarkGroup<'_, _>| {
        group
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
    };

    let mut group = c.benchmark_group("decode");
    configure(&mut group);
    group.bench_function("typical_record", |b| {
        b.iter(|| codec::decode(black_box(bytes)))
    });
    group.finish();

    let mut group = c.benchmark_group("validate");
    configure(&mut group);
    group.bench_function("typical_record", |b| {
        b.iter(|| black_box(&record).validate())
    });
    group.finish();
}

fn bench_save(c: &mut Criterion) {
    let dir = bench_dir();
    let record = typical_record();
    let bytes = codec::encode(&record);
    let save_target = dir.path().join("lifecycle_state.json");
    let baseline_target = dir.path().join("baseline.json");

    let mut group = c.benchmark_group(SAVE_GROUP);
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    group.bench_function(SAVE_ID, |b| {
        b.iter(|| lifecycle_save(black_box(&save_target), black_box(&record)))
    });
    group.bench_function(BASELINE_ID, |b| {
        b.iter(|| std_save(dir.path(), black_box(&baseline_target), black_box(&bytes)))
    });
    group.finish();
    for target in [&save_target, &baseline_target] {
        match std::fs::read(target) {
            Ok(saved) => assert_eq!(saved, bytes, "{}", target.display()),
            // A filter on the command line left this function out.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("read {}: {e}", target.display()),
        }
    }
}

fn bench_dispatch(c: &mut Criterion) {
    let dir = bench_dir();
    let path = dir.path().join("lifecycle_state.json");
    std::fs::write(&path, TYPICAL).expect("write the record");
    let store = Store::open(&path);
    let guards = Guards::default();

    let first = store
        .dispatch(Event::RequestArrived, guards)
        .expect("dispatch request_arrived");
    assert!(first.update.wrote, "request_arrived must write");
    let tick = store.dispatch(Event::Tick, guards).expect("dispatch tick");
    assert!(!tick.update.wrote, "tick must not write");

    let mut group = c.benchmark_group("dispatch");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    group.bench_function("request_arrived", |b| {
        b.iter(|| {
            store
                .dispatch(black_box(Event::RequestArrived), guards)
                .expect("dispatch request_arrived")
        })
    });
    group.bench_function("tick", |b| {
        b.iter(|| {
            store
                .dispatch(black_box(Event::Tick), guards)
                .expect("dispatch tick")
        })
    });
    group.finish();
}

criterion_group!(benches, bench_load, bench_codec, bench_save, bench_dispatch);

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Times `iterations` of each save, alternating which goes first so drift and
/// order effects fall on both sides; returns (save samples, baseline samples).
fn interleaved(iterations: usize) -> (Vec<Duration>, Vec<Duration>) {
    let dir = bench_dir();
    let record = typical_record();
    let bytes = codec::encode(&record);
    let save_target = dir.path().join("lifecycle_state.json");
    let baseline_target = dir.path().join("baseline.json");
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    let mut save = || lifecycle_save(&save_target, &record);
    let mut baseline = || std_save(dir.path(), &baseline_target, &bytes);

    for _ in 0..RATIO_WARM_UP.min(iterations) {
        save();
        baseline();
    }
    let mut saves = Vec::with_capacity(iterations);
    let mut baselines = Vec::with_capacity(iterations);
    for i in 0..iterations {
        if i % 2 == 0 {
            saves.push(time(&mut save));
            baselines.push(time(&mut baseline));
        } else {
            baselines.push(time(&mut baseline));
            saves.push(time(&mut save));
        }
    }
    (saves, baselines)
}

fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Criterion's median estimate, in nanoseconds, for `group/id`, if on disk.
fn criterion_median_ns(group: &str, id: &str) -> Option<f64> {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion"))
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion"));
    let text =
        std::fs::read_to_string(home.join(group).join(id).join("new/estimates.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn save_baseline_ratio(bench_mode: bool) {
    let iterations = if bench_mode { RATIO_N } else { 3 };
    let (mut saves, mut baselines) = interleaved(iterations);
    let save_median = median(&mut saves);
    let baseline_median = median(&mut baselines);
    let ratio = save_median.as_secs_f64() / baseline_median.as_secs_f64();
    println!();
    println!(
        "save/baseline interleaved, N={iterations} each, on {}:",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/bench-tmp")
            .display()
    );
    println!(
        "  lifecycle_state::save median: {:.3} ms (min {:.3}, max {:.3})",
        ms(save_median),
        ms(saves[0]),
        ms(saves[saves.len() - 1])
    );
    println!(
        "  std baseline median:          {:.3} ms (min {:.3}, max {:.3})",
        ms(baseline_median),
        ms(baselines[0]),
        ms(baselines[baselines.len() - 1])
    );
    println!("save/baseline ratio: {ratio:.2} (target <= 1.2)");
    if bench_mode {
        println!("criterion medians (less swayed by fsync outliers than the means above):");
        for (group, id) in [
            ("load", "typical_record"),
            ("load", READ_FLOOR_ID),
            ("decode", "typical_record"),
            ("validate", "typical_record"),
            (SAVE_GROUP, SAVE_ID),
            (SAVE_GROUP, BASELINE_ID),
            ("dispatch", "request_arrived"),
            ("dispatch", "tick"),
        ] {
            if let Some(ns) = criterion_median_ns(group, id) {
                println!("  {:<28} {}", format!("{group}/{id}"), human_ns(ns));
            }
        }
        if let (Some(s), Some(b)) = (
            criterion_median_ns(SAVE_GROUP, SAVE_ID),
            criterion_median_ns(SAVE_GROUP, BASELINE_ID),
        ) {
            println!(
                "criterion medians: save {:.3} ms, baseline {:.3} ms, ratio {:.2}",
                s / 1e6,
                b / 1e6,
                s / b
            );
        }
    }
}

/// The ratio of criterion's medians of this run's `load/typical_record`
/// and `load/open_fstat_read_close`: what load costs over the bare read.
fn load_floor_ratio(bench_mode: bool) {
    if !bench_mode {
        return;
    }
    match (
        criterion_median_ns("load", "typical_record"),
        criterion_median_ns("load", READ_FLOOR_ID),
    ) {
        (Some(load), Some(floor)) => println!(
            "load/floor: load {}, open+fstat+read+close of the same file {}, ratio {:.2} (target <= 1.25)",
            human_ns(load),
            human_ns(floor),
            load / floor
        ),
        _ => println!("load/floor ratio skipped: criterion's load medians are not on disk"),
    }
}

/// Run by `python3 -c SCRIPT SEED_DIR RECORD`: imports the seed, checks that
/// its `load_state` reads the record (not its default), says `ready`, then
/// for each line `N` on stdin times N calls and answers the µs per call.
/// Anything that goes wrong is one line `error: ...` and exit status 1.
const PYTHON_SCRIPT: &str = r#"
import json, sys, timeit
from pathlib import Path
try:
    sys.path.insert(0, sys.argv[1])
    from lifecycle_state import load_state
    p = Path(sys.argv[2])
    if load_state(p) != json.loads(p.read_text()):
        raise ValueError("load_state did not return the stored record")
    timer = timeit.Timer("load_state(p)", globals={"load_state": load_state, "p": p})
except Exception as e:
    print(f"error: {type(e).__name__}: {e}", flush=True)
    sys.exit(1)
print("ready", flush=True)
for line in sys.stdin:
    n = int(line)
    print(timer.timeit(number=n) / n * 1e6, flush=True)
"#;

/// The Python original in a child process, ready to time rounds of loads.
struct PythonLoader {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PythonLoader {
    /// Starts `python3` on the seed; `Err` says why the comparison is skipped.
    fn start(seed: &Path, record: &Path) -> Result<PythonLoader, String> {
        if !seed.is_file() {
            return Err(format!("{} not found", seed.display()));
        }
        let seed_dir = seed.parent().unwrap_or(Path::new("."));
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(PYTHON_SCRIPT)
            .arg(seed_dir)
            .arg(record)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "python3 not found on PATH".to_string(),
                _ => format!("could not start python3: {e}"),
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("python3 started without pipes".to_string());
        };
        let mut loader = PythonLoader {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        match loader.read_line()?.as_str() {
            "ready" => Ok(loader),
            other => Err(format!("python3 could not load the seed: {other}")),
        }
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("python3 exited early".to_string()),
            Ok(_) => Ok(line.trim().to_string()),
            Err(e) => Err(format!("reading from python3: {e}")),
        }
    }

    /// Times `n` loads; the mean time of one, in µs.
    fn round(&mut self, n: usize) -> Result<f64, String> {
        writeln!(self.stdin, "{n}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to python3: {e}"))?;
        let line = self.read_line()?;
        line.parse()
            .map_err(|_| format!("python3 answered {line:?}, not a time"))
    }
}

impl Drop for PythonLoader {
    fn drop(&mut self) {
        // Closing stdin ends its loop; kill in case it is stuck elsewhere.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median_f64(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// Rounds of Rust loads interleaved with rounds of Python loads of the same
/// file, alternating which goes first; (Rust µs per load, Python µs per
/// load), one sample per round.
fn interleaved_loads(
    python: &mut PythonLoader,
    path: &Path,
    rounds: usize,
    loads: usize,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let rust_round = || {
        let start = Instant::now();
        for _ in 0..loads {
            black_box(lifecycle_state::load(black_box(path)));
        }
        start.elapsed().as_secs_f64() * 1e6 / loads as f64
    };
    // Warm-up of both: caches, the allocator, Python's first calls.
    rust_round();
    python.round(loads)?;
    let mut rust = Vec::with_capacity(rounds);
    let mut py = Vec::with_capacity(rounds);
    for i in 0..rounds {
        if i % 2 == 0 {
            rust.push(rust_round());
            py.push(python.round(loads)?);
        } else {
            py.push(python.round(loads)?);
            rust.push(rust_round());
        }
    }
    Ok((rust, py))
}

fn load_python_ratio(bench_mode: bool) {
    let (rounds, loads) = if bench_mode {
        (PYTHON_ROUNDS, PYTHON_LOADS_PER_ROUND)
    } else {
        (1, 10)
    };
    let dir = bench_dir();
    let path = dir.path().join("lifecycle_state.json");
    std::fs::write(&path, TYPICAL).expect("write the record");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join(PYTHON_SEED);
    println!();
    let measured = PythonLoader::start(&seed, &path)
        .and_then(|mut python| interleaved_loads(&mut python, &path, rounds, loads));
    let (mut rust, mut py) = match measured {
        Ok(samples) => samples,
        Err(why) => {
            println!("load/python comparison skipped: {why}");
            return;
        }
    };
    let rust_median = median_f64(&mut rust);
    let py_median = median_f64(&mut py);
    println!(
        "load/python interleaved, {rounds} rounds of {loads} loads each, of {}:",
        seed.canonicalize().unwrap_or(seed).display()
    );
    println!(
        "  lifecycle_state::load median: {rust_median:.2} µs (min {:.2}, max {:.2})",
        rust[0],
        rust[rust.len() - 1]
    );
    println!(
        "  python3 load_state median:    {py_median:.2} µs (min {:.2}, max {:.2})",
        py[0],
        py[py.len() - 1]
    );
    println!(
        "load: rust {rust_median:.2} µs, python {py_median:.2} µs, ratio {:.1}× (target >= {PYTHON_TARGET})",
        py_median / rust_median
    );
    if bench_mode {
        if let Some(ns) = criterion_median_ns("load", "typical_record") {
            let rust_us = ns / 1e3;
            println!(
                "criterion load median {rust_us:.2} µs against python {py_median:.2} µs: \
                 ratio {:.1}×",
                py_median / rust_us
            );
        }
    }
}

/// Options of criterion's command line that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "--save-baseline",
    "-s",
    "--baseline",
    "-b",
    "--baseline-lenient",
    "--load-baseline",
    "--color",
    "-c",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
    "--format",
    "--logfile",
];

/// A measurement run after criterion: its name for filters and `--list`,
/// and the function taking whether this is `cargo bench`.
type Extra = (&'static str, fn(bool));

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();

    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // then the ratio runs only a few iterations as a smoke test.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench_mode = args.iter().any(|a| a == "--bench");
    let mut filters = Vec::new();
    let mut skip_value = false;
    for arg in &args {
        if skip_value {
            skip_value = false;
        } else if VALUE_OPTIONS.contains(&arg.as_str()) {
            skip_value = true;
        } else if !arg.starts_with('-') {
            filters.push(arg.as_str());
        }
    }
    let extras: [Extra; 3] = [
        ("save/baseline ratio", save_baseline_ratio),
        ("load/floor ratio", load_floor_ratio),
        ("load/python ratio", load_python_ratio),
    ];
    for (name, run) in extras {
        if args.iter().any(|a| a == "--list") {
            println!("{name}: bench");
        } else if filters.is_empty() || filters.iter().any(|f| name.contains(f)) {
            run(bench_mode);
        }
    }
}
