//! The op log of a recorded save, as a reproduction reads it.
//!
//! Promises: each operation in the words of the persistence model (paths,
//! file numbers, modes in octal, written bytes escaped), numbered, with the
//! line of the trace it came from, and a mark where the save was cut (the
//! power went, the process was killed, a call failed).
//!
//! Does not promise: the calls that made no operation (reads, stats,
//! failed calls); the trace file has them.

use lifecycle_harness::report;
use lifecycle_model::persistence::Op;

use crate::traced::record::Recorded;

/// An operation of the log in words.
pub fn describe(op: &Op) -> String {
    match op {
        Op::Mkdir { path, mode } => format!("mkdir {path} (mode {mode:o})"),
        Op::Create { path, inode, mode } => {
            format!("create {path} as file #{inode} (mode {mode:o})")
        }
        Op::CreateUnnamed { inode, mode } => {
            format!("create file #{inode} without a name (mode {mode:o})")
        }
        Op::Link { inode, path } => format!("link file #{inode} as {path}"),
        Op::Write {
            inode,
            offset,
            data,
        } => format!(
            "write {} bytes at offset {offset} of file #{inode}: {}",
            data.len(),
            report::excerpt(data)
        ),
        Op::FsyncFile { inode } => format!("fsync file #{inode}"),
        Op::FdatasyncFile { inode } => format!("fdatasync file #{inode}"),
        Op::Truncate { inode, size } => format!("truncate file #{inode} to {size} bytes"),
        Op::Rename { from, to } => format!("rename {from} to {to}"),
        Op::Unlink { path } => format!("unlink {path}"),
        Op::Rmdir { path } => format!("rmdir {path}"),
        Op::Chmod { path, mode } => format!("chmod {path} to {mode:o}"),
        Op::ChmodFile { inode, mode } => format!("chmod file #{inode} to {mode:o}"),
        Op::FsyncDir { path } => format!("fsync directory {path}"),
    }
}

/// The op log, numbered, with the strace line of each operation, and
/// `mark` after the first `cut` operations (where the power went, or the
/// process was killed).
pub fn op_log_text(recorded: &Recorded, cut: Option<usize>, mark: &str) -> String {
    let mut lines = Vec::new();
    let mark = format!("  -- {mark} --");
    if cut == Some(0) {
        lines.push(mark.clone());
    }
    for (i, traced) in recorded.ops.iter().enumerate() {
        let line = recorded.trace.calls.get(traced.call).map_or(0, |c| c.line);
        lines.push(format!(
            "  {}. {} (strace line {line})",
            i + 1,
            describe(&traced.op)
        ));
        if cut == Some(i + 1) {
            lines.push(mark.clone());
        }
    }
    if recorded.ops.is_empty() {
        lines.push("  (no operation touched the record's directory)".to_string());
    }
    lines.join("\n")
}
