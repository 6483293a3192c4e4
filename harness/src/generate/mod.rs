//! The generators, once each: one definition per kind of input, read from
//! bytes.
//!
//! Every generator is a [`Shape`]: it reads any byte string as a value and
//! writes a value back as bytes that read as it. The fuzz targets read their
//! input bytes; the property tests read bytes proptest draws at random
//! ([`strategy`]), and proptest shrinks those bytes, which shrinks the value
//! towards each table's first (simplest) choice. So a property test and a
//! fuzz target explore the same space, and a seed is a readable value.
//!
//! - [`record`]: valid records with unknown members, timestamps near the
//!   clock or anywhere;
//! - [`invalid`]: records save must refuse, and the field it must name;
//! - [`json_doc`]: near-valid JSON documents reaching every corrupt class;
//! - [`corruption`]: realistic damage to the bytes of the record file;
//! - [`op`]: writer operations, aimed at what the file holds;
//! - [`clock`]: where the clock starts and how it moves;
//! - [`file`](mod@file): what the record path holds, set from outside.

pub mod clock;
pub mod corruption;
pub mod file;
pub mod invalid;
pub mod json_doc;
pub mod op;
pub mod record;

use proptest::prelude::*;

use crate::input::Shape;

/// Bytes proptest draws for one value: enough for any value the tables
/// describe except large documents and long lists, which shrink away.
const BYTES: usize = 384;

/// Values of `T`, read from random bytes, shrinking with those bytes.
pub fn strategy<T: Shape + std::fmt::Debug + 'static>() -> BoxedStrategy<T> {
    prop::collection::vec(any::<u8>(), 0..BYTES)
        .prop_map(|bytes| T::from_bytes(&bytes))
        .boxed()
}
