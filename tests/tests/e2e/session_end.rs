//! `careid status --json` after each way a session ends that a command line can bring about:
//! exit 8, `signed_in: false`, and the end under `ended`, its reason by the one code the app
//! shows too (`ended.reason`, the core's `EndReason`; `reason` says the same). The provider's
//! end, through a broker, is in `broker.rs`.

use careid_e2e::{CliWorld, MockHost};
use mock_cis2::{AutoLogin, MockCis2};
use serde_json::{json, Value};

const NURSE: &str = "555057896106";

fn mock_signing_in(user: &str) -> MockHost {
    let auto_login: AutoLogin = user.parse().expect("auto-login syntax");
    MockHost::start(MockCis2::new().auto_login(auto_login)).expect("the mock starts")
}

/// Signed in to profile `t` for `mock`'s default client, with `extra` profile settings.
fn signed_in(mock: &MockHost, extra: &[&str]) -> CliWorld {
    let world = CliWorld::new().expect("a test home");
    world.add_mock_profile("t", &mock.issuer(), extra);
    world.ok(&["--profile", "t", "login"]);
    world
}

/// Changes the stored state file of profile `t` (as time passing, or another hand, would).
fn change_state(world: &CliWorld, change: impl FnOnce(&mut Value)) {
    let path = world.state_dir().join("t.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state file")).expect("JSON");
    change(&mut state);
    std::fs::write(&path, serde_json::to_string(&state).expect("JSON")).expect("written");
}

/// Moves a stored fact back `seconds`.
fn age(world: &CliWorld, fact: &str, seconds: u64) {
    change_state(world, |state| {
        let value = state["facts"][fact].as_u64().expect("a time");
        state["facts"][fact] = Value::from(value - seconds);
    });
}

/// `careid status --json` when not signed in: exit 8, `signed_in: false`.
fn signed_out_status(world: &CliWorld) -> Value {
    let run = world
        .run(&["--profile", "t", "status", "--json"])
        .expect("runs");
    assert_eq!(run.code, Some(8), "{}", run.text());
    let status = run.json();
    assert_eq!(status["signed_in"], json!(false), "{status:#}");
    status
}

/// `careid status --json` for a session that ended: exit 8, and the end's reason.
fn ended(world: &CliWorld, reason: &str) -> Value {
    let status = signed_out_status(world);
    assert_eq!(status["profile"], json!("t"), "{status:#}");
    assert_eq!(status["ended"]["reason"], json!(reason), "{status:#}");
    assert_eq!(status["reason"], json!(reason), "{status:#}");
    assert_eq!(status["ended"]["user"]["id"], json!(NURSE), "{status:#}");
    assert!(status["ended"]["at_unix"].is_u64(), "{status:#}");
    assert!(
        !status["message"].as_str().unwrap_or_default().is_empty(),
        "{status:#}"
    );
    assert!(
        world.stored_sessions().is_empty(),
        "{reason}: nothing kept: {:?}",
        world.keychain_accounts()
    );
    status
}

#[test]
fn status_says_inactivity() {
    let mock = mock_signing_in(NURSE);
    let world = signed_in(&mock, &["--inactivity-minutes", "1"]);
    age(&world, "last_activity", 61);
    let status = ended(&world, "inactivity");
    assert!(
        status["ended"]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no activity for 1 minutes"),
        "{status:#}"
    );
    // Said again to whoever asks next, until the next sign-in.
    ended(&world, "inactivity");
    world.ok(&["--profile", "t", "login"]);
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["signed_in"], json!(true), "{status:#}");
}

#[test]
fn status_says_absolute_limit() {
    let mock = mock_signing_in(NURSE);
    let world = signed_in(&mock, &["--absolute-hours", "1"]);
    age(&world, "auth_time", 3_601);
    ended(&world, "absolute_limit");
}

#[test]
fn status_says_signed_out_here() {
    let mock = mock_signing_in(NURSE);
    let world = signed_in(&mock, &[]);
    world.ok(&["--profile", "t", "logout"]);
    ended(&world, "signed_out_here");
}

#[test]
fn status_says_tokens_expired_without_refresh() {
    let mock = mock_signing_in(NURSE);
    let world = CliWorld::new().expect("a test home");
    world.add_no_refresh_profile("t", &mock.issuer());
    world.ok(&["--profile", "t", "login"]);
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["refreshable"], json!(false), "{status:#}");
    // The tokens' hour has passed.
    change_state(&world, |state| {
        let expires = state["access_token_expires_at"].as_u64().expect("kept");
        state["access_token_expires_at"] = Value::from(expires - 3_601);
    });
    ended(&world, "tokens_expired_without_refresh");
}

#[test]
fn status_says_keychain_cleared() {
    let mock = mock_signing_in(NURSE);
    let world = signed_in(&mock, &[]);
    let account = format!("session/t/{NURSE}/refresh-token");
    let cleared = std::process::Command::new("secret-tool")
        .args([
            "clear",
            "service",
            world.keychain_service(),
            "username",
            &account,
        ])
        .status()
        .expect("secret-tool runs");
    assert!(cleared.success());
    ended(&world, "keychain_cleared");
}

#[test]
fn status_says_refresh_rejected() {
    let mock = mock_signing_in(NURSE);
    let world = signed_in(&mock, &[]);
    mock.mock()
        .arm_fault("refresh_revoked".parse().expect("fault"), Some(1));
    let refresh = world
        .run(&["--profile", "t", "token", "--refresh"])
        .expect("runs");
    assert_eq!(refresh.code, Some(8), "{}", refresh.text());
    ended(&world, "refresh_rejected");
}

/// Never signed in: not an end, said as data all the same.
#[test]
fn status_says_not_signed_in_without_an_end() {
    let mock = mock_signing_in(NURSE);
    let world = CliWorld::new().expect("a test home");
    world.add_mock_profile("t", &mock.issuer(), &[]);
    let status = signed_out_status(&world);
    assert_eq!(status["reason"], json!("not_signed_in"), "{status:#}");
    assert_eq!(status["ended"], Value::Null, "{status:#}");
}
