//! One table of requests the provider must refuse, each with the exact OAuth error it answers
//! (RFC 6749 §4.1.2.1 and §5.2, RFC 7636 §4.4.1, RFC 6750 §3.1).

use mock_cis2::RunningMock;

use crate::support::*;

/// What a case does, on top of an otherwise valid flow for the basic client.
#[derive(Debug)]
enum Scenario {
    /// Authorize with these parameters replaced (an empty value removes the parameter).
    Authorize(&'static [(&'static str, &'static str)]),
    /// Exchange a valid code with a verifier that does not match its challenge.
    WrongVerifier,
    /// Exchange a valid code with the wrong client secret.
    WrongSecret,
    /// Exchange a code twice; the first access token must stop working.
    ReplayedCode,
    /// Refresh with a rotated refresh token; the whole family must stop working.
    ReusedRefreshToken,
    /// Call UserInfo with a token the provider never issued.
    UnknownBearer,
}

/// How the refusal arrives.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// A redirect to the client with `error=` (and the request's `state` and `iss`).
    Redirect(&'static str),
    /// An error page: no redirect at all, since the redirect URI is not trusted.
    Page(&'static str),
    /// A JSON error body with this status.
    Json(u16, &'static str),
}

const CASES: &[(&str, Scenario, Answer)] = &[
    (
        "missing_pkce_for_a_pkce_client",
        Scenario::Authorize(&[("code_challenge", ""), ("code_challenge_method", "")]),
        Answer::Redirect("invalid_request"),
    ),
    (
        "plain_pkce_challenge",
        Scenario::Authorize(&[("code_challenge_method", "plain")]),
        Answer::Redirect("invalid_request"),
    ),
    (
        "challenge_without_method_defaults_to_plain",
        Scenario::Authorize(&[("code_challenge_method", "")]),
        Answer::Redirect("invalid_request"),
    ),
    (
        "form_post_response_mode",
        Scenario::Authorize(&[("response_mode", "form_post")]),
        Answer::Redirect("invalid_request"),
    ),
    (
        "fragment_response_mode",
        Scenario::Authorize(&[("response_mode", "fragment")]),
        Answer::Redirect("invalid_request"),
    ),
    (
        "implicit_response_type_token",
        Scenario::Authorize(&[("response_type", "token")]),
        Answer::Redirect("unsupported_response_type"),
    ),
    (
        "hybrid_response_type",
        Scenario::Authorize(&[("response_type", "code id_token")]),
        Answer::Redirect("unsupported_response_type"),
    ),
    (
        "missing_openid_scope",
        Scenario::Authorize(&[("scope", "profile")]),
        Answer::Redirect("invalid_scope"),
    ),
    (
        "unknown_scope",
        Scenario::Authorize(&[("scope", "openid offline_access")]),
        Answer::Redirect("invalid_scope"),
    ),
    (
        "acr_above_the_authenticator",
        Scenario::Authorize(&[("acr_values", "AAL3_FIDO2")]),
        Answer::Redirect("access_denied"),
    ),
    (
        "unregistered_redirect_uri",
        Scenario::Authorize(&[("redirect_uri", "http://127.0.0.1:49152/elsewhere")]),
        Answer::Page("invalid_request"),
    ),
    (
        "non_loopback_redirect_uri",
        Scenario::Authorize(&[("redirect_uri", "https://attacker.example/callback")]),
        Answer::Page("invalid_request"),
    ),
    (
        "unknown_client",
        Scenario::Authorize(&[("client_id", "999999999999.apps.local")]),
        Answer::Page("invalid_client"),
    ),
    (
        "wrong_pkce_verifier",
        Scenario::WrongVerifier,
        Answer::Json(400, "invalid_grant"),
    ),
    (
        "wrong_client_secret",
        Scenario::WrongSecret,
        Answer::Json(401, "invalid_client"),
    ),
    (
        "replayed_code",
        Scenario::ReplayedCode,
        Answer::Json(400, "invalid_grant"),
    ),
    (
        "reused_refresh_token",
        Scenario::ReusedRefreshToken,
        Answer::Json(400, "invalid_grant"),
    ),
    (
        "unknown_bearer_at_userinfo",
        Scenario::UnknownBearer,
        Answer::Json(401, "invalid_token"),
    ),
];

#[tokio::test]
async fn refuses_each_unsafe_request_with_the_exact_error() {
    let mock = start_auto_login(NURSE).await;
    for (name, scenario, expected) in CASES {
        let answer = check(&mock, scenario).await;
        assert_eq!(&answer, expected, "{name}");
    }
    mock.shutdown().await;
}

async fn check(mock: &RunningMock, scenario: &Scenario) -> Answer {
    let http = no_redirects();
    match scenario {
        Scenario::Authorize(overrides) => authorize_with(mock, &http, overrides).await,
        Scenario::WrongVerifier => {
            let (code, _) = code_for_basic_client(mock, &http).await;
            let (other_verifier, _) = pkce_pair("another-verifier");
            let response =
                exchange_code(mock, &http, &code, &other_verifier, &secret(BASIC_CLIENT)).await;
            json_error(response).await
        }
        Scenario::WrongSecret => {
            let (code, verifier) = code_for_basic_client(mock, &http).await;
            let response = exchange_code(mock, &http, &code, &verifier, "not-the-secret").await;
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|value| value.to_str().unwrap().to_owned());
            assert!(
                challenge.is_some_and(|value| value.starts_with("Basic")),
                "a Basic client gets a Basic challenge"
            );
            json_error(response).await
        }
        Scenario::ReplayedCode => {
            let (code, verifier) = code_for_basic_client(mock, &http).await;
            let first = exchange_code(mock, &http, &code, &verifier, &secret(BASIC_CLIENT)).await;
            assert_eq!(first.status(), 200);
            let tokens: serde_json::Value = first.json().await.unwrap();
            let access_token = tokens["access_token"].as_str().unwrap().to_owned();
            assert_eq!(userinfo(mock, &http, &access_token).await.status(), 200);

            let replay = exchange_code(mock, &http, &code, &verifier, &secret(BASIC_CLIENT)).await;
            let answer = json_error(replay).await;
            assert_eq!(
                userinfo(mock, &http, &access_token).await.status(),
                401,
                "a replayed code revokes the tokens issued from it"
            );
            answer
        }
        Scenario::ReusedRefreshToken => {
            let (code, verifier) = code_for_basic_client(mock, &http).await;
            let tokens: serde_json::Value =
                exchange_code(mock, &http, &code, &verifier, &secret(BASIC_CLIENT))
                    .await
                    .json()
                    .await
                    .unwrap();
            let first = tokens["refresh_token"].as_str().unwrap().to_owned();
            let rotated: serde_json::Value =
                refresh(mock, &http, &first).await.json().await.unwrap();
            let second = rotated["refresh_token"].as_str().unwrap().to_owned();
            let rotated_access = rotated["access_token"].as_str().unwrap().to_owned();

            let answer = json_error(refresh(mock, &http, &first).await).await;
            assert_eq!(
                json_error(refresh(mock, &http, &second).await).await,
                Answer::Json(400, "invalid_grant"),
                "reuse revokes the whole family, including the newest token"
            );
            assert_eq!(userinfo(mock, &http, &rotated_access).await.status(), 401);
            answer
        }
        Scenario::UnknownBearer => {
            let response = userinfo(mock, &http, "not-a-token-this-mock-issued").await;
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                challenge.starts_with("Bearer error=\"invalid_token\""),
                "{challenge}"
            );
            json_error(response).await
        }
    }
}

async fn authorize_with(
    mock: &RunningMock,
    http: &reqwest::Client,
    overrides: &[(&str, &str)],
) -> Answer {
    let (_, challenge) = pkce_pair("verifier");
    let mut request: Vec<(&str, String)> = valid_request(&challenge);
    for (name, value) in overrides {
        request.retain(|(key, _)| key != name);
        if !value.is_empty() {
            request.push((name, (*value).to_owned()));
        }
    }
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = authorize(mock, http, &params).await;
    match location_query(&response) {
        Some(query) => {
            assert_eq!(response.status(), 302);
            assert_eq!(param(&query, "state"), Some("state-123"), "state is echoed");
            assert_eq!(param(&query, "iss"), Some(mock.issuer()), "RFC 9207 iss");
            assert!(param(&query, "error_description").is_some());
            assert!(param(&query, "code").is_none());
            Answer::Redirect(leak(param(&query, "error").expect("an error")))
        }
        None => {
            assert_eq!(response.status(), 400);
            let html = response.text().await.unwrap();
            let error = html
                .split("<code id=\"error\">")
                .nth(1)
                .and_then(|rest| rest.split('<').next())
                .expect("the error page names the error");
            Answer::Page(leak(error))
        }
    }
}

async fn refresh(mock: &RunningMock, http: &reqwest::Client, token: &str) -> reqwest::Response {
    http.post(format!("{}/access_token", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap()
}

async fn json_error(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    assert!(body["error_description"].is_string());
    Answer::Json(status, leak(body["error"].as_str().expect("an error code")))
}

/// The table compares `&'static str`s; a test process may leak a few short strings.
fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

/// A provider that takes fewer methods at its token endpoint publishes them alone and answers a
/// client that uses another `invalid_client`, as a real one would after the user signed in.
#[tokio::test]
async fn a_narrowed_token_endpoint_lists_its_methods_and_refuses_others() {
    use mock_cis2::{ClientAuthMethod, MockCis2};
    use serde_json::Value;
    let mock = MockCis2::new()
        .auto_login(NURSE.parse().unwrap())
        .token_endpoint_auth_methods(&[ClientAuthMethod::PrivateKeyJwt])
        .start()
        .await
        .unwrap();
    let http = no_redirects();
    let discovery = get_json(
        &http,
        &format!("{}/.well-known/openid-configuration", mock.issuer()),
    )
    .await;
    assert_eq!(
        discovery["token_endpoint_auth_methods_supported"],
        serde_json::json!(["private_key_jwt"])
    );
    let (code, verifier) = code_for_basic_client(&mock, &http).await;
    let refused = exchange_code(&mock, &http, &code, &verifier, &secret(BASIC_CLIENT)).await;
    assert_eq!(refused.status(), 401);
    let answer: Value = refused.json().await.unwrap();
    assert_eq!(answer["error"], "invalid_client");
    mock.shutdown().await;
}
