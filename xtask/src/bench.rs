//! `cargo xtask bench [NAME...]`: the benchmarks, built in the release (bench) profile, run one
//! after another in the same isolated environment as the tests (a private session bus with an
//! unlocked gnome-keyring, a temporary home, a session kernel keyring), since signing in stores
//! a refresh token in the OS keychain. Each bench prints its own numbers; the summary repeats
//! their result lines. `desktop` is not a cargo bench: xtask itself launches the desktop app and
//! a bare Tauri window on the environment's display (`desktop_bench.rs`).

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Context;

use crate::isolation::TestEnvironment;
use crate::{setup, shell};

/// (package, bench target): the mock's login rate, callback to signed in, `careid token`, the
/// broker's token relays and listeners, and the broker's soak (ten minutes, with faults).
const BENCHES: &[(&str, &str)] = &[
    ("mock-cis2", "logins"),
    ("careid-core", "signin"),
    ("careid-cli", "token"),
    ("careid-broker", "broker-relay"),
    ("careid-broker", "broker-listeners"),
    ("careid-broker", "broker-soak"),
];

/// Features a package's benches are built with: the broker program counts the bytes it holds,
/// for the soak's leak check (`count-heap`; it changes nothing the other broker benches measure,
/// which serve the broker in their own process). The same for every bench of a package, so one
/// build serves them all.
fn bench_features(package: &str) -> Option<&'static str> {
    (package == "careid-broker").then_some("careid-broker/count-heap")
}

/// The desktop app's launch time and memory against a bare Tauri window, run by xtask itself.
const DESKTOP: &str = "desktop";

/// Runs every bench, or those named in `names` (bench target names, or `desktop`).
pub fn run(names: &[String]) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let wanted = |bench: &str| names.is_empty() || names.iter().any(|name| name == bench);
    let selected: Vec<(&str, &str)> = BENCHES
        .iter()
        .copied()
        .filter(|(_, bench)| wanted(bench))
        .collect();
    let desktop = wanted(DESKTOP);
    if selected.is_empty() && !desktop {
        let mut known: Vec<&str> = BENCHES.iter().map(|(_, bench)| *bench).collect();
        known.push(DESKTOP);
        anyhow::bail!(
            "no bench named {names:?}; the benches are {}",
            known.join(", ")
        );
    }
    setup::prepare(setup::Needs::Bench)?;

    // Everything built first, outside the environment, so build time is never measured.
    if !selected.is_empty() {
        let mut build = shell::cargo();
        build.args(["bench", "--locked", "--no-run"]);
        for (package, bench) in &selected {
            build.args(["--package", package, "--bench", bench]);
            if let Some(features) = bench_features(package) {
                build.args(["--features", features]);
            }
        }
        shell::run_checked(&mut build)?;
    }
    let desktop_binaries = if desktop {
        Some(crate::desktop_bench::build()?)
    } else {
        None
    };

    let environment = TestEnvironment::start()?;
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for (package, bench) in &selected {
        println!("xtask: ── bench {bench} ({package})");
        // A session keyring of its own, as for the tests (the Linux kernel keyring backend).
        let mut command = Command::new("keyctl");
        command
            .args(["session", "-"])
            .arg(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "bench",
                "--locked",
                "--quiet",
                "--package",
                package,
                "--bench",
                bench,
            ])
            .current_dir(crate::root())
            .stdout(Stdio::piped());
        if let Some(features) = bench_features(package) {
            command.args(["--features", features]);
        }
        environment.apply(&mut command);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting bench {bench}"))?;
        let stdout = child.stdout.take().context("the bench's stdout")?;
        // Passed straight through, and the lines without indentation kept for the summary.
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if !line.is_empty() && !line.starts_with(char::is_whitespace) {
                results.push(line);
            }
        }
        if !child.wait()?.success() {
            failed.push(*bench);
        }
    }
    if let Some(binaries) = &desktop_binaries {
        println!("xtask: ── bench {DESKTOP} (careid-desktop against bare-window)");
        match crate::desktop_bench::run(&environment, binaries) {
            Ok(lines) => results.extend(lines),
            Err(error) => {
                println!("xtask: bench {DESKTOP}: {error:#}");
                failed.push(DESKTOP);
            }
        }
    }
    drop(environment);

    println!();
    for line in &results {
        println!("xtask: {line}");
    }
    for bench in &failed {
        println!("xtask: failed: bench {bench}");
    }
    println!(
        "xtask: {} benches run, {} failed ({:.0}s)",
        selected.len() + usize::from(desktop),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
