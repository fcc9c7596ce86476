//! The session lock: one process at a time changes a profile's session (refreshes it, records
//! activity, saves or clears it), so the CLI and the desktop app never spend the same refresh
//! token twice nor write over each other's state file.
//!
//! An advisory lock on `<state folder>/<profile>.lock` through `File::try_lock`, which is
//! `flock(2)` on Linux and `LockFileEx` on Windows. Both belong to the open file, not the
//! process, so two handles in one process exclude each other too, and the system releases the
//! lock when the process dies, so a crash never leaves it held.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::session::{check_profile_name, SessionError};

/// Held while a profile's session is changed; released when dropped.
#[derive(Debug)]
pub struct SessionLock {
    file: File,
    path: PathBuf,
    profile: String,
}

impl SessionLock {
    /// Takes the session lock of `profile` under `state_dir`, waiting at most `timeout` for
    /// another process to finish its change. A zero timeout tries once.
    pub fn acquire(
        state_dir: &Path,
        profile: &str,
        timeout: Duration,
    ) -> Result<Self, SessionError> {
        check_profile_name(profile)?;
        let path = state_dir.join(format!("{profile}.lock"));
        let started = Instant::now();
        let file =
            crate::files::lock_file(&path, timeout).map_err(|source| SessionError::Lock {
                path: path.clone(),
                source,
            })?;
        match file {
            Some(file) => Ok(Self {
                file,
                path,
                profile: profile.to_owned(),
            }),
            None => Err(SessionError::LockTimeout {
                profile: profile.to_owned(),
                waited: started.elapsed(),
            }),
        }
    }

    /// The profile whose session this lock guards.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first says so, and releases it
        // even if a duplicate of the handle were still open somewhere.
        let _ = self.file.unlock();
    }
}
