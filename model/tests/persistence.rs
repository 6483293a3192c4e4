//! The persistence model's rules, one behaviour per test (model/README.md).

use lifecycle_model::persistence::{apply, Crash, CrashSpace, Disk, Node, Op};

const P512: Crash = Crash::PowerLoss { block_size: 512 };

fn dir_d() -> Disk {
    let mut disk = Disk::default();
    disk.nodes.insert("/d".into(), Node::Dir { mode: 0o700 });
    disk
}

fn with_file(mut disk: Disk, path: &str, inode: u64, data: &[u8]) -> Disk {
    disk.nodes.insert(
        path.into(),
        Node::File {
            inode,
            mode: 0o600,
            data: data.to_vec(),
        },
    );
    disk
}

fn create(path: &str, inode: u64) -> Op {
    Op::Create {
        path: path.into(),
        inode,
        mode: 0o600,
    }
}

fn write(inode: u64, data: &[u8]) -> Op {
    Op::Write {
        inode,
        offset: 0,
        data: data.to_vec(),
    }
}

fn fsync(inode: u64) -> Op {
    Op::FsyncFile { inode }
}

fn fsync_dir(path: &str) -> Op {
    Op::FsyncDir { path: path.into() }
}

fn rename(from: &str, to: &str) -> Op {
    Op::Rename {
        from: from.into(),
        to: to.into(),
    }
}

fn states(initial: &Disk, ops: &[Op], crash: Crash) -> Vec<Disk> {
    match CrashSpace::new(initial, ops, crash) {
        Ok(space) => space.states().collect(),
        Err(e) => panic!("{e}"),
    }
}

fn data_at(disk: &Disk, path: &str) -> Option<Vec<u8>> {
    match disk.nodes.get(path) {
        Some(Node::File { data, .. }) => Some(data.clone()),
        _ => None,
    }
}

// Regression: the first version gave a process crash the durable contents of
// every file; the broken-protocol check in tests/crash.rs exposed it.
#[test]
fn a_process_crash_keeps_everything_the_kernel_accepted() {
    let ops = [create("/d/t", 1), write(1, b"new")];
    let after = states(&dir_d(), &ops, Crash::Process);
    assert_eq!(after.len(), 1);
    assert_eq!(data_at(&after[0], "/d/t"), Some(b"new".to_vec()));
}

#[test]
fn a_process_crash_state_is_the_log_applied() {
    let ops = [create("/d/t", 1), write(1, b"x"), rename("/d/t", "/d/f")];
    let after = states(&dir_d(), &ops, Crash::Process);
    assert_eq!(Ok(after[0].clone()), apply(&dir_d(), &ops));
}

#[test]
fn file_lost_without_dir_sync() {
    let ops = [create("/d/f", 1), write(1, b"data"), fsync(1)];
    let after = states(&dir_d(), &ops, P512);
    assert!(after.iter().any(|d| data_at(d, "/d/f").is_none()));
    assert!(after
        .iter()
        .any(|d| data_at(d, "/d/f") == Some(b"data".to_vec())));
}

#[test]
fn file_kept_after_dir_sync_and_file_sync() {
    let ops = [
        create("/d/f", 1),
        write(1, b"data"),
        fsync(1),
        fsync_dir("/d"),
    ];
    let after = states(&dir_d(), &ops, P512);
    assert!(after
        .iter()
        .all(|d| data_at(d, "/d/f") == Some(b"data".to_vec())));
}

#[test]
fn unsynced_data_of_a_durable_name_may_be_empty() {
    let ops = [create("/d/f", 1), write(1, b"data"), fsync_dir("/d")];
    let after = states(&dir_d(), &ops, P512);
    assert!(after.iter().any(|d| data_at(d, "/d/f") == Some(Vec::new())));
    assert!(after.iter().all(|d| data_at(d, "/d/f").is_some()));
}

#[test]
fn unsynced_writes_tear_at_block_boundaries() {
    let old = vec![b'o'; 1024];
    let new = vec![b'n'; 1024];
    let initial = with_file(dir_d(), "/d/f", 1, &old);
    let after = states(&initial, &[write(1, &new)], P512);
    let mixed: Vec<u8> = [&new[..512], &old[512..]].concat();
    assert!(after
        .iter()
        .any(|d| data_at(d, "/d/f") == Some(mixed.clone())));
    // Never torn inside a block.
    assert!(after.iter().all(|d| {
        let data = data_at(d, "/d/f").unwrap_or_default();
        data.chunks(512)
            .all(|block| block.iter().all(|&b| b == block[0]))
    }));
}

#[test]
fn a_bigger_block_does_not_tear_inside_it() {
    let old = vec![b'o'; 1024];
    let new = vec![b'n'; 1024];
    let initial = with_file(dir_d(), "/d/f", 1, &old);
    let after = states(
        &initial,
        &[write(1, &new)],
        Crash::PowerLoss { block_size: 4096 },
    );
    let datas: Vec<Vec<u8>> = after.iter().filter_map(|d| data_at(d, "/d/f")).collect();
    assert!(datas.iter().all(|d| *d == old || *d == new));
}

#[test]
fn an_extending_write_may_leave_a_block_of_zeros() {
    let after = states(
        &with_file(dir_d(), "/d/f", 1, b""),
        &[write(1, &[b'n'; 100])],
        P512,
    );
    assert!(after
        .iter()
        .any(|d| data_at(d, "/d/f") == Some(vec![0; 100])));
}

#[test]
fn fsync_of_a_file_makes_its_data_durable() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old");
    let after = states(&initial, &[write(1, b"new"), fsync(1)], P512);
    assert!(after
        .iter()
        .all(|d| data_at(d, "/d/f") == Some(b"new".to_vec())));
}

#[test]
fn a_rename_without_dir_sync_may_be_lost() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old");
    let ops = [
        create("/d/t", 2),
        write(2, b"new"),
        fsync(2),
        rename("/d/t", "/d/f"),
    ];
    let after = states(&initial, &ops, P512);
    let contents: Vec<Option<Vec<u8>>> = after.iter().map(|d| data_at(d, "/d/f")).collect();
    assert!(contents.contains(&Some(b"old".to_vec())));
    assert!(contents.contains(&Some(b"new".to_vec())));
}

#[test]
fn a_rename_is_atomic_within_one_directory() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old");
    let ops = [
        create("/d/t", 2),
        write(2, b"new"),
        fsync(2),
        rename("/d/t", "/d/f"),
    ];
    for disk in states(&initial, &ops, P512) {
        assert!(
            disk.nodes.contains_key("/d/f"),
            "the target vanished: {disk:?}"
        );
    }
}

#[test]
fn directory_operations_are_lost_in_order() {
    let ops = [create("/d/a", 1), create("/d/b", 2)];
    for disk in states(&dir_d(), &ops, P512) {
        let (a, b) = (
            disk.nodes.contains_key("/d/a"),
            disk.nodes.contains_key("/d/b"),
        );
        assert!(a || !b, "b persisted without the earlier a: {disk:?}");
    }
    // A prefix: the first without the second.
    assert!(states(&dir_d(), &ops, P512)
        .iter()
        .any(|d| d.nodes.contains_key("/d/a") && !d.nodes.contains_key("/d/b")));
}

#[test]
fn directories_persist_independently() {
    let mut initial = dir_d();
    initial.nodes.insert("/e".into(), Node::Dir { mode: 0o700 });
    let ops = [create("/d/a", 1), create("/e/b", 2)];
    let after = states(&initial, &ops, P512);
    assert!(after
        .iter()
        .any(|d| !d.nodes.contains_key("/d/a") && d.nodes.contains_key("/e/b")));
}

#[test]
fn a_rename_across_directories_may_persist_one_half() {
    let mut initial = with_file(dir_d(), "/e/t", 1, b"x");
    initial.nodes.insert("/e".into(), Node::Dir { mode: 0o700 });
    let after = states(&initial, &[rename("/e/t", "/d/f")], P512);
    assert!(after
        .iter()
        .any(|d| d.nodes.contains_key("/e/t") && d.nodes.contains_key("/d/f")));
    assert!(after
        .iter()
        .any(|d| !d.nodes.contains_key("/e/t") && !d.nodes.contains_key("/d/f")));
}

#[test]
fn an_unsynced_chmod_may_be_lost() {
    let initial = with_file(dir_d(), "/d/f", 1, b"x");
    let ops = [Op::Chmod {
        path: "/d/f".into(),
        mode: 0o644,
    }];
    let modes: Vec<u32> = states(&initial, &ops, P512)
        .iter()
        .filter_map(|d| match d.nodes.get("/d/f") {
            Some(Node::File { mode, .. }) => Some(*mode),
            _ => None,
        })
        .collect();
    assert!(modes.contains(&0o600) && modes.contains(&0o644));
}

#[test]
fn a_file_in_a_lost_directory_is_lost_too() {
    let ops = [
        Op::Mkdir {
            path: "/n".into(),
            mode: 0o700,
        },
        create("/n/f", 1),
        fsync(1),
        fsync_dir("/n"),
    ];
    let after = states(&Disk::default(), &ops, P512);
    assert!(after.iter().any(|d| d.nodes.is_empty()));
    assert!(after
        .iter()
        .all(|d| !d.nodes.contains_key("/n/f") || d.nodes.contains_key("/n")));
}

#[test]
fn an_unlink_without_dir_sync_may_be_undone() {
    let initial = with_file(dir_d(), "/d/f", 1, b"x");
    let after = states(
        &initial,
        &[Op::Unlink {
            path: "/d/f".into(),
        }],
        P512,
    );
    assert!(after.iter().any(|d| d.nodes.contains_key("/d/f")));
    assert!(after.iter().any(|d| !d.nodes.contains_key("/d/f")));
}

#[test]
fn a_log_naming_a_missing_file_is_refused() {
    let result = CrashSpace::new(&dir_d(), &[rename("/d/nope", "/d/f")], P512);
    assert!(result.is_err());
}

#[test]
fn a_crash_before_any_operation_leaves_the_initial_disk() {
    let initial = with_file(dir_d(), "/d/f", 1, b"x");
    for crash in [Crash::Process, P512] {
        assert_eq!(states(&initial, &[], crash), vec![initial.clone()]);
    }
}

#[test]
fn state_indices_wrap_around_the_space() {
    let ops = [create("/d/a", 1), create("/d/b", 2)];
    let space = match CrashSpace::new(&dir_d(), &ops, P512) {
        Ok(space) => space,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(space.len(), 3);
    assert_eq!(space.state(space.len() + 1), space.state(1));
}

fn truncate(inode: u64, size: u64) -> Op {
    Op::Truncate { inode, size }
}

fn mode_at(disk: &Disk, path: &str) -> Option<u32> {
    match disk.nodes.get(path) {
        Some(Node::File { mode, .. }) => Some(*mode),
        _ => None,
    }
}

#[test]
fn a_truncation_cuts_or_grows_the_file_the_process_sees() {
    let initial = with_file(dir_d(), "/d/f", 1, b"abcdef");
    let cut = apply(&initial, &[truncate(1, 2)]);
    assert_eq!(cut.map(|d| data_at(&d, "/d/f")), Ok(Some(b"ab".to_vec())));
    let grown = apply(&initial, &[truncate(1, 8)]);
    assert_eq!(
        grown.map(|d| data_at(&d, "/d/f")),
        Ok(Some(b"abcdef\0\0".to_vec()))
    );
}

#[test]
fn a_truncation_is_lost_by_a_power_loss_before_the_fsync() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old");
    let after = states(&initial, &[truncate(1, 0)], P512);
    let datas: Vec<Option<Vec<u8>>> = after.iter().map(|d| data_at(d, "/d/f")).collect();
    assert!(datas.contains(&Some(b"old".to_vec())));
    assert!(datas.contains(&Some(Vec::new())));
}

#[test]
fn an_unsynced_truncation_may_leave_the_file_cut_at_a_block_boundary() {
    let initial = with_file(dir_d(), "/d/f", 1, &[b'o'; 1024]);
    let after = states(&initial, &[truncate(1, 0)], P512);
    assert!(after
        .iter()
        .any(|d| data_at(d, "/d/f") == Some(vec![b'o'; 512])));
}

#[test]
fn a_truncation_and_a_rewrite_of_the_same_bytes_may_leave_an_empty_file() {
    let initial = with_file(dir_d(), "/d/f", 1, b"same");
    let after = states(&initial, &[truncate(1, 0), write(1, b"same")], P512);
    assert!(after.iter().any(|d| data_at(d, "/d/f") == Some(Vec::new())));
}

#[test]
fn an_fsync_makes_a_truncation_durable() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old");
    let after = states(&initial, &[truncate(1, 1), fsync(1)], P512);
    assert!(after
        .iter()
        .all(|d| data_at(d, "/d/f") == Some(b"o".to_vec())));
}

#[test]
fn an_fdatasync_makes_data_and_size_durable() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old data");
    let ops = [
        truncate(1, 0),
        write(1, b"new"),
        Op::FdatasyncFile { inode: 1 },
    ];
    let after = states(&initial, &ops, P512);
    assert!(after
        .iter()
        .all(|d| data_at(d, "/d/f") == Some(b"new".to_vec())));
}

#[test]
fn an_fdatasync_leaves_a_chmod_losable() {
    let initial = with_file(dir_d(), "/d/f", 1, b"x");
    let ops = [
        Op::Chmod {
            path: "/d/f".into(),
            mode: 0o644,
        },
        Op::FdatasyncFile { inode: 1 },
    ];
    let modes: Vec<Option<u32>> = states(&initial, &ops, P512)
        .iter()
        .map(|d| mode_at(d, "/d/f"))
        .collect();
    assert!(modes.contains(&Some(0o600)) && modes.contains(&Some(0o644)));
}

#[test]
fn a_process_crash_keeps_an_unsynced_truncation() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old");
    let after = states(&initial, &[truncate(1, 0)], Crash::Process);
    assert_eq!(after.len(), 1);
    assert_eq!(data_at(&after[0], "/d/f"), Some(Vec::new()));
}

#[test]
fn a_truncation_of_a_missing_inode_is_refused() {
    assert!(CrashSpace::new(&dir_d(), &[truncate(9, 0)], P512).is_err());
    assert!(CrashSpace::new(&dir_d(), &[Op::FdatasyncFile { inode: 9 }], P512).is_err());
}

// Rules for files made without a name (O_TMPFILE) and linked later.

fn unnamed(inode: u64) -> Op {
    Op::CreateUnnamed { inode, mode: 0o600 }
}

fn link(inode: u64, path: &str) -> Op {
    Op::Link {
        inode,
        path: path.into(),
    }
}

#[test]
fn a_file_without_a_name_is_gone_after_any_crash() {
    let ops = [unnamed(1), write(1, b"data"), fsync(1)];
    for crash in [Crash::Process, P512] {
        for disk in states(&dir_d(), &ops, crash) {
            assert_eq!(disk, dir_d(), "{crash:?}");
        }
    }
}

#[test]
fn a_linked_file_is_a_directory_entry_lost_until_its_directory_is_synced() {
    let ops = [unnamed(1), write(1, b"data"), fsync(1), link(1, "/d/f")];
    let after = states(&dir_d(), &ops, P512);
    assert!(after.iter().any(|d| data_at(d, "/d/f").is_none()));
    assert!(after
        .iter()
        .any(|d| data_at(d, "/d/f") == Some(b"data".to_vec())));
    let mut synced = ops.to_vec();
    synced.push(fsync_dir("/d"));
    assert!(states(&dir_d(), &synced, P512)
        .iter()
        .all(|d| data_at(d, "/d/f") == Some(b"data".to_vec())));
}

#[test]
fn a_linked_file_keeps_the_data_it_had_once_synced_and_may_lose_the_rest() {
    let ops = [
        unnamed(1),
        write(1, b"data"),
        link(1, "/d/f"),
        fsync_dir("/d"),
    ];
    let after = states(&dir_d(), &ops, P512);
    assert!(after.iter().any(|d| data_at(d, "/d/f") == Some(Vec::new())));
    assert!(after.iter().all(|d| data_at(d, "/d/f").is_some()));
}

#[test]
fn a_link_over_an_existing_name_is_refused_as_no_kernel_would_accept_it() {
    let initial = with_file(dir_d(), "/d/f", 1, b"old");
    let ops = [unnamed(2), link(2, "/d/f")];
    assert!(CrashSpace::new(&initial, &ops, P512).is_err());
}

#[test]
fn the_mode_of_a_file_set_by_its_descriptor_is_lost_until_the_file_is_synced() {
    let ops = [
        unnamed(1),
        Op::ChmodFile {
            inode: 1,
            mode: 0o644,
        },
        link(1, "/d/f"),
        fsync_dir("/d"),
    ];
    let modes: Vec<u32> = states(&dir_d(), &ops, P512)
        .iter()
        .filter_map(|d| match d.nodes.get("/d/f") {
            Some(Node::File { mode, .. }) => Some(*mode),
            _ => None,
        })
        .collect();
    assert!(
        modes.contains(&0o600) && modes.contains(&0o644),
        "{modes:?}"
    );
    let after = apply(&dir_d(), &ops).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        after.nodes.get("/d/f"),
        Some(Node::File { mode: 0o644, .. })
    ));
}

#[test]
fn a_second_name_for_a_file_shows_its_data_under_both() {
    let initial = with_file(dir_d(), "/d/f", 1, b"data");
    let ops = [link(1, "/d/g"), fsync_dir("/d")];
    let after = apply(&initial, &ops).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(data_at(&after, "/d/g"), Some(b"data".to_vec()));
    assert_eq!(data_at(&after, "/d/f"), Some(b"data".to_vec()));
}

#[test]
fn logs_no_kernel_would_accept_are_refused_naming_the_operation() {
    let with_f = with_file(dir_d(), "/d/f", 1, b"x");
    let refused: [(&Disk, Vec<Op>); 5] = [
        (&with_f, vec![create("/n/g", 2)]),
        (&with_f, vec![fsync(1), rename("/d/f", "/n/f")]),
        (
            &with_f,
            vec![Op::Rmdir {
                path: "/d/f".into(),
            }],
        ),
        (&with_f, vec![fsync(1), fsync_dir("/n")]),
        (&with_f, vec![fsync(1), fsync(1), fsync(7)]),
    ];
    for (initial, ops) in refused {
        let error = match CrashSpace::new(initial, &ops, P512) {
            Ok(_) => panic!("accepted: {ops:?}"),
            Err(error) => error,
        };
        let at = ops.len() - 1;
        assert_eq!(error.at, at, "{ops:?}");
        let message = error.to_string();
        let prefix = format!("operation {at} of the log: ");
        assert!(
            message.starts_with(&prefix) && message.len() > prefix.len(),
            "{message}"
        );
    }
}

#[test]
fn an_fsync_of_the_root_directory_is_accepted_and_makes_its_entries_durable() {
    let ops = [
        Op::Mkdir {
            path: "/e".into(),
            mode: 0o700,
        },
        fsync_dir("/"),
    ];
    let after = states(&dir_d(), &ops, P512);
    assert!(!after.is_empty());
    assert!(after.iter().all(|d| d.nodes.contains_key("/e")));
}

// README: a chmod of a directory is taken as durable at once.
#[test]
fn a_new_directory_chmodded_persists_with_its_new_mode_and_other_new_entries_keep_theirs() {
    let ops = [
        Op::Mkdir {
            path: "/e".into(),
            mode: 0o700,
        },
        create("/d/f", 1),
        Op::Chmod {
            path: "/e".into(),
            mode: 0o755,
        },
    ];
    let after = states(&dir_d(), &ops, P512);
    assert!(after.iter().any(|d| d.nodes.contains_key("/e")));
    assert!(after.iter().any(|d| d.nodes.contains_key("/d/f")));
    for disk in after {
        if let Some(node) = disk.nodes.get("/e") {
            assert_eq!(node, &Node::Dir { mode: 0o755 });
        }
        if let Some(node) = disk.nodes.get("/d/f") {
            assert!(matches!(node, Node::File { .. }), "{node:?}");
        }
    }
}

fn sizes_at(initial: &Disk, ops: &[Op], path: &str) -> std::collections::BTreeSet<usize> {
    states(initial, ops, P512)
        .iter()
        .filter_map(|d| data_at(d, path).map(|data| data.len()))
        .collect()
}

// README "What it does not model": past 8 blocks, sizes and patterns are
// sampled.
#[test]
fn a_file_grown_by_eight_blocks_may_stop_at_each_boundary_and_one_grown_by_more_is_sampled() {
    let grown_by = |blocks: usize| {
        let initial = with_file(dir_d(), "/d/f", 1, &[b'o'; 512]);
        sizes_at(
            &initial,
            &[write(1, &vec![b'n'; 512 * (1 + blocks)])],
            "/d/f",
        )
    };
    assert_eq!(grown_by(8), (1..=9).map(|b| b * 512).collect());
    assert_eq!(grown_by(9), [512, 5120].into());
}

#[test]
fn a_rewrite_of_more_than_eight_blocks_may_leave_any_prefix_or_suffix_of_them_new() {
    let blocks = 10;
    let initial = with_file(dir_d(), "/d/f", 1, &vec![b'o'; 512 * blocks]);
    let datas: std::collections::BTreeSet<Vec<u8>> =
        states(&initial, &[write(1, &vec![b'n'; 512 * blocks])], P512)
            .iter()
            .filter_map(|d| data_at(d, "/d/f"))
            .collect();
    let made = |new_block: &dyn Fn(usize) -> bool| -> Vec<u8> {
        (0..blocks)
            .flat_map(|b| [if new_block(b) { b'n' } else { b'o' }; 512])
            .collect()
    };
    let mut expected = std::collections::BTreeSet::new();
    for k in 0..=blocks {
        expected.insert(made(&|b| b < k));
        expected.insert(made(&|b| b >= k));
    }
    assert_eq!(datas.len(), 2 * blocks);
    assert_eq!(datas, expected);
}
