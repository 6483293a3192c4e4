//! Paths as a traced call names them, as bytes.
//!
//! Promises: [`normalize`] resolves `.`, `..` and repeated slashes by text;
//! [`resolve`] and [`path_arg`] make a call's path argument absolute, relative
//! to the directory descriptor the system-call table names for it (as
//! strace's `-y` printed that descriptor's path) or to a working
//! directory; [`region`] says where a path lies with respect to the
//! record's directory D; [`shown`] writes a path for a reader.
//!
//! Does not promise: to follow symlinks or to look at the file system:
//! `/a/l/..` is `/a` even when `l` is a symlink (the converter's caller
//! passes D without symlinks for this reason).

use super::linux;
use super::strace::{Arg, Call};
use super::table::PathArg;

/// `/a//b/./c/../d/` → `/a/b/d`.
pub(super) fn normalize(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    let mut out = Vec::with_capacity(path.len() + 1);
    for part in &parts {
        out.push(b'/');
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

pub(super) fn parent(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(0) | None => b"/",
        Some(at) => &path[..at],
    }
}

/// Whether `path` is strictly under `dir`.
pub(super) fn is_under(path: &[u8], dir: &[u8]) -> bool {
    if dir == b"/" {
        return path.len() > 1 && path.starts_with(b"/");
    }
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

/// `path` made absolute: relative to the directory descriptor `base`
/// (`AT_FDCWD`, or none, meaning `cwd`). `None` when it cannot be: the
/// descriptor has no path strace could print, or the working directory is
/// not known.
pub(super) fn resolve(base: Option<&Arg>, path: &[u8], cwd: Option<&[u8]>) -> Option<Vec<u8>> {
    if path.starts_with(b"/") {
        return Some(normalize(path));
    }
    let base: &[u8] = match base {
        None | Some(Arg::Int(linux::AT_FDCWD)) => cwd?,
        Some(Arg::Fd { path, .. }) if path.starts_with(b"/") => path,
        Some(_) => return None,
    };
    let mut joined = base.to_vec();
    if !path.is_empty() {
        joined.push(b'/');
        joined.extend_from_slice(path);
    }
    Some(normalize(&joined))
}

/// The absolute path the string at `arg` names, relative to the
/// descriptor the table gives it (or `cwd`).
pub(super) fn path_arg(call: &Call, arg: &PathArg, cwd: Option<&[u8]>) -> Option<Vec<u8>> {
    let Some(Arg::Str(path)) = call.args.get(arg.index) else {
        return None;
    };
    resolve(arg.dir.and_then(|d| call.args.get(d)), path, cwd)
}

/// Whether a string can be a path: the kernel takes none empty, longer
/// than PATH_MAX or holding a NUL.
pub(super) fn looks_like_path(text: &[u8]) -> bool {
    !text.is_empty() && text.len() <= 4096 && !text.contains(&0)
}

/// Where a path lies with respect to D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Region {
    /// D itself.
    Dir,
    /// Strictly under D.
    Under,
    /// A directory above D, other than `/`.
    Above,
    Outside,
}

impl Region {
    pub(super) fn touches(self) -> bool {
        self != Region::Outside
    }
}

/// Where `path` lies with respect to `dir`; both normalized.
pub(super) fn region(path: &[u8], dir: &[u8]) -> Region {
    if path == dir {
        Region::Dir
    } else if is_under(path, dir) {
        Region::Under
    } else if path != b"/" && is_under(dir, path) {
        Region::Above
    } else {
        Region::Outside
    }
}

/// A path for a reader: UTF-8 as it is, control characters and other bytes
/// as `\xNN`.
pub fn shown(path: &[u8]) -> String {
    let mut out = String::new();
    for chunk in path.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_and_repeated_slashes_are_resolved_by_text() {
        assert_eq!(normalize(b"/a//b/./c/../d/"), b"/a/b/d");
        assert_eq!(normalize(b"/.."), b"/");
        assert_eq!(parent(b"/a/b"), b"/a");
        assert_eq!(parent(b"/a"), b"/");
    }

    #[test]
    fn a_path_is_a_string_the_kernel_could_take_as_one() {
        assert!(looks_like_path(b"d"));
        assert!(looks_like_path(&[b'/'; 4096]));
        assert!(!looks_like_path(b""));
        assert!(!looks_like_path(&[b'/'; 4097]));
        assert!(!looks_like_path(b"/d\0f"));
    }

    #[test]
    fn a_sibling_whose_name_starts_with_d_is_outside_it() {
        assert_eq!(region(b"/r/d", b"/r/d"), Region::Dir);
        assert_eq!(region(b"/r/d/f", b"/r/d"), Region::Under);
        assert_eq!(region(b"/r", b"/r/d"), Region::Above);
        assert_eq!(region(b"/", b"/r/d"), Region::Outside);
        assert_eq!(region(b"/r/dd", b"/r/d"), Region::Outside);
        assert_eq!(region(b"pipe:[7]", b"/r/d"), Region::Outside);
        assert!(is_under(b"/r", b"/"));
        assert!(!is_under(b"/", b"/"));
        assert!(!is_under(b"pipe:[7]", b"/"));
        assert!(!is_under(b"/r/d", b"/r/d"));
        assert!(!is_under(b"/r", b"/r/d"));
    }

    #[test]
    fn a_relative_path_needs_a_directory_with_a_path() {
        let dir = Arg::Fd {
            fd: 3,
            path: b"/a".to_vec(),
            deleted: false,
        };
        assert_eq!(resolve(Some(&dir), b"b/../c", None), Some(b"/a/c".to_vec()));
        assert_eq!(resolve(None, b"c", Some(b"/w")), Some(b"/w/c".to_vec()));
        assert_eq!(resolve(None, b"c", None), None);
        assert_eq!(resolve(Some(&Arg::Int(3)), b"c", Some(b"/w")), None);
        let pipe = Arg::Fd {
            fd: 3,
            path: b"pipe:[7]".to_vec(),
            deleted: false,
        };
        assert_eq!(resolve(Some(&pipe), b"c", Some(b"/w")), None);
        assert_eq!(
            resolve(Some(&Arg::Int(3)), b"/c", None),
            Some(b"/c".to_vec())
        );
    }

    #[test]
    fn a_path_is_shown_with_control_and_invalid_bytes_escaped() {
        assert_eq!(shown(b"/d/\xff\n\\\xc3\xa9"), "/d/\\xff\\x0a\\x5cé");
    }
}
