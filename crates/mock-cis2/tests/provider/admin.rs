//! The tester's tools: the request log and issued tokens' claims on the library API (never a
//! code, token or secret), and the loopback-only admin page with its form-token-guarded actions:
//! end a session, rotate and retire keys, arm and clear faults.

use mock_cis2::{Fault, RunningMock, TokenKind};
use serde_json::Value;

use crate::support::*;

/// What one auto-login flow handed out, to prove none of it is recorded.
struct Flow {
    code: String,
    verifier: String,
    access_token: String,
    id_token: String,
}

/// Discovery, JWKS, then authorize (auto-login), token and UserInfo for the basic client.
async fn full_flow(mock: &RunningMock, http: &reqwest::Client) -> Flow {
    let discovery = http
        .get(format!(
            "{}/.well-known/openid-configuration",
            mock.issuer()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), 200);
    let jwks = http
        .get(format!("{}/connect/jwk_uri", mock.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let (code, verifier) = code_for_basic_client(mock, http).await;
    let tokens = exchange_code(mock, http, &code, &verifier, &secret(BASIC_CLIENT)).await;
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(mock, http, &access_token).await.status(), 200);
    Flow {
        code,
        verifier,
        access_token,
        id_token,
    }
}

pub(crate) async fn admin_page(mock: &RunningMock, http: &reqwest::Client) -> String {
    let response = http.get(mock.admin_url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The per-process form token, read from the page as a browser's form would carry it.
pub(crate) fn form_token(html: &str) -> String {
    let marker = "name=\"form_token\" value=\"";
    let start = html.find(marker).expect("a form token in the page") + marker.len();
    let end = start + html[start..].find('"').expect("the attribute ends");
    html[start..end].to_owned()
}

pub(crate) async fn post_admin(
    mock: &RunningMock,
    http: &reqwest::Client,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    http.post(format!("{}/admin/{action}", mock.issuer()))
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Posts with the page's form token and expects the redirect back with this confirmation.
pub(crate) async fn post_with_token(
    mock: &RunningMock,
    http: &reqwest::Client,
    action: &str,
    fields: &[(&str, &str)],
    done: &str,
) {
    let token = form_token(&admin_page(mock, http).await);
    let mut form = vec![("form_token", token.as_str())];
    form.extend_from_slice(fields);
    let response = post_admin(mock, http, action, &form).await;
    assert_eq!(response.status(), 303, "{action}");
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    assert!(
        location.ends_with(&format!("/admin?done={done}")),
        "{location}"
    );
}

fn kids(mock: &RunningMock) -> Vec<String> {
    mock.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn request_log_records_a_flow_in_order_without_its_secrets() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let flow = full_flow(&mock, &http).await;

    let log = mock.request_log();
    let seen: Vec<(&str, &str, u16)> = log
        .iter()
        .map(|request| {
            (
                request.method.as_str(),
                request.endpoint.as_str(),
                request.status,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/.well-known/openid-configuration", 200),
            ("GET", "/connect/jwk_uri", 200),
            ("GET", "/authorize", 302),
            ("POST", "/access_token", 200),
            ("GET", "/userinfo", 200),
        ]
    );
    assert!(log
        .windows(2)
        .all(|pair| pair[0].sequence < pair[1].sequence));
    assert!(log
        .windows(2)
        .all(|pair| pair[0].received_at_ms <= pair[1].received_at_ms));
    // Signing two RSA tokens takes far longer than a microsecond.
    assert!(log[3].duration_micros > 0);

    let printed = format!("{log:?}");
    for secret_value in [
        flow.code.as_str(),
        flow.verifier.as_str(),
        flow.access_token.as_str(),
        flow.id_token.as_str(),
        "state-123",
        "nonce-456",
        &secret(BASIC_CLIENT),
    ] {
        assert!(
            !printed.contains(secret_value),
            "the log holds {secret_value}"
        );
    }

    // Looking at the admin page does not add to the log.
    admin_page(&mock, &http).await;
    assert_eq!(mock.request_log().len(), 5);
}

#[tokio::test]
async fn faulted_answers_are_logged_with_the_status_the_client_saw() {
    let mock = start_auto_login(NURSE).await;
    mock.arm_fault("http_503@userinfo".parse::<Fault>().unwrap(), Some(1));
    assert_eq!(userinfo(&mock, &no_redirects(), "x").await.status(), 503);
    let log = mock.request_log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].endpoint.as_str(), log[0].status),
        ("/userinfo", 503)
    );
}

#[tokio::test]
async fn issued_tokens_hold_claims_and_never_the_tokens() {
    let mock = start_auto_login(NURSE).await;
    let flow = full_flow(&mock, &no_redirects()).await;

    let issued = mock.issued_tokens();
    assert_eq!(issued.len(), 2);
    let id = issued
        .iter()
        .find(|token| token.kind == TokenKind::IdToken)
        .expect("the ID token's claims");
    assert_eq!(id.client_id, BASIC_CLIENT);
    assert_eq!(id.claims, jwt_payload(&flow.id_token));
    assert_eq!(id.claims["sub"], NURSE);
    assert_eq!(id.claims["nonce"], "nonce-456");
    assert_eq!(id.claims["sid"], mock.sessions()[0].sid.as_str());
    let access = issued
        .iter()
        .find(|token| token.kind == TokenKind::AccessToken)
        .expect("the access token's claims");
    assert_eq!(access.claims["client_id"], BASIC_CLIENT);
    assert_eq!(access.claims, jwt_payload(&flow.access_token));

    let printed = format!("{issued:?}");
    assert!(!printed.contains(&flow.access_token));
    assert!(!printed.contains(&flow.id_token));
}

#[tokio::test]
async fn admin_page_shows_sessions_keys_faults_tokens_and_requests() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let flow = full_flow(&mock, &http).await;
    mock.arm_fault("wrong_issuer".parse().unwrap(), Some(3));

    let html = admin_page(&mock, &http).await;
    let sid = mock.sessions()[0].sid.clone();
    for expected in [
        "<caption class=\"nhsuk-table__caption\">Live SSO sessions",
        sid.as_str(),
        NURSE,
        "Smartcard",
        "End session",
        "Rotate keys",
        "Retire old keys",
        "<code>wrong_issuer</code></td><td>3</td>",
        "Clear faults",
        "Issued tokens (claims only, newest first)",
        "nonce-456",
        "<code>/access_token</code></td><td>200</td>",
        "<code>/authorize</code></td><td>302</td>",
    ] {
        assert!(html.contains(expected), "the page lacks {expected}");
    }
    for kid in kids(&mock) {
        assert!(html.contains(&format!("<code>{kid}</code>")), "kid {kid}");
    }
    assert!(!html.contains(&flow.access_token));
    assert!(!html.contains(&flow.id_token));
    assert!(!html.contains(&flow.code));
    assert!(!html.contains("<script"), "no JavaScript");
}

#[tokio::test]
async fn ending_a_session_on_the_page_ends_it() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    full_flow(&mock, &http).await;
    let sid = mock.sessions()[0].sid.clone();

    post_with_token(
        &mock,
        &http,
        "sessions/end",
        &[("sid", &sid)],
        "session-ended",
    )
    .await;
    assert!(mock.sessions().iter().all(|session| session.sid != sid));
    let html = http
        .get(format!("{}?done=session-ended", mock.admin_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("The session was ended."));

    post_with_token(&mock, &http, "sessions/end", &[("sid", &sid)], "no-session").await;
}

#[tokio::test]
async fn rotating_and_retiring_keys_on_the_page_change_the_jwks() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let before = kids(&mock);
    assert_eq!(before.len(), 2);

    post_with_token(&mock, &http, "keys/rotate", &[], "keys-rotated").await;
    let rotated = kids(&mock);
    assert_eq!(rotated.len(), 4);
    assert!(
        before.iter().all(|kid| rotated.contains(kid)),
        "old keys stay"
    );
    assert!(admin_page(&mock, &http).await.contains("<td>old</td>"));

    post_with_token(&mock, &http, "keys/retire", &[], "keys-retired").await;
    let retired = kids(&mock);
    assert_eq!(retired.len(), 2);
    assert!(
        before.iter().all(|kid| !retired.contains(kid)),
        "old keys go"
    );
    assert!(retired.iter().all(|kid| rotated.contains(kid)));
}

#[tokio::test]
async fn faults_are_armed_and_cleared_with_the_page_forms() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();

    post_with_token(
        &mock,
        &http,
        "faults/arm",
        &[("name", "http_503@token"), ("count", "2")],
        "fault-armed",
    )
    .await;
    let armed = mock.armed_faults();
    assert_eq!(armed.len(), 1);
    assert_eq!(armed[0].to_string(), "http_503@token:2");
    post_with_token(
        &mock,
        &http,
        "faults/arm",
        &[("name", "wrong_issuer"), ("count", "")],
        "fault-armed",
    )
    .await;
    assert_eq!(mock.armed_faults().len(), 2);

    let token = form_token(&admin_page(&mock, &http).await);
    for (name, count, message) in [
        ("no_such_fault", "", "Enter a fault name from the list"),
        ("wrong_issuer", "0", "The count must be a whole number"),
        ("wrong_issuer", "two", "The count must be a whole number"),
    ] {
        let response = post_admin(
            &mock,
            &http,
            "faults/arm",
            &[("form_token", &token), ("name", name), ("count", count)],
        )
        .await;
        assert_eq!(response.status(), 422, "{name} {count}");
        assert!(response.text().await.unwrap().contains(message));
    }
    assert_eq!(mock.armed_faults().len(), 2);

    post_with_token(&mock, &http, "faults/clear", &[], "faults-cleared").await;
    assert!(mock.armed_faults().is_empty());
    assert!(admin_page(&mock, &http)
        .await
        .contains("No faults are armed."));
}

#[tokio::test]
async fn admin_posts_without_the_form_token_are_refused() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    full_flow(&mock, &http).await;
    let sid = mock.sessions()[0].sid.clone();
    let kids_before = kids(&mock);
    mock.arm_fault("wrong_issuer".parse().unwrap(), None);

    for token in [None, Some(""), Some("guessed-token")] {
        for (action, extra) in [
            ("sessions/end", ("sid", sid.as_str())),
            ("keys/rotate", ("x", "")),
            ("keys/retire", ("x", "")),
            ("faults/arm", ("name", "wrong_audience")),
            ("faults/clear", ("x", "")),
        ] {
            let mut form = vec![extra];
            if let Some(token) = token {
                form.push(("form_token", token));
            }
            let response = post_admin(&mock, &http, action, &form).await;
            assert_eq!(response.status(), 403, "{action} with {token:?}");
        }
    }
    assert_eq!(mock.sessions()[0].sid, sid);
    assert_eq!(kids(&mock), kids_before);
    assert_eq!(mock.armed_faults()[0].to_string(), "wrong_issuer");
    assert_eq!(mock.armed_faults().len(), 1);
}

#[tokio::test]
async fn sign_in_pages_are_logged_without_the_pin_or_the_pending_sign_in() {
    use crate::browser::{start_with_pages, user_field, Browser};
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = browser.authorize(&mock, &[]).await;
    let pending = first.pending();
    let pin = user_field(NURSE, "smartcard_pin");
    let outcome = browser
        .sign_in(&mock, &first, NURSE, "smartcard", &[("pin", &pin)])
        .await;
    let code = outcome
        .redirect()
        .iter()
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.clone())
        .expect("a code");

    let log = mock.request_log();
    assert_eq!(log[0].endpoint, "/authorize");
    assert!(log.len() > 2, "the pages' requests are logged");
    assert!(log[1..]
        .iter()
        .all(|request| request.endpoint == "/authorize/sign-in"));
    assert_eq!(log.last().map(|request| request.status), Some(302));
    // The PIN is four digits, which a timestamp may contain by chance: so the text fields are
    // checked for it, and the whole printed log for the long random values.
    assert!(log
        .iter()
        .all(|request| !request.endpoint.contains(&pin) && !request.method.contains(&pin)));
    let printed = format!("{log:?}");
    for secret_value in [pending.as_str(), code.as_str()] {
        assert!(
            !printed.contains(secret_value),
            "the log holds {secret_value}"
        );
    }
}
