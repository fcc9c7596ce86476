//! What the broker remembers, kept so that a second replica or a restart needs nothing else:
//! the sessions the provider ended (for at least the longest session life, so a client that
//! was offline learns of it when it comes back), the logout token ids already seen (replays),
//! and who is told when a session ends. Each end has its place in the store's log of ends
//! ([`EndId`]), the `id` a listener's event carries.
//!
//! `EmbeddedStore` is the one-process store: in memory, written through to a file (atomically,
//! owner-only) after each change, so a restart loses nothing. `RedisStore` (`store::redis`) is
//! the store for several replicas, with the same operations; [`Store::open`] makes either from
//! the configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use careid_oidc::unix_seconds;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::config::StoreConfig;
mod fleeting;
pub mod redis;

use redis::RedisStore;

/// CIS2's longest session: ended sessions are remembered at least this long (NIST SP 800-63's
/// 12 hours absolute, which conformed NHS services enforce).
pub const ENDED_SESSION_MEMORY: Duration = Duration::from_secs(12 * 3600);

/// How many session ends a slow listener may fall behind before it must ask again.
pub(crate) const EVENT_BACKLOG: usize = 1024;

/// A session the provider ended: one CIS2 session (`sid`), or every session of a user (`sub`)
/// begun before `ended_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnd {
    pub sid: Option<String>,
    pub sub: Option<String>,
    /// Seconds since the epoch.
    pub ended_at: u64,
}

impl SessionEnd {
    /// Whether this end ends the session `sid` of `sub` that began (was authenticated) at
    /// `began_at`.
    pub fn ends(&self, sid: Option<&str>, sub: &str, began_at: u64) -> bool {
        match (&self.sid, &self.sub) {
            (Some(ended), Some(user)) => Some(ended.as_str()) == sid && user == sub,
            (Some(ended), None) => Some(ended.as_str()) == sid,
            (None, Some(user)) => user == sub && began_at <= self.ended_at,
            (None, None) => false,
        }
    }
}

/// Where an end stands in the store's log of ends, written `<ms>-<seq>`: when it was recorded
/// (milliseconds since the epoch) and its place among the ends of that millisecond, compared as
/// numbers. With Redis it is the end's stream entry id, which Redis gives, so every replica on
/// one Redis names an end alike; the embedded store makes its own the same way, each later than
/// the last even when the clock goes back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndId {
    ms: u64,
    seq: u64,
}

impl EndId {
    /// `<ms>-<seq>`, as [`fmt::Display`] writes it.
    pub fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return None;
        }
        Some(Self {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    /// The id of an end recorded after this one at `now`: in a later millisecond, or the next
    /// in this one (also when the clock went back).
    fn next(self, now: SystemTime) -> Self {
        let ms = millis(now);
        if ms > self.ms {
            Self { ms, seq: 0 }
        } else {
            Self {
                ms: self.ms,
                seq: self.seq.saturating_add(1),
            }
        }
    }

    /// For an end recorded before ends had ids: its time, first of its second. Alike on every
    /// replica, though two such ends of one second share it.
    pub(crate) fn from_seconds(seconds: u64) -> Self {
        Self {
            ms: seconds.saturating_mul(1000),
            seq: 0,
        }
    }
}

impl fmt::Display for EndId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl Serialize for EndId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EndId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an end id (<ms>-<seq>)"))
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// An end as the store recorded it: its place in the log of ends, and the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEnd {
    pub id: EndId,
    pub end: SessionEnd,
}

/// A store that cannot do what is asked: the handlers answer 503, so the provider or the client
/// tries again later.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write the broker's store file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The Redis password file cannot be read, or others can read it.
    #[error("the Redis password: {0}")]
    PasswordFile(#[from] crate::credential::CredentialError),
    /// The Redis CA file (`ca_file`) holds no certificate, or one that cannot be read.
    #[error("the Redis CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    /// A Redis URL that would send the password and every session end in clear over a network.
    #[error(
        "{url} reaches Redis over the network without TLS: use rediss:// (plain redis:// is for \
         a Redis on this machine only)"
    )]
    PlainOffLoopback { url: String },
    /// Redis unreachable, too slow, or refusing (never with a password in the message).
    #[error("the Redis store is unavailable: {message}")]
    Redis { message: String },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Contents {
    /// The log of ends, oldest first.
    ended: Vec<Logged>,
    /// Logout token ids with the time they may be forgotten.
    seen_jtis: BTreeMap<String, u64>,
    /// The id of the last end recorded, kept when the log empties so ids never go back.
    #[serde(default)]
    last_id: EndId,
}

impl Contents {
    fn forget_expired(&mut self, now: u64) {
        self.ended.retain(|logged| logged.until > now);
        self.seen_jtis.retain(|_, until| *until > now);
    }
}

/// One end in the embedded log, with the time (seconds) it may be forgotten.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "LoggedForm")]
struct Logged {
    end: SessionEnd,
    until: u64,
    id: EndId,
}

/// A logged end as a file holds it: as now, or as written before ends had ids (`[end, until]`),
/// so an upgrade forgets no ended session.
#[derive(Deserialize)]
#[serde(untagged)]
enum LoggedForm {
    Now {
        end: SessionEnd,
        until: u64,
        id: EndId,
    },
    Before(SessionEnd, u64),
}

impl From<LoggedForm> for Logged {
    fn from(form: LoggedForm) -> Self {
        match form {
            LoggedForm::Now { end, until, id } => Self { end, until, id },
            LoggedForm::Before(end, until) => Self {
                id: EndId::from_seconds(end.ended_at),
                end,
                until,
            },
        }
    }
}

/// The one-process store.
#[derive(Debug)]
pub struct EmbeddedStore {
    path: Option<PathBuf>,
    contents: Mutex<Contents>,
    events: broadcast::Sender<RecordedEnd>,
    fleeting: fleeting::Fleeting,
}

impl EmbeddedStore {
    /// A store kept in `path` (read now if it exists; a damaged file is reported and replaced,
    /// since what it held is only an optimisation over asking the provider), or in memory only.
    pub fn open(path: Option<&Path>) -> Self {
        let contents = path
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| match serde_json::from_slice(&bytes) {
                Ok(contents) => Some(contents),
                Err(error) => {
                    tracing::warn!(%error, "the broker's store file is damaged: starting empty");
                    None
                }
            })
            .unwrap_or_default();
        Self {
            path: path.map(Path::to_path_buf),
            contents: Mutex::new(contents),
            events: broadcast::channel(EVENT_BACKLOG).0,
            fleeting: fleeting::Fleeting::default(),
        }
    }

    /// Whether the logout token id `jti` was recorded and may not be forgotten yet. A `jti` is
    /// recorded only once its end is, so a `jti` seen is a replay whose end is already kept.
    pub fn seen(&self, jti: &str, now: SystemTime) -> bool {
        let now = unix_seconds(now);
        self.lock()
            .seen_jtis
            .get(jti)
            .is_some_and(|until| *until > now)
    }

    /// Records the logout token id `jti` until `until`. `false` when it was seen before: a
    /// replay, which must change nothing.
    pub fn first_sighting(
        &self,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        self.change(now, |contents| {
            if contents.seen_jtis.contains_key(jti) {
                return false;
            }
            contents
                .seen_jtis
                .insert(jti.to_owned(), unix_seconds(until));
            true
        })
    }

    /// Records `end` for [`ENDED_SESSION_MEMORY`] and tells every listener: its id.
    pub fn end_session(&self, end: SessionEnd, now: SystemTime) -> Result<EndId, StoreError> {
        let until = unix_seconds(now).saturating_add(ENDED_SESSION_MEMORY.as_secs());
        let recorded = self.change(now, |contents| {
            let id = contents.last_id.next(now);
            contents.last_id = id;
            contents.ended.push(Logged {
                end: end.clone(),
                until,
                id,
            });
            RecordedEnd { id, end }
        })?;
        let id = recorded.id;
        // No listener is not an error: a client that was offline asks on reconnect.
        let _ = self.events.send(recorded);
        Ok(id)
    }

    /// The end that ended the session `sid` of `sub` begun at `began_at`, if one did: the first
    /// recorded, so it is the same end each time it is asked.
    pub fn ended(
        &self,
        sid: Option<&str>,
        sub: &str,
        began_at: u64,
        now: SystemTime,
    ) -> Option<RecordedEnd> {
        let now = unix_seconds(now);
        self.lock()
            .ended
            .iter()
            .find(|logged| logged.until > now && logged.end.ends(sid, sub, began_at))
            .map(|logged| RecordedEnd {
                id: logged.id,
                end: logged.end.clone(),
            })
    }

    /// Every session end from now on, as it happens.
    pub fn subscribe(&self) -> broadcast::Receiver<RecordedEnd> {
        self.events.subscribe()
    }

    fn change<T>(
        &self,
        now: SystemTime,
        change: impl FnOnce(&mut Contents) -> T,
    ) -> Result<T, StoreError> {
        let mut contents = self.lock();
        // Changed on a copy, which replaces the contents only once it is on disk: a failed write
        // leaves memory as the file is, so the provider's retry finds nothing half-recorded.
        let mut changed = contents.clone();
        changed.forget_expired(unix_seconds(now));
        let result = change(&mut changed);
        if let Some(path) = &self.path {
            let bytes = serde_json::to_vec(&changed).unwrap_or_default();
            careid_files::write_atomically(path, &bytes).map_err(|source| StoreError::Write {
                path: path.clone(),
                source,
            })?;
        }
        *contents = changed;
        Ok(result)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Contents> {
        self.contents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The broker's store, whichever kind the configuration names. Handlers use only this, so a
/// Redis store for several replicas slots in beside the embedded one.
#[derive(Debug)]
pub enum Store {
    Embedded(EmbeddedStore),
    Redis(RedisStore),
}

impl Store {
    /// The store the configuration names: the one place a store is made from it. A Redis store
    /// that cannot be reached now is an error, so the broker does not start without its state.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        match config {
            StoreConfig::Embedded { path } => Ok(Self::Embedded(EmbeddedStore::open(Some(path)))),
            StoreConfig::Redis {
                url,
                password_file,
                ca_file,
                prefix,
            } => Ok(Self::Redis(
                RedisStore::open(
                    url,
                    password_file.as_deref(),
                    ca_file.as_deref(),
                    prefix,
                    ENDED_SESSION_MEMORY,
                )
                .await?,
            )),
        }
    }

    /// See [`EmbeddedStore::seen`].
    pub async fn seen(&self, jti: &str, now: SystemTime) -> Result<bool, StoreError> {
        match self {
            Self::Embedded(store) => Ok(store.seen(jti, now)),
            Self::Redis(store) => store.seen(jti).await,
        }
    }

    /// See [`EmbeddedStore::first_sighting`].
    pub async fn first_sighting(
        &self,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Embedded(store) => store.first_sighting(jti, until, now),
            Self::Redis(store) => store.first_sighting(jti, until, now).await,
        }
    }

    /// See [`EmbeddedStore::end_session`]: recorded, then told to every listener of every replica.
    pub async fn end_session(&self, end: SessionEnd, now: SystemTime) -> Result<EndId, StoreError> {
        match self {
            Self::Embedded(store) => store.end_session(end, now),
            Self::Redis(store) => store.end_session(end, now).await,
        }
    }

    /// See [`EmbeddedStore::ended`].
    pub async fn ended(
        &self,
        sid: Option<&str>,
        sub: &str,
        began_at: u64,
        now: SystemTime,
    ) -> Result<Option<RecordedEnd>, StoreError> {
        match self {
            Self::Embedded(store) => Ok(store.ended(sid, sub, began_at, now)),
            // Redis forgets by itself, on its own clock.
            Self::Redis(store) => store.ended(sid, sub, began_at).await,
        }
    }

    /// Whether the store can be used now: always for the embedded one; Redis must answer.
    pub async fn check(&self) -> Result<(), StoreError> {
        match self {
            Self::Embedded(_) => Ok(()),
            Self::Redis(store) => store.check().await,
        }
    }

    /// Every session end from now on, received by any replica.
    pub fn subscribe(&self) -> broadcast::Receiver<RecordedEnd> {
        match self {
            Self::Embedded(store) => store.subscribe(),
            Self::Redis(store) => store.subscribe(),
        }
    }

    /// Records the DPoP proof `jti` of the key `thumbprint` until `until`: `false` when it was
    /// seen before (a replay). Keyed by key and `jti`, shared by every replica on Redis.
    pub async fn first_proof(
        &self,
        thumbprint: &str,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let key = proof_key(thumbprint, jti);
        match self {
            Self::Embedded(store) => Ok(store.fleeting.insert_new(
                key,
                String::new(),
                unix_seconds(until),
                unix_seconds(now),
            )),
            Self::Redis(store) => store.set_new(&key, "1", until, now).await,
        }
    }

    /// Binds a pushed authorization request's PKCE `challenge` to the DPoP key `thumbprint`
    /// until `until`, so the code it leads to is redeemed with that key only (RFC 9449 §10).
    pub async fn bind_challenge(
        &self,
        challenge: &str,
        thumbprint: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let key = challenge_key(challenge);
        match self {
            Self::Embedded(store) => {
                store.fleeting.insert_new(
                    key,
                    thumbprint.to_owned(),
                    unix_seconds(until),
                    unix_seconds(now),
                );
                Ok(())
            }
            Self::Redis(store) => store.set_new(&key, thumbprint, until, now).await.map(drop),
        }
    }

    /// The DPoP key the PKCE `challenge` was bound to at its pushed request, if it was.
    pub async fn challenge_binding(
        &self,
        challenge: &str,
        now: SystemTime,
    ) -> Result<Option<String>, StoreError> {
        let key = challenge_key(challenge);
        match self {
            Self::Embedded(store) => Ok(store.fleeting.get(&key, unix_seconds(now))),
            Self::Redis(store) => store.get(&key).await,
        }
    }
}

fn proof_key(thumbprint: &str, jti: &str) -> String {
    format!("dpop-jti:{thumbprint}:{jti}")
}

fn challenge_key(challenge: &str) -> String {
    format!("par-jkt:{challenge}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn an_end_by_sid_ends_that_session_and_an_end_by_sub_every_earlier_one() {
        let by_sid = SessionEnd {
            sid: Some("s1".into()),
            sub: None,
            ended_at: 100,
        };
        assert!(by_sid.ends(Some("s1"), "u", 50));
        assert!(!by_sid.ends(Some("s2"), "u", 50));
        assert!(!by_sid.ends(None, "u", 50));
        let both = SessionEnd {
            sid: Some("s1".into()),
            sub: Some("u".into()),
            ended_at: 100,
        };
        assert!(both.ends(Some("s1"), "u", 50));
        assert!(
            !both.ends(Some("s1"), "other", 50),
            "sid and sub must agree"
        );
        let by_sub = SessionEnd {
            sid: None,
            sub: Some("u".into()),
            ended_at: 100,
        };
        assert!(by_sub.ends(Some("any"), "u", 100));
        assert!(by_sub.ends(None, "u", 99));
        assert!(
            !by_sub.ends(None, "u", 101),
            "a session begun after the end"
        );
        assert!(!by_sub.ends(None, "other", 50));
    }

    #[test]
    fn a_jti_is_seen_once_until_it_may_be_forgotten() {
        let store = EmbeddedStore::open(None);
        assert!(store.first_sighting("j", at(700), at(100)).unwrap());
        assert!(
            !store.first_sighting("j", at(700), at(200)).unwrap(),
            "a replay"
        );
        assert!(
            store.first_sighting("j", at(1400), at(800)).unwrap(),
            "forgotten"
        );
    }

    #[test]
    fn a_change_whose_write_fails_is_not_kept_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.json");
        let store = EmbeddedStore::open(Some(&path));
        let mut listener = store.subscribe();
        let end = SessionEnd {
            sid: Some("s1".into()),
            sub: Some("u".into()),
            ended_at: 100,
        };
        // A folder where the file goes: the write fails after the change was made.
        std::fs::create_dir(&path).unwrap();
        assert!(store.first_sighting("j", at(700), at(100)).is_err());
        assert!(!store.seen("j", at(100)), "the jti is not kept");
        assert!(store.end_session(end.clone(), at(100)).is_err());
        assert_eq!(store.ended(Some("s1"), "u", 0, at(100)), None);
        assert!(listener.try_recv().is_err(), "no listener is told");

        std::fs::remove_dir(&path).unwrap();
        let id = store.end_session(end.clone(), at(100)).unwrap();
        assert_eq!(
            store.ended(Some("s1"), "u", 0, at(100)),
            Some(RecordedEnd { id, end })
        );
        assert!(store.first_sighting("j", at(700), at(100)).unwrap());
        assert!(store.seen("j", at(200)));
        assert!(!store.seen("j", at(800)), "forgotten when it expires");
    }

    #[test]
    fn ends_are_remembered_for_twelve_hours_across_a_restart_and_told_to_listeners() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.json");
        let store = EmbeddedStore::open(Some(&path));
        let mut listener = store.subscribe();
        let end = SessionEnd {
            sid: Some("s1".into()),
            sub: Some("u".into()),
            ended_at: 1000,
        };
        let id = store.end_session(end.clone(), at(1000)).unwrap();
        let recorded = RecordedEnd { id, end };
        assert_eq!(listener.try_recv().unwrap(), recorded);
        store.first_sighting("j", at(1600), at(1000)).unwrap();
        drop(store);

        let restarted = EmbeddedStore::open(Some(&path));
        assert_eq!(
            restarted.ended(Some("s1"), "u", 900, at(1001)),
            Some(recorded.clone())
        );
        assert!(!restarted.first_sighting("j", at(1600), at(1001)).unwrap());
        let twelve_hours_later = 1000 + ENDED_SESSION_MEMORY.as_secs();
        assert_eq!(
            restarted.ended(Some("s1"), "u", 900, at(twelve_hours_later - 1)),
            Some(recorded)
        );
        assert_eq!(
            restarted.ended(Some("s1"), "u", 900, at(twelve_hours_later)),
            None
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "owner-only");
        }
    }

    #[test]
    fn a_damaged_file_starts_empty_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.json");
        std::fs::write(&path, b"{not json").unwrap();
        let store = EmbeddedStore::open(Some(&path));
        assert!(store.first_sighting("j", at(700), at(100)).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"j\""), "{text}");
    }

    #[test]
    fn end_ids_are_written_and_compared_as_numbers() {
        let earlier = EndId::parse("999-5").unwrap();
        let later = EndId::parse("1000-0").unwrap();
        assert!(earlier < later, "not as text");
        assert!(EndId::parse("1000-1").unwrap() > later);
        assert_eq!(later.to_string(), "1000-0");
        for wrong in ["1000", "x-1", "1-", "-1", "+1-0", "1-0-0", " 1-0", ""] {
            assert_eq!(EndId::parse(wrong), None, "{wrong:?}");
        }
    }

    /// Each end is later than the last, within one millisecond, after the log empties, after a
    /// restart, and when the clock goes back.
    #[test]
    fn the_embedded_store_gives_every_end_a_later_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.json");
        let store = EmbeddedStore::open(Some(&path));
        let end = |sid: &str| SessionEnd {
            sid: Some(sid.into()),
            sub: None,
            ended_at: 1000,
        };
        let mut ids = vec![
            store.end_session(end("a"), at(1000)).unwrap(),
            store.end_session(end("b"), at(1000)).unwrap(),
            store.end_session(end("c"), at(1001)).unwrap(),
        ];
        assert_eq!(ids[0].to_string(), "1000000-0");
        assert_eq!(ids[1].to_string(), "1000000-1");
        assert_eq!(ids[2].to_string(), "1001000-0");
        let forgotten = 1001 + ENDED_SESSION_MEMORY.as_secs();
        ids.push(store.end_session(end("d"), at(forgotten)).unwrap());
        assert_eq!(store.lock().ended.len(), 1, "the others forgotten");
        drop(store);
        let restarted = EmbeddedStore::open(Some(&path));
        ids.push(restarted.end_session(end("e"), at(5)).unwrap());
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    }

    /// A file written before ends had ids is read whole: its ends are still ended.
    #[test]
    fn a_file_from_before_end_ids_keeps_its_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.json");
        let before = serde_json::json!({
            "ended": [[{"sid": "s1", "sub": "u", "ended_at": 1000}, 50_000]],
            "seen_jtis": {"j": 50_000},
        });
        std::fs::write(&path, before.to_string()).unwrap();
        let store = EmbeddedStore::open(Some(&path));
        let found = store
            .ended(Some("s1"), "u", 900, at(1001))
            .expect("still ended");
        assert_eq!(found.id, EndId::from_seconds(1000));
        assert!(store.seen("j", at(1001)));
        let next = store.end_session(found.end, at(1002)).unwrap();
        assert!(next > found.id);
    }
}
