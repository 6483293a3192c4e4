//! A traced process seen from outside: its memory, its descriptors and
//! its working directory.
//!
//! Promises: [`Process`] reads another process's memory with
//! `process_vm_readv` (a string up to its NUL, at most `PATH_MAX` bytes;
//! a buffer of a given length, at most [`STRING_LIMIT`] bytes), the path
//! a descriptor refers to as `/proc/PID/fd/N` links to it (the kernel's
//! ` (deleted)` suffix taken off and reported apart, as strace's `-y`
//! prints it), and its working directory as `/proc/PID/cwd` links to it,
//! read once per [`Process`]; [`thread_group`] the process a thread
//! belongs to. Nothing here panics on a process that is gone: a read of it
//! is `None`.
//!
//! Does not promise: a consistent read of memory another thread changes
//! while it is read.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// The kernel's longest path, with its NUL.
const PATH_MAX: usize = 4096;

/// The most bytes of one buffer the trace shows, as strace's
/// `-s 2097152` does: a longer one is shown cut, followed by `...`.
pub(super) const STRING_LIMIT: usize = 2_097_152;

/// A traced process, its working directory read once if at all.
pub(super) struct Process {
    pub(super) pid: i32,
    cwd: Option<Option<Vec<u8>>>,
}

impl Process {
    pub(super) fn new(pid: i32) -> Process {
        Process { pid, cwd: None }
    }

    /// Its working directory.
    pub(super) fn cwd(&mut self) -> Option<Vec<u8>> {
        let pid = self.pid;
        self.cwd
            .get_or_insert_with(|| link(&format!("/proc/{pid}/cwd")).map(|(path, _)| path))
            .clone()
    }

    /// The path descriptor `fd` refers to, and whether that file has no
    /// name any more; `None` when it is not open.
    pub(super) fn fd(&self, fd: i64) -> Option<(Vec<u8>, bool)> {
        (fd >= 0)
            .then(|| link(&format!("/proc/{}/fd/{fd}", self.pid)))
            .flatten()
    }

    /// The NUL-terminated string at `address`, at most `PATH_MAX` bytes;
    /// `None` when unreadable or longer.
    pub(super) fn string(&self, address: u64) -> Option<Vec<u8>> {
        const PAGE: u64 = 4096;
        let mut out = Vec::new();
        let mut at = address;
        while out.len() < PATH_MAX {
            // Never across a page boundary: the next page may be unmapped
            // though the string ends before it.
            let chunk = (PAGE - at % PAGE).min((PATH_MAX - out.len()) as u64) as usize;
            let buf = self.read(at, chunk)?;
            if let Some(end) = buf.iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..end]);
                return Some(out);
            }
            at = at.checked_add(buf.len() as u64)?;
            out.extend_from_slice(&buf);
        }
        None
    }

    /// The `len` bytes at `address`, at most [`STRING_LIMIT`] of them;
    /// `None` when they cannot all be read.
    pub(super) fn bytes(&self, address: u64, len: u64) -> Option<Vec<u8>> {
        let want = usize::try_from(len).unwrap_or(usize::MAX).min(STRING_LIMIT);
        let mut out = Vec::with_capacity(want);
        while out.len() < want {
            let at = address.checked_add(out.len() as u64)?;
            out.extend_from_slice(&self.read(at, want - out.len())?);
        }
        Some(out)
    }

    /// The little-endian 64-bit words at `address`, `count` of them.
    pub(super) fn words(&self, address: u64, count: usize) -> Option<Vec<u64>> {
        let bytes = self.bytes(address, (count * 8) as u64)?;
        Some(
            bytes
                .chunks_exact(8)
                .map(|w| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]))
                .collect(),
        )
    }

    /// Up to `len` bytes at `address`: what one `process_vm_readv` gives,
    /// at least one byte, else `None`.
    fn read(&self, address: u64, len: usize) -> Option<Vec<u8>> {
        if len == 0 {
            return Some(Vec::new());
        }
        let mut buf = vec![0u8; len];
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: len,
        };
        let remote = libc::iovec {
            iov_base: address as *mut libc::c_void,
            iov_len: len,
        };
        // SAFETY: `local` describes `buf`, a live buffer of exactly `len`
        // bytes this function owns, and is the only buffer the kernel
        // writes to; `remote` is an address in the other process, which
        // the kernel checks (a bad one is EFAULT, not a fault here). One
        // iovec each side, as the counts say.
        let read = unsafe { libc::process_vm_readv(self.pid, &local, 1, &remote, 1, 0) };
        let read = usize::try_from(read).ok().filter(|&n| n > 0)?;
        buf.truncate(read);
        Some(buf)
    }
}

/// The thread group of thread `tid` (its process, by the leader's id), as
/// the `Tgid:` line of `/proc/TID/status` says; `None` when that cannot be
/// read.
pub(super) fn thread_group(tid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Tgid:"))?
        .trim()
        .parse()
        .ok()
}

/// Where a `/proc` link points, and whether the file was deleted (the
/// kernel's ` (deleted)` suffix, taken off).
fn link(path: &str) -> Option<(Vec<u8>, bool)> {
    let target = std::fs::read_link(path).ok()?;
    let bytes = OsString::from(target).into_vec();
    match bytes.strip_suffix(b" (deleted)") {
        Some(name) if name.starts_with(b"/") => Some((name.to_vec(), true)),
        _ => Some((bytes, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn this() -> Process {
        Process::new(i32::try_from(std::process::id()).expect("a pid"))
    }

    #[test]
    fn this_process_reads_its_own_strings_buffers_and_words() {
        let process = this();
        let text = std::ffi::CString::new("/a/b c").expect("no NUL");
        assert_eq!(
            process.string(text.as_ptr() as u64),
            Some(b"/a/b c".to_vec())
        );
        let data = b"0123456789".to_vec();
        assert_eq!(
            process.bytes(data.as_ptr() as u64, 4),
            Some(b"0123".to_vec())
        );
        let words: [u64; 2] = [7, u64::MAX];
        assert_eq!(
            process.words(words.as_ptr() as u64, 2),
            Some(words.to_vec())
        );
        assert_eq!(process.bytes(0, 1), None, "an unmapped address");
        assert_eq!(process.string(0), None);
    }

    #[test]
    fn a_buffer_longer_than_the_limit_is_read_as_far_as_the_limit() {
        let data = vec![b'x'; STRING_LIMIT + 10];
        let read = this()
            .bytes(data.as_ptr() as u64, data.len() as u64)
            .expect("read");
        assert_eq!(read.len(), STRING_LIMIT);
    }

    #[test]
    fn a_thread_belongs_to_the_group_of_the_process_that_made_it() {
        let pid = i32::try_from(std::process::id()).expect("a pid");
        let (tid, group) = std::thread::spawn(|| {
            // SAFETY: gettid(2) takes nothing and cannot fail.
            let tid = unsafe { libc::gettid() };
            (tid, thread_group(tid))
        })
        .join()
        .expect("the thread ran");
        assert_ne!(tid, pid);
        assert_eq!(group, Some(pid));
        assert_eq!(thread_group(pid), Some(pid));
        assert_eq!(thread_group(-1), None);
    }

    #[test]
    fn a_descriptor_of_a_file_removed_has_its_old_path_and_says_so() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("f");
        let file = std::fs::File::create(&path).expect("created");
        let fd = i64::from(file.as_raw_fd());
        let process = this();
        let named = path.as_os_str().as_encoded_bytes().to_vec();
        assert_eq!(process.fd(fd), Some((named.clone(), false)));
        std::fs::remove_file(&path).expect("removed");
        assert_eq!(process.fd(fd), Some((named, true)));
        assert_eq!(process.fd(-1), None);
    }
}
