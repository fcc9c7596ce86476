//! DPoP server nonces (RFC 9449 §8) that need no store: a nonce names its period of time and
//! carries a MAC over it, so every replica holding the same key files issues and accepts the same
//! nonces, and none has anything to remember or share.
//!
//! A nonce is base64url (32 characters, all of them allowed in a DPoP `nonce`) of:
//!
//! ```text
//! period number (8 bytes, big-endian) || HMAC-SHA256(nonce key, label || period number)[..16]
//! ```
//!
//! where the period number is the Unix time divided by the period. A nonce is accepted in its own
//! period and the next, so it lives between one and two periods. The MAC may verify under any of
//! the key files' nonce keys, so a rotation of the key list does not refuse nonces in flight.

use std::time::{Duration, SystemTime};

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_oidc::secret::constant_time_eq;
use careid_oidc::unix_seconds;

use crate::handle::HandleKeys;

/// A period of five minutes: a nonce lives five to ten, well beyond a request's round trip and
/// short enough that a captured proof is soon of no use.
pub const DEFAULT_NONCE_PERIOD: Duration = Duration::from_secs(5 * 60);

const PERIOD_BYTES: usize = 8;
const MAC_BYTES: usize = 16;
const NONCE_BYTES: usize = PERIOD_BYTES + MAC_BYTES;
/// Base64url without padding of [`NONCE_BYTES`] (a multiple of 3, so exact).
const NONCE_CHARS: usize = NONCE_BYTES / 3 * 4;
const NONCE_LABEL: &[u8] = b"careid-broker dpop nonce v1\0";

/// Issues and checks DPoP nonces under the handle key files' nonce keys.
pub struct NonceIssuer {
    /// The current key first; never empty.
    keys: Vec<hmac::Key>,
    period_seconds: u64,
}

impl NonceIssuer {
    /// An issuer under `keys`' nonce keys. A period under a second counts as one second.
    pub fn new(keys: &HandleKeys, period: Duration) -> Self {
        Self {
            keys: keys.nonce_keys().cloned().collect(),
            period_seconds: period.as_secs().max(1),
        }
    }

    /// The nonce for the period `now` falls in, under the current key.
    pub fn issue(&self, now: SystemTime) -> String {
        let period = self.period_number(now);
        let mut nonce = [0u8; NONCE_BYTES];
        nonce[..PERIOD_BYTES].copy_from_slice(&period.to_be_bytes());
        nonce[PERIOD_BYTES..].copy_from_slice(&mac(&self.keys[0], period).as_ref()[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(nonce)
    }

    /// Whether `nonce` (from the network) was issued by a broker with these key files in the
    /// period `now` falls in or the one before.
    pub fn accepts(&self, nonce: &str, now: SystemTime) -> bool {
        if nonce.len() != NONCE_CHARS {
            return false;
        }
        let mut bytes = [0u8; NONCE_BYTES];
        if URL_SAFE_NO_PAD.decode_slice(nonce, &mut bytes) != Ok(NONCE_BYTES) {
            return false;
        }
        let (period, tag) = bytes.split_at(PERIOD_BYTES);
        let mut period_bytes = [0u8; PERIOD_BYTES];
        period_bytes.copy_from_slice(period);
        let period = u64::from_be_bytes(period_bytes);
        let current = self.period_number(now);
        if period != current && period.checked_add(1) != Some(current) {
            return false;
        }
        self.keys
            .iter()
            .any(|key| constant_time_eq(&mac(key, period).as_ref()[..MAC_BYTES], tag))
    }

    /// A clock before 1970 reads as period 0: nonces still work, and nothing panics.
    fn period_number(&self, now: SystemTime) -> u64 {
        unix_seconds(now) / self.period_seconds
    }
}

impl std::fmt::Debug for NonceIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceIssuer")
            .field("keys", &self.keys.len())
            .field("period_seconds", &self.period_seconds)
            .finish()
    }
}

fn mac(key: &hmac::Key, period: u64) -> hmac::Tag {
    let mut context = hmac::Context::with_key(key);
    context.update(NONCE_LABEL);
    context.update(&period.to_be_bytes());
    context.sign()
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::handle::KEY_LEN;

    const PERIOD: Duration = DEFAULT_NONCE_PERIOD;
    const CURRENT: [u8; KEY_LEN] = [7; KEY_LEN];
    const RETIRING: [u8; KEY_LEN] = [9; KEY_LEN];

    fn issuer(current: &[u8; KEY_LEN], retiring: &[[u8; KEY_LEN]]) -> NonceIssuer {
        NonceIssuer::new(&HandleKeys::from_secrets(current, retiring), PERIOD)
    }

    /// A time in the middle of a period, so "a period later" is unambiguous.
    fn noon() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_750_000_000 / 300 * 300 + 150)
    }

    #[test]
    fn a_fresh_nonce_is_accepted_for_its_period_and_the_next() {
        let issuer = issuer(&CURRENT, &[]);
        let nonce = issuer.issue(noon());
        assert_eq!(nonce.len(), NONCE_CHARS);
        assert!(nonce
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'));
        for later in [Duration::ZERO, PERIOD / 3, PERIOD, PERIOD + PERIOD / 3] {
            assert!(issuer.accepts(&nonce, noon() + later), "{later:?}");
        }
    }

    #[test]
    fn a_nonce_from_two_periods_ago_is_refused() {
        let issuer = issuer(&CURRENT, &[]);
        let nonce = issuer.issue(noon() - PERIOD * 2);
        assert!(!issuer.accepts(&nonce, noon()));
        assert!(!issuer.accepts(&issuer.issue(UNIX_EPOCH), noon()));
    }

    #[test]
    fn a_nonce_from_the_next_period_is_refused() {
        let issuer = issuer(&CURRENT, &[]);
        let nonce = issuer.issue(noon() + PERIOD);
        assert!(!issuer.accepts(&nonce, noon()));
    }

    #[test]
    fn a_nonce_under_a_retiring_key_is_accepted_and_under_a_removed_one_refused() {
        let before = issuer(&RETIRING, &[]);
        let nonce = before.issue(noon());
        assert!(issuer(&CURRENT, &[RETIRING]).accepts(&nonce, noon()));
        assert!(!issuer(&CURRENT, &[]).accepts(&nonce, noon()));
    }

    #[test]
    fn a_tampered_nonce_is_refused() {
        let issuer = issuer(&CURRENT, &[]);
        let nonce = issuer.issue(noon());
        let bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        for index in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[index] ^= 0x01;
            let forged = URL_SAFE_NO_PAD.encode(flipped);
            // A flip in the period's lowest bit may name the next or previous period: the MAC
            // refuses it even so.
            assert!(!issuer.accepts(&forged, noon()), "byte {index}");
            assert!(!issuer.accepts(&forged, noon() + PERIOD), "byte {index}");
        }
        // The period moved back by one and the MAC kept: what a replay past its life would try.
        let mut moved = bytes.clone();
        let period = u64::from_be_bytes(moved[..8].try_into().unwrap());
        moved[..8].copy_from_slice(&(period + 1).to_be_bytes());
        let moved = URL_SAFE_NO_PAD.encode(moved);
        assert!(!issuer.accepts(&moved, noon() + PERIOD * 2));
    }

    #[test]
    fn garbage_is_refused() {
        let issuer = issuer(&CURRENT, &[]);
        let nonce = issuer.issue(noon());
        let cases = [
            String::new(),
            "a".into(),
            nonce[..NONCE_CHARS - 1].to_owned(),
            format!("{nonce}A"),
            format!("{nonce}=="),
            format!("{}+", &nonce[..NONCE_CHARS - 1]),
            format!("{}é", &nonce[..NONCE_CHARS - 2]),
            "!".repeat(NONCE_CHARS),
            "A".repeat(NONCE_CHARS),
            "\0".repeat(NONCE_CHARS),
            "A".repeat(1 << 20),
        ];
        for case in &cases {
            assert!(!issuer.accepts(case, noon()), "{case:?}");
        }
    }

    #[test]
    fn clocks_before_1970_or_far_ahead_and_a_zero_period_do_not_panic() {
        let issuer = issuer(&CURRENT, &[]);
        let before_1970 = UNIX_EPOCH - Duration::from_secs(86_400);
        assert!(issuer.accepts(&issuer.issue(before_1970), before_1970));
        assert!(!issuer.accepts(&issuer.issue(noon()), before_1970));
        let far_ahead = [u64::MAX, i64::MAX as u64, 1 << 40]
            .into_iter()
            .find_map(|seconds| UNIX_EPOCH.checked_add(Duration::from_secs(seconds)))
            .unwrap();
        assert!(issuer.accepts(&issuer.issue(far_ahead), far_ahead));
        // The period number at its largest: the next period does not exist, nothing overflows.
        let mut last = [0u8; NONCE_BYTES];
        last[..PERIOD_BYTES].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(!issuer.accepts(&URL_SAFE_NO_PAD.encode(last), far_ahead));

        let keys = HandleKeys::from_secrets(&CURRENT, &[]);
        let every_second = NonceIssuer::new(&keys, Duration::ZERO);
        let nonce = every_second.issue(noon());
        assert!(every_second.accepts(&nonce, noon() + Duration::from_secs(1)));
        assert!(!every_second.accepts(&nonce, noon() + Duration::from_secs(2)));
    }
}
