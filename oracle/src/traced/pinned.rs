//! A thread held on one CPU while it runs a traced save, with every
//! process and thread it starts meanwhile.
//!
//! Why: under a tracer, each call the filter names stops the tracee and
//! wakes the tracer, then the tracer wakes the tracee again. When the
//! two run on different CPUs every wake-up crosses CPUs, and where an
//! idle CPU halts (a virtual machine's `haltpoll`), each costs tens of
//! microseconds. Measured on the 2-core CI machine: the `kill` suite of
//! the Python original with one job took 23.1 s with the check free to
//! use both CPUs, and 8.4 s with all of it on one. On one CPU the tracer
//! and the tracee hand over without waking another.
//!
//! Promises: [`Pinned::to`] holds the calling thread on the `n`-th of the
//! CPUs it may run on (counted round), [`Pinned::here`] on the one it runs
//! on, until the guard drops; then the thread may run where it could
//! before. A process or thread started meanwhile inherits the one CPU
//! and keeps it, so an adapter under a traced save sees one CPU (a runtime
//! that sizes its threads by the CPUs it may use sizes them for one).
//! Where the thread may use one CPU only, or the kernel refuses, nothing
//! changes: the save is slower, never judged otherwise.
//!
//! Does not promise: that the CPU is free. Replays run at once beyond the
//! number of CPUs share them.

use std::mem;

/// Holds the thread that made it on one CPU; dropped, lets it go.
pub struct Pinned {
    /// The thread's CPUs before, when it was pinned.
    before: Option<libc::cpu_set_t>,
}

impl Pinned {
    /// Holds this thread on its `n`-th CPU, `n` counted round the CPUs it
    /// may use: runners numbered from 0 each get one of their own.
    pub fn to(n: usize) -> Pinned {
        Pinned::on(|cpus| Some(cpus[n % cpus.len()]))
    }

    /// Holds this thread on the CPU it runs on now: where the scheduler
    /// put it, away from other work (another oracle's, say).
    pub fn here() -> Pinned {
        // SAFETY: sched_getcpu takes nothing and only returns a number.
        let now = unsafe { libc::sched_getcpu() };
        Pinned::on(|cpus| usize::try_from(now).ok().filter(|cpu| cpus.contains(cpu)))
    }

    /// Holds this thread on the CPU `pick` picks of the ones it may use
    /// (given when there are two or more).
    fn on(pick: impl FnOnce(&[usize]) -> Option<usize>) -> Pinned {
        let unpinned = Pinned { before: None };
        let Some(before) = affinity() else {
            return unpinned;
        };
        let cpus = members(&before);
        if cpus.len() < 2 {
            return unpinned;
        }
        let Some(cpu) = pick(&cpus) else {
            return unpinned;
        };
        if set_affinity(&set_of(cpu)) {
            Pinned {
                before: Some(before),
            }
        } else {
            unpinned
        }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if let Some(before) = &self.before {
            set_affinity(before);
        }
    }
}

/// The CPUs the calling thread may run on.
fn affinity() -> Option<libc::cpu_set_t> {
    // SAFETY: a cpu_set_t is a plain bit array, valid all zero.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: pid 0 is the calling thread; the kernel writes at most the
    // size given into `set`, which lives across the call.
    let got = unsafe { libc::sched_getaffinity(0, mem::size_of::<libc::cpu_set_t>(), &mut set) };
    (got == 0).then_some(set)
}

/// Whether the calling thread now runs on `set` only.
fn set_affinity(set: &libc::cpu_set_t) -> bool {
    // SAFETY: pid 0 is the calling thread; the kernel reads at most the
    // size given from `set`, which lives across the call.
    unsafe { libc::sched_setaffinity(0, mem::size_of::<libc::cpu_set_t>(), set) == 0 }
}

/// The CPUs in `set`, lowest first.
fn members(set: &libc::cpu_set_t) -> Vec<usize> {
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET only reads a bit of `set`, below CPU_SETSIZE.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, set) })
        .collect()
}

/// The set of `cpu` alone.
fn set_of(cpu: usize) -> libc::cpu_set_t {
    // SAFETY: a cpu_set_t is a plain bit array, valid all zero; CPU_SET
    // only sets a bit of it, `cpu` being below CPU_SETSIZE (a member of a
    // set the kernel gave).
    unsafe {
        let mut set: libc::cpu_set_t = mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    fn cpus_now() -> Vec<usize> {
        members(&affinity().expect("this thread's CPUs"))
    }

    #[test]
    fn a_thread_pinned_where_it_runs_stays_on_that_one_cpu() {
        thread::spawn(|| {
            let all = cpus_now();
            let pinned = Pinned::here();
            let now = cpus_now();
            if all.len() < 2 {
                assert_eq!(now, all);
            } else {
                assert_eq!(now.len(), 1, "pinned to one of {all:?}: {now:?}");
                assert!(all.contains(&now[0]));
                // SAFETY: sched_getcpu takes nothing and only returns a number.
                let running = unsafe { libc::sched_getcpu() };
                assert_eq!(usize::try_from(running).ok(), Some(now[0]));
            }
            drop(pinned);
            assert_eq!(cpus_now(), all, "the guard dropped");
        })
        .join()
        .expect("the pinning thread");
    }

    #[test]
    fn a_pinned_thread_and_what_it_starts_run_on_one_cpu_until_the_guard_drops() {
        // On a thread of its own, so no other test shares its CPUs.
        thread::spawn(|| {
            let all = cpus_now();
            for n in 0..all.len() + 1 {
                let pinned = Pinned::to(n);
                let expected = if all.len() < 2 {
                    all.clone()
                } else {
                    vec![all[n % all.len()]]
                };
                assert_eq!(cpus_now(), expected, "pinned to CPU number {n}");
                let started = thread::spawn(cpus_now).join().expect("a thread");
                assert_eq!(started, expected, "a thread started while pinned");
                if let [cpu] = expected[..] {
                    let status = std::process::Command::new("cat")
                        .arg("/proc/self/status")
                        .output()
                        .expect("cat runs");
                    let status = String::from_utf8_lossy(&status.stdout);
                    assert!(
                        status.contains(&format!("Cpus_allowed_list:\t{cpu}\n")),
                        "a process started while pinned to CPU {cpu}:\n{status}"
                    );
                }
                drop(pinned);
                assert_eq!(cpus_now(), all, "the guard dropped");
            }
        })
        .join()
        .expect("the pinning thread");
    }
}
