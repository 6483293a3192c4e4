//! What a traced call's arguments name, read through the system-call
//! table.
//!
//! Promises: [`paths_named`] gives the paths a call names (its
//! descriptors', and its path strings resolved against their directory
//! descriptors); [`descriptor`] the descriptor it returned or acted on;
//! [`opens`] whether it opens a file by a path, [`open_flags`] with which
//! flags and mode, [`created_exclusively`] the new file an open made;
//! [`next_close`] the close of
//! a descriptor after a call; [`child`] the process or thread a clone,
//! fork or vfork made, with its clone flags; [`number`] a numeric
//! argument as the kernel read it. A call the table does not know is read by its arguments: every
//! descriptor, and every string that could be a path, relative to the
//! descriptor just before it.
//!
//! Does not promise: a working directory for relative paths without a
//! directory descriptor outside the converter (which follows `chdir`):
//! [`paths_named`] leaves them out; nor to tell a descriptor strace printed
//! without its path (`3`) from a number.

use super::linux;
use super::paths::{looks_like_path, path_arg, resolve};
use super::strace::{integer, struct_field, Arg, Call, CallResult, Trace};
use super::table::{lookup, Model};

/// A path one argument of a call names.
pub(super) enum Mention<'c> {
    /// A descriptor other than `AT_FDCWD`, with the path `-y` printed.
    Descriptor { fd: i64, path: &'c [u8] },
    /// A string that is a path, made absolute.
    Path(Vec<u8>),
}

impl Mention<'_> {
    fn path(&self) -> &[u8] {
        match self {
            Mention::Descriptor { path, .. } => path,
            Mention::Path(path) => path,
        }
    }
}

/// The paths a call names, in the order of its arguments; `cwd` resolves
/// relative paths that no directory descriptor anchors.
pub(super) fn mentions<'c>(call: &'c Call, cwd: Option<&[u8]>) -> Vec<Mention<'c>> {
    let known = lookup(&call.name);
    let mut out = Vec::new();
    let mut previous: Option<&Arg> = None;
    for (index, arg) in call.args.iter().enumerate() {
        let mention = match (arg, known) {
            (Arg::Fd { fd, path, .. }, _)
                if *fd != linux::AT_FDCWD
                    && !path.is_empty()
                    && known.is_none_or(|k| k.fds.contains(&index)) =>
            {
                Some(Mention::Descriptor { fd: *fd, path })
            }
            (Arg::Str(text), Some(known)) if looks_like_path(text) => known
                .paths
                .iter()
                .find(|p| p.index == index)
                .and_then(|p| path_arg(call, p, cwd))
                .map(Mention::Path),
            // Unknown: a string after a descriptor is relative to it (the
            // *at calls).
            (Arg::Str(text), None) if looks_like_path(text) => {
                let base = previous.filter(|p| matches!(p, Arg::Fd { .. }));
                resolve(base, text, cwd).map(Mention::Path)
            }
            _ => None,
        };
        out.extend(mention);
        previous = Some(arg);
    }
    out
}

/// The paths a call names: its descriptors' paths as strace printed them,
/// and its path strings made absolute against the directory descriptor
/// before them (relative ones without such a descriptor are left out).
/// A call's data strings (a write's buffer, `getrandom`'s bytes) are never
/// paths.
pub fn paths_named(call: &Call) -> Vec<Vec<u8>> {
    mentions(call, None)
        .iter()
        .map(|m| m.path().to_vec())
        .collect()
}

/// The descriptor a call returned (an open, a dup) or else acted on (its
/// first descriptor argument), with the process it belongs to.
pub fn descriptor(call: &Call) -> Option<(u32, i64)> {
    let known = lookup(&call.name);
    let fd = if known.is_some_and(|k| k.returns_fd) {
        call.result.value()
    } else {
        call.args
            .iter()
            .enumerate()
            .find_map(|(index, arg)| match arg {
                Arg::Fd { fd, .. } if *fd >= 0 && known.is_none_or(|k| k.fds.contains(&index)) => {
                    Some(*fd)
                }
                _ => None,
            })
    };
    fd.map(|fd| (call.pid, fd))
}

/// Whether the call opens a file by a path (`open`, `openat`, `openat2`,
/// `creat`).
pub fn opens(call: &Call) -> bool {
    lookup(&call.name).is_some_and(|k| k.model == Model::Open)
}

/// The flags and the mode of an open call as the kernel read them (`None`
/// where strace printed none).
pub fn open_flags(call: &Call) -> (Option<i64>, Option<i64>) {
    match call.name.as_str() {
        "open" => (number(call.args.get(1)), number(call.args.get(2))),
        "creat" => (
            Some(linux::O_CREAT | linux::O_WRONLY | linux::O_TRUNC),
            number(call.args.get(1)),
        ),
        "openat2" => match call.args.get(2) {
            Some(Arg::Struct(how)) => (
                number(struct_field(how, "flags").as_ref()),
                number(struct_field(how, "mode").as_ref()),
            ),
            _ => (None, None),
        },
        _ => (number(call.args.get(2)), number(call.args.get(3))),
    }
}

/// The path of the file a successful open created exclusively
/// (`O_CREAT | O_EXCL`: nothing was there before it).
pub fn created_exclusively(call: &Call) -> Option<Vec<u8>> {
    if !opens(call) || call.result.value().is_none() {
        return None;
    }
    let exclusive = linux::O_CREAT | linux::O_EXCL;
    let flags = open_flags(call).0?;
    if flags & exclusive != exclusive {
        return None;
    }
    // The path of the descriptor it returned (strace's `-y`, resolved by
    // the kernel), else its path argument.
    if let CallResult::Ok {
        path: Some(path), ..
    } = &call.result
    {
        return Some(path.clone());
    }
    let arg = lookup(&call.name)?.paths.first()?;
    path_arg(call, arg, None)
}

/// The first call after call `index` in the same process that closes
/// `fd`.
pub fn next_close(trace: &Trace, index: usize, fd: (u32, i64)) -> Option<usize> {
    trace.calls.iter().skip(index + 1).find_map(|c| {
        let closes = lookup(&c.name).is_some_and(|k| k.model == Model::Close);
        (c.pid == fd.0 && closes && descriptor(c) == Some(fd)).then_some(c.index)
    })
}

/// A process or thread a call made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Child {
    pub(super) pid: u32,
    /// The clone flags it was made with (`clone`'s `flags=`, `clone3`'s
    /// `struct clone_args`); 0 for `fork` and `vfork` and flags strace did
    /// not print.
    pub(super) flags: i64,
}

/// The child a call that makes a process or a thread (`clone`, `clone3`,
/// `fork`, `vfork`) returned; `None` for other calls, a call that failed,
/// or the child's own return (0).
pub(super) fn child(call: &Call) -> Option<Child> {
    if !lookup(&call.name).is_some_and(|k| k.model == Model::Fork) {
        return None;
    }
    let pid = call
        .result
        .value()
        .and_then(|c| u32::try_from(c).ok())
        .filter(|&c| c != 0)?;
    let flags = match call.name.as_str() {
        "clone" => call.args.iter().find_map(|arg| match arg {
            Arg::Other(text) => text.strip_prefix("flags=").and_then(flags_value),
            _ => None,
        }),
        "clone3" => match call.args.first() {
            Some(Arg::Struct(text)) => number(struct_field(text, "flags").as_ref()),
            _ => None,
        },
        _ => None,
    }
    .unwrap_or(0);
    Some(Child { pid, flags })
}

/// A number argument: an integer, a descriptor's number, or flags joined
/// by `|` as `-X raw` prints some (`|0x100`).
pub(super) fn number(arg: Option<&Arg>) -> Option<i64> {
    match arg? {
        Arg::Int(value) => Some(*value),
        Arg::Fd { fd, .. } => Some(*fd),
        Arg::Other(text) => flags_value(text),
        _ => None,
    }
}

/// `0x1200000|17` as one value.
pub(super) fn flags_value(text: &str) -> Option<i64> {
    let mut value = 0;
    let mut any = false;
    for part in text.split('|').filter(|p| !p.is_empty()) {
        value |= integer(part.trim())?;
        any = true;
    }
    any.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::strace::parse;

    fn call(line: &str) -> Call {
        match parse(line) {
            Ok(trace) => trace.calls.into_iter().next().expect("one call"),
            Err(e) => panic!("{e}"),
        }
    }

    fn named(line: &str) -> Vec<String> {
        paths_named(&call(line))
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    #[test]
    fn a_file_is_created_exclusively_only_by_a_successful_open_with_o_creat_and_o_excl() {
        let made = |line: &str| {
            created_exclusively(&call(line)).map(|p| String::from_utf8_lossy(&p).into_owned())
        };
        // 0xc2 is O_RDWR | O_CREAT | O_EXCL, 0x42 without O_EXCL.
        assert_eq!(
            made("1 openat(-100</w>, \"/tmp/.t1\", 0xc2, 0600) = 3</tmp/.t1>\n").as_deref(),
            Some("/tmp/.t1")
        );
        assert_eq!(
            made("1 openat(4</tmp>, \"t2\", 0xc2, 0600) = 3</tmp/t2>\n").as_deref(),
            Some("/tmp/t2")
        );
        assert_eq!(
            made("1 openat(-100</w>, \"/tmp/log\", 0x42, 0600) = 3</tmp/log>\n"),
            None
        );
        assert_eq!(
            made("1 openat(-100</w>, \"/tmp/.t1\", 0xc2, 0600) = -1 EEXIST (File exists)\n"),
            None
        );
        assert_eq!(made("1 mkdir(\"/tmp/d\", 0700) = 0\n"), None);
    }

    #[test]
    fn a_call_acts_on_the_descriptor_it_returned_or_else_its_first() {
        assert_eq!(
            descriptor(&call("4 openat(-100</w>, \"/d/f\", 0xc1, 0600) = 3</d/f>")),
            Some((4, 3))
        );
        assert_eq!(descriptor(&call("4 fsync(5</d/f>) = 0")), Some((4, 5)));
        // AT_FDCWD is no descriptor.
        assert_eq!(
            descriptor(&call("4 unlinkat(-100</w>, \"/d/f\", 0) = 0")),
            None
        );
    }

    #[test]
    fn a_number_is_an_integer_a_descriptor_or_flags_joined_by_a_bar() {
        assert_eq!(number(Some(&Arg::Int(7))), Some(7));
        let fd = Arg::Fd {
            fd: 3,
            path: b"/d".to_vec(),
            deleted: false,
        };
        assert_eq!(number(Some(&fd)), Some(3));
        assert_eq!(number(Some(&Arg::Other("|0x100".into()))), Some(0x100));
        assert_eq!(
            number(Some(&Arg::Other("0x1200000|17".into()))),
            Some(0x1200011)
        );
        assert_eq!(number(Some(&Arg::Str(b"7".to_vec()))), None);
        assert_eq!(number(None), None);
    }

    #[test]
    fn only_calls_that_take_paths_have_their_strings_read_as_paths() {
        let write = call("1 write(3</r/s/t>, \"/r/s/x\", 6) = 6\n");
        assert_eq!(paths_named(&write), vec![b"/r/s/t".to_vec()]);
        let open = call("1 openat(4</r/s>, \"t\", 0x800c1, 0600) = 3</r/s/t>\n");
        assert_eq!(
            paths_named(&open),
            vec![b"/r/s".to_vec(), b"/r/s/t".to_vec()]
        );
        let cwd = call("1 openat(-100</w>, \"/r/s/t\", 0x0) = 3</r/s/t>\n");
        assert_eq!(paths_named(&cwd), vec![b"/r/s/t".to_vec()]);
    }

    #[test]
    fn a_call_whose_strings_are_data_names_no_path() {
        assert!(named("1 getrandom(\"/r/s/x\", 6, 0) = 6\n").is_empty());
        assert_eq!(
            named("1 sendto(3<socket:[9]>, \"/r/s/x\", 6, 0, NULL, 0) = 6\n"),
            ["socket:[9]"]
        );
        assert_eq!(
            named("1 readlink(\"/r/s/l\", \"/r/s/x\", 4096) = 6\n"),
            ["/r/s/l"]
        );
        assert_eq!(
            named("1 getxattr(\"/r/s/t\", \"user.x\", \"v\", 1) = 1\n"),
            ["/r/s/t"]
        );
    }

    #[test]
    fn each_path_argument_resolves_against_its_own_directory_descriptor() {
        assert_eq!(
            named("1 renameat(3</r/a>, \"t\", 4</r/b>, \"../c/f\") = 0\n"),
            ["/r/a", "/r/a/t", "/r/b", "/r/c/f"]
        );
        // The link's name is relative to the descriptor; the target, with
        // no descriptor before it, to the working directory, not known here.
        assert_eq!(
            named("1 symlinkat(\"t\", 3</r/a>, \"l\") = 0\n"),
            ["/r/a", "/r/a/l"]
        );
        assert_eq!(
            named("1 unlinkat(-100</w>, \"x/./y\", 0) = 0\n"),
            ["/w/x/y"]
        );
    }

    #[test]
    fn a_call_the_table_does_not_know_is_judged_by_every_argument() {
        assert_eq!(
            named("1 frobnicate(3</r/s>, \"t\", \"/r/u\", \"\", 5<pipe:[1]>) = 0\n"),
            ["/r/s", "/r/s/t", "/r/u", "pipe:[1]"]
        );
        let call = call("1 frobnicate(7</r/s>, 3</r/t>) = 0\n");
        assert_eq!(descriptor(&call), Some((1, 7)));
    }

    #[test]
    fn an_open_has_the_descriptor_it_returned_and_a_write_the_one_it_wrote() {
        let open = call("5 openat(-100</w>, \"/r/t\", 0xc1, 0600) = 3</r/t>\n");
        assert_eq!(descriptor(&open), Some((5, 3)));
        assert!(opens(&open));
        let failed = call("5 openat(-100</w>, \"/r/t\", 0xc1, 0600) = -1 EACCES (Denied)\n");
        assert_eq!(descriptor(&failed), None);
        let write = call("5 write(3</r/t>, \"x\", 1) = 1\n");
        assert_eq!(descriptor(&write), Some((5, 3)));
        assert!(!opens(&write));
        // The descriptor it maps, though not its first argument.
        let mmap = call("5 mmap(NULL, 10, 0x3, 0x1, 3</r/t>, 0) = 0x7f00\n");
        assert_eq!(descriptor(&mmap), Some((5, 3)));
    }

    #[test]
    fn the_next_close_is_of_the_same_descriptor_in_the_same_process() {
        let trace = match parse(
            "\
1 openat(-100</w>, \"/r/t\", 0xc1, 0600) = 3</r/t>
2 close(3</r/u>) = 0
1 close(4</r/v>) = 0
1 fsync(3</r/t>) = 0
1 close(3</r/t>) = 0
",
        ) {
            Ok(trace) => trace,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(next_close(&trace, 0, (1, 3)), Some(4));
        assert_eq!(next_close(&trace, 4, (1, 3)), None);
    }
}
