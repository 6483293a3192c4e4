//! An implementation behind an adapter, as a subject of the harness.
//!
//! Promises: [`AdapterSubject`] turns each request of
//! `lifecycle_harness::Subject` into one request of PROTOCOL.md about the
//! record in its case directory, and each reply into the model's
//! vocabulary: a returned record is decoded by the model (one that breaks
//! SPEC §1 comes back as [`NotARecord`], with its JSON text), an error by
//! its class of SPEC §7.2, an exception the adapter caught as
//! [`Failure::Raised`], a request that got no reply (a hang, a crash, an
//! unreadable or endless line: an [`crate::adapter::Fault`]) as
//! [`Failure::Crashed`], whose text names what happened, the request as
//! sent and the adapter's standard error, and a request the adapter does
//! not support as [`Failure::Unsupported`]. The record directory is a real
//! one the oracle made, seen and set from outside like the in-process
//! subject's.
//!
//! Does not promise: a `now` the implementation uses, unless the adapter
//! has the `clock` capability; without it, the oracle compares the
//! timestamps an operation makes with the window of wall-clock time the
//! request took.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lifecycle_harness::directory::RealDirectory;
use lifecycle_harness::report;
use lifecycle_harness::subject::{Answer, Failure, Listing, Loaded, NotARecord, Subject, Written};
use lifecycle_model::implementation_defined;
use lifecycle_model::machine::Shutdown;
use lifecycle_model::record::TOP_KEYS;
use lifecycle_model::sleep_cycle::Refusal;
use lifecycle_model::spec::{LOCK_FILE_NAME, RECORD_FILE_NAME};
use lifecycle_model::writer::{LoadKind, WriterOp};
use lifecycle_model::{Record, Timestamp};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::adapter::{Adapter, Exchange};
use crate::protocol::{
    errno_number, one_line, Capability, ErrorReply, Outcome, ReplyBody, Request,
};

pub struct AdapterSubject<'a> {
    adapter: &'a mut Adapter,
    dir: RealDirectory,
    path: PathBuf,
}

impl<'a> AdapterSubject<'a> {
    /// The implementation behind `adapter`, its record in `dir` (which may
    /// not exist yet).
    pub fn new(adapter: &'a mut Adapter, dir: &Path) -> AdapterSubject<'a> {
        AdapterSubject {
            adapter,
            dir: RealDirectory::new(dir),
            path: dir.join(RECORD_FILE_NAME),
        }
    }

    fn request(&self, cmd: &'static str, now: &Timestamp) -> Request {
        let request = Request::new(cmd).text("path", &self.path.to_string_lossy());
        if self.adapter.handshake().has(Capability::Clock) {
            request.text("now", now.as_str())
        } else {
            request
        }
    }

    /// A request about the record that carries no `now` (a save).
    fn request_without_now(&self, cmd: &'static str) -> Request {
        Request::new(cmd).text("path", &self.path.to_string_lossy())
    }

    /// The result of the reply to `request`, or the failure.
    fn ask(&mut self, request: &Request) -> Result<Outcome, Failure> {
        match self.adapter.ask(request) {
            Exchange::Reply(reply) => match reply.body {
                ReplyBody::Result(members) => Ok(members),
                ReplyBody::Error(error) => Err(failure(&error, request)),
                ReplyBody::Skipped { message, issue_url } => Err(Failure::Unsupported {
                    message: match issue_url {
                        Some(url) => format!("{message} ({url})"),
                        None => message,
                    },
                }),
                ReplyBody::Errored {
                    kind,
                    message,
                    traceback,
                } => Err(Failure::Raised {
                    what: format!(
                        "{} raised {kind}: {message}{}{}",
                        request.cmd,
                        if traceback.is_empty() { "" } else { "\n" },
                        traceback
                    ),
                }),
            },
            // The fault says what happened, the request as sent and the
            // adapter's standard error: the finding's message is its text.
            Exchange::Fault(fault) => Err(Failure::Crashed {
                what: fault.to_string(),
            }),
            Exchange::Broken { why } => Err(Failure::Broken { why }),
        }
    }
}

/// The files besides the record an implementation may keep: those its
/// adapter declared, and the SPEC's lock file.
pub fn sidecars(adapter: &Adapter) -> Vec<String> {
    let mut names = adapter.handshake().sidecars.clone();
    names.push(LOCK_FILE_NAME.to_string());
    names
}

/// A record as the adapter returned it (its JSON text): the model's
/// record, or why it is not one.
pub fn answer(json: Option<&str>) -> Answer {
    let Some(json) = json else {
        return Err(NotARecord {
            json: String::new(),
            why: "the result has no record".to_string(),
        });
    };
    // A record on a point of requirements §7 (a lowercase `t`) is one.
    let record = lifecycle_model::record::decode(json.as_bytes())
        .or_else(|corrupt| implementation_defined::as_valid(json.as_bytes()).ok_or(corrupt))
        .map_err(|corrupt| NotARecord {
            why: format!("it breaks SPEC §1.6 item {}", corrupt.item()),
            json: json.to_string(),
        })?;
    let members: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(json).map_err(|e| NotARecord {
            why: format!("it is not a JSON object ({e})"),
            json: json.to_string(),
        })?;
    // SPEC §2.3: every returned record carries the seven known members.
    if let Some(absent) = TOP_KEYS.iter().find(|m| !members.contains_key(**m)) {
        return Err(NotARecord {
            why: format!("it lacks {absent}: a returned record carries all seven known members"),
            json: json.to_string(),
        });
    }
    Ok(record)
}

fn failure(error: &ErrorReply, request: &Request) -> Failure {
    let message = error.message.clone();
    match error.class.as_str() {
        "invalid_record" => Failure::InvalidRecord {
            field: error.field.clone(),
        },
        "invalid_argument" => Failure::InvalidArgument { message },
        "io" => Failure::Io {
            errno: error.errno.as_deref().and_then(errno_number),
            message: format!(
                "{}{message}",
                error
                    .errno
                    .as_deref()
                    .map(|e| format!("{e}: "))
                    .unwrap_or_default()
            ),
        },
        "locked" => Failure::Locked,
        "overflow" => Failure::Overflow,
        _ => Failure::Refused(match error.reason.as_deref() {
            Some("quarantined") => Refusal::Quarantined,
            Some("no_cycle") => Refusal::NoCycle,
            _ => Refusal::WrongStep {
                expected: error.expected.unwrap_or_default(),
                got: error.got.unwrap_or_else(|| {
                    request
                        .member("step")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or_default()
                }),
            },
        }),
    }
}

fn kind(value: Option<&Value>) -> Option<LoadKind> {
    match value?.as_str()? {
        "valid" => Some(LoadKind::Valid),
        "missing" => Some(LoadKind::Missing),
        "corrupt" => Some(LoadKind::Corrupt),
        "unreadable" => Some(LoadKind::Unreadable),
        _ => None,
    }
}

fn written(outcome: &Outcome) -> Written {
    let members = &outcome.members;
    Written {
        record: answer(outcome.record.as_deref()),
        found: kind(members.get("found")),
        preserved_as: members
            .get("preserved_as")
            .map(|p| p.as_str().map(String::from)),
        wrote: members.get("wrote").and_then(Value::as_bool),
        shutdown: match members.get("shutdown").and_then(Value::as_str) {
            Some("none") => Some(Shutdown::None),
            Some("requested") => Some(Shutdown::Requested),
            Some("would_request") => Some(Shutdown::WouldRequest),
            _ => None,
        },
        transitioned: members.get("transitioned").and_then(Value::as_bool),
    }
}

/// The capability an operation needs (`None`: the protocol has none for
/// it, the locked save).
fn needs(op: &WriterOp) -> Option<Capability> {
    match op {
        WriterOp::Dispatch { .. } => Some(Capability::Machine),
        WriterOp::Save(_) => None,
        _ => Some(Capability::Sleep),
    }
}

impl Subject for AdapterSubject<'_> {
    fn default_record(&mut self, now: &Timestamp) -> Result<Answer, Failure> {
        let request = Request::new("default");
        let request = if self.adapter.handshake().has(Capability::Clock) {
            request.text("now", now.as_str())
        } else {
            request
        };
        let outcome = self.ask(&request)?;
        Ok(answer(outcome.record.as_deref()))
    }

    fn takes_now(&self) -> bool {
        self.adapter.handshake().has(Capability::Clock)
    }

    fn offers(&self, op: &WriterOp) -> bool {
        needs(op).is_some_and(|c| self.adapter.handshake().has(c))
    }

    fn sidecars(&self) -> Vec<String> {
        sidecars(self.adapter)
    }

    fn write(&mut self, op: &WriterOp, now: &Timestamp) -> Result<Written, Failure> {
        match needs(op) {
            None => {
                return Err(Failure::Unsupported {
                    message: "the protocol has no locked save".to_string(),
                })
            }
            Some(c) if !self.adapter.handshake().has(c) => {
                return Err(Failure::Unsupported {
                    message: format!("the adapter has no {} capability", c.name()),
                })
            }
            Some(_) => {}
        }
        let request = match op {
            WriterOp::Dispatch {
                event,
                guards,
                shadow_run,
            } => self
                .request("dispatch", now)
                .text("event", event.name())
                .raw(
                    "guards",
                    format!(
                        "{{\"sleep_eligible\":{},\"still_idle\":{}}}",
                        guards.sleep_eligible, guards.still_idle
                    ),
                )
                .flag("shadow_run", *shadow_run),
            WriterOp::Begin(n) => self.request("begin", now).number("steps", *n),
            WriterOp::StepDone(k) => self.request("step_done", now).number("step", *k),
            WriterOp::StepFailed {
                step,
                error,
                ttl_secs,
            } => self
                .request("step_failed", now)
                .number("step", *step)
                .text("error", error)
                .number("ttl_secs", *ttl_secs),
            WriterOp::CycleDone => self.request("cycle_done", now),
            WriterOp::ResetQuarantine => self.request("reset_quarantine", now),
            WriterOp::Save(_) => unreachable!("answered above"),
        };
        let outcome = self.ask(&request)?;
        Ok(written(&outcome))
    }

    fn save(&mut self, record: &Record) -> Result<(), Failure> {
        self.save_json(&report::record_text(record))
    }

    fn save_json(&mut self, json: &str) -> Result<(), Failure> {
        let request = self
            .request_without_now("save")
            .raw("record", one_line(json));
        self.ask(&request).map(drop)
    }

    fn load(&mut self, now: &Timestamp) -> Result<Loaded, Failure> {
        let request = self.request("load", now);
        let outcome = self.ask(&request)?;
        Ok(Loaded {
            kind: kind(outcome.members.get("outcome")),
            record: answer(outcome.record.as_deref()),
        })
    }

    fn record_name(&self) -> &str {
        RECORD_FILE_NAME
    }

    fn case_dir(&self) -> Option<&Path> {
        Some(self.dir.path())
    }

    fn entries(&self) -> Listing {
        self.dir.entries()
    }

    fn dir_mode(&self) -> Option<u32> {
        self.dir.mode()
    }

    fn put_file(&mut self, name: &str, data: &[u8], mode: u32) {
        self.dir.put_file(name, data, mode);
    }

    fn put_dir(&mut self, name: &str) {
        self.dir.put_dir(name);
    }

    fn remove(&mut self, name: &str) {
        self.dir.remove(name);
    }
}
