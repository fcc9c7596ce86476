//! CIS2's single sign-on session: who signed in, how and when, and the role chosen. The browser
//! holds it as a cookie; ID tokens carry its `sid` and `auth_time` (OpenID Connect Core 1.0
//! §2 and §3.1.2.1 for `prompt` and `max_age`; Back-Channel Logout 1.0 §2.1 for `sid`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::authenticators::Authenticator;
use crate::store::UnixTime;

/// The cookie naming the session. Its value is a random handle, never the `sid`: the `sid`
/// reaches every client in ID tokens, so it must not be enough to ride the session.
pub(crate) const COOKIE_NAME: &str = "mock_cis2_session";

/// The most sessions held at once. Each authorize without a cookie (a plain HTTP client under
/// load, say) makes one, so the oldest are dropped beyond this to keep memory bounded.
const MAX_SESSIONS: usize = 10_000;

/// One live SSO session, as the library API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The CIS2 session id: the ID token's `sid`, and the `sid` of a logout token.
    pub sid: String,
    pub user_id: String,
    pub authenticator: Authenticator,
    /// When the user authenticated: every ID token of the session carries it.
    pub auth_time: UnixTime,
    /// The `person_roleid` chosen in the role picker, reused until `changedrole`.
    pub selected_roleid: Option<String>,
    pub expires_at: UnixTime,
}

#[derive(Debug)]
struct Held {
    cookie: String,
    info: SessionInfo,
    /// The clients that redeemed a code in this session: those a back-channel logout token
    /// goes to when it ends (Back-Channel Logout 1.0 §2.7).
    clients: Vec<String>,
}

/// A session that has just ended, with the clients to notify.
#[derive(Debug, Clone)]
pub(crate) struct EndedSession {
    pub info: SessionInfo,
    pub clients: Vec<String>,
}

impl From<Held> for EndedSession {
    fn from(held: Held) -> Self {
        Self {
            info: held.info,
            clients: held.clients,
        }
    }
}

#[derive(Debug, Default)]
struct Maps {
    by_sid: HashMap<String, Held>,
    sid_by_cookie: HashMap<String, String>,
    /// Counts the changes, so the state file knows when to be written.
    generation: u64,
}

/// A session as the state file keeps it: everything held, the cookie handle included, so a
/// browser stays signed in across a restart.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub(crate) struct StoredSession {
    cookie: String,
    sid: String,
    user_id: String,
    authenticator: Authenticator,
    auth_time: UnixTime,
    selected_roleid: Option<String>,
    expires_at: UnixTime,
    clients: Vec<String>,
}

impl Maps {
    fn remove(&mut self, sid: &str) -> Option<Held> {
        let held = self.by_sid.remove(sid)?;
        self.sid_by_cookie.remove(&held.cookie);
        Some(held)
    }
}

/// All live sessions, behind their own lock: sessions outlive the codes and tokens of the store.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    maps: Mutex<Maps>,
}

impl Sessions {
    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        // Every operation leaves the two maps consistent before it can panic.
        self.maps.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a session the browser will name with `cookie`.
    pub fn create(&self, cookie: String, info: SessionInfo) {
        let mut maps = self.maps();
        maps.generation += 1;
        if maps.by_sid.len() >= MAX_SESSIONS {
            let oldest = maps
                .by_sid
                .values()
                .min_by_key(|held| held.info.auth_time)
                .map(|held| held.info.sid.clone());
            if let Some(oldest) = oldest {
                maps.remove(&oldest);
            }
        }
        maps.sid_by_cookie.insert(cookie.clone(), info.sid.clone());
        maps.by_sid.insert(
            info.sid.clone(),
            Held {
                cookie,
                info,
                clients: Vec::new(),
            },
        );
    }

    /// The live session a browser's cookie names.
    pub fn by_cookie(&self, cookie: &str, now: UnixTime) -> Option<SessionInfo> {
        let maps = self.maps();
        let sid = maps.sid_by_cookie.get(cookie)?;
        maps.by_sid
            .get(sid)
            .filter(|held| held.info.expires_at > now)
            .map(|held| held.info.clone())
    }

    pub fn by_sid(&self, sid: &str, now: UnixTime) -> Option<SessionInfo> {
        self.maps()
            .by_sid
            .get(sid)
            .filter(|held| held.info.expires_at > now)
            .map(|held| held.info.clone())
    }

    /// Remembers the role chosen, so the next authorize with `selectedrole` reuses it.
    pub fn choose_role(&self, sid: &str, role: &str) {
        let mut maps = self.maps();
        maps.generation += 1;
        if let Some(held) = maps.by_sid.get_mut(sid) {
            held.info.selected_roleid = Some(role.to_owned());
        }
    }

    /// Records that `client_id` received tokens in the session, so its end notifies the client.
    pub fn add_client(&self, sid: &str, client_id: &str) {
        let mut maps = self.maps();
        if let Some(held) = maps.by_sid.get_mut(sid) {
            if !held.clients.iter().any(|known| known == client_id) {
                held.clients.push(client_id.to_owned());
                maps.generation += 1;
            }
        }
    }

    /// Ends a session; `None` when there was none with this `sid`.
    pub fn end(&self, sid: &str) -> Option<EndedSession> {
        let mut maps = self.maps();
        maps.generation += 1;
        maps.remove(sid).map(EndedSession::from)
    }

    /// Live sessions, oldest sign-in first.
    pub fn list(&self, now: UnixTime) -> Vec<SessionInfo> {
        let mut sessions: Vec<SessionInfo> = self
            .maps()
            .by_sid
            .values()
            .filter(|held| held.info.expires_at > now)
            .map(|held| held.info.clone())
            .collect();
        sessions.sort_by(|a, b| (a.auth_time, &a.sid).cmp(&(b.auth_time, &b.sid)));
        sessions
    }

    /// Removes the expired sessions and returns them, so that their clients can be told.
    pub fn sweep(&self, now: UnixTime) -> Vec<EndedSession> {
        let mut maps = self.maps();
        let expired: Vec<String> = maps
            .by_sid
            .iter()
            .filter(|(_, held)| held.info.expires_at <= now)
            .map(|(sid, _)| sid.clone())
            .collect();
        if !expired.is_empty() {
            maps.generation += 1;
        }
        expired
            .iter()
            .filter_map(|sid| maps.remove(sid))
            .map(EndedSession::from)
            .collect()
    }

    /// How many times the sessions have changed.
    pub fn generation(&self) -> u64 {
        self.maps().generation
    }

    /// The sessions not yet expired at `now`, as the state file keeps them.
    pub fn snapshot(&self, now: UnixTime) -> Vec<StoredSession> {
        self.maps()
            .by_sid
            .values()
            .filter(|held| held.info.expires_at > now)
            .map(|held| StoredSession {
                cookie: held.cookie.clone(),
                sid: held.info.sid.clone(),
                user_id: held.info.user_id.clone(),
                authenticator: held.info.authenticator,
                auth_time: held.info.auth_time,
                selected_roleid: held.info.selected_roleid.clone(),
                expires_at: held.info.expires_at,
                clients: held.clients.clone(),
            })
            .collect()
    }

    /// Adds the sessions a state file kept, less those expired at `now`.
    pub fn restore(&self, stored: Vec<StoredSession>, now: UnixTime) {
        let mut maps = self.maps();
        maps.generation += 1;
        for session in stored.into_iter().filter(|s| s.expires_at > now) {
            maps.sid_by_cookie
                .insert(session.cookie.clone(), session.sid.clone());
            maps.by_sid.insert(
                session.sid.clone(),
                Held {
                    cookie: session.cookie,
                    info: SessionInfo {
                        sid: session.sid,
                        user_id: session.user_id,
                        authenticator: session.authenticator,
                        auth_time: session.auth_time,
                        selected_roleid: session.selected_roleid,
                        expires_at: session.expires_at,
                    },
                    clients: session.clients,
                },
            );
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.maps().by_sid.len()
    }
}

/// The session cookie's value in a request, if any.
pub(crate) fn cookie_in(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// Sets the session cookie: HttpOnly so page scripts cannot read it, SameSite=Lax so it rides
/// the top-level redirect from the client, and scoped to the issuer's path like AM's own.
pub(crate) fn set_cookie(response: &mut Response, path: &str, value: &str, max_age: u64) {
    let path = if path.is_empty() { "/" } else { path };
    let cookie =
        format!("{COOKIE_NAME}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(sid: &str, auth_time: UnixTime) -> SessionInfo {
        SessionInfo {
            sid: sid.into(),
            user_id: "555057896106".into(),
            authenticator: Authenticator::Smartcard,
            auth_time,
            selected_roleid: None,
            expires_at: auth_time + 100,
        }
    }

    #[test]
    fn sessions_are_found_by_cookie_until_ended_or_expired() {
        let sessions = Sessions::default();
        sessions.create("cookie-a".into(), info("a", 0));
        sessions.create("cookie-b".into(), info("b", 50));
        assert_eq!(sessions.by_cookie("cookie-a", 10).unwrap().sid, "a");
        assert!(
            sessions.by_cookie("a", 10).is_none(),
            "the sid is not a cookie"
        );
        sessions.add_client("a", "client-1");
        sessions.add_client("a", "client-1");
        let ended = sessions.end("a").expect("a live session");
        assert_eq!(ended.clients, ["client-1"]);
        assert!(sessions.end("a").is_none());
        assert!(sessions.by_cookie("cookie-a", 10).is_none());
        assert!(sessions.by_cookie("cookie-b", 150).is_none(), "expired");
        let swept = sessions.sweep(150);
        assert_eq!(swept.len(), 1);
        assert_eq!(swept[0].info.sid, "b");
        assert_eq!(sessions.len(), 0);
    }

    #[test]
    fn the_oldest_session_makes_way_beyond_the_limit() {
        let sessions = Sessions::default();
        for index in 0..=MAX_SESSIONS as u64 {
            sessions.create(format!("cookie{index}"), info(&format!("s{index}"), index));
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert!(sessions.by_sid("s0", 1).is_none());
    }

    #[test]
    fn reads_the_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; mock_cis2_session=xyz; b=2"),
        );
        assert_eq!(cookie_in(&headers).as_deref(), Some("xyz"));
    }
}
