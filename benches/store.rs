//! Benchmarks of the store on the real file system.
//!
//! - `load/typical_record`: `lifecycle_state::load` of a ~400-byte record with
//!   progress, quarantine and an unknown member, from a real file (target ≤ 20 µs);
//! - `decode/typical_record`, `validate/typical_record`: the codec and the
//!   validation alone, in memory;
//! - `save/lifecycle_save` against `save/std_baseline`: the full protocol of
//!   SPEC §3.3 against a bare std create/write_all/sync_all/rename/dir-sync_all
//!   of the same bytes, both on the real disk under `target/bench-tmp` (not
//!   `/tmp`, which may be a tmpfs where fsync costs nothing);
//! - `dispatch/request_arrived` (writes) and `dispatch/tick` (no write).
//!
//! After criterion, `save/baseline ratio` runs both saves again, interleaved,
//! N = 200 each, and prints the medians and their ratio (target ≤ 1.2), plus
//! the same ratio from criterion's own estimates when they can be read.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
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

/// Interleaved iterations of each kind for the ratio.
const RATIO_N: usize = 200;
const RATIO_WARM_UP: usize = 10;

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
    assert_eq!(std::fs::read(&save_target).expect("read"), bytes);
    assert_eq!(std::fs::read(&baseline_target).expect("read"), bytes);
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
    let name = "save/baseline ratio";
    if args.iter().any(|a| a == "--list") {
        println!("{name}: bench");
    } else if filters.is_empty() || filters.iter().any(|f| name.contains(f)) {
        save_baseline_ratio(bench_mode);
    }
}
