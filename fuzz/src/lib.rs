//! Fuzz targets for the lifecycle state store, as library code.
//!
//! Each target is a `pub fn <target>(data: &[u8])` that panics exactly when
//! it finds a violation of SPEC.md or a disagreement between the store
//! (`lifecycle_state`) and the reference model (`lifecycle_model`). The
//! cargo-fuzz binaries in `fuzz_targets/` only call these functions, so the
//! stable `cargo test` in `tests/replay.rs` replays every corpus and
//! regression file through the very same code.
//!
//! Modules, one job each:
//! - targets: [`load_bytes`], [`codec_differential`], [`record_roundtrip`],
//!   [`transitions`], [`crash_schedule`] (each module's doc says what it
//!   checks and what it does not);
//! - [`input`]: fuzz bytes ⇄ structured inputs; [`json_doc`]: near-valid
//!   JSON documents; [`record_spec`]: valid records; [`vocabulary`]: the
//!   words both use;
//! - [`bridge`]: store types → model types; [`canonical`]: one spelling of
//!   string escapes; [`world`]: paths, clock, disk helpers; [`one_file`]:
//!   the lean `Fs` and clock of `load_bytes`; [`report`]:
//!   how inputs appear in a panic message;
//! - [`seeds`]: the hand-made seed inputs of the structured targets.

#[path = "../../tests/machine/bridge.rs"]
pub mod bridge;
pub mod canonical;
pub mod codec_differential;
pub mod crash_schedule;
pub mod input;
pub mod json_doc;
pub mod load_bytes;
pub mod one_file;
pub mod record_roundtrip;
pub mod record_spec;
pub mod report;
pub mod seeds;
pub mod transitions;
pub mod vocabulary;
pub mod world;

pub use codec_differential::codec_differential;
pub use crash_schedule::crash_schedule;
pub use load_bytes::load_bytes;
pub use record_roundtrip::record_roundtrip;
pub use transitions::transitions;

/// A target body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its cargo-fuzz binary and corpus folder.
pub const TARGETS: [(&str, Target); 5] = [
    ("load_bytes", load_bytes),
    ("codec_differential", codec_differential),
    ("record_roundtrip", record_roundtrip),
    ("transitions", transitions),
    ("crash_schedule", crash_schedule),
];
