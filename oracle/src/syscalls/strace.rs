//! Reads the output file of `strace -f -y -xx -X raw -s N -o FILE`.
//!
//! Promises: [`parse`] turns every system call of the trace into one
//! [`Call`], in the order the calls were entered (a call that another
//! thread's line interrupted, `<unfinished ...>` then `<... name resumed>`,
//! is joined into one call at the place it was entered, which is also the
//! order strace counts calls in for `-e inject`; each call also says the
//! line it returned on). Strings and the paths
//! `-y` prints after a descriptor (`3</d/f>`) come back decoded to bytes;
//! integers in decimal, hex (`0x1f`) or octal (`0600`) come back as
//! numbers; structures and arrays come back as their text, which
//! [`struct_field`] and [`array_items`] read further. Lines of the tracer
//! itself (`+++ exited with 0 +++`, `--- SIGCHLD ... ---`, `+++ killed by
//! SIGKILL +++`) become [`Event`]s. A call that never resumed (its process
//! was killed in it) has an [`CallResult::Unknown`] result and the
//! arguments strace printed before it stopped.
//!
//! It is written by hand because no crate parses the output of
//! `strace -f -y -xx -X raw` into calls with decoded arguments, their
//! descriptors' paths and their `<unfinished ...>` and `<... resumed>`
//! halves joined (the `strace-parse` crate keeps each argument as
//! undecoded text).
//!
//! Does not promise: to read traces written without `-xx` (a path holding
//! `>` or `,` would be ambiguous there), with `-ff` (one file per process),
//! `-t`/`-T`/`-r` time stamps, or `-yy`; to know what any argument means
//! (that is the system-call table's job, [`super::table`]); or to tell a
//! truncated string (`"..."...`, longer than `-s`) from a complete one other
//! than by its length.

use std::fmt;

/// One system call of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Position in [`Trace::calls`]: calls are numbered in the order they
    /// were entered.
    pub index: usize,
    /// The line of the trace file (counted from 1) where the call was
    /// entered.
    pub line: usize,
    /// The line where it returned (`line` unless another thread's line came
    /// between); `None` when it never did.
    pub end_line: Option<usize>,
    /// The thread that made it (strace's `-f` prefix; 0 when absent).
    pub pid: u32,
    pub name: String,
    pub args: Vec<Arg>,
    pub result: CallResult,
}

/// One argument as strace printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// A number (`-100`, `0x80000`, `0600`); numbers above `i64::MAX` wrap,
    /// as the register holding them would.
    Int(i64),
    /// A string, decoded (`"\x61\x62"` is `ab`).
    Str(Vec<u8>),
    /// A descriptor with the path `-y` printed for it (`3</d/f>`, and
    /// `-100</cwd>` for `AT_FDCWD`); `deleted` when strace added
    /// `(deleted)`, the file having no name any more.
    Fd {
        fd: i64,
        path: Vec<u8>,
        deleted: bool,
    },
    /// A structure, `{...}`, as text.
    Struct(String),
    /// An array, `[...]`, as text.
    Array(String),
    /// Anything else (`NULL`, `child_stack=NULL`, `|0x100`, a pointer with
    /// a comment), as text.
    Other(String),
}

/// What the call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallResult {
    /// A value other than `-1 ERRNO`, with the path `-y` printed when the
    /// value is a descriptor (`= 3</d/f>`).
    Ok { value: i64, path: Option<Vec<u8>> },
    /// `-1 ENOENT (...)`, or `? ERESTARTSYS (...)` for a call a signal
    /// interrupted (the kernel runs it again as a new call).
    Err { errno: String },
    /// `= ?`, or a call that never resumed: whether it took effect is not
    /// known.
    Unknown,
}

impl CallResult {
    /// The returned value, when the call succeeded.
    pub fn value(&self) -> Option<i64> {
        match self {
            CallResult::Ok { value, .. } => Some(*value),
            _ => None,
        }
    }
}

/// A line of the tracer about a process rather than a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub line: usize,
    pub pid: u32,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `+++ exited with N +++`
    Exited(i64),
    /// `+++ killed by SIGNAME +++` (`(core dumped)` dropped).
    Killed(String),
    /// `--- SIGNAME {...} ---`: a signal delivered, the text between the
    /// dashes.
    Signal(String),
    /// Any other `+++ ... +++` line (`superseded by execve in pid N`).
    Note(String),
}

/// A parsed trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    pub calls: Vec<Call>,
    pub events: Vec<Event>,
}

/// A line the parser cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Counted from 1.
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} of the strace output: {}",
            self.line, self.reason
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses a whole trace file.
///
/// A file that does not end with a newline was cut short: strace, killed
/// while a process was in a call (a shell of a pipeline in `wait4`, when
/// the adapter's process group is killed), leaves that call's line as far
/// as it had written it. A last line that does not parse as it is then
/// reads as a call entered and never finished.
pub fn parse(text: &str) -> Result<Trace, ParseError> {
    let mut parser = Parser::default();
    let cut_short = !text.is_empty() && !text.ends_with('\n');
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let parsed = if cut_short && lines.peek().is_none() {
            let mut whole = parser.clone();
            match whole.line(i + 1, line) {
                Ok(()) => {
                    parser = whole;
                    Ok(())
                }
                Err(reason) => parser
                    .line(i + 1, &format!("{} {UNFINISHED}", line.trim_end()))
                    .map_err(|_| reason),
            }
        } else {
            parser.line(i + 1, line)
        };
        parsed.map_err(|reason| ParseError {
            line: i + 1,
            reason,
        })?;
    }
    Ok(parser.finish())
}

const UNFINISHED: &str = "<unfinished ...>";

/// A call entered but not yet resumed.
#[derive(Clone)]
struct Pending {
    slot: usize,
    line: usize,
    name: String,
    /// The call's text so far, from its name to before `<unfinished ...>`.
    head: String,
}

#[derive(Default, Clone)]
struct Parser {
    /// One slot per call entered, filled when the call is complete.
    slots: Vec<Option<Call>>,
    pending: Vec<(u32, Pending)>,
    events: Vec<Event>,
}

impl Parser {
    fn line(&mut self, number: usize, line: &str) -> Result<(), String> {
        let (pid, rest) = split_pid(line);
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(());
        }
        if let Some(kind) = event(rest) {
            self.events.push(Event {
                line: number,
                pid,
                kind,
            });
            return Ok(());
        }
        if let Some(after) = rest.strip_prefix("<... ") {
            return self.resumed(number, pid, after);
        }
        let name = call_name(rest).ok_or_else(|| format!("not a system call: {}", clip(rest)))?;
        let slot = self.slots.len();
        self.slots.push(None);
        if let Some(head) = rest.trim_end().strip_suffix(UNFINISHED) {
            self.pending.push((
                pid,
                Pending {
                    slot,
                    line: number,
                    name: name.to_string(),
                    head: head.to_string(),
                },
            ));
            return Ok(());
        }
        let call = complete_call(slot, (number, number), pid, name, rest)?;
        self.slots[slot] = Some(call);
        Ok(())
    }

    /// `<... name resumed>rest`: the rest of a call this thread entered
    /// earlier.
    fn resumed(&mut self, number: usize, pid: u32, after: &str) -> Result<(), String> {
        let (name, tail) = after
            .split_once(" resumed>")
            .ok_or_else(|| format!("a resumed call without its name: {}", clip(after)))?;
        let at = self
            .pending
            .iter()
            .position(|(p, pending)| *p == pid && pending.name == name)
            .ok_or_else(|| format!("{name} resumed in process {pid}, which never entered it"))?;
        let (_, mut pending) = self.pending.remove(at);
        pending.head.push_str(tail);
        if let Some(head) = pending.head.trim_end().strip_suffix(UNFINISHED) {
            pending.head = head.to_string();
            self.pending.push((pid, pending));
            return Ok(());
        }
        let lines = (pending.line, number);
        let call = complete_call(pending.slot, lines, pid, name, &pending.head)?;
        self.slots[pending.slot] = Some(call);
        Ok(())
    }

    /// Calls still unfinished at the end of the trace never returned.
    fn finish(mut self) -> Trace {
        for (pid, pending) in std::mem::take(&mut self.pending) {
            let open = &pending.head[pending.name.len()..];
            let inner = open.strip_prefix('(').unwrap_or(open);
            self.slots[pending.slot] = Some(Call {
                index: pending.slot,
                line: pending.line,
                end_line: None,
                pid,
                name: pending.name,
                args: args(inner),
                result: CallResult::Unknown,
            });
        }
        Trace {
            calls: self.slots.into_iter().flatten().collect(),
            events: self.events,
        }
    }
}

/// `12345  rest` → (12345, rest); a line without a pid is process 0.
fn split_pid(line: &str) -> (u32, &str) {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !line[digits..].starts_with([' ', '\t']) {
        return (0, line);
    }
    match line[..digits].parse() {
        Ok(pid) => (pid, &line[digits..]),
        Err(_) => (0, line),
    }
}

fn event(rest: &str) -> Option<EventKind> {
    if let Some(inner) = rest
        .strip_prefix("+++ ")
        .and_then(|r| r.trim_end().strip_suffix(" +++"))
    {
        if let Some(code) = inner.strip_prefix("exited with ") {
            if let Ok(code) = code.trim().parse() {
                return Some(EventKind::Exited(code));
            }
        }
        if let Some(signal) = inner.strip_prefix("killed by ") {
            let signal = signal.trim_end_matches(" (core dumped)");
            return Some(EventKind::Killed(signal.to_string()));
        }
        return Some(EventKind::Note(inner.to_string()));
    }
    rest.strip_prefix("--- ")
        .and_then(|r| r.trim_end().strip_suffix(" ---"))
        .map(|inner| EventKind::Signal(inner.to_string()))
}

/// The name before `(`, when the line starts with one.
fn call_name(rest: &str) -> Option<&str> {
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'?')
        .count();
    (len > 0 && rest[len..].starts_with('(')).then(|| &rest[..len])
}

/// `name(args) = result`, entered and returned on `lines`.
fn complete_call(
    index: usize,
    lines: (usize, usize),
    pid: u32,
    name: &str,
    text: &str,
) -> Result<Call, String> {
    let open = name.len();
    if !text[open..].starts_with('(') {
        return Err(format!("{name} without its arguments"));
    }
    let close = closing_paren(text, open)
        .ok_or_else(|| format!("the arguments of {name} never close: {}", clip(text)))?;
    let result_text = text[close + 1..].trim_start();
    let result_text = result_text
        .strip_prefix('=')
        .ok_or_else(|| format!("{name} without a result: {}", clip(&text[close + 1..])))?;
    Ok(Call {
        index,
        line: lines.0,
        end_line: Some(lines.1),
        pid,
        name: name.to_string(),
        args: args(&text[open + 1..close]),
        result: result(result_text.trim())?,
    })
}

/// The byte offset of the `)` matching the `(` at `open`.
fn closing_paren(text: &str, open: usize) -> Option<usize> {
    let mut scan = Scanner::new(&text[open..]);
    while let Some((at, b)) = scan.next_outside() {
        if at > 0 && scan.depth == 0 && b == b')' {
            return Some(open + at);
        }
    }
    None
}

/// Walks text, keeping track of strings, `<...>` annotations and bracket
/// depth, so commas and brackets inside them are not taken for structure.
struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            bytes: text.as_bytes(),
            at: 0,
            depth: 0,
        }
    }

    /// The next byte that is not inside a string or an annotation, with its
    /// offset; brackets update the depth as they pass.
    fn next_outside(&mut self) -> Option<(usize, u8)> {
        while self.at < self.bytes.len() {
            let at = self.at;
            let b = self.bytes[at];
            self.at += 1;
            match b {
                b'"' => self.skip_string(),
                b'<' => self.skip_to(b'>'),
                b'(' | b'[' | b'{' => {
                    self.depth += 1;
                    return Some((at, b));
                }
                b')' | b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    return Some((at, b));
                }
                _ => return Some((at, b)),
            }
        }
        None
    }

    fn skip_string(&mut self) {
        self.at = closing_quote(self.bytes, self.at).map_or(self.bytes.len(), |end| end + 1);
    }

    fn skip_to(&mut self, end: u8) {
        while self.at < self.bytes.len() {
            let b = self.bytes[self.at];
            self.at += 1;
            if b == end {
                return;
            }
        }
    }
}

/// Splits a comma-separated list at depth 0.
fn split_top(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut scan = Scanner::new(text);
    let mut start = 0;
    while let Some((at, b)) = scan.next_outside() {
        if b == b',' && scan.depth == 0 {
            items.push(text[start..at].trim());
            start = at + 1;
        }
    }
    // Empty after the last comma: a call cut off by `<unfinished ...>`.
    let last = text[start..].trim();
    if !last.is_empty() {
        items.push(last);
    }
    items
}

fn args(text: &str) -> Vec<Arg> {
    split_top(text).into_iter().map(arg).collect()
}

/// One argument's text as an [`Arg`].
pub fn arg(text: &str) -> Arg {
    let text = text.trim();
    if text.starts_with('"') {
        if let Some((bytes, rest)) = string(text) {
            if rest.is_empty() || rest == "..." {
                return Arg::Str(bytes);
            }
        }
    }
    if let Some(fd) = descriptor(text) {
        return fd;
    }
    if let Some(value) = integer(text) {
        return Arg::Int(value);
    }
    if text.starts_with('{') && text.ends_with('}') {
        return Arg::Struct(text.to_string());
    }
    if text.starts_with('[') && text.ends_with(']') {
        return Arg::Array(text.to_string());
    }
    Arg::Other(text.to_string())
}

/// `3</d/f>`, `3</d/f>(deleted)`, `-100</cwd>`, `AT_FDCWD</cwd>`.
fn descriptor(text: &str) -> Option<Arg> {
    let open = text.find('<')?;
    let (number, annotated) = text.split_at(open);
    let fd = match number {
        "AT_FDCWD" => -100,
        n => integer(n)?,
    };
    let close = annotated.find('>')?;
    let after = &annotated[close + 1..];
    let deleted = match after {
        "" => false,
        "(deleted)" => true,
        _ => return None,
    };
    Some(Arg::Fd {
        fd,
        path: decode(&annotated[1..close]),
        deleted,
    })
}

/// Decimal, `0x` hex, `0`-led octal, with an optional `-`.
pub fn integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<u64>().ok()?
    } else {
        return None;
    };
    // Wraps as the register does: 0xffffffffffffffff is -1.
    let value = magnitude as i64;
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// A quoted string at the start of `text`: its bytes and what follows it.
fn string(text: &str) -> Option<(Vec<u8>, &str)> {
    let end = closing_quote(text.as_bytes(), 1)?;
    Some((decode(&text[1..end]), text[end + 1..].trim()))
}

/// The offset of the quote that ends the string whose text starts at
/// `start` in `bytes` (just after its opening quote): the first quote
/// not escaped, that is, not after an odd number of backslashes. A
/// trace's strings are most of its bytes (`-xx` writes every byte of a
/// buffer as `\xNN`), so they are skipped a memchr at a time.
fn closing_quote(bytes: &[u8], start: usize) -> Option<usize> {
    let mut from = start;
    loop {
        let quote = from + memchr::memchr(b'"', bytes.get(from..)?)?;
        let backslashes = bytes[start..quote]
            .iter()
            .rev()
            .take_while(|b| **b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(quote);
        }
        from = quote + 1;
    }
}

/// Undoes strace's escapes: `\xNN`, octal `\NNN`, `\n` `\t` `\r` `\v` `\f`
/// and a backslash before any other byte.
pub fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        // Every `\xNN`, a run at a time: `-xx` writes each byte of a
        // buffer so.
        while let [b'\\', b'x', high, low, ..] = bytes[at..] {
            match (nibble(high), nibble(low)) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    at += 4;
                }
                _ => break,
            }
        }
        let Some(&b) = bytes.get(at) else {
            break;
        };
        if b != b'\\' || at + 1 == bytes.len() {
            out.push(b);
            at += 1;
            continue;
        }
        // A `\x` here has no two hex digits after it (the loop above took
        // each that has): it is an `x` escaped.
        let next = bytes[at + 1];
        if next.is_ascii_digit() && next < b'8' {
            let len = bytes[at + 1..]
                .iter()
                .take(3)
                .take_while(|d| (b'0'..b'8').contains(d))
                .count();
            let digits = &text[at + 1..at + 1 + len];
            let value = u32::from_str_radix(digits, 8).unwrap_or(0);
            out.push((value & 0xff) as u8);
            at += 1 + len;
            continue;
        }
        out.push(match next {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'v' => 0x0b,
            b'f' => 0x0c,
            other => other,
        });
        at += 2;
    }
    out
}

/// The value of one hex digit.
fn nibble(digit: u8) -> Option<u8> {
    let value = NIBBLES[usize::from(digit)];
    (value != NOT_HEX).then_some(value)
}

const NOT_HEX: u8 = 0xff;

/// Each byte's value as a hex digit, or [`NOT_HEX`]: a table lookup
/// where three ranges took three branches (decoding is most of parsing).
static NIBBLES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut at = 0;
    while at < 10 {
        table[b'0' as usize + at] = at as u8;
        at += 1;
    }
    let mut at = 0;
    while at < 6 {
        table[b'a' as usize + at] = 10 + at as u8;
        table[b'A' as usize + at] = 10 + at as u8;
        at += 1;
    }
    table
};

/// `-1 ENOENT (text)`, `3</d/f>`, `0x1 (flags 0x1)`, `?`,
/// `? ERESTARTSYS (text)`.
fn result(text: &str) -> Result<CallResult, String> {
    if let Some(rest) = text.strip_prefix('?') {
        return Ok(match errno_name(rest.trim_start()) {
            Some(errno) => CallResult::Err { errno },
            None => CallResult::Unknown,
        });
    }
    let token = text.split_whitespace().next().unwrap_or("");
    let rest = text[token.len()..].trim_start();
    if token == "-1" && !rest.is_empty() {
        // `-1 (errno 512)` when strace has no name for the number.
        let errno = errno_name(rest).unwrap_or_else(|| rest.to_string());
        return Ok(CallResult::Err { errno });
    }
    match arg(token) {
        Arg::Int(value) => Ok(CallResult::Ok { value, path: None }),
        Arg::Fd { fd, path, .. } => Ok(CallResult::Ok {
            value: fd,
            path: Some(path),
        }),
        _ => Err(format!("a result that is not a number: {}", clip(text))),
    }
}

/// `ENOENT (No such file...)` → `ENOENT`.
fn errno_name(text: &str) -> Option<String> {
    let name = text.split_whitespace().next()?;
    let is_name = name.len() > 1
        && name.starts_with('E')
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    is_name.then(|| name.to_string())
}

/// The value of member `name` of a structure's text
/// (`{st_mode=0100600, st_size=0, ...}`), as an [`Arg`].
pub fn struct_field(text: &str, name: &str) -> Option<Arg> {
    let inner = text.strip_prefix('{')?;
    let inner = &inner[..structure_end(inner)?];
    split_top(inner).into_iter().find_map(|item| {
        let (key, value) = item.split_once('=')?;
        (key.trim() == name).then(|| arg(value))
    })
}

/// The elements of an array's text (`[{iov_base="..", iov_len=2}, ...]`).
pub fn array_items(text: &str) -> Vec<Arg> {
    let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
        return Vec::new();
    };
    args(inner)
}

/// The offset of the `}` closing a structure whose `{` came just before
/// `inner` (clone3's structure is followed by ` => {...}`).
fn structure_end(inner: &str) -> Option<usize> {
    let mut scan = Scanner::new(inner);
    scan.depth = 1;
    while let Some((at, b)) = scan.next_outside() {
        if b == b'}' && scan.depth == 0 {
            return Some(at);
        }
    }
    None
}

/// A line shortened for an error message.
fn clip(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_call(text: &str) -> Call {
        let trace = parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(trace.calls.len(), 1, "{trace:?}");
        trace.calls[0].clone()
    }

    fn hex(text: &str) -> String {
        text.bytes().map(|b| format!("\\x{b:02x}")).collect()
    }

    #[test]
    fn a_complete_call_has_its_arguments_decoded() {
        let line = format!(
            "21886 openat(-100<{}>, \"{}\", 0x90000) = 3<{}>",
            hex("/tmp/st"),
            hex("/tmp/st/d"),
            hex("/tmp/st/d")
        );
        let call = only_call(&line);
        assert_eq!(call.pid, 21886);
        assert_eq!(call.name, "openat");
        assert_eq!(call.line, 1);
        assert_eq!(
            call.args,
            vec![
                Arg::Fd {
                    fd: -100,
                    path: b"/tmp/st".to_vec(),
                    deleted: false
                },
                Arg::Str(b"/tmp/st/d".to_vec()),
                Arg::Int(0x90000),
            ]
        );
        assert_eq!(
            call.result,
            CallResult::Ok {
                value: 3,
                path: Some(b"/tmp/st/d".to_vec())
            }
        );
    }

    #[test]
    fn octal_modes_and_negative_numbers_are_numbers() {
        let call = only_call("1 mkdir(\"\\x2f\\x64\", 0700) = 0");
        assert_eq!(call.args[1], Arg::Int(0o700));
        assert_eq!(integer("-100"), Some(-100));
        assert_eq!(integer("0"), Some(0));
        assert_eq!(integer("0xffffffffffffffff"), Some(-1));
        assert_eq!(integer("|0x100"), None);
    }

    #[test]
    fn a_failed_call_has_its_errno_name() {
        let call =
            only_call("5 openat(-100</w>, \"\\x2f\\x78\", 0xa00c1, 0600) = -1 ENOENT (No such file or directory)");
        assert_eq!(
            call.result,
            CallResult::Err {
                errno: "ENOENT".into()
            }
        );
        // Names as strace prints them, underscores and digits included;
        // `-1 (errno 512)` has none.
        assert_eq!(
            errno_name("ERESTART_RESTARTBLOCK (Interrupted by signal)").as_deref(),
            Some("ERESTART_RESTARTBLOCK")
        );
        assert_eq!(
            errno_name("E2BIG (Argument list too long)").as_deref(),
            Some("E2BIG")
        );
        assert_eq!(errno_name("Ebad (lower case)"), None);
        assert_eq!(errno_name("(errno 512)"), None);
    }

    #[test]
    fn escapes_decode_wherever_they_are() {
        assert_eq!(decode("a\\0b\\101\\1234\\x41\\n\\q\\"), b"a\0bAS4A\nq\\");
        assert_eq!(decode("\\x4g\\18"), b"x4g\x018");
        // A run of hex escapes, then other escapes, then one cut short.
        assert_eq!(decode("\\x41\\x62\\n\\x4"), b"Ab\nx4");
        assert_eq!(decode("\\x41\\x4"), b"Ax4");
        assert_eq!(decode("\\xFf\\x0A"), b"\xff\n");
        // `8` and `9` are not octal digits: a backslash before one is the
        // digit itself.
        assert_eq!(decode("\\8\\9\\78"), b"89\x078");
        // The bytes just past `9`, `F` and `f` are no hex digits.
        assert_eq!(decode("\\x:0\\xG0\\xg0"), b"x:0xG0xg0");
    }

    #[test]
    fn at_fdcwd_by_its_name_is_the_descriptor_minus_100() {
        assert_eq!(
            arg("AT_FDCWD</w>"),
            Arg::Fd {
                fd: -100,
                path: b"/w".to_vec(),
                deleted: false
            }
        );
    }

    #[test]
    fn only_a_text_in_brackets_or_braces_is_an_array_or_a_structure() {
        assert_eq!(arg("[1, 2]"), Arg::Array("[1, 2]".into()));
        assert_eq!(arg("{a=1}"), Arg::Struct("{a=1}".into()));
        for other in ["[1, 2", "1, 2]", "{a=1", "a=1}"] {
            assert_eq!(arg(other), Arg::Other(other.into()), "{other}");
        }
    }

    #[test]
    fn a_result_is_a_number_a_descriptor_or_an_error() {
        assert_eq!(
            result("0x1 (flags O_WRONLY)"),
            Ok(CallResult::Ok {
                value: 1,
                path: None
            })
        );
        assert_eq!(
            result("-1"),
            Ok(CallResult::Ok {
                value: -1,
                path: None
            })
        );
        assert_eq!(
            result("-1 EIO (Input/output error)"),
            Ok(CallResult::Err {
                errno: "EIO".into()
            })
        );
    }

    #[test]
    fn a_call_name_is_a_word_before_a_parenthesis() {
        assert_eq!(call_name("openat(3) = 0"), Some("openat"));
        assert_eq!(call_name("syscall_0x1b4(3) = 0"), Some("syscall_0x1b4"));
        assert_eq!(call_name("(3) = 0"), None);
        assert_eq!(call_name("openat (3) = 0"), None);
    }

    #[test]
    fn a_pid_is_the_digits_before_a_space_or_a_tab() {
        assert_eq!(split_pid("12 openat()"), (12, " openat()"));
        assert_eq!(split_pid("12\topenat()"), (12, "\topenat()"));
        // strace without -f prints no pid: process 0.
        assert_eq!(split_pid("openat()"), (0, "openat()"));
        assert_eq!(split_pid("12openat()"), (0, "12openat()"));
        assert_eq!(split_pid("99999999999 x"), (0, "99999999999 x"));
    }

    #[test]
    fn a_comma_inside_a_descriptor_path_splits_nothing() {
        assert_eq!(split_top("3</d/a,b>, 1"), ["3</d/a,b>", "1"]);
        // A `<` that never closes holds the rest of the list.
        assert_eq!(split_top("3</d/a, 1"), ["3</d/a, 1"]);
        assert_eq!(
            split_top("3</d/a,b>(deleted), [1, 2]"),
            ["3</d/a,b>(deleted)", "[1, 2]"]
        );
    }

    #[test]
    fn a_quote_ends_a_string_only_after_an_even_number_of_backslashes() {
        // `\"` is a quote in the string; `\\` a backslash, after which a
        // quote ends it; commas and brackets inside are text.
        let call = only_call(r#"4 write(3</d/f>, "a\"b,)\\", 6) = 6"#);
        assert_eq!(call.args[1], Arg::Str(br#"a"b,)\"#.to_vec()));
        assert_eq!(call.args[2], Arg::Int(6));
        let call = only_call(r#"4 write(3</d/f>, "\\\"", 2) = 2"#);
        assert_eq!(call.args[1], Arg::Str(br#"\""#.to_vec()));
        assert_eq!(closing_quote(br#""ab\"c"#, 1), None);
        assert_eq!(closing_quote(br#""ab\\"c"#, 1), Some(5));
    }

    #[test]
    fn unfinished_and_resumed_lines_make_one_call_where_it_was_entered() {
        let text = "\
7 write(3</d/f>, \"\\x61\\x62\", 2 <unfinished ...>
8 close(4</d/g>) = 0
7 <... write resumed>) = 2
7 read(0</in>,  <unfinished ...>
8 fsync(5</d>) = 0
7 <... read resumed>\"\\x7a\", 1024) = 1
";
        let trace = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = trace.calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["write", "close", "read", "fsync"]);
        let write = &trace.calls[0];
        assert_eq!((write.index, write.line, write.pid), (0, 1, 7));
        assert_eq!(write.end_line, Some(3));
        assert_eq!(trace.calls[1].end_line, Some(2));
        assert_eq!(write.args[1], Arg::Str(b"ab".to_vec()));
        assert_eq!(write.result.value(), Some(2));
        let read = &trace.calls[2];
        assert_eq!(read.args.len(), 3);
        assert_eq!(read.args[1], Arg::Str(b"z".to_vec()));
        assert!(trace.calls.iter().enumerate().all(|(i, c)| c.index == i));
    }

    #[test]
    fn a_call_that_never_resumed_has_an_unknown_result() {
        let text = "\
9 fsync(3<\\x2f\\x64\\x2f\\x66> <unfinished ...>
9 +++ killed by SIGKILL +++
";
        let trace = parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(trace.calls[0].result, CallResult::Unknown);
        assert_eq!(trace.calls[0].end_line, None);
        assert_eq!(
            trace.calls[0].args,
            vec![Arg::Fd {
                fd: 3,
                path: b"/d/f".to_vec(),
                deleted: false
            }]
        );
        assert_eq!(
            trace.events,
            vec![Event {
                line: 2,
                pid: 9,
                kind: EventKind::Killed("SIGKILL".into())
            }]
        );
    }

    #[test]
    fn signal_and_exit_lines_are_events() {
        let text = "\
4 --- SIGKILL {si_signo=SIGKILL, si_code=SI_USER, si_pid=1, si_uid=0} ---
4 +++ exited with 3 +++
4 exit_group(0) = ?
";
        let trace = parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            trace.events[0].kind,
            EventKind::Signal(
                "SIGKILL {si_signo=SIGKILL, si_code=SI_USER, si_pid=1, si_uid=0}".into()
            )
        );
        assert_eq!(trace.events[1].kind, EventKind::Exited(3));
        assert_eq!(trace.calls[0].result, CallResult::Unknown);
    }

    #[test]
    fn an_interrupted_call_is_a_failure_the_kernel_restarts() {
        let call = only_call(
            "3 read(0</in>, 0x7ff, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
        );
        assert_eq!(
            call.result,
            CallResult::Err {
                errno: "ERESTARTSYS".into()
            }
        );
    }

    #[test]
    fn a_deleted_file_keeps_its_path() {
        let call = only_call("3 write(5<\\x2f\\x61\\x3e\\x62>(deleted), \"\\x78\", 1) = 1");
        assert_eq!(
            call.args[0],
            Arg::Fd {
                fd: 5,
                path: b"/a>b".to_vec(),
                deleted: true
            }
        );
    }

    #[test]
    fn structures_and_arrays_are_kept_as_text_and_read_by_member() {
        let call = only_call(
            "3 writev(5</f>, [{iov_base=\"\\x61\\x2c\", iov_len=2}, {iov_base=\"\\x7d\", iov_len=1}], 2) = 3",
        );
        let Arg::Array(text) = &call.args[1] else {
            panic!("{:?}", call.args[1]);
        };
        let bases: Vec<Option<Arg>> = array_items(text)
            .iter()
            .map(|item| match item {
                Arg::Struct(s) => struct_field(s, "iov_base"),
                _ => None,
            })
            .collect();
        assert_eq!(
            bases,
            vec![
                Some(Arg::Str(b"a,".to_vec())),
                Some(Arg::Str(b"}".to_vec()))
            ]
        );
        let stat = only_call(
            "3 statx(3</f>, \"\", |0x1000, 0xfff, {stx_mask=0x1fff, stx_mode=0100600, ...}) = 0",
        );
        assert_eq!(stat.args[2], Arg::Other("|0x1000".into()));
        let Arg::Struct(text) = &stat.args[4] else {
            panic!("{:?}", stat.args[4]);
        };
        assert_eq!(struct_field(text, "stx_mode"), Some(Arg::Int(0o100600)));
        // A member after a nested structure is still the structure's.
        assert_eq!(struct_field("{a={b=1, c=3}, c=2}", "c"), Some(Arg::Int(2)));
    }

    #[test]
    fn clone3_arguments_and_comments_do_not_confuse_the_split() {
        let call = only_call(
            "1 clone3({flags=0x3d0f00, exit_signal=0} => {parent_tid=[9893]}, 88) = 9893",
        );
        assert_eq!(call.args.len(), 2);
        assert_eq!(call.args[1], Arg::Int(88));
        let Arg::Struct(text) = &call.args[0] else {
            panic!("{:?}", call.args[0]);
        };
        assert_eq!(struct_field(text, "flags"), Some(Arg::Int(0x3d0f00)));
        let exec = only_call("1 execve(\"\\x2f\\x62\", [\"\\x62\"], 0x7ffd /* 35 vars */) = 0");
        assert_eq!(exec.args[2], Arg::Other("0x7ffd /* 35 vars */".into()));
    }

    #[test]
    fn a_truncated_string_keeps_what_was_printed() {
        let call = only_call("1 write(1</o>, \"\\x61\\x62\"..., 100) = 100");
        assert_eq!(call.args[1], Arg::Str(b"ab".to_vec()));
    }

    #[test]
    fn a_trace_cut_short_in_a_call_ends_with_that_call_unfinished() {
        // The end of a pipeline's trace (`sh -c 'sleep 5 | tee log'`) when
        // strace was killed: the shell waits in wait4, and the last line
        // stops where strace had written it, without a newline.
        let text = "\
9146  wait4(-1,  <unfinished ...>
9147  close(3<\\x2f\\x6c\\x6f\\x63>) = 0
9147  clock_nanosleep(0, 0, {tv_sec=5, tv_nsec=0}, ";
        let trace = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = trace.calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["wait4", "close", "clock_nanosleep"]);
        assert_eq!(trace.calls[0].result, CallResult::Unknown);
        let sleep = &trace.calls[2];
        assert_eq!(sleep.line, 3);
        assert_eq!(sleep.result, CallResult::Unknown);
        assert_eq!(sleep.end_line, None);
        assert_eq!(sleep.args.len(), 3, "{:?}", sleep.args);
        // Cut inside a resumed call too.
        let resumed =
            parse("9146  wait4(-1,  <unfinished ...>\n9146  <... wait4 resumed>[{WIFEXITED(s)")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resumed.calls[0].result, CallResult::Unknown);
        // A whole file's last line is read as it is: a line cut short
        // elsewhere is still an error.
        assert!(parse("9146  wait4(-1, \n").is_err());
        assert!(parse("9146  wait4(-1, \n9147  close(3) = 0").is_err());
    }

    #[test]
    fn a_line_that_is_no_call_is_an_error_with_its_number() {
        let err = parse("1 close(3) = 0\nnonsense here\n").expect_err("line 2 is no call");
        assert_eq!(err.line, 2);
        assert_eq!(
            err.to_string(),
            "line 2 of the strace output: not a system call: nonsense here"
        );
        // A long line is shown cut after 120 characters.
        let long = "?".repeat(200);
        let err = parse(&long).expect_err("no call");
        assert_eq!(
            err.reason,
            format!("not a system call: {}...", "?".repeat(120))
        );
        let unresumed = parse("1 <... read resumed>) = 0\n");
        assert!(unresumed.is_err());
    }
}
