//! The `text/event-stream` format (HTML Living Standard §9.2.6): the broker's
//! `/sessions/events` stream, read by careid and written by the broker.

use std::collections::VecDeque;

/// One Server-Sent Event: its type (`message` when the stream named none) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEvent {
    pub event: String,
    pub data: String,
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
/// lines end with LF, CRLF or CR; `:` starts a comment; `event` and `data` are kept, other
/// fields ignored; a blank line dispatches an event that has data.
#[derive(Debug, Default)]
pub struct EventParser {
    line: Vec<u8>,
    /// The last byte was a CR: an LF right after it ends no second line.
    after_cr: bool,
    event: String,
    data: String,
    ready: VecDeque<ServerEvent>,
}

impl EventParser {
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
