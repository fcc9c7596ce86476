//! Auto-login that can change while the mock runs: [`AutoLoginSetting`], and
//! `{issuer}/admin/auto-login` to read, set and clear it as JSON (loopback peers only), so a
//! test run can sign each case's user and authenticator in without a page on a mock another
//! process serves.
//!
//! A change takes `PUT` with `Content-Type: application/json`, or `DELETE`: a page on another
//! site cannot make a browser send either without a CORS preflight, which the mock never answers.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::error::StartError;
use crate::faults::admin_peer_allowed;
use crate::provider::Provider;
use crate::sign_in::AutoLogin;
use crate::users::Directory;

/// The auto-login in force: each authorization request reads it once, when it arrives.
#[derive(Debug, Default)]
pub(crate) struct AutoLoginSetting(RwLock<Option<AutoLogin>>);

impl AutoLoginSetting {
    pub fn new(auto_login: Option<AutoLogin>) -> Self {
        Self(RwLock::new(auto_login))
    }

    pub fn current(&self) -> Option<AutoLogin> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the setting once `auto_login` is known to name a real user, authenticator and
    /// role; returns the one it replaced.
    pub fn set(
        &self,
        auto_login: Option<AutoLogin>,
        users: &Directory,
    ) -> Result<Option<AutoLogin>, StartError> {
        if let Some(auto_login) = &auto_login {
            auto_login.check(users)?;
        }
        let mut current = self.0.write().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::replace(&mut *current, auto_login))
    }
}

/// The body of `PUT`: `{"auto_login": "USER[:AUTHENTICATOR[:ROLE]]"}`, or `null` for none.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRequest {
    auto_login: Option<String>,
}

fn current(provider: &Provider) -> Response {
    let auto_login = provider.auto_login.current().map(|auto| auto.to_string());
    Json(json!({ "auto_login": auto_login })).into_response()
}

fn answer(status: StatusCode, error: &str, description: &str) -> Response {
    let body: Value = json!({ "error": error, "error_description": description });
    (status, Json(body)).into_response()
}

/// `GET {issuer}/admin/auto-login`: `{"auto_login": "..." | null}`.
pub(crate) async fn show(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return crate::faults::forbidden();
    }
    current(&provider)
}

/// `PUT {issuer}/admin/auto-login`: sets (or with `null` clears) the auto-login; answers as GET.
pub(crate) async fn set(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return crate::faults::forbidden();
    }
    if !crate::faults::declares_json(&headers) {
        return answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send the auto-login as application/json",
        );
    }
    let request: SetRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return answer(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &error.to_string(),
            )
        }
    };
    let auto_login = match request.auto_login.as_deref().map(str::parse::<AutoLogin>) {
        None => None,
        Some(Ok(auto_login)) => Some(auto_login),
        Some(Err(problem)) => {
            return answer(
                StatusCode::BAD_REQUEST,
                "invalid_auto_login",
                &format!("auto-login {problem}"),
            )
        }
    };
    if let Err(error) = provider.auto_login.set(auto_login, &provider.users) {
        return answer(StatusCode::BAD_REQUEST, error.code(), &error.to_string());
    }
    current(&provider)
}

/// `DELETE {issuer}/admin/auto-login`: the sign-in pages again.
pub(crate) async fn clear(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return crate::faults::forbidden();
    }
    // Clearing needs no check of the users.
    let _ = provider.auto_login.set(None, &provider.users);
    current(&provider)
}
