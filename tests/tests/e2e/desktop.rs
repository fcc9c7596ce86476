//! The desktop app, driven through tauri-driver and WebKitWebDriver.

use careid_e2e::{Desktop, DesktopOptions, TestHome};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const APP_VERSION: &str = "[data-testid=app-version]";

/// The whole path: webview → IPC → Rust's state → DOM.
#[tokio::test]
async fn home_screen_shows_the_version_reported_by_rust() -> anyhow::Result<()> {
    let app = Desktop::launch(DesktopOptions::default()).await?;
    let text = app.wait_for_text(APP_VERSION, VERSION).await?;
    assert_eq!(text, format!("Version {VERSION} (debug build)"));
    // Each screen's title names it, then the service, as on NHS.UK.
    let title = app.client().title().await?;
    assert!(title.ends_with("careid"), "{title}");
    app.wait_for_screen("home").await?;
    let notices = app
        .client()
        .find_all(fantoccini::Locator::Css("[data-testid=notice]"))
        .await?;
    assert!(notices.is_empty(), "no notice on a healthy start");
    app.close().await?;
    Ok(())
}

/// A fault that stops careid at start (its folder can be changed by other users of the
/// computer) is shown in its window, with what to do and the technical detail, not only on a
/// stderr no desktop user sees.
#[tokio::test]
async fn a_fault_at_start_is_shown_in_the_window_with_what_to_do() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let home = careid_e2e::TestHome::new()?;
    std::fs::create_dir_all(home.config_dir())?;
    std::fs::set_permissions(home.config_dir(), std::fs::Permissions::from_mode(0o777))?;
    let app = Desktop::launch(DesktopOptions {
        home: Some(home.clone()),
        ..DesktopOptions::default()
    })
    .await?;
    app.wait_for_screen("error").await?;
    assert_eq!(app.text("h1").await?, "careid could not start");
    let happened = app.text("[data-testid=app-error]").await?;
    assert!(
        happened.contains("Other people on this computer can change"),
        "{happened}"
    );
    let to_do = app.text("[data-testid=app-error-to-do]").await?;
    assert!(to_do.contains("IT service desk"), "{to_do}");
    app.click("[data-testid=app-error-detail] summary").await?;
    let detail = app.text("[data-testid=app-error-detail]").await?;
    assert!(detail.contains("chmod go-w"), "{detail}");
    assert!(
        detail.contains(&home.config_dir().display().to_string()),
        "{detail}"
    );
    app.close().await?;
    Ok(())
}

#[tokio::test]
async fn second_launch_focuses_the_first_window_instead_of_opening_another() -> anyhow::Result<()> {
    let app = Desktop::launch(DesktopOptions::default()).await?;
    app.wait_for_text(APP_VERSION, VERSION).await?;

    let second = app.launch_again().await?;
    assert!(
        second.success(),
        "the second launch should hand over and exit cleanly: {second}"
    );
    assert_eq!(app.window_count().await?, 1);
    // The first instance is still the one answering, and it was told about the second launch.
    app.wait_for_text(APP_VERSION, VERSION).await?;
    careid_e2e::wait::until(
        std::time::Duration::from_secs(10),
        "the handover in the log",
        || async {
            Ok(app
                .log_text()
                .unwrap_or_default()
                .contains("second launch: focusing the existing window"))
        },
    )
    .await?;
    app.close().await?;
    Ok(())
}

/// Size is restored by the window-state plugin from the app's config folder.
#[tokio::test]
async fn window_size_is_remembered_across_launches() -> anyhow::Result<()> {
    let app = careid_e2e::desktop::launch_resized(
        || Desktop::launch(DesktopOptions::default()),
        700,
        560,
    )
    .await?;
    app.wait_for_text(APP_VERSION, VERSION).await?;
    let resized = app
        .within("reading the window size", app.client().get_window_size())
        .await?;
    // Saved once the resize settles, without waiting for a clean exit.
    let state_file = app
        .home()
        .path()
        .join(".config/org.careid.desktop/.window-state.json");
    // The start-up size may be saved first; wait for the new one.
    let saved_size = || -> Option<(u64, u64)> {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&state_file).ok()?).ok()?;
        Some((
            state["main"]["width"].as_u64()?,
            state["main"]["height"].as_u64()?,
        ))
    };
    careid_e2e::wait::until(
        std::time::Duration::from_secs(10),
        "the new size in the saved window state",
        || {
            let saved = saved_size();
            async move { Ok(saved == Some(resized)) }
        },
    )
    .await?;
    let home = app.close().await?;

    let app = Desktop::launch(DesktopOptions {
        home: Some(home),
        ..Default::default()
    })
    .await?;
    app.wait_for_text(APP_VERSION, VERSION).await?;
    let restored = app
        .within("reading the window size", app.client().get_window_size())
        .await?;
    assert_eq!(restored, resized);
    app.close().await?;
    Ok(())
}

/// The CSP and the capability hold inside the real webview: no inline script runs, no request
/// leaves for the network, and a command the capability does not grant is refused.
#[tokio::test]
async fn webview_is_locked_down_by_csp_and_capability() -> anyhow::Result<()> {
    let app = Desktop::launch(DesktopOptions::default()).await?;
    app.wait_for_text(APP_VERSION, VERSION).await?;
    let client = app.client();

    let inline_ran = client
        .execute(
            "const script = document.createElement('script');
             script.textContent = 'window.__careidInlineRan = true';
             document.head.appendChild(script);
             return window.__careidInlineRan === true;",
            vec![],
        )
        .await?;
    assert_eq!(inline_ran, serde_json::json!(false), "an inline script ran");

    let fetch_outcome = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('http://127.0.0.1:9/').then(() => done('fetched'), () => done('blocked'));",
            vec![],
        )
        .await?;
    assert_eq!(fetch_outcome, serde_json::json!("blocked"));

    let invoke = |command: &'static str| {
        client.execute_async(
            "const [command, done] = [arguments[0], arguments[arguments.length - 1]];
             window.__TAURI_INTERNALS__.invoke(command, {})
               .then(() => done('allowed'), (error) => done('refused: ' + String(error)));",
            vec![serde_json::json!(command)],
        )
    };
    assert_eq!(invoke("current_state").await?, serde_json::json!("allowed"));
    // Only Rust sends notifications: the page may ask whether they are allowed (the plugin's
    // own page script does), never send one.
    assert_eq!(
        invoke("plugin:notification|is_permission_granted").await?,
        serde_json::json!("allowed")
    );
    for command in ["plugin:window|close", "plugin:notification|notify"] {
        let refused = invoke(command).await?;
        let refused = refused.as_str().unwrap_or_default();
        assert!(
            refused.starts_with("refused: ") && refused.contains("not allowed"),
            "{command}: {refused}"
        );
    }
    app.close().await?;
    Ok(())
}

/// Test users of the built-in mock: one with no roles, and Sam Clinician, with three.
const NO_ROLES: &str = "555057920109";
const THREE_ROLES: &str = "555057900101";
const SAM_PRIVACY_OFFICER: &str = "555057900304";

/// The window's width in CSS pixels, what sticks out past it, and the document's and body's
/// widths, with every expander opened first so what it holds is measured too. A data table may
/// scroll inside its own box (WCAG 1.4.10 allows it); the page itself may not.
const OVERFLOW_SCRIPT: &str = "
    document.querySelectorAll('details').forEach((d) => { d.open = true; });
    const width = window.innerWidth;
    const problems = [];
    const documentWidth = document.documentElement.scrollWidth;
    const bodyWidth = document.body.scrollWidth;
    if (documentWidth > width) problems.push('the document is ' + documentWidth + ' px wide');
    if (bodyWidth > width) problems.push('the body is ' + bodyWidth + ' px wide');
    for (const el of document.querySelectorAll('body *')) {
      if (el.closest('.careid-table-scroll') || el.closest('.nhsuk-u-visually-hidden')) continue;
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.right > width + 1) {
        problems.push((el.dataset.testid || el.tagName.toLowerCase() + '.' + el.className)
          + ' ends at ' + Math.round(box.right) + ' px');
        if (problems.length > 12) break;
      }
    }
    return { width, problems };";

/// Measures the screen shown: the window is at most `width` CSS pixels wide (so the resize took)
/// and nothing makes the page scroll sideways.
async fn assert_reflows(app: &Desktop, width: u32, screen: &str) -> anyhow::Result<()> {
    app.wait_for_screen(screen).await?;
    let measured = app
        .within(
            "measure the page's width",
            app.client().execute(OVERFLOW_SCRIPT, vec![]),
        )
        .await?;
    let inner = measured["width"].as_u64().unwrap_or(u64::MAX);
    assert!(
        inner > 0 && inner <= u64::from(width),
        "the {screen} screen is {inner} px wide, not at most {width}: the resize did not take"
    );
    assert_eq!(
        measured["problems"],
        serde_json::json!([]),
        "the {screen} screen at {width} px"
    );
    Ok(())
}

/// The measure catches a page that is too wide: a planted unbreakable word widens it, so a pass
/// means something.
async fn assert_a_planted_overflow_is_caught(app: &Desktop) -> anyhow::Result<()> {
    let planted = app
        .within(
            "plant an unbreakable word and measure",
            app.client().execute(
                &format!(
                    "const word = document.createElement('p');
                     word.id = 'planted';
                     word.textContent = 'x'.repeat(400);
                     document.querySelector('main').append(word);
                     const measured = (() => {{ {OVERFLOW_SCRIPT} }})();
                     word.remove();
                     return measured;"
                ),
                vec![],
            ),
        )
        .await?;
    let problems = planted["problems"].to_string();
    assert!(
        problems.contains("the document is"),
        "the planted word was not caught: {planted}"
    );
    Ok(())
}

/// Launches the app on the built-in mock in `home` (signing `user` in without a page, if given)
/// with its window `width` px wide, on the home screen.
async fn launch_at(home: &TestHome, user: Option<&str>, width: u32) -> anyhow::Result<Desktop> {
    let app = careid_e2e::desktop::launch_resized(
        || Desktop::launch_on_mock(home.clone(), user, &[]),
        width,
        800,
    )
    .await?;
    app.wait_for_screen("home").await?;
    Ok(app)
}

/// WCAG 1.4.10 in the real webview (jsdom has no layout): every screen the built-in mock reaches
/// fits `width` px with no sideways scroll. One home across three launches: signed out (home,
/// help, profiles with the testers' view switched on, waiting), a user with no roles, and one
/// with three (choose role, signed in, the testers' tab).
async fn every_screen_reflows_at(width: u32) -> anyhow::Result<()> {
    let home = TestHome::new()?;

    let app = launch_at(&home, None, width).await?;
    assert_a_planted_overflow_is_caught(&app).await?;
    assert_reflows(&app, width, "home").await?;
    app.click("[data-testid=help-link]").await?;
    assert_reflows(&app, width, "help").await?;
    app.click("[data-testid=back-link]").await?;
    app.click("[data-testid=profiles-link]").await?;
    assert_reflows(&app, width, "profiles").await?;
    app.click("[data-testid=testers-view-toggle]").await?;
    app.wait_for("#testers-view:checked").await?;
    app.click("[data-testid=back-link]").await?;
    // The testers' overrides form is on the home screen now.
    app.wait_for("[data-testid=override-acr]").await?;
    assert_reflows(&app, width, "home").await?;
    // Without auto-login the mock shows its page, where the test browser stops: the app waits.
    app.click("[data-testid=sign-in-button]").await?;
    assert_reflows(&app, width, "waiting").await?;
    app.click("[data-testid=cancel-sign-in]").await?;
    app.wait_for_screen("home").await?;
    let home = app.close().await?;

    let app = launch_at(&home, Some(NO_ROLES), width).await?;
    app.click("[data-testid=sign-in-button]").await?;
    assert_reflows(&app, width, "noRoles").await?;
    app.click("[data-testid=no-roles-sign-out]").await?;
    app.wait_for_screen("home").await?;
    let home = app.close().await?;

    let app = launch_at(&home, Some(THREE_ROLES), width).await?;
    app.click("[data-testid=sign-in-button]").await?;
    assert_reflows(&app, width, "chooseRole").await?;
    app.click(&format!("input[name=role][value='{SAM_PRIVACY_OFFICER}']"))
        .await?;
    app.click("[data-testid=choose-role-submit]").await?;
    assert_reflows(&app, width, "signedIn").await?;
    app.click("[data-testid=tab-testers]").await?;
    app.wait_for("[data-testid=tester-acr]").await?;
    assert_reflows(&app, width, "signedIn").await?;
    app.close().await?;
    Ok(())
}

#[tokio::test]
async fn every_screen_reflows_at_320_px_wide() -> anyhow::Result<()> {
    every_screen_reflows_at(320).await
}

/// A pharmacist's tablet in portrait.
#[tokio::test]
async fn every_screen_reflows_at_600_px_wide() -> anyhow::Result<()> {
    every_screen_reflows_at(600).await
}
