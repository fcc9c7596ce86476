//! The WebAuthn steps' pages over real HTTP (the ceremonies themselves run in a real browser in
//! the end-to-end tests): the page's one script under a Content-Security-Policy that allows it
//! alone, the script served as a file, hand-made answers refused without a code, and the
//! click-through kept.

use aws_lc_rs::digest;
use base64::Engine as _;
use mock_cis2::{MockCis2, RunningMock};

use crate::browser::*;
use crate::support::*;

const CLINICIAN: &str = "555057900101";

/// A pending sign-in of the clinician, up to the choice of the security key, and that step's
/// response as the browser gets it.
async fn security_key_step(mock: &RunningMock) -> (String, reqwest::Response) {
    let browser = Browser::new();
    let first = browser.authorize(mock, &[]).await;
    let pending = first.pending();
    let chooser = browser
        .submit(mock, &pending, &[("step", "user"), ("user", CLINICIAN)])
        .await;
    assert_eq!(chooser.status(), 200, "{}", chooser.page());
    let response = http()
        .build()
        .expect("an HTTP client")
        .post(format!("{}/authorize/sign-in", mock.issuer()))
        .form(&[
            ("pending", pending.as_str()),
            ("step", "authenticator"),
            ("authenticator", "security_key"),
        ])
        .send()
        .await
        .expect("the mock answers");
    (pending, response)
}

#[tokio::test]
async fn the_ceremony_page_runs_one_script_under_a_policy_that_allows_it_alone() {
    let mock = start_with_pages().await;
    let (_, response) = security_key_step(&mock).await;
    assert_eq!(response.status(), 200);
    let script_url = format!("{}/authorize/webauthn.js", mock.issuer());
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .expect("a Content-Security-Policy")
        .to_owned();
    let html = response.text().await.expect("a page");

    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        policy.contains(&format!("script-src {script_url};")),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // The page's inline style is allowed by its hash, and nothing else inline.
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|rest| rest.split("</style>").next())
        .expect("the page's style");
    let hash = base64::engine::general_purpose::STANDARD
        .encode(digest::digest(&digest::SHA256, style.as_bytes()));
    assert!(
        policy.contains(&format!("style-src 'sha256-{hash}'")),
        "{policy}"
    );
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(
        html.contains("/authorize/webauthn.js\" defer></script>"),
        "{html}"
    );

    // First use: the registration ceremony, with the RP ID, and the click-through beside it.
    assert!(html.contains("<title>Register your security key"), "{html}");
    assert!(html.contains("data-ceremony=\"create\""), "{html}");
    assert!(html.contains("<code>localhost</code>"), "{html}");
    assert!(html.contains("name=\"confirm\""), "{html}");

    let script = http()
        .build()
        .expect("an HTTP client")
        .get(&script_url)
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(script.headers()["x-content-type-options"], "nosniff");
    let script = script.text().await.expect("the script");
    assert!(script.contains("navigator.credentials.create"), "{script}");
}

#[tokio::test]
async fn hand_made_answers_are_refused_without_a_code_and_the_click_through_stays() {
    let mock = start_with_pages().await;
    let (pending, _) = security_key_step(&mock).await;
    let browser = Browser::new();
    let forged = browser
        .submit(
            &mock,
            &pending,
            &[
                ("step", "webauthn-register"),
                ("credential", "{\"id\": \"forged\"}"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 422);
    assert!(
        forged.page().contains("was not registered"),
        "{}",
        forged.page()
    );
    // The browser's refusal (a key without the credential, or a cancelled prompt).
    let refused = browser
        .submit(
            &mock,
            &pending,
            &[
                ("step", "webauthn-sign-in"),
                ("webauthn_error", "NotAllowedError: not allowed"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused.page().contains("was not recognised")
            && refused.page().contains("register it again"),
        "{}",
        refused.page()
    );
    assert_eq!(mock.store_counts().codes, 0);
    assert!(mock.webauthn_credentials().is_empty());

    let confirmed = browser
        .submit(&mock, &pending, &[("step", "verify"), ("confirm", "1")])
        .await;
    assert!(param(confirmed.redirect(), "code").is_some());
}

/// An IP address cannot be a WebAuthn RP ID: such an issuer's page says so and keeps the
/// click-through.
#[tokio::test]
async fn an_ip_address_issuer_offers_only_the_click_through() {
    let mock = MockCis2::new()
        .issuer("http://127.0.0.1:{port}/realm")
        .start()
        .await
        .expect("the mock starts");
    let (pending, response) = security_key_step(&mock).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("a page");
    assert!(html.contains("id=\"webauthn-unavailable\""), "{html}");
    assert!(html.contains("IP address"), "{html}");
    assert!(!html.contains("data-ceremony"), "{html}");
    let confirmed = Browser::new()
        .submit(&mock, &pending, &[("step", "verify"), ("confirm", "1")])
        .await;
    assert!(param(confirmed.redirect(), "code").is_some());
}
