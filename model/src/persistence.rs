//! The persistence model: which on-disk states a crash may leave.
//!
//! Promises: given the durable state before a log of file-system operations
//! ([`Op`]) and the log itself, [`CrashSpace`] enumerates every on-disk state
//! ([`Disk`]) this model allows after the last operation of the log for
//! (a) a process crash: everything the kernel accepted survives, so exactly
//!     one state, the log applied in full ([`apply`]);
//! (b) a power loss, under the conservative rules of `model/README.md`:
//!     unsynced file data may be lost or torn at block boundaries, a file
//!     never fsynced may appear empty or partial, directory operations not
//!     followed by an fsync of their directory may be lost in order, and
//!     fsync makes a file's data, size and mode or a directory's entries
//!     durable.
//! Crash "after operation i" is the space of the log's first i operations.
//!
//! Does not promise: to be the weakest file system there is (see the README
//! for what it leaves out), or unique states (two choices may give equal
//! disks).

use std::collections::BTreeMap;

/// Identifies a file across renames: two names never share one.
pub type InodeId = u64;

/// One entry of a [`Disk`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Dir { mode: u32 },
    File { inode: InodeId, mode: u32, data: Vec<u8> },
}

/// A file system tree: absolute, normalized paths (`/d/f`) to nodes. The
/// root `/` always exists and is not listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Disk {
    pub nodes: BTreeMap<String, Node>,
}

/// One file-system operation as the kernel accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// A new directory entry `path` for a new empty directory.
    Mkdir { path: String, mode: u32 },
    /// A new directory entry `path` for a new empty file `inode`.
    Create { path: String, inode: InodeId, mode: u32 },
    /// `data` written at `offset` of `inode` (extending it if needed, a gap
    /// reading as zeros).
    Write { inode: InodeId, offset: u64, data: Vec<u8> },
    /// fsync of a file: its data, size and mode become durable.
    FsyncFile { inode: InodeId },
    /// Atomically points `to` at what `from` named, removing `from`.
    Rename { from: String, to: String },
    /// Removes the directory entry of a file.
    Unlink { path: String },
    /// Sets the mode of the file or directory at `path`.
    Chmod { path: String, mode: u32 },
    /// fsync of a directory: its entries become durable.
    FsyncDir { path: String },
}

/// What ends the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crash {
    /// The process dies; the kernel and its page cache survive.
    Process,
    /// The machine loses power; `block_size` is the unit a write may tear at.
    PowerLoss { block_size: usize },
}
