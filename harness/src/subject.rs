//! What an implementation is asked, and what it answers, in the reference
//! model's vocabulary.
//!
//! Promises: a [`Subject`] is any implementation of the store, reached only
//! through this trait, so one comparator and one crash judge check them
//! all: it runs one writer operation or one load at a given `now`, the
//! library save of SPEC §3, and lets the harness see and set the record's
//! directory from outside. Answers are records of the model (decoded from
//! what the implementation returned), the outcome of a load (SPEC §2.1),
//! whether a writer wrote, its shutdown signal, or a [`Failure`] of one of
//! the error classes of SPEC §7.2. A subject that runs on a simulated disk
//! also offers crashes, injected errors and power loss ([`Simulation`]).
//!
//! Does not promise: that a subject is deterministic beyond what SPEC.md
//! fixes; the comparator allows what the SPEC allows.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use lifecycle_model::machine::Shutdown;
use lifecycle_model::persistence::{Crash, Disk, Op};
use lifecycle_model::sleep_cycle::Refusal;
use lifecycle_model::writer::{LoadKind, WriterOp};
use lifecycle_model::{Record, Timestamp};

/// A record an implementation returned: the model's record, or what it
/// returned instead.
pub type Answer = Result<Record, NotARecord>;

/// A returned value that is not a record of SPEC §1 (`report` says how it
/// reads in a message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotARecord {
    /// The JSON text returned (empty when there was none).
    pub json: String,
    pub why: String,
}

/// What a writer operation that succeeded reports (SPEC §4.7). Beside the
/// record, each member is `None` when the implementation does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The record in force afterwards.
    pub record: Answer,
    /// What its load found: valid, missing or corrupt (an unreadable file
    /// fails the operation).
    pub found: Option<LoadKind>,
    /// The name in the record's directory the corrupt bytes were preserved
    /// as (SPEC §4.4.1), or `Some(None)`: nothing was preserved.
    pub preserved_as: Option<Option<String>>,
    pub wrote: Option<bool>,
    /// Dispatch only: the shutdown signal (SPEC §4.3 step 7).
    pub shutdown: Option<Shutdown>,
    /// Dispatch only: whether the state changed (SPEC §4.2).
    pub transitioned: Option<bool>,
}

/// Why an operation failed: by the error classes of SPEC §7.2, or because
/// the implementation did not answer as the protocol says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Exit 2: a record that breaks SPEC §1, naming the field (`None`: the
    /// record as a whole, or no field named).
    InvalidRecord { field: Option<String> },
    /// Exit 2: an invalid argument of SPEC §5 (`begin(0)`, a step past
    /// 2^53−1, a quarantine past year 9999), when the implementation does
    /// not say which.
    InvalidArgument { message: String },
    /// Exit 2 or 4: refused by SPEC §5 (the model's reasons, which also
    /// name the invalid arguments of exit 2).
    Refused(Refusal),
    /// Exit 4: `wrapper_event_seq` is already 2^53−1 (SPEC §4.3 step 3).
    Overflow,
    /// Exit 3: another writer holds the lock.
    Locked,
    /// Exit 1: an I/O error, with its errno when there is one.
    Io { errno: Option<i32>, message: String },
    /// The implementation does not offer this operation.
    Unsupported { message: String },
    /// The implementation raised something its adapter could not map to
    /// a class above (an exception escaping a load, SPEC §2.2.4).
    Raised { what: String },
    /// No answer of the protocol: a hang, a crash, a reply that cannot be
    /// read (SPEC §2.2.4 for a load).
    Crashed { what: String },
    /// The run cannot go on (the adapter had to be restarted too often).
    Broken { why: String },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::InvalidRecord { field: Some(field) } => {
                write!(f, "refused as an invalid record (field {field})")
            }
            Failure::InvalidRecord { field: None } => {
                write!(f, "refused as an invalid record (the record as a whole)")
            }
            Failure::Refused(reason) => write!(f, "refused: {}", refusal(reason)),
            Failure::Overflow => write!(f, "refused: overflow (wrapper_event_seq is 2^53-1)"),
            Failure::Locked => write!(f, "refused: locked by another writer"),
            Failure::Io { message, .. } => write!(f, "I/O error: {message}"),
            Failure::InvalidArgument { message } => {
                write!(f, "refused: invalid argument: {message}")
            }
            Failure::Unsupported { message } => write!(f, "not supported: {message}"),
            Failure::Raised { what } | Failure::Crashed { what } => write!(f, "{what}"),
            Failure::Broken { why } => write!(f, "the check cannot go on: {why}"),
        }
    }
}

/// A refusal of SPEC §5 in the SPEC's words.
pub fn refusal(reason: &Refusal) -> String {
    match reason {
        Refusal::NoSteps => "begin(0): a cycle needs at least one step".to_string(),
        Refusal::Quarantined => "quarantined".to_string(),
        Refusal::NoCycle => "no cycle in progress".to_string(),
        Refusal::WrongStep { expected, got } => {
            format!("step {got} is out of order, the next step is {expected}")
        }
        Refusal::QuarantineOutOfRange => "the quarantine would end after year 9999".to_string(),
        Refusal::StepOutOfRange { step } => format!("step {step} is larger than 2^53-1"),
    }
}

/// What a load returned (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// What it says it found (SPEC §2.1, a SHOULD: `None` when it does
    /// not say).
    pub kind: Option<LoadKind>,
    pub record: Answer,
}

/// One entry of the record's directory (`report` says how it reads in a
/// message, and keeps a megabyte file out of a `Debug` dump).
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
    /// A symlink, a FIFO, a socket or a device, by what it is.
    Other {
        what: String,
    },
}

/// The record's directory: entries by name (subdirectories not listed).
pub type Listing = BTreeMap<String, Entry>;

/// An I/O error a simulation can inject (SPEC §3.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Injected {
    NoSpace,
    Io,
    QuotaExceeded,
    ReadOnly,
}

impl Injected {
    pub const ALL: [Injected; 4] = [
        Injected::NoSpace,
        Injected::Io,
        Injected::QuotaExceeded,
        Injected::ReadOnly,
    ];

    pub fn errno(self) -> i32 {
        match self {
            Injected::NoSpace => libc::ENOSPC,
            Injected::Io => libc::EIO,
            Injected::QuotaExceeded => libc::EDQUOT,
            Injected::ReadOnly => libc::EROFS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Injected::NoSpace => "ENOSPC",
            Injected::Io => "EIO",
            Injected::QuotaExceeded => "EDQUOT",
            Injected::ReadOnly => "EROFS",
        }
    }
}

/// An implementation of the store, as the harness drives it.
pub trait Subject {
    /// Whether the implementation takes `now` from the requests (else it
    /// reads its own clock, and the harness allows the timestamps it makes
    /// the wall-clock time a request took).
    fn takes_now(&self) -> bool {
        true
    }
    /// Whether the implementation offers `op` (an adapter may offer the
    /// store alone, and has no locked save).
    fn offers(&self, op: &WriterOp) -> bool {
        let _ = op;
        true
    }
    /// The default record at `now` (SPEC §1.7).
    fn default_record(&mut self, now: &Timestamp) -> Result<Answer, Failure>;
    /// One writer operation at `now` (SPEC §4.3, §5, and the locked save).
    fn write(&mut self, op: &WriterOp, now: &Timestamp) -> Result<Written, Failure>;
    /// The library save of SPEC §3: no lock, no preservation.
    fn save(&mut self, record: &Record) -> Result<(), Failure>;
    /// The library save of a record given as JSON text, which may break
    /// SPEC §1 in ways a model record cannot (a `true` as an integer).
    fn save_json(&mut self, json: &str) -> Result<(), Failure>;
    /// A load at `now` (SPEC §2).
    fn load(&mut self, now: &Timestamp) -> Result<Loaded, Failure>;

    /// The record's file name inside its directory.
    fn record_name(&self) -> &str;
    /// The files besides the record the implementation may keep in its
    /// directory for good (the lock file of SPEC §4.5).
    fn sidecars(&self) -> Vec<String> {
        vec![lifecycle_model::spec::LOCK_FILE_NAME.to_string()]
    }
    /// The record's directory on the real disk, when it is there.
    fn case_dir(&self) -> Option<&Path> {
        None
    }
    /// The record's directory, as it is now.
    fn entries(&self) -> Listing;
    /// The mode of the record's directory, when it exists.
    fn dir_mode(&self) -> Option<u32>;
    /// Writes `data` at `name` in the directory, replacing what is there
    /// (creating the directory 0700 when missing), durably.
    fn put_file(&mut self, name: &str, data: &[u8], mode: u32);
    /// A directory at `name`, replacing what is there, durably.
    fn put_dir(&mut self, name: &str);
    /// Removes `name` and what is under it, durably.
    fn remove(&mut self, name: &str);

    /// Crashes, faults and power loss, when the subject runs on a
    /// simulated disk.
    fn simulation(&mut self) -> Option<&mut dyn Simulation> {
        None
    }
}

/// A subject on a simulated disk: every file-system call numbered, the
/// persistence operations logged in the model's format.
pub trait Simulation {
    /// File-system calls made so far.
    fn calls(&self) -> u64;
    /// The persistence operations since the disk was last durable.
    fn log(&self) -> Vec<Op>;
    /// How many there are.
    fn ops(&self) -> usize;
    /// The whole disk as a process sees it now.
    fn disk(&self) -> Disk;
    /// Call number `calls() + n` and every later one fail as if the
    /// process had died before it.
    fn crash_before_call(&mut self, n: u64);
    /// Call number `calls() + n` fails once with `fault`.
    fn fail_call(&mut self, n: u64, fault: Injected);
    fn clear_faults(&mut self);
    /// Ends the process with `crash` and replaces the disk by state
    /// `choice % n` of the `n` the persistence model allows; returns `n`,
    /// or why the model refuses the log.
    fn recover(&mut self, crash: Crash, choice: u64) -> Result<u64, String>;
}

/// A subject that says nothing of itself and is never asked: for the
/// tests of what needs a subject's type or its defaults.
#[cfg(test)]
pub(crate) struct Plain;

#[cfg(test)]
impl Subject for Plain {
    fn default_record(&mut self, _: &Timestamp) -> Result<Answer, Failure> {
        unreachable!("not asked")
    }
    fn write(&mut self, _: &WriterOp, _: &Timestamp) -> Result<Written, Failure> {
        unreachable!("not asked")
    }
    fn save(&mut self, _: &Record) -> Result<(), Failure> {
        unreachable!("not asked")
    }
    fn save_json(&mut self, _: &str) -> Result<(), Failure> {
        unreachable!("not asked")
    }
    fn load(&mut self, _: &Timestamp) -> Result<Loaded, Failure> {
        unreachable!("not asked")
    }
    fn record_name(&self) -> &str {
        lifecycle_model::spec::RECORD_FILE_NAME
    }
    fn entries(&self) -> Listing {
        Listing::new()
    }
    fn dir_mode(&self) -> Option<u32> {
        None
    }
    fn put_file(&mut self, _: &str, _: &[u8], _: u32) {}
    fn put_dir(&mut self, _: &str) {}
    fn remove(&mut self, _: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_is_told_in_words_of_its_own() {
        let words: Vec<String> = [
            Refusal::NoSteps,
            Refusal::Quarantined,
            Refusal::NoCycle,
            Refusal::WrongStep {
                expected: 2,
                got: 3,
            },
            Refusal::QuarantineOutOfRange,
            Refusal::StepOutOfRange { step: 9 },
        ]
        .iter()
        .map(refusal)
        .collect();
        for w in &words {
            assert_eq!(words.iter().filter(|o| *o == w).count(), 1, "{w}");
        }
        assert_eq!(words[3], "step 3 is out of order, the next step is 2");
        assert_eq!(
            Failure::Refused(Refusal::NoCycle).to_string(),
            "refused: no cycle in progress"
        );
    }

    #[test]
    fn a_subject_that_says_nothing_takes_now_offers_everything_and_keeps_a_lock_file() {
        let mut plain = Plain;
        assert!(plain.takes_now());
        assert!(plain.offers(&WriterOp::CycleDone));
        assert_eq!(plain.sidecars(), [lifecycle_model::spec::LOCK_FILE_NAME]);
        assert!(plain.case_dir().is_none());
        assert!(plain.simulation().is_none());
    }

    #[test]
    fn an_injected_fault_is_named_as_its_errno_is() {
        for (fault, name, errno) in [
            (Injected::NoSpace, "ENOSPC", libc::ENOSPC),
            (Injected::Io, "EIO", libc::EIO),
            (Injected::QuotaExceeded, "EDQUOT", libc::EDQUOT),
            (Injected::ReadOnly, "EROFS", libc::EROFS),
        ] {
            assert_eq!((fault.name(), fault.errno()), (name, errno));
        }
    }
}
