//! Where the binaries under test are: built by `cargo xtask test` before the tests run.

use std::path::{Path, PathBuf};

/// The workspace root (this package lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A binary built into the same profile folder as this test (`target/debug`).
fn built(name: &str, override_var: &str) -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os(override_var) {
        Some(path) => PathBuf::from(path),
        None => target_dir()
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)),
    };
    anyhow::ensure!(
        path.is_file(),
        "{} is not built: run `cargo xtask test` (or set {override_var})",
        path.display()
    );
    Ok(path)
}

/// The desktop app (`CAREID_DESKTOP_BIN` overrides).
pub fn desktop_app() -> anyhow::Result<PathBuf> {
    built("careid-desktop", "CAREID_DESKTOP_BIN")
}

/// The `careid` CLI (`CAREID_CLI_BIN` overrides).
pub fn cli() -> anyhow::Result<PathBuf> {
    built("careid", "CAREID_CLI_BIN")
}

/// The scripted "system browser" that `BROWSER` points at (`CAREID_TEST_BROWSER_BIN` overrides).
pub fn test_browser() -> anyhow::Result<PathBuf> {
    built("test-browser", "CAREID_TEST_BROWSER_BIN")
}

/// A program on PATH, or in cargo's bin folder where `cargo install` puts it.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|dir| dir.join("bin").join(name));
    on_path.chain(cargo_home).find(|path| path.is_file())
}
