//! What the broker's Redis tests share: the test run's Redis, a Redis of a test's own (to stop
//! and restart), and two full broker replicas on one Redis behind the mock provider.
//!
//! `cargo xtask test` starts a `redis-server` for the run and exports its URL as
//! `CAREID_TEST_REDIS_URL`, and the program as `CAREID_TEST_REDIS_SERVER`. Without them these
//! tests fail, naming what is missing: they never pass by skipping.

pub mod lost_reply;
mod own_redis;
pub mod relay_world;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use careid_broker::run::{serve_broker, SideListener};
use careid_broker::server::{Broker, Side};
use careid_broker::{BrokerConfig, BrokerCredential, Store};
use careid_oidc::{HttpClient, HttpSettings};
use careid_test_fixtures::broker_toml::BrokerToml;
pub use careid_test_fixtures::http::client_builder as http;
pub use careid_test_fixtures::now_seconds;
use mock_cis2::{ClientRegistry, MockCis2, RunningMock, BUILTIN_CLIENTS_JSON};
pub use own_redis::{command, OwnRedis};
use serde_json::Value;

pub const CLIENT: &str = "555000000001.apps.local";
pub const NURSE: &str = "555057896106";
pub const REDIRECT: &str = "http://127.0.0.1:23741/callback";

fn required(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set: the broker's Redis tests need a real redis-server; run them \
             with `cargo xtask test`, which installs and starts one"
        )
    })
}

/// The test run's Redis.
pub fn redis_url() -> String {
    required("CAREID_TEST_REDIS_URL")
}

/// A key prefix of this test's own, so tests sharing one Redis never see each other's keys.
pub fn unique_prefix(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "careid-test:{test}:{}:{nanos}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl OwnRedis {
    /// A `redis-server` (`CAREID_TEST_REDIS_SERVER`) of the test's own on a free loopback port,
    /// keeping nothing on disk, started with `extra` arguments.
    pub fn start(extra: &[&str]) -> Self {
        Self::start_program(&required("CAREID_TEST_REDIS_SERVER"), extra)
    }

    /// A Redis that speaks TLS only (no plain port), serving the certificate chain `cert_pem`
    /// with `key_pem`, and asking clients for no certificate.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Self {
        Self::start_tls_program(&required("CAREID_TEST_REDIS_SERVER"), cert_pem, key_pem)
    }
}

/// One broker replica, served over real HTTP.
pub struct Replica {
    pub broker: Arc<Broker>,
    /// The public listener's `http://127.0.0.1:PORT` (the provider's logout).
    pub public_url: String,
    /// The internal listener's `http://127.0.0.1:PORT` (careid's relays and listeners).
    pub base: String,
    pub server: tokio::task::JoinHandle<()>,
}

impl Replica {
    pub fn logout_uri(&self) -> String {
        format!("{}/backchannel-logout", self.public_url)
    }

    pub fn store(&self) -> &Arc<Store> {
        self.broker.store()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The mock provider and two broker replicas on one Redis: the mock posts its back-channel
/// logout to replica `a`; a client would listen on replica `b`.
pub struct TwoReplicas {
    _dir: tempfile::TempDir,
    pub mock: RunningMock,
    pub a: Replica,
    pub b: Replica,
}

impl TwoReplicas {
    /// Both replicas on the Redis at `redis_url`, under one fresh key prefix.
    pub async fn start(redis_url: &str) -> Self {
        let sides_a = Sides::bind().await;
        let sides_b = Sides::bind().await;
        let mock =
            mock_delivering_logout_to(&format!("{}/backchannel-logout", sides_a.public_url)).await;
        let dir = tempfile::tempdir().unwrap();
        let secret_file = client_secret_file(&dir);
        let prefix = unique_prefix("replicas");
        let replica = |mut sides: Sides| {
            let config = broker_config(
                &sides,
                mock.issuer(),
                &secret_file,
                &format!("[store]\nkind = \"redis\"\nurl = \"{redis_url}\"\nprefix = \"{prefix}\""),
                "",
            );
            async move {
                let store = Store::open(&config.store).await.expect("the Redis store");
                let broker = Arc::new(new_broker(config, store));
                let server = serve(broker.clone(), &mut sides);
                Replica {
                    broker,
                    public_url: sides.public_url,
                    base: sides.internal_url,
                    server,
                }
            }
        };
        let a = replica(sides_a).await;
        let b = replica(sides_b).await;
        Self {
            _dir: dir,
            mock,
            a,
            b,
        }
    }
}

/// The mock, signing the nurse in without a page, with its built-in client's back-channel
/// logout registered at `logout_uri`.
pub async fn mock_delivering_logout_to(logout_uri: &str) -> RunningMock {
    let mut clients: Value = serde_json::from_str(BUILTIN_CLIENTS_JSON).unwrap();
    for client in clients["clients"].as_array_mut().unwrap() {
        if client["client_id"] == CLIENT {
            client["backchannel_logout_uri"] = Value::String(logout_uri.to_owned());
        }
    }
    MockCis2::new()
        .auto_login(NURSE.parse().unwrap())
        .clients(ClientRegistry::from_json(&clients.to_string(), "test clients").unwrap())
        .start()
        .await
        .unwrap()
}

/// An embedded store that keeps nothing on disk, as `broker_config`'s `store`.
pub const EMBEDDED_STORE: &str = "[store]\nkind = \"embedded\"\npath = \"/nonexistent/store.json\"";

/// The mock's built-in client's secret in an owner-only file under `dir`, as a broker's
/// `credential_file` must be.
pub fn client_secret_file(dir: &tempfile::TempDir) -> PathBuf {
    secret_file(dir, "secret", &client_secret())
}

/// The secret of the mock's built-in client.
pub fn client_secret() -> String {
    ClientRegistry::builtin()
        .get(CLIENT)
        .unwrap()
        .client_secret
        .clone()
        .unwrap()
}

/// The mock's back-channel logout deliveries, once there is one (it records each once the
/// answer is in).
pub async fn backchannel_deliveries(mock: &RunningMock) -> Vec<mock_cis2::BackchannelDelivery> {
    for _ in 0..100 {
        if !mock.backchannel_deliveries().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    mock.backchannel_deliveries()
}

/// A broker for the mock's client (client_secret_basic, behind a proxy) at `sides`' URLs,
/// relaying `REDIRECT` for `issuer`; `store` is its `[store]` table and `extra` more TOML.
pub fn broker_config(
    sides: &Sides,
    issuer: &str,
    secret_file: &Path,
    store: &str,
    extra: &str,
) -> BrokerConfig {
    let toml = BrokerToml::new(
        &sides.public_url,
        &sides.internal_url,
        issuer,
        CLIENT,
        "client_secret_basic",
        secret_file,
        REDIRECT,
    );
    BrokerConfig::parse(&toml.with_tables(&format!("{store}\n{extra}"))).unwrap()
}

/// The broker of `config` over `store`, with its credential loaded from the configuration.
pub fn new_broker(config: BrokerConfig, store: Store) -> Broker {
    let credential = BrokerCredential::load(&config.provider).unwrap();
    let http = HttpClient::new(HttpSettings::default()).unwrap();
    let handles = careid_broker::HandleKeys::load(&config.handles.key_files).unwrap();
    Broker::new(config, credential, handles, http, Arc::new(store))
}

/// A broker's two listeners, bound on loopback, and their URLs.
pub struct Sides {
    pub public: Option<tokio::net::TcpListener>,
    pub internal: Option<tokio::net::TcpListener>,
    /// What the provider reaches: the back-channel logout and the JWKS.
    pub public_url: String,
    /// What careid reaches: the relays and `/sessions/*`.
    pub internal_url: String,
}

impl Sides {
    pub async fn bind() -> Self {
        let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self {
            public_url: format!("http://{}", public.local_addr().unwrap()),
            internal_url: format!("http://{}", internal.local_addr().unwrap()),
            public: Some(public),
            internal: Some(internal),
        }
    }
}

/// Serves both sides of `broker` on `sides`' listeners over real HTTP, as `serve` does.
pub fn serve(broker: Arc<Broker>, sides: &mut Sides) -> tokio::task::JoinHandle<()> {
    serve_until(broker, sides, std::future::pending())
}

/// [`serve`] until `shutdown` completes, then as `serve` shuts down.
pub fn serve_until(
    broker: Arc<Broker>,
    sides: &mut Sides,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let listeners = vec![
        SideListener::plain(Side::Public, sides.public.take().expect("not yet served")),
        SideListener::plain(
            Side::Internal,
            sides.internal.take().expect("not yet served"),
        ),
    ];
    tokio::spawn(async move {
        let _ = serve_broker(broker, listeners, shutdown).await;
    })
}

/// Signs the nurse in for the client at the mock (auto-login, PKCE): the session's `sid` and
/// ID token.
pub async fn sign_in(mock: &RunningMock) -> (String, String) {
    let http = careid_test_fixtures::http::no_redirects();
    let verifier = relay_world::VERIFIER;
    let code = relay_world::authorization_code_for(mock, &http, CLIENT).await;
    let secret = client_secret();
    let tokens: Value = http
        .post(format!("{}/access_token", mock.issuer()))
        .basic_auth(CLIENT, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims = careid_test_fixtures::jwt::claims(id_token);
    (
        claims["sid"].as_str().expect("a sid").to_owned(),
        id_token.to_owned(),
    )
}

/// A file holding `text`, owner-only.
pub fn secret_file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    careid_test_fixtures::files::owner_only_file(dir.path(), name, text)
}
