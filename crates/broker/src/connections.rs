//! The listeners' connections: who is at the other end ([`Peer`]: the address and, under mutual
//! TLS, the device certificate's subject), and caps per address on open connections and on TLS
//! handshakes in progress, so that one address cannot take every connection. A connection over
//! its address's cap is answered `503` with `Retry-After` and closed; a handshake over the cap
//! is closed unanswered (there is no TLS yet to answer in). Each accepted connection is served
//! HTTP/1.1 ([`serve_http1`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower_service::Service as _;

use crate::config::{Limits, TlsConfig};
use crate::long_streams::{self, FirstRequest};

/// How long a refused connection is given to send its request head before the 503.
const REFUSAL_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest request head read before answering a refused connection.
const REFUSAL_READ_LIMIT: usize = 16 * 1024;
/// What a refused connection is told to wait.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Who is at a connection's other end: its request handlers read it as `ConnectInfo<Peer>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub address: SocketAddr,
    /// The subject of the client certificate it presented, under mutual TLS.
    pub device: Option<Arc<str>>,
}

impl Peer {
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            device: None,
        }
    }
}

/// How many of something each address has at once, and the most it may.
#[derive(Debug)]
pub struct AddressCounts {
    cap: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

impl AddressCounts {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// One more for `address`, or `None` when it has its cap (times `times`, its allowance).
    /// The slot gives it back on drop.
    pub fn admit(self: &Arc<Self>, address: IpAddr, times: u32) -> Option<AddressSlot> {
        let key = crate::rate_limit::source_key(address);
        let cap = self
            .cap
            .saturating_mul(usize::try_from(times).unwrap_or(usize::MAX));
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            counts: Arc::clone(self),
            key,
        })
    }

    /// How many addresses hold a slot (for tests and metrics).
    pub fn addresses(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One address's claim on an [`AddressCounts`], given back when dropped.
#[derive(Debug)]
pub struct AddressSlot {
    counts: Arc<AddressCounts>,
    key: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// A listener's caps: connections and handshakes per address (times the address's allowance),
/// none for a trusted proxy.
#[derive(Debug, Clone)]
pub struct Caps {
    pub connections: Arc<AddressCounts>,
    pub handshakes: Arc<AddressCounts>,
    tls: TlsConfig,
    limits: Arc<Limits>,
}

impl Caps {
    pub fn new(tls: &TlsConfig, limits: &Limits) -> Self {
        Self {
            connections: AddressCounts::new(limits.max_connections_per_address),
            handshakes: AddressCounts::new(limits.max_handshakes_per_address),
            tls: tls.clone(),
            limits: Arc::new(limits.clone()),
        }
    }

    /// A TLS handshake from `peer`, or `None` over its cap.
    pub fn admit_handshake(&self, peer: IpAddr) -> Option<AddressSlot> {
        self.handshakes.admit(peer, self.limits.times(peer))
    }

    /// `Ok(None)` for a trusted proxy (not counted), `Ok(Some(slot))` within the cap, `Err`
    /// over it.
    pub fn admit_connection(&self, peer: IpAddr) -> Result<Option<AddressSlot>, Refused> {
        if self.tls.trusts_proxy(peer) {
            return Ok(None);
        }
        self.connections
            .admit(peer, self.limits.times(peer))
            .map(Some)
            .ok_or(Refused)
    }
}

/// An address over its cap.
#[derive(Debug)]
pub struct Refused;

/// A connection holding its address's slot until it closes, with any bytes read from it
/// already put back in front (`long_streams` reads the first request's start before hyper).
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    _slot: Option<AddressSlot>,
    /// Bytes put back, and how many of them have been read again.
    put_back: Option<(Vec<u8>, usize)>,
}

impl<S> Counted<S> {
    pub fn new(inner: S, slot: Option<AddressSlot>) -> Self {
        Self {
            inner,
            _slot: slot,
            put_back: None,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Puts `read` back: the next reads return it before anything more from the connection.
    pub fn put_back(&mut self, read: Vec<u8>) {
        self.put_back = (!read.is_empty()).then_some((read, 0));
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some((read, at)) = &mut self.put_back {
            let count = buf.remaining().min(read.len() - *at);
            buf.put_slice(&read[*at..*at + count]);
            *at += count;
            if *at == read.len() {
                // Freed once hyper has it all.
                self.put_back = None;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Answers a connection over its address's cap: reads its request head (briefly), then a 503
/// with `Retry-After`, and closes. In a task of its own, so the listener never waits on it.
pub fn refuse_busy<S>(mut stream: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tracing::warn!(%peer, "too many connections from this address: answered 503");
    tokio::spawn(async move {
        let mut head = Vec::new();
        let mut chunk = [0u8; 2048];
        let _ = tokio::time::timeout(REFUSAL_READ_TIMEOUT, async {
            while head.len() < REFUSAL_READ_LIMIT && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => head.extend_from_slice(&chunk[..read]),
                }
            }
        })
        .await;
        let body = r#"{"error":"temporarily_unavailable","error_description":"too many connections from this address: try again later"}"#;
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
             Cache-Control: no-store\r\nRetry-After: {}\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n{body}",
            BUSY_RETRY_AFTER.as_secs(),
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    });
}

/// A plain-HTTP listener with per-address connection caps, for `axum::serve`.
#[derive(Debug)]
pub struct PlainListener {
    listener: TcpListener,
    caps: Caps,
}

impl PlainListener {
    pub fn new(listener: TcpListener, caps: Caps) -> Self {
        Self { listener, caps }
    }
}

impl axum::serve::Listener for PlainListener {
    type Io = Counted<TcpStream>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, address) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match self.caps.admit_connection(address.ip()) {
                Ok(slot) => return (Counted::new(stream, slot), Peer::new(address)),
                Err(Refused) => refuse_busy(stream, address),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr().map(Peer::new)
    }
}

/// What [`serve_http1`] hands axum for each connection: its peer, as the listener accepted it.
impl Connected<Peer> for Peer {
    fn connect_info(peer: Peer) -> Self {
        peer
    }
}

/// Serves `router` on each connection `listener` accepts, with its [`Peer`] as
/// `ConnectInfo<Peer>`, until `shutdown` completes: then it accepts no more, lets each connection
/// finish the request it is answering, and returns once all have closed (as `axum::serve` with
/// graceful shutdown does).
///
/// A connection whose first request asks for one of `stream_paths` is answered by
/// [`long_streams`], without hyper's buffers; every other by hyper.
///
/// HTTP/1.1 only, as the TLS side's ALPN offers. `axum::serve` first reads up to 24 bytes to
/// tell HTTP/2's preface from HTTP/1, and hyper, handed those bytes apart from the rest of the
/// request, then grows its 8 KiB read buffer to 16 KiB to read the rest: 8 KiB more on every
/// connection, which a broker holding thousands of listeners' connections keeps for each.
pub async fn serve_http1<L, S>(
    mut listener: L,
    router: Router,
    stream_paths: &'static [&'static str],
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = Peer, Io = Counted<S>>,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut make_service = router.into_make_service_with_connect_info::<Peer>();
    // Closed (dropped) once shutdown begins: every connection then finishes and closes.
    let (begin_shutdown, shutting_down) = tokio::sync::watch::channel(());
    // Each connection holds a receiver: all have closed when the sender sees none left.
    let (all_closed, open) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        std::future::poll_fn(|cx| {
            tower_service::Service::<Peer>::poll_ready(&mut make_service, cx)
        })
        .await
        .unwrap_or_else(|never| match never {});
        let service = make_service
            .call(peer)
            .await
            .unwrap_or_else(|never| match never {});
        let mut shutting_down = shutting_down.clone();
        let open = open.clone();
        tokio::spawn(async move {
            let mut io = io;
            match long_streams::read_first_request(&mut io, stream_paths, &mut shutting_down).await
            {
                FirstRequest::Stream(request) => {
                    let mut service = service;
                    std::future::poll_fn(|cx| {
                        tower_service::Service::<axum::extract::Request>::poll_ready(
                            &mut service,
                            cx,
                        )
                    })
                    .await
                    .unwrap_or_else(|never| match never {});
                    let response = tower_service::Service::call(&mut service, *request)
                        .await
                        .unwrap_or_else(|never| match never {});
                    long_streams::answer(io, response, shutting_down).await;
                }
                FirstRequest::Refuse(status) => long_streams::refuse(io, status).await,
                FirstRequest::Other(read) => {
                    io.put_back(read);
                    let builder = Builder::new(TokioExecutor::new()).http1_only();
                    let connection = builder
                        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
                    let mut connection = std::pin::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = shutting_down.changed() => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                }
                FirstRequest::Gone => {}
            }
            drop(open);
        });
    }
    drop(open);
    drop(listener);
    drop(begin_shutdown);
    all_closed.closed().await;
    Ok(())
}

impl Connected<IncomingStream<'_, PlainListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, PlainListener>) -> Self {
        stream.remote_addr().clone()
    }
}

impl Connected<IncomingStream<'_, crate::tls::TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_has_its_cap_and_gets_its_slots_back() {
        let counts = AddressCounts::new(2);
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let first = counts.admit(one, 1).unwrap();
        let _second = counts.admit(one, 1).unwrap();
        assert!(counts.admit(one, 1).is_none(), "the third is over the cap");
        assert!(counts.admit("192.0.2.2".parse().unwrap(), 1).is_some());
        drop(first);
        let freed = counts.admit(one, 1);
        assert!(freed.is_some(), "a closed connection frees its slot");
        // An allowance multiplies the cap for its network's addresses.
        assert!(counts.admit(one, 2).is_some(), "twice the cap");
        // One IPv6 /64 is one address: an attacker is handed whole /64s.
        let v6 = AddressCounts::new(1);
        let _held = v6.admit("2001:db8::1".parse().unwrap(), 1).unwrap();
        assert!(v6.admit("2001:db8::2".parse().unwrap(), 1).is_none());
    }

    #[test]
    fn a_trusted_proxy_is_not_counted() {
        let tls = TlsConfig::BehindProxy {
            trusted_proxies: vec!["10.0.0.0/8".to_owned().try_into().unwrap()],
        };
        let limits = Limits {
            max_connections_per_address: 1,
            max_handshakes_per_address: 1,
            allowances: vec![crate::config::Allowance {
                network: "198.51.100.0/24".to_owned().try_into().unwrap(),
                times: 3.try_into().unwrap(),
            }],
            ..Limits::default()
        };
        let caps = Caps::new(&tls, &limits);
        let egress: IpAddr = "198.51.100.7".parse().unwrap();
        let held: Vec<_> = (0..3)
            .map(|_| caps.admit_connection(egress).expect("within the allowance"))
            .collect();
        assert!(
            caps.admit_connection(egress).is_err(),
            "three times the cap, no more"
        );
        drop(held);
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        for _ in 0..5 {
            assert!(matches!(caps.admit_connection(proxy), Ok(None)));
        }
        let other: IpAddr = "192.0.2.9".parse().unwrap();
        let _slot = caps.admit_connection(other).unwrap();
        assert!(caps.admit_connection(other).is_err());
    }

    #[tokio::test]
    async fn bytes_put_back_are_read_first() {
        use tokio::io::AsyncReadExt as _;
        let (mut client, server) = tokio::io::duplex(64);
        client.write_all(b" world").await.unwrap();
        drop(client);
        let mut connection = Counted::new(server, None);
        connection.put_back(b"hello".to_vec());
        let mut all = String::new();
        connection.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "hello world");
    }
}
