//! The adapters a run keeps as templates to fork the replays of `kill`
//! and `faults` from (`adapter::Template`), shared by its cases.
//!
//! Promises: a template given back is handed to the next case's runner
//! that asks for one of the same traced command, so a run starts about one
//! per runner rather than one per case; one no longer usable (a copy left
//! something behind, a fork refused) is not kept. A command whose adapter
//! cannot be forked is remembered for the run, and no more templates of it
//! are started.
//!
//! Does not promise: which runner gets which template.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::adapter::Template;

#[derive(Default)]
pub struct Templates {
    /// Templates not in use, with their traced command.
    idle: Mutex<Vec<(String, Template)>>,
    /// The traced commands whose adapter cannot be forked.
    unforked: Mutex<HashSet<String>>,
}

impl Templates {
    /// Whether `command`'s adapter may be forked: until one of its
    /// templates could not be.
    pub fn forks(&self, command: &str) -> bool {
        let unforked = self.unforked.lock().unwrap_or_else(|p| p.into_inner());
        !unforked.contains(command)
    }

    /// `command`'s adapter cannot be forked.
    pub fn not_forked(&self, command: &str) {
        let mut unforked = self.unforked.lock().unwrap_or_else(|p| p.into_inner());
        unforked.insert(command.to_string());
    }

    /// A template of `command` not in use, if one is kept.
    pub fn take(&self, command: &str) -> Option<Template> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let at = idle.iter().position(|(kept, _)| kept == command)?;
        Some(idle.swap_remove(at).1)
    }

    /// Keeps `template` of `command` for the next case, if it is usable.
    pub fn give_back(&self, command: &str, template: Template) {
        if template.usable() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push((command.to_string(), template));
        }
    }
}
