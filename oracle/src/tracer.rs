//! The adapter run under a system-call tracer: recorded, or killed or
//! failed at one chosen call.
//!
//! Promises: the suites see a tracer only as a [`Tracer`]: a command line
//! that runs the adapter's command observed from outside, and a reader of
//! what it wrote, in the parsed form of [`Trace`], and how it counts the
//! call an [`Injection`] names ([`Counting`]). [`find`] gives the tracer
//! this machine has: [`Ptrace`] when the `lifecycle` executable that runs
//! `lifecycle trace` (the `ptrace` module) is known ([`with_program`],
//! which `check::run` calls with `Options::tracer_program`) and this is
//! Linux x86-64, else [`Strace`]; without strace, which records every
//! save, the traced cases are skipped saying how to install it. The
//! environment variable `LIFECYCLE_TRACER=strace` makes [`find`] take
//! strace alone (to compare the two).
//!
//! [`Strace`] wraps an adapter's command line so the adapter runs under
//! strace: recording every call of every process it starts into a trace
//! file ([`Tracer::recording`], in the format `syscalls::strace` reads), or
//! also injecting, at the `ordinal`-th call named `syscall` of its
//! process, a SIGKILL before the call runs or an error instead of it
//! ([`Tracer::injecting`]), counted strace's way: among every call of that
//! name the process makes ([`Counting::EveryCall`]). A strace replay's
//! trace leaves out the calls the system-call table (`syscalls::table`)
//! says only read a descriptor's data, unless the call to hit is one.
//! [`Ptrace`] records with strace and injects with `lifecycle trace`,
//! which counts among the calls that touch the case directory only, the
//! calls of all the threads of a process together
//! ([`Counting::InScope`]), so a runtime's calls elsewhere, and the
//! thread it makes a call from, shift nothing; its replay trace holds
//! every call the system-call table knows, wherever it is (a temp file
//! made in `$TMPDIR` and renamed in included), and the call hit, written
//! as strace writes them, so it converts to an op log as a recording
//! does, and [`Tracer::counted`] reads which of them it counted from the
//! list it writes beside the trace. [`Injection::ordinal_of`] counts an
//! ordinal in a list of calls.
//!
//! Does not promise: that a replay is the same run; the suites check in
//! the replay's trace that the call hit is the one meant, and report the
//! case as the harness's failure when it is not.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::ptrace::{self, Act, Spec, Target};
use crate::shell;
use crate::syscalls::strace::{self, Trace};
use crate::syscalls::table;

/// Observes an adapter's system calls from outside its process. Shared by
/// the threads that replay a case's points at once (`traced::replay`).
pub trait Tracer: Sync {
    /// `command` with every call of every process it starts written to
    /// `trace`.
    fn recording(&self, command: &str, trace: &Path) -> String;
    /// The same, and `injection` done at its call, counted in the case
    /// directory `scope` when the tracer counts there.
    fn injecting(&self, command: &str, trace: &Path, scope: &Path, injection: &Injection)
        -> String;
    /// `command` under `lifecycle trace --serve socket`, forked once
    /// per replay (`ptrace::serve`), its own calls written to `trace`;
    /// `None` for a tracer that cannot.
    fn serving(&self, _command: &str, _trace: &Path, _socket: &Path) -> Option<String> {
        None
    }
    /// The calls a trace file written by one of these command lines holds.
    fn read(&self, trace: &Path) -> Result<Trace, String>;
    /// How an injection's ordinal and process are counted.
    fn counting(&self) -> Counting;
    /// The calls of `read`, the trace [`Tracer::injecting`] had written to
    /// `trace`, that the tracer counted, as indices of its calls; `None`
    /// when it counts every call (the calls of its processes that touch
    /// the case directory are then told by their paths).
    fn counted(&self, trace: &Path, read: &Trace) -> Result<Option<Vec<usize>>, String>;
}

/// How a tracer counts the calls an [`Injection`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Among every call of that name the process (a thread) makes
    /// (strace's `when=N`), in the whole recorded trace.
    EveryCall,
    /// Among the calls that touch the case directory only (the
    /// converter's `Converted::touching`), the calls of all the threads
    /// of a process (a thread group) together; [`Tracer::counted`] tells
    /// them in the replay's trace.
    InScope,
}

thread_local! {
    /// The `lifecycle` executable that runs `lifecycle trace`, for
    /// [`find`] on this thread.
    static PROGRAM: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Runs `f` with `program`, the `lifecycle` executable that runs
/// `lifecycle trace`, known to [`find`] on this thread (a check runs its
/// cases on the thread that called it).
pub fn with_program<T>(program: Option<&Path>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<PathBuf>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            PROGRAM.with(|p| *p.borrow_mut() = before);
        }
    }
    let before = PROGRAM.with(|p| p.replace(program.map(Path::to_path_buf)));
    let _restore = Restore(before);
    f()
}

/// The tracer this machine has; else how to install one.
pub fn find() -> Result<Box<dyn Tracer>, String> {
    let strace = Strace::find()?;
    let program = PROGRAM.with(|p| p.borrow().clone());
    let strace_alone = std::env::var("LIFECYCLE_TRACER").is_ok_and(|t| t == "strace");
    Ok(match program {
        Some(program) if ptrace::SUPPORTED && !strace_alone => Box::new(Ptrace { program, strace }),
        _ => Box::new(strace),
    })
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

/// The call to hit: the `ordinal`-th call (from 1) named `syscall` of
/// the `process`-th process, counted as the tracer counts
/// ([`Counting`]); with `after`, the first call, of any name (`syscall`
/// is the one the recording made there), of the thread that made that
/// process's `ordinal`-th counted call of any name, after that call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    pub syscall: String,
    pub ordinal: u64,
    /// From 0, in the order of the processes' first call that touches the
    /// case directory, a process being what the tracer counts in: a
    /// thread group, or a thread for strace (which hits the call in any
    /// process).
    pub process: usize,
    pub after: bool,
    pub action: Action,
}

impl Injection {
    /// The ordinal of call `index` of `calls`: among the calls of the same
    /// name made by the same process before it, plus one.
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

    /// This injection as `lifecycle trace --inject` takes it.
    pub fn spec(&self) -> Spec {
        Spec {
            target: if self.after {
                Target::After {
                    ordinal: self.ordinal,
                }
            } else {
                Target::Call {
                    name: self.syscall.clone(),
                    ordinal: self.ordinal,
                }
            },
            process: self.process,
            act: match self.action {
                Action::Kill => Act::Kill,
                Action::Fail(errno) => Act::Fail(errno),
            },
        }
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
    /// strace, when it runs; else how to install it. Asked once per
    /// process: every traced case asks.
    pub fn find() -> Result<Strace, String> {
        static FOUND: OnceLock<Result<Strace, String>> = OnceLock::new();
        FOUND
            .get_or_init(|| {
                let program = "strace".to_string();
                match Command::new(&program).arg("-V").output() {
                    Ok(out) if out.status.success() => Ok(Strace { program }),
                    _ => Err(
                        "strace is not installed (Debian: apt-get install -y strace); the suites that kill, fail or power off a save need it"
                            .to_string(),
                    ),
                }
            })
            .clone()
    }
}

impl Tracer for Strace {
    /// `command` under strace, its trace written to `trace`.
    fn recording(&self, command: &str, trace: &Path) -> String {
        format!(
            "exec {} {OPTIONS} -o {} -- {}",
            self.program,
            shell::word(&trace.display().to_string()),
            shell::program(command)
        )
    }

    /// `command` under strace with `injection`, its trace written to
    /// `trace`. The trace leaves out the calls that only read (the
    /// system-call table's [`table::Kind::Reads`]), unless one is the call
    /// to hit: an interpreter's start-up reads megabytes, and
    /// what the trace is for (checking the call hit) needs none of them.
    /// strace counts each call name apart, so leaving some out shifts no
    /// ordinal.
    fn injecting(&self, command: &str, trace: &Path, _: &Path, injection: &Injection) -> String {
        let reads = table::reads();
        let traced = if reads.contains(&injection.syscall.as_str()) {
            String::new()
        } else {
            format!("-e trace=!{} ", reads.join(","))
        };
        format!(
            "exec {} {OPTIONS} {traced}-e {} -o {} -- {}",
            self.program,
            injection.rule(),
            shell::word(&trace.display().to_string()),
            shell::program(command)
        )
    }
    fn read(&self, trace: &Path) -> Result<Trace, String> {
        read(trace)
    }

    fn counting(&self) -> Counting {
        Counting::EveryCall
    }

    fn counted(&self, _: &Path, _: &Trace) -> Result<Option<Vec<usize>>, String> {
        Ok(None)
    }
}

/// The calls of a trace file in strace's format.
fn read(trace: &Path) -> Result<Trace, String> {
    let text = fs::read(trace)
        .map_err(|e| format!("the tracer wrote no trace at {}: {e}", trace.display()))?;
    // `-xx` writes only ASCII; checking that is faster than a lossy copy.
    let text = match std::str::from_utf8(&text) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(&text),
    };
    strace::parse(&text)
        .map_err(|e| format!("the trace at {} does not parse: {e}", trace.display()))
}

/// Records with strace; injects with `lifecycle trace` (the `ptrace`
/// module), run by the `lifecycle` executable `program`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ptrace {
    program: PathBuf,
    strace: Strace,
}

impl Tracer for Ptrace {
    fn recording(&self, command: &str, trace: &Path) -> String {
        self.strace.recording(command, trace)
    }

    fn injecting(
        &self,
        command: &str,
        trace: &Path,
        scope: &Path,
        injection: &Injection,
    ) -> String {
        let word = |path: &Path| shell::word(&path.display().to_string());
        format!(
            "exec {} trace --scope {} --out {} --inject {} -- {}",
            word(&self.program),
            word(scope),
            word(trace),
            injection.spec(),
            shell::program(command)
        )
    }

    fn serving(&self, command: &str, trace: &Path, socket: &Path) -> Option<String> {
        let word = |path: &Path| shell::word(&path.display().to_string());
        // The template's own calls are counted nowhere: its scope is a
        // name beside its trace that nothing makes.
        let scope = trace.with_extension("none");
        Some(format!(
            "exec {} trace --scope {} --out {} --serve {} -- {}",
            word(&self.program),
            word(&scope),
            word(trace),
            word(socket),
            shell::program(command)
        ))
    }

    fn read(&self, trace: &Path) -> Result<Trace, String> {
        read(trace)
    }

    fn counting(&self) -> Counting {
        Counting::InScope
    }

    /// The list of calls counted that `lifecycle trace` writes beside its
    /// trace (`ptrace::counted`).
    fn counted(&self, trace: &Path, read: &Trace) -> Result<Option<Vec<usize>>, String> {
        ptrace::counted(trace, read).map(Some)
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
            process: 0,
            after: false,
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
            process: 0,
            after: false,
            action: Action::Kill,
        };
        let scope = Path::new("/t/x");
        let line = strace.injecting("true", Path::new("/t/x.trace"), scope, &injection);
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
        let line = strace.injecting("true", Path::new("/t/x.trace"), scope, &injection);
        assert!(!line.contains("trace=!"), "{line}");
    }

    #[test]
    fn the_ptrace_tracer_injects_by_its_own_command_and_records_with_strace() {
        let strace = Strace {
            program: "strace".to_string(),
        };
        let ptrace = Ptrace {
            program: PathBuf::from("/b/life cycle"),
            strace: strace.clone(),
        };
        let injection = Injection {
            syscall: "futex".to_string(),
            ordinal: 12,
            process: 1,
            after: true,
            action: Action::Fail("EIO"),
        };
        let line = ptrace.injecting(
            "a | tee log",
            Path::new("/t/c.trace"),
            Path::new("/t/c"),
            &injection,
        );
        assert_eq!(
            line,
            "exec '/b/life cycle' trace --scope /t/c --out /t/c.trace --inject after:12:2:EIO -- sh -c 'a | tee log'"
        );
        let recording = |t: &dyn Tracer| t.recording("a", Path::new("/t/c.trace"));
        assert_eq!(recording(&ptrace), recording(&strace));
        assert_eq!(ptrace.counting(), Counting::InScope);
        assert_eq!(strace.counting(), Counting::EveryCall);
    }

    #[test]
    fn the_ptrace_tracer_is_found_only_while_its_program_is_known() {
        if Strace::find().is_err() || std::env::var("LIFECYCLE_TRACER").is_ok() {
            return;
        }
        let counting = || find().map(|t| t.counting());
        assert_eq!(counting(), Ok(Counting::EveryCall));
        let program = Path::new("/b/lifecycle");
        let inside = with_program(Some(program), || {
            let nested = with_program(None, counting);
            (counting(), nested)
        });
        let expected = if ptrace::SUPPORTED {
            Counting::InScope
        } else {
            Counting::EveryCall
        };
        assert_eq!(inside, (Ok(expected), Ok(Counting::EveryCall)));
        assert_eq!(counting(), Ok(Counting::EveryCall));
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
            "exec strace -f -y -xx -X raw -s 2097152 -o '/t/x y.trace' -- python3 a.py --module 'my store.py'"
        );
        // A line that needs the shell gets it.
        let line = strace.recording("python3 a.py > log", Path::new("/t/x"));
        assert_eq!(
            line,
            "exec strace -f -y -xx -X raw -s 2097152 -o /t/x -- sh -c 'python3 a.py > log'"
        );
    }
}
