//! The suites of `lifecycle check`, each a list of planned cases.
//!
//! Promises: [`plan`] lists a suite's cases for an adapter's capabilities,
//! each with a stable id (what `--case` takes), the SPEC section it checks
//! and a reproduction in the SPEC's words; a suite whose capability the
//! adapter lacks plans one skipped case saying so.
//!
//! Does not promise: that two runs plan the same generated traces unless
//! they have the same `--seed`.

use std::time::{SystemTime, UNIX_EPOCH};

use lifecycle_model::Record;

use crate::check::{Judged, Options, Planned};
use crate::protocol::{Capability, Handshake};

pub mod concurrency;
pub mod injected;
pub mod machine;
pub mod permissions;
pub mod power;
pub mod protocol;
pub mod sleep;
pub mod smoke;
pub mod traces;
pub mod vectors;

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

/// The cases of `suite` for an adapter that made `handshake`.
pub fn plan(suite: Suite, options: &Options, handshake: &Handshake) -> Vec<Planned> {
    match suite {
        Suite::Smoke => smoke::plan(),
        Suite::Vectors => vectors::plan(&options.vectors, base_micros(handshake)),
        Suite::Traces => traces::plan(options.cases),
        Suite::Machine => needs(handshake, Capability::Machine, "machine", || {
            machine::plan(base_micros(handshake))
        }),
        Suite::Sleep => needs(handshake, Capability::Sleep, "sleep", || {
            sleep::plan(base_micros(handshake))
        }),
        Suite::Permissions => permissions::plan(
            handshake.has(Capability::Machine),
            options.command_to_trace(),
        ),
        Suite::Concurrency => concurrency::plan(),
        Suite::Kill => injected::plan(injected::Interruption::Kill, options.command_to_trace()),
        Suite::Faults => injected::plan(injected::Interruption::Fault, options.command_to_trace()),
        Suite::Power => power::plan(options.command_to_trace()),
    }
}

fn needs(
    handshake: &Handshake,
    capability: Capability,
    suite: &'static str,
    plan: impl FnOnce() -> Vec<Planned>,
) -> Vec<Planned> {
    if handshake.has(capability) {
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

/// The fixed instant the oracle's clock stands at for an adapter with the
/// `clock` capability; else the wall clock, which the implementation reads.
fn base_micros(handshake: &Handshake) -> i64 {
    if handshake.has(Capability::Clock) {
        FIXED_NOW
    } else {
        wall_micros()
    }
}

/// 2024-06-01T12:00:00Z.
pub const FIXED_NOW: i64 = 1_717_243_200_000_000;

pub fn wall_micros() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// A record written as JSON text by a suite: valid by construction, which
/// the suites' tests check.
pub fn record(json: &str) -> Record {
    lifecycle_model::record::decode(json.as_bytes())
        .unwrap_or_else(|e| panic!("a suite's record is invalid (item {}): {json}", e.item()))
}

/// A timestamp `micros` µs after the epoch, as JSON text.
pub fn stamp(micros: i64) -> String {
    lifecycle_harness::generate::record::at_micros(micros)
        .as_str()
        .to_string()
}
