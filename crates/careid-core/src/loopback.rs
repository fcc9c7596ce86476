//! The loopback redirect listener of a native app (RFC 8252 §7.3, §8.3): binds `127.0.0.1` only,
//! takes exactly one valid authorization response (RFC 6749 §4.1.2), checks `state` before
//! anything else and `iss` (RFC 9207 §2.4), and answers the browser with an accessible page.
//!
//! Requests that are not the callback (another path, another method, an oversized or slow request,
//! a `Host` that is not `127.0.0.1` or `localhost`, as a page whose DNS name was rebound to
//! 127.0.0.1 sends) are refused on their own connection while the wait goes on, so a stray page,
//! a rebinding site or a port scanner cannot end a sign-in. A callback that fails a check ends the wait with the reason, because a
//! response that does not match this sign-in must never be retried with.
//!
//! On a shared machine every user can reach `127.0.0.1`: a connection whose other end belongs to
//! another OS user is refused with 403 before anything is read from it ([`peer`]). A flood of
//! connections cannot starve the browser: at most [`MAX_CONNECTIONS`] are open at once, the
//! oldest one that has not sent a request is dropped to make room, each has a few seconds to
//! send its request, and a failing `accept` (out of file descriptors) pauses instead of spinning.

mod launch;
mod peer;

pub use launch::{LaunchLinks, SignOutLaunch};

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use peer::{peer_owner, PeerOwner};

use crate::secret::{AuthorizationCode, CsrfState};
use crate::values::{IssuerUrl, RedirectUri};
use crate::RedirectHost;
use crate::SecretString;

/// The largest request head accepted: a callback URL is far smaller.
const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// How long one connection may take to send its request head.
pub(crate) const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest `error_description` passed on, so a hostile provider cannot flood the UI.
const MAX_DESCRIPTION_CHARS: usize = 300;
/// The most connections served at once; a browser opens a handful.
pub const MAX_CONNECTIONS: usize = 32;
/// The first pause after `accept` fails (such as EMFILE), doubled up to [`MAX_ACCEPT_PAUSE`].
const FIRST_ACCEPT_PAUSE: Duration = Duration::from_millis(10);
const MAX_ACCEPT_PAUSE: Duration = Duration::from_secs(1);

/// What went wrong while waiting for the browser. Messages never contain the code or the state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopbackError {
    /// Every port of the profile's list is in use. Another port is never used instead: the
    /// provider would refuse a redirect URI that is not registered.
    #[error(
        "none of the profile's redirect ports is free on 127.0.0.1 ({}): close what holds one \
         (another sign-in still waiting?) and try again, or register another port's redirect URI \
         with the provider and add it to the profile (careid profile add ... --redirect-port)",
        list_ports(.ports)
    )]
    PortsTaken { ports: Vec<u16> },
    /// The listener could not be opened.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// No valid callback came in time. `stray` callbacks came with another `state` and were
    /// refused (a page firing them at the listener, or an older sign-in's tab).
    #[error(
        "no answer from the browser within {} s{}",
        .after.as_secs(),
        strays(*.stray)
    )]
    TimedOut { after: Duration, stray: u32 },
    /// The caller cancelled the wait.
    #[error("sign-in cancelled")]
    Cancelled,
    /// The callback's `iss` names another issuer (RFC 9207 mix-up defence).
    #[error("the response came from another issuer ({received:?})")]
    IssuerMismatch { received: String },
    /// The provider advertises `iss` in responses, but this one had none.
    #[error("the response has no iss parameter, which this provider always sends")]
    IssuerMissing,
    /// The callback has neither `code` nor `error`.
    #[error("the response has no authorization code")]
    CodeMissing,
    /// The provider answered with an OAuth error (RFC 6749 §4.1.2.1).
    #[error("the provider refused the sign-in: {error}{}", describe(.description))]
    Provider {
        error: String,
        description: Option<String>,
    },
    /// An OAuth error without the `iss` the provider advertises (RFC 9207 §2.4): its words are
    /// passed on, since they are all there is to go on, but marked unverified, because anything
    /// that can reach the listener could have sent them. It is a failure all the same.
    #[error(
        "the provider refused the sign-in: {error}{} (unverified: the response has no iss \
         parameter, which this provider always sends, so careid cannot tell that the provider \
         sent it)",
        describe(.description)
    )]
    UnverifiedProvider {
        error: String,
        description: Option<String>,
    },
}

impl LoopbackError {
    /// A stable code for callers to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            LoopbackError::PortsTaken { .. } => "ports_taken",
            LoopbackError::Bind(_) => "listener_failed",
            LoopbackError::TimedOut { .. } => "timed_out",
            LoopbackError::Cancelled => "cancelled",
            LoopbackError::IssuerMismatch { .. } => "issuer_mismatch",
            LoopbackError::IssuerMissing => "issuer_missing",
            LoopbackError::CodeMissing => "code_missing",
            LoopbackError::Provider { .. } => "provider_error",
            LoopbackError::UnverifiedProvider { .. } => "provider_error_unverified",
        }
    }
}

/// The refused callbacks, for the timeout's message.
fn strays(count: u32) -> String {
    match count {
        0 => String::new(),
        1 => "; one response that was not for this sign-in (another state) was refused".to_owned(),
        n => format!("; {n} responses that were not for this sign-in (another state) were refused"),
    }
}

fn list_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(description: &Option<String>) -> String {
    description
        .as_ref()
        .map(|text| format!(" ({text})"))
        .unwrap_or_default()
}

/// What a callback must carry to be accepted.
#[derive(Debug)]
pub struct CallbackChecks {
    /// The `state` sent in the authorization request.
    pub state: CsrfState,
    /// The issuer exactly as discovery published it.
    pub issuer: IssuerUrl,
    /// Discovery advertised `authorization_response_iss_parameter_supported`.
    pub iss_required: bool,
}

/// A callback that passed every check.
#[derive(Debug)]
pub struct AuthorizationResponse {
    pub code: AuthorizationCode,
    /// The `iss` parameter, when the provider sent one (already checked).
    pub iss: Option<String>,
    /// Callbacks with another `state` refused while this sign-in waited: any web page can send
    /// one, so each is answered 400 and the wait goes on; the count is for the testers' view.
    pub stray_callbacks: u32,
}

/// A bound loopback listener, waiting to be given the checks and a deadline.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    /// For a `localhost` redirect URI, `[::1]` on the same port: browsers try `::1` first for
    /// `localhost`, and a port left free there could be taken by another user to receive the code.
    ipv6: Option<TcpListener>,
    path: String,
    redirect_uri: RedirectUri,
    /// The one-time links the browser is opened on, answered here while the sign-in waits.
    links: Option<Arc<LaunchLinks>>,
}

/// Binds `127.0.0.1` on `port` (0: any free one) and, for `localhost`, `[::1]` on the same port.
/// `AddrInUse` when either is taken. A machine with no IPv6 loopback has no `::1` for anyone
/// to take, so IPv4 alone is kept there.
async fn bind_port(
    port: u16,
    host: RedirectHost,
) -> std::io::Result<(TcpListener, Option<TcpListener>)> {
    let ipv4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    if host != RedirectHost::Localhost {
        return Ok((ipv4, None));
    }
    let port = ipv4.local_addr()?.port();
    // `::1` itself, not `::`: no IPv4-mapped address can reach it, whatever IPV6_V6ONLY says.
    match TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, port)).await {
        Ok(ipv6) => Ok((ipv4, Some(ipv6))),
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
            ) =>
        {
            Ok((ipv4, None))
        }
        Err(error) => Err(error),
    }
}

impl LoopbackListener {
    /// Binds `127.0.0.1` on the first free port of `ports` in order, or an ephemeral port when
    /// `ports` is empty. `path` is the redirect URI's path, such as `/callback`.
    pub async fn bind(ports: &[u16], path: &str) -> Result<Self, LoopbackError> {
        Self::bind_for(ports, RedirectHost::default(), path).await
    }

    /// As [`Self::bind`], with `host` written in the redirect URI: `localhost` where that is what
    /// was registered. Then `[::1]` is bound on the same port as well (a port is used only when
    /// both are free), since a browser may try either for `localhost`; never whatever else
    /// `localhost` resolves to.
    pub async fn bind_for(
        ports: &[u16],
        host: RedirectHost,
        path: &str,
    ) -> Result<Self, LoopbackError> {
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        // Any free port: a few tries, since its `::1` twin may be taken by someone else.
        let tries: Vec<u16> = if ports.is_empty() {
            vec![0; 8]
        } else {
            ports.to_vec()
        };
        let mut bound = None;
        for port in tries {
            match bind_port(port, host).await {
                Ok(listeners) => {
                    bound = Some(listeners);
                    break;
                }
                Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(error) => return Err(LoopbackError::Bind(error)),
            }
        }
        let (listener, ipv6) = match bound {
            Some(bound) => bound,
            None if ports.is_empty() => {
                return Err(LoopbackError::Bind(std::io::ErrorKind::AddrInUse.into()))
            }
            None => {
                return Err(LoopbackError::PortsTaken {
                    ports: ports.to_vec(),
                })
            }
        };
        let port = listener.local_addr().map_err(LoopbackError::Bind)?.port();
        let redirect_uri = host.redirect_uri(port, &path);
        Ok(Self {
            listener,
            ipv6,
            path,
            redirect_uri,
            links: None,
        })
    }

    /// One-time links to `target` (the authorization URL) that this listener answers while it
    /// waits: what the browser is opened on ([`launch`]).
    pub fn launch_links(&mut self, target: SecretString) -> Arc<LaunchLinks> {
        let links = LaunchLinks::new(self.local_addr().port(), target);
        self.links = Some(Arc::clone(&links));
        links
    }

    /// The next connection on either address.
    async fn accept(&self) -> std::io::Result<(TcpStream, SocketAddr)> {
        match &self.ipv6 {
            None => self.listener.accept().await,
            Some(ipv6) => tokio::select! {
                accepted = self.listener.accept() => accepted,
                accepted = ipv6.accept() => accepted,
            },
        }
    }

    /// The redirect URI to send in the authorization request.
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Waits for the one valid callback, at most `timeout`, or until `cancel` resolves. The
    /// listener is closed when this returns, so nothing else is ever accepted.
    pub async fn wait(
        self,
        checks: CallbackChecks,
        timeout: Duration,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<AuthorizationResponse, LoopbackError> {
        let (outcome_sender, mut outcomes) = mpsc::channel(1);
        let mut connections = JoinSet::new();
        // In the order accepted, so the oldest idle one is the first to give way.
        let mut open: VecDeque<Connection> = VecDeque::new();
        let mut pause = FIRST_ACCEPT_PAUSE;
        let mut paused_until: Option<tokio::time::Instant> = None;
        let checks = Arc::new(checks);
        let strays = Arc::new(AtomicU32::new(0));
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline, cancel);
        loop {
            tokio::select! {
                accepted = self.accept(), if paused_until.is_none() => match accepted {
                    Ok((stream, _)) => {
                        pause = FIRST_ACCEPT_PAUSE;
                        open.retain(|connection| !connection.handle.is_finished());
                        if open.len() >= MAX_CONNECTIONS && !drop_oldest_idle(&mut open) {
                            // Every slot is reading or answering a request: refuse this one.
                            continue;
                        }
                        let busy = Arc::new(AtomicBool::new(false));
                        let (path, checks, sender, flag, strays, links) = (
                            self.path.clone(),
                            Arc::clone(&checks),
                            outcome_sender.clone(),
                            Arc::clone(&busy),
                            Arc::clone(&strays),
                            self.links.clone(),
                        );
                        let handle = connections.spawn(async move {
                            let expected = Expected { path: &path, checks: &checks, links: links.as_deref() };
                            if let Some(outcome) =
                                serve(stream, &expected, &flag, &strays).await
                            {
                                let _ = sender.send(outcome).await;
                            }
                        });
                        open.push_back(Connection { handle, busy });
                    }
                    // Out of file descriptors or another passing fault: free one idle slot,
                    // then wait before trying again rather than spin on the same error.
                    Err(error) => {
                        tracing::warn!(
                            "the sign-in listener could not accept a connection ({error}); pausing {} ms",
                            pause.as_millis()
                        );
                        drop_oldest_idle(&mut open);
                        paused_until = Some(tokio::time::Instant::now() + pause);
                        pause = (pause * 2).min(MAX_ACCEPT_PAUSE);
                    }
                },
                () = sleep_until(paused_until), if paused_until.is_some() => paused_until = None,
                Some(outcome) = outcomes.recv() => {
                    return outcome.map(|response| AuthorizationResponse {
                        stray_callbacks: strays.load(Ordering::Acquire),
                        ..response
                    });
                }
                () = &mut deadline => {
                    return Err(LoopbackError::TimedOut {
                        after: timeout,
                        stray: strays.load(Ordering::Acquire),
                    });
                }
                () = &mut cancel => return Err(LoopbackError::Cancelled),
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }
}

/// One open connection: its task, and whether it has sent a whole request yet.
struct Connection {
    handle: AbortHandle,
    busy: Arc<AtomicBool>,
}

/// Closes the oldest connection that has not sent a request; `false` when every one has.
fn drop_oldest_idle(open: &mut VecDeque<Connection>) -> bool {
    let Some(index) = open
        .iter()
        .position(|connection| !connection.busy.load(Ordering::Acquire))
    else {
        return false;
    };
    if let Some(connection) = open.remove(index) {
        connection.handle.abort();
    }
    true
}

async fn sleep_until(until: Option<tokio::time::Instant>) {
    match until {
        Some(until) => tokio::time::sleep_until(until).await,
        None => std::future::pending().await,
    }
}

/// What a connection's request may be: the callback to `path`, passing `checks`, or one of the
/// launch `links`.
struct Expected<'a> {
    path: &'a str,
    checks: &'a CallbackChecks,
    links: Option<&'a LaunchLinks>,
}

/// Answers one connection. `None` when it was not the callback (the wait goes on). `busy` is set
/// once a whole request has arrived, so the connection is no longer the first to be dropped.
async fn serve(
    mut stream: TcpStream,
    expected: &Expected<'_>,
    busy: &AtomicBool,
    strays: &AtomicU32,
) -> Option<Result<AuthorizationResponse, LoopbackError>> {
    if !same_user(&stream) {
        respond(&mut stream, "403 Forbidden", &page(Page::Forbidden)).await;
        // Unread bytes at close would reset the connection and lose the page: discard them,
        // unlooked at, until the other end closes or a second passes.
        let mut discard = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while matches!(stream.read(&mut discard).await, Ok(read) if read > 0) {}
        })
        .await;
        return None;
    }
    let head = match tokio::time::timeout(REQUEST_READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(HeadError::TooLarge)) => {
            respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                &page(Page::NotFound),
            )
            .await;
            return None;
        }
        // A slow or broken connection is dropped; the browser's real request is another one.
        Ok(Err(HeadError::Closed)) | Err(_) => return None,
    };
    busy.store(true, Ordering::Release);
    if let Some(links) = expected.links {
        let (method, path) = launch::method_and_path(&head);
        if let Some(launched) = links.answer(method, path, host_is_loopback(head.lines().skip(1))) {
            launch::respond_launch(&mut stream, launched).await;
            return None;
        }
    }
    let route = route(&head, expected.path, expected.checks);
    if matches!(route, Route::Stray) {
        let count = strays.fetch_add(1, Ordering::AcqRel).saturating_add(1);
        tracing::warn!(
            count,
            "refused a callback with another state: the wait goes on"
        );
    }
    let (status, answer, outcome) = answer(route);
    respond(&mut stream, status, &answer).await;
    outcome
}

/// What a whole request head asks of the listener.
pub(crate) enum Route {
    /// Another path: 404, and the wait goes on.
    NotFound,
    /// The callback's path with another method: 405, and the wait goes on.
    MethodNotAllowed,
    /// The callback under a `Host` that is not a loopback name (a page whose DNS name was rebound
    /// to 127.0.0.1), or with no single `Host`: 421, and the wait goes on.
    MisdirectedHost,
    /// The callback with a `state` that is not this sign-in's (or none, or twice): any page can
    /// send one, so it is refused with 400 and the wait goes on.
    Stray,
    /// The callback with this sign-in's `state`, checked: it ends the wait either way.
    Callback(Result<AuthorizationResponse, LoopbackError>),
}

/// Reads the request line of `head` (the request head without its blank line) and, for a `GET`
/// of the callback's `path`, checks the query.
pub(crate) fn route(head: &str, path: &str, checks: &CallbackChecks) -> Route {
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (
        request_line.next().unwrap_or_default(),
        request_line.next().unwrap_or_default(),
    );
    let (request_path, query) = target.split_once('?').unwrap_or((target, ""));
    if request_path != path {
        return Route::NotFound;
    }
    if method != "GET" {
        return Route::MethodNotAllowed;
    }
    if !host_is_loopback(lines) {
        return Route::MisdirectedHost;
    }
    match check_callback(query, checks) {
        Err(Checked::Stray) => Route::Stray,
        Err(Checked::Failed(error)) => Route::Callback(Err(error)),
        Ok(response) => Route::Callback(Ok(response)),
    }
}

/// Why a callback was not taken: not this sign-in's, or this sign-in's and failed.
pub(crate) enum Checked {
    Stray,
    Failed(LoopbackError),
}

/// Whether the request head's header `lines` hold exactly one `Host`, naming this machine's
/// loopback as a redirect URI can (`127.0.0.1` or `localhost`, any port). A browser sends the
/// name it resolved: under DNS rebinding, the attacker's own.
pub(crate) fn host_is_loopback<'a>(lines: impl Iterator<Item = &'a str>) -> bool {
    let mut hosts = lines.filter_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("host").then(|| value.trim())
    });
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return false,
        None => host,
    };
    name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost")
}

/// The status line and page for a route, and the outcome to hand to the wait (`None`: go on).
pub(crate) fn answer(
    route: Route,
) -> (
    &'static str,
    String,
    Option<Result<AuthorizationResponse, LoopbackError>>,
) {
    match route {
        Route::NotFound => ("404 Not Found", page(Page::NotFound), None),
        Route::MethodNotAllowed => ("405 Method Not Allowed", page(Page::NotFound), None),
        Route::MisdirectedHost => ("421 Misdirected Request", page(Page::NotFound), None),
        Route::Stray => ("400 Bad Request", page(Page::Stray), None),
        Route::Callback(outcome) => {
            let answer = match &outcome {
                Ok(_) => page(Page::Success),
                Err(error) => page(Page::Failure(error)),
            };
            ("200 OK", answer, Some(outcome))
        }
    }
}

/// Whether the other end of `stream` belongs to this OS user. Refusals are logged without
/// anything the connection sent, which is never read.
pub(crate) fn same_user(stream: &TcpStream) -> bool {
    let (Ok(local), Ok(peer)) = (stream.local_addr(), stream.peer_addr()) else {
        return false;
    };
    // A read of the kernel's socket table: memory, not disk, so it does not hold up the thread.
    match peer_owner(local, peer) {
        PeerOwner::SameUser | PeerOwner::Unchecked => true,
        PeerOwner::OtherUser(owner) => {
            tracing::warn!(
                owner,
                "refused a connection to the sign-in listener from another user"
            );
            false
        }
        PeerOwner::NotFound => {
            tracing::warn!("refused a connection to the sign-in listener whose owner is unknown");
            false
        }
    }
}

/// The checks of one callback, `state` first (RFC 6749 §10.12), then `iss` (RFC 9207 §2.4),
/// then `error` or `code`.
fn check_callback(query: &str, checks: &CallbackChecks) -> Result<AuthorizationResponse, Checked> {
    let mut state = None;
    let mut iss = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        // A repeated parameter is ambiguous (RFC 6749 §3.1): treat the response as forged.
        let slot = match name.as_ref() {
            "state" => &mut state,
            "iss" => &mut iss,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(Checked::Stray);
        }
    }
    let state_matches = state.as_deref().is_some_and(|state| {
        constant_time_eq(state.as_bytes(), checks.state.expose_secret().as_bytes())
    });
    if !state_matches {
        return Err(Checked::Stray);
    }
    let failed = |error| Err(Checked::Failed(error));
    if let Some(received) = iss.as_deref() {
        if !checks.issuer.matches(received) {
            return failed(LoopbackError::IssuerMismatch {
                received: printable(received, 200),
            });
        }
    }
    let iss_missing = iss.is_none() && checks.iss_required;
    if let Some(error) = error {
        let error = printable(&error, 64);
        let description = description.map(|text| printable(&text, MAX_DESCRIPTION_CHARS));
        // Some providers leave `iss` out of their errors: the error is passed on, unverified.
        return failed(if iss_missing {
            LoopbackError::UnverifiedProvider { error, description }
        } else {
            LoopbackError::Provider { error, description }
        });
    }
    // A code without the `iss` the provider always sends is never redeemed.
    if iss_missing {
        return failed(LoopbackError::IssuerMissing);
    }
    match code.filter(|code| !code.is_empty()) {
        Some(code) => Ok(AuthorizationResponse {
            code: AuthorizationCode::new(code),
            iss,
            stray_callbacks: 0,
        }),
        None => failed(LoopbackError::CodeMissing),
    }
}

/// Compares without an early exit, so the time taken does not reveal how much of a guess was
/// right. Only the length can differ in time, and the state's length is not secret.
pub(crate) fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Text from the provider made safe to show: printable characters only, bounded in length.
fn printable(text: &str, max_chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

#[derive(Debug)]
pub(crate) enum HeadError {
    TooLarge,
    Closed,
}

pub(crate) async fn read_head(stream: &mut TcpStream) -> Result<String, HeadError> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 1024];
    loop {
        let read = stream
            .read(&mut buffer)
            .await
            .map_err(|_| HeadError::Closed)?;
        if read == 0 {
            return Err(HeadError::Closed);
        }
        head.extend_from_slice(&buffer[..read]);
        if let Some(head) = complete_head(&head)? {
            return Ok(head);
        }
    }
}

/// The request head in the bytes received so far: the text before the first blank line, `None`
/// while it has not all arrived, [`HeadError::TooLarge`] past [`MAX_REQUEST_BYTES`] without one.
pub(crate) fn complete_head(received: &[u8]) -> Result<Option<String>, HeadError> {
    if let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") {
        return Ok(Some(String::from_utf8_lossy(&received[..end]).into_owned()));
    }
    if received.len() > MAX_REQUEST_BYTES {
        return Err(HeadError::TooLarge);
    }
    Ok(None)
}

pub(crate) enum Page<'a> {
    Success,
    Failure(&'a LoopbackError),
    /// A callback with another `state`.
    Stray,
    NotFound,
    Forbidden,
    /// A launch link's redirect, for a browser that does not follow it.
    Continue,
    /// A launch link used already or lapsed.
    LinkSpent,
}

/// An accessible page for the browser tab: a title, one heading, plain words.
pub(crate) fn page(kind: Page<'_>) -> String {
    let (title, message) = match kind {
        Page::Success => (
            "Signed in".to_owned(),
            "You are signed in to careid. You can close this tab and return to the app.".to_owned(),
        ),
        Page::Failure(error) => (
            "Sign-in failed".to_owned(),
            format!(
                "careid could not sign you in: {}. Close this tab and try again from the app.",
                escape(&error.to_string())
            ),
        ),
        Page::Stray => (
            "Not this sign-in".to_owned(),
            "This response is not for the sign-in careid is waiting for, so it was ignored. \
             The sign-in goes on: finish it in the tab careid opened."
                .to_owned(),
        ),
        Page::NotFound => (
            "Not found".to_owned(),
            "This address is only for careid's sign-in.".to_owned(),
        ),
        Page::Forbidden => (
            "Not your sign-in".to_owned(),
            "This address belongs to another person's careid sign-in on this computer.".to_owned(),
        ),
        Page::Continue => (
            "Continue to your Care Identity".to_owned(),
            "Your browser should go on to the sign-in page at once.".to_owned(),
        ),
        Page::LinkSpent => (
            "This link has been used".to_owned(),
            "Each link careid opens works once. If you still need to sign in or out, go back to \
             careid and start again there."
                .to_owned(),
        ),
    };
    format!(
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - careid</title>\
         <style>body{{font-family:Arial,sans-serif;margin:2rem;max-width:40rem;font-size:1.2rem;line-height:1.5;color:#212b32}}\
         h1{{font-size:2rem}}</style></head>\
         <body><main><h1>{title}</h1><p>{message}</p></main></body></html>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    respond_with(stream, status, "", body).await;
}

/// [`respond`] with `headers` (whole lines, each ending in CRLF) as well.
pub(crate) async fn respond_with(stream: &mut TcpStream, status: &str, headers: &str, body: &str) {
    // The callback URL holds the code: no referrer may carry it on, and nothing may be cached.
    let response = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests;
