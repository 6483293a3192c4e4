//! SPEC §1.4 timestamps: which texts are timestamps, and their order.
//!
//! Promises: [`Timestamp::parse`] accepts exactly the texts of SPEC §1.4; [`Timestamp`]
//! compares by instant (fraction compared as a decimal of any length, `Z`
//! equal to `+00:00`, `23:59:60` after `23:59:59.x`), never by spelling.
//! [`Timestamp::from_unix_micros`] and [`Timestamp::plus_secs`] make the timestamps a
//! writer produces; their spelling is the model's own (SPEC §1.4 leaves it
//! open), so compare with `==` (instant), not by text.
//!
//! Does not promise: years outside 0000-9999 (constructors return `None`).

const SECS_PER_DAY: i128 = 86_400;
const MICROS_PER_SEC: i128 = 1_000_000;

/// A SPEC §1.4 timestamp: its text and the instant it denotes.
#[derive(Debug, Clone)]
pub struct Timestamp {
    text: String,
    key: Key,
}

/// The SPEC §1.4 order is lexicographic on these fields. The fraction is
/// kept as its digits without trailing zeros: for such digit strings the
/// string order is the decimal order (a longer string that extends a
/// shorter one ends in a non-zero digit, so it is larger), at any length.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    fraction: String,
}

impl Timestamp {
    /// `Some` exactly when `text` is a timestamp of SPEC §1.4.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let (date_time, offset) = b.split_at(b.len().checked_sub(1)?);
        let date_time = match offset {
            b"Z" => date_time,
            _ => b.strip_suffix(b"+00:00")?,
        };
        if date_time.len() < 19 {
            return None;
        }
        let (fixed, fraction) = date_time.split_at(19);
        let fraction = match fraction {
            [] => "",
            [b'.', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
                // ASCII digits only, so this slice is on a char boundary.
                &text[20..19 + fraction.len()]
            }
            _ => return None,
        };
        let shape = b"dddd-dd-ddTdd:dd:dd";
        let shape_ok = fixed.iter().zip(shape).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            s => c == s,
        });
        if !shape_ok {
            return None;
        }
        let num = |from: usize, to: usize| {
            fixed[from..to]
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
        };
        let key = Key {
            year: num(0, 4),
            month: u8::try_from(num(5, 7)).ok()?,
            day: u8::try_from(num(8, 10)).ok()?,
            hour: u8::try_from(num(11, 13)).ok()?,
            minute: u8::try_from(num(14, 16)).ok()?,
            second: u8::try_from(num(17, 19)).ok()?,
            fraction: fraction.trim_end_matches('0').to_string(),
        };
        let leap_second = key.hour == 23 && key.minute == 59 && key.second == 60;
        let valid = (1..=12).contains(&key.month)
            && key.day >= 1
            && key.day <= days_in_month(key.year, key.month)
            && key.hour <= 23
            && key.minute <= 59
            && (key.second <= 59 || leap_second);
        valid.then(|| Timestamp {
            text: text.to_string(),
            key,
        })
    }

    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z.
    pub fn from_unix_micros(micros: i64) -> Option<Timestamp> {
        let micros = i128::from(micros);
        let secs = micros.div_euclid(MICROS_PER_SEC);
        let sub = micros.rem_euclid(MICROS_PER_SEC);
        Timestamp::from_unix_secs(secs, &format!("{sub:06}"))
    }

    /// This instant plus `secs` seconds (a leap second counts as the
    /// 86,400th second of its day and is left as the store leaves it: the
    /// result of adding to `23:59:60` is the next day's `00:00:00` + secs).
    pub fn plus_secs(&self, secs: u64) -> Option<Timestamp> {
        let k = &self.key;
        let day = days_from_civil(i128::from(k.year), k.month, k.day);
        // 23:59:60 gives 86,400, which is the next day's 00:00:00.
        let of_day = i128::from(k.hour) * 3600 + i128::from(k.minute) * 60 + i128::from(k.second);
        Timestamp::from_unix_secs(day * SECS_PER_DAY + of_day + i128::from(secs), &k.fraction)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whole microseconds since 1970-01-01T00:00:00Z, rounded down (a leap
    /// second counts as the next day's first second, as [`Timestamp::plus_secs`]
    /// counts it).
    pub fn unix_micros(&self) -> Option<i64> {
        let k = &self.key;
        let day = days_from_civil(i128::from(k.year), k.month, k.day);
        let of_day = i128::from(k.hour) * 3600 + i128::from(k.minute) * 60 + i128::from(k.second);
        let digits: String = k.fraction.chars().chain("000000".chars()).take(6).collect();
        let sub: i128 = digits.parse().ok()?;
        i64::try_from((day * SECS_PER_DAY + of_day) * MICROS_PER_SEC + sub).ok()
    }

    /// `secs` after the epoch, with `fraction` digits (possibly none).
    fn from_unix_secs(secs: i128, fraction: &str) -> Option<Timestamp> {
        let (year, month, day) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        if !(0..=9999).contains(&year) {
            return None;
        }
        let of_day = secs.rem_euclid(SECS_PER_DAY);
        let (hour, minute, second) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
        let dot = if fraction.is_empty() { "" } else { "." };
        Timestamp::parse(&format!(
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{dot}{fraction}Z"
        ))
    }
}

/// Proleptic Gregorian (SPEC §1.4): divisible by 4 and not by 100, or by 400.
pub fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// The days of `month` (1-12) of `year` (SPEC §1.4).
pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm: years start in March so the leap day is the year's last).
fn days_from_civil(year: i128, month: u8, day: u8) -> i128 {
    let (month, day) = (i128::from(month), i128::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i128) -> (i128, i128, i128) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Timestamp) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Timestamp) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

#[cfg(test)]
mod tests {
    use super::{civil_from_days, days_from_civil, Timestamp};

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(|| panic!("{text} is a timestamp"))
    }

    fn rejects(text: &str) -> bool {
        Timestamp::parse(text).is_none()
    }

    #[test]
    fn unix_micros_round_down_and_invert_from_unix_micros() {
        for micros in [0, 1, -1, 1_704_067_200_123_456, -62_167_219_200_000_000] {
            let t = Timestamp::from_unix_micros(micros).expect("in range");
            assert_eq!(t.unix_micros(), Some(micros));
        }
        assert_eq!(ts("1970-01-01T00:00:00.0000019Z").unix_micros(), Some(1));
        assert_eq!(
            ts("1970-01-01T23:59:60Z").unix_micros(),
            ts("1970-01-02T00:00:00Z").unix_micros()
        );
    }

    #[test]
    fn plain_utc_timestamp_is_accepted_with_its_text() {
        assert_eq!(ts("2024-01-01T12:00:00Z").as_str(), "2024-01-01T12:00:00Z");
    }

    #[test]
    fn z_equals_plus_00_00() {
        assert_eq!(ts("2024-01-01T12:00:00Z"), ts("2024-01-01T12:00:00+00:00"));
    }

    #[test]
    fn lowercase_t_or_z_is_rejected() {
        assert!(rejects("2024-01-01t12:00:00Z"));
        assert!(rejects("2024-01-01T12:00:00z"));
    }

    #[test]
    fn offsets_other_than_plus_00_00_are_rejected() {
        for offset in [
            "-00:00",
            "+01:00",
            "+00:30",
            "+0000",
            "+00",
            "+00:00:00",
            "Z+00:00",
        ] {
            assert!(rejects(&format!("2024-01-01T12:00:00{offset}")), "{offset}");
        }
    }

    #[test]
    fn missing_offset_seconds_or_time_is_rejected() {
        assert!(rejects("2024-01-01T12:00:00"));
        assert!(rejects("2024-01-01T12:00Z"));
        assert!(rejects("2024-01-01Z"));
        assert!(rejects("2024-01-01"));
        assert!(rejects(""));
    }

    #[test]
    fn space_separator_is_rejected() {
        assert!(rejects("2024-01-01 12:00:00Z"));
    }

    #[test]
    fn non_ascii_digits_are_rejected() {
        assert!(rejects("２024-01-01T12:00:00Z"));
        assert!(rejects("2024-01-01T12:00:0٠Z"));
    }

    #[test]
    fn year_needs_exactly_four_digits() {
        assert!(rejects("12024-01-01T12:00:00Z"));
        assert!(rejects("024-01-01T12:00:00Z"));
        assert!(rejects("-0001-01-01T12:00:00Z"));
        assert!(Timestamp::parse("0000-01-01T00:00:00Z").is_some());
        assert!(Timestamp::parse("9999-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn month_day_hour_minute_ranges_are_enforced() {
        assert!(rejects("2024-00-01T00:00:00Z"));
        assert!(rejects("2024-13-01T00:00:00Z"));
        assert!(rejects("2024-01-00T00:00:00Z"));
        assert!(rejects("2024-01-32T00:00:00Z"));
        assert!(rejects("2024-04-31T00:00:00Z"));
        assert!(rejects("2024-01-01T24:00:00Z"));
        assert!(rejects("2024-01-01T00:60:00Z"));
        assert!(Timestamp::parse("2024-04-30T00:00:00Z").is_some());
        assert!(Timestamp::parse("2024-12-31T00:00:00Z").is_some());
    }

    #[test]
    fn leap_days_follow_the_proleptic_gregorian_rule() {
        assert!(Timestamp::parse("0000-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("2000-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("2024-02-29T00:00:00Z").is_some());
        assert!(rejects("1900-02-29T00:00:00Z"));
        assert!(rejects("2023-02-29T00:00:00Z"));
        assert!(rejects("2024-02-30T00:00:00Z"));
    }

    #[test]
    fn second_60_is_valid_only_at_23_59_on_any_date() {
        assert!(Timestamp::parse("2016-12-31T23:59:60Z").is_some());
        assert!(Timestamp::parse("2023-06-15T23:59:60.25+00:00").is_some());
        assert!(rejects("2016-12-31T12:00:60Z"));
        assert!(rejects("2016-12-31T23:58:60Z"));
        assert!(rejects("2016-12-31T22:59:60Z"));
        assert!(rejects("2016-12-31T23:59:61Z"));
    }

    #[test]
    fn fraction_needs_at_least_one_digit() {
        assert!(rejects("2024-01-01T12:00:00.Z"));
        assert!(rejects("2024-01-01T12:00:00,5Z"));
        assert!(rejects("2024-01-01T12:00:00.5aZ"));
        assert!(Timestamp::parse("2024-01-01T12:00:00.5Z").is_some());
    }

    #[test]
    fn fraction_of_any_length_is_accepted() {
        let long = format!("2024-01-01T12:00:00.{}Z", "7".repeat(1000));
        assert!(Timestamp::parse(&long).is_some());
    }

    #[test]
    fn tiny_fraction_sorts_after_no_fraction() {
        assert!(ts("2024-01-01T12:00:00.0000000001Z") > ts("2024-01-01T12:00:00Z"));
    }

    #[test]
    fn fraction_digits_beyond_microseconds_decide_the_order() {
        assert!(ts("2024-01-01T12:00:00.1234561Z") > ts("2024-01-01T12:00:00.123456Z"));
        assert!(ts("2024-01-01T12:00:00.09Z") < ts("2024-01-01T12:00:00.1Z"));
    }

    #[test]
    fn trailing_zeros_in_the_fraction_do_not_change_the_instant() {
        assert_eq!(ts("2024-01-01T12:00:00.5Z"), ts("2024-01-01T12:00:00.50Z"));
        assert_eq!(ts("2024-01-01T12:00:00.000Z"), ts("2024-01-01T12:00:00Z"));
    }

    #[test]
    fn leap_second_sorts_after_59_x_and_before_the_next_day() {
        let leap = ts("2016-12-31T23:59:60Z");
        assert!(ts("2016-12-31T23:59:59.999999999Z") < leap);
        assert!(leap < ts("2016-12-31T23:59:60.5Z"));
        assert!(ts("2016-12-31T23:59:60.999Z") < ts("2017-01-01T00:00:00Z"));
    }

    #[test]
    fn fields_compare_before_the_fraction() {
        assert!(ts("2024-01-01T12:00:00.9Z") < ts("2024-01-01T12:00:01Z"));
        assert!(ts("2023-12-31T23:59:59Z") < ts("2024-01-01T00:00:00Z"));
    }

    #[test]
    fn every_day_of_three_leap_centuries_converts_both_ways() {
        let ranges = [(-1, 1), (1899, 1901), (1999, 2001), (9998, 9999)];
        for (from, to) in ranges {
            let (first, last) = (days_from_civil(from, 1, 1), days_from_civil(to, 12, 31));
            for days in first..=last {
                let (year, month, day) = civil_from_days(days);
                assert!((1..=12).contains(&month) && (1..=31).contains(&day));
                let (month, day) = (month as u8, day as u8);
                assert_eq!(
                    days_from_civil(year, month, day),
                    days,
                    "{year}-{month}-{day}"
                );
            }
        }
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(civil_from_days(days_from_civil(2000, 3, 1)), (2000, 3, 1));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn instants_that_differ_are_not_equal() {
        assert_ne!(
            ts("2024-01-01T00:00:00Z"),
            ts("2024-01-01T00:00:00.000001Z")
        );
        assert_eq!(
            ts("2024-01-01T00:00:00Z"),
            ts("2024-01-01T00:00:00.000+00:00")
        );
    }

    #[test]
    fn from_unix_micros_spells_six_fraction_digits() {
        let t = Timestamp::from_unix_micros(1_704_110_400_000_001).expect("in range");
        assert_eq!(t.as_str(), "2024-01-01T12:00:00.000001Z");
    }

    #[test]
    fn from_unix_micros_handles_times_before_the_epoch() {
        let t = Timestamp::from_unix_micros(-1).expect("in range");
        assert_eq!(t.as_str(), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn from_unix_micros_is_none_outside_years_0000_to_9999() {
        assert!(Timestamp::from_unix_micros(i64::MAX).is_none());
        assert!(Timestamp::from_unix_micros(i64::MIN).is_none());
    }

    #[test]
    fn plus_secs_crosses_a_leap_day() {
        let t = ts("2024-02-28T12:00:00Z")
            .plus_secs(86_400)
            .expect("in range");
        assert_eq!(t, ts("2024-02-29T12:00:00Z"));
    }

    #[test]
    fn plus_secs_keeps_the_fraction() {
        let t = ts("2024-01-01T00:00:00.25+00:00")
            .plus_secs(1)
            .expect("in range");
        assert_eq!(t, ts("2024-01-01T00:00:01.25Z"));
    }

    #[test]
    fn plus_secs_from_a_leap_second_starts_at_the_next_midnight() {
        let t = ts("2016-12-31T23:59:60Z").plus_secs(0).expect("in range");
        assert_eq!(t, ts("2017-01-01T00:00:00Z"));
    }

    #[test]
    fn plus_secs_past_year_9999_is_none() {
        assert!(ts("9999-12-31T23:59:59Z").plus_secs(1).is_none());
        assert!(ts("2024-01-01T00:00:00Z").plus_secs(u64::MAX).is_none());
        assert!(ts("9999-12-31T23:59:58Z").plus_secs(1).is_some());
    }
}
