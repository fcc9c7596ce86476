//! Polling with a deadline: end-to-end steps wait for a condition, never for a fixed time.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `condition` every 50 ms until it is true, failing with `what` after `timeout`.
pub async fn until<F, Fut>(timeout: Duration, what: &str, mut condition: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
