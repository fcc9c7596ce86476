//! The back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6): every
//! rule the broker holds a `logout_token` to before it ends a session, in one place. What is
//! left to the caller is the one rule that needs memory: a `jti` seen before is a replay
//! (§2.6 step 6), checked in the store against [`LogoutRequest::jti`] for at least
//! [`LogoutTokenRules::max_age`] plus the skew, the window in which a token is accepted at all.

use std::time::{Duration, SystemTime};

use careid_oidc::jose::{self, JoseError, JsonWebKeySet, JwsAlgorithm, UnknownKid};
use careid_oidc::{unix_seconds, ClientId, IssuerUrl};
use serde_json::{Map, Value};

/// The event a logout token must carry (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What a logout token is checked against.
#[derive(Debug, Clone, Copy)]
pub struct LogoutTokenRules<'a> {
    /// The provider's issuer, compared as an exact string (CIS2's `:443` included).
    pub issuer: &'a IssuerUrl,
    /// The client the token must be addressed to, and the only audience it may name.
    pub client_id: &'a ClientId,
    /// The provider's published keys.
    pub keys: &'a JsonWebKeySet,
    /// The signing algorithms taken: asymmetric ones only, since the broker shares no secret
    /// with the provider that a logout token could be MACed with.
    pub allowed: &'a [JwsAlgorithm],
    pub now: SystemTime,
    /// Clock difference tolerated on `iat` and `exp`.
    pub skew: Duration,
    /// How old a token's `iat` may be: older ones are refused, so the `jti`s the store must
    /// remember are bounded by this window.
    pub max_age: Duration,
}

/// A valid logout token's request: end the session `sid`, or every session of `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub sub: Option<String>,
    pub sid: Option<String>,
    /// The token's id, for the replay check the caller makes.
    pub jti: String,
    pub iat: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LogoutTokenError {
    #[error("the logout token is not a signed JWT careid can read: {0}")]
    Jose(JoseError),
    #[error("the logout token's typ {0:?} is not a logout token's")]
    WrongType(String),
    #[error("the logout token's iss {actual:?} is not the provider's {expected:?}")]
    WrongIssuer { actual: String, expected: String },
    #[error("the logout token is not addressed to this client alone")]
    WrongAudience,
    #[error("the logout token's {0} is missing or not a whole number of seconds")]
    BadTime(&'static str),
    #[error("the logout token was issued in the future")]
    IssuedInFuture,
    #[error("the logout token is too old")]
    TooOld,
    #[error("the logout token has expired")]
    Expired,
    #[error("the logout token has no jti")]
    NoJti,
    #[error("the logout token does not carry the back-channel logout event")]
    NoLogoutEvent,
    #[error("the logout token names neither a session (sid) nor a user (sub)")]
    NoSubject,
    #[error("the logout token carries a nonce, which only an ID token may")]
    Nonce,
}

impl UnknownKid for LogoutTokenError {
    fn is_unknown_kid(&self) -> bool {
        matches!(self, LogoutTokenError::Jose(error) if error.is_unknown_kid())
    }
}

impl LogoutTokenError {
    /// A stable code for logs and the audit trail.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Jose(error) => error.code(),
            Self::WrongType(_) => "logout_token_type",
            Self::WrongIssuer { .. } => "logout_token_issuer",
            Self::WrongAudience => "logout_token_audience",
            Self::BadTime(_) => "logout_token_time",
            Self::IssuedInFuture => "logout_token_future",
            Self::TooOld => "logout_token_too_old",
            Self::Expired => "logout_token_expired",
            Self::NoJti => "logout_token_no_jti",
            Self::NoLogoutEvent => "logout_token_no_event",
            Self::NoSubject => "logout_token_no_subject",
            Self::Nonce => "logout_token_nonce",
        }
    }
}

/// Checks `token` by §2.6: a signed JWT (never encrypted, never `none`, never HMAC) from the
/// provider's keys, explicitly typed as a logout token or untyped, exact `iss`, `aud` the client
/// alone, `iat` neither in the future nor older than `max_age`, `exp` when present, a `jti`,
/// the logout event as a JSON object, `sid` or `sub` or both, and no `nonce` (so an ID token can
/// never pass for a logout token).
pub fn validate_logout_token(
    token: &str,
    rules: &LogoutTokenRules<'_>,
) -> Result<LogoutRequest, LogoutTokenError> {
    let jwt = jose::decode_any_type(token).map_err(LogoutTokenError::Jose)?;
    if let Some(typ) = &jwt.header.typ {
        // §2.4 recommends `logout+jwt`; providers that predate it send `JWT`.
        let typ = typ.to_ascii_lowercase();
        let typ = typ.strip_prefix("application/").unwrap_or(&typ);
        if typ != "logout+jwt" && typ != "jwt" {
            return Err(LogoutTokenError::WrongType(
                jwt.header.typ.clone().unwrap_or_default(),
            ));
        }
    }
    let asymmetric: Vec<JwsAlgorithm> = rules
        .allowed
        .iter()
        .copied()
        .filter(|alg| !alg.is_hmac())
        .collect();
    jose::verify(&jwt, rules.keys, &asymmetric, None).map_err(LogoutTokenError::Jose)?;
    let claims = &jwt.claims;

    match claims.get("iss") {
        Some(Value::String(iss)) if rules.issuer.matches(iss) => {}
        other => {
            return Err(LogoutTokenError::WrongIssuer {
                actual: other.map(Value::to_string).unwrap_or_default(),
                expected: rules.issuer.to_string(),
            })
        }
    }
    let addressed_to_client_alone = match claims.get("aud") {
        Some(Value::String(aud)) => *rules.client_id == aud.as_str(),
        Some(Value::Array(auds)) => {
            !auds.is_empty()
                && auds
                    .iter()
                    .all(|aud| aud.as_str() == Some(rules.client_id.as_str()))
        }
        _ => false,
    };
    if !addressed_to_client_alone {
        return Err(LogoutTokenError::WrongAudience);
    }

    let now = unix_seconds(rules.now);
    let skew = rules.skew.as_secs();
    let iat = whole_seconds(claims, "iat")?.ok_or(LogoutTokenError::BadTime("iat"))?;
    if iat > now.saturating_add(skew) {
        return Err(LogoutTokenError::IssuedInFuture);
    }
    if iat
        .saturating_add(rules.max_age.as_secs())
        .saturating_add(skew)
        < now
    {
        return Err(LogoutTokenError::TooOld);
    }
    if let Some(exp) = whole_seconds(claims, "exp")? {
        if exp.saturating_add(skew) <= now {
            return Err(LogoutTokenError::Expired);
        }
    }
    let jti = non_empty_text(claims, "jti").ok_or(LogoutTokenError::NoJti)?;

    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT));
    if !matches!(event, Some(Value::Object(_))) {
        return Err(LogoutTokenError::NoLogoutEvent);
    }
    let sub = non_empty_text(claims, "sub");
    let sid = non_empty_text(claims, "sid");
    if sub.is_none() && sid.is_none() {
        return Err(LogoutTokenError::NoSubject);
    }
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::Nonce);
    }
    Ok(LogoutRequest { sub, sid, jti, iat })
}

/// A time claim as whole seconds since the epoch: `None` when absent; an error for a string, a
/// fraction, a negative number or one too large for a clock.
fn whole_seconds(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, LogoutTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|seconds| *seconds <= i64::MAX as u64)
            .map(Some)
            .ok_or(LogoutTokenError::BadTime(name)),
    }
}

fn non_empty_text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}
