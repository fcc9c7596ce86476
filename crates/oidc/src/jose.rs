//! JSON Web Signatures (RFC 7515) and the provider's key set (RFC 7517): decoding a compact JWS,
//! choosing the key, and checking the signature. Pure: the caller fetches the JWKS and refetches
//! it once on [`JoseError::is_unknown_kid`] (REFERENCE §5: keys rotate).
//!
//! The algorithm is never taken on the token's word alone: it must be on careid's allow-list,
//! advertised by discovery and, for HMAC, backed by a client secret. So `alg: none` and the
//! HS256-keyed-with-the-RSA-public-key confusion (RFC 8725 §2.1) both fail.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{
    self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents, VerificationAlgorithm,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::secret::ClientSecret;

/// The largest compact JWS [`decode`] reads. CIS2's ID tokens are a few KiB; anything near this
/// is not an ID token, and bounding it keeps a hostile answer from costing memory or time.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The smallest RSA modulus accepted: smaller keys are ignored when the key set is read
/// (RFC 7518 §3.3 requires 2048 bits).
pub const MIN_RSA_BITS: usize = 2048;

/// The largest RSA modulus accepted, as aws-lc-rs's verifiers do.
const MAX_RSA_BITS: usize = 8192;

/// The longest attacker-chosen text (an `alg`, a `kid`) repeated in an error message.
const SHOWN_CHARS: usize = 64;

/// A JWS algorithm careid can verify (RFC 7518 §3.1). `none` is deliberately absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Hs256,
    Hs384,
    Hs512,
}

impl JwsAlgorithm {
    /// Every algorithm, in careid's order of preference.
    pub const ALL: [JwsAlgorithm; 11] = [
        JwsAlgorithm::Rs256,
        JwsAlgorithm::Rs384,
        JwsAlgorithm::Rs512,
        JwsAlgorithm::Ps256,
        JwsAlgorithm::Ps384,
        JwsAlgorithm::Ps512,
        JwsAlgorithm::Es256,
        JwsAlgorithm::Es384,
        JwsAlgorithm::Hs256,
        JwsAlgorithm::Hs384,
        JwsAlgorithm::Hs512,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlgorithm::Rs256 => "RS256",
            JwsAlgorithm::Rs384 => "RS384",
            JwsAlgorithm::Rs512 => "RS512",
            JwsAlgorithm::Ps256 => "PS256",
            JwsAlgorithm::Ps384 => "PS384",
            JwsAlgorithm::Ps512 => "PS512",
            JwsAlgorithm::Es256 => "ES256",
            JwsAlgorithm::Es384 => "ES384",
            JwsAlgorithm::Hs256 => "HS256",
            JwsAlgorithm::Hs384 => "HS384",
            JwsAlgorithm::Hs512 => "HS512",
        }
    }

    /// HMAC algorithms are keyed with the client secret (OIDC Core §10.1), never with the JWKS.
    pub fn is_hmac(self) -> bool {
        matches!(
            self,
            JwsAlgorithm::Hs256 | JwsAlgorithm::Hs384 | JwsAlgorithm::Hs512
        )
    }

    fn rsa_parameters(self) -> Option<&'static RsaParameters> {
        Some(match self {
            JwsAlgorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            JwsAlgorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            JwsAlgorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            JwsAlgorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            JwsAlgorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
            JwsAlgorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }

    fn curve(self) -> Option<Curve> {
        match self {
            JwsAlgorithm::Es256 => Some(Curve::P256),
            JwsAlgorithm::Es384 => Some(Curve::P384),
            _ => None,
        }
    }

    fn hmac(self) -> Option<hmac::Algorithm> {
        match self {
            JwsAlgorithm::Hs256 => Some(hmac::HMAC_SHA256),
            JwsAlgorithm::Hs384 => Some(hmac::HMAC_SHA384),
            JwsAlgorithm::Hs512 => Some(hmac::HMAC_SHA512),
            _ => None,
        }
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwsAlgorithm {
    type Err = JoseError;

    /// Names are case-sensitive (RFC 7515 §4.1.1); `none` in any case is its own error.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.eq_ignore_ascii_case("none") {
            return Err(JoseError::AlgNone);
        }
        JwsAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == name)
            .ok_or_else(|| JoseError::UnknownAlgorithm { alg: shown(name) })
    }
}

/// What a token MACed with HMAC would be keyed with (OIDC Core §10.1): the client secret, when
/// the client has one; without one no HMAC algorithm is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacKey {
    ClientSecret,
    None,
}

impl HmacKey {
    /// The key a client with `secret` has.
    pub fn of<T>(secret: Option<T>) -> Self {
        match secret {
            Some(_) => HmacKey::ClientSecret,
            None => HmacKey::None,
        }
    }
}

/// The algorithms to accept for a provider's tokens: careid's list (every asymmetric algorithm,
/// and HMAC only when the client secret is the HMAC key) intersected with what discovery
/// advertised (`id_token_signing_alg_values_supported`). Nothing advertised means RS256 only,
/// OIDC Discovery's default. `none` is never accepted, advertised or not.
pub fn allowed_algorithms(advertised: &[String], hmac: HmacKey) -> Vec<JwsAlgorithm> {
    if advertised.is_empty() {
        return vec![JwsAlgorithm::Rs256];
    }
    JwsAlgorithm::ALL
        .into_iter()
        .filter(|alg| hmac == HmacKey::ClientSecret || !alg.is_hmac())
        .filter(|alg| advertised.iter().any(|name| name == alg.as_str()))
        .collect()
}

/// The algorithms to accept for signed UserInfo: [`allowed_algorithms`] of discovery's
/// `userinfo_signing_alg_values_supported` (CIS2 registers RS256 or RS512, REFERENCE §2), or of
/// the ID token's list when discovery gives none for UserInfo.
pub fn allowed_userinfo_algorithms(
    userinfo_advertised: Option<&[String]>,
    id_token_advertised: Option<&[String]>,
    hmac: HmacKey,
) -> Vec<JwsAlgorithm> {
    let advertised = userinfo_advertised
        .filter(|algorithms| !algorithms.is_empty())
        .or(id_token_advertised)
        .unwrap_or_default();
    allowed_algorithms(advertised, hmac)
}

/// An elliptic curve a JWK may name (RFC 7518 §6.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

impl Curve {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            _ => None,
        }
    }

    fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
        }
    }
}

/// A public key from the key set.
#[derive(Clone)]
enum PublicKey {
    /// Big-endian modulus without leading zeros, and exponent.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Parsed (and so checked to lie on the curve) when the key set was read.
    Ec { curve: Curve, key: ParsedPublicKey },
}

#[derive(Clone)]
struct Jwk {
    kid: Option<String>,
    /// The JWK's `alg`: when present, the only algorithm the key may be used with (RFC 7517 §4.4).
    alg: Option<String>,
    key: PublicKey,
}

impl Jwk {
    /// Whether this key can check a signature made with `alg`.
    fn fits(&self, alg: JwsAlgorithm) -> bool {
        if self.alg.as_deref().is_some_and(|own| own != alg.as_str()) {
            return false;
        }
        match &self.key {
            PublicKey::Rsa { .. } => alg.rsa_parameters().is_some(),
            PublicKey::Ec { curve, .. } => alg.curve() == Some(*curve),
        }
    }

    fn verifies(&self, alg: JwsAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            PublicKey::Rsa { n, e } => alg.rsa_parameters().is_some_and(|parameters| {
                RsaPublicKeyComponents { n, e }
                    .verify(parameters, message, signature)
                    .is_ok()
            }),
            PublicKey::Ec { key, .. } => key.verify_sig(message, signature).is_ok(),
        }
    }

    fn kty(&self) -> &'static str {
        match self.key {
            PublicKey::Rsa { .. } => "RSA",
            PublicKey::Ec {
                curve: Curve::P256, ..
            } => "EC P-256",
            PublicKey::Ec {
                curve: Curve::P384, ..
            } => "EC P-384",
        }
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("kid", &self.kid)
            .field("kty", &self.kty())
            .field("alg", &self.alg)
            .finish()
    }
}

/// The provider's signing keys (RFC 7517 §5), read tolerantly: keys careid cannot or must not use
/// (`use: enc`, an unknown `kty` or curve, RSA under 2048 bits, malformed members) are left out,
/// so one odd key does not cost the provider its others.
#[derive(Debug, Clone, Default)]
pub struct JsonWebKeySet {
    keys: Vec<Jwk>,
}

impl JsonWebKeySet {
    /// Reads the JWKS document's text.
    pub fn from_json(text: &str) -> Result<Self, JoseError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|_| JoseError::NotAKeySet("the document is not JSON"))?;
        Self::from_value(&value)
    }

    /// Reads a parsed JWKS document: an object with a `keys` array.
    pub fn from_value(value: &Value) -> Result<Self, JoseError> {
        let keys = value
            .as_object()
            .ok_or(JoseError::NotAKeySet("the document is not a JSON object"))?
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(JoseError::NotAKeySet("the document has no keys array"))?;
        Ok(Self {
            keys: keys.iter().filter_map(read_jwk).collect(),
        })
    }

    /// How many usable keys were kept.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids of the kept keys, in document order.
    pub fn kids(&self) -> Vec<&str> {
        self.keys
            .iter()
            .filter_map(|key| key.kid.as_deref())
            .collect()
    }
}

/// One key, or `None` when it is not a signing key careid can use.
fn read_jwk(value: &Value) -> Option<Jwk> {
    let jwk = value.as_object()?;
    let text = |name: &str| -> Option<Option<&str>> {
        match jwk.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(text.as_str())),
            Some(_) => None,
        }
    };
    if text("use")?.is_some_and(|key_use| key_use != "sig") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()?
            .iter()
            .any(|op| op.as_str() == Some("verify"));
        if !verifies {
            return None;
        }
    }
    let bytes = |name: &str| -> Option<Vec<u8>> { URL_SAFE_NO_PAD.decode(text(name)??).ok() };
    let key = match text("kty")?? {
        "RSA" => {
            let n = bytes("n")?;
            let first = n.iter().position(|byte| *byte != 0)?;
            let n = n[first..].to_vec();
            let bits = n.len() * 8 - n[0].leading_zeros() as usize;
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return None;
            }
            let e = bytes("e")?;
            if e.iter().all(|byte| *byte == 0) {
                return None;
            }
            PublicKey::Rsa { n, e }
        }
        "EC" => {
            let curve = Curve::from_name(text("crv")??)?;
            let (x, y) = (bytes("x")?, bytes("y")?);
            let len = curve.coordinate_len();
            if x.len() != len || y.len() != len {
                return None;
            }
            // SEC 1 §2.3.3: the uncompressed point.
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = ParsedPublicKey::new(curve.verification(), &point).ok()?;
            PublicKey::Ec { curve, key }
        }
        _ => return None,
    };
    Some(Jwk {
        kid: text("kid")?.map(str::to_owned),
        alg: text("alg")?.map(str::to_owned),
        key,
    })
}

/// A JWS header's members that careid reads (RFC 7515 §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsHeader {
    /// As written in the token; checked against the allow-list by [`verify`].
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

/// A compact JWS taken apart by [`decode`], not yet verified. Keeps what [`verify`] needs but
/// never the token itself or its signature in `Debug`, which shows the header and claim names.
#[derive(Clone)]
pub struct DecodedJwt {
    pub header: JwsHeader,
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`, what the signature covers.
    signing_input: String,
    signature: Vec<u8>,
}

impl fmt::Debug for DecodedJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedJwt")
            .field("header", &self.header)
            .field("claim_names", &self.claims.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Takes a compact JWS apart: exactly three base64url parts without padding, a JSON object
/// header with a string `alg`, no `crit` (careid understands no extension), no `cty` or `b64`
/// (nested and unencoded tokens are not ID tokens) and a `typ`, if any, of `JWT` (RFC 7519
/// §5.1; another type is another kind of token, RFC 8725 §3.11), and a JSON object payload.
/// No object may repeat a member name (RFC 7515 §4, RFC 7519 §4 allow refusing them; careid
/// does, so no reader of the same token can see other claims than careid checked). The
/// signature is not checked: see [`verify`].
pub fn decode(jws: &str) -> Result<DecodedJwt, JoseError> {
    let jwt = decode_any_type(jws)?;
    if let Some(typ) = jwt.header.typ.as_deref().filter(|typ| !is_jwt_type(typ)) {
        return Err(JoseError::NotAnIdTokenType { typ: shown(typ) });
    }
    Ok(jwt)
}

/// [`decode`] with any `typ`: for a token of another kind, whose caller holds it to its own
/// type (a back-channel logout token is `logout+jwt`).
pub fn decode_any_type(jws: &str) -> Result<DecodedJwt, JoseError> {
    if jws.len() > MAX_TOKEN_BYTES {
        return Err(JoseError::Malformed("the token is larger than 64 KiB"));
    }
    let parts: Vec<&str> = jws.split('.').collect();
    let [header_part, payload_part, signature_part] = parts[..] else {
        return Err(if parts.len() == 5 {
            JoseError::Encrypted
        } else {
            JoseError::Malformed("the token does not have three dot-separated parts")
        });
    };
    let object = |part: &str,
                  what: &'static str,
                  repeated: &'static str|
     -> Result<Map<String, Value>, JoseError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JoseError::Malformed(what))?;
        match serde_json::from_slice(&bytes) {
            Ok(UniqueMembers(Value::Object(object))) => Ok(object),
            Err(error) if error.to_string().starts_with(REPEATED_MEMBER) => {
                Err(JoseError::Malformed(repeated))
            }
            _ => Err(JoseError::Malformed(what)),
        }
    };
    let header = object(
        header_part,
        "the header is not a base64url-encoded JSON object",
        "the header repeats a member name",
    )?;
    let claims = object(
        payload_part,
        "the payload is not a base64url-encoded JSON object",
        "the payload repeats a member name",
    )?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| JoseError::Malformed("the signature is not base64url without padding"))?;
    if header.contains_key("crit") {
        return Err(JoseError::CriticalHeader);
    }
    if let Some(member) = ["cty", "b64"]
        .into_iter()
        .find(|member| header.contains_key(*member))
    {
        return Err(JoseError::UnsupportedHeader { member });
    }
    let text = |name: &str, what: &'static str| -> Result<Option<String>, JoseError> {
        match header.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(JoseError::Malformed(what)),
        }
    };
    let header = JwsHeader {
        alg: text("alg", "the header's alg is not a string")?
            .ok_or(JoseError::Malformed("the header has no alg"))?,
        kid: text("kid", "the header's kid is not a string")?,
        typ: text("typ", "the header's typ is not a string")?,
    };
    Ok(DecodedJwt {
        header,
        claims,
        signing_input: format!("{header_part}.{payload_part}"),
        signature,
    })
}

/// `typ` names a JWT: `JWT` as a media type (RFC 7515 §4.1.9: case-insensitive, the
/// `application/` prefix optional).
fn is_jwt_type(typ: &str) -> bool {
    let name = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    name.eq_ignore_ascii_case("JWT")
}

/// The start of the error [`UniqueMembers`] gives for a repeated member name.
const REPEATED_MEMBER: &str = "repeated member name";

/// A JSON value whose objects, at any depth, never repeat a member name.
struct UniqueMembers(Value);

impl<'de> serde::Deserialize<'de> for UniqueMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueVisitor)
            .map(UniqueMembers)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueMembers(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let UniqueMembers(value) = map.next_value()?;
            if object.insert(name, value).is_some() {
                return Err(serde::de::Error::custom(REPEATED_MEMBER));
            }
        }
        Ok(Value::Object(object))
    }
}

/// Checks `jwt`'s signature. The header's `alg` must be in `allowed`; an HMAC algorithm also
/// needs `hmac_secret`, the client secret, and never uses a key from the set, so a token MACed
/// with a published public key fails. An asymmetric token with a `kid` is checked with the key of
/// that id ([`JoseError::UnknownKid`] when there is none: refetch the set once); without a `kid`,
/// with the one key that fits the algorithm: when several do, OIDC Core §10.1 requires a `kid`
/// ([`JoseError::KidRequired`]).
pub fn verify(
    jwt: &DecodedJwt,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    hmac_secret: Option<&ClientSecret>,
) -> Result<(), JoseError> {
    let usable: Vec<JwsAlgorithm> = allowed
        .iter()
        .copied()
        .filter(|alg| hmac_secret.is_some() || !alg.is_hmac())
        .collect();
    let name = jwt.header.alg.as_str();
    if name.eq_ignore_ascii_case("none") {
        return Err(JoseError::AlgNone);
    }
    let alg = JwsAlgorithm::from_str(name)
        .ok()
        .filter(|alg| usable.contains(alg))
        .ok_or_else(|| JoseError::AlgNotAllowed {
            alg: shown(name),
            allowed: usable
                .iter()
                .map(|alg| alg.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let message = jwt.signing_input.as_bytes();

    if let Some(algorithm) = alg.hmac() {
        // `usable` holds HMAC algorithms only with a secret; never fall through to the key set.
        let secret = hmac_secret.ok_or(JoseError::BadSignature)?;
        let key = hmac::Key::new(algorithm, secret.expose_secret().as_bytes());
        // Constant time: aws-lc-rs compares the tags without an early exit.
        return hmac::verify(&key, message, &jwt.signature).map_err(|_| JoseError::BadSignature);
    }

    let candidates: Vec<&Jwk> = match &jwt.header.kid {
        Some(kid) => {
            let named: Vec<&Jwk> = keys
                .keys
                .iter()
                .filter(|key| key.kid.as_deref() == Some(kid.as_str()))
                .collect();
            if named.is_empty() {
                return Err(JoseError::UnknownKid { kid: kid.clone() });
            }
            named.into_iter().filter(|key| key.fits(alg)).collect()
        }
        None => {
            let fitting: Vec<&Jwk> = keys.keys.iter().filter(|key| key.fits(alg)).collect();
            if fitting.len() > 1 {
                return Err(JoseError::KidRequired { alg: alg.as_str() });
            }
            fitting
        }
    };
    if candidates.is_empty() {
        return Err(JoseError::NoMatchingKey { alg: alg.as_str() });
    }
    if candidates
        .iter()
        .any(|key| key.verifies(alg, message, &jwt.signature))
    {
        Ok(())
    } else {
        Err(JoseError::BadSignature)
    }
}

/// At most [`SHOWN_CHARS`] characters of a token's text, for an error message.
fn shown(text: &str) -> String {
    shortened(text, SHOWN_CHARS)
}

/// At most `max_chars` characters of `text`, with `…` when some were cut: for error messages
/// that repeat an untrusted value.
pub(crate) fn shortened(text: &str, max_chars: usize) -> String {
    let mut chars = text.chars();
    let mut short: String = chars.by_ref().take(max_chars).collect();
    if chars.next().is_some() {
        short.push('…');
    }
    short
}

/// Why a token's signature or a key set could not be used. Messages name the check; none carries
/// the token or its signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoseError {
    #[error("the token is not a well-formed JWS: {0}")]
    Malformed(&'static str),
    #[error("the token is encrypted (JWE); encrypted tokens are not supported")]
    Encrypted,
    #[error("the token's header has a crit member; careid supports no JWS extensions")]
    CriticalHeader,
    #[error(
        "the token's header has a {member} member; careid reads no nested or unencoded tokens"
    )]
    UnsupportedHeader { member: &'static str },
    #[error("the token's type (typ) is {typ:?}, not JWT: it is another kind of token")]
    NotAnIdTokenType { typ: String },
    #[error("the token names no key (kid) and the provider's key set has several keys for {alg}; OpenID Connect requires a kid then")]
    KidRequired { alg: &'static str },
    #[error("the token is unsigned (alg \"none\"), which is never accepted")]
    AlgNone,
    #[error("{alg:?} is not a JWS algorithm careid knows")]
    UnknownAlgorithm { alg: String },
    #[error("the token is signed with {alg:?}, which is not allowed here (allowed: {allowed})")]
    AlgNotAllowed { alg: String, allowed: String },
    /// The caller refetches the key set once: the provider may have rotated its keys.
    #[error("no key in the provider's key set has the token's kid {:?}", shown(.kid))]
    UnknownKid { kid: String },
    #[error("no key in the provider's key set fits the token's algorithm {alg}")]
    NoMatchingKey { alg: &'static str },
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the provider's JWKS is not a key set: {0}")]
    NotAKeySet(&'static str),
}

impl JoseError {
    pub fn code(&self) -> &'static str {
        match self {
            JoseError::Malformed(_) => "jws_malformed",
            JoseError::Encrypted => "jws_encrypted",
            JoseError::CriticalHeader => "jws_crit_unsupported",
            JoseError::UnsupportedHeader { .. } => "jws_header_unsupported",
            JoseError::NotAnIdTokenType { .. } => "jws_wrong_type",
            JoseError::KidRequired { .. } => "jws_kid_required",
            JoseError::AlgNone => "jws_alg_none",
            JoseError::UnknownAlgorithm { .. } => "jws_alg_unknown",
            JoseError::AlgNotAllowed { .. } => "jws_alg_not_allowed",
            JoseError::UnknownKid { .. } => "jws_unknown_kid",
            JoseError::NoMatchingKey { .. } => "jws_no_matching_key",
            JoseError::BadSignature => "jws_bad_signature",
            JoseError::NotAKeySet(_) => "jwks_malformed",
        }
    }
}

/// A verification that may have failed because the token names a key the provider's set lacks
/// (keys rotate without notice): the one question asked before the set is fetched again
/// ([`crate::ProviderCache::verify_with_keys`]).
pub trait UnknownKid {
    fn is_unknown_kid(&self) -> bool;
}

impl UnknownKid for JoseError {
    fn is_unknown_kid(&self) -> bool {
        matches!(self, JoseError::UnknownKid { .. })
    }
}

/// Test keys and a token signer that share nothing with the verifier but aws-lc-rs itself.
#[cfg(test)]
pub(crate) mod test_support {
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
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::test_support::*;
    use super::*;

    fn key_set() -> JsonWebKeySet {
        JsonWebKeySet::from_value(&jwks()).expect("a key set")
    }

    fn secret() -> ClientSecret {
        ClientSecret::new(SECRET.to_owned())
    }

    fn claims() -> Value {
        json!({ "iss": "https://op.example", "sub": "555057896106" })
    }

    fn check(
        token: &str,
        allowed: &[JwsAlgorithm],
        secret: Option<&ClientSecret>,
    ) -> Result<(), JoseError> {
        verify(&decode(token)?, &key_set(), allowed, secret)
    }

    #[test]
    fn algorithm_names_round_trip_and_none_is_its_own_error() {
        for alg in JwsAlgorithm::ALL {
            assert_eq!(alg.as_str().parse::<JwsAlgorithm>().unwrap(), alg);
        }
        assert_eq!(
            JwsAlgorithm::ALL.iter().filter(|alg| alg.is_hmac()).count(),
            3
        );
        for none in ["none", "None", "NONE"] {
            assert!(matches!(
                none.parse::<JwsAlgorithm>(),
                Err(JoseError::AlgNone)
            ));
        }
        let error = "rs256".parse::<JwsAlgorithm>().unwrap_err();
        assert_eq!(error.code(), "jws_alg_unknown", "names are case-sensitive");
        assert_eq!(
            "EdDSA".parse::<JwsAlgorithm>().unwrap_err().code(),
            "jws_alg_unknown"
        );
    }

    #[test]
    fn allowed_algorithms_intersects_with_discovery() {
        let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        assert_eq!(
            allowed_algorithms(&[], HmacKey::None),
            [JwsAlgorithm::Rs256]
        );
        assert_eq!(
            allowed_algorithms(&[], HmacKey::ClientSecret),
            [JwsAlgorithm::Rs256]
        );
        assert_eq!(
            allowed_algorithms(&names(&["RS512", "RS256", "none", "HS256"]), HmacKey::None),
            [JwsAlgorithm::Rs256, JwsAlgorithm::Rs512]
        );
        assert_eq!(
            allowed_algorithms(
                &names(&["RS256", "none", "HS256", "ES256"]),
                HmacKey::ClientSecret
            ),
            [
                JwsAlgorithm::Rs256,
                JwsAlgorithm::Es256,
                JwsAlgorithm::Hs256
            ]
        );
        assert!(allowed_algorithms(&names(&["none"]), HmacKey::ClientSecret).is_empty());
        assert!(allowed_algorithms(&names(&["rs256"]), HmacKey::None).is_empty());
    }

    #[test]
    fn userinfo_algorithms_come_from_the_userinfo_list_first() {
        let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect::<Vec<_>>();
        let userinfo = names(&["RS512"]);
        let id_token = names(&["RS256", "ES256"]);
        assert_eq!(
            allowed_userinfo_algorithms(Some(&userinfo), Some(&id_token), HmacKey::None),
            [JwsAlgorithm::Rs512]
        );
        for empty in [None, Some(&[][..])] {
            assert_eq!(
                allowed_userinfo_algorithms(empty, Some(&id_token), HmacKey::None),
                [JwsAlgorithm::Rs256, JwsAlgorithm::Es256]
            );
        }
        assert_eq!(
            allowed_userinfo_algorithms(None, None, HmacKey::None),
            [JwsAlgorithm::Rs256]
        );
        assert!(
            allowed_userinfo_algorithms(
                Some(&names(&["none", "HS256"])),
                Some(&id_token),
                HmacKey::None
            )
            .is_empty(),
            "never none, and HMAC only with a client secret"
        );
    }

    #[test]
    fn every_algorithm_verifies() {
        let secret = secret();
        for alg in JwsAlgorithm::ALL {
            let kid = match alg {
                JwsAlgorithm::Es256 => Some(EC256_KID),
                JwsAlgorithm::Es384 => Some(EC384_KID),
                _ if alg.is_hmac() => None,
                _ => Some(RSA_KID),
            };
            let mut header = json!({ "alg": alg.as_str(), "typ": "JWT" });
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            let token = sign(&header, &claims());
            check(&token, &[alg], Some(&secret)).unwrap_or_else(|error| panic!("{alg}: {error}"));
            // Without a kid, the one key of the right type is used.
            header.as_object_mut().unwrap().remove("kid");
            check(&sign(&header, &claims()), &[alg], Some(&secret))
                .unwrap_or_else(|error| panic!("{alg} without kid: {error}"));
            let error = check(&tamper(&token), &[alg], Some(&secret)).unwrap_err();
            assert!(matches!(error, JoseError::BadSignature), "{alg}: {error}");
            assert_eq!(error.code(), "jws_bad_signature");
        }
    }

    #[test]
    fn a_signature_checks_the_signed_bytes() {
        let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
        let (_, signature) = token.rsplit_once('.').unwrap();
        let other = sign(
            &json!({ "alg": "RS256", "kid": RSA_KID }),
            &json!({ "sub": "someone-else" }),
        );
        let (input, _) = other.rsplit_once('.').unwrap();
        let swapped = format!("{input}.{signature}");
        assert!(matches!(
            check(&swapped, &[JwsAlgorithm::Rs256], None),
            Err(JoseError::BadSignature)
        ));
    }

    #[test]
    fn rs512_does_not_pass_as_rs256() {
        let token = sign(&json!({ "alg": "RS512", "kid": RSA_KID }), &claims());
        let (input, signature) = token.rsplit_once('.').unwrap();
        let (_, payload) = input.split_once('.').unwrap();
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "RS256", "kid": RSA_KID }).to_string());
        let relabelled = format!("{header}.{payload}.{signature}");
        assert!(matches!(
            check(
                &relabelled,
                &[JwsAlgorithm::Rs256, JwsAlgorithm::Rs512],
                None
            ),
            Err(JoseError::BadSignature)
        ));
    }

    #[test]
    fn alg_none_is_never_accepted() {
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({ "alg": "none" }).to_string()),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        let error = check(&unsigned, &JwsAlgorithm::ALL, Some(&secret())).unwrap_err();
        assert!(matches!(error, JoseError::AlgNone), "{error}");
        assert_eq!(error.code(), "jws_alg_none");
    }

    #[test]
    fn hmac_keyed_with_the_rsa_public_key_is_refused() {
        let forged = sign_hs256_with_rsa_public_key(&claims());
        // No client secret: HMAC is not allowed at all, even when listed.
        let error = check(&forged, &[JwsAlgorithm::Rs256, JwsAlgorithm::Hs256], None).unwrap_err();
        assert_eq!(error.code(), "jws_alg_not_allowed", "{error}");
        assert!(error.to_string().contains("\"HS256\""), "{error}");
        assert!(error.to_string().contains("allowed: RS256"), "{error}");
        // A client secret: HMAC uses it, never the key set, so the forged tag fails.
        let error = check(
            &forged,
            &[JwsAlgorithm::Rs256, JwsAlgorithm::Hs256],
            Some(&secret()),
        )
        .unwrap_err();
        assert_eq!(error.code(), "jws_bad_signature", "{error}");
        // A secret but HMAC not allowed.
        let error = check(&forged, &[JwsAlgorithm::Rs256], Some(&secret())).unwrap_err();
        assert_eq!(error.code(), "jws_alg_not_allowed", "{error}");
    }

    #[test]
    fn an_algorithm_outside_the_list_is_refused() {
        let token = sign(&json!({ "alg": "PS256", "kid": RSA_KID }), &claims());
        let error = check(&token, &[JwsAlgorithm::Rs256, JwsAlgorithm::Rs512], None).unwrap_err();
        assert!(
            matches!(&error, JoseError::AlgNotAllowed { alg, allowed } if alg == "PS256" && allowed == "RS256, RS512"),
            "{error}"
        );
        let token = sign(&json!({ "alg": "XX999", "kid": RSA_KID }), &claims());
        assert_eq!(
            check(&token, &JwsAlgorithm::ALL, None).unwrap_err().code(),
            "jws_alg_not_allowed"
        );
    }

    #[test]
    fn a_header_alg_that_does_not_fit_the_key_type_is_refused() {
        let only = |alg: JwsAlgorithm| [alg];
        // An EC algorithm under the RSA key's kid, and RSA ones under the EC key's.
        for (alg, kid) in [
            ("ES256", RSA_KID),
            ("ES384", RSA_KID),
            ("RS256", EC256_KID),
            ("PS256", EC256_KID),
            ("RS512", EC384_KID),
        ] {
            let token = sign(&json!({ "alg": alg, "kid": kid }), &claims());
            let parsed: JwsAlgorithm = alg.parse().unwrap();
            let error = check(&token, &only(parsed), None).unwrap_err();
            assert_eq!(
                error.code(),
                "jws_no_matching_key",
                "{alg} under {kid}: {error}"
            );
        }
        // A signature relabelled with another algorithm of the same key type fails, both ways
        // between PKCS#1 v1.5 and PSS, and between the hashes.
        let relabel = |token: &str, alg: &str| {
            let (input, signature) = token.rsplit_once('.').unwrap();
            let (header, payload) = input.split_once('.').unwrap();
            let mut header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
            header["alg"] = json!(alg);
            format!(
                "{}.{payload}.{signature}",
                URL_SAFE_NO_PAD.encode(header.to_string())
            )
        };
        for (signed_as, labelled) in [
            ("PS256", "RS256"),
            ("RS256", "PS256"),
            ("PS256", "PS384"),
            ("PS512", "RS512"),
            ("ES256", "ES384"),
        ] {
            let kid = if signed_as == "ES256" {
                EC256_KID
            } else {
                RSA_KID
            };
            let token = relabel(
                &sign(&json!({ "alg": signed_as, "kid": kid }), &claims()),
                labelled,
            );
            let error = check(&token, &JwsAlgorithm::ALL, None).unwrap_err();
            let expected = if labelled == "ES384" {
                "jws_no_matching_key"
            } else {
                "jws_bad_signature"
            };
            assert_eq!(error.code(), expected, "{signed_as} labelled {labelled}");
        }
        // Without a kid, an EC header never reaches the RSA key, nor an RSA header the EC keys.
        let rsa_key_only =
            JsonWebKeySet::from_value(&json!({ "keys": [rsa_jwk(&keys().rsa, RSA_KID)] })).unwrap();
        let token = sign(&json!({ "alg": "ES256" }), &claims());
        let error = verify(
            &decode(&token).unwrap(),
            &rsa_key_only,
            &[JwsAlgorithm::Es256],
            None,
        )
        .unwrap_err();
        assert_eq!(error.code(), "jws_no_matching_key");
    }

    /// RFC 7518 §3.5: PS256 is RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt.
    /// Signatures made apart (Node.js's OpenSSL) with salt lengths 32, 0 and 64 over the same
    /// input: only the one that follows the rule verifies.
    #[test]
    fn ps256_from_another_signer_verifies_with_a_32_byte_salt_only() {
        let vectors: Value =
            serde_json::from_str(include_str!("../tests/data/ps256-salt-lengths.json")).unwrap();
        let keys = JsonWebKeySet::from_value(&json!({ "keys": [{
            "kty": "RSA", "kid": "node-pss", "n": vectors["n"], "e": vectors["e"],
        }]}))
        .unwrap();
        let check = |name: &str| {
            let token = vectors[name].as_str().unwrap();
            verify(&decode(token).unwrap(), &keys, &[JwsAlgorithm::Ps256], None)
        };
        check("salt32").expect("PS256 with a 32-byte salt verifies");
        for name in ["salt0", "salt64"] {
            let error = check(name).unwrap_err();
            assert_eq!(error.code(), "jws_bad_signature", "{name}");
        }
    }

    #[test]
    fn an_unknown_kid_asks_for_a_refetch() {
        let token = sign(&json!({ "alg": "RS256", "kid": "rotated-away" }), &claims());
        let error = check(&token, &[JwsAlgorithm::Rs256], None).unwrap_err();
        assert!(error.is_unknown_kid());
        assert_eq!(error.code(), "jws_unknown_kid");
        assert!(error.to_string().contains("rotated-away"));
        assert!(!JoseError::BadSignature.is_unknown_kid());
    }

    #[test]
    fn a_kid_of_the_wrong_key_type_is_no_matching_key() {
        // RS256 under the EC key's kid: the EC key is never used for RSA.
        let token = sign(&json!({ "alg": "RS256", "kid": EC256_KID }), &claims());
        let error = check(&token, &[JwsAlgorithm::Rs256], None).unwrap_err();
        assert_eq!(error.code(), "jws_no_matching_key", "{error}");
        // ES384 under the P-256 key.
        let token = sign(&json!({ "alg": "ES384", "kid": EC256_KID }), &claims());
        assert_eq!(
            check(&token, &[JwsAlgorithm::Es384], None)
                .unwrap_err()
                .code(),
            "jws_no_matching_key"
        );
    }

    #[test]
    fn a_jwk_alg_limits_the_key_to_that_algorithm() {
        let mut jwk = rsa_jwk(&keys().rsa, RSA_KID);
        jwk["alg"] = json!("RS512");
        let keys = JsonWebKeySet::from_value(&json!({ "keys": [jwk] })).unwrap();
        let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
        let error = verify(
            &decode(&token).unwrap(),
            &keys,
            &[JwsAlgorithm::Rs256],
            None,
        )
        .unwrap_err();
        assert_eq!(error.code(), "jws_no_matching_key");
        let token = sign(&json!({ "alg": "RS512", "kid": RSA_KID }), &claims());
        verify(
            &decode(&token).unwrap(),
            &keys,
            &[JwsAlgorithm::Rs512],
            None,
        )
        .unwrap();
    }

    #[test]
    fn decode_reads_header_and_claims() {
        let token = sign(
            &json!({ "alg": "RS256", "kid": RSA_KID, "typ": "JWT" }),
            &claims(),
        );
        let jwt = decode(&token).unwrap();
        assert_eq!(
            jwt.header,
            JwsHeader {
                alg: "RS256".into(),
                kid: Some(RSA_KID.into()),
                typ: Some("JWT".into())
            }
        );
        assert_eq!(jwt.claims["sub"], "555057896106");
    }

    #[test]
    fn decode_is_strict() {
        let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let code = |token: &str| decode(token).unwrap_err().code();
        assert_eq!(code("a.b.c.d.e"), "jws_encrypted");
        assert!(decode("a.b.c.d.e")
            .unwrap_err()
            .to_string()
            .contains("encrypted tokens are not supported"));
        assert_eq!(code(&format!("{}.{}", parts[0], parts[1])), "jws_malformed");
        assert_eq!(code(&format!("{token}.x")), "jws_malformed");
        // Padding, the standard alphabet and stray characters are all refused.
        assert_eq!(
            code(&format!("{}=.{}.{}", parts[0], parts[1], parts[2])),
            "jws_malformed"
        );
        assert_eq!(
            code(&format!("{}.{}.{}==", parts[0], parts[1], parts[2])),
            "jws_malformed"
        );
        assert_eq!(
            code(&format!("{}.{}+.{}", parts[0], parts[1], parts[2])),
            "jws_malformed"
        );
        assert_eq!(
            code(&format!("{}.{} .{}", parts[0], parts[1], parts[2])),
            "jws_malformed"
        );
        let part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let with_header = |header: &Value| format!("{}.{}.{}", part(header), parts[1], parts[2]);
        assert_eq!(code(&with_header(&json!(["RS256"]))), "jws_malformed");
        assert_eq!(code(&with_header(&json!({ "kid": "x" }))), "jws_malformed");
        assert_eq!(code(&with_header(&json!({ "alg": 256 }))), "jws_malformed");
        assert_eq!(
            code(&with_header(&json!({ "alg": "RS256", "kid": 1 }))),
            "jws_malformed"
        );
        assert_eq!(
            code(&with_header(&json!({ "alg": "RS256", "crit": ["exp"] }))),
            "jws_crit_unsupported"
        );
        assert_eq!(
            code(&format!(
                "{}.{}.{}",
                parts[0],
                part(&json!("a string")),
                parts[2]
            )),
            "jws_malformed"
        );
        assert_eq!(
            code(&format!(
                "{}.{}.{}",
                parts[0],
                URL_SAFE_NO_PAD.encode("{not json"),
                parts[2]
            )),
            "jws_malformed"
        );
        let huge = format!("{}.{}.{}", parts[0], "A".repeat(MAX_TOKEN_BYTES), parts[2]);
        assert_eq!(code(&huge), "jws_malformed");
    }

    #[test]
    fn debug_shows_no_signature_or_claim_values() {
        let token = sign(
            &json!({ "alg": "RS256", "kid": RSA_KID }),
            &json!({ "sub": "555057896106", "nonce": "n-0S6_WzA2Mj" }),
        );
        let jwt = decode(&token).unwrap();
        let printed = format!("{jwt:?} {jwt:#?}");
        let (input, signature) = token.rsplit_once('.').unwrap();
        assert!(!printed.contains(signature), "{printed}");
        assert!(!printed.contains(input), "{printed}");
        assert!(!printed.contains("n-0S6_WzA2Mj"), "{printed}");
        assert!(
            printed.contains("nonce") && printed.contains(RSA_KID),
            "{printed}"
        );
    }

    /// Found by the differential tests: openidconnect refuses these and careid accepted them.
    #[test]
    fn a_typ_other_than_jwt_is_another_kind_of_token() {
        for typ in ["JWT", "jwt", "application/jwt", "Application/JWT"] {
            let token = sign(
                &json!({ "alg": "RS256", "kid": RSA_KID, "typ": typ }),
                &claims(),
            );
            check(&token, &[JwsAlgorithm::Rs256], None).unwrap_or_else(|e| panic!("{typ}: {e}"));
        }
        for typ in ["at+jwt", "logout+jwt", "JOSE", "application/", ""] {
            let token = sign(
                &json!({ "alg": "RS256", "kid": RSA_KID, "typ": typ }),
                &claims(),
            );
            let error = check(&token, &[JwsAlgorithm::Rs256], None).unwrap_err();
            assert_eq!(error.code(), "jws_wrong_type", "{typ}");
        }
    }

    #[test]
    fn nested_and_unencoded_token_headers_are_refused() {
        for (member, value) in [
            ("cty", json!("JWT")),
            ("cty", json!("json")),
            ("b64", json!(false)),
        ] {
            let mut header = json!({ "alg": "RS256", "kid": RSA_KID });
            header[member] = value;
            let error = check(&sign(&header, &claims()), &[JwsAlgorithm::Rs256], None).unwrap_err();
            assert_eq!(error.code(), "jws_header_unsupported", "{member}");
            assert!(error.to_string().contains(member));
        }
    }

    #[test]
    fn repeated_member_names_are_refused() {
        let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let part = |text: &str| URL_SAFE_NO_PAD.encode(text);
        let error = |token: String| decode(&token).unwrap_err().to_string();
        let header = part(&format!(
            r#"{{"alg":"none","kid":"{RSA_KID}","alg":"RS256"}}"#
        ));
        assert!(error(format!("{header}.{}.{}", parts[1], parts[2])).contains("header repeats"));
        for payload in [
            r#"{"sub":"1","aud":"client","aud":"other"}"#,
            r#"{"sub":"1","events":{"a":{},"a":{}}}"#,
            r#"{"sub":"1","list":[{"x":1,"x":2}]}"#,
        ] {
            let token = format!("{}.{}.{}", parts[0], part(payload), parts[2]);
            assert!(error(token).contains("payload repeats"), "{payload}");
        }
        // The same names in different objects are not repeats.
        let payload = part(r#"{"sub":"1","a":{"sub":"2"},"b":[{"sub":"3"}]}"#);
        assert!(decode(&format!("{}.{payload}.{}", parts[0], parts[2])).is_ok());
    }

    #[test]
    fn without_a_kid_several_fitting_keys_are_refused() {
        let keys = keys();
        let two = JsonWebKeySet::from_value(&json!({ "keys": [
            rsa_jwk(&keys.rsa, "rsa-old"), rsa_jwk(&keys.rsa, "rsa-new"),
            ec_jwk(&keys.ec256, "P-256", EC256_KID),
        ]}))
        .unwrap();
        let verify_with = |header: Value| {
            verify(
                &decode(&sign(&header, &claims())).unwrap(),
                &two,
                &[JwsAlgorithm::Rs256, JwsAlgorithm::Es256],
                None,
            )
        };
        let error = verify_with(json!({ "alg": "RS256" })).unwrap_err();
        assert_eq!(error.code(), "jws_kid_required");
        verify_with(json!({ "alg": "RS256", "kid": "rsa-new" })).unwrap();
        // One key of the algorithm's kind: no kid needed.
        verify_with(json!({ "alg": "ES256" })).unwrap();
    }

    #[test]
    fn key_sets_keep_only_usable_signing_keys() {
        let keys = keys();
        let mut enc = rsa_jwk(&keys.rsa, "enc-key");
        enc["use"] = json!("enc");
        let mut wrap = rsa_jwk(&keys.rsa, "wrap-key");
        wrap["key_ops"] = json!(["wrapKey"]);
        let mut padded = rsa_jwk(&keys.rsa, "padded");
        padded["e"] = json!("AQAB=");
        let mut bad_point = ec_jwk(&keys.ec256, "P-256", "off-curve");
        bad_point["y"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
        let short = json!({ "kty": "RSA", "kid": "rsa-1024", "n": URL_SAFE_NO_PAD.encode([0xc5u8; 128]), "e": "AQAB" });
        let document = json!({ "keys": [
            rsa_jwk(&keys.rsa, RSA_KID),
            enc,
            wrap,
            padded,
            short,
            bad_point,
            { "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
            { "kty": "oct", "kid": "sym", "k": "c2VjcmV0" },
            { "kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA" },
            { "kty": "RSA", "kid": "no-n", "e": "AQAB" },
            { "kty": 3 },
            "not an object",
            ec_jwk(&keys.ec256, "P-256", EC256_KID),
            ec_jwk(&keys.ec384, "P-256", "wrong-curve-length"),
        ]});
        let set = JsonWebKeySet::from_json(&document.to_string()).unwrap();
        assert_eq!(set.kids(), [RSA_KID, EC256_KID]);
        assert_eq!(set.len(), 2);
        assert!(!set.is_empty());
        let printed = format!("{set:?}");
        assert!(
            printed.contains(RSA_KID)
                && !printed.contains(document["keys"][0]["n"].as_str().unwrap()),
            "{printed}"
        );
    }

    #[test]
    fn a_document_that_is_not_a_key_set_is_an_error() {
        for text in ["not json", "[]", "{}", r#"{"keys": {}}"#] {
            let error = JsonWebKeySet::from_json(text).unwrap_err();
            assert_eq!(error.code(), "jwks_malformed", "{text}");
        }
        let empty = JsonWebKeySet::from_json(r#"{"keys": []}"#).unwrap();
        assert!(empty.is_empty());
        let token = sign(&json!({ "alg": "RS256" }), &claims());
        let error = verify(
            &decode(&token).unwrap(),
            &empty,
            &[JwsAlgorithm::Rs256],
            None,
        )
        .unwrap_err();
        assert_eq!(error.code(), "jws_no_matching_key");
    }
}
