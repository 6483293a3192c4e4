//! The leanest file system the store can load and save on: one directory of
//! files in memory, nothing logged, nothing durable to lose.
//!
//! The fuzz targets that load and save a file per input run on this instead
//! of [`crate::SimFs`] (which keeps a tree, a log and a durable copy of
//! every file), so the fuzzer spends its time in the store's decoder and
//! encoder. Clones share one directory.
//!
//! Promises: the calls of [`Fs`] behave as on a real directory for paths
//! inside [`DIR`] (exclusive create, write at an offset, rename over, list,
//! bounded read of a regular file); a path elsewhere is `NotFound`, a
//! directory cannot be made or removed, and the lock is always free.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use lifecycle_state::fs::{Fs, LockError};

/// The one directory.
pub const DIR: &str = "/m";

type Files = BTreeMap<String, (u32, Arc<Vec<u8>>)>;

#[derive(Clone, Default)]
pub struct MemFs {
    files: Rc<RefCell<Files>>,
}

/// An open file of [`MemFs`]: its name.
pub struct MemFile(String);

/// The name of a path in [`DIR`], borrowed when it is UTF-8 (as the store's
/// names are): the fuzz targets make several calls per input.
fn name_of(path: &Path) -> io::Result<Cow<'_, str>> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if dir == Path::new(DIR) => Ok(name.to_string_lossy()),
        _ => Err(io::ErrorKind::NotFound.into()),
    }
}

impl MemFs {
    pub fn put(&self, name: &str, data: &[u8], mode: u32) {
        self.put_shared(name, Arc::new(data.to_vec()), mode);
    }

    /// Puts a file whose contents the caller holds too, without copying
    /// them (a file of a mebibyte is common in the fuzz targets).
    pub fn put_shared(&self, name: &str, data: Arc<Vec<u8>>, mode: u32) {
        self.files
            .borrow_mut()
            .insert(name.to_string(), (mode, data));
    }

    pub fn remove(&self, name: &str) {
        self.files.borrow_mut().remove(name);
    }

    /// Removes every file.
    pub fn clear(&self) {
        self.files.borrow_mut().clear();
    }

    /// Every file: name, mode, contents.
    pub fn files(&self) -> Vec<(String, u32, Arc<Vec<u8>>)> {
        self.files
            .borrow()
            .iter()
            .map(|(name, (mode, data))| (name.clone(), *mode, Arc::clone(data)))
            .collect()
    }
}

impl Fs for MemFs {
    type File = MemFile;
    type Lock = ();

    fn create_exclusive(&self, path: &Path, mode: u32) -> io::Result<MemFile> {
        let name = name_of(path)?;
        let mut files = self.files.borrow_mut();
        if files.contains_key(name.as_ref()) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        let name = name.into_owned();
        files.insert(name.clone(), (mode, Arc::new(Vec::new())));
        Ok(MemFile(name))
    }

    fn write_at(&self, file: &mut MemFile, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut files = self.files.borrow_mut();
        let (_, contents) = files
            .get_mut(&file.0)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let contents = Arc::make_mut(contents);
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let end = start + data.len();
        if contents.len() < end {
            contents.resize(end, 0);
        }
        contents[start..end].copy_from_slice(data);
        Ok(())
    }

    fn sync_file(&self, _: &mut MemFile) -> io::Result<()> {
        Ok(())
    }

    fn close(&self, _: MemFile) -> io::Result<()> {
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (name_of(from)?, name_of(to)?);
        let mut files = self.files.borrow_mut();
        let file = files
            .remove(from.as_ref())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        files.insert(to.into_owned(), file);
        Ok(())
    }

    fn sync_dir(&self, _: &Path) -> io::Result<()> {
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        match self.files.borrow_mut().remove(name_of(path)?.as_ref()) {
            Some(_) => Ok(()),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }

    fn create_dir(&self, path: &Path, _: u32) -> io::Result<()> {
        if path == Path::new(DIR) {
            Err(io::ErrorKind::AlreadyExists.into())
        } else {
            Err(io::ErrorKind::Unsupported.into())
        }
    }

    fn remove_dir(&self, _: &Path) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    fn read_bounded(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let files = self.files.borrow();
        let (_, data) = files
            .get(name_of(path)?.as_ref())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let n = usize::try_from(limit).unwrap_or(usize::MAX).min(data.len());
        Ok(data[..n].to_vec())
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        if dir != Path::new(DIR) {
            return Err(io::ErrorKind::NotFound.into());
        }
        Ok(self.files.borrow().keys().map(OsString::from).collect())
    }

    fn try_lock(&self, _: &Path) -> Result<(), LockError> {
        Ok(())
    }
}
