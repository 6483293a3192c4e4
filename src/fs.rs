//! The one door to the file system.
//!
//! Promises: every file-system step the store takes is one call of [`Fs`],
//! and each call is one step a persistence model distinguishes (create
//! exclusive, write at an offset, fsync a file, close, rename, fsync a
//! directory, unlink, mkdir, rmdir, bounded read, list a directory, take the
//! writer lock). A simulated file system can therefore record, crash or fault
//! the store at any step by implementing this trait.
//!
//! [`RealFs`] promises: files are created with `O_CREAT|O_EXCL|O_NOFOLLOW|
//! O_CLOEXEC` and exactly the mode asked for (an `fchmod` repairs what the
//! umask took away); reads never block on a FIFO, never read past the limit
//! given and size their buffer from the file's `fstat` (never past the limit),
//! so that a file as long as its `fstat` says takes one `read`; the lock is
//! `flock(LOCK_EX|LOCK_NB)` and so excludes other open files in this process
//! as well as other processes.
//!
//! Does not promise: anything about file systems that ignore fsync.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::IntoRawFd;
use std::path::Path;

/// Why the writer lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another writer holds it.
    Locked,
    /// The lock file could not be opened or locked.
    Io(io::Error),
}

/// The file-system operations the store uses, one per observable step.
pub trait Fs {
    /// An open file created by [`Fs::create_exclusive`].
    type File;
    /// Proof that the writer lock is held; dropping it releases the lock.
    type Lock;

    /// Creates a new file that must not exist yet (no symlink followed).
    fn create_exclusive(&self, path: &Path, mode: u32) -> io::Result<Self::File>;
    /// Writes all of `data` at `offset`.
    fn write_at(&self, file: &mut Self::File, offset: u64, data: &[u8]) -> io::Result<()>;
    /// fsync: makes the file's data and size durable.
    fn sync_file(&self, file: &mut Self::File) -> io::Result<()>;
    /// Closes the file, reporting any error the close reports.
    fn close(&self, file: Self::File) -> io::Result<()>;
    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// fsync of a directory: makes its entries durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Creates one directory (not its parents) with exactly `mode`.
    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()>;
    /// Removes an empty directory.
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// Reads at most `limit` bytes of a regular file; anything else is an error.
    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>>;
    /// Names of the entries of a directory.
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<OsString>>;
    /// Takes the exclusive writer lock on `path` without waiting.
    fn try_lock(&self, path: &Path) -> Result<Self::Lock, LockError>;
}

/// The writer lock of [`RealFs`]: released on drop with an explicit
/// `flock(LOCK_UN)`.
///
/// Closing the file alone is not enough: a child process forked by another
/// thread holds a copy of the descriptor until its `exec` closes it
/// (`O_CLOEXEC`), and an `flock` lives as long as any copy does. Without the
/// unlock, such a fork would keep the lock after its writer finished and
/// refuse the next writer with `Locked`.
#[derive(Debug)]
pub struct FileLock(File);

impl Drop for FileLock {
    fn drop(&mut self) {
        // An unlock that fails leaves the lock to the close that follows.
        let _ = self.0.unlock();
    }
}

/// The real file system, through std and a few `libc` flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

/// How much the buffer grows once a file turns out longer than its `fstat`
/// size said (files that report 0, such as those of `/proc`, or one that
/// grew since): enough that such a file still takes few reads.
const READ_GROWTH: usize = 8 * 1024;

/// Reads `file` until end of file or `limit` bytes, whichever comes first.
///
/// `size_hint` is the size `fstat` reported. The buffer is sized from it
/// (plus one byte, so that a file of exactly that size comes back short of
/// the request) and capped at `limit`, so one `read` takes a file whose size
/// did not change, and a huge reported size allocates no more than `limit`.
fn read_to_limit(file: &mut File, size_hint: u64, limit: u64) -> io::Result<Vec<u8>> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let first = usize::try_from(size_hint)
        .unwrap_or(usize::MAX)
        .saturating_add(1)
        .min(limit);
    // Zeroed rather than read into spare capacity: filling a few hundred
    // bytes costs nothing next to a system call, and needs no `unsafe`.
    let mut buf = vec![0u8; first];
    let mut filled = 0;
    while filled < limit {
        if filled == buf.len() {
            let grown = filled.saturating_add(filled.max(READ_GROWTH)).min(limit);
            // Exact, so the allocation never exceeds `limit` (`resize` alone
            // may double the capacity past it).
            buf.reserve_exact(grown - filled);
            buf.resize(grown, 0);
        }
        let wanted = buf.len() - filled;
        let n = match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += n;
        // A read short of the request that ends exactly at the `fstat` size
        // is the end of the file: another `read` to see 0 could only tell a
        // file being appended to in place, and such a file has no consistent
        // content to read anyway (the store's own writer never changes a
        // file after its rename). Any other short read (the file shrank, or
        // a file system returned less) reads on.
        if n < wanted && filled as u64 == size_hint {
            break;
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

fn mode_bits(file: &File) -> io::Result<u32> {
    Ok(file.metadata()?.permissions().mode() & 0o7777)
}

impl Fs for RealFs {
    type File = File;
    type Lock = FileLock;

    fn create_exclusive(&self, path: &Path, mode: u32) -> io::Result<File> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        let repaired = mode_bits(&file).and_then(|actual| {
            if actual == mode {
                return Ok(());
            }
            // The umask took bits away; the record must still be `mode`.
            file.set_permissions(Permissions::from_mode(mode))
        });
        if let Err(e) = repaired {
            // The caller never learns of this file, so it must not outlive us.
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(file)
    }

    fn write_at(&self, file: &mut File, offset: u64, data: &[u8]) -> io::Result<()> {
        file.write_all_at(data, offset)
    }

    fn sync_file(&self, file: &mut File) -> io::Result<()> {
        file.sync_all()
    }

    fn close(&self, file: File) -> io::Result<()> {
        let fd = file.into_raw_fd();
        // SAFETY: `fd` was just released by `into_raw_fd`, so this call is its
        // only owner and closes it exactly once.
        if unsafe { libc::close(fd) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        std::fs::DirBuilder::new().mode(mode).create(path)?;
        let actual = std::fs::symlink_metadata(path)?.permissions().mode() & 0o7777;
        if actual != mode {
            std::fs::set_permissions(path, Permissions::from_mode(mode))?;
        }
        Ok(())
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path)
    }

    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        // O_NONBLOCK so that opening a FIFO with no writer returns at once.
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)?;
        // The one `fstat` (std asks `statx`): it checks the type before any
        // read and sizes the buffer.
        let metadata = file.metadata()?;
        let file_type = metadata.file_type();
        if file_type.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory, not a regular file",
            ));
        }
        if !file_type.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        read_to_limit(&mut file, metadata.len(), limit)
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        std::fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect()
    }

    fn try_lock(&self, path: &Path) -> Result<FileLock, LockError> {
        // Created 0600 (repaired if the umask took bits) when missing; an
        // existing lock file is used as it is, whoever made it.
        let file = match self.create_exclusive(path, 0o600) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(path)
                .map_err(LockError::Io)?,
            Err(e) => return Err(LockError::Io(e)),
        };
        match file.try_lock() {
            Ok(()) => Ok(FileLock(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Locked),
            Err(std::fs::TryLockError::Error(e)) => Err(LockError::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A file holding `content`, opened for reading, and its directory.
    fn file_with(content: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        File::create(&path)
            .and_then(|mut f| f.write_all(content))
            .expect("write");
        let file = File::open(&path).expect("open");
        (dir, file)
    }

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn a_file_of_its_fstat_size_is_read_whole() {
        for len in [0, 1, 409, 20_000] {
            let (_dir, mut file) = file_with(&content(len));
            let read = read_to_limit(&mut file, len as u64, 1 << 20).expect("read");
            assert_eq!(read, content(len), "len {len}");
        }
    }

    // The size hint stands for an fstat taken before the file changed.
    #[test]
    fn a_file_longer_than_its_hint_is_read_to_the_end() {
        for (len, hint) in [(409, 0), (409, 100), (409, 408), (50_000, 10)] {
            let (_dir, mut file) = file_with(&content(len));
            let read = read_to_limit(&mut file, hint, 1 << 20).expect("read");
            assert_eq!(read, content(len), "len {len}, hint {hint}");
        }
    }

    #[test]
    fn a_file_shorter_than_its_hint_is_read_to_the_end() {
        for (len, hint) in [(0, 409), (100, 409), (408, 409)] {
            let (_dir, mut file) = file_with(&content(len));
            let read = read_to_limit(&mut file, hint, 1 << 20).expect("read");
            assert_eq!(read, content(len), "len {len}, hint {hint}");
        }
    }

    #[test]
    fn never_more_than_the_limit_whatever_the_hint() {
        for (len, hint, limit) in [
            (409, 409, 409),
            (410, 410, 409),
            (20_000, 20_000, 409),
            (20_000, 0, 409),
            (20_000, u64::MAX, 409),
            (409, u64::MAX, 1 << 20),
            (409, 409, 0),
            (50_000, 10, 30_000),
            (50_000, 10, 20_000),
        ] {
            let (_dir, mut file) = file_with(&content(len));
            let read = read_to_limit(&mut file, hint, limit).expect("read");
            let want = len.min(limit as usize);
            assert_eq!(read, content(want), "len {len}, hint {hint}, limit {limit}");
            assert!(
                read.capacity() as u64 <= limit.max(1),
                "capacity {} for limit {limit}",
                read.capacity()
            );
        }
    }

    #[test]
    fn a_regular_file_that_reports_size_zero_is_read() {
        // procfs reports 0 for files that have content.
        let read = RealFs
            .read_bounded(Path::new("/proc/self/status"), 1 << 20)
            .expect("read /proc/self/status");
        assert!(
            read.starts_with(b"Name:"),
            "{:?}",
            String::from_utf8_lossy(&read)
        );
    }
}
