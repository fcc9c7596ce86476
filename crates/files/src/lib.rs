//! The one way careid writes a file: state, cache, profiles, remembered roles, the desktop
//! app's preferences and exports; and the one rule for which folders careid trusts.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` so that a reader (or a crash) sees the old file or the new one,
/// never half of one: a temporary file beside it, created new (so no existing file or link is
/// followed), owner-only on Unix, flushed to disk, then renamed over. Each write has its own
/// temporary name, so two processes or threads writing at once do not mix their bytes. The
/// folder is created owner-only when missing.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    create_private_dir(dir)?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Takes an exclusive advisory lock on `path` (created owner-only if missing, never truncated
/// nor deleted: removing it while another process waits on the old inode would let two hold
/// "the" lock), trying every 25 ms for at most `timeout`; `None` when it stayed taken. The lock
/// (`flock(2)` on Linux, `LockFileEx` on Windows) belongs to the open file and is released when
/// it is dropped or the process dies, so a crash never leaves it held.
pub fn lock_file(
    path: &Path,
    timeout: std::time::Duration,
) -> std::io::Result<Option<std::fs::File>> {
    const POLL: std::time::Duration = std::time::Duration::from_millis(25);
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Ok(None);
        }
        std::thread::sleep(POLL.min(timeout - waited));
    }
}

/// Creates `dir` and its parents, owner-only on Unix, if missing.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Why careid will not use a folder or file: another user could change what careid reads there
/// (a planted discovery document or key set, a profile pointing at another issuer).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotPrivate {
    #[error(
        "careid will not use {}: it belongs to another user (uid {owner}); use a folder of \
         your own, or make yourself its owner",
        path.display()
    )]
    OtherOwner { path: PathBuf, owner: u32 },
    #[error(
        "careid will not use {}: other users can write to it (mode {mode:03o}); run \
         `chmod go-w {}`",
        path.display(),
        path.display()
    )]
    WritableByOthers { path: PathBuf, mode: u32 },
    #[error("careid cannot check who may change {}: {source}", path.display())]
    Uncheckable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl NotPrivate {
    /// A stable code for callers to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            NotPrivate::OtherOwner { .. } => "folder_other_owner",
            NotPrivate::WritableByOthers { .. } => "folder_writable_by_others",
            NotPrivate::Uncheckable { .. } => "folder_uncheckable",
        }
    }

    /// The folder or file refused.
    pub fn path(&self) -> &Path {
        match self {
            NotPrivate::OtherOwner { path, .. }
            | NotPrivate::WritableByOthers { path, .. }
            | NotPrivate::Uncheckable { path, .. } => path,
        }
    }
}

/// Refuses a folder (or file) that another user could change. On Unix: one owned by anyone but
/// this user or root, or writable by its group or everyone (sticky or not: in a shared folder
/// others can create the very names careid reads). A missing path is accepted, since careid
/// creates it owner-only. Links are followed: what counts is the folder careid would read.
///
/// On Windows nothing is checked: careid's folders are under the user's profile (`%APPDATA%`,
/// `%LOCALAPPDATA%`), whose inherited ACLs already keep other users out, and careid does not
/// read ACLs.
pub fn check_private(path: &Path) -> Result<(), NotPrivate> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(NotPrivate::Uncheckable {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let owner = metadata.uid();
        if owner != rustix::process::geteuid().as_raw() && owner != 0 {
            return Err(NotPrivate::OtherOwner {
                path: path.to_owned(),
                owner,
            });
        }
        let mode = metadata.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(NotPrivate::WritableByOthers {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn folders_other_users_can_write_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&str, u32, Result<(), &str>)] = &[
            ("owner only", 0o700, Ok(())),
            ("readable by all", 0o755, Ok(())),
            ("group-writable", 0o770, Err("folder_writable_by_others")),
            ("world-writable", 0o707, Err("folder_writable_by_others")),
            (
                "shared and sticky",
                0o1777,
                Err("folder_writable_by_others"),
            ),
        ];
        for (name, mode, expect) in cases {
            let folder = dir.path().join(name);
            std::fs::create_dir(&folder).unwrap();
            std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(*mode)).unwrap();
            let got = check_private(&folder);
            assert_eq!(
                got.as_ref().map(|_| ()).map_err(NotPrivate::code),
                *expect,
                "{name}"
            );
            if let Err(error) = got {
                let message = error.to_string();
                assert!(message.contains(&*folder.to_string_lossy()), "{message}");
                assert!(message.contains("chmod go-w"), "{message}");
            }
        }
        // Missing: careid will create it owner-only.
        assert!(check_private(&dir.path().join("missing")).is_ok());
        // A file careid writes is checked the same way.
        let file = dir.path().join("file.json");
        write_atomically(&file, b"{}").unwrap();
        assert!(check_private(&file).is_ok());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(check_private(&file).is_err());
    }

    /// Another user's folder can only be made by root: the check runs where the tests run as
    /// root (as `cargo xtask test` and CI do), and is skipped elsewhere.
    #[cfg(unix)]
    #[test]
    fn folders_another_user_owns_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("theirs");
        std::fs::create_dir(&folder).unwrap();
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&folder, Some(65_534), None).unwrap();
            let error = check_private(&folder).expect_err("another user's folder");
            assert_eq!(error.code(), "folder_other_owner");
            assert_eq!(error.path(), folder);
            assert!(error.to_string().contains("uid 65534"), "{error}");
        } else {
            assert!(check_private(&folder).is_ok());
        }
    }

    #[test]
    fn writes_whole_files_owner_only_and_replaces_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("file.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_in_place_of_the_file_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"keep").unwrap();
        let path = dir.path().join("file.json");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
