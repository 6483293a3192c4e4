//! The adapter as a child process: started, asked, timed, killed, restarted.
//!
//! Promises: [`Adapter::start`] runs the command with `sh -c` in a process
//! group of its own and makes the handshake of PROTOCOL.md; [`Adapter::ask`]
//! sends one request and waits at most the timeout for its reply. An
//! adapter that misses the timeout is killed with its whole group and
//! started again (the handshake replayed); one that exits, or answers with
//! a line that is not the reply, is started again too; each time the case at hand gets an
//! [`Exchange`] saying what happened, with the adapter's last lines of
//! standard error, and the run goes on. After [`MAX_RESTARTS`] restarts the
//! adapter is broken and every further request says so. Dropping an
//! [`Adapter`] kills its process group: no adapter outlives the oracle.
//!
//! Does not promise: anything about what the adapter's implementation does;
//! that is the suites' to judge.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::protocol::{Handshake, Reply, Request, VERSION};

/// Restarts after which the adapter, not the implementation, is broken.
pub const MAX_RESTARTS: u32 = 20;
/// The lines of standard error kept for the findings.
const STDERR_LINES: usize = 40;

/// A function that answers protocol lines in this process: a request line
/// in, the reply line out (`None` for `stop`). The CLI's `lifecycle
/// adapter` runs the same function on its standard input.
pub type Answerer = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the adapter runs.
#[derive(Clone)]
pub enum Launch {
    /// A shell command line, run with `sh -c` in its own process group.
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
    /// No reply within the timeout: the adapter was killed and restarted.
    Hung {
        stderr: String,
    },
    /// The adapter exited: restarted.
    Died {
        status: String,
        stderr: String,
    },
    /// A line that is not the reply: why, and the adapter's stderr.
    Garbage {
        why: String,
        stderr: String,
    },
    /// Restarting failed or was done too often: the run cannot go on.
    Broken {
        why: String,
    },
}

enum Running {
    Child {
        child: Child,
        stdin: ChildStdin,
        lines: Receiver<Option<String>>,
    },
    InProcess(Answerer),
}

impl Running {
    /// Sends `line` and waits at most `timeout` for the answer line:
    /// `Ok(None)` when the adapter closed its output.
    fn exchange(
        &mut self,
        line: &str,
        timeout: Duration,
        umask: Option<u32>,
    ) -> Result<Option<String>, RecvTimeoutError> {
        match self {
            Running::Child { stdin, lines, .. } => {
                let sent = writeln!(stdin, "{line}").and_then(|()| stdin.flush());
                match sent {
                    Ok(()) => lines.recv_timeout(timeout),
                    Err(_) => Ok(None),
                }
            }
            Running::InProcess(answer) => Ok(with_umask(umask, || answer(line))),
        }
    }

    /// Ends it: `stop`, a short grace, then its whole process group killed.
    fn end(&mut self, grace: Duration) {
        if let Running::Child { child, stdin, .. } = self {
            let _ = writeln!(stdin, "{{\"cmd\":\"stop\"}}");
            let _ = stdin.flush();
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
            kill_group(child);
        }
    }

    /// How the adapter ended, once its output closed.
    fn status(&mut self) -> String {
        match self {
            Running::Child { child, .. } => {
                let deadline = Instant::now() + Duration::from_secs(1);
                while Instant::now() < deadline {
                    if let Ok(Some(status)) = child.try_wait() {
                        return status.to_string();
                    }
                    thread::sleep(Duration::from_millis(5));
                }
                kill_group(child);
                "it closed its output and was killed".to_string()
            }
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

pub struct Adapter {
    config: Config,
    running: Option<Running>,
    handshake: Handshake,
    stderr: Arc<Mutex<VecDeque<String>>>,
    next_seq: u64,
    pub restarts: u32,
    /// Every message the adapter sent, with the command it answered, when
    /// the run validates the protocol.
    pub transcript: Option<Vec<(&'static str, String)>>,
    broken: Option<String>,
    /// `false` for an adapter that must not start again once it failed
    /// (a traced run happens once: a restart would inject again).
    restartable: bool,
}

impl Drop for Adapter {
    fn drop(&mut self) {
        if let Some(mut running) = self.running.take() {
            running.end(Duration::from_millis(300));
        }
    }
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

fn spawn(
    command: &str,
    config: &Config,
    stderr: &Arc<Mutex<VecDeque<String>>>,
) -> std::io::Result<Running> {
    let script = match config.umask {
        Some(mask) => format!("umask {mask:03o}; {command}"),
        None => command.to_string(),
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
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
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    if tx
                        .send(Some(line.trim_end_matches(['\n', '\r']).to_string()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    let kept = Arc::clone(stderr);
    thread::spawn(move || {
        let mut reader = BufReader::new(err);
        let mut buf = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut buf) {
            if n == 0 {
                return;
            }
            let line = String::from_utf8_lossy(&buf).trim_end().to_string();
            buf.clear();
            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() == STDERR_LINES {
                kept.pop_front();
            }
            kept.push_back(line);
        }
    });
    Ok(Running::Child {
        child,
        stdin,
        lines,
    })
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
        })
    }

    fn launch(
        config: &Config,
        stderr: &Arc<Mutex<VecDeque<String>>>,
        transcript: &mut Option<Vec<(&'static str, String)>>,
    ) -> Result<(Running, Handshake), String> {
        let mut running = match &config.launch {
            Launch::Command(command) => spawn(command, config, stderr)
                .map_err(|e| format!("could not start the adapter `{command}`: {e}"))?,
            Launch::InProcess(answer) => Running::InProcess(Arc::clone(answer)),
        };
        let tail = |stderr: &Arc<Mutex<VecDeque<String>>>| stderr_text(stderr);
        // Slow interpreters start slower than they answer: the handshake
        // gets ten timeouts.
        let wait = config.timeout * 10;
        let start = format!("{{\"cmd\":\"start\",\"version\":{VERSION}}}");
        let line = match running.exchange(&start, wait, config.umask) {
            Ok(Some(line)) => line,
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                running.end(Duration::ZERO);
                return Err(format!(
                    "the adapter `{}` exited before its handshake{}",
                    config.command(),
                    tail(stderr)
                ));
            }
            Err(RecvTimeoutError::Timeout) => {
                running.end(Duration::ZERO);
                return Err(format!(
                    "the adapter `{}` did not answer start within {wait:?}{}",
                    config.command(),
                    tail(stderr)
                ));
            }
        };
        if let Some(t) = transcript.as_mut() {
            t.push(("start", line.clone()));
        }
        match Handshake::parse(&line) {
            Ok(handshake) => Ok((running, handshake)),
            Err(why) => {
                running.end(Duration::ZERO);
                Err(format!("{why}{}", tail(stderr)))
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

    /// Kills and starts the adapter again; `false` once it is broken.
    fn restart(&mut self) -> bool {
        if let Some(mut running) = self.running.take() {
            running.end(Duration::ZERO);
        }
        if self.broken.is_some() {
            return false;
        }
        if !self.restartable {
            self.broken = Some("the adapter runs once and is not restarted".to_string());
            return false;
        }
        self.restarts += 1;
        if self.restarts > MAX_RESTARTS {
            self.broken = Some(format!(
                "the adapter was restarted {MAX_RESTARTS} times; it, not the implementation, is broken"
            ));
            return false;
        }
        match Adapter::launch(&self.config, &self.stderr, &mut self.transcript) {
            Ok((running, handshake)) => {
                self.running = Some(running);
                self.handshake = handshake;
                true
            }
            Err(why) => {
                self.broken = Some(format!("restarting the adapter failed: {why}"));
                false
            }
        }
    }

    /// Sends `request` and waits for its reply.
    pub fn ask(&mut self, request: &Request) -> Exchange {
        if let Some(why) = &self.broken {
            return Exchange::Broken { why: why.clone() };
        }
        if self.running.is_none() && !self.restart() {
            return self.broken_exchange();
        }
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let seq = self.next_seq;
        self.next_seq += 1;
        let line = request.line(seq);
        let Some(running) = self.running.as_mut() else {
            return self.broken_exchange();
        };
        let answer = running.exchange(
            &line,
            self.config.timeout_of(request.cmd),
            self.config.umask,
        );
        let exchange = match answer {
            Ok(Some(reply)) => {
                if let Some(t) = self.transcript.as_mut() {
                    t.push((request.cmd, reply.clone()));
                }
                match Reply::parse(&reply, request) {
                    Ok(reply) if reply.seq == seq => return Exchange::Reply(reply),
                    Ok(reply) => Exchange::Garbage {
                        why: format!(
                            "the reply carries seq {}, the request was seq {seq}",
                            reply.seq
                        ),
                        stderr: self.stderr(),
                    },
                    // More lines may follow (a reply spread over several,
                    // or printed after a stray line): the stream is out of
                    // step, and a restart puts it back.
                    Err(why) => Exchange::Garbage {
                        why,
                        stderr: self.stderr(),
                    },
                }
            }
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                let status = running.status();
                Exchange::Died {
                    status,
                    stderr: self.stderr(),
                }
            }
            Err(RecvTimeoutError::Timeout) => Exchange::Hung {
                stderr: self.stderr(),
            },
        };
        // Whatever went wrong, the stream may be out of step: start afresh.
        self.restart();
        exchange
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

fn stderr_text(stderr: &Arc<Mutex<VecDeque<String>>>) -> String {
    let lines = stderr.lock().unwrap_or_else(|e| e.into_inner());
    if lines.is_empty() {
        return String::new();
    }
    let joined: Vec<&str> = lines.iter().map(String::as_str).collect();
    format!("\nadapter stderr:\n  {}", joined.join("\n  "))
}
