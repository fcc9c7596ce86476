//! Client assertions: `client_secret_jwt` and `private_key_jwt` (RFC 7523 §2.2 and §3, RFC 7521
//! §4.2, OpenID Connect Core 1.0 §9) checked by CIS2's rules: `iss` = `sub` = client id, `aud`
//! equal to the published token endpoint string, a single-use `jti`, a lifetime under 30 minutes,
//! a `kid` found in the client's keys, and an algorithm that belongs to the registered method.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{
    RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA512,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::clients::{ClientAuthMethod, RegisteredClient};
use crate::store::UnixTime;

/// RFC 7523 §2.2: the only assertion type a token endpoint accepts for client authentication.
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// CIS2 answers every refused assertion with this one description (REFERENCE §3 and §10).
pub(crate) const NOT_VALID: &str = "JWT is not valid";

/// CIS2 refuses assertions that live 30 minutes or more.
const MAX_LIFETIME: u64 = 30 * 60;

/// Clock skew tolerated for `iat` and `nbf` set slightly ahead by the client's clock.
const SKEW: u64 = 60;

/// Why an assertion was refused. CIS2 gives the client no detail, so the reason is only logged
/// and checked by unit tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flaw {
    Malformed,
    AlgorithmNotForMethod,
    UnknownKid,
    KeysUnavailable,
    BadSignature,
    IssuerOrSubjectNotClient,
    WrongAudience,
    MissingExpiry,
    Expired,
    NotYetValid,
    LivesTooLong,
    MissingJti,
    ReusedJti,
}

/// A compact JWS split into what the checks need; nothing in it is trusted yet.
#[derive(Debug)]
pub(crate) struct Assertion {
    header: Value,
    claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Assertion {
    pub fn parse(text: &str) -> Result<Self, Flaw> {
        let mut parts = text.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Flaw::Malformed);
        };
        let json = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                .filter(Value::is_object)
                .ok_or(Flaw::Malformed)
        };
        Ok(Self {
            header: json(header)?,
            claims: json(claims)?,
            signing_input: format!("{header}.{claims}"),
            signature: URL_SAFE_NO_PAD
                .decode(signature)
                .map_err(|_| Flaw::Malformed)?,
        })
    }

    /// The client the assertion claims to come from, used only to find its registration.
    pub fn claimed_issuer(&self) -> Option<&str> {
        self.claims["iss"].as_str()
    }

    fn alg(&self) -> Option<&str> {
        self.header["alg"].as_str()
    }
}

/// Every `jti` accepted, per client, kept until its assertion expires so a replay is refused.
#[derive(Debug, Default)]
pub(crate) struct SeenJtis(Mutex<HashMap<(String, String), UnixTime>>);

impl SeenJtis {
    /// Records the `jti`; false when it is already recorded and not yet expired.
    fn remember(&self, client_id: &str, jti: &str, expires_at: UnixTime, now: UnixTime) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (client_id.to_owned(), jti.to_owned());
        match seen.get(&key) {
            Some(&until) if until >= now => false,
            _ => {
                seen.insert(key, expires_at);
                true
            }
        }
    }

    pub fn sweep(&self, now: UnixTime) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until >= now);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// The JWK Set to check a `private_key_jwt` client's assertion against: inline, or fetched from
/// its `jwks_uri` at every assertion so a client's own key rotation is seen at once.
pub(crate) async fn client_keys(
    client: &RegisteredClient,
    http: &reqwest::Client,
) -> Result<Option<Value>, Flaw> {
    if let Some(jwks) = &client.jwks {
        return Ok(Some(jwks.clone()));
    }
    let Some(uri) = &client.jwks_uri else {
        return Ok(None);
    };
    let response = http
        .get(uri)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| {
            tracing::warn!(%error, uri, "cannot fetch a client's jwks_uri");
            Flaw::KeysUnavailable
        })?;
    response.json().await.map(Some).map_err(|error| {
        tracing::warn!(%error, uri, "a client's jwks_uri is not a JWK Set");
        Flaw::KeysUnavailable
    })
}

/// Checks an assertion for `client`. The `jti` is recorded only once everything else passed, so
/// a refused assertion does not spend it.
pub(crate) fn verify(
    assertion: &Assertion,
    client: &RegisteredClient,
    keys: Option<&Value>,
    token_endpoint: &str,
    seen: &SeenJtis,
    now: UnixTime,
) -> Result<(), Flaw> {
    check_signature(assertion, client, keys)?;
    let claims = &assertion.claims;
    let is_client = |name: &str| claims[name].as_str() == Some(client.client_id.as_str());
    if !is_client("iss") || !is_client("sub") {
        return Err(Flaw::IssuerOrSubjectNotClient);
    }
    // The exact published string: CIS2 refuses a normalised URL (the `:443` trap).
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == token_endpoint,
        Value::Array(auds) => auds.iter().any(|aud| aud.as_str() == Some(token_endpoint)),
        _ => false,
    };
    if !audience_ok {
        return Err(Flaw::WrongAudience);
    }
    let exp = claims["exp"].as_u64().ok_or(Flaw::MissingExpiry)?;
    if exp <= now {
        return Err(Flaw::Expired);
    }
    let iat = claims["iat"].as_u64();
    if iat.is_some_and(|iat| iat > now + SKEW)
        || claims["nbf"].as_u64().is_some_and(|nbf| nbf > now + SKEW)
    {
        return Err(Flaw::NotYetValid);
    }
    if exp - iat.unwrap_or(now).min(exp) >= MAX_LIFETIME {
        return Err(Flaw::LivesTooLong);
    }
    let jti = claims["jti"]
        .as_str()
        .filter(|jti| !jti.is_empty())
        .ok_or(Flaw::MissingJti)?;
    if !seen.remember(&client.client_id, jti, exp, now) {
        return Err(Flaw::ReusedJti);
    }
    Ok(())
}

fn check_signature(
    assertion: &Assertion,
    client: &RegisteredClient,
    keys: Option<&Value>,
) -> Result<(), Flaw> {
    let message = assertion.signing_input.as_bytes();
    let signature = &assertion.signature;
    match (client.token_endpoint_auth_method, assertion.alg()) {
        (ClientAuthMethod::ClientSecretJwt, Some(alg @ ("HS256" | "HS512"))) => {
            let secret = client.client_secret.as_deref().unwrap_or_default();
            let algorithm = if alg == "HS256" {
                hmac::HMAC_SHA256
            } else {
                hmac::HMAC_SHA512
            };
            hmac::verify(
                &hmac::Key::new(algorithm, secret.as_bytes()),
                message,
                signature,
            )
            .map_err(|_| Flaw::BadSignature)
        }
        (ClientAuthMethod::PrivateKeyJwt, Some(alg @ ("RS256" | "RS512"))) => {
            let kid = assertion.header["kid"].as_str().ok_or(Flaw::UnknownKid)?;
            let jwk = keys
                .and_then(|keys| keys["keys"].as_array())
                .into_iter()
                .flatten()
                .find(|jwk| {
                    jwk["kid"].as_str() == Some(kid)
                        && jwk["kty"].as_str() == Some("RSA")
                        && jwk["use"].as_str().is_none_or(|usage| usage == "sig")
                })
                .ok_or(Flaw::UnknownKid)?;
            // A key registered for one algorithm must not verify another (RFC 7517 §4.4).
            if jwk["alg"].as_str().is_some_and(|key_alg| key_alg != alg) {
                return Err(Flaw::AlgorithmNotForMethod);
            }
            let component = |name: &str| {
                jwk[name]
                    .as_str()
                    .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
                    .ok_or(Flaw::UnknownKid)
            };
            let public = RsaPublicKeyComponents {
                n: component("n")?,
                e: component("e")?,
            };
            let parameters = if alg == "RS256" {
                &RSA_PKCS1_2048_8192_SHA256
            } else {
                &RSA_PKCS1_2048_8192_SHA512
            };
            public
                .verify(parameters, message, signature)
                .map_err(|_| Flaw::BadSignature)
        }
        _ => Err(Flaw::AlgorithmNotForMethod),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENDPOINT: &str = "http://localhost:1/realm/access_token";
    const NOW: u64 = 1_750_000_000;

    fn client() -> RegisteredClient {
        crate::clients::ClientRegistry::builtin()
            .get("555000000004.apps.supplier")
            .expect("the client_secret_jwt client")
            .clone()
    }

    fn hs256(client: &RegisteredClient, claims: &Value) -> String {
        hs256_with(client.client_secret.as_deref().unwrap(), claims)
    }

    fn hs256_with(secret: &str, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{body}");
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let tag = hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    fn claims(changes: &[(&str, Value)]) -> Value {
        let id = client().client_id;
        let mut claims = json!({
            "iss": id, "sub": id, "aud": ENDPOINT, "jti": "jti-1",
            "iat": NOW, "exp": NOW + 300,
        });
        for (name, value) in changes {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(*name);
            } else {
                claims[*name] = value.clone();
            }
        }
        claims
    }

    #[test]
    fn each_cis2_rule_refuses_for_its_own_reason() {
        type Case<'a> = (&'a str, &'a [(&'a str, Value)], Result<(), Flaw>);
        let cases: &[Case<'_>] = &[
            ("valid", &[], Ok(())),
            (
                "lifetime_exactly_30_minutes",
                &[("exp", json!(NOW + 1800))],
                Err(Flaw::LivesTooLong),
            ),
            (
                "lifetime_just_under_30_minutes",
                &[("exp", json!(NOW + 1799))],
                Ok(()),
            ),
            (
                "no_iat_counts_from_now",
                &[("iat", Value::Null), ("exp", json!(NOW + 3600))],
                Err(Flaw::LivesTooLong),
            ),
            (
                "expired",
                &[("iat", json!(NOW - 600)), ("exp", json!(NOW - 1))],
                Err(Flaw::Expired),
            ),
            ("no_exp", &[("exp", Value::Null)], Err(Flaw::MissingExpiry)),
            (
                "iat_in_the_future",
                &[("iat", json!(NOW + 600)), ("exp", json!(NOW + 900))],
                Err(Flaw::NotYetValid),
            ),
            (
                "iss_not_sub",
                &[("sub", json!("someone-else"))],
                Err(Flaw::IssuerOrSubjectNotClient),
            ),
            (
                "iss_another_client",
                &[("iss", json!("555000000001.apps.local"))],
                Err(Flaw::IssuerOrSubjectNotClient),
            ),
            (
                "aud_issuer",
                &[("aud", json!("http://localhost:1/realm"))],
                Err(Flaw::WrongAudience),
            ),
            (
                "aud_trailing_slash",
                &[("aud", json!(format!("{ENDPOINT}/")))],
                Err(Flaw::WrongAudience),
            ),
            (
                "aud_array_with_endpoint",
                &[("aud", json!([ENDPOINT]))],
                Ok(()),
            ),
            ("no_jti", &[("jti", Value::Null)], Err(Flaw::MissingJti)),
        ];
        for (name, changes, expected) in cases {
            let client = client();
            let assertion = Assertion::parse(&hs256(&client, &claims(changes))).unwrap();
            let seen = SeenJtis::default();
            assert_eq!(
                verify(&assertion, &client, None, ENDPOINT, &seen, NOW),
                *expected,
                "{name}"
            );
        }
    }

    #[test]
    fn a_jti_is_single_use_until_its_assertion_expires() {
        let client = client();
        let seen = SeenJtis::default();
        let assertion = Assertion::parse(&hs256(&client, &claims(&[]))).unwrap();
        assert_eq!(
            verify(&assertion, &client, None, ENDPOINT, &seen, NOW),
            Ok(())
        );
        assert_eq!(
            verify(&assertion, &client, None, ENDPOINT, &seen, NOW + 1),
            Err(Flaw::ReusedJti)
        );
        seen.sweep(NOW + 301);
        assert_eq!(seen.len(), 0, "swept once the assertion expired");
    }

    #[test]
    fn refused_assertions_do_not_spend_their_jti() {
        let client = client();
        let seen = SeenJtis::default();
        let wrong = Assertion::parse(&hs256(&client, &claims(&[("aud", json!("x"))]))).unwrap();
        assert_eq!(
            verify(&wrong, &client, None, ENDPOINT, &seen, NOW),
            Err(Flaw::WrongAudience)
        );
        assert_eq!(seen.len(), 0);
    }

    #[test]
    fn signature_and_algorithm_are_checked_first() {
        let client = client();
        let seen = SeenJtis::default();
        let token = hs256(&client, &claims(&[]));
        let forged = Assertion::parse(&hs256_with("another secret", &claims(&[]))).unwrap();
        assert_eq!(
            verify(&forged, &client, None, ENDPOINT, &seen, NOW),
            Err(Flaw::BadSignature)
        );
        let mut private_key_client = client.clone();
        private_key_client.token_endpoint_auth_method = ClientAuthMethod::PrivateKeyJwt;
        let assertion = Assertion::parse(&token).unwrap();
        assert_eq!(
            verify(&assertion, &private_key_client, None, ENDPOINT, &seen, NOW),
            Err(Flaw::AlgorithmNotForMethod)
        );
    }
}
