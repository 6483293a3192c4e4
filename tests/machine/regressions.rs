//! Named regression tests: disagreements between the store, the model and
//! SPEC.md that the machine found or that were suspected, each a fixed
//! sequence replayed through the same harness (or, for the model alone, a
//! direct check), so that each fails exactly while its bug is there; and
//! one reading of the SPEC both sides share, pinned so that a change to it
//! is a decision.
//!
//! Proves each named case; nothing beyond it.

use lifecycle_model::record::{Progress, Quarantine, Record};
use lifecycle_model::writer::WriterOp;
use lifecycle_model::Timestamp;

use super::harness::transitions::Transition;
use super::harness::world::{ts, FileView, World};
use super::harness::{replay, RefState, SimDisk};

/// 2024-01-01T00:00:00Z.
const NOW: i64 = 1_704_067_200_000_000;

fn start(file: FileView) -> RefState {
    RefState {
        world: World {
            now_micros: NOW,
            file,
        },
        simulated: true,
    }
}

fn quarantined_until(until: &str) -> Record {
    let now = ts(NOW);
    Record {
        quarantine: Some(Quarantine {
            until_ts: Timestamp::parse(until).expect("a timestamp"),
            since_ts: now.clone(),
            reason: "sleep step 1 failed 3x: boom".to_string(),
            unknown: Vec::new(),
        }),
        ..Record::default_at(&now)
    }
}

/// SPEC §1.4 compares the fraction as a decimal of any length, so a
/// quarantine ending 10^-10 s after now is still in force (§5.1) and
/// `begin` must refuse. The store's Timestamp used to keep nine fraction
/// digits and judge it expired (fixed by 81351db; this test fails on
/// 2aefbe0).
#[test]
fn quarantine_with_ten_fraction_digits_is_still_in_force() {
    let record = quarantined_until("2024-01-01T00:00:00.0000000001Z");
    replay::<SimDisk>(
        start(FileView::Valid(record)),
        vec![Transition::Write(WriterOp::Begin(3))],
    );
}

/// SPEC §4.6 says "changed" compares known members "by value"; the model
/// and the store both read a timestamp's value as its spelling there (the
/// serialized form), so saving the stored record respelled rewrites it,
/// and load returns the new spelling's record.
#[test]
fn saving_the_stored_record_respelled_writes_the_new_spelling() {
    let stored = Record::default_at(&ts(NOW));
    let respelled = Record {
        since_ts: Timestamp::parse("2024-01-01T00:00:00.000000000+00:00").expect("a timestamp"),
        last_activity_ts: Timestamp::parse("2024-01-01T00:00:00+00:00").expect("a timestamp"),
        ..stored.clone()
    };
    replay::<SimDisk>(
        start(FileView::Valid(stored)),
        vec![Transition::Write(WriterOp::Save(respelled))],
    );
}

/// SPEC §3.3 step 2 fsyncs the parent of a directory the writer creates.
/// When that fsync fails, the directory exists but its entry may not
/// survive a power loss; a later save that returns success must still be
/// durable (§3.4.2), so whichever state the power loss leaves, the record
/// must be there. The machine found this (its seed is in
/// `tests/machine.proptest-regressions`): the store fsyncs the parent only
/// when it creates the directory, so after one failed fsync no later save
/// makes `/state` itself durable, and a power loss may take the directory
/// with the record in it.
#[test]
fn a_save_after_a_failed_parent_fsync_survives_power_loss() {
    let request = WriterOp::Dispatch {
        event: lifecycle_model::Event::RequestArrived,
        guards: lifecycle_model::Guards::default(),
        shadow_run: false,
    };
    let loses_the_record = |choice: u64| {
        let run = || {
            replay::<SimDisk>(
                start(FileView::Missing),
                vec![
                    // Call 2 of a writer on a missing directory is the fsync
                    // of `/` after `mkdir /state` (lock, mkdir, fsync).
                    Transition::Fault {
                        op: request.clone(),
                        at_call: 2,
                        fault: lifecycle_testkit::Fault::Io,
                    },
                    Transition::Write(request.clone()),
                    Transition::PowerLoss {
                        block_size: 4096,
                        choice,
                    },
                ],
            )
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err()
    };
    let lost: Vec<u64> = (0..8).filter(|&c| loses_the_record(c)).collect();
    assert!(
        lost.is_empty(),
        "power-loss states {lost:?} of 0..8 lose the record a successful save wrote"
    );
}

/// After step 2^53−1, `step_done(2^53)` has no valid record to produce
/// (SPEC §1.3). The machine found the model writing the record it also calls
/// invalid while the store refused to save it; SPEC §5.3.3 now says both
/// refuse with `InvalidArgument`, and the store must match the model.
#[test]
fn step_done_after_the_largest_step_is_refused_and_writes_nothing() {
    use lifecycle_model::spec::MAX_INTEGER;

    let record = Record {
        sleep_cycle_progress: Some(Progress {
            last_completed_step: Some(MAX_INTEGER),
            ..Progress::default()
        }),
        ..Record::default_at(&ts(NOW))
    };
    replay::<SimDisk>(
        start(FileView::Valid(record)),
        vec![Transition::Write(WriterOp::StepDone(MAX_INTEGER + 1))],
    );
}

/// SPEC §4.4.1, §3.5.2: a writer renames an oversize corrupt file away, then
/// its save fails at the directory fsync. Nothing is durable yet, so a power
/// loss may keep the first rename and lose the second: no record file, the
/// bytes safe in the copy. The machine found the harness rejecting that
/// allowed state (its seed is in `tests/machine.proptest-regressions`); a
/// fault now leaves every state the interrupted operation passed through
/// open to a later power loss.
#[test]
fn a_power_loss_after_a_failed_save_may_leave_the_oversize_file_moved_away() {
    let oversize = {
        let mut bytes = b"{\"pad\":\"".to_vec();
        bytes.resize(1_048_576, b'x');
        bytes.extend_from_slice(b"\"}");
        bytes
    };
    let request = WriterOp::Dispatch {
        event: lifecycle_model::Event::RequestArrived,
        guards: lifecycle_model::Guards::default(),
        shadow_run: false,
    };
    let rejected = |at_call: u64, choice: u64| {
        let run = || {
            replay::<SimDisk>(
                start(FileView::Corrupt(oversize.clone())),
                vec![
                    Transition::Fault {
                        op: request.clone(),
                        at_call,
                        fault: lifecycle_testkit::Fault::Io,
                    },
                    Transition::PowerLoss {
                        block_size: 4096,
                        choice,
                    },
                ],
            )
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err()
    };
    let failures: Vec<(u64, u64)> = (0..16)
        .flat_map(|at_call| (0..8).map(move |choice| (at_call, choice)))
        .filter(|&(at_call, choice)| rejected(at_call, choice))
        .collect();
    assert!(
        failures.is_empty(),
        "(fault call, power-loss state) rejected: {failures:?}"
    );
}
