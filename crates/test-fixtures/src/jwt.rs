//! JWT minting: a header and claims signed with a test key under the header's `alg`, in compact
//! form (RFC 7515 §7.1), and reading a JWT's claims back without checking it.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::base64url;
use crate::keys::{EcTestKey, RsaTestKey};

/// What signs a token.
#[derive(Debug, Clone, Copy)]
pub enum JwtKey<'a> {
    Rsa(&'a RsaTestKey),
    Ec(&'a EcTestKey),
    /// An HMAC key: a client secret's bytes, or anything a confusion test keys it with.
    Hmac(&'a [u8]),
    /// No signature (`alg: none`, or a signature stripped).
    Unsigned,
}

impl JwtKey<'_> {
    /// The signature of `input` under `alg`; panics when the key cannot make one.
    pub fn sign(self, alg: &str, input: &str) -> Vec<u8> {
        match self {
            JwtKey::Rsa(key) => key.sign(alg, input.as_bytes()),
            JwtKey::Ec(key) => {
                assert_eq!(alg, "ES256", "a P-256 key signs ES256 only");
                key.sign(input.as_bytes())
            }
            JwtKey::Hmac(secret) => hmac_sign(alg, secret, input.as_bytes()),
            JwtKey::Unsigned => Vec::new(),
        }
    }
}

/// The HMAC of `input` keyed with `key` under HS256, HS384 or HS512.
pub fn hmac_sign(alg: &str, key: &[u8], input: &[u8]) -> Vec<u8> {
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("an HMAC key does not sign {other}"),
    };
    hmac::sign(&hmac::Key::new(algorithm, key), input)
        .as_ref()
        .to_vec()
}

/// The JWS signing input: the header and claims as compact JSON, each base64url-encoded.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        base64url(header.to_string()),
        base64url(claims.to_string())
    )
}

/// `header` and `claims` signed with `key` under the header's `alg`: a compact JWT.
pub fn mint(header: &Value, claims: &Value, key: JwtKey<'_>) -> String {
    let alg = header["alg"].as_str().expect("a header with an alg");
    mint_as(alg, header, claims, key)
}

/// `header` and `claims` signed with `key` under `alg`, whatever the header says: a token whose
/// header lies (`alg: none` over an RS256 signature, say).
pub fn mint_as(alg: &str, header: &Value, claims: &Value, key: JwtKey<'_>) -> String {
    let input = signing_input(header, claims);
    let signature = key.sign(alg, &input);
    format!("{input}.{}", base64url(signature))
}

/// The claims of a compact JWT, read without checking its signature.
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a compact JWT");
    let json = URL_SAFE_NO_PAD.decode(payload).expect("base64url claims");
    serde_json::from_slice(&json).expect("JSON claims")
}

/// The JWT-shaped runs in `text`: `eyJ` and at least 8 more base64url characters (a header),
/// a dot, and at least 8 base64url characters (a payload). Tests that no token reached an output
/// look for this shape, not for `eyJ`: a random value (a `jti`, a nonce) can hold those three
/// letters by chance.
pub fn jwt_shaped(text: &str) -> Vec<&str> {
    let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut found = Vec::new();
    for (start, _) in text.match_indices("eyJ") {
        let rest = &text[start..];
        let header = rest.find(|c: char| !base64url(c)).unwrap_or(rest.len());
        if header < 11 || !rest[header..].starts_with('.') {
            continue;
        }
        let payload_text = &rest[header + 1..];
        let payload = payload_text
            .find(|c: char| !base64url(c))
            .unwrap_or(payload_text.len());
        if payload >= 8 {
            found.push(&rest[..header + 1 + payload]);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::jwt_shaped;

    #[test]
    fn a_jwt_is_found_and_a_random_eyj_is_not() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln";
        assert_eq!(
            jwt_shaped(&format!("token: {jwt}\n")),
            ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ"]
        );
        assert!(jwt_shaped(r#""jti": "SMkvHXnHzTHvy0r_eyJKeg""#).is_empty());
        assert!(jwt_shaped("eyJ. eyJabc.def").is_empty());
    }
}
