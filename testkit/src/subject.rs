//! The store as a subject of the harness, in process.
//!
//! Promises: [`StoreSubject`] runs each request of
//! `lifecycle_harness::Subject` through the store's public API (`Store`,
//! `persist::save_with`, `Store::load`) on a [`Backend`], with a
//! `ManualClock` set to the `now` of the request, and answers in the
//! model's vocabulary: records through [`bridge`], errors by their class of
//! SPEC §7.2 ([`lifecycle_state::StoreError::class`]). The machine test,
//! the benchmarks and the fuzz targets reach the store only through it. On
//! [`SimDisk`] it also offers the harness's [`Simulation`]: crashes,
//! injected errors and power loss.
//!
//! Does not promise anything the store does not: it adds no checks of its
//! own; the harness judges.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use lifecycle_harness::machine::Subjects;
use lifecycle_harness::subject::{Answer, Failure, Listing, Loaded, Simulation, Subject, Written};
use lifecycle_harness::Injected;
use lifecycle_model::persistence::{Crash, Disk, Op};
use lifecycle_model::spec::RECORD_FILE_NAME;
use lifecycle_model::writer::{LoadKind, WriterOp};
use lifecycle_model::{Record, Timestamp};
use lifecycle_state::persist::{self, SaveError};
use lifecycle_state::store::Found;
use lifecycle_state::{Clock, ErrorClass, LoadOutcome, Options, Store, StoreError, Updated};

use crate::backend::{Backend, MemDisk, RealDir, SimDisk};
use crate::bridge;
use crate::sim_fs::SimFs;

pub struct StoreSubject<B: Backend> {
    backend: B,
    clock: Now,
    path: PathBuf,
}

/// The store's clock, standing at the `now` of the request at hand.
struct Now(RefCell<lifecycle_state::Timestamp>);

impl Clock for Now {
    fn now(&self) -> lifecycle_state::Timestamp {
        self.0.borrow().clone()
    }
}

impl<B: Backend + Default> Default for StoreSubject<B> {
    fn default() -> Self {
        StoreSubject::on(B::default())
    }
}

impl<B: Backend> StoreSubject<B> {
    /// The store with its record in `backend`'s directory.
    pub fn on(backend: B) -> StoreSubject<B> {
        let path = backend.dir().join(RECORD_FILE_NAME);
        let epoch = Timestamp::from_unix_micros(0).expect("the epoch is a timestamp");
        StoreSubject {
            backend,
            clock: Now(RefCell::new(bridge::store_timestamp(&epoch))),
            path,
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    fn store(&self, options: Options) -> Store<B::Fs, &Now> {
        Store::new(self.backend.fs(), &self.clock, &self.path, options)
    }

    /// The clock to `now`, parsed by the store only when it moved.
    fn set_clock(&self, now: &Timestamp) {
        let mut clock = self.clock.0.borrow_mut();
        if clock.as_str() != now.as_str() {
            *clock = bridge::store_timestamp(now);
        }
    }
}

/// What a writer of the store reports at `now`, in the model's words.
fn written(updated: Updated, now: &Timestamp) -> Written {
    let (found, preserved_as) = match &updated.found {
        Found::Valid => (LoadKind::Valid, None),
        Found::Missing => (LoadKind::Missing, None),
        Found::Corrupt { preserved_as, .. } => (
            LoadKind::Corrupt,
            Some(
                preserved_as
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        ),
    };
    Written {
        record: Ok(bridge::to_model_knowing(&updated.record, now)),
        found: Some(found),
        preserved_as: Some(preserved_as),
        wrote: Some(updated.wrote),
        shutdown: None,
        transitioned: None,
    }
}

/// A store error by its class of SPEC §7.2, with the details the model
/// names.
pub fn failure(e: &StoreError) -> Failure {
    match (e.class(), e) {
        (ErrorClass::Locked, _) => Failure::Locked,
        (_, StoreError::Save(SaveError::Invalid(invalid))) => invalid_record(invalid),
        (_, StoreError::Overflow(_)) => Failure::Overflow,
        (_, StoreError::SleepCycle(s)) => Failure::Refused(bridge::refusal(s)),
        (_, other) => Failure::Io {
            errno: other.io().and_then(std::io::Error::raw_os_error),
            message: other.to_string(),
        },
    }
}

fn invalid_record(invalid: &lifecycle_state::InvalidRecord) -> Failure {
    // The store names the record as a whole `(record)` (SPEC §3.1).
    let field = (invalid.field != "(record)").then(|| invalid.field.clone());
    Failure::InvalidRecord { field }
}

fn save_failure(e: &SaveError) -> Failure {
    match e {
        SaveError::Invalid(invalid) => invalid_record(invalid),
        SaveError::Io { source, .. } => Failure::Io {
            errno: source.raw_os_error(),
            message: e.to_string(),
        },
        SaveError::BadPath(_) => Failure::Io {
            errno: None,
            message: e.to_string(),
        },
    }
}

impl<B: Backend> Subject for StoreSubject<B> {
    fn write(&mut self, op: &WriterOp, now: &Timestamp) -> Result<Written, Failure> {
        self.set_clock(now);
        let mut options = Options::default();
        let result = match op {
            WriterOp::Dispatch {
                event,
                guards,
                shadow_run,
            } => {
                options.shadow_run = *shadow_run;
                let store = self.store(options);
                return match store
                    .dispatch(bridge::store_event(*event), bridge::store_guards(*guards))
                {
                    Ok(d) => Ok(Written {
                        shutdown: Some(bridge::shutdown(d.shutdown)),
                        transitioned: Some(d.transitioned()),
                        ..written(d.update, now)
                    }),
                    Err(e) => Err(failure(&e)),
                };
            }
            WriterOp::Begin(n) => self.store(options).begin_sleep_cycle(*n),
            WriterOp::StepDone(k) => self.store(options).step_done(*k),
            WriterOp::StepFailed {
                step,
                error,
                ttl_secs,
            } => {
                options.quarantine_ttl = Duration::from_secs(*ttl_secs);
                self.store(options).step_failed(*step, error)
            }
            WriterOp::CycleDone => self.store(options).cycle_done(),
            WriterOp::ResetQuarantine => self.store(options).reset_quarantine(),
            WriterOp::Save(record) => self.store(options).save(&bridge::to_store(record)),
        };
        result.map(|u| written(u, now)).map_err(|e| failure(&e))
    }

    fn save(&mut self, record: &Record) -> Result<(), Failure> {
        persist::save_with(&self.backend.fs(), &self.path, &bridge::to_store(record))
            .map_err(|e| save_failure(&e))
    }

    fn default_record(&mut self, now: &Timestamp) -> Result<Answer, Failure> {
        self.set_clock(now);
        Ok(Ok(bridge::to_model_knowing(
            &lifecycle_state::Record::default_at(self.clock.now()),
            now,
        )))
    }

    fn save_json(&mut self, json: &str) -> Result<(), Failure> {
        // The store's own reading of a record handed to it as text.
        let record = lifecycle_state::codec::decode(json.as_bytes()).map_err(|e| {
            Failure::InvalidRecord {
                field: e.field().map(str::to_string),
            }
        })?;
        persist::save_with(&self.backend.fs(), &self.path, &record).map_err(|e| save_failure(&e))
    }

    fn load(&mut self, now: &Timestamp) -> Result<Loaded, Failure> {
        self.set_clock(now);
        let loaded = self.store(Options::default()).load();
        let kind = match loaded.outcome {
            LoadOutcome::Valid => LoadKind::Valid,
            LoadOutcome::Missing => LoadKind::Missing,
            LoadOutcome::Corrupt(_) => LoadKind::Corrupt,
            LoadOutcome::Unreadable(_) => LoadKind::Unreadable,
        };
        Ok(Loaded {
            kind: Some(kind),
            record: Ok(bridge::to_model_knowing(&loaded.record, now)),
        })
    }

    fn record_name(&self) -> &str {
        RECORD_FILE_NAME
    }

    fn entries(&self) -> Listing {
        self.backend.entries()
    }

    fn dir_mode(&self) -> Option<u32> {
        self.backend.dir_mode()
    }

    fn put_file(&mut self, name: &str, data: &[u8], mode: u32) {
        self.backend.put_file(name, data, mode);
    }

    fn put_dir(&mut self, name: &str) {
        self.backend.put_dir(name);
    }

    fn remove(&mut self, name: &str) {
        self.backend.remove(name);
    }

    fn simulation(&mut self) -> Option<&mut dyn Simulation> {
        self.backend.sim().map(|sim| sim as &mut dyn Simulation)
    }
}

impl Simulation for SimFs {
    fn calls(&self) -> u64 {
        SimFs::calls(self)
    }

    fn log(&self) -> Vec<Op> {
        SimFs::log(self)
    }

    fn ops(&self) -> usize {
        SimFs::ops(self)
    }

    fn disk(&self) -> Disk {
        SimFs::disk(self)
    }

    fn crash_before_call(&mut self, n: u64) {
        self.crash_at_call(n);
    }

    fn fail_call(&mut self, n: u64, fault: Injected) {
        SimFs::fail_call(self, n, fault);
    }

    fn clear_faults(&mut self) {
        SimFs::clear_faults(self);
    }

    fn recover(&mut self, crash: Crash, choice: u64) -> Result<u64, String> {
        SimFs::recover(self, crash, choice)
            .map(|recovered| recovered.states)
            .map_err(|e| e.to_string())
    }
}

/// The machine test's subjects on the simulated file system.
pub struct OnSimFs;

impl Subjects for OnSimFs {
    type Subject = StoreSubject<SimDisk>;
    const SIMULATED: bool = true;
    const LABEL: &'static str = "sim";

    fn create() -> StoreSubject<SimDisk> {
        StoreSubject::default()
    }
}

/// The machine test's subjects on a real temp directory.
pub struct OnRealFs;

impl Subjects for OnRealFs {
    type Subject = StoreSubject<RealDir>;
    const SIMULATED: bool = false;
    const LABEL: &'static str = "real";

    fn create() -> StoreSubject<RealDir> {
        StoreSubject::default()
    }
}

/// The store on one file in memory (the fuzz targets' lean subject).
pub type MemSubject = StoreSubject<MemDisk>;
