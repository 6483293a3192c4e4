//! Fuzz targets for the lifecycle state store, as library code.
//!
//! Each target is a `pub fn <target>(data: &[u8])` that panics exactly when
//! it finds a violation of SPEC.md or a disagreement between the store and
//! the reference model. Each is thin: the input bytes are read by the
//! harness's generators (`lifecycle_harness::generate`, the same definitions
//! the property tests draw from), run against the store through its one
//! in-process subject (`lifecycle_testkit::StoreSubject`), and judged by the
//! harness's comparator and crash judge. The cargo-fuzz binaries in
//! `fuzz_targets/` only call these functions, so the stable `cargo test` in
//! `tests/replay.rs` replays every seed and regression file through the
//! very same code.
//!
//! - targets: [`load_bytes`], [`codec_differential`], [`record_roundtrip`],
//!   [`transitions`], [`crash_schedule`] (each module's doc says what it
//!   checks and what it does not);
//! - [`seeds`]: the hand-made seed inputs of the structured targets.

pub mod codec_differential;
pub mod crash_schedule;
pub mod load_bytes;
pub mod record_roundtrip;
pub mod seeds;
pub mod transitions;

pub use codec_differential::codec_differential;
pub use crash_schedule::crash_schedule;
pub use load_bytes::load_bytes;
pub use record_roundtrip::record_roundtrip;
pub use transitions::transitions;

/// A target body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its cargo-fuzz binary and seed folder.
pub const TARGETS: [(&str, Target); 5] = [
    ("load_bytes", load_bytes),
    ("codec_differential", codec_differential),
    ("record_roundtrip", record_roundtrip),
    ("transitions", transitions),
    ("crash_schedule", crash_schedule),
];

/// Every run starts at the same instant, so an input replays exactly:
/// 2030-01-01T00:00:00Z, in µs since the epoch.
pub const EPOCH_MICROS: i64 = 1_893_456_000_000_000;
