//! The state file (`MockCis2::state_file`): what must outlive the process for a later process to
//! carry on where this one stopped, such as the CLI's `careid login` followed by `careid token`.
//! It keeps the signing keys (private halves included), codes, grants, access and refresh tokens
//! (with the rotation state that reuse detection needs) and SSO sessions; not pending sign-ins,
//! faults, the request log or back-channel deliveries.
//!
//! The file is written after every request that changed what it keeps, before the response
//! leaves, so a client that exits right after its last request finds the state on disk. Writes
//! go to a temporary file that is then renamed over the old one, so a reader never sees half a
//! file; on Unix it is created with mode 0600, since it holds live (if mock) tokens and keys.
//! A file that cannot be read, parsed or restored is reported and ignored: the mock starts fresh.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::keys::{SigningKeys, StoredKey};
use crate::provider::{now, Provider};
use crate::sessions::StoredSession;
use crate::store::StoreSnapshot;
use crate::webauthn::StoredCredential;

/// The format's version. A file of another version is ignored, and replaced at the first write.
pub(crate) const VERSION: u32 = 1;

/// How many issuers are remembered: a state may be served under another configured issuer.
const MAX_ISSUERS: usize = 16;

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    /// The issuers this state's tokens were minted under, the latest last.
    issuers: Vec<String>,
    /// Every published key, in publication order: the last of each algorithm is current.
    keys: Vec<StoredKey>,
    store: StoreSnapshot,
    sessions: Vec<StoredSession>,
    /// The WebAuthn credentials test users registered; absent from files written before them.
    #[serde(default)]
    webauthn: Vec<StoredCredential>,
}

/// Read first, so a file of another version is told apart from a damaged one.
#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// What a state file held, besides the keys.
#[derive(Debug)]
pub(crate) struct Restored {
    pub issuers: Vec<String>,
    pub store: StoreSnapshot,
    pub sessions: Vec<StoredSession>,
    pub webauthn: Vec<StoredCredential>,
}

/// Reads the state file at `path`. `None` when there is none, and, with a warning, when it
/// cannot be read, parsed or restored: the caller then starts fresh.
pub(crate) fn load(path: &Path) -> Option<(SigningKeys, Restored)> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            tracing::info!(path = %path.display(), "no mock CIS2 state file yet: starting fresh");
            return None;
        }
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read the mock CIS2 state file: starting fresh");
            return None;
        }
    };
    match parse(&bytes) {
        Ok(loaded) => {
            tracing::info!(path = %path.display(), "mock CIS2 state restored");
            Some(loaded)
        }
        Err(reason) => {
            tracing::warn!(
                path = %path.display(),
                reason,
                "the mock CIS2 state file is damaged or of another version: starting fresh; it will be overwritten"
            );
            None
        }
    }
}

fn parse(bytes: &[u8]) -> Result<(SigningKeys, Restored), String> {
    let VersionOnly { version } =
        serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
    if version != VERSION {
        return Err(format!("version {version}, expected {VERSION}"));
    }
    let file: StateFile = serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
    let keys = SigningKeys::restore(&file.keys)
        .ok_or("a signing key does not parse, does not match its kid, or is missing")?;
    Ok((
        keys,
        Restored {
            issuers: file.issuers,
            store: file.store,
            sessions: file.sessions,
            webauthn: file.webauthn,
        },
    ))
}

/// Where the state goes, and what was last written there.
#[derive(Debug)]
pub(crate) struct Persistence {
    path: PathBuf,
    /// Every issuer of the state, the current one last (its port is where a restart binds): an
    /// ID token minted under an earlier configured issuer is still this provider's
    /// (end-session's `id_token_hint`).
    issuers: Vec<String>,
    /// The change count last written; locked for the whole write, so writes never interleave.
    written: Mutex<Option<u64>>,
}

impl Persistence {
    pub fn new(path: PathBuf, mut issuers: Vec<String>, current: &str) -> Self {
        issuers.retain(|issuer| issuer != current);
        issuers.push(current.to_owned());
        let excess = issuers.len().saturating_sub(MAX_ISSUERS);
        issuers.drain(..excess);
        Self {
            path,
            issuers,
            written: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Provider {
    /// Whether `iss` is this provider's issuer, or an earlier issuer of its restored state.
    pub(crate) fn issued_here(&self, iss: &str) -> bool {
        iss == self.issuer.as_str()
            || self
                .persistence
                .as_ref()
                .is_some_and(|persistence| persistence.issuers.iter().any(|known| known == iss))
    }

    /// Writes the state file if what it keeps has changed since the last write. Synchronous:
    /// the file is small, and the answer that follows must find it written.
    pub(crate) fn save_state(&self) {
        let Some(persistence) = &self.persistence else {
            return;
        };
        let mut written = persistence
            .written
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Read before the snapshot: a change between the two is in the snapshot, and only
        // causes one more write next time.
        let generation = self
            .store
            .generation()
            .wrapping_add(self.sessions.generation())
            .wrapping_add(self.keys.generation())
            .wrapping_add(self.webauthn.generation());
        if *written == Some(generation) {
            return;
        }
        let now = now();
        let file = StateFile {
            version: VERSION,
            issuers: persistence.issuers.clone(),
            keys: self.keys.export(),
            store: self.store.snapshot(now),
            sessions: self.sessions.snapshot(now),
            webauthn: self.webauthn.snapshot(),
        };
        let result = serde_json::to_vec(&file)
            .map_err(io::Error::from)
            .and_then(|bytes| write_atomically(&persistence.path, &bytes));
        match result {
            Ok(()) => *written = Some(generation),
            Err(error) => tracing::warn!(
                path = %persistence.path.display(),
                %error,
                "cannot write the mock CIS2 state file"
            ),
        }
    }
}

/// Middleware: after each request, writes what it changed before the response is sent.
pub(crate) async fn save_after(
    State(provider): State<Arc<Provider>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    provider.save_state();
    response
}

/// Writes `bytes` to a temporary file beside `path` (mode 0600 on Unix) and renames it over
/// `path`, so that `path` always holds a whole file.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        fs::create_dir_all(parent)?;
    }
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the state file path names no file",
        )
    })?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    // A leftover of a crashed write would keep its old permissions: start afresh.
    let _ = fs::remove_file(&temp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = options
        .open(&temp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_and_foreign_files_are_refused() {
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"version": 999}"#)
            .unwrap_err()
            .contains("version 999"));
        assert!(parse(br#"{"version": 1, "issuers": []}"#).is_err());
        let no_keys = br#"{"version":1,"issuers":[],"keys":[],"store":{"codes":{},"grants":{},
            "access_tokens":{},"refresh_tokens":{},"next_grant":0},"sessions":[]}"#;
        assert!(parse(no_keys).unwrap_err().contains("signing key"));
    }

    #[test]
    fn the_latest_issuers_are_remembered() {
        let earlier: Vec<String> = (0..20).map(|port| format!("http://h:{port}")).collect();
        let persistence = Persistence::new("s.json".into(), earlier, "http://h:5");
        assert_eq!(persistence.issuers.len(), MAX_ISSUERS);
        assert_eq!(persistence.issuers.last().unwrap(), "http://h:5");
        // 0..20 less the current (5), then the current: the four oldest make way.
        assert_eq!(persistence.issuers[0], "http://h:4");
        assert!(
            persistence
                .issuers
                .iter()
                .filter(|i| *i == "http://h:5")
                .count()
                == 1
        );
    }
}
