//! `load_bytes`: any bytes as the record file.
//!
//! Promises to check, for every byte string as the record file (on
//! [`OneFile`], the leanest `Fs`, so the fuzzer spends its time in the
//! decoders): load does not panic; its outcome is `Valid` or `Corrupt` (the
//! file exists and is regular); `Valid` exactly when the model's SPEC §1
//! predicate (`lifecycle_model::record::decode`) accepts the bytes, with
//! the record the model reads (compared through [`crate::bridge`]);
//! otherwise the record is the default of SPEC §1.7 at the clock's now; and
//! a valid record survives save + load unchanged (on [`SimFs`]).
//!
//! Does not check: the corrupt class named (the model does not promise one
//! when several rules break), the serialized form (`codec_differential`
//! does), files over the fuzzer's `-max_len` (the replay test covers 1 MiB
//! and 1 MiB + 1), or any real file system.

use std::path::Path;

use std::sync::OnceLock;

use lifecycle_state::persist::{self, LoadOutcome};
use lifecycle_state::{Clock, Record};
use lifecycle_testkit::SimFs;

use crate::bridge;
use crate::one_file::{FixedClock, OneFile};
use crate::record_spec::timestamp;
use crate::report::excerpt;
use crate::world::{EPOCH, RECORD};

/// Built once: the target runs hundreds of thousands of times a second.
fn clock() -> &'static FixedClock {
    static CLOCK: OnceLock<FixedClock> = OnceLock::new();
    CLOCK.get_or_init(|| FixedClock(timestamp(EPOCH)))
}

pub fn load_bytes(data: &[u8]) {
    let clock = clock();
    let path = Path::new(RECORD);
    let loaded = persist::load_with(&OneFile { path, data }, clock, path);
    match (&loaded.outcome, lifecycle_model::record::decode(data)) {
        (LoadOutcome::Valid, Ok(expected)) => {
            let got = bridge::record(&loaded.record);
            assert!(
                got == expected,
                "the store and the model read different records from {}:\nstore: {got:?}\nmodel: {expected:?}",
                excerpt(data)
            );
            survives_save_and_load(clock, &loaded.record);
        }
        (LoadOutcome::Corrupt(_), Err(_)) => {
            let default = Record::default_at(clock.now());
            assert!(
                loaded.record == default,
                "a corrupt file loads as {:?}, not the default (SPEC §2.1)",
                loaded.record
            );
        }
        (outcome, model) => panic!(
            "the store's verdict ({outcome}) differs from the model's ({model:?}) on {}",
            excerpt(data)
        ),
    }
}

/// SPEC §3.2: "A load of the serialized form of a valid record MUST return
/// that record."
fn survives_save_and_load(clock: &FixedClock, record: &Record) {
    let fs = &SimFs::new();
    if let Err(e) = persist::save_with(fs, Path::new(RECORD), record) {
        panic!("saving a record that loaded as valid failed: {e}\nrecord: {record:?}");
    }
    let again = persist::load_with(fs, clock, Path::new(RECORD));
    assert!(
        matches!(again.outcome, LoadOutcome::Valid) && again.record == *record,
        "a valid record did not survive save + load: {} {:?}\nsaved: {record:?}",
        again.outcome,
        again.record
    );
}
