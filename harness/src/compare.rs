//! The one comparator: an implementation's answer against the model.
//!
//! Promises: each function returns `Ok` exactly when the answer is one the
//! SPEC allows, and otherwise a message that says what the model expects
//! and what the implementation did, in the SPEC's words (records as JSON
//! text, file bytes escaped). Records compare as the model's `==` does:
//! known members by value (timestamps as instants), unknown members by
//! name, order and raw text (SPEC §1.5). Where the SPEC allows several
//! outcomes (an interrupted writer, a power loss), [`observe`] accepts any
//! of the allowed files and says which one the disk holds.
//!
//! Does not promise: anything about timing or the order of file-system
//! calls; `invariants` and the crash judge look at the disk.

use lifecycle_model::machine::Shutdown;
use lifecycle_model::writer::{Failure as Expected, Found, Outcome, WriterOp};
use lifecycle_model::{Record, State};

use crate::canonical;
use crate::report;
use crate::subject::{refusal, Entry, Failure, Loaded, Written};
use crate::world::World;

fn expected_text(expected: &Result<Outcome, Expected>) -> String {
    match expected {
        Ok(o) if o.wrote => format!("to write {}", report::record(&o.record)),
        Ok(o) => format!(
            "to write nothing, with {} in force",
            report::record(&o.record)
        ),
        Err(Expected::Unreadable) => "to fail with an I/O error: the file is unreadable".into(),
        Err(Expected::Overflow(_)) => "to refuse: overflow (wrapper_event_seq is 2^53-1)".into(),
        Err(Expected::Refused(r)) => format!("to refuse: {}", refusal(r)),
    }
}

fn observed_text(observed: &Result<Written, Failure>) -> String {
    match observed {
        Ok(w) if w.wrote => format!("wrote {}", report::record(&w.record)),
        Ok(w) => format!("wrote nothing, with {} in force", report::record(&w.record)),
        Err(f) => f.to_string(),
    }
}

fn shutdown_text(s: Shutdown) -> &'static str {
    match s {
        Shutdown::None => "no shutdown",
        Shutdown::Requested => "a shutdown request",
        Shutdown::WouldRequest => "a would-be shutdown (shadow run)",
    }
}

/// Whether the answer of `op`, run on `before`, is what the model predicts
/// (SPEC §4.3-§4.7, §5).
pub fn write(
    before: &World,
    op: &WriterOp,
    observed: &Result<Written, Failure>,
) -> Result<(), String> {
    let expected = before.predict(op);
    let context = || {
        format!(
            "{} at {} on {}",
            report::op(op),
            before.now().as_str(),
            report::found(&before.file)
        )
    };
    let differ = |what: &str, model: String, subject: String| {
        Err(format!(
            "{}: {what}: the model expects {model}, the implementation {subject}",
            context()
        ))
    };
    match (&expected, observed) {
        (Ok(outcome), Ok(written)) => {
            if written.record != outcome.record || written.wrote != outcome.wrote {
                return differ(
                    "the result",
                    expected_text(&expected),
                    observed_text(observed),
                );
            }
            if let Some(shutdown) = written.shutdown {
                if shutdown != outcome.shutdown {
                    return differ(
                        "the shutdown signal (SPEC §4.3 step 7)",
                        shutdown_text(outcome.shutdown).into(),
                        shutdown_text(shutdown).into(),
                    );
                }
            }
            if let Some(t) = written.transitioned {
                transitioned(before, &written.record, t)
                    .map_err(|e| format!("{}: {e}", context()))?;
            }
            if written.found != before.file.kind() {
                return differ(
                    "what the load found (SPEC §2.1)",
                    before.file.kind().as_str().into(),
                    written.found.as_str().into(),
                );
            }
            if written.preserved_as.is_some() != outcome.preserved {
                let said = |p: bool| {
                    if p {
                        "to preserve the corrupt bytes".to_string()
                    } else {
                        "to preserve nothing".to_string()
                    }
                };
                return differ(
                    "preservation (SPEC §4.4.1)",
                    said(outcome.preserved),
                    said(written.preserved_as.is_some()),
                );
            }
            Ok(())
        }
        (Err(Expected::Unreadable), Err(Failure::Io { .. }))
        | (Err(Expected::Overflow(_)), Err(Failure::Overflow)) => Ok(()),
        (Err(Expected::Refused(model)), Err(Failure::Refused(subject))) if model == subject => {
            Ok(())
        }
        _ => differ(
            "the result",
            expected_text(&expected),
            observed_text(observed),
        ),
    }
}

/// Whether a dispatch that reports `transitioned` reports what the table
/// says (SPEC §4.2): a transition exactly when the state changed.
pub fn transitioned(before: &World, after: &Record, transitioned: bool) -> Result<(), String> {
    let from = before
        .file
        .record()
        .map_or(State::Wake, |r| r.current_state);
    let changed = from != after.current_state;
    if changed == transitioned {
        return Ok(());
    }
    Err(format!(
        "from {} to {}, the implementation reports transitioned: {transitioned} (SPEC §4.2)",
        from.name(),
        after.current_state.name()
    ))
}

/// Whether a load returned what the model predicts (SPEC §2).
pub fn load(world: &World, observed: &Loaded) -> Result<(), String> {
    if observed.kind == world.file.kind() && world.loads_as(&observed.record) {
        return Ok(());
    }
    let (kind, record) = world.expected_load();
    Err(format!(
        "load at {} of {}: the model expects {} with {}, the implementation returned {} with {} (SPEC §2.1)",
        world.now().as_str(),
        report::found(&world.file),
        kind.as_str(),
        report::record(&record),
        observed.kind.as_str(),
        report::record(&observed.record)
    ))
}

/// Whether the library save of `record` answered as SPEC §3.1 requires:
/// refused naming `field` exactly when the model calls the record invalid
/// (`field` `None`: any field, or the record as a whole).
pub fn save(
    record: &Record,
    field: Option<&str>,
    observed: &Result<(), Failure>,
) -> Result<(), String> {
    save_judged(record, record.is_valid(), field, observed)
}

/// [`save`], for a caller that already asked the model whether the record
/// is `valid`.
pub fn save_judged(
    record: &Record,
    valid: bool,
    field: Option<&str>,
    observed: &Result<(), Failure>,
) -> Result<(), String> {
    match observed {
        Ok(()) if valid => Ok(()),
        Ok(()) => Err(format!(
            "save of {} succeeded; the record breaks SPEC §1 and must be refused (§3.1)",
            report::record(record)
        )),
        Err(Failure::InvalidRecord { field: named }) if !valid => match (field, named) {
            (Some(want), Some(got)) if want != got => Err(format!(
                "save of an invalid record named the field {got}, not {want} (SPEC §3.1)"
            )),
            (Some(want), None) => Err(format!(
                "save of an invalid record named no field, not {want} (SPEC §3.1)"
            )),
            _ => Ok(()),
        },
        Err(failure) if valid => Err(format!(
            "save of the valid record {} failed: {failure}",
            report::record(record)
        )),
        Err(failure) => Err(format!(
            "save of an invalid record failed with {failure}, not as an invalid record (SPEC §3.1)"
        )),
    }
}

/// Whether `bytes` are the serialized form of `record` (SPEC §3.2): the
/// model's form up to the escape spelling of strings, which §3.2 leaves
/// open.
pub fn serialized_form(bytes: &[u8], record: &Record) -> Result<(), String> {
    let reference = record.encode();
    // Canonical spelling only when the bytes differ: it is the slow path.
    if bytes == reference || canonical::strings(bytes) == canonical::strings(&reference) {
        return Ok(());
    }
    Err(format!(
        "the file is not the serialized form of SPEC §3.2:\n  file:  {}\n  model: {}",
        report::excerpt(bytes),
        report::excerpt(&reference)
    ))
}

/// Whether the record path `actual` holds what `view` says: by value, and
/// also by spelling when `exact`.
pub fn holds(actual: Option<&Entry>, view: &Found, exact: bool) -> bool {
    match (view, actual) {
        (Found::Missing, None) => true,
        (Found::Unreadable, Some(Entry::Dir { .. })) => true,
        (Found::Corrupt(bytes), Some(Entry::File { data, .. })) => *bytes == **data,
        (Found::Valid(r), Some(Entry::File { data, .. })) => lifecycle_model::record::decode(data)
            .is_ok_and(|d| d == *r && (!exact || d.encode() == r.encode())),
        _ => false,
    }
}

/// The candidate the record path holds, preferring one that matches by
/// spelling (the next write depends on it, SPEC §4.6), or a message naming
/// what it holds and what was allowed.
pub fn observe<'c>(
    after: &str,
    actual: Option<&Entry>,
    candidates: &'c [Found],
) -> Result<&'c Found, String> {
    [true, false]
        .into_iter()
        .find_map(|exact| candidates.iter().find(|c| holds(actual, c, exact)))
        .ok_or_else(|| {
            let allowed: Vec<String> = candidates.iter().map(report::found).collect();
            let held = match actual {
                None => "no file".to_string(),
                Some(Entry::Dir { .. }) => "a directory".to_string(),
                Some(Entry::File { data, .. }) => match lifecycle_model::record::decode(data) {
                    Ok(r) => format!("the record {}", report::record(&r)),
                    Err(_) => format!("the corrupt file {}", report::excerpt(data)),
                },
            };
            format!(
                "after {after}, the record path holds {held}; the SPEC allows only: {}",
                allowed.join("; or ")
            )
        })
}

/// What the record path holds, read as the model reads it.
pub fn found_at(actual: Option<&Entry>) -> Found {
    match actual {
        None => Found::Missing,
        Some(Entry::Dir { .. }) => Found::Unreadable,
        Some(Entry::File { data, .. }) => Found::of_bytes(data),
    }
}
