//! Client authentication at the token and revocation endpoints: `client_secret_basic` and
//! `client_secret_post` (RFC 6749 §2.3.1), client assertions (`client_secret_jwt`,
//! `private_key_jwt`: RFC 7523 §2.2, checked in `assertion.rs`), and `none` for a public client
//! (not CIS2 behaviour).

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::assertion::{self, Assertion, ASSERTION_TYPE, NOT_VALID};
use crate::clients::{ClientAuthMethod, RegisteredClient};
use crate::error::{Challenge, OAuthError};
use crate::provider::{now, Provider};

/// The form parameters of a token or revocation request.
#[derive(Debug)]
pub(crate) struct FormParameters(Vec<(String, String)>);

impl FormParameters {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn pairs(&self) -> impl Iterator<Item = &(String, String)> {
        self.0.iter()
    }

    /// RFC 6749 §3.2: request parameters must not be repeated.
    pub fn repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(index, (name, _))| {
            self.0[..index]
                .iter()
                .any(|(earlier, _)| earlier == name)
                .then_some(name.as_str())
        })
    }
}

/// The credentials a request presented, before they are checked.
enum Presented {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    ClientIdOnly(String),
    /// RFC 7521 §4.2: the client is named by `client_id` when sent, else by the assertion's `iss`.
    Assertion {
        client_id: String,
        assertion: Assertion,
    },
}

fn form_decode(text: &str) -> String {
    // RFC 6749 §2.3.1: the Basic user name and password are form-urlencoded first.
    url::form_urlencoded::parse(format!("v={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

fn presented(headers: &HeaderMap, form: &FormParameters) -> Result<Presented, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
                .map(|(_, credentials)| credentials.trim().to_owned())
        });
    let form_secret = form.get("client_secret");
    if form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some() {
        if basic.is_some() || form_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "more than one client authentication method was used",
            ));
        }
        if form.get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_client(format!(
                "client_assertion_type must be {ASSERTION_TYPE}"
            )));
        }
        let assertion = form
            .get("client_assertion")
            .ok_or_else(|| OAuthError::invalid_client("client_assertion is missing"))
            .and_then(|text| {
                Assertion::parse(text).map_err(|_| OAuthError::invalid_client(NOT_VALID))
            })?;
        let client_id = form
            .get("client_id")
            .or_else(|| assertion.claimed_issuer())
            .ok_or_else(|| OAuthError::invalid_client(NOT_VALID))?
            .to_owned();
        return Ok(Presented::Assertion {
            client_id,
            assertion,
        });
    }
    match (basic, form_secret) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "more than one client authentication method was used",
        )),
        (Some(credentials), None) => {
            let decoded = STANDARD
                .decode(credentials)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    OAuthError::invalid_client("the Basic credentials are not valid base64")
                        .with_challenge(Challenge::Basic)
                })?;
            let (client_id, secret) = decoded.split_once(':').ok_or_else(|| {
                OAuthError::invalid_client("the Basic credentials lack a ':'")
                    .with_challenge(Challenge::Basic)
            })?;
            Ok(Presented::Basic {
                client_id: form_decode(client_id),
                secret: form_decode(secret),
            })
        }
        (None, Some(secret)) => Ok(Presented::Post {
            client_id: form
                .get("client_id")
                .ok_or_else(|| OAuthError::invalid_client("client_id is missing"))?
                .to_owned(),
            secret: secret.to_owned(),
        }),
        (None, None) => Ok(Presented::ClientIdOnly(
            form.get("client_id")
                .ok_or_else(|| OAuthError::invalid_client("no client authentication"))?
                .to_owned(),
        )),
    }
}

/// Authenticates the client of a token or revocation request with its registered method.
/// What every endpoint that authenticates clients checks first: no parameter repeated (RFC 6749
/// §3.1, §3.2), then the client.
pub(crate) async fn authenticate_form<'p>(
    provider: &'p Provider,
    headers: &HeaderMap,
    form: &FormParameters,
) -> Result<&'p RegisteredClient, OAuthError> {
    authenticate_form_with(provider, headers, form, None).await
}

/// As [`authenticate_form`], for an endpoint that takes `methods` (any of them, from any client
/// that holds the credential it needs) rather than each client's registered method.
pub(crate) async fn authenticate_form_with<'p>(
    provider: &'p Provider,
    headers: &HeaderMap,
    form: &FormParameters,
    methods: Option<&[ClientAuthMethod]>,
) -> Result<&'p RegisteredClient, OAuthError> {
    if let Some(name) = form.repeated() {
        return Err(OAuthError::invalid_request(format!("{name} is repeated")));
    }
    authenticate(provider, headers, form, methods).await
}

async fn authenticate<'p>(
    provider: &'p Provider,
    headers: &HeaderMap,
    form: &FormParameters,
    methods: Option<&[ClientAuthMethod]>,
) -> Result<&'p RegisteredClient, OAuthError> {
    let presented = presented(headers, form)?;
    let (client_id, secret, method, challenge) = match &presented {
        Presented::Basic { client_id, secret } => (
            client_id,
            Some(secret),
            ClientAuthMethod::ClientSecretBasic,
            Challenge::Basic,
        ),
        Presented::Post { client_id, secret } => (
            client_id,
            Some(secret),
            ClientAuthMethod::ClientSecretPost,
            Challenge::None,
        ),
        Presented::ClientIdOnly(client_id) => {
            (client_id, None, ClientAuthMethod::None, Challenge::None)
        }
        Presented::Assertion {
            client_id,
            assertion,
        } => return authenticate_assertion(provider, client_id, assertion, methods).await,
    };
    let refuse =
        |description: String| OAuthError::invalid_client(description).with_challenge(challenge);
    if let Some(body_id) = form.get("client_id") {
        if body_id != client_id {
            return Err(refuse(
                "client_id differs from the authenticated client".into(),
            ));
        }
    }
    let client = provider
        .clients
        .get(client_id)
        .ok_or_else(|| refuse(format!("client {client_id:?} is not registered")))?;
    match methods {
        None if client.token_endpoint_auth_method != method => {
            return Err(refuse(format!(
                "client {client_id} is registered for {}, not {}",
                client.token_endpoint_auth_method.as_str(),
                method.as_str()
            )));
        }
        Some(methods) if !methods.contains(&method) => {
            return Err(refuse(format!(
                "this endpoint does not take {}",
                method.as_str()
            )));
        }
        // A secret presented to an endpoint that takes secrets from any client that has one.
        Some(_) if secret.is_some() && client.client_secret.is_none() => {
            return Err(refuse(format!("client {client_id} has no client secret")));
        }
        _ => {}
    }
    if let (Some(presented), Some(registered)) = (secret, client.client_secret.as_deref()) {
        let matches = aws_lc_rs::constant_time::verify_slices_are_equal(
            presented.as_bytes(),
            registered.as_bytes(),
        )
        .is_ok();
        if !matches {
            return Err(refuse("the client secret is wrong".into()));
        }
    }
    Ok(client)
}

/// A client assertion: the client must be registered for one, and every refusal answers CIS2's
/// `invalid_client` / `JWT is not valid`, with the precise reason in the log only.
async fn authenticate_assertion<'p>(
    provider: &'p Provider,
    client_id: &str,
    assertion: &Assertion,
    methods: Option<&[ClientAuthMethod]>,
) -> Result<&'p RegisteredClient, OAuthError> {
    let client = provider.clients.get(client_id).ok_or_else(|| {
        OAuthError::invalid_client(format!("client {client_id:?} is not registered"))
    })?;
    if methods.is_some_and(|methods| !methods.contains(&client.token_endpoint_auth_method)) {
        return Err(OAuthError::invalid_client(format!(
            "this endpoint does not take {}",
            client.token_endpoint_auth_method.as_str()
        )));
    }
    if !matches!(
        client.token_endpoint_auth_method,
        ClientAuthMethod::ClientSecretJwt | ClientAuthMethod::PrivateKeyJwt
    ) {
        return Err(OAuthError::invalid_client(format!(
            "client {client_id} is registered for {}, not a client assertion",
            client.token_endpoint_auth_method.as_str()
        )));
    }
    let token_endpoint = provider.issuer.endpoint("/access_token");
    let checked = match assertion::client_keys(client, &provider.http).await {
        Ok(keys) => assertion::verify(
            assertion,
            client,
            keys.as_ref(),
            &token_endpoint,
            &provider.seen_jtis,
            now(),
        ),
        Err(flaw) => Err(flaw),
    };
    checked.map(|()| client).map_err(|flaw| {
        tracing::info!(client_id, ?flaw, "client assertion refused");
        OAuthError::invalid_client(NOT_VALID)
    })
}
