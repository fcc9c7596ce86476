//! Client authentication checked from outside: assertions are verified with public keys that
//! `openssl` wrote (tests/data) and with aws-lc-rs's HMAC, never with careid's own signing code.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::client_id;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{
    UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA512,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use careid_core::{
    authenticate, authenticate_with, check_assertion_algorithm, ClientAuth, ClientAuthError,
    ClientAuthentication, ClientCredential, ClientSecret, HmacAlgorithm, IssuerKind, IssuerSource,
    PrivateKey, Profile, ProfileEntry, Profiles, SigningAlgorithm, CIS2_ASSERTION_ALGORITHMS,
    CLIENT_ASSERTION_TYPE,
};
use careid_test_fixtures::keys::{
    pem_der, EC_KEY_THUMBPRINT as EC_THUMBPRINT, RSA_KEY_THUMBPRINT as RSA_THUMBPRINT,
};
use careid_test_fixtures::CLIENT_SECRET as SECRET;
use serde_json::Value;

/// CIS2 INT's token endpoint as discovery publishes it: the `:443` must survive (REFERENCE §1).
const TOKEN_ENDPOINT: &str = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare/access_token";
const CLIENT_ID: &str = "555000000005.apps.supplier";

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn key(name: &str) -> PrivateKey {
    PrivateKey::from_pem(&data(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// The DER inside a one-block PEM file, decoded here rather than by careid's parser.
fn public_key_der(name: &str) -> Vec<u8> {
    pem_der(&data(name))
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

fn form_value<'a>(auth: &'a ClientAuthentication, name: &str) -> Option<&'a str> {
    auth.form_pairs()
        .into_iter()
        .find(|(field, _)| *field == name)
        .map(|(_, value)| value)
}

fn field_names(auth: &ClientAuthentication) -> Vec<&'static str> {
    auth.form.iter().map(|(name, _)| *name).collect()
}

struct Jwt {
    header: Value,
    claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

fn assertion(auth: &ClientAuthentication) -> Jwt {
    assert_eq!(
        form_value(auth, "client_assertion_type"),
        Some(CLIENT_ASSERTION_TYPE)
    );
    assert_eq!(form_value(auth, "client_id"), Some(CLIENT_ID));
    assert!(auth.basic_authorization.is_none());
    let jwt = form_value(auth, "client_assertion").expect("a client_assertion field");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS in compact form");
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url without padding")
    };
    let json = |part: &str| -> Value { serde_json::from_slice(&decode(part)).expect("JSON") };
    Jwt {
        header: json(parts[0]),
        claims: json(parts[1]),
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: decode(parts[2]),
    }
}

/// The claims CIS2 checks (REFERENCE §3, RFC 7523 §3).
fn check_claims(jwt: &Jwt, token_endpoint: &str) {
    let claims = &jwt.claims;
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(
        claims["aud"].as_str(),
        Some(token_endpoint),
        "aud byte for byte"
    );
    let iat = claims["iat"].as_u64().expect("numeric iat");
    let exp = claims["exp"].as_u64().expect("numeric exp");
    assert_eq!(iat, 1_767_225_600, "iat is the clock passed in");
    assert!(exp > iat && exp - iat <= 300, "lives 5 minutes at most");
    let jti = claims["jti"].as_str().expect("a jti");
    assert!(URL_SAFE_NO_PAD.decode(jti).expect("base64url jti").len() >= 16);
    assert!(claims.get("nbf").is_none());
    assert_eq!(jwt.header["typ"], "JWT");
}

fn verify_signature(jwt: &Jwt, algorithm: &'static dyn VerificationAlgorithm, public_key: &[u8]) {
    UnparsedPublicKey::new(algorithm, public_key)
        .verify(jwt.signing_input.as_bytes(), &jwt.signature)
        .expect("the signature verifies with the public key openssl wrote");
}

#[test]
fn private_key_jwt_rs256_verifies_with_the_openssl_public_key() {
    let public = public_key_der("test-key-rsa.pub.pem");
    for file in ["test-key-rsa-pkcs8.pem", "test-key-rsa-pkcs1.pem"] {
        let credential = ClientCredential::PrivateKey(key(file));
        let auth = authenticate(
            ClientAuth::PrivateKeyJwt,
            &client_id(CLIENT_ID),
            &credential,
            TOKEN_ENDPOINT,
            now(),
        )
        .unwrap();
        assert_eq!(
            field_names(&auth),
            ["client_id", "client_assertion_type", "client_assertion"]
        );
        let jwt = assertion(&auth);
        check_claims(&jwt, TOKEN_ENDPOINT);
        assert_eq!(jwt.header["alg"], "RS256", "{file}");
        assert_eq!(jwt.header["kid"], RSA_THUMBPRINT, "{file}");
        verify_signature(&jwt, &RSA_PKCS1_2048_8192_SHA256, &public);
    }
}

#[test]
fn private_key_jwt_rs512_with_a_given_kid() {
    let key = key("test-key-rsa-pkcs1.pem")
        .with_algorithm(SigningAlgorithm::Rs512)
        .unwrap()
        .with_kid("cis2-signing-2026");
    let credential = ClientCredential::PrivateKey(key);
    let auth = authenticate(
        ClientAuth::PrivateKeyJwt,
        &client_id(CLIENT_ID),
        &credential,
        TOKEN_ENDPOINT,
        now(),
    )
    .unwrap();
    let jwt = assertion(&auth);
    check_claims(&jwt, TOKEN_ENDPOINT);
    assert_eq!(jwt.header["alg"], "RS512");
    assert_eq!(jwt.header["kid"], "cis2-signing-2026");
    verify_signature(
        &jwt,
        &RSA_PKCS1_2048_8192_SHA512,
        &public_key_der("test-key-rsa.pub.pem"),
    );
    // An RS512 signature must not pass as RS256: the header tells the truth.
    assert!(UnparsedPublicKey::new(
        &RSA_PKCS1_2048_8192_SHA256,
        public_key_der("test-key-rsa.pub.pem")
    )
    .verify(jwt.signing_input.as_bytes(), &jwt.signature)
    .is_err());
}

#[test]
fn private_key_jwt_es256_with_an_ec_p256_key() {
    // The last 65 bytes of a P-256 SubjectPublicKeyInfo are the uncompressed point.
    let spki = public_key_der("test-key-ec-p256.pub.pem");
    let point = &spki[spki.len() - 65..];
    for file in ["test-key-ec-p256-pkcs8.pem", "test-key-ec-p256-sec1.pem"] {
        let key = key(file);
        assert_eq!(key.algorithm(), SigningAlgorithm::Es256);
        assert_eq!(key.kid(), EC_THUMBPRINT, "{file}");
        let credential = ClientCredential::PrivateKey(key);
        let auth = authenticate(
            ClientAuth::PrivateKeyJwt,
            &client_id(CLIENT_ID),
            &credential,
            TOKEN_ENDPOINT,
            now(),
        )
        .unwrap();
        let jwt = assertion(&auth);
        check_claims(&jwt, TOKEN_ENDPOINT);
        assert_eq!(jwt.header["alg"], "ES256");
        assert_eq!(jwt.signature.len(), 64, "JWS R || S, not DER");
        verify_signature(&jwt, &ECDSA_P256_SHA256_FIXED, point);
    }
}

#[test]
fn client_secret_jwt_verifies_with_hmac() {
    let credential = ClientCredential::Secret(ClientSecret::new(SECRET.to_owned()));
    let cases = [
        (HmacAlgorithm::Hs256, "HS256", hmac::HMAC_SHA256),
        (HmacAlgorithm::Hs512, "HS512", hmac::HMAC_SHA512),
    ];
    for (algorithm, name, aws_algorithm) in cases {
        let auth = authenticate_with(
            ClientAuth::ClientSecretJwt,
            &client_id(CLIENT_ID),
            &credential,
            TOKEN_ENDPOINT,
            now(),
            algorithm,
        )
        .unwrap();
        let jwt = assertion(&auth);
        check_claims(&jwt, TOKEN_ENDPOINT);
        assert_eq!(jwt.header["alg"], name);
        let key = hmac::Key::new(aws_algorithm, SECRET.as_bytes());
        hmac::verify(&key, jwt.signing_input.as_bytes(), &jwt.signature)
            .unwrap_or_else(|_| panic!("{name} verifies with the secret"));
    }
    // The default is HS256.
    let auth = authenticate(
        ClientAuth::ClientSecretJwt,
        &client_id(CLIENT_ID),
        &credential,
        TOKEN_ENDPOINT,
        now(),
    )
    .unwrap();
    assert_eq!(assertion(&auth).header["alg"], "HS256");
}

#[test]
fn aud_keeps_the_endpoint_byte_for_byte() {
    // The url crate would print the first as ".../access_token" without ":443", and would
    // lower-case the host and resolve the dot segment of the others.
    let endpoints = [
        TOKEN_ENDPOINT,
        "https://AM.Example.NHS.uk:443/a/./access_token",
        "https://op.example:443/token?x=%7e",
    ];
    let rsa = ClientCredential::PrivateKey(key("test-key-rsa-pkcs8.pem"));
    let secret = ClientCredential::Secret(ClientSecret::new(SECRET.to_owned()));
    for endpoint in endpoints {
        for (method, credential) in [
            (ClientAuth::PrivateKeyJwt, &rsa),
            (ClientAuth::ClientSecretJwt, &secret),
        ] {
            let auth =
                authenticate(method, &client_id(CLIENT_ID), credential, endpoint, now()).unwrap();
            let jwt = assertion(&auth);
            assert_eq!(jwt.claims["aud"].as_str(), Some(endpoint));
        }
    }
}

#[test]
fn every_assertion_has_a_fresh_jti() {
    let rsa = ClientCredential::PrivateKey(key("test-key-rsa-pkcs8.pem"));
    let secret = ClientCredential::Secret(ClientSecret::new(SECRET.to_owned()));
    let mut seen = HashSet::new();
    for (method, credential) in [
        (ClientAuth::PrivateKeyJwt, &rsa),
        (ClientAuth::PrivateKeyJwt, &rsa),
        (ClientAuth::ClientSecretJwt, &secret),
        (ClientAuth::ClientSecretJwt, &secret),
    ] {
        // The same clock for every call: only randomness can make the jti differ.
        let auth = authenticate(
            method,
            &client_id(CLIENT_ID),
            credential,
            TOKEN_ENDPOINT,
            now(),
        )
        .unwrap();
        let jti = assertion(&auth).claims["jti"].as_str().unwrap().to_owned();
        assert!(seen.insert(jti), "jti repeated");
    }
}

#[test]
fn client_secret_basic_encodes_per_rfc_6749_section_2_3_1() {
    // Each of client id and secret is form-urlencoded (RFC 6749 Appendix B: space as "+",
    // everything but alphanumerics and "*-._" as %XX) before the two are joined with ":".
    let cases = [
        (CLIENT_ID, SECRET, format!("{CLIENT_ID}:{SECRET}")),
        (
            "client:1",
            "p%ss w:rd",
            "client%3A1:p%25ss+w%3Ard".to_owned(),
        ),
        ("a+b/c", "é~*-._", "a%2Bb%2Fc:%C3%A9%7E*-._".to_owned()),
    ];
    for (id, secret, joined) in cases {
        let credential = ClientCredential::Secret(ClientSecret::new(secret.to_owned()));
        let auth = authenticate(
            ClientAuth::ClientSecretBasic,
            &client_id(id),
            &credential,
            TOKEN_ENDPOINT,
            now(),
        )
        .unwrap();
        let expected = format!("Basic {}", STANDARD.encode(joined));
        assert_eq!(
            auth.basic_authorization.as_ref().map(|h| h.expose_secret()),
            Some(expected.as_str()),
            "{id:?}"
        );
        assert!(auth.form.is_empty(), "basic sends nothing in the body");
    }
}

#[test]
fn client_secret_post_and_none_fill_the_form() {
    let secret = ClientCredential::Secret(ClientSecret::new(SECRET.to_owned()));
    let post = authenticate(
        ClientAuth::ClientSecretPost,
        &client_id(CLIENT_ID),
        &secret,
        TOKEN_ENDPOINT,
        now(),
    )
    .unwrap();
    assert!(post.basic_authorization.is_none());
    assert_eq!(
        post.form_pairs(),
        [("client_id", CLIENT_ID), ("client_secret", SECRET)]
    );

    let none = authenticate(
        ClientAuth::None,
        &client_id(CLIENT_ID),
        &ClientCredential::None,
        TOKEN_ENDPOINT,
        now(),
    )
    .unwrap();
    assert!(none.basic_authorization.is_none());
    assert_eq!(none.form_pairs(), [("client_id", CLIENT_ID)]);
}

#[test]
fn credentials_that_do_not_fit_the_method_are_refused() {
    let secret = || ClientCredential::Secret(ClientSecret::new(SECRET.to_owned()));
    let private_key = || ClientCredential::PrivateKey(key("test-key-rsa-pkcs8.pem"));
    let cases: Vec<(ClientAuth, ClientCredential, &str)> = vec![
        (
            ClientAuth::ClientSecretBasic,
            ClientCredential::None,
            "client_credential_missing",
        ),
        (
            ClientAuth::ClientSecretPost,
            ClientCredential::Secret(ClientSecret::new(String::new())),
            "client_credential_missing",
        ),
        (
            ClientAuth::ClientSecretJwt,
            private_key(),
            "client_credential_mismatch",
        ),
        (
            ClientAuth::ClientSecretBasic,
            private_key(),
            "client_credential_mismatch",
        ),
        (
            ClientAuth::PrivateKeyJwt,
            ClientCredential::None,
            "client_credential_missing",
        ),
        (
            ClientAuth::PrivateKeyJwt,
            secret(),
            "client_credential_mismatch",
        ),
        (ClientAuth::None, secret(), "client_credential_mismatch"),
        (
            ClientAuth::None,
            private_key(),
            "client_credential_mismatch",
        ),
    ];
    for (method, credential, code) in cases {
        let error = authenticate(
            method,
            &client_id(CLIENT_ID),
            &credential,
            TOKEN_ENDPOINT,
            now(),
        )
        .expect_err(method.as_str());
        assert_eq!(error.code(), code, "{method:?} with {credential:?}");
        let message = error.to_string();
        assert!(message.contains(method.as_str()), "{message}");
        assert!(!message.contains(SECRET), "{message}");
    }
}

#[test]
fn keys_that_cannot_be_used_give_clear_errors_without_key_material() {
    let pkcs8 = data("test-key-rsa-pkcs8.pem");
    let body_line = pkcs8.lines().nth(2).unwrap().to_owned();
    let truncated: String =
        pkcs8.lines().take(10).collect::<Vec<_>>().join("\n") + "\n-----END PRIVATE KEY-----\n";
    let cases = [
        (
            data("test-key-rsa-encrypted-pkcs8.pem"),
            "private_key_encrypted",
        ),
        (
            data("test-key-rsa-encrypted-pkcs1.pem"),
            "private_key_encrypted",
        ),
        (data("test-key-ed25519.pem"), "private_key_unsupported"),
        (data("test-key-rsa.pub.pem"), "private_key_unsupported"),
        (truncated, "private_key_malformed"),
        (
            pkcs8.replace("-----END PRIVATE KEY-----", ""),
            "private_key_malformed",
        ),
        (
            pkcs8.replace(&body_line, "not base64 !!"),
            "private_key_malformed",
        ),
        ("just some text".to_owned(), "private_key_malformed"),
        (String::new(), "private_key_malformed"),
    ];
    for (pem, code) in cases {
        let error = PrivateKey::from_pem(&pem).expect_err(code);
        assert_eq!(error.code(), code, "{error}");
        let message = format!("{error} {error:?}");
        assert!(!message.contains(&body_line[..20]), "{message}");
        for line in pem.lines().filter(|line| line.len() >= 20) {
            assert!(!message.contains(&line[..20]), "{message}");
        }
    }
}

#[test]
fn algorithm_must_fit_the_key() {
    let rsa = key("test-key-rsa-pkcs8.pem");
    let error = rsa.with_algorithm(SigningAlgorithm::Es256).unwrap_err();
    assert!(matches!(error, ClientAuthError::AlgorithmMismatch { .. }));
    let ec = key("test-key-ec-p256-pkcs8.pem");
    assert_eq!(
        ec.with_algorithm(SigningAlgorithm::Rs256)
            .unwrap_err()
            .code(),
        "signing_algorithm_mismatch"
    );
}

#[test]
fn cis2_takes_rs256_and_rs512_assertions_only() {
    assert_eq!(
        CIS2_ASSERTION_ALGORITHMS,
        [SigningAlgorithm::Rs256, SigningAlgorithm::Rs512]
    );
    for algorithm in SigningAlgorithm::ALL {
        assert_eq!(
            algorithm.as_str().parse::<SigningAlgorithm>().unwrap(),
            algorithm
        );
        check_assertion_algorithm(algorithm, IssuerKind::Other)
            .unwrap_or_else(|error| panic!("{algorithm:?} elsewhere: {error}"));
        let cis2 = check_assertion_algorithm(algorithm, IssuerKind::Cis2);
        assert_eq!(
            cis2.is_ok(),
            algorithm != SigningAlgorithm::Es256,
            "{algorithm:?}"
        );
    }
    let error = check_assertion_algorithm(SigningAlgorithm::Es256, IssuerKind::Cis2).unwrap_err();
    assert_eq!(error.code(), "signing_algorithm_not_for_cis2");
    let message = error.to_string();
    assert!(
        message.contains("CIS2") && message.contains("RS256 or RS512") && message.contains("ES256"),
        "{message}"
    );
    for name in ["es256", "PS256", "HS256", ""] {
        assert_eq!(
            name.parse::<SigningAlgorithm>().unwrap_err().code(),
            "signing_algorithm_unknown",
            "{name:?}"
        );
    }
}

/// A built-in CIS2 environment completed with a client id, and a custom provider elsewhere.
fn cis2_and_other_profiles() -> (Profile, Profile) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    let cis2 = profiles
        .add(
            "int",
            ProfileEntry {
                client_id: Some(CLIENT_ID.into()),
                ..ProfileEntry::default()
            },
        )
        .expect("int completed");
    let other = profiles
        .add(
            "other",
            ProfileEntry {
                issuer: Some("https://idp.example".into()),
                client_id: Some(CLIENT_ID.into()),
                client_auth: Some(ClientAuth::PrivateKeyJwt),
                ..ProfileEntry::default()
            },
        )
        .expect("custom profile");
    (cis2, other)
}

#[test]
fn an_ec_key_is_refused_for_a_cis2_profile_and_kept_elsewhere() {
    let (cis2, other) = cis2_and_other_profiles();
    assert!(cis2.is_cis2() && !other.is_cis2());
    let ec = data("test-key-ec-p256-pkcs8.pem");
    let rsa = data("test-key-rsa-pkcs8.pem");

    for file in ["test-key-ec-p256-pkcs8.pem", "test-key-ec-p256-sec1.pem"] {
        let error = cis2.signing_key(&data(file)).unwrap_err();
        assert_eq!(error.code(), "signing_algorithm_not_for_cis2", "{file}");
        assert!(error.to_string().contains("RSA key"), "{error}");
    }
    // Even when the profile names an RSA algorithm, the message is CIS2's rule, not a mismatch.
    let mut rs256_cis2 = cis2.clone();
    rs256_cis2.assertion_algorithm = Some("RS256".parse().unwrap());
    assert_eq!(
        rs256_cis2.signing_key(&ec).unwrap_err().code(),
        "signing_algorithm_not_for_cis2"
    );
    // A profile that names ES256 for CIS2 (never valid on load, but the fields are public).
    let mut es256_cis2 = cis2.clone();
    es256_cis2.assertion_algorithm = Some("ES256".parse().unwrap());
    assert_eq!(
        es256_cis2.signing_key(&rsa).unwrap_err().code(),
        "signing_algorithm_mismatch"
    );

    let key = cis2.signing_key(&rsa).expect("RSA for CIS2");
    assert_eq!(key.algorithm(), SigningAlgorithm::Rs256);
    let mut rs512 = cis2.clone();
    rs512.assertion_algorithm = Some("RS512".parse().unwrap());
    rs512.key_id = Some("registered-kid".into());
    let key = rs512.signing_key(&rsa).expect("RS512 for CIS2");
    assert_eq!(key.algorithm(), SigningAlgorithm::Rs512);
    assert_eq!(key.kid(), "registered-kid");

    let key = other.signing_key(&ec).expect("ES256 elsewhere");
    assert_eq!(key.algorithm(), SigningAlgorithm::Es256);
    assert_eq!(key.kid(), EC_THUMBPRINT);
    assert_eq!(
        other.issuer,
        IssuerSource::Url(crate::issuer_url("https://idp.example"))
    );
}

#[test]
fn the_public_jwk_carries_the_thumbprint_kid() {
    let key = key("test-key-rsa-pkcs1.pem");
    assert_eq!(key.thumbprint(), RSA_THUMBPRINT);
    let jwk: Value = serde_json::from_str(&key.public_jwk()).unwrap();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(jwk["kid"], RSA_THUMBPRINT);
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");
    assert!(jwk.get("d").is_none(), "no private member");
    // The modulus in the JWK is the one openssl wrote in the public key.
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let spki = public_key_der("test-key-rsa.pub.pem");
    assert!(spki.windows(n.len()).any(|window| window == n.as_slice()));
}

#[test]
fn debug_shows_no_secret_or_key_material() {
    let key = key("test-key-rsa-pkcs8.pem");
    let credential = ClientCredential::PrivateKey(key);
    let printed = format!("{credential:?} {credential:#?}");
    assert!(printed.contains("RSA 2048 bits"), "{printed}");
    assert!(printed.contains(RSA_THUMBPRINT), "{printed}");
    let pem = data("test-key-rsa-pkcs8.pem");
    for line in pem.lines().skip(2).filter(|line| line.len() > 40) {
        assert!(!printed.contains(&line[..16]), "{printed}");
    }

    let secret = ClientCredential::Secret(ClientSecret::new(SECRET.to_owned()));
    let printed = format!("{secret:?}");
    assert!(!printed.contains(SECRET), "{printed}");

    for (method, credential) in [
        (ClientAuth::ClientSecretBasic, &secret),
        (ClientAuth::ClientSecretPost, &secret),
        (ClientAuth::ClientSecretJwt, &secret),
        (ClientAuth::PrivateKeyJwt, &credential),
    ] {
        let auth = authenticate(
            method,
            &client_id(CLIENT_ID),
            credential,
            TOKEN_ENDPOINT,
            now(),
        )
        .unwrap();
        let printed = format!("{auth:?}");
        assert!(!printed.contains(SECRET), "{printed}");
        if let Some(header) = &auth.basic_authorization {
            assert!(!printed.contains(header.expose_secret()), "{printed}");
        }
        if let Some(jwt) = form_value(&auth, "client_assertion") {
            // A JWT's header is public, so look for the signature part only.
            let signature = jwt.rsplit('.').next().unwrap();
            assert!(!printed.contains(signature), "{printed}");
        }
    }
}

/// Every method end to end: a code from the in-process mock provider, exchanged at the token
/// endpoint discovery published, with nothing but what [`authenticate`] returned.
mod against_the_mock {
    use super::*;

    const REDIRECT_ANY_PORT: &str = "http://127.0.0.1:49152/callback";
    /// The post client registers exact redirect URIs only.
    const REDIRECT_EXACT: &str = "http://127.0.0.1:8765/callback";

    struct Case {
        client_id: &'static str,
        method: ClientAuth,
        credential: ClientCredential,
        hmac: HmacAlgorithm,
        redirect_uri: &'static str,
    }

    fn registered_secret(client_id: &str) -> ClientCredential {
        let secret = mock_cis2::ClientRegistry::builtin()
            .get(client_id)
            .and_then(|client| client.client_secret.clone())
            .expect("a built-in confidential client");
        ClientCredential::Secret(ClientSecret::new(secret))
    }

    fn cases() -> Vec<Case> {
        let case = |client_id, method, credential, hmac, redirect_uri| Case {
            client_id,
            method,
            credential,
            hmac,
            redirect_uri,
        };
        let rs512 = key("test-key-rsa-pkcs1.pem")
            .with_algorithm(SigningAlgorithm::Rs512)
            .unwrap();
        vec![
            case(
                "555000000001.apps.local",
                ClientAuth::ClientSecretBasic,
                registered_secret("555000000001.apps.local"),
                HmacAlgorithm::Hs256,
                REDIRECT_ANY_PORT,
            ),
            case(
                "555000000002.apps.supplier",
                ClientAuth::ClientSecretPost,
                registered_secret("555000000002.apps.supplier"),
                HmacAlgorithm::Hs256,
                REDIRECT_EXACT,
            ),
            case(
                "555000000003.apps.local",
                ClientAuth::None,
                ClientCredential::None,
                HmacAlgorithm::Hs256,
                REDIRECT_ANY_PORT,
            ),
            case(
                "555000000004.apps.supplier",
                ClientAuth::ClientSecretJwt,
                registered_secret("555000000004.apps.supplier"),
                HmacAlgorithm::Hs256,
                REDIRECT_ANY_PORT,
            ),
            case(
                "555000000004.apps.supplier",
                ClientAuth::ClientSecretJwt,
                registered_secret("555000000004.apps.supplier"),
                HmacAlgorithm::Hs512,
                REDIRECT_ANY_PORT,
            ),
            case(
                "555000000005.apps.national",
                ClientAuth::PrivateKeyJwt,
                ClientCredential::PrivateKey(key("test-key-rsa-pkcs8.pem")),
                HmacAlgorithm::Hs256,
                REDIRECT_ANY_PORT,
            ),
            case(
                "555000000005.apps.national",
                ClientAuth::PrivateKeyJwt,
                ClientCredential::PrivateKey(rs512),
                HmacAlgorithm::Hs256,
                REDIRECT_ANY_PORT,
            ),
        ]
    }

    /// An authorization code for `case`, read from the redirect the mock answers with.
    async fn code(http: &reqwest::Client, issuer: &str, case: &Case) -> (String, String) {
        let verifier = format!("{:-<48}", case.client_id);
        let challenge = careid_test_fixtures::s256_challenge(&verifier);
        let response = http
            .get(format!("{issuer}/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", case.client_id),
                ("redirect_uri", case.redirect_uri),
                ("scope", "openid profile"),
                ("state", "state-1"),
                ("nonce", "nonce-1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{}", case.client_id);
        let code = crate::code_in_redirect(&response);
        (code, verifier)
    }

    #[tokio::test]
    async fn every_method_exchanges_a_code() {
        let (mock, http, discovery) = crate::mock_signing_in_the_nurse().await;
        let token_endpoint = discovery["token_endpoint"].as_str().unwrap().to_owned();

        for case in cases() {
            let (code, verifier) = code(&http, mock.issuer(), &case).await;
            let auth = authenticate_with(
                case.method,
                &client_id(case.client_id),
                &case.credential,
                &token_endpoint,
                SystemTime::now(),
                case.hmac,
            )
            .unwrap();
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", case.redirect_uri),
                ("code_verifier", verifier.as_str()),
            ];
            form.extend(auth.form_pairs());
            let mut request = http.post(&token_endpoint).form(&form);
            if let Some(header) = &auth.basic_authorization {
                request = request.header(reqwest::header::AUTHORIZATION, header.expose_secret());
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                status,
                200,
                "{} {:?}: {body}",
                case.method.as_str(),
                case.hmac
            );
            assert!(body["access_token"].is_string());
        }
        mock.shutdown().await;
    }
}
