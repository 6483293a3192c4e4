//! The one comparator: an implementation's answer against the model.
//!
//! Promises: each function returns `Ok` exactly when the answer is one the
//! SPEC allows, and otherwise a [`Finding`]: whether a MUST (violation) or
//! a SHOULD (divergence) broke, the SPEC section, and a message that says
//! what the model expects and what the implementation did, in the SPEC's
//! words (records as JSON text, file bytes escaped), the decisive detail
//! first: which item of SPEC §1.6 a file breaks and where ([`breaks`]: the
//! byte offset and the bytes around it, or the member as written), which
//! rule of SPEC §1 a record to save breaks, each member path where a
//! record differs from the model's with both values ([`difference`]);
//! then the whole records and files (a file whole when it is short,
//! [`whole_file`]). Records compare by the
//! world's [`Rules`]: this project's SPEC (known members by value,
//! timestamps as instants, unknown members by name, order and raw text,
//! SPEC §1.5) or requirements §7 (timestamps as instants a writer may round
//! below a microsecond, unknown members as JSON values: order and
//! whitespace aside, numbers as binary64 values). For an implementation
//! that reads its own clock, a timestamp the model makes from now matches
//! any instant of the request's clock window; by requirements §7 (the
//! resolution of the clock is the implementation's, 1 µs to 1 s), also the
//! reading of a coarser clock truncated to the digits written, never
//! rounded up: with k < 6 fraction digits, up to 10^-k s before the window
//! (before now, for an implementation given now), never after it
//! ([`same_record_between`] tells the timestamps made from now from those
//! copied from the file by asking the model a microsecond away), and a
//! writer's decisions may be the model's at such a truncated reading
//! ([`write_predicted`]). Where the SPEC allows several outcomes (an
//! interrupted writer, a power loss), [`observe`] accepts any of the
//! allowed files and says which one the disk holds.
//!
//! Does not promise: anything about timing or the order of file-system
//! calls; `invariants` and the crash judge look at the disk.

use lifecycle_model::machine::Shutdown;
use lifecycle_model::record::Corrupt;
use lifecycle_model::sleep_cycle::Refusal;
use lifecycle_model::writer::{Failure as Expected, Found, Outcome, WriterOp};
use lifecycle_model::{Progress, Quarantine, Record, State, Timestamp};

use crate::canonical;
use crate::difference::{Differences, Sides};
use crate::finding::Finding;
use crate::json_value;
use crate::report;
use crate::subject::{refusal, Answer, Entry, Failure, Loaded, Written};
use crate::world::{Rules, World};

// ------------------------------------------------------------------ records

/// Digits of the fraction `ts` is written with (none: 0).
fn fraction_digits(ts: &Timestamp) -> usize {
    ts.as_str()
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map_or(0, |f| f.bytes().take_while(u8::is_ascii_digit).count())
}

/// The resolution, in µs, of a clock whose reading is written as `ts`
/// when `ts` has fewer than six fraction digits (10^-k s for k digits);
/// `None` for six or more, which a microsecond clock writes.
fn coarser_than_a_microsecond(ts: &Timestamp) -> Option<i64> {
    let k = fraction_digits(ts);
    (k < 6).then(|| 10i64.pow(6 - k as u32))
}

/// Whether `o` is a timestamp the world's rules allow where the model
/// predicts `lo` at the start of the request's clock window and `hi` at its
/// end (the same instant for a timestamp copied from the file, and for an
/// implementation given now). By this project's SPEC: an instant from `lo`
/// to `hi`. By requirements §7, also: an instant a writer rounded below a
/// microsecond (one µs either side); and, for a timestamp made from now
/// (`from_now`) written with k < 6 fraction digits, the reading of a clock
/// of resolution r = 10^-k s truncated to those digits: `lo` − r < `o` ≤
/// `hi` (a reading in the window, truncated, is at most r − 1 µs before its
/// start; never after its end, which only rounding up could give).
fn same_timestamp(
    world: &World,
    lo: &Timestamp,
    hi: &Timestamp,
    from_now: bool,
    o: &Timestamp,
) -> bool {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if lo <= o && o <= hi {
        return true;
    }
    if world.rules() != Rules::Requirements {
        return false;
    }
    let (Some(l), Some(h), Some(x)) = (lo.unix_micros(), hi.unix_micros(), o.unix_micros()) else {
        return false;
    };
    if x >= l - 1 && x <= h + 1 {
        return true;
    }
    match coarser_than_a_microsecond(o) {
        Some(r) if from_now => l - r < x && x <= h,
        _ => false,
    }
}

/// Whether the model makes the timestamp it predicts as `lo` (at the start
/// of the request's clock window), `hi` (at its end) and `probe` (a
/// microsecond away from now) from now: it moves with the clock.
fn moves(lo: &Timestamp, hi: &Timestamp, probe: Option<&Timestamp>) -> bool {
    lo != hi || probe.is_some_and(|p| p != lo)
}

/// One timestamp member as the model predicts it at the start of the
/// window (`lo`), at its end (`hi`) and at the probe, against the
/// implementation's `o`.
fn same_stamp(
    world: &World,
    lo: &Timestamp,
    hi: &Timestamp,
    probe: Option<&Timestamp>,
    o: &Timestamp,
) -> bool {
    same_timestamp(world, lo, hi, moves(lo, hi, probe), o)
}

fn same_unknown(
    world: &World,
    expected: &[(String, String)],
    observed: &[(String, String)],
) -> bool {
    match world.rules() {
        Rules::Spec => expected == observed,
        Rules::Requirements => {
            expected.len() == observed.len()
                && expected.iter().all(|(name, raw)| {
                    observed
                        .iter()
                        .any(|(n, r)| n == name && json_value::equal(raw, r))
                })
        }
    }
}

fn same_reason(world: &World, expected: &str, observed: &str) -> bool {
    if expected == observed {
        return true;
    }
    // requirements §5 fixes the reason only up to its `: …`.
    world.rules() == Rules::Requirements
        && expected.starts_with("sleep step ")
        && expected
            .split_once(": ")
            .is_some_and(|(head, _)| observed.starts_with(&format!("{head}: ")))
}

fn same_progress(
    world: &World,
    lo: &Progress,
    hi: &Progress,
    probe: Option<&Progress>,
    o: &Progress,
) -> bool {
    lo.last_completed_step == o.last_completed_step
        && lo.attempt == o.attempt
        && lo.last_error == o.last_error
        && match (&lo.started_at, &hi.started_at, &o.started_at) {
            (Some(l), Some(h), Some(x)) => {
                let p = probe.and_then(|p| p.started_at.as_ref());
                same_stamp(world, l, h, p, x)
            }
            (l, _, x) => l.is_none() && x.is_none(),
        }
        && same_unknown(world, &lo.unknown, &o.unknown)
}

fn same_quarantine(
    world: &World,
    lo: &Quarantine,
    hi: &Quarantine,
    probe: Option<&Quarantine>,
    o: &Quarantine,
) -> bool {
    same_stamp(
        world,
        &lo.until_ts,
        &hi.until_ts,
        probe.map(|p| &p.until_ts),
        &o.until_ts,
    ) && same_stamp(
        world,
        &lo.since_ts,
        &hi.since_ts,
        probe.map(|p| &p.since_ts),
        &o.since_ts,
    ) && same_reason(world, &lo.reason, &o.reason)
        && same_unknown(world, &lo.unknown, &o.unknown)
}

/// Whether `observed` is the record `expected` by the world's rules, every
/// timestamp copied from a file (none made from now).
pub fn same_record(world: &World, expected: &Record, observed: &Record) -> bool {
    if world.rules() == Rules::Spec {
        return expected == observed;
    }
    fields_between(world, expected, expected, None, observed)
}

/// What the model predicts for one request: at the start of its clock
/// window (`lo`), at its end (`hi`, the same record for an implementation
/// that takes `now`), and, by requirements §7, a microsecond away from now
/// (`probe`), which tells the timestamps made from now (they move) from
/// those copied from the file.
pub struct Predicted<'a> {
    pub lo: &'a Record,
    pub hi: &'a Record,
    pub probe: Option<&'a Record>,
}

impl<'a> Predicted<'a> {
    /// One record, with no clock window.
    pub fn exactly(record: &'a Record) -> Predicted<'a> {
        Predicted {
            lo: record,
            hi: record,
            probe: None,
        }
    }
}

/// Whether `observed` is what the model predicts for some instant of the
/// request's clock window. Timestamps made from now lie between the two
/// predictions (by requirements §7 also: the reading of a coarser clock,
/// truncated, as the module says); every other member is exact by the
/// world's rules.
pub fn same_record_between(world: &World, predicted: &Predicted<'_>, observed: &Record) -> bool {
    let Predicted { lo, hi, probe } = *predicted;
    if std::ptr::eq(lo, hi) && probe.is_none() {
        return same_record(world, lo, observed);
    }
    fields_between(world, lo, hi, probe, observed) || fields_between(world, hi, lo, probe, observed)
}

/// Where `observed` differs from the record `predicted` (its members in
/// the SPEC's order, then its unknown ones, into nested objects and
/// arrays), in words, each side called as `sides` says: every path that
/// makes a difference, the first few with both values (the module
/// [`difference`](crate::difference) says how); `None` when no one member
/// makes it. A member whose texts differ but which the comparison accepts
/// (`Z` for `+00:00`, a stamp in the clock window, a number respelled
/// under requirements §7) is passed over: it is put in place of the
/// model's, and the record judged again.
pub fn difference(
    world: &World,
    predicted: &Predicted<'_>,
    observed: &Record,
    sides: Sides<'_>,
) -> Option<String> {
    let found = differences(world, predicted, observed);
    (!found.is_empty()).then(|| found.said(sides, world.rules()))
}

/// The differences [`difference`] names.
fn differences(world: &World, predicted: &Predicted<'_>, observed: &Record) -> Differences {
    use lifecycle_model::json::split_object;
    let members = |record: &Record| split_object(&record.encode()).ok();
    let accepted = |text: String| {
        lifecycle_model::record::decode(text.as_bytes())
            .is_ok_and(|r| same_record_between(world, predicted, &r))
    };
    match (members(predicted.lo), members(observed)) {
        (Some(ours), Some(theirs)) => Differences::between(ours, theirs, &accepted),
        _ => Differences::default(),
    }
}

fn fields_between(
    world: &World,
    lo: &Record,
    hi: &Record,
    probe: Option<&Record>,
    o: &Record,
) -> bool {
    lo.current_state == o.current_state
        && lo.wrapper_event_seq == o.wrapper_event_seq
        && lo.shadow_run == o.shadow_run
        && same_stamp(
            world,
            &lo.since_ts,
            &hi.since_ts,
            probe.map(|p| &p.since_ts),
            &o.since_ts,
        )
        && same_stamp(
            world,
            &lo.last_activity_ts,
            &hi.last_activity_ts,
            probe.map(|p| &p.last_activity_ts),
            &o.last_activity_ts,
        )
        && match (&lo.sleep_cycle_progress, &o.sleep_cycle_progress) {
            (Some(l), Some(x)) => {
                let h = hi.sleep_cycle_progress.as_ref().unwrap_or(l);
                let p = probe.and_then(|p| p.sleep_cycle_progress.as_ref());
                same_progress(world, l, h, p, x)
            }
            (l, x) => l.is_none() && x.is_none(),
        }
        && match (&lo.quarantine, &o.quarantine) {
            (Some(l), Some(x)) => {
                let h = hi.quarantine.as_ref().unwrap_or(l);
                let p = probe.and_then(|p| p.quarantine.as_ref());
                same_quarantine(world, l, h, p, x)
            }
            (l, x) => l.is_none() && x.is_none(),
        }
        && same_unknown(world, &lo.unknown, &o.unknown)
}

/// What `predict` gives a microsecond after now, or before it when that
/// fails (a quarantine that ends right then, the end of year 9999): only by
/// requirements §7, whose rule for timestamps made from now needs to know
/// which they are.
fn probe<T>(world: &World, predict: impl Fn(&World) -> Option<T>) -> Option<T> {
    if world.rules() != Rules::Requirements {
        return None;
    }
    [1, -1]
        .into_iter()
        .filter_map(|by| world.moved(by))
        .find_map(|w| predict(&w))
}

fn answer_text(answer: &Answer) -> String {
    match answer {
        Ok(record) => report::record(record),
        Err(not) => format!("something that is not a record: {not}"),
    }
}

// ------------------------------------------------------------------ writers

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
        Ok(w) => match w.wrote {
            Some(true) => format!("wrote {}", answer_text(&w.record)),
            Some(false) => format!("wrote nothing, with {} in force", answer_text(&w.record)),
            None => format!("answered {}", answer_text(&w.record)),
        },
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

/// The section an operation's rules are in.
fn section(op: &WriterOp) -> &'static str {
    match op {
        WriterOp::Dispatch { .. } => "§4.3",
        WriterOp::Begin(_) => "§5.2",
        WriterOp::StepDone(_) => "§5.3",
        WriterOp::StepFailed { .. } => "§5.4",
        WriterOp::CycleDone => "§5.5",
        WriterOp::ResetQuarantine => "§5.6",
        WriterOp::Save(_) => "§3",
    }
}

/// A refusal of SPEC §5 whose reason is an invalid argument (exit 2).
fn is_invalid_argument(r: &Refusal) -> bool {
    matches!(
        r,
        Refusal::NoSteps | Refusal::StepOutOfRange { .. } | Refusal::QuarantineOutOfRange
    )
}

/// Whether the answer of `op`, run on `before`, is what the model predicts
/// (SPEC §4.3-§4.7, §5).
pub fn write(
    before: &World,
    op: &WriterOp,
    observed: &Result<Written, Failure>,
) -> Result<(), Finding> {
    write_predicted(before, op, &before.predict(op), observed)
}

/// [`write()`] for a caller that already asked the model: `expected` is
/// `before.predict(op)`. By requirements §7 the implementation's clock may
/// be coarser than a microsecond: it then read now as an instant truncated
/// to its resolution (10 µs to 1 s), and what it decides there (whether a
/// quarantine is over, SPEC §5.1) is the model's answer at that instant.
/// So an answer that is not the model's at now is judged again at each
/// such instant, and conforms when it is the model's at one of them; the
/// finding is the one at now.
pub fn write_predicted(
    before: &World,
    op: &WriterOp,
    expected: &Result<Outcome, Expected>,
    observed: &Result<Written, Failure>,
) -> Result<(), Finding> {
    let judged = write_at(before, op, expected, observed);
    if judged.is_err() && before.rules() == Rules::Requirements {
        let mut resolution = 10;
        while resolution <= 1_000_000 {
            let back = before.now_micros.rem_euclid(resolution);
            let truncated = (back != 0).then(|| before.moved(-back)).flatten();
            if let Some(world) = truncated {
                if write_at(&world, op, &world.predict(op), observed).is_ok() {
                    return Ok(());
                }
            }
            resolution *= 10;
        }
    }
    judged
}

/// [`write_predicted`] at `before`'s now alone.
fn write_at(
    before: &World,
    op: &WriterOp,
    expected: &Result<Outcome, Expected>,
    observed: &Result<Written, Failure>,
) -> Result<(), Finding> {
    let later = before.at_window_end().map(|w| w.predict(op));
    let probed = probe(before, |w| w.predict(op).ok().map(|o| o.record));
    let spec = section(op);
    let context = || format!("{} at {}", report::op(op), before.now().as_str());
    let held = || {
        format!(
            "before it, the record path held {}",
            report::found(&before.file)
        )
    };
    let differ =
        |spec: &'static str, rule: &'static str, what: &str, model: String, subject: String| {
            Err(Finding::violation(
                spec,
                rule,
                format!(
                    "{}: {what}: the model expects {model}, the implementation {subject}; {}",
                    context(),
                    held()
                ),
            ))
        };
    match (expected, observed) {
        (Ok(outcome), Ok(written)) => {
            let hi = match &later {
                Some(Ok(o)) => &o.record,
                _ => &outcome.record,
            };
            let predicted = Predicted {
                lo: &outcome.record,
                hi,
                probe: probed.as_ref(),
            };
            let same = match &written.record {
                Ok(record) => same_record_between(before, &predicted, record),
                Err(_) => false,
            };
            let differs = match &written.record {
                Ok(record) if !same => difference(before, &predicted, record, Sides::RETURNED),
                _ => None,
            };
            if let Some(differs) = differs {
                return Err(Finding::violation(
                    spec,
                    RESULT_RULE,
                    format!(
                        "{}: the result differs: {differs}; in all, the model expects {}, the implementation {}; {}",
                        context(),
                        expected_text(expected),
                        observed_text(observed),
                        held()
                    ),
                ));
            }
            if !same || written.wrote.is_some_and(|w| w != outcome.wrote) {
                return differ(
                    spec,
                    RESULT_RULE,
                    "the result",
                    expected_text(expected),
                    observed_text(observed),
                );
            }
            if let Some(shutdown) = written.shutdown {
                if shutdown != outcome.shutdown {
                    return differ(
                        "§4.3",
                        "dispatch reports the shutdown signal of step 7",
                        "the shutdown signal (step 7)",
                        shutdown_text(outcome.shutdown).into(),
                        shutdown_text(shutdown).into(),
                    );
                }
            }
            if let (Some(t), Ok(record)) = (written.transitioned, &written.record) {
                transitioned(before, record, t).map_err(|mut f| {
                    f.message = format!("{}: {}; {}", context(), f.message, held());
                    f
                })?;
            }
            if let Some(found) = written.found {
                if found != before.file.kind() {
                    return differ(
                        "§2.1",
                        "a writer says what its load found",
                        "what the load found",
                        before.file.kind().as_str().into(),
                        found.as_str().into(),
                    );
                }
            }
            if let Some(preserved_as) = &written.preserved_as {
                if preserved_as.is_some() != outcome.preserved {
                    let said = |p: bool| {
                        if p {
                            "to preserve the corrupt bytes".to_string()
                        } else {
                            "to preserve nothing".to_string()
                        }
                    };
                    return differ(
                        "§4.4",
                        "a writer that replaces a corrupt file preserves its bytes",
                        "preservation",
                        said(outcome.preserved),
                        said(preserved_as.is_some()),
                    );
                }
            }
            Ok(())
        }
        (Err(Expected::Unreadable), Err(Failure::Io { .. }))
        | (Err(Expected::Overflow(_)), Err(Failure::Overflow)) => Ok(()),
        (Err(Expected::Refused(model)), Err(Failure::Refused(subject))) if model == subject => {
            Ok(())
        }
        (Err(Expected::Refused(model)), Err(Failure::InvalidArgument { .. }))
            if is_invalid_argument(model) =>
        {
            Ok(())
        }
        _ => differ(
            spec,
            RESULT_RULE,
            "the result",
            expected_text(expected),
            observed_text(observed),
        ),
    }
}

/// The rule a writer's answer breaks when it is not the model's.
const RESULT_RULE: &str =
    "a writer operation answers and writes what the SPEC's rules give for the file and the clock";

/// Whether a dispatch that reports `transitioned` reports what the table
/// says (SPEC §4.2): a transition exactly when the state changed.
pub fn transitioned(before: &World, after: &Record, transitioned: bool) -> Result<(), Finding> {
    let from = before
        .file
        .record()
        .map_or(State::Wake, |r| r.current_state);
    let changed = from != after.current_state;
    if changed == transitioned {
        return Ok(());
    }
    Err(Finding::violation(
        "§4.2",
        "dispatch reports a transition exactly when the state changed",
        format!(
            "from {} to {}, the implementation reports transitioned: {transitioned}",
            from.name(),
            after.current_state.name()
        ),
    ))
}

// -------------------------------------------------------------- load, save

/// The most specific section of SPEC §1 a corrupt file breaks: §1.1.1 to
/// §1.1.5 for its encoding and syntax, §1.2 to §1.4 for a member by its
/// kind, §1.6 for its size.
pub fn section_of(corrupt: &Corrupt) -> &'static str {
    match corrupt {
        Corrupt::Raw(class) => match class.item() {
            1 => "§1.6",
            5 => "§1.1.4",
            6 => "§1.1.3",
            7 => "§1.1.5",
            // UTF-8, a BOM, not one value, not an object.
            _ => "§1.1.1",
        },
        Corrupt::Missing(_) => "§1.2",
        Corrupt::Invalid(field) => {
            let leaf = field.rsplit('.').next().unwrap_or(field);
            if leaf.ends_with("_ts") || leaf == "started_at" {
                "§1.4"
            } else if matches!(
                leaf,
                "wrapper_event_seq" | "attempt" | "last_completed_step"
            ) {
                "§1.3"
            } else {
                "§1.2"
            }
        }
    }
}

/// How a file or a record breaks SPEC §1, in words that name its class of
/// §1.6 and not the case (`§1.6 item 7, a duplicate member name`), for
/// the groups of a report.
pub fn how_corrupt(corrupt: &Corrupt) -> String {
    let (short, _) = section_1_6(corrupt.item());
    format!("§1.6 item {}, {short}", corrupt.item())
}

/// Whether `back` holds the unknown members of `written` as written (their
/// values' text, whitespace and string escapes aside), not only as equal
/// JSON values: which side of requirements §7 an implementation took on a
/// number, kept exactly or as the nearest binary64 value.
pub fn unknown_kept_exactly(written: &Record, back: &Record) -> bool {
    unknown_members(written) == unknown_members(back)
}

/// Every unknown member of `record`, nested ones with their object's
/// name, in one spelling of whitespace and string escapes (so what is left
/// to differ is the spelling of numbers).
fn unknown_members(record: &Record) -> Vec<(&'static str, String, Vec<u8>)> {
    let spelled = |object: &'static str, unknown: &[(String, String)]| {
        unknown
            .iter()
            .map(|(name, raw)| {
                let raw = canonical::compact(&canonical::strings(raw.as_bytes()));
                (object, name.clone(), raw)
            })
            .collect::<Vec<_>>()
    };
    let mut all = spelled("", &record.unknown);
    if let Some(p) = &record.sleep_cycle_progress {
        all.extend(spelled("sleep_cycle_progress", &p.unknown));
    }
    if let Some(q) = &record.quarantine {
        all.extend(spelled("quarantine", &q.unknown));
    }
    all.sort();
    all
}

/// The rule of a load or a save that changed an unknown member.
pub const UNKNOWN_KEPT: &str =
    "unknown members are kept as written, by load and by save (their numbers as binary64 values, requirements §7)";

/// The rule of a load that read a file breaking SPEC §1 as a record, and
/// of a save that wrote a record breaking it: one rule, so that a reader
/// that lets an input through on both sides is one group of the report,
/// under the section of §1 the input breaks.
pub const NOT_A_RECORD: &str =
    "a file or record that breaks SPEC §1 is not a record: load returns the default, save refuses it (§3.1)";

/// How `observed` differs from `expected`, in words that name members and
/// not values, for the groups of a report: `the default record`, the known
/// members that differ (`since_ts, quarantine`), or `an unknown member`;
/// and whether only unknown members differ (SPEC §1.5).
pub fn how_records_differ(
    world: &World,
    predicted: &Predicted<'_>,
    observed: &Record,
) -> (String, bool) {
    let expected = predicted.lo;
    // A member differs when the model's record with the observed member in
    // its place is still not accepted: so a stamp in the clock window, or
    // `Z` for `+00:00`, is no difference.
    let differs = |name: &str| {
        let mut swapped = expected.clone();
        match name {
            "current_state" => swapped.current_state = observed.current_state,
            "since_ts" => swapped.since_ts = observed.since_ts.clone(),
            "last_activity_ts" => swapped.last_activity_ts = observed.last_activity_ts.clone(),
            "wrapper_event_seq" => swapped.wrapper_event_seq = observed.wrapper_event_seq,
            "sleep_cycle_progress" => {
                swapped.sleep_cycle_progress = observed.sleep_cycle_progress.clone().map(|mut p| {
                    p.unknown = expected
                        .sleep_cycle_progress
                        .as_ref()
                        .map(|e| e.unknown.clone())
                        .unwrap_or_default();
                    p
                })
            }
            "quarantine" => {
                swapped.quarantine = observed.quarantine.clone().map(|mut q| {
                    q.unknown = expected
                        .quarantine
                        .as_ref()
                        .map(|e| e.unknown.clone())
                        .unwrap_or_default();
                    q
                })
            }
            _ => swapped.shadow_run = observed.shadow_run,
        }
        !same_record_between(world, predicted, &swapped)
    };
    let names: Vec<&str> = lifecycle_model::record::TOP_KEYS
        .into_iter()
        .filter(|name| differs(name))
        .collect();
    let is_default = observed.current_state == lifecycle_model::State::Wake
        && observed.wrapper_event_seq == 0
        && observed.sleep_cycle_progress.is_none()
        && observed.quarantine.is_none()
        && !observed.shadow_run
        && observed.unknown.is_empty()
        && observed.since_ts == observed.last_activity_ts;
    match names.as_slice() {
        [_, _, ..] if is_default => (
            "the default record, as for a file that is not valid".to_string(),
            false,
        ),
        [] => ("an unknown member changed".to_string(), true),
        more => (format!("{} changed", more.join(", ")), false),
    }
}

/// SPEC §1.6's classes of corrupt file, item by item: a group's short
/// words (see `how_corrupt`), then the rule's words.
const SECTION_1_6: [(&str, &str); 10] = [
    ("larger than 1 MiB", "the file is larger than 1,048,576 bytes"),
    ("not UTF-8", "the file is not valid UTF-8"),
    (
        "a byte order mark",
        "the file begins with a byte order mark (EF BB BF)",
    ),
    (
        "not exactly one JSON value",
        "the file is not exactly one JSON value (empty, cut short, followed by more than whitespace, or with whitespace outside §1.1.2)",
    ),
    (
        "a token outside RFC 8259",
        "the file holds a token outside RFC 8259 (§1.1.4)",
    ),
    (
        "a string with a raw control character, an invalid escape or an unpaired surrogate",
        "a string breaks §1.1.3 (a raw control character, an invalid escape or an unpaired surrogate escape)",
    ),
    (
        "a duplicate member name",
        "an object has a duplicate member name (§1.1.5)",
    ),
    ("not an object", "the top-level value is not an object"),
    (
        "a required member missing",
        "a required member (§1.2) is missing",
    ),
    (
        "a known member that breaks its rule",
        "a known member breaks its rule in §1.2, §1.3 or §1.4",
    ),
];

/// The words of SPEC §1.6 item `item` (1 to 10).
fn section_1_6(item: u8) -> (&'static str, &'static str) {
    SECTION_1_6[usize::from(item).clamp(1, SECTION_1_6.len()) - 1]
}

/// The raw text of the member at the field path `path` (`quarantine.until_ts`)
/// of the file `bytes`, as written there.
fn raw_at(bytes: &[u8], path: &str) -> Option<String> {
    let mut members = lifecycle_model::json::split_object(bytes).ok()?;
    let mut steps = path.split('.').peekable();
    while let Some(name) = steps.next() {
        let raw = members.into_iter().find(|m| m.name == name)?.raw;
        if steps.peek().is_none() {
            return Some(raw);
        }
        members = lifecycle_model::json::members_of(&raw)?;
    }
    None
}

/// What the file `bytes`, which decode as `corrupt`, breaks, in words,
/// the decisive detail first: the item of SPEC §1.6 and its sentence;
/// then, for items 1-8, the byte offset of the first place that breaks it
/// and the bytes around it (`report::around`); for item 9, the member
/// missing (and the object it is missing from, as written); for item 10,
/// the member and its value as written, and the section whose rule it
/// breaks.
pub fn breaks(bytes: &[u8], corrupt: &Corrupt) -> String {
    let item = corrupt.item();
    let rule = format!("SPEC §1.6 item {item}: {}", section_1_6(item).1);
    match corrupt {
        Corrupt::Raw(_) => match lifecycle_model::json::locate(bytes) {
            Some((_, at)) if at >= bytes.len() => format!(
                "{rule}, at byte {at}, the end of the file: {}",
                report::around(bytes, at)
            ),
            Some((_, at)) => format!("{rule}, at byte {at}: {}", report::around(bytes, at)),
            None => rule,
        },
        Corrupt::Missing(field) => match field.rsplit_once('.') {
            Some((object, member)) => match raw_at(bytes, object) {
                Some(raw) => format!(
                    "{rule}: {field} ({object} is {}, without {member})",
                    report::json_text(&raw)
                ),
                None => format!("{rule}: {field}"),
            },
            None => format!("{rule}: {field}"),
        },
        Corrupt::Invalid(field) => {
            let section = section_of(corrupt);
            match raw_at(bytes, field) {
                Some(raw) => format!(
                    "{rule}: {field} is {}, which breaks {section}",
                    report::json_text(&raw)
                ),
                None => format!("{rule}: {field} breaks {section}"),
            }
        }
    }
}

/// The whole of a file for a message when it is short ([`report::SHOWN`]
/// bytes at most), else its size.
pub fn whole_file(bytes: &[u8]) -> String {
    if bytes.len() <= report::SHOWN {
        format!(
            "the whole file ({} bytes): {}",
            bytes.len(),
            report::excerpt(bytes)
        )
    } else {
        format!("the file has {} bytes", bytes.len())
    }
}

/// What the record path holds, and so what load must return (`expected`),
/// in words; `bytes`, when known, are the file's.
fn must_return(world: &World, expected: &Record, bytes: Option<&[u8]>) -> String {
    match &world.file {
        Found::Valid(_) => {
            let text = report::record(expected);
            match bytes {
                Some(bytes)
                    if bytes.len() <= report::SHOWN
                        && bytes.strip_suffix(b"\n").unwrap_or(bytes) != text.as_bytes() =>
                {
                    format!(
                        "the record path holds the file {}, the valid record {text}, which load must return",
                        report::excerpt(bytes)
                    )
                }
                _ => {
                    format!("the record path holds the valid record {text}, which load must return")
                }
            }
        }
        other => format!(
            "the record path holds {}, so load must return the default record {}",
            report::found(other),
            report::record(expected)
        ),
    }
}

/// Whether a load returned what the model predicts (SPEC §2): the record
/// (a MUST) and, when the implementation says what it found, the outcome
/// (a SHOULD).
pub fn load(world: &World, observed: &Result<Loaded, Failure>) -> Result<(), Finding> {
    load_of(world, None, observed)
}

/// [`load`], with the bytes of the file loaded when the caller has them
/// (`file`): a finding then shows them beside the record the model reads
/// in them, whose re-encoding may spell a value otherwise (`-0` as `0`).
/// The verdict is the same.
pub fn load_of(
    world: &World,
    file: Option<&[u8]>,
    observed: &Result<Loaded, Failure>,
) -> Result<(), Finding> {
    let (kind, record) = world.expected_load();
    let now = world.now().as_str();
    let loaded = match observed {
        Ok(loaded) => loaded,
        Err(failure) => {
            return Err(Finding::violation(
                "§2.2.4",
                "load returns a record and never fails",
                format!(
                    "load at {now} must return a record, never fail; it answered: {failure}; {}",
                    must_return(world, &record, file)
                ),
            ))
        }
    };
    let later = world.at_window_end().map(|w| w.expected_load().1);
    let probed = probe(world, |w| Some(w.expected_load().1));
    let predicted = Predicted {
        lo: &record,
        hi: later.as_ref().unwrap_or(&record),
        probe: probed.as_ref(),
    };
    let same = match &loaded.record {
        Ok(r) => same_record_between(world, &predicted, r),
        Err(_) => false,
    };
    if !same {
        if let Found::Corrupt(bytes) = &world.file {
            if let Err(corrupt) = lifecycle_model::record::decode(bytes) {
                return Err(Finding::violation(
                    section_of(&corrupt),
                    NOT_A_RECORD,
                    format!(
                        "load at {now} of a corrupt file: the file breaks {}; load must return the default record {}, it returned {}; {}",
                        breaks(bytes, &corrupt),
                        report::record(&record),
                        answer_text(&loaded.record),
                        whole_file(bytes)
                    ),
                )
                .broken_by(how_corrupt(&corrupt)));
            }
        }
        let (how, only_unknown) = match &loaded.record {
            Ok(r) => how_records_differ(world, &predicted, r),
            Err(_) => (String::new(), false),
        };
        let (spec, rule) = if loaded.record.is_err() {
            (
                "§2.3",
                "load returns a record of SPEC §1 with every known member",
            )
        } else if only_unknown {
            ("§1.5", UNKNOWN_KEPT)
        } else {
            (
                "§2.1",
                "load returns the stored record of a valid file, else the default",
            )
        };
        let returned = answer_text(&loaded.record);
        let expected = must_return(world, &record, file);
        let as_default = matches!(world.file, Found::Valid(_))
            && default_record(world, &Ok(loaded.record.clone())).is_ok();
        let message = match &loaded.record {
            Ok(_) if as_default => format!(
                "load at {now} returned the default record, as for a missing or corrupt file; {expected}; it returned {returned}"
            ),
            Ok(r) => match difference(world, &predicted, r, Sides::RETURNED) {
                Some(differs) => format!(
                    "load at {now} returned another record: {differs}; {expected}; it returned {returned}"
                ),
                None => format!("load at {now}: {expected}; it returned {returned}"),
            },
            Err(_) => format!("load at {now} returned {returned}; {expected}"),
        };
        return Err(Finding::violation(spec, rule, message).broken_by(how));
    }
    match loaded.kind {
        Some(k) if k != kind => Err(Finding::divergence(
            "§2.1",
            "load says what it found: valid, missing, corrupt or unreadable",
            format!(
                "load at {now} returned the right record but said it found {}, not {}; the record path holds {}",
                k.as_str(),
                kind.as_str(),
                report::found(&world.file)
            ),
        )),
        _ => Ok(()),
    }
}

/// Whether `observed` is the default record of SPEC §1.7 at the world's
/// now.
pub fn default_record(world: &World, observed: &Result<Answer, Failure>) -> Result<(), Finding> {
    let expected = Record::default_at(world.now());
    let later = world.at_window_end().map(|w| Record::default_at(w.now()));
    let probed = probe(world, |w| Some(Record::default_at(w.now())));
    let predicted = Predicted {
        lo: &expected,
        hi: later.as_ref().unwrap_or(&expected),
        probe: probed.as_ref(),
    };
    let same = match observed {
        Ok(Ok(record)) => same_record_between(world, &predicted, record),
        _ => false,
    };
    if same {
        return Ok(());
    }
    let got = match observed {
        Ok(answer) => answer_text(answer),
        Err(failure) => failure.to_string(),
    };
    Err(Finding::violation(
        "§1.7",
        "the default record is the one of SPEC §1.7 at now",
        format!(
            "the default record at {} is {}; the implementation returned {got}",
            world.now().as_str(),
            report::record(&expected)
        ),
    ))
}

/// Whether the library save of `record` answered as SPEC §3.1 requires:
/// refused naming `field` exactly when the model calls the record invalid
/// (`field` `None`: any field, or the record as a whole).
pub fn save(
    record: &Record,
    field: Option<&str>,
    observed: &Result<(), Failure>,
) -> Result<(), Finding> {
    save_judged(
        || report::record_text(record),
        record.is_valid(),
        field,
        observed,
    )
}

/// [`save`] for a record whose whole JSON text `text` gives (called only
/// for a finding), for a caller that already knows whether it is `valid`.
/// A finding on an invalid record says first which rule of SPEC §1 it
/// breaks, and where ([`breaks`]), then shows the record.
pub fn save_judged(
    text: impl FnOnce() -> String,
    valid: bool,
    field: Option<&str>,
    observed: &Result<(), Failure>,
) -> Result<(), Finding> {
    // The record is shown only in a finding: a save judged right costs no
    // formatting.
    let invalid = |text: &str| match lifecycle_model::record::decode(text.as_bytes()) {
        Err(corrupt) => format!("it breaks {}", breaks(text.as_bytes(), &corrupt)),
        Ok(_) => "it breaks SPEC §1".to_string(),
    };
    match observed {
        Ok(()) if valid => Ok(()),
        Ok(()) => {
            let text = text();
            let finding = Finding::violation(
                "§3.1",
                SAVED_INVALID,
                format!(
                    "save succeeded, but the record must be refused: {}; the record saved: {}",
                    invalid(&text),
                    report::json_text(&text)
                ),
            );
            // The rule of §1 the record breaks, as a load that let such a
            // file through breaks it: one group of the report.
            Err(match lifecycle_model::record::decode(text.as_bytes()) {
                Err(corrupt) => Finding {
                    spec: section_of(&corrupt),
                    rule: NOT_A_RECORD,
                    ..finding.broken_by(how_corrupt(&corrupt))
                },
                Ok(_) => finding,
            })
        }
        Err(Failure::InvalidRecord { field: named }) if !valid => match (field, named) {
            (Some(want), Some(got)) if !same_field(want, got) => {
                let text = text();
                Err(Finding::violation(
                    "§3.1",
                    NAMES_FIELD,
                    format!(
                        "save was refused naming the field {got}, not {want}: {}; the record saved: {}",
                        invalid(&text),
                        report::json_text(&text)
                    ),
                ))
            }
            (Some(want), None) => {
                let text = text();
                Err(Finding::violation(
                    "§3.1",
                    NAMES_FIELD,
                    format!(
                        "save was refused without naming the field {want}: {}; the record saved: {}",
                        invalid(&text),
                        report::json_text(&text)
                    ),
                ))
            }
            _ => Ok(()),
        },
        Err(failure) if valid => Err(valid_save_failed(
            format!(
                "save of a valid record failed: {failure}; the record saved: {}",
                report::json_text(&text())
            ),
            failure,
        )),
        Err(failure) => {
            let text = text();
            Err(Finding::violation(
                "§3.1",
                "save refuses a record that breaks SPEC §1 as an invalid record",
                format!(
                    "save failed with {failure}, not as an invalid record; {}; the record saved: {}",
                    invalid(&text),
                    report::json_text(&text)
                ),
            ))
        }
    }
}

/// The finding of a save of a valid record that failed with `failure`:
/// refused as invalid, a validation of SPEC §3.1 that is wrong; else a
/// save that failed (SPEC §3), `message` saying how.
pub fn valid_save_failed(message: String, failure: &Failure) -> Finding {
    match failure {
        Failure::InvalidRecord { .. } => Finding::violation("§3.1", VALID_SAVED, message)
            .broken_by("refused as an invalid record"),
        _ => Finding::violation("§3", VALID_SAVED, message).broken_by("failed"),
    }
}

/// The rule a save that wrote a record breaking SPEC §1 breaks.
pub const SAVED_INVALID: &str = "save refuses a record that breaks SPEC §1";

/// The rule a save of a valid record that fails breaks.
const VALID_SAVED: &str = "save of a valid record succeeds";

/// The rule a refusal that names another field, or none, breaks.
const NAMES_FIELD: &str = "a refused save names the field that breaks SPEC §1";

/// Whether a refusal naming `got` names the field path `want`: the same
/// path, or one of its enclosing objects or members (`quarantine` for
/// `quarantine.until_ts`).
fn same_field(want: &str, got: &str) -> bool {
    let within = |outer: &str, inner: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|r| r.starts_with('.'))
    };
    within(want, got) || within(got, want)
}

/// Whether `bytes` are the serialized form of `record` (SPEC §3.2): the
/// model's form up to the escape spelling of strings, which §3.2 leaves
/// open.
pub fn serialized_form(bytes: &[u8], record: &Record) -> Result<(), Finding> {
    let reference = record.encode();
    // Canonical spelling only when the bytes differ: it is the slow path.
    if bytes == reference || canonical::strings(bytes) == canonical::strings(&reference) {
        return Ok(());
    }
    // Where they part first (an escape respelled before it is allowed,
    // and then the place shown is that one).
    let at = bytes
        .iter()
        .zip(&reference)
        .take_while(|(a, b)| a == b)
        .count();
    Err(Finding::violation(
        "§3.2",
        "the record file holds the record's serialized form",
        format!(
            "the file is not the serialized form, first at byte {at}: the file has {}, the serialized form {}\n  file:  {}\n  model: {}",
            report::around(bytes, at),
            report::around(&reference, at),
            report::excerpt(bytes),
            report::excerpt(&reference)
        ),
    ))
}

// ----------------------------------------------------------- nondeterminism

/// Whether the record path `actual` holds what `view` says: by value, and
/// also by spelling when `exact`.
pub fn holds(world: &World, actual: Option<&Entry>, view: &Found, exact: bool) -> bool {
    match (view, actual) {
        (Found::Missing, None) => true,
        (Found::Unreadable, Some(Entry::Dir { .. })) => true,
        (Found::Corrupt(bytes), Some(Entry::File { data, .. })) => *bytes == **data,
        (Found::Valid(r), Some(Entry::File { data, .. })) => lifecycle_model::record::decode(data)
            .is_ok_and(|d| same_record(world, r, &d) && (!exact || d.encode() == r.encode())),
        _ => false,
    }
}

/// The candidate the record path holds, preferring one that matches by
/// spelling (the next write depends on it, SPEC §4.6), or a finding naming
/// what it holds and what was allowed.
pub fn observe<'c>(
    world: &World,
    after: &str,
    actual: Option<&Entry>,
    candidates: &'c [Found],
) -> Result<&'c Found, Finding> {
    [true, false]
        .into_iter()
        .find_map(|exact| candidates.iter().find(|c| holds(world, actual, c, exact)))
        .ok_or_else(|| {
            let allowed: Vec<String> = candidates.iter().map(report::found).collect();
            let held = match actual {
                None => "no file".to_string(),
                Some(Entry::Dir { .. }) => "a directory".to_string(),
                Some(Entry::Other { what }) => what.clone(),
                Some(Entry::File { data, .. }) => match lifecycle_model::record::decode(data) {
                    Ok(r) => {
                        // Against the allowed record it is nearest to.
                        let nearest = candidates
                            .iter()
                            .filter_map(Found::record)
                            .map(|c| differences(world, &Predicted::exactly(c), &r))
                            .filter(|d| !d.is_empty())
                            .min_by_key(|d| (d.more, d.found.len()));
                        match nearest {
                            Some(d) => format!(
                                "a record the SPEC does not allow ({}, against the allowed record nearest to it), {}",
                                d.said(HELD, world.rules()),
                                report::record(&r)
                            ),
                            None => format!("the record {}", report::record(&r)),
                        }
                    }
                    Err(corrupt) => format!(
                        "a corrupt file that breaks {} ({})",
                        breaks(data, &corrupt),
                        whole_file(data)
                    ),
                },
            };
            Finding::violation(
                "§3.4.1",
                "an interrupted writer leaves the record path holding one of the files the SPEC allows",
                format!(
                    "after {after}, the record path holds {held}; the SPEC allows only: {}",
                    allowed.join("; or ")
                ),
            )
        })
}

/// The sides of a difference between an allowed record and the one held.
const HELD: Sides<'static> = Sides {
    ours: "the allowed record has",
    theirs: "the record path holds",
};

/// What the record path holds, read as the model reads it.
pub fn found_at(actual: Option<&Entry>) -> Found {
    match actual {
        None => Found::Missing,
        Some(Entry::Dir { .. } | Entry::Other { .. }) => Found::Unreadable,
        Some(Entry::File { data, .. }) => Found::of_bytes(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_model::writer::Found;

    /// 2024-06-01T12:00:00Z.
    const NOW: i64 = 1_717_243_200_000_000;

    /// A file at the record path, with the record's mode.
    fn file(data: &[u8]) -> Entry {
        Entry::File {
            mode: lifecycle_model::spec::FILE_MODE,
            data: std::sync::Arc::new(data.to_vec()),
        }
    }

    /// A heartbeat: it writes, whatever the file holds.
    fn heartbeat() -> WriterOp {
        WriterOp::Dispatch {
            event: lifecycle_model::Event::HeartbeatRefresh,
            guards: lifecycle_model::Guards::default(),
            shadow_run: false,
        }
    }

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("a timestamp")
    }

    fn record(since: &str, unknown: &[(&str, &str)]) -> Record {
        Record {
            since_ts: ts(since),
            unknown: unknown
                .iter()
                .map(|(n, r)| (n.to_string(), r.to_string()))
                .collect(),
            ..Record::default_at(&ts("2024-01-01T00:00:00Z"))
        }
    }

    #[test]
    fn the_serialized_form_is_the_models_bytes_up_to_the_spelling_of_escapes() {
        let r = record("2024-01-01T00:00:00Z", &[("note", "\"é\"")]);
        let bytes = r.encode();
        assert!(serialized_form(&bytes, &r).is_ok());
        // The same string with its é escaped: §3.2 leaves that open.
        let text = String::from_utf8(bytes.clone()).expect("UTF-8");
        let escaped = text.replace('é', "\\u00e9");
        assert_ne!(escaped.as_bytes(), &bytes[..]);
        assert!(serialized_form(escaped.as_bytes(), &r).is_ok());
        // The same record spelled with a space after each colon is not.
        let spaced = text.replace("\":", "\": ");
        let finding = serialized_form(spaced.as_bytes(), &r).expect_err("spaced");
        assert_eq!(finding.spec, "§3.2");
        let parted = text.find("\":").expect("a member") + 2;
        assert!(
            finding
                .message
                .contains(&format!("first at byte {parted}: ")),
            "{}",
            finding.message
        );
    }

    #[test]
    fn the_requirements_compare_unknown_members_as_json_values() {
        let world = World::new(0, Found::Missing).with_rules(Rules::Requirements);
        let a = record(
            "2024-01-01T00:00:00Z",
            &[("a", "{\"x\": [1.0, \"\\u00e9\"]}"), ("b", "1")],
        );
        let b = record(
            "2024-01-01T00:00:00+00:00",
            &[("b", "1"), ("a", "{\"x\":[1,\"é\"]}")],
        );
        assert!(same_record(&world, &a, &b));
        assert!(!same_record(&World::new(0, Found::Missing), &a, &b));
        let c = record(
            "2024-01-01T00:00:00Z",
            &[("a", "{\"x\":[2,\"é\"]}"), ("b", "1")],
        );
        assert!(!same_record(&world, &a, &c));
    }

    #[test]
    fn each_member_of_a_progress_and_a_quarantine_makes_a_difference_under_the_requirements() {
        let world = World::new(0, Found::Missing).with_rules(Rules::Requirements);
        let base = Record {
            sleep_cycle_progress: Some(Progress {
                last_completed_step: Some(2),
                attempt: Some(1),
                last_error: Some(Some("sleep step 3 failed: disk full".to_string())),
                started_at: Some(ts("2024-01-01T00:00:01Z")),
                unknown: vec![("p".to_string(), "1".to_string())],
            }),
            quarantine: Some(Quarantine {
                until_ts: ts("2024-01-02T00:00:00Z"),
                since_ts: ts("2024-01-01T00:00:02Z"),
                reason: "sleep step 3 failed: disk full".to_string(),
                unknown: vec![("q".to_string(), "1".to_string())],
            }),
            ..record("2024-01-01T00:00:00Z", &[])
        };
        assert!(same_record(&world, &base, &base.clone()));
        let changes: [Change; 12] = [
            ("progress absent", |r| r.sleep_cycle_progress = None),
            ("quarantine absent", |r| r.quarantine = None),
            ("last_completed_step", |r| {
                progress(r).last_completed_step = Some(3)
            }),
            ("started_at absent", |r| progress(r).started_at = None),
            ("attempt", |r| progress(r).attempt = Some(2)),
            ("last_error", |r| progress(r).last_error = Some(None)),
            ("started_at", |r| {
                progress(r).started_at = Some(ts("2024-01-01T00:00:09Z"))
            }),
            ("progress unknown", |r| {
                progress(r).unknown[0].1 = "2".to_string()
            }),
            ("until_ts", |r| {
                quarantine(r).until_ts = ts("2024-01-03T00:00:00Z")
            }),
            ("since_ts", |r| {
                quarantine(r).since_ts = ts("2024-01-01T00:00:09Z")
            }),
            ("reason", |r| quarantine(r).reason = "manual".to_string()),
            ("quarantine unknown", |r| {
                quarantine(r).unknown[0].1 = "2".to_string()
            }),
        ];
        for (member, change) in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert!(!same_record(&world, &base, &changed), "{member} changed");
        }
        // Requirements §5 fixes a sleep step's reason up to its ": ".
        let mut reworded = base.clone();
        quarantine(&mut reworded).reason = "sleep step 3 failed: no space left".to_string();
        assert!(same_record(&world, &base, &reworded));
        quarantine(&mut reworded).reason = "sleep step 4 failed: disk full".to_string();
        assert!(!same_record(&world, &base, &reworded));
    }

    #[test]
    fn each_class_of_section_1_6_has_words_of_its_own() {
        let words: Vec<&str> = (1..=10).map(|item| section_1_6(item).1).collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(
                words.iter().filter(|o| *o == w).count(),
                1,
                "item {}: {w}",
                i + 1
            );
        }
        let big = vec![b' '; lifecycle_model::spec::MAX_FILE_BYTES + 1];
        let default =
            String::from_utf8(record("2024-01-01T00:00:00Z", &[]).encode()).expect("UTF-8");
        let wrong_state = default.replace("\"WAKE\"", "\"AWAKE\"").into_bytes();
        for (text, said) in [
            (&big[..], "§1.6 item 1, larger than 1 MiB"),
            (b"{\"a\":\"\xff\"}", "§1.6 item 2, not UTF-8"),
            (b"\xef\xbb\xbf{}", "§1.6 item 3, a byte order mark"),
            (b"{} {}", "§1.6 item 4, not exactly one JSON value"),
            (b"{\"a\":NaN}", "§1.6 item 5, a token outside RFC 8259"),
            (
                b"{\"a\":\"\x01\"}",
                "§1.6 item 6, a string with a raw control character, an invalid escape or an unpaired surrogate",
            ),
            (b"{\"a\":1,\"a\":2}", "§1.6 item 7, a duplicate member name"),
            (b"[]", "§1.6 item 8, not an object"),
            (b"{}", "§1.6 item 9, a required member missing"),
            (&wrong_state, "§1.6 item 10, a known member that breaks its rule"),
        ] {
            let corrupt = lifecycle_model::record::decode(text).expect_err("corrupt");
            assert_eq!(how_corrupt(&corrupt), said);
        }
    }

    #[test]
    fn a_field_is_the_same_as_itself_and_as_what_holds_it() {
        assert!(same_field("quarantine", "quarantine.until_ts"));
        assert!(same_field("quarantine.until_ts", "quarantine"));
        assert!(same_field("seq", "seq"));
        assert!(!same_field("quarantine", "quarantine_x"));
        assert!(!same_field("quarantine.until_ts", "quarantine.since_ts"));
    }

    #[test]
    fn in_a_clock_window_this_projects_spec_wants_the_models_unknown_members_exactly() {
        let world = World::new(0, Found::Missing);
        let lo = Record {
            last_activity_ts: ts("2024-01-01T00:00:00.000100Z"),
            ..record("2024-01-01T00:00:00.000000Z", &[("a", "1.0")])
        };
        let hi = Record {
            last_activity_ts: ts("2024-01-01T00:00:00.000300Z"),
            ..lo.clone()
        };
        let window = Predicted {
            lo: &lo,
            hi: &hi,
            probe: None,
        };
        let within = Record {
            last_activity_ts: ts("2024-01-01T00:00:00.000200Z"),
            ..lo.clone()
        };
        assert!(same_record_between(&world, &window, &within));
        let respelled = Record {
            unknown: vec![("a".to_string(), "1".to_string())],
            ..within.clone()
        };
        assert!(!same_record_between(&world, &window, &respelled));
        let requirements = world.with_rules(Rules::Requirements);
        assert!(same_record_between(&requirements, &window, &respelled));
    }

    /// A load at 2024-06-01T12:00:00Z of a file holding `held` that
    /// answered `returned`, judged by this project's SPEC.
    fn wrong_load(held: &Found, returned: Record) -> Finding {
        let world = World::new(NOW, held.clone());
        let loaded = Ok(Loaded {
            kind: Some(held.kind()),
            record: Ok(returned),
        });
        load(&world, &loaded).expect_err("another record")
    }

    #[test]
    fn a_load_that_says_it_found_another_kind_of_file_diverges() {
        let world = World::new(NOW, Found::Missing);
        let said = |kind| {
            load(
                &world,
                &Ok(Loaded {
                    kind,
                    record: Ok(Record::default_at(world.now())),
                }),
            )
        };
        assert!(said(None).is_ok());
        assert!(said(Some(lifecycle_model::writer::LoadKind::Missing)).is_ok());
        let finding =
            said(Some(lifecycle_model::writer::LoadKind::Corrupt)).expect_err("not corrupt");
        assert_eq!(
            (finding.spec, finding.level),
            ("§2.1", crate::finding::Level::Divergence),
            "{finding}"
        );
        assert!(
            finding
                .message
                .contains("said it found corrupt, not missing"),
            "{finding}"
        );
    }

    #[test]
    fn a_wrong_load_names_the_members_that_differ_and_what_load_must_return() {
        let stored = Record {
            wrapper_event_seq: 4,
            ..record("2024-01-01T00:00:00Z", &[])
        };
        let held = Found::Valid(stored.clone());
        let must = format!(
            "the record path holds the valid record {}, which load must return",
            report::record(&stored)
        );
        for (change, how) in [
            (
                (|r: &mut Record| r.last_activity_ts = ts("2024-01-01T00:00:01Z"))
                    as fn(&mut Record),
                "last_activity_ts changed",
            ),
            (
                |r| r.since_ts = ts("2024-01-01T00:00:01Z"),
                "since_ts changed",
            ),
            (|r| r.wrapper_event_seq = 5, "wrapper_event_seq changed"),
            (
                |r| {
                    r.wrapper_event_seq = 5;
                    r.shadow_run = true
                },
                "wrapper_event_seq, shadow_run changed",
            ),
            (
                |r| r.unknown = vec![("x".to_string(), "1".to_string())],
                "an unknown member changed",
            ),
        ] {
            let mut returned = stored.clone();
            change(&mut returned);
            let finding = wrong_load(&held, returned);
            assert_eq!(finding.how, how, "{finding}");
            assert!(finding.message.contains(&must), "{finding}");
            assert!(!finding.message.contains("the default record"), "{finding}");
        }
        // The default record differs in several members: named as such.
        let default = Record::default_at(&ts("2024-06-01T12:00:00Z"));
        let finding = wrong_load(&held, default.clone());
        assert_eq!(
            finding.how, "the default record, as for a file that is not valid",
            "{finding}"
        );
        assert!(
            finding.message.contains("returned the default record"),
            "{finding}"
        );
        // The file as the model writes it is not shown twice.
        let world = World::new(NOW, held.clone());
        let loaded = Ok(Loaded {
            kind: Some(held.kind()),
            record: Ok(default.clone()),
        });
        let finding = load_of(&world, Some(&stored.encode()), &loaded).expect_err("the default");
        assert!(finding.message.contains(&must), "{finding}");
        // A missing file: the default record is what load must return.
        let finding = wrong_load(&Found::Missing, stored.clone());
        assert!(
            finding
                .message
                .contains(", so load must return the default record {\"current_state\":\"WAKE\""),
            "{finding}"
        );
    }

    #[test]
    fn an_invalid_argument_may_be_answered_as_such_and_no_other_refusal_may() {
        let world = World::new(NOW, Found::Missing);
        let invalid: Result<Written, Failure> = Err(Failure::InvalidArgument {
            message: "steps must be at least 1".to_string(),
        });
        assert!(write(&world, &WriterOp::Begin(0), &invalid).is_ok());
        // No cycle runs: step_done is refused for that, not for its argument.
        let finding = write(&world, &WriterOp::StepDone(1), &invalid).expect_err("no cycle");
        assert!(finding.message.contains("to refuse: "), "{finding}");
    }

    #[test]
    fn a_wrong_write_says_what_the_model_writes() {
        let world = World::new(NOW, Found::Missing);
        let heartbeat = heartbeat();
        let finding = write(&world, &heartbeat, &Err(Failure::Locked)).expect_err("locked");
        assert!(
            finding
                .message
                .contains("to write {\"current_state\":\"WAKE\""),
            "{finding}"
        );
        assert!(
            finding
                .message
                .contains("the implementation refused: locked by another writer"),
            "{finding}"
        );
        // No cycle runs: cycle_done writes nothing.
        let finding =
            write(&world, &WriterOp::CycleDone, &Err(Failure::Locked)).expect_err("locked");
        assert!(
            finding.message.contains("to write nothing, with {"),
            "{finding}"
        );
    }

    #[test]
    fn a_valid_record_whose_save_failed_is_told_apart_from_an_invalid_one() {
        let record = record("2024-01-01T00:00:00Z", &[]);
        let io = Err(Failure::Io {
            errno: Some(28),
            message: "No space left on device".to_string(),
        });
        let finding = save(&record, None, &io).expect_err("a valid save failed");
        assert!(
            finding
                .message
                .starts_with("save of a valid record failed: I/O error: No space left on device"),
            "{finding}"
        );
        let invalid = Record {
            wrapper_event_seq: lifecycle_model::spec::MAX_INTEGER + 1,
            ..record.clone()
        };
        let refused = Err(Failure::InvalidRecord {
            field: Some("wrapper_event_seq".to_string()),
        });
        let finding = save(&record, None, &refused).expect_err("valid");
        assert_eq!(
            (finding.spec, finding.how.as_str()),
            ("§3.1", "refused as an invalid record"),
            "{finding}"
        );
        // Saved though invalid: grouped under the rule of §1 it breaks, as
        // a load that let such a file through.
        let finding = save(&invalid, None, &Ok(())).expect_err("saved");
        assert_eq!(
            (finding.spec, finding.rule),
            ("§1.3", NOT_A_RECORD),
            "{finding}"
        );
        let unnamed = Err(Failure::InvalidRecord { field: None });
        assert!(save(&invalid, None, &unnamed).is_ok());
        let finding =
            save(&invalid, Some("wrapper_event_seq"), &unnamed).expect_err("the field unnamed");
        assert!(
            finding
                .message
                .starts_with("save was refused without naming the field wrapper_event_seq"),
            "{finding}"
        );
        let finding = save(&invalid, None, &io).expect_err("not refused as invalid");
        assert!(
            finding.message.starts_with("save failed with I/O error"),
            "{finding}"
        );
    }

    #[test]
    fn a_file_larger_than_a_mebibyte_is_of_section_1_6_item_1() {
        let big = vec![b' '; lifecycle_model::spec::MAX_FILE_BYTES + 1];
        let corrupt = lifecycle_model::record::decode(&big).expect_err("too large");
        assert_eq!(section_of(&corrupt), "§1.6");
        assert_eq!(how_corrupt(&corrupt), "§1.6 item 1, larger than 1 MiB");
        let bom = lifecycle_model::record::decode(b"\xef\xbb\xbf{}").expect_err("a BOM");
        assert_eq!(how_corrupt(&bom), "§1.6 item 3, a byte order mark");
        let not_utf8 = lifecycle_model::record::decode(b"\xff").expect_err("not UTF-8");
        assert_eq!(section_of(&not_utf8), "§1.1.1");
        assert_eq!(how_corrupt(&not_utf8), "§1.6 item 2, not UTF-8");
    }

    #[test]
    fn the_record_path_holds_a_corrupt_file_by_its_bytes() {
        let world = World::new(0, Found::Missing);
        let corrupt = Found::Corrupt(b"{".to_vec());
        assert!(holds(&world, Some(&file(b"{")), &corrupt, true));
        assert!(!holds(&world, Some(&file(b"[")), &corrupt, true));
        assert!(!holds(&world, None, &corrupt, false));
        let directory = Entry::Dir {
            mode: lifecycle_model::spec::DIR_MODE,
        };
        assert!(holds(&world, Some(&directory), &Found::Unreadable, true));
        let valid = record("2024-01-01T00:00:00Z", &[]);
        let text = valid.encode();
        let respelled = String::from_utf8(text.clone())
            .expect("UTF-8")
            .replace("00Z", "00+00:00");
        let held = Found::Valid(valid);
        assert!(holds(&world, Some(&file(&text)), &held, true));
        assert!(!holds(
            &world,
            Some(&file(respelled.as_bytes())),
            &held,
            true
        ));
        assert!(holds(
            &world,
            Some(&file(respelled.as_bytes())),
            &held,
            false
        ));
        assert!(!holds(&world, Some(&file(b"{")), &Found::Unreadable, false));
    }

    #[test]
    fn a_record_the_spec_does_not_allow_is_told_against_the_nearest_allowed_one() {
        let world = World::new(0, Found::Missing);
        let allowed = record("2024-01-01T00:00:00Z", &[]);
        let held = Record {
            wrapper_event_seq: 9,
            ..allowed.clone()
        };
        let entry = file(&held.encode());
        let candidates = [Found::Valid(allowed), Found::Missing];
        let finding = observe(&world, "a crash", Some(&entry), &candidates).expect_err("held");
        assert!(
            finding.message.contains(
                "the record path holds a record the SPEC does not allow (wrapper_event_seq: \
                 the allowed record has 0, the record path holds 9, against the allowed \
                 record nearest to it)"
            ),
            "{finding}"
        );
    }

    #[test]
    fn by_the_requirements_a_stamp_may_be_a_microsecond_outside_the_window_and_no_more() {
        let world = World::new(0, Found::Missing).with_rules(Rules::Requirements);
        let at = |micros: i64| crate::world::at_micros(NOW + micros);
        let (lo, hi) = (at(10), at(20));
        for (micros, allowed) in [(8, false), (9, true), (15, true), (21, true), (22, false)] {
            assert_eq!(
                same_timestamp(&world, &lo, &hi, false, &at(micros)),
                allowed,
                "{micros}"
            );
        }
        let spec = World::new(0, Found::Missing);
        assert!(!same_timestamp(&spec, &lo, &hi, false, &at(9)));
        // A millisecond clock read in a window from .123000 on, truncated:
        // .123 at the earliest, never .122.
        let (lo, hi) = (at(123_000), at(124_500));
        let ms = |text: &str| ts(&format!("2024-06-01T12:00:00.{text}Z"));
        assert!(same_timestamp(&world, &lo, &hi, true, &ms("123")));
        assert!(same_timestamp(&world, &lo, &hi, true, &ms("124")));
        assert!(!same_timestamp(&world, &lo, &hi, true, &ms("122")));
        // From .123500 on: .123 only for a stamp made from now.
        let lo = at(123_500);
        assert!(same_timestamp(&world, &lo, &hi, true, &ms("123")));
        assert!(!same_timestamp(&world, &lo, &hi, false, &ms("123")));
    }

    #[test]
    fn a_record_within_a_window_may_be_the_models_at_either_end() {
        let world = World::new(0, Found::Missing);
        let lo = record("2024-01-01T00:00:00Z", &[]);
        let hi = Record {
            current_state: lifecycle_model::State::Drowsy,
            ..lo.clone()
        };
        let window = Predicted {
            lo: &lo,
            hi: &hi,
            probe: None,
        };
        assert!(same_record_between(&world, &window, &lo));
        assert!(same_record_between(&world, &window, &hi));
        let neither = Record {
            current_state: lifecycle_model::State::Sleep,
            ..lo.clone()
        };
        assert!(!same_record_between(&world, &window, &neither));
    }

    #[test]
    fn the_probe_looks_a_microsecond_back_where_it_cannot_look_forward() {
        use crate::world::MAX_MICROS;
        let now = |w: &World| Some(w.now_micros);
        let world = World::new(0, Found::Missing).with_rules(Rules::Requirements);
        assert_eq!(probe(&world, now), Some(1));
        let last = World::new(MAX_MICROS, Found::Missing).with_rules(Rules::Requirements);
        assert_eq!(probe(&last, now), Some(MAX_MICROS - 1));
        assert_eq!(probe(&World::new(0, Found::Missing), now), None);
    }

    /// The judgement of a heartbeat at `NOW` on a missing file, answered
    /// as a store would report the model's answer but for `change`.
    fn heartbeat_answered_but(change: impl FnOnce(&mut Written)) -> Result<(), Finding> {
        let world = World::new(NOW, Found::Missing);
        let heartbeat = heartbeat();
        let outcome = world.predict(&heartbeat).expect("it writes");
        let mut written = Written {
            record: Ok(outcome.record),
            found: Some(lifecycle_model::writer::LoadKind::Missing),
            preserved_as: None,
            wrote: Some(true),
            shutdown: Some(outcome.shutdown),
            transitioned: None,
        };
        change(&mut written);
        write(&world, &heartbeat, &Ok(written))
    }

    #[test]
    fn a_writers_shutdown_signal_and_record_are_each_told_in_words() {
        assert!(heartbeat_answered_but(|_| {}).is_ok());
        let finding =
            heartbeat_answered_but(|w| w.shutdown = Some(lifecycle_model::Shutdown::Requested))
                .expect_err("no shutdown");
        assert!(
            finding
                .message
                .contains("the model expects no shutdown, the implementation a shutdown request"),
            "{finding}"
        );
        let finding = heartbeat_answered_but(|w| {
            if let Ok(record) = &mut w.record {
                record.wrapper_event_seq += 1;
            }
        })
        .expect_err("another record");
        assert!(
            finding
                .message
                .contains("the result differs: wrapper_event_seq: the model expects 1"),
            "{finding}"
        );
    }

    #[test]
    fn a_writer_must_say_it_wrote_when_the_model_writes() {
        let finding =
            heartbeat_answered_but(|w| w.wrote = Some(false)).expect_err("a heartbeat writes");
        assert!(
            finding.message.contains("the implementation wrote nothing"),
            "{finding}"
        );
    }

    #[test]
    fn a_refusal_must_be_the_models_reason() {
        let world = World::new(NOW, Found::Missing);
        let refused = |r| Err(Failure::Refused(r));
        assert!(write(&world, &WriterOp::StepDone(1), &refused(Refusal::NoCycle)).is_ok());
        let finding = write(
            &world,
            &WriterOp::StepDone(1),
            &refused(Refusal::Quarantined),
        )
        .expect_err("another reason");
        assert_eq!(finding.rule, RESULT_RULE, "{finding}");
    }

    #[test]
    fn a_dispatch_reports_a_transition_exactly_when_the_state_changed() {
        let reports = |t| heartbeat_answered_but(|w| w.transitioned = t);
        assert!(reports(Some(false)).is_ok());
        let finding = reports(Some(true)).expect_err("WAKE to WAKE");
        assert_eq!(finding.spec, "§4.2", "{finding}");
        assert!(
            finding
                .message
                .contains("from WAKE to WAKE, the implementation reports transitioned: true"),
            "{finding}"
        );
    }

    #[test]
    fn a_writer_may_fail_as_the_model_does_on_an_unreadable_file_and_at_overflow() {
        let heartbeat = heartbeat();
        let unreadable = World::new(NOW, Found::Unreadable);
        let io = Err(Failure::Io {
            errno: Some(21),
            message: "Is a directory".to_string(),
        });
        assert!(write(&unreadable, &heartbeat, &io).is_ok());
        assert!(write(&unreadable, &heartbeat, &Err(Failure::Overflow)).is_err());
        let at_the_last_number = World::new(
            NOW,
            Found::Valid(Record {
                wrapper_event_seq: lifecycle_model::spec::MAX_INTEGER,
                ..record("2024-01-01T00:00:00Z", &[])
            }),
        );
        assert!(write(&at_the_last_number, &heartbeat, &Err(Failure::Overflow)).is_ok());
        assert!(write(&at_the_last_number, &heartbeat, &io).is_err());
    }

    #[test]
    fn a_writer_that_says_it_preserved_bytes_must_have_had_bytes_to_preserve() {
        let said = |p| heartbeat_answered_but(|w| w.preserved_as = p);
        assert!(said(None).is_ok());
        assert!(said(Some(None)).is_ok());
        let finding = said(Some(Some("x".to_string()))).expect_err("nothing to preserve");
        assert_eq!(finding.spec, "§4.4", "{finding}");
    }

    /// A member's name and a change of it alone.
    type Change = (&'static str, fn(&mut Record));

    fn progress(record: &mut Record) -> &mut Progress {
        record.sleep_cycle_progress.as_mut().expect("a progress")
    }

    fn quarantine(record: &mut Record) -> &mut Quarantine {
        record.quarantine.as_mut().expect("a quarantine")
    }

    #[test]
    fn a_difference_names_every_member_that_makes_it_and_passes_over_respellings() {
        let world = World::new(0, Found::Missing).with_rules(Rules::Requirements);
        let saved = record("2024-01-01T00:00:00Z", &[("a", "[1.0]"), ("n", "1e400")]);
        // Z respelled and 1.0 written 1: accepted; 1e400 as a string: not.
        let held = record(
            "2024-01-01T00:00:00+00:00",
            &[("n", "\"Infinity\""), ("a", "[1]")],
        );
        let said = difference(&world, &Predicted::exactly(&saved), &held, Sides::RETURNED);
        assert_eq!(
            said.as_deref(),
            Some("n: the model expects 1e400, the implementation returned \"Infinity\"")
        );
        let fewer = record("2024-01-01T00:00:00Z", &[("a", "[2.5]")]);
        let said = difference(&world, &Predicted::exactly(&saved), &fewer, Sides::RETURNED);
        assert_eq!(
            said.as_deref(),
            Some(
                "a[0]: the model expects 1.0, the implementation returned 2.5, which is another \
                 binary64 value (numbers compare as binary64 values, requirements §7; 1.0 is 1 \
                 as binary64); n: the model expects 1e400, the implementation returned none"
            )
        );
        assert_eq!(
            difference(&world, &Predicted::exactly(&saved), &saved, Sides::RETURNED),
            None
        );
    }

    #[test]
    fn a_load_of_a_file_with_a_duplicate_name_says_where_it_is_first() {
        let file = br#"{"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":1,"shadow_run":false,"a":1,"a":2}"#;
        let world = World::new(0, Found::Corrupt(file.to_vec()));
        let last = br#"{"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":1,"shadow_run":false,"a":2}"#;
        let kept = lifecycle_model::record::decode(last).expect("valid");
        let loaded = Ok(Loaded {
            kind: None,
            record: Ok(kept),
        });
        let message = load(&world, &loaded).expect_err("a finding").message;
        assert!(
            message.starts_with(
                "load at 1970-01-01T00:00:00.000000Z of a corrupt file: the file breaks SPEC §1.6 item 7: an object has a duplicate member name (§1.1.5), at byte 147: "
            ),
            "{message}"
        );
        assert!(
            message.contains(r#"\"a\":1," »here« "\"a\":2}""#),
            "{message}"
        );
        assert!(
            message.ends_with(&format!(
                "; the whole file (153 bytes): {}",
                report::excerpt(file)
            )),
            "{message}"
        );
    }

    #[test]
    fn a_load_of_a_member_that_breaks_its_rule_shows_it_as_written() {
        let file = br#"{"current_state":"WAKE","since_ts":"2026-11-26T07:41:10-00:00","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":1,"shadow_run":false}"#;
        let corrupt = lifecycle_model::record::decode(file).expect_err("corrupt");
        assert_eq!(
            breaks(file, &corrupt),
            "SPEC §1.6 item 10: a known member breaks its rule in §1.2, §1.3 or §1.4: since_ts is \"2026-11-26T07:41:10-00:00\", which breaks §1.4"
        );
        let file = br#"{"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":1,"shadow_run":false,"quarantine":{"since_ts":"2024-01-01T00:00:00Z","reason":""}}"#;
        let corrupt = lifecycle_model::record::decode(file).expect_err("corrupt");
        assert_eq!(
            breaks(file, &corrupt),
            "SPEC §1.6 item 9: a required member (§1.2) is missing: quarantine.until_ts (quarantine is {\"since_ts\":\"2024-01-01T00:00:00Z\",\"reason\":\"\"}, without until_ts)"
        );
    }

    #[test]
    fn a_file_cut_short_is_placed_at_its_end() {
        let file = br#"{"current_state":"WA"#;
        let corrupt = lifecycle_model::record::decode(file).expect_err("corrupt");
        assert_eq!(
            breaks(file, &corrupt),
            r#"SPEC §1.6 item 4: the file is not exactly one JSON value (empty, cut short, followed by more than whitespace, or with whitespace outside §1.1.2), at byte 20, the end of the file: "{\"current_state\":\"WA" »here«"#
        );
    }

    #[test]
    fn the_requirements_let_a_writer_round_below_a_microsecond() {
        let world = World::new(0, Found::Missing).with_rules(Rules::Requirements);
        let a = record("2024-01-01T00:00:00.0000004Z", &[]);
        let b = record("2024-01-01T00:00:00.000000Z", &[]);
        let c = record("2024-01-01T00:00:00.000003Z", &[]);
        assert!(same_record(&world, &a, &b));
        assert!(!same_record(&world, &a, &c));
    }

    #[test]
    fn the_requirements_let_a_timestamp_made_from_now_be_a_coarser_clocks_reading_truncated() {
        let world = World::new(0, Found::Missing).with_rules(Rules::Requirements);
        let at = |fraction: &str| ts(&format!("2024-01-01T00:00:05{fraction}Z"));
        // A window from .1235 to .1247: a millisecond clock read .123 or
        // .124 in it, a whole-second clock 05.
        let (lo, hi) = (at(".1235"), at(".124700"));
        for o in [".123", ".124", ".1240", "", ".12", ".1246", ".1247001"] {
            assert!(same_timestamp(&world, &lo, &hi, true, &at(o)), "{o}");
        }
        // After the window (rounded up), or before it by its resolution.
        for o in [".125", ".122", ".13", ".1248", "04"] {
            let o = if o == "04" {
                ts("2024-01-01T00:00:04Z")
            } else {
                at(o)
            };
            assert!(
                !same_timestamp(&world, &lo, &hi, true, &o),
                "{}",
                o.as_str()
            );
        }
        // Given now (.1235): truncated to the digits written, not rounded.
        let now = at(".1235");
        assert!(same_timestamp(&world, &now, &now, true, &at(".123")));
        assert!(same_timestamp(&world, &now, &now, true, &at(".12")));
        assert!(!same_timestamp(&world, &now, &now, true, &at(".124")));
        // A timestamp copied from the file keeps its microseconds; this
        // project's SPEC wants them everywhere.
        assert!(!same_timestamp(&world, &now, &now, false, &at(".123")));
        let spec = World::new(0, Found::Missing);
        assert!(!same_timestamp(&spec, &lo, &hi, true, &at(".123")));
    }

    #[test]
    fn sections_follow_the_field_a_corrupt_file_breaks() {
        let of = |json: &str| {
            section_of(&lifecycle_model::record::decode(json.as_bytes()).expect_err("corrupt"))
        };
        let base = r#"{"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":1,"shadow_run":false}"#;
        assert_eq!(of(&base.replace("\"WAKE\"", "\"AWAKE\"")), "§1.2");
        assert_eq!(of(&base.replace(":1,", ":true,")), "§1.3");
        assert_eq!(
            of(&base.replace("00:00:00Z\",\"last", "00:00:00+01:00\",\"last")),
            "§1.4"
        );
        assert_eq!(of(&format!("\u{feff}{base}")), "§1.1.1");
        assert_eq!(of(&base.replace("{", "{\"a\":1,\"a\":1,")), "§1.1.5");
        assert_eq!(of(&base.replace(":1,", ":\"\\ud800\",")), "§1.1.3");
        assert_eq!(of(&base.replace(":1,", ":NaN,")), "§1.1.4");
    }
}
