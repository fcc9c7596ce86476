//! `cargo xtask screenshot` runs this inside its Xvfb environment: it drives the app on the
//! built-in mock through every screen, as a desktop window (1024 × 768) and as a tablet held
//! upright (600 × 900), and saves `SCREEN-desktop.png` and `SCREEN-tablet.png` in the folder given
//! (`screenshot OUT_DIR [desktop] [tablet]`: the sizes named, or both).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use careid_e2e::{CliWorld, Desktop, TestHome};

const SIZES: [(&str, u32, u32); 2] = [("desktop", 1024, 768), ("tablet", 600, 900)];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let out_dir = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .context("usage: screenshot OUT_DIR [desktop] [tablet]")?,
    );
    // Sizes named after the folder (`desktop`, `tablet`), or all of them.
    let wanted: Vec<String> = std::env::args().skip(2).collect();
    for (name, width, height) in SIZES {
        if wanted.is_empty() || wanted.iter().any(|size| size == name) {
            capture_all(&out_dir, name, width, height).await?;
        }
    }
    Ok(())
}

/// Every screen at one size, each from a fresh app.
async fn capture_all(out: &Path, size: &str, width: u32, height: u32) -> anyhow::Result<()> {
    let shoot = |app: &Desktop, screen: &str| {
        let path = out.join(format!("{screen}-{size}.png"));
        let client = app.client().clone();
        async move {
            // The top of the page, once the page has settled: a redraw that follows the last
            // click (the state it changed coming back) may scroll to the focused control, so
            // the page is scrolled to the top again after it, then given a frame to render.
            client.execute("window.scrollTo(0, 0)", vec![]).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            client.execute("window.scrollTo(0, 0)", vec![]).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
            std::fs::write(&path, client.screenshot().await?)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("screenshot: {}", path.display());
            anyhow::Ok(())
        }
    };

    // Home, its help and the profiles page; then a one-role sign-in, the testers' view and the
    // sign-in history.
    let app = launch(TestHome::new()?, Some("555057896106"), &[], (width, height)).await?;
    shoot(&app, "home").await?;
    app.click("[data-testid=help-link]").await?;
    app.wait_for_screen("help").await?;
    shoot(&app, "help").await?;
    app.click("[data-testid=back-link]").await?;
    app.click("[data-testid=profiles-link]").await?;
    app.wait_for_screen("profiles").await?;
    app.click("[data-testid=testers-view-toggle]").await?;
    shoot(&app, "profiles").await?;
    app.click("[data-testid=back-link]").await?;
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for_screen("signedIn").await?;
    shoot(&app, "signed-in").await?;
    app.click("[data-testid=tab-testers]").await?;
    shoot(&app, "testers-view").await?;
    // The sign-in history, and the attempt just made with each of its checks.
    app.click("[data-testid=testers-history-link]").await?;
    app.wait_for("[data-testid=history-open]").await?;
    shoot(&app, "history").await?;
    app.click("[data-testid=history-open]").await?;
    app.wait_for("[data-testid=attempt-checks]").await?;
    shoot(&app, "history-attempt").await?;
    app.close().await?;

    // The Runs page: its plans, a run under way asking the tester to confirm a step, and the
    // run finished (the step denied, so it failed) with its reports.
    let home = TestHome::new()?;
    careid_e2e::home::add_demo_run_plan(&home)?;
    let app = launch(home, None, &[], (width, height)).await?;
    app.click("[data-testid=runs-link]").await?;
    app.wait_for("[data-plan='folder:authenticators.toml'] [data-testid=start-run]")
        .await?;
    shoot(&app, "runs").await?;
    app.click("[data-plan='folder:authenticators.toml'] [data-testid=start-run]")
        .await?;
    app.wait_for("[data-testid=run-question]").await?;
    shoot(&app, "run-under-way").await?;
    app.click("[data-testid=run-answer-no]").await?;
    app.wait_for("[data-testid=run-export-json]").await?;
    shoot(&app, "run-finished").await?;
    app.close().await?;

    // Waiting for the browser: the mock's page is not completed by the stand-in browser.
    let app = launch(TestHome::new()?, None, &[], (width, height)).await?;
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for_screen("waiting").await?;
    shoot(&app, "waiting").await?;
    app.close().await?;

    // Seven roles in four organisations: the choice with search.
    let app = launch(TestHome::new()?, Some("555057910105"), &[], (width, height)).await?;
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for_screen("chooseRole").await?;
    shoot(&app, "choose-role").await?;
    app.close().await?;

    // No roles.
    let app = launch(TestHome::new()?, Some("555057920109"), &[], (width, height)).await?;
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for_screen("noRoles").await?;
    shoot(&app, "no-roles").await?;
    app.close().await?;

    // An AAL3 profile refusing an AAL2-only user: an error with the provider's words.
    let home = TestHome::new()?;
    CliWorld::in_home(home.clone()).ok(&["profile", "set", "mock", "--acr", "AAL3_ANY"]);
    let app = launch(home, Some("555057930104"), &[], (width, height)).await?;
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for_text("[data-testid=notice]", "refused").await?;
    shoot(&app, "error").await?;
    app.close().await?;

    // A one-minute inactivity limit shows the warning at once.
    let home = TestHome::new()?;
    CliWorld::in_home(home.clone()).ok(&["profile", "set", "mock", "--inactivity-minutes", "1"]);
    let app = launch(home, Some("555057896106"), &[], (width, height)).await?;
    app.click("[data-testid=sign-in-button]").await?;
    app.wait_for("[data-testid=inactivity-warning]").await?;
    shoot(&app, "inactivity-warning").await?;
    app.close().await?;
    Ok(())
}

async fn launch(
    home: TestHome,
    user: Option<&str>,
    extra: &[(&str, &str)],
    (width, height): (u32, u32),
) -> anyhow::Result<Desktop> {
    let app = careid_e2e::desktop::launch_resized(
        || Desktop::launch_on_mock(home.clone(), user, extra),
        width,
        height,
    )
    .await?;
    app.wait_for_screen("home").await?;
    Ok(app)
}
