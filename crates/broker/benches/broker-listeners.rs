//! Many clients listening for their session's end on one broker, and one logout reaching its
//! client: the time from the provider posting its logout token to the client reading the
//! `ended` event (median, 99th percentile, worst), and the memory each listener costs the broker
//! (its RSS with every client listening, less its RSS before, over the number of clients).
//!
//! The broker runs in this process with an embedded store kept on disk, as deployed, behind a
//! provider of the bench's own (discovery and JWKS over HTTP, RS256 ID tokens and logout tokens
//! signed here). The clients run in a second process (this binary again), one plain HTTP/1.1
//! connection each, so their memory is not the broker's. Logouts are sent one at a time, each
//! for a different client, while all the others listen on.
//!
//! Each side holds a file descriptor per client: the bench raises its soft `RLIMIT_NOFILE` to
//! the hard limit and stops if that is still too low (`ulimit -Hn`).
//!
//! `cargo bench -p careid-broker --bench broker-listeners [-- CLIENTS [LOGOUTS]]`

use std::io::Write as _;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use careid_broker::run::{serve_broker, SideListener};
use careid_broker::server::{Broker, Side};
use careid_broker::{BrokerConfig, BrokerCredential, EmbeddedStore, Store};
use careid_oidc::{HttpClient, HttpSettings};
use careid_test_fixtures::broker_toml::{embedded_store, BrokerToml};
use careid_test_fixtures::claims::{logout_token_claims, session_id_token_claims};
use careid_test_fixtures::discovery::{provider_document, TestProvider};
use careid_test_fixtures::files::owner_only_file;
use careid_test_fixtures::jwt::{mint, JwtKey};
use careid_test_fixtures::keys::RsaTestKey;
use careid_test_fixtures::now_seconds as now;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const CLIENT: &str = "555000000001.apps.local";
/// The first argument of this binary run as the clients' process.
const CLIENTS_MODE: &str = "__listening-clients";
/// Connections being opened at once by the clients' process (the listen backlog is finite).
const OPENING_AT_ONCE: usize = 256;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(CLIENTS_MODE) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(clients(&args[2], &args[3]));
        return;
    }
    // `cargo bench` passes `--bench`; numbers are ours.
    let numbers: Vec<usize> = args.iter().filter_map(|arg| arg.parse().ok()).collect();
    let count = numbers.first().copied().unwrap_or(10_000).max(1);
    let logouts = numbers.get(1).copied().unwrap_or(300).clamp(1, count);
    raise_file_limit(count + 512);
    tokio::runtime::Runtime::new()
        .expect("a runtime")
        .block_on(bench(count, logouts));
}

fn micros_now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_micros()
}

fn sign(key: &RsaTestKey, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": "bench", "typ": "JWT"});
    mint(&header, claims, JwtKey::Rsa(key))
}

/// The broker's resident memory, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmRSS")
        * 1024
}

/// Raises the soft limit on open files to the hard limit; stops when that is below `needed`.
fn raise_file_limit(needed: usize) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised).expect("the soft file limit raised to the hard one");
    let current = getrlimit(Resource::Nofile).current;
    if current.is_some_and(|current| current < needed as u64) {
        eprintln!(
            "broker-listeners: {needed} open files needed, the hard limit is {current:?}: raise it (ulimit -Hn, or LimitNOFILE)"
        );
        std::process::exit(2);
    }
}

async fn bench(count: usize, logouts: usize) {
    let key = RsaTestKey::generate();
    let mut jwk = key.jwk("bench");
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

    // Each client's ID token, of a session of its own.
    let signing = Instant::now();
    let began = now() - 60;
    let tokens: Vec<String> = (0..count)
        .map(|client| {
            let sub = format!("9{client:011}");
            let sid = format!("bench-session-{client}");
            sign(
                &key,
                &session_id_token_claims(&issuer, CLIENT, &sub, &sid, began),
            )
        })
        .collect();
    let tokens_file = dir.path().join("tokens");
    std::fs::write(&tokens_file, tokens.join("\n")).unwrap();
    println!(
        "  {count} ID tokens signed in {:.1} s",
        signing.elapsed().as_secs_f64()
    );

    // Warm up: discovery and keys fetched, one listener opened and closed.
    let web = careid_test_fixtures::http::client_builder()
        .build()
        .expect("an HTTP client");
    let warm = web
        .get(format!("{url}/sessions/status"))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200, "{}", warm.text().await.unwrap());
    drop(
        web.get(format!("{url}/sessions/events"))
            .bearer_auth(&tokens[0])
            .send()
            .await
            .unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_bytes();

    // The clients, in a process of their own.
    let connecting = Instant::now();
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .arg(CLIENTS_MODE)
        .arg(&url)
        .arg(&tokens_file)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the clients' process");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines
        .next_line()
        .await
        .unwrap()
        .expect("the clients' report");
    assert_eq!(ready, format!("listening {count}"), "the clients' report");
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker.listeners().count() < count {
        assert!(
            Instant::now() < deadline,
            "every client counted as listening"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "  {count} clients listening after {:.1} s",
        connecting.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_listening = rss_bytes();

    // One logout at a time, each for another client, the rest listening on.
    let mut latencies = Vec::with_capacity(logouts);
    let mut answers = Vec::with_capacity(logouts);
    for round in 0..logouts {
        let client = round * count / logouts;
        let mut claims = logout_token_claims(&issuer, CLIENT, now(), &format!("bench-{round}"));
        claims["sid"] = json!(format!("bench-session-{client}"));
        let logout = sign(&key, &claims);
        let sent = micros_now();
        let answer = web
            .post(format!("{public_url}/backchannel-logout"))
            .form(&[("logout_token", logout)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answers.push(Duration::from_micros(
            u64::try_from(micros_now().saturating_sub(sent)).unwrap(),
        ));
        let told = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .expect("the client told within 5 s")
            .unwrap()
            .expect("a line from the clients");
        let (who, at) = told
            .strip_prefix("ended ")
            .and_then(|rest| rest.split_once(' '))
            .expect("ended CLIENT MICROS");
        assert_eq!(who, client.to_string(), "the client whose session ended");
        let at: u128 = at.parse().unwrap();
        latencies.push(Duration::from_micros(
            u64::try_from(at.saturating_sub(sent)).unwrap(),
        ));
    }
    child.kill().await.ok();

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

/// The clients' process: one connection per ID token in `tokens_file`, each listening on
/// `/sessions/events`. Prints `listening N` once all are, then `ended CLIENT MICROS` as each
/// client reads its `ended` event (MICROS: the wall clock, shared with the broker's process).
async fn clients(url: &str, tokens_file: &str) {
    raise_file_limit(0);
    let address = url.strip_prefix("http://").expect("an http URL").to_owned();
    let tokens: Vec<String> = std::fs::read_to_string(tokens_file)
        .expect("the tokens")
        .lines()
        .map(str::to_owned)
        .collect();
    let count = tokens.len();
    let opening = Arc::new(tokio::sync::Semaphore::new(OPENING_AT_ONCE));
    let listening = Arc::new(AtomicUsize::new(0));
    let all_listening = Arc::new(tokio::sync::Notify::new());
    for (client, token) in tokens.into_iter().enumerate() {
        let (address, opening) = (address.clone(), opening.clone());
        let (listening, all_listening) = (listening.clone(), all_listening.clone());
        tokio::spawn(async move {
            let mut permit = Some(opening.acquire_owned().await.unwrap());
            let mut stream = tokio::net::TcpStream::connect(&address)
                .await
                .expect("connects");
            let request = format!(
                "GET /sessions/events HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            );
            drop(token);
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut received = Vec::with_capacity(512);
            let mut buffer = [0u8; 512];
            let mut headers_read = false;
            loop {
                let read = stream.read(&mut buffer).await.expect("reads");
                assert!(read > 0, "client {client}: the broker closed the stream");
                received.extend_from_slice(&buffer[..read]);
                if !headers_read {
                    let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n")
                    else {
                        continue;
                    };
                    assert!(
                        received.starts_with(b"HTTP/1.1 200"),
                        "client {client}: {}",
                        String::from_utf8_lossy(&received[..end])
                    );
                    headers_read = true;
                    received.drain(..end + 4);
                    // Opened: the next connection may be.
                    permit.take();
                    if listening.fetch_add(1, Ordering::SeqCst) + 1 == count {
                        all_listening.notify_one();
                    }
                }
                if received.windows(12).any(|window| window == b"event: ended") {
                    let at = micros_now();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ended {client} {at}").unwrap();
                    out.flush().unwrap();
                    return;
                }
                // Keep-alives only: keep the tail, in case an event is split across reads.
                if received.len() > 1024 {
                    received.drain(..received.len() - 16);
                }
            }
        });
    }
    all_listening.notified().await;
    println!("listening {count}");
    std::io::stdout().flush().unwrap();
    std::future::pending::<()>().await;
}
