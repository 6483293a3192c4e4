//! A real directory holding a record, seen and set from outside.
//!
//! Promises: [`RealDirectory`] lists the directory's entries (files with
//! their mode and bytes, directories with their mode; symlinks and other
//! kinds by what they are, never followed), and puts or removes an entry
//! for a test, creating the directory 0700 when it is missing. It is how
//! the oracle prepares a case for an implementation behind an adapter, and
//! how the in-process subject on a real disk does the same.
//!
//! Does not promise: atomicity or durability of its own changes: nothing
//! else runs while it makes them, and no test crashes the machine under
//! them.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lifecycle_model::spec::DIR_MODE;

use crate::subject::{Entry, Listing};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealDirectory {
    path: PathBuf,
}

impl RealDirectory {
    pub fn new(path: &Path) -> RealDirectory {
        RealDirectory {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn ensure(&self) {
        if !self.path.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(&self.path)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", self.path.display()));
        }
    }

    /// Writes `data` at `name` with exactly `mode`, replacing what is there.
    pub fn put_file(&self, name: &str, data: &[u8], mode: u32) {
        self.ensure();
        self.remove(name);
        let path = self.path.join(name);
        fs::write(&path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        // The umask may have taken bits; the test wants exactly `mode`.
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
    }

    /// A directory (0700) at `name`, replacing what is there.
    pub fn put_dir(&self, name: &str) {
        self.ensure();
        self.remove(name);
        let path = self.path.join(name);
        fs::DirBuilder::new()
            .mode(DIR_MODE)
            .create(&path)
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    }

    /// Removes `name` and everything under it, if it is there.
    pub fn remove(&self, name: &str) {
        let path = self.path.join(name);
        let removed = match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(_) => Ok(()),
        };
        removed.unwrap_or_else(|e| panic!("rm {}: {e}", path.display()));
    }

    /// The entries by name (nothing when the directory is missing).
    pub fn entries(&self) -> Listing {
        let Ok(listing) = fs::read_dir(&self.path) else {
            return Listing::new();
        };
        listing
            .filter_map(Result::ok)
            .filter_map(|e| {
                let meta = fs::symlink_metadata(e.path()).ok()?;
                let mode = meta.permissions().mode() & 0o7777;
                let kind = meta.file_type();
                let entry = if kind.is_dir() {
                    Entry::Dir { mode }
                } else if kind.is_file() {
                    // A file the oracle cannot read (mode 000 for a test
                    // not run as root) shows as empty.
                    let data = fs::read(e.path()).unwrap_or_default();
                    Entry::File {
                        mode,
                        data: Arc::new(data),
                    }
                } else if kind.is_symlink() {
                    Entry::Other {
                        what: format!(
                            "a symlink to {}",
                            fs::read_link(e.path())
                                .map(|t| t.display().to_string())
                                .unwrap_or_default()
                        ),
                    }
                } else if kind.is_fifo() {
                    Entry::Other {
                        what: "a FIFO".to_string(),
                    }
                } else {
                    Entry::Other {
                        what: "a special file".to_string(),
                    }
                };
                Some((e.file_name().to_string_lossy().into_owned(), entry))
            })
            .collect()
    }

    /// The directory's mode, when it exists.
    pub fn mode(&self) -> Option<u32> {
        let meta = fs::symlink_metadata(&self.path).ok()?;
        Some(meta.permissions().mode() & 0o7777)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_is_the_directorys_own_bits_or_none_when_it_is_not_there() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = tmp.path().join("d");
        let dir = RealDirectory::new(&path);
        assert_eq!(dir.mode(), None);
        fs::create_dir(&path).unwrap_or_else(|e| panic!("{e}"));
        for mode in [0o700, 0o2751] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(dir.mode(), Some(mode));
        }
    }

    #[test]
    fn a_real_directory_is_made_on_first_use_and_lists_exact_modes() {
        let root = tempfile::tempdir().expect("a temp dir");
        let dir = RealDirectory::new(&root.path().join("state"));
        assert!(dir.entries().is_empty(), "not there yet");
        dir.put_file("f", b"x", 0o640);
        dir.put_dir("d");
        let entries = dir.entries();
        assert_eq!(
            crate::report::listing(&entries),
            r#"{d: directory 700, f: file 640 "x"}"#
        );
        let made = fs::metadata(dir.path()).expect("made");
        assert_eq!(made.permissions().mode() & 0o777, DIR_MODE);
        dir.remove("d");
        assert_eq!(dir.entries().len(), 1);
        dir.remove("f");
        dir.remove("never there");
        assert!(dir.entries().is_empty());
    }
}
