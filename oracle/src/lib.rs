//! The conformance oracle: `lifecycle check` for any implementation of the
//! lifecycle state store, in any language.
//!
//! An implementation is reached through an adapter, a small program that
//! speaks PROTOCOL.md (JSON lines on its standard input and output), or, for
//! this project's own store, through the same protocol answered in process.
//! The oracle plans the cases of its suites, runs each in a directory of its
//! own, judges every answer with the harness (the reference model's
//! comparator, invariants and driver, by the rules of requirements §7), and
//! reports each case as pass, violation, divergence, info or skipped, with a
//! minimal reproduction and the command that re-runs it.
//!
//! Modules, one job each:
//! - the wire: [`schema`] (checks a message against `protocol/schema.json`),
//!   [`protocol`] (requests and replies of version 1), [`adapter`] (the child
//!   process: started, timed, killed, restarted), [`tracer`] (the adapter
//!   under a tracer, strace today: recorded, or killed or failed at one
//!   call);
//! - judging: [`subject`] (the adapter as a subject of the harness),
//!   [`suites`] (the cases), [`vectors`] (the conformance vectors, embedded,
//!   exported and read back), [`check`] (one run);
//! - crash states of another implementation: [`syscalls`] (an strace of a
//!   save, parsed, as the persistence model's op log);
//! - reporting: [`report`] (JSON, JUnit, Markdown and the terminal).
//!
//! Does not promise: anything about several writers at once, nor about
//! an implementation's own system calls without a tracer (the `kill`,
//! `faults`, `power` and traced `permissions` cases are skipped without
//! strace).

pub mod adapter;
pub mod check;
pub mod protocol;
pub mod report;
pub mod schema;
pub mod subject;
pub mod suites;
pub mod syscalls;
pub mod tracer;
pub mod vectors;

pub use check::{run, Options};
pub use report::{Report, Verdict};
