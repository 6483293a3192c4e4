//! The messages of PROTOCOL.md, version 1: requests as JSON lines, replies
//! read into what the oracle needs.
//!
//! Promises: [`Request::line`] writes one request exactly as
//! `protocol/schema.json` describes it; [`Reply::parse`] reads one reply
//! line (checking it against the schema), keeping a returned record as its
//! JSON text with numbers as the adapter wrote them (`1e400`, `1.50`), so
//! the comparator sees what the implementation returned. A line that is not
//! a reply says why, in words an adapter's author can act on.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::schema::Schema;

/// The protocol version this oracle speaks.
pub const VERSION: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    Store,
    Machine,
    Sleep,
    Clock,
}

impl Capability {
    pub fn name(self) -> &'static str {
        match self {
            Capability::Store => "store",
            Capability::Machine => "machine",
            Capability::Sleep => "sleep",
            Capability::Clock => "clock",
        }
    }

    fn from_name(name: &str) -> Option<Capability> {
        [
            Capability::Store,
            Capability::Machine,
            Capability::Sleep,
            Capability::Clock,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }
}

/// What the adapter says it checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Implementation {
    pub name: String,
    pub language: String,
    pub version: String,
    pub homepage: String,
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.name, self.language)?;
        if !self.version.is_empty() {
            write!(f, ", version {}", self.version)?;
        }
        write!(f, ")")
    }
}

/// The adapter's answer to `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub implementation: Implementation,
    pub capabilities: BTreeSet<Capability>,
    pub sidecars: Vec<String>,
}

impl Handshake {
    pub fn has(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// Reads the reply to `start`.
    pub fn parse(line: &str) -> Result<Handshake, String> {
        let value: Value = serde_json::from_str(line)
            .map_err(|e| format!("the reply to start is not JSON ({e}): {}", excerpt(line)))?;
        if let Some(Value::String(error)) = value.get("error") {
            return Err(format!(
                "the adapter refused protocol version {VERSION}: {error}"
            ));
        }
        if let Some(version) = value.get("version").and_then(integer) {
            if version != VERSION {
                return Err(format!(
                    "the adapter speaks protocol version {version}; this oracle speaks version {VERSION}"
                ));
            }
        }
        Schema::protocol()
            .check("start_reply", &value)
            .map_err(|e| format!("the reply to start breaks protocol/schema.json {e}"))?;
        let text = |v: &Value, name: &str| {
            v.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let implementation = value.get("implementation").cloned().unwrap_or_default();
        let capabilities: BTreeSet<Capability> = value
            .get("capabilities")
            .and_then(Value::as_array)
            .map(|caps| {
                caps.iter()
                    .filter_map(Value::as_str)
                    .filter_map(Capability::from_name)
                    .collect()
            })
            .unwrap_or_default();
        if !capabilities.contains(&Capability::Store) {
            return Err("the adapter does not offer the required capability store".to_string());
        }
        Ok(Handshake {
            implementation: Implementation {
                name: text(&implementation, "name"),
                language: text(&implementation, "language"),
                version: text(&implementation, "version"),
                homepage: text(&implementation, "homepage"),
            },
            capabilities,
            sidecars: value
                .get("sidecars")
                .and_then(Value::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// JSON text on one line: the whitespace between tokens dropped (a stored
/// record's unknown members keep theirs, newlines included, SPEC §1.5).
pub fn one_line(json: &str) -> String {
    String::from_utf8_lossy(&lifecycle_harness::canonical::compact(json.as_bytes())).into_owned()
}

/// The errno names an `io` error may carry, and their numbers here.
const ERRNOS: [(&str, i32); 18] = [
    ("ENOENT", libc::ENOENT),
    ("EACCES", libc::EACCES),
    ("EPERM", libc::EPERM),
    ("EIO", libc::EIO),
    ("ENOSPC", libc::ENOSPC),
    ("EDQUOT", libc::EDQUOT),
    ("EROFS", libc::EROFS),
    ("EISDIR", libc::EISDIR),
    ("ENOTDIR", libc::ENOTDIR),
    ("ELOOP", libc::ELOOP),
    ("ENAMETOOLONG", libc::ENAMETOOLONG),
    ("EEXIST", libc::EEXIST),
    ("EINVAL", libc::EINVAL),
    ("EBUSY", libc::EBUSY),
    ("EAGAIN", libc::EAGAIN),
    ("ENXIO", libc::ENXIO),
    ("EMFILE", libc::EMFILE),
    ("EFBIG", libc::EFBIG),
];

/// The number of the errno named `name`.
pub fn errno_number(name: &str) -> Option<i32> {
    ERRNOS.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// The name of errno `number`, when it has one here.
pub fn errno_name(number: i32) -> Option<&'static str> {
    ERRNOS.iter().find(|(_, e)| *e == number).map(|(n, _)| *n)
}

/// `text`, capped for a message: the JSON string of its first 300 bytes
/// (`lifecycle_harness::report` says how it escapes).
pub fn excerpt(text: &str) -> String {
    lifecycle_harness::report::excerpt_within(text.as_bytes(), 300)
}

/// One request: its command and its members (JSON text each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub cmd: &'static str,
    members: Vec<(&'static str, String)>,
}

fn json_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

impl Request {
    pub fn new(cmd: &'static str) -> Request {
        Request {
            cmd,
            members: Vec::new(),
        }
    }

    /// Adds a member whose value is `raw` JSON text.
    pub fn raw(mut self, name: &'static str, raw: String) -> Request {
        self.members.push((name, raw));
        self
    }

    pub fn text(self, name: &'static str, value: &str) -> Request {
        self.raw(name, json_string(value))
    }

    pub fn number(self, name: &'static str, value: u64) -> Request {
        self.raw(name, value.to_string())
    }

    pub fn flag(self, name: &'static str, value: bool) -> Request {
        self.raw(name, value.to_string())
    }

    /// The request as one line, with `seq`.
    pub fn line(&self, seq: u64) -> String {
        let mut line = format!("{{\"cmd\":{},\"seq\":{seq}", json_string(self.cmd));
        for (name, raw) in &self.members {
            line.push_str(&format!(",{}:{raw}", json_string(name)));
        }
        line.push('}');
        line
    }

    /// The value of a member, as JSON text.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, raw)| raw.as_str())
    }
}

/// An error class of SPEC §7.2, as the adapter reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    pub class: String,
    pub field: Option<String>,
    pub errno: Option<String>,
    pub reason: Option<String>,
    pub expected: Option<u64>,
    pub got: Option<u64>,
    pub message: String,
}

/// A result: the returned record as the JSON text the adapter wrote (its
/// numbers as written: `1e400`, `1.50`), and the other members.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub record: Option<String>,
    pub members: Map<String, Value>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    Result(Outcome),
    Error(ErrorReply),
    Skipped {
        message: String,
        issue_url: Option<String>,
    },
    Errored {
        kind: String,
        message: String,
        traceback: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub seq: u64,
    pub body: ReplyBody,
}

type RawMembers = BTreeMap<String, Box<RawValue>>;

/// A JSON object's members, each kept as its raw text.
fn raw_members(text: &str) -> Result<RawMembers, String> {
    serde_json::from_str(text).map_err(|e| format!("not a JSON object ({e})"))
}

/// A reply's members as values, a result's record replaced by `{}`: the
/// record is the model's to judge, and may hold numbers no `Value` holds.
fn members(raw: &RawMembers) -> Result<(Map<String, Value>, Option<String>), String> {
    let mut values = Map::new();
    let mut record = None;
    for (name, text) in raw {
        let value = if name == "record" && text.get().trim_start().starts_with('{') {
            record = Some(text.get().to_string());
            Value::Object(Map::new())
        } else {
            serde_json::from_str(text.get()).map_err(|e| format!("{name}: {e}"))?
        };
        values.insert(name.clone(), value);
    }
    Ok((values, record))
}

impl Reply {
    /// Reads `line` as the reply to `request`.
    pub fn parse(line: &str, request: &Request) -> Result<Reply, String> {
        let raw = raw_members(line).map_err(|e| format!("the reply is {e}: {}", excerpt(line)))?;
        let mut value = Map::new();
        let mut outcome = None;
        for (name, text) in &raw {
            if name == "result" {
                let result = raw_members(text.get())
                    .map_err(|e| format!("the result is {e}: {}", excerpt(line)))?;
                let (members, record) =
                    members(&result).map_err(|e| format!("the result's {e}: {}", excerpt(line)))?;
                value.insert(name.clone(), Value::Object(members.clone()));
                outcome = Some(Outcome { record, members });
            } else {
                let v = serde_json::from_str(text.get()).map_err(|e| {
                    format!("the reply's {name} is not JSON ({e}): {}", excerpt(line))
                })?;
                value.insert(name.clone(), v);
            }
        }
        let value = Value::Object(value);
        let schema = Schema::protocol();
        schema.check("reply", &value).map_err(|e| {
            format!(
                "the reply breaks protocol/schema.json {e}: {}",
                excerpt(line)
            )
        })?;
        if let Some(result) = value.get("result") {
            schema
                .check(&format!("result_{}", request.cmd), result)
                .map_err(|e| {
                    format!(
                        "the result of {} breaks protocol/schema.json {}: {}",
                        request.cmd,
                        e.replacen("at /", "at /result/", 1),
                        excerpt(line)
                    )
                })?;
        }
        let seq = value.get("seq").and_then(integer).unwrap_or_default();
        let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(String::from);
        let body = if let Some(outcome) = outcome {
            ReplyBody::Result(outcome)
        } else if let Some(e) = value.get("error") {
            ReplyBody::Error(ErrorReply {
                class: text(e, "class").unwrap_or_default(),
                field: text(e, "field"),
                errno: text(e, "errno"),
                reason: text(e, "reason"),
                expected: e.get("expected").and_then(integer),
                got: e.get("got").and_then(integer),
                message: text(e, "message").unwrap_or_default(),
            })
        } else if let Some(s) = value.get("skipped") {
            ReplyBody::Skipped {
                message: text(s, "message").unwrap_or_default(),
                issue_url: text(s, "issue_url"),
            }
        } else {
            let e = value.get("errored").cloned().unwrap_or_default();
            ReplyBody::Errored {
                kind: text(&e, "type").unwrap_or_default(),
                message: text(&e, "message").unwrap_or_default(),
                traceback: text(&e, "traceback").unwrap_or_default(),
            }
        };
        Ok(Reply { seq, body })
    }
}

/// A whole number as the schema counts one: JSON Schema 2020-12 takes `1.0`
/// for the integer 1, so a reply that passed it means 1 by it.
fn integer(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n < 2f64.powi(64))
            .map(|n| n as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_one_line_of_the_schema() {
        let request = Request::new("step_failed")
            .text("path", "/tmp/a \"b\"/lifecycle_state.json")
            .number("step", 2)
            .text("error", "disk\nfull")
            .number("ttl_secs", 60);
        let line = request.line(7);
        assert!(!line.contains('\n'));
        let value: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(Schema::protocol().check("request", &value), Ok(()));
        assert_eq!(value["seq"], 7);
    }

    #[test]
    fn a_returned_record_keeps_its_numbers_as_written() {
        let load = Request::new("load").text("path", "/x");
        let reply = Reply::parse(
            r#"{"seq":1,"result":{"record":{"x":1e400,"y":1.50,"z":123456789012345678901234567890}}}"#,
            &load,
        )
        .expect("a reply");
        let ReplyBody::Result(result) = reply.body else {
            panic!("a result")
        };
        assert_eq!(
            result.record.as_deref(),
            Some(r#"{"x":1e400,"y":1.50,"z":123456789012345678901234567890}"#)
        );
    }

    #[test]
    fn a_reply_that_breaks_the_schema_names_the_field() {
        let load = Request::new("load").text("path", "/x");
        let error = Reply::parse(
            r#"{"seq":1,"result":{"record":{},"outcome":"fine"}}"#,
            &load,
        )
        .expect_err("a bad outcome");
        assert!(error.contains("at /result/outcome"), "{error}");
        let error = Reply::parse("Traceback (most recent call last):", &load).expect_err("garbage");
        assert!(error.contains("not a JSON object"), "{error}");
    }

    #[test]
    fn numbers_written_with_a_zero_fraction_are_read_as_the_integers_they_are() {
        let load = Request::new("load").text("path", "/x");
        let reply = Reply::parse(r#"{"seq":7.0,"result":{"record":{}}}"#, &load).expect("a reply");
        assert_eq!(reply.seq, 7);
        let reply = Reply::parse(
            r#"{"seq":8,"error":{"class":"refused","reason":"wrong_step","expected":2.0,"got":3}}"#,
            &load,
        )
        .expect("a reply");
        let ReplyBody::Error(error) = reply.body else {
            panic!("an error")
        };
        assert_eq!((error.expected, error.got), (Some(2), Some(3)));
        let error = Handshake::parse(
            r#"{"cmd":"start","version":2.0,"implementation":{"name":"x","language":"go"},"capabilities":["store"]}"#,
        )
        .expect_err("version 2.0 is version 2");
        assert!(error.contains("version 2;"), "{error}");
    }

    #[test]
    fn a_handshake_of_another_version_is_refused_with_both_versions() {
        let error = Handshake::parse(
            r#"{"cmd":"start","version":2,"implementation":{"name":"x","language":"go"},"capabilities":["store"]}"#,
        )
        .expect_err("version 2");
        assert!(
            error.contains("version 2") && error.contains("version 1"),
            "{error}"
        );
    }
}
