//! The session listeners: how a careid client learns that the provider ended its session
//! (`GET /sessions/status`, `GET /sessions/events`, see `API.md`).
//!
//! The client proves it holds the session with its ID token (`Authorization: Bearer`), checked
//! by careid-oidc's [`validate_session_proof`] against the provider's keys: the session is the
//! token's `sid` and `sub`, begun at its `auth_time` (else `iat`). A listener is one Server-Sent
//! Events stream and nothing else: no task of its own, only the stream's state (its entry in the
//! routes) polled by the connection that carries it. One task per broker receives every session
//! end from the store and wakes only the listeners of that `sid` or `sub`, so a logout costs the
//! same with ten listeners or ten thousand. When that task falls so far behind that ends were
//! dropped before it saw them, every listener asks the store again, so none misses its own.
//!
//! The `ended` event carries the end's place in the store's log of ends
//! ([`EndId`](crate::store::EndId)) as its
//! `id`, alike on every replica on one Redis. A stream begins with the end already recorded for
//! its session, if any, so a client that reconnects (with `Last-Event-ID` or without) is told of
//! an end recorded while it was away before it waits. The stream carries a heartbeat comment
//! every [`KEEP_ALIVE`]. Listeners are capped in all, per session (`sid`) and per user (`sub`),
//! so one stolen ID token cannot take every place.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use axum::Json;
use careid_oidc::jose::MAX_TOKEN_BYTES;
use careid_oidc::{validate_session_proof, IdToken, IdTokenClaims, KeyedError, SessionProofCheck};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::Notify;

use crate::answer::{no_store, oauth_error};
use crate::config::Limits;
use crate::metrics::Metrics;
use crate::server::Broker;
use crate::store::{RecordedEnd, Store, ENDED_SESSION_MEMORY};

/// How often a listener's stream carries a heartbeat comment (`: keep-alive`), so proxies and
/// the client see it alive: careid's own interval, which its reader holds the broker to.
pub const KEEP_ALIVE: Duration = careid_oidc::sse::HEARTBEAT_EVERY;
/// What a listener refused for a cap is told to wait: places free only as streams close.
const RETRY_LISTENING_AFTER: Duration = Duration::from_secs(30);

/// The listeners of one broker: how many there are, how many may be, how often they are sent
/// a keep-alive.
#[derive(Debug)]
pub struct Listeners {
    pub(crate) keep_alive: Duration,
    max: usize,
    max_per_session: usize,
    max_per_user: usize,
    count: Arc<AtomicUsize>,
    routes: Arc<Routes>,
    /// Whether the task that routes the store's ends to listeners runs.
    routing: AtomicBool,
}

/// The cap a listener was refused at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cap {
    All,
    PerSession,
    PerUser,
}

impl Cap {
    /// The setting that holds it.
    fn setting(self) -> &'static str {
        match self {
            Cap::All => "limits.max_listeners",
            Cap::PerSession => "limits.max_listeners_per_session",
            Cap::PerUser => "limits.max_listeners_per_user",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Cap::All => {
                "too many listeners (limits.max_listeners): ask /sessions/status instead, and \
                 listen again later"
            }
            Cap::PerSession => {
                "too many listeners for this session (limits.max_listeners_per_session): close \
                 one, or ask /sessions/status instead"
            }
            Cap::PerUser => {
                "too many listeners for this user (limits.max_listeners_per_user): close one, or \
                 ask /sessions/status instead"
            }
        }
    }
}

impl Listeners {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            keep_alive: KEEP_ALIVE,
            max: limits.max_listeners,
            max_per_session: limits.max_listeners_per_session.get(),
            max_per_user: limits.max_listeners_per_user.get(),
            count: Arc::new(AtomicUsize::new(0)),
            routes: Arc::new(Routes::default()),
            routing: AtomicBool::new(false),
        }
    }

    /// Listens for the end of `session` (routed from `store`), when a place is free under every
    /// cap. Registered before the caller asks the store, so an end recorded in between is
    /// either found by the caller or routed here.
    fn listen(&self, store: &Arc<Store>, session: Session) -> Result<Registration, Cap> {
        if !self.routing.swap(true, Ordering::SeqCst) {
            // Subscribed now, before any listener registers.
            let receiver = store.subscribe();
            tokio::spawn(route_ends(receiver, Arc::downgrade(&self.routes)));
        }
        let slot = self.admit().ok_or(Cap::All)?;
        let entry = Arc::new(Entry {
            session,
            notify: Notify::new(),
            told: Mutex::new(None),
        });
        let id = self
            .routes
            .add(&entry, self.max_per_session, self.max_per_user)?;
        Ok(Registration {
            entry,
            id,
            routes: Arc::clone(&self.routes),
            _slot: slot,
        })
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

/// One listener's place in the routes.
#[derive(Debug)]
struct Entry {
    session: Session,
    notify: Notify,
    /// What the routing task found for it: its end, or that it must ask the store again.
    told: Mutex<Option<Told>>,
}

#[derive(Debug, Clone)]
enum Told {
    Ended(RecordedEnd),
    AskAgain,
    Closed,
}

impl Entry {
    fn tell(&self, told: Told) {
        let mut slot = self
            .told
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // An end already told is kept: it is the answer.
        if !matches!(*slot, Some(Told::Ended(_))) {
            *slot = Some(told);
        }
        drop(slot);
        self.notify.notify_one();
    }

    fn take(&self) -> Option<Told> {
        self.told
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// The listeners by `sid` and by `sub`, so an end wakes only its own.
#[derive(Debug, Default)]
struct Routes {
    table: Mutex<RouteTable>,
}

#[derive(Debug, Default)]
struct RouteTable {
    next_id: u64,
    by_sid: HashMap<String, Vec<(u64, Arc<Entry>)>>,
    by_sub: HashMap<String, Vec<(u64, Arc<Entry>)>>,
}

impl Routes {
    fn lock(&self) -> std::sync::MutexGuard<'_, RouteTable> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Routes to `entry`, unless its session already has `per_session` listeners or its user
    /// `per_user`: counted under the one lock, so two at once cannot both take the last place.
    fn add(&self, entry: &Arc<Entry>, per_session: usize, per_user: usize) -> Result<u64, Cap> {
        let mut table = self.lock();
        let listening = |map: &HashMap<String, Vec<(u64, Arc<Entry>)>>, key: &str| {
            map.get(key).map_or(0, Vec::len)
        };
        let session = &entry.session;
        if let Some(sid) = &session.sid {
            if listening(&table.by_sid, sid) >= per_session {
                return Err(Cap::PerSession);
            }
        }
        if listening(&table.by_sub, &session.sub) >= per_user {
            return Err(Cap::PerUser);
        }
        table.next_id += 1;
        let id = table.next_id;
        if let Some(sid) = &entry.session.sid {
            table
                .by_sid
                .entry(sid.clone())
                .or_default()
                .push((id, Arc::clone(entry)));
        }
        table
            .by_sub
            .entry(entry.session.sub.clone())
            .or_default()
            .push((id, Arc::clone(entry)));
        Ok(id)
    }

    fn remove(&self, id: u64, session: &Session) {
        let mut table = self.lock();
        let forget = |map: &mut HashMap<String, Vec<(u64, Arc<Entry>)>>, key: &str| {
            if let Some(entries) = map.get_mut(key) {
                entries.retain(|(other, _)| *other != id);
                if entries.is_empty() {
                    map.remove(key);
                }
            }
        };
        if let Some(sid) = &session.sid {
            forget(&mut table.by_sid, sid);
        }
        forget(&mut table.by_sub, &session.sub);
    }

    /// Tells `recorded` to the listeners whose session it ends.
    fn route(&self, recorded: &RecordedEnd) {
        let end = &recorded.end;
        let table = self.lock();
        let by_sid = end.sid.as_ref().and_then(|sid| table.by_sid.get(sid));
        let by_sub = end.sub.as_ref().and_then(|sub| table.by_sub.get(sub));
        for (_, entry) in by_sid.into_iter().chain(by_sub).flatten() {
            let session = &entry.session;
            if end.ends(session.sid.as_deref(), &session.sub, session.began_at) {
                entry.tell(Told::Ended(recorded.clone()));
            }
        }
    }

    /// Tells every listener `told`.
    fn tell_all(&self, told: &Told) {
        let table = self.lock();
        for (_, entry) in table.by_sub.values().flatten() {
            entry.tell(told.clone());
        }
    }
}

/// A listener registered in the routes, and counted, until dropped.
#[derive(Debug)]
struct Registration {
    entry: Arc<Entry>,
    id: u64,
    routes: Arc<Routes>,
    _slot: Slot,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.routes.remove(self.id, &self.entry.session);
    }
}

/// The broker's one routing task: every end the store reports, to its own listeners.
async fn route_ends(mut receiver: broadcast::Receiver<RecordedEnd>, routes: Weak<Routes>) {
    loop {
        let received = receiver.recv().await;
        let Some(routes) = routes.upgrade() else {
            return;
        };
        match received {
            Ok(end) => routes.route(&end),
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "session ends dropped before routing: listeners ask again"
                );
                routes.tell_all(&Told::AskAgain);
            }
            Err(RecvError::Closed) => {
                routes.tell_all(&Told::Closed);
                return;
            }
        }
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

    async fn ended(&self, store: &Store) -> Result<Option<RecordedEnd>, String> {
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
        Ok(Some(recorded)) => json!({ "ended": true, "ended_at": recorded.end.ended_at }),
        Err(error) => return unavailable(&error),
    };
    no_store(Json(answer))
}

/// `GET /sessions/events`: a stream that carries a keep-alive comment every
/// [`Listeners::keep_alive`] and, when the session ends (or at once if it has), one `ended`
/// event with the end's id, then closes. `Last-Event-ID` changes nothing: the end already
/// recorded is sent whatever id the client saw last, since a client still listening has not
/// acted on it.
pub(crate) async fn events(State(broker): State<Arc<Broker>>, headers: HeaderMap) -> Response {
    let session = match proven_session(&broker, &headers).await {
        Ok(session) => session,
        Err(refusal) => return refusal,
    };
    let (sid, sub) = (session.sid.clone(), session.sub.clone());
    // Registered before the store is asked, so an end recorded in between is in one or the other.
    let registration = match broker.listeners().listen(broker.store(), session) {
        Ok(registration) => registration,
        Err(cap) => {
            tracing::warn!(
                setting = cap.setting(),
                sub = %sub,
                sid = sid.as_deref().unwrap_or("-"),
                "session listener refused: a cap is reached"
            );
            let mut refusal = oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                Some(cap.description()),
            );
            refusal.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(RETRY_LISTENING_AFTER.as_secs()),
            );
            return refusal;
        }
    };
    let already = match registration.entry.session.ended(broker.store()).await {
        Ok(already) => already,
        Err(error) => return unavailable(&error),
    };
    let stream = session_end_events(
        Arc::clone(broker.store()),
        registration,
        already,
        Arc::clone(&broker.metrics),
    );
    let keep_alive = KeepAlive::new()
        .interval(broker.listeners().keep_alive)
        .text("keep-alive");
    no_store(Sse::new(stream).keep_alive(keep_alive))
}

/// Where a listener's stream stands.
enum Listening {
    /// Its session ended: the event is still to be sent.
    Ended(RecordedEnd),
    Waiting {
        store: Arc<Store>,
        registration: Registration,
    },
}

/// The `ended` event for the registered session (at once when `already` ended), then the end of
/// the stream.
fn session_end_events(
    store: Arc<Store>,
    registration: Registration,
    already: Option<RecordedEnd>,
    metrics: Arc<Metrics>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let start = match already {
        Some(end) => Listening::Ended(end),
        None => Listening::Waiting {
            store,
            registration,
        },
    };
    futures_util::stream::unfold(Some(start), move |state| {
        let metrics = Arc::clone(&metrics);
        async move {
            let end = match state? {
                Listening::Ended(end) => end,
                Listening::Waiting {
                    store,
                    registration,
                } => loop {
                    let entry = &registration.entry;
                    entry.notify.notified().await;
                    match entry.take() {
                        Some(Told::Ended(end)) => break end,
                        // Ends were dropped before they were routed: its own may be one.
                        Some(Told::AskAgain) => match entry.session.ended(&store).await {
                            Ok(Some(end)) => break end,
                            Ok(None) => {}
                            Err(error) => {
                                // Closed, so the client asks /sessions/status rather than miss it.
                                tracing::warn!(%error, "session listener closed: the store");
                                return None;
                            }
                        },
                        Some(Told::Closed) => return None,
                        None => {}
                    }
                },
            };
            metrics.end_delivered();
            Some((Ok(ended_event(&end)), None))
        }
    })
}

/// `event: ended`, `id: <end id>`, `data: {"ended_at": N}`.
fn ended_event(recorded: &RecordedEnd) -> Event {
    let data = json!({ "ended_at": recorded.end.ended_at }).to_string();
    Event::default()
        .event("ended")
        .id(recorded.id.to_string())
        .data(data)
}

/// The session the request's `Authorization: Bearer <id_token>` proves, or the answer refusing it.
async fn proven_session(broker: &Broker, headers: &HeaderMap) -> Result<Session, Response> {
    let now = SystemTime::now();
    let Some(token) = bearer_token(headers).map(|token| IdToken::new(token.to_owned())) else {
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
    let provider = &broker.config().provider;
    let verified = broker
        .verify_with_provider_keys(&metadata, now, |keys, allowed| {
            validate_session_proof(
                &token,
                keys,
                allowed,
                &SessionProofCheck {
                    issuer: &provider.issuer,
                    client_id: &provider.client_id,
                    // CIS2 names only the client; the broker trusts no other audience.
                    trusted_audiences: &[],
                    session_limit: ENDED_SESSION_MEMORY,
                    now,
                },
            )
        })
        .await;
    match verified {
        Ok(claims) => Ok(Session::from_claims(claims)),
        Err(KeyedError::Refused(error)) => {
            tracing::info!(outcome = "refused", code = error.code(), %error, "session listener");
            Err(invalid_token())
        }
        Err(error) => Err(unavailable(&error.to_string())),
    }
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
    let mut response = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        Some("the ID token is not proof of a current session with this provider"),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

fn unavailable(error: &str) -> Response {
    tracing::warn!(%error, outcome = "unavailable", "session listener");
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        Some("the provider's keys or the broker's store cannot be had now"),
    )
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;
    use crate::store::{EmbeddedStore, EndId, SessionEnd};

    fn end(sid: &str, ended_at: u64) -> SessionEnd {
        SessionEnd {
            sid: Some(sid.into()),
            sub: Some("u".into()),
            ended_at,
        }
    }

    fn recorded(end: SessionEnd) -> RecordedEnd {
        RecordedEnd {
            id: EndId::default(),
            end,
        }
    }

    /// Listeners capped at `max` in all, and not per session or user.
    fn listeners(max: usize) -> Listeners {
        Listeners::new(&Limits {
            max_listeners: max,
            max_listeners_per_session: std::num::NonZeroUsize::MAX,
            max_listeners_per_user: std::num::NonZeroUsize::MAX,
            ..Limits::default()
        })
    }

    fn session(sid: Option<&str>, sub: &str, began_at: u64) -> Session {
        Session {
            sid: sid.map(str::to_owned),
            sub: sub.into(),
            began_at,
        }
    }

    #[tokio::test]
    async fn a_listener_that_lags_behind_asks_the_store_and_still_hears_its_end() {
        let store = Arc::new(Store::Embedded(EmbeddedStore::open(None)));
        let listeners = listeners(10);
        let registration = listeners
            .listen(&store, session(Some("mine"), "u", 100))
            .unwrap();
        let events = session_end_events(Arc::clone(&store), registration, None, Arc::default());
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
        let table = listeners.routes.lock();
        assert!(
            table.by_sid.is_empty() && table.by_sub.is_empty(),
            "nor routed to"
        );
    }

    #[tokio::test]
    async fn an_end_is_routed_to_the_listeners_of_its_sid_or_its_sub_only() {
        let store = Arc::new(Store::Embedded(EmbeddedStore::open(None)));
        let listeners = listeners(10);
        let listen = |sid: Option<&str>, sub: &str, began_at| {
            listeners
                .listen(&store, session(sid, sub, began_at))
                .unwrap()
        };
        let mine = listen(Some("mine"), "u", 100);
        let other_sid = listen(Some("other"), "u", 100);
        let later_of_user = listen(None, "u", 300);
        let earlier_of_user = listen(None, "u", 100);
        let other_user = listen(None, "v", 100);
        listeners.routes.route(&recorded(end("mine", 200)));
        let told = |registration: &Registration| registration.entry.take();
        assert!(matches!(told(&mine), Some(Told::Ended(_))));
        for quiet in [&other_sid, &later_of_user, &earlier_of_user, &other_user] {
            assert!(told(quiet).is_none(), "{:?}", quiet.entry.session);
        }
        listeners.routes.route(&recorded(SessionEnd {
            sid: None,
            sub: Some("u".into()),
            ended_at: 200,
        }));
        assert!(matches!(told(&earlier_of_user), Some(Told::Ended(_))));
        assert!(matches!(told(&other_sid), Some(Told::Ended(_))));
        assert!(told(&later_of_user).is_none(), "begun after the end");
        assert!(told(&other_user).is_none());
    }

    #[test]
    fn listeners_are_counted_up_to_the_limit() {
        let listeners = listeners(2);
        let first = listeners.admit().unwrap();
        let _second = listeners.admit().unwrap();
        assert!(listeners.admit().is_none(), "over the limit");
        drop(first);
        assert_eq!(listeners.count(), 1);
        assert!(listeners.admit().is_some(), "a place freed is taken again");
    }

    /// Two listeners a session and three a user: the cap met is named, a refused listener takes
    /// no place, and a place freed is taken again.
    #[tokio::test]
    async fn listeners_are_capped_per_session_and_per_user() {
        let store = Arc::new(Store::Embedded(EmbeddedStore::open(None)));
        let listeners = Listeners::new(&Limits {
            max_listeners: 100,
            max_listeners_per_session: std::num::NonZeroUsize::new(2).unwrap(),
            max_listeners_per_user: std::num::NonZeroUsize::new(3).unwrap(),
            ..Limits::default()
        });
        let listen = |sid: Option<&str>, sub: &str| {
            listeners
                .listen(&store, session(sid, sub, 100))
                .map_err(Cap::setting)
        };
        let first = listen(Some("a"), "u").unwrap();
        let _second = listen(Some("a"), "u").unwrap();
        assert_eq!(
            listen(Some("a"), "u").unwrap_err(),
            "limits.max_listeners_per_session"
        );
        let _third = listen(Some("b"), "u").unwrap();
        assert_eq!(
            listen(Some("c"), "u").unwrap_err(),
            "limits.max_listeners_per_user"
        );
        assert_eq!(
            listen(None, "u").unwrap_err(),
            "limits.max_listeners_per_user",
            "a session without a sid counts for its user"
        );
        let _other_user = listen(Some("z"), "v").unwrap();
        assert_eq!(listeners.count(), 4, "the refused hold no place");
        drop(first);
        listen(Some("a"), "u").expect("a place freed is taken again");
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
