//! `permissions`: the modes of SPEC §3.6 under the umasks a daemon meets.
//!
//! Promises: under umask 022, 077, 177 and 277 (the adapter started again
//! with each; the last two take the owner's own bits, so a store that
//! trusts its create mode gets 0600 directories and 0400 files), a save
//! into directories that do not exist yet leaves every directory it made
//! 0700 and the record 0600; a save over a record, 0600 or left 0644, 0640
//! or 0666, leaves it 0600; and, with the `machine` capability, a dispatch
//! that creates the record does too. From a save recorded under strace (as
//! `power` records it), into a directory that does not exist yet, into a
//! directory made 0755 by someone else, over an old record (0600, 0644,
//! 0640, 0666) and through a symlink at the record path (to the old record
//! or to nothing, the file it leads to judged): no directory it creates is
//! ever more open than 0700 (created wider and chmodded afterwards is too
//! late; created narrower by the umask and chmodded to 0700 is fine), each
//! is 0700 once the save is done, and after no operation is the record path
//! a file the save made of another mode than 0600.
//!
//! Does not promise: anything about modes of files other than the record
//! (the lock file and preserved copies are this project's SPEC, not
//! requirements).

use std::os::unix::fs::PermissionsExt;

use lifecycle_harness::invariants::{DIRECTORY_0700, RECORD_0600};
use lifecycle_harness::{Driver, Finding, Initial, Rules, Step};
use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::persistence::{self, Node, Op};
use lifecycle_model::spec::{DIR_MODE, FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::{Found, WriterOp};

use crate::adapter::{Adapter, Config};
use crate::case::{record, stamp, wall_micros, Case, Judged, Planned};
use crate::subject::AdapterSubject;
use crate::traced::held::{dir_mode_origin, mode_origin, Held, WIDER_DIR};
use crate::traced::op_log::op_log_text;
use crate::traced::record::{record_save, Traced};
use crate::traced::start::{starts_without, StartingState};

#[derive(Clone, Copy)]
enum Act {
    SaveIntoNewDirectories,
    /// A save over a record of this mode.
    SaveOverRecord(u32),
    DispatchCreatesRecord,
}

/// The umasks a daemon meets: the common ones, and two that take the
/// owner's own bits away (a store that trusts its create mode gets 0400
/// files, or 0600 directories).
const UMASKS: [u32; 4] = [0o022, 0o077, 0o177, 0o277];

fn run(case: &mut Case<'_>, umask: u32, act: Act) -> Judged {
    let config = Config {
        umask: Some(umask),
        ..case.adapter.config().clone()
    };
    let mut adapter = match Adapter::start(config) {
        Ok(adapter) => adapter,
        Err(why) => {
            return Judged::Found(Finding::violation(
                "§3.6",
                "the adapter starts under any umask",
                format!("the adapter did not start under umask {umask:03o}: {why}"),
            ))
        }
    };
    let now = wall_micros();
    let saved = record(&format!(
        r#"{{"current_state":"WAKE","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":1,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}}"#,
        t = stamp(now)
    ));
    let outer = case.dir.clone();
    let dir = outer.join("nested");
    let file = match act {
        Act::SaveOverRecord(_) => Found::Valid(saved.clone()),
        _ => Found::Missing,
    };
    let initial = Initial {
        now_micros: now,
        file,
    };
    let subject = AdapterSubject::new(&mut adapter, &dir);
    let mut driver = Driver::judged_by(subject, &initial, Rules::Requirements);
    if let Act::SaveOverRecord(mode) = act {
        // The driver puts the record 0600; a careless writer left it so.
        let path = dir.join(RECORD_FILE_NAME);
        if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)) {
            return Judged::Skipped(format!(
                "the oracle could not chmod {}: {e}",
                path.display()
            ));
        }
    }
    let step = match act {
        Act::DispatchCreatesRecord => driver.write(&WriterOp::Dispatch {
            event: Event::RequestArrived,
            guards: Guards::default(),
            shadow_run: false,
        }),
        _ => driver.library_save(&saved).map(|()| Step::Judged),
    };
    match step.and_then(|step| driver.after_step().map(|()| step)) {
        Ok(Step::Judged) => {}
        Ok(Step::Skipped(why)) => return Judged::Skipped(why),
        Err(finding) => return Judged::Found(how_modes_broke(finding, &dir, umask, act)),
    }
    if let Ok(meta) = std::fs::metadata(&outer) {
        let mode = meta.permissions().mode() & 0o7777;
        if mode != DIR_MODE {
            return Judged::Found(
                Finding::violation(
                    "§3.6",
                    DIRECTORY_0700,
                    format!(
                        "under umask {umask:03o} the save made the record's parent directory with mode {mode:o}, not {DIR_MODE:o}"
                    ),
                )
                .broken_by(dir_mode_origin(mode, umask)),
            );
        }
    }
    Judged::Pass(format!("modes hold under umask {umask:03o}"))
}

/// `finding` of a library save under `umask`, saying how a mode of SPEC
/// §3.6 broke: the modes are read back from the disk (the harness judged
/// them without knowing the umask or the mode the record had).
fn how_modes_broke(finding: Finding, dir: &std::path::Path, umask: u32, act: Act) -> Finding {
    let mode_of = |path: &std::path::Path| {
        std::fs::symlink_metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    };
    let how = if finding.rule == RECORD_0600 {
        let old = match act {
            Act::SaveOverRecord(mode) => Held::File {
                mode,
                data: Vec::new(),
            },
            _ => Held::Nothing,
        };
        mode_of(&dir.join(RECORD_FILE_NAME)).map(|mode| mode_origin(mode, &old, umask))
    } else if finding.rule == DIRECTORY_0700 {
        mode_of(dir).map(|mode| dir_mode_origin(mode, umask))
    } else {
        None
    };
    match how {
        Some(how) => finding.broken_by(how),
        None => finding,
    }
}

/// The modes of every step of a save recorded under strace.
fn traced(case: &mut Case<'_>, command: Option<&str>, umask: u32, start: StartingState) -> Judged {
    let traced = match Traced::find(command) {
        Ok(traced) => traced,
        Err(judged) => return judged,
    };
    let recorded = match record_save(case, &traced, start, Some(umask)) {
        Ok(r) => r,
        Err(judged) => return judged,
    };
    let record_path = &recorded.record_path;
    let ops: Vec<Op> = recorded.ops.iter().map(|t| t.op.clone()).collect();
    let mut disk = recorded.before.clone();
    let old = Held::of(&recorded.before, record_path);
    for (done, traced) in recorded.ops.iter().enumerate() {
        // Each prefix from the disk before: a file without a name (made
        // with O_TMPFILE) is in no disk between two operations.
        disk = match persistence::apply(&recorded.before, &ops[..=done]) {
            Ok(disk) => disk,
            Err(e) => {
                return Judged::OracleFailed(format!(
                    "the persistence model rejects the op log: {e}"
                ))
            }
        };
        // What the record path leads to (through a symlink start). An old
        // record of another mode is the start, not the save's doing.
        let held = Held::of(&disk, record_path);
        let untouched = held == Held::of(&recorded.before, record_path);
        let broken = match (&traced.op, &held) {
            // Narrower than 0700 at creation (the umask took the owner's
            // bits) is no exposure; the end of the log says whether the
            // save set it right.
            (Op::Mkdir { path, mode }, _) if *mode & !DIR_MODE != 0 => Some((DIRECTORY_0700, WIDER_DIR, format!(
                "under umask {umask:03o} the save created the directory {path} with mode {mode:o}, wider than {DIR_MODE:o}"
            ))),
            (_, Held::File { mode, .. }) if *mode != FILE_MODE && !untouched => Some((RECORD_0600, mode_origin(*mode, &old, umask), format!(
                "under umask {umask:03o} the record path is a file of mode {mode:o}, not {FILE_MODE:o}, after operation {} of the save",
                done + 1
            ))),
            _ => None,
        };
        if let Some((rule, how, message)) = broken {
            return Judged::Found(
                Finding::violation("§3.6", rule, message)
                    .broken_by(how)
                    .reproduced_by(format!(
                        "the op log of the save, as strace recorded it:\n{}",
                        op_log_text(&recorded, Some(done + 1), "here")
                    )),
            );
        }
    }
    for traced in &recorded.ops {
        if let Op::Mkdir { path, .. } = &traced.op {
            if let Some(Node::Dir { mode }) = disk.nodes.get(path) {
                if *mode != DIR_MODE {
                    return Judged::Found(
                        Finding::violation(
                            "§3.6",
                            DIRECTORY_0700,
                            format!(
                                "under umask {umask:03o} the save left the directory {path} it created with mode {mode:o}, not {DIR_MODE:o}"
                            ),
                        )
                        .broken_by(dir_mode_origin(*mode, umask))
                        .reproduced_by(format!(
                            "the op log of the save, as strace recorded it:\n{}",
                            op_log_text(&recorded, None, "")
                        )),
                    );
                }
            }
        }
    }
    Judged::Pass(format!(
        "{} operations under umask {umask:03o}: directories never wider than 0700 and 0700 in the end, the record never visible but 0600",
        recorded.ops.len()
    ))
}

pub fn plan(machine: bool, command: Option<String>) -> Vec<Planned> {
    let mut cases = Vec::new();
    for umask in UMASKS {
        let mut acts = vec![
            (
                "save_into_new_directories",
                Act::SaveIntoNewDirectories,
                "a save into two directories that do not exist",
            ),
            (
                "save_over_record",
                Act::SaveOverRecord(FILE_MODE),
                "a save over a 0600 record",
            ),
            (
                "save_over_record_0644",
                Act::SaveOverRecord(0o644),
                "a save over a record left 0644",
            ),
            (
                "save_over_record_0640",
                Act::SaveOverRecord(0o640),
                "a save over a record left 0640",
            ),
            (
                "save_over_record_0666",
                Act::SaveOverRecord(0o666),
                "a save over a record left 0666",
            ),
        ];
        if machine {
            acts.push((
                "dispatch_creates_record",
                Act::DispatchCreatesRecord,
                "dispatch request_arrived where no directory exists",
            ));
        }
        for (name, act, what) in acts {
            cases.push(Planned::new(
                format!("permissions/umask_{umask:03o}/{name}"),
                "§3.6",
                format!("the adapter runs under umask {umask:03o}; {what}"),
                move |case| run(case, umask, act),
            ));
        }
        // The modes over a corrupt file are those over a record, and an
        // empty directory's those of the directory made 0755.
        for start in starts_without(&[StartingState::EmptyDirectory, StartingState::CorruptFile]) {
            let command = command.clone();
            cases.push(Planned::new(
                format!("permissions/umask_{umask:03o}/traced_{}", start.name()),
                "§3.6",
                format!(
                    "the adapter runs under umask {umask:03o} and strace; {}; the modes after each operation of a save",
                    start.describe()
                ),
                move |case| traced(case, command.as_deref(), umask, start),
            ));
        }
    }
    cases
}
