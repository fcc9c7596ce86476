//! `careid login`, `token`, `status`, `userinfo`, `roles`, `role select` and `logout`, run as a
//! tester runs them: the built binary, the scripted browser as `BROWSER`, the mock provider in
//! this process over real HTTP, and the real Secret Service keychain.

use careid_e2e::cli_world::{MOCK_CLIENT, MOCK_SECRET};
use careid_e2e::{CliWorld, MockHost};
use mock_cis2::{AutoLogin, MockCis2, PushedRequests, TokenKind};
use serde_json::Value;

const NURSE: &str = "555057896106";
const NURSE_ROLE: &str = "555057898108";
const CLINICIAN: &str = "555057900101";
const NO_ROLES: &str = "555057920109";

fn mock_signing_in(user: &str) -> MockHost {
    let auto_login: AutoLogin = user.parse().expect("auto-login syntax");
    MockHost::start(MockCis2::new().auto_login(auto_login)).expect("the mock starts")
}

/// A world with profile `t` for `mock`'s default client (client_secret_basic).
fn world_for(mock: &MockHost, extra: &[&str]) -> CliWorld {
    let world = CliWorld::new().expect("a test home");
    world.add_mock_profile("t", &mock.issuer(), extra);
    world
}

/// The endpoints (paths relative to the issuer) the mock answered since request `from`.
fn endpoints_since(mock: &MockHost, from: usize) -> Vec<String> {
    mock.mock().request_log()[from..]
        .iter()
        .map(|request| request.endpoint.clone())
        .collect()
}

/// A JWT's payload, decoded without checking (the mock's own record is the reference).
fn payload(jwt: &str) -> Value {
    use base64::Engine as _;
    let part = jwt.trim().split('.').nth(1).expect("a JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[test]
fn login_then_token_status_and_logout_with_client_secret_basic() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);

    let login = world.ok(&["--profile", "t", "login"]);
    assert!(
        login.stdout.contains("Signed in to profile t as Flo Nurse"),
        "{}",
        login.text()
    );
    assert!(
        login.stderr.contains("waiting for the browser"),
        "{}",
        login.text()
    );
    // The mock offers pushed authorization requests: the parameters (PKCE S256, no form_post)
    // were pushed, and the browser reached a URL with only the client id and a reference.
    let opened = std::fs::read_to_string(world.browser_log()).expect("the browser was opened");
    assert!(opened.contains("/authorize?client_id="), "{opened}");
    assert!(opened.contains("&request_uri=urn"), "{opened}");
    assert!(
        !opened.contains("state=") && !opened.contains("code_challenge"),
        "{opened}"
    );
    // The same URL is on stderr, for when a browser launcher succeeds but nothing appears.
    let url = opened.lines().next().expect("one URL").trim();
    assert!(
        login
            .stderr
            .contains(&format!("if it did not open, open this URL:\n{url}")),
        "{}",
        login.text()
    );
    let mut stored = world.stored_sessions();
    stored.sort();
    assert_eq!(
        stored,
        [
            format!("session/t/{NURSE}/access-token"),
            format!("session/t/{NURSE}/id-token"),
            format!("session/t/{NURSE}/refresh-token")
        ],
        "one refresh token, the access token and the last ID token in the keychain"
    );

    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["user"]["id"], NURSE);
    assert_eq!(status["role"]["id"], NURSE_ROLE);
    assert_eq!(status["refreshable"], true);

    let token = world.ok(&["--profile", "t", "token"]);
    let jti = payload(&token.stdout)["jti"].clone();
    assert!(
        mock.mock()
            .issued_tokens()
            .iter()
            .any(|issued| issued.claims["jti"] == jti),
        "careid token printed an access token the mock issued: {}",
        token.text()
    );

    let requests_before = mock.mock().request_log().len();
    let logout = world.ok(&["--profile", "t", "logout"]);
    assert!(logout.stdout.contains("revoked"), "{}", logout.text());
    assert!(
        endpoints_since(&mock, requests_before).contains(&"/token/revoke".to_owned()),
        "logout called the revocation endpoint: {:?}",
        endpoints_since(&mock, requests_before)
    );
    assert!(
        world.stored_sessions().is_empty(),
        "nothing left in the keychain"
    );
    let after = world.run(&["--profile", "t", "token"]).expect("runs");
    assert_eq!(after.code, Some(8), "{}", after.text());
}

#[test]
fn every_client_authentication_method_signs_in() {
    let mock = mock_signing_in(NURSE);
    let key = careid_e2e::binaries::workspace_root()
        .join("crates/mock-cis2/data/test-keys/private-key-jwt-client.pem");
    let key = key.to_string_lossy().into_owned();
    let cases: [(&str, &str, Option<&str>, &[&str]); 5] = [
        ("basic", "client_secret_basic", Some(MOCK_SECRET), &[]),
        (
            "post",
            "client_secret_post",
            Some("3c9a7e21-0d4f-4b8e-a6c5-7f1e2d3b4a59"),
            // Exact redirect URIs, no refresh tokens, signed UserInfo with RS512 ID tokens.
            &["--redirect-port", "8765", "--userinfo-signed"],
        ),
        (
            "jwt",
            "client_secret_jwt",
            Some("6b1f0e9d-2c4a-4f7e-8d35-9a0b1c2d3e4f"),
            &[],
        ),
        (
            "pkjwt",
            "private_key_jwt",
            None,
            &["--assertion-alg", "RS512"],
        ),
        ("public", "none", None, &[]),
    ];
    let client_ids = [
        "555000000002.apps.supplier",
        "555000000004.apps.supplier",
        "555000000005.apps.national",
        "555000000003.apps.local",
    ];
    for (index, (name, method, secret, extra)) in cases.iter().enumerate() {
        let world = CliWorld::new().expect("home");
        let client_id = if index == 0 {
            MOCK_CLIENT
        } else {
            client_ids[index - 1]
        };
        let mut args = vec![
            "profile",
            "add",
            name,
            "--issuer",
            mock.mock().issuer(),
            "--client-id",
            client_id,
            "--client-auth",
            method,
        ];
        args.extend_from_slice(extra);
        world.ok(&args);
        match (secret, *method) {
            (Some(secret), _) => {
                let run = world
                    .run_with_input(&["profile", "secret", "set", name], secret)
                    .expect("runs");
                assert_eq!(run.code, Some(0), "{}", run.text());
            }
            (None, "private_key_jwt") => {
                world.ok(&["profile", "secret", "set", name, "--from-file", &key]);
            }
            _ => {}
        }
        let login = world
            .run(&["--profile", name, "login", "--json"])
            .expect("runs");
        assert_eq!(login.code, Some(0), "{method}: {}", login.text());
        let session = login.json();
        assert_eq!(session["user"]["id"], NURSE, "{method}");
        let refreshable = session["refreshable"] == Value::Bool(true);
        assert_eq!(
            refreshable,
            *name != "post",
            "{method}: refresh tokens as registered"
        );
        if refreshable {
            let token = world
                .run(&["--profile", name, "token", "--refresh"])
                .expect("runs");
            assert_eq!(token.code, Some(0), "{method}: {}", token.text());
        }
    }
}

#[test]
fn after_the_callback_only_the_token_and_userinfo_requests_remain() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);
    // The browser's visit takes half a second, as a person's would take longer: discovery and
    // the JWKS are fetched meanwhile.
    mock.mock()
        .arm_fault("slow_endpoint@authorize=500".parse().expect("fault"), None);
    world.ok(&["--profile", "t", "login"]);
    let log = mock.mock().request_log();
    let callback = log
        .iter()
        .rposition(|request| request.endpoint == "/authorize")
        .expect("the browser visited the authorization endpoint");
    let after: Vec<&str> = log[callback + 1..]
        .iter()
        .map(|request| request.endpoint.as_str())
        .collect();
    assert_eq!(after, ["/access_token", "/userinfo"], "{log:#?}");
    assert!(
        log[..callback]
            .iter()
            .any(|request| request.endpoint == "/connect/jwk_uri"),
        "the JWKS was fetched while the browser step ran: {log:#?}"
    );
}

#[test]
fn restore_in_a_new_process_is_one_userinfo_with_the_kept_access_token() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);
    world.ok(&["--profile", "t", "login"]);
    let stored_before = world.keychain_secrets();
    let from = mock.mock().request_log().len();

    let userinfo = world.ok(&["--profile", "t", "userinfo", "--json"]).json();
    assert_eq!(userinfo["sub"], NURSE);
    assert_eq!(
        endpoints_since(&mock, from),
        ["/userinfo"],
        "discovery and JWKS come from the cache, the access token from the keychain"
    );
    assert_eq!(world.keychain_secrets(), stored_before, "nothing rotated");

    // A refresh: the spent refresh token is replaced in the keychain.
    let from = mock.mock().request_log().len();
    world.ok(&["--profile", "t", "token", "--refresh"]);
    assert_eq!(endpoints_since(&mock, from), ["/access_token"]);
    let stored_after = world.keychain_secrets();
    assert!(!stored_after.is_empty());
    assert_ne!(
        stored_after, stored_before,
        "the rotated refresh token is stored"
    );
}

#[test]
fn refresh_rotates_and_the_spent_token_is_never_used_again() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);
    world.ok(&["--profile", "t", "login"]);
    let first = world.ok(&["--profile", "t", "token", "--refresh"]).stdout;
    let second = world.ok(&["--profile", "t", "token", "--refresh"]).stdout;
    assert_ne!(first, second, "each refresh gives a new access token");
    // A provider that detects reuse would have revoked the grant if careid had reused a spent
    // refresh token; a third refresh still works.
    world.ok(&["--profile", "t", "token", "--refresh"]);
    let id_token = world.ok(&["--profile", "t", "token", "--id"]).stdout;
    assert_eq!(id_token.trim().split('.').count(), 3, "a JWS");
}

#[test]
fn one_role_is_chosen_automatically() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);
    let login = world.ok(&["--profile", "t", "login", "--json"]).json();
    assert_eq!(login["role_choice"], "automatic");
    assert_eq!(login["role"]["id"], NURSE_ROLE);
}

#[test]
fn several_roles_are_chosen_then_remembered() {
    let mock = mock_signing_in(CLINICIAN);
    let world = world_for(&mock, &[]);
    let login = world.ok(&["--profile", "t", "login", "--json"]);
    assert_eq!(login.json()["role_choice"], "ask", "{}", login.text());
    // The hint keeps the profile given.
    assert!(
        login.stderr.contains("`careid --profile t role select ID`"),
        "{}",
        login.text()
    );

    let roles = world.ok(&["--profile", "t", "roles"]);
    for role in ["555057900302", "555057900303", "555057900304"] {
        assert!(roles.stdout.contains(role), "{}", roles.text());
    }
    assert!(
        roles.stdout.contains("A9A5A"),
        "grouped by organisation: {}",
        roles.text()
    );

    let unknown = world
        .run(&["--profile", "t", "role", "select", "999999999999"])
        .expect("runs");
    assert_eq!(unknown.code, Some(2), "{}", unknown.text());

    world.ok(&["--profile", "t", "role", "select", "555057900303"]);
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["role"]["id"], "555057900303");

    world.ok(&["--profile", "t", "logout"]);
    let again = world.ok(&["--profile", "t", "login", "--json"]).json();
    assert_eq!(again["role_choice"], "remembered");
    assert_eq!(again["role"]["id"], "555057900303");
}

#[test]
fn a_role_given_on_the_command_line_is_used() {
    let mock = mock_signing_in(CLINICIAN);
    let world = world_for(&mock, &[]);
    let login = world
        .ok(&[
            "--profile",
            "t",
            "login",
            "--role",
            "555057900304",
            "--json",
        ])
        .json();
    assert_eq!(login["role"]["id"], "555057900304");
}

#[test]
fn no_roles_is_a_signed_in_state_with_an_explanation() {
    let mock = mock_signing_in(NO_ROLES);
    let world = world_for(&mock, &[]);
    let login = world.ok(&["--profile", "t", "login"]);
    assert!(login.stdout.contains("holds no roles"), "{}", login.text());
    let roles = world.ok(&["--profile", "t", "roles"]);
    assert!(roles.stdout.contains("no roles"), "{}", roles.text());
}

/// A clinician whose CIS2 picker chooses 555057900304 and, asked again with `changedrole`,
/// 555057900303 (as a user picking another role would).
fn mock_with_cis2_picker() -> MockHost {
    let auto_login: AutoLogin =
        format!("{CLINICIAN}:smartcard:{PRIVACY_OFFICER}:{SYSTEMS_SUPPORT}")
            .parse()
            .expect("auto-login");
    // Without pushed requests, so the parameters can be read in the URL the browser opened.
    MockHost::start(
        MockCis2::new()
            .auto_login(auto_login)
            .pushed_requests(PushedRequests::Off),
    )
    .expect("mock")
}

const CLINICAL_PRACTITIONER: &str = "555057900302";
const SYSTEMS_SUPPORT: &str = "555057900303";
const PRIVACY_OFFICER: &str = "555057900304";

/// The `selected_roleid` of the last ID token the mock issued.
fn last_selected_roleid(mock: &MockHost) -> Value {
    mock.mock()
        .issued_tokens()
        .iter()
        .rev()
        .find(|token| token.kind == TokenKind::IdToken)
        .map(|token| token.claims["selected_roleid"].clone())
        .expect("an ID token was issued")
}

#[test]
fn cis2_role_selection_uses_selected_roleid_and_changedrole_changes_it() {
    let mock = mock_with_cis2_picker();
    let world = world_for(&mock, &["--role-selection", "cis2"]);
    let login = world.ok(&["--profile", "t", "login", "--json"]).json();
    assert_eq!(
        login["role_choice"], "selected",
        "from the ID token's selected_roleid"
    );
    assert_eq!(login["role"]["id"], PRIVACY_OFFICER);
    let opened = std::fs::read_to_string(world.browser_log()).expect("browser log");
    assert!(opened.contains("selectedrole"), "{opened}");

    let changed = world
        .ok(&[
            "--profile",
            "t",
            "role",
            "select",
            SYSTEMS_SUPPORT,
            "--json",
        ])
        .json();
    let opened = std::fs::read_to_string(world.browser_log()).expect("browser log");
    let change = opened.lines().last().expect("a second visit");
    assert!(change.contains("changedrole"), "{change}");
    assert!(change.contains("prompt=login"), "{change}");
    // CIS2's picker chose another role, and that is the session's role now.
    assert_eq!(last_selected_roleid(&mock), SYSTEMS_SUPPORT);
    assert_eq!(changed["chosen_in"], "cis2");
    assert_eq!(changed["role"]["id"], SYSTEMS_SUPPORT);
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_ne!(status["role"]["id"], PRIVACY_OFFICER, "the role changed");
    assert_eq!(status["role"]["id"], SYSTEMS_SUPPORT);
    // A refresh keeps CIS2's new choice.
    world.ok(&["--profile", "t", "token", "--refresh"]);
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["role"]["id"], SYSTEMS_SUPPORT);
}

/// The role CIS2's picker chose is the role: a `--role` (or a role change) naming another is
/// refused with exit 2, naming both roles by id and name, and nothing is stored.
#[test]
fn a_role_other_than_the_one_cis2_chose_is_refused_naming_both() {
    let mock = mock_with_cis2_picker();
    let world = world_for(&mock, &["--role-selection", "cis2"]);
    let refused = world
        .run(&["--profile", "t", "login", "--role", CLINICAL_PRACTITIONER])
        .expect("runs");
    assert_eq!(refused.code, Some(2), "{}", refused.text());
    for part in [
        CLINICAL_PRACTITIONER,
        "Clinical Practitioner Access Role",
        PRIVACY_OFFICER,
        "Privacy Officer",
        "CIS2's role picker chose",
    ] {
        assert!(refused.stderr.contains(part), "{part}: {}", refused.text());
    }
    assert!(world.stored_sessions().is_empty(), "nothing stored");
    assert!(
        !world.state_dir().join("t.json").exists(),
        "no session state either"
    );
    let status = world.run(&["--profile", "t", "status"]).expect("runs");
    assert_eq!(status.code, Some(8), "{}", status.text());

    // The same role as CIS2's is fine.
    let login = world
        .ok(&[
            "--profile",
            "t",
            "login",
            "--role",
            PRIVACY_OFFICER,
            "--json",
        ])
        .json();
    assert_eq!(login["role"]["id"], PRIVACY_OFFICER);

    // A role change where CIS2's picker chose another role than the one named: refused, and the
    // session keeps its role.
    let stored = world.keychain_secrets();
    let change = world
        .run(&["--profile", "t", "role", "select", CLINICAL_PRACTITIONER])
        .expect("runs");
    assert_eq!(change.code, Some(2), "{}", change.text());
    assert!(
        change.stderr.contains(CLINICAL_PRACTITIONER) && change.stderr.contains(SYSTEMS_SUPPORT),
        "{}",
        change.text()
    );
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["role"]["id"], PRIVACY_OFFICER);
    assert_eq!(
        world.keychain_secrets(),
        stored,
        "the stored tokens are untouched"
    );
}

/// Moves a stored time back, as if that much time had passed.
fn age_state(world: &CliWorld, field: &str, seconds: u64) {
    let path = world.state_dir().join("t.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state file")).expect("JSON");
    let value = state["facts"][field].as_u64().expect("a time");
    state["facts"][field] = Value::from(value - seconds);
    std::fs::write(&path, serde_json::to_string(&state).expect("JSON")).expect("written");
}

#[test]
fn inactivity_ends_the_session_revokes_and_deletes() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &["--inactivity-minutes", "1"]);
    world.ok(&["--profile", "t", "login"]);
    age_state(&world, "last_activity", 61);
    let from = mock.mock().request_log().len();
    let token = world.run(&["--profile", "t", "token"]).expect("runs");
    assert_eq!(token.code, Some(8), "{}", token.text());
    assert!(
        token.stderr.contains("no activity for 1 minutes"),
        "{}",
        token.text()
    );
    assert!(
        endpoints_since(&mock, from).contains(&"/token/revoke".to_owned()),
        "revoked"
    );
    assert!(world.stored_sessions().is_empty());
}

#[test]
fn the_absolute_limit_ends_the_session() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &["--absolute-hours", "1"]);
    world.ok(&["--profile", "t", "login"]);
    age_state(&world, "auth_time", 3_601);
    let status = world.run(&["--profile", "t", "status"]).expect("runs");
    assert_eq!(status.code, Some(8), "{}", status.text());
    assert!(status.stderr.contains("1-hour limit"), "{}", status.text());
    assert!(world.stored_sessions().is_empty());
}

#[test]
fn activity_within_the_limit_keeps_the_session() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &["--inactivity-minutes", "1"]);
    world.ok(&["--profile", "t", "login"]);
    age_state(&world, "last_activity", 50);
    world.ok(&["--profile", "t", "token"]);
    // The token command was activity: the limit moved on.
    age_state(&world, "last_activity", 50);
    world.ok(&["--profile", "t", "token"]);
}

#[test]
fn no_token_reaches_a_file_or_the_output_of_other_commands() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);
    let mut outputs = String::new();
    for args in [
        vec!["--profile", "t", "login", "--json"],
        vec!["--profile", "t", "status", "--json"],
        vec!["--profile", "t", "userinfo", "--json"],
        vec!["--profile", "t", "roles", "--json"],
    ] {
        outputs += &world.ok(&args).text();
    }
    let mut files = String::new();
    for entry in walk(world.home().path()) {
        files += &String::from_utf8_lossy(&std::fs::read(entry).unwrap_or_default());
    }
    // Every token the mock signs is a JWS ("eyJ..." header); the refresh token is whatever
    // the keychain holds.
    assert!(
        careid_e2e::jwt_shaped(&outputs).is_empty(),
        "a token reached the output:\n{outputs}"
    );
    assert!(
        careid_e2e::jwt_shaped(&files).is_empty(),
        "a token reached a file"
    );
    for secret in world.keychain_secrets() {
        assert!(
            !outputs.contains(&secret),
            "a keychain secret reached the output"
        );
        assert!(!files.contains(&secret), "a keychain secret reached a file");
    }
    assert!(
        !files.contains(MOCK_SECRET),
        "the client secret reached a file"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_4_kib_refresh_token_is_split_in_the_keychain_and_rotates() {
    let auto_login: AutoLogin = NURSE.parse().expect("auto-login");
    // 3,072 random bytes: a 4,096-character token, over Windows' 2,560-byte entry limit.
    let mock = MockHost::start(
        MockCis2::new()
            .auto_login(auto_login)
            .refresh_token_bytes(3_072),
    )
    .expect("mock");
    let world = world_for(&mock, &[]);
    world.ok(&["--profile", "t", "login"]);
    let parts = world
        .keychain_accounts()
        .into_iter()
        .filter(|account| account.starts_with("session/") && account.contains('#'))
        .count();
    assert!(parts >= 2, "the token is kept in several parts: {parts}");
    let stored: usize = world.keychain_secrets().iter().map(String::len).sum();
    assert!(
        stored >= 4_096,
        "the whole token is stored ({stored} characters)"
    );
    world.ok(&["--profile", "t", "token", "--refresh"]);
    world.ok(&["--profile", "t", "userinfo"]);
    // The refresh token, the access token and the last ID token.
    assert_eq!(world.stored_sessions().len(), 3);
}

#[test]
fn doctor_reports_the_mock_as_cis2_like_in_text_and_json() {
    let mock = MockHost::start(MockCis2::new()).expect("mock");
    let world = CliWorld::new().expect("home");
    let text = world.ok(&["doctor", "--issuer", mock.mock().issuer()]);
    assert!(text.stdout.contains("PKCE"), "{}", text.text());
    assert!(!text.stdout.contains("FAIL"), "{}", text.text());
    let report = world
        .ok(&["doctor", "--issuer", mock.mock().issuer(), "--json"])
        .json();
    let checks = report["checks"].as_array().expect("checks");
    assert!(checks.len() >= 10, "{report:#}");
    assert!(
        checks.iter().all(|check| check["status"] != "fail"),
        "{report:#}"
    );
    // A provider that cannot be reached exits 5; the built-in mock is checked by default.
    let unreachable = world
        .run(&["doctor", "--issuer", "http://127.0.0.1:9/realm"])
        .expect("runs");
    assert_eq!(unreachable.code, Some(5), "{}", unreachable.text());
    world.ok(&["doctor"]);
}

#[test]
fn profiles_are_added_shown_and_removed_with_their_secrets() {
    let world = CliWorld::new().expect("home");
    let key = careid_e2e::binaries::workspace_root()
        .join("crates/mock-cis2/data/test-keys/private-key-jwt-client.pem");
    world.ok(&[
        "profile",
        "add",
        "p",
        "--issuer",
        "https://cis2.example:443/realm",
        "--client-id",
        "555000000005.apps.national",
        "--client-auth",
        "private_key_jwt",
        "--assertion-alg",
        "RS512",
        "--redirect-port",
        "8765",
        "--acr",
        "AAL3_ANY",
    ]);
    let listed = world.ok(&["profile", "list"]);
    assert!(
        listed.stdout.contains("needs its private key"),
        "{}",
        listed.text()
    );
    // A client secret is not a private key: refused before it replaces anything.
    let wrong = world
        .run_with_input(&["profile", "secret", "set", "p"], "not-a-key")
        .expect("runs");
    assert_eq!(wrong.code, Some(2), "{}", wrong.text());
    world.ok(&[
        "profile",
        "secret",
        "set",
        "p",
        "--from-file",
        &key.to_string_lossy(),
    ]);
    let shown = world.ok(&["profile", "show", "p", "--json"]).json();
    assert_eq!(
        shown["issuer"], "https://cis2.example:443/realm",
        "kept exactly"
    );
    assert_eq!(shown["credential_stored"], true);
    assert_eq!(shown["acr_values"], "AAL3_ANY");
    let file = std::fs::read_to_string(world.home().config_dir().join("profiles.toml"))
        .expect("profiles file");
    assert!(!file.contains("PRIVATE KEY"), "no secret in the file");
    let entries = |world: &CliWorld| {
        world
            .keychain_accounts()
            .into_iter()
            .filter(|account| !account.contains('#'))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        entries(&world),
        ["profile/p/private-key"],
        "the key is in the keychain"
    );
    world.ok(&["profile", "remove", "p"]);
    assert!(entries(&world).is_empty(), "its key went with it");
    assert!(world.keychain_accounts().is_empty(), "and every part of it");
    let removed = world.run(&["profile", "show", "p"]).expect("runs");
    assert_eq!(removed.code, Some(2), "{}", removed.text());
    let built_in = world.run(&["profile", "remove", "live"]).expect("runs");
    assert_eq!(built_in.code, Some(2), "{}", built_in.text());
}

/// Shared machines: other users can read every process's command line. The browser is started
/// with a one-time link on the sign-in's loopback listener, never the authorization URL; it is
/// not answered again once used. Without pushed requests too, and with them the URL the user
/// sees is short.
#[test]
fn the_browsers_command_line_never_holds_the_authorization_url() {
    for pushed in [PushedRequests::Offered, PushedRequests::Off] {
        let auto_login: AutoLogin = NURSE.parse().expect("auto-login");
        let mock = MockHost::start(
            MockCis2::new()
                .auto_login(auto_login)
                .pushed_requests(pushed),
        )
        .expect("mock");
        let world = world_for(&mock, &[]);
        let login = world.ok(&["--profile", "t", "login"]);
        let mut argv = world.browser_log().into_os_string();
        argv.push(".argv");
        let argv = std::fs::read_to_string(argv).expect("the browser's command line");
        let given = argv.trim();
        assert!(
            given.starts_with("http://127.0.0.1:"),
            "{pushed:?}: {given}"
        );
        for part in [
            "?",
            "state=",
            "nonce=",
            "code_challenge=",
            "client_id=",
            "request_uri=",
        ] {
            assert!(!given.contains(part), "{pushed:?}: {part} in {given}");
        }
        // The sign-in's listener closed with it: the link leads nowhere now.
        let again = ureq::get(given).config().max_redirects(0).build().call();
        assert!(
            !matches!(&again, Ok(answer) if answer.status().is_redirection()),
            "{pushed:?}: {again:?}"
        );
        let opened = std::fs::read_to_string(world.browser_log()).expect("browser log");
        let url = opened.lines().next().expect("one URL");
        // The user's own terminal still gets the URL to open by hand.
        assert!(login.stderr.contains(url), "{pushed:?}: {}", login.text());
        assert_eq!(
            url.contains("state="),
            pushed == PushedRequests::Off,
            "{pushed:?}: {url}"
        );
    }
}

/// A sign-in completes in real Chromium through the one-time loopback link: the browser is
/// handed only the link, follows its redirect to the provider and the provider's back to the
/// sign-in's listener. (The test browser, like a snap or flatpak one, opens no local file.)
#[test]
fn a_sign_in_completes_in_chromium_through_the_one_time_link() {
    let auto_login: AutoLogin = NURSE.parse().expect("auto-login");
    let mock = MockHost::start(MockCis2::new().auto_login(auto_login)).expect("mock");
    let mut world = world_for(&mock, &[]);
    world.set_env("CAREID_TEST_BROWSER", "chromium");
    world.ok(&["--profile", "t", "login"]);
    let mut argv = world.browser_log().into_os_string();
    argv.push(".argv");
    let argv = std::fs::read_to_string(argv).expect("the browser's command line");
    let given = url::Url::parse(argv.trim()).expect("a URL");
    assert_eq!(given.host_str(), Some("127.0.0.1"), "{given}");
    assert!(given.path().starts_with("/launch/"), "{given}");
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["user"]["id"], NURSE, "{status}");
}

/// A provider whose revocation endpoint takes only the client secret, though the client signs
/// JWT assertions at the token endpoint (`revocation_endpoint_auth_methods_supported`): careid
/// revokes with the secret, and the session's tokens are gone at the provider.
#[test]
fn revocation_authenticates_the_way_the_provider_advertises() {
    use mock_cis2::ClientAuthMethod;
    let auto_login: AutoLogin = NURSE.parse().expect("auto-login syntax");
    let mock = MockHost::start(
        MockCis2::new()
            .auto_login(auto_login)
            .revocation_auth_methods(&[ClientAuthMethod::ClientSecretBasic]),
    )
    .expect("the mock starts");
    let world = CliWorld::new().expect("a test home");
    world.ok(&[
        "profile",
        "add",
        "jwt",
        "--issuer",
        mock.mock().issuer(),
        "--client-id",
        "555000000004.apps.supplier",
        "--client-auth",
        "client_secret_jwt",
    ]);
    let secret = world
        .run_with_input(
            &["profile", "secret", "set", "jwt"],
            "6b1f0e9d-2c4a-4f7e-8d35-9a0b1c2d3e4f",
        )
        .expect("runs");
    assert_eq!(secret.code, Some(0), "{}", secret.text());
    world.ok(&["--profile", "jwt", "login"]);
    assert_eq!(mock.mock().store_counts().grants, 1);

    let from = mock.mock().request_log().len();
    let logout = world.ok(&["--profile", "jwt", "logout"]);
    assert!(logout.stdout.contains("revoked"), "{}", logout.text());
    let revocations: Vec<u16> = mock.mock().request_log()[from..]
        .iter()
        .filter(|request| request.endpoint == "/token/revoke")
        .map(|request| request.status)
        .collect();
    assert_eq!(revocations, [200], "{}", logout.text());
    let grants = mock.mock().store_counts();
    assert_eq!(
        grants.grants, 0,
        "the grant went with its refresh token: {grants:?}"
    );
}

/// A tester with their own private_key_jwt registration gives CIS2 the public JWKS of the key
/// careid signs with: `careid profile jwks` prints it, and never the private part.
#[test]
fn profile_jwks_prints_the_public_key_only() {
    let world = CliWorld::new().expect("a test home");
    let key = careid_e2e::binaries::workspace_root()
        .join("crates/mock-cis2/data/test-keys/private-key-jwt-client.pem");
    let issuer = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
    world.ok(&[
        "profile",
        "add",
        "pk",
        "--issuer",
        issuer,
        "--client-id",
        "123456789012.apps.national",
        "--client-auth",
        "private_key_jwt",
        "--assertion-alg",
        "RS512",
    ]);
    let missing = world.run(&["profile", "jwks", "pk"]).expect("runs");
    assert_eq!(missing.code, Some(2), "{}", missing.text());
    assert!(
        missing.stderr.contains("secret set pk"),
        "{}",
        missing.text()
    );

    world.ok(&[
        "profile",
        "secret",
        "set",
        "pk",
        "--from-file",
        &key.to_string_lossy(),
    ]);
    let printed = world.ok(&["profile", "jwks", "pk"]);
    let jwks: Value = serde_json::from_str(&printed.stdout).expect("a JWK Set on stdout");
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS512");
    assert_eq!(keys[0]["use"], "sig");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(keys[0].get(private).is_none(), "{private}: {jwks}");
    }
    let pem = std::fs::read_to_string(&key).unwrap();
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    assert!(
        !printed.text().contains(&body[..40]),
        "no part of the private key"
    );

    let basic = world.run(&["profile", "jwks", "mock"]).expect("runs");
    assert_eq!(basic.code, Some(2), "{}", basic.text());
    assert!(
        basic.stderr.contains("no key to publish"),
        "{}",
        basic.text()
    );
}

/// A discovery document as lean as CIS2's may be (MODES.md `lean_discovery`: no PAR, no
/// revocation, no RFC 9207 `iss`, no refresh grant): with `par = "auto"` careid sends a plain
/// authorization request, keeps a session without a refresh token, and signs out here, saying
/// the provider could not revoke.
#[test]
fn a_lean_discovery_signs_in_without_par_refresh_or_revocation() {
    let auto_login: AutoLogin = NURSE.parse().expect("auto-login syntax");
    let mock = MockHost::start(
        MockCis2::new()
            .auto_login(auto_login)
            .mode(mock_cis2::Mode::LeanDiscovery),
    )
    .expect("the mock starts");
    let world = world_for(&mock, &[]);

    let login = world.ok(&["--profile", "t", "login"]);
    assert!(
        login
            .stdout
            .contains("Signed in to profile t as Flo Nurse (555057896106)"),
        "{}",
        login.text()
    );
    let opened = std::fs::read_to_string(world.browser_log()).expect("the browser was opened");
    assert!(
        opened.contains("state=")
            && opened.contains("code_challenge=")
            && !opened.contains("request_uri"),
        "a plain authorization request: {opened}"
    );
    let mut stored = world.stored_sessions();
    stored.sort();
    assert_eq!(
        stored,
        [
            format!("session/t/{NURSE}/access-token"),
            format!("session/t/{NURSE}/id-token"),
        ],
        "no refresh token to keep"
    );
    let status = world.ok(&["--profile", "t", "status", "--json"]).json();
    assert_eq!(status["refreshable"], false);
    assert!(status["tokens_end_at_unix"].is_u64(), "{status}");

    let logout = world.ok(&["--profile", "t", "logout"]);
    assert!(
        logout
            .stdout
            .contains("offers no revocation: the session was ended here"),
        "{}",
        logout.text()
    );
    assert!(world.stored_sessions().is_empty());
    let asked = endpoints_since(&mock, 0);
    assert!(
        !asked
            .iter()
            .any(|endpoint| endpoint == "/par" || endpoint == "/token/revoke"),
        "{asked:?}"
    );
}

/// Each shape CIS2 may send its claims in (MODES.md) signs in to what the usual shape gives:
/// the same `amr`, role, organisation and assurance level.
#[test]
fn each_cis2_claim_shape_signs_in_as_the_usual_one_does() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);
    let usual = world.ok(&["--profile", "t", "login", "--json"]).json();
    world.ok(&["--profile", "t", "logout"]);
    let same = |session: &Value| {
        [
            "/user/id",
            "/amr",
            "/authentication_assurance_level",
            "/id_assurance_level",
            "/role/id",
            "/role/organisation/code",
            "/role/role_code",
            "/role_choice",
        ]
        .into_iter()
        .filter(|pointer| session.pointer(pointer) != usual.pointer(pointer))
        .collect::<Vec<_>>()
    };
    for mode in [
        "amr_as_string",
        "roles_as_object",
        "role_ids_as_numbers",
        "role_fields_missing",
        "assurance_levels_as_numbers",
        "clock_skew=90",
        "clock_skew=-90",
    ] {
        let mode: mock_cis2::Mode = mode.parse().expect("a mode");
        mock.mock().switch_on(mode.clone());
        let session = world.ok(&["--profile", "t", "login", "--json"]).json();
        assert_eq!(same(&session), Vec::<&str>::new(), "{mode}: {session:#}");
        assert_eq!(
            session["amr"],
            serde_json::json!(["N3_SMARTCARD"]),
            "{mode}"
        );
        world.ok(&["--profile", "t", "logout"]);
        mock.mock().switch_off(mode.name());
    }
}

/// `careid login`, `careid status` and the app (`views::user`) name the user one way.
#[test]
fn login_and_status_name_the_user_the_same_way() {
    let mock = mock_signing_in(NURSE);
    let world = world_for(&mock, &[]);
    let named = format!("as Flo Nurse ({NURSE})");
    let login = world.ok(&["--profile", "t", "login"]);
    assert!(login.stdout.contains(&named), "{}", login.text());
    let status = world.ok(&["--profile", "t", "status"]);
    assert!(status.stdout.contains(&named), "{}", status.text());
}

/// A client authentication the provider's discovery does not list is refused before the
/// browser opens, naming the methods it lists (without the check, the tester would sign in and
/// then meet `invalid_client`).
#[test]
fn a_client_authentication_the_provider_does_not_list_is_refused_before_the_browser_opens() {
    use mock_cis2::ClientAuthMethod;
    let auto_login: AutoLogin = NURSE.parse().expect("auto-login syntax");
    let mock = MockHost::start(
        MockCis2::new()
            .auto_login(auto_login)
            .token_endpoint_auth_methods(&[
                ClientAuthMethod::PrivateKeyJwt,
                ClientAuthMethod::ClientSecretJwt,
            ]),
    )
    .expect("the mock starts");
    // The profile's client authenticates with client_secret_basic.
    let world = world_for(&mock, &[]);
    let login = world.run(&["--profile", "t", "login"]).expect("runs");
    assert_eq!(login.code, Some(2), "{}", login.text());
    assert!(
        login.stderr.contains(
            "the provider does not take client_secret_basic at its token endpoint: its discovery \
             lists private_key_jwt, client_secret_jwt"
        ),
        "{}",
        login.text()
    );
    assert!(!world.browser_log().exists(), "the browser was not opened");
    assert_eq!(
        endpoints_since(&mock, 0),
        ["/.well-known/openid-configuration"]
    );
    assert!(world.stored_sessions().is_empty());
}
