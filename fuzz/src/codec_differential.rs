//! `codec_differential`: the store's decoder against the model's predicate
//! on structured, mostly near-valid JSON (see [`crate::json_doc`]).
//!
//! Promises to check, for every rendered [`Doc`]: the store's
//! `lifecycle_state::decode` and the model's `record::decode` agree on
//! valid against corrupt; on a valid text they read the same record; the
//! store's serialized form of it is the model's serialized form of SPEC
//! §3.2 up to the escape spelling of strings ([`crate::canonical`]); and
//! the store decodes its own serialized form back to the same record.
//!
//! Does not check: which corrupt class is named, the file system, or load's
//! defaults (`load_bytes` does).

use crate::bridge;
use crate::canonical;
use crate::input::Shape;
use crate::json_doc::Doc;
use crate::report::excerpt;

pub fn codec_differential(data: &[u8]) {
    decoders_agree(&Doc::from_bytes(data).render());
}

/// The differential check on one file content.
pub fn decoders_agree(text: &[u8]) {
    let store = lifecycle_state::decode(text);
    let model = lifecycle_model::record::decode(text);
    let (record, expected) = match (store, model) {
        (Ok(record), Ok(expected)) => (record, expected),
        (Err(_), Err(_)) => return,
        (store, model) => panic!(
            "the store says {store:?} and the model says {model:?} for {}",
            excerpt(text)
        ),
    };
    let got = bridge::record(&record);
    assert!(
        got == expected,
        "the store and the model read different records from {}:\nstore: {got:?}\nmodel: {expected:?}",
        excerpt(text)
    );
    let encoded = lifecycle_state::encode(&record);
    let reference = expected.encode();
    // Canonical spelling only when the bytes differ: it is the slow path.
    assert!(
        encoded == reference || canonical::strings(&encoded) == canonical::strings(&reference),
        "the store's serialized form is not SPEC §3.2's:\nstore: {}\nmodel: {}",
        excerpt(&encoded),
        excerpt(&reference)
    );
    let again = lifecycle_state::decode(&encoded);
    assert!(
        again.as_ref() == Ok(&record),
        "the store does not read back its own serialized form {}: {again:?}",
        excerpt(&encoded)
    );
}
