//! `serde` for [`Record`], routed through the strict codec.
//!
//! Promises: serializing a record with `serde_json` writes exactly the bytes
//! of `codec::encode` (minus the final newline), unknown members included;
//! deserializing accepts exactly what `codec::decode` accepts, so duplicate
//! names, `NaN`, out-of-range integers and bad timestamps are errors, not
//! silently repaired values.
//!
//! Does not promise: support for formats other than JSON text (the record
//! travels as a `serde_json` raw value, so `serde_json::Value` cannot hold
//! unknown numbers such as `1e400`), or values nested deeper than
//! `serde_json`'s recursion limit of 128, which fail with an error. Files never go through
//! here: `persist` uses the codec directly, which has no depth limit.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::codec;
use crate::record::Record;

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bytes = codec::encode(self);
        let text = std::str::from_utf8(&bytes).map_err(S::Error::custom)?;
        let raw = RawValue::from_string(text.trim_end().to_string()).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        codec::decode_str(raw.get()).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use crate::record::Record;

    const TEXT: &str = r#"{"current_state":"SLEEP","since_ts":"2026-11-26T07:41:10Z","last_activity_ts":"2026-11-26T07:41:10Z","wrapper_event_seq":7,"sleep_cycle_progress":{"attempt":2,"x":[1.50]},"quarantine":null,"shadow_run":true,"newer":{"a":1e400}}"#;

    #[test]
    fn serde_json_round_trips_a_record_with_unknown_members() {
        let record: Record = serde_json::from_str(TEXT).expect("valid record");
        let text = serde_json::to_string(&record).expect("serializes");
        assert_eq!(text, TEXT);
        let embedded = serde_json::to_string(&vec![record.clone()]).expect("serializes");
        let back: Vec<Record> = serde_json::from_str(&embedded).expect("round trip");
        assert_eq!(back, vec![record]);
    }

    #[test]
    fn serde_json_rejects_what_the_codec_rejects() {
        let duplicate = TEXT.replace(
            r#""shadow_run":true"#,
            r#""shadow_run":true,"shadow_run":false"#,
        );
        assert!(serde_json::from_str::<Record>(&duplicate).is_err());
        let too_big = TEXT.replace(
            r#""wrapper_event_seq":7"#,
            r#""wrapper_event_seq":9007199254740992"#,
        );
        assert!(serde_json::from_str::<Record>(&too_big).is_err());
    }
}
