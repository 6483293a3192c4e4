//! The suites of `lifecycle check`, each a list of planned cases.
//!
//! Promises: [`plan`] lists a suite's cases for an adapter's capabilities,
//! each with a stable id (what `--case` takes), the SPEC section it checks
//! and a reproduction in the SPEC's words; a suite whose capability the
//! adapter lacks plans one skipped case saying so.
//!
//! Does not promise: that two runs plan the same generated traces unless
//! they have the same `--seed`.

use crate::adapter::Adapter;
use crate::case::{Judged, Planned, Planning};
use crate::protocol::Capability;
use crate::report::CaseResult;

pub mod concurrency;
pub mod faults;
pub mod kill;
pub mod machine;
pub mod permissions;
pub mod power;
pub mod protocol;
pub mod sleep;
pub mod smoke;
pub mod traces;
pub mod vectors;

/// The suites of `lifecycle check`, in the order they run (the `protocol`
/// suite of `--validate-protocol` is not one: it judges the run's
/// transcript after the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    Smoke,
    Vectors,
    Traces,
    Machine,
    Sleep,
    Permissions,
    Concurrency,
    Kill,
    Faults,
    Power,
}

impl Suite {
    pub const ALL: [Suite; 10] = [
        Suite::Smoke,
        Suite::Vectors,
        Suite::Traces,
        Suite::Machine,
        Suite::Sleep,
        Suite::Permissions,
        Suite::Concurrency,
        Suite::Kill,
        Suite::Faults,
        Suite::Power,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Suite::Smoke => "smoke",
            Suite::Vectors => "vectors",
            Suite::Traces => "traces",
            Suite::Machine => "machine",
            Suite::Sleep => "sleep",
            Suite::Permissions => "permissions",
            Suite::Concurrency => "concurrency",
            Suite::Kill => "kill",
            Suite::Faults => "faults",
            Suite::Power => "power",
        }
    }

    pub fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The cases of `suite` for the run `planning` describes.
pub fn plan(suite: Suite, planning: &Planning<'_>) -> Vec<Planned> {
    let now = planning.now();
    let traced = || planning.command_to_trace.clone();
    match suite {
        Suite::Smoke => smoke::plan(),
        Suite::Vectors => vectors::plan(planning.vectors, now),
        Suite::Traces => traces::plan(planning.traces),
        Suite::Machine => needs(planning, Capability::Machine, "machine", || {
            machine::plan(now)
        }),
        Suite::Sleep => needs(planning, Capability::Sleep, "sleep", || sleep::plan(now)),
        Suite::Permissions => {
            permissions::plan(planning.handshake.has(Capability::Machine), traced())
        }
        Suite::Concurrency => concurrency::plan(),
        Suite::Kill => kill::plan(traced()),
        Suite::Faults => faults::plan(traced()),
        Suite::Power => power::plan(traced()),
    }
}

/// The results of the `protocol` suite: every message the adapter sent,
/// checked against the schema (when the run kept a transcript).
pub fn judge_transcript(adapter: &Adapter) -> Vec<CaseResult> {
    protocol::judge_transcript(adapter)
}

fn needs(
    planning: &Planning<'_>,
    capability: Capability,
    suite: &'static str,
    plan: impl FnOnce() -> Vec<Planned>,
) -> Vec<Planned> {
    if planning.handshake.has(capability) {
        return plan();
    }
    let why = format!(
        "the adapter does not offer the {} capability",
        capability.name()
    );
    vec![Planned::new(suite, "§1", "", move |_| {
        Judged::Skipped(why)
    })]
}
