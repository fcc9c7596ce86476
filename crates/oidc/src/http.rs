//! The one HTTP client every provider call goes through: no redirects (a redirected token request
//! would carry its credentials to wherever the `Location` points), a timeout on every request,
//! a hard limit on what is read, errors that never hold a body, a query string or a header, and
//! TLS on aws-lc-rs whatever the process's rustls default. A client may be given a [`Revival`]:
//! what brings its server back when a request finds nobody there, before the one retry.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderValue};
use serde::de::DeserializeOwned;

use crate::SecretString;

/// What every request is allowed: how long it may take and how much it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// From sending the request to the last byte of the body.
    pub timeout: Duration,
    /// The most body bytes read; anything longer fails with [`HttpError::TooLarge`].
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// The longest connection set-up allowed, whatever the overall timeout: a provider that cannot
/// accept a connection in this long is unreachable, not slow.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `error_description` kept, so a hostile provider cannot flood a message or the UI.
const MAX_DESCRIPTION_CHARS: usize = 300;
/// The longest `error` code and `error_uri` kept.
const MAX_ERROR_CHARS: usize = 100;
const MAX_ERROR_URI_CHARS: usize = 500;
/// The header a reopened event stream names the last event id it saw in (HTML §9.2.4).
const LAST_EVENT_ID: &str = "last-event-id";

/// Why a request failed. Messages name the URL without its query or credentials, and never
/// include a body or a header value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL could not be parsed or is not http(s).
    #[error("{url} is not a usable http(s) URL")]
    InvalidUrl { url: String },
    /// The HTTP client could not be set up (for example, no TLS backend).
    #[error("cannot set up the HTTP client: {detail}")]
    Client { detail: String },
    /// The `Authorization` value is not a valid header value (its content is not shown).
    #[error("the Authorization header for {url} contains characters a header cannot carry")]
    InvalidHeader { url: String },
    /// No connection, DNS failure, TLS failure, or the connection dropped before an answer.
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The connection dropped while the body was being read.
    #[error("the connection to {url} broke while reading the answer: {detail}")]
    Interrupted { url: String, detail: String },
    /// No complete answer within the timeout.
    #[error("{url} did not answer in time")]
    Timeout { url: String },
    /// The body is longer than the limit; reading stopped there.
    #[error("the answer from {url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    /// The body is not the JSON expected. `detail` gives a position, never content.
    #[error("the answer from {url} is not the JSON expected: {detail}")]
    InvalidJson { url: String, detail: String },
}

impl HttpError {
    /// A stable code for callers to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            HttpError::InvalidUrl { .. } => "invalid_url",
            HttpError::Client { .. } => "http_client",
            HttpError::InvalidHeader { .. } => "invalid_header",
            HttpError::Unreachable { .. } => "unreachable",
            HttpError::Interrupted { .. } => "interrupted",
            HttpError::Timeout { .. } => "timeout",
            HttpError::TooLarge { .. } => "too_large",
            HttpError::InvalidJson { .. } => "invalid_json",
        }
    }

    /// Whether trying again later may succeed: the network, not the request, was at fault.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HttpError::Unreachable { .. }
                | HttpError::Interrupted { .. }
                | HttpError::Timeout { .. }
        )
    }
}

/// A URL fit for a message: no userinfo, query or fragment, where secrets can travel.
pub fn display_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// A `serde_json` error reduced to its kind and position: its full message can quote content
/// (``invalid type: string "..."``), and a body may hold tokens. Missing fields are named, since
/// the name comes from the expected type, not from the body.
pub fn json_error_detail(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let message = error.to_string();
    let kind = match error.classify() {
        Category::Io => "unreadable",
        Category::Syntax => "syntax error",
        Category::Eof => "ends early",
        Category::Data if message.starts_with("missing field") => {
            return message
                .split(" at line ")
                .next()
                .unwrap_or("missing field")
                .to_owned();
        }
        Category::Data => "unexpected value",
    };
    if error.line() == 0 {
        kind.to_owned()
    } else {
        format!("{kind} at line {} column {}", error.line(), error.column())
    }
}

/// The innermost cause of a reqwest error, such as `Connection refused (os error 111)`: the
/// outer layers repeat the URL, with its query.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let text = cause.to_string();
    if text.contains("://") {
        // Never the URL again, whatever layer wrote it.
        "connection failed".to_owned()
    } else {
        text
    }
}

/// An answer whose body was read in full (within the limit). `Debug` shows the body's length
/// only: token responses are read through here.
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    /// `Retry-After` in seconds (the HTTP-date form is not read).
    pub retry_after: Option<Duration>,
    /// `DPoP-Nonce` (RFC 9449 §8): the nonce the server wants in the next proof.
    pub dpop_nonce: Option<String>,
    url: String,
    body: Vec<u8>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("retry_after", &self.retry_after)
            .field("dpop_nonce", &self.dpop_nonce.is_some())
            .field("url", &self.url)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

impl HttpResponse {
    /// The URL asked, without its query.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The raw body: may hold tokens, so never log it.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The body parsed as JSON; the error gives a position, never content.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|error| HttpError::InvalidJson {
            url: self.url.clone(),
            detail: json_error_detail(&error),
        })
    }

    /// Whether the content type says JSON (`application/json`, `application/jwk-set+json`, ...).
    pub fn is_json(&self) -> bool {
        self.content_type.as_deref().is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
                || essence.to_ascii_lowercase().ends_with("+json")
        })
    }
}

/// An OAuth error answer (RFC 6749 §5.2), cleaned for display: provider text is capped and
/// stripped of control characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OAuthErrorResponse {
    pub error: String,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
}

impl fmt::Display for OAuthErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)?;
        if let Some(description) = &self.error_description {
            write!(f, " ({description})")?;
        }
        Ok(())
    }
}

/// Provider text made safe to show: no control characters (a newline could forge a log line,
/// an escape sequence could rewrite a terminal), at most `limit` characters.
pub fn clean_text(text: &str, limit: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = cleaned.trim();
    let mut chars = trimmed.chars();
    let kept: String = chars.by_ref().take(limit).collect();
    if chars.next().is_some() {
        format!("{kept}…")
    } else {
        kept
    }
}

/// The RFC 6749 §5.2 error in a response body, if it has one (any status: some providers answer
/// 200 with an error).
pub fn oauth_error(response: &HttpResponse) -> Option<OAuthErrorResponse> {
    let value: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    let error = value.get("error")?.as_str()?;
    let error = clean_text(error, MAX_ERROR_CHARS);
    if error.is_empty() {
        return None;
    }
    let text = |name: &str, limit: usize| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(|text| clean_text(text, limit))
            .filter(|text| !text.is_empty())
    };
    Some(OAuthErrorResponse {
        error,
        error_description: text("error_description", MAX_DESCRIPTION_CHARS),
        error_uri: text("error_uri", MAX_ERROR_URI_CHARS),
    })
}

/// A header value no layer may record.
fn sensitive(url: &str, value: &SecretString) -> Result<HeaderValue, HttpError> {
    let mut header =
        HeaderValue::from_str(value.expose_secret()).map_err(|_| HttpError::InvalidHeader {
            url: display_url(url),
        })?;
    header.set_sensitive(true);
    Ok(header)
}

/// What brings a server back when a request to it got no answer at all (nothing listening, or
/// the connection closed before an answer began): for requests to one origin, it answers `Ok`
/// when the server is there again, so the request is sent once more, or why not, which the
/// error then carries. A request that got no answer was not acted on by a server that finishes
/// what it started before it stops, so sending it again is safe; one that timed out or whose
/// answer broke off is never sent again.
#[derive(Clone)]
pub struct Revival {
    /// `scheme://host:port`, as [`url::Origin::ascii_serialization`] writes it.
    origin: String,
    revive: Arc<ReviveFn>,
}

type ReviveFn = dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync;

impl Revival {
    /// `revive` for requests to the origin of `base` (an http(s) URL).
    pub fn new<F, Fut>(base: &str, revive: F) -> Result<Self, HttpError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Ok(Self {
            origin: parse_url(base)?.origin().ascii_serialization(),
            revive: Arc::new(move || Box::pin(revive())),
        })
    }

    fn covers(&self, url: &str) -> bool {
        url::Url::parse(url).is_ok_and(|url| url.origin().ascii_serialization() == self.origin)
    }
}

impl fmt::Debug for Revival {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revival")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The HTTP client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    settings: HttpSettings,
    revival: Option<Revival>,
}

impl HttpClient {
    /// A client that follows no redirect and uses no proxy from the environment (the core reads
    /// no environment variable).
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        let tls = tls_config().map_err(|error| HttpError::Client {
            detail: error.to_string(),
        })?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(settings.timeout)
            .user_agent(concat!("careid/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .build()
            .map_err(|error| HttpError::Client {
                detail: root_cause(&error),
            })?;
        Ok(Self {
            client,
            settings,
            revival: None,
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// This client (the same connection pool) with `revival` called when a request gets no
    /// answer, and the request sent once more if it brings the server back.
    pub fn reviving(&self, revival: Revival) -> Self {
        Self {
            revival: Some(revival),
            ..self.clone()
        }
    }

    /// A GET asking for `accept`.
    pub async fn get(&self, url: &str, accept: &str) -> Result<HttpResponse, HttpError> {
        let parsed = parse_url(url)?;
        let request = self.client.get(parsed).header(header::ACCEPT, accept);
        self.send(url, request).await
    }

    /// A PUT of a JSON body asking for `accept` (the built-in mock's admin endpoint).
    pub async fn put_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        accept: &str,
    ) -> Result<HttpResponse, HttpError> {
        let parsed = parse_url(url)?;
        let request = self
            .client
            .put(parsed)
            .header(header::ACCEPT, accept)
            .json(body);
        self.send(url, request).await
    }

    /// A GET with an `Authorization` value (`Bearer ...` for UserInfo), marked sensitive.
    pub async fn get_authorized(
        &self,
        url: &str,
        authorization: &SecretString,
        accept: &str,
    ) -> Result<HttpResponse, HttpError> {
        let parsed = parse_url(url)?;
        let request = self
            .client
            .get(parsed)
            .header(header::ACCEPT, accept)
            .header(header::AUTHORIZATION, sensitive(url, authorization)?);
        self.send(url, request).await
    }

    /// A form POST (`application/x-www-form-urlencoded`), as token, revocation and introspection
    /// requests are. `authorization` is the whole `Authorization` value, such as `Basic ...`; it
    /// is marked sensitive so that no layer records it.
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        authorization: Option<&SecretString>,
        accept: &str,
    ) -> Result<HttpResponse, HttpError> {
        self.post_form_with(url, form, authorization, &[], accept)
            .await
    }

    /// [`HttpClient::post_form`] with more (public) headers, such as the broker's
    /// `CareID-Issuer`.
    pub async fn post_form_with(
        &self,
        url: &str,
        form: &[(&str, &str)],
        authorization: Option<&SecretString>,
        headers: &[(&'static str, &str)],
        accept: &str,
    ) -> Result<HttpResponse, HttpError> {
        let parsed = parse_url(url)?;
        let mut request = self
            .client
            .post(parsed)
            .header(header::ACCEPT, accept)
            .form(form);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|_| HttpError::InvalidHeader {
                url: display_url(url),
            })?;
            request = request.header(*name, value);
        }
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, sensitive(url, authorization)?);
        }
        self.send(url, request).await
    }

    /// Opens a Server-Sent Events stream (`text/event-stream`) with an `Authorization` value,
    /// marked sensitive, and, when reopening a stream, the last event id it carried as
    /// `Last-Event-ID` (§9.2.4; one that cannot be a header value is not sent). The answer's
    /// head is awaited within the timeout; the stream itself has none:
    /// [`EventStream::next_event`] takes the longest silence it accepts.
    pub async fn event_stream(
        &self,
        url: &str,
        authorization: &SecretString,
        last_event_id: Option<&str>,
    ) -> Result<EventStream, HttpError> {
        let parsed = parse_url(url)?;
        let shown = display_url(url);
        let mut request = self
            .client
            .get(parsed)
            .header(header::ACCEPT, "text/event-stream")
            .header(header::AUTHORIZATION, sensitive(url, authorization)?)
            // The client's overall timeout would cut the stream; a day stands for none.
            .timeout(Duration::from_secs(24 * 3_600));
        let last_event_id = last_event_id.and_then(|id| HeaderValue::from_str(id).ok());
        if let Some(id) = &last_event_id {
            request = request.header(LAST_EVENT_ID, id.clone());
        }
        let response = match tokio::time::timeout(self.settings.timeout, request.send()).await {
            Ok(result) => result.map_err(|error| request_error(&shown, &error, false))?,
            Err(_) => return Err(HttpError::Timeout { url: shown }),
        };
        Ok(EventStream {
            status: response.status().as_u16(),
            response,
            url: shown,
            parser: crate::sse::EventParser::resuming(
                last_event_id.as_ref().and_then(|id| id.to_str().ok()),
            ),
            max_bytes: self.settings.max_body_bytes,
        })
    }

    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        let Some(revival) = self.revival.as_ref().filter(|revival| revival.covers(url)) else {
            return self.send_once(url, request).await;
        };
        // Form and JSON bodies are bytes, so a request can always be copied.
        let again = request.try_clone();
        match (self.send_once(url, request).await, again) {
            (Err(HttpError::Unreachable { url: shown, detail }), Some(again)) => {
                match (revival.revive)().await {
                    Ok(()) => self.send_once(url, again).await,
                    Err(why) => Err(HttpError::Unreachable {
                        url: shown,
                        detail: format!("{detail}; {why}"),
                    }),
                }
            }
            (result, _) => result,
        }
    }

    async fn send_once(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        let shown = display_url(url);
        // reqwest's own timeout covers the body too; this one is the guarantee, whatever a
        // layer below does.
        match tokio::time::timeout(self.settings.timeout, self.exchange(&shown, request)).await {
            Ok(result) => result,
            Err(_) => Err(HttpError::Timeout { url: shown }),
        }
    }

    async fn exchange(
        &self,
        shown: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<HttpResponse, HttpError> {
        let mut response = request
            .send()
            .await
            .map_err(|error| request_error(shown, &error, false))?;
        let limit = self.settings.max_body_bytes;
        let too_large = || HttpError::TooLarge {
            url: shown.to_owned(),
            limit,
        };
        // A declared length over the limit fails at once; a lying or absent one is caught below.
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_large());
        }
        let status = response.status().as_u16();
        let headers = response.headers();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let retry_after = headers
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // A nonce is base64url-ish text (RFC 9449 §8.1: NQCHAR); anything else, or a long one, is
        // no nonce.
        let dpop_nonce = headers
            .get("dpop-nonce")
            .and_then(|value| value.to_str().ok())
            .filter(|nonce| !nonce.is_empty() && nonce.len() <= 512)
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| request_error(shown, &error, true))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            content_type,
            retry_after,
            dpop_nonce,
            url: shown.to_owned(),
            body,
        })
    }
}

/// TLS for every request: rustls on aws-lc-rs, careid's one crypto library, given to this client
/// rather than installed as the process's default, so nothing else in the process can change it;
/// Mozilla's roots (webpki-roots), as reqwest's `rustls-tls` had them; TLS 1.2 and 1.3;
/// HTTP/1.1 by ALPN, as reqwest asks without its `http2` feature.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// An open Server-Sent Events stream: events are read as they arrive, the connection closed on
/// drop. `Debug` shows the URL and status only.
pub struct EventStream {
    /// The answer's status: anything but 200 carries no events.
    pub status: u16,
    response: reqwest::Response,
    url: String,
    parser: crate::sse::EventParser,
    max_bytes: usize,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("status", &self.status)
            .field("url", &self.url)
            .finish()
    }
}

impl EventStream {
    /// The last event id the stream carried (or the one it was reopened with), to send when it
    /// is opened again.
    pub fn last_event_id(&self) -> Option<&str> {
        self.parser.last_event_id()
    }

    /// The next event; `Ok(None)` when the server closed the stream. Silence (not even a
    /// comment line) longer than `idle` fails with [`HttpError::Timeout`]; an event larger than
    /// the body limit with [`HttpError::TooLarge`].
    pub async fn next_event(
        &mut self,
        idle: Duration,
    ) -> Result<Option<crate::sse::ServerEvent>, HttpError> {
        loop {
            if let Some(event) = self.parser.next_event() {
                return Ok(Some(event));
            }
            let chunk = match tokio::time::timeout(idle, self.response.chunk()).await {
                Err(_) => {
                    return Err(HttpError::Timeout {
                        url: self.url.clone(),
                    })
                }
                Ok(result) => result.map_err(|error| request_error(&self.url, &error, true))?,
            };
            let Some(chunk) = chunk else {
                return Ok(None);
            };
            if !self.parser.feed(&chunk, self.max_bytes) {
                return Err(HttpError::TooLarge {
                    url: self.url.clone(),
                    limit: self.max_bytes,
                });
            }
        }
    }
}

fn parse_url(url: &str) -> Result<reqwest::Url, HttpError> {
    // The parsed form may drop a default port (`:443`); the wire is the same, and callers keep
    // the original string for every comparison.
    reqwest::Url::parse(url)
        .ok()
        .filter(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.has_host())
        .ok_or_else(|| HttpError::InvalidUrl {
            url: display_url(url),
        })
}

fn request_error(url: &str, error: &reqwest::Error, reading_body: bool) -> HttpError {
    let url = url.to_owned();
    if error.is_timeout() {
        HttpError::Timeout { url }
    } else if reading_body {
        HttpError::Interrupted {
            url,
            detail: root_cause(error),
        }
    } else {
        HttpError::Unreachable {
            url,
            detail: root_cause(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_lose_query_fragment_and_credentials() {
        assert_eq!(
            display_url("https://user:pw@h:443/realm/x?code=secret#frag"),
            "https://h:443/realm/x"
        );
        assert_eq!(
            display_url("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(display_url("not a url?x=1"), "not a url");
    }

    #[test]
    fn json_errors_never_quote_content() {
        let error = serde_json::from_str::<u64>(r#""secret-token-value""#).unwrap_err();
        let detail = json_error_detail(&error);
        assert!(!detail.contains("secret"), "{detail}");
        assert!(detail.contains("line 1"), "{detail}");

        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Needs {
            issuer: String,
        }
        let error = serde_json::from_str::<Needs>("{}").unwrap_err();
        assert_eq!(json_error_detail(&error), "missing field `issuer`");
    }

    fn response(body: &str) -> HttpResponse {
        HttpResponse {
            status: 400,
            content_type: Some("application/json".into()),
            retry_after: None,
            dpop_nonce: None,
            url: "https://h/token".into(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn oauth_errors_are_read_and_cleaned() {
        let long = "x".repeat(1000);
        let body = format!(
            r#"{{"error":"invalid_client","error_description":"JWT is\nnot valid\u001b[31m {long}"}}"#
        );
        let error = oauth_error(&response(&body)).expect("an OAuth error");
        assert_eq!(error.error, "invalid_client");
        let description = error.error_description.expect("a description");
        assert!(description.starts_with("JWT is not valid"), "{description}");
        assert!(!description.chars().any(char::is_control));
        assert!(description.chars().count() <= MAX_DESCRIPTION_CHARS + 1);
        assert_eq!(error.error_uri, None);

        assert_eq!(oauth_error(&response(r#"{"access_token":"a"}"#)), None);
        assert_eq!(oauth_error(&response("not json")), None);
        assert_eq!(oauth_error(&response(r#"{"error":""}"#)), None);
    }

    #[test]
    fn debug_never_shows_the_body() {
        let printed = format!("{:?}", response(r#"{"access_token":"eyJsecret"}"#));
        assert!(!printed.contains("eyJsecret"), "{printed}");
        assert!(printed.contains("bytes"));
    }

    #[test]
    fn json_content_types_are_recognised() {
        let mut answer = response("{}");
        for (value, json) in [
            ("application/json; charset=utf-8", true),
            ("application/jwk-set+json", true),
            ("text/html", false),
        ] {
            answer.content_type = Some(value.into());
            assert_eq!(answer.is_json(), json, "{value}");
        }
    }

    /// A port nobody listens on (bound, then let go).
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.local_addr().unwrap().port()
    }

    /// Serves one request on `port`: answers 200 with the request's body, and hands it back.
    async fn answer_once(port: u16) -> tokio::sync::oneshot::Receiver<String> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (seen, received) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            let body = loop {
                let read = socket.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .map_or(0, |length| length.trim().parse::<usize>().unwrap());
                    if body.len() >= length {
                        break body.to_owned();
                    }
                }
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
            let _ = seen.send(body);
        });
        received
    }

    fn client() -> HttpClient {
        HttpClient::new(HttpSettings::default()).unwrap()
    }

    /// A revival that counts its calls and answers `outcome` after `before` has run.
    fn counting<F, Fut>(
        base: &str,
        before: F,
        outcome: Result<(), String>,
    ) -> (Revival, Arc<std::sync::atomic::AtomicUsize>)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let before = Arc::new(before);
        let revival = Revival::new(base, move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (before, outcome) = (Arc::clone(&before), outcome.clone());
            async move {
                before().await;
                outcome
            }
        })
        .unwrap();
        (revival, calls)
    }

    #[tokio::test]
    async fn a_request_that_finds_nobody_is_sent_once_more_after_the_server_is_revived() {
        let port = closed_port();
        let base = format!("http://127.0.0.1:{port}");
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let (revival, calls) = counting(
            &base,
            move || {
                let seen_tx = seen_tx.clone();
                async move { seen_tx.send(answer_once(port).await).unwrap() }
            },
            Ok(()),
        );
        let http = client().reviving(revival);
        let response = http
            .post_form(
                &format!("{base}/token"),
                &[("grant_type", "refresh_token")],
                None,
                "application/json",
            )
            .await
            .expect("answered by the revived server");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.text(),
            "grant_type=refresh_token",
            "the same body, sent again"
        );
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(
            seen_rx.recv().unwrap().await.unwrap(),
            "grant_type=refresh_token"
        );
    }

    #[tokio::test]
    async fn a_request_is_sent_again_once_only_and_says_why_the_server_did_not_come_back() {
        let port = closed_port();
        let base = format!("http://127.0.0.1:{port}");
        let cases = [
            (Ok(()), None),
            (
                Err("the port is taken".to_owned()),
                Some("the port is taken"),
            ),
        ];
        for (outcome, why) in cases {
            let (revival, calls) = counting(&base, || async {}, outcome);
            let error = client()
                .reviving(revival)
                .get(&format!("{base}/x"), "application/json")
                .await
                .unwrap_err();
            assert_eq!(error.code(), "unreachable", "{error}");
            assert_eq!(
                calls.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "{error}"
            );
            if let Some(why) = why {
                assert!(error.to_string().ends_with(why), "{error}");
            }
        }
    }

    #[tokio::test]
    async fn requests_elsewhere_are_not_revived() {
        let port = closed_port();
        let other = closed_port();
        let (revival, calls) = counting(
            &format!("http://127.0.0.1:{port}/realm"),
            || async {},
            Ok(()),
        );
        let error = client()
            .reviving(revival)
            .get(&format!("http://127.0.0.1:{other}/x"), "application/json")
            .await
            .unwrap_err();
        assert_eq!(error.code(), "unreachable");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
