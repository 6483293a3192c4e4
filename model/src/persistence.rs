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
//!     durable. A truncation is a change of size and data like a write, and
//!     is lost or torn the same way until the file is synced; fdatasync
//!     makes data and size durable, not the mode. A file may be made
//!     without a name (`O_TMPFILE`) and linked into a directory later; a
//!     link is a directory entry like a create's, and a file no entry
//!     names is gone after any crash.
//! Crash "after operation i" is the space of the log's first i operations.
//!
//! Does not promise: to be the weakest file system there is (see the README
//! for what it leaves out), or unique states (two choices may give equal
//! disks).

use std::collections::BTreeMap;
use std::sync::Arc;

/// Identifies a file across renames and links.
pub type InodeId = u64;

/// One entry of a [`Disk`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Dir {
        mode: u32,
    },
    File {
        inode: InodeId,
        mode: u32,
        data: Vec<u8>,
    },
    /// A symbolic link holding `target`, as `readlink` gives it. The model
    /// keeps it as a name: it does not follow it (whoever builds the log
    /// resolves paths that go through one).
    Symlink {
        target: String,
    },
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
    Create {
        path: String,
        inode: InodeId,
        mode: u32,
    },
    /// A new empty file `inode` that no directory entry names yet
    /// (`O_TMPFILE`): gone after any crash until it is linked.
    CreateUnnamed { inode: InodeId, mode: u32 },
    /// A new directory entry `path` for the existing file `inode` (`link`,
    /// `linkat`, also of an unnamed file): an entry operation of `path`'s
    /// directory, like a create.
    Link { inode: InodeId, path: String },
    /// `data` written at `offset` of `inode` (extending it if needed, a gap
    /// reading as zeros).
    Write {
        inode: InodeId,
        offset: u64,
        data: Vec<u8>,
    },
    /// The size of `inode` set to `size`: data past it is cut off, a file
    /// grown reads as zeros up to it (`O_TRUNC`, `ftruncate`, `truncate`).
    /// Durable only once the file is synced, like a [`Op::Write`].
    Truncate { inode: InodeId, size: u64 },
    /// fsync of a file: its data, size and mode become durable.
    FsyncFile { inode: InodeId },
    /// fdatasync of a file: its data and size become durable, its mode
    /// does not (a chmod since the last fsync may still be lost).
    FdatasyncFile { inode: InodeId },
    /// Atomically points `to` at what `from` named, removing `from`.
    Rename { from: String, to: String },
    /// Removes the directory entry of a file.
    Unlink { path: String },
    /// Removes an empty directory.
    Rmdir { path: String },
    /// Sets the mode of the file or directory at `path`.
    Chmod { path: String, mode: u32 },
    /// Sets the mode of the file `inode`, named or not (`fchmod`).
    ChmodFile { inode: InodeId, mode: u32 },
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

/// A log that no kernel would have accepted (it names a file that is not
/// there); the model refuses it rather than guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLog {
    /// Index of the offending operation in the log.
    pub at: usize,
    pub reason: String,
}

impl std::fmt::Display for InvalidLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "operation {} of the log: {}", self.at, self.reason)
    }
}

impl std::error::Error for InvalidLog {}

/// The disk a process sees after the whole log: what survives a process
/// crash.
pub fn apply(initial: &Disk, ops: &[Op]) -> Result<Disk, InvalidLog> {
    let replay = Replay::run(initial, ops)?;
    Ok(replay.materialize(&replay.current, &|id| {
        let inode = &replay.inodes[&id];
        (inode.mode, inode.data.clone())
    }))
}

/// Every on-disk state allowed after the log, for one kind of crash.
///
/// States are numbered `0..len()`; [`CrashSpace::state`] builds one without
/// building the others, so a test can pick one by index or walk them all.
/// The numbering is stable, since regression cases name a state by it: one
/// run of numbers per choice of the directories' persisted prefixes, the
/// directory first by path changing fastest; within one, a number per
/// choice of every file's outcome, the lowest inode changing fastest; a
/// file's outcomes with its durable mode before its current one, each mode's
/// data in byte order.
pub struct CrashSpace {
    replay: Replay,
    /// One entry per way the directories' unsynced operations can persist.
    layouts: Vec<Layout>,
    /// `starts[i]` = number of states in `layouts[..i]`.
    starts: Vec<u64>,
    len: u64,
}

/// The entries that persisted for one choice of directory prefixes, and the
/// choices left for the files those entries name.
struct Layout {
    namespace: Namespace,
    /// (inode, its possible (mode, data) outcomes), for reachable inodes
    /// with more than one outcome.
    /// (Shared: one file's outcomes are the same in every layout.)
    choices: Vec<(InodeId, Arc<Vec<FileOutcome>>)>,
    len: u64,
}

// Some state always survives a crash, so an `is_empty` would be dead code.
#[allow(clippy::len_without_is_empty)]
impl CrashSpace {
    pub fn new(initial: &Disk, ops: &[Op], crash: Crash) -> Result<CrashSpace, InvalidLog> {
        let replay = Replay::run(initial, ops)?;
        let layouts = match crash {
            Crash::Process => vec![Layout {
                namespace: replay.current.clone(),
                choices: Vec::new(),
                len: 1,
            }],
            Crash::PowerLoss { block_size } => replay.power_loss_layouts(block_size.max(1)),
        };
        let mut starts = Vec::with_capacity(layouts.len());
        let mut len: u64 = 0;
        for layout in &layouts {
            starts.push(len);
            len = len.saturating_add(layout.len);
        }
        Ok(CrashSpace {
            replay,
            layouts,
            starts,
            len,
        })
    }

    /// How many states (at least 1).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// State number `index % len()`.
    pub fn state(&self, index: u64) -> Disk {
        let index = index % self.len.max(1);
        let at = self.starts.partition_point(|&s| s <= index) - 1;
        let layout = &self.layouts[at];
        let mut rest = index - self.starts[at];
        let mut picked: BTreeMap<InodeId, &FileOutcome> = BTreeMap::new();
        for (id, outcomes) in &layout.choices {
            let n = outcomes.len() as u64;
            picked.insert(*id, &outcomes[(rest % n) as usize]);
            rest /= n;
        }
        self.replay
            .materialize(&layout.namespace, &|id| match picked.get(&id) {
                Some((mode, data)) => (*mode, data.clone()),
                // No choice: everything after a process crash; after a power
                // loss only a file with one outcome, whose current contents
                // are its durable ones (file_outcomes holds both).
                None => {
                    let inode = &self.replay.inodes[&id];
                    (inode.mode, inode.data.clone())
                }
            })
    }

    /// All states, in index order.
    pub fn states(&self) -> impl Iterator<Item = Disk> + '_ {
        (0..self.len).map(|i| self.state(i))
    }
}

#[cfg(test)]
mod completeness;

/// A file's (mode, data) after a crash.
type FileOutcome = (u32, Vec<u8>);

/// What a directory entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Dir {
        mode: u32,
    },
    File(InodeId),
    /// The symlink whose target is `symlinks[i]` of the replay.
    Symlink(usize),
}

type Namespace = BTreeMap<String, Target>;

/// A change to directory entries, as one directory's fsync orders it.
#[derive(Debug, Clone)]
enum EntryOp {
    Link {
        path: String,
        target: Target,
    },
    Remove {
        path: String,
    },
    /// A rename inside one directory: both halves persist together.
    Move {
        from: String,
        to: String,
        target: Target,
    },
}

#[derive(Debug, Clone)]
struct Inode {
    data: Vec<u8>,
    mode: u32,
    durable_data: Vec<u8>,
    durable_mode: u32,
    /// File sizes after each write or truncation since the last fsync or
    /// fdatasync.
    unsynced_sizes: Vec<usize>,
}

/// The log replayed once: the process view, and what a power loss may keep.
struct Replay {
    durable: Namespace,
    current: Namespace,
    inodes: BTreeMap<InodeId, Inode>,
    /// The targets of the symlinks of the disk before.
    symlinks: Vec<String>,
    /// Entry operations in log order, each with its directory.
    entry_ops: Vec<(String, EntryOp)>,
    /// Per directory: how many of its entry operations an fsync forced.
    forced: BTreeMap<String, usize>,
}

/// The directory holding `path` (`/` for a top-level name).
pub fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

impl Replay {
    fn run(initial: &Disk, ops: &[Op]) -> Result<Replay, InvalidLog> {
        let mut durable = Namespace::new();
        let mut inodes = BTreeMap::new();
        let mut symlinks = Vec::new();
        for (path, node) in &initial.nodes {
            match node {
                Node::Symlink { target } => {
                    durable.insert(path.clone(), Target::Symlink(symlinks.len()));
                    symlinks.push(target.clone());
                }
                Node::Dir { mode } => {
                    durable.insert(path.clone(), Target::Dir { mode: *mode });
                }
                Node::File { inode, mode, data } => {
                    durable.insert(path.clone(), Target::File(*inode));
                    inodes.insert(
                        *inode,
                        Inode {
                            data: data.clone(),
                            mode: *mode,
                            durable_data: data.clone(),
                            durable_mode: *mode,
                            unsynced_sizes: Vec::new(),
                        },
                    );
                }
            }
        }
        let mut replay = Replay {
            current: durable.clone(),
            durable,
            inodes,
            symlinks,
            entry_ops: Vec::new(),
            forced: BTreeMap::new(),
        };
        for (at, op) in ops.iter().enumerate() {
            replay
                .step(op)
                .map_err(|reason| InvalidLog { at, reason })?;
        }
        Ok(replay)
    }

    fn step(&mut self, op: &Op) -> Result<(), String> {
        match op {
            Op::Mkdir { path, mode } => {
                self.expect_free_name(path)?;
                self.entry(
                    parent_of(path),
                    EntryOp::Link {
                        path: path.clone(),
                        target: Target::Dir { mode: *mode },
                    },
                );
            }
            Op::Create { path, inode, mode } => {
                self.expect_free_name(path)?;
                self.new_inode(*inode, *mode)?;
                self.entry(
                    parent_of(path),
                    EntryOp::Link {
                        path: path.clone(),
                        target: Target::File(*inode),
                    },
                );
            }
            Op::CreateUnnamed { inode, mode } => self.new_inode(*inode, *mode)?,
            Op::Link { inode, path } => {
                self.expect_free_name(path)?;
                self.inode_mut(*inode)?;
                self.entry(
                    parent_of(path),
                    EntryOp::Link {
                        path: path.clone(),
                        target: Target::File(*inode),
                    },
                );
            }
            Op::Write {
                inode,
                offset,
                data,
            } => {
                let file = self.inode_mut(*inode)?;
                let start = usize::try_from(*offset).map_err(|_| "offset too large")?;
                let end = start + data.len();
                file.data.resize(file.data.len().max(end), 0);
                file.data[start..end].copy_from_slice(data);
                let size = file.data.len();
                file.unsynced_sizes.push(size);
            }
            Op::Truncate { inode, size } => {
                let file = self.inode_mut(*inode)?;
                let size = usize::try_from(*size).map_err(|_| "size too large")?;
                file.data.resize(size, 0);
                file.unsynced_sizes.push(size);
            }
            Op::FsyncFile { inode } => {
                let file = self.inode_mut(*inode)?;
                file.durable_data = file.data.clone();
                file.durable_mode = file.mode;
                file.unsynced_sizes.clear();
            }
            Op::FdatasyncFile { inode } => {
                let file = self.inode_mut(*inode)?;
                file.durable_data = file.data.clone();
                file.unsynced_sizes.clear();
            }
            Op::Rename { from, to } => {
                let target = *self
                    .current
                    .get(from)
                    .ok_or_else(|| format!("rename of missing {from}"))?;
                if matches!(target, Target::Dir { .. }) {
                    return Err(format!("rename of directory {from} is not modelled"));
                }
                if let Some(Target::Dir { .. }) = self.current.get(to) {
                    return Err(format!("rename over directory {to}"));
                }
                self.expect_parent(to)?;
                let (from_dir, to_dir) = (parent_of(from), parent_of(to));
                if from_dir == to_dir {
                    self.entry(
                        from_dir,
                        EntryOp::Move {
                            from: from.clone(),
                            to: to.clone(),
                            target,
                        },
                    );
                } else {
                    // Two directories, two journals: each half may persist alone.
                    self.entry(from_dir, EntryOp::Remove { path: from.clone() });
                    self.entry(
                        to_dir,
                        EntryOp::Link {
                            path: to.clone(),
                            target,
                        },
                    );
                }
            }
            Op::Unlink { path } => match self.current.get(path) {
                Some(Target::File(_) | Target::Symlink(_)) => {
                    self.entry(parent_of(path), EntryOp::Remove { path: path.clone() })
                }
                Some(Target::Dir { .. }) => return Err(format!("unlink of directory {path}")),
                None => return Err(format!("unlink of missing {path}")),
            },
            Op::Rmdir { path } => {
                if !matches!(self.current.get(path), Some(Target::Dir { .. })) {
                    return Err(format!("rmdir of {path}, not a directory"));
                }
                let prefix = format!("{path}/");
                if self.current.keys().any(|name| name.starts_with(&prefix)) {
                    return Err(format!("rmdir of non-empty {path}"));
                }
                self.entry(parent_of(path), EntryOp::Remove { path: path.clone() });
            }
            Op::Chmod { path, mode } => match self.current.get(path).copied() {
                Some(Target::File(id)) => self.inode_mut(id)?.mode = *mode,
                Some(Target::Symlink(_)) => {
                    return Err(format!(
                        "chmod of the symlink {path}: the log names the file it points to"
                    ))
                }
                Some(Target::Dir { .. }) => {
                    // Directory modes are not part of what a crash may
                    // undo here (README: not modelled).
                    let dir = Target::Dir { mode: *mode };
                    self.current.insert(path.clone(), dir);
                    if self.durable.contains_key(path) {
                        self.durable.insert(path.clone(), dir);
                    }
                    for (_, op) in &mut self.entry_ops {
                        if let EntryOp::Link { path: p, target } = op {
                            if p == path {
                                *target = dir;
                            }
                        }
                    }
                }
                None => return Err(format!("chmod of missing {path}")),
            },
            Op::ChmodFile { inode, mode } => self.inode_mut(*inode)?.mode = *mode,
            Op::FsyncDir { path } => {
                if path != "/" && !matches!(self.current.get(path), Some(Target::Dir { .. })) {
                    return Err(format!("fsync of missing directory {path}"));
                }
                let count = self.entry_ops.iter().filter(|(d, _)| d == path).count();
                self.forced.insert(path.clone(), count);
            }
        }
        Ok(())
    }

    fn expect_parent(&self, path: &str) -> Result<(), String> {
        let parent = parent_of(path);
        if parent == "/" || matches!(self.current.get(parent), Some(Target::Dir { .. })) {
            Ok(())
        } else {
            Err(format!("{parent} is not a directory"))
        }
    }

    fn expect_free_name(&self, path: &str) -> Result<(), String> {
        self.expect_parent(path)?;
        if self.current.contains_key(path) {
            return Err(format!("{path} already exists"));
        }
        Ok(())
    }

    fn new_inode(&mut self, id: InodeId, mode: u32) -> Result<(), String> {
        if self.inodes.contains_key(&id) {
            return Err(format!("inode {id} already exists"));
        }
        self.inodes.insert(
            id,
            Inode {
                data: Vec::new(),
                mode,
                durable_data: Vec::new(),
                durable_mode: mode,
                unsynced_sizes: Vec::new(),
            },
        );
        Ok(())
    }

    fn inode_mut(&mut self, id: InodeId) -> Result<&mut Inode, String> {
        self.inodes
            .get_mut(&id)
            .ok_or_else(|| format!("no inode {id}"))
    }

    /// Records an entry operation and applies it to the process view.
    fn entry(&mut self, dir: &str, op: EntryOp) {
        apply_entry(&mut self.current, &op);
        self.entry_ops.push((dir.to_string(), op));
    }

    /// Each directory with entry operations, in path order: (path, how many
    /// of them its fsync forced, how many there are).
    fn directories(&self) -> Vec<(&str, usize, usize)> {
        let mut per_dir: BTreeMap<&str, usize> = BTreeMap::new();
        for (dir, _) in &self.entry_ops {
            *per_dir.entry(dir.as_str()).or_default() += 1;
        }
        per_dir
            .into_iter()
            .map(|(dir, total)| (dir, self.forced.get(dir).copied().unwrap_or(0), total))
            .collect()
    }

    /// One layout per choice of how many unsynced entry operations of each
    /// directory persisted (a prefix, at least what its fsync forced).
    fn power_loss_layouts(&self, block_size: usize) -> Vec<Layout> {
        let dims = self.directories();
        let mut outcomes_cache: BTreeMap<InodeId, Arc<Vec<FileOutcome>>> = BTreeMap::new();
        let mut layouts = Vec::new();
        let mut cutoffs: Vec<usize> = dims.iter().map(|&(_, forced, _)| forced).collect();
        loop {
            let namespace = self.persisted(&dims, &cutoffs);
            let mut choices = Vec::new();
            let mut len: u64 = 1;
            let reachable: std::collections::BTreeSet<InodeId> =
                reachable_files(&namespace).collect();
            for id in reachable {
                let outcomes = outcomes_cache
                    .entry(id)
                    .or_insert_with(|| Arc::new(file_outcomes(&self.inodes[&id], block_size)));
                if outcomes.len() > 1 {
                    len = len.saturating_mul(outcomes.len() as u64);
                    choices.push((id, Arc::clone(outcomes)));
                }
            }
            layouts.push(Layout {
                namespace,
                choices,
                len,
            });
            // Next combination of cutoffs, odometer style.
            let mut i = 0;
            loop {
                if i == dims.len() {
                    return layouts;
                }
                if cutoffs[i] < dims[i].2 {
                    cutoffs[i] += 1;
                    break;
                }
                cutoffs[i] = dims[i].1;
                i += 1;
            }
        }
    }

    /// The durable namespace plus, for each directory, its first
    /// `cutoffs[i]` entry operations, in log order.
    fn persisted(&self, dims: &[(&str, usize, usize)], cutoffs: &[usize]) -> Namespace {
        let mut namespace = self.durable.clone();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (dir, op) in &self.entry_ops {
            let n = seen.entry(dir.as_str()).or_default();
            let keep = dims
                .iter()
                .position(|(d, _, _)| d == dir)
                .is_some_and(|i| *n < cutoffs[i]);
            *n += 1;
            if keep {
                apply_entry(&mut namespace, op);
            }
        }
        namespace
    }

    /// The disk for a namespace, asking `file` for each file's mode and data.
    /// Entries whose directory did not persist are unreachable and dropped.
    fn materialize(&self, namespace: &Namespace, file: &dyn Fn(InodeId) -> (u32, Vec<u8>)) -> Disk {
        let mut nodes = BTreeMap::new();
        for (path, target) in namespace {
            if !ancestors_present(namespace, path) {
                continue;
            }
            let node = match *target {
                Target::Dir { mode } => Node::Dir { mode },
                Target::Symlink(i) => Node::Symlink {
                    target: self.symlinks[i].clone(),
                },
                Target::File(inode) => {
                    let (mode, data) = file(inode);
                    Node::File { inode, mode, data }
                }
            };
            nodes.insert(path.clone(), node);
        }
        Disk { nodes }
    }
}

fn apply_entry(namespace: &mut Namespace, op: &EntryOp) {
    match op {
        EntryOp::Link { path, target } => {
            namespace.insert(path.clone(), *target);
        }
        EntryOp::Remove { path } => {
            namespace.remove(path);
        }
        EntryOp::Move { from, to, target } => {
            namespace.remove(from);
            namespace.insert(to.clone(), *target);
        }
    }
}

fn ancestors_present(namespace: &Namespace, path: &str) -> bool {
    let mut dir = parent_of(path);
    while dir != "/" {
        if !matches!(namespace.get(dir), Some(Target::Dir { .. })) {
            return false;
        }
        dir = parent_of(dir);
    }
    true
}

fn reachable_files(namespace: &Namespace) -> impl Iterator<Item = InodeId> + '_ {
    namespace.iter().filter_map(|(path, target)| match target {
        Target::File(id) if ancestors_present(namespace, path) => Some(*id),
        _ => None,
    })
}

/// Above this many patterns per size, a file's outcomes are sampled (README).
const MAX_EXACT_BLOCKS: usize = 8;

/// What a power loss may leave of one file: every (mode, data) pair.
///
/// The size is the durable size, the size after any unsynced write or
/// truncation, or any block boundary between the smallest and the largest
/// of those. Each block
/// below that size holds either its durable bytes or its current bytes
/// (zeros where a version has none): data reaches the disk a block at a time,
/// in no promised order. The mode is the durable or the current one.
fn file_outcomes(inode: &Inode, block_size: usize) -> Vec<FileOutcome> {
    let mut modes = vec![inode.durable_mode];
    if inode.mode != inode.durable_mode {
        modes.push(inode.mode);
    }
    let mut datas: Vec<Vec<u8>> = vec![inode.durable_data.clone()];
    // Writes alone only grow a file, so equal data means nothing to lose;
    // a truncation followed by a rewrite of the same bytes does not.
    let resized = inode
        .unsynced_sizes
        .iter()
        .any(|&size| size != inode.durable_data.len());
    if inode.data != inode.durable_data || resized {
        let mut sizes: Vec<usize> = vec![inode.durable_data.len()];
        sizes.extend(&inode.unsynced_sizes);
        sizes.push(inode.data.len());
        let (lo, hi) = (
            sizes.iter().copied().min().unwrap_or(0),
            sizes.iter().copied().max().unwrap_or(0),
        );
        let mut boundary = (lo / block_size + 1) * block_size;
        let sampled = (hi - lo) / block_size > MAX_EXACT_BLOCKS;
        while boundary < hi && !sampled {
            sizes.push(boundary);
            boundary += block_size;
        }
        sizes.sort_unstable();
        sizes.dedup();
        for size in sizes {
            for data in torn_versions(&inode.durable_data, &inode.data, size, block_size) {
                datas.push(data);
            }
        }
        datas.sort();
        datas.dedup();
    }
    let mut outcomes = Vec::with_capacity(modes.len() * datas.len());
    for &mode in &modes {
        for data in &datas {
            outcomes.push((mode, data.clone()));
        }
    }
    outcomes
}

/// Files of `size` bytes whose blocks each come from `old` or `new`.
///
/// Every combination when at most [`MAX_EXACT_BLOCKS`] blocks differ;
/// otherwise all-old, all-new, and each prefix and each suffix of new
/// blocks (the orders in which a write-back most often stops).
fn torn_versions(old: &[u8], new: &[u8], size: usize, block_size: usize) -> Vec<Vec<u8>> {
    // Block `b` of `version` appended to `out`, zeros past its end. The
    // crash test builds these for every state space: copied by the slice.
    let block = |version: &[u8], b: usize, out: &mut Vec<u8>| {
        let start = b * block_size;
        let end = ((b + 1) * block_size).min(size);
        let held = version.len().clamp(start, end);
        out.extend_from_slice(version.get(start..held).unwrap_or_default());
        out.resize(out.len() + (end - held), 0);
    };
    let blocks = size.div_ceil(block_size);
    let (mut of_old, mut of_new) = (Vec::new(), Vec::new());
    let differing: Vec<usize> = (0..blocks)
        .filter(|&b| {
            of_old.clear();
            of_new.clear();
            block(old, b, &mut of_old);
            block(new, b, &mut of_new);
            of_old != of_new
        })
        .collect();
    let patterns: Vec<Vec<bool>> = if differing.len() <= MAX_EXACT_BLOCKS {
        (0..1u32 << differing.len())
            .map(|bits| (0..differing.len()).map(|i| bits >> i & 1 == 1).collect())
            .collect()
    } else {
        let n = differing.len();
        let mut p = Vec::new();
        for k in 0..=n {
            p.push((0..n).map(|i| i < k).collect());
            p.push((0..n).map(|i| i >= k).collect());
        }
        p
    };
    patterns
        .into_iter()
        .map(|take_new| {
            let mut data = Vec::with_capacity(size);
            for b in 0..blocks {
                let from_new = differing
                    .iter()
                    .position(|&d| d == b)
                    .is_some_and(|i| take_new[i]);
                block(if from_new { new } else { old }, b, &mut data);
            }
            data
        })
        .collect()
}
