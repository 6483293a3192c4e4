//! `lifecycle trace --serve SOCKET`: the traced program kept as a
//! template, forked at its next read of a request once per replay.
//!
//! An interpreter takes tens of milliseconds to start and a save one; a
//! replay of `kill` or `faults` needs the adapter as it is just after its
//! handshake, with nothing else done. A copy of that process, made by
//! `fork` at that moment, is such an adapter without the start.
//!
//! Promises: the tracer connects to the Unix socket SOCKET (the control
//! channel) before it starts the program, and traces the program as
//! without `--serve`, its calls written to `--out` and counted in
//! `--scope` (nothing is injected), until the program, the template,
//! enters a `read` of its standard input with nothing there to read: it
//! is held at that call's entry, which runs no part of it, and the
//! tracer reads the control channel. While it waits there, anything the
//! template's input receives lets the read go on (the handshake, the
//! final `stop`). A line `fork\tSCOPE\tOUT\tSPEC` (SPEC as `--inject`
//! takes it, or `-`) makes the template call `clone` with no flags (a
//! `fork` whose end sends no SIGCHLD) in place of that read, and both
//! processes go back to the read, the template held there: the child,
//! the replay's first process, reads the next request.
//! The replay is traced as a run of `lifecycle trace --scope SCOPE --out
//! OUT --inject SPEC` is from that read on: its own counts and numbering
//! of processes, its own trace and list of calls counted, the call hit.
//! The tracer answers `forked` once the child is made, or `refused\tWHY`;
//! once the replay's last process has ended it writes `ended\tCODE\tN`:
//! CODE the child's exit code (128 + the signal that ended it), N the
//! bytes left unread in the template's standard input (a request the
//! child did not read, which the template would). From the first fork
//! on, every read of the template's standard input is held. Before it,
//! a read of the requests (of what the template's standard input was at
//! its start) by any of the processes traced while there is more than
//! one (a runtime's threads, which `fork` does not copy; a
//! pipeline) makes the tracer write `refused\tWHY` once, and the template
//! is never held.
//! The end of the control channel kills the template; the tracer then
//! exits as ever, once every process it traces has ended.
//!
//! Does not promise: a template whose standard input is not a pipe (it
//! is never held); a copy of anything `fork` does not copy (other
//! threads, which a template has none of; the process id); a read made
//! other than by the two-byte `syscall` instruction, which the template
//! and the copy run again.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use super::Spec;

/// One replay asked for: where it is counted, its trace, the injection.
#[derive(Clone)]
pub(super) struct Fork {
    pub scope: PathBuf,
    pub out: PathBuf,
    pub spec: Option<Spec>,
}

/// What the control channel said.
pub(super) enum Control {
    Fork(Fork),
    /// A line that is no command: the answer is `refused`.
    Bad(String),
    /// The channel ended.
    End,
}

/// The control channel and what the tracer knows of the template.
pub(super) struct Serving {
    control: BufReader<UnixStream>,
    /// What the template's standard input is (`pipe:[N]`), as
    /// `/proc/PID/fd/0` links to it: a read of that is a read of its
    /// requests.
    requests: Option<PathBuf>,
    /// The template's standard input, opened again to see what waits in
    /// it; `None` until first needed, or when it is not a pipe.
    probe: Option<File>,
    /// Why the template is never held, once known.
    pub refused: Option<String>,
    /// The registers of the template held at a read's entry.
    pub held: Option<libc::user_regs_struct>,
    /// Whether the next hold check lets the read go on.
    pub release: bool,
    /// Whether a fork was made: every read of the input is held.
    pub forked: bool,
    /// The registers of the read the injected fork replaced, while it
    /// runs.
    pub forking: Option<libc::user_regs_struct>,
    /// The replay asked for, while its fork runs.
    pub asked: Option<Fork>,
    /// A fork to make again, and how many times it was.
    pub retry: Option<Fork>,
    pub retries: u32,
    /// The replay's first process while its processes run, and its exit
    /// code once known.
    pub child: Option<(i32, Option<u8>)>,
}

impl Serving {
    pub(super) fn connect(socket: &Path) -> Result<Serving, String> {
        let stream = UnixStream::connect(socket)
            .map_err(|e| format!("cannot reach the control socket {}: {e}", socket.display()))?;
        Ok(Serving {
            control: BufReader::new(stream),
            requests: None,
            probe: None,
            refused: None,
            held: None,
            release: false,
            forked: false,
            forking: None,
            asked: None,
            retry: None,
            retries: 0,
            child: None,
        })
    }

    /// The template `top`, stopped before it runs its program: its
    /// standard input is that of its requests.
    pub(super) fn started(&mut self, top: i32) {
        self.requests = std::fs::read_link(format!("/proc/{top}/fd/0")).ok();
    }

    /// Whether `pid`'s standard input is the template's requests.
    pub(super) fn reads_requests(&self, pid: i32) -> bool {
        self.requests.is_some()
            && std::fs::read_link(format!("/proc/{pid}/fd/0")).ok() == self.requests
    }

    /// Writes one line to the control channel (an oracle gone is seen
    /// at the next read).
    pub(super) fn say(&mut self, line: &str) {
        let _ = self
            .control
            .get_mut()
            .write_all(format!("{line}\n").as_bytes());
    }

    /// The template cannot be forked, for `why`: said once.
    pub(super) fn refuse(&mut self, why: &str) {
        if self.refused.is_none() && !self.forked {
            self.refused = Some(why.to_string());
            self.say(&format!("refused\t{why}"));
        }
    }

    /// The bytes waiting in the template `pid`'s standard input; `None`
    /// when it is not a pipe.
    pub(super) fn unread(&mut self, pid: i32) -> Option<usize> {
        if self.probe.is_none() {
            let path = format!("/proc/{pid}/fd/0");
            let is_pipe = std::fs::read_link(&path)
                .is_ok_and(|target| target.to_string_lossy().starts_with("pipe:"));
            if !is_pipe {
                return None;
            }
            self.probe = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open(&path)
                .ok();
        }
        crate::pipe::waiting(self.probe.as_ref()?.as_fd())
    }

    /// Waits until the control channel has a line or the template's input
    /// has something to read: the line, or `None` for the input.
    pub(super) fn next(&mut self) -> Option<Control> {
        if self.control.buffer().is_empty() {
            let probe = self.probe.as_ref().map_or(-1, |p| p.as_raw_fd());
            let mut fds = [
                libc::pollfd {
                    fd: self.control.get_ref().as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: probe,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            loop {
                // SAFETY: poll(2) on two live pollfds (a negative fd is
                // ignored).
                let got = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
                if got >= 0 {
                    break;
                }
                if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    return Some(Control::End);
                }
            }
            if fds[0].revents == 0 {
                return None;
            }
        }
        let mut line = String::new();
        match self.control.read_line(&mut line) {
            Ok(0) | Err(_) => Some(Control::End),
            Ok(_) => Some(parse(line.trim_end_matches('\n'))),
        }
    }
}

/// Reads `fork\tSCOPE\tOUT\tSPEC`.
fn parse(line: &str) -> Control {
    let parts: Vec<&str> = line.split('\t').collect();
    let ["fork", scope, out, spec] = parts[..] else {
        return Control::Bad(format!("not fork\\tSCOPE\\tOUT\\tSPEC: {line:?}"));
    };
    let spec = match spec {
        "-" => None,
        text => match Spec::parse(text) {
            Ok(spec) => Some(spec),
            Err(why) => return Control::Bad(why),
        },
    };
    Control::Fork(Fork {
        scope: PathBuf::from(scope),
        out: PathBuf::from(out),
        spec,
    })
}

/// The registers that run again the call entered with `entry`: its
/// `syscall` instruction (two bytes) with its number.
pub(super) fn again(entry: &libc::user_regs_struct) -> libc::user_regs_struct {
    let mut regs = *entry;
    regs.rip -= 2;
    regs.rax = entry.orig_rax;
    regs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_line_names_its_scope_trace_and_injection_and_anything_else_is_refused() {
        let Control::Fork(fork) = parse("fork\t/r/c\t/r/c.trace\tfsync:1:1:EIO") else {
            panic!("a fork");
        };
        assert_eq!(fork.scope, PathBuf::from("/r/c"));
        assert_eq!(fork.out, PathBuf::from("/r/c.trace"));
        assert_eq!(
            fork.spec.map(|s| s.to_string()).as_deref(),
            Some("fsync:1:1:EIO")
        );
        assert!(matches!(
            parse("fork\t/r/c\t/r/c.trace\t-"),
            Control::Fork(Fork { spec: None, .. })
        ));
        for bad in ["fork\t/r/c", "stop", "fork\t/r\t/t\tfsync:0:1:EIO"] {
            assert!(matches!(parse(bad), Control::Bad(_)), "{bad}");
        }
    }
}
