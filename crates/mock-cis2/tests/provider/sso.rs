//! The SSO session: reuse without pages (same `sid` and `auth_time`), `prompt=login`,
//! `max_age` and `prompt=none` (OpenID Connect Core 1.0 §3.1.2.1, §3.1.2.6), `login_hint`,
//! the session cookie's attributes, and ending a session through the library API.

use crate::browser::*;
use crate::support::*;

/// Signs the nurse in with her smartcard through the pages; returns the ID token claims.
async fn nurse_signs_in(
    mock: &mock_cis2::RunningMock,
    browser: &Browser,
    params: &[(&str, &str)],
) -> serde_json::Value {
    let first = browser.authorize(mock, params).await;
    let pin = user_field(NURSE, "smartcard_pin");
    let outcome = browser
        .sign_in(mock, &first, NURSE, "smartcard", &[("pin", &pin)])
        .await;
    verified_claims(mock, outcome.redirect()).await
}

#[tokio::test]
async fn second_authorize_reuses_the_session_without_pages() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = nurse_signs_in(&mock, &browser, &[]).await;
    let second = browser.authorize(&mock, &[("max_age", "3600")]).await;
    let again = verified_claims(&mock, second.redirect()).await;
    assert_eq!(again["sid"], first["sid"]);
    assert_eq!(again["auth_time"], first["auth_time"]);
    assert_eq!(again["amr"], first["amr"]);

    let sessions = mock.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].sid, first["sid"].as_str().unwrap());
    assert_eq!(sessions[0].user_id, NURSE);
    assert_eq!(Some(sessions[0].auth_time), first["auth_time"].as_u64());
}

#[tokio::test]
async fn session_cookie_is_http_only_lax_and_scoped_to_the_issuer_path() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = browser.authorize(&mock, &[]).await;
    let pending = first.pending();
    // A client without a jar, to read the Set-Cookie header itself.
    let http = no_redirects();
    let post = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("pending", pending.clone())];
        form.extend(fields);
        http.post(format!("{}/authorize/sign-in", mock.issuer()))
            .form(&form)
            .send()
    };
    post(vec![("step", "user".into()), ("user", NURSE.into())])
        .await
        .unwrap();
    post(vec![
        ("step", "authenticator".into()),
        ("authenticator", "smartcard".into()),
    ])
    .await
    .unwrap();
    let signed_in = post(vec![
        ("step", "verify".into()),
        ("pin", user_field(NURSE, "smartcard_pin")),
    ])
    .await
    .unwrap();
    assert_eq!(signed_in.status(), 302);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let path = url::Url::parse(mock.issuer()).unwrap().path().to_owned();
    assert!(cookie.starts_with("mock_cis2_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", &format!("Path={path}")] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let sid = mock.sessions()[0].sid.clone();
    assert!(!cookie.contains(&sid), "the cookie is not the sid");
}

#[tokio::test]
async fn prompt_login_forces_authentication_in_a_live_session() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = nurse_signs_in(&mock, &browser, &[]).await;
    let forced = browser.authorize(&mock, &[("prompt", "login")]).await;
    assert!(forced.page().contains("Sign in with a test user"));
    let second = nurse_signs_in(&mock, &browser, &[("prompt", "login")]).await;
    assert_ne!(
        second["sid"], first["sid"],
        "a new authentication, a new session"
    );
}

#[tokio::test]
async fn max_age_passed_forces_authentication() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    nurse_signs_in(&mock, &browser, &[]).await;
    // max_age=0 has always passed (OpenID Connect Core 1.0 §3.1.2.1).
    let forced = browser.authorize(&mock, &[("max_age", "0")]).await;
    assert!(forced.page().contains("Sign in with a test user"));
    let silent = browser
        .authorize(&mock, &[("max_age", "0"), ("prompt", "none")])
        .await;
    assert_eq!(param(silent.redirect(), "error"), Some("login_required"));
}

#[tokio::test]
async fn session_below_the_requested_level_is_not_reused() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = browser.authorize(&mock, &[]).await;
    let code = totp_now(&user_field("555057930104", "totp_secret"));
    let outcome = browser
        .sign_in(
            &mock,
            &first,
            "555057930104",
            "authenticator_app",
            &[("code", &code)],
        )
        .await;
    verified_claims(&mock, outcome.redirect()).await;
    let step_up = browser
        .authorize(&mock, &[("acr_values", "AAL3_ANY")])
        .await;
    assert!(step_up.page().contains("Sign in with a test user"));
}

#[tokio::test]
async fn prompt_none_without_a_session_is_refused_with_login_required() {
    let mock = start_with_pages().await;
    let outcome = Browser::new().authorize(&mock, &[("prompt", "none")]).await;
    let query = outcome.redirect();
    assert_eq!(param(query, "error"), Some("login_required"));
    assert_eq!(param(query, "state"), Some("state-123"));
    assert_eq!(param(query, "iss"), Some(mock.issuer()));
}

#[tokio::test]
async fn prompt_none_with_a_session_succeeds_silently() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = nurse_signs_in(&mock, &browser, &[]).await;
    let outcome = browser.authorize(&mock, &[("prompt", "none")]).await;
    let claims = verified_claims(&mock, outcome.redirect()).await;
    assert_eq!(claims["sid"], first["sid"]);
}

#[tokio::test]
async fn prompt_none_combined_with_login_is_refused() {
    let mock = start_with_pages().await;
    let outcome = Browser::new()
        .authorize(&mock, &[("prompt", "none login")])
        .await;
    assert_eq!(param(outcome.redirect(), "error"), Some("invalid_request"));
}

#[tokio::test]
async fn login_hint_prefills_the_user() {
    let mock = start_with_pages().await;
    let known = Browser::new()
        .authorize(&mock, &[("login_hint", "555057900101")])
        .await;
    assert!(known
        .page()
        .contains("value=\"555057900101\" aria-describedby=\"user-555057900101-hint\" checked"));
    let unknown = Browser::new()
        .authorize(&mock, &[("login_hint", "555099999999")])
        .await;
    assert!(unknown.page().contains("value=\"555099999999\""));
    let none = Browser::new().authorize(&mock, &[]).await;
    assert!(!none.page().contains(" checked"));
}

#[tokio::test]
async fn ended_session_requires_sign_in_again() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = nurse_signs_in(&mock, &browser, &[]).await;
    let sid = first["sid"].as_str().unwrap();
    assert!(mock.end_session(sid));
    assert!(!mock.end_session(sid), "already ended");
    assert!(mock.sessions().is_empty());

    let silent = browser.authorize(&mock, &[("prompt", "none")]).await;
    assert_eq!(param(silent.redirect(), "error"), Some("login_required"));
    let page = browser.authorize(&mock, &[]).await;
    assert!(page.page().contains("Sign in with a test user"));
}

#[tokio::test]
async fn expired_sessions_are_swept() {
    let mock = mock_cis2::MockCis2::new()
        .session_lifetime(std::time::Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let browser = Browser::new();
    nurse_signs_in(&mock, &browser, &[]).await;
    assert_eq!(mock.sessions().len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    mock.sweep_now();
    assert!(mock.sessions().is_empty());
    let page = browser.authorize(&mock, &[]).await;
    assert!(page.page().contains("Sign in with a test user"));
}
