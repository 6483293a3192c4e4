//! `protocol` (with `--validate-protocol`): every message the adapter sent
//! during the run, checked against `protocol/schema.json`.
//!
//! Promises: one result per command the adapter answered (`start`,
//! `load`, …): `pass` when every reply to it matched the schema, else a
//! violation of PROTOCOL.md naming the first reply that did not, the JSON
//! pointer of the wrong field and why.
//!
//! Does not promise: anything about what the replies mean; the suites
//! judge that.

use std::collections::BTreeMap;

use crate::adapter::Adapter;
use crate::protocol::{excerpt, Handshake, Reply, Request};
use crate::report::{CaseResult, Verdict};

/// The protocol suite's results for the messages `adapter` recorded.
pub fn judge_transcript(adapter: &Adapter) -> Vec<CaseResult> {
    let Some(transcript) = &adapter.transcript else {
        return Vec::new();
    };
    let mut by_cmd: BTreeMap<&'static str, (usize, Option<String>)> = BTreeMap::new();
    for (cmd, line) in transcript {
        let checked = if *cmd == "start" {
            Handshake::parse(line).map(drop)
        } else {
            Reply::parse(line, &Request::new(cmd)).map(drop)
        };
        let entry = by_cmd.entry(cmd).or_default();
        entry.0 += 1;
        if let (Err(why), None) = (checked, &entry.1) {
            entry.1 = Some(format!("{why} (in the reply {})", excerpt(line)));
        }
    }
    by_cmd
        .into_iter()
        .map(|(cmd, (count, problem))| {
            let result = CaseResult::pass("protocol", format!("protocol/{cmd}"), "PROTOCOL.md", "");
            match problem {
                None => result.with(
                    Verdict::Pass,
                    format!("{count} replies to {cmd}, every one as the schema says"),
                ),
                Some(why) => {
                    let mut result = result.with(Verdict::Violation, why);
                    result.rule = format!("every reply to {cmd} is as protocol/schema.json says");
                    result
                }
            }
        })
        .collect()
}
