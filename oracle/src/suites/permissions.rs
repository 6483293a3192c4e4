//! `permissions`: the modes of SPEC §3.6 under the umasks a daemon meets.
//!
//! Promises: under umask 022 and under 077 (the adapter started again with
//! each), a save into directories that do not exist yet leaves every
//! directory it made 0700 and the record 0600; a save over a record leaves
//! it 0600; and, with the `machine` capability, a dispatch that creates the
//! record does too. From a save recorded under strace (as `power` records
//! it), into a directory that does not exist yet and over an old record:
//! every directory it creates has mode 0700 from its creation (a `chmod`
//! afterwards is too late), and after no operation is the record path a
//! file of another mode than 0600.
//!
//! Does not promise: anything about modes of files other than the record
//! (the lock file and preserved copies are this project's SPEC, not
//! requirements).

use std::os::unix::fs::PermissionsExt;

use lifecycle_harness::{Driver, Finding, Initial, Rules, Step};
use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::persistence::{self, Node, Op};
use lifecycle_model::spec::{DIR_MODE, FILE_MODE};
use lifecycle_model::writer::{Found, WriterOp};

use crate::adapter::{Adapter, Config};
use crate::case::{record, stamp, wall_micros, Case, Judged, Planned};
use crate::subject::AdapterSubject;
use crate::traced::op_log::op_log_text;
use crate::traced::record::{record_save, Traced};
use crate::traced::start::{new_record, StartingState};

/// The rule of every finding of the suite but a directory's mode.
const RECORD_0600: &str = "the record file has mode 0600 whenever it is visible";
/// The rule a directory made with another mode breaks.
const DIRECTORY_0700: &str = "every directory a save makes has mode 0700 from its creation";

#[derive(Clone, Copy)]
enum Act {
    SaveIntoNewDirectories,
    SaveOverRecord,
    DispatchCreatesRecord,
}

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
        Act::SaveOverRecord => Found::Valid(saved.clone()),
        _ => Found::Missing,
    };
    let initial = Initial {
        now_micros: now,
        file,
    };
    let subject = AdapterSubject::new(&mut adapter, &dir);
    let mut driver = Driver::judged_by(subject, &initial, Rules::Requirements);
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
        Err(finding) => return Judged::Found(finding),
    }
    if let Ok(meta) = std::fs::metadata(&outer) {
        let mode = meta.permissions().mode() & 0o7777;
        if mode != DIR_MODE {
            return Judged::Found(Finding::violation(
                "§3.6",
                DIRECTORY_0700,
                format!(
                    "under umask {umask:03o} the save made the record's parent directory with mode {mode:o}, not {DIR_MODE:o}"
                ),
            ));
        }
    }
    Judged::Pass(format!("modes hold under umask {umask:03o}"))
}

/// The modes of every step of a save recorded under strace.
fn traced(case: &mut Case<'_>, command: Option<&str>, umask: u32, start: StartingState) -> Judged {
    let traced = match Traced::find(command) {
        Ok(traced) => traced,
        Err(judged) => return judged,
    };
    let dir = case.fresh_dir().join("state");
    let recorded = match record_save(case, &traced, &dir, start, &new_record(), Some(umask)) {
        Ok(r) => r,
        Err(judged) => return judged,
    };
    let record_path = &recorded.record_path;
    let mut disk = recorded.before.clone();
    for (done, traced) in recorded.ops.iter().enumerate() {
        disk = match persistence::apply(&disk, std::slice::from_ref(&traced.op)) {
            Ok(disk) => disk,
            Err(e) => {
                return Judged::OracleFailed(format!(
                    "the persistence model rejects the op log: {e}"
                ))
            }
        };
        let broken = match (&traced.op, disk.nodes.get(record_path)) {
            (Op::Mkdir { path, mode }, _) if *mode != DIR_MODE => Some((DIRECTORY_0700, format!(
                "under umask {umask:03o} the save created the directory {path} with mode {mode:o}, not {DIR_MODE:o}"
            ))),
            (_, Some(Node::File { mode, .. })) if *mode != FILE_MODE => Some((RECORD_0600, format!(
                "under umask {umask:03o} the record path is a file of mode {mode:o}, not {FILE_MODE:o}, after operation {} of the save",
                done + 1
            ))),
            _ => None,
        };
        if let Some((rule, message)) = broken {
            return Judged::Found(Finding::violation("§3.6", rule, message).reproduced_by(
                format!(
                    "the op log of the save, as strace recorded it:\n{}",
                    op_log_text(&recorded, Some(done + 1), "here")
                ),
            ));
        }
    }
    Judged::Pass(format!(
        "{} operations under umask {umask:03o}: directories 0700 from their creation, the record never visible but 0600",
        recorded.ops.len()
    ))
}

pub fn plan(machine: bool, command: Option<String>) -> Vec<Planned> {
    let mut cases = Vec::new();
    for umask in [0o022, 0o077] {
        let mut acts = vec![
            (
                "save_into_new_directories",
                Act::SaveIntoNewDirectories,
                "a save into two directories that do not exist",
            ),
            (
                "save_over_record",
                Act::SaveOverRecord,
                "a save over a 0600 record",
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
        for start in [StartingState::NoDirectory, StartingState::OldRecord] {
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
