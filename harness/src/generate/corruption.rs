//! Realistic ways the record file gets damaged, as bytes.
//!
//! Promises: a [`Corruption`] turns the file's current bytes (or a sample
//! record when there is no regular file) into new bytes, reaching every
//! corrupt class of SPEC §1.6 and the edges that are still valid (a
//! truncation of the trailing newline, a flipped bit inside a string,
//! 100,000 `[` inside an unknown member, a file of exactly 1 MiB). It does
//! not decide whether the result is valid: the harness asks the model
//! (`lifecycle_model::record::decode`) and checks the implementation agrees.

use lifecycle_model::spec::MAX_FILE_BYTES as LIMIT;
use lifecycle_model::Record;

use crate::input::{Reader, Shape, Writer};
use crate::world::at_micros;

const DEPTH: usize = 100_000;

/// A position in bytes of any length: `len * at / 2^32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index(pub u32);

impl Index {
    pub fn index(self, len: usize) -> usize {
        ((len as u64 * u64::from(self.0)) >> 32) as usize
    }
}

impl Shape for Index {
    fn read(r: &mut Reader<'_>) -> Self {
        Index(r.u32())
    }
    fn write(&self, w: &mut Writer) {
        w.u32(self.0);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// The current bytes cut at a point.
    Truncate(Index),
    /// One bit of the current bytes flipped.
    BitFlip(Index, u8),
    Garbage(Vec<u8>),
    /// A duplicate member: plain, spelled with an escape, or nested in an
    /// unknown member.
    DuplicateKey(u8),
    /// `NaN`, `Infinity` or `-Infinity` as an unknown member or as the
    /// sequence number.
    NonFinite {
        token: u8,
        as_sequence: bool,
    },
    Deep(Deep),
    Oversize(Oversize),
    /// Known member `field` given the `value`-th wrong value (or dropped).
    WrongType {
        field: Index,
        value: Index,
    },
    Bom,
    /// An invalid UTF-8 sequence inserted at a point.
    InvalidUtf8(Index, u8),
    /// A string of an unknown member with a raw control character, an
    /// invalid escape or a lone surrogate (SPEC §1.6.6).
    BadString(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deep {
    /// 100,000 `[` and `]` in an unknown member: valid (SPEC §1.1.6).
    InUnknownMember,
    /// The same nesting as the whole file: not an object.
    WholeFile,
    /// 100,000 `[` and nothing else: not one value.
    Unbalanced,
}

const DEEPS: [Deep; 3] = [Deep::InUnknownMember, Deep::WholeFile, Deep::Unbalanced];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oversize {
    /// A valid record padded with spaces to exactly 1 MiB: valid.
    Exactly,
    /// The same padded to 1 MiB + 1: corrupt.
    OneOver,
    /// 2 MiB.
    Double,
}

const OVERSIZES: [Oversize; 3] = [Oversize::Exactly, Oversize::OneOver, Oversize::Double];

/// Weights of the tags, in the order of [`Corruption`]'s variants:
/// truncations, bit flips and wrong types are the common damage. Those
/// three come back in the last pairs because bytes 17 to 19 read them:
/// folding them into the first pairs would change what committed inputs
/// mean.
const TAGS: [(u8, u8); 14] = [
    (3, 0),
    (3, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (3, 7),
    (1, 8),
    (1, 9),
    (1, 10),
    (1, 0),
    (1, 1),
    (1, 7),
];

impl Shape for Corruption {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick_weighted(&TAGS) {
            0 => Corruption::Truncate(r.read()),
            1 => Corruption::BitFlip(r.read(), r.below(8) as u8),
            2 => Corruption::Garbage((0..r.below(48)).map(|_| r.byte()).collect()),
            3 => Corruption::DuplicateKey(r.below(3) as u8),
            4 => Corruption::NonFinite {
                token: r.below(3) as u8,
                as_sequence: r.flag(),
            },
            5 => Corruption::Deep(r.pick(&DEEPS)),
            6 => Corruption::Oversize(r.pick(&OVERSIZES)),
            7 => Corruption::WrongType {
                field: r.read(),
                value: r.read(),
            },
            8 => Corruption::Bom,
            9 => Corruption::InvalidUtf8(r.read(), r.below(5) as u8),
            _ => Corruption::BadString(r.below(BAD_STRINGS.len()) as u8),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Corruption::Truncate(at) => {
                w.pick_weighted(&TAGS, &0);
                w.write(at);
            }
            Corruption::BitFlip(at, bit) => {
                w.pick_weighted(&TAGS, &1);
                w.write(at);
                w.below(usize::from(*bit), 8);
            }
            Corruption::Garbage(bytes) => {
                w.pick_weighted(&TAGS, &2);
                w.below(bytes.len(), 48);
                bytes.iter().for_each(|b| w.byte(*b));
            }
            Corruption::DuplicateKey(v) => {
                w.pick_weighted(&TAGS, &3);
                w.below(usize::from(*v), 3);
            }
            Corruption::NonFinite { token, as_sequence } => {
                w.pick_weighted(&TAGS, &4);
                w.below(usize::from(*token), 3);
                w.flag(*as_sequence);
            }
            Corruption::Deep(deep) => {
                w.pick_weighted(&TAGS, &5);
                w.pick(&DEEPS, deep);
            }
            Corruption::Oversize(size) => {
                w.pick_weighted(&TAGS, &6);
                w.pick(&OVERSIZES, size);
            }
            Corruption::WrongType { field, value } => {
                w.pick_weighted(&TAGS, &7);
                w.write(field);
                w.write(value);
            }
            Corruption::Bom => w.pick_weighted(&TAGS, &8),
            Corruption::InvalidUtf8(at, kind) => {
                w.pick_weighted(&TAGS, &9);
                w.write(at);
                w.below(usize::from(*kind), 5);
            }
            Corruption::BadString(kind) => {
                w.pick_weighted(&TAGS, &10);
                w.below(usize::from(*kind), BAD_STRINGS.len());
            }
        }
    }
}

/// Unknown members whose string breaks SPEC §1.1.3.
const BAD_STRINGS: [&str; 4] = [
    "\"bad\":\"a\u{1}b\",",
    "\"bad\":\"\\q\",",
    "\"bad\":\"\\ud800\",",
    "\"bad\":\"\\udc00\\ud800\",",
];

impl Corruption {
    pub fn kind(&self) -> &'static str {
        match self {
            Corruption::Truncate(_) => "truncate",
            Corruption::BitFlip(..) => "bit_flip",
            Corruption::Garbage(_) => "garbage",
            Corruption::DuplicateKey(_) => "duplicate_key",
            Corruption::NonFinite { .. } => "non_finite",
            Corruption::Deep(_) => "deep_nesting",
            Corruption::Oversize(_) => "oversize",
            Corruption::WrongType { .. } => "wrong_type",
            Corruption::Bom => "bom",
            Corruption::InvalidUtf8(..) => "invalid_utf8",
            Corruption::BadString(_) => "bad_string",
        }
    }

    /// The bytes to write, given the file's current bytes (if it is a
    /// regular file) and the clock.
    pub fn bytes(&self, current: Option<&[u8]>, now_micros: i64) -> Vec<u8> {
        let sample = Record::default_at(&at_micros(now_micros)).encode();
        let current = current.unwrap_or(&sample).to_vec();
        // Edits that need a record's structure start from a valid one.
        let valid = match lifecycle_model::record::decode(&current) {
            Ok(_) => current.clone(),
            Err(_) => sample,
        };
        match self {
            Corruption::Truncate(at) => current[..at.index(current.len() + 1)].to_vec(),
            Corruption::BitFlip(at, bit) => {
                let mut b = current;
                if !b.is_empty() {
                    let i = at.index(b.len());
                    b[i] ^= 1 << bit;
                }
                b
            }
            Corruption::Garbage(g) => g.clone(),
            Corruption::DuplicateKey(variant) => {
                let member = match variant {
                    0 => r#""shadow_run":false,"#,
                    1 => r#""\u0073hadow_run":false,"#,
                    _ => r#""dup":{"a":1,"\u0061":2},"#,
                };
                insert_member(&valid, member)
            }
            Corruption::NonFinite { token, as_sequence } => {
                let token = ["NaN", "Infinity", "-Infinity"][usize::from(*token % 3)];
                if *as_sequence {
                    template(Some(("wrapper_event_seq", Some(token))))
                } else {
                    insert_member(&valid, &format!("\"nan\":{token},"))
                }
            }
            Corruption::Deep(Deep::InUnknownMember) => {
                insert_member(&valid, &format!("\"deep\":{},", nested(DEPTH)))
            }
            Corruption::Deep(Deep::WholeFile) => nested(DEPTH).into_bytes(),
            Corruption::Deep(Deep::Unbalanced) => "[".repeat(DEPTH).into_bytes(),
            Corruption::Oversize(size) => {
                let len = match size {
                    Oversize::Exactly => LIMIT,
                    Oversize::OneOver => LIMIT + 1,
                    Oversize::Double => 2 * LIMIT,
                };
                let mut b = valid;
                b.resize(len.max(b.len()), b' ');
                b
            }
            Corruption::WrongType { field, value } => {
                let (path, _) = FIELDS[field.index(FIELDS.len())];
                let value = WRONG[value.index(WRONG.len())];
                template(Some((path, value)))
            }
            Corruption::Bom => [b"\xEF\xBB\xBF".as_slice(), &valid].concat(),
            Corruption::BadString(kind) => {
                insert_member(&valid, BAD_STRINGS[usize::from(*kind) % BAD_STRINGS.len()])
            }
            Corruption::InvalidUtf8(at, kind) => {
                let bad: &[u8] = match kind {
                    0 => b"\xFF",
                    1 => b"\xC0\x80",
                    2 => b"\xED\xA0\x80",
                    3 => b"\xF4\x90\x80\x80",
                    _ => b"\xE2\x82",
                };
                let i = at.index(current.len() + 1);
                [&current[..i], bad, &current[i..]].concat()
            }
        }
    }
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// `member` (ending in a comma) inserted as the first member of the
/// top-level object of `valid`.
fn insert_member(valid: &[u8], member: &str) -> Vec<u8> {
    let open = valid.iter().position(|&c| c == b'{').unwrap_or(0);
    [&valid[..=open], member.as_bytes(), &valid[open + 1..]].concat()
}

/// Every known member (top level and nested) and a value of its type.
const FIELDS: [(&str, &str); 14] = [
    ("current_state", r#""SLEEP""#),
    ("since_ts", r#""2024-02-29T23:59:60.5+00:00""#),
    ("last_activity_ts", r#""2024-03-01T00:00:00Z""#),
    ("wrapper_event_seq", "7"),
    ("sleep_cycle_progress", "PROGRESS"),
    ("quarantine", "QUARANTINE"),
    ("shadow_run", "false"),
    ("last_completed_step", "1"),
    ("attempt", "2"),
    ("last_error", r#""boom""#),
    ("started_at", r#""2024-03-01T00:00:00Z""#),
    ("until_ts", r#""2024-03-02T00:00:00Z""#),
    ("reason", r#""sleep step 2 failed 3x: boom""#),
    ("q_since_ts", r#""2024-03-01T00:00:00Z""#),
];

/// Wrong values (some of which are right for some fields: the model
/// decides); `None` drops the member.
const WRONG: [Option<&str>; 16] = [
    None,
    Some("1"),
    Some(r#""1""#),
    Some("true"),
    Some("null"),
    Some("[]"),
    Some("{}"),
    Some("1.0"),
    Some("-1"),
    Some("-0"),
    Some("9007199254740992"),
    Some(r#""wake""#),
    Some(r#""2024-03-01T00:00:00+01:00""#),
    Some(r#""2023-02-29T00:00:00Z""#),
    Some(r#""2024-03-01T12:00:60Z""#),
    Some(r#""2024-03-01T00:00:00.Z""#),
];

/// A full record with every member present, `over` replacing (or, with
/// `None`, dropping) one member's value.
fn template(over: Option<(&str, Option<&str>)>) -> Vec<u8> {
    let member = |path: &str, name: &str, default: &str| -> Option<String> {
        let value = match over {
            Some((p, v)) if p == path => v?.to_string(),
            _ => default.to_string(),
        };
        Some(format!("\"{name}\":{value}"))
    };
    let get = |path: &str| FIELDS.iter().find(|(p, _)| *p == path).map_or("", |f| f.1);
    let object = |members: Vec<Option<String>>| {
        let inner: Vec<String> = members.into_iter().flatten().collect();
        format!("{{{}}}", inner.join(","))
    };
    let progress = object(
        ["last_completed_step", "attempt", "last_error", "started_at"]
            .iter()
            .map(|k| member(k, k, get(k)))
            .collect(),
    );
    let quarantine = object(vec![
        member("until_ts", "until_ts", get("until_ts")),
        member("q_since_ts", "since_ts", get("q_since_ts")),
        member("reason", "reason", get("reason")),
    ]);
    let top: Vec<Option<String>> = FIELDS[..7]
        .iter()
        .map(|(k, v)| {
            let default = match *v {
                "PROGRESS" => progress.as_str(),
                "QUARANTINE" => quarantine.as_str(),
                v => v,
            };
            member(k, k, default)
        })
        .collect();
    let mut text = object(top);
    text.push('\n');
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::clock::START_MICROS;

    /// The bytes `corruption` makes of the sample record.
    fn of_sample(corruption: &Corruption) -> Vec<u8> {
        corruption.bytes(None, START_MICROS)
    }

    #[test]
    fn an_index_spreads_over_the_whole_length() {
        for (at, len, index) in [
            (0, 100, 0),
            (1 << 31, 100, 50),
            (u32::MAX, 100, 99),
            (u32::MAX, 1, 0),
            (3 << 30, 1 << 20, 3 << 18),
        ] {
            assert_eq!(Index(at).index(len), index, "{at} of {len}");
        }
    }

    #[test]
    fn a_truncation_keeps_any_prefix_up_to_the_whole_file() {
        let sample = of_sample(&Corruption::Truncate(Index(0)));
        assert!(sample.is_empty());
        let whole = of_sample(&Corruption::Truncate(Index(u32::MAX)));
        assert_eq!(whole, Record::default_at(&at_micros(START_MICROS)).encode());
    }

    #[test]
    fn a_bit_flip_changes_exactly_one_bit_set_or_clear() {
        let sample = Record::default_at(&at_micros(START_MICROS)).encode();
        // `{` is 0x7b: bit 0 set, bit 2 clear.
        for bit in [0, 2] {
            let flipped = of_sample(&Corruption::BitFlip(Index(0), bit));
            assert_eq!(flipped[0], sample[0] ^ (1 << bit), "bit {bit}");
            assert_eq!(flipped[1..], sample[1..]);
        }
    }

    #[test]
    fn a_non_finite_token_is_nan_infinity_or_minus_infinity_in_turn() {
        for (token, text) in [(0, "NaN"), (4, "Infinity"), (5, "-Infinity"), (6, "NaN")] {
            let file = of_sample(&Corruption::NonFinite {
                token,
                as_sequence: false,
            });
            let file = String::from_utf8(file).expect("UTF-8");
            assert!(file.starts_with(&format!("{{\"nan\":{text},")), "{file}");
        }
    }

    #[test]
    fn an_oversize_file_is_exactly_at_or_past_the_limit() {
        for (size, len) in [
            (Oversize::Exactly, LIMIT),
            (Oversize::OneOver, LIMIT + 1),
            (Oversize::Double, 2 * LIMIT),
        ] {
            assert_eq!(of_sample(&Corruption::Oversize(size)).len(), len);
        }
    }

    #[test]
    fn each_invalid_utf8_sequence_is_a_file_of_its_own() {
        let files: std::collections::BTreeSet<Vec<u8>> = (0..5)
            .map(|kind| of_sample(&Corruption::InvalidUtf8(Index(0), kind)))
            .collect();
        assert_eq!(files.len(), 5);
        // At the last index, after the whole file.
        let sample = Record::default_at(&at_micros(START_MICROS)).encode();
        let at_end = of_sample(&Corruption::InvalidUtf8(Index(u32::MAX), 0));
        assert_eq!(at_end, [&sample[..], b"\xFF"].concat());
    }

    #[test]
    fn the_template_replaces_or_drops_the_one_member_named() {
        let text = |over| String::from_utf8(template(over)).expect("UTF-8");
        let whole = text(None);
        let replaced = text(Some(("attempt", Some(r#""x""#))));
        assert_eq!(
            replaced,
            whole.replace(r#""attempt":2"#, r#""attempt":"x""#)
        );
        let dropped = text(Some(("shadow_run", None)));
        assert_eq!(dropped, whole.replace(r#","shadow_run":false"#, ""));
    }

    #[test]
    fn each_duplicate_key_and_bad_string_is_a_file_of_its_own() {
        let distinct = |files: Vec<Vec<u8>>| {
            files
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let duplicates = (0..3).map(|v| of_sample(&Corruption::DuplicateKey(v)));
        assert_eq!(distinct(duplicates.collect()), 3);
        let bad = (0..BAD_STRINGS.len()).map(|k| {
            of_sample(&Corruption::BadString(
                u8::try_from(k).expect("few bad strings"),
            ))
        });
        assert_eq!(distinct(bad.collect()), BAD_STRINGS.len());
    }

    #[test]
    fn the_edges_that_stay_valid_are_valid_and_the_template_is_a_record() {
        let decode = lifecycle_model::record::decode;
        assert!(decode(&template(None)).is_ok(), "every member as it is");
        assert!(
            decode(&of_sample(&Corruption::Deep(Deep::InUnknownMember))).is_ok(),
            "100,000 [ inside an unknown member"
        );
        assert!(decode(&of_sample(&Corruption::Oversize(Oversize::Exactly))).is_ok());
        let whole = of_sample(&Corruption::Deep(Deep::WholeFile));
        assert_eq!(whole.len(), 2 * DEPTH);
        assert!(whole.starts_with(b"[[") && whole.ends_with(b"]]"));
    }
}
