//! [`FaultyFs`]: an [`Fs`] wrapper that logs every call and fails the N-th
//! call of a chosen operation with a chosen errno, before or after the
//! operation takes effect.
//!
//! Promises: every call is logged with its paths, argument and result, in
//! order; an injected fault fails exactly the calls it names. Does not
//! promise anything about the wrapped file system itself.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lifecycle_state::fs::LockError;
use lifecycle_state::{Fs, RealFs};

// ---------------------------------------------------------------------------

/// One kind of [`Fs`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    CreateExclusive,
    WriteAt,
    SyncFile,
    Close,
    Rename,
    SyncDir,
    RemoveFile,
    RemoveDir,
    CreateDir,
    ReadBounded,
    ListDir,
    TryLock,
}

/// When an injected fault strikes relative to the real operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// The call fails and the operation never happens.
    Before,
    /// The operation happens, then the call reports the error. For
    /// [`Op::WriteAt`] only the first half of the data is written (a short
    /// write that ends in an error, as `ENOSPC` mid-write does).
    After,
}

#[derive(Debug, Clone, Copy)]
struct Fault {
    op: Op,
    /// 1-based index of the first call of `op` that fails.
    nth: usize,
    /// Every call from `nth` on fails, not only the `nth`.
    sticky: bool,
    errno: i32,
    timing: Timing,
}

impl Fault {
    fn matches(&self, op: Op, n: usize) -> bool {
        self.op == op && (n == self.nth || (self.sticky && n > self.nth))
    }
}

/// One logged call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: Op,
    /// The paths the call named (`rename`: from, to; file handles: the path
    /// the file was created at).
    pub paths: Vec<PathBuf>,
    /// The numeric argument: the mode for `create_*`, the data
    /// length for `write_at`, the limit for `read_bounded`.
    pub arg: Option<u64>,
    /// Whether this call's error was injected.
    pub injected: bool,
    /// The call's result (errors by kind and raw errno).
    pub result: Result<(), (io::ErrorKind, Option<i32>)>,
}

/// A file handle of a [`FaultyFs`]: the inner handle and where it was created.
#[derive(Debug)]
pub struct Tracked<T> {
    pub inner: T,
    pub path: PathBuf,
}

/// An [`Fs`] that records every call and fails chosen calls.
#[derive(Debug, Default)]
pub struct FaultyFs<F: Fs = RealFs> {
    inner: F,
    faults: Vec<Fault>,
    counts: Mutex<HashMap<Op, usize>>,
    log: Mutex<Vec<Call>>,
}

impl FaultyFs<RealFs> {
    /// The real file system, recorded, with no fault yet.
    pub fn new() -> Self {
        FaultyFs::wrap(RealFs)
    }
}

impl<F: Fs> FaultyFs<F> {
    pub fn wrap(inner: F) -> Self {
        FaultyFs {
            inner,
            faults: Vec::new(),
            counts: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Fails the `nth` (1-based) call of `op` with `errno`, before it acts.
    pub fn fail(self, op: Op, nth: usize, errno: i32) -> Self {
        self.fault(op, nth, errno, Timing::Before, false)
    }

    /// Fails the `nth` call of `op` with `errno` after it took effect.
    pub fn fail_after_effect(self, op: Op, nth: usize, errno: i32) -> Self {
        self.fault(op, nth, errno, Timing::After, false)
    }

    /// Fails every call of `op` from the `nth` on with `errno`.
    pub fn fail_from(self, op: Op, nth: usize, errno: i32) -> Self {
        self.fault(op, nth, errno, Timing::Before, true)
    }

    fn fault(mut self, op: Op, nth: usize, errno: i32, timing: Timing, sticky: bool) -> Self {
        assert!(nth >= 1, "calls are counted from 1");
        self.faults.push(Fault {
            op,
            nth,
            sticky,
            errno,
            timing,
        });
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.log.lock().unwrap().clone()
    }

    /// The kinds of every call so far, in order.
    pub fn ops(&self) -> Vec<Op> {
        self.calls().into_iter().map(|c| c.op).collect()
    }

    /// How many calls of `op` were made.
    pub fn count(&self, op: Op) -> usize {
        self.counts.lock().unwrap().get(&op).copied().unwrap_or(0)
    }

    /// How many injected faults fired.
    pub fn injected(&self) -> usize {
        self.calls().iter().filter(|c| c.injected).count()
    }

    /// Counts a call of `op` and returns the fault it must suffer, if any.
    fn next(&self, op: Op) -> Option<Fault> {
        let mut counts = self.counts.lock().unwrap();
        let n = counts.entry(op).or_insert(0);
        *n += 1;
        let n = *n;
        self.faults.iter().copied().find(|f| f.matches(op, n))
    }

    /// Runs one call: decides the fault, performs (fully, partially or not
    /// at all) and logs.
    fn call<T>(
        &self,
        op: Op,
        paths: Vec<PathBuf>,
        arg: Option<u64>,
        perform: impl FnOnce(Timing) -> io::Result<T>,
    ) -> io::Result<T> {
        let fault = self.next(op);
        let result = match fault {
            None => perform(Timing::Before),
            Some(f) => {
                if f.timing == Timing::After {
                    // The effect happens; whatever it returned is dropped.
                    let _ = perform(Timing::After);
                }
                Err(io::Error::from_raw_os_error(f.errno))
            }
        };
        self.log.lock().unwrap().push(Call {
            op,
            paths,
            arg,
            injected: fault.is_some(),
            result: match &result {
                Ok(_) => Ok(()),
                Err(e) => Err((e.kind(), e.raw_os_error())),
            },
        });
        result
    }
}

impl<F: Fs> Fs for FaultyFs<F> {
    type File = Tracked<F::File>;
    type Lock = F::Lock;

    fn create_exclusive(&self, path: &Path, mode: u32) -> io::Result<Self::File> {
        self.call(
            Op::CreateExclusive,
            vec![path.to_path_buf()],
            Some(u64::from(mode)),
            |_| {
                self.inner
                    .create_exclusive(path, mode)
                    .map(|inner| Tracked {
                        inner,
                        path: path.to_path_buf(),
                    })
            },
        )
    }

    fn write_at(&self, file: &mut Self::File, offset: u64, data: &[u8]) -> io::Result<()> {
        let path = file.path.clone();
        self.call(
            Op::WriteAt,
            vec![path],
            Some(data.len() as u64),
            |timing| match timing {
                Timing::Before => self.inner.write_at(&mut file.inner, offset, data),
                Timing::After => {
                    let half = &data[..data.len() / 2];
                    self.inner.write_at(&mut file.inner, offset, half)
                }
            },
        )
    }

    fn sync_file(&self, file: &mut Self::File) -> io::Result<()> {
        let path = file.path.clone();
        self.call(Op::SyncFile, vec![path], None, |_| {
            self.inner.sync_file(&mut file.inner)
        })
    }

    fn close(&self, file: Self::File) -> io::Result<()> {
        let Tracked { inner, path } = file;
        // A close that fails before acting still drops (and so closes) the
        // handle: no descriptor leaks from a test.
        self.call(Op::Close, vec![path], None, |_| self.inner.close(inner))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.call(
            Op::Rename,
            vec![from.to_path_buf(), to.to_path_buf()],
            None,
            |_| self.inner.rename(from, to),
        )
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.call(Op::SyncDir, vec![dir.to_path_buf()], None, |_| {
            self.inner.sync_dir(dir)
        })
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.call(Op::RemoveFile, vec![path.to_path_buf()], None, |_| {
            self.inner.remove_file(path)
        })
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.call(Op::RemoveDir, vec![path.to_path_buf()], None, |_| {
            self.inner.remove_dir(path)
        })
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.call(
            Op::CreateDir,
            vec![path.to_path_buf()],
            Some(u64::from(mode)),
            |_| self.inner.create_dir(path, mode),
        )
    }

    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        self.call(
            Op::ReadBounded,
            vec![path.to_path_buf()],
            Some(limit),
            |_| self.inner.read_bounded(path, limit),
        )
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        self.call(Op::ListDir, vec![dir.to_path_buf()], None, |_| {
            self.inner.list_dir(dir)
        })
    }

    fn try_lock(&self, path: &Path) -> Result<Self::Lock, LockError> {
        let mut refused = false;
        let result = self.call(Op::TryLock, vec![path.to_path_buf()], None, |_| match self
            .inner
            .try_lock(path)
        {
            Ok(lock) => Ok(lock),
            Err(LockError::Locked) => {
                refused = true;
                Err(io::Error::from(io::ErrorKind::WouldBlock))
            }
            Err(LockError::Io(e)) => Err(e),
        });
        match result {
            Ok(lock) => Ok(lock),
            Err(_) if refused => Err(LockError::Locked),
            Err(e) => Err(LockError::Io(e)),
        }
    }
}
