//! Signing in and keeping a session (PRODUCT "Sign-in, step by step" and "Session"): the
//! [`Client`] of one profile runs the authorization code flow with PKCE through a loopback
//! listener, validates every answer, and stores the session with [`crate::SessionStore`].
//!
//! The caller opens the browser and shows progress: [`Client::begin_login`] returns the URL,
//! [`PendingLogin::finish`] waits for the callback and completes the sign-in. Discovery is
//! fetched before the URL is built (it names the authorization endpoint) and the JWKS while the
//! browser step runs, so that after the callback only the token and UserInfo requests remain.

mod dpop;
mod error;
mod login;
mod logout;
mod restore;
mod roles;
mod route;
mod status;
mod token;
mod watch;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::client_auth::Credential;
use crate::discovery::{ProviderCache, ProviderMetadata};
use crate::http::HttpClient;
use crate::id_token::IdTokenClaims;
use crate::secret::{AccessToken, ClientSecret, IdToken};
use crate::session::SessionFacts;
use crate::values::{AssertionAlgorithm, ClientId, IssuerUrl};
use crate::{
    ClientCredential, HmacAlgorithm, Identity, Keychain, Profile, RoleChoice, SessionStore,
};

pub use dpop::DPOP_KEY_ACCOUNT;
pub use error::{ErrorClass, SignInError};
pub use login::{LoginOptions, PendingLogin, REDIRECT_HINT_AFTER};
pub use logout::LogoutOutcome;
pub use roles::RememberedRoles;
pub use route::BrokerCheck;
pub use status::{SessionStatus, StoredSession, StoredStatus};
pub use watch::{SessionEvent, SessionWatch, LOOK_EVERY, REFRESH_BEFORE};

/// Where time comes from, so tests can move it.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// How patient the client is.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// How long to wait for another process's refresh before giving up.
    pub lock_timeout: Duration,
    /// Attempts at a refresh that fails for want of the provider (network, 5xx).
    pub refresh_attempts: u32,
    /// The first wait between refresh attempts; it doubles each time.
    pub retry_delay: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(30),
            refresh_attempts: 3,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// Everything careid needs to sign in to one profile's provider and keep its session.
#[derive(Debug)]
pub struct Client {
    profile: Profile,
    issuer: IssuerUrl,
    client_id: ClientId,
    credential: OnceLock<ClientCredential>,
    /// Where the credential is read from on first use, when it was not given.
    credential_keychain: Option<Keychain>,
    hmac_algorithm: HmacAlgorithm,
    http: HttpClient,
    providers: Arc<ProviderCache>,
    store: SessionStore,
    clock: Arc<dyn Clock>,
    options: ClientOptions,
    /// The broker's document, once fetched (profiles with a broker only).
    broker: tokio::sync::OnceCell<Arc<crate::BrokerMetadata>>,
    /// The install's DPoP key and the broker's last nonce (profiles with a broker only).
    dpop: dpop::DpopState,
}

impl Client {
    /// A client for `profile` at `issuer` (the profile's own, or the address the built-in mock
    /// started on), authenticating with `credential`: given, or read from the keychain when a
    /// request first needs it (see [`load_credential`]).
    pub fn new(
        profile: Profile,
        issuer: IssuerUrl,
        credential: impl Into<CredentialSource>,
        http: HttpClient,
        providers: Arc<ProviderCache>,
        store: SessionStore,
    ) -> Result<Self, SignInError> {
        let client_id = profile
            .client_id
            .clone()
            .ok_or_else(|| SignInError::ProfileNotReady {
                profile: profile.name.clone(),
                missing: profile.missing().join(", "),
            })?;
        let hmac_algorithm = profile
            .assertion_algorithm
            .and_then(AssertionAlgorithm::hmac)
            .unwrap_or_default();
        let (credential, credential_keychain) = match credential.into() {
            CredentialSource::Given(given) => (OnceLock::from(given), None),
            CredentialSource::Keychain(keychain) => (OnceLock::new(), Some(keychain)),
        };
        Ok(Self {
            profile,
            issuer,
            client_id,
            credential,
            credential_keychain,
            hmac_algorithm,
            http,
            providers,
            store,
            clock: Arc::new(SystemClock),
            options: ClientOptions::default(),
            broker: tokio::sync::OnceCell::new(),
            dpop: dpop::DpopState::default(),
        })
    }

    /// Uses `clock` instead of the system clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn issuer(&self) -> &IssuerUrl {
        &self.issuer
    }

    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// The provider's discovery document (cached for at most the cache's age).
    pub async fn metadata(&self) -> Result<Arc<ProviderMetadata>, SignInError> {
        Ok(self
            .providers
            .metadata(&self.http, &self.issuer, self.clock.now())
            .await?)
    }

    /// The client's credential, read from the keychain the first time it is needed.
    fn credential(&self) -> Result<&ClientCredential, SignInError> {
        if let Some(credential) = self.credential.get() {
            return Ok(credential);
        }
        let loaded = match &self.credential_keychain {
            Some(keychain) => blocking(|| load_credential(&self.profile, keychain))?,
            None => ClientCredential::None,
        };
        Ok(self.credential.get_or_init(|| loaded))
    }

    fn hmac_secret(&self) -> Result<Option<&ClientSecret>, SignInError> {
        Ok(match self.credential()? {
            ClientCredential::Secret(secret) => Some(secret),
            _ => None,
        })
    }

    fn remembered_roles(&self) -> RememberedRoles {
        RememberedRoles::new(self.store.state_dir())
    }
}

/// Where a [`Client`]'s credential comes from.
#[derive(Debug)]
pub enum CredentialSource {
    Given(ClientCredential),
    /// Read from this keychain when a request first needs it: a command served from the kept
    /// tokens (`careid token`, `status`) then never reads it.
    Keychain(Keychain),
}

impl From<ClientCredential> for CredentialSource {
    fn from(credential: ClientCredential) -> Self {
        Self::Given(credential)
    }
}

/// Reads the profile's client secret or private key from the keychain: a missing one is a
/// usage error that says how to store it.
fn load_credential(
    profile: &Profile,
    keychain: &Keychain,
) -> Result<ClientCredential, SignInError> {
    let Some(account) = profile.credential_account() else {
        return Ok(ClientCredential::None);
    };
    let what = match profile.client_auth.credential() {
        Some(Credential::PrivateKey) => "private key",
        _ => "client secret",
    };
    let stored = keychain
        .load(&account)?
        .ok_or_else(|| SignInError::CredentialMissing {
            profile: profile.name.clone(),
            what,
        })?;
    let credential_error = |source| SignInError::Credential {
        profile: profile.name.clone(),
        source,
    };
    match profile.client_auth.credential() {
        Some(Credential::PrivateKey) => {
            let key = profile
                .signing_key(stored.expose_secret())
                .map_err(credential_error)?;
            Ok(ClientCredential::PrivateKey(key))
        }
        _ => Ok(ClientCredential::Secret(ClientSecret::from(stored))),
    }
}

/// How long one step of a sign-in took, for the testers' view.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub step: &'static str,
    pub millis: u64,
}

impl Timing {
    fn since(step: &'static str, started: std::time::Instant) -> Self {
        Self {
            step,
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Runs blocking work (keychain calls over D-Bus, which can wait on an unlock prompt; state
/// files) without holding up the async worker threads: on a multi-threaded runtime the worker
/// hands its other tasks on first. Elsewhere (a current-thread runtime, no runtime) it just runs.
pub fn blocking<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// `endpoint` with `query` added, keeping any query the provider's URL already has.
fn with_query(endpoint: &str, query: &str) -> String {
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{separator}{query}")
}

/// The tokens of a session, in memory only.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: AccessToken,
    pub id_token: Option<IdToken>,
    /// When the access token expires, if the provider said.
    pub expires_at: Option<SystemTime>,
    pub scope: Option<String>,
}

impl Tokens {
    pub(crate) fn from_response(response: token::TokenResponse, now: SystemTime) -> Self {
        Self {
            access_token: response.access_token,
            id_token: response.id_token,
            // A lifetime past the end of the clock's range is no lifetime careid can keep.
            expires_at: response
                .expires_in
                .and_then(|seconds| now.checked_add(Duration::from_secs(seconds))),
            scope: response.scope,
        }
    }

    /// When the provider gave the access token no lifetime, it is taken to end with the ID
    /// token that came with it (`exp`, already checked).
    pub(crate) fn expiring_with(mut self, id_token: Option<&IdTokenClaims>) -> Self {
        if self.expires_at.is_none() {
            self.expires_at = id_token.and_then(|claims| {
                SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(claims.exp))
            });
        }
        self
    }

    /// The access token to keep in the keychain with its expiry; `None` when its lifetime is
    /// unknown (such a token is never reused).
    pub fn kept(&self) -> Option<crate::session::KeptAccessToken<'_>> {
        self.expires_at
            .map(|expires_at| crate::session::KeptAccessToken {
                token: &self.access_token,
                expires_at: crate::time::unix_seconds(expires_at),
            })
    }
}

/// A signed-in session: what the user sees and what a caller may use.
#[derive(Debug)]
pub struct Session {
    pub profile: String,
    pub issuer: IssuerUrl,
    pub tokens: Tokens,
    /// The validated ID token's claims (absent when a refresh returned no ID token).
    pub id_token: Option<IdTokenClaims>,
    /// UserInfo's claims, when UserInfo was asked for.
    pub userinfo: Option<serde_json::Map<String, serde_json::Value>>,
    pub identity: Option<Identity>,
    /// The role decision; `None` when UserInfo was not asked for.
    pub role: Option<RoleChoice>,
    pub facts: SessionFacts,
    /// Whether a refresh token is kept in the keychain.
    pub refreshable: bool,
    pub timings: Vec<Timing>,
    /// Callbacks with another `state` the listener refused while this sign-in waited (a page
    /// firing them, an older sign-in's tab); 0 for a restore or a refresh.
    pub stray_callbacks: u32,
    /// The sign-in's record in the history; `None` for a restore or a refresh.
    pub attempt_id: Option<crate::history::AttemptId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expires_in_past_the_clock_s_range_is_not_a_panic() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for (expires_in, expect) in [
            (Some(60), Some(now + Duration::from_secs(60))),
            (Some(u64::MAX), None),
            (None, None),
        ] {
            let response = token::TokenResponse {
                access_token: AccessToken::new("a".to_owned()),
                id_token: None,
                refresh_token: None,
                expires_in,
                scope: None,
            };
            assert_eq!(
                Tokens::from_response(response, now).expires_at,
                expect,
                "{expires_in:?}"
            );
        }
    }
}
