//! The tracer's process model: the program started under ptrace, every
//! stop of every process it starts handled until the last one ends.
//!
//! Promises: what `ptrace`'s module doc says [`run`] does, on Linux
//! x86-64: `PTRACE_TRACEME` in the child, then `PTRACE_O_TRACESYSGOOD`,
//! `PTRACE_O_TRACEFORK`, `PTRACE_O_TRACEVFORK`, `PTRACE_O_TRACECLONE`,
//! `PTRACE_O_TRACEEXEC` and `PTRACE_O_EXITKILL` (inherited by every new
//! process), each process resumed with `PTRACE_SYSCALL` and the signal it
//! stopped for (none for the first SIGSTOP of a new process, or a group
//! stop).
//!
//! Does not promise: anything if the program is already being traced.

use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;

use super::line::{result_text, Out};
use super::names;
use super::scope::Scope;
use super::{Act, Args, Spec, Target};
use crate::syscalls::strace::{Arg, CallResult};
use crate::syscalls::table::lookup;

/// The code segment of a call made through the 32-bit table (`int 0x80`),
/// whose numbers and argument registers are another table's.
const COMPAT_CS: u64 = 0x23;

/// Runs `args.command` traced; its exit code.
pub(super) fn run(args: &Args) -> Result<u8, String> {
    let file = File::create(&args.out)
        .map_err(|e| format!("cannot write the trace at {}: {e}", args.out.display()))?;
    let top = spawn(&args.command)?;
    let status = wait(top).map_err(|e| format!("the program did not start: {e}"))?;
    if !libc::WIFSTOPPED(status) {
        return Err("the program ended before it could be traced".to_string());
    }
    let options = libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_EXITKILL;
    // SAFETY: PTRACE_SETOPTIONS on our own stopped tracee reads no
    // pointer (the options travel in the data word).
    if unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, top, 0usize, options as usize) } == -1 {
        let error = io::Error::last_os_error();
        kill(top);
        return Err(format!("cannot set the tracing options: {error}"));
    }
    let_go_of_stdio();
    let mut tracer = Tracer {
        scope: Scope::new(&args.scope),
        out: Out::new(file),
        spec: args.inject.clone(),
        fired: false,
        armed: None,
        tracees: HashMap::from([(top, Tracee::default())]),
        order: Vec::new(),
        counts: HashMap::new(),
        totals: HashMap::new(),
        top,
        code: None,
    };
    resume(top, 0);
    tracer.until_all_end()
}

/// Forks the child that asks to be traced, stops, and runs `command`.
fn spawn(command: &[OsString]) -> Result<i32, String> {
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| "an argument holds a NUL byte".to_string())?;
    let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());
    // SAFETY: fork(2) takes nothing; this process runs one thread here (the
    // tracer starts none), so the child's copy of every lock is free.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(format!("cannot fork: {}", io::Error::last_os_error())),
        // SAFETY: in the child only async-signal-safe calls follow
        // (signal, ptrace, raise, execvp, _exit), and `pointers` is a
        // NULL-terminated array of pointers into `argv`, both alive until
        // execvp replaces the process or _exit ends it.
        0 => unsafe {
            // Rust ignores SIGPIPE; the program gets the default back, as
            // it would from a shell.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0usize, 0usize);
            libc::raise(libc::SIGSTOP);
            libc::execvp(pointers[0], pointers.as_ptr());
            libc::_exit(127)
        },
        pid => Ok(pid),
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

/// Resumes a stopped tracee up to its next call's entry or exit,
/// delivering `signal` (0: none). A tracee that died meanwhile is let be.
fn resume(pid: i32, signal: i32) {
    // SAFETY: PTRACE_SYSCALL reads no pointer: the signal travels in the
    // data word. An error (ESRCH for a tracee killed meanwhile) changes
    // nothing.
    unsafe { libc::ptrace(libc::PTRACE_SYSCALL, pid, 0usize, signal as usize) };
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
    /// Whether its entry is in the trace file.
    written: bool,
    /// The errno it is failed with, and its number.
    fail: Option<(&'static str, i64)>,
}

#[derive(Default)]
struct Tracee {
    /// Attached but not yet seen in its first stop, a SIGSTOP to swallow.
    fresh: bool,
    /// The call it is in (a stop of it is that call's exit).
    call: Option<InCall>,
}

struct Tracer {
    scope: Scope,
    out: Out,
    spec: Option<Spec>,
    /// Whether the injection was done.
    fired: bool,
    /// The process whose next call is to be hit ([`Target::After`]).
    armed: Option<i32>,
    tracees: HashMap<i32, Tracee>,
    /// The processes in the order of their first touching call.
    order: Vec<i32>,
    /// Touching calls so far, per process and name.
    counts: HashMap<(i32, &'static str), u64>,
    /// Touching calls so far, per process.
    totals: HashMap<i32, u64>,
    top: i32,
    /// The program's exit code, once its first process ended.
    code: Option<u8>,
}

impl Tracer {
    fn until_all_end(&mut self) -> Result<u8, String> {
        loop {
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
        let tracee = self.tracees.entry(pid).or_insert_with(|| Tracee {
            fresh: true,
            call: None,
        });
        if signal == libc::SIGTRAP | 0x80 {
            return self.at_call(pid);
        }
        if signal == libc::SIGTRAP && event != 0 {
            self.at_event(pid, event);
            resume(pid, 0);
            return Ok(());
        }
        if tracee.fresh && signal == libc::SIGSTOP {
            tracee.fresh = false;
            resume(pid, 0);
            return Ok(());
        }
        let stopping = [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];
        if stopping.contains(&signal) && group_stop(pid) {
            resume(pid, 0);
        } else {
            resume(pid, signal);
        }
        Ok(())
    }

    fn ended(&mut self, pid: i32, how: &str, code: u8) -> io::Result<()> {
        self.tracees.remove(&pid);
        if pid == self.top {
            self.code = Some(code);
        }
        self.out.event(pid, how)
    }

    fn at_event(&mut self, pid: i32, event: i32) {
        match event {
            libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                let child = event_message(pid).and_then(|m| i32::try_from(m).ok());
                if let Some(child) = child {
                    // Its first stop may have come already.
                    self.tracees.entry(child).or_insert_with(|| Tracee {
                        fresh: true,
                        call: None,
                    });
                }
            }
            libc::PTRACE_EVENT_EXEC => {
                // A thread other than the leader that runs execve takes
                // the leader's id: its call goes on under that id.
                let former = event_message(pid).and_then(|m| i32::try_from(m).ok());
                if let Some(former) = former.filter(|&f| f != pid) {
                    if let Some(tracee) = self.tracees.remove(&former) {
                        self.tracees.insert(pid, tracee);
                    }
                }
            }
            _ => {}
        }
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
                    resume(pid, 0);
                }
            }
            Some(call) => {
                self.exited(pid, call, &mut regs)?;
                resume(pid, 0);
            }
        }
        Ok(())
    }

    /// The entry of a call: counted when it touches the scope, written,
    /// and hit when it is the one. Whether the tracee goes on.
    fn entered(&mut self, pid: i32, regs: &mut libc::user_regs_struct) -> io::Result<bool> {
        let name = if regs.cs == COMPAT_CS {
            None
        } else {
            names::syscall(regs.orig_rax)
        };
        let arguments = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
        let entry = name.map(|n| self.scope.entry(pid, n, arguments));
        let name = name.unwrap_or("syscall");
        let touches = entry.as_ref().is_some_and(|e| e.touches);
        let mut hit = !self.fired && self.armed == Some(pid);
        if hit {
            self.armed = None;
        }
        if touches {
            hit |= self.count(pid, name);
        }
        let written = touches || hit;
        if written {
            let args: &[Arg] = entry.as_ref().map_or(&[], |e| &e.args);
            self.out.entered(pid, name, args)?;
        }
        let mut call = InCall {
            name,
            written,
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

    /// Counts a touching call; whether it is the call to hit.
    fn count(&mut self, pid: i32, name: &'static str) -> bool {
        let process = match self.order.iter().position(|&p| p == pid) {
            Some(at) => at,
            None => {
                self.order.push(pid);
                self.order.len() - 1
            }
        };
        let count = self.counts.entry((pid, name)).or_default();
        *count += 1;
        let count = *count;
        let total = self.totals.entry(pid).or_default();
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
        if let Some((_, number)) = call.fail {
            regs.rax = number.wrapping_neg() as u64;
            set_registers(pid, regs);
        }
        if !call.written {
            return Ok(());
        }
        let value = regs.rax as i64;
        let result = match call.fail {
            Some((errno, _)) => CallResult::Err {
                errno: errno.to_string(),
            },
            None if (-4095..0).contains(&value) => CallResult::Err {
                errno: names::errno(-value).map_or_else(|| format!("E{}", -value), str::to_string),
            },
            None => {
                let returns_fd = lookup(call.name).is_some_and(|k| k.returns_fd);
                let path = returns_fd
                    .then(|| std::fs::read_link(format!("/proc/{pid}/fd/{value}")).ok())
                    .flatten()
                    .map(|p| p.as_os_str().as_bytes().to_vec());
                CallResult::Ok { value, path }
            }
        };
        let text = result_text(&result, call.fail.is_some());
        self.out.returned(pid, call.name, &text)
    }
}
