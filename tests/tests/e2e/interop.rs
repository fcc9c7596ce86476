//! Interoperability with a provider nobody here wrote: the `careid` CLI, set up with
//! `careid profile add` and `careid profile secret set` as a tester would, signs in to node
//! `oidc-provider` (configured like CIS2) through the scripted browser, which completes its login
//! and consent pages. Both confidential client methods are covered: `client_secret_basic`, and
//! `private_key_jwt` with RS256 and RS512 assertions; and ID tokens signed RS256, RS512, PS256
//! and ES256 by an independent signer, each verified by careid at sign-in and on refresh.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_e2e::{CliWorld, OidcProvider, OidcProviderOptions};
use serde_json::Value;

/// The login name the browser types in; the provider makes it the subject.
const LOGIN: &str = "555000000042";

/// The provider's test user's one role.
const ROLE: &str = "555000000201";

const CIS2_SCOPES: [&str; 5] = [
    "openid",
    "profile",
    "nhsperson",
    "associatedorgs",
    "nationalrbacaccess",
];

/// A JWS's header and payload, decoded without checking (careid checked them).
fn jws_parts(jws: &str) -> (Value, Value) {
    let parts: Vec<&str> = jws.trim().split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {jws}");
    let decode = |part: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (decode(parts[0]), decode(parts[1]))
}

fn provider() -> OidcProvider {
    // With the consent page shown, so the browser goes through both of oidc-provider's pages.
    OidcProvider::start(OidcProviderOptions {
        consent: true,
        ..OidcProviderOptions::default()
    })
    .expect("oidc-provider starts (cargo xtask test installs it)")
}

/// A tester's machine with profile `name` for one of the provider's clients, its secret or key
/// stored through `careid profile secret set`, and the browser signing in as [`LOGIN`].
fn world_for(provider: &OidcProvider, name: &str, method: &str, extra: &[&str]) -> CliWorld {
    let client_id = match method {
        "client_secret_basic" => provider.secret_client_id(),
        "private_key_jwt" => provider.key_client_id(),
        other => panic!("no {other} client"),
    };
    world_for_client(provider, name, client_id, method, extra)
}

/// [`world_for`] with the client chosen by id.
fn world_for_client(
    provider: &OidcProvider,
    name: &str,
    client_id: &str,
    method: &str,
    extra: &[&str],
) -> CliWorld {
    let mut world = CliWorld::new().expect("a test home");
    world.set_env("CAREID_TEST_BROWSER", "http");
    world.set_env("CAREID_TEST_BROWSER_LOGIN", LOGIN);
    let secret = match method {
        "client_secret_basic" => provider.client_secret(),
        "private_key_jwt" => provider.private_key_pem(),
        other => panic!("no {other} client"),
    };
    let mut args = vec![
        "profile",
        "add",
        name,
        "--issuer",
        provider.issuer(),
        "--client-id",
        client_id,
        "--client-auth",
        method,
    ];
    // A profile for a provider that is not CIS2 asks for `openid` alone unless told: ask for
    // CIS2's scopes, which the provider is configured to answer as CIS2 does.
    for scope in CIS2_SCOPES {
        args.extend_from_slice(&["--scope", scope]);
    }
    args.extend_from_slice(extra);
    world.ok(&args);
    let stored = world
        .run_with_input(&["profile", "secret", "set", name], secret)
        .expect("careid runs");
    assert_eq!(stored.code, Some(0), "{method}: {}", stored.text());
    world
}

/// login, status, token (twice, through rotation), token --id, userinfo in a new process, then
/// logout with revocation and the end-session URL. ID tokens are signed RS256.
fn sign_in_use_and_sign_out(provider: &OidcProvider, world: &CliWorld, name: &str) {
    sign_in_use_and_sign_out_signed(provider, world, name, "RS256");
}

/// [`sign_in_use_and_sign_out`] for a client whose ID tokens are signed `alg`: the one from the
/// sign-in and the refreshed ones.
fn sign_in_use_and_sign_out_signed(
    provider: &OidcProvider,
    world: &CliWorld,
    name: &str,
    alg: &str,
) {
    let login = world
        .run(&["--profile", name, "login", "--json"])
        .expect("careid runs");
    assert_eq!(login.code, Some(0), "{name}: login:\n{}", login.text());
    let session = login.json();
    assert_eq!(session["user"]["id"], LOGIN, "{name}: {session:#}");
    assert_eq!(session["issuer"], provider.issuer(), "{name}");
    assert_eq!(
        session["refreshable"], true,
        "{name}: a refresh token was kept"
    );
    assert_eq!(session["role_choice"], "automatic", "{name}: {session:#}");
    assert_eq!(session["role"]["id"], ROLE, "{name}");
    assert_eq!(session["userinfo"]["nhsid_useruid"], LOGIN, "{name}");
    // oidc-provider offers pushed authorization requests (RFC 9126): careid pushed the
    // parameters and the browser was given only the client id and the reference.
    let opened = std::fs::read_to_string(world.browser_log()).expect("the browser was opened");
    assert!(opened.contains("/authorize?client_id="), "{opened}");
    assert!(opened.contains("&request_uri=urn"), "{opened}");
    assert!(
        !opened.contains("code_challenge") && !opened.contains("state="),
        "{opened}"
    );
    // One refresh token and the last ID token, kept under the profile and subject (the keychain
    // may split a secret into a header entry and parts: `refresh-token`, `refresh-token#0.0`, ...).
    let stored = world.stored_sessions();
    let session = format!("session/{name}/{LOGIN}/");
    assert!(
        stored.contains(&format!("{session}refresh-token"))
            && stored.contains(&format!("{session}id-token"))
            && stored.iter().all(|entry| entry.starts_with(&session)),
        "{name}: one session in the keychain: {stored:?}"
    );

    let status = world.ok(&["--profile", name, "status", "--json"]).json();
    assert_eq!(status["signed_in"], true, "{name}: {status:#}");
    assert_eq!(status["user"]["id"], LOGIN, "{name}: {status:#}");
    assert_eq!(status["refreshable"], true, "{name}: {status:#}");
    assert_eq!(status["role"]["id"], ROLE, "{name}: {status:#}");

    // oidc-provider rotates the refresh token on every use and revokes the grant when a spent
    // one comes back: a second and a third refresh work only if careid kept each rotated one.
    let first = world.ok(&["--profile", name, "token", "--refresh"]).stdout;
    assert!(!first.trim().is_empty(), "{name}: an access token");
    let second = world.ok(&["--profile", name, "token", "--refresh"]).stdout;
    assert!(!second.trim().is_empty(), "{name}: an access token");
    assert_ne!(
        first, second,
        "{name}: each refresh gives a new access token"
    );

    let id_token = world.ok(&["--profile", name, "token", "--id"]).stdout;
    let (header, claims) = jws_parts(&id_token);
    assert_eq!(header["alg"], alg, "{name}: {header}");
    assert_eq!(claims["iss"], provider.issuer(), "{name}: the exact issuer");
    assert_eq!(claims["sub"], LOGIN, "{name}: {claims}");

    // A new process restores the session from the keychain: UserInfo with the kept token.
    let userinfo = world.ok(&["--profile", name, "userinfo", "--json"]).json();
    assert_eq!(userinfo["sub"], LOGIN, "{name}: {userinfo:#}");
    assert_eq!(userinfo["nhsid_useruid"], LOGIN, "{name}: {userinfo:#}");
    assert_eq!(
        userinfo["nhsid_nrbac_roles"][0]["person_roleid"], ROLE,
        "{name}: {userinfo:#}"
    );

    let logout = world.ok(&["--profile", name, "logout"]);
    assert!(
        logout
            .stdout
            .contains("The session's tokens were revoked at the provider."),
        "{name}: {}",
        logout.text()
    );
    let end_session = format!("{}/connect/endSession", provider.issuer());
    assert!(
        logout.stdout.contains(&end_session),
        "{name}: the end-session URL is shown: {}",
        logout.text()
    );
    assert!(
        world.stored_sessions().is_empty(),
        "{name}: nothing left in the keychain"
    );
    let after = world.run(&["--profile", name, "token"]).expect("runs");
    assert_eq!(after.code, Some(8), "{name}: signed out: {}", after.text());
}

#[test]
fn interop_client_secret_basic_login_token_userinfo_logout() {
    let provider = provider();
    let world = world_for(&provider, "basic", "client_secret_basic", &[]);
    sign_in_use_and_sign_out(&provider, &world, "basic");
}

#[test]
fn interop_private_key_jwt_rs256_login_token_userinfo_logout() {
    let provider = provider();
    let world = world_for(
        &provider,
        "key256",
        "private_key_jwt",
        &["--assertion-alg", "RS256"],
    );
    sign_in_use_and_sign_out(&provider, &world, "key256");
}

#[test]
fn interop_private_key_jwt_rs512_login_token_userinfo_logout() {
    let provider = provider();
    let world = world_for(
        &provider,
        "key512",
        "private_key_jwt",
        &["--assertion-alg", "RS512"],
    );
    sign_in_use_and_sign_out(&provider, &world, "key512");
}

/// careid signs in to a client whose ID tokens oidc-provider signs with `alg`, refreshes (each
/// refreshed ID token signed the same way), reads UserInfo and signs out.
fn id_token_signed_with(alg: &str) {
    let provider = provider();
    let client_id = provider
        .client_for_id_token_alg(alg)
        .unwrap_or_else(|| panic!("a client for {alg}"))
        .to_owned();
    let name = alg.to_ascii_lowercase();
    let world = world_for_client(&provider, &name, &client_id, "client_secret_basic", &[]);
    sign_in_use_and_sign_out_signed(&provider, &world, &name, alg);
}

#[test]
fn interop_id_token_signed_rs512_login_token_userinfo_logout() {
    id_token_signed_with("RS512");
}

#[test]
fn interop_id_token_signed_ps256_login_token_userinfo_logout() {
    id_token_signed_with("PS256");
}

#[test]
fn interop_id_token_signed_es256_login_token_userinfo_logout() {
    id_token_signed_with("ES256");
}

/// `careid logout --browser` opens the end-session URL, with the ID token as a hint, and the
/// browser completes oidc-provider's sign-out confirmation, ending on its success page.
#[test]
fn interop_logout_in_the_browser_ends_the_providers_session() {
    let provider = provider();
    let mut world = world_for(&provider, "t", "client_secret_basic", &[]);
    world.ok(&["--profile", "t", "login"]);
    let opened_before = std::fs::read_to_string(world.browser_log())
        .expect("browser log")
        .lines()
        .count();

    // careid starts the browser in the background with its output discarded: a wrapper keeps
    // the scripted browser's own report of its visit, and its exit status.
    let visit = world.home().path().join("browser-visit.log");
    let wrapper = world.home().path().join("browser-wrapper.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n'{browser}' \"$@\" 2>>'{visit}'\necho \"exit $?\" >>'{visit}'\n",
            browser = careid_e2e::binaries::test_browser()
                .expect("test-browser is built")
                .display(),
            visit = visit.display(),
        ),
    )
    .expect("wrapper written");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .expect("wrapper made executable");
    }
    world.set_env("BROWSER", wrapper.display().to_string());

    let logout = world.ok(&["--profile", "t", "logout", "--browser"]);
    assert!(logout.stdout.contains("revoked"), "{}", logout.text());
    assert!(world.stored_sessions().is_empty());

    let report = wait_for_file_line(&visit, "exit ");
    let log = std::fs::read_to_string(world.browser_log()).expect("browser log");
    let opened: Vec<&str> = log.lines().skip(opened_before).collect();
    let end_session = format!("{}/connect/endSession", provider.issuer());
    assert_eq!(opened.len(), 1, "one page opened: {opened:?}");
    assert!(
        opened[0].starts_with(&format!("{end_session}?")),
        "the end-session URL was opened: {opened:?}"
    );
    // The URL printed is the one opened, less the ID token, which is on no terminal.
    let printed = logout
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("The provider's browser session ends at: "))
        .expect("the end-session URL is printed");
    assert!(
        opened[0].starts_with(&format!("{printed}&id_token_hint=")),
        "{opened:?}: {}",
        logout.text()
    );
    assert!(
        !logout.text().contains("id_token_hint="),
        "{}",
        logout.text()
    );
    let url = url::Url::parse(opened[0]).expect("a URL");
    let hint = url
        .query_pairs()
        .find(|(name, _)| name == "id_token_hint")
        .map(|(_, value)| value.into_owned())
        .expect("an id_token_hint");
    let (_, claims) = jws_parts(&hint);
    assert_eq!(claims["sub"], LOGIN);
    assert_eq!(claims["iss"], provider.issuer());

    // oidc-provider checked the hint and showed its confirmation form (hidden `xsrf`); the
    // browser submitted it and ended on the sign-out success page.
    assert!(report.contains("exit 0"), "{report}");
    assert!(
        report.contains(&format!("submitting the  form to {end_session}/confirm")),
        "the sign-out confirmation was submitted: {report}"
    );
    assert!(
        report.contains(&format!("test-browser: 200 OK {end_session}/success")),
        "the visit ended on the success page: {report}"
    );
}

/// The file's text once a line starting with `prefix` is in it (at most 30 s).
fn wait_for_file_line(path: &std::path::Path, prefix: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().any(|line| line.starts_with(prefix)) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {prefix:?} line in {} after 30 s: {text}",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `careid doctor --issuer` reads oidc-provider's discovery document and keys.
#[test]
fn interop_doctor_reports_on_oidc_provider() {
    let provider = provider();
    let world = CliWorld::new().expect("a test home");
    let doctor = world
        .run(&["doctor", "--issuer", provider.issuer()])
        .expect("careid runs");
    assert!(
        matches!(doctor.code, Some(0 | 3)),
        "a report, passed or not: {}",
        doctor.text()
    );
    let line = |name: &str| -> String {
        doctor
            .stdout
            .lines()
            // `PASS  NAME<at least two spaces>detail`
            .find(|line| {
                line.get(6..)
                    .and_then(|rest| rest.strip_prefix(name))
                    .is_some_and(|after| after.starts_with("  "))
            })
            .unwrap_or_else(|| panic!("no {name} line: {}", doctor.text()))
            .to_owned()
    };
    for name in ["Issuer", "PKCE S256", "Issuer in callback"] {
        let found = line(name);
        assert!(found.starts_with("PASS"), "{found}\n{}", doctor.text());
    }
    assert!(
        line("Issuer in callback").contains("RFC 9207"),
        "{}",
        doctor.text()
    );

    let json = world
        .run(&["--json", "doctor", "--issuer", provider.issuer()])
        .expect("careid runs")
        .json();
    assert_eq!(json["issuer"], provider.issuer());
}
