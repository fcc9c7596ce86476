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

    // Only the head entry remains, holding the short value: the long value's five parts are gone.
    let output = Command::new("secret-tool")
        .args(["search", "--all", "service", keychain.service()])
        .output()
        .expect("secret-tool runs");
    let listing = String::from_utf8_lossy(&output.stdout);
    let entries = listing
        .lines()
        .filter(|line| line.starts_with("label = "))
        .count();
    assert_eq!(entries, 1, "{listing}");
    keychain.delete(account).expect("deleted");
}

#[test]
fn values_that_fit_one_entry_are_kept_whole_and_longer_ones_split() {
    let keychain = test_keychain("inline");
    let account = "profile/user/refresh-token";
    let entries = || {
        let output = Command::new("secret-tool")
            .args(["search", "--all", "service", keychain.service()])
            .output()
            .expect("secret-tool runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| line.starts_with("label = "))
            .count()
    };
    // The largest value kept whole: 1,200 UTF-16 units with the marker, under Windows' limit.
    let marker = "careid-secret/1 inline ".len();
    let cases = [
        ("empty", String::new(), 1),
        ("a token", "t0k3n.with-dots_and~more".to_owned(), 1),
        ("the largest whole value", "w".repeat(1_200 - marker), 1),
        ("one more character", "w".repeat(1_200 - marker + 1), 2),
        ("astral characters", "𝄞".repeat(700), 3),
        ("back to short", "short again".to_owned(), 1),
    ];
    for (name, value, expected_entries) in cases {
        keychain
            .store(account, &SecretString::new(value.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let loaded = keychain.load(account).expect("read").expect("present");
        assert_eq!(loaded.expose_secret(), value, "{name}");
        assert_eq!(
            entries(),
            expected_entries,
            "{name}: entries in Secret Service"
        );
    }
    keychain.delete(account).expect("deleted");
    assert_eq!(entries(), 0, "nothing left after delete");
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

/// The D-Bus connections this process holds, apart from `query` itself: the bus daemon knows
/// each connection's process id.
fn bus_connections_of_this_process(query: &dbus::blocking::Connection) -> usize {
    let bus = query.with_proxy(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        std::time::Duration::from_secs(5),
    );
    let (names,): (Vec<String>,) = bus
        .method_call("org.freedesktop.DBus", "ListNames", ())
        .expect("the bus lists its connections");
    let ours = names
        .iter()
        .filter(|name| name.starts_with(':'))
        .filter(|name| {
            let pid: Result<(u32,), _> = bus.method_call(
                "org.freedesktop.DBus",
                "GetConnectionUnixProcessID",
                (*name,),
            );
            pid.ok().map(|(pid,)| pid) == Some(std::process::id())
        })
        .count();
    ours - 1
}

#[test]
fn a_process_keeps_one_secret_service_connection_for_all_its_operations() {
    let keychain = test_keychain("one-connection");
    let query = dbus::blocking::Connection::new_session().expect("the test's session bus");
    assert_eq!(
        bus_connections_of_this_process(&query),
        0,
        "nothing opened yet"
    );

    // Long values (several parts each), replaced, read and deleted: dozens of Secret Service calls.
    for round in 0..5 {
        let account = format!("profile/user-{round}/refresh-token");
        keychain
            .store(&account, &SecretString::new("v".repeat(3000)))
            .expect("stored");
        keychain
            .store(&account, &SecretString::new(format!("rotated-{round}")))
            .expect("replaced");
        assert_eq!(
            keychain
                .load(&account)
                .expect("read")
                .expect("present")
                .expose_secret(),
            format!("rotated-{round}")
        );
        keychain.delete(&account).expect("deleted");
    }
    assert_eq!(
        bus_connections_of_this_process(&query),
        1,
        "every keychain operation used the same connection (and so one DH session)"
    );
}
