//! Configuring and running the provider: the `MockCis2` builder, the listeners on `127.0.0.1`
//! and `::1`, the routes under the issuer's path, the expiry sweeper, and graceful shutdown.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::activity::{IssuedToken, LoggedRequest};
use crate::clients::{ClientAuthMethod, ClientRegistry};
use crate::discovery::Issuer;
use crate::error::StartError;
use crate::faults::{ArmedFault, Fault};
use crate::keys::SigningKeys;
use crate::logout::{BackchannelDelivery, SessionEndReason};
use crate::modes::Mode;
use crate::provider::PushedRequests;
use crate::provider::{now, Provider, Settings};
use crate::sessions::SessionInfo;
use crate::sign_in::AutoLogin;
use crate::state_file::{self, Persistence};
use crate::store::StoreCounts;
use crate::users::Directory;
use crate::webauthn::WebAuthnCredential;
use crate::{activity, admin, auto_login_admin, modes};
use crate::{authorize, discovery, faults, jwks, revoke, sign_in, token, userinfo};
use crate::{end_session, introspect, par};

/// The placeholder an issuer override may hold for the port, which is only known once bound.
pub const PORT_PLACEHOLDER: &str = "{port}";

/// How to run a mock CIS2 provider. Every setting has a default that imitates CIS2.
#[derive(Debug, Clone)]
pub struct MockCis2 {
    issuer: Option<String>,
    port: u16,
    users: Directory,
    clients: ClientRegistry,
    auto_login: Option<AutoLogin>,
    token_lifetime: Duration,
    refresh_token_lifetime: Duration,
    refresh_token_bytes: usize,
    code_lifetime: Duration,
    session_lifetime: Duration,
    sweep_interval: Duration,
    faults: Vec<ArmedFault>,
    modes: Vec<Mode>,
    state_file: Option<PathBuf>,
    pushed_requests: PushedRequests,
    revocation_auth_methods: Option<Vec<ClientAuthMethod>>,
    token_auth_methods: Option<Vec<ClientAuthMethod>>,
    broker: Option<String>,
}

impl Default for MockCis2 {
    fn default() -> Self {
        Self {
            issuer: None,
            port: 0,
            users: Directory::builtin(),
            clients: ClientRegistry::builtin(),
            auto_login: None,
            token_lifetime: Duration::from_secs(3600),
            refresh_token_lifetime: Duration::from_secs(12 * 3600),
            refresh_token_bytes: 32,
            code_lifetime: Duration::from_secs(60),
            session_lifetime: Duration::from_secs(12 * 3600),
            sweep_interval: Duration::from_secs(5),
            faults: Vec::new(),
            modes: Vec::new(),
            state_file: None,
            pushed_requests: PushedRequests::default(),
            revocation_auth_methods: None,
            token_auth_methods: None,
            broker: None,
        }
    }
}

impl MockCis2 {
    pub fn new() -> Self {
        Self::default()
    }

    /// The issuer string, used exactly as written (`{port}` is replaced by the bound port). Its
    /// path is where the endpoints are served. Defaults to `http://localhost:{port}` followed by
    /// CIS2's realm path.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The port to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    pub fn users(mut self, users: Directory) -> Self {
        self.users = users;
        self
    }

    pub fn clients(mut self, clients: ClientRegistry) -> Self {
        self.clients = clients;
        self
    }

    /// Registers a careid broker at `broker_url` (its public URL) beside the other clients, as
    /// CIS2 would: client [`crate::BROKER_CLIENT_ID`], `private_key_jwt` with `jwks_uri =
    /// {broker}/jwks`, `backchannel_logout_uri = {broker}/backchannel-logout`, and loopback
    /// redirect URIs ([`crate::broker_client`]). Applied at `start`, after [`MockCis2::clients`].
    pub fn broker(mut self, broker_url: impl Into<String>) -> Self {
        self.broker = Some(broker_url.into());
        self
    }

    /// Whether pushed authorization requests (RFC 9126) are offered (the default), required,
    /// or off (as CIS2 publishes today).
    pub fn pushed_requests(mut self, pushed: PushedRequests) -> Self {
        self.pushed_requests = pushed;
        self
    }

    /// Publishes `revocation_endpoint_auth_methods_supported` and holds revocation requests to
    /// it, whatever method a client is registered with at the token endpoint: a provider that
    /// takes, say, only the client secret there. By default revocation takes each client's
    /// token endpoint method, and discovery says nothing.
    pub fn revocation_auth_methods(mut self, methods: &[ClientAuthMethod]) -> Self {
        self.revocation_auth_methods = Some(methods.to_vec());
        self
    }

    /// Publishes `token_endpoint_auth_methods_supported` as `methods` alone and holds the token
    /// and PAR endpoints to them: a provider that takes, say, `private_key_jwt` only, where a
    /// client registered with another method is answered `invalid_client`. By default the list is
    /// CIS2's four methods and `none`, and each client uses its registered method.
    pub fn token_endpoint_auth_methods(mut self, methods: &[ClientAuthMethod]) -> Self {
        self.token_auth_methods = Some(methods.to_vec());
        self
    }

    /// Signs this user in without a page.
    pub fn auto_login(mut self, auto_login: AutoLogin) -> Self {
        self.auto_login = Some(auto_login);
        self
    }

    /// Emits `id_assurance_level` and `authentication_assurance_level` as numbers instead of
    /// CIS2's more common strings: the mode [`Mode::AssuranceLevelsAsNumbers`].
    pub fn assurance_levels_as_numbers(mut self, numbers: bool) -> Self {
        self.modes
            .retain(|mode| *mode != Mode::AssuranceLevelsAsNumbers);
        if numbers {
            self.modes.push(Mode::AssuranceLevelsAsNumbers);
        }
        self
    }

    /// Switches a mode on from the start (see `MODES.md`); a later mode of the same name
    /// replaces an earlier one.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.modes.push(mode);
        self
    }

    /// The lifetime of access and ID tokens (one hour by default).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The lifetime of refresh tokens (twelve hours by default, CIS2's absolute session limit).
    /// Makes refresh tokens `bytes` random bytes long (default 32), to test clients with
    /// tokens as large as some providers issue (a 4 KiB token is over Windows' 2,560-byte
    /// credential limit).
    pub fn refresh_token_bytes(mut self, bytes: usize) -> Self {
        self.refresh_token_bytes = bytes.max(16);
        self
    }

    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// The lifetime of authorization codes (60 seconds by default). A spent code is kept this
    /// long, so that a replay is recognised and revokes what the code issued.
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// The lifetime of an SSO session from authentication (twelve hours by default, CIS2's
    /// absolute session limit).
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }

    /// How often expired codes, tokens and sign-ins are removed.
    pub fn sweep_interval(mut self, interval: Duration) -> Self {
        self.sweep_interval = interval;
        self
    }

    /// Keeps the state that outlives a process in this file: signing keys, codes, grants,
    /// access and refresh tokens (rotation and revocation included) and SSO sessions. `start`
    /// loads it when it exists (a damaged or other-version file is logged and ignored), and it is
    /// rewritten atomically, mode 0600 on Unix, after every request that changed it, before the
    /// response is sent. Expired entries are dropped. Started again on the file with no port
    /// chosen, the provider comes back on its last port, so its issuer stays what its sessions'
    /// tokens carry; when another program has that port, `start` fails with
    /// [`StartError::PortTaken`] rather than move. The file holds private keys and live tokens of
    /// this mock: keep it out of shared places.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Arms a fault from the start (see `FAULTS.md`).
    pub fn fault(mut self, fault: ArmedFault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Starts the provider on `127.0.0.1` and, when available, `::1`, on one port.
    pub async fn start(self) -> Result<RunningMock, StartError> {
        if let Some(auto_login) = &self.auto_login {
            auto_login.check(&self.users)?;
        }
        // Reading the file parses RSA keys and generating them takes tens of milliseconds:
        // both off the async runtime's threads.
        let state_path = self.state_file.clone();
        let (keys, restored) = tokio::task::spawn_blocking(move || {
            match state_path.as_deref().and_then(state_file::load) {
                Some((keys, restored)) => Ok((keys, Some(restored))),
                None => SigningKeys::generate().map(|keys| (keys, None)),
            }
        })
        .await
        .map_err(|_| StartError::KeyGeneration)??;
        // A restored provider comes back where it was, so the issuer its sessions' tokens carry
        // stays the same; when another program has that port, it does not start at all.
        let last_port = restored
            .as_ref()
            .and_then(|restored| restored.issuers.last())
            .and_then(|issuer| url::Url::parse(issuer).ok()?.port_or_known_default());
        let (listeners, port) = match (self.port, last_port) {
            (0, Some(last)) => bind_both(last).await?,
            _ => bind(self.port).await?,
        };
        let issuer = match &self.issuer {
            Some(issuer) => Issuer::exact(issuer.replace(PORT_PLACEHOLDER, &port.to_string())),
            None => Issuer::localhost(port),
        };
        let base_path = base_path(issuer.as_str())?;
        tracing::warn!(
            issuer = issuer.as_str(),
            restored = restored.is_some(),
            "mock CIS2 signs with DEVELOPMENT keys: nothing it issues is a real NHS credential"
        );

        let settings = Settings {
            token_lifetime: self.token_lifetime.as_secs().max(1),
            refresh_token_lifetime: self.refresh_token_lifetime.as_secs().max(1),
            refresh_token_bytes: self.refresh_token_bytes,
            code_lifetime: self.code_lifetime.as_secs().max(1),
            sign_in_lifetime: 600,
            session_lifetime: self.session_lifetime.as_secs().max(1),
            pushed_requests: self.pushed_requests,
            revocation_auth_methods: self.revocation_auth_methods,
            token_auth_methods: self.token_auth_methods,
        };
        let clients = match &self.broker {
            Some(broker) => self.clients.with(crate::clients::broker_client(broker)),
            None => self.clients,
        };
        let mut provider = Provider::new(
            issuer.clone(),
            base_path.clone(),
            keys,
            self.users,
            clients,
            settings,
            self.auto_login,
        );
        if let Some(path) = self.state_file {
            let earlier_issuers = match restored {
                Some(restored) => {
                    provider.store.restore(restored.store, now());
                    provider.sessions.restore(restored.sessions, now());
                    provider.webauthn.restore(restored.webauthn);
                    restored.issuers
                }
                None => Vec::new(),
            };
            provider.persistence = Some(Persistence::new(path, earlier_issuers, issuer.as_str()));
        }
        let provider = Arc::new(provider);
        // At once, so that the keys are kept even if nothing else happens, and a damaged file is
        // replaced.
        provider.save_state();
        for fault in self.faults {
            provider.faults.arm(fault);
        }
        for mode in self.modes {
            provider.modes.switch_on(mode);
        }
        let app = router(&base_path, provider.clone());

        let (shutdown, signal) = watch::channel(false);
        let mut addresses = Vec::new();
        let mut tasks = Vec::new();
        for listener in listeners {
            if let Ok(address) = listener.local_addr() {
                addresses.push(address);
            }
            let mut signal = signal.clone();
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let stopped = async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                };
                // The admin endpoint needs the peer address to refuse non-loopback callers.
                let app = app.into_make_service_with_connect_info::<SocketAddr>();
                if let Err(error) = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(%error, "mock CIS2 listener failed");
                }
            }));
        }
        tasks.push(tokio::spawn(sweep(
            provider.clone(),
            self.sweep_interval,
            signal,
        )));
        tracing::info!(
            issuer = issuer.as_str(),
            ?addresses,
            "mock CIS2 is listening"
        );
        Ok(RunningMock {
            issuer,
            port,
            addresses,
            provider,
            shutdown,
            tasks: std::sync::Mutex::new(tasks),
        })
    }
}

/// Binds `127.0.0.1:port`, then `[::1]` on the same port. An ephemeral IPv4 port may be taken on
/// IPv6, so that case retries with a new port; a machine without IPv6 loopback gets IPv4 alone.
async fn bind(port: u16) -> Result<(Vec<TcpListener>, u16), StartError> {
    const ATTEMPTS: usize = 10;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let v4_address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let bind_error = |source| StartError::Bind {
            address: v4_address.to_string(),
            source,
        };
        let v4 = TcpListener::bind(v4_address).await.map_err(bind_error)?;
        let bound = v4.local_addr().map_err(bind_error)?.port();
        match TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, bound))).await {
            Ok(v6) => return Ok((vec![v4, v6], bound)),
            Err(error)
                if error.kind() == std::io::ErrorKind::AddrInUse
                    && port == 0
                    && attempt < ATTEMPTS => {}
            Err(error) => {
                tracing::warn!(%error, port = bound, "mock CIS2 is not listening on [::1]; 127.0.0.1 only");
                return Ok((vec![v4], bound));
            }
        }
    }
}

/// Binds `port` on both loopback addresses, or nothing: a port that is half taken would send a
/// browser that resolves `localhost` to `::1` to another program.
async fn bind_both(port: u16) -> Result<(Vec<TcpListener>, u16), StartError> {
    let taken = |address: SocketAddr, source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            StartError::PortTaken { port }
        } else {
            StartError::Bind {
                address: address.to_string(),
                source,
            }
        }
    };
    let v4_address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let v4 = TcpListener::bind(v4_address)
        .await
        .map_err(|source| taken(v4_address, source))?;
    let v6_address = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
    match TcpListener::bind(v6_address).await {
        Ok(v6) => Ok((vec![v4, v6], port)),
        Err(source) if source.kind() == std::io::ErrorKind::AddrInUse => {
            Err(taken(v6_address, source))
        }
        // No IPv6 loopback on this machine: nobody else can have it either.
        Err(_) => Ok((vec![v4], port)),
    }
}

/// The issuer's path without a trailing slash: the prefix of every route.
fn base_path(issuer: &str) -> Result<String, StartError> {
    let invalid = || StartError::InvalidIssuer {
        issuer: issuer.to_owned(),
    };
    let url = url::Url::parse(issuer).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.has_host()
    {
        return Err(invalid());
    }
    Ok(url.path().trim_end_matches('/').to_owned())
}

fn router(base_path: &str, provider: Arc<Provider>) -> Router {
    let endpoints = Router::new()
        .route("/.well-known/openid-configuration", get(discovery::handle))
        .route("/connect/jwk_uri", get(jwks::handle))
        .route("/authorize", get(authorize::handle))
        .route("/par", post(par::handle))
        .route(
            "/authorize/sign-in",
            get(sign_in::show).post(sign_in::submit),
        )
        .route("/authorize/webauthn.js", get(crate::webauthn_pages::script))
        .route("/access_token", post(token::handle))
        .route("/userinfo", get(userinfo::handle).post(userinfo::handle))
        .route("/token/revoke", post(revoke::handle))
        .route("/introspect", post(introspect::handle))
        .route(
            "/connect/endSession",
            get(end_session::show).post(end_session::submit),
        )
        .layer(middleware::from_fn_with_state(
            provider.clone(),
            faults::middleware,
        ))
        // Outside the fault layer, so faulted answers are logged as the client saw them; before
        // the admin routes, so looking at the log does not change it.
        .layer(middleware::from_fn_with_state(
            provider.clone(),
            activity::record,
        ))
        // Added after the fault layer, so no fault can lock the tester out of clearing faults.
        .route(
            "/admin/faults",
            get(faults::admin_list)
                .post(faults::admin_arm)
                .delete(faults::admin_clear),
        )
        .route(
            "/admin/modes",
            get(modes::admin_list)
                .post(modes::admin_set)
                .delete(modes::admin_switch_off_all),
        )
        .route(
            "/admin/auto-login",
            get(auto_login_admin::show)
                .put(auto_login_admin::set)
                .delete(auto_login_admin::clear),
        )
        .route("/admin", get(admin::show))
        .route("/admin/sessions/end", post(admin::end_session))
        .route("/admin/keys/rotate", post(admin::rotate_keys))
        .route("/admin/keys/retire", post(admin::retire_keys))
        .route("/admin/faults/arm", post(admin::arm_fault))
        .route("/admin/faults/clear", post(admin::clear_faults))
        .route("/admin/modes/on", post(admin::switch_mode_on))
        .route("/admin/modes/off", post(admin::switch_mode_off))
        // Outermost: what a request changed is on disk before its answer is sent.
        .layer(middleware::from_fn_with_state(
            provider.clone(),
            state_file::save_after,
        ))
        .with_state(provider);
    if base_path.is_empty() {
        endpoints
    } else {
        Router::new().nest(base_path, endpoints)
    }
}

/// Removes expired state at every interval until shutdown.
async fn sweep(provider: Arc<Provider>, interval: Duration, mut signal: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                provider.store.sweep(now());
                provider.sweep_sessions(now());
                provider.seen_jtis.sweep(now());
                provider.save_state();
            }
            _ = signal.wait_for(|stop| *stop) => return,
        }
    }
}

/// A running provider. Dropping it stops the listeners; [`RunningMock::shutdown`] also waits
/// for them to finish.
#[derive(Debug)]
pub struct RunningMock {
    issuer: Issuer,
    port: u16,
    addresses: Vec<SocketAddr>,
    provider: Arc<Provider>,
    shutdown: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl RunningMock {
    /// The issuer string exactly as it appears in discovery and tokens.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket addresses listened on: `127.0.0.1`, and `[::1]` where available.
    pub fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    /// The registered clients, for printing the credentials to use.
    pub fn clients(&self) -> &ClientRegistry {
        &self.provider.clients
    }

    /// How much state is held: codes, grants and tokens not yet swept.
    pub fn store_counts(&self) -> StoreCounts {
        self.provider.store.counts()
    }

    /// Removes expired state now rather than at the next interval.
    pub fn sweep_now(&self) {
        self.provider.store.sweep(now());
        self.provider.sweep_sessions(now());
        self.provider.seen_jtis.sweep(now());
        self.provider.save_state();
    }

    /// The live SSO sessions, oldest sign-in first: for the admin page, and for tests.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.provider.sessions.list(now())
    }

    /// Ends the SSO session with this `sid`, as a removed smartcard would: the browser's next
    /// authorize must sign in again, the session's tokens are revoked, and its clients get a
    /// back-channel logout token. `false` when no such session was live.
    pub fn end_session(&self, sid: &str) -> bool {
        let ended = self.provider.end_session(sid, SessionEndReason::Ended);
        self.provider.save_state();
        ended
    }

    /// The back-channel logout POSTs that have finished (at most the latest 256), oldest first.
    /// Sends are asynchronous, so a delivery appears shortly after the session ends.
    pub fn backchannel_deliveries(&self) -> Vec<BackchannelDelivery> {
        self.provider.backchannel.deliveries()
    }

    /// The WebAuthn credentials test users have registered (security key, Windows Hello,
    /// passkey), oldest first: never their keys, and only the start of their ids.
    pub fn webauthn_credentials(&self) -> Vec<WebAuthnCredential> {
        self.provider.webauthn.list()
    }

    /// Forgets `user_id`'s WebAuthn credentials, so the next real ceremony registers anew;
    /// how many there were.
    pub fn remove_webauthn_credentials(&self, user_id: &str) -> usize {
        let removed = self.provider.webauthn.remove(user_id, None);
        self.provider.save_state();
        removed
    }

    /// Arms a fault for `count` requests, or until cleared when `None`.
    pub fn arm_fault(&self, fault: Fault, count: Option<u32>) {
        self.provider.faults.arm(ArmedFault {
            fault,
            remaining: count.filter(|count| *count > 0),
        });
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.provider.faults.clear();
    }

    /// The armed faults with the requests each has left.
    pub fn armed_faults(&self) -> Vec<ArmedFault> {
        self.provider.faults.list()
    }

    /// Switches a mode on, replacing the mode of the same name if it is on.
    pub fn switch_on(&self, mode: Mode) {
        self.provider.modes.switch_on(mode);
    }

    /// Switches off the mode of this name (a [`Mode::name`], without a value); `false` when it
    /// was not on.
    pub fn switch_off(&self, name: &str) -> bool {
        self.provider.modes.switch_off(name)
    }

    /// Switches every mode off.
    pub fn switch_off_modes(&self) {
        self.provider.modes.switch_off_all();
    }

    /// The modes switched on.
    pub fn modes(&self) -> Vec<Mode> {
        self.provider.modes.list()
    }

    /// The URL of the loopback-only admin endpoint for modes.
    pub fn admin_modes_url(&self) -> String {
        self.issuer.endpoint("/admin/modes")
    }

    /// The URL of the loopback-only admin page: sessions, keys, faults, modes, tokens, request
    /// log.
    pub fn admin_url(&self) -> String {
        self.issuer.endpoint("/admin")
    }

    /// The requests answered, in arrival order: the last 1,000, each with its endpoint (never
    /// its query or body), status and duration. The admin endpoints are not logged.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.provider.activity.requests()
    }

    /// The claims of the last 200 ID and access tokens issued, oldest first; never the tokens.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.provider.activity.tokens()
    }

    /// Signs this user in without a page from the next authorization request on (`None`: the
    /// sign-in pages again); refused when it names an unknown user, authenticator or role.
    /// Returns the auto-login it replaced.
    pub fn set_auto_login(
        &self,
        auto_login: Option<AutoLogin>,
    ) -> Result<Option<AutoLogin>, StartError> {
        self.provider
            .auto_login
            .set(auto_login, &self.provider.users)
    }

    /// The auto-login in force.
    pub fn auto_login(&self) -> Option<AutoLogin> {
        self.provider.auto_login.current()
    }

    /// The URL of the loopback-only admin endpoint for auto-login (`GET`, `PUT`, `DELETE`).
    pub fn admin_auto_login_url(&self) -> String {
        self.issuer.endpoint("/admin/auto-login")
    }

    /// The URL of the loopback-only admin endpoint for faults.
    pub fn admin_faults_url(&self) -> String {
        self.issuer.endpoint("/admin/faults")
    }

    /// Generates new signing keys with new `kid`s and makes them current. The previous keys stay
    /// in the JWKS, so tokens they signed still verify, until [`RunningMock::retire_old_keys`].
    pub async fn rotate_keys(&self) -> Result<(), StartError> {
        self.provider.rotate_keys().await?;
        self.provider.save_state();
        Ok(())
    }

    /// Removes every key but the current ones from the JWKS.
    pub fn retire_old_keys(&self) {
        self.provider.retire_old_keys();
        self.provider.save_state();
    }

    /// The state file, when one was configured with [`MockCis2::state_file`].
    pub fn state_file(&self) -> Option<&std::path::Path> {
        self.provider.persistence.as_ref().map(Persistence::path)
    }

    /// The JWK Set as published now.
    pub fn jwks(&self) -> serde_json::Value {
        self.provider.keys.jwks()
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the tasks.
    pub async fn shutdown(self) {
        self.stop().await;
    }

    /// [`Self::shutdown`] through a shared handle: stops listening at once, finishes the
    /// requests under way (each writes the state file before it answers), then writes the state
    /// file. Once it returns, another provider may start on the same port and state file and
    /// carry on exactly where this one stopped.
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        let tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for task in tasks {
            let _ = task.await;
        }
        // Everything is written as it changes; this catches a change made outside a request.
        self.provider.save_state();
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_live_under_the_issuer_path() {
        let cases = [
            (
                "http://localhost:1/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare",
                Some("/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"),
            ),
            ("https://am.example:443/realm/", Some("/realm")),
            ("http://localhost:1", Some("")),
            ("http://localhost:1/realm?x=1", None),
            ("localhost/realm", None),
        ];
        for (issuer, expected) in cases {
            assert_eq!(base_path(issuer).ok().as_deref(), expected, "{issuer}");
        }
    }
}
