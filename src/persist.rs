//! Load and save of one record file (SPEC §2 and §3), over any [`Fs`].
//!
//! Promises: [`load_with`] returns a valid record for every file content and
//! path state and says which case happened; it reads at most
//! [`MAX_RECORD_BYTES`] + 1 bytes and never panics. [`save_with`] refuses an
//! invalid record before touching anything, and otherwise follows the
//! protocol of SPEC §3.3: exclusive 0600 temp file in the target's directory,
//! write, fsync, close, rename over the target, fsync of the directory. On an
//! error it removes its temp file and reports which step failed.
//!
//! Does not promise: mutual exclusion between writers. That is the lock of
//! `store`; two unlocked savers each stay atomic, and the last rename wins.

use std::collections::hash_map::RandomState;
use std::ffi::OsStr;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::{Clock, SystemClock};
use crate::codec::{self, Corruption, MAX_RECORD_BYTES};
use crate::fs::{Fs, RealFs};
use crate::record::{InvalidRecord, Record};

/// Temp files are `.lifecycle_state.<16 hex digits>.tmp` (SPEC §3.3).
pub const TEMP_PREFIX: &str = ".lifecycle_state.";
pub const TEMP_SUFFIX: &str = ".tmp";
/// Mode of every file the store creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of every directory the store creates.
pub const DIR_MODE: u32 = 0o700;

/// What [`load_with`] found (SPEC §2).
#[derive(Debug)]
pub enum LoadOutcome {
    Valid,
    /// No file (or a dangling symlink).
    Missing,
    Corrupt(Corruption),
    /// The path exists but could not be read as a regular file.
    Unreadable(io::Error),
}

impl fmt::Display for LoadOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadOutcome::Valid => write!(f, "valid"),
            LoadOutcome::Missing => write!(f, "missing"),
            LoadOutcome::Corrupt(reason) => write!(f, "corrupt: {reason}"),
            LoadOutcome::Unreadable(e) => write!(f, "unreadable: {e}"),
        }
    }
}

/// A loaded record and how it was obtained.
#[derive(Debug)]
pub struct Loaded {
    /// The stored record when valid, otherwise the default.
    pub record: Record,
    pub outcome: LoadOutcome,
}

/// The raw result of reading the file, before defaults are filled in.
// Lives for one load; boxing the record would cost an allocation per load.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum FileState {
    Valid(Record),
    Missing,
    /// `bytes` are what was read: the whole file unless `reason` is
    /// [`Corruption::TooLarge`], when reading stopped one byte past the limit.
    Corrupt {
        reason: Corruption,
        bytes: Vec<u8>,
    },
    Unreadable(io::Error),
}

/// Reads and decodes the file at `path`.
pub fn read_file<F: Fs>(fs: &F, path: &Path) -> FileState {
    match fs.read_bounded(path, MAX_RECORD_BYTES as u64 + 1) {
        Ok(bytes) => match codec::decode(&bytes) {
            Ok(record) => FileState::Valid(record),
            Err(reason) => FileState::Corrupt { reason, bytes },
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => FileState::Missing,
        Err(e) => FileState::Unreadable(e),
    }
}

/// SPEC §2: the stored record when valid, otherwise the default at `clock.now()`.
pub fn load_with<F: Fs, C: Clock>(fs: &F, clock: &C, path: &Path) -> Loaded {
    let (stored, outcome) = match read_file(fs, path) {
        FileState::Valid(record) => (Some(record), LoadOutcome::Valid),
        FileState::Missing => (None, LoadOutcome::Missing),
        FileState::Corrupt { reason, .. } => (None, LoadOutcome::Corrupt(reason)),
        FileState::Unreadable(e) => (None, LoadOutcome::Unreadable(e)),
    };
    let record = stored.unwrap_or_else(|| Record::default_at(clock.now()));
    Loaded { record, outcome }
}

/// [`load_with`] on the real file system and clock.
pub fn load(path: impl AsRef<Path>) -> Loaded {
    load_with(&RealFs, &SystemClock, path.as_ref())
}

/// The step of the save protocol that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveStep {
    CreateDir,
    CreateTemp,
    Write,
    SyncFile,
    Close,
    Rename,
    SyncDir,
}

impl fmt::Display for SaveStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SaveStep::CreateDir => "create the directory",
            SaveStep::CreateTemp => "create the temp file",
            SaveStep::Write => "write the temp file",
            SaveStep::SyncFile => "fsync the temp file",
            SaveStep::Close => "close the temp file",
            SaveStep::Rename => "rename the temp file over the record",
            SaveStep::SyncDir => "fsync the directory",
        })
    }
}

#[derive(Debug)]
pub enum SaveError {
    /// The record breaks SPEC §1; nothing was touched.
    Invalid(InvalidRecord),
    /// The path has no file name (`/`, `..`, empty).
    BadPath(PathBuf),
    /// A step of the protocol failed. For every step before `SyncDir` the old
    /// record is intact; after a failed `SyncDir` the new record is in place
    /// but may not survive a power loss.
    Io {
        step: SaveStep,
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::Invalid(invalid) => write!(f, "invalid record: {invalid}"),
            SaveError::BadPath(path) => {
                write!(f, "{} does not name a file", path.display())
            }
            SaveError::Io { step, path, source } => {
                write!(f, "could not {step} ({}): {source}", path.display())
            }
        }
    }
}

impl std::error::Error for SaveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SaveError::Invalid(invalid) => Some(invalid),
            SaveError::BadPath(_) => None,
            SaveError::Io { source, .. } => Some(source),
        }
    }
}

fn io_error(step: SaveStep, path: &Path, source: io::Error) -> SaveError {
    SaveError::Io {
        step,
        path: path.to_path_buf(),
        source,
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> Result<&Path, SaveError> {
    if path.file_name().is_none() {
        return Err(SaveError::BadPath(path.to_path_buf()));
    }
    Ok(match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    })
}

/// SPEC §3.1: the serialized form of `record`, or why it is not a record.
///
/// Beyond [`Record::validate`], a record whose serialized form exceeds
/// [`MAX_RECORD_BYTES`] is refused: it would load back as corrupt (§1.6.1).
pub fn encode_record(record: &Record) -> Result<Vec<u8>, SaveError> {
    record.validate().map_err(SaveError::Invalid)?;
    let bytes = codec::encode(record);
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(SaveError::Invalid(InvalidRecord {
            field: "(record)".to_string(),
            reason: format!(
                "its serialized form is {} bytes, more than {MAX_RECORD_BYTES}",
                bytes.len()
            ),
        }));
    }
    Ok(bytes)
}

/// SPEC §3: validate, then write `record` atomically and durably.
pub fn save_with<F: Fs>(fs: &F, path: &Path, record: &Record) -> Result<(), SaveError> {
    write_atomically(fs, path, &encode_record(record)?)
}

/// [`save_with`] on the real file system.
pub fn save(path: impl AsRef<Path>, record: &Record) -> Result<(), SaveError> {
    save_with(&RealFs, path.as_ref(), record)
}

/// The protocol of SPEC §3.3 for any bytes.
pub fn write_atomically<F: Fs>(fs: &F, path: &Path, bytes: &[u8]) -> Result<(), SaveError> {
    let dir = parent_dir(path)?;
    let (temp, mut file) = create_temp(fs, dir)?;

    let written = fs
        .write_at(&mut file, 0, bytes)
        .map_err(|e| io_error(SaveStep::Write, &temp, e))
        .and_then(|()| {
            fs.sync_file(&mut file)
                .map_err(|e| io_error(SaveStep::SyncFile, &temp, e))
        });
    let closed = fs
        .close(file)
        .map_err(|e| io_error(SaveStep::Close, &temp, e));
    let renamed = written.and(closed).and_then(|()| {
        fs.rename(&temp, path)
            .map_err(|e| io_error(SaveStep::Rename, path, e))
    });
    if let Err(e) = renamed {
        // Best effort: a temp file that survives this is swept by the next
        // lock holder (SPEC §3.7).
        let _ = fs.remove_file(&temp);
        return Err(e);
    }
    fs.sync_dir(dir)
        .map_err(|e| io_error(SaveStep::SyncDir, dir, e))
}

/// Creates a fresh temp file in `dir`, creating `dir` (0700) when missing.
fn create_temp<F: Fs>(fs: &F, dir: &Path) -> Result<(PathBuf, F::File), SaveError> {
    const ATTEMPTS: usize = 16;
    let mut created_dir = false;
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let temp = dir.join(temp_file_name());
        match fs.create_exclusive(&temp, FILE_MODE) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !created_dir => {
                ensure_dir(fs, dir).map_err(|e| io_error(SaveStep::CreateDir, dir, e))?;
                created_dir = true;
            }
            Err(e) => return Err(io_error(SaveStep::CreateTemp, &temp, e)),
        }
    }
    let e = last_error.unwrap_or_else(|| io::Error::other("no temp file name was free"));
    Err(io_error(SaveStep::CreateTemp, dir, e))
}

/// Creates `dir` and its missing ancestors with mode 0700, fsyncing each
/// new directory's parent so the new entry survives a power loss. When that
/// fsync fails, the new directory is removed again.
pub fn ensure_dir<F: Fs>(fs: &F, dir: &Path) -> io::Result<()> {
    match fs.create_dir(dir, DIR_MODE) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = non_empty_parent(dir).ok_or(e)?;
            ensure_dir(fs, parent)?;
            match fs.create_dir(dir, DIR_MODE) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    }
    let synced = fs.sync_dir(non_empty_parent(dir).unwrap_or(Path::new(".")));
    if synced.is_err() {
        // A directory whose entry may not be durable must not stay: a later
        // writer would find it, skip this fsync, and report saves durable
        // that a power loss can take with the directory. Removed, it is
        // created again, and fsynced, by the next writer.
        let _ = fs.remove_dir(dir);
    }
    synced
}

fn non_empty_parent(dir: &Path) -> Option<&Path> {
    match dir.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        other => other,
    }
}

/// True for names of the form `.lifecycle_state.*.tmp`.
pub fn is_temp_name(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| {
        n.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
            && n.starts_with(TEMP_PREFIX)
            && n.ends_with(TEMP_SUFFIX)
    })
}

fn temp_file_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(t.as_nanos());
    }
    format!("{TEMP_PREFIX}{:016x}{TEMP_SUFFIX}", hasher.finish())
}
