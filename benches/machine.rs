//! Machine-test transitions per second on `SimFs`.
//!
//! Generates a fixed set of transition sequences with the machine test's own
//! strategy (`lifecycle_harness::machine`, a deterministic seed), then times
//! running them through its driver: every transition runs the store on
//! `SimFs` through its in-process subject, predicts the outcome with the
//! reference model and checks the result, what load returns and the disk
//! invariants, exactly as `cargo test --test machine` does. Generation and
//! shrinking are not timed. Criterion reports the throughput in transitions
//! per second (target ≥ 100,000/s on one core).
//!
//! With `PROFILE_KINDS=1` it instead runs the sequences once and prints the
//! time per transition kind, to see where a run's time goes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use lifecycle_harness::machine::{Machine, RefState, Subjects};
use lifecycle_harness::{Driver, Transition};
use lifecycle_testkit::OnSimFs;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;

const SEQUENCES: usize = 200;
const MAX_TRANSITIONS: usize = 48;

fn sequences() -> Vec<(RefState, Vec<Transition>)> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = Machine::<OnSimFs>::sequential_strategy(1..MAX_TRANSITIONS);
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
        let mut driver = Driver::new(OnSimFs::create(), &initial.initial);
        for transition in transitions {
            // A bench of a store that breaks the SPEC measures nothing.
            if let Err(finding) = driver.apply(transition) {
                panic!("{finding}");
            }
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
    let mut by_kind: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for (initial, transitions) in &sequences() {
        let mut driver = Driver::new(OnSimFs::create(), &initial.initial);
        for transition in transitions {
            let debug = format!("{transition:?}");
            let mut kind = transition.kind().name().to_string();
            if debug.contains("Deep") || debug.contains("Oversize") {
                kind.push_str("-big");
            }
            let started = Instant::now();
            if let Err(finding) = driver.apply(transition) {
                panic!("{finding}");
            }
            by_kind.entry(kind).or_default().push(started.elapsed());
        }
    }
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{:<18} {:>6} {:>10} {:>10}",
        "kind", "count", "mean µs", "median µs"
    );
    let mut all = Vec::new();
    for (kind, mut times) in by_kind {
        times.sort();
        let mean = micros(times.iter().sum::<Duration>()) / times.len() as f64;
        let median = micros(times[times.len() / 2]);
        println!("{kind:<18} {:>6} {mean:>10.1} {median:>10.1}", times.len());
        all.extend(times);
    }
    all.sort();
    let total = micros(all.iter().sum::<Duration>());
    println!(
        "all: {} transitions, {:.0}/s overall, median {:.1} µs ({:.0}/s)",
        all.len(),
        all.len() as f64 / total * 1e6,
        micros(all[all.len() / 2]),
        1e6 / micros(all[all.len() / 2])
    );
}

fn main() {
    if std::env::var_os("PROFILE_KINDS").is_some() {
        profile_kinds();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
