//! [`CrashSpace`] against a brute force: on small logs, `states()` is every
//! combination of the outcomes the README's rules allow, each once.
//!
//! The brute force shares only the replay of the log (which operations
//! each directory has, what each file held when), the applying of one entry
//! operation and the building of a disk from a namespace. It enumerates the
//! directory prefixes by recursion rather than the odometer and applies one
//! by picking its operations rather than counting them; it makes the files'
//! outcomes from the rules (every block of every allowed size from either
//! version) rather than from the blocks that differ, and their combinations
//! by recursion rather than by decomposing an index. The two lists of disks
//! are compared as multisets (a state skipped, repeated or made up changes
//! them, even where two choices give equal disks), then in order: a
//! regression case names a power-loss state by its number, so the numbering
//! [`CrashSpace`] documents is checked too.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    apply, apply_entry, Crash, CrashSpace, Disk, FileOutcome, InodeId, Namespace, Node, Op, Replay,
};

const BLOCK_SIZES: [usize; 2] = [512, 4096];

/// Above this many states a log is left out: the brute force would be slow
/// in a debug build, and small spaces already hold every shape of choice.
const MAX_STATES: u64 = 4096;

/// Every disk the rules allow after a power loss, one per combination.
fn brute_force(initial: &Disk, ops: &[Op], block_size: usize) -> Vec<Disk> {
    let replay = match Replay::run(initial, ops) {
        Ok(replay) => replay,
        Err(e) => panic!("{e}"),
    };
    let dims = replay.directories();
    let mut disks = Vec::new();
    every_cutoff(
        &dims,
        dims.len(),
        &mut vec![0; dims.len()],
        &mut |cutoffs| {
            let namespace = with_prefixes(&replay, &dims, cutoffs);
            // A file with two names is one choice: list each inode once.
            let named: BTreeSet<InodeId> = replay
                .materialize(&namespace, &|_| (0, Vec::new()))
                .nodes
                .values()
                .filter_map(|node| match node {
                    Node::File { inode, .. } => Some(*inode),
                    _ => None,
                })
                .collect();
            let files: Vec<(InodeId, Vec<FileOutcome>)> = named
                .into_iter()
                .map(|id| (id, every_outcome(&replay, id, block_size)))
                .collect();
            every_pick(&files, files.len(), &mut BTreeMap::new(), &mut |picked| {
                disks.push(replay.materialize(&namespace, &|id| picked[&id].clone()));
            });
        },
    );
    disks
}

/// The durable entries and, of each directory, its first `cutoffs[i]`
/// entry operations, applied in log order.
fn with_prefixes(replay: &Replay, dims: &[(&str, usize, usize)], cutoffs: &[usize]) -> Namespace {
    let kept: BTreeSet<usize> = dims
        .iter()
        .zip(cutoffs)
        .flat_map(|(&(dir, _, _), &cutoff)| {
            (0..replay.entry_ops.len())
                .filter(move |&i| replay.entry_ops[i].0 == dir)
                .take(cutoff)
        })
        .collect();
    let mut namespace = replay.durable.clone();
    for i in kept {
        apply_entry(&mut namespace, &replay.entry_ops[i].1);
    }
    namespace
}

/// Calls `visit` with every vector of per-directory prefix lengths, each
/// between what the directory's fsync forced and all of its operations,
/// the first directory changing fastest (the numbering `CrashSpace` states).
fn every_cutoff(
    dims: &[(&str, usize, usize)],
    undecided: usize,
    cutoffs: &mut [usize],
    visit: &mut dyn FnMut(&[usize]),
) {
    match undecided.checked_sub(1) {
        None => visit(cutoffs),
        Some(last) => {
            let (_, forced, total) = dims[last];
            for cutoff in forced..=total {
                cutoffs[last] = cutoff;
                every_cutoff(dims, last, cutoffs, visit);
            }
        }
    }
}

/// Calls `visit` with every choice of one outcome per file, the first file
/// changing fastest.
fn every_pick(
    files: &[(InodeId, Vec<FileOutcome>)],
    undecided: usize,
    picked: &mut BTreeMap<InodeId, FileOutcome>,
    visit: &mut dyn FnMut(&BTreeMap<InodeId, FileOutcome>),
) {
    match undecided.checked_sub(1) {
        None => visit(picked),
        Some(last) => {
            let (id, outcomes) = &files[last];
            for outcome in outcomes {
                picked.insert(*id, outcome.clone());
                every_pick(files, last, picked, visit);
            }
        }
    }
}

/// README rules 2, 3 and 5 for one file, read literally: its mode is the
/// durable or the current one; its size the durable one, one after any
/// unsynced write or truncation, or a block boundary between the smallest
/// and the largest of these; each block of that size from the durable or
/// the current bytes, zeros past a version's end. Each distinct outcome once.
fn every_outcome(replay: &Replay, id: InodeId, block_size: usize) -> Vec<FileOutcome> {
    let inode = &replay.inodes[&id];
    let (old, new) = (&inode.durable_data, &inode.data);
    let mut sizes: BTreeSet<usize> = [old.len(), new.len()].into();
    sizes.extend(&inode.unsynced_sizes);
    let (lo, hi) = (sizes.iter().min().copied(), sizes.iter().max().copied());
    if let (Some(lo), Some(hi)) = (lo, hi) {
        sizes.extend((lo + 1..hi).filter(|size| size % block_size == 0));
    }
    let mut datas: BTreeSet<Vec<u8>> = [old.clone()].into();
    for size in sizes {
        let blocks = size.div_ceil(block_size);
        for mask in 0..1u64 << blocks {
            let data = (0..size)
                .map(|i| {
                    let version = if mask >> (i / block_size) & 1 == 1 {
                        new
                    } else {
                        old
                    };
                    version.get(i).copied().unwrap_or(0)
                })
                .collect();
            datas.insert(data);
        }
    }
    let mut modes = vec![inode.durable_mode];
    if inode.mode != inode.durable_mode {
        modes.push(inode.mode);
    }
    let mut outcomes = Vec::new();
    for mode in modes {
        for data in &datas {
            outcomes.push((mode, data.clone()));
        }
    }
    outcomes
}

/// What one log showed: whether it was judged and whether its space had
/// the shapes the index arithmetic must get right.
#[derive(Default)]
struct Coverage {
    judged: usize,
    /// Spaces with several layouts and a layout with several files to
    /// choose for.
    layered: usize,
}

fn assert_complete(initial: &Disk, ops: &[Op], coverage: &mut Coverage) {
    let process = match CrashSpace::new(initial, ops, Crash::Process) {
        Ok(space) => space,
        Err(_) => return,
    };
    let whole: Vec<Disk> = process.states().collect();
    assert_eq!(whole, vec![apply(initial, ops).expect("the log replayed")]);
    for block_size in BLOCK_SIZES {
        let space = CrashSpace::new(initial, ops, Crash::PowerLoss { block_size })
            .expect("a log valid for a process crash is valid for a power loss");
        if space.len() > MAX_STATES {
            continue;
        }
        coverage.judged += 1;
        if space.layouts.len() > 1 && space.layouts.iter().any(|l| l.choices.len() > 1) {
            coverage.layered += 1;
        }
        let states: Vec<Disk> = space.states().collect();
        let expected = brute_force(initial, ops, block_size);
        assert_eq!(
            states.len(),
            expected.len(),
            "{block_size}-byte blocks, log {ops:?}: len() against the brute force"
        );
        assert_eq!(space.len(), states.len() as u64);
        let (mut sorted, mut expected_sorted) = (states.clone(), expected.clone());
        sorted.sort();
        expected_sorted.sort();
        if let Some(at) = (0..sorted.len()).find(|&i| sorted[i] != expected_sorted[i]) {
            panic!(
                "{block_size}-byte blocks, log {ops:?}: the states differ from the brute force \
                 first at sorted position {at} of {}:\nstates():    {:?}\nbrute force: {:?}",
                sorted.len(),
                sorted[at],
                expected_sorted[at]
            );
        }
        // The same states: now the numbering a regression case relies on.
        if let Some(at) = (0..states.len()).find(|&i| states[i] != expected[i]) {
            panic!("{block_size}-byte blocks, log {ops:?}: state {at} is not the one documented");
        }
    }
}

fn old_record() -> Disk {
    let mut disk = Disk::default();
    disk.nodes.insert("/d".into(), Node::Dir { mode: 0o700 });
    disk.nodes.insert(
        "/d/r".into(),
        Node::File {
            inode: 1,
            mode: 0o600,
            data: vec![b'o'; 700],
        },
    );
    disk.nodes
        .insert("/d/link".into(), Node::Symlink { target: "r".into() });
    disk
}

#[test]
fn the_states_of_a_save_protocol_are_every_combination_once() {
    let ops = [
        Op::Write {
            inode: 1,
            offset: 0,
            data: vec![b'x'; 600],
        },
        Op::Create {
            path: "/d/t".into(),
            inode: 2,
            mode: 0o644,
        },
        Op::Write {
            inode: 2,
            offset: 0,
            data: vec![b'n'; 1100],
        },
        Op::ChmodFile {
            inode: 2,
            mode: 0o600,
        },
        Op::Mkdir {
            path: "/e".into(),
            mode: 0o700,
        },
        Op::Rename {
            from: "/d/t".into(),
            to: "/e/r".into(),
        },
    ];
    let mut coverage = Coverage::default();
    for end in 0..=ops.len() {
        assert_complete(&old_record(), &ops[..end], &mut coverage);
    }
    assert_eq!(coverage.judged, 2 * (ops.len() + 1));
    assert!(coverage.layered > 0, "no space with layers and choices");
}

/// xorshift64*: the same logs on every run, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

const NAMES: [&str; 6] = ["/d/r", "/d/t", "/d/a", "/d/link", "/e/r", "/e/t"];

/// A log of up to six operations over two directories, mostly valid: it
/// tracks names and inodes as a process would see them, and a log the
/// model refuses anyway is skipped by [`assert_complete`].
fn random_log(rng: &mut Rng) -> Vec<Op> {
    let mut names: BTreeMap<String, Option<InodeId>> = [
        ("/d".to_string(), None),
        ("/d/r".to_string(), Some(1)),
        ("/d/link".to_string(), Some(0)),
    ]
    .into();
    let mut inodes: Vec<InodeId> = vec![1];
    let mut next: InodeId = 2;
    let mut ops = Vec::new();
    let len = 1 + rng.below(6);
    while ops.len() < len {
        let free: Vec<&str> = NAMES
            .iter()
            .copied()
            .filter(|n| !names.contains_key(*n) && names.contains_key(super::parent_of(n)))
            .collect();
        let files: Vec<String> = names
            .iter()
            .filter(|(_, inode)| inode.is_some())
            .map(|(name, _)| name.clone())
            .collect();
        let inode = rng.pick(&inodes);
        let op = match rng.below(13) {
            0 if !free.is_empty() => {
                let path = rng.pick(&free).to_string();
                names.insert(path.clone(), Some(next));
                inodes.push(next);
                next += 1;
                Op::Create {
                    path,
                    inode: next - 1,
                    mode: rng.pick(&[0o600, 0o644]),
                }
            }
            1 => {
                inodes.push(next);
                next += 1;
                Op::CreateUnnamed {
                    inode: next - 1,
                    mode: 0o600,
                }
            }
            2 if !free.is_empty() => {
                let path = rng.pick(&free).to_string();
                names.insert(path.clone(), Some(inode));
                Op::Link { inode, path }
            }
            3 | 4 => Op::Write {
                inode,
                offset: rng.pick(&[0, 100, 512, 700]),
                data: vec![rng.pick(b"abc"); rng.pick(&[1, 100, 512, 600])],
            },
            5 => Op::Truncate {
                inode,
                size: rng.pick(&[0, 10, 512, 1000]),
            },
            6 => Op::FsyncFile { inode },
            7 => Op::FdatasyncFile { inode },
            8 if !files.is_empty() => {
                let from = rng.pick(&files);
                let to = rng.pick(&NAMES).to_string();
                if from == to || !names.contains_key(super::parent_of(&to)) {
                    continue;
                }
                let target = names.remove(&from).flatten();
                names.insert(to.clone(), target);
                Op::Rename { from, to }
            }
            9 if !files.is_empty() => {
                let path = rng.pick(&files);
                names.remove(&path);
                Op::Unlink { path }
            }
            10 if !names.contains_key("/e") => {
                names.insert("/e".into(), None);
                Op::Mkdir {
                    path: "/e".into(),
                    mode: 0o700,
                }
            }
            10 if !names.keys().any(|n| n.starts_with("/e/")) => {
                names.remove("/e");
                Op::Rmdir { path: "/e".into() }
            }
            11 => Op::ChmodFile {
                inode,
                mode: rng.pick(&[0o600, 0o640]),
            },
            12 => Op::FsyncDir {
                path: rng.pick(&["/", "/d", "/e"]).into(),
            },
            _ => continue,
        };
        ops.push(op);
    }
    ops
}

#[test]
fn the_states_of_random_logs_are_every_combination_once() {
    let mut rng = Rng(0x5eed_1e55_c0de_cafe);
    let mut coverage = Coverage::default();
    for _ in 0..1000 {
        assert_complete(&old_record(), &random_log(&mut rng), &mut coverage);
    }
    // Enough of the logs are valid and small enough to judge, and some
    // have the shapes a wrong index decomposition would get wrong.
    assert!(
        coverage.judged >= 1000,
        "only {} spaces judged",
        coverage.judged
    );
    assert!(
        coverage.layered >= 30,
        "only {} layered spaces",
        coverage.layered
    );
}
