//! The exhaustive crash test of SPEC §3.4 and the proof that it catches
//! broken save protocols.
//!
//! Proves: for the store's save (`persist::write_atomically`, the protocol of
//! SPEC §3.3), every crash point × every state a process crash or a power
//! loss may leave (persistence model, `model/README.md`) recovers to the
//! complete old or the complete new record, mode 0600, with only sweepable
//! temp files left, and to the new record once save has returned; the
//! harness's crash judge decides with the model's decoder. It also proves
//! the check has teeth: five deliberately broken protocols written below
//! each produce a violation, and the test fails if one passes.
//!
//! Does not prove: anything on a real disk (that is `cli/tests/strace_save.rs`
//! for the syscall order), or under concurrent writers (the lock,
//! `writer_lock.rs`).

use std::path::Path;

use lifecycle_harness::crash::{StartingDisk, STARTING_DISKS};
use lifecycle_model::Record;
use lifecycle_state::fs::Fs;
use lifecycle_state::persist::{self, parent_dir};
use lifecycle_testkit::crash::{check, Protocol};
use lifecycle_testkit::SimFs;

const DIR: &str = "/state";

fn record(seq: u64, extra: &str) -> Record {
    let text = format!(
        r#"{{"current_state":"DROWSY","since_ts":"2024-02-29T23:59:60.5+00:00","last_activity_ts":"2024-03-01T00:00:00Z","wrapper_event_seq":{seq},"sleep_cycle_progress":{{"last_completed_step":2,"attempt":3,"last_error":"disk","started_at":"2024-03-01T00:00:00Z","x":[1]}},"quarantine":null,"shadow_run":false,"pad":"{extra}"}}"#
    );
    match lifecycle_model::record::decode(text.as_bytes()) {
        Ok(record) => record,
        Err(e) => panic!("test record does not decode: {e:?}"),
    }
}

/// Pairs (old, new) of different sizes: new shorter, longer, and spanning
/// several 512-byte blocks, so torn writes and stale tails are possible.
fn pairs() -> Vec<(&'static str, Record, Record)> {
    vec![
        ("new shorter", record(7, &"o".repeat(300)), record(8, "")),
        ("new longer", record(7, ""), record(8, &"n".repeat(300))),
        (
            "several blocks",
            record(7, &"o".repeat(900)),
            record(8, &"n".repeat(1700)),
        ),
    ]
}

fn store_save(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
    persist::write_atomically(fs, path, bytes).map_err(|e| e.to_string())
}

#[test]
fn every_crash_during_a_save_recovers_the_old_or_the_new_record() {
    let mut states = 0;
    for start in STARTING_DISKS {
        for (name, old, new) in pairs() {
            match check(store_save, start, &old, &new) {
                Ok(checked) => {
                    assert!(checked.crash_points >= 6, "{name}: too few crash points");
                    states += checked.states;
                }
                Err(violation) => panic!("{start:?}, {name}: {violation}"),
            }
        }
    }
    println!("crash states checked: {states}");
    assert!(
        states > 100,
        "the persistence model offered only {states} states"
    );
}

#[test]
fn the_store_save_with_a_record_passes_the_exhaustive_check() {
    fn save_record(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
        let record = lifecycle_state::decode(bytes).map_err(|e| e.to_string())?;
        persist::save_with(fs, path, &record).map_err(|e| e.to_string())
    }
    let (_, old, new) = pairs().remove(0);
    if let Err(violation) = check(save_record, StartingDisk::OldRecord, &old, &new) {
        panic!("{violation}");
    }
}

// ---------------------------------------------------------------------------
// Broken protocols: each skips or reorders one step of SPEC §3.3.
// ---------------------------------------------------------------------------

fn io<T>(result: std::io::Result<T>) -> Result<T, String> {
    result.map_err(|e| e.to_string())
}

fn temp_path(path: &Path) -> Result<std::path::PathBuf, String> {
    let dir = parent_dir(path).map_err(|e| e.to_string())?;
    Ok(dir.join(".lifecycle_state.0123456789abcdef.tmp"))
}

fn ensure_state_dir(fs: &SimFs, path: &Path) -> Result<(), String> {
    let dir = parent_dir(path).map_err(|e| e.to_string())?;
    io(persist::ensure_dir(fs, dir))
}

fn without_file_fsync(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
    ensure_state_dir(fs, path)?;
    let temp = temp_path(path)?;
    let mut file = io(fs.create_exclusive(&temp, 0o600))?;
    io(fs.write_at(&mut file, 0, bytes))?;
    io(fs.close(file))?;
    io(fs.rename(&temp, path))?;
    io(fs.sync_dir(Path::new(DIR)))
}

fn without_dir_fsync(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
    ensure_state_dir(fs, path)?;
    let temp = temp_path(path)?;
    let mut file = io(fs.create_exclusive(&temp, 0o600))?;
    io(fs.write_at(&mut file, 0, bytes))?;
    io(fs.sync_file(&mut file))?;
    io(fs.close(file))?;
    io(fs.rename(&temp, path))
}

fn in_place(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
    ensure_state_dir(fs, path)?;
    let mut file = match fs.open_existing(path) {
        Ok(file) => file,
        Err(_) => io(fs.create_exclusive(path, 0o600))?,
    };
    io(fs.write_at(&mut file, 0, bytes))?;
    io(fs.sync_file(&mut file))?;
    io(fs.close(file))?;
    io(fs.sync_dir(Path::new(DIR)))
}

fn chmod_after_rename(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
    ensure_state_dir(fs, path)?;
    let temp = temp_path(path)?;
    // As if the umask had been trusted: 0644 until the late chmod.
    let mut file = io(fs.create_exclusive(&temp, 0o644))?;
    io(fs.write_at(&mut file, 0, bytes))?;
    io(fs.sync_file(&mut file))?;
    io(fs.close(file))?;
    io(fs.rename(&temp, path))?;
    io(fs.set_mode(path, 0o600))?;
    io(fs.sync_dir(Path::new(DIR)))
}

fn temp_in_another_directory(fs: &SimFs, path: &Path, bytes: &[u8]) -> Result<(), String> {
    ensure_state_dir(fs, path)?;
    io(persist::ensure_dir(fs, Path::new("/scratch")))?;
    let temp = Path::new("/scratch/.lifecycle_state.0123456789abcdef.tmp");
    let mut file = io(fs.create_exclusive(temp, 0o600))?;
    io(fs.write_at(&mut file, 0, bytes))?;
    io(fs.sync_file(&mut file))?;
    io(fs.close(file))?;
    io(fs.rename(temp, path))?;
    io(fs.sync_dir(Path::new(DIR)))
}

/// Runs the exhaustive check on `protocol` and returns its first violation
/// over every start and record pair, if any.
fn first_violation(protocol: Protocol) -> Option<String> {
    for start in STARTING_DISKS {
        for (name, old, new) in pairs() {
            if let Err(violation) = check(protocol, start, &old, &new) {
                return Some(format!("{start:?}, {name}: {violation}"));
            }
        }
    }
    None
}

fn assert_caught(name: &str, protocol: Protocol) {
    match first_violation(protocol) {
        Some(witness) => println!("{name} caught: {witness}"),
        None => panic!("the crash check let the broken protocol `{name}` pass"),
    }
}

#[test]
fn a_save_without_a_file_fsync_is_caught() {
    assert_caught("no file fsync", without_file_fsync);
}

#[test]
fn a_save_without_a_directory_fsync_is_caught() {
    assert_caught("no directory fsync", without_dir_fsync);
}

#[test]
fn a_save_that_writes_in_place_is_caught() {
    assert_caught("write in place", in_place);
}

#[test]
fn a_save_that_fixes_the_mode_after_the_rename_is_caught() {
    assert_caught("chmod after rename", chmod_after_rename);
}

#[test]
fn a_save_with_its_temp_file_in_another_directory_is_caught() {
    assert_caught("temp file in another directory", temp_in_another_directory);
}
