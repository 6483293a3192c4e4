//! The driver's rules on requirements §7 against a small fake store: the
//! model itself, behind a clock of any resolution, with the choices a
//! conforming store may make and the faults one must not have.

use std::collections::BTreeMap;
use std::sync::Arc;

use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::record::decode;
use lifecycle_model::spec::{DIR_MODE, FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::{self, Failure as Expected, Found, LoadKind, WriterOp};
use lifecycle_model::{Record, Timestamp};

use super::*;
use crate::generate::op::{EventSpec, OpSpec};
use crate::subject::{Answer, Entry, Failure, Listing, Loaded, Subject, Written};
use crate::world::at_micros;

/// How the fake reads its clock.
#[derive(Clone, Copy, Debug)]
enum Clock {
    /// The reading truncated to this many fraction digits.
    Truncated(u32),
    /// The reading rounded up to this many fraction digits.
    RoundedUp(u32),
    /// The reading this many µs late, truncated to the microsecond.
    Late(i64),
}

/// What the fake does with a record to save that the model reads as valid
/// only on one side of requirements §7, or that holds an unpaired
/// surrogate.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Saves {
    /// As the model does: keeps it as written.
    AsTheModel,
    /// Refuses a record nested deeper than 128 levels, naming no field (a
    /// depth-limited JSON library).
    RefusesPast128Levels,
    /// Keeps `1e400` as the largest binary64 value.
    LargestDouble,
    /// Writes `1e400` as the string "Infinity".
    InfinityString,
    /// Writes an unpaired surrogate as the escape it came as.
    LoneSurrogateEscape,
    /// Reads an unpaired surrogate as U+FFFD, and saves that.
    LoneSurrogateReplaced,
    /// Rewrites every stored timestamp to milliseconds.
    MillisecondsEverywhere,
    /// Fails with an I/O error and writes nothing, though nothing is wrong
    /// with the disk.
    FailsWithIo,
}

/// The model behind a clock of some resolution.
struct Fake {
    takes_now: bool,
    clock: Clock,
    saves: Saves,
    file: Option<Vec<u8>>,
    /// Whether it offers the writer operations (else only load and the
    /// library save, as an adapter without the `machine` capability).
    machine: bool,
    /// Whether load answers the record with its event number one higher
    /// than the file's: a store whose load is wrong.
    loads_off_by_one: bool,
    /// Whether load reads a file on a point of requirements §7 on the
    /// other side from the model's: a lowercase `t` or `z` of a timestamp
    /// as uppercase, nesting deeper than 64 levels in an unknown member as
    /// corrupt.
    loads_other_side: bool,
    /// Whether it keeps its lock file (SPEC §4.5) once it has written.
    keeps_lock: bool,
    /// Whether, reading its own clock, it reads it 2 ms into the request:
    /// a slow store.
    slow: bool,
    /// The files beside the record, by name.
    others: BTreeMap<String, Vec<u8>>,
    /// Whether a directory is at the record path (then `file` is `None`).
    directory_at_path: bool,
    /// Whether it runs on a "simulated disk" of its own (`Simulation`),
    /// whose crashes and power losses keep the record, or lose it when
    /// `forgets`.
    simulated: bool,
    forgets: bool,
    /// How many disks its simulated disk says a crash or a power loss
    /// could leave (one, unless a test says more).
    recovered_states: u64,
    /// Whether its process died (a crash before the next call).
    dead: bool,
    /// Whether every load, save and writer operation leaves a file
    /// `litter` beside the record, whatever it answers: a store that
    /// writes where it must not.
    litters: bool,
    /// Whether a writer that loaded a readable file removes the stale temp
    /// files of this SPEC's names beside it (a SHOULD of SPEC §3.7).
    sweeps: bool,
}

impl Fake {
    fn new(takes_now: bool, clock: Clock) -> Fake {
        Fake {
            takes_now,
            clock,
            saves: Saves::AsTheModel,
            file: None,
            machine: true,
            loads_off_by_one: false,
            loads_other_side: false,
            keeps_lock: false,
            slow: false,
            others: BTreeMap::new(),
            directory_at_path: false,
            simulated: false,
            forgets: false,
            recovered_states: 1,
            dead: false,
            litters: false,
            sweeps: true,
        }
    }

    fn store_only(mut self) -> Fake {
        self.machine = false;
        self
    }

    fn saving(mut self, saves: Saves) -> Fake {
        self.saves = saves;
        self
    }

    /// What the fake reads as now: `given`, or the wall clock.
    fn reading(&self, given: &Timestamp) -> Timestamp {
        let micros = if self.takes_now {
            given.unix_micros().expect("a time of SPEC §1.4")
        } else {
            if self.slow {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            wall_micros()
        };
        match self.clock {
            Clock::Truncated(k) => written_with(micros, k, false),
            Clock::RoundedUp(k) => written_with(micros, k, true),
            Clock::Late(by) => at_micros(micros + by),
        }
    }

    fn found(&self) -> Found {
        if self.directory_at_path {
            return Found::Unreadable;
        }
        self.file.as_deref().map_or(Found::Missing, Found::of_bytes)
    }

    fn write_record(&mut self, record: &Record) {
        let mut text = String::from_utf8(record.encode()).expect("UTF-8");
        if self.saves == Saves::MillisecondsEverywhere {
            for ts in [&record.since_ts, &record.last_activity_ts] {
                let ms = written_with(ts.unix_micros().expect("a time"), 3, false);
                text = text.replace(ts.as_str(), ms.as_str());
            }
        }
        self.file = Some(text.into_bytes());
    }
}

/// The instant `micros` written with `k` fraction digits: truncated, or
/// rounded up.
fn written_with(micros: i64, k: u32, up: bool) -> Timestamp {
    let step = 10i64.pow(6 - k);
    let mut at = micros - micros.rem_euclid(step);
    if up && at != micros {
        at += step;
    }
    let text = at_micros(at).as_str().to_string();
    let fraction = &text[20..20 + k as usize];
    let dot = if k == 0 { "" } else { "." };
    Timestamp::parse(&format!("{}{dot}{fraction}Z", &text[..19])).expect("a timestamp")
}

impl Subject for Fake {
    fn takes_now(&self) -> bool {
        self.takes_now
    }

    fn offers(&self, _: &WriterOp) -> bool {
        self.machine
    }

    fn default_record(&mut self, now: &Timestamp) -> Result<Answer, Failure> {
        Ok(Ok(Record::default_at(&self.reading(now))))
    }

    fn write(&mut self, op: &WriterOp, now: &Timestamp) -> Result<Written, Failure> {
        if self.dead {
            return Err(Failure::Crashed {
                what: "the process died".into(),
            });
        }
        self.litter();
        let found = self.found();
        if let WriterOp::Save(record) = op {
            if !record.is_valid() {
                // Refused naming the field: a top-level name given twice,
                // or what the library save names.
                let mut seen = std::collections::BTreeSet::new();
                if let Some((twin, _)) = record.unknown.iter().find(|(name, _)| !seen.insert(name))
                {
                    return Err(Failure::InvalidRecord {
                        field: Some(twin.clone()),
                    });
                }
                let refused = self.save_json_as_the_model(&report::record_text(record));
                return Err(refused.expect_err("the model calls it invalid"));
            }
        }
        if self.sweeps && found != Found::Unreadable {
            self.others
                .retain(|name, _| !lifecycle_model::spec::is_temp_name(name));
        }
        match writer::operate(&found, op, &self.reading(now)) {
            Ok(outcome) => {
                if outcome.wrote {
                    self.write_record(&outcome.record);
                }
                Ok(Written {
                    record: Ok(outcome.record),
                    found: Some(found.kind()),
                    preserved_as: None,
                    wrote: Some(outcome.wrote),
                    shutdown: Some(outcome.shutdown),
                    transitioned: None,
                })
            }
            Err(Expected::Refused(r)) => Err(Failure::Refused(r)),
            Err(Expected::Overflow(_)) => Err(Failure::Overflow),
            Err(Expected::Unreadable) => Err(Failure::Io {
                errno: None,
                message: "unreadable".into(),
            }),
        }
    }

    fn save(&mut self, record: &Record) -> Result<(), Failure> {
        self.save_json(&report::record_text(record))
    }

    fn save_json(&mut self, json: &str) -> Result<(), Failure> {
        self.litter();
        if self.directory_at_path {
            return Err(Failure::Io {
                errno: Some(21), // EISDIR
                message: "Is a directory".into(),
            });
        }
        match self.saves {
            Saves::FailsWithIo => {
                return Err(Failure::Io {
                    errno: Some(5), // EIO
                    message: "Input/output error".into(),
                });
            }
            Saves::LoneSurrogateEscape => {
                self.file = Some(json.as_bytes().to_vec());
                return Ok(());
            }
            Saves::LoneSurrogateReplaced => {
                let text = json.replace("\\ud800", "\\ufffd");
                return self.save_json_as_the_model(&text);
            }
            Saves::RefusesPast128Levels if json.contains(&"[".repeat(129)) => {
                return Err(Failure::InvalidRecord { field: None });
            }
            Saves::LargestDouble => {
                return self
                    .save_json_as_the_model(&json.replace("1e400", "1.7976931348623157e308"));
            }
            Saves::InfinityString => {
                return self.save_json_as_the_model(&json.replace("1e400", "\"Infinity\""));
            }
            _ => {}
        }
        self.save_json_as_the_model(json)
    }

    fn load(&mut self, now: &Timestamp) -> Result<Loaded, Failure> {
        self.litter();
        let found = match self.found() {
            Found::Corrupt(data) if self.loads_other_side => {
                implementation_defined::as_valid(&data).map_or(Found::Corrupt(data), Found::Valid)
            }
            Found::Valid(_) if self.loads_other_side => {
                let data = self.file.clone().expect("a valid file");
                if implementation_defined::of_bytes(&data).is_empty() {
                    Found::of_bytes(&data)
                } else {
                    Found::Corrupt(data)
                }
            }
            found => found,
        };
        let mut record = found.loaded(&self.reading(now));
        if self.loads_off_by_one {
            record.wrapper_event_seq += 1;
        }
        Ok(Loaded {
            kind: Some(found.kind()),
            record: Ok(record),
        })
    }

    fn record_name(&self) -> &str {
        RECORD_FILE_NAME
    }

    fn entries(&self) -> Listing {
        let mut listing = BTreeMap::new();
        if self.directory_at_path {
            listing.insert(RECORD_FILE_NAME.to_string(), Entry::Dir { mode: DIR_MODE });
        }
        if self.keeps_lock && self.file.is_some() {
            listing.insert(
                lifecycle_model::spec::LOCK_FILE_NAME.to_string(),
                Entry::File {
                    mode: FILE_MODE,
                    data: Arc::new(Vec::new()),
                },
            );
        }
        for (name, data) in &self.others {
            listing.insert(
                name.clone(),
                Entry::File {
                    mode: FILE_MODE,
                    data: Arc::new(data.clone()),
                },
            );
        }
        if let Some(data) = &self.file {
            listing.insert(
                RECORD_FILE_NAME.to_string(),
                Entry::File {
                    mode: FILE_MODE,
                    data: Arc::new(data.clone()),
                },
            );
        }
        listing
    }

    fn dir_mode(&self) -> Option<u32> {
        Some(DIR_MODE)
    }

    fn put_file(&mut self, name: &str, data: &[u8], _: u32) {
        if name == RECORD_FILE_NAME {
            self.directory_at_path = false;
            self.file = Some(data.to_vec());
        } else {
            self.others.insert(name.to_string(), data.to_vec());
        }
    }

    fn simulation(&mut self) -> Option<&mut dyn Simulation> {
        if self.simulated {
            Some(self)
        } else {
            None
        }
    }

    fn put_dir(&mut self, name: &str) {
        assert_eq!(
            name, RECORD_FILE_NAME,
            "a directory goes at the record path"
        );
        self.file = None;
        self.directory_at_path = true;
    }

    fn remove(&mut self, name: &str) {
        if name == RECORD_FILE_NAME {
            self.directory_at_path = false;
            self.file = None;
        } else {
            self.others.remove(name);
        }
    }
}

/// Dies at once when told to crash; comes back with the record as it was,
/// or without it when it `forgets`.
impl Simulation for Fake {
    fn calls(&self) -> u64 {
        0
    }
    fn log(&self) -> Vec<lifecycle_model::persistence::Op> {
        Vec::new()
    }
    fn ops(&self) -> usize {
        0
    }
    fn disk(&self) -> lifecycle_model::persistence::Disk {
        lifecycle_model::persistence::Disk::default()
    }
    fn crash_before_call(&mut self, _: u64) {
        self.dead = true;
    }
    fn fail_call(&mut self, _: u64, _: Injected) {}
    fn clear_faults(&mut self) {}
    fn recover(&mut self, _: Crash, _: u64) -> Result<u64, String> {
        self.dead = false;
        if self.forgets {
            self.file = None;
        }
        Ok(self.recovered_states)
    }
}

impl Fake {
    fn litter(&mut self) {
        if self.litters {
            self.others.insert("litter".to_string(), Vec::new());
        }
    }

    fn save_json_as_the_model(&mut self, json: &str) -> Result<(), Failure> {
        let record = decode(json.as_bytes()).map_err(|corrupt| Failure::InvalidRecord {
            field: match corrupt {
                lifecycle_model::record::Corrupt::Invalid(f)
                | lifecycle_model::record::Corrupt::Missing(f) => Some(f),
                lifecycle_model::record::Corrupt::Raw(_) => None,
            },
        })?;
        self.write_record(&record);
        Ok(())
    }
}

/// 2024-06-01T12:00:05.123500Z: a reading a millisecond clock truncates
/// to .123 and rounding would take to .124.
const HALFWAY: i64 = 1_717_243_205_123_500;

fn driver(fake: Fake, now: i64, rules: Rules) -> Driver<Fake> {
    let initial = Initial {
        now_micros: now,
        file: Found::Missing,
    };
    Driver::judged_by(fake, &initial, rules)
}

fn dispatch(event: Event) -> WriterOp {
    let guards = Guards::default();
    WriterOp::Dispatch {
        event,
        guards,
        shadow_run: false,
    }
}

/// The driver, by requirements §7, of a fake given now (`HALFWAY`).
fn given_now(clock: Clock) -> Driver<Fake> {
    driver(Fake::new(true, clock), HALFWAY, Rules::Requirements)
}

/// Every operation that makes a timestamp from now, and a load after each.
fn every_timestamp_from_now(driver: &mut Driver<Fake>) -> Result<(), Finding> {
    driver.check_default()?;
    driver.after_step()?;
    for op in [
        dispatch(Event::HeartbeatRefresh),
        dispatch(Event::Idle5Min),
        WriterOp::Begin(2),
        WriterOp::StepFailed {
            step: 1,
            error: "e".into(),
            ttl_secs: 60,
        },
        WriterOp::StepFailed {
            step: 1,
            error: "e".into(),
            ttl_secs: 60,
        },
        WriterOp::StepFailed {
            step: 1,
            error: "e".into(),
            ttl_secs: 60,
        },
    ] {
        driver.write(&op)?;
        driver.after_step()?;
    }
    let quarantined = driver
        .world()
        .file
        .record()
        .is_some_and(|r| r.quarantine.is_some());
    assert!(
        quarantined,
        "the steps reach a quarantine (until_ts from now)"
    );
    Ok(())
}

#[test]
fn a_millisecond_clock_given_now_writes_now_truncated_and_conforms() {
    let mut d = given_now(Clock::Truncated(3));
    every_timestamp_from_now(&mut d).expect("a millisecond clock conforms");
    let written = d.world().file.record().expect("a record").clone();
    assert_eq!(
        written.last_activity_ts.as_str(),
        "2024-06-01T12:00:05.123Z"
    );
}

#[test]
fn a_load_that_answers_another_record_than_the_file_holds_is_caught() {
    let mut fake = Fake::new(true, Clock::Truncated(6));
    fake.loads_off_by_one = true;
    let mut d = driver(fake, HALFWAY, Rules::Requirements);
    d.write(&dispatch(Event::HeartbeatRefresh))
        .expect("the write itself is right");
    let finding = d.after_step().expect_err("the load is wrong");
    assert!(
        finding.message.contains("wrapper_event_seq"),
        "{}",
        finding.message
    );
    // A file spelled otherwise than the model writes it is shown as well.
    let spaced = with("").replace(",\"", ", \"");
    let mut fake = Fake::new(true, Clock::Truncated(6));
    fake.loads_off_by_one = true;
    let initial = Initial {
        now_micros: HALFWAY,
        file: Found::of_bytes(spaced.as_bytes()),
    };
    let mut d = Driver::judged_by(fake, &initial, Rules::Requirements);
    // The driver put the record as the model writes it: the spaced bytes
    // go back in.
    d.subject()
        .put_file(RECORD_FILE_NAME, spaced.as_bytes(), FILE_MODE);
    let finding = d.after_step().expect_err("the load is wrong");
    assert!(
        finding.message.contains(
            r#"the record path holds the file "{\"current_state\":\"WAKE\", \"since_ts\""#
        ),
        "{finding}"
    );
}

#[test]
fn a_millisecond_and_a_whole_second_clock_read_by_the_store_conform() {
    for k in [3, 0] {
        let mut d = driver(
            Fake::new(false, Clock::Truncated(k)),
            HALFWAY,
            Rules::Requirements,
        );
        every_timestamp_from_now(&mut d)
            .unwrap_or_else(|f| panic!("a clock of {k} digits conforms: {f}"));
    }
}

#[test]
fn a_whole_second_clock_given_now_conforms() {
    let mut d = given_now(Clock::Truncated(0));
    every_timestamp_from_now(&mut d).expect("a whole-second clock conforms");
}

#[test]
fn this_projects_spec_still_wants_the_microsecond() {
    let mut d = driver(Fake::new(true, Clock::Truncated(3)), HALFWAY, Rules::Spec);
    assert!(d.check_default().is_err());
    // Now read as the millisecond it falls in, written with six digits:
    // a coarser clock by the requirements, wrong by this project's SPEC.
    for (rules, conforms) in [(Rules::Requirements, true), (Rules::Spec, false)] {
        let mut d = driver(Fake::new(true, Clock::Late(-500)), HALFWAY, rules);
        let judged = d.write(&dispatch(Event::HeartbeatRefresh));
        assert_eq!(judged.is_ok(), conforms, "{rules:?}: {judged:?}");
    }
}

#[test]
fn a_timestamp_rounded_up_is_a_violation() {
    let mut d = given_now(Clock::RoundedUp(3));
    let finding = d.check_default().expect_err("rounded up");
    assert!(finding.message.contains("05.124Z"), "{finding}");
    let mut d = given_now(Clock::RoundedUp(3));
    let finding = d
        .write(&dispatch(Event::HeartbeatRefresh))
        .expect_err("rounded up");
    assert_eq!(finding.spec, "§4.3", "{finding}");
}

#[test]
fn a_timestamp_after_the_window_or_too_far_before_it_is_a_violation() {
    for late in [1_000, 2_000_000, -2_000] {
        let mut d = given_now(Clock::Late(late));
        assert!(d.check_default().is_err(), "{late} µs off, given now");
        let mut d = driver(
            Fake::new(false, Clock::Late(late * 1_000)),
            HALFWAY,
            Rules::Requirements,
        );
        assert!(
            d.write(&dispatch(Event::HeartbeatRefresh)).is_err(),
            "{} ms off, reading its own clock",
            late
        );
    }
}

#[test]
fn a_stored_timestamp_cut_to_milliseconds_is_a_violation_whatever_the_clock() {
    let mut d = driver(
        Fake::new(true, Clock::Truncated(3)).saving(Saves::MillisecondsEverywhere),
        HALFWAY,
        Rules::Requirements,
    );
    let record = Record {
        since_ts: Timestamp::parse("2020-01-01T00:00:00.123456Z").expect("a timestamp"),
        ..Record::default_at(&at_micros(HALFWAY))
    };
    let finding = d
        .library_save(&record)
        .expect_err("the stored timestamp changed");
    // The file holds another record than the one saved: its serialized
    // form is wrong (§3.2), first in the stored timestamp.
    assert_eq!(finding.spec, "§3.2", "{finding}");
    assert!(finding.how.starts_with("since_ts"), "{}", finding.how);
}

#[test]
fn a_millisecond_clock_decides_a_quarantine_at_its_own_reading() {
    let quarantined_until = |until: &str| {
        let json = format!(
            r#"{{"current_state":"WAKE","since_ts":"{until}","last_activity_ts":"{until}","wrapper_event_seq":0,"sleep_cycle_progress":null,"quarantine":{{"until_ts":"{until}","since_ts":"{until}","reason":"r"}},"shadow_run":false}}"#
        );
        Found::of_bytes(json.as_bytes())
    };
    // Over at now (.1235), not at the reading (.123): still quarantined
    // for a millisecond clock, which conforms.
    let between = quarantined_until("2024-06-01T12:00:05.123400Z");
    // Over two seconds before now: quarantined only for a clock three
    // seconds slow, which no resolution explains.
    let long_over = quarantined_until("2024-06-01T12:00:03.500000Z");
    for (file, clock, conforms) in [
        (between, Clock::Truncated(3), true),
        (long_over, Clock::Late(-3_000_000), false),
    ] {
        let initial = Initial {
            now_micros: HALFWAY,
            file,
        };
        let mut d = Driver::judged_by(Fake::new(true, clock), &initial, Rules::Requirements);
        let judged = d.write(&WriterOp::Begin(2));
        assert_eq!(judged.is_ok(), conforms, "{clock:?}: {judged:?}");
    }
}

/// A record with `extra` members added, as JSON text.
fn with(extra: &str) -> String {
    format!(
        r#"{{"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":3,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false{extra}}}"#
    )
}

/// A record with an unknown member nested 200 levels deep, as JSON text:
/// valid to the model, deeper than a JSON library limited to 128 levels
/// takes.
fn nested_200_deep() -> String {
    with(&format!(r#","x":{}{}"#, "[".repeat(200), "]".repeat(200)))
}

fn saving(saves: Saves) -> Driver<Fake> {
    driver(
        Fake::new(true, Clock::Truncated(6)).saving(saves),
        HALFWAY,
        Rules::Requirements,
    )
}

#[test]
fn a_json_library_that_refuses_deep_records_makes_a_choice_not_a_violation() {
    let deep = nested_200_deep();
    let record = decode(deep.as_bytes()).expect("valid here");
    let mut d = saving(Saves::RefusesPast128Levels);
    assert_eq!(
        d.save_on_a_point(&deep, &record),
        Ok(OnAPoint::Refused(None))
    );
    let mut d = saving(Saves::RefusesPast128Levels);
    d.library_save(&record).expect("a §7 choice");
    assert_eq!(d.choices().len(), 1, "{:?}", d.choices());
    let mut d = saving(Saves::AsTheModel);
    assert_eq!(
        d.save_on_a_point(&deep, &record),
        Ok(OnAPoint::Kept { exactly: true })
    );
    assert!(d.choices().is_empty());
    // This project's SPEC picks the side that keeps it.
    let fake = Fake::new(true, Clock::Truncated(6)).saving(Saves::RefusesPast128Levels);
    let mut d = driver(fake, HALFWAY, Rules::Spec);
    assert!(d.library_save(&record).is_err());
}

#[test]
fn a_load_or_a_refused_save_that_writes_a_file_is_caught() {
    let mut fake = Fake::new(true, Clock::Truncated(6)).saving(Saves::RefusesPast128Levels);
    fake.litters = true;
    let mut d = driver(fake, HALFWAY, Rules::Requirements);
    let finding = d.apply(&Transition::Load).expect_err("a load wrote");
    assert_eq!(finding.spec, "§2.2.5", "{finding}");
    d.subject().remove("litter");
    let record = decode(nested_200_deep().as_bytes()).expect("valid here");
    let finding = d.library_save(&record).expect_err("a refused save wrote");
    assert_eq!(finding.spec, "§3.1", "{finding}");
}

/// A fake on a simulated disk of its own, set up by `set`, after a
/// heartbeat it wrote.
fn simulated_after_a_heartbeat(set: impl FnOnce(&mut Fake)) -> Driver<Fake> {
    let mut fake = Fake::new(true, Clock::Truncated(6));
    fake.simulated = true;
    set(&mut fake);
    let mut d = driver(fake, HALFWAY, Rules::Spec);
    d.write(&dispatch(Event::HeartbeatRefresh))
        .expect("a record written");
    d
}

#[test]
fn a_store_that_loses_its_record_in_a_crash_or_a_power_loss_is_caught() {
    let heartbeat = dispatch(Event::HeartbeatRefresh);
    let written = |forgets: bool| simulated_after_a_heartbeat(|fake| fake.forgets = forgets);
    written(false).power_loss(512, 0).expect("the record kept");
    written(false)
        .crash(&heartbeat, 0, Crash::Process, 0)
        .expect("the record kept");
    let finding = written(true)
        .power_loss(512, 0)
        .expect_err("the record lost");
    assert!(finding.message.contains("after a power loss"), "{finding}");
    let finding = written(true)
        .crash(&heartbeat, 0, Crash::Process, 0)
        .expect_err("the record lost");
    assert!(finding.message.contains("after a crash"), "{finding}");
}

#[test]
fn a_recovery_that_could_leave_several_disks_is_counted_apart() {
    crate::coverage::set_label("driver-tests-recoveries");
    for (states, several) in [(1, 0), (2, 1), (3, 2)] {
        simulated_after_a_heartbeat(|fake| fake.recovered_states = states)
            .power_loss(512, 0)
            .expect("the record kept");
        let histogram = crate::coverage::histogram("driver-tests-recoveries");
        assert_eq!(
            histogram
                .get("recover/several_states")
                .copied()
                .unwrap_or(0),
            several,
            "after a recovery among {states}: {histogram:?}"
        );
    }
}

#[test]
fn a_save_over_a_directory_fails_and_must_write_nothing() {
    let record = Record::default_at(&at_micros(HALFWAY));
    // A fake with the locked save (`machine`) or the library save alone.
    let over_a_directory = |machine: bool, litters: bool| {
        let mut fake = Fake::new(true, Clock::Truncated(6));
        fake.machine = machine;
        let mut d = driver(fake, HALFWAY, Rules::Requirements);
        d.apply(&Transition::PutDirectory).expect("a directory put");
        d.subject().litters = litters;
        d.write(&WriterOp::Save(record.clone()))
    };
    for machine in [true, false] {
        over_a_directory(machine, false).expect("it failed and wrote nothing");
        let finding = over_a_directory(machine, true).expect_err("it wrote a file");
        assert_eq!(finding.spec, "§3.5.1", "{finding}");
        assert!(finding.message.contains("litter"), "{finding}");
    }
}

#[test]
fn an_invalid_record_on_a_point_may_be_refused_naming_any_field() {
    let bad = with(r#","wrapper_event_seq":true"#).replace(r#""wrapper_event_seq":3,"#, "");
    let on_a_point = bad.replace(r#""shadow_run":false"#, r#""shadow_run":false,"x":1e400"#);
    // The fake names wrapper_event_seq; the rule wanted is another field.
    let mut d = saving(Saves::AsTheModel);
    assert!(d.refused_save_json(&bad, Some("current_state")).is_err());
    let mut d = saving(Saves::AsTheModel);
    assert_eq!(
        d.refused_save_json(&on_a_point, Some("current_state")),
        Ok(Some("wrapper_event_seq".to_string()))
    );
    assert_eq!(d.choices().len(), 1, "{:?}", d.choices());
    // This project's SPEC picks a side: there the field is the field.
    let mut d = driver(Fake::new(true, Clock::Truncated(6)), HALFWAY, Rules::Spec);
    assert!(d
        .refused_save_json(&on_a_point, Some("current_state"))
        .is_err());
}

#[test]
fn a_number_past_binary64_comes_back_as_the_largest_double_or_a_violation() {
    let json = with(r#","x":1e400"#);
    let record = decode(json.as_bytes()).expect("valid here");
    assert_eq!(
        saving(Saves::LargestDouble).save_on_a_point(&json, &record),
        Ok(OnAPoint::Kept { exactly: false })
    );
    let finding = saving(Saves::InfinityString)
        .save_on_a_point(&json, &record)
        .expect_err("a string is a third outcome");
    assert_eq!(finding.spec, "§3.2", "{finding}");
    assert!(finding.message.contains("Infinity"), "{finding}");
}

#[test]
fn a_lone_surrogate_is_refused_or_never_reaches_the_file() {
    let json = with(r#","x":"\ud800""#);
    assert_eq!(
        saving(Saves::AsTheModel).save_with_a_lone_surrogate(&json),
        Ok(LoneSurrogate::Refused(None))
    );
    assert_eq!(
        saving(Saves::LoneSurrogateReplaced).save_with_a_lone_surrogate(&json),
        Ok(LoneSurrogate::Saved)
    );
    let finding = saving(Saves::LoneSurrogateEscape)
        .save_with_a_lone_surrogate(&json)
        .expect_err("a corrupt file");
    assert!(finding.message.contains("item 6"), "{finding}");
    assert!(
        finding
            .message
            .ends_with(r#"the record saved: {"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":3,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false,"x":"\ud800"}"#),
        "{finding}"
    );
}

#[test]
fn the_fake_is_the_model_at_its_reading() {
    let mut fake = Fake::new(true, Clock::Truncated(3));
    let now = at_micros(HALFWAY);
    assert_eq!(fake.load(&now).map(|l| l.kind), Ok(Some(LoadKind::Missing)));
    assert_eq!(
        written_with(HALFWAY, 3, true).as_str(),
        "2024-06-01T12:00:05.124Z"
    );
    assert_eq!(
        written_with(HALFWAY, 0, false).as_str(),
        "2024-06-01T12:00:05Z"
    );
}

#[test]
fn a_reproduction_lists_only_the_steps_that_ran() {
    let fake = Fake::new(true, Clock::Truncated(6)).store_only();
    let mut driver = driver(fake, HALFWAY, Rules::Requirements);
    driver.keep_journal();
    let tick = Transition::Write(OpSpec::Dispatch {
        event: EventSpec::Is(Event::Tick),
        guards: Guards::default(),
        shadow_run: false,
    });
    let skipped = driver.apply(&tick);
    assert!(matches!(skipped, Ok(Step::Skipped(_))), "{skipped:?}");
    driver
        .apply(&Transition::Load)
        .expect("a load as the model's");
    let journal = driver.journal();
    assert_eq!(journal.len(), 2, "{journal:?}");
    assert!(journal[0].starts_with("start: "), "{journal:?}");
    assert_eq!(journal[1], "load");
}

#[test]
fn a_reproduction_calls_a_save_locked_only_where_the_store_offers_the_locked_save() {
    use crate::generate::record::RecordSpec;
    let save = Transition::Write(OpSpec::Save(Box::new(RecordSpec::plain(
        lifecycle_model::State::Sleep,
    ))));
    for (machine, said) in [(true, "a locked save of "), (false, "save of ")] {
        let mut fake = Fake::new(true, Clock::Truncated(6));
        fake.machine = machine;
        let mut driver = driver(fake, HALFWAY, Rules::Requirements);
        driver.keep_journal();
        driver.apply(&save).expect("a save as the model's");
        let journal = driver.journal();
        assert_eq!(journal.len(), 2, "{journal:?}");
        assert!(journal[1].starts_with(said), "{journal:?}");
    }
}

#[test]
fn a_library_save_of_a_valid_record_that_fails_with_an_io_error_is_caught() {
    let record = Record::default_at(&at_micros(HALFWAY));
    saving(Saves::AsTheModel)
        .library_save(&record)
        .expect("the save as the model's");
    let finding = saving(Saves::FailsWithIo)
        .library_save(&record)
        .expect_err("nothing is wrong with the disk");
    assert!(finding.message.contains("Input/output error"), "{finding}");
}

#[test]
fn a_store_that_loads_a_file_on_a_point_on_the_other_side_makes_a_choice_not_a_violation() {
    let lowercase = with("").replace("T00:00:00Z", "t00:00:00z");
    let deep = nested_200_deep();
    for (text, model_reads_it_valid, read_as) in [
        (lowercase, false, "load read a file holding lowercase t or z in a timestamp as valid"),
        (deep, true, "load read a file holding nesting deeper than 64 levels inside an unknown member as corrupt"),
    ] {
        let file = Found::of_bytes(text.as_bytes());
        assert_eq!(file.record().is_some(), model_reads_it_valid, "{text}");
        for (other_side, rules, conforms) in [
            (false, Rules::Requirements, true),
            (true, Rules::Requirements, true),
            (false, Rules::Spec, true),
            (true, Rules::Spec, false),
        ] {
            let mut fake = Fake::new(true, Clock::Truncated(6));
            fake.loads_other_side = other_side;
            let initial = Initial {
                now_micros: HALFWAY,
                file: file.clone(),
            };
            let mut d = Driver::judged_by(fake, &initial, rules);
            let judged = d.after_step();
            let case = format!("{read_as}: other side {other_side}, {rules:?}");
            assert_eq!(judged.is_ok(), conforms, "{case}: {judged:?}");
            if !conforms {
                continue;
            }
            // The model follows the store's side, and says it chose one.
            assert_eq!(
                d.world().file.record().is_some(),
                model_reads_it_valid != other_side,
                "{case}"
            );
            let choices = d.choices();
            if other_side {
                assert_eq!(choices, [read_as], "{case}");
            } else {
                assert!(choices.is_empty(), "{case}: {choices:?}");
            }
        }
    }
}

#[test]
fn a_slow_store_reading_its_own_clock_is_judged_by_when_its_answer_came() {
    // It reads its clock 2 ms after the request was sent: a timestamp
    // within the request's window, though after the instant it was sent.
    let mut fake = Fake::new(false, Clock::Truncated(6));
    fake.slow = true;
    let mut d = driver(fake, HALFWAY, Rules::Requirements);
    d.write(&dispatch(Event::HeartbeatRefresh))
        .expect("a stamp inside the window conforms");
    d.after_step().expect("and loads back");
}

#[test]
fn a_store_that_keeps_its_lock_file_conforms() {
    let mut fake = Fake::new(true, Clock::Truncated(6));
    fake.keeps_lock = true;
    let mut d = driver(fake, HALFWAY, Rules::Requirements);
    every_timestamp_from_now(&mut d).expect("the lock file may stay");
    assert!(d
        .subject()
        .entries()
        .contains_key(lifecycle_model::spec::LOCK_FILE_NAME));
}

#[test]
fn a_file_set_from_outside_is_what_load_must_return_next() {
    let mut d = driver(Fake::new(true, Clock::Truncated(6)), HALFWAY, Rules::Spec);
    let record = with("");
    d.subject()
        .put_file(RECORD_FILE_NAME, record.as_bytes(), FILE_MODE);
    d.after_step()
        .expect_err("the driver still expects no file");
    d.set_file(Found::of_bytes(record.as_bytes()));
    d.after_step().expect("the driver expects the record put");
}

/// A heartbeat of a fake that `sweeps` or not, judged by `rules`, after a
/// stale temp file was put beside its record.
fn heartbeat_beside_a_stale_temp_file(sweeps: bool, rules: Rules) -> Result<(), Finding> {
    let mut fake = Fake::new(true, Clock::Truncated(6));
    fake.sweeps = sweeps;
    let mut d = driver(fake, HALFWAY, rules);
    d.write(&dispatch(Event::HeartbeatRefresh))?;
    d.apply(&Transition::StaleTemp(7))?;
    assert_eq!(d.subject().entries().len(), 2, "the record and a temp file");
    d.write(&dispatch(Event::HeartbeatRefresh))?;
    Ok(())
}

#[test]
fn a_store_that_leaves_stale_temp_files_diverges_from_the_spec_and_meets_the_requirements() {
    for rules in [Rules::Spec, Rules::Requirements] {
        heartbeat_beside_a_stale_temp_file(true, rules).expect("it sweeps");
    }
    let finding =
        heartbeat_beside_a_stale_temp_file(false, Rules::Spec).expect_err("it does not sweep");
    assert_eq!(
        (finding.spec, finding.level),
        ("§3.7", crate::finding::Level::Divergence),
        "{finding}"
    );
    heartbeat_beside_a_stale_temp_file(false, Rules::Requirements)
        .expect("the requirements name no temp file: one of this SPEC's names is no stale file of the store's");
}

#[test]
fn an_invalid_save_with_two_members_of_one_name_goes_only_to_a_locked_save() {
    use crate::generate::invalid::{InvalidSave, Level};
    let judged = |fake: Fake, kind: InvalidSave| {
        let mut d = driver(fake, HALFWAY, Rules::Requirements);
        match d.apply(&Transition::SaveInvalid(kind)) {
            Ok(Step::Judged) => true,
            Ok(Step::Skipped(why)) => {
                assert!(why.contains("only to a locked save"), "{why}");
                false
            }
            Err(finding) => panic!("{finding}"),
        }
    };
    let fake = || Fake::new(true, Clock::Truncated(6));
    let twice = || InvalidSave::DuplicateUnknown(Level::Top);
    assert!(judged(fake(), InvalidSave::SequenceTooLarge(0)));
    assert!(judged(fake(), twice()));
    assert!(judged(
        fake().store_only(),
        InvalidSave::SequenceTooLarge(0)
    ));
    assert!(!judged(fake().store_only(), twice()));
}

#[test]
fn the_clock_window_of_a_store_that_reads_its_own_clock_is_the_wall_clock() {
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros();
    let wall = u128::try_from(wall_micros()).expect("after 1970");
    assert!(
        wall.abs_diff(system) < 60_000_000,
        "{wall} against {system}"
    );
}

#[test]
fn the_histogram_counts_each_outcome_of_a_write_apart() {
    crate::coverage::set_label("driver-tests-outcomes");
    let sleeping = with("").replace("WAKE", "SLEEP");
    let initial = Initial {
        now_micros: HALFWAY,
        file: Found::of_bytes(sleeping.as_bytes()),
    };
    let fake = Fake::new(true, Clock::Truncated(6));
    let mut d = Driver::judged_by(fake, &initial, Rules::Requirements);
    let hibernate = WriterOp::Dispatch {
        event: Event::SleepCycleDone,
        guards: Guards {
            sleep_eligible: true,
            still_idle: true,
        },
        shadow_run: false,
    };
    d.write(&hibernate).expect("into hibernation");
    d.write(&dispatch(Event::HeartbeatRefresh))
        .expect("a heartbeat");
    d.write(&WriterOp::CycleDone).expect("no cycle runs");
    let histogram = crate::coverage::histogram("driver-tests-outcomes");
    assert_eq!(
        histogram.get("outcome/shutdown/Requested"),
        Some(&1),
        "{histogram:?}"
    );
    assert_eq!(histogram.get("outcome/wrote"), Some(&1), "{histogram:?}");
    assert_eq!(histogram.get("outcome/no_write"), Some(&1), "{histogram:?}");
    assert!(
        !histogram.contains_key("outcome/preserved_and_wrote"),
        "{histogram:?}"
    );
}
