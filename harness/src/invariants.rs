//! What must hold on the record's directory, one function each.
//!
//! Promises, each returning a message when broken: files in the record's
//! directory are 0600 (record, copies, lock) and directories 0700 (SPEC
//! §3.6, §4.5.2); no temp file survives a completed writer that loaded a
//! readable file (SPEC §3.7, §4.3 step 2); a writer that failed or was
//! refused writes nothing: only the lock file may be new and, after a
//! readable load, stale temp files gone (SPEC §4.4.4, §5.1); the record file holds the serialized form of the record a writer
//! says it wrote, and is unchanged when it says it wrote nothing (SPEC
//! §3.2, §4.6); a replaced corrupt file's exact bytes are kept in a copy,
//! and at most five copies remain (SPEC §4.4); the sequence number never
//! goes backwards across a dispatch or sleep-cycle operation on a valid
//! file (SPEC §4.3 step 3).
//!
//! Does not promise: which five copies are kept (the newest), nor anything
//! about files outside the record's directory. Names come from
//! `lifecycle_model::spec`, never from an implementation.

use lifecycle_model::spec::{self, CORRUPT_COPIES_KEPT, DIR_MODE, FILE_MODE, LOCK_FILE_NAME};
use lifecycle_model::writer::{Found, WriterOp};
use lifecycle_model::Record;

use crate::compare;
use crate::report::excerpt;
use crate::subject::{Entry, Listing};

pub fn files_are_private(entries: &Listing, dir_mode: Option<u32>) -> Result<(), String> {
    if let Some(mode) = dir_mode.filter(|m| *m != DIR_MODE) {
        return Err(format!(
            "the record's directory has mode {mode:o}, not {DIR_MODE:o} (SPEC §3.6)"
        ));
    }
    for (name, entry) in entries {
        match entry {
            Entry::File { mode, .. } if *mode != FILE_MODE => {
                return Err(format!(
                    "{name} has mode {mode:o}, not {FILE_MODE:o} (SPEC §3.6, §4.5.2)"
                ))
            }
            Entry::Dir { mode } if *mode != DIR_MODE => {
                return Err(format!(
                    "{name} has mode {mode:o}, not {DIR_MODE:o} (SPEC §3.6)"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn no_temp_files_remain(entries: &Listing) -> Result<(), String> {
    let temps: Vec<&String> = entries.keys().filter(|n| spec::is_temp_name(n)).collect();
    if temps.is_empty() {
        return Ok(());
    }
    Err(format!(
        "temp files remain after a completed writer: {} (SPEC §3.7)",
        names(&temps)
    ))
}

fn names(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A writer that failed or was refused wrote nothing (SPEC §5.1): the
/// directory is as it was but for a new lock file (SPEC §4.5.2: created
/// when missing, never removed) and, when `may_sweep`, stale temp files it
/// swept after a readable load (SPEC §3.7, §4.3 step 2). After an
/// unreadable load nothing is swept (§4.4.4).
pub fn nothing_written(
    what: &str,
    before: &Listing,
    after: &Listing,
    may_sweep: bool,
) -> Result<(), String> {
    let kept = |entries: &Listing| {
        let mut entries = entries.clone();
        entries.remove(LOCK_FILE_NAME);
        if may_sweep {
            entries.retain(|name, _| !spec::is_temp_name(name));
        }
        entries
    };
    let new_temp = after
        .keys()
        .any(|name| spec::is_temp_name(name) && !before.contains_key(name));
    if kept(before) == kept(after) && !new_temp {
        return Ok(());
    }
    Err(format!(
        "{what} changed the directory from {before:?} to {after:?}"
    ))
}

/// The record file after a writer that reports `wrote` with `record` in
/// force: its serialized form when written, `before` untouched otherwise.
pub fn record_file_holds(
    record_name: &str,
    before: &Listing,
    after: &Listing,
    wrote: bool,
    record: &Record,
) -> Result<(), String> {
    let now = after.get(record_name);
    if !wrote {
        if now == before.get(record_name) {
            return Ok(());
        }
        return Err(format!(
            "the writer said it wrote nothing, but the record file went from {:?} to {now:?} (SPEC §4.6)",
            before.get(record_name)
        ));
    }
    match now {
        Some(Entry::File { data, .. }) => compare::serialized_form(data, record),
        other => Err(format!(
            "the writer said it wrote, but the record path holds {other:?}"
        )),
    }
}

/// `before` and `after` are the file around `op`.
pub fn sequence_never_goes_backwards(
    op: &WriterOp,
    before: &Found,
    after: &Found,
) -> Result<(), String> {
    if matches!(op, WriterOp::Save(_)) {
        return Ok(());
    }
    let (Some(b), Some(a)) = (before.record(), after.record()) else {
        // From a missing or corrupt file the writer starts over at the
        // default; `corrupt_bytes_are_preserved` covers what was lost.
        return Ok(());
    };
    if a.wrapper_event_seq >= b.wrapper_event_seq {
        return Ok(());
    }
    Err(format!(
        "wrapper_event_seq went from {} to {} (SPEC §4.3 step 3)",
        b.wrapper_event_seq, a.wrapper_event_seq
    ))
}

/// The writer replaced a corrupt file holding `bytes` and says it kept them
/// as `preserved_as`, a name in the record's directory.
pub fn corrupt_bytes_are_preserved(
    record_name: &str,
    entries: &Listing,
    bytes: &[u8],
    preserved_as: &str,
) -> Result<(), String> {
    if !spec::is_corrupt_copy_of(preserved_as, record_name) {
        return Err(format!(
            "the corrupt bytes were preserved as {preserved_as}, not as {}* (SPEC §4.4.1)",
            spec::corrupt_copy_prefix(record_name)
        ));
    }
    match entries.get(preserved_as) {
        Some(Entry::File { data, .. }) if **data == bytes => {}
        Some(Entry::File { data, .. }) => {
            return Err(format!(
                "{preserved_as} holds {}, not the corrupt bytes {} (SPEC §4.4.1)",
                excerpt(data),
                excerpt(bytes)
            ))
        }
        other => {
            return Err(format!(
            "the corrupt bytes were preserved as {preserved_as}, which is {other:?} (SPEC §4.4.1)"
        ))
        }
    }
    at_most_five_copies(record_name, entries)
}

pub fn at_most_five_copies(record_name: &str, entries: &Listing) -> Result<(), String> {
    let copies: Vec<&String> = entries
        .keys()
        .filter(|n| spec::is_corrupt_copy_of(n, record_name))
        .collect();
    if copies.len() <= CORRUPT_COPIES_KEPT {
        return Ok(());
    }
    Err(format!(
        "{} corrupt copies remain, more than {CORRUPT_COPIES_KEPT}: {} (SPEC §4.4.2)",
        copies.len(),
        names(&copies)
    ))
}
