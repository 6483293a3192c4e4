//! A call's arguments and result, decoded from its registers and its
//! process's memory, as `strace -f -y -xx -X raw -s 2097152` prints them.
//!
//! Promises: for the calls the converter (`syscalls::convert`) reads,
//! [`entry`] and [`complete`] give the arguments strace prints as the call
//! is entered, at the positions strace prints them (those the system-call
//! table names): descriptors with their paths (`AT_FDCWD` with the working
//! directory where it anchors a path), path strings, flags in hex, modes
//! in octal, offsets and counts in decimal, the bytes of `write` and
//! `pwrite64` and of the iovecs of `writev`, `pwritev` and `pwritev2` (as
//! many as the call was asked to write, at most 2 MiB a buffer, then
//! `...`), `openat2`'s `struct open_how`, `clone`'s `flags=` and
//! `clone3`'s `struct clone_args`; [`exit`] the arguments strace prints
//! as the call returns: the `st_mode` and `st_size` of `fstat`, `stat`,
//! `lstat` and `newfstatat` and the `stx_mode` and `stx_size` of `statx`
//! (the address when the call failed), and what follows them; [`result`]
//! the value after `= `: a new descriptor with its path (`3</d/f>`,
//! `3</d/#123>(deleted)` for a file without a name), `umask`'s mask in
//! octal, `-1 ERRNO`, `-1 ERRNO (INJECTED)` for a call failed on purpose.
//! Calls of the table not listed here show its paths and descriptors and
//! their other arguments as numbers; calls the table does not know show
//! none.
//!
//! Does not promise: strace's symbolic names (`-X raw` prints none
//! either), the data of reads (only their counts move an offset), or any
//! structure member the converter does not read.

use crate::syscalls::strace::Arg;
use crate::syscalls::table::{lookup, Syscall};

use super::names;
use super::process::Process;

const AT_FDCWD: i64 = -100;
const O_CREAT: u64 = 0o100;
/// The bit that makes `O_TMPFILE` of `O_DIRECTORY`.
const O_TMPFILE_BIT: u64 = 0o20000000;
const F_DUPFD: i64 = 0;
const F_DUPFD_CLOEXEC: i64 = 1030;
/// The most iovecs a call takes (`UIO_MAXIOV`).
const IOV_MAX: u64 = 1024;

/// How one argument is shown; the number is the register it comes from
/// (0: `rdi`, 1: `rsi`, 2: `rdx`, 3: `r10`, 4: `r8`, 5: `r9`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    /// A descriptor with the path it refers to.
    Fd(usize),
    /// A directory descriptor a path is relative to: `AT_FDCWD` with the
    /// working directory.
    DirFd(usize),
    /// A path string.
    Path(usize),
    /// `getcwd`'s buffer: the working directory.
    Cwd,
    /// Flags of an int, in hex.
    Flags(usize),
    /// A mode, in octal.
    Mode(usize),
    /// The mode of an open, shown when its flags (the first register)
    /// create a file (`O_CREAT`, `O_TMPFILE`), as strace shows it.
    OpenMode { flags: usize, mode: usize },
    /// A signed long (an offset, a length).
    Long(usize),
    /// An int: the register's low 32 bits, signed.
    Int(usize),
    /// An unsigned int (a descriptor bound of `close_range`).
    Unsigned(usize),
    /// A count (`size_t`).
    Count(usize),
    /// An address.
    Pointer(usize),
    /// The bytes a write writes: at `buf`, as many as `len` says.
    Bytes { buf: usize, len: usize },
    /// An array of iovecs, as many as `count` says.
    Iovecs { vec: usize, count: usize },
    /// `struct open_how`.
    OpenHow(usize),
    /// `clone`'s stack and flags.
    Clone,
    /// `struct clone_args`.
    CloneArgs(usize),
    /// `struct stat`, shown at the call's exit.
    Stat(usize),
    /// `struct statx`, shown at the call's exit.
    Statx(usize),
}

impl Show {
    /// Whether strace shows it as the call returns.
    fn at_exit(self) -> bool {
        matches!(self, Show::Stat(_) | Show::Statx(_))
    }

    /// Whether it costs more than a register to show: memory to read
    /// that judging the call does not need.
    fn costly(self) -> bool {
        matches!(
            self,
            Show::Bytes { .. } | Show::Iovecs { .. } | Show::OpenHow(_) | Show::CloneArgs(_)
        )
    }

    /// Whether strace leaves it out of a call with these registers: the
    /// mode of an open that creates nothing.
    fn omitted(self, regs: [u64; 6]) -> bool {
        match self {
            Show::OpenMode { flags, .. } => regs[flags] & (O_CREAT | O_TMPFILE_BIT) == 0,
            _ => false,
        }
    }
}

use Show::*;

/// How strace shows the arguments of call `name`, in order.
fn layout(name: &str) -> Vec<Show> {
    let shows: &[Show] = match name {
        "open" => &[Path(0), Flags(1), OpenMode { flags: 1, mode: 2 }],
        "openat" => &[DirFd(0), Path(1), Flags(2), OpenMode { flags: 2, mode: 3 }],
        "openat2" => &[DirFd(0), Path(1), OpenHow(2), Count(3)],
        "creat" | "mkdir" | "chmod" => &[Path(0), Mode(1)],
        "mkdirat" | "fchmodat" => &[DirFd(0), Path(1), Mode(2)],
        "fchmodat2" => &[DirFd(0), Path(1), Mode(2), Flags(3)],
        "fchmod" => &[Fd(0), Mode(1)],
        "rename" | "link" | "symlink" => &[Path(0), Path(1)],
        "renameat" => &[DirFd(0), Path(1), DirFd(2), Path(3)],
        "renameat2" | "linkat" => &[DirFd(0), Path(1), DirFd(2), Path(3), Flags(4)],
        "symlinkat" => &[Path(0), DirFd(1), Path(2)],
        "unlink" | "rmdir" | "chdir" => &[Path(0)],
        "unlinkat" => &[DirFd(0), Path(1), Flags(2)],
        "write" => &[Fd(0), Bytes { buf: 1, len: 2 }, Count(2)],
        "pwrite64" => &[Fd(0), Bytes { buf: 1, len: 2 }, Count(2), Long(3)],
        "writev" => &[Fd(0), Iovecs { vec: 1, count: 2 }, Count(2)],
        "pwritev" => &[Fd(0), Iovecs { vec: 1, count: 2 }, Count(2), Long(3)],
        // The kernel's fifth argument is the offset's high half, unused
        // on 64-bit machines; strace shows the flags after the offset.
        "pwritev2" => &[
            Fd(0),
            Iovecs { vec: 1, count: 2 },
            Count(2),
            Long(3),
            Flags(5),
        ],
        "truncate" => &[Path(0), Long(1)],
        "ftruncate" => &[Fd(0), Long(1)],
        "fallocate" => &[Fd(0), Flags(1), Long(2), Long(3)],
        "fsync" | "fdatasync" | "syncfs" | "close" | "dup" | "fchdir" => &[Fd(0)],
        "read" | "readv" | "getdents" | "getdents64" => &[Fd(0), Pointer(1), Count(2)],
        "pread64" | "preadv" => &[Fd(0), Pointer(1), Count(2), Long(3)],
        "preadv2" => &[Fd(0), Pointer(1), Count(2), Long(3), Flags(5)],
        "fstat" => &[Fd(0), Stat(1)],
        "stat" | "lstat" => &[Path(0), Stat(1)],
        "newfstatat" => &[DirFd(0), Path(1), Stat(2), Flags(3)],
        "statx" => &[DirFd(0), Path(1), Flags(2), Flags(3), Statx(4)],
        "close_range" => &[Unsigned(0), Unsigned(1), Flags(2)],
        "dup2" => &[Fd(0), Fd(1)],
        "dup3" => &[Fd(0), Fd(1), Flags(2)],
        "fcntl" => &[Fd(0), Flags(1), Long(2)],
        "lseek" => &[Fd(0), Long(1), Int(2)],
        "umask" => &[Mode(0)],
        "getcwd" => &[Cwd, Count(1)],
        "clone" => &[Clone],
        "clone3" => &[CloneArgs(0), Count(1)],
        "fork" | "vfork" => &[],
        "mmap" => &[Pointer(0), Count(1), Flags(2), Flags(3), Fd(4), Long(5)],
        _ => return lookup(name).map(fallback).unwrap_or_default(),
    };
    shows.to_vec()
}

/// A call of the table not listed in [`layout`]: its paths and
/// descriptors where the table names them, numbers between and after
/// them, as many as the call usually takes.
fn fallback(known: &Syscall) -> Vec<Show> {
    (0..arity(known))
        .map(|index| {
            if known.paths.iter().any(|p| p.index == index) {
                Path(index)
            } else if known.paths.iter().any(|p| p.dir == Some(index)) {
                DirFd(index)
            } else if known.fds.contains(&index) {
                Fd(index)
            } else {
                Long(index)
            }
        })
        .collect()
}

/// How many arguments [`fallback`] shows: every one the table names, and
/// those after them that the calls usually take.
fn arity(known: &Syscall) -> usize {
    let named = known
        .paths
        .iter()
        .map(|p| p.index)
        .chain(known.fds.iter().copied())
        .max()
        .map_or(0, |last| last + 1);
    let usual = match known.name {
        "faccessat" | "faccessat2" | "utimensat" | "readlink" | "readlinkat" | "futimesat"
        | "sync_file_range" => 3,
        "access" | "flock" | "ioctl" | "statfs" | "fstatfs" | "utime" | "utimes" => 2,
        _ => 1,
    };
    named.max(usual).min(6)
}

/// The arguments of call `name` that strace shows as it is entered, its
/// registers `regs`; costly ones (buffers and structures in memory) are
/// left as the numbers in their registers until [`complete`].
pub(super) fn entry(process: &mut Process, name: &str, regs: [u64; 6]) -> Vec<Arg> {
    layout(name)
        .into_iter()
        .take_while(|show| !show.at_exit())
        .filter_map(|show| shown(process, show, regs, false))
        .collect()
}

/// The costly arguments [`entry`] left as numbers, read: for a call that
/// goes into the trace.
pub(super) fn complete(process: &mut Process, name: &str, regs: [u64; 6], args: &mut [Arg]) {
    let shows = layout(name)
        .into_iter()
        .take_while(|show| !show.at_exit())
        .filter(|show| !show.omitted(regs));
    for (show, slot) in shows.zip(args.iter_mut()) {
        if show.costly() {
            if let Some(arg) = shown(process, show, regs, true) {
                *slot = arg;
            }
        }
    }
}

/// Whether call `name` has arguments strace shows as it returns.
pub(super) fn has_exit_args(name: &str) -> bool {
    layout(name).iter().any(|show| show.at_exit())
}

/// The arguments of call `name` that strace shows as it returns: `ok`
/// when it succeeded.
pub(super) fn exit(process: &mut Process, name: &str, regs: [u64; 6], ok: bool) -> Vec<Arg> {
    layout(name)
        .into_iter()
        .skip_while(|show| !show.at_exit())
        .filter_map(|show| match show {
            Stat(r) | Statx(r) if !ok => Some(pointer(regs[r])),
            Stat(r) => Some(stat(process, regs[r])),
            Statx(r) => Some(statx(process, regs[r])),
            other => shown(process, other, regs, true),
        })
        .collect()
}

/// The text after `= `: `value` returned by call `name` (its registers
/// `regs`) of `process`, or the errno it was failed with on purpose.
pub(super) fn result(
    process: &Process,
    name: &str,
    regs: [u64; 6],
    value: i64,
    injected: Option<&str>,
) -> String {
    if let Some(errno) = injected {
        return format!("-1 {errno} (INJECTED)");
    }
    if (-4095..0).contains(&value) {
        return match names::errno(-value) {
            Some(errno) => format!("-1 {errno}"),
            None => format!("-1 E{}", -value),
        };
    }
    let returns_fd = lookup(name).is_some_and(|k| k.returns_fd)
        || (name == "fcntl" && matches!(int(regs[1]), F_DUPFD | F_DUPFD_CLOEXEC));
    match returns_fd.then(|| process.fd(value)).flatten() {
        Some((path, deleted)) => format!(
            "{value}<{}>{}",
            hex(&path),
            if deleted { "(deleted)" } else { "" }
        ),
        None if name == "umask" => octal(value as u64),
        None => value.to_string(),
    }
}

/// `bytes` as strace's `-xx` prints a string's inside.
pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Built by hand: a `format!` per byte was over a quarter of the
    // tracer's own work on a runtime's start (every path it opens).
    let mut out = String::with_capacity(bytes.len() * 4);
    for &b in bytes {
        out.push_str("\\x");
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// A quoted string, `...` after it when it was cut at `len`.
fn quoted(bytes: &[u8], len: u64) -> String {
    let cut = (bytes.len() as u64) < len;
    format!("\"{}\"{}", hex(bytes), if cut { "..." } else { "" })
}

/// A register holding an int: its low 32 bits, signed.
fn int(value: u64) -> i64 {
    i64::from(value as u32 as i32)
}

fn octal(value: u64) -> String {
    format!("0{value:02o}")
}

fn pointer(value: u64) -> Arg {
    if value == 0 {
        Arg::Other("NULL".to_string())
    } else {
        Arg::Other(format!("{value:#x}"))
    }
}

/// One argument; `None` for a mode an open does not take. A costly one is
/// its register's number unless `costly`.
fn shown(process: &mut Process, show: Show, regs: [u64; 6], costly: bool) -> Option<Arg> {
    if show.costly() && !costly {
        return Some(pointer(match show {
            Bytes { buf: r, .. } | Iovecs { vec: r, .. } | OpenHow(r) | CloneArgs(r) => regs[r],
            _ => 0,
        }));
    }
    Some(match show {
        Fd(r) => descriptor(process, int(regs[r])),
        DirFd(r) => match int(regs[r]) {
            AT_FDCWD => match process.cwd() {
                Some(path) => Arg::Fd {
                    fd: AT_FDCWD,
                    path,
                    deleted: false,
                },
                None => Arg::Int(AT_FDCWD),
            },
            fd => descriptor(process, fd),
        },
        Path(r) if regs[r] == 0 => pointer(0),
        Path(r) => match process.string(regs[r]) {
            Some(text) => Arg::Str(text),
            None => pointer(regs[r]),
        },
        Cwd => match process.cwd() {
            Some(cwd) => Arg::Str(cwd),
            None => pointer(regs[0]),
        },
        Flags(r) => Arg::Other(format!("{:#x}", regs[r] as u32)),
        Mode(r) => Arg::Other(octal(u64::from(regs[r] as u32))),
        OpenMode { mode, .. } if !show.omitted(regs) => {
            Arg::Other(octal(u64::from(regs[mode] as u32)))
        }
        OpenMode { .. } => return None,
        Long(r) => Arg::Int(regs[r] as i64),
        Int(r) => Arg::Int(int(regs[r])),
        Unsigned(r) => Arg::Int(i64::from(regs[r] as u32)),
        Count(r) => Arg::Other(regs[r].to_string()),
        Pointer(r) => pointer(regs[r]),
        Bytes { buf, len } => match process.bytes(regs[buf], regs[len]) {
            Some(data) => Arg::Other(quoted(&data, regs[len])),
            None => pointer(regs[buf]),
        },
        Iovecs { vec, count } => iovecs(process, regs[vec], regs[count]),
        OpenHow(r) => match process.words(regs[r], 3) {
            Some(how) => Arg::Struct(format!(
                "{{flags={:#x}, mode={}, resolve={:#x}}}",
                how[0],
                octal(how[1]),
                how[2]
            )),
            None => pointer(regs[r]),
        },
        Clone => Arg::Other(format!(
            "child_stack={}, flags={:#x}",
            match pointer(regs[1]) {
                Arg::Other(text) => text,
                _ => String::new(),
            },
            regs[0]
        )),
        CloneArgs(r) => match process.words(regs[r], 8) {
            // flags, pidfd, child_tid, parent_tid, exit_signal, stack,
            // stack_size, tls.
            Some(args) => Arg::Struct(format!(
                "{{flags={:#x}, exit_signal={}, stack={:#x}, stack_size={:#x}}}",
                args[0], args[4], args[5], args[6]
            )),
            None => pointer(regs[r]),
        },
        Stat(r) | Statx(r) => pointer(regs[r]),
    })
}

fn descriptor(process: &Process, fd: i64) -> Arg {
    match process.fd(fd) {
        Some((path, deleted)) => Arg::Fd { fd, path, deleted },
        None => Arg::Int(fd),
    }
}

/// `[{iov_base="…", iov_len=N}, …]`, or the address when the array cannot
/// be read.
fn iovecs(process: &Process, address: u64, count: u64) -> Arg {
    if count > IOV_MAX {
        return pointer(address);
    }
    let Some(words) = process.words(address, count as usize * 2) else {
        return pointer(address);
    };
    let items: Vec<String> = words
        .chunks_exact(2)
        .map(|iov| {
            let (base, len) = (iov[0], iov[1]);
            let data = match process.bytes(base, len) {
                Some(data) => quoted(&data, len),
                None => format!("{base:#x}"),
            };
            format!("{{iov_base={data}, iov_len={len}}}")
        })
        .collect();
    Arg::Array(format!("[{}]", items.join(", ")))
}

/// `{st_mode=0100600, st_size=N, ...}` of the `struct stat` at `address`.
fn stat(process: &Process, address: u64) -> Arg {
    // st_dev, st_ino, st_nlink, then st_mode (32 bits) and st_uid; st_size
    // is the seventh word.
    match process.words(address, 7) {
        Some(words) => Arg::Struct(format!(
            "{{st_mode={}, st_size={}, ...}}",
            octal(words[3] & 0xffff_ffff),
            words[6] as i64
        )),
        None => pointer(address),
    }
}

/// `{stx_mask=…, stx_mode=0100600, stx_size=N, ...}` of the `struct
/// statx` at `address`.
fn statx(process: &Process, address: u64) -> Arg {
    // stx_mask and stx_blksize, stx_attributes, stx_nlink and stx_uid,
    // stx_gid and stx_mode (16 bits at byte 28), stx_ino, stx_size.
    match process.words(address, 6) {
        Some(words) => Arg::Struct(format!(
            "{{stx_mask={:#x}, stx_attributes={:#x}, stx_mode={}, stx_size={}, ...}}",
            words[0] & 0xffff_ffff,
            words[1],
            octal((words[3] >> 32) & 0xffff),
            words[5]
        )),
        None => pointer(address),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_byte_is_written_as_strace_writes_it() {
        let every: Vec<u8> = (0..=255).collect();
        let strace_way: String = every.iter().map(|b| format!("\\x{b:02x}")).collect();
        assert_eq!(hex(&every), strace_way);
        assert_eq!(hex(b""), "");
    }

    use super::*;
    use crate::syscalls::strace::{parse, struct_field};
    use crate::syscalls::table::TABLE;

    fn this() -> Process {
        Process::new(i32::try_from(std::process::id()).expect("a pid"))
    }

    fn at<T>(value: &T) -> u64 {
        value as *const T as u64
    }

    /// The line `1 name(args) = 0` for these arguments, parsed back.
    fn read_back(name: &str, args: &[Arg]) -> Vec<Arg> {
        let text = format!("1 {name}({}) = 0\n", super::super::line::args_text(args));
        match parse(&text) {
            Ok(trace) => trace.calls[0].args.clone(),
            Err(e) => panic!("{e}: {text}"),
        }
    }

    #[test]
    fn every_call_of_the_table_shows_its_paths_and_descriptors_where_the_table_names_them() {
        for known in TABLE {
            let shows = layout(known.name);
            for path in known.paths {
                // getcwd's string is the working directory it names.
                assert!(
                    matches!(shows.get(path.index), Some(&Path(r)) if r == path.index)
                        || (known.name == "getcwd" && shows.first() == Some(&Cwd)),
                    "{}",
                    known.name
                );
                if let Some(dir) = path.dir {
                    assert_eq!(shows.get(dir), Some(&DirFd(dir)), "{}", known.name);
                }
            }
            for &fd in known.fds {
                assert!(
                    matches!(shows.get(fd), Some(Fd(_) | DirFd(_))),
                    "{}: {fd}",
                    known.name
                );
            }
        }
    }

    #[test]
    fn a_write_shows_its_bytes_and_a_writev_its_iovecs_as_strace_does() {
        let mut process = this();
        let data = b"a,\"}\n".to_vec();
        let regs = [2, data.as_ptr() as u64, 5, 0, 0, 0];
        let mut args = entry(&mut process, "pwrite64", regs);
        assert_eq!(args[1], pointer(regs[1]), "not read before it is needed");
        complete(&mut process, "pwrite64", regs, &mut args);
        let back = read_back("pwrite64", &args);
        assert_eq!(back[1], Arg::Str(data.clone()));
        assert_eq!(back[3], Arg::Int(0));
        let (a, b) = (b"ab".to_vec(), b"c]".to_vec());
        let iov: [u64; 4] = [a.as_ptr() as u64, 2, b.as_ptr() as u64, 2];
        let regs = [2, at(&iov), 2, 7, 0, 0x10];
        let mut args = entry(&mut process, "pwritev2", regs);
        complete(&mut process, "pwritev2", regs, &mut args);
        let back = read_back("pwritev2", &args);
        assert_eq!(
            back[1],
            Arg::Array(
                "[{iov_base=\"\\x61\\x62\", iov_len=2}, {iov_base=\"\\x63\\x5d\", iov_len=2}]"
                    .into()
            )
        );
        assert_eq!(back[3], Arg::Int(7), "the offset");
        assert_eq!(
            back[4],
            Arg::Int(0x10),
            "the flags, from the sixth register"
        );
    }

    #[test]
    fn an_open_shows_its_mode_only_when_it_creates() {
        let mut process = this();
        let path = std::ffi::CString::new("/r/f").expect("no NUL");
        let regs = |flags| [AT_FDCWD as u64, path.as_ptr() as u64, flags, 0o600, 0, 0];
        let creating = read_back("openat", &entry(&mut process, "openat", regs(0o301)));
        assert_eq!(creating.len(), 4);
        assert_eq!(creating[2], Arg::Int(0o301));
        assert_eq!(creating[3], Arg::Int(0o600));
        let reading = read_back("openat", &entry(&mut process, "openat", regs(0)));
        assert_eq!(reading.len(), 3);
        assert!(matches!(reading[0], Arg::Fd { fd: AT_FDCWD, .. }));
        let tmpfile = entry(&mut process, "openat", regs(0o20200002));
        assert_eq!(read_back("openat", &tmpfile)[3], Arg::Int(0o600));
    }

    #[test]
    fn a_stat_shows_the_mode_at_its_exit_and_its_address_when_it_failed() {
        let mut process = this();
        // struct stat: st_mode at byte 24, st_size at byte 48.
        let mut buf = [0u64; 18];
        buf[3] = 0o100640;
        buf[6] = 262;
        let regs = [3, at(&buf), 0, 0, 0, 0];
        assert!(has_exit_args("fstat"));
        assert_eq!(entry(&mut process, "fstat", regs).len(), 1);
        let shown = exit(&mut process, "fstat", regs, true);
        let Arg::Struct(text) = &shown[0] else {
            panic!("{shown:?}");
        };
        assert_eq!(struct_field(text, "st_mode"), Some(Arg::Int(0o100640)));
        assert_eq!(struct_field(text, "st_size"), Some(Arg::Int(262)));
        assert_eq!(exit(&mut process, "fstat", regs, false), [pointer(regs[1])]);
        // struct statx: stx_mode at byte 28, stx_size at byte 40.
        let mut statx = [0u64; 32];
        statx[3] = 0o100600 << 32;
        statx[5] = 9;
        let regs = [AT_FDCWD as u64, 0, 0x1000, 0xfff, at(&statx), 0];
        let shown = exit(&mut process, "statx", regs, true);
        let Arg::Struct(text) = &shown[0] else {
            panic!("{shown:?}");
        };
        assert_eq!(struct_field(text, "stx_mode"), Some(Arg::Int(0o100600)));
        assert_eq!(struct_field(text, "stx_size"), Some(Arg::Int(9)));
        // newfstatat's flags follow its structure, at its exit.
        let regs = [AT_FDCWD as u64, 0, at(&buf), 0x1000, 0, 0];
        let shown = exit(&mut process, "newfstatat", regs, true);
        assert_eq!(read_back("newfstatat", &shown)[1], Arg::Int(0x1000));
    }

    #[test]
    fn clone_shows_its_flags_as_the_converter_reads_them() {
        let mut process = this();
        let args = entry(&mut process, "clone", [0x3d0f00, 0x7f00, 0, 0, 0, 0]);
        let back = read_back("clone", &args);
        assert!(
            back.contains(&Arg::Other("flags=0x3d0f00".into())),
            "{back:?}"
        );
        let clone_args: [u64; 8] = [0x3d0f00, 0, 0, 0, 0, 0x7f00, 0x800, 0];
        let regs = [at(&clone_args), 88, 0, 0, 0, 0];
        let mut args = entry(&mut process, "clone3", regs);
        complete(&mut process, "clone3", regs, &mut args);
        let back = read_back("clone3", &args);
        let Arg::Struct(text) = &back[0] else {
            panic!("{back:?}");
        };
        assert_eq!(struct_field(text, "flags"), Some(Arg::Int(0x3d0f00)));
    }

    #[test]
    fn a_result_is_a_descriptor_with_its_path_a_mask_in_octal_or_an_errno() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let file = std::fs::File::create(dir.path().join("f")).expect("created");
        let fd = i64::from(std::os::fd::AsRawFd::as_raw_fd(&file));
        let process = this();
        let opened = result(&process, "openat", [0; 6], fd, None);
        let expected = format!(
            "{fd}<{}>",
            hex(dir.path().join("f").as_os_str().as_encoded_bytes())
        );
        assert_eq!(opened, expected);
        std::fs::remove_file(dir.path().join("f")).expect("removed");
        let dup = result(&process, "fcntl", [0, 1030, 0, 0, 0, 0], fd, None);
        assert!(dup.ends_with(">(deleted)"), "{dup}");
        assert_eq!(
            result(&process, "fcntl", [0, 1, 0, 0, 0, 0], fd, None),
            fd.to_string()
        );
        assert_eq!(result(&process, "umask", [0; 6], 0o22, None), "022");
        assert_eq!(result(&process, "fsync", [0; 6], -28, None), "-1 ENOSPC");
        assert_eq!(
            result(&process, "fsync", [0; 6], -5, Some("EIO")),
            "-1 EIO (INJECTED)"
        );
    }
}
