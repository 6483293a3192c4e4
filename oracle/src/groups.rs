//! Findings grouped by root cause: one group per rule broken one way.
//!
//! Promises: two findings are in one group exactly when they have the same
//! verdict, the same SPEC section, the same rule (the sentence every
//! finding of that rule carries, whatever the case) and the same way of
//! breaking it (`Finding::how`: the §1.6 item a file breaks, the kind of
//! difference in a record, where a mode came from; words that do not depend
//! on the case's input). The suite and the case are not part of it: one
//! defect seen by several suites (a mode kept after a save, a kill, a
//! failed probe) is one group. Each group keeps its cases in the report's
//! order and names the one with the smallest reproduction, the one to
//! read first; groups come violations first, then divergences, the
//! largest first, then by section.
//!
//! Does not promise: that two groups have two causes. A group is what
//! the oracle can tell apart from the outcome alone; a library with one
//! defect that breaks two rules (a timestamp parser that refuses what a
//! load must read and also what a save must write) shows two groups.

use std::cmp::Reverse;

use crate::report::{CaseResult, Verdict};

/// The findings of one rule broken one way.
#[derive(Debug, Clone)]
pub struct Group<'r> {
    pub verdict: Verdict,
    pub spec: &'r str,
    pub rule: &'r str,
    /// How the rule broke; empty when the rule breaks one way only.
    pub how: &'r str,
    /// The suites that found it, in the order they ran.
    pub suites: Vec<&'static str>,
    /// Every case of the group, in the report's order.
    pub cases: Vec<&'r CaseResult>,
    /// The case with the smallest reproduction.
    pub example: &'r CaseResult,
}

impl Group<'_> {
    /// The rule and how it broke, as one sentence.
    pub fn sentence(&self) -> String {
        if self.how.is_empty() {
            self.rule.to_string()
        } else {
            format!("{}: {}", self.rule, self.how)
        }
    }
}

/// What decides a group.
fn key(r: &CaseResult) -> (Verdict, &str, &str, &str) {
    // A finding with no rule of its own (none is made so today) groups
    // alone, by its message.
    let rule = if r.rule.is_empty() {
        &r.message
    } else {
        &r.rule
    };
    (r.verdict, &r.spec, rule, &r.how)
}

/// How big a case's reproduction is: what a reader has to read.
fn size(r: &CaseResult) -> usize {
    r.reproduction.as_deref().map_or(0, str::len) + r.message.len()
}

/// The findings (violations and divergences) of `results`, grouped.
pub fn of(results: &[CaseResult]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for r in results.iter().filter(|r| r.verdict.is_finding()) {
        let k = key(r);
        match groups.iter_mut().find(|g| key(g.example) == k) {
            Some(g) => {
                if !g.suites.contains(&r.suite) {
                    g.suites.push(r.suite);
                }
                g.cases.push(r);
                if size(r) < size(g.example) {
                    g.example = r;
                }
            }
            None => groups.push(Group {
                verdict: k.0,
                spec: k.1,
                rule: k.2,
                how: k.3,
                suites: vec![r.suite],
                cases: vec![r],
                example: r,
            }),
        }
    }
    groups.sort_by(|a, b| {
        (a.verdict, Reverse(a.cases.len()), section_order(a.spec)).cmp(&(
            b.verdict,
            Reverse(b.cases.len()),
            section_order(b.spec),
        ))
    });
    groups
}

/// `§3.4.2` as `[3, 4, 2]`, so that `§3.10` sorts after `§3.9`.
fn section_order(spec: &str) -> Vec<u32> {
    spec.trim_start_matches('§')
        .split('.')
        .map(|n| n.parse().unwrap_or(u32::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(suite: &'static str, case: &str, spec: &str, rule: &str, how: &str) -> CaseResult {
        let mut r = CaseResult::pass(suite, case.to_string(), spec, "")
            .with(Verdict::Violation, format!("{case} broke"));
        r.rule = rule.to_string();
        r.how = how.to_string();
        r
    }

    const LOAD: &str = "load of a file that breaks SPEC §1 returns the default record";
    const MODE: &str = "the record file has mode 0600 whenever it is visible";

    #[test]
    fn one_defect_seen_by_several_suites_and_cases_is_one_group() {
        let results = vec![
            finding(
                "kill",
                "kill/old_record_0644",
                "§3.6",
                MODE,
                "the mode of the record it replaced",
            ),
            finding(
                "permissions",
                "permissions/save_over_record_0644",
                "§3.6",
                MODE,
                "the mode of the record it replaced",
            ),
            finding(
                "faults",
                "faults/old_record_0644",
                "§3.6",
                MODE,
                "the mode of the record it replaced",
            ),
        ];
        let groups = of(&results);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].cases.len(), 3);
        assert_eq!(groups[0].suites, ["kill", "permissions", "faults"]);
    }

    #[test]
    fn two_ways_of_breaking_one_rule_are_two_groups() {
        let results = vec![
            finding(
                "vectors",
                "vectors/load/corrupt_duplicate_key_top_level",
                "§1.1.5",
                LOAD,
                "the file breaks §1.6 item 7",
            ),
            finding(
                "vectors",
                "vectors/load/corrupt_lone_high_surrogate",
                "§1.1.3",
                LOAD,
                "the file breaks §1.6 item 6",
            ),
            finding(
                "vectors",
                "vectors/load/corrupt_duplicate_key_via_escape",
                "§1.1.5",
                LOAD,
                "the file breaks §1.6 item 7",
            ),
        ];
        let groups = of(&results);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].how, "the file breaks §1.6 item 7");
        assert_eq!(groups[0].cases.len(), 2);
        assert_eq!(groups[1].how, "the file breaks §1.6 item 6");
    }

    #[test]
    fn the_example_is_the_case_with_the_smallest_reproduction() {
        let mut results = vec![
            finding("vectors", "vectors/load/a", "§1.1.5", LOAD, ""),
            finding("vectors", "vectors/load/b", "§1.1.5", LOAD, ""),
        ];
        results[0].reproduction = Some("x".repeat(500));
        results[1].reproduction = Some("x".repeat(50));
        assert_eq!(of(&results)[0].example.case, "vectors/load/b");
    }

    #[test]
    fn violations_come_before_divergences_and_larger_groups_first() {
        let mut divergence = finding("kill", "kill/x", "§3.3", "a divergence", "");
        divergence.verdict = Verdict::Divergence;
        let results = vec![
            divergence,
            finding("power", "power/a", "§3.4.2", "durable", ""),
            finding("vectors", "vectors/a", "§1.1.5", LOAD, ""),
            finding("vectors", "vectors/b", "§1.1.5", LOAD, ""),
            CaseResult::pass("vectors", "vectors/c".to_string(), "§1", "fine"),
        ];
        let order: Vec<&str> = of(&results).iter().map(|g| g.spec).collect();
        assert_eq!(order, ["§1.1.5", "§3.4.2", "§3.3"]);
    }

    #[test]
    fn sections_sort_by_number() {
        assert!(section_order("§3.10") > section_order("§3.9"));
        assert!(section_order("§3.4.2") > section_order("§3.4"));
    }
}
