//! A TCP proxy between the broker and a real `redis-server` that can lose one reply: armed with
//! a command's name, it forwards the next such command (so Redis applies it), reads Redis's
//! reply, and instead of relaying it drops both connections, as a network failure or a Redis
//! failover after the write would.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

pub struct LostReplyProxy {
    address: SocketAddr,
    armed: Arc<Mutex<Option<String>>>,
    lost: Arc<AtomicUsize>,
    accepting: tokio::task::JoinHandle<()>,
}

impl LostReplyProxy {
    /// A proxy to the Redis at `upstream`, relaying everything until armed.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let armed = Arc::new(Mutex::new(None));
        let lost = Arc::new(AtomicUsize::new(0));
        let accepting = tokio::spawn({
            let (armed, lost) = (armed.clone(), lost.clone());
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    // A client whose Redis cannot be reached is dropped, as Redis would be.
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        tokio::spawn(relay(client, server, armed.clone(), lost.clone()));
                    }
                }
            }
        });
        Self {
            address,
            armed,
            lost,
            accepting,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.address)
    }

    /// The reply to the next command named `command` (`EXISTS`, `EVAL`, ...), on whichever
    /// connection it comes, is lost after Redis has applied it.
    pub fn lose_reply_to(&self, command: &str) {
        *self.armed.lock().unwrap() = Some(command.to_ascii_uppercase());
    }

    /// How many replies were lost so far.
    pub fn replies_lost(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for LostReplyProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Relays one connection, a whole command or reply at a time, so the armed command's reply is
/// known apart from the others.
async fn relay(
    mut client: TcpStream,
    mut server: TcpStream,
    armed: Arc<Mutex<Option<String>>>,
    lost: Arc<AtomicUsize>,
) {
    let mut from_client = Vec::new();
    let mut from_server = Vec::new();
    // For each command forwarded and not yet answered: whether its reply is to be lost. Replies
    // come in the order of the commands; a pub/sub message answers none, but no command whose
    // reply is lost is ever sent on a subscribed connection.
    let mut awaiting = VecDeque::new();
    loop {
        tokio::select! {
            read = client.read_buf(&mut from_client) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return;
                }
                while let Some(length) = whole_value(&from_client) {
                    let command: Vec<u8> = from_client.drain(..length).collect();
                    let lose = {
                        let mut armed = armed.lock().unwrap();
                        let hit = armed.is_some() && *armed == command_name(&command);
                        if hit {
                            *armed = None;
                        }
                        hit
                    };
                    if server.write_all(&command).await.is_err() {
                        return;
                    }
                    awaiting.push_back(lose);
                }
            }
            read = server.read_buf(&mut from_server) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return;
                }
                while let Some(length) = whole_value(&from_server) {
                    let reply: Vec<u8> = from_server.drain(..length).collect();
                    if awaiting.pop_front() == Some(true) {
                        // Redis has answered, so the command was applied: both connections
                        // are dropped with its reply unsent.
                        lost.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    if client.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The length of the first whole RESP2 value in `bytes`, once all of it has arrived (redis-rs
/// speaks RESP2 unless asked for RESP3, and the broker does not ask).
fn whole_value(bytes: &[u8]) -> Option<usize> {
    let line = bytes.windows(2).position(|pair| pair == b"\r\n")?;
    let after = line + 2;
    let number = || -> i64 {
        std::str::from_utf8(&bytes[1..line])
            .ok()
            .and_then(|text| text.parse().ok())
            .expect("a RESP length")
    };
    match bytes[0] {
        b'+' | b'-' | b':' => Some(after),
        b'$' => match usize::try_from(number()) {
            Ok(length) => {
                let end = after + length + 2;
                (bytes.len() >= end).then_some(end)
            }
            Err(_) => Some(after),
        },
        b'*' => {
            let mut end = after;
            for _ in 0..number().max(0) {
                end += whole_value(&bytes[end..])?;
            }
            Some(end)
        }
        other => panic!("not RESP2: {:?}", char::from(other)),
    }
}

/// A command's name, upper case: the first bulk string of its array.
fn command_name(command: &[u8]) -> Option<String> {
    let header = command.windows(2).position(|pair| pair == b"\r\n")? + 2;
    let rest = &command[header..];
    let line = rest.windows(2).position(|pair| pair == b"\r\n")?;
    let length: usize = std::str::from_utf8(rest.get(1..line)?).ok()?.parse().ok()?;
    let name = rest.get(line + 2..line + 2 + length)?;
    Some(String::from_utf8_lossy(name).to_ascii_uppercase())
}
