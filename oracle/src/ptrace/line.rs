//! The tracer's trace file, in the format `syscalls::strace::parse` reads.
//!
//! Promises: [`Out`] writes a call as strace's `-f -y -xx` does: one line
//! `PID name(args) = result` when nothing came between its entry and its
//! exit, else `PID name(args <unfinished ...>` and later `PID <... name
//! resumed>args) = result`, the arguments shown at the entry on the
//! first and those shown at the exit (a `struct stat`) on the second; a
//! call that never returns stays unfinished; a call returned as soon as
//! it is entered (a clone, written as its child is made) is one line;
//! process ends are `PID +++ exited with N +++` and `PID +++ killed by
//! SIGNAME +++`. Strings
//! and the paths of descriptors are `\xNN` escaped (`-xx`), so nothing in
//! a path can be taken for the line's structure. Every line goes to the
//! file in one write as soon as it is complete; the entry line of a call
//! counted (an unfinished entry is written later than it was entered)
//! is followed at once by its number (from 1, as `strace::Call::line`
//! numbers it) on a line of its own in a second file, the list of calls
//! counted (`super::counted` reads it back).
//!
//! Does not promise: to decode anything: `super::decode` makes the
//! arguments and results it writes.

use std::fs::File;
use std::io::{self, Write};

use super::decode::hex;
use crate::syscalls::strace::Arg;

fn arg_text(arg: &Arg) -> String {
    match arg {
        Arg::Int(value) => value.to_string(),
        Arg::Str(bytes) => format!("\"{}\"", hex(bytes)),
        Arg::Fd { fd, path, deleted } => format!(
            "{fd}<{}>{}",
            hex(path),
            if *deleted { "(deleted)" } else { "" }
        ),
        Arg::Struct(text) | Arg::Array(text) | Arg::Other(text) => text.clone(),
    }
}

/// The arguments between the parentheses.
pub(super) fn args_text(args: &[Arg]) -> String {
    args.iter().map(arg_text).collect::<Vec<_>>().join(", ")
}

/// The trace file being written, and beside it the list of the calls
/// counted.
pub(super) struct Out {
    file: File,
    /// Where the line of each counted call's entry goes.
    counted: File,
    /// How many lines `file` holds.
    lines: usize,
    /// The entry of the last call written, not yet complete.
    pending: Option<Pending>,
}

/// A call's entry, not yet written.
struct Pending {
    pid: i32,
    /// Its line so far.
    head: String,
    /// Whether the call was counted.
    counted: bool,
}

impl Out {
    /// Writes the trace to `file` and the lines of the calls counted to
    /// `counted`.
    pub(super) fn new(file: File, counted: File) -> Out {
        Out {
            file,
            counted,
            lines: 0,
            pending: None,
        }
    }

    /// A call entered: `name(args`, completed by [`Out::returned`], which
    /// adds the arguments shown at its exit when `more` says it has some;
    /// `counted` when it is one of the calls counted.
    pub(super) fn entered(
        &mut self,
        pid: i32,
        name: &str,
        args: &[Arg],
        more: bool,
        counted: bool,
    ) -> io::Result<()> {
        self.unfinished()?;
        let separator = if more && !args.is_empty() { ", " } else { "" };
        self.pending = Some(Pending {
            pid,
            head: format!("{pid} {name}({}{separator}", args_text(args)),
            counted,
        });
        Ok(())
    }

    /// The call `pid` entered last returned `result`, with `args` shown
    /// at its exit.
    pub(super) fn returned(
        &mut self,
        pid: i32,
        name: &str,
        args: &[Arg],
        result: &str,
    ) -> io::Result<()> {
        let tail = format!("{}) = {result}", args_text(args));
        match self.pending.take() {
            Some(entry) if entry.pid == pid => {
                self.line(&format!("{}{tail}", entry.head), entry.counted)
            }
            other => {
                self.pending = other;
                self.unfinished()?;
                self.line(&format!("{pid} <... {name} resumed>{tail}"), false)
            }
        }
    }

    /// A line about a process: `+++ ... +++`.
    pub(super) fn event(&mut self, pid: i32, text: &str) -> io::Result<()> {
        self.unfinished()?;
        self.line(&format!("{pid} +++ {text} +++"), false)
    }

    /// Writes the pending entry as unfinished, as strace does when another
    /// line comes first (or the call will never return).
    pub(super) fn unfinished(&mut self) -> io::Result<()> {
        match self.pending.take() {
            Some(entry) => self.line(&format!("{} <unfinished ...>", entry.head), entry.counted),
            None => Ok(()),
        }
    }

    /// Writes one line; when it is the entry of a counted call, then its
    /// number in the list of calls counted.
    fn line(&mut self, text: &str, counted: bool) -> io::Result<()> {
        self.file.write_all(format!("{text}\n").as_bytes())?;
        self.lines += 1;
        if counted {
            self.counted
                .write_all(format!("{}\n", self.lines).as_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::strace::{parse, CallResult, EventKind};

    /// What `f` wrote: the trace, and the indices of its calls the list
    /// of calls counted names, as `super::super::counted` reads it.
    fn written(f: impl FnOnce(&mut Out) -> io::Result<()>) -> (String, Vec<usize>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("t.trace");
        let counted = super::super::counted_path(&path);
        let mut out = Out::new(
            File::create(&path).expect("created"),
            File::create(counted).expect("created"),
        );
        f(&mut out).expect("written");
        let text = std::fs::read_to_string(&path).expect("read back");
        let trace = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let counted = super::super::counted(&path, &trace).unwrap_or_else(|e| panic!("{e}"));
        (text, counted)
    }

    #[test]
    fn a_call_reads_back_with_its_paths_descriptors_and_result() {
        let args = vec![
            Arg::Fd {
                fd: -100,
                path: b"/r/a dir>,(".to_vec(),
                deleted: false,
            },
            Arg::Str(b"x\"y\\z\n".to_vec()),
            Arg::Int(0o100301),
            Arg::Fd {
                fd: 4,
                path: b"/r/gone".to_vec(),
                deleted: true,
            },
        ];
        let (text, counted) = written(|out| {
            out.entered(7, "openat", &args, false, true)?;
            out.returned(7, "openat", &[], &format!("3<{}>", hex(b"/r/a dir>,(/x")))
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(counted, [0]);
        let trace = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(trace.calls[0].args, args);
        assert_eq!(
            trace.calls[0].result,
            CallResult::Ok {
                value: 3,
                path: Some(b"/r/a dir>,(/x".to_vec())
            }
        );
        assert_eq!(trace.calls[0].pid, 7);
    }

    #[test]
    fn calls_of_two_processes_interleave_as_unfinished_and_resumed() {
        let stat = Arg::Struct("{st_mode=0100600, st_size=0, ...}".into());
        // The fstat, the fsync and the rename are counted; the close and
        // the clone are not.
        let (text, counted) = written(|out| {
            out.entered(7, "fstat", &[Arg::Int(3)], true, true)?;
            out.entered(8, "close", &[Arg::Int(4)], false, false)?;
            out.returned(8, "close", &[], "0")?;
            out.returned(7, "fstat", std::slice::from_ref(&stat), "0")?;
            out.entered(7, "fsync", &[Arg::Int(3)], false, true)?;
            // A call known whole at once: a clone as its child is made.
            let clone = [Arg::Struct("{flags=0x400}".into())];
            out.entered(9, "clone3", &clone, false, false)?;
            out.returned(9, "clone3", &[], "10")?;
            out.returned(7, "fsync", &[], "-1 ENOSPC (INJECTED)")?;
            out.entered(8, "rename", &[Arg::Str(b"/a".to_vec())], false, true)?;
            out.unfinished()?;
            out.event(8, "killed by SIGKILL")
        });
        let trace = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = trace.calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["fstat", "close", "fsync", "clone3", "rename"],
            "{text}"
        );
        assert_eq!(counted, [0, 2, 4], "{text}");
        assert_eq!(trace.calls[0].args, [Arg::Int(3), stat]);
        assert_eq!(trace.calls[0].end_line, Some(3));
        assert_eq!(
            trace.calls[2].result,
            CallResult::Err {
                errno: "ENOSPC".into()
            }
        );
        assert_eq!(trace.calls[3].result.value(), Some(10));
        assert_eq!(trace.calls[4].result, CallResult::Unknown);
        assert_eq!(
            trace.events[0].kind,
            EventKind::Killed("SIGKILL".to_string())
        );
    }
}
