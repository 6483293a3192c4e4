//! Integration tests for save (SPEC §3); the `lifecycle save` command, and
//! with it the umask and unprivileged cases (the umask and the credentials
//! are process-wide, so they run in a child process), are tested in
//! `cli/tests/save.rs`.
//!
//! Fault injection goes through `lifecycle_testkit::FaultyFs`, which wraps
//! the real file system, logs every call and fails a chosen call with a
//! chosen errno. Cases the kernel must refuse by itself (a directory at the
//! target, a file as the parent) run for real.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use lifecycle_state::persist::{save_with, SaveStep};
use lifecycle_state::{
    decode, load, save, LoadOutcome, Progress, Quarantine, Record, SaveError, State, StoreError,
};
use lifecycle_testkit::faulty_fs::{Call, Op};
use lifecycle_testkit::fixtures::*;
use lifecycle_testkit::FaultyFs;

const NAME: &str = "lifecycle_state.json";
const MAX_INTEGER: u64 = 9_007_199_254_740_991;
const MIB: usize = 1_048_576;

/// A temp dir holding an old record at `NAME` (mode 0600) written directly,
/// not through `save`. Returns the dir, the target and the old bytes.
fn dir_with_old_record() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join(NAME);
    let old = lifecycle_state::encode(&record(State::Drowsy, 1));
    fs::write(&target, &old).expect("write the old record");
    set_mode(&target, 0o600);
    (dir, target, old)
}

/// The record every save in this file writes over the old one.
fn new_record() -> Record {
    full_record()
}

fn new_bytes() -> Vec<u8> {
    lifecycle_state::encode(&new_record())
}

/// Asserts `err` is an I/O failure of `step` carrying `errno`, and that its
/// message names the step.
fn assert_io_step(err: &SaveError, step: SaveStep, errno: i32) {
    match err {
        SaveError::Io {
            step: got, source, ..
        } => {
            assert_eq!(*got, step, "wrong step in {err}");
            assert_eq!(source.raw_os_error(), Some(errno), "wrong errno in {err}");
        }
        other => panic!("expected an I/O error at {step:?}, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&step.to_string()),
        "the message {message:?} does not name the step {step:?} ({step})"
    );
}

// ---------------------------------------------------------------------------
// Modes (SPEC §3.3 steps 2-3, §3.6)
// ---------------------------------------------------------------------------

/// SPEC §3.6, §3.3 step 3: a new record file has mode 0600.
#[test]
fn file_is_created_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    save(&target, &new_record()).expect("save");
    assert_eq!(mode_of(&target), 0o600);
}

/// SPEC §3.6: the record is never visible with another mode, even when the
/// file it replaces had one.
#[test]
fn saving_over_a_0644_record_leaves_the_record_with_mode_0600() {
    let (_dir, target, _old) = dir_with_old_record();
    set_mode(&target, 0o644);
    save(&target, &new_record()).expect("save");
    assert_eq!(mode_of(&target), 0o600);
}

/// SPEC §3.3 step 2, §3.6: a missing directory is created with mode 0700.
#[test]
fn a_missing_directory_is_created_with_mode_0700() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    save(state_dir.join(NAME), &new_record()).expect("save");
    assert_eq!(mode_of(&state_dir), 0o700);
}

/// SPEC §3.3 step 2, §3.6: every missing ancestor is created with mode 0700.
#[test]
fn every_missing_ancestor_is_created_with_mode_0700() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = a.join("b");
    let c = b.join("c");
    save(c.join(NAME), &new_record()).expect("save");
    for d in [&a, &b, &c] {
        assert_eq!(mode_of(d), 0o700, "{}", d.display());
    }
    assert_eq!(fs::read(c.join(NAME)).unwrap(), new_bytes());
}

// ---------------------------------------------------------------------------
// Validation (SPEC §3.1)
// ---------------------------------------------------------------------------

/// Saves an invalid `record` into a directory holding an old record and a
/// stranger file; asserts `Invalid` naming `field` and the directory left
/// byte for byte as it was.
fn assert_refused(record: &Record, field: &str) {
    let (dir, target, _old) = dir_with_old_record();
    fs::write(dir.path().join("unrelated.txt"), b"keep me").unwrap();
    let before = snapshot(dir.path());
    match save(&target, record) {
        Err(SaveError::Invalid(invalid)) => {
            assert_eq!(invalid.field, field, "wrong field in {invalid}")
        }
        other => panic!("expected Invalid naming {field}, got {other:?}"),
    }
    assert_eq!(snapshot(dir.path()), before, "the directory changed");
}

/// SPEC §3.1, §1.3: `wrapper_event_seq` = 2^53 is refused by name.
#[test]
fn a_wrapper_event_seq_of_2_pow_53_is_refused_naming_wrapper_event_seq() {
    let mut r = record(State::Wake, 0);
    r.wrapper_event_seq = MAX_INTEGER + 1;
    assert_refused(&r, "wrapper_event_seq");
}

/// SPEC §3.1, §1.3: `sleep_cycle_progress.attempt` = 2^53 is refused by path.
#[test]
fn an_attempt_of_2_pow_53_is_refused_naming_sleep_cycle_progress_attempt() {
    let mut r = record(State::Sleep, 0);
    r.sleep_cycle_progress = Some(Progress {
        attempt: Some(MAX_INTEGER + 1),
        ..Progress::default()
    });
    assert_refused(&r, "sleep_cycle_progress.attempt");
}

/// SPEC §3.1, §1.3: `sleep_cycle_progress.last_completed_step` = u64::MAX
/// is refused by path.
#[test]
fn a_last_completed_step_of_u64_max_is_refused_naming_its_path() {
    let mut r = record(State::Sleep, 0);
    r.sleep_cycle_progress = Some(Progress {
        last_completed_step: Some(u64::MAX),
        ..Progress::default()
    });
    assert_refused(&r, "sleep_cycle_progress.last_completed_step");
}

/// SPEC §3.1, §1.1.5: an unknown top-level member named like the known
/// `shadow_run` would serialize a duplicate name; it is refused by name.
#[test]
fn an_unknown_top_level_member_named_shadow_run_is_refused_naming_shadow_run() {
    let mut r = record(State::Wake, 0);
    r.unknown.push(("shadow_run".to_string(), raw("true")));
    assert_refused(&r, "shadow_run");
}

/// SPEC §3.1, §1.1.5: an unknown `quarantine` member named `until_ts` is
/// refused as `quarantine.until_ts`.
#[test]
fn an_unknown_quarantine_member_named_until_ts_is_refused_naming_quarantine_until_ts() {
    let mut r = record(State::Wake, 0);
    r.quarantine = Some(Quarantine {
        until_ts: ts("2024-06-02T00:00:00Z"),
        since_ts: ts("2024-06-01T00:00:00Z"),
        reason: String::new(),
        unknown: vec![("until_ts".to_string(), raw("\"2030-01-01T00:00:00Z\""))],
    });
    assert_refused(&r, "quarantine.until_ts");
}

/// SPEC §3.1, §1.1.5: an unknown progress member named `attempt` is refused
/// as `sleep_cycle_progress.attempt`, even when `attempt` itself is absent.
#[test]
fn an_unknown_progress_member_named_attempt_is_refused_naming_its_path() {
    let mut r = record(State::Sleep, 0);
    r.sleep_cycle_progress = Some(Progress {
        unknown: vec![("attempt".to_string(), raw("2"))],
        ..Progress::default()
    });
    assert_refused(&r, "sleep_cycle_progress.attempt");
}

/// SPEC §3.1, §1.1.5: two unknown members with one name are refused by name.
#[test]
fn duplicate_unknown_member_names_are_refused_naming_the_member() {
    let mut r = record(State::Wake, 0);
    r.unknown.push(("extra".to_string(), raw("1")));
    r.unknown.push(("extra".to_string(), raw("2")));
    assert_refused(&r, "extra");
}

/// SPEC §3.1: an invalid record creates no missing directory.
#[test]
fn an_invalid_record_creates_no_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = record(State::Wake, 0);
    r.wrapper_event_seq = u64::MAX;
    let err = save(dir.path().join("new").join(NAME), &r).expect_err("invalid");
    assert!(matches!(err, SaveError::Invalid(_)), "{err:?}");
    assert!(!dir.path().join("new").exists());
}

/// SPEC §3.1 ("validate ... before touching the file system"): an invalid
/// record makes no file-system call at all.
#[test]
fn an_invalid_record_makes_no_file_system_call() {
    let (_dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new();
    let mut r = record(State::Wake, 0);
    r.wrapper_event_seq = MAX_INTEGER + 1;
    let err = save_with(&fs, &target, &r).expect_err("invalid");
    assert!(matches!(err, SaveError::Invalid(_)), "{err:?}");
    assert_eq!(fs.calls(), Vec::new());
}

/// `record(Wake, 0)` with an unknown member `pad` whose serialized form is
/// exactly `len` bytes.
fn record_serialized_to(len: usize) -> Record {
    let mut r = record(State::Wake, 0);
    r.unknown.push(("pad".to_string(), raw("\"\"")));
    let base = lifecycle_state::encode(&r).len();
    r.unknown[0].1 = raw(&format!("\"{}\"", "x".repeat(len - base)));
    assert_eq!(lifecycle_state::encode(&r).len(), len);
    r
}

/// SPEC §3.1 ("the record as a whole when its serialized form would exceed
/// 1,048,576 bytes"), §1.6.1: such a record is refused and nothing is
/// written (else the next load would find a corrupt file).
#[test]
fn a_record_whose_serialized_form_exceeds_1_mib_is_refused_and_nothing_is_written() {
    let (dir, target, _old) = dir_with_old_record();
    let before = snapshot(dir.path());
    let result = save(&target, &record_serialized_to(MIB + 1));
    assert!(
        matches!(result, Err(SaveError::Invalid(_))),
        "expected Invalid, got {result:?}"
    );
    assert_eq!(snapshot(dir.path()), before, "the directory changed");
}

/// SPEC §3.1, §4.5: the locked `Store::save` refuses an oversize record
/// before taking the lock, so a missing directory is not even created.
#[test]
fn store_save_refuses_an_oversize_record_before_touching_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new").join(NAME);
    let result = store(&target).save(&record_serialized_to(MIB + 1));
    assert!(
        matches!(result, Err(StoreError::Save(SaveError::Invalid(_)))),
        "expected Invalid, got {result:?}"
    );
    assert!(
        !dir.path().join("new").exists(),
        "the lock took the directory"
    );
}

/// SPEC §3.1, §1.6.1: a record serialized to exactly 1,048,576 bytes is
/// accepted and loads back as valid and equal.
#[test]
fn a_record_whose_serialized_form_is_exactly_1_mib_is_saved_and_loads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    let r = record_serialized_to(MIB);
    save(&target, &r).expect("save");
    assert_eq!(fs::metadata(&target).unwrap().len(), MIB as u64);
    let loaded = load(&target);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "{}",
        loaded.outcome
    );
    assert_eq!(loaded.record, r);
}

// ---------------------------------------------------------------------------
// Serialized form and unknown members (SPEC §1.5, §3.2)
// ---------------------------------------------------------------------------

const BASE_MEMBERS: &str = r#""current_state":"SLEEP","since_ts":"2024-06-01T00:00:00+00:00","last_activity_ts":"2024-06-01T00:00:01.5Z","wrapper_event_seq":-0"#;

/// Writes `text` as the record, loads it (must be valid), saves it to a new
/// file and returns (loaded record, saved text).
fn load_then_save(text: &str) -> (Record, String) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.json");
    fs::write(&source, text).unwrap();
    let loaded = load(&source);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "{}",
        loaded.outcome
    );
    let target = dir.path().join(NAME);
    save(&target, &loaded.record).expect("save");
    let saved = fs::read_to_string(&target).unwrap();
    (loaded.record, saved)
}

/// Asserts `saved` contains `"name":value` verbatim and loads back equal to
/// `record`.
fn assert_preserved(record: &Record, saved: &str, member: &str) {
    assert!(saved.contains(member), "{member} not verbatim in {saved}");
    assert_eq!(
        &decode(saved.as_bytes()).expect("saved file is valid"),
        record
    );
}

/// SPEC §1.5, §3.2.3: an unknown top-level member keeps its raw text
/// (whitespace, number spelling, escapes) through load and save.
#[test]
fn an_unknown_top_level_member_survives_load_and_save_byte_for_byte() {
    let member =
        r#""x_top":{"n": [1e400, 1.50 , -0, 123456789012345678901234567890], "s":"\u00e9\/"}"#;
    let text = format!("{{{BASE_MEMBERS},{member},\"shadow_run\":false}}");
    let (record, saved) = load_then_save(&text);
    assert_preserved(&record, &saved, member);
}

/// SPEC §1.5, §3.2.3: an unknown member inside `sleep_cycle_progress` keeps
/// its raw text through load and save.
#[test]
fn an_unknown_member_inside_sleep_cycle_progress_survives_load_and_save_byte_for_byte() {
    let member = r#""x_p":[ {"attempt" : 1.0E+2}, "\ud83d\ude00" ]"#;
    let text = format!(
        "{{{BASE_MEMBERS},\"sleep_cycle_progress\":{{\"attempt\":2,{member}}},\"shadow_run\":false}}"
    );
    let (record, saved) = load_then_save(&text);
    assert_preserved(&record, &saved, member);
}

/// SPEC §1.5, §3.2.3: an unknown member inside `quarantine` keeps its raw
/// text through load and save.
#[test]
fn an_unknown_member_inside_quarantine_survives_load_and_save_byte_for_byte() {
    let member = r#""x_q":{"until_ts":"not a timestamp","deep":[[[-1.5e-7]]]}"#;
    let text = format!(
        "{{{BASE_MEMBERS},\"quarantine\":{{{member},\"reason\":\"r\",\"until_ts\":\"2024-06-02T00:00:00Z\",\"since_ts\":\"2024-06-01T00:00:00Z\"}},\"shadow_run\":false}}"
    );
    let (record, saved) = load_then_save(&text);
    assert_preserved(&record, &saved, member);
}

/// SPEC §3.2.1-3: known members in table order (nullables written), then
/// unknown members in their original order, at every level; compact; `-0`
/// as `0`; one trailing newline.
#[test]
fn unknown_members_are_written_after_the_known_ones_in_their_original_order() {
    let text = concat!(
        "{ \"z_first\" : 1 ,\"shadow_run\":true,",
        "\"sleep_cycle_progress\":{\"p_b\":2,\"started_at\":\"2024-06-01T00:00:00Z\",\"p_a\":1,\"last_completed_step\":-0},",
        "\"current_state\":\"SLEEP\",\"a_second\":[ ],",
        "\"quarantine\":{\"q_b\":null,\"reason\":\"\",\"since_ts\":\"2024-06-01T00:00:00Z\",\"until_ts\":\"2024-06-02T00:00:00Z\",\"q_a\":\"\"},",
        "\"since_ts\":\"2024-06-01T00:00:00+00:00\",\"last_activity_ts\":\"2024-06-01T00:00:01.5Z\",\"wrapper_event_seq\":7}\n"
    );
    let (_record, saved) = load_then_save(text);
    let expected = concat!(
        "{\"current_state\":\"SLEEP\",\"since_ts\":\"2024-06-01T00:00:00+00:00\",",
        "\"last_activity_ts\":\"2024-06-01T00:00:01.5Z\",\"wrapper_event_seq\":7,",
        "\"sleep_cycle_progress\":{\"last_completed_step\":0,\"started_at\":\"2024-06-01T00:00:00Z\",\"p_b\":2,\"p_a\":1},",
        "\"quarantine\":{\"until_ts\":\"2024-06-02T00:00:00Z\",\"since_ts\":\"2024-06-01T00:00:00Z\",\"reason\":\"\",\"q_b\":null,\"q_a\":\"\"},",
        "\"shadow_run\":true,\"z_first\":1,\"a_second\":[ ]}\n"
    );
    assert_eq!(saved, expected);
}

/// SPEC §3.2.1: a record without nested objects is saved with all seven
/// members, `null` for the absent ones, compact, newline-terminated.
#[test]
fn a_saved_record_has_all_seven_members_with_null_for_absent_ones() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    save(&target, &record(State::Hibernation, 12)).expect("save");
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        concat!(
            "{\"current_state\":\"HIBERNATION\",\"since_ts\":\"2024-05-01T12:00:00Z\",",
            "\"last_activity_ts\":\"2024-05-01T12:34:56.789Z\",\"wrapper_event_seq\":12,",
            "\"sleep_cycle_progress\":null,\"quarantine\":null,\"shadow_run\":false}\n"
        )
    );
}

/// SPEC §3.2 ("a load of the serialized form of a valid record MUST return
/// that record"): every member populated, 2^53-1 included.
#[test]
fn a_saved_record_loads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    save(&target, &new_record()).expect("save");
    let loaded = load(&target);
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid),
        "{}",
        loaded.outcome
    );
    assert_eq!(loaded.record, new_record());
}

// ---------------------------------------------------------------------------
// Protocol (SPEC §3.3)
// ---------------------------------------------------------------------------

/// SPEC §3.3 steps 3-8: a steady-state save is exactly create exclusive,
/// write, fsync, close, rename, fsync of the directory.
#[test]
fn a_successful_save_calls_exactly_create_write_fsync_close_rename_fsync_dir() {
    let (_dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new();
    save_with(&fs, &target, &new_record()).expect("save");
    assert_eq!(
        fs.ops(),
        vec![
            Op::CreateExclusive,
            Op::WriteAt,
            Op::SyncFile,
            Op::Close,
            Op::Rename,
            Op::SyncDir
        ]
    );
}

/// SPEC §3.3 ("exactly two fsyncs: step 5 and step 8").
#[test]
fn a_steady_state_save_performs_exactly_two_fsyncs() {
    let (_dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new();
    save_with(&fs, &target, &new_record()).expect("save");
    assert_eq!(fs.count(Op::SyncFile) + fs.count(Op::SyncDir), 2);
}

/// SPEC §3.3 steps 3-8: the temp file lives in `D`, receives the complete
/// serialized form, is renamed over `D/F`, and `D` is what is fsynced.
#[test]
fn a_successful_save_writes_the_whole_record_to_a_temp_in_d_and_renames_it_over_d_f() {
    let (dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new();
    save_with(&fs, &target, &new_record()).expect("save");
    let calls = fs.calls();
    let temp = calls[0].paths[0].clone();
    assert_eq!(temp.parent(), Some(dir.path()), "temp outside D: {calls:?}");
    assert_eq!(calls[1].paths, vec![temp.clone()]);
    assert_eq!(calls[1].arg, Some(new_bytes().len() as u64));
    assert_eq!(calls[2].paths, vec![temp.clone()]);
    assert_eq!(calls[3].paths, vec![temp.clone()]);
    assert_eq!(calls[4].paths, vec![temp, target.clone()]);
    assert_eq!(calls[5].paths, vec![dir.path().to_path_buf()]);
    assert_eq!(fs::read(&target).unwrap(), new_bytes());
}

/// SPEC §3.3 step 3: the temp is `.lifecycle_state.<16 lowercase hex>.tmp`.
#[test]
fn the_temp_file_name_is_lifecycle_state_16_lowercase_hex_tmp() {
    let (_dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new();
    save_with(&fs, &target, &new_record()).expect("save");
    let temp = &fs.calls()[0].paths[0];
    let name = temp.file_name().unwrap();
    assert!(is_spec_temp_name(name), "bad temp name {name:?}");
}

/// SPEC §3.3 step 3: the temp file is asked for with mode 0600.
#[test]
fn the_temp_file_is_created_with_mode_0600() {
    let (_dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new();
    save_with(&fs, &target, &new_record()).expect("save");
    let create = &fs.calls()[0];
    assert_eq!((create.op, create.arg), (Op::CreateExclusive, Some(0o600)));
}

/// SPEC §3.3 step 2: each missing directory is created 0700 and its parent
/// fsynced, outermost first, before the temp file is created.
#[test]
fn a_save_into_missing_directories_creates_each_and_fsyncs_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = a.join("b");
    let fs = FaultyFs::new();
    save_with(&fs, &b.join(NAME), &new_record()).expect("save");
    let made: Vec<(Op, Vec<PathBuf>, Option<u64>)> = fs
        .calls()
        .into_iter()
        .filter(|c| c.result.is_ok() && matches!(c.op, Op::CreateDir | Op::SyncDir))
        .map(|c| (c.op, c.paths, c.arg))
        .collect();
    assert_eq!(
        made,
        vec![
            (Op::CreateDir, vec![a.clone()], Some(0o700)),
            (Op::SyncDir, vec![dir.path().to_path_buf()], None),
            (Op::CreateDir, vec![b.clone()], Some(0o700)),
            (Op::SyncDir, vec![a.clone()], None),
            (Op::SyncDir, vec![b.clone()], None),
        ]
    );
    assert_eq!(fs::read(b.join(NAME)).unwrap(), new_bytes());
}

// ---------------------------------------------------------------------------
// Injected failures at every step (SPEC §3.5)
// ---------------------------------------------------------------------------

/// Steps 3-7 of SPEC §3.3: the N-th call of `op` fails with `errno`; the
/// save reports `step`, the old record is intact and no temp file remains
/// (the directory is exactly as before).
fn failing_step_keeps_the_old_record(op: Op, step: SaveStep, errno: i32) {
    let (dir, target, old) = dir_with_old_record();
    let before = snapshot(dir.path());
    let fs = FaultyFs::new().fail(op, 1, errno);
    let err = save_with(&fs, &target, &new_record()).expect_err("the save must fail");
    assert_eq!(fs.injected(), 1, "the fault did not fire: {:?}", fs.calls());
    assert_io_step(&err, step, errno);
    assert_eq!(fs::read(&target).unwrap(), old, "the old record changed");
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new(), "temp left");
    assert_eq!(snapshot(dir.path()), before, "the directory changed");
}

/// Step 8 of SPEC §3.3: the final directory fsync fails; the save reports
/// it, the new record is in place (SPEC §3.5.2) and no temp file remains.
fn failing_final_sync_dir_leaves_the_new_record(op: Op, step: SaveStep, errno: i32) {
    let (dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new().fail(op, 1, errno);
    let err = save_with(&fs, &target, &new_record()).expect_err("the save must fail");
    assert_eq!(fs.injected(), 1, "the fault did not fire: {:?}", fs.calls());
    assert_io_step(&err, step, errno);
    assert_eq!(
        fs::read(&target).unwrap(),
        new_bytes(),
        "new record not in place"
    );
    assert_eq!(mode_of(&target), 0o600);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new(), "temp left");
}

/// Step 2 of SPEC §3.3 (target directory missing): the first call of `op`
/// fails; the save reports `step`, no record and no temp file exist.
fn failing_directory_step_leaves_nothing(op: Op, step: SaveStep, errno: i32) {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let target = state_dir.join(NAME);
    let fs = FaultyFs::new().fail(op, 1, errno);
    let err = save_with(&fs, &target, &new_record()).expect_err("the save must fail");
    let injected: Vec<Call> = fs.calls().into_iter().filter(|c| c.injected).collect();
    assert_eq!(
        injected.len(),
        1,
        "the fault did not fire: {:?}",
        fs.calls()
    );
    // The mkdir of `state`, or the fsync of its parent after that mkdir.
    let expected_path = if op == Op::CreateDir {
        state_dir.clone()
    } else {
        dir.path().to_path_buf()
    };
    assert_eq!(injected[0].paths, vec![expected_path]);
    assert_io_step(&err, step, errno);
    assert!(!target.exists(), "a record appeared");
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new(), "temp left");
}

/// SPEC §3.3 step 2: when the fsync of a new directory's parent fails, the
/// directory is removed again, so the next save creates it and fsyncs its
/// parent (regression: the directory stayed, no later save made its entry
/// durable, and a power loss could take a "successfully" saved record with
/// it; found by the machine test).
#[test]
fn a_new_directory_whose_parent_fsync_failed_is_removed_and_made_durable_by_the_next_save() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let target = state_dir.join(NAME);
    let fs = FaultyFs::new().fail(Op::SyncDir, 1, libc::EIO);
    save_with(&fs, &target, &new_record()).expect_err("the first save must fail");
    assert!(
        !state_dir.exists(),
        "the directory of the failed save stayed"
    );
    save_with(&fs, &target, &new_record()).expect("the second save");
    let parent_fsyncs = fs
        .calls()
        .into_iter()
        .filter(|c| {
            c.op == Op::SyncDir && c.result.is_ok() && c.paths == vec![dir.path().to_path_buf()]
        })
        .count();
    assert_eq!(
        parent_fsyncs, 1,
        "the second save did not fsync the new directory's parent"
    );
}

macro_rules! fault_tests {
    ($doc:literal, $check:ident($op:expr, $step:expr); $($name:ident: $errno:expr),* $(,)?) => {$(
        #[doc = $doc]
        #[test]
        fn $name() {
            $check($op, $step, $errno);
        }
    )*};
}

fault_tests! {
    "SPEC §3.3 step 2, §3.5.1: a failed mkdir of the missing directory fails the save at that step and leaves no record and no temp file.",
    failing_directory_step_leaves_nothing(Op::CreateDir, SaveStep::CreateDir);
    enospc_at_create_dir_fails_the_save_and_leaves_no_record_and_no_temp_file: libc::ENOSPC,
    eio_at_create_dir_fails_the_save_and_leaves_no_record_and_no_temp_file: libc::EIO,
    edquot_at_create_dir_fails_the_save_and_leaves_no_record_and_no_temp_file: libc::EDQUOT,
    erofs_at_create_dir_fails_the_save_and_leaves_no_record_and_no_temp_file: libc::EROFS,
}

fault_tests! {
    "SPEC §3.3 step 2, §3.5.1: a failed fsync of a new directory's parent fails the save at the directory step and leaves no record and no temp file.",
    failing_directory_step_leaves_nothing(Op::SyncDir, SaveStep::CreateDir);
    enospc_at_the_new_directorys_parent_fsync_fails_the_save_and_leaves_no_temp_file: libc::ENOSPC,
    eio_at_the_new_directorys_parent_fsync_fails_the_save_and_leaves_no_temp_file: libc::EIO,
    edquot_at_the_new_directorys_parent_fsync_fails_the_save_and_leaves_no_temp_file: libc::EDQUOT,
    erofs_at_the_new_directorys_parent_fsync_fails_the_save_and_leaves_no_temp_file: libc::EROFS,
}

fault_tests! {
    "SPEC §3.3 step 3, §3.5.1: a failed exclusive create of the temp file fails the save at that step; the old record is intact and no temp file remains.",
    failing_step_keeps_the_old_record(Op::CreateExclusive, SaveStep::CreateTemp);
    enospc_at_create_exclusive_keeps_the_old_record_and_leaves_no_temp_file: libc::ENOSPC,
    eio_at_create_exclusive_keeps_the_old_record_and_leaves_no_temp_file: libc::EIO,
    edquot_at_create_exclusive_keeps_the_old_record_and_leaves_no_temp_file: libc::EDQUOT,
    erofs_at_create_exclusive_keeps_the_old_record_and_leaves_no_temp_file: libc::EROFS,
}

fault_tests! {
    "SPEC §3.3 step 4, §3.5.1: a failed write fails the save at that step; the old record is intact and the temp file is removed.",
    failing_step_keeps_the_old_record(Op::WriteAt, SaveStep::Write);
    enospc_at_write_at_keeps_the_old_record_and_leaves_no_temp_file: libc::ENOSPC,
    eio_at_write_at_keeps_the_old_record_and_leaves_no_temp_file: libc::EIO,
    edquot_at_write_at_keeps_the_old_record_and_leaves_no_temp_file: libc::EDQUOT,
    erofs_at_write_at_keeps_the_old_record_and_leaves_no_temp_file: libc::EROFS,
}

fault_tests! {
    "SPEC §3.3 step 5, §3.5.1: a failed fsync of the temp file fails the save at that step; the old record is intact and the temp file is removed.",
    failing_step_keeps_the_old_record(Op::SyncFile, SaveStep::SyncFile);
    enospc_at_sync_file_keeps_the_old_record_and_leaves_no_temp_file: libc::ENOSPC,
    eio_at_sync_file_keeps_the_old_record_and_leaves_no_temp_file: libc::EIO,
    edquot_at_sync_file_keeps_the_old_record_and_leaves_no_temp_file: libc::EDQUOT,
    erofs_at_sync_file_keeps_the_old_record_and_leaves_no_temp_file: libc::EROFS,
}

fault_tests! {
    "SPEC §3.3 step 6, §3.5.1: a failed close fails the save at that step; the old record is intact and the temp file is removed.",
    failing_step_keeps_the_old_record(Op::Close, SaveStep::Close);
    enospc_at_close_keeps_the_old_record_and_leaves_no_temp_file: libc::ENOSPC,
    eio_at_close_keeps_the_old_record_and_leaves_no_temp_file: libc::EIO,
    edquot_at_close_keeps_the_old_record_and_leaves_no_temp_file: libc::EDQUOT,
    erofs_at_close_keeps_the_old_record_and_leaves_no_temp_file: libc::EROFS,
}

fault_tests! {
    "SPEC §3.3 step 7, §3.5.1: a failed rename fails the save at that step; the old record is intact and the temp file is removed.",
    failing_step_keeps_the_old_record(Op::Rename, SaveStep::Rename);
    enospc_at_rename_keeps_the_old_record_and_leaves_no_temp_file: libc::ENOSPC,
    eio_at_rename_keeps_the_old_record_and_leaves_no_temp_file: libc::EIO,
    edquot_at_rename_keeps_the_old_record_and_leaves_no_temp_file: libc::EDQUOT,
    erofs_at_rename_keeps_the_old_record_and_leaves_no_temp_file: libc::EROFS,
}

fault_tests! {
    "SPEC §3.3 step 8, §3.5.2: a failed fsync of the directory still fails the save, at that step, with the new record in place and no temp file.",
    failing_final_sync_dir_leaves_the_new_record(Op::SyncDir, SaveStep::SyncDir);
    enospc_at_the_final_directory_fsync_fails_the_save_with_the_new_record_in_place: libc::ENOSPC,
    eio_at_the_final_directory_fsync_fails_the_save_with_the_new_record_in_place: libc::EIO,
    edquot_at_the_final_directory_fsync_fails_the_save_with_the_new_record_in_place: libc::EDQUOT,
    erofs_at_the_final_directory_fsync_fails_the_save_with_the_new_record_in_place: libc::EROFS,
}

/// SPEC §3.3 step 4, §3.5.1: a write that lands half the data and then
/// reports ENOSPC keeps the old record and removes the partial temp file.
#[test]
fn a_short_write_ending_in_enospc_keeps_the_old_record_and_removes_the_partial_temp() {
    let (dir, target, old) = dir_with_old_record();
    let before = snapshot(dir.path());
    let fs = FaultyFs::new().fail_after_effect(Op::WriteAt, 1, libc::ENOSPC);
    let err = save_with(&fs, &target, &new_record()).expect_err("the save must fail");
    assert_io_step(&err, SaveStep::Write, libc::ENOSPC);
    assert_eq!(fs::read(&target).unwrap(), old);
    assert_eq!(snapshot(dir.path()), before, "the directory changed");
}

/// SPEC §3.3 step 6 ("close it, checking the result"), §3.5.1: a close that
/// reports EIO after closing fails the save and removes the temp file.
#[test]
fn a_close_reporting_eio_after_closing_fails_the_save_and_removes_the_temp() {
    let (dir, target, old) = dir_with_old_record();
    let before = snapshot(dir.path());
    let fs = FaultyFs::new().fail_after_effect(Op::Close, 1, libc::EIO);
    let err = save_with(&fs, &target, &new_record()).expect_err("the save must fail");
    assert_io_step(&err, SaveStep::Close, libc::EIO);
    assert_eq!(fs::read(&target).unwrap(), old);
    assert_eq!(snapshot(dir.path()), before, "the directory changed");
}

/// SPEC §3.3 step 3 (`O_EXCL`): when the temp name is taken, save never
/// opens the existing entry; it retries with a fresh spec-shaped name.
#[test]
fn a_taken_temp_name_is_retried_with_a_fresh_name() {
    let (_dir, target, _old) = dir_with_old_record();
    let fs = FaultyFs::new().fail(Op::CreateExclusive, 1, libc::EEXIST);
    save_with(&fs, &target, &new_record()).expect("save after a name collision");
    let creates: Vec<PathBuf> = fs
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::CreateExclusive)
        .map(|c| c.paths[0].clone())
        .collect();
    assert_eq!(creates.len(), 2, "{creates:?}");
    assert_ne!(creates[0], creates[1]);
    assert!(creates
        .iter()
        .all(|p| is_spec_temp_name(p.file_name().unwrap())));
    assert_eq!(fs::read(&target).unwrap(), new_bytes());
}

/// SPEC §3.3 step 3, §3.5.1: when every temp name is taken the save fails at
/// the temp step and the old record is intact.
#[test]
fn when_every_temp_name_is_taken_the_save_fails_and_keeps_the_old_record() {
    let (dir, target, old) = dir_with_old_record();
    let before = snapshot(dir.path());
    let fs = FaultyFs::new().fail_from(Op::CreateExclusive, 1, libc::EEXIST);
    let err = save_with(&fs, &target, &new_record()).expect_err("no free name");
    assert_io_step(&err, SaveStep::CreateTemp, libc::EEXIST);
    assert_eq!(fs::read(&target).unwrap(), old);
    assert_eq!(snapshot(dir.path()), before);
}

/// SPEC §3.3 step 3 (`O_CREAT|O_EXCL|O_NOFOLLOW`): the temp file is created
/// by `Fs::create_exclusive`; a symlink planted at the name is refused with
/// EEXIST and its target is not written. (The real temp name is random, so
/// the primitive is tested at a planted name.)
#[test]
fn create_exclusive_refuses_a_symlink_planted_at_the_temp_name() {
    use lifecycle_state::{Fs, RealFs};
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, b"precious").unwrap();
    let planted = dir.path().join(".lifecycle_state.0123456789abcdef.tmp");
    symlink(&victim, &planted).unwrap();
    let err = RealFs
        .create_exclusive(&planted, 0o600)
        .expect_err("must refuse");
    assert_eq!(err.raw_os_error(), Some(libc::EEXIST), "{err}");
    assert_eq!(fs::read(&victim).unwrap(), b"precious");
}

/// SPEC §3.3 step 3: a dangling symlink at the temp name is refused too,
/// and its target is not created.
#[test]
fn create_exclusive_does_not_create_the_target_of_a_dangling_symlink() {
    use lifecycle_state::{Fs, RealFs};
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    let planted = dir.path().join(".lifecycle_state.0123456789abcdef.tmp");
    symlink(&victim, &planted).unwrap();
    assert!(RealFs.create_exclusive(&planted, 0o600).is_err());
    assert!(!victim.exists(), "the symlink was followed");
}

// ---------------------------------------------------------------------------
// Real failures, no injection (SPEC §3.3, §3.5)
// ---------------------------------------------------------------------------

/// SPEC §3.5.1: a directory at the target cannot be replaced; the save fails
/// at the rename, the directory and its contents are untouched and no temp
/// file remains.
#[test]
fn a_directory_at_the_target_fails_the_save_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(NAME);
    fs::create_dir(&target).unwrap();
    fs::write(target.join("inside"), b"x").unwrap();
    let before = snapshot(dir.path());
    let err = save(&target, &new_record()).expect_err("must fail");
    assert!(
        matches!(
            err,
            SaveError::Io {
                step: SaveStep::Rename,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(snapshot(dir.path()), before, "the directory changed");
}

/// SPEC §3.5.1: when the parent path is a regular file the save fails with
/// ENOTDIR and the file is untouched.
#[test]
fn a_regular_file_as_the_parent_path_fails_the_save_with_enotdir() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("not_a_dir");
    fs::write(&parent, b"plain file").unwrap();
    let before = snapshot(dir.path());
    let err = save(parent.join(NAME), &new_record()).expect_err("must fail");
    match &err {
        SaveError::Io { source, .. } => {
            assert_eq!(source.raw_os_error(), Some(libc::ENOTDIR), "{err}")
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert_eq!(snapshot(dir.path()), before);
}

/// SPEC §3.3 step 7: a symlink at `D/F` is replaced by the record, never
/// written through.
#[test]
fn a_symlink_at_the_target_is_replaced_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere.json");
    fs::write(&elsewhere, b"other").unwrap();
    let target = dir.path().join(NAME);
    symlink(&elsewhere, &target).unwrap();
    save(&target, &new_record()).expect("save");
    assert!(fs::symlink_metadata(&target).unwrap().is_file());
    assert_eq!(fs::read(&target).unwrap(), new_bytes());
    assert_eq!(fs::read(&elsewhere).unwrap(), b"other");
}
