//! mock-cis2: a local imitation of NHS CIS2 Authentication, built from the reference's facts.
//!
//! This crate does not depend on `careid-core`, so the client and the fake cannot share a bug.
//! Shared truth lives in data files: `data/users.json` (CIS2-shaped test users) and
//! `data/clients.json` (registered relying parties).
//!
//! ```no_run
//! # async fn run() -> Result<(), mock_cis2::StartError> {
//! let mock = mock_cis2::MockCis2::new()
//!     .auto_login("555057896106:smartcard".parse().expect("valid auto-login"))
//!     .start()
//!     .await?;
//! println!("discovery: {}/.well-known/openid-configuration", mock.issuer());
//! mock.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Endpoints, under the issuer's path as in CIS2: discovery, `/connect/jwk_uri`, `/authorize`
//! (code flow, query response mode, PKCE S256), `/access_token` (authorization code and refresh
//! grants; `client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt`,
//! and `none` for a public client), `/par` (pushed authorization requests, RFC 9126; on by
//! default, `MockCis2::pushed_requests` turns it off or requires it), `/userinfo`, `/token/revoke`, `/introspect` and
//! `/connect/endSession`. Without auto-login, `/authorize` shows server-rendered sign-in pages
//! (user, authenticator and its step, CIS2's role picker) and keeps an SSO session in a cookie,
//! listed by [`RunningMock::sessions`] and ended by [`RunningMock::end_session`]; every end of a
//! session sends back-channel logout tokens, listed by [`RunningMock::backchannel_deliveries`].
//! Faults on demand for negative testing (`FAULTS.md`), modes that show CIS2 as it may really be
//! (`MODES.md`) and key rotation are on the running handle.
//! [`RunningMock::request_log`] and [`RunningMock::issued_tokens`] say what the provider answered
//! and issued, and the loopback-only admin page at [`RunningMock::admin_url`] shows all of it to
//! testers.

mod activity;
mod admin;
mod assertion;
mod authenticators;
mod authorize;
mod auto_login_admin;
mod client_auth;
mod clients;
pub mod discovery;
mod end_session;
mod error;
mod faults;
mod introspect;
mod jwks;
mod keys;
mod logout;
mod modes;
mod pages;
mod par;
mod provider;
mod redirect;
mod revoke;
mod server;
mod sessions;
mod sign_in;
mod sign_in_pages;
mod state_file;
mod store;
mod token;
mod totp;
mod userinfo;
mod users;
mod webauthn;
mod webauthn_pages;

pub use activity::{IssuedToken, LoggedRequest, TokenKind};
pub use authenticators::{Authenticator, UnknownAuthenticator};
pub use clients::{
    broker_client, ClientAuthMethod, ClientRegistry, RegisteredClient, BROKER_CLIENT_ID,
    BUILTIN_CLIENTS_JSON,
};
pub use discovery::{Issuer, CIS2_REALM_PATH};
pub use error::{DataError, ErrorCode, OAuthError, StartError};
pub use faults::{ArmedFault, Endpoint, Fault, UnknownFault, FAULT_NAMES};
pub use keys::SigningAlgorithm;
pub use logout::{BackchannelDelivery, DeliveryOutcome, SessionEndReason};
pub use modes::{
    Mode, UnknownMode, MAX_CLOCK_SKEW_SECONDS, MODE_NAMES, OPTIONAL_ROLE_FIELDS,
    REQUIRED_ROLE_FIELDS,
};
pub use provider::PushedRequests;
pub use server::{MockCis2, RunningMock, PORT_PLACEHOLDER};
pub use sessions::SessionInfo;
pub use sign_in::AutoLogin;
pub use store::StoreCounts;
pub use users::{Directory, NrbacRole, TestUser, BUILTIN_USERS_JSON};
pub use webauthn::WebAuthnCredential;
