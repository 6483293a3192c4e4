//! `record_roundtrip`: a structured record saved on SimFs and loaded.
//!
//! Promises to check, for every `RecordSpec` (built as written, unknown
//! members with any names): the store's save accepts the record exactly
//! when the model's `Record::is_valid` does (SPEC §3.1); a refused save
//! leaves the file system untouched, without a single persistence
//! operation; an accepted one writes the record's serialized form, and load
//! returns the record exactly (timestamps by their text, unknown members
//! byte for byte).
//!
//! Does not check: crashes or faults (`crash_schedule` does), or records
//! over 1 MiB (the fuzzer's inputs are too small to build one).

use lifecycle_harness::generate::record::RecordSpec;
use lifecycle_harness::input::Shape;
use lifecycle_harness::subject::{Entry, Loaded, Subject};
use lifecycle_harness::{compare, World};
use lifecycle_model::spec::RECORD_FILE_NAME;
use lifecycle_model::writer::Found;
use lifecycle_testkit::backend::SimDisk;
use lifecycle_testkit::StoreSubject;

use crate::EPOCH_MICROS;

pub fn record_roundtrip(data: &[u8]) {
    let record = RecordSpec::from_bytes(data).build_as_written(EPOCH_MICROS);
    let mut subject = StoreSubject::<SimDisk>::default();
    let before = subject.entries();
    let saved = subject.save(&record);
    if let Err(message) = compare::save(&record, None, &saved) {
        panic!("{message}");
    }
    if saved.is_err() {
        let log = subject.simulation().map_or(0, |s| s.ops());
        assert!(
            subject.entries() == before && log == 0,
            "a refused save touched the file system (SPEC §3.1)"
        );
        return;
    }
    let bytes = match subject.entries().remove(RECORD_FILE_NAME) {
        Some(Entry::File { data, .. }) => data,
        other => panic!("after a save the record path holds {other:?}"),
    };
    if let Err(message) = compare::serialized_form(&bytes, &record) {
        panic!("{message}");
    }
    let world = World::new(EPOCH_MICROS, Found::Valid(record.clone()));
    let loaded = subject.load(world.now());
    if let Err(message) = compare::load(&world, &loaded) {
        panic!("{message}");
    }
    let Ok(Loaded {
        record: Ok(loaded), ..
    }) = loaded
    else {
        unreachable!("compare::load accepted it as the record");
    };
    assert!(
        loaded.encode() == record.encode(),
        "load returned the saved record spelled otherwise:\n  saved:  {}\n  loaded: {}",
        lifecycle_harness::report::record(&record),
        lifecycle_harness::report::record(&loaded)
    );
}
