//! Where a request to the token, PAR and revocation endpoints goes, and with what client
//! authentication: the one home of that choice, the profile's `par` setting included. Without a broker, the provider's endpoint with
//! the profile's method; with one, the broker's endpoint from its document, no client
//! authentication (the broker adds its own) and the `CareID-Issuer` header. Discovery, the
//! JWKS, the authorization URL, UserInfo and every ID token check stay with the provider.
//!
//! Here too: asking the broker whether the provider ended the session, and listening for it.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::broker::{self, BrokerError, BrokerMetadata, SessionState};
use crate::client_auth::ClientAuth;
use crate::client_auth::{check_token_endpoint_method, method_for_endpoint};
use crate::discovery::ProviderMetadata;
use crate::http::HttpClient;
use crate::secret::IdToken;
use crate::session::{EndReason, SessionEnd, SessionFacts};
use crate::signin::{blocking, Client, SignInError};
use crate::values::IssuerUrl;
use crate::{PushedRequests, Restored, SecretString};

/// The endpoints a request can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Token,
    PushedAuthorization,
    Revocation,
}

/// Where one request goes and how it authenticates.
#[derive(Debug)]
pub(crate) struct Route {
    pub url: String,
    pub method: ClientAuth,
    /// The issuer, for the broker's `CareID-Issuer` header.
    pub broker_issuer: Option<IssuerUrl>,
}

/// What the broker said about the session when careid last asked, for `careid status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BrokerCheck {
    /// The profile has no broker.
    NotUsed,
    /// The broker says the provider has not ended the session.
    Active,
    /// The broker could not be asked: the session stays, and careid asks again next time.
    NotAsked { reason: String },
}

impl BrokerCheck {
    /// In words, for `careid status`.
    pub fn describe(&self) -> Option<String> {
        match self {
            BrokerCheck::NotUsed => None,
            BrokerCheck::Active => {
                Some("the broker says the provider has not ended the session".into())
            }
            BrokerCheck::NotAsked { reason } => Some(format!(
                "could not ask the broker whether the provider ended the session ({reason}); \
                 the session stays and careid asks again next time"
            )),
        }
    }
}

/// How long a session-events stream may stay silent before careid takes it for dropped: two of
/// the broker's heartbeats missed.
const EVENTS_IDLE: Duration = crate::sse::HEARTBEAT_MISSED;
/// The first and the longest wait before listening again after a stream broke.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Client {
    /// The broker's document, fetched once per client and held to the profile's issuer and
    /// client id; `None` when the profile has no broker.
    pub async fn broker(&self) -> Result<Option<Arc<BrokerMetadata>>, SignInError> {
        let Some(address) = &self.profile.broker else {
            return Ok(None);
        };
        let metadata = self
            .broker
            .get_or_try_init(|| async {
                broker::fetch_metadata(&self.http, address, &self.issuer, &self.client_id)
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(SignInError::Broker)?;
        Ok(Some(Arc::clone(metadata)))
    }

    /// Where a request to `endpoint` goes: `None` when the provider offers no such endpoint
    /// (or, for PAR, when the broker relays none, or the profile says `par = "never"`). A PAR
    /// the profile requires and is not offered, or refuses and the provider requires, is an
    /// error.
    pub(crate) async fn route(
        &self,
        metadata: &ProviderMetadata,
        endpoint: Endpoint,
    ) -> Result<Option<Route>, SignInError> {
        let offered = self.offered_route(metadata, endpoint).await?;
        if endpoint != Endpoint::PushedAuthorization {
            return Ok(offered);
        }
        let profile = || self.profile.name.clone();
        match (self.profile.par, offered) {
            (PushedRequests::Never, _) if metadata.require_pushed_authorization_requests => {
                Err(SignInError::ParRequired { profile: profile() })
            }
            (PushedRequests::Never, _) => Ok(None),
            (PushedRequests::Always, None) => Err(SignInError::ParNotOffered {
                profile: profile(),
                missing: if metadata.pushed_authorization_request_endpoint.is_some() {
                    "the profile's broker relays none"
                } else {
                    "the provider publishes no pushed_authorization_request_endpoint"
                },
            }),
            (_, offered) => Ok(offered),
        }
    }

    /// Where a request to `endpoint` goes as the provider (and broker) offer it.
    async fn offered_route(
        &self,
        metadata: &ProviderMetadata,
        endpoint: Endpoint,
    ) -> Result<Option<Route>, SignInError> {
        if let Some(broker) = self.broker().await? {
            // The provider decides whether there is such an endpoint; the broker relays it.
            let url = match endpoint {
                Endpoint::Token => Some(broker.token_endpoint.clone()),
                Endpoint::PushedAuthorization => metadata
                    .pushed_authorization_request_endpoint
                    .as_ref()
                    .and(broker.pushed_authorization_request_endpoint.clone()),
                Endpoint::Revocation => metadata
                    .revocation_endpoint
                    .as_ref()
                    .and(broker.revocation_endpoint.clone()),
            };
            return Ok(url.map(|url| Route {
                url,
                method: ClientAuth::None,
                broker_issuer: Some(self.issuer.clone()),
            }));
        }
        Ok(match endpoint {
            Endpoint::Token => Some(Route {
                url: metadata.token_endpoint.clone(),
                method: self.profile.client_auth,
                broker_issuer: None,
            }),
            Endpoint::PushedAuthorization => metadata
                .pushed_authorization_request_endpoint
                .clone()
                .map(|url| Route {
                    url,
                    method: self.profile.client_auth,
                    broker_issuer: None,
                }),
            Endpoint::Revocation => metadata.revocation_endpoint.clone().map(|url| Route {
                url,
                method: method_for_endpoint(
                    self.profile.client_auth,
                    metadata
                        .revocation_endpoint_auth_methods_supported
                        .as_deref(),
                ),
                broker_issuer: None,
            }),
        })
    }

    /// The profile's client authentication is one the provider takes at its token endpoint
    /// ([`check_token_endpoint_method`]): asked before the browser opens, so a profile the
    /// provider would answer `invalid_client` is refused before the user signs in. Through a
    /// broker the broker authenticates, with a method of its own.
    pub(crate) fn check_client_auth(&self, metadata: &ProviderMetadata) -> Result<(), SignInError> {
        if self.profile.broker.is_some() {
            return Ok(());
        }
        check_token_endpoint_method(
            self.profile.client_auth,
            metadata.token_endpoint_auth_methods_supported.as_deref(),
        )
        .map_err(|source| SignInError::ClientAuthNotOffered {
            profile: self.profile.name.clone(),
            source,
        })
    }

    /// Asks the broker whether the provider ended the session `id_token` belongs to.
    pub(crate) async fn broker_session_state(
        &self,
        id_token: &IdToken,
    ) -> Result<Option<SessionState>, SignInError> {
        let Some(broker) = self.broker().await? else {
            return Ok(None);
        };
        broker::session_status(&self.http, &broker.session_status_endpoint, id_token)
            .await
            .map(Some)
            .map_err(SignInError::Broker)
    }

    /// For a stored session: asks the broker (with the kept ID token) whether the provider
    /// ended it. Ended is [`SignInError::EndedByProvider`], and the caller ends the session;
    /// a broker that cannot be asked is no end ([`BrokerCheck::NotAsked`]).
    pub(crate) async fn ask_broker(
        &self,
        facts: &SessionFacts,
    ) -> Result<BrokerCheck, SignInError> {
        if self.profile.broker.is_none() {
            return Ok(BrokerCheck::NotUsed);
        }
        let id_token = match blocking(|| self.store.load_id_token(facts)) {
            Ok(Some(id_token)) => id_token,
            Ok(None) => {
                return Ok(BrokerCheck::NotAsked {
                    reason: "the session keeps no ID token to prove it".into(),
                })
            }
            Err(error) => {
                return Ok(BrokerCheck::NotAsked {
                    reason: error.to_string(),
                })
            }
        };
        match self.broker_session_state(&id_token).await {
            Ok(Some(SessionState::Ended { .. })) => Err(self.ended_by_provider()),
            Ok(_) => Ok(BrokerCheck::Active),
            // A broker of another issuer or client is a broken profile, not a passing fault.
            Err(error @ SignInError::Broker(BrokerError::Mismatch { .. })) => Err(error),
            Err(error) => {
                tracing::warn!("could not ask the broker about the session: {error}");
                Ok(BrokerCheck::NotAsked {
                    reason: error.to_string(),
                })
            }
        }
    }

    /// The error that reports the provider ended this profile's session.
    pub fn ended_by_provider(&self) -> SignInError {
        SignInError::EndedByProvider {
            profile: self.profile.name.clone(),
        }
    }

    /// Ends the stored session locally because the provider ended it (the broker said so):
    /// refresh, access and ID tokens deleted and the state cleared, as for any ended session,
    /// and the end recorded ([`EndReason::EndedByProvider`]). Only the session `facts`
    /// describe is ended: one signed in since is kept. Returns whether it was ended here.
    pub async fn end_by_provider(&self, facts: &SessionFacts) -> Result<bool, SignInError> {
        let lock = self.session_lock().await?;
        let same = match blocking(|| self.store.load(&self.profile.name))? {
            Restored::Session(loaded) => same_session(&loaded.facts, facts),
            Restored::SignedOut(_) => false,
        };
        if same {
            let end = SessionEnd::new(EndReason::EndedByProvider, facts, self.clock.now());
            blocking(|| self.store.end(&lock, &end))?;
            tracing::info!("the provider ended the session; it was ended here too");
        }
        Ok(same)
    }

    /// Listens, through the broker, for the provider to end the session `facts` describe:
    /// asks `/sessions/status` first and on every reconnect, then follows `/sessions/events`;
    /// a stream that breaks, or stays silent past two heartbeats, is opened again after a wait
    /// that doubles up to 30 s, with the last event id it carried. Returns
    /// `true` when the provider ended it (the caller then ends it locally with
    /// [`Client::end_by_provider`]; [`crate::signin::SessionWatch`] does both), `false` when there is nothing to listen for (no broker, no ID token kept).
    /// Runs until then: the caller drops the future to stop listening.
    pub async fn watch_session_end(&self, facts: &SessionFacts) -> bool {
        let Some(broker) = self.broker_for_watch().await else {
            return false;
        };
        let Some(id_token) = blocking(|| self.store.load_id_token(facts)).ok().flatten() else {
            return false;
        };
        let authorization = SecretString::new(format!("Bearer {}", id_token.expose_secret()));
        let mut backoff = FIRST_BACKOFF;
        let mut last_event_id = None;
        loop {
            match broker::session_status(&self.http, &broker.session_status_endpoint, &id_token)
                .await
            {
                Ok(SessionState::Ended { .. }) => return true,
                Ok(SessionState::Active) => {
                    let events = &broker.session_events_endpoint;
                    match follow_events(&self.http, events, &authorization, &mut last_event_id)
                        .await
                    {
                        Some(true) => return true,
                        Some(false) => backoff = FIRST_BACKOFF,
                        None => {}
                    }
                }
                Err(error) => tracing::info!("cannot ask the broker now: {error}"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// The broker's document, tried until it is had: `None` without a broker.
    async fn broker_for_watch(&self) -> Option<Arc<BrokerMetadata>> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.broker().await {
                Ok(broker) => return broker,
                Err(error) => {
                    tracing::info!(
                        "cannot reach the broker to listen for the session's end: {error}"
                    )
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// Follows the broker's events stream at `url`: `Some(true)` on `ended`, `Some(false)` when a
/// stream that was open closed, broke or fell silent, `None` when it could not be opened. It is
/// opened with `last_event_id` as `Last-Event-ID`, and leaves there the last id it carried, so
/// the next stream starts where this one stopped.
async fn follow_events(
    http: &HttpClient,
    url: &str,
    authorization: &SecretString,
    last_event_id: &mut Option<String>,
) -> Option<bool> {
    let mut stream = match http
        .event_stream(url, authorization, last_event_id.as_deref())
        .await
    {
        Ok(stream) if stream.status == 200 => stream,
        Ok(stream) => {
            tracing::info!(
                status = stream.status,
                "the broker refused to stream events"
            );
            return None;
        }
        Err(error) => {
            tracing::info!("cannot listen to the broker: {error}");
            return None;
        }
    };
    let followed = loop {
        match stream.next_event(EVENTS_IDLE).await {
            Ok(Some(event)) if event.is_ended() => break true,
            Ok(Some(_)) => {}
            Ok(None) => break false,
            Err(error) => {
                tracing::info!("the broker's event stream broke: {error}");
                break false;
            }
        }
    };
    *last_event_id = stream.last_event_id().map(str::to_owned);
    Some(followed)
}

/// Whether two sets of facts describe one sign-in (not a later one of the same person).
fn same_session(stored: &SessionFacts, watched: &SessionFacts) -> bool {
    stored.sub == watched.sub && stored.auth_time == watched.auth_time && stored.sid == watched.sid
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;
    use crate::http::HttpSettings;

    /// Answers one request on `listener` with `events` as an event stream, then closes it:
    /// the request's head, lowercased.
    async fn stream_once(listener: &TcpListener, events: &str) -> String {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\
             connection: close\r\n\r\n{events}"
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
        String::from_utf8(head).unwrap().to_ascii_lowercase()
    }

    /// The first stream carries an id and closes; the stream opened after it names that id in
    /// `Last-Event-ID`, and the id of its `ended` event is kept in turn.
    #[tokio::test]
    async fn a_stream_opened_again_sends_the_last_event_id_it_saw() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sessions/events", listener.local_addr().unwrap());
        let broker = tokio::spawn(async move {
            let first = stream_once(
                &listener,
                "id: 1764400000000-0\ndata: before\n\n: keep-alive\n\n",
            )
            .await;
            let second = stream_once(
                &listener,
                "event: ended\nid: 1764400000500-0\ndata: {\"ended_at\": 1764400000}\n\n",
            )
            .await;
            (first, second)
        });
        let http = HttpClient::new(HttpSettings::default()).unwrap();
        let authorization = SecretString::new("Bearer a.b.c".to_owned());
        let mut last_event_id = None;
        let first = follow_events(&http, &url, &authorization, &mut last_event_id).await;
        assert_eq!(first, Some(false), "the first stream closed");
        assert_eq!(last_event_id.as_deref(), Some("1764400000000-0"));
        let second = follow_events(&http, &url, &authorization, &mut last_event_id).await;
        assert_eq!(second, Some(true), "the second said the session ended");
        assert_eq!(last_event_id.as_deref(), Some("1764400000500-0"));
        let (first, second) = broker.await.unwrap();
        assert!(!first.contains("last-event-id"), "{first}");
        assert!(
            second.contains("\r\nlast-event-id: 1764400000000-0\r\n"),
            "{second}"
        );
    }
}
