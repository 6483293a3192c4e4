//! `vectors`: the data suite: every conformance vector through load, the
//! valid ones through save and load again, the invalid records through
//! save, the default record, and the path states of SPEC §2.
//!
//! Promises, one case each:
//! - `vectors/default`: the default record of SPEC §1.7;
//! - `vectors/load/<vector>`: load returns the stored record of a valid
//!   file and the default of a corrupt one, as the model reads the bytes; a
//!   file on a point of requirements §7 may go either way and its case says
//!   which (`info`); a corrupt file accepted as a record is reported under
//!   the rule the file breaks;
//! - `vectors/roundtrip/<vector>`: a valid vector's record saved, then
//!   loaded: the same record, unknown members kept (SPEC §1.5, §3.2), the
//!   file 0600; and each vector on a point of requirements §7 that is a
//!   record on some side (a leap second, year 0000, lowercase `t`/`z`,
//!   integers past 2^53−1, `1e400`, numbers of more than 4,300 digits,
//!   nesting past 64 levels in an unknown member), its text handed to save:
//!   refused as invalid naming any field or none, or saved and loaded back
//!   as itself (numbers kept exactly or as the nearest binary64 value),
//!   reported as `info` saying which; a crash, an `errored` reply, a file
//!   the SPEC calls corrupt, the default or a changed value back is a
//!   finding. Only vectors nested at most [`REQUEST_DEPTH`] deep: a request
//!   is read by the adapter's own JSON reader, which the SPEC does not bind
//!   (deeper files are judged through load);
//! - `vectors/save_invalid/<vector>`: a corrupt vector whose JSON breaks
//!   only the rules of the record (SPEC §1.6 items 9 and 10), and records
//!   past 2^53−1 or 1 MiB, handed to save: refused naming the field, the
//!   directory as it was (SPEC §3.1); one that also holds a point of
//!   requirements §7 may be refused naming any field or none, and is
//!   reported as `info`; a corrupt vector whose only fault is an unpaired
//!   surrogate escape in a string value (SPEC §1.1.3): refused naming any
//!   field or none, or saved into a file that is not corrupt (`info`: the
//!   implementation's JSON reader left no surrogate), never into one that
//!   holds it;
//! - `vectors/path/<state>`: load of a missing file, a directory, a FIFO,
//!   a dangling symlink, a symlink to a valid file or to a device, and an
//!   unreadable file (skipped when the check runs as root, who reads any
//!   file); a device (`/dev/null`) passes as unreadable, as the SPEC says,
//!   or as corrupt, an empty file (requirements §2 name no case for it);
//! - `vectors/load_reports_outcome`: whether load says what it found (a
//!   SHOULD, reported once rather than on every vector).
//!
//! Does not promise: anything about writers; the traces, machine and sleep
//! suites judge them.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, DirBuilderExt, PermissionsExt};
use std::path::Path;

use lifecycle_harness::canonical;
use lifecycle_harness::compare::{self, section_of};
use lifecycle_harness::driver::{LoneSurrogate, OnAPoint};
use lifecycle_harness::generate::invalid::InvalidSave;
use lifecycle_harness::invariants;
use lifecycle_harness::report;
use lifecycle_harness::subject::Subject;
use lifecycle_harness::{Driver, Initial};
use lifecycle_harness::{Finding, Rules};
use lifecycle_model::implementation_defined::{self, Point};
use lifecycle_model::record::{decode, Corrupt};
use lifecycle_model::spec::{DIR_MODE, FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::{Found, LoadKind};
use lifecycle_model::Record;

use crate::case::{record, stamp, Case, Judged, Planned, FIXED_NOW};
use crate::subject::AdapterSubject;
use crate::vectors::{without_lone_surrogates, Expected, Vector};

/// The deepest nesting a round trip hands to a save: past the 64 levels of
/// requirements §7 and the 128 of common JSON libraries' limits, short of
/// the ~1,000 where some languages' readers (Python's) stop reading a
/// request at all.
pub const REQUEST_DEPTH: usize = 256;

/// Makes the case's directory, 0700, so a save does not have to.
fn prepare(dir: &Path) {
    let _ = fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir);
}

pub fn plan(vectors: &[Vector], now: i64) -> Vec<Planned> {
    let mut cases = vec![Planned::new(
        "vectors/default",
        "§1.7",
        "default",
        move |case| {
            let initial = Initial {
                now_micros: now,
                file: Found::Missing,
            };
            Judged::pass_unless(case.driver(&initial).check_default(), "the default record")
        },
    )];
    for v in vectors {
        cases.push(load_case(v, now));
    }
    for v in vectors {
        match (&v.expected, decode(&v.bytes)) {
            (Expected::Valid, Ok(record)) => cases.push(roundtrip_case(&v.name, record, now)),
            (Expected::ImplementationDefined(points), _) => {
                cases.extend(roundtrip_on_a_point(v, points, now));
            }
            _ => {}
        }
    }
    for v in vectors {
        if let Some(case) = save_invalid_vector(v, now) {
            cases.push(case);
        }
    }
    let on_points = record(&format!(
        r#"{{"current_state":"WAKE","since_ts":"2016-12-31T23:59:60Z","last_activity_ts":"{t}","wrapper_event_seq":3,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x":1e400}}"#,
        t = stamp(now - 60_000_000)
    ));
    for (name, kind, base) in [
        (
            "seq_2_pow_53",
            InvalidSave::SequenceTooLarge(0),
            base_record(now),
        ),
        (
            "attempt_2_pow_53",
            InvalidSave::AttemptTooLarge(0),
            base_record(now),
        ),
        (
            "last_completed_step_u64_max",
            InvalidSave::LastCompletedStepTooLarge(u64::MAX),
            base_record(now),
        ),
        (
            "serialized_form_over_1_mib",
            InvalidSave::Oversize,
            base_record(now),
        ),
        (
            "seq_2_pow_53_with_a_leap_second_and_1e400",
            InvalidSave::SequenceTooLarge(0),
            on_points.clone(),
        ),
    ] {
        let (bad, field) = kind.build(&base);
        let json = report::record_text(&bad);
        cases.push(save_invalid_case(name, json, field, now));
    }
    cases.extend(path_cases(now));
    cases.push(outcome_case(now));
    cases
}

fn base_record(now: i64) -> Record {
    record(&format!(
        r#"{{"current_state":"WAKE","since_ts":"{t}","last_activity_ts":"{t}","wrapper_event_seq":3,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}}"#,
        t = stamp(now - 60_000_000)
    ))
}

fn load_case(v: &Vector, now: i64) -> Planned {
    let bytes = v.bytes.clone();
    let expected = v.expected.clone();
    // A cut excerpt says the length itself.
    let reproduction = if bytes.len() <= report::SHOWN {
        format!(
            "the record file holds {} ({} bytes); load",
            report::excerpt(&bytes),
            bytes.len()
        )
    } else {
        format!("the record file holds {}; load", report::excerpt(&bytes))
    };
    let spec = match decode(&bytes) {
        Err(corrupt) => section_of(&corrupt),
        Ok(_) => "§2.1",
    };
    Planned::new(
        format!("vectors/load/{}", v.name),
        spec,
        reproduction,
        move |case| {
            let initial = Initial {
                now_micros: now,
                file: Found::Corrupt(bytes.clone()),
            };
            match expected {
                Expected::ImplementationDefined(points) => {
                    either_side(case, &initial, &bytes, &points)
                }
                _ => {
                    let mut driver = case.driver(&initial);
                    let (world, loaded) = driver.ask(|s, now| s.load(now));
                    Judged::pass_unless(
                        compare::load_of(&world, Some(&bytes), &loaded),
                        "load returns what the model reads",
                    )
                }
            }
        },
    )
}

/// A file on a point of requirements §7: the stored record or the default
/// both conform; anything else does not.
fn either_side(
    case: &mut Case<'_>,
    initial: &Initial,
    bytes: &[u8],
    points: &[implementation_defined::Point],
) -> Judged {
    let valid = implementation_defined::as_valid(bytes);
    {
        let mut driver = case.driver(initial);
        let (world, loaded) = driver.ask(|s, now| s.load(now));
        let as_corrupt = world.with_file(Found::Corrupt(bytes.to_vec()));
        let on = points
            .iter()
            .map(|p| p.describe())
            .collect::<Vec<_>>()
            .join("; ");
        if compare::load(&as_corrupt, &loaded).is_ok() {
            return Judged::Info(format!("reads it as corrupt ({on})"));
        }
        if let Some(record) = &valid {
            let as_valid = world.with_file(Found::Valid(record.clone()));
            if compare::load(&as_valid, &loaded).is_ok() {
                // Requirements §7 asks which: a number kept as written, or
                // as the nearest binary64 value (both compare equal).
                let exactly = match &loaded {
                    Ok(l) => l
                        .record
                        .as_ref()
                        .is_ok_and(|r| compare::unknown_kept_exactly(record, r)),
                    Err(_) => true,
                };
                let kept = if exactly {
                    "keeps it as written"
                } else {
                    "keeps it with its numbers as the nearest binary64 values"
                };
                return Judged::Info(format!("reads it as valid and {kept} ({on})"));
            }
        }
        let returned = match &loaded {
            Ok(l) => match &l.record {
                Ok(r) => report::record(r),
                Err(not) => format!("something that is not a record: {not}"),
            },
            Err(failure) => failure.to_string(),
        };
        let spec = if loaded.is_err() { "§2.2.4" } else { "§2.1" };
        Judged::Found(Finding::violation(
            spec,
            "on a point requirements §7 leaves open, load returns the stored record or the default",
            format!(
                "on a point requirements §7 leaves open ({on}), load must return the stored record or the default; it returned {returned}"
            ),
        ))
    }
}

/// The case `vectors/roundtrip/<name>`: `judge` runs with a driver on an
/// empty directory (made 0700, so a save does not have to) at `now`;
/// `text` is the record it saves, for the reproduction.
fn roundtrip_planned(
    name: &str,
    text: &str,
    now: i64,
    judge: impl for<'c> FnOnce(&mut Driver<AdapterSubject<'c>>) -> Judged + Send + 'static,
) -> Planned {
    let reproduction = format!("save of {}; then load", report::excerpt(text.as_bytes()));
    Planned::new(
        format!("vectors/roundtrip/{name}"),
        "§3.2",
        reproduction,
        move |case| {
            prepare(&case.dir);
            let initial = Initial {
                now_micros: now,
                file: Found::Missing,
            };
            judge(&mut case.driver(&initial))
        },
    )
}

/// The record file a round trip left, and its directory, are private
/// (SPEC §3.6).
fn private(driver: &mut Driver<AdapterSubject<'_>>) -> Result<(), Finding> {
    let subject = driver.subject();
    invariants::files_are_private(
        Rules::Requirements,
        RECORD_FILE_NAME,
        &subject.entries(),
        subject.dir_mode(),
    )
}

fn roundtrip_case(name: &str, saved: Record, now: i64) -> Planned {
    let text = report::record_text(&saved);
    roundtrip_planned(name, &text, now, move |driver| {
        let (_, answer) = driver.ask(|s, _| s.save(&saved));
        if let Err(failure) = answer {
            return Judged::Found(compare::valid_save_failed(
                format!(
                    "save of the valid record {} failed: {failure}",
                    report::record(&saved)
                ),
                &failure,
            ));
        }
        let (world, loaded) = driver.ask(|s, now| s.load(now));
        let world = world.with_file(Found::Valid(saved.clone()));
        if let Err(f) = compare::load(&world, &loaded) {
            let without_unknown = |r: &Record| {
                let mut r = r.clone();
                r.unknown.clear();
                if let Some(p) = r.sleep_cycle_progress.as_mut() {
                    p.unknown.clear();
                }
                if let Some(q) = r.quarantine.as_mut() {
                    q.unknown.clear();
                }
                r
            };
            let unknown_lost = match loaded.as_ref().map(|l| &l.record) {
                Ok(Ok(r)) => {
                    compare::same_record(&world, &without_unknown(&saved), &without_unknown(r))
                }
                _ => false,
            };
            let (spec, rule, what) = if unknown_lost {
                (
                    "§1.5",
                    "unknown members survive a save and a load",
                    "unknown members did not survive a save and a load",
                )
            } else {
                (
                    "§3.2",
                    "a load of a saved valid record returns that record",
                    "a load of a saved valid record must return that record",
                )
            };
            return Judged::Found(Finding {
                spec,
                rule,
                ..f.during(what)
            });
        }
        Judged::pass_unless(private(driver), "saved and loaded back")
    })
}

/// The round trip of a vector on a point of requirements §7 that is a
/// record on some side, its text (made one line) handed to save; none for
/// a vector nested deeper than [`REQUEST_DEPTH`].
fn roundtrip_on_a_point(v: &Vector, points: &[Point], now: i64) -> Option<Planned> {
    let record = implementation_defined::as_valid(&v.bytes)?;
    let json = String::from_utf8(canonical::compact(&v.bytes)).ok()?;
    if implementation_defined::nesting(&json) > REQUEST_DEPTH {
        return None;
    }
    let on = described(points);
    let text = json.clone();
    Some(roundtrip_planned(
        &v.name,
        &text,
        now,
        move |driver| match driver.save_on_a_point(&json, &record) {
            Err(finding) => Judged::Found(finding),
            Ok(OnAPoint::Refused(field)) => Judged::Info(format!(
                "refused as an invalid record {}: a §7 choice, on {on}",
                naming(field.as_deref())
            )),
            Ok(OnAPoint::Kept { exactly }) => match private(driver) {
                Err(finding) => Judged::Found(finding),
                Ok(()) => Judged::Info(format!(
                    "saved and loaded back {}: a §7 choice, on {on}",
                    if exactly {
                        "as written"
                    } else {
                        "with its numbers as binary64 values"
                    }
                )),
            },
        },
    ))
}

/// Points of requirements §7 in its words.
fn described(points: &[Point]) -> String {
    points
        .iter()
        .map(|p| p.describe())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The field a refusal named, in words.
fn naming(field: Option<&str>) -> String {
    match field {
        Some(field) => format!("naming {field}"),
        None => "naming no field".to_string(),
    }
}

/// A corrupt vector whose text is a JSON object breaking only a rule of
/// the record, or holding an unpaired surrogate escape and nothing else
/// wrong, as a save request can carry it.
fn save_invalid_vector(v: &Vector, now: i64) -> Option<Planned> {
    // Not a file on a point of requirements §7: a save may accept it.
    if v.expected != Expected::Corrupt {
        return None;
    }
    let field = match decode(&v.bytes) {
        Err(Corrupt::Missing(field) | Corrupt::Invalid(field)) => field,
        Err(Corrupt::Raw(_)) => return lone_surrogate_vector(v, now),
        Ok(_) => return None,
    };
    let value: serde_json::Value = serde_json::from_slice(&v.bytes).ok()?;
    value.as_object()?;
    let json = String::from_utf8(canonical::compact(&v.bytes)).ok()?;
    Some(save_invalid_case(&v.name, json, Some(field), now))
}

/// A corrupt vector whose only fault is an unpaired surrogate escape
/// (SPEC §1.1.3) in a string value: it is a record once each is spelled
/// `\ufffd`. Not one in a member name: an implementation that names the
/// member in its refusal's message sends a reply the oracle's JSON reader
/// cannot read (it holds the surrogate too).
fn lone_surrogate_vector(v: &Vector, now: i64) -> Option<Planned> {
    let fixed = without_lone_surrogates(&v.bytes).filter(|r| !r.in_a_name)?;
    decode(&fixed.bytes).ok()?;
    let json = String::from_utf8(canonical::compact(&v.bytes)).ok()?;
    Some(save_invalid_planned(&v.name, json, now, |driver, json| {
        let judged = driver
            .save_with_a_lone_surrogate(json)
            .and_then(|saved| driver.after_step().map(|()| saved));
        match judged {
            Err(finding) => Judged::Found(finding),
            Ok(LoneSurrogate::Refused(_)) => Judged::Pass("refused, nothing touched".into()),
            Ok(LoneSurrogate::Saved) => Judged::Info(
                "saved into a valid file: the implementation's JSON reader left no unpaired surrogate in the record".into(),
            ),
        }
    }))
}

fn save_invalid_case(name: &str, json: String, field: Option<String>, now: i64) -> Planned {
    let points = implementation_defined::of_text(json.as_bytes());
    save_invalid_planned(name, json, now, move |driver, json| {
        let judged = driver
            .refused_save_json(json, field.as_deref())
            .and_then(|named| driver.after_step().map(|()| named));
        match judged {
            Err(finding) => Judged::Found(finding),
            Ok(_) if points.is_empty() => Judged::Pass("refused, nothing touched".into()),
            Ok(named) => Judged::Info(format!(
                "refused {}, nothing touched; the record also holds {}, on which requirements §7 lets a save refuse naming any field",
                naming(named.as_deref()),
                described(&points)
            )),
        }
    })
}

/// The case `vectors/save_invalid/<name>`: `judge` runs with a driver on a
/// directory holding a valid record at `now`, and the record `json` that
/// breaks SPEC §1.
fn save_invalid_planned(
    name: &str,
    json: String,
    now: i64,
    judge: impl for<'c> FnOnce(&mut Driver<AdapterSubject<'c>>, &str) -> Judged + Send + 'static,
) -> Planned {
    let reproduction = format!(
        "the record file holds a valid record; save of {}",
        report::excerpt(json.as_bytes())
    );
    // A save that wrote the record broke the rule of §1 its text breaks,
    // as a load that read such a file does: one group of the report.
    let breaks = decode(json.as_bytes()).err();
    Planned::new(
        format!("vectors/save_invalid/{name}"),
        "§3.1",
        reproduction,
        move |case| {
            let initial = Initial {
                now_micros: now,
                file: Found::Valid(base_record(now)),
            };
            judge(&mut case.driver(&initial), &json).relabel(|f| match &breaks {
                Some(corrupt) if f.rule == compare::SAVED_INVALID => Finding {
                    spec: section_of(corrupt),
                    rule: compare::NOT_A_RECORD,
                    ..f.broken_by(compare::how_corrupt(corrupt))
                },
                _ => f,
            })
        },
    )
}

/// `path` made a FIFO.
fn mkfifo(path: &Path) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("a path with a NUL byte"))?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call;
    // mkfifo(3) reads it and keeps no pointer.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn running_as_root() -> bool {
    // SAFETY: geteuid(2) takes no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// One path state of SPEC §2: what is put at the record path, and what the
/// model reads there.
struct PathState {
    name: &'static str,
    what: &'static str,
    make: fn(&Path) -> std::io::Result<()>,
    file: fn(i64) -> Found,
    /// Another reading that conforms too, and what it is: requirements §2
    /// names no case for a device, which reads as an empty file without
    /// an error, so "corrupt" is as true as the SPEC's "unreadable".
    also: Option<OtherReading>,
}

/// A reading of a path state other than the SPEC's, and why it conforms.
struct OtherReading {
    file: fn(i64) -> Found,
    why: &'static str,
}

fn path_states() -> Vec<PathState> {
    vec![
        PathState {
            name: "missing_directory",
            what: "the record's directory does not exist",
            make: |_| Ok(()),
            file: |_| Found::Missing,
            also: None,
        },
        PathState {
            name: "missing",
            what: "the record's directory is empty",
            make: |dir| fs::DirBuilder::new().mode(DIR_MODE).create(dir),
            file: |_| Found::Missing,
            also: None,
        },
        PathState {
            name: "directory",
            what: "a directory at the record path",
            make: |dir| {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(dir.join(RECORD_FILE_NAME))
            },
            file: |_| Found::Unreadable,
            also: None,
        },
        PathState {
            name: "fifo",
            what: "a FIFO at the record path, with no writer",
            make: |dir| {
                fs::DirBuilder::new().mode(DIR_MODE).create(dir)?;
                mkfifo(&dir.join(RECORD_FILE_NAME))
            },
            file: |_| Found::Unreadable,
            also: None,
        },
        PathState {
            name: "dangling_symlink",
            what: "a symlink at the record path to a file that does not exist",
            make: |dir| {
                fs::DirBuilder::new().mode(DIR_MODE).create(dir)?;
                symlink(dir.join("nowhere.json"), dir.join(RECORD_FILE_NAME))
            },
            file: |_| Found::Missing,
            also: None,
        },
        PathState {
            name: "symlink_to_valid_file",
            what: "a symlink at the record path to a valid record file",
            make: |dir| {
                fs::DirBuilder::new().mode(DIR_MODE).create(dir)?;
                let target = dir.join("target.json");
                fs::write(&target, base_record(FIXED_NOW).encode())?;
                fs::set_permissions(&target, fs::Permissions::from_mode(FILE_MODE))?;
                symlink(&target, dir.join(RECORD_FILE_NAME))
            },
            file: |_| Found::Valid(base_record(FIXED_NOW)),
            also: None,
        },
        PathState {
            name: "symlink_to_device",
            what: "a symlink at the record path to /dev/null",
            make: |dir| {
                fs::DirBuilder::new().mode(DIR_MODE).create(dir)?;
                symlink("/dev/null", dir.join(RECORD_FILE_NAME))
            },
            file: |_| Found::Unreadable,
            also: Some(OtherReading {
                file: |_| Found::Corrupt(Vec::new()),
                why: "load read the device as an empty file, corrupt; requirements §2 do not say which case a device is",
            }),
        },
        PathState {
            name: "unreadable_file",
            what: "a valid record file of mode 000",
            make: |dir| {
                fs::DirBuilder::new().mode(DIR_MODE).create(dir)?;
                let path = dir.join(RECORD_FILE_NAME);
                fs::write(&path, base_record(FIXED_NOW).encode())?;
                fs::set_permissions(&path, fs::Permissions::from_mode(0o000))
            },
            file: |_| Found::Unreadable,
            also: None,
        },
    ]
}

fn path_cases(now: i64) -> Vec<Planned> {
    path_states()
        .into_iter()
        .map(|state| {
            let reproduction = format!("{}; load", state.what);
            let spec = if state.name == "fifo" {
                "§2.2"
            } else {
                "§2.1"
            };
            Planned::new(
                format!("vectors/path/{}", state.name),
                spec,
                reproduction,
                move |case| {
                    if state.name == "unreadable_file" && running_as_root() {
                        return Judged::Skipped(
                            "the check runs as root, who can read a file of mode 000".into(),
                        );
                    }
                    let initial = Initial {
                        now_micros: now,
                        file: Found::Missing,
                    };
                    let dir = case.dir.clone();
                    let mut driver = case.driver(&initial);
                    if let Err(e) = (state.make)(&dir) {
                        return Judged::Skipped(format!(
                            "the oracle could not make the path state: {e}"
                        ));
                    }
                    driver.set_file((state.file)(now));
                    let mut judged = driver.after_step();
                    let mut message = "load returns what the model expects";
                    if let (Err(_), Some(also)) = (&judged, &state.also) {
                        // Judged again against the other reading, by
                        // another load: a pass when that one holds.
                        driver.set_file((also.file)(now));
                        if driver.after_step().is_ok() {
                            (judged, message) = (Ok(()), also.why);
                        }
                    }
                    Judged::pass_unless(judged, message).relabel(|f| match (state.name, f.spec) {
                        ("fifo", "§2.2.4") => Finding {
                            spec: "§2.2.2",
                            rule: "load does not block on a FIFO",
                            ..f.during("load must not block on a FIFO (§2.2.2)")
                        },
                        _ => f,
                    })
                },
            )
        })
        .collect()
}

fn outcome_case(now: i64) -> Planned {
    Planned::new(
        "vectors/load_reports_outcome",
        "§2.1",
        "load of a missing file, then of a corrupt one: does load say which case happened?",
        move |case| {
            let initial = Initial {
                now_micros: now,
                file: Found::Missing,
            };
            let mut driver = case.driver(&initial);
            let (_, missing) = driver.ask(|s, now| s.load(now));
            driver
                .subject()
                .put_file(RECORD_FILE_NAME, b"{\"current_state\":", FILE_MODE);
            let (_, corrupt) = driver.ask(|s, now| s.load(now));
            let kinds: Vec<Option<LoadKind>> = [missing, corrupt]
                .iter()
                .map(|l| l.as_ref().ok().and_then(|l| l.kind))
                .collect();
            match kinds.as_slice() {
                [Some(_), Some(_)] => Judged::Pass("load says which case happened".into()),
                _ => Judged::Found(Finding::divergence(
                    "§2.1",
                    "load says what it found: valid, missing, corrupt or unreadable",
                    "load does not say which case happened (valid, missing, corrupt or unreadable): a caller cannot tell a missing file from a corrupt one",
                )),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_invalid_record_breaks_the_record_and_only_it() {
        for kind in [
            InvalidSave::SequenceTooLarge(0),
            InvalidSave::AttemptTooLarge(0),
            InvalidSave::LastCompletedStepTooLarge(u64::MAX),
            InvalidSave::Oversize,
        ] {
            let (bad, _) = kind.build(&base_record(0));
            assert!(!bad.is_valid(), "{kind:?}");
            let text = report::record_text(&bad);
            assert!(!text.contains('\n'));
        }
    }
}
