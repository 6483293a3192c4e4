//! The descriptors of the traced processes, as the converter follows them.
//!
//! Promises: [`Descriptors`] keeps one descriptor table per process, shared
//! by threads (`CLONE_FILES`) and copied by `fork`, whose entries are open
//! file descriptions ([`OpenFile`]: what they refer to, their offset, their
//! `O_APPEND`) shared by `dup`, `fork` and threads; it follows `close`,
//! `close_range`, `dup`, `dup2`, `dup3` and the clone calls, and gives each
//! call the open files its descriptors referred to when it was entered, so
//! a thread closing or reusing a number while another's call runs does
//! not change what that call acted on, and a number that a close frees
//! and another thread's open takes before strace prints the close's
//! return stays the open's.
//!
//! Does not promise: to know descriptors the trace never showed opened
//! (those inherited, or opened before strace attached), nor `SCM_RIGHTS`,
//! `pidfd_getfd` or `O_CLOEXEC` across `execve`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use lifecycle_model::persistence::InodeId;

use super::args::{child, number};
use super::linux;
use super::strace::{Arg, Call};

/// What an open file description refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Target {
    File(InodeId),
    Dir(Vec<u8>),
}

/// An open file description: shared by `dup`, `fork` and threads.
#[derive(Debug)]
pub(super) struct OpenFile {
    pub(super) target: Target,
    pub(super) offset: u64,
    pub(super) append: bool,
}

pub(super) type Description = Rc<RefCell<OpenFile>>;
/// A descriptor table: shared by threads (`CLONE_FILES`), copied by `fork`.
type FdTable = Rc<RefCell<HashMap<i64, Description>>>;

#[derive(Default)]
pub(super) struct Descriptors {
    tables: HashMap<u32, FdTable>,
    /// Per call entered and not yet returned: its descriptors' open files
    /// at entry.
    entered: HashMap<usize, HashMap<i64, Description>>,
    /// The same for the call returning now.
    at_entry: HashMap<i64, Description>,
}

impl Descriptors {
    fn table(&mut self, pid: u32) -> FdTable {
        self.tables.entry(pid).or_default().clone()
    }

    /// Notes the open files behind the call's descriptors as it enters.
    pub(super) fn enter(&mut self, call: &Call) {
        let table = self.table(call.pid);
        let table = table.borrow();
        let mut open = HashMap::new();
        for arg in &call.args {
            if let Arg::Fd { fd, .. } = arg {
                if let Some(file) = table.get(fd) {
                    open.insert(*fd, file.clone());
                }
            }
        }
        self.entered.insert(call.index, open);
    }

    /// Makes the open files noted as `call` entered the ones
    /// [`Descriptors::at_entry`] gives, as it returns.
    pub(super) fn returned(&mut self, call: &Call) {
        self.at_entry = self.entered.remove(&call.index).unwrap_or_default();
    }

    /// The open file `fd` referred to when the returning call entered.
    pub(super) fn at_entry(&self, fd: i64) -> Option<&Description> {
        self.at_entry.get(&fd)
    }

    /// The open file `fd` of process `pid` refers to now.
    pub(super) fn current(&mut self, pid: u32, fd: i64) -> Option<Description> {
        self.table(pid).borrow().get(&fd).cloned()
    }

    /// `fd` of process `pid` now refers to `file`.
    pub(super) fn open(&mut self, pid: u32, fd: i64, file: OpenFile) {
        self.table(pid)
            .borrow_mut()
            .insert(fd, Rc::new(RefCell::new(file)));
    }

    /// `fd` of process `pid` refers to nothing the converter follows.
    pub(super) fn forget(&mut self, pid: u32, fd: i64) {
        self.table(pid).borrow_mut().remove(&fd);
    }

    /// `close(fd)`, as it returns: `fd` is forgotten unless another
    /// thread's open took the number again after the close entered (the
    /// kernel freed the number before that open returned, but strace may
    /// print the close's return after the open's), whose file stays.
    pub(super) fn close(&mut self, call: &Call) {
        let Some(fd) = number(call.args.first()) else {
            return;
        };
        let table = self.table(call.pid);
        let mut table = table.borrow_mut();
        let reopened = match (table.get(&fd), self.at_entry.get(&fd)) {
            (Some(now), Some(closed)) => !Rc::ptr_eq(now, closed),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !reopened {
            table.remove(&fd);
        }
    }

    pub(super) fn close_range(&mut self, call: &Call) {
        let (Some(first), Some(last)) = (number(call.args.first()), number(call.args.get(1)))
        else {
            return;
        };
        let flags = number(call.args.get(2)).unwrap_or(0);
        if flags & linux::CLOSE_RANGE_CLOEXEC != 0 {
            return;
        }
        if flags & linux::CLOSE_RANGE_UNSHARE != 0 {
            let copy = self.table(call.pid).borrow().clone();
            self.tables.insert(call.pid, Rc::new(RefCell::new(copy)));
        }
        // The last descriptor may be printed as ~0U, a u32 that wrapped.
        let last = if last < 0 { i64::MAX } else { last };
        let table = self.table(call.pid);
        table.borrow_mut().retain(|fd, _| *fd < first || *fd > last);
    }

    /// `new = dup(old)`, for the descriptor argument at `old_index`.
    pub(super) fn dup(&mut self, call: &Call, old_index: usize) {
        let (Some(old), Some(new)) = (number(call.args.get(old_index)), call.result.value()) else {
            return;
        };
        if old == new {
            return;
        }
        let open = self.at_entry.get(&old).cloned();
        let table = self.table(call.pid);
        let mut table = table.borrow_mut();
        table.remove(&new);
        if let Some(open) = open {
            table.insert(new, open);
        }
    }

    pub(super) fn fork(&mut self, call: &Call) {
        let Some(child) = child(call) else {
            return;
        };
        let parent = self.table(call.pid);
        let table = if child.flags & linux::CLONE_FILES != 0 {
            parent
        } else {
            // A copy of the table whose descriptions stay shared.
            Rc::new(RefCell::new(parent.borrow().clone()))
        };
        self.tables.insert(child.pid, table);
    }
}
