//! The session listeners: how a careid client learns that the provider ended its session
//! (`GET /sessions/status`, `GET /sessions/events`, see `API.md`).
//!
//! The client proves it holds the session with its ID token (`Authorization: Bearer`), checked
//! by careid-core's [`validate_session_proof`] against the provider's keys: the session is the
//! token's `sid` and `sub`, begun at its `auth_time` (else `iat`). A listener is one Server-Sent
//! Events stream and nothing else: no task of its own, only the stream's state (the store's
//! broadcast receiver and the session) polled by the connection that carries it. Every session
//! end reaches every listener, which keeps only its own. A listener that falls so far behind that
//! ends were dropped before it saw them asks the store again, so it cannot miss its own.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use careid_core::jose::MAX_TOKEN_BYTES;
use careid_core::{validate_session_proof, IdTokenClaims, IdTokenError, ProviderMetadata};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::server::{no_store, Broker};
use crate::store::{SessionEnd, Store, ENDED_SESSION_MEMORY};

/// How often a listener's stream carries a comment, so proxies and the client see it alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The listeners of one broker: how many there are, how many may be, how often they are sent
/// a keep-alive.
#[derive(Debug)]
pub struct Listeners {
    pub(crate) keep_alive: Duration,
    max: usize,
    count: Arc<AtomicUsize>,
}

impl Listeners {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            keep_alive: KEEP_ALIVE,
            max,
            count: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many clients listen now.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// A place for one more listener, held until its stream is dropped; `None` at the limit.
    fn admit(&self) -> Option<Slot> {
        self.count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |count| {
                (count < self.max).then_some(count + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(&self.count)))
    }
}

/// One listener counted in [`Listeners`], until dropped.
#[derive(Debug)]
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The session an ID token proves its holder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    sid: Option<String>,
    sub: String,
    /// `auth_time`, else `iat`: an end by `sub` ends the sessions begun before it.
    began_at: u64,
}

impl Session {
    fn from_claims(claims: IdTokenClaims) -> Self {
        Self {
            began_at: claims.auth_time.unwrap_or(claims.iat),
            sid: claims.sid,
            sub: claims.sub,
        }
    }

    async fn ended(&self, store: &Store) -> Result<Option<SessionEnd>, String> {
        store
            .ended(
                self.sid.as_deref(),
                &self.sub,
                self.began_at,
                SystemTime::now(),
            )
            .await
            .map_err(|error| error.to_string())
    }
}

/// `GET /sessions/status`: `{"ended": false}`, or `{"ended": true, "ended_at": N}`.
pub(crate) async fn status(State(broker): State<Arc<Broker>>, headers: HeaderMap) -> Response {
    let session = match proven_session(&broker, &headers).await {
        Ok(session) => session,
        Err(refusal) => return refusal,
    };
    let answer = match session.ended(broker.store()).await {
        Ok(None) => json!({ "ended": false }),
        Ok(Some(end)) => json!({ "ended": true, "ended_at": end.ended_at }),
        Err(error) => return unavailable(&error),
    };
    let mut response = Json(answer).into_response();
    no_store(&mut response);
    response
}

/// `GET /sessions/events`: a stream that carries a keep-alive comment every
/// [`Listeners::keep_alive`] and, when the session ends (or at once if it has), one `ended`
/// event, then closes.
pub(crate) async fn events(State(broker): State<Arc<Broker>>, headers: HeaderMap) -> Response {
    let session = match proven_session(&broker, &headers).await {
        Ok(session) => session,
        Err(refusal) => return refusal,
    };
    let Some(slot) = broker.listeners().admit() else {
        tracing::warn!(
            limit = broker.config().limits.max_listeners,
            "session listener refused: limits.max_listeners reached"
        );
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many listeners: ask /sessions/status instead",
        );
    };
    // Subscribed before the store is asked, so an end recorded in between is in one or the other.
    let receiver = broker.store().subscribe();
    let already = match session.ended(broker.store()).await {
        Ok(already) => already,
        Err(error) => return unavailable(&error),
    };
    let stream = session_end_events(Arc::clone(broker.store()), receiver, session, already, slot);
    let keep_alive = KeepAlive::new()
        .interval(broker.listeners().keep_alive)
        .text("keep-alive");
    let mut response = Sse::new(stream).keep_alive(keep_alive).into_response();
    no_store(&mut response);
    response
}

/// Where a listener's stream stands.
enum Listening {
    /// Its session ended: the event is still to be sent.
    Ended(SessionEnd),
    Waiting {
        store: Arc<Store>,
        receiver: broadcast::Receiver<SessionEnd>,
        session: Session,
        _slot: Slot,
    },
}

/// The `ended` event for `session` (at once when `already` ended), then the end of the stream.
fn session_end_events(
    store: Arc<Store>,
    receiver: broadcast::Receiver<SessionEnd>,
    session: Session,
    already: Option<SessionEnd>,
    slot: Slot,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let start = match already {
        Some(end) => Listening::Ended(end),
        None => Listening::Waiting {
            store,
            receiver,
            session,
            _slot: slot,
        },
    };
    futures_util::stream::unfold(Some(start), |state| async move {
        let end = match state? {
            Listening::Ended(end) => end,
            Listening::Waiting {
                store,
                mut receiver,
                session,
                _slot,
            } => loop {
                match receiver.recv().await {
                    Ok(end) if end.ends(session.sid.as_deref(), &session.sub, session.began_at) => {
                        break end
                    }
                    Ok(_) => {}
                    // Ends were dropped before this listener saw them: its own may be one.
                    Err(RecvError::Lagged(missed)) => match session.ended(&store).await {
                        Ok(Some(end)) => break end,
                        Ok(None) => tracing::debug!(missed, "session listener caught up"),
                        Err(error) => {
                            // Closed, so the client asks /sessions/status rather than miss it.
                            tracing::warn!(%error, "session listener closed: the store");
                            return None;
                        }
                    },
                    Err(RecvError::Closed) => return None,
                }
            },
        };
        let data = json!({ "ended_at": end.ended_at }).to_string();
        Some((Ok(Event::default().event("ended").data(data)), None))
    })
}

/// The session the request's `Authorization: Bearer <id_token>` proves, or the answer refusing it.
async fn proven_session(broker: &Broker, headers: &HeaderMap) -> Result<Session, Response> {
    let now = SystemTime::now();
    let Some(token) = bearer_token(headers) else {
        tracing::info!(
            outcome = "refused",
            code = "no_bearer_token",
            "session listener"
        );
        return Err(invalid_token());
    };
    let metadata = broker
        .provider(now)
        .await
        .map_err(|error| unavailable(&error))?;
    let verified = match verify(broker, &metadata, token, now, false).await {
        // A key the provider rotated in since the set was fetched: fetch it again, once.
        Err(Refused::UnknownKid) => verify(broker, &metadata, token, now, true).await,
        other => other,
    };
    match verified {
        Ok(claims) => Ok(Session::from_claims(claims)),
        Err(Refused::Unavailable(error)) => Err(unavailable(&error)),
        Err(Refused::UnknownKid) => {
            tracing::info!(
                outcome = "refused",
                code = "unknown_kid",
                "session listener"
            );
            Err(invalid_token())
        }
        Err(Refused::Invalid(error)) => {
            tracing::info!(outcome = "refused", code = error.code(), %error, "session listener");
            Err(invalid_token())
        }
    }
}

enum Refused {
    Invalid(IdTokenError),
    UnknownKid,
    Unavailable(String),
}

async fn verify(
    broker: &Broker,
    metadata: &ProviderMetadata,
    token: &str,
    now: SystemTime,
    refetch: bool,
) -> Result<IdTokenClaims, Refused> {
    let (keys, allowed) = broker
        .provider_keys(metadata, now, refetch)
        .await
        .map_err(Refused::Unavailable)?;
    let provider = &broker.config().provider;
    validate_session_proof(
        token,
        &keys,
        &allowed,
        &provider.issuer,
        &provider.client_id,
        ENDED_SESSION_MEMORY,
        now,
    )
    .map_err(|error| {
        if error.is_unknown_kid() && !refetch {
            Refused::UnknownKid
        } else {
            Refused::Invalid(error)
        }
    })
}

/// The token of an `Authorization: Bearer` header (the scheme in any case, RFC 7235 §2.1), when
/// there is one and it is not longer than any token careid reads.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= MAX_TOKEN_BYTES)
        .then_some(token)
}

/// RFC 6750 §3: 401 with the challenge naming `invalid_token`. The reason is logged, never sent
/// back, and the token is in neither.
fn invalid_token() -> Response {
    let mut response = refusal(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "the ID token is not proof of a current session with this provider",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

fn unavailable(error: &str) -> Response {
    tracing::warn!(%error, outcome = "unavailable", "session listener");
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the provider's keys or the broker's store cannot be had now",
    )
}

fn refusal(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response();
    no_store(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;
    use crate::store::EmbeddedStore;

    fn end(sid: &str, ended_at: u64) -> SessionEnd {
        SessionEnd {
            sid: Some(sid.into()),
            sub: Some("u".into()),
            ended_at,
        }
    }

    #[tokio::test]
    async fn a_listener_that_lags_behind_asks_the_store_and_still_hears_its_end() {
        let store = Arc::new(Store::Embedded(EmbeddedStore::open(None)));
        let listeners = Listeners::new(10);
        let receiver = store.subscribe();
        let session = Session {
            sid: Some("mine".into()),
            sub: "u".into(),
            began_at: 100,
        };
        let events = session_end_events(
            Arc::clone(&store),
            receiver,
            session,
            None,
            listeners.admit().unwrap(),
        );
        let now = SystemTime::now();
        // Its own end, then more ends of other sessions than the backlog holds, before it looks.
        store.end_session(end("mine", 200), now).await.unwrap();
        for other in 0..1100 {
            store
                .end_session(end(&format!("other-{other}"), 200), now)
                .await
                .unwrap();
        }
        let mut events = Box::pin(events);
        let first = tokio::time::timeout(Duration::from_secs(2), events.next())
            .await
            .expect("told, although its end was dropped from the backlog");
        assert!(first.is_some());
        assert!(events.next().await.is_none(), "then the stream closes");
        assert_eq!(listeners.count(), 0, "and the listener is counted no more");
    }

    #[test]
    fn listeners_are_counted_up_to_the_limit() {
        let listeners = Listeners::new(2);
        let first = listeners.admit().unwrap();
        let _second = listeners.admit().unwrap();
        assert!(listeners.admit().is_none(), "over the limit");
        drop(first);
        assert_eq!(listeners.count(), 1);
        assert!(listeners.admit().is_some(), "a place freed is taken again");
    }

    #[test]
    fn only_a_bearer_token_of_a_readable_size_is_taken() {
        let headers = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(header::AUTHORIZATION, value.parse().unwrap());
            }
            headers
        };
        assert_eq!(bearer_token(&headers(&["Bearer a.b.c"])), Some("a.b.c"));
        assert_eq!(bearer_token(&headers(&["bearer a.b.c"])), Some("a.b.c"));
        assert_eq!(bearer_token(&headers(&[])), None);
        assert_eq!(bearer_token(&headers(&["Basic YTpi"])), None);
        assert_eq!(bearer_token(&headers(&["Bearer "])), None);
        assert_eq!(bearer_token(&headers(&["Bearer a", "Bearer b"])), None);
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(bearer_token(&headers(&[&long])), None);
    }
}
