//! `permissions`: the modes of SPEC §3.6 under the umasks a daemon meets.
//!
//! Promises: under umask 022 and under 077 (the adapter started again with
//! each), a save into directories that do not exist yet leaves every
//! directory it made 0700 and the record 0600; a save over a record leaves
//! it 0600; and, with the `machine` capability, a dispatch that creates the
//! record does too.
//!
//! Does not promise: anything about modes of files other than the record
//! (the lock file and preserved copies are this project's SPEC, not
//! requirements).

use std::os::unix::fs::PermissionsExt;

use lifecycle_harness::compare::{Finding, Rules};
use lifecycle_harness::{Driver, Initial};
use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::spec::DIR_MODE;
use lifecycle_model::writer::{Found, WriterOp};

use crate::adapter::{Adapter, Config};
use crate::check::{judged, Case, Judged, Planned};
use crate::subject::AdapterSubject;
use crate::suites::{record, stamp, wall_micros};

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
    judged(|| {
        let subject = AdapterSubject::new(&mut adapter, &dir);
        let mut driver = Driver::judged_by(subject, &initial, Rules::Requirements);
        match act {
            Act::DispatchCreatesRecord => driver.write(&WriterOp::Dispatch {
                event: Event::RequestArrived,
                guards: Guards::default(),
                shadow_run: false,
            }),
            _ => driver.library_save(&saved),
        }
        driver.after_step();
        if let Ok(meta) = std::fs::metadata(&outer) {
            let mode = meta.permissions().mode() & 0o7777;
            if mode != DIR_MODE {
                return Judged::Found(Finding::violation(
                    "§3.6",
                    format!(
                        "under umask {umask:03o} the save made the record's parent directory with mode {mode:o}, not {DIR_MODE:o}"
                    ),
                ));
            }
        }
        Judged::Pass(format!("modes hold under umask {umask:03o}"))
    })
}

pub fn plan(machine: bool) -> Vec<Planned> {
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
    }
    cases
}
