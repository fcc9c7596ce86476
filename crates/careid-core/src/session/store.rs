//! Where a session is kept: its facts in `<state folder>/<profile>.json`, its refresh token only
//! in the OS keychain under `session/<profile>/<sub>/refresh-token`, the last valid ID token
//! beside it under `session/<profile>/<sub>/id-token` (a refresh may answer without one, OIDC
//! Core §12.2, and sign-out still needs it as `id_token_hint`), and the current access token
//! under `session/<profile>/<sub>/access-token`, so it is reused until it nears its expiry. That
//! expiry is not secret: the state file keeps it (`access_token_expires_at`), and it is there
//! exactly when the access token is kept.
//!
//! A state file that is missing, unreadable or damaged means "signed out", never an error that
//! stops the app: the user signs in again and the next save replaces it. A file written by a
//! newer careid is read, not called damaged: the fields this careid knows are used, the others
//! are kept as they were when it rewrites the file, and only a newer format that says older
//! careids must not read it signs out (the rule is at [`STATE_VERSION`]). A field it does not
//! know that could hold a secret makes the file damaged ([`refuse_secrets`]).
//!
//! When careid ends a session ([`SessionStore::end`], or a refresh token gone from the keychain),
//! it keeps why in `<profile>.ended.json` ([`SessionEnd`]) until the next sign-in, so a process
//! that finds the session gone (the app, after `careid logout`) learns why.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::id_token::OriginalIdToken;
use crate::secret::{AccessToken, IdToken, RefreshToken, SecretString};
use crate::session::{
    check_profile_name, EndReason, SessionEnd, SessionError, SessionFacts, SessionLock,
    SignInRecord, SignedOutReason,
};
use crate::time::unix_seconds;
use crate::values::AcrValues;
use crate::{Keychain, KeychainError};

/// The format of the state files this careid writes: `<profile>.json` and
/// `<profile>.ended.json`. The rule for reading a file of another careid:
///
/// - `version` is the format of the careid that wrote the file. A file of this format or a newer
///   one is read: the fields this careid knows must be valid (one of the wrong type is a damaged
///   file), and the fields it does not know, a newer careid's, are ignored for reading, kept
///   as they were when it rewrites the file ([`Unknown`]), and the higher of the two versions
///   is written, so the newer careid finds its fields intact. A version of 0, or none in a state
///   file, is damaged.
/// - `compatible_with`, when there, is the oldest format that can read and rewrite the file; it
///   is 1 when absent, and this careid never writes it. A newer careid writes it only with a
///   change an older one must not read or rewrite (a known field that changed its meaning, or
///   one that would be wrong when its own new fields were left as they were): a file whose
///   `compatible_with` is newer than this format reads as signed out
///   ([`SignedOutReason::UnknownVersion`]), and the next sign-in here replaces it.
const STATE_VERSION: FormatVersion = FormatVersion(1);

/// A format number: 1 or more (0 is no careid's, so a file that says 0 is damaged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
struct FormatVersion(u64);

impl TryFrom<u64> for FormatVersion {
    type Error = &'static str;

    fn try_from(version: u64) -> Result<Self, Self::Error> {
        if version == 0 {
            Err("no careid writes format 0")
        } else {
            Ok(Self(version))
        }
    }
}

impl From<FormatVersion> for u64 {
    fn from(version: FormatVersion) -> u64 {
        version.0
    }
}

impl FormatVersion {
    /// Whether this careid may read, and rewrite, a file that formats from `compatible_with` on
    /// can read (see [`STATE_VERSION`]).
    fn readable(compatible_with: Option<FormatVersion>) -> bool {
        compatible_with.is_none_or(|oldest| oldest <= STATE_VERSION)
    }

    /// The format of an end record written before careid wrote one: the first.
    fn first() -> Self {
        Self(1)
    }
}

/// The state file: the facts, and whether a refresh token should be in the keychain, so a token
/// that vanished from the keychain reads as signed out rather than as a session that cannot
/// refresh. Each object keeps the fields a newer careid wrote beside the ones this careid knows.
#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: FormatVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compatible_with: Option<FormatVersion>,
    refresh_token_stored: bool,
    facts: Kept<SessionFacts>,
    /// Absent in files written before careid kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sign_in: Option<StoredSignIn>,
    /// When the access token kept in the keychain expires (seconds since the epoch); absent
    /// when none is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token_expires_at: Option<u64>,
    #[serde(flatten)]
    unknown: Unknown,
}

/// Read first, so a file that only a newer careid can read is told apart from a damaged one.
#[derive(Deserialize)]
struct FormatOnly {
    version: FormatVersion,
    #[serde(default)]
    compatible_with: Option<FormatVersion>,
}

/// An object of a state file as this careid knows it (`known`), with the fields of a newer
/// careid beside it, kept as they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Kept<T> {
    // Before `unknown`: the known fields are taken out first, and `unknown` has the rest.
    #[serde(flatten)]
    known: T,
    #[serde(flatten)]
    unknown: Unknown,
}

impl<T> Kept<T> {
    /// `known` with no fields of a newer careid: what this careid writes of its own.
    fn new(known: T) -> Self {
        Self {
            known,
            unknown: Unknown::default(),
        }
    }
}

/// A [`SignInRecord`] as the state file keeps it: the same fields, written the same way, and at
/// each level the fields of a newer careid (its [`OriginalIdToken`] is an object of its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredSignIn {
    id_token: Kept<OriginalIdToken>,
    acr_values: Option<AcrValues>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_id_assurance_level: Option<u8>,
    #[serde(flatten)]
    unknown: Unknown,
}

impl StoredSignIn {
    fn new(record: &SignInRecord) -> Self {
        // Every field named, so a field added to the record cannot be forgotten here.
        let SignInRecord {
            id_token,
            acr_values,
            min_id_assurance_level,
        } = record.clone();
        Self {
            id_token: Kept::new(id_token),
            acr_values,
            min_id_assurance_level,
            unknown: Unknown::default(),
        }
    }

    fn record(&self) -> SignInRecord {
        SignInRecord {
            id_token: self.id_token.known.clone(),
            acr_values: self.acr_values.clone(),
            min_id_assurance_level: self.min_id_assurance_level,
        }
    }
}

/// `<profile>.ended.json`: a [`SessionEnd`] under the same format rule as the state file
/// ([`STATE_VERSION`]). careid writes it whole and never rewrites it, so a newer careid's fields
/// in it are only read, to be refused when one may hold a secret.
#[derive(Debug, Serialize, Deserialize)]
struct EndFile {
    /// Absent from the records of careids that did not write one: those are format 1.
    #[serde(default = "FormatVersion::first")]
    version: FormatVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compatible_with: Option<FormatVersion>,
    #[serde(flatten)]
    end: SessionEnd,
    #[serde(flatten)]
    unknown: Unknown,
}

/// The fields of one object of a state file that this careid does not know: a newer careid's.
/// Reading them refuses any that may hold a secret ([`refuse_secrets`]), so a file that has one
/// reads as damaged and is never written back.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
struct Unknown(Map<String, Value>);

impl<'de> Deserialize<'de> for Unknown {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = Map::deserialize(deserializer)?;
        refuse_secrets(&fields).map_err(serde::de::Error::custom)?;
        Ok(Self(fields))
    }
}

/// Refuses the fields of a state file this careid does not know when any may hold a secret.
///
/// A state file never holds a token or a secret: those are in the keychain alone, and the
/// state file is plain JSON that backups, sync tools and support bundles copy. This careid
/// writes only the fields it knows, but it keeps a newer careid's fields as they were; so that
/// keeping them can never carry a token into a file (put there by a bug, a hand or another
/// program), a field it does not know is refused, at any depth, when its name looks like a
/// secret's (it has `token`, `secret`, `password` or `private_key` in it, in any case, `-` or
/// `_`), or when a string in it (or a name) looks like a JWT. The file then reads as damaged,
/// signed out, and nothing of it is written back. The fields this careid knows are not judged
/// here: `access_token_expires_at` and `refresh_token_stored` are not secret. A newer careid
/// must therefore name its own fields otherwise. The error names nothing of the field.
fn refuse_secrets(fields: &Map<String, Value>) -> Result<(), &'static str> {
    fn name_may_be_secret(name: &str) -> bool {
        let lower = name.to_lowercase().replace('-', "_");
        ["token", "secret", "password", "private_key", "privatekey"]
            .iter()
            .any(|word| lower.contains(word))
            || looks_like_jwt(name)
    }
    fn may_be_secret(value: &Value) -> bool {
        match value {
            Value::String(text) => looks_like_jwt(text),
            Value::Array(items) => items.iter().any(may_be_secret),
            Value::Object(fields) => fields
                .iter()
                .any(|(name, value)| name_may_be_secret(name) || may_be_secret(value)),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    if fields
        .iter()
        .any(|(name, value)| name_may_be_secret(name) || may_be_secret(value))
    {
        Err("a field this careid does not know may hold a secret")
    } else {
        Ok(())
    }
}

/// Whether `text` has what looks like a JWT in it: `eyJ` (a base64url JSON header), then two
/// dots in the same run of base64url characters and dots.
fn looks_like_jwt(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .any(|run| {
            run.find("eyJ")
                .is_some_and(|at| run[at..].matches('.').count() >= 2)
        })
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
    /// Boxed: a session is far larger than a reason for none.
    Session(Box<Loaded>),
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
    /// Whether the keychain can keep a session's tokens now ([`Keychain::probe`]).
    pub fn check_keychain(&self) -> Result<(), KeychainError> {
        self.keychain.probe()
    }

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
    /// record that cannot be read is no record, and so is one only a newer careid can read
    /// (the state file's format rule, at `STATE_VERSION`).
    pub fn last_end(&self, profile: &str) -> Option<SessionEnd> {
        let text = std::fs::read(self.ended_path(profile).ok()?).ok()?;
        parse_end(&text)
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
            Ok(StateFile {
                facts: Kept {
                    known: previous, ..
                },
                ..
            }) => {
                if previous.sub != facts.sub {
                    self.keychain.delete(&refresh_token_account(&previous))?;
                    self.keychain.delete(&id_token_account(&previous))?;
                    self.keychain.delete(&access_token_account(&previous))?;
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
        // A new session's file is this careid's own: a newer careid's fields in the file it
        // replaces were about the session before.
        let state = StateFile {
            version: STATE_VERSION,
            compatible_with: None,
            refresh_token_stored: refresh_token.is_some(),
            facts: Kept::new(facts.clone()),
            sign_in: sign_in.map(StoredSignIn::new),
            access_token_expires_at: access_token.map(|kept| kept.expires_at),
            unknown: Unknown::default(),
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
            Ok(state) => Restored::Session(Box::new(Loaded {
                sign_in: state.sign_in.map(|stored| Box::new(stored.record())),
                facts: state.facts.known,
                refresh_token: None,
                refresh_token_stored: state.refresh_token_stored,
                access_token_expires_at: state.access_token_expires_at,
            })),
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
    /// written back whole. Changing one fact this way never writes stale copies of the others,
    /// and the fields of a newer careid in the file are written back as they were.
    /// With `sub`, the session must still be that user's (another may have signed in since).
    /// Returns the facts as written.
    pub fn change_facts(
        &self,
        lock: &SessionLock,
        sub: Option<&str>,
        change: impl FnOnce(&mut SessionFacts),
    ) -> Result<SessionFacts, SessionError> {
        self.change_state(lock, sub, |state| change(&mut state.facts.known))
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
        if sub.is_some_and(|sub| sub != state.facts.known.sub) {
            return Err(signed_out(SignedOutReason::NoSession));
        }
        change(&mut state);
        // The higher of the file's format and this careid's: a newer careid's file stays its
        // format, with its fields as they were.
        state.version = state.version.max(STATE_VERSION);
        write_state(&path, &state)?;
        Ok(state.facts.known)
    }

    /// Ends the session of the profile `lock` is for: deletes it ([`SessionStore::clear`]) and
    /// keeps `end`, why, for whoever looks next ([`SessionStore::last_end`]).
    /// The end is added to the timeline of the sign-in's record in the history.
    pub fn end(&self, lock: &SessionLock, end: &SessionEnd) -> Result<(), SessionError> {
        self.clear(lock)?;
        self.write_end(lock.profile(), end)?;
        let event = crate::history::TimelineEvent {
            at: crate::history::Time::at(end.at),
            kind: "ended".to_owned(),
            detail: Some(format!("{}: {}", end.reason.code(), end.detail)),
        };
        crate::history::History::in_state_dir(&self.state_dir).note(
            lock.profile(),
            &end.sub,
            event,
        );
        Ok(())
    }

    fn write_end(&self, profile: &str, end: &SessionEnd) -> Result<(), SessionError> {
        let path = self.ended_path(profile)?;
        let file_error = |source| SessionError::StateFile {
            path: path.clone(),
            source,
        };
        let file = EndFile {
            version: STATE_VERSION,
            compatible_with: None,
            end: end.clone(),
            unknown: Unknown::default(),
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|e| file_error(e.into()))?;
        crate::files::write_atomically(&path, &text).map_err(file_error)
    }

    /// Deletes the session of the profile `lock` is for: its refresh, ID and access tokens,
    /// then its state file, and any record of an earlier end. Clearing a profile with no
    /// session is not an error.
    pub fn clear(&self, lock: &SessionLock) -> Result<(), SessionError> {
        let profile = lock.profile();
        let path = self.state_path(profile)?;
        // The user id is needed to find the keychain entry; read it even from a file only a
        // newer careid can read, or a damaged one, so signing out never leaves a refresh token
        // behind that it could have found.
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
    let format: FormatOnly = serde_json::from_slice(text).map_err(corrupt)?;
    if !FormatVersion::readable(format.compatible_with) {
        return Err(SignedOutReason::UnknownVersion {
            version: format.version.into(),
        });
    }
    let state: StateFile = serde_json::from_slice(text).map_err(corrupt)?;
    if state.facts.known.profile != profile {
        return Err(SignedOutReason::OtherProfile);
    }
    Ok(state)
}

/// The end in an end record, under the state file's format rule: none when it is damaged or
/// only a newer careid can read it.
fn parse_end(text: &[u8]) -> Option<SessionEnd> {
    let file: EndFile = serde_json::from_slice(text).ok()?;
    FormatVersion::readable(file.compatible_with).then_some(file.end)
}

/// The user id in a state file of any format that keeps it where format 1 does.
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
            name: None,
            auth_time: 1_750_000_000,
            last_activity: 1_750_000_100,
            selected_role_id: Some("555254242106".into()),
            role: None,
            sid: Some("sid-1".into()),
            assurance_level: Some(3),
            stored_at: 1_750_000_000,
        }
    }

    fn state_text() -> String {
        serde_json::to_string(&StateFile {
            version: STATE_VERSION,
            compatible_with: None,
            refresh_token_stored: true,
            facts: Kept::new(facts()),
            sign_in: None,
            access_token_expires_at: None,
            unknown: Unknown::default(),
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
                Ok(()),
            ),
            (
                "a newer version only newer careids may read",
                good.replace(r#""version":1"#, r#""version":3,"compatible_with":2"#),
                Err("state_unknown_version"),
            ),
            (
                "a newer version this careid may read",
                good.replace(r#""version":1"#, r#""version":3,"compatible_with":1"#),
                Ok(()),
            ),
            (
                "version 0",
                good.replace(r#""version":1"#, r#""version":0"#),
                Err("state_corrupt"),
            ),
            (
                "compatible with 0",
                good.replace(r#""version":1"#, r#""version":1,"compatible_with":0"#),
                Err("state_corrupt"),
            ),
            (
                "another profile's file",
                good.replace(r#""profile":"mock""#, r#""profile":"int""#),
                Err("state_other_profile"),
            ),
        ];
        for (name, text, expect) in cases {
            let got = parse_state(text.as_bytes(), "mock")
                .map(|state| assert_eq!(state.facts.known, facts(), "{name}"))
                .map_err(|reason| reason.code());
            assert_eq!(&got, expect, "{name}");
        }
        // Only newer careids may read it, so its other fields are not judged.
        assert_eq!(
            parse_state(
                br#"{"version":7,"compatible_with":7,"facts":"anything"}"#,
                "mock"
            )
            .map(|_| ()),
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
            compatible_with: None,
            refresh_token_stored: false,
            facts: Kept::new(facts()),
            sign_in: None,
            access_token_expires_at: Some(1_750_003_600),
            unknown: Unknown::default(),
        };
        write_state(&path, &state).expect("written");
        write_state(&path, &state).expect("written over");
        let read = read_state(&path, "mock").expect("reads back");
        assert_eq!(read.facts.known, facts());
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

    fn sign_in() -> SignInRecord {
        serde_json::from_value(serde_json::json!({
            "id_token": {
                "iss": "https://cis2.example/realm",
                "sub": "555000000001",
                "aud": ["careid"],
                "azp": "careid",
                "auth_time": 1_750_000_000,
                "nonce": "nonce-1"
            },
            "acr_values": "AAL3_ANY",
            "min_id_assurance_level": 3
        }))
        .expect("a sign-in record")
    }

    /// A state file of this careid's format, with a sign-in record and a kept access token.
    fn this_state() -> StateFile {
        StateFile {
            version: STATE_VERSION,
            compatible_with: None,
            refresh_token_stored: true,
            facts: Kept::new(facts()),
            sign_in: Some(StoredSignIn::new(&sign_in())),
            access_token_expires_at: Some(1_750_003_600),
            unknown: Unknown::default(),
        }
    }

    fn this_format() -> Value {
        serde_json::to_value(this_state()).expect("serialises")
    }

    /// What a newer careid (format 2) might write: fields this careid does not know at the top,
    /// in `facts`, in `sign_in` and in its ID token.
    fn newer_format() -> Value {
        let mut file = this_format();
        file["version"] = 2.into();
        file["device"] = serde_json::json!({"name": "ward-3-pc", "slots": [1, 2]});
        file["facts"]["role_name"] = "Clinical Practitioner".into();
        file["facts"]["org_code"] = "RX1".into();
        file["sign_in"]["amr"] = serde_json::json!(["pwd", "otp"]);
        file["sign_in"]["id_token"]["acr"] = "AAL3_ANY".into();
        file
    }

    /// A store over a temporary folder. Its keychain is never opened: the state file is all
    /// these tests read and write.
    fn store_with(file: &Value) -> (tempfile::TempDir, SessionStore) {
        store_with_text(&serde_json::to_vec_pretty(file).expect("serialises"))
    }

    fn store_with_text(text: &[u8]) -> (tempfile::TempDir, SessionStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::new(
            Keychain::with_service("careid-unit-never-opened"),
            dir.path().join("state"),
        );
        std::fs::create_dir_all(store.state_dir()).expect("state folder");
        std::fs::write(store.state_path("mock").expect("path"), text).expect("written");
        (dir, store)
    }

    fn file_of(store: &SessionStore) -> Value {
        let text = std::fs::read(store.state_path("mock").expect("path")).expect("state file");
        serde_json::from_slice(&text).expect("JSON")
    }

    fn lock(store: &SessionStore) -> SessionLock {
        SessionLock::acquire(store.state_dir(), "mock", Duration::from_secs(5)).expect("lock")
    }

    #[test]
    fn a_newer_state_file_with_fields_this_careid_does_not_know_is_signed_in() {
        let (_dir, store) = store_with(&newer_format());
        let Ok(Restored::Session(loaded)) = store.load_state("mock") else {
            panic!("a newer file reads as signed in");
        };
        assert_eq!(loaded.facts, facts());
        assert_eq!(loaded.sign_in, Some(Box::new(sign_in())));
        assert!(loaded.refresh_token_stored);
        assert_eq!(loaded.access_token_expires_at, Some(1_750_003_600));
    }

    #[test]
    fn a_rewrite_keeps_a_newer_careids_fields_and_version() {
        let (_dir, store) = store_with(&newer_format());
        let held = lock(&store);
        let active = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_500);
        let mut facts = store.record_activity(&held, active).expect("recorded");
        assert_eq!(facts.last_activity, 1_750_000_500);
        facts.selected_role_id = Some("555254242107".into());
        store.update_facts(&held, &facts).expect("updated");
        drop(held);

        let mut expected = newer_format();
        expected["facts"]["last_activity"] = 1_750_000_500_u64.into();
        expected["facts"]["selected_role_id"] = "555254242107".into();
        assert_eq!(file_of(&store), expected, "only the changed facts differ");

        // The newer careid's `compatible_with` is kept with the rest.
        let mut compatible = newer_format();
        compatible["version"] = 3.into();
        compatible["compatible_with"] = 1.into();
        let (_dir, store) = store_with(&compatible);
        store
            .record_activity(&lock(&store), active)
            .expect("recorded");
        let written = file_of(&store);
        assert_eq!(written["version"], 3);
        assert_eq!(written["compatible_with"], 1);
        assert_eq!(written["facts"]["role_name"], "Clinical Practitioner");
    }

    #[test]
    fn a_file_of_this_format_is_written_back_as_it_was() {
        // Format 1 as careid wrote it before it kept a newer careid's fields.
        let format_1 = r#"{
  "version": 1,
  "refresh_token_stored": true,
  "facts": {
    "profile": "mock",
    "sub": "555000000001",
    "auth_time": 1750000000,
    "last_activity": 1750000100,
    "selected_role_id": "555254242106",
    "sid": "sid-1",
    "assurance_level": 3,
    "stored_at": 1750000000
  },
  "sign_in": {
    "id_token": {
      "iss": "https://cis2.example/realm",
      "sub": "555000000001",
      "aud": [
        "careid"
      ],
      "azp": "careid",
      "auth_time": 1750000000,
      "nonce": "nonce-1"
    },
    "acr_values": "AAL3_ANY",
    "min_id_assurance_level": 3
  },
  "access_token_expires_at": 1750003600
}"#;
        let written = serde_json::to_vec_pretty(&this_state()).expect("serialises");
        assert_eq!(String::from_utf8_lossy(&written), format_1);
        let (_dir, store) = store_with_text(format_1.as_bytes());
        let path = store.state_path("mock").expect("path");
        let state = read_state(&path, "mock").expect("reads");
        write_state(&path, &state).expect("written");
        let text = std::fs::read(&path).expect("state file");
        assert_eq!(String::from_utf8_lossy(&text), format_1);
        // A change writes this careid's format, and nothing it does not know.
        let active = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_500);
        store
            .record_activity(&lock(&store), active)
            .expect("recorded");
        let mut expected = this_format();
        expected["facts"]["last_activity"] = 1_750_000_500_u64.into();
        assert_eq!(file_of(&store), expected);
        assert_eq!(file_of(&store)["version"], 1);
    }

    /// The state file keeps a sign-in record through its own mirror of it: the two are written
    /// alike, so files of careids before and after read the same.
    #[test]
    fn a_stored_sign_in_is_written_as_the_record_is() {
        let mut record = sign_in();
        for _ in 0..2 {
            assert_eq!(
                serde_json::to_value(StoredSignIn::new(&record)).expect("serialises"),
                serde_json::to_value(&record).expect("serialises")
            );
            assert_eq!(StoredSignIn::new(&record).record(), record);
            record.acr_values = None;
            record.min_id_assurance_level = None;
            record.id_token.azp = None;
        }
    }

    /// `file` with `value` at `pointer` (a JSON pointer whose last step may be a new field).
    fn with_at(mut file: Value, pointer: &str, value: Value) -> Value {
        let (parent, name) = pointer.rsplit_once('/').expect("a pointer");
        file.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("an object")
            .insert(name.to_owned(), value);
        file
    }

    #[test]
    fn a_known_field_of_the_wrong_type_in_a_newer_file_is_damaged() {
        use serde_json::json;
        for (pointer, value) in [
            ("/facts/auth_time", json!("soon")),
            ("/facts/sub", json!(555)),
            ("/refresh_token_stored", json!("yes")),
            ("/sign_in/id_token/aud", json!("careid")),
            ("/access_token_expires_at", json!(-1)),
            ("/compatible_with", json!("1")),
        ] {
            let file = with_at(newer_format(), pointer, value);
            let text = serde_json::to_vec(&file).expect("serialises");
            assert_eq!(
                parse_state(&text, "mock").map(|_| ()).map_err(|r| r.code()),
                Err("state_corrupt"),
                "{pointer}"
            );
        }
    }

    #[test]
    fn a_field_this_careid_does_not_know_that_may_hold_a_secret_is_refused() {
        use serde_json::json;
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI1NTUwMDAwMDAwMDEifQ.c2lnbmF0dXJl";
        for (pointer, value) in [
            ("/access_token", json!("opaque")),
            ("/facts/refresh_token", json!("opaque")),
            ("/sign_in/id_token/id_token", json!("opaque")),
            ("/sign_in/Session-Token", json!("opaque")),
            ("/device", json!({"auth": [{"client_secret": "s"}]})),
            ("/facts/password", json!("p")),
            ("/privateKey", json!({"d": "x"})),
            ("/token_kept", Value::Null),
            // A JWT under an innocent name, in a sentence, in a list.
            ("/note", json!(jwt)),
            ("/facts/header", json!(format!("Bearer {jwt}"))),
            ("/sign_in/amr", json!(["pwd", jwt])),
        ] {
            for file in [newer_format(), this_format()] {
                let file = with_at(file, pointer, value.clone());
                let text = serde_json::to_vec(&file).expect("serialises");
                assert_eq!(
                    parse_state(&text, "mock").map(|_| ()).map_err(|r| r.code()),
                    Err("state_corrupt"),
                    "{pointer}"
                );
            }
        }

        // Through the store: signed out, and nothing is written back.
        let mut file = newer_format();
        file["note"] = jwt.into();
        let (_dir, store) = store_with(&file);
        let before = std::fs::read(store.state_path("mock").expect("path")).expect("file");
        let Ok(Restored::SignedOut(reason)) = store.load_state("mock") else {
            panic!("a file with a JWT in it reads as signed out");
        };
        assert_eq!(reason.code(), "state_corrupt");
        let error = store
            .record_activity(&lock(&store), SystemTime::now())
            .expect_err("signed out");
        assert_eq!(error.code(), "session_signed_out");
        let after = std::fs::read(store.state_path("mock").expect("path")).expect("file");
        assert_eq!(after, before, "the file is left as it was");

        // Fields that look like nothing secret are read.
        let mut file = newer_format();
        file["note"] = "version 1.2.3 of eyJ-less text. Two dots.".into();
        file["facts"]["eyJ"] = "eyJ".into();
        file["facts"]["expires"] = "2026.01.02".into();
        assert!(parse_state(&serde_json::to_vec(&file).expect("JSON"), "mock").is_ok());
    }

    #[test]
    fn end_records_follow_the_state_file_format_rule() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SessionStore::new(
            Keychain::with_service("careid-unit-never-opened"),
            dir.path().join("state"),
        );
        let end = SessionEnd::new(
            EndReason::Inactivity,
            &facts(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_001_000),
        );
        store.write_end("mock", &end).expect("written");
        assert_eq!(store.last_end("mock"), Some(end.clone()));
        let path = store.ended_path("mock").expect("path");
        let written: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("record")).expect("JSON");
        assert_eq!(written["version"], 1);
        assert_eq!(written["reason"], "inactivity");

        let with = |change: fn(&mut Value)| {
            let mut record = written.clone();
            change(&mut record);
            parse_end(&serde_json::to_vec(&record).expect("JSON"))
        };
        // An earlier careid's record, with no version.
        assert_eq!(
            with(|record| {
                record.as_object_mut().expect("object").remove("version");
            }),
            Some(end.clone())
        );
        // A newer careid's, with fields this one does not know.
        assert_eq!(
            with(|record| {
                record["version"] = 2.into();
                record["ended_by_device"] = "ward-3-pc".into();
            }),
            Some(end.clone())
        );
        // One only newer careids may read, a damaged one, and one that may hold a secret.
        assert_eq!(
            with(|record| {
                record["version"] = 2.into();
                record["compatible_with"] = 2.into();
            }),
            None
        );
        assert_eq!(with(|record| record["version"] = 0.into()), None);
        assert_eq!(with(|record| record["at"] = "then".into()), None);
        assert_eq!(
            with(|record| record["access_token"] = "opaque".into()),
            None
        );
        assert_eq!(
            with(|record| {
                record["why"] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".into();
            }),
            None
        );
    }
}
