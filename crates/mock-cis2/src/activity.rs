//! What the provider has done, for testers and tests: a bounded log of the requests it answered
//! (endpoint, status, duration; never a query string or a body) and the decoded claims of the
//! tokens it issued (never the token strings).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::provider::Provider;
use crate::store::UnixTime;

/// How many requests the log keeps: enough for a few hundred logins, bounded under load.
const MAX_REQUESTS: usize = 1_000;

/// How many issued tokens are kept: two per login (three with signed UserInfo), so the last
/// hundred logins or so.
const MAX_TOKENS: usize = 200;

/// One request the provider answered. It holds the endpoint's path and nothing of the request's
/// query or body, where codes, tokens, client secrets and PINs travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The order in which requests arrived, from 1: the log's order, even when answers finish
    /// out of order.
    pub sequence: u64,
    /// When the request arrived, in milliseconds since the Unix epoch.
    pub received_at_ms: u64,
    pub method: String,
    /// The path relative to the issuer, as `/access_token` or `/authorize/sign-in`.
    pub endpoint: String,
    pub status: u16,
    /// From arrival until the response's head was ready, in microseconds.
    pub duration_micros: u64,
}

/// Which token an [`IssuedToken`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    IdToken,
    AccessToken,
    /// A UserInfo answer signed as a JWT, for a client registered for signed UserInfo.
    SignedUserInfo,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdToken => "ID token",
            Self::AccessToken => "access token",
            Self::SignedUserInfo => "signed UserInfo",
        }
    }
}

/// The claims of one token the provider issued. The token itself is not kept: the admin page
/// and the tests need what it said, and a bearer token on a page could be replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedToken {
    pub kind: TokenKind,
    pub client_id: String,
    pub issued_at: UnixTime,
    /// The header's `alg`, as signed.
    pub alg: Option<String>,
    /// The payload exactly as signed, including any claim a fault changed.
    pub claims: Value,
}

/// The request log and the issued tokens, each a ring buffer behind its own lock.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    next_sequence: AtomicU64,
    requests: Mutex<VecDeque<LoggedRequest>>,
    tokens: Mutex<VecDeque<IssuedToken>>,
}

fn push_bounded<T>(ring: &Mutex<VecDeque<T>>, limit: usize, item: T) {
    // A push cannot leave the buffer inconsistent, so a poisoned lock is still usable.
    let mut ring = ring.lock().unwrap_or_else(PoisonError::into_inner);
    if ring.len() >= limit {
        ring.pop_front();
    }
    ring.push_back(item);
}

impl Activity {
    fn record_request(&self, request: LoggedRequest) {
        push_bounded(&self.requests, MAX_REQUESTS, request);
    }

    /// Keeps the claims of a compact JWS the provider just signed. A token whose payload does not
    /// decode (none does; the faults change claims and signatures, not the encoding) is skipped.
    pub fn record_token(&self, kind: TokenKind, client_id: &str, issued_at: UnixTime, jws: &str) {
        let part = |index: usize| -> Option<Value> {
            jws.split('.')
                .nth(index)
                .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        };
        let Some(claims) = part(1) else {
            return;
        };
        let alg = part(0).and_then(|header| header["alg"].as_str().map(str::to_owned));
        push_bounded(
            &self.tokens,
            MAX_TOKENS,
            IssuedToken {
                kind,
                client_id: client_id.to_owned(),
                issued_at,
                alg,
                claims,
            },
        );
    }

    /// The logged requests in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let mut requests: Vec<LoggedRequest> = self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        // Entries are pushed when the answer is ready; sorting restores arrival order.
        requests.sort_by_key(|request| request.sequence);
        requests
    }

    /// The issued tokens, oldest first.
    pub fn tokens(&self) -> Vec<IssuedToken> {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

/// The path relative to the issuer: inside a nested router axum has already removed the
/// issuer's path, and without nesting the prefix is stripped here.
fn endpoint_of(path: &str, base_path: &str) -> String {
    let relative = path.strip_prefix(base_path).unwrap_or(path);
    if relative.is_empty() {
        "/".to_owned()
    } else {
        relative.to_owned()
    }
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Logs every request to the endpoints it wraps. It sits outside the fault layer, so a delayed or
/// failed answer is logged with the delay and the status the client saw.
pub(crate) async fn record(
    State(provider): State<Arc<Provider>>,
    request: Request,
    next: Next,
) -> Response {
    let sequence = provider
        .activity
        .next_sequence
        .fetch_add(1, Ordering::Relaxed)
        + 1;
    let received_at_ms = unix_millis();
    let started = Instant::now();
    let method = request.method().to_string();
    // Only the path: `uri().path()` excludes the query, where authorize's parameters travel.
    let endpoint = endpoint_of(request.uri().path(), &provider.base_path);
    let response = next.run(request).await;
    provider.activity.record_request(LoggedRequest {
        sequence,
        received_at_ms,
        method,
        endpoint,
        status: response.status().as_u16(),
        duration_micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_relative_to_the_issuer() {
        let cases = [
            ("/realm/access_token", "/realm", "/access_token"),
            ("/access_token", "/realm", "/access_token"),
            ("/authorize/sign-in", "", "/authorize/sign-in"),
            ("/realm", "/realm", "/"),
        ];
        for (path, base, expected) in cases {
            assert_eq!(endpoint_of(path, base), expected, "{path} under {base}");
        }
    }

    #[test]
    fn the_logs_keep_only_the_newest_entries() {
        let activity = Activity::default();
        for sequence in 1..=(MAX_REQUESTS as u64 + 5) {
            activity.record_request(LoggedRequest {
                sequence,
                received_at_ms: 0,
                method: "GET".into(),
                endpoint: "/userinfo".into(),
                status: 200,
                duration_micros: 1,
            });
        }
        let requests = activity.requests();
        assert_eq!(requests.len(), MAX_REQUESTS);
        assert_eq!(requests[0].sequence, 6);

        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"1"}"#);
        for _ in 0..MAX_TOKENS + 1 {
            activity.record_token(TokenKind::IdToken, "c", 0, &format!("h.{payload}.s"));
        }
        activity.record_token(TokenKind::AccessToken, "c", 0, "not a jws");
        let tokens = activity.tokens();
        assert_eq!(tokens.len(), MAX_TOKENS);
        assert_eq!(tokens[0].claims["sub"], "1");
        assert_eq!(tokens[0].alg, None, "the header h is not JSON");
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS512"}"#);
        activity.record_token(
            TokenKind::SignedUserInfo,
            "c",
            0,
            &format!("{header}.{payload}.s"),
        );
        let last = activity.tokens().pop().expect("recorded");
        assert_eq!(
            (last.kind, last.alg.as_deref()),
            (TokenKind::SignedUserInfo, Some("RS512"))
        );
    }
}
