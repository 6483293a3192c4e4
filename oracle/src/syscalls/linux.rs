//! Linux's flag and argument values that the conversion reads.
//!
//! Promises: the values of the asm-generic headers, which x86-64, arm64 and
//! riscv64 share, as `strace -X raw` prints them.
//!
//! Does not promise: the values of other architectures (alpha, mips,
//! parisc, sparc number some of these differently).

pub const O_WRONLY: i64 = 0o1;
pub const O_CREAT: i64 = 0o100;
pub const O_EXCL: i64 = 0o200;
pub const O_TRUNC: i64 = 0o1000;
pub const O_APPEND: i64 = 0o2000;
/// The bit that makes `O_TMPFILE` of `O_DIRECTORY`.
pub const O_TMPFILE_BIT: i64 = 0o20000000;
pub const AT_FDCWD: i64 = -100;
pub const AT_REMOVEDIR: i64 = 0x200;
pub const AT_SYMLINK_FOLLOW: i64 = 0x400;
pub const AT_EMPTY_PATH: i64 = 0x1000;
pub const RENAME_NOREPLACE: i64 = 1;
pub const RENAME_EXCHANGE: i64 = 2;
pub const RENAME_WHITEOUT: i64 = 4;
pub const CLONE_FILES: i64 = 0x400;
pub const CLONE_THREAD: i64 = 0x10000;
pub const F_DUPFD: i64 = 0;
pub const F_SETFL: i64 = 4;
pub const F_DUPFD_CLOEXEC: i64 = 1030;
/// F_GETFD, F_SETFD, F_GETFL, the record locks (also their 64-bit
/// numbers on 32-bit systems), the open file description locks,
/// F_GETOWN, F_GETSIG, F_GETPIPE_SZ and F_GET_SEALS: they change no
/// file.
pub const F_HARMLESS: [i64; 16] = [1, 2, 3, 5, 6, 7, 9, 11, 12, 13, 14, 36, 37, 38, 1032, 1034];
pub const PROT_WRITE: i64 = 0x2;
pub const MAP_TYPE: i64 = 0xf;
pub const MAP_SHARED: i64 = 0x1;
pub const MAP_SHARED_VALIDATE: i64 = 0x3;
pub const RWF_APPEND: i64 = 0x10;
pub const CLOSE_RANGE_UNSHARE: i64 = 0x2;
pub const CLOSE_RANGE_CLOEXEC: i64 = 0x4;
