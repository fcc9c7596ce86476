//! Every rule of the back-channel logout token, each broken alone in a token that is otherwise
//! valid, signed here with keys of the test's own (aws-lc-rs), not by the code under test.

use std::time::{Duration, UNIX_EPOCH};

use careid_broker::{validate_logout_token, LogoutRequest, LogoutTokenError, LogoutTokenRules};
use careid_oidc::{JsonWebKeySet, JwsAlgorithm};
use careid_test_fixtures::claims::BACKCHANNEL_LOGOUT_EVENT as EVENT;
use careid_test_fixtures::jwt::{mint_as, JwtKey};
use careid_test_fixtures::keys::generated_rsa_keys;
use careid_test_fixtures::CIS2_INT_ISSUER as ISSUER;
use serde_json::{json, Value};

const CLIENT: &str = "123456789012.apps.national";
/// The rules' clock, years before this machine's: a validator that read the machine's clock
/// would find every token here too old.
const NOW: u64 = 1_760_005_000;

/// The provider's published set: the first key only.
fn provider_keys() -> JsonWebKeySet {
    JsonWebKeySet::from_value(&json!({"keys": [generated_rsa_keys().0.jwk("provider")]}))
        .expect("a key set")
}

#[derive(Clone, Copy)]
enum Signer {
    Provider,
    /// A key the provider never published, under the provider's `kid`.
    Stranger,
    /// HS256 keyed with the provider's public modulus, the classic confusion.
    HmacWithPublicKey,
}

/// `claims` under `header`, signed by `signer` whatever the header's `alg` says.
fn sign(header: &Value, claims: &Value, signer: Signer) -> String {
    let (provider, stranger) = generated_rsa_keys();
    match signer {
        Signer::Provider => mint_as("RS256", header, claims, JwtKey::Rsa(provider)),
        Signer::Stranger => mint_as("RS256", header, claims, JwtKey::Rsa(stranger)),
        Signer::HmacWithPublicKey => {
            mint_as("HS256", header, claims, JwtKey::Hmac(provider.modulus()))
        }
    }
}

fn header() -> Value {
    json!({"alg": "RS256", "kid": "provider", "typ": "logout+jwt"})
}

/// CIS2's logout token as in the reference's example.
fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": CLIENT, "iat": NOW, "jti": "0b6c1d3e-6a3c-4f64-9d0e-3c8b1f1e2a77",
        "sub": "555057896106", "sid": "rbSkQ5Nm1Xc4cfsi0Hh1y3Ze2dY",
        "events": {EVENT: {}}
    })
}

fn check(token: &str) -> Result<LogoutRequest, LogoutTokenError> {
    let keys = provider_keys();
    let allowed = [
        JwsAlgorithm::Rs256,
        JwsAlgorithm::Rs512,
        JwsAlgorithm::Hs256,
    ];
    let issuer = careid_oidc::IssuerUrl::new(ISSUER).expect("an issuer");
    let client_id = careid_oidc::ClientId::new(CLIENT);
    let rules = LogoutTokenRules {
        issuer: &issuer,
        client_id: &client_id,
        keys: &keys,
        allowed: &allowed,
        now: UNIX_EPOCH + Duration::from_secs(NOW),
        skew: Duration::from_secs(60),
        max_age: Duration::from_secs(600),
    };
    validate_logout_token(token, &rules)
}

#[test]
fn cis2s_logout_token_is_accepted_with_its_session_and_user() {
    let request = check(&sign(&header(), &claims(), Signer::Provider)).expect("valid");
    assert_eq!(
        request,
        LogoutRequest {
            sub: Some("555057896106".into()),
            sid: Some("rbSkQ5Nm1Xc4cfsi0Hh1y3Ze2dY".into()),
            jti: "0b6c1d3e-6a3c-4f64-9d0e-3c8b1f1e2a77".into(),
            iat: NOW,
        }
    );
    // Untyped or typed `JWT` (providers that predate explicit typing), one audience in a list,
    // an exp still ahead, sid alone, sub alone: all valid.
    let mut variants = Vec::new();
    let mut untyped = header();
    untyped.as_object_mut().unwrap().remove("typ");
    variants.push((untyped, claims()));
    variants.push((
        json!({"alg": "RS256", "kid": "provider", "typ": "JWT"}),
        claims(),
    ));
    let edit = |change: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut claims = claims();
        change(claims.as_object_mut().unwrap());
        (header(), claims)
    };
    variants.push(edit(&|c| {
        c.insert("aud".into(), json!([CLIENT]));
    }));
    variants.push(edit(&|c| {
        c.insert("exp".into(), json!(NOW + 120));
    }));
    variants.push(edit(&|c| {
        c.remove("sub");
    }));
    variants.push(edit(&|c| {
        c.remove("sid");
    }));
    for (header, claims) in variants {
        let token = sign(&header, &claims, Signer::Provider);
        assert!(check(&token).is_ok(), "{header} {claims}");
    }
}

#[test]
fn every_logout_token_rule_refuses_its_own_break() {
    type Edit = fn(&mut Value, &mut Value);
    let cases: &[(&str, Edit, Signer, &str)] = &[
        ("bad signature", |_, _| {}, Signer::Stranger, "signature"),
        (
            "HS256 keyed with the public key",
            |h, _| h["alg"] = json!("HS256"),
            Signer::HmacWithPublicKey,
            "HS256",
        ),
        (
            "alg none",
            |h, _| h["alg"] = json!("none"),
            Signer::Provider,
            "none",
        ),
        (
            "an ID token's typ",
            |h, _| h["typ"] = json!("at+jwt"),
            Signer::Provider,
            "logout_token_type",
        ),
        (
            "wrong issuer",
            |_, c| c["iss"] = json!(ISSUER.replace(":443", "")),
            Signer::Provider,
            "logout_token_issuer",
        ),
        (
            "missing issuer",
            |_, c| {
                c.as_object_mut().unwrap().remove("iss");
            },
            Signer::Provider,
            "logout_token_issuer",
        ),
        (
            "wrong aud",
            |_, c| c["aud"] = json!("999999999999.apps.national"),
            Signer::Provider,
            "logout_token_audience",
        ),
        (
            "another audience beside the client",
            |_, c| c["aud"] = json!([CLIENT, "other"]),
            Signer::Provider,
            "logout_token_audience",
        ),
        (
            "missing aud",
            |_, c| {
                c.as_object_mut().unwrap().remove("aud");
            },
            Signer::Provider,
            "logout_token_audience",
        ),
        (
            "missing iat",
            |_, c| {
                c.as_object_mut().unwrap().remove("iat");
            },
            Signer::Provider,
            "logout_token_time",
        ),
        (
            "iat as a string",
            |_, c| c["iat"] = json!(NOW.to_string()),
            Signer::Provider,
            "logout_token_time",
        ),
        (
            "iat 2^64-1",
            |_, c| c["iat"] = json!(u64::MAX),
            Signer::Provider,
            "logout_token_time",
        ),
        (
            "iat negative",
            |_, c| c["iat"] = json!(-1),
            Signer::Provider,
            "logout_token_time",
        ),
        (
            "iat 1e300",
            |_, c| c["iat"] = json!(1e300),
            Signer::Provider,
            "logout_token_time",
        ),
        (
            "iat in the future",
            |_, c| c["iat"] = json!(NOW + 3600),
            Signer::Provider,
            "logout_token_future",
        ),
        (
            "iat too old",
            |_, c| c["iat"] = json!(NOW - 3600),
            Signer::Provider,
            "logout_token_too_old",
        ),
        (
            "expired",
            |_, c| c["exp"] = json!(NOW - 3600),
            Signer::Provider,
            "logout_token_expired",
        ),
        (
            "missing jti",
            |_, c| {
                c.as_object_mut().unwrap().remove("jti");
            },
            Signer::Provider,
            "logout_token_no_jti",
        ),
        (
            "empty jti",
            |_, c| c["jti"] = json!(""),
            Signer::Provider,
            "logout_token_no_jti",
        ),
        (
            "missing events",
            |_, c| {
                c.as_object_mut().unwrap().remove("events");
            },
            Signer::Provider,
            "logout_token_no_event",
        ),
        (
            "another event",
            |_, c| c["events"] = json!({"http://schemas.openid.net/event/other": {}}),
            Signer::Provider,
            "logout_token_no_event",
        ),
        (
            "the event not an object",
            |_, c| c["events"] = json!({EVENT: true}),
            Signer::Provider,
            "logout_token_no_event",
        ),
        (
            "neither sid nor sub",
            |_, c| {
                let c = c.as_object_mut().unwrap();
                c.remove("sid");
                c.remove("sub");
            },
            Signer::Provider,
            "logout_token_no_subject",
        ),
        (
            "a nonce",
            |_, c| c["nonce"] = json!("n-0S6_WzA2Mj"),
            Signer::Provider,
            "logout_token_nonce",
        ),
    ];
    for (name, edit, signer, expected) in cases {
        let (mut header, mut claims) = (header(), claims());
        edit(&mut header, &mut claims);
        let error = check(&sign(&header, &claims, *signer)).expect_err(name);
        let said = format!("{} {error}", error.code());
        assert!(said.contains(expected), "{name}: {said}");
        assert!(
            !said.contains("555057896106") && !said.contains("rbSkQ5"),
            "{name}: an error names no user or session: {said}"
        );
    }
}

#[test]
fn an_encrypted_or_malformed_token_is_refused() {
    for token in ["", "a.b", "a.b.c.d.e", "not a jwt", &"x".repeat(70_000)] {
        assert!(
            matches!(check(token), Err(LogoutTokenError::Jose(_))),
            "{token:.20}"
        );
    }
}
