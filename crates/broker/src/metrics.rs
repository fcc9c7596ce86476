//! What the broker counts, for `GET /metrics` on the internal listener in Prometheus' text
//! format (version 0.0.4): relays and their outcomes, DPoP refusals by reason, replays, the
//! provider's latency and errors, open listeners, logouts received and ends delivered. Counters
//! only go up; labels come from fixed sets in the code (endpoints, reason codes), never from a
//! request, so the number of series is bounded whatever a client sends.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// The provider's latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Reads the bytes the program holds, when it counts them (the soak's build, `count-heap`).
static LIVE_HEAP: OnceLock<fn() -> usize> = OnceLock::new();

/// Shows the bytes the program holds in `/metrics` (`careid_broker_heap_bytes`), read by `read`:
/// for a build that counts them (the soak's), so a leak is told from an allocator keeping memory.
pub fn report_live_heap(read: fn() -> usize) {
    let _ = LIVE_HEAP.set(read);
}

/// The broker's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `careid_broker_relay_requests_total{endpoint, outcome}`.
    relays: Labelled,
    /// `careid_broker_dpop_refusals_total{reason}`.
    dpop_refusals: Labelled,
    /// `careid_broker_replays_total{kind}`: DPoP proofs and logout tokens seen before.
    replays: Labelled,
    /// `careid_broker_provider_requests_total{endpoint, status}` (a status class, or `error`).
    provider_requests: Labelled,
    /// `careid_broker_provider_latency_seconds{endpoint}`.
    provider_latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// `careid_broker_logouts_received_total{outcome}`.
    logouts: Labelled,
    /// `careid_broker_ends_delivered_total`: `ended` events written to listeners.
    ends_delivered: AtomicU64,
    /// `careid_broker_rate_limited_total{group}`.
    rate_limited: Labelled,
}

/// Counters by their label values.
#[derive(Debug, Default)]
struct Labelled(Mutex<BTreeMap<Vec<&'static str>, u64>>);

impl Labelled {
    fn add(&self, labels: &[&'static str]) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(labels.to_vec())
            .or_default() += 1;
    }

    fn write(&self, out: &mut String, name: &str, help: &str, label_names: &[&str]) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (values, count) in self.0.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let labels: Vec<String> = label_names
                .iter()
                .zip(values)
                .map(|(name, value)| format!("{name}=\"{value}\""))
                .collect();
            let _ = writeln!(out, "{name}{{{}}} {count}", labels.join(","));
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Counts per bucket of [`LATENCY_BUCKETS`] (not cumulative; summed when written).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    pub fn relay(&self, endpoint: &'static str, outcome: &'static str) {
        self.relays.add(&[endpoint, outcome]);
    }

    pub fn dpop_refused(&self, reason: &'static str) {
        self.dpop_refusals.add(&[reason]);
    }

    pub fn replay(&self, kind: &'static str) {
        self.replays.add(&[kind]);
    }

    pub fn rate_limited(&self, group: &'static str) {
        self.rate_limited.add(&[group]);
    }

    /// A request to the provider and what came of it: its HTTP status, or `None` when it could
    /// not be reached.
    pub fn provider(&self, endpoint: &'static str, status: Option<u16>, took: Duration) {
        let class = match status {
            Some(200..=299) => "2xx",
            Some(400..=499) => "4xx",
            Some(500..=599) => "5xx",
            Some(_) => "other",
            None => "error",
        };
        self.provider_requests.add(&[endpoint, class]);
        let seconds = took.as_secs_f64();
        let mut latency = self
            .provider_latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let histogram = latency.entry(endpoint).or_default();
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    pub fn logout(&self, outcome: &'static str) {
        self.logouts.add(&[outcome]);
    }

    pub fn end_delivered(&self) {
        self.ends_delivered.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition, with `open_listeners` as a gauge.
    pub fn render(&self, open_listeners: usize) -> String {
        let mut out = String::new();
        self.relays.write(
            &mut out,
            "careid_broker_relay_requests_total",
            "Relay requests by endpoint and outcome.",
            &["endpoint", "outcome"],
        );
        self.dpop_refusals.write(
            &mut out,
            "careid_broker_dpop_refusals_total",
            "Relay requests refused for their DPoP proof or refresh handle, by reason.",
            &["reason"],
        );
        self.replays.write(
            &mut out,
            "careid_broker_replays_total",
            "DPoP proofs and logout tokens refused as seen before.",
            &["kind"],
        );
        self.rate_limited.write(
            &mut out,
            "careid_broker_rate_limited_total",
            "Requests answered 429, by route group.",
            &["group"],
        );
        self.provider_requests.write(
            &mut out,
            "careid_broker_provider_requests_total",
            "Requests relayed to the provider, by endpoint and status class (error: unreachable).",
            &["endpoint", "status"],
        );
        let name = "careid_broker_provider_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} The provider's answer time to relayed requests.\n# TYPE {name} histogram"
        );
        for (endpoint, histogram) in self
            .provider_latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let mut cumulative = 0;
            for (bound, count) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "{name}_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {}\n\
                 {name}_sum{{endpoint=\"{endpoint}\"}} {}\n\
                 {name}_count{{endpoint=\"{endpoint}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        self.logouts.write(
            &mut out,
            "careid_broker_logouts_received_total",
            "Back-channel logouts received, by outcome.",
            &["outcome"],
        );
        let _ = writeln!(
            out,
            "# HELP careid_broker_ends_delivered_total Session ends told to listening desktops.\n\
             # TYPE careid_broker_ends_delivered_total counter\n\
             careid_broker_ends_delivered_total {}\n\
             # HELP careid_broker_open_listeners Desktops listening for their session's end.\n\
             # TYPE careid_broker_open_listeners gauge\n\
             careid_broker_open_listeners {open_listeners}",
            self.ends_delivered.load(Ordering::Relaxed)
        );
        if let Some(read) = LIVE_HEAP.get() {
            let _ = writeln!(
                out,
                "# HELP careid_broker_heap_bytes Bytes the broker holds (a build that counts them).\n\
                 # TYPE careid_broker_heap_bytes gauge\n\
                 careid_broker_heap_bytes {}",
                read()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_holds_each_series_with_its_labels() {
        let metrics = Metrics::default();
        metrics.relay("token", "relayed");
        metrics.relay("token", "relayed");
        metrics.relay("par", "refused");
        metrics.dpop_refused("wrong_binding");
        metrics.replay("dpop_proof");
        metrics.provider("token", Some(200), Duration::from_millis(30));
        metrics.provider("token", None, Duration::from_secs(20));
        metrics.logout("ended");
        metrics.end_delivered();
        let text = metrics.render(7);
        for line in [
            "careid_broker_relay_requests_total{endpoint=\"token\",outcome=\"relayed\"} 2",
            "careid_broker_relay_requests_total{endpoint=\"par\",outcome=\"refused\"} 1",
            "careid_broker_dpop_refusals_total{reason=\"wrong_binding\"} 1",
            "careid_broker_replays_total{kind=\"dpop_proof\"} 1",
            "careid_broker_provider_requests_total{endpoint=\"token\",status=\"2xx\"} 1",
            "careid_broker_provider_requests_total{endpoint=\"token\",status=\"error\"} 1",
            "careid_broker_provider_latency_seconds_bucket{endpoint=\"token\",le=\"0.025\"} 0",
            "careid_broker_provider_latency_seconds_bucket{endpoint=\"token\",le=\"0.05\"} 1",
            "careid_broker_provider_latency_seconds_bucket{endpoint=\"token\",le=\"+Inf\"} 2",
            "careid_broker_provider_latency_seconds_count{endpoint=\"token\"} 2",
            "careid_broker_logouts_received_total{outcome=\"ended\"} 1",
            "careid_broker_ends_delivered_total 1",
            "careid_broker_open_listeners 7",
        ] {
            assert!(
                text.lines().any(|present| present == line),
                "{line}\n{text}"
            );
        }
        assert!(text.contains("# TYPE careid_broker_provider_latency_seconds histogram"));
    }

    #[test]
    fn a_build_that_counts_its_heap_shows_it() {
        report_live_heap(|| 12_345);
        let text = Metrics::default().render(0);
        assert!(
            text.lines()
                .any(|line| line == "careid_broker_heap_bytes 12345"),
            "{text}"
        );
        assert!(text.ends_with('\n'));
    }
}
