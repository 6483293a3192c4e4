//! The writer: every change to the record, under the lock (SPEC §4, §5).
//!
//! Promises: each operation takes the non-blocking exclusive lock on the
//! sibling `.lifecycle.lock` (a second writer gets [`StoreError::Locked`] and
//! nothing is written), loads the record (the default when the file is
//! missing or corrupt), refuses to touch an unreadable file, sweeps stale temp
//! files, applies one pure function of `machine` or `sleep_cycle`, preserves a
//! corrupt file's bytes before anything replaces it (SPEC §4.4), and saves
//! atomically only when the record changed against what was on disk
//! (SPEC §4.6). A refused operation writes nothing at all.
//!
//! Does not promise: exclusion against writers that ignore the lock (such as
//! a bare [`crate::persist::save`]); readers never need the lock.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::codec::Corruption;
use crate::fs::{Fs, LockError, RealFs};
use crate::machine::{self, Event, Guards, Overflow, Shutdown};
use crate::persist::{self, FileState, Loaded, SaveError};
use crate::record::{Record, State};
use crate::sleep_cycle::{self, SleepCycleError, DEFAULT_QUARANTINE_TTL};
use crate::timestamp::Timestamp;

/// Name of the lock file beside the record (SPEC §4.5).
pub const LOCK_FILE_NAME: &str = ".lifecycle.lock";
/// How many preserved corrupt files are kept (SPEC §4.4).
pub const CORRUPT_COPIES_KEPT: usize = 5;

/// How this writer behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The machine's own shadow-run flag, written into every dispatch.
    pub shadow_run: bool,
    /// How long a quarantine lasts.
    pub quarantine_ttl: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            shadow_run: false,
            quarantine_ttl: DEFAULT_QUARANTINE_TTL,
        }
    }
}

#[derive(Debug)]
pub enum StoreError {
    /// Another writer holds the lock; nothing was written.
    Locked,
    /// The lock file could not be opened or locked.
    Lock(io::Error),
    /// The record file exists but cannot be read; nothing was written.
    Unreadable(io::Error),
    /// The corrupt file could not be preserved, so it was left as it was.
    Preserve(io::Error),
    Save(SaveError),
    Overflow(Overflow),
    SleepCycle(SleepCycleError),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Locked => write!(f, "locked: another writer holds {LOCK_FILE_NAME}"),
            StoreError::Lock(e) => write!(f, "could not take the lock {LOCK_FILE_NAME}: {e}"),
            StoreError::Unreadable(e) => {
                write!(f, "the state file is unreadable, nothing was written: {e}")
            }
            StoreError::Preserve(e) => write!(
                f,
                "could not preserve the corrupt state file, nothing was written: {e}"
            ),
            StoreError::Save(e) => write!(f, "{e}"),
            StoreError::Overflow(e) => write!(f, "overflow: {e}"),
            StoreError::SleepCycle(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Locked => None,
            StoreError::Lock(e) | StoreError::Unreadable(e) | StoreError::Preserve(e) => Some(e),
            StoreError::Save(e) => Some(e),
            StoreError::Overflow(e) => Some(e),
            StoreError::SleepCycle(e) => Some(e),
        }
    }
}

/// The classes of error of SPEC §7.2, each with its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Exit 1: an I/O error.
    Io,
    /// Exit 2: invalid input (an invalid record, an invalid argument).
    Invalid,
    /// Exit 3: locked by another writer.
    Locked,
    /// Exit 4: refused by the contract.
    Refused,
}

impl ErrorClass {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::Io => 1,
            ErrorClass::Invalid => 2,
            ErrorClass::Locked => 3,
            ErrorClass::Refused => 4,
        }
    }
}

impl StoreError {
    /// Which class of SPEC §7.2 this error is.
    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::Locked => ErrorClass::Locked,
            StoreError::Save(SaveError::Invalid(_))
            | StoreError::SleepCycle(
                SleepCycleError::NoSteps
                | SleepCycleError::QuarantineOutOfRange
                | SleepCycleError::StepOutOfRange { .. },
            ) => ErrorClass::Invalid,
            StoreError::Overflow(_) | StoreError::SleepCycle(_) => ErrorClass::Refused,
            StoreError::Save(_)
            | StoreError::Lock(_)
            | StoreError::Unreadable(_)
            | StoreError::Preserve(_) => ErrorClass::Io,
        }
    }

    /// The I/O error behind this one, when there is one.
    pub fn io(&self) -> Option<&io::Error> {
        match self {
            StoreError::Lock(e) | StoreError::Unreadable(e) | StoreError::Preserve(e) => Some(e),
            StoreError::Save(SaveError::Io { source, .. }) => Some(source),
            _ => None,
        }
    }
}

impl From<SaveError> for StoreError {
    fn from(e: SaveError) -> Self {
        StoreError::Save(e)
    }
}

/// What the file held when a writer read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Valid,
    Missing,
    /// Corrupt; its bytes were moved to `preserved_as`.
    Corrupt {
        reason: Corruption,
        preserved_as: PathBuf,
    },
}

/// The result of one locked operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    /// The record now stored (or, when nothing was written, the one in force).
    pub record: Record,
    pub found: Found,
    /// Whether the record file was written.
    pub wrote: bool,
}

/// The result of [`Store::dispatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatched {
    pub from: State,
    pub to: State,
    pub shutdown: Shutdown,
    pub update: Updated,
}

impl Dispatched {
    pub fn transitioned(&self) -> bool {
        self.from != self.to
    }
}

/// A record file with its lock, file system, clock and options.
#[derive(Debug)]
pub struct Store<F: Fs = RealFs, C: Clock = SystemClock> {
    fs: F,
    clock: C,
    path: PathBuf,
    options: Options,
}

impl Store<RealFs, SystemClock> {
    /// The record at `path` on the real file system and clock.
    pub fn open(path: impl Into<PathBuf>) -> Self {
        Store::new(RealFs, SystemClock, path, Options::default())
    }
}

/// Proof that this writer holds the lock; dropping it releases the lock.
pub struct WriterLock<L>(#[allow(dead_code)] L);

impl<F: Fs, C: Clock> Store<F, C> {
    pub fn new(fs: F, clock: C, path: impl Into<PathBuf>, options: Options) -> Self {
        Store {
            fs,
            clock,
            path: path.into(),
            options,
        }
    }

    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    pub fn fs(&self) -> &F {
        &self.fs
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    fn dir(&self) -> Result<&Path, StoreError> {
        persist::parent_dir(&self.path).map_err(StoreError::Save)
    }

    /// SPEC §2, without the lock.
    pub fn load(&self) -> Loaded {
        persist::load_with(&self.fs, &self.clock, &self.path)
    }

    /// Takes the writer lock, creating the directory (0700) when missing.
    pub fn lock(&self) -> Result<WriterLock<F::Lock>, StoreError> {
        let dir = self.dir()?;
        let lock_path = dir.join(LOCK_FILE_NAME);
        let lock = match self.fs.try_lock(&lock_path) {
            Err(LockError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                persist::ensure_dir(&self.fs, dir).map_err(StoreError::Lock)?;
                self.fs.try_lock(&lock_path)
            }
            other => other,
        };
        match lock {
            Ok(lock) => Ok(WriterLock(lock)),
            Err(LockError::Locked) => Err(StoreError::Locked),
            Err(LockError::Io(e)) => Err(StoreError::Lock(e)),
        }
    }

    /// Saves `record` under the lock (SPEC §3), sweeping stale temp files.
    pub fn save(&self, record: &Record) -> Result<Updated, StoreError> {
        // Refuse before the lock: an invalid record touches nothing (§3.1).
        persist::encode_record(record)?;
        self.update(|_, _| Ok(record.clone()))
    }

    /// SPEC §4.3: one event through the machine.
    pub fn dispatch(&self, event: Event, guards: Guards) -> Result<Dispatched, StoreError> {
        let shadow_run = self.options.shadow_run;
        let mut outcome = None;
        let update = self.update(|record, now| {
            let applied = machine::dispatch(record, event, guards, shadow_run, now)
                .map_err(StoreError::Overflow)?;
            outcome = Some((applied.from, applied.to, applied.shutdown));
            Ok(applied.record)
        })?;
        let (from, to, shutdown) = outcome.unwrap_or((
            update.record.current_state,
            update.record.current_state,
            Shutdown::None,
        ));
        Ok(Dispatched {
            from,
            to,
            shutdown,
            update,
        })
    }

    /// SPEC §5 `begin(N)`.
    pub fn begin_sleep_cycle(&self, steps: u64) -> Result<Updated, StoreError> {
        self.update(|record, now| {
            sleep_cycle::begin(record, steps, now).map_err(StoreError::SleepCycle)
        })
    }

    /// SPEC §5 `step_done(k)`.
    pub fn step_done(&self, step: u64) -> Result<Updated, StoreError> {
        self.update(|record, _| {
            sleep_cycle::step_done(record, step).map_err(StoreError::SleepCycle)
        })
    }

    /// SPEC §5 `step_failed(k, error)`.
    pub fn step_failed(&self, step: u64, error: &str) -> Result<Updated, StoreError> {
        let ttl = self.options.quarantine_ttl;
        self.update(|record, now| {
            sleep_cycle::step_failed(record, step, error, now, ttl).map_err(StoreError::SleepCycle)
        })
    }

    /// SPEC §5 `cycle_done()`.
    pub fn cycle_done(&self) -> Result<Updated, StoreError> {
        self.update(|record, _| Ok(sleep_cycle::cycle_done(record)))
    }

    /// SPEC §5 `reset_quarantine()`.
    pub fn reset_quarantine(&self) -> Result<Updated, StoreError> {
        self.update(|record, _| Ok(sleep_cycle::reset_quarantine(record)))
    }

    /// The locked read-modify-write cycle every operation shares.
    fn update(
        &self,
        change: impl FnOnce(&Record, &Timestamp) -> Result<Record, StoreError>,
    ) -> Result<Updated, StoreError> {
        let _lock = self.lock()?;
        let now = self.clock.now();
        let file = match persist::read_file(&self.fs, &self.path) {
            FileState::Unreadable(e) => return Err(StoreError::Unreadable(e)),
            file => file,
        };
        self.sweep_temp_files();

        let default;
        let current = match &file {
            FileState::Valid(record) => record,
            _ => {
                default = Record::default_at(now.clone());
                &default
            }
        };
        // A refused change writes nothing, so a corrupt file stays as it is.
        let next = change(current, &now)?;
        // SPEC §4.6: `current` is what is on disk (a missing file stands for
        // the default); a corrupt file must be replaced even by a no-op.
        let changed = next != *current || matches!(file, FileState::Corrupt { .. });
        let found = match file {
            FileState::Valid(_) => Found::Valid,
            FileState::Missing => Found::Missing,
            FileState::Corrupt { reason, bytes } => {
                let preserved_as = self.preserve_corrupt(&now, &reason, &bytes)?;
                Found::Corrupt {
                    reason,
                    preserved_as,
                }
            }
            FileState::Unreadable(e) => return Err(StoreError::Unreadable(e)),
        };
        if changed {
            persist::save_with(&self.fs, &self.path, &next)?;
        }
        Ok(Updated {
            record: next,
            found,
            wrote: changed,
        })
    }

    /// Keeps the corrupt file's bytes as `<name>.corrupt-<timestamp>` and only
    /// the newest [`CORRUPT_COPIES_KEPT`] such copies (SPEC §4.4).
    ///
    /// A file that was read whole is copied with the save protocol, so the
    /// copy is a fresh 0600 regular file even when the record path is a
    /// symlink. A file too large to have been read whole is renamed instead,
    /// which keeps every byte at any size.
    fn preserve_corrupt(
        &self,
        now: &Timestamp,
        reason: &Corruption,
        bytes: &[u8],
    ) -> Result<PathBuf, StoreError> {
        let dir = self.dir()?;
        let prefix = self.corrupt_prefix();
        let entries = self.fs.list_dir(dir).map_err(StoreError::Preserve)?;
        let base = format!("{prefix}{}", now.file_name_form());
        let taken = |name: &str| entries.iter().any(|e| e.to_str() == Some(name));
        let mut name = base.clone();
        let mut n = 1;
        while taken(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        let preserved = dir.join(&name);
        if matches!(reason, Corruption::TooLarge { .. }) {
            self.fs
                .rename(&self.path, &preserved)
                .map_err(StoreError::Preserve)?;
        } else {
            persist::write_atomically(&self.fs, &preserved, bytes).map_err(|e| match e {
                SaveError::Io { source, .. } => StoreError::Preserve(source),
                other => StoreError::Save(other),
            })?;
        }

        // The copy just made is never pruned, even when a clock that went
        // backwards makes it the oldest: that would lose the bytes it saved.
        let mut copies = corrupt_copies(&entries, &prefix);
        copies.sort_by(|a, b| corrupt_order(a, b));
        let excess = (copies.len() + 1).saturating_sub(CORRUPT_COPIES_KEPT);
        for old in &copies[..excess] {
            // A copy that cannot be removed now is retried by the next writer.
            let _ = self.fs.remove_file(&dir.join(old));
        }
        Ok(preserved)
    }

    fn corrupt_prefix(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{name}.corrupt-")
    }

    /// Removes `.lifecycle_state.*.tmp` files a killed writer left behind.
    /// Only a lock holder may call this: no other locked writer is mid-save.
    fn sweep_temp_files(&self) {
        let Ok(dir) = self.dir() else { return };
        let Ok(entries) = self.fs.list_dir(dir) else {
            return;
        };
        for name in entries.iter().filter(|n| persist::is_temp_name(n)) {
            // Failing to sweep is harmless; the next writer tries again.
            let _ = self.fs.remove_file(&dir.join(name));
        }
    }
}

/// Oldest first: by timestamp, then by the numeric `-N` suffix.
fn corrupt_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(name: &str) -> (&str, u64) {
        let stamp_end = name.rfind('Z').map_or(name.len(), |i| i + 1);
        let suffix = name[stamp_end..]
            .strip_prefix('-')
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (&name[..stamp_end], suffix)
    }
    key(a).cmp(&key(b))
}

/// Names among `entries` that start with `prefix` (`<record name>.corrupt-`).
fn corrupt_copies(entries: &[OsString], prefix: &str) -> Vec<String> {
    entries
        .iter()
        .filter_map(|e| e.to_str())
        .filter(|e| e.starts_with(prefix))
        .map(str::to_string)
        .collect()
}
