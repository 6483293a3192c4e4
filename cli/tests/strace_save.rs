//! The save protocol of SPEC §3.3, observed from outside with `strace`.
//!
//! One `lifecycle save PATH` runs under
//! `strace -f -e trace=openat,open,creat,write,pwrite64,pwritev,fsync,fdatasync,
//! rename,renameat,renameat2,close` over a directory that already holds an old
//! record. The trace is parsed into system calls, file descriptors are followed
//! from the `openat` results to the paths they were opened by, and each test
//! below asserts one part of the protocol's order on that one trace.
//!
//! `strace` is required: without it every test fails and says how to install
//! it (CI runs `apt-get install -y strace`). Nothing is skipped.

use std::collections::HashMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const TRACED: &str =
    "openat,open,creat,write,pwrite64,pwritev,fsync,fdatasync,rename,renameat,renameat2,close";
const RECORD_NAME: &str = "lifecycle_state.json";

/// The record on disk before the save.
const OLD_RECORD: &str = concat!(
    r#"{"current_state":"WAKE","since_ts":"2024-03-01T08:00:00Z","#,
    r#""last_activity_ts":"2024-03-01T08:00:00Z","wrapper_event_seq":41,"#,
    r#""sleep_cycle_progress":null,"quarantine":null,"shadow_run":false}"#,
    "\n"
);

/// The record piped into `lifecycle save` (already in the §3.2 form).
const NEW_RECORD: &str = concat!(
    r#"{"current_state":"SLEEP","since_ts":"2024-03-01T09:30:00.123456Z","#,
    r#""last_activity_ts":"2024-03-01T09:05:12Z","wrapper_event_seq":42,"#,
    r#""sleep_cycle_progress":{"last_completed_step":2,"attempt":1,"last_error":null,"#,
    r#""started_at":"2024-03-01T09:30:00Z"},"#,
    r#""quarantine":{"until_ts":"2024-03-02T09:30:00Z","since_ts":"2024-03-01T09:30:00Z","#,
    r#""reason":"sleep step 3 failed 3x: \"disk full\""},"#,
    r#""shadow_run":true,"x_note":[1,2.50,{"é":null}]}"#,
    "\n"
);

// ---------------------------------------------------------------------------
// Running the save under strace
// ---------------------------------------------------------------------------

/// Everything the tests look at, produced by one traced save.
struct Traced {
    dir: PathBuf,
    target: PathBuf,
    expected: Vec<u8>,
    calls: Vec<Call>,
    /// The trace, decoded, for failure messages.
    listing: String,
    after_bytes: Vec<u8>,
    after_mode: u32,
    after_entries: Vec<String>,
}

fn traced() -> &'static Traced {
    static TRACED_SAVE: OnceLock<Result<Traced, String>> = OnceLock::new();
    match TRACED_SAVE.get_or_init(run_traced_save) {
        Ok(t) => t,
        Err(message) => panic!("{message}"),
    }
}

fn run_traced_save() -> Result<Traced, String> {
    match Command::new("strace").arg("-V").output() {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err("strace is not installed, and this test needs it: \
                 run `apt-get install -y strace` (CI installs it)"
                .to_string())
        }
        Err(e) => return Err(format!("could not run `strace -V`: {e}")),
        Ok(out) if !out.status.success() => {
            return Err(format!(
                "`strace -V` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
        Ok(_) => {}
    }

    let expected = lifecycle_state::encode(
        &lifecycle_state::decode(NEW_RECORD.as_bytes())
            .map_err(|e| format!("the test's NEW_RECORD is not valid: {e}"))?,
    );
    let guard = tempfile::Builder::new()
        .prefix("strace_save.")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .map_err(|e| format!("tempdir: {e}"))?;
    let base = guard
        .path()
        .canonicalize()
        .map_err(|e| format!("canonicalize: {e}"))?;
    let dir = base.join("state");
    fs::create_dir(&dir).map_err(|e| format!("mkdir: {e}"))?;
    let target = dir.join(RECORD_NAME);
    fs::write(&target, OLD_RECORD).map_err(|e| format!("writing the old record: {e}"))?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("chmod: {e}"))?;
    // The trace file lives outside the record's directory.
    let trace_file = base.join("trace.txt");

    let mut child = Command::new("strace")
        .arg("-f")
        .arg("-o")
        .arg(&trace_file)
        // Every string in hex and in full, so paths and written bytes decode exactly.
        .args(["-xx", "-s", "2097152"])
        .arg("-e")
        .arg(format!("trace={TRACED}"))
        .arg(env!("CARGO_BIN_EXE_lifecycle"))
        .arg("save")
        .arg(&target)
        .current_dir(&base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start strace: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(NEW_RECORD.as_bytes())
        .map_err(|e| format!("writing the record to stdin: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for strace: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let trace = fs::read_to_string(&trace_file).unwrap_or_default();
    if stderr.contains("ptrace") || (trace.is_empty() && !out.status.success()) {
        return Err(format!(
            "strace could not trace the process (is ptrace restricted here, e.g. a \
             container without CAP_SYS_PTRACE or seccomp, or kernel.yama.ptrace_scope?): \
             status {}, stderr:\n{stderr}",
            out.status
        ));
    }
    if !out.status.success() {
        return Err(format!(
            "`lifecycle save` under strace failed: status {}, stderr:\n{stderr}\ntrace:\n{trace}",
            out.status
        ));
    }

    let calls = parse_trace(&trace, &base)?;
    let listing = calls
        .iter()
        .map(|c| format!("  #{:<3} {}", c.index, c.describe()))
        .collect::<Vec<_>>()
        .join("\n");
    let after_bytes = fs::read(&target).map_err(|e| format!("reading the record: {e}"))?;
    let after_mode = fs::symlink_metadata(&target)
        .map_err(|e| format!("stat of the record: {e}"))?
        .permissions()
        .mode()
        & 0o7777;
    let mut after_entries: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("listing the directory: {e}"))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("listing the directory: {e}"))?;
    after_entries.sort();
    // Everything the tests need is in memory now; the statics holding it are
    // never dropped, so remove the directory here.
    guard
        .close()
        .map_err(|e| format!("removing the tempdir: {e}"))?;

    Ok(Traced {
        dir,
        target,
        expected,
        calls,
        listing,
        after_bytes,
        after_mode,
        after_entries,
    })
}

// ---------------------------------------------------------------------------
// The trace as system calls, with file descriptors followed to paths
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Kind {
    /// `openat`, `open` or `creat` that returned `fd`.
    Open {
        syscall: String,
        path: PathBuf,
        flags: Vec<String>,
        mode: Option<u32>,
        fd: i64,
    },
    /// `write`, `pwrite64` or `pwritev`; `offset` is `None` for `write`.
    Write {
        syscall: String,
        fd: i64,
        path: Option<PathBuf>,
        offset: Option<u64>,
        data: Vec<u8>,
    },
    /// `fsync` or `fdatasync`.
    Sync {
        syscall: String,
        fd: i64,
        path: Option<PathBuf>,
    },
    Close {
        fd: i64,
        path: Option<PathBuf>,
    },
    /// `rename`, `renameat` or `renameat2`.
    Rename {
        syscall: String,
        from: PathBuf,
        to: PathBuf,
    },
    /// A traced call that failed, or one this parser does not interpret.
    Other,
}

#[derive(Debug, Clone)]
struct Call {
    index: usize,
    /// The return value; `None` when strace printed `?`.
    ret: Option<i64>,
    kind: Kind,
    line: String,
}

impl Call {
    fn ok(&self) -> bool {
        self.ret.is_some_and(|r| r >= 0)
    }

    fn describe(&self) -> String {
        let ret = self.ret.map_or("?".to_string(), |r| r.to_string());
        let p = |p: &Option<PathBuf>| p.as_ref().map_or("?".into(), |p| p.display().to_string());
        match &self.kind {
            Kind::Open {
                syscall,
                path,
                flags,
                mode,
                fd,
            } => format!(
                "{syscall}({}, {}{}) = {fd}",
                path.display(),
                flags.join("|"),
                mode.map_or(String::new(), |m| format!(", {m:04o}"))
            ),
            Kind::Write {
                syscall,
                fd,
                path,
                offset,
                data,
            } => format!(
                "{syscall}({fd} -> {}, {} bytes{}) = {ret}",
                p(path),
                data.len(),
                offset.map_or(String::new(), |o| format!(" at {o}"))
            ),
            Kind::Sync { syscall, fd, path } => format!("{syscall}({fd} -> {}) = {ret}", p(path)),
            Kind::Close { fd, path } => format!("close({fd} -> {}) = {ret}", p(path)),
            Kind::Rename { syscall, from, to } => {
                format!("{syscall}({} -> {}) = {ret}", from.display(), to.display())
            }
            Kind::Other => format!("{} [raw]", self.line),
        }
    }
}

/// Parses an `strace -f -xx` trace. Relative paths are resolved against
/// `cwd` (the traced process's working directory) or against the directory
/// the `dirfd` was opened as.
fn parse_trace(trace: &str, cwd: &Path) -> Result<Vec<Call>, String> {
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut lines = Vec::new();
    for raw in trace.lines() {
        let (pid, rest) = split_pid(raw);
        let rest = rest.trim_start();
        if rest.starts_with("+++") || rest.starts_with("---") || rest.is_empty() {
            continue;
        }
        if let Some(head) = rest.strip_suffix("<unfinished ...>") {
            pending.insert(pid.to_string(), head.trim_end().to_string());
            continue;
        }
        if let Some(resumed) = rest.strip_prefix("<... ") {
            let tail = resumed
                .split_once(" resumed>")
                .map(|(_, t)| t)
                .ok_or_else(|| format!("unexpected resumed line: {raw}"))?;
            let head = pending
                .remove(pid)
                .ok_or_else(|| format!("resumed line without its start: {raw}"))?;
            lines.push(format!("{head}{tail}"));
            continue;
        }
        lines.push(rest.to_string());
    }

    // fd -> the path it was opened by (all traced calls are from one process;
    // `-f` only matters if the CLI ever starts threads, which share the table).
    let mut fds: HashMap<i64, PathBuf> = HashMap::new();
    let mut calls = Vec::new();
    for (index, line) in lines.into_iter().enumerate() {
        let (name, args, ret) =
            split_call(&line).ok_or_else(|| format!("cannot parse trace line: {line}"))?;
        let fd_of = |s: &str| -> Result<i64, String> {
            s.trim()
                .parse()
                .map_err(|_| format!("bad fd {s:?} in: {line}"))
        };
        let dir_of = |fds: &HashMap<i64, PathBuf>, dirfd: &str| -> Result<PathBuf, String> {
            if dirfd.trim() == "AT_FDCWD" {
                Ok(cwd.to_path_buf())
            } else {
                fds.get(&fd_of(dirfd)?)
                    .cloned()
                    .ok_or_else(|| format!("unknown dirfd {dirfd} in: {line}"))
            }
        };
        let failed = ret.is_none_or(|r| r < 0);
        let kind = match name.as_str() {
            "openat" | "open" | "creat" if !failed => {
                let (path, flags, mode) = match name.as_str() {
                    "openat" => (
                        resolve(&dir_of(&fds, &args[0])?, &string_arg(&args[1])?),
                        args[2].clone(),
                        args.get(3),
                    ),
                    "open" => (
                        resolve(cwd, &string_arg(&args[0])?),
                        args[1].clone(),
                        args.get(2),
                    ),
                    _ => (
                        resolve(cwd, &string_arg(&args[0])?),
                        "O_WRONLY|O_CREAT|O_TRUNC".to_string(),
                        args.get(1),
                    ),
                };
                let mode = mode
                    .map(|m| {
                        u32::from_str_radix(m.trim(), 8).map_err(|_| format!("bad mode in: {line}"))
                    })
                    .transpose()?;
                let fd = ret.expect("checked above");
                fds.insert(fd, path.clone());
                Kind::Open {
                    syscall: name.clone(),
                    path,
                    flags: flags.split('|').map(|f| f.trim().to_string()).collect(),
                    mode,
                    fd,
                }
            }
            "write" | "pwrite64" | "pwritev" => {
                let fd = fd_of(&args[0])?;
                let (data, offset) = match name.as_str() {
                    "write" => (string_arg(&args[1])?, None),
                    "pwrite64" => (string_arg(&args[1])?, Some(number(&args[3], &line)?)),
                    _ => (iovec_data(&args[1])?, Some(number(&args[3], &line)?)),
                };
                // Only what the kernel accepted counts.
                let accepted = ret.map_or(0, |r| r.max(0) as usize).min(data.len());
                Kind::Write {
                    syscall: name.clone(),
                    fd,
                    path: fds.get(&fd).cloned(),
                    offset,
                    data: data[..accepted].to_vec(),
                }
            }
            "fsync" | "fdatasync" => {
                let fd = fd_of(&args[0])?;
                Kind::Sync {
                    syscall: name.clone(),
                    fd,
                    path: fds.get(&fd).cloned(),
                }
            }
            "close" => {
                let fd = fd_of(&args[0])?;
                // Even a failed close releases the descriptor on Linux.
                Kind::Close {
                    fd,
                    path: fds.remove(&fd),
                }
            }
            "rename" | "renameat" | "renameat2" if !failed => {
                let (from, to) = if name == "rename" {
                    (
                        resolve(cwd, &string_arg(&args[0])?),
                        resolve(cwd, &string_arg(&args[1])?),
                    )
                } else {
                    (
                        resolve(&dir_of(&fds, &args[0])?, &string_arg(&args[1])?),
                        resolve(&dir_of(&fds, &args[2])?, &string_arg(&args[3])?),
                    )
                };
                Kind::Rename {
                    syscall: name.clone(),
                    from,
                    to,
                }
            }
            _ => Kind::Other,
        };
        calls.push(Call {
            index,
            ret,
            kind,
            line,
        });
    }
    Ok(calls)
}

/// `"1234  rest"` -> `("1234", "rest")`; lines without a pid get `""`.
fn split_pid(line: &str) -> (&str, &str) {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(' ') {
        (&line[..digits], &line[digits..])
    } else {
        ("", line)
    }
}

/// `name(a, b, c) = ret ...` -> (name, [a, b, c], ret).
fn split_call(line: &str) -> Option<(String, Vec<String>, Option<i64>)> {
    let open = line.find('(')?;
    let name = line[..open].trim().to_string();
    let body = &line[open + 1..];
    let mut args = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in body.char_indices() {
        if in_string {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                current.push(c);
            }
            '(' | '[' | '{' => {
                depth += 1;
                current.push(c);
            }
            ')' if depth == 0 => {
                end = Some(i);
                break;
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' if depth == 0 => args.push(std::mem::take(&mut current).trim().to_string()),
            _ => current.push(c),
        }
    }
    let end = end?;
    if !current.trim().is_empty() || !args.is_empty() {
        args.push(current.trim().to_string());
    }
    let after = body[end + 1..].trim_start();
    let ret_text = after.strip_prefix('=')?.split_whitespace().next()?;
    let ret = if ret_text == "?" {
        None
    } else if let Some(hex) = ret_text.strip_prefix("0x") {
        Some(i64::from_str_radix(hex, 16).ok()?)
    } else {
        Some(ret_text.parse().ok()?)
    };
    Some((name, args, ret))
}

fn number(text: &str, line: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("bad number {text:?} in: {line}"))
}

/// Decodes one strace string literal; a truncated one (`"..."...`) is an error.
fn string_arg(text: &str) -> Result<Vec<u8>, String> {
    let (bytes, rest) = decode_literal(text.trim())?;
    if !rest.trim().is_empty() {
        return Err(format!(
            "string argument truncated or followed by {rest:?}: {text}"
        ));
    }
    Ok(bytes)
}

/// The concatenated `iov_base` strings of a `pwritev` iovec array.
fn iovec_data(text: &str) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("iov_base=") {
        let (bytes, after) = decode_literal(&rest[at + "iov_base=".len()..])?;
        if after.starts_with("...") {
            return Err(format!("iovec truncated: {text}"));
        }
        data.extend(bytes);
        rest = after;
    }
    Ok(data)
}

/// Decodes the string literal at the start of `text`; returns it and what follows.
fn decode_literal(text: &str) -> Result<(Vec<u8>, &str), String> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'"') {
        return Err(format!("not a string literal: {text}"));
    }
    let mut out = Vec::new();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Ok((out, &text[i + 1..])),
            b'\\' => {
                let c = *bytes
                    .get(i + 1)
                    .ok_or_else(|| format!("dangling escape: {text}"))?;
                i += 2;
                match c {
                    b'x' => {
                        let hex = text
                            .get(i..i + 2)
                            .ok_or_else(|| format!("short \\x escape: {text}"))?;
                        out.push(
                            u8::from_str_radix(hex, 16)
                                .map_err(|_| format!("bad \\x escape: {text}"))?,
                        );
                        i += 2;
                    }
                    b'0'..=b'7' => {
                        let mut value = u32::from(c - b'0');
                        let mut n = 1;
                        while n < 3 && i < bytes.len() && (b'0'..=b'7').contains(&bytes[i]) {
                            value = value * 8 + u32::from(bytes[i] - b'0');
                            i += 1;
                            n += 1;
                        }
                        out.push(value as u8);
                    }
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'v' => out.push(0x0b),
                    b'f' => out.push(0x0c),
                    other => out.push(other),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Err(format!("unterminated string literal: {text}"))
}

/// `base` joined with `path` (bytes), with `.` components dropped.
fn resolve(base: &Path, path: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let joined = base.join(std::ffi::OsStr::from_bytes(path));
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

// ---------------------------------------------------------------------------
// What the tests ask of the trace
// ---------------------------------------------------------------------------

fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(".lifecycle_state.")
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .is_some_and(|hex| {
            hex.len() == 16
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The indices and facts of each protocol step, checked in order.
#[derive(Debug)]
struct Protocol {
    temp: PathBuf,
    temp_fd: i64,
    open_at: usize,
    last_write_at: usize,
    fsync_at: usize,
    close_at: usize,
    rename_at: usize,
    dir_open_at: usize,
    dir_fsync_at: usize,
}

impl Traced {
    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\n\ntarget: {}\ntrace (decoded):\n{}",
            self.target.display(),
            self.listing
        )
    }

    fn temp_opens(&self) -> Vec<&Call> {
        self.calls
            .iter()
            .filter(|c| match &c.kind {
                Kind::Open { path, .. } => path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(".lifecycle_state.")),
                _ => false,
            })
            .collect()
    }

    /// Walks the trace through steps 3-8 of SPEC §3.3, failing at the first
    /// step that is missing or out of order.
    fn protocol(&self) -> Protocol {
        let opens = self.temp_opens();
        if opens.len() != 1 {
            self.fail(&format!(
                "expected exactly one temp file `.lifecycle_state.*` to be opened, found {}",
                opens.len()
            ));
        }
        let open = opens[0];
        let Kind::Open {
            syscall,
            path: temp,
            flags,
            mode,
            fd: temp_fd,
        } = &open.kind
        else {
            unreachable!()
        };
        let name = temp.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !is_temp_name(name) {
            self.fail(&format!(
                "temp file {name:?} is not `.lifecycle_state.<16 lowercase hex>.tmp`"
            ));
        }
        if temp.parent() != Some(self.dir.as_path()) {
            self.fail(&format!(
                "temp file {} is not in the target's directory {}",
                temp.display(),
                self.dir.display()
            ));
        }
        if syscall != "openat" {
            self.fail(&format!(
                "temp file created with {syscall}, expected openat"
            ));
        }
        for flag in ["O_CREAT", "O_EXCL", "O_NOFOLLOW", "O_CLOEXEC"] {
            if !flags.iter().any(|f| f == flag) {
                self.fail(&format!(
                    "temp file openat lacks {flag}: flags {}",
                    flags.join("|")
                ));
            }
        }
        if !flags.iter().any(|f| f == "O_WRONLY" || f == "O_RDWR") {
            self.fail("temp file is not opened for writing");
        }
        if *mode != Some(0o600) {
            self.fail(&format!("temp file mode is {mode:?}, expected 0600"));
        }
        let open_at = open.index;
        let temp_fd = *temp_fd;
        let after = |start: usize| self.calls.iter().filter(move |c| c.index > start);

        // The temp fd's lifetime: from its open to its (first) close.
        let close = after(open_at)
            .find(|c| matches!(&c.kind, Kind::Close { fd, .. } if *fd == temp_fd))
            .unwrap_or_else(|| self.fail("the temp file's fd is never closed"));
        let close_at = close.index;
        let fsync = after(open_at)
            .take_while(|c| c.index < close_at)
            .find(|c| matches!(&c.kind, Kind::Sync { syscall, fd, .. } if syscall == "fsync" && *fd == temp_fd))
            .unwrap_or_else(|| self.fail("no fsync(temp fd) between the temp's open and its close"));
        let fsync_at = fsync.index;
        if !fsync.ok() {
            self.fail("fsync of the temp file failed");
        }

        // Writes to the temp fd, replayed into the file's content.
        let mut content: Vec<u8> = Vec::new();
        let mut position = 0u64;
        let mut last_write_at = None;
        for c in after(open_at).take_while(|c| c.index < close_at) {
            if let Kind::Write {
                fd, offset, data, ..
            } = &c.kind
            {
                if *fd != temp_fd {
                    continue;
                }
                if c.index > fsync_at {
                    self.fail(&format!(
                        "write #{} to the temp file after its fsync",
                        c.index
                    ));
                }
                let at = offset.unwrap_or(position) as usize;
                if content.len() < at + data.len() {
                    content.resize(at + data.len(), 0);
                }
                content[at..at + data.len()].copy_from_slice(data);
                if offset.is_none() {
                    position += data.len() as u64;
                }
                last_write_at = Some(c.index);
            }
        }
        let last_write_at =
            last_write_at.unwrap_or_else(|| self.fail("nothing was written to the temp file"));
        if content != self.expected {
            self.fail(&format!(
                "the temp file's writes do not add up to the whole record:\n wrote    {:?}\n expected {:?}",
                String::from_utf8_lossy(&content),
                String::from_utf8_lossy(&self.expected)
            ));
        }
        if !close.ok() {
            self.fail("close of the temp file failed");
        }

        let renames: Vec<&Call> = self
            .calls
            .iter()
            .filter(|c| matches!(c.kind, Kind::Rename { .. }))
            .collect();
        if renames.len() != 1 {
            self.fail(&format!(
                "expected exactly one rename, found {}",
                renames.len()
            ));
        }
        let rename = renames[0];
        let Kind::Rename { from, to, .. } = &rename.kind else {
            unreachable!()
        };
        if from != temp || *to != self.target {
            self.fail(&format!(
                "rename is {} -> {}, expected {} -> {}",
                from.display(),
                to.display(),
                temp.display(),
                self.target.display()
            ));
        }
        let rename_at = rename.index;
        if rename_at < close_at {
            self.fail("rename happens before the temp file is closed (SPEC §3.3 step 6)");
        }

        // After the rename: open the directory, fsync that fd (before closing it).
        let mut dir_step = None;
        for c in after(rename_at) {
            if let Kind::Open { path, fd, .. } = &c.kind {
                if *path != self.dir {
                    continue;
                }
                let dir_fd = *fd;
                let synced = after(c.index)
                    .take_while(|d| !matches!(&d.kind, Kind::Close { fd, .. } if *fd == dir_fd))
                    .find(|d| matches!(&d.kind, Kind::Sync { syscall, fd, .. } if syscall == "fsync" && *fd == dir_fd));
                if let Some(s) = synced {
                    if !s.ok() {
                        self.fail("fsync of the directory failed");
                    }
                    dir_step = Some((c.index, s.index));
                    break;
                }
            }
        }
        let (dir_open_at, dir_fsync_at) = dir_step.unwrap_or_else(|| {
            self.fail("after the rename, no openat of the directory followed by fsync of that fd")
        });

        Protocol {
            temp: temp.clone(),
            temp_fd,
            open_at,
            last_write_at,
            fsync_at,
            close_at,
            rename_at,
            dir_open_at,
            dir_fsync_at,
        }
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn the_save_creates_the_temp_in_the_target_directory_with_o_excl_o_nofollow_o_cloexec_and_mode_0600(
) {
    let t = traced();
    let p = t.protocol();
    assert_eq!(p.temp.parent(), Some(t.dir.as_path()));
    assert!(p.temp_fd >= 0);
}

#[test]
fn the_save_writes_the_whole_record_to_the_temp_then_fsyncs_it_closes_it_renames_it_over_the_target_and_fsyncs_the_directory(
) {
    let t = traced();
    let p = t.protocol();
    let order = [
        ("openat(temp, O_CREAT|O_EXCL)", p.open_at),
        ("last write to the temp", p.last_write_at),
        ("fsync(temp)", p.fsync_at),
        ("close(temp)", p.close_at),
        ("rename(temp, target)", p.rename_at),
        ("openat(directory)", p.dir_open_at),
        ("fsync(directory)", p.dir_fsync_at),
    ];
    for pair in order.windows(2) {
        if pair[0].1 >= pair[1].1 {
            t.fail(&format!(
                "protocol out of order: {} (#{}) must come before {} (#{})",
                pair[0].0, pair[0].1, pair[1].0, pair[1].1
            ));
        }
    }
}

#[test]
fn the_save_performs_exactly_two_fsyncs_and_no_fdatasync() {
    let t = traced();
    let p = t.protocol();
    let syncs: Vec<&Call> = t
        .calls
        .iter()
        .filter(|c| matches!(&c.kind, Kind::Sync { .. }))
        .collect();
    let fdatasyncs = syncs
        .iter()
        .filter(|c| matches!(&c.kind, Kind::Sync { syscall, .. } if syscall == "fdatasync"))
        .count();
    if fdatasyncs != 0 {
        t.fail(&format!("expected no fdatasync, found {fdatasyncs}"));
    }
    if syncs.len() != 2 {
        t.fail(&format!(
            "expected exactly two fsyncs, found {}",
            syncs.len()
        ));
    }
    let at: Vec<usize> = syncs.iter().map(|c| c.index).collect();
    assert_eq!(
        at,
        vec![p.fsync_at, p.dir_fsync_at],
        "the two fsyncs are the temp's and the directory's"
    );
}

#[test]
fn the_save_never_opens_the_target_for_writing_nor_writes_to_it() {
    let t = traced();
    for c in &t.calls {
        match &c.kind {
            Kind::Open {
                path, flags, fd, ..
            } if *path == t.target => {
                let writable = flags.iter().any(|f| {
                    ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"].contains(&f.as_str())
                });
                if writable {
                    t.fail(&format!(
                        "#{}: the target is opened for writing (fd {fd}): {}",
                        c.index,
                        flags.join("|")
                    ));
                }
            }
            Kind::Write {
                path: Some(path), ..
            } if *path == t.target => {
                t.fail(&format!(
                    "#{}: a write goes straight to the target",
                    c.index
                ));
            }
            _ => {}
        }
    }
}

#[test]
fn after_the_save_the_target_holds_the_new_record_with_mode_0600_and_no_temp_file_is_left() {
    let t = traced();
    assert_eq!(
        String::from_utf8_lossy(&t.after_bytes),
        String::from_utf8_lossy(&t.expected),
        "the record on disk is not the new one"
    );
    assert_ne!(
        t.after_bytes,
        OLD_RECORD.as_bytes(),
        "the old record is still there"
    );
    assert_eq!(
        t.after_mode, 0o600,
        "the record's mode is {:04o}",
        t.after_mode
    );
    let temps: Vec<&String> = t
        .after_entries
        .iter()
        .filter(|n| n.starts_with(".lifecycle_state."))
        .collect();
    assert!(temps.is_empty(), "temp files left behind: {temps:?}");
    assert_eq!(
        t.after_entries,
        vec![".lifecycle.lock".to_string(), RECORD_NAME.to_string()],
        "unexpected directory entries"
    );
}

#[test]
fn the_trace_parser_reads_strace_lines_with_plain_and_hex_escapes() {
    let cwd = Path::new("/w");
    let trace = concat!(
        "10  openat(AT_FDCWD, \"d/.lifecycle_state.0123456789abcdef.tmp\", ",
        "O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600) = 3\n",
        "10  pwrite64(3, \"\\x7b\\x22a\\\"\\n\", 5 <unfinished ...>\n",
        "11  close(9) = -1 EBADF (Bad file descriptor)\n",
        "10  <... pwrite64 resumed>, 0) = 5\n",
        "10  openat(AT_FDCWD, \"/w/d\", O_RDONLY|O_CLOEXEC) = 4\n",
        "10  renameat2(4, \".lifecycle_state.0123456789abcdef.tmp\", AT_FDCWD, \"d/x\", RENAME_NOREPLACE) = 0\n",
        "10  +++ exited with 0 +++\n",
    );
    let calls = parse_trace(trace, cwd).expect("parses");
    assert_eq!(calls.len(), 5);
    let Kind::Open {
        path,
        flags,
        mode,
        fd,
        ..
    } = &calls[0].kind
    else {
        panic!("{:?}", calls[0])
    };
    assert_eq!(
        path,
        Path::new("/w/d/.lifecycle_state.0123456789abcdef.tmp")
    );
    assert!(flags.contains(&"O_EXCL".to_string()));
    assert_eq!((*mode, *fd), (Some(0o600), 3));
    let Kind::Close { .. } = &calls[1].kind else {
        panic!("{:?}", calls[1])
    };
    assert_eq!(calls[1].ret, Some(-1));
    let Kind::Write {
        data, offset, path, ..
    } = &calls[2].kind
    else {
        panic!("{:?}", calls[2])
    };
    assert_eq!(data, b"{\"a\"\n");
    assert_eq!(*offset, Some(0));
    assert_eq!(
        path.as_deref(),
        Some(Path::new("/w/d/.lifecycle_state.0123456789abcdef.tmp"))
    );
    let Kind::Rename { from, to, .. } = &calls[4].kind else {
        panic!("{:?}", calls[4])
    };
    assert_eq!(
        from,
        Path::new("/w/d/.lifecycle_state.0123456789abcdef.tmp")
    );
    assert_eq!(to, Path::new("/w/d/x"));
}

/// A synthetic trace of a correct save, for checking that the checks bite.
const GOOD_TRACE: &str = concat!(
    "7  openat(AT_FDCWD, \"/d/.lifecycle.lock\", O_RDWR|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0600) = 3\n",
    "7  openat(AT_FDCWD, \"/d/.lifecycle_state.00112233445566ff.tmp\", ",
    "O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600) = 4\n",
    "7  pwrite64(4, \"ab\", 2, 0) = 2\n",
    "7  fsync(4) = 0\n",
    "7  close(4) = 0\n",
    "7  rename(\"/d/.lifecycle_state.00112233445566ff.tmp\", \"/d/f\") = 0\n",
    "7  openat(AT_FDCWD, \"/d\", O_RDONLY|O_CLOEXEC) = 4\n",
    "7  fsync(4) = 0\n",
    "7  close(4) = 0\n",
    "7  close(3) = 0\n",
);

fn synthetic(trace: &str) -> Traced {
    let calls = parse_trace(trace, Path::new("/")).expect("parses");
    Traced {
        dir: PathBuf::from("/d"),
        target: PathBuf::from("/d/f"),
        expected: b"ab".to_vec(),
        calls,
        listing: String::new(),
        after_bytes: Vec::new(),
        after_mode: 0,
        after_entries: Vec::new(),
    }
}

fn protocol_is_rejected(trace: &str) -> bool {
    let t = synthetic(trace);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.protocol())).is_err()
}

#[test]
fn the_protocol_checks_accept_a_correct_trace_and_reject_broken_ones() {
    let _ = synthetic(GOOD_TRACE).protocol();
    let broken = [
        // No fsync of the temp file.
        GOOD_TRACE.replacen("7  fsync(4) = 0\n", "", 1),
        // Rename before close.
        GOOD_TRACE.replace(
            "7  close(4) = 0\n7  rename(\"/d/.lifecycle_state.00112233445566ff.tmp\", \"/d/f\") = 0\n",
            "7  rename(\"/d/.lifecycle_state.00112233445566ff.tmp\", \"/d/f\") = 0\n7  close(4) = 0\n",
        ),
        // No directory fsync.
        GOOD_TRACE.replace("7  fsync(4) = 0\n7  close(4) = 0\n7  close(3)", "7  close(4) = 0\n7  close(3)"),
        // Only part of the record written.
        GOOD_TRACE.replace("\"ab\", 2, 0) = 2", "\"ab\", 2, 0) = 1"),
        // Temp without O_EXCL, and with mode 0644.
        GOOD_TRACE.replace("O_CREAT|O_EXCL|", "O_CREAT|"),
        GOOD_TRACE.replace("O_CLOEXEC, 0600) = 4", "O_CLOEXEC, 0644) = 4"),
        // Temp outside the target's directory.
        GOOD_TRACE.replace("/d/.lifecycle_state.00112233445566ff.tmp", "/e/.lifecycle_state.00112233445566ff.tmp"),
        // Rename to another name.
        GOOD_TRACE.replace("\"/d/f\") = 0", "\"/d/g\") = 0"),
    ];
    for (i, trace) in broken.iter().enumerate() {
        assert_ne!(trace, GOOD_TRACE, "mutation {i} did not change the trace");
        assert!(
            protocol_is_rejected(trace),
            "mutation {i} was accepted:\n{trace}"
        );
    }
}
