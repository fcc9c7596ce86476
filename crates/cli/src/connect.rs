//! Builds the core's [`Client`] for the chosen profile, starting the built-in mock provider
//! in-process when the profile is `mock`.

use std::sync::Arc;
use std::time::Duration;

use careid_core::discovery::ProviderCache;
use careid_core::http::{HttpClient, HttpSettings};
use careid_core::signin::{load_credential, Client, SignInError};
use careid_core::{ClientCredential, IssuerSource, Profile, SecretString};
use mock_cis2::{AutoLogin, MockCis2, RunningMock};

use crate::context::Context;

/// Discovery and JWKS are trusted from the cache for at most this long (PRODUCT step 2).
pub const PROVIDER_CACHE_AGE: Duration = Duration::from_secs(3600);

/// The profile's client, and the mock provider it talks to when the profile is the built-in
/// mock (it lives as long as this value).
#[derive(Debug)]
pub struct Connection {
    pub client: Client,
    /// Held so the built-in mock serves for as long as the client needs it.
    _mock: Option<RunningMock>,
}

/// Options for the built-in mock, which only the `mock` profile uses.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MockArgs {
    /// With the built-in mock: sign this user in without a page, USER_ID[:AUTHENTICATOR[:ROLE_ID]].
    #[arg(long, env = "CAREID_MOCK_AUTO_LOGIN", value_name = "USER[:AUTH[:ROLE]]", value_parser = parse_auto_login)]
    pub mock_auto_login: Option<AutoLogin>,
}

fn parse_auto_login(text: &str) -> Result<AutoLogin, String> {
    text.parse()
}

impl Connection {
    pub async fn open(context: &Context, mock_args: &MockArgs) -> anyhow::Result<Self> {
        let profile = context.profile()?;
        Self::open_profile(context, profile, mock_args).await
    }

    pub async fn open_profile(
        context: &Context,
        profile: Profile,
        mock_args: &MockArgs,
    ) -> anyhow::Result<Self> {
        if let Some(missing) = profile.missing().first() {
            return Err(SignInError::ProfileNotReady {
                profile: profile.name.clone(),
                missing: (*missing).to_owned(),
            }
            .into());
        }
        let http = http_client(context)?;
        let providers = Arc::new(ProviderCache::new(
            Some(context.cache_dir.clone()),
            PROVIDER_CACHE_AGE,
        ));
        let (issuer, credential, mock) = match &profile.issuer {
            IssuerSource::Url(issuer) => (
                issuer.clone(),
                load_credential(&profile, &context.keychain)?,
                None,
            ),
            IssuerSource::BuiltInMock => {
                let running = start_mock(context, mock_args).await?;
                let secret = running
                    .clients()
                    .get(profile.client_id.as_deref().unwrap_or_default())
                    .and_then(|client| client.client_secret.clone())
                    .map_or(ClientCredential::None, |secret| {
                        ClientCredential::Secret(SecretString::new(secret))
                    });
                (running.issuer().to_owned(), secret, Some(running))
            }
        };
        let client = Client::new(
            profile,
            issuer,
            credential,
            http,
            providers,
            context.session_store(),
        )?;
        Ok(Self {
            client,
            _mock: mock,
        })
    }
}

/// The HTTP client with the timeout the user chose.
pub fn http_client(context: &Context) -> anyhow::Result<HttpClient> {
    Ok(HttpClient::new(HttpSettings {
        timeout: Duration::from_secs(context.args.http_timeout.max(1)),
        ..HttpSettings::default()
    })?)
}

/// The built-in mock keeps its keys and grants in the state folder, so a session signed in by
/// one command can be refreshed by the next, as with a real provider.
async fn start_mock(context: &Context, args: &MockArgs) -> anyhow::Result<RunningMock> {
    let mut mock = MockCis2::new().state_file(context.state_dir.join("mock-provider.json"));
    if let Some(auto_login) = args.mock_auto_login.clone() {
        mock = mock.auto_login(auto_login);
    }
    mock.start()
        .await
        .map_err(|error| SignInError::MockStart(error.to_string()).into())
}
