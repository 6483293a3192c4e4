//! The handlers of the calls that change names and modes: opens, `mkdir`,
//! `rename`, the removals and the `chmod`s.
//!
//! Promises: each turns one successful call into at most two ops (an
//! `O_TRUNC` open of an existing file is a `Truncate`; a creating one a
//! `Create`), keeps the converter's names in step, and refuses what the
//! model cannot hold (`O_TMPFILE`, a rename into or out of D, of a
//! directory, or with flags other than `RENAME_NOREPLACE`) or what
//! contradicts the disk before the save. A path argument is the one the
//! system-call table names; other arguments (flags, modes) are read here.
//!
//! Does not promise: anything for a call whose paths are outside D and the
//! directories above it: those make no op.

use lifecycle_model::persistence::{InodeId, Op};

use super::{descriptor_path, inconsistent, model_path, refuse, shown, Converter, Named, Refusal};
use crate::syscalls::args::number;
use crate::syscalls::descriptors::{OpenFile, Target};
use crate::syscalls::linux;
use crate::syscalls::paths::{is_under, parent, Region};
use crate::syscalls::strace::{struct_field, Arg, Call};
use crate::syscalls::table::Syscall;

impl Converter {
    pub(super) fn open(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let (flags, mode) = match call.name.as_str() {
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
        };
        let Some(fd) = call.result.value() else {
            return Ok(());
        };
        self.descriptors.forget(call.pid, fd);
        let Some(path) = self.path_touching(call, known.paths.first())? else {
            return Ok(());
        };
        let flags = flags.ok_or_else(|| refuse(call, shown(&path), "strace printed no flags"))?;
        if flags & linux::O_TMPFILE_BIT != 0 {
            return Err(refuse(
                call,
                shown(&path),
                "O_TMPFILE (a file without a name, linked in later) is not modelled",
            ));
        }
        let target = match self.names.get(&path).cloned() {
            Some(Named::Dir) => Target::Dir(path),
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
        if regions != (Region::Under, Region::Under) {
            return Err(refuse(
                call,
                both,
                "a rename into or out of the record's directory, or of a directory at or above it, is not modelled",
            ));
        }
        let inode =
            match self.names.get(&from) {
                Some(Named::File(inode)) => *inode,
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
        let op = Op::Rename {
            from: model_path(call, &from)?,
            to: model_path(call, &to)?,
        };
        self.push(call, op);
        self.names.remove(&from);
        self.names.insert(to, Named::File(inode));
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
                (Some(Named::File(_)), false) => Op::Unlink {
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
                match self.names.get(&path) {
                    Some(Named::File(inode)) => (Target::File(*inode), arg.index + 1),
                    Some(Named::Dir) => (Target::Dir(path), arg.index + 1),
                    None => {
                        return Err(inconsistent(call, &path, "its mode was set, but neither the disk before the save nor the trace holds it"))
                    }
                }
            }
        };
        let path = match &target {
            Target::Dir(path) => path.clone(),
            Target::File(inode) => self.name_of(*inode).ok_or_else(|| {
                refuse(
                    call,
                    descriptor_path(call),
                    "the mode of a file that no longer has a name is not modelled",
                )
            })?,
        };
        let mode = number(call.args.get(mode_index))
            .ok_or_else(|| refuse(call, shown(&path), "strace printed no mode"))?;
        let op = Op::Chmod {
            path: model_path(call, &path)?,
            mode: (mode as u32) & 0o7777,
        };
        self.push(call, op);
        self.mode_unknown.remove(&target);
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

fn rename_flags(flags: i64) -> String {
    let mut names = Vec::new();
    if flags & linux::RENAME_EXCHANGE != 0 {
        names.push("RENAME_EXCHANGE (a swap of two names)");
    }
    if flags & linux::RENAME_WHITEOUT != 0 {
        names.push("RENAME_WHITEOUT");
    }
    if names.is_empty() {
        format!("renameat2 flags {flags:#x} are not modelled")
    } else {
        format!("{} is not modelled", names.join(" and "))
    }
}
