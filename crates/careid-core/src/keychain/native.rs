//! Windows Credential Manager and the macOS Keychain, through the `keyring` crate (each call is a
//! local system call there, so nothing is worth keeping open).

use super::KeychainError;

/// The secret stored for `(service, account)`, if any.
pub(super) fn read(service: &str, account: &str) -> Result<Option<String>, KeychainError> {
    match entry(service, account)?.get_password() {
        Ok(value) => Ok(Some(value)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(from_keyring(error, account)),
    }
}

/// Stores `value` for `(service, account)`, replacing what was there.
pub(super) fn write(service: &str, account: &str, value: &str) -> Result<(), KeychainError> {
    entry(service, account)?
        .set_password(value)
        .map_err(|error| from_keyring(error, account))
}

/// Deletes the entry for `(service, account)`; deleting nothing is not an error.
pub(super) fn delete(service: &str, account: &str) -> Result<(), KeychainError> {
    match entry(service, account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(from_keyring(error, account)),
    }
}

/// The accounts stored under a service: `None`, since the `keyring` crate cannot list entries
/// (Windows Credential Manager and the macOS Keychain could, through their own APIs).
pub(super) fn accounts(_service: &str) -> Result<Option<Vec<String>>, KeychainError> {
    Ok(None)
}

/// What this process's keychain is, for diagnostics (`careid keychain check`).
pub(super) fn describe() -> String {
    if cfg!(windows) {
        "Windows Credential Manager".to_owned()
    } else if cfg!(target_os = "macos") {
        "macOS Keychain".to_owned()
    } else {
        "the keyring crate's default store".to_owned()
    }
}

fn entry(service: &str, account: &str) -> Result<keyring::Entry, KeychainError> {
    keyring::Entry::new(service, account).map_err(|error| from_keyring(error, account))
}

fn from_keyring(error: keyring::Error, account: &str) -> KeychainError {
    match error {
        keyring::Error::NoStorageAccess(inner) => KeychainError::Unavailable(inner.to_string()),
        keyring::Error::PlatformFailure(inner) => KeychainError::Unavailable(inner.to_string()),
        // The payload of `BadEncoding` is the stored value itself: never format it.
        keyring::Error::BadEncoding(_) | keyring::Error::Ambiguous(_) => KeychainError::Corrupt {
            account: account.to_owned(),
        },
        other => KeychainError::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_errors_map_to_careid_errors_without_the_stored_value() {
        let secret = "a-refresh-token-value";
        let corrupt = from_keyring(
            keyring::Error::BadEncoding(secret.as_bytes().to_vec()),
            "profile/user/refresh-token",
        );
        assert_eq!(corrupt.code(), "keychain_corrupt");
        assert!(!format!("{corrupt} {corrupt:?}").contains(secret));
        let unavailable = from_keyring(
            keyring::Error::NoStorageAccess("locked".into()),
            "profile/user/refresh-token",
        );
        assert_eq!(unavailable.code(), "keychain_unavailable");
    }

    #[test]
    fn a_missing_entry_reads_as_none_and_deletes_cleanly() {
        // On Linux test builds this is the keyring crate's mock store; on Windows and macOS the
        // native one.
        let service = format!("careid-native-test-{}", std::process::id());
        assert!(read(&service, "absent").expect("read").is_none());
        delete(&service, "absent").expect("deleting nothing");
    }
}
