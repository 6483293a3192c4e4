//! Machine-test transitions per second on `SimFs`.
//!
//! Generates a fixed set of transition sequences with the machine test's own
//! strategy (`tests/machine/harness.rs`, a deterministic seed), then times
//! running them through its system-under-test side: every transition runs
//! the store on `SimFs`, predicts the outcome with the reference model and
//! checks the result, what load returns and the disk invariants, exactly as
//! `cargo test --test machine` does. Generation and shrinking are not timed.
//! Criterion reports the throughput in transitions per second (target
//! ≥ 100,000/s on one core).
//!
//! With `PROFILE_KINDS=1` it instead runs the sequences once and prints the
//! time per transition kind, to see where a run's time goes.

#[path = "../tests/machine/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use harness::{Machine, RefState, SimDisk, Sut, Transition};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;

const SEQUENCES: usize = 200;
const MAX_TRANSITIONS: usize = 48;

fn sequences() -> Vec<(RefState, Vec<Transition>)> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = Machine::<SimDisk>::sequential_strategy(1..MAX_TRANSITIONS);
    (0..SEQUENCES)
        .map(|_| {
            let (initial, transitions, _) = strategy
                .new_tree(&mut runner)
                .expect("the machine strategy generates")
                .current();
            (initial, transitions)
        })
        .collect()
}

fn run(sequences: &[(RefState, Vec<Transition>)]) {
    for (initial, transitions) in sequences {
        let mut sut = Sut::<SimDisk>::new(&initial.world);
        for transition in transitions {
            sut.apply(transition.clone());
        }
    }
}

fn bench_transitions(c: &mut Criterion) {
    let sequences = sequences();
    let total: usize = sequences.iter().map(|(_, t)| t.len()).sum();
    let mut group = c.benchmark_group("machine");
    group.throughput(Throughput::Elements(total as u64));
    group.sample_size(20);
    group.bench_function("simfs_transitions", |b| b.iter(|| run(&sequences)));
    group.finish();
}

criterion_group!(benches, bench_transitions);

/// Time per transition kind over the same sequences; multi-megabyte inputs
/// (deep nesting, oversize) are counted apart as `<kind>-big`.
fn profile_kinds() {
    let mut by_kind: BTreeMap<String, (u32, Duration)> = BTreeMap::new();
    for (initial, transitions) in &sequences() {
        let mut sut = Sut::<SimDisk>::new(&initial.world);
        for transition in transitions {
            let debug = format!("{transition:?}");
            let mut kind = debug
                .split(['(', ' ', '{'])
                .next()
                .unwrap_or_default()
                .to_string();
            if debug.contains("Deep") || debug.contains("Oversize") {
                kind.push_str("-big");
            }
            let started = Instant::now();
            sut.apply(transition.clone());
            let entry = by_kind.entry(kind).or_default();
            entry.0 += 1;
            entry.1 += started.elapsed();
        }
    }
    println!("{:<18} {:>6} {:>12}", "kind", "count", "µs each");
    for (kind, (count, total)) in by_kind {
        let each = total.as_secs_f64() * 1e6 / f64::from(count);
        println!("{kind:<18} {count:>6} {each:>12.1}");
    }
}

fn main() {
    if std::env::var_os("PROFILE_KINDS").is_some() {
        profile_kinds();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
