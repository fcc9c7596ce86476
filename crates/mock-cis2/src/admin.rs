//! The admin page for testers at `{issuer}/admin`: SSO sessions, signing keys, faults, modes,
//! issued tokens' claims and the request log, with forms to end a session, rotate or retire keys,
//! arm or clear faults and switch modes on or off. Loopback peers only, server-rendered, no
//! JavaScript.
//!
//! CSRF defence: every form carries a random token made once per process and compared in
//! constant time. Another site's page can make a browser POST here but cannot read the admin
//! page (it sends no CORS headers) to learn the token. `Origin` checks were the alternative; they
//! were not chosen because the page is reached as `localhost`, `127.0.0.1` or `[::1]` whatever the
//! issuer says, and because a POST whose browser omits `Origin` would have to be let through.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::activity::{IssuedToken, LoggedRequest};
use crate::error::StartError;
use crate::faults::{admin_peer_allowed, ArmedFault, Fault, FAULT_NAMES};
use crate::keys::NewKeys;
use crate::logout::SessionEndReason;
use crate::modes::{is_mode_name, Mode, MODE_NAMES};
use crate::pages::{escape, page};
use crate::provider::{now, Provider};
use crate::sessions::SessionInfo;

/// How many logged requests the page shows; the library API returns the whole log.
const REQUESTS_SHOWN: usize = 200;

/// The actions the page and [`crate::RunningMock`] share, so the buttons do exactly what the
/// library API does.
impl Provider {
    /// Makes freshly generated keys current, keeping the previous ones published.
    pub(crate) async fn rotate_keys(&self) -> Result<(), StartError> {
        // RSA key generation takes tens of milliseconds: off the async runtime's threads.
        let keys = tokio::task::spawn_blocking(NewKeys::generate)
            .await
            .map_err(|_| StartError::KeyGeneration)??;
        self.keys.rotate(keys);
        Ok(())
    }

    /// Unpublishes every key but the current ones.
    pub(crate) fn retire_old_keys(&self) {
        self.keys.retire_old();
    }
}

/// What the page confirms after a form's redirect. Only these fixed messages are shown, so the
/// query cannot put text of an attacker's choosing on the page.
const CONFIRMATIONS: &[(&str, &str)] = &[
    ("session-ended", "The session was ended."),
    (
        "no-session",
        "No live session had that sid; nothing was ended.",
    ),
    (
        "keys-rotated",
        "New signing keys are current; the old ones are still published.",
    ),
    (
        "keys-retired",
        "The old signing keys were retired from the JWKS.",
    ),
    ("fault-armed", "The fault is armed."),
    ("faults-cleared", "Every fault was cleared."),
    ("mode-on", "The mode is on."),
    ("mode-off", "The mode is off."),
];

fn refused(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Admin action refused",
        &format!("<p id=\"refusal\">{}</p>", escape(message)),
    )
}

fn forbidden_peer() -> Response {
    refused(
        StatusCode::FORBIDDEN,
        "The admin page answers loopback peers only.",
    )
}

/// `GET {issuer}/admin`.
pub(crate) async fn show(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
) -> Response {
    if !admin_peer_allowed(peer.ip()) {
        return forbidden_peer();
    }
    let done = uri.query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "done")
            .and_then(|(_, value)| {
                CONFIRMATIONS
                    .iter()
                    .find(|(key, _)| *key == value)
                    .map(|(_, message)| *message)
            })
    });
    render(&provider, StatusCode::OK, done, None)
}

/// A form's fields; each action reads the ones it needs.
#[derive(Debug, Default)]
struct AdminForm {
    form_token: String,
    sid: String,
    name: String,
    count: String,
}

impl AdminForm {
    fn parse(body: &[u8]) -> Self {
        let mut form = Self::default();
        for (name, value) in url::form_urlencoded::parse(body) {
            let field = match name.as_ref() {
                "form_token" => &mut form.form_token,
                "sid" => &mut form.sid,
                "name" => &mut form.name,
                "count" => &mut form.count,
                _ => continue,
            };
            *field = value.into_owned();
        }
        form
    }
}

/// The form token must match this process's, compared in constant time.
fn token_matches(provider: &Provider, presented: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(
        presented.as_bytes(),
        provider.admin_form_token.as_bytes(),
    )
    .is_ok()
}

/// Why a form is refused: a peer off this machine, or a missing or wrong form token.
fn refusal(provider: &Provider, peer: SocketAddr, form: &AdminForm) -> Option<Response> {
    if !admin_peer_allowed(peer.ip()) {
        return Some(forbidden_peer());
    }
    if !token_matches(provider, &form.form_token) {
        return Some(refused(
            StatusCode::FORBIDDEN,
            "The form token is missing or wrong. Reload the admin page and try again.",
        ));
    }
    None
}

/// Post/redirect/get: back to the page with a confirmation, so a reload repeats nothing.
fn back_to_page(provider: &Provider, done: &str) -> Response {
    let location = format!("{}/admin?done={done}", provider.base_path);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `POST {issuer}/admin/sessions/end` with `sid`.
pub(crate) async fn end_session(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let form = AdminForm::parse(&body);
    if let Some(refusal) = refusal(&provider, peer, &form) {
        return refusal;
    }
    let done = if provider.end_session(&form.sid, SessionEndReason::Ended) {
        "session-ended"
    } else {
        "no-session"
    };
    back_to_page(&provider, done)
}

/// `POST {issuer}/admin/keys/rotate`.
pub(crate) async fn rotate_keys(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refusal(&provider, peer, &AdminForm::parse(&body)) {
        return refusal;
    }
    match provider.rotate_keys().await {
        Ok(()) => back_to_page(&provider, "keys-rotated"),
        Err(error) => refused(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

/// `POST {issuer}/admin/keys/retire`.
pub(crate) async fn retire_keys(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refusal(&provider, peer, &AdminForm::parse(&body)) {
        return refusal;
    }
    provider.retire_old_keys();
    back_to_page(&provider, "keys-retired")
}

/// `POST {issuer}/admin/faults/arm` with `name` (the `NAME[@ENDPOINT][=MS]` syntax) and an
/// optional `count`. A wrong name or count shows the page again with the error.
pub(crate) async fn arm_fault(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let form = AdminForm::parse(&body);
    if let Some(refusal) = refusal(&provider, peer, &form) {
        return refusal;
    }
    let count = match form.count.trim() {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(count) if count > 0 => Some(count),
            _ => {
                return render(
                    &provider,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(("count", "The count must be a whole number of at least 1")),
                )
            }
        },
    };
    match form.name.trim().parse::<Fault>() {
        Ok(fault) => {
            provider.faults.arm(ArmedFault {
                fault,
                remaining: count,
            });
            back_to_page(&provider, "fault-armed")
        }
        Err(_) => render(
            &provider,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(("fault-name", "Enter a fault name from the list")),
        ),
    }
}

/// `POST {issuer}/admin/faults/clear`.
pub(crate) async fn clear_faults(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refusal(&provider, peer, &AdminForm::parse(&body)) {
        return refusal;
    }
    provider.faults.clear();
    back_to_page(&provider, "faults-cleared")
}

/// `POST {issuer}/admin/modes/on` with `name` (the `NAME[=VALUE]` syntax). A wrong name or
/// value shows the page again with the error.
pub(crate) async fn switch_mode_on(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let form = AdminForm::parse(&body);
    if let Some(refusal) = refusal(&provider, peer, &form) {
        return refusal;
    }
    match form.name.trim().parse::<Mode>() {
        Ok(mode) => {
            provider.modes.switch_on(mode);
            back_to_page(&provider, "mode-on")
        }
        Err(_) => render(
            &provider,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some((
                "mode-name",
                "Enter a mode from the list, with its value where it takes one",
            )),
        ),
    }
}

/// `POST {issuer}/admin/modes/off` with `name`, a mode's name without its value.
pub(crate) async fn switch_mode_off(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let form = AdminForm::parse(&body);
    if let Some(refusal) = refusal(&provider, peer, &form) {
        return refusal;
    }
    let name = form.name.trim();
    if !is_mode_name(name) {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "There is no mode of that name.",
        );
    }
    provider.modes.switch_off(name);
    back_to_page(&provider, "mode-off")
}

/// A POST form with the token and one button.
fn action_form(
    provider: &Provider,
    action: &str,
    hidden: &[(&str, &str)],
    button: &str,
    secondary: bool,
) -> String {
    let mut fields = String::new();
    for (name, value) in hidden {
        fields.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        ));
    }
    format!(
        "<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"form_token\" value=\"{token}\">{fields}\
         <button class=\"nhsuk-button{class}\" type=\"submit\">{button}</button></form>",
        action = escape(&format!("{}{action}", provider.base_path)),
        token = escape(&provider.admin_form_token),
        class = if secondary {
            " nhsuk-button--secondary"
        } else {
            ""
        },
        button = escape(button),
    )
}

/// A table with a caption and column headers.
fn table(id: &str, caption: &str, headers: &[&str], rows: &[String]) -> String {
    let headers: String = headers
        .iter()
        .map(|header| format!("<th scope=\"col\">{}</th>", escape(header)))
        .collect();
    format!(
        "<table class=\"nhsuk-table\" id=\"{id}\"><caption class=\"nhsuk-table__caption\">{}</caption>\
         <thead><tr>{headers}</tr></thead><tbody>{}</tbody></table>",
        escape(caption),
        rows.concat(),
    )
}

/// A Unix time as the UTC time of day with milliseconds: enough to tell requests apart.
fn time_of_day(unix_millis: u64) -> String {
    let millis = unix_millis % 1000;
    let seconds = (unix_millis / 1000) % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{millis:03} UTC",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    )
}

fn sessions_section(provider: &Provider, sessions: &[SessionInfo]) -> String {
    if sessions.is_empty() {
        return "<h2 id=\"sessions\">SSO sessions</h2><p>No live sessions.</p>".to_owned();
    }
    let rows: Vec<String> = sessions
        .iter()
        .map(|session| {
            format!(
                "<tr><td><code>{sid}</code></td><td>{user}</td><td>{authenticator}</td>\
                 <td>{auth_time} ({when})</td><td>{role}</td><td>{end}</td></tr>",
                sid = escape(&session.sid),
                user = escape(&session.user_id),
                authenticator = escape(session.authenticator.label()),
                auth_time = session.auth_time,
                when = time_of_day(session.auth_time * 1000),
                role = escape(session.selected_roleid.as_deref().unwrap_or("none chosen")),
                end = action_form(
                    provider,
                    "/admin/sessions/end",
                    &[("sid", &session.sid)],
                    "End session",
                    true
                ),
            )
        })
        .collect();
    format!(
        "<h2 id=\"sessions\">SSO sessions</h2>{}",
        table(
            "sessions-table",
            "Live SSO sessions, oldest sign-in first",
            &[
                "sid",
                "User",
                "Authenticator",
                "auth_time",
                "Role",
                "Action"
            ],
            &rows
        )
    )
}

fn keys_section(provider: &Provider) -> String {
    let rows: Vec<String> = provider
        .keys
        .published()
        .iter()
        .map(|key| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&key.kid),
                key.algorithm.as_str(),
                if key.current { "current" } else { "old" },
            )
        })
        .collect();
    format!(
        "<h2 id=\"keys\">Signing keys</h2>{}{}{}",
        table(
            "keys-table",
            "Keys published in the JWKS",
            &["kid", "alg", "Status"],
            &rows
        ),
        action_form(provider, "/admin/keys/rotate", &[], "Rotate keys", false),
        action_form(provider, "/admin/keys/retire", &[], "Retire old keys", true),
    )
}

fn faults_section(provider: &Provider, error: Option<(&str, &str)>) -> String {
    let armed = provider.faults.list();
    let listing = if armed.is_empty() {
        "<p id=\"no-faults\">No faults are armed.</p>".to_owned()
    } else {
        let rows: Vec<String> = armed
            .iter()
            .map(|armed| {
                format!(
                    "<tr><td><code>{}</code></td><td>{}</td></tr>",
                    escape(&armed.fault.to_string()),
                    armed
                        .remaining
                        .map_or("until cleared".to_owned(), |count| count.to_string()),
                )
            })
            .collect();
        table(
            "faults-table",
            "Armed faults",
            &["Fault", "Requests left"],
            &rows,
        )
    };
    let field_error = |field: &str| {
        error
            .filter(|(at, _)| *at == field)
            .map(|(_, message)| {
                format!(
                    "<span class=\"nhsuk-error-message\" id=\"{field}-error\">\
                     <span class=\"nhsuk-u-visually-hidden\">Error:</span> {}</span>",
                    escape(message)
                )
            })
            .unwrap_or_default()
    };
    let group = |field: &str| {
        if error.is_some_and(|(at, _)| at == field) {
            "nhsuk-form-group nhsuk-form-group--error"
        } else {
            "nhsuk-form-group"
        }
    };
    let options: String = FAULT_NAMES
        .iter()
        .map(|name| format!("<option value=\"{}\">", escape(name)))
        .collect();
    format!(
        "<h2 id=\"faults\">Faults</h2>{listing}\
         <form method=\"post\" action=\"{arm}\" novalidate>\
         <input type=\"hidden\" name=\"form_token\" value=\"{token}\">\
         <div class=\"{name_group}\"><label class=\"nhsuk-label\" for=\"fault-name\">Fault</label>\
         <div class=\"nhsuk-hint\" id=\"fault-name-hint\">A name from FAULTS.md, as <code>wrong_issuer</code> or \
         <code>http_503@token</code></div>{name_error}\
         <input class=\"nhsuk-input nhsuk-input--width-20\" id=\"fault-name\" name=\"name\" type=\"text\" \
         list=\"fault-names\" aria-describedby=\"fault-name-hint\" autocomplete=\"off\" spellcheck=\"false\">\
         <datalist id=\"fault-names\">{options}</datalist></div>\
         <div class=\"{count_group}\"><label class=\"nhsuk-label\" for=\"count\">Requests to affect (optional)</label>\
         <div class=\"nhsuk-hint\" id=\"count-hint\">Leave empty to keep the fault until cleared</div>{count_error}\
         <input class=\"nhsuk-input nhsuk-input--width-10\" id=\"count\" name=\"count\" type=\"text\" \
         inputmode=\"numeric\" aria-describedby=\"count-hint\"></div>\
         <button class=\"nhsuk-button\" type=\"submit\">Arm fault</button></form>{clear}",
        arm = escape(&format!("{}/admin/faults/arm", provider.base_path)),
        token = escape(&provider.admin_form_token),
        name_group = group("fault-name"),
        name_error = field_error("fault-name"),
        count_group = group("count"),
        count_error = field_error("count"),
        clear = action_form(
            provider,
            "/admin/faults/clear",
            &[],
            "Clear faults",
            true
        ),
    )
}

fn modes_section(provider: &Provider, error: Option<(&str, &str)>) -> String {
    let on = provider.modes.list();
    let rows: Vec<String> = MODE_NAMES
        .iter()
        .map(|(listed, about)| {
            let name = listed.split(['=', '[']).next().unwrap_or(listed);
            let (state, action) = match on.iter().find(|mode| mode.name() == name) {
                Some(mode) => (
                    format!("On: <code>{}</code>", escape(&mode.to_string())),
                    action_form(
                        provider,
                        "/admin/modes/off",
                        &[("name", name)],
                        "Switch off",
                        true,
                    ),
                ),
                None => ("Off".to_owned(), String::new()),
            };
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{state}</td><td>{action}</td></tr>",
                escape(listed),
                escape(about),
            )
        })
        .collect();
    let (group, message) = match error.filter(|(field, _)| *field == "mode-name") {
        Some((_, message)) => (
            "nhsuk-form-group nhsuk-form-group--error",
            format!(
                "<span class=\"nhsuk-error-message\" id=\"mode-name-error\">\
                 <span class=\"nhsuk-u-visually-hidden\">Error:</span> {}</span>",
                escape(message)
            ),
        ),
        None => ("nhsuk-form-group", String::new()),
    };
    let options: String = MODE_NAMES
        .iter()
        .map(|(name, _)| format!("<option value=\"{}\">", escape(name)))
        .collect();
    format!(
        "<h2 id=\"modes\">Modes: CIS2 as it may really be</h2>\
         <p>Each mode changes what the provider answers until it is switched off (MODES.md).</p>{table}\
         <form method=\"post\" action=\"{on}\" novalidate>\
         <input type=\"hidden\" name=\"form_token\" value=\"{token}\">\
         <div class=\"{group}\"><label class=\"nhsuk-label\" for=\"mode-name\">Mode</label>\
         <div class=\"nhsuk-hint\" id=\"mode-name-hint\">A name from the table, with its value where it takes one, as \
         <code>clock_skew=300</code> or <code>role_fields_missing=org_code</code></div>{message}\
         <input class=\"nhsuk-input nhsuk-input--width-20\" id=\"mode-name\" name=\"name\" type=\"text\" \
         list=\"mode-names\" aria-describedby=\"mode-name-hint\" autocomplete=\"off\" spellcheck=\"false\">\
         <datalist id=\"mode-names\">{options}</datalist></div>\
         <button class=\"nhsuk-button\" type=\"submit\">Switch mode on</button></form>",
        table = table(
            "modes-table",
            "Modes, and which are on",
            &["Mode", "What the provider does", "State", "Action"],
            &rows
        ),
        on = escape(&format!("{}/admin/modes/on", provider.base_path)),
        token = escape(&provider.admin_form_token),
    )
}

fn tokens_section(tokens: &[IssuedToken]) -> String {
    let mut items = String::new();
    for token in tokens.iter().rev() {
        let claims = serde_json::to_string_pretty(&token.claims).unwrap_or_default();
        items.push_str(&format!(
            "<li><p>{kind} for <code>{client}</code> at {when}</p><pre>{claims}</pre></li>",
            kind = token.kind.as_str(),
            client = escape(&token.client_id),
            when = time_of_day(token.issued_at * 1000),
            claims = escape(&claims),
        ));
    }
    if items.is_empty() {
        items.push_str("<li>No tokens issued yet.</li>");
    }
    format!(
        "<h2 id=\"tokens\">Issued tokens (claims only, newest first)</h2>\
         <ul class=\"nhsuk-list\" id=\"tokens-list\">{items}</ul>"
    )
}

fn requests_section(requests: &[LoggedRequest]) -> String {
    let rows: Vec<String> = requests
        .iter()
        .rev()
        .take(REQUESTS_SHOWN)
        .map(|request| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{:.3}</td></tr>",
                request.sequence,
                time_of_day(request.received_at_ms),
                escape(&request.method),
                escape(&request.endpoint),
                request.status,
                request.duration_micros as f64 / 1000.0,
            )
        })
        .collect();
    format!(
        "<h2 id=\"requests\">Request log (newest first)</h2>{}",
        table(
            "requests-table",
            "Requests answered, without query strings or bodies; the admin page is not logged",
            &["#", "Received", "Method", "Endpoint", "Status", "Time (ms)"],
            &rows
        )
    )
}

/// The whole page; `error` names a fault form field and its message.
fn render(
    provider: &Provider,
    status: StatusCode,
    done: Option<&str>,
    error: Option<(&str, &str)>,
) -> Response {
    let banner = done
        .map(|message| {
            format!(
                "<div class=\"nhsuk-inset-text\" role=\"status\" id=\"confirmation\"><p>{}</p></div>",
                escape(message)
            )
        })
        .unwrap_or_default();
    let summary = error
        .map(|(field, message)| {
            format!(
                "<div class=\"nhsuk-error-summary\" aria-labelledby=\"error-summary-title\" \
                 role=\"alert\" tabindex=\"-1\" autofocus>\
                 <h2 class=\"nhsuk-error-summary__title\" id=\"error-summary-title\">There is a problem</h2>\
                 <ul class=\"nhsuk-list nhsuk-error-summary__list\"><li><a href=\"#{field}\">{}</a></li></ul></div>",
                escape(message)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "{summary}{banner}<p>Issuer: <code>{issuer}</code></p>\
         <nav aria-label=\"Sections\"><ul><li><a href=\"#sessions\">SSO sessions</a></li>\
         <li><a href=\"#keys\">Signing keys</a></li><li><a href=\"#faults\">Faults</a></li>\
         <li><a href=\"#modes\">Modes</a></li>\
         <li><a href=\"#tokens\">Issued tokens</a></li><li><a href=\"#requests\">Request log</a></li></ul></nav>\
         {sessions}{keys}{faults}{modes}{tokens}{requests}",
        issuer = escape(provider.issuer.as_str()),
        sessions = sessions_section(provider, &provider.sessions.list(now())),
        keys = keys_section(provider),
        faults = faults_section(provider, error),
        modes = modes_section(provider, error),
        tokens = tokens_section(&provider.activity.tokens()),
        requests = requests_section(&provider.activity.requests()),
    );
    page(status, "Mock CIS2 admin", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_are_utc_with_milliseconds() {
        let cases = [
            (0, "00:00:00.000 UTC"),
            (86_399_999, "23:59:59.999 UTC"),
            (1_700_000_000_123, "22:13:20.123 UTC"),
        ];
        for (millis, expected) in cases {
            assert_eq!(time_of_day(millis), expected, "{millis}");
        }
    }

    #[test]
    fn forms_read_only_known_fields() {
        let form = AdminForm::parse(b"form_token=t&sid=a%2Bb&name=http_503%40token&count=2&x=y");
        assert_eq!(form.form_token, "t");
        assert_eq!(form.sid, "a+b");
        assert_eq!(form.name, "http_503@token");
        assert_eq!(form.count, "2");
    }
}
