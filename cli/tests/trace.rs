//! `lifecycle trace`, the oracle's own tracer, run as `lifecycle check`
//! runs it: what it counts (the list it writes beside its trace) is what
//! strace's recording shows touching the scope, a process's threads
//! counted together; its trace holds the calls elsewhere too, so a file
//! made outside the scope and renamed in is followed; its trace converts
//! to the op log strace's converts to, for a
//! program that makes every call the converter reads and for the saves of
//! real stores (the built-in one, the strict Python store, the Python
//! original, Node's write-file-atomic when it is built), recorded or with
//! a call failed; it kills or fails exactly the call meant; the traced
//! program's input, output, error and exit code are its own; and no
//! traced process outlives the tracer. Tests that need strace, python3,
//! node or `../shared` say so and skip without them; on machines other
//! than Linux x86-64 the tracer is not built and they skip too.

mod common;

use std::fs;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::LIFECYCLE;
use lifecycle_model::persistence::{Disk, InodeId, Op};
use lifecycle_oracle::syscalls::convert::{convert, disk_before, SaveContext};
use lifecycle_oracle::syscalls::paths_named;
use lifecycle_oracle::syscalls::strace::{parse, Call, CallResult, EventKind, Trace};
use lifecycle_oracle::syscalls::table::lookup;
use lifecycle_oracle::traced::record::own_umask;

fn supported() -> bool {
    if !lifecycle_oracle::ptrace::SUPPORTED {
        eprintln!("skipped: lifecycle trace runs on Linux x86-64 only");
    }
    lifecycle_oracle::ptrace::SUPPORTED
}

fn strace() -> bool {
    let found = Command::new("strace").arg("-V").output().is_ok();
    if !found {
        eprintln!("skipped: strace is not installed");
    }
    found
}

/// `lifecycle trace --scope SCOPE --out SCOPE.trace [--inject SPEC] --
/// sh -c SCRIPT`.
fn trace_command(scope: &Path, inject: Option<&str>, script: &str) -> Command {
    let mut command = Command::new(LIFECYCLE);
    command
        .arg("trace")
        .arg("--scope")
        .arg(scope)
        .arg("--out")
        .arg(scope.with_extension("trace"));
    if let Some(spec) = inject {
        command.args(["--inject", spec]);
    }
    command.args(["--", "sh", "-c", script]);
    command
}

/// A scope inside the temp dir `dir`, so that the trace written beside
/// it (`scope.trace`, and its `.counted` list) goes with `dir`.
fn scope_in(dir: &tempfile::TempDir) -> PathBuf {
    let scope = dir.path().join("scope");
    fs::create_dir(&scope).expect("made");
    scope
}

/// The calls `lifecycle trace` counted in its trace of `scope`, as it
/// lists them beside the trace (indices of `trace.calls`).
fn counted(scope: &Path, trace: &Trace) -> Vec<usize> {
    lifecycle_oracle::ptrace::counted(&scope.with_extension("trace"), trace)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// [`trace_command`] run: its exit code and the trace it wrote.
fn traced(scope: &Path, script: &str, inject: Option<&str>) -> (i32, Trace) {
    let out = scope.with_extension("trace");
    let status = trace_command(scope, inject, script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("lifecycle trace runs");
    let text = fs::read_to_string(&out).expect("a trace");
    let trace = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (status.code().unwrap_or(-1), trace)
}

/// A save of sorts: calls elsewhere, then files written and renamed in
/// `scope`, a second process among them.
fn script(scope: &Path) -> String {
    let d = scope.display();
    format!(
        "cat /proc/self/status > /dev/null; \
         for i in 1 2 3; do echo $i > {d}/f$i; done; \
         cat /etc/hostname {d}/f1 > /dev/null; \
         mv {d}/f2 {d}/g; \
         echo done > {d}/h"
    )
}

fn within(path: &[u8], scope: &Path) -> bool {
    let scope = scope.as_os_str().as_encoded_bytes();
    path.strip_prefix(scope)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b"/"))
}

/// Each call of `trace` that names a path in `scope`: its process, name
/// and those paths.
fn touching(trace: &Trace, scope: &Path) -> Vec<(u32, String, Vec<Vec<u8>>)> {
    trace
        .calls
        .iter()
        .filter_map(|c| {
            let paths: Vec<Vec<u8>> = paths_named(c)
                .into_iter()
                .filter(|p| within(p, scope))
                .collect();
            (!paths.is_empty()).then(|| (c.pid, c.name.clone(), paths))
        })
        .collect()
}

/// The indices of the calls of `trace` that name a path in `scope`.
fn naming_the_scope(trace: &Trace, scope: &Path) -> Vec<usize> {
    trace
        .calls
        .iter()
        .filter(|c| paths_named(c).iter().any(|p| within(p, scope)))
        .map(|c| c.index)
        .collect()
}

/// The calls as (process by order of appearance, name, paths).
fn renumbered(calls: Vec<(u32, String, Vec<Vec<u8>>)>) -> Vec<(usize, String, Vec<Vec<u8>>)> {
    let mut order: Vec<u32> = Vec::new();
    calls
        .into_iter()
        .map(|(pid, name, paths)| {
            let process = order.iter().position(|&p| p == pid).unwrap_or_else(|| {
                order.push(pid);
                order.len() - 1
            });
            (process, name, paths)
        })
        .collect()
}

#[test]
fn the_calls_it_counts_are_those_strace_shows_touching_the_scope() {
    if !supported() || !strace() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let by_strace = dir.path().join("strace");
    let by_ptrace = dir.path().join("ptrace");
    for scope in [&by_strace, &by_ptrace] {
        fs::create_dir(scope).expect("made");
    }
    let trace_path = dir.path().join("strace.trace");
    let status = Command::new("strace")
        .args(["-f", "-y", "-xx", "-X", "raw", "-s", "2097152", "-o"])
        .arg(&trace_path)
        .args(["--", "sh", "-c", &script(&by_strace)])
        .status()
        .expect("strace runs");
    assert!(status.success());
    let recorded = parse(&fs::read_to_string(&trace_path).expect("a trace")).expect("parses");
    let (code, traced) = traced(&by_ptrace, &script(&by_ptrace), None);
    assert_eq!(code, 0);
    let relative = |calls: Vec<(u32, String, Vec<Vec<u8>>)>, scope: &Path| {
        let prefix = scope.as_os_str().len();
        renumbered(calls)
            .into_iter()
            .map(|(p, name, paths)| {
                let paths: Vec<Vec<u8>> = paths.into_iter().map(|x| x[prefix..].to_vec()).collect();
                (p, name, paths)
            })
            .collect::<Vec<_>>()
    };
    let seen_by_strace = relative(touching(&recorded, &by_strace), &by_strace);
    let seen_by_ptrace = relative(touching(&traced, &by_ptrace), &by_ptrace);
    assert!(seen_by_strace.len() > 10, "{seen_by_strace:?}");
    assert_eq!(seen_by_ptrace, seen_by_strace);
    // Its list of calls counted names exactly those; its trace holds
    // every call the table knows, those elsewhere too, and the
    // processes' ends.
    assert_eq!(
        counted(&by_ptrace, &traced),
        naming_the_scope(&traced, &by_ptrace)
    );
    assert!(
        traced.calls.iter().all(|c| lookup(&c.name).is_some()),
        "{traced:?}"
    );
    assert!(
        traced.calls.iter().any(|c| paths_named(c)
            .iter()
            .any(|p| p.as_slice() == b"/etc/hostname")),
        "{traced:?}"
    );
    assert!(traced
        .events
        .iter()
        .all(|e| matches!(e.kind, EventKind::Exited(0))));
}

#[test]
fn it_kills_and_fails_exactly_the_call_meant_and_no_other() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let fresh = |name: &str| {
        let scope = dir.path().join(name);
        fs::create_dir(&scope).expect("made");
        scope
    };
    let recording = fresh("recording");
    let (_, recorded) = traced(&recording, &script(&recording), None);
    let meant = renumbered(touching(&recorded, &recording));
    // The 2nd openat of the first process that touches the scope: f2.
    let openats: Vec<&(usize, String, Vec<Vec<u8>>)> = meant
        .iter()
        .filter(|(p, name, _)| *p == 0 && name == "openat")
        .collect();
    assert!(openats[1].2[0].ends_with(b"/f2"), "{meant:?}");

    let killed = fresh("killed");
    let (code, trace) = traced(&killed, &script(&killed), Some("openat:2:1:kill"));
    assert_eq!(code, 128 + 9, "the shell is killed");
    let hit = trace.calls.last().expect("the call hit");
    assert_eq!(hit.name, "openat");
    assert!(paths_named(hit).iter().any(|p| p.ends_with(b"/killed/f2")));
    assert_eq!(hit.result, CallResult::Unknown);
    assert!(trace
        .events
        .iter()
        .any(|e| e.pid == hit.pid && e.kind == EventKind::Killed("SIGKILL".into())));
    // The call before it ran; it did not, nor anything after.
    assert!(killed.join("f1").exists());
    assert!(!killed.join("f2").exists());
    assert!(!killed.join("h").exists());

    let failed = fresh("failed");
    let (_, trace) = traced(&failed, &script(&failed), Some("openat:2:1:ENOSPC"));
    let hits: Vec<_> = trace
        .calls
        .iter()
        .filter(|c| matches!(&c.result, CallResult::Err { errno } if errno == "ENOSPC"))
        .collect();
    assert_eq!(hits.len(), 1, "{trace:?}");
    assert!(paths_named(hits[0])
        .iter()
        .any(|p| p.ends_with(b"/failed/f2")));
    // Failed, not run; the calls after it ran.
    assert!(!failed.join("f2").exists());
    assert!(failed.join("f3").exists());
    assert!(failed.join("h").exists());

    // After the 3rd call in the scope, the next call of that thread,
    // whatever it is, is the one killed.
    let after = fresh("after");
    let (_, trace) = traced(&after, &script(&after), Some("after:3:1:kill"));
    let third = &trace.calls[counted(&after, &trace)[2]];
    let next: Vec<&Call> = trace.calls[third.index + 1..]
        .iter()
        .filter(|c| c.pid == third.pid)
        .collect();
    assert_eq!(next.len(), 1, "{trace:?}");
    assert_eq!(next[0].result, CallResult::Unknown);
    assert!(trace
        .events
        .iter()
        .any(|e| e.pid == third.pid && e.kind == EventKind::Killed("SIGKILL".into())));
    assert!(after.join("f1").exists());
    assert!(!after.join("f2").exists());
}

#[test]
fn a_file_made_outside_the_scope_and_renamed_in_is_in_the_trace_but_not_counted() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let (scope, elsewhere) = (dir.path().join("scope"), dir.path().join("elsewhere"));
    for made in [&scope, &elsewhere] {
        fs::create_dir(made).expect("made");
    }
    let before = disk_before(scope.to_str().expect("UTF-8")).expect("the disk before");
    let script = format!(
        "echo made > {e}/t; mv {e}/t {s}/r",
        e = elsewhere.display(),
        s = scope.display()
    );
    let (code, trace) = traced(&scope, &script, None);
    assert_eq!(code, 0);
    let on_the_temp = |name: &str| {
        trace
            .calls
            .iter()
            .find(|c| c.name == name && paths_named(c).iter().any(|p| p.ends_with(b"/elsewhere/t")))
    };
    let (Some(made), Some(written)) = (on_the_temp("openat"), on_the_temp("write")) else {
        panic!("the temp's openat and write are not in {trace:?}");
    };
    let counted = counted(&scope, &trace);
    assert!(!counted.contains(&made.index) && !counted.contains(&written.index));
    let in_scope = naming_the_scope(&trace, &scope);
    assert!(!in_scope.is_empty());
    assert_eq!(counted, in_scope);
    // And so its trace converts as a recording does: the temp followed
    // from its creation to its rename into the scope.
    let text = fs::read_to_string(scope.with_extension("trace")).expect("the trace");
    let recorded = Recorded {
        scope,
        trace,
        text,
        before,
    };
    let ops = op_log(&recorded, &["/r"]);
    for expected in ["write #0 at 0: made\n", "rename (new name 0) /r"] {
        assert!(
            ops.iter().any(|op| op == expected),
            "no {expected:?} in\n{}",
            ops.join("\n")
        );
    }
}

/// A program whose calls in its scope come from two threads: its main
/// thread creates f1, another thread f2, the main thread f3.
const TWO_THREADS: &str = r#"
import sys, threading
d = sys.argv[1]
def create(name):
    open(f"{d}/{name}", "w").close()
create("f1")
worker = threading.Thread(target=create, args=("f2",))
worker.start()
worker.join()
create("f3")
"#;

#[test]
fn the_threads_of_a_process_count_together_so_the_2nd_openat_is_the_other_threads() {
    let Some(python) = python().filter(|_| supported()) else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let program = dir.path().join("two_threads.py");
    fs::write(&program, TWO_THREADS).expect("written");
    let scope = dir.path().join("scope");
    fs::create_dir(&scope).expect("made");
    let script = format!("{python} {} {}", program.display(), scope.display());
    let (code, trace) = traced(&scope, &script, Some("openat:2:1:kill"));
    assert_eq!(code, 128 + 9, "python is killed");
    let opened = |name: &str| {
        trace.calls.iter().find(|c| {
            c.name == "openat" && paths_named(c).iter().any(|p| p.ends_with(name.as_bytes()))
        })
    };
    let (Some(first), Some(hit)) = (opened("/scope/f1"), opened("/scope/f2")) else {
        panic!("no openat of f1 and f2 in {trace:?}");
    };
    assert_ne!(first.pid, hit.pid, "f2 is opened by another thread");
    assert_eq!(hit.result, CallResult::Unknown);
    assert!(scope.join("f1").exists());
    assert!(!scope.join("f2").exists());
    assert!(!scope.join("f3").exists(), "the process was killed at f2");
}

#[test]
fn the_program_keeps_its_input_output_error_and_exit_code() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let script = "read x; echo \"out $x\" | tee /dev/null; echo err >&2; exit 3";
    let mut child = trace_command(&scope_in(&dir), None, script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lifecycle trace runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"hello\n")
        .expect("written");
    let output = child.wait_with_output().expect("it ends");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "out hello\n");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "err\n");
    assert_eq!(output.status.code(), Some(3));
}

/// What `grep Seccomp: /proc/self/status` prints in `script`'s place,
/// traced with `inject`.
fn seccomp_mode(dir: &Path, inject: Option<&str>) -> String {
    let script = format!(
        "grep Seccomp: /proc/self/status; echo x > {}/f",
        dir.display()
    );
    let output = trace_command(dir, inject, &script)
        .stdin(Stdio::null())
        .output()
        .expect("lifecycle trace runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn the_program_runs_under_the_filter_unless_any_call_may_be_the_one_failed() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let scope = scope_in(&dir);
    // Mode 2: a seccomp filter, which lets the calls never written run
    // without a stop.
    assert_eq!(seccomp_mode(&scope, None), "Seccomp:\t2");
    assert_eq!(seccomp_mode(&scope, Some("openat:9:1:EIO")), "Seccomp:\t2");
    // The call after the last in the scope may be any call: to kill it,
    // its thread stops at every call until it makes it; to fail it, every
    // call stops.
    assert_eq!(seccomp_mode(&scope, Some("after:9:1:kill")), "Seccomp:\t2");
    assert_eq!(seccomp_mode(&scope, Some("after:9:1:EIO")), "Seccomp:\t0");
}

#[test]
fn the_call_killed_after_the_last_in_the_scope_is_the_next_of_its_thread_even_one_never_stopped_at()
{
    if !supported() {
        return;
    }
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("a temp dir");
    let scope = scope_in(&dir);
    // getppid is no call of the system-call table: the filter lets it run
    // without a stop, unless its thread is the one to kill next.
    let script = format!(
        "exec {python} -c 'import os, sys; os.close(os.open(sys.argv[1] + \"/f\", os.O_WRONLY | os.O_CREAT, 0o600)); os.getppid(); print(1)' {}",
        scope.display()
    );
    let (code, trace) = traced(&scope, &script, Some("after:2:1:kill"));
    assert_eq!(code, 128 + 9);
    let hit = trace.calls.last().expect("the call hit");
    let last: Vec<&str> = trace
        .calls
        .iter()
        .rev()
        .take(3)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(hit.name, "getppid", "the last calls, last first: {last:?}");
    assert_eq!(hit.result, CallResult::Unknown);
}

/// Whether process `pid` is gone (or a zombie, which runs nothing).
fn gone(pid: &str) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[test]
fn no_traced_process_outlives_a_tracer_killed_or_terminated() {
    if !supported() {
        return;
    }
    for signal in ["KILL", "TERM"] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let pids = dir.path().join("pids");
        let script = format!(
            "sleep 300 & echo $! > {p}.tmp; (sleep 300; true) & echo $! >> {p}.tmp; echo $$ >> {p}.tmp; mv {p}.tmp {p}; wait",
            p = pids.display()
        );
        let mut tracer = trace_command(&scope_in(&dir), None, &script)
            .stdin(Stdio::null())
            .spawn()
            .expect("lifecycle trace runs");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !pids.exists() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let started = fs::read_to_string(&pids).expect("the traced processes started");
        let started: Vec<&str> = started.split_whitespace().collect();
        assert_eq!(started.len(), 3);
        assert!(started.iter().all(|pid| !gone(pid)));
        let killed = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(tracer.id().to_string())
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let _ = tracer.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !started.iter().all(|pid| gone(pid)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let left: Vec<&&str> = started.iter().filter(|pid| !gone(pid)).collect();
        assert!(left.is_empty(), "SIG{signal}: {left:?} outlived the tracer");
    }
}

// ---------------------------------------------------------------------------
// A template forked once per replay (--serve)
// ---------------------------------------------------------------------------

/// `lifecycle trace --serve` of a shell that answers `start`, then makes
/// files in each directory it is sent, as `script` does.
struct Served {
    tracer: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    control: std::io::BufReader<std::os::unix::net::UnixStream>,
}

/// The work of [`script`] in the directory `$dir`.
const SAVE_OF_SORTS: &str =
    "for i in 1 2 3; do echo $i > $dir/f$i; done; mv $dir/f2 $dir/g; echo done";

impl Served {
    fn start(dir: &Path, before: &str) -> Served {
        let socket = dir.join("control");
        let listener = std::os::unix::net::UnixListener::bind(&socket).expect("listening");
        let script = format!(
            "{before}read start; echo started; while read dir; do [ \"$dir\" = stop ] && exit 0; {SAVE_OF_SORTS}; done"
        );
        let mut tracer = Command::new(LIFECYCLE)
            .arg("trace")
            .arg("--scope")
            .arg(dir.join("none"))
            .arg("--out")
            .arg(dir.join("template.trace"))
            .arg("--serve")
            .arg(&socket)
            .args(["--", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("lifecycle trace runs");
        let (control, _) = listener.accept().expect("the tracer connects");
        let mut served = Served {
            stdin: tracer.stdin.take().expect("stdin"),
            stdout: std::io::BufReader::new(tracer.stdout.take().expect("stdout")),
            control: std::io::BufReader::new(control),
            tracer,
        };
        served.send("start");
        assert_eq!(served.reply(), "started");
        served
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("sent");
    }

    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("a reply");
        line.trim_end().to_string()
    }

    fn told(&mut self) -> String {
        let mut line = String::new();
        self.control.read_line(&mut line).expect("the tracer says");
        line.trim_end().to_string()
    }

    /// A copy sent `scope`, traced with `spec`: what the tracer said of
    /// its end, and its trace.
    fn replay(&mut self, scope: &Path, spec: &str, answers: bool) -> (String, Trace) {
        fs::create_dir(scope).expect("made");
        let out = scope.with_extension("trace");
        let fork = format!("fork\t{}\t{}\t{spec}\n", scope.display(), out.display());
        self.control
            .get_mut()
            .write_all(fork.as_bytes())
            .expect("asked");
        assert_eq!(self.told(), "forked");
        self.send(&scope.display().to_string());
        if answers {
            assert_eq!(self.reply(), "done");
            self.send("stop");
        }
        let ended = self.told();
        let text = fs::read_to_string(&out).expect("a trace");
        (
            ended,
            parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")),
        )
    }
}

/// The calls of `trace` in `scope` as [`renumbered`] gives them, their
/// paths relative to `scope`.
fn in_scope(trace: &Trace, scope: &Path) -> Vec<(usize, String, Vec<Vec<u8>>)> {
    let top = scope.as_os_str().as_encoded_bytes();
    renumbered(touching(trace, scope))
        .into_iter()
        .map(|(process, name, paths)| {
            let paths = paths
                .iter()
                .map(|p| p.strip_prefix(top).unwrap_or(p).to_vec())
                .collect();
            (process, name, paths)
        })
        .collect()
}

#[test]
fn each_copy_of_a_template_is_counted_traced_and_hit_as_a_fresh_run_is() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let fresh = dir.path().join("fresh");
    fs::create_dir(&fresh).expect("made");
    let (_, recorded) = traced(
        &fresh,
        &SAVE_OF_SORTS.replace("$dir", &fresh.display().to_string()),
        None,
    );
    let mut served = Served::start(dir.path(), "");
    // Copy after copy, each counted from its own start.
    for round in 0..3 {
        let plain = dir.path().join(format!("plain{round}"));
        let (ended, trace) = served.replay(&plain, "-", true);
        assert_eq!(ended, "ended\t0\t0");
        assert_eq!(in_scope(&trace, &plain), in_scope(&recorded, &fresh));
        assert_eq!(counted(&plain, &trace), naming_the_scope(&trace, &plain));
        assert!(plain.join("g").exists() && plain.join("f3").exists());
    }
    let killed = dir.path().join("killed");
    let (ended, trace) = served.replay(&killed, "openat:2:1:kill", false);
    assert_eq!(ended, "ended\t137\t0");
    let hit = trace.calls.last().expect("the call hit");
    assert!(paths_named(hit).iter().any(|p| p.ends_with(b"/killed/f2")));
    assert!(trace
        .events
        .iter()
        .any(|e| e.pid == hit.pid && e.kind == EventKind::Killed("SIGKILL".into())));
    assert!(killed.join("f1").exists() && !killed.join("f2").exists());
    assert!(!killed.join("f3").exists());

    let failed = dir.path().join("failed");
    let (ended, trace) = served.replay(&failed, "openat:2:1:ENOSPC", true);
    assert_eq!(ended, "ended\t0\t0");
    let hits = trace
        .calls
        .iter()
        .filter(|c| matches!(&c.result, CallResult::Err { errno } if errno == "ENOSPC"))
        .count();
    assert_eq!(hits, 1, "{trace:?}");
    assert!(!failed.join("f2").exists() && failed.join("f3").exists());

    // The template itself still reads its own requests.
    served.send("stop");
    let status = served.tracer.wait().expect("it ends");
    assert_eq!(status.code(), Some(0));
    let template = fs::read_to_string(dir.path().join("template.trace")).expect("its trace");
    assert!(!template.contains("/plain0"), "{template}");
}

#[test]
fn a_template_reading_beside_another_process_is_refused_and_one_let_go_is_killed() {
    if !supported() {
        return;
    }
    // A process beside the reader of the requests cannot be copied.
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut served = Served::start(dir.path(), "sleep 1 & ");
    assert!(
        served
            .told()
            .starts_with("refused\tthe adapter reads its requests with more than one"),
        "a shell that started a process"
    );
    served.send("stop");
    assert_eq!(served.tracer.wait().expect("it ends").code(), Some(0));

    // One that ran and ended before is no matter.
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut served = Served::start(dir.path(), "sleep 0 & wait; ");
    let (ended, _) = served.replay(&dir.path().join("copy"), "-", true);
    assert_eq!(ended, "ended\t0\t0");
    served
        .control
        .get_ref()
        .shutdown(std::net::Shutdown::Both)
        .expect("closed");
    let status = served.tracer.wait().expect("it ends");
    assert_eq!(status.code(), Some(128 + 9), "the template is killed");
}

// ---------------------------------------------------------------------------
// Its trace converts as strace's does
// ---------------------------------------------------------------------------

/// The Python interpreter itself: a version manager's `python3` shim
/// (pyenv's) starts a shell and several processes before Python.
fn python() -> Option<&'static str> {
    static FOUND: OnceLock<Option<String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
    });
    if found.is_none() {
        eprintln!("skipped: python3 is not installed");
    }
    found.as_deref()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Who records a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorder {
    /// `strace -f -y -xx -X raw -s 2097152`, as the oracle records.
    Strace,
    /// `lifecycle trace --scope SCOPE`.
    Ptrace,
}

/// A call to fail with EIO: strace's rule and `lifecycle trace`'s spec,
/// which must name the same call.
struct Fault {
    strace: &'static str,
    ptrace: &'static str,
}

/// How a scope starts.
type Prepare = fn(&Path);

/// One run to record: how its scope starts, the program run, what it
/// reads, the call failed if any.
struct Run<'a> {
    name: &'a str,
    prepare: Prepare,
    program: &'a dyn Fn(&Path) -> Vec<String>,
    stdin: fn(&Path) -> String,
    fault: Option<&'a Fault>,
}

/// What a run recorded: its trace, and the disk before it in its scope.
struct Recorded {
    scope: PathBuf,
    trace: Trace,
    text: String,
    before: Disk,
}

/// `run` in a fresh scope in `dir`, under `recorder`.
fn record(recorder: Recorder, dir: &Path, run: &Run<'_>) -> Recorded {
    let name = format!("{}-{recorder:?}", run.name);
    let scope = dir.join(&name);
    fs::create_dir(&scope).expect("made");
    (run.prepare)(&scope);
    let scope_text = scope.to_str().expect("a UTF-8 temp dir");
    let before = disk_before(scope_text).expect("the disk before");
    let out = scope.with_extension("trace");
    let mut command = match recorder {
        Recorder::Strace => {
            let mut command = Command::new("strace");
            command
                .args(["-f", "-y", "-xx", "-X", "raw", "-s", "2097152", "-o"])
                .arg(&out);
            if let Some(fault) = run.fault {
                command.args(["-e", fault.strace]);
            }
            command
        }
        Recorder::Ptrace => {
            let mut command = Command::new(LIFECYCLE);
            command
                .args(["trace", "--scope"])
                .arg(&scope)
                .arg("--out")
                .arg(&out);
            if let Some(fault) = run.fault {
                command.args(["--inject", fault.ptrace]);
            }
            command
        }
    };
    let mut child = command
        .arg("--")
        .args((run.program)(&scope))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tracer runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all((run.stdin)(&scope).as_bytes())
        .expect("written");
    drop(input);
    let output = child.wait_with_output().expect("it ends");
    assert!(
        output.status.success(),
        "{recorder:?} of {name}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = fs::read_to_string(&out).expect("a trace");
    let trace = parse(&text).unwrap_or_else(|e| panic!("{recorder:?} of {name}: {e}"));
    Recorded {
        scope,
        trace,
        text,
        before,
    }
}

/// The op log of a recorded run, converted as the oracle converts, its
/// paths relative to the scope with the names not in `known` (random temp
/// names) numbered in the order they appear, and its inodes numbered the
/// same way.
fn op_log(recorded: &Recorded, known: &[&str]) -> Vec<String> {
    let scope = recorded.scope.to_str().expect("UTF-8");
    let cwd = std::env::current_dir().expect("a working directory");
    let context = SaveContext {
        dir: scope,
        before: &recorded.before,
        umask: own_umask(),
        cwd: cwd.to_str().expect("UTF-8"),
    };
    let converted = convert(&recorded.trace.calls, &context).unwrap_or_else(|refusal| {
        panic!(
            "the trace does not convert: {refusal}\n{}",
            decoded(&recorded.text)
        )
    });
    let mut names: HashMap<String, String> = HashMap::new();
    let mut inodes: HashMap<InodeId, usize> = HashMap::new();
    let mut path = |path: &str| -> String {
        let relative = path.strip_prefix(scope).unwrap_or(path).to_string();
        if known.contains(&relative.as_str()) {
            return relative;
        }
        let next = names.len();
        names
            .entry(relative)
            .or_insert_with(|| format!("(new name {next})"))
            .clone()
    };
    let mut inode = |inode: InodeId| -> usize {
        let next = inodes.len();
        *inodes.entry(inode).or_insert(next)
    };
    converted
        .ops
        .iter()
        .map(|traced| match &traced.op {
            Op::Mkdir { path: p, mode } => format!("mkdir {} {mode:o}", path(p)),
            Op::Create {
                path: p,
                inode: i,
                mode,
            } => format!("create {} #{} {mode:o}", path(p), inode(*i)),
            Op::CreateUnnamed { inode: i, mode } => {
                format!("create unnamed #{} {mode:o}", inode(*i))
            }
            Op::Link { inode: i, path: p } => format!("link #{} {}", inode(*i), path(p)),
            Op::Write {
                inode: i,
                offset,
                data,
            } => format!(
                "write #{} at {offset}: {}",
                inode(*i),
                String::from_utf8_lossy(data)
            ),
            Op::Truncate { inode: i, size } => format!("truncate #{} {size}", inode(*i)),
            Op::FsyncFile { inode: i } => format!("fsync #{}", inode(*i)),
            Op::FdatasyncFile { inode: i } => format!("fdatasync #{}", inode(*i)),
            Op::Rename { from, to } => format!("rename {} {}", path(from), path(to)),
            Op::Unlink { path: p } => format!("unlink {}", path(p)),
            Op::Rmdir { path: p } => format!("rmdir {}", path(p)),
            Op::Chmod { path: p, mode } => format!("chmod {} {mode:o}", path(p)),
            Op::ChmodFile { inode: i, mode } => format!("chmod #{} {mode:o}", inode(*i)),
            Op::FsyncDir { path: p } => format!("fsync dir {}", path(p)),
        })
        .collect()
}

/// A trace with its `\xNN` strings decoded, for a reader.
fn decoded(text: &str) -> String {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let byte = text
            .get(at + 2..at + 4)
            .filter(|_| bytes[at] == b'\\' && bytes.get(at + 1) == Some(&b'x'))
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match byte {
            Some(b) => {
                out.push(b);
                at += 4;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A temp dir to record in with both tracers, when both run here.
fn comparing() -> Option<tempfile::TempDir> {
    (supported() && strace()).then(|| tempfile::tempdir().expect("a temp dir"))
}

/// `run` recorded by strace and by `lifecycle trace` (each in its own
/// scope under `dir`) converts to the same op log, `known` the names it
/// fixes; that op log.
fn assert_same_op_log(dir: &Path, run: &Run<'_>, known: &[&str]) -> Vec<String> {
    let name = run.name;
    let by_strace = record(Recorder::Strace, dir, run);
    let by_ptrace = record(Recorder::Ptrace, dir, run);
    let (expected, got) = (op_log(&by_strace, known), op_log(&by_ptrace, known));
    assert!(
        expected == got,
        "{name}: the op logs differ\nstrace's:\n{}\nlifecycle trace's:\n{}\nthe trace of lifecycle trace:\n{}",
        expected.join("\n"),
        got.join("\n"),
        decoded(&by_ptrace.text)
    );
    // strace's calls that the system-call table knows, and no other.
    assert!(
        by_ptrace
            .trace
            .calls
            .iter()
            .all(|c| lookup(&c.name).is_some()),
        "{name}: {}",
        decoded(&by_ptrace.text)
    );
    got
}

/// A program that makes, in its scope, every call the converter reads:
/// opens with flags and modes, the writes of every kind, offsets moved by
/// lseek and read, truncations, syncs, duplicates, O_APPEND set by fcntl,
/// a thread writing to a descriptor its main thread opened, a forked
/// child writing to its copy, close_range, the *at calls, a file without
/// a name linked by /proc/self/fd, renameat2, chdir and fchdir before a
/// relative rename, and a umask that the modes of creations show.
const EVERY_CALL: &str = r#"
import ctypes, fcntl, os, sys, threading
d = sys.argv[1]
a = f"{d}/a"
libc = ctypes.CDLL(None, use_errno=True)
def check(result, what):
    if result != 0:
        sys.exit(f"{what}: {os.strerror(ctypes.get_errno())}")
os.umask(0o027)
os.mkdir(a, 0o777)
fd = os.open(f"{a}/f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
os.fstat(fd)
os.write(fd, b"hello")
os.pwrite(fd, b"XY", 1)
os.writev(fd, [b"ab", b"cd"])
os.pwritev(fd, [b"12", b"34"], 12)
os.pwritev(fd, [b"z"], 0, os.RWF_APPEND)
os.lseek(fd, 2, os.SEEK_SET)
os.write(fd, b"W")
os.ftruncate(fd, 14)
os.fsync(fd)
os.fdatasync(fd)
copy = os.dup(fd)
high = fcntl.fcntl(fd, fcntl.F_DUPFD, 20)
os.dup2(fd, 30)
os.dup2(fd, 31, inheritable=False)
os.write(high, b"D")
os.close(copy)
fcntl.fcntl(fd, fcntl.F_SETFL, os.O_APPEND)
os.write(fd, b"app")
worker = threading.Thread(target=lambda: os.write(fd, b"T"))
worker.start()
worker.join()
child = os.fork()
if child == 0:
    os.write(30, b"C")
    os._exit(0)
os.waitpid(child, 0)
os.closerange(20, 40)
os.close(fd)
rw = os.open(f"{a}/f", os.O_RDWR)
os.read(rw, 3)
os.write(rw, b"R")
os.close(rw)
os.truncate(f"{a}/f", 20)
os.chmod(f"{a}/f", 0o600)
dfd = os.open(a, os.O_RDONLY | os.O_DIRECTORY)
os.chmod("f", 0o640, dir_fd=dfd)
os.rename("f", "g", src_dir_fd=dfd, dst_dir_fd=dfd)
os.link("g", "h", src_dir_fd=dfd, dst_dir_fd=dfd)
os.unlink("h", dir_fd=dfd)
os.mkdir("sub", 0o700, dir_fd=dfd)
os.rmdir("sub", dir_fd=dfd)
os.fsync(dfd)
tmp = os.open(a, os.O_TMPFILE | os.O_WRONLY, 0o600)
os.write(tmp, b"unnamed")
os.fchmod(tmp, 0o644)
check(libc.linkat(-100, f"/proc/self/fd/{tmp}".encode(), -100, f"{a}/t".encode(), 0x400), "linkat")
os.close(tmp)
check(libc.renameat2(-100, f"{a}/t".encode(), -100, f"{a}/u".encode(), 1), "renameat2")
os.fchdir(dfd)
os.rename("g", "k")
os.chdir(d)
os.rename("a/u", "a/v")
os.chdir("/")
os.unlink(f"{a}/k")
os.close(dfd)
"#;

#[test]
fn a_program_making_every_call_the_converter_reads_converts_as_strace_recorded_it() {
    let (Some(dir), Some(python)) = (comparing(), python()) else {
        return;
    };
    let program = |scope: &Path| {
        vec![
            python.to_string(),
            "-c".to_string(),
            EVERY_CALL.to_string(),
            scope.display().to_string(),
        ]
    };
    let run = Run {
        name: "every-call",
        prepare: |_| {},
        program: &program,
        stdin: |_| String::new(),
        fault: None,
    };
    let ops = assert_same_op_log(
        dir.path(),
        &run,
        &[
            "/a", "/a/f", "/a/g", "/a/h", "/a/k", "/a/sub", "/a/t", "/a/u", "/a/v",
        ],
    );
    let text = ops.join("\n");
    for expected in [
        "mkdir /a 750",
        "create /a/f #0 640",
        "write #0 at 0: hello",
        "write #0 at 1: XY",
        "write #0 at 5: abcd",
        "write #0 at 12: 1234",
        "write #0 at 16: z",
        "write #0 at 2: W",
        "truncate #0 14",
        "fsync #0",
        "fdatasync #0",
        "write #0 at 3: D",
        "write #0 at 14: app",
        "write #0 at 17: T",
        "write #0 at 18: C",
        "write #0 at 3: R",
        "truncate #0 20",
        "chmod /a/f 600",
        "chmod /a/f 640",
        "rename /a/f /a/g",
        "link #0 /a/h",
        "unlink /a/h",
        "mkdir /a/sub 700",
        "rmdir /a/sub",
        "fsync dir /a",
        "create unnamed #1 600",
        "write #1 at 0: unnamed",
        "chmod #1 644",
        "link #1 /a/t",
        "rename /a/t /a/u",
        "rename /a/g /a/k",
        "rename /a/u /a/v",
        "unlink /a/k",
    ] {
        assert!(
            ops.iter().any(|op| op == expected),
            "no {expected:?} in\n{text}"
        );
    }
}

/// The record saved, and the one before it.
const NEW_RECORD: &str = r#"{"current_state":"SLEEP","since_ts":"2024-03-01T09:30:00Z","last_activity_ts":"2024-03-01T09:05:12Z","wrapper_event_seq":42,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}"#;
const OLD_RECORD: &str = r#"{"current_state":"WAKE","since_ts":"2024-03-01T08:00:00Z","last_activity_ts":"2024-03-01T08:00:00Z","wrapper_event_seq":41,"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}"#;

/// The requests of one save into `scope/state`, as the oracle sends them.
fn save_requests(scope: &Path) -> String {
    let path = scope.join("state/lifecycle_state.json");
    format!(
        "{{\"cmd\":\"start\",\"version\":1}}\n{{\"cmd\":\"save\",\"seq\":1,\"path\":{:?},\"record\":{NEW_RECORD}}}\n{{\"cmd\":\"stop\"}}\n",
        path.display().to_string()
    )
}

/// The names of a save the case fixes; any other is a temp's.
const SAVE_NAMES: [&str; 3] = ["", "/state", "/state/lifecycle_state.json"];

/// The starting directories: none yet, and an old record.
fn starts() -> [(&'static str, Prepare); 2] {
    fn old_record(scope: &Path) {
        let state = scope.join("state");
        fs::create_dir(&state).expect("made");
        let record = state.join("lifecycle_state.json");
        fs::write(&record, format!("{OLD_RECORD}\n")).expect("written");
        fs::set_permissions(&record, fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    [("no-directory", |_| {}), ("old-record", old_record)]
}

/// The stores whose saves are compared: a name and their adapter's
/// command line (skipped, saying why, when absent).
fn stores() -> Vec<(String, Vec<String>)> {
    let mut stores = vec![(
        "built-in".to_string(),
        vec![LIFECYCLE.to_string(), "adapter".to_string()],
    )];
    let Some(python) = python() else {
        return stores;
    };
    let adapter = repo().join("adapters/python/lifecycle_adapter.py");
    let python_store = |module: PathBuf| {
        vec![
            python.to_string(),
            adapter.display().to_string(),
            "--module".to_string(),
            module.display().to_string(),
        ]
    };
    stores.push((
        "conforming".to_string(),
        python_store(repo().join("adapters/python/conforming_store.py")),
    ));
    let seed = repo().join("../shared/seeds/lifecycle_state.py");
    if seed.exists() {
        stores.push(("python-original".to_string(), python_store(seed)));
    } else {
        eprintln!("skipped the Python original: {} is absent", seed.display());
    }
    let node = repo().join("adapters/examples/node-write-file-atomic");
    let node_found = Command::new("node").arg("--version").output().is_ok();
    if node_found && node.join("node_modules/write-file-atomic").is_dir() {
        let script = node.join("adapter.js").display().to_string();
        stores.push(("node".to_string(), vec!["node".to_string(), script.clone()]));
        stores.push((
            "node-sync".to_string(),
            vec!["node".to_string(), script, "--sync".to_string()],
        ));
    } else {
        eprintln!(
            "skipped Node's write-file-atomic: node or its packages are absent (adapters/examples/check.sh node-write-file-atomic installs them)"
        );
    }
    stores
}

#[test]
fn the_saves_of_real_stores_convert_as_strace_recorded_them() {
    let Some(dir) = comparing() else {
        return;
    };
    for (store, command) in stores() {
        for (start, prepare) in starts() {
            let name = format!("{store}-{start}");
            let program = |_: &Path| command.clone();
            let run = Run {
                name: &name,
                prepare,
                program: &program,
                stdin: save_requests,
                fault: None,
            };
            let ops = assert_same_op_log(dir.path(), &run, &SAVE_NAMES);
            assert!(
                ops.iter()
                    .any(|op| op.ends_with(" /state/lifecycle_state.json")
                        && op.starts_with("rename ")),
                "{name}: no rename onto the record in\n{}",
                ops.join("\n")
            );
        }
    }
}

#[test]
fn a_save_whose_fsync_failed_converts_as_strace_recorded_it() {
    let Some(dir) = comparing() else {
        return;
    };
    // The first fsync of the process is the temp file's, after the old
    // record: strace counts it among all the fsyncs, lifecycle trace among
    // those in the scope, and both find the same.
    let fault = Fault {
        strace: "inject=fsync:error=EIO:when=1",
        ptrace: "fsync:1:1:EIO",
    };
    let (_, old_record) = starts()[1];
    for (store, command) in stores()
        .into_iter()
        .filter(|(store, _)| store == "built-in" || store == "conforming")
    {
        let name = format!("{store}-failed-fsync");
        let program = |_: &Path| command.clone();
        let run = Run {
            name: &name,
            prepare: old_record,
            program: &program,
            stdin: save_requests,
            fault: Some(&fault),
        };
        let ops = assert_same_op_log(dir.path(), &run, &SAVE_NAMES);
        assert!(
            !ops.iter().any(|op| op.starts_with("fsync #")),
            "{store}: the fsync failed, yet\n{}",
            ops.join("\n")
        );
    }
}
