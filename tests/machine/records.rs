//! Strategies for records the model calls valid, and the ways a record can
//! be invalid for save.
//!
//! Proves nothing by itself. The valid records reach every corner SPEC §1
//! allows: unknown members at all three levels (numbers such as `1e400`,
//! escapes, nesting, names of other levels' members), optional members
//! absent, timestamps with `+00:00`, long fractions and leap seconds,
//! quarantines ending within a nanosecond of the clock, integers at 2^53−1.

use std::collections::BTreeSet;

use lifecycle_model::record::{
    Progress, Quarantine, Record, State, PROGRESS_KEYS, QUARANTINE_KEYS, TOP_KEYS,
};
use lifecycle_model::spec::MAX_INTEGER;
use lifecycle_model::Timestamp;
use proptest::prelude::*;

use super::world::{ts, MAX_MICROS};

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn fraction() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        3 => "\\.[0-9]{1,9}",
        2 => "\\.[0-9]{10,30}",
        1 => Just(".000000000000000000001".to_string()),
    ]
}

fn offset() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("Z"), Just("+00:00")]
}

/// Any SPEC §1.4 timestamp, most of them in this century.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    let year = prop_oneof![4 => 1990u32..2100, 1 => 0u32..=9999];
    (
        year,
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        prop::bool::weighted(0.1),
        fraction(),
        offset(),
    )
        .prop_map(|(y, mo, d, h, mi, s, leap, frac, off)| {
            let d = d.min(days_in_month(y, mo));
            let (h, mi, s) = if leap { (23, 59, 60) } else { (h, mi, s) };
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}");
            Timestamp::parse(&text).unwrap_or_else(|| panic!("the model rejects {text}"))
        })
}

/// A timestamp within a few seconds (sometimes exactly, or a sub-microsecond
/// fraction) of `now`: where "quarantined" flips (SPEC §5.1).
pub fn near(now_micros: i64) -> impl Strategy<Value = Timestamp> {
    let shift = prop_oneof![
        3 => Just(0i64),
        2 => -2_000_000i64..2_000_000,
        1 => -100_000_000_000i64..100_000_000_000,
    ];
    let extra = prop_oneof![
        2 => Just(String::new()),
        2 => "0{3,8}[1-9]",
        1 => "[0-9]{1,3}",
    ];
    (shift, extra, offset()).prop_map(move |(shift, extra, off)| {
        let base = ts(now_micros.saturating_add(shift).min(MAX_MICROS));
        let text = base.as_str();
        let stem = text
            .strip_suffix('Z')
            .expect("the model spells its own timestamps with Z");
        let text = format!("{stem}{extra}{off}");
        Timestamp::parse(&text).unwrap_or_else(|| panic!("the model rejects {text}"))
    })
}

fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ]{0,12}",
        1 => Just(String::new()),
        1 => Just("quote \" backslash \\ slash / tab \t nl \n".to_string()),
        1 => Just("\u{0}\u{1f}\u{7f} é 😀 \u{2028}".to_string()),
    ]
}

fn integer() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..6,
        1 => Just(MAX_INTEGER),
        1 => Just(MAX_INTEGER - 1),
        1 => 0u64..=MAX_INTEGER,
    ]
}

/// The raw text of one JSON value of SPEC §1.5, spelled as it would be in a
/// file (the store must keep it byte for byte).
pub fn json_value() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("1e400".to_string()),
        Just("1.50".to_string()),
        Just("-3".to_string()),
        Just("-0".to_string()),
        Just("0.0E-0".to_string()),
        Just("123456789012345678901234567890".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\"[a-z ]{0,6}\"",
        Just(r#""\u0061\n\ud83d\ude00\/""#.to_string()),
        Just("\"é\"".to_string()),
        Just("{ \"a\" : [ 1 ,\t2 ]\n}".to_string()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-c]{1,2}", inner), 0..4).prop_map(|members| {
                let mut seen = BTreeSet::new();
                let body: Vec<String> = members
                    .into_iter()
                    .filter(|(name, _)| seen.insert(name.clone()))
                    .map(|(name, value)| format!("\"{name}\":{value}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
    .boxed()
}

fn member_name() -> impl Strategy<Value = String> {
    let known: Vec<&'static str> = TOP_KEYS
        .iter()
        .chain(&PROGRESS_KEYS)
        .chain(&QUARANTINE_KEYS)
        .copied()
        .collect();
    prop_oneof![
        4 => "[a-z_]{1,8}",
        2 => prop::sample::select(known).prop_map(str::to_string),
        1 => Just(String::new()),
        1 => Just("é \" \\ \u{1}".to_string()),
    ]
}

/// Unknown members for an object whose known names are `keys`: unique
/// names, none of them known at this level.
fn unknown(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((member_name(), json_value()), 0..3).prop_map(move |members| {
        let mut seen = BTreeSet::new();
        members
            .into_iter()
            .filter(|(name, _)| !keys.contains(&name.as_str()) && seen.insert(name.clone()))
            .collect()
    })
}

fn progress(now_micros: i64) -> impl Strategy<Value = Progress> {
    (
        prop::option::weighted(0.8, integer()),
        prop::option::weighted(0.8, prop_oneof![4 => 0u64..5, 1 => integer()]),
        prop::option::weighted(0.7, prop::option::of(string_value())),
        prop::option::weighted(0.7, prop_oneof![timestamp(), near(now_micros)]),
        unknown(&PROGRESS_KEYS),
    )
        .prop_map(
            |(last_completed_step, attempt, last_error, started_at, unknown)| Progress {
                last_completed_step,
                attempt,
                last_error,
                started_at,
                unknown,
            },
        )
}

fn quarantine(now_micros: i64) -> impl Strategy<Value = Quarantine> {
    (
        prop_oneof![3 => near(now_micros), 1 => timestamp()],
        prop_oneof![near(now_micros), timestamp()],
        string_value(),
        unknown(&QUARANTINE_KEYS),
    )
        .prop_map(|(until_ts, since_ts, reason, unknown)| Quarantine {
            until_ts,
            since_ts,
            reason,
            unknown,
        })
}

fn state() -> impl Strategy<Value = State> {
    prop::sample::select(State::ALL.to_vec())
}

/// A record the model calls valid, with some timestamps near `now_micros`.
pub fn valid_record(now_micros: i64) -> BoxedStrategy<Record> {
    (
        state(),
        prop_oneof![near(now_micros), timestamp()],
        prop_oneof![near(now_micros), timestamp()],
        integer(),
        prop::option::weighted(0.6, progress(now_micros)),
        prop::option::weighted(0.5, quarantine(now_micros)),
        any::<bool>(),
        unknown(&TOP_KEYS),
    )
        .prop_map(
            |(
                current_state,
                since_ts,
                last_activity_ts,
                seq,
                progress,
                quarantine,
                shadow_run,
                unknown,
            )| {
                Record {
                    current_state,
                    since_ts,
                    last_activity_ts,
                    wrapper_event_seq: seq,
                    sleep_cycle_progress: progress,
                    quarantine,
                    shadow_run,
                    unknown,
                }
            },
        )
        .boxed()
}

/// Which level of the record an unknown member is put in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Top,
    Progress,
    Quarantine,
}

impl Level {
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Level::Top => &TOP_KEYS,
            Level::Progress => &PROGRESS_KEYS,
            Level::Quarantine => &QUARANTINE_KEYS,
        }
    }

    /// The dotted prefix of field paths at this level.
    pub fn prefix(self) -> &'static str {
        match self {
            Level::Top => "",
            Level::Progress => "sleep_cycle_progress.",
            Level::Quarantine => "quarantine.",
        }
    }
}

/// A record save must refuse (SPEC §3.1), built from the record in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidSave {
    /// `wrapper_event_seq` = 2^53 + the offset.
    SequenceTooLarge(u64),
    AttemptTooLarge(u64),
    LastCompletedStepTooLarge(u64),
    /// An unknown member named like the `known`-th member of `level`.
    UnknownNamedLikeKnown {
        level: Level,
        known: usize,
    },
    /// Two unknown members with the same name at `level`.
    DuplicateUnknown(Level),
    /// An unknown member so large the serialized record exceeds 1 MiB.
    Oversize,
}

pub fn invalid_save() -> impl Strategy<Value = InvalidSave> {
    let too_large = prop_oneof![Just(0u64), 1u64..1000, Just(u64::MAX - (1 << 53))];
    let level = prop::sample::select(vec![Level::Top, Level::Progress, Level::Quarantine]);
    prop_oneof![
        too_large.clone().prop_map(InvalidSave::SequenceTooLarge),
        too_large.clone().prop_map(InvalidSave::AttemptTooLarge),
        too_large.prop_map(InvalidSave::LastCompletedStepTooLarge),
        (level.clone(), 0usize..7).prop_map(|(level, known)| InvalidSave::UnknownNamedLikeKnown {
            level,
            known: known % level.keys().len(),
        }),
        level.prop_map(InvalidSave::DuplicateUnknown),
        Just(InvalidSave::Oversize),
    ]
}

/// `ts` spelled another way for the same instant (SPEC §1.4): the other
/// offset, and trailing zeros added to the fraction.
fn respell(ts: &Timestamp, flip_offset: bool, zeros: usize) -> Timestamp {
    let text = ts.as_str();
    let (stem, offset) = match text.strip_suffix('Z') {
        Some(stem) => (stem, "Z"),
        None => (text.strip_suffix("+00:00").unwrap_or(text), "+00:00"),
    };
    let offset = match (flip_offset, offset) {
        (false, o) => o,
        (true, "Z") => "+00:00",
        (true, _) => "Z",
    };
    let dot = if stem.len() > 19 || zeros == 0 {
        ""
    } else {
        "."
    };
    let text = format!("{stem}{dot}{}{offset}", "0".repeat(zeros));
    let respelled = Timestamp::parse(&text).unwrap_or_else(|| panic!("the model rejects {text}"));
    assert!(
        respelled == *ts,
        "{text} is not the instant {}",
        ts.as_str()
    );
    respelled
}

/// `record` with its timestamps spelled differently: the same record by
/// SPEC §4.6, so saving it over itself must write nothing.
pub fn respelled(record: &Record) -> BoxedStrategy<Record> {
    let record = record.clone();
    (any::<bool>(), 0usize..3)
        .prop_map(move |(flip, zeros)| {
            let mut r = record.clone();
            let zeros = zeros.max(usize::from(!flip));
            r.since_ts = respell(&r.since_ts, flip, zeros);
            r.last_activity_ts = respell(&r.last_activity_ts, flip, zeros);
            if let Some(q) = &mut r.quarantine {
                q.until_ts = respell(&q.until_ts, flip, zeros);
                q.since_ts = respell(&q.since_ts, flip, zeros);
            }
            if let Some(p) = &mut r.sleep_cycle_progress {
                p.started_at = p.started_at.as_ref().map(|t| respell(t, flip, zeros));
            }
            r
        })
        .boxed()
}
