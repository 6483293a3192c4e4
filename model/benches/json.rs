//! How fast the model splits and checks a file (`json::split_object`, the
//! hot path of every judge: each crash state, load and write decodes the
//! record file), and how fast `json::locate` finds where a corrupt file
//! breaks SPEC §1.6 (only ever asked for a finding).
//!
//! `cargo bench -p lifecycle-model --bench json` reports criterion's
//! throughput in bytes per second for: a typical record, a record with a
//! 64 KiB unknown member (strings with escapes, numbers, nesting), a 1 MiB
//! record of many small unknown members, and a 1 MiB file whose duplicate
//! name is at its end.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lifecycle_model::json::split_object;

const TYPICAL: &str = r#"{"current_state":"DROWSY","since_ts":"2024-03-01T00:00:00Z","last_activity_ts":"2024-03-01T00:00:00.123456Z","wrapper_event_seq":42,"sleep_cycle_progress":{"last_completed_step":2,"attempt":1,"last_error":null,"started_at":"2024-03-01T00:00:00Z"},"quarantine":null,"shadow_run":false}"#;

/// `TYPICAL` with `extra` as its last members (`,` and the members).
fn with(extra: &str) -> Vec<u8> {
    let mut text = TYPICAL.trim_end_matches('}').to_string();
    text.push_str(extra);
    text.push('}');
    text.into_bytes()
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let item = r#"{"s":"caf\u00e9 \"q\" \ud83d\ude00 日本","n":-1.5e-3,"a":[1,2,[true,null]],"t":"2024-03-01T00:00:00Z"}"#;
    let mut unknown = String::from(r#","x":["#);
    while unknown.len() < 64 * 1024 {
        unknown.push_str(item);
        unknown.push(',');
    }
    unknown.push_str("0]");
    let many: String = (0..40_000)
        .map(|i| format!(r#","member_{i}":"value {i}""#))
        .collect();
    let mut wide = with(&many);
    wide.truncate(1 << 20);
    let cut = wide.iter().rposition(|&b| b == b',').unwrap_or(0);
    wide.truncate(cut);
    wide.push(b'}');
    let mut duplicate = wide.clone();
    duplicate.pop();
    duplicate.truncate(duplicate.len() - 20);
    let cut = duplicate.iter().rposition(|&b| b == b',').unwrap_or(0);
    duplicate.truncate(cut);
    duplicate.extend_from_slice(br#","member_0":1}"#);
    vec![
        ("typical_record", TYPICAL.as_bytes().to_vec()),
        ("unknown_member_64_kib", with(&unknown)),
        ("many_members_1_mib", wide),
        ("duplicate_at_the_end_1_mib", duplicate),
    ]
}

fn bench_split_object(c: &mut Criterion) {
    let mut group = c.benchmark_group("split_object");
    for (name, bytes) in inputs() {
        // What each input is, so a change of the bench cannot make it
        // measure another path.
        let corrupt = name.starts_with("duplicate");
        assert_eq!(split_object(&bytes).is_err(), corrupt, "{name}");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| b.iter(|| split_object(black_box(&bytes))));
    }
    group.finish();
}

criterion_group!(benches, bench_split_object);
criterion_main!(benches);
