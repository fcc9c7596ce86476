//! Token relays through the broker against the mock provider, over loopback HTTP: how many a
//! second, and how much the broker adds to each.
//!
//! `cargo bench -p careid-broker --bench broker-relay [-- RELAYS [IN_FLIGHT]]` (or
//! `cargo xtask bench broker-relay`). Each relay is a refresh: the client's request goes to the
//! broker, which adds a `private_key_jwt` assertion and passes it on; the mock fetches the
//! broker's JWKS, checks the assertion, rotates the refresh token and signs an ID token. The
//! added latency is the median of refreshes through the broker less the median of the same
//! refreshes sent straight to the mock with an assertion the client signs itself with the same
//! key (one request in flight, alternating), so both pay for the signature and the provider.

#[path = "../tests/broker/support/relay_world.rs"]
mod relay_world;

use std::time::{Duration, Instant, SystemTime};

use careid_oidc::{authenticate, ClientAuth, ClientCredential, PrivateKey};
use mock_cis2::BROKER_CLIENT_ID;
use relay_world::{authorization_code, exchange, no_redirects, world_with_limits, World};
use serde_json::Value;

/// One refresh through the broker; the next refresh token.
async fn through_broker(world: &World, http: &reqwest::Client, refresh_token: &str) -> String {
    let (status, _, answer) = relay_world::relay(
        http,
        &world.token_url(),
        world.mock.issuer(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    next(&answer, refresh_token)
}

/// The same refresh straight to the mock, authenticated by the client itself.
async fn direct(
    http: &reqwest::Client,
    token_endpoint: &str,
    key: &ClientCredential,
    refresh_token: &str,
) -> String {
    straight_to_mock(
        http,
        token_endpoint,
        key,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// A refresh token of the mock's own (a handle from the broker is nothing to the mock), by a
/// code exchange straight to it.
async fn direct_session(
    world: &World,
    http: &reqwest::Client,
    token_endpoint: &str,
    key: &ClientCredential,
) -> String {
    let code = authorization_code(&world.mock, http).await;
    straight_to_mock(
        http,
        token_endpoint,
        key,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", relay_world::REDIRECT),
            ("code_verifier", relay_world::VERIFIER),
        ],
    )
    .await
}

/// `form` posted to the mock's token endpoint with the client's own assertion: the next refresh
/// token.
async fn straight_to_mock(
    http: &reqwest::Client,
    token_endpoint: &str,
    key: &ClientCredential,
    form: &[(&str, &str)],
) -> String {
    let authentication = authenticate(
        ClientAuth::PrivateKeyJwt,
        &careid_oidc::ClientId::new(BROKER_CLIENT_ID),
        key,
        token_endpoint,
        SystemTime::now(),
    )
    .expect("an assertion");
    // A refresh the mock does not rotate keeps the token it was given.
    let previous = form
        .iter()
        .find(|(name, _)| *name == "refresh_token")
        .map_or("", |(_, value)| *value);
    let mut form = form.to_vec();
    form.extend(authentication.form_pairs());
    let answer = http.post(token_endpoint).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    next(&answer, previous)
}

fn next(answer: &Value, previous: &str) -> String {
    answer["refresh_token"]
        .as_str()
        .unwrap_or(previous)
        .to_owned()
}

/// A refresh token for the broker's client, by a code exchange through the broker.
async fn session(world: &World, http: &reqwest::Client) -> String {
    let code = authorization_code(&world.mock, http).await;
    let (status, tokens) = exchange(world, http, &code).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; numbers are ours.
    let numbers: Vec<usize> = std::env::args()
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let relays = numbers.first().copied().unwrap_or(4_000).max(1);
    let in_flight = numbers.get(1).copied().unwrap_or(16).max(1);

    // One bench client and one user: budgets past anything the bench sends.
    let world = std::sync::Arc::new(
        world_with_limits(&format!(
            "requests_per_minute_per_source = {max}\nrequests_per_minute_per_key = {max}\n\
             requests_per_minute_per_user = {max}\nfailures_per_minute_per_source = {max}",
            max = u32::MAX
        ))
        .await,
    );
    let http = no_redirects();
    let discovery = careid_test_fixtures::http::discovery(&http, world.mock.issuer()).await;
    let token_endpoint = discovery["token_endpoint"].as_str().unwrap().to_owned();
    let key = ClientCredential::PrivateKey(PrivateKey::from_pem(&world.key_pem).unwrap());

    // Added latency: one request in flight, alternating, after a warm-up.
    let samples = (relays / 8).clamp(100, 1_000);
    let mut via = session(&world, &http).await;
    let mut straight = direct_session(&world, &http, &token_endpoint, &key).await;
    for _ in 0..20 {
        via = through_broker(&world, &http, &via).await;
        straight = direct(&http, &token_endpoint, &key, &straight).await;
    }
    let (mut brokered, mut unbrokered) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let started = Instant::now();
        via = through_broker(&world, &http, &via).await;
        brokered.push(started.elapsed());
        let started = Instant::now();
        straight = direct(&http, &token_endpoint, &key, &straight).await;
        unbrokered.push(started.elapsed());
    }
    let (brokered, unbrokered) = (median(&mut brokered), median(&mut unbrokered));
    let added = brokered.saturating_sub(unbrokered);

    // Relays per second with many in flight, one session each.
    let mut sessions = Vec::new();
    for _ in 0..in_flight {
        sessions.push(session(&world, &http).await);
    }
    let started = Instant::now();
    let mut workers = Vec::new();
    for (worker, mut refresh_token) in sessions.into_iter().enumerate() {
        let (world, http) = (world.clone(), http.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for _ in (worker..relays).step_by(in_flight) {
                let relay_started = Instant::now();
                refresh_token = through_broker(&world, &http, &refresh_token).await;
                latencies.push(relay_started.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(relays);
    for worker in workers {
        latencies.extend(worker.await.expect("a worker finished"));
    }
    let elapsed = started.elapsed();
    let loaded_median = median(&mut latencies);

    println!(
        "broker-relay: {:.0} token relays/s through the broker ({relays} refreshes, {in_flight} in flight, median {:.1} ms)",
        relays as f64 / elapsed.as_secs_f64(),
        loaded_median.as_secs_f64() * 1000.0,
    );
    println!(
        "broker-relay: the broker adds {:.2} ms per relay at the median (through it {:.2} ms, straight to the provider {:.2} ms; {samples} of each, one in flight)",
        added.as_secs_f64() * 1000.0,
        brokered.as_secs_f64() * 1000.0,
        unbrokered.as_secs_f64() * 1000.0,
    );
}
