//! The desktop app, driven through tauri-driver and WebKitWebDriver.

use careid_e2e::{Desktop, DesktopOptions};

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
