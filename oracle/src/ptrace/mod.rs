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
//! [--inject SPEC | --serve SOCKET] -- PROGRAM [ARG...]`: PROGRAM (for the oracle, the
//! adapter's command, or `sh -c CMD` when it needs a shell: a pipeline,
//! say; `shell::program`) under ptrace, with every process,
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
//! log strace's recording of the same calls converts to: every call the
//! system-call table knows, wherever it is (a temp file made outside DIR
//! and renamed into it is followed from its creation, as in a
//! recording), the call hit whatever it is, and the end of every process
//! (`+++ exited with N +++`, `+++ killed by SIGKILL +++`). Its arguments
//! are decoded as strace's are (descriptors with their paths, `(deleted)`
//! for a file without a name, flags in hex, modes in octal, the bytes of
//! writes and of their iovecs, `struct stat`'s mode, clone's flags;
//! `decode.rs` lists them), its strings and paths `\xNN` escaped. A
//! child's first line comes after the clone that made it, which is
//! written with its result as the child is made. Since FILE alone cannot
//! tell which of its calls were counted (a relative path after a
//! `chdir`), `FILE.counted` ([`counted_path`]) lists them: one line per
//! call counted, the number of the line of FILE where it was entered,
//! written as soon as that line is ([`counted`] reads it back). Each line
//! of either file is written whole as soon as it is known, so a tracer
//! killed leaves whole lines. The tracer exits with PROGRAM's exit code
//! (128 + the signal when a signal ended it) once every process it
//! traces has ended; if the tracer ends first, in any way (killed,
//! SIGTERM, its own error), the kernel kills every process it traces
//! (`PTRACE_O_EXITKILL`), so none is left behind. With `--serve`, PROGRAM
//! is a template forked once per replay, each copy traced as a run with
//! its own DIR, FILE and SPEC would be (`serve.rs` says how).
//!
//! Inside: `run.rs` (the processes and their stops), `filter.rs` (the
//! seccomp filter that lets the calls the tracer never writes run without
//! a stop), `scope.rs` (whether
//! a call touches DIR), `decode.rs` (arguments and results as strace
//! prints them), `process.rs` (a tracee's memory and `/proc` links),
//! `line.rs` (the trace file's lines and the list of calls counted),
//! `names.rs` (call and errno names), `serve.rs` (the control channel of
//! a template, and the registers that run its read again).
//!
//! Does not promise: architectures other than x86-64 ([`SUPPORTED`] is
//! false there and [`main`] refuses; `tracer::find` then uses strace);
//! calls of the 32-bit table (`int 0x80`) or calls the system-call table
//! does not know touching anything (nor written, unless hit); a relative
//! path whose working directory changed while the call ran; a `chdir` by
//! a relative path counted (it is written, but counts only by what it
//! names as written); stopping a process on SIGSTOP (the tracer restarts
//! it, as strace does without `--seize`); the data of reads (their counts
//! are written) or any argument the converter does not read decoded
//! beyond a number.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::syscalls::strace::Trace;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod decode;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod filter;
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
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod serve;

/// Whether this build can trace: Linux on x86-64.
pub const SUPPORTED: bool = cfg!(all(target_os = "linux", target_arch = "x86_64"));

/// The exit code of a tracer that could not trace (as `env` and `nohup`
/// use 125 for their own failure).
const TRACER_FAILED: u8 = 125;

/// The file beside the trace `out` where `lifecycle trace` lists the
/// calls it counted: `out` with `.counted` added to its name.
pub fn counted_path(out: &Path) -> PathBuf {
    let mut path = out.as_os_str().to_os_string();
    path.push(".counted");
    PathBuf::from(path)
}

/// The calls of `trace` that `lifecycle trace`, which wrote it to `out`,
/// counted (those that touch its scope), as indices of `trace.calls` in
/// order: read from [`counted_path`], one line per call counted, the
/// number of the line of `out` where the call was entered (from 1, as
/// `strace::Call::line` numbers it); or what is wrong with that list.
pub fn counted(out: &Path, trace: &Trace) -> Result<Vec<usize>, String> {
    let path = counted_path(out);
    let text = fs::read_to_string(&path).map_err(|e| {
        format!(
            "the tracer wrote no list of the calls it counted at {}: {e}",
            path.display()
        )
    })?;
    let entered: HashMap<usize, usize> = trace.calls.iter().map(|c| (c.line, c.index)).collect();
    text.lines()
        .enumerate()
        .map(|(at, line)| {
            line.parse()
                .ok()
                .and_then(|number: usize| entered.get(&number).copied())
                .ok_or_else(|| {
                    format!(
                        "line {} of {} is {line:?}, not the line of a call the trace holds",
                        at + 1,
                        path.display()
                    )
                })
        })
        .collect()
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
    /// The control socket of a template forked once per replay
    /// (`serve.rs`).
    pub serve: Option<PathBuf>,
    /// The program and its arguments.
    pub command: Vec<OsString>,
}

const USAGE: &str =
    "usage: lifecycle trace --scope DIR --out FILE [--inject NAME:ORDINAL:PROCESS:ACTION | --serve SOCKET] -- PROGRAM [ARG...]";

impl Args {
    pub fn parse(args: Vec<OsString>) -> Result<Args, String> {
        let mut scope = None;
        let mut out = None;
        let mut inject = None;
        let mut serve = None;
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
                Some("--serve") => serve = Some(PathBuf::from(value("--serve")?)),
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
        if inject.is_some() && serve.is_some() {
            return Err(format!(
                "--serve takes each replay's injection on its socket, not --inject; {USAGE}"
            ));
        }
        match (scope, out) {
            (Some(scope), Some(out)) if !command.is_empty() => Ok(Args {
                scope,
                out,
                inject,
                serve,
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
    use crate::syscalls::strace::parse;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_list_of_calls_counted_names_the_lines_where_they_were_entered() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let out = dir.path().join("c.trace");
        assert_eq!(counted_path(&out), dir.path().join("c.trace.counted"));
        let trace = parse(
            "\
1 openat(-100</w>, \"/r/c/f\", 0xc1, 0600 <unfinished ...>
2 close(4</w/x>) = 0
1 <... openat resumed>) = 3</r/c/f>
1 fsync(3</r/c/f>) = 0
",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let error = counted(&out, &trace).expect_err("no list yet");
        assert!(error.contains("wrote no list"), "{error}");
        let list = counted_path(&out);
        std::fs::write(&list, "1\n4\n").expect("written");
        assert_eq!(counted(&out, &trace), Ok(vec![0, 2]));
        // The line a call returned on is none where a call was entered.
        std::fs::write(&list, "1\n3\n").expect("written");
        let error = counted(&out, &trace).expect_err("line 3");
        assert!(error.contains("line 2 of"), "{error}");
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
        assert_eq!(args.serve, None);
        assert!(Args::parse(os(&["--scope", "/r", "--out", "/t", "--"])).is_err());
        let served = [
            "--scope", "/r", "--out", "/t", "--serve", "/s", "--", "true",
        ];
        let args = Args::parse(os(&served)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(args.serve, Some(PathBuf::from("/s")));
        let both = ["--inject", "fsync:1:1:kill", "--serve", "/s"];
        let both = [&served[..4], &both, &served[6..]].concat();
        let error = Args::parse(os(&both)).expect_err("both");
        assert!(error.contains("--serve"), "{error}");
        assert!(Args::parse(os(&["--out", "/t", "--", "true"])).is_err());
    }
}
