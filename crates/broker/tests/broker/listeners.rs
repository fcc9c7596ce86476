//! Desktops told that their session ended, over real HTTP: a client proves its session with its
//! ID token and asks `/sessions/status` or listens on `/sessions/events`; the mock provider ends
//! the session and delivers its back-channel logout to the broker, which tells the listener.
//!
//! Tokens the mock cannot issue (a session begun 13 hours ago, another audience, `alg: none`, an
//! end by `sub` alone) come from a provider of the test's own: a discovery document and a JWKS
//! served here, tokens signed here with aws-lc-rs, never by the code under test.
//!
//! Also here: the `ended` event's id (increasing, alike on two replicas on one Redis, the end
//! sent again to a client that reconnects with `Last-Event-ID`), the caps on listeners per
//! session and per user, and the per-source rate limits of `/sessions/*` and
//! `/backchannel-logout`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{
    broker_config, client_secret_file, mock_delivering_logout_to, new_broker, redis_url,
    serve_until, sign_in, Sides, TwoReplicas, CLIENT, EMBEDDED_STORE, NURSE,
};
use careid_broker::server::Broker;
use careid_broker::{BrokerConfig, EmbeddedStore, EndId, Store};
use careid_test_fixtures::broker_toml::BrokerToml;
use careid_test_fixtures::claims::{
    logout_token_claims, random_jti, session_id_token_claims, with_changes,
};
use careid_test_fixtures::discovery::{provider_document, TestProvider};
use careid_test_fixtures::jwt::{claims as claims_of, mint, JwtKey};
use careid_test_fixtures::keys::{generated_rsa_keys, RsaTestKey};
use careid_test_fixtures::{base64url as b64, now_seconds as now};
use mock_cis2::RunningMock;
use serde_json::{json, Value};

/// The listeners' keep-alive in these tests, instead of 15 seconds.
const KEEP_ALIVE: Duration = Duration::from_millis(150);

// ── The broker ────────────────────────────────────────────────────────────────────────────

struct RunningBroker {
    _dir: tempfile::TempDir,
    /// The internal listener's URL: `/sessions/*`.
    url: String,
    /// The public listener's URL: the provider's logout.
    public_url: String,
    broker: Arc<Broker>,
    /// Ends once the broker has stopped serving.
    server: tokio::task::JoinHandle<()>,
}

impl RunningBroker {
    fn logout_uri(&self) -> String {
        format!("{}/backchannel-logout", self.public_url)
    }
}

/// A broker for `issuer` on `sides`, with `limits` (TOML lines) in its configuration.
async fn broker_on(sides: Sides, issuer: &str, limits: &str) -> RunningBroker {
    broker_serving(sides, issuer, limits, KEEP_ALIVE, std::future::pending()).await
}

/// [`broker_on`] with its listeners' `keep_alive`, serving until `shutdown` completes.
async fn broker_serving(
    mut sides: Sides,
    issuer: &str,
    limits: &str,
    keep_alive: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> RunningBroker {
    let dir = tempfile::tempdir().unwrap();
    let config = broker_config(
        &sides,
        issuer,
        &client_secret_file(&dir),
        EMBEDDED_STORE,
        &format!("[limits]\nrequests_per_minute_per_source = 60\n{limits}"),
    );
    let broker = Arc::new(
        new_broker(config, Store::Embedded(EmbeddedStore::open(None))).with_keep_alive(keep_alive),
    );
    let server = serve_until(broker.clone(), &mut sides, shutdown);
    RunningBroker {
        server,
        _dir: dir,
        url: sides.internal_url,
        public_url: sides.public_url,
        broker,
    }
}

// ── The mock provider ─────────────────────────────────────────────────────────────────────

struct MockWorld {
    mock: RunningMock,
    broker: RunningBroker,
}

/// A mock that delivers its back-channel logout to a broker for it.
async fn mock_world(limits: &str) -> MockWorld {
    let sides = Sides::bind().await;
    let logout_uri = format!("{}/backchannel-logout", sides.public_url);
    let mock = mock_delivering_logout_to(&logout_uri).await;
    let broker = broker_on(sides, mock.issuer(), limits).await;
    MockWorld { mock, broker }
}

// ── A provider of the test's own ──────────────────────────────────────────────────────────

fn jwk(key: &RsaTestKey, kid: &str) -> Value {
    let mut jwk = key.jwk(kid);
    jwk["alg"] = json!("RS256");
    jwk
}

#[derive(Clone, Copy)]
enum Signer {
    /// RS256 with the key published as `first`.
    First,
    /// RS256 with the key published as `second` once the provider rotates it in.
    Second,
    /// HS256 keyed with the first key's public modulus.
    HmacWithPublicKey,
    /// `alg: none`, no signature.
    Unsigned,
}

fn sign(claims: &Value, signer: Signer) -> String {
    let (first, second) = generated_rsa_keys();
    let (header, key) = match signer {
        Signer::First => (
            json!({"alg": "RS256", "kid": "first", "typ": "JWT"}),
            JwtKey::Rsa(first),
        ),
        Signer::Second => (
            json!({"alg": "RS256", "kid": "second", "typ": "JWT"}),
            JwtKey::Rsa(second),
        ),
        Signer::HmacWithPublicKey => (
            json!({"alg": "HS256", "kid": "first", "typ": "JWT"}),
            JwtKey::Hmac(first.modulus()),
        ),
        Signer::Unsigned => (json!({"alg": "none", "typ": "JWT"}), JwtKey::Unsigned),
    };
    mint(&header, claims, key)
}

struct OwnWorld {
    /// The provider, whose published keys a test changes to rotate.
    provider: TestProvider,
    broker: RunningBroker,
}

impl OwnWorld {
    /// An ID token of a session begun at `auth_time`, with `changes` to its claims.
    fn id_token(&self, sid: &str, auth_time: u64, changes: Value) -> String {
        let mut claims =
            session_id_token_claims(&self.provider.issuer, CLIENT, NURSE, sid, auth_time);
        claims["nonce"] = json!("n");
        sign(&with_changes(claims, &changes), Signer::First)
    }

    /// The provider posts a logout token naming `sid` and/or `sub` to the broker.
    async fn log_out(&self, sid: Option<&str>, sub: Option<&str>) {
        let jti = format!("jti-{}", random_jti());
        let mut claims = logout_token_claims(&self.provider.issuer, CLIENT, now(), &jti);
        if let Some(sid) = sid {
            claims["sid"] = json!(sid);
        }
        if let Some(sub) = sub {
            claims["sub"] = json!(sub);
        }
        let answer = crate::support::http()
            .build()
            .unwrap()
            .post(self.broker.logout_uri())
            .form(&[("logout_token", sign(&claims, Signer::First))])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "the broker took the logout");
    }
}

/// A provider of the test's own (discovery and JWKS over HTTP, advertising HS256 and `none` as
/// well, which the broker must refuse regardless) and a broker for it, with `limits`.
async fn own_world(limits: &str) -> OwnWorld {
    let provider = own_provider().await;
    let broker = broker_on(Sides::bind().await, &provider.issuer, limits).await;
    OwnWorld { provider, broker }
}

/// The provider of [`own_world`].
async fn own_provider() -> TestProvider {
    TestProvider::start(
        |issuer| {
            let mut document = provider_document(issuer, &["RS256", "HS256", "none"]);
            document["backchannel_logout_supported"] = json!(true);
            document["backchannel_logout_session_supported"] = json!(true);
            document
        },
        json!({ "keys": [jwk(&generated_rsa_keys().0, "first")] }),
    )
    .await
}

// ── A client of the broker ────────────────────────────────────────────────────────────────

async fn status(broker: &RunningBroker, authorization: Option<&str>) -> (u16, Value) {
    let mut request = crate::support::http()
        .build()
        .unwrap()
        .get(format!("{}/sessions/status", broker.url));
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let answer = request.send().await.unwrap();
    let code = answer.status().as_u16();
    assert_eq!(answer.headers()["cache-control"], "no-store");
    (code, answer.json().await.unwrap())
}

async fn status_of(broker: &RunningBroker, id_token: &str) -> Value {
    let (code, body) = status(broker, Some(&format!("Bearer {id_token}"))).await;
    assert_eq!(code, 200, "{body}");
    body
}

/// The `ended` event as a client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ended {
    /// Its `id:`, the end's place in the broker's log of ends.
    id: EndId,
    ended_at: u64,
}

/// An `ended` event (its fields in any order), or `None` for any other message.
fn ended_event(message: &str) -> Option<Ended> {
    let mut fields = std::collections::HashMap::new();
    for line in message.lines() {
        let (name, value) = line.split_once(": ")?;
        assert!(
            fields.insert(name, value).is_none(),
            "{name} twice: {message:?}"
        );
    }
    if fields.get("event") != Some(&"ended") {
        return None;
    }
    let id = fields.get("id").expect("the event has an id");
    let data: Value = serde_json::from_str(fields.get("data").expect("data")).unwrap();
    Some(Ended {
        id: EndId::parse(id).unwrap_or_else(|| panic!("an end id: {id:?}")),
        ended_at: data["ended_at"].as_u64().expect("ended_at"),
    })
}

/// An open `/sessions/events` stream.
struct Listener {
    response: reqwest::Response,
    buffer: String,
}

impl Listener {
    /// Listens at the broker at `base` (`http://127.0.0.1:PORT`).
    async fn open(base: &str, id_token: &str) -> Self {
        Self::opened(Self::request(base, id_token, None).await)
    }

    /// Listens again, naming the last event id seen.
    async fn reopen(base: &str, id_token: &str, last_event_id: &str) -> Self {
        Self::opened(Self::request(base, id_token, Some(last_event_id)).await)
    }

    fn opened(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-store");
        Self {
            response,
            buffer: String::new(),
        }
    }

    async fn request(base: &str, id_token: &str, last_event_id: Option<&str>) -> reqwest::Response {
        let mut request = crate::support::http()
            .build()
            .unwrap()
            .get(format!("{base}/sessions/events"))
            .bearer_auth(id_token);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        request.send().await.unwrap()
    }

    /// The next message (an event or a comment), or `None` when the stream closed.
    async fn next(&mut self, within: Duration) -> Option<String> {
        tokio::time::timeout(within, async {
            loop {
                if let Some(at) = self.buffer.find("\n\n") {
                    let message = self.buffer[..at].to_owned();
                    self.buffer.drain(..at + 2);
                    return Some(message);
                }
                match self.response.chunk().await.unwrap() {
                    Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                    None => {
                        assert!(self.buffer.is_empty(), "a partial message: {}", self.buffer);
                        return None;
                    }
                }
            }
        })
        .await
        .expect("a message or the stream's close in time")
    }

    /// Waits for the `ended` event, skipping keep-alives.
    async fn ended(&mut self, within: Duration) -> Ended {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self.next(left).await.expect("the ended event, not a close");
            if message == ": keep-alive" {
                continue;
            }
            return ended_event(&message).unwrap_or_else(|| panic!("an ended event: {message:?}"));
        }
    }

    /// Only keep-alives for `count` intervals: the session goes on.
    async fn still_listening(&mut self, count: usize) {
        for _ in 0..count {
            assert_eq!(
                self.next(KEEP_ALIVE * 4).await.as_deref(),
                Some(": keep-alive"),
                "the session was not ended"
            );
        }
    }
}

// ── The session's end ─────────────────────────────────────────────────────────────────────

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_not_ended_until_the_mock_ends_the_session() {
    let world = mock_world("").await;
    let (sid, id_token) = sign_in(&world.mock).await;
    assert_eq!(
        status_of(&world.broker, &id_token).await,
        json!({"ended": false})
    );

    let before = now();
    assert!(world.mock.end_session(&sid), "the mock ends the session");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let answer = status_of(&world.broker, &id_token).await;
        if answer["ended"] == true {
            let ended_at = answer["ended_at"].as_u64().expect("ended_at");
            assert!(ended_at >= before && ended_at <= now(), "{answer}");
            break;
        }
        assert_eq!(answer, json!({"ended": false}));
        assert!(Instant::now() < deadline, "ended within 2 seconds");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_hears_the_end_within_two_seconds_then_the_stream_closes() {
    let world = mock_world("").await;
    let (sid, id_token) = sign_in(&world.mock).await;
    let mut listener = Listener::open(&world.broker.url, &id_token).await;
    // Kept alive while nothing happens.
    listener.still_listening(2).await;
    assert_eq!(world.broker.broker.listeners().count(), 1);

    let started = Instant::now();
    assert!(world.mock.end_session(&sid));
    let ended_at = listener.ended(Duration::from_secs(2)).await.ended_at;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(ended_at <= now());
    assert_eq!(
        listener.next(Duration::from_secs(2)).await,
        None,
        "the stream closes after the event"
    );
    assert_eq!(world.broker.broker.listeners().count(), 0);
}

// ── The stream's connection (served without hyper: `long_streams`) ───────────────────────

/// An [`own_world`] whose listeners' keep-alive is a minute, so that nothing but the connection
/// itself tells the broker a client has gone; it shuts down when the sender is used.
async fn quiet_world() -> (OwnWorld, tokio::sync::oneshot::Sender<()>) {
    let provider = own_provider().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let until_stopped = async move {
        let _ = stopped.await;
    };
    let broker = broker_serving(
        Sides::bind().await,
        &provider.issuer,
        "",
        Duration::from_secs(60),
        until_stopped,
    )
    .await;
    (OwnWorld { provider, broker }, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_hangs_up_is_let_go_at_once_not_at_the_next_keep_alive() {
    let (world, _stop) = quiet_world().await;
    let id_token = world.id_token("s", now() - 60, json!({}));
    let listener = Listener::open(&world.broker.url, &id_token).await;
    assert_eq!(world.broker.broker.listeners().count(), 1);
    drop(listener);
    let deadline = Instant::now() + Duration::from_secs(5);
    while world.broker.broker.listeners().count() > 0 {
        assert!(
            Instant::now() < deadline,
            "the broker let the listener go when its client closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_shutting_down_ends_its_listeners_streams_cleanly() {
    let (world, stop) = quiet_world().await;
    let id_token = world.id_token("s", now() - 60, json!({}));
    let mut listener = Listener::open(&world.broker.url, &id_token).await;
    stop.send(()).unwrap();
    // A clean end (the last chunk), which a client reads as "ask again", not a cut connection.
    assert_eq!(listener.next(Duration::from_secs(5)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_sent_a_request_do_not_hold_up_a_shutdown() {
    let (world, stop) = quiet_world().await;
    // HTTP clients open connections they never use: a pool racing a new connection against
    // one coming back keeps the loser, idle, to the end. One on each side, and one that has
    // begun its request (which is read to its end and answered before the broker stops).
    let mut unused = Vec::new();
    for base in [&world.broker.url, &world.broker.public_url] {
        let address = base.trim_start_matches("http://");
        unused.push(tokio::net::TcpStream::connect(address).await.unwrap());
    }
    let mut begun = tokio::net::TcpStream::connect(world.broker.url.trim_start_matches("http://"))
        .await
        .unwrap();
    {
        use tokio::io::AsyncWriteExt as _;
        begun.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        // Let the broker read the start of the request before it is asked to stop.
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.send(()).unwrap();
        begun.write_all(b"Host: b\r\n\r\n").await.unwrap();
    }
    let mut answer = String::new();
    {
        use tokio::io::AsyncReadExt as _;
        tokio::time::timeout(Duration::from_secs(5), begun.read_to_string(&mut answer))
            .await
            .expect("the begun request is answered, then closed")
            .unwrap();
    }
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), world.broker.server)
        .await
        .expect("the broker stopped with unused connections open")
        .unwrap();
    drop(unused);
}

/// Sends `request` on a new connection to `base` and reads the answer's head.
async fn raw_answer_head(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut connection = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    connection.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        let mut chunk = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let read = connection.read(&mut chunk).await.unwrap();
            assert!(read > 0, "closed before an answer: {head:?}");
            head.extend_from_slice(&chunk[..read]);
        }
    })
    .await
    .expect("an answer in time");
    String::from_utf8_lossy(&head).to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_request_is_answered_whatever_its_framing() {
    let world = own_world("").await;
    let id_token = world.id_token("s", now() - 60, json!({}));
    let url = &world.broker.url;

    let streaming = raw_answer_head(
        url,
        &format!(
            "GET /sessions/events HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {id_token}\r\n\r\n"
        ),
    )
    .await;
    assert!(streaming.starts_with("http/1.1 200 ok\r\n"), "{streaming}");
    for line in [
        "content-type: text/event-stream",
        "transfer-encoding: chunked",
        "cache-control: no-store",
    ] {
        assert!(streaming.contains(line), "{line} in {streaming}");
    }

    for (request, status, what) in [
        (
            "GET /sessions/events HTTP/1.1\r\nHost: b\r\n\r\n",
            "401",
            "no token",
        ),
        (
            "GET /sessions/events?x=1 HTTP/1.1\r\nHost: b\r\n\r\n",
            "401",
            "a query",
        ),
        (
            "GET /sessions/events HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nabc",
            "401",
            "a body (hyper's to read)",
        ),
        (
            "GET /sessions/events HTTP/1.0\r\nHost: b\r\n\r\n",
            "401",
            "HTTP/1.0 (hyper's)",
        ),
        (
            "GET /sessions/events HTTP/1.1\r\nBad Name: x\r\n\r\n",
            "400",
            "a malformed head",
        ),
        (
            "GET /sessions/status HTTP/1.1\r\nHost: b\r\n\r\n",
            "401",
            "another path",
        ),
    ] {
        let head = raw_answer_head(url, request).await;
        assert!(
            head.starts_with(&format!("http/1.1 {status} "))
                || head.starts_with(&format!("http/1.0 {status} ")),
            "{what}: {head}"
        );
    }
    assert_eq!(
        world.broker.broker.listeners().count(),
        0,
        "none was let listen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_already_ended_is_told_at_once() {
    let world = mock_world("").await;
    let (sid, id_token) = sign_in(&world.mock).await;
    assert!(world.mock.end_session(&sid));
    let deadline = Instant::now() + Duration::from_secs(2);
    while status_of(&world.broker, &id_token).await["ended"] != true {
        assert!(Instant::now() < deadline, "the broker recorded the end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let mut listener = Listener::open(&world.broker.url, &id_token).await;
    let message = listener.next(KEEP_ALIVE / 2).await.expect("the event");
    assert!(message.starts_with("event: ended\n"), "{message:?}");
    assert!(started.elapsed() < KEEP_ALIVE, "before any keep-alive");
    assert_eq!(listener.next(Duration::from_secs(2)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_another_session_does_not_end_this_one() {
    let world = mock_world("").await;
    let (mine, my_token) = sign_in(&world.mock).await;
    let (theirs, their_token) = sign_in(&world.mock).await;
    assert_ne!(mine, theirs);
    let mut listener = Listener::open(&world.broker.url, &my_token).await;
    let mut their_listener = Listener::open(&world.broker.url, &their_token).await;

    assert!(world.mock.end_session(&theirs));
    their_listener.ended(Duration::from_secs(2)).await;
    // The end was delivered and told; this one only keeps being kept alive.
    listener.still_listening(3).await;
    assert_eq!(
        status_of(&world.broker, &my_token).await,
        json!({"ended": false})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_by_sub_ends_the_sessions_begun_before_it_only() {
    let world = own_world("").await;
    let begun_before = world.id_token("before", now() - 100, json!({}));
    let mut listener = Listener::open(&world.broker.url, &begun_before).await;

    world.log_out(None, Some(NURSE)).await;
    let ended_at = listener.ended(Duration::from_secs(2)).await.ended_at;
    assert_eq!(
        status_of(&world.broker, &begun_before).await,
        json!({"ended": true, "ended_at": ended_at})
    );

    // A session the user began after that end goes on, by sid or without one.
    let begun_after = world.id_token("after", ended_at + 1, json!({}));
    let without_sid = world.id_token("", ended_at + 1, json!({ "sid": null }));
    for token in [&begun_after, &without_sid] {
        assert_eq!(
            status_of(&world.broker, token).await,
            json!({"ended": false})
        );
        Listener::open(&world.broker.url, token)
            .await
            .still_listening(2)
            .await;
    }
    // Another user's session, begun before, goes on too.
    let other_user = world.id_token("other", now() - 100, json!({ "sub": "555000000002" }));
    assert_eq!(
        status_of(&world.broker, &other_user).await,
        json!({"ended": false})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_beyond_the_limit_are_refused_until_one_leaves() {
    let world = mock_world("max_listeners = 2").await;
    let (_, id_token) = sign_in(&world.mock).await;
    let first = Listener::open(&world.broker.url, &id_token).await;
    let _second = Listener::open(&world.broker.url, &id_token).await;
    let refused = Listener::request(&world.broker.url, &id_token, None).await;
    assert_unavailable_naming(refused, "limits.max_listeners").await;
    // Status is still answered at the limit.
    assert_eq!(
        status_of(&world.broker, &id_token).await,
        json!({"ended": false})
    );

    drop(first);
    let deadline = Instant::now() + Duration::from_secs(2);
    while world.broker.broker.listeners().count() > 1 {
        assert!(Instant::now() < deadline, "a closed stream frees its place");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Listener::open(&world.broker.url, &id_token).await;
}

/// 503 `temporarily_unavailable` with `Retry-After`, never cached, its description naming
/// `setting`.
async fn assert_unavailable_naming(refused: reqwest::Response, setting: &str) {
    assert_eq!(refused.status(), 503, "{setting}");
    assert_retry_after(&refused, setting);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(&format!("{setting})")),
        "{setting}: {description}"
    );
}

/// A `Retry-After` of whole seconds, at least one, and `Cache-Control: no-store`.
fn assert_retry_after(answer: &reqwest::Response, what: &str) {
    assert_eq!(answer.headers()["cache-control"], "no-store", "{what}");
    let retry_after = answer
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{what}: no Retry-After"))
        .to_str()
        .unwrap()
        .parse::<u64>()
        .unwrap_or_else(|_| panic!("{what}: Retry-After in seconds"));
    assert!((1..=60).contains(&retry_after), "{what}: {retry_after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifth_listener_of_one_session_is_refused_while_another_session_connects() {
    // The default caps: 4 a session, 8 a user.
    let world = mock_world("").await;
    let (_, id_token) = sign_in(&world.mock).await;
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(Listener::open(&world.broker.url, &id_token).await);
    }
    let refused = Listener::request(&world.broker.url, &id_token, None).await;
    assert_unavailable_naming(refused, "limits.max_listeners_per_session").await;

    // The same user's other session still listens, and is kept alive.
    let (_, another_session) = sign_in(&world.mock).await;
    Listener::open(&world.broker.url, &another_session)
        .await
        .still_listening(1)
        .await;
    // A place the session freed is its own again.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(2);
    while world.broker.broker.listeners().count() > 3 {
        assert!(Instant::now() < deadline, "a closed stream frees its place");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Listener::open(&world.broker.url, &id_token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_past_the_per_user_cap_are_refused_while_another_user_connects() {
    let world = own_world("max_listeners_per_user = 3").await;
    let session = |sid: &str| world.id_token(sid, now() - 60, json!({}));
    let url = &world.broker.url;
    let _a = Listener::open(url, &session("a")).await;
    let _a_again = Listener::open(url, &session("a")).await;
    let b = Listener::open(url, &session("b")).await;
    // A third session of the user, below its own cap, is refused at the user's.
    let refused = Listener::request(url, &session("c"), None).await;
    assert_unavailable_naming(refused, "limits.max_listeners_per_user").await;

    let other_user = world.id_token("a", now() - 60, json!({ "sub": "555000000002" }));
    Listener::open(url, &other_user)
        .await
        .still_listening(1)
        .await;
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(2);
    while world.broker.broker.listeners().count() > 2 {
        assert!(Instant::now() < deadline, "a closed stream frees its place");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Listener::open(url, &session("c")).await;
}

// ── The end's id ──────────────────────────────────────────────────────────────────────────

/// A client that was away when its session ended reconnects naming the last event id it saw
/// (here an earlier end's): it is sent its end at once, before any keep-alive, with a later id.
/// Whatever id it names, even that very end's or one that is no id at all, the end is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_recorded_while_a_client_was_away_is_sent_when_it_reconnects_with_last_event_id() {
    let world = own_world("").await;
    let url = &world.broker.url;
    let earlier = world.id_token("earlier", now() - 100, json!({}));
    let mut listener = Listener::open(url, &earlier).await;
    world.log_out(Some("earlier"), None).await;
    let seen = listener.ended(Duration::from_secs(2)).await;

    let mine = world.id_token("mine", now() - 100, json!({}));
    let mut away = Listener::open(url, &mine).await;
    away.still_listening(1).await;
    drop(away);
    let deadline = Instant::now() + Duration::from_secs(2);
    while world.broker.broker.listeners().count() > 0 {
        assert!(Instant::now() < deadline, "the client is away");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    world.log_out(Some("mine"), None).await;

    let started = Instant::now();
    let mut back = Listener::reopen(url, &mine, &seen.id.to_string()).await;
    let message = back.next(KEEP_ALIVE / 2).await.expect("the event");
    assert!(started.elapsed() < KEEP_ALIVE, "before any keep-alive");
    let told = ended_event(&message).unwrap_or_else(|| panic!("{message:?}"));
    assert!(told.id > seen.id, "{told:?} after {seen:?}");
    assert_eq!(back.next(Duration::from_secs(2)).await, None, "then closed");

    for last_event_id in [told.id.to_string(), "not-an-id".to_owned()] {
        let again = Listener::reopen(url, &mine, &last_event_id)
            .await
            .ended(KEEP_ALIVE / 2)
            .await;
        assert_eq!(again, told, "named {last_event_id}");
    }
    assert_eq!(
        status_of(&world.broker, &mine).await,
        json!({"ended": true, "ended_at": told.ended_at})
    );
}

/// Ends recorded one after another have increasing ids, by `sid` or by `sub`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_end_has_a_later_id_than_the_one_before() {
    let world = own_world("").await;
    let url = &world.broker.url;
    let other_user = "555000000002";
    let tokens = [
        world.id_token("one", now() - 100, json!({})),
        world.id_token("two", now() - 100, json!({})),
        world.id_token("three", now() - 100, json!({ "sub": other_user })),
    ];
    let mut ids = Vec::new();
    for (token, (sid, sub)) in tokens.iter().zip([
        (Some("one"), None),
        (Some("two"), Some(NURSE)),
        (None, Some(other_user)),
    ]) {
        let mut listener = Listener::open(url, token).await;
        world.log_out(sid, sub).await;
        ids.push(listener.ended(Duration::from_secs(2)).await.id);
    }
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
}

/// A desktop listening on either of two replicas on one Redis hears the same end with the same
/// id, and so does one that asks either of them later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_redis_give_an_end_the_same_id() {
    let world = TwoReplicas::start(&redis_url()).await;
    let (sid, id_token) = sign_in(&world.mock).await;
    let mut on_a = Listener::open(&world.a.base, &id_token).await;
    let mut on_b = Listener::open(&world.b.base, &id_token).await;
    assert!(world.mock.end_session(&sid), "the mock ends the session");
    let heard = on_a.ended(Duration::from_secs(2)).await;
    assert_eq!(on_b.ended(Duration::from_secs(2)).await, heard);
    for base in [&world.a.base, &world.b.base] {
        let later = Listener::open(base, &id_token)
            .await
            .ended(Duration::from_secs(2))
            .await;
        assert_eq!(later, heard, "{base}");
    }
}

// ── Rate limits ───────────────────────────────────────────────────────────────────────────

/// A request of any kind to `path` (`GET`, or `POST` with a form), from this test's address.
async fn ask(broker: &RunningBroker, path: &str, authorization: Option<&str>) -> reqwest::Response {
    let http = crate::support::http().build().unwrap();
    // The provider's logout is on the public listener; the rest on the internal one.
    let base = if path == "/backchannel-logout" {
        &broker.public_url
    } else {
        &broker.url
    };
    let url = format!("{base}{path}");
    let mut request = if path == "/sessions/status" || path == "/sessions/events" {
        http.get(url)
    } else {
        http.post(url)
            .header("careid-issuer", "https://unbrokered.example")
            .form(&[("logout_token", "not-a-token")])
    };
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request.send().await.unwrap()
}

async fn assert_rate_limited(answer: reqwest::Response, what: &str) {
    assert_eq!(answer.status(), 429, "{what}");
    assert_retry_after(&answer, what);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{what}: {body}");
}

/// `/sessions/status` and `/sessions/events` share one budget a source, counted whatever the
/// answer; past it both get 429 with `Retry-After`, while the provider's logouts and the relays,
/// with budgets of their own, are still answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_requests_past_their_budget_get_429_and_other_routes_keep_theirs() {
    let world = mock_world("session_requests_per_minute_per_source = 3").await;
    let (_, id_token) = sign_in(&world.mock).await;
    let bearer = format!("Bearer {id_token}");
    status_of(&world.broker, &id_token).await;
    assert_eq!(
        ask(&world.broker, "/sessions/status", None).await.status(),
        401
    );
    let _listening = Listener::open(&world.broker.url, &id_token).await;
    for path in ["/sessions/status", "/sessions/events"] {
        assert_rate_limited(ask(&world.broker, path, Some(&bearer)).await, path).await;
    }
    assert_eq!(
        world.broker.broker.listeners().count(),
        1,
        "a refused request opens no stream"
    );
    for path in ["/backchannel-logout", "/token"] {
        let answer = ask(&world.broker, path, None).await;
        assert_eq!(answer.status(), 400, "{path}: its own budget");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logouts_past_their_budget_get_429_and_session_requests_keep_theirs() {
    let world = mock_world("logouts_per_minute_per_source = 2").await;
    let (_, id_token) = sign_in(&world.mock).await;
    for _ in 0..2 {
        let answer = ask(&world.broker, "/backchannel-logout", None).await;
        assert_eq!(answer.status(), 400, "a broken token, counted all the same");
    }
    let answer = ask(&world.broker, "/backchannel-logout", None).await;
    assert_rate_limited(answer, "the third logout").await;
    assert_eq!(
        status_of(&world.broker, &id_token).await,
        json!({"ended": false})
    );
}

/// The caps and budgets have defaults, and a zero is refused at start, naming the setting.
#[test]
fn listener_caps_and_budgets_default_and_refuse_zero() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    let toml = BrokerToml::new(
        "https://broker.example",
        "https://careid-broker.example:9443",
        "https://issuer.example",
        CLIENT,
        "client_secret_basic",
        &secret,
        crate::support::REDIRECT,
    );
    let parse = |limits: &str| {
        BrokerConfig::parse(&toml.with_tables(&format!(
            "{EMBEDDED_STORE}\n[limits]\nrequests_per_minute_per_source = 60\n{limits}"
        )))
    };
    let limits = parse("").unwrap().limits;
    assert_eq!(limits.max_listeners_per_session.get(), 4);
    assert_eq!(limits.max_listeners_per_user.get(), 8);
    assert_eq!(limits.session_requests_per_minute_per_source.get(), 120);
    assert_eq!(limits.logouts_per_minute_per_source.get(), 600);
    for setting in [
        "max_listeners_per_session",
        "max_listeners_per_user",
        "session_requests_per_minute_per_source",
        "logouts_per_minute_per_source",
    ] {
        let message = parse(&format!("{setting} = 0")).unwrap_err();
        assert!(message.contains(setting), "{setting}: {message}");
        assert!(message.contains("nonzero"), "{setting}: {message}");
    }
}

// ── The proof refused ─────────────────────────────────────────────────────────────────────

/// Both endpoints answer 401 `invalid_token` with the challenge, and echo nothing of the token.
async fn assert_refused(broker: &RunningBroker, authorization: Option<&str>, what: &str) {
    for path in ["/sessions/status", "/sessions/events"] {
        let mut request = crate::support::http()
            .build()
            .unwrap()
            .get(format!("{}{path}", broker.url));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 401, "{what}: {path}");
        let headers = answer.headers().clone();
        assert_eq!(
            headers["www-authenticate"], "Bearer error=\"invalid_token\"",
            "{what}: {path}"
        );
        assert_eq!(headers["cache-control"], "no-store", "{what}: {path}");
        let body = answer.text().await.unwrap();
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"], "invalid_token", "{what}: {path}");
        if let Some(token) = authorization.and_then(|value| value.split(' ').nth(1)) {
            for part in token.split('.').filter(|part| part.len() > 8) {
                assert!(!body.contains(part), "{what}: the token echoed: {body}");
                for value in headers.values() {
                    assert!(!value.to_str().unwrap_or_default().contains(part), "{what}");
                }
            }
        }
    }
    assert_eq!(
        broker.broker.listeners().count(),
        0,
        "{what}: no listener left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_bearer_id_token_is_refused() {
    let world = mock_world("").await;
    let (_, id_token) = sign_in(&world.mock).await;
    assert_refused(&world.broker, None, "no header").await;
    assert_refused(&world.broker, Some("Bearer"), "no token").await;
    assert_refused(&world.broker, Some("Bearer not-a-jwt"), "not a JWT").await;
    assert_refused(
        &world.broker,
        Some(&format!("Basic {id_token}")),
        "another scheme",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_with_a_tampered_signature_is_refused() {
    let world = mock_world("").await;
    let (_, id_token) = sign_in(&world.mock).await;
    let mut tampered = id_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_refused(
        &world.broker,
        Some(&format!("Bearer {tampered}")),
        "a bad signature",
    )
    .await;
    // The claims changed under a genuine signature.
    let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
    let mut claims = claims_of(&id_token);
    claims["sid"] = json!("someone-elses-session");
    parts[1] = b64(claims.to_string().as_bytes());
    assert_refused(
        &world.broker,
        Some(&format!("Bearer {}", parts.join("."))),
        "changed claims",
    )
    .await;
    // The genuine token is taken.
    status_of(&world.broker, &id_token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_issuers_id_token_is_refused() {
    let world = mock_world("").await;
    let other = mock_delivering_logout_to("http://127.0.0.1:9/unused").await;
    let (_, theirs) = sign_in(&other).await;
    assert_eq!(claims_of(&theirs)["aud"], CLIENT, "the same client id");
    assert_refused(
        &world.broker,
        Some(&format!("Bearer {theirs}")),
        "another issuer",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_for_another_audience_is_refused() {
    let world = own_world("").await;
    let theirs = world.id_token(
        "s",
        now() - 60,
        json!({ "aud": "someone-else", "azp": null }),
    );
    assert_refused(
        &world.broker,
        Some(&format!("Bearer {theirs}")),
        "wrong aud",
    )
    .await;
    let ours = world.id_token("s", now() - 60, json!({}));
    status_of(&world.broker, &ours).await;
}

/// The session proof has the sign-in's party rules: a token also for another audience, or
/// authorised for another party, or with several audiences and no `azp`, proves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_also_for_another_party_is_refused() {
    let world = own_world("").await;
    let cases = [
        (
            json!({ "aud": [CLIENT, "someone-else"], "azp": CLIENT }),
            "another audience beside the client",
        ),
        (json!({ "azp": "someone-else" }), "another authorised party"),
        (
            json!({ "aud": [CLIENT, "someone-else"], "azp": null }),
            "several audiences, no azp",
        ),
    ];
    for (changes, what) in cases {
        let theirs = world.id_token("s", now() - 60, changes);
        assert_refused(&world.broker, Some(&format!("Bearer {theirs}")), what).await;
    }
    let ours = world.id_token("s", now() - 60, json!({ "azp": CLIENT }));
    status_of(&world.broker, &ours).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_begun_twelve_hours_ago_is_refused_but_an_expired_id_token_is_not() {
    let world = own_world("").await;
    let hours = |n: u64| n * 3600;
    let old = world.id_token("s", now() - hours(12) - 5, json!({}));
    assert_refused(&world.broker, Some(&format!("Bearer {old}")), "12 hours").await;
    let old_without_auth_time = world.id_token(
        "s",
        now() - hours(13),
        json!({ "auth_time": null, "iat": now() - hours(13) }),
    );
    assert_refused(
        &world.broker,
        Some(&format!("Bearer {old_without_auth_time}")),
        "iat 13 hours ago",
    )
    .await;
    // Begun 11 hours ago, its ID token expired 10 hours ago: still proof of the session.
    let expired = world.id_token("s", now() - hours(11), json!({ "exp": now() - hours(10) }));
    assert_eq!(
        status_of(&world.broker, &expired).await,
        json!({"ended": false})
    );
    Listener::open(&world.broker.url, &expired)
        .await
        .still_listening(1)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg_none_and_hs256_are_refused_though_advertised() {
    let world = own_world("").await;
    let claims = claims_of(&world.id_token("s", now() - 60, json!({})));
    for (signer, what) in [
        (Signer::Unsigned, "alg none"),
        (Signer::HmacWithPublicKey, "HS256 keyed with the public key"),
    ] {
        let token = sign(&claims, signer);
        assert_refused(&world.broker, Some(&format!("Bearer {token}")), what).await;
    }
    status_of(&world.broker, &sign(&claims, Signer::First)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_larger_than_any_id_token_is_refused() {
    let world = own_world("").await;
    let padding = "x".repeat(70 * 1024);
    let large = world.id_token("s", now() - 60, json!({ "padding": padding }));
    assert_refused(&world.broker, Some(&format!("Bearer {large}")), "70 KiB").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_provider_rotated_in_is_fetched_once_more() {
    let world = own_world("").await;
    // The broker has the first key set cached.
    status_of(&world.broker, &world.id_token("s", now() - 60, json!({}))).await;
    let (first, second) = generated_rsa_keys();
    world
        .provider
        .publish_jwks(json!({ "keys": [jwk(first, "first"), jwk(second, "second")] }));
    let claims = claims_of(&world.id_token("s", now() - 60, json!({})));
    let rotated = sign(&claims, Signer::Second);
    assert_eq!(
        status_of(&world.broker, &rotated).await,
        json!({"ended": false})
    );
}
