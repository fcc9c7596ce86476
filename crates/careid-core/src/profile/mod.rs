//! Environments to sign in to: the built-in `mock`, CIS2's `int`, `dep` and `live`, and custom
//! profiles in `profiles.toml` in the config folder. A profile never holds a secret: it names the
//! keychain account where its client secret or private key is kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::client_auth::{
    check_assertion_algorithm, ClientAuth, ClientAuthError, Credential, PrivateKey,
};
use crate::discovery::{is_secure, IssuerKind, PlainHttp};
use crate::http::display_url;
use crate::values::{AcrValues, AssertionAlgorithm, ClientId, IssuerUrl, RedirectUri};

mod built_in;

pub use built_in::{built_in_mock, CIS2_REDIRECT_PORTS};
use built_in::{built_in_profiles, cis2_scopes};

/// The file, in the config folder, that holds custom profiles and settings for built-in ones.
pub const PROFILES_FILE: &str = "profiles.toml";

/// Who shows the role choice: the app, from UserInfo's roles, or CIS2's own picker (the
/// `selectedrole` scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSelection {
    #[default]
    App,
    Cis2,
}

impl FromStr for RoleSelection {
    type Err = ProfileError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "app" => Ok(RoleSelection::App),
            "cis2" => Ok(RoleSelection::Cis2),
            other => Err(ProfileError::Invalid(format!(
                "unknown role selection {other:?}; use app or cis2"
            ))),
        }
    }
}

/// Whether the authorization request is pushed (RFC 9126) before the browser opens: `auto` when
/// the provider publishes a `pushed_authorization_request_endpoint` (CIS2 publishes none today),
/// `always` refuses to sign in without one, `never` sends the parameters in the authorization URL
/// even when one is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushedRequests {
    #[default]
    Auto,
    Always,
    Never,
}

impl PushedRequests {
    pub fn as_str(self) -> &'static str {
        match self {
            PushedRequests::Auto => "auto",
            PushedRequests::Always => "always",
            PushedRequests::Never => "never",
        }
    }
}

impl FromStr for PushedRequests {
    type Err = ProfileError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(PushedRequests::Auto),
            "always" => Ok(PushedRequests::Always),
            "never" => Ok(PushedRequests::Never),
            other => Err(ProfileError::Invalid(format!(
                "unknown par setting {other:?}; use auto, always or never"
            ))),
        }
    }
}

/// The host written in the redirect URI. The listener binds `127.0.0.1` either way: `localhost`
/// is only for a provider where that is what was registered (RFC 8252 §8.3 prefers the IP
/// literal, which no hosts file or DNS can point elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RedirectHost {
    #[default]
    #[serde(rename = "127.0.0.1")]
    Ipv4Loopback,
    #[serde(rename = "localhost")]
    Localhost,
}

impl RedirectHost {
    pub fn as_str(self) -> &'static str {
        match self {
            RedirectHost::Ipv4Loopback => "127.0.0.1",
            RedirectHost::Localhost => "localhost",
        }
    }

    /// The redirect URI for a listener on `port`: the one place it is written, for the
    /// authorization request and for what `careid doctor` and `profile show` say to register.
    pub fn redirect_uri(self, port: u16, path: &str) -> RedirectUri {
        RedirectUri::loopback(self.as_str(), port, path)
    }
}

impl FromStr for RedirectHost {
    type Err = ProfileError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "127.0.0.1" => Ok(RedirectHost::Ipv4Loopback),
            "localhost" => Ok(RedirectHost::Localhost),
            other => Err(ProfileError::Invalid(format!(
                "unknown redirect host {other:?}; use 127.0.0.1 or localhost"
            ))),
        }
    }
}

/// The redirect URIs a profile's client must have registered with the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedirectRegistration {
    /// Every URI careid may send, exactly as sent, in the order the ports are tried; empty when
    /// the profile listens on an ephemeral port.
    pub uris: Vec<RedirectUri>,
    /// The profile listens on any free port: the provider must accept any port on
    /// `any_port_uri` (RFC 8252 §7.3).
    pub any_port: bool,
    /// The URI with the port left out, as registered for any-port matching.
    pub any_port_uri: Option<String>,
}

impl RedirectRegistration {
    /// What to register, in one sentence.
    pub fn advice(&self) -> String {
        match &self.any_port_uri {
            Some(uri) => format!(
                "careid listens on any free port: the provider must accept any loopback port for {uri} (RFC 8252 §7.3); register fixed ports with --redirect-port if it does not"
            ),
            None => format!(
                "register every one of these redirect URIs for the client (careid uses the first free port): {}",
                self.uris
                    .iter()
                    .map(RedirectUri::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Where the provider is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerSource {
    /// An issuer, exactly as the provider publishes it.
    Url(IssuerUrl),
    /// The mock provider started in-process on an ephemeral port.
    BuiltInMock,
}

/// When a session ends (REFERENCE §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionPolicy {
    pub inactivity_minutes: u32,
    /// A longer inactivity limit for AAL2 sign-ins (NIST SP 800-63 allows 30), when set.
    pub aal2_inactivity_minutes: Option<u32>,
    pub absolute_hours: u32,
    pub clock_skew_seconds: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            inactivity_minutes: 15,
            aal2_inactivity_minutes: None,
            absolute_hours: 12,
            clock_skew_seconds: 120,
        }
    }
}

/// Everything careid needs to sign in to one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub issuer: IssuerSource,
    /// `None` until the user supplies the id CIS2 registered for them.
    pub client_id: Option<ClientId>,
    pub client_auth: ClientAuth,
    /// The client assertion's `alg` for `private_key_jwt` (RS256, RS512, ES256) or
    /// `client_secret_jwt` (HS256, HS512); `None` for the key's or method's default.
    pub assertion_algorithm: Option<AssertionAlgorithm>,
    /// The `kid` for `private_key_jwt` assertions when the registered JWKS does not use the
    /// RFC 7638 thumbprint.
    pub key_id: Option<String>,
    /// Ports tried in order on `127.0.0.1`; empty for an ephemeral port.
    pub redirect_ports: Vec<u16>,
    /// The host in the redirect URI (the listener binds `127.0.0.1` whatever it is).
    pub redirect_host: RedirectHost,
    pub redirect_path: String,
    pub scopes: Vec<String>,
    /// `None` or empty: no assurance level is asked for.
    pub acr_values: Option<AcrValues>,
    pub prompt: Option<String>,
    pub max_age: Option<u32>,
    /// The lowest `id_assurance_level` (1 to 3) an ID token may carry; `None` checks none.
    pub min_id_assurance_level: Option<u8>,
    pub role_selection: RoleSelection,
    pub userinfo_signed: bool,
    /// Whether the authorization request is pushed (RFC 9126): `auto` when the provider offers it.
    pub par: PushedRequests,
    pub session: SessionPolicy,
    /// Audiences besides the client id that an ID token may also name (OIDC Core §3.1.3.7
    /// step 3); any other audience is refused. Empty unless the profile says otherwise.
    pub trusted_audiences: Vec<String>,
    /// The careid broker that holds the client credential and relays the token, PAR and
    /// revocation requests: then the profile holds no credential (see `broker.rs`).
    pub broker: Option<String>,
    pub built_in: bool,
}

impl Profile {
    /// The keychain account holding this profile's client secret or private key, if it needs one.
    /// The built-in mock's test secret is public and needs none; a profile with a broker holds
    /// none (the broker does).
    pub fn credential_account(&self) -> Option<String> {
        if self.issuer == IssuerSource::BuiltInMock || self.broker.is_some() {
            return None;
        }
        self.client_auth
            .credential()
            .map(|credential| match credential {
                Credential::ClientSecret => format!("profile/{}/client-secret", self.name),
                Credential::PrivateKey => format!("profile/{}/private-key", self.name),
            })
    }

    /// The redirect URIs to register for this profile's client.
    pub fn redirect_registration(&self) -> RedirectRegistration {
        let host = self.redirect_host;
        if self.redirect_ports.is_empty() {
            return RedirectRegistration {
                uris: Vec::new(),
                any_port: true,
                any_port_uri: Some(format!("http://{}{}", host.as_str(), self.redirect_path)),
            };
        }
        RedirectRegistration {
            uris: self
                .redirect_ports
                .iter()
                .map(|port| host.redirect_uri(*port, &self.redirect_path))
                .collect(),
            any_port: false,
            any_port_uri: None,
        }
    }

    /// What the user must still supply before signing in, in words; empty when ready.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.client_id.is_none() {
            missing.push("a client id");
        }
        missing
    }

    /// The key this profile signs its assertions with: `pem` read, with the profile's `key_id`
    /// and `assertion_algorithm`, and held to [`check_assertion_algorithm`], so an EC key for a
    /// CIS2 profile is refused when it is stored and when it is used.
    pub fn signing_key(&self, pem: &str) -> Result<PrivateKey, ClientAuthError> {
        PrivateKey::for_registration(
            pem,
            self.issuer_kind(),
            self.key_id.as_deref(),
            self.assertion_algorithm
                .and_then(AssertionAlgorithm::signing),
        )
    }

    /// Whose rules the provider is held to: CIS2's for an issuer under `spineservices.nhs.uk`,
    /// whose registration rules apply (REFERENCE §2); any provider's otherwise, the built-in
    /// mock included.
    pub fn issuer_kind(&self) -> IssuerKind {
        match &self.issuer {
            IssuerSource::Url(issuer) => IssuerKind::of(issuer),
            IssuerSource::BuiltInMock => IssuerKind::Other,
        }
    }

    /// Whether the issuer is CIS2's ([`Profile::issuer_kind`]).
    pub fn is_cis2(&self) -> bool {
        self.issuer_kind() == IssuerKind::Cis2
    }

    fn validate(&self) -> Result<(), ProfileError> {
        let invalid = |problem: String| {
            Err(ProfileError::Invalid(format!(
                "profile {:?}: {problem}",
                self.name
            )))
        };
        if let Some(broker) = &self.broker {
            if let Err(problem) = check_broker_url(broker) {
                return invalid(problem);
            }
        }
        if let IssuerSource::Url(issuer) = &self.issuer {
            // With a broker the broker authenticates: the profile's method is not used.
            if self.client_auth == ClientAuth::None
                && IssuerKind::of(issuer) == IssuerKind::Cis2
                && self.broker.is_none()
            {
                return invalid(
                    "CIS2 registers confidential clients only: choose a client authentication"
                        .into(),
                );
            }
        }
        if let Some(algorithm) = self.assertion_algorithm {
            let fits = match (self.client_auth, algorithm) {
                (ClientAuth::PrivateKeyJwt, AssertionAlgorithm::Signing(signing)) => {
                    if let Err(error) = check_assertion_algorithm(signing, self.issuer_kind()) {
                        return invalid(error.to_string());
                    }
                    true
                }
                (ClientAuth::ClientSecretJwt, AssertionAlgorithm::Hmac(_)) => true,
                _ => false,
            };
            if !fits {
                return invalid(does_not_fit(algorithm.as_str(), self.client_auth));
            }
        }
        if !self.scopes.iter().any(|scope| scope == "openid") {
            return invalid("the scopes must include openid".into());
        }
        if let Some(port) = self.redirect_ports.iter().find(|port| **port == 0) {
            return invalid(format!(
                "redirect port {port} is not a port; leave the list empty for an ephemeral one"
            ));
        }
        let mut ports = self.redirect_ports.clone();
        ports.sort_unstable();
        ports.dedup();
        if ports.len() != self.redirect_ports.len() {
            return invalid("a redirect port is listed twice".into());
        }
        if !self.redirect_path.starts_with('/') || self.redirect_path.contains(['?', '#']) {
            return invalid(format!(
                "redirect path {:?} must start with / and have no query",
                self.redirect_path
            ));
        }
        if let Some(level) = self.min_id_assurance_level {
            if !(1..=3).contains(&level) {
                return invalid(format!(
                    "min_id_assurance_level {level} is not an identity assurance level (1 to 3)"
                ));
            }
        }
        if let Some(prompt) = &self.prompt {
            let values: Vec<&str> = prompt.split(' ').collect();
            if let Some(unknown) = values
                .iter()
                .find(|v| !["none", "login", "consent", "select_account"].contains(v))
            {
                return invalid(format!("unknown prompt value {unknown:?}"));
            }
            if values.contains(&"none") && values.len() > 1 {
                return invalid("prompt none cannot be combined with other values".into());
            }
        }
        let policy = self.session;
        if policy.inactivity_minutes == 0 || policy.absolute_hours == 0 {
            return invalid("session limits must be at least one minute and one hour".into());
        }
        Ok(())
    }
}

fn is_built_in(name: &str) -> bool {
    built_in_profiles()
        .iter()
        .any(|profile| profile.name == name)
}

/// The built-in mock is whole as it is: its client, issuer and users are the mock's own, so a
/// setting from the command line could only break it.
fn refuse_built_in_mock(name: &str) -> Result<(), ProfileError> {
    if name == built_in_mock().name {
        return Err(ProfileError::BuiltInMock(name.to_owned()));
    }
    Ok(())
}

/// Why an assertion algorithm cannot be used with `method`: an unknown name, or one for the
/// other kind of assertion.
fn does_not_fit(algorithm: &str, method: ClientAuth) -> String {
    format!(
        "assertion algorithm {algorithm:?} does not fit {}: private_key_jwt takes RS256, RS512 or ES256; client_secret_jwt takes HS256 or HS512",
        method.as_str()
    )
}

/// The issuer a profile entry names, held to the issuer rules ([`IssuerUrl::new`]).
fn issuer_url(name: &str, issuer: &str) -> Result<IssuerUrl, ProfileError> {
    IssuerUrl::new(issuer)
        .map_err(|problem| ProfileError::Invalid(format!("profile {name:?}: {problem}")))
}

/// A broker's address: `https`, or `http` on `127.0.0.1` only (a broker on this machine, for
/// tests and the built-in mock), with no query, fragment or credentials.
pub fn check_broker_url(url: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(url).map_err(|error| format!("broker {url:?} is not a URL: {error}"))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("broker {url:?} must not have a query or fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "broker {} must not carry credentials",
            display_url(url)
        ));
    }
    if is_secure(&parsed, PlainHttp::On127001) {
        Ok(())
    } else {
        Err(format!(
            "broker {url:?} must use https (http is allowed on 127.0.0.1 only)"
        ))
    }
}

impl ProfileEntry {
    /// Whether `other` names the same provider and client: issuer, client and its
    /// authentication, keys, redirect address, audiences and broker. The rest is how it signs
    /// in.
    fn same_provider_and_client(&self, other: &ProfileEntry) -> bool {
        (
            &self.issuer,
            &self.client_id,
            &self.client_auth,
            &self.assertion_algorithm,
            &self.key_id,
            &self.redirect_ports,
            &self.redirect_host,
            &self.redirect_path,
            &self.trusted_audiences,
            &self.broker,
        ) == (
            &other.issuer,
            &other.client_id,
            &other.client_auth,
            &other.assertion_algorithm,
            &other.key_id,
            &other.redirect_ports,
            &other.redirect_host,
            &other.redirect_path,
            &other.trusted_audiences,
            &other.broker,
        )
    }
}

/// One profile as written in `profiles.toml`. For a built-in name every field is optional and
/// completes or overrides the built-in; a custom profile needs an issuer and a client id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<ClientAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_ports: Option<Vec<u16>>,
    /// `127.0.0.1` (the default) or `localhost`, as registered with the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_host: Option<RedirectHost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// The lowest `id_assurance_level` accepted (1 to 3); none checked by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_id_assurance_level: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_selection: Option<RoleSelection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_signed: Option<bool>,
    /// `auto` (the default: when the provider offers it), `always` or `never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub par: Option<PushedRequests>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionPolicy>,
    /// Audiences besides the client id that ID tokens may also name; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_audiences: Option<Vec<String>>,
    /// The careid broker's address (https, or http on 127.0.0.1); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
}

impl ProfileEntry {
    /// A profile with a broker holds no credential: the broker authenticates the client, so
    /// a client authentication method, assertion algorithm or key id with it is refused.
    fn check_broker(&self, name: &str) -> Result<(), ProfileError> {
        if self.broker.is_none() {
            return Ok(());
        }
        let given: Vec<&str> = [
            ("client_auth", self.client_auth.is_some()),
            ("assertion_algorithm", self.assertion_algorithm.is_some()),
            ("key_id", self.key_id.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect();
        if given.is_empty() {
            return Ok(());
        }
        Err(ProfileError::Invalid(format!(
            "profile {name:?}: a profile with a broker holds no client secret or private key \
             (the broker authenticates the client), so it takes no {}",
            given.join(", ")
        )))
    }

    /// Completes or overrides `profile` with this entry, reading each value as its type: the
    /// one place a profile's issuer, client id, assertion algorithm and `acr_values` are parsed.
    fn apply(&self, profile: &mut Profile) -> Result<(), ProfileError> {
        let set = |target: &mut Option<String>, value: &Option<String>| {
            if value.is_some() {
                target.clone_from(value);
            }
        };
        if let Some(description) = &self.description {
            profile.description.clone_from(description);
        }
        if let Some(issuer) = &self.issuer {
            profile.issuer = IssuerSource::Url(issuer_url(&profile.name, issuer)?);
        }
        if let Some(client_id) = &self.client_id {
            profile.client_id = Some(ClientId::new(client_id.as_str()));
        }
        profile.client_auth = self.client_auth.unwrap_or(profile.client_auth);
        if let Some(algorithm) = &self.assertion_algorithm {
            let parsed = algorithm.parse::<AssertionAlgorithm>().map_err(|_| {
                ProfileError::Invalid(format!(
                    "profile {:?}: {}",
                    profile.name,
                    does_not_fit(algorithm, profile.client_auth)
                ))
            })?;
            profile.assertion_algorithm = Some(parsed);
        }
        set(&mut profile.key_id, &self.key_id);
        if let Some(ports) = &self.redirect_ports {
            profile.redirect_ports.clone_from(ports);
        }
        profile.redirect_host = self.redirect_host.unwrap_or(profile.redirect_host);
        if let Some(path) = &self.redirect_path {
            profile.redirect_path.clone_from(path);
        }
        if let Some(scopes) = &self.scopes {
            profile.scopes.clone_from(scopes);
        }
        if let Some(acr_values) = &self.acr_values {
            profile.acr_values = Some(AcrValues::new(acr_values.as_str()));
        }
        set(&mut profile.prompt, &self.prompt);
        profile.max_age = self.max_age.or(profile.max_age);
        profile.min_id_assurance_level = self
            .min_id_assurance_level
            .or(profile.min_id_assurance_level);
        profile.role_selection = self.role_selection.unwrap_or(profile.role_selection);
        profile.userinfo_signed = self.userinfo_signed.unwrap_or(profile.userinfo_signed);
        profile.par = self.par.unwrap_or(profile.par);
        profile.session = self.session.unwrap_or(profile.session);
        if let Some(audiences) = &self.trusted_audiences {
            profile.trusted_audiences.clone_from(audiences);
        }
        set(&mut profile.broker, &self.broker);
        Ok(())
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesFile {
    /// The profile used when a command names none (`careid profile use`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileEntry>,
}

/// What went wrong with profiles. Messages name the profile and the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    #[error("no profile named {0:?}")]
    NotFound(String),
    #[error("a profile named {0:?} exists already")]
    Exists(String),
    #[error("{0:?} is a built-in profile and cannot be removed (its settings in the file can be)")]
    BuiltIn(String),
    #[error("{0:?} is the built-in mock provider: it cannot be added or removed, and its issuer, client and keys are the mock's own; `careid profile set {0} --acr ...` changes how it signs in (acr_values, prompt, max_age, scopes, role selection, PAR, session limits), and a profile of your own is for another provider")]
    BuiltInMock(String),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read or write {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid profiles file: {message}")]
    Parse { path: String, message: String },
}

impl From<crate::client_auth::UnknownClientAuth> for ProfileError {
    fn from(unknown: crate::client_auth::UnknownClientAuth) -> Self {
        ProfileError::Invalid(unknown.to_string())
    }
}

impl ProfileError {
    pub fn code(&self) -> &'static str {
        match self {
            ProfileError::NotFound(_) => "profile_not_found",
            ProfileError::Exists(_) => "profile_exists",
            // The app's words for both: built-ins cannot be changed, add one of your own.
            ProfileError::BuiltIn(_) | ProfileError::BuiltInMock(_) => "profile_built_in",
            ProfileError::Invalid(_) => "profile_invalid",
            ProfileError::File { .. } => "profile_file",
            ProfileError::Parse { .. } => "profile_file_invalid",
        }
    }
}

/// The profiles: built-ins, completed by the file, and the file's custom ones.
#[derive(Debug)]
pub struct Profiles {
    path: PathBuf,
    file: ProfilesFile,
}

impl Profiles {
    /// Reads `profiles.toml` from `config_dir`; a missing file means no custom profiles.
    pub fn load(config_dir: &Path) -> Result<Self, ProfileError> {
        let path = config_dir.join(PROFILES_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_text(path, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                path,
                file: ProfilesFile::default(),
            }),
            Err(source) => Err(ProfileError::File {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// The profiles of a `profiles.toml` whose text is `text`, each one validated; `path` is
    /// where [`Profiles::save`] writes them.
    pub(crate) fn from_text(path: PathBuf, text: &str) -> Result<Self, ProfileError> {
        let file = toml::from_str(text).map_err(|error| ProfileError::Parse {
            path: path.display().to_string(),
            message: error.message().to_owned(),
        })?;
        let profiles = Self { path, file };
        for name in profiles.file.profiles.keys() {
            profiles.get(name)?;
        }
        Ok(profiles)
    }

    /// Every profile: the built-ins first, then custom ones by name.
    pub fn list(&self) -> Result<Vec<Profile>, ProfileError> {
        let mut names: Vec<String> = built_in_profiles().into_iter().map(|p| p.name).collect();
        names.extend(
            self.file
                .profiles
                .keys()
                .filter(|name| !names.contains(name))
                .cloned()
                .collect::<Vec<_>>(),
        );
        names.iter().map(|name| self.get(name)).collect()
    }

    pub fn get(&self, name: &str) -> Result<Profile, ProfileError> {
        let entry = self.file.profiles.get(name);
        let mut profile = match built_in_profiles().into_iter().find(|p| p.name == name) {
            Some(profile) => profile,
            None => {
                let entry = entry.ok_or_else(|| ProfileError::NotFound(name.to_owned()))?;
                let issuer = entry.issuer.clone().ok_or_else(|| {
                    ProfileError::Invalid(format!("profile {name:?} has no issuer"))
                })?;
                Profile {
                    name: name.to_owned(),
                    description: String::new(),
                    issuer: IssuerSource::Url(issuer_url(name, &issuer)?),
                    client_id: None,
                    client_auth: ClientAuth::ClientSecretBasic,
                    assertion_algorithm: None,
                    key_id: None,
                    redirect_ports: Vec::new(),
                    redirect_host: RedirectHost::default(),
                    redirect_path: "/callback".to_owned(),
                    // careid is a CIS2 client: a custom profile is usually another CIS2-like
                    // issuer, whose UserInfo releases the roles only for these scopes.
                    scopes: cis2_scopes(),
                    acr_values: None,
                    prompt: None,
                    max_age: None,
                    min_id_assurance_level: None,
                    role_selection: RoleSelection::App,
                    userinfo_signed: false,
                    par: PushedRequests::Auto,
                    session: SessionPolicy::default(),
                    trusted_audiences: Vec::new(),
                    broker: None,
                    built_in: false,
                }
            }
        };
        if let Some(entry) = entry {
            entry.check_broker(name)?;
            if profile.issuer == IssuerSource::BuiltInMock && entry.issuer.is_some() {
                return Err(ProfileError::Invalid(
                    "the built-in mock's issuer is chosen at start".into(),
                ));
            }
            entry.apply(&mut profile)?;
        }
        profile.validate()?;
        Ok(profile)
    }

    /// Adds a custom profile, or completes a built-in one (CIS2 environments need the user's
    /// client id). A custom profile needs an issuer and a client id.
    pub fn add(&mut self, name: &str, entry: ProfileEntry) -> Result<Profile, ProfileError> {
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_name {
            return Err(ProfileError::Invalid(format!(
                "profile name {name:?} must be 1 to 64 letters, digits, - or _"
            )));
        }
        refuse_built_in_mock(name)?;
        if self.file.profiles.contains_key(name) {
            return Err(ProfileError::Exists(name.to_owned()));
        }
        self.put(name, entry, None)
    }

    /// Changes a profile in place: `edit` is given its entry in the file (empty for a built-in
    /// with no settings yet), and the result is held to the same rules as [`Profiles::add`].
    /// Its keychain entries and session are not touched.
    pub fn change(
        &mut self,
        name: &str,
        edit: impl FnOnce(&mut ProfileEntry),
    ) -> Result<Profile, ProfileError> {
        let before = self.file.profiles.get(name).cloned();
        if before.is_none() && !is_built_in(name) {
            return Err(ProfileError::NotFound(name.to_owned()));
        }
        let mut entry = before.clone().unwrap_or_default();
        edit(&mut entry);
        // The built-in mock changes how it signs in, never who it is.
        if name == built_in_mock().name
            && !entry.same_provider_and_client(&before.clone().unwrap_or_default())
        {
            return Err(ProfileError::BuiltInMock(name.to_owned()));
        }
        self.put(name, entry, before)
    }

    /// Writes `entry` as profile `name` if it makes a valid profile; otherwise puts `before`
    /// back (or nothing).
    fn put(
        &mut self,
        name: &str,
        entry: ProfileEntry,
        before: Option<ProfileEntry>,
    ) -> Result<Profile, ProfileError> {
        if !is_built_in(name) && (entry.issuer.is_none() || entry.client_id.is_none()) {
            return Err(ProfileError::Invalid(format!(
                "profile {name:?} needs an issuer and a client id"
            )));
        }
        self.file.profiles.insert(name.to_owned(), entry);
        match self.get(name) {
            Ok(profile) => Ok(profile),
            Err(error) => {
                match before {
                    Some(before) => self.file.profiles.insert(name.to_owned(), before),
                    None => self.file.profiles.remove(name),
                };
                Err(error)
            }
        }
    }

    /// Removes a custom profile, or a built-in one's settings from the file. The default
    /// returns to the built-in mock when it was this profile.
    pub fn remove(&mut self, name: &str) -> Result<(), ProfileError> {
        refuse_built_in_mock(name)?;
        if self.file.profiles.remove(name).is_some() {
            if self.file.default_profile.as_deref() == Some(name) && !is_built_in(name) {
                self.file.default_profile = None;
            }
            return Ok(());
        }
        if is_built_in(name) {
            return Err(ProfileError::BuiltIn(name.to_owned()));
        }
        Err(ProfileError::NotFound(name.to_owned()))
    }

    /// The profile a command uses when it names none: the one set by [`Profiles::set_default`]
    /// while it exists, the built-in mock otherwise.
    pub fn default_name(&self) -> String {
        self.file
            .default_profile
            .clone()
            .filter(|name| self.get(name).is_ok())
            .unwrap_or_else(|| built_in_mock().name)
    }

    /// Makes `name`, which must be a profile, the default.
    pub fn set_default(&mut self, name: &str) -> Result<Profile, ProfileError> {
        let profile = self.get(name)?;
        self.file.default_profile = Some(profile.name.clone());
        Ok(profile)
    }

    /// Writes the file: to a temporary file first, then renamed over, so a crash never leaves
    /// half a file.
    pub fn save(&self) -> Result<(), ProfileError> {
        let file_error = |source| ProfileError::File {
            path: self.path.display().to_string(),
            source,
        };
        let text = self.to_text()?;
        crate::files::write_atomically(&self.path, text.as_bytes()).map_err(file_error)
    }

    /// The text [`Profiles::save`] writes.
    pub(crate) fn to_text(&self) -> Result<String, ProfileError> {
        toml::to_string_pretty(&self.file)
            .map_err(|error| ProfileError::Invalid(format!("cannot write profiles: {error}")))
    }
}

#[cfg(test)]
mod tests;
