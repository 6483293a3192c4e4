//! The raw-bytes rules of SPEC §1.1 and §1.6 classes 1-8.
//!
//! Promises: [`split_object`] accepts exactly the byte strings that are at
//! most 1 MiB, UTF-8 without a BOM, and one RFC 8259 value (§1.1.2-§1.1.4)
//! with no raw control characters, no invalid escapes, no unpaired surrogate
//! escapes and no duplicate member names after unescaping at any depth
//! (§1.1.3, §1.1.5), and whose top-level value is an object; for those it
//! returns the top-level members as (unescaped name, raw value text) in
//! document order. It never recurses on nesting (§1.1.6).
//!
//! Does not promise: anything about what the members mean; that is
//! [`crate::record`].

/// The largest valid file (SPEC §1.6.1).
pub const MAX_FILE_BYTES: usize = 1_048_576;

/// Which of SPEC §1.6 classes 1-8 a byte string falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RawClass {
    /// §1.6.1
    TooLarge,
    /// §1.6.2
    InvalidUtf8,
    /// §1.6.3
    ByteOrderMark,
    /// §1.6.4-§1.6.6: not exactly one well-formed value.
    Syntax,
    /// §1.6.7
    DuplicateName,
    /// §1.6.8
    NotAnObject,
}

/// One member of an object: its unescaped name and the raw text of its
/// value, exactly as it appears in the input (no surrounding whitespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub raw: String,
}

/// Checks `bytes` against SPEC §1.1 and §1.6.1-§1.6.8 and splits the
/// top-level object into its members.
pub fn split_object(bytes: &[u8]) -> Result<Vec<Member>, RawClass> {
    todo!("{}", bytes.len())
}

/// Splits the raw text of a JSON object that [`split_object`] already
/// accepted as part of a larger document (a nested known object).
/// `None` when `raw` is not an object.
pub fn members_of(raw: &str) -> Option<Vec<Member>> {
    todo!("{raw}")
}
