//! The few disk manipulations the machine test makes behind the store's
//! back, for the simulated file system and for a real directory.
//!
//! Proves nothing by itself. [`TestDisk`] lets one machine drive the store
//! over `SimFs` (with crashes, faults and power loss) and over a real temp
//! directory (without them). Writes made here are durable at once: SimFs
//! checkpoints them, and the real directory is only ever read back by this
//! process.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lifecycle_model::persistence::Node;
use lifecycle_state::{Fs, RealFs};
use lifecycle_testkit::sim_fs::SimEntry;
use lifecycle_testkit::SimFs;

use super::world::preview;

/// The record's file name, beside which every other file lives.
pub const RECORD_NAME: &str = "lifecycle_state.json";

/// One entry of the record's directory.
#[derive(Clone, PartialEq, Eq)]
pub enum Entry {
    /// Shared with the file system's own copy where it has one.
    File {
        mode: u32,
        data: Arc<Vec<u8>>,
    },
    Dir {
        mode: u32,
    },
}

impl fmt::Debug for Entry {
    // Files may be megabytes; a failure report needs their shape.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::File { mode, data } => write!(f, "File({mode:o}, {})", preview(data)),
            Entry::Dir { mode } => write!(f, "Dir({mode:o})"),
        }
    }
}

pub trait TestDisk: Sized {
    type Fs: Fs;
    /// Whether crashes, injected faults and power loss can be simulated.
    const SIMULATED: bool;
    /// Names the test run in the coverage histogram.
    const LABEL: &'static str;

    fn create() -> Self;
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
    /// The directory's entries by name (nothing when it is missing); the
    /// entries of subdirectories are not listed.
    fn entries(&self) -> BTreeMap<String, Entry>;
    /// The simulated file system, when there is one.
    fn sim(&self) -> Option<&SimFs>;
    /// The mode of the record's directory, when it exists.
    fn dir_mode(&self) -> Option<u32>;

    fn record_path(&self) -> PathBuf {
        self.dir().join(RECORD_NAME)
    }
}

/// The in-memory file system; the record lives at `/state`.
pub struct SimDisk {
    sim: SimFs,
    dir: PathBuf,
}

impl TestDisk for SimDisk {
    type Fs = SimFs;
    const SIMULATED: bool = true;
    const LABEL: &'static str = "sim";

    fn create() -> SimDisk {
        SimDisk {
            sim: SimFs::new(),
            dir: PathBuf::from("/state"),
        }
    }

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
        self.sim.put_dir(self.dir.join(name), 0o700);
    }

    fn remove(&self, name: &str) {
        self.sim.remove(self.dir.join(name));
    }

    fn entries(&self) -> BTreeMap<String, Entry> {
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

    fn sim(&self) -> Option<&SimFs> {
        Some(&self.sim)
    }

    fn dir_mode(&self) -> Option<u32> {
        self.sim.dir_mode(&self.dir)
    }
}

/// A real temp directory; the record lives in its `state` subdirectory.
pub struct RealDir {
    // Held so the directory lives as long as the test case.
    _root: tempfile::TempDir,
    dir: PathBuf,
}

impl TestDisk for RealDir {
    type Fs = RealFs;
    const SIMULATED: bool = false;
    const LABEL: &'static str = "real";

    fn create() -> RealDir {
        let root = tempfile::TempDir::new().expect("a temp dir");
        let dir = root.path().join("state");
        RealDir { _root: root, dir }
    }

    fn fs(&self) -> RealFs {
        RealFs
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn put_file(&self, name: &str, data: &[u8], mode: u32) {
        if !self.dir.exists() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&self.dir)
                .expect("mkdir");
        }
        self.remove(name);
        let path = self.dir.join(name);
        fs::write(&path, data).expect("write");
        // The umask may have taken bits; the test wants exactly `mode`.
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    fn put_dir(&self, name: &str) {
        self.remove(name);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(self.dir.join(name))
            .expect("mkdir");
    }

    fn remove(&self, name: &str) {
        let path = self.dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&path).expect("rm -r"),
            Ok(_) => fs::remove_file(&path).expect("rm"),
            Err(_) => {}
        }
    }

    fn entries(&self) -> BTreeMap<String, Entry> {
        let Ok(listing) = fs::read_dir(&self.dir) else {
            return BTreeMap::new();
        };
        listing
            .map(|e| {
                let e = e.expect("a directory entry");
                let meta = fs::symlink_metadata(e.path()).expect("stat");
                let mode = meta.permissions().mode() & 0o7777;
                let entry = if meta.is_dir() {
                    Entry::Dir { mode }
                } else {
                    Entry::File {
                        mode,
                        data: Arc::new(fs::read(e.path()).expect("read")),
                    }
                };
                (e.file_name().to_string_lossy().into_owned(), entry)
            })
            .collect()
    }

    fn sim(&self) -> Option<&SimFs> {
        None
    }

    fn dir_mode(&self) -> Option<u32> {
        let meta = fs::symlink_metadata(&self.dir).ok()?;
        Some(meta.permissions().mode() & 0o7777)
    }
}
