//! `power`: every disk a power loss may leave during a save, loaded.
//!
//! Promises: for each starting directory (none yet, an empty one, an old
//! record of mode 0600, 0644, 0640 or 0666, a directory made 0755, a
//! symlink to the old record or to nothing: `traced::start::STARTS` but
//! the corrupt file), the adapter's save of a new record is recorded
//! under strace and turned into the persistence model's op log
//! (`syscalls`). Then, for a power loss after every prefix of that log
//! and for 512- and 4096-byte blocks, every disk `model::persistence`
//! allows is judged: the record path must hold the complete old record
//! (nothing, when there was none) or the complete new one, 0600; once the
//! whole save has run (it returned success), only the new one (SPEC §3.4);
//! and a disk that holds a new file outside the record's directory, where
//! no writer would ever sweep it, is a divergence (§3.3: requirements §7
//! lets a save make its temp file in another directory of the same file
//! system, but nobody can clean up after it there), reported only when
//! the case breaks no MUST.
//! Each distinct file the record path may hold is also materialized in a
//! fresh directory and loaded through the adapter, which must read it as
//! the model does. A finding shows the op log, with the strace line of
//! each operation and where the power went.
//!
//! Does not promise: states a real file system could reach that the model
//! does not allow (its rules are in `model/README.md`); a save whose calls
//! the model cannot hold is `skipped`, naming the call.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lifecycle_harness::Finding;
use lifecycle_model::persistence::{self, Crash, CrashSpace, Disk, Node, Op};
use lifecycle_model::Record;

use crate::case::{Case, Judged, Planned};
use crate::traced;
use crate::traced::held::{allowed, materialize, Held, Link};
use crate::traced::load::judge_load;
use crate::traced::op_log::op_log_text;
use crate::traced::record::{record_save, Recorded, Traced};
use crate::traced::start::{new_record, starts_without, StartingState};

/// The block sizes a power loss may tear writes at.
const BLOCKS: [usize; 2] = [512, 4096];

/// What the crash space of a save holds: every distinct thing the record
/// path may hold, with where it first appears, and the first file a power
/// loss may leave outside the record's directory.
struct Judgeable {
    seen: BTreeMap<Held, (usize, usize)>,
    stray: Option<Finding>,
}

/// The first disk of the crash space that breaks a MUST, else what it
/// holds.
fn judge_states(recorded: &Recorded, old: &Held, new: &Record) -> Result<Judgeable, Judged> {
    let record_path = recorded.record_path.as_str();
    let ops: Vec<Op> = recorded.ops.iter().map(|t| t.op.clone()).collect();
    let mut seen: BTreeMap<Held, (usize, usize)> = BTreeMap::new();
    let mut stray_found: Option<Finding> = None;
    for cut in 0..=ops.len() {
        for block in BLOCKS {
            let space = CrashSpace::new(
                &recorded.before,
                &ops[..cut],
                Crash::PowerLoss { block_size: block },
            )
            .map_err(|e| {
                Judged::OracleFailed(format!("the persistence model rejects the op log: {e}"))
            })?;
            for disk in space.states() {
                if stray_found.is_none() {
                    if let Some(stray) = stray_file(&disk, &recorded.before, record_path) {
                        stray_found = Some(
                            Finding::divergence(
                                "§3.3",
                                "a power loss leaves no file of a save outside the record's directory, where no writer sweeps it",
                                format!(
                                    "a power loss after operation {cut} of {} ({block}-byte blocks) may leave {stray}, a file outside the record's directory that no writer sweeps (a temp file beside the record would be swept, §3.7)",
                                    ops.len()
                                ),
                            )
                            .reproduced_by(power_went(recorded, cut)),
                        );
                    }
                }
                let held = Held::of(&disk, record_path);
                if seen.contains_key(&held) && cut < ops.len() {
                    continue;
                }
                if let Err(broken) = allowed(&held, old, new, cut == ops.len()) {
                    let when = if cut == ops.len() {
                        "after the save returned".to_string()
                    } else {
                        format!("after operation {cut} of {}", ops.len())
                    };
                    let message = format!(
                        "a power loss {when} ({block}-byte blocks): {}, but it may leave {} at the record path",
                        broken.why,
                        held.describe()
                    );
                    return Err(Judged::Found(
                        broken
                            .violation(message)
                            .reproduced_by(power_went(recorded, cut)),
                    ));
                }
                seen.entry(held).or_insert((cut, block));
            }
        }
    }
    Ok(Judgeable {
        seen,
        stray: stray_found,
    })
}

/// The op log, marked where the power went.
fn power_went(recorded: &Recorded, cut: usize) -> String {
    format!(
        "the op log of the save, as strace recorded it:\n{}",
        op_log_text(recorded, Some(cut), "the power goes here")
    )
}

/// A file of `disk` that was not there `before`, outside the directory
/// of `record_path`.
fn stray_file(disk: &Disk, before: &Disk, record_path: &str) -> Option<String> {
    let dir = record_path.rsplit_once('/').map_or("", |(d, _)| d);
    disk.nodes.iter().find_map(|(path, node)| {
        let outside = path
            .rsplit_once('/')
            .is_none_or(|(parent, _)| parent != dir);
        (matches!(node, Node::File { .. }) && outside && !before.nodes.contains_key(path))
            .then(|| path.clone())
    })
}

fn power_case(case: &mut Case<'_>, command: Option<&str>, start: StartingState) -> Judged {
    let traced = match Traced::find(command) {
        Ok(traced) => traced,
        Err(judged) => return judged,
    };
    let new = new_record();
    let old = start.held();
    let recorded = match record_save(case, &traced, start, None) {
        Ok(r) => r,
        Err(judged) => return judged,
    };
    let Judgeable { seen, stray } = match judge_states(&recorded, &old, &new) {
        Ok(judgeable) => judgeable,
        Err(judged) => return judged,
    };
    // Each distinct record file, loaded through the adapter as it is.
    for (n, held) in seen.keys().enumerate() {
        let fresh: PathBuf = case.fresh_dir().join(format!("state-{n}"));
        if let Err(e) = materialize(&fresh, held) {
            return Judged::Skipped(format!("the oracle could not materialize a state: {e}"));
        }
        if let Err(f) = judge_load(case.adapter, &fresh, held) {
            return Judged::Found(f.reproduced_by(format!(
                "the record path holds {} after a power loss during the save; load\nthe op log of the save:\n{}",
                held.describe(),
                op_log_text(&recorded, None, "")
            )));
        }
    }
    if let Some(stray) = stray {
        return Judged::Found(stray);
    }
    let message = format!(
        "{} operations, {} distinct record files a power loss may leave: each the old or the new record",
        recorded.ops.len(),
        seen.len()
    );
    if !start.is_symlink() {
        return Judged::Pass(message);
    }
    let ops: Vec<Op> = recorded.ops.iter().map(|t| t.op.clone()).collect();
    match persistence::apply(&recorded.before, &ops) {
        Ok(after) => Judged::Info(format!(
            "{message}; of a symlink at the record path (requirements §7) the save {}",
            Link::of(&after, &recorded.record_path).side_taken()
        )),
        Err(e) => Judged::OracleFailed(format!("the persistence model rejects the op log: {e}")),
    }
}

pub fn plan(command: Option<String>) -> Vec<Planned> {
    traced::per_start(
        "power",
        "§3.4",
        // A corrupt file is replaced as an old record is; `kill` and
        // `faults` start from one.
        &starts_without(&[StartingState::CorruptFile]),
        "every disk a power loss may leave, loaded",
        command,
        power_case,
    )
}
