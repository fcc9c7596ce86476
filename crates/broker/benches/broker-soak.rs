//! The soak: the broker as deployed for a trust, under steady load for a long time, with its
//! Redis and one of its replicas killed and started again while the load goes on.
//!
//! - Two replicas of the `careid-broker` program, each with its own `broker.toml` (public and
//!   internal listeners on loopback ports chosen here), on one Redis this bench starts
//!   (`CAREID_TEST_REDIS_SERVER`, else `redis-server` on `PATH`; nothing kept on disk), with one
//!   key prefix, one handle key file and one credential.
//! - A provider of the bench's own: discovery and keys over HTTP, ID tokens and logout tokens
//!   signed here, and a token endpoint (`client_secret_basic`) that exchanges codes and rotates
//!   refresh tokens.
//! - Relays with DPoP: chains of refreshes through the replicas, alternating, each chain with its
//!   own DPoP key, begun by a code exchange, 20 a second in all.
//! - Listeners: 10,000 clients in a process of their own (`support/listening.rs`, shared with
//!   `broker-listeners`), half on each replica's `/sessions/events`, each a session of its own;
//!   a client whose stream drops comes back to the same replica with backoff, and a client told
//!   its session ended signs in again and listens on.
//! - A logout every 100 ms, each for another listening session, posted as CIS2 would to one
//!   replica's `/backchannel-logout` (alternating) and posted again after a 503 or a connection
//!   error until it is taken (200, or already received).
//! - Faults, one at a time: Redis killed (SIGKILL) and started again, empty, twice; replica `b`
//!   killed and started again twice.
//!
//! Every logout must reach its listener, those sent while Redis or the listener's replica was
//! down included, no valid relay outside a fault may be refused, and the live heap of the replica
//! that runs throughout must be flat over the second half of the run ([`FLAT_MIB_PER_HOUR`]; the
//! replicas are built with `count-heap`, which shows it in `/metrics`): the bench fails, saying
//! which, otherwise. It reports, one figure a line: the logouts and how many reached their
//! listener, logout-to-client latency outside faults and during them, relays done and refused,
//! and each replica's memory over the run.
//!
//! `cargo bench -p careid-broker --bench broker-soak [-- --seconds N] [--listeners N]` (or
//! `cargo xtask bench broker-soak`); 600 seconds and 10,000 listeners by default.

#[path = "support/listening.rs"]
mod listening;
#[path = "../tests/broker/support/own_redis.rs"]
mod own_redis;
#[path = "support/soak_world.rs"]
mod soak_world;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use careid_oidc::DpopKey;
use careid_test_fixtures::broker_toml::BrokerToml;
use careid_test_fixtures::claims::{random_jti, session_id_token_claims};
use careid_test_fixtures::discovery::{provider_document, TestProvider};
use careid_test_fixtures::files::owner_only_file;
use careid_test_fixtures::keys::RsaTestKey;
use careid_test_fixtures::{now_seconds, s256_challenge};
use listening::{
    id_token, logout_token, micros_now, raise_file_limit, rss_bytes, sign, Heard, ListeningClients,
    ListeningPlan, CLIENT_ID, KID,
};
use own_redis::OwnRedis;
use serde_json::{json, Value};
use soak_world::*;

/// What the bench is called in its report lines.
const NAME: &str = "broker-soak";
const DEFAULT_SECONDS: u64 = 600;
const DEFAULT_LISTENERS: usize = 10_000;
const LOGOUT_EVERY: Duration = Duration::from_millis(100);
/// Relay chains, each refreshing in turn: `RELAYS_PER_SECOND` in all.
const RELAY_CHAINS: usize = 20;
const RELAYS_PER_SECOND: f64 = 20.0;
/// How long a killed Redis or replica stays down before it is started again.
const DOWN_FOR: Duration = Duration::from_secs(5);
/// How long a fault may take to heal (the replica's listeners all back, both replicas subscribed
/// again) before the bench gives up on it.
const HEAL_WITHIN: Duration = Duration::from_secs(120);
/// How long after the last logout the bench waits for the last listener to be told.
const DRAIN_WITHIN: Duration = Duration::from_secs(60);
/// How long a logout or a relay is retried through faults before the bench counts it failed.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);
const REDIRECT: &str = "http://127.0.0.1:23741/callback";
const SECRET: &str = "a-bench-client-secret";
const PREFIX: &str = "careid-soak:";
/// The most the live heap of the replica that runs throughout may rise an hour over the second
/// half of the run for its memory to count as flat: 1 KiB a listener an hour at 10,000
/// listeners, where a listener leaking as little as its task's size at each churn would show as
/// tens. (Its RSS is reported beside it: glibc's malloc keeps some of what is freed as sessions
/// come and go, so the RSS creeps while the heap is flat.)
const FLAT_MIB_PER_HOUR: f64 = 10.0;
const REPLICAS: [&str; 2] = ["a", "b"];

fn main() {
    listening::run_if_clients_process();
    let options = Options::from_args();
    raise_file_limit(1024);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if !runtime.block_on(soak(options)) {
        std::process::exit(1);
    }
}

#[derive(Debug, Clone, Copy)]
struct Options {
    seconds: u64,
    listeners: usize,
}

impl Options {
    /// `--seconds N` and `--listeners N`; `cargo bench` adds `--bench`, which is not ours.
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let value = |name: &str| {
            args.iter()
                .position(|arg| arg == name)
                .and_then(|at| args.get(at + 1))
                .map(|value| {
                    value
                        .parse()
                        .unwrap_or_else(|_| panic!("{name} takes a number, not {value:?}"))
                })
        };
        Self {
            seconds: value("--seconds").unwrap_or(DEFAULT_SECONDS).max(10),
            listeners: value("--listeners")
                .map_or(DEFAULT_LISTENERS, |listeners: u64| listeners as usize)
                .max(2),
        }
    }
}

/// Prints an indented line (a detail; result lines start at the margin) at once.
fn detail(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "  {line}").expect("stdout");
    out.flush().expect("stdout");
}

fn result(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{NAME}: {line}").expect("stdout");
    out.flush().expect("stdout");
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The fault windows: from the kill until the fault has healed (the process back, and what it
/// serves whole again), in microseconds of the wall clock.
#[derive(Debug, Default)]
struct Faults {
    windows: Mutex<Vec<(u64, Option<u64>)>>,
}

impl Faults {
    fn begin(&self, at: u64) -> usize {
        let mut windows = lock(&self.windows);
        windows.push((at, None));
        windows.len() - 1
    }

    fn end(&self, window: usize, at: u64) {
        lock(&self.windows)[window].1 = Some(at);
    }

    /// Whether anything in `from..=until` happened during a fault.
    fn overlaps(&self, from: u64, until: u64) -> bool {
        lock(&self.windows)
            .iter()
            .any(|&(begun, healed)| from <= healed.unwrap_or(u64::MAX) && until >= begun)
    }
}

// ---------------------------------------------------------------------------------------------
// What the bench keeps track of.

/// Where a listening client stands, as its process told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Listening, or about to (before every client first listened).
    Listening,
    /// Its stream dropped: it is coming back.
    Dropped,
    /// Told its session ended: it is signing in again.
    Ended,
}

/// A logout posted and not yet told to its listener.
#[derive(Debug, Clone, Copy)]
struct Pending {
    round: usize,
    posted_to: usize,
    posted: u64,
}

/// A logout told to its listener.
#[derive(Debug, Clone, Copy)]
struct Told {
    posted: u64,
    told: u64,
}

#[derive(Debug)]
struct Book {
    slots: Vec<Slot>,
    /// Each client's current session (how many times it was signed out).
    generation: Vec<u32>,
    pending: HashMap<usize, Pending>,
    told: Vec<Told>,
    /// Clients told of an end no logout was posted for.
    unexpected_ends: Vec<usize>,
    all_listening: bool,
    clients_gone: bool,
    /// Streams that dropped and came back.
    reconnections: usize,
    /// Listeners' (re)connections answered other than 200, by status and whether in a fault.
    refused_listeners: BTreeMap<(u16, bool), usize>,
}

impl Book {
    fn new(listeners: usize) -> Self {
        Self {
            slots: vec![Slot::Listening; listeners],
            generation: vec![0; listeners],
            pending: HashMap::new(),
            told: Vec::new(),
            unexpected_ends: Vec::new(),
            all_listening: false,
            clients_gone: false,
            reconnections: 0,
            refused_listeners: BTreeMap::new(),
        }
    }

    fn dropped_on(&self, replica: usize) -> usize {
        self.slots
            .iter()
            .enumerate()
            .filter(|&(client, slot)| client % 2 == replica && *slot == Slot::Dropped)
            .count()
    }
}

#[derive(Debug, Default)]
struct LogoutStats {
    sent: usize,
    answered: usize,
    already_received: usize,
    retried_unavailable: usize,
    retried_unreachable: usize,
    /// Rounds with no client free to sign out (every one still signing in again).
    skipped: usize,
    refused: Vec<String>,
}

#[derive(Debug, Default)]
struct RelayStats {
    code_exchanges: usize,
    refreshes: usize,
    /// Microseconds, of the relays no fault touched.
    latencies: Vec<u64>,
    /// `use_dpop_nonce` to a chain's first request, which has no nonce yet: as RFC 9449 §8 has it.
    first_nonces: usize,
    /// 503s and connection failures during a fault, each retried (on the other replica).
    retried_unavailable: usize,
    retried_unreachable: usize,
    /// Answers lost to a replica killed while relaying: the provider had rotated the refresh
    /// token, so the chain was begun again by a new sign-in.
    lost_answers: usize,
    refused_in_faults: Vec<String>,
    /// 503s and connection failures outside faults.
    unavailable_outside_faults: Vec<String>,
    /// Refusals of valid requests outside faults.
    refused: Vec<String>,
}

/// Everything the bench's tasks share.
struct Shared {
    options: Options,
    provider: Provider,
    http: reqwest::Client,
    redis_url: String,
    public_urls: [String; 2],
    token_urls: [String; 2],
    faults: Faults,
    book: Mutex<Book>,
    changed: tokio::sync::Notify,
    logouts: Mutex<LogoutStats>,
    relays: Mutex<RelayStats>,
    next_replica: AtomicUsize,
    /// The replicas' process ids, 0 while one is down.
    pids: [AtomicU32; 2],
    /// From when each replica's memory is taken as steady, for the slope.
    steady_from: [AtomicU64; 2],
    /// (time, pid, RSS) every second.
    memory: Mutex<[Vec<(u64, u32, u64)>; 2]>,
    /// Each replica's `/metrics`, for the bytes it holds.
    metrics_urls: [String; 2],
    /// (time, pid, live heap) every second, from `/metrics` (`count-heap`).
    heap: Mutex<[Vec<(u64, u32, u64)>; 2]>,
}

// ---------------------------------------------------------------------------------------------
// The run.

async fn soak(options: Options) -> bool {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let program =
        std::env::var("CAREID_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let redis = OwnRedis::start_program(&program, &[]);
    let redis_url = redis.url();
    let provider = Provider::start().await;
    let mut replicas = [
        replica(
            dir.path(),
            REPLICAS[0],
            &provider.issuer,
            &redis_url,
            options.listeners,
        ),
        replica(
            dir.path(),
            REPLICAS[1],
            &provider.issuer,
            &redis_url,
            options.listeners,
        ),
    ];
    let http = careid_test_fixtures::http::client_builder()
        .build()
        .expect("an HTTP client");
    for replica in &mut replicas {
        replica.spawn();
    }
    for replica in &mut replicas {
        if let Err(error) = replica.ready(&http).await {
            result(&format!("FAILED: {error}"));
            return false;
        }
    }
    let shared = Arc::new(Shared {
        options,
        public_urls: [
            replicas[0].public_url.clone(),
            replicas[1].public_url.clone(),
        ],
        token_urls: [
            format!("{}/token", replicas[0].internal_url),
            format!("{}/token", replicas[1].internal_url),
        ],
        provider,
        http,
        redis_url: redis_url.clone(),
        faults: Faults::default(),
        book: Mutex::new(Book::new(options.listeners)),
        changed: tokio::sync::Notify::new(),
        logouts: Mutex::new(LogoutStats::default()),
        relays: Mutex::new(RelayStats::default()),
        next_replica: AtomicUsize::new(0),
        pids: [
            AtomicU32::new(replicas[0].pid().unwrap_or(0)),
            AtomicU32::new(replicas[1].pid().unwrap_or(0)),
        ],
        steady_from: [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)],
        memory: Mutex::new([Vec::new(), Vec::new()]),
        metrics_urls: [
            format!("{}/metrics", replicas[0].internal_url),
            format!("{}/metrics", replicas[1].internal_url),
        ],
        heap: Mutex::new([Vec::new(), Vec::new()]),
    });
    detail(&format!(
        "machine: {} cores, load average {} at the start",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        load_average()
    ));
    detail(&format!(
        "{program} on {}; replicas a (pid {}) and b (pid {}); {} listeners, half on each",
        redis.address(),
        replicas[0].pid().unwrap_or(0),
        replicas[1].pid().unwrap_or(0),
        options.listeners
    ));

    // Warm up each replica: the provider's discovery and keys fetched, as after any start.
    let life = options.seconds + 3600;
    let warm = id_token(
        &shared.provider.key,
        &shared.provider.issuer,
        options.listeners,
        0,
        now_seconds() - 60,
        life,
    );
    for replica in &replicas {
        let answer = shared
            .http
            .get(format!("{}/sessions/status", replica.internal_url))
            .bearer_auth(&warm)
            .send()
            .await
            .expect("the status answered");
        assert_eq!(
            answer.status(),
            200,
            "{}",
            answer.text().await.unwrap_or_default()
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let memory_sampler = tokio::spawn(sample_memory(shared.clone()));
    let rss_start = replica_rss(&shared);

    // The listeners.
    let key_file = owner_only_file(
        dir.path(),
        "provider-key.pem",
        &shared.provider.key.private_pem(),
    );
    let plan = ListeningPlan {
        issuer: shared.provider.issuer.clone(),
        key_file,
        clients: options.listeners,
        targets: vec![
            replicas[0].internal_url.clone(),
            replicas[1].internal_url.clone(),
        ],
        reconnect: true,
        sign_in_again: true,
        token_life: life,
    };
    let connecting = Instant::now();
    let clients = ListeningClients::start(&plan, dir.path());
    let reader = tokio::spawn(read_clients(clients, shared.clone()));
    loop {
        let changed = shared.changed.notified();
        {
            let book = lock(&shared.book);
            if book.all_listening {
                break;
            }
            if book.clients_gone {
                result("FAILED: the listening clients' process ended");
                return false;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), changed).await;
        assert!(
            connecting.elapsed() < Duration::from_secs(300),
            "the clients all listening within 5 minutes"
        );
    }
    detail(&format!(
        "{} clients listening after {:.1} s (their ID tokens signed in their process)",
        options.listeners,
        connecting.elapsed().as_secs_f64()
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_listening = replica_rss(&shared);
    for steady in &shared.steady_from {
        steady.store(micros_now(), Ordering::SeqCst);
    }

    // The load, and the faults, for the run's length.
    let began = Instant::now();
    let until = began + Duration::from_secs(options.seconds);
    let (stop_relays, relays_stopped) = tokio::sync::watch::channel(false);
    let chains: Vec<_> = (0..RELAY_CHAINS)
        .map(|chain| tokio::spawn(relay_chain(shared.clone(), chain, relays_stopped.clone())))
        .collect();
    let redis = Arc::new(Mutex::new(redis));
    let faults = tokio::spawn(run_faults(shared.clone(), replicas, redis.clone(), began));
    let progress = tokio::spawn(report_progress(shared.clone(), began));
    let mut posters = Vec::new();
    let mut tick = tokio::time::interval(LOGOUT_EVERY);
    let mut next_client = 0;
    for round in 0.. {
        tick.tick().await;
        if Instant::now() >= until {
            break;
        }
        let chosen = {
            let mut book = lock(&shared.book);
            let count = book.slots.len();
            let found = (0..count)
                .map(|offset| (next_client + offset) % count)
                .find(|&client| {
                    book.slots[client] != Slot::Ended && !book.pending.contains_key(&client)
                });
            found.map(|client| {
                let posted_to = (round / 2) % 2;
                book.pending.insert(
                    client,
                    Pending {
                        round,
                        posted_to,
                        posted: micros_now(),
                    },
                );
                (client, book.generation[client], posted_to)
            })
        };
        let Some((client, generation, posted_to)) = chosen else {
            lock(&shared.logouts).skipped += 1;
            continue;
        };
        next_client = client + 1;
        lock(&shared.logouts).sent += 1;
        posters.push(tokio::spawn(post_logout(
            shared.clone(),
            round,
            client,
            generation,
            posted_to,
        )));
    }
    let (mut replicas, fault_failures) = faults.await.expect("the faults ran");
    for poster in posters {
        poster.await.expect("a logout posted");
    }
    // The last logouts told.
    let drained = Instant::now() + DRAIN_WITHIN;
    loop {
        let changed = shared.changed.notified();
        if lock(&shared.book).pending.is_empty() || Instant::now() > drained {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), changed).await;
    }
    let rss_end = replica_rss(&shared);
    let _ = stop_relays.send(true);
    for chain in chains {
        chain.await.expect("a relay chain");
    }
    progress.abort();
    memory_sampler.abort();
    let elapsed = began.elapsed();
    reader.abort();
    for replica in &mut replicas {
        replica.kill().await;
    }
    drop(redis);

    let passed = report(
        &shared,
        elapsed,
        [rss_start, rss_listening, rss_end],
        &fault_failures,
    );
    if passed {
        drop(dir);
    } else {
        let kept = dir.keep();
        detail(&format!(
            "the replicas' logs are kept in {}",
            kept.display()
        ));
    }
    passed
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Both replicas' resident memory now (0 for one that is down).
fn replica_rss(shared: &Shared) -> [u64; 2] {
    [0, 1].map(|replica| {
        let pid = shared.pids[replica].load(Ordering::SeqCst);
        if pid == 0 {
            0
        } else {
            rss_bytes(pid).unwrap_or(0)
        }
    })
}

async fn sample_memory(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let now = micros_now();
        for replica in 0..2 {
            let pid = shared.pids[replica].load(Ordering::SeqCst);
            if pid == 0 {
                continue;
            }
            if let Some(rss) = rss_bytes(pid) {
                lock(&shared.memory)[replica].push((now, pid, rss));
            }
            if let Some(heap) = live_heap(&shared, replica).await {
                lock(&shared.heap)[replica].push((now, pid, heap));
            }
        }
    }
}

/// The bytes `replica` holds, from its `/metrics` (`careid_broker_heap_bytes`, shown by a build
/// with `count-heap`); `None` while it is down or when it does not count them.
async fn live_heap(shared: &Shared, replica: usize) -> Option<u64> {
    let answer = shared
        .http
        .get(&shared.metrics_urls[replica])
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    let text = answer.text().await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("careid_broker_heap_bytes "))
        .and_then(|value| value.trim().parse().ok())
}

/// A line a minute, so a long run shows it is alive.
async fn report_progress(shared: Arc<Shared>, began: Instant) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    tick.tick().await;
    loop {
        tick.tick().await;
        let (sent, told) = {
            let book = lock(&shared.book);
            (lock(&shared.logouts).sent, book.told.len())
        };
        let relays = {
            let relays = lock(&shared.relays);
            relays.code_exchanges + relays.refreshes
        };
        let rss = replica_rss(&shared);
        detail(&format!(
            "{:.0} s: {sent} logouts sent, {told} told; {relays} relays; RSS a {:.1} MiB, b {:.1} MiB; load {}",
            began.elapsed().as_secs_f64(),
            mib(rss[0]),
            mib(rss[1]),
            load_average()
        ));
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Reads what the clients' process tells, into the book.
async fn read_clients(mut clients: ListeningClients, shared: Arc<Shared>) {
    while let Some(heard) = clients.heard().await {
        let mut book = lock(&shared.book);
        match heard {
            Heard::Listening(_) => book.all_listening = true,
            Heard::Ended { client, micros } => {
                book.slots[client] = Slot::Ended;
                match book.pending.remove(&client) {
                    Some(pending) => {
                        book.generation[client] += 1;
                        book.told.push(Told {
                            posted: pending.posted,
                            told: micros,
                        });
                    }
                    None => book.unexpected_ends.push(client),
                }
            }
            Heard::Dropped(client) => book.slots[client] = Slot::Dropped,
            Heard::Open(client) => {
                if book.slots[client] == Slot::Dropped {
                    book.reconnections += 1;
                }
                book.slots[client] = Slot::Listening;
            }
            Heard::Refused { status, .. } => {
                let now = micros_now();
                let in_fault = shared.faults.overlaps(now, now);
                *book
                    .refused_listeners
                    .entry((status, in_fault))
                    .or_default() += 1;
            }
        }
        drop(book);
        shared.changed.notify_waiters();
    }
    lock(&shared.book).clients_gone = true;
    shared.changed.notify_waiters();
}

/// Posts client `client`'s logout as CIS2 would, again after a 503 or a connection failure,
/// until it is taken.
async fn post_logout(
    shared: Arc<Shared>,
    round: usize,
    client: usize,
    generation: u32,
    replica: usize,
) {
    let provider = &shared.provider;
    let token = logout_token(
        &provider.key,
        &provider.issuer,
        client,
        generation,
        &format!("soak-{round}"),
    );
    let url = format!("{}/backchannel-logout", shared.public_urls[replica]);
    let given_up = Instant::now() + GIVE_UP_AFTER;
    let mut backoff = Duration::from_millis(200);
    loop {
        let sent = shared
            .http
            .post(&url)
            .form(&[("logout_token", &token)])
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match sent {
            Ok(answer) => {
                let status = answer.status().as_u16();
                let body = answer.text().await.unwrap_or_default();
                let mut stats = lock(&shared.logouts);
                if status == 200 {
                    stats.answered += 1;
                    return;
                }
                if status == 400 && body.contains("already received") {
                    stats.answered += 1;
                    stats.already_received += 1;
                    return;
                }
                if status != 503 {
                    stats.refused.push(format!(
                        "logout {round} (client {client}) to replica {}: {status} {body}",
                        REPLICAS[replica]
                    ));
                    return;
                }
                stats.retried_unavailable += 1;
            }
            Err(_) => lock(&shared.logouts).retried_unreachable += 1,
        }
        if Instant::now() > given_up {
            lock(&shared.logouts).refused.push(format!(
                "logout {round} (client {client}) to replica {}: not taken in {} s",
                REPLICAS[replica],
                GIVE_UP_AFTER.as_secs()
            ));
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// One desktop's relays: a sign-in (code exchange), then a refresh every
/// `RELAY_CHAINS / RELAYS_PER_SECOND` seconds, each with the handle the last answer gave; a
/// new sign-in whenever the chain is broken.
async fn relay_chain(shared: Arc<Shared>, chain: usize, stop: tokio::sync::watch::Receiver<bool>) {
    let key = DpopKey::generate().expect("a DPoP key");
    let mut nonce = None;
    let period = Duration::from_secs_f64(RELAY_CHAINS as f64 / RELAYS_PER_SECOND);
    tokio::time::sleep(period.mul_f64(chain as f64 / RELAY_CHAINS as f64)).await;
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut handle: Option<String> = None;
    while !*stop.borrow() {
        tick.tick().await;
        handle = relay(&shared, chain, &key, &mut nonce, handle.take()).await;
    }
}

/// One relay to the broker's `/token`: a refresh of `handle`, or a code exchange without one.
/// Retried on the other replica after a 503 or a connection failure; `use_dpop_nonce` answered
/// with the nonce given. Returns the next handle, or `None` when the chain must begin again.
async fn relay(
    shared: &Shared,
    chain: usize,
    key: &DpopKey,
    nonce: &mut Option<String>,
    handle: Option<String>,
) -> Option<String> {
    let refresh = handle.is_some();
    let form: Vec<(&str, String)> = match handle {
        Some(handle) => vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", handle),
        ],
        None => {
            let verifier = format!("{}{}", random_jti(), random_jti());
            let code = shared
                .provider
                .grants
                .issue_code(s256_challenge(&verifier), chain);
            vec![
                ("grant_type", "authorization_code".into()),
                ("code", code),
                ("redirect_uri", REDIRECT.into()),
                ("code_verifier", verifier),
                ("client_id", CLIENT_ID.into()),
            ]
        }
    };
    let began = micros_now();
    let mut lost_answer = false;
    let mut nonces_asked = 0;
    let mut replica = shared.next_replica.fetch_add(1, Ordering::Relaxed) % 2;
    loop {
        let url = &shared.token_urls[replica];
        let with_nonce = nonce.is_some();
        let proof = key
            .proof("POST", url, nonce.as_deref(), None, SystemTime::now())
            .expect("a proof");
        let attempt = micros_now();
        let sent = shared
            .http
            .post(url)
            .header("CareID-Issuer", &shared.provider.issuer)
            .header("DPoP", proof.as_str())
            .form(&form)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let what = |outcome: &str| {
            format!(
                "{} to replica {}: {outcome}",
                if refresh { "refresh" } else { "code exchange" },
                REPLICAS[replica]
            )
        };
        // Whether the broker answered (a 5xx), and what happened.
        let (answered, unavailable) = match sent {
            Err(error) => {
                // Sent, and no answer: the provider may have rotated the refresh token.
                lost_answer |= !error.is_connect();
                (false, what(&error.to_string()))
            }
            Ok(answer) => {
                if let Some(fresh) = answer
                    .headers()
                    .get("dpop-nonce")
                    .and_then(|value| value.to_str().ok())
                {
                    *nonce = Some(fresh.to_owned());
                }
                let status = answer.status().as_u16();
                let body: Value = answer.json().await.unwrap_or(Value::Null);
                let error = body["error"].as_str().unwrap_or("-").to_owned();
                let outcome = what(&format!("{status} {error}"));
                let now = micros_now();
                let mut stats = lock(&shared.relays);
                match (status, error.as_str()) {
                    (200, _) => match body["refresh_token"].as_str() {
                        Some(next) if next.starts_with("cr1.") => {
                            if refresh {
                                stats.refreshes += 1;
                            } else {
                                stats.code_exchanges += 1;
                            }
                            if !shared.faults.overlaps(began, now) {
                                stats.latencies.push(now - began);
                            }
                            return Some(next.to_owned());
                        }
                        _ => {
                            stats.refused.push(format!("{outcome}: no refresh handle"));
                            return None;
                        }
                    },
                    // RFC 9449 §8: the first request has no nonce; then each answer gives one.
                    (400, "use_dpop_nonce") if nonces_asked < 2 => {
                        nonces_asked += 1;
                        if !with_nonce {
                            stats.first_nonces += 1;
                        } else if !shared.faults.overlaps(attempt, now) {
                            stats.refused.push(outcome);
                        }
                        continue;
                    }
                    (502..=504, _) => (true, outcome),
                    _ => {
                        if lost_answer && error == "invalid_grant" {
                            stats.lost_answers += 1;
                        } else if shared.faults.overlaps(attempt, now) {
                            stats.refused_in_faults.push(outcome);
                        } else {
                            stats.refused.push(outcome);
                        }
                        return None;
                    }
                }
            }
        };
        let now = micros_now();
        {
            let mut stats = lock(&shared.relays);
            if !shared.faults.overlaps(attempt, now) {
                stats.unavailable_outside_faults.push(unavailable);
            } else if answered {
                stats.retried_unavailable += 1;
            } else {
                stats.retried_unreachable += 1;
            }
        }
        if now - began > GIVE_UP_AFTER.as_micros() as u64 {
            lock(&shared.relays).refused.push(format!(
                "relay of chain {chain} not done in {} s",
                GIVE_UP_AFTER.as_secs()
            ));
            return None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        replica = 1 - replica;
    }
}

/// The faults, spread over the run, one at a time: Redis, replica b, Redis, replica b. Gives the
/// replicas back at the end, and what went wrong.
async fn run_faults(
    shared: Arc<Shared>,
    mut replicas: [Replica; 2],
    redis: Arc<Mutex<OwnRedis>>,
    began: Instant,
) -> ([Replica; 2], Vec<String>) {
    let seconds = shared.options.seconds as f64;
    let plan: [(f64, Option<usize>); 4] =
        [(0.15, None), (0.35, Some(1)), (0.55, None), (0.75, Some(1))];
    let mut failures = Vec::new();
    for (at, replica) in plan {
        tokio::time::sleep_until((began + Duration::from_secs_f64(seconds * at)).into()).await;
        let from = micros_now();
        let window = shared.faults.begin(from);
        let what;
        let healed = match replica {
            None => {
                what = "Redis".to_owned();
                tokio::task::block_in_place(|| lock(&redis).stop());
                tokio::time::sleep(DOWN_FOR).await;
                tokio::task::block_in_place(|| lock(&redis).start_again());
                let back = micros_now();
                let healed = heal_redis(&shared, &mut replicas).await;
                (back, healed)
            }
            Some(replica) => {
                what = format!("replica {}", REPLICAS[replica]);
                replicas[replica].kill().await;
                shared.pids[replica].store(0, Ordering::SeqCst);
                tokio::time::sleep(DOWN_FOR).await;
                replicas[replica].spawn();
                shared.pids[replica].store(replicas[replica].pid().unwrap_or(0), Ordering::SeqCst);
                let back = micros_now();
                let healed = heal_replica(&shared, &mut replicas[replica], replica).await;
                (back, healed)
            }
        };
        let (back, healed) = healed;
        let until = micros_now();
        shared.faults.end(window, until);
        if let Some(replica) = replica {
            shared.steady_from[replica].store(until, Ordering::SeqCst);
        }
        match healed {
            Ok(how) => detail(&format!(
                "fault at {:.0} s: {what} killed, started again {:.1} s later, whole again after {:.1} s ({how})",
                began.elapsed().as_secs_f64() - (until - from) as f64 / 1e6,
                (back - from) as f64 / 1e6,
                (until - from) as f64 / 1e6,
            )),
            Err(error) => {
                detail(&format!("fault: {what} did not heal: {error}"));
                failures.push(format!("{what} did not heal: {error}"));
            }
        }
    }
    (replicas, failures)
}

/// Redis back: both replicas ready and subscribed to the ends again.
async fn heal_redis(shared: &Shared, replicas: &mut [Replica; 2]) -> Result<String, String> {
    for replica in replicas.iter_mut() {
        replica.ready(&shared.http).await?;
    }
    let deadline = Instant::now() + HEAL_WITHIN;
    while subscribers(&shared.redis_url).await != Some(2) {
        if Instant::now() > deadline {
            return Err("the replicas did not subscribe again".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok("both replicas ready and subscribed again".into())
}

/// A replica back: ready, and every listener that dropped with it listening again.
async fn heal_replica(
    shared: &Shared,
    replica: &mut Replica,
    index: usize,
) -> Result<String, String> {
    replica.ready(&shared.http).await?;
    let deadline = Instant::now() + HEAL_WITHIN;
    loop {
        let changed = shared.changed.notified();
        let dropped = lock(&shared.book).dropped_on(index);
        if dropped == 0 {
            return Ok("ready, its listeners all back".to_owned());
        }
        if Instant::now() > deadline {
            return Err(format!("{dropped} listeners not back"));
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), changed).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The report.

fn percentile(sorted: &[u64], percent: usize) -> u64 {
    sorted[(sorted.len() * percent / 100).min(sorted.len() - 1)]
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// The least-squares slope of `samples` (seconds, MiB), in MiB an hour.
fn slope_per_hour(samples: &[(f64, f64)]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mean_t, mean_m) = samples
        .iter()
        .fold((0.0, 0.0), |(t, m), (st, sm)| (t + st / n, m + sm / n));
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (t, m) in samples {
        covariance += (t - mean_t) * (m - mean_m);
        variance += (t - mean_t) * (t - mean_t);
    }
    if variance == 0.0 {
        0.0
    } else {
        covariance / variance * 3600.0
    }
}

/// Prints the report; whether the soak passed.
fn report(
    shared: &Shared,
    elapsed: Duration,
    [rss_start, rss_listening, rss_end]: [[u64; 2]; 3],
    fault_failures: &[String],
) -> bool {
    let options = shared.options;
    let book = lock(&shared.book);
    let logouts = lock(&shared.logouts);
    let relays = lock(&shared.relays);
    let mut failures: Vec<String> = fault_failures.to_vec();

    detail(&format!(
        "machine: load average {} at the end",
        load_average()
    ));
    result(&format!(
        "{} s on two replicas and one Redis, {} listeners; Redis killed and started again twice, replica b twice",
        elapsed.as_secs(),
        options.listeners
    ));

    // Logouts.
    let (mut quiet, mut faulted): (Vec<u64>, Vec<u64>) = (Vec::new(), Vec::new());
    for told in &book.told {
        let latency = told.told.saturating_sub(told.posted);
        if shared.faults.overlaps(told.posted, told.told) {
            faulted.push(latency);
        } else {
            quiet.push(latency);
        }
    }
    quiet.sort_unstable();
    faulted.sort_unstable();
    result(&format!(
        "logouts sent {}, one every {} ms",
        logouts.sent,
        LOGOUT_EVERY.as_millis()
    ));
    result(&format!(
        "logouts that reached their listener {} of {}",
        book.told.len(),
        logouts.sent
    ));
    if !quiet.is_empty() {
        result(&format!(
            "logout to client outside faults {:.1} ms median, {:.1} ms p99, {:.1} ms worst ({} logouts)",
            ms(percentile(&quiet, 50)),
            ms(percentile(&quiet, 99)),
            ms(quiet[quiet.len() - 1]),
            quiet.len()
        ));
    }
    if !faulted.is_empty() {
        result(&format!(
            "logout to client during faults {:.1} ms median, {:.1} ms p99, {:.1} ms worst ({} logouts posted during a fault or in flight when one began)",
            ms(percentile(&faulted, 50)),
            ms(percentile(&faulted, 99)),
            ms(faulted[faulted.len() - 1]),
            faulted.len()
        ));
    }
    detail(&format!(
        "logouts posted again: {} after a 503, {} after a connection failure; {} answered \"already received\"",
        logouts.retried_unavailable, logouts.retried_unreachable, logouts.already_received
    ));
    if logouts.skipped > 0 {
        detail(&format!(
            "{} rounds with no client free to sign out",
            logouts.skipped
        ));
    }
    let listener_refusals = book
        .refused_listeners
        .iter()
        .map(|((status, in_fault), count)| {
            format!(
                "{count} x {status} {}",
                if *in_fault {
                    "during faults"
                } else {
                    "outside faults"
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    detail(&format!(
        "listeners: {} streams dropped with their replica and came back; (re)connections refused: {}",
        book.reconnections,
        if listener_refusals.is_empty() {
            "none".to_owned()
        } else {
            listener_refusals
        }
    ));

    // Relays.
    let done = relays.code_exchanges + relays.refreshes;
    let mut latencies = relays.latencies.clone();
    latencies.sort_unstable();
    result(&format!(
        "relays done {done} ({:.1}/s: {} refreshes, {} code exchanges)",
        done as f64 / elapsed.as_secs_f64(),
        relays.refreshes,
        relays.code_exchanges
    ));
    result(&format!(
        "relays refused that should have passed {}",
        relays.refused.len() + relays.unavailable_outside_faults.len()
    ));
    result(&format!(
        "relay attempts retried during faults {} (503: {}, no answer: {}); chains begun again after an answer lost to a killed replica {}",
        relays.retried_unavailable + relays.retried_unreachable,
        relays.retried_unavailable,
        relays.retried_unreachable,
        relays.lost_answers
    ));
    if !latencies.is_empty() {
        detail(&format!(
            "relay through the broker and the provider outside faults: {:.1} ms median, {:.1} ms p99",
            ms(percentile(&latencies, 50)),
            ms(percentile(&latencies, 99))
        ));
    }
    detail(&format!(
        "use_dpop_nonce answers to a chain's first request: {}; refusals during faults: {}",
        relays.first_nonces,
        if relays.refused_in_faults.is_empty() {
            "none".to_owned()
        } else {
            relays.refused_in_faults.join("; ")
        }
    ));

    // Memory. Replica a runs throughout; b is measured since its last restart.
    let memory = lock(&shared.memory);
    let mut per_listener = Vec::new();
    for replica in 0..2 {
        let samples = &memory[replica];
        let max = samples.iter().map(|&(_, _, rss)| rss).max().unwrap_or(0);
        let steady_from = shared.steady_from[replica].load(Ordering::SeqCst);
        let last_pid = samples.last().map_or(0, |&(_, pid, _)| pid);
        let steady: Vec<(f64, f64)> = samples
            .iter()
            .filter(|&&(at, pid, _)| at >= steady_from && pid == last_pid)
            .map(|&(at, _, rss)| ((at - steady_from) as f64 / 1e6, mib(rss)))
            .collect();
        let span = steady.last().map_or(0.0, |&(t, _)| t);
        let second_half: Vec<(f64, f64)> = steady
            .iter()
            .copied()
            .filter(|&(t, _)| t >= span / 2.0)
            .collect();
        let listeners = options.listeners.div_ceil(2) - replica * (options.listeners % 2);
        per_listener.push(
            rss_listening[replica].saturating_sub(rss_start[replica]) as f64
                / listeners as f64
                / 1024.0,
        );
        result(&format!(
            "replica {} RSS {:.1} MiB at the start, {:.1} MiB with its {listeners} listeners, {:.1} MiB at the end, {:.1} MiB at most",
            REPLICAS[replica],
            mib(rss_start[replica]),
            mib(rss_listening[replica]),
            mib(rss_end[replica]),
            mib(max),
        ));
        result(&format!(
            "replica {} RSS slope {:+.1} MiB/h over {:.0} min{}, {:+.1} MiB/h over the last half of them",
            REPLICAS[replica],
            slope_per_hour(&steady),
            span / 60.0,
            if replica == 0 {
                " with its listeners"
            } else {
                " since its last restart"
            },
            slope_per_hour(&second_half),
        ));
    }
    result(&format!(
        "memory per listener once connected {:.1} KiB (a {:.1}, b {:.1})",
        (per_listener[0] + per_listener[1]) / 2.0,
        per_listener[0],
        per_listener[1]
    ));
    let listeners_a = options.listeners.div_ceil(2);
    result(&format!(
        "memory per listener at the end {:.1} KiB (replica a, its RSS at the end less at the start, over its {listeners_a} listeners)",
        rss_end[0].saturating_sub(rss_start[0]) as f64 / listeners_a as f64 / 1024.0,
    ));

    // The live heap of replica a (it runs throughout), over the same steady span as its RSS.
    let heap = lock(&shared.heap);
    let steady_from = shared.steady_from[0].load(Ordering::SeqCst);
    let last_pid = heap[0].last().map_or(0, |&(_, pid, _)| pid);
    let held: Vec<(f64, f64)> = heap[0]
        .iter()
        .filter(|&&(at, pid, _)| at >= steady_from && pid == last_pid)
        .map(|&(at, _, bytes)| ((at - steady_from) as f64 / 1e6, mib(bytes)))
        .collect();
    let heap_slope = match (held.first(), held.last()) {
        (Some(&(_, first)), Some(&(span, last))) => {
            let second_half: Vec<(f64, f64)> = held
                .iter()
                .copied()
                .filter(|&(t, _)| t >= span / 2.0)
                .collect();
            let slope = slope_per_hour(&second_half);
            result(&format!(
                "replica a live heap {first:.1} MiB with its listeners, {last:.1} MiB at the end: \
                 {slope:+.1} MiB/h over the second half (the bytes it holds, counted by the \
                 soak's build; the RSS above is that and what the allocator keeps)"
            ));
            Some(slope)
        }
        _ => None,
    };
    drop(heap);

    // The verdict.
    match heap_slope {
        Some(slope) if slope > FLAT_MIB_PER_HOUR => failures.push(format!(
            "memory not flat: replica a's live heap rose {slope:+.1} MiB/h over the second half (at most {FLAT_MIB_PER_HOUR})"
        )),
        Some(_) => {}
        None => failures.push(
            "the replicas showed no live heap in /metrics: build them with the count-heap \
             feature (cargo xtask bench broker-soak does)"
                .into(),
        ),
    }
    if book.clients_gone {
        failures.push("the listening clients' process ended".into());
    }
    if !book.pending.is_empty() {
        let mut missing: Vec<(&usize, &Pending)> = book.pending.iter().collect();
        missing.sort_by_key(|(_, pending)| pending.round);
        let mut list = String::new();
        for (client, pending) in missing.iter().take(10) {
            let _ = write!(
                list,
                " logout {} for client {client} (listening on replica {}, posted to {}{});",
                pending.round,
                REPLICAS[*client % 2],
                REPLICAS[pending.posted_to],
                if shared.faults.overlaps(pending.posted, pending.posted) {
                    ", during a fault"
                } else {
                    ""
                }
            );
        }
        failures.push(format!(
            "{} logouts never reached their listener within {} s of the last:{list}",
            book.pending.len(),
            DRAIN_WITHIN.as_secs()
        ));
    }
    if !book.unexpected_ends.is_empty() {
        failures.push(format!(
            "{} clients were told of an end no logout was posted for (clients {:?})",
            book.unexpected_ends.len(),
            &book.unexpected_ends[..book.unexpected_ends.len().min(10)]
        ));
    }
    for refusal in logouts.refused.iter().take(10) {
        failures.push(format!("logout refused: {refusal}"));
    }
    for refusal in relays.refused.iter().take(10) {
        failures.push(format!("relay refused outside a fault: {refusal}"));
    }
    for refusal in relays.unavailable_outside_faults.iter().take(10) {
        failures.push(format!("relay unavailable outside a fault: {refusal}"));
    }
    let refused_listeners: usize = book
        .refused_listeners
        .iter()
        .filter(|((status, in_fault), _)| *status != 503 || !in_fault)
        .map(|(_, count)| count)
        .sum();
    if refused_listeners > 0 {
        failures.push(format!(
            "{refused_listeners} listener (re)connections refused other than by a 503 during a fault"
        ));
    }
    for failure in &failures {
        result(&format!("FAILED: {failure}"));
    }
    failures.is_empty()
}
