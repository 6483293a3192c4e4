//! The handlers of the calls that change names and modes: opens, `mkdir`,
//! `rename`, the removals and the `chmod`s.
//!
//! Promises: each turns one successful call into at most two ops (an
//! `O_TRUNC` open of an existing file is a `Truncate`; a creating one a
//! `Create`, or a `CreateUnnamed` for `O_TMPFILE`; a link a `Link`, also of
//! an unnamed file by `AT_EMPTY_PATH` or `/proc/self/fd/N`; an `fchmod` of
//! an unnamed file a `ChmodFile`), keeps the converter's names in step,
//! and refuses what the model cannot hold (a rename or link out of D, into
//! D from a file the save did not make, of a directory, or a rename with
//! flags other than `RENAME_NOREPLACE`) or what contradicts the disk before
//! the save. A temp file the save made outside D and then renamed or linked
//! into D is followed from its creation (the converter adopts it). A path
//! argument is the one the system-call table names; other arguments
//! (flags, modes) are read here.
//!
//! Does not promise: anything for a call whose paths are outside D and the
//! directories above it: those make no op.

use lifecycle_model::persistence::{InodeId, Op};

use super::{descriptor_path, inconsistent, model_path, refuse, shown, Converter, Named, Refusal};
use crate::syscalls::args::{number, open_flags};
use crate::syscalls::descriptors::{OpenFile, Target};
use crate::syscalls::linux;
use crate::syscalls::paths::{is_under, parent, Region};
use crate::syscalls::strace::{Arg, Call};
use crate::syscalls::table::Syscall;

impl Converter {
    pub(super) fn open(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let (flags, mode) = open_flags(call);
        let Some(fd) = call.result.value() else {
            return Ok(());
        };
        self.descriptors.forget(call.pid, fd);
        let Some(path) = self.path_touching(call, known.paths.first())? else {
            return Ok(());
        };
        // A successful open went through a symlink at the path (an
        // O_NOFOLLOW or O_EXCL open of one fails).
        let path = self.follow(&path);
        let flags = flags.ok_or_else(|| refuse(call, shown(&path), "strace printed no flags"))?;
        if flags & linux::O_TMPFILE_BIT != 0 {
            let mode = mode.ok_or_else(|| {
                refuse(call, shown(&path), "strace printed no mode for O_TMPFILE")
            })?;
            let target = self.create_unnamed(call, &path, mode)?;
            let open = OpenFile {
                target,
                offset: 0,
                append: flags & linux::O_APPEND != 0,
            };
            self.descriptors.open(call.pid, fd, open);
            return Ok(());
        }
        let target = match self.names.get(&path).cloned() {
            Some(Named::Dir) => Target::Dir(path),
            Some(Named::Symlink(_)) => {
                return Err(refuse(
                    call,
                    shown(&path),
                    "a chain of symlinks too long to follow",
                ))
            }
            Some(Named::File(inode)) => {
                if flags & (linux::O_CREAT | linux::O_EXCL) == linux::O_CREAT | linux::O_EXCL {
                    return Err(inconsistent(
                        call,
                        &path,
                        "it was created exclusively, but the disk before the save already holds it",
                    ));
                }
                if flags & linux::O_TRUNC != 0 {
                    self.push(call, Op::Truncate { inode, size: 0 });
                    self.sizes.insert(inode, 0);
                }
                Target::File(inode)
            }
            None if flags & linux::O_CREAT != 0 => {
                let mode = mode.ok_or_else(|| {
                    refuse(
                        call,
                        shown(&path),
                        "strace printed no mode for a creating open",
                    )
                })?;
                self.create(call, &path, mode)?
            }
            None => {
                return Err(inconsistent(
                    call,
                    &path,
                    "it was opened, but the disk before the save does not hold it",
                ))
            }
        };
        let open = OpenFile {
            target,
            offset: 0,
            append: flags & linux::O_APPEND != 0,
        };
        self.descriptors.open(call.pid, fd, open);
        Ok(())
    }

    fn create(&mut self, call: &Call, path: &[u8], mode: i64) -> Result<Target, Refusal> {
        self.expect_parent(call, path)?;
        let inode = self.next_inode;
        self.next_inode += 1;
        let op = Op::Create {
            path: model_path(call, path)?,
            inode,
            mode: self.masked(mode),
        };
        let at = self.push(call, op);
        self.mode_unknown.insert(Target::File(inode), at);
        self.names.insert(path.to_vec(), Named::File(inode));
        self.sizes.insert(inode, 0);
        Ok(Target::File(inode))
    }

    /// A file without a name in the directory `dir` (`O_TMPFILE`).
    fn create_unnamed(&mut self, call: &Call, dir: &[u8], mode: i64) -> Result<Target, Refusal> {
        if self.names.get(dir) != Some(&Named::Dir) {
            return Err(inconsistent(
                call,
                dir,
                "a file without a name was made in it, but it is not a directory the disk before the save or the trace holds",
            ));
        }
        let inode = self.next_inode;
        self.next_inode += 1;
        let at = self.push(
            call,
            Op::CreateUnnamed {
                inode,
                mode: self.masked(mode),
            },
        );
        self.mode_unknown.insert(Target::File(inode), at);
        self.sizes.insert(inode, 0);
        Ok(Target::File(inode))
    }

    fn masked(&self, mode: i64) -> u32 {
        (mode as u32) & 0o7777 & !self.umask
    }

    fn expect_parent(&self, call: &Call, path: &[u8]) -> Result<(), Refusal> {
        let parent = parent(path);
        if parent == b"/" || self.names.get(parent) == Some(&Named::Dir) {
            Ok(())
        } else {
            Err(inconsistent(
                call,
                path,
                "its directory is not on the disk before the save, nor created by the trace",
            ))
        }
    }

    pub(super) fn mkdir(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let Some(arg) = known.paths.first() else {
            return self.other(call);
        };
        let Some(path) = self.path_touching(call, Some(arg))? else {
            return Ok(());
        };
        if self.names.contains_key(&path) {
            return Err(inconsistent(
                call,
                &path,
                "it was created, but the disk before the save already holds it",
            ));
        }
        self.expect_parent(call, &path)?;
        // The mode follows the path in mkdir and mkdirat.
        let mode = number(call.args.get(arg.index + 1))
            .ok_or_else(|| refuse(call, shown(&path), "strace printed no mode"))?;
        let op = Op::Mkdir {
            path: model_path(call, &path)?,
            mode: self.masked(mode),
        };
        let at = self.push(call, op);
        self.mode_unknown.insert(Target::Dir(path.clone()), at);
        self.names.insert(path, Named::Dir);
        Ok(())
    }

    pub(super) fn rename(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let from = self.path(call, known.paths.first());
        let to = self.path(call, known.paths.get(1));
        let flags = if call.name == "renameat2" {
            number(call.args.get(4)).unwrap_or(0)
        } else {
            0
        };
        let (Some(from), Some(to)) = (from, to) else {
            return self.other(call);
        };
        let regions = (self.region(&from), self.region(&to));
        if !regions.0.touches() && !regions.1.touches() {
            return Ok(());
        }
        let both = format!("{} to {}", shown(&from), shown(&to));
        if flags & !linux::RENAME_NOREPLACE != 0 {
            return Err(refuse(call, both, rename_flags(flags)));
        }
        let adopted = regions.0 == Region::Outside && self.adopted.contains(&from);
        if regions.1 != Region::Under || !(regions.0 == Region::Under || adopted) {
            return Err(refuse(
                call,
                both,
                "a rename out of the record's directory, into it of a file the save did not make, or of a directory at or above it, is not modelled",
            ));
        }
        let moved =
            match self.names.get(&from) {
                Some(Named::File(inode)) => Named::File(*inode),
                Some(Named::Symlink(target)) => Named::Symlink(target.clone()),
                None if adopted => return Err(refuse(
                    call,
                    both,
                    "a rename into the record's directory of a file the save did not make is not modelled",
                )),
                Some(Named::Dir) => {
                    return Err(refuse(
                        call,
                        both,
                        "the rename of a directory is not modelled",
                    ))
                }
                None => return Err(inconsistent(
                    call,
                    &from,
                    "it was renamed, but neither the disk before the save nor the trace holds it",
                )),
            };
        if self.names.get(&to) == Some(&Named::Dir) {
            return Err(inconsistent(
                call,
                &to,
                "a file was renamed over it, but it is a directory",
            ));
        }
        // rename(2) of a name onto itself does nothing.
        if from == to {
            return Ok(());
        }
        self.expect_parent(call, &to)?;
        let op = Op::Rename {
            from: model_path(call, &from)?,
            to: model_path(call, &to)?,
        };
        self.push(call, op);
        self.names.remove(&from);
        self.names.insert(to, moved);
        Ok(())
    }

    pub(super) fn remove(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let directory = match call.name.as_str() {
            "unlinkat" => number(call.args.get(2)).unwrap_or(0) & linux::AT_REMOVEDIR != 0,
            name => name == "rmdir",
        };
        let Some(path) = self.path_touching(call, known.paths.first())? else {
            return Ok(());
        };
        let op =
            match (self.names.get(&path), directory) {
                (Some(Named::Dir), true) => {
                    let mut prefix = path.clone();
                    prefix.push(b'/');
                    // Every name under the directory sorts at or after `dir/`.
                    let first_after = self.names.range(prefix..).next();
                    if first_after.is_some_and(|(name, _)| is_under(name, &path)) {
                        return Err(inconsistent(
                            call,
                            &path,
                            "it was removed, but the converter still knows names inside it",
                        ));
                    }
                    self.mode_unknown.remove(&Target::Dir(path.clone()));
                    Op::Rmdir {
                        path: model_path(call, &path)?,
                    }
                }
                (Some(Named::File(_) | Named::Symlink(_)), false) => Op::Unlink {
                    path: model_path(call, &path)?,
                },
                (Some(_), _) => {
                    return Err(inconsistent(
                        call,
                        &path,
                        "it was removed as the wrong kind (a file as a directory, or the reverse)",
                    ))
                }
                (None, _) => return Err(inconsistent(
                    call,
                    &path,
                    "it was removed, but neither the disk before the save nor the trace holds it",
                )),
            };
        self.push(call, op);
        self.names.remove(&path);
        Ok(())
    }

    pub(super) fn chmod(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        // The mode follows the descriptor or the path in every chmod.
        let (target, mode_index) = match known.paths.first() {
            None => match self.description(call, 0)? {
                Some(open) => (open.borrow().target.clone(), 1),
                None => return Ok(()),
            },
            Some(arg) => {
                let Some(path) = self.path_touching(call, Some(arg))? else {
                    return Ok(());
                };
                // chmod follows a symlink (Linux cannot chmod the link).
                let path = self.follow(&path);
                match self.names.get(&path) {
                    Some(Named::File(inode)) => (Target::File(*inode), arg.index + 1),
                    Some(Named::Dir) => (Target::Dir(path), arg.index + 1),
                    Some(Named::Symlink(_)) | None => {
                        return Err(inconsistent(call, &path, "its mode was set, but neither the disk before the save nor the trace holds it"))
                    }
                }
            }
        };
        let mode = number(call.args.get(mode_index))
            .ok_or_else(|| refuse(call, descriptor_path(call), "strace printed no mode"))?;
        let mode = (mode as u32) & 0o7777;
        let op = match &target {
            Target::Dir(path) => Op::Chmod {
                path: model_path(call, path)?,
                mode,
            },
            Target::File(inode) => match self.name_of(*inode) {
                Some(path) => Op::Chmod {
                    path: model_path(call, &path)?,
                    mode,
                },
                // A file without a name (yet: O_TMPFILE, or unlinked).
                None => Op::ChmodFile {
                    inode: *inode,
                    mode,
                },
            },
        };
        self.push(call, op);
        self.mode_unknown.remove(&target);
        Ok(())
    }

    /// `link`, `linkat`: a new name in D for a file of D, for a file
    /// without a name by its descriptor (`AT_EMPTY_PATH`, or the
    /// `/proc/self/fd/N` that `AT_SYMLINK_FOLLOW` follows), or for a file
    /// the save made outside D.
    pub(super) fn link(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let flags = if call.name == "linkat" {
            number(call.args.get(4)).unwrap_or(0)
        } else {
            0
        };
        let Some(to) = self.path(call, known.paths.get(1)) else {
            return self.other(call);
        };
        let from_text = match known.paths.first().and_then(|p| call.args.get(p.index)) {
            Some(Arg::Str(text)) => text.clone(),
            _ => Vec::new(),
        };
        let inode = if flags & linux::AT_EMPTY_PATH != 0 && from_text.is_empty() {
            self.description(call, 0)?
                .and_then(|open| match open.borrow().target {
                    Target::File(inode) => Some(inode),
                    Target::Dir(_) => None,
                })
        } else if let Some(fd) =
            proc_self_fd(&from_text, call.pid).filter(|_| flags & linux::AT_SYMLINK_FOLLOW != 0)
        {
            self.descriptors
                .current(call.pid, fd)
                .and_then(|open| match open.borrow().target {
                    Target::File(inode) => Some(inode),
                    Target::Dir(_) => None,
                })
        } else {
            let from = self.path(call, known.paths.first());
            match from {
                Some(from) if self.region(&from) == Region::Under => {
                    match self.names.get(&from) {
                        Some(Named::File(inode)) => Some(*inode),
                        _ => {
                            return Err(inconsistent(
                                call,
                                &from,
                                "it was linked, but neither the disk before the save nor the trace holds a file there",
                            ))
                        }
                    }
                }
                // A file the save made outside D, or none the model holds.
                Some(from) => match self.names.get(&from) {
                    Some(Named::File(inode)) if self.adopted.contains(&from) => Some(*inode),
                    _ => None,
                },
                None => None,
            }
        };
        let to_region = self.region(&to);
        let Some(inode) = inode else {
            if !to_region.touches() {
                return Ok(());
            }
            return Err(refuse(
                call,
                shown(&to),
                "a link into the record's directory of a file the save did not make is not modelled",
            ));
        };
        if to_region != Region::Under {
            return Err(refuse(
                call,
                shown(&to),
                "a link out of the record's directory is not modelled",
            ));
        }
        if self.names.contains_key(&to) {
            return Err(inconsistent(
                call,
                &to,
                "it was linked, but the name is taken (the kernel refuses that with EEXIST)",
            ));
        }
        self.expect_parent(call, &to)?;
        let op = Op::Link {
            inode,
            path: model_path(call, &to)?,
        };
        self.push(call, op);
        self.names.insert(to, Named::File(inode));
        Ok(())
    }

    /// The path that names `inode` now, if any.
    fn name_of(&self, inode: InodeId) -> Option<Vec<u8>> {
        self.names
            .iter()
            .find(|(_, named)| **named == Named::File(inode))
            .map(|(path, _)| path.clone())
    }
}

/// The descriptor `/proc/self/fd/N` (or `/proc/thread-self/fd/N`, or
/// `/proc/PID/fd/N` of the calling process) names.
fn proc_self_fd(path: &[u8], pid: u32) -> Option<i64> {
    let text = std::str::from_utf8(path).ok()?;
    let rest = text.strip_prefix("/proc/")?;
    let (who, fd) = rest.split_once("/fd/")?;
    let own = who == "self" || who == "thread-self" || who.parse::<u32>().ok() == Some(pid);
    own.then(|| fd.parse().ok()).flatten()
}

fn rename_flags(flags: i64) -> String {
    let mut names = Vec::new();
    if flags & linux::RENAME_EXCHANGE != 0 {
        names.push("RENAME_EXCHANGE (a swap of two names)");
    }
    if flags & linux::RENAME_WHITEOUT != 0 {
        names.push("RENAME_WHITEOUT");
    }
    match names.as_slice() {
        [] => format!("renameat2 flags {flags:#x} are not modelled"),
        [one] => format!("{one} is not modelled"),
        both => format!("{} are not modelled", both.join(" and ")),
    }
}
