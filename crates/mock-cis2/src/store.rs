//! The provider's in-memory state: pending sign-ins, authorization codes (RFC 6749 §4.1.2,
//! §10.5), grants and the tokens issued from them (RFC 6749 §10.4 and RFC 9700 §4.14 for refresh
//! token rotation), all with an expiry and swept so memory stays bounded.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::authenticators::Authenticator;

/// Seconds since the Unix epoch: the clock of every expiry, passed in so tests can move it.
pub(crate) type UnixTime = u64;

/// A validated authorization request, as the token endpoint must later check it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 `code_challenge`, when one was sent.
    pub code_challenge: Option<String>,
    pub acr_values: Vec<String>,
    /// The `prompt` values (OpenID Connect Core 1.0 §3.1.2.1): `login` and `none` matter here.
    pub prompt: Vec<String>,
    /// `max_age` in seconds: an older authentication must be repeated.
    pub max_age: Option<u64>,
    /// `login_hint`: the user id the sign-in page pre-fills.
    pub login_hint: Option<String>,
}

impl AuthorizationRequest {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|requested| requested == scope)
    }

    pub fn has_prompt(&self, prompt: &str) -> bool {
        self.prompt.iter().any(|requested| requested == prompt)
    }
}

/// How far a pending sign-in has gone through the pages: the user chosen, the authenticator
/// chosen, and once authenticated, the SSO session it created or reused.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    pub user_id: Option<String>,
    pub authenticator: Option<Authenticator>,
    pub sid: Option<String>,
}

/// A completed sign-in: who, how, and in which CIS2 session.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct SignIn {
    pub user_id: String,
    pub authenticator: Authenticator,
    pub acr: String,
    pub selected_roleid: Option<String>,
    pub auth_time: UnixTime,
    pub sid: String,
}

/// What a code or refresh token stands for: one sign-in authorised for one client. Revoking a
/// grant ends every token issued under it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct Grant {
    pub request: AuthorizationRequest,
    pub sign_in: SignIn,
    expires_at: UnixTime,
}

pub(crate) type GrantId = u64;

#[derive(Debug)]
struct PendingSignIn {
    request: AuthorizationRequest,
    progress: Progress,
    expires_at: UnixTime,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
enum CodeState {
    Unused(Box<(AuthorizationRequest, SignIn)>),
    /// Kept until the code would have expired, so a replay can be recognised and punished.
    Redeemed(Option<GrantId>),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct IssuedCode {
    state: CodeState,
    expires_at: UnixTime,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct AccessTokenRecord {
    grant: GrantId,
    expires_at: UnixTime,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct RefreshTokenRecord {
    grant: GrantId,
    client_id: String,
    used: bool,
    expires_at: UnixTime,
}

/// The outcome of presenting an authorization code.
#[derive(Debug)]
pub(crate) enum CodeRedemption {
    /// First use: the code is now spent.
    Fresh(Box<(AuthorizationRequest, SignIn)>),
    /// The code was already used; the grant it produced, if any, has been revoked.
    Replayed,
    /// Never issued, or expired.
    Unknown,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub(crate) enum RefreshUse {
    /// The token was current: it is now spent and the grant may issue a new one.
    Current(GrantId, Box<Grant>),
    /// An already rotated token came back: the whole grant has been revoked.
    Reused,
    /// Unknown, expired, revoked, or issued to another client.
    Invalid,
}

/// What introspection learns of a token the asking client holds (RFC 7662 §2.2).
#[derive(Debug)]
pub(crate) enum ActiveToken {
    Access {
        grant: Box<Grant>,
        expires_at: UnixTime,
    },
    Refresh {
        grant: Box<Grant>,
        expires_at: UnixTime,
    },
}

/// How many records of each kind are held: for the sweeper's log and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreCounts {
    pub pending_sign_ins: usize,
    pub codes: usize,
    pub grants: usize,
    pub access_tokens: usize,
    pub refresh_tokens: usize,
}

impl Records {
    /// The number of records a state file keeps, to tell whether a sweep removed any.
    fn kept_len(&self) -> usize {
        self.codes.len() + self.grants.len() + self.access_tokens.len() + self.refresh_tokens.len()
    }
}

#[derive(Debug, Default)]
struct Records {
    pending: HashMap<String, PendingSignIn>,
    codes: HashMap<String, IssuedCode>,
    grants: HashMap<GrantId, Grant>,
    access_tokens: HashMap<String, AccessTokenRecord>,
    refresh_tokens: HashMap<String, RefreshTokenRecord>,
    next_grant: GrantId,
    /// Counts the changes to what a state file keeps (everything but pending sign-ins).
    generation: u64,
}

/// What the state file keeps of the store: codes, grants and tokens, not yet expired. Pending
/// sign-ins belong to a browser's page flow and are not kept.
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct StoreSnapshot {
    codes: HashMap<String, IssuedCode>,
    grants: HashMap<GrantId, Grant>,
    access_tokens: HashMap<String, AccessTokenRecord>,
    refresh_tokens: HashMap<String, RefreshTokenRecord>,
    next_grant: GrantId,
}

impl StoreSnapshot {
    /// Drops what has expired at `now`, and tokens whose grant is gone (revoked).
    fn without_expired(mut self, now: UnixTime) -> Self {
        self.codes.retain(|_, code| code.expires_at > now);
        self.grants.retain(|_, grant| grant.expires_at > now);
        let grants = &self.grants;
        self.access_tokens
            .retain(|_, token| token.expires_at > now && grants.contains_key(&token.grant));
        self.refresh_tokens
            .retain(|_, token| token.expires_at > now && grants.contains_key(&token.grant));
        self
    }
}

/// All state, behind one lock held only for map operations.
#[derive(Debug, Default)]
pub(crate) struct Store {
    records: Mutex<Records>,
}

impl Store {
    fn records(&self) -> std::sync::MutexGuard<'_, Records> {
        // A panic while holding the lock leaves the maps consistent (each operation is a few
        // map calls), so the state is still usable.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn insert_pending(&self, id: String, request: AuthorizationRequest, expires_at: UnixTime) {
        self.records().pending.insert(
            id,
            PendingSignIn {
                request,
                progress: Progress::default(),
                expires_at,
            },
        );
    }

    /// A pending sign-in and its progress, left in place for the next page.
    pub fn pending(&self, id: &str, now: UnixTime) -> Option<(AuthorizationRequest, Progress)> {
        self.records()
            .pending
            .get(id)
            .filter(|pending| pending.expires_at > now)
            .map(|pending| (pending.request.clone(), pending.progress.clone()))
    }

    pub fn set_progress(&self, id: &str, progress: Progress) {
        if let Some(pending) = self.records().pending.get_mut(id) {
            pending.progress = progress;
        }
    }

    /// Takes a pending sign-in: each can be completed once.
    pub fn take_pending(&self, id: &str, now: UnixTime) -> Option<AuthorizationRequest> {
        self.records()
            .pending
            .remove(id)
            .filter(|pending| pending.expires_at > now)
            .map(|pending| pending.request)
    }

    pub fn insert_code(
        &self,
        code: String,
        request: AuthorizationRequest,
        sign_in: SignIn,
        expires_at: UnixTime,
    ) {
        let mut records = self.records();
        records.generation += 1;
        records.codes.insert(
            code,
            IssuedCode {
                state: CodeState::Unused(Box::new((request, sign_in))),
                expires_at,
            },
        );
    }

    /// Spends a code. A second use revokes whatever the first use issued (RFC 6749 §4.1.2).
    pub fn redeem_code(&self, code: &str, now: UnixTime) -> CodeRedemption {
        let mut records = self.records();
        records.generation += 1;
        let Some(issued) = records.codes.get_mut(code).filter(|c| c.expires_at > now) else {
            return CodeRedemption::Unknown;
        };
        match std::mem::replace(&mut issued.state, CodeState::Redeemed(None)) {
            CodeState::Unused(details) => CodeRedemption::Fresh(details),
            CodeState::Redeemed(grant) => {
                issued.state = CodeState::Redeemed(None);
                if let Some(grant) = grant {
                    records.grants.remove(&grant);
                }
                CodeRedemption::Replayed
            }
        }
    }

    /// Records the grant a code produced, so that a replay of the code can revoke it.
    pub fn create_grant(
        &self,
        code: &str,
        request: AuthorizationRequest,
        sign_in: SignIn,
        expires_at: UnixTime,
    ) -> GrantId {
        let mut records = self.records();
        records.generation += 1;
        records.next_grant += 1;
        let id = records.next_grant;
        records.grants.insert(
            id,
            Grant {
                request,
                sign_in,
                expires_at,
            },
        );
        if let Some(issued) = records.codes.get_mut(code) {
            issued.state = CodeState::Redeemed(Some(id));
        }
        id
    }

    pub fn insert_access_token(&self, token: String, grant: GrantId, expires_at: UnixTime) {
        let mut records = self.records();
        records.generation += 1;
        records
            .access_tokens
            .insert(token, AccessTokenRecord { grant, expires_at });
    }

    pub fn insert_refresh_token(
        &self,
        token: String,
        grant: GrantId,
        client_id: &str,
        expires_at: UnixTime,
    ) {
        let mut records = self.records();
        records.generation += 1;
        records.refresh_tokens.insert(
            token,
            RefreshTokenRecord {
                grant,
                client_id: client_id.to_owned(),
                used: false,
                expires_at,
            },
        );
    }

    /// The grant behind a current access token.
    pub fn access_token_grant(&self, token: &str, now: UnixTime) -> Option<Grant> {
        let records = self.records();
        let record = records
            .access_tokens
            .get(token)
            .filter(|record| record.expires_at > now)?;
        records
            .grants
            .get(&record.grant)
            .filter(|grant| grant.expires_at > now)
            .cloned()
    }

    /// Spends a refresh token for `client_id`, detecting reuse of a rotated one.
    pub fn use_refresh_token(&self, token: &str, client_id: &str, now: UnixTime) -> RefreshUse {
        let mut records = self.records();
        records.generation += 1;
        let Some(record) = records
            .refresh_tokens
            .get_mut(token)
            .filter(|record| record.expires_at > now && record.client_id == client_id)
        else {
            return RefreshUse::Invalid;
        };
        let grant_id = record.grant;
        if record.used {
            records.grants.remove(&grant_id);
            return RefreshUse::Reused;
        }
        record.used = true;
        match records
            .grants
            .get(&grant_id)
            .filter(|grant| grant.expires_at > now)
        {
            Some(grant) => RefreshUse::Current(grant_id, Box::new(grant.clone())),
            None => RefreshUse::Invalid,
        }
    }

    /// RFC 7009 §2.1: revokes a token issued to `client_id`. A refresh token takes its whole
    /// grant with it; an access token goes alone. Tokens of other clients are left untouched.
    pub fn revoke(&self, token: &str, client_id: &str) {
        let mut records = self.records();
        records.generation += 1;
        if let Some(record) = records.refresh_tokens.get(token) {
            if record.client_id == client_id {
                let grant = record.grant;
                records.grants.remove(&grant);
            }
            return;
        }
        let owner = records
            .access_tokens
            .get(token)
            .and_then(|record| records.grants.get(&record.grant))
            .map(|grant| grant.request.client_id == client_id);
        if owner == Some(true) {
            records.access_tokens.remove(token);
        }
    }

    /// Ends every grant issued in the SSO session `sid`, with its tokens, and unused codes of
    /// the session: a signed-out session leaves nothing usable behind (RP-Initiated Logout 1.0
    /// §2, Back-Channel Logout 1.0 §2.7).
    pub fn revoke_session(&self, sid: &str) {
        let mut records = self.records();
        let records = &mut *records;
        records.generation += 1;
        records.grants.retain(|_, grant| grant.sign_in.sid != sid);
        records.codes.retain(|_, code| match &code.state {
            CodeState::Unused(details) => details.1.sid != sid,
            CodeState::Redeemed(_) => true,
        });
        let grants = &records.grants;
        records
            .access_tokens
            .retain(|_, token| grants.contains_key(&token.grant));
        records
            .refresh_tokens
            .retain(|_, token| grants.contains_key(&token.grant));
    }

    /// A token that is current and was issued to `client_id` (RFC 7662 §2.2): another client's
    /// token is reported as unknown, so introspection reveals nothing of it.
    pub fn introspect(&self, token: &str, client_id: &str, now: UnixTime) -> Option<ActiveToken> {
        let records = self.records();
        let live_grant = |id: &GrantId| {
            records
                .grants
                .get(id)
                .filter(|grant| grant.expires_at > now && grant.request.client_id == client_id)
                .map(|grant| Box::new(grant.clone()))
        };
        if let Some(record) = records.access_tokens.get(token) {
            return live_grant(&record.grant)
                .filter(|_| record.expires_at > now)
                .map(|grant| ActiveToken::Access {
                    grant,
                    expires_at: record.expires_at,
                });
        }
        let record = records
            .refresh_tokens
            .get(token)
            .filter(|record| !record.used && record.expires_at > now)?;
        live_grant(&record.grant).map(|grant| ActiveToken::Refresh {
            grant,
            expires_at: record.expires_at,
        })
    }

    /// Removes everything expired, and tokens whose grant is gone.
    pub fn sweep(&self, now: UnixTime) {
        let mut records = self.records();
        let records = &mut *records;
        let before = records.kept_len();
        records
            .pending
            .retain(|_, pending| pending.expires_at > now);
        records.codes.retain(|_, code| code.expires_at > now);
        records.grants.retain(|_, grant| grant.expires_at > now);
        let grants = &records.grants;
        records
            .access_tokens
            .retain(|_, token| token.expires_at > now && grants.contains_key(&token.grant));
        records
            .refresh_tokens
            .retain(|_, token| token.expires_at > now && grants.contains_key(&token.grant));
        if records.kept_len() != before {
            records.generation += 1;
        }
    }

    /// How many times what a state file keeps has changed.
    pub fn generation(&self) -> u64 {
        self.records().generation
    }

    /// A copy of what a state file keeps, without what has expired at `now`.
    pub fn snapshot(&self, now: UnixTime) -> StoreSnapshot {
        let records = self.records();
        StoreSnapshot {
            codes: records.codes.clone(),
            grants: records.grants.clone(),
            access_tokens: records.access_tokens.clone(),
            refresh_tokens: records.refresh_tokens.clone(),
            next_grant: records.next_grant,
        }
        .without_expired(now)
    }

    /// Replaces codes, grants and tokens with those of a state file, less what has expired.
    pub fn restore(&self, snapshot: StoreSnapshot, now: UnixTime) {
        let snapshot = snapshot.without_expired(now);
        let mut records = self.records();
        // Grant ids must stay unique even if the file's counter was behind its grants.
        let highest = snapshot.grants.keys().copied().max().unwrap_or(0);
        records.next_grant = snapshot.next_grant.max(highest);
        records.codes = snapshot.codes;
        records.grants = snapshot.grants;
        records.access_tokens = snapshot.access_tokens;
        records.refresh_tokens = snapshot.refresh_tokens;
        records.generation += 1;
    }

    pub fn counts(&self) -> StoreCounts {
        let records = self.records();
        StoreCounts {
            pending_sign_ins: records.pending.len(),
            codes: records.codes.len(),
            grants: records.grants.len(),
            access_tokens: records.access_tokens.len(),
            refresh_tokens: records.refresh_tokens.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "client".into(),
            redirect_uri: "http://127.0.0.1/callback".into(),
            scopes: vec!["openid".into()],
            state: None,
            nonce: None,
            code_challenge: None,
            acr_values: Vec::new(),
            prompt: Vec::new(),
            max_age: None,
            login_hint: None,
        }
    }

    fn sign_in() -> SignIn {
        SignIn {
            user_id: "555057896106".into(),
            authenticator: Authenticator::Smartcard,
            acr: "AAL3_ANY".into(),
            selected_roleid: None,
            auth_time: 0,
            sid: "sid".into(),
        }
    }

    #[test]
    fn replayed_code_revokes_the_tokens_issued_from_it() {
        let store = Store::default();
        store.insert_code("code".into(), request(), sign_in(), 60);
        assert!(matches!(
            store.redeem_code("code", 1),
            CodeRedemption::Fresh(_)
        ));
        let grant = store.create_grant("code", request(), sign_in(), 3600);
        store.insert_access_token("access".into(), grant, 3600);
        assert!(store.access_token_grant("access", 2).is_some());

        assert!(matches!(
            store.redeem_code("code", 3),
            CodeRedemption::Replayed
        ));
        assert!(store.access_token_grant("access", 4).is_none());
        assert!(matches!(
            store.redeem_code("code", 61),
            CodeRedemption::Unknown
        ));
    }

    #[test]
    fn codes_expire_after_their_lifetime() {
        let store = Store::default();
        store.insert_code("code".into(), request(), sign_in(), 60);
        assert!(matches!(
            store.redeem_code("code", 60),
            CodeRedemption::Unknown
        ));
    }

    #[test]
    fn reused_refresh_token_revokes_the_family() {
        let store = Store::default();
        let grant = store.create_grant("code", request(), sign_in(), 3600);
        store.insert_refresh_token("first".into(), grant, "client", 3600);
        store.insert_access_token("access".into(), grant, 3600);
        assert!(matches!(
            store.use_refresh_token("first", "other", 1),
            RefreshUse::Invalid
        ));
        assert!(matches!(
            store.use_refresh_token("first", "client", 1),
            RefreshUse::Current(..)
        ));
        store.insert_refresh_token("second".into(), grant, "client", 3600);

        assert!(matches!(
            store.use_refresh_token("first", "client", 2),
            RefreshUse::Reused
        ));
        assert!(matches!(
            store.use_refresh_token("second", "client", 3),
            RefreshUse::Invalid
        ));
        assert!(store.access_token_grant("access", 3).is_none());
    }

    #[test]
    fn ending_a_session_revokes_its_grants_and_codes_only() {
        let store = Store::default();
        let mut other = sign_in();
        other.sid = "other".into();
        let ended = store.create_grant("a", request(), sign_in(), 3600);
        let kept = store.create_grant("b", request(), other.clone(), 3600);
        store.insert_access_token("ended".into(), ended, 3600);
        store.insert_refresh_token("ended-refresh".into(), ended, "client", 3600);
        store.insert_access_token("kept".into(), kept, 3600);
        store.insert_code("code".into(), request(), sign_in(), 60);
        store.insert_code("other-code".into(), request(), other, 60);

        store.revoke_session("sid");
        assert!(store.access_token_grant("ended", 1).is_none());
        assert!(store.introspect("ended-refresh", "client", 1).is_none());
        assert!(matches!(
            store.redeem_code("code", 1),
            CodeRedemption::Unknown
        ));
        assert!(store.access_token_grant("kept", 1).is_some());
        assert!(matches!(
            store.redeem_code("other-code", 1),
            CodeRedemption::Fresh(_)
        ));
    }

    #[test]
    fn introspection_sees_only_the_asking_clients_current_tokens() {
        let store = Store::default();
        let grant = store.create_grant("code", request(), sign_in(), 3600);
        store.insert_access_token("access".into(), grant, 100);
        store.insert_refresh_token("refresh".into(), grant, "client", 3600);
        assert!(matches!(
            store.introspect("access", "client", 1),
            Some(ActiveToken::Access {
                expires_at: 100,
                ..
            })
        ));
        assert!(matches!(
            store.introspect("refresh", "client", 1),
            Some(ActiveToken::Refresh { .. })
        ));
        assert!(store.introspect("access", "other", 1).is_none());
        assert!(store.introspect("access", "client", 100).is_none());
        assert!(store.introspect("unknown", "client", 1).is_none());
        assert!(matches!(
            store.use_refresh_token("refresh", "client", 2),
            RefreshUse::Current(..)
        ));
        assert!(
            store.introspect("refresh", "client", 3).is_none(),
            "rotated"
        );
    }

    #[test]
    fn sweeping_leaves_nothing_expired() {
        let store = Store::default();
        for index in 0..100 {
            let code = format!("code{index}");
            store.insert_pending(format!("pending{index}"), request(), 600);
            store.insert_code(code.clone(), request(), sign_in(), 60);
            let grant = store.create_grant(&code, request(), sign_in(), 3600);
            store.insert_access_token(format!("access{index}"), grant, 3600);
            store.insert_refresh_token(format!("refresh{index}"), grant, "client", 3600);
        }
        store.sweep(59);
        assert_eq!(store.counts().codes, 100);
        store.sweep(3600);
        assert_eq!(store.counts(), StoreCounts::default());
    }
}
