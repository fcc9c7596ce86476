//! The last role each user chose on each profile (PRODUCT step 8), kept across sign-outs in
//! `<state folder>/roles.json`. Role ids are not secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// profile → user id (`sub`) → `person_roleid`.
type Choices = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Debug, Clone)]
pub struct RememberedRoles {
    path: PathBuf,
}

impl RememberedRoles {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("roles.json"),
        }
    }

    pub fn get(&self, profile: &str, sub: &str) -> Option<String> {
        self.read().get(profile)?.get(sub).cloned()
    }

    /// Remembers a choice. Failing to write only loses a convenience, so it is logged, not
    /// returned.
    pub fn set(&self, profile: &str, sub: &str, role_id: &str) {
        let mut choices = self.read();
        choices
            .entry(profile.to_owned())
            .or_default()
            .insert(sub.to_owned(), role_id.to_owned());
        if let Err(error) = self.write(&choices) {
            tracing::warn!(
                "cannot remember the role choice in {}: {error}",
                self.path.display()
            );
        }
    }

    /// A missing or damaged file remembers nothing.
    fn read(&self) -> Choices {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn write(&self, choices: &Choices) -> std::io::Result<()> {
        crate::files::write_atomically(&self.path, &serde_json::to_vec_pretty(choices)?)
    }
}
