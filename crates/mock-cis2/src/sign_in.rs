//! Signing a test user in and issuing the authorization code (RFC 6749 §4.1.2, OpenID Connect
//! Core 1.0 §3.1.2.5): non-interactively with auto-login, or through a plain HTML page that
//! lists the test users and needs no JavaScript. The full authenticator pages come later.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::authenticators::Authenticator;
use crate::authorize::{redirect_error, redirect_to_client};
use crate::error::{ErrorCode, OAuthError, StartError};
use crate::pages::{self, escape};
use crate::provider::{now, Provider};
use crate::store::{AuthorizationRequest, SignIn};
use crate::users::{Directory, TestUser};

/// `USER_ID[:AUTHENTICATOR[:ROLE_ID]]`: sign this user in without a page, so that a plain HTTP
/// client following redirects completes the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoLogin {
    pub user_id: String,
    /// The user's first authenticator when absent.
    pub authenticator: Option<Authenticator>,
    /// The role chosen when the client asks for `selectedrole`; the user's first role when absent.
    pub role_id: Option<String>,
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
        if parts.next().is_some() {
            return Err("has more than USER_ID:AUTHENTICATOR:ROLE_ID".into());
        }
        Ok(Self {
            user_id,
            authenticator,
            role_id,
        })
    }
}

impl fmt::Display for AutoLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.user_id)?;
        if let Some(authenticator) = self.authenticator {
            write!(f, ":{authenticator}")?;
        }
        if let Some(role_id) = &self.role_id {
            if self.authenticator.is_none() {
                f.write_str(":")?;
            }
            write!(f, ":{role_id}")?;
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
        if let Some(role_id) = &self.role_id {
            if user.role(role_id).is_none() {
                return Err(StartError::AutoLogin(format!(
                    "user {} has no role {role_id}",
                    self.user_id
                )));
            }
        }
        Ok(())
    }
}

/// Continues a valid authorization request: signs the auto-login user in at once, or shows the
/// sign-in page.
pub(crate) fn begin(provider: &Provider, request: AuthorizationRequest) -> Response {
    match &provider.auto_login {
        Some(auto_login) => {
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
            complete(
                provider,
                request,
                user,
                authenticator,
                auto_login.role_id.as_deref(),
            )
        }
        None => show_page(provider, request),
    }
}

/// Issues the code for a signed-in user, or refuses when the authenticator is below what the
/// client's `acr_values` demand.
fn complete(
    provider: &Provider,
    request: AuthorizationRequest,
    user: &TestUser,
    authenticator: Authenticator,
    role_id: Option<&str>,
) -> Response {
    let Some(acr) = authenticator.acr_for(&request.acr_values) else {
        let error = OAuthError::new(
            ErrorCode::AccessDenied,
            format!(
                "the {authenticator} authenticator does not meet acr_values {}",
                request.acr_values.join(" ")
            ),
        );
        return redirect_error(
            provider,
            &request.redirect_uri,
            request.state.as_deref(),
            &error,
        );
    };
    // CIS2 reports a role only when the client asked for role selection.
    let selected_roleid = if request.has_scope("selectedrole") || request.has_scope("changedrole") {
        role_id
            .and_then(|id| user.role(id))
            .or_else(|| user.roles().first())
            .map(|role| role.person_roleid.clone())
    } else {
        None
    };
    let now = now();
    let sign_in = SignIn {
        user_id: user.id().to_owned(),
        authenticator,
        acr,
        selected_roleid,
        auth_time: now,
        sid: provider.random(20),
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

fn show_page(provider: &Provider, request: AuthorizationRequest) -> Response {
    let pending = provider.random(24);
    let action = format!("{}/authorize/sign-in", provider.base_path);
    let mut body = String::from(
        "<p>Choose a test user, an authenticator and a role, then sign in.</p>\n<ul>\n",
    );
    for user in provider.users.users() {
        let authenticators: String = user
            .authenticators()
            .iter()
            .map(|authenticator| {
                format!(
                    "<option value=\"{name}\">{name} (AAL{level})</option>",
                    name = authenticator.name(),
                    level = authenticator.assurance_level()
                )
            })
            .collect();
        let roles: String = user
            .roles()
            .iter()
            .map(|role| {
                format!(
                    "<option value=\"{}\">{} at {}</option>",
                    escape(&role.person_roleid),
                    escape(role.role_name.rsplit(':').next().unwrap_or(&role.role_name)),
                    escape(&role.org_code)
                )
            })
            .collect();
        let role_field = if roles.is_empty() {
            "<span>no roles</span>".to_owned()
        } else {
            format!("<label>Role <select name=\"role\">{roles}</select></label>")
        };
        body.push_str(&format!(
            "<li><form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"pending\" value=\"{pending}\">\
             <input type=\"hidden\" name=\"user\" value=\"{id}\">\
             <strong>{name}</strong> <code>{id}</code>: {description} \
             <label>Authenticator <select name=\"authenticator\">{authenticators}</select></label> \
             {role_field} <button type=\"submit\">Sign in as {name}</button></form></li>\n",
            action = escape(&action),
            id = escape(user.id()),
            name = escape(user.display_name()),
            description = escape(user.description()),
        ));
    }
    body.push_str("</ul>");
    provider
        .store
        .insert_pending(pending, request, now() + provider.settings.sign_in_lifetime);
    pages::page(StatusCode::OK, "Sign in with a test user", &body)
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    pending: String,
    user: String,
    authenticator: String,
    role: Option<String>,
}

/// The sign-in page's form: completes the pending request with the chosen user.
pub(crate) async fn submit(
    State(provider): State<Arc<Provider>>,
    Form(form): Form<SignInForm>,
) -> Response {
    let Some(request) = provider.store.take_pending(&form.pending, now()) else {
        return pages::error_page(
            "invalid_request",
            "this sign-in has expired or was already used: start again from the application",
        );
    };
    let Some(user) = provider.users.get(&form.user) else {
        return pages::error_page("invalid_request", "unknown test user");
    };
    let authenticator = match form.authenticator.parse::<Authenticator>() {
        Ok(authenticator) if user.authenticators().contains(&authenticator) => authenticator,
        _ => return pages::error_page("invalid_request", "the user has no such authenticator"),
    };
    if let Some(role) = form.role.as_deref() {
        if user.role(role).is_none() {
            return pages::error_page("invalid_request", "the user has no such role");
        }
    }
    complete(
        &provider,
        request,
        user,
        authenticator,
        form.role.as_deref(),
    )
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
            ("", Err(())),
            ("555057896106:fingerprint", Err(())),
            ("1:smartcard:2:3", Err(())),
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
    }
}
