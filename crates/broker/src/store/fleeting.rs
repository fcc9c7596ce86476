//! What the embedded store keeps for minutes only, in memory: the DPoP proof ids seen (RFC 9449
//! §11.1, replays) and the DPoP key each pushed authorization request was bound to (§10). Not
//! written to disk: a restart forgets them, which lets a proof captured in its last minute be
//! shown once more (it still works only with its key's signature over that one request) and
//! leaves a sign-in begun before the restart bound by its PKCE verifier alone.

use std::collections::HashMap;
use std::sync::Mutex;

/// The most records kept: past it, expired ones are swept, then the oldest dropped.
const MAX_RECORDS: usize = 200_000;

#[derive(Debug, Default)]
pub struct Fleeting {
    records: Mutex<HashMap<String, (String, u64)>>,
}

impl Fleeting {
    /// Records `key` with `value` until `until` (seconds); `false` when it is already recorded
    /// and not yet expired (the first record stays).
    pub fn insert_new(&self, key: String, value: String, until: u64, now: u64) -> bool {
        let mut records = self.lock();
        if records.get(&key).is_some_and(|(_, expires)| *expires > now) {
            return false;
        }
        if records.len() >= MAX_RECORDS {
            records.retain(|_, (_, expires)| *expires > now);
            if records.len() >= MAX_RECORDS {
                // Memory is bounded whatever the traffic: the soonest to expire go first.
                let mut expiries: Vec<u64> = records.values().map(|(_, until)| *until).collect();
                let tenth = (expiries.len() / 10).max(1);
                let (_, cutoff, _) = expiries.select_nth_unstable(tenth - 1);
                let cutoff = *cutoff;
                records.retain(|_, (_, expires)| *expires > cutoff);
            }
        }
        records.insert(key, (value, until));
        true
    }

    /// The value recorded for `key`, while it lasts.
    pub fn get(&self, key: &str, now: u64) -> Option<String> {
        self.lock()
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, u64)>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_new_once_until_it_expires() {
        let fleeting = Fleeting::default();
        assert!(fleeting.insert_new("a".into(), "1".into(), 100, 10));
        assert!(!fleeting.insert_new("a".into(), "2".into(), 100, 50));
        assert_eq!(fleeting.get("a", 50).as_deref(), Some("1"));
        assert_eq!(fleeting.get("a", 100), None, "expired");
        assert!(fleeting.insert_new("a".into(), "3".into(), 200, 100));
    }

    #[test]
    fn memory_stays_bounded() {
        let fleeting = Fleeting::default();
        for n in 0..MAX_RECORDS + 10 {
            let n64 = u64::try_from(n).unwrap();
            assert!(fleeting.insert_new(n.to_string(), String::new(), 1_000 + n64, 0));
        }
        assert!(fleeting.lock().len() <= MAX_RECORDS);
        assert!(
            fleeting.get(&(MAX_RECORDS + 9).to_string(), 0).is_some(),
            "the newest stays"
        );
    }
}
