//! What the benches report of their timings.

use std::time::Duration;

/// The median, 95th percentile and least of a set of timings, in milliseconds.
#[derive(Debug)]
pub struct Summary {
    pub median: f64,
    pub p95: f64,
    pub min: f64,
}

impl Summary {
    /// Sorts `timings` (at least one) and summarises them.
    pub fn of(timings: &mut [Duration]) -> Self {
        timings.sort();
        let at = |p: usize| {
            timings[(timings.len() * p / 100).min(timings.len() - 1)].as_secs_f64() * 1e3
        };
        Self {
            median: at(50),
            p95: at(95),
            min: timings[0].as_secs_f64() * 1e3,
        }
    }
}
