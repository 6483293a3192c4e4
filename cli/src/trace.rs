//! `lifecycle trace`: the oracle's own system-call tracer, which
//! `lifecycle check` runs around an adapter to kill or fail one of its
//! calls in the case directory (`lifecycle_oracle::ptrace`).
//!
//! Promises: `lifecycle trace ARGS...` hands every argument after `trace`,
//! untouched (`--` and the traced command's own options included), to
//! `lifecycle_oracle::ptrace::main` and exits with its code. Hidden from
//! `--help`: only the oracle runs it.
//!
//! Does not promise: anything `ptrace::main` does not.

use std::ffi::OsString;
use std::process::ExitCode;

/// The command's name after `lifecycle`.
const NAME: &str = "trace";

/// `Some(exit code)` when the command line is `lifecycle trace ...`,
/// which is run here; `None` for every other command.
pub fn intercept(mut args: impl Iterator<Item = OsString>) -> Option<ExitCode> {
    let _program = args.next();
    let first = args.next()?;
    (first == NAME).then(|| lifecycle_oracle::ptrace::main(args.collect()))
}
