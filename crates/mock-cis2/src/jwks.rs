//! The JWKS endpoint (RFC 7517 §5, OpenID Connect Discovery 1.0 §3 `jwks_uri`) at CIS2's
//! `/connect/jwk_uri`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::provider::Provider;

pub(crate) async fn handle(State(provider): State<Arc<Provider>>) -> Json<Value> {
    Json(provider.keys.jwks())
}
