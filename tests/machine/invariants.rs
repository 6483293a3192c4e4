//! Invariants checked on the disk after transitions, one function each.
//!
//! Proves, for every sequence the machine runs: files in the record's
//! directory are 0600 (record, copies, lock) and directories 0700 (SPEC
//! §3.6, §4.5.2); the sequence number never goes backwards across a
//! dispatch or sleep-cycle operation on a valid file (SPEC §4.3 step 3);
//! no temp file survives a completed writer that loaded a readable file
//! (SPEC §3.7, §4.3 step 2); a replaced corrupt file's exact bytes are kept
//! in a copy, and at most five copies remain (SPEC §4.4).
//!
//! Does not prove which five copies are kept (the newest), nor anything
//! about files outside the record's directory.

use std::collections::BTreeMap;
use std::path::Path;

use lifecycle_model::writer::WriterOp;

use super::disk::{Entry, RECORD_NAME};
use super::world::{preview, FileView};

const LOCK_NAME: &str = ".lifecycle.lock";
const COPY_PREFIX: &str = "lifecycle_state.json.corrupt-";
const COPIES_KEPT: usize = 5;

fn is_temp(name: &str) -> bool {
    name.starts_with(".lifecycle_state.") && name.ends_with(".tmp")
}

pub fn files_are_private(entries: &BTreeMap<String, Entry>, dir_mode: Option<u32>) {
    if let Some(mode) = dir_mode {
        assert_eq!(
            mode, 0o700,
            "the record's directory has mode {mode:o}, not 700"
        );
    }
    for (name, entry) in entries {
        match entry {
            Entry::File { mode, .. } => {
                assert_eq!(*mode, 0o600, "{name} has mode {mode:o}, not 600");
            }
            Entry::Dir { mode } => assert_eq!(*mode, 0o700, "{name} has mode {mode:o}, not 700"),
        }
    }
}

pub fn no_temp_files_remain(entries: &BTreeMap<String, Entry>) {
    let temps: Vec<&String> = entries.keys().filter(|n| is_temp(n)).collect();
    assert!(
        temps.is_empty(),
        "temp files remain after a completed writer: {temps:?}"
    );
}

/// A writer that found the record unreadable fails and changes nothing
/// (SPEC §4.4.4: nothing preserved, swept or written); only the lock file
/// may be new (§4.5.2).
pub fn unreadable_changes_nothing(
    before: &BTreeMap<String, Entry>,
    after: &BTreeMap<String, Entry>,
) {
    let without_lock = |entries: &BTreeMap<String, Entry>| {
        let mut entries = entries.clone();
        entries.remove(LOCK_NAME);
        entries
    };
    assert!(
        without_lock(before) == without_lock(after),
        "a writer on an unreadable file changed the directory from {before:?} to {after:?}"
    );
}

/// `before` and `after` are the file around `op`.
pub fn sequence_never_goes_backwards(op: &WriterOp, before: &FileView, after: &FileView) {
    if matches!(op, WriterOp::Save(_)) {
        return;
    }
    let (Some(b), Some(a)) = (before.record(), after.record()) else {
        // From a missing or corrupt file the writer starts over at the
        // default; `corrupt_bytes_are_preserved` covers what was lost.
        return;
    };
    assert!(
        a.wrapper_event_seq >= b.wrapper_event_seq,
        "wrapper_event_seq went from {} to {} across {op:?}",
        b.wrapper_event_seq,
        a.wrapper_event_seq
    );
}

/// The writer replaced a corrupt file holding `bytes` and says it kept them
/// as `preserved_as`.
pub fn corrupt_bytes_are_preserved(
    entries: &BTreeMap<String, Entry>,
    bytes: &[u8],
    preserved_as: &Path,
) {
    let name = preserved_as
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert!(
        name.starts_with(COPY_PREFIX) && name != RECORD_NAME,
        "preserved as {preserved_as:?}, not a {COPY_PREFIX}* name"
    );
    match entries.get(&name) {
        Some(Entry::File { data, .. }) => assert!(
            **data == bytes,
            "{name} holds {}, not the corrupt bytes {}",
            preview(data),
            preview(bytes)
        ),
        other => panic!("the corrupt bytes were preserved as {name}, which is {other:?}"),
    }
    at_most_five_copies(entries);
}

pub fn at_most_five_copies(entries: &BTreeMap<String, Entry>) {
    let copies: Vec<&String> = entries
        .keys()
        .filter(|n| n.starts_with(COPY_PREFIX))
        .collect();
    assert!(
        copies.len() <= COPIES_KEPT,
        "{} corrupt copies remain: {copies:?}",
        copies.len()
    );
}
