//! System calls of a recorded save, as the persistence model's operations.
//!
//! Promises: [`strace::parse`] reads the output of
//! `strace -f -y -xx -X raw -s 2097152 -o FILE -- CMD` into calls;
//! [`table`] says what each system call the oracle knows means (its path
//! and descriptor arguments, what it does, which handler of the converter
//! maps it); [`convert::op_log`] turns the calls that touch one directory
//! into the op log of `lifecycle_model::persistence`, each operation with
//! the call it came from, or refuses with the call and the path it cannot
//! map, so a suite can enumerate the crash states of another
//! implementation's save with `CrashSpace` and never pass a case it could
//! not model. [`paths_named`], [`descriptor`], [`opens`], [`created_exclusively`] and [`next_close`]
//! read a single call through the same table, for the suites that kill or
//! fail a save at one call; [`ThreadGroups`] says which process (thread
//! group) each thread of a trace belongs to.
//!
//! Inside: `paths.rs` (path arithmetic, where a path lies with respect to
//! the record's directory), `descriptors.rs` (descriptor tables and open
//! file descriptions), `before.rs` (the disk before a save), `args.rs`
//! (what a call's arguments name), `threads.rs` (thread groups),
//! `linux.rs` (flag values), and the converter's handlers under
//! `convert/`.
//!
//! A new system call goes in one place: one [`table::TABLE`] entry (its
//! paths, descriptors, kind and model), plus, when its model is a new one,
//! the handler in `convert/` it maps to, and a test that converts a trace
//! of it.
//!
//! Does not promise: to run strace (`tracer` and `traced` do), nor to follow symlinks,
//! hard links or several directories at once.

mod args;
mod before;
pub mod convert;
mod descriptors;
mod linux;
mod paths;
pub mod strace;
pub mod table;
mod threads;

pub use args::{created_exclusively, descriptor, next_close, opens, paths_named};
pub use threads::ThreadGroups;
