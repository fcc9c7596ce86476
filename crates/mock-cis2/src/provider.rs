//! The running provider's shared state and the small primitives every endpoint uses: the clock,
//! random values (RFC 6749 §10.10), and the lifetimes of what it issues.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::activity::Activity;
use crate::assertion::SeenJtis;
use crate::auto_login_admin::AutoLoginSetting;
use crate::clients::ClientRegistry;
use crate::discovery::Issuer;
use crate::faults::Faults;
use crate::keys::SigningKeys;
use crate::logout::Backchannel;
use crate::modes::Modes;
use crate::sessions::Sessions;
use crate::sign_in::AutoLogin;
use crate::state_file::Persistence;
use crate::store::{Store, UnixTime};
use crate::users::Directory;
use crate::webauthn::WebAuthn;

/// Lifetimes and claim spellings chosen at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Access and ID tokens: about an hour in CIS2 fixtures.
    pub token_lifetime: u64,
    /// Refresh tokens, and the grant behind them.
    pub refresh_token_lifetime: u64,
    /// Random bytes in a refresh token (base64url: 4/3 as many characters).
    pub refresh_token_bytes: usize,
    /// Authorization codes: 60 seconds.
    pub code_lifetime: u64,
    /// How long the sign-in page's pending request stays usable.
    pub sign_in_lifetime: u64,
    /// How long an SSO session lives after authentication.
    pub session_lifetime: u64,
    /// Whether pushed authorization requests (RFC 9126) are offered, required or off.
    pub pushed_requests: PushedRequests,
    /// The methods the revocation endpoint takes, when they differ from the token endpoint's.
    pub revocation_auth_methods: Option<Vec<crate::clients::ClientAuthMethod>>,
    /// The methods the token and PAR endpoints take, when narrowed from every client's own.
    pub token_auth_methods: Option<Vec<crate::clients::ClientAuthMethod>>,
}

/// Whether the provider offers pushed authorization requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushedRequests {
    /// Advertised and accepted; requests at the authorization endpoint still work.
    #[default]
    Offered,
    /// Advertised with `require_pushed_authorization_requests`: every request must be pushed.
    Required,
    /// Neither advertised nor accepted, as CIS2 today.
    Off,
}

/// Everything an endpoint handler may read.
#[derive(Debug)]
pub(crate) struct Provider {
    pub issuer: Issuer,
    /// The issuer's path: where the endpoints are routed, and what the sign-in form posts to.
    pub base_path: String,
    pub keys: SigningKeys,
    pub users: Directory,
    pub clients: ClientRegistry,
    pub store: Store,
    /// Pushed authorization requests waiting for the browser (RFC 9126).
    pub pushed: crate::par::PushedStore,
    pub sessions: Sessions,
    pub settings: Settings,
    /// Who is signed in without a page, if anyone; changed at run time by the admin endpoint.
    pub auto_login: AutoLoginSetting,
    /// Client assertion `jti`s already accepted (RFC 7523 §3 item 7), swept with the store.
    pub seen_jtis: SeenJtis,
    /// Faults armed for negative testing.
    pub faults: Faults,
    /// Modes switched on: CIS2 as it may really be.
    pub modes: Modes,
    /// Fetches `private_key_jwt` clients' `jwks_uri`.
    pub http: reqwest::Client,
    /// Sends back-channel logout tokens and remembers what became of them.
    pub backchannel: Backchannel,
    /// The request log and issued tokens' claims, for the admin page.
    pub activity: Activity,
    /// The admin page's CSRF token: random per process, embedded in its forms.
    pub admin_form_token: String,
    /// The state file, when one is configured (`MockCis2::state_file`).
    pub persistence: Option<Persistence>,
    /// The WebAuthn relying party: ceremonies under way and registered credentials.
    pub webauthn: WebAuthn,
    rng: SystemRandom,
}

/// A builder for the mock's own requests (`jwks_uri` fetches, back-channel logout tokens): TLS
/// with rustls on aws-lc-rs, the mock's crypto library, given to each client rather than taken
/// from the process's default; Mozilla's roots; TLS 1.2 and 1.3; HTTP/1.1.
pub(crate) fn http_client() -> reqwest::ClientBuilder {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs has TLS 1.2 and 1.3 cipher suites")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder().use_preconfigured_tls(tls)
}

impl Provider {
    pub fn new(
        issuer: Issuer,
        base_path: String,
        keys: SigningKeys,
        users: Directory,
        clients: ClientRegistry,
        settings: Settings,
        auto_login: Option<AutoLogin>,
    ) -> Self {
        let rng = SystemRandom::new();
        let webauthn = WebAuthn::for_issuer(issuer.as_str());
        Self {
            issuer,
            base_path,
            keys,
            users,
            clients,
            store: Store::default(),
            pushed: crate::par::PushedStore::default(),
            sessions: Sessions::default(),
            settings,
            auto_login: AutoLoginSetting::new(auto_login),
            seen_jtis: SeenJtis::default(),
            faults: Faults::default(),
            modes: Modes::default(),
            http: http_client().build().expect("an HTTP client"),
            backchannel: Backchannel::default(),
            activity: Activity::default(),
            admin_form_token: random_with(&rng, 32),
            persistence: None,
            webauthn,
            rng,
        }
    }

    /// A random, URL-safe value of `bytes` bytes of entropy: codes, tokens, session ids.
    pub fn random(&self, bytes: usize) -> String {
        random_with(&self.rng, bytes)
    }
}

fn random_with(rng: &SystemRandom, bytes: usize) -> String {
    let mut buffer = vec![0; bytes];
    rng.fill(&mut buffer)
        .expect("the system random source is available");
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The current time as the store and the token claims count it.
pub(crate) fn now() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
