//! Loopback ports for processes the tests start, so tests run in parallel without clashing.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

/// A port that was free a moment ago on 127.0.0.1. The kernel rarely hands the same ephemeral
/// port out twice in a row, which is enough for test processes that bind it at once.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Waits until something accepts connections on `port`.
pub async fn wait_for_port(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    crate::wait::until(
        timeout,
        &format!("a listener on port {port}"),
        || async move { Ok(tokio::net::TcpStream::connect(address).await.is_ok()) },
    )
    .await
}
