//! The fixtures hold what they say: the committed keys' thumbprints, and tokens that verify
//! with the public keys they publish.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{
    UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA512, RSA_PSS_2048_8192_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_test_fixtures::jwt::{claims, hmac_sign, mint, signing_input, JwtKey};
use careid_test_fixtures::keys::{
    generated_ec_key, generated_rsa_keys, pem_der, EcTestKey, RsaTestKey, EC_KEY_THUMBPRINT,
    RSA_KEY_THUMBPRINT,
};
use careid_test_fixtures::{base64url, CLIENT_SECRET};
use serde_json::{json, Value};

/// The RFC 7638 thumbprint of a public JWK: SHA-256 of its required members, in order.
fn thumbprint(jwk: &Value) -> String {
    let canonical = match jwk["kty"].as_str() {
        Some("RSA") => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            jwk["e"].as_str().unwrap(),
            jwk["n"].as_str().unwrap()
        ),
        Some("EC") => format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        ),
        other => panic!("{other:?}"),
    };
    base64url(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

#[test]
fn the_committed_keys_have_the_thumbprints_named() {
    assert_eq!(
        thumbprint(&RsaTestKey::committed().jwk("x")),
        RSA_KEY_THUMBPRINT
    );
    assert_eq!(
        thumbprint(&EcTestKey::committed().jwk("x")),
        EC_KEY_THUMBPRINT
    );
}

#[test]
fn a_key_survives_its_own_pem() {
    let key = &generated_rsa_keys().0;
    let again = RsaTestKey::from_pem(&key.private_pem());
    assert_eq!(again.jwk("k"), key.jwk("k"));
    assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let spki = pem_der(&key.public_pem());
    assert!(spki.ends_with(key.public_key_der()));
}

fn verify(token: &str, algorithm: &'static dyn VerificationAlgorithm, public_key: &[u8]) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    UnparsedPublicKey::new(algorithm, public_key)
        .verify(
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .unwrap_or_else(|_| panic!("{token}"));
}

#[test]
fn minted_tokens_verify_under_the_header_s_algorithm() {
    let body = json!({ "sub": "555057896106" });
    let rsa = &generated_rsa_keys().0;
    for (alg, algorithm) in [
        ("RS256", &RSA_PKCS1_2048_8192_SHA256),
        ("RS512", &RSA_PKCS1_2048_8192_SHA512),
        ("PS256", &RSA_PSS_2048_8192_SHA256),
    ] {
        let token = mint(&json!({ "alg": alg }), &body, JwtKey::Rsa(rsa));
        verify(&token, algorithm, rsa.public_key_der());
        assert_eq!(claims(&token), body);
    }
    let ec = generated_ec_key();
    let token = mint(&json!({ "alg": "ES256" }), &body, JwtKey::Ec(ec));
    let jwk = ec.jwk("ec");
    let mut point = vec![4u8];
    for coordinate in ["x", "y"] {
        point.extend(
            URL_SAFE_NO_PAD
                .decode(jwk[coordinate].as_str().unwrap())
                .unwrap(),
        );
    }
    verify(&token, &ECDSA_P256_SHA256_FIXED, &point);

    let header = json!({ "alg": "HS256" });
    let token = mint(&header, &body, JwtKey::Hmac(CLIENT_SECRET.as_bytes()));
    let expected = hmac_sign(
        "HS256",
        CLIENT_SECRET.as_bytes(),
        signing_input(&header, &body).as_bytes(),
    );
    assert!(token.ends_with(&base64url(expected)));
    let unsigned = mint(&json!({ "alg": "none" }), &body, JwtKey::Unsigned);
    assert!(unsigned.ends_with('.'));
}
