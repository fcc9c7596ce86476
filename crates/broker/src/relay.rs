//! The relays (`/token`, `/par`, `/revoke`) and what the broker brokers
//! (`/.well-known/careid-broker`), as `API.md` specifies them.
//!
//! A careid client sends its request as it would to the provider, less client authentication.
//! The broker checks that it is for the brokered issuer and client, with a registered redirect
//! URI and PKCE, adds client authentication with careid-oidc's own code (the method the
//! provider advertises for the endpoint, assertions with `aud` exactly the token endpoint as
//! published), and passes the provider's answer back unchanged: status, `Content-Type`, body.
//!
//! Each source may make `limits.requests_per_minute_per_source` relay requests a minute
//! ([`RateLimiter`], a budget of the relays' own); each relay request leaves one audit line
//! (target `careid_broker::audit`) that never holds a token, a code, a verifier, an assertion or
//! a secret.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use careid_oidc::client_auth::method_for_endpoint;
use careid_oidc::secret::s256_challenge;
use careid_oidc::JwkThumbprint;
use careid_oidc::{authenticate, ProviderMetadata, RefreshToken};
use serde_json::{json, Value};

use crate::answer::{no_store, oauth_error};
use crate::config::BrokerConfig;
use crate::connections::Peer;
use crate::handle::Opened;
use crate::metrics::Metrics;
use crate::proof::{check_proof, ProofRefusal, DPOP_NONCE_HEADER};
use crate::rate_limit::{source, source_key, too_many_requests, RateLimiter};
use crate::server::Broker;

/// The header naming the issuer a request is for (`API.md`).
pub const ISSUER_HEADER: &str = "careid-issuer";
/// Where the relays have always named it; it lives with the rate limit that reads it.
pub use crate::rate_limit::FORWARDED_FOR_HEADER;
/// The audit log's `tracing` target.
pub const AUDIT_TARGET: &str = "careid_broker::audit";

/// A relay request's body: a form with a refresh token (4 KiB at most from some providers) or
/// the parameters of an authorization request.
const MAX_RELAY_BODY: usize = 64 * 1024;
/// The longest `sub`, `sid` or `acr` written to the audit log.
const MAX_AUDIT_VALUE: usize = 200;

/// The relay routes, for `server::router` to merge: they share the broker's state and one
/// rate limiter.
pub fn routes(config: &BrokerConfig) -> Router<Arc<Broker>> {
    let limits = &config.limits;
    let limiter = Arc::new(RelayLimits {
        per_source: RateLimiter::new(limits.requests_per_minute_per_source),
        failures: RateLimiter::new(limits.failures_per_minute_per_source.get()),
        per_key: RateLimiter::new(limits.requests_per_minute_per_key.get()),
        per_user: RateLimiter::new(limits.requests_per_minute_per_user.get()),
        limits: limits.clone(),
    });
    Router::new()
        .route("/.well-known/careid-broker", get(well_known))
        .route("/token", post(token))
        .route("/par", post(par))
        .route("/revoke", post(revoke))
        .layer(Extension(limiter))
}

/// The relays' budgets: per source, for refusals per source apart, and per DPoP key; each
/// per-source one raised by the source's allowance.
#[derive(Debug)]
struct RelayLimits {
    per_source: RateLimiter,
    failures: RateLimiter,
    per_key: RateLimiter<String>,
    per_user: RateLimiter<String>,
    limits: crate::config::Limits,
}

impl RelayLimits {
    /// Counts a request from `source`: `Err` with the wait and the budget it is over.
    fn admit(&self, source: IpAddr, now: Instant) -> Result<(), (Duration, &'static str)> {
        let key = source_key(source);
        let failures = self.limits.budget(self.failures.per_minute(), source);
        self.failures
            .over(&key, failures, now)
            .map_err(|wait| (wait, "failures"))?;
        let budget = self.limits.budget(self.per_source.per_minute(), source);
        self.per_source
            .check_key(key, budget, now)
            .map_err(|wait| (wait, "source"))
    }

    /// Counts a refused request from `source`.
    fn refused(&self, source: IpAddr, now: Instant) {
        let budget = self.limits.budget(self.failures.per_minute(), source);
        // Over the budget already: the next request is refused by `admit`.
        let _ = self.failures.check_key(source_key(source), budget, now);
    }

    /// Counts a refresh of the user `subject` (from its handle).
    fn admit_user(&self, subject: &str, now: Instant) -> Result<(), Duration> {
        let budget = self.per_user.per_minute();
        self.per_user.check_key(subject.to_owned(), budget, now)
    }

    /// Counts a request of the DPoP key `thumbprint`.
    fn admit_key(&self, thumbprint: &str, now: Instant) -> Result<(), Duration> {
        let budget = self.per_key.per_minute();
        self.per_key.check_key(thumbprint.to_owned(), budget, now)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Token,
    Par,
    Revoke,
}

impl Endpoint {
    /// Its path on the internal listener, which a proof's `htu` names.
    fn path(self) -> &'static str {
        match self {
            Endpoint::Token => "/token",
            Endpoint::Par => "/par",
            Endpoint::Revoke => "/revoke",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Par => "par",
            Endpoint::Revoke => "revoke",
        }
    }
}

/// `GET /.well-known/careid-broker`: what the broker brokers. PAR and revocation are named
/// only when the provider's discovery offers them, so it needs the discovery document.
async fn well_known(State(broker): State<Arc<Broker>>) -> Response {
    let metadata = match broker.provider(SystemTime::now()).await {
        Ok(metadata) => metadata,
        Err(error) => return discovery_unavailable(&error),
    };
    let config = &broker.config;
    let internal = &config.internal;
    let mut document = json!({
        "issuer": config.provider.issuer,
        "client_id": config.provider.client_id,
        "token_endpoint": internal.url_for("/token"),
        "session_status_endpoint": internal.url_for("/sessions/status"),
        "session_events_endpoint": internal.url_for(crate::server::SESSION_EVENTS),
        "jwks_uri": config.public.url_for("/jwks"),
        "redirect_uris": config.clients.redirect_uris,
    });
    if metadata.revocation_endpoint.is_some() {
        document["revocation_endpoint"] = internal.url_for("/revoke").into();
    }
    if metadata.pushed_authorization_request_endpoint.is_some() {
        document["pushed_authorization_request_endpoint"] = internal.url_for("/par").into();
    }
    no_store(Json(document).into_response())
}

async fn token(State(broker): State<Arc<Broker>>, request: Request) -> Response {
    relay(&broker, Endpoint::Token, request).await
}

async fn par(State(broker): State<Arc<Broker>>, request: Request) -> Response {
    relay(&broker, Endpoint::Par, request).await
}

async fn revoke(State(broker): State<Arc<Broker>>, request: Request) -> Response {
    relay(&broker, Endpoint::Revoke, request).await
}

/// One audit line's facts. Only values safe to record: no parameter the client sent but a
/// known grant type, nothing of the answer but its status and the ID token's `sub`, `sid`,
/// `acr`.
struct Audit {
    source: IpAddr,
    /// The device certificate's subject, under mutual TLS.
    device: Option<Arc<str>>,
    /// The thumbprint of the request's DPoP key, once its proof passed.
    key: Option<String>,
    endpoint: Endpoint,
    grant_type: &'static str,
    metrics: Arc<Metrics>,
    limits: Option<Arc<RelayLimits>>,
}

impl Audit {
    fn record(&self, outcome: &str, status: u16, identity: Option<&Identity>) {
        let counted = match (outcome, status) {
            ("relayed", _) => "relayed",
            ("rate limited", _) => "rate_limited",
            (_, 500..) => "unavailable",
            _ => "refused",
        };
        self.metrics.relay(self.endpoint.as_str(), counted);
        // Refusals, the broker's and the provider's, count apart against the source.
        if counted == "refused" || (counted == "relayed" && (400..500).contains(&status)) {
            if let Some(limits) = &self.limits {
                limits.refused(self.source, Instant::now());
            }
        }
        let time = careid_oidc::unix_seconds(SystemTime::now());
        let (sub, sid, acr) = identity.map_or(("-", "-", "-"), |identity| {
            (
                identity.sub.as_str(),
                identity.sid.as_str(),
                identity.acr.as_str(),
            )
        });
        tracing::info!(
            target: AUDIT_TARGET,
            time,
            source = %self.source,
            device = self.device.as_deref().unwrap_or("-"),
            dpop_jkt = self.key.as_deref().unwrap_or("-"),
            endpoint = self.endpoint.as_str(),
            grant_type = self.grant_type,
            outcome,
            status,
            sub,
            sid,
            acr,
            "relay"
        );
    }
}

/// Who a successful answer's ID token names. Read from its payload without checking the
/// signature: for the audit record only, never for a decision (the client validates the token).
#[derive(Debug, Default, PartialEq, Eq)]
struct Identity {
    sub: String,
    sid: String,
    acr: String,
}

impl Identity {
    fn from_token_response(body: &[u8]) -> Option<Self> {
        let answer: Value = serde_json::from_slice(body).ok()?;
        let id_token = answer.get("id_token")?.as_str()?;
        let jwt = careid_oidc::jose::decode_any_type(id_token).ok()?;
        let claim = |name: &str| {
            jwt.claims
                .get(name)
                .and_then(Value::as_str)
                .map_or_else(|| "-".to_owned(), safe_for_log)
        };
        Some(Self {
            sub: claim("sub"),
            sid: claim("sid"),
            acr: claim("acr"),
        })
    }
}

/// Provider text for a log line: no control characters (a newline would forge a line), capped.
fn safe_for_log(text: &str) -> String {
    text.chars()
        .take(MAX_AUDIT_VALUE)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Why the broker answered a relay request itself.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

fn invalid(description: &'static str) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description,
    }
}

impl Refusal {
    fn response(&self) -> Response {
        oauth_error(self.status, self.error, Some(self.description))
    }
}

/// A relay request, answered with a fresh `DPoP-Nonce` whatever the outcome (RFC 9449 §8.2),
/// so a desktop always holds one the broker accepts.
async fn relay(broker: &Broker, endpoint: Endpoint, request: Request) -> Response {
    let mut response = relay_checked(broker, endpoint, request).await;
    if let Ok(nonce) = HeaderValue::from_str(&broker.keys().nonces.issue(SystemTime::now())) {
        response.headers_mut().insert(DPOP_NONCE_HEADER, nonce);
    }
    response
}

async fn relay_checked(broker: &Broker, endpoint: Endpoint, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut audit = Audit {
        source: source(&broker.config.internal.tls, &parts),
        device: parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .and_then(|info| info.0.device.clone()),
        key: None,
        endpoint,
        grant_type: "-",
        metrics: Arc::clone(&broker.metrics),
        limits: parts.extensions.get::<Arc<RelayLimits>>().cloned(),
    };
    if let Some(limits) = &audit.limits {
        if let Err((retry_after, budget)) = limits.admit(audit.source, Instant::now()) {
            audit.record("rate limited", 429, None);
            tracing::warn!(source = %audit.source, budget, "relay requests over a budget");
            return too_many_requests(retry_after);
        }
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_RELAY_BODY).await else {
        audit.record("refused: the request is too large", 400, None);
        return invalid("the request is too large").response();
    };
    let mut form = match read_form(&broker.config, &parts.headers, &body) {
        Ok(form) => form,
        Err(refusal) => {
            audit.record(refusal.description, refusal.status.as_u16(), None);
            return refusal.response();
        }
    };
    if endpoint == Endpoint::Token {
        audit.grant_type = match form.get("grant_type") {
            Some("authorization_code") => "authorization_code",
            Some("refresh_token") => "refresh_token",
            _ => "other",
        };
    }
    let now = SystemTime::now();
    let proof = match check_proof(broker, endpoint.path(), &parts.headers, now).await {
        Ok(proof) => proof,
        Err(refusal) => {
            let (status, error, description) = refusal.answer();
            match &refusal {
                ProofRefusal::Replayed => broker.metrics.replay("dpop_proof"),
                ProofRefusal::Store(_) => {}
                _ => broker.metrics.dpop_refused(refusal.code()),
            }
            let outcome = format!("refused: DPoP proof {}", refusal.code());
            audit.record(&outcome, status.as_u16(), None);
            return oauth_error(status, error, Some(description));
        }
    };
    let key = proof.thumbprint;
    audit.key = Some(key.as_str().to_owned());
    if let Some(limits) = &audit.limits {
        if let Err(retry_after) = limits.admit_key(key.as_str(), Instant::now()) {
            audit.record("rate limited", 429, None);
            tracing::warn!(
                dpop_jkt = key.as_str(),
                "relay requests over the DPoP key's budget"
            );
            return too_many_requests(retry_after);
        }
    }
    let metadata = match broker.provider(now).await {
        Ok(metadata) => metadata,
        Err(error) => {
            audit.record("the provider's discovery is unavailable", 503, None);
            return discovery_unavailable(&error);
        }
    };
    let target = match check(&broker.config, &metadata, endpoint, &form) {
        Ok(target) => target,
        Err(refusal) => {
            audit.record(refusal.description, refusal.status.as_u16(), None);
            return refusal.response();
        }
    };
    let limits = audit.limits.clone();
    let bound = bind_to_key(broker, endpoint, &mut form, &key, now, limits.as_deref()).await;
    let bound = match bound {
        Ok(bound) => bound,
        Err(Unbound::OverBudget(retry_after)) => {
            audit.record("rate limited", 429, None);
            tracing::warn!("relay requests over the user's budget");
            return too_many_requests(retry_after);
        }
        Err(Unbound::Refused(refusal, reason)) => {
            if refusal.status == StatusCode::BAD_REQUEST {
                broker.metrics.dpop_refused(reason);
            }
            let outcome = format!("{}: {reason}", refusal.description);
            audit.record(&outcome, refusal.status.as_u16(), None);
            return refusal.response();
        }
    };
    let answer = match forward(broker, &metadata, endpoint, target, &form, now).await {
        Ok(answer) => answer,
        Err(refusal) => {
            audit.record(refusal.description, refusal.status.as_u16(), None);
            return refusal.response();
        }
    };
    let identity = if endpoint == Endpoint::Token && answer.status == 200 {
        Identity::from_token_response(answer.body())
    } else {
        None
    };
    // A token answer is sealed when it succeeds, and whenever it names a refresh token at all:
    // whatever the provider answers, its refresh token never reaches a desktop.
    let names_refresh_token = || {
        serde_json::from_slice::<Value>(answer.body())
            .is_ok_and(|body| body.get("refresh_token").is_some())
    };
    let body = if endpoint == Endpoint::Token && (answer.status == 200 || names_refresh_token()) {
        match sealed_answer(broker, answer.body(), &key, bound, identity.as_ref()) {
            Ok(body) => Some(body),
            Err(refusal) => {
                audit.record(refusal.description, refusal.status.as_u16(), None);
                return refusal.response();
            }
        }
    } else {
        None
    };
    audit.record("relayed", answer.status, identity.as_ref());
    passed_back(&answer, body)
}

/// How long a pushed request's DPoP key binding lasts: the user's time in the browser and the
/// code's life after it.
const BINDING_LIFE: Duration = Duration::from_secs(15 * 60);
/// The prefix of the refresh handles the broker makes (`handle`): a `token` to revoke that has it
/// is a handle to open.
const HANDLE_PREFIX: &str = "cr1.";

/// Each relay's part of the DPoP key binding, on the form about to be forwarded:
/// - PAR: `dpop_jkt`, when sent, must be the proof's key (RFC 9449 §10); the PKCE challenge is
///   bound to the key, and `dpop_jkt` is not forwarded.
/// - The code exchange: a code whose pushed request was bound is redeemed with that key only.
/// - A refresh, a revocation: the handle is opened with the proof's key, and the provider's
///   refresh token it holds is what is forwarded. A refresh's handle under a retiring key is
///   returned, to be sealed again under the current one.
async fn bind_to_key(
    broker: &Broker,
    endpoint: Endpoint,
    form: &mut Form,
    key: &JwkThumbprint,
    now: SystemTime,
    limits: Option<&RelayLimits>,
) -> Result<Bound, Unbound> {
    let unavailable = |_| {
        let refusal = Refusal {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: "temporarily_unavailable",
            description: "the broker's store cannot be reached",
        };
        Unbound::Refused(refusal, "store")
    };
    match (endpoint, form.get("grant_type")) {
        (Endpoint::Par, _) => {
            if form.get("dpop_jkt").is_some_and(|jkt| jkt != key.as_str()) {
                let refusal = Refusal {
                    status: StatusCode::BAD_REQUEST,
                    error: "invalid_dpop_proof",
                    description: "dpop_jkt is not the proof's key",
                };
                return Err(Unbound::Refused(refusal, "dpop_jkt"));
            }
            form.remove("dpop_jkt");
            let challenge = form.get("code_challenge").unwrap_or_default().to_owned();
            broker
                .store()
                .bind_challenge(&challenge, key.as_str(), now + BINDING_LIFE, now)
                .await
                .map_err(unavailable)?;
            Ok(Bound::default())
        }
        (Endpoint::Token, Some("authorization_code")) => {
            let challenge = s256_challenge(form.get("code_verifier").unwrap_or_default());
            let bound = broker
                .store()
                .challenge_binding(&challenge, now)
                .await
                .map_err(unavailable)?;
            if bound.is_some_and(|bound| bound != key.as_str()) {
                let refusal = Refusal {
                    status: StatusCode::BAD_REQUEST,
                    error: "invalid_grant",
                    description: "the sign-in was begun with another DPoP key",
                };
                return Err(Unbound::Refused(refusal, "another key"));
            }
            Ok(Bound::default())
        }
        (Endpoint::Token, _) => {
            let opened = open_handle(broker, form.get("refresh_token").unwrap_or_default(), key)?;
            if let (Some(limits), Some(subject)) = (limits, &opened.subject) {
                limits
                    .admit_user(subject, Instant::now())
                    .map_err(Unbound::OverBudget)?;
            }
            form.set("refresh_token", opened.refresh_token.expose_secret());
            Ok(Bound {
                rewrap: (!opened.under_current_key).then_some(opened.refresh_token),
                subject: opened.subject,
            })
        }
        (Endpoint::Revoke, _) => {
            let token = form.get("token").unwrap_or_default();
            if token.starts_with(HANDLE_PREFIX) {
                let opened = open_handle(broker, token, key)?;
                form.set("token", opened.refresh_token.expose_secret());
            }
            Ok(Bound::default())
        }
    }
}

/// What a relay's DPoP key binding leaves for its answer: a refresh token a retiring key had
/// sealed, to seal again; the user the handle was sealed for.
#[derive(Default)]
struct Bound {
    rewrap: Option<RefreshToken>,
    subject: Option<String>,
}

/// Why a relay request was not bound to its key.
enum Unbound {
    Refused(Refusal, &'static str),
    /// Over the user's budget: 429 after this wait.
    OverBudget(Duration),
}

/// The provider's refresh token in `handle`, which must be bound to `key`.
fn open_handle(broker: &Broker, handle: &str, key: &JwkThumbprint) -> Result<Opened, Unbound> {
    broker
        .keys()
        .handles
        .open(handle, key.as_str())
        .map_err(|error| {
            let refusal = Refusal {
                status: StatusCode::BAD_REQUEST,
                error: "invalid_grant",
                description: "the refresh handle is not valid with this DPoP key",
            };
            Unbound::Refused(refusal, error.code())
        })
}

/// A successful token answer with its refresh token sealed into a handle bound to `key` (or, for
/// a refresh the provider did not rotate, the one a retiring key had sealed, sealed again): the
/// provider's refresh token never reaches a desktop.
fn sealed_answer(
    broker: &Broker,
    body: &[u8],
    key: &JwkThumbprint,
    bound: Bound,
    identity: Option<&Identity>,
) -> Result<Vec<u8>, Refusal> {
    let cannot = Refusal {
        status: StatusCode::BAD_GATEWAY,
        error: "server_error",
        description: "the broker cannot seal the provider's refresh token",
    };
    let mut answer: Value = match serde_json::from_slice(body) {
        Ok(Value::Object(answer)) => Value::Object(answer),
        // Not a token answer the broker can read: nothing of it reaches the desktop.
        _ => return Err(cannot),
    };
    let refresh_token = match answer.get("refresh_token") {
        Some(Value::String(token)) => Some(RefreshToken::new(token.clone())),
        Some(_) => return Err(cannot),
        None => bound.rewrap,
    };
    // The answer's ID token names the user; a refresh without one keeps its handle's.
    let subject = identity
        .map(|identity| identity.sub.as_str())
        .filter(|sub| *sub != "-")
        .or(bound.subject.as_deref());
    if let Some(refresh_token) = refresh_token {
        let handle = broker
            .keys()
            .handles
            .seal(&refresh_token, key.as_str(), subject)
            .map_err(|error| {
                tracing::warn!(code = error.code(), "cannot seal a refresh token");
                cannot
            })?;
        answer["refresh_token"] = Value::String(handle.expose_secret().to_owned());
    }
    serde_json::to_vec(&answer).map_err(|_| Refusal {
        status: StatusCode::BAD_GATEWAY,
        error: "server_error",
        description: "the broker cannot seal the provider's refresh token",
    })
}

/// The client's form, checked for what every relay refuses: another issuer, another client,
/// client authentication of its own, a repeated parameter.
fn read_form(config: &BrokerConfig, headers: &HeaderMap, body: &[u8]) -> Result<Form, Refusal> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(invalid(
            "the request must be a form (application/x-www-form-urlencoded)",
        ));
    }
    let issuer = headers
        .get(ISSUER_HEADER)
        .and_then(|value| value.to_str().ok());
    if !issuer.is_some_and(|issuer| config.provider.issuer.matches(issuer)) {
        return Err(invalid("this broker does not broker that issuer"));
    }
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(invalid(
            "the broker authenticates the client: send no Authorization header",
        ));
    }
    let mut form = Form(Vec::new());
    for (name, value) in url::form_urlencoded::parse(body) {
        if form.get(&name).is_some() {
            return Err(invalid("a parameter is repeated"));
        }
        form.0.push((name.into_owned(), value.into_owned()));
    }
    if ["client_secret", "client_assertion", "client_assertion_type"]
        .iter()
        .any(|name| form.get(name).is_some())
    {
        return Err(invalid(
            "the broker authenticates the client: send no client credential",
        ));
    }
    if form
        .get("client_id")
        .is_some_and(|client_id| config.provider.client_id != client_id)
    {
        return Err(invalid("this broker does not broker that client_id"));
    }
    Ok(form)
}

/// Where the request goes at the provider, once its endpoint's own rules hold.
fn check<'m>(
    config: &BrokerConfig,
    metadata: &'m ProviderMetadata,
    endpoint: Endpoint,
    form: &Form,
) -> Result<&'m str, Refusal> {
    let registered = |form: &Form| {
        let uri = form
            .get("redirect_uri")
            .ok_or(invalid("redirect_uri is required"))?;
        if config
            .clients
            .redirect_uris
            .iter()
            .any(|known| known.as_str() == uri)
        {
            Ok(())
        } else {
            Err(invalid(
                "the redirect_uri is not registered with this broker",
            ))
        }
    };
    let present = |name: &str, refusal: &'static str| {
        if form.get(name).is_some_and(|value| !value.is_empty()) {
            Ok(())
        } else {
            Err(invalid(refusal))
        }
    };
    let not_offered = |description| Refusal {
        status: StatusCode::NOT_FOUND,
        error: "invalid_request",
        description,
    };
    match endpoint {
        Endpoint::Token => {
            match form.get("grant_type") {
                Some("authorization_code") => {
                    present("code", "code is required")?;
                    registered(form)?;
                    present("code_verifier", "code_verifier is required (PKCE)")?;
                }
                Some("refresh_token") => {
                    present("refresh_token", "refresh_token is required")?;
                }
                _ => {
                    return Err(Refusal {
                        status: StatusCode::BAD_REQUEST,
                        error: "unsupported_grant_type",
                        description: "the broker relays authorization_code and refresh_token",
                    })
                }
            }
            Ok(&metadata.token_endpoint)
        }
        Endpoint::Par => {
            let endpoint = metadata
                .pushed_authorization_request_endpoint
                .as_deref()
                .ok_or(not_offered(
                    "the provider offers no pushed authorization requests",
                ))?;
            registered(form)?;
            present("code_challenge", "code_challenge is required (PKCE)")?;
            if form.get("code_challenge_method") != Some("S256") {
                return Err(invalid("code_challenge_method must be S256"));
            }
            Ok(endpoint)
        }
        Endpoint::Revoke => {
            let endpoint = metadata
                .revocation_endpoint
                .as_deref()
                .ok_or(not_offered("the provider offers no revocation"))?;
            present("token", "token is required")?;
            Ok(endpoint)
        }
    }
}

/// Sends the client's parameters to the provider with the broker's client authentication.
async fn forward(
    broker: &Broker,
    metadata: &ProviderMetadata,
    endpoint: Endpoint,
    url: &str,
    form: &Form,
    now: SystemTime,
) -> Result<careid_oidc::HttpResponse, Refusal> {
    let provider = &broker.config.provider;
    let advertised = match endpoint {
        Endpoint::Token | Endpoint::Par => &metadata.token_endpoint_auth_methods_supported,
        Endpoint::Revoke => &metadata.revocation_endpoint_auth_methods_supported,
    };
    let method = method_for_endpoint(provider.client_auth, advertised.as_deref());
    // The assertion's aud is the token endpoint exactly as published, whichever endpoint the
    // request goes to (RFC 7523 §3; CIS2 compares the string, `:443` included).
    let keys = broker.keys();
    let authentication = authenticate(
        method,
        &provider.client_id,
        keys.credential.credential(),
        &metadata.token_endpoint,
        now,
    )
    .map_err(|error| {
        tracing::error!(%error, "cannot build the broker's client authentication");
        Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "the broker cannot authenticate to the provider",
        }
    })?;
    // The client's parameters less its client_id, which the authentication carries when the
    // method sends one; a pushed authorization request always names the client (RFC 9126 §2.1).
    let mut pairs: Vec<(&str, &str)> = form
        .0
        .iter()
        .filter(|(name, _)| name != "client_id")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let auth_pairs = authentication.form_pairs();
    if endpoint == Endpoint::Par && !auth_pairs.iter().any(|(name, _)| *name == "client_id") {
        pairs.push(("client_id", &provider.client_id));
    }
    pairs.extend(auth_pairs);
    let started = Instant::now();
    let answer = broker
        .http
        .post_form(
            url,
            &pairs,
            authentication.basic_authorization.as_ref(),
            "application/json",
        )
        .await;
    broker.metrics.provider(
        endpoint.as_str(),
        answer.as_ref().ok().map(|answer| answer.status),
        started.elapsed(),
    );
    answer.map_err(|error| {
        tracing::warn!(%error, endpoint = endpoint.as_str(), "the provider cannot be reached");
        Refusal {
            status: StatusCode::BAD_GATEWAY,
            error: "temporarily_unavailable",
            description: "the provider cannot be reached",
        }
    })
}

/// The provider's answer as it gave it: status, `Content-Type`, `Retry-After`, body (or `body`,
/// the same with its refresh token sealed); never cached.
fn passed_back(answer: &careid_oidc::HttpResponse, body: Option<Vec<u8>>) -> Response {
    let body = body.unwrap_or_else(|| answer.body().to_vec());
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers_mut();
    if let Some(value) = answer
        .content_type
        .as_deref()
        .and_then(|value| HeaderValue::from_str(value).ok())
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(retry_after) = answer.retry_after {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs()),
        );
    }
    no_store(response)
}

/// The request's parameters, in order, each name once.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(present, _)| present == name)
            .map(|(_, value)| value.as_str())
    }

    /// Replaces the value of `name`, which is present.
    fn set(&mut self, name: &str, value: &str) {
        for (present, old) in &mut self.0 {
            if present == name {
                value.clone_into(old);
            }
        }
    }

    fn remove(&mut self, name: &str) {
        self.0.retain(|(present, _)| present != name);
    }
}

fn discovery_unavailable(error: &str) -> Response {
    tracing::warn!(%error, "the provider's discovery document cannot be had");
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        Some("the provider cannot be reached"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_identity_is_read_from_the_id_token_and_cleaned() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let part = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let id_token = format!(
            "{}.{}.c2ln",
            part(json!({"alg": "RS256"})),
            part(json!({"sub": "555057896106", "sid": "s-1\nforged line", "acr": "AAL3_ANY"}))
        );
        let body = json!({"access_token": "x", "id_token": id_token}).to_string();
        let identity = Identity::from_token_response(body.as_bytes()).unwrap();
        assert_eq!(
            identity,
            Identity {
                sub: "555057896106".into(),
                sid: "s-1 forged line".into(),
                acr: "AAL3_ANY".into(),
            }
        );
        assert_eq!(
            Identity::from_token_response(b"{\"access_token\":\"x\"}"),
            None
        );
        assert_eq!(Identity::from_token_response(b"not json"), None);
    }
}
