//! `cargo xtask`: the project's set-up and orchestration, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask run`: installs what is missing, builds the UI and the app, opens the window.
//! - `cargo xtask test [FILTER...]`: installs what is missing, then runs every check and prints
//!   one summary; filters narrow it to the Rust tests they select.
//! - `cargo xtask bundle [--test]`: the installers (Linux `.deb`s of the app and of the broker,
//!   and the AppImage; Windows NSIS and MSI), from release builds; `--test` installs the `.deb`s
//!   into a fresh Debian root and starts them.
//! - `cargo xtask bench [NAME...]`: the benchmarks, in the tests' isolated environment; `desktop`
//!   launches the app against a bare Tauri window.
//! - `cargo xtask fuzz [TARGET] [--seconds N]`: the fuzz targets in `fuzz/`, each for N seconds.
//! - `cargo xtask screenshot`: renders the app under Xvfb into `docs/screenshots/`.
//! - `cargo xtask icons`: regenerates `icons/` from `icons/source.png`.

mod bench;
mod bundle;
mod desktop_bench;
mod fuzz;
mod icons;
mod isolation;
#[cfg(target_os = "linux")]
mod observe;
mod setup;
mod shell;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [--release]   install what is missing, build the UI and the app, open the careid window
  test [FILTER...]  install what is missing, then run every check (fmt, clippy, clippy for
                    Windows, Rust tests, UI type check and tests, desktop end-to-end suite,
                    the installed .deb);
                    with nextest filters, only the Rust tests they select, in the same
                    isolated environment
  bundle [--test [--deb PATH --broker-deb PATH]]
                    build the installers from release builds with the Tauri bundler: on Linux
                    the .deb (app and careid CLI), the careid-broker .deb and, when
                    linuxdeploy's tools are present, the AppImage; on Windows NSIS and MSI;
                    with --test, install both .debs into a fresh Debian root, verify the
                    broker's unit and start the installed app under Xvfb (root, Debian);
                    --test --deb PATH --broker-deb PATH tests packages built before, without
                    building
  bench [NAME...]   run the benchmarks (logins, signin, token, desktop) in release builds,
                    inside the tests' isolated environment (private keychain, display);
                    with names, only those
  fuzz [TARGET...] [--seconds N]
                    run the fuzz targets (callback, jwt, provider_documents, profiles,
                    keychain_header), each for N seconds (600 by default); fails on a crash
  screenshot        render the app under Xvfb into docs/screenshots/
  icons             regenerate the icon set in icons/ from icons/source.png";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(args.iter().any(|arg| arg == "--release")),
        Some("test") => test::run(&args[1..]),
        Some("bundle") => bundle::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("screenshot") => screenshot(),
        Some("icons") => regenerate_icons(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one folder below it.
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask has a parent folder")
        .to_path_buf()
}

fn run(release: bool) -> anyhow::Result<ExitCode> {
    setup::prepare(setup::Needs::App)?;
    setup::build_ui()?;
    let mut build = shell::cargo();
    build.args(["build", "--package", "careid-desktop"]);
    if release {
        build.arg("--release");
    } else {
        // The same targets as `cargo xtask test` builds, so the debug app is the very binary the
        // end-to-end suite drives, and switching between the two commands rebuilds nothing.
        build.arg("--all-targets");
    }
    shell::run_checked(&mut build)?;
    let binary = shell::target_dir()
        .join(if release { "release" } else { "debug" })
        .join(format!("careid-desktop{}", std::env::consts::EXE_SUFFIX));
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        anyhow::bail!(
            "no display: set DISPLAY (or run under `xvfb-run cargo xtask run`); \
             `cargo xtask screenshot` renders the window without one"
        );
    }
    println!("xtask: starting {}", binary.display());
    let status = std::process::Command::new(binary).status()?;
    Ok(shell::exit_code(status))
}

fn screenshot() -> anyhow::Result<ExitCode> {
    setup::prepare(setup::Needs::Tests)?;
    setup::build_ui()?;
    shell::run_checked(shell::cargo().args([
        "build",
        "--package",
        "careid-desktop",
        "--package",
        "careid-cli",
        "--package",
        "careid-e2e",
        "--bins",
    ]))?;
    let out_dir = root().join("docs/screenshots");
    std::fs::create_dir_all(&out_dir)?;
    // Each size in a world of its own (display, bus, keychain): twenty launches in one Xvfb
    // left WebKitWebDriver unable to answer the next window resize.
    for size in ["desktop", "tablet"] {
        let environment = isolation::TestEnvironment::start()?;
        let mut capture = std::process::Command::new(
            shell::target_dir()
                .join("debug")
                .join(format!("screenshot{}", std::env::consts::EXE_SUFFIX)),
        );
        capture.arg(&out_dir).arg(size);
        environment.apply(&mut capture);
        let status = capture.status()?;
        drop(environment);
        if !status.success() {
            return Ok(shell::exit_code(status));
        }
    }
    println!("xtask: screenshots written to {}", out_dir.display());
    Ok(ExitCode::SUCCESS)
}

fn regenerate_icons() -> anyhow::Result<ExitCode> {
    let icons_dir = root().join("icons");
    let written = icons::generate(&icons_dir.join("source.png"), &icons_dir)?;
    for path in written {
        println!("xtask: wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
