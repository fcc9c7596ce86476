//! Sessions through the real OS keychain (Secret Service, which `cargo xtask test` provides) and
//! a real state folder, and the session lock across handles and processes.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use careid_core::session::{self, refresh_token_account};
use careid_core::{
    AccessToken, EndReason, Keychain, Loaded, RefreshToken, Restored, SecretString, SessionEnd,
    SessionFacts, SessionLock, SessionPolicy, SessionStore, SignedOutReason, Verdict,
};

/// A store over a keychain service and a state folder of this test alone, so tests run in
/// parallel and never touch a user's own sessions.
struct TestStore {
    store: SessionStore,
    keychain: Keychain,
    _dir: tempfile::TempDir,
}

impl TestStore {
    /// The profile's session lock, which every change to a stored session takes.
    fn lock(&self, profile: &str) -> SessionLock {
        SessionLock::acquire(self.store.state_dir(), profile, Duration::from_secs(5))
            .expect("session lock")
    }
}

fn test_store(name: &str) -> TestStore {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let keychain = Keychain::with_service(format!(
        "careid-test-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    TestStore {
        store: SessionStore::new(keychain.clone(), dir.path().join("state")),
        keychain,
        _dir: dir,
    }
}

/// libsecret's own tool, so damage is done (and checked) by a client other than careid.
fn secret_tool(args: &[&str]) -> std::process::Output {
    std::process::Command::new("secret-tool")
        .args(args)
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools)")
}

/// Overwrites the entry careid keeps for `account` (the same attributes careid searches by).
fn secret_tool_store(keychain: &Keychain, account: &str, value: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("secret-tool")
        .args(["store", "--label=test", "service", keychain.service()])
        .args([
            "username",
            account,
            "target",
            "default",
            "application",
            "careid",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(value.as_bytes())
        .expect("written");
    assert!(
        child.wait().expect("secret-tool ends").success(),
        "secret-tool store"
    );
}

fn facts(sub: &str) -> SessionFacts {
    SessionFacts {
        profile: "mock".into(),
        sub: sub.into(),
        name: None,
        auth_time: 1_750_000_000,
        last_activity: 1_750_000_000,
        selected_role_id: Some("555254242106".into()),
        role: None,
        sid: Some("b2e1c3d4-sid".into()),
        assurance_level: Some(3),
        stored_at: 1_750_000_000,
    }
}

/// A refresh token of `len` characters that no other text in a file could contain by chance.
fn token<T: From<SecretString>>(marker: &str, len: usize) -> T {
    let mut value = format!("rt-{marker}-");
    while value.len() < len {
        value.push_str("Zq8xR2kLm0");
    }
    value.truncate(len);
    T::from(SecretString::new(value))
}

fn loaded(restored: Restored) -> Loaded {
    match restored {
        Restored::Session(loaded) => *loaded,
        Restored::SignedOut(reason) => panic!("expected a session, signed out: {reason}"),
    }
}

fn signed_out(restored: Restored) -> SignedOutReason {
    match restored {
        Restored::SignedOut(reason) => reason,
        Restored::Session(loaded) => panic!("expected signed out, got {loaded:?}"),
    }
}

#[test]
fn a_session_with_a_4_kib_refresh_token_survives_a_save_and_load() {
    let t = test_store("round-trip");
    let refresh_token = token("4kib", 4096);
    t.store
        .save(
            &t.lock("mock"),
            &facts("555000000001"),
            Some(&refresh_token),
        )
        .expect("saved");

    let loaded = loaded(t.store.load("mock").expect("loads"));
    assert_eq!(loaded.facts, facts("555000000001"));
    assert_eq!(loaded.refresh_token.as_ref(), Some(&refresh_token));

    t.store.clear(&t.lock("mock")).expect("cleared");
}

#[test]
fn a_session_without_a_refresh_token_loads_without_one() {
    let t = test_store("no-refresh");
    t.store
        .save(&t.lock("mock"), &facts("555000000001"), None)
        .expect("saved");
    let loaded = loaded(t.store.load("mock").expect("loads"));
    assert_eq!(loaded.refresh_token, None);
    assert_eq!(loaded.facts, facts("555000000001"));
}

#[test]
fn no_token_reaches_the_state_file() {
    let t = test_store("no-token-in-file");
    let refresh_token = token("secret-in-keychain-only", 3000);
    t.store
        .save(
            &t.lock("mock"),
            &facts("555000000001"),
            Some(&refresh_token),
        )
        .expect("saved");
    t.store
        .record_activity(&t.lock("mock"), SystemTime::now())
        .expect("activity recorded");

    let path = t.store.state_path("mock").expect("path");
    let text = std::fs::read_to_string(&path).expect("state file");
    assert!(text.contains("555000000001"), "the facts are there: {text}");
    assert!(
        !text.contains("secret-in-keychain-only") && !text.contains("Zq8xR2kLm0"),
        "the refresh token leaked into {}: {text}",
        path.display()
    );
    t.store.clear(&t.lock("mock")).expect("cleared");
}

#[test]
fn rotation_replaces_the_stored_refresh_token() {
    let t = test_store("rotation");
    let facts = facts("555000000001");
    t.store
        .save(&t.lock("mock"), &facts, Some(&token("first", 2600)))
        .expect("saved");

    let lock =
        SessionLock::acquire(t.store.state_dir(), "mock", Duration::from_secs(5)).expect("locked");
    let rotated = token("rotated", 2700);
    t.store
        .replace_refresh_token(&lock, &facts, &rotated)
        .expect("replaced");
    drop(lock);

    let loaded = loaded(t.store.load("mock").expect("loads"));
    assert_eq!(loaded.refresh_token, Some(rotated));
    assert_eq!(loaded.facts, facts);
    t.store.clear(&t.lock("mock")).expect("cleared");
}

#[test]
fn rotation_under_another_profiles_lock_is_refused() {
    let t = test_store("wrong-lock");
    let facts = facts("555000000001");
    t.store
        .save(&t.lock("mock"), &facts, Some(&token("first", 100)))
        .expect("saved");
    let other = SessionLock::acquire(t.store.state_dir(), "int", Duration::ZERO).expect("locked");
    let error = t
        .store
        .replace_refresh_token(&other, &facts, &token("rotated", 100))
        .expect_err("refused");
    assert_eq!(error.code(), "session_wrong_lock");
    assert_eq!(
        loaded(t.store.load("mock").expect("loads")).refresh_token,
        Some(token("first", 100)),
        "the stored token is untouched"
    );
    t.store.clear(&t.lock("mock")).expect("cleared");
}

#[test]
fn clear_deletes_everything_and_is_idempotent() {
    let t = test_store("clear");
    let facts = facts("555000000001");
    t.store
        .save(&t.lock("mock"), &facts, Some(&token("clear", 3000)))
        .expect("saved");

    t.store.clear(&t.lock("mock")).expect("cleared");
    t.store.clear(&t.lock("mock")).expect("cleared again");
    t.store
        .clear(&t.lock("int"))
        .expect("a profile never signed in");

    assert_eq!(
        signed_out(t.store.load("mock").expect("loads")),
        SignedOutReason::NoSession
    );
    assert!(!t.store.state_path("mock").expect("path").exists());
    assert_eq!(
        t.keychain
            .load(&refresh_token_account(&facts))
            .expect("keychain reads"),
        None
    );
}

#[test]
fn a_corrupt_keychain_entry_signs_out_and_is_deleted() {
    let facts = facts("555000000001");
    let account = refresh_token_account(&facts);
    // What a damaged entry looks like: a header careid did not write, or a part gone missing.
    type Corrupt = fn(&Keychain, &str);
    let corruptions: &[(&str, Corrupt)] = &[
        ("foreign header", |keychain, account| {
            secret_tool_store(keychain, account, "not a careid header");
        }),
        ("missing part", |keychain, account| {
            secret_tool(&[
                "clear",
                "service",
                keychain.service(),
                "username",
                &format!("{account}#0.1"),
            ]);
        }),
    ];
    for (name, corrupt) in corruptions {
        let t = test_store("corrupt");
        t.store
            .save(&t.lock("mock"), &facts, Some(&token("corrupt", 3000)))
            .expect("saved");
        corrupt(&t.keychain, &account);

        let reason = signed_out(t.store.load("mock").expect("loads"));
        let end = reason.end().expect("ended").clone();
        assert_eq!(end.reason, EndReason::KeychainDamaged, "{name}");
        assert_eq!(reason.code(), "keychain_damaged", "{name}");
        assert_eq!(
            (end.sub.as_str(), end.auth_time),
            (facts.sub.as_str(), facts.auth_time)
        );
        assert!(
            !secret_tool(&[
                "lookup",
                "service",
                t.keychain.service(),
                "username",
                &account
            ])
            .status
            .success(),
            "{name}: the damaged entry is gone"
        );
        assert!(
            !t.store.state_path("mock").expect("path").exists(),
            "{name}: the facts are gone too"
        );
        assert_eq!(
            signed_out(t.store.load("mock").expect("loads again")),
            SignedOutReason::Ended(end),
            "{name}: the end is recorded until the next sign-in"
        );
    }
}

#[test]
fn a_refresh_token_deleted_outside_careid_signs_out() {
    let t = test_store("missing");
    let facts = facts("555000000001");
    t.store
        .save(&t.lock("mock"), &facts, Some(&token("missing", 500)))
        .expect("saved");
    t.keychain
        .delete(&refresh_token_account(&facts))
        .expect("deleted behind careid's back");
    assert_eq!(
        signed_out(t.store.load("mock").expect("loads")).code(),
        EndReason::KeychainCleared.code()
    );
    assert!(!t.store.state_path("mock").expect("path").exists());
    assert_eq!(
        t.store.last_end("mock").map(|end| end.reason),
        Some(EndReason::KeychainCleared)
    );
    // A new sign-in: the last end is no longer news.
    t.store
        .save(&t.lock("mock"), &facts, Some(&token("again", 500)))
        .expect("saved");
    assert_eq!(t.store.last_end("mock"), None);
    t.store.clear(&t.lock("mock")).expect("cleared");
    assert_eq!(
        signed_out(t.store.load("mock").expect("loads")),
        SignedOutReason::NoSession,
        "clearing keeps no end"
    );
}

/// `end` deletes the session as `clear` does and keeps why, for whoever looks next.
#[test]
fn an_ended_session_says_why_until_the_next_sign_in() {
    let t = test_store("ended");
    let facts = facts("555000000001");
    t.store
        .save(&t.lock("mock"), &facts, Some(&token("ended", 500)))
        .expect("saved");
    let end = SessionEnd::new(EndReason::Inactivity, &facts, std::time::SystemTime::now())
        .with_detail("no activity for 15 minutes");
    t.store.end(&t.lock("mock"), &end).expect("ended");
    assert!(accounts_in_keychain(&t.keychain).is_empty());
    assert!(!t.store.state_path("mock").expect("path").exists());
    assert_eq!(
        signed_out(t.store.load("mock").expect("loads")),
        SignedOutReason::Ended(end.clone())
    );
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(t.store.ended_path("mock").expect("path")).expect("recorded"),
    )
    .expect("JSON");
    assert_eq!(record["reason"], "inactivity");
    assert_eq!(record["sub"], "555000000001");
    // A damaged record is no record.
    std::fs::write(t.store.ended_path("mock").expect("path"), "{").expect("damaged");
    assert_eq!(
        signed_out(t.store.load("mock").expect("loads")),
        SignedOutReason::NoSession
    );
}

#[test]
fn a_damaged_state_file_signs_out_without_an_error() {
    let t = test_store("damaged-file");
    t.store
        .save(&t.lock("mock"), &facts("555000000001"), None)
        .expect("saved");
    let path = t.store.state_path("mock").expect("path");
    for (text, code) in [
        ("{\"version\":1,", "state_corrupt"),
        ("{\"version\":99}", "state_corrupt"),
        (
            "{\"version\":99,\"compatible_with\":99}",
            "state_unknown_version",
        ),
    ] {
        std::fs::write(&path, text).expect("damaged");
        assert_eq!(
            signed_out(t.store.load("mock").expect("loads")).code(),
            code,
            "{text}"
        );
    }
    t.store
        .clear(&t.lock("mock"))
        .expect("clear removes a damaged file");
    assert!(!path.exists());
}

/// Every account secret-tool finds under the test's keychain service (heads and parts).
fn accounts_in_keychain(keychain: &Keychain) -> Vec<String> {
    let output = secret_tool(&["search", "--all", "service", keychain.service()]);
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    let mut accounts: Vec<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect();
    accounts.sort();
    accounts
}

/// A state file too damaged to name its user no longer hides that user's refresh token: it is
/// still found to revoke, and clearing the profile deletes it with any stray parts, while
/// another profile's session and the profile's client secret are left alone.
#[test]
fn a_state_file_too_damaged_to_name_its_user_leaves_no_refresh_token_behind() {
    let t = test_store("damaged-orphan");
    let mock = facts("555000000001");
    let int = SessionFacts {
        profile: "int".into(),
        ..facts("555000000009")
    };
    let refresh_token = token("orphan", 4096);
    t.store
        .save(&t.lock("mock"), &mock, Some(&refresh_token))
        .expect("saved");
    t.store
        .save(&t.lock("int"), &int, Some(&token("other-profile", 100)))
        .expect("saved");
    t.keychain
        .store("profile/mock/client-secret", &token("client-secret", 40))
        .expect("a profile's credential");
    // A part left by a store that failed half way: no header names it.
    secret_tool_store(
        &t.keychain,
        &format!("{}#9.0", refresh_token_account(&mock)),
        "stray",
    );
    std::fs::write(t.store.state_path("mock").expect("path"), "\u{0}garbage")
        .expect("damaged beyond reading");
    assert_eq!(
        signed_out(t.store.load("mock").expect("loads")).code(),
        "state_corrupt"
    );

    let lock = t.lock("mock");
    let orphans = t.store.orphaned_refresh_tokens(&lock).expect("listed");
    assert_eq!(orphans.len(), 1, "one token to revoke");
    assert_eq!(orphans[0].0, "555000000001");
    assert_eq!(orphans[0].1, refresh_token);

    t.store.clear(&lock).expect("cleared");
    assert_eq!(
        accounts_in_keychain(&t.keychain),
        vec![
            "profile/mock/client-secret".to_owned(),
            refresh_token_account(&int),
        ],
        "only the client secret and the other profile's session remain"
    );
    assert!(t
        .store
        .orphaned_refresh_tokens(&lock)
        .expect("listed")
        .is_empty());
    drop(lock);
    t.store.clear(&t.lock("int")).expect("cleared");
    t.keychain
        .delete("profile/mock/client-secret")
        .expect("deleted");
}

/// A new sign-in tidies a token that a damaged state file left behind, and keeps its own.
#[test]
fn a_new_sign_in_deletes_a_token_a_damaged_state_file_left_behind() {
    let t = test_store("damaged-new-sign-in");
    let first = facts("555000000001");
    let second = facts("555000000002");
    t.store
        .save(&t.lock("mock"), &first, Some(&token("first", 3000)))
        .expect("saved");
    std::fs::write(t.store.state_path("mock").expect("path"), "not json").expect("damaged");

    let second_token = token("second", 3000);
    t.store
        .save(&t.lock("mock"), &second, Some(&second_token))
        .expect("saved");
    let remaining = accounts_in_keychain(&t.keychain);
    assert!(
        remaining
            .iter()
            .all(|account| account.starts_with(&refresh_token_account(&second))),
        "only the new session's entries remain: {remaining:?}"
    );
    assert_eq!(
        loaded(t.store.load("mock").expect("loads")).refresh_token,
        Some(second_token)
    );
    t.store.clear(&t.lock("mock")).expect("cleared");
    assert_eq!(accounts_in_keychain(&t.keychain), Vec::<String>::new());
}

#[test]
fn a_new_user_on_a_profile_deletes_the_previous_users_refresh_token() {
    let t = test_store("new-user");
    let first = facts("555000000001");
    t.store
        .save(&t.lock("mock"), &first, Some(&token("first-user", 200)))
        .expect("saved");
    let second = facts("555000000002");
    t.store
        .save(&t.lock("mock"), &second, Some(&token("second-user", 200)))
        .expect("saved");

    assert_eq!(
        t.keychain
            .load(&refresh_token_account(&first))
            .expect("keychain reads"),
        None
    );
    assert_eq!(
        loaded(t.store.load("mock").expect("loads")).facts.sub,
        "555000000002"
    );
    t.store.clear(&t.lock("mock")).expect("cleared");
}

#[test]
fn recorded_activity_moves_the_inactivity_limit_on() {
    let t = test_store("activity");
    let signed_in = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    t.store
        .save(&t.lock("mock"), &facts("555000000001"), None)
        .expect("saved");
    let policy = SessionPolicy::default();
    let later = signed_in + Duration::from_secs(14 * 60);

    let facts = t
        .store
        .record_activity(&t.lock("mock"), later)
        .expect("recorded");
    assert_eq!(facts.last_activity, 1_750_000_000 + 14 * 60);
    let reloaded = loaded(t.store.load("mock").expect("loads")).facts;
    assert_eq!(reloaded, facts);

    let twenty_minutes_in = signed_in + Duration::from_secs(20 * 60);
    assert_eq!(
        session::check(&reloaded, &policy, twenty_minutes_in),
        Verdict::Active {
            ends_at: 1_750_000_000 + 12 * 3600,
            idle_ends_at: 1_750_000_000 + 29 * 60,
        }
    );

    let error = t
        .store
        .record_activity(&t.lock("int"), later)
        .expect_err("no session to record on");
    assert_eq!(error.code(), "session_signed_out");
    assert!(!t.store.state_path("int").expect("path").exists());
}

#[test]
fn debug_of_every_type_holding_a_token_is_redacted() {
    let refresh_token: RefreshToken = token("debug-me", 64);
    let loaded = Loaded {
        facts: facts("555000000001"),
        refresh_token: Some(refresh_token.clone()),
        refresh_token_stored: true,
        sign_in: None,
        access_token_expires_at: Some(1_750_003_600),
    };
    let restored = Restored::Session(Box::new(loaded.clone()));
    let printed = format!("{refresh_token:?} {loaded:?} {loaded:#?} {restored:?} {restored:#?}");
    assert!(!printed.contains("debug-me"), "{printed}");
    assert!(printed.contains("[redacted]"), "{printed}");
}

#[test]
fn the_session_lock_excludes_a_second_handle_until_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let held = SessionLock::acquire(dir.path(), "mock", Duration::ZERO).expect("locked");
    assert_eq!(held.path(), dir.path().join("mock.lock"));

    // `File::lock` is `flock(2)`, which belongs to the open file: a second handle in the same
    // process is refused just as another process would be.
    let started = Instant::now();
    let error =
        SessionLock::acquire(dir.path(), "mock", Duration::from_millis(150)).expect_err("held");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(error.code(), "session_lock_timeout");
    assert!(error.to_string().contains("\"mock\""), "{error}");

    // Another profile has a lock of its own.
    SessionLock::acquire(dir.path(), "int", Duration::ZERO).expect("another profile");

    drop(held);
    SessionLock::acquire(dir.path(), "mock", Duration::ZERO).expect("free once dropped");
}

#[test]
fn a_waiting_refresh_gets_the_lock_when_the_holder_finishes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let held = SessionLock::acquire(dir.path(), "mock", Duration::ZERO).expect("locked");
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(held);
    });
    let started = Instant::now();
    SessionLock::acquire(dir.path(), "mock", Duration::from_secs(10)).expect("waited for it");
    assert!(started.elapsed() >= Duration::from_millis(150));
    holder.join().expect("holder");
}

/// Another process through util-linux `flock(1)`, which takes the same `flock(2)` lock.
#[cfg(target_os = "linux")]
#[test]
fn the_session_lock_excludes_another_process_and_a_dead_one_holds_nothing() {
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().expect("temp dir");
    let held = SessionLock::acquire(dir.path(), "mock", Duration::ZERO).expect("locked");
    let other_process_gets_it = || {
        Command::new("flock")
            .args(["--nonblock", "--conflict-exit-code", "9"])
            .arg(dir.path().join("mock.lock"))
            .arg("true")
            .status()
            .expect("flock(1) from util-linux runs")
            .code()
    };
    assert_eq!(other_process_gets_it(), Some(9), "refused while held");
    drop(held);
    assert_eq!(other_process_gets_it(), Some(0), "free once dropped");

    // The other process holds it (`--close` keeps the lock in `flock` itself, not in `cat`, which
    // waits on its stdin so the test decides when it ends).
    let mut other = Command::new("flock")
        .arg("--close")
        .arg(dir.path().join("mock.lock"))
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("flock(1) starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match SessionLock::acquire(dir.path(), "mock", Duration::ZERO) {
            Err(error) if error.code() == "session_lock_timeout" => break,
            Err(error) => panic!("{error}"),
            // Not taken yet by the other process: let go and look again.
            Ok(_) => {
                assert!(Instant::now() < deadline, "the other process never locked");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    // Killed, it releases the lock without unlocking: the kernel does it.
    other.kill().expect("killed");
    other.wait().expect("reaped");
    drop(other.stdin.take());
    SessionLock::acquire(dir.path(), "mock", Duration::from_secs(5)).expect("free after a crash");
}

/// Seconds since the epoch, `from_now` seconds on.
fn unix_in(from_now: u64) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + from_now
}

/// The kept access token is read from its quick copy (the kernel's, on Linux) while that copy is
/// of the token the state file names, and from the keychain otherwise: shown by changing the
/// keychain's entry behind careid's back, with another client.
#[cfg(target_os = "linux")]
#[test]
fn the_kept_access_token_is_read_from_its_quick_copy_only_while_it_is_the_current_one() {
    use careid_core::session::{access_token_account, KeptAccessToken};

    let t = test_store("quick-copy");
    let facts = facts("555000000001");
    let account = access_token_account(&facts);
    let first = token("access-first", 900);
    let first_expiry = unix_in(3600);
    t.store
        .save_sign_in(
            &t.lock("mock"),
            &facts,
            Some(&token("refresh", 64)),
            None,
            None,
            Some(KeptAccessToken {
                token: &first,
                expires_at: first_expiry,
            }),
        )
        .expect("saved");

    // The keychain's entry deleted by another client: the copy still answers, so no keychain
    // read was made.
    let cleared = secret_tool(&[
        "clear",
        "service",
        t.keychain.service(),
        "username",
        &account,
    ]);
    assert!(cleared.status.success(), "secret-tool clear");
    let state = loaded(t.store.load_state("mock").expect("loads"));
    let kept = t.store.load_access_token(&state).expect("reads");
    assert_eq!(kept.as_ref(), Some(&first));

    // A refresh's new token replaces the copy.
    let second = token("access-second", 900);
    t.store
        .replace_access_token(
            &t.lock("mock"),
            &facts,
            Some(KeptAccessToken {
                token: &second,
                expires_at: first_expiry + 1,
            }),
        )
        .expect("replaced");
    let state = loaded(t.store.load_state("mock").expect("loads"));
    assert_eq!(
        t.store.load_access_token(&state).expect("reads").as_ref(),
        Some(&second)
    );

    // Another login session's process replaced the token in the keychain and the state file,
    // not in this session's keyring, where the copy of the second is left under its tag: that
    // tag is no longer the state's, so the keychain is read, and its token becomes the copy.
    let third: AccessToken = token("access-third", 900);
    t.keychain
        .store(&account, third.as_secret())
        .expect("stored");
    let stale_tag = (first_expiry + 1).to_string();
    t.keychain
        .keep_quick_copy(
            &account,
            &stale_tag,
            second.as_secret(),
            Duration::from_secs(60),
        )
        .expect("a quick copy");
    let path = t.store.state_path("mock").expect("path");
    let text = std::fs::read_to_string(&path).expect("state");
    std::fs::write(
        &path,
        text.replace(
            &format!("\"access_token_expires_at\": {}", first_expiry + 1),
            &format!("\"access_token_expires_at\": {}", first_expiry + 2),
        ),
    )
    .expect("state rewritten");
    let state = loaded(t.store.load_state("mock").expect("loads"));
    assert_eq!(state.access_token_expires_at, Some(first_expiry + 2));
    assert_eq!(
        t.store.load_access_token(&state).expect("reads").as_ref(),
        Some(&third)
    );
    let tag = (first_expiry + 2).to_string();
    assert_eq!(
        t.keychain.quick_copy(&account, &tag).as_ref(),
        Some(third.as_secret())
    );

    // Signing out leaves no copy.
    t.store.clear(&t.lock("mock")).expect("cleared");
    assert_eq!(t.keychain.quick_copy(&account, &tag), None);
}

/// Any store or delete of an account drops its quick copy first, so a copy is never of a value
/// the keychain no longer holds.
#[cfg(target_os = "linux")]
#[test]
fn a_keychain_store_or_delete_drops_the_quick_copy() {
    let t = test_store("quick-copy-drop");
    let value = token("copied", 100);
    let life = Duration::from_secs(60);
    t.keychain.store("a", &value).expect("stored");
    t.keychain
        .keep_quick_copy("a", "1", &value, life)
        .expect("a quick copy");
    assert_eq!(t.keychain.quick_copy("a", "1").as_ref(), Some(&value));
    t.keychain.store("a", &token("other", 100)).expect("stored");
    assert_eq!(t.keychain.quick_copy("a", "1"), None, "after a store");

    t.keychain
        .keep_quick_copy("a", "1", &value, life)
        .expect("a quick copy");
    t.keychain.delete("a").expect("deleted");
    assert_eq!(t.keychain.quick_copy("a", "1"), None, "after a delete");

    t.keychain.store("b/x", &value).expect("stored");
    t.keychain
        .keep_quick_copy("b/x", "1", &value, life)
        .expect("a quick copy");
    t.keychain.delete_prefixed("b/", None).expect("deleted");
    assert_eq!(
        t.keychain.quick_copy("b/x", "1"),
        None,
        "after a prefixed delete"
    );
}
