//! The handlers of the calls that act through a descriptor: writes,
//! truncations, syncs, reads and seeks, `fcntl`, `mmap`, and the stats
//! that tell a created file's mode.
//!
//! Promises: a write becomes one `Write` at the offset the kernel used
//! (the description's offset, its position argument, or the end of the
//! file under `O_APPEND` or `RWF_APPEND`) with the bytes strace printed,
//! refused when strace printed fewer than were written; `truncate` and
//! `ftruncate` become `Truncate`; `fsync` and `fdatasync` become
//! `FsyncFile`, `FdatasyncFile` or `FsyncDir`; reads and `lseek` move the
//! offset; `fcntl` duplicates, sets `O_APPEND`, or is refused on a file of
//! D for any command that is not harmless; a shared writable `mmap` of a
//! file of D is refused; the first stat after a creation sets its mode.
//!
//! Does not promise: the data of a write strace printed in part (`-s` too
//! small), a write to a directory, or the effect of a read on anything but
//! the offset.

use lifecycle_model::persistence::Op;

use super::{descriptor_path, inconsistent, model_path, refuse, shown, Converter, Named, Refusal};
use crate::syscalls::args::number;
use crate::syscalls::descriptors::Target;
use crate::syscalls::linux;
use crate::syscalls::strace::{array_items, struct_field, Arg, Call};
use crate::syscalls::table::Syscall;

impl Converter {
    pub(super) fn write(&mut self, call: &Call) -> Result<(), Refusal> {
        let Some(open) = self.description(call, 0)? else {
            return Ok(());
        };
        let Target::File(inode) = open.borrow().target else {
            return Err(refuse(
                call,
                descriptor_path(call),
                "a write to a directory",
            ));
        };
        let written = call.result.value().unwrap_or(0).max(0) as u64;
        let printed = match call.name.as_str() {
            "write" | "pwrite64" => match call.args.get(1) {
                Some(Arg::Str(data)) => data.clone(),
                _ => Vec::new(),
            },
            _ => match call.args.get(1) {
                Some(Arg::Array(text)) => iovec_bytes(text),
                _ => Vec::new(),
            },
        };
        if (printed.len() as u64) < written {
            return Err(refuse(
                call,
                descriptor_path(call),
                format!(
                    "strace printed {} of the {written} bytes written; record with a larger -s",
                    printed.len()
                ),
            ));
        }
        let data = printed[..written as usize].to_vec();
        let (position, append_flag) = match call.name.as_str() {
            "pwrite64" | "pwritev" => (number(call.args.get(3)), false),
            "pwritev2" => (
                number(call.args.get(3)).filter(|&offset| offset != -1),
                number(call.args.get(4)).unwrap_or(0) & linux::RWF_APPEND != 0,
            ),
            _ => (None, false),
        };
        let size = self.sizes.get(&inode).copied().unwrap_or(0);
        let mut open = open.borrow_mut();
        // Linux appends even a positional write on an O_APPEND file.
        let offset = if open.append || append_flag {
            size
        } else {
            match position {
                Some(at) => u64::try_from(at).map_err(|_| {
                    refuse(call, descriptor_path(call), "a write at a negative offset")
                })?,
                None => open.offset,
            }
        };
        if position.is_none() {
            open.offset = offset + written;
        }
        drop(open);
        if written > 0 {
            self.push(
                call,
                Op::Write {
                    inode,
                    offset,
                    data,
                },
            );
            self.sizes.insert(inode, size.max(offset + written));
        }
        Ok(())
    }

    /// A read moves the file offset a later write starts from.
    pub(super) fn advance(&mut self, call: &Call) -> Result<(), Refusal> {
        if let Some(open) = self.description(call, 0)? {
            let read = call.result.value().unwrap_or(0).max(0) as u64;
            open.borrow_mut().offset += read;
        }
        Ok(())
    }

    pub(super) fn seek(&mut self, call: &Call) -> Result<(), Refusal> {
        if let (Some(open), Some(at)) = (self.description(call, 0)?, call.result.value()) {
            open.borrow_mut().offset = at.max(0) as u64;
        }
        Ok(())
    }

    pub(super) fn sync(&mut self, call: &Call) -> Result<(), Refusal> {
        let Some(open) = self.description(call, 0)? else {
            return Ok(());
        };
        let target = open.borrow().target.clone();
        let op = match target {
            Target::Dir(path) => Op::FsyncDir {
                path: model_path(call, &path)?,
            },
            Target::File(inode) if call.name == "fdatasync" => Op::FdatasyncFile { inode },
            Target::File(inode) => Op::FsyncFile { inode },
        };
        self.push(call, op);
        Ok(())
    }

    pub(super) fn truncate(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let inode = match known.paths.first() {
            None => {
                let Some(open) = self.description(call, 0)? else {
                    return Ok(());
                };
                let target = open.borrow().target.clone();
                match target {
                    Target::File(inode) => inode,
                    Target::Dir(path) => {
                        return Err(refuse(call, shown(&path), "a truncation of a directory"))
                    }
                }
            }
            Some(arg) => {
                let Some(path) = self.path_touching(call, Some(arg))? else {
                    return Ok(());
                };
                match self.names.get(&self.follow(&path)) {
                    Some(Named::File(inode)) => *inode,
                    _ => {
                        return Err(inconsistent(call, &path, "it was truncated, but it is not a file the disk before the save or the trace holds"))
                    }
                }
            }
        };
        let size = number(call.args.get(1))
            .and_then(|size| u64::try_from(size).ok())
            .ok_or_else(|| refuse(call, descriptor_path(call), "strace printed no size"))?;
        self.push(call, Op::Truncate { inode, size });
        self.sizes.insert(inode, size);
        Ok(())
    }

    pub(super) fn fcntl(&mut self, call: &Call) -> Result<(), Refusal> {
        let command = number(call.args.get(1)).unwrap_or(-1);
        match command {
            linux::F_DUPFD | linux::F_DUPFD_CLOEXEC => {
                self.descriptors.dup(call, 0);
                Ok(())
            }
            linux::F_SETFL => {
                if let Some(open) = self.description(call, 0)? {
                    let flags = number(call.args.get(2)).unwrap_or(0);
                    open.borrow_mut().append = flags & linux::O_APPEND != 0;
                }
                Ok(())
            }
            c if linux::F_HARMLESS.contains(&c) => Ok(()),
            _ => match self.description(call, 0)? {
                Some(_) => Err(refuse(
                    call,
                    descriptor_path(call),
                    format!("fcntl command {command} is not modelled"),
                )),
                None => Ok(()),
            },
        }
    }

    pub(super) fn mmap(&mut self, call: &Call) -> Result<(), Refusal> {
        let prot = number(call.args.get(2)).unwrap_or(0);
        let flags = number(call.args.get(3)).unwrap_or(0);
        let shared = matches!(
            flags & linux::MAP_TYPE,
            linux::MAP_SHARED | linux::MAP_SHARED_VALIDATE
        );
        if prot & linux::PROT_WRITE == 0 || !shared {
            return Ok(());
        }
        match self.description(call, 4)? {
            Some(_) => Err(refuse(
                call,
                descriptor_path(call),
                "a shared writable mapping (its writes reach the file without a write call) is not modelled",
            )),
            None => Ok(()),
        }
    }

    /// A stat after a creation tells the mode the kernel gave it.
    pub(super) fn stat(&mut self, call: &Call, known: &Syscall) -> Result<(), Refusal> {
        let (struct_index, member) = match call.name.as_str() {
            "fstat" | "stat" | "lstat" => (1, "st_mode"),
            "newfstatat" => (2, "st_mode"),
            _ => (4, "stx_mode"),
        };
        let path_arg = known.paths.first();
        // With AT_EMPTY_PATH an empty path names the descriptor itself.
        let empty_path = matches!(
            path_arg.and_then(|p| call.args.get(p.index)),
            Some(Arg::Str(p)) if p.is_empty()
        );
        let target = match path_arg {
            Some(arg) if !empty_path => {
                let Some(path) = self.path(call, Some(arg)) else {
                    return Ok(());
                };
                // stat follows a symlink, lstat does not; either way a
                // symlink tells no creation mode.
                match self.names.get(&path) {
                    Some(Named::File(inode)) => Target::File(*inode),
                    Some(Named::Dir) => Target::Dir(path),
                    Some(Named::Symlink(_)) | None => return Ok(()),
                }
            }
            _ => match self.description(call, 0)? {
                Some(open) => open.borrow().target.clone(),
                None => return Ok(()),
            },
        };
        let Some(at) = self.mode_unknown.get(&target).copied() else {
            return Ok(());
        };
        let mode = match call.args.get(struct_index) {
            Some(Arg::Struct(text)) => number(struct_field(text, member).as_ref()),
            _ => None,
        };
        if let Some(mode) = mode {
            let mode = (mode as u32) & 0o7777;
            match &mut self.ops[at].op {
                Op::Create { mode: m, .. }
                | Op::CreateUnnamed { mode: m, .. }
                | Op::Mkdir { mode: m, .. } => *m = mode,
                _ => {}
            }
            self.mode_unknown.remove(&target);
        }
        Ok(())
    }
}

/// The bytes of an iovec array's `iov_base` members, in order.
fn iovec_bytes(text: &str) -> Vec<u8> {
    let mut data = Vec::new();
    for item in array_items(text) {
        if let Arg::Struct(member) = item {
            if let Some(Arg::Str(bytes)) = struct_field(&member, "iov_base") {
                data.extend_from_slice(&bytes);
            }
        }
    }
    data
}
