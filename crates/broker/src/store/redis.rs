//! The store for several replicas: one Redis shared by every broker replica, so whichever
//! replica receives a logout, every replica knows of it and tells its own listeners.
//!
//! What Redis holds (every name begins with the configured prefix, `careid-broker:` by default):
//!
//! | Key | Holds | Expires |
//! |---|---|---|
//! | `jti:<jti>` | `1`: a logout token id seen (`SET NX PX`, so one replica wins a race) | when the token could no longer be accepted |
//! | `ended:sid:<sid>` | the latest end naming that session (JSON) | after the memory of ended sessions (12 hours) |
//! | `ended-id:sid:<sid>` | that end's stream id | the same |
//! | `ended:sub:<sub>` | the latest time every session of that user was ended | the same |
//! | `ended-id:sub:<sub>` | that end's stream id | the same |
//! | `ends` | a stream of every end, trimmed to that memory: what a replica replays after losing Redis | the same |
//!
//! and one pub/sub channel, `ends`, on which each end is published as `<stream id> <JSON>`.
//! Recording an end is one Lua script: the keys, the stream entry and the message together. The
//! stream id is the end's [`EndId`], so every replica names it alike. Ids sit in keys of their
//! own beside the ends, so the ends' keys keep the form they had.
//!
//! The commands it runs, scripts included, are all a Redis user of its own needs (the ACL line in
//! `broker.example.toml`, proved in `tests/broker/redis_acl.rs`): `PING EXISTS GET SET MGET EVAL
//! PEXPIRE XADD XRANGE XREVRANGE PUBLISH SUBSCRIBE`, on its prefix's keys and channel. A new
//! command here goes in that line too.
//!
//! Each replica runs one subscriber task that re-broadcasts the channel into the replica's
//! local `broadcast` channel (what [`crate::Store::subscribe`] hands out). When Redis drops,
//! local listeners stay subscribed (the local channel lives as long as the store); the task
//! reconnects with backoff (100 ms doubling to 5 s), subscribes again, and replays from the
//! stream every end recorded after the newest one it told, so an end published while it was
//! away still reaches the listeners, late but not lost (an end is told once, by its stream id). While Redis is unreachable, recording
//! an end fails (the provider is answered 503 and retries) and `ended` fails (503).

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::{Client, ConnectionAddr, IntoConnectionInfo as _, TlsCertificates};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::{EndId, RecordedEnd, SessionEnd, StoreError, EVENT_BACKLOG};
use crate::config::redacted_url;

/// How long one command or one connection attempt may take before the store reports Redis
/// unavailable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the subscriber checks that its connection still answers.
const PING_EVERY: Duration = Duration::from_secs(15);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const LONGEST_BACKOFF: Duration = Duration::from_secs(5);

/// Records one end: its keys, its stream entry, and the message to every replica, at once.
/// KEYS: sid key, sub key, stream, sid's id key, sub's id key. ARGV: end (JSON), memory (ms),
/// ended_at (s), oldest stream id kept (ms), channel, whether to set the sid key, whether to
/// set the sub key. Returns the end's stream id.
const RECORD_END: &str = r"
local json, memory, ended_at = ARGV[1], ARGV[2], tonumber(ARGV[3])
local id = redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[4], '*', 'end', json)
redis.call('PEXPIRE', KEYS[3], memory)
if ARGV[6] == '1' then
  redis.call('SET', KEYS[1], json, 'PX', memory)
  redis.call('SET', KEYS[4], id, 'PX', memory)
end
if ARGV[7] == '1' then
  local old = redis.call('GET', KEYS[2])
  if (not old) or tonumber(old) < ended_at then
    redis.call('SET', KEYS[2], ARGV[3], 'PX', memory)
    redis.call('SET', KEYS[5], id, 'PX', memory)
  end
end
redis.call('PUBLISH', ARGV[5], id .. ' ' .. json)
return id
";

/// The names, under one prefix.
#[derive(Debug, Clone)]
struct Names {
    prefix: String,
}

impl Names {
    fn jti(&self, jti: &str) -> String {
        format!("{}{}", self.prefix, Self::jti_key(jti))
    }

    /// A logout token id's key, less the prefix.
    fn jti_key(jti: &str) -> String {
        format!("jti:{jti}")
    }
    fn ended_sid(&self, sid: &str) -> String {
        format!("{}ended:sid:{sid}", self.prefix)
    }
    fn ended_sub(&self, sub: &str) -> String {
        format!("{}ended:sub:{sub}", self.prefix)
    }
    fn ended_id_sid(&self, sid: &str) -> String {
        format!("{}ended-id:sid:{sid}", self.prefix)
    }
    fn ended_id_sub(&self, sub: &str) -> String {
        format!("{}ended-id:sub:{sub}", self.prefix)
    }
    /// The stream of ends and the channel they are published on.
    fn ends(&self) -> String {
        format!("{}ends", self.prefix)
    }
}

/// How long the readiness probe waits for Redis.
const READY_WAIT: Duration = Duration::from_secs(2);

/// The Redis store of one replica.
pub struct RedisStore {
    connection: ConnectionManager,
    names: Names,
    memory: Duration,
    events: broadcast::Sender<RecordedEnd>,
    subscriber: JoinHandle<()>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.names.prefix)
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.subscriber.abort();
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://` or `rediss://`; the password from the URL or from
    /// `password_file`; for `rediss://`, the server's certificate checked against `ca_file`'s
    /// CAs alone when given, else the system's roots), subscribes, and starts the subscriber
    /// task. Ended sessions are remembered for `memory` ([`crate::ENDED_SESSION_MEMORY`] in
    /// service; shorter in tests). Fails when Redis cannot be reached now, so a mistake is named
    /// before the broker listens.
    pub async fn open(
        url: &str,
        password_file: Option<&Path>,
        ca_file: Option<&Path>,
        prefix: &str,
        memory: Duration,
    ) -> Result<Self, StoreError> {
        let shown = redacted_url(url);
        let mut info = url.into_connection_info().map_err(|_| StoreError::Redis {
            message: format!("{shown} is not a Redis URL"),
        })?;
        // A certificate the system's roots do not vouch for is most often one from the trust's
        // own CA: the message names the setting for it.
        let roots_only = ca_file.is_none() && matches!(info.addr(), ConnectionAddr::TcpTls { .. });
        let unavailable = |error: redis::RedisError| {
            let mut message = format!("{shown}: {error}");
            if roots_only && message.contains("certificate") {
                message.push_str(
                    " (a certificate from the trust's own CA needs that CA in store.ca_file)",
                );
            }
            StoreError::Redis { message }
        };
        if !is_on_this_machine_or_tls(info.addr()) {
            return Err(StoreError::PlainOffLoopback { url: shown });
        }
        if let Some(path) = password_file {
            let password = crate::credential::read_private(path)?;
            let settings = info
                .redis_settings()
                .clone()
                .set_password(password.expose_secret().trim_end_matches(['\r', '\n']));
            info = info.set_redis_settings(settings);
        }
        // No `CLIENT SETINFO` on connecting, so the broker's Redis user needs no CLIENT
        // permission (and Redis before 7.2, which lacks the command, is asked nothing it refuses).
        let settings = info.redis_settings().clone().set_skip_set_lib_name();
        info = info.set_redis_settings(settings);
        let client = match ca_file {
            Some(path) => {
                let root_cert = read_ca_file(path)?;
                let certificates = TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                };
                Client::build_with_tls(info, certificates).map_err(unavailable)?
            }
            None => Client::open(info).map_err(unavailable)?,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(LONGEST_BACKOFF);
        let mut connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(unavailable)?;
        let names = Names {
            prefix: prefix.to_owned(),
        };
        let pubsub = subscribe(&client, &names).await.map_err(unavailable)?;
        // Listeners hear of ends from now on: the last end recorded so far is where a replay
        // after a lost connection starts.
        let newest = newest_entry(&mut connection, &names)
            .await
            .map_err(unavailable)?
            .unwrap_or_default();
        let events = broadcast::channel(EVENT_BACKLOG).0;
        let subscriber = tokio::spawn(
            Subscriber {
                client,
                connection: connection.clone(),
                names: names.clone(),
                events: events.clone(),
                newest,
                recent: VecDeque::new(),
            }
            .run(pubsub),
        );
        Ok(Self {
            connection,
            names,
            memory,
            events,
            subscriber,
        })
    }

    /// See [`crate::Store::seen`]: the `jti`'s key exists (Redis forgets it when it expires).
    pub async fn seen(&self, jti: &str) -> Result<bool, StoreError> {
        redis::cmd("EXISTS")
            .arg(self.names.jti(jti))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(failed)
    }

    /// See [`crate::Store::first_sighting`]: `SET NX PX`, so of two replicas given the same
    /// token at once, exactly one sees it first.
    pub async fn first_sighting(
        &self,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        self.set_new(&Names::jti_key(jti), "1", until, now).await
    }

    /// `SET key value NX PX` under the prefix: `false` when the key exists already.
    pub(crate) async fn set_new(
        &self,
        key: &str,
        value: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let keep = until.duration_since(now).unwrap_or_default();
        let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{}{key}", self.names.prefix))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(keep_ms)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        Ok(set.is_some())
    }

    /// `GET key` under the prefix.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        redis::cmd("GET")
            .arg(format!("{}{key}", self.names.prefix))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(failed)
    }

    /// See [`crate::Store::end_session`]: recorded for the memory of ended sessions, and
    /// published to every replica (this one included: its listeners hear of it through its
    /// own subscription, like everyone else's).
    pub async fn end_session(&self, end: SessionEnd, now: SystemTime) -> Result<EndId, StoreError> {
        let json = serde_json::to_string(&end).map_err(|error| StoreError::Redis {
            message: error.to_string(),
        })?;
        let memory_ms = u64::try_from(self.memory.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(0));
        let oldest_kept = now_ms.saturating_sub(memory_ms);
        let by_sid = end.sid.as_deref();
        // A user's every session: only an end naming no session applies to all of them.
        let by_sub = end.sub.as_deref().filter(|_| by_sid.is_none());
        let id: String = redis::cmd("EVAL")
            .arg(RECORD_END)
            .arg(5)
            .arg(self.names.ended_sid(by_sid.unwrap_or_default()))
            .arg(self.names.ended_sub(by_sub.unwrap_or_default()))
            .arg(self.names.ends())
            .arg(self.names.ended_id_sid(by_sid.unwrap_or_default()))
            .arg(self.names.ended_id_sub(by_sub.unwrap_or_default()))
            .arg(&json)
            .arg(memory_ms)
            .arg(end.ended_at)
            .arg(oldest_kept)
            .arg(self.names.ends())
            .arg(if by_sid.is_some() { "1" } else { "0" })
            .arg(if by_sub.is_some() { "1" } else { "0" })
            .query_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        EndId::parse(&id).ok_or_else(|| StoreError::Redis {
            message: format!("the end was recorded with an id that is not a stream id: {id:?}"),
        })
    }

    /// See [`crate::Store::ended`]: one `MGET` of the session's and its user's keys and their
    /// ids; the rule itself is [`SessionEnd::ends`].
    pub async fn ended(
        &self,
        sid: Option<&str>,
        sub: &str,
        began_at: u64,
    ) -> Result<Option<RecordedEnd>, StoreError> {
        let mut keys = vec![self.names.ended_sub(sub), self.names.ended_id_sub(sub)];
        if let Some(sid) = sid {
            keys.push(self.names.ended_sid(sid));
            keys.push(self.names.ended_id_sid(sid));
        }
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(failed)?;
        let value = |at: usize| values.get(at).and_then(Option::as_deref);
        // An end recorded before ends had ids has none kept: it is named by its time.
        let recorded = |end: SessionEnd, id: Option<&str>| RecordedEnd {
            id: id
                .and_then(EndId::parse)
                .unwrap_or_else(|| EndId::from_seconds(end.ended_at)),
            end,
        };
        let mut candidates = Vec::new();
        if let Some(json) = value(2) {
            match serde_json::from_str::<SessionEnd>(json) {
                Ok(end) => candidates.push(recorded(end, value(3))),
                Err(error) => tracing::warn!(%error, "an ended session in Redis is damaged"),
            }
        }
        if let Some(Ok(ended_at)) = value(0).map(str::parse) {
            let end = SessionEnd {
                sid: None,
                sub: Some(sub.to_owned()),
                ended_at,
            };
            candidates.push(recorded(end, value(1)));
        }
        Ok(candidates
            .into_iter()
            .find(|candidate| candidate.end.ends(sid, sub, began_at)))
    }

    /// Every session end from now on, recorded by any replica.
    pub fn subscribe(&self) -> broadcast::Receiver<RecordedEnd> {
        self.events.subscribe()
    }

    /// Whether Redis answers now (`PING`, within [`READY_WAIT`]): for the readiness probe, so a
    /// load balancer sends no relay or logout to a replica that could not record it.
    pub async fn check(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut connection);
        match tokio::time::timeout(READY_WAIT, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(failed(error)),
            Err(_) => Err(StoreError::Redis {
                message: format!("no answer to PING within {} s", READY_WAIT.as_secs()),
            }),
        }
    }
}

/// The PEM bytes of `path`, once they are known to hold at least one certificate: a CA file that
/// holds none would otherwise trust nothing, and every connection would fail later, less clearly.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, StoreError> {
    let refused = |reason: String| StoreError::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|error| refused(error.to_string()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| refused(error.to_string()))?;
    if certificates.is_empty() {
        return Err(refused("holds no PEM certificate".into()));
    }
    Ok(pem)
}

fn failed(error: redis::RedisError) -> StoreError {
    StoreError::Redis {
        message: error.to_string(),
    }
}

async fn subscribe(client: &Client, names: &Names) -> redis::RedisResult<PubSub> {
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(names.ends()).await?;
        Ok(pubsub)
    };
    tokio::time::timeout(COMMAND_TIMEOUT, connect)
        .await
        .map_err(|_| {
            redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "subscribing timed out",
            ))
        })?
}

/// The id of the newest end in the stream, if any.
async fn newest_entry(
    connection: &mut ConnectionManager,
    names: &Names,
) -> redis::RedisResult<Option<EndId>> {
    let newest: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
        .arg(names.ends())
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(connection)
        .await?;
    Ok(newest.first().and_then(|(id, _)| EndId::parse(id)))
}

/// The replica's one subscription, re-broadcast to its listeners.
struct Subscriber {
    client: Client,
    connection: ConnectionManager,
    names: Names,
    events: broadcast::Sender<RecordedEnd>,
    /// The newest end told to the listeners: a replay starts after it.
    newest: EndId,
    /// The ends told lately, so an end that comes both by replay and by message is told once.
    recent: VecDeque<EndId>,
}

impl Subscriber {
    async fn run(mut self, first: PubSub) {
        let mut pubsub = first;
        loop {
            self.listen(pubsub).await;
            tracing::warn!("lost the Redis subscription: reconnecting");
            pubsub = self.reconnect().await;
            tracing::info!("Redis subscription restored");
        }
    }

    /// Tells the listeners every end published, until the connection fails or stops answering.
    async fn listen(&mut self, pubsub: PubSub) {
        let (mut sink, mut messages) = pubsub.split();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else { return };
                    self.tell(message.get_payload_bytes());
                }
                _ = ping.tick() => {
                    let answered = tokio::time::timeout(
                        COMMAND_TIMEOUT,
                        sink.ping::<redis::Value>(),
                    )
                    .await;
                    if !matches!(answered, Ok(Ok(_))) {
                        return;
                    }
                }
            }
        }
    }

    /// Subscribes again (backing off while Redis is away), then replays what was missed.
    async fn reconnect(&mut self) -> PubSub {
        let mut backoff = FIRST_BACKOFF;
        loop {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(LONGEST_BACKOFF);
            let pubsub = match subscribe(&self.client, &self.names).await {
                Ok(pubsub) => pubsub,
                Err(error) => {
                    tracing::warn!(%error, "Redis subscription: still unavailable");
                    continue;
                }
            };
            // Subscribed first, replayed second: an end published in between comes both ways
            // and is told once (by its stream id).
            match self.replay().await {
                Ok(()) => return pubsub,
                Err(error) => tracing::warn!(%error, "Redis subscription: replay failed"),
            }
        }
    }

    /// Every end recorded after the newest one told; all of the stream when it is older than
    /// that (a Redis that came back empty, on a clock behind the last one's).
    async fn replay(&mut self) -> redis::RedisResult<()> {
        let top = newest_entry(&mut self.connection, &self.names).await?;
        let start = match top {
            Some(top) if top < self.newest => "-".to_owned(),
            _ => format!("({}", self.newest),
        };
        let missed: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(self.names.ends())
            .arg(start)
            .arg("+")
            .query_async(&mut self.connection)
            .await?;
        for (id, fields) in missed {
            if let Some((_, json)) = fields.iter().find(|(name, _)| name == "end") {
                self.tell(format!("{id} {json}").as_bytes());
            }
        }
        Ok(())
    }

    /// Tells the listeners one published end, `<stream id> <JSON>`, unless told already.
    fn tell(&mut self, payload: &[u8]) {
        let parsed = std::str::from_utf8(payload)
            .ok()
            .and_then(|text| text.split_once(' '))
            .and_then(|(id, json)| {
                Some((
                    EndId::parse(id)?,
                    serde_json::from_str::<SessionEnd>(json).ok()?,
                ))
            });
        let Some((id, end)) = parsed else {
            tracing::warn!("a message on the broker's Redis channel is not an end: ignored");
            return;
        };
        if self.recent.contains(&id) {
            return;
        }
        if self.recent.len() == EVENT_BACKLOG {
            self.recent.pop_front();
        }
        self.recent.push_back(id);
        self.newest = self.newest.max(id);
        // No listener is not an error: a client that was offline asks on reconnect.
        let _ = self.events.send(RecordedEnd { id, end });
    }
}

/// Whether a connection to `address` keeps the password and the session ends off the network:
/// TLS, a Unix socket, or plain TCP to a loopback address (`localhost` included).
fn is_on_this_machine_or_tls(address: &ConnectionAddr) -> bool {
    match address {
        ConnectionAddr::Tcp(host, _) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_under_the_prefix() {
        let names = Names {
            prefix: "p:".into(),
        };
        assert_eq!(names.jti("j"), "p:jti:j");
        assert_eq!(names.ended_sid("s"), "p:ended:sid:s");
        assert_eq!(names.ended_sub("u"), "p:ended:sub:u");
        assert_eq!(names.ended_id_sid("s"), "p:ended-id:sid:s");
        assert_eq!(names.ended_id_sub("u"), "p:ended-id:sub:u");
        assert_eq!(names.ends(), "p:ends");
    }
}
