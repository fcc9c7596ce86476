//! The broker's HTTP service, on two listeners. The public one ([`public_router`]) is for the
//! provider: the back-channel logout endpoint (Back-Channel Logout 1.0 §2.5, §2.8), the JWKS of
//! its credential, health. The internal one ([`internal_router`]) is for the trust's desktops:
//! the relays (`relay`), the session listeners' endpoints (`listeners`), readiness. The logout endpoint and the
//! listeners' each have a per-source rate limit of their own (`rate_limit`).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use careid_oidc::{
    allowed_algorithms, HmacKey, HttpClient, JsonWebKeySet, JwsAlgorithm, KeyedError,
    ProviderCache, ProviderMetadata, UnknownKid,
};
use tokio::net::TcpListener;

use crate::answer::{no_store, oauth_error};
use crate::config::{BrokerConfig, ListenerConfig};
use crate::connections::{serve_http1, Caps, PlainListener};
use crate::credential::BrokerCredential;
use crate::dpop_nonce::{NonceIssuer, DEFAULT_NONCE_PERIOD};
use crate::handle::HandleKeys;
use crate::listeners::{self, Listeners};
use crate::logout_token::{validate_logout_token, LogoutTokenRules};
use crate::metrics::Metrics;
use crate::rate_limit::{limit_requests, RouteLimit};
use crate::store::{SessionEnd, Store};

/// Logout tokens older than this are refused, so seen `jti`s are kept this long (plus skew).
const LOGOUT_TOKEN_MAX_AGE: Duration = Duration::from_secs(10 * 60);
const CLOCK_SKEW: Duration = Duration::from_secs(60);
/// A logout request's body: a form with one JWT (tokens are capped at 64 KiB by `jose`).
const MAX_LOGOUT_BODY: usize = 80 * 1024;

/// Everything a request handler reads.
#[derive(Debug)]
pub struct Broker {
    pub(crate) config: BrokerConfig,
    /// The credential, the handles' keys and the nonces made from them: replaced whole when the
    /// key files are read again ([`Broker::replace_keys`]), so a key changes without a restart.
    keys: RwLock<Arc<Keys>>,
    /// What `GET /metrics` shows.
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) http: HttpClient,
    pub(crate) providers: ProviderCache,
    store: Arc<Store>,
    listeners: Listeners,
}

impl Broker {
    pub fn new(
        config: BrokerConfig,
        credential: BrokerCredential,
        handles: HandleKeys,
        http: HttpClient,
        store: Arc<Store>,
    ) -> Self {
        Self {
            listeners: Listeners::new(&config.limits),
            config,
            keys: RwLock::new(Arc::new(Keys::new(credential, handles))),
            metrics: Arc::default(),
            http,
            // Discovery and keys in memory for at most an hour, as careid does.
            providers: ProviderCache::new(Duration::from_secs(3600)),
            store,
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The keys in use now.
    pub fn keys(&self) -> Arc<Keys> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts new keys in use: requests already under way finish with the old ones.
    pub fn replace_keys(&self, credential: BrokerCredential, handles: HandleKeys) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) =
            Arc::new(Keys::new(credential, handles));
    }

    /// The same broker sending its listeners a keep-alive comment every `interval` instead of
    /// every [`listeners::KEEP_ALIVE`].
    pub fn with_keep_alive(mut self, interval: Duration) -> Self {
        self.listeners.keep_alive = interval;
        self
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// One side's listener configuration.
    pub fn listener(&self, side: Side) -> &ListenerConfig {
        match side {
            Side::Public => &self.config.public,
            Side::Internal => &self.config.internal,
        }
    }

    /// One side's caps per address, from the configured limits.
    pub fn caps(&self, side: Side) -> Caps {
        Caps::new(&self.listener(side).tls, &self.config.limits)
    }

    /// The clients listening for their session's end.
    pub fn listeners(&self) -> &Listeners {
        &self.listeners
    }

    /// Verifies a token from the provider with its signing keys (fetched again once for a `kid`
    /// the cached set lacks), taking asymmetric algorithms only, since the broker verifies
    /// tokens with no secret the provider could have MACed them with.
    pub(crate) async fn verify_with_provider_keys<T, E: UnknownKid>(
        &self,
        metadata: &ProviderMetadata,
        now: SystemTime,
        verify: impl Fn(&JsonWebKeySet, &[JwsAlgorithm]) -> Result<T, E>,
    ) -> Result<T, KeyedError<E>> {
        let allowed = allowed_algorithms(
            metadata
                .id_token_signing_alg_values_supported
                .as_deref()
                .unwrap_or_default(),
            HmacKey::None,
        );
        self.providers
            .verify_with_keys(&self.http, metadata, now, None, |keys| {
                verify(keys, &allowed)
            })
            .await
    }

    pub(crate) async fn provider(&self, now: SystemTime) -> Result<Arc<ProviderMetadata>, String> {
        self.providers
            .metadata(&self.http, &self.config.provider.issuer, now)
            .await
            .map_err(|error| error.to_string())
    }
}

/// The broker's keys: its client credential (and the keys it publishes), the refresh handles'
/// keys, and the DPoP nonces made from them.
#[derive(Debug)]
pub struct Keys {
    pub credential: BrokerCredential,
    pub handles: HandleKeys,
    pub nonces: NonceIssuer,
}

impl Keys {
    fn new(credential: BrokerCredential, handles: HandleKeys) -> Self {
        Self {
            credential,
            nonces: NonceIssuer::new(&handles, DEFAULT_NONCE_PERIOD),
            handles,
        }
    }
}

/// The public listener's routes: what the provider reaches, and nothing else (any other path,
/// a relay's included, is 404). The logouts have a budget of their own per source.
pub fn public_router(broker: Arc<Broker>) -> Router {
    let config = &broker.config;
    let logouts = RouteLimit::new(
        config.limits.logouts_per_minute_per_source,
        &config.public.tls,
        &config.limits,
        "backchannel-logout",
        "limits.logouts_per_minute_per_source",
        Arc::clone(&broker.metrics),
    );
    Router::new()
        .route("/backchannel-logout", post(backchannel_logout))
        .route_layer(from_fn_with_state(logouts, limit_requests))
        .route("/jwks", get(jwks))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(broker)
}

/// The internal listener's routes: what careid on the trust's devices reaches. The session
/// requests have a budget of their own per source, apart from the relays': desktops that
/// reconnect at once never spend the relays'.
pub fn internal_router(broker: Arc<Broker>) -> Router {
    let config = &broker.config;
    let sessions = RouteLimit::new(
        config.limits.session_requests_per_minute_per_source,
        &config.internal.tls,
        &config.limits,
        "sessions",
        "limits.session_requests_per_minute_per_source",
        Arc::clone(&broker.metrics),
    );
    let session_routes = Router::new()
        .route("/sessions/status", get(listeners::status))
        .route(SESSION_EVENTS, get(listeners::events))
        .route_layer(from_fn_with_state(sessions, limit_requests));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .merge(crate::relay::routes(config))
        .merge(session_routes)
        .with_state(broker)
}

/// The listeners' event stream: long-lived, so served without hyper (`long_streams`).
pub(crate) const SESSION_EVENTS: &str = "/sessions/events";

/// Which of the broker's listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Public,
    Internal,
}

impl Side {
    pub fn router(self, broker: Arc<Broker>) -> Router {
        match self {
            Side::Public => public_router(broker),
            Side::Internal => internal_router(broker),
        }
    }

    /// The paths whose answers are long-lived streams, served apart (`connections::serve_http1`).
    pub fn stream_paths(self) -> &'static [&'static str] {
        match self {
            Side::Public => &[],
            Side::Internal => &[SESSION_EVENTS],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Public => "public",
            Side::Internal => "internal",
        }
    }
}

/// Serves one side of `broker` in plain HTTP on `listener`, with the configured caps per
/// address, until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    side: Side,
    broker: Arc<Broker>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let caps = broker.caps(side);
    serve_http1(
        PlainListener::new(listener, caps),
        side.router(broker),
        side.stream_paths(),
        shutdown,
    )
    .await
}

/// The public keys registered with the provider as the JWKS endpoint URI (`private_key_jwt`).
async fn jwks(State(broker): State<Arc<Broker>>) -> Response {
    Json(broker.keys().credential.jwks()).into_response()
}

/// Ready when the provider's discovery document and signing keys can be had (without them no
/// logout token can be checked and no request relayed) and the store answers.
async fn ready(State(broker): State<Arc<Broker>>) -> Response {
    let now = SystemTime::now();
    let provider = async {
        let metadata = broker.provider(now).await?;
        broker
            .providers
            .jwks(&broker.http, &metadata, now)
            .await
            .map(drop)
            .map_err(|error| format!("the provider's keys: {error}"))
    };
    let (provider, store) = tokio::join!(provider, broker.store.check());
    let not_ready = match (provider, store) {
        (Ok(()), Ok(())) => return "ready".into_response(),
        (Err(error), _) => (error, "the provider or its keys cannot be reached"),
        (_, Err(error)) => (error.to_string(), "the store (Redis) cannot be reached"),
    };
    tracing::warn!(error = %not_ready.0, "not ready: {}", not_ready.1);
    (StatusCode::SERVICE_UNAVAILABLE, not_ready.1).into_response()
}

/// `GET /metrics`: Prometheus' text format.
async fn metrics(State(broker): State<Arc<Broker>>) -> Response {
    let text = broker.metrics.render(broker.listeners.count());
    let mut response = text.into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    no_store(response)
}

/// `POST /backchannel-logout` with `logout_token` (§2.5). 200 when the session is recorded as
/// ended (a replay changes nothing and is refused), 400 `invalid_request` for a token that
/// fails a rule (§2.8), 503 when the provider's keys cannot be had. Never a token in the log.
async fn backchannel_logout(State(broker): State<Arc<Broker>>, body: Bytes) -> Response {
    let now = SystemTime::now();
    if body.len() > MAX_LOGOUT_BODY {
        broker.metrics.logout("refused");
        return refuse("the request is too large");
    }
    let tokens: Vec<String> = url::form_urlencoded::parse(&body)
        .filter(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned())
        .collect();
    let [token] = tokens.as_slice() else {
        broker.metrics.logout("refused");
        return refuse("exactly one logout_token is required");
    };
    let metadata = match broker.provider(now).await {
        Ok(metadata) => metadata,
        Err(error) => return unavailable(&broker, &error),
    };
    let checked = broker
        .verify_with_provider_keys(&metadata, now, |keys, allowed| {
            let rules = LogoutTokenRules {
                issuer: &broker.config.provider.issuer,
                client_id: &broker.config.provider.client_id,
                keys,
                allowed,
                now,
                skew: CLOCK_SKEW,
                max_age: LOGOUT_TOKEN_MAX_AGE,
            };
            validate_logout_token(token, &rules)
        })
        .await;
    let request = match checked {
        Ok(request) => request,
        Err(KeyedError::Refused(error)) => {
            broker.metrics.logout("refused");
            tracing::info!(outcome = "refused", code = error.code(), %error, "back-channel logout");
            return refuse("the logout token is not valid");
        }
        Err(error) => return unavailable(&broker, &error.to_string()),
    };
    // The end is recorded before the token's `jti`, so no failure between the two can lose a
    // logout: a `jti` seen means its end is kept, and the provider's retry after any failure
    // records the end again (ends are idempotent) and then the `jti`.
    match broker.store.seen(&request.jti, now).await {
        Ok(false) => {}
        Ok(true) => {
            broker.metrics.logout("replay");
            broker.metrics.replay("logout_token");
            tracing::info!(outcome = "replay", "back-channel logout");
            return refuse("the logout token was already received");
        }
        Err(error) => return unavailable(&broker, &error.to_string()),
    }
    // Ended as of the token's `iat`, not the time it reached the broker: a retry after a 503
    // must not also end a session the user began in between.
    let end = SessionEnd {
        sid: request.sid.clone(),
        sub: request.sub.clone(),
        ended_at: request.iat,
    };
    if let Err(error) = broker.store.end_session(end, now).await {
        return unavailable(&broker, &error.to_string());
    }
    let remember_until = now + LOGOUT_TOKEN_MAX_AGE + CLOCK_SKEW * 2;
    // `false` here is the same token delivered twice at once, to this replica or another: its
    // end is recorded either way.
    if let Err(error) = broker
        .store
        .first_sighting(&request.jti, remember_until, now)
        .await
    {
        return unavailable(&broker, &error.to_string());
    }
    broker.metrics.logout("ended");
    tracing::info!(
        outcome = "ended",
        sub = request.sub.as_deref().unwrap_or("-"),
        sid = request.sid.as_deref().unwrap_or("-"),
        "back-channel logout"
    );
    no_store(StatusCode::OK)
}

/// §2.8: 400 with an OAuth error body, never cached.
fn refuse(description: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        Some(description),
    )
}

fn unavailable(broker: &Broker, error: &str) -> Response {
    broker.metrics.logout("unavailable");
    tracing::warn!(%error, outcome = "unavailable", "back-channel logout");
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        None,
    )
}
