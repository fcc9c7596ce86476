//! The redirect back to the client (RFC 6749 §4.1.2 and §4.1.2.1) with the RFC 9207 `iss`: how
//! both the authorization endpoint's refusals and a finished sign-in reach the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::OAuthError;
use crate::pages;
use crate::provider::Provider;

/// A 302 to the client's redirect URI with `params` and the RFC 9207 `iss` added to its query.
/// The URI is extended as text so that it reaches the client exactly as registered.
pub(crate) fn redirect_to_client(
    provider: &Provider,
    redirect_uri: &str,
    params: &[(&str, &str)],
) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    // Faults hook: `callback` adds the `iss` and applies the callback faults.
    for (name, value) in crate::faults::callback(provider, params) {
        query.append_pair(&name, &value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    match HeaderValue::from_str(&location) {
        Ok(location) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => pages::error_page("invalid_request", "the redirect URI cannot be used"),
    }
}

/// The error redirect of RFC 6749 §4.1.2.1.
pub(crate) fn redirect_error(
    provider: &Provider,
    redirect_uri: &str,
    state: Option<&str>,
    error: &OAuthError,
) -> Response {
    let mut params = vec![
        ("error", error.code().as_str()),
        ("error_description", error.description()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_to_client(provider, redirect_uri, &params)
}
