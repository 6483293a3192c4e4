//! `record_roundtrip`: a structured record saved on [`SimFs`] and loaded.
//!
//! Promises to check, for every [`RecordSpec`]: the store's save accepts
//! the record exactly when the model's `Record::is_valid` does (SPEC §3.1;
//! an unknown member may repeat a name); a refused save leaves the file
//! system untouched; an accepted one writes the record's serialized form,
//! which the model reads as the same record, and load returns the record
//! exactly (timestamps by their text, unknown members byte for byte).
//!
//! Does not check: crashes or faults (`crash_schedule` does), or records
//! over 1 MiB (the fuzzer's inputs are too small to build one).

use std::path::Path;

use lifecycle_state::persist::{self, LoadOutcome, SaveError};
use lifecycle_testkit::SimFs;

use crate::bridge;
use crate::input::Shape;
use crate::record_spec::RecordSpec;
use crate::report::excerpt;
use crate::world::{clock, file, RECORD};

pub fn record_roundtrip(data: &[u8]) {
    let record = RecordSpec::from_bytes(data).build();
    let expected = bridge::record(&record);
    let fs = SimFs::new();
    let before = fs.disk();
    match persist::save_with(&fs, Path::new(RECORD), &record) {
        Ok(()) => assert!(
            expected.is_valid(),
            "the store saved a record the model calls invalid: {record:?}"
        ),
        Err(SaveError::Invalid(why)) => {
            assert!(
                !expected.is_valid(),
                "the store refused a record the model calls valid ({why}): {record:?}"
            );
            assert!(
                fs.disk() == before && fs.log().is_empty(),
                "a refused save touched the file system (SPEC §3.1)"
            );
            return;
        }
        Err(e) => panic!("save failed on a fault-free SimFs: {e}"),
    }
    let disk = fs.disk();
    let bytes = file(&disk, RECORD).unwrap_or_default();
    match lifecycle_model::record::decode(bytes) {
        Ok(on_disk) => assert!(
            on_disk == expected,
            "the file holds another record than the one saved:\nfile: {on_disk:?}\nsaved: {expected:?}"
        ),
        Err(e) => panic!("the saved file is corrupt to the model ({e:?}): {}", excerpt(bytes)),
    }
    let loaded = persist::load_with(&fs, &clock(), Path::new(RECORD));
    assert!(
        matches!(loaded.outcome, LoadOutcome::Valid) && loaded.record == record,
        "load did not return the saved record exactly: {} {:?}\nsaved: {record:?}",
        loaded.outcome,
        loaded.record
    );
}
