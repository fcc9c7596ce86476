//! `broker.toml`: what the broker serves, for which provider and client, with which credential,
//! where it keeps its state. Read once at start and checked whole, so a mistake is named before
//! the broker listens. `broker.example.toml` beside this crate is the documented example.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use careid_oidc::{
    check_assertion_algorithm, is_secure, AssertionAlgorithm, ClientAuth, ClientId, IssuerKind,
    IssuerUrl, PlainHttp, RedirectUri, SigningAlgorithm,
};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// The listener the provider reaches: the back-channel logout URI and the JWKS URI
    /// registered with CIS2 are under its `url`. Nothing else is served there.
    pub public: ListenerConfig,
    /// The listener the trust's desktops reach: the relays, `/sessions/*`, the broker's
    /// document, readiness and metrics. Only on the trust's network, with mutual TLS where the
    /// trust has a device CA.
    pub internal: ListenerConfig,
    pub provider: ProviderConfig,
    pub clients: ClientsConfig,
    pub handles: HandlesConfig,
    pub store: StoreConfig,
    #[serde(default)]
    pub limits: Limits,
}

/// The one provider and client the broker relays for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Exactly as the provider publishes it (CIS2's `:443` included), held to the issuer rules
    /// as it is read.
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    /// `private_key_jwt` (with a PEM key), or one of the client-secret methods.
    pub client_auth: ClientAuth,
    /// A file only the broker's user can read: the PEM private key, or the client secret.
    pub credential_file: PathBuf,
    /// Before a key change: the next key, published in the JWKS (so the provider has it before
    /// its first use) but never signed with.
    #[serde(default)]
    pub next_credential_file: Option<PathBuf>,
    /// During a key change: the key being retired, still published in the JWKS.
    #[serde(default)]
    pub previous_credential_file: Option<PathBuf>,
    /// `RS256` or `RS512` for CIS2 (`private_key_jwt` only).
    #[serde(default)]
    pub assertion_algorithm: Option<AssertionAlgorithm>,
}

impl ProviderConfig {
    /// The `private_key_jwt` assertion algorithm, when one is set ([`BrokerConfig::parse`] has
    /// held it to CIS2's rule).
    pub fn signing_algorithm(&self) -> Option<SigningAlgorithm> {
        self.assertion_algorithm
            .and_then(AssertionAlgorithm::signing)
    }
}

/// Which careid clients the broker relays for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsConfig {
    /// The loopback redirect URIs registered with the provider: a code exchange naming any
    /// other is refused.
    pub redirect_uris: Vec<RedirectUri>,
}

/// The keys of the refresh handles the broker gives desktops in place of the provider's
/// refresh tokens, and of its DPoP nonces (`handle`, `dpop_nonce`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlesConfig {
    /// Owner-only files of 32 random bytes (`openssl rand -hex 32`): the current key first,
    /// then retiring ones, kept until the handles they sealed have come back re-sealed.
    pub key_files: Vec<PathBuf>,
}

/// One of the broker's two listeners.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// How it is reached (`https://`; `http://` on loopback only): the base of every URL the
    /// broker names for it, and of the DPoP `htu` it expects.
    pub url: String,
    pub tls: TlsConfig,
}

impl ListenerConfig {
    /// `path` under the listener's URL.
    pub fn url_for(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches('/'))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "mode")]
pub enum TlsConfig {
    /// TLS with rustls from PEM files.
    Files {
        certificate: PathBuf,
        key: PathBuf,
        /// The internal listener only: the trust's device CA (PEM). When set, every connection
        /// must present a client certificate that chains to it (mutual TLS, required).
        #[serde(default)]
        device_ca: Option<PathBuf>,
    },
    /// Plain HTTP: only behind a reverse proxy that terminates TLS. Its `X-Forwarded-For`
    /// counts only from a peer on loopback or in `trusted_proxies`; listening on a network
    /// address needs the list.
    BehindProxy {
        #[serde(default)]
        trusted_proxies: Vec<IpNetwork>,
    },
}

impl ListenerConfig {
    fn check(&self, name: &str) -> Result<(), String> {
        let url = url::Url::parse(&self.url)
            .map_err(|_| format!("{name}.url {:?} is not a URL", self.url))?;
        if !is_secure(&url, PlainHttp::OnLoopback) {
            return Err(format!(
                "{name}.url {:?} must use https (http is allowed on loopback only)",
                self.url
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{name}.url {:?} has a query or fragment", self.url));
        }
        if let TlsConfig::BehindProxy { trusted_proxies } = &self.tls {
            if !self.listen.ip().is_loopback() && trusted_proxies.is_empty() {
                return Err(format!(
                    "{name}.tls.mode = \"behind_proxy\" listens in plain HTTP on {}, a network \
                     address: name the proxy's addresses in {name}.tls.trusted_proxies, or \
                     listen on 127.0.0.1 behind a proxy on this machine",
                    self.listen
                ));
            }
        }
        Ok(())
    }
}

impl TlsConfig {
    /// Whether a request from `peer` comes through a proxy the broker trusts to say who the
    /// client is: one on this machine, or in `trusted_proxies`. Never with TLS of its own.
    pub fn trusts_proxy(&self, peer: IpAddr) -> bool {
        match self {
            Self::Files { .. } => false,
            Self::BehindProxy { trusted_proxies } => {
                peer.is_loopback() || trusted_proxies.iter().any(|network| network.contains(peer))
            }
        }
    }
}

/// An address range in CIDR notation (`10.1.0.0/16`, `2001:db8::/48`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl TryFrom<String> for IpNetwork {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let invalid = || format!("{text:?} is not an address or a CIDR range (10.1.0.0/16)");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.as_str(), None),
        };
        let address: IpAddr = address.trim().parse().map_err(|_| invalid())?;
        let longest = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= longest)
                .ok_or_else(invalid)?,
            None => longest,
        };
        Ok(Self { address, prefix })
    }
}

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "kind")]
pub enum StoreConfig {
    /// One process: kept in memory and in this file.
    Embedded { path: PathBuf },
    /// Several replicas: one Redis for all.
    Redis {
        /// `redis://` or `rediss://` (TLS). A password may be in the URL; better in
        /// `password_file`.
        url: String,
        /// A file holding the Redis password (readable by the broker's user only).
        #[serde(default)]
        password_file: Option<PathBuf>,
        /// `rediss://` only: a PEM file of the CA (or CAs) the Redis server's certificate must
        /// chain to, in place of the system's roots, so only the trust's own CA can vouch for
        /// its Redis.
        #[serde(default)]
        ca_file: Option<PathBuf>,
        /// Put before every key and channel name, so one Redis can serve several brokers.
        #[serde(default = "default_redis_prefix")]
        prefix: String,
    },
}

/// The key prefix when none is configured.
pub const DEFAULT_REDIS_PREFIX: &str = "careid-broker:";

fn default_redis_prefix() -> String {
    DEFAULT_REDIS_PREFIX.to_owned()
}

/// Never shows a password the Redis URL holds.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded { path } => f.debug_struct("Embedded").field("path", path).finish(),
            Self::Redis {
                url,
                password_file,
                ca_file,
                prefix,
            } => f
                .debug_struct("Redis")
                .field("url", &redacted_url(url))
                .field("password_file", password_file)
                .field("ca_file", ca_file)
                .field("prefix", prefix)
                .finish(),
        }
    }
}

/// `url` with any password replaced, for messages and logs.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("REDACTED"));
            }
            parsed.to_string()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// How much the broker takes: per source and minute, and listeners at once. The settings added
/// since the first are nonzero by type, so a zero is refused, and named, as the file is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Relayed requests one source address may make per minute.
    pub requests_per_minute_per_source: u32,
    /// Clients listening at once for their session's end; more are refused with 503.
    #[serde(default = "default_max_listeners")]
    pub max_listeners: usize,
    /// Connections one address may hold open on a listener; more are answered 503. Not
    /// counted for a trusted proxy, whose connections carry many clients.
    #[serde(default = "default_connections_per_address")]
    pub max_connections_per_address: usize,
    /// TLS handshakes one address may have in progress at once; more are closed unanswered.
    #[serde(default = "default_handshakes_per_address")]
    pub max_handshakes_per_address: usize,
    /// Listeners at once for one session (`sid`), so one stolen ID token cannot hold every
    /// place; more are refused with 503.
    #[serde(default = "default_max_listeners_per_session")]
    pub max_listeners_per_session: std::num::NonZeroUsize,
    /// Listeners at once for one user (`sub`), whichever of their sessions; more are refused
    /// with 503.
    #[serde(default = "default_max_listeners_per_user")]
    pub max_listeners_per_user: std::num::NonZeroUsize,
    /// Requests to `/sessions/status` and `/sessions/events` one source may make per minute, a
    /// budget apart from the relays'.
    #[serde(default = "default_session_requests")]
    pub session_requests_per_minute_per_source: std::num::NonZeroU32,
    /// Back-channel logouts one source may post per minute: generous, since CIS2 posts every
    /// logout of the organisation's users from a few addresses.
    #[serde(default = "default_logouts")]
    pub logouts_per_minute_per_source: std::num::NonZeroU32,
    /// Relay requests one DPoP key (one careid install) may make per minute, wherever it comes
    /// from.
    #[serde(default = "default_requests_per_key")]
    pub requests_per_minute_per_key: std::num::NonZeroU32,
    /// Refreshes one user (`sub`, sealed in the refresh handle) may make per minute, on
    /// whichever devices.
    #[serde(default = "default_requests_per_user")]
    pub requests_per_minute_per_user: std::num::NonZeroU32,
    /// Relay requests refused (by the broker or the provider) one source may have per minute:
    /// past it every relay request from it gets 429 until its minute ends, so guessing costs
    /// far more than signing in.
    #[serde(default = "default_failures")]
    pub failures_per_minute_per_source: std::num::NonZeroU32,
    /// A trust's egress addresses (NAT, Citrix): each per-source budget and the connection cap
    /// are multiplied by `times` for sources in `network`.
    #[serde(default)]
    pub allowances: Vec<Allowance>,
}

/// More room for the sources in one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowance {
    pub network: IpNetwork,
    pub times: std::num::NonZeroU32,
}

impl Limits {
    /// How many times the per-source budgets `source` has: the largest allowance of a network
    /// that holds it, else 1.
    pub fn times(&self, source: IpAddr) -> u32 {
        self.allowances
            .iter()
            .filter(|allowance| allowance.network.contains(source))
            .map(|allowance| allowance.times.get())
            .max()
            .unwrap_or(1)
    }

    /// `budget` for `source`, with its allowance.
    pub fn budget(&self, budget: u32, source: IpAddr) -> u32 {
        budget.saturating_mul(self.times(source))
    }
}

/// Each desktop holds one listener's connection and briefly a relay's: a trust's egress
/// address (NAT, Citrix) carries thousands of desktops, so the default is generous.
fn default_connections_per_address() -> usize {
    4096
}

fn default_handshakes_per_address() -> usize {
    64
}

fn default_max_listeners() -> usize {
    50_000
}

/// A desktop listens once per session; a few more allow for a second app or a reconnection
/// that overlaps the stream it replaces.
fn default_max_listeners_per_session() -> std::num::NonZeroUsize {
    const { std::num::NonZeroUsize::new(4).unwrap() }
}

/// Two sessions' worth: a user signed in on two desktops at once.
fn default_max_listeners_per_user() -> std::num::NonZeroUsize {
    const { std::num::NonZeroUsize::new(8).unwrap() }
}

/// A desktop asks `/sessions/status` and opens `/sessions/events` each time it (re)connects: two
/// requests, backed off after the first failure.
fn default_session_requests() -> std::num::NonZeroU32 {
    const { std::num::NonZeroU32::new(120).unwrap() }
}

fn default_logouts() -> std::num::NonZeroU32 {
    const { std::num::NonZeroU32::new(600).unwrap() }
}

fn default_requests_per_key() -> std::num::NonZeroU32 {
    const { std::num::NonZeroU32::new(30).unwrap() }
}

fn default_requests_per_user() -> std::num::NonZeroU32 {
    const { std::num::NonZeroU32::new(30).unwrap() }
}

fn default_failures() -> std::num::NonZeroU32 {
    const { std::num::NonZeroU32::new(20).unwrap() }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            requests_per_minute_per_source: 60,
            max_listeners: default_max_listeners(),
            max_connections_per_address: default_connections_per_address(),
            max_handshakes_per_address: default_handshakes_per_address(),
            max_listeners_per_session: default_max_listeners_per_session(),
            max_listeners_per_user: default_max_listeners_per_user(),
            session_requests_per_minute_per_source: default_session_requests(),
            logouts_per_minute_per_source: default_logouts(),
            requests_per_minute_per_key: default_requests_per_key(),
            requests_per_minute_per_user: default_requests_per_user(),
            failures_per_minute_per_source: default_failures(),
            allowances: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the broker configuration {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the broker configuration {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl BrokerConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses and checks a configuration; the message names the setting at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: BrokerConfig = toml::from_str(text).map_err(|error| error.to_string())?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        self.public.check("public")?;
        self.internal.check("internal")?;
        if let TlsConfig::Files {
            device_ca: Some(_), ..
        } = &self.public.tls
        {
            return Err(
                "public.tls.device_ca: the provider presents no device certificate; the device \
                 CA belongs to the internal listener"
                    .into(),
            );
        }
        let (public, internal) = (self.public.listen, self.internal.listen);
        if public == internal && public.port() != 0 {
            return Err(format!(
                "public.listen and internal.listen are both {public}: the two listeners need \
                 an address or port each"
            ));
        }
        if self.provider.client_id.trim().is_empty() {
            return Err("provider.client_id is empty".into());
        }
        if self.provider.client_auth == ClientAuth::None {
            return Err(
                "provider.client_auth is none: the broker exists to authenticate the client".into(),
            );
        }
        match (self.provider.assertion_algorithm, self.provider.client_auth) {
            (Some(alg), ClientAuth::PrivateKeyJwt) => {
                let for_cis2 = alg.signing().is_some_and(|signing| {
                    check_assertion_algorithm(signing, IssuerKind::Cis2).is_ok()
                });
                if !for_cis2 {
                    return Err(format!(
                        "provider.assertion_algorithm {:?}: CIS2 takes RS256 or RS512",
                        alg.as_str()
                    ));
                }
            }
            (Some(_), method) => {
                return Err(format!(
                    "provider.assertion_algorithm is for private_key_jwt, not {}",
                    method.as_str()
                ))
            }
            _ => {}
        }
        if (self.provider.previous_credential_file.is_some()
            || self.provider.next_credential_file.is_some())
            && self.provider.client_auth != ClientAuth::PrivateKeyJwt
        {
            return Err(
                "provider.next_credential_file and previous_credential_file are private keys: \
                 private_key_jwt only"
                    .into(),
            );
        }
        if self.handles.key_files.is_empty() {
            return Err(
                "handles.key_files is empty: name at least one key file (openssl rand -hex 32)"
                    .into(),
            );
        }
        if self.clients.redirect_uris.is_empty() {
            return Err("clients.redirect_uris is empty: no code exchange could be relayed".into());
        }
        for uri in &self.clients.redirect_uris {
            let parsed = url::Url::parse(uri)
                .map_err(|_| format!("clients.redirect_uris: {uri:?} is not a URL"))?;
            let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost"));
            if parsed.scheme() != "http" || !loopback || parsed.port().is_none() {
                return Err(format!(
                    "clients.redirect_uris: {uri:?} is not a loopback redirect URI with a port \
                     (http://127.0.0.1:PORT/path or http://localhost:PORT/path)"
                ));
            }
        }
        if let StoreConfig::Redis {
            url,
            password_file,
            ca_file,
            prefix,
        } = &self.store
        {
            let shown = redacted_url(url);
            let parsed = url::Url::parse(url)
                .map_err(|_| "store.url is not a URL (redis://host:port/db)".to_owned())?;
            if !matches!(parsed.scheme(), "redis" | "rediss") {
                return Err(format!(
                    "store.url {shown:?} must start with redis:// or rediss://"
                ));
            }
            if parsed.password().is_some() && password_file.is_some() {
                return Err(format!(
                    "store.url {shown:?} holds a password and store.password_file names another: \
                     keep one"
                ));
            }
            if ca_file.is_some() && parsed.scheme() != "rediss" {
                return Err(format!(
                    "store.ca_file is for TLS, and store.url {shown:?} is plain redis://: use \
                     rediss://"
                ));
            }
            if prefix.is_empty() {
                return Err(
                    "store.prefix is empty: keys need a prefix of their own (the default is \
                     \"careid-broker:\")"
                        .into(),
                );
            }
        }
        if self.limits.requests_per_minute_per_source == 0 {
            return Err("limits.requests_per_minute_per_source must be at least 1".into());
        }
        if self.limits.max_listeners == 0 {
            return Err("limits.max_listeners must be at least 1".into());
        }
        if self.limits.max_connections_per_address == 0
            || self.limits.max_handshakes_per_address == 0
        {
            return Err(
                "limits.max_connections_per_address and limits.max_handshakes_per_address must \
                 be at least 1"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../broker.example.toml");

    #[test]
    fn the_documented_example_is_valid() {
        let config = BrokerConfig::parse(EXAMPLE).expect("the example parses");
        assert_eq!(config.provider.client_auth, ClientAuth::PrivateKeyJwt);
        assert!(
            config.provider.issuer.as_str().contains(":443/"),
            "the issuer as CIS2 publishes it"
        );
        assert_eq!(config.limits, Limits::default());
    }

    #[test]
    fn each_mistake_is_named() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "url = \"https://broker.example.nhs.uk\"",
                "url = \"http://broker.example.nhs.uk\"",
                "public.url",
            ),
            (
                "url = \"https://careid-broker.trust.example.nhs.uk:9443\"",
                "url = \"https://careid-broker.trust.example.nhs.uk:9443/?x=1\"",
                "internal.url",
            ),
            (
                "listen = \"10.20.0.4:9443\"",
                "listen = \"0.0.0.0:8443\"",
                "an address or port each",
            ),
            (
                "key = \"/etc/careid-broker/tls/public-key.pem\"",
                "key = \"/etc/careid-broker/tls/public-key.pem\"\ndevice_ca = \"/ca.pem\"",
                "public.tls.device_ca",
            ),
            (
                "issuer = \"https://am.nhsint",
                "issuer = \"http://am.nhsint",
                "must use https",
            ),
            (
                "client_auth = \"private_key_jwt\"",
                "client_auth = \"none\"",
                "none",
            ),
            (
                "assertion_algorithm = \"RS512\"",
                "assertion_algorithm = \"ES256\"",
                "RS256 or RS512",
            ),
            (
                "\"http://127.0.0.1:23741/callback\",",
                "\"https://app.example/callback\",",
                "loopback",
            ),
            (
                "\"http://127.0.0.1:23741/callback\",",
                "\"http://127.0.0.1/callback\",",
                "port",
            ),
            ("kind = \"embedded\"", "kind = \"sqlite\"", "sqlite"),
            (
                "client_id = \"123456789012.apps.national\"",
                "client_id = \" \"",
                "client_id",
            ),
            (
                "listen = \"0.0.0.0:8443\"",
                "listen = \"everywhere\"",
                "listen",
            ),
            ("[limits]", "surprise = 1\n[limits]", "surprise"),
            (
                "requests_per_minute_per_source = 60",
                "requests_per_minute_per_source = 0",
                "at least 1",
            ),
            (
                "max_listeners = 50000",
                "max_listeners = 0",
                "max_listeners",
            ),
        ];
        for (from, to, named) in cases {
            assert!(EXAMPLE.contains(from), "the example has {from}");
            let text = EXAMPLE.replacen(from, to, 1);
            let message = BrokerConfig::parse(&text).expect_err(to);
            assert!(message.contains(named), "{to}: {message}");
        }
    }

    /// Plain HTTP on a network address trusts only the proxies it names, and needs them named.
    #[test]
    fn behind_a_proxy_on_a_network_address_names_its_trusted_proxies() {
        let behind = |listen: &str, extra: &str| {
            EXAMPLE
                .replacen("listen = \"0.0.0.0:8443\"", &format!("listen = \"{listen}\""), 1)
                .replacen(
                    "mode = \"files\"\ncertificate = \"/etc/careid-broker/tls/public-cert.pem\"\nkey = \"/etc/careid-broker/tls/public-key.pem\"",
                    &format!("mode = \"behind_proxy\"\n{extra}"),
                    1,
                )
        };
        let message = BrokerConfig::parse(&behind("0.0.0.0:8080", "")).unwrap_err();
        assert!(message.contains("trusted_proxies"), "{message}");
        BrokerConfig::parse(&behind("127.0.0.1:8080", "")).expect("a proxy on this machine");
        let config = BrokerConfig::parse(&behind(
            "0.0.0.0:8080",
            "trusted_proxies = [\"10.20.0.5\", \"10.30.0.0/24\", \"2001:db8::/48\"]",
        ))
        .expect("named proxies");
        let trusts = |ip: &str| config.public.tls.trusts_proxy(ip.parse().unwrap());
        assert!(trusts("10.20.0.5") && trusts("10.30.0.200") && trusts("2001:db8:0:1::9"));
        assert!(trusts("127.0.0.1") && trusts("::ffff:10.20.0.5"));
        assert!(!trusts("10.20.0.6") && !trusts("10.30.1.1") && !trusts("2001:db9::1"));
        for wrong in ["\"10.0.0.0/33\"", "\"proxy.example\"", "\"10.0.0.0/\""] {
            let text = behind("0.0.0.0:8080", &format!("trusted_proxies = [{wrong}]"));
            let message = BrokerConfig::parse(&text).unwrap_err();
            assert!(message.contains("CIDR"), "{wrong}: {message}");
        }
    }

    /// The example with its Redis lines in place of the embedded store.
    fn with_redis(lines: &str) -> String {
        let start = EXAMPLE.find("kind = \"embedded\"").unwrap();
        let end = EXAMPLE.find("[limits]").unwrap();
        format!("{}{lines}\n{}", &EXAMPLE[..start], &EXAMPLE[end..])
    }

    #[test]
    fn the_documented_redis_store_is_valid_and_the_prefix_has_a_default() {
        let commented: String = EXAMPLE
            .lines()
            .skip_while(|line| !line.starts_with("# kind = \"redis\""))
            .take_while(|line| line.starts_with("# "))
            .map(|line| format!("{}\n", &line[2..]))
            .collect();
        let config = BrokerConfig::parse(&with_redis(&commented)).expect("the Redis lines");
        assert_eq!(
            config.store,
            StoreConfig::Redis {
                url: "rediss://careid-broker-a@redis.example.nhs.uk:6380/0".into(),
                password_file: Some("/etc/careid-broker/redis-password".into()),
                ca_file: Some("/etc/careid-broker/redis-ca.pem".into()),
                prefix: "careid-broker-a:".into(),
            }
        );
        let config = BrokerConfig::parse(&with_redis(
            "kind = \"redis\"\nurl = \"redis://127.0.0.1:6379\"",
        ))
        .unwrap();
        let StoreConfig::Redis { prefix, .. } = &config.store else {
            panic!("{:?}", config.store)
        };
        assert_eq!(prefix, "careid-broker:");
    }

    #[test]
    fn each_redis_mistake_is_named_and_no_password_shows() {
        let cases = [
            ("url = \"http://cache:6379\"", "redis:// or rediss://"),
            ("url = \"not a url\"", "not a URL"),
            (
                "url = \"redis://:s3cret-pw@cache:6379\"\npassword_file = \"/etc/p\"",
                "keep one",
            ),
            (
                "url = \"redis://cache:6379\"\nprefix = \"\"",
                "prefix is empty",
            ),
            (
                "url = \"redis://127.0.0.1:6379\"\nca_file = \"/etc/ca.pem\"",
                "use rediss://",
            ),
            ("url = \"memcache://:s3cret-pw@cache:6379\"", "REDACTED"),
        ];
        for (lines, named) in cases {
            let text = with_redis(&format!("kind = \"redis\"\n{lines}"));
            let message = BrokerConfig::parse(&text).expect_err(lines);
            assert!(message.contains(named), "{lines}: {message}");
            assert!(!message.contains("s3cret-pw"), "{message}");
        }
        let config = StoreConfig::Redis {
            url: "rediss://user:s3cret-pw@cache:6380/0".into(),
            password_file: None,
            ca_file: None,
            prefix: "p:".into(),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(shown.contains("cache:6380"), "{shown}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let error = BrokerConfig::load(Path::new("/nonexistent/broker.toml")).unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/broker.toml"),
            "{error}"
        );
    }
}
