//! The UserInfo endpoint (OpenID Connect Core 1.0 §5.3, RFC 6750 §2.1 and §3.1): claims released
//! by scope exactly as REFERENCE §4's table, as JSON or as a signed JWT without `aud`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::activity::TokenKind;
use crate::error::OAuthError;
use crate::provider::{now, Provider};

/// Which claims each scope releases (REFERENCE §4). `sub` is always released. The professional
/// registration claim names are unverified for CIS2.
pub(crate) const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    ("profile", &["name", "given_name", "family_name", "uid"]),
    ("email", &["email"]),
    (
        "nhsperson",
        &[
            "nhsid_useruid",
            "title",
            "idassurancelevel",
            "initials",
            "middle_names",
            "display_name",
        ],
    ),
    ("associatedorgs", &["nhsid_user_orgs"]),
    ("nationalrbacaccess", &["nhsid_nrbac_roles"]),
    ("organisationalmemberships", &["nhsid_org_memberships"]),
    (
        "professionalmemberships",
        &["gmc_id", "nmc_id", "gphc_id", "gdc_id", "hcpc_id"],
    ),
];

pub(crate) async fn handle(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    match answer(&provider, &headers) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn answer(provider: &Provider, headers: &HeaderMap) -> Result<Response, OAuthError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| OAuthError::invalid_token("no bearer access token"))?;
    let grant = provider
        .store
        .access_token_grant(token, now())
        .ok_or_else(|| {
            OAuthError::invalid_token("the access token is unknown, expired or revoked")
        })?;
    let user = provider
        .users
        .get(&grant.sign_in.user_id)
        .ok_or_else(|| OAuthError::invalid_token("the token's user no longer exists"))?;

    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id()));
    for (scope, names) in SCOPE_CLAIMS {
        if grant.request.has_scope(scope) {
            for name in *names {
                if let Some(value) = user.claim(name) {
                    claims.insert((*name).to_owned(), value.clone());
                }
            }
        }
    }

    // Modes, then faults: the one place UserInfo claims are answered.
    crate::modes::userinfo(provider, &mut claims);
    crate::faults::userinfo(provider, &mut claims);

    let signing = provider
        .clients
        .get(&grant.request.client_id)
        .filter(|client| client.userinfo_signed)
        .map(|client| client.userinfo_signed_response_alg);
    if let Some(algorithm) = signing {
        // Signed UserInfo carries `iss` and no `aud` in CIS2 (REFERENCE §6).
        claims.insert("iss".into(), json!(provider.issuer.as_str()));
        let jwt = provider.keys.sign(algorithm, "JWT", &Value::Object(claims));
        // Only the claims are kept, for the admin page and the tests: never the JWT.
        provider.activity.record_token(
            TokenKind::SignedUserInfo,
            &grant.request.client_id,
            now(),
            &jwt,
        );
        let mut response = jwt.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwt"),
        );
        Ok(response)
    } else {
        Ok(Json(Value::Object(claims)).into_response())
    }
}
