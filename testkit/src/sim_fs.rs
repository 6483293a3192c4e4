//! An in-memory file system that records, crashes and faults the store.
//!
//! Promises: [`SimFs`] implements [`Fs`] with no real I/O. Every call is
//! numbered; the persistence steps among them (create, write, fsync, rename,
//! unlink, mkdir, rmdir, chmod, directory fsync) are appended to a log in the
//! format of the reference model (`lifecycle_model::persistence::Op`). A
//! test can make call N and every later one fail as if the process had died
//! ([`SimFs::crash_at_call`]), make call N fail once with ENOSPC, EIO, EDQUOT
//! or EROFS ([`SimFs::fail_call`], the harness's [`Injected`]), and then replace the whole disk by one of
//! the states the persistence model allows after the log
//! ([`SimFs::recover`]). Clones share one file system, so a test keeps a
//! handle while a `Store` owns another.
//!
//! Does not promise: symlinks, hard links, permissions checks, a umask, or
//! directory renames; paths are taken as absolute (a relative path is read
//! from `/`). It is single-threaded (`Rc`), like the tests that drive it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path};
use std::rc::Rc;
use std::sync::Arc;

use lifecycle_model::persistence::{
    parent_of, Crash, CrashSpace, Disk, InodeId, InvalidLog, Node, Op,
};

use lifecycle_harness::Injected;
use lifecycle_state::fs::{Fs, LockError};

/// The marker of a simulated crash: every call fails with it once the
/// process is "dead".
pub const CRASH_MESSAGE: &str = "simulated crash: the process is gone";

/// True for the error [`SimFs`] returns once the simulated process crashed.
pub fn is_crash(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::Other && error.to_string() == CRASH_MESSAGE
}

/// What a name of the simulated file system refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Dir { mode: u32 },
    File(InodeId),
}

#[derive(Debug, Default)]
struct Inner {
    names: BTreeMap<String, Named>,
    /// Shared with [`SimEntry`] listings, copied only when written.
    inodes: BTreeMap<InodeId, (u32, Arc<Vec<u8>>)>,
    next_inode: InodeId,
    /// The durable state the log starts from.
    base: Disk,
    log: Vec<Op>,
    calls: u64,
    crash_at: Option<u64>,
    crashed: bool,
    faults: BTreeMap<u64, Injected>,
    locks: BTreeSet<String>,
}

/// The in-memory file system; see the module doc.
#[derive(Debug, Clone, Default)]
pub struct SimFs {
    inner: Rc<RefCell<Inner>>,
}

/// An open file of [`SimFs`].
#[derive(Debug)]
pub struct SimFile {
    inode: InodeId,
}

/// The writer lock of [`SimFs`]; dropping it releases the lock.
#[derive(Debug)]
pub struct SimLock {
    inner: Rc<RefCell<Inner>>,
    path: String,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        self.inner.borrow_mut().locks.remove(&self.path);
    }
}

/// One entry of [`SimFs::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEntry {
    Dir { mode: u32 },
    File { mode: u32, data: Arc<Vec<u8>> },
}

/// What [`SimFs::recover`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// The index of the state chosen, `choice % states`.
    pub chosen: u64,
    /// How many states the persistence model allowed.
    pub states: u64,
}

/// A path as the log spells it: absolute, no `.` or empty components.
pub fn normalize(path: &Path) -> String {
    let mut out = String::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => {
                out.push('/');
                out.push_str(&name.to_string_lossy());
            }
            Component::ParentDir => {
                let cut = out.rfind('/').unwrap_or(0);
                out.truncate(cut);
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl SimFs {
    /// An empty file system: only `/`.
    pub fn new() -> SimFs {
        SimFs::default()
    }

    /// A file system holding `disk`, all of it durable.
    pub fn from_disk(disk: &Disk) -> SimFs {
        SimFs::from_owned_disk(disk.clone())
    }

    /// [`SimFs::from_disk`] without copying the disk first.
    pub fn from_owned_disk(disk: Disk) -> SimFs {
        let fs = SimFs::new();
        fs.inner.borrow_mut().reset_to(disk);
        fs
    }

    /// What a process sees now.
    pub fn disk(&self) -> Disk {
        self.inner.borrow().disk()
    }

    /// The durable state the log starts from.
    pub fn base(&self) -> Disk {
        self.inner.borrow().base.clone()
    }

    /// The persistence operations since [`SimFs::base`].
    pub fn log(&self) -> Vec<Op> {
        self.inner.borrow().log.clone()
    }

    /// How many persistence operations the log holds.
    pub fn ops(&self) -> usize {
        self.inner.borrow().log.len()
    }

    /// How many `Fs` calls were made so far.
    pub fn calls(&self) -> u64 {
        self.inner.borrow().calls
    }

    /// Call number `calls() + n` and every later call fail with
    /// [`CRASH_MESSAGE`] and no effect, as if the process died before it.
    pub fn crash_at_call(&self, n: u64) {
        let mut inner = self.inner.borrow_mut();
        inner.crash_at = Some(inner.calls + n);
    }

    /// Whether the simulated process has died.
    pub fn crashed(&self) -> bool {
        self.inner.borrow().crashed
    }

    /// Call number `calls() + n` fails once with `fault` and no effect.
    pub fn fail_call(&self, n: u64, fault: Injected) {
        let mut inner = self.inner.borrow_mut();
        let at = inner.calls + n;
        inner.faults.insert(at, fault);
    }

    /// Forgets injected faults and a pending crash point.
    pub fn clear_faults(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.faults.clear();
        inner.crash_at = None;
    }

    /// Ends the simulated process with `crash` and replaces the disk by
    /// state `choice % n` of the `n` the persistence model allows after the
    /// log. Locks are released, faults forgotten, and the result becomes the
    /// new durable base with an empty log.
    pub fn recover(&self, crash: Crash, choice: u64) -> Result<Recovered, InvalidLog> {
        let mut inner = self.inner.borrow_mut();
        let space = CrashSpace::new(&inner.base, &inner.log, crash)?;
        let states = space.len();
        let chosen = choice % states.max(1);
        inner.reset_to(space.state(chosen));
        Ok(Recovered { chosen, states })
    }

    /// Makes everything durable now (as if every file and directory had
    /// been fsynced): the base becomes the current state, the log empties.
    pub fn checkpoint(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.base = inner.disk();
        inner.log.clear();
    }

    /// Test set-up outside the log: puts a file with `data` and `mode` at
    /// `path` (creating missing directories 0700), then [`SimFs::checkpoint`].
    pub fn put_file(&self, path: impl AsRef<Path>, data: &[u8], mode: u32) {
        let path = normalize(path.as_ref());
        let mut inner = self.inner.borrow_mut();
        inner.make_parents(&path);
        let id = match inner.names.get(&path) {
            Some(Named::File(id)) => *id,
            _ => inner.new_inode(),
        };
        inner.names.insert(path, Named::File(id));
        inner.inodes.insert(id, (mode, Arc::new(data.to_vec())));
        inner.base = inner.disk();
        inner.log.clear();
    }

    /// Test set-up outside the log: a directory at `path`, then a checkpoint.
    pub fn put_dir(&self, path: impl AsRef<Path>, mode: u32) {
        let path = normalize(path.as_ref());
        let mut inner = self.inner.borrow_mut();
        inner.make_parents(&path);
        inner.remove_tree(&path);
        inner.names.insert(path, Named::Dir { mode });
        inner.base = inner.disk();
        inner.log.clear();
    }

    /// Test set-up outside the log: removes `path` (and what is under it),
    /// then a checkpoint.
    pub fn remove(&self, path: impl AsRef<Path>) {
        let path = normalize(path.as_ref());
        let mut inner = self.inner.borrow_mut();
        inner.remove_tree(&path);
        inner.base = inner.disk();
        inner.log.clear();
    }

    /// Opens an existing file for writing in place, a step the store never
    /// takes; tests use it to build broken save protocols.
    pub fn open_existing(&self, path: impl AsRef<Path>) -> io::Result<SimFile> {
        let path = normalize(path.as_ref());
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        match inner.names.get(&path) {
            Some(Named::File(inode)) => Ok(SimFile { inode: *inode }),
            Some(Named::Dir { .. }) => Err(errno(libc::EISDIR)),
            None => Err(errno(libc::ENOENT)),
        }
    }

    /// chmod, a step the store never takes; tests use it to build broken
    /// save protocols.
    pub fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        let path = normalize(path);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        match inner.lookup(&path)? {
            Named::File(inode) => {
                if let Some((m, _)) = inner.inodes.get_mut(&inode) {
                    *m = mode;
                }
            }
            Named::Dir { .. } => {
                inner.names.insert(path.clone(), Named::Dir { mode });
            }
        }
        inner.log.push(Op::Chmod { path, mode });
        Ok(())
    }

    /// The entries directly inside `dir`, by name, without copying file
    /// contents (they are shared until the next write); empty when `dir` is
    /// not a directory.
    pub fn list(&self, dir: impl AsRef<Path>) -> BTreeMap<String, SimEntry> {
        let dir = normalize(dir.as_ref());
        let inner = self.inner.borrow();
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        inner
            .names
            .range(prefix.clone()..)
            .take_while(|(name, _)| name.starts_with(&prefix))
            .filter(|(name, _)| !name[prefix.len()..].contains('/'))
            .map(|(name, entry)| {
                let listed = match *entry {
                    Named::Dir { mode } => SimEntry::Dir { mode },
                    Named::File(inode) => {
                        let (mode, data) = &inner.inodes[&inode];
                        SimEntry::File {
                            mode: *mode,
                            data: Arc::clone(data),
                        }
                    }
                };
                (name[prefix.len()..].to_string(), listed)
            })
            .collect()
    }

    /// The mode of the directory at `path`, if there is one.
    pub fn dir_mode(&self, path: impl AsRef<Path>) -> Option<u32> {
        match self.inner.borrow().names.get(&normalize(path.as_ref())) {
            Some(Named::Dir { mode }) => Some(*mode),
            _ => None,
        }
    }

    /// Whether the writer lock at `path` is held.
    pub fn is_locked(&self, path: impl AsRef<Path>) -> bool {
        self.inner
            .borrow()
            .locks
            .contains(&normalize(path.as_ref()))
    }
}

impl Inner {
    fn disk(&self) -> Disk {
        let nodes = self
            .names
            .iter()
            .map(|(path, entry)| {
                let node = match *entry {
                    Named::Dir { mode } => Node::Dir { mode },
                    Named::File(inode) => {
                        let (mode, data) = &self.inodes[&inode];
                        Node::File {
                            inode,
                            mode: *mode,
                            data: data.to_vec(),
                        }
                    }
                };
                (path.clone(), node)
            })
            .collect();
        Disk { nodes }
    }

    fn reset_to(&mut self, disk: Disk) {
        self.names.clear();
        self.inodes.clear();
        for (path, node) in &disk.nodes {
            match node {
                Node::Dir { mode } => {
                    self.names.insert(path.clone(), Named::Dir { mode: *mode });
                }
                Node::File { inode, mode, data } => {
                    self.names.insert(path.clone(), Named::File(*inode));
                    self.inodes.insert(*inode, (*mode, Arc::new(data.clone())));
                    self.next_inode = self.next_inode.max(inode + 1);
                }
                // The store's own disks hold no symlink: a log of it never
                // makes one.
                Node::Symlink { .. } => {}
            }
        }
        self.base = disk;
        self.log.clear();
        self.crashed = false;
        self.crash_at = None;
        self.faults.clear();
        self.locks.clear();
    }

    fn new_inode(&mut self) -> InodeId {
        let id = self.next_inode;
        self.next_inode += 1;
        id
    }

    fn make_parents(&mut self, path: &str) {
        let parent = parent_of(path);
        if parent != "/" && !matches!(self.names.get(parent), Some(Named::Dir { .. })) {
            self.make_parents(parent);
            self.names
                .insert(parent.to_string(), Named::Dir { mode: 0o700 });
        }
    }

    fn remove_tree(&mut self, path: &str) {
        let prefix = format!("{path}/");
        self.names
            .retain(|name, _| name != path && !name.starts_with(&prefix));
    }

    /// Numbers the call; fails it when it is the crash point or a fault.
    fn begin_call(&mut self) -> io::Result<()> {
        let call = self.calls;
        self.calls += 1;
        if self.crashed || self.crash_at.is_some_and(|at| call >= at) {
            self.crashed = true;
            return Err(io::Error::other(CRASH_MESSAGE));
        }
        match self.faults.remove(&call) {
            Some(fault) => Err(errno(fault.errno())),
            None => Ok(()),
        }
    }

    /// `Ok` when the parent of `path` is a directory, else ENOENT/ENOTDIR.
    fn check_parent(&self, path: &str) -> io::Result<()> {
        let parent = parent_of(path);
        if parent == "/" {
            return Ok(());
        }
        match self.names.get(parent) {
            Some(Named::Dir { .. }) => self.check_parent(parent),
            Some(Named::File(_)) => Err(errno(libc::ENOTDIR)),
            None => {
                self.check_parent(parent)?;
                Err(errno(libc::ENOENT))
            }
        }
    }

    fn lookup(&self, path: &str) -> io::Result<Named> {
        if path == "/" {
            return Ok(Named::Dir { mode: 0o755 });
        }
        self.check_parent(path)?;
        self.names
            .get(path)
            .copied()
            .ok_or_else(|| errno(libc::ENOENT))
    }

    fn create(&mut self, path: &str, mode: u32) -> io::Result<SimFile> {
        self.check_parent(path)?;
        if self.names.contains_key(path) {
            return Err(errno(libc::EEXIST));
        }
        let inode = self.new_inode();
        self.names.insert(path.to_string(), Named::File(inode));
        self.inodes.insert(inode, (mode, Arc::new(Vec::new())));
        self.log.push(Op::Create {
            path: path.to_string(),
            inode,
            mode,
        });
        Ok(SimFile { inode })
    }
}

impl Fs for SimFs {
    type File = SimFile;
    type Lock = SimLock;

    fn create_exclusive(&self, path: &Path, mode: u32) -> io::Result<SimFile> {
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        inner.create(&normalize(path), mode)
    }

    fn write_at(&self, file: &mut SimFile, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        let start = usize::try_from(offset).map_err(|_| errno(libc::EFBIG))?;
        let (_, shared) = inner
            .inodes
            .get_mut(&file.inode)
            .ok_or_else(|| errno(libc::EBADF))?;
        let bytes = Arc::make_mut(shared);
        let end = start + data.len();
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(data);
        inner.log.push(Op::Write {
            inode: file.inode,
            offset,
            data: data.to_vec(),
        });
        Ok(())
    }

    fn sync_file(&self, file: &mut SimFile) -> io::Result<()> {
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        inner.log.push(Op::FsyncFile { inode: file.inode });
        Ok(())
    }

    fn close(&self, _file: SimFile) -> io::Result<()> {
        self.inner.borrow_mut().begin_call()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (normalize(from), normalize(to));
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        let entry = inner.lookup(&from)?;
        if matches!(entry, Named::Dir { .. }) {
            return Err(errno(libc::EXDEV)); // directory renames are not simulated
        }
        inner.check_parent(&to)?;
        if let Some(Named::Dir { .. }) = inner.names.get(&to) {
            return Err(errno(libc::EISDIR));
        }
        inner.names.remove(&from);
        inner.names.insert(to.clone(), entry);
        inner.log.push(Op::Rename { from, to });
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let dir = normalize(dir);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        match inner.lookup(&dir)? {
            Named::Dir { .. } => {
                inner.log.push(Op::FsyncDir { path: dir });
                Ok(())
            }
            Named::File(_) => Err(errno(libc::ENOTDIR)),
        }
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let path = normalize(path);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        match inner.lookup(&path)? {
            Named::File(_) => {
                inner.names.remove(&path);
                inner.log.push(Op::Unlink { path });
                Ok(())
            }
            Named::Dir { .. } => Err(errno(libc::EISDIR)),
        }
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        let path = normalize(path);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        if path == "/" || inner.names.contains_key(&path) {
            return Err(errno(libc::EEXIST));
        }
        inner.check_parent(&path)?;
        inner.names.insert(path.clone(), Named::Dir { mode });
        inner.log.push(Op::Mkdir { path, mode });
        Ok(())
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let path = normalize(path);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        match inner.lookup(&path)? {
            Named::Dir { .. } if path == "/" => Err(errno(libc::EBUSY)),
            Named::Dir { .. } => {
                let prefix = format!("{path}/");
                if inner.names.keys().any(|name| name.starts_with(&prefix)) {
                    return Err(errno(libc::ENOTEMPTY));
                }
                inner.names.remove(&path);
                inner.log.push(Op::Rmdir { path });
                Ok(())
            }
            Named::File(_) => Err(errno(libc::ENOTDIR)),
        }
    }

    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let path = normalize(path);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        match inner.lookup(&path)? {
            Named::File(inode) => {
                let data = &inner.inodes[&inode].1;
                let n = usize::try_from(limit).unwrap_or(usize::MAX).min(data.len());
                Ok(data[..n].to_vec())
            }
            Named::Dir { .. } => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory, not a regular file",
            )),
        }
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        let dir = normalize(dir);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call()?;
        if let Named::File(_) = inner.lookup(&dir)? {
            return Err(errno(libc::ENOTDIR));
        }
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        Ok(inner
            .names
            .range(prefix.clone()..)
            .take_while(|(name, _)| name.starts_with(&prefix))
            .filter(|(name, _)| !name[prefix.len()..].contains('/'))
            .map(|(name, _)| OsString::from(&name[prefix.len()..]))
            .collect())
    }

    fn try_lock(&self, path: &Path) -> Result<SimLock, LockError> {
        let path = normalize(path);
        let mut inner = self.inner.borrow_mut();
        inner.begin_call().map_err(LockError::Io)?;
        match inner.names.get(&path) {
            Some(Named::File(_)) => {}
            Some(Named::Dir { .. }) => return Err(LockError::Io(errno(libc::EISDIR))),
            None => {
                inner.create(&path, 0o600).map_err(LockError::Io)?;
            }
        }
        if !inner.locks.insert(path.clone()) {
            return Err(LockError::Locked);
        }
        Ok(SimLock {
            inner: Rc::clone(&self.inner),
            path,
        })
    }
}
