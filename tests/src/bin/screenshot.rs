//! `cargo xtask screenshot` runs this inside its Xvfb environment: starts the app under WebDriver,
//! waits until the home screen shows the version, and saves `home.png` in the folder given.

use std::path::PathBuf;

use anyhow::Context;
use careid_e2e::{Desktop, DesktopOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let out_dir = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .context("usage: screenshot OUT_DIR")?,
    );
    let app = Desktop::launch(DesktopOptions::default()).await?;
    app.wait_for_text("[data-testid=app-version]", "Version")
        .await?;
    // One frame after the DOM is ready, so the picture is the rendered page, not a stale one.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let png = app.client().screenshot().await?;
    let path = out_dir.join("home.png");
    std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    println!("screenshot: {}", path.display());
    app.close().await?;
    Ok(())
}
