//! Installing what is missing: system packages (apt), `tauri-driver`, `cargo-nextest`, the Windows
//! target for the cross-check, the UI's npm packages, the test OpenID provider's npm packages, and
//! the built UI. Each step checks first, so a second run skips them in seconds.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use anyhow::{bail, Context};

use crate::shell;

/// The folder holding the pinned Tauri CLI's package.json and lock file.
pub const TAURI_CLI_FOLDER: &str = "packaging/tauri-cli";

/// Debian/Ubuntu packages to build and run the desktop app.
const APP_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "libsoup-3.0-dev",
    "libjavascriptcoregtk-4.1-dev",
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libxdo-dev",
    "libdbus-1-dev",
];

/// Extra packages for the tests: a display, WebDriver, the keychain and its tools, a browser,
/// Redis.
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "webkit2gtk-driver",
    "gnome-keyring",
    "dbus-x11",
    "keyutils",
    "libsecret-tools",
    "curl",
    "chromium",
    "chromium-driver",
    // The broker's store for several replicas, tested against a real server.
    "redis-server",
    // The installed-package test's fresh Debian root (`cargo xtask bundle --test`).
    "mmdebstrap",
    // `systemd-analyze verify` of the broker's unit.
    "systemd",
];

/// The target `cargo xtask test` cross-checks the app and the CLI for: the GNU one, since its
/// linker and C compiler come from apt, where the MSVC one needs Microsoft's build tools.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

/// Debian packages for that cross-check: MinGW-w64's C compiler and `windres` for the build
/// scripts (aws-lc-rs, ring, the app's Windows resources), and NASM for aws-lc's Windows assembly.
const WINDOWS_CHECK_PACKAGES: &[&str] = &["gcc-mingw-w64-x86-64", "nasm"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Building and running the app.
    App,
    /// Everything `cargo xtask test` and `cargo xtask screenshot` use.
    Tests,
    /// `cargo xtask bench`: the tests' system packages (the isolated environment's keychain,
    /// session bus and display), without the UI's and the end-to-end suite's tools.
    Bench,
}

/// Whether the Windows target is installed, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowsTarget {
    Installed,
    Unavailable(String),
}

/// What set-up could not install without failing: the checks that need it are skipped.
#[derive(Debug)]
pub struct Prepared {
    pub windows_target: WindowsTarget,
}

/// Makes sure everything the command needs is installed.
pub fn prepare(needs: Needs) -> anyhow::Result<Prepared> {
    let started = std::time::Instant::now();
    let mut prepared = Prepared {
        windows_target: WindowsTarget::Unavailable("set up by `cargo xtask test` only".to_owned()),
    };
    system_packages(needs)?;
    if needs == Needs::Bench {
        println!(
            "xtask: set-up checked in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        return Ok(prepared);
    }
    require_node()?;
    npm_packages("ui", "the UI's npm packages")?;
    if needs == Needs::Tests {
        npm_packages(
            OIDC_PROVIDER_FOLDER,
            "the test OpenID provider (node oidc-provider)",
        )?;
        cargo_tool("tauri-driver", "tauri-driver")?;
        cargo_tool("cargo-nextest", "cargo-nextest")?;
        prepared.windows_target = windows_target();
    }
    println!(
        "xtask: set-up checked in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(prepared)
}

/// The Tauri CLI, pinned in its own folder, for `cargo xtask bundle`.
pub fn prepare_tauri_cli() -> anyhow::Result<()> {
    require_node()?;
    npm_packages(TAURI_CLI_FOLDER, "the Tauri CLI")
}

/// Node and the UI's npm packages, for the benches that build the UI.
pub fn prepare_ui() -> anyhow::Result<()> {
    require_node()?;
    npm_packages("ui", "the UI's npm packages")
}

fn system_packages(needs: Needs) -> anyhow::Result<()> {
    if cfg!(windows) {
        println!(
            "xtask: on Windows careid needs the Microsoft C++ Build Tools and the WebView2 runtime \
             (present on Windows 11; the Evergreen installer from Microsoft otherwise); \
             the desktop end-to-end suite runs on Linux"
        );
        return Ok(());
    }
    if cfg!(target_os = "macos") {
        println!(
            "xtask: on macOS careid needs the Xcode Command Line Tools (`xcode-select --install`); \
             the desktop end-to-end suite runs on Linux"
        );
        return Ok(());
    }
    let mut wanted: Vec<&str> = APP_PACKAGES.to_vec();
    if needs != Needs::App {
        wanted.extend_from_slice(TEST_PACKAGES);
    }
    if needs == Needs::Tests {
        wanted.extend_from_slice(WINDOWS_CHECK_PACKAGES);
    }
    if shell::find_program("dpkg-query").is_none() || shell::find_program("apt-get").is_none() {
        println!(
            "xtask: not a Debian or Ubuntu system; make sure the equivalents of these are installed: {}",
            wanted.join(" ")
        );
        return Ok(());
    }
    let missing = missing_packages(&wanted)?;
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    println!("xtask: installing system packages: {}", missing.join(" "));
    let as_root = is_root();
    if !as_root && !sudo_works() {
        bail!("missing system packages; install them with:\n  sudo sh -c '{install}'");
    }
    let mut command = if as_root {
        Command::new("sh")
    } else {
        Command::new("sudo")
    };
    if !as_root {
        command.args(["-n", "sh"]);
    }
    command
        .args(["-c", &install])
        .env("DEBIAN_FRONTEND", "noninteractive");
    shell::run_checked(&mut command)?;
    let still_missing = missing_packages(&wanted)?;
    anyhow::ensure!(
        still_missing.is_empty(),
        "apt did not install: {}",
        still_missing.join(" ")
    );
    Ok(())
}

/// The packages of `wanted` that dpkg does not report as installed, in one query.
fn missing_packages(wanted: &[&str]) -> anyhow::Result<Vec<String>> {
    let output = Command::new("dpkg-query")
        .args(["-W", "-f=${Package} ${db:Status-Abbrev}\n"])
        .args(wanted)
        .stderr(Stdio::null())
        .output()
        .context("running dpkg-query")?;
    let listing = String::from_utf8_lossy(&output.stdout);
    let installed: Vec<&str> = listing
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(_, status)| status.starts_with("ii"))
        .map(|(package, _)| package.split(':').next().unwrap_or(package))
        .collect();
    Ok(wanted
        .iter()
        .filter(|p| !installed.contains(p))
        .map(|p| p.to_string())
        .collect())
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

fn sudo_works() -> bool {
    Command::new("sudo")
        .args(["-n", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false)
}

fn require_node() -> anyhow::Result<()> {
    let version = Command::new(if cfg!(windows) { "node.exe" } else { "node" })
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    let major = version.as_deref().and_then(|v| {
        v.trim_start_matches('v')
            .split('.')
            .next()?
            .parse::<u32>()
            .ok()
    });
    match major {
        Some(major) if major >= 20 => Ok(()),
        _ => bail!(
            "Node.js 20 or later with npm is needed for the UI (found {}); \
             on Debian/Ubuntu: https://github.com/nodesource/distributions, or `apt-get install nodejs npm` \
             where the distribution's version is 20+",
            version.unwrap_or_else(|| "none".to_owned())
        ),
    }
}

/// The interoperability tests' independent OpenID provider: `oidc-provider`, pinned exactly in
/// its own package.json and package-lock.json.
const OIDC_PROVIDER_FOLDER: &str = "tests/oidc-provider";

/// `npm ci` in `folder` (relative to the workspace root) when its `node_modules` is missing or
/// older than its lock file.
fn npm_packages(folder: &str, what: &str) -> anyhow::Result<()> {
    let folder = crate::root().join(folder);
    let lock = modified(&folder.join("package-lock.json"))?;
    let installed = modified(&folder.join("node_modules/.package-lock.json")).ok();
    if installed.is_some_and(|installed| installed >= lock) {
        return Ok(());
    }
    println!("xtask: installing {what} (npm ci)");
    shell::run_checked(
        shell::npm()
            .current_dir(&folder)
            .args(["ci", "--no-audit", "--no-fund"]),
    )
}

/// `cargo install NAME --locked` when `program` is not found.
fn cargo_tool(program: &str, crate_name: &str) -> anyhow::Result<()> {
    if shell::find_program(program).is_some() {
        return Ok(());
    }
    println!("xtask: installing {crate_name}");
    shell::run_checked(shell::cargo().args(["install", crate_name, "--locked"]))
}

/// `rustup target add` of the Windows target when rustup does not list it as installed. A target
/// rustup cannot fetch does not fail set-up: one line says so, and the cross-check is skipped.
fn windows_target() -> WindowsTarget {
    if !cfg!(target_os = "linux") {
        return WindowsTarget::Unavailable(
            "it runs on Linux (on Windows, the workspace's clippy checks the Windows build)"
                .to_owned(),
        );
    }
    let rustup = || {
        let mut command = Command::new("rustup");
        // In the workspace, so a toolchain file or override there picks the toolchain.
        command.current_dir(crate::root());
        command
    };
    let listed = rustup()
        .args(["target", "list", "--installed"])
        .stderr(Stdio::null())
        .output();
    match listed {
        Ok(output)
            if output.status.success()
                && String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .any(|line| line.trim() == WINDOWS_TARGET) =>
        {
            return WindowsTarget::Installed;
        }
        Ok(_) => {}
        Err(error) => return unavailable(&not_run(&error)),
    }
    println!("xtask: installing the Windows target {WINDOWS_TARGET} (rustup)");
    let added = rustup()
        .args(["target", "add", WINDOWS_TARGET])
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output();
    match added {
        Ok(output) if output.status.success() => WindowsTarget::Installed,
        Ok(output) => unavailable(&format!(
            "rustup: {}",
            rustup_error(&String::from_utf8_lossy(&output.stderr))
                .unwrap_or_else(|| output.status.to_string())
        )),
        Err(error) => unavailable(&not_run(&error)),
    }
}

fn not_run(error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::NotFound {
        "rustup not found".to_owned()
    } else {
        format!("rustup could not be run: {error}")
    }
}

/// Prints the one line saying the Windows target is missing and why.
fn unavailable(why: &str) -> WindowsTarget {
    let reason = format!("the Windows target {WINDOWS_TARGET} could not be installed ({why})");
    println!(
        "xtask: {reason}; the Windows cross-check is skipped: it is not verified on this machine"
    );
    WindowsTarget::Unavailable(reason)
}

/// The first line of rustup's error (`error: ...`, without the prefix), or else its last line:
/// what went wrong, without the `info:` lines of what it tried before.
fn rustup_error(stderr: &str) -> Option<String> {
    let lines = || {
        stderr
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
    };
    lines()
        .find_map(|line| line.strip_prefix("error:"))
        .map(str::trim)
        .or_else(|| lines().next_back())
        .map(str::to_owned)
}

/// Builds `ui/dist` when any of the UI's sources is newer than it.
pub fn build_ui() -> anyhow::Result<()> {
    let ui = crate::root().join("ui");
    let built = modified(&ui.join("dist/index.html")).ok();
    let mut newest_source = SystemTime::UNIX_EPOCH;
    for input in [
        "index.html",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
        "src",
        "public",
    ] {
        newest_source = newest_source.max(newest_in(&ui.join(input))?);
    }
    if built.is_some_and(|built| built >= newest_source) {
        return Ok(());
    }
    println!("xtask: building the UI");
    shell::run_checked(shell::npm().args(["run", "build"]))
}

fn modified(path: &Path) -> anyhow::Result<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .with_context(|| format!("reading {}", path.display()))
}

/// The newest modification time of a file or of anything below a folder (epoch if absent).
fn newest_in(path: &Path) -> anyhow::Result<SystemTime> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(SystemTime::UNIX_EPOCH);
    };
    let mut newest = meta.modified()?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            newest = newest.max(newest_in(&entry?.path())?);
        }
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustup_error_is_its_first_error_line() {
        let stderr = "info: downloading component 'rust-std'\n\
                      error: component download failed for rust-std-x86_64-pc-windows-gnu\n\
                      Caused by:\n\
                      error: could not download file from 'https://static.rust-lang.org/...'\n";
        assert_eq!(
            rustup_error(stderr).as_deref(),
            Some("component download failed for rust-std-x86_64-pc-windows-gnu")
        );
    }

    #[test]
    fn rustup_error_without_an_error_line_is_its_last_line() {
        assert_eq!(
            rustup_error("info: syncing channel updates\n  network unreachable  \n\n").as_deref(),
            Some("network unreachable")
        );
        assert_eq!(rustup_error(" \n"), None);
    }
}
