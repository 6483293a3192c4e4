//! The one crash judge: which disks a save may leave behind, judged with
//! the model's decoder and the model's layout rules, never an
//! implementation's.
//!
//! Promises: [`judge_save`] takes the durable disk before a save and the
//! save's log of file-system operations (`model::persistence::Op`), and
//! for every prefix of the log (a crash after each operation, and after
//! the save returned) asks the persistence model for every state a process
//! crash and a power loss (512- and 4096-byte blocks) may leave; each state
//! is judged by [`judge_disk`]: the record file holds the complete old or
//! the complete new record (the new one once the save returned), is mode
//! 0600, and every other file the save left is one the next lock holder
//! sweeps (a temp file of SPEC §3.7) or the lock file; a directory it made
//! is 0700 (SPEC §3.4-§3.7).
//!
//! Does not promise: anything about saves that run concurrently, or about
//! file systems weaker than the persistence model (`model/README.md`).

use std::cell::OnceCell;
use std::fmt;

use lifecycle_model::persistence::{Crash, CrashSpace, Disk, InodeId, Node, Op};
use lifecycle_model::record::Corrupt;
use lifecycle_model::spec::{self, DIR_MODE, FILE_MODE};
use lifecycle_model::writer::Found;
use lifecycle_model::Record;

use crate::compare;
use crate::difference::Sides;
use crate::report;
use crate::transition::CRASHES;

/// The sides of a difference between an allowed record and the one held.
const HELD: Sides<'static> = Sides {
    ours: "the allowed record has",
    theirs: "the record file holds",
};

/// Where the record lives on a judged disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The record's directory, as an absolute path (`/state`).
    pub dir: String,
    /// The record's file name in it.
    pub record: String,
}

impl Layout {
    /// The record at `/state/lifecycle_state.json`, as the simulated runs
    /// place it.
    pub fn state_dir() -> Layout {
        Layout {
            dir: "/state".to_string(),
            record: spec::RECORD_FILE_NAME.to_string(),
        }
    }

    pub fn record_path(&self) -> String {
        format!("{}/{}", self.dir, self.record)
    }

    /// `path` is the lock file, or a temp file the lock holder sweeps.
    fn is_sidecar(&self, path: &str) -> bool {
        path.strip_prefix(&self.dir)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| name == spec::LOCK_FILE_NAME || spec::is_temp_name(name))
    }
}

/// What the disk holds before the save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingDisk {
    /// The directory holds the old record.
    OldRecord,
    /// The directory exists, the record file does not.
    NoRecord,
    /// Not even the directory exists: the save creates it.
    NoDirectory,
}

pub const STARTING_DISKS: [StartingDisk; 3] = [
    StartingDisk::OldRecord,
    StartingDisk::NoRecord,
    StartingDisk::NoDirectory,
];

/// The inode of the old record on an initial disk (any number no save
/// reuses: saves number their files from the largest inode on).
const OLD_INODE: InodeId = 1;

/// The disk before the save: the old record (its serialized form, mode
/// 0600) in a 0700 directory, an empty directory, or nothing.
pub fn initial_disk(layout: &Layout, start: StartingDisk, old: &Record) -> Disk {
    let mut disk = Disk::default();
    if start != StartingDisk::NoDirectory {
        disk.nodes
            .insert(layout.dir.clone(), Node::Dir { mode: DIR_MODE });
    }
    if start == StartingDisk::OldRecord {
        disk.nodes.insert(
            layout.record_path(),
            Node::File {
                inode: OLD_INODE,
                mode: FILE_MODE,
                data: old.encode(),
            },
        );
    }
    disk
}

/// What the record file may hold after a crash: any of some records, and
/// perhaps no file at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    records: Vec<Record>,
    /// The records' serialized forms, to recognize them without decoding;
    /// made when a disk is first judged.
    encoded: OnceCell<Vec<Vec<u8>>>,
    missing: bool,
}

impl Allowed {
    /// No record file at all is allowed too.
    pub fn or_missing(mut self) -> Allowed {
        self.missing = true;
        self
    }

    /// `record` is allowed too.
    pub fn or(mut self, record: &Record) -> Allowed {
        self.add(record);
        self
    }

    pub fn add(&mut self, record: &Record) {
        self.encoded = OnceCell::new();
        self.records.push(record.clone());
    }

    fn encoded(&self) -> &[Vec<u8>] {
        self.encoded
            .get_or_init(|| self.records.iter().map(Record::encode).collect())
    }

    /// Only `record`: a save of it returned, so it is the one durable record.
    pub fn only(&mut self, record: &Record) {
        *self = Allowed::default().or(record);
    }
}

/// Modes, the record file, and that every new file is the record or a
/// sidecar the next lock holder handles: `Ok`, or what is wrong.
pub fn judge_disk(
    disk: &Disk,
    initial: &Disk,
    layout: &Layout,
    allowed: &Allowed,
) -> Result<(), String> {
    let record_path = layout.record_path();
    judge_files(disk, initial, layout, &record_path)?;
    match disk.nodes.get(&record_path) {
        None if allowed.missing => Ok(()),
        None => Err("the record file is gone (SPEC §3.4.1)".to_string()),
        Some(Node::Dir { .. }) => Err("a directory is at the record path".to_string()),
        Some(Node::Symlink { target }) => {
            Err(format!("a symlink to {target} is at the record path"))
        }
        // Most states hold an allowed record in the model's own spelling:
        // recognized by its bytes, without decoding them again.
        Some(Node::File { data, .. }) if allowed.encoded().iter().any(|e| e == data) => Ok(()),
        Some(Node::File { data, .. }) => {
            judge_record(data, &lifecycle_model::record::decode(data), allowed)
        }
    }
}

/// [`judge_disk`] for a caller that has the model read the record path
/// anyway: `read` is what it holds as the model reads it
/// (`compare::found_at`). The same verdict, with the record file judged by
/// its decoded record first and by its bytes only when that fails (where
/// [`judge_disk`], which judges many disks against one `allowed`, does the
/// opposite), so a disk judged once is decoded once and no allowed record
/// is encoded.
pub fn judge_disk_read(
    disk: &Disk,
    initial: &Disk,
    layout: &Layout,
    allowed: &Allowed,
    read: &Found,
) -> Result<(), String> {
    let record_path = layout.record_path();
    judge_files(disk, initial, layout, &record_path)?;
    match (disk.nodes.get(&record_path), read) {
        (None, _) if allowed.missing => Ok(()),
        (None, _) => Err("the record file is gone (SPEC §3.4.1)".to_string()),
        (Some(Node::Dir { .. }), _) => Err("a directory is at the record path".to_string()),
        (Some(Node::Symlink { target }), _) => {
            Err(format!("a symlink to {target} is at the record path"))
        }
        (Some(Node::File { .. }), Found::Valid(record)) if allowed.records.contains(record) => {
            Ok(())
        }
        (Some(Node::File { data, .. }), _) if allowed.encoded().iter().any(|e| e == data) => Ok(()),
        (Some(Node::File { data, .. }), Found::Valid(record)) => {
            judge_record(data, &Ok(record.clone()), allowed)
        }
        (Some(Node::File { data, .. }), _) => {
            judge_record(data, &lifecycle_model::record::decode(data), allowed)
        }
    }
}

/// Modes of the record file and of new directories, and that every new
/// file is the record or a sidecar.
fn judge_files(
    disk: &Disk,
    initial: &Disk,
    layout: &Layout,
    record_path: &str,
) -> Result<(), String> {
    for (path, node) in &disk.nodes {
        let is_new = !initial.nodes.contains_key(path);
        match node {
            Node::File { mode, .. } if *path == record_path && *mode != FILE_MODE => {
                return Err(format!(
                    "the record file is visible with mode {mode:o} (SPEC §3.6)"
                ))
            }
            Node::File { .. } if *path != record_path && is_new && !layout.is_sidecar(path) => {
                return Err(format!(
                    "{path} is left behind and no lock holder will sweep it (SPEC §3.5.1, §3.7)"
                ))
            }
            Node::Dir { mode } if is_new && *mode != DIR_MODE => {
                return Err(format!(
                    "directory {path} was created with mode {mode:o} (SPEC §3.6)"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The record file `data`, which is none of the allowed encodings, read by
/// the model as `decoded`.
fn judge_record(
    data: &[u8],
    decoded: &Result<Record, Corrupt>,
    allowed: &Allowed,
) -> Result<(), String> {
    match decoded {
        Ok(record) if allowed.records.contains(record) => Ok(()),
        Ok(record) => {
            // Against the allowed record it is nearest to, by this
            // project's SPEC (records compare whole here).
            let world = crate::world::World::new(0, Found::Missing);
            let nearest = allowed
                .records
                .iter()
                .filter_map(|a| {
                    compare::difference(&world, &compare::Predicted::exactly(a), record, HELD)
                })
                .min_by_key(String::len)
                .map(|d| format!(": {d}, against the allowed record nearest to it"))
                .unwrap_or_default();
            Err(format!(
                "the record file holds none of the records allowed (SPEC §3.4){nearest}; it holds {}",
                report::record(record)
            ))
        }
        Err(corrupt) => Err(format!(
            "the record file is neither the old nor the new record: it breaks {}; {} (SPEC §3.4.1)",
            compare::breaks(data, corrupt),
            compare::whole_file(data)
        )),
    }
}

/// One state that breaks the contract, with how it was reached.
#[derive(Debug, Clone)]
pub struct Violation {
    /// How many operations of the log took place before the crash.
    pub after_ops: usize,
    pub ops: usize,
    pub crash: Crash,
    pub state_index: u64,
    pub what: String,
    pub disk: Disk,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<String> = self
            .disk
            .nodes
            .iter()
            .map(|(path, node)| match node {
                Node::Dir { mode } => format!("{path}/ ({mode:o})"),
                Node::File { mode, data, .. } => {
                    format!("{path} ({mode:o}, {} bytes)", data.len())
                }
                Node::Symlink { target } => format!("{path} -> {target}"),
            })
            .collect();
        let when = if self.after_ops == self.ops {
            format!("after the save returned ({} operations)", self.ops)
        } else {
            format!(
                "after {} of the save's {} operations",
                self.after_ops, self.ops
            )
        };
        let crash = match self.crash {
            Crash::Process => "a process crash".to_string(),
            Crash::PowerLoss { block_size } => {
                format!("a power loss ({block_size}-byte blocks)")
            }
        };
        write!(
            f,
            "{} — {crash} {when}, state {}; disk: {}",
            self.what,
            self.state_index,
            files.join(", ")
        )
    }
}

/// How much [`judge_save`] looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    pub crash_points: u64,
    pub states: u64,
}

/// Every crash point of the save that logged `log` from `initial` × every
/// crash × every state the model allows; the first violation, or how much
/// was checked.
pub fn judge_save(
    layout: &Layout,
    initial: &Disk,
    log: &[Op],
    old: Option<&Record>,
    new: &Record,
) -> Result<Checked, Box<Violation>> {
    let mut checked = Checked::default();
    // Made once: each encodes its records when first asked.
    let once_returned = Allowed::default().or(new);
    let while_saving = match old {
        Some(old) => Allowed::default().or(new).or(old),
        None => Allowed::default().or(new).or_missing(),
    };
    for after_ops in 0..=log.len() {
        let allowed = if after_ops == log.len() {
            &once_returned
        } else {
            &while_saving
        };
        checked.crash_points += 1;
        for crash in CRASHES {
            let space = CrashSpace::new(initial, &log[..after_ops], crash)
                .unwrap_or_else(|e| panic!("the save's log is one no kernel would accept: {e}"));
            for state_index in 0..space.len() {
                checked.states += 1;
                let disk = space.state(state_index);
                if let Err(what) = judge_disk(&disk, initial, layout, allowed) {
                    return Err(Box::new(Violation {
                        after_ops,
                        ops: log.len(),
                        crash,
                        state_index,
                        what,
                        disk,
                    }));
                }
            }
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_model::Timestamp;

    /// The record of the disk before, in these tests.
    fn old_record() -> Record {
        Record::default_at(&Timestamp::parse("2024-01-01T00:00:00Z").expect("a timestamp"))
    }

    #[test]
    fn a_violation_says_when_the_crash_came_and_what_the_disk_held() {
        let layout = Layout::state_dir();
        let old = old_record();
        let violation = |after_ops, crash| Violation {
            after_ops,
            ops: 3,
            crash,
            state_index: 4,
            what: "the record file is gone".to_string(),
            disk: initial_disk(&layout, StartingDisk::OldRecord, &old),
        };
        let returned = violation(3, Crash::Process).to_string();
        assert!(
            returned.starts_with(
                "the record file is gone — a process crash after the save returned (3 operations), state 4; disk: "
            ),
            "{returned}"
        );
        let during = violation(1, Crash::PowerLoss { block_size: 512 }).to_string();
        assert!(
            during.contains("a power loss (512-byte blocks) after 1 of the save's 3 operations"),
            "{during}"
        );
        let record = layout.record_path();
        let size = old.encode().len();
        assert!(
            during.contains(&format!("{record} (600, {size} bytes)")),
            "{during}"
        );
    }

    /// The op log of a save of `new` through a temp file beside the
    /// record: create, write, (fsync,) rename, (fsync the directory).
    fn save_log(layout: &Layout, new: &Record, file_sync: bool, dir_sync: bool) -> Vec<Op> {
        let temp = format!("{}/.lifecycle_state.json.t1.tmp", layout.dir);
        let mut log = vec![
            Op::Create {
                path: temp.clone(),
                inode: 2,
                mode: FILE_MODE,
            },
            Op::Write {
                inode: 2,
                offset: 0,
                data: new.encode(),
            },
        ];
        if file_sync {
            log.push(Op::FsyncFile { inode: 2 });
        }
        log.push(Op::Rename {
            from: temp,
            to: layout.record_path(),
        });
        if dir_sync {
            log.push(Op::FsyncDir {
                path: layout.dir.clone(),
            });
        }
        log
    }

    fn new_record() -> Record {
        Record::default_at(&Timestamp::parse("2024-06-01T00:00:00Z").expect("a timestamp"))
    }

    #[test]
    fn a_save_that_syncs_its_file_and_directory_passes_every_crash_point_and_state() {
        let layout = Layout::state_dir();
        let (old, new) = (old_record(), new_record());
        let initial = initial_disk(&layout, StartingDisk::OldRecord, &old);
        let log = save_log(&layout, &new, true, true);
        let checked =
            judge_save(&layout, &initial, &log, Some(&old), &new).unwrap_or_else(|v| panic!("{v}"));
        // Every point, before the first operation to after the last, and
        // every state of every crash there, counted apart.
        let states: u64 = (0..=log.len())
            .flat_map(|after| CRASHES.iter().map(move |&crash| (after, crash)))
            .map(|(after, crash)| {
                CrashSpace::new(&initial, &log[..after], crash)
                    .expect("a valid log")
                    .len()
            })
            .sum();
        assert_eq!(
            checked,
            Checked {
                crash_points: log.len() as u64 + 1,
                states
            }
        );
    }

    #[test]
    fn each_broken_save_is_caught_where_it_breaks() {
        let layout = Layout::state_dir();
        let (old, new) = (old_record(), new_record());
        let from_old = initial_disk(&layout, StartingDisk::OldRecord, &old);
        let judged = |log: &[Op]| judge_save(&layout, &from_old, log, Some(&old), &new);
        // No fsync of the temp file: a power loss after the rename may
        // leave it empty or torn.
        let unsynced = judged(&save_log(&layout, &new, false, true)).expect_err("caught");
        assert!(
            matches!(unsynced.crash, Crash::PowerLoss { .. }),
            "{unsynced}"
        );
        // No fsync of the directory: the rename may be lost once the save
        // returned, the old record back.
        let undurable = judged(&save_log(&layout, &new, true, false)).expect_err("caught");
        assert_eq!(undurable.after_ops, 4, "{undurable}");
        // A save that wrote nothing: the old record after it returned.
        let nothing = judged(&[]).expect_err("caught");
        assert_eq!((nothing.after_ops, nothing.ops), (0, 0), "{nothing}");
        // In place: the record path holds a part of the new record.
        let in_place = [
            Op::Truncate { inode: 1, size: 0 },
            Op::Write {
                inode: 1,
                offset: 0,
                data: new.encode(),
            },
            Op::FsyncFile { inode: 1 },
        ];
        let torn = judged(&in_place).expect_err("caught");
        assert_eq!((torn.after_ops, torn.crash), (1, Crash::Process), "{torn}");
    }

    #[test]
    fn without_an_old_record_no_file_is_allowed_until_the_save_returns() {
        let layout = Layout::state_dir();
        let new = new_record();
        let empty = initial_disk(&layout, StartingDisk::NoRecord, &old_record());
        let log = save_log(&layout, &new, true, true);
        assert!(judge_save(&layout, &empty, &log, None, &new).is_ok());
        // Without the rename no record file appears: allowed while the save
        // runs, not once it returned.
        let unrenamed = &log[..3];
        let missing = judge_save(&layout, &empty, unrenamed, None, &new).expect_err("caught");
        assert_eq!(missing.after_ops, 3, "{missing}");
        // With an old record, a crash that leaves it is allowed while the
        // save runs: the same log from the old record passes every point
        // but the last.
        let old = old_record();
        let from_old = initial_disk(&layout, StartingDisk::OldRecord, &old);
        let stale =
            judge_save(&layout, &from_old, unrenamed, Some(&old), &new).expect_err("caught");
        assert_eq!(stale.after_ops, 3, "{stale}");
    }

    /// The state directory holding the old record, which alone is allowed.
    fn the_old_record_allowed() -> (Layout, Disk, Allowed) {
        let layout = Layout::state_dir();
        let old = old_record();
        let initial = initial_disk(&layout, StartingDisk::OldRecord, &old);
        (layout, initial, Allowed::default().or(&old))
    }

    #[test]
    fn a_new_file_beside_the_record_may_only_be_the_lock_file_or_a_temp_file() {
        let (layout, initial, allowed) = the_old_record_allowed();
        for (name, left_behind) in [
            (spec::LOCK_FILE_NAME, false),
            (".lifecycle_state.json.t1.tmp", false),
            ("lifecycle_state.json.bak", true),
            (".lifecycle.lock.old", true),
        ] {
            let path = format!("{}/{name}", layout.dir);
            let mut disk = initial.clone();
            disk.nodes.insert(
                path.clone(),
                Node::File {
                    inode: OLD_INODE + 1,
                    mode: FILE_MODE,
                    data: Vec::new(),
                },
            );
            let expected = if left_behind {
                Err(format!(
                    "{path} is left behind and no lock holder will sweep it (SPEC §3.5.1, §3.7)"
                ))
            } else {
                Ok(())
            };
            assert_eq!(
                judge_disk(&disk, &initial, &layout, &allowed),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn a_save_that_returned_allows_its_record_alone() {
        let (old, new) = (old_record(), new_record());
        let mut allowed = Allowed::default().or(&old).or_missing();
        allowed.only(&new);
        assert_eq!(allowed.records, [new]);
        assert!(!allowed.missing);
    }

    #[test]
    fn the_record_file_must_have_the_mode_of_section_3_6() {
        let (layout, initial, allowed) = the_old_record_allowed();
        let mut disk = initial.clone();
        if let Some(Node::File { mode, .. }) = disk.nodes.get_mut(&layout.record_path()) {
            *mode = 0o644;
        }
        assert_eq!(
            judge_disk(&disk, &initial, &layout, &allowed),
            Err("the record file is visible with mode 644 (SPEC §3.6)".to_string())
        );
    }

    #[test]
    fn a_new_directory_must_have_the_mode_of_section_3_6() {
        let (layout, initial, allowed) = the_old_record_allowed();
        for (mode, judged) in [
            (DIR_MODE, Ok(())),
            (
                0o755,
                Err("directory /state/sub was created with mode 755 (SPEC §3.6)".to_string()),
            ),
        ] {
            let mut disk = initial.clone();
            disk.nodes
                .insert("/state/sub".to_string(), Node::Dir { mode });
            assert_eq!(judge_disk(&disk, &initial, &layout, &allowed), judged);
        }
        // A directory that was there before keeps whatever mode it had.
        let mut before = initial.clone();
        before
            .nodes
            .insert("/state/sub".to_string(), Node::Dir { mode: 0o755 });
        assert_eq!(judge_disk(&before, &before, &layout, &allowed), Ok(()));
    }

    #[test]
    fn judge_disk_read_gives_the_verdict_of_judge_disk() {
        let layout = Layout::state_dir();
        let old = old_record();
        let new = Record {
            wrapper_event_seq: 7,
            ..old.clone()
        };
        let other = Record {
            wrapper_event_seq: 8,
            ..old.clone()
        };
        let initial = initial_disk(&layout, StartingDisk::OldRecord, &old);
        let allowed = Allowed::default().or(&old).or(&new);
        let mut respelled = b"{ ".to_vec();
        respelled.extend_from_slice(&new.encode()[1..]);
        let torn = new.encode()[..20].to_vec();
        for (what, data, allowed_there) in [
            ("the old record", old.encode(), true),
            ("the new record", new.encode(), true),
            ("the new record spelled otherwise", respelled, true),
            ("a record neither old nor new", other.encode(), false),
            ("the new record torn", torn, false),
        ] {
            let mut disk = initial.clone();
            disk.nodes.insert(
                layout.record_path(),
                Node::File {
                    inode: OLD_INODE + 1,
                    mode: FILE_MODE,
                    data: data.clone(),
                },
            );
            let read = Found::of_bytes(&data);
            let by_bytes = judge_disk(&disk, &initial, &layout, &allowed);
            let by_read = judge_disk_read(&disk, &initial, &layout, &allowed, &read);
            assert_eq!(by_bytes.is_ok(), allowed_there, "{what}: {by_bytes:?}");
            assert_eq!(by_read, by_bytes, "{what}");
        }
        // No record file: a verdict of whether that is allowed.
        let mut gone = initial.clone();
        gone.nodes.remove(&layout.record_path());
        for allowed in [allowed.clone(), allowed.or_missing()] {
            let by_bytes = judge_disk(&gone, &initial, &layout, &allowed);
            assert_eq!(by_bytes.is_ok(), allowed.missing, "{by_bytes:?}");
            let by_read = judge_disk_read(&gone, &initial, &layout, &allowed, &Found::Missing);
            assert_eq!(by_read, by_bytes);
        }
    }

    #[test]
    fn a_disk_judged_by_its_read_record_encodes_no_allowed_record() {
        let (layout, initial, allowed) = the_old_record_allowed();
        let read = Found::of_bytes(&old_record().encode());
        assert_eq!(
            judge_disk_read(&initial, &initial, &layout, &allowed, &read),
            Ok(())
        );
        assert!(
            allowed.encoded.get().is_none(),
            "the allowed records were encoded"
        );
    }
}
