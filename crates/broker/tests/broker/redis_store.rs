//! The Redis store against a real `redis-server`: several replicas share seen token ids and
//! ended sessions, an end recorded by one reaches every other's listeners, Redis forgets on
//! time, a replica rides out Redis going away, and two full brokers on one Redis pass the
//! provider's logout from one to the other.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::{now_seconds, redis_url, unique_prefix, OwnRedis, TwoReplicas, NURSE};
use careid_broker::config::StoreConfig;
use careid_broker::{RecordedEnd, RedisStore, SessionEnd, Store, ENDED_SESSION_MEMORY};
use tokio::sync::broadcast;

async fn replica(url: &str, prefix: &str) -> RedisStore {
    RedisStore::open(url, None, None, prefix, ENDED_SESSION_MEMORY)
        .await
        .expect("the Redis store opens")
}

async fn told_within(
    listener: &mut broadcast::Receiver<RecordedEnd>,
    within: Duration,
) -> SessionEnd {
    recorded_within(listener, within).await.end
}

/// The next end told, with its id.
async fn recorded_within(
    listener: &mut broadcast::Receiver<RecordedEnd>,
    within: Duration,
) -> RecordedEnd {
    tokio::time::timeout(within, listener.recv())
        .await
        .unwrap_or_else(|_| panic!("no end told within {within:?}"))
        .expect("an end")
}

/// The end `store` has recorded for the session, without its id.
async fn ended(
    store: &RedisStore,
    sid: Option<&str>,
    sub: &str,
    began_at: u64,
) -> Option<SessionEnd> {
    store
        .ended(sid, sub, began_at)
        .await
        .unwrap()
        .map(|recorded| recorded.end)
}

fn end_of(sid: Option<&str>, sub: Option<&str>, ended_at: u64) -> SessionEnd {
    SessionEnd {
        sid: sid.map(str::to_owned),
        sub: sub.map(str::to_owned),
        ended_at,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_token_id_is_first_seen_by_exactly_one_of_two_replicas() {
    let url = redis_url();
    let prefix = unique_prefix("jti");
    let a = Arc::new(replica(&url, &prefix).await);
    let b = Arc::new(replica(&url, &prefix).await);
    let now = SystemTime::now();
    let until = now + Duration::from_secs(60);
    let mut races = Vec::new();
    for n in 0..50 {
        let jti = format!("jti-{n}");
        for store in [a.clone(), b.clone(), a.clone(), b.clone()] {
            let jti = jti.clone();
            races.push(tokio::spawn(async move {
                (jti.clone(), store.first_sighting(&jti, until, now).await)
            }));
        }
    }
    let mut firsts = std::collections::BTreeMap::<String, usize>::new();
    for race in races {
        let (jti, first) = race.await.unwrap();
        *firsts.entry(jti).or_default() += usize::from(first.expect("Redis answers"));
    }
    assert_eq!(firsts.len(), 50);
    for (jti, count) in &firsts {
        assert_eq!(*count, 1, "{jti} was first seen {count} times");
    }
    assert!(
        !b.first_sighting("jti-0", until, SystemTime::now())
            .await
            .unwrap(),
        "a replay on the other replica"
    );
    let elsewhere = replica(&url, &unique_prefix("jti-elsewhere")).await;
    assert!(
        elsewhere
            .first_sighting("jti-0", until, SystemTime::now())
            .await
            .unwrap(),
        "another broker on the same Redis (another prefix) keeps its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_recorded_by_one_replica_is_ended_and_told_on_the_other() {
    let url = redis_url();
    let prefix = unique_prefix("end");
    let a = replica(&url, &prefix).await;
    let b = replica(&url, &prefix).await;
    let elsewhere = replica(&url, &unique_prefix("end-elsewhere")).await;
    let mut on_a = a.subscribe();
    let mut on_b = b.subscribe();
    let mut on_elsewhere = elsewhere.subscribe();
    let now = now_seconds();

    // One id for the end, whoever tells it: the replica that recorded it, the other's
    // subscription, either's store when asked later.
    let by_sid = end_of(Some("s1"), Some(NURSE), now);
    let id = a
        .end_session(by_sid.clone(), SystemTime::now())
        .await
        .unwrap();
    let recorded = RecordedEnd {
        id,
        end: by_sid.clone(),
    };
    assert_eq!(
        recorded_within(&mut on_b, Duration::from_secs(2)).await,
        recorded
    );
    assert_eq!(
        recorded_within(&mut on_a, Duration::from_secs(2)).await,
        recorded,
        "the recording replica's own listeners too, once"
    );
    for store in [&a, &b] {
        assert_eq!(
            store.ended(Some("s1"), NURSE, now - 10).await.unwrap(),
            Some(recorded.clone())
        );
    }
    assert_eq!(
        ended(&b, Some("s1"), "another user", now - 10).await,
        None,
        "sid and sub must agree"
    );
    assert_eq!(ended(&b, Some("s2"), NURSE, now - 10).await, None);

    // Every session of a user begun before the end; the later of two ends counts.
    let by_sub = end_of(None, Some(NURSE), now + 100);
    let by_sub_id = b
        .end_session(by_sub.clone(), SystemTime::now())
        .await
        .unwrap();
    let earlier_id = a
        .end_session(end_of(None, Some(NURSE), now + 50), SystemTime::now())
        .await
        .unwrap();
    assert!(
        id < by_sub_id && by_sub_id < earlier_id,
        "in the order recorded"
    );
    assert_eq!(told_within(&mut on_a, Duration::from_secs(2)).await, by_sub);
    assert_eq!(
        a.ended(Some("s9"), NURSE, now + 100).await.unwrap(),
        Some(RecordedEnd {
            id: by_sub_id,
            end: by_sub.clone()
        }),
        "begun before the later end, which keeps its own id"
    );
    assert_eq!(ended(&a, None, NURSE, now + 101).await, None);
    assert_eq!(ended(&a, None, "another user", now).await, None);

    assert_eq!(
        ended(&elsewhere, Some("s1"), NURSE, now - 10).await,
        None,
        "another prefix"
    );
    assert!(
        on_elsewhere.try_recv().is_err(),
        "another prefix hears nothing"
    );
    // Told once each: nothing more is queued on b than the three ends.
    let mut told_on_b = vec![by_sid];
    while let Ok(Ok(told)) = tokio::time::timeout(Duration::from_millis(300), on_b.recv()).await {
        told_on_b.push(told.end);
    }
    assert_eq!(told_on_b.len(), 3, "{told_on_b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_sessions_and_token_ids_are_forgotten_after_their_memory() {
    let url = redis_url();
    let prefix = unique_prefix("expiry");
    let memory = Duration::from_millis(1500);
    let store = RedisStore::open(&url, None, None, &prefix, memory)
        .await
        .unwrap();
    let now = now_seconds();
    store
        .end_session(end_of(Some("s1"), None, now), SystemTime::now())
        .await
        .unwrap();
    store
        .end_session(end_of(None, Some(NURSE), now), SystemTime::now())
        .await
        .unwrap();
    let started = SystemTime::now();
    assert!(store
        .first_sighting("j", started + Duration::from_millis(1500), started)
        .await
        .unwrap());
    assert!(store.ended(Some("s1"), "u", 0).await.unwrap().is_some());
    assert!(store.ended(None, NURSE, 0).await.unwrap().is_some());
    assert!(!store
        .first_sighting("j", started + Duration::from_millis(1500), started)
        .await
        .unwrap());
    // Every key of the store expires: nothing is left behind for ever.
    let keys = crate::support::command(&url, &["KEYS", &format!("{prefix}*")]).await;
    let redis::Value::Array(keys) = keys else {
        panic!("{keys:?}")
    };
    assert_eq!(
        keys.len(),
        6,
        "jti, sid and its id, sub and its id, stream: {keys:?}"
    );
    for key in keys {
        let redis::Value::BulkString(key) = key else {
            panic!("{key:?}")
        };
        let ttl =
            crate::support::command(&url, &["PTTL", std::str::from_utf8(&key).unwrap()]).await;
        assert!(
            matches!(ttl, redis::Value::Int(ms) if ms > 0 && ms <= 1500),
            "{ttl:?}"
        );
    }

    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(store.ended(Some("s1"), "u", 0).await.unwrap(), None);
    assert_eq!(store.ended(None, NURSE, 0).await.unwrap(), None);
    let later = SystemTime::now();
    assert!(
        store
            .first_sighting("j", later + Duration::from_secs(1), later)
            .await
            .unwrap(),
        "forgotten"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscriber_rides_out_redis_going_away_and_later_ends_still_arrive() {
    let mut redis = OwnRedis::start(&[]);
    let url = redis.url();
    let prefix = unique_prefix("restart");
    let a = replica(&url, &prefix).await;
    let b = replica(&url, &prefix).await;
    let mut on_b = b.subscribe();

    // Redis restarts (empty): recording fails while it is away, and works again after.
    redis.stop();
    let end = end_of(Some("s1"), Some(NURSE), now_seconds());
    assert!(
        a.end_session(end.clone(), SystemTime::now()).await.is_err(),
        "no Redis: an error, so the provider is answered 503"
    );
    assert!(b.ended(Some("s1"), NURSE, 0).await.is_err());
    redis.start_again();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let told = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the replicas never came back"
        );
        if a.end_session(end.clone(), SystemTime::now()).await.is_ok() {
            if let Ok(Ok(told)) = tokio::time::timeout(Duration::from_secs(6), on_b.recv()).await {
                break told;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(told.end, end);
    assert_eq!(ended(&b, Some("s1"), NURSE, 0).await, Some(end));

    // The subscription drops while Redis stays up, and an end is published while no replica
    // listens: it is replayed from the stream when the subscriber is back.
    let channel = format!("{prefix}ends");
    let mut proved = false;
    for attempt in 0..5 {
        redis.command(&["CLIENT", "KILL", "TYPE", "pubsub"]).await;
        let end = end_of(Some(&format!("gap-{attempt}")), None, now_seconds());
        a.end_session(end.clone(), SystemTime::now()).await.unwrap();
        let listening = redis.command(&["PUBSUB", "NUMSUB", &channel]).await;
        // Skipping copies of the end above, recorded again while the replicas came back.
        let told = loop {
            let told = told_within(&mut on_b, Duration::from_secs(10)).await;
            if told.sid.as_deref() != Some("s1") {
                break told;
            }
        };
        assert_eq!(told, end, "attempt {attempt}");
        if matches!(&listening, redis::Value::Array(pair) if pair.get(1) == Some(&redis::Value::Int(0)))
        {
            proved = true;
            break;
        }
    }
    assert!(proved, "never published while no replica was subscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_comes_from_a_file_and_never_shows() {
    let redis = OwnRedis::start(&["--requirepass", "correct horse battery"]);
    let dir = tempfile::tempdir().unwrap();
    let right = crate::support::secret_file(&dir, "right", "correct horse battery\n");
    let wrong = crate::support::secret_file(&dir, "wrong", "wrong-password-123");
    let prefix = unique_prefix("password");
    let url = redis.url();

    let config = StoreConfig::Redis {
        url: url.clone(),
        password_file: Some(right),
        ca_file: None,
        prefix: prefix.clone(),
    };
    let store = Store::open(&config)
        .await
        .expect("the password from the file");
    assert!(store
        .first_sighting(
            "j",
            SystemTime::now() + Duration::from_secs(5),
            SystemTime::now()
        )
        .await
        .unwrap());

    let error = RedisStore::open(&url, Some(&wrong), None, &prefix, ENDED_SESSION_MEMORY)
        .await
        .expect_err("a wrong password");
    let shown = error.to_string();
    assert!(!shown.contains("wrong-password-123"), "{shown}");
    let in_url = url.replace("redis://", "redis://:wrong-password-123@");
    let error = RedisStore::open(&in_url, None, None, &prefix, ENDED_SESSION_MEMORY)
        .await
        .expect_err("a wrong password in the URL");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("wrong-password-123"), "{shown}");
    assert!(shown.contains("127.0.0.1"), "names the server: {shown}");
    let config = StoreConfig::Redis {
        url: in_url,
        password_file: None,
        ca_file: None,
        prefix,
    };
    assert!(!format!("{config:?}").contains("wrong-password-123"));

    let missing = RedisStore::open(
        &url,
        Some(Path::new("/nonexistent/redis-password")),
        None,
        "p:",
        ENDED_SESSION_MEMORY,
    )
    .await
    .expect_err("no password file");
    assert!(
        missing.to_string().contains("/nonexistent/redis-password"),
        "{missing}"
    );

    // A password file other users can read is refused before Redis is asked, like the
    // broker's credential.
    let readable = crate::support::secret_file(&dir, "readable", "correct horse battery\n");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let error = RedisStore::open(&url, Some(&readable), None, "p:", ENDED_SESSION_MEMORY)
        .await
        .expect_err("a password file others can read");
    let shown = error.to_string();
    assert!(shown.contains("chmod 600"), "{shown}");
    assert!(!shown.contains("correct horse"), "{shown}");
}

/// Plain `redis://` would carry the password and every session end in clear: it is taken for a
/// Redis on this machine only, and refused before any connection to another host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_redis_to_another_host_is_refused() {
    for url in [
        "redis://redis.trust.example:6379",
        "redis://:password@10.1.2.3:6379",
        "redis://[2001:db8::1]:6379",
    ] {
        let error = RedisStore::open(url, None, None, "p:", ENDED_SESSION_MEMORY)
            .await
            .expect_err(url);
        let shown = error.to_string();
        assert!(shown.contains("rediss://"), "{url}: {shown}");
        assert!(!shown.contains("password@"), "{url}: {shown}");
    }
    // On this machine plain redis:// stays: the test's own Redis is reached that way.
    let redis = OwnRedis::start(&[]);
    let local = redis.url().replace("127.0.0.1", "localhost");
    RedisStore::open(&local, None, None, "p:", ENDED_SESSION_MEMORY)
        .await
        .expect("localhost is this machine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_cannot_be_reached_is_named_at_start() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = StoreConfig::Redis {
        url: format!("redis://127.0.0.1:{port}/"),
        password_file: None,
        ca_file: None,
        prefix: "p:".into(),
    };
    let error = Store::open(&config).await.expect_err("nothing listens");
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_brokers_on_one_redis_a_logout_at_one_is_seen_by_the_other() {
    let world = TwoReplicas::start(&redis_url()).await;
    let mut on_b = world.b.store().subscribe();
    let (sid, _) = crate::support::sign_in(&world.mock).await;
    let began = now_seconds() - 1;
    assert!(world.mock.end_session(&sid), "the mock ends the session");

    let told = recorded_within(&mut on_b, Duration::from_secs(2)).await;
    assert_eq!(told.end.sid.as_deref(), Some(sid.as_str()));
    assert_eq!(told.end.sub.as_deref(), Some(NURSE));
    assert_eq!(
        world
            .b
            .store()
            .ended(Some(&sid), NURSE, began, SystemTime::now())
            .await
            .unwrap(),
        Some(told)
    );
    // Delivered to replica a, answered 200.
    let deliveries = crate::support::backchannel_deliveries(&world.mock).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].uri, world.a.logout_uri());
    assert!(
        format!("{:?}", deliveries[0].outcome).contains("200"),
        "{deliveries:?}"
    );
}

/// The whole path across replicas: a desktop listens on replica b (Server-Sent Events, its ID
/// token as proof), the provider's back-channel logout reaches replica a, and the desktop hears
/// `ended` within 2 seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_listening_on_one_replica_hears_a_logout_received_by_the_other() {
    let world = TwoReplicas::start(&redis_url()).await;
    let (sid, id_token) = crate::support::sign_in(&world.mock).await;
    let mut events = crate::support::http()
        .build()
        .unwrap()
        .get(format!("{}/sessions/events", world.b.base))
        .bearer_auth(&id_token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    // Listening before the end: the stream has started (nothing to tell yet).
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    assert!(world.mock.end_session(&sid), "the mock ends the session");
    let mut received = String::new();
    let heard = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(bytes) = events.chunk().await.unwrap() {
            received.push_str(std::str::from_utf8(&bytes).unwrap());
            if received.contains("event: ended\n") && received.ends_with("}\n\n") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        heard,
        Ok(true),
        "ended within 2 s on replica b: {received:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let deliveries = world.mock.backchannel_deliveries();
    assert!(
        deliveries
            .iter()
            .all(|delivery| delivery.uri == world.a.logout_uri()),
        "the logout went to replica a only: {deliveries:?}"
    );
    // Replica b answers the status question the same way.
    let status: serde_json::Value = crate::support::http()
        .build()
        .unwrap()
        .get(format!("{}/sessions/status", world.b.base))
        .bearer_auth(&id_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["ended"], true, "{status}");
}

/// A replica whose Redis is away says it is not ready (503 naming the store), so a load
/// balancer sends it nothing it could not record, and ready again once Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_redis_going_away_and_coming_back() {
    let mut redis = OwnRedis::start(&[]);
    let world = TwoReplicas::start(&redis.url()).await;
    let ready = || async {
        let answer = crate::support::http()
            .build()
            .unwrap()
            .get(format!("{}/readyz", world.a.base))
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    };
    assert_eq!(ready().await, (200, "ready".to_owned()));

    redis.stop();
    let (status, text) = ready().await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("Redis"), "{text}");

    redis.start_again();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if ready().await.0 == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never ready again after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
