//! careid-oidc: OpenID Connect as NHS CIS2 speaks it, and nothing else. No keychain, no files,
//! no D-Bus: the client core (`careid-core`) and the broker (`careid-broker`) both build on it.
//!
//! - [`SecretString`]: a secret value whose `Debug` is redacted and which is wiped on drop.
//! - [`values`]: the protocol values that are not secret, a type each: [`IssuerUrl`] (kept and
//!   matched exactly), [`ClientId`], [`RedirectUri`], [`AcrValues`], [`AssertionAlgorithm`].
//! - [`jose`]: compact JWS decoding and signature checks against the provider's
//!   [`JsonWebKeySet`], with an algorithm allow-list that refuses `none` and HMAC keyed with a
//!   public key.
//! - [`discovery`]: provider metadata ([`ProviderMetadata`], URLs kept exactly, `:443` included)
//!   and the provider's JWKS, validated and cached ([`ProviderCache`]) for at most an hour, on a
//!   [`DocumentShelf`] the caller provides.
//! - [`client_auth`]: client authentication for the token, revocation and PAR endpoints (secret,
//!   client assertions signed with a secret or a [`PrivateKey`], or none).
//! - [`id_token`]: the ID token, refreshed ID token, signed UserInfo and session-proof checks of
//!   OpenID Connect Core, with CIS2's quirks.
//! - [`claims`]: CIS2's claims: [`Identity`], national RBAC roles, assurance levels.
//! - [`dpop`]: DPoP (RFC 9449): an install's [`DpopKey`] and the proofs it makes, and
//!   [`verify_proof`], the server's check of one, which gives the key's [`JwkThumbprint`].
//! - [`http`]: every provider request ([`HttpClient`]): no redirects, a timeout, a body size
//!   limit, and errors that never hold a body or a query string; [`sse`] reads event streams.

pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod dpop;
pub mod http;
pub mod id_token;
pub mod jose;
pub mod private_key;
pub mod secret;
pub mod sse;
pub mod time;
pub mod values;

pub use claims::{
    amr_meaning, assurance_level, check_assurance, check_id_assurance, check_requested_role,
    choose_role, requested_level, AmrMeaning, ClaimsError, Identity, IncompleteRole, NrbacRole,
    OrgMembership, Organisation, RoleChoice, RoleGroup, RoleNamed,
};
pub use client_auth::{
    authenticate, authenticate_with, check_assertion_algorithm, check_token_endpoint_method,
    token_endpoint_methods, ClientAuth, ClientAuthError, ClientAuthentication, ClientCredential,
    Credential, FormValue, HmacAlgorithm, MethodNotOffered, PrivateKey, SigningAlgorithm,
    UnknownClientAuth, ASSERTION_LIFETIME, CIS2_ASSERTION_ALGORITHMS, CLIENT_ASSERTION_TYPE,
};
pub use discovery::{
    discovery_url, is_secure, is_secure_url, DiscoveryError, DocumentShelf, IssuerKind, KeyedError,
    PlainHttp, ProviderCache, ProviderMetadata, JWKS_REFETCH_COOLDOWN, MAX_CACHE_AGE,
};
pub use dpop::{
    verify_proof, DpopError, DpopKey, DpopProof, ProofCheck, VerifiedProof, DPOP_PROOF_TYPE,
    MAX_JTI_BYTES, MAX_PROOF_BYTES,
};
pub use http::{
    oauth_error, EventStream, HttpClient, HttpError, HttpResponse, HttpSettings, OAuthErrorResponse,
};
pub use id_token::{
    validate_id_token, validate_refreshed_id_token, validate_session_proof, verify_signed_userinfo,
    IdTokenCheck, IdTokenClaims, IdTokenError, IdTokenRule, OriginalIdToken, SessionProofCheck,
    SignedDocument, DEFAULT_CLOCK_SKEW, ID_TOKEN_RULES,
};
pub use jose::{
    allowed_algorithms, allowed_userinfo_algorithms, DecodedJwt, HmacKey, JoseError, JsonWebKeySet,
    JwkThumbprint, JwsAlgorithm, JwsHeader, UnknownKid,
};
pub use secret::{
    AccessToken, AuthorizationCode, ClientSecret, CsrfState, DpopKeySecret, IdToken, Nonce,
    PkceVerifier, RefreshToken, SecretString,
};
pub use sse::{EventParser, ServerEvent};
pub use time::{unix_seconds, utc_text};
pub use values::{AcrValues, AssertionAlgorithm, ClientId, InvalidIssuer, IssuerUrl, RedirectUri};
