//! Test equipment for the lifecycle state store (`lifecycle-state`).
//!
//! The store ships without any of this, as turmoil keeps its simulated file
//! system out of the library's API: everything here exists to run the store
//! where a test can see and break it.
//!
//! - [`sim_fs`]: [`SimFs`], an in-memory file system that records the
//!   store's file-system steps in the persistence model's format and can
//!   crash or fault any of them;
//! - [`faulty_fs`]: [`FaultyFs`], the real file system with logged calls
//!   and injected errors;
//! - [`crash`]: a save protocol on SimFs, judged at every crash point by
//!   the harness's crash judge;
//! - [`fixtures`]: records, snapshots, temp directories, store fixtures and
//!   helper processes for the tests on a real disk;
//! - [`readers`]: the records, writer and checker of SPEC §6.1 (readers
//!   during a write);
//! - [`subject`]: the store as a subject of the harness, in process, on a
//!   [`backend`] (SimFs, a real temp directory, or [`mem_fs`], one file in
//!   memory), its types turned into the model's by [`bridge`].
//!
//! Promises nothing to the store's users; it is never a dependency of the
//! store.

pub mod backend;
pub mod bridge;
pub mod crash;
pub mod faulty_fs;
pub mod fixtures;
pub mod mem_fs;
pub mod readers;
pub mod sim_fs;
pub mod subject;

pub use faulty_fs::FaultyFs;
pub use sim_fs::SimFs;
pub use subject::{OnRealFs, OnSimFs, StoreSubject};
