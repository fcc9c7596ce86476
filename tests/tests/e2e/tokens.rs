//! The kept access token (`careid token` makes no request while it is valid), sessions the
//! provider gave no refresh token, and what `careid logout` shows: the built `careid` against
//! the mock in this process, with the real keychain read back by `secret-tool`.

use std::time::{Duration, Instant};

use careid_e2e::cli_world::{MOCK_CLIENT, MOCK_SECRET};
use careid_e2e::{CliWorld, MockHost};
use mock_cis2::{AutoLogin, MockCis2};

const NURSE: &str = "555057896106";

fn mock_with(mock: MockCis2) -> MockHost {
    let auto_login: AutoLogin = NURSE.parse().expect("auto-login syntax");
    MockHost::start(mock.auto_login(auto_login)).expect("the mock starts")
}

/// A world with profile `t` for the mock's default client (refresh tokens).
fn world_for(mock: &MockHost) -> CliWorld {
    let world = CliWorld::new().expect("a test home");
    world.add_mock_profile("t", &mock.issuer(), &[]);
    world
}

/// A world with profile `t` for the mock's client that gets no refresh token.
fn world_without_refresh(mock: &MockHost) -> CliWorld {
    let world = CliWorld::new().expect("a test home");
    world.add_no_refresh_profile("t", &mock.issuer());
    world
}

/// (endpoint, status) of the requests the mock answered since request `from`.
fn answered_since(mock: &MockHost, from: usize) -> Vec<(String, u16)> {
    mock.mock().request_log()[from..]
        .iter()
        .map(|request| (request.endpoint.clone(), request.status))
        .collect()
}

fn endpoints_since(mock: &MockHost, from: usize) -> Vec<String> {
    answered_since(mock, from)
        .into_iter()
        .map(|(endpoint, _)| endpoint)
        .collect()
}

/// Revokes `token` at the mock's revocation endpoint, as the provider revoking it would.
fn revoke_at_the_provider(mock: &MockHost, token: &str) {
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{MOCK_CLIENT}:{MOCK_SECRET}"));
    let response = ureq::post(format!("{}/token/revoke", mock.issuer()))
        .header("Authorization", format!("Basic {basic}"))
        .send_form([("token", token), ("token_type_hint", "access_token")])
        .expect("revoked");
    assert_eq!(response.status(), 200);
}

/// A second `careid token` is answered from the keychain: no request to the provider, the same
/// access token, and nothing in the keychain rotated.
#[test]
fn a_second_token_makes_no_request_and_rotates_nothing() {
    let mock = mock_with(MockCis2::new());
    let world = world_for(&mock);
    world.ok(&["--profile", "t", "login"]);
    let mut stored = world.stored_sessions();
    stored.sort();
    assert_eq!(
        stored,
        [
            format!("session/t/{NURSE}/access-token"),
            format!("session/t/{NURSE}/id-token"),
            format!("session/t/{NURSE}/refresh-token"),
        ],
        "the access token is kept beside the refresh and ID tokens"
    );

    let first = world.ok(&["--profile", "t", "token"]).stdout;
    let secrets = world.keychain_secrets();
    let from = mock.mock().request_log().len();
    let second = world.ok(&["--profile", "t", "token"]).stdout;
    let id_token = world.ok(&["--profile", "t", "token", "--id"]).stdout;
    assert_eq!(
        endpoints_since(&mock, from),
        Vec::<String>::new(),
        "no request reached the provider"
    );
    assert_eq!(first, second, "the same access token");
    assert_eq!(id_token.trim().split('.').count(), 3, "the kept ID token");
    assert_eq!(world.keychain_secrets(), secrets, "nothing rotated");
    assert!(secrets.iter().any(|secret| secret == first.trim()));
}

/// The live kernel keyring entries this user can see whose description names `world`'s
/// keychain service (`/proc/keys`, as `keyctl show` reads them).
///
/// A key that was invalidated, revoked or is dead stays listed, flagged `i`, `R` or `D` in the
/// second column, until the kernel's collector runs (later still on a loaded machine): such a key
/// can no longer be read, so it is gone as far as careid or anyone else is concerned.
fn quick_copies(world: &CliWorld) -> Vec<String> {
    std::fs::read_to_string("/proc/keys")
        .expect("/proc/keys")
        .lines()
        .filter(|line| line.contains(&format!("careid:{}:", world.keychain_service())))
        .filter(|line| {
            let flags = line.split_whitespace().nth(1).unwrap_or_default();
            !flags.contains(['i', 'R', 'D'])
        })
        .map(str::to_owned)
        .collect()
}

/// The kept access token comes from its quick copy in the kernel's session keyring: `careid
/// token` answers with the Secret Service unreachable. A refresh still needs the keychain and
/// fails as a keychain fault with nothing lost, and signing out leaves no copy.
#[test]
fn the_kept_access_token_is_served_without_a_keychain_round_trip() {
    let mock = mock_with(MockCis2::new());
    let mut world = world_for(&mock);
    world.ok(&["--profile", "t", "login"]);
    let kept = world.ok(&["--profile", "t", "token"]).stdout;
    let copies = quick_copies(&world);
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(
        copies[0].contains(&format!("session/t/{NURSE}/access-token")),
        "{copies:?}"
    );
    assert!(
        !copies[0].contains(kept.trim()),
        "the listing shows no token"
    );

    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").expect("a session bus");
    world.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/careid-test-bus",
    );
    let from = mock.mock().request_log().len();
    assert_eq!(world.ok(&["--profile", "t", "token"]).stdout, kept);
    assert_eq!(endpoints_since(&mock, from), Vec::<String>::new());
    let refresh = world
        .run(&["--profile", "t", "token", "--refresh"])
        .expect("runs");
    assert_eq!(
        refresh.code,
        Some(7),
        "a keychain fault: {}",
        refresh.text()
    );

    world.set_env("DBUS_SESSION_BUS_ADDRESS", bus.clone());
    assert_eq!(
        world.ok(&["--profile", "t", "token"]).stdout,
        kept,
        "nothing lost"
    );
    world.ok(&["--profile", "t", "logout"]);
    assert_eq!(
        quick_copies(&world),
        Vec::<String>::new(),
        "no copy after sign-out"
    );
    world.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/careid-test-bus",
    );
    let signed_out = world.run(&["--profile", "t", "token"]).expect("runs");
    assert_ne!(signed_out.code, Some(0), "{}", signed_out.text());
    assert!(!signed_out.stdout.contains(kept.trim()));
}

/// `--refresh` refreshes however long the kept token has left, and the new token is kept.
#[test]
fn token_refresh_asks_the_provider_and_keeps_the_new_token() {
    let mock = mock_with(MockCis2::new());
    let world = world_for(&mock);
    world.ok(&["--profile", "t", "login"]);
    let kept = world.ok(&["--profile", "t", "token"]).stdout;
    let secrets = world.keychain_secrets();
    let from = mock.mock().request_log().len();
    let refreshed = world.ok(&["--profile", "t", "token", "--refresh"]).stdout;
    assert_eq!(endpoints_since(&mock, from), ["/access_token"]);
    assert_ne!(refreshed, kept, "a new access token");
    assert_ne!(world.keychain_secrets(), secrets, "rotated and kept");
    let from = mock.mock().request_log().len();
    let again = world.ok(&["--profile", "t", "token"]).stdout;
    assert_eq!(again, refreshed, "the refreshed token is the kept one");
    assert_eq!(endpoints_since(&mock, from), Vec::<String>::new());
}

/// The provider refuses the kept access token (revoked there): `userinfo` and `roles` get 401
/// `invalid_token`, refresh once, and succeed.
#[test]
fn a_token_the_provider_refuses_makes_userinfo_and_roles_refresh_and_succeed() {
    let mock = mock_with(MockCis2::new());
    let world = world_for(&mock);
    world.ok(&["--profile", "t", "login"]);
    for command in ["userinfo", "roles"] {
        let kept = world.ok(&["--profile", "t", "token"]).stdout;
        revoke_at_the_provider(&mock, kept.trim());
        let from = mock.mock().request_log().len();
        let run = world.ok(&["--profile", "t", command, "--json"]);
        assert_eq!(
            answered_since(&mock, from),
            [
                ("/userinfo".to_owned(), 401),
                ("/access_token".to_owned(), 200),
                ("/userinfo".to_owned(), 200),
            ],
            "{command}: {}",
            run.text()
        );
        let now_kept = world.ok(&["--profile", "t", "token"]).stdout;
        assert_ne!(now_kept, kept, "{command}: the refused token is replaced");
    }
}

/// Within the clock skew (60 s) of its expiry the kept token is refreshed: with 30-second
/// tokens, every `careid token` refreshes.
#[test]
fn a_token_near_its_expiry_is_refreshed() {
    let mock = mock_with(MockCis2::new().token_lifetime(Duration::from_secs(30)));
    let world = world_for(&mock);
    world.ok(&["--profile", "t", "login"]);
    let from = mock.mock().request_log().len();
    let first = world.ok(&["--profile", "t", "token"]).stdout;
    let second = world.ok(&["--profile", "t", "token"]).stdout;
    assert_eq!(
        endpoints_since(&mock, from),
        ["/access_token", "/access_token"]
    );
    assert_ne!(first, second);
}

/// A client CIS2 gives no refresh token: the session serves `token`, `userinfo` and `roles`
/// from the kept tokens until they expire, `status` says when; then every command says sign in
/// again, with the ended-session exit code, and the keychain is empty.
#[test]
fn a_session_without_a_refresh_token_lives_as_long_as_its_tokens() {
    let lifetime = Duration::from_secs(12);
    let mock = mock_with(MockCis2::new().token_lifetime(lifetime));
    let world = world_without_refresh(&mock);
    let login = world.ok(&["--profile", "t", "login", "--json"]).json();
    // The tokens were issued before this: they expire by then plus their lifetime.
    let signed_in = Instant::now();
    assert_eq!(login["refreshable"], false);
    let mut stored = world.stored_sessions();
    stored.sort();
    assert_eq!(
        stored,
        [
            format!("session/t/{NURSE}/access-token"),
            format!("session/t/{NURSE}/id-token"),
        ]
    );
    let status = world.ok(&["--profile", "t", "status"]);
    assert!(
        status
            .stdout
            .contains("Refresh token:   none; the session ends at"),
        "{}",
        status.text()
    );
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert!(status["tokens_end_at_unix"].as_u64().is_some(), "{status}");

    let from = mock.mock().request_log().len();
    let token = world.ok(&["--profile", "t", "token"]).stdout;
    assert!(token.starts_with("eyJ"));
    let userinfo = world.ok(&["--profile", "t", "userinfo", "--json"]).json();
    assert_eq!(userinfo["sub"], NURSE);
    world.ok(&["--profile", "t", "roles"]);
    assert_eq!(
        endpoints_since(&mock, from),
        ["/userinfo", "/userinfo"],
        "no refresh is tried"
    );
    let refresh = world
        .run(&["--profile", "t", "token", "--refresh"])
        .expect("runs");
    assert_eq!(refresh.code, Some(2), "{}", refresh.text());
    assert!(
        refresh.stderr.contains("no refresh token"),
        "{}",
        refresh.text()
    );

    std::thread::sleep(
        (signed_in + lifetime + Duration::from_secs(1)).duration_since(Instant::now()),
    );
    for command in ["token", "userinfo", "roles", "status"] {
        let run = world.run(&["--profile", "t", command]).expect("runs");
        assert_eq!(run.code, Some(8), "{command}: {}", run.text());
        if command == "token" {
            assert!(
                run.stderr.contains("has ended")
                    && run.stderr.contains("no refresh token")
                    && run.stderr.contains("sign in again"),
                "{}",
                run.text()
            );
        }
    }
    assert!(
        world
            .keychain_accounts()
            .iter()
            .all(|account| !account.starts_with("session/")),
        "nothing left in the keychain: {:?}",
        world.keychain_accounts()
    );
}

/// Sign-out of a session without a refresh token still ends the CIS2 session with
/// `id_token_hint`, from the kept ID token.
#[test]
fn logout_of_a_session_without_a_refresh_token_revokes_its_access_token_and_sends_the_hint() {
    let mock = mock_with(MockCis2::new());
    let world = world_without_refresh(&mock);
    world.ok(&["--profile", "t", "login"]);
    let id_token = world.ok(&["--profile", "t", "token", "--id"]).stdout;
    let opened_before = std::fs::read_to_string(world.browser_log())
        .unwrap_or_default()
        .lines()
        .count();
    let access_tokens = mock.mock().store_counts().access_tokens;
    let logout = world.ok(&["--profile", "t", "logout", "--browser"]);
    assert!(
        !logout.text().contains(id_token.trim()),
        "{}",
        logout.text()
    );
    // With no refresh token to revoke, the kept access token is revoked instead.
    assert!(logout.stdout.contains("revoked"), "{}", logout.text());
    assert_eq!(
        mock.mock().store_counts().access_tokens,
        access_tokens - 1,
        "the access token is gone at the provider"
    );
    let log = std::fs::read_to_string(world.browser_log()).expect("browser log");
    let opened: Vec<&str> = log.lines().skip(opened_before).collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(
        opened[0].contains(&format!("id_token_hint={}", id_token.trim())),
        "{opened:?}"
    );
    assert!(world.stored_sessions().is_empty());
}

/// `careid logout` prints no token: the end-session URL without `id_token_hint`, and a line
/// saying so; JSON likewise. Every secret the keychain held before is checked.
#[test]
fn logout_prints_no_id_token_in_text_or_json() {
    let mock = mock_with(MockCis2::new());
    for json in [false, true] {
        let world = world_for(&mock);
        world.ok(&["--profile", "t", "login"]);
        // The ID token as the keychain keeps it (read from there, no request), and every
        // value the keychain holds (a long value in parts).
        let id_token = world.ok(&["--profile", "t", "token", "--id"]).stdout;
        let mut secrets = world.keychain_secrets();
        assert!(secrets.len() >= 3, "{} secrets", secrets.len());
        secrets.push(id_token.trim().to_owned());
        let mut args = vec!["--profile", "t", "logout"];
        if json {
            args.push("--json");
        }
        let logout = world.ok(&args);
        let text = logout.text();
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a token was shown:\n{text}"
            );
        }
        assert!(!text.contains("id_token_hint="), "{text}");
        assert!(careid_e2e::jwt_shaped(&text).is_empty(), "{text}");
        let end_session = format!("{}/connect/endSession?client_id=", mock.issuer());
        assert!(text.contains(&end_session), "{text}");
        if json {
            let outcome = logout.json();
            assert_eq!(outcome["browser_sends_id_token_hint"], true);
        } else {
            assert!(
                logout.stdout.contains(
                    "The URL omits id_token_hint; use --browser to end the CIS2 session with it."
                ),
                "{text}"
            );
        }
        assert!(world.stored_sessions().is_empty());
    }
}

/// `logout --browser` gives the browser a one-time link on a loopback listener of careid's
/// (nothing on its command line but the link), which leads to the end-session URL with the ID
/// token as `id_token_hint`, and is answered no more once the browser has come.
#[test]
fn logout_browser_hands_the_hint_over_through_a_one_time_link() {
    let mock = mock_with(MockCis2::new());
    let world = world_for(&mock);
    world.ok(&["--profile", "t", "login"]);
    let id_token = world.ok(&["--profile", "t", "token", "--id"]).stdout;
    let id_token = id_token.trim();
    let mut argv_log = world.browser_log().into_os_string();
    argv_log.push(".argv");
    let read = |path: &std::ffi::OsStr| std::fs::read_to_string(path).unwrap_or_default();
    let argv_before = read(&argv_log).lines().count();
    let opened_before = read(world.browser_log().as_os_str()).lines().count();

    let started = Instant::now();
    let logout = world.ok(&["--profile", "t", "logout", "--browser"]);
    assert!(!logout.text().contains(id_token), "{}", logout.text());
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "the link was seen used, not waited out: {:?}",
        started.elapsed()
    );
    let argv = read(&argv_log);
    let given: Vec<&str> = argv.lines().skip(argv_before).collect();
    assert_eq!(given.len(), 1, "{given:?}");
    assert!(given[0].starts_with("http://127.0.0.1:"), "{given:?}");
    assert!(
        !given[0].contains('?') && careid_e2e::jwt_shaped(given[0]).is_empty(),
        "{given:?}"
    );
    let again = ureq::get(given[0]).config().max_redirects(0).build().call();
    assert!(
        !matches!(&again, Ok(answer) if answer.status().is_redirection()),
        "the link to the ID token works once: {again:?}"
    );

    let opened = read(world.browser_log().as_os_str());
    let opened: Vec<&str> = opened.lines().skip(opened_before).collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    let target = url::Url::parse(opened[0]).expect("URL");
    assert!(
        opened[0].starts_with(&format!("{}/connect/endSession?", mock.issuer())),
        "{opened:?}"
    );
    let hint = target
        .query_pairs()
        .find(|(name, _)| name == "id_token_hint")
        .map(|(_, value)| value.into_owned());
    assert_eq!(hint.as_deref(), Some(id_token));
    assert!(world.stored_sessions().is_empty());
}
