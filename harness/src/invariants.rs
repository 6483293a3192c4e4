//! What must hold on the record's directory, one function each.
//!
//! Promises, each returning a [`Finding`] when broken: the record file is
//! 0600 and the record's directory 0700 (SPEC §3.6), and, by this project's
//! SPEC, every other file the store keeps (copies, lock) 0600 too (§4.5.2);
//! a completed operation leaves no file behind but the record, its
//! sidecars (the lock file) and preserved copies (SPEC §3.5, §3.7), and a
//! writer that loaded a readable file sweeps stale temp files (a SHOULD,
//! §3.7); a writer that failed or was refused writes nothing: only a
//! sidecar may be new and, after a readable load, stale temp files gone
//! (SPEC §4.4.4, §5.1); the record file holds the record a writer says it
//! wrote (by this project's SPEC, its serialized form, §3.2), and is
//! unchanged when it says it wrote nothing (SPEC §4.6); a replaced corrupt
//! file's exact bytes are kept in a copy, and at most five copies remain
//! (SPEC §4.4); the sequence number never goes backwards across a dispatch
//! or sleep-cycle operation on a valid file (SPEC §4.3 step 3).
//!
//! Does not promise: which five copies are kept (the newest), nor anything
//! about files outside the record's directory. Names come from
//! `lifecycle_model::spec`, never from an implementation.

use lifecycle_model::spec::{self, CORRUPT_COPIES_KEPT, DIR_MODE, FILE_MODE};
use lifecycle_model::writer::{Found, WriterOp};

use crate::compare;
use crate::difference::Sides;
use crate::finding::Finding;
use crate::report::{excerpt, listing};
use crate::subject::{Answer, Entry, Listing};
use crate::world::{Rules, World};

/// Modes: the record file 0600 and the directory 0700 by any rules; by this
/// project's SPEC every file 0600 and every directory 0700.
pub fn files_are_private(
    rules: Rules,
    record_name: &str,
    entries: &Listing,
    dir_mode: Option<u32>,
) -> Result<(), Finding> {
    if let Some(mode) = dir_mode.filter(|m| *m != DIR_MODE) {
        return Err(Finding::violation(
            "§3.6",
            DIRECTORY_0700,
            format!("the record's directory has mode {mode:o}, not {DIR_MODE:o}"),
        )
        .broken_by(wider_or_narrower(mode, DIR_MODE)));
    }
    for (name, entry) in entries {
        if rules == Rules::Requirements && name != record_name {
            continue;
        }
        match entry {
            Entry::File { mode, .. } if *mode != FILE_MODE => {
                let (spec, rule) = if name == record_name {
                    ("§3.6", RECORD_0600)
                } else {
                    ("§4.5", "every file the store keeps has mode 0600")
                };
                return Err(Finding::violation(
                    spec,
                    rule,
                    format!("{name} has mode {mode:o}, not {FILE_MODE:o}"),
                )
                .broken_by(wider_or_narrower(*mode, FILE_MODE)));
            }
            Entry::Dir { mode } if *mode != DIR_MODE => {
                return Err(Finding::violation(
                    "§3.6",
                    DIRECTORY_0700,
                    format!("{name} has mode {mode:o}, not {DIR_MODE:o}"),
                )
                .broken_by(wider_or_narrower(*mode, DIR_MODE)))
            }
            _ => {}
        }
    }
    Ok(())
}

/// How a mode other than `wanted` breaks §3.6, in words that do not depend
/// on the case: a judge that knows the umask and the mode before says more
/// (`oracle::traced::held::mode_origin`).
pub fn wider_or_narrower(mode: u32, wanted: u32) -> String {
    if mode & !wanted != 0 {
        format!("a mode wider than {wanted:04o}")
    } else {
        format!("a mode narrower than {wanted:04o}")
    }
}

/// The rule of SPEC §3.6 for the record file, whoever judges it.
pub const RECORD_0600: &str = "the record file has mode 0600 whenever it is visible";
/// The rule of SPEC §3.6 for a directory, whoever judges it.
pub const DIRECTORY_0700: &str =
    "every directory a save makes has mode 0700, and is never more open than that";

/// Whether `name` is the record, a sidecar or a preserved copy: a file an
/// implementation may keep.
fn kept(name: &str, record_name: &str, sidecars: &[String]) -> bool {
    name == record_name
        || sidecars.iter().any(|s| s == name)
        || spec::is_corrupt_copy_of(name, record_name)
}

/// After a completed operation: no file is new but the record, a sidecar
/// or a preserved copy (SPEC §3.5, §3.7); and when `swept` (a writer that
/// loaded a readable file), no stale temp file remains (a SHOULD, §3.7).
pub fn no_temp_files_remain(
    record_name: &str,
    sidecars: &[String],
    before: &Listing,
    after: &Listing,
    swept: bool,
) -> Result<(), Finding> {
    let left: Vec<&String> = after
        .keys()
        .filter(|n| !before.contains_key(*n) && !kept(n, record_name, sidecars))
        .collect();
    if !left.is_empty() {
        return Err(Finding::violation(
            "§3.3",
            "a completed operation leaves no file but the record, its sidecars and preserved copies",
            format!("the operation left files behind: {}", names(&left)),
        ));
    }
    let stale: Vec<&String> = after.keys().filter(|n| spec::is_temp_name(n)).collect();
    if swept && !stale.is_empty() {
        return Err(Finding::divergence(
            "§3.7",
            "a writer that loaded a readable file sweeps stale temp files",
            format!(
                "stale temp files remain after a writer that loaded a readable file: {}",
                names(&stale)
            ),
        ));
    }
    Ok(())
}

fn names(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A writer that failed or was refused wrote nothing (SPEC §3.5.1 for a
/// save that failed, §3.1 for one refused, §5.1 for the operations of the
/// sleep cycle, §4.3 for a dispatch: `spec` says which): the
/// directory is as it was but for a new sidecar (SPEC §4.5.2: the lock file
/// is created when missing, never removed) and, when `may_sweep`, stale
/// temp files it swept after a readable load (SPEC §3.7, §4.3 step 2).
/// After an unreadable load nothing is swept (§4.4.4).
pub fn nothing_written(
    spec: &'static str,
    what: &str,
    sidecars: &[String],
    before: &Listing,
    after: &Listing,
    may_sweep: bool,
) -> Result<(), Finding> {
    let kept = |entries: &Listing| {
        let mut entries = entries.clone();
        entries.retain(|name, _| !sidecars.contains(name));
        if may_sweep {
            entries.retain(|name, _| !spec::is_temp_name(name));
        }
        entries
    };
    let new_temp = after
        .keys()
        .any(|name| spec::is_temp_name(name) && !before.contains_key(name));
    if kept(before) == kept(after) && !new_temp {
        return Ok(());
    }
    Err(Finding::violation(
        spec,
        "a writer that fails or is refused writes nothing",
        format!(
            "{what} changed the directory from {} to {}",
            listing(before),
            listing(after)
        ),
    ))
}

/// The record file after a writer that `wrote` with `record` in force: the
/// record written (by this project's SPEC, its serialized form), `before`
/// untouched otherwise.
pub fn record_file_holds(
    world: &World,
    record_name: &str,
    before: &Listing,
    after: &Listing,
    wrote: bool,
    record: &Answer,
) -> Result<(), Finding> {
    let now = after.get(record_name);
    if !wrote {
        if now == before.get(record_name) {
            return Ok(());
        }
        return Err(Finding::violation(
            "§4.6",
            "a writer that wrote nothing leaves the record file as it was",
            format!(
                "the writer wrote nothing by the SPEC, but the record file went from {} to {}",
                entry(before.get(record_name)),
                entry(now)
            ),
        ));
    }
    let Ok(record) = record else {
        // The answer itself was judged wrong already.
        return Ok(());
    };
    match (now, world.rules()) {
        (Some(Entry::File { data, .. }), Rules::Spec) => compare::serialized_form(data, record),
        (Some(Entry::File { data, .. }), Rules::Requirements) => {
            let held = lifecycle_model::record::decode(data);
            let written = crate::report::record(record);
            let message = match &held {
                Ok(held) if compare::same_record(world, record, held) => return Ok(()),
                Ok(held) => match compare::difference(
                    world,
                    &compare::Predicted::exactly(record),
                    held,
                    WRITTEN_AND_HELD,
                ) {
                    Some(differs) => format!(
                        "the record file holds another record than the one written: {differs}; it should hold {written}, it holds {}",
                        excerpt(data)
                    ),
                    None => format!(
                        "the record file should hold {written}, but holds {}",
                        excerpt(data)
                    ),
                },
                Err(corrupt) => format!(
                    "the record file holds a file that breaks {}, where it should hold {written}; {}",
                    compare::breaks(data, corrupt),
                    compare::whole_file(data)
                ),
            };
            // A file that is not the record written breaks its serialized
            // form (§3.2), or only the unknown members it was to keep (§1.5).
            let (spec, rule, how) = match &held {
                Ok(held) => match compare::how_records_differ(
                    world,
                    &compare::Predicted::exactly(record),
                    held,
                ) {
                    (how, true) => ("§1.5", compare::UNKNOWN_KEPT, how),
                    (how, false) => ("§3.2", HOLDS_WHAT_WAS_WRITTEN, how),
                },
                Err(corrupt) => (
                    "§3.2",
                    HOLDS_WHAT_WAS_WRITTEN,
                    compare::how_corrupt(corrupt),
                ),
            };
            Err(Finding::violation(spec, rule, message).broken_by(how))
        }
        (other, _) => Err(Finding::violation(
            "§3.3",
            HOLDS_WHAT_WAS_WRITTEN,
            format!(
                "the writer wrote, but the record path holds {}",
                entry(other)
            ),
        )),
    }
}

/// The sides of a difference between the record written and the file.
const WRITTEN_AND_HELD: Sides<'static> = Sides {
    ours: "the record written has",
    theirs: "the file holds",
};

const HOLDS_WHAT_WAS_WRITTEN: &str =
    "after a writer wrote, the record file holds the record it wrote";

/// A directory entry in a message.
pub fn entry(entry: Option<&Entry>) -> String {
    match entry {
        None => "nothing".to_string(),
        Some(e) => e.to_string(),
    }
}

/// `before` and `after` are the file around `op`.
pub fn sequence_never_goes_backwards(
    op: &WriterOp,
    before: &Found,
    after: &Found,
) -> Result<(), Finding> {
    if matches!(op, WriterOp::Save(_)) {
        return Ok(());
    }
    let (Some(b), Some(a)) = (before.record(), after.record()) else {
        // From a missing or corrupt file the writer starts over at the
        // default; `corrupt_bytes_are_preserved` covers what was lost.
        return Ok(());
    };
    if a.wrapper_event_seq >= b.wrapper_event_seq {
        return Ok(());
    }
    Err(Finding::violation(
        "§4.3",
        "wrapper_event_seq never goes backwards",
        format!(
            "wrapper_event_seq went from {} to {}",
            b.wrapper_event_seq, a.wrapper_event_seq
        ),
    ))
}

/// The writer replaced a corrupt file holding `bytes` and kept them as
/// `preserved_as`, a name in the record's directory (`None`: it did not
/// say which; some copy must hold them).
pub fn corrupt_bytes_are_preserved(
    record_name: &str,
    entries: &Listing,
    bytes: &[u8],
    preserved_as: Option<&str>,
) -> Result<(), Finding> {
    let holds = |data: &[u8]| data == bytes;
    match preserved_as {
        Some(name) if !spec::is_corrupt_copy_of(name, record_name) => {
            return Err(Finding::violation(
                "§4.4",
                PRESERVED,
                format!(
                    "the corrupt bytes were preserved as {name}, not as {}* ",
                    spec::corrupt_copy_prefix(record_name)
                ),
            ))
        }
        Some(name) => match entries.get(name) {
            Some(Entry::File { data, .. }) if holds(data) => {}
            Some(Entry::File { data, .. }) => {
                return Err(Finding::violation(
                    "§4.4",
                    PRESERVED,
                    format!(
                        "{name} holds {}, not the corrupt bytes {}",
                        excerpt(data),
                        excerpt(bytes)
                    ),
                ))
            }
            other => {
                return Err(Finding::violation(
                    "§4.4",
                    PRESERVED,
                    format!(
                        "the corrupt bytes were preserved as {name}, which is {}",
                        entry(other)
                    ),
                ))
            }
        },
        None => {
            let copy = entries.iter().any(|(name, e)| {
                spec::is_corrupt_copy_of(name, record_name)
                    && matches!(e, Entry::File { data, .. } if holds(data))
            });
            if !copy {
                return Err(Finding::violation(
                    "§4.4",
                    PRESERVED,
                    format!(
                        "the corrupt file {} was replaced, and no {}* copy holds its bytes",
                        excerpt(bytes),
                        spec::corrupt_copy_prefix(record_name)
                    ),
                ));
            }
        }
    }
    at_most_five_copies(record_name, entries)
}

const PRESERVED: &str =
    "a writer that replaces a corrupt file keeps its exact bytes in a copy beside the record";

pub fn at_most_five_copies(record_name: &str, entries: &Listing) -> Result<(), Finding> {
    let copies: Vec<&String> = entries
        .keys()
        .filter(|n| spec::is_corrupt_copy_of(n, record_name))
        .collect();
    if copies.len() <= CORRUPT_COPIES_KEPT {
        return Ok(());
    }
    Err(Finding::violation(
        "§4.4",
        "at most five corrupt copies remain",
        format!(
            "{} corrupt copies remain, more than {CORRUPT_COPIES_KEPT}: {}",
            copies.len(),
            names(&copies)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::subject::Entry;

    const RECORD: &str = spec::RECORD_FILE_NAME;
    const TEMP: &str = ".lifecycle_state.0123456789abcdef.tmp";

    fn file(mode: u32) -> Entry {
        Entry::File {
            mode,
            data: Arc::new(b"{}".to_vec()),
        }
    }

    fn listed(entries: &[(&str, Entry)]) -> Listing {
        entries
            .iter()
            .map(|(name, entry)| (name.to_string(), entry.clone()))
            .collect()
    }

    #[test]
    fn a_writer_that_wrote_nothing_must_leave_the_record_file_as_it_was() {
        let world = World::new(0, Found::Missing);
        let now = lifecycle_model::Timestamp::parse("2024-01-01T00:00:00Z").expect("a time");
        let answer: Answer = Ok(lifecycle_model::Record::default_at(&now));
        let before = listed(&[(RECORD, file(0o600))]);
        let changed = listed(&[(
            RECORD,
            Entry::File {
                mode: 0o600,
                data: Arc::new(b"{\"x\":1}".to_vec()),
            },
        )]);
        let holds =
            |after: &Listing| record_file_holds(&world, RECORD, &before, after, false, &answer);
        assert!(holds(&before).is_ok());
        let finding = holds(&changed).expect_err("the file changed");
        assert_eq!(finding.spec, "§4.6");
    }

    #[test]
    fn corrupt_bytes_said_to_be_preserved_must_be_in_a_corrupt_copy_of_that_name() {
        let copy = format!("{RECORD}{}20240601T000000Z", spec::CORRUPT_INFIX);
        let entries = listed(&[
            (RECORD, file(0o600)),
            (&copy, file(0o600)),
            ("backup", file(0o600)),
        ]);
        let preserved = |name| corrupt_bytes_are_preserved(RECORD, &entries, b"{}", name);
        assert!(preserved(Some(&copy)).is_ok());
        assert!(preserved(None).is_ok(), "some copy holds them");
        // Held by the record and by another file, but by no corrupt copy.
        let other_bytes = Entry::File {
            mode: 0o600,
            data: Arc::new(b"[]".to_vec()),
        };
        let elsewhere = listed(&[
            (RECORD, file(0o600)),
            ("backup", file(0o600)),
            (&copy, other_bytes),
        ]);
        assert!(corrupt_bytes_are_preserved(RECORD, &elsewhere, b"{}", None).is_err());
        let finding = preserved(Some("backup")).expect_err("not a corrupt copy's name");
        assert!(
            finding
                .message
                .starts_with("the corrupt bytes were preserved as backup, not as"),
            "{finding}"
        );
        let other = corrupt_bytes_are_preserved(RECORD, &entries, b"[]", Some(&copy))
            .expect_err("the copy holds other bytes");
        assert!(other.message.contains("not the corrupt bytes"), "{other}");
        let gone = format!("{RECORD}{}20240602T000000Z", spec::CORRUPT_INFIX);
        let missing = preserved(Some(&gone)).expect_err("no such copy");
        assert_eq!(
            missing.message,
            format!("the corrupt bytes were preserved as {gone}, which is nothing")
        );
    }

    #[test]
    fn five_corrupt_copies_may_remain_and_a_sixth_is_a_violation() {
        let copies: Vec<String> = (1..=6)
            .map(|n| format!("{RECORD}{}2024060{n}T000000Z", spec::CORRUPT_INFIX))
            .collect();
        let with = |n: usize| {
            let mut entries: Vec<(&str, Entry)> = vec![(RECORD, file(0o600))];
            entries.extend(copies[..n].iter().map(|c| (c.as_str(), file(0o600))));
            listed(&entries)
        };
        assert!(at_most_five_copies(RECORD, &with(5)).is_ok());
        let finding = at_most_five_copies(RECORD, &with(6)).expect_err("six copies");
        assert_eq!(finding.spec, "§4.4");
        assert!(
            finding.message.contains("6 corrupt copies"),
            "{}",
            finding.message
        );
    }

    /// The section of what `files_are_private` finds, if anything, and how
    /// the mode broke.
    fn modes(
        rules: Rules,
        entries: &[(&str, Entry)],
        dir: Option<u32>,
    ) -> Option<(&'static str, String)> {
        files_are_private(rules, RECORD, &listed(entries), dir)
            .err()
            .map(|f| (f.spec, f.how))
    }

    #[test]
    fn the_record_and_the_directory_are_private_by_any_rules_and_other_files_by_the_spec() {
        for rules in [Rules::Spec, Rules::Requirements] {
            assert_eq!(modes(rules, &[(RECORD, file(0o600))], Some(0o700)), None);
            assert_eq!(
                modes(rules, &[(RECORD, file(0o644))], None),
                Some(("§3.6", "a mode wider than 0600".to_string()))
            );
            assert_eq!(
                modes(rules, &[(RECORD, file(0o400))], None),
                Some(("§3.6", "a mode narrower than 0600".to_string()))
            );
            assert_eq!(
                modes(rules, &[(RECORD, file(0o600))], Some(0o750)),
                Some(("§3.6", "a mode wider than 0700".to_string()))
            );
        }
        let other = [(RECORD, file(0o600)), ("notes", file(0o644))];
        assert_eq!(
            modes(Rules::Spec, &other, None),
            Some(("§4.5", "a mode wider than 0600".to_string()))
        );
        assert_eq!(modes(Rules::Requirements, &other, None), None);
        let private = [(RECORD, file(0o600)), ("sub", Entry::Dir { mode: 0o700 })];
        assert_eq!(modes(Rules::Spec, &private, None), None);
        let sub = [(RECORD, file(0o600)), ("sub", Entry::Dir { mode: 0o755 })];
        assert_eq!(
            modes(Rules::Spec, &sub, None),
            Some(("§3.6", "a mode wider than 0700".to_string()))
        );
    }

    #[test]
    fn a_completed_operation_leaves_no_new_file_but_those_kept_and_a_writer_sweeps() {
        let sidecars = [spec::LOCK_FILE_NAME.to_string()];
        let before = listed(&[(RECORD, file(0o600)), ("old", file(0o600))]);
        let kept = listed(&[
            (RECORD, file(0o600)),
            ("old", file(0o600)),
            (spec::LOCK_FILE_NAME, file(0o600)),
        ]);
        assert!(no_temp_files_remain(RECORD, &sidecars, &before, &kept, true).is_ok());
        let mut left = kept.clone();
        left.insert("new".to_string(), file(0o600));
        left.insert("newer".to_string(), file(0o600));
        let found = no_temp_files_remain(RECORD, &sidecars, &before, &left, false)
            .expect_err("two files left");
        assert_eq!(found.spec, "§3.3");
        assert!(
            found
                .message
                .ends_with("the operation left files behind: new, newer"),
            "{found}"
        );
        // A stale temp file that was there before: a divergence only for a
        // writer that should have swept it.
        let mut stale_before = before.clone();
        stale_before.insert(TEMP.to_string(), file(0o600));
        let mut stale = kept.clone();
        stale.insert(TEMP.to_string(), file(0o600));
        assert!(no_temp_files_remain(RECORD, &sidecars, &stale_before, &stale, false).is_ok());
        let found = no_temp_files_remain(RECORD, &sidecars, &stale_before, &stale, true);
        assert_eq!(found.map_err(|f| f.spec), Err("§3.7"));
    }

    #[test]
    fn wrapper_event_seq_goes_backwards_only_through_a_save() {
        let base = lifecycle_model::Record::default_at(
            &lifecycle_model::Timestamp::parse("2024-01-01T00:00:00Z").expect("a time"),
        );
        let at = |seq: u64| {
            Found::Valid(lifecycle_model::Record {
                wrapper_event_seq: seq,
                ..base.clone()
            })
        };
        let heartbeat = WriterOp::Dispatch {
            event: lifecycle_model::Event::HeartbeatRefresh,
            guards: lifecycle_model::Guards::default(),
            shadow_run: false,
        };
        assert!(sequence_never_goes_backwards(&heartbeat, &at(5), &at(5)).is_ok());
        assert!(sequence_never_goes_backwards(&heartbeat, &at(5), &at(6)).is_ok());
        assert!(sequence_never_goes_backwards(&heartbeat, &Found::Missing, &at(0)).is_ok());
        let finding =
            sequence_never_goes_backwards(&heartbeat, &at(5), &at(4)).expect_err("backwards");
        assert_eq!(finding.message, "wrapper_event_seq went from 5 to 4");
        let save = WriterOp::Save(base.clone());
        assert!(sequence_never_goes_backwards(&save, &at(5), &at(0)).is_ok());
    }

    #[test]
    fn a_writer_that_failed_changed_nothing_but_a_new_lock_and_what_it_may_sweep() {
        let sidecars = [spec::LOCK_FILE_NAME.to_string()];
        let before = listed(&[(RECORD, file(0o600)), (TEMP, file(0o600))]);
        let judge = |after: &[(&str, Entry)], may_sweep: bool| {
            nothing_written(
                "§3.5.1",
                "the save",
                &sidecars,
                &before,
                &listed(after),
                may_sweep,
            )
            .is_ok()
        };
        assert!(judge(&[(RECORD, file(0o600)), (TEMP, file(0o600))], false));
        assert!(judge(
            &[
                (RECORD, file(0o600)),
                (TEMP, file(0o600)),
                (spec::LOCK_FILE_NAME, file(0o600))
            ],
            false
        ));
        // The stale temp file swept: only when it may be.
        assert!(judge(&[(RECORD, file(0o600))], true));
        assert!(!judge(&[(RECORD, file(0o600))], false));
        // A new temp file, or the record changed: never.
        let other_temp = ".lifecycle_state.fedcba9876543210.tmp";
        assert!(!judge(
            &[
                (RECORD, file(0o600)),
                (TEMP, file(0o600)),
                (other_temp, file(0o600))
            ],
            true
        ));
        assert!(!judge(&[(RECORD, file(0o644)), (TEMP, file(0o600))], false));
    }
}
