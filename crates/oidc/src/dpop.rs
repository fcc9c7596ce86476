//! DPoP, OAuth 2.0 Demonstrating Proof of Possession (RFC 9449): an install's key (§2), the
//! proofs it makes (§4.2), and a server's check of a proof (§4.3). The desktop app and the CLI
//! make proofs; the broker verifies them. Signatures are checked by [`crate::jose`], and
//! thumbprints come from its one RFC 7638 rule.
//!
//! What is left to the server, because it needs state or the HTTP request: taking exactly one
//! `DPoP` header (§4.3 step 1), issuing and checking nonces (§8, §9), refusing a `jti` seen
//! before (§11.1), and comparing the proof's key with the one a token is bound to (`cnf.jkt`,
//! §6.1, §7.1).

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;
use aws_lc_rs::rand::{self, SystemRandom};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use url::Url;
use zeroize::Zeroizing;

use crate::jose::{self, Curve, JoseError, JwkThumbprint, JwsAlgorithm, PublicKey};
use crate::secret::{constant_time_eq, AccessToken, DpopKeySecret, SecretString};
use crate::time::unix_seconds;

/// The `typ` of a DPoP proof (RFC 9449 §4.2), matched exactly.
pub const DPOP_PROOF_TYPE: &str = "dpop+jwt";

/// The largest proof [`verify_proof`] reads. An ES256 proof is under 1 KiB and one with an
/// 8192-bit RSA key about 4 KiB; the cap keeps a hostile header from costing memory or time.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The longest `jti` accepted: the server remembers every `jti` to refuse replays, so this
/// bounds what one proof can make it store.
pub const MAX_JTI_BYTES: usize = 256;

/// A `jti`'s random bytes: 128 bits, so proofs never share one by chance (RFC 9449 §4.2).
const JTI_RANDOM_BYTES: usize = 16;

/// JWK members that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1). A proof's key
/// with any of them is refused (RFC 9449 §4.3 step 7): the sender has leaked its key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// An install's DPoP key: ES256 on P-256, generated once and kept in the OS keychain by the
/// caller ([`DpopKey::to_stored`]). Its public JWK goes in every proof; its thumbprint is what
/// the tokens it obtains are bound to. Not `Clone`, not `Serialize`; `Debug` shows the
/// thumbprint only.
pub struct DpopKey {
    key_pair: EcdsaKeyPair,
    public: PublicKey,
    /// The stored form, made once so that [`DpopKey::to_stored`] cannot fail.
    stored: SecretString,
}

impl DpopKey {
    /// A new random key.
    pub fn generate() -> Result<Self, DpopError> {
        let key_pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| DpopError::Key("a P-256 key could not be generated"))?;
        Self::from_key_pair(key_pair)
    }

    /// The key [`DpopKey::to_stored`] gave, read back from the keychain.
    pub fn from_stored(stored: &DpopKeySecret) -> Result<Self, DpopError> {
        let pkcs8 = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(stored.expose_secret())
                .map_err(|_| DpopError::Key("the stored key is not base64url"))?,
        );
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
            .map_err(|_| DpopError::Key("the stored key is not a PKCS#8 P-256 private key"))?;
        Self::from_key_pair(key_pair)
    }

    fn from_key_pair(key_pair: EcdsaKeyPair) -> Result<Self, DpopError> {
        let public = PublicKey::ec(Curve::P256, key_pair.public_key().as_ref())
            .ok_or(DpopError::Key("the public key is not a P-256 point"))?;
        // aws-lc-rs wipes the PKCS#8 document when it is dropped.
        let pkcs8 = key_pair
            .to_pkcs8v1()
            .map_err(|_| DpopError::Key("the key could not be written as PKCS#8"))?;
        let stored = SecretString::new(URL_SAFE_NO_PAD.encode(pkcs8.as_ref()));
        Ok(Self {
            key_pair,
            public,
            stored,
        })
    }

    /// The private key for the keychain: its PKCS#8 document, base64url.
    pub fn to_stored(&self) -> DpopKeySecret {
        DpopKeySecret::from(self.stored.clone())
    }

    /// The public key as a JWK: `kty`, `crv`, `x` and `y`, never `d`.
    pub fn public_jwk(&self) -> Value {
        Value::Object(self.public.to_jwk())
    }

    /// The RFC 7638 thumbprint: a DPoP-bound token's `cnf.jkt`, and the `dpop_jkt` of an
    /// authorization request (RFC 9449 §10).
    pub fn thumbprint(&self) -> JwkThumbprint {
        self.public.thumbprint()
    }

    /// A proof for one request (RFC 9449 §4.2): `method` as sent, `url` the request's target
    /// (its query and fragment are left out of `htu`), the server's latest `nonce` when it gave
    /// one (§8), and the access token the request carries, whose hash becomes `ath` (§7).
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        access_token: Option<&AccessToken>,
        now: SystemTime,
    ) -> Result<DpopProof, DpopError> {
        let htu = target_uri(url).ok_or(DpopError::RequestUrl)?;
        let mut jti = [0_u8; JTI_RANDOM_BYTES];
        rand::fill(&mut jti).map_err(|_| DpopError::Signing)?;
        let mut claims = Map::new();
        claims.insert("jti".to_owned(), URL_SAFE_NO_PAD.encode(jti).into());
        claims.insert("htm".to_owned(), method.into());
        claims.insert("htu".to_owned(), htu.into());
        claims.insert("iat".to_owned(), unix_seconds(now).into());
        if let Some(nonce) = nonce {
            claims.insert("nonce".to_owned(), nonce.into());
        }
        if let Some(token) = access_token {
            claims.insert("ath".to_owned(), access_token_hash(token).into());
        }
        let header = json!({
            "typ": DPOP_PROOF_TYPE,
            "alg": JwsAlgorithm::Es256.as_str(),
            "jwk": self.public_jwk(),
        });
        self.sign(&header, &Value::Object(claims)).map(DpopProof)
    }

    /// A compact JWS of `header` and `claims` signed with this key.
    fn sign(&self, header: &Value, claims: &Value) -> Result<String, DpopError> {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // The FIXED encoding is JWS's R || S (RFC 7518 §3.4), not ASN.1 DER.
        let signature = self
            .key_pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| DpopError::Signing)?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

/// A DPoP proof: the value of one request's `DPoP` header. Short-lived, but a credential while
/// it lasts, so `Debug` hides it; not `Clone`, as each request gets its own.
pub struct DpopProof(String);

impl DpopProof {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DpopProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DpopProof([redacted])")
    }
}

/// What a proof is checked against: the request as the server received it, and its policy.
#[derive(Debug, Clone, Copy)]
pub struct ProofCheck<'a> {
    /// The request's HTTP method, compared exactly (methods are case-sensitive).
    pub method: &'a str,
    /// The URL the server expects in `htu`, built from its configured public URL, never from
    /// the request's `Host` or forwarded headers, which the sender chooses.
    pub url: &'a str,
    pub now: SystemTime,
    /// How far into the past `iat` may lie.
    pub max_age: Duration,
    /// Clock difference allowed, into the future and beyond `max_age`.
    pub skew: Duration,
    /// The algorithms accepted. `none` and HMAC are refused even when listed: a proof is
    /// signed with the private half of the key it carries.
    pub allowed: &'a [JwsAlgorithm],
    /// The access token the request presents; when given, `ath` must be its hash (§4.3 step 12).
    pub access_token: Option<&'a AccessToken>,
}

/// A proof that passed [`verify_proof`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The thumbprint of the proof's key: bind a new token to it, or compare it with the
    /// `cnf.jkt` of the token presented.
    pub thumbprint: JwkThumbprint,
    /// For the server's replay cache, which remembers it for the life of `iat`'s window.
    pub jti: String,
    pub iat: u64,
    /// For the server to compare with a nonce it issued, when it issues nonces.
    pub nonce: Option<String>,
}

/// Checks a DPoP proof as RFC 9449 §4.3 lists: size; a well-formed compact JWS; `typ`
/// exactly `dpop+jwt`; `alg` in `check.allowed`, never `none` or HMAC; a `jwk` that is a public
/// key only, of a type careid reads and that fits `alg`; the signature, with that key; `htm`
/// equal to the method; `htu` equal to `check.url` after RFC 3986 normalisation, query and
/// fragment ignored; `iat` in `[now - max_age - skew, now + skew]`; a `jti`; and, when
/// `check.access_token` is given, `ath`.
///
/// The caller's part (§4.3): pass the proof only when the request has exactly one `DPoP`
/// header; check the returned `nonce` when it issues nonces; refuse a `jti` it has seen within
/// the window; and, for a DPoP-bound token, compare `thumbprint` with the token's `cnf.jkt`.
pub fn verify_proof(proof: &str, check: &ProofCheck<'_>) -> Result<VerifiedProof, DpopError> {
    let expected_url = target_uri(check.url).ok_or(DpopError::ExpectedUrl)?;
    if proof.len() > MAX_PROOF_BYTES {
        return Err(DpopError::TooLarge);
    }
    let jwt = jose::decode_any_type(proof).map_err(DpopError::Malformed)?;
    if jwt.header.typ.as_deref() != Some(DPOP_PROOF_TYPE) {
        return Err(DpopError::WrongType);
    }
    let alg =
        jose::permitted_algorithm(&jwt, check.allowed, false).map_err(DpopError::Algorithm)?;

    let jwk = jwt.header_member("jwk").ok_or(DpopError::MissingKey)?;
    let members = jwk.as_object().ok_or(DpopError::MissingKey)?;
    if let Some(member) = PRIVATE_MEMBERS
        .into_iter()
        .find(|member| members.contains_key(*member))
    {
        return Err(DpopError::PrivateKey { member });
    }
    let key = jose::read_jwk(jwk).ok_or(DpopError::UnusableKey)?;
    jose::verify_with_key(&jwt, alg, &key).map_err(|error| match error {
        JoseError::NoMatchingKey { .. } => DpopError::UnusableKey,
        _ => DpopError::Signature,
    })?;

    let claims = &jwt.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("htm") != Some(check.method) {
        return Err(DpopError::Method {
            expected: check.method.to_owned(),
        });
    }
    if text("htu").and_then(target_uri) != Some(expected_url) {
        return Err(DpopError::Url);
    }
    // Any JSON number fits `as_u64` or is refused by it: a float, a negative or a number past
    // u64 is not a whole number of seconds, and nothing here overflows.
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or(DpopError::MissingIssuedAt)?;
    let now = unix_seconds(check.now);
    let oldest = now.saturating_sub(check.max_age.as_secs().saturating_add(check.skew.as_secs()));
    let latest = now.saturating_add(check.skew.as_secs());
    if iat < oldest {
        return Err(DpopError::TooOld { iat, oldest });
    }
    if iat > latest {
        return Err(DpopError::IssuedInFuture { iat, latest });
    }
    let jti = match claims.get("jti") {
        None => return Err(DpopError::Jti("is missing")),
        Some(Value::String(jti)) if jti.is_empty() => return Err(DpopError::Jti("is empty")),
        Some(Value::String(jti)) if jti.len() > MAX_JTI_BYTES => {
            return Err(DpopError::Jti("is longer than 256 bytes"))
        }
        Some(Value::String(jti)) => jti.clone(),
        Some(_) => return Err(DpopError::Jti("is not a string")),
    };
    if let Some(token) = check.access_token {
        let ath = text("ath").ok_or(DpopError::Ath("is missing"))?;
        if !constant_time_eq(ath.as_bytes(), access_token_hash(token).as_bytes()) {
            return Err(DpopError::Ath("does not match the access token"));
        }
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(nonce)) => Some(nonce.clone()),
        Some(_) => return Err(DpopError::Nonce),
    };
    Ok(VerifiedProof {
        thumbprint: key.thumbprint(),
        jti,
        iat,
        nonce,
    })
}

/// `ath` (RFC 9449 §4.2): the access token's SHA-256 (of its ASCII), base64url.
fn access_token_hash(token: &AccessToken) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(
        &digest::SHA256,
        token.expose_secret().as_bytes(),
    ))
}

/// A request URL as `htu` names it, and as it is compared (RFC 9449 §4.2, §4.3 step 9), so the
/// proof's maker and its checker share one rule. RFC 3986 §6.2.2's syntax-based normalisation:
/// the URL parser lower-cases scheme and host, drops a default port, resolves dot segments and
/// gives an empty path as `/`; percent-encodings in the path are then normalised. Query and
/// fragment are left out. `None` for what is not an absolute http or https URL.
fn target_uri(url: &str) -> Option<String> {
    let mut url = Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = normalise_percent_encoding(url.path());
    url.set_path(&path);
    Some(url.into())
}

/// RFC 3986 §6.2.2.1 and §6.2.2.2: percent-encoded unreserved characters decoded, and every
/// other percent-encoding's hex digits in upper case.
fn normalise_percent_encoding(path: &str) -> String {
    let mut parts = path.split('%');
    let mut normalised = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let byte = part
            .get(..2)
            .filter(|hex| hex.bytes().all(|digit| digit.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match byte {
            Some(byte) if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) => {
                normalised.push(char::from(byte));
                normalised.push_str(&part[2..]);
            }
            Some(byte) => {
                normalised.push_str(&format!("%{byte:02X}"));
                normalised.push_str(&part[2..]);
            }
            None => {
                normalised.push('%');
                normalised.push_str(part);
            }
        }
    }
    normalised
}

/// Why a proof could not be made or was refused. [`DpopError::code`] is a stable short reason
/// for audit logs and metrics; no message carries the proof.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    #[error("the DPoP proof is larger than {MAX_PROOF_BYTES} bytes")]
    TooLarge,
    #[error("the DPoP proof is not a well-formed JWS: {0}")]
    Malformed(JoseError),
    #[error("the DPoP proof's type (typ) is not {DPOP_PROOF_TYPE}")]
    WrongType,
    #[error("the DPoP proof's algorithm is refused: {0}")]
    Algorithm(JoseError),
    #[error("the DPoP proof's header has no public key (jwk) object")]
    MissingKey,
    #[error("the DPoP proof's key (jwk) has the private key member {member:?}")]
    PrivateKey { member: &'static str },
    /// Not EC P-256 or P-384 or RSA of 2048 to 8192 bits, or not of the proof's algorithm.
    #[error("the DPoP proof's key (jwk) is not one careid reads, or not of the proof's algorithm")]
    UnusableKey,
    #[error("the DPoP proof's signature does not verify with its key")]
    Signature,
    #[error("the DPoP proof is not for the request's HTTP method (htm), {expected}")]
    Method { expected: String },
    #[error("the DPoP proof is not for the request's URL (htu)")]
    Url,
    #[error("the URL a DPoP proof is checked against is not an absolute http or https URL")]
    ExpectedUrl,
    #[error("the DPoP proof's issue time (iat) is missing or not a whole number of seconds")]
    MissingIssuedAt,
    #[error("the DPoP proof was issued at {iat}, before the oldest time accepted, {oldest}")]
    TooOld { iat: u64, oldest: u64 },
    #[error("the DPoP proof was issued at {iat}, after the latest time accepted, {latest}")]
    IssuedInFuture { iat: u64, latest: u64 },
    #[error("the DPoP proof's jti {0}")]
    Jti(&'static str),
    #[error("the DPoP proof's access token hash (ath) {0}")]
    Ath(&'static str),
    #[error("the DPoP proof's nonce is not a string")]
    Nonce,
    #[error("a DPoP proof is made for an absolute http or https URL only")]
    RequestUrl,
    #[error("the DPoP key is unusable: {0}")]
    Key(&'static str),
    #[error("the DPoP proof could not be signed")]
    Signing,
}

impl DpopError {
    pub fn code(&self) -> &'static str {
        match self {
            DpopError::TooLarge => "too_large",
            DpopError::Malformed(_) => "malformed",
            DpopError::WrongType => "type",
            DpopError::Algorithm(_) => "algorithm",
            DpopError::MissingKey | DpopError::UnusableKey => "jwk",
            DpopError::PrivateKey { .. } => "private_key",
            DpopError::Signature => "signature",
            DpopError::Method { .. } => "method",
            DpopError::Url => "url",
            DpopError::ExpectedUrl => "expected_url",
            DpopError::MissingIssuedAt | DpopError::TooOld { .. } => "time",
            DpopError::IssuedInFuture { .. } => "time",
            DpopError::Jti(_) => "jti",
            DpopError::Ath(_) => "ath",
            DpopError::Nonce => "nonce",
            DpopError::RequestUrl => "request_url",
            DpopError::Key(_) => "key",
            DpopError::Signing => "signing",
        }
    }
}

#[cfg(test)]
mod tests;
