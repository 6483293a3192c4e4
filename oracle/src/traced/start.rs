//! The disk a traced save starts from.
//!
//! Promises: each [`StartingState`] names what the record's directory
//! holds before the save (nothing, not even the directory; an empty
//! directory; an old record; a corrupt file), makes it on the real disk
//! (directories 0700, the record file 0600), and says what the record path
//! holds then, so every traced suite starts from the same few disks and
//! judges against the same old record. [`new_record`] is the record every
//! traced save writes.
//!
//! Does not promise: any other starting disk (a symlink, another mode, a
//! directory at the record path).

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use lifecycle_model::spec::{DIR_MODE, FILE_MODE};
use lifecycle_model::Record;

use crate::case::{record, stamp, FIXED_NOW};
use crate::traced::held::{materialize, Held};

/// How a traced case's directory starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingState {
    /// The record's directory does not exist.
    NoDirectory,
    /// It exists, empty.
    EmptyDirectory,
    /// It holds an old record.
    OldRecord,
    /// The record file holds [`CORRUPT`] bytes.
    CorruptFile,
}

/// The bytes of a corrupt record file: a record torn off mid-member.
pub const CORRUPT: &[u8] = b"{\"current_state\":\"DROWSY\",\"since_ts\":\"2024-06";

impl StartingState {
    pub fn name(self) -> &'static str {
        match self {
            StartingState::NoDirectory => "no_directory",
            StartingState::EmptyDirectory => "empty_directory",
            StartingState::OldRecord => "old_record",
            StartingState::CorruptFile => "corrupt_file",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            StartingState::NoDirectory => "the record's directory does not exist",
            StartingState::EmptyDirectory => "the record's directory is empty",
            StartingState::OldRecord => "the record file holds an old record",
            StartingState::CorruptFile => "the record file holds a corrupt record",
        }
    }

    /// What the record path holds at the start.
    pub fn held(self) -> Held {
        match self {
            StartingState::NoDirectory | StartingState::EmptyDirectory => Held::Nothing,
            StartingState::OldRecord => Held::File {
                mode: FILE_MODE,
                data: old_record().encode(),
            },
            StartingState::CorruptFile => Held::File {
                mode: FILE_MODE,
                data: CORRUPT.to_vec(),
            },
        }
    }

    /// Makes `dir` so, and the directory above it (0700) in any case.
    pub fn make(self, dir: &Path) -> std::io::Result<()> {
        if self == StartingState::NoDirectory {
            return dir.parent().map_or(Ok(()), |parent| {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(parent)
            });
        }
        materialize(dir, &self.held())?;
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
    }
}

/// The record the old-record start holds.
pub fn old_record() -> Record {
    record(&format!(
        r#"{{"current_state":"DROWSY","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":41,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x-old":"the old record"}}"#,
        t = stamp(FIXED_NOW - 60_000_000)
    ))
}

/// The record every traced save writes.
pub fn new_record() -> Record {
    record(&format!(
        r#"{{"current_state":"WAKE","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":42,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x-new":"the new record, a little longer than the old one"}}"#,
        t = stamp(FIXED_NOW)
    ))
}
