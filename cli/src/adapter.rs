//! `lifecycle adapter`: this project's store behind PROTOCOL.md, so the
//! oracle checks it exactly as it checks anyone else's.
//!
//! Promises: [`answer`] turns one request line into one reply line by the
//! store's public API alone (`Store`, `persist::save`, `codec`), with every
//! capability (`store`, `machine`, `sleep`, `clock`): the store's clock
//! stands at the request's `now`; a save's record is read by the store's
//! own decoder, so a record that breaks SPEC §1 is refused naming its
//! field; every error is mapped to its class of SPEC §7.2. `lifecycle
//! check` without `--adapter` calls [`answer`] in process; `lifecycle
//! adapter` calls it for each line of standard input.
//!
//! Does not promise: anything the store does not; it adds no checks.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use lifecycle_oracle::protocol::{errno_name, one_line, VERSION};
use lifecycle_state::persist::{self, LoadOutcome, SaveError};
use lifecycle_state::sleep_cycle::SleepCycleError;
use lifecycle_state::store::Found;
use lifecycle_state::{
    codec, Clock, Event, Guards, ManualClock, Options, Record, Shutdown, Store, StoreError,
    SystemClock, Timestamp, Updated,
};
use serde_json::value::RawValue;
use serde_json::{json, Value};

type Members = BTreeMap<String, Box<RawValue>>;

/// A request member as a value (`None` when absent or not JSON).
fn value(request: &Members, name: &str) -> Option<Value> {
    serde_json::from_str(request.get(name)?.get()).ok()
}

fn text(request: &Members, name: &str) -> Option<String> {
    value(request, name)?.as_str().map(str::to_string)
}

fn number(request: &Members, name: &str) -> Option<u64> {
    value(request, name)?.as_u64()
}

/// A record as the JSON text of a reply: on one line.
fn record_json(record: &Record) -> String {
    one_line(&String::from_utf8_lossy(&codec::encode(record)))
}

/// A reply the request itself made impossible.
struct BadRequest(String);

fn error(class: &str, members: Value) -> Value {
    let mut error = json!({ "class": class });
    if let (Some(error), Value::Object(members)) = (error.as_object_mut(), members) {
        error.extend(members);
    }
    json!({ "error": error })
}

fn io_error(e: &io::Error, message: String) -> Value {
    error(
        "io",
        json!({ "errno": e.raw_os_error().and_then(errno_name), "message": message }),
    )
}

fn store_error(e: &StoreError) -> Value {
    let message = e.to_string();
    match e {
        StoreError::Locked => error("locked", json!({ "message": message })),
        StoreError::Overflow(_) => error("overflow", json!({ "message": message })),
        StoreError::SleepCycle(s) => match s {
            SleepCycleError::Quarantined { .. } => error(
                "refused",
                json!({ "reason": "quarantined", "message": message }),
            ),
            SleepCycleError::NoCycle => error(
                "refused",
                json!({ "reason": "no_cycle", "message": message }),
            ),
            SleepCycleError::WrongStep { expected, got } => error(
                "refused",
                json!({ "reason": "wrong_step", "expected": expected, "got": got, "message": message }),
            ),
            _ => error("invalid_argument", json!({ "message": message })),
        },
        StoreError::Save(save) => save_error(save),
        other => match other.io() {
            Some(io) => io_error(io, message),
            None => error("io", json!({ "errno": null, "message": message })),
        },
    }
}

fn save_error(e: &SaveError) -> Value {
    match e {
        SaveError::Invalid(invalid) => {
            // The store names the record as a whole `(record)` (SPEC §3.1).
            let field = (invalid.field != "(record)").then_some(invalid.field.as_str());
            error(
                "invalid_record",
                json!({ "field": field, "message": invalid.to_string() }),
            )
        }
        SaveError::Io { source, .. } => io_error(source, e.to_string()),
        SaveError::BadPath(_) => error("io", json!({ "errno": null, "message": e.to_string() })),
    }
}

fn found_name(found: &Found) -> (&'static str, Value) {
    match found {
        Found::Valid => ("valid", Value::Null),
        Found::Missing => ("missing", Value::Null),
        Found::Corrupt { preserved_as, .. } => (
            "corrupt",
            preserved_as.file_name().map_or(Value::Null, |n| {
                Value::String(n.to_string_lossy().into_owned())
            }),
        ),
    }
}

/// The result of a writer, its record spliced in as raw text.
fn written(updated: &Updated, extra: Value) -> String {
    let (found, preserved_as) = found_name(&updated.found);
    let mut members = json!({
        "wrote": updated.wrote,
        "found": found,
        "preserved_as": preserved_as,
    });
    if let (Some(m), Value::Object(extra)) = (members.as_object_mut(), extra) {
        m.extend(extra);
    }
    splice(&record_json(&updated.record), &members)
}

/// `{"record": RECORD, …members}` with the record's text as it is.
fn splice(record: &str, members: &Value) -> String {
    let rest = members.to_string();
    let rest = rest.trim_start_matches('{').trim_end_matches('}');
    if rest.is_empty() {
        format!("{{\"record\":{record}}}")
    } else {
        format!("{{\"record\":{record},{rest}}}")
    }
}

/// The reply's body: `Ok(result JSON)` or `Err(error|skipped JSON)`.
fn handle(request: &Members, cmd: &str) -> Result<Result<String, Value>, BadRequest> {
    let now = match text(request, "now") {
        Some(now) => Timestamp::parse(&now)
            .map_err(|e| BadRequest(format!("now {now:?} is not a timestamp: {e}")))?,
        None => SystemClock.now(),
    };
    if cmd == "default" {
        return Ok(Ok(splice(
            &record_json(&Record::default_at(now)),
            &json!({}),
        )));
    }
    let path = PathBuf::from(
        text(request, "path").ok_or_else(|| BadRequest(format!("{cmd} needs a path")))?,
    );
    let clock = ManualClock::at(&now);
    let mut options = Options::default();
    if let Some(shadow_run) = value(request, "shadow_run").and_then(|v| v.as_bool()) {
        options.shadow_run = shadow_run;
    }
    if let Some(ttl) = number(request, "ttl_secs") {
        options.quarantine_ttl = Duration::from_secs(ttl);
    }
    let store = Store::new(lifecycle_state::RealFs, &clock, &path, options);
    let step = || number(request, "step").ok_or_else(|| BadRequest(format!("{cmd} needs a step")));
    let updated = match cmd {
        "load" => {
            let loaded = store.load();
            let (outcome, reason) = match &loaded.outcome {
                LoadOutcome::Valid => ("valid", None),
                LoadOutcome::Missing => ("missing", None),
                LoadOutcome::Corrupt(reason) => ("corrupt", Some(reason.to_string())),
                LoadOutcome::Unreadable(e) => ("unreadable", Some(e.to_string())),
            };
            let mut members = json!({ "outcome": outcome });
            if let (Some(reason), Some(m)) = (reason, members.as_object_mut()) {
                m.insert("reason".to_string(), Value::String(reason));
            }
            return Ok(Ok(splice(&record_json(&loaded.record), &members)));
        }
        "save" => {
            let raw = request
                .get("record")
                .ok_or_else(|| BadRequest("save needs a record".to_string()))?;
            let record = match codec::decode(raw.get().as_bytes()) {
                Ok(record) => record,
                Err(corrupt) => {
                    return Ok(Err(error(
                        "invalid_record",
                        json!({ "field": corrupt.field(), "message": corrupt.to_string() }),
                    )))
                }
            };
            return Ok(match persist::save(&path, &record) {
                Ok(()) => Ok("{}".to_string()),
                Err(e) => Err(save_error(&e)),
            });
        }
        "dispatch" => {
            let name = text(request, "event").unwrap_or_default();
            let event = Event::from_name(&name)
                .ok_or_else(|| BadRequest(format!("unknown event {name:?}")))?;
            let guards = value(request, "guards").unwrap_or_default();
            let flag = |name: &str| guards.get(name).and_then(Value::as_bool).unwrap_or(false);
            let guards = Guards {
                sleep_eligible: flag("sleep_eligible"),
                still_idle: flag("still_idle"),
            };
            return Ok(match store.dispatch(event, guards) {
                Ok(d) => {
                    let shutdown = match d.shutdown {
                        Shutdown::None => "none",
                        Shutdown::Requested => "requested",
                        Shutdown::WouldRequest => "would_request",
                    };
                    Ok(written(
                        &d.update,
                        json!({ "transitioned": d.transitioned(), "shutdown": shutdown }),
                    ))
                }
                Err(e) => Err(store_error(&e)),
            });
        }
        "begin" => store.begin_sleep_cycle(
            number(request, "steps").ok_or_else(|| BadRequest("begin needs steps".to_string()))?,
        ),
        "step_done" => store.step_done(step()?),
        "step_failed" => store.step_failed(step()?, &text(request, "error").unwrap_or_default()),
        "cycle_done" => store.cycle_done(),
        "reset_quarantine" => store.reset_quarantine(),
        other => {
            return Ok(Err(json!({
                "skipped": { "message": format!("unknown command {other:?}") }
            })))
        }
    };
    Ok(match updated {
        Ok(updated) => Ok(written(&updated, json!({}))),
        Err(e) => Err(store_error(&e)),
    })
}

/// The handshake.
fn start(request: &Members) -> String {
    if number(request, "version") != Some(VERSION) {
        return json!({
            "cmd": "start",
            "error": format!("this adapter speaks protocol version {VERSION} only"),
        })
        .to_string();
    }
    json!({
        "cmd": "start",
        "version": VERSION,
        "implementation": {
            "name": "lifecycle-state",
            "language": "rust",
            "version": env!("CARGO_PKG_VERSION"),
            "homepage": "",
        },
        "capabilities": ["store", "machine", "sleep", "clock"],
        "sidecars": [lifecycle_state::store::LOCK_FILE_NAME],
    })
    .to_string()
}

/// The reply to one request line; `None` for `stop`.
pub fn answer(line: &str) -> Option<String> {
    let request: Members = match serde_json::from_str(line) {
        Ok(request) => request,
        Err(e) => {
            return Some(
                json!({
                    "seq": 0,
                    "errored": { "type": "BadRequest", "message": format!("the request is not a JSON object: {e}"), "traceback": "" },
                })
                .to_string(),
            )
        }
    };
    let cmd = text(&request, "cmd").unwrap_or_default();
    match cmd.as_str() {
        "stop" => return None,
        "start" => return Some(start(&request)),
        _ => {}
    }
    let seq = number(&request, "seq").unwrap_or(0);
    Some(match handle(&request, &cmd) {
        Ok(Ok(result)) => format!("{{\"seq\":{seq},\"result\":{result}}}"),
        Ok(Err(body)) => {
            let mut body = body;
            if let Some(m) = body.as_object_mut() {
                m.insert("seq".to_string(), json!(seq));
            }
            body.to_string()
        }
        Err(BadRequest(message)) => json!({
            "seq": seq,
            "errored": { "type": "BadRequest", "message": message, "traceback": "" },
        })
        .to_string(),
    })
}

/// `lifecycle adapter`: answers the lines of standard input until `stop`
/// or its end.
pub fn serve() -> io::Result<()> {
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    for line in stdin.lock().lines() {
        let Some(reply) = answer(&line?) else {
            return Ok(());
        };
        writeln!(stdout, "{reply}")?;
        stdout.flush()?;
    }
    Ok(())
}
