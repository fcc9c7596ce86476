//! The signing algorithms CIS2 takes, through the `careid` CLI: a CIS2 profile's client
//! assertions are RS256 or RS512 only (an ES256 profile or an EC key is refused when it is added,
//! stored or used), and UserInfo signed RS512, as a CIS2 registration may choose, signs in.

use careid_e2e::cli_world::MOCK_CLIENT;
use careid_e2e::{CliWorld, MockHost};
use mock_cis2::{ClientRegistry, MockCis2, TokenKind};
use serde_json::{json, Value};

/// CIS2 INT's issuer, exactly as published.
const INT_ISSUER: &str = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
const CLIENT_ID: &str = "555000000009.apps.supplier";
const CIS2_RULE: &str = "CIS2 accepts private_key_jwt assertions signed RS256 or RS512 only";
const NURSE: &str = "555057896106";

fn workspace_file(path: &str) -> String {
    careid_e2e::binaries::workspace_root()
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn ec_key() -> String {
    workspace_file("crates/careid-core/tests/data/test-key-ec-p256-pkcs8.pem")
}

fn rsa_key() -> String {
    workspace_file("crates/mock-cis2/data/test-keys/private-key-jwt-client.pem")
}

#[test]
fn profile_for_cis2_refuses_es256_when_added_stored_and_signing_in() {
    let world = CliWorld::new().expect("a test home");

    // `profile add`: an ES256 assertion for a CIS2 issuer, custom or built in.
    for args in [
        vec![
            "profile",
            "add",
            "cis2",
            "--issuer",
            INT_ISSUER,
            "--client-id",
            CLIENT_ID,
            "--client-auth",
            "private_key_jwt",
            "--assertion-alg",
            "ES256",
        ],
        vec![
            "profile",
            "add",
            "live",
            "--client-id",
            CLIENT_ID,
            "--assertion-alg",
            "ES256",
        ],
    ] {
        let refused = world.run(&args).expect("careid runs");
        assert_eq!(refused.code, Some(2), "{args:?}: {}", refused.text());
        assert!(
            refused.stderr.contains(CIS2_RULE) && refused.stderr.contains("ES256"),
            "{args:?}: {}",
            refused.text()
        );
    }
    let profiles = world.home().config_dir().join("profiles.toml");
    assert!(
        !std::fs::read_to_string(&profiles)
            .unwrap_or_default()
            .contains("ES256"),
        "nothing refused was saved"
    );

    // `profile secret set`: an EC key for CIS2 is refused and not stored; an RSA key is stored.
    world.ok(&["profile", "add", "int", "--client-id", CLIENT_ID]);
    let refused = world
        .run(&["profile", "secret", "set", "int", "--from-file", &ec_key()])
        .expect("careid runs");
    assert_eq!(refused.code, Some(2), "{}", refused.text());
    assert!(
        refused.stderr.contains(CIS2_RULE) && refused.stderr.contains("\"int\""),
        "{}",
        refused.text()
    );
    assert!(
        !world
            .keychain_accounts()
            .iter()
            .any(|account| account.starts_with("profile/int/")),
        "{:?}",
        world.keychain_accounts()
    );
    world.ok(&["profile", "secret", "set", "int", "--from-file", &rsa_key()]);

    // Elsewhere ES256 and EC keys are fine.
    world.ok(&[
        "profile",
        "add",
        "edge",
        "--issuer",
        "https://idp.example",
        "--client-id",
        CLIENT_ID,
        "--client-auth",
        "private_key_jwt",
        "--assertion-alg",
        "ES256",
    ]);
    world.ok(&["profile", "secret", "set", "edge", "--from-file", &ec_key()]);

    // An EC key already in the keychain when the profile turns out to be CIS2's (the file
    // edited by hand): sign-in refuses it before anything is sent.
    let text = std::fs::read_to_string(&profiles).expect("profiles written");
    let edited = text
        .replace("https://idp.example", INT_ISSUER)
        .replace("assertion_algorithm = \"ES256\"\n", "");
    assert_ne!(text, edited);
    std::fs::write(&profiles, edited).expect("profiles edited");
    let login = world
        .run(&["--profile", "edge", "login"])
        .expect("careid runs");
    assert_eq!(login.code, Some(2), "{}", login.text());
    assert!(
        login.stderr.contains(CIS2_RULE) && login.stderr.contains("\"edge\""),
        "{}",
        login.text()
    );
    assert!(
        std::fs::read_to_string(world.browser_log())
            .unwrap_or_default()
            .is_empty(),
        "no browser was opened"
    );
}

/// The mock with its default client registered for UserInfo and ID tokens signed RS512.
fn mock_with_rs512_userinfo() -> MockHost {
    let mut file: Value =
        serde_json::from_str(mock_cis2::BUILTIN_CLIENTS_JSON).expect("the clients file");
    let clients = file["clients"].as_array_mut().expect("clients");
    clients.retain(|client| client["client_id"] == MOCK_CLIENT);
    clients[0]["userinfo_signed"] = json!(true);
    clients[0]["userinfo_signed_response_alg"] = json!("RS512");
    clients[0]["id_token_signed_response_alg"] = json!("RS512");
    let registry =
        ClientRegistry::from_json(&file.to_string(), "test clients").expect("valid clients");
    MockHost::start(
        MockCis2::new()
            .clients(registry)
            .auto_login(NURSE.parse().expect("auto-login")),
    )
    .expect("the mock starts")
}

#[test]
fn signin_accepts_userinfo_signed_rs512() {
    let mock = mock_with_rs512_userinfo();
    let world = CliWorld::new().expect("a test home");
    world.add_mock_profile("t", &mock.issuer(), &["--userinfo-signed"]);

    let login = world.ok(&["--profile", "t", "login", "--json"]);
    let session = login.json();
    assert_eq!(session["user"]["id"], NURSE, "{session:#}");
    assert_eq!(session["userinfo"]["sub"], NURSE, "{session:#}");

    let issued = mock.mock().issued_tokens();
    let signed = |kind: TokenKind| {
        issued
            .iter()
            .find(|token| token.kind == kind && token.client_id == MOCK_CLIENT)
            .unwrap_or_else(|| panic!("the mock issued a {}: {issued:#?}", kind.as_str()))
    };
    let userinfo = signed(TokenKind::SignedUserInfo);
    assert_eq!(userinfo.alg.as_deref(), Some("RS512"));
    assert_eq!(userinfo.claims["iss"], mock.issuer());
    assert!(userinfo.claims.get("aud").is_none(), "CIS2's has no aud");
    assert_eq!(
        session["userinfo"]["nhsid_nrbac_roles"], userinfo.claims["nhsid_nrbac_roles"],
        "careid shows the roles of the signed answer"
    );
    assert_eq!(signed(TokenKind::IdToken).alg.as_deref(), Some("RS512"));
    let id_token = world.ok(&["--profile", "t", "token", "--id"]).stdout;
    let header = id_token.trim().split('.').next().expect("a JWS").to_owned();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
            .expect("base64url"),
    )
    .expect("JSON");
    assert_eq!(header["alg"], "RS512");
}
