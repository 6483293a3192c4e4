//! Recorded straces of one save by three implementations
//! (`tests/fixtures/strace`, recorded by its `record.sh`), converted to the
//! persistence model's op log: the log is exactly the save's protocol, and
//! applying it leaves the bytes the save wrote in the record file; and the
//! system-call table says where those calls have their descriptors and
//! paths as strace printed them; a runtime's threads are one process by
//! the clones strace printed.

use lifecycle_model::persistence::{apply, Crash, CrashSpace, Disk, InodeId, Node, Op};
use lifecycle_oracle::syscalls::convert::{op_log, SaveContext, TracedOp};
use lifecycle_oracle::syscalls::strace::{parse, Arg, Call, CallResult, Trace};
use lifecycle_oracle::syscalls::table::lookup;
use lifecycle_oracle::syscalls::ThreadGroups;

/// D in every fixture: the recording's directory rewritten to `/fixture`.
const DIR: &str = "/fixture/case";
const RECORD: &str = "/fixture/case/lifecycle_state.json";
/// The umask `record.sh` records with.
const UMASK: u32 = 0o022;

/// The serialized form (SPEC §3.2) of the record every fixture saves.
const COMPACT: &[u8] = b"{\"current_state\":\"WAKE\",\"since_ts\":\"2024-01-01T00:00:00Z\",\
\"last_activity_ts\":\"2024-01-01T00:00:00Z\",\"wrapper_event_seq\":1,\
\"sleep_cycle_progress\":null,\"quarantine\":null,\"shadow_run\":false}\n";

/// What the Python original writes: `json.dump(record, f, indent=2)`.
const SEED_FORM: &[u8] =
    b"{\n  \"current_state\": \"WAKE\",\n  \"since_ts\": \"2024-01-01T00:00:00Z\",\n  \
\"last_activity_ts\": \"2024-01-01T00:00:00Z\",\n  \"wrapper_event_seq\": 1,\n  \
\"sleep_cycle_progress\": null,\n  \"quarantine\": null,\n  \"shadow_run\": false\n}";

/// The record `record.sh` puts in place before the `-existing` saves.
const OLD: &[u8] = b"{\"current_state\":\"DROWSY\",\"since_ts\":\"2023-01-01T00:00:00Z\",\
\"last_activity_ts\":\"2023-01-01T00:00:00Z\",\"wrapper_event_seq\":0,\
\"sleep_cycle_progress\":null,\"quarantine\":null,\"shadow_run\":false}\n";

fn fixture(name: &str) -> Vec<Call> {
    let path = format!(
        "{}/tests/fixtures/strace/{name}.trace",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match parse(&text) {
        Ok(trace) => trace.calls,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// `/fixture` exists; with `existing`, D holds the old record as inode 1.
fn before(existing: bool) -> Disk {
    let mut disk = Disk::default();
    disk.nodes
        .insert("/fixture".into(), Node::Dir { mode: 0o755 });
    if existing {
        disk.nodes.insert(DIR.into(), Node::Dir { mode: 0o700 });
        disk.nodes.insert(
            RECORD.into(),
            Node::File {
                inode: 1,
                mode: 0o600,
                data: OLD.to_vec(),
            },
        );
    }
    disk
}

fn convert(calls: &[Call], before: &Disk) -> Vec<TracedOp> {
    let context = SaveContext {
        dir: DIR,
        before,
        umask: UMASK,
        cwd: "/repo",
    };
    op_log(calls, &context).unwrap_or_else(|e| panic!("{e}"))
}

/// The temp file's name, which is random: the path of the log's Create,
/// checked against SPEC §3.3's pattern (`.lifecycle_state.*.tmp`).
fn temp_path(log: &[TracedOp]) -> String {
    let path = log
        .iter()
        .find_map(|t| match &t.op {
            Op::Create { path, .. } => Some(path.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Create in {log:?}"));
    let name = path
        .strip_prefix("/fixture/case/.lifecycle_state.")
        .and_then(|rest| rest.strip_suffix(".tmp"));
    assert!(name.is_some_and(|n| !n.is_empty()), "temp file {path}");
    path
}

/// Each op with the name of the system call it came from.
fn named(log: &[TracedOp], calls: &[Call]) -> Vec<(String, Op)> {
    log.iter()
        .map(|t| (calls[t.call].name.clone(), t.op.clone()))
        .collect()
}

fn op(call: &str, op: Op) -> (String, Op) {
    (call.to_string(), op)
}

fn mkdir(mode: u32) -> Op {
    Op::Mkdir {
        path: DIR.into(),
        mode,
    }
}

fn create(path: &str, inode: InodeId) -> Op {
    Op::Create {
        path: path.into(),
        inode,
        mode: 0o600,
    }
}

fn write(inode: InodeId, data: &[u8]) -> Op {
    Op::Write {
        inode,
        offset: 0,
        data: data.to_vec(),
    }
}

fn chmod(path: &str, mode: u32) -> Op {
    Op::Chmod {
        path: path.into(),
        mode,
    }
}

fn rename(temp: &str) -> Op {
    Op::Rename {
        from: temp.into(),
        to: RECORD.into(),
    }
}

fn fsync_dir(path: &str) -> Op {
    Op::FsyncDir { path: path.into() }
}

fn ops_of(log: &[TracedOp]) -> Vec<Op> {
    log.iter().map(|t| t.op.clone()).collect()
}

/// What the record file holds after the log, as a process sees it.
fn record_after(before: &Disk, log: &[TracedOp]) -> Option<(u32, Vec<u8>)> {
    let disk = apply(before, &ops_of(log)).unwrap_or_else(|e| panic!("{e}"));
    let leftovers: Vec<&String> = disk
        .nodes
        .keys()
        .filter(|p| p.starts_with("/fixture/case/.lifecycle_state."))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    match disk.nodes.get(RECORD) {
        Some(Node::File { mode, data, .. }) => Some((*mode, data.clone())),
        _ => None,
    }
}

/// Every state a power loss after the whole log may leave: what the record
/// file holds in each.
fn records_after_power_loss(before: &Disk, log: &[TracedOp]) -> Vec<Option<Vec<u8>>> {
    let space = CrashSpace::new(before, &ops_of(log), Crash::PowerLoss { block_size: 512 })
        .unwrap_or_else(|e| panic!("{e}"));
    space
        .states()
        .map(|disk| match disk.nodes.get(RECORD) {
            Some(Node::File { data, .. }) => Some(data.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_rust_store_creating_its_directory_follows_spec_3_3() {
    let calls = fixture("rust-new");
    let log = convert(&calls, &before(false));
    let temp = temp_path(&log);
    assert_eq!(
        named(&log, &calls),
        vec![
            op("mkdir", mkdir(0o700)),
            op("fsync", fsync_dir("/fixture")),
            op("openat", create(&temp, 1)),
            op("pwrite64", write(1, COMPACT)),
            op("fsync", Op::FsyncFile { inode: 1 }),
            op("rename", rename(&temp)),
            op("fsync", fsync_dir(DIR)),
        ]
    );
    assert_eq!(
        record_after(&before(false), &log),
        Some((0o600, COMPACT.to_vec()))
    );
}

#[test]
fn the_rust_store_replacing_a_record_follows_spec_3_3() {
    let calls = fixture("rust-existing");
    let log = convert(&calls, &before(true));
    let temp = temp_path(&log);
    assert_eq!(
        named(&log, &calls),
        vec![
            op("openat", create(&temp, 2)),
            op("pwrite64", write(2, COMPACT)),
            op("fsync", Op::FsyncFile { inode: 2 }),
            op("rename", rename(&temp)),
            op("fsync", fsync_dir(DIR)),
        ]
    );
    assert_eq!(
        record_after(&before(true), &log),
        Some((0o600, COMPACT.to_vec()))
    );
}

#[test]
fn the_conforming_python_store_follows_spec_3_3() {
    let calls = fixture("conforming-new");
    let log = convert(&calls, &before(false));
    let temp = temp_path(&log);
    assert_eq!(
        named(&log, &calls),
        vec![
            op("mkdir", mkdir(0o700)),
            op("chmod", chmod(DIR, 0o700)),
            op("fsync", fsync_dir("/fixture")),
            op("openat", create(&temp, 1)),
            op("fchmod", chmod(&temp, 0o600)),
            op("write", write(1, COMPACT)),
            op("fsync", Op::FsyncFile { inode: 1 }),
            op("rename", rename(&temp)),
            op("fsync", fsync_dir(DIR)),
        ]
    );
    assert_eq!(
        record_after(&before(false), &log),
        Some((0o600, COMPACT.to_vec()))
    );
}

#[test]
fn the_python_original_renames_without_a_directory_fsync() {
    let calls = fixture("seed-new");
    let log = convert(&calls, &before(false));
    let temp = temp_path(&log);
    assert_eq!(
        named(&log, &calls),
        vec![
            // mkdir(0777) under umask 022, its parent never synced.
            op("mkdir", mkdir(0o755)),
            op("openat", create(&temp, 1)),
            op("write", write(1, SEED_FORM)),
            op("fsync", Op::FsyncFile { inode: 1 }),
            op("chmod", chmod(&temp, 0o600)),
            op("rename", rename(&temp)),
        ]
    );
    assert_eq!(
        record_after(&before(false), &log),
        Some((0o600, SEED_FORM.to_vec()))
    );
}

#[test]
fn the_python_original_makes_no_directory_durable_after_its_rename() {
    for (name, existing) in [("seed-new", false), ("seed-existing", true)] {
        let log = convert(&fixture(name), &before(existing));
        let renamed = log
            .iter()
            .position(|t| matches!(t.op, Op::Rename { .. }))
            .unwrap_or_else(|| panic!("{name}: no rename"));
        let synced_after: Vec<&Op> = log[renamed..]
            .iter()
            .map(|t| &t.op)
            .filter(|op| matches!(op, Op::FsyncDir { .. }))
            .collect();
        assert!(synced_after.is_empty(), "{name}: {synced_after:?}");
    }
}

#[test]
fn the_python_original_replacing_a_record_ignores_its_failed_mkdir() {
    let calls = fixture("seed-existing");
    assert!(calls.iter().any(|c| c.name == "mkdir"
        && matches!(&c.result, CallResult::Err { errno } if errno == "EEXIST")));
    let log = convert(&calls, &before(true));
    let temp = temp_path(&log);
    assert_eq!(
        named(&log, &calls),
        vec![
            op("openat", create(&temp, 2)),
            op("write", write(2, SEED_FORM)),
            op("fsync", Op::FsyncFile { inode: 2 }),
            op("chmod", chmod(&temp, 0o600)),
            op("rename", rename(&temp)),
        ]
    );
    assert_eq!(
        record_after(&before(true), &log),
        Some((0o600, SEED_FORM.to_vec()))
    );
}

// The point of the exercise: the model, fed a real trace, tells the two
// protocols apart (SPEC §3.4.2, a saved record survives power loss).
#[test]
fn a_power_loss_after_the_rust_save_keeps_the_new_record() {
    let log = convert(&fixture("rust-existing"), &before(true));
    let records = records_after_power_loss(&before(true), &log);
    assert!(records.iter().all(|r| r.as_deref() == Some(COMPACT)));
}

#[test]
fn a_power_loss_after_the_python_original_save_may_bring_back_the_old_record() {
    let log = convert(&fixture("seed-existing"), &before(true));
    let records = records_after_power_loss(&before(true), &log);
    assert!(records.iter().any(|r| r.as_deref() == Some(OLD)));
    assert!(records.iter().any(|r| r.as_deref() == Some(SEED_FORM)));
}

/// Every recorded trace.
const FIXTURES: [&str; 5] = [
    "rust-new",
    "rust-existing",
    "conforming-new",
    "seed-new",
    "seed-existing",
];

#[test]
fn the_traces_hold_no_path_of_the_recording_machine() {
    for name in FIXTURES {
        for call in fixture(name) {
            for arg in &call.args {
                if let Arg::Str(bytes) | Arg::Fd { path: bytes, .. } = arg {
                    let text = String::from_utf8_lossy(bytes);
                    assert!(!text.contains("/tmp/"), "{name}: {text}");
                }
            }
        }
    }
}

#[test]
fn the_table_puts_descriptors_and_paths_where_strace_printed_them() {
    let mut checked = 0;
    for name in FIXTURES {
        for call in fixture(name) {
            let Some(known) = lookup(&call.name) else {
                continue;
            };
            for (index, arg) in call.args.iter().enumerate() {
                if let Arg::Fd { .. } = arg {
                    assert!(
                        known.fds.contains(&index),
                        "{name} line {}: {} prints a descriptor at {index}",
                        call.line,
                        call.name
                    );
                }
            }
            for path in known.paths {
                let arg = call.args.get(path.index);
                assert!(
                    matches!(arg, Some(Arg::Str(_))),
                    "{name} line {}: {} has {arg:?} at {}",
                    call.line,
                    call.name,
                    path.index
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} calls the table knows");
}

// Saves of real libraries and of the calls they make that the model holds
// since the oracle was tried on them (`record.sh` records these too).

/// The op log of `name` and the disk before it (with the directories the
/// converter took in for a temp file made outside D), converted whole.
fn converted(name: &str) -> (Vec<Call>, Vec<TracedOp>, Disk) {
    let calls = fixture(name);
    let disk = before(true);
    let context = SaveContext {
        dir: DIR,
        before: &disk,
        umask: UMASK,
        cwd: "/repo",
    };
    let converted = lifecycle_oracle::syscalls::convert::convert(&calls, &context)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (calls, converted.ops, converted.before)
}

/// What the record path holds after the whole log, and after every power
/// loss after it.
fn after_and_power_loss(before: &Disk, log: &[TracedOp]) -> (Option<(u32, Vec<u8>)>, Vec<bool>) {
    let disk = apply(before, &ops_of(log)).unwrap_or_else(|e| panic!("{e}"));
    let held = match disk.nodes.get(RECORD) {
        Some(Node::File { mode, data, .. }) => Some((*mode, data.clone())),
        _ => None,
    };
    let written = held.as_ref().map(|(_, data)| data.clone());
    let survived = records_after_power_loss(before, log)
        .into_iter()
        .map(|data| data == written)
        .collect();
    (held, survived)
}

#[test]
fn an_unnamed_temp_file_linked_in_is_a_file_then_a_name_and_the_save_is_durable() {
    let (calls, log, before) = converted("unnamed-existing");
    let names: Vec<&str> = log.iter().map(|t| calls[t.call].name.as_str()).collect();
    assert_eq!(
        names,
        ["openat", "fchmod", "write", "fsync", "linkat", "rename", "fsync"]
    );
    assert!(matches!(log[0].op, Op::CreateUnnamed { mode: 0o600, .. }));
    assert!(matches!(log[1].op, Op::ChmodFile { mode: 0o600, .. }));
    assert!(
        matches!(&log[4].op, Op::Link { path, .. } if path.starts_with("/fixture/case/.lifecycle_state."))
    );
    let (held, survived) = after_and_power_loss(&before, &log);
    assert_eq!(held, Some((0o600, COMPACT.to_vec())));
    assert!(survived.iter().all(|s| *s), "a power loss loses the save");
}

#[test]
fn write_file_atomic_chowning_its_temp_file_converts_and_misses_a_directory_fsync() {
    let (calls, log, before) = converted("node-existing");
    assert!(
        calls.iter().any(|c| c.name == "chown"),
        "the fixture chowns"
    );
    let (held, survived) = after_and_power_loss(&before, &log);
    let (mode, data) = held.expect("the record is there");
    assert_eq!(mode, 0o600);
    assert!(data.starts_with(b"{\"current_state\":\"WAKE\""), "{data:?}");
    // write-file-atomic never fsyncs the directory: a power loss after the
    // save returned may bring the old record back (what `power` reports).
    assert!(survived.iter().any(|s| !*s));
}

#[test]
fn renameio_moving_its_temp_file_in_from_tmp_is_followed_from_its_creation() {
    let (calls, log, before) = converted("go-renameio-existing");
    assert!(matches!(before.nodes.get("/tmp"), Some(Node::Dir { .. })));
    let renamed_in: Vec<&Op> = log
        .iter()
        .map(|t| &t.op)
        .filter(
            |op| matches!(op, Op::Rename { from, to } if from.starts_with("/tmp/") && to == RECORD),
        )
        .collect();
    assert_eq!(renamed_in.len(), 1, "{:?}", named(&log, &calls));
    let temp = match renamed_in[0] {
        Op::Rename { from, .. } => from.clone(),
        _ => unreachable!("filtered"),
    };
    assert!(
        log.iter()
            .any(|t| matches!(&t.op, Op::Create { path, .. } if *path == temp)),
        "the temp file's creation in /tmp is in the log"
    );
    let (held, _) = after_and_power_loss(&before, &log);
    let (mode, data) = held.expect("the record is there");
    assert_eq!(mode, 0o600 & !UMASK | 0o600 & 0o644);
    assert!(data.starts_with(b"{\"current_state\":\"WAKE\""), "{data:?}");
}

#[test]
fn the_go_runtimes_threads_are_one_process_by_the_clones_strace_recorded() {
    let calls = fixture("go-renameio-existing");
    let pids: std::collections::BTreeSet<u32> = calls.iter().map(|c| c.pid).collect();
    assert_eq!(pids.len(), 4, "{pids:?}");
    let groups = ThreadGroups::of(&Trace {
        calls,
        events: Vec::new(),
    });
    for pid in pids {
        assert_eq!(groups.group(pid), 12148, "{pid}");
    }
}
