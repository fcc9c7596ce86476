//! The security key, Windows Hello and passkey steps of the sign-in pages: a real WebAuthn
//! ceremony (registration on first use, as CIS2 asks, then sign-in) run by the one script,
//! `webauthn.js`, beside the quick click-through; and the forms that script posts back.
//!
//! These pages carry a Content-Security-Policy that allows that script alone (no inline script)
//! and the pages' own inline style by its hash.

use aws_lc_rs::digest;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::authenticators::Authenticator;
use crate::pages::{self, escape};
use crate::provider::Provider;
use crate::sign_in_pages::{error_summary, form, signed_in_as, status};
use crate::store::UnixTime;
use crate::users::TestUser;
use crate::webauthn::CeremonyError;

/// The script, served at `{issuer}/authorize/webauthn.js`.
const SCRIPT: &str = include_str!("../assets/webauthn.js");

/// Where the script is served, under the issuer's path.
const SCRIPT_PATH: &str = "/authorize/webauthn.js";

/// The steps the ceremony pages post.
pub(crate) const STEP_REGISTER: &str = "webauthn-register";
pub(crate) const STEP_SIGN_IN: &str = "webauthn-sign-in";
/// "Register another", a plain form without the script.
pub(crate) const STEP_NEW: &str = "webauthn-new";

/// Which ceremony the page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Sign-in when the user has a credential for the authenticator, else registration.
    SignInOrRegister,
    /// Registration, asked for by the tester.
    Register,
}

/// What a ceremony page's form posted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer<'a> {
    /// [`STEP_REGISTER`], [`STEP_SIGN_IN`] or [`STEP_NEW`].
    pub step: &'a str,
    /// The browser's response as JSON, when the ceremony succeeded in the browser.
    pub credential: Option<&'a str>,
    /// The browser's error (`NotAllowedError: ...`), when it did not.
    pub browser_error: Option<&'a str>,
}

/// What a posted ceremony led to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The user signed in with a checked credential of this authenticator.
    SignedIn(Authenticator),
    /// A page to show: the next ceremony, or the same one with what went wrong.
    Page(Response),
}

/// The authenticator's name in a sentence.
fn noun(authenticator: Authenticator) -> &'static str {
    match authenticator {
        Authenticator::WindowsHello => "Windows Hello",
        Authenticator::Passkey => "passkey",
        _ => "security key",
    }
}

fn instruction(authenticator: Authenticator) -> &'static str {
    match authenticator {
        Authenticator::WindowsHello => "Windows Hello will ask for your face, fingerprint or PIN.",
        Authenticator::Passkey => "Your device will ask you to use your passkey.",
        _ => {
            "Insert your FIDO2 security key, enter its PIN if asked, and touch it when it flashes."
        }
    }
}

/// The step page of a WebAuthn-capable authenticator: the real ceremony the user can run now
/// (registration on first use, sign-in after), "register another", and the click-through.
pub(crate) fn ceremony_page(
    provider: &Provider,
    pending: &str,
    user: &TestUser,
    authenticator: Authenticator,
    offer: Offer,
    error: Option<&str>,
) -> Response {
    let noun = noun(authenticator);
    let registered = provider.webauthn.count(user.id(), authenticator);
    let ceremony = match provider.webauthn.rp_id() {
        Err(reason) => Err(reason.to_owned()),
        Ok(rp_id) => {
            let started = match offer {
                Offer::SignInOrRegister if registered > 0 => provider
                    .webauthn
                    .begin_sign_in(pending, user, authenticator)
                    .map(|options| options.map(|options| ("get", options))),
                _ => Ok(None),
            };
            let started = match started {
                Ok(None) => provider
                    .webauthn
                    .begin_registration(pending, user, authenticator)
                    .map(|options| Some(("create", options))),
                other => other,
            };
            started
                .map(|started| (rp_id.to_owned(), started))
                .map_err(|error| error.to_string())
        }
    };
    let (title, real) = match &ceremony {
        Ok((rp_id, Some((kind, options)))) => {
            let signing_in = *kind == "get";
            let (title, heading, text, button, step) = if signing_in {
                (
                    format!("Use your {noun}"),
                    format!("Sign in with your {noun}"),
                    format!(
                        "{} This test user has {registered} {noun} credential{} registered with the mock.",
                        instruction(authenticator),
                        if registered == 1 { "" } else { "s" }
                    ),
                    format!("Use my {noun}"),
                    STEP_SIGN_IN,
                )
            } else {
                (
                    format!("Register your {noun}"),
                    format!("Register a {noun}"),
                    if registered == 0 {
                        format!(
                            "The first time you use a {noun}, CIS2 asks you to register it. This test user has none registered with the mock. {}",
                            instruction(authenticator)
                        )
                    } else {
                        format!(
                            "Register another {noun} for this test user; the ones registered before still work. {}",
                            instruction(authenticator)
                        )
                    },
                    format!("Register my {noun}"),
                    STEP_REGISTER,
                )
            };
            let another = if signing_in {
                format!(
                    "<form method=\"post\" action=\"{action}\">\
                     <input type=\"hidden\" name=\"pending\" value=\"{pending}\">\
                     <input type=\"hidden\" name=\"step\" value=\"{STEP_NEW}\">\
                     <button class=\"nhsuk-button nhsuk-button--secondary\" type=\"submit\" id=\"webauthn-register-another\">Register another {noun}</button></form>\n",
                    action = escape(&sign_in_action(provider)),
                    pending = escape(pending),
                )
            } else {
                String::new()
            };
            let html = format!(
                "<h2>{heading}</h2>\n<p class=\"nhsuk-body\">{text}</p>\n\
                 <p class=\"nhsuk-hint\">A real WebAuthn ceremony: relying party ID <code>{rp_id}</code>, user verification required at AAL3.</p>\n\
                 <button class=\"nhsuk-button\" type=\"button\" id=\"webauthn-start\" data-ceremony=\"{kind}\" data-options=\"{options}\">{button}</button>\n\
                 <p class=\"nhsuk-body\" id=\"webauthn-status\" role=\"status\" aria-live=\"polite\"></p>\n\
                 <noscript><p class=\"nhsuk-body\">A real {noun} needs JavaScript: use the click-through below.</p></noscript>\n\
                 <form id=\"webauthn-form\" method=\"post\" action=\"{action}\">\
                 <input type=\"hidden\" name=\"pending\" value=\"{pending}\">\
                 <input type=\"hidden\" name=\"step\" value=\"{step}\">\
                 <input type=\"hidden\" name=\"credential\" value=\"\">\
                 <input type=\"hidden\" name=\"webauthn_error\" value=\"\"></form>\n{another}",
                heading = escape(&heading),
                text = escape(&text),
                rp_id = escape(rp_id),
                options = escape(options),
                button = escape(&button),
                action = escape(&sign_in_action(provider)),
                pending = escape(pending),
            );
            (title, html)
        }
        Ok((_, None)) | Err(_) => {
            let reason = ceremony.as_ref().err().map_or("", String::as_str);
            (
                format!("Use your {noun}"),
                format!(
                    "<div class=\"nhsuk-inset-text\" id=\"webauthn-unavailable\"><p>{}</p></div>\n",
                    escape(&format!(
                        "Real WebAuthn cannot run here ({reason}). Use the click-through below."
                    ))
                ),
            )
        }
    };
    let click_through = form(
        provider,
        pending,
        "verify",
        &format!(
            "<h2>Or confirm without a {noun}</h2>\n<p class=\"nhsuk-body\" id=\"confirm\">\
             For a quick run, the click-through signs in as if the {noun} had answered.</p>",
        ),
        "Confirm (click-through)",
        Some("confirm"),
    );
    let body = format!(
        "{summary}{who}{real}{click_through}\n<script src=\"{script}\" defer></script>",
        summary = error_summary(error, "webauthn-start"),
        who = signed_in_as(user),
        script = escape(&format!("{}{SCRIPT_PATH}", provider.base_path)),
    );
    with_policy(provider, pages::page(status(error), &title, &body))
}

fn sign_in_action(provider: &Provider) -> String {
    format!("{}/authorize/sign-in", provider.base_path)
}

/// The ceremony pages' Content-Security-Policy: this script alone, by its full URL (no inline
/// script), the page's inline style by its hash, and nothing else loaded. No `form-action`,
/// since browsers apply it to the redirect back to the client after the last form.
fn with_policy(provider: &Provider, mut response: Response) -> Response {
    let style_hash = STANDARD.encode(digest::digest(&digest::SHA256, pages::STYLE.as_bytes()));
    let script = provider.issuer.endpoint(SCRIPT_PATH);
    let policy = format!(
        "default-src 'none'; script-src {script}; style-src 'sha256-{style_hash}'; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `GET {issuer}/authorize/webauthn.js`.
pub(crate) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// A ceremony page's form: the browser's answer or error, checked by the relying party. A
/// failure shows the page again with what went wrong and what to do.
pub(crate) fn submit(
    provider: &Provider,
    pending: &str,
    user: &TestUser,
    authenticator: Authenticator,
    answer: Answer<'_>,
    now: UnixTime,
) -> Outcome {
    let Answer {
        step,
        credential,
        browser_error,
    } = answer;
    let noun = noun(authenticator);
    let page = |offer, error: &str| {
        Outcome::Page(ceremony_page(
            provider,
            pending,
            user,
            authenticator,
            offer,
            Some(error),
        ))
    };
    if step == STEP_NEW {
        return Outcome::Page(ceremony_page(
            provider,
            pending,
            user,
            authenticator,
            Offer::Register,
            None,
        ));
    }
    let registering = step == STEP_REGISTER;
    let answer = match (browser_error.filter(|error| !error.is_empty()), credential) {
        (Some(error), _) => Err(CeremonyError::Browser(error.chars().take(300).collect())),
        (None, Some(credential)) if !credential.is_empty() => {
            if registering {
                provider
                    .webauthn
                    .finish_registration(pending, user, credential, now)
            } else {
                provider
                    .webauthn
                    .finish_sign_in(pending, user, credential, now)
            }
        }
        _ => Err(CeremonyError::Malformed),
    };
    match answer {
        Ok(_) if registering => Outcome::Page(ceremony_page(
            provider,
            pending,
            user,
            authenticator,
            Offer::SignInOrRegister,
            None,
        )),
        Ok(signed_in) => Outcome::SignedIn(signed_in),
        Err(error) if registering => {
            let already = matches!(error, CeremonyError::AlreadyRegistered)
                || matches!(&error, CeremonyError::Browser(text) if text.starts_with("InvalidStateError"));
            if already {
                page(
                    Offer::SignInOrRegister,
                    &format!("This {noun} is registered already for this user: sign in with it"),
                )
            } else {
                page(
                    Offer::Register,
                    &format!("Your {noun} was not registered: {error}"),
                )
            }
        }
        Err(error) if error.is_not_allowed() || error == CeremonyError::UnknownCredential => page(
            Offer::SignInOrRegister,
            &format!(
                "Your {noun} was not recognised ({error}). If its credential was removed, or this is another {noun}, register it again"
            ),
        ),
        Err(error) => page(
            Offer::SignInOrRegister,
            &format!("You were not signed in with your {noun}: {error}"),
        ),
    }
}
