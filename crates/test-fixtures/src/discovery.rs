//! Discovery documents (OpenID Connect Discovery 1.0 §3), and a provider of a test's own that
//! serves one and a JWKS over loopback HTTP, for tokens the mock provider cannot issue.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::CIS2_INT_ISSUER;

/// The least a document needs, for `issuer` with its endpoints under it (`/authorize`,
/// `/token`, `/jwks`), signing ID tokens with `algorithms`.
pub fn provider_document(issuer: &str, algorithms: &[&str]) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
    })
}

/// CIS2 INT's discovery document as assembled in the reference's examples.
pub fn cis2_int_document() -> Value {
    let endpoint = |path: &str| format!("{CIS2_INT_ISSUER}{path}");
    json!({
        "issuer": CIS2_INT_ISSUER,
        "authorization_endpoint": endpoint("/authorize"),
        "token_endpoint": endpoint("/access_token"),
        "userinfo_endpoint": endpoint("/userinfo"),
        "jwks_uri": endpoint("/connect/jwk_uri"),
        "end_session_endpoint": endpoint("/connect/endSession"),
        "revocation_endpoint": endpoint("/token/revoke"),
        "scopes_supported": ["openid", "profile", "email", "nhsperson", "associatedorgs",
            "nationalrbacaccess", "professionalmemberships", "organisationalmemberships",
            "selectedrole"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["AAL3_ANY", "AAL2_OR_AAL3_ANY", "AAL2_ANY"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic",
            "client_secret_jwt", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS512", "HS256", "HS512"],
        "id_token_signing_alg_values_supported": ["RS256", "RS512"],
        "userinfo_signing_alg_values_supported": ["RS256", "RS512"],
        "claims_supported": ["sub", "uid", "name", "nhsid_useruid", "nhsid_user_orgs",
            "nhsid_nrbac_roles", "selected_roleid", "id_assurance_level",
            "authentication_assurance_level", "acr", "amr", "auth_time", "sid"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true
    })
}

/// A provider of a test's own on 127.0.0.1: its discovery document and its JWKS, which a test
/// may replace (a rotation). It serves until the runtime ends.
#[derive(Debug)]
pub struct TestProvider {
    /// `http://127.0.0.1:PORT`.
    pub issuer: String,
    jwks: Arc<Mutex<Value>>,
}

impl TestProvider {
    /// Serves `document(issuer)` at `/.well-known/openid-configuration` and `jwks` at `/jwks`.
    pub async fn start(document: impl FnOnce(&str) -> Value, jwks: Value) -> Self {
        Self::start_with_routes(document, jwks, axum::Router::new()).await
    }

    /// [`TestProvider::start`] with `routes` served beside the document and the keys (a token
    /// endpoint of the test's own, say).
    pub async fn start_with_routes(
        document: impl FnOnce(&str) -> Value,
        jwks: Value,
        routes: axum::Router,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let issuer = format!("http://{}", listener.local_addr().expect("bound"));
        let document = document(&issuer);
        let jwks = Arc::new(Mutex::new(jwks));
        let published = jwks.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || {
                    let document = document.clone();
                    async move { axum::Json(document) }
                }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || {
                    let jwks = published.lock().expect("the JWKS").clone();
                    async move { axum::Json(jwks) }
                }),
            )
            .merge(routes);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { issuer, jwks }
    }

    /// Publishes `jwks` from now on.
    pub fn publish_jwks(&self, jwks: Value) {
        *self.jwks.lock().expect("the JWKS") = jwks;
    }
}
