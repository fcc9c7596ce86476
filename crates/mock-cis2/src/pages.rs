//! Server-rendered HTML shared by the browser-facing endpoints: the error page shown when the
//! provider must not redirect (RFC 6749 §4.1.2.1), and HTML escaping.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A small subset of the NHS.UK frontend's look, inlined so the pages need no other request
/// and no script: colours, type, focus, buttons, radios, inputs and the error summary.
pub(crate) const STYLE: &str = "\
body{margin:0;font-family:Frutiger W01,Arial,sans-serif;font-size:19px;line-height:1.47;color:#212b32;background:#f0f4f5}\
.nhsuk-header{background:#005eb8;color:#fff;padding:16px}.nhsuk-header strong{font-size:24px}\
.nhsuk-width-container{max-width:960px;margin:0 16px}main{padding:24px 0 48px}\
h1{font-size:36px;margin:0 0 24px}h2{font-size:26px;margin:0 0 16px}code{font-size:16px}\
a{color:#005eb8}a:focus,input:focus,button:focus{outline:4px solid transparent;box-shadow:0 -2px #ffeb3b,0 4px #212b32;background-color:#ffeb3b}\
.nhsuk-form-group{margin-bottom:24px}.nhsuk-form-group--error{border-left:4px solid #d5281b;padding-left:16px}\
.nhsuk-fieldset{border:0;margin:0;padding:0}.nhsuk-fieldset__legend--m{font-size:26px;font-weight:600;margin-bottom:16px}\
.nhsuk-label{display:block;margin-bottom:4px}.nhsuk-label--m{font-size:26px;font-weight:600}\
.nhsuk-hint{color:#4c6272;margin-bottom:8px}.nhsuk-error-message{display:block;color:#d5281b;font-weight:600;margin-bottom:8px}\
.nhsuk-input{font-size:19px;padding:4px;border:2px solid #4c6272;height:40px;box-sizing:border-box}.nhsuk-input--error{border-color:#d5281b}\
.nhsuk-input--width-10{width:11em}.nhsuk-input--width-20{width:21em;max-width:100%}\
.nhsuk-radios__item{position:relative;padding-left:48px;margin-bottom:12px;min-height:40px}\
.nhsuk-radios__input{position:absolute;left:0;top:0;width:40px;height:40px;margin:0}\
.nhsuk-radios__input:disabled+.nhsuk-radios__label{opacity:.5}\
.nhsuk-radios__label{padding-top:6px}.nhsuk-radios__hint{margin:0}\
.nhsuk-button{font-size:19px;font-weight:600;color:#fff;background:#007f3b;border:2px solid transparent;border-radius:4px;box-shadow:0 4px 0 #00401e;padding:12px 16px;margin:0 16px 16px 0;cursor:pointer}\
.nhsuk-button--secondary{background:#4c6272;box-shadow:0 4px 0 #263139}\
.nhsuk-button:focus{color:#212b32;box-shadow:0 4px 0 #212b32}\
.nhsuk-error-summary{border:4px solid #d5281b;padding:16px;margin-bottom:24px;background:#fff}\
.nhsuk-error-summary__list{margin:0;padding-left:20px}.nhsuk-error-summary a{color:#d5281b;font-weight:600}\
.nhsuk-u-visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
.nhsuk-warning{background:#fff9c4;border-left:8px solid #ffeb3b;padding:8px 16px;margin:0}\
.nhsuk-table{border-collapse:collapse;width:100%;margin-bottom:24px;background:#fff;font-size:16px}\
.nhsuk-table__caption{text-align:left;font-weight:600;font-size:19px;padding-bottom:8px}\
.nhsuk-table th,.nhsuk-table td{border-bottom:1px solid #d8dde0;padding:8px;text-align:left;vertical-align:top}\
.nhsuk-inset-text{border-left:8px solid #005eb8;padding:8px 16px;margin-bottom:24px;background:#fff}\
pre{background:#fff;border:1px solid #d8dde0;padding:8px;overflow-x:auto;font-size:14px}";

/// A complete page with the mock's banner, so nobody mistakes it for CIS2.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - Mock CIS2</title><style>{STYLE}</style></head>\n<body>\n\
         <a class=\"nhsuk-u-visually-hidden\" href=\"#maincontent\">Skip to main content</a>\n\
         <header class=\"nhsuk-header\"><strong>Mock CIS2 Authentication</strong></header>\n\
         <p class=\"nhsuk-warning\"><strong>Development only</strong>: this is not NHS CIS2, and nothing it issues is a real NHS credential.</p>\n\
         <div class=\"nhsuk-width-container\"><main id=\"maincontent\">\n<h1>{title}</h1>\n{body}\n</main></div>\n</body>\n</html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page for a request that cannot be answered by redirect: the client or its redirect URI is
/// not trusted, so sending the browser there would make the provider an open redirector.
pub(crate) fn error_page(error: &str, description: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Sign-in request refused",
        &format!(
            "<p>The application sent a request this provider cannot accept.</p>\n\
             <p>Error: <code id=\"error\">{}</code></p>\n<p id=\"error_description\">{}</p>",
            escape(error),
            escape(description)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
