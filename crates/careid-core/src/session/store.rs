//! Where a session is kept: its facts in `<state folder>/<profile>.json`, its refresh token only
//! in the OS keychain under `session/<profile>/<sub>/refresh-token`, the last valid ID token
//! beside it under `session/<profile>/<sub>/id-token` (a refresh may answer without one, OIDC
//! Core §12.2, and sign-out still needs it as `id_token_hint`), and the current access token
//! under `session/<profile>/<sub>/access-token`, so it is reused until it nears its expiry. That
//! expiry is not secret: the state file keeps it (`access_token_expires_at`), and it is there
//! exactly when the access token is kept.
//!
//! A state file that is missing, unreadable, damaged or of another version means "signed out",
//! never an error that stops the app: the user signs in again and the next save replaces it.
//!
//! When careid ends a session ([`SessionStore::end`], or a refresh token gone from the keychain),
//! it keeps why in `<profile>.ended.json` ([`SessionEnd`]) until the next sign-in, so a process
//! that finds the session gone (the app, after `careid logout`) learns why.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::secret::{AccessToken, IdToken, RefreshToken, SecretString};
use crate::session::{
    check_profile_name, EndReason, SessionEnd, SessionError, SessionFacts, SessionLock,
    SignInRecord, SignedOutReason,
};
use crate::time::unix_seconds;
use crate::{Keychain, KeychainError};

/// The state file format this careid writes and reads. A file of any other version is treated as
/// signed out rather than guessed at.
const STATE_VERSION: u64 = 1;

/// The state file: the facts, and whether a refresh token should be in the keychain, so a token
/// that vanished from the keychain reads as signed out rather than as a session that cannot
/// refresh.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u64,
    refresh_token_stored: bool,
    facts: SessionFacts,
    /// Absent in files written before careid kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sign_in: Option<SignInRecord>,
    /// When the access token kept in the keychain expires (seconds since the epoch); absent
    /// when none is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_expires_at: Option<u64>,
}

/// Read first, so a file from another version is told apart from a damaged one.
#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub facts: SessionFacts,
    /// `None` when the provider issued no refresh token: the session then lasts only as long as
    /// its kept tokens. Also `None` until read, from [`SessionStore::load_state`].
    pub refresh_token: Option<RefreshToken>,
    /// Whether the session has a refresh token in the keychain (from the state file).
    pub refresh_token_stored: bool,
    /// What refreshes are held to; `None` for a session stored by an earlier careid. Boxed: it
    /// is most of a session's size.
    pub sign_in: Option<Box<SignInRecord>>,
    /// When the kept access token expires, when one is kept (read it with
    /// [`SessionStore::load_access_token`]).
    pub access_token_expires_at: Option<u64>,
}

/// An access token to keep, with when it expires (seconds since the epoch).
#[derive(Debug, Clone, Copy)]
pub struct KeptAccessToken<'a> {
    pub token: &'a AccessToken,
    pub expires_at: u64,
}

/// What [`SessionStore::load`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restored {
    Session(Loaded),
    SignedOut(SignedOutReason),
}

/// The sessions of all profiles: state files in one folder, refresh tokens in one keychain.
#[derive(Debug, Clone)]
pub struct SessionStore {
    keychain: Keychain,
    state_dir: PathBuf,
}

impl SessionStore {
    /// A store over `keychain` (already namespaced by build kind) and `state_dir`, the folder
    /// that holds the state and lock files (for example `<data dir>/state`). The folder is
    /// created on the first save.
    pub fn new(keychain: Keychain, state_dir: impl Into<PathBuf>) -> Self {
        Self {
            keychain,
            state_dir: state_dir.into(),
        }
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The keychain the sessions are kept in (the install's other secrets live there too).
    pub(crate) fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    /// The state file of `profile`.
    pub fn state_path(&self, profile: &str) -> Result<PathBuf, SessionError> {
        check_profile_name(profile)?;
        Ok(self.state_dir.join(format!("{profile}.json")))
    }

    /// The record of the end of `profile`'s last session.
    pub fn ended_path(&self, profile: &str) -> Result<PathBuf, SessionError> {
        check_profile_name(profile)?;
        Ok(self.state_dir.join(format!("{profile}.ended.json")))
    }

    /// Why careid ended `profile`'s last session, if it did and has had no sign-in since. A
    /// record that cannot be read is no record.
    pub fn last_end(&self, profile: &str) -> Option<SessionEnd> {
        let text = std::fs::read(self.ended_path(profile).ok()?).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Stores a new session, replacing the profile's previous one: the refresh token (or the
    /// lack of one) in the keychain, then the facts. A previous user's refresh token on the same
    /// profile is deleted, so a profile holds one session.
    pub fn save(
        &self,
        lock: &SessionLock,
        facts: &SessionFacts,
        refresh_token: Option<&RefreshToken>,
    ) -> Result<(), SessionError> {
        self.save_sign_in(lock, facts, refresh_token, None, None, None)
    }

    /// [`SessionStore::save`] for a sign-in: also what its refreshes are held to, and its ID
    /// and access tokens, stored beside the refresh token.
    pub fn save_sign_in(
        &self,
        lock: &SessionLock,
        facts: &SessionFacts,
        refresh_token: Option<&RefreshToken>,
        sign_in: Option<&SignInRecord>,
        id_token: Option<&IdToken>,
        access_token: Option<KeptAccessToken<'_>>,
    ) -> Result<(), SessionError> {
        check_lock(lock, &facts.profile)?;
        let path = self.state_path(&facts.profile)?;
        // A readable state file names the previous session, whose token goes if it is another
        // user's. Without one, earlier tokens may be in the keychain that nothing names.
        let previous_named = match read_state(&path, &facts.profile) {
            Ok(previous) => {
                if previous.facts.sub != facts.sub {
                    self.keychain
                        .delete(&refresh_token_account(&previous.facts))?;
                    self.keychain.delete(&id_token_account(&previous.facts))?;
                    self.keychain
                        .delete(&access_token_account(&previous.facts))?;
                }
                true
            }
            Err(_) => false,
        };
        let account = refresh_token_account(facts);
        match refresh_token {
            Some(token) => self.keychain.store(&account, token.as_secret())?,
            None => self.keychain.delete(&account)?,
        }
        // So a profile holds one session, tokens no state file names are deleted (listing the
        // keychain costs a round trip per entry, so only when one may be there). Tidying only:
        // a keychain that fails here does not undo the sign-in.
        let tidied = if previous_named {
            Ok(None)
        } else {
            self.keychain
                .delete_prefixed(&session_prefix(&facts.profile), Some(&account))
        };
        if let Err(error) = tidied {
            tracing::warn!(
                "could not tidy earlier sessions of profile {:?} from the keychain: {error}",
                facts.profile
            );
        }
        // After the tidying, which keeps only the refresh token's entry.
        let id_account = id_token_account(facts);
        match id_token {
            Some(token) => self.keychain.store(&id_account, token.as_secret())?,
            None if previous_named => self.keychain.delete(&id_account)?,
            None => {}
        }
        let access_account = access_token_account(facts);
        match access_token {
            Some(kept) => self
                .keychain
                .store(&access_account, kept.token.as_secret())?,
            None if previous_named => self.keychain.delete(&access_account)?,
            None => {}
        }
        let state = StateFile {
            version: STATE_VERSION,
            refresh_token_stored: refresh_token.is_some(),
            facts: facts.clone(),
            sign_in: sign_in.cloned(),
            access_token_expires_at: access_token.map(|kept| kept.expires_at),
        };
        if let Err(error) = write_state(&path, &state) {
            // Without its facts the tokens could never be found again: do not leave them.
            if refresh_token.is_some() {
                let _ = self.keychain.delete(&account);
            }
            if id_token.is_some() {
                let _ = self.keychain.delete(&id_account);
            }
            if access_token.is_some() {
                let _ = self.keychain.delete(&access_account);
            }
            return Err(error);
        }
        if let Some(kept) = access_token {
            self.keep_quick_copy(&access_account, kept.token, kept.expires_at);
        }
        // A new session: the end of the last one is no longer news.
        if let Err(error) = remove_file(&self.ended_path(&facts.profile)?) {
            tracing::warn!("could not remove the record of the last session's end: {error}");
        }
        Ok(())
    }

    /// The stored session of `profile`, or why there is none. Only a keychain that is
    /// unavailable or failing is an error: a damaged keychain entry is deleted and reads as
    /// signed out.
    pub fn load(&self, profile: &str) -> Result<Restored, SessionError> {
        let mut loaded = match self.load_state(profile)? {
            Restored::Session(loaded) => loaded,
            signed_out => return Ok(signed_out),
        };
        Ok(match self.read_refresh_token(&mut loaded)? {
            Some(reason) => Restored::SignedOut(reason),
            None => Restored::Session(loaded),
        })
    }

    /// [`SessionStore::load`] from the state file alone: `refresh_token` is not read yet (see
    /// [`Loaded::refresh_token_stored`] and [`SessionStore::read_refresh_token`]), so a use of
    /// the kept access token costs one keychain read, not two.
    pub fn load_state(&self, profile: &str) -> Result<Restored, SessionError> {
        let path = self.state_path(profile)?;
        Ok(match read_state(&path, profile) {
            Ok(state) => Restored::Session(Loaded {
                facts: state.facts,
                refresh_token: None,
                refresh_token_stored: state.refresh_token_stored,
                sign_in: state.sign_in.map(Box::new),
                access_token_expires_at: state.access_token_expires_at,
            }),
            Err(SignedOutReason::NoSession) => Restored::SignedOut(
                self.last_end(profile)
                    .map_or(SignedOutReason::NoSession, SignedOutReason::Ended),
            ),
            Err(reason) => Restored::SignedOut(reason),
        })
    }

    /// Reads the refresh token of a session from [`SessionStore::load_state`] into it. When the
    /// state file says one is stored and the keychain has none (or a damaged one), the session
    /// cannot be restored: it is ended ([`EndReason::KeychainCleared`] or
    /// [`EndReason::KeychainDamaged`]), its other entries and state file deleted, and the end
    /// given.
    pub fn read_refresh_token(
        &self,
        loaded: &mut Loaded,
    ) -> Result<Option<SignedOutReason>, SessionError> {
        if !loaded.refresh_token_stored || loaded.refresh_token.is_some() {
            return Ok(None);
        }
        let account = refresh_token_account(&loaded.facts);
        let reason = match self.keychain.load(&account) {
            Ok(Some(token)) => {
                loaded.refresh_token = Some(RefreshToken::from(token));
                return Ok(None);
            }
            Ok(None) => EndReason::KeychainCleared,
            Err(KeychainError::Corrupt { .. }) => {
                self.keychain.delete(&account)?;
                EndReason::KeychainDamaged
            }
            Err(error) => return Err(error.into()),
        };
        // The session cannot be restored, so its facts go too: status then agrees with load.
        self.keychain.delete(&id_token_account(&loaded.facts))?;
        self.keychain.delete(&access_token_account(&loaded.facts))?;
        remove_file(&self.state_path(&loaded.facts.profile)?)?;
        let end = SessionEnd::new(reason, &loaded.facts, SystemTime::now());
        self.write_end(&loaded.facts.profile, &end)?;
        Ok(Some(SignedOutReason::Ended(end)))
    }

    /// Stores a rotated refresh token in place of the old one.
    ///
    /// Call this immediately when the token endpoint answers with a new refresh token, before
    /// validating the other tokens or anything else that can fail: the provider has already
    /// spent the old one, and a rotating provider treats its reuse as theft and revokes the
    /// session. Holding `lock` (the profile's [`SessionLock`]) is required, so another process
    /// cannot refresh with the old token in between.
    pub fn replace_refresh_token(
        &self,
        lock: &SessionLock,
        facts: &SessionFacts,
        refresh_token: &RefreshToken,
    ) -> Result<(), SessionError> {
        check_lock(lock, &facts.profile)?;
        self.keychain
            .store(&refresh_token_account(facts), refresh_token.as_secret())?;
        Ok(())
    }

    /// Stores the ID token of a refresh in place of the last one, once it is validated.
    pub fn replace_id_token(
        &self,
        lock: &SessionLock,
        facts: &SessionFacts,
        id_token: &IdToken,
    ) -> Result<(), SessionError> {
        check_lock(lock, &facts.profile)?;
        self.keychain
            .store(&id_token_account(facts), id_token.as_secret())?;
        Ok(())
    }

    /// The last valid ID token of the session of `facts`, if one is kept. A damaged entry is
    /// deleted and reads as none.
    pub fn load_id_token(&self, facts: &SessionFacts) -> Result<Option<IdToken>, SessionError> {
        Ok(self
            .load_or_forget(&id_token_account(facts))?
            .map(IdToken::from))
    }

    /// Keeps the access token of a sign-in or refresh, in place of the last one: the token in
    /// the keychain, then its expiry in the state file. With `None` (an answer whose lifetime
    /// is unknown), the kept one is forgotten instead.
    pub fn replace_access_token(
        &self,
        lock: &SessionLock,
        facts: &SessionFacts,
        access_token: Option<KeptAccessToken<'_>>,
    ) -> Result<(), SessionError> {
        check_lock(lock, &facts.profile)?;
        let account = access_token_account(facts);
        match access_token {
            Some(kept) => self.keychain.store(&account, kept.token.as_secret())?,
            None => self.keychain.delete(&account)?,
        }
        self.change_state(lock, Some(&facts.sub), |state| {
            state.access_token_expires_at = access_token.map(|kept| kept.expires_at);
        })?;
        if let Some(kept) = access_token {
            self.keep_quick_copy(&account, kept.token, kept.expires_at);
        }
        Ok(())
    }

    /// The kept access token of `loaded`'s session, if one is. A damaged entry is deleted and
    /// reads as none. It is read from the keychain's quick copy when that copy is of the token
    /// the state file names (tagged with its expiry): `careid token` then makes no keychain
    /// round trip at all.
    pub fn load_access_token(&self, loaded: &Loaded) -> Result<Option<AccessToken>, SessionError> {
        let account = access_token_account(&loaded.facts);
        let Some(expires_at) = loaded.access_token_expires_at else {
            return Ok(self.load_or_forget(&account)?.map(AccessToken::from));
        };
        if let Some(token) = self.keychain.quick_copy(&account, &expires_at.to_string()) {
            return Ok(Some(AccessToken::from(token)));
        }
        let token = self.load_or_forget(&account)?.map(AccessToken::from);
        if let Some(token) = &token {
            self.keep_quick_copy(&account, token, expires_at);
        }
        Ok(token)
    }

    /// A quick copy of the access token kept under `account`, living until it expires: its
    /// expiry is the tag, since the state file names the current token by it.
    fn keep_quick_copy(&self, account: &str, token: &AccessToken, expires_at: u64) {
        let life = Duration::from_secs(expires_at.saturating_sub(unix_seconds(SystemTime::now())));
        // Without a copy the keychain is read: nothing to do but go on (`kernel_copy` logs why).
        let _ = self.keychain.keep_quick_copy(
            account,
            &expires_at.to_string(),
            token.as_secret(),
            life,
        );
    }

    fn load_or_forget(&self, account: &str) -> Result<Option<SecretString>, SessionError> {
        match self.keychain.load(account) {
            Ok(token) => Ok(token),
            Err(KeychainError::Corrupt { .. }) => {
                self.keychain.delete(account)?;
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Records user activity at `now`, which moves the inactivity limit on, and returns the
    /// updated facts. The time is taken as given, even if earlier than the last one, so a clock
    /// that went backwards can only shorten the session.
    pub fn record_activity(
        &self,
        lock: &SessionLock,
        now: SystemTime,
    ) -> Result<SessionFacts, SessionError> {
        self.change_facts(lock, None, |facts| facts.last_activity = unix_seconds(now))
    }

    /// Rewrites the session's facts (after a restore) and leaves the refresh token as it is.
    pub fn update_facts(
        &self,
        lock: &SessionLock,
        facts: &SessionFacts,
    ) -> Result<(), SessionError> {
        check_lock(lock, &facts.profile)?;
        self.change_facts(lock, Some(&facts.sub), |stored| *stored = facts.clone())
            .map(drop)
    }

    /// Changes the stored facts of `lock`'s profile where they are: read, changed by `change`,
    /// written back whole. Changing one fact this way never writes stale copies of the others.
    /// With `sub`, the session must still be that user's (another may have signed in since).
    /// Returns the facts as written.
    pub fn change_facts(
        &self,
        lock: &SessionLock,
        sub: Option<&str>,
        change: impl FnOnce(&mut SessionFacts),
    ) -> Result<SessionFacts, SessionError> {
        self.change_state(lock, sub, |state| change(&mut state.facts))
    }

    /// [`SessionStore::change_facts`] for the whole state file.
    fn change_state(
        &self,
        lock: &SessionLock,
        sub: Option<&str>,
        change: impl FnOnce(&mut StateFile),
    ) -> Result<SessionFacts, SessionError> {
        let profile = lock.profile();
        let path = self.state_path(profile)?;
        let signed_out = |reason| SessionError::SignedOut {
            profile: profile.to_owned(),
            reason,
        };
        let mut state = read_state(&path, profile).map_err(signed_out)?;
        if sub.is_some_and(|sub| sub != state.facts.sub) {
            return Err(signed_out(SignedOutReason::NoSession));
        }
        change(&mut state);
        write_state(&path, &state)?;
        Ok(state.facts)
    }

    /// Ends the session of the profile `lock` is for: deletes it ([`SessionStore::clear`]) and
    /// keeps `end`, why, for whoever looks next ([`SessionStore::last_end`]).
    pub fn end(&self, lock: &SessionLock, end: &SessionEnd) -> Result<(), SessionError> {
        self.clear(lock)?;
        self.write_end(lock.profile(), end)
    }

    fn write_end(&self, profile: &str, end: &SessionEnd) -> Result<(), SessionError> {
        let path = self.ended_path(profile)?;
        let file_error = |source| SessionError::StateFile {
            path: path.clone(),
            source,
        };
        let text = serde_json::to_vec_pretty(end).map_err(|e| file_error(e.into()))?;
        crate::files::write_atomically(&path, &text).map_err(file_error)
    }

    /// Deletes the session of the profile `lock` is for: its refresh, ID and access tokens,
    /// then its state file, and any record of an earlier end. Clearing a profile with no
    /// session is not an error.
    pub fn clear(&self, lock: &SessionLock) -> Result<(), SessionError> {
        let profile = lock.profile();
        let path = self.state_path(profile)?;
        // The user id is needed to find the keychain entry; read it even from a file of another
        // version, so signing out never leaves a refresh token behind that it could have found.
        if let Some(sub) = readable_sub(&path) {
            self.keychain.delete(&account(profile, &sub))?;
            for suffix in [ID_TOKEN_SUFFIX, ACCESS_TOKEN_SUFFIX] {
                self.keychain
                    .delete(&format!("{}{sub}{suffix}", session_prefix(profile)))?;
            }
        }
        // And where the keychain can be listed, every other token of the profile too: one
        // behind a state file too damaged to name its user would otherwise stay for good.
        self.keychain
            .delete_prefixed(&session_prefix(profile), None)?;
        remove_file(&path)?;
        remove_file(&self.ended_path(profile)?)
    }

    /// Refresh tokens in the keychain for `lock`'s profile that no readable state file names,
    /// with the user id each was stored for: what sign-out should still revoke. Empty where the
    /// keychain cannot be listed. A damaged entry is skipped (clearing deletes it).
    pub fn orphaned_refresh_tokens(
        &self,
        lock: &SessionLock,
    ) -> Result<Vec<(String, RefreshToken)>, SessionError> {
        let profile = lock.profile();
        let prefix = session_prefix(profile);
        let named = readable_sub(&self.state_path(profile)?).map(|sub| account(profile, &sub));
        let accounts = self
            .keychain
            .accounts_with_prefix(&prefix)?
            .unwrap_or_default();
        let mut orphans = Vec::new();
        for account in accounts {
            if Some(&account) == named.as_ref() {
                continue;
            }
            let Some(sub) = account
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(REFRESH_TOKEN_SUFFIX))
            else {
                continue;
            };
            match self.keychain.load(&account) {
                Ok(Some(token)) => orphans.push((sub.to_owned(), RefreshToken::from(token))),
                Ok(None) | Err(KeychainError::Corrupt { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(orphans)
    }
}

/// Every writing method asks for the profile's lock: a lock for another profile is a bug in the
/// caller, refused rather than trusted.
fn check_lock(lock: &SessionLock, profile: &str) -> Result<(), SessionError> {
    check_profile_name(profile)?;
    if lock.profile() != profile {
        return Err(SessionError::WrongLock {
            held: lock.profile().to_owned(),
            profile: profile.to_owned(),
        });
    }
    Ok(())
}

/// The keychain account of a session's refresh token.
pub fn refresh_token_account(facts: &SessionFacts) -> String {
    account(&facts.profile, &facts.sub)
}

const REFRESH_TOKEN_SUFFIX: &str = "/refresh-token";
const ID_TOKEN_SUFFIX: &str = "/id-token";
const ACCESS_TOKEN_SUFFIX: &str = "/access-token";

/// The keychain account of a session's current access token.
pub fn access_token_account(facts: &SessionFacts) -> String {
    format!(
        "{}{}{ACCESS_TOKEN_SUFFIX}",
        session_prefix(&facts.profile),
        facts.sub
    )
}

/// The keychain account of a session's last valid ID token.
pub fn id_token_account(facts: &SessionFacts) -> String {
    format!(
        "{}{}{ID_TOKEN_SUFFIX}",
        session_prefix(&facts.profile),
        facts.sub
    )
}

/// What every keychain account of `profile`'s sessions starts with.
fn session_prefix(profile: &str) -> String {
    format!("session/{profile}/")
}

fn account(profile: &str, sub: &str) -> String {
    format!("{}{sub}{REFRESH_TOKEN_SUFFIX}", session_prefix(profile))
}

fn read_state(path: &Path, profile: &str) -> Result<StateFile, SignedOutReason> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(SignedOutReason::NoSession)
        }
        Err(error) => {
            return Err(SignedOutReason::Unreadable { kind: error.kind() });
        }
    };
    parse_state(&text, profile)
}

fn parse_state(text: &[u8], profile: &str) -> Result<StateFile, SignedOutReason> {
    let corrupt = |error: serde_json::Error| SignedOutReason::Corrupt {
        line: error.line(),
        column: error.column(),
    };
    let VersionOnly { version } = serde_json::from_slice(text).map_err(corrupt)?;
    if version != STATE_VERSION {
        return Err(SignedOutReason::UnknownVersion { version });
    }
    let state: StateFile = serde_json::from_slice(text).map_err(corrupt)?;
    if state.facts.profile != profile {
        return Err(SignedOutReason::OtherProfile);
    }
    Ok(state)
}

/// The user id in a state file of any version that keeps it where version 1 does.
fn readable_sub(path: &Path) -> Option<String> {
    let text = std::fs::read(path).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    value.get("facts")?.get("sub")?.as_str().map(str::to_owned)
}

/// The state file, written the one way careid writes files (atomic, owner-only).
fn write_state(path: &Path, state: &StateFile) -> Result<(), SessionError> {
    let file_error = |source| SessionError::StateFile {
        path: path.to_owned(),
        source,
    };
    let text = serde_json::to_vec_pretty(state).map_err(|e| file_error(e.into()))?;
    crate::files::write_atomically(path, &text).map_err(file_error)
}

fn remove_file(path: &Path) -> Result<(), SessionError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SessionError::StateFile {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> SessionFacts {
        SessionFacts {
            profile: "mock".into(),
            sub: "555000000001".into(),
            auth_time: 1_750_000_000,
            last_activity: 1_750_000_100,
            selected_role_id: Some("555254242106".into()),
            sid: Some("sid-1".into()),
            assurance_level: Some(3),
            stored_at: 1_750_000_000,
        }
    }

    fn state_text() -> String {
        serde_json::to_string(&StateFile {
            version: STATE_VERSION,
            refresh_token_stored: true,
            facts: facts(),
            sign_in: None,
            access_token_expires_at: None,
        })
        .expect("serialises")
    }

    #[test]
    fn state_files_that_are_not_a_session_read_as_signed_out() {
        let good = state_text();
        let cases: &[(&str, String, Result<(), &str>)] = &[
            ("valid", good.clone(), Ok(())),
            ("empty file", String::new(), Err("state_corrupt")),
            (
                "truncated",
                good[..good.len() / 2].to_owned(),
                Err("state_corrupt"),
            ),
            (
                "not JSON",
                "\u{0}\u{1}binary".to_owned(),
                Err("state_corrupt"),
            ),
            (
                "no version",
                r#"{"facts":{}}"#.to_owned(),
                Err("state_corrupt"),
            ),
            (
                "version is not a number",
                r#"{"version":"1"}"#.to_owned(),
                Err("state_corrupt"),
            ),
            (
                "a fact missing",
                good.replace(r#""sub":"555000000001","#, ""),
                Err("state_corrupt"),
            ),
            (
                "an unknown field",
                good.replace(r#""version":1"#, r#""version":1,"access_token":"x""#),
                Err("state_corrupt"),
            ),
            (
                "a newer version",
                good.replace(r#""version":1"#, r#""version":2"#),
                Err("state_unknown_version"),
            ),
            (
                "version 0",
                r#"{"version":0}"#.to_owned(),
                Err("state_unknown_version"),
            ),
            (
                "another profile's file",
                good.replace(r#""profile":"mock""#, r#""profile":"int""#),
                Err("state_other_profile"),
            ),
        ];
        for (name, text, expect) in cases {
            let got = parse_state(text.as_bytes(), "mock")
                .map(|state| assert_eq!(state.facts, facts(), "{name}"))
                .map_err(|reason| reason.code());
            assert_eq!(&got, expect, "{name}");
        }
        assert_eq!(
            parse_state(br#"{"version":7,"facts":"anything"}"#, "mock").map(|_| ()),
            Err(SignedOutReason::UnknownVersion { version: 7 })
        );
    }

    /// Numbers no careid writes read as a damaged file (signed out), never a panic; the largest
    /// `u64` parses, and the session policy ends such a session (see `policy`).
    #[test]
    fn numbers_out_of_range_in_a_state_file_read_as_damaged() {
        let good = state_text();
        for field in ["auth_time", "last_activity", "stored_at", "assurance_level"] {
            let current = serde_json::to_value(facts()).expect("serialises")[field].to_string();
            let with = |value: &str| {
                good.replace(
                    &format!(r#""{field}":{current}"#),
                    &format!(r#""{field}":{value}"#),
                )
            };
            for value in [
                "-1",
                "1e300",
                "1.5",
                r#""1750000000""#,
                "18446744073709551616",
            ] {
                let got = parse_state(with(value).as_bytes(), "mock").map(|_| ());
                assert_eq!(
                    got.map_err(|reason| reason.code()),
                    Err("state_corrupt"),
                    "{field}={value}"
                );
            }
            let largest = if field == "assurance_level" {
                "255"
            } else {
                "18446744073709551615"
            };
            assert!(
                parse_state(with(largest).as_bytes(), "mock").is_ok(),
                "{field}={largest}"
            );
        }
    }

    #[test]
    fn a_missing_or_unreadable_file_reads_as_signed_out() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            read_state(&dir.path().join("mock.json"), "mock").map(|_| ()),
            Err(SignedOutReason::NoSession)
        );
        // A folder where the file should be cannot be read as one.
        std::fs::create_dir(dir.path().join("int.json")).expect("dir");
        assert!(matches!(
            read_state(&dir.path().join("int.json"), "int"),
            Err(SignedOutReason::Unreadable { .. })
        ));
    }

    #[test]
    fn state_is_written_whole_and_owner_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state_dir = dir.path().join("state");
        let path = state_dir.join("mock.json");
        let state = StateFile {
            version: STATE_VERSION,
            refresh_token_stored: false,
            facts: facts(),
            sign_in: None,
            access_token_expires_at: Some(1_750_003_600),
        };
        write_state(&path, &state).expect("written");
        write_state(&path, &state).expect("written over");
        let read = read_state(&path, "mock").expect("reads back");
        assert_eq!(read.facts, facts());
        assert!(!read.refresh_token_stored);
        assert_eq!(read.access_token_expires_at, Some(1_750_003_600));
        let names: Vec<_> = std::fs::read_dir(&state_dir)
            .expect("lists")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["mock.json"], "no temporary file is left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&state_dir), 0o700);
        }
    }
}
