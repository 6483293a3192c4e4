//! Names of x86-64 system calls and errnos, by number, as strace prints
//! them.
//!
//! Promises: [`syscall`] names every call of Linux 6.15's x86-64 table
//! (`asm/unistd_64.h`, and the numbers added up to `open_tree_attr`);
//! [`errno`] names every errno of `asm-generic/errno*.h` and the kernel's
//! restart codes a tracer can see (512 to 516).
//!
//! Does not promise: names for the 32-bit (`int 0x80`) or x32 tables.

use std::sync::OnceLock;

/// The call numbered `nr`, `None` when unnamed.
pub(super) fn syscall(nr: u64) -> Option<&'static str> {
    static BY_NUMBER: OnceLock<Vec<&'static str>> = OnceLock::new();
    named(
        BY_NUMBER.get_or_init(|| NAMES.split_whitespace().collect()),
        nr,
    )
}

/// The errno numbered `number`, `None` when unnamed.
pub(super) fn errno(number: i64) -> Option<&'static str> {
    match number {
        512 => Some("ERESTARTSYS"),
        513 => Some("ERESTARTNOINTR"),
        514 => Some("ERESTARTNOHAND"),
        515 => Some("ENOIOCTLCMD"),
        516 => Some("ERESTART_RESTARTBLOCK"),
        _ => u64::try_from(number).ok().and_then(|n| named(errnos(), n)),
    }
}

/// The number of the errno named `name`.
pub(super) fn errno_number(name: &str) -> Option<i64> {
    errnos()
        .iter()
        .position(|&n| n == name && n != UNNAMED)
        .and_then(|n| i64::try_from(n).ok())
}

fn errnos() -> &'static [&'static str] {
    static BY_NUMBER: OnceLock<Vec<&'static str>> = OnceLock::new();
    BY_NUMBER.get_or_init(|| ERRNOS.split_whitespace().collect())
}

/// The name at `number` of a list, `None` past its end or where it is
/// [`UNNAMED`].
fn named(names: &[&'static str], number: u64) -> Option<&'static str> {
    usize::try_from(number)
        .ok()
        .and_then(|n| names.get(n))
        .copied()
        .filter(|&name| name != UNNAMED)
}

/// A number without a name, in the lists below.
const UNNAMED: &str = "-";

/// The x86-64 calls, from 0, separated by white space.
const NAMES: &str = "\
     read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction \
     rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select \
     sched_yield mremap msync mincore madvise shmget shmat shmctl dup dup2 pause nanosleep \
     getitimer alarm setitimer getpid sendfile socket connect accept sendto recvfrom sendmsg \
     recvmsg shutdown bind listen getsockname getpeername socketpair setsockopt getsockopt \
     clone fork vfork execve exit wait4 kill uname semget semop semctl shmdt msgget msgsnd \
     msgrcv msgctl fcntl flock fsync fdatasync truncate ftruncate getdents getcwd chdir \
     fchdir rename mkdir rmdir creat link unlink symlink readlink chmod fchmod chown fchown \
     lchown umask gettimeofday getrlimit getrusage sysinfo times ptrace getuid syslog getgid \
     setuid setgid geteuid getegid setpgid getppid getpgrp setsid setreuid setregid \
     getgroups setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid \
     getsid capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend \
     sigaltstack utime mknod uselib personality ustat statfs fstatfs sysfs getpriority \
     setpriority sched_setparam sched_getparam sched_setscheduler sched_getscheduler \
     sched_get_priority_max sched_get_priority_min sched_rr_get_interval mlock munlock \
     mlockall munlockall vhangup modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex \
     setrlimit chroot sync acct settimeofday mount umount2 swapon swapoff reboot sethostname \
     setdomainname iopl ioperm create_module init_module delete_module get_kernel_syms \
     query_module quotactl nfsservctl getpmsg putpmsg afs_syscall tuxcall security gettid \
     readahead setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr \
     llistxattr flistxattr removexattr lremovexattr fremovexattr tkill time futex \
     sched_setaffinity sched_getaffinity set_thread_area io_setup io_destroy io_getevents \
     io_submit io_cancel get_thread_area lookup_dcookie epoll_create epoll_ctl_old \
     epoll_wait_old remap_file_pages getdents64 set_tid_address restart_syscall semtimedop \
     fadvise64 timer_create timer_settime timer_gettime timer_getoverrun timer_delete \
     clock_settime clock_gettime clock_getres clock_nanosleep exit_group epoll_wait \
     epoll_ctl tgkill utimes vserver mbind set_mempolicy get_mempolicy mq_open mq_unlink \
     mq_timedsend mq_timedreceive mq_notify mq_getsetattr kexec_load waitid add_key \
     request_key keyctl ioprio_set ioprio_get inotify_init inotify_add_watch \
     inotify_rm_watch migrate_pages openat mkdirat mknodat fchownat futimesat newfstatat \
     unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll unshare \
     set_robust_list get_robust_list splice tee sync_file_range vmsplice move_pages \
     utimensat epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime \
     timerfd_gettime accept4 signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 \
     preadv pwritev rt_tgsigqueueinfo perf_event_open recvmmsg fanotify_init fanotify_mark \
     prlimit64 name_to_handle_at open_by_handle_at clock_adjtime syncfs sendmmsg setns \
     getcpu process_vm_readv process_vm_writev kcmp finit_module sched_setattr sched_getattr \
     renameat2 seccomp getrandom memfd_create kexec_file_load bpf execveat userfaultfd \
     membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect pkey_alloc pkey_free \
     statx io_pgetevents rseq - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - \
     - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - \
     - - - - - - - - - - - - - - pidfd_send_signal io_uring_setup io_uring_enter \
     io_uring_register open_tree move_mount fsopen fsconfig fsmount fspick pidfd_open clone3 \
     close_range openat2 pidfd_getfd faccessat2 process_madvise epoll_pwait2 mount_setattr \
     quotactl_fd landlock_create_ruleset landlock_add_rule landlock_restrict_self \
     memfd_secret process_mrelease futex_waitv set_mempolicy_home_node cachestat fchmodat2 \
     map_shadow_stack futex_wake futex_wait futex_requeue statmount listmount \
     lsm_get_self_attr lsm_set_self_attr lsm_list_modules mseal setxattrat getxattrat \
     listxattrat removexattrat open_tree_attr";

/// The errnos, from 0, separated by white space.
const ERRNOS: &str = "\
     - EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES \
     EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY \
     ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK \
     ENOSYS ENOTEMPTY ELOOP - ENOMSG EIDRM ECHRNG EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH \
     ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME \
     ENOSR ENONET ENOPKG EREMOTE ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG \
     EOVERFLOW ENOTUNIQ EBADFD EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ \
     ERESTART ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT \
     EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE \
     EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN \
     ENOTCONN ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED EHOSTDOWN EHOSTUNREACH EALREADY \
     EINPROGRESS ESTALE EUCLEAN ENOTNAM ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM \
     EMEDIUMTYPE ECANCELED ENOKEY EKEYEXPIRED EKEYREVOKED EKEYREJECTED EOWNERDEAD \
     ENOTRECOVERABLE ERFKILL EHWPOISON";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_the_oracle_reads_have_their_x86_64_numbers() {
        let known = [
            (0, "read"),
            (1, "write"),
            (2, "open"),
            (3, "close"),
            (74, "fsync"),
            (82, "rename"),
            (90, "chmod"),
            (91, "fchmod"),
            (257, "openat"),
            (262, "newfstatat"),
            (316, "renameat2"),
            (332, "statx"),
            (435, "clone3"),
            (452, "fchmodat2"),
        ];
        for (nr, name) in known {
            assert_eq!(syscall(nr), Some(name), "{nr}");
        }
        assert_eq!(syscall(340), None);
        assert_eq!(syscall(u64::MAX), None);
    }

    #[test]
    fn errnos_are_named_both_ways() {
        assert_eq!(errno(5), Some("EIO"));
        assert_eq!(errno(28), Some("ENOSPC"));
        assert_eq!(errno(122), Some("EDQUOT"));
        assert_eq!(errno(512), Some("ERESTARTSYS"));
        assert_eq!(errno(41), None);
        for name in ["EIO", "ENOSPC", "EDQUOT", "ENOENT"] {
            assert_eq!(errno_number(name).and_then(errno), Some(name));
        }
        assert_eq!(errno_number("EWHATEVER"), None);
    }
}
