//! Files a test writes for the code under test: keys and secrets careid and the broker read only
//! when no one else can.

use std::path::{Path, PathBuf};

/// `text` in `dir/name` with permission bits `mode`.
#[cfg(unix)]
pub fn file_with_mode(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the file written");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .expect("the file's mode set");
    path
}

/// `text` in `dir/name`, owner-only (0600), as a credential file must be.
#[cfg(unix)]
pub fn owner_only_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    file_with_mode(dir, name, text, 0o600)
}
