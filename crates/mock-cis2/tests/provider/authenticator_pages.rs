//! The sign-in pages' authenticators: each one's step and the `acr`, `amr` and assurance levels
//! it yields (REFERENCE §5), levels and mechanisms refused by `acr_values` (OpenID Connect Core
//! 1.0 §3.1.2.1) on the page and on the server, wrong secrets, and Cancel (RFC 6749 §4.1.2.1).

use serde_json::json;

use crate::browser::*;
use crate::support::*;

/// What a step needs: its form fields, computed when the test runs (a TOTP code is current).
fn step_fields(user: &str, authenticator: &str) -> Vec<(&'static str, String)> {
    match authenticator {
        "smartcard" => vec![("pin", user_field(user, "smartcard_pin"))],
        "authenticator_app" => vec![("code", totp_now(&user_field(user, "totp_secret")))],
        "password" => vec![("password", user_field(user, "password"))],
        _ => vec![("confirm", "1".to_owned())],
    }
}

async fn sign_in_with(
    mock: &mock_cis2::RunningMock,
    extra: &[(&str, &str)],
    user: &str,
    authenticator: &str,
) -> Outcome {
    let browser = Browser::new();
    let first = browser.authorize(mock, extra).await;
    let fields = step_fields(user, authenticator);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser
        .sign_in(mock, &first, user, authenticator, &fields)
        .await
}

#[tokio::test]
async fn each_authenticator_yields_its_acr_amr_and_levels() {
    let mock = start_with_pages().await;
    let cases = [
        ("555057896106", "smartcard", "AAL3_ANY", "N3_SMARTCARD", "3"),
        ("555057896106", "windows_hello", "AAL3_ANY", "FIDO2", "3"),
        ("555057900101", "security_key", "AAL3_ANY", "FIDO2", "3"),
        ("555057900101", "ipad", "AAL3_ANY", "IOS", "3"),
        ("555057930104", "authenticator_app", "AAL2_ANY", "TOTP", "2"),
        ("555057930104", "nhsmail", "AAL2_ANY", "NHSMAIL", "2"),
        ("555057940108", "passkey", "AAL2_ANY", "FIDO2", "2"),
        ("555057920109", "password", "AAL1_USERPASS", "pwd", "1"),
    ];
    for (user, authenticator, acr, amr, level) in cases {
        let outcome = sign_in_with(&mock, &[], user, authenticator).await;
        let claims = verified_claims(&mock, outcome.redirect()).await;
        let case = format!("{user} with {authenticator}");
        assert_eq!(claims["sub"], user, "{case}");
        assert_eq!(claims["acr"], acr, "{case}");
        assert_eq!(claims["amr"], json!([amr]), "{case}");
        assert_eq!(claims["authentication_assurance_level"], level, "{case}");
        assert_eq!(claims["id_assurance_level"], "3", "{case}");
    }
}

#[tokio::test]
async fn authenticator_below_the_requested_level_is_disabled_and_refused_when_posted() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let first = browser
        .authorize(&mock, &[("acr_values", "AAL3_ANY")])
        .await;
    let pending = first.pending();
    let chooser = browser
        .submit(
            &mock,
            &pending,
            &[("step", "user"), ("user", "555057930104")],
        )
        .await;
    let html = chooser.page();
    for name in ["authenticator_app", "nhsmail"] {
        assert!(
            html.contains(&format!("value=\"{name}\" disabled")),
            "{name} is disabled"
        );
    }
    assert!(html.contains("AAL2 is below the assurance level the application asked for"));

    // Posting the refused authenticator by hand is refused by the server, not only the page.
    let posted = browser
        .submit(
            &mock,
            &pending,
            &[
                ("step", "authenticator"),
                ("authenticator", "authenticator_app"),
            ],
        )
        .await;
    assert_eq!(posted.status(), 422);
    assert!(posted.page().contains("There is a problem"));
    let code = totp_now(&user_field("555057930104", "totp_secret"));
    let skipped = browser
        .submit(&mock, &pending, &[("step", "verify"), ("code", &code)])
        .await;
    assert_eq!(
        skipped.status(),
        422,
        "no step without an admitted authenticator"
    );
    assert!(mock.sessions().is_empty(), "nobody signed in");
}

#[tokio::test]
async fn specific_mechanism_acr_values_admit_only_that_authenticator() {
    let mock = start_with_pages().await;
    // (acr_values, user, the one admitted, one the user holds that is refused)
    let cases = [
        ("AAL3_FIDO2", "555057900101", "security_key", "smartcard"),
        ("AAL3_IOS", "555057900101", "ipad", "security_key"),
        ("AAL3_N3_SMARTCARD", "555057900101", "smartcard", "ipad"),
        ("AAL2_TOTP", "555057930104", "authenticator_app", "nhsmail"),
        (
            "AAL2_NHSMAIL",
            "555057930104",
            "nhsmail",
            "authenticator_app",
        ),
    ];
    for (acr_values, user, admitted, refused) in cases {
        let browser = Browser::new();
        let first = browser
            .authorize(&mock, &[("acr_values", acr_values)])
            .await;
        let pending = first.pending();
        let chooser = browser
            .submit(&mock, &pending, &[("step", "user"), ("user", user)])
            .await;
        let enabled: Vec<&str> = mock_cis2::Authenticator::ALL
            .iter()
            .map(|authenticator| authenticator.name())
            .filter(|name| {
                !chooser
                    .page()
                    .contains(&format!("value=\"{name}\" disabled"))
            })
            .collect();
        assert_eq!(enabled, [admitted], "{acr_values}");
        let posted = browser
            .submit(
                &mock,
                &pending,
                &[("step", "authenticator"), ("authenticator", refused)],
            )
            .await;
        assert_eq!(posted.status(), 422, "{refused} for {acr_values}");

        let outcome = sign_in_with(&mock, &[("acr_values", acr_values)], user, admitted).await;
        let claims = verified_claims(&mock, outcome.redirect()).await;
        assert_eq!(claims["acr"], acr_values);
    }
}

#[tokio::test]
async fn wrong_secrets_are_refused_and_the_step_shown_again() {
    let mock = start_with_pages().await;
    let cases = [
        (
            "555057896106",
            "smartcard",
            "pin",
            "0000",
            "The PIN is not correct",
        ),
        (
            "555057896106",
            "smartcard",
            "pin",
            "",
            "Enter your smartcard PIN",
        ),
        (
            "555057930104",
            "authenticator_app",
            "code",
            "12345",
            "Enter the 6-digit code",
        ),
        (
            "555057920109",
            "password",
            "password",
            "guess",
            "The password is not correct",
        ),
    ];
    for (user, authenticator, field, value, message) in cases {
        let browser = Browser::new();
        let first = browser.authorize(&mock, &[]).await;
        let outcome = browser
            .sign_in(&mock, &first, user, authenticator, &[(field, value)])
            .await;
        assert_eq!(outcome.status(), 422, "{authenticator} {value:?}");
        let html = outcome.page();
        assert!(html.contains(message), "{message}: {html}");
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "the summary links the field"
        );
        assert!(html.contains("value=\"verify\""), "the same step again");
    }
    assert!(mock.sessions().is_empty());
}

#[tokio::test]
async fn wrong_totp_code_is_refused_and_the_current_one_accepted() {
    let mock = start_with_pages().await;
    let user = "555057930104";
    let right = totp_now(&user_field(user, "totp_secret"));
    // A code far from the current one: the digits shifted, so never valid in the window.
    let wrong: String = right
        .chars()
        .map(|digit| char::from(b'0' + (digit as u8 - b'0' + 5) % 10))
        .collect();
    let browser = Browser::new();
    let first = browser.authorize(&mock, &[]).await;
    let refused = browser
        .sign_in(
            &mock,
            &first,
            user,
            "authenticator_app",
            &[("code", &wrong)],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .page()
        .contains("The code is not correct or has expired"));

    let accepted = browser
        .submit(
            &mock,
            &first.pending(),
            &[("step", "verify"), ("code", &right)],
        )
        .await;
    let claims = verified_claims(&mock, accepted.redirect()).await;
    assert_eq!(claims["amr"], json!(["TOTP"]));
}

#[tokio::test]
async fn cancel_returns_access_denied_with_state_and_iss() {
    let mock = start_with_pages().await;
    // Cancel on the user page, the authenticator page, and the step.
    for steps_before_cancel in 0..3 {
        let browser = Browser::new();
        let first = browser.authorize(&mock, &[]).await;
        let pending = first.pending();
        let steps: [&[(&str, &str)]; 2] = [
            &[("step", "user"), ("user", "555057896106")],
            &[("step", "authenticator"), ("authenticator", "smartcard")],
        ];
        for step in steps.iter().take(steps_before_cancel) {
            assert_eq!(browser.submit(&mock, &pending, step).await.status(), 200);
        }
        let cancelled = browser
            .submit(&mock, &pending, &[("step", "verify"), ("cancel", "1")])
            .await;
        let query = cancelled.redirect();
        assert_eq!(param(query, "error"), Some("access_denied"));
        assert_eq!(param(query, "state"), Some("state-123"));
        assert_eq!(param(query, "iss"), Some(mock.issuer()));
        assert!(param(query, "code").is_none());
        let again = browser
            .submit(
                &mock,
                &pending,
                &[("step", "user"), ("user", "555057896106")],
            )
            .await;
        assert_eq!(again.status(), 400, "a cancelled sign-in is over");
    }
}
