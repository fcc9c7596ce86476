//! The provider's development signing keys and JWT signing: RS256 and RS512 (RFC 7518 §3.3),
//! JWS compact serialisation (RFC 7515 §7.1), JWK thumbprints as key ids (RFC 7638), and key
//! rotation (OpenID Connect Core 1.0 §10.1.1): new keys become current while old ones stay
//! published until retired.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
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
        Ok(Self::from_pair(algorithm, pair))
    }

    fn from_pair(algorithm: SigningAlgorithm, pair: RsaKeyPair) -> Self {
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
        Self {
            algorithm,
            kid,
            pair,
            jwk,
        }
    }
}

/// A signing key as the state file keeps it: the algorithm, the kid (a check: it is recomputed
/// from the key) and the private key as PKCS#8 DER, base64url.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub(crate) struct StoredKey {
    pub algorithm: SigningAlgorithm,
    pub kid: String,
    pub pkcs8: String,
}

impl StoredKey {
    fn export(key: &SigningKey) -> Option<Self> {
        let der = AsDer::<Pkcs8V1Der<'static>>::as_der(&key.pair).ok()?;
        Some(Self {
            algorithm: key.algorithm,
            kid: key.kid.clone(),
            pkcs8: URL_SAFE_NO_PAD.encode(der.as_ref()),
        })
    }

    fn import(&self) -> Option<SigningKey> {
        let der = URL_SAFE_NO_PAD.decode(&self.pkcs8).ok()?;
        let pair = RsaKeyPair::from_pkcs8(&der).ok()?;
        let key = SigningKey::from_pair(self.algorithm, pair);
        (key.kid == self.kid).then_some(key)
    }
}

/// A published key as the admin page shows it: no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublishedKey {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    /// The key new tokens of its algorithm are signed with; the others await retirement.
    pub current: bool,
}

/// A fresh key for each algorithm, generated off the lock before being installed.
#[derive(Debug)]
pub(crate) struct NewKeys(Vec<SigningKey>);

impl NewKeys {
    /// One RSA-2048 key per algorithm; slow enough (tens of milliseconds) to keep off the
    /// async runtime's threads.
    pub fn generate() -> Result<Self, StartError> {
        [SigningAlgorithm::RS256, SigningAlgorithm::RS512]
            .into_iter()
            .map(SigningKey::generate)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

/// The provider's signing keys: the current RS256 and RS512 keys, generated fresh at start (or
/// restored from the state file), plus rotated-out keys still published until retired.
#[derive(Debug)]
pub struct SigningKeys {
    /// In publication order; the last key of each algorithm is the current one.
    keys: RwLock<Vec<Arc<SigningKey>>>,
    /// Counts the changes to the published keys, so the state file knows when to be written.
    generation: AtomicU64,
    rng: SystemRandom,
}

impl SigningKeys {
    /// Generates a fresh RSA-2048 key for each algorithm. These are development keys: they live
    /// in memory (and in the state file, when one is configured) and exist so that nothing the mock signs can be mistaken for CIS2's.
    pub fn generate() -> Result<Self, StartError> {
        let NewKeys(keys) = NewKeys::generate()?;
        Ok(Self::with_keys(keys))
    }

    fn with_keys(keys: Vec<SigningKey>) -> Self {
        Self {
            keys: RwLock::new(keys.into_iter().map(Arc::new).collect()),
            generation: AtomicU64::new(0),
            rng: SystemRandom::new(),
        }
    }

    /// The keys a state file kept, in publication order. `None` when one does not parse, its
    /// kid does not match, or an algorithm has no key: the caller then starts with fresh keys.
    pub(crate) fn restore(stored: &[StoredKey]) -> Option<Self> {
        let keys = stored
            .iter()
            .map(StoredKey::import)
            .collect::<Option<Vec<_>>>()?;
        let complete = [SigningAlgorithm::RS256, SigningAlgorithm::RS512]
            .iter()
            .all(|algorithm| keys.iter().any(|key| key.algorithm == *algorithm));
        complete.then(|| Self::with_keys(keys))
    }

    /// Every published key with its private half, in publication order, for the state file.
    pub(crate) fn export(&self) -> Vec<StoredKey> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(|key| StoredKey::export(key))
            .collect()
    }

    /// How many times the published keys have changed.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Makes `new` the current keys; the previous ones stay published so that what they signed
    /// still verifies.
    pub(crate) fn rotate(&self, NewKeys(new): NewKeys) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        keys.extend(new.into_iter().map(Arc::new));
        self.changed();
    }

    /// Unpublishes every key but the current one of each algorithm.
    pub(crate) fn retire_old(&self) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        let current: Vec<Arc<SigningKey>> = [SigningAlgorithm::RS256, SigningAlgorithm::RS512]
            .into_iter()
            .filter_map(|algorithm| keys.iter().rev().find(|key| key.algorithm == algorithm))
            .cloned()
            .collect();
        keys.retain(|key| current.iter().any(|kept| Arc::ptr_eq(kept, key)));
        self.changed();
    }

    /// Replaces every key of `algorithm` with a new one at once, with no overlap: a rotation
    /// without notice, as the `jwks_rotated_without_notice` fault does.
    pub(crate) fn replace_without_notice(
        &self,
        algorithm: SigningAlgorithm,
    ) -> Result<(), StartError> {
        let new = Arc::new(SigningKey::generate(algorithm)?);
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        keys.retain(|key| key.algorithm != algorithm);
        keys.push(new);
        self.changed();
        Ok(())
    }

    /// The public keys as a JWK Set (RFC 7517 §5).
    pub fn jwks(&self) -> Value {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        json!({ "keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() })
    }

    /// The published keys in publication order, each with whether it is the current key of its
    /// algorithm: what the admin page lists.
    pub(crate) fn published(&self) -> Vec<PublishedKey> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .enumerate()
            .map(|(index, key)| PublishedKey {
                kid: key.kid.clone(),
                algorithm: key.algorithm,
                current: !keys[index + 1..]
                    .iter()
                    .any(|later| later.algorithm == key.algorithm),
            })
            .collect()
    }

    /// The key id currently used for an algorithm.
    pub(crate) fn kid(&self, algorithm: SigningAlgorithm) -> String {
        self.key(algorithm).kid.clone()
    }

    /// The current key's public key as DER (PKCS#1 `RSAPublicKey`), which the
    /// `hs256_with_public_key` fault uses as an HMAC secret.
    pub(crate) fn public_key_der(&self, algorithm: SigningAlgorithm) -> Vec<u8> {
        self.key(algorithm).pair.public_key().as_ref().to_vec()
    }

    fn key(&self, algorithm: SigningAlgorithm) -> Arc<SigningKey> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .rev()
            .find(|key| key.algorithm == algorithm)
            .cloned()
            .expect("a key is kept for every algorithm")
    }

    /// The claims of a compact JWS this provider signed with a key still published (current or
    /// rotated out but not retired), checked against that key and its algorithm; `None` for
    /// anything else. Expiry is the caller's business: end-session accepts expired ID tokens.
    pub(crate) fn verify(&self, token: &str) -> Option<Value> {
        let mut parts = token.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let decode = |part: &str| -> Option<Value> {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
        };
        let header_json = decode(header)?;
        let key = self
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|key| header_json["kid"] == key.kid.as_str())
            .cloned()?;
        // The header's alg must be the key's own: no algorithm confusion, no `none`.
        if header_json["alg"] != key.algorithm.as_str() {
            return None;
        }
        let verification: &dyn aws_lc_rs::signature::VerificationAlgorithm = match key.algorithm {
            SigningAlgorithm::RS256 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            SigningAlgorithm::RS512 => &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA512,
        };
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        aws_lc_rs::signature::UnparsedPublicKey::new(verification, key.pair.public_key().as_ref())
            .verify(format!("{header}.{claims}").as_bytes(), &signature)
            .ok()?;
        decode(claims)
    }

    /// Signs `claims` as a compact JWS with `typ` set as given.
    pub fn sign(&self, algorithm: SigningAlgorithm, typ: &str, claims: &Value) -> String {
        self.sign_with_header(algorithm, claims, |header| header["typ"] = json!(typ))
    }

    /// Signs `claims` with the current key, letting `edit` change the header first (the faults
    /// use this to name a kid the JWKS lacks).
    pub(crate) fn sign_with_header(
        &self,
        algorithm: SigningAlgorithm,
        claims: &Value,
        edit: impl FnOnce(&mut Value),
    ) -> String {
        let key = self.key(algorithm);
        let mut header = json!({ "typ": "JWT", "alg": algorithm.as_str(), "kid": key.kid });
        edit(&mut header);
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
    fn verifies_its_own_tokens_until_the_key_is_retired() {
        let keys = SigningKeys::generate().unwrap();
        let claims = json!({ "sub": "555057896106" });
        let token = keys.sign(SigningAlgorithm::RS512, "JWT", &claims);
        assert_eq!(keys.verify(&token), Some(claims));

        let mut tampered = token.clone();
        tampered.insert(tampered.find('.').unwrap() + 2, 'x');
        assert_eq!(keys.verify(&tampered), None);
        assert_eq!(keys.verify("not.a.jwt"), None);

        keys.rotate(NewKeys::generate().unwrap());
        assert!(
            keys.verify(&token).is_some(),
            "rotated out, still published"
        );
        keys.retire_old();
        assert_eq!(keys.verify(&token), None, "retired");
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
    fn rotation_keeps_old_keys_published_until_retired() {
        let keys = SigningKeys::generate().unwrap();
        let old = keys.kid(SigningAlgorithm::RS256);
        keys.rotate(NewKeys::generate().unwrap());
        let new = keys.kid(SigningAlgorithm::RS256);
        assert_ne!(old, new, "a new key becomes current");
        let published = |keys: &SigningKeys| -> Vec<String> {
            keys.jwks()["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|key| key["kid"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(published(&keys).len(), 4);
        let listed = keys.published();
        assert_eq!(listed.iter().filter(|key| key.current).count(), 2);
        assert!(listed.iter().any(|key| key.kid == old && !key.current));
        assert!(published(&keys).contains(&old));
        keys.retire_old();
        assert_eq!(published(&keys).len(), 2);
        assert!(!published(&keys).contains(&old));
        assert!(published(&keys).contains(&new));
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
