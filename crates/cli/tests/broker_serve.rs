//! `careid broker serve` runs the `careid-broker` program found beside `careid`, with the same
//! arguments, in place of itself: same process, so SIGTERM and the exit status are the broker's.
//! The broker itself is tested in crates/broker/tests/serve.rs.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder holding a copy of the built `careid` (a hard link when it can be), so a test decides
/// what sits beside it. Under cargo's target folder: the same file system as the binary.
fn careid_alone() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let careid = dir.path().join("careid");
    let built = Path::new(env!("CARGO_BIN_EXE_careid"));
    if std::fs::hard_link(built, &careid).is_err() {
        std::fs::copy(built, &careid).unwrap();
    }
    (dir, careid)
}

#[test]
fn broker_serve_becomes_the_careid_broker_beside_careid() {
    let (dir, careid) = careid_alone();
    // Prints its process id and arguments, and exits with a code of its own.
    let broker = dir.path().join("careid-broker");
    std::fs::write(&broker, "#!/bin/sh\necho \"$$ $*\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&broker, std::fs::Permissions::from_mode(0o755)).unwrap();

    let child = Command::new(&careid)
        .args(["broker", "serve", "--config", "my broker.toml"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("{pid} serve --config my broker.toml")
    );
}

#[test]
fn broker_serve_names_the_missing_careid_broker() {
    let (dir, careid) = careid_alone();
    let output = Command::new(&careid)
        .args(["broker", "serve", "--config", "broker.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    let expected = dir.path().join("careid-broker");
    assert!(
        said.starts_with(&format!("careid: {} is not installed", expected.display())),
        "{said}"
    );
    assert!(said.contains("careid-broker package"), "{said}");
}

/// The real broker, as built beside `careid` by the workspace build `cargo xtask test` runs.
#[test]
fn broker_serve_runs_the_built_careid_broker() {
    let careid = Path::new(env!("CARGO_BIN_EXE_careid"));
    let broker = careid.with_file_name(format!("careid-broker{}", std::env::consts::EXE_SUFFIX));
    assert!(
        broker.is_file(),
        "{} is not built: run `cargo xtask test`, or `cargo build -p careid-broker` first",
        broker.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("broker.toml");
    std::fs::write(&config, "listen = \"everywhere\"\n").unwrap();
    let output = Command::new(careid)
        .args(["broker", "serve", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // The broker's own log: one JSON object naming the configuration.
    let log = String::from_utf8_lossy(&output.stderr);
    let line: serde_json::Value = serde_json::from_str(log.trim()).expect("a JSON log line");
    assert_eq!(line["fields"]["message"], "the careid broker cannot run");
    assert!(log.contains("broker.toml"), "{log}");
}
