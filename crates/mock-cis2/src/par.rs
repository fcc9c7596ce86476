//! Pushed authorization requests (RFC 9126): an authenticated client posts its authorization
//! request's parameters to `{issuer}/par` and gets a single-use `request_uri` that stands for
//! them, so the browser's address carries only `client_id` and that reference. The pushed
//! parameters pass the same checks as a request made at the authorization endpoint.
//!
//! CIS2 does not publish this endpoint (REFERENCE §1): the mock offers it to prove that careid
//! uses it whenever a provider does; `MockCis2::pushed_requests` turns it off or requires it, and
//! the `lean_discovery` mode turns it off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::client_auth::{authenticate_form_with, FormParameters};
use crate::error::OAuthError;
use crate::provider::{now, Provider, PushedRequests};
use crate::store::UnixTime;

/// RFC 9126 §2.2: the prefix of every `request_uri` this provider issues.
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request may wait for the browser (RFC 9126 §2.2 suggests short).
const LIFETIME: UnixTime = 90;
/// The parameters that authenticate the client: they belong to the push, not the request.
const CLIENT_AUTH_PARAMETERS: &[&str] =
    &["client_secret", "client_assertion", "client_assertion_type"];

/// Pushed requests waiting for the browser, by `request_uri`.
#[derive(Debug, Default)]
pub(crate) struct PushedStore(Mutex<HashMap<String, Pushed>>);

#[derive(Debug)]
struct Pushed {
    client_id: String,
    parameters: Vec<(String, String)>,
    expires_at: UnixTime,
}

impl PushedStore {
    /// Takes the pushed request `request_uri` stands for, once: RFC 9126 §4 asks that a
    /// `request_uri` be used for one authorization request only.
    pub fn take(&self, request_uri: &str, client_id: &str) -> Option<Vec<(String, String)>> {
        let mut pushed = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let now = now();
        pushed.retain(|_, request| request.expires_at > now);
        match pushed.remove(request_uri) {
            Some(request) if request.client_id == client_id => Some(request.parameters),
            _ => None,
        }
    }

    fn put(&self, request_uri: String, request: Pushed) {
        let mut pushed = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let now = now();
        pushed.retain(|_, request| request.expires_at > now);
        pushed.insert(request_uri, request);
    }
}

pub(crate) async fn handle(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if crate::modes::pushed_requests(&provider) == PushedRequests::Off {
        return StatusCode::NOT_FOUND.into_response();
    }
    let form = FormParameters::parse(&body);
    let methods = provider.settings.token_auth_methods.as_deref();
    let client = match authenticate_form_with(&provider, &headers, &form, methods).await {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    // RFC 9126 §2.1: a pushed request cannot itself refer to another.
    if form.get("request_uri").is_some() {
        return OAuthError::invalid_request("request_uri cannot be pushed").into_response();
    }
    let mut parameters: Vec<(String, String)> = form
        .pairs()
        .filter(|(name, _)| !CLIENT_AUTH_PARAMETERS.contains(&name.as_str()))
        .cloned()
        .collect();
    if form.get("client_id").is_none() {
        parameters.push(("client_id".into(), client.client_id.clone()));
    }
    // §2.3: what the authorization endpoint would refuse is refused here, as a JSON error.
    if let Err(error) = crate::authorize::validate(&provider, &parameters) {
        return error.into_oauth_error().into_response();
    }
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", provider.random(24));
    provider.pushed.put(
        request_uri.clone(),
        Pushed {
            client_id: client.client_id.clone(),
            parameters,
            expires_at: now() + LIFETIME,
        },
    );
    let mut response = (
        StatusCode::CREATED,
        Json(json!({ "request_uri": request_uri, "expires_in": LIFETIME })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
