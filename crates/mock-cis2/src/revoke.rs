//! The revocation endpoint (RFC 7009 §2): refresh tokens take their whole grant with them,
//! access tokens go alone, and unknown tokens are answered 200 all the same (§2.2).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::client_auth::{authenticate_form_with, FormParameters};
use crate::error::OAuthError;
use crate::provider::Provider;

pub(crate) async fn handle(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Under lean discovery the provider publishes no revocation endpoint, and has none.
    if !crate::modes::revocation_offered(&provider) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let form = FormParameters::parse(&body);
    let methods = provider.settings.revocation_auth_methods.as_deref();
    let client = match authenticate_form_with(&provider, &headers, &form, methods).await {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    let Some(token) = form.get("token") else {
        return OAuthError::invalid_request("token is missing").into_response();
    };
    // The hint only speeds up a lookup (RFC 7009 §2.1); both kinds are checked regardless.
    provider.store.revoke(token, &client.client_id);
    StatusCode::OK.into_response()
}
