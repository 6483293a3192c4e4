//! Crash states checked per second by the exhaustive crash test.
//!
//! Runs `lifecycle_testkit::crash::check` (the body of `tests/crash.rs`) on
//! the store's save for one (old, new) record pair and each start, and
//! reports criterion's throughput in crash states per second (target
//! ≥ 100,000/s on one core). A state is checked when it was built from the
//! persistence model and judged by the harness's crash judge (the model
//! decodes the record file).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lifecycle_harness::crash::StartingDisk;
use lifecycle_model::Record;
use lifecycle_state::persist;
use lifecycle_testkit::crash::check;
use lifecycle_testkit::SimFs;

fn record(seq: u64, pad: usize) -> Record {
    let text = format!(
        r#"{{"current_state":"DROWSY","since_ts":"2024-03-01T00:00:00Z","last_activity_ts":"2024-03-01T00:00:00Z","wrapper_event_seq":{seq},"sleep_cycle_progress":{{"last_completed_step":2,"attempt":1,"last_error":null,"started_at":"2024-03-01T00:00:00Z"}},"quarantine":null,"shadow_run":false,"pad":"{}"}}"#,
        "x".repeat(pad)
    );
    lifecycle_model::record::decode(text.as_bytes()).expect("a valid bench record")
}

fn store_save(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
    persist::write_atomically(fs, path, bytes).map_err(|e| e.to_string())
}

fn bench_crash_states(c: &mut Criterion) {
    let (old, new) = (record(7, 300), record(8, 1700));
    let mut group = c.benchmark_group("crash");
    for start in [StartingDisk::OldRecord, StartingDisk::NoDirectory] {
        let states = match check(store_save, start, &old, &new) {
            Ok(checked) => checked.states,
            Err(violation) => panic!("{violation}"),
        };
        group.throughput(Throughput::Elements(states));
        group.bench_function(format!("states_checked/{start:?}"), |b| {
            b.iter(|| black_box(check(store_save, start, &old, &new)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_crash_states);
criterion_main!(benches);
