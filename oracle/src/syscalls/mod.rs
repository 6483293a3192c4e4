//! System calls of a recorded save, as the persistence model's operations.
//!
//! Promises: [`strace::parse`] reads the output of
//! `strace -f -y -xx -X raw -s 2097152 -o FILE -- CMD` into calls;
//! [`convert::op_log`] turns the calls that touch one directory into the
//! op log of `lifecycle_model::persistence`, each operation with the call it
//! came from, or refuses with the call and the path it cannot map, so a
//! suite can enumerate the crash states of another implementation's save
//! with `CrashSpace` and never pass a case it could not model.
//!
//! Does not promise: to run strace (the suite does), nor to follow symlinks,
//! hard links or several directories at once.

pub mod convert;
pub mod strace;
