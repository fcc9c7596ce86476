//! JSON Web Signatures (RFC 7515) and the provider's key set (RFC 7517): decoding a compact JWS,
//! choosing the key, and checking the signature. Pure: the caller fetches the JWKS and refetches
//! it once on [`JoseError::is_unknown_kid`] (REFERENCE §5: keys rotate).
//!
//! The algorithm is never taken on the token's word alone: it must be on careid's allow-list,
//! advertised by discovery and, for HMAC, backed by a client secret. So `alg: none` and the
//! HS256-keyed-with-the-RSA-public-key confusion (RFC 8725 §2.1) both fail.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::signature::{
    self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents, VerificationAlgorithm,
};
use aws_lc_rs::{digest, hmac};
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
pub(crate) enum Curve {
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

    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
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

/// A public key: from the key set, a token's own header, or one of careid's private keys.
#[derive(Clone)]
pub(crate) enum PublicKey {
    /// Big-endian modulus without leading zeros, and exponent.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Parsed (and so checked to lie on the curve) when the key was read. Its bytes are the
    /// uncompressed point (SEC 1 §2.3.3): 0x04, then x and y.
    Ec { curve: Curve, key: ParsedPublicKey },
}

impl PublicKey {
    /// An RSA key from its big-endian modulus and exponent, leading zeros dropped (RFC 7518
    /// §6.3.1 writes them without), so a key has one JWK and one thumbprint however it came.
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Self {
        let significant = |bytes: &[u8]| {
            let first = bytes
                .iter()
                .position(|byte| *byte != 0)
                .unwrap_or(bytes.len());
            bytes[first..].to_vec()
        };
        PublicKey::Rsa {
            n: significant(n),
            e: significant(e),
        }
    }

    /// An EC key from its uncompressed point, or `None` when the point is not on `curve`.
    pub(crate) fn ec(curve: Curve, point: &[u8]) -> Option<Self> {
        let len = curve.coordinate_len();
        if point.len() != 1 + 2 * len || point[0] != 0x04 {
            return None;
        }
        let key = ParsedPublicKey::new(curve.verification(), point).ok()?;
        Some(PublicKey::Ec { curve, key })
    }

    /// RFC 7638 §3.2: the required public members, in lexicographic order of their names.
    /// Every value is base64url or a fixed name, so none needs JSON escaping.
    fn required_members(&self) -> Vec<(&'static str, String)> {
        match self {
            PublicKey::Rsa { n, e } => vec![
                ("e", URL_SAFE_NO_PAD.encode(e)),
                ("kty", "RSA".to_owned()),
                ("n", URL_SAFE_NO_PAD.encode(n)),
            ],
            PublicKey::Ec { curve, key } => {
                let (x, y) = key.as_ref()[1..].split_at(curve.coordinate_len());
                vec![
                    ("crv", curve.name().to_owned()),
                    ("kty", "EC".to_owned()),
                    ("x", URL_SAFE_NO_PAD.encode(x)),
                    ("y", URL_SAFE_NO_PAD.encode(y)),
                ]
            }
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order with
    /// no whitespace, base64url without padding.
    pub(crate) fn thumbprint(&self) -> JwkThumbprint {
        let members: Vec<String> = self
            .required_members()
            .into_iter()
            .map(|(name, value)| format!(r#""{name}":"{value}""#))
            .collect();
        let input = format!("{{{}}}", members.join(","));
        JwkThumbprint(URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, input.as_bytes())))
    }

    /// The public key as a JWK (RFC 7517) of its required members only: never a private one.
    pub(crate) fn to_jwk(&self) -> Map<String, Value> {
        self.required_members()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::String(value)))
            .collect()
    }
}

/// An RFC 7638 JWK thumbprint (SHA-256, base64url): the key id careid gives its own keys by
/// default, and the `jkt` a DPoP-bound token is bound to (RFC 9449 §6).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct JwkThumbprint(String);

impl JwkThumbprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JwkThumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone)]
pub(crate) struct Jwk {
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

    /// The RFC 7638 thumbprint of the key.
    pub(crate) fn thumbprint(&self) -> JwkThumbprint {
        self.key.thumbprint()
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
pub(crate) fn read_jwk(value: &Value) -> Option<Jwk> {
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
            let key = PublicKey::rsa(&bytes("n")?, &bytes("e")?);
            let PublicKey::Rsa { n, e } = &key else {
                return None;
            };
            let bits = n
                .first()
                .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) || e.is_empty() {
                return None;
            }
            key
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
            PublicKey::ec(curve, &point)?
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
    /// Every header member, for a token type that reads more than [`JwsHeader`] holds (a DPoP
    /// proof's `jwk`).
    header_members: Map<String, Value>,
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
    let jws_header = JwsHeader {
        alg: text("alg", "the header's alg is not a string")?
            .ok_or(JoseError::Malformed("the header has no alg"))?,
        kid: text("kid", "the header's kid is not a string")?,
        typ: text("typ", "the header's typ is not a string")?,
    };
    Ok(DecodedJwt {
        header: jws_header,
        claims,
        header_members: header,
        signing_input: format!("{header_part}.{payload_part}"),
        signature,
    })
}

impl DecodedJwt {
    /// A header member by name.
    pub(crate) fn header_member(&self, name: &str) -> Option<&Value> {
        self.header_members.get(name)
    }
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
    let alg = permitted_algorithm(jwt, allowed, hmac_secret.is_some())?;
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

/// The algorithm `jwt`'s header names, when it is in `allowed`: never `none`, and HMAC only
/// when the caller has the secret to key it with.
pub(crate) fn permitted_algorithm(
    jwt: &DecodedJwt,
    allowed: &[JwsAlgorithm],
    has_hmac_secret: bool,
) -> Result<JwsAlgorithm, JoseError> {
    let usable: Vec<JwsAlgorithm> = allowed
        .iter()
        .copied()
        .filter(|alg| has_hmac_secret || !alg.is_hmac())
        .collect();
    let name = jwt.header.alg.as_str();
    if name.eq_ignore_ascii_case("none") {
        return Err(JoseError::AlgNone);
    }
    JwsAlgorithm::from_str(name)
        .ok()
        .filter(|alg| usable.contains(alg))
        .ok_or_else(|| JoseError::AlgNotAllowed {
            alg: shown(name),
            allowed: usable
                .iter()
                .map(|alg| alg.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Checks `jwt`'s signature with `key`, one the caller already chose (a DPoP proof carries its
/// own), for `alg` from [`permitted_algorithm`]. A key that does not fit `alg` (an EC key for
/// RS256, an HMAC algorithm for any key) is [`JoseError::NoMatchingKey`].
pub(crate) fn verify_with_key(
    jwt: &DecodedJwt,
    alg: JwsAlgorithm,
    key: &Jwk,
) -> Result<(), JoseError> {
    if !key.fits(alg) {
        return Err(JoseError::NoMatchingKey { alg: alg.as_str() });
    }
    if key.verifies(alg, jwt.signing_input.as_bytes(), &jwt.signature) {
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

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;
