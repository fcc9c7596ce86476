//! Many clients listening for their session's end on one broker, and one logout reaching its
//! client: the time from the provider posting its logout token to the client reading the
//! `ended` event (median, 99th percentile, worst), and the memory each listener costs the broker
//! (its RSS with every client listening, less its RSS before, over the number of clients).
//!
//! The broker runs in this process with an embedded store kept on disk, as deployed, behind a
//! provider of the bench's own (discovery and JWKS over HTTP, RS256 ID tokens and logout tokens
//! signed here). The clients run in a second process (this binary again, `support/listening.rs`,
//! shared with the soak), one plain HTTP/1.1 connection each, so their memory is not the
//! broker's. Logouts are sent one at a time, each for a different client, while all the others
//! listen on.
//!
//! Each side holds a file descriptor per client: the bench raises its soft `RLIMIT_NOFILE` to
//! the hard limit and stops if that is still too low (`ulimit -Hn`).
//!
//! `cargo bench -p careid-broker --bench broker-listeners [-- CLIENTS [LOGOUTS]]`

#[path = "support/listening.rs"]
mod listening;

use std::sync::Arc;
use std::time::{Duration, Instant};

use careid_broker::run::{serve_broker, SideListener};
use careid_broker::server::{Broker, Side};
use careid_broker::{BrokerConfig, BrokerCredential, EmbeddedStore, Store};
use careid_oidc::{HttpClient, HttpSettings};
use careid_test_fixtures::broker_toml::{embedded_store, BrokerToml};
use careid_test_fixtures::discovery::{provider_document, TestProvider};
use careid_test_fixtures::files::owner_only_file;
use careid_test_fixtures::keys::RsaTestKey;
use careid_test_fixtures::now_seconds as now;
use listening::{
    id_token, logout_token, micros_now, own_rss_bytes, raise_file_limit, Heard, ListeningClients,
    ListeningPlan, CLIENT_ID as CLIENT, KID,
};
use serde_json::json;

fn main() {
    listening::run_if_clients_process();
    // `cargo bench` passes `--bench`; numbers are ours.
    let numbers: Vec<usize> = std::env::args()
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let count = numbers.first().copied().unwrap_or(10_000).max(1);
    let logouts = numbers.get(1).copied().unwrap_or(300).clamp(1, count);
    raise_file_limit(count + 512);
    tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(bench(count, logouts));
}

async fn bench(count: usize, logouts: usize) {
    let key = RsaTestKey::generate();
    let mut jwk = key.jwk(KID);
    jwk["alg"] = json!("RS256");

    // The provider: discovery and keys.
    let provider = TestProvider::start(
        |issuer| provider_document(issuer, &["RS256"]),
        json!({ "keys": [jwk] }),
    )
    .await;
    let issuer = provider.issuer.clone();

    // The broker, its store on disk.
    let dir = tempfile::tempdir().unwrap();
    let secret_file = owner_only_file(dir.path(), "secret", "a-bench-client-secret");
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", public.local_addr().unwrap());
    let url = format!("http://{}", internal.local_addr().unwrap());
    let store_path = dir.path().join("store.json");
    let toml = BrokerToml::new(
        &public_url,
        &url,
        &issuer,
        CLIENT,
        "client_secret_basic",
        &secret_file,
        "http://127.0.0.1:23741/callback",
    );
    // Every client connects from this machine, one address: its connections, its budget for
    // session requests and the logouts the bench posts must all fit.
    let limits = format!(
        "[limits]\nrequests_per_minute_per_source = 60\nmax_connections_per_address = {}\n\
         session_requests_per_minute_per_source = {}\nlogouts_per_minute_per_source = {}",
        count + 100,
        2 * count + 16,
        logouts + 16,
    );
    let config = BrokerConfig::parse(
        &toml.with_tables(&format!("{}\n{limits}", embedded_store(&store_path))),
    )
    .expect("the bench's configuration");
    let handle_files = config.handles.key_files.clone();
    let credential = BrokerCredential::load(&config.provider).unwrap();
    let http = HttpClient::new(HttpSettings::default()).unwrap();
    let broker = Arc::new(Broker::new(
        config,
        credential,
        careid_broker::HandleKeys::load(&handle_files).unwrap(),
        http,
        Arc::new(Store::Embedded(EmbeddedStore::open(Some(&store_path)))),
    ));
    let sides = vec![
        SideListener::plain(Side::Public, public),
        SideListener::plain(Side::Internal, internal),
    ];
    let serving = broker.clone();
    tokio::spawn(async move { serve_broker(serving, sides, std::future::pending()).await });

    // The clients sign their ID tokens with the provider's key, each a session of its own.
    let key_file = owner_only_file(dir.path(), "provider-key.pem", &key.private_pem());
    let plan = ListeningPlan {
        issuer: issuer.clone(),
        key_file,
        clients: count,
        targets: vec![url.clone()],
        reconnect: false,
        sign_in_again: false,
        token_life: 3600,
    };

    // Warm up: discovery and keys fetched, one listener opened and closed (a session of its own,
    // the one after the clients').
    let warm_token = id_token(&key, &issuer, count, 0, now() - 60, 3600);
    let web = careid_test_fixtures::http::client_builder()
        .build()
        .expect("an HTTP client");
    let warm = web
        .get(format!("{url}/sessions/status"))
        .bearer_auth(&warm_token)
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200, "{}", warm.text().await.unwrap());
    drop(
        web.get(format!("{url}/sessions/events"))
            .bearer_auth(&warm_token)
            .send()
            .await
            .unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = own_rss_bytes();

    // The clients, in a process of their own.
    let connecting = Instant::now();
    let mut clients = ListeningClients::start(&plan, dir.path());
    let ready = clients.heard().await.expect("the clients' report");
    assert_eq!(ready, Heard::Listening(count), "the clients' report");
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker.listeners().count() < count {
        assert!(
            Instant::now() < deadline,
            "every client counted as listening"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "  {count} clients listening after {:.1} s (their ID tokens signed in their process)",
        connecting.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_listening = own_rss_bytes();

    // One logout at a time, each for another client, the rest listening on.
    let mut latencies = Vec::with_capacity(logouts);
    let mut answers = Vec::with_capacity(logouts);
    for round in 0..logouts {
        let client = round * count / logouts;
        let logout = logout_token(&key, &issuer, client, 0, &format!("bench-{round}"));
        let sent = micros_now();
        let answer = web
            .post(format!("{public_url}/backchannel-logout"))
            .form(&[("logout_token", logout)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answers.push(Duration::from_micros(micros_now().saturating_sub(sent)));
        let told = tokio::time::timeout(Duration::from_secs(5), clients.heard())
            .await
            .expect("the client told within 5 s")
            .expect("a line from the clients");
        let Heard::Ended {
            client: who,
            micros,
        } = told
        else {
            panic!("ended CLIENT MICROS, not {told:?}");
        };
        assert_eq!(who, client, "the client whose session ended");
        latencies.push(Duration::from_micros(micros.saturating_sub(sent)));
    }
    drop(clients);

    latencies.sort();
    answers.sort();
    let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    // The logout endpoint's own time: the token checked, its jti and the end written to the
    // store file (each synced to disk), the listeners told.
    println!(
        "  the provider's logout answered in {:.1} ms median, {:.1} ms p99",
        ms(answers[answers.len() / 2]),
        ms(answers[(answers.len() * 99 / 100).min(answers.len() - 1)]),
    );
    println!(
        "broker-listeners: {count} clients listening on one broker; {logouts} logouts one at a time, each told to its client in {:.1} ms median, {:.1} ms p99, {:.1} ms worst",
        ms(percentile(50)),
        ms(percentile(99)),
        ms(latencies[latencies.len() - 1]),
    );
    let grown = rss_listening.saturating_sub(rss_before);
    println!(
        "broker-listeners: memory per listener {:.1} KiB (broker RSS {:.1} MiB before, {:.1} MiB with {count} listening)",
        grown as f64 / count as f64 / 1024.0,
        rss_before as f64 / (1024.0 * 1024.0),
        rss_listening as f64 / (1024.0 * 1024.0),
    );
}
