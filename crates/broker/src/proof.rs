//! The relays' DPoP rules (RFC 9449), between careid and the broker: every relay request carries
//! one proof, checked here before anything reaches the provider, with careid-oidc's one DPoP
//! implementation. The broker's own part: the nonce (stateless, rotating: `dpop_nonce`), the
//! `jti` replay cache (the store, shared by replicas, keyed by key and `jti`), `htm` and `htu`
//! from the configured internal URL (never from `Host` or forwarded headers), and the
//! algorithm allow-list. The `DPoP` header is never forwarded: the relay builds the provider's
//! request afresh.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, StatusCode};
use careid_oidc::dpop::{verify_proof, DpopError, ProofCheck, VerifiedProof};
use careid_oidc::JwsAlgorithm;

use crate::server::Broker;
use crate::store::StoreError;

/// The request header of a proof, and the answer header of a nonce (RFC 9449 §4.1, §8).
pub const DPOP_HEADER: &str = "dpop";
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";
/// How old a proof may be: it is made for one request, just before it is sent.
pub const PROOF_MAX_AGE: Duration = Duration::from_secs(60);
/// Clock difference tolerated between a desktop and the broker.
pub const PROOF_SKEW: Duration = Duration::from_secs(30);
/// The algorithms a desktop's key may use: careid makes ES256 keys.
pub const PROOF_ALGORITHMS: &[JwsAlgorithm] = &[
    JwsAlgorithm::Es256,
    JwsAlgorithm::Es384,
    JwsAlgorithm::Ps256,
];

/// Why a relay request's proof was refused.
#[derive(Debug)]
pub enum ProofRefusal {
    /// No `DPoP` header, or more than one.
    Missing,
    Several,
    Invalid(DpopError),
    /// No nonce, or one the broker no longer accepts: answered `use_dpop_nonce` with a fresh one.
    Nonce,
    /// A `jti` this key used before, within the window.
    Replayed,
    /// The replay cache cannot be reached.
    Store(StoreError),
}

impl ProofRefusal {
    /// A stable short reason for the audit log and the metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Several => "several",
            Self::Invalid(error) => error.code(),
            Self::Nonce => "nonce",
            Self::Replayed => "replayed",
            Self::Store(_) => "store",
        }
    }

    /// The OAuth answer: `use_dpop_nonce` for a nonce (§8), `invalid_dpop_proof` (§5) else,
    /// 503 when the replay cache is down.
    pub fn answer(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Nonce => (
                StatusCode::BAD_REQUEST,
                "use_dpop_nonce",
                "use the DPoP-Nonce this answer carries",
            ),
            Self::Store(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the broker cannot check the proof now: try again later",
            ),
            Self::Missing | Self::Several => (
                StatusCode::BAD_REQUEST,
                "invalid_dpop_proof",
                "one DPoP proof is required",
            ),
            Self::Invalid(_) | Self::Replayed => (
                StatusCode::BAD_REQUEST,
                "invalid_dpop_proof",
                "the DPoP proof is not valid",
            ),
        }
    }
}

/// Checks the request's one DPoP proof for a `POST` to `path` on the internal listener.
pub async fn check_proof(
    broker: &Broker,
    path: &str,
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<VerifiedProof, ProofRefusal> {
    let mut values = headers.get_all(DPOP_HEADER).iter();
    let proof = values.next().ok_or(ProofRefusal::Missing)?;
    if values.next().is_some() {
        return Err(ProofRefusal::Several);
    }
    // Not visible ASCII cannot be a compact JWS: checked as the empty proof it then is, so it is
    // refused as malformed, like any other proof that is not a JWS.
    let proof = proof.to_str().unwrap_or_default();
    let url = broker.config.internal.url_for(path);
    let check = ProofCheck {
        method: "POST",
        url: &url,
        now,
        max_age: PROOF_MAX_AGE,
        skew: PROOF_SKEW,
        allowed: PROOF_ALGORITHMS,
        access_token: None,
    };
    let verified = verify_proof(proof, &check).map_err(ProofRefusal::Invalid)?;
    if !verified
        .nonce
        .as_deref()
        .is_some_and(|nonce| broker.keys().nonces.accepts(nonce, now))
    {
        return Err(ProofRefusal::Nonce);
    }
    // Remembered past the last moment the proof could still be taken.
    let until = now + PROOF_MAX_AGE + PROOF_SKEW * 2;
    let first = broker
        .store()
        .first_proof(verified.thumbprint.as_str(), &verified.jti, until, now)
        .await
        .map_err(ProofRefusal::Store)?;
    if !first {
        return Err(ProofRefusal::Replayed);
    }
    Ok(verified)
}
