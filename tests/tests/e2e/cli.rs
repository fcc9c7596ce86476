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
