//! An adapter started once under `lifecycle trace --serve` and forked
//! for each replay of a save (`ptrace::serve`).
//!
//! Promises: [`Template::start`] starts the tracer's command line, whose
//! control socket it listens on, and makes the handshake. Each
//! [`Template::fork`] asks the tracer for a copy of the adapter as it is
//! after its handshake, counted and hit in its own scope and traced to
//! its own file, and gives it as an [`Adapter`] that runs once: its
//! requests go through the template's pipes, and its end (the tracer's
//! `ended`) is its output's end, so a copy killed mid-save is an adapter
//! that died, as a fresh one would be. The copy's status is then
//! `exit status: CODE`, as a fresh tracer's would read. [`Template::usable`]
//! says whether the next copy can be made from it: not once a copy left
//! anything behind (a line after its reply, a request unread, an end not
//! seen), a fork was refused, or the tracer stopped listening.
//!
//! Does not promise: standard error told apart between copies (they
//! share the template's pipe: the lines kept are cleared at each request,
//! as for any adapter).

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Child, ChildStdin};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{
    keep_stderr, kill_group, read_lines_counted, start_process, wait_exit, Adapter, CaseLog,
    Config, Handed, Handshake, Kept, Launch, Line, Running,
};

/// The template's standard input and output lines, lent to each copy.
struct Pipes {
    stdin: Mutex<ChildStdin>,
    lines: Mutex<Receiver<Line>>,
}

impl Pipes {
    /// Sends `line` and waits at most `timeout` for the next line.
    fn send(&self, line: &str, timeout: Duration) -> Result<Line, RecvTimeoutError> {
        let sent = {
            let mut stdin = self.stdin.lock().unwrap_or_else(|e| e.into_inner());
            writeln!(stdin, "{line}").and_then(|()| stdin.flush())
        };
        match sent {
            Ok(()) => self.next(timeout),
            Err(_) => Ok(Line::Closed),
        }
    }

    fn next(&self, timeout: Duration) -> Result<Line, RecvTimeoutError> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.recv_timeout(timeout)
    }
}

/// How a copy ended, as far as the oracle saw.
#[derive(Default)]
struct CopyEnd {
    /// Its exit code and the bytes it left unread, once the tracer said.
    ended: Option<(i32, usize)>,
    /// Whether it wrote a line nobody asked for.
    extra: bool,
}

/// A copy's hold on the template's pipes: the `Running` of its
/// [`Adapter`].
pub struct Lent {
    pipes: Arc<Pipes>,
    end: Arc<Mutex<CopyEnd>>,
}

impl Lent {
    fn ended(&self) -> Option<(i32, usize)> {
        self.end.lock().unwrap_or_else(|e| e.into_inner()).ended
    }

    fn saw(&self, line: &Line) {
        let mut end = self.end.lock().unwrap_or_else(|e| e.into_inner());
        match *line {
            Line::Ended { code, unread } => end.ended = Some((code, unread)),
            Line::Text(_) | Line::TooLong => end.extra = true,
            Line::Closed => {}
        }
    }

    pub(super) fn exchange(
        &mut self,
        line: &str,
        timeout: Duration,
    ) -> Result<Line, RecvTimeoutError> {
        if self.ended().is_some() {
            return Ok(Line::Closed);
        }
        let got = self.pipes.send(line, timeout)?;
        if let Line::Ended { .. } = got {
            self.saw(&got);
            return Ok(Line::Closed);
        }
        Ok(got)
    }

    /// `stop`, and its end waited for at most `grace`. A copy that ended
    /// already is sent nothing: its `stop` would be read by the template.
    pub(super) fn end(&mut self, grace: Duration) {
        if self.ended().is_some() {
            return;
        }
        let deadline = Instant::now() + grace;
        let stop = "{\"cmd\":\"stop\"}";
        let mut got = match self.pipes.next(Duration::ZERO) {
            Ok(ended @ Line::Ended { .. }) => Ok(ended),
            Ok(other) => {
                self.saw(&other);
                self.pipes.send(stop, grace)
            }
            Err(_) => self.pipes.send(stop, grace),
        };
        while let Ok(line) = got {
            self.saw(&line);
            if matches!(line, Line::Ended { .. } | Line::Closed) {
                return;
            }
            got = self
                .pipes
                .next(deadline.saturating_duration_since(Instant::now()));
        }
    }

    pub(super) fn status(&self) -> String {
        match self.ended() {
            Some((code, _)) => format!("exit status: {code}"),
            None => "it closed its output".to_string(),
        }
    }
}

/// The adapter under `lifecycle trace --serve`, after its handshake.
pub struct Template {
    process: Child,
    control: UnixStream,
    /// The tracer's answers to `fork`.
    answers: Receiver<String>,
    pipes: Arc<Pipes>,
    stderr: Kept,
    config: Config,
    handshake: Handshake,
    /// How the last copy ended.
    last: Option<Arc<Mutex<CopyEnd>>>,
    refused: Option<String>,
    /// Whether the tracer is gone or out of step (it stopped listening).
    lost: bool,
}

/// How long a template has to say whether it forks: a tracer that never
/// holds it (it reads its requests some other way) says nothing.
const ANSWER: Duration = Duration::from_secs(2);

impl Template {
    /// Starts `config`'s command line, a `lifecycle trace --serve
    /// SOCKET`, and makes the handshake.
    pub fn start(config: Config, socket: &Path) -> Result<Template, String> {
        let Launch::Command(command) = &config.launch else {
            return Err("an adapter in this process cannot be forked".to_string());
        };
        let listener = UnixListener::bind(socket)
            .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
        let mut process = start_process(command, &config)
            .map_err(|e| format!("could not start the adapter `{command}`: {e}"))?;
        let connected = accept(&listener, &mut process, config.timeout * 10);
        let _ = std::fs::remove_file(socket);
        let control = connected.and_then(|control| {
            let reader = control
                .try_clone()
                .map_err(|e| format!("cannot read the control socket: {e}"))?;
            Ok((control, reader))
        });
        let (control, reader) = match control {
            Ok(both) => both,
            Err(why) => {
                kill_group(&mut process);
                return Err(why);
            }
        };
        let (Some(stdin), Some(stdout), Some(err)) = (
            process.stdin.take(),
            process.stdout.take(),
            process.stderr.take(),
        ) else {
            kill_group(&mut process);
            return Err("the adapter has no pipes".to_string());
        };
        // A second descriptor of the output pipe, to see what waits in it.
        let Ok(waiting) = stdout.as_fd().try_clone_to_owned() else {
            kill_group(&mut process);
            return Err("cannot watch the adapter's output".to_string());
        };
        let handed = Arc::new(Handed::default());
        let output = Output {
            waiting,
            handed: Arc::clone(&handed),
        };
        let (tx, lines) = mpsc::sync_channel(0);
        let ended = tx.clone();
        thread::spawn(move || read_lines_counted(stdout, &tx, &handed));
        let stderr: Kept = Arc::default();
        let kept = Arc::clone(&stderr);
        thread::spawn(move || keep_stderr(err, &kept));
        let (answer, answers) = mpsc::channel();
        thread::spawn(move || hear(reader, &answer, &ended, &output));
        let pipes = Arc::new(Pipes {
            stdin: Mutex::new(stdin),
            lines: Mutex::new(lines),
        });
        let mut running = Running::Forked(Lent {
            pipes: Arc::clone(&pipes),
            end: Arc::default(),
        });
        let shaken = Adapter::shake(&mut running, &config, &stderr, &mut None);
        let handshake = match shaken {
            Ok(handshake) => handshake,
            Err(why) => {
                kill_group(&mut process);
                return Err(why);
            }
        };
        Ok(Template {
            process,
            control,
            answers,
            pipes,
            stderr,
            config,
            handshake,
            last: None,
            refused: None,
            lost: false,
        })
    }

    /// Whether another copy can be made: none was refused, and the last
    /// one ended having read all it was sent and written nothing more.
    pub fn usable(&self) -> bool {
        let last_clean = self.last.as_ref().is_none_or(|end| {
            let end = end.lock().unwrap_or_else(|e| e.into_inner());
            matches!(end.ended, Some((_, 0))) && !end.extra
        });
        self.refused.is_none() && !self.lost && last_clean
    }

    /// Why the template makes no copy, once it said.
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// A copy of the adapter whose save is counted in `scope`, traced to
    /// `out`, with `spec` (as `lifecycle trace --inject` takes it, or `-`)
    /// done at its call.
    pub fn fork(&mut self, scope: &Path, out: &Path, spec: &str) -> Result<Adapter, String> {
        if let Some(why) = &self.refused {
            return Err(why.clone());
        }
        let line = format!("fork\t{}\t{}\t{spec}\n", scope.display(), out.display());
        if line.matches('\t').count() != 3 || line.matches('\n').count() != 1 {
            return Err("a path holds a tab or a line end".to_string());
        }
        if let Err(e) = self.control.write_all(line.as_bytes()) {
            self.lost = true;
            return Err(format!("the tracer does not listen: {e}"));
        }
        let answer = match self.answers.recv_timeout(ANSWER) {
            Ok(answer) => answer,
            Err(_) => return Err(self.refuse("the tracer did not answer fork".to_string())),
        };
        if answer != "forked" {
            let why = answer
                .strip_prefix("refused\t")
                .unwrap_or(&answer)
                .to_string();
            return Err(self.refuse(why));
        }
        let end = Arc::new(Mutex::new(CopyEnd::default()));
        self.last = Some(Arc::clone(&end));
        let running = Running::Forked(Lent {
            pipes: Arc::clone(&self.pipes),
            end,
        });
        Ok(Adapter {
            config: self.config.clone(),
            running: Some(running),
            handshake: self.handshake.clone(),
            stderr: Arc::clone(&self.stderr),
            next_seq: 1,
            restarts: 0,
            transcript: None,
            broken: None,
            restartable: false,
            case: CaseLog::default(),
        })
    }

    fn refuse(&mut self, why: String) -> String {
        self.refused = Some(why.clone());
        why
    }
}

impl Drop for Template {
    fn drop(&mut self) {
        // The end of the control channel kills the template; its group
        // goes with it.
        let _ = self.control.shutdown(std::net::Shutdown::Both);
        wait_exit(&mut self.process, Duration::from_millis(100));
        kill_group(&mut self.process);
    }
}

/// The tracer's connection, once it has made it: the tracer ending first
/// or `limit` passing is an error.
fn accept(
    listener: &UnixListener,
    process: &mut Child,
    limit: Duration,
) -> Result<UnixStream, String> {
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream
                    .set_nonblocking(false)
                    .map_err(|e| format!("cannot use the control socket: {e}"))?;
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("cannot accept the tracer's connection: {e}")),
        }
        if let Ok(Some(status)) = process.try_wait() {
            return Err(format!("the tracer ended before it connected ({status})"));
        }
        if Instant::now() > deadline {
            return Err("the tracer did not connect to its control socket".to_string());
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// The template's output pipe, as its reader got through it.
struct Output {
    waiting: OwnedFd,
    handed: Arc<Handed>,
}

impl Output {
    /// Whether everything written to the pipe so far has reached the
    /// oracle: nothing waits in it, and the reader handed on all it read.
    fn drained(&self) -> bool {
        crate::pipe::waiting(self.waiting.as_fd()) == Some(0)
            && self.handed.read.load(Ordering::SeqCst) == self.handed.handed.load(Ordering::SeqCst)
    }

    /// Waits, at most `AT_MOST`, until [`Output::drained`]: a copy's
    /// last line, written before it ended, comes before its end, although
    /// the two come on different channels.
    fn wait_drained(&self) {
        const AT_MOST: Duration = Duration::from_secs(2);
        let deadline = Instant::now() + AT_MOST;
        while !self.drained() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Hands on what the tracer says: its answers to `fork` to `answers`,
/// and each copy's end to the adapter's lines, as the end of its output,
/// once everything the copy wrote has reached them (it ended, so it
/// wrote nothing more).
fn hear(
    control: UnixStream,
    answers: &mpsc::Sender<String>,
    ended: &SyncSender<Line>,
    output: &Output,
) {
    for line in BufReader::new(control).lines() {
        let Ok(line) = line else { return };
        let mut parts = line.split('\t');
        if parts.next() == Some("ended") {
            let number = |part: Option<&str>| part.and_then(|p| p.parse().ok()).unwrap_or(0);
            let code = number(parts.next());
            let unread = number(parts.next()) as usize;
            output.wait_drained();
            if ended.send(Line::Ended { code, unread }).is_err() {
                return;
            }
        } else if answers.send(line).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::Exchange;
    use crate::protocol::Request;
    use std::process::Command;

    /// A stand-in for `lifecycle trace --serve` and its adapter in one
    /// Python program: it answers the handshake, then each `fork` as
    /// `how` says, the copy being itself.
    const STAND_IN: &str = r#"
import json, socket, sys
control = socket.socket(socket.AF_UNIX)
control.connect(sys.argv[1])
told = control.makefile("rw")
how = sys.argv[2]
def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
def tell(line):
    told.write(line + "\n")
    told.flush()
json.loads(sys.stdin.readline())
say('{"cmd":"start","version":1,"implementation":{"name":"stand-in","language":"python"},"capabilities":["store"]}')
while told.readline():
    if how == "refused":
        tell("refused\tno copies here")
        continue
    tell("forked")
    request = json.loads(sys.stdin.readline())
    if how == "dies":
        tell("ended\t137\t0")
        continue
    say(json.dumps({"seq": request["seq"], "result": {}}))
    if how == "says more":
        say("one line too many")
    sys.stdin.readline()
    tell("ended\t0\t0")
"#;

    fn python() -> bool {
        let found = Command::new("python3").arg("-V").output().is_ok();
        if !found {
            eprintln!("skipped: python3 is not installed");
        }
        found
    }

    fn template(dir: &Path, how: &str) -> Template {
        let script = dir.join("stand_in.py");
        std::fs::write(&script, STAND_IN).expect("written");
        let socket = dir.join("control");
        let config = Config {
            launch: Launch::Command(format!(
                "python3 {} {} '{how}'",
                script.display(),
                socket.display()
            )),
            timeout: Duration::from_secs(5),
            umask: None,
        };
        Template::start(config, &socket).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A copy of `template` asked to save: it and what it answered.
    fn saved_by_a_copy(template: &mut Template, dir: &Path) -> (Adapter, Exchange) {
        let mut copy = template
            .fork(dir, &dir.join("t"), "-")
            .unwrap_or_else(|e| panic!("{e}"));
        let save = Request::new("save").text("path", "/nowhere/lifecycle_state.json");
        let answered = copy.ask(&save);
        (copy, answered)
    }

    #[test]
    fn copy_after_copy_answers_and_leaves_the_template_usable() {
        if !python() {
            return;
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut template = template(dir.path(), "answers");
        for _ in 0..3 {
            let (copy, answered) = saved_by_a_copy(&mut template, dir.path());
            assert!(matches!(answered, Exchange::Reply(_)));
            copy.finish(Duration::from_secs(5));
            assert!(template.usable());
        }
    }

    #[test]
    fn a_copy_that_dies_is_an_adapter_that_died_and_the_template_goes_on() {
        if !python() {
            return;
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut template = template(dir.path(), "dies");
        let (copy, answered) = saved_by_a_copy(&mut template, dir.path());
        let Exchange::Fault(fault) = answered else {
            panic!("a copy that died answered");
        };
        assert!(fault.to_string().contains("exit status: 137"), "{fault}");
        assert!(copy.only_died());
        copy.finish(Duration::from_secs(5));
        assert!(template.usable());
    }

    #[test]
    fn a_copy_that_says_more_than_its_reply_or_a_refusal_ends_the_template() {
        if !python() {
            return;
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut template = template_of(dir.path(), "says more");
        let (copy, answered) = saved_by_a_copy(&mut template, dir.path());
        assert!(matches!(answered, Exchange::Reply(_)));
        copy.finish(Duration::from_secs(5));
        assert!(!template.usable());

        let mut template = template_of(dir.path(), "refused");
        let refused = template.fork(dir.path(), &dir.path().join("t"), "-");
        assert_eq!(refused.err().as_deref(), Some("no copies here"));
        assert_eq!(template.refused(), Some("no copies here"));
        assert!(!template.usable());
    }

    #[test]
    fn the_output_is_drained_once_its_reader_has_handed_on_every_line_written() {
        let (pipe, mut writer) = std::io::pipe().expect("a pipe");
        let output = Output {
            waiting: pipe
                .as_fd()
                .try_clone_to_owned()
                .expect("a second descriptor"),
            handed: Arc::default(),
        };
        assert!(output.drained(), "nothing was written");
        writer.write_all(b"a copy's last line\n").expect("written");
        // Waiting in the pipe, or read and not yet taken: not drained.
        assert!(!output.drained());
        let (tx, lines) = mpsc::sync_channel(0);
        let handed = Arc::clone(&output.handed);
        thread::spawn(move || read_lines_counted(pipe, &tx, &handed));
        thread::sleep(Duration::from_millis(50));
        assert!(!output.drained(), "the line was not taken");
        assert!(matches!(
            lines.recv_timeout(Duration::from_secs(5)),
            Ok(Line::Text(text)) if text == "a copy's last line"
        ));
        output.wait_drained();
        assert!(output.drained());
    }

    fn template_of(dir: &Path, how: &str) -> Template {
        let own = dir.join(how.replace(' ', "_"));
        std::fs::create_dir_all(&own).expect("made");
        template(&own, how)
    }
}
