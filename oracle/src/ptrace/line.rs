//! The tracer's trace file, in the format `syscalls::strace::parse` reads.
//!
//! Promises: [`Out`] writes a call as strace's `-f -y -xx` does: one line
//! `PID name(args) = result` when nothing came between its entry and its
//! exit, else `PID name(args <unfinished ...>` and later `PID <... name
//! resumed>) = result`; a call that never returns stays unfinished;
//! process ends are `PID +++ exited with N +++` and `PID +++ killed by
//! SIGNAME +++`. Strings and the paths of descriptors are `\xNN` escaped
//! (`-xx`), so nothing in a path can be taken for the line's structure.
//! Every line goes to the file in one write as soon as it is complete.
//!
//! Does not promise: strace's decoding of flags, structures or buffers:
//! arguments other than strings and descriptors are numbers.

use std::fs::File;
use std::io::{self, Write};

use crate::syscalls::strace::{Arg, CallResult};

/// `bytes` as strace's `-xx` prints a string's inside.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

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

/// What follows `= `.
pub(super) fn result_text(result: &CallResult, injected: bool) -> String {
    match result {
        CallResult::Ok { value, path: None } => value.to_string(),
        CallResult::Ok {
            value,
            path: Some(path),
        } => format!("{value}<{}>", hex(path)),
        CallResult::Err { errno } if injected => format!("-1 {errno} (INJECTED)"),
        CallResult::Err { errno } => format!("-1 {errno}"),
        CallResult::Unknown => "?".to_string(),
    }
}

/// The trace file being written.
pub(super) struct Out {
    file: File,
    /// The entry of the last call written, not yet complete: its process
    /// and its line so far.
    pending: Option<(i32, String)>,
}

impl Out {
    pub(super) fn new(file: File) -> Out {
        Out {
            file,
            pending: None,
        }
    }

    /// A call entered: `name(args`, completed by [`Out::returned`].
    pub(super) fn entered(&mut self, pid: i32, name: &str, args: &[Arg]) -> io::Result<()> {
        self.unfinished()?;
        self.pending = Some((pid, format!("{pid} {name}({}", args_text(args))));
        Ok(())
    }

    /// The call `pid` entered last returned `result`.
    pub(super) fn returned(&mut self, pid: i32, name: &str, result: &str) -> io::Result<()> {
        match self.pending.take() {
            Some((p, head)) if p == pid => self.line(&format!("{head}) = {result}")),
            other => {
                self.pending = other;
                self.unfinished()?;
                self.line(&format!("{pid} <... {name} resumed>) = {result}"))
            }
        }
    }

    /// A line about a process: `+++ ... +++`.
    pub(super) fn event(&mut self, pid: i32, text: &str) -> io::Result<()> {
        self.unfinished()?;
        self.line(&format!("{pid} +++ {text} +++"))
    }

    /// Writes the pending entry as unfinished, as strace does when another
    /// line comes first (or the call will never return).
    pub(super) fn unfinished(&mut self) -> io::Result<()> {
        match self.pending.take() {
            Some((_, head)) => self.line(&format!("{head} <unfinished ...>")),
            None => Ok(()),
        }
    }

    fn line(&mut self, text: &str) -> io::Result<()> {
        self.file.write_all(format!("{text}\n").as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::strace::{parse, EventKind};

    fn written(f: impl FnOnce(&mut Out) -> io::Result<()>) -> String {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("t.trace");
        let mut out = Out::new(File::create(&path).expect("created"));
        f(&mut out).expect("written");
        std::fs::read_to_string(&path).expect("read back")
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
        let ok = CallResult::Ok {
            value: 3,
            path: Some(b"/r/a dir>,(/x".to_vec()),
        };
        let text = written(|out| {
            out.entered(7, "openat", &args)?;
            out.returned(7, "openat", &result_text(&ok, false))
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        let trace = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(trace.calls[0].args, args);
        assert_eq!(trace.calls[0].result, ok);
        assert_eq!(trace.calls[0].pid, 7);
    }

    #[test]
    fn calls_of_two_processes_interleave_as_unfinished_and_resumed() {
        let text = written(|out| {
            out.entered(7, "fsync", &[Arg::Int(3)])?;
            out.entered(8, "close", &[Arg::Int(4)])?;
            out.returned(8, "close", "0")?;
            let failed = CallResult::Err {
                errno: "ENOSPC".into(),
            };
            out.returned(7, "fsync", &result_text(&failed, true))?;
            out.entered(8, "rename", &[Arg::Str(b"/a".to_vec())])?;
            out.unfinished()?;
            out.event(8, "killed by SIGKILL")
        });
        let trace = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = trace.calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["fsync", "close", "rename"], "{text}");
        assert_eq!(
            trace.calls[0].result,
            CallResult::Err {
                errno: "ENOSPC".into()
            }
        );
        assert_eq!(trace.calls[2].result, CallResult::Unknown);
        assert_eq!(
            trace.events[0].kind,
            EventKind::Killed("SIGKILL".to_string())
        );
    }
}
