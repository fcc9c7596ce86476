//! One Redis, several brokers, each with a Redis user of its own limited to its prefix by the ACL
//! line the documentation gives: the broker works fully within it, and cannot read, forge or
//! erase another broker's session ends.

use std::time::{Duration, SystemTime};

use crate::support::{now_seconds, secret_file, OwnRedis, NURSE};
use careid_broker::config::StoreConfig;
use careid_broker::{SessionEnd, Store, StoreError};
use redis::Value;

const EXAMPLE: &str = include_str!("../../broker.example.toml");
const DEPLOYMENT: &str = include_str!("../../../../docs/deployment.md");
const README: &str = include_str!("../../../../README.md");

/// The ACL line `broker.example.toml` documents for the broker `careid-broker-a`, checked to be
/// the same in the deployment guide and the README.
fn documented_acl_line() -> String {
    let line = EXAMPLE
        .lines()
        .find_map(|line| {
            let line = line.trim_start_matches('#').trim();
            line.starts_with("ACL SETUSER careid-broker-a ")
                .then(|| line.to_owned())
        })
        .expect("the example documents the ACL line");
    for (page, text) in [("docs/deployment.md", DEPLOYMENT), ("README.md", README)] {
        assert!(text.contains(&line), "{page} gives the same ACL line");
    }
    line
}

fn end_of(sid: &str) -> SessionEnd {
    SessionEnd {
        sid: Some(sid.to_owned()),
        sub: Some(NURSE.to_owned()),
        ended_at: now_seconds(),
    }
}

async fn told(
    listener: &mut tokio::sync::broadcast::Receiver<careid_broker::RecordedEnd>,
) -> SessionEnd {
    tokio::time::timeout(Duration::from_secs(10), listener.recv())
        .await
        .expect("an end told")
        .unwrap()
        .end
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_whose_redis_user_is_limited_to_its_prefix_works_and_cannot_touch_another_prefix()
{
    let redis = OwnRedis::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let line = documented_acl_line();
    let mut configs = Vec::new();
    for broker in ["careid-broker-a", "careid-broker-b"] {
        let password = format!("{broker}-password-7f3e9c");
        let setuser = line
            .replace("careid-broker-a", broker)
            .replace("PASSWORD", &password);
        let args: Vec<&str> = setuser.split_whitespace().collect();
        assert_eq!(redis.command(&args).await, Value::Okay, "{setuser}");
        configs.push(StoreConfig::Redis {
            url: redis
                .url()
                .replace("redis://", &format!("redis://{broker}@")),
            // Owner-only, as `read_private` requires (its refusals are tested with the
            // credential's and the password's own tests).
            password_file: Some(secret_file(&dir, broker, &format!("{password}\n"))),
            ca_file: None,
            prefix: format!("{broker}:"),
        });
    }
    let a = Store::open(&configs[0]).await.expect("broker a's store");
    let b = Store::open(&configs[1]).await.expect("broker b's store");
    let mut on_a = a.subscribe();
    let mut on_b = b.subscribe();

    // Everything broker a does, within its own prefix.
    let now = SystemTime::now();
    let ended_a = end_of("sa");
    a.end_session(ended_a.clone(), now).await.unwrap();
    assert_eq!(told(&mut on_a).await, ended_a);
    assert_eq!(
        a.ended(Some("sa"), NURSE, 0, now)
            .await
            .unwrap()
            .map(|recorded| recorded.end),
        Some(ended_a)
    );
    // Every session of the user: the end's script reads the user's key before it writes it.
    let every = SessionEnd {
        sid: None,
        sub: Some(NURSE.to_owned()),
        ended_at: now_seconds(),
    };
    a.end_session(every.clone(), now).await.unwrap();
    assert_eq!(told(&mut on_a).await, every);
    assert_eq!(
        a.ended(None, NURSE, 0, now)
            .await
            .unwrap()
            .map(|recorded| recorded.end),
        Some(every)
    );
    assert!(!a.seen("ja", now).await.unwrap());
    assert!(a
        .first_sighting("ja", now + Duration::from_secs(60), now)
        .await
        .unwrap());
    assert!(a.seen("ja", now).await.unwrap());
    a.check().await.unwrap();
    // Its subscriber loses its connection, subscribes again and replays the stream.
    redis
        .command(&[
            "CLIENT",
            "KILL",
            "TYPE",
            "pubsub",
            "USER",
            "careid-broker-a",
        ])
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while redis
        .command(&["PUBSUB", "NUMSUB", "careid-broker-a:ends"])
        .await
        != Value::Array(vec![
            Value::BulkString(b"careid-broker-a:ends".to_vec()),
            Value::Int(1),
        ])
    {
        assert!(
            std::time::Instant::now() < deadline,
            "never subscribed again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = end_of("sa-2");
    a.end_session(again.clone(), SystemTime::now())
        .await
        .unwrap();
    assert_eq!(told(&mut on_a).await, again);
    // Redis refused broker a nothing: the ACL line grants every command the store runs.
    assert_eq!(redis.command(&["ACL", "LOG"]).await, Value::Array(vec![]));

    let ended_b = end_of("sb");
    b.end_session(ended_b.clone(), SystemTime::now())
        .await
        .unwrap();
    assert_eq!(told(&mut on_b).await, ended_b);

    // Broker a's user with broker b's prefix: refused by Redis, and a store error, not a panic.
    let StoreConfig::Redis {
        url, password_file, ..
    } = configs[0].clone()
    else {
        unreachable!()
    };
    let a_as_b = StoreConfig::Redis {
        url: url.clone(),
        password_file,
        ca_file: None,
        prefix: "careid-broker-b:".into(),
    };
    let error = Store::open(&a_as_b).await.expect_err("another prefix");
    assert!(matches!(error, StoreError::Redis { .. }), "{error:?}");
    // redis-rs spells Redis's NOPERM "NoPerm".
    assert!(
        error.to_string().to_uppercase().contains("NOPERM"),
        "{error}"
    );

    // Nor can broker a's user reach broker b's keys or channel by any command.
    let as_a = url.replace("@", ":careid-broker-a-password-7f3e9c@");
    let client = redis::Client::open(as_a.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let forged = r#"{"sid":"sb-forged","sub":"555057896106","ended_at":1}"#;
    let attempts: &[(&str, &[&str])] = &[
        ("read b's end", &["MGET", "careid-broker-b:ended:sid:sb"]),
        (
            "read b's stream",
            &["XRANGE", "careid-broker-b:ends", "-", "+"],
        ),
        ("read b's token ids", &["EXISTS", "careid-broker-b:jti:jb"]),
        ("list b's keys", &["KEYS", "careid-broker-b:*"]),
        (
            "forge an end for b",
            &["SET", "careid-broker-b:ended:sid:sb-forged", forged],
        ),
        (
            "forge an entry in b's stream",
            &["XADD", "careid-broker-b:ends", "*", "end", forged],
        ),
        (
            "tell b's listeners a forged end",
            &["PUBLISH", "careid-broker-b:ends", "1-1 {}"],
        ),
        (
            "forge an end for b in a script",
            &[
                "EVAL",
                "return redis.call('SET', KEYS[1], ARGV[1])",
                "1",
                "careid-broker-b:ended:sid:sb-forged",
                forged,
            ],
        ),
        ("erase b's end", &["DEL", "careid-broker-b:ended:sid:sb"]),
        (
            "expire b's end",
            &["PEXPIRE", "careid-broker-b:ended:sid:sb", "1"],
        ),
        (
            "overwrite b's end to expire",
            &["SET", "careid-broker-b:ended:sid:sb", "{}", "PX", "1"],
        ),
        (
            "erase b's end in a script",
            &[
                "EVAL",
                "return redis.call('DEL', KEYS[1])",
                "1",
                "careid-broker-b:ended:sid:sb",
            ],
        ),
    ];
    for (what, args) in attempts {
        let mut command = redis::cmd(args[0]);
        for arg in &args[1..] {
            command.arg(*arg);
        }
        let error = command
            .query_async::<Value>(&mut connection)
            .await
            .expect_err(what);
        assert_eq!(error.code(), Some("NOPERM"), "{what}: {error}");
    }
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    let error = pubsub
        .subscribe("careid-broker-b:ends")
        .await
        .expect_err("listening to b's ends");
    assert_eq!(error.code(), Some("NOPERM"), "{error}");

    // Broker b's end stands, nothing forged is kept, and its listeners heard nothing more.
    let now = SystemTime::now();
    assert_eq!(
        b.ended(Some("sb"), NURSE, 0, now)
            .await
            .unwrap()
            .map(|recorded| recorded.end),
        Some(ended_b)
    );
    assert_eq!(
        b.ended(Some("sb-forged"), NURSE, 0, now).await.unwrap(),
        None
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        on_b.try_recv().is_err(),
        "b's listeners heard nothing forged"
    );
}
