//! CIS2 as it really is (REFERENCE §1 and §5), signed in with the real `careid` against the mock:
//! an ID token without `acr`, assurance levels sent as numbers, and an issuer that spells out
//! its default port (the `:443` trap, here `:80` on loopback).

use careid_e2e::{CliWorld, MockHost};
use mock_cis2::{AutoLogin, MockCis2, TokenKind, CIS2_REALM_PATH};
use serde_json::Value;

const NURSE: &str = "555057896106";
const PKJWT_CLIENT: &str = "555000000005.apps.national";

fn nurse() -> AutoLogin {
    format!("{NURSE}:smartcard").parse().expect("auto-login")
}

/// The claims of the ID tokens `mock` issued, oldest first.
fn id_tokens(mock: &MockHost) -> Vec<Value> {
    mock.mock()
        .issued_tokens()
        .into_iter()
        .filter(|token| token.kind == TokenKind::IdToken)
        .map(|token| token.claims)
        .collect()
}

/// CIS2 may leave `acr` out (REFERENCE §5): careid signs in, and refreshes, on
/// `authentication_assurance_level` alone, with AAL3 asked and AAL3 given.
#[test]
fn a_sign_in_without_acr_is_accepted_on_the_assurance_level() {
    let mock = MockHost::start(
        MockCis2::new()
            .auto_login(nurse())
            .fault("missing_acr".parse().expect("a fault")),
    )
    .expect("mock");
    let world = CliWorld::new().expect("home");
    world.add_mock_profile("t", &mock.issuer(), &["--acr", "AAL3_ANY"]);
    let login = world.ok(&["--profile", "t", "login", "--json"]).json();
    assert_eq!(login["acr"], Value::Null, "no acr arrived");
    assert_eq!(login["authentication_assurance_level"], 3);
    let issued = id_tokens(&mock);
    assert!(
        issued.iter().all(|claims| claims.get("acr").is_none()),
        "the mock sent no acr: {issued:?}"
    );
    assert_eq!(issued[0]["authentication_assurance_level"], "3");
    // A refresh is held to the AAL3 the sign-in asked for, again without acr.
    world.ok(&["--profile", "t", "token", "--refresh"]);
    assert!(
        id_tokens(&mock).len() >= 2,
        "the refresh brought an ID token without acr too, and it was accepted"
    );
}

/// An issuer with an explicit default port, as CIS2's `:443`: on loopback over http that is
/// `:80`, so the mock listens on port 80 (tests run as root here and in CI). careid keeps the
/// port everywhere: discovery's issuer and the ID token's `iss` compared as strings, the
/// `private_key_jwt` assertion's `aud` the token endpoint exactly as published (the mock
/// refuses any other spelling). The mock sends the assurance levels as numbers, which pass the
/// AAL3 and IAL3 checks. A profile that drops the port is another issuer: refused.
#[test]
fn an_issuer_with_an_explicit_default_port_and_numeric_levels_signs_in() {
    let issuer = format!("http://127.0.0.1:80{CIS2_REALM_PATH}");
    let mock = match MockHost::start(
        MockCis2::new()
            .issuer(issuer.clone())
            .port(80)
            .auto_login(nurse())
            .assurance_levels_as_numbers(true),
    ) {
        Ok(mock) => mock,
        Err(error) => {
            eprintln!(
                "SKIPPED an_issuer_with_an_explicit_default_port_and_numeric_levels_signs_in: \
                 port 80 cannot be bound here ({error:#}); it needs root or \
                 CAP_NET_BIND_SERVICE and a free port 80"
            );
            return;
        }
    };
    assert_eq!(mock.issuer(), issuer);
    let world = CliWorld::new().expect("home");
    let key = careid_e2e::binaries::workspace_root()
        .join("crates/mock-cis2/data/test-keys/private-key-jwt-client.pem");
    world.ok(&[
        "profile",
        "add",
        "p",
        "--issuer",
        &issuer,
        "--client-id",
        PKJWT_CLIENT,
        "--client-auth",
        "private_key_jwt",
        "--assertion-alg",
        "RS512",
        "--acr",
        "AAL3_ANY",
        "--min-id-assurance-level",
        "3",
    ]);
    world.ok(&[
        "profile",
        "secret",
        "set",
        "p",
        "--from-file",
        &key.to_string_lossy(),
    ]);
    let login = world.ok(&["--profile", "p", "login", "--json"]).json();
    assert_eq!(login["issuer"], issuer.as_str(), "kept with its :80");
    assert_eq!(login["user"]["id"], NURSE);
    assert_eq!(login["authentication_assurance_level"], 3);
    assert_eq!(login["id_assurance_level"], 3);
    let issued = id_tokens(&mock);
    let claims = issued.last().expect("an ID token");
    assert_eq!(claims["iss"], issuer.as_str(), "the token's iss has :80");
    assert_eq!(claims["aud"], PKJWT_CLIENT);
    assert!(
        claims["authentication_assurance_level"].is_u64() && claims["id_assurance_level"].is_u64(),
        "the levels were numbers: {claims}"
    );
    // The code exchange authenticated with a client assertion at `:80/.../access_token`.
    let token_requests: Vec<_> = mock
        .mock()
        .request_log()
        .into_iter()
        .filter(|request| request.endpoint == "/access_token")
        .map(|request| request.status)
        .collect();
    assert_eq!(token_requests, [200], "one accepted code exchange");
    // And a refresh with a fresh assertion, held to the same issuer string.
    world.ok(&["--profile", "p", "token", "--refresh"]);
    let refreshes = mock
        .mock()
        .request_log()
        .into_iter()
        .filter(|request| request.endpoint == "/access_token")
        .count();
    assert_eq!(refreshes, 2, "the refresh reached the token endpoint");

    // The same provider named without its port is not the same issuer.
    let dropped = format!("http://127.0.0.1{CIS2_REALM_PATH}");
    world.add_mock_profile("d", &dropped, &[]);
    let refused = world.run(&["--profile", "d", "login"]).expect("runs");
    assert_eq!(refused.code, Some(3), "{}", refused.text());
    assert!(refused.stderr.contains("issuer"), "{}", refused.text());
    assert!(
        world
            .stored_sessions()
            .iter()
            .all(|entry| !entry.starts_with("session/d/")),
        "nothing stored for the portless profile"
    );
}
