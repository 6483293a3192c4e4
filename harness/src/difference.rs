//! Where two records differ, in words: the decisive detail of a finding
//! whose record is not the model's.
//!
//! Promises: [`Differences::between`] walks two JSON texts of the same
//! record's members (the model's and the implementation's) member by
//! member, into nested objects and arrays, and keeps each path whose
//! values differ in a way the comparison does not accept, in the model's
//! order (then the implementation's extra members), at most
//! [`DIFFERENCES_KEPT`]: `quarantine.until_ts`, `x[0]`, `x["a b"]`. A
//! member whose texts differ but which the caller's `accepted` takes when
//! put in place of the model's (a timestamp respelled, a number written
//! another way under requirements §7) is passed over; a member whose own
//! members all match but whose text does not (their order, by this
//! project's SPEC) is named whole. [`Differences::said`] names the first
//! [`DIFFERENCES_SHOWN`] with both values (their JSON text, the
//! characters that do not print escaped; a long value shown around the
//! first byte where the two differ), and how many more there are. Two
//! numbers that differ say how they compare: as binary64 values by
//! requirements §7 (each one's binary64 value and how many ulps apart), or
//! as written by this project's SPEC (§1.5).
//!
//! Does not promise: the shortest description of a difference (an element
//! inserted at the front of an array makes every later index differ).

use lifecycle_model::json::{members_of, Member};

use crate::report;
use crate::world::Rules;

/// The differences a message names with their values.
pub const DIFFERENCES_SHOWN: usize = 5;

/// The differences looked for at most (each one costs a judgement of the
/// whole record): past it, a message says "at least".
pub const DIFFERENCES_KEPT: usize = 100;

/// The most bytes of a value a difference shows whole.
const VALUE_SHOWN: usize = 160;

/// One member, or element, that differs: its path and each side's JSON
/// text (`None`: that side has no such member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Differ {
    pub path: String,
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

/// The differences found, and whether the search stopped at
/// [`DIFFERENCES_KEPT`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Differences {
    pub found: Vec<Differ>,
    pub more: bool,
}

/// What each side of a difference is called in a message: `ours` the
/// model's ("the model expects"), `theirs` the implementation's ("the
/// implementation returned").
#[derive(Debug, Clone, Copy)]
pub struct Sides<'a> {
    pub ours: &'a str,
    pub theirs: &'a str,
}

impl Sides<'static> {
    /// The model's record against an implementation's answer.
    pub const RETURNED: Sides<'static> = Sides {
        ours: "the model expects",
        theirs: "the implementation returned",
    };
}

/// Where a member sits in its container.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Name(String),
    Index(usize),
}

/// An object's members or an array's elements, each with its raw text.
struct Items {
    array: bool,
    items: Vec<(Key, String)>,
}

impl Items {
    fn of(raw: &str) -> Option<Items> {
        if raw.starts_with('[') {
            let items = elements_of(raw)?
                .into_iter()
                .enumerate()
                .map(|(i, e)| (Key::Index(i), e))
                .collect();
            Some(Items { array: true, items })
        } else {
            let items = members_of(raw)?
                .into_iter()
                .map(|m| (Key::Name(m.name), m.raw))
                .collect();
            Some(Items {
                array: false,
                items,
            })
        }
    }

    fn from_members(members: Vec<Member>) -> Items {
        Items {
            array: false,
            items: members
                .into_iter()
                .map(|m| (Key::Name(m.name), m.raw))
                .collect(),
        }
    }

    fn get(&self, key: &Key) -> Option<&str> {
        self.items
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, raw)| raw.as_str())
    }
}

/// The JSON text of a container of `items`.
fn text_of(array: bool, items: &[(Key, String)]) -> String {
    let body: Vec<String> = items
        .iter()
        .map(|(key, raw)| match key {
            Key::Name(name) if !array => {
                let mut member = String::new();
                lifecycle_model::record::push_json_string(&mut member, name);
                format!("{member}:{raw}")
            }
            _ => raw.clone(),
        })
        .collect();
    if array {
        format!("[{}]", body.join(","))
    } else {
        format!("{{{}}}", body.join(","))
    }
}

/// The raw texts of the elements of the JSON array `raw` (valid JSON, as
/// the model returns a member's value); `None` when it is not an array.
fn elements_of(raw: &str) -> Option<Vec<String>> {
    let inner = raw.strip_prefix('[')?.strip_suffix(']')?;
    let b = inner.as_bytes();
    let mut elements = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0);
    for (i, &c) in b.iter().enumerate() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.checked_sub(1)?,
            b',' if depth == 0 => {
                elements.push(inner.get(start..i)?.trim_matches(is_ws).to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner.get(start..)?.trim_matches(is_ws);
    if !last.is_empty() || !elements.is_empty() {
        elements.push(last.to_string());
    }
    Some(elements)
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `name` as a step of a path: `.name` for a plain name (`name` at the
/// start), `["…"]` for any other.
fn step(prefix: &str, key: &Key) -> String {
    match key {
        Key::Index(i) => format!("{prefix}[{i}]"),
        Key::Name(name) => {
            let plain = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain {
                format!(
                    "{prefix}[{}]",
                    report::excerpt_within(name.as_bytes(), usize::MAX)
                )
            } else if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            }
        }
    }
}

impl Differences {
    /// The members of the model's record (`ours`) and of the
    /// implementation's (`theirs`) that differ; `accepted` says whether the
    /// JSON text of a whole record (the model's, one member of it replaced
    /// by the implementation's) is one the comparison takes.
    pub fn between(
        ours: Vec<Member>,
        theirs: Vec<Member>,
        accepted: &dyn Fn(String) -> bool,
    ) -> Differences {
        let mut found = Differences::default();
        let (ours, theirs) = (Items::from_members(ours), Items::from_members(theirs));
        walk(
            "",
            &ours,
            &theirs,
            &|items| text_of(false, items),
            accepted,
            &mut found,
        );
        found
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// The first [`DIFFERENCES_SHOWN`] differences, each `path: OURS
    /// value, THEIRS value`, joined by `; `, then how many more there are;
    /// numbers say how they compare by `rules`.
    pub fn said(&self, sides: Sides<'_>, rules: Rules) -> String {
        let mut parts: Vec<String> = self
            .found
            .iter()
            .take(DIFFERENCES_SHOWN)
            .map(|d| {
                let ours = value(d.ours.as_deref(), d.theirs.as_deref());
                let theirs = value(d.theirs.as_deref(), d.ours.as_deref());
                let numbers = match (&d.ours, &d.theirs) {
                    (Some(o), Some(t)) => numbers(o, t, rules),
                    _ => String::new(),
                };
                format!(
                    "{}: {} {ours}, {} {theirs}{numbers}",
                    d.path, sides.ours, sides.theirs
                )
            })
            .collect();
        let rest = self.found.len().saturating_sub(DIFFERENCES_SHOWN);
        match (rest, self.more) {
            (0, false) => {}
            (n, false) => parts.push(format!("and {n} more")),
            (n, true) => parts.push(format!("and at least {} more", n + 1)),
        }
        parts.join("; ")
    }
}

/// Makes the JSON text of a whole record from the items of one container
/// of it.
type Whole<'a> = &'a dyn Fn(&[(Key, String)]) -> String;

/// Collects into `found` the differences between `ours` and `theirs` at
/// `prefix`; `whole` makes the record's text with `ours` replaced by the
/// items given.
fn walk(
    prefix: &str,
    ours: &Items,
    theirs: &Items,
    whole: Whole<'_>,
    accepted: &dyn Fn(String) -> bool,
    found: &mut Differences,
) {
    let keys = ours.items.iter().map(|(k, _)| k).chain(
        theirs
            .items
            .iter()
            .map(|(k, _)| k)
            .filter(|k| ours.get(k).is_none()),
    );
    for key in keys {
        if found.found.len() == DIFFERENCES_KEPT {
            found.more = true;
            return;
        }
        let path = step(prefix, key);
        let (o, t) = match (ours.get(key), theirs.get(key)) {
            (Some(o), Some(t)) if o == t => continue,
            (Some(o), Some(t)) => (o, t),
            (o, t) => {
                found.found.push(Differ {
                    path,
                    ours: o.map(str::to_string),
                    theirs: t.map(str::to_string),
                });
                continue;
            }
        };
        let swapped = |value: &str| -> Vec<(Key, String)> {
            ours.items
                .iter()
                .map(|(k, raw)| {
                    let raw = if k == key { value } else { raw.as_str() };
                    (k.clone(), raw.to_string())
                })
                .collect()
        };
        if accepted(whole(&swapped(t))) {
            continue;
        }
        if let (Some(inner_ours), Some(inner_theirs)) = (Items::of(o), Items::of(t)) {
            if inner_ours.array == inner_theirs.array {
                let array = inner_ours.array;
                let inner_whole = |inner: &[(Key, String)]| whole(&swapped(&text_of(array, inner)));
                let before = found.found.len();
                walk(
                    &path,
                    &inner_ours,
                    &inner_theirs,
                    &inner_whole,
                    accepted,
                    found,
                );
                if found.found.len() > before || found.more {
                    continue;
                }
            }
        }
        found.found.push(Differ {
            path,
            ours: Some(o.to_string()),
            theirs: Some(t.to_string()),
        });
    }
}

/// A value in a difference: `none` when absent, its JSON text when short,
/// else the part of it around the first byte where it differs from
/// `other`.
fn value(raw: Option<&str>, other: Option<&str>) -> String {
    let Some(raw) = raw else {
        return "none".to_string();
    };
    if raw.len() <= VALUE_SHOWN {
        return report::json_text(raw);
    }
    let other = other.unwrap_or_default();
    let at = raw
        .bytes()
        .zip(other.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let start = char_floor(raw, at.saturating_sub(VALUE_SHOWN / 4));
    let end = char_floor(raw, (at + VALUE_SHOWN * 3 / 4).min(raw.len()));
    format!(
        "{}{}{} ({} bytes; shown from byte {start}, they differ from byte {at})",
        if start > 0 { "…" } else { "" },
        report::json_text(&raw[start..end]),
        if end < raw.len() { "…" } else { "" },
        raw.len()
    )
}

/// The largest character boundary of `text` at or before `at`.
fn char_floor(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text` as a binary64 value, when it is a JSON number: out of range, the
/// nearest finite one (as `json_value` compares them).
fn binary64(text: &str) -> Option<f64> {
    let number = text
        .strip_prefix('-')
        .unwrap_or(text)
        .starts_with(|c: char| c.is_ascii_digit());
    if !number {
        return None;
    }
    let x: f64 = text.parse().ok()?;
    Some(x.clamp(f64::MIN, f64::MAX))
}

/// A binary64 value in its shortest decimal form that reads back as it:
/// plain digits between 10^-7 and 10^21, else with an exponent.
fn decimal(x: f64) -> String {
    let magnitude = x.abs();
    if x == 0.0 || (1e-7..1e21).contains(&magnitude) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// How many binary64 values lie from `a` to `b`.
fn ulps(a: f64, b: f64) -> u128 {
    let ordered = |x: f64| {
        let bits = x.to_bits() as i64;
        i128::from(if bits < 0 { i64::MIN - bits } else { bits })
    };
    ordered(a).abs_diff(ordered(b))
}

/// What a message adds when both sides of a difference are numbers: how
/// they compare by `rules`; nothing otherwise.
fn numbers(ours: &str, theirs: &str, rules: Rules) -> String {
    let (Some(o), Some(t)) = (binary64(ours), binary64(theirs)) else {
        return String::new();
    };
    match rules {
        Rules::Requirements if o != t => {
            let mut read = Vec::new();
            for (text, x) in [(ours, o), (theirs, t)] {
                if decimal(x) != text {
                    read.push(format!("{text} is {} as binary64", decimal(x)));
                }
            }
            let apart = match ulps(o, t) {
                1 => ", 1 ulp apart".to_string(),
                n if n <= 1_000_000 => format!(", {n} ulps apart"),
                _ => String::new(),
            };
            let read = if read.is_empty() {
                String::new()
            } else {
                format!("; {}", read.join(", "))
            };
            format!(
                ", which is another binary64 value (numbers compare as binary64 values, requirements §7{read}{apart})"
            )
        }
        Rules::Spec if o == t => {
            ", the same binary64 value written another way (this project's SPEC keeps an unknown member's number as written, §1.5)".to_string()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_model::json::split_object;

    fn members(text: &str) -> Vec<Member> {
        split_object(text.as_bytes()).expect("an object")
    }

    fn between(ours: &str, theirs: &str) -> Differences {
        Differences::between(members(ours), members(theirs), &|_| false)
    }

    #[test]
    fn every_differing_path_is_named_into_objects_and_arrays() {
        let d = between(
            r#"{"a":1,"q":{"until_ts":"x","r":""},"x":[1,[2,3]],"gone":true}"#,
            r#"{"a":1,"q":{"until_ts":"y","r":""},"x":[1,[2,4],5],"new":null}"#,
        );
        let paths: Vec<&str> = d.found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["q.until_ts", "x[1][1]", "x[2]", "gone", "new"]);
        assert_eq!(
            d.said(Sides::RETURNED, Rules::Spec),
            "q.until_ts: the model expects \"x\", the implementation returned \"y\"; \
             x[1][1]: the model expects 3, the implementation returned 4; \
             x[2]: the model expects none, the implementation returned 5; \
             gone: the model expects true, the implementation returned none; \
             new: the model expects none, the implementation returned null"
        );
    }

    #[test]
    fn a_member_the_comparison_accepts_is_passed_over() {
        let d = Differences::between(
            members(r#"{"t":"Z","n":1}"#),
            members(r#"{"t":"+00:00","n":2}"#),
            &|whole| whole.contains("+00:00"),
        );
        let paths: Vec<&str> = d.found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["n"]);
    }

    #[test]
    fn a_member_whose_members_match_but_not_their_order_is_named_whole() {
        let d = between(r#"{"x":{"a":1,"b":2}}"#, r#"{"x":{"b":2,"a":1}}"#);
        assert_eq!(d.found.len(), 1);
        assert_eq!(d.found[0].path, "x");
    }

    #[test]
    fn names_that_are_not_plain_are_json_strings() {
        let d = between(r#"{"a b":{"":1}}"#, r#"{"a b":{"":2}}"#);
        assert_eq!(d.found[0].path, r#"["a b"][""]"#);
        let d = between(r#"{"_a1":{"1a":1}}"#, r#"{"_a1":{"1a":2}}"#);
        assert_eq!(d.found[0].path, r#"_a1["1a"]"#);
    }

    #[test]
    fn more_than_a_handful_are_counted() {
        let ours: String = (0..8).map(|i| format!(r#""m{i}":0,"#)).collect();
        let theirs: String = (0..8).map(|i| format!(r#""m{i}":1,"#)).collect();
        let d = between(
            &format!("{{{}\"z\":0}}", ours),
            &format!("{{{}\"z\":0}}", theirs),
        );
        let said = d.said(Sides::RETURNED, Rules::Spec);
        assert!(
            said.ends_with("; m4: the model expects 0, the implementation returned 1; and 3 more"),
            "{said}"
        );
    }

    #[test]
    fn numbers_say_they_compare_as_binary64_values_by_the_requirements() {
        let d = between(
            r#"{"x":[991744403621478573543]}"#,
            r#"{"x":[9.917444036214787e20]}"#,
        );
        let said = d.said(
            Sides {
                ours: "the file has",
                theirs: "the implementation returned",
            },
            Rules::Requirements,
        );
        assert_eq!(
            said,
            "x[0]: the file has 991744403621478573543, the implementation returned \
             9.917444036214787e20, which is another binary64 value (numbers compare as \
             binary64 values, requirements §7; 991744403621478573543 is \
             991744403621478500000 as binary64, 9.917444036214787e20 is \
             991744403621478700000 as binary64, 1 ulp apart)"
        );
        let spec = between(r#"{"x":1.0}"#, r#"{"x":1}"#).said(Sides::RETURNED, Rules::Spec);
        assert!(spec.contains("written another way"), "{spec}");
        // One value written two ways adds nothing by the requirements.
        let same = between(r#"{"x":1.0}"#, r#"{"x":1}"#).said(Sides::RETURNED, Rules::Requirements);
        assert!(!same.contains("binary64"), "{same}");
        // How far apart: counted up to a million binary64 values.
        let apart = |a: &str, b: &str| {
            between(&format!(r#"{{"x":{a}}}"#), &format!(r#"{{"x":{b}}}"#))
                .said(Sides::RETURNED, Rules::Requirements)
        };
        let two = apart("1", "1.0000000000000004");
        assert!(two.ends_with(", 2 ulps apart)"), "{two}");
        let far = apart("1", "2");
        assert!(
            far.ends_with("(numbers compare as binary64 values, requirements §7)"),
            "{far}"
        );
    }

    #[test]
    fn a_number_is_shown_in_its_shortest_form_with_an_exponent_outside_the_plain_range() {
        for (x, shown) in [
            (0.0, "0"),
            (1.5, "1.5"),
            (-2e20, "-200000000000000000000"),
            (1e21, "1e21"),
            (1e-8, "1e-8"),
            (1e300, "1e300"),
        ] {
            assert_eq!(decimal(x), shown);
        }
    }

    #[test]
    fn an_array_splits_at_its_own_commas_only() {
        assert_eq!(
            elements_of(r#"["a\",b",{"c":[1,2]},3]"#),
            Some(vec![
                r#""a\",b""#.to_string(),
                r#"{"c":[1,2]}"#.to_string(),
                "3".to_string()
            ])
        );
        assert_eq!(elements_of(r#"{"a":1}"#), None);
    }

    #[test]
    fn a_cut_inside_a_character_moves_back_to_its_start() {
        assert_eq!(char_floor("aé", 2), 1);
        assert_eq!(char_floor("aé", 1), 1);
        assert_eq!(char_floor("aé", 3), 3);
    }

    #[test]
    fn ulps_count_the_binary64_values_between_across_zero() {
        let tiny = f64::from_bits(1);
        for (a, b, apart) in [
            (1.0, f64::from_bits(1.0f64.to_bits() + 1), 1),
            (-1.0, f64::from_bits((-1.0f64).to_bits() + 1), 1),
            (0.0, tiny, 1),
            (-0.0, tiny, 1),
            (-tiny, tiny, 2),
            (-0.0, 0.0, 0),
        ] {
            assert_eq!(ulps(a, b), apart, "{a:e} to {b:e}");
            assert_eq!(ulps(b, a), apart, "{b:e} to {a:e}");
        }
    }

    #[test]
    fn a_long_value_is_shown_around_where_it_differs() {
        let long = "x".repeat(1000);
        let d = between(
            &format!(r#"{{"s":"{long}a"}}"#),
            &format!(r#"{{"s":"{long}b"}}"#),
        );
        let said = d.said(Sides::RETURNED, Rules::Spec);
        assert!(
            said.contains("xa\" (1003 bytes; shown from byte 961, they differ from byte 1001)"),
            "{said}"
        );
        assert!(said.contains("xb\" (1003 bytes;"), "{said}");
        // Differing in the middle: a quarter of the window before, three
        // quarters after.
        let d = between(
            &format!(r#"{{"s":"{long}a{long}"}}"#),
            &format!(r#"{{"s":"{long}b{long}"}}"#),
        );
        let said = d.said(Sides::RETURNED, Rules::Spec);
        let shown = format!(
            "…{}a{}… (2003 bytes; shown from byte 961, they differ from byte 1001)",
            "x".repeat(40),
            "x".repeat(119)
        );
        assert!(said.contains(&shown), "{said}");
    }

    #[test]
    fn arrays_split_into_their_elements() {
        assert_eq!(
            elements_of(r#"[1, "a,]" , {"b":[2,3]},[]]"#),
            Some(vec![
                "1".to_string(),
                "\"a,]\"".to_string(),
                "{\"b\":[2,3]}".to_string(),
                "[]".to_string()
            ])
        );
        assert_eq!(elements_of("[ ]"), Some(vec![]));
        assert_eq!(elements_of(r#"["\\",1]"#).map(|e| e.len()), Some(2));
    }
}
