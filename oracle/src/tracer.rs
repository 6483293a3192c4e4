//! The adapter run under a system-call tracer: recorded, or killed or
//! failed at one chosen call.
//!
//! Promises: the suites see a tracer only as a [`Tracer`]: a command line
//! that runs the adapter's command observed from outside, and a reader of
//! what it wrote, in the parsed form of [`Trace`]; [`find`] gives the
//! tracer this machine has (today strace; a ptrace tracer written in Rust
//! would be a second implementation, found the same way).
//! [`Strace`] finds `strace` (or says how to install it) and
//! wraps an adapter's command line so the adapter runs under it: recording
//! every call of every process it starts into a trace file
//! ([`Tracer::recording`], in the format `syscalls::strace` reads), or
//! also injecting, at the `ordinal`-th call named `syscall` of its process,
//! a SIGKILL before the call runs or an error instead of it
//! ([`Tracer::injecting`]). [`Injection::ordinal_of`] computes that ordinal
//! from a recorded trace, strace's own way of counting (per system call,
//! per process), so a replay with the same requests hits the same call.
//! A replay's trace leaves out the calls the system-call table
//! (`syscalls::table`) says only read a descriptor's data, unless the call
//! to hit is one.
//!
//! Does not promise: that a replay is the same run; the suites check in
//! the replay's trace that the call hit is the one meant, and report the
//! case as the harness's failure when it is not.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::shell;
use crate::syscalls::strace::{self, Trace};
use crate::syscalls::table;

/// Observes an adapter's system calls from outside its process.
pub trait Tracer {
    /// `command` with every call of every process it starts written to
    /// `trace`.
    fn recording(&self, command: &str, trace: &Path) -> String;
    /// The same, and `injection` done at its call.
    fn injecting(&self, command: &str, trace: &Path, injection: &Injection) -> String;
    /// The calls a trace file written by one of these command lines holds.
    fn read(&self, trace: &Path) -> Result<Trace, String>;
}

/// The tracer this machine has; else how to install one.
pub fn find() -> Result<Box<dyn Tracer>, String> {
    Strace::find().map(|s| Box::new(s) as Box<dyn Tracer>)
}

/// What to do at the chosen call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// SIGKILL the process before the call runs.
    Kill,
    /// Fail the call with this errno (`ENOSPC`, `EIO`, `EDQUOT`) instead of
    /// running it.
    Fail(&'static str),
}

/// The `ordinal`-th call (from 1) named `syscall` made by one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    pub syscall: String,
    pub ordinal: u64,
    pub action: Action,
}

impl Injection {
    /// The ordinal strace counts for call `index` of `calls`: among the
    /// calls of the same name made by the same process before it, plus one.
    pub fn ordinal_of(calls: &[(u32, &str)], index: usize) -> u64 {
        let Some((pid, name)) = calls.get(index) else {
            return 0;
        };
        let earlier = calls[..index]
            .iter()
            .filter(|(p, n)| p == pid && n == name)
            .count();
        earlier as u64 + 1
    }

    fn rule(&self) -> String {
        let what = match self.action {
            Action::Kill => "signal=KILL".to_string(),
            Action::Fail(errno) => format!("error={errno}"),
        };
        format!("inject={}:{what}:when={}", self.syscall, self.ordinal)
    }
}

/// strace, found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strace {
    program: String,
}

/// The options every run takes: follow children, name descriptors' paths,
/// hex every string, flags as numbers, whole write buffers.
const OPTIONS: &str = "-f -y -xx -X raw -s 2097152";

impl Strace {
    /// strace, when it runs; else how to install it.
    pub fn find() -> Result<Strace, String> {
        let program = "strace".to_string();
        match Command::new(&program).arg("-V").output() {
            Ok(out) if out.status.success() => Ok(Strace { program }),
            _ => Err(
                "strace is not installed (Debian: apt-get install -y strace); the suites that kill, fail or power off a save need it"
                    .to_string(),
            ),
        }
    }
}

impl Tracer for Strace {
    /// `command` under strace, its trace written to `trace`.
    fn recording(&self, command: &str, trace: &Path) -> String {
        format!(
            "exec {} {OPTIONS} -o {} -- sh -c {}",
            self.program,
            shell::word(&trace.display().to_string()),
            shell::word(command)
        )
    }

    /// `command` under strace with `injection`, its trace written to
    /// `trace`. The trace leaves out the calls that only read (the
    /// system-call table's [`table::Kind::Reads`]), unless one is the call
    /// to hit: an interpreter's start-up reads megabytes, and
    /// what the trace is for (checking the call hit) needs none of them.
    /// strace counts each call name apart, so leaving some out shifts no
    /// ordinal.
    fn injecting(&self, command: &str, trace: &Path, injection: &Injection) -> String {
        let reads = table::reads();
        let traced = if reads.contains(&injection.syscall.as_str()) {
            String::new()
        } else {
            format!("-e trace=!{} ", reads.join(","))
        };
        format!(
            "exec {} {OPTIONS} {traced}-e {} -o {} -- sh -c {}",
            self.program,
            injection.rule(),
            shell::word(&trace.display().to_string()),
            shell::word(command)
        )
    }
    fn read(&self, trace: &Path) -> Result<Trace, String> {
        let text = fs::read(trace)
            .map_err(|e| format!("strace wrote no trace at {}: {e}", trace.display()))?;
        strace::parse(&String::from_utf8_lossy(&text))
            .map_err(|e| format!("the trace at {} does not parse: {e}", trace.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ordinals_count_per_process_and_per_call_name() {
        let calls = [
            (7, "write"),
            (8, "write"),
            (7, "fsync"),
            (7, "write"),
            (8, "write"),
        ];
        assert_eq!(Injection::ordinal_of(&calls, 0), 1);
        assert_eq!(Injection::ordinal_of(&calls, 3), 2);
        assert_eq!(Injection::ordinal_of(&calls, 4), 2);
        assert_eq!(Injection::ordinal_of(&calls, 2), 1);
    }

    #[test]
    fn an_injection_is_one_rule_of_strace() {
        let kill = Injection {
            syscall: "fsync".to_string(),
            ordinal: 2,
            action: Action::Kill,
        };
        assert_eq!(kill.rule(), "inject=fsync:signal=KILL:when=2");
        let fail = Injection {
            action: Action::Fail("ENOSPC"),
            ..kill
        };
        assert_eq!(fail.rule(), "inject=fsync:error=ENOSPC:when=2");
    }

    #[test]
    fn a_replay_leaves_out_exactly_the_calls_the_table_says_only_read() {
        let strace = Strace {
            program: "strace".to_string(),
        };
        let mut injection = Injection {
            syscall: "fsync".to_string(),
            ordinal: 1,
            action: Action::Kill,
        };
        let line = strace.injecting("true", Path::new("/t/x.trace"), &injection);
        let left_out: BTreeSet<&str> = line
            .split_once("-e trace=!")
            .and_then(|(_, rest)| rest.split(' ').next())
            .map(|list| list.split(',').collect())
            .unwrap_or_default();
        let only_read: BTreeSet<&str> = table::TABLE
            .iter()
            .filter(|s| s.kind == table::Kind::Reads)
            .map(|s| s.name)
            .collect();
        assert_eq!(left_out, only_read);
        assert!(left_out.contains("read"), "{line}");
        injection.syscall = "pread64".to_string();
        let line = strace.injecting("true", Path::new("/t/x.trace"), &injection);
        assert!(!line.contains("trace=!"), "{line}");
    }

    #[test]
    fn a_wrapped_command_quotes_what_the_shell_would_split() {
        let strace = Strace {
            program: "strace".to_string(),
        };
        let line = strace.recording(
            "python3 a.py --module 'my store.py'",
            Path::new("/t/x y.trace"),
        );
        assert_eq!(
            line,
            "exec strace -f -y -xx -X raw -s 2097152 -o '/t/x y.trace' -- sh -c \"python3 a.py --module 'my store.py'\""
        );
    }
}
