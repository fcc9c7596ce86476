//! The sign-in pages' HTML: choose a test user, choose an authenticator (refused ones disabled
//! with the reason), the authenticator's step, and CIS2's role picker (REFERENCE §7). NHS.UK
//! frontend markup and classes, labels and hints tied to inputs, an error summary linked to
//! the field, and no JavaScript: every action is a form.

use axum::http::StatusCode;
use axum::response::Response;

use crate::authenticators::Authenticator;
use crate::pages::{escape, page};
use crate::provider::Provider;
use crate::store::AuthorizationRequest;
use crate::users::TestUser;
use crate::{webauthn, webauthn_pages};

/// More roles than this get a search box, as CIS2's picker does.
const ROLES_WITHOUT_SEARCH: usize = 5;

/// 422 when the page comes back with an error, so the status tells a test what happened.
pub(crate) fn status(error: Option<&str>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// The NHS.UK error summary: first in the page and focused, linking to the field at fault.
pub(crate) fn error_summary(error: Option<&str>, field: &str) -> String {
    match error {
        None => String::new(),
        Some(error) => format!(
            "<div class=\"nhsuk-error-summary\" aria-labelledby=\"error-summary-title\" \
             role=\"alert\" tabindex=\"-1\" autofocus>\
             <h2 class=\"nhsuk-error-summary__title\" id=\"error-summary-title\">There is a problem</h2>\
             <ul class=\"nhsuk-list nhsuk-error-summary__list\"><li><a href=\"#{field}\">{error}</a></li></ul></div>\n",
            field = escape(field),
            error = escape(error),
        ),
    }
}

fn error_message(error: Option<&str>, id: &str) -> String {
    error
        .map(|error| {
            format!(
                "<span class=\"nhsuk-error-message\" id=\"{id}-error\">\
                 <span class=\"nhsuk-u-visually-hidden\">Error:</span> {}</span>",
                escape(error)
            )
        })
        .unwrap_or_default()
}

/// A step's form: the pending sign-in, the step, its fields, then the primary button before
/// Cancel so that Enter and the focus order both reach the primary action first.
pub(crate) fn form(
    provider: &Provider,
    pending: &str,
    step: &str,
    fields: &str,
    primary: &str,
    primary_name: Option<&str>,
) -> String {
    let name = primary_name
        .map(|name| format!(" name=\"{name}\" value=\"1\""))
        .unwrap_or_default();
    format!(
        "<form method=\"post\" action=\"{action}\" novalidate>\n\
         <input type=\"hidden\" name=\"pending\" value=\"{pending}\">\n\
         <input type=\"hidden\" name=\"step\" value=\"{step}\">\n{fields}\n\
         <div class=\"nhsuk-button-group\">\
         <button class=\"nhsuk-button\" type=\"submit\"{name}>{primary}</button>\n\
         <button class=\"nhsuk-button nhsuk-button--secondary\" type=\"submit\" name=\"cancel\" value=\"1\">Cancel</button>\
         </div>\n</form>",
        action = escape(&format!("{}/authorize/sign-in", provider.base_path)),
        pending = escape(pending),
        primary = escape(primary),
    )
}

pub(crate) fn signed_in_as(user: &TestUser) -> String {
    format!(
        "<p class=\"nhsuk-body\">Signing in as <strong>{}</strong> (<code>{}</code>).</p>\n",
        escape(user.display_name()),
        escape(user.id())
    )
}

/// The first page: a list of the test users, or a user id typed in. `login_hint` selects a
/// known user, or fills the box with an unknown one.
pub(crate) fn user_page(
    provider: &Provider,
    pending: &str,
    request: &AuthorizationRequest,
    error: Option<&str>,
) -> Response {
    let hint = request.login_hint.as_deref().unwrap_or_default();
    let hint_known = provider.users.get(hint).is_some();
    let mut radios = String::new();
    for user in provider.users.users() {
        radios.push_str(&format!(
            "<div class=\"nhsuk-radios__item\">\
             <input class=\"nhsuk-radios__input\" id=\"user-{id}\" name=\"user\" type=\"radio\" value=\"{id}\" aria-describedby=\"user-{id}-hint\"{checked}>\
             <label class=\"nhsuk-label nhsuk-radios__label\" for=\"user-{id}\">{name} <code>{id}</code></label>\
             <div class=\"nhsuk-hint nhsuk-radios__hint\" id=\"user-{id}-hint\">{description}</div></div>\n",
            id = escape(user.id()),
            name = escape(user.display_name()),
            description = escape(user.description()),
            checked = if user.id() == hint { " checked" } else { "" },
        ));
    }
    let typed = if hint_known { "" } else { hint };
    let fields = format!(
        "<div class=\"nhsuk-form-group{group_error}\">\
         <fieldset class=\"nhsuk-fieldset\"><legend class=\"nhsuk-fieldset__legend nhsuk-fieldset__legend--m\">Choose a test user</legend>\n\
         <div class=\"nhsuk-radios\">\n{radios}</div></fieldset>\n\
         <label class=\"nhsuk-label\" for=\"user_id\">Or enter a user ID</label>\
         <div class=\"nhsuk-hint\" id=\"user_id-hint\">12 digits, for example 555057896106</div>{message}\
         <input class=\"nhsuk-input nhsuk-input--width-20\" id=\"user_id\" name=\"user_id\" type=\"text\" \
         inputmode=\"numeric\" autocomplete=\"username\" spellcheck=\"false\" value=\"{typed}\" \
         aria-describedby=\"user_id-hint{described_error}\"></div>",
        group_error = if error.is_some() { " nhsuk-form-group--error" } else { "" },
        message = error_message(error, "user_id"),
        described_error = if error.is_some() { " user_id-error" } else { "" },
        typed = escape(typed),
    );
    let body = format!(
        "{summary}<p class=\"nhsuk-body\">Choose who to sign in as. These are test users from the mock's users file.</p>\n{form}",
        summary = error_summary(error, "user_id"),
        form = form(provider, pending, "user", &fields, "Continue", None),
    );
    page(status(error), "Sign in with a test user", &body)
}

/// The authenticators, each with its assurance level; those the user lacks, or the request's
/// `acr_values` refuse, are disabled with the reason beside them.
pub(crate) fn authenticator_page(
    provider: &Provider,
    pending: &str,
    request: &AuthorizationRequest,
    user: &TestUser,
    error: Option<&str>,
) -> Response {
    let mut radios = String::new();
    let mut first_enabled = true;
    for authenticator in Authenticator::ALL {
        let reason = if !user.authenticators().contains(&authenticator) {
            Some("Not registered for this user".to_owned())
        } else {
            authenticator.refusal(&request.acr_values)
        };
        let checked = reason.is_none() && std::mem::take(&mut first_enabled);
        let hint = match &reason {
            Some(reason) => format!("Unavailable: {reason}"),
            None => format!(
                "acr {}, amr {}",
                default_acr(authenticator, request),
                authenticator.amr()
            ),
        };
        radios.push_str(&format!(
            "<div class=\"nhsuk-radios__item\">\
             <input class=\"nhsuk-radios__input\" id=\"authenticator-{name}\" name=\"authenticator\" type=\"radio\" value=\"{name}\"{state} aria-describedby=\"authenticator-{name}-hint\">\
             <label class=\"nhsuk-label nhsuk-radios__label\" for=\"authenticator-{name}\">{label} (AAL{level})</label>\
             <div class=\"nhsuk-hint nhsuk-radios__hint\" id=\"authenticator-{name}-hint\">{hint}</div></div>\n",
            name = authenticator.name(),
            label = escape(authenticator.label()),
            level = authenticator.assurance_level(),
            state = if reason.is_some() { " disabled" } else if checked { " checked" } else { "" },
            hint = escape(&hint),
        ));
    }
    let first = Authenticator::ALL[0].name();
    let fields = format!(
        "<div class=\"nhsuk-form-group{group_error}\"><fieldset class=\"nhsuk-fieldset\">\
         <legend class=\"nhsuk-fieldset__legend nhsuk-fieldset__legend--m\">How do you want to sign in?</legend>\n{message}\
         <div class=\"nhsuk-radios\">\n{radios}</div></fieldset></div>",
        group_error = if error.is_some() { " nhsuk-form-group--error" } else { "" },
        message = error_message(error, "authenticator"),
    );
    let body = format!(
        "{summary}{who}{form}",
        summary = error_summary(error, &format!("authenticator-{first}")),
        who = signed_in_as(user),
        form = form(
            provider,
            pending,
            "authenticator",
            &fields,
            "Continue",
            None
        ),
    );
    page(status(error), "Choose how to sign in", &body)
}

/// The `acr` the page promises: what the token will carry for this request.
fn default_acr(authenticator: Authenticator, request: &AuthorizationRequest) -> String {
    authenticator
        .acr_for(&request.acr_values)
        .unwrap_or_default()
}

/// One text input with its label, hint and error.
fn input(id: &str, label: &str, hint: &str, attributes: &str, error: Option<&str>) -> String {
    format!(
        "<div class=\"nhsuk-form-group{group_error}\">\
         <label class=\"nhsuk-label nhsuk-label--m\" for=\"{id}\">{label}</label>\
         <div class=\"nhsuk-hint\" id=\"{id}-hint\">{hint}</div>{message}\
         <input class=\"nhsuk-input nhsuk-input--width-10{input_error}\" id=\"{id}\" name=\"{id}\" {attributes} \
         aria-describedby=\"{id}-hint{described_error}\"{autofocus}></div>",
        group_error = if error.is_some() { " nhsuk-form-group--error" } else { "" },
        input_error = if error.is_some() { " nhsuk-input--error" } else { "" },
        message = error_message(error, id),
        described_error = if error.is_some() { format!(" {id}-error") } else { String::new() },
        autofocus = if error.is_some() { "" } else { " autofocus" },
        label = escape(label),
        hint = escape(hint),
    )
}

/// The authenticator's own step; for a WebAuthn-capable one, its ceremony page.
pub(crate) fn step_page(
    provider: &Provider,
    pending: &str,
    user: &TestUser,
    authenticator: Authenticator,
    error: Option<&str>,
) -> Response {
    if webauthn::has_ceremony(authenticator) {
        let offer = webauthn_pages::Offer::SignInOrRegister;
        return webauthn_pages::ceremony_page(provider, pending, user, authenticator, offer, error);
    }
    let (title, field, fields, primary, primary_name) = match authenticator {
        Authenticator::Smartcard => (
            "Enter your smartcard PIN",
            "pin",
            input(
                "pin",
                "Smartcard PIN",
                "Your smartcard is in the reader. Test users' PINs are their smartcard_pin in users.json.",
                "type=\"password\" inputmode=\"numeric\" autocomplete=\"off\"",
                error,
            ),
            "Sign in",
            None,
        ),
        Authenticator::AuthenticatorApp => (
            "Enter the code from your authenticator app",
            "code",
            input(
                "code",
                "6-digit code",
                "The code changes every 30 seconds (RFC 6238 with the user's totp_secret in users.json).",
                "type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"6\" spellcheck=\"false\"",
                error,
            ),
            "Sign in",
            None,
        ),
        Authenticator::Password => (
            "Enter your password",
            "password",
            input(
                "password",
                "Password",
                "Development only: CIS2 offers no password sign-in in live. Test passwords are in users.json.",
                "type=\"password\" autocomplete=\"current-password\"",
                error,
            ),
            "Sign in",
            None,
        ),
        other => {
            let (title, text) = match other {
                Authenticator::WindowsHello => (
                    "Sign in with Windows Hello",
                    "Windows Hello for Business would now recognise you by face, fingerprint or PIN.",
                ),
                Authenticator::SecurityKey => (
                    "Use your security key",
                    "Insert your FIDO2 security key and touch it when it flashes.",
                ),
                Authenticator::Ipad => (
                    "Approve on your iPad",
                    "Open the NHS CIS2 Authentication app on your iPad and approve this sign-in.",
                ),
                Authenticator::Passkey => (
                    "Use your passkey",
                    "Your device would now ask you to use your passkey.",
                ),
                _ => (
                    "Sign in with NHSmail",
                    "You would now sign in to NHSmail with your NHSmail account.",
                ),
            };
            (
                title,
                "confirm",
                format!(
                    "<p class=\"nhsuk-body\" id=\"confirm\">{}</p>{}",
                    escape(text),
                    error_message(error, "confirm")
                ),
                "Confirm",
                Some("confirm"),
            )
        }
    };
    let body = format!(
        "{summary}{who}{form}",
        summary = error_summary(error, field),
        who = signed_in_as(user),
        form = form(provider, pending, "verify", &fields, primary, primary_name),
    );
    page(status(error), title, &body)
}

/// CIS2's role picker: each role with its organisation's name and ODS code, the job role and
/// the full role code; more than five roles get a search box (a GET, filtered on the server).
pub(crate) fn role_page(
    provider: &Provider,
    pending: &str,
    user: &TestUser,
    search: &str,
    error: Option<&str>,
) -> Response {
    let roles = user.roles();
    let terms: Vec<String> = search.split_whitespace().map(str::to_lowercase).collect();
    let shown: Vec<_> = roles
        .iter()
        .filter(|role| {
            let org_name = user.org_name(&role.org_code).unwrap_or_default();
            let text = format!(
                "{} {} {} {} {}",
                role.role_name, role.role_code, role.org_code, org_name, role.person_roleid
            )
            .to_lowercase();
            terms.iter().all(|term| text.contains(term.as_str()))
        })
        .collect();
    let searchable = roles.len() > ROLES_WITHOUT_SEARCH;
    let search_form = if searchable {
        format!(
            "<form method=\"get\" action=\"{action}\" role=\"search\" class=\"nhsuk-form-group\">\
             <input type=\"hidden\" name=\"pending\" value=\"{pending}\">\
             <label class=\"nhsuk-label\" for=\"search\">Search your roles</label>\
             <div class=\"nhsuk-hint\" id=\"search-hint\">By role, organisation name, ODS code or role code</div>\
             <input class=\"nhsuk-input nhsuk-input--width-20\" id=\"search\" name=\"search\" type=\"search\" value=\"{search}\" aria-describedby=\"search-hint\"> \
             <button class=\"nhsuk-button nhsuk-button--secondary\" type=\"submit\">Search</button></form>\n\
             <p class=\"nhsuk-body\" id=\"role-count\">Showing {shown} of {total} roles</p>\n",
            action = escape(&format!("{}/authorize/sign-in", provider.base_path)),
            pending = escape(pending),
            search = escape(search),
            shown = shown.len(),
            total = roles.len(),
        )
    } else {
        String::new()
    };
    let mut radios = String::new();
    for role in &shown {
        let id = escape(&role.person_roleid);
        let job_role = role
            .role_name
            .rsplit(':')
            .next()
            .unwrap_or(&role.role_name)
            .trim_matches('"');
        radios.push_str(&format!(
            "<div class=\"nhsuk-radios__item\">\
             <input class=\"nhsuk-radios__input\" id=\"role-{id}\" name=\"role\" type=\"radio\" value=\"{id}\" aria-describedby=\"role-{id}-hint\">\
             <label class=\"nhsuk-label nhsuk-radios__label\" for=\"role-{id}\">{job_role} at {org_name} ({org_code})</label>\
             <div class=\"nhsuk-hint nhsuk-radios__hint\" id=\"role-{id}-hint\">Role code {role_code}, role ID {id}</div></div>\n",
            job_role = escape(job_role),
            org_name = escape(user.org_name(&role.org_code).unwrap_or("Unknown organisation")),
            org_code = escape(&role.org_code),
            role_code = escape(&role.role_code),
        ));
    }
    if shown.is_empty() {
        radios.push_str("<p class=\"nhsuk-body\">No roles match your search.</p>");
    }
    let first = shown
        .first()
        .map(|role| format!("role-{}", role.person_roleid))
        .unwrap_or_else(|| "search".to_owned());
    let fields = format!(
        "<div class=\"nhsuk-form-group{group_error}\"><fieldset class=\"nhsuk-fieldset\">\
         <legend class=\"nhsuk-fieldset__legend nhsuk-fieldset__legend--m\">Your roles</legend>\n{message}\
         <div class=\"nhsuk-radios\">\n{radios}</div></fieldset></div>",
        group_error = if error.is_some() { " nhsuk-form-group--error" } else { "" },
        message = error_message(error, "role"),
    );
    let body = format!(
        "{summary}{who}<p class=\"nhsuk-body\">You have {count} roles. Select the one to use for this session.</p>\n{search_form}{form}",
        summary = error_summary(error, &first),
        who = signed_in_as(user),
        count = roles.len(),
        form = form(provider, pending, "role", &fields, "Continue", None),
    );
    page(status(error), "Select your role", &body)
}
