//! The desktop app, driven through tauri-driver and WebKitWebDriver.

use careid_e2e::{Desktop, DesktopOptions};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const APP_VERSION: &str = "[data-testid=app-version]";

/// The whole path: webview → IPC → Rust `app_info` → DOM.
#[tokio::test]
async fn home_screen_shows_the_version_reported_by_rust() -> anyhow::Result<()> {
    let app = Desktop::launch(DesktopOptions::default()).await?;
    let text = app.wait_for_text(APP_VERSION, VERSION).await?;
    assert_eq!(text, format!("Version {VERSION} (debug build)"));
    assert_eq!(app.client().title().await?, "careid");
    let error = app
        .client()
        .find(fantoccini::Locator::Css("[data-testid=app-error]"))
        .await?;
    assert!(!error.is_displayed().await?, "no error on a healthy start");
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
    let app = Desktop::launch(DesktopOptions::default()).await?;
    app.wait_for_text(APP_VERSION, VERSION).await?;
    app.client().set_window_size(700, 560).await?;
    let resized = app.client().get_window_size().await?;
    // Saved once the resize settles, without waiting for a clean exit.
    let state_file = app
        .home()
        .path()
        .join(".config/org.careid.desktop/.window-state.json");
    careid_e2e::wait::until(
        std::time::Duration::from_secs(10),
        "the saved window state",
        || {
            let exists = state_file.exists();
            async move { Ok(exists) }
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
    assert_eq!(app.client().get_window_size().await?, resized);
    app.close().await?;
    Ok(())
}
