//! What the desktop app remembers across launches: the profile in use and the testers' view.
//! A small JSON file in the config folder, written the one way careid writes files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ipc::Preferences;

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Remembered {
    #[serde(flatten)]
    pub shown: Preferences,
    /// The profile in use when the app last changed it.
    pub profile: Option<String>,
}

#[derive(Debug)]
pub struct PreferencesFile {
    path: PathBuf,
}

impl PreferencesFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// A missing or damaged file remembers nothing.
    pub fn load(&self) -> Remembered {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, shown: &Preferences, profile: &str) -> std::io::Result<()> {
        let remembered = Remembered {
            shown: shown.clone(),
            profile: Some(profile.to_owned()),
        };
        let bytes = serde_json::to_vec_pretty(&remembered)?;
        careid_core::files::write_atomically(&self.path, &bytes)
    }
}
