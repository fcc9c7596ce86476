//! careid with a broker (the broker's `API.md`): a service the organisation runs that holds the
//! client credential and relays the token, PAR and revocation requests, so a profile that names
//! one holds no credential. Here: the broker's address rule, its document
//! (`/.well-known/careid-broker`) fetched and held to the profile's issuer and client id, the
//! session's end asked (`/sessions/status`) or listened for (`/sessions/events`, Server-Sent
//! Events). Which endpoint a request goes to is decided in one place, `signin/route.rs`.

use serde::{Deserialize, Serialize};

use crate::discovery::is_secure_url;
use crate::doctor::{CheckStatus, DoctorCheck};
use crate::http::{clean_text, display_url, HttpClient, HttpError};
use crate::secret::{IdToken, SecretString};
use crate::values::{ClientId, IssuerUrl};

/// Where a broker publishes what it brokers, under its address.
pub const WELL_KNOWN_PATH: &str = "/.well-known/careid-broker";

/// The header every relayed request carries: the issuer it is for, so a broker refuses a
/// request for a provider it does not broker.
pub const ISSUER_HEADER: &str = "CareID-Issuer";

/// What careid tells a person whose session the provider ended (back-channel logout).
pub const ENDED_BY_PROVIDER: &str =
    "Your CIS2 session was ended, for example by signing out elsewhere";

/// The address of a broker's document.
pub fn well_known_url(broker: &str) -> String {
    format!("{}{WELL_KNOWN_PATH}", broker.trim_end_matches('/'))
}

/// What a broker brokers, from `/.well-known/careid-broker`, checked against the profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerMetadata {
    pub issuer: String,
    pub client_id: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    pub session_status_endpoint: String,
    pub session_events_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

impl BrokerMetadata {
    /// Reads a broker's document and holds it to the profile: `issuer` and `client_id` exactly
    /// the profile's (character for character), every endpoint https (http on loopback only).
    pub fn from_document(
        body: &[u8],
        issuer: &IssuerUrl,
        client_id: &ClientId,
    ) -> Result<Self, BrokerError> {
        let metadata: BrokerMetadata = serde_json::from_slice(body).map_err(|error| {
            BrokerError::Invalid(format!(
                "it is not a careid broker document ({})",
                crate::http::json_error_detail(&error)
            ))
        })?;
        if !issuer.matches(&metadata.issuer) {
            return Err(BrokerError::Mismatch {
                what: "issuer",
                broker: clean_text(&metadata.issuer, 300),
                profile: issuer.to_string(),
            });
        }
        if *client_id != metadata.client_id.as_str() {
            return Err(BrokerError::Mismatch {
                what: "client id",
                broker: clean_text(&metadata.client_id, 300),
                profile: client_id.to_string(),
            });
        }
        let endpoints = [
            ("token_endpoint", Some(&metadata.token_endpoint)),
            ("revocation_endpoint", metadata.revocation_endpoint.as_ref()),
            (
                "pushed_authorization_request_endpoint",
                metadata.pushed_authorization_request_endpoint.as_ref(),
            ),
            (
                "session_status_endpoint",
                Some(&metadata.session_status_endpoint),
            ),
            (
                "session_events_endpoint",
                Some(&metadata.session_events_endpoint),
            ),
            ("jwks_uri", Some(&metadata.jwks_uri)),
        ];
        for (name, url) in endpoints {
            if let Some(url) = url {
                if !is_secure_url(url) {
                    return Err(BrokerError::Invalid(format!(
                        "its {name} {} is not https (http is allowed on loopback only)",
                        display_url(url)
                    )));
                }
            }
        }
        Ok(metadata)
    }
}

/// Fetches the document of the broker at `broker` and holds it to the profile's `issuer` and
/// `client_id` ([`BrokerMetadata::from_document`]).
pub async fn fetch_metadata(
    http: &HttpClient,
    broker: &str,
    issuer: &IssuerUrl,
    client_id: &ClientId,
) -> Result<BrokerMetadata, BrokerError> {
    let url = well_known_url(broker);
    let response = http
        .get(&url, "application/json")
        .await
        .map_err(BrokerError::Http)?;
    if response.status != 200 {
        return Err(BrokerError::Status {
            what: "document",
            status: response.status,
        });
    }
    BrokerMetadata::from_document(response.body(), issuer, client_id)
}

/// `careid doctor`'s checks of a profile's broker: it answers, it brokers exactly this issuer
/// and client id, and it publishes the keys of its credential (at least one).
pub async fn diagnose(
    http: &HttpClient,
    broker: &str,
    issuer: &IssuerUrl,
    client_id: &ClientId,
) -> Vec<DoctorCheck> {
    let check = |name, status, detail: String| DoctorCheck {
        name,
        status,
        detail,
    };
    let url = well_known_url(broker);
    let response = match http.get(&url, "application/json").await {
        Ok(response) if response.status == 200 => response,
        Ok(response) => {
            return vec![check(
                "Broker",
                CheckStatus::Fail,
                format!("{} answered HTTP {}", display_url(&url), response.status),
            )]
        }
        Err(error) => {
            return vec![check(
                "Broker",
                CheckStatus::Fail,
                format!("cannot reach the broker: {error}"),
            )]
        }
    };
    let mut checks = vec![check(
        "Broker",
        CheckStatus::Pass,
        format!("{} answers", display_url(&url)),
    )];
    let metadata = match BrokerMetadata::from_document(response.body(), issuer, client_id) {
        Ok(metadata) => metadata,
        Err(error) => {
            checks.push(check(
                "Broker brokers",
                CheckStatus::Fail,
                error.to_string(),
            ));
            return checks;
        }
    };
    checks.push(check(
        "Broker brokers",
        CheckStatus::Pass,
        format!("issuer {issuer} and client id {client_id}, exactly"),
    ));
    let jwks = match http.get(&metadata.jwks_uri, "application/json").await {
        Ok(response) if response.status == 200 => response
            .json::<serde_json::Value>()
            .map_err(|error| error.to_string()),
        Ok(response) => Err(format!("it answered HTTP {}", response.status)),
        Err(error) => Err(error.to_string()),
    };
    let keys = jwks.map(|jwks| {
        jwks.get("keys")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len)
    });
    checks.push(match keys {
        Ok(0) => check(
            "Broker JWKS",
            CheckStatus::Fail,
            format!(
                "{} publishes no key: the provider cannot check the broker's assertions",
                display_url(&metadata.jwks_uri)
            ),
        ),
        Ok(count) => check(
            "Broker JWKS",
            CheckStatus::Pass,
            format!(
                "{count} key{} published at {}",
                if count == 1 { "" } else { "s" },
                display_url(&metadata.jwks_uri)
            ),
        ),
        Err(error) => check(
            "Broker JWKS",
            CheckStatus::Fail,
            format!("cannot read {}: {error}", display_url(&metadata.jwks_uri)),
        ),
    });
    checks
}

/// Whether the provider ended the session, as the broker knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionState {
    Active,
    /// Ended by the provider, at `ended_at` when the broker said.
    Ended {
        ended_at: Option<u64>,
    },
}

#[derive(Deserialize)]
struct StatusAnswer {
    ended: bool,
    #[serde(default)]
    ended_at: Option<serde_json::Value>,
}

/// A time from the broker, in seconds since the epoch; anything else is ignored.
fn seconds(value: Option<&serde_json::Value>) -> Option<u64> {
    value.and_then(serde_json::Value::as_u64)
}

/// Asks the broker's `/sessions/status` whether the session `id_token` proves was ended.
pub async fn session_status(
    http: &HttpClient,
    endpoint: &str,
    id_token: &IdToken,
) -> Result<SessionState, BrokerError> {
    let authorization = SecretString::new(format!("Bearer {}", id_token.expose_secret()));
    let response = http
        .get_authorized(endpoint, &authorization, "application/json")
        .await
        .map_err(BrokerError::Http)?;
    match response.status {
        200 => {}
        401 => return Err(BrokerError::ProofRefused),
        status => {
            return Err(BrokerError::Status {
                what: "session status",
                status,
            })
        }
    }
    let answer: StatusAnswer = response
        .json()
        .map_err(|error| BrokerError::Invalid(format!("its session status: {error}")))?;
    Ok(if answer.ended {
        SessionState::Ended {
            ended_at: seconds(answer.ended_at.as_ref()),
        }
    } else {
        SessionState::Active
    })
}

/// What went wrong with a broker. Messages never hold a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    #[error("the broker cannot be asked: {0}")]
    Http(#[source] HttpError),
    #[error("the broker's {what} answered HTTP {status}")]
    Status { what: &'static str, status: u16 },
    #[error("the broker's answer is not valid: {0}")]
    Invalid(String),
    #[error(
        "the broker brokers {what} {broker:?}, not the profile's {profile:?}: point the profile \
         at the broker of its provider and client"
    )]
    Mismatch {
        what: &'static str,
        broker: String,
        profile: String,
    },
    #[error("the broker did not take the session's ID token as proof of the session (HTTP 401)")]
    ProofRefused,
}

impl BrokerError {
    pub fn code(&self) -> &'static str {
        match self {
            BrokerError::Http(error) if error.is_transient() => "broker_unreachable",
            BrokerError::Http(_) => "broker_invalid",
            BrokerError::Status { status, .. } if *status >= 500 => "broker_unavailable",
            BrokerError::Status { .. } => "broker_unexpected_status",
            BrokerError::Invalid(_) => "broker_invalid",
            BrokerError::Mismatch { .. } => "broker_mismatch",
            BrokerError::ProofRefused => "broker_proof_refused",
        }
    }

    /// Whether asking again later may work: the broker is down or unreachable.
    pub fn is_transient(&self) -> bool {
        match self {
            BrokerError::Http(error) => error.is_transient(),
            BrokerError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://am.example.nhs.uk:443/openam/oauth2/realms/root/realms/x";
    const CLIENT: &str = "123.apps.national";

    fn document(issuer: &str, client_id: &str, token_endpoint: &str) -> Vec<u8> {
        serde_json::json!({
            "issuer": issuer,
            "client_id": client_id,
            "token_endpoint": token_endpoint,
            "revocation_endpoint": "https://broker.example/revoke",
            "session_status_endpoint": "https://broker.example/sessions/status",
            "session_events_endpoint": "https://broker.example/sessions/events",
            "jwks_uri": "https://broker.example/jwks",
            "redirect_uris": ["http://127.0.0.1:23741/callback"]
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn the_well_known_url_is_under_the_brokers_path() {
        assert_eq!(
            well_known_url("https://b.example/x/"),
            "https://b.example/x/.well-known/careid-broker"
        );
    }

    #[test]
    fn a_broker_of_another_issuer_or_client_is_refused_naming_both() {
        let (issuer, client) = (IssuerUrl::new(ISSUER).unwrap(), ClientId::new(CLIENT));
        let good = document(ISSUER, CLIENT, "https://broker.example/token");
        let metadata = BrokerMetadata::from_document(&good, &issuer, &client).expect("matches");
        assert_eq!(metadata.token_endpoint, "https://broker.example/token");
        assert_eq!(metadata.pushed_authorization_request_endpoint, None);

        // The `:443` is part of the issuer: a broker without it brokers another string.
        let other = ISSUER.replace(":443", "");
        let error = BrokerMetadata::from_document(
            &document(&other, CLIENT, "https://broker.example/token"),
            &issuer,
            &client,
        )
        .expect_err("another issuer");
        assert_eq!(error.code(), "broker_mismatch");
        let message = error.to_string();
        assert!(
            message.contains(&other) && message.contains(ISSUER),
            "{message}"
        );

        let error = BrokerMetadata::from_document(
            &document(ISSUER, "999.apps.national", "https://broker.example/token"),
            &issuer,
            &client,
        )
        .expect_err("another client");
        let message = error.to_string();
        assert!(
            message.contains("999.apps.national") && message.contains(CLIENT),
            "{message}"
        );
    }

    #[test]
    fn a_broker_document_with_an_insecure_endpoint_or_no_json_is_refused() {
        let (issuer, client) = (IssuerUrl::new(ISSUER).unwrap(), ClientId::new(CLIENT));
        let error = BrokerMetadata::from_document(
            &document(ISSUER, CLIENT, "http://broker.example/token"),
            &issuer,
            &client,
        )
        .expect_err("http");
        assert_eq!(error.code(), "broker_invalid");
        assert!(error.to_string().contains("token_endpoint"));
        assert!(BrokerMetadata::from_document(
            &document(ISSUER, CLIENT, "http://127.0.0.1:9/token"),
            &issuer,
            &client,
        )
        .is_ok());
        assert_eq!(
            BrokerMetadata::from_document(b"<html>", &issuer, &client)
                .expect_err("not JSON")
                .code(),
            "broker_invalid"
        );
    }
}
