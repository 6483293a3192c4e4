//! The disk before a save, read from the file system.
//!
//! Promises: [`disk_before`] gives the persistence model's `Disk` the
//! converter starts from: every existing directory above the record's
//! directory, and that directory with everything under it, files numbered
//! from inode 1 in path order, modes as the file system has them, symlinks
//! with their targets as `readlink` gives them.
//!
//! Does not promise: what the model cannot hold (a FIFO, a socket, a
//! device, a name or a symlink target that is not UTF-8: each is an
//! error), nor a consistent picture while another process changes the
//! directory.

use std::io;
use std::os::unix::fs::PermissionsExt;

use lifecycle_model::persistence::{Disk, InodeId, Node};

use super::paths::{normalize, parent};

/// The disk before a save into `dir`, read from the file system: every
/// existing directory above `dir`, and `dir` with everything under it (files
/// numbered from inode 1 in path order). Fails on what the model cannot
/// hold: a FIFO, a socket or a device, or a name that is not UTF-8.
pub fn disk_before(dir: &str) -> io::Result<Disk> {
    let dir =
        String::from_utf8(normalize(dir.as_bytes())).map_err(|_| unsupported(dir, "not UTF-8"))?;
    let mut disk = Disk::default();
    for ancestor in ancestors(&dir) {
        match std::fs::symlink_metadata(&ancestor) {
            Ok(meta) if meta.is_dir() => {
                let mode = meta.permissions().mode() & 0o7777;
                disk.nodes.insert(ancestor, Node::Dir { mode });
            }
            Ok(_) => return Err(unsupported(&ancestor, "not a directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(disk),
            Err(e) => return Err(e),
        }
    }
    let mut inode: InodeId = 0;
    let mut stack = vec![dir];
    while let Some(path) = stack.pop() {
        let meta = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            other => other?,
        };
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            disk.nodes.insert(path.clone(), Node::Dir { mode });
            let mut names = Vec::new();
            for entry in std::fs::read_dir(&path)? {
                let name = entry?.file_name();
                let name = name
                    .to_str()
                    .ok_or_else(|| unsupported(&path, "holds a name that is not UTF-8"))?;
                names.push(format!("{path}/{name}"));
            }
            names.sort();
            stack.extend(names.into_iter().rev());
        } else if meta.is_file() {
            inode += 1;
            let data = std::fs::read(&path)?;
            disk.nodes.insert(path, Node::File { inode, mode, data });
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            let target = target
                .to_str()
                .ok_or_else(|| unsupported(&path, "a symlink to a path that is not UTF-8"))?
                .to_string();
            disk.nodes.insert(path, Node::Symlink { target });
        } else {
            return Err(unsupported(
                &path,
                "neither a file, a directory nor a symlink, which the persistence model cannot hold",
            ));
        }
    }
    Ok(disk)
}

fn unsupported(path: &str, what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{path} is {what}"))
}

/// The directories above `dir`, outermost first, without `/`.
fn ancestors(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = parent(dir.as_bytes());
    while at != b"/" {
        out.push(String::from_utf8_lossy(at).into_owned());
        at = parent(at);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disk_before_is_read_from_the_file_system() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = tmp.path().to_str().unwrap_or_else(|| panic!("not UTF-8"));
        let dir = format!("{root}/d");
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(format!("{dir}/f"), b"x").unwrap_or_else(|e| panic!("{e}"));
        let disk = disk_before(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(disk.nodes.get(root), Some(Node::Dir { .. })));
        assert!(matches!(disk.nodes.get(&dir), Some(Node::Dir { .. })));
        assert!(matches!(
            disk.nodes.get(&format!("{dir}/f")),
            Some(Node::File { inode: 1, data, .. }) if data == b"x"
        ));
        // The directory itself missing: its parent and no more.
        let absent = disk_before(&format!("{root}/n")).unwrap_or_else(|e| panic!("{e}"));
        assert!(absent.nodes.contains_key(root));
        assert!(!absent.nodes.contains_key(&format!("{root}/n")));
        let missing = disk_before(&format!("{root}/n/d")).unwrap_or_else(|e| panic!("{e}"));
        assert!(missing.nodes.contains_key(root));
        assert!(!missing
            .nodes
            .keys()
            .any(|k| k.starts_with(&format!("{root}/n"))));
    }

    #[test]
    fn a_path_the_file_system_cannot_look_up_is_an_error_not_a_missing_file() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = tmp.path().to_str().unwrap_or_else(|| panic!("not UTF-8"));
        // A name past NAME_MAX above the directory: ENAMETOOLONG.
        let long = "n".repeat(300);
        let too_long = disk_before(&format!("{root}/{long}/d")).expect_err("a name past NAME_MAX");
        assert_eq!(
            too_long.raw_os_error(),
            Some(libc::ENAMETOOLONG),
            "{too_long}"
        );
        // Under the directory, a file whose path is past PATH_MAX (4,096
        // bytes): made with a name relative to its parent's path.
        let name = "n".repeat(250);
        let mut deep = format!("{root}/d");
        while deep.len() + name.len() + 1 < 4096 {
            deep = format!("{deep}/{name}");
        }
        std::fs::create_dir_all(&deep).unwrap_or_else(|e| panic!("{e}"));
        let made = std::process::Command::new("mkdir")
            .arg(&name)
            .current_dir(&deep)
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(made.success());
        let too_long = disk_before(&format!("{root}/d")).expect_err("a path past PATH_MAX");
        assert_eq!(
            too_long.raw_os_error(),
            Some(libc::ENAMETOOLONG),
            "{too_long}"
        );
    }

    #[test]
    fn a_file_where_a_directory_above_must_be_is_refused() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = tmp.path().to_str().unwrap_or_else(|| panic!("not UTF-8"));
        std::fs::write(format!("{root}/f"), b"x").unwrap_or_else(|e| panic!("{e}"));
        let refused = disk_before(&format!("{root}/f/d")).expect_err("a file above");
        assert!(refused.to_string().contains("not a directory"), "{refused}");
    }

    #[test]
    fn the_disk_before_holds_each_mode_as_it_is() {
        use std::fs::{set_permissions, Permissions};
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = tmp.path().to_str().unwrap_or_else(|| panic!("not UTF-8"));
        let dir = format!("{root}/d");
        let sub = format!("{dir}/s");
        let file = format!("{sub}/f");
        std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&file, b"x").unwrap_or_else(|e| panic!("{e}"));
        for (path, mode) in [
            (&dir, 0o700),
            (&sub, 0o2755),
            (&file, 0o640),
            (&root.to_string(), 0o751),
        ] {
            set_permissions(path, Permissions::from_mode(mode)).unwrap_or_else(|e| panic!("{e}"));
        }
        let disk = disk_before(&dir).unwrap_or_else(|e| panic!("{e}"));
        let mode = |path: &str| match disk.nodes.get(path) {
            Some(Node::Dir { mode } | Node::File { mode, .. }) => Some(*mode),
            _ => None,
        };
        assert_eq!(mode(root), Some(0o751));
        assert_eq!(mode(&dir), Some(0o700));
        assert_eq!(mode(&sub), Some(0o2755));
        assert_eq!(mode(&file), Some(0o640));
    }

    #[test]
    fn the_ancestors_of_a_directory_come_outermost_first_without_the_root() {
        assert_eq!(ancestors("/a/b/c"), ["/a", "/a/b"]);
        assert!(ancestors("/a").is_empty());
    }
}
