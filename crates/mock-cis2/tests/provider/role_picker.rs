//! CIS2's role picker (REFERENCE §7) behind `selectedrole` and `changedrole`: one role chosen
//! automatically, two to five listed, more than five searchable on the server, a role reused
//! within the SSO session unless `changedrole`, and users with no roles passing through.

use crate::browser::*;
use crate::support::*;

const ROLE_SCOPES: &str = "openid profile nationalrbacaccess selectedrole";
/// The locum's seven roles, in file order.
const LOCUM_ROLES: [&str; 7] = [
    "555057910301",
    "555057910302",
    "555057910303",
    "555057910304",
    "555057910305",
    "555057910306",
    "555057910307",
];
const CHANGE_SCOPES: &str = "openid profile nationalrbacaccess changedrole";

/// Signs `user` in with a smartcard through the pages, asking for `scope`.
async fn smartcard_sign_in(
    mock: &mock_cis2::RunningMock,
    browser: &Browser,
    user: &str,
    scope: &str,
) -> (Outcome, String) {
    let first = browser.authorize(mock, &[("scope", scope)]).await;
    let pin = user_field(user, "smartcard_pin");
    let outcome = browser
        .sign_in(mock, &first, user, "smartcard", &[("pin", &pin)])
        .await;
    (outcome, first.pending())
}

#[tokio::test]
async fn one_role_is_chosen_automatically() {
    let mock = start_with_pages().await;
    let (outcome, _) = smartcard_sign_in(&mock, &Browser::new(), NURSE, ROLE_SCOPES).await;
    let claims = verified_claims(&mock, outcome.redirect()).await;
    assert_eq!(claims["selected_roleid"], "555057898108");
}

#[tokio::test]
async fn two_to_five_roles_are_listed_with_organisation_and_role_code() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let (picker, pending) = smartcard_sign_in(&mock, &browser, "555057900101", ROLE_SCOPES).await;
    let html = picker.page();
    assert_eq!(picker.status(), 200);
    for (role_id, text) in [
        (
            "555057900302",
            "Clinical Practitioner Access Role at NHSID DEV (A9A5A)",
        ),
        (
            "555057900303",
            "Systems Support Access Role at NHSID DEV (A9A5A)",
        ),
        ("555057900304", "Privacy Officer at NHS ENGLAND - X26 (X26)"),
    ] {
        assert!(html.contains(&format!("value=\"{role_id}\"")), "{role_id}");
        assert!(html.contains(text), "{text}");
    }
    assert!(html.contains("Role code S8001:G8005:R8015"));
    assert!(
        !html.contains("name=\"search\""),
        "no search for three roles"
    );

    let chosen = browser
        .submit(
            &mock,
            &pending,
            &[("step", "role"), ("role", "555057900304")],
        )
        .await;
    let claims = verified_claims(&mock, chosen.redirect()).await;
    assert_eq!(claims["selected_roleid"], "555057900304");
}

#[tokio::test]
async fn role_the_user_does_not_hold_is_refused() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let (_, pending) = smartcard_sign_in(&mock, &browser, "555057900101", ROLE_SCOPES).await;
    // The nurse's role, posted by hand for another user.
    let refused = browser
        .submit(
            &mock,
            &pending,
            &[("step", "role"), ("role", "555057898108")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.page().contains("Select a role"));
}

#[tokio::test]
async fn more_than_five_roles_are_searchable_on_the_server() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let (picker, pending) = smartcard_sign_in(&mock, &browser, "555057910105", ROLE_SCOPES).await;
    assert!(picker.page().contains("name=\"search\""));
    assert!(picker.page().contains("Showing 7 of 7 roles"));

    // (search, role ids shown)
    let cases: [(&str, &[&str]); 4] = [
        ("X26", &["555057910303", "555057910304"]),
        ("nurse", &["555057910305"]),
        ("clinical provision a9a5a", &["555057910301"]),
        ("no such role", &[]),
    ];
    for (search, expected) in cases {
        let page = browser.search_roles(&mock, &pending, search).await;
        let shown: Vec<&str> = LOCUM_ROLES
            .into_iter()
            .filter(|role_id| page.page().contains(&format!("value=\"{role_id}\"")))
            .collect();
        assert_eq!(shown, expected, "{search}");
        assert!(page
            .page()
            .contains(&format!("Showing {} of 7 roles", expected.len())));
    }
    let chosen = browser
        .submit(
            &mock,
            &pending,
            &[("step", "role"), ("role", "555057910305")],
        )
        .await;
    let claims = verified_claims(&mock, chosen.redirect()).await;
    assert_eq!(claims["selected_roleid"], "555057910305");
}

#[tokio::test]
async fn role_chosen_in_the_session_is_reused_and_changedrole_asks_again() {
    let mock = start_with_pages().await;
    let browser = Browser::new();
    let (_, pending) = smartcard_sign_in(&mock, &browser, "555057900101", ROLE_SCOPES).await;
    let chosen = browser
        .submit(
            &mock,
            &pending,
            &[("step", "role"), ("role", "555057900303")],
        )
        .await;
    verified_claims(&mock, chosen.redirect()).await;

    let reused = browser.authorize(&mock, &[("scope", ROLE_SCOPES)]).await;
    let claims = verified_claims(&mock, reused.redirect()).await;
    assert_eq!(claims["selected_roleid"], "555057900303", "no picker");

    let picker = browser.authorize(&mock, &[("scope", CHANGE_SCOPES)]).await;
    assert!(picker.page().contains("Select your role"));
    let changed = browser
        .submit(
            &mock,
            &picker.pending(),
            &[("step", "role"), ("role", "555057900302")],
        )
        .await;
    let claims = verified_claims(&mock, changed.redirect()).await;
    assert_eq!(claims["selected_roleid"], "555057900302");
    assert_eq!(
        mock.sessions()[0].selected_roleid.as_deref(),
        Some("555057900302"),
        "the session remembers the new role"
    );
}

#[tokio::test]
async fn user_with_no_roles_gets_no_selected_roleid() {
    let mock = start_with_pages().await;
    let (outcome, _) = smartcard_sign_in(&mock, &Browser::new(), "555057920109", ROLE_SCOPES).await;
    let claims = verified_claims(&mock, outcome.redirect()).await;
    assert_eq!(claims["sub"], "555057920109");
    assert!(claims.get("selected_roleid").is_none());
}

#[tokio::test]
async fn auto_login_role_id_picks_the_role_and_without_it_the_first() {
    for (auto_login, expected) in [
        ("555057910105:smartcard:555057910306", "555057910306"),
        ("555057910105:smartcard", "555057910301"),
    ] {
        let mock = start_auto_login(auto_login).await;
        let outcome = Browser::new()
            .authorize(&mock, &[("scope", ROLE_SCOPES)])
            .await;
        let claims = verified_claims(&mock, outcome.redirect()).await;
        assert_eq!(claims["selected_roleid"], expected, "{auto_login}");
    }
}

/// Auto-login's fourth part is the role a user picks when asked again with `changedrole`: the
/// role really changes, as on CIS2's picker, and `selectedrole` keeps the first.
#[tokio::test]
async fn auto_login_changed_role_is_picked_on_changedrole() {
    let mock = start_auto_login("555057900101:smartcard:555057900304:555057900303").await;
    for (scopes, expected) in [
        (ROLE_SCOPES, "555057900304"),
        (CHANGE_SCOPES, "555057900303"),
    ] {
        let outcome = Browser::new()
            .authorize(&mock, &[("scope", scopes), ("prompt", "login")])
            .await;
        let claims = verified_claims(&mock, outcome.redirect()).await;
        assert_eq!(claims["selected_roleid"], expected, "{scopes}");
    }
}
