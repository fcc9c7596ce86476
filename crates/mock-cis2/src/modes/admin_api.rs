//! `{issuer}/admin/modes`: switch modes on and off as JSON, for scripts and tests. Loopback
//! peers only, like the faults' endpoint.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{is_mode_name, Mode, MODE_NAMES};
use crate::faults::admin_peer_allowed;
use crate::provider::Provider;

/// The admin request body: `{"name": "clock_skew=300"}` switches a mode on,
/// `{"name": "clock_skew", "on": false}` switches it off.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetRequest {
    name: String,
    #[serde(default = "switched_on")]
    on: bool,
}

fn switched_on() -> bool {
    true
}

fn listing(provider: &Provider) -> Json<Value> {
    let modes: Vec<String> = provider
        .modes
        .list()
        .iter()
        .map(ToString::to_string)
        .collect();
    Json(json!({ "modes": modes }))
}

fn refused(status: StatusCode, error: &str, description: String) -> Response {
    let known: Vec<&str> = MODE_NAMES.iter().map(|(name, _)| *name).collect();
    (
        status,
        Json(json!({ "error": error, "error_description": description, "known": known })),
    )
        .into_response()
}

/// `POST {issuer}/admin/modes`: switches a mode on or off.
pub(crate) async fn admin_set(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return crate::faults::forbidden();
    }
    if !crate::faults::declares_json(&headers) {
        return refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send the mode as application/json".to_owned(),
        );
    }
    let request: SetRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return refused(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                error.to_string(),
            )
        }
    };
    if request.on {
        match request.name.parse::<Mode>() {
            Ok(mode) => provider.modes.switch_on(mode),
            Err(error) => return refused(StatusCode::BAD_REQUEST, error.code(), error.to_string()),
        }
    } else {
        // Off by name alone; a value, if given, is the one the tester switched on.
        let name = request.name.split('=').next().unwrap_or_default().trim();
        if !is_mode_name(name) {
            return refused(
                StatusCode::BAD_REQUEST,
                "unknown_mode",
                format!("unknown mode {name:?}: see MODES.md"),
            );
        }
        provider.modes.switch_off(name);
    }
    listing(&provider).into_response()
}

/// `DELETE {issuer}/admin/modes`: switches every mode off.
pub(crate) async fn admin_switch_off_all(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return crate::faults::forbidden();
    }
    provider.modes.switch_off_all();
    listing(&provider).into_response()
}

/// `GET {issuer}/admin/modes`: lists the modes switched on.
pub(crate) async fn admin_list(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return crate::faults::forbidden();
    }
    listing(&provider).into_response()
}
