//! The authorization endpoint: request validation for the code flow only (RFC 6749 §4.1.1 and
//! §4.1.2.1, OpenID Connect Core 1.0 §3.1.2), PKCE S256 (RFC 7636 §4.3), CIS2's query-only
//! response mode; refusals go back through `redirect.rs`. A request may instead name
//! parameters pushed before (`request_uri`, RFC 9126 §4).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::clients::RegisteredClient;
use crate::error::{ErrorCode, OAuthError};
use crate::pages;
use crate::provider::Provider;
use crate::sign_in;
use crate::store::AuthorizationRequest;

/// The scopes CIS2 knows (REFERENCE §4); anything else is refused.
const KNOWN_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "nhsperson",
    "associatedorgs",
    "nationalrbacaccess",
    "professionalmemberships",
    "organisationalmemberships",
    "selectedrole",
    "changedrole",
];

/// Why an authorization request was refused, and how the refusal must be delivered.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The client or redirect URI cannot be trusted: show a page, never redirect.
    Page(OAuthError),
    /// Tell the client through its verified redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

impl Refusal {
    /// The error itself, for an endpoint that answers in JSON (the pushed request endpoint).
    pub(crate) fn into_oauth_error(self) -> OAuthError {
        match self {
            Refusal::Page(error) | Refusal::Redirect { error, .. } => error,
        }
    }
}

pub(crate) async fn handle(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let parameters: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let parameters = match pushed_parameters(&provider, parameters) {
        Ok(parameters) => parameters,
        Err(error) => return pages::error_page(error.code().as_str(), error.description()),
    };
    match validate(&provider, &parameters) {
        Ok(request) => sign_in::begin(&provider, request, &headers),
        Err(Refusal::Page(error)) => pages::error_page(error.code().as_str(), error.description()),
        Err(Refusal::Redirect {
            redirect_uri,
            state,
            error,
        }) => crate::redirect::redirect_error(&provider, &redirect_uri, state.as_deref(), &error),
    }
}

/// RFC 9126 §4: with a `request_uri`, the request is what was pushed (taken once, for the same
/// client); the query may hold only `client_id` and `request_uri`. Without one, the query is the
/// request, unless the provider requires pushed requests.
fn pushed_parameters(
    provider: &Provider,
    parameters: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, OAuthError> {
    use crate::provider::PushedRequests;
    let get = |name: &str| {
        parameters
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let pushed_requests = crate::modes::pushed_requests(provider);
    let Some(request_uri) = get("request_uri") else {
        if pushed_requests == PushedRequests::Required {
            return Err(OAuthError::invalid_request(
                "this provider requires pushed authorization requests (RFC 9126)",
            ));
        }
        return Ok(parameters);
    };
    if pushed_requests == PushedRequests::Off {
        return Err(OAuthError::invalid_request(
            "the request_uri parameter is not supported",
        ));
    }
    if let Some((name, _)) = parameters
        .iter()
        .find(|(name, _)| name != "client_id" && name != "request_uri")
    {
        return Err(OAuthError::invalid_request(format!(
            "{name} must be pushed with the request, not sent beside its request_uri"
        )));
    }
    let client_id =
        get("client_id").ok_or_else(|| OAuthError::invalid_request("client_id is missing"))?;
    provider.pushed.take(request_uri, client_id).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::InvalidRequestUri,
            "the request_uri is unknown, expired, already used or another client's",
        )
    })
}

pub(crate) fn validate(
    provider: &Provider,
    parameters: &[(String, String)],
) -> Result<AuthorizationRequest, Refusal> {
    // RFC 6749 §3.1: parameters must not be repeated.
    let repeated = parameters
        .iter()
        .enumerate()
        .find_map(|(index, (name, _))| {
            parameters[..index]
                .iter()
                .any(|(earlier, _)| earlier == name)
                .then_some(name.as_str())
        });
    let get = |name: &str| {
        parameters
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let page = |description: String| Refusal::Page(OAuthError::invalid_request(description));

    let client_id = get("client_id").ok_or_else(|| page("client_id is missing".into()))?;
    let client: &RegisteredClient = provider.clients.get(client_id).ok_or_else(|| {
        Refusal::Page(OAuthError::new(
            ErrorCode::InvalidClient,
            format!("client {client_id:?} is not registered"),
        ))
    })?;
    let redirect_uri = get("redirect_uri").ok_or_else(|| page("redirect_uri is missing".into()))?;
    if matches!(repeated, Some("client_id" | "redirect_uri")) {
        return Err(page(format!(
            "{} is repeated",
            repeated.unwrap_or_default()
        )));
    }
    if !client.accepts_redirect_uri(redirect_uri) {
        return Err(page(format!(
            "redirect_uri {redirect_uri:?} is not registered for this client"
        )));
    }

    // From here the redirect URI is trusted, so errors go back to the client.
    let state = get("state").map(str::to_owned);
    let refuse = |code: ErrorCode, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error: OAuthError::new(code, description),
    };
    if let Some(name) = repeated {
        return Err(refuse(
            ErrorCode::InvalidRequest,
            format!("{name} is repeated"),
        ));
    }
    if let Some(mode) = get("response_mode").filter(|mode| *mode != "query") {
        return Err(refuse(
            ErrorCode::InvalidRequest,
            format!("response_mode {mode} is not supported: CIS2 answers in the query only"),
        ));
    }
    match get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(refuse(
                ErrorCode::UnsupportedResponseType,
                format!("response_type {other} is not supported: only the code flow is"),
            ))
        }
        None => {
            return Err(refuse(
                ErrorCode::InvalidRequest,
                "response_type is missing".into(),
            ))
        }
    }
    for name in ["request", "request_uri"] {
        if get(name).is_some() {
            return Err(refuse(
                ErrorCode::InvalidRequest,
                format!("the {name} parameter is not supported"),
            ));
        }
    }

    let scopes: Vec<String> = get("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|scope| scope == "openid") {
        return Err(refuse(
            ErrorCode::InvalidScope,
            "the openid scope is required".into(),
        ));
    }
    if let Some(unknown) = scopes
        .iter()
        .find(|scope| !KNOWN_SCOPES.contains(&scope.as_str()))
    {
        return Err(refuse(
            ErrorCode::InvalidScope,
            format!("unknown scope {unknown}"),
        ));
    }

    let code_challenge = check_pkce(client, get("code_challenge"), get("code_challenge_method"))
        .map_err(|description| refuse(ErrorCode::InvalidRequest, description))?;

    let prompt: Vec<String> = get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect();
    // OpenID Connect Core 1.0 §3.1.2.1: `none` with any other value is an error.
    if prompt.len() > 1 && prompt.iter().any(|value| value == "none") {
        return Err(refuse(
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values".into(),
        ));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            refuse(
                ErrorCode::InvalidRequest,
                format!("max_age {text:?} is not a number of seconds"),
            )
        })?),
    };

    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        nonce: get("nonce").map(str::to_owned),
        code_challenge,
        acr_values: get("acr_values")
            .unwrap_or_default()
            .split(' ')
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .collect(),
        prompt,
        max_age,
        login_hint: get("login_hint").map(str::to_owned),
    })
}

/// RFC 7636 §4.3 with CIS2's choices: S256 only (`plain`, also the default when the method is
/// absent, is refused), and a challenge required for clients registered for PKCE.
fn check_pkce(
    client: &RegisteredClient,
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<String>, String> {
    match (challenge, method) {
        (None, None) if client.pkce_required => {
            Err("this client must send a PKCE code_challenge with method S256".into())
        }
        (None, None) => Ok(None),
        (None, Some(_)) => Err("code_challenge_method without code_challenge".into()),
        (Some(_), None) => Err(
            "code_challenge_method is missing, and the default (plain) is refused: use S256".into(),
        ),
        (Some(_), Some(method)) if method != "S256" => Err(format!(
            "code_challenge_method {method} is refused: use S256"
        )),
        (Some(challenge), Some(_)) => {
            // An S256 challenge is the base64url of a SHA-256 digest: exactly 43 characters.
            let well_formed = challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
            if well_formed {
                Ok(Some(challenge.to_owned()))
            } else {
                Err("code_challenge is not a base64url SHA-256 digest".into())
            }
        }
    }
}
