//! The loopback listener with a real socket and a raw HTTP client standing in for the browser.

use std::future::pending;
use std::time::Duration;

use careid_core::{CallbackChecks, CsrfState, LoopbackError, LoopbackListener, RedirectHost};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ISSUER: &str = "http://localhost:9/realm";
const WAIT: Duration = Duration::from_secs(20);

fn checks() -> CallbackChecks {
    CallbackChecks {
        state: CsrfState::new("state-abc".to_owned()),
        issuer: crate::issuer_url(ISSUER),
        iss_required: true,
    }
}

/// Sends raw bytes as one request and returns the whole response.
async fn send(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

async fn get(port: u16, target: &str) -> String {
    send(
        port,
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes(),
    )
    .await
}

fn valid_callback() -> String {
    "/callback?code=the-code&state=state-abc&iss=http%3A%2F%2Flocalhost%3A9%2Frealm".to_owned()
}

#[tokio::test]
async fn valid_callback_returns_the_code_and_an_accessible_page() {
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let port = listener.local_addr().port();
    assert_eq!(
        listener.redirect_uri().as_str(),
        format!("http://127.0.0.1:{port}/callback")
    );
    let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));
    let page = get(port, &valid_callback()).await;
    let response = waiting.await.expect("joined").expect("accepted");
    assert_eq!(response.code.expose_secret(), "the-code");
    assert_eq!(response.iss.as_deref(), Some(ISSUER));
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(
        page.contains("Referrer-Policy: no-referrer") && page.contains("Cache-Control: no-store")
    );
    assert!(
        page.contains("<html lang=\"en-GB\">") && page.contains("<h1>Signed in</h1>"),
        "{page}"
    );
    // One valid callback only: the listener is closed now.
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[tokio::test]
async fn stray_requests_are_refused_without_ending_the_wait() {
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let port = listener.local_addr().port();
    let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));

    // A connection that never sends anything must not hold up the browser's request.
    let _slow = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "wrong path",
            b"GET /favicon.ico HTTP/1.1\r\n\r\n".to_vec(),
            "404 Not Found",
        ),
        (
            "wrong path with a valid query",
            format!("GET /other?{} HTTP/1.1\r\n\r\n", &valid_callback()[10..]).into_bytes(),
            "404 Not Found",
        ),
        (
            "wrong method",
            format!("POST {} HTTP/1.1\r\n\r\n", valid_callback()).into_bytes(),
            "405 Method Not Allowed",
        ),
        (
            "oversized",
            format!("GET /callback?{} HTTP/1.1\r\n\r\n", "x".repeat(20_000)).into_bytes(),
            "431 ",
        ),
    ];
    for (name, request, status) in cases {
        let response = send(port, &request).await;
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status}")),
            "{name}: {response}"
        );
        assert!(!waiting.is_finished(), "{name} ended the wait");
    }
    get(port, &valid_callback()).await;
    let response = tokio::time::timeout(Duration::from_secs(3), waiting)
        .await
        .expect("the valid callback was not held up by the slow connection")
        .expect("joined")
        .expect("accepted");
    assert_eq!(response.code.expose_secret(), "the-code");
}

/// A page of another site whose DNS name was rebound to 127.0.0.1 reaches the listener, but under
/// its own name: even with the right `state`, its callback is refused with 421 and the wait goes
/// on for the browser's real one.
#[tokio::test]
async fn a_callback_under_another_host_is_refused_and_the_wait_goes_on() {
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let port = listener.local_addr().port();
    let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));
    for host in [
        format!("Host: attacker.example:{port}\r\n"),
        String::new(),
        format!("Host: 127.0.0.1:{port}\r\nHost: attacker.example:{port}\r\n"),
    ] {
        let request = format!("GET {} HTTP/1.1\r\n{host}\r\n", valid_callback());
        let response = send(port, request.as_bytes()).await;
        assert!(
            response.starts_with("HTTP/1.1 421 Misdirected Request"),
            "{host:?}: {response}"
        );
        assert!(!response.contains("the-code"), "{response}");
        assert!(!waiting.is_finished(), "{host:?} ended the wait");
    }
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n",
        valid_callback()
    );
    send(port, request.as_bytes()).await;
    let response = tokio::time::timeout(Duration::from_secs(3), waiting)
        .await
        .expect("the browser's callback ended the wait")
        .expect("joined")
        .expect("accepted");
    assert_eq!(response.code.expose_secret(), "the-code");
}

#[tokio::test]
async fn a_callback_that_fails_a_check_ends_the_wait_with_the_reason() {
    let cases = [
        (
            "missing iss",
            "/callback?code=c&state=state-abc",
            "issuer_missing",
        ),
        (
            "wrong iss",
            "/callback?code=c&state=state-abc&iss=http%3A%2F%2Fevil%2Frealm",
            "issuer_mismatch",
        ),
        (
            "provider error",
            "/callback?error=access_denied&state=state-abc&iss=http%3A%2F%2Flocalhost%3A9%2Frealm",
            "provider_error",
        ),
        (
            "provider error without iss",
            "/callback?error=access_denied&error_description=Cancelled&state=state-abc",
            "provider_error_unverified",
        ),
    ];
    for (name, target, code) in cases {
        let listener = LoopbackListener::bind(&[], "/callback")
            .await
            .expect("bound");
        let port = listener.local_addr().port();
        let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));
        let page = get(port, target).await;
        let error = waiting.await.expect("joined").expect_err(name);
        assert_eq!(error.code(), code, "{name}: {error}");
        assert!(page.contains("<h1>Sign-in failed</h1>"), "{name}: {page}");
    }
}

#[tokio::test]
async fn port_list_is_tried_in_order_and_all_taken_names_the_ports() {
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let taken_port = taken.local_addr().expect("addr").port();
    let free_port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();

    let listener = LoopbackListener::bind(&[taken_port, free_port], "/callback")
        .await
        .expect("second port");
    assert_eq!(listener.local_addr().port(), free_port);

    let also_taken = listener.local_addr().port();
    let error = LoopbackListener::bind(&[taken_port, also_taken], "/callback")
        .await
        .expect_err("all taken");
    assert_eq!(error.code(), "ports_taken");
    let message = error.to_string();
    assert!(
        message.contains(&taken_port.to_string()) && message.contains(&also_taken.to_string()),
        "{message}"
    );
    // What to do, and no quiet fallback to a port the provider has not registered.
    assert!(
        message.contains("try again") && message.contains("--redirect-port"),
        "{message}"
    );
}

/// Browsers (Windows' especially) try `::1` first for `localhost`: a `localhost` redirect URI
/// holds `[::1]` on the same port too, so no one else can take it there and receive the code;
/// a port whose `::1` twin is taken is not used.
#[tokio::test]
async fn a_localhost_redirect_uri_holds_the_port_on_both_loopbacks() {
    let listener = LoopbackListener::bind_for(&[], RedirectHost::Localhost, "/callback")
        .await
        .expect("bound");
    let address = listener.local_addr();
    assert!(address.ip().is_loopback() && address.is_ipv4(), "{address}");
    let port = address.port();
    assert_eq!(
        listener.redirect_uri().as_str(),
        format!("http://localhost:{port}/callback")
    );
    assert!(
        std::net::TcpListener::bind(("::1", port)).is_err(),
        "no one else can take [::1]:{port}"
    );
    // The browser reaches it over IPv6 by name and the callback is taken as usual.
    let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));
    let mut stream = TcpStream::connect(("::1", port))
        .await
        .expect("::1 reaches it");
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n",
        valid_callback()
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    let mut page = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut page)
        .await
        .unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    let response = waiting.await.expect("joined").expect("accepted");
    assert_eq!(response.code.expose_secret(), "the-code");

    // Someone holds [::1] on the first listed port: it is passed over for the next one.
    let squatter = std::net::TcpListener::bind(("::1", 0)).expect("a port on ::1");
    let squatted = squatter.local_addr().unwrap().port();
    let free = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listener = LoopbackListener::bind_for(&[squatted, free], RedirectHost::Localhost, "/cb")
        .await
        .expect("bound on the second port");
    assert_eq!(listener.local_addr().port(), free);
    // With 127.0.0.1 in the redirect URI, IPv4 alone, as before.
    let listener = LoopbackListener::bind_for(&[squatted], RedirectHost::Ipv4Loopback, "/cb")
        .await
        .expect("127.0.0.1 only");
    assert_eq!(listener.local_addr().port(), squatted);
}

#[tokio::test]
async fn binds_ipv4_loopback_only() {
    let listener = LoopbackListener::bind(&[], "callback")
        .await
        .expect("bound");
    let address = listener.local_addr();
    assert!(address.ip().is_loopback() && address.is_ipv4(), "{address}");
    assert!(listener.redirect_uri().ends_with("/callback"));
    assert!(
        TcpStream::connect(("::1", address.port())).await.is_err(),
        "reachable on ::1"
    );
}

#[tokio::test]
async fn times_out_and_cancels() {
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let error = listener
        .wait(checks(), Duration::from_millis(100), pending())
        .await
        .expect_err("timed out");
    assert!(
        matches!(error, LoopbackError::TimedOut { stray: 0, .. }),
        "{error}"
    );

    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let cancel = tokio::time::sleep(Duration::from_millis(50));
    let error = listener
        .wait(checks(), WAIT, cancel)
        .await
        .expect_err("cancelled");
    assert_eq!(error.code(), "cancelled");
}

/// Shared machines: another OS user can reach 127.0.0.1, and even a callback with the right
/// state from them is refused with 403 while the wait goes on; the user's own then succeeds.
/// Running as another user needs root (as in CI); otherwise that part is skipped with a reason.
#[tokio::test]
async fn another_users_connection_is_refused_and_the_wait_goes_on() {
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let port = listener.local_addr().port();
    let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));

    if let Some(reason) = cannot_switch_user() {
        println!("skipped the other-user connection: {reason}");
    } else {
        let url = format!("http://127.0.0.1:{port}{}", valid_callback());
        let output = tokio::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .args(["curl", "--silent", "--max-time", "10"])
            .args(["--output", "/dev/null", "--write-out", "%{http_code}", &url])
            .output()
            .await
            .expect("setpriv runs");
        let status = String::from_utf8_lossy(&output.stdout);
        assert_eq!(status, "403", "another user's callback was not refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !waiting.is_finished(),
            "another user's callback ended the wait"
        );
    }

    get(port, &valid_callback()).await;
    let response = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the user's own callback is served")
        .expect("joined")
        .expect("accepted");
    assert_eq!(response.code.expose_secret(), "the-code");
}

/// Why this process cannot run a client as `nobody`, if it cannot.
fn cannot_switch_user() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").map(|meta| meta.uid());
    if uid.as_ref().ok() != Some(&0) {
        return Some(format!("the tests run as uid {uid:?}, not root"));
    }
    for tool in ["setpriv", "curl"] {
        let found = std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !found {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

/// A flood of connections that send nothing: those beyond the cap are closed, oldest first,
/// and the browser's callback is still served at once.
#[tokio::test]
async fn a_flood_of_idle_connections_does_not_stop_the_callback() {
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let port = listener.local_addr().port();
    let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));

    let mut idle = Vec::new();
    // On a busy machine the listener can close a connection (the oldest idle one, to make
    // room) before `connect` has returned it: that one was closed too.
    let mut closed = 0;
    for _ in 0..200 {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => idle.push(stream),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Err(error) => panic!("connect: {error}"),
        }
    }
    // The listener holds at most its cap: the oldest idle connections are closed to make room,
    // and the newest stay open (their reads wait out the deadline).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    for stream in &mut idle {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout_at(deadline, stream.read(&mut byte)).await;
        if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
            closed += 1;
        }
    }
    assert_eq!(
        closed,
        200 - careid_core::loopback::MAX_CONNECTIONS,
        "idle connections beyond the cap stayed open"
    );

    let started = std::time::Instant::now();
    get(port, &valid_callback()).await;
    let response = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("the callback was served promptly despite the flood")
        .expect("joined")
        .expect("accepted");
    assert_eq!(response.code.expose_secret(), "the-code");
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Any web page can send the browser to the listener with a made-up `state` (the ports are
/// public): each such callback is answered 400 and counted, the wait goes on, and the right
/// callback, arriving in the middle of a flood of them, signs in.
#[tokio::test]
async fn callbacks_with_another_state_are_refused_and_the_wait_goes_on() {
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let port = listener.local_addr().port();
    let waiting = tokio::spawn(listener.wait(checks(), WAIT, pending()));
    let strays = [
        "/callback?code=c&state=forged&iss=http%3A%2F%2Flocalhost%3A9%2Frealm",
        "/callback?code=c",
        "/callback?error=access_denied&state=forged",
        "/callback?code=c&state=state-abc&state=state-abc",
    ];
    let flood = tokio::spawn(async move {
        for round in 0..10 {
            for target in strays {
                let answer = get(port, target).await;
                assert!(answer.starts_with("HTTP/1.1 400"), "{target}: {answer}");
                assert!(answer.contains("<h1>Not this sign-in</h1>"), "{answer}");
            }
            if round == 4 {
                tokio::task::yield_now().await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiting.is_finished(), "a stray callback ended the wait");
    flood.await.expect("the flood was answered");
    let page = get(port, &valid_callback()).await;
    assert!(page.contains("<h1>Signed in</h1>"), "{page}");
    let response = waiting.await.expect("joined").expect("the right callback");
    assert_eq!(response.code.expose_secret(), "the-code");
    assert_eq!(response.stray_callbacks, 40);

    // A wait that only ever sees strays times out saying how many it refused.
    let listener = LoopbackListener::bind(&[], "/callback")
        .await
        .expect("bound");
    let port = listener.local_addr().port();
    let waiting = tokio::spawn(listener.wait(checks(), Duration::from_millis(500), pending()));
    get(port, strays[0]).await;
    let error = waiting.await.expect("joined").expect_err("timed out");
    assert!(
        matches!(error, LoopbackError::TimedOut { stray: 1, .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("one response that was not for this sign-in"),
        "{error}"
    );
}
