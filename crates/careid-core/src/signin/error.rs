//! What can go wrong signing in or using a session, and which of the documented outcomes it is.

use crate::broker::BrokerError;
use crate::client_auth::MethodNotOffered;
use crate::discovery::{DiscoveryError, KeyedError};
use crate::http::HttpError;
use crate::id_token::IdTokenError;
use crate::session::{EndReason, SessionEnd, SignedOutReason};
use crate::{ClaimsError, ClientAuthError, KeychainError, LoopbackError, SessionError};

/// The kind of failure, which decides the CLI's exit code and the app's wording (each front end
/// maps it its own way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The profile or the request is wrong.
    Usage,
    /// A response was rejected as unsafe or invalid.
    Rejected,
    /// The provider answered with an OAuth error.
    Provider,
    /// The provider could not be reached, or is unavailable.
    Unreachable,
    /// The user cancelled, or the wait timed out.
    Cancelled,
    /// The OS keychain is unavailable or failing.
    Keychain,
    /// Not signed in, or the session ended.
    NotSignedIn,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// A stable name for front ends to branch on.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Usage => "usage",
            ErrorClass::Rejected => "rejected",
            ErrorClass::Provider => "provider",
            ErrorClass::Unreachable => "unreachable",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::Keychain => "keychain",
            ErrorClass::NotSignedIn => "notSignedIn",
            ErrorClass::Other => "other",
        }
    }
}

/// A refused token keeps its own error; a key set that could not be had or read is the
/// provider's key set failing, as `jwks`.
impl<E: Into<SignInError>> From<KeyedError<E>> for SignInError {
    fn from(error: KeyedError<E>) -> Self {
        match error {
            KeyedError::Keys(error) => error.into(),
            KeyedError::KeySet(error) => SignInError::InvalidResponse {
                endpoint: "jwks",
                problem: error.to_string(),
            },
            KeyedError::Refused(error) => error.into(),
        }
    }
}

/// A failed sign-in, refresh, UserInfo call or sign-out. Messages name the check or the answer
/// in words and never contain a token, code, secret or response body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    #[error("profile {profile:?} is not ready: it needs {missing}")]
    ProfileNotReady { profile: String, missing: String },
    #[error("no {what} is stored for profile {profile:?}")]
    CredentialMissing { profile: String, what: &'static str },
    #[error("the stored credential of profile {profile:?} cannot be used: {source}")]
    Credential {
        profile: String,
        #[source]
        source: ClientAuthError,
    },
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("discovery failed: {0}")]
    Discovery(#[from] DiscoveryError),
    #[error("the {endpoint} request failed: {source}")]
    Http {
        endpoint: &'static str,
        #[source]
        source: HttpError,
    },
    #[error(transparent)]
    Loopback(#[from] LoopbackError),
    #[error("the {endpoint} endpoint answered {error}{}", describe(.description))]
    OAuth {
        endpoint: &'static str,
        status: u16,
        error: String,
        description: Option<String>,
    },
    /// The provider refused the redirect URI careid sent (learnt from a pushed request).
    #[error(
        "the provider refused the redirect URI {redirect_uri} ({error}{}): register it for this \
         client with the provider (`careid doctor` lists the redirect URIs to register)",
        describe(.description)
    )]
    RedirectUriRefused {
        redirect_uri: String,
        error: String,
        description: Option<String>,
    },
    #[error("the {endpoint} endpoint is unavailable (HTTP {status})")]
    Unavailable { endpoint: &'static str, status: u16 },
    #[error("the {endpoint} endpoint answered HTTP {status} without an OAuth error")]
    UnexpectedStatus { endpoint: &'static str, status: u16 },
    #[error("the {endpoint} response is not valid: {problem}")]
    InvalidResponse {
        endpoint: &'static str,
        problem: String,
    },
    #[error("the ID token was rejected: {0}")]
    IdToken(#[from] IdTokenError),
    #[error("the UserInfo response was rejected: {0}")]
    UserInfo(String),
    /// A role the user asked for is said as it is; other claims as rejected.
    #[error("{}{}", claims_prefix(.0), .0)]
    Claims(#[from] ClaimsError),
    #[error("not signed in to profile {profile:?} ({reason})")]
    NotSignedIn {
        profile: String,
        reason: SignedOutReason,
    },
    /// careid ended the session, now or earlier (in this process or another): `end` says why.
    #[error("the session of profile {profile:?} has ended: {end}; sign in again")]
    SessionEnded { profile: String, end: SessionEnd },
    #[error(
        "the provider no longer accepts the stored session ({error}); it has been deleted: sign in again"
    )]
    RefreshRejected { error: String },
    #[error("role {0:?} is not one of the signed-in user's roles")]
    UnknownRole(String),
    /// A refresh was asked for a session the provider gave no refresh token: its tokens serve
    /// until they expire, and cannot be renewed.
    #[error(
        "the session of profile {profile:?} has no refresh token (the provider issued none): \
         its tokens cannot be renewed, only used until they expire"
    )]
    NoRefreshToken { profile: String },
    /// The broker could not be used: unreachable, or it brokers another issuer or client.
    #[error("the broker: {0}")]
    Broker(#[source] BrokerError),
    /// The provider ended the session (the broker said so): it was ended here too.
    #[error("{}", crate::broker::ENDED_BY_PROVIDER)]
    EndedByProvider { profile: String },
    /// A failure that ended the session: `source` says what failed (its class and code are
    /// this error's), `reason` why the session is gone (a rejected answer to a refresh).
    #[error("{source}; the session was deleted: sign in again")]
    Ended {
        reason: EndReason,
        #[source]
        source: Box<SignInError>,
    },
    /// The profile's client authentication is not one the provider takes at its token endpoint.
    #[error("profile {profile:?} cannot sign in: {source}")]
    ClientAuthNotOffered {
        profile: String,
        #[source]
        source: MethodNotOffered,
    },
    /// The profile says `par = "always"` and pushed authorization requests are not offered.
    #[error(
        "profile {profile:?} says par = \"always\", and {missing} (RFC 9126): set par = \"auto\" \
         to send the request in the authorization URL when the provider offers no pushed requests"
    )]
    ParNotOffered {
        profile: String,
        missing: &'static str,
    },
    /// The profile says `par = "never"` and the provider requires pushed authorization requests.
    #[error(
        "the provider requires pushed authorization requests (require_pushed_authorization_requests, \
         RFC 9126), and profile {profile:?} says par = \"never\": set par = \"auto\""
    )]
    ParRequired { profile: String },
    /// The one-time link that hands the provider's address to the browser could not be made.
    #[error("cannot make the link to open the browser on: {0}")]
    Launch(#[source] std::io::Error),
}

fn describe(description: &Option<String>) -> String {
    description
        .as_ref()
        .map(|text| format!(": {text}"))
        .unwrap_or_default()
}

impl SignInError {
    pub fn class(&self) -> ErrorClass {
        match self {
            SignInError::ProfileNotReady { .. }
            | SignInError::CredentialMissing { .. }
            | SignInError::Credential { .. }
            | SignInError::UnknownRole(_)
            | SignInError::NoRefreshToken { .. }
            | SignInError::ClientAuthNotOffered { .. }
            | SignInError::ParNotOffered { .. }
            | SignInError::ParRequired { .. } => ErrorClass::Usage,
            SignInError::Keychain(_) => ErrorClass::Keychain,
            SignInError::Session(error) => error.class(),
            SignInError::Discovery(error) if error.is_transient() => ErrorClass::Unreachable,
            SignInError::Discovery(_) => ErrorClass::Rejected,
            SignInError::Http { source, .. } if source.is_transient() => ErrorClass::Unreachable,
            SignInError::Http { .. } => ErrorClass::Rejected,
            SignInError::Loopback(error) => match error {
                LoopbackError::TimedOut { .. } | LoopbackError::Cancelled => ErrorClass::Cancelled,
                LoopbackError::Provider { .. } | LoopbackError::UnverifiedProvider { .. } => {
                    ErrorClass::Provider
                }
                LoopbackError::PortsTaken { .. } | LoopbackError::Bind(_) => ErrorClass::Other,
                _ => ErrorClass::Rejected,
            },
            SignInError::Claims(error) if error.is_usage() => ErrorClass::Usage,
            SignInError::OAuth { .. } | SignInError::RedirectUriRefused { .. } => {
                ErrorClass::Provider
            }
            SignInError::Unavailable { .. } => ErrorClass::Unreachable,
            SignInError::UnexpectedStatus { .. }
            | SignInError::InvalidResponse { .. }
            | SignInError::IdToken(_)
            | SignInError::UserInfo(_)
            | SignInError::Claims(_) => ErrorClass::Rejected,
            SignInError::NotSignedIn { .. }
            | SignInError::SessionEnded { .. }
            | SignInError::RefreshRejected { .. } => ErrorClass::NotSignedIn,
            SignInError::Launch(_) => ErrorClass::Other,
            SignInError::Broker(error) if error.is_transient() => ErrorClass::Unreachable,
            SignInError::Broker(_) => ErrorClass::Rejected,
            SignInError::EndedByProvider { .. } => ErrorClass::NotSignedIn,
            SignInError::Ended { source, .. } => source.class(),
        }
    }

    /// A stable code for callers to branch on and for the UI to choose its sentence.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::ProfileNotReady { .. } => "profile_not_ready",
            SignInError::CredentialMissing { .. } => "credential_missing",
            SignInError::Credential { source, .. } => source.code(),
            SignInError::Keychain(error) => error.code(),
            SignInError::Session(error) => error.code(),
            SignInError::Discovery(error) => error.code(),
            SignInError::Http { source, .. } => source.code(),
            SignInError::Loopback(error) => error.code(),
            SignInError::OAuth { .. } => "oauth_error",
            SignInError::RedirectUriRefused { .. } => "redirect_uri_refused",
            SignInError::Unavailable { .. } => "provider_unavailable",
            SignInError::UnexpectedStatus { .. } => "unexpected_status",
            SignInError::InvalidResponse { .. } => "invalid_response",
            SignInError::IdToken(error) => error.code(),
            SignInError::UserInfo(_) => "userinfo_rejected",
            SignInError::Claims(error) => error.code(),
            SignInError::NotSignedIn { .. } => "not_signed_in",
            SignInError::SessionEnded { .. } => "session_ended",
            SignInError::RefreshRejected { .. } => "refresh_rejected",
            SignInError::UnknownRole(_) => "unknown_role",
            SignInError::NoRefreshToken { .. } => "no_refresh_token",
            SignInError::Launch(_) => "launch_failed",
            SignInError::ClientAuthNotOffered { .. } => "client_auth_not_offered",
            SignInError::ParNotOffered { .. } => "par_not_offered",
            SignInError::ParRequired { .. } => "par_required",
            SignInError::Broker(error) => error.code(),
            SignInError::EndedByProvider { .. } => "ended_by_provider",
            SignInError::Ended { source, .. } => source.code(),
        }
    }

    /// Why the session ended, when this error says it did: the one mapping from errors to
    /// [`EndReason`]s, for front ends to tell the user the same way whichever path told them.
    pub fn end_reason(&self) -> Option<EndReason> {
        match self {
            SignInError::SessionEnded { end, .. } => Some(end.reason),
            SignInError::NotSignedIn {
                reason: SignedOutReason::Ended(end),
                ..
            } => Some(end.reason),
            SignInError::EndedByProvider { .. } => Some(EndReason::EndedByProvider),
            SignInError::RefreshRejected { .. } => Some(EndReason::RefreshRejected),
            SignInError::Ended { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// Whether trying again later may work: the stored refresh token is kept for these.
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Unreachable
    }
}

impl SessionError {
    /// The class of a session store error, the same whether it comes bare or inside a
    /// [`SignInError`].
    pub fn class(&self) -> ErrorClass {
        match self {
            SessionError::Keychain(_) => ErrorClass::Keychain,
            SessionError::SignedOut { .. } => ErrorClass::NotSignedIn,
            // Waiting for another process's change timed out.
            SessionError::LockTimeout { .. } => ErrorClass::Cancelled,
            _ => ErrorClass::Other,
        }
    }
}

/// How a claims error begins: one about what the user asked for is said as it is.
fn claims_prefix(error: &ClaimsError) -> &'static str {
    if error.is_usage() {
        ""
    } else {
        "the claims were rejected: "
    }
}
