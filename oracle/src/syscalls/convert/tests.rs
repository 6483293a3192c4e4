//! The converter's tests: traces written by hand, each a save into `/d`
//! (or a directory given), converted and compared with the op log or the
//! refusal it must give.
//!
//! Promises: nothing beyond the tests. Does not promise: to cover the
//! recorded saves of real implementations (`tests/strace_fixtures.rs`).

use super::*;
use crate::syscalls::strace::parse;
use crate::syscalls::table::{Kind, TABLE};

/// `/d` holds `old` (inode 1, "0123456789"); D is `/d`.
fn before() -> Disk {
    let mut disk = Disk::default();
    disk.nodes.insert("/d".into(), Node::Dir { mode: 0o700 });
    disk.nodes.insert(
        "/d/old".into(),
        Node::File {
            inode: 1,
            mode: 0o600,
            data: b"0123456789".to_vec(),
        },
    );
    disk
}

/// What `super::convert` makes of `trace`, a save into `dir`.
fn converted_in(dir: &str, trace: &str) -> Result<Converted, Refusal> {
    let calls = match parse(trace) {
        Ok(trace) => trace.calls,
        Err(e) => panic!("{e}"),
    };
    let disk = before();
    let context = SaveContext {
        dir,
        before: &disk,
        umask: 0o022,
        cwd: "/w",
    };
    super::convert(&calls, &context)
}

fn convert(trace: &str) -> Result<Vec<Op>, Refusal> {
    converted_in("/d", trace).map(|c| c.ops.into_iter().map(|t| t.op).collect())
}

fn ops(trace: &str) -> Vec<Op> {
    convert(trace).unwrap_or_else(|e| panic!("{e}"))
}

fn refusal(trace: &str) -> Refusal {
    match convert(trace) {
        Err(refusal) => refusal,
        Ok(ops) => panic!("converted to {ops:?}"),
    }
}

fn create(path: &str, inode: InodeId, mode: u32) -> Op {
    Op::Create {
        path: path.into(),
        inode,
        mode,
    }
}

fn write(inode: InodeId, offset: u64, data: &[u8]) -> Op {
    Op::Write {
        inode,
        offset,
        data: data.to_vec(),
    }
}

#[test]
fn calls_outside_the_directory_make_no_op() {
    let trace = "\
1 openat(-100</w>, \"/e/x\", 0xc1, 0600) = 3</e/x>
1 write(3</e/x>, \"abc\", 3) = 3
1 fsync(3</e/x>) = 0
1 write(1<pipe:[7]>, \"reply\", 5) = 5
1 mkdir(\"/dd\", 0700) = 0
1 rename(\"/e/x\", \"/e/y\") = 0
1 getrandom(\"/d/x\", 4, 0) = 4
";
    assert_eq!(ops(trace), vec![]);
}

#[test]
fn failed_calls_make_no_op() {
    let trace = "\
1 openat(-100</w>, \"/d/a/t\", 0xc1, 0600) = -1 ENOENT (No such file or directory)
1 mkdir(\"/d\", 0777) = -1 EEXIST (File exists)
1 renameat2(-100</w>, \"/d/old\", -100</w>, \"/d/x\", 0x2) = -1 EINVAL (Invalid argument)
1 link(\"/d/old\", \"/d/x\") = -1 EPERM (Operation not permitted)
";
    assert_eq!(ops(trace), vec![]);
}

#[test]
fn a_save_in_the_directory_becomes_its_op_log() {
    let trace = "\
1 openat(-100</w>, \"/d/t\", 0x800c1, 0600) = 3</d/t>
1 write(3</d/t>, \"new\", 3) = 3
1 fsync(3</d/t>) = 0
1 close(3</d/t>) = 0
1 rename(\"/d/t\", \"/d/f\") = 0
1 openat(-100</w>, \"/d\", 0x90000) = 3</d>
1 fsync(3</d>) = 0
";
    assert_eq!(
        ops(trace),
        vec![
            create("/d/t", 2, 0o600),
            write(2, 0, b"new"),
            Op::FsyncFile { inode: 2 },
            Op::Rename {
                from: "/d/t".into(),
                to: "/d/f".into()
            },
            Op::FsyncDir { path: "/d".into() },
        ]
    );
}

#[test]
fn the_calls_that_touch_the_directory_are_counted_failed_or_not() {
    let trace = "\
1 openat(-100</w>, \"/lib/libc.so\", 0x80000) = 3</lib/libc.so>
1 close(3</lib/libc.so>) = 0
1 newfstatat(-100</w>, \"/d/f\", 0x7ffd, 0) = -1 ENOENT (No such file or directory)
1 openat(-100</w>, \"/d/t\", 0x800c1, 0600) = 3</d/t>
1 write(1<pipe:[7]>, \"{}\", 2) = 2
1 write(3</d/t>, \"new\", 3) = 3
1 close(3</d/t>) = 0
1 openat(-100</w>, \"/\", 0x90000) = 4</>
";
    let converted = converted_in("/d", trace).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(converted.touching, vec![2, 3, 5, 6]);
    assert_eq!(converted.ops.len(), 2);
    // Above D: an interpreter resolving its own path, not the save.
    let above = "1 readlink(\"/d\", 0x7ffd, 4096) = -1 EINVAL (Invalid argument)\n1 newfstatat(-100</w>, \"/d/e/f\", 0x7ffd, 0) = -1 ENOENT (No such file or directory)\n";
    let converted = converted_in("/d/e", above).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(converted.touching, vec![1]);
}

#[test]
fn each_op_names_the_call_it_came_from() {
    let calls = match parse(
        "1 getpid() = 1\n1 mkdir(\"/d/n\", 0700) = 0\n1 getpid() = 1\n1 rmdir(\"/d/n\") = 0\n",
    ) {
        Ok(trace) => trace.calls,
        Err(e) => panic!("{e}"),
    };
    let disk = before();
    let context = SaveContext {
        dir: "/d",
        before: &disk,
        umask: 0,
        cwd: "/",
    };
    let log = op_log(&calls, &context).unwrap_or_else(|e| panic!("{e}"));
    let indices: Vec<usize> = log.iter().map(|t| t.call).collect();
    assert_eq!(indices, [1, 3]);
}

#[test]
fn the_creation_mode_is_the_requested_one_less_the_umask() {
    // The umask the save starts with (022), and one it sets.
    for (umask, file, dir) in [("", 0o644, 0o755), ("1 umask(077) = 022\n", 0o600, 0o700)] {
        let trace = format!(
            "{umask}1 openat(-100</w>, \"/d/t\", 0xc1, 0666) = 3</d/t>\n\
             1 mkdir(\"/d/n\", 0777) = 0\n"
        );
        assert_eq!(
            ops(&trace),
            vec![
                create("/d/t", 2, file),
                Op::Mkdir {
                    path: "/d/n".into(),
                    mode: dir
                }
            ],
            "{umask}"
        );
    }
}

#[test]
fn a_stat_after_a_creation_tells_the_mode_the_kernel_gave() {
    let trace = "\
1 umask(077) = 022
1 openat(-100</w>, \"/d/t\", 0xc1, 0666) = 3</d/t>
1 newfstatat(3</d/t>, \"\", {st_mode=0100640, st_size=0, ...}, 0x1000) = 0
1 mkdir(\"/d/n\", 0777) = 0
1 statx(-100</w>, \"/d/n\", |0x100, 0xfff, {stx_mask=0x1fff, stx_mode=040750, ...}) = 0
";
    assert_eq!(
        ops(trace),
        vec![
            create("/d/t", 2, 0o640),
            Op::Mkdir {
                path: "/d/n".into(),
                mode: 0o750
            }
        ]
    );
}

#[test]
fn fstat_stat_and_lstat_tell_a_creation_mode_too() {
    for stat in [
        "fstat(3</d/t>, {st_mode=0100600, st_size=0, ...})",
        "stat(\"/d/t\", {st_mode=0100600, st_size=0, ...})",
        "lstat(\"/d/t\", {st_mode=0100600, st_size=0, ...})",
    ] {
        let trace = format!("1 openat(-100</w>, \"/d/t\", 0xc1, 0666) = 3</d/t>\n1 {stat} = 0\n");
        assert_eq!(ops(&trace), vec![create("/d/t", 2, 0o600)], "{stat}");
    }
}

#[test]
fn a_stat_of_a_file_without_a_name_tells_its_mode() {
    // The umask (022) would make 0644; the kernel made 0600 (a default
    // ACL, say).
    let trace = "\
1 openat(-100</w>, \"/d\", 0x410002, 0666) = 3</d/#12>(deleted)
1 newfstatat(3</d/#12>(deleted), \"\", {st_mode=0100600, st_size=0, ...}, 0x1000) = 0
";
    assert_eq!(ops(trace), vec![unnamed(2, 0o600)]);
}

#[test]
fn each_file_made_has_an_inode_of_its_own() {
    let trace = "\
1 openat(-100</w>, \"/d\", 0x410002, 0600) = 3</d/#12>(deleted)
1 openat(-100</w>, \"/d\", 0x410002, 0600) = 4</d/#13>(deleted)
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 5</d/t>
";
    assert_eq!(
        ops(trace),
        vec![
            unnamed(2, 0o600),
            unnamed(3, 0o600),
            create("/d/t", 4, 0o600)
        ]
    );
}

#[test]
fn a_descriptor_number_opened_again_names_the_new_file() {
    // The close of 3 is not in the trace (another thread's, say, cut
    // off): the open that returns 3 again says what 3 is now.
    let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 openat(-100</w>, \"/e/x\", 0x1) = 3</e/x>
1 write(3</e/x>, \"abc\", 3) = 3
";
    assert_eq!(ops(trace), vec![create("/d/t", 2, 0o600)]);
}

#[test]
fn a_stat_after_a_chmod_does_not_change_the_creation_mode() {
    let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 fchmod(3</d/t>, 0644) = 0
1 fstat(3</d/t>, {st_mode=0100644, st_size=0, ...}) = 0
";
    assert_eq!(
        ops(trace),
        vec![
            create("/d/t", 2, 0o600),
            Op::Chmod {
                path: "/d/t".into(),
                mode: 0o644
            }
        ]
    );
}

#[test]
fn o_trunc_on_an_existing_file_is_a_truncation() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x241, 0666) = 3</d/old>
1 write(3</d/old>, \"ab\", 2) = 2
1 creat(\"/d/old\", 0600) = 4</d/old>
";
    assert_eq!(
        ops(trace),
        vec![
            Op::Truncate { inode: 1, size: 0 },
            write(1, 0, b"ab"),
            Op::Truncate { inode: 1, size: 0 },
        ]
    );
}

#[test]
fn truncate_and_ftruncate_are_truncations() {
    let trace = "\
1 truncate(\"/d/old\", 4) = 0
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 ftruncate(3</d/old>, 20) = 0
";
    assert_eq!(
        ops(trace),
        vec![
            Op::Truncate { inode: 1, size: 4 },
            Op::Truncate { inode: 1, size: 20 },
        ]
    );
}

#[test]
fn writes_land_at_the_offset_the_kernel_used() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 read(3</d/old>, \"0123\", 4) = 4
1 write(3</d/old>, \"ab\", 2) = 2
1 lseek(3</d/old>, 1, 0) = 1
1 write(3</d/old>, \"c\", 1) = 1
1 pwrite64(3</d/old>, \"zz\", 2, 8) = 2
1 write(3</d/old>, \"d\", 1) = 1
1 dup(3</d/old>) = 4</d/old>
1 write(4</d/old>, \"e\", 1) = 1
1 write(3</d/old>, \"f\", 1) = 1
";
    assert_eq!(
        ops(trace),
        vec![
            write(1, 4, b"ab"),
            write(1, 1, b"c"),
            write(1, 8, b"zz"),
            write(1, 2, b"d"),
            write(1, 3, b"e"),
            write(1, 4, b"f"),
        ]
    );
}

#[test]
fn an_o_append_write_lands_at_the_end() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x401) = 3</d/old>
1 write(3</d/old>, \"ab\", 2) = 2
1 pwrite64(3</d/old>, \"c\", 1, 0) = 1
1 fcntl(3</d/old>, 0x4, 0) = 0
1 lseek(3</d/old>, 0, 0) = 0
1 write(3</d/old>, \"d\", 1) = 1
";
    assert_eq!(
        ops(trace),
        vec![write(1, 10, b"ab"), write(1, 12, b"c"), write(1, 0, b"d")]
    );
}

#[test]
fn a_write_of_no_bytes_is_no_op() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 write(3</d/old>, \"\", 0) = 0
1 pwrite64(3</d/old>, \"\", 0, 50) = 0
1 write(3</d/old>, \"ab\", 2) = 2
";
    assert_eq!(ops(trace), vec![write(1, 0, b"ab")]);
}

#[test]
fn vectored_writes_join_their_buffers() {
    let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 writev(3</d/t>, [{iov_base=\"ab\", iov_len=2}, {iov_base=\"cd\", iov_len=2}], 2) = 3
1 pwritev(3</d/t>, [{iov_base=\"xy\", iov_len=2}], 1, 10) = 2
1 pwritev2(3</d/t>, [{iov_base=\"p\", iov_len=1}], 1, 20, 0) = 1
1 pwritev2(3</d/t>, [{iov_base=\"q\", iov_len=1}], 1, -1, 0) = 1
1 pwritev2(3</d/t>, [{iov_base=\"r\", iov_len=1}], 1, 0, 0x10) = 1
1 write(3</d/t>, \"s\", 1) = 1
";
    // pwritev2 writes at its offset, or at the file offset (and moves it)
    // when that is -1, or at the end with RWF_APPEND.
    assert_eq!(
        ops(trace),
        vec![
            create("/d/t", 2, 0o600),
            write(2, 0, b"abc"),
            write(2, 10, b"xy"),
            write(2, 20, b"p"),
            write(2, 3, b"q"),
            write(2, 21, b"r"),
            write(2, 4, b"s"),
        ]
    );
}

#[test]
fn a_write_strace_printed_only_in_part_is_refused() {
    let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 write(3</d/t>, \"ab\"..., 100) = 100
";
    let refusal = refusal(trace);
    assert_eq!(refusal.syscall, "write");
    assert_eq!(refusal.path, "/d/t");
    assert!(refusal.reason.contains("2 of the 100 bytes"), "{refusal}");
}

#[test]
fn fsync_and_fdatasync_of_files_and_directories() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 fdatasync(3</d/old>) = 0
1 fsync(3</d/old>) = 0
1 openat(-100</w>, \"/d\", 0x10000) = 4</d>
1 fdatasync(4</d>) = 0
";
    assert_eq!(
        ops(trace),
        vec![
            Op::FdatasyncFile { inode: 1 },
            Op::FsyncFile { inode: 1 },
            Op::FsyncDir { path: "/d".into() },
        ]
    );
}

#[test]
fn directories_above_d_count_when_the_save_creates_or_syncs_them() {
    let mut disk = Disk::default();
    disk.nodes.insert("/p".into(), Node::Dir { mode: 0o755 });
    let calls = match parse(
        "\
1 mkdir(\"/p/q\", 0700) = 0
1 mkdir(\"/p/q/d\", 0700) = 0
1 openat(-100</w>, \"/p\", 0x10000) = 3</p>
1 fsync(3</p>) = 0
1 mkdir(\"/p/other\", 0700) = 0
",
    ) {
        Ok(trace) => trace.calls,
        Err(e) => panic!("{e}"),
    };
    let context = SaveContext {
        dir: "/p/q/d",
        before: &disk,
        umask: 0,
        cwd: "/",
    };
    let log: Vec<Op> = match op_log(&calls, &context) {
        Ok(log) => log.into_iter().map(|t| t.op).collect(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        log,
        vec![
            Op::Mkdir {
                path: "/p/q".into(),
                mode: 0o700
            },
            Op::Mkdir {
                path: "/p/q/d".into(),
                mode: 0o700
            },
            Op::FsyncDir { path: "/p".into() },
        ]
    );
}

#[test]
fn unlink_rmdir_and_unlinkat_remove_entries() {
    let trace = "\
1 mkdir(\"/d/n\", 0700) = 0
1 unlinkat(-100</w>, \"/d/n\", 0x200) = 0
1 unlinkat(-100</w>, \"/d/old\", 0) = 0
1 mkdir(\"/d/m\", 0700) = 0
1 rmdir(\"/d/m\") = 0
";
    assert_eq!(
        ops(trace),
        vec![
            Op::Mkdir {
                path: "/d/n".into(),
                mode: 0o700
            },
            Op::Rmdir {
                path: "/d/n".into()
            },
            Op::Unlink {
                path: "/d/old".into()
            },
            Op::Mkdir {
                path: "/d/m".into(),
                mode: 0o700
            },
            Op::Rmdir {
                path: "/d/m".into()
            },
        ]
    );
}

#[test]
fn relative_paths_resolve_against_their_directory_descriptor_or_the_cwd() {
    let trace = "\
1 openat(-100</w>, \"/d\", 0x10000) = 3</d>
1 openat(3</d>, \"t\", 0xc1, 0600) = 4</d/t>
1 renameat(3</d>, \"t\", 3</d>, \"./f\") = 0
1 chdir(\"/d\") = 0
1 unlink(\"../d/f\") = 0
";
    assert_eq!(
        ops(trace),
        vec![
            create("/d/t", 2, 0o600),
            Op::Rename {
                from: "/d/t".into(),
                to: "/d/f".into()
            },
            Op::Unlink {
                path: "/d/f".into()
            },
        ]
    );
}

#[test]
fn an_fchmod_after_a_rename_sets_the_mode_of_the_new_name() {
    let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 rename(\"/d/t\", \"/d/f\") = 0
1 fchmod(3</d/f>, 0640) = 0
";
    assert_eq!(
        ops(trace)[2],
        Op::Chmod {
            path: "/d/f".into(),
            mode: 0o640
        }
    );
}

#[test]
fn a_call_sees_descriptors_as_they_were_when_it_was_entered() {
    // Thread 2 closes fd 3 while thread 1's fsync of it runs, then
    // thread 1 opens a file that gets fd 3 back while thread 2's close
    // of the old fd 4 runs.
    let trace = "\
1 openat(-100</w>, \"/d/a\", 0xc1, 0600) = 3</d/a>
1 openat(-100</w>, \"/d/b\", 0xc1, 0600) = 4</d/b>
1 fsync(3</d/a> <unfinished ...>
2 close(3</d/a>) = 0
1 <... fsync resumed>) = 0
1 openat(-100</w>, \"/d/c\", 0xc1, 0600 <unfinished ...>
2 close(4</d/b>) = 0
1 <... openat resumed>) = 4</d/c>
1 fsync(4</d/c>) = 0
";
    // Both threads share one table, as threads do.
    let mut shared = String::from("1 clone3({flags=0x3d0f00, exit_signal=0}, 88) = 2\n");
    shared.push_str(trace);
    assert_eq!(
        ops(&shared),
        vec![
            create("/d/a", 2, 0o600),
            create("/d/b", 3, 0o600),
            Op::FsyncFile { inode: 2 },
            create("/d/c", 4, 0o600),
            Op::FsyncFile { inode: 4 },
        ]
    );
}

#[test]
fn a_forked_child_has_its_own_descriptor_table() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 clone(child_stack=NULL, flags=0x1200000|17, child_tidptr=0x7f) = 2
2 close(3</d/old>) = 0
1 write(3</d/old>, \"x\", 1) = 1
2 write(3<pipe:[9]>, \"y\", 1) = 1
";
    assert_eq!(ops(trace), vec![write(1, 0, b"x")]);
}

#[test]
fn an_exclusive_creation_of_a_file_the_disk_holds_is_refused_and_a_plain_open_is_not() {
    let refused = refusal("1 openat(-100</w>, \"/d/old\", 0xc1, 0600) = 3</d/old>\n");
    assert_eq!(
        (refused.syscall.as_str(), refused.path.as_str()),
        ("openat", "/d/old")
    );
    assert!(refused.reason.contains("created exclusively"), "{refused}");
    // Read only (no flag at all), and O_CREAT alone over the old file.
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0) = 3</d/old>
1 fsync(3</d/old>) = 0
1 openat(-100</w>, \"/d/old\", 0x41, 0600) = 4</d/old>
1 write(4</d/old>, \"x\", 1) = 1
";
    assert_eq!(
        ops(trace),
        vec![Op::FsyncFile { inode: 1 }, write(1, 0, b"x")]
    );
}

#[test]
fn a_number_another_thread_opens_while_a_close_runs_is_the_new_file() {
    // Thread 2 closes 3 (an old file); thread 1's open gets 3 once the
    // kernel freed it, but strace prints the close's return after the
    // open's: the write through 3 is the new file's.
    let trace = "\
1 clone3({flags=0x3d0f00, exit_signal=0}, 88) = 2
2 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
2 close(3</d/old> <unfinished ...>
1 openat(-100</w>, \"/d/new\", 0xc1, 0600) = 3</d/new>
2 <... close resumed>) = 0
1 write(3</d/new>, \"x\", 1) = 1
";
    assert_eq!(
        ops(trace),
        vec![create("/d/new", 2, 0o600), write(2, 0, b"x")]
    );
    // A close that entered after the open returned closes the new file.
    let closed_after = trace.replace(
        "2 close(3</d/old> <unfinished ...>\n1 openat(-100</w>, \"/d/new\", 0xc1, 0600) = 3</d/new>\n2 <... close resumed>) = 0\n",
        "2 close(3</d/old>) = 0\n1 openat(-100</w>, \"/d/new\", 0xc1, 0600) = 3</d/new>\n2 close(3</d/new>) = 0\n",
    );
    assert_ne!(closed_after, trace);
    assert_eq!(refusal(&closed_after).syscall, "write");
    // The same when the closed number was one the trace never showed
    // opened (inherited).
    let inherited = trace.replace("2 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>\n", "");
    assert_ne!(inherited, trace);
    assert_eq!(
        ops(&inherited),
        vec![create("/d/new", 2, 0o600), write(2, 0, b"x")]
    );
}

#[test]
fn close_range_closes_its_first_and_last_descriptor_in_every_thread_of_the_table() {
    // A descriptor the trace closed and strace still shows on D is refused
    // (the converter lost track of it): what shows which are closed.
    let opened = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 openat(-100</w>, \"/d/old\", 0x2) = 4</d/old>
1 openat(-100</w>, \"/d/old\", 0x2) = 5</d/old>
";
    for (closed, kept) in [(3, 5), (5, 3)] {
        let trace = format!(
            "{opened}1 close_range({closed}, {closed}, 0) = 0\n\
             1 write({kept}</d/old>, \"x\", 1) = 1\n\
             1 write({closed}</d/old>, \"y\", 1) = 1\n"
        );
        let refused = refusal(&trace);
        assert_eq!(
            (refused.syscall.as_str(), refused.line),
            ("write", 6),
            "{refused}"
        );
    }
    // A thread that shares the table closes for both; with
    // CLOSE_RANGE_UNSHARE it closes in a copy of its own, and with
    // CLOSE_RANGE_CLOEXEC it closes nothing yet.
    let the_other_thread_closes = |flags: &str| {
        format!(
            "1 clone3({{flags=0x3d0f00, exit_signal=0}}, 88) = 2\n{opened}\
             2 close_range(3, 4294967295, {flags}) = 0\n\
             1 write(4</d/old>, \"x\", 1) = 1\n"
        )
    };
    assert_eq!(refusal(&the_other_thread_closes("0")).line, 6);
    // A range of one descriptor, 0, closes no other.
    let only_0 = format!("{opened}1 close_range(0, 0, 0) = 0\n1 write(3</d/old>, \"x\", 1) = 1\n");
    assert_eq!(ops(&only_0), vec![write(1, 0, b"x")]);
    // ~0U printed as a negative number closes up to the last as well.
    let wrapped = the_other_thread_closes("0").replace("4294967295", "-1");
    assert_eq!(refusal(&wrapped).line, 6);
    for flags in ["0x2", "0x4"] {
        let kept = the_other_thread_closes(flags);
        assert_eq!(ops(&kept), vec![write(1, 0, b"x")], "flags {flags}");
    }
}

#[test]
fn renameat2_with_a_flag_other_than_rename_noreplace_is_refused_naming_it() {
    let refused = |flags: &str| {
        refusal(&format!(
            "1 renameat2(-100</w>, \"/d/old\", -100</w>, \"/d/x\", {flags}) = 0\n"
        ))
    };
    let exchange = refused("0x2");
    assert_eq!(exchange.syscall, "renameat2");
    assert_eq!(exchange.path, "/d/old to /d/x");
    assert_eq!(exchange.line, 1);
    for (flags, reason) in [
        (
            "0x2",
            "RENAME_EXCHANGE (a swap of two names) is not modelled",
        ),
        ("0x4", "RENAME_WHITEOUT is not modelled"),
        (
            "0x7",
            "RENAME_EXCHANGE (a swap of two names) and RENAME_WHITEOUT are not modelled",
        ),
        ("0x8", "renameat2 flags 0x8 are not modelled"),
    ] {
        assert_eq!(refused(flags).reason, reason, "flags {flags}");
    }
}

#[test]
fn renameat2_with_rename_noreplace_is_a_rename() {
    let trace = "1 renameat2(-100</w>, \"/d/old\", -100</w>, \"/d/x\", 0x1) = 0\n";
    assert_eq!(
        ops(trace),
        vec![Op::Rename {
            from: "/d/old".into(),
            to: "/d/x".into()
        }]
    );
}

#[test]
fn links_of_files_the_save_did_not_make_and_symlinks_into_the_directory_are_refused() {
    let link = refusal("1 link(\"/e/x\", \"/d/x\") = 0\n");
    assert_eq!(
        (link.syscall.as_str(), link.path.as_str()),
        ("link", "/d/x")
    );
    assert!(link.reason.contains("did not make"), "{link}");
    let symlink = refusal("1 symlinkat(\"/e/x\", -100</w>, \"/d/x\") = 0\n");
    assert_eq!(symlink.path, "/d/x");
}

#[test]
fn a_rename_into_the_directory_of_a_file_the_save_did_not_make_is_refused() {
    let refusal = refusal("1 rename(\"/e/t\", \"/d/f\") = 0\n");
    // The save made no /e/t: nothing to follow it from.
    assert_eq!(
        refusal.reason,
        "a rename into the record's directory of a file the save did not make is not modelled"
    );
    let out = super::tests::refusal("1 rename(\"/d/old\", \"/e/t\") = 0\n");
    assert!(out.reason.contains("out of"), "{out}");
}

fn unnamed(inode: InodeId, mode: u32) -> Op {
    Op::CreateUnnamed { inode, mode }
}

fn link(inode: InodeId, path: &str) -> Op {
    Op::Link {
        inode,
        path: path.into(),
    }
}

#[test]
fn an_unnamed_temp_file_linked_by_its_descriptor_is_a_file_then_a_name() {
    let trace = "\
1 openat(-100</w>, \"/d\", 0x410002, 0600) = 3</d/#12>(deleted)
1 write(3</d/#12>(deleted), \"new\", 3) = 3
1 pwrite64(3</d/#12>(deleted), \"N\", 1, 0) = 1
1 fsync(3</d/#12>(deleted)) = 0
1 linkat(3</d/#12>(deleted), \"\", -100</w>, \"/d/f\", 0x1000) = 0
1 close(3</d/f>) = 0
";
    let made = |at: u64| {
        vec![
            unnamed(2, 0o600),
            write(2, 0, b"new"),
            write(2, at, b"N"),
            Op::FsyncFile { inode: 2 },
            link(2, "/d/f"),
        ]
    };
    assert_eq!(ops(trace), made(0));
    // Opened with O_APPEND, even the positional write lands at the end.
    let appending = trace.replace("0x410002, 0600", "0x410402, 0600");
    assert_eq!(ops(&appending), made(3));
}

#[test]
fn an_unnamed_temp_file_linked_through_proc_self_fd_is_a_file_then_a_name() {
    let trace = "\
7 openat(-100</w>, \"/d\", 0x410002, 0666) = 3</d/#12>(deleted)
7 fchmod(3</d/#12>(deleted), 0600) = 0
7 fchown(3</d/#12>(deleted), 0, 0) = 0
7 write(3</d/#12>(deleted), \"new\", 3) = 3
7 linkat(-100</w>, \"/proc/self/fd/3\", 4</d>, \"t\", 0x400) = 0
7 renameat(4</d>, \"t\", 4</d>, \"old\") = 0
";
    assert_eq!(
        ops(trace),
        vec![
            unnamed(2, 0o644),
            Op::ChmodFile {
                inode: 2,
                mode: 0o600
            },
            write(2, 0, b"new"),
            link(2, "/d/t"),
            Op::Rename {
                from: "/d/t".into(),
                to: "/d/old".into()
            },
        ]
    );
    // Without AT_SYMLINK_FOLLOW the kernel links no such thing: refused.
    let unfollowed = trace.replace(", 0x400) = 0", ", 0) = 0");
    assert!(convert(&unfollowed).is_err());
    // The calling thread's or process's own descriptor, by any of its
    // names; another process's is not the file the trace made.
    let by = |name: &str| trace.replace("/proc/self/fd/3", name);
    for own in ["/proc/thread-self/fd/3", "/proc/7/fd/3"] {
        assert_eq!(ops(&by(own)), ops(trace), "{own}");
    }
    assert!(convert(&by("/proc/8/fd/3")).is_err());
}

#[test]
fn owners_are_no_part_of_the_model() {
    let trace = "\
1 openat(-100</w>, \"/d/t\", 0xc1, 0600) = 3</d/t>
1 fchown(3</d/t>, 1000, 1000) = 0
1 chown(\"/d/t\", 1000, 1000) = 0
1 lchown(\"/d/t\", 1000, 1000) = 0
1 fchownat(-100</w>, \"/d/t\", 1000, 1000, 0) = 0
";
    assert_eq!(ops(trace), vec![create("/d/t", 2, 0o600)]);
}

#[test]
fn a_link_with_at_empty_path_and_a_name_links_the_name() {
    // AT_EMPTY_PATH takes the descriptor itself only for an empty path.
    let trace = "\
1 openat(-100</w>, \"/d\", 0x10000) = 4</d>
1 linkat(4</d>, \"old\", 4</d>, \"copy\", 0x1000) = 0
";
    assert_eq!(ops(trace), vec![link(1, "/d/copy")]);
}

#[test]
fn a_temp_file_made_outside_and_linked_in_is_followed_from_its_creation() {
    let trace = "\
1 openat(-100</w>, \"/tmp/.tmpAb3\", 0x800c2, 0600) = 3</tmp/.tmpAb3>
1 write(3</tmp/.tmpAb3>, \"new\", 3) = 3
1 link(\"/tmp/.tmpAb3\", \"/d/f\") = 0
";
    assert_eq!(
        ops(trace),
        vec![
            create("/tmp/.tmpAb3", 2, 0o600),
            write(2, 0, b"new"),
            link(2, "/d/f"),
        ]
    );
}

#[test]
fn a_temp_file_made_outside_and_renamed_in_is_followed_from_its_creation() {
    let trace = "\
1 openat(-100</w>, \"/tmp/.tmpAb3\", 0x800c2, 0600) = 3</tmp/.tmpAb3>
1 write(3</tmp/.tmpAb3>, \"new\", 3) = 3
1 fsync(3</tmp/.tmpAb3>) = 0
1 close(3</tmp/.tmpAb3>) = 0
1 rename(\"/tmp/.tmpAb3\", \"/d/old\") = 0
1 openat(-100</w>, \"/tmp/unrelated\", 0xc1, 0600) = 3</tmp/unrelated>
";
    let converted = converted_in("/d", trace).unwrap_or_else(|e| panic!("{e}"));
    let ops: Vec<Op> = converted.ops.iter().map(|t| t.op.clone()).collect();
    assert_eq!(
        ops,
        vec![
            create("/tmp/.tmpAb3", 2, 0o600),
            write(2, 0, b"new"),
            Op::FsyncFile { inode: 2 },
            Op::Rename {
                from: "/tmp/.tmpAb3".into(),
                to: "/d/old".into()
            },
        ]
    );
    assert!(matches!(
        converted.before.nodes.get("/tmp"),
        Some(Node::Dir { .. })
    ));
    // Only the rename names D: the temp's own calls are not D's.
    assert_eq!(converted.touching, vec![4]);
    let after = lifecycle_model::persistence::apply(&converted.before, &ops)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(after.nodes.get("/d/old"), Some(Node::File { data, .. }) if data == b"new"));
}

#[test]
fn a_hard_link_inside_the_directory_is_a_second_name() {
    assert_eq!(
        ops("1 link(\"/d/old\", \"/d/copy\") = 0\n"),
        vec![link(1, "/d/copy")]
    );
}

#[test]
fn a_shared_writable_mapping_is_refused_and_a_private_one_is_not() {
    let open = "1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>\n";
    let private = format!("{open}1 mmap(NULL, 10, 0x3, 0x2, 3</d/old>, 0) = 0x7f00\n");
    assert_eq!(ops(&private), vec![]);
    let shared_read_only = format!("{open}1 mmap(NULL, 10, 0x1, 0x1, 3</d/old>, 0) = 0x7f00\n");
    assert_eq!(ops(&shared_read_only), vec![]);
    let shared = format!("{open}1 mmap(NULL, 10, 0x3, 0x1, 3</d/old>, 0) = 0x7f00\n");
    let refusal = refusal(&shared);
    assert_eq!(refusal.syscall, "mmap");
    assert_eq!(refusal.line, 2);
}

#[test]
fn other_calls_on_the_directory_are_refused() {
    let open = "1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>\n";
    for call in [
        "1 fallocate(3</d/old>, 0, 0, 4096) = 0\n",
        "1 ioctl(3</d/old>, 0x40049409, 4) = 0\n",
        "1 syncfs(3</d/old>) = 0\n",
        // F_ADD_SEALS
        "1 fcntl(3</d/old>, 0x409, 0x1) = 0\n",
        // A command strace printed by a name, not a number: not known.
        "1 fcntl(3</d/old>, F_SETLEASE, F_WRLCK) = 0\n",
    ] {
        let refusal = refusal(&format!("{open}{call}"));
        assert_eq!(refusal.path, "/d/old", "{refusal}");
    }
    // F_GETFL and F_GET_SEALS change nothing.
    for call in [
        "1 fcntl(3</d/old>, 0x3) = 0x8002\n",
        "1 fcntl(3</d/old>, 0x40a) = 0\n",
    ] {
        assert_eq!(ops(&format!("{open}{call}")), vec![], "{call}");
    }
}

#[test]
fn a_look_at_a_file_whose_outcome_is_unknown_changes_nothing() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 fstat(3</d/old>,  <unfinished ...>
1 +++ killed by SIGKILL +++
";
    assert_eq!(ops(trace), vec![]);
}

#[test]
fn a_failed_rename_into_the_directory_adopts_nothing() {
    let trace = "\
1 openat(-100</w>, \"/tmp/x\", 0xc1, 0600) = 3</tmp/x>
1 write(3</tmp/x>, \"new\", 3) = 3
1 rename(\"/tmp/x\", \"/d/f\") = -1 EXDEV (Invalid cross-device link)
";
    assert_eq!(ops(trace), vec![]);
}

#[test]
fn getcwd_tells_where_relative_paths_start() {
    let trace = "\
1 getcwd(\"/d\", 4096) = 3
1 mkdir(\"n\", 0700) = 0
";
    assert_eq!(
        ops(trace),
        vec![Op::Mkdir {
            path: "/d/n".into(),
            mode: 0o700
        }]
    );
    // A working directory outside the root (after a chroot, say) is
    // unreachable, and a relative path in it names nothing of D.
    let unreachable = "\
1 getcwd(\"/d\", 4096) = 3
1 getcwd(\"(unreachable)/x\", 4096) = 16
1 mkdir(\"n\", 0700) = 0
";
    assert_eq!(ops(unreachable), vec![]);
}

#[test]
fn a_call_whose_outcome_is_unknown_is_refused() {
    let trace = "\
1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>
1 write(3</d/old>, \"x\", 1 <unfinished ...>
1 +++ killed by SIGKILL +++
";
    let refusal = refusal(trace);
    assert_eq!(refusal.syscall, "write");
    assert!(refusal.reason.contains("unknown"), "{refusal}");
}

#[test]
fn a_trace_that_contradicts_the_disk_before_is_refused() {
    let opened = refusal("1 openat(-100</w>, \"/d/ghost\", 0x0) = 3</d/ghost>\n");
    assert!(opened.reason.contains("does not hold it"), "{opened}");
    let renamed = refusal("1 rename(\"/d/ghost\", \"/d/x\") = 0\n");
    assert_eq!(
        renamed.reason,
        "the trace does not fit the disk before the save: \
         it was renamed, but neither the disk before the save nor the trace holds it"
    );
}

#[test]
fn a_file_made_in_a_directory_the_disk_does_not_hold_is_inconsistent() {
    for made in [
        "1 openat(-100</w>, \"/d/n/t\", 0xc1, 0600) = 3</d/n/t>\n",
        "1 mkdir(\"/d/n/m\", 0700) = 0\n",
        "1 rename(\"/d/old\", \"/d/n/f\") = 0\n",
    ] {
        let refusal = refusal(made);
        assert!(
            refusal
                .reason
                .contains("its directory is not on the disk before the save"),
            "{made}: {refusal}"
        );
    }
}

#[test]
fn a_refusal_names_the_call_and_the_path_with_bytes_escaped() {
    let refusal = refusal("1 link(\"/e/x\", \"/d/\\xff\\x0a\") = 0\n");
    assert_eq!(
        refusal.to_string(),
        "link of /d/\\xff\\x0a (line 1 of the trace): \
         a link into the record's directory of a file the save did not make is not modelled"
    );
}

#[test]
fn every_call_that_makes_an_op_is_one_the_table_says_changes_or_syncs() {
    let trace = "\
1 open(\"/d/a\", 0xc1, 0600) = 3</d/a>
1 creat(\"/d/b\", 0600) = 4</d/b>
1 openat(-100</w>, \"/d/old\", 0x201) = 5</d/old>
1 openat2(-100</w>, \"/d/c\", {flags=0xc1, mode=0600, resolve=0}, 24) = 6</d/c>
1 write(3</d/a>, \"a\", 1) = 1
1 pwrite64(3</d/a>, \"b\", 1, 4) = 1
1 writev(4</d/b>, [{iov_base=\"c\", iov_len=1}], 1) = 1
1 pwritev(4</d/b>, [{iov_base=\"d\", iov_len=1}], 1, 8) = 1
1 pwritev2(4</d/b>, [{iov_base=\"e\", iov_len=1}], 1, -1, 0) = 1
1 ftruncate(5</d/old>, 2) = 0
1 truncate(\"/d/old\", 1) = 0
1 fsync(3</d/a>) = 0
1 fdatasync(4</d/b>) = 0
1 chmod(\"/d/a\", 0640) = 0
1 fchmod(3</d/a>, 0600) = 0
1 fchmodat(-100</w>, \"/d/b\", 0640) = 0
1 fchmodat2(-100</w>, \"/d/b\", 0600, 0) = 0
1 mkdir(\"/d/m\", 0700) = 0
1 mkdirat(-100</w>, \"/d/n\", 0700) = 0
1 rename(\"/d/a\", \"/d/a2\") = 0
1 renameat(-100</w>, \"/d/a2\", -100</w>, \"/d/a3\") = 0
1 renameat2(-100</w>, \"/d/a3\", -100</w>, \"/d/a4\", 0x1) = 0
1 unlink(\"/d/a4\") = 0
1 unlinkat(-100</w>, \"/d/b\", 0) = 0
1 rmdir(\"/d/m\") = 0
1 unlinkat(-100</w>, \"/d/n\", 0x200) = 0
";
    let calls = match parse(trace) {
        Ok(trace) => trace.calls,
        Err(e) => panic!("{e}"),
    };
    let converted = converted_in("/d", trace).unwrap_or_else(|e| panic!("{e}"));
    let mut made = std::collections::BTreeSet::new();
    for traced in &converted.ops {
        let name = calls[traced.call].name.as_str();
        let known = lookup(name).unwrap_or_else(|| panic!("{name} is not in the table"));
        assert!(
            matches!(known.kind, Kind::Changes | Kind::Syncs),
            "{name} made {:?} but is {:?}",
            traced.op,
            known.kind
        );
        made.insert(known.name);
    }
    // The trace holds each call of every model that makes ops, and each
    // made one.
    let in_trace: std::collections::BTreeSet<&str> =
        calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        made.iter().copied().collect::<Vec<_>>(),
        in_trace.iter().copied().collect::<Vec<_>>()
    );
    let models: Vec<Model> = made
        .iter()
        .filter_map(|n| lookup(n))
        .map(|k| k.model)
        .collect();
    for entry in TABLE.iter().filter(|k| models.contains(&k.model)) {
        assert!(made.contains(entry.name), "no op from {}", entry.name);
    }
}

#[test]
fn a_call_whose_strings_are_data_does_not_touch_the_directory() {
    let trace = "\
1 write(1<pipe:[7]>, \"/d/old\", 6) = 6
1 getrandom(\"/d/x\", 4, 0) = 4
1 readlink(\"/e/l\", \"/d/old\", 4096) = 6
";
    let converted = converted_in("/d", trace).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(converted.touching, Vec::<usize>::new());
    assert_eq!(converted.ops, vec![]);
}

#[test]
fn a_call_the_table_does_not_know_is_refused_when_any_argument_names_the_directory() {
    let absolute = refusal("1 frobnicate(\"x\", \"/d/old\") = 0\n");
    assert_eq!(absolute.syscall, "frobnicate");
    assert_eq!(absolute.path, "/d/old");
    let relative = refusal("1 chdir(\"/d\") = 0\n1 frobnicate(\"old\") = 0\n");
    assert_eq!(relative.path, "/d/old");
    let open = "1 openat(-100</w>, \"/d/old\", 0x2) = 3</d/old>\n";
    let by_descriptor = refusal(&format!("{open}1 frobnicate(3</d/old>) = 0\n"));
    assert_eq!(by_descriptor.path, "/d/old");
    assert_eq!(ops("1 frobnicate(\"/e/x\", 4</e>) = 0\n"), vec![]);
}
