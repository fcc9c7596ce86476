//! A mock provider with a broker registered as CIS2 would register it, and the broker in front
//! of it over real HTTP, holding a private key of its own (`private_key_jwt`): shared by the
//! relay tests and the relay bench.

#![allow(dead_code, reason = "the relay bench uses part of it")]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use careid_broker::connections::{Peer, PlainListener};
use careid_broker::dpop_nonce::DEFAULT_NONCE_PERIOD;
use careid_broker::server::{Broker, Side};
use careid_broker::{BrokerConfig, BrokerCredential, EmbeddedStore, Store};
use careid_broker::{HandleKeys, NonceIssuer};
use careid_oidc::{DpopKey, HttpClient, HttpSettings};
use careid_test_fixtures::broker_toml::{embedded_store, BrokerToml, HANDLE_KEY_HEX};
pub use careid_test_fixtures::http::no_redirects;
use careid_test_fixtures::keys::RsaTestKey;
pub use careid_test_fixtures::s256_challenge as challenge;
use mock_cis2::{MockCis2, RunningMock, BROKER_CLIENT_ID};
use serde_json::Value;

pub const NURSE: &str = "555057896106";
/// The one redirect URI the test broker relays for.
pub const REDIRECT: &str = "http://127.0.0.1:23741/callback";
pub const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-long";

pub struct World {
    pub dir: tempfile::TempDir,
    pub mock: RunningMock,
    pub broker: Arc<Broker>,
    /// The broker's internal listener's URL (the relays).
    pub url: String,
    /// The broker's public listener's URL (what the provider reaches).
    pub public_url: String,
    /// How often the broker's JWKS was fetched.
    pub jwks_fetches: Arc<AtomicUsize>,
    /// The broker's private key, PEM.
    pub key_pem: String,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

impl World {
    pub fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }

    /// How many requests the mock received at `endpoint` (`/access_token`, `/par`, ...).
    pub fn mock_requests(&self, endpoint: &str) -> usize {
        self.mock
            .request_log()
            .iter()
            .filter(|logged| logged.endpoint == endpoint)
            .count()
    }
}

/// The mock with the broker registered, and the broker (behind a proxy, plain HTTP, allowing
/// `per_minute` relay requests per source).
pub async fn world(per_minute: u32) -> World {
    world_with_limits(&format!("requests_per_minute_per_source = {per_minute}")).await
}

/// [`world`] with `limits` as its `[limits]` table's lines.
pub async fn world_with_limits(limits: &str) -> World {
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", public.local_addr().unwrap());
    let url = format!("http://{}", internal.local_addr().unwrap());
    let mock = MockCis2::new()
        .auto_login(NURSE.parse().unwrap())
        .broker(&public_url)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A fresh key of the broker's own: the mock knows it only from the broker's JWKS.
    let key_pem = RsaTestKey::generate().private_pem();
    let key_file =
        careid_test_fixtures::files::owner_only_file(dir.path(), "client-key.pem", &key_pem);
    let toml = BrokerToml::new(
        &public_url,
        &url,
        mock.issuer(),
        BROKER_CLIENT_ID,
        "private_key_jwt",
        &key_file,
        REDIRECT,
    );
    let config = BrokerConfig::parse(&toml.with_tables(&format!(
        "{}\n[limits]\n{limits}",
        embedded_store(Path::new("/nonexistent/store.json")),
    )))
    .unwrap();
    let handle_files = config.handles.key_files.clone();
    let credential = BrokerCredential::load(&config.provider).unwrap();
    let http = HttpClient::new(HttpSettings::default()).unwrap();
    let broker = Arc::new(Broker::new(
        config,
        credential,
        careid_broker::HandleKeys::load(&handle_files).unwrap(),
        http,
        Arc::new(Store::Embedded(EmbeddedStore::open(None))),
    ));
    let jwks_fetches = Arc::new(AtomicUsize::new(0));
    let counter = jwks_fetches.clone();
    let public_app = Side::Public
        .router(broker.clone())
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                if request.uri().path() == "/jwks" {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request)
            },
        ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for (listener, app, side) in [
        (public, public_app, Side::Public),
        (
            internal,
            Side::Internal.router(broker.clone()),
            Side::Internal,
        ),
    ] {
        let mut stopped = stopped.clone();
        let listener = PlainListener::new(listener, broker.caps(side));
        tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        });
    }
    World {
        dir,
        mock,
        broker,
        url,
        public_url,
        jwks_fetches,
        key_pem,
        stop: Some(stop),
    }
}

/// Signs the nurse in at the mock for the broker's client (auto-login, PKCE with [`VERIFIER`]):
/// the authorization code, as careid's loopback listener would receive it.
pub async fn authorization_code(mock: &RunningMock, http: &reqwest::Client) -> String {
    authorization_code_for(mock, http, BROKER_CLIENT_ID).await
}

/// [`authorization_code`] for `client_id`, redirected to [`REDIRECT`].
pub async fn authorization_code_for(
    mock: &RunningMock,
    http: &reqwest::Client,
    client_id: &str,
) -> String {
    let authorize = url::Url::parse_with_params(
        &format!("{}/authorize", mock.issuer()),
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "s"),
            ("nonce", "n"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let answer = http.get(authorize).send().await.unwrap();
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(name, _)| name == "code")
        .expect("a code")
        .1
        .into_owned()
}

/// The test desktop's DPoP key: one install, one key, for the whole test process.
pub fn desktop_key() -> &'static DpopKey {
    static KEY: OnceLock<DpopKey> = OnceLock::new();
    KEY.get_or_init(|| DpopKey::generate().unwrap())
}

/// A DPoP nonce every test broker takes now: they all have the fixtures' handle key.
pub fn dpop_nonce() -> String {
    let hex = HANDLE_KEY_HEX.as_bytes();
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(hex.chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
    }
    NonceIssuer::new(&HandleKeys::from_secrets(&key, &[]), DEFAULT_NONCE_PERIOD)
        .issue(SystemTime::now())
}

/// A proof of `key` for a `POST` to `url`, with a nonce the broker takes.
pub fn proof_of(key: &DpopKey, url: &str) -> String {
    key.proof("POST", url, Some(&dpop_nonce()), None, SystemTime::now())
        .unwrap()
        .as_str()
        .to_owned()
}

/// A proof of the test desktop's key for a `POST` to `url`.
pub fn proof(url: &str) -> String {
    proof_of(desktop_key(), url)
}

/// A relay request as careid sends it: a form with the `CareID-Issuer` header and a DPoP proof
/// of the test desktop's key.
pub async fn relay(
    http: &reqwest::Client,
    url: &str,
    issuer: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let answer = http
        .post(url)
        .header("CareID-Issuer", issuer)
        .header("DPoP", proof(url))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let body = answer.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

/// careid's code exchange at `token_url` (the broker's `/token`) for `issuer`, with a proof of
/// the test desktop's key, ready for more headers and sending.
pub fn code_exchange(
    http: &reqwest::Client,
    token_url: &str,
    issuer: &str,
    code: &str,
) -> reqwest::RequestBuilder {
    code_exchange_at(http, token_url, token_url, issuer, code)
}

/// [`code_exchange`] sent to `send_to` with a proof for `token_url`, the broker's configured
/// one (a test's own TLS listener is at another address).
pub fn code_exchange_at(
    http: &reqwest::Client,
    send_to: &str,
    token_url: &str,
    issuer: &str,
    code: &str,
) -> reqwest::RequestBuilder {
    http.post(send_to)
        .header("CareID-Issuer", issuer)
        .header("DPoP", proof(token_url))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
}

/// The code exchange through the broker's `/token`.
pub async fn exchange(world: &World, http: &reqwest::Client, code: &str) -> (u16, Value) {
    let (status, _, body) = relay(
        http,
        &world.token_url(),
        world.mock.issuer(),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", BROKER_CLIENT_ID),
        ],
    )
    .await;
    (status, body)
}
