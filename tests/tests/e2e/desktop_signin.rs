//! The desktop app signing in on the built-in mock, as a person would: the real window through
//! WebDriver, the system browser stand-in (`test-browser`, a plain HTTP client that follows the
//! mock's auto-login redirects to the app's loopback listener), the real Secret Service keychain.
//! Every assertion reads the DOM.

use std::time::Duration;

use careid_e2e::{binaries, CliWorld, Desktop, TestHome};
use fantoccini::Locator;
use serde_json::json;

/// Flo Nurse: one role (Nurse Access Role at NHSID DEV), smartcard (AAL3).
const ONE_ROLE: &str = "555057896106";
/// Sam Clinician: three roles in two organisations.
const THREE_ROLES: &str = "555057900101";
const SAM_PRIVACY_OFFICER: &str = "555057900304";
/// Alex Locum: seven roles in four organisations.
const SEVEN_ROLES: &str = "555057910105";
/// Pat Noroles: registered, no roles.
const NO_ROLES: &str = "555057920109";
/// Jo Admin: an authenticator app and NHSmail only, so AAL2 at most.
const AAL2_ONLY: &str = "555057930104";

const SCREEN: &str = "[data-testid=screen]";
const NOTICE: &str = "[data-testid=notice]";

/// The app on the built-in mock, signed out: the home screen.
async fn launch(
    home: TestHome,
    user: Option<&str>,
    extra: &[(&str, &str)],
) -> anyhow::Result<Desktop> {
    let app = Desktop::launch_on_mock(home, user, extra).await?;
    app.wait_for_screen("home").await?;
    Ok(app)
}

/// The app on the built-in mock whose profile the CLI first gave `settings` (as a tester would,
/// with `careid profile set mock ...`).
async fn launch_with_settings(settings: &[&str], user: &str) -> anyhow::Result<Desktop> {
    let home = TestHome::new()?;
    let mut args = vec!["profile", "set", "mock"];
    args.extend_from_slice(settings);
    CliWorld::in_home(home.clone()).ok(&args);
    launch(home, Some(user), &[]).await
}

/// Presses "Log in with my Care Identity" and waits for the screen that follows the browser.
async fn sign_in(app: &Desktop, then: &str) -> anyhow::Result<()> {
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for_screen(then).await
}

/// Every string in the webview that looks like a JWT (`eyJ...`): the DOM's text and attributes,
/// and both storages.
async fn jwt_shaped_strings_in_webview(app: &Desktop) -> anyhow::Result<Vec<String>> {
    let found = app
        .client()
        .execute(
            "const text = document.documentElement.outerHTML + ' ' +
               JSON.stringify(Object.assign({}, localStorage)) + ' ' +
               JSON.stringify(Object.assign({}, sessionStorage));
             return text.match(/eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}/g) || [];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

#[tokio::test]
async fn one_role_user_signs_in_through_the_system_browser() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, Some(ONE_ROLE), &[]).await?;
    assert!(app
        .text("[data-testid=profile-name]")
        .await?
        .contains("mock"));
    sign_in(&app, "signedIn").await?;
    assert_eq!(app.text("[data-testid=user-name]").await?, "Flo Nurse");
    assert!(app.text("[data-testid=user-id]").await?.contains(ONE_ROLE));
    assert!(app
        .text("[data-testid=role-name]")
        .await?
        .contains("Nurse Access Role"));
    let organisation = app.text("[data-testid=role-org]").await?;
    assert!(
        organisation.contains("NHSID DEV") && organisation.contains("A9A5A"),
        "{organisation}"
    );
    let assurance = app.text("[data-testid=assurance]").await?;
    assert!(
        assurance.contains("very high confidence (AAL3)"),
        "{assurance}"
    );
    assert!(app
        .text("[data-testid=inactivity-limit]")
        .await?
        .contains("15 minutes"));
    // The browser was opened by Rust, at the mock's authorization endpoint.
    let opened = std::fs::read_to_string(app.home().path().join("browser.log"))?;
    assert!(opened.contains("/authorize?"), "{opened}");
    assert!(jwt_shaped_strings_in_webview(&app).await?.is_empty());
    app.close().await?;
    Ok(())
}

#[tokio::test]
async fn multi_role_user_chooses_a_role_and_sees_it() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, Some(THREE_ROLES), &[]).await?;
    sign_in(&app, "chooseRole").await?;
    let groups = app
        .client()
        .find_all(Locator::Css("[data-testid=role-group]"))
        .await?;
    assert_eq!(groups.len(), 2, "two organisations");
    assert!(app.text(SCREEN).await?.contains("(X26)"));
    app.click(&format!("input[name=role][value='{SAM_PRIVACY_OFFICER}']"))
        .await?;
    app.click("[data-testid=choose-role-submit]").await?;
    app.wait_for_screen("signedIn").await?;
    assert!(app
        .text("[data-testid=role-name]")
        .await?
        .contains("Privacy Officer"));
    assert!(app.text("[data-testid=role-org]").await?.contains("X26"));

    // Change role: back to the choice, with the current one preselected.
    app.click("[data-testid=change-role]").await?;
    app.wait_for_screen("chooseRole").await?;
    let checked = app
        .client()
        .find(Locator::Css("input[name=role]:checked"))
        .await?
        .attr("value")
        .await?;
    assert_eq!(checked.as_deref(), Some(SAM_PRIVACY_OFFICER));
    app.click("[data-testid=keep-current-role]").await?;
    app.wait_for_screen("signedIn").await?;
    app.close().await?;
    Ok(())
}

#[tokio::test]
async fn more_than_five_roles_can_be_searched() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, Some(SEVEN_ROLES), &[]).await?;
    sign_in(&app, "chooseRole").await?;
    // NHS.UK radios draw their own circle over a transparent input: count the items shown.
    let visible_roles = || async {
        let count = app
            .client()
            .execute(
                "return [...document.querySelectorAll('input[name=role]')]
                   .filter((radio) => radio.closest('.nhsuk-radios__item').getClientRects().length > 0
                     && !radio.closest('[hidden]')).length;",
                vec![],
            )
            .await?;
        anyhow::Ok(count.as_u64().unwrap_or(0))
    };
    assert_eq!(visible_roles().await?, 7);
    app.type_into("[data-testid=role-search]", "Privacy")
        .await?;
    careid_e2e::wait::until(Duration::from_secs(10), "the search to narrow", || async {
        Ok(visible_roles().await? == 1)
    })
    .await?;
    assert!(app
        .text("[data-testid=role-search-count]")
        .await?
        .contains('1'));
    app.click("input[name=role][value='555057910304']").await?;
    app.click("[data-testid=choose-role-submit]").await?;
    app.wait_for_screen("signedIn").await?;
    assert!(app
        .text("[data-testid=role-name]")
        .await?
        .contains("Privacy Officer"));
    app.close().await?;
    Ok(())
}

/// Check again signs in afresh (careid learns the roles from UserInfo at sign-in): the browser
/// opens a second time and the page comes back, the RA not having added a role.
#[tokio::test]
async fn a_user_without_roles_gets_a_clear_page_checks_again_and_signs_out() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, Some(NO_ROLES), &[]).await?;
    sign_in(&app, "noRoles").await?;
    assert!(app.text(SCREEN).await?.contains("Registration Authority"));
    let browser_log = app.home().path().join("browser.log");
    let sign_ins = || -> anyhow::Result<usize> {
        Ok(std::fs::read_to_string(&browser_log)?
            .matches("/authorize?")
            .count())
    };
    assert_eq!(sign_ins()?, 1);
    app.click("[data-testid=check-again]").await?;
    careid_e2e::wait::until(Duration::from_secs(30), "a second sign-in", || {
        let count = sign_ins();
        async move { Ok(count? == 2) }
    })
    .await?;
    app.wait_for_screen("noRoles").await?;
    // Named as `careid login` and `careid status` name the user.
    app.wait_for_text(
        "[data-testid=header-user-name]",
        &format!("Pat Noroles ({NO_ROLES})"),
    )
    .await?;
    app.click("[data-testid=no-roles-sign-out]").await?;
    app.wait_for_screen("home").await?;
    assert!(app.text(NOTICE).await?.contains("signed out"));
    app.close().await?;
    Ok(())
}

/// The mock refuses an AAL2-only user on an AAL3 profile with an `error=` callback; the app says
/// why at once, not after the five-minute wait: in plain words, with the ways of signing in that
/// AAL3 admits, and CIS2's own words in the technical detail.
#[tokio::test]
async fn an_aal3_profile_refusing_an_aal2_user_says_why_at_once() -> anyhow::Result<()> {
    let app = launch_with_settings(&["--acr", "AAL3_ANY"], AAL2_ONLY).await?;
    let started = std::time::Instant::now();
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for_text(NOTICE, "not strong enough").await?;
    assert!(started.elapsed() < Duration::from_secs(30));
    app.wait_for_screen("home").await?;
    // The words for the clinician; the technical detail follows, outside the alert.
    let words = app.text("[data-testid=notice] [role=alert]").await?;
    assert!(words.contains("your smartcard, a security key"), "{words}");
    assert!(!words.contains("acr_values"), "{words}");
    app.click("[data-testid=notice-detail] summary").await?;
    let technical = app
        .wait_for_text("[data-testid=notice-technical]", "access_denied")
        .await?;
    assert!(technical.contains("AAL3_ANY"), "{technical}");
    app.close().await?;
    Ok(())
}

/// The clipboard's text, as another program on the desktop would read it.
fn clipboard_text() -> anyhow::Result<String> {
    Ok(arboard::Clipboard::new()?.get_text()?)
}

/// Without auto-login the mock shows its sign-in page, where the test browser stops: the app
/// waits, says what usually goes wrong after a while, copies the link from Rust (it never enters
/// the page), and Cancel ends the wait.
#[tokio::test]
async fn waiting_offers_the_link_and_help_and_cancel_returns_home() -> anyhow::Result<()> {
    // A 12-second wait gives its hint after 6 seconds.
    let app = launch(TestHome::new()?, None, &[("CAREID_SIGN_IN_TIMEOUT", "12")]).await?;
    sign_in(&app, "waiting").await?;
    app.wait_for_text("[data-testid=waiting-elapsed]", "0:0")
        .await?;
    app.click("[data-testid=copy-link]").await?;
    app.wait_for_text("[data-testid=copy-link-confirmation]", "opied")
        .await?;
    let link = clipboard_text()?;
    // The built-in mock offers pushed authorization requests: the link is the short form.
    assert!(
        link.contains("/authorize?client_id=") && link.contains("&request_uri="),
        "{link}"
    );
    let page = app.client().source().await?;
    assert!(
        !page.contains("request_uri="),
        "the link is not in the page"
    );
    app.wait_for_text("[data-testid=waiting-hint]", "127.0.0.1")
        .await?;
    app.click("[data-testid=cancel-sign-in]").await?;
    app.wait_for_screen("home").await?;
    app.wait_for_text(NOTICE, "cancel").await?;
    app.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_wait_times_out_with_a_clear_message() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, None, &[("CAREID_SIGN_IN_TIMEOUT", "3")]).await?;
    sign_in(&app, "waiting").await?;
    app.wait_for_screen_within("home", Duration::from_secs(20))
        .await?;
    let notice = app.text(NOTICE).await?;
    assert!(notice.to_lowercase().contains("time"), "{notice}");
    app.close().await?;
    Ok(())
}

/// The session comes back from the keychain after a restart; after sign-out it does not.
#[tokio::test]
async fn a_restart_restores_the_session_and_sign_out_ends_it() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, Some(ONE_ROLE), &[]).await?;
    sign_in(&app, "signedIn").await?;
    let home = app.close().await?;
    let cli = CliWorld::in_home(home.clone());
    // One session kept: its refresh token and its last ID token (each may be split into parts).
    let accounts = cli.keychain_accounts();
    let session = format!("session/mock/{ONE_ROLE}/");
    assert!(
        accounts.contains(&format!("{session}refresh-token"))
            && accounts.contains(&format!("{session}id-token"))
            && accounts.iter().all(|account| account.starts_with(&session)),
        "{accounts:?}"
    );

    let app = Desktop::launch_on_mock(home.clone(), Some(ONE_ROLE), &[]).await?;
    app.wait_for_screen("signedIn").await?;
    assert_eq!(app.text("[data-testid=user-name]").await?, "Flo Nurse");
    app.click("[data-testid=sign-out]").await?;
    app.wait_for_screen("home").await?;
    assert!(app.text(NOTICE).await?.contains("browser"));
    assert!(
        cli.keychain_accounts().is_empty(),
        "the refresh token is gone"
    );
    let home = app.close().await?;

    let app = Desktop::launch_on_mock(home, Some(ONE_ROLE), &[]).await?;
    app.wait_for_screen("home").await?;
    app.close().await?;
    Ok(())
}

/// The app and the CLI keep one session on one built-in mock: a CLI sign-in shows in the app
/// without a restart, a sign-in in the app serves `careid token`, and `careid logout` shows in
/// the app at once.
#[tokio::test]
async fn the_app_and_the_cli_share_one_session() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, Some(ONE_ROLE), &[]).await?;
    let cli = CliWorld::in_home(app.home().clone());
    // Signed out, the app starts no provider; its sign-in starts the user's mock, and from
    // then on the CLI uses that one rather than starting its own.
    let record_path = cli.state_dir().join("mock-provider.run.json");
    let record = || -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_str(&std::fs::read_to_string(
            &record_path,
        )?)?)
    };
    sign_in(&app, "signedIn").await?;
    let served_by = record()?;
    let status = cli.ok(&["status", "--json"]).json();
    assert_eq!(status["user"]["id"], json!(ONE_ROLE));
    let token = cli.ok(&["token"]);
    assert!(token.stdout.trim().starts_with("eyJ"), "an access token");
    cli.ok(&["logout"]);
    app.wait_for_screen_within("home", Duration::from_secs(10))
        .await?;
    assert!(app.text(NOTICE).await?.contains("signed out"));
    assert_eq!(
        app.attribute(NOTICE, "data-notice-code").await?,
        "signed_out_here"
    );

    cli.ok(&["login"]);
    app.wait_for_screen_within("signedIn", Duration::from_secs(10))
        .await?;
    assert_eq!(app.text("[data-testid=user-name]").await?, "Flo Nurse");
    // The user and the role read in the app as the CLI's text says them.
    let status = cli.ok(&["status"]);
    assert!(
        status
            .stdout
            .contains(&format!("as Flo Nurse ({ONE_ROLE})")),
        "{}",
        status.text()
    );
    let role_line = status
        .stdout
        .lines()
        .find(|line| line.starts_with("Role:"))
        .expect("a role line")
        .to_owned();
    let (name, organisation, code) = (
        app.text("[data-testid=role-name]").await?,
        app.text("[data-testid=role-org]").await?,
        app.text("[data-testid=role-code]").await?,
    );
    assert!(
        role_line.ends_with(&format!("{name} at {organisation}, {code}")),
        "the CLI: {role_line}; the app: {name} / {organisation} / {code}"
    );
    assert_eq!(record()?, served_by, "one mock for the user, the app's");
    cli.ok(&["logout"]);
    app.wait_for_screen_within("home", Duration::from_secs(10))
        .await?;
    assert!(app.text(NOTICE).await?.contains("signed out"));
    let status = cli.run(&["status"])?;
    assert_eq!(status.code, Some(8), "{}", status.text());
    app.close().await?;
    Ok(())
}

/// A one-minute inactivity limit: the warning shows, then the session ends and the home screen
/// says why.
#[tokio::test]
async fn inactivity_ends_the_session_and_says_so() -> anyhow::Result<()> {
    let app = launch_with_settings(&["--inactivity-minutes", "1"], ONE_ROLE).await?;
    sign_in(&app, "signedIn").await?;
    app.wait_for("[data-testid=inactivity-warning]").await?;
    app.wait_for_screen_within("home", Duration::from_secs(100))
        .await?;
    let notice = app.text(NOTICE).await?;
    assert!(notice.contains("1 minute"), "{notice}");
    assert_eq!(
        app.attribute(NOTICE, "data-notice-code").await?,
        "inactivity"
    );
    let cli = CliWorld::in_home(app.home().clone());
    assert!(
        cli.keychain_accounts().is_empty(),
        "the ended session is deleted"
    );
    app.close().await?;
    Ok(())
}

/// The testers' view: the claims the mock issued, the export (claims, no token), "copy access
/// token", after which no token is anywhere in the webview, and the sign-in in the history.
#[tokio::test]
async fn testers_view_shows_the_claims_and_exports_no_token() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let export = home.path().join("record.json");
    let export_text = export.display().to_string();
    let app = launch(
        home,
        Some(ONE_ROLE),
        &[("CAREID_EXPORT_PATH", &export_text)],
    )
    .await?;
    // Off by default; switched on in the profiles page's settings, and remembered.
    app.click("[data-testid=profiles-link]").await?;
    app.wait_for_screen("profiles").await?;
    app.click("[data-testid=testers-view-toggle]").await?;
    careid_e2e::wait::until(
        Duration::from_secs(10),
        "the setting to be saved",
        // Read afresh each time: the page is drawn again when the saved setting comes back.
        || async {
            let checked = app
                .within(
                    "read the testers' view setting",
                    app.client().execute(
                        "const toggle = document.querySelector('[data-testid=testers-view-toggle]');
                         return toggle !== null && toggle.checked;",
                        vec![],
                    ),
                )
                .await?;
            Ok(checked == json!(true))
        },
    )
    .await?;
    // The page may still be drawn again as the saved setting settles (the Back link moving
    // under the click): clicked until the home screen is there.
    careid_e2e::wait::until(
        Duration::from_secs(20),
        "the home screen after Back",
        || async {
            app.click("[data-testid=back-link]").await.ok();
            Ok(app
                .wait_for_screen_within("home", Duration::from_secs(2))
                .await
                .is_ok())
        },
    )
    .await?;
    sign_in(&app, "signedIn").await?;
    app.click("[data-testid=tab-testers]").await?;
    assert_eq!(app.text("[data-testid=tester-acr]").await?, "AAL3_ANY");
    assert!(app
        .text("[data-testid=tester-amr]")
        .await?
        .contains("N3_SMARTCARD"));
    assert!(app
        .text("[data-testid=tester-timings]")
        .await?
        .contains("token"));

    app.click("[data-testid=copy-access-token]").await?;
    app.wait_for("[data-testid=copy-confirmation]").await?;
    assert!(
        clipboard_text()?.starts_with("eyJ"),
        "the access token is on the clipboard"
    );
    assert!(jwt_shaped_strings_in_webview(&app).await?.is_empty());

    app.click("[data-testid=export-record]").await?;
    app.wait_for_text("[data-testid=export-result]", "record.json")
        .await?;
    let written = std::fs::read_to_string(&export)?;
    let record: serde_json::Value = serde_json::from_str(&written)?;
    assert_eq!(record["acr"], json!("AAL3_ANY"));
    assert_eq!(record["idTokenClaims"]["sub"], json!(ONE_ROLE));
    assert!(
        careid_e2e::jwt_shaped(&written).is_empty(),
        "no token in the export"
    );

    // The same sign-in in the history, with each of its checks, and its export.
    app.click("[data-testid=testers-history-link]").await?;
    app.wait_for_screen("history").await?;
    app.click("[data-testid=history-open]").await?;
    app.wait_for("[data-testid=attempt-checks] [data-rule=state][data-outcome=passed]")
        .await?;
    app.wait_for("[data-rule=id_token_signature][data-outcome=passed]")
        .await?;
    app.click("[data-testid=export-json]").await?;
    app.wait_for_text("[data-testid=history-export-result]", "record.json")
        .await?;
    let written = std::fs::read_to_string(&export)?;
    let attempt: serde_json::Value = serde_json::from_str(&written)?;
    assert_eq!(attempt["verdict"], json!("signed_in"));
    assert_eq!(attempt["returned"]["sub"], json!(ONE_ROLE));
    assert!(
        careid_e2e::jwt_shaped(&written).is_empty(),
        "no token in the attempt's export"
    );
    assert!(jwt_shaped_strings_in_webview(&app).await?.is_empty());
    let home = app.close().await?;

    // The tab is remembered.
    let app = Desktop::launch_on_mock(home, Some(ONE_ROLE), &[]).await?;
    app.wait_for_screen("signedIn").await?;
    app.wait_for("[data-testid=tab-testers]").await?;
    app.close().await?;
    Ok(())
}

/// axe-core, injected through WebDriver, on every screen a sign-in passes through: first on a
/// deliberate violation, so a clean result means something.
#[tokio::test]
async fn every_screen_passes_axe() -> anyhow::Result<()> {
    let axe = std::fs::read_to_string(
        binaries::workspace_root().join("ui/node_modules/axe-core/axe.min.js"),
    )?;
    let app = launch(TestHome::new()?, Some(THREE_ROLES), &[]).await?;
    let violations = |setup: &'static str| {
        let script = format!(
            "{axe}\n;{setup};
             const done = arguments[arguments.length - 1];
             axe.run(document).then(
               (result) => done(result.violations.map((v) => v.id + ': ' + v.nodes.length)),
               (error) => done(['axe failed: ' + error]));"
        );
        let client = app.client().clone();
        async move { anyhow::Ok(client.execute_async(&script, vec![]).await?) }
    };
    let planted = violations(
        "const planted = document.createElement('input'); planted.id = 'planted';
         document.body.appendChild(planted)",
    )
    .await?;
    assert!(
        planted.to_string().contains("label"),
        "axe finds an unlabelled input: {planted}"
    );
    app.client()
        .execute("document.getElementById('planted').remove()", vec![])
        .await?;
    let mut found = Vec::new();
    found.push(("home", violations("").await?));
    app.click("[data-testid=help-link]").await?;
    app.wait_for_screen("help").await?;
    found.push(("help", violations("").await?));
    app.click("[data-testid=back-link]").await?;
    app.click("[data-testid=profiles-link]").await?;
    app.wait_for_screen("profiles").await?;
    found.push(("profiles", violations("").await?));
    app.click("[data-testid=back-link]").await?;
    sign_in(&app, "chooseRole").await?;
    found.push(("chooseRole", violations("").await?));
    app.click(&format!("input[name=role][value='{SAM_PRIVACY_OFFICER}']"))
        .await?;
    app.click("[data-testid=choose-role-submit]").await?;
    app.wait_for_screen("signedIn").await?;
    found.push(("signedIn", violations("").await?));
    for (screen, violations) in found {
        assert_eq!(violations, json!([]), "axe on the {screen} screen");
    }
    app.close().await?;
    Ok(())
}

/// A keyboard-only sign-in: Tab to the button, Enter.
#[tokio::test]
async fn a_keyboard_alone_signs_in() -> anyhow::Result<()> {
    let app = launch(TestHome::new()?, Some(ONE_ROLE), &[]).await?;
    let mut reached = false;
    for _ in 0..30 {
        // Tab, sent to whatever has the focus, as a keyboard would.
        app.client()
            .active_element()
            .await?
            .send_keys("\u{e004}")
            .await?;
        let focused = app
            .client()
            .execute(
                "return document.activeElement && document.activeElement.dataset.testid || ''",
                vec![],
            )
            .await?;
        if focused == json!("sign-in-button") {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches the sign-in button");
    let button = app
        .client()
        .find(Locator::Css("[data-testid=sign-in-button]"))
        .await?;
    button.send_keys("\u{e007}").await?; // Enter
    app.wait_for_screen("signedIn").await?;
    app.close().await?;
    Ok(())
}

/// A pharmacist's tablet in portrait: 600 px wide, nothing wider than the window, and every
/// control at least 44 px each way.
#[tokio::test]
async fn works_at_600_px_wide_with_touch_sized_targets() -> anyhow::Result<()> {
    // WebKitWebDriver under Xvfb now and then never answers a resize: relaunch then.
    let app = careid_e2e::desktop::launch_resized(
        || async { launch(TestHome::new()?, Some(THREE_ROLES), &[]).await },
        600,
        900,
    )
    .await?;
    let check = || async {
        let problems = app
            .client()
            .execute(
                "const problems = [];
                 if (document.documentElement.scrollWidth > window.innerWidth + 1) {
                   problems.push('page is ' + document.documentElement.scrollWidth + ' px wide');
                 }
                 for (const el of document.querySelectorAll('button, a[href]:not(.nhsuk-skip-link), input[type=radio], input[type=checkbox], select')) {
                   const box = (el.type === 'radio' || el.type === 'checkbox') ? el.parentElement.getBoundingClientRect() : el.getBoundingClientRect();
                   if (box.width === 0 && box.height === 0) continue;
                   if (box.width < 44 || box.height < 44) {
                     problems.push((el.dataset.testid || el.textContent.trim() || el.tagName) + ': ' + Math.round(box.width) + 'x' + Math.round(box.height));
                   }
                 }
                 return problems;",
                vec![],
            )
            .await?;
        anyhow::Ok(problems)
    };
    assert_eq!(check().await?, json!([]), "home at 600 px");
    sign_in(&app, "chooseRole").await?;
    assert_eq!(check().await?, json!([]), "role choice at 600 px");
    app.click(&format!("input[name=role][value='{SAM_PRIVACY_OFFICER}']"))
        .await?;
    app.click("[data-testid=choose-role-submit]").await?;
    app.wait_for_screen("signedIn").await?;
    assert_eq!(check().await?, json!([]), "signed in at 600 px");
    app.close().await?;
    Ok(())
}

/// The Runs page in the real window: a plan from the plans folder runs on the built-in mock
/// without a page, the window asks the tester to confirm a step and takes the answer, the
/// finished run shows each case, and its JUnit report is exported with no token in it.
#[tokio::test]
async fn the_runs_page_plays_a_plan_and_exports_its_report() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    careid_e2e::home::add_demo_run_plan(&home)?;
    let report = home.path().join("run.xml");
    let report_text = report.display().to_string();
    let app = launch(home, None, &[("CAREID_EXPORT_PATH", &report_text)]).await?;
    app.click("[data-testid=runs-link]").await?;
    let start = "[data-plan='folder:authenticators.toml'] [data-testid=start-run]";
    app.wait_for(start).await?;
    app.click(start).await?;
    app.wait_for_text(
        "[data-testid=run-question-step]",
        "The security key asked for its PIN",
    )
    .await?;
    app.click("[data-testid=run-answer-yes]").await?;
    app.wait_for_text("[data-testid=run-summary]", "run passed")
        .await?;
    let statuses = app
        .client()
        .execute(
            "return [...document.querySelectorAll('[data-testid=run-case]')]
                .map((row) => row.dataset.status);",
            vec![],
        )
        .await?;
    assert_eq!(statuses, json!(["passed", "passed", "passed"]));
    assert!(app
        .text("[data-testid=run-cases]")
        .await?
        .contains("expected failure (CIS2 says N3_SMARTCARD"));
    assert!(jwt_shaped_strings_in_webview(&app).await?.is_empty());

    app.click("[data-testid=run-export-junit]").await?;
    app.wait_for_text("[data-testid=run-export-result]", "run.xml")
        .await?;
    let junit = std::fs::read_to_string(&report)?;
    assert!(junit.contains("<testsuites") && junit.contains("security_key-AAL3_ANY"));
    assert!(
        careid_e2e::jwt_shaped(&junit).is_empty(),
        "no token in the report"
    );
    app.close().await?;
    Ok(())
}
