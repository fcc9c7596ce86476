//! From the browser's callback to a stored, signed-in session, against the in-process mock:
//! the loopback listener takes the callback, then the code exchange, the ID token check,
//! UserInfo, the role, and the session saved (refresh token in the OS keychain, facts on disk).
//!
//! Each iteration begins a sign-in, asks the mock (auto-login) for the callback URL, and only
//! then starts the clock: it delivers the callback and stops when `finish` returns the session.
//! The browser step and discovery are not measured.
//!
//! `cargo bench -p careid-core --bench signin [-- ITERATIONS]`. The keychain is the real one
//! (Secret Service on Linux), under a service name of its own that is emptied afterwards; run it
//! through `cargo xtask bench` for a private, unlocked keychain.

use std::sync::Arc;
use std::time::{Duration, Instant};

use careid_core::http::{HttpClient, HttpSettings};
use careid_core::signin::{Client, LoginOptions, Session};
use careid_core::{CacheFolder, ClientSecret};
use careid_core::{ClientCredential, Keychain, Profiles, SecretString, SessionStore};
use careid_test_fixtures::http::redirect_location;
use careid_test_fixtures::latency::Summary;
use mock_cis2::MockCis2;

/// The test nurse of the mock's directory.
const USER: &str = "555057896106";

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; numbers are ours.
    let iterations = std::env::args()
        .find_map(|arg| arg.parse::<usize>().ok())
        .unwrap_or(200)
        .max(1);

    let mock = MockCis2::new()
        .auto_login(USER.parse().expect("a user id"))
        .start()
        .await
        .expect("the mock starts");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let profile = Profiles::load(dir.path())
        .and_then(|profiles| profiles.get("mock"))
        .expect("the built-in mock profile");
    let secret = mock
        .clients()
        .get(profile.client_id.as_deref().unwrap_or_default())
        .and_then(|client| client.client_secret.clone())
        .expect("the mock's client has a secret");
    let keychain = Keychain::with_service(format!("careid-bench-{}", std::process::id()));
    let store = SessionStore::new(keychain.clone(), dir.path().join("state"));
    let client = Client::new(
        profile,
        careid_core::IssuerUrl::new(mock.issuer()).expect("the mock's issuer"),
        ClientCredential::Secret(ClientSecret::new(secret)),
        HttpClient::new(HttpSettings::default()).expect("an HTTP client"),
        Arc::new(
            CacheFolder::new(dir.path().join("cache")).provider_cache(Duration::from_secs(3600)),
        ),
        store,
    )
    .expect("a client");
    let browser = careid_test_fixtures::http::no_redirects();

    // Warm up: discovery and the JWKS cached, connections open, the keychain entry created.
    for _ in 0..5 {
        sign_in(&client, &browser).await;
    }
    let mut latencies = Vec::with_capacity(iterations);
    let mut steps = StepTotals::default();
    for _ in 0..iterations {
        let (elapsed, session) = sign_in(&client, &browser).await;
        latencies.push(elapsed);
        steps.add(&session, elapsed);
    }

    let store = client.store();
    let lock = careid_core::SessionLock::acquire(store.state_dir(), "mock", Duration::from_secs(5))
        .expect("the session lock");
    store.clear(&lock).expect("the bench's session is deleted");
    drop(lock);
    mock.shutdown().await;
    let keychain_costs = keychain_costs(&keychain, 50);

    let summary = Summary::of(&mut latencies);
    println!(
        "callback → signed in: median {:.1} ms, p95 {:.1} ms, min {:.1} ms ({} iterations; {} cores)",
        summary.median, summary.p95, summary.min, iterations,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    steps.print(iterations);
    println!("  {keychain_costs}");
}

/// The median cost of the keychain operations a sign-in and a restore make, alone.
fn keychain_costs(keychain: &Keychain, rounds: usize) -> String {
    let account = "bench/keychain-costs";
    // A refresh token's size: one part.
    let value = SecretString::new("r".repeat(700));
    let mut store = Vec::with_capacity(rounds);
    let mut load = Vec::with_capacity(rounds);
    let mut missing = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        keychain.store(account, &value).expect("a keychain store");
        store.push(started.elapsed());
        let started = Instant::now();
        keychain.load(account).expect("a keychain load");
        load.push(started.elapsed());
        let started = Instant::now();
        keychain
            .load("bench/no-such-entry")
            .expect("a keychain look-up");
        missing.push(started.elapsed());
    }
    keychain.delete(account).expect("a keychain delete");
    format!(
        "keychain alone (median of {rounds}): store {:.1} ms, load {:.1} ms, look-up of a missing entry {:.1} ms",
        Summary::of(&mut store).median,
        Summary::of(&mut load).median,
        Summary::of(&mut missing).median,
    )
}

/// One sign-in; the time from delivering the callback to the stored session.
async fn sign_in(client: &Client, browser: &reqwest::Client) -> (Duration, Session) {
    let pending = client
        .begin_login(LoginOptions::default())
        .await
        .expect("a sign-in begins");
    let callback = redirect_location(browser, pending.authorization_url()).await;
    assert!(
        callback.starts_with(pending.redirect_uri().as_str()),
        "the mock redirects to the loopback listener"
    );

    let started = Instant::now();
    // The listener answers the browser before the sign-in completes; deliver it alongside.
    let delivery = tokio::spawn({
        let browser = browser.clone();
        async move { browser.get(callback).send().await }
    });
    let session = pending
        .finish(client, Duration::from_secs(30), std::future::pending())
        .await
        .expect("the sign-in completes");
    let elapsed = started.elapsed();
    let answer = delivery
        .await
        .expect("the delivery task")
        .expect("the listener answers");
    assert!(answer.status().is_success(), "the callback is accepted");
    (elapsed, session)
}

/// The sign-in's own timings (whole milliseconds), summed, to show where the time goes.
#[derive(Debug, Default)]
struct StepTotals {
    browser: u64,
    token: u64,
    id_token: u64,
    userinfo: u64,
    total: Duration,
}

impl StepTotals {
    fn add(&mut self, session: &Session, elapsed: Duration) {
        for timing in &session.timings {
            match timing.step {
                "browser" => self.browser += timing.millis,
                "token" => self.token += timing.millis,
                "id_token" => self.id_token += timing.millis,
                "userinfo" => self.userinfo += timing.millis,
                _ => {}
            }
        }
        self.total += elapsed;
    }

    fn print(&self, iterations: usize) {
        let n = iterations as f64;
        let total = self.total.as_secs_f64() * 1e3 / n;
        let measured = (self.browser + self.token + self.id_token + self.userinfo) as f64 / n;
        println!(
            "  mean per step: callback {:.1} ms, token {:.1} ms, ID token {:.1} ms, UserInfo {:.1} ms, \
             role + store (keychain, state file) {:.1} ms",
            self.browser as f64 / n,
            self.token as f64 / n,
            self.id_token as f64 / n,
            self.userinfo as f64 / n,
            (total - measured).max(0.0),
        );
    }
}
