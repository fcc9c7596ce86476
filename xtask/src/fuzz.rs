//! `cargo xtask fuzz [TARGET] [--seconds N]`: careid's fuzz targets (`fuzz/`, cargo-fuzz and
//! libFuzzer), one after another, each for a fixed time.
//!
//! The nightly toolchain builds them where rustup has one; otherwise stable with
//! `RUSTC_BOOTSTRAP=1` (sanitizer flags are nightly-only). cargo-fuzz is installed when missing.
//! Each target reads the committed seeds in `fuzz/corpus/<target>/` and grows a working corpus
//! in `target/fuzz/corpus/<target>/`, so the repository's corpora stay small. A crash's input
//! is saved under `fuzz/artifacts/<target>/` (git-ignored) and named in the failure.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Context;

use crate::shell;

/// The targets, in the order they run: `fuzz/fuzz_targets/<name>.rs`.
pub const TARGETS: [&str; 5] = [
    "callback",
    "jwt",
    "provider_documents",
    "profiles",
    "keychain_header",
];

/// How long each target runs when no `--seconds` is given: the release bar.
const DEFAULT_SECONDS: u64 = 600;

/// How long each target runs within `cargo xtask test`.
pub const TEST_SECONDS: u64 = 10;

/// The longest input per target: the callback must reach past the listener's 8 KiB head limit.
fn max_len(target: &str) -> u32 {
    match target {
        "callback" => 10_240,
        _ => 8_192,
    }
}

/// What one target's run came to, from libFuzzer's final statistics.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub runs: u64,
    pub seconds: u64,
    pub corpus: usize,
}

/// `cargo xtask fuzz`: parses the arguments and runs the targets.
pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|seconds| *seconds > 0)
                    .context("--seconds takes a whole number of seconds")?;
            }
            target if TARGETS.contains(&target) => targets.push(target),
            other => anyhow::bail!(
                "unknown fuzz target or option {other:?}; targets: {}",
                TARGETS.join(", ")
            ),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    match run_targets(&targets, seconds) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("xtask: {error:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Builds the targets once, then runs each for `seconds`; the first crash stops the run with
/// an error naming the target and the saved input.
pub fn run_targets(targets: &[&str], seconds: u64) -> anyhow::Result<()> {
    ensure_cargo_fuzz()?;
    let started = Instant::now();
    shell::run_checked(cargo_fuzz().arg("build").args(build_options()))?;
    println!(
        "xtask: fuzz targets built ({:.0}s)",
        started.elapsed().as_secs_f64()
    );
    let mut summary = Vec::new();
    for target in targets {
        let figures = run_target(target, seconds)?;
        summary.push(format!(
            "xtask: fuzz {target}: {} runs in {} s, corpus {} inputs, no crash",
            figures.runs, figures.seconds, figures.corpus
        ));
    }
    for line in summary {
        println!("{line}");
    }
    Ok(())
}

/// The build options shared by `build` and `run`, so `run` finds the build up to date:
/// debug assertions and overflow checks on (cargo-fuzz's default), AddressSanitizer.
fn build_options() -> [&'static str; 4] {
    ["--target-dir", "target/fuzz", "--codegen-units", "16"]
}

fn run_target(target: &str, seconds: u64) -> anyhow::Result<Figures> {
    let root = crate::root();
    let seeds = root.join("fuzz/corpus").join(target);
    let work = shell::target_dir().join("fuzz/corpus").join(target);
    let artifacts = root.join("fuzz/artifacts").join(target);
    let logs = shell::target_dir().join("fuzz/logs");
    fs::create_dir_all(&work)?;
    fs::create_dir_all(&artifacts)?;
    fs::create_dir_all(&logs)?;
    let log_path = logs.join(format!("{target}.log"));
    let before = files_in(&artifacts);
    println!(
        "xtask: ── fuzz {target} for {seconds} s (log: {})",
        log_path.display()
    );
    let log = fs::File::create(&log_path)?;
    let status = cargo_fuzz()
        .args(["run", target])
        .args(build_options())
        .arg(&work)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-max_len={}", max_len(target)))
        .args(["-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"])
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .status()
        .context("could not start cargo fuzz")?;
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    let crashes: Vec<PathBuf> = files_in(&artifacts).difference(&before).cloned().collect();
    if !status.success() || !crashes.is_empty() {
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
        anyhow::bail!(
            "fuzz target {target} failed ({status}); input saved: {}; reproduce with \
             `cargo +nightly fuzz run {target} <input>`",
            if crashes.is_empty() {
                "none (see the log)".to_owned()
            } else {
                crashes
                    .iter()
                    .map(|path| path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    let mut figures = figures(&text).context("libFuzzer printed no final statistics")?;
    figures.corpus = files_in(&work).len();
    Ok(figures)
}

/// The runs and seconds of libFuzzer's `Done N runs in S second(s)` line.
pub fn figures(log: &str) -> Option<Figures> {
    let line = log.lines().rev().find(|line| line.starts_with("Done "))?;
    let mut words = line.split_whitespace();
    let runs = words.nth(1)?.parse().ok()?;
    let seconds = words.nth(2)?.parse().ok()?;
    Some(Figures {
        runs,
        seconds,
        corpus: 0,
    })
}

fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether rustup has a nightly toolchain here.
fn has_nightly() -> bool {
    Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .is_ok_and(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .any(|line| line.starts_with("nightly"))
        })
}

/// `cargo fuzz` on nightly, or on this toolchain with `RUSTC_BOOTSTRAP=1`, from the root (where
/// cargo-fuzz finds `fuzz/`).
fn cargo_fuzz() -> Command {
    let mut command = if has_nightly() {
        // rustup's proxy, which understands `+nightly`; the toolchain this xtask runs on would
        // otherwise win through RUSTUP_TOOLCHAIN.
        let mut command = Command::new("cargo");
        command.arg("+nightly").env_remove("RUSTUP_TOOLCHAIN");
        command
    } else {
        let mut command = shell::cargo();
        command.env("RUSTC_BOOTSTRAP", "1");
        command
    };
    command
        .arg("fuzz")
        .current_dir(crate::root())
        .env_remove("CARGO")
        .env_remove("RUSTC");
    command
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    if shell::find_program("cargo-fuzz").is_some() {
        return Ok(());
    }
    println!("xtask: installing cargo-fuzz");
    shell::run_checked(shell::cargo().args(["install", "cargo-fuzz", "--locked"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzers_final_line() {
        let log = "#1048576\tpulse  cov: 812 ft: 2301 corp: 140/9Kb exec/s: 34952\n\
                   Done 10462188 runs in 301 second(s)\n\
                   stat::number_of_executed_units: 10462188\n";
        assert_eq!(
            figures(log),
            Some(Figures {
                runs: 10_462_188,
                seconds: 301,
                corpus: 0
            })
        );
        assert_eq!(figures("==1== ERROR: libFuzzer: deadly signal\n"), None);
    }

    #[test]
    fn every_target_has_a_source_and_seeds() {
        let root = crate::root();
        for target in TARGETS {
            assert!(root
                .join(format!("fuzz/fuzz_targets/{target}.rs"))
                .is_file());
            assert!(files_in(&root.join("fuzz/corpus").join(target)).len() >= 2);
        }
    }
}
