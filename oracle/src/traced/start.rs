//! The disk a traced save starts from.
//!
//! Promises: each [`StartingState`] names what the record's directory
//! holds before the save (nothing, not even the directory; an empty
//! directory, 0700 or made 0755 by someone else; an old record, 0600 or of
//! another mode a careless writer left; a corrupt file), makes it on the
//! real disk, and says what the record path holds then, so every traced
//! suite starts from the same disks and judges against the same old
//! record. [`new_record`] is the record every traced save writes.
//!
//! A symlink at the record path points into a directory `elsewhere` beside
//! the record's (inside the case directory, so the tracer and the model
//! follow what a save does there).
//!
//! Does not promise: any other starting disk (a directory at the record
//! path, a relative symlink, a symlink to another file system).

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use lifecycle_model::spec::{DIR_MODE, FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::Record;

use crate::case::{record, stamp, FIXED_NOW};
use crate::traced::held::{materialize, Held};

/// How a traced case's directory starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartingState {
    /// The record's directory does not exist.
    NoDirectory,
    /// It exists, empty.
    EmptyDirectory,
    /// It holds an old record.
    OldRecord,
    /// The record file holds [`CORRUPT`] bytes.
    CorruptFile,
    /// It holds the old record with this mode, not 0600: a save must leave
    /// the new one 0600 all the same.
    OldRecordOfMode(u32),
    /// It exists, empty, with mode 0755: made by someone else, so a save
    /// need not change its mode, only put a 0600 record in it.
    DirectoryOf0755,
    /// The record path is a symlink to the old record in `elsewhere`.
    SymlinkToOldRecord,
    /// The record path is a symlink to a file `elsewhere` that does not
    /// exist.
    SymlinkToNothing,
}

/// The record's directory inside a traced case's directory.
pub const STATE: &str = "state";

/// The directory beside the record's that a symlink start points into.
pub const ELSEWHERE: &str = "elsewhere";

/// Every disk the traced suites start a save from, in the order their
/// cases are listed. Each suite leaves out those that tell it nothing new.
pub const STARTS: [StartingState; 10] = [
    StartingState::NoDirectory,
    StartingState::EmptyDirectory,
    StartingState::OldRecord,
    StartingState::CorruptFile,
    StartingState::OldRecordOfMode(0o644),
    StartingState::OldRecordOfMode(0o640),
    StartingState::OldRecordOfMode(0o666),
    StartingState::DirectoryOf0755,
    StartingState::SymlinkToOldRecord,
    StartingState::SymlinkToNothing,
];

/// [`STARTS`] without `left_out`, in the same order.
pub fn starts_without(left_out: &[StartingState]) -> Vec<StartingState> {
    STARTS
        .into_iter()
        .filter(|start| !left_out.contains(start))
        .collect()
}

/// The starts of the suites that interrupt a save at one of its calls
/// (`kill`, `faults`): all but the empty directory, which the directory
/// made 0755 (empty too) stands for.
pub fn interrupted_starts() -> Vec<StartingState> {
    starts_without(&[StartingState::EmptyDirectory])
}

/// The bytes of a corrupt record file: a record torn off mid-member.
pub const CORRUPT: &[u8] = b"{\"current_state\":\"DROWSY\",\"since_ts\":\"2024-06";

impl StartingState {
    pub fn name(self) -> String {
        match self {
            StartingState::NoDirectory => "no_directory".into(),
            StartingState::EmptyDirectory => "empty_directory".into(),
            StartingState::OldRecord => "old_record".into(),
            StartingState::CorruptFile => "corrupt_file".into(),
            StartingState::OldRecordOfMode(mode) => format!("old_record_{mode:04o}"),
            StartingState::DirectoryOf0755 => "directory_0755".into(),
            StartingState::SymlinkToOldRecord => "symlink_to_old_record".into(),
            StartingState::SymlinkToNothing => "symlink_to_nothing".into(),
        }
    }

    /// Whether the record path is a symlink at the start.
    pub fn is_symlink(self) -> bool {
        matches!(
            self,
            StartingState::SymlinkToOldRecord | StartingState::SymlinkToNothing
        )
    }

    pub fn describe(self) -> String {
        match self {
            StartingState::NoDirectory => "the record's directory does not exist".into(),
            StartingState::EmptyDirectory => "the record's directory is empty".into(),
            StartingState::OldRecord => "the record file holds an old record".into(),
            StartingState::CorruptFile => "the record file holds a corrupt record".into(),
            StartingState::OldRecordOfMode(mode) => {
                format!("the record file holds an old record and has mode {mode:04o}")
            }
            StartingState::DirectoryOf0755 => {
                "the record's directory exists with mode 0755, empty".into()
            }
            StartingState::SymlinkToOldRecord => format!(
                "the record path is a symlink to {RECORD_FILE_NAME} in the directory {ELSEWHERE} beside the record's, which holds an old record"
            ),
            StartingState::SymlinkToNothing => format!(
                "the record path is a symlink to {RECORD_FILE_NAME} in the directory {ELSEWHERE} beside the record's, which does not exist"
            ),
        }
    }

    /// What the record path holds at the start.
    pub fn held(self) -> Held {
        match self {
            StartingState::NoDirectory
            | StartingState::EmptyDirectory
            | StartingState::DirectoryOf0755
            | StartingState::SymlinkToNothing => Held::Nothing,
            StartingState::OldRecord | StartingState::SymlinkToOldRecord => Held::File {
                mode: FILE_MODE,
                data: old_record().encode(),
            },
            StartingState::OldRecordOfMode(mode) => Held::File {
                mode,
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
        if self.is_symlink() {
            let elsewhere = dir
                .parent()
                .map_or_else(|| dir.join(ELSEWHERE), |p| p.join(ELSEWHERE));
            materialize(&elsewhere, &self.held())?;
            fs::set_permissions(&elsewhere, fs::Permissions::from_mode(DIR_MODE))?;
            materialize(dir, &Held::Nothing)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
            return std::os::unix::fs::symlink(
                elsewhere.join(RECORD_FILE_NAME),
                dir.join(RECORD_FILE_NAME),
            );
        }
        materialize(dir, &self.held())?;
        let mode = match self {
            StartingState::DirectoryOf0755 => 0o755,
            _ => DIR_MODE,
        };
        fs::set_permissions(dir, fs::Permissions::from_mode(mode))
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
