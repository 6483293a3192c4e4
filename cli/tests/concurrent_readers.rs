//! SPEC §6.1 through the `lifecycle load` command: run again and again
//! while `Store::save` writes r1..rn, it prints only saved records, in
//! order (this once found that a spawned child kept the writer lock, see
//! `tests/writer_lock.rs`). The records, the writer and the checker are
//! `lifecycle_testkit::readers`, shared with `tests/concurrent_readers.rs`.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use lifecycle_testkit::fixtures::{setup, stderr_of, stdout_of};
use lifecycle_testkit::readers::{all_records, check, write_all, Observation, Report};

/// SPEC §6.1, through the CLI: `lifecycle load` run again and again while a
/// writer saves r1..rn prints `outcome: valid` and one of r0..rn whole, and
/// successive runs never go backwards.
#[test]
fn the_load_command_prints_only_saved_records_in_order_while_a_writer_saves() {
    const MAX_RUNS: u64 = 100;
    let (_dir, path) = setup();
    let records = all_records();
    lifecycle_state::save(&path, &records[0]).unwrap();

    let load_once = |runs: u64| -> Observation {
        let out = Command::new(common::LIFECYCLE)
            .arg("load")
            .arg(&path)
            .output()
            .expect("run lifecycle load");
        assert!(out.status.success(), "lifecycle load: {out:?}");
        let stderr = stderr_of(&out);
        let outcome = stderr
            .trim()
            .strip_prefix("outcome: ")
            .unwrap_or_else(|| panic!("no outcome on stderr: {stderr:?}"))
            .to_string();
        let record = lifecycle_state::decode(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a record ({e}): {}", stdout_of(&out)));
        Observation {
            load: runs,
            outcome,
            record,
        }
    };

    let writer_done = AtomicBool::new(false);
    let mut observations = vec![load_once(0)];
    std::thread::scope(|s| {
        s.spawn(|| write_all(&path, &records, &|_| {}, &writer_done));
        while !writer_done.load(Ordering::Acquire) && (observations.len() as u64) < MAX_RUNS {
            observations.push(load_once(observations.len() as u64));
        }
    });
    observations.push(load_once(observations.len() as u64));

    let report = Report {
        name: "lifecycle load".to_string(),
        loads: observations.len() as u64,
        loads_before_stop: observations.len() as u64 - 1,
        stopped: true,
        observations,
    };
    if let Err(e) = check(&report, &records, 2) {
        panic!("{e}");
    }
    let mut seqs: Vec<u64> = report
        .observations
        .iter()
        .map(|o| o.record.wrapper_event_seq)
        .collect();
    seqs.dedup();
    eprintln!(
        "{} runs of lifecycle load, {} distinct records",
        report.loads,
        seqs.len()
    );
}
