//! The broker's HTTP service: the back-channel logout endpoint (Back-Channel Logout 1.0
//! §2.5, §2.8), the JWKS of its credential, the health and readiness endpoints, the relays
//! (`relay`, merged into [`router`]) and the session listeners' endpoints (`listeners`). The
//! logout endpoint and the listeners' each have a per-source rate limit of their own
//! (`rate_limit`).

use std::net::SocketAddr;
use std::sync::Arc;
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
use crate::config::BrokerConfig;
use crate::credential::BrokerCredential;
use crate::listeners::{self, Listeners};
use crate::logout_token::{validate_logout_token, LogoutTokenRules};
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
    pub(crate) credential: BrokerCredential,
    pub(crate) http: HttpClient,
    pub(crate) providers: ProviderCache,
    store: Arc<Store>,
    listeners: Listeners,
}

impl Broker {
    pub fn new(
        config: BrokerConfig,
        credential: BrokerCredential,
        http: HttpClient,
        store: Arc<Store>,
    ) -> Self {
        Self {
            listeners: Listeners::new(&config.limits),
            config,
            credential,
            http,
            // Discovery and keys in memory for at most an hour, as careid does.
            providers: ProviderCache::new(Duration::from_secs(3600)),
            store,
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The same broker sending its listeners a keep-alive comment every `interval` instead of
    /// every [`listeners::KEEP_ALIVE`].
    pub fn with_keep_alive(mut self, interval: Duration) -> Self {
        self.listeners.keep_alive = interval;
        self
    }

    pub(crate) fn config(&self) -> &BrokerConfig {
        &self.config
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

/// The routes, for [`serve`] and for tests that bring their own listener.
pub fn router(broker: Arc<Broker>) -> Router {
    let config = &broker.config;
    // Budgets of their own: desktops that reconnect at once never spend the provider's logouts.
    let logouts = RouteLimit::new(
        config.limits.logouts_per_minute_per_source,
        &config.tls,
        "backchannel-logout",
        "limits.logouts_per_minute_per_source",
    );
    let sessions = RouteLimit::new(
        config.limits.session_requests_per_minute_per_source,
        &config.tls,
        "sessions",
        "limits.session_requests_per_minute_per_source",
    );
    let logout_routes = Router::new()
        .route("/backchannel-logout", post(backchannel_logout))
        .route_layer(from_fn_with_state(logouts, limit_requests));
    let session_routes = Router::new()
        .route("/sessions/status", get(listeners::status))
        .route("/sessions/events", get(listeners::events))
        .route_layer(from_fn_with_state(sessions, limit_requests));
    Router::new()
        .merge(logout_routes)
        .route("/jwks", get(jwks))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .merge(crate::relay::routes(config))
        .merge(session_routes)
        .with_state(broker)
}

/// Serves `broker` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    broker: Arc<Broker>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(broker).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The public keys registered with the provider as the JWKS endpoint URI (`private_key_jwt`).
async fn jwks(State(broker): State<Arc<Broker>>) -> Response {
    Json(broker.credential.jwks()).into_response()
}

/// Ready when the provider's discovery document can be had: without it no logout token can be
/// checked and no request relayed.
async fn ready(State(broker): State<Arc<Broker>>) -> Response {
    let (provider, store) = tokio::join!(broker.provider(SystemTime::now()), broker.store.check());
    let not_ready = match (provider, store) {
        (Ok(_), Ok(())) => return "ready".into_response(),
        (Err(error), _) => (error, "the provider cannot be reached"),
        (_, Err(error)) => (error.to_string(), "the store (Redis) cannot be reached"),
    };
    tracing::warn!(error = %not_ready.0, "not ready: {}", not_ready.1);
    (StatusCode::SERVICE_UNAVAILABLE, not_ready.1).into_response()
}

/// `POST /backchannel-logout` with `logout_token` (§2.5). 200 when the session is recorded as
/// ended (a replay changes nothing and is refused), 400 `invalid_request` for a token that
/// fails a rule (§2.8), 503 when the provider's keys cannot be had. Never a token in the log.
async fn backchannel_logout(State(broker): State<Arc<Broker>>, body: Bytes) -> Response {
    let now = SystemTime::now();
    if body.len() > MAX_LOGOUT_BODY {
        return refuse("the request is too large");
    }
    let tokens: Vec<String> = url::form_urlencoded::parse(&body)
        .filter(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned())
        .collect();
    let [token] = tokens.as_slice() else {
        return refuse("exactly one logout_token is required");
    };
    let metadata = match broker.provider(now).await {
        Ok(metadata) => metadata,
        Err(error) => return unavailable(&error),
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
            tracing::info!(outcome = "refused", code = error.code(), %error, "back-channel logout");
            return refuse("the logout token is not valid");
        }
        Err(error) => return unavailable(&error.to_string()),
    };
    // The end is recorded before the token's `jti`, so no failure between the two can lose a
    // logout: a `jti` seen means its end is kept, and the provider's retry after any failure
    // records the end again (ends are idempotent) and then the `jti`.
    match broker.store.seen(&request.jti, now).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::info!(outcome = "replay", "back-channel logout");
            return refuse("the logout token was already received");
        }
        Err(error) => return unavailable(&error.to_string()),
    }
    let end = SessionEnd {
        sid: request.sid.clone(),
        sub: request.sub.clone(),
        ended_at: careid_oidc::unix_seconds(now),
    };
    if let Err(error) = broker.store.end_session(end, now).await {
        return unavailable(&error.to_string());
    }
    let remember_until = now + LOGOUT_TOKEN_MAX_AGE + CLOCK_SKEW * 2;
    // `false` here is the same token delivered twice at once, to this replica or another: its
    // end is recorded either way.
    if let Err(error) = broker
        .store
        .first_sighting(&request.jti, remember_until, now)
        .await
    {
        return unavailable(&error.to_string());
    }
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

fn unavailable(error: &str) -> Response {
    tracing::warn!(%error, outcome = "unavailable", "back-channel logout");
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        None,
    )
}
