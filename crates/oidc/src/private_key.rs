//! A private key for `private_key_jwt` (RFC 7523 §2.2): read from PEM, its RFC 7638 thumbprint,
//! the key id and algorithm its assertions carry, and its public JWK for the registered JWKS.

use std::fmt;

use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA512,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::client_auth::{check_assertion_algorithm, ClientAuthError, SigningAlgorithm};
use crate::discovery::IssuerKind;
use crate::jose::{Curve, PublicKey};

/// A private key for `private_key_jwt`, parsed from PEM: RSA in PKCS#8 (`BEGIN PRIVATE KEY`) or
/// PKCS#1 (`BEGIN RSA PRIVATE KEY`), or EC P-256 in PKCS#8 or SEC1 (`BEGIN EC PRIVATE KEY`).
///
/// Its key id (`kid`) is the one given with [`PrivateKey::with_kid`] or, by default, the RFC 7638
/// JWK thumbprint of the public key (SHA-256, base64url): the key id a JWKS built with
/// [`PrivateKey::public_jwk`] publishes, so the provider finds the key without further setup.
/// Not `Clone`, not `Serialize`, and `Debug` shows only the key type, algorithm and key id.
pub struct PrivateKey {
    signer: Signer,
    /// The public half, read once: its JWK and thumbprint come from the one RFC 7638 rule.
    public: PublicKey,
    algorithm: SigningAlgorithm,
    kid: String,
}

enum Signer {
    Rsa(RsaKeyPair),
    EcP256(EcdsaKeyPair),
}

impl PrivateKey {
    /// Reads the first private key in `pem`. Text around the PEM block (a comment line, a
    /// certificate) is skipped. Encrypted keys are refused: the keychain already protects the key.
    pub fn from_pem(pem: &str) -> Result<Self, ClientAuthError> {
        let (label, der) = pem_private_key(pem)?;
        let signer = match label {
            "PRIVATE KEY" => match RsaKeyPair::from_pkcs8(&der) {
                Ok(key) => Signer::Rsa(key),
                Err(rejected) if is_wrong_algorithm(&rejected) => {
                    match EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der) {
                        Ok(key) => Signer::EcP256(key),
                        Err(rejected) if is_wrong_algorithm(&rejected) => {
                            return Err(ClientAuthError::UnsupportedKey(
                                "a PKCS#8 key that is neither RSA nor EC P-256".to_owned(),
                            ))
                        }
                        Err(rejected) => return Err(rejected_key("PKCS#8 EC", &rejected)),
                    }
                }
                Err(rejected) => return Err(rejected_key("PKCS#8", &rejected)),
            },
            "RSA PRIVATE KEY" => Signer::Rsa(
                RsaKeyPair::from_der(&der).map_err(|rejected| rejected_key("PKCS#1", &rejected))?,
            ),
            "EC PRIVATE KEY" => Signer::EcP256(
                EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|rejected| rejected_key("SEC1 EC", &rejected))?,
            ),
            other => {
                return Err(ClientAuthError::UnsupportedKey(format!(
                    "a {} block",
                    describe_label(other)
                )))
            }
        };
        let (algorithm, public) = match &signer {
            Signer::Rsa(key) => {
                let public = key.public_key();
                let n = public.modulus().big_endian_without_leading_zero();
                let e = public.exponent().big_endian_without_leading_zero();
                (SigningAlgorithm::Rs256, PublicKey::rsa(n, e))
            }
            Signer::EcP256(key) => (
                SigningAlgorithm::Es256,
                PublicKey::ec(Curve::P256, key.public_key().as_ref()).ok_or(
                    ClientAuthError::MalformedKey("the key's public point is not on P-256"),
                )?,
            ),
        };
        let kid = public.thumbprint().to_string();
        Ok(Self {
            signer,
            public,
            algorithm,
            kid,
        })
    }

    /// The key a registration signs with: `pem` read, with the registered `key_id` and
    /// `algorithm` when given, held to [`check_assertion_algorithm`] for `issuer`.
    /// A profile's key, and the broker's for its own registration.
    pub fn for_registration(
        pem: &str,
        issuer: IssuerKind,
        key_id: Option<&str>,
        algorithm: Option<SigningAlgorithm>,
    ) -> Result<Self, ClientAuthError> {
        let mut key = Self::from_pem(pem)?;
        // The key's own algorithm first: an EC key can sign nothing CIS2 takes, whatever the
        // profile asks for, and the message should say so rather than name a mismatch.
        check_assertion_algorithm(key.algorithm, issuer)?;
        if let Some(kid) = key_id {
            key = key.with_kid(kid);
        }
        if let Some(algorithm) = algorithm {
            key = key.with_algorithm(algorithm)?;
            check_assertion_algorithm(key.algorithm, issuer)?;
        }
        Ok(key)
    }

    /// Uses `kid` in assertion headers instead of the thumbprint: for a JWKS whose key ids were
    /// chosen some other way.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// Signs with `algorithm`: RS256 or RS512 for an RSA key, ES256 for an EC key.
    pub fn with_algorithm(mut self, algorithm: SigningAlgorithm) -> Result<Self, ClientAuthError> {
        let fits = matches!(
            (&self.signer, algorithm),
            (
                Signer::Rsa(_),
                SigningAlgorithm::Rs256 | SigningAlgorithm::Rs512
            ) | (Signer::EcP256(_), SigningAlgorithm::Es256)
        );
        if !fits {
            return Err(ClientAuthError::AlgorithmMismatch {
                algorithm: algorithm.as_str(),
                key: self.key_type(),
            });
        }
        self.algorithm = algorithm;
        Ok(self)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// The RFC 7638 JWK thumbprint of the public key: SHA-256 over the required members in
    /// lexicographic order with no whitespace, base64url without padding.
    pub fn thumbprint(&self) -> String {
        self.public.thumbprint().to_string()
    }

    /// The public key as a JWK (RFC 7517) with this key's `kid`, `alg` and `use: sig`: what to
    /// publish at the JWKS URI registered for `private_key_jwt`.
    pub fn public_jwk(&self) -> String {
        let mut jwk = self.public.to_jwk();
        jwk.insert("kid".to_owned(), self.kid.clone().into());
        jwk.insert("alg".to_owned(), self.algorithm.as_str().into());
        jwk.insert("use".to_owned(), "sig".into());
        serde_json::Value::Object(jwk).to_string()
    }

    fn key_type(&self) -> &'static str {
        match self.signer {
            Signer::Rsa(_) => "an RSA",
            Signer::EcP256(_) => "an EC P-256",
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, ClientAuthError> {
        let rng = SystemRandom::new();
        match (&self.signer, self.algorithm) {
            (Signer::Rsa(key), SigningAlgorithm::Rs256 | SigningAlgorithm::Rs512) => {
                let padding = if self.algorithm == SigningAlgorithm::Rs512 {
                    &RSA_PKCS1_SHA512
                } else {
                    &RSA_PKCS1_SHA256
                };
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(padding, &rng, message, &mut signature)
                    .map_err(|_| ClientAuthError::Signing)?;
                Ok(signature)
            }
            // The FIXED encoding is JWS's R || S (RFC 7518 §3.4), not ASN.1 DER.
            (Signer::EcP256(key), SigningAlgorithm::Es256) => key
                .sign(&rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| ClientAuthError::Signing),
            // `with_algorithm` allows only algorithms that fit the key.
            _ => Err(ClientAuthError::AlgorithmMismatch {
                algorithm: self.algorithm.as_str(),
                key: self.key_type(),
            }),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match &self.signer {
            Signer::Rsa(key) => format!("RSA {} bits", key.public_modulus_len() * 8),
            Signer::EcP256(_) => "EC P-256".to_owned(),
        };
        f.debug_struct("PrivateKey")
            .field("key", &key)
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The label and DER bytes of the first private key block in `pem`. The DER is wiped on drop.
fn pem_private_key(pem: &str) -> Result<(&str, Zeroizing<Vec<u8>>), ClientAuthError> {
    let mut rest = pem;
    let mut other_label = None;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after_begin.find("-----") else {
            return Err(ClientAuthError::MalformedKey(
                "a PEM BEGIN line is not closed",
            ));
        };
        let label = &after_begin[..label_end];
        let body_and_rest = &after_begin[label_end + "-----".len()..];
        let end_line = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_line) else {
            return Err(ClientAuthError::MalformedKey("a PEM block has no END line"));
        };
        let body = &body_and_rest[..body_end];
        rest = &body_and_rest[body_end + end_line.len()..];
        if label == "ENCRYPTED PRIVATE KEY" {
            return Err(ClientAuthError::EncryptedKey);
        }
        if !label.ends_with("PRIVATE KEY") {
            other_label.get_or_insert(label);
            continue;
        }
        // RFC 1421 headers, as in an OpenSSL-encrypted PKCS#1 key ("Proc-Type: 4,ENCRYPTED").
        let mut headers = body.lines().filter(|line| line.contains(':'));
        if headers
            .clone()
            .any(|line| line.starts_with("Proc-Type:") && line.contains("ENCRYPTED"))
        {
            return Err(ClientAuthError::EncryptedKey);
        }
        if headers.next().is_some() {
            return Err(ClientAuthError::MalformedKey(
                "the PEM block has headers careid does not read",
            ));
        }
        let base64: Zeroizing<String> =
            Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
        let der = STANDARD
            .decode(base64.as_bytes())
            .map_err(|_| ClientAuthError::MalformedKey("the PEM block is not valid base64"))?;
        return Ok((label, Zeroizing::new(der)));
    }
    match other_label {
        Some(label) => Err(ClientAuthError::UnsupportedKey(format!(
            "a {} block, not a private key",
            describe_label(label)
        ))),
        None => Err(ClientAuthError::MalformedKey("no PEM block found")),
    }
}

/// A PEM label for a message. Labels are short upper-case words; anything else in that place
/// is not echoed, in case the text was something other than a key file.
fn describe_label(label: &str) -> String {
    let plain = label.len() <= 40
        && label
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ');
    if plain {
        format!("PEM {label:?}")
    } else {
        "PEM".to_owned()
    }
}

fn is_wrong_algorithm(rejected: &KeyRejected) -> bool {
    rejected.description_() == "WrongAlgorithm"
}

/// aws-lc-rs says why it refused a key in a fixed word ("InvalidEncoding", "TooSmall", ...),
/// never with the key's bytes, so the word can go in the message.
fn rejected_key(format: &str, rejected: &KeyRejected) -> ClientAuthError {
    match rejected.description_() {
        "InvalidEncoding" => ClientAuthError::MalformedKey("the key inside the PEM is not valid"),
        "WrongAlgorithm" => ClientAuthError::UnsupportedKey(format!(
            "a {format} key of a type or curve careid does not sign with"
        )),
        reason => ClientAuthError::UnsupportedKey(format!("a {format} key refused: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA";

    fn block(label: &str, body: &str) -> String {
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    }

    #[test]
    fn pem_skips_text_and_other_blocks_before_the_key() {
        let pem = format!(
            "# comment\n{}{}trailing",
            block("CERTIFICATE", "AAAA"),
            block("RSA PRIVATE KEY", BODY)
        );
        let (label, der) = pem_private_key(&pem).unwrap();
        assert_eq!(label, "RSA PRIVATE KEY");
        assert_eq!(der.as_slice(), STANDARD.decode(BODY).unwrap());
    }

    #[test]
    fn pem_with_crlf_line_ends_reads() {
        let pem = block("PRIVATE KEY", BODY).replace('\n', "\r\n");
        assert_eq!(pem_private_key(&pem).unwrap().0, "PRIVATE KEY");
    }

    #[test]
    fn pem_rejections_by_code() {
        let encrypted_pkcs1 = block(
            "RSA PRIVATE KEY",
            &format!("Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\n{BODY}"),
        );
        let other_header = block("PRIVATE KEY", &format!("Comment: x\n\n{BODY}"));
        let cases = [
            (
                block("ENCRYPTED PRIVATE KEY", BODY),
                "private_key_encrypted",
            ),
            (encrypted_pkcs1, "private_key_encrypted"),
            (other_header, "private_key_malformed"),
            (block("CERTIFICATE", BODY), "private_key_unsupported"),
            ("-----BEGIN PRIVATE KEY".to_owned(), "private_key_malformed"),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n".to_owned(),
                "private_key_malformed",
            ),
            (block("PRIVATE KEY", "AAA*"), "private_key_malformed"),
        ];
        for (pem, code) in cases {
            let error = pem_private_key(&pem).map(|_| ()).unwrap_err();
            assert_eq!(error.code(), code, "{pem}");
        }
    }

    #[test]
    fn unusual_labels_are_not_echoed() {
        assert_eq!(describe_label("CERTIFICATE"), "PEM \"CERTIFICATE\"");
        assert_eq!(describe_label("c2VjcmV0IGtleSBieXRlcw=="), "PEM");
        assert_eq!(describe_label(&"A".repeat(41)), "PEM");
        let error = PrivateKey::from_pem(&block("XYZ secret PRIVATE KEY", BODY)).unwrap_err();
        assert_eq!(error.code(), "private_key_unsupported");
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}
