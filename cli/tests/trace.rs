//! `lifecycle trace`, the oracle's own tracer, run as `lifecycle check`
//! runs it: what it counts is what strace's recording shows touching the
//! scope; it kills or fails exactly the call meant; the traced program's
//! input, output, error and exit code are its own; and no traced process
//! outlives the tracer. Tests that need strace say so and skip without
//! it; on machines other than Linux x86-64 the tracer is not built and
//! they skip too.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::LIFECYCLE;
use lifecycle_oracle::syscalls::paths_named;
use lifecycle_oracle::syscalls::strace::{parse, CallResult, EventKind, Trace};

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
    // And its trace holds those calls alone, with their ends.
    assert_eq!(traced.calls.len(), seen_by_ptrace.len());
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

    // After the 3rd call in the scope, the next call of that process,
    // whatever it is, is the one killed.
    let after = fresh("after");
    let (_, trace) = traced(&after, &script(&after), Some("after:3:1:kill"));
    assert_eq!(trace.calls.len(), 4, "{trace:?}");
    assert_eq!(trace.calls[3].result, CallResult::Unknown);
    assert!(after.join("f1").exists());
    assert!(!after.join("f2").exists());
}

#[test]
fn the_program_keeps_its_input_output_error_and_exit_code() {
    if !supported() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let script = "read x; echo \"out $x\" | tee /dev/null; echo err >&2; exit 3";
    let mut child = trace_command(dir.path(), None, script)
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
        let mut tracer = trace_command(dir.path(), None, &script)
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
