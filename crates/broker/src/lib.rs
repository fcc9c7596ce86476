//! The careid broker: the small service an organisation runs so that careid on clinicians'
//! laptops holds no CIS2 client credential (CIS2 registers confidential clients only). It
//! relays the clients' token requests with client authentication added, receives CIS2's
//! back-channel logout and tells the desktops whose session ended.
//!
//! Built in steps. So far: its configuration (`config`, with `broker.example.toml` as
//! the documented example), the back-channel logout token's rules (`logout_token`, the one
//! place they live) and the embedded store (`store`): ended sessions, seen token ids, and the
//! listeners told of each end. To come: the HTTP service (relay, logout endpoint, listeners),
//! the Redis store for replicas, and careid's side.

pub mod config;
pub mod credential;
pub mod listeners;
pub mod logout_token;
pub mod relay;
pub mod server;
pub mod store;

pub use config::{BrokerConfig, ConfigError};
pub use credential::{BrokerCredential, CredentialError};
pub use logout_token::{validate_logout_token, LogoutRequest, LogoutTokenError, LogoutTokenRules};
pub use store::{EmbeddedStore, SessionEnd, Store, StoreError, ENDED_SESSION_MEMORY};
