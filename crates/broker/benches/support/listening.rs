//! What the broker's two listener benches share (`broker-listeners`, `broker-soak`): the
//! provider's signatures on ID tokens and logout tokens, the listening clients (many desktops on
//! `/sessions/events`, in a process of their own: the bench's binary run again, so their memory
//! is not the broker's), the wall clock both processes read, and a process's resident memory.
//!
//! The clients' process does what its [`ListeningPlan`] says and tells what happens on its
//! stdout, one line each ([`Heard`]):
//!
//! - `listening N`: all N clients listen, each once at least;
//! - `ended CLIENT MICROS`: a client read its `ended` event (MICROS: the wall clock, shared with
//!   the bench's process);
//! - `dropped CLIENT`: a client's stream closed without an `ended` (its broker went away);
//! - `refused CLIENT STATUS`: a client's (re)connection was answered STATUS;
//! - `open CLIENT`: a client listens again, after a drop or in a new session.

#![allow(dead_code, reason = "each bench uses part of it")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use careid_test_fixtures::claims::{logout_token_claims, session_id_token_claims};
use careid_test_fixtures::jwt::{mint, JwtKey};
use careid_test_fixtures::keys::RsaTestKey;
use careid_test_fixtures::now_seconds;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use tokio::sync::{Notify, Semaphore};

/// The client the benches' brokers broker.
pub const CLIENT_ID: &str = "555000000001.apps.local";
/// The `kid` of the provider's one signing key.
pub const KID: &str = "bench";
/// The first argument of a bench's binary run as the clients' process.
const CLIENTS_MODE: &str = "__listening-clients";
/// Connections being opened at once by the clients' process (the listen backlog is finite).
const OPENING_AT_ONCE: usize = 256;
/// A client that lost its stream, or was refused, tries again after this, doubling up to
/// [`LONGEST_BACKOFF`], each wait jittered so that thousands do not come back at once.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const LONGEST_BACKOFF: Duration = Duration::from_secs(5);

/// Microseconds since 1970: the clock both processes read.
pub fn micros_now() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    u64::try_from(since.as_micros()).expect("microseconds in a u64")
}

/// `claims` signed RS256 with the provider's key.
pub fn sign(key: &RsaTestKey, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": KID, "typ": "JWT"});
    mint(&header, claims, JwtKey::Rsa(key))
}

/// The `sid` of client `client`'s `generation`-th session (it signs in again after each end).
pub fn session_sid(client: usize, generation: u32) -> String {
    format!("bench-session-{client}-{generation}")
}

/// Client `client`'s user: every session of one client is one user's.
pub fn user_sub(client: usize) -> String {
    format!("9{client:011}")
}

/// The ID token of client `client`'s `generation`-th session, begun at `began`, valid for
/// `life` seconds from then.
pub fn id_token(
    key: &RsaTestKey,
    issuer: &str,
    client: usize,
    generation: u32,
    began: u64,
    life: u64,
) -> String {
    let mut claims = session_id_token_claims(
        issuer,
        CLIENT_ID,
        &user_sub(client),
        &session_sid(client, generation),
        began,
    );
    claims["exp"] = json!(began + life);
    sign(key, &claims)
}

/// The provider's logout token for client `client`'s `generation`-th session, with `jti`.
pub fn logout_token(
    key: &RsaTestKey,
    issuer: &str,
    client: usize,
    generation: u32,
    jti: &str,
) -> String {
    let mut claims = logout_token_claims(issuer, CLIENT_ID, now_seconds(), jti);
    claims["sid"] = json!(session_sid(client, generation));
    claims["sub"] = json!(user_sub(client));
    sign(key, &claims)
}

/// A process's resident memory, from `/proc/PID/status` (`None` once it is gone).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    read_rss(&format!("/proc/{pid}/status"))
}

/// This process's resident memory.
pub fn own_rss_bytes() -> u64 {
    read_rss("/proc/self/status").expect("VmRSS")
}

fn read_rss(path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kib * 1024)
}

/// Raises the soft limit on open files to the hard limit; stops when that is below `needed`.
pub fn raise_file_limit(needed: usize) {
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
            "{needed} open files needed, the hard limit is {current:?}: raise it (ulimit -Hn, or LimitNOFILE)"
        );
        std::process::exit(2);
    }
}

/// What the clients' process does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListeningPlan {
    pub issuer: String,
    /// The provider's signing key (PKCS#8 PEM): the clients' ID tokens are signed in their own
    /// process, as the provider would have signed them.
    pub key_file: PathBuf,
    pub clients: usize,
    /// Client `i` listens at `targets[i % targets.len()]`, a broker's internal URL.
    pub targets: Vec<String>,
    /// Whether a client whose stream drops, or whose connection is refused, tries again with
    /// backoff; otherwise the clients' process fails.
    pub reconnect: bool,
    /// Whether a client told that its session ended signs in again (a new session of the same
    /// user) and listens on.
    pub sign_in_again: bool,
    /// How long the clients' ID tokens are valid, in seconds.
    pub token_life: u64,
}

impl ListeningPlan {
    /// Which of the targets client `client` listens at.
    pub fn target_of(&self, client: usize) -> usize {
        client % self.targets.len()
    }
}

/// One line from the clients' process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Listening(usize),
    Ended { client: usize, micros: u64 },
    Dropped(usize),
    Refused { client: usize, status: u16 },
    Open(usize),
}

impl Heard {
    fn parse(line: &str) -> Option<Self> {
        let mut words = line.split(' ');
        let kind = words.next()?;
        let mut number = || words.next()?.parse::<u64>().ok();
        let first = usize::try_from(number()?).ok()?;
        Some(match kind {
            "listening" => Heard::Listening(first),
            "ended" => Heard::Ended {
                client: first,
                micros: number()?,
            },
            "dropped" => Heard::Dropped(first),
            "refused" => Heard::Refused {
                client: first,
                status: u16::try_from(number()?).ok()?,
            },
            "open" => Heard::Open(first),
            _ => return None,
        })
    }
}

/// The clients' process, seen from the bench: it is ended when this is dropped.
pub struct ListeningClients {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl ListeningClients {
    /// Starts the clients' process on `plan`, written to a file in `dir`.
    pub fn start(plan: &ListeningPlan, dir: &Path) -> Self {
        let plan_file = dir.join("listening-plan.json");
        std::fs::write(&plan_file, serde_json::to_vec(plan).expect("a plan")).expect("the plan");
        let mut child = tokio::process::Command::new(std::env::current_exe().expect("this bench"))
            .arg(CLIENTS_MODE)
            .arg(&plan_file)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the clients' process");
        let lines = BufReader::new(child.stdout.take().expect("its stdout")).lines();
        Self {
            _child: child,
            lines,
        }
    }

    /// The next thing the clients tell; `None` once their process has ended.
    pub async fn heard(&mut self) -> Option<Heard> {
        let line = self.lines.next_line().await.ok()??;
        Some(Heard::parse(&line).unwrap_or_else(|| panic!("a line from the clients: {line:?}")))
    }
}

/// When this process was started as the clients' process, runs the clients and never returns.
pub fn run_if_clients_process() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(CLIENTS_MODE) {
        return;
    }
    let plan: ListeningPlan =
        serde_json::from_slice(&std::fs::read(&args[2]).expect("the plan")).expect("a plan");
    raise_file_limit(plan.clients + 64);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(clients(plan));
}

/// What every client task reads.
struct Clients {
    plan: ListeningPlan,
    key: RsaTestKey,
    opening: Semaphore,
    /// Clients that have listened once at least.
    listening: AtomicUsize,
    all_listening: Notify,
}

/// One connection per client, each listening on `/sessions/events` with its own session's ID
/// token. Prints `listening N` once all are, and the rest as it happens; runs until killed.
async fn clients(plan: ListeningPlan) {
    let key = RsaTestKey::from_pem(&std::fs::read_to_string(&plan.key_file).expect("the key"));
    let began = now_seconds() - 60;
    let tokens: Vec<String> = (0..plan.clients)
        .map(|client| id_token(&key, &plan.issuer, client, 0, began, plan.token_life))
        .collect();
    let count = plan.clients;
    let shared = Arc::new(Clients {
        plan,
        key,
        opening: Semaphore::new(OPENING_AT_ONCE),
        listening: AtomicUsize::new(0),
        all_listening: Notify::new(),
    });
    for (client, token) in tokens.into_iter().enumerate() {
        tokio::spawn(listen(shared.clone(), client, token));
    }
    shared.all_listening.notified().await;
    say(&format!("listening {count}"));
    std::future::pending::<()>().await;
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout");
    out.flush().expect("stdout");
}

/// How one attempt to listen ended.
enum Attempt {
    /// The `ended` event was read.
    Ended,
    /// The stream closed, or failed, without it.
    Dropped,
    Refused(u16, String),
    Unreachable(String),
}

/// One client, for as long as its plan keeps it listening.
async fn listen(shared: Arc<Clients>, client: usize, mut token: String) {
    let plan = &shared.plan;
    let address = plan.targets[plan.target_of(client)]
        .strip_prefix("http://")
        .expect("an http URL")
        .to_owned();
    let mut generation = 0;
    let mut opened_before = false;
    let mut backoff = FIRST_BACKOFF;
    for attempt in 0u64.. {
        match listen_once(&shared, client, &address, &token, &mut opened_before).await {
            Attempt::Ended => {
                say(&format!("ended {client} {}", micros_now()));
                if !plan.sign_in_again {
                    return;
                }
                generation += 1;
                token = id_token(
                    &shared.key,
                    &plan.issuer,
                    client,
                    generation,
                    now_seconds(),
                    plan.token_life,
                );
                backoff = FIRST_BACKOFF;
                continue;
            }
            Attempt::Dropped => {
                assert!(
                    plan.reconnect,
                    "client {client}: the broker closed the stream"
                );
                say(&format!("dropped {client}"));
                backoff = FIRST_BACKOFF;
            }
            Attempt::Refused(status, head) => {
                assert!(plan.reconnect, "client {client}: {head}");
                say(&format!("refused {client} {status}"));
            }
            Attempt::Unreachable(error) => {
                assert!(plan.reconnect, "client {client}: {error}");
            }
        }
        tokio::time::sleep(jittered(backoff, client, attempt)).await;
        backoff = (backoff * 2).min(LONGEST_BACKOFF);
    }
}

/// Between half of `backoff` and all of it, spread by client and attempt.
fn jittered(backoff: Duration, client: usize, attempt: u64) -> Duration {
    let mut x = (client as u64) << 20 ^ attempt ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    let half = backoff / 2;
    half + half.mul_f64((x % 1000) as f64 / 1000.0)
}

/// Opens one stream and reads it until the `ended` event or its end.
async fn listen_once(
    shared: &Clients,
    client: usize,
    address: &str,
    token: &str,
    opened_before: &mut bool,
) -> Attempt {
    let mut permit = Some(shared.opening.acquire().await.expect("open"));
    let mut stream = match tokio::net::TcpStream::connect(address).await {
        Ok(stream) => stream,
        Err(error) => return Attempt::Unreachable(error.to_string()),
    };
    let request = format!(
        "GET /sessions/events HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    if let Err(error) = stream.write_all(request.as_bytes()).await {
        return Attempt::Unreachable(error.to_string());
    }
    let mut received = Vec::with_capacity(512);
    let mut buffer = [0u8; 512];
    let mut headers_read = false;
    loop {
        let read = match stream.read(&mut buffer).await {
            Ok(read) if read > 0 => read,
            Ok(_) | Err(_) if headers_read => return Attempt::Dropped,
            Ok(_) => return Attempt::Unreachable("closed before answering".into()),
            Err(error) => return Attempt::Unreachable(error.to_string()),
        };
        received.extend_from_slice(&buffer[..read]);
        if !headers_read {
            let Some(end) = received.windows(4).position(|window| window == b"\r\n\r\n") else {
                continue;
            };
            if !received.starts_with(b"HTTP/1.1 200") {
                let head = String::from_utf8_lossy(&received[..end]).into_owned();
                let status = head
                    .get(9..12)
                    .and_then(|status| status.parse().ok())
                    .unwrap_or(0);
                return Attempt::Refused(status, head);
            }
            headers_read = true;
            received.drain(..end + 4);
            // Opened: the next connection may be.
            permit.take();
            if *opened_before {
                say(&format!("open {client}"));
            } else {
                *opened_before = true;
                let listening = shared.listening.fetch_add(1, Ordering::SeqCst) + 1;
                if listening == shared.plan.clients {
                    shared.all_listening.notify_one();
                }
            }
        }
        if received.windows(12).any(|window| window == b"event: ended") {
            return Attempt::Ended;
        }
        // Keep-alives only: keep the tail, in case an event is split across reads.
        if received.len() > 1024 {
            received.drain(..received.len() - 16);
        }
    }
}
