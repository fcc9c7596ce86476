//! Connections whose first request asks for a long-lived stream (the listeners' event stream,
//! `GET /sessions/events`), answered without hyper.
//!
//! Why: hyper gives every connection an 8 KiB read buffer and an 8 KiB write buffer, whatever
//! its settings, and keeps both for the connection's life. A broker holds thousands of
//! listeners' connections for hours while each carries a keep-alive comment a minute; under
//! churn its memory tends to what is allocated, so those two buffers alone were over the 16 KiB
//! a listener may cost. Here the request head is read into a buffer freed once parsed, and the
//! stream's frames are written as they come (chunked), so a listener holds only its task, its
//! stream and the connection itself.
//!
//! Only a plain `GET` of a stream path over HTTP/1.1, with no body, is answered here; anything
//! else (including every other first request) goes to hyper with the bytes already read, so
//! hyper's parsing and limits apply to all of it. A connection answered here closes when its
//! stream ends, when its client closes, when a write stalls, or when the broker shuts down (the
//! stream then ends cleanly, and the client asks again, of another replica).

use std::time::Duration;

use axum::body::{Body, HttpBody as _};
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Version};
use futures_util::StreamExt as _;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// How long a new connection may take to send its first request head (against slow-loris
/// connections, which would otherwise hold their address's connection slots).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest head a stream request may have: room for a bearer token over the 64 KiB any
/// token may be (`jose`), so that the handler, not this, refuses it as a token. Freed once read.
const MAX_STREAM_HEAD: usize = 96 * 1024;
/// The most header fields a stream request may have.
const MAX_STREAM_HEADERS: usize = 64;
/// How long one write to a client may wait before the connection is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a connection's first request turned out to be.
pub enum FirstRequest {
    /// A request for a stream, to answer here.
    Stream(Box<Request<Body>>),
    /// A stream request this side will not read (head too large, malformed): answer and close.
    Refuse(StatusCode),
    /// Anything else: for hyper, with the bytes read so far (to put back).
    Other(Vec<u8>),
    /// Closed, failed or silent before its head was complete.
    Gone,
}

/// Reads as much of the first request on `io` as it takes to tell whether it asks for one of
/// `stream_paths`, and if so all of its head. With no stream paths nothing is read.
///
/// A connection that has sent nothing when `shutting_down` fires is closed, as hyper's graceful
/// shutdown closes an idle one: HTTP clients open connections they never use (a pool racing a
/// new connection against one coming back), and the broker must not wait for them to stop.
pub async fn read_first_request<S>(
    io: &mut S,
    stream_paths: &[&str],
    shutting_down: &mut tokio::sync::watch::Receiver<()>,
) -> FirstRequest
where
    S: AsyncRead + Unpin,
{
    if stream_paths.is_empty() {
        return FirstRequest::Other(Vec::new());
    }
    tokio::time::timeout(HEAD_TIMEOUT, read_head(io, stream_paths, shutting_down))
        .await
        .unwrap_or(FirstRequest::Gone)
}

async fn read_head<S>(
    io: &mut S,
    stream_paths: &[&str],
    shutting_down: &mut tokio::sync::watch::Receiver<()>,
) -> FirstRequest
where
    S: AsyncRead + Unpin,
{
    let mut head = Vec::with_capacity(1024);
    loop {
        if head.len() == head.capacity() {
            head.reserve(1024);
        }
        let read = if head.is_empty() {
            tokio::select! {
                read = io.read_buf(&mut head) => read,
                _ = shutting_down.changed() => return FirstRequest::Gone,
            }
        } else {
            // A request begun is read to its end (within HEAD_TIMEOUT) and answered.
            io.read_buf(&mut head).await
        };
        match read {
            Ok(0) | Err(_) => return FirstRequest::Gone,
            Ok(_) => {}
        }
        match sniff(&head, stream_paths) {
            Sniff::Undecided => continue,
            Sniff::Other => return FirstRequest::Other(head),
            Sniff::Stream => {}
        }
        match parse_head(&head) {
            Parsed::Partial if head.len() < MAX_STREAM_HEAD => {}
            Parsed::Partial => {
                return FirstRequest::Refuse(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            }
            Parsed::Complete(request) => return FirstRequest::Stream(request),
            Parsed::ForHyper => return FirstRequest::Other(head),
            Parsed::Invalid(status) => return FirstRequest::Refuse(status),
        }
    }
}

enum Sniff {
    /// Could still be a stream request: read on.
    Undecided,
    Stream,
    Other,
}

/// Whether `head` so far starts `GET <stream path>` followed by a space or a query.
fn sniff(head: &[u8], stream_paths: &[&str]) -> Sniff {
    let mut undecided = false;
    for path in stream_paths {
        let line = [b"GET ".as_slice(), path.as_bytes()].concat();
        if head.len() <= line.len() {
            undecided |= line.starts_with(head);
        } else if head.starts_with(&line) && matches!(head[line.len()], b' ' | b'?') {
            return Sniff::Stream;
        }
    }
    if undecided {
        Sniff::Undecided
    } else {
        Sniff::Other
    }
}

enum Parsed {
    Partial,
    Complete(Box<Request<Body>>),
    /// Well formed, but not a plain bodiless HTTP/1.1 `GET`: hyper answers it.
    ForHyper,
    Invalid(StatusCode),
}

fn parse_head(head: &[u8]) -> Parsed {
    let mut fields = [httparse::EMPTY_HEADER; MAX_STREAM_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    match parsed.parse(head) {
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Invalid(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        }
        Err(_) => return Parsed::Invalid(StatusCode::BAD_REQUEST),
    }
    if parsed.method != Some("GET") || parsed.version != Some(1) {
        return Parsed::ForHyper;
    }
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.version_mut() = Version::HTTP_11;
    match parsed.path.unwrap_or_default().parse() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return Parsed::Invalid(StatusCode::BAD_REQUEST),
    }
    for field in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(field.name.as_bytes()),
            HeaderValue::from_bytes(field.value),
        ) else {
            return Parsed::Invalid(StatusCode::BAD_REQUEST);
        };
        request.headers_mut().append(name, value);
    }
    let headers = request.headers();
    // A body, or a framing to read one by, is hyper's to handle (and to refuse).
    let bodiless = !headers.contains_key(axum::http::header::TRANSFER_ENCODING)
        && headers
            .get_all(axum::http::header::CONTENT_LENGTH)
            .iter()
            .all(|length| length.as_bytes() == b"0");
    if bodiless {
        Parsed::Complete(Box::new(request))
    } else {
        Parsed::ForHyper
    }
}

/// Writes `response` to `io`, framed by its length when known and otherwise chunked, frame by
/// frame as the body yields them; then closes. Stops early when the client closes, when a write
/// stalls, or when `shutting_down` fires (the chunked body is then ended cleanly).
pub async fn answer<S>(
    mut io: S,
    response: Response<Body>,
    mut shutting_down: tokio::sync::watch::Receiver<()>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (parts, body) = response.into_parts();
    let length = body.size_hint().exact();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        if matches!(
            *name,
            axum::http::header::CONNECTION
                | axum::http::header::CONTENT_LENGTH
                | axum::http::header::TRANSFER_ENCODING
        ) {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    match length {
        Some(length) => head.extend_from_slice(format!("content-length: {length}\r\n").as_bytes()),
        None => head.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    head.extend_from_slice(b"connection: close\r\n\r\n");
    if write(&mut io, &head).await.is_err() {
        return;
    }
    drop(head);
    let chunked = length.is_none();
    let mut frames = body.into_data_stream();
    // Read only to see the client close; what it sends is not a request (this connection
    // answers one) and is dropped.
    let mut probe = [0u8; 64];
    loop {
        tokio::select! {
            frame = frames.next() => match frame {
                Some(Ok(data)) if data.is_empty() => {}
                Some(Ok(data)) => {
                    let framed = if chunked {
                        [format!("{:x}\r\n", data.len()).as_bytes(), &data, b"\r\n"].concat()
                    } else {
                        data.to_vec()
                    };
                    if write(&mut io, &framed).await.is_err() {
                        return;
                    }
                }
                // The body failed: close without the last chunk, so the client sees it cut.
                Some(Err(_)) => return,
                None => break,
            },
            read = io.read(&mut probe) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = shutting_down.changed() => break,
        }
    }
    if chunked {
        let _ = write(&mut io, b"0\r\n\r\n").await;
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, io.shutdown()).await;
}

/// Answers a stream request this side will not read, and closes.
pub async fn refuse<S>(mut io: S, status: StatusCode)
where
    S: AsyncWrite + Unpin,
{
    let answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let _ = write(&mut io, answer.as_bytes()).await;
    let _ = tokio::time::timeout(WRITE_TIMEOUT, io.shutdown()).await;
}

/// Writes and flushes `bytes` (flushing matters under TLS), or fails after [`WRITE_TIMEOUT`].
async fn write<S: AsyncWrite + Unpin>(io: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, async {
        io.write_all(bytes).await?;
        io.flush().await
    })
    .await
    .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: &[&str] = &["/sessions/events"];

    #[test]
    fn only_a_get_of_a_stream_path_is_taken() {
        assert!(matches!(sniff(b"GET /ses", PATHS), Sniff::Undecided));
        assert!(matches!(
            sniff(b"GET /sessions/events", PATHS),
            Sniff::Undecided
        ));
        assert!(matches!(
            sniff(b"GET /sessions/events HTTP/1.1", PATHS),
            Sniff::Stream
        ));
        assert!(matches!(
            sniff(b"GET /sessions/events?x=1 ", PATHS),
            Sniff::Stream
        ));
        assert!(matches!(
            sniff(b"GET /sessions/eventsX ", PATHS),
            Sniff::Other
        ));
        assert!(matches!(
            sniff(b"GET /sessions/status ", PATHS),
            Sniff::Other
        ));
        assert!(matches!(sniff(b"POST /token", PATHS), Sniff::Other));
        assert!(matches!(sniff(b"G", &[]), Sniff::Other));
    }

    #[test]
    fn a_stream_request_with_a_body_or_an_older_version_is_left_to_hyper() {
        let plain = b"GET /sessions/events HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer x\r\n\r\n";
        let Parsed::Complete(request) = parse_head(plain) else {
            panic!("a plain GET is answered here");
        };
        assert_eq!(request.uri().path(), "/sessions/events");
        assert_eq!(request.headers()["authorization"], "Bearer x");
        for head in [
            &b"GET /sessions/events HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"[..],
            b"GET /sessions/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET /sessions/events HTTP/1.0\r\n\r\n",
        ] {
            assert!(matches!(parse_head(head), Parsed::ForHyper));
        }
        assert!(matches!(
            parse_head(b"GET /sessions/events HTTP/1.1\r\nHost"),
            Parsed::Partial
        ));
        assert!(matches!(
            parse_head(b"GET /sessions/events HTTP/1.1\r\nBad Name: x\r\n\r\n"),
            Parsed::Invalid(StatusCode::BAD_REQUEST)
        ));
        let many = format!(
            "GET /sessions/events HTTP/1.1\r\n{}\r\n",
            "X-A: 1\r\n".repeat(MAX_STREAM_HEADERS + 1)
        );
        assert!(matches!(
            parse_head(many.as_bytes()),
            Parsed::Invalid(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        ));
    }
}
