//! The careid broker: the small service an organisation runs so that careid on clinicians'
//! laptops holds no CIS2 client credential (CIS2 registers confidential clients only). It
//! relays the clients' token requests with client authentication added, receives CIS2's
//! back-channel logout and tells the desktops whose session ended.
//!
//! Its parts: its configuration (`config`, with `broker.example.toml` as
//! the documented example), the credential and its published JWKS (`credential`), the back-channel
//! logout token's rules (`logout_token`, the one place they live), the stores (`store`, embedded,
//! and `store::redis` for several replicas on one Redis): ended sessions, seen token ids, and the
//! listeners told of each end; the HTTP service
//! (`server`: the logout endpoint, the JWKS, health; `listeners`: the desktops'
//! `/sessions/status` and `/sessions/events`, which tell a client proving its session with its ID
//! token that the provider ended it) with the relays of `API.md` (`relay`: token,
//! PAR and revocation relays with client authentication added by careid-oidc's code, a
//! per-source rate limit and an audit log that never holds a token), the rate limits, one
//! budget per source for each route group (`rate_limit`), TLS from PEM files (`tls`),
//! and running it all from a configuration (`run`, what `careid-broker serve` calls).
//!
//! The audit log is the `tracing` target `careid_broker::audit` ([`relay::AUDIT_TARGET`]): one
//! event per relay request with time, source, endpoint, grant type, outcome, status and the
//! returned ID token's `sub`, `sid` and `acr`, read from its payload without checking it (for
//! the record only: the client validates the token).
//!
//! Two pure parts stand ready for the relay: refresh handles (`handle`: the CIS2 refresh token
//! sealed under the broker's keys and bound to the desktop's DPoP key, so no desktop holds the
//! token itself) and stateless DPoP server nonces (`dpop_nonce`) from the same key files.

mod answer;
pub mod config;
pub mod connections;
pub mod credential;
pub mod dpop_nonce;
pub mod handle;
pub mod listeners;
pub mod logout_token;
mod long_streams;
pub mod metrics;
pub mod proof;
pub mod rate_limit;
pub mod relay;
pub mod run;
pub mod server;
pub mod store;
pub mod tls;

pub use config::{BrokerConfig, ConfigError};
pub use credential::{BrokerCredential, CredentialError};
pub use dpop_nonce::NonceIssuer;
pub use handle::{HandleError, HandleKeys, Opened, RefreshHandle};
pub use logout_token::{validate_logout_token, LogoutRequest, LogoutTokenError, LogoutTokenRules};
pub use store::redis::RedisStore;
pub use store::{
    EmbeddedStore, EndId, RecordedEnd, SessionEnd, Store, StoreError, ENDED_SESSION_MEMORY,
};
