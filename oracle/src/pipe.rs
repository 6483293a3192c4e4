//! What waits in a pipe, as the kernel counts it: the tracer asks of a
//! template's requests, the oracle of a template's output.
//!
//! Does not promise: anything about a descriptor that is not a pipe, a
//! FIFO or a socket (the kernel may refuse to say).

use std::os::fd::{AsRawFd, BorrowedFd};

/// The bytes waiting to be read from `fd` (`FIONREAD`), or `None` when the
/// kernel does not say.
pub(crate) fn waiting(fd: BorrowedFd<'_>) -> Option<usize> {
    let mut waiting: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int to `waiting`, of a descriptor open
    // for as long as it is borrowed.
    let asked = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut waiting) };
    (asked != -1).then(|| usize::try_from(waiting).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;

    #[test]
    fn what_was_written_and_not_read_is_waiting() {
        let (reader, mut writer) = std::io::pipe().expect("a pipe");
        assert_eq!(waiting(reader.as_fd()), Some(0));
        writer.write_all(b"six b\n").expect("written");
        assert_eq!(waiting(reader.as_fd()), Some(6));
    }
}
