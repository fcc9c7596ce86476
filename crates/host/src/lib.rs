//! careid-host: the composition root that both front ends (the `careid` CLI and the desktop
//! app) call, so they keep one session between them: the same profiles file, state folder,
//! keychain entries and provider cache, and, for the built-in `mock` profile, the same mock
//! provider (one per user, see [`shared_mock`]).
//!
//! This is where careid meets the machine: platform folders, the environment
//! (`CAREID_CONFIG_DIR`, `CAREID_KEYCHAIN_SERVICE`) and the build kind. `careid-core` stays free
//! of all of it.

pub mod run_cases;
pub mod shared_mock;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use careid_core::discovery::{ProviderCache, ProviderMetadata};
use careid_core::http::{HttpClient, HttpSettings};
use careid_core::signin::{Client, CredentialSource, SignInError};
use careid_core::{
    BuildKind, ClientCredential, IssuerSource, IssuerUrl, Keychain, Profile, ProfileError,
    Profiles, SecretString, SessionStore,
};
use mock_cis2::AutoLogin;

pub use shared_mock::{MockHost, SharedMock, SharedMockError};

/// Discovery and JWKS are trusted from the cache for at most this long (PRODUCT step 2).
pub const PROVIDER_CACHE_AGE: Duration = Duration::from_secs(3600);

/// The default patience for one request to the provider.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What a front end may choose about where careid keeps things.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Keep profiles, state and cache under this folder instead of the platform's folders.
    pub config_dir: Option<PathBuf>,
    /// A keychain service name of one's own (tests run many isolated sessions in one keychain).
    pub keychain_service: Option<String>,
    pub http_timeout: Duration,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            config_dir: None,
            keychain_service: None,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
        }
    }
}

impl HostOptions {
    /// The options from the environment: `CAREID_CONFIG_DIR` and `CAREID_KEYCHAIN_SERVICE`,
    /// which the CLI and the app both honour, so a tester's separate world is the same for both.
    pub fn from_env() -> Self {
        let non_empty = |name| std::env::var_os(name).filter(|value| !value.is_empty());
        Self {
            config_dir: non_empty("CAREID_CONFIG_DIR").map(PathBuf::from),
            keychain_service: non_empty("CAREID_KEYCHAIN_SERVICE")
                .and_then(|value| value.into_string().ok()),
            http_timeout: DEFAULT_HTTP_TIMEOUT,
        }
    }
}

/// Why the host could not be set up or a profile connected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    #[error("this platform has no per-user config folder; set CAREID_CONFIG_DIR")]
    NoConfigFolder,
    /// A folder careid keeps things in could be changed by another user.
    #[error(transparent)]
    NotPrivate(#[from] careid_core::files::NotPrivate),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error(transparent)]
    Mock(#[from] SharedMockError),
}

impl HostError {
    /// A stable code for the UI and for callers to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            HostError::NoConfigFolder => "no_config_folder",
            HostError::NotPrivate(error) => error.code(),
            HostError::Profile(error) => error.code(),
            HostError::SignIn(error) => error.code(),
            HostError::Mock(error) => error.code(),
        }
    }
}

/// Where careid keeps things for this user, and what every connection shares: one HTTP client
/// and one provider cache for the life of the process.
#[derive(Debug)]
pub struct Host {
    config_dir: PathBuf,
    state_dir: PathBuf,
    cache_dir: PathBuf,
    keychain: Keychain,
    http: HttpClient,
    providers: Arc<ProviderCache>,
    mock: Arc<MockHost>,
}

impl Host {
    /// With a config folder chosen, everything careid writes goes under it (profiles at the top,
    /// `state/` and `cache/` below); otherwise the platform's config, state and cache folders.
    pub fn new(options: HostOptions) -> Result<Self, HostError> {
        let (config_dir, state_dir, cache_dir) = match &options.config_dir {
            Some(dir) => (dir.clone(), dir.join("state"), dir.join("cache")),
            None => {
                let config = dirs::config_dir().ok_or(HostError::NoConfigFolder)?;
                let state = dirs::state_dir()
                    .or_else(dirs::data_local_dir)
                    .unwrap_or_else(|| config.clone());
                let cache = dirs::cache_dir().unwrap_or_else(|| state.clone());
                (
                    config.join("careid"),
                    state.join("careid"),
                    cache.join("careid"),
                )
            }
        };
        // What careid reads back from these folders (profiles and their issuers, sessions,
        // discovery documents and signing keys) must be what careid wrote: a folder another user
        // can write to is refused before anything is read from it.
        for dir in [&config_dir, &state_dir, &cache_dir] {
            careid_core::files::check_private(dir)?;
        }
        let keychain = match options.keychain_service {
            Some(service) => Keychain::with_service(service),
            None => Keychain::new(build_kind()),
        };
        let http = HttpClient::new(HttpSettings {
            timeout: options.http_timeout.max(Duration::from_secs(1)),
            ..HttpSettings::default()
        })
        .map_err(|error| SignInError::Http {
            endpoint: "client",
            source: error,
        })?;
        let providers = Arc::new(
            careid_core::CacheFolder::new(cache_dir.clone()).provider_cache(PROVIDER_CACHE_AGE),
        );
        let mock = Arc::new(MockHost::new(state_dir.clone()));
        Ok(Self {
            config_dir,
            state_dir,
            cache_dir,
            keychain,
            http,
            providers,
            mock,
        })
    }

    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn providers(&self) -> &Arc<ProviderCache> {
        &self.providers
    }

    /// The built-in profiles and the custom ones from the profiles file, read now (another
    /// process may have changed them).
    pub fn profiles(&self) -> Result<Profiles, ProfileError> {
        Profiles::load(&self.config_dir)
    }

    pub fn profile(&self, name: &str) -> Result<Profile, ProfileError> {
        self.profiles()?.get(name)
    }

    /// The profile to use when none is chosen: the default set by `careid profile use`, else
    /// the built-in mock (also when the profiles file cannot be read: using the profile then
    /// says why).
    pub fn default_profile_name(&self) -> String {
        self.profiles().map_or_else(
            |_| careid_core::profile::built_in_mock().name,
            |profiles| profiles.default_name(),
        )
    }

    pub fn session_store(&self) -> SessionStore {
        SessionStore::new(self.keychain.clone(), self.state_dir.clone())
    }

    /// The user's one built-in mock provider: this process's, or another careid process's.
    pub fn mock(&self) -> &MockHost {
        &self.mock
    }

    /// The core's client for `profile`. For the built-in mock this finds (or starts) the user's
    /// one mock provider first; `auto_login` asks it to sign a test user in without a page.
    pub async fn connect(
        &self,
        profile: Profile,
        auto_login: Option<&AutoLogin>,
    ) -> Result<Connection, HostError> {
        if let Some(missing) = profile.missing().first() {
            return Err(SignInError::ProfileNotReady {
                profile: profile.name.clone(),
                missing: (*missing).to_owned(),
            }
            .into());
        }
        let (issuer, credential, mock, http) = match &profile.issuer {
            // Read when a request first needs it: most uses of a kept session make none.
            IssuerSource::Url(issuer) => (
                issuer.clone(),
                CredentialSource::Keychain(self.keychain.clone()),
                None,
                self.http.clone(),
            ),
            IssuerSource::BuiltInMock => {
                let mock = self.mock.resolve(&self.http, auto_login).await?;
                let credential = mock
                    .client_secret(profile.client_id.as_deref().unwrap_or_default())
                    .map_or(ClientCredential::None, |secret| {
                        ClientCredential::Secret(careid_core::secret::ClientSecret::new(secret))
                    })
                    .into();
                let http = self.mock_http(mock.issuer());
                (mock.issuer().clone(), credential, Some(mock), http)
            }
        };
        let client = Client::new(
            profile,
            issuer,
            credential,
            http,
            Arc::clone(&self.providers),
            self.session_store(),
        )?;
        Ok(Connection {
            client: Arc::new(client),
            mock,
        })
    }

    /// The HTTP client for requests to the user's mock at `issuer`: when one finds the mock
    /// gone (the process that served it ended), this process takes it over and sends the
    /// request once more, so no command needs to know.
    fn mock_http(&self, issuer: &IssuerUrl) -> HttpClient {
        self.http.reviving(self.mock.revival(&self.http, issuer))
    }
}

/// What `doctor` found at an issuer: the report, and why the JWKS could not be fetched if so.
#[derive(Debug)]
pub struct Diagnosis {
    pub issuer: IssuerUrl,
    pub report: careid_core::DoctorReport,
    pub jwks_error: Option<String>,
    /// Why the discovery document could not be used, when it could not: the report then says
    /// so in its rows, and this is the outcome (unreachable, or unsafe).
    pub discovery_error: Option<SignInError>,
}

impl Host {
    /// The issuer a profile signs in at: its own, or the address of the user's mock (found or
    /// started now, and returned).
    pub async fn issuer_of(
        &self,
        profile: &Profile,
    ) -> Result<(IssuerUrl, Option<SharedMock>), HostError> {
        match &profile.issuer {
            IssuerSource::Url(issuer) => Ok((issuer.clone(), None)),
            IssuerSource::BuiltInMock => {
                let mock = self.mock.resolve(&self.http, None).await?;
                Ok((mock.issuer().clone(), Some(mock)))
            }
        }
    }

    /// [`Self::diagnose`] for a profile's provider, with the redirect URIs its client must have
    /// registered (`careid doctor` without `--issuer`, the app's "Check provider").
    pub async fn diagnose_profile(&self, profile: &Profile) -> Result<Diagnosis, HostError> {
        let (issuer, mock) = self.issuer_of(profile).await?;
        let http = match mock {
            Some(_) => self.mock_http(&issuer),
            None => self.http.clone(),
        };
        let (mut diagnosis, metadata) = self.diagnose_issuer(&http, &issuer).await?;
        if let Some(metadata) = &metadata {
            diagnosis.report.add_profile_checks(profile, metadata);
        }
        diagnosis
            .report
            .add_redirect_registration(profile.redirect_registration());
        // Through a broker: the broker too (it answers, brokers this issuer and client id,
        // publishes its keys).
        if let (Some(broker), Some(client_id)) = (&profile.broker, &profile.client_id) {
            let checks =
                careid_core::broker::diagnose(&self.http, broker, &issuer, client_id).await;
            diagnosis.report.checks.extend(checks);
        }
        Ok(diagnosis)
    }

    /// Compares the provider's discovery document and keys with what careid and CIS2 expect,
    /// always fetched afresh: the point is to see the provider as it is now.
    pub async fn diagnose(&self, issuer: &IssuerUrl) -> Result<Diagnosis, HostError> {
        Ok(self.diagnose_issuer(&self.http, issuer).await?.0)
    }

    /// [`Self::diagnose`] through `http`, with the discovery document it read.
    async fn diagnose_issuer(
        &self,
        http: &HttpClient,
        issuer: &IssuerUrl,
    ) -> Result<(Diagnosis, Option<Arc<ProviderMetadata>>), HostError> {
        let providers = ProviderCache::new(PROVIDER_CACHE_AGE);
        let now = std::time::SystemTime::now();
        let metadata = match providers.metadata(http, issuer, now).await {
            Ok(metadata) => metadata,
            Err(error) => {
                let diagnosis = Diagnosis {
                    issuer: issuer.clone(),
                    report: careid_core::DoctorReport::discovery_failed(issuer, &error),
                    jwks_error: None,
                    discovery_error: Some(SignInError::from(error)),
                };
                return Ok((diagnosis, None));
            }
        };
        let jwks = providers.jwks(http, &metadata, now).await;
        let report = careid_core::diagnose(
            issuer,
            &metadata,
            jwks.as_ref().ok().map(|jwks| jwks.as_ref()),
        );
        let diagnosis = Diagnosis {
            issuer: issuer.clone(),
            report,
            jwks_error: jwks.err().map(|error| error.to_string()),
            discovery_error: None,
        };
        Ok((diagnosis, Some(metadata)))
    }
}

/// Why a client secret or private key was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("profile {0:?} uses the built-in mock's own test client, which needs no secret")]
    MockNeedsNone(String),
    #[error(
        "profile {profile:?} signs in through the broker {broker}, which holds the client \
         credential: careid keeps no client secret or private key for it"
    )]
    BrokerHoldsIt { profile: String, broker: String },
    #[error("profile {profile:?} authenticates with {method}, which needs no secret")]
    NoneNeeded {
        profile: String,
        method: &'static str,
    },
    #[error("the secret is empty")]
    Empty,
    #[error("this is not a private key careid can use: {0}")]
    NotAPrivateKey(careid_core::ClientAuthError),
    #[error("profile {profile:?} cannot sign with this key: {source}")]
    KeyNotForProfile {
        profile: String,
        source: careid_core::ClientAuthError,
    },
    #[error("profile {profile:?} uses {method}, which takes a client secret, not a private key")]
    KeyForSecret {
        profile: String,
        method: &'static str,
    },
}

/// Why a profile has no JWKS to give.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error(
        "profile {profile:?} signs in through the broker {broker}, which holds the key and \
         publishes its JWKS itself"
    )]
    Broker { profile: String, broker: String },
    #[error("profile {profile:?} authenticates with {method}, which has no key to publish")]
    NoKey {
        profile: String,
        method: &'static str,
    },
    #[error("profile {0:?} has no private key stored: run `careid profile secret set {0} --from-file KEY.pem`")]
    NotStored(String),
    #[error("the stored key cannot be used: {0}")]
    Unusable(careid_core::ClientAuthError),
}

impl CredentialError {
    pub fn code(&self) -> &'static str {
        match self {
            CredentialError::MockNeedsNone(_) | CredentialError::NoneNeeded { .. } => {
                "credential_not_needed"
            }
            CredentialError::BrokerHoldsIt { .. } => "credential_held_by_broker",
            CredentialError::Empty => "credential_empty",
            CredentialError::NotAPrivateKey(_) => "credential_not_a_key",
            CredentialError::KeyNotForProfile { .. } => "credential_key_not_for_profile",
            CredentialError::KeyForSecret { .. } => "credential_key_for_secret",
        }
    }
}

impl Host {
    /// Stores a profile's client secret or private key in the keychain, after checking it is
    /// the kind the profile needs: a private key must parse before it replaces a working one.
    pub fn store_credential(
        &self,
        name: &str,
        value: SecretString,
    ) -> Result<Result<(), CredentialError>, HostError> {
        use careid_core::Credential;
        let profile = self.profile(name)?;
        let Some(account) = profile.credential_account() else {
            if let Some(broker) = profile.broker {
                return Ok(Err(CredentialError::BrokerHoldsIt {
                    profile: profile.name,
                    broker,
                }));
            }
            return Ok(Err(match profile.issuer {
                IssuerSource::BuiltInMock => CredentialError::MockNeedsNone(profile.name),
                IssuerSource::Url(_) => CredentialError::NoneNeeded {
                    profile: profile.name,
                    method: profile.client_auth.as_str(),
                },
            }));
        };
        let text = value.expose_secret().trim();
        if text.is_empty() {
            return Ok(Err(CredentialError::Empty));
        }
        if profile.client_auth.credential() == Some(Credential::PrivateKey) {
            // A key that reads but that this profile cannot sign with (an EC key for CIS2, or
            // one that does not fit the profile's assertion algorithm) is refused too.
            match profile.signing_key(text) {
                Ok(_) => {}
                Err(
                    source @ (careid_core::ClientAuthError::NotForCis2 { .. }
                    | careid_core::ClientAuthError::AlgorithmMismatch { .. }),
                ) => {
                    return Ok(Err(CredentialError::KeyNotForProfile {
                        profile: profile.name,
                        source,
                    }))
                }
                Err(error) => return Ok(Err(CredentialError::NotAPrivateKey(error))),
            }
        } else if text.contains("PRIVATE KEY-----") {
            return Ok(Err(CredentialError::KeyForSecret {
                profile: profile.name,
                method: profile.client_auth.as_str(),
            }));
        }
        let value = SecretString::new(text.to_owned());
        blocking(|| self.keychain.store(&account, &value)).map_err(SignInError::from)?;
        Ok(Ok(()))
    }

    /// Removes a custom profile with everything that belonged to it: its session (taking the
    /// session lock first, so a session busy in another process leaves the profile as it was)
    /// and its stored credential.
    pub fn remove_profile(&self, name: &str) -> Result<(), HostError> {
        let mut profiles = self.profiles()?;
        let profile = profiles.get(name).ok();
        profiles.remove(name)?;
        let store = self.session_store();
        let lock = blocking(|| {
            careid_core::SessionLock::acquire(
                store.state_dir(),
                name,
                careid_core::signin::ClientOptions::default().lock_timeout,
            )
        })
        .map_err(SignInError::from)?;
        // The session and secret go first: a keychain that cannot delete them leaves the
        // profile as it was, not a profile gone with its secret left behind.
        blocking(|| store.clear(&lock)).map_err(SignInError::from)?;
        if let Some(account) = profile.as_ref().and_then(Profile::credential_account) {
            blocking(|| self.keychain.delete(&account)).map_err(SignInError::from)?;
        }
        profiles.save()?;
        drop(lock);
        Ok(())
    }

    /// The public JWK Set of the profile's private key (`private_key_jwt`): what a tester with
    /// their own registration gives CIS2 as the JWKS. Only the public half ever leaves: the key
    /// is read from the keychain and parsed as the profile would sign with it.
    pub fn public_jwks(&self, name: &str) -> Result<Result<String, JwksError>, HostError> {
        use careid_core::Credential;
        let profile = self.profile(name)?;
        if let Some(broker) = profile.broker {
            return Ok(Err(JwksError::Broker {
                profile: profile.name,
                broker,
            }));
        }
        if profile.client_auth.credential() != Some(Credential::PrivateKey) {
            return Ok(Err(JwksError::NoKey {
                profile: profile.name,
                method: profile.client_auth.as_str(),
            }));
        }
        let Some(account) = profile.credential_account() else {
            return Ok(Err(JwksError::NotStored(profile.name)));
        };
        let Some(pem) = blocking(|| self.keychain.load(&account)).map_err(SignInError::from)?
        else {
            return Ok(Err(JwksError::NotStored(profile.name)));
        };
        let key = match profile.signing_key(pem.expose_secret()) {
            Ok(key) => key,
            Err(source) => return Ok(Err(JwksError::Unusable(source))),
        };
        Ok(Ok(format!(r#"{{"keys":[{}]}}"#, key.public_jwk())))
    }

    /// Whether the profile's credential is in the keychain: `None` when it needs none, or when
    /// the keychain cannot say.
    pub fn credential_stored(&self, profile: &Profile) -> Option<bool> {
        let account = profile.credential_account()?;
        blocking(|| self.keychain.load(&account))
            .ok()
            .map(|value| value.is_some())
    }
}

/// A profile's client, and the mock provider it talks to when the profile is the built-in mock
/// (whose client takes the mock over when the process serving it has ended). The
/// client is shared, so work that must not be cut short (a session watcher's refresh) can run
/// as a task of its own.
#[derive(Debug)]
pub struct Connection {
    pub client: Arc<Client>,
    mock: Option<SharedMock>,
}

impl Connection {
    /// The built-in mock this connection uses, if the profile is `mock`.
    pub fn mock(&self) -> Option<&SharedMock> {
        self.mock.as_ref()
    }
}

/// Debug and release builds keep their keychain entries apart, so a development build never
/// reads or rotates a real session.
pub fn build_kind() -> BuildKind {
    if cfg!(debug_assertions) {
        BuildKind::Debug
    } else {
        BuildKind::Release
    }
}

/// Runs blocking work (keychain D-Bus calls that may wait on an unlock prompt, file locks) off
/// the async worker threads when on a multi-threaded runtime.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    careid_core::signin::blocking(work)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn folders_other_users_can_write_are_refused_at_start() {
        let cases = [
            ("config folder", ""),
            ("state folder", "state"),
            ("cache folder", "cache"),
        ];
        for (name, below) in cases {
            let home = tempfile::tempdir().expect("temp dir");
            let config = home.path().join("careid");
            for dir in [config.clone(), config.join("state"), config.join("cache")] {
                careid_core::files::create_private_dir(&dir).expect("created");
            }
            let shared = match below {
                "" => config.clone(),
                below => config.join(below),
            };
            std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777))
                .expect("chmod");
            let options = HostOptions {
                config_dir: Some(config.clone()),
                keychain_service: Some("careid-host-unit-test".to_owned()),
                ..HostOptions::default()
            };
            let error = Host::new(options.clone()).expect_err(name);
            assert_eq!(error.code(), "folder_writable_by_others", "{name}");
            let message = error.to_string();
            assert!(
                message.contains(&*shared.to_string_lossy()),
                "{name}: {message}"
            );
            assert!(message.contains("chmod go-w"), "{name}: {message}");

            std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o700))
                .expect("chmod");
            assert!(Host::new(options).is_ok(), "{name}: fixed");
        }
    }
}
