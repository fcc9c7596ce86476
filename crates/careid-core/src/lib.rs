//! careid-core: signing in to NHS CIS2 Authentication, with no UI, Tauri or CLI dependency.
//!
//! The core prints nothing, reads no environment variable and never opens a browser: callers
//! (the `careid` CLI and the desktop shell) decide all of that and pass it in.
//!
//! What is here so far:
//! - [`SecretString`]: a secret value whose `Debug` is redacted and which is wiped on drop.
//! - [`IssuerUrl`], [`ClientId`], [`RedirectUri`], [`AcrValues`], [`AssertionAlgorithm`]: the
//!   protocol values that are not secret, a type each, read once where they enter.
//! - [`authenticate`]: client authentication for the token, revocation and introspection
//!   endpoints (secret, client assertions signed with a secret or a [`PrivateKey`], or none).
//! - [`Keychain`]: the OS keychain (Windows Credential Manager, macOS Keychain, Secret Service),
//!   namespaced by build kind, with values split across entries where a platform limits size.
//! - [`LoopbackListener`]: the redirect listener on `127.0.0.1` that takes one valid callback,
//!   from this OS user only.
//! - [`LaunchLinks`] and [`SignOutLaunch`]: the one-time loopback links the browser is opened
//!   on, so the authorization URL and the ID token are never on a command line others can read.
//! - [`Profiles`]: the built-in environments (`mock`, `int`, `dep`, `live`) and custom ones.
//! - [`Identity`] and [`choose_role`]: CIS2's claims from UserInfo, its national RBAC roles, the
//!   role to sign in with, and the assurance level checks for the ID token.
//! - [`jose`]: compact JWS decoding and signature checks against the provider's [`JsonWebKeySet`],
//!   with an algorithm allow-list that refuses `none` and HMAC keyed with a public key.
//! - [`validate_id_token`], [`validate_refreshed_id_token`] and [`verify_signed_userinfo`]: the
//!   ID token and signed UserInfo checks of OpenID Connect Core, with CIS2's quirks.
//! - [`SessionStore`]: a session's facts in a state file and its refresh token in the keychain;
//!   [`session::check`] ends it on inactivity or at the absolute limit; [`SessionLock`] keeps
//!   two processes from changing a session at once.
//! - [`HttpClient`]: every provider request: no redirects, a timeout, a body size limit, and
//!   errors that never hold a body or a query string.
//! - [`ProviderCache`]: discovery metadata ([`ProviderMetadata`], URLs kept exactly, `:443`
//!   included) and the provider's JWKS, validated and cached for at most an hour.
//! - [`broker`]: careid with a broker that holds the client credential: its document, the
//!   session's end asked or listened for.
//! - [`runs`]: a tester's plan of sign-ins across authenticators and levels, each judged from
//!   its record in the [`history`], reported as JSON, JUnit XML and HTML.
//! - [`diagnose`]: the `doctor` report comparing a provider's metadata and keys with what careid
//!   and CIS2 expect.

pub mod broker;
pub mod cache_folder;
pub mod doctor;
/// Entry points for the fuzz targets in `fuzz/`; not part of careid's API.
#[doc(hidden)]
pub mod fuzzing;
pub mod history;
pub mod keychain;
pub mod loopback;
pub mod profile;
pub mod runs;
pub mod session;
pub mod signin;
pub mod user_name;

// The one way files are written, from careid-files.
pub use careid_files as files;

// The protocol, from careid-oidc: its modules and the types this crate's API takes and returns.
pub use careid_oidc::{
    claims, client_auth, discovery, http, id_token, jose, secret, sse, time, values,
};

pub use broker::{BrokerError, BrokerMetadata, SessionState, ENDED_BY_PROVIDER};
pub use cache_folder::CacheFolder;
pub use careid_oidc::{
    allowed_algorithms, allowed_userinfo_algorithms, assurance_level, authenticate,
    authenticate_with, check_assertion_algorithm, check_assurance, check_id_assurance,
    check_requested_role, choose_role, discovery_url, is_secure_url, oauth_error, requested_level,
    validate_id_token, validate_refreshed_id_token, validate_session_proof, verify_signed_userinfo,
    AccessToken, AuthorizationCode, ClaimsError, ClientAuth, ClientAuthError, ClientAuthentication,
    ClientCredential, ClientSecret, Credential, CsrfState, DecodedJwt, DiscoveryError, EventStream,
    FormValue, HmacAlgorithm, HmacKey, HttpClient, HttpError, HttpResponse, HttpSettings, IdToken,
    IdTokenCheck, IdTokenClaims, IdTokenError, Identity, IssuerKind, JoseError, JsonWebKeySet,
    JwsAlgorithm, JwsHeader, Nonce, NrbacRole, OAuthErrorResponse, OrgMembership, Organisation,
    OriginalIdToken, PkceVerifier, PrivateKey, ProviderCache, ProviderMetadata, RefreshToken,
    RoleChoice, RoleGroup, RoleNamed, SecretString, SessionProofCheck, SignedDocument,
    SigningAlgorithm, ASSERTION_LIFETIME, CIS2_ASSERTION_ALGORITHMS, CLIENT_ASSERTION_TYPE,
    DEFAULT_CLOCK_SKEW, JWKS_REFETCH_COOLDOWN, MAX_CACHE_AGE,
};
pub use careid_oidc::{
    AcrValues, AssertionAlgorithm, ClientId, InvalidIssuer, IssuerUrl, RedirectUri,
};
pub use doctor::{diagnose, CheckStatus, DoctorCheck, DoctorReport};
pub use keychain::{BuildKind, Keychain, KeychainError};
pub use loopback::{
    AuthorizationResponse, CallbackChecks, LaunchLinks, LoopbackError, LoopbackListener,
    SignOutLaunch,
};
pub use profile::{
    IssuerSource, Profile, ProfileEntry, ProfileError, Profiles, PushedRequests, RedirectHost,
    RedirectRegistration, RoleSelection, SessionPolicy, CIS2_REDIRECT_PORTS,
};
pub use session::{
    EndReason, Loaded, Restored, SessionEnd, SessionError, SessionFacts, SessionLock, SessionStore,
    SignInRecord, SignedOutReason, Verdict, ACTIVITY_WRITE_EVERY,
};
pub use user_name::{person_name, RoleLabel, UserName};
