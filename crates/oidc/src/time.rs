//! Times as the protocol writes them: whole seconds since the Unix epoch (a JWT's `NumericDate`,
//! RFC 7519 §2).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch; a clock set before 1970 reads as 0 rather than failing. (Checks
/// that must refuse such a clock, like the ID token's, say so themselves.)
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
