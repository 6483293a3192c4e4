//! Which thread group (what a user calls a process) each thread of a
//! trace belongs to.
//!
//! Promises: [`ThreadGroups::of`] reads a parsed trace's calls that make a
//! process or a thread, in the order they were entered: a `clone` or
//! `clone3` whose flags have `CLONE_THREAD` and that returned the child's
//! id puts that child in its maker's thread group; any other (`fork`,
//! `vfork`, a clone without `CLONE_THREAD`) makes the child the leader of
//! a group of its own. [`ThreadGroups::group`] names a group by its
//! leader's id, as the kernel's thread group id does; a thread the trace
//! never showed being made (the program itself) leads its own.
//!
//! Does not promise: the groups of threads made before the tracer
//! attached, or of a thread id the kernel reused for a thread of another
//! group without the trace showing the clone that made it.

use std::collections::HashMap;

use super::args::child;
use super::linux;
use super::strace::Trace;

/// The thread group of each thread of a trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadGroups {
    /// Each thread made into another's group, with that group's leader.
    leaders: HashMap<u32, u32>,
}

impl ThreadGroups {
    /// The thread groups of `trace`, from the clones it shows.
    pub fn of(trace: &Trace) -> ThreadGroups {
        let mut groups = ThreadGroups::default();
        for call in &trace.calls {
            let Some(child) = child(call) else {
                continue;
            };
            if child.flags & linux::CLONE_THREAD != 0 {
                let leader = groups.group(call.pid);
                groups.leaders.insert(child.pid, leader);
            } else {
                groups.leaders.remove(&child.pid);
            }
        }
        groups
    }

    /// The leader of the group of thread `pid`.
    pub fn group(&self, pid: u32) -> u32 {
        self.leaders.get(&pid).copied().unwrap_or(pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::strace::parse;

    fn groups(text: &str) -> ThreadGroups {
        ThreadGroups::of(&parse(text).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn a_thread_joins_its_makers_group_and_a_fork_or_vfork_child_leads_its_own() {
        let groups = groups(
            "\
10 clone(child_stack=0x7f00, flags=0x3d0f00, parent_tid=0x7f10, tls=0x7f20, child_tidptr=0x7f10) = 11
11 clone3({flags=0x3d0f00, exit_signal=0, stack=0x7e00, stack_size=0x800}, 88) = 12
12 clone(child_stack=0x7d00, flags=0x3d0f00) = 13
11 clone(child_stack=NULL, flags=0x1200011, child_tidptr=0x7f30) = 20
20 clone3({flags=0x3d0f00, exit_signal=0, stack=0x7c00, stack_size=0x800}, 88) = 21
10 fork() = 30
10 vfork() = 31
10 clone3({flags=0x200000, exit_signal=17, stack=0, stack_size=0}, 88) = 32
10 clone(child_stack=0x7b00, flags=0x3d0f00) = -1 EAGAIN (Resource temporarily unavailable)
",
        );
        // The threads of 10, nested ones too, by clone and clone3.
        for thread in [10, 11, 12, 13] {
            assert_eq!(groups.group(thread), 10, "{thread}");
        }
        // A clone without CLONE_THREAD makes a process, whose own thread
        // is in its group, not its maker's.
        assert_eq!(groups.group(20), 20);
        assert_eq!(groups.group(21), 20);
        for process in [30, 31, 32] {
            assert_eq!(groups.group(process), process);
        }
        // A thread never made in the trace leads its own group.
        assert_eq!(groups.group(99), 99);
    }

    #[test]
    fn a_thread_id_reused_by_a_new_process_leaves_the_group_it_was_in() {
        let groups = groups(
            "\
10 clone(child_stack=0x7f00, flags=0x3d0f00) = 11
11 +++ exited with 0 +++
10 fork() = 11
",
        );
        assert_eq!(groups.group(11), 11);
    }
}
