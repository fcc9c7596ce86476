//! The session lock: one process at a time changes a profile's session (refreshes it, records
//! activity, saves or clears it), so the CLI and the desktop app never spend the same refresh
//! token twice nor write over each other's state file.
//!
//! An advisory lock on `<state folder>/<profile>.lock` through `File::try_lock`, which is
//! `flock(2)` on Linux and `LockFileEx` on Windows. Both belong to the open file, not the
//! process, so two handles in one process exclude each other too, and the system releases the
//! lock when the process dies, so a crash never leaves it held.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::session::{check_profile_name, SessionError};

/// How long to sleep between attempts while another process holds the lock. A refresh takes a
/// round trip to the provider, so polling faster would only burn the CPU.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

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
        let lock_error = |source| SessionError::Lock {
            path: path.clone(),
            source,
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(state_dir).map_err(lock_error)?;
        // The lock file is never deleted: removing it while another process waits on the old
        // inode would let two processes hold "the" lock at once.
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(lock_error)?;

        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Self {
                        file,
                        path,
                        profile: profile.to_owned(),
                    })
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(source)) => return Err(lock_error(source)),
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(SessionError::LockTimeout {
                    profile: profile.to_owned(),
                    waited,
                });
            }
            std::thread::sleep(POLL_INTERVAL.min(timeout - waited));
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
