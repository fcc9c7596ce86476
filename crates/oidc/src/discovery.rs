//! Provider metadata (OpenID Connect Discovery 1.0) and the provider's key set (RFC 7517),
//! fetched, validated and cached in memory and on a [`DocumentShelf`] (careid-core's cache
//! folder) for at most an hour, as CIS2 asks.
//!
//! Every URL is kept as the exact string the provider published: a URL parser drops `:443`, and
//! CIS2 compares strings exactly (its issuer carries `:443`, and a client assertion's `aud` must
//! be the token endpoint as published).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::http::{clean_text, display_url, HttpClient, HttpError};
use crate::jose::{JoseError, JsonWebKeySet, UnknownKid};
use crate::time::unix_seconds;
use crate::values::IssuerUrl;

/// The longest a cached document is used: CIS2 asks relying parties to read discovery again at
/// least every hour.
pub const MAX_CACHE_AGE: Duration = Duration::from_secs(3600);

/// The longest provider text (an issuer that does not match) quoted in a message.
const MAX_QUOTED_CHARS: usize = 300;
/// A kept document larger than this is damaged or not ours.
pub const MAX_KEPT_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024;

const JSON: &str = "application/json";
const JWKS_ACCEPT: &str = "application/jwk-set+json, application/json";

/// Why the provider's metadata or keys could not be had. Messages never quote a body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The request failed: unreachable, timed out, too large, not JSON.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The provider answered, but not with 200.
    #[error("{url} answered HTTP {status}")]
    Status {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The document is JSON but not valid provider metadata or a key set.
    #[error("the document at {url} is not usable: {detail}")]
    InvalidDocument { url: String, detail: String },
    /// The document's `issuer` is not the issuer asked for (OIDC Discovery §4.3).
    #[error(
        "the provider calls itself {found:?}, not {expected:?}: issuers must match exactly, port included"
    )]
    IssuerMismatch { expected: String, found: String },
    /// An endpoint is plain http on a host other than loopback.
    #[error("{member} is not https: {url} (plain http is allowed on 127.0.0.1, localhost and [::1] only)")]
    InsecureEndpoint { member: &'static str, url: String },
}

impl DiscoveryError {
    /// A stable code for callers to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            DiscoveryError::Http(error) => error.code(),
            DiscoveryError::Status { .. } => "http_status",
            DiscoveryError::InvalidDocument { .. } => "invalid_document",
            DiscoveryError::IssuerMismatch { .. } => "issuer_mismatch",
            DiscoveryError::InsecureEndpoint { .. } => "insecure_endpoint",
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            DiscoveryError::Http(error) => error.is_transient(),
            DiscoveryError::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }
}

/// `{issuer}/.well-known/openid-configuration`, joined as text so that `:443` survives.
pub fn discovery_url(issuer: &IssuerUrl) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.as_str().trim_end_matches('/')
    )
}

/// Which hosts plain `http` is allowed on: this machine's only, since anything else on the path
/// could read or change the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainHttp {
    /// `localhost`, `127.0.0.1` or `[::1]`: a provider on this machine (tests, the mock).
    OnLoopback,
    /// `127.0.0.1` only: a broker on this machine, where a name or IPv6 address could be another
    /// listener's.
    On127001,
}

/// The one rule for where protocol traffic may go: `https` with a host anywhere, plain `http` on
/// the loopback hosts `plain_http` allows, nothing else.
pub fn is_secure(url: &url::Url, plain_http: PlainHttp) -> bool {
    match url.scheme() {
        "https" => url.has_host(),
        "http" => match (url.host(), plain_http) {
            (Some(url::Host::Ipv4(ip)), _) => ip == std::net::Ipv4Addr::LOCALHOST,
            (Some(url::Host::Domain(domain)), PlainHttp::OnLoopback) => {
                domain.eq_ignore_ascii_case("localhost")
            }
            (Some(url::Host::Ipv6(ip)), PlainHttp::OnLoopback) => {
                ip == std::net::Ipv6Addr::LOCALHOST
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether a URL may carry provider traffic: [`is_secure`] with plain http on loopback.
pub fn is_secure_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|url| is_secure(&url, PlainHttp::OnLoopback))
}

/// Whose rules a provider is held to: CIS2's (its client assertions, REFERENCE §2 and §3) or
/// any OpenID provider's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerKind {
    Cis2,
    Other,
}

impl IssuerKind {
    /// CIS2 for a host under `spineservices.nhs.uk`, else another provider.
    pub fn of(issuer: &IssuerUrl) -> Self {
        let cis2 = url::Url::parse(issuer.as_str())
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .is_some_and(|host| host.ends_with(".spineservices.nhs.uk"));
        if cis2 {
            IssuerKind::Cis2
        } else {
            IssuerKind::Other
        }
    }
}

/// A provider's metadata, every URL exactly as published.
///
/// Lists are `None` when the provider does not advertise them, which differs from an empty list:
/// several have defaults that the specifications define for their absence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderMetadata {
    /// As published; [`ProviderMetadata::validate`] holds it to the issuer asked for.
    pub issuer: IssuerUrl,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    pub revocation_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    /// RFC 9126 §5: where the authorization request's parameters are pushed, so the browser is
    /// given only a reference to them.
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: the provider refuses authorization requests that were not pushed.
    pub require_pushed_authorization_requests: bool,
    pub response_types_supported: Option<Vec<String>>,
    pub response_modes_supported: Option<Vec<String>>,
    pub grant_types_supported: Option<Vec<String>>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    pub scopes_supported: Option<Vec<String>>,
    pub claims_supported: Option<Vec<String>>,
    pub acr_values_supported: Option<Vec<String>>,
    pub subject_types_supported: Option<Vec<String>>,
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    pub userinfo_signing_alg_values_supported: Option<Vec<String>>,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    pub revocation_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    /// The whole document as published, unknown members included, for the testers' view.
    pub raw: Value,
}

impl ProviderMetadata {
    /// Reads a discovery document. Unknown members are kept in `raw` only; a required member
    /// that is missing, or a member of the wrong type, is an error naming it. This does not
    /// check the issuer or the transport: see [`ProviderMetadata::validate`].
    pub fn from_document(document: Value, source_url: &str) -> Result<Self, DiscoveryError> {
        let invalid = |detail: String| DiscoveryError::InvalidDocument {
            url: display_url(source_url),
            detail,
        };
        let Some(object) = document.as_object() else {
            return Err(invalid("the document is not a JSON object".into()));
        };
        let required = |name: &str| -> Result<String, DiscoveryError> {
            optional_string(object, name)
                .map_err(&invalid)?
                .ok_or_else(|| invalid(format!("member `{name}` is missing")))
        };
        let string = |name: &str| optional_string(object, name).map_err(&invalid);
        let list = |name: &str| optional_list(object, name).map_err(&invalid);
        let flag = |name: &str| optional_flag(object, name).map_err(&invalid);
        Ok(Self {
            issuer: IssuerUrl::published(required("issuer")?),
            authorization_endpoint: required("authorization_endpoint")?,
            token_endpoint: required("token_endpoint")?,
            userinfo_endpoint: string("userinfo_endpoint")?,
            jwks_uri: required("jwks_uri")?,
            revocation_endpoint: string("revocation_endpoint")?,
            end_session_endpoint: string("end_session_endpoint")?,
            introspection_endpoint: string("introspection_endpoint")?,
            pushed_authorization_request_endpoint: string("pushed_authorization_request_endpoint")?,
            require_pushed_authorization_requests: flag("require_pushed_authorization_requests")?,
            response_types_supported: list("response_types_supported")?,
            response_modes_supported: list("response_modes_supported")?,
            grant_types_supported: list("grant_types_supported")?,
            code_challenge_methods_supported: list("code_challenge_methods_supported")?,
            scopes_supported: list("scopes_supported")?,
            claims_supported: list("claims_supported")?,
            acr_values_supported: list("acr_values_supported")?,
            subject_types_supported: list("subject_types_supported")?,
            id_token_signing_alg_values_supported: list("id_token_signing_alg_values_supported")?,
            userinfo_signing_alg_values_supported: list("userinfo_signing_alg_values_supported")?,
            token_endpoint_auth_methods_supported: list("token_endpoint_auth_methods_supported")?,
            token_endpoint_auth_signing_alg_values_supported: list(
                "token_endpoint_auth_signing_alg_values_supported",
            )?,
            revocation_endpoint_auth_methods_supported: list(
                "revocation_endpoint_auth_methods_supported",
            )?,
            authorization_response_iss_parameter_supported: flag(
                "authorization_response_iss_parameter_supported",
            )?,
            backchannel_logout_supported: flag("backchannel_logout_supported")?,
            backchannel_logout_session_supported: flag("backchannel_logout_session_supported")?,
            claims_parameter_supported: flag("claims_parameter_supported")?,
            request_parameter_supported: flag("request_parameter_supported")?,
            raw: document,
        })
    }

    /// The checks a fetched document must pass before it is used: the issuer is the one asked
    /// for, character for character (OIDC Discovery §4.3), and every endpoint is https (or http
    /// on loopback).
    pub fn validate(&self, expected_issuer: &IssuerUrl) -> Result<(), DiscoveryError> {
        if !expected_issuer.matches(self.issuer.as_str()) {
            return Err(DiscoveryError::IssuerMismatch {
                expected: expected_issuer.to_string(),
                found: clean_text(self.issuer.as_str(), MAX_QUOTED_CHARS),
            });
        }
        for (member, url) in self.endpoints() {
            if !is_secure_url(url) {
                return Err(DiscoveryError::InsecureEndpoint {
                    member,
                    url: display_url(url),
                });
            }
        }
        Ok(())
    }

    /// The issuer and every endpoint the document names, by member name.
    pub fn endpoints(&self) -> Vec<(&'static str, &str)> {
        let mut endpoints = vec![
            ("issuer", self.issuer.as_str()),
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
            ("jwks_uri", &self.jwks_uri),
        ];
        let optional = [
            ("userinfo_endpoint", &self.userinfo_endpoint),
            ("revocation_endpoint", &self.revocation_endpoint),
            ("end_session_endpoint", &self.end_session_endpoint),
            ("introspection_endpoint", &self.introspection_endpoint),
            (
                "pushed_authorization_request_endpoint",
                &self.pushed_authorization_request_endpoint,
            ),
        ];
        for (member, url) in optional {
            if let Some(url) = url {
                endpoints.push((member, url.as_str()));
            }
        }
        endpoints
    }
}

fn optional_string(object: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(format!("member `{name}` is not a string")),
    }
}

fn optional_list(object: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("member `{name}` holds something other than strings")),
        Some(_) => Err(format!("member `{name}` is not a list")),
    }
}

fn optional_flag(object: &Map<String, Value>, name: &str) -> Result<bool, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(_) => Err(format!("member `{name}` is not true or false")),
    }
}

/// The first 16 hex digits of SHA-256: a file name for a URL that cannot itself be one.
fn file_key(text: &str) -> String {
    digest::digest(&digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A cache file's `fetched_at`: whole seconds since the epoch that a `SystemTime` can hold.
/// Anything else (negative, fractional, a string, beyond the platform's clock) is `None`, and
/// the file is stale.
fn fetched_at(value: &Value) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(value.as_u64()?))
}

/// A document younger than `max_age` at `now`. One from the future (a clock set back) is stale.
fn is_fresh(fetched_at: SystemTime, now: SystemTime, max_age: Duration) -> bool {
    now.duration_since(fetched_at)
        .is_ok_and(|age| age < max_age)
}

#[derive(Debug)]
struct CachedMetadata {
    value: Arc<ProviderMetadata>,
    fetched_at: SystemTime,
}

#[derive(Debug)]
struct CachedJwks {
    jwks_uri: String,
    value: Arc<Value>,
    fetched_at: SystemTime,
    /// Set by [`ProviderCache::refetch_jwks`]: which refetch stored this copy.
    refetch: Option<u64>,
}

/// Why [`ProviderCache::verify_with_keys`] did not verify a token.
#[derive(Debug, thiserror::Error)]
pub enum KeyedError<E> {
    /// The provider's key set could not be had.
    #[error(transparent)]
    Keys(#[from] DiscoveryError),
    /// The provider's key set is not one careid can read.
    #[error("the provider's key set is unusable: {0}")]
    KeySet(#[from] JoseError),
    /// The token was refused.
    #[error(transparent)]
    Refused(E),
}

/// Where a [`ProviderCache`] keeps its documents for other processes to reuse, by name
/// ([`discovery_document_name`], [`jwks_document_name`]). careid-core's cache folder is one; the
/// protocol code itself touches no file. It holds public documents only (discovery and JWKS),
/// never a token or secret.
pub trait DocumentShelf: fmt::Debug + Send + Sync {
    /// What is kept under `name`, or `None` when nothing is, or nothing that can be trusted (a
    /// folder or file another user could write to could hold keys that are not the provider's).
    fn read(&self, name: &str) -> Option<Vec<u8>>;
    /// Keeps `bytes` under `name`, best effort: the document is in hand, and the next run
    /// fetches it again.
    fn write(&self, name: &str, bytes: &[u8]);
    /// Drops what is kept under `name`, best effort: a copy left expires within the hour.
    fn remove(&self, name: &str);
}

/// The name an issuer's discovery document is kept under.
pub fn discovery_document_name(issuer: &str) -> String {
    format!("discovery-{}.json", file_key(issuer))
}

/// The name an issuer's key set is kept under.
pub fn jwks_document_name(issuer: &str) -> String {
    format!("jwks-{}.json", file_key(issuer))
}

/// The least time between two JWKS refetches for an unknown `kid` (as the `jose` library's
/// remote key sets wait 30 s): keys that rotate are new for hours, while tokens with made-up
/// `kid`s can come by the thousand. A clock that went back does not hold a refetch up.
pub const JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// Provider metadata and key sets, in memory and optionally on a [`DocumentShelf`], each used for
/// at most `max_age`. Share one in an `Arc`: fetches are made one at a time, so callers asking at
/// once cause one request.
#[derive(Debug)]
pub struct ProviderCache {
    shelf: Option<Arc<dyn DocumentShelf>>,
    max_age: Duration,
    /// Keyed by issuer.
    metadata: Mutex<HashMap<String, CachedMetadata>>,
    /// Keyed by issuer; an entry is used only for the `jwks_uri` it came from.
    jwks: Mutex<HashMap<String, CachedJwks>>,
    /// Held across a fetch, so concurrent misses fetch once.
    fetching: tokio::sync::Mutex<()>,
    /// Counts JWKS refetches, so that callers waiting on one reuse its answer.
    refetches: AtomicU64,
}

impl ProviderCache {
    /// A cache whose documents live `max_age` (capped at [`MAX_CACHE_AGE`]), in memory only.
    pub fn new(max_age: Duration) -> Self {
        Self::with_shelf(None, max_age)
    }

    /// A cache whose documents live `max_age` (capped at [`MAX_CACHE_AGE`]), kept in memory and,
    /// when `shelf` is given, there too so another process can reuse them.
    pub fn with_shelf(shelf: Option<Arc<dyn DocumentShelf>>, max_age: Duration) -> Self {
        Self {
            shelf,
            max_age: max_age.min(MAX_CACHE_AGE),
            metadata: Mutex::new(HashMap::new()),
            jwks: Mutex::new(HashMap::new()),
            fetching: tokio::sync::Mutex::new(()),
            refetches: AtomicU64::new(0),
        }
    }

    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The issuer's metadata: from memory or the cache folder while fresh, else fetched from
    /// `discovery_url(issuer)` and validated against `issuer` exactly.
    pub async fn metadata(
        &self,
        http: &HttpClient,
        issuer: &IssuerUrl,
        now: SystemTime,
    ) -> Result<Arc<ProviderMetadata>, DiscoveryError> {
        if let Some(cached) = self.memory_metadata(issuer, now) {
            return Ok(cached);
        }
        let _fetching = self.fetching.lock().await;
        if let Some(cached) = self.memory_metadata(issuer, now) {
            return Ok(cached);
        }
        if let Some((metadata, fetched_at)) = self.kept_metadata(issuer, now) {
            return Ok(self.remember_metadata(issuer, metadata, fetched_at));
        }

        let url = discovery_url(issuer);
        if !is_secure_url(&url) {
            return Err(DiscoveryError::InsecureEndpoint {
                member: "issuer",
                url: display_url(issuer.as_str()),
            });
        }
        let document = fetch_json(http, &url, JSON).await?;
        let metadata = ProviderMetadata::from_document(document, &url)?;
        metadata.validate(issuer)?;
        self.write_document(
            &discovery_document_name(issuer.as_str()),
            &json!({
                "issuer": issuer,
                "fetched_at": unix_seconds(now),
                "document": metadata.raw,
            }),
        );
        Ok(self.remember_metadata(issuer, metadata, now))
    }

    /// The provider's key set from `metadata.jwks_uri`, cached like the metadata. Only its shape
    /// is checked here (an object with a `keys` list); the keys are read where tokens are
    /// verified.
    pub async fn jwks(
        &self,
        http: &HttpClient,
        metadata: &ProviderMetadata,
        now: SystemTime,
    ) -> Result<Arc<Value>, DiscoveryError> {
        if let Some(cached) = self.memory_jwks(metadata, now) {
            return Ok(cached);
        }
        let _fetching = self.fetching.lock().await;
        if let Some(cached) = self.memory_jwks(metadata, now) {
            return Ok(cached);
        }
        if let Some((jwks, fetched_at)) = self.kept_jwks(metadata, now) {
            return Ok(self.remember_jwks(metadata, Arc::new(jwks), fetched_at, None));
        }
        self.fetch_jwks(http, metadata, now, false).await
    }

    /// Fetches the key set again, whatever the caches hold, and replaces the cached copy. Call it
    /// once when an ID token names a `kid` the cached set lacks (keys rotate without notice),
    /// then verify once more and reject if the key is still unknown.
    ///
    /// Each call makes at most one request. Calls that arrive while another refetch is under way
    /// take that refetch's answer instead of making their own, so a burst of tokens with an
    /// unknown `kid` costs one request; the caller's once-per-token rule bounds each token. And
    /// a refetch within [`JWKS_REFETCH_COOLDOWN`] of the last one takes its answer: a stream of
    /// tokens with made-up `kid`s (anyone can post a logout token to the broker) makes at most
    /// one request to the provider per cooldown, never one per token.
    pub async fn refetch_jwks(
        &self,
        http: &HttpClient,
        metadata: &ProviderMetadata,
        now: SystemTime,
    ) -> Result<Arc<Value>, DiscoveryError> {
        let before = self.refetches.load(Ordering::SeqCst);
        let _fetching = self.fetching.lock().await;
        {
            let jwks = lock(&self.jwks);
            if let Some(cached) = jwks.get(metadata.issuer.as_str()) {
                let refetched_lately = cached.refetch.is_some()
                    && now
                        .duration_since(cached.fetched_at)
                        .is_ok_and(|age| age < JWKS_REFETCH_COOLDOWN);
                if cached.jwks_uri == metadata.jwks_uri
                    && (cached.refetch.is_some_and(|refetch| refetch > before) || refetched_lately)
                {
                    return Ok(Arc::clone(&cached.value));
                }
            }
        }
        self.fetch_jwks(http, metadata, now, true).await
    }

    /// Verifies a token with the provider's key set (`keys`, when the caller fetched it
    /// already), and when `verify` fails for a `kid` the set lacks, once more with the set
    /// fetched again ([`ProviderCache::refetch_jwks`]): the one home of "refetch once on an
    /// unknown key", for ID tokens, signed UserInfo, session proofs and logout tokens alike.
    pub async fn verify_with_keys<T, E: UnknownKid>(
        &self,
        http: &HttpClient,
        metadata: &ProviderMetadata,
        now: SystemTime,
        keys: Option<Arc<Value>>,
        verify: impl Fn(&JsonWebKeySet) -> Result<T, E>,
    ) -> Result<T, KeyedError<E>> {
        let jwks = match keys {
            Some(jwks) => jwks,
            None => self.jwks(http, metadata, now).await?,
        };
        match verify(&JsonWebKeySet::from_value(&jwks)?) {
            Err(error) if error.is_unknown_kid() => {
                let jwks = self.refetch_jwks(http, metadata, now).await?;
                verify(&JsonWebKeySet::from_value(&jwks)?).map_err(KeyedError::Refused)
            }
            other => other.map_err(KeyedError::Refused),
        }
    }

    /// Drops an issuer's metadata and key set, from memory and the shelf.
    pub fn forget(&self, issuer: &IssuerUrl) {
        lock(&self.metadata).remove(issuer.as_str());
        lock(&self.jwks).remove(issuer.as_str());
        if let Some(shelf) = &self.shelf {
            shelf.remove(&discovery_document_name(issuer.as_str()));
            shelf.remove(&jwks_document_name(issuer.as_str()));
        }
    }

    async fn fetch_jwks(
        &self,
        http: &HttpClient,
        metadata: &ProviderMetadata,
        now: SystemTime,
        refetch: bool,
    ) -> Result<Arc<Value>, DiscoveryError> {
        let url = &metadata.jwks_uri;
        if !is_secure_url(url) {
            return Err(DiscoveryError::InsecureEndpoint {
                member: "jwks_uri",
                url: display_url(url),
            });
        }
        let jwks = fetch_json(http, url, JWKS_ACCEPT).await?;
        check_jwks_shape(&jwks).map_err(|detail| DiscoveryError::InvalidDocument {
            url: display_url(url),
            detail: detail.to_owned(),
        })?;
        self.write_document(
            &jwks_document_name(metadata.issuer.as_str()),
            &json!({
                "issuer": metadata.issuer,
                "jwks_uri": url,
                "fetched_at": unix_seconds(now),
                "document": jwks,
            }),
        );
        // Numbered once the answer is in, so that refetches which were already waiting when it
        // started see a newer number than they began with, and take this answer.
        let refetch = refetch.then(|| self.refetches.fetch_add(1, Ordering::SeqCst) + 1);
        Ok(self.remember_jwks(metadata, Arc::new(jwks), now, refetch))
    }

    fn memory_metadata(
        &self,
        issuer: &IssuerUrl,
        now: SystemTime,
    ) -> Option<Arc<ProviderMetadata>> {
        lock(&self.metadata)
            .get(issuer.as_str())
            .filter(|cached| is_fresh(cached.fetched_at, now, self.max_age))
            .map(|cached| Arc::clone(&cached.value))
    }

    fn remember_metadata(
        &self,
        issuer: &IssuerUrl,
        metadata: ProviderMetadata,
        fetched_at: SystemTime,
    ) -> Arc<ProviderMetadata> {
        let value = Arc::new(metadata);
        lock(&self.metadata).insert(
            issuer.to_string(),
            CachedMetadata {
                value: Arc::clone(&value),
                fetched_at,
            },
        );
        value
    }

    fn memory_jwks(&self, metadata: &ProviderMetadata, now: SystemTime) -> Option<Arc<Value>> {
        lock(&self.jwks)
            .get(metadata.issuer.as_str())
            .filter(|cached| {
                cached.jwks_uri == metadata.jwks_uri
                    && is_fresh(cached.fetched_at, now, self.max_age)
            })
            .map(|cached| Arc::clone(&cached.value))
    }

    fn remember_jwks(
        &self,
        metadata: &ProviderMetadata,
        value: Arc<Value>,
        fetched_at: SystemTime,
        refetch: Option<u64>,
    ) -> Arc<Value> {
        lock(&self.jwks).insert(
            metadata.issuer.to_string(),
            CachedJwks {
                jwks_uri: metadata.jwks_uri.clone(),
                value: Arc::clone(&value),
                fetched_at,
                refetch,
            },
        );
        value
    }

    /// A fresh, valid discovery document from the shelf. Anything wrong with it (another
    /// issuer's, stale, from the future, damaged) means it is ignored and refetched.
    fn kept_metadata(
        &self,
        issuer: &IssuerUrl,
        now: SystemTime,
    ) -> Option<(ProviderMetadata, SystemTime)> {
        let (file, fetched_at) =
            self.read_document(&discovery_document_name(issuer.as_str()), issuer, now)?;
        Some((cached_metadata(file, issuer)?, fetched_at))
    }

    fn kept_jwks(
        &self,
        metadata: &ProviderMetadata,
        now: SystemTime,
    ) -> Option<(Value, SystemTime)> {
        let name = jwks_document_name(metadata.issuer.as_str());
        let (file, fetched_at) = self.read_document(&name, &metadata.issuer, now)?;
        Some((cached_jwks(file, &metadata.jwks_uri)?, fetched_at))
    }

    /// A kept document's members, if it is for `issuer` and fresh at `now`.
    fn read_document(
        &self,
        name: &str,
        issuer: &IssuerUrl,
        now: SystemTime,
    ) -> Option<(Map<String, Value>, SystemTime)> {
        let bytes = self.shelf.as_ref()?.read(name)?;
        if bytes.len() as u64 > MAX_KEPT_DOCUMENT_BYTES {
            return None;
        }
        cache_file_members(&bytes, issuer, now, self.max_age)
    }

    fn write_document(&self, name: &str, contents: &Value) {
        if let (Some(shelf), Ok(bytes)) = (&self.shelf, serde_json::to_vec_pretty(contents)) {
            shelf.write(name, &bytes);
        }
    }
}

/// A cache file's members, if its text is a JSON object for `issuer`, fetched at most `max_age`
/// before `now`.
pub fn cache_file_members(
    bytes: &[u8],
    issuer: &IssuerUrl,
    now: SystemTime,
    max_age: Duration,
) -> Option<(Map<String, Value>, SystemTime)> {
    let Value::Object(file) = serde_json::from_slice(bytes).ok()? else {
        return None;
    };
    if !issuer.matches(file.get("issuer")?.as_str()?) {
        return None;
    }
    let fetched_at = fetched_at(file.get("fetched_at")?)?;
    is_fresh(fetched_at, now, max_age).then_some((file, fetched_at))
}

/// The discovery document of a cache file's members, if it is valid and for `issuer`.
pub fn cached_metadata(
    mut file: Map<String, Value>,
    issuer: &IssuerUrl,
) -> Option<ProviderMetadata> {
    let document = file.remove("document")?;
    let metadata = ProviderMetadata::from_document(document, "cache").ok()?;
    metadata.validate(issuer).ok()?;
    Some(metadata)
}

/// The key set of a cache file's members, if it was fetched from `jwks_uri` and has its shape.
pub fn cached_jwks(mut file: Map<String, Value>, jwks_uri: &str) -> Option<Value> {
    if file.get("jwks_uri")?.as_str()? != jwks_uri {
        return None;
    }
    let jwks = file.remove("document")?;
    check_jwks_shape(&jwks).ok()?;
    Some(jwks)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each update is one insert or remove, so a poisoned map is still consistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn fetch_json(http: &HttpClient, url: &str, accept: &str) -> Result<Value, DiscoveryError> {
    let response = http.get(url, accept).await?;
    if response.status != 200 {
        return Err(DiscoveryError::Status {
            url: response.url().to_owned(),
            status: response.status,
            retry_after: response.retry_after,
        });
    }
    Ok(response.json::<Value>()?)
}

/// The shape every key set must have; the keys themselves are read where tokens are verified.
fn check_jwks_shape(jwks: &Value) -> Result<(), &'static str> {
    match jwks.get("keys") {
        Some(Value::Array(_)) => Ok(()),
        Some(_) => Err("member `keys` is not a list"),
        None if jwks.is_object() => Err("member `keys` is missing"),
        None => Err("the key set is not a JSON object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_keeps_the_port_and_drops_one_trailing_slash() {
        assert_eq!(
            discovery_url(&IssuerUrl::new("https://h:443/realm").unwrap()),
            "https://h:443/realm/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url(&IssuerUrl::new("https://h:443/realm/").unwrap()),
            "https://h:443/realm/.well-known/openid-configuration"
        );
    }

    #[test]
    fn only_https_or_loopback_http_is_secure() {
        for (url, secure) in [
            ("https://am.example.nhs.uk:443/x", true),
            ("http://127.0.0.1:8080/x", true),
            ("http://localhost:8080/x", true),
            ("http://[::1]:8080/x", true),
            ("http://am.example.nhs.uk/x", false),
            ("http://127.0.0.2/x", false),
            ("http://localhost.example.com/x", false),
            ("ftp://localhost/x", false),
            ("not a url", false),
        ] {
            assert_eq!(is_secure_url(url), secure, "{url}");
        }
    }

    #[test]
    fn freshness_excludes_the_future_and_the_limit() {
        let then = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = Duration::from_secs(3600);
        assert!(is_fresh(then, then, hour));
        assert!(is_fresh(then, then + hour - Duration::from_secs(1), hour));
        assert!(!is_fresh(then, then + hour, hour));
        assert!(!is_fresh(then, then - Duration::from_secs(1), hour));
    }

    /// Cache files are outside careid's control: no number in one makes careid panic, and any
    /// `fetched_at` that is not a plausible past time makes the file stale, so it is refetched.
    #[test]
    fn cache_files_with_impossible_times_are_stale_never_a_panic() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let hour = Duration::from_secs(3600);
        let cases: &[(&str, &str, bool)] = &[
            ("just fetched", "1800000000", true),
            ("a minute old", "1799999940", true),
            ("an hour old", "1799996400", false),
            ("from the future", "1800000001", false),
            ("zero", "0", false),
            ("2^63", "9223372036854775808", false),
            ("2^64 - 1", "18446744073709551615", false),
            ("2^64", "18446744073709551616", false),
            ("negative", "-1", false),
            ("i64 minimum", "-9223372036854775808", false),
            ("1e300", "1e300", false),
            ("fractional", "1799999999.5", false),
            ("a string", "\"1800000000\"", false),
            ("null", "null", false),
            ("a list", "[1800000000]", false),
        ];
        let issuer = IssuerUrl::new("https://h").unwrap();
        for (name, fetched_at, fresh) in cases {
            let text = format!(r#"{{"issuer":"{issuer}","fetched_at":{fetched_at}}}"#);
            let read = cache_file_members(text.as_bytes(), &issuer, now, hour);
            assert_eq!(read.is_some(), *fresh, "{name}");
        }
    }

    #[test]
    fn members_of_the_wrong_type_are_named() {
        let document = json!({
            "issuer": "https://h", "authorization_endpoint": "https://h/a",
            "token_endpoint": "https://h/t", "jwks_uri": "https://h/k",
            "scopes_supported": "openid"
        });
        let error = ProviderMetadata::from_document(document, "https://h/d?x=secret").unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("`scopes_supported` is not a list"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
    }

    /// The cache is shared across tasks: it and its futures must be `Send`, and it `Sync`.
    #[allow(dead_code)]
    fn shareable(cache: &'static ProviderCache, http: &'static HttpClient) {
        fn send<T: Send>(_: T) {}
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ProviderCache>();
        send_sync::<HttpClient>();
        let metadata: &'static ProviderMetadata = Box::leak(Box::new(
            ProviderMetadata::from_document(Value::Null, "").unwrap(),
        ));
        let issuer: &'static IssuerUrl = Box::leak(Box::new(IssuerUrl::published(String::new())));
        send(cache.metadata(http, issuer, SystemTime::now()));
        send(cache.jwks(http, metadata, SystemTime::now()));
        send(cache.refetch_jwks(http, metadata, SystemTime::now()));
    }

    #[test]
    fn the_cache_age_is_never_over_an_hour() {
        let cache = ProviderCache::new(Duration::from_secs(86_400));
        assert_eq!(cache.max_age(), MAX_CACHE_AGE);
    }
}
