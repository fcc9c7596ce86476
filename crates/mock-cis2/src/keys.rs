//! The provider's development signing keys and JWT signing: RS256 and RS512 (RFC 7518 §3.3),
//! JWS compact serialisation (RFC 7515 §7.1), JWK thumbprints as key ids (RFC 7638).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_SHA256, RSA_PKCS1_SHA512,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::error::StartError;

/// A JWS algorithm the mock signs with: CIS2 publishes RS256 and RS512.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub enum SigningAlgorithm {
    RS256,
    RS512,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS512 => "RS512",
        }
    }

    /// The digest behind the algorithm, which also decides `at_hash`, `c_hash` and `s_hash`
    /// (OpenID Connect Core 1.0 §3.1.3.6).
    fn digest(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Self::RS256 => &aws_lc_rs::digest::SHA256,
            Self::RS512 => &aws_lc_rs::digest::SHA512,
        }
    }

    fn padding(self) -> &'static dyn aws_lc_rs::signature::RsaEncoding {
        match self {
            Self::RS256 => &RSA_PKCS1_SHA256,
            Self::RS512 => &RSA_PKCS1_SHA512,
        }
    }

    /// The left half of the digest of `value`, base64url: the `at_hash` rule of OpenID Connect
    /// Core 1.0 §3.1.3.6, also used for `c_hash` and `s_hash`.
    pub fn half_hash(self, value: &str) -> String {
        let digest = aws_lc_rs::digest::digest(self.digest(), value.as_bytes());
        let bytes = digest.as_ref();
        URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
    }
}

/// One RSA key pair with the key id it is published under.
struct SigningKey {
    algorithm: SigningAlgorithm,
    kid: String,
    pair: RsaKeyPair,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    // The private key never appears in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn generate(algorithm: SigningAlgorithm) -> Result<Self, StartError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| StartError::KeyGeneration)?;
        let components = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let n = URL_SAFE_NO_PAD.encode(&components.n);
        let e = URL_SAFE_NO_PAD.encode(&components.e);
        // RFC 7638 §3.2: the thumbprint input has the required members in lexicographic order
        // and no whitespace, which this literal spells out.
        let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, thumbprint_input.as_bytes())
                .as_ref(),
        );
        let jwk = json!({
            "kty": "RSA",
            "kid": kid,
            "use": "sig",
            "alg": algorithm.as_str(),
            "n": n,
            "e": e,
        });
        Ok(Self {
            algorithm,
            kid,
            pair,
            jwk,
        })
    }
}

/// The provider's signing keys: one RS256 and one RS512 key, generated fresh at every start.
#[derive(Debug)]
pub struct SigningKeys {
    keys: Vec<SigningKey>,
    rng: SystemRandom,
}

impl SigningKeys {
    /// Generates a fresh RSA-2048 key for each algorithm. These are development keys: they live
    /// only in memory and exist so that nothing the mock signs can be mistaken for CIS2's.
    pub fn generate() -> Result<Self, StartError> {
        let keys = [SigningAlgorithm::RS256, SigningAlgorithm::RS512]
            .into_iter()
            .map(SigningKey::generate)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            keys,
            rng: SystemRandom::new(),
        })
    }

    /// The public keys as a JWK Set (RFC 7517 §5).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() })
    }

    /// The key id used for an algorithm.
    #[cfg(test)]
    fn kid(&self, algorithm: SigningAlgorithm) -> &str {
        &self.key(algorithm).kid
    }

    fn key(&self, algorithm: SigningAlgorithm) -> &SigningKey {
        self.keys
            .iter()
            .find(|key| key.algorithm == algorithm)
            .expect("a key is generated for every algorithm")
    }

    /// Signs `claims` as a compact JWS with `typ` set as given.
    pub fn sign(&self, algorithm: SigningAlgorithm, typ: &str, claims: &Value) -> String {
        let key = self.key(algorithm);
        let header = json!({ "typ": typ, "alg": algorithm.as_str(), "kid": key.kid });
        let mut token = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; key.pair.public_modulus_len()];
        key.pair
            .sign(
                algorithm.padding(),
                &self.rng,
                token.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing with a freshly generated key cannot fail");
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;

    #[test]
    fn signed_token_verifies_with_the_published_key() {
        let keys = SigningKeys::generate().unwrap();
        let token = keys.sign(
            SigningAlgorithm::RS256,
            "JWT",
            &json!({ "sub": "555057896106" }),
        );
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], keys.kid(SigningAlgorithm::RS256));

        let jwk = &keys.jwks()["keys"][0];
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
        let public = RsaPublicKeyComponents { n: &n, e: &e };
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        public
            .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
            .expect("signature verifies");
    }

    #[test]
    fn publishes_one_key_per_algorithm_with_distinct_ids() {
        let keys = SigningKeys::generate().unwrap();
        let jwks = keys.jwks();
        let algs: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["alg"].as_str().unwrap())
            .collect();
        assert_eq!(algs, ["RS256", "RS512"]);
        assert_ne!(
            keys.kid(SigningAlgorithm::RS256),
            keys.kid(SigningAlgorithm::RS512)
        );
    }

    #[test]
    fn at_hash_is_the_left_half_of_the_digest() {
        // The example from OpenID Connect Core 1.0 §A.3 (RS256 / SHA-256).
        assert_eq!(
            SigningAlgorithm::RS256.half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
