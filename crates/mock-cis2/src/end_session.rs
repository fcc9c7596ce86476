//! The end-session endpoint, `{issuer}/connect/endSession` (OpenID Connect RP-Initiated Logout
//! 1.0 §2 and §3): the `id_token_hint` names the session to end, and the browser goes back to a
//! registered `post_logout_redirect_uri` with its `state`, or sees a signed-out page.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::client_auth::FormParameters;
use crate::logout::SessionEndReason;
use crate::pages;
use crate::provider::Provider;
use crate::sessions;

/// GET: the browser is sent here by the client (§2).
pub(crate) async fn show(
    State(provider): State<Arc<Provider>>,
    RawQuery(query): RawQuery,
) -> Response {
    let form = FormParameters::parse(query.unwrap_or_default().as_bytes());
    end_session(&provider, &form)
}

/// POST: the same parameters as a form (§2 allows both).
pub(crate) async fn submit(State(provider): State<Arc<Provider>>, body: Bytes) -> Response {
    end_session(&provider, &FormParameters::parse(&body))
}

fn end_session(provider: &Provider, form: &FormParameters) -> Response {
    let request = match check(provider, form) {
        Ok(request) => request,
        Err(description) => return refused(description),
    };
    provider.end_session(&request.sid, SessionEndReason::SignedOut);
    let mut response = match request.redirect {
        Some(location) => redirect(&location),
        None => signed_out_page(),
    };
    // The browser's cookie named the ended session, or another one: either way it is spent.
    sessions::set_cookie(&mut response, &provider.base_path, "", 0);
    response
}

/// A checked end-session request: the session to end, and where to send the browser.
struct EndSessionRequest {
    sid: String,
    redirect: Option<String>,
}

fn check(provider: &Provider, form: &FormParameters) -> Result<EndSessionRequest, &'static str> {
    if form.repeated().is_some() {
        return Err("a parameter is repeated");
    }
    let hint = form
        .get("id_token_hint")
        .ok_or("id_token_hint is missing")?;
    let claims = provider
        .keys
        .verify(hint)
        .ok_or("id_token_hint is not a token this provider signed")?;
    // §2: the provider must have issued it; an expired hint is still fine, so `exp` is ignored.
    // An earlier issuer of restored state (configured otherwise before a restart) is this
    // provider too.
    if !claims["iss"]
        .as_str()
        .is_some_and(|iss| provider.issued_here(iss))
    {
        return Err("id_token_hint was issued by another provider");
    }
    // Access tokens are signed with the same keys but have no `aud` (REFERENCE §8).
    let audience = audience(&claims).ok_or("id_token_hint is not an ID token")?;
    let sid = claims["sid"]
        .as_str()
        .ok_or("id_token_hint has no sid")?
        .to_owned();
    let client_id = match form.get("client_id") {
        Some(client_id) if !audience.iter().any(|aud| aud == client_id) => {
            return Err("client_id is not the audience of id_token_hint")
        }
        Some(client_id) => client_id.to_owned(),
        None => claims["azp"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| audience.first().cloned())
            .ok_or("id_token_hint has no audience")?,
    };
    // §3: redirect only to a URI registered for this client; anything else gets the page, so
    // that end-session cannot be used as an open redirector.
    let redirect = form.get("post_logout_redirect_uri").and_then(|uri| {
        let registered = provider.clients.get(&client_id).is_some_and(|client| {
            client
                .post_logout_redirect_uris
                .iter()
                .any(|registered| registered == uri)
        });
        if !registered {
            tracing::info!(
                client_id,
                uri,
                "post_logout_redirect_uri not registered: showing the signed-out page"
            );
            return None;
        }
        let mut url = url::Url::parse(uri).ok()?;
        if let Some(state) = form.get("state") {
            url.query_pairs_mut().append_pair("state", state);
        }
        Some(url.to_string())
    });
    Ok(EndSessionRequest { sid, redirect })
}

/// `aud` as a list, whether a string or an array (OpenID Connect Core 1.0 §2).
fn audience(claims: &Value) -> Option<Vec<String>> {
    match &claims["aud"] {
        Value::String(aud) => Some(vec![aud.clone()]),
        Value::Array(auds) => {
            let auds: Vec<String> = auds
                .iter()
                .filter_map(|aud| aud.as_str().map(str::to_owned))
                .collect();
            (!auds.is_empty()).then_some(auds)
        }
        _ => None,
    }
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn signed_out_page() -> Response {
    pages::page(
        StatusCode::OK,
        "You have signed out",
        "<p id=\"signed-out\">Your NHS Care Identity session has ended.</p>\n\
         <p>You can close this window, or return to the application to sign in again.</p>",
    )
}

/// A request that cannot be trusted with a redirect: 400 with the OAuth error code on the page.
fn refused(description: &str) -> Response {
    pages::page(
        StatusCode::BAD_REQUEST,
        "Sign-out request refused",
        &format!(
            "<p>The application sent a sign-out request this provider cannot accept.</p>\n\
             <p>Error: <code id=\"error\">invalid_request</code></p>\n\
             <p id=\"error_description\">{}</p>",
            pages::escape(description)
        ),
    )
}
