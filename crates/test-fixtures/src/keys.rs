//! Test keys: RSA 2048 and EC P-256, committed (PEM files whose RFC 7638 thumbprints are known)
//! or generated once per process; each as PEM, DER, JWK and JWKS, and the signatures JOSE names.

use std::sync::OnceLock;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::base64url;

/// The committed RSA 2048 test key, PKCS#8 PEM: the mock's `private_key_jwt` client registers
/// its public half (`crates/mock-cis2/data/clients.json`), under [`RSA_KEY_THUMBPRINT`].
pub const RSA_PRIVATE_KEY_PEM: &str =
    include_str!("../../mock-cis2/data/test-keys/private-key-jwt-client.pem");

/// The RFC 7638 thumbprint of [`RSA_PRIVATE_KEY_PEM`], computed with `openssl` and Python's
/// hashlib when the key was written: what careid puts in its assertions' `kid` by default.
pub const RSA_KEY_THUMBPRINT: &str = "LfjSsqOQTcLgCY-7XFV6BWoJS7Qa-R3XImtbiOkJ3Kg";

/// The committed EC P-256 test key, PKCS#8 PEM.
pub const EC_PRIVATE_KEY_PEM: &str =
    include_str!("../../careid-core/tests/data/test-key-ec-p256-pkcs8.pem");

/// The RFC 7638 thumbprint of [`EC_PRIVATE_KEY_PEM`].
pub const EC_KEY_THUMBPRINT: &str = "vytlVuPjaS-ylRqhJD5EwprM28F8i_cu3pL1LXBNz-E";

/// The DER inside a one-block PEM text, read here rather than by careid's parser. Lines before
/// `-----BEGIN` (the committed keys' warnings) are skipped.
pub fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .skip_while(|line| !line.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .collect();
    STANDARD.decode(body).expect("PEM holds base64")
}

/// DER as a PEM block with `label`, 64 characters a line.
pub fn pem(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// An RSA key that signs test tokens.
#[derive(Debug)]
pub struct RsaTestKey {
    pair: RsaKeyPair,
}

impl RsaTestKey {
    /// A fresh RSA 2048 key (tens of milliseconds: share one where a test can, see
    /// [`generated_rsa_keys`]).
    pub fn generate() -> Self {
        Self {
            pair: RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key"),
        }
    }

    /// The committed key, [`RSA_PRIVATE_KEY_PEM`].
    pub fn committed() -> Self {
        Self::from_pem(RSA_PRIVATE_KEY_PEM)
    }

    /// A key from PKCS#8 PEM.
    pub fn from_pem(pem: &str) -> Self {
        Self {
            pair: RsaKeyPair::from_pkcs8(&pem_der(pem)).expect("an RSA PKCS#8 key"),
        }
    }

    /// The private key, PKCS#8 PEM.
    pub fn private_pem(&self) -> String {
        let der = AsDer::<Pkcs8V1Der<'_>>::as_der(&self.pair).expect("PKCS#8");
        pem("PRIVATE KEY", der.as_ref())
    }

    /// The public key, SubjectPublicKeyInfo PEM.
    pub fn public_pem(&self) -> String {
        let der = AsDer::<PublicKeyX509Der<'_>>::as_der(self.pair.public_key()).expect("SPKI");
        pem("PUBLIC KEY", der.as_ref())
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER.
    pub fn public_key_der(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The public modulus, big-endian, without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        self.pair
            .public_key()
            .modulus()
            .big_endian_without_leading_zero()
    }

    /// The public JWK under `kid`, for signatures (`"use": "sig"`, no `alg`).
    pub fn jwk(&self, kid: &str) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA", "use": "sig", "kid": kid,
            "n": base64url(public.modulus().big_endian_without_leading_zero()),
            "e": base64url(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// A JWKS of this key alone under `kid`.
    pub fn jwks(&self, kid: &str) -> Value {
        json!({ "keys": [self.jwk(kid)] })
    }

    /// The signature of `input` under `alg`: RS256, RS384, RS512 or PS256.
    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        let padding: &'static dyn signature::RsaEncoding = match alg {
            "RS256" => &signature::RSA_PKCS1_SHA256,
            "RS384" => &signature::RSA_PKCS1_SHA384,
            "RS512" => &signature::RSA_PKCS1_SHA512,
            "PS256" => &signature::RSA_PSS_SHA256,
            other => panic!("an RSA key does not sign {other}"),
        };
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(padding, &SystemRandom::new(), input, &mut signature)
            .expect("RSA signs");
        signature
    }
}

/// An EC P-256 key that signs test tokens (ES256).
#[derive(Debug)]
pub struct EcTestKey {
    pair: EcdsaKeyPair,
}

impl EcTestKey {
    /// A fresh P-256 key.
    pub fn generate() -> Self {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .expect("a P-256 key");
        Self::from_der(pkcs8.as_ref())
    }

    /// The committed key, [`EC_PRIVATE_KEY_PEM`].
    pub fn committed() -> Self {
        Self::from_der(&pem_der(EC_PRIVATE_KEY_PEM))
    }

    fn from_der(pkcs8: &[u8]) -> Self {
        Self {
            pair: EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .expect("a P-256 PKCS#8 key"),
        }
    }

    /// The public JWK under `kid` (no `use`, no `alg`).
    pub fn jwk(&self, kid: &str) -> Value {
        // The uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC", "crv": "P-256", "kid": kid,
            "x": base64url(&point[1..33]), "y": base64url(&point[33..]),
        })
    }

    /// The ES256 signature of `input`: R || S, 64 bytes, as JWS writes it (not DER).
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), input)
            .expect("ECDSA signs")
            .as_ref()
            .to_vec()
    }
}

/// Two RSA keys generated once per process, for a provider's key and a second one (rotated in,
/// or never published).
pub fn generated_rsa_keys() -> &'static (RsaTestKey, RsaTestKey) {
    static KEYS: OnceLock<(RsaTestKey, RsaTestKey)> = OnceLock::new();
    KEYS.get_or_init(|| (RsaTestKey::generate(), RsaTestKey::generate()))
}

/// An EC P-256 key generated once per process.
pub fn generated_ec_key() -> &'static EcTestKey {
    static KEY: OnceLock<EcTestKey> = OnceLock::new();
    KEY.get_or_init(EcTestKey::generate)
}
