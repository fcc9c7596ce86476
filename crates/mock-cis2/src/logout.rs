//! Ending SSO sessions and telling the clients: whatever ends a session (end-session, expiry
//! found by the sweeper, or the admin action that simulates a removed smartcard) revokes what
//! it issued and POSTs a signed logout token to each client that received tokens in it
//! (OpenID Connect Back-Channel Logout 1.0 §2.4 to §2.8).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;

use crate::keys::SigningAlgorithm;
use crate::provider::{now, Provider};
use crate::sessions::EndedSession;
use crate::store::UnixTime;

/// The event a logout token carries (Back-Channel Logout 1.0 §2.4).
pub(crate) const BACKCHANNEL_LOGOUT_EVENT: &str =
    "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is valid: long enough for a slow client, short enough that a
/// captured one is soon useless (§2.4 recommends a short lifetime).
const LOGOUT_TOKEN_LIFETIME: u64 = 120;

/// How long a client has to answer before the delivery counts as failed, so that a hung
/// client cannot hold tasks open.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many deliveries are remembered for tests and the admin page; older ones make way.
const MAX_DELIVERIES: usize = 256;

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEndReason {
    /// The user signed out through end-session (RP-Initiated Logout 1.0).
    SignedOut,
    /// The session reached its lifetime and the sweeper found it.
    Expired,
    /// Ended through [`crate::RunningMock::end_session`], as a removed smartcard would.
    Ended,
}

/// What became of one back-channel logout POST.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// The client answered with a success status (§2.8 asks for 200).
    Delivered { status: u16 },
    /// The client answered with an error status.
    Refused { status: u16 },
    /// No answer: connection refused, timeout, or no async runtime to send from.
    Failed { reason: String },
}

/// One back-channel logout notification, after its POST finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackchannelDelivery {
    pub client_id: String,
    pub sid: String,
    pub reason: SessionEndReason,
    /// The `backchannel_logout_uri` posted to.
    pub uri: String,
    pub outcome: DeliveryOutcome,
}

/// A logout token on its way: where to, and for which client and session.
#[derive(Debug)]
struct Notice {
    client_id: String,
    sid: String,
    reason: SessionEndReason,
    uri: String,
}

impl Notice {
    fn finished(self, outcome: DeliveryOutcome) -> BackchannelDelivery {
        BackchannelDelivery {
            client_id: self.client_id,
            sid: self.sid,
            reason: self.reason,
            uri: self.uri,
            outcome,
        }
    }
}

/// The sender of logout tokens and the log of what became of them.
#[derive(Debug)]
pub(crate) struct Backchannel {
    http: reqwest::Client,
    deliveries: Arc<Mutex<VecDeque<BackchannelDelivery>>>,
}

impl Default for Backchannel {
    fn default() -> Self {
        // Redirects are not followed: the logout token goes to the registered URI or nowhere.
        let http = crate::provider::http_client()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(DELIVERY_TIMEOUT)
            .build()
            .expect("an HTTP client");
        Self {
            http,
            deliveries: Arc::default(),
        }
    }
}

impl Backchannel {
    /// The deliveries that have finished, oldest first.
    pub fn deliveries(&self) -> Vec<BackchannelDelivery> {
        record_lock(&self.deliveries).iter().cloned().collect()
    }

    /// Sends `logout_token` on a spawned task, so that ending a session never waits on a client.
    fn send(&self, notice: Notice, logout_token: String) {
        let deliveries = self.deliveries.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let outcome = DeliveryOutcome::Failed {
                reason: "no async runtime to send from".into(),
            };
            record(&deliveries, notice.finished(outcome));
            return;
        };
        let http = self.http.clone();
        runtime.spawn(async move {
            let answer = http
                .post(&notice.uri)
                .form(&[("logout_token", logout_token)])
                .send()
                .await;
            let outcome = match answer {
                Ok(response) if response.status().is_success() => DeliveryOutcome::Delivered {
                    status: response.status().as_u16(),
                },
                Ok(response) => DeliveryOutcome::Refused {
                    status: response.status().as_u16(),
                },
                Err(error) => DeliveryOutcome::Failed {
                    reason: error.to_string(),
                },
            };
            if !matches!(outcome, DeliveryOutcome::Delivered { .. }) {
                tracing::warn!(
                    client_id = notice.client_id,
                    uri = notice.uri,
                    ?outcome,
                    "back-channel logout was not delivered"
                );
            }
            record(&deliveries, notice.finished(outcome));
        });
    }
}

fn record_lock(
    deliveries: &Mutex<VecDeque<BackchannelDelivery>>,
) -> std::sync::MutexGuard<'_, VecDeque<BackchannelDelivery>> {
    // A push or a clone cannot leave the queue half-changed.
    deliveries.lock().unwrap_or_else(PoisonError::into_inner)
}

fn record(deliveries: &Mutex<VecDeque<BackchannelDelivery>>, delivery: BackchannelDelivery) {
    let mut deliveries = record_lock(deliveries);
    if deliveries.len() >= MAX_DELIVERIES {
        deliveries.pop_front();
    }
    deliveries.push_back(delivery);
}

impl Provider {
    /// Ends the session `sid` and revokes its grants; `false` when no such session was live.
    /// Grants of the `sid` are revoked even then, since a session may have made way for newer
    /// ones while its tokens lived on.
    pub(crate) fn end_session(&self, sid: &str, reason: SessionEndReason) -> bool {
        match self.sessions.end(sid) {
            Some(ended) => {
                self.session_ended(ended, reason);
                true
            }
            None => {
                self.store.revoke_session(sid);
                false
            }
        }
    }

    /// Ends every expired session, telling its clients as any other end would.
    pub(crate) fn sweep_sessions(&self, now: UnixTime) {
        for ended in self.sessions.sweep(now) {
            self.session_ended(ended, SessionEndReason::Expired);
        }
    }

    fn session_ended(&self, ended: EndedSession, reason: SessionEndReason) {
        let sid = &ended.info.sid;
        self.store.revoke_session(sid);
        for client_id in &ended.clients {
            let Some(uri) = self
                .clients
                .get(client_id)
                .and_then(|client| client.backchannel_logout_uri.clone())
            else {
                continue;
            };
            let token = self.logout_token(client_id, &ended.info.user_id, sid);
            let notice = Notice {
                client_id: client_id.clone(),
                sid: sid.clone(),
                reason,
                uri,
            };
            self.backchannel.send(notice, token);
        }
    }

    /// A logout token (§2.4): RS256 with the current key, `typ` `logout+jwt` (§2.4 and RFC 8725
    /// §3.11, so it cannot pass for an ID token), the event, and never a `nonce` (§2.4).
    fn logout_token(&self, client_id: &str, sub: &str, sid: &str) -> String {
        let now = crate::modes::provider_time(self, now());
        let claims = json!({
            "iss": self.issuer.as_str(),
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_LIFETIME,
            "jti": self.random(16),
            "sub": sub,
            "sid": sid,
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        });
        self.keys
            .sign(SigningAlgorithm::RS256, "logout+jwt", &claims)
    }
}
