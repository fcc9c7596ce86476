//! Shared test plumbing: starting a mock, an HTTP client that does not follow redirects, PKCE,
//! and reading the authorization response from a `Location` header.

/// GETs `url` and reads the answer as JSON, failing the test if either step fails.
pub use careid_test_fixtures::http::get_json;
pub use careid_test_fixtures::http::{client_builder as http, no_redirects};
/// The decoded payload of a JWT; its signature is checked elsewhere.
pub use careid_test_fixtures::jwt::claims as jwt_payload;
use mock_cis2::{ClientRegistry, MockCis2, RegisteredClient, RunningMock};
use serde_json::Value;

/// The built-in `client_secret_basic` client, PKCE required, any loopback port.
pub const BASIC_CLIENT: &str = "555000000001.apps.local";
/// The built-in `client_secret_post` client: exact redirect URIs, no refresh tokens.
pub const POST_CLIENT: &str = "555000000002.apps.supplier";
/// The nurse: one role, smartcard.
pub const NURSE: &str = "555057896106";
/// A redirect URI the basic client accepts through RFC 8252 port-agnostic matching.
pub const LOOPBACK_REDIRECT: &str = "http://127.0.0.1:49152/callback";

pub fn client(client_id: &str) -> RegisteredClient {
    ClientRegistry::builtin()
        .get(client_id)
        .expect("a built-in client")
        .clone()
}

pub fn secret(client_id: &str) -> String {
    client(client_id)
        .client_secret
        .expect("a confidential client")
}

pub async fn start_auto_login(auto_login: &str) -> RunningMock {
    MockCis2::new()
        .auto_login(auto_login.parse().expect("valid auto-login"))
        .start()
        .await
        .expect("the mock starts")
}

/// A PKCE pair (RFC 7636 §4.1, §4.2): verifier and S256 challenge.
pub fn pkce_pair(seed: &str) -> (String, String) {
    let verifier = format!("{seed:-<48}");
    let challenge = careid_test_fixtures::s256_challenge(&verifier);
    (verifier, challenge)
}

/// The query parameters of a redirect's `Location`.
pub fn location_query(response: &reqwest::Response) -> Option<Vec<(String, String)>> {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let url = url::Url::parse(location).ok()?;
    Some(url.query_pairs().into_owned().collect())
}

pub fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Authorizes with `params` on top of a valid request for `client_id`, and returns the
/// response without following it.
pub async fn authorize(
    mock: &RunningMock,
    http: &reqwest::Client,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let url = url::Url::parse_with_params(&format!("{}/authorize", mock.issuer()), params)
        .expect("an authorize URL");
    http.get(url).send().await.expect("the mock answers")
}

/// A valid authorization request for the basic client, with `state` and a PKCE challenge.
pub fn valid_request(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", BASIC_CLIENT.into()),
        ("redirect_uri", LOOPBACK_REDIRECT.into()),
        ("scope", "openid profile nationalrbacaccess".into()),
        ("state", "state-123".into()),
        ("nonce", "nonce-456".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// Runs a valid authorization for the basic client and returns the code and PKCE verifier.
pub async fn code_for_basic_client(mock: &RunningMock, http: &reqwest::Client) -> (String, String) {
    let (verifier, challenge) = pkce_pair("verifier");
    let request = valid_request(&challenge);
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = authorize(mock, http, &params).await;
    assert_eq!(response.status(), 302);
    let query = location_query(&response).expect("a redirect");
    let code = param(&query, "code").expect("a code").to_owned();
    (code, verifier)
}

/// Exchanges a code at the token endpoint with HTTP Basic client authentication.
pub async fn exchange_code(
    mock: &RunningMock,
    http: &reqwest::Client,
    code: &str,
    verifier: &str,
    secret: &str,
) -> reqwest::Response {
    http.post(format!("{}/access_token", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", LOOPBACK_REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("the mock answers")
}

pub async fn userinfo(
    mock: &RunningMock,
    http: &reqwest::Client,
    token: &str,
) -> reqwest::Response {
    http.get(format!("{}/userinfo", mock.issuer()))
        .bearer_auth(token)
        .send()
        .await
        .expect("the mock answers")
}

/// One whole login for the basic client: authorize (auto-login), token, UserInfo. Says which
/// step answered wrongly, if one did.
pub async fn complete_login(
    mock: &RunningMock,
    http: &reqwest::Client,
    secret: &str,
) -> Result<(), String> {
    let (code, verifier) = code_for_basic_client(mock, http).await;
    let tokens = exchange_code(mock, http, &code, &verifier, secret).await;
    if tokens.status() != 200 {
        return Err(format!("token endpoint answered {}", tokens.status()));
    }
    let tokens: Value = tokens.json().await.map_err(|e| e.to_string())?;
    let access_token = tokens["access_token"].as_str().ok_or("no access token")?;
    let claims = userinfo(mock, http, access_token).await;
    if claims.status() != 200 {
        return Err(format!("UserInfo answered {}", claims.status()));
    }
    Ok(())
}
