//! `lifecycle trace`: a system-call tracer of its own, built on ptrace,
//! that counts only the calls touching one directory.
//!
//! strace counts an injection's calls among all the calls of that name a
//! process makes (`when=N`), so a runtime's calls elsewhere (a JVM
//! re-reading cgroup files on a timer, sweeping `/tmp/hsperfdata_*`)
//! shift the ordinal of the call meant. This tracer counts among the calls
//! that touch the scope (the case directory) only.
//!
//! Promises: [`main`] runs `lifecycle trace --scope DIR --out FILE
//! [--inject SPEC] -- PROGRAM [ARG...]`: PROGRAM (for the oracle,
//! `sh -c CMD`, pipelines included) under ptrace, with every process,
//! thread and program it starts (fork, vfork, clone, exec) followed and
//! every signal passed on; PROGRAM has the tracer's standard input, output
//! and error, and the tracer lets go of its own input and output at once,
//! so a reader of PROGRAM's output sees its end when PROGRAM's processes
//! close it. A call touches DIR when a path it names or a descriptor it
//! takes lies at or under DIR: the paths and descriptors are the
//! arguments the system-call table (`syscalls::table`) names, path
//! strings read from the process's memory and made absolute against their
//! directory descriptor or the process's working directory, descriptors
//! as `/proc/PID/fd` shows them, read with `syscalls::paths_named`, the
//! rule by which the converter lists a recording's touching calls
//! (`Converted::touching`). Touching calls are counted per process and
//! per system-call name, a process being a thread group (what
//! `/proc/TID/status` says, read once per thread): the calls of all its
//! threads count together, since a runtime (Go's goroutines, Node's
//! thread pool, a JVM) makes a save's calls from whichever thread it
//! likes, another in each run; the processes are numbered in the order of
//! their first touching call; [`Spec`]
//! names the call to hit and what to do there: SIGKILL as it is entered
//! (the call does not run), or the call skipped at its entry and its
//! result set to `-errno` at its exit (`EIO`, `ENOSPC`, `EDQUOT`).
//!
//! FILE holds, in the format `syscalls::strace::parse` reads and as
//! `strace -f -y -xx -X raw -s 2097152` prints them for what the
//! converter (`syscalls::convert`) reads, so that it converts to the op
//! log strace's recording of the same calls converts to: the calls that
//! touch DIR, the call hit, and the calls of [`CONTEXT`] wherever they
//! are (a process's children and whether they share its descriptors, its
//! umask, its working directory, its descriptors closed by range), which
//! count only when they touch DIR as written ([`counted`] tells them in a
//! trace); and the end of every process (`+++ exited with N +++`, `+++
//! killed by SIGKILL +++`). Its arguments are decoded as strace's are
//! (descriptors with their paths, `(deleted)` for a file without a name,
//! flags in hex, modes in octal, the bytes of writes and of their iovecs,
//! `struct stat`'s mode, clone's flags; `decode.rs` lists them), its
//! strings and paths `\xNN` escaped. A child's first line comes after
//! the clone that made it, which is written with its result as the child
//! is made. Each line is written as soon as it is known, so a tracer
//! killed leaves whole lines. The tracer exits with PROGRAM's exit code
//! (128 + the signal when a signal ended it) once every process it
//! traces has ended; if the tracer ends first, in any way (killed,
//! SIGTERM, its own error), the kernel kills every process it traces
//! (`PTRACE_O_EXITKILL`), so none is left behind.
//!
//! Inside: `run.rs` (the processes and their stops), `scope.rs` (whether
//! a call touches DIR), `decode.rs` (arguments and results as strace
//! prints them), `process.rs` (a tracee's memory and `/proc` links),
//! `line.rs` (the trace file's lines), `names.rs` (call and errno names).
//!
//! Does not promise: architectures other than x86-64 ([`SUPPORTED`] is
//! false there and [`main`] refuses; `tracer::find` then uses strace);
//! calls of the 32-bit table (`int 0x80`) or calls the system-call table
//! does not know touching anything; a relative path whose working
//! directory changed while the call ran; a `chdir` by a relative path
//! counted (it is written, but counts only by what it names as written);
//! stopping a process on SIGSTOP (the tracer restarts it, as strace does
//! without `--seize`); the calls on a file made outside DIR and then
//! renamed or linked into it (they touch nothing of DIR, so they are not
//! written, and the converter refuses the rename that brings it in);
//! the data of reads (their counts are written) or any argument the
//! converter does not read decoded beyond a number.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::syscalls::paths_named;
use crate::syscalls::strace::Call;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod decode;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod line;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod names;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod process;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod run;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod scope;

/// Whether this build can trace: Linux on x86-64.
pub const SUPPORTED: bool = cfg!(all(target_os = "linux", target_arch = "x86_64"));

/// The exit code of a tracer that could not trace (as `env` and `nohup`
/// use 125 for their own failure).
const TRACER_FAILED: u8 = 125;

/// The calls written to the trace wherever they are, for the converter:
/// the calls that make a process (whose clone flags say whether it shares
/// its parent's descriptors), set the umask (a created file's mode), the
/// working directory (what a relative path names), or close descriptors
/// by range. Each counts only when what it names as written lies in the
/// scope ([`counted`]): a `chdir` or `fchdir` into it.
pub const CONTEXT: [&str; 8] = [
    "clone",
    "clone3",
    "fork",
    "vfork",
    "umask",
    "chdir",
    "fchdir",
    "close_range",
];

/// Whether `lifecycle trace`, which wrote `call` into its trace of
/// `scope`, counted it among the calls that touch `scope`: every call it
/// writes but those of [`CONTEXT`] that name nothing in `scope` as
/// written (by `syscalls::paths_named`).
pub fn counted(call: &Call, scope: &Path) -> bool {
    !CONTEXT.contains(&call.name.as_str())
        || paths_named(call)
            .iter()
            .any(|path| within(path, scope.as_os_str().as_encoded_bytes()))
}

/// Whether `path` is `scope` or lies under it, compared as text (trailing
/// slashes of `scope` aside).
fn within(path: &[u8], scope: &[u8]) -> bool {
    let mut scope = scope;
    while scope.len() > 1 && scope.ends_with(b"/") {
        scope = &scope[..scope.len() - 1];
    }
    path.strip_prefix(scope)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/") || scope == b"/")
}

/// What to do at the call hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// SIGKILL as the call is entered.
    Kill,
    /// The call skipped, its result `-errno` (by name: `EIO`, `ENOSPC`,
    /// `EDQUOT`).
    Fail(&'static str),
}

/// Which call to hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The `ordinal`-th touching call named `name` (from 1).
    Call { name: String, ordinal: u64 },
    /// The first call, of any name and touching or not, of the thread
    /// that made the process's `ordinal`-th touching call of any name,
    /// after that call: the point just after the last call that touches
    /// the scope.
    After { ordinal: u64 },
}

/// One injection: `NAME:ORDINAL:PROCESS:ACTION`, or
/// `after:ORDINAL:PROCESS:ACTION` for [`Target::After`]; PROCESS counts
/// from 1 in the order of the processes' (thread groups') first touching
/// calls; ACTION is
/// `kill` or an errno's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub target: Target,
    /// From 0.
    pub process: usize,
    pub act: Act,
}

/// The errnos an injection may fail a call with: a full, over-quota or
/// broken disk.
const ERRNOS: [&str; 3] = ["EIO", "ENOSPC", "EDQUOT"];

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, ordinal) = match &self.target {
            Target::Call { name, ordinal } => (name.as_str(), ordinal),
            Target::After { ordinal } => ("after", ordinal),
        };
        let act = match self.act {
            Act::Kill => "kill",
            Act::Fail(errno) => errno,
        };
        write!(f, "{name}:{ordinal}:{}:{act}", self.process + 1)
    }
}

impl Spec {
    /// Reads `NAME:ORDINAL:PROCESS:ACTION`.
    pub fn parse(text: &str) -> Result<Spec, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let [name, ordinal, process, act] = parts[..] else {
            return Err(format!(
                "--inject {text:?}: not NAME:ORDINAL:PROCESS:ACTION"
            ));
        };
        let count = |what: &str, text: &str| match text.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("--inject: {what} {text:?} is not a number from 1")),
        };
        let ordinal = count("ORDINAL", ordinal)?;
        let process = usize::try_from(count("PROCESS", process)? - 1)
            .map_err(|_| format!("--inject: PROCESS {process} is too large"))?;
        let act = match act {
            "kill" => Act::Kill,
            other => Act::Fail(ERRNOS.into_iter().find(|e| *e == other).ok_or_else(|| {
                format!("--inject: ACTION {other:?} is not kill, EIO, ENOSPC or EDQUOT")
            })?),
        };
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_name {
            return Err(format!("--inject: {name:?} is no system call's name"));
        }
        let target = match name {
            "after" => Target::After { ordinal },
            name => Target::Call {
                name: name.to_string(),
                ordinal,
            },
        };
        Ok(Spec {
            target,
            process,
            act,
        })
    }
}

/// What `lifecycle trace` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub scope: PathBuf,
    pub out: PathBuf,
    pub inject: Option<Spec>,
    /// The program and its arguments.
    pub command: Vec<OsString>,
}

const USAGE: &str =
    "usage: lifecycle trace --scope DIR --out FILE [--inject NAME:ORDINAL:PROCESS:ACTION] -- PROGRAM [ARG...]";

impl Args {
    pub fn parse(args: Vec<OsString>) -> Result<Args, String> {
        let mut scope = None;
        let mut out = None;
        let mut inject = None;
        let mut rest = args.into_iter();
        while let Some(arg) = rest.next() {
            let text = arg.to_str().map(str::to_string);
            let mut value = |name: &str| {
                rest.next()
                    .ok_or_else(|| format!("{name} needs a value; {USAGE}"))
            };
            match text.as_deref() {
                Some("--") => break,
                Some("--scope") => scope = Some(PathBuf::from(value("--scope")?)),
                Some("--out") => out = Some(PathBuf::from(value("--out")?)),
                Some("--inject") => {
                    let spec = value("--inject")?;
                    let spec = spec
                        .to_str()
                        .ok_or_else(|| "--inject: not UTF-8".to_string())?;
                    inject = Some(Spec::parse(spec)?);
                }
                _ => {
                    return Err(format!(
                        "unexpected argument {}; {USAGE}",
                        arg.to_string_lossy()
                    ))
                }
            }
        }
        let command: Vec<OsString> = rest.collect();
        match (scope, out) {
            (Some(scope), Some(out)) if !command.is_empty() => Ok(Args {
                scope,
                out,
                inject,
                command,
            }),
            _ => Err(USAGE.to_string()),
        }
    }
}

/// `lifecycle trace ARGS`: the traced program's exit code, or 125 with a
/// message on standard error when the tracer could not trace.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args = match Args::parse(args) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("lifecycle trace: {why}");
            return ExitCode::from(2);
        }
    };
    match trace(&args) {
        Ok(code) => ExitCode::from(code),
        Err(why) => {
            eprintln!("lifecycle trace: {why}");
            ExitCode::from(TRACER_FAILED)
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn trace(args: &Args) -> Result<u8, String> {
    run::run(args)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn trace(_: &Args) -> Result<u8, String> {
    Err("this tracer runs on Linux x86-64 only; use strace".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn call(line: &str) -> Call {
        match crate::syscalls::strace::parse(line) {
            Ok(trace) => trace.calls[0].clone(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_sibling_whose_name_starts_with_the_scope_is_outside_it() {
        assert!(within(b"/r/case-3", b"/r/case-3/"));
        assert!(within(b"/r/case-3/state/x", b"/r/case-3"));
        assert!(!within(b"/r/case-30", b"/r/case-3"));
        assert!(!within(b"/r", b"/r/case-3"));
        assert!(!within(b"pipe:[3]", b"/r/case-3"));
        assert!(within(b"/x", b"/"));
    }

    #[test]
    fn the_calls_written_for_the_converter_count_only_when_they_name_the_scope() {
        let scope = Path::new("/r/c");
        assert!(counted(&call("1 fsync(3</r/c/f>) = 0\n"), scope));
        assert!(counted(&call("1 futex(0x7f, 0x81, 1) = 0\n"), scope));
        assert!(!counted(
            &call("1 clone3({flags=0x3d0f00, exit_signal=0}, 88) = 9\n"),
            scope
        ));
        assert!(!counted(&call("1 umask(022) = 022\n"), scope));
        assert!(!counted(
            &call("1 close_range(3, 4294967295, 0) = 0\n"),
            scope
        ));
        assert!(counted(&call("1 chdir(\"/r/c/state\") = 0\n"), scope));
        assert!(!counted(&call("1 chdir(\"/r\") = 0\n"), scope));
        assert!(counted(&call("1 fchdir(3</r/c>) = 0\n"), scope));
    }

    #[test]
    fn an_injection_reads_back_as_it_was_written() {
        for text in ["fsync:2:1:kill", "openat:144:3:ENOSPC", "after:17:1:kill"] {
            let spec = Spec::parse(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(spec.to_string(), text);
        }
        let spec = Spec::parse("rename:1:2:EDQUOT").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            spec,
            Spec {
                target: Target::Call {
                    name: "rename".into(),
                    ordinal: 1
                },
                process: 1,
                act: Act::Fail("EDQUOT"),
            }
        );
    }

    #[test]
    fn a_bad_injection_is_refused_saying_which_part() {
        for (text, part) in [
            ("fsync:0:1:kill", "ORDINAL"),
            ("fsync:1:0:kill", "PROCESS"),
            ("fsync:1:1:EPERM", "ACTION"),
            ("fsync:1:1", "NAME:ORDINAL"),
            ("Fsync:1:1:kill", "system call"),
        ] {
            let error = Spec::parse(text).expect_err(text);
            assert!(error.contains(part), "{text}: {error}");
        }
    }

    #[test]
    fn the_command_is_everything_after_the_double_dash() {
        let args = Args::parse(os(&[
            "--scope",
            "/r/c",
            "--out",
            "/r/c.trace",
            "--inject",
            "fsync:1:1:kill",
            "--",
            "sh",
            "-c",
            "a | tee --out x",
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(args.scope, PathBuf::from("/r/c"));
        assert_eq!(args.command, os(&["sh", "-c", "a | tee --out x"]));
        assert!(args.inject.is_some());
        assert!(Args::parse(os(&["--scope", "/r", "--out", "/t", "--"])).is_err());
        assert!(Args::parse(os(&["--out", "/t", "--", "true"])).is_err());
    }
}
