//! One-time launch links: what the browser is opened on instead of the provider's URL.
//!
//! A browser is started with its address on its command line, which every user of a shared
//! machine can read (`/proc/*/cmdline`, `ps`). So the browser gets
//! `http://127.0.0.1:PORT/launch/<random>`, and the loopback listener answers that path, once,
//! with a redirect to the authorization URL (or, at sign-out, to the end-session URL with its
//! `id_token_hint`). The link reveals nothing; it is answered only to this OS user (the
//! listener's peer check) and only once. Unlike a page on disk, every browser can open it:
//! snap and flatpak browsers cannot read hidden folders such as `~/.local/state`.
//!
//! At sign-in the sign-in's own listener answers the links ([`LaunchLinks`]: "open the browser
//! again" takes a fresh one). At sign-out no listener is waiting, so [`SignOutLaunch`] listens
//! on a port of its own until the browser has come, or two minutes have passed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::{
    constant_time_eq, host_is_loopback, page, read_head, respond, respond_with, same_user, Page,
    REQUEST_READ_TIMEOUT,
};
use crate::SecretString;

/// Where the links live on the listener: no redirect URI's path starts with it.
const LAUNCH_PREFIX: &str = "/launch/";
/// The most links of one sign-in not yet used: each "open the browser again" takes one.
const MAX_UNUSED_LINKS: usize = 16;
/// The most connections a sign-out's listener serves at once.
const MAX_SIGN_OUT_CONNECTIONS: usize = 8;

/// The one-time links to one target URL, answered by a loopback listener on `port`.
pub struct LaunchLinks {
    port: u16,
    target: SecretString,
    /// The paths issued and not yet used, oldest first.
    unused: Mutex<Vec<String>>,
    /// Told each time a link is used.
    used: Notify,
    any_used: AtomicBool,
}

/// The target holds the state and nonce, or the ID token: never shown.
impl std::fmt::Debug for LaunchLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchLinks")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl LaunchLinks {
    pub(crate) fn new(port: u16, target: SecretString) -> Arc<Self> {
        Arc::new(Self {
            port,
            target,
            unused: Mutex::new(Vec::new()),
            used: Notify::new(),
            any_used: AtomicBool::new(false),
        })
    }

    /// A new link to the target, good for one visit while the listener waits. The oldest unused
    /// link lapses once [`MAX_UNUSED_LINKS`] are out.
    pub fn issue(&self) -> std::io::Result<String> {
        let mut random = [0u8; 16];
        SystemRandom::new()
            .fill(&mut random)
            .map_err(|_| std::io::Error::other("the system random source failed"))?;
        let path = format!(
            "{LAUNCH_PREFIX}{}",
            random
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        );
        let mut unused = self.unused.lock().unwrap_or_else(PoisonError::into_inner);
        if unused.len() >= MAX_UNUSED_LINKS {
            unused.remove(0);
        }
        unused.push(path.clone());
        Ok(format!("http://127.0.0.1:{}{path}", self.port))
    }

    /// Whether a link has been used.
    pub fn any_used(&self) -> bool {
        self.any_used.load(Ordering::Acquire)
    }

    /// The answer to a request for `path`, when it is a launch path: the redirect for an unused
    /// link (which is then used up), a page saying so otherwise. `None`: not a launch path.
    pub(crate) fn answer(&self, method: &str, path: &str, host_ok: bool) -> Option<Launched> {
        if !path.starts_with(LAUNCH_PREFIX) {
            return None;
        }
        if method != "GET" || !host_ok {
            return Some(Launched::Spent);
        }
        let mut unused = self.unused.lock().unwrap_or_else(PoisonError::into_inner);
        // Compared whole, in constant time: the path is what stands for the target.
        let found = unused
            .iter()
            .position(|issued| constant_time_eq(issued.as_bytes(), path.as_bytes()));
        let Some(index) = found else {
            return Some(Launched::Spent);
        };
        unused.remove(index);
        drop(unused);
        self.any_used.store(true, Ordering::Release);
        self.used.notify_waiters();
        Some(Launched::Redirect(self.target.expose_secret().to_owned()))
    }

    /// Resolves once a link has been used.
    pub(crate) async fn wait_used(&self) {
        loop {
            let notified = self.used.notified();
            if self.any_used() {
                return;
            }
            notified.await;
        }
    }
}

/// What a launch path is answered with.
pub(crate) enum Launched {
    /// `303 See Other` to the target.
    Redirect(String),
    /// Used already, lapsed, or never issued: a page saying to start again from careid.
    Spent,
}

/// Answers a launch request on `stream`.
pub(crate) async fn respond_launch(stream: &mut TcpStream, launched: Launched) {
    match launched {
        // `no-store` and `no-referrer` (as every answer here): the target is in neither a
        // cache nor the next page.
        Launched::Redirect(target) => {
            let location = format!("Location: {target}\r\n");
            respond_with(stream, "303 See Other", &location, &page(Page::Continue)).await;
        }
        Launched::Spent => respond(stream, "410 Gone", &page(Page::LinkSpent)).await,
    }
}

/// The request line's method and path (without its query) of a request head.
pub(crate) fn method_and_path(head: &str) -> (&str, &str) {
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default();
    let target = request_line.next().unwrap_or_default();
    (
        method,
        target.split_once('?').map_or(target, |(path, _)| path),
    )
}

/// The provider's end-session URL behind a one-time link on a listener of its own, which stops
/// once the browser has come for it, after `within`, or when this is dropped.
pub struct SignOutLaunch {
    url: String,
    links: Arc<LaunchLinks>,
    listening: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for SignOutLaunch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignOutLaunch")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl SignOutLaunch {
    /// Listens on `127.0.0.1` (any free port) for the one visit to `target`, at most `within`.
    pub async fn start(target: SecretString, within: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let links = LaunchLinks::new(listener.local_addr()?.port(), target);
        let url = links.issue()?;
        let listening = tokio::spawn(serve_sign_out(listener, Arc::clone(&links), within));
        Ok(Self {
            url,
            links,
            listening,
        })
    }

    /// What to open the browser on.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits, at most `timeout`, until the browser has come for the link; whether it did. The
    /// listener stops either way once this is dropped.
    pub async fn wait_until_read(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.links.wait_used())
            .await
            .is_ok()
    }
}

impl Drop for SignOutLaunch {
    fn drop(&mut self) {
        self.listening.abort();
    }
}

/// The sign-out listener: each connection from this OS user may ask for the link; anything else
/// is 404. Ends when the link is used or after `within`.
async fn serve_sign_out(listener: TcpListener, links: Arc<LaunchLinks>, within: Duration) {
    let mut connections = JoinSet::new();
    let deadline = tokio::time::sleep(within);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if connections.len() >= MAX_SIGN_OUT_CONNECTIONS {
                    continue;
                }
                connections.spawn(serve_sign_out_connection(stream, Arc::clone(&links)));
            }
            () = links.wait_used() => break,
            () = &mut deadline => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // The browser's own connection finishes its answer; nothing more is accepted.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn serve_sign_out_connection(mut stream: TcpStream, links: Arc<LaunchLinks>) {
    if !same_user(&stream) {
        respond(&mut stream, "403 Forbidden", &page(Page::Forbidden)).await;
        return;
    }
    let Ok(Ok(head)) = tokio::time::timeout(REQUEST_READ_TIMEOUT, read_head(&mut stream)).await
    else {
        return;
    };
    let (method, path) = method_and_path(&head);
    let host_ok = host_is_loopback(head.lines().skip(1));
    match links.answer(method, path, host_ok) {
        Some(launched) => respond_launch(&mut stream, launched).await,
        None => respond(&mut stream, "404 Not Found", &page(Page::NotFound)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Arc<LaunchLinks> {
        LaunchLinks::new(
            23741,
            SecretString::new("https://am.example/authorize?state=s".to_owned()),
        )
    }

    fn path_of(link: &str) -> String {
        url::Url::parse(link).unwrap().path().to_owned()
    }

    #[test]
    fn a_link_is_answered_once_with_the_target() {
        let links = links();
        let link = links.issue().unwrap();
        assert!(link.starts_with("http://127.0.0.1:23741/launch/"), "{link}");
        assert!(!link.contains("state"), "{link}");
        let path = path_of(&link);
        assert!(matches!(
            links.answer("GET", &path, true),
            Some(Launched::Redirect(target)) if target == "https://am.example/authorize?state=s"
        ));
        assert!(links.any_used());
        assert!(matches!(
            links.answer("GET", &path, true),
            Some(Launched::Spent)
        ));
    }

    #[test]
    fn only_an_issued_link_by_get_under_a_loopback_host_is_answered() {
        let links = links();
        let path = path_of(&links.issue().unwrap());
        assert!(links.answer("GET", "/callback", true).is_none());
        assert!(matches!(
            links.answer("GET", "/launch/00", true),
            Some(Launched::Spent)
        ));
        assert!(matches!(
            links.answer("POST", &path, true),
            Some(Launched::Spent)
        ));
        assert!(matches!(
            links.answer("GET", &path, false),
            Some(Launched::Spent)
        ));
        assert!(!links.any_used(), "none of those used the link");
        assert!(matches!(
            links.answer("GET", &path, true),
            Some(Launched::Redirect(_))
        ));
    }

    #[test]
    fn each_link_is_new_and_the_oldest_lapses() {
        let links = links();
        let first = path_of(&links.issue().unwrap());
        let mut others = Vec::new();
        for _ in 0..MAX_UNUSED_LINKS {
            others.push(path_of(&links.issue().unwrap()));
        }
        assert!(!others.contains(&first));
        assert!(matches!(
            links.answer("GET", &first, true),
            Some(Launched::Spent)
        ));
        assert!(matches!(
            links.answer("GET", &others[0], true),
            Some(Launched::Redirect(_))
        ));
    }

    #[test]
    fn the_request_line_is_read_without_its_query() {
        assert_eq!(
            method_and_path("GET /launch/ab?x=1 HTTP/1.1\r\nHost: 127.0.0.1"),
            ("GET", "/launch/ab")
        );
        assert_eq!(method_and_path(""), ("", ""));
    }
}
