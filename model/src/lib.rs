//! Reference model of the lifecycle state store, written from `SPEC.md`.
//!
//! Promises: each module states one part of the contract as plain data and
//! pure functions, small enough to check by reading against SPEC.md:
//! - [`timestamp`]: the timestamps of SPEC §1.4 and their order;
//! - [`json`]: the raw-bytes rules of SPEC §1.1 and §1.6.1-§1.6.8 (syntax,
//!   duplicates, surrogates, any depth), splitting an object into members;
//! - [`record`]: the record predicate of SPEC §1 over `serde_json::Value`
//!   for the known members and raw text for the unknown ones;
//! - [`machine`]: the transition table and dispatch bookkeeping of SPEC §4;
//! - [`sleep_cycle`]: the sleep-cycle bookkeeping of SPEC §5;
//! - [`writer`]: one locked writer operation of SPEC §4.3/§4.6/§5.1 against
//!   what the file held (what to write, whether to preserve, what to refuse);
//! - [`spec`]: the names and numbers SPEC.md fixes (file names, 1 MiB,
//!   2^53−1, modes), the one home every checker takes them from;
//! - [`implementation_defined`]: the points of requirements §7 where
//!   conforming implementations may differ, found in a record or a file;
//! - [`persistence`]: which on-disk states a process crash or a power loss
//!   may leave after a log of file-system operations (see `README.md`).
//!
//! It promises independence: this crate does not depend on the store crate
//! and never will, so that the property tests compare two separate
//! statements of the contract. It does not promise speed beyond what the
//! tests need, nor any I/O: nothing here touches a file or a clock.

pub mod implementation_defined;
pub mod json;
pub mod machine;
pub mod persistence;
pub mod record;
pub mod sleep_cycle;
pub mod spec;
pub mod timestamp;
pub mod writer;

pub use machine::{Event, Guards, Shutdown};
pub use record::{Corrupt, Progress, Quarantine, Record, State};
pub use timestamp::Timestamp;
