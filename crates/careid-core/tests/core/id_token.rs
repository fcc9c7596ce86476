//! ID token and signed UserInfo validation from outside: tokens signed here with keys generated
//! by aws-lc-rs, and real tokens from the in-process mock provider with its faults armed.

use std::time::{Duration, SystemTime};

use crate::{client_id, issuer_url, leaked};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_core::jose::{decode, verify, UnknownKid};
use careid_core::AcrValues;
use careid_core::{
    allowed_algorithms, verify_signed_userinfo, ClientSecret, HmacKey, IdToken, IdTokenCheck,
    IdTokenClaims, IdTokenError, JsonWebKeySet, JwsAlgorithm, Nonce, OriginalIdToken,
};
use careid_test_fixtures::base64url as b64;
use careid_test_fixtures::claims::with_changes;
use careid_test_fixtures::jwt::{hmac_sign, mint, signing_input, JwtKey};
use careid_test_fixtures::keys::{generated_ec_key, generated_rsa_keys, RsaTestKey};
use careid_test_fixtures::{CIS2_INT_ISSUER as ISSUER, CLIENT_SECRET as SECRET};
use serde_json::{json, Value};

/// careid's ID token check of a token as text, against the sign-in request's nonce.
fn validate_id_token(
    token: &str,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    secret: Option<&ClientSecret>,
    check: &IdTokenCheck<'_>,
) -> Result<IdTokenClaims, IdTokenError> {
    let nonce = Nonce::new(NONCE.to_owned());
    careid_core::validate_id_token(
        &IdToken::new(token.to_owned()),
        keys,
        allowed,
        secret,
        check,
        &nonce,
    )
}

/// careid's check of a refreshed ID token as text.
fn validate_refreshed_id_token(
    token: &str,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    secret: Option<&ClientSecret>,
    check: &IdTokenCheck<'_>,
    original: &OriginalIdToken,
) -> Result<IdTokenClaims, IdTokenError> {
    careid_core::validate_refreshed_id_token(
        &IdToken::new(token.to_owned()),
        keys,
        allowed,
        secret,
        check,
        original,
    )
}

const ISSUER_WITHOUT_PORT: &str = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
const CLIENT: &str = "555000000005.apps.supplier";
const RSA_KID: &str = "cis2-rsa-2026";
const EC_KID: &str = "cis2-ec-2026";
const NOW: u64 = 1_767_225_600;
const NONCE: &str = "n-0S6_WzA2Mj";

fn rsa_key() -> &'static RsaTestKey {
    &generated_rsa_keys().0
}

fn rsa_jwk(kid: &str) -> Value {
    let mut jwk = rsa_key().jwk(kid);
    jwk["alg"] = Value::Null;
    jwk
}

fn ec_jwk(kid: &str) -> Value {
    generated_ec_key().jwk(kid)
}

fn jwks_json() -> String {
    json!({ "keys": [rsa_jwk(RSA_KID), ec_jwk(EC_KID)] }).to_string()
}

fn key_set() -> JsonWebKeySet {
    JsonWebKeySet::from_json(&jwks_json()).expect("the test key set")
}

/// Signs as the header's `alg` says, with the test keys or [`SECRET`].
fn sign(header: &Value, claims: &Value) -> String {
    let key = match header["alg"].as_str().expect("an alg") {
        "ES256" => JwtKey::Ec(generated_ec_key()),
        "HS256" => JwtKey::Hmac(SECRET.as_bytes()),
        _ => JwtKey::Rsa(rsa_key()),
    };
    mint(header, claims, key)
}

fn rs256(claims: &Value) -> String {
    sign(
        &json!({ "alg": "RS256", "kid": RSA_KID, "typ": "JWT" }),
        claims,
    )
}

/// An ID token as CIS2 would issue it for [`check`].
fn claims() -> Value {
    json!({
        "iss": ISSUER, "sub": "555057896106", "aud": CLIENT, "azp": CLIENT,
        "iat": NOW - 5, "exp": NOW + 3600, "auth_time": NOW - 20, "nonce": NONCE,
        "acr": "AAL3_ANY", "amr": ["N3_SMARTCARD"], "sid": "cis2-session-1",
        "authentication_assurance_level": "3", "id_assurance_level": "3",
        "selected_roleid": "555021935107",
        "auditTrackingId": "b1c2-77", "realm": "/NHSIdentity/Healthcare",
    })
}

/// [`claims`] with members replaced, or removed where the value is `null`.
fn claims_with(changes: Value) -> Value {
    with_changes(claims(), &changes)
}

fn check() -> IdTokenCheck<'static> {
    IdTokenCheck {
        issuer: leaked(issuer_url(ISSUER)),
        client_id: leaked(client_id(CLIENT)),
        max_age: Some(300),
        acr_values: Some(leaked(AcrValues::new("AAL3_ANY"))),
        min_id_assurance_level: None,
        trusted_audiences: &[],
        access_token: None,
        code: None,
        absolute_limit: None,
        skew: Duration::from_secs(60),
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
    }
}

fn rs256_only() -> Vec<JwsAlgorithm> {
    allowed_algorithms(&["RS256".into(), "RS512".into()], HmacKey::None)
}

fn validate(token: &str, check: &IdTokenCheck<'_>) -> Result<IdTokenClaims, IdTokenError> {
    validate_id_token(token, &key_set(), &rs256_only(), None, check)
}

fn error_code(changes: Value) -> &'static str {
    validate(&rs256(&claims_with(changes)), &check())
        .expect_err("the token is refused")
        .code()
}

#[test]
fn a_cis2_shaped_id_token_is_valid() {
    let claims = validate(&rs256(&claims()), &check()).expect("valid");
    assert_eq!(claims.sub, "555057896106");
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, [CLIENT]);
    assert_eq!(claims.azp.as_deref(), Some(CLIENT));
    assert_eq!(claims.nonce.as_deref(), Some(NONCE));
    assert_eq!(claims.amr, ["N3_SMARTCARD"]);
    assert_eq!(claims.sid.as_deref(), Some("cis2-session-1"));
    assert_eq!(claims.selected_roleid.as_deref(), Some("555021935107"));
    assert_eq!(claims.authentication_assurance_level, Some(3));
    assert_eq!(claims.id_assurance_level, Some(3));
    assert_eq!(claims.auth_time, Some(NOW - 20));
    assert_eq!(
        claims.claims["auditTrackingId"], "b1c2-77",
        "every claim is kept"
    );
    let serialised = serde_json::to_value(&claims).unwrap();
    assert_eq!(serialised["sub"], "555057896106");
}

#[test]
fn each_algorithm_verifies() {
    let secret = ClientSecret::new(SECRET.to_owned());
    for (alg, kid) in [
        ("RS256", Some(RSA_KID)),
        ("RS512", Some(RSA_KID)),
        ("PS256", Some(RSA_KID)),
        ("ES256", Some(EC_KID)),
        ("HS256", None),
    ] {
        let mut header = json!({ "alg": alg, "typ": "JWT" });
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let token = sign(&header, &claims());
        let advertised = vec![alg.to_owned()];
        let allowed = allowed_algorithms(&advertised, HmacKey::ClientSecret);
        assert_eq!(allowed.len(), 1, "{alg}");
        let claims = validate_id_token(&token, &key_set(), &allowed, Some(&secret), &check())
            .unwrap_or_else(|error| panic!("{alg}: {error}"));
        assert_eq!(claims.sub, "555057896106");
    }
}

#[test]
fn a_flipped_signature_bit_is_a_bad_signature() {
    for header in [
        json!({ "alg": "RS256", "kid": RSA_KID }),
        json!({ "alg": "ES256", "kid": EC_KID }),
    ] {
        let token = sign(&header, &claims());
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x80;
        let tampered = format!("{input}.{}", b64(bytes));
        let allowed = [JwsAlgorithm::Rs256, JwsAlgorithm::Es256];
        let error = validate_id_token(&tampered, &key_set(), &allowed, None, &check()).unwrap_err();
        assert_eq!(error.code(), "jws_bad_signature", "{header}: {error}");
    }
}

#[test]
fn alg_none_is_refused() {
    let unsigned = format!("{}.", signing_input(&json!({ "alg": "none" }), &claims()));
    let secret = ClientSecret::new(SECRET.to_owned());
    let every = allowed_algorithms(
        &["none".into(), "RS256".into(), "HS256".into()],
        HmacKey::ClientSecret,
    );
    let error =
        validate_id_token(&unsigned, &key_set(), &every, Some(&secret), &check()).unwrap_err();
    assert_eq!(error.code(), "jws_alg_none", "{error}");
}

#[test]
fn hs256_keyed_with_the_rsa_public_key_is_algorithm_confusion() {
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": RSA_KID });
    let input = signing_input(&header, &claims());
    // The PKCS#1 DER of the published key, as the mock's fault uses it.
    let tag = hmac_sign("HS256", rsa_key().public_key_der(), input.as_bytes());
    let forged = format!("{input}.{}", b64(tag));

    // No client secret configured: HMAC is not allowed, whatever discovery says.
    let allowed = allowed_algorithms(&["RS256".into(), "HS256".into()], HmacKey::None);
    assert_eq!(allowed, [JwsAlgorithm::Rs256]);
    let error = validate_id_token(&forged, &key_set(), &allowed, None, &check()).unwrap_err();
    assert_eq!(error.code(), "jws_alg_not_allowed", "{error}");
    let message = error.to_string();
    assert!(
        message.contains("HS256") && message.contains("RS256"),
        "{message}"
    );

    // A client secret configured: the tag is checked with the secret and fails.
    let secret = ClientSecret::new(SECRET.to_owned());
    let allowed = allowed_algorithms(&["RS256".into(), "HS256".into()], HmacKey::ClientSecret);
    let error =
        validate_id_token(&forged, &key_set(), &allowed, Some(&secret), &check()).unwrap_err();
    assert_eq!(error.code(), "jws_bad_signature", "{error}");
}

#[test]
fn an_unknown_kid_is_recognisable_for_a_refetch() {
    let token = sign(&json!({ "alg": "RS256", "kid": "rotated-in" }), &claims());
    let error = validate(&token, &check()).unwrap_err();
    assert!(error.is_unknown_kid(), "{error}");
    assert_eq!(error.code(), "jws_unknown_kid");
    // After the refetch the new key is there.
    let refetched = JsonWebKeySet::from_value(&json!({ "keys": [rsa_jwk("rotated-in")] })).unwrap();
    validate_id_token(&token, &refetched, &rs256_only(), None, &check()).unwrap();
    assert!(
        !validate(&rs256(&claims_with(json!({ "sub": "" }))), &check())
            .unwrap_err()
            .is_unknown_kid()
    );
}

#[test]
fn an_algorithm_discovery_did_not_advertise_is_refused() {
    let token = sign(&json!({ "alg": "PS256", "kid": RSA_KID }), &claims());
    let error = validate(&token, &check()).unwrap_err();
    assert_eq!(error.code(), "jws_alg_not_allowed");
    assert!(error.to_string().contains("PS256"), "{error}");
    // Discovery advertised nothing: RS256 only.
    let token = sign(&json!({ "alg": "RS512", "kid": RSA_KID }), &claims());
    let default = allowed_algorithms(&[], HmacKey::None);
    let error = validate_id_token(&token, &key_set(), &default, None, &check()).unwrap_err();
    assert_eq!(error.code(), "jws_alg_not_allowed");
}

#[test]
fn the_issuer_is_compared_as_an_exact_string() {
    assert_eq!(
        error_code(json!({ "iss": ISSUER_WITHOUT_PORT })),
        "id_token_wrong_issuer"
    );
    let error = validate(
        &rs256(&claims_with(json!({ "iss": ISSUER_WITHOUT_PORT }))),
        &check(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains(ISSUER_WITHOUT_PORT) && error.to_string().contains(ISSUER),
        "{error}"
    );
    // And the other way round: discovery without the port, the token with it.
    let without_port = IdTokenCheck {
        issuer: leaked(issuer_url(ISSUER_WITHOUT_PORT)),
        ..check()
    };
    let error = validate(&rs256(&claims()), &without_port).unwrap_err();
    assert_eq!(error.code(), "id_token_wrong_issuer");
    assert_eq!(
        error_code(json!({ "iss": format!("{ISSUER}/") })),
        "id_token_wrong_issuer"
    );
    assert_eq!(
        error_code(json!({ "iss": ISSUER.to_uppercase() })),
        "id_token_wrong_issuer"
    );
}

#[test]
fn the_audience_may_be_a_string_or_an_array() {
    validate(&rs256(&claims_with(json!({ "aud": [CLIENT] }))), &check()).unwrap();
    // Another audience beside the client is refused, azp or not, unless the profile trusts it
    // (OIDC Core §3.1.3.7 step 3).
    let several = rs256(&claims_with(
        json!({ "aud": ["555000000009.apps.other", CLIENT] }),
    ));
    let error = validate(&several, &check()).unwrap_err();
    assert_eq!(error.code(), "id_token_untrusted_audience");
    assert!(
        error.to_string().contains("555000000009.apps.other"),
        "{error}"
    );
    let trusted = ["555000000009.apps.other".to_owned()];
    let trusting = IdTokenCheck {
        trusted_audiences: &trusted,
        ..check()
    };
    let claims = validate(&several, &trusting).unwrap();
    assert_eq!(claims.aud.len(), 2);
    assert_eq!(
        error_code(json!({ "aud": "555000000009.apps.other" })),
        "id_token_wrong_audience"
    );
    assert_eq!(
        error_code(json!({ "aud": ["555000000009.apps.other"] })),
        "id_token_wrong_audience"
    );
    assert_eq!(error_code(json!({ "aud": [] })), "id_token_wrong_audience");
}

#[test]
fn azp_is_required_with_several_audiences_and_must_be_the_client() {
    let trusted = ["555000000009.apps.other".to_owned()];
    let trusting = IdTokenCheck {
        trusted_audiences: &trusted,
        ..check()
    };
    let token = rs256(&claims_with(
        json!({ "aud": [CLIENT, "555000000009.apps.other"], "azp": null }),
    ));
    assert_eq!(
        validate(&token, &trusting).unwrap_err().code(),
        "id_token_missing_azp"
    );
    // One audience: azp may be left out.
    validate(&rs256(&claims_with(json!({ "azp": null }))), &check()).unwrap();
    assert_eq!(
        error_code(json!({ "azp": "555000000009.apps.other" })),
        "id_token_wrong_azp"
    );
}

#[test]
fn expiry_is_checked_with_the_skew() {
    let error = validate(&rs256(&claims_with(json!({ "exp": NOW - 61 }))), &check()).unwrap_err();
    assert_eq!(error.code(), "id_token_expired");
    assert_eq!(
        error.to_string().split(" (").next(),
        Some("the ID token has expired")
    );
    validate(&rs256(&claims_with(json!({ "exp": NOW - 30 }))), &check()).expect("within the skew");
    assert_eq!(
        error_code(json!({ "exp": "tomorrow" })),
        "id_token_invalid_claim"
    );
}

#[test]
fn an_id_token_issued_in_the_future_is_refused() {
    assert_eq!(
        error_code(json!({ "iat": NOW + 600 })),
        "id_token_issued_in_future"
    );
    validate(&rs256(&claims_with(json!({ "iat": NOW + 30 }))), &check()).expect("within the skew");
}

#[test]
fn sub_is_required() {
    assert_eq!(error_code(json!({ "sub": null })), "id_token_missing_sub");
    assert_eq!(error_code(json!({ "sub": "" })), "id_token_missing_sub");
}

#[test]
fn the_nonce_must_be_the_requests() {
    assert_eq!(
        error_code(json!({ "nonce": "another" })),
        "id_token_wrong_nonce"
    );
    assert_eq!(error_code(json!({ "nonce": null })), "id_token_wrong_nonce");
    let error = validate(
        &rs256(&claims_with(json!({ "nonce": "another" }))),
        &check(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the ID token's nonce does not match the sign-in request"
    );
}

#[test]
fn max_age_needs_a_recent_auth_time() {
    assert_eq!(
        error_code(json!({ "auth_time": NOW - 3600 })),
        "id_token_auth_time_too_old"
    );
    assert_eq!(
        error_code(json!({ "auth_time": null })),
        "id_token_missing_auth_time"
    );
    validate(
        &rs256(&claims_with(json!({ "auth_time": NOW - 330 }))),
        &check(),
    )
    .expect("within max_age and the skew");
}

#[test]
fn the_assurance_level_must_meet_acr_values() {
    validate(
        &rs256(&claims_with(
            json!({ "authentication_assurance_level": "3" }),
        )),
        &check(),
    )
    .unwrap();
    validate(
        &rs256(&claims_with(json!({ "authentication_assurance_level": 3 }))),
        &check(),
    )
    .unwrap();
    assert_eq!(
        error_code(json!({ "authentication_assurance_level": "2" })),
        "assurance_too_low"
    );
    assert_eq!(
        error_code(json!({ "authentication_assurance_level": 2 })),
        "assurance_too_low"
    );
    assert_eq!(
        error_code(json!({ "authentication_assurance_level": null })),
        "assurance_missing"
    );
    assert_eq!(
        error_code(json!({ "authentication_assurance_level": "high" })),
        "assurance_invalid"
    );
    // AAL2 asked for: AAL2 passes; a missing acr is tolerated.
    let aal2 = IdTokenCheck {
        acr_values: Some(leaked(AcrValues::new("AAL2_OR_AAL3_ANY"))),
        ..check()
    };
    validate(
        &rs256(&claims_with(
            json!({ "authentication_assurance_level": 2, "acr": null }),
        )),
        &aal2,
    )
    .unwrap();
}

#[test]
fn a_refreshed_id_token_must_be_for_the_same_user() {
    let original = OriginalIdToken::from(&validate(&rs256(&claims()), &check()).unwrap());
    let refresh_check = check();
    let refreshed = |changes| {
        validate_refreshed_id_token(
            &rs256(&claims_with(changes)),
            &key_set(),
            &rs256_only(),
            None,
            &refresh_check,
            &original,
        )
    };
    refreshed(json!({ "nonce": null, "iat": NOW, "auth_time": NOW - 20 })).expect("valid");
    let error = refreshed(json!({ "nonce": null, "sub": "555000000099" })).unwrap_err();
    assert_eq!(error.code(), "id_token_refresh_mismatch");
    assert!(error.to_string().contains("sub"), "{error}");
    assert_eq!(
        refreshed(json!({ "nonce": "another" })).unwrap_err().code(),
        "id_token_wrong_nonce"
    );
    assert_eq!(
        refreshed(json!({ "nonce": null, "exp": NOW - 600 }))
            .unwrap_err()
            .code(),
        "id_token_expired"
    );
}

#[test]
fn signed_userinfo_with_a_wrong_issuer_is_refused() {
    let userinfo = json!({ "iss": ISSUER, "sub": "555057896106", "nhsid_nrbac_roles": [] });
    let claims = verify_signed_userinfo(
        &rs256(&userinfo),
        &key_set(),
        &rs256_only(),
        None,
        &issuer_url(ISSUER),
        &client_id(CLIENT),
    )
    .unwrap();
    assert_eq!(claims["sub"], "555057896106");
    let wrong = json!({ "iss": ISSUER_WITHOUT_PORT, "sub": "555057896106" });
    let error = verify_signed_userinfo(
        &rs256(&wrong),
        &key_set(),
        &rs256_only(),
        None,
        &issuer_url(ISSUER),
        &client_id(CLIENT),
    )
    .unwrap_err();
    assert_eq!(error.code(), "userinfo_wrong_issuer");
    let tampered = format!("{}A", rs256(&userinfo));
    let error = verify_signed_userinfo(
        &tampered,
        &key_set(),
        &rs256_only(),
        None,
        &issuer_url(ISSUER),
        &client_id(CLIENT),
    )
    .unwrap_err();
    assert!(error.code().starts_with("jws_"), "{error}");
}

#[test]
fn key_set_parsing_skips_keys_it_cannot_use() {
    let mut enc = rsa_jwk("enc");
    enc["use"] = json!("enc");
    // 1024 bits: too short to trust.
    let short = json!({ "kty": "RSA", "kid": "short", "n": b64([0xb7u8; 128]), "e": "AQAB" });
    let document = json!({ "keys": [
        enc,
        short,
        { "kty": "OKP", "crv": "Ed25519", "kid": "okp", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
        { "kty": "RSA", "kid": "bad-n", "n": "not base64url!", "e": "AQAB" },
        rsa_jwk(RSA_KID),
        ec_jwk(EC_KID),
    ]});
    let set = JsonWebKeySet::from_json(&document.to_string()).unwrap();
    assert_eq!(set.kids(), [RSA_KID, EC_KID]);
    assert_eq!(
        JsonWebKeySet::from_json(r#"{"kids": []}"#)
            .unwrap_err()
            .code(),
        "jwks_malformed"
    );
    // A token naming a skipped key is an unknown kid.
    let token = sign(&json!({ "alg": "RS256", "kid": "enc" }), &claims());
    assert!(
        validate_id_token(&token, &set, &rs256_only(), None, &check())
            .unwrap_err()
            .is_unknown_kid()
    );
}

#[test]
fn debug_output_carries_no_signature() {
    let token = rs256(&claims());
    let (_, signature) = token.rsplit_once('.').unwrap();
    let jwt = decode(&token).unwrap();
    verify(&jwt, &key_set(), &rs256_only(), None).unwrap();
    let claims = validate(&token, &check()).unwrap();
    let printed = format!("{jwt:?} {jwt:#?} {claims:?} {claims:#?}");
    assert!(!printed.contains(signature), "{printed}");
    assert!(!printed.contains(&token[..40]), "no raw token: {printed}");
}

/// Real ID tokens from the in-process mock provider, clean and with faults armed.
mod against_the_mock {
    use careid_core::{authenticate, ClientAuth, ClientCredential};
    use mock_cis2::RunningMock;

    use super::*;

    const CLIENT: &str = "555000000001.apps.local";
    const REDIRECT: &str = "http://127.0.0.1:49152/callback";

    struct Provider {
        mock: RunningMock,
        http: reqwest::Client,
        token_endpoint: String,
        advertised: Vec<String>,
        secret: ClientSecret,
    }

    async fn start() -> Provider {
        let (mock, http, discovery) = crate::mock_signing_in_the_nurse().await;
        let secret = mock_cis2::ClientRegistry::builtin()
            .get(CLIENT)
            .and_then(|client| client.client_secret.clone())
            .expect("the built-in client has a secret");
        Provider {
            token_endpoint: discovery["token_endpoint"].as_str().unwrap().to_owned(),
            advertised: serde_json::from_value(
                discovery["id_token_signing_alg_values_supported"].clone(),
            )
            .unwrap(),
            mock,
            http,
            secret: ClientSecret::new(secret),
        }
    }

    impl Provider {
        async fn token_request(&self, form: Vec<(&str, &str)>) -> Value {
            let credential = ClientCredential::Secret(self.secret.clone());
            let auth = authenticate(
                ClientAuth::ClientSecretBasic,
                &client_id(CLIENT),
                &credential,
                &self.token_endpoint,
                SystemTime::now(),
            )
            .unwrap();
            let mut form = form;
            form.extend(auth.form_pairs());
            let mut request = self.http.post(&self.token_endpoint).form(&form);
            if let Some(header) = &auth.basic_authorization {
                request = request.header(reqwest::header::AUTHORIZATION, header.expose_secret());
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json().await.unwrap()
        }

        /// One auto-login sign-in: the token response.
        async fn sign_in(&self) -> Value {
            let verifier = "a-code-verifier-of-forty-three-characters-at-least";
            let challenge = careid_test_fixtures::s256_challenge(verifier);
            let response = self
                .http
                .get(format!("{}/authorize", self.mock.issuer()))
                .query(&[
                    ("response_type", "code"),
                    ("client_id", CLIENT),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid profile"),
                    ("state", "state-1"),
                    ("nonce", NONCE),
                    ("acr_values", "AAL3_ANY"),
                    ("max_age", "300"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 302);
            let code = crate::code_in_redirect(&response);
            self.token_request(vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ])
            .await
        }

        fn check(&self) -> IdTokenCheck<'_> {
            IdTokenCheck {
                issuer: leaked(issuer_url(self.mock.issuer())),
                client_id: leaked(client_id(CLIENT)),
                max_age: Some(300),
                acr_values: Some(leaked(AcrValues::new("AAL3_ANY"))),
                min_id_assurance_level: None,
                trusted_audiences: &[],
                access_token: None,
                code: None,
                absolute_limit: None,
                skew: Duration::from_secs(60),
                now: SystemTime::now(),
            }
        }

        fn keys(&self) -> JsonWebKeySet {
            JsonWebKeySet::from_value(&self.mock.jwks()).expect("the mock's key set")
        }

        fn validate(
            &self,
            token: &str,
            allowed: &[JwsAlgorithm],
            secret: Option<&ClientSecret>,
        ) -> Result<IdTokenClaims, IdTokenError> {
            validate_id_token(token, &self.keys(), allowed, secret, &self.check())
        }
    }

    #[tokio::test]
    async fn the_mocks_id_tokens_validate_and_its_faults_are_refused() {
        let provider = start().await;
        let allowed = allowed_algorithms(&provider.advertised, HmacKey::ClientSecret);
        assert_eq!(allowed, [JwsAlgorithm::Rs256, JwsAlgorithm::Rs512]);

        let response = provider.sign_in().await;
        let id_token = response["id_token"].as_str().expect("an ID token");
        let claims = provider
            .validate(id_token, &allowed, Some(&provider.secret))
            .expect("the mock's ID token is valid");
        assert_eq!(claims.sub, "555057896106");
        assert_eq!(claims.authentication_assurance_level, Some(3));
        let issued = provider.mock.issued_tokens();
        assert!(
            issued
                .iter()
                .any(|token| token.claims["sub"] == "555057896106"),
            "the mock recorded the token"
        );

        // The refresh grant's ID token keeps the user.
        let refreshed = provider
            .token_request(vec![
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    response["refresh_token"].as_str().expect("a refresh token"),
                ),
            ])
            .await;
        validate_refreshed_id_token(
            refreshed["id_token"]
                .as_str()
                .expect("a refreshed ID token"),
            &provider.keys(),
            &allowed,
            None,
            &provider.check(),
            &OriginalIdToken::from(&claims),
        )
        .expect("the refreshed ID token is valid");

        let faults = [
            ("wrong_issuer", "id_token_wrong_issuer"),
            ("wrong_audience", "id_token_wrong_audience"),
            ("wrong_azp", "id_token_wrong_azp"),
            ("wrong_nonce", "id_token_wrong_nonce"),
            ("bad_signature", "jws_bad_signature"),
            ("alg_none", "jws_alg_none"),
            ("hs256_with_public_key", "jws_alg_not_allowed"),
            ("unknown_kid", "jws_unknown_kid"),
            ("expired_id_token", "id_token_expired"),
            ("iat_in_future", "id_token_issued_in_future"),
            ("missing_sub", "id_token_missing_sub"),
            ("extra_audience", "id_token_untrusted_audience"),
            ("auth_time_in_future", "id_token_auth_time_in_future"),
        ];
        for (fault, code) in faults {
            provider
                .mock
                .arm_fault(fault.parse().expect("a fault name"), Some(1));
            let response = provider.sign_in().await;
            let token = response["id_token"].as_str().expect("an ID token");
            let error = provider
                .validate(token, &allowed, Some(&provider.secret))
                .expect_err(fault);
            assert_eq!(error.code(), code, "{fault}: {error}");
            if fault == "unknown_kid" {
                assert!(error.is_unknown_kid());
            }
            if fault == "hs256_with_public_key" {
                // Even with HS256 allowed and the client secret as the key, the forgery fails.
                let hmac_too = [JwsAlgorithm::Rs256, JwsAlgorithm::Hs256];
                let error = provider
                    .validate(token, &hmac_too, Some(&provider.secret))
                    .unwrap_err();
                assert_eq!(error.code(), "jws_bad_signature", "{error}");
            }
        }
        provider.mock.shutdown().await;
    }
}
