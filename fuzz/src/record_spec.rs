//! Valid records built from structure, for `record_roundtrip`,
//! `transitions` and `crash_schedule`.
//!
//! Promises: a [`RecordSpec`] builds a `lifecycle_state::Record` whose
//! timestamps and integers are valid by construction (any year 0000-9999,
//! leap days, leap seconds `23:59:60`, fractions of 1 to 24 digits, `Z` or
//! `+00:00`; integers 0..=2^53−1 with the edges likely) and whose strings
//! are any Unicode. Unknown members get any value from
//! [`crate::json_doc::Value`] that the model calls one JSON value; on the
//! way the store's `RawJson::parse` is checked against the model's
//! `json::is_exact_value`.
//!
//! Does not promise: a valid record. Unknown member names are arbitrary, so
//! one may repeat another or a known name; the targets expect a save of
//! such a record to be refused (SPEC §3.1). Building panics on a
//! disagreement between the store and the model about a timestamp or a raw
//! JSON value.

use lifecycle_model::json as model_json;
use lifecycle_state::{Progress, Quarantine, RawJson, Record, State, Timestamp};

use crate::input::{Reader, Shape, Writer};
use crate::json_doc::{scalar, Value};
use crate::report::excerpt;
use crate::vocabulary::{word_index, WORDS};

/// 2^53 − 1 (SPEC §1.3).
pub const MAX_INTEGER: u64 = (1 << 53) - 1;

// ---------------------------------------------------------------- timestamps

fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A valid SPEC §1.4 timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsSpec {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    /// 60 only at 23:59 (a leap second).
    pub second: u8,
    /// 1 to 24 digits, 0-9 each.
    pub fraction: Option<Vec<u8>>,
    pub plus_offset: bool,
}

impl TsSpec {
    pub fn text(&self) -> String {
        let mut text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if let Some(digits) = &self.fraction {
            text.push('.');
            text.extend(digits.iter().map(|d| char::from(b'0' + d)));
        }
        text.push_str(if self.plus_offset { "+00:00" } else { "Z" });
        text
    }

    /// The store's timestamp for this spec.
    pub fn build(&self) -> Timestamp {
        timestamp(&self.text())
    }

    /// Noon on a day (for hand-made seeds).
    pub fn noon(year: u16, month: u8, day: u8) -> TsSpec {
        TsSpec {
            year,
            month,
            day,
            hour: 12,
            minute: 0,
            second: 0,
            fraction: None,
            plus_offset: false,
        }
    }
}

/// The store's parse of a text that SPEC §1.4 calls a timestamp.
pub fn timestamp(text: &str) -> Timestamp {
    match Timestamp::parse(text) {
        Ok(ts) => ts,
        Err(e) if lifecycle_model::Timestamp::parse(text).is_some() => {
            panic!("the store rejects {text:?}, which the model calls a SPEC §1.4 timestamp: {e}")
        }
        Err(e) => panic!("harness bug: generated an invalid timestamp {text:?}: {e}"),
    }
}

impl Shape for TsSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        let year = r.u16() % 10_000;
        let month = 1 + r.below(12) as u8;
        let day = 1 + r.below(usize::from(days_in_month(year, month))) as u8;
        let mut hour = r.below(24) as u8;
        let mut minute = r.below(60) as u8;
        let second = r.below(61) as u8;
        if second == 60 {
            (hour, minute) = (23, 59);
        }
        let fraction = r.flag().then(|| {
            let n = 1 + r.below(24);
            (0..n).map(|_| r.below(10) as u8).collect()
        });
        TsSpec {
            year,
            month,
            day,
            hour,
            minute,
            second,
            fraction,
            plus_offset: r.flag(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.u16(self.year);
        w.below(usize::from(self.month - 1), 12);
        w.below(usize::from(self.day - 1), 31);
        w.below(usize::from(self.hour), 24);
        w.below(usize::from(self.minute), 60);
        w.below(usize::from(self.second), 61);
        w.flag(self.fraction.is_some());
        if let Some(digits) = &self.fraction {
            w.below(digits.len() - 1, 24);
            digits.iter().for_each(|d| w.below(usize::from(*d), 10));
        }
        w.flag(self.plus_offset);
    }
}

// ------------------------------------------------------------------ integers

const INT_EDGES: [u64; 7] = [0, 1, 2, 3, 4, MAX_INTEGER, MAX_INTEGER - 1];
const EDGE_FROM: u8 = 200;

/// An integer in 0..=2^53−1: small values and the edges likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntSpec(pub u64);

impl Shape for IntSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        let selector = r.byte();
        if selector >= EDGE_FROM {
            IntSpec(INT_EDGES[usize::from(selector - EDGE_FROM) % INT_EDGES.len()])
        } else {
            IntSpec((r.u64() >> (selector % 64)) % (MAX_INTEGER + 1))
        }
    }
    fn write(&self, w: &mut Writer) {
        assert!(self.0 <= MAX_INTEGER, "{} is out of range", self.0);
        w.byte(0);
        w.u64(self.0);
    }
}

// ------------------------------------------------------------------- strings

/// Characters JSON escapes, or that readers get wrong.
const SPECIALS: [char; 15] = [
    '\0',
    '\n',
    '\t',
    '"',
    '\\',
    '\u{8}',
    '\u{c}',
    '\u{1f}',
    '\u{7f}',
    '\u{2028}',
    '\u{feff}',
    '\u{10ffff}',
    'é',
    '😀',
    '/',
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextPiece {
    Word(u8),
    Ascii(u8),
    Char(char),
    Special(u8),
}

impl Shape for TextPiece {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(4) {
            0 => TextPiece::Word(r.below(WORDS.len()) as u8),
            1 => TextPiece::Ascii(0x20 + r.below(95) as u8),
            2 => TextPiece::Char(scalar(r.u32())),
            _ => TextPiece::Special(r.below(SPECIALS.len()) as u8),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            TextPiece::Word(i) => {
                w.below(0, 4);
                w.below(usize::from(*i), WORDS.len());
            }
            TextPiece::Ascii(c) => {
                w.below(1, 4);
                w.below(usize::from(c - 0x20), 95);
            }
            TextPiece::Char(c) => {
                w.below(2, 4);
                w.u32(u32::from(*c));
            }
            TextPiece::Special(i) => {
                w.below(3, 4);
                w.below(usize::from(*i), SPECIALS.len());
            }
        }
    }
}

/// Any string (0 to 8 pieces).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub Vec<TextPiece>);

impl Text {
    pub fn word(word: &str) -> Text {
        Text(vec![TextPiece::Word(word_index(word))])
    }

    pub fn ascii(text: &str) -> Text {
        Text(text.bytes().map(TextPiece::Ascii).collect())
    }

    pub fn build(&self) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                TextPiece::Word(i) => out.push_str(WORDS[usize::from(*i)]),
                TextPiece::Ascii(c) => out.push(char::from(*c)),
                TextPiece::Char(c) => out.push(*c),
                TextPiece::Special(i) => out.push(SPECIALS[usize::from(*i)]),
            }
        }
        out
    }
}

impl Shape for Text {
    fn read(r: &mut Reader<'_>) -> Self {
        Text(r.list(8))
    }
    fn write(&self, w: &mut Writer) {
        w.list(&self.0, 8);
    }
}

// ------------------------------------------------------------------- records

/// An unknown member: any name, and a value kept only when it is JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpec {
    pub name: Text,
    pub value: Value,
}

impl Shape for MemberSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        MemberSpec {
            name: r.read(),
            value: r.nested(|r| r.read()),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.name);
        w.write(&self.value);
    }
}

fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The raw value of `text` when it is exactly one JSON value (SPEC §1.1);
/// panics when the store and the model disagree on that.
pub fn raw_json(text: &[u8]) -> Option<RawJson> {
    if text.len() > crate::json_doc::MAX_FILE_BYTES {
        // No record holding it could be saved; not worth the parse.
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let padded = text.bytes().next().is_some_and(is_json_ws)
        || text.bytes().next_back().is_some_and(is_json_ws);
    if padded {
        // `RawJson::parse` trims around the value; the model's check does
        // not. Only unpadded texts compare like for like.
        return None;
    }
    let model = model_json::is_exact_value(text);
    let store = RawJson::parse(text);
    match (store, model) {
        (Ok(raw), true) => Some(raw),
        (Err(_), false) => None,
        (store, model) => panic!(
            "RawJson::parse says {store:?}, the model's is_exact_value says {model}, for {}",
            excerpt(text.as_bytes())
        ),
    }
}

fn build_unknown(members: &[MemberSpec]) -> Vec<(String, RawJson)> {
    members
        .iter()
        .filter_map(|m| Some((m.name.build(), raw_json(&m.value.to_bytes())?)))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressSpec {
    pub last_completed_step: Option<IntSpec>,
    pub attempt: Option<IntSpec>,
    pub last_error: Option<Option<Text>>,
    pub started_at: Option<TsSpec>,
    pub unknown: Vec<MemberSpec>,
}

impl Shape for ProgressSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        ProgressSpec {
            last_completed_step: r.read(),
            attempt: r.read(),
            last_error: r.read(),
            started_at: r.read(),
            unknown: r.list(2),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.last_completed_step);
        w.write(&self.attempt);
        w.write(&self.last_error);
        w.write(&self.started_at);
        w.list(&self.unknown, 2);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineSpec {
    pub until_ts: TsSpec,
    pub since_ts: TsSpec,
    pub reason: Text,
    pub unknown: Vec<MemberSpec>,
}

impl Shape for QuarantineSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        QuarantineSpec {
            until_ts: r.read(),
            since_ts: r.read(),
            reason: r.read(),
            unknown: r.list(2),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.until_ts);
        w.write(&self.since_ts);
        w.write(&self.reason);
        w.list(&self.unknown, 2);
    }
}

/// A record of SPEC §1.2, valid but for its unknown member names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    pub state: State,
    pub since_ts: TsSpec,
    pub last_activity_ts: TsSpec,
    pub wrapper_event_seq: IntSpec,
    pub sleep_cycle_progress: Option<ProgressSpec>,
    pub quarantine: Option<QuarantineSpec>,
    pub shadow_run: bool,
    pub unknown: Vec<MemberSpec>,
}

impl Shape for RecordSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        RecordSpec {
            state: r.pick(&State::ALL),
            since_ts: r.read(),
            last_activity_ts: r.read(),
            wrapper_event_seq: r.read(),
            sleep_cycle_progress: r.read(),
            quarantine: r.read(),
            shadow_run: r.flag(),
            unknown: r.list(3),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.pick(&State::ALL, &self.state);
        w.write(&self.since_ts);
        w.write(&self.last_activity_ts);
        w.write(&self.wrapper_event_seq);
        w.write(&self.sleep_cycle_progress);
        w.write(&self.quarantine);
        w.flag(self.shadow_run);
        w.list(&self.unknown, 3);
    }
}

impl RecordSpec {
    /// A plain record in `state` at noon of 2024-01-01 (for seeds).
    pub fn plain(state: State) -> RecordSpec {
        RecordSpec {
            state,
            since_ts: TsSpec::noon(2024, 1, 1),
            last_activity_ts: TsSpec::noon(2024, 1, 1),
            wrapper_event_seq: IntSpec(0),
            sleep_cycle_progress: None,
            quarantine: None,
            shadow_run: false,
            unknown: Vec::new(),
        }
    }

    /// The store's record for this spec.
    pub fn build(&self) -> Record {
        Record {
            current_state: self.state,
            since_ts: self.since_ts.build(),
            last_activity_ts: self.last_activity_ts.build(),
            wrapper_event_seq: self.wrapper_event_seq.0,
            sleep_cycle_progress: self.sleep_cycle_progress.as_ref().map(|p| Progress {
                last_completed_step: p.last_completed_step.map(|n| n.0),
                attempt: p.attempt.map(|n| n.0),
                last_error: p.last_error.as_ref().map(|e| e.as_ref().map(Text::build)),
                started_at: p.started_at.as_ref().map(TsSpec::build),
                unknown: build_unknown(&p.unknown),
            }),
            quarantine: self.quarantine.as_ref().map(|q| Quarantine {
                until_ts: q.until_ts.build(),
                since_ts: q.since_ts.build(),
                reason: q.reason.build(),
                unknown: build_unknown(&q.unknown),
            }),
            shadow_run: self.shadow_run,
            unknown: build_unknown(&self.unknown),
        }
    }
}
