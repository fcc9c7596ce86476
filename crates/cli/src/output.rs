//! Errors the CLI raises itself, and the documented exit code for any error.

use std::fmt;

/// A mistake in the command line or in what the user supplied: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The documented exit code for an error, chosen by its type, never by its text.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.is::<UsageError>() {
            return 2;
        }
        if cause.is::<careid_core::KeychainError>() {
            return 7;
        }
        if let Some(error) = cause.downcast_ref::<careid_core::ProfileError>() {
            return match error {
                careid_core::ProfileError::File { .. } => 1,
                _ => 2,
            };
        }
        if let Some(error) = cause.downcast_ref::<careid_core::SessionError>() {
            return match error {
                careid_core::SessionError::Keychain(_) => 7,
                careid_core::SessionError::SignedOut { .. } => 8,
                _ => 1,
            };
        }
        // Arguments or files the user gave that the mock cannot use are usage errors.
        if cause.is::<mock_cis2::DataError>() || cause.is::<mock_cis2::UnknownFault>() {
            return 2;
        }
        if let Some(start) = cause.downcast_ref::<mock_cis2::StartError>() {
            use mock_cis2::StartError::{AutoLogin, Data, InvalidIssuer};
            return if matches!(start, AutoLogin(_) | Data(_) | InvalidIssuer { .. }) {
                2
            } else {
                1
            };
        }
    }
    1
}
