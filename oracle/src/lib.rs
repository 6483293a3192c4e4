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
//! Modules, one job each, each depending only on those listed before it
//! (`oracle/README.md` says where a new suite, system call, starting state
//! or report format goes):
//! - the wire: [`schema`] (checks a message against `protocol/schema.json`),
//!   [`protocol`] (requests and replies of version 1), [`shell`] (a text as
//!   one word of `sh`, the words of a line that needs no shell),
//!   [`adapter`] (the child process: started, timed,
//!   killed, restarted);
//! - system calls: [`syscalls`] (the one table of what each call means, an
//!   strace of a save parsed and turned into the persistence model's op
//!   log), [`ptrace`] (`lifecycle trace`, a tracer of its own that counts
//!   only the calls touching the case directory, per process and not per
//!   thread), [`tracer`] (the adapter
//!   under a tracer: recorded by strace, or killed or failed at one call by
//!   `lifecycle trace` or strace);
//! - judging: [`subject`] (the adapter as a subject of the harness),
//!   [`vectors`] (the conformance vectors, embedded, exported and read
//!   back), [`case`] (what a case is and how it came out: the types every
//!   suite shares), [`traced`] (a save recorded under the tracer, replayed,
//!   and what it left), [`suites`] (the cases, one module a suite);
//! - a run: [`options`] (what the command line asked), [`in_order`]
//!   (work shared out to runner threads, outcomes taken in order), [`groups`] (the
//!   findings grouped by root cause), [`baseline`] (the findings known
//!   before, `--baseline`), [`report`] (JSON, JUnit, Markdown and the
//!   terminal), [`check`] (one run: suites in order, each case's outcome
//!   into the report).
//!
//! Does not promise: anything about several writers at once, nor about
//! an implementation's own system calls without a tracer (the `kill`,
//! `faults`, `power` and traced `permissions` cases are skipped without
//! strace).

pub mod adapter;
pub mod baseline;
pub mod case;
pub mod check;
pub mod groups;
pub mod in_order;
pub mod options;
mod pipe;
pub mod protocol;
pub mod ptrace;
pub mod report;
pub mod root;
pub mod schema;
pub mod shell;
pub mod subject;
pub mod suites;
pub mod syscalls;
pub mod traced;
pub mod tracer;
pub mod vectors;

pub use check::run;
pub use options::{Options, Selection};
pub use report::{Report, Verdict};
