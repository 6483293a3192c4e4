//! The names and numbers SPEC.md fixes, stated once for every checker.
//!
//! Promises: each constant or rule here is one sentence of SPEC.md, with its
//! section; the harness, the fuzz targets and the tests judge the store (and
//! any other implementation) with these, never with the store's own copies.
//! The store states them again for itself (it never depends on this crate),
//! which is the point: two statements of the contract, compared.
//!
//! Does not promise: anything an implementation may choose (§7 of
//! `requirements.md`), such as how another implementation names its temp
//! files; this module states this project's SPEC.

/// The record's file name (SPEC §1).
pub const RECORD_FILE_NAME: &str = "lifecycle_state.json";

/// Temp files are `.lifecycle_state.<16 lowercase hex>.tmp` (SPEC §3.3 step 3).
pub const TEMP_PREFIX: &str = ".lifecycle_state.";
pub const TEMP_SUFFIX: &str = ".tmp";
pub const TEMP_HEX_DIGITS: usize = 16;

/// The writer lock beside the record (SPEC §4.5).
pub const LOCK_FILE_NAME: &str = ".lifecycle.lock";

/// A preserved corrupt file is `<record name>.corrupt-<UTC timestamp>`
/// (SPEC §4.4.1).
pub const CORRUPT_INFIX: &str = ".corrupt-";

/// Preserved corrupt copies kept (SPEC §4.4.2).
pub const CORRUPT_COPIES_KEPT: usize = 5;

/// The largest valid file: 1 MiB (SPEC §1.6.1).
pub const MAX_FILE_BYTES: usize = 1_048_576;

/// 2^53 − 1, the largest integer of a record (SPEC §1.3).
pub const MAX_INTEGER: u64 = 9_007_199_254_740_991;

/// Mode of the record file and of every file a writer creates (SPEC §3.6).
pub const FILE_MODE: u32 = 0o600;

/// Mode of a directory a save creates (SPEC §3.6).
pub const DIR_MODE: u32 = 0o700;

/// The default quarantine length, 24 h (SPEC §5.4).
pub const DEFAULT_TTL_SECS: u64 = 86_400;

/// A name the lock holder sweeps as a stale temp file:
/// `.lifecycle_state.*.tmp` with something between the two (SPEC §3.7).
pub fn is_temp_name(name: &str) -> bool {
    name.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
        && name.starts_with(TEMP_PREFIX)
        && name.ends_with(TEMP_SUFFIX)
}

/// A temp file name exactly as a save makes it (SPEC §3.3 step 3): 16
/// lowercase hex digits between prefix and suffix.
pub fn is_save_temp_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|hex| {
            hex.len() == TEMP_HEX_DIGITS
                && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

/// The temp file name whose hex digits spell `n`.
pub fn temp_name(n: u64) -> String {
    format!("{TEMP_PREFIX}{n:016x}{TEMP_SUFFIX}")
}

/// The prefix of every preserved copy of the record file named `record`.
pub fn corrupt_copy_prefix(record: &str) -> String {
    format!("{record}{CORRUPT_INFIX}")
}

/// Whether `name` is a preserved copy of the record file named `record`.
pub fn is_corrupt_copy_of(name: &str, record: &str) -> bool {
    name.strip_prefix(record)
        .is_some_and(|rest| rest.starts_with(CORRUPT_INFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_temp_name_is_also_swept() {
        let name = temp_name(0xabc);
        assert_eq!(name, ".lifecycle_state.0000000000000abc.tmp");
        assert!(is_save_temp_name(&name) && is_temp_name(&name));
    }

    #[test]
    fn the_sweep_takes_any_middle_but_a_save_makes_only_hex() {
        assert!(is_temp_name(".lifecycle_state.x.tmp"));
        assert!(!is_save_temp_name(".lifecycle_state.x.tmp"));
        assert!(!is_save_temp_name(".lifecycle_state.0000000000000ABC.tmp"));
        assert!(!is_temp_name(".lifecycle_state..tmp"));
        assert!(!is_temp_name("lifecycle_state.json"));
    }

    #[test]
    fn copies_are_named_after_the_record() {
        assert_eq!(
            corrupt_copy_prefix(RECORD_FILE_NAME),
            "lifecycle_state.json.corrupt-"
        );
        assert!(is_corrupt_copy_of(
            "lifecycle_state.json.corrupt-20240101T000000.000000Z-1",
            RECORD_FILE_NAME
        ));
        assert!(!is_corrupt_copy_of(
            "lifecycle_state.json",
            RECORD_FILE_NAME
        ));
    }
}
