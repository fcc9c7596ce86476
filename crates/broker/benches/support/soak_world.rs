//! The soak's world (`broker-soak.rs`): a provider of the bench's own (discovery, keys, and a token
//! endpoint that exchanges codes and rotates refresh tokens) and the broker's replicas as
//! processes, to start, kill and start again.

use super::*;

/// The provider's token endpoint: codes it issued (to the bench, standing in for the browser)
/// and the refresh tokens it holds, each valid once.
pub(super) struct Grants {
    pub(super) issuer: OnceLock<String>,
    pub(super) key: Arc<RsaTestKey>,
    /// The `Authorization` header of the broker's `client_secret_basic`.
    pub(super) authorization: String,
    pub(super) state: Mutex<GrantState>,
}

#[derive(Default)]
pub(super) struct GrantState {
    /// Code → (PKCE challenge, relay chain).
    pub(super) codes: HashMap<String, (String, usize)>,
    /// Refresh token → relay chain.
    pub(super) refresh_tokens: HashMap<String, usize>,
    pub(super) issued: u64,
}

impl Grants {
    /// A code for chain `chain`'s sign-in with the PKCE `challenge`, as the provider's
    /// authorization endpoint would redirect with.
    pub(super) fn issue_code(&self, challenge: String, chain: usize) -> String {
        let code = format!("code-{}", random_jti());
        lock(&self.state)
            .codes
            .insert(code.clone(), (challenge, chain));
        code
    }
}

pub(super) fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

/// `POST /token`: `authorization_code` (PKCE checked) and `refresh_token` (rotated: each refresh
/// token is taken once), for the broker's client authenticated with `client_secret_basic`.
pub(super) async fn token_endpoint(
    State(grants): State<Arc<Grants>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if authorization != Some(grants.authorization.as_str()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let mut state = lock(&grants.state);
    let (chain, exchanged) = match field("grant_type") {
        "authorization_code" => {
            let Some((challenge, chain)) = state.codes.remove(field("code")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if field("redirect_uri") != REDIRECT
                || s256_challenge(field("code_verifier")) != challenge
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            (chain, true)
        }
        "refresh_token" => match state.refresh_tokens.remove(field("refresh_token")) {
            Some(chain) => (chain, false),
            None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
        },
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    state.issued += 1;
    let refresh_token = format!("rt-{chain}-{}-{}", state.issued, random_jti());
    state.refresh_tokens.insert(refresh_token.clone(), chain);
    drop(state);
    let mut answer = json!({
        "access_token": random_jti(),
        "token_type": "Bearer",
        "expires_in": 300,
        "refresh_token": refresh_token,
    });
    if exchanged {
        let issuer = grants.issuer.get().expect("the issuer");
        let claims = session_id_token_claims(
            issuer,
            CLIENT_ID,
            &format!("8{chain:011}"),
            &format!("relay-session-{chain}-{}", random_jti()),
            now_seconds() - 60,
        );
        answer["id_token"] = json!(sign(&grants.key, &claims));
    }
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(answer)).into_response()
}

/// The provider: discovery, keys and the token endpoint on loopback.
pub(super) struct Provider {
    pub(super) issuer: String,
    pub(super) key: Arc<RsaTestKey>,
    pub(super) grants: Arc<Grants>,
    pub(super) _server: TestProvider,
}

impl Provider {
    pub(super) async fn start() -> Self {
        let key = Arc::new(RsaTestKey::generate());
        let mut jwk = key.jwk(KID);
        jwk["alg"] = json!("RS256");
        let grants = Arc::new(Grants {
            issuer: OnceLock::new(),
            key: key.clone(),
            authorization: format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{SECRET}"))),
            state: Mutex::new(GrantState::default()),
        });
        let routes = axum::Router::new()
            .route("/token", axum::routing::post(token_endpoint))
            .with_state(grants.clone());
        let server = TestProvider::start_with_routes(
            |issuer| {
                let mut document = provider_document(issuer, &["RS256"]);
                document["token_endpoint_auth_methods_supported"] = json!(["client_secret_basic"]);
                document["grant_types_supported"] = json!(["authorization_code", "refresh_token"]);
                document["backchannel_logout_supported"] = json!(true);
                document["backchannel_logout_session_supported"] = json!(true);
                document
            },
            json!({ "keys": [jwk] }),
            routes,
        )
        .await;
        grants
            .issuer
            .set(server.issuer.clone())
            .expect("the issuer, once");
        Self {
            issuer: server.issuer.clone(),
            key,
            grants,
            _server: server,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The replicas and Redis.

/// One replica: the `careid-broker` program on its own configuration, its log in a file.
pub(super) struct Replica {
    pub(super) name: &'static str,
    pub(super) config: PathBuf,
    pub(super) log: PathBuf,
    pub(super) public_url: String,
    pub(super) internal_url: String,
    pub(super) child: Option<tokio::process::Child>,
}

impl Replica {
    pub(super) fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the replica's log");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_careid-broker"))
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("the careid-broker program");
        self.child = Some(child);
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }

    /// SIGKILL, as a crashed host or an OOM kill would end it.
    pub(super) async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Waits until its `/readyz` answers 200 (the provider and Redis reachable).
    pub(super) async fn ready(&mut self, http: &reqwest::Client) -> Result<(), String> {
        let deadline = Instant::now() + HEAL_WITHIN;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "replica {} stopped ({status}): see {}",
                        self.name,
                        self.log.display()
                    ));
                }
            }
            let ready = http
                .get(format!("{}/readyz", self.internal_url))
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if ready.is_ok_and(|answer| answer.status() == 200) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("replica {} not ready in time", self.name));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A loopback port free now (the replica binds it a moment later).
pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a loopback port")
        .port()
}

/// Writes replica `name`'s configuration in `dir`: its own ports, the shared Redis, prefix,
/// credential and handle key (beside the credential), and limits raised for a machine from
/// which every client comes.
pub(super) fn replica(
    dir: &Path,
    name: &'static str,
    issuer: &str,
    redis_url: &str,
    listeners: usize,
) -> Replica {
    let (public_port, internal_port) = (free_port(), free_port());
    let public_url = format!("http://127.0.0.1:{public_port}");
    let internal_url = format!("http://127.0.0.1:{internal_port}");
    let (public_listen, internal_listen) = (
        format!("127.0.0.1:{public_port}"),
        format!("127.0.0.1:{internal_port}"),
    );
    let credential = dir.join("secret");
    if !credential.exists() {
        owner_only_file(dir, "secret", SECRET);
    }
    let toml = BrokerToml {
        public_listen: &public_listen,
        internal_listen: &internal_listen,
        ..BrokerToml::new(
            &public_url,
            &internal_url,
            issuer,
            CLIENT_ID,
            "client_secret_basic",
            &credential,
            REDIRECT,
        )
    };
    // Every client, the relays and the logouts come from 127.0.0.1: one source, one address;
    // every relay chain refreshes for the one user the bench's provider signs in, and each
    // chain's key refreshes once a second, past a real install's 30 a minute.
    let tables = format!(
        "[store]\nkind = \"redis\"\nurl = \"{redis_url}\"\nprefix = \"{PREFIX}\"\n\
         [limits]\nrequests_per_minute_per_source = 1000000\n\
         requests_per_minute_per_user = 1000000\n\
         requests_per_minute_per_key = 1000000\n\
         session_requests_per_minute_per_source = 1000000\n\
         logouts_per_minute_per_source = 1000000\n\
         max_connections_per_address = {}\nmax_listeners = {}\n",
        listeners + 1000,
        listeners + 1000,
    );
    let config = dir.join(format!("broker-{name}.toml"));
    std::fs::write(&config, toml.with_tables(&tables)).expect("the configuration");
    Replica {
        name,
        config,
        log: dir.join(format!("broker-{name}.log")),
        public_url,
        internal_url,
        child: None,
    }
}

/// How many replicas are subscribed to the ends' channel.
pub(super) async fn subscribers(redis_url: &str) -> Option<i64> {
    let client = redis::Client::open(redis_url).ok()?;
    let mut connection = client.get_multiplexed_async_connection().await.ok()?;
    let reply: Vec<redis::Value> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(format!("{PREFIX}ends"))
        .query_async(&mut connection)
        .await
        .ok()?;
    match reply.get(1) {
        Some(redis::Value::Int(count)) => Some(*count),
        _ => None,
    }
}
