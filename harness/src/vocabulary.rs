//! The words the record format is made of: member names, state and event
//! names, timestamp fragments.
//!
//! Promises: one list, used by the structured generators (so a generated
//! string or member name is often a meaningful one) and checked against the
//! libFuzzer dictionary `lifecycle.dict` by `tests/dictionary.rs` (so the
//! byte-level fuzzer knows them too).

/// The index of `word` in [`WORDS`]; hand-made seeds name words this way.
pub fn word_index(word: &str) -> u8 {
    let index = WORDS
        .iter()
        .position(|w| *w == word)
        .unwrap_or_else(|| panic!("{word} is not in the vocabulary"));
    index as u8
}

/// Plain ASCII words with no character that JSON would have to escape.
pub const WORDS: &[&str] = &[
    // SPEC §1.2 member names.
    "current_state",
    "since_ts",
    "last_activity_ts",
    "wrapper_event_seq",
    "sleep_cycle_progress",
    "quarantine",
    "shadow_run",
    "last_completed_step",
    "attempt",
    "last_error",
    "started_at",
    "until_ts",
    "reason",
    // SPEC §4 states and events.
    "WAKE",
    "DROWSY",
    "SLEEP",
    "HIBERNATION",
    "heartbeat_refresh",
    "idle_5min",
    "idle_30min",
    "sleep_eligible",
    "request_arrived",
    "sleep_cycle_done",
    "hibernation_grace_expired",
    "wake_signal",
    "tick",
    "still_idle",
    // SPEC §1.4 timestamp fragments.
    "2026-11-26T07:41:10Z",
    "2016-12-31T23:59:60Z",
    "2000-02-29T00:00:00+00:00",
    "9999-12-31T23:59:59.999999Z",
    "+00:00",
    "23:59:60",
    // SPEC §1.3 integer edges.
    "9007199254740991",
    "9007199254740992",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_words_index_names_it_in_the_list() {
        for word in ["current_state", "shadow_run", WORDS[WORDS.len() - 1]] {
            assert_eq!(WORDS[usize::from(word_index(word))], word);
        }
    }
}
