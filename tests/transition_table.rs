//! The whole lifecycle transition table (SPEC §4.2) and the per-event
//! bookkeeping of dispatch (SPEC §4.3 steps 3-5 and 7).
//!
//! Every case is one (state, event, guards) triple: 4 states × 9 events ×
//! 4 guard combinations = 144. The expected target of each case comes from
//! [`EXPECTED`], a table copied by hand from SPEC §4.2; nothing in this file
//! asks the crate's `next_state` what the answer should be.

use std::path::{Path, PathBuf};

use lifecycle_state::machine::{dispatch, next_state, Applied};
use lifecycle_state::persist;
use lifecycle_state::store::Found;
use lifecycle_state::{
    Clock, Event, Guards, ManualClock, Options, Progress, Quarantine, RawJson, RealFs, Record,
    Shutdown, State, Store, Timestamp,
};

/// When a row of SPEC §4.2 fires.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Not in the table: a no-op for the state.
    Stay,
    /// Fires whatever the guards say.
    Always(&'static str),
    /// Fires only with the `sleep_eligible` guard.
    IfSleepEligible(&'static str),
    /// Fires only with the `still_idle` guard.
    IfStillIdle(&'static str),
}

use Rule::{Always, IfSleepEligible, IfStillIdle, Stay};

/// SPEC §4.2, written out for every (state, event) pair by hand.
const EXPECTED: [(&str, &str, Rule); 36] = [
    ("WAKE", "heartbeat_refresh", Stay),
    ("WAKE", "idle_5min", Always("DROWSY")),
    ("WAKE", "idle_30min", Stay),
    ("WAKE", "sleep_eligible", Stay),
    ("WAKE", "request_arrived", Always("WAKE")),
    ("WAKE", "sleep_cycle_done", Stay),
    ("WAKE", "hibernation_grace_expired", Stay),
    ("WAKE", "wake_signal", Stay),
    ("WAKE", "tick", Stay),
    ("DROWSY", "heartbeat_refresh", Always("WAKE")),
    ("DROWSY", "idle_5min", Stay),
    ("DROWSY", "idle_30min", IfSleepEligible("SLEEP")),
    ("DROWSY", "sleep_eligible", Stay),
    ("DROWSY", "request_arrived", Always("WAKE")),
    ("DROWSY", "sleep_cycle_done", Stay),
    ("DROWSY", "hibernation_grace_expired", Stay),
    ("DROWSY", "wake_signal", Stay),
    ("DROWSY", "tick", Stay),
    ("SLEEP", "heartbeat_refresh", Stay),
    ("SLEEP", "idle_5min", Stay),
    ("SLEEP", "idle_30min", Stay),
    ("SLEEP", "sleep_eligible", Stay),
    ("SLEEP", "request_arrived", Always("WAKE")),
    ("SLEEP", "sleep_cycle_done", IfStillIdle("HIBERNATION")),
    ("SLEEP", "hibernation_grace_expired", Stay),
    ("SLEEP", "wake_signal", Stay),
    ("SLEEP", "tick", Stay),
    ("HIBERNATION", "heartbeat_refresh", Stay),
    ("HIBERNATION", "idle_5min", Stay),
    ("HIBERNATION", "idle_30min", Stay),
    ("HIBERNATION", "sleep_eligible", Stay),
    ("HIBERNATION", "request_arrived", Always("WAKE")),
    ("HIBERNATION", "sleep_cycle_done", Stay),
    ("HIBERNATION", "hibernation_grace_expired", Stay),
    ("HIBERNATION", "wake_signal", Always("WAKE")),
    ("HIBERNATION", "tick", Stay),
];

/// SPEC §4.3 step 3: the events that count as wrapper activity.
const ACTIVITY_EVENTS: [&str; 3] = ["heartbeat_refresh", "request_arrived", "wake_signal"];

/// SPEC §4.1: the four guard combinations (sleep_eligible, still_idle).
const GUARD_SETS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

const STORED_TS: &str = "2024-01-01T00:00:00Z";
const ACTIVITY_TS: &str = "2024-02-01T08:30:00.5+00:00";
const NOW: &str = "2024-05-01T12:00:00Z";
const START_SEQ: u64 = 41;

/// One (state, event, guards) case with its hand-written expectation.
#[derive(Clone, Copy, Debug)]
struct Case {
    from: &'static str,
    event: &'static str,
    sleep_eligible: bool,
    still_idle: bool,
    to: &'static str,
}

impl Case {
    fn state(&self) -> State {
        state_named(self.from)
    }

    fn target(&self) -> State {
        state_named(self.to)
    }

    fn event(&self) -> Event {
        Event::from_name(self.event)
            .unwrap_or_else(|| panic!("{} is an event of SPEC §4.1", self.event))
    }

    fn guards(&self) -> Guards {
        Guards {
            sleep_eligible: self.sleep_eligible,
            still_idle: self.still_idle,
        }
    }

    fn is_activity(&self) -> bool {
        ACTIVITY_EVENTS.contains(&self.event)
    }

    fn changes_state(&self) -> bool {
        self.from != self.to
    }
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} + {} (sleep_eligible={}, still_idle={})",
            self.from, self.event, self.sleep_eligible, self.still_idle
        )
    }
}

fn state_named(name: &str) -> State {
    match name {
        "WAKE" => State::Wake,
        "DROWSY" => State::Drowsy,
        "SLEEP" => State::Sleep,
        "HIBERNATION" => State::Hibernation,
        other => panic!("{other} is not a state of SPEC §1.2"),
    }
}

/// All 144 cases, expanded from [`EXPECTED`].
fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (from, event, rule) in EXPECTED {
        for (sleep_eligible, still_idle) in GUARD_SETS {
            let to = match rule {
                Stay => from,
                Always(to) => to,
                IfSleepEligible(to) if sleep_eligible => to,
                IfStillIdle(to) if still_idle => to,
                IfSleepEligible(_) | IfStillIdle(_) => from,
            };
            cases.push(Case {
                from,
                event,
                sleep_eligible,
                still_idle,
                to,
            });
        }
    }
    cases
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A stored record in `state` with every optional part filled in, so that a
/// change to any member the event must not touch shows up.
fn stored_record(state: State, shadow_run: bool) -> Record {
    Record {
        current_state: state,
        since_ts: ts(STORED_TS),
        last_activity_ts: ts(ACTIVITY_TS),
        wrapper_event_seq: START_SEQ,
        sleep_cycle_progress: Some(Progress {
            last_completed_step: Some(2),
            attempt: Some(2),
            last_error: Some(Some("disk busy".to_string())),
            started_at: Some(ts(STORED_TS)),
            unknown: vec![("note".to_string(), RawJson::parse("[1,2.50]").unwrap())],
        }),
        quarantine: Some(Quarantine {
            until_ts: ts("2023-12-31T00:00:00Z"),
            since_ts: ts("2023-12-30T00:00:00Z"),
            reason: "old".to_string(),
            unknown: Vec::new(),
        }),
        shadow_run,
        unknown: vec![("extra".to_string(), RawJson::parse("1e400").unwrap())],
    }
}

/// The record SPEC §4.3 steps 3-5 require after `case` on `before` at `now`.
fn expected_record(before: &Record, case: &Case, shadow_run: bool, now: &Timestamp) -> Record {
    let mut after = before.clone();
    if case.is_activity() {
        after.wrapper_event_seq += 1;
        after.last_activity_ts = now.clone();
    }
    after.shadow_run = shadow_run;
    if case.changes_state() {
        after.current_state = case.target();
        after.since_ts = now.clone();
    }
    after
}

/// SPEC §4.3 step 7, from the case alone.
fn expected_shutdown(case: &Case, shadow_run: bool) -> Shutdown {
    match (
        case.to == "HIBERNATION" && case.from != "HIBERNATION",
        shadow_run,
    ) {
        (false, _) => Shutdown::None,
        (true, false) => Shutdown::Requested,
        (true, true) => Shutdown::WouldRequest,
    }
}

fn apply(case: &Case, stored_shadow: bool, shadow_run: bool) -> (Record, Applied) {
    let before = stored_record(case.state(), stored_shadow);
    let applied = dispatch(&before, case.event(), case.guards(), shadow_run, &ts(NOW))
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    (before, applied)
}

/// Fails once with every case where `check` returned a complaint.
fn check_all(mut check: impl FnMut(&Case) -> Option<String>) {
    let cases = all_cases();
    assert_eq!(cases.len(), 144, "4 states × 9 events × 4 guard sets");
    let failures: Vec<String> = cases.iter().filter_map(&mut check).collect();
    assert!(
        failures.is_empty(),
        "{} of 144 cases break SPEC:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// SPEC §4.1: the nine event names, and nothing else, name events.
#[test]
fn the_nine_spec_event_names_and_only_they_parse_as_events() {
    let names: Vec<&str> = EXPECTED.iter().take(9).map(|(_, e, _)| *e).collect();
    for name in &names {
        let event = Event::from_name(name).unwrap_or_else(|| panic!("{name} must parse"));
        assert_eq!(event.as_str(), *name);
    }
    assert_eq!(Event::ALL.len(), 9);
    for bogus in ["", "Tick", "TICK", "idle_5_min", "request_arrived ", "wake"] {
        assert_eq!(Event::from_name(bogus), None, "{bogus:?} is not an event");
    }
}

/// SPEC §4.2: `next_state` is the table, for all 144 cases.
#[test]
fn next_state_matches_the_spec_table_in_all_144_cases() {
    check_all(|case| {
        let got = next_state(case.state(), case.event(), case.guards());
        (got != case.target()).then(|| format!("{case}: expected {}, got {got}", case.to))
    });
}

/// SPEC §4.2, §4.3 step 5: `dispatch` reports and stores the table's target.
#[test]
fn apply_event_moves_to_the_spec_target_in_all_144_cases() {
    check_all(|case| {
        let (_, applied) = apply(case, false, false);
        let ok = applied.from == case.state()
            && applied.to == case.target()
            && applied.record.current_state == case.target()
            && applied.transitioned() == case.changes_state();
        (!ok).then(|| {
            format!(
                "{case}: expected {} -> {}, got {} -> {} (record says {})",
                case.from, case.to, applied.from, applied.to, applied.record.current_state
            )
        })
    });
}

/// SPEC §4.3 step 3: seq +1 and `last_activity_ts` = now exactly for the
/// three activity events, whether or not the state changes; untouched otherwise.
#[test]
fn apply_event_bumps_seq_and_activity_exactly_for_activity_events() {
    let now = ts(NOW);
    check_all(|case| {
        let (before, applied) = apply(case, false, false);
        let (seq, activity) = if case.is_activity() {
            (START_SEQ + 1, now.clone())
        } else {
            (START_SEQ, before.last_activity_ts.clone())
        };
        let r = &applied.record;
        let ok = r.wrapper_event_seq == seq
            && r.last_activity_ts == activity
            && r.last_activity_ts.as_str() == activity.as_str();
        (!ok).then(|| {
            format!(
                "{case}: expected seq {seq} activity {activity}, got seq {} activity {}",
                r.wrapper_event_seq, r.last_activity_ts
            )
        })
    });
}

/// SPEC §4.2, §4.3 step 5: `since_ts` = now only on a real transition; a
/// self-loop such as WAKE + request_arrived keeps the stored `since_ts`.
#[test]
fn apply_event_sets_since_ts_only_when_the_state_changes() {
    let now = ts(NOW);
    check_all(|case| {
        let (before, applied) = apply(case, false, false);
        let expected = if case.changes_state() {
            now.clone()
        } else {
            before.since_ts.clone()
        };
        let got = &applied.record.since_ts;
        (got != &expected || got.as_str() != expected.as_str())
            .then(|| format!("{case}: expected since_ts {expected}, got {got}"))
    });
}

/// SPEC §4.3 step 4: `shadow_run` is the machine's flag, whatever was stored.
#[test]
fn apply_event_writes_the_machine_shadow_run_flag() {
    check_all(|case| {
        let mut wrong = Vec::new();
        for (stored, machine) in [(false, false), (false, true), (true, false), (true, true)] {
            let (_, applied) = apply(case, stored, machine);
            if applied.record.shadow_run != machine {
                wrong.push(format!("stored {stored}, machine {machine}"));
            }
        }
        (!wrong.is_empty()).then(|| format!("{case}: shadow_run wrong for {wrong:?}"))
    });
}

/// SPEC §4.3 step 7: `Requested` exactly on entering HIBERNATION with
/// `shadow_run` false, `None` everywhere else.
#[test]
fn apply_event_requests_shutdown_exactly_on_entering_hibernation() {
    check_all(|case| {
        let (_, applied) = apply(case, false, false);
        let expected = expected_shutdown(case, false);
        (applied.shutdown != expected)
            .then(|| format!("{case}: expected {expected:?}, got {:?}", applied.shutdown))
    });
}

/// SPEC §4.3 step 7: with `shadow_run` true, entering HIBERNATION only
/// reports the would-be shutdown.
#[test]
fn apply_event_reports_would_shutdown_on_entering_hibernation_in_shadow_run() {
    check_all(|case| {
        let (_, applied) = apply(case, false, true);
        let expected = expected_shutdown(case, true);
        (applied.shutdown != expected)
            .then(|| format!("{case}: expected {expected:?}, got {:?}", applied.shutdown))
    });
}

/// SPEC §4.3: an event touches only seq, activity, shadow_run, state and
/// since_ts; progress, quarantine and unknown members are kept as they were.
#[test]
fn apply_event_changes_nothing_but_the_spec_members() {
    let now = ts(NOW);
    check_all(|case| {
        let (before, applied) = apply(case, true, false);
        let expected = expected_record(&before, case, false, &now);
        (applied.record != expected).then(|| {
            format!(
                "{case}:\n  expected {expected:?}\n  got      {:?}",
                applied.record
            )
        })
    });
}

/// SPEC §4.2: `request_arrived` leads to WAKE from every state and every guard set.
#[test]
fn request_arrived_wakes_every_state() {
    for state in State::ALL {
        for (sleep_eligible, still_idle) in GUARD_SETS {
            let guards = Guards {
                sleep_eligible,
                still_idle,
            };
            assert_eq!(
                next_state(state, Event::RequestArrived, guards),
                State::Wake,
                "{state} + request_arrived"
            );
        }
    }
}

/// SPEC §4.2: WAKE + request_arrived is not a transition: state and since_ts
/// stay, but it is still activity (SPEC §4.3 step 3).
#[test]
fn request_arrived_in_wake_is_activity_but_not_a_transition() {
    let before = stored_record(State::Wake, false);
    let now = ts(NOW);
    let applied = dispatch(
        &before,
        Event::RequestArrived,
        Guards::default(),
        false,
        &now,
    )
    .expect("no overflow");
    assert!(!applied.transitioned());
    assert_eq!(applied.record.since_ts.as_str(), STORED_TS);
    assert_eq!(applied.record.wrapper_event_seq, START_SEQ + 1);
    assert_eq!(applied.record.last_activity_ts, now);
    assert_eq!(applied.shutdown, Shutdown::None);
}

/// SPEC §4.3 step 3: at seq 2^53−1 exactly the three activity events overflow.
#[test]
fn apply_event_overflows_at_max_seq_exactly_for_activity_events() {
    let max = 9_007_199_254_740_991u64;
    check_all(|case| {
        let mut before = stored_record(case.state(), false);
        before.wrapper_event_seq = max;
        let result = dispatch(&before, case.event(), case.guards(), false, &ts(NOW));
        match (case.is_activity(), result) {
            (true, Err(_)) => None,
            (false, Ok(applied)) if applied.record.wrapper_event_seq == max => None,
            (true, Ok(applied)) => Some(format!(
                "{case}: expected Overflow, got seq {}",
                applied.record.wrapper_event_seq
            )),
            (false, other) => Some(format!("{case}: expected seq to stay {max}, got {other:?}")),
        }
    });
}

// ---------------------------------------------------------------------------
// The same 144 cases through `Store::dispatch` on a real directory.
// ---------------------------------------------------------------------------

const FILE_NAME: &str = "lifecycle_state.json";

fn store_at(path: &Path, shadow_run: bool) -> Store<RealFs, ManualClock> {
    Store::new(
        RealFs,
        ManualClock::at(&ts(NOW)),
        path,
        Options {
            shadow_run,
            ..Options::default()
        },
    )
}

fn case_dir(root: &Path, index: usize) -> PathBuf {
    let dir = root.join(format!("case{index:03}"));
    std::fs::create_dir(&dir).unwrap();
    dir.join(FILE_NAME)
}

/// Runs every case through the store with the machine's `shadow_run` flag,
/// on a file that already holds that flag, and checks the file afterwards.
fn dispatch_all_cases(shadow_run: bool) {
    let root = tempfile::tempdir().unwrap();
    let mut index = 0;
    check_all(|case| {
        index += 1;
        let path = case_dir(root.path(), index);
        let before = stored_record(case.state(), shadow_run);
        persist::save(&path, &before).unwrap();
        let bytes_before = std::fs::read(&path).unwrap();

        let store = store_at(&path, shadow_run);
        let now = store.clock().now();
        let dispatched = match store.dispatch(case.event(), case.guards()) {
            Ok(d) => d,
            Err(e) => return Some(format!("{case}: dispatch failed: {e}")),
        };
        let expected = expected_record(&before, case, shadow_run, &now);
        let bytes_after = std::fs::read(&path).unwrap();
        let on_disk = lifecycle_state::decode(&bytes_after);
        // With the stored flag equal to the machine's, only activity events
        // and transitions change the record (SPEC §4.6).
        let should_write = case.is_activity() || case.changes_state();

        let mut problems = Vec::new();
        if dispatched.from != case.state() || dispatched.to != case.target() {
            problems.push(format!("reported {} -> {}", dispatched.from, dispatched.to));
        }
        if dispatched.shutdown != expected_shutdown(case, shadow_run) {
            problems.push(format!("shutdown {:?}", dispatched.shutdown));
        }
        if dispatched.update.found != Found::Valid {
            problems.push(format!("found {:?}", dispatched.update.found));
        }
        if dispatched.update.wrote != should_write {
            problems.push(format!("wrote = {}", dispatched.update.wrote));
        }
        if dispatched.update.record != expected {
            problems.push(format!("returned record {:?}", dispatched.update.record));
        }
        match on_disk {
            Ok(record) if record == expected => {}
            other => problems.push(format!("file holds {other:?}, expected {expected:?}")),
        }
        if bytes_after != lifecycle_state::encode(&expected) {
            problems.push("file bytes are not the §3.2 form of the expected record".into());
        }
        if !should_write && bytes_after != bytes_before {
            problems.push("a pure no-op changed the file".into());
        }
        (!problems.is_empty()).then(|| format!("{case}: {}", problems.join("; ")))
    });
}

/// SPEC §4.2, §4.3, §4.6: every case through `Store::dispatch` leaves the
/// file holding exactly the expected record (machine shadow_run false).
#[test]
fn store_dispatch_follows_the_table_on_disk_in_all_144_cases() {
    dispatch_all_cases(false);
}

/// SPEC §4.3 step 7: the same 144 cases in shadow mode report
/// `WouldRequest` instead of `Requested` and store `shadow_run` true.
#[test]
fn store_dispatch_in_shadow_run_follows_the_table_on_disk_in_all_144_cases() {
    dispatch_all_cases(true);
}
