//! A "system browser" for end-to-end tests: the app's `BROWSER` variable points here, and the
//! app runs `test-browser URL` as it would run Firefox or Edge.
//!
//! `CAREID_TEST_BROWSER` chooses how the URL is visited:
//! - `http` (default): a plain HTTP client that keeps cookies and follows redirects, which
//!   completes a sign-in when the provider signs a user in without a page (the mock's
//!   auto-login), ending at the app's loopback listener;
//! - `chromium`: headless Chromium through chromedriver, for real pages; with
//!   `CAREID_TEST_BROWSER_WEBAUTHN=1` it also has a virtual WebAuthn authenticator (which needs a
//!   `localhost` page, not `127.0.0.1`). The visit ends when the page's address starts with
//!   `CAREID_TEST_BROWSER_UNTIL` (default `http://127.0.0.1:`, the app's loopback listener).
//!
//! `CAREID_TEST_BROWSER_LOG`, when set, names a file that gets each opened URL on a line, so a test
//! can check what the app opened. The final URL and status go to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use ureq::ResponseExt;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("test-browser: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let url = std::env::args().nth(1).context("usage: test-browser URL")?;
    if let Some(log) = std::env::var_os("CAREID_TEST_BROWSER_LOG") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        writeln!(file, "{url}")?;
    }
    let mode = std::env::var("CAREID_TEST_BROWSER").unwrap_or_else(|_| "http".to_owned());
    match mode.as_str() {
        "http" => visit_with_http_client(&url),
        "chromium" => visit_with_chromium(&url),
        other => bail!("unknown CAREID_TEST_BROWSER {other:?}: use http or chromium"),
    }
}

fn visit_with_http_client(url: &str) -> anyhow::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(20)
        // A browser shows error pages; it does not fail on them.
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let response = agent
        .get(url)
        .call()
        .with_context(|| format!("visiting {url}"))?;
    eprintln!("test-browser: {} {}", response.status(), response.get_uri());
    Ok(())
}

/// How long a page may take to reach the app's loopback listener.
fn wait_limit() -> Duration {
    let seconds = std::env::var("CAREID_TEST_BROWSER_WAIT")
        .ok()
        .and_then(|s| s.parse().ok());
    Duration::from_secs(seconds.unwrap_or(30))
}

fn visit_with_chromium(url: &str) -> anyhow::Result<()> {
    let chromedriver = which("chromedriver").context("chromedriver is not installed")?;
    let chromium = which("chromium").context("chromium is not installed")?;
    let profile = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port();
    let driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let driver = KillOnDrop(driver);
    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    wait_for(Duration::from_secs(20), || {
        Ok(agent.get(format!("{base}/status")).call().is_ok())
    })?;

    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let mut args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
    }}});
    let session: Value = agent
        .post(format!("{base}/session"))
        .send_json(&capabilities)?
        .body_mut()
        .read_json()?;
    let id = session["value"]["sessionId"]
        .as_str()
        .context("no session id from chromedriver")?;
    let session_url = format!("{base}/session/{id}");

    let visited = (|| {
        if std::env::var("CAREID_TEST_BROWSER_WEBAUTHN").as_deref() == Ok("1") {
            let authenticator = json!({
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserVerified": true,
            });
            agent
                .post(format!("{session_url}/webauthn/authenticator"))
                .send_json(&authenticator)?;
        }
        agent
            .post(format!("{session_url}/url"))
            .send_json(json!({ "url": url }))?;
        // The visit is over when the page reaches the app's loopback listener.
        let until = std::env::var("CAREID_TEST_BROWSER_UNTIL")
            .unwrap_or_else(|_| "http://127.0.0.1:".to_owned());
        let mut current = String::new();
        let arrived = wait_for(wait_limit(), || {
            let answer: Value = agent
                .get(format!("{session_url}/url"))
                .call()?
                .body_mut()
                .read_json()?;
            current = answer["value"].as_str().unwrap_or_default().to_owned();
            Ok(current.starts_with(&until))
        });
        eprintln!("test-browser: chromium at {current}");
        arrived.with_context(|| format!("waiting for a page under {until}, last at {current}"))
    })();
    let _ = agent.delete(&session_url).call();
    drop(driver);
    visited
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().unwrap_or(false) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("gave up after {limit:?}")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
