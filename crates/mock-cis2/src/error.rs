//! The provider's errors: OAuth protocol errors as answered on the wire (RFC 6749 §4.1.2.1 and
//! §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1), and the library's own start-up and data errors.

use std::borrow::Cow;
use std::fmt;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An OAuth error code, one variant per code the mock answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// RFC 6749 §5.2: a parameter is missing, repeated, malformed or unsupported.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked or not this client's.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is unknown to the provider.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1: CIS2 supports the authorization code flow only.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: a requested scope is unknown or `openid` is missing.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the user or the provider refused the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: the provider failed.
    ServerError,
    /// OpenID Connect Core 1.0 §3.1.2.6: `prompt=none` but nobody is signed in.
    LoginRequired,
    /// RFC 6750 §3.1: the bearer token is unknown, expired or revoked.
    InvalidToken,
    /// RFC 9101 §6.2 (used by RFC 9126 §4): the `request_uri` is unknown, used or expired.
    InvalidRequestUri,
}

impl ErrorCode {
    /// The code as it appears in `error=` and `"error":`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::LoginRequired => "login_required",
            Self::InvalidToken => "invalid_token",
            Self::InvalidRequestUri => "invalid_request_uri",
        }
    }

    /// The HTTP status for the code when it is answered directly rather than by redirect.
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidClient | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the client tried to authenticate, which decides the `WWW-Authenticate` challenge of a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// No challenge header.
    None,
    /// RFC 6749 §5.2: a client that used HTTP Basic gets a Basic challenge back.
    Basic,
    /// RFC 6750 §3: a bearer token was refused.
    Bearer,
}

/// One OAuth error answer: a code, a human description, and the challenge to send with it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    code: ErrorCode,
    description: Cow<'static, str>,
    challenge: Challenge,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            challenge: Challenge::None,
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub(crate) fn with_challenge(mut self, challenge: Challenge) -> Self {
        self.challenge = challenge;
        self
    }

    pub(crate) fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub(crate) fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub(crate) fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub(crate) fn invalid_token(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, description).with_challenge(Challenge::Bearer)
    }

    pub(crate) fn server_error(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ServerError, description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        });
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        let challenge = match self.challenge {
            Challenge::None => None,
            Challenge::Basic => Some("Basic realm=\"NHSIdentity\"".to_owned()),
            Challenge::Bearer => Some(format!(
                "Bearer error=\"{}\", error_description=\"{}\"",
                self.code.as_str(),
                self.description.replace(['"', '\\'], "'")
            )),
        };
        if let Some(value) = challenge.and_then(|value| HeaderValue::from_str(&value).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        // RFC 6749 §5.1 asks for no caching of token responses, and errors are no different.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// Why the data files of test users or clients could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not valid JSON of the expected shape")]
    Parse {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what}: {problem}")]
    Invalid { what: String, problem: String },
}

impl DataError {
    /// Reads a data file and parses its JSON into `T`; errors name the file.
    pub(crate) fn parse_file<T: serde::de::DeserializeOwned>(
        path: &std::path::Path,
    ) -> Result<(T, String), DataError> {
        let what = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Read {
            path: what.clone(),
            source,
        })?;
        Ok((Self::parse_json(&text, &what)?, what))
    }

    /// Parses data-file JSON into `T`; `what` names the file in errors.
    pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
        text: &str,
        what: &str,
    ) -> Result<T, DataError> {
        serde_json::from_str(text).map_err(|source| DataError::Parse {
            what: what.to_owned(),
            source,
        })
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Read { .. } => "data_unreadable",
            Self::Parse { .. } => "data_malformed",
            Self::Invalid { .. } => "data_invalid",
        }
    }
}

/// Why the provider could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("cannot listen on {address}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The port of a restored state's issuer is in use by another program: starting elsewhere
    /// would change the issuer its sessions' tokens carry.
    #[error("port {port}, where this mock's issuer is, is in use by another program")]
    PortTaken { port: u16 },
    #[error("the issuer {issuer:?} is not an absolute http(s) URL without query or fragment")]
    InvalidIssuer { issuer: String },
    #[error("cannot generate the development signing keys")]
    KeyGeneration,
    #[error("auto-login {0}")]
    AutoLogin(String),
    #[error(transparent)]
    Data(#[from] DataError),
}

impl StartError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Bind { .. } => "bind_failed",
            Self::PortTaken { .. } => "port_taken",
            Self::InvalidIssuer { .. } => "invalid_issuer",
            Self::KeyGeneration => "key_generation_failed",
            Self::AutoLogin(_) => "invalid_auto_login",
            Self::Data(error) => error.code(),
        }
    }
}
