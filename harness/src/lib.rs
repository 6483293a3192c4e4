//! The harness: everything that judges an implementation of the lifecycle
//! state store without being one.
//!
//! It never depends on the store (`lifecycle-state`): an implementation is
//! reached only through the [`Subject`] trait, in the reference model's
//! vocabulary, so the same checks judge the store in process (the
//! `testkit` crate's subject), and, through an adapter (the `oracle`
//! crate), any other implementation.
//!
//! Modules, one job each:
//! - generation: [`input`] (bytes ⇄ structured inputs: one definition per
//!   generator, read by the fuzz targets from their bytes and by proptest
//!   from random bytes, [`generate::strategy`]), [`generate`] (records,
//!   invalid records, JSON documents, corruptions, writer operations, clock
//!   moves), [`transition`] (the vocabulary of one step of a run), and
//!   [`vocabulary`] (the words they are made of);
//! - judging: [`subject`] (what an implementation is asked and what it
//!   answers), [`directory`] (a real record directory seen and set from
//!   outside), [`world`] (what the model expects, and the [`Rules`] an
//!   answer is compared by), [`finding`] (a broken rule as a value, from
//!   where it is found to the report), [`compare`] (the one
//!   comparator of an answer with the model, by this project's SPEC or by
//!   requirements §7, with [`json_value`] for unknown members as JSON
//!   values, and [`difference`] for where two records differ, in words), [`invariants`] (what must hold on the disk), [`crash`] (the one crash judge over a disk and an
//!   operation log), [`driver`] (a run of transitions against a subject,
//!   judged after every step), [`machine`] (that run as a proptest state
//!   machine);
//! - reporting: [`coverage`] (what a run reached, by a compiler-checked
//!   registry of kinds), [`report`] (how records, operations and bytes
//!   appear in a message), [`canonical`] (one spelling of string escapes).
//!
//! Does not promise: anything about concurrency (one writer at a time) or
//! about file systems weaker than the model's persistence rules.

pub mod canonical;
pub mod compare;
pub mod coverage;
pub mod crash;
pub mod difference;
pub mod directory;
pub mod driver;
pub mod finding;
pub mod generate;
pub mod input;
pub mod invariants;
pub mod json_value;
pub mod machine;
pub mod report;
pub mod subject;
pub mod transition;
pub mod vocabulary;
pub mod world;

pub use driver::{Driver, Initial, Judgement, Step};
pub use finding::{Finding, Level};
pub use subject::{Entry, Failure, Injected, Listing, Loaded, Simulation, Subject, Written};
pub use transition::Transition;
pub use world::{Rules, World};
