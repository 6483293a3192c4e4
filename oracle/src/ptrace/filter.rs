//! A seccomp filter that stops a tracee only at the calls the tracer
//! writes or counts, so every other call runs without a stop.
//!
//! A ptrace stop costs two context switches, at a call's entry and again
//! at its exit; a runtime's calls the system-call table does not know (a
//! JVM's or Go's `futex`, `nanosleep`, `rt_sigaction`, `mprotect`, `brk`)
//! are never written, counted or hit (unless the point is the call
//! after the last one in the scope, which may be any: the thread that
//! makes it then stops at every call's entry until it does, and when the
//! call is to fail, there is no filter).
//!
//! Promises: [`Filter::calls`] makes a program whose calls of the x86-64
//! table named by the system-call table (`syscalls::table`), the clones
//! and the execs return `SECCOMP_RET_TRACE` (a seccomp stop of the tracer,
//! before the call runs), as does every call of another architecture or
//! of the x32 table, and every other call `SECCOMP_RET_ALLOW`.
//! [`Filter::install`], in the forked child before it asks to be traced,
//! sets `no_new_privs` (which a filter needs without `CAP_SYS_ADMIN`; a
//! set-user-ID program then runs as its caller) and installs the filter,
//! inherited by every process and thread the child starts; it says
//! whether it could, so the tracer stops at every call when the kernel
//! refuses.
//!
//! Does not promise: anything about calls made before it is installed.

use crate::syscalls::table::lookup;

use super::names;

/// `AUDIT_ARCH_X86_64` of `linux/audit.h`: `EM_X86_64 | __AUDIT_ARCH_64BIT
/// | __AUDIT_ARCH_LE`.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// The bit of a call number of the x32 table.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// Offsets in `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;

/// Calls the tracer needs to see whatever the table says: a clone is
/// written whole as its child is made, and an exec stops there as
/// strace shows it.
const ALWAYS: [&str; 6] = ["clone", "clone3", "fork", "vfork", "execve", "execveat"];

pub(super) struct Filter {
    program: Vec<libc::sock_filter>,
}

fn statement(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

impl Filter {
    /// The numbers of the x86-64 calls the tracer must stop at.
    pub(super) fn stopped_at() -> Vec<u32> {
        (0..1024u32)
            .filter(|&nr| {
                names::syscall(u64::from(nr))
                    .is_some_and(|name| ALWAYS.contains(&name) || lookup(name).is_some())
            })
            .collect()
    }

    /// The filter that traces the calls [`Filter::stopped_at`] lists.
    pub(super) fn calls() -> Filter {
        let trace = statement(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_TRACE);
        let mut program = vec![
            statement(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, ARCH_OFFSET),
            // Another architecture's numbers mean other calls: all traced.
            jump(
                libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
                AUDIT_ARCH_X86_64,
                1,
                0,
            ),
            trace,
            statement(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, NR_OFFSET),
            jump(
                libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
                X32_SYSCALL_BIT,
                0,
                1,
            ),
            trace,
        ];
        for nr in Filter::stopped_at() {
            // Equal: the next statement, a trace; else past it.
            program.push(jump(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, nr, 0, 1));
            program.push(trace);
        }
        program.push(statement(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ALLOW,
        ));
        Filter { program }
    }

    /// Sets `no_new_privs` and installs the filter in this process:
    /// whether the kernel took it.
    ///
    /// # Safety
    ///
    /// Async-signal-safe (two system calls, no allocation): callable in a
    /// child forked from a process with other threads.
    pub(super) unsafe fn install(&self) -> bool {
        let Ok(len) = u16::try_from(self.program.len()) else {
            return false;
        };
        let program = libc::sock_fprog {
            len,
            // The kernel copies the program and never writes to it.
            filter: self.program.as_ptr().cast_mut(),
        };
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1) reads no pointer.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1usize, 0usize, 0usize, 0usize) } != 0 {
            return false;
        }
        // SAFETY: `program` points to `len` live sock_filter statements,
        // which outlive the call (the kernel copies them).
        let set = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0usize,
                &program as *const libc::sock_fprog,
            )
        };
        set == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_stops_at_the_calls_the_table_knows_and_lets_a_runtimes_others_run() {
        let stopped: Vec<&str> = Filter::stopped_at()
            .into_iter()
            .filter_map(|nr| names::syscall(u64::from(nr)))
            .collect();
        for call in [
            "openat", "write", "fsync", "rename", "clone", "execve", "close",
        ] {
            assert!(stopped.contains(&call), "{call} is not stopped at");
        }
        for call in [
            "futex",
            "nanosleep",
            "rt_sigaction",
            "brk",
            "mprotect",
            "getpid",
        ] {
            assert!(!stopped.contains(&call), "{call} is stopped at");
        }
        // Every jump of the program lands inside it, and it ends in a
        // return.
        let program = Filter::calls().program;
        let end = program.last().map(|s| u32::from(s.code));
        assert_eq!(end, Some(libc::BPF_RET | libc::BPF_K));
        for (at, s) in program.iter().enumerate() {
            if u32::from(s.code) & 0x07 == libc::BPF_JMP {
                let furthest = at + 1 + usize::from(s.jt.max(s.jf));
                assert!(furthest < program.len(), "statement {at} jumps out");
            }
        }
    }
}
