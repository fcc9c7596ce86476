//! careid's side of DPoP (RFC 9449) with a broker: the install's key, and the proof every
//! request to a broker's relays carries.
//!
//! One key per install (OS user and keychain service), made on first use and kept in the
//! keychain like the other secrets, under [`DPOP_KEY_ACCOUNT`]; never in a file. It is made
//! under a lock in the state folder, so the app and the CLI starting at once do not make two
//! (a handle is bound to one key: a second would strand the sessions sealed to the first).
//! Windows' and macOS' stores that keep a key unexportable (CNG with the Platform Crypto
//! Provider, the Secure Enclave) would hold it better: docs/security.md says what that takes.

use std::sync::Mutex;
use std::time::Duration;

use crate::keychain::{Keychain, KeychainError};
use crate::session::SessionError;
use crate::signin::{blocking, SignInError};
use careid_oidc::{DpopKey, DpopKeySecret};

/// The keychain account of the install's DPoP key.
pub const DPOP_KEY_ACCOUNT: &str = "install/dpop-key";
/// How long a process waits for another one making the key.
const KEY_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The install's key, read (or made) once per process, and the nonce the broker asked for last.
#[derive(Debug, Default)]
pub(crate) struct DpopState {
    key: tokio::sync::OnceCell<DpopKey>,
    nonce: Mutex<Option<String>>,
}

impl DpopState {
    pub(crate) async fn key(
        &self,
        keychain: &Keychain,
        state_dir: &std::path::Path,
    ) -> Result<&DpopKey, SignInError> {
        self.key
            .get_or_try_init(|| async { blocking(|| load_or_make(keychain, state_dir)) })
            .await
    }

    pub(crate) fn nonce(&self) -> Option<String> {
        self.nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Keeps the nonce an answer carried, for the next proof.
    pub(crate) fn remember_nonce(&self, nonce: Option<&str>) {
        if let Some(nonce) = nonce {
            *self
                .nonce
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(nonce.to_owned());
        }
    }
}

fn load_or_make(keychain: &Keychain, state_dir: &std::path::Path) -> Result<DpopKey, SignInError> {
    let read = |keychain: &Keychain| -> Result<Option<DpopKey>, SignInError> {
        match keychain.load(DPOP_KEY_ACCOUNT)? {
            // Not a key careid wrote: damaged (a new one would strand the sessions sealed to it).
            Some(stored) => DpopKey::from_stored(&DpopKeySecret::from(stored))
                .map(Some)
                .map_err(|_| {
                    KeychainError::Corrupt {
                        account: DPOP_KEY_ACCOUNT.into(),
                    }
                    .into()
                }),
            None => Ok(None),
        }
    };
    if let Some(key) = read(keychain)? {
        return Ok(key);
    }
    let path = state_dir.join("dpop-key.lock");
    let _lock = crate::files::lock_file(&path, KEY_LOCK_TIMEOUT)
        .map_err(|source| SessionError::Lock {
            path: path.clone(),
            source,
        })?
        .ok_or(SessionError::LockTimeout {
            profile: "(the install's DPoP key)".into(),
            waited: KEY_LOCK_TIMEOUT,
        })?;
    // Made by another process while this one waited.
    if let Some(key) = read(keychain)? {
        return Ok(key);
    }
    let key = DpopKey::generate()
        .map_err(|error| KeychainError::Failed(format!("cannot make a DPoP key: {error}")))?;
    keychain.store(DPOP_KEY_ACCOUNT, key.to_stored().as_secret())?;
    Ok(key)
}
