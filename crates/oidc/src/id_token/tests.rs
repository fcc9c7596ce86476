use std::sync::LazyLock;

use serde_json::json;

use super::*;
use crate::jose::test_support::{jwks, sign, RSA_KID};

const ISSUER: &str = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
const CLIENT: &str = "555000000001.apps.local";
const NOW: u64 = 1_767_225_600;
static ISSUER_URL: LazyLock<IssuerUrl> = LazyLock::new(|| IssuerUrl::new(ISSUER).unwrap());
static CLIENT_ID: LazyLock<ClientId> = LazyLock::new(|| ClientId::new(CLIENT));

/// `acr_values` for a check that lives as long as the test.
fn acr(values: &str) -> &'static AcrValues {
    Box::leak(Box::new(AcrValues::new(values)))
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn base() -> Value {
    json!({
        "iss": ISSUER, "sub": "555057896106", "aud": CLIENT, "azp": CLIENT,
        "exp": NOW + 3600, "iat": NOW, "auth_time": NOW - 30, "nonce": "nonce-1",
        "authentication_assurance_level": "3", "id_assurance_level": 3,
    })
}

fn token(claims: &Value) -> String {
    sign(
        &json!({ "alg": "RS256", "kid": RSA_KID, "typ": "JWT" }),
        claims,
    )
}

fn with(changes: Value) -> String {
    let mut claims = base();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    token(&claims)
}

fn check() -> IdTokenCheck<'static> {
    IdTokenCheck::new(&ISSUER_URL, &CLIENT_ID, at(NOW))
}

fn validate(token: &str, check: &IdTokenCheck<'_>) -> Result<IdTokenClaims, IdTokenError> {
    let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
    let nonce = Nonce::new("nonce-1".to_owned());
    let token = IdToken::new(token.to_owned());
    validate_id_token(&token, &keys, &[JwsAlgorithm::Rs256], None, check, &nonce)
}

fn code(token: &str, check: &IdTokenCheck<'_>) -> &'static str {
    validate(token, check).expect_err("refused").code()
}

#[test]
fn claims_are_read_in_cis2s_shapes() {
    let claims = validate(
        &with(json!({
            "amr": "N3_SMARTCARD", "selected_roleid": 555000000201u64, "acr": "AAL3_ANY",
            "sid": "sid-1", "exp": (NOW + 3600) as f64 + 0.5,
        })),
        &check(),
    )
    .unwrap();
    assert_eq!(claims.amr, ["N3_SMARTCARD"]);
    assert_eq!(claims.selected_roleid.as_deref(), Some("555000000201"));
    assert_eq!(claims.authentication_assurance_level, Some(3));
    assert_eq!(claims.id_assurance_level, Some(3));
    assert_eq!(claims.aud, [CLIENT]);
    assert_eq!(claims.exp, NOW + 3600);
    assert_eq!(claims.auth_time, Some(NOW - 30));
    assert_eq!(claims.claims["sid"], "sid-1");
    let claims = validate(
        &with(json!({ "amr": ["pwd", "N3_SMARTCARD"], "acr": null })),
        &check(),
    )
    .unwrap();
    assert_eq!(claims.amr, ["pwd", "N3_SMARTCARD"]);
    assert_eq!(claims.acr, None);
}

/// REFERENCE §5: `acr` may be missing; the level asked for is read from
/// `authentication_assurance_level` (a string or a number), and the identity level from
/// `id_assurance_level` when the profile requires one, on sign-in and refresh alike.
#[test]
fn assurance_is_decided_on_the_level_claims_with_or_without_acr() {
    let aal3 = IdTokenCheck {
        acr_values: Some(acr("AAL3_ANY")),
        min_id_assurance_level: Some(3),
        ..check()
    };
    for levels in [
        json!({"acr": null}),
        json!({"acr": null, "authentication_assurance_level": 3, "id_assurance_level": "3"}),
    ] {
        let claims = validate(&with(levels.clone()), &aal3).expect("accepted without acr");
        assert_eq!(claims.acr, None, "{levels}");
    }
    let cases = [
        (
            json!({"acr": null, "authentication_assurance_level": "2"}),
            "assurance_too_low",
        ),
        (
            json!({"acr": "AAL3_ANY", "authentication_assurance_level": 2}),
            "assurance_too_low",
        ),
        (
            json!({"acr": null, "authentication_assurance_level": null}),
            "assurance_missing",
        ),
        (json!({"id_assurance_level": "1"}), "id_assurance_too_low"),
        (json!({"id_assurance_level": 2}), "id_assurance_too_low"),
        (json!({"id_assurance_level": null}), "id_assurance_missing"),
    ];
    for (changes, expected) in cases {
        let token = with(changes.clone());
        assert_eq!(code(&token, &aal3), expected, "{changes}");
        let refreshed = refresh_with(&token, &aal3).expect_err("refused on refresh too");
        assert_eq!(refreshed.code(), expected, "refresh: {changes}");
    }
    // Without a minimum, a low identity level is not looked at.
    validate(&with(json!({"id_assurance_level": "1"})), &check()).expect("no minimum");
}

#[test]
fn claims_of_the_wrong_type_are_refused() {
    for (claim, value) in [
        ("exp", json!("soon")),
        ("exp", json!(-5)),
        ("exp", Value::Null),
        ("iat", json!("now")),
        ("iat", Value::Null),
        ("iss", Value::Null),
        ("iss", json!(1)),
        ("aud", Value::Null),
        ("aud", json!([CLIENT, 7])),
        ("auth_time", json!(true)),
        ("azp", json!([CLIENT])),
        ("nonce", json!(1)),
    ] {
        let error = validate(&with(json!({ claim: value })), &check()).unwrap_err();
        assert_eq!(error.code(), "id_token_invalid_claim", "{claim}: {error}");
        assert!(error.to_string().contains(claim), "{error}");
    }
    assert_eq!(
        code(&with(json!({ "sub": "" })), &check()),
        "id_token_missing_sub"
    );
    assert_eq!(
        code(&with(json!({ "sub": 555057896106u64 })), &check()),
        "id_token_missing_sub"
    );
}

#[test]
fn exp_and_iat_boundaries() {
    let check = check();
    // exp exactly now minus the skew has expired; one second later has not.
    assert_eq!(
        code(&with(json!({ "exp": NOW - 60 })), &check),
        "id_token_expired"
    );
    validate(&with(json!({ "exp": NOW - 59 })), &check).unwrap();
    assert_eq!(
        code(&with(json!({ "iat": NOW + 61 })), &check),
        "id_token_issued_in_future"
    );
    validate(&with(json!({ "iat": NOW + 60 })), &check).unwrap();
    let strict = IdTokenCheck {
        skew: Duration::ZERO,
        ..check.clone()
    };
    assert_eq!(
        code(&with(json!({ "exp": NOW })), &strict),
        "id_token_expired"
    );
    assert_eq!(
        code(&with(json!({ "iat": NOW + 1 })), &strict),
        "id_token_issued_in_future"
    );
}

#[test]
fn max_age_boundaries() {
    let check = IdTokenCheck {
        max_age: Some(300),
        ..check()
    };
    validate(&with(json!({ "auth_time": NOW - 360 })), &check).unwrap();
    let error = validate(&with(json!({ "auth_time": NOW - 361 })), &check).unwrap_err();
    assert_eq!(error.code(), "id_token_auth_time_too_old");
    assert!(error.to_string().contains("361 s ago"), "{error}");
    assert_eq!(
        code(&with(json!({ "auth_time": null })), &check),
        "id_token_missing_auth_time"
    );
    // Without max_age, neither matters.
    validate(
        &with(json!({ "auth_time": null })),
        &IdTokenCheck {
            max_age: None,
            ..check
        },
    )
    .unwrap();
}

#[test]
fn nonce_must_match() {
    assert_eq!(
        code(&with(json!({ "nonce": "nonce-2" })), &check()),
        "id_token_wrong_nonce"
    );
    assert_eq!(
        code(&with(json!({ "nonce": "nonce-" })), &check()),
        "id_token_wrong_nonce"
    );
    assert_eq!(
        code(&with(json!({ "nonce": null })), &check()),
        "id_token_wrong_nonce"
    );
}

#[test]
fn the_clock_before_1970_is_an_error() {
    let check = IdTokenCheck {
        now: UNIX_EPOCH - Duration::from_secs(1),
        ..check()
    };
    assert_eq!(code(&with(json!({})), &check), "clock_invalid");
}

fn original() -> OriginalIdToken {
    OriginalIdToken::from(&validate(&with(json!({})), &check()).unwrap())
}

fn refresh(token: &str) -> Result<IdTokenClaims, IdTokenError> {
    let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
    // max_age is not applied to a refreshed token: auth_time is still the first sign-in's.
    let check = IdTokenCheck {
        max_age: Some(1),
        ..check()
    };
    validate_refreshed_id_token(
        &IdToken::new(token.to_owned()),
        &keys,
        &[JwsAlgorithm::Rs256],
        None,
        &check,
        &original(),
    )
}

fn refresh_with(token: &str, check: &IdTokenCheck<'_>) -> Result<IdTokenClaims, IdTokenError> {
    let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
    validate_refreshed_id_token(
        &IdToken::new(token.to_owned()),
        &keys,
        &[JwsAlgorithm::Rs256],
        None,
        check,
        &original(),
    )
}

#[test]
fn refreshed_tokens_keep_the_original_identity() {
    refresh(&with(json!({ "nonce": null, "iat": NOW + 10 }))).unwrap();
    refresh(&with(json!({}))).unwrap();
    refresh(&with(json!({ "auth_time": null }))).unwrap();
    let code = |changes| refresh(&with(changes)).unwrap_err().code();
    assert_eq!(code(json!({ "nonce": "other" })), "id_token_wrong_nonce");
    assert_eq!(
        code(json!({ "sub": "555000000002" })),
        "id_token_refresh_mismatch"
    );
    assert_eq!(
        code(json!({ "auth_time": NOW - 10 })),
        "id_token_refresh_mismatch"
    );
    // Refused as untrusted before it is compared: either way never accepted.
    assert_eq!(
        code(json!({ "aud": [CLIENT, "other"] })),
        "id_token_untrusted_audience"
    );
    // OIDC Core §12.2: the same azp, and none when the original had none.
    assert_eq!(code(json!({ "azp": null })), "id_token_refresh_mismatch");
    let error = refresh(&with(json!({ "azp": null }))).unwrap_err();
    assert!(error.to_string().contains("azp"), "{error}");
    assert_eq!(code(json!({ "exp": NOW - 600 })), "id_token_expired");
    assert_eq!(
        code(json!({ "iss": "https://elsewhere" })),
        "id_token_wrong_issuer"
    );
    let error = refresh(&with(json!({ "sub": "555000000002" }))).unwrap_err();
    assert!(error.to_string().contains("sub"), "{error}");
    // A nonce in the refreshed token needs one in the original.
    let mut first = original();
    first.nonce = None;
    let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
    let error = validate_refreshed_id_token(
        &IdToken::new(with(json!({}))),
        &keys,
        &[JwsAlgorithm::Rs256],
        None,
        &check(),
        &first,
    )
    .unwrap_err();
    assert_eq!(error.code(), "id_token_wrong_nonce");
}

#[test]
fn an_audience_the_profile_does_not_trust_is_refused_azp_or_not() {
    for aud in [json!([CLIENT, "other"]), json!(["other", CLIENT])] {
        let token = with(json!({ "aud": aud, "azp": CLIENT }));
        let error = validate(&token, &check()).unwrap_err();
        assert_eq!(error.code(), "id_token_untrusted_audience", "{error}");
        assert!(error.to_string().contains("\"other\""), "{error}");
        let trusted = ["other".to_owned()];
        let trusting = IdTokenCheck {
            trusted_audiences: &trusted,
            ..check()
        };
        assert_eq!(validate(&token, &trusting).unwrap().aud.len(), 2);
    }
    // Trusting one audience is not trusting another.
    let trusted = ["other".to_owned()];
    let trusting = IdTokenCheck {
        trusted_audiences: &trusted,
        ..check()
    };
    assert_eq!(
        code(
            &with(json!({ "aud": [CLIENT, "other", "third"] })),
            &trusting
        ),
        "id_token_untrusted_audience"
    );
}

#[test]
fn auth_time_later_than_iat_or_now_is_refused() {
    // Up to the skew after iat is tolerated, one second more is not.
    validate(&with(json!({ "auth_time": NOW + 60 })), &check()).unwrap();
    let error = validate(&with(json!({ "auth_time": NOW + 61 })), &check()).unwrap_err();
    assert_eq!(error.code(), "id_token_auth_time_in_future");
    assert!(error.to_string().contains("auth_time"), "{error}");
    // iat in the past: auth_time may not be after it.
    assert_eq!(
        code(
            &with(json!({ "iat": NOW - 600, "auth_time": NOW - 500 })),
            &check()
        ),
        "id_token_auth_time_in_future"
    );
    // iat within its own skew ahead of now: auth_time is held to now.
    assert_eq!(
        code(
            &with(json!({ "iat": NOW + 50, "auth_time": NOW + 100 })),
            &check()
        ),
        "id_token_auth_time_in_future"
    );
}

#[test]
fn auth_time_already_past_the_absolute_limit_is_refused_at_sign_in() {
    let twelve_hours = IdTokenCheck {
        absolute_limit: Some(Duration::from_secs(12 * 3_600)),
        ..check()
    };
    for auth_time in [0, NOW - 12 * 3_600, NOW - 3 * 24 * 3_600] {
        let error = validate(&with(json!({ "auth_time": auth_time })), &twelve_hours).unwrap_err();
        assert_eq!(error.code(), "id_token_past_session_limit", "{auth_time}");
        assert!(error.to_string().contains("auth_time"), "{error}");
        assert!(error.to_string().contains("12-hour"), "{error}");
    }
    validate(
        &with(json!({ "auth_time": NOW - 12 * 3_600 + 1 })),
        &twelve_hours,
    )
    .unwrap();
    // Without auth_time the session runs from iat, so iat is held to the limit instead.
    let error = validate(
        &with(json!({ "auth_time": null, "iat": NOW - 13 * 3_600 })),
        &twelve_hours,
    )
    .unwrap_err();
    assert_eq!(error.code(), "id_token_past_session_limit");
    assert!(error.to_string().contains("(iat)"), "{error}");
}

#[test]
fn at_hash_and_c_hash_must_match_the_tokens_they_came_with() {
    // OIDC Core 1.0 Appendix A.3 and A.4.
    assert_eq!(
        token_hash(
            JwsAlgorithm::Rs256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        ),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
    assert_eq!(
        token_hash(
            JwsAlgorithm::Rs256,
            "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
        ),
        "LDktKdoQak3Pk0cnXxCltA"
    );
    assert_eq!(token_hash(JwsAlgorithm::Rs512, "x").len(), 43);
    let access = AccessToken::new("access-1".to_owned());
    let authorization_code = AuthorizationCode::new("code-1".to_owned());
    let with_tokens = IdTokenCheck {
        access_token: Some(&access),
        code: Some(&authorization_code),
        ..check()
    };
    let good = json!({
        "at_hash": token_hash(JwsAlgorithm::Rs256, "access-1"),
        "c_hash": token_hash(JwsAlgorithm::Rs256, "code-1"),
    });
    validate(&with(good.clone()), &with_tokens).unwrap();
    // Absent hashes are not required (CIS2 sends them; the code flow does not demand them).
    validate(&with(json!({})), &with_tokens).unwrap();
    let cases = [
        (
            json!({ "at_hash": token_hash(JwsAlgorithm::Rs256, "access-2") }),
            "id_token_wrong_at_hash",
        ),
        // The right digest of the wrong algorithm.
        (
            json!({ "at_hash": token_hash(JwsAlgorithm::Rs512, "access-1") }),
            "id_token_wrong_at_hash",
        ),
        (
            json!({ "c_hash": token_hash(JwsAlgorithm::Rs256, "code-2") }),
            "id_token_wrong_c_hash",
        ),
        (json!({ "at_hash": 7 }), "id_token_invalid_claim"),
        (json!({ "c_hash": ["x"] }), "id_token_invalid_claim"),
    ];
    for (changes, expect) in cases {
        let error = validate(&with(changes.clone()), &with_tokens).unwrap_err();
        assert_eq!(error.code(), expect, "{changes}: {error}");
        assert!(!error.to_string().contains("access-1"), "{error}");
    }
    // The same rule on a refresh, against the access token it came with.
    let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
    let error = validate_refreshed_id_token(
        &IdToken::new(with(
            json!({ "at_hash": token_hash(JwsAlgorithm::Rs256, "access-2") }),
        )),
        &keys,
        &[JwsAlgorithm::Rs256],
        None,
        &with_tokens,
        &original(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "id_token_wrong_at_hash");
}

/// Every date claim with values no provider should send: each is refused with a code or
/// accepted, and nothing overflows or panics.
#[test]
fn numbers_from_the_provider_never_panic() {
    let access = AccessToken::new("access-1".to_owned());
    let strict = IdTokenCheck {
        max_age: Some(300),
        absolute_limit: Some(Duration::from_secs(12 * 3_600)),
        access_token: Some(&access),
        ..check()
    };
    let invalid = Err("id_token_invalid_claim");
    let cases: [(&str, Value, Result<(), &str>); 28] = [
        ("exp", json!(u64::MAX), Ok(())),
        ("exp", json!(1e300), Ok(())),
        ("exp", json!(1u64 << 63), Ok(())),
        ("exp", json!(1.5), Err("id_token_expired")),
        ("exp", json!(-1), invalid),
        ("exp", json!(i64::MIN), invalid),
        ("exp", json!("9999999999"), invalid),
        ("iat", json!(u64::MAX), Err("id_token_issued_in_future")),
        ("iat", json!(1e300), Err("id_token_issued_in_future")),
        // auth_time is then after iat.
        ("iat", json!(1.5), Err("id_token_auth_time_in_future")),
        ("iat", json!(-1), invalid),
        ("iat", json!(i64::MIN), invalid),
        ("iat", json!("now"), invalid),
        ("nbf", json!(u64::MAX), Err("id_token_not_yet_valid")),
        ("nbf", json!(1e300), Err("id_token_not_yet_valid")),
        ("nbf", json!(1.5), Ok(())),
        ("nbf", json!(-1), invalid),
        ("nbf", json!(i64::MIN), invalid),
        ("nbf", json!("later"), invalid),
        (
            "auth_time",
            json!(u64::MAX),
            Err("id_token_auth_time_in_future"),
        ),
        (
            "auth_time",
            json!(1e300),
            Err("id_token_auth_time_in_future"),
        ),
        (
            "auth_time",
            json!(1u64 << 63),
            Err("id_token_auth_time_in_future"),
        ),
        ("auth_time", json!(1.5), Err("id_token_past_session_limit")),
        ("auth_time", json!(0), Err("id_token_past_session_limit")),
        ("auth_time", json!(-1), invalid),
        ("auth_time", json!(i64::MIN), invalid),
        ("auth_time", json!("0"), invalid),
        ("at_hash", json!(1e300), invalid),
    ];
    for (claim, value, expect) in cases {
        let got = validate(&with(json!({ claim: value })), &strict)
            .map(drop)
            .map_err(|error| error.code());
        assert_eq!(got, expect, "{claim} = {value}");
        // The same on a refresh, whose checks skip max_age.
        let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
        let _ = validate_refreshed_id_token(
            &IdToken::new(with(json!({ claim: value }))),
            &keys,
            &[JwsAlgorithm::Rs256],
            None,
            &strict,
            &original(),
        );
    }
    // Without the absolute limit, max_age refuses it, also naming auth_time.
    let max_age_only = IdTokenCheck {
        absolute_limit: None,
        ..strict
    };
    let error = validate(&with(json!({ "auth_time": 0 })), &max_age_only).unwrap_err();
    assert_eq!(error.code(), "id_token_auth_time_too_old");
    assert!(error.to_string().contains("auth_time"), "{error}");
}

/// Found by the differential tests: jsonwebtoken refuses `"nbf": null`, careid read it as
/// no nbf. A date is a number or absent.
#[test]
fn a_date_claim_given_as_null_is_refused() {
    for claim in ["exp", "iat", "nbf", "auth_time"] {
        let mut claims = base();
        claims[claim] = Value::Null;
        let error = validate(&token(&claims), &check()).unwrap_err();
        assert_eq!(error.code(), "id_token_invalid_claim", "{claim}");
        assert!(error.to_string().contains(claim), "{error}");
    }
}

fn userinfo(claims: &Value) -> Result<Map<String, Value>, IdTokenError> {
    let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
    verify_signed_userinfo(
        &token(claims),
        &keys,
        &[JwsAlgorithm::Rs256],
        None,
        &ISSUER_URL,
        &CLIENT_ID,
    )
}

#[test]
fn signed_userinfo_checks_iss_and_aud_when_present() {
    let claims = userinfo(&json!({ "sub": "555057896106", "iss": ISSUER })).unwrap();
    assert_eq!(claims["sub"], "555057896106");
    userinfo(&json!({ "sub": "555057896106" })).unwrap();
    userinfo(&json!({ "sub": "5", "aud": ["x", CLIENT] })).unwrap();
    let error = userinfo(&json!({ "sub": "5", "iss": format!("{ISSUER}/") })).unwrap_err();
    assert_eq!(error.code(), "userinfo_wrong_issuer");
    assert!(
        error
            .to_string()
            .starts_with("the signed UserInfo's issuer"),
        "{error}"
    );
    assert_eq!(
        userinfo(&json!({ "sub": "5", "aud": "x" }))
            .unwrap_err()
            .code(),
        "userinfo_wrong_audience"
    );
    assert_eq!(
        userinfo(&json!({ "sub": "5", "aud": 5 }))
            .unwrap_err()
            .code(),
        "userinfo_invalid_claim"
    );
    assert_eq!(
        userinfo(&json!({ "sub": "5", "iss": 5 }))
            .unwrap_err()
            .code(),
        "userinfo_invalid_claim"
    );
}

#[test]
fn long_values_are_shortened_in_messages() {
    let long = format!("https://{}", "a".repeat(5000));
    let error = validate(&with(json!({ "iss": long })), &check()).unwrap_err();
    assert_eq!(error.code(), "id_token_wrong_issuer");
    assert!(error.to_string().len() < 600, "{error}");
}

fn session_proof(token: &str) -> Result<IdTokenClaims, IdTokenError> {
    session_proof_trusting(token, &[])
}

fn session_proof_trusting(
    token: &str,
    trusted_audiences: &[String],
) -> Result<IdTokenClaims, IdTokenError> {
    let keys = JsonWebKeySet::from_value(&jwks()).unwrap();
    let twelve_hours = Duration::from_secs(12 * 3_600);
    validate_session_proof(
        &IdToken::new(token.to_owned()),
        &keys,
        &[JwsAlgorithm::Rs256],
        &SessionProofCheck {
            issuer: &ISSUER_URL,
            client_id: &CLIENT_ID,
            trusted_audiences,
            session_limit: twelve_hours,
            now: at(NOW),
        },
    )
}

#[test]
fn a_session_proof_outlives_exp_but_not_the_session_limit() {
    // Expired hours ago, from a session begun eleven hours ago: still proof of the session.
    let claims = session_proof(&with(json!({
        "iat": NOW - 10 * 3_600, "exp": NOW - 9 * 3_600, "auth_time": NOW - 11 * 3_600,
    })))
    .unwrap();
    assert_eq!(claims.auth_time, Some(NOW - 11 * 3_600));
    let code = |changes| session_proof(&with(changes)).unwrap_err().code();
    assert_eq!(
        code(json!({ "auth_time": NOW - 12 * 3_600 })),
        "id_token_past_session_limit"
    );
    assert_eq!(
        code(json!({ "auth_time": null, "iat": NOW - 12 * 3_600 })),
        "id_token_past_session_limit"
    );
    assert_eq!(
        code(json!({ "auth_time": NOW + 3_600 })),
        "id_token_auth_time_in_future",
        "a later auth_time would stretch the limit"
    );
    assert_eq!(
        code(json!({ "iat": NOW + 3_600 })),
        "id_token_issued_in_future"
    );
    assert_eq!(
        code(json!({ "iss": "https://elsewhere.example" })),
        "id_token_wrong_issuer"
    );
    assert_eq!(
        code(json!({ "aud": "someone-else" })),
        "id_token_wrong_audience"
    );
    let tampered = jose::test_support::tamper(&with(json!({})));
    assert!(session_proof(&tampered).unwrap_err().jose().is_some());
}

/// The session proof holds the token's parties to the sign-in's rules (OIDC Core §3.1.3.7 steps
/// 3 to 5): a token also for an audience not trusted, or authorised for another party, proves
/// nothing.
#[test]
fn a_session_proof_has_the_sign_ins_audience_and_azp_rules() {
    let code = |changes, trusted: &[String]| {
        session_proof_trusting(&with(changes), trusted)
            .unwrap_err()
            .code()
    };
    assert_eq!(
        code(json!({ "aud": [CLIENT, "another"], "azp": CLIENT }), &[]),
        "id_token_untrusted_audience"
    );
    let trusted = ["another".to_owned()];
    assert_eq!(
        code(json!({ "aud": [CLIENT, "another"], "azp": null }), &trusted),
        "id_token_missing_azp"
    );
    assert_eq!(
        code(
            json!({ "aud": [CLIENT, "another"], "azp": "another" }),
            &trusted
        ),
        "id_token_wrong_azp"
    );
    assert_eq!(code(json!({ "azp": "another" }), &[]), "id_token_wrong_azp");
    session_proof_trusting(
        &with(json!({ "aud": [CLIENT, "another"], "azp": CLIENT })),
        &trusted,
    )
    .unwrap();
    session_proof(&with(json!({ "azp": CLIENT }))).unwrap();
}

/// `ID_TOKEN_RULES` is the order `validate_id_token` checks in: with every rule broken at once,
/// the error names the first still broken, each time one more is mended.
#[test]
fn rules_are_checked_in_the_order_reports_list_them() {
    let access_token = AccessToken::new("access".to_owned());
    let code = AuthorizationCode::new("code".to_owned());
    let check = IdTokenCheck {
        acr_values: Some(acr("AAL3_ANY")),
        min_id_assurance_level: Some(3),
        max_age: Some(10),
        absolute_limit: Some(Duration::from_secs(12 * 3600)),
        access_token: Some(&access_token),
        code: Some(&code),
        ..check()
    };
    let mut claims = base();
    let mut unknown_kid = true;
    let breaks: Vec<(IdTokenRule, Value, Value)> = vec![
        (
            IdTokenRule::Claims,
            json!({ "sub": null }),
            json!({ "sub": "555057896106" }),
        ),
        (
            IdTokenRule::Issuer,
            json!({ "iss": "https://other.example" }),
            json!({ "iss": ISSUER }),
        ),
        (
            IdTokenRule::Audience,
            json!({ "aud": "someone-else" }),
            json!({ "aud": CLIENT }),
        ),
        (
            IdTokenRule::AuthorizedParty,
            json!({ "azp": "someone-else" }),
            json!({ "azp": CLIENT }),
        ),
        (
            IdTokenRule::Expiry,
            json!({ "exp": NOW - 3600 }),
            json!({ "exp": NOW + 3600 }),
        ),
        (
            IdTokenRule::NotInFuture,
            json!({ "iat": NOW + 3600 }),
            json!({ "iat": NOW }),
        ),
        (
            IdTokenRule::AccessTokenHash,
            json!({ "at_hash": "wrong" }),
            json!({ "at_hash": null }),
        ),
        (
            IdTokenRule::CodeHash,
            json!({ "c_hash": "wrong" }),
            json!({ "c_hash": null }),
        ),
        (
            IdTokenRule::AssuranceLevel,
            json!({ "authentication_assurance_level": "2" }),
            json!({ "authentication_assurance_level": "3" }),
        ),
        (
            IdTokenRule::IdAssuranceLevel,
            json!({ "id_assurance_level": 1 }),
            json!({ "id_assurance_level": 3 }),
        ),
        (
            IdTokenRule::Nonce,
            json!({ "nonce": "other" }),
            json!({ "nonce": "nonce-1" }),
        ),
        (
            IdTokenRule::SessionLimit,
            json!({ "auth_time": NOW - 13 * 3600 }),
            json!({ "auth_time": NOW - 600 }),
        ),
        (
            IdTokenRule::MaxAge,
            json!({}),
            json!({ "auth_time": NOW - 5 }),
        ),
    ];
    let apply = |claims: &mut Value, changes: &Value| {
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
    };
    for (_, broken, _) in &breaks {
        apply(&mut claims, broken);
    }
    let signed = |claims: &Value, unknown_kid: bool| {
        let kid = if unknown_kid {
            "not-in-the-set"
        } else {
            RSA_KID
        };
        sign(&json!({ "alg": "RS256", "kid": kid, "typ": "JWT" }), claims)
    };
    let mut expected = vec![IdTokenRule::Signature];
    expected.extend(breaks.iter().map(|(rule, _, _)| *rule));
    assert_eq!(expected, ID_TOKEN_RULES, "one break per rule, in order");
    for rule in ID_TOKEN_RULES {
        let error = validate(&signed(&claims, unknown_kid), &check).expect_err("still broken");
        assert_eq!(error.rule(), Some(rule), "{error}");
        match breaks.iter().find(|(broken, _, _)| *broken == rule) {
            Some((_, _, mended)) => apply(&mut claims, mended),
            None => unknown_kid = false,
        }
    }
    validate(&signed(&claims, unknown_kid), &check).expect("every rule mended");
}
