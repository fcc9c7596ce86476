//! Test keys and a token signer that share nothing with the verifier but aws-lc-rs itself.

use std::sync::OnceLock;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

pub(crate) const RSA_KID: &str = "rsa-1";
pub(crate) const EC256_KID: &str = "ec-256";
pub(crate) const EC384_KID: &str = "ec-384";
pub(crate) const SECRET: &str = "6b1f0e9d-2c4a-4f7e-8d35-9a0b1c2d3e4f";

pub(crate) struct Keys {
    pub(crate) rsa: RsaKeyPair,
    pub(crate) ec256: EcdsaKeyPair,
    pub(crate) ec384: EcdsaKeyPair,
}

/// One set per test binary: RSA generation is the slow part.
pub(crate) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key"),
        ec256: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("P-256 key"),
        ec384: EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING)
            .expect("P-384 key"),
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn rsa_jwk(key: &RsaKeyPair, kid: &str) -> Value {
    let public = key.public_key();
    json!({
        "kty": "RSA", "use": "sig", "kid": kid,
        "n": b64(public.modulus().big_endian_without_leading_zero()),
        "e": b64(public.exponent().big_endian_without_leading_zero()),
    })
}

pub(crate) fn ec_jwk(key: &EcdsaKeyPair, crv: &str, kid: &str) -> Value {
    let point = key.public_key().as_ref();
    let len = (point.len() - 1) / 2;
    json!({
        "kty": "EC", "crv": crv, "kid": kid,
        "x": b64(&point[1..=len]), "y": b64(&point[1 + len..]),
    })
}

/// The JWKS of [`keys`].
pub(crate) fn jwks() -> Value {
    let keys = keys();
    json!({ "keys": [
        rsa_jwk(&keys.rsa, RSA_KID),
        ec_jwk(&keys.ec256, "P-256", EC256_KID),
        ec_jwk(&keys.ec384, "P-384", EC384_KID),
    ]})
}

/// A compact JWS of `claims` with `header` as given, signed as its `alg` says: RSA and EC
/// with [`keys`], HMAC with [`SECRET`]. An unknown `alg` gets an empty signature.
pub(crate) fn sign(header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let keys = keys();
    let rng = SystemRandom::new();
    let rsa = |padding: &'static dyn signature::RsaEncoding| {
        let mut signature = vec![0; keys.rsa.public_modulus_len()];
        keys.rsa
            .sign(padding, &rng, input.as_bytes(), &mut signature)
            .expect("RSA signs");
        signature
    };
    let mac = |algorithm| {
        hmac::sign(
            &hmac::Key::new(algorithm, SECRET.as_bytes()),
            input.as_bytes(),
        )
        .as_ref()
        .to_vec()
    };
    let signature = match header["alg"].as_str().unwrap_or_default() {
        "RS256" => rsa(&signature::RSA_PKCS1_SHA256),
        "RS384" => rsa(&signature::RSA_PKCS1_SHA384),
        "RS512" => rsa(&signature::RSA_PKCS1_SHA512),
        "PS256" => rsa(&signature::RSA_PSS_SHA256),
        "PS384" => rsa(&signature::RSA_PSS_SHA384),
        "PS512" => rsa(&signature::RSA_PSS_SHA512),
        "ES256" => keys
            .ec256
            .sign(&rng, input.as_bytes())
            .expect("signs")
            .as_ref()
            .to_vec(),
        "ES384" => keys
            .ec384
            .sign(&rng, input.as_bytes())
            .expect("signs")
            .as_ref()
            .to_vec(),
        "HS256" => mac(hmac::HMAC_SHA256),
        "HS384" => mac(hmac::HMAC_SHA384),
        "HS512" => mac(hmac::HMAC_SHA512),
        _ => Vec::new(),
    };
    format!("{input}.{}", b64(&signature))
}

/// The algorithm confusion attack: HS256 keyed with the RSA public key's DER (PKCS#1), the
/// bytes an attacker reads from the JWKS, under the RSA key's kid.
pub(crate) fn sign_hs256_with_rsa_public_key(claims: &Value) -> String {
    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": RSA_KID });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, keys().rsa.public_key().as_ref());
    let tag = hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// Flips one bit of the signature.
pub(crate) fn tamper(token: &str) -> String {
    let (input, signature) = token.rsplit_once('.').expect("a JWS");
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    bytes[0] ^= 0x01;
    format!("{input}.{}", b64(&bytes))
}
