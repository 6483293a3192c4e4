//! Reference model of the lifecycle state store (skeleton).
//!
//! This crate will state the contract of `SPEC.md` as plain, obviously
//! correct functions: the record predicate (SPEC §1), the transition function
//! and bookkeeping (SPEC §4, §5) and the persistence model (SPEC §3).
//!
//! It promises independence: it does not depend on the store crate and never
//! will, so that the property tests compare two separate statements of the
//! contract. It does not promise anything else yet; the model issue fills it.
