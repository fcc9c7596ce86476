//! Client authentication at the token endpoint by every registered method, driven by the
//! `openidconnect` crate, and the client assertion refusals of CIS2's rules (RFC 7523 §3, OpenID
//! Connect Core 1.0 §9): each answers `invalid_client` with `JWT is not valid`.

use std::time::{SystemTime, UNIX_EPOCH};

use careid_test_fixtures::claims::random_jti;
use careid_test_fixtures::jwt::{mint, JwtKey};
use careid_test_fixtures::keys::RsaTestKey;
use mock_cis2::{ClientRegistry, MockCis2, RunningMock, BUILTIN_CLIENTS_JSON};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{json, Value};

use crate::support::*;

/// The `client_secret_jwt` client.
pub const SECRET_JWT_CLIENT: &str = "555000000004.apps.supplier";
/// The `private_key_jwt` client with an inline JWKS holding the committed test key.
pub const PRIVATE_KEY_CLIENT: &str = "555000000005.apps.national";
/// A `private_key_jwt` client registered by these tests with a `jwks_uri`.
const JWKS_URI_CLIENT: &str = "555000000006.apps.local";
/// The public client.
const PUBLIC_CLIENT: &str = "555000000003.apps.local";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The committed test key's `kid`, read from the registration so the two cannot drift apart.
fn test_kid() -> String {
    client(PRIVATE_KEY_CLIENT).jwks.unwrap()["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// How a test signs its assertion.
#[derive(Debug, Clone, Copy)]
pub enum Signer {
    /// HMAC with the given algorithm and secret.
    Hmac(&'static str, &'static str),
    /// The committed test RSA key under this algorithm, with its registered `kid`.
    TestKey(&'static str),
    /// The committed test RSA key, with a `kid` the client never registered.
    TestKeyUnknownKid,
}

/// A compact JWS of `claims`, signed as `signer` says.
pub fn sign(signer: Signer, claims: &Value) -> String {
    let (alg, kid) = match signer {
        Signer::Hmac(alg, _) => (alg, None),
        Signer::TestKey(alg) => (alg, Some(test_kid())),
        Signer::TestKeyUnknownKid => ("RS256", Some("not-a-registered-kid".to_owned())),
    };
    let mut header = json!({ "alg": alg, "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let test_key;
    let key = match signer {
        Signer::Hmac(_, secret) => JwtKey::Hmac(secret.as_bytes()),
        Signer::TestKey(_) | Signer::TestKeyUnknownKid => {
            // The committed key, whose public half the client registered.
            test_key = RsaTestKey::committed();
            JwtKey::Rsa(&test_key)
        }
    };
    mint(&header, claims, key)
}

/// Claims CIS2 accepts: `iss` = `sub` = client, `aud` the token endpoint, five minutes to live.
pub fn valid_claims(mock: &RunningMock, client_id: &str) -> Value {
    let now = now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": format!("{}/access_token", mock.issuer()),
        "jti": format!("jti-{}", random_jti()),
        "iat": now,
        "exp": now + 300,
    })
}

/// The signer each assertion client uses in a successful exchange.
fn secret_signer(alg: &'static str) -> Signer {
    let secret = client(SECRET_JWT_CLIENT).client_secret.unwrap();
    Signer::Hmac(alg, Box::leak(secret.into_boxed_str()))
}

/// The built-in clients plus one `private_key_jwt` client whose keys are at `jwks_uri`.
fn clients_with_jwks_uri(jwks_uri: &str) -> ClientRegistry {
    let mut file: Value = serde_json::from_str(BUILTIN_CLIENTS_JSON).unwrap();
    file["clients"].as_array_mut().unwrap().push(json!({
        "client_id": JWKS_URI_CLIENT,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": jwks_uri,
        "redirect_uris": ["http://127.0.0.1/callback"],
        "pkce_required": true,
        "loopback_any_port": true,
    }));
    ClientRegistry::from_json(&file.to_string(), "test clients").unwrap()
}

/// Serves the test key's JWKS on an ephemeral loopback port, as a client's `jwks_uri` would.
async fn serve_client_jwks() -> String {
    let jwks = client(PRIVATE_KEY_CLIENT).jwks.unwrap();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/jwks.json")
}

/// How a client authenticates in the success table.
#[derive(Debug, Clone, Copy)]
enum Method {
    Basic,
    Post,
    None,
    Assertion(Signer),
    SecretAssertion(&'static str),
}

#[tokio::test]
async fn every_client_authentication_method_signs_in_with_openidconnect() {
    let jwks_uri = serve_client_jwks().await;
    let mock = MockCis2::new()
        .auto_login(NURSE.parse().unwrap())
        .clients(clients_with_jwks_uri(&jwks_uri))
        .start()
        .await
        .unwrap();
    let cases = [
        ("client_secret_basic", BASIC_CLIENT, Method::Basic),
        ("client_secret_post", POST_CLIENT, Method::Post),
        ("none", PUBLIC_CLIENT, Method::None),
        (
            "client_secret_jwt_hs256",
            SECRET_JWT_CLIENT,
            Method::SecretAssertion("HS256"),
        ),
        (
            "client_secret_jwt_hs512",
            SECRET_JWT_CLIENT,
            Method::SecretAssertion("HS512"),
        ),
        (
            "private_key_jwt_rs256",
            PRIVATE_KEY_CLIENT,
            Method::Assertion(Signer::TestKey("RS256")),
        ),
        (
            "private_key_jwt_rs512",
            PRIVATE_KEY_CLIENT,
            Method::Assertion(Signer::TestKey("RS512")),
        ),
        (
            "private_key_jwt_jwks_uri",
            JWKS_URI_CLIENT,
            Method::Assertion(Signer::TestKey("RS256")),
        ),
    ];
    let http = no_redirects();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(mock.issuer().to_owned()).unwrap(),
        &http,
    )
    .await
    .unwrap();
    let advertised: Vec<String> = metadata
        .token_endpoint_auth_methods_supported()
        .unwrap()
        .iter()
        .map(|method| {
            serde_json::to_value(method)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for method in [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
    ] {
        assert!(
            advertised.iter().any(|m| m == method),
            "discovery lists {method}"
        );
    }

    for (name, client_id, method) in cases {
        let redirect = if client_id == POST_CLIENT {
            "http://127.0.0.1:8765/callback"
        } else {
            LOOPBACK_REDIRECT
        };
        let secret = match method {
            Method::Basic | Method::Post => mock
                .clients()
                .get(client_id)
                .and_then(|c| c.client_secret.clone())
                .map(ClientSecret::new),
            _ => None,
        };
        let auth_type = match method {
            Method::Basic => AuthType::BasicAuth,
            _ => AuthType::RequestBody,
        };
        let oidc = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(client_id.to_owned()),
            secret,
        )
        .set_auth_type(auth_type)
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _state, nonce) = oidc
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let response = http.get(url).send().await.unwrap();
        let query = location_query(&response).unwrap_or_else(|| panic!("{name}: a redirect"));
        let code = param(&query, "code").unwrap_or_else(|| panic!("{name}: a code {query:?}"));

        let mut exchange = oidc
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .unwrap()
            .set_pkce_verifier(verifier);
        let signer = match method {
            Method::Assertion(signer) => Some(signer),
            Method::SecretAssertion(alg) => Some(secret_signer(alg)),
            _ => None,
        };
        if let Some(signer) = signer {
            let assertion = sign(signer, &valid_claims(&mock, client_id));
            exchange = exchange
                .add_extra_param("client_assertion_type", ASSERTION_TYPE)
                .add_extra_param("client_assertion", assertion);
        }
        let tokens = exchange
            .request_async(&http)
            .await
            .unwrap_or_else(|error| panic!("{name}: token exchange: {error:?}"));
        let claims = tokens
            .id_token()
            .unwrap()
            .claims(&oidc.id_token_verifier(), &nonce)
            .unwrap_or_else(|error| panic!("{name}: ID token: {error}"));
        assert_eq!(claims.subject().as_str(), NURSE, "{name}");
        assert_eq!(claims.audiences()[0].as_str(), client_id, "{name}");
    }
    mock.shutdown().await;
}

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Presents an assertion with a code that was never issued: authentication comes first, so a
/// valid assertion gets `invalid_grant` and a refused one `invalid_client`.
async fn present(mock: &RunningMock, client_id: &str, assertion: &str) -> (u16, Value) {
    let response = no_redirects()
        .post(format!("{}/access_token", mock.issuer()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "never-issued"),
            ("redirect_uri", LOOPBACK_REDIRECT),
            ("client_id", client_id),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

type Edit = fn(&RunningMock, &mut Value);

#[tokio::test]
async fn assertions_breaking_a_cis2_rule_are_invalid_client_jwt_is_not_valid() {
    let mock = MockCis2::new().start().await.unwrap();
    let private_key = Signer::TestKey("RS256");
    let cases: &[(&str, &str, Signer, Edit)] = &[
        (
            "lifetime_of_30_minutes",
            PRIVATE_KEY_CLIENT,
            private_key,
            |_, c| c["exp"] = json!(c["iat"].as_u64().unwrap() + 1800),
        ),
        (
            "lifetime_of_an_hour_without_iat",
            SECRET_JWT_CLIENT,
            Signer::Hmac("HS256", ""),
            |_, c| {
                c.as_object_mut().unwrap().remove("iat");
                c["exp"] = json!(now() + 3600);
            },
        ),
        (
            "expired_assertion",
            PRIVATE_KEY_CLIENT,
            private_key,
            |_, c| {
                c["iat"] = json!(now() - 600);
                c["exp"] = json!(now() - 60);
            },
        ),
        (
            "aud_is_the_issuer",
            PRIVATE_KEY_CLIENT,
            private_key,
            |mock, c| c["aud"] = json!(mock.issuer()),
        ),
        (
            "aud_not_the_exact_token_endpoint_string",
            PRIVATE_KEY_CLIENT,
            private_key,
            |mock, c| {
                // The same endpoint under another spelling of the host: not the published string.
                c["aud"] = json!(
                    format!("{}/access_token", mock.issuer()).replace("localhost", "127.0.0.1")
                )
            },
        ),
        (
            "aud_with_a_trailing_slash",
            SECRET_JWT_CLIENT,
            Signer::Hmac("HS256", ""),
            |mock, c| c["aud"] = json!(format!("{}/access_token/", mock.issuer())),
        ),
        (
            "iss_differs_from_sub",
            PRIVATE_KEY_CLIENT,
            private_key,
            |_, c| c["sub"] = json!("555057896106"),
        ),
        ("missing_jti", PRIVATE_KEY_CLIENT, private_key, |_, c| {
            c.as_object_mut().unwrap().remove("jti");
        }),
        (
            "unknown_kid",
            PRIVATE_KEY_CLIENT,
            Signer::TestKeyUnknownKid,
            |_, _| {},
        ),
        (
            "hs256_for_a_private_key_jwt_client",
            PRIVATE_KEY_CLIENT,
            Signer::Hmac("HS256", "guess"),
            |_, _| {},
        ),
        (
            "rs256_for_a_client_secret_jwt_client",
            SECRET_JWT_CLIENT,
            private_key,
            |_, _| {},
        ),
        (
            "hs256_with_the_wrong_secret",
            SECRET_JWT_CLIENT,
            Signer::Hmac("HS256", "wrong"),
            |_, _| {},
        ),
    ];
    let secret = client(SECRET_JWT_CLIENT).client_secret.unwrap();
    for (name, client_id, signer, edit) in cases {
        let mut claims = valid_claims(&mock, client_id);
        // A control: the same assertion without the edit authenticates.
        let control_signer = match signer {
            Signer::Hmac(alg, "") => secret_signer(alg),
            _ if *client_id == SECRET_JWT_CLIENT => secret_signer("HS256"),
            _ => Signer::TestKey("RS256"),
        };
        let (_, control) = present(&mock, client_id, &sign(control_signer, &claims)).await;
        assert_eq!(
            control["error"], "invalid_grant",
            "{name}: control authenticates"
        );

        claims["jti"] = json!(format!("{}-refused", claims["jti"].as_str().unwrap()));
        edit(&mock, &mut claims);
        let signer = match signer {
            Signer::Hmac(alg, "") => Signer::Hmac(alg, Box::leak(secret.clone().into_boxed_str())),
            other => *other,
        };
        let (status, body) = present(&mock, client_id, &sign(signer, &claims)).await;
        assert_eq!(
            (
                status,
                body["error"].as_str(),
                body["error_description"].as_str()
            ),
            (401, Some("invalid_client"), Some("JWT is not valid")),
            "{name}"
        );
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn a_reused_jti_is_refused() {
    let mock = MockCis2::new().start().await.unwrap();
    let assertion = sign(
        Signer::TestKey("RS256"),
        &valid_claims(&mock, PRIVATE_KEY_CLIENT),
    );
    let (_, first) = present(&mock, PRIVATE_KEY_CLIENT, &assertion).await;
    assert_eq!(
        first["error"], "invalid_grant",
        "the first use authenticates"
    );
    let (status, second) = present(&mock, PRIVATE_KEY_CLIENT, &assertion).await;
    assert_eq!(
        (
            status,
            second["error"].as_str(),
            second["error_description"].as_str()
        ),
        (401, Some("invalid_client"), Some("JWT is not valid"))
    );
    mock.shutdown().await;
}

#[tokio::test]
async fn an_assertion_with_a_client_secret_is_more_than_one_method() {
    let mock = MockCis2::new().start().await.unwrap();
    let assertion = sign(
        secret_signer("HS256"),
        &valid_claims(&mock, SECRET_JWT_CLIENT),
    );
    let response = no_redirects()
        .post(format!("{}/access_token", mock.issuer()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "never-issued"),
            ("client_id", SECRET_JWT_CLIENT),
            (
                "client_secret",
                &client(SECRET_JWT_CLIENT).client_secret.unwrap(),
            ),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    mock.shutdown().await;
}
