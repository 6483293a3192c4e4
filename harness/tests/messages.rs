//! Messages of findings on tricky files read as the SPEC's words and
//! JSON's escapes, never as a Rust `Debug` dump: the comparator's findings
//! for files with a NUL, an unpaired surrogate escape, bytes that are not
//! UTF-8, more than 1 MiB, `-0`, U+2028, a byte order mark, an unassigned
//! code point and a duplicate name at the end, on load, save, write and
//! after a crash.

use std::sync::Arc;

use lifecycle_harness::compare;
use lifecycle_harness::report;
use lifecycle_harness::subject::{NotARecord, Written};
use lifecycle_harness::{Entry, Failure, Finding, Loaded, Rules, World};
use lifecycle_model::machine::{Event, Guards};
use lifecycle_model::writer::{Found, WriterOp};
use lifecycle_model::{Record, Timestamp};

/// 2024-06-01T12:00:00Z.
const NOW: i64 = 1_717_243_200_000_000;

/// What no message may hold: Rust's escapes and `Debug` dumps of the
/// model's and the harness's types.
const DEBUG: [&str; 11] = [
    "\\u{",
    "Some(",
    "None",
    "Ok(",
    "Err(",
    "Raw(",
    "Invalid(",
    "Missing(",
    "Valid(",
    "Corrupt(",
    "Unreadable",
];

fn record_text(extra: &str, seq: &str) -> String {
    format!(
        r#"{{"current_state":"WAKE","since_ts":"2024-01-01T00:00:00Z","last_activity_ts":"2024-01-01T00:00:00Z","wrapper_event_seq":{seq},"sleep_cycle_progress":null,"quarantine":null,"shadow_run":false{extra}}}"#
    )
}

/// Files the model calls corrupt, each breaking another rule.
fn corrupt_files() -> Vec<Vec<u8>> {
    let mut oversize = record_text("", "1").into_bytes();
    oversize.resize((1 << 20) + 1, b' ');
    vec![
        record_text(",\"x\":\"a\u{0}b\"", "1").into_bytes(),
        record_text(",\"x\":\"\\ud800\"", "1").into_bytes(),
        [record_text("", "1").as_bytes(), b"\xff\xfe"].concat(),
        record_text(",\"x\":\"\u{bb09a}\u{2028}\"", "1")
            .replace("\"x\"", "\"x\u{1}\"")
            .into_bytes(),
        oversize,
        [b"\xef\xbb\xbf".as_slice(), record_text("", "1").as_bytes()].concat(),
        record_text(",\"a\":1,\"a\":2", "1").into_bytes(),
        record_text("", "-1").into_bytes(),
        record_text(",\"x\":[1,2", "1").into_bytes(),
    ]
}

/// Files the model calls valid, with what a careless reader changes.
fn valid_files() -> Vec<Vec<u8>> {
    vec![
        record_text("", "-0").into_bytes(),
        record_text(",\"x\":\"a\u{2028}b\u{feff}\u{bb09a}\"", "1").into_bytes(),
        record_text(",\"x\":\"\\u0000\",\"n\":[991744403621478573543]", "1").into_bytes(),
    ]
}

fn now() -> Timestamp {
    lifecycle_harness::world::at_micros(NOW)
}

/// A record other than the default, with tricky unknown members.
fn other_record() -> Record {
    let text = record_text(
        ",\"x\":\"\\u0000\u{2028}\u{bb09a}\",\"n\":[9.917444036214787e20]",
        "7",
    );
    lifecycle_model::record::decode(text.as_bytes()).expect("a valid record")
}

fn loaded(record: Record) -> Result<Loaded, Failure> {
    Ok(Loaded {
        kind: None,
        record: Ok(record),
    })
}

fn assert_reads_well(finding: &Finding) {
    for text in [&finding.message, &finding.to_string()] {
        for debug in DEBUG {
            assert!(
                !text.contains(debug),
                "{debug} in a message: {}",
                &text[..text.len().min(2_000)]
            );
        }
    }
    assert!(
        finding.message.len() < 8_000,
        "a message of {} bytes",
        finding.message.len()
    );
}

#[test]
fn load_findings_on_corrupt_files_name_the_rule_and_the_place_without_debug() {
    for bytes in corrupt_files() {
        for rules in [Rules::Spec, Rules::Requirements] {
            let world = World::new(NOW, Found::Corrupt(bytes.clone())).with_rules(rules);
            for finding in [
                compare::load(&world, &loaded(other_record())),
                compare::load_of(&world, Some(&bytes), &loaded(other_record())),
                compare::load(
                    &world,
                    &Ok(Loaded {
                        kind: None,
                        record: Err(NotARecord {
                            json: String::from_utf8_lossy(&bytes).into_owned(),
                            why: "not an object".to_string(),
                        }),
                    }),
                ),
            ] {
                let finding = finding.expect_err("a finding");
                assert_reads_well(&finding);
                assert!(
                    finding.message.contains("SPEC §1.6 item"),
                    "{}",
                    finding.message
                );
            }
        }
        let corrupt = lifecycle_model::record::decode(&bytes).expect_err("corrupt");
        if corrupt.item() <= 8 {
            let said = compare::breaks(&bytes, &corrupt);
            assert!(said.contains(", at byte "), "{said}");
        }
    }
}

#[test]
fn load_findings_on_valid_files_name_what_differs_without_debug() {
    for bytes in valid_files() {
        for rules in [Rules::Spec, Rules::Requirements] {
            let world = World::new(NOW, Found::of_bytes(&bytes)).with_rules(rules);
            for returned in [Record::default_at(&now()), other_record()] {
                for finding in [
                    compare::load(&world, &loaded(returned.clone())),
                    compare::load_of(&world, Some(&bytes), &loaded(returned.clone())),
                ] {
                    assert_reads_well(&finding.expect_err("a finding"));
                }
            }
            let failed = compare::load(
                &world,
                &Err(Failure::Crashed {
                    what: "the adapter died".to_string(),
                }),
            );
            assert_reads_well(&failed.expect_err("a finding"));
        }
    }
}

#[test]
fn save_findings_on_invalid_records_say_which_rule_first_without_debug() {
    let mut texts: Vec<String> = corrupt_files()
        .into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    texts.push(record_text(",\"x\":\"\u{2028}\"", "9007199254740992"));
    for text in texts {
        for observed in [
            Ok(()),
            Err(Failure::InvalidRecord {
                field: Some("shadow_run".to_string()),
            }),
            Err(Failure::InvalidRecord { field: None }),
            Err(Failure::Io {
                errno: Some(28),
                message: "no space left".to_string(),
            }),
        ] {
            let judged = compare::save_judged(|| text.clone(), false, Some("x"), &observed);
            if let Err(finding) = judged {
                assert_reads_well(&finding);
                assert!(
                    finding.message.contains("it breaks SPEC §1"),
                    "{}",
                    finding.message
                );
            }
        }
    }
    let failed = compare::save(
        &other_record(),
        None,
        &Err(Failure::Io {
            errno: None,
            message: "EIO".to_string(),
        }),
    );
    assert_reads_well(&failed.expect_err("a finding"));
}

#[test]
fn files_after_a_write_and_after_a_crash_are_judged_without_debug() {
    let record = other_record();
    for bytes in corrupt_files().into_iter().chain(valid_files()) {
        let world = World::new(NOW, Found::Missing);
        if let Err(finding) = compare::serialized_form(&bytes, &record) {
            assert_reads_well(&finding);
            assert!(
                finding.message.contains("first at byte"),
                "{}",
                finding.message
            );
        }
        let entry = Entry::File {
            mode: 0o600,
            data: Arc::new(bytes.clone()),
        };
        let allowed = [Found::Valid(Record::default_at(&now())), Found::Missing];
        let observed = compare::observe(&world, "a crash", Some(&entry), &allowed);
        assert_reads_well(&observed.expect_err("a finding"));
    }
}

#[test]
fn writer_findings_name_what_differs_without_debug() {
    for bytes in corrupt_files().into_iter().chain(valid_files()) {
        let world = World::new(NOW, Found::of_bytes(&bytes)).with_rules(Rules::Requirements);
        let op = WriterOp::Dispatch {
            event: Event::RequestArrived,
            guards: Guards::default(),
            shadow_run: false,
        };
        for observed in [
            Ok(Written {
                record: Ok(other_record()),
                found: None,
                preserved_as: None,
                wrote: Some(true),
                shutdown: None,
                transitioned: None,
            }),
            Err(Failure::Locked),
        ] {
            let judged = compare::write(&world, &op, &observed);
            assert_reads_well(&judged.expect_err("a finding"));
        }
    }
}

#[test]
fn excerpts_of_tricky_files_use_json_escapes() {
    for bytes in corrupt_files().into_iter().chain(valid_files()) {
        let shown = report::excerpt(&bytes);
        for debug in DEBUG {
            assert!(!shown.contains(debug), "{debug} in {shown}");
        }
        assert!(shown.starts_with('"'), "{shown}");
    }
}
