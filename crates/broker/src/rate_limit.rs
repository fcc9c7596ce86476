//! Requests per source and minute, and who the source is. One [`RateLimiter`] per route group,
//! each with its own budget, so a flood at one never spends another's: the relays
//! (`limits.requests_per_minute_per_source`, checked in `relay.rs` to leave an audit line), the
//! session listeners' `/sessions/*` (`limits.session_requests_per_minute_per_source`) and the
//! provider's `/backchannel-logout` (`limits.logouts_per_minute_per_source`), the last two by
//! [`limit_requests`] before any token is read. Past its budget a source is answered 429
//! `temporarily_unavailable` with `Retry-After`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::answer::oauth_error;
use crate::config::{Limits, TlsConfig};
use crate::connections::Peer;
use crate::metrics::Metrics;

/// With `tls.mode = "behind_proxy"`, the header whose last address is the client's: the proxy
/// in front of the broker must set it (or append to it) with the address it received the
/// connection from.
pub const FORWARDED_FOR_HEADER: &str = "x-forwarded-for";
/// A rate limit's window.
const WINDOW: Duration = Duration::from_secs(60);
/// The most sources remembered at once: past it the oldest windows are forgotten.
pub const MAX_SOURCES: usize = 100_000;

/// One route group's limit: its own budget per source, and how a source is told.
#[derive(Debug)]
pub(crate) struct RouteLimit {
    limiter: RateLimiter,
    tls: TlsConfig,
    /// For the allowances of a trust's egress addresses.
    limits: Limits,
    /// The group, for the log: `sessions`, `backchannel-logout`.
    group: &'static str,
    /// The setting that holds its budget, for the log.
    setting: &'static str,
    metrics: Arc<Metrics>,
}

impl RouteLimit {
    pub(crate) fn new(
        per_minute: NonZeroU32,
        tls: &TlsConfig,
        limits: &Limits,
        group: &'static str,
        setting: &'static str,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Arc::new(Self {
            limiter: RateLimiter::new(per_minute.get()),
            tls: tls.clone(),
            limits: limits.clone(),
            group,
            setting,
            metrics,
        })
    }
}

/// Middleware for a route group (`axum::middleware::from_fn_with_state`): counts the request
/// against its source's budget and answers 429 past it, before the handler reads anything.
pub(crate) async fn limit_requests(
    State(limit): State<Arc<RouteLimit>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let source = source(&limit.tls, &parts);
    let budget = limit.limits.budget(limit.limiter.per_minute(), source);
    if let Err(retry_after) = limit
        .limiter
        .check_key(source_key(source), budget, Instant::now())
    {
        tracing::warn!(
            %source,
            group = limit.group,
            setting = limit.setting,
            outcome = "rate limited",
            "too many requests from one source"
        );
        limit.metrics.rate_limited(limit.group);
        return too_many_requests(retry_after);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// 429 `temporarily_unavailable` with `Retry-After` in whole seconds, never cached.
pub(crate) fn too_many_requests(retry_after: Duration) -> Response {
    let mut response = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        Some("too many requests from this source: try again later"),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs().max(1)),
    );
    response
}

/// Who sent the request: the peer's address; through a proxy the broker trusts
/// ([`TlsConfig::trusts_proxy`]), the rightmost `X-Forwarded-For` address that is not itself a
/// trusted proxy (each proxy appends the address it received the request from; anything left
/// of that the client may have written). From any other peer the header is ignored.
pub(crate) fn source(tls: &TlsConfig, parts: &Parts) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<Peer>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| {
            info.0.address.ip()
        });
    if !tls.trusts_proxy(peer) {
        return peer;
    }
    let mut client = peer;
    for value in parts.headers.get_all(FORWARDED_FOR_HEADER).iter().rev() {
        let Ok(text) = value.to_str() else {
            unreadable_forwarded(value.as_bytes());
            return client;
        };
        for item in text.rsplit(',') {
            let Some(address) = forwarded_address(item) else {
                // A proxy that writes what the broker cannot read is misconfigured: said, not
                // guessed; the last address read counts.
                unreadable_forwarded(item.as_bytes());
                return client;
            };
            client = address;
            if !tls.trusts_proxy(address) {
                return client;
            }
        }
    }
    client
}

fn unreadable_forwarded(value: &[u8]) {
    tracing::warn!(
        value = %String::from_utf8_lossy(value).chars().take(100).collect::<String>(),
        "an X-Forwarded-For address the broker cannot read: the last address read counts"
    );
}

/// One address as proxies write it in `X-Forwarded-For`: `192.0.2.7`, `192.0.2.7:443`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn forwarded_address(value: &str) -> Option<IpAddr> {
    let value = value.trim();
    if let Ok(address) = value.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(with_port) = value.parse::<SocketAddr>() {
        return Some(with_port.ip());
    }
    value
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// Requests per source and minute. A source is an IPv4 address or an IPv6 /64 (one
/// host's share of a network: an attacker is handed whole /64s). A source's count starts at
/// its first request and lasts a minute; sources idle for a minute are forgotten, at most
/// [`MAX_SOURCES`] are remembered, so memory is bounded whatever the traffic. A full table
/// forgets its oldest windows rather than refuse a new source: a flood of made-up sources can
/// then reset others' counts, but never lock a real one out.
///
/// The same counting serves other keys than addresses (`RateLimiter<String>`: a DPoP key's
/// thumbprint), and a budget of the caller's choosing per key ([`RateLimiter::check_key`]: an
/// allowance for a trust's egress addresses).
#[derive(Debug)]
pub struct RateLimiter<K = IpAddr> {
    per_minute: u32,
    windows: Mutex<Windows<K>>,
}

#[derive(Debug)]
struct Windows<K> {
    counts: HashMap<K, (Instant, u32)>,
    swept: Instant,
}

impl RateLimiter<IpAddr> {
    /// Counts a request from `source` at `now`; `Err` with how long to wait when over the limit.
    pub fn check(&self, source: IpAddr, now: Instant) -> Result<(), Duration> {
        self.check_key(source_key(source), self.per_minute, now)
    }
}

impl<K: std::hash::Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            windows: Mutex::new(Windows {
                counts: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// The budget a key has when no allowance raises it.
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Whether `key` is over `budget` now, without counting a request: `Err` with how long to
    /// wait.
    pub fn over(&self, key: &K, budget: u32, now: Instant) -> Result<(), Duration> {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.counts.get(key) {
            Some((started, count))
                if now.saturating_duration_since(*started) < WINDOW && *count >= budget.max(1) =>
            {
                Err(wait(*started, now))
            }
            _ => Ok(()),
        }
    }

    /// Counts a request of `key` at `now` against `budget`; `Err` with how long to wait when
    /// over it.
    pub fn check_key(&self, key: K, budget: u32, now: Instant) -> Result<(), Duration> {
        let budget = budget.max(1);
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let since_sweep = now.saturating_duration_since(windows.swept);
        let full = windows.counts.len() >= MAX_SOURCES;
        if since_sweep >= WINDOW || (full && since_sweep >= Duration::from_secs(1)) {
            windows
                .counts
                .retain(|_, (started, _)| now.saturating_duration_since(*started) < WINDOW);
            windows.swept = now;
        }
        if windows.counts.len() >= MAX_SOURCES && !windows.counts.contains_key(&key) {
            forget_oldest(&mut windows.counts);
        }
        match windows.counts.get_mut(&key) {
            Some((started, count)) if now.saturating_duration_since(*started) < WINDOW => {
                if *count >= budget {
                    return Err(wait(*started, now));
                }
                *count += 1;
                Ok(())
            }
            Some(window) => {
                *window = (now, 1);
                Ok(())
            }
            None => {
                windows.counts.insert(key, (now, 1));
                Ok(())
            }
        }
    }

    /// How many sources are remembered.
    pub fn sources(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counts
            .len()
    }
}

/// How long until a window begun at `started` ends: whole seconds, rounded up, so never "try
/// again in 0 seconds".
fn wait(started: Instant, now: Instant) -> Duration {
    let left = WINDOW.saturating_sub(now.saturating_duration_since(started));
    Duration::from_secs(left.as_secs() + 1).min(WINDOW)
}

/// Forgets the oldest tenth of the windows, in one pass, so a flood of new sources costs a sort
/// per [`MAX_SOURCES`]` / 10` of them rather than a scan each.
fn forget_oldest<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, (Instant, u32)>) {
    let mut started: Vec<Instant> = counts.values().map(|(started, _)| *started).collect();
    let tenth = (started.len() / 10).max(1);
    let (_, cutoff, _) = started.select_nth_unstable(tenth - 1);
    let cutoff = *cutoff;
    let mut left = tenth;
    counts.retain(|_, (started, _)| {
        if left > 0 && *started <= cutoff {
            left -= 1;
            false
        } else {
            true
        }
    });
}

pub(crate) fn source_key(source: IpAddr) -> IpAddr {
    match source {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_over_its_limit_waits_and_others_pass() {
        let limiter = RateLimiter::new(3);
        let start = Instant::now();
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            limiter.check(one, start).unwrap();
        }
        let wait = limiter
            .check(one, start + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(41));
        limiter.check(two, start + Duration::from_secs(20)).unwrap();
        // A new window a minute after the first request.
        limiter.check(one, start + WINDOW).unwrap();
    }

    #[test]
    fn idle_sources_are_forgotten() {
        let limiter = RateLimiter::new(10);
        let start = Instant::now();
        for host in 0..200u8 {
            limiter
                .check(IpAddr::V4(Ipv4Addr::new(198, 51, 100, host)), start)
                .unwrap();
        }
        assert_eq!(limiter.sources(), 200);
        let later = start + WINDOW + Duration::from_secs(1);
        limiter
            .check("203.0.113.9".parse().unwrap(), later)
            .unwrap();
        assert_eq!(limiter.sources(), 1, "only the one still active");
    }

    #[test]
    fn an_ipv6_64_is_one_source_and_mapped_ipv4_is_ipv4() {
        let limiter = RateLimiter::new(2);
        let now = Instant::now();
        limiter
            .check("2001:db8:1:2::1".parse().unwrap(), now)
            .unwrap();
        limiter
            .check("2001:db8:1:2:ffff::9".parse().unwrap(), now)
            .unwrap();
        assert!(limiter
            .check("2001:db8:1:2::77".parse().unwrap(), now)
            .is_err());
        limiter
            .check("2001:db8:1:3::1".parse().unwrap(), now)
            .unwrap();
        limiter
            .check("::ffff:192.0.2.7".parse().unwrap(), now)
            .unwrap();
        limiter.check("192.0.2.7".parse().unwrap(), now).unwrap();
        assert!(limiter.check("192.0.2.7".parse().unwrap(), now).is_err());
    }

    #[test]
    fn the_source_is_the_peer_unless_behind_a_proxy_which_adds_the_last_forwarded_address() {
        let parts = |forwarded: &[&str]| {
            let mut request = axum::http::Request::builder();
            for value in forwarded {
                request = request.header(FORWARDED_FOR_HEADER, *value);
            }
            let (mut parts, ()) = request.body(()).unwrap().into_parts();
            parts
                .extensions
                .insert(ConnectInfo(Peer::new(SocketAddr::from((
                    [10, 0, 0, 1],
                    40000,
                )))));
            parts
        };
        let files = TlsConfig::Files {
            certificate: "cert.pem".into(),
            key: "key.pem".into(),
            device_ca: None,
        };
        let proxy = TlsConfig::BehindProxy {
            trusted_proxies: vec!["10.0.0.0/8".to_owned().try_into().unwrap()],
        };
        let untrusted = TlsConfig::BehindProxy {
            trusted_proxies: vec!["192.168.0.0/16".to_owned().try_into().unwrap()],
        };
        let spoofed = parts(&["203.0.113.5"]);
        assert_eq!(source(&files, &spoofed), IpAddr::from([10, 0, 0, 1]));
        assert_eq!(
            source(&untrusted, &spoofed),
            IpAddr::from([10, 0, 0, 1]),
            "a peer that is not a trusted proxy writes its own header: ignored"
        );
        assert_eq!(source(&proxy, &spoofed), IpAddr::from([203, 0, 113, 5]));
        // Proxies in a chain: the rightmost address that is not a trusted proxy.
        assert_eq!(
            source(&proxy, &parts(&["198.51.100.7, 203.0.113.5, 10.0.0.2"])),
            IpAddr::from([203, 0, 113, 5])
        );
        // A client's own header comes first; the proxy's address is the last one.
        let appended = parts(&["203.0.113.5", "198.51.100.7, 192.0.2.9"]);
        assert_eq!(source(&proxy, &appended), IpAddr::from([192, 0, 2, 9]));
        assert_eq!(source(&proxy, &parts(&[])), IpAddr::from([10, 0, 0, 1]));
        assert_eq!(
            source(&proxy, &parts(&["not an address"])),
            IpAddr::from([10, 0, 0, 1])
        );
        // With a port, and IPv6 bracketed or not: each the client's own address, never the
        // proxy's (which would put every client behind it in one bucket).
        for (written, address) in [
            ("203.0.113.5:51000", IpAddr::from([203, 0, 113, 5])),
            ("2001:db8::7", "2001:db8::7".parse().unwrap()),
            ("[2001:db8::7]", "2001:db8::7".parse().unwrap()),
            ("[2001:db8::7]:443", "2001:db8::7".parse().unwrap()),
            (
                "198.51.100.1, [2001:db8::7]:443",
                "2001:db8::7".parse().unwrap(),
            ),
        ] {
            assert_eq!(source(&proxy, &parts(&[written])), address, "{written}");
        }
    }

    /// A flood of made-up sources fills the table; a new real source is still let in (the
    /// oldest windows are forgotten instead).
    #[test]
    fn a_flood_of_new_sources_locks_out_no_one() {
        let limiter = RateLimiter::new(2);
        let now = Instant::now();
        let known: IpAddr = "192.0.2.1".parse().unwrap();
        limiter.check(known, now).unwrap();
        limiter.check(known, now).unwrap();
        for n in 0..u32::try_from(MAX_SOURCES).unwrap() + 5_000 {
            let made_up = IpAddr::from((0x0a00_0000 + n).to_be_bytes());
            limiter
                .check(made_up, now + Duration::from_millis(1))
                .expect("every new source is let in");
        }
        assert!(limiter.sources() <= MAX_SOURCES, "memory stays bounded");
        let newcomer: IpAddr = "198.51.100.9".parse().unwrap();
        assert!(limiter
            .check(newcomer, now + Duration::from_millis(2))
            .is_ok());
    }
}
