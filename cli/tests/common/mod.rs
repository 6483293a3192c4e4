//! Runners for the `lifecycle` binary: as the current user, under a umask,
//! and as an unprivileged user. Everything else comes from
//! `lifecycle_testkit::fixtures`.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::process::Command;

use lifecycle_testkit::fixtures::{under_umask, unprivileged};

pub const LIFECYCLE: &str = env!("CARGO_BIN_EXE_lifecycle");

/// `lifecycle ARGS...` as the current user.
pub fn lifecycle(args: &[&OsStr]) -> Command {
    let mut cmd = Command::new(LIFECYCLE);
    cmd.args(args);
    cmd
}

/// `lifecycle ARGS...` under `umask`.
pub fn lifecycle_under_umask(umask: &str, args: &[&OsStr]) -> Command {
    under_umask(umask, OsStr::new(LIFECYCLE), args)
}

/// `lifecycle ARGS...` as an unprivileged user (uid 65534 when root).
pub fn lifecycle_unprivileged(args: &[&OsStr]) -> Command {
    unprivileged(lifecycle(args))
}

/// `lifecycle ARGS...` as the unprivileged user and under `umask`.
pub fn lifecycle_unprivileged_under_umask(umask: &str, args: &[&OsStr]) -> Command {
    unprivileged(lifecycle_under_umask(umask, args))
}
