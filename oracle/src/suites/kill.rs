//! `kill`: a save killed at each of its system calls.
//!
//! Promises: for each starting directory (none yet, an old record of mode
//! 0600, 0644, 0640 or 0666, a corrupt file, a directory made 0755, a
//! symlink to the old record or to nothing:
//! `traced::start::interrupted_starts`), the adapter's save of a new record
//! is recorded under the tracer and replayed once per call that touches the
//! case directory, with SIGKILL as the call is entered, and once more as
//! the first call after the last one is entered (the save's effects all
//! made, its reply not yet sent); see `traced::replay`. After each: the
//! record path must hold what it held before or the complete new record,
//! 0600 (SPEC §3.4.1, §3.6); a fresh adapter must load it as the model does
//! (§2); with the `machine` capability a `dispatch` of `tick` (the writer
//! that holds the lock) should remove what the killed save left (§3.7, a
//! SHOULD: a divergence); a later save must succeed and leave the new
//! record. Without `machine`, nothing in the protocol holds the lock and
//! SPEC says save never sweeps, so what a killed save left is counted in
//! the pass message, not judged. A file the killed save created exclusively
//! outside the case directory (a temp file or a probe in `$TMPDIR`) and
//! left there is a divergence (§3.3, as in `power`): no writer sweeps it.
//! The oracle removes it after judging.
//!
//! Every point is judged; the case reports its first finding (a violation
//! before a divergence) and how many other replays broke a rule.
//!
//! Does not promise: a file made outside the case directory by an open
//! without `O_EXCL` (it may have been there before the save).

use lifecycle_harness::subject::Subject;
use lifecycle_harness::world::at_micros;
use lifecycle_harness::Finding;
use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::spec::FILE_MODE;
use lifecycle_model::writer::WriterOp;

use crate::case::{Case, Judged, Planned, FIXED_NOW};
use crate::subject::AdapterSubject;
use crate::traced;
use crate::traced::held::{allowed, holds, Held};
use crate::traced::load::judge_load;
use crate::traced::record::{Recorded, Traced};
use crate::traced::replay::{found_at, interrupt_each, Replay};
use crate::traced::start::{interrupted_starts, new_record, StartingState};
use crate::tracer::Action;

/// The calls of the recorded save to kill at: every call that touches the
/// case directory, and the first call of the same thread after the last.
fn kill_points(recorded: &Recorded) -> Vec<(usize, Action)> {
    let mut points = recorded.touching.clone();
    if let Some(last) = points.last().and_then(|&i| recorded.trace.calls.get(i)) {
        if let Some(after) = recorded
            .trace
            .calls
            .iter()
            .skip(last.index + 1)
            .find(|c| c.pid == last.pid)
        {
            points.push(after.index);
        }
    }
    points.into_iter().map(|i| (i, Action::Kill)).collect()
}

fn tick() -> WriterOp {
    WriterOp::Dispatch {
        event: Event::Tick,
        guards: Guards::default(),
        shadow_run: false,
    }
}

fn unreadable(e: std::io::Error) -> Judged {
    Judged::Skipped(format!("the oracle could not read the record path: {e}"))
}

/// What the case directory holds after a replay, judged for a kill: what
/// the killed save left behind, when no writer of the adapter may sweep it.
fn judge_kill(
    case: &mut Case<'_>,
    start: StartingState,
    run: &Replay,
    recorded: &Recorded,
) -> Result<Vec<String>, Judged> {
    let new = new_record();
    let point = &run.point;
    let dir = &run.scope.dir;
    let held = Held::read(dir).map_err(unreadable)?;
    if let Err(broken) = allowed(&held, &start.held(), &new, false) {
        let message = format!(
            "after a SIGKILL during save: {}; the record path holds {}",
            broken.why,
            held.describe()
        );
        return Err(found_at(
            broken.violation(message),
            point,
            recorded,
            "then the record path is read",
        ));
    }
    if let Err(f) = judge_load(case.adapter, dir, &held) {
        return Err(found_at(
            f,
            point,
            recorded,
            &format!(
                "then a fresh adapter loads the record path, which holds {}",
                held.describe()
            ),
        ));
    }
    let left = run.leftovers();
    let mut subject = AdapterSubject::new(case.adapter, dir);
    let sweeps = subject.offers(&tick());
    if !left.is_empty() && sweeps {
        let now = at_micros(FIXED_NOW);
        if let Err(failure) = subject.write(&tick(), &now) {
            return Err(found_at(
                Finding::violation(
                    "§4.3",
                    "a dispatch after a killed save succeeds",
                    format!("a dispatch of tick after a killed save failed: {failure}"),
                ),
                point,
                recorded,
                &format!("the save left {}; then dispatch tick", left.join(", ")),
            ));
        }
        let now_there = run.scope.entries();
        let not_swept: Vec<String> = left
            .iter()
            .filter(|n| now_there.contains(*n))
            .cloned()
            .collect();
        if !not_swept.is_empty() {
            return Err(found_at(
                Finding::divergence(
                    "§3.7",
                    "the next writer holding the lock sweeps what a killed save left",
                    format!(
                        "the killed save left {} and the next dispatch (which holds the lock) did not remove it",
                        not_swept.join(", ")
                    ),
                ),
                point,
                recorded,
                "then dispatch tick by a fresh adapter",
            ));
        }
    }
    const LATER_SAVE: &str = "a save after a killed save succeeds and leaves its record";
    if let Err(failure) = subject.save(&new) {
        return Err(found_at(
            Finding::violation(
                "§3.3",
                LATER_SAVE,
                format!("a later save by a fresh adapter failed: {failure}"),
            ),
            point,
            recorded,
            "then a fresh adapter saves the new record again",
        ));
    }
    match Held::read(dir).map_err(unreadable)? {
        Held::File { mode, data } if mode == FILE_MODE && holds(&data, &new) => {}
        other => {
            let message = format!(
                "a later save by a fresh adapter returned success, but the record path holds {}",
                other.describe()
            );
            // A mode is the rule of modes, whichever save left it.
            let finding = match allowed(&other, &start.held(), &new, true) {
                Err(broken) if broken.spec == "§3.6" => broken.violation(message),
                _ => Finding::violation("§3.3", LATER_SAVE, message),
            };
            return Err(found_at(
                finding,
                point,
                recorded,
                "then a fresh adapter saves the new record again",
            ));
        }
    }
    if let Some(stray) = run.strays.first() {
        return Err(found_at(
            Finding::divergence(
                "§3.3",
                "a killed save leaves no file outside the record's directory, where no writer sweeps it",
                format!(
                    "the killed save left {}, a file outside the record's directory that no writer sweeps (a temp file beside the record would be swept, §3.7)",
                    stray.display()
                ),
            ),
            point,
            recorded,
            "then the files the save made outside the case directory are looked for",
        ));
    }
    Ok(if sweeps { Vec::new() } else { left })
}

fn run_case(case: &mut Case<'_>, command: Option<&str>, start: StartingState) -> Judged {
    let traced = match Traced::find(command) {
        Ok(traced) => traced,
        Err(judged) => return judged,
    };
    // Replays whose killed save left something no writer of the adapter
    // may sweep, and one such name.
    let mut left_behind: (usize, Option<String>) = (0, None);
    let interrupted = interrupt_each(case, &traced, start, kill_points, |case, run, recorded| {
        let left = judge_kill(case, start, run, recorded)?;
        if !left.is_empty() {
            left_behind.0 += 1;
            left_behind.1 = left_behind.1.take().or(left.into_iter().next());
        }
        Ok(None)
    });
    let judged = match interrupted {
        Ok(interrupted) => interrupted.judged("SIGKILL as the call is entered"),
        Err(judged) => return judged,
    };
    match (judged, left_behind) {
        (Judged::Pass(message), (runs, Some(example))) => Judged::Pass(format!(
            "{message}; {runs} killed saves left a file behind, such as {example} (not judged: without the machine capability no writer holds the lock, and save never sweeps, §3.7)"
        )),
        (judged, _) => judged,
    }
}

pub fn plan(command: Option<String>) -> Vec<Planned> {
    traced::per_start(
        "kill",
        "§3.4",
        &interrupted_starts(),
        "SIGKILL as it enters each of its calls in the case directory; the record path, a load, a later writer",
        command,
        run_case,
    )
}
