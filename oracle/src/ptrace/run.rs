//! The tracer's process model: the program started under ptrace, every
//! stop of every process it starts handled until the last one ends.
//!
//! Promises: what `ptrace`'s module doc says [`run`] does, on Linux
//! x86-64: `PTRACE_TRACEME` in the child, then `PTRACE_O_TRACESYSGOOD`,
//! `PTRACE_O_TRACEFORK`, `PTRACE_O_TRACEVFORK`, `PTRACE_O_TRACECLONE`,
//! `PTRACE_O_TRACEEXEC`, `PTRACE_O_TRACESECCOMP` and `PTRACE_O_EXITKILL`
//! (inherited by every new process), each process resumed with the
//! signal it stopped for (none for the first SIGSTOP of a new process, or
//! a group stop). The child installs the seccomp filter of `filter.rs`
//! first (unless the call to hit is the one after the last in the scope,
//! which may be any, and is to fail: see [`unfiltered`]): then a process
//! between calls is resumed with `PTRACE_CONT` to its next seccomp stop,
//! which is the entry of a call the filter names, and in a call with
//! `PTRACE_SYSCALL` to its exit, so the calls the filter lets run make no
//! stop (but for the thread whose next call, whatever it is, is the one
//! to kill: it goes on with `PTRACE_SYSCALL` to that call's entry, where
//! it dies before the filter runs); where the kernel refuses
//! the filter, every process is resumed with `PTRACE_SYSCALL`, every call
//! stopping at its entry and exit. Either way the same lines are
//! written. A new process or thread is held at its first stop until the
//! event of the clone that made it has been seen (or no clone is under
//! way any more, its maker having died in it), so the clone's line, whole
//! with the child's id as its result, comes before any line of the
//! child's: the converter learns whether the child shares its maker's
//! descriptors before the child uses one.
//!
//! With `--serve`, the template's read of its standard input is held at
//! its entry (nothing of it runs), and the control channel read while
//! nothing else runs; a fork asked for is made by the template itself:
//! the held call's number changed to `clone` with no flags (a fork whose
//! end sends no SIGCHLD), then the template and the copy both set back to
//! run that read again, the template to be held there, the copy to read
//! its request. The tracer's counts, numbering of processes, trace file,
//! scope and call to hit are the copy's from the fork on, and the
//! template's again once the copy's last process ended.
//!
//! Does not promise: anything if the program is already being traced.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::decode;
use super::filter::Filter;
use super::line::Out;
use super::names;
use super::process::{thread_group, Process};
use super::scope::Scope;
use super::serve::{again, Control, Fork, Serving};
use super::{counted_path, Act, Args, Spec, Target};
use crate::syscalls::strace::Arg;
use crate::syscalls::table::lookup;

/// The code segment of a call made through the 32-bit table (`int 0x80`),
/// whose numbers and argument registers are another table's.
const COMPAT_CS: u64 = 0x23;

/// The calls that make a process or a thread: written whole as the child
/// is made.
const CLONES: [&str; 4] = ["clone", "clone3", "fork", "vfork"];

/// A trace file and its list of calls counted, made empty.
fn out_at(path: &Path) -> Result<Out, String> {
    let create = |path: &Path| {
        File::create(path).map_err(|e| format!("cannot write the trace at {}: {e}", path.display()))
    };
    Ok(Out::new(create(path)?, create(&counted_path(path))?))
}

/// Whether hitting `spec` needs every call to stop: the call after the
/// last in the scope may be any call, and failing it means changing it
/// at a syscall stop, after which the filter would still run and stop it
/// again. Killing it there ends it before the filter runs.
fn unfiltered(spec: Option<&Spec>) -> bool {
    spec.is_some_and(|s| matches!((&s.target, s.act), (Target::After { .. }, Act::Fail(_))))
}

/// Runs `args.command` traced; its exit code.
pub(super) fn run(args: &Args) -> Result<u8, String> {
    let out = out_at(&args.out)?;
    let mut serving = args.serve.as_deref().map(Serving::connect).transpose()?;
    let filter = (!unfiltered(args.inject.as_ref())).then(Filter::calls);
    let (top, told) = spawn(&args.command, filter.as_ref())?;
    let status = wait(top).map_err(|e| format!("the program did not start: {e}"))?;
    let filtered = told.installed();
    if !libc::WIFSTOPPED(status) {
        return Err("the program ended before it could be traced".to_string());
    }
    let options = libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_TRACESECCOMP
        | libc::PTRACE_O_EXITKILL;
    // SAFETY: PTRACE_SETOPTIONS on our own stopped tracee reads no
    // pointer (the options travel in the data word).
    if unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, top, 0usize, options as usize) } == -1 {
        let error = io::Error::last_os_error();
        kill(top);
        return Err(format!("cannot set the tracing options: {error}"));
    }
    let_go_of_stdio();
    if let Some(serving) = serving.as_mut() {
        serving.started(top);
    }
    let mut tracer = Tracer {
        scope: Scope::new(&args.scope),
        out,
        spec: args.inject.clone(),
        fired: false,
        armed: None,
        tracees: HashMap::from([(top, Tracee::announced())]),
        groups: HashMap::new(),
        order: Vec::new(),
        counts: HashMap::new(),
        totals: HashMap::new(),
        top,
        code: None,
        filtered,
        serving,
        template_out: None,
        newborn: Cell::new(None),
    };
    tracer.resume(top, 0);
    tracer.until_all_end()
}

/// The read end of the pipe a child writes one byte to when it did not
/// install the filter (when it did, the filter would stop its write,
/// with no tracer yet to let it through, so it writes nothing).
struct Told(i32);

impl Told {
    /// Whether the filter is installed; asked once the child stopped, so
    /// its byte, if any, is there.
    fn installed(self) -> bool {
        let mut byte = [0u8];
        // SAFETY: read(2) of at most one byte into `byte`, from a
        // non-blocking pipe: 1 if the child wrote, -1 (EAGAIN) if not.
        let got = unsafe { libc::read(self.0, byte.as_mut_ptr().cast(), 1) };
        got == -1
    }
}

impl Drop for Told {
    fn drop(&mut self) {
        // SAFETY: close(2) of the descriptor this value owns.
        unsafe { libc::close(self.0) };
    }
}

/// Forks the child that installs `filter` (when given), asks to be
/// traced, stops, and runs `command`: its id, and what it tells of the
/// filter.
fn spawn(command: &[OsString], filter: Option<&Filter>) -> Result<(i32, Told), String> {
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| "an argument holds a NUL byte".to_string())?;
    let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());
    // The child says through a pipe whether it installed the filter.
    let mut said = [0i32; 2];
    // SAFETY: pipe2(2) writes two descriptors to `said`.
    if unsafe { libc::pipe2(said.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } == -1 {
        return Err(format!(
            "cannot make a pipe: {}",
            io::Error::last_os_error()
        ));
    }
    let [hear, say] = said;
    let told = Told(hear);
    // SAFETY: fork(2) takes nothing; this process runs one thread here (the
    // tracer starts none), so the child's copy of every lock is free.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => {
            let error = io::Error::last_os_error();
            // SAFETY: close(2) of the write end, which no child has.
            unsafe { libc::close(say) };
            Err(format!("cannot fork: {error}"))
        }
        // SAFETY: in the child only async-signal-safe calls follow
        // (signal, prctl, seccomp, write, ptrace, raise, execvp, _exit),
        // `pointers` is a NULL-terminated array of pointers into `argv`,
        // and `argv` and `filter` live until execvp replaces the process
        // or _exit ends it.
        0 => unsafe {
            // Rust ignores SIGPIPE; the program gets the default back, as
            // it would from a shell.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            if !filter.is_some_and(|f| f.install()) {
                libc::write(say, [0u8].as_ptr().cast(), 1);
            }
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0usize, 0usize);
            libc::raise(libc::SIGSTOP);
            libc::execvp(pointers[0], pointers.as_ptr());
            libc::_exit(127)
        },
        pid => {
            // SAFETY: close(2) of the write end, which the child has.
            unsafe { libc::close(say) };
            Ok((pid, told))
        }
    }
}

/// Points the tracer's standard input and output at /dev/null: the
/// program has its own copies, and a reader of the program's output must
/// see it end when the program's processes close it, not when the tracer
/// does. Standard error stays, for the tracer's own failure.
fn let_go_of_stdio() {
    if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in [0, 1] {
            // SAFETY: dup2(2) on two descriptors this process owns; it
            // reads no memory.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

fn wait(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a live int the kernel writes to.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if got != -1 {
            return Ok(status);
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Resumes a stopped tracee, delivering `signal` (0: none): up to its
/// next call's entry or exit (`PTRACE_SYSCALL`), or, with the filter, up
/// to its next seccomp stop (`PTRACE_CONT`). A tracee that died meanwhile
/// is let be.
fn resume_with(request: libc::c_uint, pid: i32, signal: i32) {
    // SAFETY: PTRACE_SYSCALL and PTRACE_CONT read no pointer: the signal
    // travels in the data word. An error (ESRCH for a tracee killed
    // meanwhile) changes nothing.
    unsafe { libc::ptrace(request, pid, 0usize, signal as usize) };
}

fn kill(pid: i32) {
    // SAFETY: kill(2) takes no pointer. SIGKILL to a thread ends its
    // whole process, as a SIGKILL from anywhere would.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// `ptrace(request, pid, 0, data)`: whether it succeeded.
///
/// # Safety
///
/// `data` must point to a live value of the type `request` reads or
/// writes there (or be the number `request` takes in the data word).
unsafe fn request<T>(request: libc::c_uint, pid: i32, data: *mut T) -> bool {
    // SAFETY: the caller vouches for `data`; the address word is unused
    // by the requests made here.
    unsafe { libc::ptrace(request, pid, 0usize, data) != -1 }
}

fn registers(pid: i32) -> Option<libc::user_regs_struct> {
    // SAFETY: user_regs_struct is plain integers, for which all zeros is
    // a valid value.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    // SAFETY: PTRACE_GETREGS writes one user_regs_struct to `regs`.
    unsafe { request(libc::PTRACE_GETREGS, pid, &mut regs) }.then_some(regs)
}

fn set_registers(pid: i32, regs: &libc::user_regs_struct) -> bool {
    let mut regs = *regs;
    // SAFETY: PTRACE_SETREGS reads one user_regs_struct from `regs`.
    unsafe { request(libc::PTRACE_SETREGS, pid, &mut regs) }
}

fn event_message(pid: i32) -> Option<libc::c_ulong> {
    let mut message: libc::c_ulong = 0;
    // SAFETY: PTRACE_GETEVENTMSG writes one unsigned long to `message`.
    unsafe { request(libc::PTRACE_GETEVENTMSG, pid, &mut message) }.then_some(message)
}

/// Whether a stop for a stopping signal is a group stop (the signal
/// already delivered), which PTRACE_GETSIGINFO tells by failing with
/// EINVAL.
fn group_stop(pid: i32) -> bool {
    // SAFETY: siginfo_t is plain data, for which all zeros is valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: PTRACE_GETSIGINFO writes one siginfo_t to `info`.
    let done = unsafe { request(libc::PTRACE_GETSIGINFO, pid, &mut info) };
    !done && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL)
}

fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        other => return format!("SIG{other}"),
    };
    name.to_string()
}

/// A call between its entry and its exit.
struct InCall {
    name: &'static str,
    /// Its registers' arguments at its entry.
    args: [u64; 6],
    /// Whether it touches the scope, and so was counted.
    counted: bool,
    /// How far it is in the trace file.
    line: Line,
    /// The errno it is failed with, and its number.
    fail: Option<(&'static str, i64)>,
}

/// How far a call is in the trace file.
enum Line {
    /// Not there: the system-call table does not know it, and it is not
    /// the call hit.
    Absent,
    /// Its entry is there; its exit completes it.
    Entered,
    /// A clone, written whole as its child is made, with these arguments.
    Deferred(Vec<Arg>),
    /// Written whole.
    Whole,
}

struct Tracee {
    /// Attached but not yet seen in its first stop, a SIGSTOP to swallow.
    fresh: bool,
    /// Whether the clone that made it is in the trace (or it was made by
    /// none: the program itself).
    announced: bool,
    /// Held at its first stop until it is announced.
    parked: bool,
    /// The call it is in (a stop of it is that call's exit).
    call: Option<InCall>,
}

impl Tracee {
    /// A process the tracer knows of before any stop of it.
    fn announced() -> Tracee {
        Tracee {
            fresh: false,
            announced: true,
            parked: false,
            call: None,
        }
    }

    /// A child seen in its first stop, or made known by its maker's
    /// event (which then announces it).
    fn new() -> Tracee {
        Tracee {
            fresh: true,
            announced: false,
            parked: false,
            call: None,
        }
    }
}

struct Tracer {
    scope: Scope,
    out: Out,
    spec: Option<Spec>,
    /// Whether the injection was done.
    fired: bool,
    /// The thread whose next call is to be hit ([`Target::After`]).
    armed: Option<i32>,
    tracees: HashMap<i32, Tracee>,
    /// The thread group (the process, by its leader's id) of each thread
    /// that made a touching call, read once.
    groups: HashMap<i32, i32>,
    /// The processes in the order of their first touching call.
    order: Vec<i32>,
    /// Touching calls so far, per process and name.
    counts: HashMap<(i32, &'static str), u64>,
    /// Touching calls so far, per process.
    totals: HashMap<i32, u64>,
    top: i32,
    /// The program's exit code, once its first process ended.
    code: Option<u8>,
    /// Whether the seccomp filter stops the tracees at the calls to see
    /// (a seccomp stop is a call's entry), so that between calls they run
    /// on without a stop.
    filtered: bool,
    /// The control channel, when the program is a template to fork.
    serving: Option<Serving>,
    /// The template's own trace while a replay's is written.
    template_out: Option<Out>,
    /// A forked replay's first process and the registers it starts with
    /// (those that run again the read its template was held at), set as
    /// it is first resumed.
    newborn: Cell<Option<(i32, libc::user_regs_struct)>>,
}

impl Tracer {
    /// Resumes tracee `pid` with `signal`: to the exit of the call it is
    /// in, else to its next call's entry (with the filter, its next
    /// seccomp stop, the next call the filter names).
    fn resume(&self, pid: i32, signal: i32) {
        if let Some((child, regs)) = self.newborn.get().filter(|(child, _)| *child == pid) {
            self.newborn.set(None);
            set_registers(child, &regs);
        }
        let in_call = self.tracees.get(&pid).is_some_and(|t| t.call.is_some());
        let request = if self.filtered && !in_call && self.armed != Some(pid) {
            libc::PTRACE_CONT
        } else {
            libc::PTRACE_SYSCALL
        };
        resume_with(request, pid, signal);
    }

    fn until_all_end(&mut self) -> Result<u8, String> {
        loop {
            if self.idle() {
                self.serve()
                    .map_err(|e| format!("cannot write the trace: {e}"))?;
                continue;
            }
            let mut status = 0;
            // SAFETY: `status` is a live int the kernel writes to.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
            if pid == -1 {
                let error = io::Error::last_os_error();
                match error.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::ECHILD) => return Ok(self.code.unwrap_or(0)),
                    _ => return Err(format!("waitpid failed: {error}")),
                }
            }
            self.stopped_or_ended(pid, status)
                .map_err(|e| format!("cannot write the trace: {e}"))?;
        }
    }

    fn stopped_or_ended(&mut self, pid: i32, status: i32) -> io::Result<()> {
        if libc::WIFEXITED(status) {
            let code = libc::WEXITSTATUS(status);
            let how = format!("exited with {code}");
            return self.ended(pid, &how, u8::try_from(code).unwrap_or(u8::MAX));
        }
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            let code = 128u8.saturating_add(u8::try_from(signal).unwrap_or(0));
            return self.ended(pid, &format!("killed by {}", signal_name(signal)), code);
        }
        if !libc::WIFSTOPPED(status) {
            return Ok(());
        }
        let signal = libc::WSTOPSIG(status);
        let event = status >> 16;
        let tracee = self.tracees.entry(pid).or_insert_with(Tracee::new);
        if signal == libc::SIGTRAP | 0x80 {
            return self.at_call(pid);
        }
        if signal == libc::SIGTRAP && event == libc::PTRACE_EVENT_SECCOMP {
            // The entry of a call the filter names (it runs after this
            // stop; its exit is a syscall stop).
            return self.at_call(pid);
        }
        if signal == libc::SIGTRAP && event != 0 {
            self.at_event(pid, event)?;
            self.resume(pid, 0);
            return Ok(());
        }
        if tracee.fresh && signal == libc::SIGSTOP {
            tracee.fresh = false;
            if tracee.announced {
                self.resume(pid, 0);
            } else {
                // Held until its maker's event writes the clone; if no
                // clone is under way, its maker died in it and none will
                // come.
                tracee.parked = true;
                self.release_orphans();
            }
            return Ok(());
        }
        let stopping = [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];
        if stopping.contains(&signal) && group_stop(pid) {
            self.resume(pid, 0);
        } else {
            self.resume(pid, signal);
        }
        Ok(())
    }

    fn ended(&mut self, pid: i32, how: &str, code: u8) -> io::Result<()> {
        self.tracees.remove(&pid);
        // Its id may be given to a thread of another process.
        self.groups.remove(&pid);
        if pid == self.top {
            self.code = Some(code);
        }
        self.out.event(pid, how)?;
        self.release_orphans();
        if let Some(serving) = self.serving.as_mut() {
            if let Some((child, end)) = serving.child.as_mut() {
                if *child == pid {
                    *end = Some(code);
                }
            }
        }
        self.replay_over()
    }

    /// Whether a process is in a clone whose event has not come yet.
    fn cloning(&self) -> bool {
        let forking = self.serving.as_ref().is_some_and(|s| s.forking.is_some());
        forking
            || self.tracees.values().any(|t| {
                t.call
                    .as_ref()
                    .is_some_and(|c| matches!(c.line, Line::Deferred(_)))
            })
    }

    /// Lets the held children go when no clone is under way any more:
    /// their makers died before their events.
    fn release_orphans(&mut self) {
        if self.cloning() {
            return;
        }
        let mut released = Vec::new();
        for (&pid, tracee) in self.tracees.iter_mut().filter(|(_, t)| t.parked) {
            tracee.parked = false;
            tracee.announced = true;
            released.push(pid);
        }
        for pid in released {
            self.resume(pid, 0);
        }
    }

    fn at_event(&mut self, pid: i32, event: i32) -> io::Result<()> {
        match event {
            libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                let child = event_message(pid).and_then(|m| i32::try_from(m).ok());
                if let Some(child) = child {
                    self.made(pid, child);
                    // The clone, whole: its result is the child.
                    let call = self.tracees.get_mut(&pid).and_then(|t| t.call.as_mut());
                    if let Some(call) = call {
                        if let Line::Deferred(args) = std::mem::replace(&mut call.line, Line::Whole)
                        {
                            self.out
                                .entered(pid, call.name, &args, false, call.counted)?;
                            self.out.returned(pid, call.name, &[], &child.to_string())?;
                        }
                    }
                    // Its first stop may have come already, and held it.
                    let tracee = self.tracees.entry(child).or_insert_with(Tracee::new);
                    tracee.announced = true;
                    if tracee.parked {
                        tracee.parked = false;
                        self.resume(child, 0);
                    }
                    self.release_orphans();
                }
            }
            libc::PTRACE_EVENT_EXEC => {
                // A thread other than the leader that runs execve takes
                // the leader's id: its call goes on under that id, in the
                // same thread group.
                let former = event_message(pid).and_then(|m| i32::try_from(m).ok());
                if let Some(former) = former.filter(|&f| f != pid) {
                    if let Some(tracee) = self.tracees.remove(&former) {
                        self.tracees.insert(pid, tracee);
                    }
                    self.groups.remove(&former);
                    if self.armed == Some(former) {
                        self.armed = Some(pid);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A syscall stop: the entry of a call, or the exit of the one the
    /// tracee is in.
    fn at_call(&mut self, pid: i32) -> io::Result<()> {
        let Some(mut regs) = registers(pid) else {
            // Killed meanwhile: its end is on its way.
            return Ok(());
        };
        let in_call = self.tracees.get_mut(&pid).and_then(|t| t.call.take());
        match in_call {
            None => {
                if self.entered(pid, &mut regs)? {
                    self.resume(pid, 0);
                }
            }
            Some(call) => {
                self.exited(pid, call, &mut regs)?;
                self.resume(pid, 0);
            }
        }
        Ok(())
    }

    /// The entry of a call: counted when it touches the scope, written
    /// when the system-call table knows it (wherever it is: a file made
    /// elsewhere may be renamed into the scope) or it is hit, and hit when
    /// it is the one. Whether the tracee goes on.
    fn entered(&mut self, pid: i32, regs: &mut libc::user_regs_struct) -> io::Result<bool> {
        let name = if regs.cs == COMPAT_CS {
            None
        } else {
            names::syscall(regs.orig_rax)
        };
        if name == Some("read") && regs.rdi == 0 && self.holds(pid, regs) {
            return Ok(false);
        }
        let arguments = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
        let mut process = Process::new(pid);
        let (name, mut args, known, touches) = match name {
            Some(name) if lookup(name).is_some() => {
                let args = decode::entry(&mut process, name, arguments);
                let touches = self.scope.touches(&mut process, name, &args);
                (name, args, true, touches)
            }
            other => (other.unwrap_or("syscall"), Vec::new(), false, false),
        };
        let mut hit = !self.fired && self.armed == Some(pid);
        if hit {
            self.armed = None;
        }
        if touches {
            hit |= self.count(pid, name);
        }
        let line = if known || hit {
            decode::complete(&mut process, name, arguments, &mut args);
            if CLONES.contains(&name) && !hit {
                Line::Deferred(args)
            } else {
                let more = decode::has_exit_args(name);
                self.out.entered(pid, name, &args, more, touches)?;
                Line::Entered
            }
        } else {
            Line::Absent
        };
        let mut call = InCall {
            name,
            args: arguments,
            counted: touches,
            line,
            fail: None,
        };
        if hit {
            self.fired = true;
            match self.spec.as_ref().map(|s| s.act) {
                Some(Act::Kill) => {
                    // It never returns: its line is complete as it is.
                    self.out.unfinished()?;
                    kill(pid);
                    return Ok(false);
                }
                Some(Act::Fail(errno)) => {
                    // Syscall number -1: the kernel skips the call.
                    regs.orig_rax = u64::MAX;
                    if set_registers(pid, regs) {
                        call.fail = names::errno_number(errno).map(|n| (errno, n));
                    }
                }
                None => {}
            }
        }
        if let Some(tracee) = self.tracees.get_mut(&pid) {
            tracee.call = Some(call);
        }
        Ok(true)
    }

    /// Counts a touching call of thread `pid` among its process's (its
    /// thread group's); whether it is the call to hit.
    fn count(&mut self, pid: i32, name: &'static str) -> bool {
        // The thread is stopped in its call, so its /proc entry is there.
        let group = *self
            .groups
            .entry(pid)
            .or_insert_with(|| thread_group(pid).unwrap_or(pid));
        let process = match self.order.iter().position(|&p| p == group) {
            Some(at) => at,
            None => {
                self.order.push(group);
                self.order.len() - 1
            }
        };
        let count = self.counts.entry((group, name)).or_default();
        *count += 1;
        let count = *count;
        let total = self.totals.entry(group).or_default();
        *total += 1;
        let total = *total;
        let Some(spec) = self.spec.as_ref().filter(|s| s.process == process) else {
            return false;
        };
        if self.fired {
            return false;
        }
        match &spec.target {
            Target::Call {
                name: wanted,
                ordinal,
            } => wanted == name && *ordinal == count,
            Target::After { ordinal } => {
                if *ordinal == total {
                    self.armed = Some(pid);
                }
                false
            }
        }
    }

    fn exited(
        &mut self,
        pid: i32,
        call: InCall,
        regs: &mut libc::user_regs_struct,
    ) -> io::Result<()> {
        if pid == self.top {
            if let Some(read) = self.serving.as_mut().and_then(|s| s.forking.take()) {
                return self.forked(read, regs.rax as i64);
            }
        }
        if let Some((_, number)) = call.fail {
            regs.rax = number.wrapping_neg() as u64;
            set_registers(pid, regs);
        }
        let value = regs.rax as i64;
        let injected = call.fail.map(|(errno, _)| errno);
        let mut process = Process::new(pid);
        let result = || decode::result(&process, call.name, call.args, value, injected);
        match call.line {
            Line::Absent | Line::Whole => Ok(()),
            // No child was made: the clone failed, or its child is not
            // traced (CLONE_UNTRACED).
            Line::Deferred(ref args) => {
                self.out
                    .entered(pid, call.name, args, false, call.counted)?;
                self.out.returned(pid, call.name, &[], &result())
            }
            Line::Entered => {
                let text = result();
                let ok = injected.is_none() && !(-4095..0).contains(&value);
                let args = if decode::has_exit_args(call.name) {
                    decode::exit(&mut process, call.name, call.args, ok)
                } else {
                    Vec::new()
                };
                self.out.returned(pid, call.name, &args, &text)
            }
        }
    }
}

/// The template of `--serve` (`serve.rs`): held, forked, and each
/// replay's end told.
impl Tracer {
    /// Whether the template is held with nothing else running: then the
    /// control channel is read.
    fn idle(&self) -> bool {
        self.serving.as_ref().is_some_and(|s| s.held.is_some()) && self.tracees.len() == 1
    }

    /// Whether `pid`'s read of its standard input, entered with `regs`,
    /// is held: the template's, from the first fork on, or before it
    /// when the template runs alone and nothing waits in its input. A
    /// read of its requests while it runs another thread or process (a
    /// runtime's threads; a pipeline) says it cannot be copied; what ran
    /// and ended before (a version manager's shim) is no matter.
    fn holds(&mut self, pid: i32, regs: &libc::user_regs_struct) -> bool {
        let alone = self.tracees.len() == 1;
        let top = self.top;
        let Some(serving) = self.serving.as_mut().filter(|s| s.reads_requests(pid)) else {
            return false;
        };
        if !serving.forked && !alone {
            serving.refuse(
                "the adapter reads its requests with more than one thread or process running, and fork copies one thread",
            );
            return false;
        }
        if pid != top || std::mem::take(&mut serving.release) {
            return false;
        }
        if !serving.forked {
            if serving.refused.is_some() {
                return false;
            }
            match serving.unread(pid) {
                Some(0) => {}
                Some(_) => return false,
                None => {
                    serving.refuse("its standard input is not a pipe");
                    return false;
                }
            }
        }
        serving.held = Some(*regs);
        true
    }

    /// Reads the control channel once, the template held: a fork, the
    /// read let go on (its input has something), or the template killed
    /// (the channel ended).
    fn serve(&mut self) -> io::Result<()> {
        let top = self.top;
        let Some(serving) = self.serving.as_mut() else {
            return Ok(());
        };
        if let Some(fork) = serving.retry.take() {
            self.fork(fork);
            return Ok(());
        }
        match serving.next() {
            None => {
                let Some(mut regs) = serving.held.take() else {
                    return Ok(());
                };
                serving.release = true;
                if self.entered(top, &mut regs)? {
                    self.resume(top, 0);
                }
            }
            Some(Control::End) => {
                self.serving = None;
                kill(top);
            }
            Some(Control::Bad(why)) => serving.say(&format!("refused\t{why}")),
            Some(Control::Fork(fork)) => self.fork(fork),
        }
        Ok(())
    }

    /// Makes the held template call `fork` in place of its read, the
    /// replay counted, hit and written as `fork` says from then on.
    fn fork(&mut self, fork: Fork) {
        let top = self.top;
        let out = match out_at(&fork.out) {
            Ok(_) if unfiltered(fork.spec.as_ref()) && self.filtered => Err(
                "the call after the last in the scope, failed, needs every call to stop, which the filter does not".to_string(),
            ),
            other => other,
        };
        let Some(serving) = self.serving.as_mut() else {
            return;
        };
        let out = match out {
            Ok(out) => out,
            Err(why) => return serving.say(&format!("refused\t{why}")),
        };
        let Some(read) = serving.held.take() else {
            return;
        };
        // clone(0, 0, ...): a fork whose end sends its maker no SIGCHLD,
        // which would stay pending in the held template and fail the next
        // fork (ERESTARTNOINTR), or run a handler there.
        let mut call = read;
        call.orig_rax = libc::SYS_clone as u64;
        (call.rdi, call.rsi, call.rdx, call.r10, call.r8) = (0, 0, 0, 0, 0);
        if !set_registers(top, &call) {
            serving.held = Some(read);
            return serving.say("refused\tcannot set the template's registers");
        }
        serving.forking = Some(read);
        serving.asked = Some(fork.clone());
        serving.forked = true;
        self.template_out = Some(std::mem::replace(&mut self.out, out));
        self.scope = Scope::new(&fork.scope);
        self.spec = fork.spec;
        self.fired = false;
        self.armed = None;
        self.groups.clear();
        self.order.clear();
        self.counts.clear();
        self.totals.clear();
        if let Some(tracee) = self.tracees.get_mut(&top) {
            tracee.call = Some(InCall {
                name: "fork",
                args: [0; 6],
                counted: false,
                line: Line::Absent,
                fail: None,
            });
        }
        self.resume(top, 0);
    }

    /// `maker` made `child`: the replay's first process when it is the
    /// template's injected fork.
    fn made(&mut self, maker: i32, child: i32) {
        let Some(serving) = self.serving.as_mut() else {
            return;
        };
        if let Some(read) = serving.forking.filter(|_| maker == self.top) {
            serving.child = Some((child, None));
            self.newborn.set(Some((child, again(&read))));
        }
    }

    /// The injected fork returned `result` in the template: it goes back
    /// to its read, and the oracle is told.
    fn forked(&mut self, read: libc::user_regs_struct, result: i64) -> io::Result<()> {
        set_registers(self.top, &again(&read));
        let Some(serving) = self.serving.as_mut() else {
            return Ok(());
        };
        if result > 0 {
            serving.retries = 0;
            serving.asked = None;
            serving.say("forked");
            return Ok(());
        }
        serving.child = None;
        let asked = serving.asked.take();
        if let Some(out) = self.template_out.take() {
            self.out = out;
        }
        // A signal came for the template: it is delivered as the template
        // goes back to its read, and the fork is made again there.
        const ERESTARTNOINTR: i64 = 513;
        if result == -ERESTARTNOINTR && serving.retries < 3 {
            serving.retries += 1;
            serving.retry = asked;
            return Ok(());
        }
        let errno = names::errno(result.wrapping_neg()).unwrap_or("an error");
        serving.say(&format!("refused\tfork failed with {errno}"));
        Ok(())
    }

    /// Once a replay's last process has ended, the oracle is told how
    /// its first ended and what it left unread.
    fn replay_over(&mut self) -> io::Result<()> {
        let alone = self.tracees.len() == 1 && self.tracees.contains_key(&self.top);
        let top = self.top;
        let Some(serving) = self.serving.as_mut() else {
            return Ok(());
        };
        if serving.forking.is_some() || !alone {
            return Ok(());
        }
        let Some((_, code)) = serving.child.take() else {
            return Ok(());
        };
        self.out.unfinished()?;
        if let Some(out) = self.template_out.take() {
            self.out = out;
        }
        let unread = serving.unread(top).unwrap_or(0);
        serving.say(&format!("ended\t{}\t{unread}", code.unwrap_or(0)));
        Ok(())
    }
}
