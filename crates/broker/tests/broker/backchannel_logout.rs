//! The broker receives the mock provider's back-channel logout over real HTTP: the mock ends a
//! session, posts its signed logout token to the broker's registered URI, and the broker records
//! the end and tells its listeners. Replays and forgeries change nothing.

use std::sync::Arc;
use std::time::Duration;

use crate::support::lost_reply::LostReplyProxy;
use crate::support::{
    broker_config, client_secret_file, command, mock_delivering_logout_to, new_broker, serve,
    sign_in, unique_prefix, OwnRedis, Sides, EMBEDDED_STORE, NURSE,
};
use careid_broker::server::Broker;
use careid_broker::{EmbeddedStore, RedisStore, Store, ENDED_SESSION_MEMORY};
use mock_cis2::RunningMock;
use serde_json::Value;

struct World {
    _dir: tempfile::TempDir,
    mock: RunningMock,
    broker: Arc<Broker>,
    logout_uri: String,
    /// The internal listener's URL: `/sessions/*`.
    internal_url: String,
}

impl World {
    /// The end the broker recorded for the nurse's session `sid`, if any.
    async fn ended(&self, sid: &str) -> Option<careid_broker::SessionEnd> {
        self.broker
            .store()
            .ended(Some(sid), NURSE, 0, std::time::SystemTime::now())
            .await
            .unwrap()
            .map(|recorded| recorded.end)
    }
}

/// A mock and a broker on a store in memory; the mock posts its logout tokens to the broker, or
/// to `registered`.
async fn world(registered: Option<&str>) -> World {
    world_on(registered, Store::Embedded(EmbeddedStore::open(None))).await
}

async fn world_on(registered: Option<&str>, store: Store) -> World {
    let mut sides = Sides::bind().await;
    let logout_uri = format!("{}/backchannel-logout", sides.public_url);
    let mock = mock_delivering_logout_to(registered.unwrap_or(&logout_uri)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = broker_config(
        &sides,
        mock.issuer(),
        &client_secret_file(&dir),
        EMBEDDED_STORE,
        "",
    );
    let broker = Arc::new(new_broker(config, store));
    serve(broker.clone(), &mut sides);
    World {
        _dir: dir,
        mock,
        broker,
        logout_uri,
        internal_url: sides.internal_url,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_provider_ends_is_recorded_and_told_to_listeners() {
    let world = world(None).await;
    let mut listener = world.broker.store().subscribe();
    let (sid, _) = sign_in(&world.mock).await;
    let began = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    assert!(world.mock.end_session(&sid), "the mock ends the session");

    let told = tokio::time::timeout(Duration::from_secs(2), listener.recv())
        .await
        .expect("told within 2 seconds")
        .expect("an end");
    assert_eq!(told.end.sid.as_deref(), Some(sid.as_str()));
    assert_eq!(told.end.sub.as_deref(), Some(NURSE));
    assert_eq!(
        world
            .broker
            .store()
            .ended(Some(&sid), NURSE, began, std::time::SystemTime::now())
            .await
            .unwrap(),
        Some(told),
        "the same end, with the same id"
    );
    // The mock saw its delivery answered 200 (it records it once the answer is in).
    let deliveries = crate::support::backchannel_deliveries(&world.mock).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].uri, world.logout_uri);
    assert!(
        format!("{:?}", deliveries[0].outcome).contains("200"),
        "{deliveries:?}"
    );
}

/// Where the mock's logout token is caught, so the test can post it itself.
async fn catcher() -> (String, tokio::sync::mpsc::Receiver<String>) {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/caught", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/caught",
        axum::routing::post(move |body: String| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body).await;
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (uri, receiver)
}

async fn post(uri: &str, body: &str) -> (u16, Option<String>, Value) {
    let answer = crate::support::http()
        .build()
        .unwrap()
        .post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let cache = answer
        .headers()
        .get("cache-control")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, cache, answer.json().await.unwrap_or(Value::Null))
}

/// A real logout token the mock signed, caught before it reached the broker, with its world.
struct Caught {
    world: World,
    sid: String,
    id_token: String,
    /// The form body the mock posted.
    body: String,
    token: String,
}

/// Signs in, has the mock end the session, and catches the logout token it posts (to a catcher
/// registered in the broker's place, so the broker has not seen it).
async fn caught_logout() -> Caught {
    caught_logout_on(Store::Embedded(EmbeddedStore::open(None))).await
}

async fn caught_logout_on(store: Store) -> Caught {
    let (caught_at, mut caught) = catcher().await;
    let world = world_on(Some(&caught_at), store).await;
    let (sid, id_token) = sign_in(&world.mock).await;
    assert!(world.mock.end_session(&sid));
    let body = tokio::time::timeout(Duration::from_secs(5), caught.recv())
        .await
        .expect("the mock posted its logout token")
        .unwrap();
    let token = url::form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "logout_token")
        .expect("a logout_token")
        .1
        .into_owned();
    Caught {
        world,
        sid,
        id_token,
        body,
        token,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_a_tampered_or_an_id_token_logout_is_refused_and_changes_nothing() {
    let Caught {
        world,
        sid,
        id_token,
        body,
        token,
    } = caught_logout().await;

    // Refused before the real one arrives: each changes nothing.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let refusals = [
        ("no token", String::new()),
        ("an empty token", "logout_token=".to_owned()),
        ("not a JWT", "logout_token=not.a.jwt".to_owned()),
        (
            "two tokens",
            format!("logout_token={token}&logout_token={token}"),
        ),
        ("a bad signature", format!("logout_token={tampered}")),
        (
            "an ID token (a nonce, no event)",
            format!("logout_token={id_token}"),
        ),
    ];
    for (what, body) in &refusals {
        let (status, cache, answer) = post(&world.logout_uri, body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert_eq!(answer["error"], "invalid_request", "{what}");
        assert_eq!(cache.as_deref(), Some("no-store"), "{what}");
        assert_eq!(world.ended(&sid).await, None, "{what} ended nothing");
    }

    let (status, cache, _) = post(&world.logout_uri, &body).await;
    assert_eq!((status, cache.as_deref()), (200, Some("no-store")));
    assert!(world.ended(&sid).await.is_some());
    let (status, _, answer) = post(&world.logout_uri, &body).await;
    assert_eq!(status, 400, "a replayed jti: {answer}");
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("already"),
        "{answer}"
    );
}

/// A store that fails after the logout token arrived loses no logout: the broker answers 503,
/// and the provider's retry of the same token is received and ends the session. (The `jti` was
/// recorded first before, so the retry was refused as a replay and the session ran on.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_the_store_failed_to_record_is_received_when_the_provider_retries() {
    let store_dir = tempfile::tempdir().unwrap();
    let store_file = store_dir.path().join("store.json");
    let Caught {
        world, sid, body, ..
    } = caught_logout_on(Store::Embedded(EmbeddedStore::open(Some(&store_file)))).await;

    // A folder where the store file goes: every write fails, as a full or failing disk would.
    std::fs::create_dir(&store_file).unwrap();
    let (status, cache, answer) = post(&world.logout_uri, &body).await;
    assert_eq!(
        (status, cache.as_deref()),
        (503, Some("no-store")),
        "{answer}"
    );
    assert_eq!(answer["error"], "temporarily_unavailable");
    assert_eq!(world.ended(&sid).await, None, "nothing is half-recorded");

    std::fs::remove_dir(&store_file).unwrap();
    let (status, _, answer) = post(&world.logout_uri, &body).await;
    assert_eq!(status, 200, "the retry is received: {answer}");
    assert!(world.ended(&sid).await.is_some(), "the session is ended");
    let kept = std::fs::read_to_string(&store_file).unwrap();
    assert!(kept.contains(&sid), "the end is on disk");

    let (status, _, answer) = post(&world.logout_uri, &body).await;
    assert_eq!(status, 400, "then a replay: {answer}");
}

/// With Redis, the end is recorded before the `jti`: when recording the end fails (here a Redis
/// user that may not run the end's script, while it could still record the `jti`), the provider's
/// retry is not taken for a replay, and ends the session once Redis takes the end again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_whose_end_redis_refused_is_received_when_the_provider_retries() {
    let redis = OwnRedis::start(&[]);
    let admin = redis.url();
    let user = "careid-broker-test";
    command(
        &admin,
        &[
            "ACL", "SETUSER", user, "reset", "on", ">secret", "~*", "&*", "+@all", "-eval",
        ],
    )
    .await;
    let as_user = admin.replacen("redis://", &format!("redis://{user}:secret@"), 1);
    let store = RedisStore::open(
        &as_user,
        None,
        None,
        &unique_prefix("end-refused"),
        ENDED_SESSION_MEMORY,
    )
    .await
    .unwrap();
    let Caught {
        world, sid, body, ..
    } = caught_logout_on(Store::Redis(store)).await;

    let (status, _, answer) = post(&world.logout_uri, &body).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(world.ended(&sid).await, None);

    command(&admin, &["ACL", "SETUSER", user, "+eval"]).await;
    let (status, _, answer) = post(&world.logout_uri, &body).await;
    assert_eq!(
        status, 200,
        "the retry is received, not taken for a replay: {answer}"
    );
    assert!(world.ended(&sid).await.is_some(), "the session is ended");
    let (status, _, answer) = post(&world.logout_uri, &body).await;
    assert_eq!(status, 400, "then a replay: {answer}");
}

/// Anyone can post to the back-channel logout URI: a stream of tokens naming made-up `kid`s
/// makes the broker refetch the provider's keys once per cooldown, never once per token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_tokens_with_made_up_kids_make_one_key_refetch_not_one_each() {
    use base64::Engine as _;
    let Caught { world, token, .. } = caught_logout().await;
    let (header, rest) = token.split_once('.').unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut header: Value = serde_json::from_slice(&b64.decode(header).unwrap()).unwrap();
    let key_fetches = |mock: &RunningMock| {
        mock.request_log()
            .iter()
            .filter(|request| request.endpoint.contains("jwk"))
            .count()
    };
    for n in 0..50 {
        header["kid"] = Value::String(format!("made-up-{n}"));
        let forged = format!("{}.{rest}", b64.encode(header.to_string()));
        let (status, _, answer) = post(&world.logout_uri, &format!("logout_token={forged}")).await;
        assert_eq!(status, 400, "made-up kid {n}: {answer}");
    }
    // The first fetch, and one refetch for the first unknown kid.
    assert_eq!(key_fetches(&world.mock), 2);
}

/// Each Redis step of a back-channel logout, its reply lost after Redis applied it (a network
/// failure or a failover at the worst moment): the first delivery is answered 503, the
/// provider's retry is received, or refused as already received only once the end is kept, and
/// the session is ended for the store, its listeners and `/sessions/status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_survives_a_lost_redis_reply_at_every_step() {
    // (command, its step, whether the first delivery recorded the end, the retry's status)
    let steps = [
        ("EXISTS", "checking the jti", false, 200),
        ("EVAL", "recording and publishing the end", true, 200),
        ("SET", "recording the jti", true, 400),
    ];
    let redis = OwnRedis::start(&[]);
    for (command_name, step, recorded_first, retry_status) in steps {
        let proxy = LostReplyProxy::start(redis.address()).await;
        let store = RedisStore::open(
            &proxy.url(),
            None,
            None,
            &unique_prefix("lost-reply"),
            ENDED_SESSION_MEMORY,
        )
        .await
        .unwrap();
        let Caught {
            world,
            sid,
            id_token,
            body,
            ..
        } = caught_logout_on(Store::Redis(store)).await;
        let mut listener = world.broker.store().subscribe();

        proxy.lose_reply_to(command_name);
        let (status, _, answer) = post(&world.logout_uri, &body).await;
        assert_eq!(proxy.replies_lost(), 1, "{step}: the reply was lost");
        assert_eq!(status, 503, "{step}: {answer}");
        assert_eq!(
            world.ended(&sid).await.is_some(),
            recorded_first,
            "{step}: what the first delivery recorded"
        );

        let (status, _, answer) = post(&world.logout_uri, &body).await;
        assert_eq!(status, retry_status, "{step}: the retry: {answer}");
        if status == 400 {
            assert!(
                answer["error_description"]
                    .as_str()
                    .unwrap()
                    .contains("already received"),
                "{step}: {answer}"
            );
        }
        assert!(world.ended(&sid).await.is_some(), "{step}: ended");
        let told = tokio::time::timeout(Duration::from_secs(2), listener.recv())
            .await
            .unwrap_or_else(|_| panic!("{step}: the listeners were told"))
            .unwrap();
        assert_eq!(told.end.sid.as_deref(), Some(sid.as_str()), "{step}");
        let status: Value = crate::support::http()
            .build()
            .unwrap()
            .get(format!("{}/sessions/status", world.internal_url))
            .bearer_auth(&id_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(status["ended"], true, "{step}: {status}");

        let (status, _, answer) = post(&world.logout_uri, &body).await;
        assert_eq!(status, 400, "{step}: then a replay: {answer}");
        assert_eq!(proxy.replies_lost(), 1, "{step}: one reply lost, no more");
    }
}
