//! Pushed authorization requests (RFC 9126): the push needs client authentication and passes
//! the authorization endpoint's checks; the `request_uri` works once, for its client, alone.

use mock_cis2::{MockCis2, PushedRequests, RunningMock};
use serde_json::Value;

use crate::support::*;

async fn start(pushed: PushedRequests) -> RunningMock {
    MockCis2::new()
        .auto_login(NURSE.parse().expect("valid auto-login"))
        .pushed_requests(pushed)
        .start()
        .await
        .expect("the mock starts")
}

/// Pushes `params` for the basic client with its secret (HTTP Basic), or without any
/// authentication when `authenticated` is false.
async fn push(
    mock: &RunningMock,
    http: &reqwest::Client,
    params: &[(&str, &str)],
    authenticated: bool,
) -> (u16, Value) {
    let mut request = http.post(format!("{}/par", mock.issuer())).form(params);
    if authenticated {
        request = request.basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)));
    }
    let response = request.send().await.expect("the mock answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn valid(challenge: &str) -> Vec<(&'static str, String)> {
    valid_request(challenge)
}

#[tokio::test]
async fn a_pushed_request_is_used_once_by_reference() {
    let mock = start(PushedRequests::Offered).await;
    let http = no_redirects();
    let discovery = get_json(
        &http,
        format!("{}/.well-known/openid-configuration", mock.issuer()),
    )
    .await;
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        format!("{}/par", mock.issuer())
    );
    assert_eq!(
        discovery["require_pushed_authorization_requests"],
        Value::Null
    );

    let (_, challenge) = pkce_pair("pushed");
    let request = valid(&challenge);
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, answer) = push(&mock, &http, &params, true).await;
    assert_eq!(status, 201, "{answer}");
    let request_uri = answer["request_uri"].as_str().expect("request_uri");
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(answer["expires_in"]
        .as_u64()
        .is_some_and(|s| s > 0 && s <= 600));

    let by_reference = [("client_id", BASIC_CLIENT), ("request_uri", request_uri)];
    let response = authorize(&mock, &http, &by_reference).await;
    assert_eq!(response.status(), 302);
    let query = location_query(&response).expect("a redirect");
    assert!(param(&query, "code").is_some(), "{query:?}");
    assert_eq!(param(&query, "state"), Some("state-123"));

    let again = authorize(&mock, &http, &by_reference).await;
    assert_eq!(again.status(), 400, "a request_uri works once");
    assert!(again.text().await.unwrap().contains("invalid_request_uri"));
}

#[tokio::test]
async fn pushes_and_references_that_are_refused() {
    let mock = start(PushedRequests::Offered).await;
    let http = no_redirects();
    let (_, challenge) = pkce_pair("pushed");
    let request = valid(&challenge);
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let (status, answer) = push(&mock, &http, &params, false).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("invalid_client")),
        "unauthenticated push"
    );

    let mut plain = params.clone();
    plain.retain(|(name, _)| *name != "code_challenge_method");
    plain.push(("code_challenge_method", "plain"));
    let (status, answer) = push(&mock, &http, &plain, true).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_request")),
        "plain PKCE pushed"
    );

    let mut nested = params.clone();
    nested.push(("request_uri", "urn:x"));
    let (status, answer) = push(&mock, &http, &nested, true).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_request")),
        "request_uri pushed"
    );

    let (_, answer) = push(&mock, &http, &params, true).await;
    let request_uri = answer["request_uri"].as_str().expect("request_uri");
    let beside = authorize(
        &mock,
        &http,
        &[
            ("client_id", BASIC_CLIENT),
            ("request_uri", request_uri),
            ("state", "other"),
        ],
    )
    .await;
    assert_eq!(beside.status(), 400, "parameters beside a request_uri");
    let other_client = authorize(
        &mock,
        &http,
        &[("client_id", POST_CLIENT), ("request_uri", request_uri)],
    )
    .await;
    assert_eq!(other_client.status(), 400, "another client's request_uri");
    let unknown = authorize(
        &mock,
        &http,
        &[
            ("client_id", BASIC_CLIENT),
            ("request_uri", "urn:ietf:params:oauth:request_uri:nope"),
        ],
    )
    .await;
    assert_eq!(unknown.status(), 400, "an unknown request_uri");
}

#[tokio::test]
async fn required_refuses_plain_requests_and_off_is_not_advertised() {
    let http = no_redirects();
    let (_, challenge) = pkce_pair("pushed");
    let request = valid(&challenge);
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let required = start(PushedRequests::Required).await;
    let discovery = get_json(
        &http,
        format!("{}/.well-known/openid-configuration", required.issuer()),
    )
    .await;
    assert_eq!(discovery["require_pushed_authorization_requests"], true);
    let plain = authorize(&required, &http, &params).await;
    assert_eq!(
        plain.status(),
        400,
        "a plain request where pushing is required"
    );

    let off = start(PushedRequests::Off).await;
    let discovery = get_json(
        &http,
        format!("{}/.well-known/openid-configuration", off.issuer()),
    )
    .await;
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        Value::Null
    );
    let (status, _) = push(&off, &http, &params, true).await;
    assert_eq!(status, 404);
    assert_eq!(authorize(&off, &http, &params).await.status(), 302);
}
