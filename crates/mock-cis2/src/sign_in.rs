//! Signing a test user in and issuing the authorization code (RFC 6749 §4.1.2, OpenID Connect
//! Core 1.0 §3.1.2.5): from a live SSO session (honouring `prompt` and `max_age`, §3.1.2.1),
//! non-interactively with auto-login, or through the sign-in pages' steps (user, authenticator,
//! the authenticator's own check, CIS2's role picker). Cancel answers `access_denied`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::authenticators::Authenticator;
use crate::error::{ErrorCode, OAuthError, StartError};
use crate::pages;
use crate::provider::{now, Provider};
use crate::redirect::{redirect_error, redirect_to_client};
use crate::sessions::{self, SessionInfo};
use crate::sign_in_pages;
use crate::store::{AuthorizationRequest, Progress, SignIn, UnixTime};
use crate::totp;
use crate::users::{Directory, TestUser};
use crate::{webauthn, webauthn_pages};

/// `USER_ID[:AUTHENTICATOR[:ROLE_ID[:CHANGED_ROLE_ID]]]`: sign this user in without a page, so
/// that a plain HTTP client following redirects completes the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoLogin {
    pub user_id: String,
    /// The user's first authenticator when absent.
    pub authenticator: Option<Authenticator>,
    /// The role chosen when the client asks for `selectedrole`; the user's first role when absent.
    pub role_id: Option<String>,
    /// The role chosen when the client asks for `changedrole`, as a user picking another role
    /// on CIS2's picker would; `role_id` when absent.
    pub changed_role_id: Option<String>,
}

impl FromStr for AutoLogin {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.split(':');
        let user_id = parts
            .next()
            .filter(|id| !id.is_empty())
            .ok_or("needs a user id")?
            .to_owned();
        let authenticator = parts
            .next()
            .filter(|name| !name.is_empty())
            .map(|name| {
                name.parse::<Authenticator>()
                    .map_err(|error| error.to_string())
            })
            .transpose()?;
        let role_id = parts.next().filter(|id| !id.is_empty()).map(str::to_owned);
        let changed_role_id = parts.next().filter(|id| !id.is_empty()).map(str::to_owned);
        if parts.next().is_some() {
            return Err("has more than USER_ID:AUTHENTICATOR:ROLE_ID:CHANGED_ROLE_ID".into());
        }
        Ok(Self {
            user_id,
            authenticator,
            role_id,
            changed_role_id,
        })
    }
}

impl fmt::Display for AutoLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.user_id)?;
        if let Some(authenticator) = self.authenticator {
            write!(f, ":{authenticator}")?;
        }
        if self.role_id.is_some() || self.changed_role_id.is_some() {
            if self.authenticator.is_none() {
                f.write_str(":")?;
            }
            write!(f, ":{}", self.role_id.as_deref().unwrap_or_default())?;
        }
        if let Some(changed) = &self.changed_role_id {
            write!(f, ":{changed}")?;
        }
        Ok(())
    }
}

impl AutoLogin {
    /// Checks the user, authenticator and role exist together, so a typo fails at start and not
    /// at the first sign-in.
    pub(crate) fn check(&self, users: &Directory) -> Result<(), StartError> {
        let user = users
            .get(&self.user_id)
            .ok_or_else(|| StartError::AutoLogin(format!("user {} is unknown", self.user_id)))?;
        if let Some(authenticator) = self.authenticator {
            if !user.authenticators().contains(&authenticator) {
                return Err(StartError::AutoLogin(format!(
                    "user {} has no {authenticator} authenticator",
                    self.user_id
                )));
            }
        }
        for role_id in [&self.role_id, &self.changed_role_id].into_iter().flatten() {
            if user.role(role_id).is_none() {
                return Err(StartError::AutoLogin(format!(
                    "user {} has no role {role_id}",
                    self.user_id
                )));
            }
        }
        Ok(())
    }

    /// The role this auto-login picks for `request`: with `changedrole`, the changed role.
    fn role_for(&self, request: &AuthorizationRequest) -> Option<&str> {
        if request.has_scope("changedrole") {
            self.changed_role_id.as_deref().or(self.role_id.as_deref())
        } else {
            self.role_id.as_deref()
        }
    }
}

/// Continues a valid authorization request: reuses the SSO session when the request allows it,
/// signs the auto-login user in at once, answers `login_required` to `prompt=none`, or shows
/// the first sign-in page.
pub(crate) fn begin(
    provider: &Provider,
    request: AuthorizationRequest,
    headers: &HeaderMap,
) -> Response {
    let now = now();
    let session = sessions::cookie_in(headers)
        .and_then(|cookie| provider.sessions.by_cookie(&cookie, now))
        .filter(|session| reusable(session, &request, now));
    // Read once: the admin endpoint may change it while this request is answered.
    let auto_login = provider.auto_login.current();
    let auto_role = auto_login
        .as_ref()
        .and_then(|auto_login| auto_login.role_for(&request))
        .map(str::to_owned);
    if let Some(session) = session {
        let interactive = auto_login.is_none();
        return choose_role(
            provider,
            request,
            session,
            None,
            auto_role.as_deref(),
            interactive,
        );
    }
    if let Some(auto_login) = &auto_login {
        return auto_sign_in(provider, request, auto_login);
    }
    if request.has_prompt("none") {
        return refuse(
            provider,
            &request,
            ErrorCode::LoginRequired,
            "prompt=none but no CIS2 session can be reused",
        );
    }
    let pending = provider.random(24);
    provider.store.insert_pending(
        pending.clone(),
        request.clone(),
        now + provider.settings.sign_in_lifetime,
    );
    sign_in_pages::user_page(provider, &pending, &request, None)
}

/// Whether a live session may answer this request without authenticating again (OpenID
/// Connect Core 1.0 §3.1.2.1): not with `prompt=login`, not once `max_age` has passed since
/// `auth_time` (`max_age=0` always re-authenticates), and not when the session's authenticator
/// is below what `acr_values` asks for now.
fn reusable(session: &SessionInfo, request: &AuthorizationRequest, now: UnixTime) -> bool {
    let too_old = request
        .max_age
        .is_some_and(|max_age| max_age == 0 || now.saturating_sub(session.auth_time) > max_age);
    !request.has_prompt("login")
        && !too_old
        && session.authenticator.acr_for(&request.acr_values).is_some()
}

/// Signs the auto-login user in without a page, in a new session.
fn auto_sign_in(
    provider: &Provider,
    request: AuthorizationRequest,
    auto_login: &AutoLogin,
) -> Response {
    let Some(user) = provider.users.get(&auto_login.user_id) else {
        let error = OAuthError::server_error("the auto-login user is unknown");
        return redirect_error(
            provider,
            &request.redirect_uri,
            request.state.as_deref(),
            &error,
        );
    };
    let authenticator = auto_login.authenticator.unwrap_or(user.authenticators()[0]);
    if authenticator.acr_for(&request.acr_values).is_none() {
        let description = format!(
            "the {authenticator} authenticator does not meet acr_values {}",
            request.acr_values.join(" ")
        );
        return refuse(provider, &request, ErrorCode::AccessDenied, &description);
    }
    let (session, cookie) = start_session(provider, user, authenticator);
    let role = auto_login.role_for(&request).map(str::to_owned);
    let response = choose_role(provider, request, session, None, role.as_deref(), false);
    with_cookie(provider, response, &cookie)
}

/// Records a new SSO session for a user who has just authenticated; returns it with the
/// cookie value that names it.
fn start_session(
    provider: &Provider,
    user: &TestUser,
    authenticator: Authenticator,
) -> (SessionInfo, String) {
    let now = now();
    let session = SessionInfo {
        sid: provider.random(20),
        user_id: user.id().to_owned(),
        authenticator,
        auth_time: now,
        selected_roleid: None,
        expires_at: now + provider.settings.session_lifetime,
    };
    let cookie = provider.random(32);
    provider.sessions.create(cookie.clone(), session.clone());
    (session, cookie)
}

fn with_cookie(provider: &Provider, mut response: Response, cookie: &str) -> Response {
    sessions::set_cookie(
        &mut response,
        &provider.base_path,
        cookie,
        provider.settings.session_lifetime,
    );
    response
}

/// CIS2's role selection (REFERENCE §7) once the user is known: only for `selectedrole` or
/// `changedrole`; a user with no roles passes with none; a role named by auto-login, or chosen
/// earlier in the session (unless `changedrole`), is reused; a single role is chosen
/// automatically; otherwise the picker is shown. Without pages (auto-login) the first role is
/// taken, as before role selection existed.
fn choose_role(
    provider: &Provider,
    request: AuthorizationRequest,
    session: SessionInfo,
    pending: Option<&str>,
    preferred: Option<&str>,
    interactive: bool,
) -> Response {
    let Some(user) = provider.users.get(&session.user_id) else {
        return refuse(
            provider,
            &request,
            ErrorCode::ServerError,
            "the session's user is no longer known",
        );
    };
    let wants_role = request.has_scope("selectedrole") || request.has_scope("changedrole");
    if !wants_role || user.roles().is_empty() {
        return complete(provider, request, &session, pending, None);
    }
    let held = |id: &&str| user.role(id).is_some();
    let reused = session
        .selected_roleid
        .as_deref()
        .filter(|_| !request.has_scope("changedrole"));
    let automatic =
        (user.roles().len() == 1 || !interactive).then(|| user.roles()[0].person_roleid.as_str());
    let chosen = preferred
        .filter(held)
        .or(reused.filter(held))
        .or(automatic)
        .map(str::to_owned);
    if let Some(role) = chosen {
        return complete(provider, request, &session, pending, Some(&role));
    }
    if request.has_prompt("none") {
        return refuse(
            provider,
            &request,
            ErrorCode::LoginRequired,
            "prompt=none but the role picker needs the user",
        );
    }
    let pending = match pending {
        Some(pending) => pending.to_owned(),
        None => {
            let pending = provider.random(24);
            provider.store.insert_pending(
                pending.clone(),
                request,
                now() + provider.settings.sign_in_lifetime,
            );
            pending
        }
    };
    provider.store.set_progress(
        &pending,
        Progress {
            user_id: Some(session.user_id.clone()),
            authenticator: Some(session.authenticator),
            sid: Some(session.sid.clone()),
        },
    );
    sign_in_pages::role_page(provider, &pending, user, "", None)
}

/// Issues the code for a session. The `acr_values` check is repeated here, whatever page or
/// shortcut led here, so that a form posted by hand cannot pass a refused authenticator.
fn complete(
    provider: &Provider,
    request: AuthorizationRequest,
    session: &SessionInfo,
    pending: Option<&str>,
    role_id: Option<&str>,
) -> Response {
    let now = now();
    if let Some(pending) = pending {
        provider.store.take_pending(pending, now);
    }
    let authenticator = session.authenticator;
    let Some(acr) = authenticator.acr_for(&request.acr_values) else {
        let description = format!(
            "the {authenticator} authenticator does not meet acr_values {}",
            request.acr_values.join(" ")
        );
        return refuse(provider, &request, ErrorCode::AccessDenied, &description);
    };
    if let Some(role_id) = role_id {
        provider.sessions.choose_role(&session.sid, role_id);
    }
    let sign_in = SignIn {
        user_id: session.user_id.clone(),
        authenticator,
        acr,
        selected_roleid: role_id.map(str::to_owned),
        auth_time: session.auth_time,
        sid: session.sid.clone(),
    };
    let code = provider.random(32);
    let redirect_uri = request.redirect_uri.clone();
    let state = request.state.clone();
    provider.store.insert_code(
        code.clone(),
        request,
        sign_in,
        now + provider.settings.code_lifetime,
    );
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = state.as_deref() {
        params.push(("state", state));
    }
    redirect_to_client(provider, &redirect_uri, &params)
}

/// An error redirect to the client (RFC 6749 §4.1.2.1), with the request's `state`.
fn refuse(
    provider: &Provider,
    request: &AuthorizationRequest,
    code: ErrorCode,
    description: &str,
) -> Response {
    redirect_error(
        provider,
        &request.redirect_uri,
        request.state.as_deref(),
        &OAuthError::new(code, description.to_owned()),
    )
}

fn expired() -> Response {
    pages::error_page(
        "invalid_request",
        "this sign-in has expired or was already used: start again from the application",
    )
}

/// Every field any sign-in page posts; each step reads its own.
#[derive(Debug, Deserialize)]
pub(crate) struct StepForm {
    pending: String,
    #[serde(default)]
    step: String,
    cancel: Option<String>,
    user: Option<String>,
    user_id: Option<String>,
    authenticator: Option<String>,
    pin: Option<String>,
    code: Option<String>,
    password: Option<String>,
    confirm: Option<String>,
    role: Option<String>,
    /// A WebAuthn ceremony's answer (`RegistrationResponseJSON` or
    /// `AuthenticationResponseJSON`), or the browser's error in its place.
    credential: Option<String>,
    webauthn_error: Option<String>,
}

/// The sign-in pages' forms. Each step re-checks everything on the server: the pages only
/// offer what the server will accept, they do not enforce it.
pub(crate) async fn submit(
    State(provider): State<Arc<Provider>>,
    Form(form): Form<StepForm>,
) -> Response {
    let now = now();
    let pending = form.pending.as_str();
    let Some((request, mut progress)) = provider.store.pending(pending, now) else {
        return expired();
    };
    if form.cancel.is_some() {
        provider.store.take_pending(pending, now);
        return refuse(
            &provider,
            &request,
            ErrorCode::AccessDenied,
            "the user cancelled the sign-in",
        );
    }
    let user = progress
        .user_id
        .as_deref()
        .and_then(|id| provider.users.get(id));
    match (form.step.as_str(), user) {
        ("authenticator", Some(user)) => {
            let chosen = form
                .authenticator
                .as_deref()
                .and_then(|name| name.parse::<Authenticator>().ok());
            let refusal = match chosen {
                None => Some("Select how to sign in".to_owned()),
                Some(authenticator) if !user.authenticators().contains(&authenticator) => Some(
                    format!("{} is not registered for this user", authenticator.label()),
                ),
                Some(authenticator) => authenticator
                    .refusal(&request.acr_values)
                    .map(|reason| format!("{} cannot be used: {reason}", authenticator.label())),
            };
            match (chosen, refusal) {
                (Some(authenticator), None) => {
                    progress.authenticator = Some(authenticator);
                    provider.store.set_progress(pending, progress);
                    sign_in_pages::step_page(&provider, pending, user, authenticator, None)
                }
                (_, refusal) => sign_in_pages::authenticator_page(
                    &provider,
                    pending,
                    &request,
                    user,
                    refusal.as_deref(),
                ),
            }
        }
        ("verify", Some(user)) => {
            let Some(authenticator) = progress.authenticator else {
                return sign_in_pages::authenticator_page(
                    &provider,
                    pending,
                    &request,
                    user,
                    Some("Select how to sign in"),
                );
            };
            if let Some(error) = check_step(user, authenticator, &form, now) {
                return sign_in_pages::step_page(
                    &provider,
                    pending,
                    user,
                    authenticator,
                    Some(error),
                );
            }
            authenticated(&provider, request, pending, progress, user, authenticator)
        }
        (step, Some(user)) if step.starts_with("webauthn-") => {
            let Some(authenticator) = progress
                .authenticator
                .filter(|a| webauthn::has_ceremony(*a))
            else {
                return sign_in_pages::authenticator_page(
                    &provider,
                    pending,
                    &request,
                    user,
                    Some("Select how to sign in"),
                );
            };
            let outcome = webauthn_pages::submit(
                &provider,
                pending,
                user,
                authenticator,
                webauthn_pages::Answer {
                    step,
                    credential: form.credential.as_deref(),
                    browser_error: form.webauthn_error.as_deref(),
                },
                now,
            );
            match outcome {
                webauthn_pages::Outcome::SignedIn(authenticator) => {
                    authenticated(&provider, request, pending, progress, user, authenticator)
                }
                webauthn_pages::Outcome::Page(page) => page,
            }
        }
        ("role", Some(user)) => {
            let Some(session) = progress
                .sid
                .as_deref()
                .and_then(|sid| provider.sessions.by_sid(sid, now))
            else {
                provider.store.set_progress(pending, Progress::default());
                return sign_in_pages::user_page(
                    &provider,
                    pending,
                    &request,
                    Some("Your session has ended: sign in again"),
                );
            };
            match form.role.as_deref().filter(|id| user.role(id).is_some()) {
                Some(role) => complete(&provider, request, &session, Some(pending), Some(role)),
                None => {
                    sign_in_pages::role_page(&provider, pending, user, "", Some("Select a role"))
                }
            }
        }
        _ => {
            // The first step, and where a form out of order starts again.
            let typed = form
                .user_id
                .as_deref()
                .map(str::trim)
                .filter(|id| !id.is_empty());
            match typed
                .or(form.user.as_deref())
                .and_then(|id| provider.users.get(id))
            {
                Some(user) => {
                    let progress = Progress {
                        user_id: Some(user.id().to_owned()),
                        ..Progress::default()
                    };
                    provider.store.set_progress(pending, progress);
                    sign_in_pages::authenticator_page(&provider, pending, &request, user, None)
                }
                None => sign_in_pages::user_page(
                    &provider,
                    pending,
                    &request,
                    Some("Select a test user or enter a known 12-digit user ID"),
                ),
            }
        }
    }
}

/// The user has passed the authenticator's step: a new SSO session, then the role picker or
/// the code.
fn authenticated(
    provider: &Provider,
    request: AuthorizationRequest,
    pending: &str,
    mut progress: Progress,
    user: &TestUser,
    authenticator: Authenticator,
) -> Response {
    let (session, cookie) = start_session(provider, user, authenticator);
    progress.sid = Some(session.sid.clone());
    provider.store.set_progress(pending, progress);
    let response = choose_role(provider, request, session, Some(pending), None, true);
    with_cookie(provider, response, &cookie)
}

/// The authenticator's own step: the smartcard PIN, the app's current code, the development
/// password, or a plain confirmation for the platform and FIDO2 authenticators.
fn check_step(
    user: &TestUser,
    authenticator: Authenticator,
    form: &StepForm,
    now: UnixTime,
) -> Option<&'static str> {
    let field = |value: &Option<String>| value.as_deref().unwrap_or_default().trim().to_owned();
    match authenticator {
        Authenticator::Smartcard => {
            let pin = field(&form.pin);
            if pin.is_empty() {
                Some("Enter your smartcard PIN")
            } else if !user.smartcard_pin_is(&pin) {
                Some("The PIN is not correct")
            } else {
                None
            }
        }
        Authenticator::AuthenticatorApp => {
            let code = field(&form.code);
            let well_formed = code.len() == 6 && code.bytes().all(|byte| byte.is_ascii_digit());
            let right = user
                .totp_secret()
                .is_some_and(|secret| totp::accepts(secret, &code, now));
            if !well_formed {
                Some("Enter the 6-digit code from your authenticator app")
            } else if !right {
                Some("The code is not correct or has expired")
            } else {
                None
            }
        }
        Authenticator::Password => {
            let password = form.password.as_deref().unwrap_or_default();
            if password.is_empty() {
                Some("Enter your password")
            } else if !user.password_is(password) {
                Some("The password is not correct")
            } else {
                None
            }
        }
        Authenticator::WindowsHello
        | Authenticator::SecurityKey
        | Authenticator::Ipad
        | Authenticator::Nhsmail
        | Authenticator::Passkey => form
            .confirm
            .is_none()
            .then_some("Confirm the sign-in to continue"),
    }
}

/// What the role picker's search form sends: a GET, so it works without JavaScript.
#[derive(Debug, Deserialize)]
pub(crate) struct ShowQuery {
    pending: String,
    #[serde(default)]
    search: String,
}

/// Shows the current page of a pending sign-in: the role picker filtered by `search` once the
/// user has authenticated, otherwise the first page.
pub(crate) async fn show(
    State(provider): State<Arc<Provider>>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let Some((request, progress)) = provider.store.pending(&query.pending, now()) else {
        return expired();
    };
    let user = progress
        .user_id
        .as_deref()
        .and_then(|id| provider.users.get(id));
    match (progress.sid, user) {
        (Some(_), Some(user)) => {
            sign_in_pages::role_page(&provider, &query.pending, user, &query.search, None)
        }
        _ => sign_in_pages::user_page(&provider, &query.pending, &request, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_login_parses_each_form() {
        let cases = [
            ("555057896106", Ok(("555057896106", None, None))),
            (
                "555057896106:smartcard",
                Ok(("555057896106", Some(Authenticator::Smartcard), None)),
            ),
            (
                "555057900101:authenticator_app:555057900303",
                Ok((
                    "555057900101",
                    Some(Authenticator::AuthenticatorApp),
                    Some("555057900303"),
                )),
            ),
            (
                "555057900101::555057900303",
                Ok(("555057900101", None, Some("555057900303"))),
            ),
            (
                "555057900101:smartcard:555057900304:555057900303",
                Ok((
                    "555057900101",
                    Some(Authenticator::Smartcard),
                    Some("555057900304"),
                )),
            ),
            ("", Err(())),
            ("555057896106:fingerprint", Err(())),
            ("1:smartcard:2:3:4", Err(())),
        ];
        for (text, expected) in cases {
            let parsed = text.parse::<AutoLogin>();
            match expected {
                Ok((user, authenticator, role)) => {
                    let parsed = parsed.unwrap();
                    assert_eq!(parsed.user_id, user);
                    assert_eq!(parsed.authenticator, authenticator);
                    assert_eq!(parsed.role_id.as_deref(), role);
                    assert_eq!(parsed.to_string(), text);
                }
                Err(()) => assert!(parsed.is_err(), "{text}"),
            }
        }
    }

    #[test]
    fn auto_login_must_name_a_real_user_authenticator_and_role() {
        let users = Directory::builtin();
        let check = |text: &str| text.parse::<AutoLogin>().unwrap().check(&users);
        assert!(check("555057896106:smartcard:555057898108").is_ok());
        assert!(check("555000000000").is_err());
        assert!(check("555057930104:smartcard").is_err());
        assert!(check("555057896106::555057900303").is_err());
        assert!(check("555057900101:smartcard:555057900304:555057900303").is_ok());
        assert!(check("555057900101:smartcard:555057900304:555057898108").is_err());
    }
}
