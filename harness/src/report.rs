//! How records, operations, files and bytes appear in a message.
//!
//! Promises: a message built from these reads without the harness's source
//! at hand: a record is its JSON text (the serialized form of SPEC §3.2), an
//! operation is named in the SPEC's words with its arguments, a file's bytes
//! are escaped and capped. Never a Rust `Debug` dump of internal types:
//! the subject's answers that appear in messages ([`NotARecord`], [`Entry`])
//! read through the `Display` this module gives them.

use std::fmt;

use lifecycle_model::writer::{Found, WriterOp};
use lifecycle_model::Record;

use crate::subject::{Entry, Listing, NotARecord};

/// The most bytes a message shows of a file.
const SHOWN: usize = 400;

/// `bytes` as an escaped, length-capped string in double quotes.
pub fn excerpt(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(SHOWN)];
    let mut text: String = String::from_utf8_lossy(shown).escape_debug().collect();
    if bytes.len() > SHOWN {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    format!("\"{text}\"")
}

/// A record as its JSON text (SPEC §3.2), capped like [`excerpt`].
pub fn record(record: &Record) -> String {
    let text = record_text(record);
    if text.len() <= SHOWN {
        text
    } else {
        excerpt(text.as_bytes())
    }
}

/// A record's whole JSON text: its serialized form (SPEC §3.2) without the
/// final newline.
pub fn record_text(record: &Record) -> String {
    let mut text = record.encode();
    if text.last() == Some(&b'\n') {
        text.pop();
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// What the record path holds, in words.
pub fn found(found: &Found) -> String {
    match found {
        Found::Valid(r) => format!("the valid record {}", record(r)),
        Found::Missing => "no file".to_string(),
        Found::Corrupt(bytes) => format!("the corrupt file {}", excerpt(bytes)),
        Found::Unreadable => "something unreadable (a directory, a FIFO, a device)".to_string(),
    }
}

/// A directory's entries in words: `{lifecycle_state.json: file 600
/// "{…}", .lifecycle.lock: file 600 ""}`.
pub fn listing(entries: &Listing) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(name, entry)| format!("{name}: {entry}"))
        .collect();
    format!("{{{}}}", items.join(", "))
}

impl fmt::Display for NotARecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", excerpt(self.json.as_bytes()), self.why)
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::File { mode, data } => write!(f, "file {mode:o} {}", excerpt(data)),
            Entry::Dir { mode } => write!(f, "directory {mode:o}"),
            Entry::Other { what } => write!(f, "{what}"),
        }
    }
}

impl fmt::Debug for Entry {
    // Files may be megabytes; a failed assertion needs their mode and head.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A writer operation in the words of SPEC §4 and §5 (and §7 `save`).
pub fn op(op: &WriterOp) -> String {
    match op {
        WriterOp::Dispatch {
            event,
            guards,
            shadow_run,
        } => {
            let mut flags = Vec::new();
            if guards.sleep_eligible {
                flags.push("sleep_eligible");
            }
            if guards.still_idle {
                flags.push("still_idle");
            }
            if *shadow_run {
                flags.push("shadow_run");
            }
            if flags.is_empty() {
                format!("dispatch {}", event.name())
            } else {
                format!("dispatch {} ({})", event.name(), flags.join(", "))
            }
        }
        WriterOp::Begin(n) => format!("begin({n})"),
        WriterOp::StepDone(k) => format!("step_done({k})"),
        WriterOp::StepFailed {
            step,
            error,
            ttl_secs,
        } => format!("step_failed({step}, {error:?}) with a quarantine of {ttl_secs} s"),
        WriterOp::CycleDone => "cycle_done()".to_string(),
        WriterOp::ResetQuarantine => "reset_quarantine()".to_string(),
        WriterOp::Save(r) => format!("a locked save of {}", record(r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_model::{Event, Guards, Timestamp};

    #[test]
    fn long_files_are_cut_and_escaped() {
        let mut bytes = b"\"\n\xff".to_vec();
        bytes.resize(1000, b'x');
        let shown = excerpt(&bytes);
        assert!(shown.starts_with("\"\\\"\\n\u{fffd}"), "{shown}");
        assert!(shown.ends_with("… (1000 bytes in all)\""), "{shown}");
    }

    #[test]
    fn operations_read_as_the_spec_names_them() {
        let op = op(&WriterOp::Dispatch {
            event: Event::Idle30Min,
            guards: Guards {
                sleep_eligible: true,
                still_idle: false,
            },
            shadow_run: true,
        });
        assert_eq!(op, "dispatch idle_30min (sleep_eligible, shadow_run)");
    }

    #[test]
    fn records_read_as_their_json_text() {
        let now = Timestamp::parse("2024-01-01T00:00:00Z").expect("a timestamp");
        let text = record(&Record::default_at(&now));
        assert!(text.starts_with(r#"{"current_state":"WAKE""#), "{text}");
        assert!(!text.ends_with('\n'));
    }
}
