//! `load_bytes`: any bytes as the record file.
//!
//! Promises to check, for every byte string as the record file (on one file
//! in memory, the leanest backend, so the fuzzer spends its time in the
//! decoders): load does not panic and answers what the model predicts
//! (`Valid` with the record the model reads exactly when the model's SPEC
//! §1 predicate accepts the bytes, otherwise `Corrupt` with the default
//! record of SPEC §1.7); and a valid record survives save + load.
//!
//! Does not check: the corrupt class named (the model does not promise one
//! when several rules break), the serialized form (`codec_differential`
//! does), files over the fuzzer's `-max_len` (the replay test covers 1 MiB
//! and 1 MiB + 1), or any real file system.

use std::cell::RefCell;
use std::sync::Arc;

use lifecycle_harness::subject::{Entry, Subject};
use lifecycle_harness::{compare, World};
use lifecycle_model::spec::{FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::Found;
use lifecycle_testkit::subject::MemSubject;

use crate::EPOCH_MICROS;

pub fn load_bytes(data: &[u8]) {
    one_file(Arc::new(data.to_vec()), false);
}

/// What every run shares, made once per thread: the target runs a hundred
/// thousand times a second.
struct Fixture {
    /// Its clock is set once, not per run.
    subject: MemSubject,
    /// At [`EPOCH_MICROS`]; its file is the run's.
    world: World,
}

/// The whole check on one file content; with `check_form`, also that the
/// saved file is the serialized form of SPEC §3.2 (up to the escape
/// spelling of strings). The file is shared with the subject, not copied:
/// one input in 32 of `codec_differential` is a mebibyte long.
pub fn one_file(bytes: Arc<Vec<u8>>, check_form: bool) {
    thread_local! {
        static FIXTURE: RefCell<Fixture> = RefCell::new(Fixture {
            subject: MemSubject::default(),
            world: World::new(EPOCH_MICROS, Found::Missing),
        });
    }
    FIXTURE.with(|fixture| check(&mut fixture.borrow_mut(), bytes, check_form));
}

fn check(fixture: &mut Fixture, bytes: Arc<Vec<u8>>, check_form: bool) {
    let Fixture { subject, world } = fixture;
    subject.backend().clear();
    world.file = Found::of_bytes(&bytes);
    subject
        .backend()
        .put_shared(RECORD_FILE_NAME, bytes, FILE_MODE);
    if let Err(message) = compare::load(world, &subject.load(world.now())) {
        panic!("{message}");
    }
    let Found::Valid(record) = &world.file else {
        return;
    };
    // SPEC §3.2: "A load of the serialized form of a valid record MUST
    // return that record."
    if let Err(failure) = subject.save(record) {
        panic!("saving a record that loaded as valid failed: {failure}");
    }
    if check_form {
        let saved = match subject.entries().remove(RECORD_FILE_NAME) {
            Some(Entry::File { data, .. }) => data,
            other => panic!("after a save the record path holds {other:?}"),
        };
        if let Err(message) = compare::serialized_form(&saved, record) {
            panic!("{message}");
        }
    }
    // The world still holds the same valid record at the same now.
    if let Err(message) = compare::load(world, &subject.load(world.now())) {
        panic!("a valid record did not survive save + load: {message}");
    }
}
