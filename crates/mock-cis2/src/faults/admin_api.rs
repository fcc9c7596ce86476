//! `{issuer}/admin/faults`: arm, list and clear faults as JSON, for scripts and tests.
//! Loopback peers only.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{ArmedFault, Fault, FAULT_NAMES};
use crate::provider::Provider;

/// Only a loopback peer may change faults: the admin endpoint has no authentication, so it
/// must not be reachable from another machine even if the mock is exposed by a proxy.
pub(crate) fn admin_peer_allowed(peer: IpAddr) -> bool {
    peer.to_canonical().is_loopback()
}

/// Whether a request declares a JSON body. The admin endpoints that change the mock take only
/// that: a web page the tester has open can send a cross-site `text/plain` or form POST to
/// 127.0.0.1 without asking, but not `application/json` (the browser's CORS preflight, which the
/// mock never grants, stops it first).
pub(crate) fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/json"))
}

/// The admin request body: `{"name": "...", "count": N}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArmRequest {
    name: String,
    #[serde(default)]
    count: Option<u32>,
}

fn listing(provider: &Provider) -> Json<Value> {
    let faults: Vec<Value> = provider
        .faults
        .list()
        .iter()
        .map(|armed| json!({ "name": armed.fault.to_string(), "count": armed.remaining }))
        .collect();
    Json(json!({ "faults": faults }))
}

/// The answer to an admin request from a peer that is not loopback (every admin endpoint's).
pub(crate) fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({ "error": "access_denied", "error_description": "the admin endpoint answers loopback peers only" })),
    )
        .into_response()
}

/// `POST {issuer}/admin/faults`: arms a fault.
pub(crate) async fn admin_arm(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return forbidden();
    }
    if !declares_json(&headers) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(json!({ "error": "invalid_request", "error_description": "send the fault as application/json" })),
        )
            .into_response();
    }
    let request: ArmRequest =
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(error) => return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": "invalid_request", "error_description": error.to_string() })),
            )
                .into_response(),
        };
    let fault = match request.name.parse::<Fault>() {
        Ok(fault) if request.count != Some(0) => fault,
        Ok(_) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": "invalid_request", "error_description": "count must be at least 1" })),
            )
                .into_response()
        }
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": error.code(), "error_description": error.to_string(), "known": FAULT_NAMES })),
            )
                .into_response()
        }
    };
    provider.faults.arm(ArmedFault {
        fault,
        remaining: request.count,
    });
    listing(&provider).into_response()
}

/// `DELETE {issuer}/admin/faults`: clears every fault.
pub(crate) async fn admin_clear(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return forbidden();
    }
    provider.faults.clear();
    listing(&provider).into_response()
}

/// `GET {issuer}/admin/faults`: lists the armed faults.
pub(crate) async fn admin_list(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return forbidden();
    }
    listing(&provider).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_peers_may_use_the_admin_endpoint() {
        let cases = [
            ("127.0.0.1", true),
            ("127.8.9.10", true),
            ("::1", true),
            ("::ffff:127.0.0.1", true),
            ("192.168.1.20", false),
            ("10.0.0.1", false),
            ("0.0.0.0", false),
            ("fe80::1", false),
            ("::ffff:192.168.1.20", false),
        ];
        for (peer, allowed) in cases {
            assert_eq!(admin_peer_allowed(peer.parse().unwrap()), allowed, "{peer}");
        }
    }
}
