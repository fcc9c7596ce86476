//! `cargo xtask bench desktop`: builds the desktop app and the bare Tauri window
//! (`benches/bare-window`) and measures one against the other (`measure.rs`, Linux only).

use std::path::PathBuf;

use crate::isolation::TestEnvironment;
use crate::{setup, shell};

#[cfg(target_os = "linux")]
mod measure;

/// The two release binaries the desktop bench launches.
#[derive(Debug)]
pub struct Binaries {
    pub careid: PathBuf,
    pub bare: PathBuf,
}

/// The UI, then careid-desktop and the bare window, in one release build so they share one build
/// of Tauri with the same features.
pub fn build() -> anyhow::Result<Binaries> {
    setup::prepare_ui()?;
    setup::build_ui()?;
    shell::run_checked(shell::cargo().args([
        "build",
        "--release",
        "--locked",
        "--package",
        "careid-desktop",
        "--package",
        "bare-window",
    ]))?;
    let release = shell::target_dir().join("release");
    let binary = |name: &str| release.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    Ok(Binaries {
        careid: binary("careid-desktop"),
        bare: binary("bare-window"),
    })
}

#[cfg(target_os = "linux")]
pub fn run(environment: &TestEnvironment, binaries: &Binaries) -> anyhow::Result<Vec<String>> {
    measure::run(environment, binaries)
}

/// The bench reads `/proc` and an X display: Linux only, like the desktop end-to-end suite.
#[cfg(not(target_os = "linux"))]
pub fn run(_environment: &TestEnvironment, _binaries: &Binaries) -> anyhow::Result<Vec<String>> {
    anyhow::bail!("the desktop bench runs on Linux only")
}
