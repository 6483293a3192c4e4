//! What a run reached: every kind of transition, every lifecycle state,
//! every corrupt class of SPEC §1.6, and finer details.
//!
//! Promises: [`Kind`] is the registry of transition kinds, one variant
//! each, and [`Kind::ALL`] is generated with the enum, so a kind added to
//! the enum is required by [`unreached`] without anyone listing it again;
//! `Transition::kind` matches on every transition, so the compiler checks
//! that each has one. Counts are per label (one per test run), because the
//! test harness runs several runs in parallel threads; a thread that set
//! no label counts nothing, so the fuzz targets pay nothing for coverage.
//!
//! Does not promise anything by itself: the tests print the histogram and
//! fail when something required was never reached, so a weakened generator
//! cannot pass silently.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Mutex;

use lifecycle_model::State;

macro_rules! kinds {
    ($($variant:ident => $name:literal, simulated: $sim:literal;)*) => {
        /// Every kind of transition a run can make.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $($variant,)*
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }

            /// Whether only a simulated disk can make it.
            pub fn simulated_only(self) -> bool {
                match self {
                    $(Kind::$variant => $sim,)*
                }
            }
        }
    };
}

kinds! {
    Dispatch => "dispatch", simulated: false;
    Begin => "begin", simulated: false;
    StepDone => "step_done", simulated: false;
    StepFailed => "step_failed", simulated: false;
    CycleDone => "cycle_done", simulated: false;
    ResetQuarantine => "reset_quarantine", simulated: false;
    SaveValid => "save_valid", simulated: false;
    Respell => "respell", simulated: false;
    SaveInvalid => "save_invalid", simulated: false;
    Load => "load", simulated: false;
    AdvanceClock => "advance_clock", simulated: false;
    Corrupt => "corrupt", simulated: false;
    Replace => "replace", simulated: false;
    PutDirectory => "put_directory", simulated: false;
    Delete => "delete", simulated: false;
    StaleTemp => "stale_temp", simulated: false;
    Crash => "crash", simulated: true;
    PowerLoss => "power_loss", simulated: true;
    Fault => "fault", simulated: true;
}

/// The corrupt classes of SPEC §1.6, by item number.
pub const CORRUPT_CLASSES: std::ops::RangeInclusive<u8> = 1..=10;

static COUNTS: Mutex<BTreeMap<(&'static str, String), u64>> = Mutex::new(BTreeMap::new());

thread_local! {
    static LABEL: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Counts made on this thread from now on go under `label`.
pub fn set_label(label: &'static str) {
    LABEL.with(|l| l.set(Some(label)));
}

/// Whether this thread counts (see [`set_label`]).
pub fn on() -> bool {
    LABEL.with(Cell::get).is_some()
}

pub fn hit(key: impl Into<String>) {
    let Some(label) = LABEL.with(Cell::get) else {
        return;
    };
    let mut counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
    *counts.entry((label, key.into())).or_default() += 1;
}

pub fn kind(kind: Kind) {
    if on() {
        hit(format!("transition/{}", kind.name()));
    }
}

pub fn state(state: State) {
    if on() {
        hit(format!("state/{}", state.name()));
    }
}

/// A corrupt file of SPEC §1.6 item `item` was loaded.
pub fn corrupt_class(item: u8) {
    if on() {
        hit(format!("corrupt_class/{item:02}"));
    }
}

/// The counts under `label`.
pub fn histogram(label: &str) -> BTreeMap<String, u64> {
    let counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
    counts
        .iter()
        .filter(|((l, _), _)| *l == label)
        .map(|((_, key), n)| (key.clone(), *n))
        .collect()
}

/// The histogram as lines of text, widest key first column.
pub fn render(histogram: &BTreeMap<String, u64>) -> String {
    let width = histogram.keys().map(String::len).max().unwrap_or(0);
    histogram
        .iter()
        .map(|(key, n)| format!("  {key:<width$} {n:>7}\n"))
        .collect()
}

/// Required keys that were never reached: every transition kind the disk
/// supports (`simulated`: crashes, faults, power loss too), every lifecycle
/// state, every corrupt class of SPEC §1.6.
pub fn unreached(histogram: &BTreeMap<String, u64>, simulated: bool) -> Vec<String> {
    let kinds = Kind::ALL
        .iter()
        .filter(|k| simulated || !k.simulated_only())
        .map(|k| format!("transition/{}", k.name()));
    let states = State::ALL.iter().map(|s| format!("state/{}", s.name()));
    let classes = CORRUPT_CLASSES.map(|item| format!("corrupt_class/{item:02}"));
    kinds
        .chain(states)
        .chain(classes)
        .filter(|key| !histogram.contains_key(key))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_go_under_the_label_of_their_thread_and_a_thread_without_one_counts_nothing() {
        let unlabelled = std::thread::spawn(|| {
            kind(Kind::Load);
            on()
        });
        assert!(!unlabelled.join().expect("the thread ran"));
        set_label("coverage-tests-a");
        kind(Kind::Load);
        kind(Kind::Load);
        set_label("coverage-tests-b");
        hit("x");
        state(State::Sleep);
        corrupt_class(7);
        let a = histogram("coverage-tests-a");
        assert_eq!(a, [("transition/load".to_string(), 2)].into());
        let b = histogram("coverage-tests-b");
        assert_eq!(
            b,
            [
                ("corrupt_class/07".to_string(), 1),
                ("state/SLEEP".to_string(), 1),
                ("x".to_string(), 1)
            ]
            .into()
        );
        assert_eq!(
            render(&b),
            "  corrupt_class/07       1\n  state/SLEEP            1\n  x                      1\n"
        );
    }

    #[test]
    fn a_real_disk_need_not_reach_the_kinds_only_a_simulated_one_makes() {
        let none = BTreeMap::new();
        let real = unreached(&none, false);
        let simulated = unreached(&none, true);
        for kind in Kind::ALL {
            let key = format!("transition/{}", kind.name());
            assert!(simulated.contains(&key), "{key}");
            assert_eq!(real.contains(&key), !kind.simulated_only(), "{key}");
        }
        assert!(Kind::ALL.iter().any(|k| k.simulated_only()));
        assert!(Kind::ALL.iter().any(|k| !k.simulated_only()));
        assert!(real.contains(&"state/WAKE".to_string()), "{real:?}");
        let reached: BTreeMap<String, u64> = simulated.iter().map(|k| (k.clone(), 1)).collect();
        assert_eq!(unreached(&reached, true), Vec::<String>::new());
    }
}
