//! The broker's own answers (the provider's are passed back unchanged by `relay.rs`): never
//! cached, and refusals as OAuth error bodies (RFC 6749 §5.2), the one shape every route uses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `response`, marked `Cache-Control: no-store`: nothing the broker says may be kept by a cache
/// between it and the client (RFC 6749 §5.1).
pub(crate) fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An OAuth error answer: `error` and, when given, `error_description`, never cached.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: Option<&str>) -> Response {
    let body = match description {
        Some(description) => json!({ "error": error, "error_description": description }),
        None => json!({ "error": error }),
    };
    no_store((status, Json(body)))
}
