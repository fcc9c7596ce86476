//! The persistent half of a session: the facts in a state file, the tokens in the OS keychain,
//! the policy that ends a session, and the lock that serialises every change to a session
//! across processes. The network half (refresh, revocation) is the caller's: it holds a
//! [`SessionLock`], calls the token endpoint, then [`SessionStore::replace_refresh_token`].
//!
//! Every change to a stored session (save, refresh, activity, role, sign-out) takes the
//! profile's [`SessionLock`], and the store's writing methods ask for it: the state file is
//! read, changed and written whole, so two processes changing it at once would otherwise lose
//! one change, or write an old user's facts back over a new sign-in.
//!
//! A refresh runs like this, so that the CLI and the desktop app never spend the same refresh
//! token twice (a provider that rotates refresh tokens revokes the family on reuse):
//!
//! 1. [`SessionLock::acquire`] for the profile;
//! 2. [`SessionStore::load`] again, because another process may have rotated the token while
//!    this one waited for the lock;
//! 3. the refresh grant (RFC 6749 §6);
//! 4. at once, [`SessionStore::replace_refresh_token`] with a rotated token, before anything
//!    else can fail;
//! 5. [`SessionStore::update_facts`] with what the refresh changed; then drop the lock.
//!
//! Times are seconds since the Unix epoch, as `auth_time` is in an ID token (OIDC Core §2). The
//! caller passes `now` in, so tests control time.

mod end;
mod lock;
mod policy;
mod store;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::id_token::OriginalIdToken;
use crate::values::AcrValues;
use crate::KeychainError;

pub use end::{EndReason, SessionEnd};
pub use lock::SessionLock;
pub use policy::{check, end_due, inactivity_minutes, Verdict};
pub use store::{
    access_token_account, id_token_account, refresh_token_account, KeptAccessToken, Loaded,
    Restored, SessionStore,
};

/// Activity is written to the state file at most this often (the app and the CLI alike): each
/// write is a file sync, and the inactivity limit is minutes long.
pub const ACTIVITY_WRITE_EVERY: Duration = Duration::from_secs(20);

/// What careid remembers of a session apart from its tokens. Nothing here is secret: it is
/// written to a state file in plain JSON. A newer careid's fields beside these in the file are
/// ignored here and kept by the store (see `store.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFacts {
    /// The profile the session belongs to.
    pub profile: String,
    /// The user's id (`sub` of the ID token; the UUID in CIS2).
    pub sub: String,
    /// The user's name for people ([`crate::user_name::person_name`]), from UserInfo at sign-in
    /// and at each restore that reads it; absent when UserInfo gave none, and in files written
    /// before careid kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When the user authenticated (`auth_time`): the absolute limit runs from here.
    pub auth_time: u64,
    /// The last activity the caller recorded: the inactivity limit runs from here.
    pub last_activity: u64,
    /// The selected role's id (`selected_roleid`, a `person_roleid`), once a role is chosen.
    pub selected_role_id: Option<String>,
    /// The selected role as people read it ([`Self::set_role`]); absent in files written before
    /// careid kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<crate::RoleLabel>,
    /// The provider's session id (`sid`), to match back-channel logout tokens.
    pub sid: Option<String>,
    /// The authentication assurance level (2 or 3 in CIS2), when the provider said.
    pub assurance_level: Option<u8>,
    /// When these facts were written.
    pub stored_at: u64,
}

impl SessionFacts {
    /// The session's role from now on: its id and how people read it, set together.
    pub fn set_role(&mut self, role: Option<&crate::NrbacRole>, identity: &crate::Identity) {
        self.selected_role_id = role.map(|role| role.person_roleid.clone());
        self.role = role.map(|role| crate::RoleLabel::of(role, identity));
    }

    /// The user as people are told who is signed in: "Flo Nurse (555057896106)".
    pub fn user(&self) -> crate::UserName {
        crate::UserName {
            name: self.name.clone(),
            user_id: self.sub.clone(),
        }
    }
}

/// What the sign-in settled that every refresh of its session is held to (OIDC Core §12.2): the
/// original ID token's identity and the `acr_values` the sign-in asked for, so a refresh is
/// checked against what was used, not against the profile as it is now. The state file keeps it
/// as the store's `StoredSignIn`, with a newer careid's fields beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRecord {
    pub id_token: OriginalIdToken,
    pub acr_values: Option<AcrValues>,
    /// The identity assurance level the profile required at sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_id_assurance_level: Option<u8>,
}

/// Why there is no session to restore. Each is an ordinary "signed out" to the user; the reason
/// is for the log, except [`SignedOutReason::Ended`]: careid ended the last session, and the
/// [`SessionEnd`] says why (a front end tells the user). None carries a token or the file's
/// content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedOutReason {
    /// No state file: never signed in, or signed out before careid kept why.
    NoSession,
    /// careid ended the last session (a limit, a sign-out, the provider, the keychain ...).
    Ended(SessionEnd),
    /// The state file exists but could not be read.
    Unreadable { kind: std::io::ErrorKind },
    /// The state file is not valid JSON of the expected shape, or has a field this careid does
    /// not know that may hold a secret.
    Corrupt { line: usize, column: usize },
    /// The state file was written by a newer careid in a format it says older ones must not
    /// read (its `compatible_with` is newer than this careid's format). `version` is its format.
    UnknownVersion { version: u64 },
    /// The state file names another profile (copied or renamed by hand).
    OtherProfile,
}

impl SignedOutReason {
    /// A stable code for callers to branch on and log: for an end, the [`EndReason`]'s.
    pub fn code(&self) -> &'static str {
        match self {
            SignedOutReason::NoSession => "no_session",
            SignedOutReason::Ended(end) => end.reason.code(),
            SignedOutReason::Unreadable { .. } => "state_unreadable",
            SignedOutReason::Corrupt { .. } => "state_corrupt",
            SignedOutReason::UnknownVersion { .. } => "state_unknown_version",
            SignedOutReason::OtherProfile => "state_other_profile",
        }
    }

    /// The end of the last session, when careid ended it.
    pub fn end(&self) -> Option<&SessionEnd> {
        match self {
            SignedOutReason::Ended(end) => Some(end),
            _ => None,
        }
    }
}

impl fmt::Display for SignedOutReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignedOutReason::NoSession => f.write_str("no stored session"),
            SignedOutReason::Ended(end) => write!(f, "the last session ended: {end}"),
            SignedOutReason::Unreadable { kind } => {
                write!(f, "the session state file cannot be read ({kind})")
            }
            SignedOutReason::Corrupt { line, column } => write!(
                f,
                "the session state file is damaged (line {line}, column {column})"
            ),
            SignedOutReason::UnknownVersion { version } => write!(
                f,
                "the session state file is in format {version}, which only a newer careid can read"
            ),
            SignedOutReason::OtherProfile => {
                f.write_str("the session state file belongs to another profile")
            }
        }
    }
}

/// What went wrong storing or locking a session. Messages never contain a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The profile name cannot name a file (profile names are letters, digits, `-` and `_`).
    #[error("profile name {0:?} cannot name a session file")]
    InvalidProfileName(String),
    /// The keychain is unavailable or failing.
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// The state file or its folder could not be written or removed.
    #[error("cannot write the session state file {}: {source}", path.display())]
    StateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// There is no session to update.
    #[error("not signed in to profile {profile:?}: {reason}")]
    SignedOut {
        profile: String,
        reason: SignedOutReason,
    },
    /// Another process held the session lock for longer than the caller would wait.
    #[error(
        "another careid process is changing the session of profile {profile:?}; \
         gave up after {} s",
        waited.as_secs_f32()
    )]
    LockTimeout { profile: String, waited: Duration },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The session lock passed in is not the one for this profile.
    #[error("the session lock held is for profile {held:?}, not {profile:?}")]
    WrongLock { held: String, profile: String },
}

impl SessionError {
    /// A stable code for callers to branch on (the UI chooses its sentence by code).
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::InvalidProfileName(_) => "session_invalid_profile",
            SessionError::Keychain(error) => error.code(),
            SessionError::StateFile { .. } => "session_state_file",
            SessionError::SignedOut { .. } => "session_signed_out",
            SessionError::LockTimeout { .. } => "session_lock_timeout",
            SessionError::Lock { .. } => "session_lock_failed",
            SessionError::WrongLock { .. } => "session_wrong_lock",
        }
    }
}

/// Profile names become file names, so anything but the characters a profile name may have
/// (see `Profiles::add`) is refused before it can reach a path.
fn check_profile_name(profile: &str) -> Result<(), SessionError> {
    let valid = !profile.is_empty()
        && profile.len() <= 64
        && profile
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(SessionError::InvalidProfileName(profile.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_that_could_escape_the_state_folder_are_refused() {
        for name in ["", "..", "../x", "a/b", "a\\b", "a.json", &"x".repeat(65)] {
            assert_eq!(
                check_profile_name(name).map_err(|e| e.code()),
                Err("session_invalid_profile"),
                "{name}"
            );
        }
        for name in ["mock", "int", "trust-idp_2"] {
            assert!(check_profile_name(name).is_ok(), "{name}");
        }
    }
}
