//! The adapter as a child process: started, asked, timed, killed, restarted.
//!
//! Promises: [`Adapter::start`] runs the command as `sh -c` would (its
//! words directly when `sh` would only split them), in a process group of
//! its own, and makes the handshake of PROTOCOL.md; [`Adapter::ask`]
//! sends one request and waits at most the timeout for its reply. A request
//! that gets no reply (no answer in time, the adapter exited, a line that
//! is not the reply, a line longer than [`MAX_LINE`]) is an
//! [`Exchange::Fault`] on the case at hand, carrying the request as sent
//! (escaped, cut at [`SHOWN_REQUEST`] characters) and the adapter's last
//! lines of standard error; the adapter is killed with its whole group and
//! started again (the handshake replayed) before the next request is sent.
//!
//! Within one case (from [`Adapter::begin_case`] to [`Adapter::end_case`])
//! a request that failed [`RESENDS`] times is not sent again: the same
//! fault answers it, saying so (a shrinking trace replays its requests
//! again and again; `seq`, `path` and `now` aside, two requests are the
//! same). Once [`CASE_FAULTS`] requests of the case failed, the rest of
//! the case is not sent ([`FaultKind::Withheld`]; a request that failed
//! before is answered with its fault), nor is it once the adapter could not
//! be started again ([`FaultKind::NotRestarted`]);
//! [`Adapter::send_once_more`] lets the next such request through. So a
//! case costs a bounded number of timeouts and restarts, whatever it asks.
//! Only [`MAX_FAILED_CASES`] failed cases in a row (a case fails when none
//! of its requests got a reply, or when its last request got none) make
//! the adapter broken, and the run ends: [`Adapter::end_case`] says how a
//! case ended, and [`FailedCases`] counts them in the order of the run's
//! cases, whichever of the run's adapter processes ran each.
//!
//! What the adapter writes is bounded in memory: a reply line longer than
//! [`MAX_LINE`] is never held (the adapter is killed), a line of standard
//! error is kept to [`STDERR_LINE`] bytes and only the last
//! [`STDERR_LINES`] lines are, their characters that do not print
//! escaped. Dropping an [`Adapter`] kills its process
//! group: no adapter outlives the oracle.
//!
//! Does not promise: anything about what the adapter's implementation does;
//! that is the suites' to judge. Nor that a request that failed would fail
//! again when sent once more: within a case it is taken to.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lifecycle_harness::report;

use crate::protocol::{Handshake, Reply, Request, VERSION};
use crate::shell;

mod forked;
pub use forked::Template;

/// Failed cases in a row after which the adapter, not the implementation,
/// is broken and the run ends. Ten: a family of vectors an adapter's JSON
/// library cannot read is rarely longer, and a dead adapter costs at most
/// ten cases' timeouts before the run says so.
pub const MAX_FAILED_CASES: u32 = 10;
/// Requests of one case that may fail (each costs a timeout or a restart)
/// before the rest of the case is not sent.
pub const CASE_FAULTS: u32 = 5;
/// Times one request is sent in a case while it keeps failing.
pub const RESENDS: u32 = 2;
/// The longest reply line the oracle reads, in bytes: past it the adapter
/// is killed, so what an adapter writes never grows the oracle past it.
pub const MAX_LINE: usize = 64 << 20;
/// The characters of a request a fault shows.
pub const SHOWN_REQUEST: usize = 2_000;
/// The lines of standard error kept for the findings.
pub const STDERR_LINES: usize = 40;
/// The bytes kept of one line of standard error.
pub const STDERR_LINE: usize = 2_000;

/// A function that answers protocol lines in this process: a request line
/// in, the reply line out (`None` for `stop`). The CLI's `lifecycle
/// adapter` runs the same function on its standard input.
pub type Answerer = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the adapter runs.
#[derive(Clone)]
pub enum Launch {
    /// A shell command line, run as `sh -c` runs it, in its own process
    /// group.
    Command(String),
    /// An answerer in this process (the built-in store): no pipes, no
    /// timeout, the umask set around each request.
    InProcess(Answerer),
}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Launch::Command(command) => write!(f, "{command}"),
            Launch::InProcess(_) => write!(f, "(in process)"),
        }
    }
}

/// How to run the adapter.
#[derive(Debug, Clone)]
pub struct Config {
    pub launch: Launch,
    pub timeout: Duration,
    /// The umask the adapter runs under (`None`: the oracle's).
    pub umask: Option<u32>,
}

/// How much longer than a read a request that writes may take: it waits
/// for fsyncs, which a busy disk can hold up for seconds.
pub const WRITE_TIMEOUT_FACTOR: u32 = 5;

impl Config {
    /// The time the reply to `cmd` may take: the timeout for `default`
    /// and `load`, [`WRITE_TIMEOUT_FACTOR`] times it for a request that
    /// writes.
    pub fn timeout_of(&self, cmd: &str) -> Duration {
        match cmd {
            "default" | "load" => self.timeout,
            _ => self.timeout * WRITE_TIMEOUT_FACTOR,
        }
    }

    /// The adapter command, as a message names it.
    pub fn command(&self) -> String {
        format!("{:?}", self.launch)
    }
}

/// What one request came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Exchange {
    Reply(Reply),
    /// No reply: a finding on the case at hand, and the run goes on.
    Fault(Fault),
    /// The adapter cannot go on: it runs once ([`Adapter::once`]) and
    /// failed.
    Broken {
        why: String,
    },
}

/// Why a request got no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// No reply within the time: the adapter was killed.
    Hung { after: Duration },
    /// The adapter exited, or closed its output.
    Died { status: String },
    /// A line that is not the reply: why.
    Garbage { why: String },
    /// A line longer than [`MAX_LINE`]: the adapter was killed.
    TooLong,
    /// Not sent: the adapter could not be started again after it failed.
    NotRestarted { why: String },
    /// Not sent: [`CASE_FAULTS`] requests of the case failed already.
    Withheld,
}

/// A request that got no reply, as a finding tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub cmd: &'static str,
    /// The request's line, escaped and cut ([`shown`]).
    pub request: String,
    /// The adapter's last lines of standard error, as a message suffix.
    pub stderr: String,
    /// How many times the same request failed before in this case, when
    /// it was not sent again (0: this is what it came to when sent).
    pub repeated: u32,
}

impl Fault {
    /// Whether the request reached the adapter (now or, repeated, before).
    pub fn was_sent(&self) -> bool {
        !matches!(
            self.kind,
            FaultKind::NotRestarted { .. } | FaultKind::Withheld
        )
    }
}

/// A time limit in words: `2 s`, `0.5 s`.
fn seconds(limit: Duration) -> String {
    format!("{} s", limit.as_secs_f64())
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cmd = self.cmd;
        match &self.kind {
            FaultKind::Hung { after } => write!(
                f,
                "{cmd} did not answer within {}: the adapter was killed",
                seconds(*after)
            )?,
            FaultKind::Died { status } => write!(f, "the adapter died during {cmd} ({status})")?,
            FaultKind::Garbage { why } => write!(
                f,
                "the adapter answered {cmd} with a line that is not its reply: {why}"
            )?,
            FaultKind::TooLong => write!(
                f,
                "the adapter wrote more than {} MiB in answer to {cmd} without ending the line: it was killed",
                MAX_LINE >> 20
            )?,
            FaultKind::NotRestarted { why } => write!(
                f,
                "{cmd} was not sent: the adapter could not be started again after it failed: {why}"
            )?,
            FaultKind::Withheld => write!(
                f,
                "{cmd} was not sent: {CASE_FAULTS} requests of this case got no reply already, the most one case sends"
            )?,
        }
        if self.repeated > 0 {
            let times = match self.repeated {
                1 => "once".to_string(),
                n => format!("{n} times"),
            };
            write!(
                f,
                " (the same request failed {times} in this case, so it was not sent again)"
            )?;
        }
        let label = if self.was_sent() {
            "the request as sent"
        } else {
            "the request, not sent"
        };
        write!(f, "\n{label}: {}{}", self.request, self.stderr)
    }
}

/// A request line as a message shows it: a JSON string (escaped as
/// `lifecycle_harness::report` says), and cut after
/// [`SHOWN_REQUEST`] characters, saying how long it was.
pub fn shown(line: &str) -> String {
    let string = |text: &str| report::excerpt_within(text.as_bytes(), usize::MAX);
    match line.char_indices().nth(SHOWN_REQUEST) {
        None => string(line),
        Some((end, _)) => format!(
            "{}… (cut: the first {SHOWN_REQUEST} of its {} characters)",
            string(&line[..end]),
            line.chars().count()
        ),
    }
}

/// What the reader of the adapter's standard output hands over.
enum Line {
    Text(String),
    /// A line longer than [`MAX_LINE`]: the reader stopped reading.
    TooLong,
    /// The adapter closed its output.
    Closed,
    /// A forked copy of the adapter ended (`forked::Template`).
    Ended {
        code: i32,
        unread: usize,
    },
}

enum Running {
    Child {
        child: Child,
        stdin: ChildStdin,
        lines: Receiver<Line>,
        /// Disconnected once the thread keeping standard error is done,
        /// which is once the adapter's whole group is gone.
        stderr: Receiver<()>,
    },
    /// A copy of the adapter forked from a template, on its pipes.
    Forked(forked::Lent),
    InProcess(Answerer),
}

impl Running {
    /// Sends `line` and waits at most `timeout` for the answer line.
    fn exchange(
        &mut self,
        line: &str,
        timeout: Duration,
        umask: Option<u32>,
    ) -> Result<Line, RecvTimeoutError> {
        match self {
            Running::Child { stdin, lines, .. } => {
                let sent = writeln!(stdin, "{line}").and_then(|()| stdin.flush());
                match sent {
                    Ok(()) => lines.recv_timeout(timeout),
                    Err(_) => Ok(Line::Closed),
                }
            }
            Running::Forked(lent) => lent.exchange(line, timeout),
            Running::InProcess(answer) => Ok(with_umask(umask, || answer(line))
                .map(Line::Text)
                .unwrap_or(Line::Closed)),
        }
    }

    /// Ends it: `stop`, a short grace, then its whole process group killed.
    fn end(&mut self, grace: Duration) {
        if let Running::Forked(lent) = self {
            lent.end(grace);
        }
        if let Running::Child {
            child,
            stdin,
            stderr,
            ..
        } = self
        {
            let _ = writeln!(stdin, "{{\"cmd\":\"stop\"}}");
            let _ = stdin.flush();
            wait_exit(child, grace);
            kill_group(child);
            // Its last lines of standard error may still be in the pipe:
            // a fault shows them. (A process that left the group may hold
            // the pipe open: the wait is short.)
            let _ = stderr.recv_timeout(Duration::from_millis(250));
        }
    }

    /// How the adapter ended, once its output closed.
    fn status(&mut self) -> String {
        match self {
            Running::Child { child, .. } => {
                if let Some(status) = wait_exit(child, Duration::from_secs(1)) {
                    return status.to_string();
                }
                kill_group(child);
                "it closed its output and was killed".to_string()
            }
            Running::Forked(lent) => lent.status(),
            Running::InProcess(_) => "the in-process answerer stopped".to_string(),
        }
    }
}

/// Runs `f` under `umask` (the process's umask when `None`).
fn with_umask<T>(umask: Option<u32>, f: impl FnOnce() -> T) -> T {
    let Some(mask) = umask else {
        return f();
    };
    // SAFETY: umask(2) only swaps the process's file-creation mask; it
    // takes no pointers and cannot fail. The oracle asks one request at a
    // time, so no other thread creates files under the borrowed mask.
    let old = unsafe { libc::umask(mask as libc::mode_t) };
    let answer = f();
    // SAFETY: as above; this restores the mask saved before.
    unsafe { libc::umask(old) };
    answer
}

/// How the requests of the case at hand went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests that got their reply.
    pub replies: u32,
    /// Requests sent that got none (each cost a restart).
    pub faults: u32,
    /// Requests not sent because the same request failed [`RESENDS`]
    /// times, answered with its fault.
    pub repeated: u32,
    /// Requests not sent because the case's faults reached
    /// [`CASE_FAULTS`] or the adapter could not be started again.
    pub withheld: u32,
}

/// What the adapter keeps of the case at hand.
#[derive(Default)]
struct CaseLog {
    tally: Tally,
    /// Whether the last request of the case got no reply.
    last_failed: bool,
    /// The requests that failed (by [`identity`]): how often, and how.
    failed: HashMap<u64, (u32, Fault)>,
    /// Why the adapter could not be started again, once it could not.
    not_restarted: Option<String>,
    /// The next request that would not be sent is sent.
    once_more: bool,
}

impl CaseLog {
    /// Whether the case failed: no request got a reply, or the last did
    /// not.
    fn failed(&self) -> bool {
        let t = self.tally;
        t.faults + t.repeated + t.withheld > 0 && (t.replies == 0 || self.last_failed)
    }
}

/// How a case ended, for [`FailedCases`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEnd {
    /// No request got a reply, or the last did not.
    Failed,
    /// Its last request got its reply.
    Answered,
    /// It asked this adapter nothing (a traced case asks adapters of
    /// its own).
    AskedNothing,
}

/// The failed cases in a row of a run, counted in the order of its cases.
#[derive(Debug, Default)]
pub struct FailedCases {
    in_a_row: u32,
}

impl FailedCases {
    /// Counts how the next case ended: a failed one counts towards
    /// [`MAX_FAILED_CASES`], an answered one starts the count again, one
    /// that asked nothing leaves it. Once the count is reached: why the
    /// adapter cannot go on.
    pub fn count(&mut self, end: CaseEnd) -> Option<String> {
        match end {
            CaseEnd::Failed => self.in_a_row += 1,
            CaseEnd::Answered => self.in_a_row = 0,
            CaseEnd::AskedNothing => {}
        }
        (self.in_a_row >= MAX_FAILED_CASES).then(|| {
            format!(
                "the adapter failed {MAX_FAILED_CASES} cases in a row (no reply to any of their requests, or none to their last); it, not the implementation, is broken"
            )
        })
    }
}

/// The lines of standard error kept.
type Kept = Arc<Mutex<VecDeque<String>>>;

pub struct Adapter {
    config: Config,
    running: Option<Running>,
    handshake: Handshake,
    stderr: Kept,
    next_seq: u64,
    /// How many times the adapter was started again.
    pub restarts: u32,
    /// Every message the adapter sent, with the command it answered, when
    /// the run validates the protocol.
    pub transcript: Option<Vec<(&'static str, String)>>,
    broken: Option<String>,
    /// `false` for an adapter that must not start again once it failed
    /// (a traced run happens once: a restart would inject again).
    restartable: bool,
    case: CaseLog,
}

impl Drop for Adapter {
    fn drop(&mut self) {
        if let Some(mut running) = self.running.take() {
            running.end(Duration::from_millis(300));
        }
    }
}

/// Waits at most `timeout` for `child` to exit, reaping it: its status,
/// or `None` if it still runs. Sleeps in poll(2) on a pidfd, so it returns
/// as the child exits (an adapter stops in well under a millisecond, and
/// every replay of `kill` and `faults` ends one); where the kernel has no
/// pidfd (before Linux 5.3), it looks every 5 ms.
fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    // Exited already, or reaped before (its pid may then be another
    // process's, so no pidfd of it).
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    let pidfd = pidfd_of(child);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        match &pidfd {
            Some(fd) => {
                let mut poll = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                let ms = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
                // SAFETY: `poll` points at one pollfd that lives across
                // the call, and the count says one; the fd is the pidfd
                // this function owns until it returns. EINTR or any other
                // error only sends the loop round again, bounded by the
                // deadline.
                unsafe {
                    libc::poll(&mut poll, 1, ms);
                }
            }
            None => thread::sleep(Duration::from_millis(5).min(left)),
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
    }
}

/// A pidfd of the unreaped `child` (readable once it exits), or `None`
/// where the kernel has none.
fn pidfd_of(child: &Child) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(child.id()).ok()?;
    // SAFETY: pidfd_open(2) takes a pid and flags, no pointers. The child
    // is not reaped (the caller's try_wait said it still runs, and only the
    // caller reaps it), so the pid is still the child's.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = RawFd::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the kernel just returned this fd, and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Kills the child's process group (the adapter and everything it started)
/// and reaps the child.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals a process group; it
        // takes no pointers and has no memory effects on this process. The
        // group is the child's own (process_group(0) at spawn), so nothing
        // else is hit.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The next piece of a stream: how many bytes of `chunk` belong to the
/// line at hand, and whether they end it (the newline among them).
fn line_end(chunk: &[u8]) -> (usize, bool) {
    match chunk.iter().position(|&b| b == b'\n') {
        Some(i) => (i + 1, true),
        None => (chunk.len(), false),
    }
}

/// The next chunk of `reader`: `None` at its end or on an error (an
/// interrupted read is retried).
fn next_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    loop {
        match reader.fill_buf() {
            Ok([]) => return None,
            Ok(chunk) => return Some(chunk.to_vec()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// Hands the adapter's output lines over one at a time, each at most
/// [`MAX_LINE`] bytes: a longer one is never held, the reader says so and
/// stops. The channel holds no line: the reader waits for the oracle to
/// take each, so an adapter that writes line after line is held up by its
/// pipe, not queued in the oracle.
fn read_lines(stdout: impl Read, tx: &SyncSender<Line>) {
    read_lines_counted(stdout, tx, &Handed::default());
}

/// How far a reader of [`read_lines_counted`] got: the bytes it read
/// from the pipe, and those it has handed on (a line taken by the oracle,
/// or the start of one not ended yet). Equal, with nothing waiting in the
/// pipe, when everything written so far has reached the oracle.
#[derive(Default)]
struct Handed {
    read: AtomicU64,
    handed: AtomicU64,
}

/// A pipe whose reads are counted in `count`.
struct Counted<'a, R> {
    inner: R,
    count: &'a AtomicU64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }
}

/// [`read_lines`], counting in `handed` how far it got.
fn read_lines_counted(stdout: impl Read, tx: &SyncSender<Line>, handed: &Handed) {
    let counted = Counted {
        inner: stdout,
        count: &handed.read,
    };
    let mut reader = BufReader::with_capacity(1 << 16, counted);
    let mut line: Vec<u8> = Vec::new();
    while let Some(chunk) = next_chunk(&mut reader) {
        let (taken, ended) = line_end(&chunk);
        reader.consume(taken);
        let body = &chunk[..taken - usize::from(ended)];
        if line.len() + body.len() > MAX_LINE {
            let _ = tx.send(Line::TooLong);
            return;
        }
        line.extend_from_slice(body);
        if ended {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let text = String::from_utf8(std::mem::take(&mut line))
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            if tx.send(Line::Text(text)).is_err() {
                return;
            }
        }
        handed.handed.fetch_add(taken as u64, Ordering::SeqCst);
    }
    let _ = tx.send(Line::Closed);
}

/// Keeps the adapter's last [`STDERR_LINES`] lines of standard error, each
/// cut at [`STDERR_LINE`] bytes (a line cut is kept as soon as it is, so an
/// endless one shows too), each as a reader sees it: the characters that
/// do not print (a terminal's colour codes, a carriage return) escaped
/// as `report` escapes them, a byte that is not UTF-8 as `\xNN`.
fn keep_stderr(err: impl Read, kept: &Kept) {
    let keep = |line: &[u8], note: &str| {
        let line = line.trim_ascii_end();
        let mut text = String::with_capacity(line.len() + note.len());
        // Raw, a carriage return would take the line back in a terminal.
        for (n, part) in line.split(|&b| b == b'\r').enumerate() {
            if n > 0 {
                text.push_str("\\r");
            }
            report::escape(&mut text, part, report::Within::JsonText);
        }
        text.push_str(note);
        let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() == STDERR_LINES {
            kept.pop_front();
        }
        kept.push_back(text);
    };
    let mut reader = BufReader::new(err);
    let mut line: Vec<u8> = Vec::new();
    // The line at hand was cut and kept: the rest of it goes.
    let mut cut = false;
    while let Some(chunk) = next_chunk(&mut reader) {
        let (taken, ended) = line_end(&chunk);
        reader.consume(taken);
        if !cut {
            let body = &chunk[..taken - usize::from(ended)];
            let room = STDERR_LINE - line.len();
            line.extend_from_slice(&body[..body.len().min(room)]);
            if body.len() > room {
                keep(&line, &format!("… (cut at {STDERR_LINE} bytes)"));
                line.clear();
                cut = true;
            }
        }
        if ended {
            if !cut {
                keep(&line, "");
            }
            line.clear();
            cut = false;
        }
    }
    if !line.is_empty() {
        keep(&line, "");
    }
}

/// Starts `command` in a process group of its own, under the configured
/// umask: its words run directly when `sh` would only split them
/// (`shell::words`), which spares a shell's start at every traced replay;
/// else, or when they do not start (a program not found, which `sh` says
/// in its own words), `sh -c`.
fn start_process(command: &str, config: &Config) -> std::io::Result<Child> {
    let piped = |mut c: Command| {
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        c
    };
    if let Some(words) = shell::words(command) {
        let mut direct = piped(Command::new(&words[0]));
        direct.args(&words[1..]);
        if let Some(mask) = config.umask {
            // SAFETY: umask(2) is async-signal-safe, allocates nothing
            // and cannot fail: sound between fork and exec.
            unsafe {
                direct.pre_exec(move || {
                    libc::umask(mask as libc::mode_t);
                    Ok(())
                });
            }
        }
        if let Ok(child) = direct.spawn() {
            return Ok(child);
        }
    }
    let script = match config.umask {
        Some(mask) => format!("umask {mask:03o}; {command}"),
        None => command.to_string(),
    };
    let mut sh = piped(Command::new("sh"));
    sh.arg("-c").arg(script);
    sh.spawn()
}

fn spawn(command: &str, config: &Config, stderr: &Kept) -> std::io::Result<Running> {
    let mut child = start_process(command, config)?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin pipe"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout pipe"))?;
    let err = child
        .stderr
        .take()
        .ok_or_else(|| std::io::Error::other("no stderr pipe"))?;
    let (tx, lines) = mpsc::sync_channel(0);
    thread::spawn(move || read_lines(stdout, &tx));
    let kept = Arc::clone(stderr);
    let (done, stderr) = mpsc::channel();
    thread::spawn(move || {
        keep_stderr(err, &kept);
        drop(done);
    });
    Ok(Running::Child {
        child,
        stdin,
        lines,
        stderr,
    })
}

/// What a request is, for telling whether it failed before in the case:
/// its command and members but `seq`, `path` and `now`, which differ
/// between the runs of one sequence as a trace shrinks (each run has a
/// directory of its own, and the clock moves the shrinking leaves out
/// shift the instants after them).
fn identity(request: &Request) -> u64 {
    let mut line = request.line(0);
    for member in ["path", "now"] {
        if let Some(value) = request.member(member) {
            line = line.replacen(&format!(",\"{member}\":{value}"), "", 1);
        }
    }
    let mut hasher = DefaultHasher::new();
    line.hash(&mut hasher);
    hasher.finish()
}

impl Adapter {
    /// Starts the adapter and makes the handshake.
    pub fn start(config: Config) -> Result<Adapter, String> {
        Adapter::begin(config, None)
    }

    /// Starts the adapter, keeping every message it sends in a transcript.
    pub fn start_keeping_transcript(config: Config) -> Result<Adapter, String> {
        Adapter::begin(config, Some(Vec::new()))
    }

    fn begin(
        config: Config,
        mut transcript: Option<Vec<(&'static str, String)>>,
    ) -> Result<Adapter, String> {
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let (running, handshake) = Adapter::launch(&config, &stderr, &mut transcript)?;
        Ok(Adapter {
            config,
            running: Some(running),
            handshake,
            stderr,
            next_seq: 1,
            restarts: 0,
            transcript,
            broken: None,
            restartable: true,
            case: CaseLog::default(),
        })
    }

    fn launch(
        config: &Config,
        stderr: &Kept,
        transcript: &mut Option<Vec<(&'static str, String)>>,
    ) -> Result<(Running, Handshake), String> {
        let mut running = match &config.launch {
            Launch::Command(command) => spawn(command, config, stderr)
                .map_err(|e| format!("could not start the adapter `{command}`: {e}"))?,
            Launch::InProcess(answer) => Running::InProcess(Arc::clone(answer)),
        };
        let handshake = Adapter::shake(&mut running, config, stderr, transcript)?;
        Ok((running, handshake))
    }

    /// The handshake with the adapter `running`, which is ended if it
    /// fails.
    fn shake(
        running: &mut Running,
        config: &Config,
        stderr: &Kept,
        transcript: &mut Option<Vec<(&'static str, String)>>,
    ) -> Result<Handshake, String> {
        // Slow interpreters start slower than they answer: the handshake
        // gets ten timeouts.
        let wait = config.timeout * 10;
        let start = format!("{{\"cmd\":\"start\",\"version\":{VERSION}}}");
        let failed = |running: &mut Running, what: String| {
            running.end(Duration::ZERO);
            Err(format!(
                "the adapter `{}` {what}{}",
                config.command(),
                stderr_text(stderr)
            ))
        };
        let line = match running.exchange(&start, wait, config.umask) {
            Ok(Line::Text(line)) => line,
            Ok(Line::Closed | Line::Ended { .. }) | Err(RecvTimeoutError::Disconnected) => {
                return failed(running, "exited before its handshake".to_string())
            }
            Ok(Line::TooLong) => {
                return failed(
                    running,
                    format!(
                        "wrote more than {} MiB in answer to start without ending the line",
                        MAX_LINE >> 20
                    ),
                )
            }
            Err(RecvTimeoutError::Timeout) => {
                return failed(
                    running,
                    format!("did not answer start within {}", seconds(wait)),
                )
            }
        };
        if let Some(t) = transcript.as_mut() {
            t.push(("start", line.clone()));
        }
        match Handshake::parse(&line) {
            Ok(handshake) => Ok(handshake),
            Err(why) => {
                running.end(Duration::ZERO);
                Err(format!("{why}{}", stderr_text(stderr)))
            }
        }
    }

    /// The same adapter, never restarted: once a request fails, every
    /// later one is answered [`Exchange::Broken`].
    pub fn once(mut self) -> Adapter {
        self.restartable = false;
        self
    }

    /// Asks the adapter to stop and waits up to `grace` for it to exit
    /// before its group is killed: a traced adapter's tracer writes the end
    /// of its trace as the adapter ends.
    pub fn finish(mut self, grace: Duration) {
        if let Some(mut running) = self.running.take() {
            running.end(grace);
        }
    }

    /// Why the adapter cannot go on, once it cannot.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The adapter's last lines of standard error, as a message suffix.
    pub fn stderr(&self) -> String {
        stderr_text(&self.stderr)
    }

    /// Starts a case: the faults of the one before are forgotten.
    pub fn begin_case(&mut self) {
        self.case = CaseLog::default();
    }

    /// Ends a case: how it ended.
    pub fn end_case(&mut self) -> CaseEnd {
        let log = std::mem::take(&mut self.case);
        if log.failed() {
            CaseEnd::Failed
        } else if log.tally.replies > 0 {
            CaseEnd::Answered
        } else {
            CaseEnd::AskedNothing
        }
    }

    /// How the requests of the case at hand went so far.
    pub fn tally(&self) -> Tally {
        self.case.tally
    }

    /// Whether every fault of the case at hand was the adapter dying.
    pub fn only_died(&self) -> bool {
        self.case
            .failed
            .values()
            .all(|(_, fault)| matches!(fault.kind, FaultKind::Died { .. }))
    }

    /// The next request of the case that would not be sent (it failed
    /// [`RESENDS`] times, or the case had [`CASE_FAULTS`] faults) is sent
    /// all the same: the traces suite checks so that the minimal sequence
    /// it found fails for real.
    pub fn send_once_more(&mut self) {
        self.case.once_more = true;
    }

    /// Whether a request that would not be sent is sent, once.
    fn take_once_more(&mut self) -> bool {
        std::mem::take(&mut self.case.once_more)
    }

    /// Kills and starts the adapter again: `Err(None)` when it must not
    /// be (it runs once), `Err(Some(why))` when starting failed.
    fn restart(&mut self) -> Result<(), Option<String>> {
        if let Some(mut running) = self.running.take() {
            running.end(Duration::ZERO);
        }
        if !self.restartable {
            self.broken = Some("the adapter runs once and is not restarted".to_string());
            return Err(None);
        }
        self.restarts += 1;
        let (running, handshake) =
            Adapter::launch(&self.config, &self.stderr, &mut self.transcript).map_err(Some)?;
        self.running = Some(running);
        self.handshake = handshake;
        Ok(())
    }

    /// A fault of the case at hand: counted, the adapter's last line
    /// taken as failed.
    fn fault(&mut self, kind: FaultKind, request: &Request, line: &str) -> Exchange {
        let fault = Fault {
            kind,
            cmd: request.cmd,
            request: shown(line),
            stderr: self.stderr(),
            repeated: 0,
        };
        self.case.last_failed = true;
        if fault.was_sent() {
            self.case.tally.faults += 1;
            let id = identity(request);
            let times = self.case.failed.get(&id).map_or(0, |(times, _)| *times);
            self.case.failed.insert(id, (times + 1, fault.clone()));
        } else {
            self.case.tally.withheld += 1;
        }
        Exchange::Fault(fault)
    }

    /// Sends `request` and waits for its reply.
    pub fn ask(&mut self, request: &Request) -> Exchange {
        if let Some(why) = &self.broken {
            return Exchange::Broken { why: why.clone() };
        }
        // Past the case's faults, a request that failed once is answered
        // as it was rather than not at all: a trace goes on shrinking.
        let withheld = self.case.tally.faults >= CASE_FAULTS;
        let repeated = if self.case.failed.is_empty() {
            None
        } else {
            self.case
                .failed
                .get(&identity(request))
                .filter(|(times, _)| *times >= RESENDS || withheld)
                .map(|(times, fault)| Fault {
                    repeated: *times,
                    ..fault.clone()
                })
        };
        let unsent = || request.line(0);
        if (repeated.is_some() || withheld) && !self.take_once_more() {
            if let Some(fault) = repeated {
                self.case.tally.repeated += 1;
                self.case.last_failed = true;
                return Exchange::Fault(fault);
            }
            return self.fault(FaultKind::Withheld, request, &unsent());
        }
        if let Some(why) = self.case.not_restarted.clone() {
            return self.fault(FaultKind::NotRestarted { why }, request, &unsent());
        }
        if self.running.is_none() {
            match self.restart() {
                Ok(()) => {}
                Err(None) => return self.broken_exchange(),
                Err(Some(why)) => {
                    self.case.not_restarted = Some(why.clone());
                    return self.fault(FaultKind::NotRestarted { why }, request, &unsent());
                }
            }
        }
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let seq = self.next_seq;
        self.next_seq += 1;
        let line = request.line(seq);
        let after = self.config.timeout_of(request.cmd);
        let Some(running) = self.running.as_mut() else {
            return self.broken_exchange();
        };
        let kind = match running.exchange(&line, after, self.config.umask) {
            Ok(Line::Text(reply)) => {
                if let Some(t) = self.transcript.as_mut() {
                    t.push((request.cmd, reply.clone()));
                }
                match Reply::parse(&reply, request) {
                    Ok(reply) if reply.seq == seq => {
                        self.case.tally.replies += 1;
                        self.case.last_failed = false;
                        return Exchange::Reply(reply);
                    }
                    Ok(reply) => FaultKind::Garbage {
                        why: format!(
                            "the reply carries seq {}, the request was seq {seq}",
                            reply.seq
                        ),
                    },
                    // More lines may follow (a reply spread over several,
                    // or printed after a stray line): the stream is out of
                    // step, and a restart puts it back.
                    Err(why) => FaultKind::Garbage { why },
                }
            }
            Ok(Line::TooLong) => FaultKind::TooLong,
            Ok(Line::Closed | Line::Ended { .. }) | Err(RecvTimeoutError::Disconnected) => {
                FaultKind::Died {
                    status: running.status(),
                }
            }
            Err(RecvTimeoutError::Timeout) => FaultKind::Hung { after },
        };
        // Whatever went wrong, the stream may be out of step: the adapter
        // goes, and starts afresh before the next request.
        if let Some(mut running) = self.running.take() {
            running.end(Duration::ZERO);
        }
        self.fault(kind, request, &line)
    }

    fn broken_exchange(&self) -> Exchange {
        Exchange::Broken {
            why: self
                .broken
                .clone()
                .unwrap_or_else(|| "the adapter is not running".to_string()),
        }
    }
}

fn stderr_text(stderr: &Kept) -> String {
    let lines = stderr.lock().unwrap_or_else(|e| e.into_inner());
    if lines.is_empty() {
        return String::new();
    }
    let joined: Vec<&str> = lines.iter().map(String::as_str).collect();
    format!("\nadapter stderr:\n  {}", joined.join("\n  "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn standard_error_is_kept_as_a_reader_sees_it() {
        let kept: Kept = Arc::default();
        let err: &[u8] =
            b"\x1b[31mred\x1b[0m\tand \xff\r\nprogress 1\rprogress 2\nplain \xc3\xa9t\xc3\xa9  \n";
        keep_stderr(err, &kept);
        let lines: Vec<String> = kept.lock().expect("not poisoned").iter().cloned().collect();
        assert_eq!(
            lines,
            [
                "\\u001b[31mred\\u001b[0m\tand \\xff",
                "progress 1\\rprogress 2",
                "plain \u{e9}t\u{e9}",
            ]
        );
    }

    #[test]
    fn waiting_for_a_child_gives_its_status_once_it_exits_and_none_while_it_runs() {
        let mut quick = Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .expect("sh runs");
        let status = wait_exit(&mut quick, Duration::from_secs(30)).expect("it exited");
        assert_eq!(status.code(), Some(3));
        // Reaped: asked again, the same status, not another process's.
        let again = wait_exit(&mut quick, Duration::ZERO).expect("still known");
        assert_eq!(again.code(), Some(3));

        let mut slow = Command::new("sleep").arg("30").spawn().expect("sleep runs");
        assert_eq!(wait_exit(&mut slow, Duration::from_millis(20)), None);
        kill_group(&mut slow);
        assert!(
            wait_exit(&mut slow, Duration::ZERO).is_some(),
            "killed and reaped"
        );
    }

    /// An adapter in `sh` that answers every save with an empty result,
    /// except a save whose record holds one of its words: `KILL` (it says
    /// so on stderr and exits), `HANG`, `GARBAGE` (a line that is not
    /// JSON), `ENDLESS` (zero bytes without end, no newline) or `SHOUT` (a
    /// line of 10,000 bytes on stderr, then it exits). Each request it
    /// reads is appended to `DIR/sent`.
    fn adapter(dir: &Path, timeout: Duration) -> Adapter {
        let script = dir.join("adapter.sh");
        let sent = dir.join("sent");
        std::fs::write(
            &script,
            format!(
                r#"while IFS= read -r line; do
  case "$line" in
    *'"cmd":"start"'*) echo '{{"cmd":"start","version":1,"implementation":{{"name":"sh","language":"sh"}},"capabilities":["store"]}}'; continue ;;
    *'"cmd":"stop"'*) exit 0 ;;
  esac
  printf '%s\n' "$line" >> '{sent}'
  case "$line" in
    *KILL*) echo "dying of the request" >&2; exit 9 ;;
    *HANG*) sleep 60 ;;
    *GARBAGE*) echo 'DEBUG: about to answer' ;;
    *ENDLESS*) cat /dev/zero ;;
    *SHOUT*) head -c 10000 /dev/zero | tr '\0' 'e' >&2; echo >&2; exit 3 ;;
    *) seq=${{line#*\"seq\":}}; echo "{{\"seq\":${{seq%%[!0-9]*}},\"result\":{{}}}}" ;;
  esac
done
"#,
                sent = sent.display()
            ),
        )
        .expect("the script is written");
        Adapter::start(Config {
            launch: Launch::Command(format!("sh {}", script.display())),
            timeout,
            umask: None,
        })
        .expect("the adapter starts")
    }

    /// The adapter of [`adapter`] in a fresh directory, a case begun.
    fn in_a_case(timeout: Duration) -> (tempfile::TempDir, Adapter) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut adapter = adapter(dir.path(), timeout);
        adapter.begin_case();
        (dir, adapter)
    }

    fn save(marker: &str) -> Request {
        Request::new("save")
            .text("path", &format!("/nowhere/{}/lifecycle_state.json", next()))
            .raw("record", format!("{{\"x\":\"{marker}\"}}"))
    }

    /// A fresh number: each request names another directory, as a
    /// shrinking trace's runs do.
    fn next() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    /// How many requests holding `marker` reached the adapter.
    fn sent(dir: &Path, marker: &str) -> usize {
        std::fs::read_to_string(dir.join("sent"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(marker))
            .count()
    }

    fn fault(exchange: Exchange) -> Fault {
        match exchange {
            Exchange::Fault(fault) => fault,
            other => panic!("not a fault: {other:?}"),
        }
    }

    fn answered(exchange: &Exchange) -> bool {
        matches!(exchange, Exchange::Reply(_))
    }

    const QUICK: Duration = Duration::from_millis(300);

    #[test]
    fn a_request_that_kills_the_adapter_is_a_fault_naming_the_request_and_the_next_is_answered() {
        let (_dir, mut adapter) = in_a_case(Duration::from_secs(10));
        let killed = fault(adapter.ask(&save("KILL")));
        assert!(matches!(killed.kind, FaultKind::Died { .. }), "{killed:?}");
        let message = killed.to_string();
        assert!(
            message.starts_with("the adapter died during save"),
            "{message}"
        );
        assert!(
            message.contains(r#"the request as sent: "{\"cmd\":\"save\",\"seq\":1,"#)
                && message.contains(r#"\"record\":{\"x\":\"KILL\"}}""#),
            "{message}"
        );
        assert!(
            message.contains("adapter stderr:\n  dying of the request"),
            "{message}"
        );
        assert!(answered(&adapter.ask(&save("fine"))));
        adapter.end_case();
        assert_eq!(adapter.restarts, 1);
        assert_eq!(adapter.tally(), Tally::default(), "a case forgets the last");
        assert_eq!(adapter.broken(), None);
    }

    #[test]
    fn a_request_that_keeps_failing_is_sent_twice_in_a_case_then_answered_with_its_fault() {
        let (dir, mut adapter) = in_a_case(Duration::from_secs(10));
        let faults: Vec<Fault> = (0..6).map(|_| fault(adapter.ask(&save("KILL")))).collect();
        assert_eq!(sent(dir.path(), "KILL"), RESENDS as usize);
        assert_eq!(faults[1].repeated, 0);
        assert_eq!(faults[2].repeated, RESENDS);
        assert_eq!(faults[2].kind, faults[1].kind);
        assert!(
            faults[5]
                .to_string()
                .contains("failed 2 times in this case, so it was not sent again"),
            "{}",
            faults[5]
        );
        // Other requests still go out, and once more the one asked for.
        assert!(answered(&adapter.ask(&save("fine"))));
        adapter.send_once_more();
        fault(adapter.ask(&save("KILL")));
        assert_eq!(sent(dir.path(), "KILL"), 3);
        let tally = adapter.tally();
        assert_eq!((tally.faults, tally.repeated, tally.replies), (3, 4, 1));
        // The next case sends it again.
        adapter.end_case();
        adapter.begin_case();
        fault(adapter.ask(&save("KILL")));
        assert_eq!(sent(dir.path(), "KILL"), 4);
    }

    #[test]
    fn a_case_whose_requests_failed_five_times_sends_no_more() {
        let (dir, mut adapter) = in_a_case(Duration::from_secs(10));
        for n in 0..CASE_FAULTS {
            let died = fault(adapter.ask(&save(&format!("KILL-{n}"))));
            assert!(matches!(died.kind, FaultKind::Died { .. }), "{died:?}");
        }
        let withheld = fault(adapter.ask(&save("fine")));
        assert_eq!(withheld.kind, FaultKind::Withheld);
        assert!(
            withheld.to_string().contains("save was not sent")
                && withheld.to_string().contains("the request, not sent:"),
            "{withheld}"
        );
        assert_eq!(sent(dir.path(), "fine"), 0);
        adapter.send_once_more();
        assert!(answered(&adapter.ask(&save("fine"))));
        adapter.end_case();
        adapter.begin_case();
        assert!(answered(&adapter.ask(&save("fine"))));
    }

    #[test]
    fn ten_failed_cases_in_a_row_break_the_adapter_and_a_case_answered_between_starts_the_count_again(
    ) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut adapter = adapter(dir.path(), Duration::from_secs(10));
        let mut failed = FailedCases::default();
        let mut case = |failed: &mut FailedCases, asks: &[&str]| {
            adapter.begin_case();
            for marker in asks {
                adapter.ask(&save(marker));
            }
            failed.count(adapter.end_case())
        };
        for _ in 1..MAX_FAILED_CASES {
            assert_eq!(case(&mut failed, &["KILL"]), None);
        }
        // Answered, then not: the case ended without a reply.
        assert!(case(&mut failed, &["fine", "KILL"]).is_some());
        let mut failed = FailedCases::default();
        for _ in 1..MAX_FAILED_CASES {
            case(&mut failed, &["KILL"]);
        }
        // A fault, then a reply: the adapter answers.
        assert_eq!(case(&mut failed, &["KILL", "fine"]), None);
        // A case that asks nothing leaves the count.
        case(&mut failed, &[]);
        for _ in 1..MAX_FAILED_CASES {
            assert_eq!(case(&mut failed, &["KILL"]), None);
        }
        let why = case(&mut failed, &["KILL"]).expect("broken");
        assert!(why.contains("failed 10 cases in a row"), "{why}");
    }

    #[test]
    fn a_hang_and_a_line_that_is_not_the_reply_are_faults_and_the_adapter_starts_again() {
        let (_dir, mut adapter) = in_a_case(QUICK);
        let started = Instant::now();
        let hung = fault(adapter.ask(&save("HANG")));
        assert_eq!(
            hung.kind,
            FaultKind::Hung {
                after: QUICK * WRITE_TIMEOUT_FACTOR
            }
        );
        assert!(
            hung.to_string()
                .starts_with("save did not answer within 1.5 s:"),
            "{hung}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        let garbage = fault(adapter.ask(&save("GARBAGE")));
        assert!(
            garbage.to_string().contains("not a JSON object")
                && garbage.to_string().contains("DEBUG: about to answer"),
            "{garbage}"
        );
        assert!(answered(&adapter.ask(&save("fine"))));
        assert_eq!(adapter.restarts, 2);
    }

    #[test]
    fn an_endless_line_is_a_fault_and_is_never_held_whole() {
        let (_dir, mut adapter) = in_a_case(Duration::from_secs(30));
        let endless = fault(adapter.ask(&save("ENDLESS")));
        assert_eq!(endless.kind, FaultKind::TooLong);
        assert!(
            endless.to_string().starts_with(
                "the adapter wrote more than 64 MiB in answer to save without ending the line"
            ),
            "{endless}"
        );
        assert!(answered(&adapter.ask(&save("fine"))));
    }

    #[test]
    fn a_line_of_standard_error_is_kept_to_its_first_bytes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut adapter = adapter(dir.path(), Duration::from_secs(10));
        let shouted = fault(adapter.ask(&save("SHOUT"))).stderr;
        assert!(
            shouted.contains(&format!("{}… (cut at 2000 bytes)", "e".repeat(STDERR_LINE))),
            "{shouted}"
        );
        assert!(shouted.len() < STDERR_LINE + 100, "{}", shouted.len());
    }

    #[test]
    fn a_long_request_is_shown_cut_saying_how_long_it_was() {
        assert_eq!(shown("{\"a\":\"\n\"}"), r#""{\"a\":\"\n\"}""#);
        let long = format!("{{\"x\":\"{}\"}}", "é".repeat(5_000));
        let text = shown(&long);
        assert!(
            text.ends_with("… (cut: the first 2000 of its 5008 characters)"),
            "{text}"
        );
        assert_eq!(
            text.chars().filter(|c| *c == 'é').count(),
            SHOWN_REQUEST - 6
        );
    }
}
