//! The mock's WebAuthn relying party (W3C Web Authentication Level 3 §7) for the security key,
//! Windows Hello and passkey authenticators: registration and sign-in ceremonies, through the
//! `webauthn_rp` crate, and the credentials test users register, kept with the mock's state.
//!
//! The RP ID is the issuer's host, since the sign-in pages live under the issuer: `localhost` for
//! the default issuer. An IP address cannot be an RP ID (§5.1.2, a valid domain), so an issuer on
//! `127.0.0.1` has no real WebAuthn and only the click-through. The allowed origin is the
//! issuer's origin, exactly (scheme, host and port).
//!
//! User verification is asked for as `preferred` at every level, so that an authenticator that
//! cannot verify the user still answers and the refusal is the mock's, with a page saying why:
//! CIS2's AAL3 needs the user verified (a PIN or biometric), so a security key or Windows Hello
//! credential registered or used without it is refused; a passkey (AAL2) is taken either way.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use webauthn_rp::bin::{Decode as _, Encode as _};
use webauthn_rp::request::auth::{AllowedCredentials, AuthenticationVerificationOptions};
use webauthn_rp::request::register::{
    PublicKeyCredentialUserEntity, RegistrationVerificationOptions, UserHandle,
};
use webauthn_rp::request::{
    AsciiDomain, Credentials as _, PublicKeyCredentialDescriptor, RpId, UserVerificationRequirement,
};
use webauthn_rp::response::auth::AuthenticatorData;
use webauthn_rp::response::register::{CompressedPubKey, DynamicState, StaticState};
use webauthn_rp::response::{AuthTransports, CredentialId};
use webauthn_rp::{
    AuthenticatedCredential, NonDiscoverableAuthentication,
    NonDiscoverableAuthenticationServerState, NonDiscoverableCredentialRequestOptions,
    PublicKeyCredentialCreationOptions, Registration, RegistrationServerState,
};

use crate::authenticators::Authenticator;
use crate::store::UnixTime;
use crate::users::TestUser;

/// A user handle's length: random, so that it carries nothing about the user (§14.6.1).
const HANDLE_LEN: usize = 16;

type Handle = UserHandle<HANDLE_LEN>;

/// A stored public key as `webauthn_rp` decodes it: Ed25519, P-256, P-384 or RSA.
type StoredKey = CompressedPubKey<[u8; 32], [u8; 32], [u8; 48], Vec<u8>>;

/// At most this many ceremonies wait for the browser at once; the oldest make way.
const MAX_CEREMONIES: usize = 1_000;

/// How long the browser has to answer a ceremony: the pending sign-in's own lifetime.
const CEREMONY_LIFETIME: Duration = Duration::from_secs(600);

/// Whether an authenticator's sign-ins here are real WebAuthn ceremonies (when the tester asks
/// for one rather than the click-through).
pub(crate) fn has_ceremony(authenticator: Authenticator) -> bool {
    matches!(
        authenticator,
        Authenticator::SecurityKey | Authenticator::WindowsHello | Authenticator::Passkey
    )
}

/// Why a ceremony did not succeed: each a sentence for the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CeremonyError {
    /// The issuer's host cannot be an RP ID.
    #[error("real WebAuthn is not available here: {0}")]
    Unavailable(String),
    /// No ceremony is waiting for this sign-in: it expired, was used, or the page is old.
    #[error("this step has expired or was already used: start it again")]
    NoCeremony,
    /// The browser or the authenticator refused (`NotAllowedError` and the like).
    #[error("your browser ended the ceremony: {0}")]
    Browser(String),
    /// The browser's answer is not a WebAuthn response.
    #[error("the browser's answer is not a WebAuthn response")]
    Malformed,
    /// The response failed the ceremony's checks (challenge, origin, RP ID, signature, ...).
    #[error("the response was refused: {0}")]
    Refused(String),
    /// AAL3 without user verification.
    #[error(
        "your authenticator did not verify you (no PIN or biometric): CIS2's AAL3 needs user verification"
    )]
    NotVerified,
    /// The assertion's credential is not one registered for this user and authenticator.
    #[error("this credential is not registered for this user")]
    UnknownCredential,
    /// The credential is registered already (for this or another user).
    #[error("this credential is registered already")]
    AlreadyRegistered,
}

impl CeremonyError {
    /// The browser's error for a ceremony that was not found: the credential is gone from the
    /// authenticator (or the user cancelled; browsers tell the two apart for no site).
    pub(crate) fn is_not_allowed(&self) -> bool {
        matches!(self, Self::Browser(error) if error.starts_with("NotAllowedError"))
    }
}

/// Who the relying party is: the RP ID and the one origin allowed.
#[derive(Debug, Clone)]
struct RelyingParty {
    rp_id: RpId,
    origin: String,
}

impl RelyingParty {
    /// The issuer's host as RP ID, its origin as the allowed origin; why not, when the host is
    /// not a domain.
    fn for_issuer(issuer: &str) -> Result<Self, String> {
        let url = url::Url::parse(issuer).map_err(|error| error.to_string())?;
        let host = match url.host() {
            Some(url::Host::Domain(domain)) => domain.to_owned(),
            Some(_) => {
                return Err(format!(
                    "the issuer's host {} is an IP address, which cannot be a WebAuthn RP ID: \
                     run the mock with its issuer on localhost",
                    url.host_str().unwrap_or_default()
                ))
            }
            None => return Err("the issuer has no host".to_owned()),
        };
        let rp_id = AsciiDomain::try_from(host.clone())
            .map(RpId::Domain)
            .map_err(|error| format!("{host} cannot be a WebAuthn RP ID: {error}"))?;
        Ok(Self {
            rp_id,
            origin: url.origin().ascii_serialization(),
        })
    }
}

/// A ceremony waiting for the browser, for one pending sign-in.
#[derive(Debug)]
enum Ceremony {
    Registration {
        user_id: String,
        authenticator: Authenticator,
        state: Box<RegistrationServerState<HANDLE_LEN>>,
        started: Instant,
    },
    SignIn {
        user_id: String,
        authenticator: Authenticator,
        state: Box<NonDiscoverableAuthenticationServerState>,
        started: Instant,
    },
}

impl Ceremony {
    fn started(&self) -> Instant {
        match self {
            Self::Registration { started, .. } | Self::SignIn { started, .. } => *started,
        }
    }

    fn user_id(&self) -> &str {
        match self {
            Self::Registration { user_id, .. } | Self::SignIn { user_id, .. } => user_id,
        }
    }
}

/// A registered credential as the state file keeps it: the relying party's public data only
/// (the credential id, the public key, the counter); the private key never leaves the
/// authenticator. Binary parts are base64url, in `webauthn_rp`'s own encodings.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct StoredCredential {
    user_id: String,
    authenticator: Authenticator,
    credential_id: String,
    user_handle: String,
    transports: u8,
    static_state: String,
    dynamic_state: String,
    registered_at: UnixTime,
    #[serde(default)]
    last_used_at: Option<UnixTime>,
}

/// Kept out of logs: a credential id is the authenticator's handle to a key.
impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("user_id", &self.user_id)
            .field("authenticator", &self.authenticator)
            .finish_non_exhaustive()
    }
}

impl StoredCredential {
    fn credential_id(&self) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(&self.credential_id).ok()
    }

    fn handle(&self) -> Option<Handle> {
        let bytes: [u8; HANDLE_LEN] = URL_SAFE_NO_PAD
            .decode(&self.user_handle)
            .ok()?
            .try_into()
            .ok()?;
        Handle::decode(bytes).ok()
    }

    fn dynamic_state(&self) -> Option<DynamicState> {
        let bytes: [u8; 7] = URL_SAFE_NO_PAD
            .decode(&self.dynamic_state)
            .ok()?
            .try_into()
            .ok()?;
        DynamicState::decode(bytes).ok()
    }

    fn descriptor(&self) -> Option<PublicKeyCredentialDescriptor<Vec<u8>>> {
        Some(PublicKeyCredentialDescriptor {
            id: CredentialId::decode(self.credential_id()?).ok()?,
            transports: AuthTransports::decode(self.transports).ok()?,
        })
    }

    fn belongs_to(&self, user_id: &str, authenticator: Authenticator) -> bool {
        self.user_id == user_id && self.authenticator == authenticator
    }

    fn summary(&self) -> WebAuthnCredential {
        let dynamic = self.dynamic_state();
        WebAuthnCredential {
            user_id: self.user_id.clone(),
            authenticator: self.authenticator,
            credential_id: self.credential_id.chars().take(12).collect(),
            registered_at: self.registered_at,
            last_used_at: self.last_used_at,
            sign_count: dynamic.map_or(0, |state| state.sign_count),
            user_verified: dynamic.is_some_and(|state| state.user_verified),
        }
    }
}

/// What a test and the admin page may see of a registered credential: no key, and only the
/// start of its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebAuthnCredential {
    pub user_id: String,
    pub authenticator: Authenticator,
    /// The first 12 characters of the base64url credential id, to tell credentials apart.
    pub credential_id: String,
    pub registered_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
    /// The authenticator's signature counter at its last use (0 for authenticators without one).
    pub sign_count: u32,
    /// Whether the user was verified (PIN or biometric) at registration or since.
    pub user_verified: bool,
}

#[derive(Debug, Default)]
struct Credentials {
    list: Vec<StoredCredential>,
    /// Counts changes, so the state file is written only when it must be.
    generation: u64,
}

/// The relying party's state: who it is, the ceremonies under way, the credentials registered.
#[derive(Debug)]
pub(crate) struct WebAuthn {
    party: Result<RelyingParty, String>,
    ceremonies: Mutex<HashMap<String, Ceremony>>,
    credentials: Mutex<Credentials>,
}

impl WebAuthn {
    pub fn for_issuer(issuer: &str) -> Self {
        Self {
            party: RelyingParty::for_issuer(issuer),
            ceremonies: Mutex::default(),
            credentials: Mutex::default(),
        }
    }

    /// The RP ID, or why there is none, for the pages.
    pub fn rp_id(&self) -> Result<&str, &str> {
        match &self.party {
            Ok(party) => Ok(party.rp_id.as_ref()),
            Err(reason) => Err(reason),
        }
    }

    fn party(&self) -> Result<&RelyingParty, CeremonyError> {
        self.party
            .as_ref()
            .map_err(|reason| CeremonyError::Unavailable(reason.clone()))
    }

    fn credentials(&self) -> std::sync::MutexGuard<'_, Credentials> {
        self.credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn ceremonies(&self) -> std::sync::MutexGuard<'_, HashMap<String, Ceremony>> {
        self.ceremonies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `ceremony` for `pending`, replacing the one before (a page shown again starts
    /// afresh), after dropping expired ones and, beyond the cap, the oldest.
    fn keep(&self, pending: &str, ceremony: Ceremony) {
        let mut ceremonies = self.ceremonies();
        ceremonies.retain(|_, kept| kept.started().elapsed() < CEREMONY_LIFETIME);
        if ceremonies.len() >= MAX_CEREMONIES {
            let oldest = ceremonies
                .iter()
                .min_by_key(|(_, kept)| kept.started())
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                ceremonies.remove(&oldest);
            }
        }
        ceremonies.insert(pending.to_owned(), ceremony);
    }

    /// The ceremony `pending` started for `user`, used up: one that expired, or was started
    /// for another user, is none.
    fn take(&self, pending: &str, user: &TestUser) -> Result<Ceremony, CeremonyError> {
        self.ceremonies()
            .remove(pending)
            .filter(|ceremony| ceremony.started().elapsed() < CEREMONY_LIFETIME)
            .filter(|ceremony| ceremony.user_id() == user.id())
            .ok_or(CeremonyError::NoCeremony)
    }

    /// How many credentials `user` has registered for `authenticator`.
    pub fn count(&self, user_id: &str, authenticator: Authenticator) -> usize {
        self.credentials()
            .list
            .iter()
            .filter(|credential| credential.belongs_to(user_id, authenticator))
            .count()
    }

    /// Every registered credential, oldest first.
    pub fn list(&self) -> Vec<WebAuthnCredential> {
        self.credentials()
            .list
            .iter()
            .map(StoredCredential::summary)
            .collect()
    }

    /// Removes `user`'s credentials for `authenticator` (all of them when `None`); how many went.
    pub fn remove(&self, user_id: &str, authenticator: Option<Authenticator>) -> usize {
        let mut credentials = self.credentials();
        let before = credentials.list.len();
        credentials.list.retain(|credential| {
            credential.user_id != user_id
                || authenticator.is_some_and(|kind| credential.authenticator != kind)
        });
        let removed = before - credentials.list.len();
        if removed > 0 {
            credentials.generation += 1;
        }
        removed
    }

    /// Starts registering a credential of `authenticator` for `user`: the options for
    /// `navigator.credentials.create`, as JSON (§5.4, `PublicKeyCredentialCreationOptionsJSON`).
    /// The user's registered credentials are excluded, so an authenticator registered already
    /// says so rather than registering twice.
    pub fn begin_registration(
        &self,
        pending: &str,
        user: &TestUser,
        authenticator: Authenticator,
    ) -> Result<String, CeremonyError> {
        let party = self.party()?;
        let (handle, exclude) = {
            let credentials = self.credentials();
            let mine = credentials
                .list
                .iter()
                .filter(|credential| credential.user_id == user.id());
            let handle = mine.clone().find_map(StoredCredential::handle);
            let exclude: Vec<_> = mine.filter_map(StoredCredential::descriptor).collect();
            (handle.unwrap_or_else(Handle::new), exclude)
        };
        let name = user
            .id()
            .try_into()
            .map_err(|error| CeremonyError::Refused(format!("user name: {error}")))?;
        let display_name = user.display_name().try_into().ok();
        let entity = PublicKeyCredentialUserEntity {
            name,
            id: &handle,
            display_name,
        };
        let mut options =
            PublicKeyCredentialCreationOptions::second_factor(&party.rp_id, entity, exclude);
        options.authenticator_selection.user_verification = UserVerificationRequirement::Preferred;
        // No discoverable credential is asked for, not even for a passkey: the mock always
        // names the user's credentials, and browsers refuse to store one on an authenticator
        // that cannot verify the user, which AAL2 welcomes. Passkey providers store them anyway.
        let (state, client) = options
            .start_ceremony()
            .map_err(|error| CeremonyError::Refused(error.to_string()))?;
        let json = serde_json::to_string(&client).map_err(|_| CeremonyError::Malformed)?;
        self.keep(
            pending,
            Ceremony::Registration {
                user_id: user.id().to_owned(),
                authenticator,
                state: Box::new(state),
                started: Instant::now(),
            },
        );
        Ok(json)
    }

    /// Finishes the registration `pending` started, with the browser's
    /// `RegistrationResponseJSON` (§5.1): checked (§7.1), held to user verification at AAL3,
    /// and kept.
    pub fn finish_registration(
        &self,
        pending: &str,
        user: &TestUser,
        response: &str,
        now: UnixTime,
    ) -> Result<Authenticator, CeremonyError> {
        let party = self.party()?;
        let Ceremony::Registration {
            authenticator,
            state,
            ..
        } = self.take(pending, user)?
        else {
            return Err(CeremonyError::NoCeremony);
        };
        let registration = Registration::from_json_relaxed(response.as_bytes())
            .map_err(|_| CeremonyError::Malformed)?;
        let origins = [party.origin.as_str()];
        let verification = RegistrationVerificationOptions::<&str, &str> {
            allowed_origins: &origins,
            ..RegistrationVerificationOptions::default()
        };
        let registered = state
            .verify(&party.rp_id, &registration, &verification)
            .map_err(|error| CeremonyError::Refused(error.to_string()))?;
        let (id, transports, handle, static_state, dynamic_state, _) = registered.into_parts();
        if authenticator.assurance_level() >= 3 && !dynamic_state.user_verified {
            return Err(CeremonyError::NotVerified);
        }
        let encode = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let credential_id = encode(id.as_ref());
        let stored = StoredCredential {
            user_id: user.id().to_owned(),
            authenticator,
            credential_id: credential_id.clone(),
            user_handle: encode(handle.as_ref()),
            transports: transports.encode().unwrap_or_default(),
            static_state: encode(&static_state.encode().unwrap_or_default()),
            dynamic_state: encode(&dynamic_state.encode().unwrap_or_default()),
            registered_at: now,
            last_used_at: None,
        };
        let mut credentials = self.credentials();
        if credentials
            .list
            .iter()
            .any(|kept| kept.credential_id == credential_id)
        {
            return Err(CeremonyError::AlreadyRegistered);
        }
        credentials.list.push(stored);
        credentials.generation += 1;
        tracing::info!(
            user = user.id(),
            %authenticator,
            "mock CIS2: a WebAuthn credential was registered"
        );
        Ok(authenticator)
    }

    /// Starts a sign-in with `user`'s credentials for `authenticator`: the options for
    /// `navigator.credentials.get`, as JSON (§5.5, `PublicKeyCredentialRequestOptionsJSON`);
    /// `None` when the user has registered none.
    pub fn begin_sign_in(
        &self,
        pending: &str,
        user: &TestUser,
        authenticator: Authenticator,
    ) -> Result<Option<String>, CeremonyError> {
        let party = self.party()?;
        let descriptors: Vec<_> = self
            .credentials()
            .list
            .iter()
            .filter(|credential| credential.belongs_to(user.id(), authenticator))
            .filter_map(StoredCredential::descriptor)
            .collect();
        let mut allowed = AllowedCredentials::with_capacity(descriptors.len());
        for descriptor in descriptors {
            allowed.push(descriptor.into());
        }
        let Ok(mut options) =
            NonDiscoverableCredentialRequestOptions::second_factor(&party.rp_id, allowed)
        else {
            return Ok(None);
        };
        options.options().user_verification = UserVerificationRequirement::Preferred;
        let (state, client) = options
            .start_ceremony()
            .map_err(|error| CeremonyError::Refused(error.to_string()))?;
        let json = serde_json::to_string(&client).map_err(|_| CeremonyError::Malformed)?;
        self.keep(
            pending,
            Ceremony::SignIn {
                user_id: user.id().to_owned(),
                authenticator,
                state: Box::new(state),
                started: Instant::now(),
            },
        );
        Ok(Some(json))
    }

    /// Finishes the sign-in `pending` started, with the browser's
    /// `AuthenticationResponseJSON` (§5.1): checked (§7.2) against the stored credential, held
    /// to user verification at AAL3; the credential's counter is updated.
    pub fn finish_sign_in(
        &self,
        pending: &str,
        user: &TestUser,
        response: &str,
        now: UnixTime,
    ) -> Result<Authenticator, CeremonyError> {
        let party = self.party()?;
        let Ceremony::SignIn {
            authenticator,
            state,
            ..
        } = self.take(pending, user)?
        else {
            return Err(CeremonyError::NoCeremony);
        };
        let assertion =
            NonDiscoverableAuthentication::<HANDLE_LEN>::from_json_relaxed(response.as_bytes())
                .map_err(|_| CeremonyError::Malformed)?;
        let raw_id = URL_SAFE_NO_PAD.encode(assertion.raw_id().as_ref());
        let mut credentials = self.credentials();
        let Some(stored) = credentials
            .list
            .iter_mut()
            .find(|kept| kept.credential_id == raw_id && kept.belongs_to(user.id(), authenticator))
        else {
            return Err(CeremonyError::UnknownCredential);
        };
        let damaged = || CeremonyError::Refused("the stored credential is damaged".to_owned());
        let id_bytes = stored.credential_id().ok_or_else(damaged)?;
        let id = CredentialId::<&[u8]>::decode(id_bytes.as_slice()).map_err(|_| damaged())?;
        let handle = stored.handle().ok_or_else(damaged)?;
        let static_bytes = URL_SAFE_NO_PAD
            .decode(&stored.static_state)
            .map_err(|_| damaged())?;
        let static_state =
            StaticState::<StoredKey>::decode(static_bytes.as_slice()).map_err(|_| damaged())?;
        let dynamic_state = stored.dynamic_state().ok_or_else(damaged)?;
        let mut credential = AuthenticatedCredential::new(id, &handle, static_state, dynamic_state)
            .map_err(|error| CeremonyError::Refused(error.to_string()))?;
        let origins = [party.origin.as_str()];
        let verification = AuthenticationVerificationOptions::<&str, &str> {
            allowed_origins: &origins,
            update_uv: true,
            ..AuthenticationVerificationOptions::default()
        };
        state
            .verify(&party.rp_id, &assertion, &mut credential, &verification)
            .map_err(|error| CeremonyError::Refused(error.to_string()))?;
        // Verified above, so the authenticator data parses; its flags say whether the user was
        // verified this time (§6.1), which the credential's stored state cannot.
        let verified = AuthenticatorData::try_from(assertion.response().authenticator_data())
            .is_ok_and(|data| data.flags().user_verified);
        if authenticator.assurance_level() >= 3 && !verified {
            return Err(CeremonyError::NotVerified);
        }
        stored.dynamic_state =
            URL_SAFE_NO_PAD.encode(credential.dynamic_state().encode().unwrap_or_default());
        stored.last_used_at = Some(now);
        credentials.generation += 1;
        Ok(authenticator)
    }

    /// What the state file keeps.
    pub fn snapshot(&self) -> Vec<StoredCredential> {
        self.credentials().list.clone()
    }

    /// Takes back what a state file kept.
    pub fn restore(&self, list: Vec<StoredCredential>) {
        let mut credentials = self.credentials();
        credentials.list = list;
        credentials.generation += 1;
    }

    pub fn generation(&self) -> u64 {
        self.credentials().generation
    }
}

#[cfg(test)]
mod tests;
