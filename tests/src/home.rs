//! A throwaway home folder with its own XDG folders, so an app or CLI under test never reads or
//! writes the user's files, and two tests never share state.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// Cheap to clone: the app and the CLI of one test share a home (and so one session).
#[derive(Debug, Clone)]
pub struct TestHome {
    root: std::sync::Arc<TempDir>,
}

impl TestHome {
    pub fn new() -> anyhow::Result<Self> {
        let root = tempfile::Builder::new().prefix("careid-home-").tempdir()?;
        let home = Self {
            root: std::sync::Arc::new(root),
        };
        for (_, dir) in home.env() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(home)
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// careid's own configuration folder (`CAREID_CONFIG_DIR`), for profiles.
    pub fn config_dir(&self) -> PathBuf {
        self.path().join("careid-config")
    }

    /// Variables that point every per-user folder into this home.
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let root = self.path();
        vec![
            ("HOME", root.to_path_buf()),
            ("XDG_CONFIG_HOME", root.join(".config")),
            ("XDG_DATA_HOME", root.join(".local/share")),
            ("XDG_CACHE_HOME", root.join(".cache")),
            ("XDG_STATE_HOME", root.join(".local/state")),
            ("CAREID_CONFIG_DIR", self.config_dir()),
        ]
    }

    /// The keychain service name careid uses in this home, so tests never see each other's
    /// entries (and the app and the CLI of one home share theirs).
    pub fn keychain_service(&self) -> String {
        let unique = self
            .path()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("careid-e2e-{unique}")
    }

    /// Where the desktop app writes its log file (Tauri's `app_log_dir` on Linux).
    pub fn desktop_log_dir(&self) -> PathBuf {
        Self::desktop_log_dir_in(self.path())
    }

    /// [`Self::desktop_log_dir`] of the home at `root`.
    pub fn desktop_log_dir_in(root: &Path) -> PathBuf {
        root.join(".local/share/org.careid.desktop/logs")
    }
}

/// A run plan in `home`'s plans folder (`plans/authenticators.toml`) for the app's Runs page:
/// three cases on the built-in mock signed in without a page, the second with a step only a
/// person can confirm, the third refused (an AAL2 authenticator at AAL3) as careid expects;
/// and the testers' view switched on, where the page is linked.
pub fn add_demo_run_plan(home: &TestHome) -> anyhow::Result<()> {
    let config = home.config_dir();
    std::fs::create_dir_all(config.join("plans"))?;
    std::fs::write(
        config.join("plans/authenticators.toml"),
        r#"name = "Authenticators at AAL3"
description = "A clinician's smartcard, security key and authenticator app, each asked for AAL3"
profile = "mock"
expected_failures = "known.toml"

[mock]
user = "555057900101"

[matrix]
authenticator = ["smartcard", "security_key", "authenticator_app"]
acr_values = ["AAL3_ANY"]

[[case]]
match = "smartcard-*"
amr = ["SCARD"]

[[case]]
match = "security_key-*"
review = ["The security key asked for its PIN"]
"#,
    )?;
    std::fs::write(
        config.join("plans/known.toml"),
        r#"[[expected_failure]]
case = "smartcard-*"
check = "amr"
comment = "CIS2 says N3_SMARTCARD, not SCARD, for a smartcard"
"#,
    )?;
    std::fs::write(config.join("desktop.json"), r#"{ "testersView": true }"#)?;
    Ok(())
}
