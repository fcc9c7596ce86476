//! The doctor report: the mock (which imitates CIS2) passes every check; hand-made documents
//! that lack or break what careid needs get the right warnings and failures.

use std::time::{Duration, SystemTime};

use crate::issuer_url;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_core::{
    diagnose, CheckStatus, DoctorReport, HttpClient, HttpSettings, ProviderCache, ProviderMetadata,
};
use careid_test_fixtures::discovery::cis2_int_document as int_document;
use careid_test_fixtures::CIS2_INT_ISSUER as INT_ISSUER;
use serde_json::{json, Value};

fn metadata(document: Value) -> ProviderMetadata {
    ProviderMetadata::from_document(document, "test").expect("a valid document")
}

/// An RSA public JWK whose modulus has `bits` bits.
fn rsa_key(kid: &str, bits: usize) -> Value {
    let mut modulus = vec![0xC5u8; bits / 8];
    modulus[0] = 0x80;
    json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(&modulus), "e": "AQAB"})
}

fn status(report: &DoctorReport, name: &str) -> CheckStatus {
    report
        .check(name)
        .unwrap_or_else(|| panic!("no check {name}:\n{}", report.render_text()))
        .status
}

fn detail<'a>(report: &'a DoctorReport, name: &str) -> &'a str {
    &report.check(name).expect("the check").detail
}

#[tokio::test]
async fn the_mock_passes_every_check() {
    let mock = mock_cis2::MockCis2::new().start().await.unwrap();
    let http = HttpClient::new(HttpSettings::default()).unwrap();
    let cache = ProviderCache::new(Duration::from_secs(3600));
    let now = SystemTime::now();
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now)
        .await
        .unwrap();
    let jwks = cache.jwks(&http, &metadata, now).await.unwrap();

    let report = diagnose(&issuer_url(mock.issuer()), &metadata, Some(&jwks));
    let text = report.render_text();
    assert!(report.passed(), "{text}");
    for check in &report.checks {
        assert_eq!(check.status, CheckStatus::Pass, "{text}");
    }
    assert_eq!(text.lines().count(), report.checks.len());
    let pkce = text
        .lines()
        .find(|line| line.contains("PKCE S256"))
        .expect("a PKCE line");
    assert!(pkce.starts_with("PASS  PKCE S256 "), "{pkce}");
    assert!(
        pkce.ends_with("code_challenge_methods_supported has S256"),
        "{pkce}"
    );
    assert!(detail(&report, "JWKS").contains("2048"), "{text}");
    assert!(
        detail(&report, "Transport security").contains("loopback"),
        "{text}"
    );
}

#[test]
fn cis2_int_as_published_passes_and_its_port_is_noted() {
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(int_document()), None);
    let text = report.render_text();
    assert!(report.passed(), "{text}");
    assert_eq!(status(&report, "Issuer"), CheckStatus::Pass);
    assert!(detail(&report, "Issuer").contains(":443"), "{text}");
    assert_eq!(status(&report, "Transport security"), CheckStatus::Pass);
    assert!(
        detail(&report, "Transport security").contains("https"),
        "{text}"
    );
    assert_eq!(status(&report, "Scopes"), CheckStatus::Pass, "{text}");
    assert_eq!(status(&report, "Claims"), CheckStatus::Pass, "{text}");
    assert!(
        detail(&report, "Token endpoint auth").contains("confidential"),
        "{text}"
    );
    // Without a key set the report says so, and does not fail.
    assert_eq!(status(&report, "JWKS"), CheckStatus::Warn);

    let jwks = json!({"keys": [rsa_key("k1", 2048), rsa_key("k2", 4096)]});
    let report = diagnose(
        &issuer_url(INT_ISSUER),
        &metadata(int_document()),
        Some(&jwks),
    );
    assert_eq!(status(&report, "JWKS"), CheckStatus::Pass);
    assert!(detail(&report, "JWKS").starts_with("2 keys: k1 (RSA 2048 RS256 sig), k2 (RSA 4096"));
}

/// careid doctor never fails a provider careid can sign in with: `none` beside algorithms careid
/// takes is a warning that says which careid uses; `none` alone fails.
#[test]
fn a_document_without_pkce_or_iss_warns_and_one_offering_none_beside_rs256_warns() {
    let mut document = int_document();
    let object = document.as_object_mut().unwrap();
    object.remove("code_challenge_methods_supported");
    object.remove("authorization_response_iss_parameter_supported");
    object.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(["RS256", "none"]),
    );
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(document), None);
    let text = report.render_text();
    assert_eq!(status(&report, "PKCE S256"), CheckStatus::Warn, "{text}");
    assert!(
        detail(&report, "PKCE S256").contains("unverified"),
        "{text}"
    );
    assert_eq!(
        status(&report, "Issuer in callback"),
        CheckStatus::Warn,
        "{text}"
    );
    assert_eq!(
        status(&report, "ID token signing"),
        CheckStatus::Warn,
        "{text}"
    );
    assert!(
        detail(&report, "ID token signing").contains("careid verifies RS256"),
        "{text}"
    );
    assert!(report.passed(), "{text}");

    let mut document = int_document();
    document["id_token_signing_alg_values_supported"] = json!(["none"]);
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(document), None);
    let text = report.render_text();
    assert!(!report.passed());
    assert!(
        text.lines()
            .any(|line| line.starts_with("FAIL  ID token signing")),
        "{text}"
    );
}

#[test]
fn unsigned_client_assertions_offered_beside_signed_ones_warn_naming_careids() {
    let mut document = int_document();
    document["token_endpoint_auth_signing_alg_values_supported"] =
        json!(["RS256", "RS512", "none"]);
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(document), None);
    let text = report.render_text();
    assert_eq!(
        status(&report, "Assertion signing algs"),
        CheckStatus::Warn,
        "{text}"
    );
    assert!(
        detail(&report, "Assertion signing algs")
            .contains("careid never sends one: it signs RS256 or RS512"),
        "{text}"
    );
    assert!(report.passed(), "{text}");
}

/// A profile's client authentication against the provider: one it does not take fails, naming
/// those it does (careid refuses to sign in with it); otherwise the algorithm careid signs with.
#[test]
fn a_profiles_client_authentication_is_checked_against_discovery() {
    use careid_core::{AssertionAlgorithm, ClientAuth, Profile};
    let profile = |method: ClientAuth, algorithm: Option<&str>| Profile {
        client_auth: method,
        assertion_algorithm: algorithm.map(|alg| alg.parse::<AssertionAlgorithm>().unwrap()),
        ..careid_core::profile::built_in_mock()
    };
    let mut narrow = int_document();
    narrow["token_endpoint_auth_methods_supported"] = json!(["private_key_jwt"]);
    narrow["token_endpoint_auth_signing_alg_values_supported"] = json!(["RS256"]);
    let mut silent = int_document();
    silent
        .as_object_mut()
        .unwrap()
        .remove("token_endpoint_auth_methods_supported");
    let cases = [
        (
            profile(ClientAuth::ClientSecretBasic, None),
            int_document(),
            CheckStatus::Pass,
            "client_secret_basic, which the provider takes",
        ),
        (
            profile(ClientAuth::ClientSecretPost, None),
            narrow.clone(),
            CheckStatus::Fail,
            "careid will not sign in: the provider does not take client_secret_post at its token endpoint: its discovery lists private_key_jwt",
        ),
        (
            profile(ClientAuth::PrivateKeyJwt, Some("RS512")),
            narrow.clone(),
            CheckStatus::Warn,
            "careid signs its assertions RS512, which token_endpoint_auth_signing_alg_values_supported does not list (RS256)",
        ),
        (
            profile(ClientAuth::PrivateKeyJwt, Some("RS256")),
            narrow,
            CheckStatus::Pass,
            "careid signs its assertions RS256",
        ),
        (
            profile(ClientAuth::ClientSecretJwt, None),
            int_document(),
            CheckStatus::Pass,
            "careid signs its assertions HS256",
        ),
        (
            profile(ClientAuth::PrivateKeyJwt, None),
            silent,
            CheckStatus::Fail,
            "which means client_secret_basic only",
        ),
    ];
    for (profile, document, expected, words) in cases {
        let document = metadata(document);
        let mut report = diagnose(&issuer_url(INT_ISSUER), &document, None);
        report.add_profile_checks(&profile, &document);
        let check = report.check("Client authentication").expect("the check");
        assert_eq!(check.status, expected, "{}", check.detail);
        assert!(check.detail.contains(words), "{}", check.detail);
    }
}

#[test]
fn what_careid_cannot_use_fails() {
    let mut document = int_document();
    let object = document.as_object_mut().unwrap();
    object.insert("response_types_supported".into(), json!(["id_token"]));
    object.insert("response_modes_supported".into(), json!(["form_post"]));
    object.insert("code_challenge_methods_supported".into(), json!(["plain"]));
    object.insert(
        "token_endpoint_auth_methods_supported".into(),
        json!(["tls_client_auth"]),
    );
    object.insert("scopes_supported".into(), json!(["profile"]));
    object.insert(
        "userinfo_endpoint".into(),
        json!("http://am.example.nhs.uk/userinfo"),
    );
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(document), None);
    let text = report.render_text();
    for name in [
        "Authorization code flow",
        "Query response mode",
        "PKCE S256",
        "Token endpoint auth",
        "Transport security",
    ] {
        assert_eq!(status(&report, name), CheckStatus::Fail, "{name}:\n{text}");
    }
    // A provider may list only some of its scopes: careid asks for openid regardless.
    assert_eq!(status(&report, "Scopes"), CheckStatus::Warn, "{text}");
    assert!(
        detail(&report, "Transport security").contains("userinfo_endpoint"),
        "{text}"
    );
}

#[test]
fn weaker_documents_warn() {
    let mut document = int_document();
    let object = document.as_object_mut().unwrap();
    object.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(["HS256"]),
    );
    object.insert(
        "token_endpoint_auth_methods_supported".into(),
        json!(["none"]),
    );
    object.insert("scopes_supported".into(), json!(["openid", "profile"]));
    object.insert("claims_supported".into(), json!(["sub"]));
    object.remove("userinfo_endpoint");
    object.remove("response_modes_supported");
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(document), None);
    let text = report.render_text();
    for name in [
        "ID token signing",
        "Token endpoint auth",
        "Scopes",
        "Claims",
        "UserInfo",
    ] {
        assert_eq!(status(&report, name), CheckStatus::Warn, "{name}:\n{text}");
    }
    assert!(
        detail(&report, "Scopes").contains("nationalrbacaccess"),
        "{text}"
    );
    assert!(
        detail(&report, "Claims").contains("selected_roleid"),
        "{text}"
    );
    // Absent response modes default to query and fragment.
    assert_eq!(status(&report, "Query response mode"), CheckStatus::Pass);
    assert!(report.passed(), "warnings alone pass:\n{text}");
}

#[test]
fn a_wrong_issuer_and_bad_key_sets_fail() {
    let report = diagnose(
        &issuer_url("https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"),
        &metadata(int_document()),
        None,
    );
    assert_eq!(status(&report, "Issuer"), CheckStatus::Fail);

    let cases = [
        (json!({"keys": []}), "empty"),
        (json!({"nokeys": true}), "no keys"),
        (json!({"keys": [rsa_key("small", 1024)]}), "1024 bits"),
        (
            json!({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}),
            "secret key material",
        ),
        (
            json!({"keys": [{"kty": "EC", "kid": "e", "crv": "P-256", "x": "AA", "y": "AA"}]}),
            "no signing key for the ID token algorithms careid takes from this provider (RS256, RS512)",
        ),
    ];
    for (jwks, expected) in cases {
        let report = diagnose(
            &issuer_url(INT_ISSUER),
            &metadata(int_document()),
            Some(&jwks),
        );
        assert_eq!(status(&report, "JWKS"), CheckStatus::Fail, "{jwks}");
        assert!(
            detail(&report, "JWKS").contains(expected),
            "{jwks}: {}",
            detail(&report, "JWKS")
        );
    }

    // A provider that signs ES256 as well: its EC key serves, its RSA key too.
    let mut document = int_document();
    document["id_token_signing_alg_values_supported"] = json!(["RS256", "ES256", "PS256"]);
    let mixed = json!({"keys": [
        {"kty": "EC", "kid": "e", "crv": "P-256", "x": "AA", "y": "AA", "alg": "ES256"}]});
    let report = diagnose(
        &issuer_url(INT_ISSUER),
        &metadata(document.clone()),
        Some(&mixed),
    );
    assert_eq!(
        status(&report, "JWKS"),
        CheckStatus::Pass,
        "{}",
        detail(&report, "JWKS")
    );
    assert!(
        detail(&report, "ID token signing").contains("careid verifies RS256, PS256, ES256"),
        "{}",
        detail(&report, "ID token signing")
    );

    // A key careid leaves out, beside one it verifies with: a warning that says so.
    let short_beside = json!({"keys": [rsa_key("small", 1024), rsa_key("k1", 2048)]});
    let report = diagnose(
        &issuer_url(INT_ISSUER),
        &metadata(int_document()),
        Some(&short_beside),
    );
    assert_eq!(status(&report, "JWKS"), CheckStatus::Warn);
    assert!(
        detail(&report, "JWKS").contains("small is only 1024 bits, so careid leaves it out"),
        "{}",
        detail(&report, "JWKS")
    );

    let twice = json!({"keys": [rsa_key("same", 2048), rsa_key("same", 2048)]});
    let report = diagnose(
        &issuer_url(INT_ISSUER),
        &metadata(int_document()),
        Some(&twice),
    );
    assert_eq!(status(&report, "JWKS"), CheckStatus::Warn);
}

#[test]
fn the_report_serialises_for_json_output() {
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(int_document()), None);
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["issuer"], INT_ISSUER);
    assert_eq!(value["checks"][0]["name"], "Issuer");
    assert_eq!(value["checks"][0]["status"], "pass");
    assert!(value["checks"][0]["detail"].is_string());
    assert_eq!(
        value["checks"].as_array().unwrap().len(),
        report.checks.len()
    );
}

#[test]
fn provider_text_cannot_forge_report_lines() {
    let mut document = int_document();
    document["scopes_supported"] = json!(["openid\nFAIL  forged line", "profile"]);
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(document), None);
    let text = report.render_text();
    assert_eq!(text.lines().count(), report.checks.len(), "{text}");
}

/// The doctor's sentences say what careid does: a refresh token that arrives is used even when
/// discovery does not list the grant.
#[test]
fn an_unlisted_refresh_grant_is_described_as_careid_treats_it() {
    let mut document = int_document();
    document["grant_types_supported"] = json!(["authorization_code"]);
    let report = diagnose(&issuer_url(INT_ISSUER), &metadata(document), None);
    assert_eq!(status(&report, "Grant types"), CheckStatus::Pass);
    let said = detail(&report, "Grant types");
    assert!(
        said.contains("uses a refresh token if one arrives") && said.contains("signs in again"),
        "{said}"
    );
}
