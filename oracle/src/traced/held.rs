//! What the record path holds, on the real disk or in a disk of the
//! persistence model, and which of those a save may leave.
//!
//! Promises: [`Held`] is what the record path resolves to, as the traced
//! suites judge it (nothing, a directory, or a file with its mode and
//! bytes; a symlink at the path is followed, as a load follows it), read
//! from the real disk ([`Held::read`]) or from a model disk
//! ([`Held::of`]), and put on a real disk again ([`materialize`]) so an
//! adapter can load it; [`allowed`] says whether an interrupted or finished
//! save may leave it (the old record or the complete new one, 0600);
//! [`Link`] says whether a symlink is at the path (which side of the §7
//! point a save took: replace the symlink, or the file it points to).
//! Records compare by requirements §7 (timestamps as instants, unknown
//! members as JSON values).
//!
//! Does not promise: anything about the other files of the directory; the
//! suites judge leftovers themselves.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use lifecycle_harness::invariants::RECORD_0600;
use lifecycle_harness::{compare, report, Finding, Rules, World};
use lifecycle_model::persistence::{Disk, Node};
use lifecycle_model::spec::{DIR_MODE, FILE_MODE, RECORD_FILE_NAME};
use lifecycle_model::writer::Found;
use lifecycle_model::Record;

use crate::case::FIXED_NOW;

/// What the record path holds in a disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Held {
    Nothing,
    Directory,
    File { mode: u32, data: Vec<u8> },
}

/// Whether a symlink is at the record path, and to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    None,
    To(String),
}

impl Link {
    /// What is at `record_path` of a model disk.
    pub fn of(disk: &Disk, record_path: &str) -> Link {
        match disk.nodes.get(record_path) {
            Some(Node::Symlink { target }) => Link::To(target.clone()),
            _ => Link::None,
        }
    }

    /// Which side of the §7 point of a symlink at the record path a save
    /// took, when this is what is at the path after it.
    pub fn side_taken(&self) -> String {
        match self {
            Link::To(target) => {
                format!("replaced the file it points to ({target}), keeping the symlink")
            }
            Link::None => "replaced the symlink with the record file".to_string(),
        }
    }
}

/// The path a symlink at `path` holding `target` leads to.
fn through(path: &str, target: &str) -> String {
    if target.starts_with('/') {
        return target.to_string();
    }
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/').chain(target.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

impl Held {
    /// What `record_path` of a model disk resolves to.
    pub fn of(disk: &Disk, record_path: &str) -> Held {
        let mut path = record_path.to_string();
        // Linux gives up after 40 links; a longer chain resolves to nothing.
        for _ in 0..40 {
            match disk.nodes.get(&path) {
                None => return Held::Nothing,
                Some(Node::Dir { .. }) => return Held::Directory,
                Some(Node::File { mode, data, .. }) => {
                    return Held::File {
                        mode: *mode,
                        data: data.clone(),
                    }
                }
                Some(Node::Symlink { target }) => path = through(&path, target),
            }
        }
        Held::Nothing
    }

    /// What `dir`'s record path resolves to on the real disk.
    pub fn read(dir: &Path) -> std::io::Result<Held> {
        let path = dir.join(RECORD_FILE_NAME);
        match fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Held::Nothing),
            Err(e) => Err(e),
            Ok(meta) if meta.is_dir() => Ok(Held::Directory),
            Ok(meta) => Ok(Held::File {
                mode: meta.permissions().mode() & 0o7777,
                data: fs::read(&path)?,
            }),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Held::Nothing => "no file".to_string(),
            Held::Directory => "a directory".to_string(),
            Held::File { mode, data } => match lifecycle_model::record::decode(data) {
                Ok(_) => format!("a file of mode {mode:o} holding {}", report::excerpt(data)),
                // A torn or mixed file: where it breaks first.
                Err(corrupt) => format!(
                    "a file of mode {mode:o} that breaks {} ({})",
                    compare::breaks(data, &corrupt),
                    compare::whole_file(data)
                ),
            },
        }
    }

    /// What the model's load reads there.
    pub fn found(&self) -> Found {
        match self {
            Held::Nothing => Found::Missing,
            Held::Directory => Found::Unreadable,
            Held::File { data, .. } => Found::of_bytes(data),
        }
    }

    /// Whether it is a record file of a mode other than 0600 (SPEC §3.6).
    pub fn mode_is_wrong(&self) -> bool {
        matches!(self, Held::File { mode, .. } if *mode != FILE_MODE)
    }
}

/// Why the record path may not hold what it holds: the rule it breaks and
/// how (for the report's groups), and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub spec: &'static str,
    pub rule: &'static str,
    pub how: String,
    pub why: String,
}

impl Broken {
    /// The violation of this rule, `message` saying what happened.
    pub fn violation(self, message: String) -> Finding {
        Finding::violation(self.spec, self.rule, message).broken_by(self.how)
    }
}

/// How a record file came to have `mode` (not 0600), in words that do not
/// depend on the case: the mode of the record it replaced, 0600 less the
/// umask (nothing `fchmod`ed the temp file), or another.
pub fn mode_origin(mode: u32, old: &Held, umask: u32) -> &'static str {
    match old {
        Held::File { mode: old_mode, .. } if *old_mode == mode => {
            "the mode of the record it replaced, kept"
        }
        _ if umask & FILE_MODE != 0 && mode == FILE_MODE & !umask => {
            "0600 less the umask: nothing set the mode after the umask took bits"
        }
        _ if mode & !FILE_MODE != 0 => WIDER_FILE,
        _ => NARROWER_FILE,
    }
}

/// A mode in the words of [`lifecycle_harness::invariants::wider_or_narrower`]:
/// the judges here know more (the umask, the old record's mode), and when
/// that tells nothing they say it as the harness does, so that their
/// findings and the harness's make one group.
const WIDER_FILE: &str = "a mode wider than 0600";
const NARROWER_FILE: &str = "a mode narrower than 0600";
pub const WIDER_DIR: &str = "a mode wider than 0700";
const NARROWER_DIR: &str = "a mode narrower than 0700";

/// How a directory a save made came to have `mode` (not 0700): 0700 less
/// the umask, or another.
pub fn dir_mode_origin(mode: u32, umask: u32) -> &'static str {
    if umask & DIR_MODE != 0 && mode == DIR_MODE & !umask {
        "0700 less the umask: nothing set the mode after the umask took bits"
    } else if mode & !DIR_MODE != 0 {
        WIDER_DIR
    } else {
        NARROWER_DIR
    }
}

/// Whether the record path may hold `held`: what it held before (`old`,
/// its mode included, whatever it was) unless `returned`, or the new
/// record, 0600. The crash suites run the adapter under its own umask,
/// which leaves 0600 whole.
pub fn allowed(held: &Held, old: &Held, new: &Record, returned: bool) -> Result<(), Broken> {
    match held {
        _ if !returned && held == old => Ok(()),
        // The old record back after the save returned is a save that was
        // not durable, whatever its mode.
        _ if returned && held == old => Err(not_durable()),
        Held::File { mode, .. } if *mode != FILE_MODE => Err(Broken {
            spec: "§3.6",
            rule: RECORD_0600,
            how: mode_origin(*mode, old, 0).to_string(),
            why: format!("the record file has mode {mode:o}, not {FILE_MODE:o}"),
        }),
        Held::File { data, .. } if holds(data, new) => Ok(()),
        _ if returned => Err(not_durable()),
        _ => Err(Broken {
            spec: "§3.4.1",
            rule: "a save is atomic: the record path holds the complete old record or the complete new one",
            how: String::new(),
            why: "only the complete old record or the complete new one may be there".into(),
        }),
    }
}

fn not_durable() -> Broken {
    Broken {
        spec: "§3.4.2",
        rule: "once save returns success, the new record survives a power loss",
        how: String::new(),
        why: "the save had returned success, so only the new record may be there".into(),
    }
}

/// Whether `data` is `record` (timestamps as instants, unknown members
/// as JSON values: requirements §7).
pub fn holds(data: &[u8], record: &Record) -> bool {
    let world = World::new(FIXED_NOW, Found::Missing).with_rules(Rules::Requirements);
    lifecycle_model::record::decode(data).is_ok_and(|d| compare::same_record(&world, record, &d))
}

/// Puts what `held` says at the record path of a fresh directory.
pub fn materialize(dir: &Path, held: &Held) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    let path = dir.join(RECORD_FILE_NAME);
    match held {
        Held::Nothing => Ok(()),
        Held::Directory => fs::DirBuilder::new().mode(DIR_MODE).create(&path),
        Held::File { mode, data } => {
            fs::write(&path, data)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(*mode))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_harness::invariants::wider_or_narrower;

    #[test]
    fn a_mode_is_said_in_the_harness_words_so_both_judges_make_one_group() {
        assert_eq!(WIDER_FILE, wider_or_narrower(0o644, FILE_MODE));
        assert_eq!(NARROWER_FILE, wider_or_narrower(0o400, FILE_MODE));
        assert_eq!(WIDER_DIR, wider_or_narrower(0o755, DIR_MODE));
        assert_eq!(NARROWER_DIR, wider_or_narrower(0o500, DIR_MODE));
        let old = Held::File {
            mode: 0o644,
            data: Vec::new(),
        };
        assert_eq!(
            mode_origin(0o644, &old, 0o022),
            "the mode of the record it replaced, kept"
        );
        assert_eq!(
            mode_origin(0o400, &Held::Nothing, 0o277),
            "0600 less the umask: nothing set the mode after the umask took bits"
        );
        assert_eq!(mode_origin(0o640, &old, 0o022), WIDER_FILE);
        assert_eq!(
            dir_mode_origin(0o600, 0o177),
            "0700 less the umask: nothing set the mode after the umask took bits"
        );
        assert_eq!(dir_mode_origin(0o755, 0o022), WIDER_DIR);
    }
}
