//! UTC timestamps as SPEC §1.4 defines them.
//!
//! Promises: a [`Timestamp`] can only be built from text that is an RFC 3339
//! date-time with a zero offset (`Z` or `+00:00`) and a real calendar date, so
//! every value of the type is valid; it keeps its original text, so a load →
//! save round trip does not rewrite it; it orders by instant, not by text.
//!
//! Does not promise: time zones other than UTC, or years outside 0000-9999.

use std::cmp::Ordering;
use std::fmt;
use std::time::Duration;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: i128 = 86_400;

/// A validated UTC timestamp: its text and the instant it denotes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    /// (days since 1970-01-01, second of the day, nanosecond): the SPEC §1.4
    /// order. A leap second is second 86,400 of its day, so `23:59:60.5`
    /// sorts after `23:59:59.9` and before the next day's `00:00:00`.
    key: (i64, u32, u32),
    /// Fraction digits past the ninth, trailing zeros dropped: compared as
    /// text after `key`, which is their decimal order (SPEC §1.4 compares
    /// the fraction at any length).
    beyond_nanos: String,
}

/// Why a text is not a timestamp of SPEC §1.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError {
    pub text: String,
    pub reason: &'static str,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a UTC RFC 3339 timestamp: {}",
            self.text, self.reason
        )
    }
}

impl std::error::Error for TimestampError {}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)`.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let fail = |reason| TimestampError {
            text: text.to_string(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() < 20 {
            return Err(fail("too short"));
        }
        let num = |range: std::ops::Range<usize>| -> Option<u32> {
            b[range].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let shape_ok =
            b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':';
        if !shape_ok {
            return Err(fail("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
            num(0..4),
            num(5..7),
            num(8..10),
            num(11..13),
            num(14..16),
            num(17..19),
        ) else {
            return Err(fail("expected digits in YYYY-MM-DDTHH:MM:SS"));
        };
        if !(1..=12).contains(&month) {
            return Err(fail("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(fail("day out of range for the month"));
        }
        if hour > 23 || minute > 59 {
            return Err(fail("hour or minute out of range"));
        }
        let leap_second = second == 60;
        if second > 60 || (leap_second && (hour != 23 || minute != 59)) {
            return Err(fail("second out of range"));
        }

        let mut pos = 19;
        let mut fraction_nanos: u32 = 0;
        let mut beyond_nanos = String::new();
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let digits_start = pos;
            while b.get(pos).is_some_and(u8::is_ascii_digit) {
                if pos - digits_start < 9 {
                    fraction_nanos = fraction_nanos * 10 + u32::from(b[pos] - b'0');
                }
                pos += 1;
            }
            let count = pos - digits_start;
            if count == 0 {
                return Err(fail("empty fraction"));
            }
            if count > 9 {
                beyond_nanos = text[digits_start + 9..pos]
                    .trim_end_matches('0')
                    .to_string();
            }
            for _ in count..9 {
                fraction_nanos *= 10;
            }
        }
        match &b[pos..] {
            b"Z" | b"+00:00" => {}
            b"" => return Err(fail("missing UTC offset")),
            _ => return Err(fail("offset must be Z or +00:00")),
        }

        let days = days_from_civil(i64::from(year), month, day);
        Ok(Timestamp {
            text: text.to_string(),
            key: (days, hour * 3600 + minute * 60 + second, fraction_nanos),
            beyond_nanos,
        })
    }

    /// The timestamp for an instant, written `YYYY-MM-DDTHH:MM:SS.ffffffZ`
    /// (microseconds, truncated). `None` outside years 0000-9999.
    pub fn from_unix_nanos(unix_nanos: i128) -> Option<Timestamp> {
        let micros = unix_nanos.div_euclid(1_000);
        let secs = micros.div_euclid(1_000_000);
        let micro = micros.rem_euclid(1_000_000);
        let days = i64::try_from(secs.div_euclid(SECS_PER_DAY)).ok()?;
        let sod = secs.rem_euclid(SECS_PER_DAY);
        if !(0..=9999).contains(&civil_from_days(days).0) {
            return None;
        }
        let (sod, micro) = (sod as u32, micro as u32);
        Some(Timestamp {
            text: format_utc(days, sod, micro, "-", ":"),
            key: (days, sod, micro * 1_000),
            beyond_nanos: String::new(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Nanoseconds since the epoch; a leap second counts as the first second
    /// of the next day (only durations use this, never ordering).
    pub fn unix_nanos(&self) -> i128 {
        let (days, sod, nanos) = self.key;
        (i128::from(days) * SECS_PER_DAY + i128::from(sod)) * NANOS_PER_SEC + i128::from(nanos)
    }

    /// SPEC §1.4 order of instants, ignoring spelling (`Z` equals `+00:00`).
    pub fn cmp_instant(&self, other: &Timestamp) -> Ordering {
        self.key
            .cmp(&other.key)
            .then_with(|| self.beyond_nanos.cmp(&other.beyond_nanos))
    }

    /// This instant plus `duration`, or `None` past year 9999.
    pub fn checked_add(&self, duration: Duration) -> Option<Timestamp> {
        Timestamp::from_unix_nanos(self.unix_nanos().checked_add(duration.as_nanos() as i128)?)
    }

    /// Time from `self` until `later`, zero when `later` is not later.
    pub fn until(&self, later: &Timestamp) -> Duration {
        let nanos = (later.unix_nanos() - self.unix_nanos()).max(0);
        let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
        Duration::new(secs, (nanos % NANOS_PER_SEC) as u32)
    }

    /// A compact form for file names: `YYYYMMDDTHHMMSS.ffffffZ`.
    pub fn file_name_form(&self) -> String {
        let (days, sod, nanos) = self.key;
        // A leap second is written as the first second of the next day, as
        // `unix_nanos` counts it.
        let (days, sod) = if sod >= SECS_PER_DAY as u32 {
            (days + 1, sod - SECS_PER_DAY as u32)
        } else {
            (days, sod)
        };
        format_utc(days, sod, nanos / 1_000, "", "")
    }
}

/// `YYYY<d>MM<d>DDTHH<t>MM<t>SS.ffffffZ` for a day, second of day and microsecond.
fn format_utc(days: i64, second_of_day: u32, micro: u32, d: &str, t: &str) -> String {
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    format!("{year:04}{d}{month:02}{d}{day:02}T{hour:02}{t}{minute:02}{t}{second:02}.{micro:06}Z")
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_instant(other)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn is_leap_year(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: digits past the ninth were ignored, so a quarantine ending
    // 10^-10 s after now counted as expired (SPEC §1.4: any length).
    #[test]
    fn fraction_digits_past_the_ninth_still_order_instants() {
        let now = Timestamp::parse("2030-01-01T00:00:00Z").expect("valid");
        let later = Timestamp::parse("2030-01-01T00:00:00.0000000001Z").expect("valid");
        let zeros = Timestamp::parse("2030-01-01T00:00:00.0000000000000+00:00").expect("valid");
        assert_eq!(now.cmp_instant(&later), Ordering::Less);
        assert_eq!(now.cmp_instant(&zeros), Ordering::Equal);
        let a = Timestamp::parse("2030-01-01T00:00:00.00000000005Z").expect("valid");
        let b = Timestamp::parse("2030-01-01T00:00:00.0000000001Z").expect("valid");
        assert_eq!(a.cmp_instant(&b), Ordering::Less);
    }

    #[test]
    fn zulu_and_plus_zero_offsets_denote_the_same_instant() {
        let z = Timestamp::parse("2026-11-26T07:41:10.5Z").expect("valid");
        let plus = Timestamp::parse("2026-11-26T07:41:10.500000+00:00").expect("valid");
        assert_eq!(z.unix_nanos(), plus.unix_nanos());
        assert_ne!(
            z, plus,
            "the text is kept, so the two stay distinct records"
        );
    }

    #[test]
    fn offsets_other_than_zero_are_rejected() {
        for text in [
            "2026-11-26T07:41:10+01:00",
            "2026-11-26T07:41:10-00:00",
            "2026-11-26T07:41:10z",
            "2026-11-26t07:41:10Z",
            "2026-11-26 07:41:10Z",
            "2026-11-26T07:41:10",
            "2026-11-26T07:41Z",
            "2026-02-29T00:00:00Z",
            "2026-11-26T23:58:60Z",
            "2026-11-26T07:41:10.Z",
        ] {
            assert!(Timestamp::parse(text).is_err(), "{text} accepted");
        }
    }

    #[test]
    fn calendar_edges_are_valid() {
        for text in [
            "2024-02-29T00:00:00Z",
            "2000-02-29T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999999Z",
        ] {
            assert!(Timestamp::parse(text).is_ok(), "{text} rejected");
        }
        assert!(Timestamp::parse("1900-02-29T00:00:00Z").is_err());
    }

    #[test]
    fn formatting_an_instant_parses_back_to_it() {
        for nanos in [
            0i128,
            1_764_142_870_123_456_000,
            -86_400_000_000_000,
            253_402_300_799_000_000_000,
        ] {
            let ts = Timestamp::from_unix_nanos(nanos).expect("in range");
            let back = Timestamp::parse(ts.as_str()).expect("parses");
            assert_eq!(back.unix_nanos(), nanos);
        }
        assert!(Timestamp::from_unix_nanos(253_402_300_800_000_000_000).is_none());
    }

    #[test]
    fn a_leap_second_sorts_between_the_last_second_and_the_next_day() {
        let ts = |t| Timestamp::parse(t).expect("valid");
        let last = ts("2016-12-31T23:59:59.999Z");
        let leap = ts("2016-12-31T23:59:60.5Z");
        let next = ts("2017-01-01T00:00:00.2Z");
        assert_eq!(last.cmp_instant(&leap), Ordering::Less);
        assert_eq!(leap.cmp_instant(&next), Ordering::Less);
    }

    #[test]
    fn file_name_form_has_no_colons() {
        let ts = Timestamp::parse("2026-11-26T07:41:10.123456Z").expect("valid");
        assert_eq!(ts.file_name_form(), "20261126T074110.123456Z");
        let leap = Timestamp::parse("2016-12-31T23:59:60.5Z").expect("valid");
        assert_eq!(leap.file_name_form(), "20170101T000000.500000Z");
    }
}
