//! lifecycle check adapter (PROTOCOL.md v1) for the store library: one JSON
//! request per line on stdin, one reply per line on stdout.

use std::io::{self, BufRead, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use serde_json::{json, Value};
use store::SaveError;

fn errno_name(e: &io::Error) -> String {
    let Some(code) = e.raw_os_error() else {
        return "EIO".into();
    };
    let name = match code {
        libc_errno::ENOSPC => "ENOSPC",
        libc_errno::EDQUOT => "EDQUOT",
        libc_errno::EIO => "EIO",
        libc_errno::EACCES => "EACCES",
        libc_errno::EROFS => "EROFS",
        libc_errno::EPERM => "EPERM",
        libc_errno::ENOENT => "ENOENT",
        libc_errno::ENOTDIR => "ENOTDIR",
        libc_errno::EISDIR => "EISDIR",
        libc_errno::EEXIST => "EEXIST",
        libc_errno::EINVAL => "EINVAL",
        libc_errno::ELOOP => "ELOOP",
        _ => return format!("E{code}"),
    };
    name.into()
}

/// The Linux numbers of the errors a save can meet (asm-generic/errno*.h).
mod libc_errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const EACCES: i32 = 13;
    pub const EEXIST: i32 = 17;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
    pub const EROFS: i32 = 30;
    pub const ELOOP: i32 = 40;
    pub const EDQUOT: i32 = 122;
}

fn handle(request: &Value) -> Value {
    let path = Path::new(request["path"].as_str().unwrap_or_default());
    match request["cmd"].as_str() {
        Some("default") => json!({"result": {"record": store::default_record()}}),
        Some("load") => {
            let (record, outcome, reason) = store::load(path);
            json!({"result": {"record": record, "outcome": outcome.as_str(), "reason": reason}})
        }
        Some("save") => match store::save(path, &request["record"]) {
            Ok(()) => json!({"result": {}}),
            Err(SaveError::Invalid(e)) => json!({"error": {
                "class": "invalid_record", "field": e.field, "message": e.to_string()}}),
            Err(SaveError::Io(e)) => json!({"error": {
                "class": "io", "errno": errno_name(&e), "message": e.to_string()}}),
        },
        other => json!({"skipped": {
            "message": format!("{other:?} is not supported: store capability only")}}),
    }
}

fn main() {
    let stdin = io::stdin();
    let mut out = io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let request: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let seq = line
                    .split("\"seq\":")
                    .nth(1)
                    .and_then(|s| s.trim_start().split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0);
                // PROTOCOL.md: a record serde_json cannot read (too deep, a
                // number out of range) is one the store would refuse.
                let reply = if line.contains("\"cmd\":\"save\"") {
                    json!({"seq": seq, "error": {"class": "invalid_record", "field": null,
                        "message": format!("serde_json cannot read the record: {e}")}})
                } else {
                    json!({"seq": seq, "errored": {
                        "type": "serde_json::Error",
                        "message": format!("unreadable request: {e}"), "traceback": ""}})
                };
                let _ = writeln!(out, "{reply}").and_then(|()| out.flush());
                continue;
            }
        };
        let reply = match request["cmd"].as_str() {
            Some("start") if request["version"] == 1 => json!({
                "cmd": "start", "version": 1,
                "implementation": {"name": "tempfile-store", "language": "rust",
                    "version": "3", "homepage": "https://github.com/Stebalien/tempfile"},
                "capabilities": ["store"], "sidecars": []}),
            Some("start") => {
                let reply = json!({"cmd": "start",
                    "error": "this adapter speaks protocol version 1 only"});
                let _ = writeln!(out, "{reply}").and_then(|()| out.flush());
                std::process::exit(1);
            }
            Some("stop") => return,
            _ => {
                let mut reply = panic::catch_unwind(AssertUnwindSafe(|| handle(&request)))
                    .unwrap_or_else(|p| {
                        let message = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        json!({"errored": {"type": "panic", "message": message, "traceback": ""}})
                    });
                reply["seq"] = request["seq"].clone();
                reply
            }
        };
        let _ = writeln!(out, "{reply}").and_then(|()| out.flush());
    }
}
