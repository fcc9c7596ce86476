//! Faults on demand for negative testing: each makes one output wrong in the way a client must
//! reject (OpenID Connect Core 1.0 §3.1.3.7 ID token validation, §5.3.2 UserInfo `sub`, RFC 9207
//! §2.4 callback `iss`, RFC 6749 §4.1.2.1 and §5.2 errors, RFC 7517 key sets). Faults are armed
//! for a number of requests or until cleared, and applied at one place per output: ID token
//! minting, the UserInfo response, the authorization redirect, the token response, and a
//! per-endpoint middleware for delays, 5xx, malformed JSON and oversized responses. The JSON
//! admin endpoints that arm and clear them are in `admin_api.rs`.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::error::{ErrorCode, OAuthError};
use crate::keys::SigningAlgorithm;
use crate::provider::{now, Provider};

mod admin_api;

pub(crate) use admin_api::{
    admin_arm, admin_clear, admin_list, admin_peer_allowed, declares_json, forbidden,
};

/// An endpoint that the per-endpoint faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Authorize,
    Token,
    Userinfo,
    Revocation,
}

/// Route suffixes under the issuer, matched by suffix so nesting under any issuer path works.
const ENDPOINT_PATHS: &[(&str, Endpoint)] = &[
    ("/.well-known/openid-configuration", Endpoint::Discovery),
    ("/connect/jwk_uri", Endpoint::Jwks),
    ("/authorize", Endpoint::Authorize),
    ("/authorize/sign-in", Endpoint::Authorize),
    ("/access_token", Endpoint::Token),
    ("/userinfo", Endpoint::Userinfo),
    ("/token/revoke", Endpoint::Revocation),
];

const ENDPOINT_NAMES: &[(&str, Endpoint)] = &[
    ("discovery", Endpoint::Discovery),
    ("jwks", Endpoint::Jwks),
    ("authorize", Endpoint::Authorize),
    ("token", Endpoint::Token),
    ("userinfo", Endpoint::Userinfo),
    ("revocation", Endpoint::Revocation),
];

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        ENDPOINT_NAMES
            .iter()
            .find(|(_, endpoint)| *endpoint == self)
            .map_or("token", |(name, _)| name)
    }

    fn of_path(path: &str) -> Option<Self> {
        ENDPOINT_PATHS
            .iter()
            .find(|(suffix, _)| path.ends_with(suffix))
            .map(|(_, endpoint)| *endpoint)
    }
}

/// What the slow endpoint fault waits when no delay is named.
const DEFAULT_DELAY: Duration = Duration::from_secs(3);

/// The size of an oversized response: far beyond any sane client's limit for these documents.
const OVERSIZED_BYTES: usize = 16 * 1024 * 1024;

/// One fault, named after what a client must reject. `FAULTS.md` describes each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    WrongIssuer,
    WrongAudience,
    MissingAzp,
    WrongAzp,
    WrongNonce,
    BadSignature,
    UnknownKid,
    AlgNone,
    Hs256WithPublicKey,
    ExpiredIdToken,
    IatInFuture,
    MissingSub,
    ExtraAudience,
    AuthTimeInFuture,
    AuthTimeZero,
    WrongAtHash,
    WrongCHash,
    /// No `acr` claim, as CIS2 sometimes sends (REFERENCE §5): a client must tolerate it.
    MissingAcr,
    /// `authentication_assurance_level` one below the authenticator's (not below 1).
    AssuranceLevelLowered,
    /// `selected_roleid`, when a role was chosen, names a role the user does not hold.
    UnknownSelectedRole,
    /// The refresh grant answers without an ID token (allowed by OIDC Core §12.2).
    NoIdTokenOnRefresh,
    /// The token response's `expires_in` is 2^64-1.
    HugeExpiresIn,
    UserinfoSubMismatch,
    MissingIssInCallback,
    WrongIssInCallback,
    WrongState,
    /// The authorization redirect carries this error instead of a code.
    AuthorizeError(ErrorCode),
    /// The token endpoint answers this error.
    TokenError(ErrorCode),
    RefreshRevoked,
    SlowEndpoint {
        endpoint: Endpoint,
        delay: Duration,
    },
    Http500(Endpoint),
    Http503(Endpoint),
    MalformedJson(Endpoint),
    OversizedResponse(Endpoint),
    JwksRotatedWithoutNotice,
}

/// The faults without parameters, by name.
const SIMPLE: &[(&str, Fault)] = &[
    ("wrong_issuer", Fault::WrongIssuer),
    ("wrong_audience", Fault::WrongAudience),
    ("missing_azp", Fault::MissingAzp),
    ("wrong_azp", Fault::WrongAzp),
    ("wrong_nonce", Fault::WrongNonce),
    ("bad_signature", Fault::BadSignature),
    ("unknown_kid", Fault::UnknownKid),
    ("alg_none", Fault::AlgNone),
    ("hs256_with_public_key", Fault::Hs256WithPublicKey),
    ("expired_id_token", Fault::ExpiredIdToken),
    ("iat_in_future", Fault::IatInFuture),
    ("missing_sub", Fault::MissingSub),
    ("extra_audience", Fault::ExtraAudience),
    ("auth_time_in_future", Fault::AuthTimeInFuture),
    ("auth_time_zero", Fault::AuthTimeZero),
    ("wrong_at_hash", Fault::WrongAtHash),
    ("wrong_c_hash", Fault::WrongCHash),
    ("missing_acr", Fault::MissingAcr),
    ("assurance_level_lowered", Fault::AssuranceLevelLowered),
    ("unknown_selected_role", Fault::UnknownSelectedRole),
    ("no_id_token_on_refresh", Fault::NoIdTokenOnRefresh),
    ("huge_expires_in", Fault::HugeExpiresIn),
    ("userinfo_sub_mismatch", Fault::UserinfoSubMismatch),
    ("missing_iss_in_callback", Fault::MissingIssInCallback),
    ("wrong_iss_in_callback", Fault::WrongIssInCallback),
    ("wrong_state", Fault::WrongState),
    (
        "authorize_access_denied",
        Fault::AuthorizeError(ErrorCode::AccessDenied),
    ),
    (
        "authorize_login_required",
        Fault::AuthorizeError(ErrorCode::LoginRequired),
    ),
    (
        "authorize_invalid_scope",
        Fault::AuthorizeError(ErrorCode::InvalidScope),
    ),
    (
        "authorize_server_error",
        Fault::AuthorizeError(ErrorCode::ServerError),
    ),
    (
        "token_invalid_grant",
        Fault::TokenError(ErrorCode::InvalidGrant),
    ),
    (
        "token_invalid_client",
        Fault::TokenError(ErrorCode::InvalidClient),
    ),
    ("refresh_revoked", Fault::RefreshRevoked),
    (
        "jwks_rotated_without_notice",
        Fault::JwksRotatedWithoutNotice,
    ),
];

/// Every fault name as accepted by [`Fault::from_str`]; the per-endpoint ones take `@ENDPOINT`
/// (and the slow one `=MILLISECONDS`).
pub const FAULT_NAMES: &[&str] = &[
    "wrong_issuer",
    "wrong_audience",
    "missing_azp",
    "wrong_azp",
    "wrong_nonce",
    "bad_signature",
    "unknown_kid",
    "alg_none",
    "hs256_with_public_key",
    "expired_id_token",
    "iat_in_future",
    "missing_sub",
    "extra_audience",
    "auth_time_in_future",
    "auth_time_zero",
    "wrong_at_hash",
    "wrong_c_hash",
    "missing_acr",
    "assurance_level_lowered",
    "unknown_selected_role",
    "no_id_token_on_refresh",
    "huge_expires_in",
    "userinfo_sub_mismatch",
    "missing_iss_in_callback",
    "wrong_iss_in_callback",
    "wrong_state",
    "authorize_access_denied",
    "authorize_login_required",
    "authorize_invalid_scope",
    "authorize_server_error",
    "token_invalid_grant",
    "token_invalid_client",
    "refresh_revoked",
    "jwks_rotated_without_notice",
    "slow_endpoint@ENDPOINT[=MILLISECONDS]",
    "http_500@ENDPOINT",
    "http_503@ENDPOINT",
    "malformed_json@ENDPOINT",
    "oversized_response@ENDPOINT",
];

/// A fault name that is not one of [`FAULT_NAMES`], or a malformed count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault {0:?}: expected NAME[@ENDPOINT][=MILLISECONDS][:COUNT], see FAULTS.md")]
pub struct UnknownFault(pub String);

impl UnknownFault {
    pub fn code(&self) -> &'static str {
        "unknown_fault"
    }
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownFault(text.to_owned());
        if let Some((_, fault)) = SIMPLE.iter().find(|(name, _)| *name == text) {
            return Ok(fault.clone());
        }
        let (name, target) = text.split_once('@').ok_or_else(unknown)?;
        let (endpoint, millis) = match target.split_once('=') {
            Some((endpoint, millis)) => (endpoint, Some(millis)),
            None => (target, None),
        };
        let endpoint = ENDPOINT_NAMES
            .iter()
            .find(|(known, _)| *known == endpoint)
            .map(|(_, endpoint)| *endpoint)
            .ok_or_else(unknown)?;
        match (name, millis) {
            ("slow_endpoint", millis) => Ok(Self::SlowEndpoint {
                endpoint,
                delay: match millis {
                    Some(millis) => Duration::from_millis(millis.parse().map_err(|_| unknown())?),
                    None => DEFAULT_DELAY,
                },
            }),
            ("http_500", None) => Ok(Self::Http500(endpoint)),
            ("http_503", None) => Ok(Self::Http503(endpoint)),
            ("malformed_json", None) => Ok(Self::MalformedJson(endpoint)),
            ("oversized_response", None) => Ok(Self::OversizedResponse(endpoint)),
            _ => Err(unknown()),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((name, _)) = SIMPLE.iter().find(|(_, fault)| fault == self) {
            return f.write_str(name);
        }
        match self {
            Self::SlowEndpoint { endpoint, delay } => write!(
                f,
                "slow_endpoint@{}={}",
                endpoint.as_str(),
                delay.as_millis()
            ),
            Self::Http500(endpoint) => write!(f, "http_500@{}", endpoint.as_str()),
            Self::Http503(endpoint) => write!(f, "http_503@{}", endpoint.as_str()),
            Self::MalformedJson(endpoint) => write!(f, "malformed_json@{}", endpoint.as_str()),
            Self::OversizedResponse(endpoint) => {
                write!(f, "oversized_response@{}", endpoint.as_str())
            }
            other => write!(f, "{other:?}"),
        }
    }
}

/// A fault with how many requests it applies to: `NAME[:COUNT]`, no count meaning until
/// cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmedFault {
    pub fault: Fault,
    /// Requests left to apply it to; `None` until cleared.
    pub remaining: Option<u32>,
}

impl FromStr for ArmedFault {
    type Err = UnknownFault;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, count) = match text.rsplit_once(':') {
            Some((name, count)) => {
                let count = count
                    .parse::<u32>()
                    .ok()
                    .filter(|count| *count > 0)
                    .ok_or_else(|| UnknownFault(text.to_owned()))?;
                (name, Some(count))
            }
            None => (text, None),
        };
        Ok(Self {
            fault: name.parse()?,
            remaining: count,
        })
    }
}

impl fmt::Display for ArmedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.remaining {
            Some(count) => write!(f, "{}:{count}", self.fault),
            None => write!(f, "{}", self.fault),
        }
    }
}

/// The armed faults of a running provider.
#[derive(Debug, Default)]
pub(crate) struct Faults(Mutex<Vec<ArmedFault>>);

impl Faults {
    fn armed(&self) -> std::sync::MutexGuard<'_, Vec<ArmedFault>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Arms a fault, replacing the same fault if it is already armed.
    pub fn arm(&self, armed: ArmedFault) {
        let mut faults = self.armed();
        faults.retain(|existing| existing.fault != armed.fault);
        tracing::warn!(fault = %armed, "mock CIS2 fault armed");
        faults.push(armed);
    }

    pub fn clear(&self) {
        self.armed().clear();
    }

    pub fn list(&self) -> Vec<ArmedFault> {
        self.armed().clone()
    }

    /// Takes every armed fault `wanted` selects, counting one request against each and
    /// disarming those that are spent.
    fn take(&self, wanted: impl Fn(&Fault) -> bool) -> Vec<Fault> {
        let mut faults = self.armed();
        let mut taken = Vec::new();
        faults.retain_mut(|armed| {
            if !wanted(&armed.fault) {
                return true;
            }
            taken.push(armed.fault.clone());
            match &mut armed.remaining {
                None => true,
                Some(remaining) => {
                    *remaining -= 1;
                    *remaining > 0
                }
            }
        });
        taken
    }
}

/// Signs an ID token, first applying the claim and signing faults armed for ID tokens.
pub(crate) fn mint_id_token(
    provider: &Provider,
    alg: SigningAlgorithm,
    mut claims: Map<String, Value>,
) -> String {
    let taken = provider.faults.take(|fault| {
        matches!(
            fault,
            Fault::WrongIssuer
                | Fault::WrongAudience
                | Fault::MissingAzp
                | Fault::WrongAzp
                | Fault::WrongNonce
                | Fault::BadSignature
                | Fault::UnknownKid
                | Fault::AlgNone
                | Fault::Hs256WithPublicKey
                | Fault::ExpiredIdToken
                | Fault::IatInFuture
                | Fault::MissingSub
                | Fault::ExtraAudience
                | Fault::AuthTimeInFuture
                | Fault::AuthTimeZero
                | Fault::WrongAtHash
                | Fault::WrongCHash
                | Fault::MissingAcr
                | Fault::AssuranceLevelLowered
                | Fault::UnknownSelectedRole
                | Fault::JwksRotatedWithoutNotice
        )
    });
    let now = now();
    let lifetime = provider.settings.token_lifetime;
    for fault in &taken {
        match fault {
            Fault::WrongIssuer => {
                claims.insert(
                    "iss".into(),
                    json!(format!("{}-not", provider.issuer.as_str())),
                );
            }
            Fault::WrongAudience => {
                claims.insert("aud".into(), json!("555999999999.apps.other"));
            }
            Fault::MissingAzp => {
                claims.remove("azp");
            }
            Fault::WrongAzp => {
                claims.insert("azp".into(), json!("555999999999.apps.other"));
            }
            Fault::WrongNonce => {
                claims.insert("nonce".into(), json!("not-the-nonce-you-sent"));
            }
            Fault::ExpiredIdToken => {
                claims.insert("iat".into(), json!(now - lifetime - 600));
                claims.insert("exp".into(), json!(now - 600));
            }
            Fault::IatInFuture => {
                claims.insert("iat".into(), json!(now + 3600));
                claims.insert("exp".into(), json!(now + 3600 + lifetime));
            }
            Fault::MissingSub => {
                claims.remove("sub");
            }
            Fault::ExtraAudience => {
                let client = claims.get("aud").cloned().unwrap_or(Value::Null);
                claims.insert("aud".into(), json!([client, "555999999999.apps.other"]));
            }
            Fault::AuthTimeInFuture => {
                claims.insert("auth_time".into(), json!(now + 3600));
            }
            Fault::AuthTimeZero => {
                claims.insert("auth_time".into(), json!(0));
            }
            Fault::WrongAtHash => {
                claims.insert(
                    "at_hash".into(),
                    json!(alg.half_hash("another-access-token")),
                );
            }
            Fault::WrongCHash if claims.contains_key("c_hash") => {
                claims.insert("c_hash".into(), json!(alg.half_hash("another-code")));
            }
            Fault::MissingAcr => {
                claims.remove("acr");
            }
            Fault::UnknownSelectedRole if claims.contains_key("selected_roleid") => {
                claims.insert("selected_roleid".into(), json!("555999999999"));
            }
            Fault::AssuranceLevelLowered => {
                // Lowered in the form it was minted in: a string stays a string.
                if let Some(level) = claims.get_mut("authentication_assurance_level") {
                    let lowered = match &*level {
                        Value::String(text) => {
                            let lower = text.parse::<u8>().unwrap_or(1).saturating_sub(1).max(1);
                            json!(lower.to_string())
                        }
                        other => json!(other.as_u64().unwrap_or(1).saturating_sub(1).max(1)),
                    };
                    *level = lowered;
                }
            }
            _ => {}
        }
    }
    let claims = Value::Object(claims);
    let keys = &provider.keys;
    let signing = taken.iter().find(|fault| {
        matches!(
            fault,
            Fault::BadSignature
                | Fault::UnknownKid
                | Fault::AlgNone
                | Fault::Hs256WithPublicKey
                | Fault::JwksRotatedWithoutNotice
        )
    });
    match signing {
        Some(Fault::BadSignature) => {
            let token = keys.sign(alg, "JWT", &claims);
            let (signed, signature) = token.rsplit_once('.').unwrap_or((&token, ""));
            let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
            if let Some(last) = bytes.last_mut() {
                *last ^= 0x01;
            }
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
        }
        Some(Fault::UnknownKid) => keys.sign_with_header(alg, &claims, |header| {
            header["kid"] = json!("unknown-kid-not-in-the-jwks");
        }),
        Some(Fault::AlgNone) => {
            // RFC 7519 §6.1: an unsecured JWT has an empty signature part.
            let header = json!({ "typ": "JWT", "alg": "none" });
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            )
        }
        Some(Fault::Hs256WithPublicKey) => {
            // The algorithm confusion attack: HMAC keyed with the RSA public key the JWKS
            // publishes, under the RSA key's kid.
            let header = json!({ "typ": "JWT", "alg": "HS256", "kid": keys.kid(alg) });
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let key =
                aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &keys.public_key_der(alg));
            let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
        }
        Some(Fault::JwksRotatedWithoutNotice) => {
            // A real rotation with no overlap: generating one RSA key here stalls this request
            // for tens of milliseconds, acceptable for a fault.
            if let Err(error) = keys.replace_without_notice(alg) {
                tracing::error!(%error, "cannot rotate the keys for the fault");
            }
            keys.sign(alg, "JWT", &claims)
        }
        _ => keys.sign(alg, "JWT", &claims),
    }
}

/// Applies the token response faults to the body about to be answered: no ID token on a
/// refresh, an `expires_in` no clock can add.
pub(crate) fn token_response(provider: &Provider, body: &mut Value, refreshing: bool) {
    let taken = provider.faults.take(|fault| match fault {
        Fault::NoIdTokenOnRefresh => refreshing,
        Fault::HugeExpiresIn => true,
        _ => false,
    });
    for fault in taken {
        match fault {
            Fault::NoIdTokenOnRefresh => {
                if let Some(body) = body.as_object_mut() {
                    body.remove("id_token");
                }
            }
            Fault::HugeExpiresIn => body["expires_in"] = json!(u64::MAX),
            _ => {}
        }
    }
}

/// Applies the UserInfo faults to the claims about to be answered.
pub(crate) fn userinfo(provider: &Provider, claims: &mut Map<String, Value>) {
    if !provider
        .faults
        .take(|fault| *fault == Fault::UserinfoSubMismatch)
        .is_empty()
    {
        claims.insert("sub".into(), json!("555000000000"));
    }
}

/// The query of a redirect back to the client, with the callback faults applied: `params` and
/// then `iss` (RFC 9207 §2) unless a fault or a mode removes it, or a fault changes it.
pub(crate) fn callback(provider: &Provider, params: &[(&str, &str)]) -> Vec<(String, String)> {
    let taken = provider.faults.take(|fault| {
        matches!(
            fault,
            Fault::MissingIssInCallback
                | Fault::WrongIssInCallback
                | Fault::WrongState
                | Fault::AuthorizeError(_)
        )
    });
    let state = params
        .iter()
        .find(|(name, _)| *name == "state")
        .map(|(_, value)| (*value).to_owned());
    let mut query: Vec<(String, String)> = match taken.iter().find_map(|fault| match fault {
        Fault::AuthorizeError(code) => Some(*code),
        _ => None,
    }) {
        Some(code) => {
            let mut query = vec![
                ("error".to_owned(), code.as_str().to_owned()),
                (
                    "error_description".to_owned(),
                    "fault injected by the mock".to_owned(),
                ),
            ];
            query.extend(state.map(|state| ("state".to_owned(), state)));
            query
        }
        None => params
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    };
    if taken.contains(&Fault::WrongState) {
        for (name, value) in &mut query {
            if name == "state" {
                *value = format!("{value}-not");
            }
        }
    }
    let error = query.iter().any(|(name, _)| name == "error");
    if taken.contains(&Fault::MissingIssInCallback)
        || !crate::modes::iss_in_redirect(provider, error)
    {
        return query;
    }
    let iss = if taken.contains(&Fault::WrongIssInCallback) {
        format!("{}-not", provider.issuer.as_str())
    } else {
        provider.issuer.as_str().to_owned()
    };
    query.push(("iss".to_owned(), iss));
    query
}

/// The token endpoint's error faults, checked once the client has authenticated.
pub(crate) fn token_error(provider: &Provider, grant_type: Option<&str>) -> Option<OAuthError> {
    let refreshing = grant_type == Some("refresh_token");
    let taken = provider.faults.take(|fault| match fault {
        Fault::TokenError(_) => true,
        Fault::RefreshRevoked => refreshing,
        _ => false,
    });
    taken.first().map(|fault| match fault {
        Fault::TokenError(code) => OAuthError::new(*code, "fault injected by the mock"),
        _ => OAuthError::invalid_grant("the refresh token has been revoked"),
    })
}

/// The per-endpoint faults: delay, 500, 503, malformed JSON and oversized bodies.
pub(crate) async fn middleware(
    State(provider): State<Arc<Provider>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(endpoint) = Endpoint::of_path(request.uri().path()) else {
        return next.run(request).await;
    };
    let taken = provider.faults.take(|fault| match fault {
        Fault::SlowEndpoint { endpoint: e, .. }
        | Fault::Http500(e)
        | Fault::Http503(e)
        | Fault::MalformedJson(e)
        | Fault::OversizedResponse(e) => *e == endpoint,
        _ => false,
    });
    for fault in &taken {
        if let Fault::SlowEndpoint { delay, .. } = fault {
            tokio::time::sleep(*delay).await;
        }
    }
    if taken.iter().any(|fault| matches!(fault, Fault::Http503(_))) {
        return server_failure(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
    }
    if taken.iter().any(|fault| matches!(fault, Fault::Http500(_))) {
        return server_failure(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    }
    let malformed = taken
        .iter()
        .any(|fault| matches!(fault, Fault::MalformedJson(_)));
    let oversized = taken
        .iter()
        .any(|fault| matches!(fault, Fault::OversizedResponse(_)));
    let response = next.run(request).await;
    if !malformed && !oversized {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map(|bytes| bytes.to_vec())
        .unwrap_or_default();
    if malformed {
        // Cut mid-document: still labelled JSON, no longer parseable.
        bytes.truncate(bytes.len() / 2);
        bytes.extend_from_slice(b"{\"");
    }
    if oversized {
        // Whitespace keeps a JSON document valid, so only a size limit catches it.
        bytes.resize(bytes.len().max(OVERSIZED_BYTES), b' ');
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

fn server_failure(status: StatusCode, code: &str) -> Response {
    let mut response = (
        status,
        Json(json!({ "error": code, "error_description": "fault injected by the mock" })),
    )
        .into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_parses_and_prints_back() {
        for name in FAULT_NAMES {
            let name = name
                .replace("@ENDPOINT[=MILLISECONDS]", "@userinfo=250")
                .replace("@ENDPOINT", "@jwks");
            let fault: Fault = name.parse().unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(fault.to_string(), name);
        }
    }

    #[test]
    fn names_with_counts_parse() {
        let cases = [
            ("wrong_issuer", Some((Fault::WrongIssuer, None))),
            ("wrong_issuer:2", Some((Fault::WrongIssuer, Some(2)))),
            (
                "slow_endpoint@token",
                Some((
                    Fault::SlowEndpoint {
                        endpoint: Endpoint::Token,
                        delay: DEFAULT_DELAY,
                    },
                    None,
                )),
            ),
            (
                "http_503@discovery:1",
                Some((Fault::Http503(Endpoint::Discovery), Some(1))),
            ),
            ("wrong_issuer:0", None),
            ("wrong_issuer:x", None),
            ("http_503", None),
            ("http_503@nowhere", None),
            ("http_503@token=5", None),
            ("no_such_fault", None),
        ];
        for (text, expected) in cases {
            let parsed = text
                .parse::<ArmedFault>()
                .ok()
                .map(|armed| (armed.fault, armed.remaining));
            assert_eq!(parsed, expected, "{text}");
        }
    }

    #[test]
    fn counted_faults_disarm_after_their_requests() {
        let faults = Faults::default();
        faults.arm("wrong_issuer:2".parse().unwrap());
        faults.arm("missing_sub".parse().unwrap());
        let wanted = |fault: &Fault| matches!(fault, Fault::WrongIssuer | Fault::MissingSub);
        assert_eq!(faults.take(wanted).len(), 2);
        assert_eq!(faults.take(wanted).len(), 2);
        assert_eq!(faults.take(wanted), vec![Fault::MissingSub]);
        faults.clear();
        assert!(faults.take(wanted).is_empty());
    }
}
