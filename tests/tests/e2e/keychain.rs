//! The real OS keychain: Secret Service (gnome-keyring) inside the isolated D-Bus session.

use std::process::Command;

use careid_core::{Keychain, SecretString};

/// A service name of this test's own, so parallel tests and the user's entries never meet.
fn test_keychain(name: &str) -> Keychain {
    Keychain::with_service(format!("careid-e2e-{name}-{}", std::process::id()))
}

/// What Secret Service itself holds for an entry, read with libsecret's own tool rather than
/// through careid, so the test proves the real store.
fn secret_tool_lookup(keychain: &Keychain, account: &str) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", keychain.service(), "username", account])
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools)");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn stores_reads_and_deletes_a_4_kib_secret_in_secret_service() {
    let keychain = test_keychain("4kib");
    let account = "profile/user/refresh-token";
    let value: String = (0..4096)
        .map(|i| char::from(b'A' + (i % 26) as u8))
        .collect();
    let secret = SecretString::new(value.clone());

    keychain.store(account, &secret).expect("stored");
    let header = secret_tool_lookup(&keychain, account).expect("Secret Service holds the entry");
    assert!(
        header.starts_with("careid-secret/1"),
        "the head entry is a header: {header:?}"
    );
    assert!(
        !header.contains(&value[..64]),
        "the secret is split into parts, not in the header"
    );

    let loaded = keychain.load(account).expect("read back").expect("present");
    assert_eq!(loaded.expose_secret(), value);

    keychain.delete(account).expect("deleted");
    assert!(keychain.load(account).expect("read after delete").is_none());
    assert_eq!(secret_tool_lookup(&keychain, account), None);
    // Deleting again is not an error.
    keychain.delete(account).expect("deleting nothing");
}

#[test]
fn replacing_a_long_value_with_a_short_one_leaves_no_stale_parts() {
    let keychain = test_keychain("replace");
    let account = "profile/user/refresh-token";
    keychain
        .store(account, &SecretString::new("L".repeat(5000)))
        .expect("long stored");
    keychain
        .store(account, &SecretString::new("short".to_owned()))
        .expect("short stored");
    assert_eq!(
        keychain
            .load(account)
            .expect("read")
            .expect("present")
            .expose_secret(),
        "short"
    );

    // Only the header and one part remain: the long value's five parts are gone.
    let output = Command::new("secret-tool")
        .args(["search", "--all", "service", keychain.service()])
        .output()
        .expect("secret-tool runs");
    let listing = String::from_utf8_lossy(&output.stdout);
    let entries = listing
        .lines()
        .filter(|line| line.starts_with("label = "))
        .count();
    assert_eq!(entries, 2, "{listing}");
    keychain.delete(account).expect("deleted");
}

#[test]
fn a_foreign_value_under_the_account_is_reported_as_damaged() {
    let keychain = test_keychain("foreign");
    let account = "profile/user/refresh-token";
    let status = Command::new("secret-tool")
        .args([
            "store",
            "--label",
            "not careid",
            "service",
            keychain.service(),
            "username",
            account,
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(b"a bare token")?;
            child.wait()
        })
        .expect("secret-tool store runs");
    assert!(status.success());
    let error = keychain
        .load(account)
        .expect_err("a bare value is not a careid entry");
    assert_eq!(error.code(), "keychain_corrupt");
    assert!(!error.to_string().contains("a bare token"), "{error}");
    keychain
        .delete(account)
        .expect("a damaged entry can still be deleted");
    assert_eq!(secret_tool_lookup(&keychain, account), None);
}
