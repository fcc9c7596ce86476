//! The `careid` binary, run as a user runs it.

use std::process::Command;

use careid_e2e::binaries;

#[test]
fn keychain_check_proves_the_real_keychain() -> anyhow::Result<()> {
    let service = format!("careid-e2e-cli-{}", std::process::id());
    let output = Command::new(binaries::cli()?)
        .args(["keychain", "check", "--service", &service])
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("keychain: ok"), "{stdout}");
    // gnome-keyring offers DH transport encryption, and careid's session must have agreed a key
    // with it (the value read back above came through that session).
    assert!(
        stdout.contains("backend: Secret Service; secrets encrypted on the bus (dh-ietf1024-sha256-aes128-cbc-pkcs7)"),
        "{stdout}"
    );
    // The test run has a session keyring of its own (`keyctl session -`).
    assert!(
        stdout.contains("access token quick copy: the kernel's session keyring (this user only;"),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn keychain_check_without_a_keychain_exits_7() -> anyhow::Result<()> {
    // No session bus: Secret Service cannot be reached.
    let output = Command::new(binaries::cli()?)
        .args(["keychain", "check", "--service", "careid-e2e-no-bus"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/careid-test-bus",
        )
        .env_remove("DISPLAY")
        .output()?;
    assert_eq!(
        output.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("keychain"), "{stderr}");
    Ok(())
}

#[test]
fn help_documents_the_exit_codes() -> anyhow::Result<()> {
    let output = Command::new(binaries::cli()?).arg("--help").output()?;
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for line in [
        "0  success",
        "2  usage error",
        "7  the OS keychain is unavailable or failing",
    ] {
        assert!(help.contains(line), "missing {line:?} in:\n{help}");
    }
    Ok(())
}

#[test]
fn a_usage_error_exits_2() -> anyhow::Result<()> {
    let output = Command::new(binaries::cli()?)
        .arg("no-such-command")
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    Ok(())
}

/// `doctor` has its rows whatever happens to discovery, in text and JSON: an issuer the provider
/// does not call itself is a FAIL row (exit 3), a provider that cannot be reached a FAIL row
/// (exit 5); an `--issuer` that is no https URL is a mistake on the command line (exit 2).
#[test]
fn doctor_reports_rows_when_discovery_fails_and_a_mistyped_issuer_is_a_usage_error() {
    let mock = careid_e2e::MockHost::start(mock_cis2::MockCis2::new()).expect("the mock starts");
    let world = careid_e2e::CliWorld::new().expect("a test home");
    let issuer = mock.issuer();
    let other_name = if issuer.contains("localhost") {
        issuer.replace("localhost", "127.0.0.1")
    } else {
        issuer.replace("127.0.0.1", "localhost")
    };
    let mismatch = world
        .run(&["--json", "doctor", "--issuer", &other_name])
        .expect("careid runs");
    assert_eq!(mismatch.code, Some(3), "{}", mismatch.text());
    let report = mismatch.json();
    assert_eq!(report["checks"][0]["name"], "Issuer", "{report:#}");
    assert_eq!(report["checks"][0]["status"], "fail");
    assert!(report["checks"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("must match exactly"));
    let text = world
        .run(&["doctor", "--issuer", &other_name])
        .expect("careid runs");
    assert_eq!(text.code, Some(3), "{}", text.text());
    assert!(text.stdout.starts_with("FAIL  Issuer"), "{}", text.text());

    let unreachable = world
        .run(&["--json", "doctor", "--issuer", "http://127.0.0.1:9/nothing"])
        .expect("careid runs");
    assert_eq!(unreachable.code, Some(5), "{}", unreachable.text());
    assert_eq!(unreachable.json()["checks"][0]["name"], "Discovery");

    let mistyped = world
        .run(&["doctor", "--issuer", "foo"])
        .expect("careid runs");
    assert_eq!(mistyped.code, Some(2), "{}", mistyped.text());
    assert!(mistyped.stderr.contains("--issuer"), "{}", mistyped.text());
}

/// With no keychain to keep the session, `login` says so, and how to fix it, before the
/// browser opens (exit 7): the user does not sign in for nothing.
#[test]
fn login_without_a_keychain_fails_before_the_browser_opens() {
    let mut world = careid_e2e::CliWorld::new().expect("a test home");
    world.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/careid-test-bus",
    );
    let run = world
        .run(&["login", "--mock-auto-login", "555057896106"])
        .expect("careid runs");
    assert_eq!(run.code, Some(7), "{}", run.text());
    assert!(
        run.stderr.contains("careid keychain check") && run.stderr.contains("D-Bus"),
        "{}",
        run.text()
    );
    assert!(
        std::fs::read_to_string(world.browser_log())
            .unwrap_or_default()
            .is_empty(),
        "the browser was opened: {}",
        run.text()
    );
}

/// A role the user does not hold is said plainly once the user is known, with the roles they
/// do hold, as a usage error (exit 2); no session is kept.
#[test]
fn login_with_a_role_the_user_does_not_hold_names_the_roles_they_do() {
    let world = careid_e2e::CliWorld::new().expect("a test home");
    let run = world
        .run(&[
            "login",
            "--mock-auto-login",
            "555057896106",
            "--role",
            "999999999999",
        ])
        .expect("careid runs");
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(
        run.stderr.contains("you do not hold role \"999999999999\"")
            && run.stderr.contains("your roles are 555057898108 ("),
        "{}",
        run.text()
    );
    assert!(
        !run.stderr.contains("claims were rejected"),
        "{}",
        run.text()
    );
    let status = world.run(&["status"]).expect("careid runs");
    assert_eq!(status.code, Some(8), "no session kept: {}", status.text());
}
