//! The `text/event-stream` format (HTML Living Standard §9.2.6): the broker's
//! `/sessions/events` stream, read by careid and written by the broker, and its heartbeat: the
//! one interval both sides keep.

use std::collections::VecDeque;
use std::time::Duration;

/// How often the broker's events stream carries a heartbeat (a comment line) while it has
/// nothing else to send, so proxies keep it open and the reader knows the broker is there.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);

/// How long a reader waits in silence before it takes the stream for dropped and reconnects:
/// two heartbeats missed, and a margin for a slow network.
pub const HEARTBEAT_MISSED: Duration = Duration::from_secs(2 * HEARTBEAT_EVERY.as_secs() + 5);

/// One Server-Sent Event: its type (`message` when the stream named none), its data, and the
/// stream's last event id when it was dispatched (`id:`; `None` while the stream has set none,
/// or set it empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEvent {
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

impl ServerEvent {
    /// Whether this is the broker's `ended` event.
    pub fn is_ended(&self) -> bool {
        self.event == "ended"
    }

    /// The `ended_at` of an `ended` event's data (`{"ended_at": 1764400000}`).
    pub fn ended_at(&self) -> Option<u64> {
        let data: serde_json::Value = serde_json::from_str(&self.data).ok()?;
        data.get("ended_at").and_then(serde_json::Value::as_u64)
    }
}

/// The `text/event-stream` format (HTML Living Standard §9.2.6) read from chunks as they come:
/// lines end with LF, CRLF or CR; `:` starts a comment; `event`, `data` and `id` are kept, other
/// fields ignored; a blank line dispatches an event that has data, and makes the `id` read so
/// far the stream's last event id (which outlives the event, as an `EventSource`'s does).
#[derive(Debug, Default)]
pub struct EventParser {
    line: Vec<u8>,
    /// The last byte was a CR: an LF right after it ends no second line.
    after_cr: bool,
    event: String,
    data: String,
    /// The last `id` field read, not yet dispatched.
    id_buffer: String,
    /// The last event id dispatched.
    last_event_id: String,
    ready: VecDeque<ServerEvent>,
}

impl EventParser {
    /// A parser for a stream reopened after one whose last event id was `last_event_id`: the id
    /// carries on until the new stream sets another, as an `EventSource`'s does.
    pub fn resuming(last_event_id: Option<&str>) -> Self {
        let id = last_event_id.unwrap_or_default().to_owned();
        Self {
            id_buffer: id.clone(),
            last_event_id: id,
            ..Self::default()
        }
    }

    /// The last event id the stream dispatched, to send as `Last-Event-ID` when it is opened
    /// again; `None` when it set none (or set it empty).
    pub fn last_event_id(&self) -> Option<&str> {
        Some(self.last_event_id.as_str()).filter(|id| !id.is_empty())
    }

    /// Adds `bytes`; `false` when a line or an event being read grows past `limit` bytes.
    pub fn feed(&mut self, bytes: &[u8], limit: usize) -> bool {
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_ended(&String::from_utf8_lossy(&line));
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(byte);
                }
            }
            if self.line.len() + self.data.len() > limit {
                return false;
            }
        }
        true
    }

    /// The next complete event, in order.
    pub fn next_event(&mut self) -> Option<ServerEvent> {
        self.ready.pop_front()
    }

    fn line_ended(&mut self, line: &str) {
        if line.is_empty() {
            self.last_event_id.clone_from(&self.id_buffer);
            let event = std::mem::take(&mut self.event);
            let mut data = std::mem::take(&mut self.data);
            if !data.is_empty() {
                data.pop();
                self.ready.push_back(ServerEvent {
                    event: if event.is_empty() {
                        "message".to_owned()
                    } else {
                        event
                    },
                    data,
                    id: self.last_event_id().map(str::to_owned),
                });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            // An id with NUL in it is ignored (§9.2.6).
            "id" if !value.contains('\0') => self.id_buffer = value.to_owned(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_sent_events_are_read_across_chunks_and_line_endings() {
        let mut parser = EventParser::default();
        let stream =
            b": keep-alive\r\n\r\nevent: ended\r\ndata: {\"ended_at\": 1764400000}\r\n\r\n\
                       data: one\rdata: two\r\revent:x\ndata\n\nid: 3\n\n";
        // One byte at a time: a CR at a chunk's end followed by an LF is one line end.
        for byte in stream {
            assert!(parser.feed(std::slice::from_ref(byte), 1024));
        }
        let ended = parser.next_event().expect("ended");
        assert!(ended.is_ended());
        assert_eq!(ended.ended_at(), Some(1_764_400_000));
        let message = parser.next_event().expect("message");
        assert_eq!(
            (message.event.as_str(), message.data.as_str()),
            ("message", "one\ntwo")
        );
        assert!(!message.is_ended() && message.ended_at().is_none());
        // A data field with no value makes an event with empty data; an id alone makes none.
        let empty = parser.next_event().expect("x");
        assert_eq!((empty.event.as_str(), empty.data.as_str()), ("x", ""));
        assert_eq!(parser.next_event(), None);
        assert_eq!(parser.last_event_id(), Some("3"), "but it is the last id");
    }

    #[test]
    fn the_last_event_id_outlives_its_event_and_its_stream() {
        let mut parser = EventParser::default();
        assert!(parser.feed(b"id: 1764400000000-0\ndata: a\n\ndata: b\n\n", 1024));
        let ids: Vec<_> = std::iter::from_fn(|| parser.next_event())
            .map(|event| event.id)
            .collect();
        let first = Some("1764400000000-0".to_owned());
        assert_eq!(
            ids,
            [first.clone(), first.clone()],
            "kept for the next event"
        );
        // Read, not yet dispatched: not the last id until its blank line.
        assert!(parser.feed(b"id: 2\n: keep-alive\n", 1024));
        assert_eq!(parser.last_event_id(), first.as_deref());
        assert!(parser.feed(b"\n", 1024));
        assert_eq!(parser.last_event_id(), Some("2"));
        // A NUL in an id leaves it as it was; an empty id clears it.
        assert!(parser.feed(b"id: 3\0\n\n", 1024));
        assert_eq!(parser.last_event_id(), Some("2"));
        assert!(parser.feed(b"id\n\n", 1024));
        assert_eq!(parser.last_event_id(), None);
        // A stream reopened carries on from the id the last one ended with.
        let mut resumed = EventParser::resuming(Some("2"));
        assert_eq!(resumed.last_event_id(), Some("2"));
        assert!(resumed.feed(b"event: ended\ndata: {}\n\n", 1024));
        assert_eq!(resumed.next_event().unwrap().id.as_deref(), Some("2"));
    }

    #[test]
    fn an_endless_line_or_event_is_refused() {
        let mut parser = EventParser::default();
        assert!(!parser.feed(&[b'a'; 2048], 1024));
        let mut parser = EventParser::default();
        let mut refused = false;
        for _ in 0..200 {
            if !parser.feed(b"data: 0123456789\n", 1024) {
                refused = true;
                break;
            }
        }
        assert!(refused, "data without a blank line grows without end");
    }
}
