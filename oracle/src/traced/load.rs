//! A load through the adapter of what a traced save left, judged by the
//! model.
//!
//! Promises: [`judge_load`] loads the record in a directory through the
//! adapter and judges the answer as the model's load of what the record
//! path holds: at the oracle's fixed instant with the `clock` capability,
//! else within the request's window of wall time; by requirements §7.
//!
//! Does not promise: anything about the directory but the record path.

use std::path::Path;

use lifecycle_harness::subject::Subject;
use lifecycle_harness::world::at_micros;
use lifecycle_harness::{compare, Finding, Rules, World};

use crate::adapter::Adapter;
use crate::case::{wall_micros, FIXED_NOW};
use crate::protocol::Capability;
use crate::subject::AdapterSubject;
use crate::traced::held::Held;

/// Loads the record in `dir` through the adapter and judges the answer as
/// the model's load of `held`.
pub fn judge_load(adapter: &mut Adapter, dir: &Path, held: &Held) -> Result<(), Finding> {
    let clock = adapter.handshake().has(Capability::Clock);
    let start = if clock { FIXED_NOW } else { wall_micros() };
    let mut world = World::new(start, held.found()).with_rules(Rules::Requirements);
    let loaded = AdapterSubject::new(adapter, dir).load(&at_micros(start));
    if !clock {
        world.set_window_end(wall_micros());
    }
    compare::load(&world, &loaded)
}
