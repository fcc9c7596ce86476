//! What careid's tests and benches share, so each is written once: test keys (generated or
//! committed, as PEM, JWK and JWKS), JWT minting with those keys, the claims several tests build
//! alike, discovery documents and a provider serving them, a broker's configuration, the tests'
//! own HTTP client and files, and the benches' summary of their timings.
//!
//! A dev-only crate: it depends on no careid crate (a dev-dependency cycle would give the crate
//! under test two copies and types that do not match), and returns plain values (PEM strings,
//! JSON values, compact JWTs) that tests feed into careid's typed APIs. Everything is signed here
//! with aws-lc-rs, never by the code under test.

pub mod broker_toml;
pub mod claims;
pub mod discovery;
pub mod files;
pub mod http;
pub mod jwt;
pub mod keys;
pub mod latency;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// CIS2 INT's issuer as its discovery document publishes it, `:443` included (REFERENCE §1).
pub const CIS2_INT_ISSUER: &str = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";

/// A `client_secret_jwt` client's secret, a GUID as CIS2 issues them: the HMAC key of its
/// assertions and of HS256 ID tokens.
pub const CLIENT_SECRET: &str = "6b1f0e9d-2c4a-4f7e-8d35-9a0b1c2d3e4f";

/// Base64url without padding, as JOSE writes every part (RFC 7515 §2).
pub fn base64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 PKCE challenge of `verifier` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    base64url(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// Seconds since the epoch on this machine's clock.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}
