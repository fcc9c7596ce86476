//! Auto-login changed while the mock runs, on the library API and the loopback-only admin
//! endpoint: each later authorization request signs the named user in without a page.

use mock_cis2::MockCis2;
use serde_json::{json, Value};

use crate::support::*;

/// An authorization request's answer: a redirect with a code (signed in without a page), a
/// redirect with an error, or the sign-in page.
async fn authorize_once(mock: &mock_cis2::RunningMock, acr_values: &str) -> (u16, Option<String>) {
    let (_, challenge) = pkce_pair("auto-login");
    let mut request = valid_request(&challenge);
    request.push(("acr_values", acr_values.to_owned()));
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = authorize(mock, &no_redirects(), &params).await;
    let status = response.status().as_u16();
    let query = location_query(&response).unwrap_or_default();
    let outcome = param(&query, "code")
        .map(|_| "code".to_owned())
        .or_else(|| param(&query, "error").map(str::to_owned));
    (status, outcome)
}

async fn put(mock: &mock_cis2::RunningMock, content_type: &str, body: &str) -> (u16, Value) {
    let response = no_redirects()
        .put(mock.admin_auto_login_url())
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("the mock answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn auto_login_is_set_and_cleared_while_the_mock_runs() {
    let mock = MockCis2::new().start().await.expect("the mock starts");
    assert_eq!(
        authorize_once(&mock, "AAL3_ANY").await,
        (200, None),
        "the sign-in page"
    );

    let (status, body) = put(
        &mock,
        "application/json",
        r#"{"auto_login": "555057930104:authenticator_app"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "auto_login": "555057930104:authenticator_app" })
    );
    let shown = get_json(&no_redirects(), &mock.admin_auto_login_url()).await;
    assert_eq!(shown["auto_login"], "555057930104:authenticator_app");
    assert_eq!(
        authorize_once(&mock, "AAL2_OR_AAL3_ANY").await,
        (302, Some("code".to_owned()))
    );
    // An AAL2 authenticator at AAL3 is refused, as CIS2 would.
    assert_eq!(
        authorize_once(&mock, "AAL3_ANY").await,
        (302, Some("access_denied".to_owned()))
    );

    // The library's handle says what it replaced.
    let previous = mock
        .set_auto_login(Some("555057896106:smartcard".parse().unwrap()))
        .expect("a real user and authenticator");
    assert_eq!(
        previous.map(|auto| auto.to_string()).as_deref(),
        Some("555057930104:authenticator_app")
    );
    assert_eq!(
        authorize_once(&mock, "AAL3_ANY").await,
        (302, Some("code".to_owned()))
    );

    let cleared = no_redirects()
        .delete(mock.admin_auto_login_url())
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(cleared.status(), 200);
    assert_eq!(mock.auto_login(), None);
    assert_eq!(authorize_once(&mock, "AAL3_ANY").await, (200, None));
}

#[tokio::test]
async fn an_auto_login_that_cannot_sign_in_or_is_not_json_is_refused() {
    let mock = start_auto_login(NURSE).await;
    for (content_type, body, status, error) in [
        (
            "application/json",
            r#"{"auto_login": "999999999999"}"#,
            400,
            "invalid_auto_login",
        ),
        // The nurse has no authenticator app.
        (
            "application/json",
            r#"{"auto_login": "555057896106:authenticator_app"}"#,
            400,
            "invalid_auto_login",
        ),
        (
            "application/json",
            r#"{"auto_login": "555057896106:no_such_thing"}"#,
            400,
            "invalid_auto_login",
        ),
        (
            "application/json",
            r#"{"auto_login": "555057896106", "extra": 1}"#,
            400,
            "invalid_request",
        ),
        ("application/json", "{ not json", 400, "invalid_request"),
        // What a page on another site can make a browser send without a preflight.
        (
            "text/plain",
            r#"{"auto_login": null}"#,
            415,
            "invalid_request",
        ),
        (
            "application/x-www-form-urlencoded",
            "auto_login=",
            415,
            "invalid_request",
        ),
    ] {
        let (answered, answer) = put(&mock, content_type, body).await;
        assert_eq!(
            (answered, answer["error"].as_str()),
            (status, Some(error)),
            "{body}: {answer}"
        );
    }
    assert_eq!(
        mock.auto_login().map(|auto| auto.to_string()).as_deref(),
        Some(NURSE),
        "a refused change changes nothing"
    );
    assert!(mock
        .set_auto_login(Some("999999999999".parse().unwrap()))
        .is_err());
}
