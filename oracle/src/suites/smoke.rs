//! `smoke`: a handful of cases only a broken adapter fails.
//!
//! Promises: each case asks one thing every adapter answers whatever its
//! implementation's bugs (the default, a load of a missing file, a save of
//! a plain record and a load after it) and fails only when the answer is
//! no answer of the protocol (a crash, a hang, a line that is not a reply)
//! or a result without a record. An exception the adapter caught and
//! reported is an answer: the other suites judge it. When one fails, the run says the adapter is
//! broken instead of listing hundreds of violations.
//!
//! Does not promise: that the answers are right; the other suites judge.

use lifecycle_harness::subject::{Answer, Failure, Subject};
use lifecycle_harness::world::at_micros;
use lifecycle_harness::Finding;

use crate::case::{record, stamp, wall_micros};
use crate::case::{Judged, Planned};

fn broken(what: &str, failure: &Failure) -> Judged {
    Judged::Found(Finding::violation(
        "§2.2.4",
        "every request gets an answer of the protocol",
        format!("{what}: the adapter gave no answer of the protocol: {failure}"),
    ))
}

/// A result without a record: the adapter does not speak the protocol.
/// (A record that breaks the SPEC is the implementation's; the other
/// suites judge it.)
fn not_a_record(what: &str, answer: &Answer) -> Option<Judged> {
    let not = answer.as_ref().err().filter(|not| not.json.is_empty())?;
    Some(Judged::Found(Finding::violation(
        "§2.3",
        "a result carries a record",
        format!("{what} returned no record: {not}"),
    )))
}

/// A failure an adapter answers as the protocol says: an error class, or
/// an exception of the implementation it caught (not a crash, a hang, a
/// line that is not a reply, or a request it does not serve).
fn answered(failure: &Failure) -> bool {
    !matches!(
        failure,
        Failure::Crashed { .. } | Failure::Broken { .. } | Failure::Unsupported { .. }
    )
}

pub fn plan() -> Vec<Planned> {
    vec![
        Planned::new("smoke/default", "§1.7", "default", |case| {
            let now = at_micros(wall_micros());
            match case.subject().default_record(&now) {
                Err(failure) if !answered(&failure) => broken("default", &failure),
                Err(_) => Judged::Pass("default answers".into()),
                Ok(answer) => not_a_record("default", &answer)
                    .unwrap_or_else(|| Judged::Pass("default returns a record".into())),
            }
        }),
        Planned::new(
            "smoke/load_missing",
            "§2",
            "load of a path in an empty directory",
            |case| {
                let now = at_micros(wall_micros());
                match case.subject().load(&now) {
                    Err(failure) if !answered(&failure) => {
                        broken("load of a missing file", &failure)
                    }
                    Err(_) => Judged::Pass("load answers".into()),
                    Ok(loaded) => not_a_record("load of a missing file", &loaded.record)
                        .unwrap_or_else(|| Judged::Pass("load returns a record".into())),
                }
            },
        ),
        Planned::new(
            "smoke/save_then_load",
            "§3",
            "save of a plain valid record, then load",
            |case| {
                let now = wall_micros();
                let json = format!(
                    r#"{{"current_state":"DROWSY","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":7,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}}"#,
                    t = stamp(now)
                );
                let saved = record(&json);
                let mut subject = case.subject();
                if let Err(failure) = subject.save(&saved) {
                    if !answered(&failure) {
                        return broken("save", &failure);
                    }
                }
                match subject.load(&at_micros(now)) {
                    Err(failure) if !answered(&failure) => broken("load after a save", &failure),
                    Err(_) => Judged::Pass("save and load answer".into()),
                    Ok(loaded) => not_a_record("load after a save", &loaded.record)
                        .unwrap_or_else(|| Judged::Pass("save and load answer".into())),
                }
            },
        ),
    ]
}
