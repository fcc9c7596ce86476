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

/// `text` in `dir/name`, owner-only, as a credential file must be: mode 0600 on Unix; on Windows
/// as written (the user's folders are private by their inherited ACLs).
pub fn owner_only_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    #[cfg(unix)]
    {
        file_with_mode(dir, name, text, 0o600)
    }
    #[cfg(not(unix))]
    {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("the file written");
        path
    }
}
