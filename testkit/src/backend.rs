//! Where the in-process subject keeps the record: the simulated file
//! system, a real temp directory, or one file in memory.
//!
//! Promises: a [`Backend`] gives the store a file system and lets the
//! harness see and set the record's directory behind the store's back.
//! Changes made here are durable at once: SimFs checkpoints them, the real
//! directory is only ever read back by this process, and memory has no
//! crash to survive.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lifecycle_harness::directory::RealDirectory;
use lifecycle_harness::subject::{Entry, Listing};
use lifecycle_model::spec::DIR_MODE;
use lifecycle_state::{Fs, RealFs};

use crate::mem_fs::MemFs;
use crate::sim_fs::{SimEntry, SimFs};

pub trait Backend {
    type Fs: Fs;
    /// A handle for one `Store`.
    fn fs(&self) -> Self::Fs;
    /// The directory holding the record.
    fn dir(&self) -> &Path;
    /// Writes `data` at `name` in the directory (replacing what is there,
    /// creating the directory 0700 when missing).
    fn put_file(&self, name: &str, data: &[u8], mode: u32);
    /// A directory at `name`, replacing what is there.
    fn put_dir(&self, name: &str);
    /// Removes `name` and everything under it.
    fn remove(&self, name: &str);
    /// The directory's entries by name (nothing when it is missing).
    fn entries(&self) -> Listing;
    /// The mode of the record's directory, when it exists.
    fn dir_mode(&self) -> Option<u32>;
    /// The simulated file system, when there is one.
    fn sim(&mut self) -> Option<&mut SimFs> {
        None
    }
}

/// The in-memory file system; the record lives in `/state`.
pub struct SimDisk {
    sim: SimFs,
    dir: PathBuf,
}

impl Default for SimDisk {
    fn default() -> SimDisk {
        SimDisk::on(SimFs::new())
    }
}

impl SimDisk {
    /// The record in `/state` of `sim`.
    pub fn on(sim: SimFs) -> SimDisk {
        SimDisk {
            sim,
            dir: PathBuf::from("/state"),
        }
    }
}

impl Backend for SimDisk {
    type Fs = SimFs;

    fn fs(&self) -> SimFs {
        self.sim.clone()
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn put_file(&self, name: &str, data: &[u8], mode: u32) {
        let path = self.dir.join(name);
        self.sim.remove(&path);
        self.sim.put_file(&path, data, mode);
    }

    fn put_dir(&self, name: &str) {
        self.sim.put_dir(self.dir.join(name), DIR_MODE);
    }

    fn remove(&self, name: &str) {
        self.sim.remove(self.dir.join(name));
    }

    fn entries(&self) -> Listing {
        self.sim
            .list(&self.dir)
            .into_iter()
            .map(|(name, entry)| {
                let entry = match entry {
                    SimEntry::File { mode, data } => Entry::File { mode, data },
                    SimEntry::Dir { mode } => Entry::Dir { mode },
                };
                (name, entry)
            })
            .collect()
    }

    fn dir_mode(&self) -> Option<u32> {
        self.sim.dir_mode(&self.dir)
    }

    fn sim(&mut self) -> Option<&mut SimFs> {
        Some(&mut self.sim)
    }
}

/// A real temp directory; the record lives in its `state` subdirectory,
/// seen and set through the harness's [`RealDirectory`] (as the oracle
/// sees an adapter's).
pub struct RealDir {
    // Held so the directory lives as long as the subject.
    _root: tempfile::TempDir,
    dir: RealDirectory,
}

impl Default for RealDir {
    fn default() -> RealDir {
        let root = tempfile::TempDir::new().expect("a temp dir");
        let dir = RealDirectory::new(&root.path().join("state"));
        RealDir { _root: root, dir }
    }
}

impl Backend for RealDir {
    type Fs = RealFs;

    fn fs(&self) -> RealFs {
        RealFs
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn put_file(&self, name: &str, data: &[u8], mode: u32) {
        self.dir.put_file(name, data, mode);
    }

    fn put_dir(&self, name: &str) {
        self.dir.put_dir(name);
    }

    fn remove(&self, name: &str) {
        self.dir.remove(name);
    }

    fn entries(&self) -> Listing {
        self.dir.entries()
    }

    fn dir_mode(&self) -> Option<u32> {
        self.dir.mode()
    }
}

/// One record file in memory, for the fuzz targets that load and save a
/// file a hundred thousand times a second.
#[derive(Default)]
pub struct MemDisk {
    fs: MemFs,
}

impl MemDisk {
    /// Empties the directory, so one subject serves input after input.
    pub fn clear(&self) {
        self.fs.clear();
    }

    /// See [`MemFs::put_shared`].
    pub fn put_shared(&self, name: &str, data: Arc<Vec<u8>>, mode: u32) {
        self.fs.put_shared(name, data, mode);
    }
}

impl Backend for MemDisk {
    type Fs = MemFs;

    fn fs(&self) -> MemFs {
        self.fs.clone()
    }

    fn dir(&self) -> &Path {
        Path::new(crate::mem_fs::DIR)
    }

    fn put_file(&self, name: &str, data: &[u8], mode: u32) {
        self.fs.put(name, data, mode);
    }

    fn put_dir(&self, _name: &str) {
        panic!("MemDisk holds files only");
    }

    fn remove(&self, name: &str) {
        self.fs.remove(name);
    }

    fn entries(&self) -> Listing {
        self.fs
            .files()
            .into_iter()
            .map(|(name, mode, data)| (name, Entry::File { mode, data }))
            .collect()
    }

    fn dir_mode(&self) -> Option<u32> {
        Some(DIR_MODE)
    }
}
