//! Complete logins per second against the mock: authorize with auto-login, token, UserInfo, over
//! loopback HTTP with many logins in flight. Signing (two RSA signatures a login) is the cost.
//!
//! `cargo bench -p mock-cis2 --bench logins [-- LOGINS [IN_FLIGHT]]` prints the rate and the
//! latency of a whole login (median and 99th percentile).

#[path = "../tests/provider/support.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "shared with the integration tests, which use more of it"
)]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{complete_login, no_redirects, secret, start_auto_login, BASIC_CLIENT, NURSE};

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; numbers are ours.
    let numbers: Vec<usize> = std::env::args()
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let logins = numbers.first().copied().unwrap_or(20_000);
    let in_flight = numbers.get(1).copied().unwrap_or(32).max(1);

    let mock = Arc::new(start_auto_login(NURSE).await);
    let secret = Arc::new(secret(BASIC_CLIENT));
    let http = no_redirects();
    // Warm up connections and caches before measuring.
    for _ in 0..in_flight {
        complete_login(&mock, &http, &secret)
            .await
            .expect("a warm-up login");
    }

    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..in_flight {
        let (mock, http, secret) = (Arc::clone(&mock), http.clone(), Arc::clone(&secret));
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for _ in (worker..logins).step_by(in_flight) {
                let login_started = Instant::now();
                complete_login(&mock, &http, &secret)
                    .await
                    .expect("a login");
                latencies.push(login_started.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(logins);
    for worker in workers {
        latencies.extend(worker.await.expect("a worker finished"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "mock-cis2: {logins} logins in {:.2} s: {:.0} logins/s ({in_flight} in flight; \
         a login takes {:.1} ms median, {:.1} ms p99; {} cores)",
        elapsed.as_secs_f64(),
        logins as f64 / elapsed.as_secs_f64(),
        percentile(50).as_secs_f64() * 1e3,
        percentile(99).as_secs_f64() * 1e3,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
}
