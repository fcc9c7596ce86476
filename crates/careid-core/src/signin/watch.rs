//! One live session, watched: the one place a front end learns that it changed or ended. A
//! [`SessionWatch`] looks once a second at the state file (changes by this process or another:
//! activity, a role, a sign-out, a new sign-in), the limits and, without a refresh token, the
//! tokens' end ([`crate::session::end_due`]); refreshes before the access token expires; and,
//! through a broker, listens for the provider's end. What it sees comes out as
//! [`SessionEvent`]s, every end as [`SessionEvent::Ended`] with its [`EndReason`], so a front
//! end maps each to what it shows one way, whichever path told it.
//!
//! The work it starts (a refresh, an end) runs as a task of its own, so dropping
//! [`SessionWatch::next`] part-way never loses a rotated refresh token.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;

use crate::session::{end_due, EndReason, SessionEnd, SessionFacts};
use crate::signin::status::StoredStatus;
use crate::signin::{Client, Session, SignInError};
use crate::time::unix_seconds;
use crate::SignedOutReason;

/// How often the watcher looks.
pub const LOOK_EVERY: Duration = Duration::from_secs(1);
/// A refreshable session is refreshed this long before its access token expires.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(60);

/// What happened to the watched session.
#[derive(Debug)]
pub enum SessionEvent {
    /// The session ended and careid deleted it (this process, or another did): why.
    Ended(SessionEnd),
    /// New tokens, refreshed in the background.
    Refreshed(Box<Session>),
    /// The stored facts changed (activity, the role, a new sign-in of the same user), by this
    /// process or another: the facts now.
    Changed(SessionFacts),
    /// Another user's session took its place (the CLI signed someone else in).
    Replaced,
    /// A background refresh failed for a reason waiting will not cure (the keychain, say); the
    /// session is kept.
    RefreshFailed(SignInError),
}

/// The watch over one session; see the module's documentation. Dropping it stops listening.
#[derive(Debug)]
pub struct SessionWatch {
    facts: SessionFacts,
    /// From the state file: whether a refresh token is kept, and when the kept access token
    /// expires (the core's rule for a session without a refresh token).
    refresh_token_stored: bool,
    access_token_expires_at: Option<u64>,
    /// The watched session's own access token, for when to refresh it.
    expires_at: Option<SystemTime>,
    /// The state file's modification time as last read; `None` before the first look.
    state_seen: Option<Option<SystemTime>>,
    /// When to try the next background refresh after a failure, and how many failed.
    backoff: Option<(Instant, u32)>,
    broker: Option<BrokerListener>,
    /// The end was reported: nothing more is said of this session.
    over: bool,
}

/// A task following the broker's events for one sign-in.
#[derive(Debug)]
struct BrokerListener {
    /// Whose session it listens for (`sub`, `auth_time`, `sid`).
    key: (String, u64, Option<String>),
    /// Fires when the provider ended it; closed when there is nothing to listen for.
    ended: Option<oneshot::Receiver<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BrokerListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SessionWatch {
    /// Watches `session`, as just signed in or restored.
    pub fn new(session: &Session) -> Self {
        Self {
            facts: session.facts.clone(),
            refresh_token_stored: session.refreshable,
            access_token_expires_at: session.tokens.expires_at.map(unix_seconds),
            expires_at: session.tokens.expires_at,
            state_seen: None,
            backoff: None,
            broker: None,
            over: false,
        }
    }

    /// Waits for the next look (at most [`LOOK_EVERY`], at once when the broker says the
    /// provider ended the session) and returns what happened, if anything. `client` is the
    /// session's profile's; the caller may give a new one each time (a reconnection). After
    /// [`SessionEvent::Ended`] or [`SessionEvent::Replaced`] it says nothing more.
    pub async fn next(&mut self, client: &Arc<Client>) -> Option<SessionEvent> {
        if self.over {
            tokio::time::sleep(LOOK_EVERY).await;
            return None;
        }
        self.listen_to_broker(client);
        let provider_ended = tokio::select! {
            ended = broker_said_ended(&mut self.broker) => ended,
            () = tokio::time::sleep(LOOK_EVERY) => false,
        };
        let event = if provider_ended {
            self.end_by_provider(client).await
        } else {
            self.look(client).await
        };
        if matches!(event, Some(SessionEvent::Ended(_) | SessionEvent::Replaced)) {
            self.over = true;
            self.broker = None;
        }
        event
    }

    /// One look: the state file, the limits, a refresh when due.
    async fn look(&mut self, client: &Arc<Client>) -> Option<SessionEvent> {
        let now = client.clock.now();
        let mut changed = None;
        let seen = modified(state_path(client));
        if self.state_seen != Some(seen) {
            self.state_seen = Some(seen);
            match client.session_status() {
                Ok(StoredStatus::Session(stored)) if stored.facts.sub != self.facts.sub => {
                    return Some(SessionEvent::Replaced);
                }
                Ok(StoredStatus::Session(stored)) => {
                    self.refresh_token_stored = stored.refreshable;
                    self.access_token_expires_at = stored.access_token_expires_at;
                    if stored.facts != self.facts {
                        self.facts = stored.facts.clone();
                        changed = Some(SessionEvent::Changed(stored.facts));
                    }
                }
                Ok(StoredStatus::SignedOut(reason)) => {
                    return Some(SessionEvent::Ended(self.gone(reason, now)));
                }
                Err(error) => tracing::warn!("could not read the session's state: {error}"),
            }
        }
        let due = end_due(
            &self.facts,
            &client.profile.session,
            self.refresh_token_stored,
            self.access_token_expires_at,
            now,
        );
        if let Some(reason) = due {
            return Some(self.end(client, reason).await);
        }
        if changed.is_some() {
            return changed;
        }
        if self.refresh_due(now) {
            return self.refresh(client).await;
        }
        None
    }

    /// The session is no longer stored: the end careid recorded of it, or, when none names it
    /// (an older careid signed out, or the state file was removed or damaged by hand), a
    /// sign-out on this computer.
    fn gone(&self, reason: SignedOutReason, now: SystemTime) -> SessionEnd {
        match reason {
            SignedOutReason::Ended(end) if end.ends(&self.facts) => end,
            SignedOutReason::NoSession | SignedOutReason::Ended(_) => {
                SessionEnd::new(EndReason::SignedOutHere, &self.facts, now)
            }
            other => SessionEnd::new(EndReason::SignedOutHere, &self.facts, now)
                .with_detail(other.to_string()),
        }
    }

    /// A limit has passed (or the tokens ran out): the client ends the session and says why.
    /// Should it fail to (a keychain that does not answer), the session is over all the same.
    async fn end(&mut self, client: &Arc<Client>, reason: EndReason) -> SessionEvent {
        let ending = Arc::clone(client);
        let ended = tokio::spawn(async move { ending.end_if_over_limit().await }).await;
        let fallback = SessionEnd::new(reason, &self.facts, client.clock.now());
        match ended {
            Ok(Err(error)) => {
                SessionEvent::Ended(self.end_of(client, &error).unwrap_or_else(|| {
                    tracing::warn!("could not end the session past its limit: {error}");
                    fallback
                }))
            }
            // Within its limits after all (the clock moved back): nothing ended.
            Ok(Ok(status)) => {
                self.facts = status.facts.clone();
                SessionEvent::Changed(status.facts)
            }
            Err(error) => {
                tracing::warn!("could not end the session past its limit: {error}");
                SessionEvent::Ended(fallback)
            }
        }
    }

    fn refresh_due(&self, now: SystemTime) -> bool {
        let near_expiry = self.expires_at.is_some_and(|expires| {
            expires
                .duration_since(now)
                .map_or(true, |left| left <= REFRESH_BEFORE)
        });
        self.refresh_token_stored
            && near_expiry
            && self.backoff.is_none_or(|(next, _)| Instant::now() >= next)
    }

    async fn refresh(&mut self, client: &Arc<Client>) -> Option<SessionEvent> {
        let refreshing = Arc::clone(client);
        let refreshed = tokio::spawn(async move { refreshing.refresh_quietly().await }).await;
        let refreshed = match refreshed {
            Ok(refreshed) => refreshed,
            Err(error) => {
                tracing::warn!("background refresh stopped: {error}");
                self.back_off();
                return None;
            }
        };
        match refreshed {
            Ok(session) => {
                self.facts = session.facts.clone();
                self.expires_at = session.tokens.expires_at;
                self.access_token_expires_at = session.tokens.expires_at.map(unix_seconds);
                self.refresh_token_stored = session.refreshable;
                self.backoff = None;
                self.state_seen = Some(modified(state_path(client)));
                Some(SessionEvent::Refreshed(Box::new(session)))
            }
            // The refresh token is kept on a network fault: try again later.
            Err(error) if error.is_transient() => {
                tracing::warn!("background refresh failed, will retry: {error}");
                self.back_off();
                None
            }
            Err(error) => Some(match self.end_of(client, &error) {
                Some(end) => SessionEvent::Ended(end),
                None => SessionEvent::RefreshFailed(error),
            }),
        }
    }

    fn back_off(&mut self) {
        let failures = self.backoff.map_or(0, |(_, failures)| failures) + 1;
        let wait = Duration::from_secs(5u64.saturating_mul(1 << failures.min(6)));
        self.backoff = Some((Instant::now() + wait, failures));
    }

    /// The end an error of the client reports: its own when it carries one, else the end the
    /// client recorded of this session, else one made now for the error's reason.
    fn end_of(&self, client: &Client, error: &SignInError) -> Option<SessionEnd> {
        let reason = error.end_reason()?;
        if let SignInError::SessionEnded { end, .. } = error {
            return Some(end.clone());
        }
        let recorded = client
            .store
            .last_end(&client.profile.name)
            .filter(|end| end.reason == reason && end.ends(&self.facts));
        Some(recorded.unwrap_or_else(|| {
            SessionEnd::new(reason, &self.facts, client.clock.now()).with_detail(error.to_string())
        }))
    }

    /// Starts listening to the broker for this sign-in, when the profile has one and the
    /// listener is not already for it.
    fn listen_to_broker(&mut self, client: &Arc<Client>) {
        if client.profile.broker.is_none() {
            self.broker = None;
            return;
        }
        let key = (
            self.facts.sub.clone(),
            self.facts.auth_time,
            self.facts.sid.clone(),
        );
        if self.broker.as_ref().is_some_and(|broker| broker.key == key) {
            return;
        }
        let (tell, ended) = oneshot::channel();
        let listening = Arc::clone(client);
        let facts = self.facts.clone();
        let task = tokio::spawn(async move {
            if listening.watch_session_end(&facts).await {
                let _ = tell.send(());
            }
        });
        self.broker = Some(BrokerListener {
            key,
            ended: Some(ended),
            task,
        });
    }

    /// The broker said the provider ended the session: the client ends it here too.
    async fn end_by_provider(&mut self, client: &Arc<Client>) -> Option<SessionEvent> {
        let ending = Arc::clone(client);
        let facts = self.facts.clone();
        let ended = tokio::spawn(async move { ending.end_by_provider(&facts).await }).await;
        match ended {
            // Another sign-in took its place meanwhile: the next look says so.
            Ok(Ok(false)) => return None,
            Ok(Ok(true)) => {}
            Ok(Err(error)) => {
                tracing::warn!("could not delete the session the provider ended: {error}")
            }
            Err(error) => {
                tracing::warn!("could not delete the session the provider ended: {error}")
            }
        }
        let error = client.ended_by_provider();
        self.end_of(client, &error).map(SessionEvent::Ended)
    }
}

/// Whether the broker listener said the provider ended the session; pends while it listens,
/// and for good once there is nothing to listen for.
async fn broker_said_ended(broker: &mut Option<BrokerListener>) -> bool {
    let Some(ended) = broker.as_mut().and_then(|broker| broker.ended.as_mut()) else {
        return std::future::pending().await;
    };
    let said = ended.await.is_ok();
    if let Some(broker) = broker.as_mut() {
        broker.ended = None;
    }
    if said {
        return true;
    }
    std::future::pending().await
}

fn state_path(client: &Client) -> Option<PathBuf> {
    client.store.state_path(&client.profile.name).ok()
}

fn modified(path: Option<PathBuf>) -> Option<SystemTime> {
    std::fs::metadata(path?)
        .and_then(|meta| meta.modified())
        .ok()
}
