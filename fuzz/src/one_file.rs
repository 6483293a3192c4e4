//! The leanest file system `load` can run on: one read-only file.
//!
//! `load_bytes` runs once per fuzz input, so it loads through this instead
//! of [`lifecycle_testkit::SimFs`] (which keeps a tree, a log and a durable
//! copy of every file): the store's `load_with` still does all its own
//! work, over an `Fs` whose only answer is the fuzz input.
//!
//! Promises: `read_bounded` of the one path returns at most `limit` bytes
//! of the data; every other path is `NotFound`; every writing call fails
//! with `Unsupported` (load writes nothing, SPEC §2.2.5, so a call would be
//! a violation that the target then reports).

use std::ffi::OsString;
use std::io;
use std::path::Path;

use lifecycle_state::fs::LockError;
use lifecycle_state::{Clock, Fs, Timestamp};

pub struct OneFile<'a> {
    pub path: &'a Path,
    pub data: &'a [u8],
}

fn refused<T>() -> io::Result<T> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "OneFile is read-only: load must not write",
    ))
}

impl Fs for OneFile<'_> {
    type File = ();
    type Lock = ();

    fn create_exclusive(&self, _: &Path, _: u32) -> io::Result<()> {
        refused()
    }
    fn write_at(&self, _: &mut (), _: u64, _: &[u8]) -> io::Result<()> {
        refused()
    }
    fn sync_file(&self, _: &mut ()) -> io::Result<()> {
        refused()
    }
    fn close(&self, _: ()) -> io::Result<()> {
        refused()
    }
    fn rename(&self, _: &Path, _: &Path) -> io::Result<()> {
        refused()
    }
    fn sync_dir(&self, _: &Path) -> io::Result<()> {
        refused()
    }
    fn remove_file(&self, _: &Path) -> io::Result<()> {
        refused()
    }
    fn create_dir(&self, _: &Path, _: u32) -> io::Result<()> {
        refused()
    }
    fn remove_dir(&self, _: &Path) -> io::Result<()> {
        refused()
    }
    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        if path != self.path {
            return Err(io::ErrorKind::NotFound.into());
        }
        let n = usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        Ok(self.data[..n].to_vec())
    }
    fn list_dir(&self, _: &Path) -> io::Result<Vec<OsString>> {
        refused()
    }
    fn try_lock(&self, _: &Path) -> Result<(), LockError> {
        Err(LockError::Io(io::ErrorKind::Unsupported.into()))
    }
}

/// A clock that always says the same instant, without formatting it anew.
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0.clone()
    }
}
