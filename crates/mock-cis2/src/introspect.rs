//! The introspection endpoint, `{issuer}/introspect` (RFC 7662 §2): an authenticated client asks
//! whether one of its own tokens is active. Unknown, expired, revoked and other clients' tokens
//! all answer `{"active": false}` alike (§2.2), so the answer leaks nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::client_auth::{authenticate_form, FormParameters};
use crate::error::OAuthError;
use crate::provider::{now, Provider};
use crate::store::ActiveToken;

pub(crate) async fn handle(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormParameters::parse(&body);
    let client = match authenticate_form(&provider, &headers, &form).await {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    let Some(token) = form.get("token") else {
        return OAuthError::invalid_request("token is missing").into_response();
    };
    let now = now();
    // `token_type_hint` only speeds a lookup (§2.1); both kinds are looked up regardless.
    let answer = match provider.store.introspect(token, &client.client_id, now) {
        Some(ActiveToken::Access { grant, expires_at }) => {
            // The access token is a JWT this provider signed; its own `iat` is the truth.
            let issued_at = issued_at(token).unwrap_or(now);
            active(&provider, &grant, "Bearer", issued_at, expires_at)
        }
        Some(ActiveToken::Refresh { grant, expires_at }) => {
            // Refresh tokens are opaque and live exactly their configured lifetime.
            let issued_at = expires_at.saturating_sub(provider.settings.refresh_token_lifetime);
            active(&provider, &grant, "refresh_token", issued_at, expires_at)
        }
        None => json!({ "active": false }),
    };
    let mut response = Json(answer).into_response();
    // The answer describes a credential: never cached (RFC 7662 §4).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn active(
    provider: &Provider,
    grant: &crate::store::Grant,
    token_type: &str,
    issued_at: u64,
    expires_at: u64,
) -> Value {
    json!({
        "active": true,
        "scope": grant.request.scopes.join(" "),
        "client_id": grant.request.client_id,
        "sub": grant.sign_in.user_id,
        "exp": expires_at,
        "iat": issued_at,
        "iss": provider.issuer.as_str(),
        "token_type": token_type,
    })
}

fn issued_at(jwt: &str) -> Option<u64> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    serde_json::from_slice::<Value>(&payload).ok()?["iat"].as_u64()
}
