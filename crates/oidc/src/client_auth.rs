//! Client authentication at the token, revocation and introspection endpoints: what to add to a
//! request for `client_secret_basic` (RFC 6749 §2.3.1), `client_secret_post`, `client_secret_jwt`
//! and `private_key_jwt` (OpenID Connect Core 1.0 §9, RFC 7523 §2.2 and §3, CIS2's rules in
//! REFERENCE §3), and `none`. It sends nothing itself: the caller adds the result to its request.
//!
//! The assertion's `aud` is the token endpoint string exactly as discovery published it. CIS2
//! compares it byte for byte and publishes it with `:443`, which URL types drop, so the endpoint
//! is taken as a `&str` and never parsed here.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::discovery::IssuerKind;
pub use crate::private_key::PrivateKey;
use crate::secret::{ClientSecret, SecretString};
use crate::values::ClientId;

/// How the client authenticates at the token endpoint (OpenID Connect Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// A public client: not CIS2 behaviour, for providers that allow it.
    None,
    ClientSecretBasic,
    ClientSecretPost,
    ClientSecretJwt,
    PrivateKeyJwt,
}

impl ClientAuth {
    pub const ALL: [ClientAuth; 5] = [
        ClientAuth::None,
        ClientAuth::ClientSecretBasic,
        ClientAuth::ClientSecretPost,
        ClientAuth::ClientSecretJwt,
        ClientAuth::PrivateKeyJwt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::ClientSecretBasic => "client_secret_basic",
            ClientAuth::ClientSecretPost => "client_secret_post",
            ClientAuth::ClientSecretJwt => "client_secret_jwt",
            ClientAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// What the keychain must hold for this method, if anything.
    pub fn credential(self) -> Option<Credential> {
        match self {
            ClientAuth::None => None,
            ClientAuth::PrivateKeyJwt => Some(Credential::PrivateKey),
            _ => Some(Credential::ClientSecret),
        }
    }
}

impl FromStr for ClientAuth {
    type Err = UnknownClientAuth;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|method| method.as_str() == text)
            .ok_or_else(|| UnknownClientAuth(text.to_owned()))
    }
}

/// A client authentication method careid does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown client authentication {0:?}; use one of {list}", list = ClientAuth::ALL.map(ClientAuth::as_str).join(", "))]
pub struct UnknownClientAuth(pub String);

/// The secret a client authentication method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    ClientSecret,
    PrivateKey,
}

/// How long a client assertion lives. CIS2 rejects assertions that live 30 minutes or more
/// (REFERENCE §3); five minutes covers a slow token request and a little clock skew.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// RFC 7523 §2.2: the `client_assertion_type` for a JWT client assertion.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Bytes of randomness in an assertion's `jti`: 128 bits cannot collide in practice, so the
/// provider's replay check never refuses a fresh assertion.
const JTI_BYTES: usize = 16;

/// The JWS algorithm of a `private_key_jwt` assertion (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the default for RSA keys, and what CIS2 expects unless
    /// the client registered RS512.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// ECDSA P-256 with SHA-256: for providers other than CIS2, which registers RS256 or RS512
    /// only.
    Es256,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 3] = [
        SigningAlgorithm::Rs256,
        SigningAlgorithm::Rs512,
        SigningAlgorithm::Es256,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Rs512 => "RS512",
            SigningAlgorithm::Es256 => "ES256",
        }
    }
}

impl FromStr for SigningAlgorithm {
    type Err = ClientAuthError;

    /// Names are case-sensitive, as in a JWS header (RFC 7515 §4.1.1).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == name)
            .ok_or(ClientAuthError::UnknownAlgorithm)
    }
}

/// The `private_key_jwt` assertion algorithms CIS2 registers (REFERENCE §2 and §3).
pub const CIS2_ASSERTION_ALGORITHMS: [SigningAlgorithm; 2] =
    [SigningAlgorithm::Rs256, SigningAlgorithm::Rs512];

/// CIS2's rule for client assertions, in one place: a `private_key_jwt` assertion for a CIS2
/// issuer ([`IssuerKind::Cis2`]) is signed RS256 or RS512, so an ES256 assertion, and with it an
/// EC key, is refused before the provider answers `invalid_client`. Other issuers take every
/// [`SigningAlgorithm`].
pub fn check_assertion_algorithm(
    algorithm: SigningAlgorithm,
    issuer: IssuerKind,
) -> Result<(), ClientAuthError> {
    if issuer == IssuerKind::Cis2 && !CIS2_ASSERTION_ALGORITHMS.contains(&algorithm) {
        return Err(ClientAuthError::NotForCis2 {
            algorithm: algorithm.as_str(),
        });
    }
    Ok(())
}

/// The JWS algorithm of a `client_secret_jwt` assertion (RFC 7518 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HmacAlgorithm {
    #[default]
    Hs256,
    Hs512,
}

impl HmacAlgorithm {
    pub const ALL: [HmacAlgorithm; 2] = [HmacAlgorithm::Hs256, HmacAlgorithm::Hs512];

    pub fn as_str(self) -> &'static str {
        match self {
            HmacAlgorithm::Hs256 => "HS256",
            HmacAlgorithm::Hs512 => "HS512",
        }
    }

    fn aws(self) -> hmac::Algorithm {
        match self {
            HmacAlgorithm::Hs256 => hmac::HMAC_SHA256,
            HmacAlgorithm::Hs512 => hmac::HMAC_SHA512,
        }
    }
}

/// What the client authenticates with, read from the keychain. Deliberately neither `Clone` nor
/// `Serialize`, and its `Debug` shows no secret or key material.
pub enum ClientCredential {
    /// No credential: the `none` method.
    None,
    /// A client secret, for `client_secret_basic`, `client_secret_post` and `client_secret_jwt`.
    Secret(ClientSecret),
    /// A private key, for `private_key_jwt`.
    PrivateKey(PrivateKey),
}

impl ClientCredential {
    fn kind(&self) -> &'static str {
        match self {
            ClientCredential::None => "no credential",
            ClientCredential::Secret(_) => "a client secret",
            ClientCredential::PrivateKey(_) => "a private key",
        }
    }
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientCredential::None => f.write_str("None"),
            ClientCredential::Secret(secret) => f.debug_tuple("Secret").field(secret).finish(),
            ClientCredential::PrivateKey(key) => f.debug_tuple("PrivateKey").field(key).finish(),
        }
    }
}

/// A form field's value: the client id is public, secrets and assertions are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    Public(String),
    Secret(SecretString),
}

impl FormValue {
    /// The value to send: call only where the request is built.
    pub fn expose(&self) -> &str {
        match self {
            FormValue::Public(value) => value,
            FormValue::Secret(secret) => secret.expose_secret(),
        }
    }
}

/// What to add to a token, revocation or introspection request. Not `Clone`: an assertion
/// carries a single-use `jti`, so build a fresh one for every request.
#[derive(Debug)]
pub struct ClientAuthentication {
    /// The whole `Authorization` header value (`Basic ...`) for `client_secret_basic`.
    pub basic_authorization: Option<SecretString>,
    /// Fields to add to the `application/x-www-form-urlencoded` body.
    pub form: Vec<(&'static str, FormValue)>,
}

impl ClientAuthentication {
    /// The form fields as plain pairs, for an HTTP client's form builder.
    pub fn form_pairs(&self) -> Vec<(&'static str, &str)> {
        self.form
            .iter()
            .map(|(name, value)| (*name, value.expose()))
            .collect()
    }
}

/// The methods a provider takes at its token endpoint: what its discovery lists in
/// `token_endpoint_auth_methods_supported`, or `client_secret_basic` alone when it lists none
/// (the default of OpenID Connect Discovery 1.0 §3).
pub fn token_endpoint_methods(advertised: Option<&[String]>) -> Vec<String> {
    advertised.map_or_else(
        || vec![ClientAuth::ClientSecretBasic.as_str().to_owned()],
        <[String]>::to_vec,
    )
}

/// `method` is one the provider takes at its token endpoint ([`token_endpoint_methods`]), so a
/// sign-in with another is refused before the user signs in, not answered `invalid_client`
/// after.
pub fn check_token_endpoint_method(
    method: ClientAuth,
    advertised: Option<&[String]>,
) -> Result<(), MethodNotOffered> {
    let offered = token_endpoint_methods(advertised);
    if offered.iter().any(|name| name == method.as_str()) {
        return Ok(());
    }
    Err(MethodNotOffered {
        method,
        offered,
        listed: advertised.is_some(),
    })
}

/// The profile's client authentication method is not one the provider takes at its token
/// endpoint. The message names what it takes, cleaned and capped (they are the provider's words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the provider does not take {} at its token endpoint: {}; choose one of those as the \
     profile's client authentication",
    .method.as_str(),
    offered_words(.offered, *.listed)
)]
pub struct MethodNotOffered {
    pub method: ClientAuth,
    /// What the provider takes, as its discovery lists it (or the default).
    pub offered: Vec<String>,
    /// Whether discovery lists the methods; when not, the default applies.
    pub listed: bool,
}

fn offered_words(offered: &[String], listed: bool) -> String {
    if !listed {
        return "its discovery lists no token_endpoint_auth_methods_supported, which means \
                client_secret_basic only (OpenID Connect Discovery 1.0)"
            .to_owned();
    }
    if offered.is_empty() {
        return "its discovery lists no method in token_endpoint_auth_methods_supported".to_owned();
    }
    let shown: Vec<String> = offered
        .iter()
        .take(10)
        .map(|name| crate::http::clean_text(name, 40))
        .collect();
    format!(
        "its discovery lists {} (token_endpoint_auth_methods_supported)",
        shown.join(", ")
    )
}

/// The method for an endpoint that publishes its own list (RFC 8414's
/// `revocation_endpoint_auth_methods_supported`): the profile's own when the list names it or
/// when there is no list; else the first the profile's credential can do (a client secret serves
/// `client_secret_basic`, `client_secret_post` and `client_secret_jwt`), so a provider that
/// takes only the secret at revocation gets it rather than a JWT assertion; else the profile's
/// own, and the provider's answer says the rest.
pub fn method_for_endpoint(configured: ClientAuth, advertised: Option<&[String]>) -> ClientAuth {
    let Some(advertised) = advertised else {
        return configured;
    };
    let listed = |method: ClientAuth| advertised.iter().any(|name| name == method.as_str());
    if listed(configured) {
        return configured;
    }
    let alternatives: &[ClientAuth] = match configured.credential() {
        Some(Credential::ClientSecret) => &[
            ClientAuth::ClientSecretBasic,
            ClientAuth::ClientSecretPost,
            ClientAuth::ClientSecretJwt,
        ],
        Some(Credential::PrivateKey) | None => &[],
    };
    alternatives
        .iter()
        .copied()
        .find(|method| listed(*method))
        .unwrap_or(configured)
}

/// Client authentication for `method`, with an HS256 assertion for `client_secret_jwt`. See
/// [`authenticate_with`].
pub fn authenticate(
    method: ClientAuth,
    client_id: &ClientId,
    credential: &ClientCredential,
    token_endpoint: &str,
    now: SystemTime,
) -> Result<ClientAuthentication, ClientAuthError> {
    authenticate_with(
        method,
        client_id,
        credential,
        token_endpoint,
        now,
        HmacAlgorithm::default(),
    )
}

/// Client authentication for `method` with `credential`, for a request to any of the provider's
/// endpoints. `token_endpoint` is the assertion's `aud`, exactly as discovery published it: RFC
/// 7523 §3 and CIS2 use the token endpoint even when the request goes to revocation or
/// introspection. `client_secret_jwt` assertions use `hmac_algorithm`; `private_key_jwt` assertions use the
/// key's own algorithm. A credential that does not fit the method is an error, not ignored, so a
/// misconfigured profile is noticed before the provider answers `invalid_client`.
pub fn authenticate_with(
    method: ClientAuth,
    client_id: &ClientId,
    credential: &ClientCredential,
    token_endpoint: &str,
    now: SystemTime,
    hmac_algorithm: HmacAlgorithm,
) -> Result<ClientAuthentication, ClientAuthError> {
    let client_id_field = ("client_id", FormValue::Public(client_id.to_string()));
    let mismatch = |expected: &'static str| ClientAuthError::CredentialMismatch {
        method: method.as_str(),
        expected,
        given: credential.kind(),
    };
    match (method, credential) {
        (ClientAuth::None, ClientCredential::None) => Ok(ClientAuthentication {
            basic_authorization: None,
            form: vec![client_id_field],
        }),
        (ClientAuth::None, _) => Err(mismatch("no credential")),
        (
            ClientAuth::ClientSecretBasic
            | ClientAuth::ClientSecretPost
            | ClientAuth::ClientSecretJwt,
            ClientCredential::Secret(secret),
        ) => {
            if secret.expose_secret().is_empty() {
                return Err(ClientAuthError::MissingCredential {
                    method: method.as_str(),
                    expected: "a client secret",
                });
            }
            match method {
                ClientAuth::ClientSecretBasic => Ok(ClientAuthentication {
                    basic_authorization: Some(basic_authorization(client_id, secret)),
                    form: Vec::new(),
                }),
                ClientAuth::ClientSecretPost => Ok(ClientAuthentication {
                    basic_authorization: None,
                    form: vec![
                        client_id_field,
                        (
                            "client_secret",
                            FormValue::Secret(secret.clone().into_secret()),
                        ),
                    ],
                }),
                _ => {
                    let header = JwsHeader {
                        alg: hmac_algorithm.as_str(),
                        typ: "JWT",
                        kid: None,
                    };
                    let assertion = sign_assertion(&header, client_id, token_endpoint, now, |m| {
                        let key =
                            hmac::Key::new(hmac_algorithm.aws(), secret.expose_secret().as_bytes());
                        Ok(hmac::sign(&key, m).as_ref().to_vec())
                    })?;
                    Ok(assertion_form(client_id_field, assertion))
                }
            }
        }
        (ClientAuth::PrivateKeyJwt, ClientCredential::PrivateKey(key)) => {
            let header = JwsHeader {
                alg: key.algorithm().as_str(),
                typ: "JWT",
                kid: Some(key.kid()),
            };
            let assertion =
                sign_assertion(&header, client_id, token_endpoint, now, |m| key.sign(m))?;
            Ok(assertion_form(client_id_field, assertion))
        }
        (ClientAuth::PrivateKeyJwt, ClientCredential::None) => {
            Err(ClientAuthError::MissingCredential {
                method: method.as_str(),
                expected: "a private key",
            })
        }
        (ClientAuth::PrivateKeyJwt, ClientCredential::Secret(_)) => Err(mismatch("a private key")),
        (_, ClientCredential::None) => Err(ClientAuthError::MissingCredential {
            method: method.as_str(),
            expected: "a client secret",
        }),
        (_, _) => Err(mismatch("a client secret")),
    }
}

/// RFC 6749 §2.3.1: the client id and secret are each form-urlencoded (Appendix B) before they
/// are joined with `:` and base64-encoded, so a `:` in the client id stays unambiguous.
fn basic_authorization(client_id: &ClientId, secret: &ClientSecret) -> SecretString {
    let encode = |text: &str| -> Zeroizing<String> {
        Zeroizing::new(url::form_urlencoded::byte_serialize(text.as_bytes()).collect())
    };
    let credentials = Zeroizing::new(format!(
        "{}:{}",
        encode(client_id.as_str()).as_str(),
        encode(secret.expose_secret()).as_str()
    ));
    SecretString::new(format!("Basic {}", STANDARD.encode(credentials.as_bytes())))
}

fn assertion_form(
    client_id_field: (&'static str, FormValue),
    assertion: SecretString,
) -> ClientAuthentication {
    // RFC 7523 §3 makes `client_id` optional next to an assertion; CIS2's integrations send it,
    // and it lets the provider find the client before it parses the JWT.
    ClientAuthentication {
        basic_authorization: None,
        form: vec![
            client_id_field,
            (
                "client_assertion_type",
                FormValue::Public(CLIENT_ASSERTION_TYPE.to_owned()),
            ),
            ("client_assertion", FormValue::Secret(assertion)),
        ],
    }
}

#[derive(Serialize)]
struct JwsHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// RFC 7523 §3 with CIS2's rules: `iss` = `sub` = client id, `aud` the token endpoint string,
/// a fresh `jti`, `exp` five minutes after `iat`. No `nbf`: `iat` already says when it starts.
#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a ClientId,
    sub: &'a ClientId,
    aud: &'a str,
    jti: String,
    iat: u64,
    exp: u64,
}

fn sign_assertion(
    header: &JwsHeader<'_>,
    client_id: &ClientId,
    token_endpoint: &str,
    now: SystemTime,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, ClientAuthError>,
) -> Result<SecretString, ClientAuthError> {
    if token_endpoint.is_empty() {
        return Err(ClientAuthError::NoTokenEndpoint);
    }
    let iat = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| ClientAuthError::ClockBeforeEpoch)?
        .as_secs();
    let mut jti = [0u8; JTI_BYTES];
    SystemRandom::new()
        .fill(&mut jti)
        .map_err(|_| ClientAuthError::Signing)?;
    let claims = AssertionClaims {
        iss: client_id,
        sub: client_id,
        aud: token_endpoint,
        jti: URL_SAFE_NO_PAD.encode(jti),
        iat,
        exp: iat + ASSERTION_LIFETIME.as_secs(),
    };
    let header = serde_json::to_vec(header).map_err(|_| ClientAuthError::Signing)?;
    let claims = serde_json::to_vec(&claims).map_err(|_| ClientAuthError::Signing)?;
    // RFC 7515 §7.1: the signing input is the two base64url parts joined by a dot.
    let mut jwt = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = sign(jwt.as_bytes())?;
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(SecretString::new(jwt))
}

/// Why client authentication could not be prepared. Messages name the method and the problem,
/// never a secret or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAuthError {
    #[error("{method} needs {expected}, and none was given")]
    MissingCredential {
        method: &'static str,
        expected: &'static str,
    },
    #[error("{method} needs {expected}, but {given} was given")]
    CredentialMismatch {
        method: &'static str,
        expected: &'static str,
        given: &'static str,
    },
    #[error("the private key is encrypted; store it unencrypted (the keychain protects it), for example with `openssl pkcs8 -topk8 -nocrypt`")]
    EncryptedKey,
    #[error("not a usable PEM private key: {0}")]
    MalformedKey(&'static str),
    #[error("unsupported private key ({0}); use an RSA key in PKCS#8 or PKCS#1 PEM")]
    UnsupportedKey(String),
    #[error("{algorithm} cannot be used with {key} key")]
    AlgorithmMismatch {
        algorithm: &'static str,
        key: &'static str,
    },
    #[error("the assertion algorithm is not one of RS256, RS512 or ES256")]
    UnknownAlgorithm,
    #[error("CIS2 accepts private_key_jwt assertions signed RS256 or RS512 only, so {algorithm} cannot be used with a CIS2 issuer; use an RSA key")]
    NotForCis2 { algorithm: &'static str },
    #[error("no token endpoint to address the client assertion to")]
    NoTokenEndpoint,
    #[error("the system clock is set before 1970")]
    ClockBeforeEpoch,
    #[error("signing the client assertion failed")]
    Signing,
}

impl ClientAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            ClientAuthError::MissingCredential { .. } => "client_credential_missing",
            ClientAuthError::CredentialMismatch { .. } => "client_credential_mismatch",
            ClientAuthError::EncryptedKey => "private_key_encrypted",
            ClientAuthError::MalformedKey(_) => "private_key_malformed",
            ClientAuthError::UnsupportedKey(_) => "private_key_unsupported",
            ClientAuthError::AlgorithmMismatch { .. } => "signing_algorithm_mismatch",
            ClientAuthError::UnknownAlgorithm => "signing_algorithm_unknown",
            ClientAuthError::NotForCis2 { .. } => "signing_algorithm_not_for_cis2",
            ClientAuthError::NoTokenEndpoint => "token_endpoint_missing",
            ClientAuthError::ClockBeforeEpoch => "clock_invalid",
            ClientAuthError::Signing => "signing_failed",
        }
    }
}

#[cfg(test)]
mod endpoint_method_tests {
    use super::*;

    #[test]
    fn an_endpoint_gets_a_method_it_lists_that_the_credential_can_do() {
        use ClientAuth::{ClientSecretBasic, ClientSecretJwt, ClientSecretPost, PrivateKeyJwt};
        let list = |names: &[&str]| {
            names
                .iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>()
        };
        let cases: &[(ClientAuth, Option<Vec<String>>, ClientAuth)] = &[
            (ClientSecretJwt, None, ClientSecretJwt),
            (
                ClientSecretJwt,
                Some(list(&["client_secret_jwt", "client_secret_basic"])),
                ClientSecretJwt,
            ),
            (
                ClientSecretJwt,
                Some(list(&["client_secret_basic"])),
                ClientSecretBasic,
            ),
            (
                ClientSecretJwt,
                Some(list(&["client_secret_post"])),
                ClientSecretPost,
            ),
            (
                ClientSecretBasic,
                Some(list(&["client_secret_post", "client_secret_jwt"])),
                ClientSecretPost,
            ),
            (
                ClientSecretPost,
                Some(list(&["client_secret_jwt"])),
                ClientSecretJwt,
            ),
            // A private key can only sign: the provider's answer will say it is not taken.
            (
                PrivateKeyJwt,
                Some(list(&["client_secret_basic"])),
                PrivateKeyJwt,
            ),
            (
                PrivateKeyJwt,
                Some(list(&["private_key_jwt"])),
                PrivateKeyJwt,
            ),
            // Nothing the credential can do is listed (an empty list, an unknown name).
            (ClientSecretBasic, Some(list(&[])), ClientSecretBasic),
            (
                ClientSecretBasic,
                Some(list(&["tls_client_auth"])),
                ClientSecretBasic,
            ),
            (
                ClientAuth::None,
                Some(list(&["client_secret_basic"])),
                ClientAuth::None,
            ),
        ];
        for (configured, advertised, expected) in cases {
            assert_eq!(
                method_for_endpoint(*configured, advertised.as_deref()),
                *expected,
                "{configured:?} with {advertised:?}"
            );
        }
    }
}

#[cfg(test)]
mod token_endpoint_method_tests {
    use super::*;

    #[test]
    fn a_method_the_token_endpoint_does_not_take_is_named_with_those_it_does() {
        let listed = |names: &[&str]| names.iter().map(|&n| n.to_owned()).collect::<Vec<_>>();
        let cis2 = listed(&["client_secret_basic", "private_key_jwt"]);
        // The method, what discovery lists, and the words of the refusal.
        type Case<'a> = (ClientAuth, Option<&'a [String]>, Result<(), &'a str>);
        let cases: [Case<'_>; 6] = [
            (ClientAuth::PrivateKeyJwt, Some(&cis2), Ok(())),
            (
                ClientAuth::ClientSecretPost,
                Some(&cis2),
                Err("does not take client_secret_post at its token endpoint: its discovery lists client_secret_basic, private_key_jwt"),
            ),
            (
                ClientAuth::None,
                Some(&cis2),
                Err("does not take none"),
            ),
            (ClientAuth::ClientSecretBasic, None, Ok(())),
            (
                ClientAuth::PrivateKeyJwt,
                None,
                Err("lists no token_endpoint_auth_methods_supported, which means client_secret_basic only"),
            ),
            (
                ClientAuth::ClientSecretBasic,
                Some(&[]),
                Err("lists no method"),
            ),
        ];
        for (method, advertised, expected) in cases {
            let outcome = check_token_endpoint_method(method, advertised);
            match (expected, outcome) {
                (Ok(()), Ok(())) => {}
                (Err(words), Err(error)) => {
                    assert!(error.to_string().contains(words), "{method:?}: {error}")
                }
                (expected, outcome) => {
                    panic!("{method:?} {advertised:?}: {expected:?} {outcome:?}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assertion_lifetime_is_well_under_cis2s_limit() {
        assert!(ASSERTION_LIFETIME <= Duration::from_secs(5 * 60));
    }

    #[test]
    fn a_header_never_carries_an_empty_kid() {
        let header = JwsHeader {
            alg: "HS256",
            typ: "JWT",
            kid: None,
        };
        assert_eq!(
            serde_json::to_string(&header).unwrap(),
            r#"{"alg":"HS256","typ":"JWT"}"#
        );
    }

    #[test]
    fn a_clock_before_1970_is_an_error() {
        let credential = ClientCredential::Secret(ClientSecret::new("s".to_owned()));
        let error = authenticate(
            ClientAuth::ClientSecretJwt,
            &ClientId::new("client"),
            &credential,
            "https://op.example/token",
            UNIX_EPOCH - Duration::from_secs(1),
        )
        .unwrap_err();
        assert_eq!(error.code(), "clock_invalid");
    }

    #[test]
    fn an_assertion_needs_a_token_endpoint() {
        let credential = ClientCredential::Secret(ClientSecret::new("s".to_owned()));
        let error = authenticate(
            ClientAuth::ClientSecretJwt,
            &ClientId::new("client"),
            &credential,
            "",
            SystemTime::now(),
        )
        .unwrap_err();
        assert_eq!(error.code(), "token_endpoint_missing");
    }
}
