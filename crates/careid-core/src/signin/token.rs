//! Requests to the token and revocation endpoints (RFC 6749 §4.1.3 and §6, RFC 7009), with the
//! profile's client authentication, and reading their answers.

use std::time::Duration;

use serde::Deserialize;

use crate::discovery::ProviderMetadata;
use crate::http::{oauth_error, HttpResponse};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::signin::route::{Endpoint, Route};
use crate::signin::{Client, SignInError};
use crate::{authenticate_with, ClientCredential};

/// A token to revoke (RFC 7009 §2.1), which says its own `token_type_hint`.
#[derive(Debug, Clone)]
pub(crate) enum Revocable {
    Refresh(RefreshToken),
    Access(AccessToken),
}

impl Revocable {
    fn expose_secret(&self) -> &str {
        match self {
            Revocable::Refresh(token) => token.expose_secret(),
            Revocable::Access(token) => token.expose_secret(),
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            Revocable::Refresh(_) => "refresh_token",
            Revocable::Access(_) => "access_token",
        }
    }
}

/// What a successful token response carries. Tokens are secret; nothing here is logged.
#[derive(Debug)]
pub(crate) struct TokenResponse {
    pub access_token: AccessToken,
    pub id_token: Option<IdToken>,
    pub refresh_token: Option<RefreshToken>,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
}

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: String,
    token_type: String,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    scope: Option<String>,
}

/// The longest access-token lifetime careid believes (a day; CIS2's is an hour), so no
/// provider's number can push a time computation past what a clock can hold.
pub(crate) const MAX_EXPIRES_IN: u64 = 24 * 3_600;

/// `expires_in` (RFC 6749 §5.1) in seconds, capped at [`MAX_EXPIRES_IN`]. Some providers send a
/// string; a fraction is dropped; anything negative, not finite or not a number is ignored
/// rather than trusted, as if the provider had not said.
pub(crate) fn expires_in(value: &serde_json::Value) -> Option<u64> {
    let seconds = match value {
        serde_json::Value::Number(number) => number.as_u64().or_else(|| {
            number
                .as_f64()
                .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                // Saturates: 1e300 becomes u64::MAX, capped below.
                .map(|seconds| seconds as u64)
        }),
        serde_json::Value::String(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    }?;
    Some(seconds.min(MAX_EXPIRES_IN))
}

/// The longest a refresh waits between attempts, whatever `Retry-After` asks for.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

impl Client {
    /// Posts `form` to the token endpoint with client authentication and reads the answer.
    pub(crate) async fn token_request(
        &self,
        metadata: &ProviderMetadata,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, SignInError> {
        let route = self
            .route(metadata, Endpoint::Token)
            .await?
            .expect("there is always a token endpoint");
        let response = self
            .authenticated_post(metadata, &route, form, "token")
            .await?;
        if response.status != 200 {
            return Err(answer_error("token", &response));
        }
        let raw: RawTokenResponse = response.json().map_err(|_| SignInError::InvalidResponse {
            endpoint: "token",
            problem: "the body is not a token response (RFC 6749 §5.1)".into(),
        })?;
        if !raw.token_type.eq_ignore_ascii_case("bearer") {
            return Err(SignInError::InvalidResponse {
                endpoint: "token",
                problem: format!("token_type {:?} is not Bearer", raw.token_type),
            });
        }
        if raw.access_token.is_empty() {
            return Err(SignInError::InvalidResponse {
                endpoint: "token",
                problem: "the access token is empty".into(),
            });
        }
        let expires_in = raw.expires_in.as_ref().and_then(expires_in);
        Ok(TokenResponse {
            access_token: AccessToken::new(raw.access_token),
            id_token: raw.id_token.filter(|t| !t.is_empty()).map(IdToken::new),
            refresh_token: raw
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(RefreshToken::new),
            expires_in,
            scope: raw.scope,
        })
    }

    /// The refresh grant, tried again with backoff when the provider is unreachable or
    /// answers 5xx (the refresh token stays valid then), and never after an OAuth error.
    pub(crate) async fn refresh_grant(
        &self,
        metadata: &ProviderMetadata,
        refresh_token: &RefreshToken,
    ) -> Result<TokenResponse, SignInError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let mut delay = self.options.retry_delay;
        let mut attempt = 1;
        loop {
            match self.token_request(metadata, &form).await {
                Err(error) if error.is_transient() && attempt < self.options.refresh_attempts => {
                    tracing::warn!(attempt, "refresh failed, trying again: {error}");
                    tokio::time::sleep(delay.min(MAX_RETRY_DELAY)).await;
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Revokes `token` (RFC 7009). Providers that do not advertise revocation are skipped:
    /// `Ok(false)`.
    pub(crate) async fn revoke(
        &self,
        metadata: &ProviderMetadata,
        token: &Revocable,
    ) -> Result<bool, SignInError> {
        let Some(route) = self.route(metadata, Endpoint::Revocation).await? else {
            return Ok(false);
        };
        let form = [
            ("token", token.expose_secret()),
            ("token_type_hint", token.hint()),
        ];
        let response = self
            .authenticated_post(metadata, &route, &form, "revocation")
            .await?;
        // RFC 7009 §2.2: 200 whether or not the token was valid.
        if response.status == 200 {
            Ok(true)
        } else {
            Err(answer_error("revocation", &response))
        }
    }

    /// Posts `form` where `route` says, with its client authentication (none through a broker,
    /// which adds its own) and, through a broker, the `CareID-Issuer` header.
    pub(crate) async fn authenticated_post(
        &self,
        metadata: &ProviderMetadata,
        route: &Route,
        form: &[(&str, &str)],
        endpoint: &'static str,
    ) -> Result<HttpResponse, SignInError> {
        // The assertion's aud is the token endpoint exactly as published, even for revocation
        // (RFC 7523 §3; CIS2 compares the string, `:443` included).
        let authentication = authenticate_with(
            route.method,
            &self.client_id,
            // Through a broker the client holds no credential: the broker authenticates.
            if route.broker_issuer.is_some() {
                &ClientCredential::None
            } else {
                self.credential()?
            },
            &metadata.token_endpoint,
            self.clock.now(),
            self.hmac_algorithm,
        )
        .map_err(|source| SignInError::Credential {
            profile: self.profile.name.clone(),
            source,
        })?;
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        // A pushed authorization request already carries `client_id`, which several methods
        // also send; a repeated parameter is refused (RFC 6749 §3.2), so it goes once.
        pairs.extend(
            authentication
                .form_pairs()
                .into_iter()
                .filter(|(name, _)| !form.iter().any(|(present, _)| present == name)),
        );
        let Some(issuer) = &route.broker_issuer else {
            return self
                .http
                .post_form_with(
                    &route.url,
                    &pairs,
                    authentication.basic_authorization.as_ref(),
                    &[],
                    "application/json",
                )
                .await
                .map_err(|source| SignInError::Http { endpoint, source });
        };
        // Through a broker: a DPoP proof of the install's key with each request (RFC 9449), with
        // the nonce the broker last gave; asked for a fresh one (§8), once more with it.
        let key = self
            .dpop
            .key(self.store.keychain(), self.store.state_dir())
            .await?;
        let mut retried = false;
        loop {
            let proof = key
                .proof(
                    "POST",
                    &route.url,
                    self.dpop.nonce().as_deref(),
                    None,
                    self.clock.now(),
                )
                .map_err(|error| SignInError::InvalidResponse {
                    endpoint,
                    problem: format!("no DPoP proof can be made for {} ({error})", route.url),
                })?;
            let headers = [
                (crate::broker::ISSUER_HEADER, issuer.as_str()),
                ("DPoP", proof.as_str()),
            ];
            let response = self
                .http
                .post_form_with(&route.url, &pairs, None, &headers, "application/json")
                .await
                .map_err(|source| SignInError::Http { endpoint, source })?;
            self.dpop.remember_nonce(response.dpop_nonce.as_deref());
            let wants_nonce = response.status == 400
                && response.dpop_nonce.is_some()
                && oauth_error(&response).is_some_and(|error| error.error == "use_dpop_nonce");
            if !wants_nonce || retried {
                return Ok(response);
            }
            retried = true;
        }
    }
}

/// A non-success answer: an OAuth error when the body says so, "unavailable" for 5xx (the
/// provider's trouble, worth trying again later), else an unexpected status.
pub(crate) fn answer_error(endpoint: &'static str, response: &HttpResponse) -> SignInError {
    if response.status >= 500 {
        return SignInError::Unavailable {
            endpoint,
            status: response.status,
        };
    }
    match oauth_error(response) {
        Some(error) => SignInError::OAuth {
            endpoint,
            status: response.status,
            error: error.error,
            description: error.error_description,
        },
        None => SignInError::UnexpectedStatus {
            endpoint,
            status: response.status,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn expires_in_of_any_shape_is_capped_or_ignored_never_trusted() {
        let cases = [
            (json!(3599), Some(3599)),
            (json!(0), Some(0)),
            (json!("3599"), Some(3599)),
            (json!(" 60 "), Some(60)),
            (json!(3599.9), Some(3599)),
            (json!(u64::MAX), Some(MAX_EXPIRES_IN)),
            (json!(1e300), Some(MAX_EXPIRES_IN)),
            (json!("18446744073709551615"), Some(MAX_EXPIRES_IN)),
            (json!(-1), None),
            (json!(i64::MIN), None),
            (json!(-0.5), None),
            (json!("1e300"), None),
            (json!("soon"), None),
            (json!("-1"), None),
            (json!(true), None),
            (json!(null), None),
            (json!([3600]), None),
        ];
        for (value, expect) in cases {
            assert_eq!(expires_in(&value), expect, "{value}");
        }
    }
}
