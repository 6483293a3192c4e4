//! The temporary root a run's cases work under, and its removal.
//!
//! Removing thousands of case directories takes this kind of disk most
//! of a second (an ext4 mounted with `discard` waits for each freed
//! block), nearly all of it waiting, not computing. So a case's own
//! directories are removed by a thread of their own as soon as the case
//! has ended, while the next cases run, and only what is left is removed
//! at the end.
//!
//! Promises: a directory given to [`Root::sweep`] is removed, whatever
//! modes its cases left on it (unreadable directories, FIFOs), before the
//! [`Root`] is dropped; dropping the root removes everything under it
//! and returns once it is gone. A directory that cannot be removed
//! (something still writes in it) is left to the removal at the end.
//!
//! Does not promise: when a swept directory goes, only that it is gone
//! once the root is.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::thread::{self, JoinHandle};
use std::time::{SystemTime, UNIX_EPOCH};

/// The temporary root of a run, removed when dropped.
pub struct Root {
    path: PathBuf,
    /// The directories to remove, to the sweeping thread; `None` when
    /// there is none, and once it is told to end.
    swept: Option<Sender<PathBuf>>,
    sweeper: Option<JoinHandle<()>>,
}

impl Root {
    /// A fresh root in the temporary directory.
    pub fn new() -> Result<Root, String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("lifecycle-check-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| {
            format!(
                "cannot make a directory for the cases at {}: {e}",
                path.display()
            )
        })?;
        let (tx, rx) = mpsc::channel::<PathBuf>();
        // Without the thread, everything waits for the end.
        let sweeper = thread::Builder::new()
            .name("sweeper".into())
            .spawn(move || {
                for dir in rx {
                    remove_all(&dir);
                }
            })
            .ok();
        Ok(Root {
            path,
            swept: sweeper.is_some().then_some(tx),
            sweeper,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes `dirs`, directories of a case that has ended, while the
    /// run goes on.
    pub fn sweep(&self, dirs: Vec<PathBuf>) {
        if let Some(tx) = &self.swept {
            for dir in dirs {
                // A sweeper gone leaves them to the end.
                let _ = tx.send(dir);
            }
        }
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // The sweeper ends once it has removed what it was given.
        self.swept = None;
        if let Some(sweeper) = self.sweeper.take() {
            let _ = sweeper.join();
        }
        remove_all(&self.path);
    }
}

/// Removes `dir` and everything under it, whatever modes cases left on
/// its directories; what cannot be removed stays.
fn remove_all(dir: &Path) {
    let _ = make_writable(dir);
    let _ = std::fs::remove_dir_all(dir);
}

fn make_writable(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let meta = std::fs::symlink_metadata(entry.path())?;
        if meta.is_dir() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o700))?;
            make_writable(&entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A directory a case could leave: a file in a subdirectory made
    /// unreadable and unwritable.
    fn left_by_a_case(dir: &Path) {
        let inner = dir.join("state");
        std::fs::create_dir_all(&inner).expect("make a case directory");
        std::fs::write(inner.join("lifecycle_state.json"), "{}").expect("write a file");
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o000))
            .expect("chmod 000");
    }

    #[test]
    fn a_swept_directory_is_gone_before_the_root_and_the_root_goes_with_the_rest() {
        let root = Root::new().expect("a root");
        let swept = root.path().join("case-0");
        let kept = root.path().join("case-1");
        left_by_a_case(&swept);
        left_by_a_case(&kept);
        root.sweep(vec![swept.clone()]);
        // The sweeper removes it while the run goes on.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while swept.exists() && std::time::Instant::now() < deadline {
            thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(!swept.exists(), "the swept directory is still there");
        assert!(kept.exists(), "a directory not swept went early");
        let path = root.path().to_path_buf();
        drop(root);
        assert!(!path.exists(), "the root is still there");
    }

    #[test]
    fn what_is_still_to_sweep_when_the_root_is_dropped_is_gone_with_it() {
        let root = Root::new().expect("a root");
        let dirs: Vec<PathBuf> = (0..50)
            .map(|n| root.path().join(format!("case-{n}")))
            .collect();
        for dir in &dirs {
            left_by_a_case(dir);
        }
        root.sweep(dirs);
        let path = root.path().to_path_buf();
        drop(root);
        assert!(!path.exists(), "the root is still there");
    }
}
