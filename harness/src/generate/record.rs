//! Records built from structure: one definition for the property tests and
//! the fuzz targets.
//!
//! Promises: a [`RecordSpec`] builds a model [`Record`] whose timestamps and
//! integers are valid by construction: timestamps of any year 0000-9999,
//! leap days, leap seconds `23:59:60`, fractions of 1 to 24 digits, `Z` or
//! `+00:00`, or within seconds (sometimes a sub-microsecond fraction) of the
//! clock, where "quarantined" flips (SPEC §5.1); integers in 0..=2^53−1,
//! small ones and the edges likely; strings of any Unicode. Unknown members
//! get any value of [`Value`] that the model calls one JSON value (SPEC
//! §1.5): numbers such as `1e400`, escapes, nesting.
//!
//! [`RecordSpec::build`] drops unknown members whose name repeats another's
//! or a known member's of the same object, so the record is valid (SPEC
//! §3.1) unless it is larger than 1 MiB; [`RecordSpec::build_as_written`]
//! keeps them, for the targets that check save refuses such a record.
//!
//! Does not promise: any particular distribution beyond "every corner is
//! reachable and the common cases are likely".

use std::collections::BTreeSet;

use lifecycle_model::json::is_exact_value;
use lifecycle_model::record::{PROGRESS_KEYS, QUARANTINE_KEYS, TOP_KEYS};
use lifecycle_model::spec::MAX_INTEGER;
use lifecycle_model::timestamp::days_in_month;
use lifecycle_model::{Progress, Quarantine, Record, State, Timestamp};

use crate::generate::json_doc::{scalar, Value};
use crate::input::{Reader, Shape, Writer};
use crate::vocabulary::{word_index, WORDS};
use crate::world::at_micros;

// ---------------------------------------------------------------- timestamps

/// A SPEC §1.4 timestamp, written out field by field.
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

/// The model's timestamp for a text the generators made valid.
pub fn timestamp(text: &str) -> Timestamp {
    Timestamp::parse(text)
        .unwrap_or_else(|| panic!("harness bug: generated the invalid timestamp {text:?}"))
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

/// How far from the clock a [`Stamp::Near`] lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    /// Exactly now (to the microsecond).
    Now,
    /// Within two seconds, either side (µs).
    Seconds(i32),
    /// Within about a day, either side (µs).
    Day(i64),
}

/// Weights of now (0), seconds (1) and a day (2) away.
const SHIFTS: [(u8, u8); 3] = [(3, 0), (2, 1), (1, 2)];
const TWO_SECONDS: u64 = 2_000_000;
const A_DAY: u64 = 100_000_000_000;

impl Shape for Shift {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick_weighted(&SHIFTS) {
            0 => Shift::Now,
            1 => {
                Shift::Seconds((r.u32() as u64 % (2 * TWO_SECONDS + 1)) as i32 - TWO_SECONDS as i32)
            }
            _ => Shift::Day((r.u64() % (2 * A_DAY + 1)) as i64 - A_DAY as i64),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Shift::Now => w.pick_weighted(&SHIFTS, &0),
            Shift::Seconds(us) => {
                w.pick_weighted(&SHIFTS, &1);
                w.u32((i64::from(*us) + TWO_SECONDS as i64) as u32);
            }
            Shift::Day(us) => {
                w.pick_weighted(&SHIFTS, &2);
                w.u64((us + A_DAY as i64) as u64);
            }
        }
    }
}

impl Shift {
    fn micros(self) -> i64 {
        match self {
            Shift::Now => 0,
            Shift::Seconds(us) => i64::from(us),
            Shift::Day(us) => us,
        }
    }
}

/// A timestamp: written out, or near the clock of the moment it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    At(TsSpec),
    /// The clock moved by `shift`, its six fraction digits followed by
    /// `extra` (so it may lie a fraction of a microsecond after an
    /// instant), with `Z` or `+00:00`.
    Near {
        shift: Shift,
        extra: Vec<u8>,
        plus_offset: bool,
    },
}

impl Shape for Stamp {
    fn read(r: &mut Reader<'_>) -> Self {
        if r.flag() {
            return Stamp::At(r.read());
        }
        let shift = r.read();
        let extra = match r.below(5) {
            0 | 1 => Vec::new(),
            2 | 3 => {
                let zeros = 3 + r.below(6);
                let mut digits = vec![0; zeros];
                digits.push(1 + r.below(9) as u8);
                digits
            }
            _ => (0..1 + r.below(3)).map(|_| r.below(10) as u8).collect(),
        };
        Stamp::Near {
            shift,
            extra,
            plus_offset: r.flag(),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Stamp::At(ts) => {
                w.flag(true);
                w.write(ts);
            }
            Stamp::Near {
                shift,
                extra,
                plus_offset,
            } => {
                w.flag(false);
                w.write(shift);
                // Any extra reads back through the last arm's digit list
                // only when short; longer ones are written as zeros + digit.
                match extra.split_last() {
                    None => w.below(0, 5),
                    Some((last, zeros))
                        if (3..=8).contains(&zeros.len())
                            && zeros.iter().all(|d| *d == 0)
                            && *last > 0 =>
                    {
                        w.below(2, 5);
                        w.below(zeros.len() - 3, 6);
                        w.below(usize::from(*last - 1), 9);
                    }
                    Some(_) => {
                        assert!((1..=3).contains(&extra.len()), "extra digits: {extra:?}");
                        w.below(4, 5);
                        w.below(extra.len() - 1, 3);
                        extra.iter().for_each(|d| w.below(usize::from(*d), 10));
                    }
                }
                w.flag(*plus_offset);
            }
        }
    }
}

impl Stamp {
    pub fn build(&self, now_micros: i64) -> Timestamp {
        match self {
            Stamp::At(ts) => ts.build(),
            Stamp::Near {
                shift,
                extra,
                plus_offset,
            } => {
                let base = at_micros(now_micros.saturating_add(shift.micros()));
                let stem = base
                    .as_str()
                    .strip_suffix('Z')
                    .expect("the model spells its own timestamps with Z");
                let digits: String = extra.iter().map(|d| char::from(b'0' + d)).collect();
                let offset = if *plus_offset { "+00:00" } else { "Z" };
                timestamp(&format!("{stem}{digits}{offset}"))
            }
        }
    }
}

// ------------------------------------------------------------------ integers

const INT_EDGES: [u64; 7] = [0, 1, 2, 3, 4, MAX_INTEGER, MAX_INTEGER - 1];
/// Selectors below this are a small integer (0 to 5).
const SMALL_BELOW: u8 = 128;
/// Selectors from this on are one of [`INT_EDGES`].
const EDGE_FROM: u8 = 200;

/// An integer in 0..=2^53−1: small values and the edges likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntSpec(pub u64);

impl Shape for IntSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        let selector = r.byte();
        if selector < SMALL_BELOW {
            IntSpec(u64::from(selector % 6))
        } else if selector >= EDGE_FROM {
            IntSpec(INT_EDGES[usize::from(selector - EDGE_FROM) % INT_EDGES.len()])
        } else {
            IntSpec((r.u64() >> ((selector - SMALL_BELOW) % 64)) % (MAX_INTEGER + 1))
        }
    }
    fn write(&self, w: &mut Writer) {
        assert!(self.0 <= MAX_INTEGER, "{} is out of range", self.0);
        if self.0 < 6 {
            w.byte(self.0 as u8);
        } else {
            w.byte(SMALL_BELOW);
            w.u64(self.0);
        }
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

/// The raw text of `value` when it is exactly one JSON value of SPEC §1.1.
fn raw_json(value: &Value) -> Option<String> {
    let bytes = value.to_bytes();
    if bytes.len() > lifecycle_model::spec::MAX_FILE_BYTES {
        // No record holding it could be saved; not worth the parse.
        return None;
    }
    let text = String::from_utf8(bytes).ok()?;
    is_exact_value(&text).then_some(text)
}

/// The unknown members of one object; with `valid_names`, without a name
/// that repeats another or one of `known`.
fn unknown(members: &[MemberSpec], known: &[&str], valid_names: bool) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    members
        .iter()
        .filter_map(|m| Some((m.name.build(), raw_json(&m.value)?)))
        .filter(|(name, _)| {
            !valid_names || (!known.contains(&name.as_str()) && seen.insert(name.clone()))
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressSpec {
    pub last_completed_step: Option<IntSpec>,
    pub attempt: Option<IntSpec>,
    pub last_error: Option<Option<Text>>,
    pub started_at: Option<Stamp>,
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
    pub until_ts: Stamp,
    pub since_ts: Stamp,
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

/// A record of SPEC §1.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    pub state: State,
    pub since_ts: Stamp,
    pub last_activity_ts: Stamp,
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
            since_ts: Stamp::At(TsSpec::noon(2024, 1, 1)),
            last_activity_ts: Stamp::At(TsSpec::noon(2024, 1, 1)),
            wrapper_event_seq: IntSpec(0),
            sleep_cycle_progress: None,
            quarantine: None,
            shadow_run: false,
            unknown: Vec::new(),
        }
    }

    /// The record, its near timestamps built against `now_micros`, without
    /// the unknown members whose names would make it invalid.
    pub fn build(&self, now_micros: i64) -> Record {
        self.record(now_micros, true)
    }

    /// The record exactly as specified, repeated or known names included.
    pub fn build_as_written(&self, now_micros: i64) -> Record {
        self.record(now_micros, false)
    }

    fn record(&self, now: i64, valid_names: bool) -> Record {
        Record {
            current_state: self.state,
            since_ts: self.since_ts.build(now),
            last_activity_ts: self.last_activity_ts.build(now),
            wrapper_event_seq: self.wrapper_event_seq.0,
            sleep_cycle_progress: self.sleep_cycle_progress.as_ref().map(|p| Progress {
                last_completed_step: p.last_completed_step.map(|n| n.0),
                attempt: p.attempt.map(|n| n.0),
                last_error: p.last_error.as_ref().map(|e| e.as_ref().map(Text::build)),
                started_at: p.started_at.as_ref().map(|t| t.build(now)),
                unknown: unknown(&p.unknown, &PROGRESS_KEYS, valid_names),
            }),
            quarantine: self.quarantine.as_ref().map(|q| Quarantine {
                until_ts: q.until_ts.build(now),
                since_ts: q.since_ts.build(now),
                reason: q.reason.build(),
                unknown: unknown(&q.unknown, &QUARANTINE_KEYS, valid_names),
            }),
            shadow_run: self.shadow_run,
            unknown: unknown(&self.unknown, &TOP_KEYS, valid_names),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_stamps_read_back_as_written() {
        for stamp in [
            Stamp::Near {
                shift: Shift::Seconds(-3),
                extra: vec![0, 0, 0, 7],
                plus_offset: true,
            },
            Stamp::Near {
                shift: Shift::Day(86_400_000_000),
                extra: vec![4, 2],
                plus_offset: false,
            },
            Stamp::At(TsSpec::noon(2000, 2, 29)),
        ] {
            assert_eq!(Stamp::from_bytes(&stamp.to_bytes()), stamp);
        }
    }

    #[test]
    fn a_value_longer_than_a_file_may_be_is_no_member_of_a_record() {
        use crate::generate::json_doc::{Lit, Punct, Ws};
        let array = |n: usize| Value::Array {
            ws: Ws::None,
            punct: Punct::Proper,
            items: vec![Value::Lit(Lit::Null); n],
        };
        // Five bytes an item, and the brackets but one comma: `most` items
        // are 1 MiB exactly, one more is past it.
        let most = lifecycle_model::spec::MAX_FILE_BYTES / 5;
        assert!(raw_json(&array(most)).is_some());
        assert_eq!(raw_json(&array(most + 1)), None);
    }

    #[test]
    fn a_near_stamp_may_lie_a_fraction_of_a_microsecond_after_now() {
        let now = 1_704_067_200_000_000;
        let stamp = Stamp::Near {
            shift: Shift::Now,
            extra: vec![0, 0, 0, 1],
            plus_offset: false,
        };
        let built = stamp.build(now);
        assert_eq!(built.as_str(), "2024-01-01T00:00:00.0000000001Z");
        assert!(built > at_micros(now));
    }

    #[test]
    fn build_drops_the_names_that_would_make_the_record_invalid() {
        let mut spec = RecordSpec::plain(State::Wake);
        let member = |name: &str| MemberSpec {
            name: Text::ascii(name),
            value: Value::Lit(crate::generate::json_doc::Lit::Null),
        };
        spec.unknown = vec![member("x"), member("x"), member("shadow_run")];
        let now = 0;
        assert!(spec.build(now).is_valid());
        assert_eq!(
            spec.build(now).unknown,
            [("x".to_string(), "null".to_string())]
        );
        assert!(!spec.build_as_written(now).is_valid());
    }

    #[test]
    fn a_text_is_built_of_its_pieces() {
        let mut text = Text::word("since_ts");
        text.0.extend(Text::ascii(" x").0);
        text.0.push(TextPiece::Char('é'));
        assert_eq!(text.build(), "since_ts xé");
    }

    #[test]
    fn a_timestamp_spec_is_written_digit_by_digit() {
        let mut spec = TsSpec::noon(2024, 2, 29);
        spec.fraction = Some(vec![0, 5, 9]);
        spec.plus_offset = true;
        assert_eq!(spec.text(), "2024-02-29T12:00:00.059+00:00");
    }

    #[test]
    fn the_selectors_past_edge_from_reach_every_edge() {
        let read: std::collections::BTreeSet<u64> = (EDGE_FROM..=u8::MAX)
            .map(|selector| IntSpec::from_bytes(&[selector]).0)
            .collect();
        assert_eq!(read, INT_EDGES.into_iter().collect());
    }

    #[test]
    fn small_integers_and_the_edges_read_back() {
        for n in [0, 5, 6, 1_000, MAX_INTEGER] {
            assert_eq!(IntSpec::from_bytes(&IntSpec(n).to_bytes()), IntSpec(n));
        }
    }
}
