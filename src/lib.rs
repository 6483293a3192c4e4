//! A crash-safe store for `lifecycle_state.json` (see `SPEC.md`).
//!
//! Layers, each a module with one job:
//! - [`json`]: a strict, non-recursive RFC 8259 reader;
//! - [`timestamp`], [`record`]: the typed record of SPEC §1;
//! - [`codec`]: bytes ⇄ record, deciding what is corrupt;
//! - [`fs`]: the one trait every file-system step goes through;
//! - [`persist`]: load and the atomic, durable save (SPEC §2, §3);
//! - [`machine`], [`sleep_cycle`]: SPEC §4 and §5 as pure functions;
//! - [`store`]: the locked writer that ties them together;
//! - [`clock`]: where "now" comes from;
//! - `serde` for [`Record`], through the codec (JSON only).
//!
//! The crate promises what SPEC.md says; it does not promise anything about
//! file systems that ignore fsync. It carries nothing that tests it: the
//! simulated file system, the reference model and the harness live in their
//! own crates of the workspace (`testkit/`, `model/`, `harness/`), and the
//! `lifecycle` command in `cli/`.

pub mod clock;
pub mod codec;
pub mod fs;
pub mod json;
pub mod machine;
pub mod persist;
pub mod record;
mod serde_impls;
pub mod sleep_cycle;
pub mod store;
pub mod timestamp;

pub use clock::{Clock, ManualClock, SystemClock};
pub use codec::{decode, encode, Corruption};
pub use fs::{Fs, RealFs};
pub use machine::{Event, Guards, Shutdown};
pub use persist::{load, save, LoadOutcome, Loaded, SaveError};
pub use record::{InvalidRecord, Progress, Quarantine, RawJson, Record, State};
pub use store::{Dispatched, ErrorClass, Options, Store, StoreError, Updated};
pub use timestamp::Timestamp;
