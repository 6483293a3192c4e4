//! Named regression tests: disagreements between the store, the model and
//! SPEC.md that the machine found or that were suspected, each a fixed
//! sequence run through the machine's own driver and subject, so that each
//! fails exactly while its bug is there; and one reading of the SPEC both
//! sides share, pinned so that a change to it is a decision.
//!
//! Proves each named case; nothing beyond it.

use lifecycle_harness::generate::clock::START_MICROS as NOW;
use lifecycle_harness::world::at_micros;
use lifecycle_harness::{Driver, Finding, Initial, Injected};
use lifecycle_model::spec::{MAX_FILE_BYTES, MAX_INTEGER};
use lifecycle_model::writer::{Found, WriterOp};
use lifecycle_model::{Event, Guards, Progress, Quarantine, Record, Timestamp};
use lifecycle_testkit::backend::SimDisk;
use lifecycle_testkit::subject::StoreSubject;

fn driver(file: Found) -> Driver<StoreSubject<SimDisk>> {
    Driver::new(
        StoreSubject::default(),
        &Initial {
            now_micros: NOW,
            file,
        },
    )
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|| panic!("{text} is a timestamp"))
}

fn quarantined_until(until: &str) -> Record {
    let now = at_micros(NOW);
    Record {
        quarantine: Some(Quarantine {
            until_ts: ts(until),
            since_ts: now.clone(),
            reason: "sleep step 1 failed 3x: boom".to_string(),
            unknown: Vec::new(),
        }),
        ..Record::default_at(&now)
    }
}

fn request_arrived() -> WriterOp {
    WriterOp::Dispatch {
        event: Event::RequestArrived,
        guards: Guards::default(),
        shadow_run: false,
    }
}

type Steps = Driver<StoreSubject<SimDisk>>;

/// Whether running `steps` on a fresh driver from `file` finds something.
fn fails(file: &Found, steps: impl FnOnce(&mut Steps) -> Result<(), Finding>) -> bool {
    steps(&mut driver(file.clone())).is_err()
}

/// Runs `steps` on a fresh driver from `file`; fails the test with the
/// finding, if any.
fn holds(file: Found, steps: impl FnOnce(&mut Steps) -> Result<(), Finding>) {
    if let Err(finding) = steps(&mut driver(file)) {
        panic!("{finding}");
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
    holds(Found::Valid(record), |d| {
        d.write(&WriterOp::Begin(3))?;
        d.after_step()
    });
}

/// SPEC §4.6 says "changed" compares known members "by value"; the model
/// and the store both read a timestamp's value as its spelling there (the
/// serialized form), so saving the stored record respelled rewrites it,
/// and load returns the new spelling's record.
#[test]
fn saving_the_stored_record_respelled_writes_the_new_spelling() {
    let stored = Record::default_at(&at_micros(NOW));
    let respelled = Record {
        since_ts: ts("2024-01-01T00:00:00.000000000+00:00"),
        last_activity_ts: ts("2024-01-01T00:00:00+00:00"),
        ..stored.clone()
    };
    let mut d = driver(Found::Valid(stored));
    let saved = d
        .write(&WriterOp::Save(respelled.clone()))
        .and_then(|_| d.after_step());
    assert_eq!(saved, Ok(()));
    assert_eq!(
        d.world()
            .file
            .record()
            .map(|r| r.since_ts.as_str().to_string()),
        Some(respelled.since_ts.as_str().to_string())
    );
}

/// SPEC §3.3 step 2 fsyncs the parent of a directory the writer creates.
/// When that fsync fails, the directory exists but its entry may not
/// survive a power loss; a later save that returns success must still be
/// durable (§3.4.2), so whichever state the power loss leaves, the record
/// must be there. The machine found this: the store fsynced the parent only
/// when it created the directory, so after one failed fsync no later save
/// made `/state` itself durable, and a power loss could take the directory
/// with the record in it.
#[test]
fn a_save_after_a_failed_parent_fsync_survives_power_loss() {
    let lost: Vec<u64> = (0..8)
        .filter(|&choice| {
            fails(&Found::Missing, |d| {
                // Call 2 of a writer on a missing directory is the fsync
                // of `/` after `mkdir /state` (lock, mkdir, fsync).
                d.fault(&request_arrived(), 2, Injected::Io)?;
                d.after_step()?;
                d.write(&request_arrived())?;
                d.after_step()?;
                d.power_loss(4096, choice)?;
                d.after_step()
            })
        })
        .collect();
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
    let record = Record {
        sleep_cycle_progress: Some(Progress {
            last_completed_step: Some(MAX_INTEGER),
            ..Progress::default()
        }),
        ..Record::default_at(&at_micros(NOW))
    };
    holds(Found::Valid(record), |d| {
        d.write(&WriterOp::StepDone(MAX_INTEGER + 1))?;
        d.after_step()
    });
}

/// SPEC §4.4.1, §3.5.2: a writer renames an oversize corrupt file away, then
/// its save fails at the directory fsync. Nothing is durable yet, so a power
/// loss may keep the first rename and lose the second: no record file, the
/// bytes safe in the copy. The machine found the harness rejecting that
/// allowed state; a fault now leaves every state the interrupted operation
/// passed through open to a later power loss.
#[test]
fn a_power_loss_after_a_failed_save_may_leave_the_oversize_file_moved_away() {
    let oversize = {
        let mut bytes = b"{\"pad\":\"".to_vec();
        bytes.resize(MAX_FILE_BYTES, b'x');
        bytes.extend_from_slice(b"\"}");
        bytes
    };
    let file = Found::Corrupt(oversize);
    let failures: Vec<(u64, u64)> = (0..16)
        .flat_map(|at_call| (0..8).map(move |choice| (at_call, choice)))
        .filter(|&(at_call, choice)| {
            fails(&file, |d| {
                d.fault(&request_arrived(), at_call, Injected::Io)?;
                d.after_step()?;
                d.power_loss(4096, choice)?;
                d.after_step()
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "(fault call, power-loss state) rejected: {failures:?}"
    );
}
