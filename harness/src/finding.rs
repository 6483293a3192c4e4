//! A disagreement with the SPEC, as a value from where it is found to the
//! report.
//!
//! Promises: a [`Finding`] says how bad it is (a MUST or a SHOULD broken),
//! the SPEC section, the rule broken in one sentence (the same sentence for
//! every finding of one rule, whatever the case), how it broke when a rule
//! can break in ways that have different causes (again words that do not
//! depend on the case's input), what happened in this
//! case, and, when the place that found it made one, a reproduction (a
//! shrunk list of steps, an op log). Every checker returns one; nothing
//! carries a finding as text to be read back. Its `Display` is one line,
//! for the places that can only report by panicking (proptest's state
//! machine and libFuzzer).
//!
//! Does not promise: that a section is the most specific rule broken; the
//! checker that makes the finding chooses it (the oracle's end-to-end
//! tests hold every finding they see to a table of sections,
//! `SECTIONS` in `cli/tests/check.rs`).

use std::fmt;

/// How bad a disagreement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// A MUST broke.
    Violation,
    /// A SHOULD broke.
    Divergence,
}

/// A disagreement with the SPEC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    /// The SPEC section, e.g. `§3.4`.
    pub spec: &'static str,
    /// The rule broken, in one sentence of the SPEC's words.
    pub rule: &'static str,
    /// How the rule broke, when one rule can break in ways that have
    /// different causes (`the file breaks §1.6 item 7`, `the mode of the
    /// record it replaced`): words that do not depend on the case's input,
    /// so that a report can make one group of the findings of one rule
    /// broken one way. Empty when the rule breaks one way only.
    pub how: String,
    /// What happened in this case.
    pub message: String,
    /// A reproduction made where the finding was made, when the case's
    /// own (its setup and operation) does not show it.
    pub reproduction: Option<String>,
}

impl Finding {
    pub fn violation(spec: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Finding {
            level: Level::Violation,
            spec,
            rule,
            how: String::new(),
            message: message.into(),
            reproduction: None,
        }
    }

    pub fn divergence(spec: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Finding {
            level: Level::Divergence,
            spec,
            rule,
            how: String::new(),
            message: message.into(),
            reproduction: None,
        }
    }

    /// The same finding with `reproduction` as its own.
    pub fn reproduced_by(mut self, reproduction: impl Into<String>) -> Finding {
        self.reproduction = Some(reproduction.into());
        self
    }

    /// The same finding, saying how its rule broke (see [`Finding::how`]).
    pub fn broken_by(mut self, how: impl Into<String>) -> Finding {
        self.how = how.into();
        self
    }

    /// The same finding with `context` before its message (what was being
    /// done when it was found).
    pub fn during(mut self, context: impl fmt::Display) -> Finding {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level {
            Level::Violation => write!(f, "violation of SPEC {}: {}", self.spec, self.message),
            Level::Divergence => write!(f, "divergence from SPEC {}: {}", self.spec, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_reads_as_one_line_with_its_level_and_section() {
        let f = Finding::divergence("§2.1", "load says what it found", "load said missing");
        assert_eq!(
            f.to_string(),
            "divergence from SPEC §2.1: load said missing"
        );
        let g = Finding::violation("§3.4", "a save is atomic", "gone").during("after a crash");
        assert_eq!(g.to_string(), "violation of SPEC §3.4: after a crash: gone");
        assert_eq!(g.rule, "a save is atomic");
    }
}
