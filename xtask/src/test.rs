//! `cargo xtask test`: every check, then one summary line `N passed, N failed` (and `, N skipped`
//! when a check was skipped).
//!
//! Each check counts once; the UI's and Rust's test suites count each test, read from their
//! reports (vitest JSON, nextest JUnit). A check that cannot run counts as failed, except the
//! Windows cross-check where set-up could not install the target: it is skipped, with the reason
//! (failed with `CAREID_REQUIRE_WINDOWS_CHECK=1`).

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::isolation::TestEnvironment;
use crate::{fuzz, setup, shell};

#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failed: usize,
    failures: Vec<String>,
    skipped: Vec<String>,
}

impl Tally {
    fn check(&mut self, name: &str, command: &mut Command) -> bool {
        let started = Instant::now();
        println!("xtask: ── {name}");
        let ok = command
            .status()
            .map(|status| status.success())
            .unwrap_or_else(|error| {
                eprintln!("xtask: could not start {name}: {error}");
                false
            });
        println!(
            "xtask: {} {name} ({:.1}s)",
            if ok { "ok" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        self.count(name, ok);
        ok
    }

    fn count(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(name.to_owned());
        }
    }

    fn skip(&mut self, name: &str, reason: &str) {
        println!("xtask: ── {name}");
        println!("xtask: skipped {name}: {reason}");
        self.skipped.push(format!("{name}: {reason}"));
    }

    /// Adds a test suite's own counts; a suite that did not complete, or left no report,
    /// also counts as one failure, so a crash can never read as success.
    fn suite(&mut self, name: &str, completed: bool, counts: Option<(usize, usize)>) {
        let (passed, failed) = counts.unwrap_or((0, 0));
        self.passed += passed;
        self.failed += failed;
        if failed > 0 {
            self.failures.push(format!("{name}: {failed} failed"));
        } else if !completed || counts.is_none() {
            self.count(&format!("{name} (did not complete)"), false);
        }
    }
}

/// Every check; with `filters`, only the Rust tests they select (nextest filters), in the same
/// isolated environment, for a quick loop while working on one test.
pub fn run(filters: &[String]) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let prepared = setup::prepare(setup::Needs::Tests)?;
    let mut tally = Tally::default();
    if filters.is_empty() {
        static_checks(&mut tally, &prepared.windows_target)?;
    } else {
        tally.count("UI build", setup::build_ui().is_ok());
    }
    // Tests and binaries in one build, so the end-to-end suite finds the app and the CLI and
    // nextest finds everything already compiled with the same features.
    let built = tally.check(
        "cargo build",
        shell::cargo().args(["build", "--workspace", "--all-targets", "--locked"]),
    );
    if built {
        rust_tests(&mut tally, filters)?;
    }
    if filters.is_empty() && cfg!(target_os = "linux") {
        installers(&mut tally);
    }

    println!();
    for skipped in &tally.skipped {
        println!("xtask: skipped: {skipped}");
    }
    for failure in &tally.failures {
        println!("xtask: failed: {failure}");
    }
    let skipped = match tally.skipped.len() {
        0 => String::new(),
        count => format!(", {count} skipped"),
    };
    println!(
        "{} passed, {} failed{skipped} ({:.0}s)",
        tally.passed,
        tally.failed,
        started.elapsed().as_secs_f64()
    );
    Ok(if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Formatting, the UI's type check, tests and build, clippy (and for Windows), and a short run of
/// each fuzz target.
fn static_checks(tally: &mut Tally, windows_target: &setup::WindowsTarget) -> anyhow::Result<()> {
    let reports = crate::root().join("target/xtask");
    std::fs::create_dir_all(&reports)?;
    tally.check(
        "cargo fmt --check",
        shell::cargo().args(["fmt", "--all", "--check"]),
    );
    // The fuzz crate is a workspace of its own, outside `--all`.
    tally.check(
        "cargo fmt --check (fuzz)",
        shell::cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"]),
    );

    tally.check("UI type check", shell::npm().args(["run", "check"]));
    let vitest_report = reports.join("vitest.json");
    let _ = std::fs::remove_file(&vitest_report);
    let ui_ran = shell::npm()
        .args(["test", "--", "--reporter=default", "--reporter=json"])
        .arg(format!("--outputFile.json={}", vitest_report.display()))
        .status()
        .is_ok_and(|status| status.success());
    tally.suite("UI tests", ui_ran, vitest_counts(&vitest_report));

    let ui_built = setup::build_ui().is_ok();
    tally.count("UI build", ui_built);

    tally.check(
        "cargo clippy",
        shell::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    );
    windows_clippy(tally, windows_target);

    // Each fuzz target for a short while: a crash fails the run and names the saved input.
    let started = Instant::now();
    let name = format!("fuzz ({} s per target)", fuzz::TEST_SECONDS);
    println!("xtask: ── {name}");
    let fuzzed = fuzz::run_targets(&fuzz::TARGETS, fuzz::TEST_SECONDS)
        .inspect_err(|error| eprintln!("xtask: {error:#}"))
        .is_ok();
    println!(
        "xtask: {} {name} ({:.1}s)",
        if fuzzed { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    tally.count(&name, fuzzed);
    Ok(())
}

/// What to do with the Windows cross-check.
#[derive(Debug, PartialEq, Eq)]
enum WindowsCheck<'a> {
    Run,
    Skip(&'a str),
    Fail(&'a str),
}

/// Runs when the target is installed; otherwise skipped, or failed when the run requires it
/// (`CAREID_REQUIRE_WINDOWS_CHECK=1`, for a CI that can fetch the target).
fn windows_check(target: &setup::WindowsTarget, required: bool) -> WindowsCheck<'_> {
    match target {
        setup::WindowsTarget::Installed => WindowsCheck::Run,
        setup::WindowsTarget::Unavailable(reason) if required => WindowsCheck::Fail(reason),
        setup::WindowsTarget::Unavailable(reason) => WindowsCheck::Skip(reason),
    }
}

/// Whether `CAREID_REQUIRE_WINDOWS_CHECK` asks for the Windows cross-check.
fn windows_check_required(value: Option<&str>) -> bool {
    value == Some("1")
}

/// The app and the CLI linted for Windows, so a change that breaks their Windows build fails here.
fn windows_clippy(tally: &mut Tally, target: &setup::WindowsTarget) {
    let name = format!("cargo clippy --target {}", setup::WINDOWS_TARGET);
    let required = windows_check_required(
        std::env::var("CAREID_REQUIRE_WINDOWS_CHECK")
            .ok()
            .as_deref(),
    );
    match windows_check(target, required) {
        // `--all-targets`: both packages' dev-dependencies build for Windows (Tauri's `test`
        // feature, tempfile, ureq; careid-test-fixtures' aws-lc-rs, axum, reqwest, rustls,
        // tokio), and their Unix-only tests and helpers are behind `cfg(unix)`. Cross builds live
        // in the same target folder, under `x86_64-pc-windows-gnu/`.
        WindowsCheck::Run => {
            tally.check(
                &name,
                shell::cargo().args([
                    "clippy",
                    "--target",
                    setup::WINDOWS_TARGET,
                    "--package",
                    "careid-desktop",
                    "--package",
                    "careid-cli",
                    "--all-targets",
                    "--locked",
                    "--",
                    "-D",
                    "warnings",
                ]),
            );
        }
        WindowsCheck::Skip(reason) => tally.skip(&name, reason),
        WindowsCheck::Fail(reason) => {
            println!("xtask: ── {name}");
            println!("xtask: FAILED {name}: {reason}; CAREID_REQUIRE_WINDOWS_CHECK=1 requires it");
            tally.count(
                &format!("{name} ({reason}; CAREID_REQUIRE_WINDOWS_CHECK=1)"),
                false,
            );
        }
    }
}

/// The installers (`bundle.rs`): the release `.deb`s (the app's, built with the Tauri bundler,
/// and the broker's), installed into a fresh Debian root, their `--version` run, the broker's
/// unit verified and the app started under Xvfb.
fn installers(tally: &mut Tally) {
    let started = Instant::now();
    let name = "installed .debs (fresh Debian root, broker unit, app under Xvfb)";
    println!("xtask: ── {name}");
    let ok = crate::bundle::build()
        .and_then(|bundles| {
            let (deb, broker_deb) = bundles.debs()?;
            crate::bundle::test_installed(deb, broker_deb)
        })
        .inspect_err(|error| eprintln!("xtask: {error:#}"))
        .is_ok();
    println!(
        "xtask: {} {name} ({:.1}s)",
        if ok { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    tally.count(name, ok);
}

/// Every Rust test (or those `filters` select) inside the isolated environment.
fn rust_tests(tally: &mut Tally, filters: &[String]) -> anyhow::Result<()> {
    let root = crate::root();
    let junit = root.join("target/nextest/xtask/junit.xml");
    let _ = std::fs::remove_file(&junit);
    let mut environment = TestEnvironment::start()?;
    environment.start_redis()?;
    // A session keyring of its own for the test run (the Linux kernel keyring backend).
    let mut nextest = Command::new("keyctl");
    nextest
        .args(["session", "-"])
        .arg(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    nextest
        .args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--profile",
            "xtask",
            "--no-fail-fast",
        ])
        .args(filters)
        .current_dir(&root);
    environment.apply(&mut nextest);
    // CI shows an excerpt of a failure's output: the message, not a hundred lines of frames.
    // CAREID_TEST_BACKTRACE=1 keeps them for a run by hand.
    if std::env::var_os("CAREID_TEST_BACKTRACE").is_none() {
        nextest
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0");
    }
    let ran = nextest.status().is_ok_and(|status| status.success());
    drop(environment);
    tally.suite("Rust tests", ran, junit_counts(&junit));
    Ok(())
}

/// (passed, failed) from vitest's JSON report.
fn vitest_counts(report: &Path) -> Option<(usize, usize)> {
    let text = std::fs::read_to_string(report).ok()?;
    let number = |key: &str| -> Option<usize> {
        let start = text.find(&format!("\"{key}\":"))? + key.len() + 3;
        let digits: String = text[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    Some((number("numPassedTests")?, number("numFailedTests")?))
}

/// (passed, failed) from nextest's JUnit report.
fn junit_counts(report: &Path) -> Option<(usize, usize)> {
    let text = std::fs::read_to_string(report).ok()?;
    let cases = text.matches("<testcase ").count();
    let failed = text.matches("<failure").count() + text.matches("<error").count();
    Some((cases.saturating_sub(failed), failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("xtask-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("write report");
        path
    }

    #[test]
    fn reads_vitest_counts() {
        let path = write(
            "vitest.json",
            r#"{"numFailedTests":1,"numPassedTests":12,"numTotalTests":13}"#,
        );
        assert_eq!(vitest_counts(&path), Some((12, 1)));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn reads_junit_counts() {
        let xml = r#"<testsuites><testsuite><testcase name="a"/><testcase name="b"><failure message="x"/></testcase><testcase name="c"/></testsuite></testsuites>"#;
        let path = write("junit.xml", xml);
        assert_eq!(junit_counts(&path), Some((2, 1)));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn windows_check_runs_skips_or_fails() {
        let missing = setup::WindowsTarget::Unavailable("no rust-std".to_owned());
        assert_eq!(
            windows_check(&setup::WindowsTarget::Installed, false),
            WindowsCheck::Run
        );
        assert_eq!(
            windows_check(&setup::WindowsTarget::Installed, true),
            WindowsCheck::Run
        );
        assert_eq!(
            windows_check(&missing, false),
            WindowsCheck::Skip("no rust-std")
        );
        assert_eq!(
            windows_check(&missing, true),
            WindowsCheck::Fail("no rust-std")
        );
    }

    #[test]
    fn only_1_requires_the_windows_check() {
        assert!(windows_check_required(Some("1")));
        assert!(!windows_check_required(Some("0")));
        assert!(!windows_check_required(Some("")));
        assert!(!windows_check_required(None));
    }

    #[test]
    fn a_skipped_check_is_neither_passed_nor_failed() {
        let mut tally = Tally::default();
        tally.skip("cargo clippy --target x86_64-pc-windows-gnu", "no target");
        assert_eq!((tally.passed, tally.failed), (0, 0));
        assert_eq!(
            tally.skipped,
            ["cargo clippy --target x86_64-pc-windows-gnu: no target"]
        );
    }

    #[test]
    fn missing_report_counts_as_a_failure() {
        let mut tally = Tally::default();
        tally.suite(
            "Rust tests",
            false,
            junit_counts(Path::new("/nonexistent/junit.xml")),
        );
        assert_eq!((tally.passed, tally.failed), (0, 1));
    }
}
