//! Under a load of 10,000 complete logins the mock answers every one, and once their lifetimes
//! pass the sweeper leaves nothing behind: memory is bounded by what is live, not by history.

use std::sync::Arc;
use std::time::Duration;

use mock_cis2::MockCis2;

use crate::support::*;

const LOGINS: usize = 10_000;
/// Logins in flight at once, as from many clients.
const CONCURRENCY: usize = 16;
const LIFETIME: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_logins_are_all_answered_and_then_swept_away() {
    let mock = Arc::new(
        MockCis2::new()
            .auto_login(NURSE.parse().expect("valid auto-login"))
            // Short lifetimes, so the test can outlive them; two seconds, because the clock
            // counts whole seconds and a token must stay valid until its UserInfo call.
            .token_lifetime(LIFETIME)
            .refresh_token_lifetime(LIFETIME)
            .code_lifetime(LIFETIME)
            // The test sweeps when it chooses; the periodic sweeper must not hide a leak.
            .sweep_interval(Duration::from_secs(3600))
            .start()
            .await
            .expect("the mock starts"),
    );
    let secret = Arc::new(secret(BASIC_CLIENT));
    let http = no_redirects();

    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let (mock, http, secret) = (Arc::clone(&mock), http.clone(), Arc::clone(&secret));
        workers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for _ in (worker..LOGINS).step_by(CONCURRENCY) {
                if let Err(failure) = complete_login(&mock, &http, &secret).await {
                    failures.push(failure);
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.expect("a worker finished"));
    }
    assert!(
        failures.is_empty(),
        "{} logins failed, first: {:?}",
        failures.len(),
        failures.first()
    );

    let live = mock.store_counts();
    assert!(
        live.grants > 0 && live.access_tokens > 0,
        "the logins left live state: {live:?}"
    );
    // Spent codes are kept until they expire, so that a replay is recognised.
    assert_eq!(live.codes, LOGINS, "one spent code per login: {live:?}");

    // Every token, grant and sign-in has now outlived its lifetime.
    tokio::time::sleep(LIFETIME + Duration::from_millis(1_100)).await;
    mock.sweep_now();
    let swept = mock.store_counts();
    assert_eq!(
        (
            swept.pending_sign_ins,
            swept.codes,
            swept.grants,
            swept.access_tokens,
            swept.refresh_tokens
        ),
        (0, 0, 0, 0, 0),
        "state outlived its lifetime: {swept:?}"
    );
}
