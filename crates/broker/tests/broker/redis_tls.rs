//! `rediss://` to a Redis whose certificate comes from the trust's own CA, against a real
//! `redis-server` speaking TLS only: `store.ca_file` names that CA and the store works; the
//! system's roots alone, a certificate from another CA, or one for another name are refused.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::support::{now_seconds, unique_prefix, OwnRedis, NURSE};
use careid_broker::config::StoreConfig;
use careid_broker::{RedisStore, SessionEnd, Store, StoreError, ENDED_SESSION_MEMORY};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// A CA of the test's own, as a trust would run for its internal services.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    /// A server certificate for `names`, signed by this CA: (certificate PEM, key PEM).
    fn server(&self, names: &[&str]) -> (String, String) {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// This CA's certificate in a file (a CA file is public: no need to hide it).
    fn file(&self, dir: &tempfile::TempDir) -> PathBuf {
        let path = dir.path().join("redis-ca.pem");
        std::fs::write(&path, self.cert.pem()).unwrap();
        path
    }
}

fn config(url: String, ca_file: Option<PathBuf>, prefix: &str) -> StoreConfig {
    StoreConfig::Redis {
        url,
        password_file: None,
        ca_file,
        prefix: prefix.to_owned(),
    }
}

/// The store refused before it would start: the message, checked to be about the certificate.
async fn refused(config: &StoreConfig) -> String {
    let error = Store::open(config)
        .await
        .expect_err("a certificate the broker must not trust");
    assert!(matches!(error, StoreError::Redis { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("certificate"), "{message}");
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_with_the_trusts_own_ca_in_ca_file_works_and_the_system_roots_alone_refuse_it() {
    let ca = Ca::new("careid test trust CA");
    let (cert, key) = ca.server(&["127.0.0.1", "localhost"]);
    let redis = OwnRedis::start_tls(&cert, &key);
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix("tls");
    assert!(redis.url().starts_with("rediss://"));

    let store = Store::open(&config(redis.url(), Some(ca.file(&dir)), &prefix))
        .await
        .expect("the server's certificate chains to the CA in ca_file");
    let mut listener = store.subscribe();
    let end = SessionEnd {
        sid: Some("s1".into()),
        sub: Some(NURSE.into()),
        ended_at: now_seconds(),
    };
    store
        .end_session(end.clone(), SystemTime::now())
        .await
        .unwrap();
    let told = tokio::time::timeout(Duration::from_secs(2), listener.recv())
        .await
        .expect("told over the TLS subscription")
        .unwrap();
    assert_eq!(told.end, end);
    assert_eq!(
        store
            .ended(Some("s1"), NURSE, 0, SystemTime::now())
            .await
            .unwrap()
            .map(|recorded| recorded.end),
        Some(end)
    );
    let now = SystemTime::now();
    assert!(store
        .first_sighting("j", now + Duration::from_secs(60), now)
        .await
        .unwrap());
    assert!(store.seen("j", now).await.unwrap());
    store.check().await.unwrap();

    // The same server with the system's roots only: refused, naming the setting that fixes it.
    let message = refused(&config(redis.url(), None, &prefix)).await;
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(message.contains("store.ca_file"), "{message}");
    // Nor is there a plain port to fall back to.
    RedisStore::open(
        &redis.url().replace("rediss://", "redis://"),
        None,
        None,
        &prefix,
        ENDED_SESSION_MEMORY,
    )
    .await
    .expect_err("plain redis:// to a TLS-only Redis");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_certificate_from_another_ca_or_for_another_name_is_refused() {
    let trusts = Ca::new("careid test trust CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = trusts.file(&dir);
    let prefix = unique_prefix("tls-refused");

    let (cert, key) = Ca::new("someone else's CA").server(&["127.0.0.1", "localhost"]);
    let elsewhere = OwnRedis::start_tls(&cert, &key);
    let message = refused(&config(elsewhere.url(), Some(ca_file.clone()), &prefix)).await;
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(
        !message.contains("store.ca_file"),
        "ca_file is set: no hint to set it: {message}"
    );

    let (cert, key) = trusts.server(&["redis.elsewhere.example"]);
    let misnamed = OwnRedis::start_tls(&cert, &key);
    let message = refused(&config(misnamed.url(), Some(ca_file), &prefix)).await;
    assert!(message.contains("not valid for name"), "{message}");
}

/// A CA file that cannot be read or holds no certificate would trust nothing: it is named at
/// start, before Redis is asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_without_a_certificate_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key) = Ca::new("careid test trust CA").server(&["localhost"]);
    let key_only = dir.path().join("key-only.pem");
    std::fs::write(&key_only, key).unwrap();
    let missing = dir.path().join("missing.pem");
    for (path, reason) in [
        (&key_only, "holds no PEM certificate"),
        (&missing, "No such file"),
    ] {
        let config = config("rediss://127.0.0.1:1/".into(), Some(path.clone()), "p:");
        let error = Store::open(&config).await.expect_err(reason);
        assert!(matches!(error, StoreError::CaFile { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(path.to_str().unwrap()), "{message}");
        assert!(message.contains(reason), "{message}");
    }
}
