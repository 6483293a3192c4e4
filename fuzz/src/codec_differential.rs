//! `codec_differential`: the store's decoder and encoder against the
//! model's on structured, mostly near-valid JSON
//! (`lifecycle_harness::generate::json_doc`).
//!
//! Promises to check, for every rendered document as the record file, what
//! [`crate::load_bytes::one_file`] checks, serialized form included: the
//! store's load and the model's
//! predicate agree on valid against corrupt and on the record; the store's
//! serialized form is SPEC §3.2's (the model's) up to the escape spelling
//! of strings; and it loads back to the same record. Random bytes rarely
//! get past the first brace; these documents reach every corrupt class of
//! SPEC §1.6 and the valid records at their edges.
//!
//! Does not check: which corrupt class is named, or the file system.

use std::sync::Arc;

use lifecycle_harness::generate::json_doc::Doc;
use lifecycle_harness::input::Shape;

use crate::load_bytes::one_file;

pub fn codec_differential(data: &[u8]) {
    one_file(Arc::new(Doc::from_bytes(data).render()), true);
}
