//! SPEC §1.4 timestamps: which texts are timestamps, and their order.
//!
//! Promises: [`Ts::parse`] accepts exactly the texts of SPEC §1.4; [`Ts`]
//! compares by instant (fraction compared as a decimal of any length, `Z`
//! equal to `+00:00`, `23:59:60` after `23:59:59.x`), never by spelling.
//! [`Ts::from_unix_micros`] and [`Ts::plus_secs`] make the timestamps a
//! writer produces; their spelling is the model's own (SPEC §1.4 leaves it
//! open), so compare with `==` (instant), not by text.
//!
//! Does not promise: years outside 0000-9999 (constructors return `None`).

/// A SPEC §1.4 timestamp: its text and the instant it denotes.
#[derive(Debug, Clone)]
pub struct Ts {
    text: String,
    // Filled by the implementation: whatever key gives the SPEC §1.4 order.
}

impl Ts {
    /// `Some` exactly when `text` is a timestamp of SPEC §1.4.
    pub fn parse(text: &str) -> Option<Ts> {
        todo!("{text}")
    }

    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z.
    pub fn from_unix_micros(micros: i64) -> Option<Ts> {
        todo!("{micros}")
    }

    /// This instant plus `secs` seconds (a leap second counts as the
    /// 86,400th second of its day and is left as the store leaves it: the
    /// result of adding to `23:59:60` is the next day's `00:00:00` + secs).
    pub fn plus_secs(&self, secs: u64) -> Option<Ts> {
        todo!("{secs}")
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Ts {
    fn eq(&self, other: &Ts) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ts {}

impl PartialOrd for Ts {
    fn partial_cmp(&self, other: &Ts) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ts {
    fn cmp(&self, other: &Ts) -> std::cmp::Ordering {
        todo!("{other:?}")
    }
}
