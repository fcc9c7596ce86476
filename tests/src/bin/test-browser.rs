//! A "system browser" for end-to-end tests: the app's `BROWSER` variable points here, and the
//! app runs `test-browser URL` as it would run Firefox or Edge.
//!
//! `CAREID_TEST_BROWSER` chooses how the URL is visited:
//! - `http` (default): a plain HTTP client that keeps cookies and follows redirects, which
//!   completes a sign-in when the provider signs a user in without a page (the mock's
//!   auto-login), ending at the app's loopback listener. It also completes plain HTML sign-in
//!   pages without JavaScript (node oidc-provider's development pages): a form with a `login`
//!   field gets `CAREID_TEST_BROWSER_LOGIN` (default `tester`) and its `password` field
//!   `CAREID_TEST_BROWSER_PASSWORD` (default `password`); a consent form (hidden `prompt`) and
//!   the sign-out forms (hidden `xsrf`) are submitted with their first button. The visit ends on a page
//!   without such a form, or on an address starting with `CAREID_TEST_BROWSER_UNTIL` when set;
//! - `chromium`: headless Chromium through chromedriver, for real pages. It clicks, in order,
//!   the elements `CAREID_TEST_BROWSER_CLICKS` names (CSS selectors separated by `;`), each once
//!   it is there and enabled; after a click on a button it waits for the page to be replaced.
//!   Each page it clicks on or ends on is appended to `<log>.pages` (title and error summary).
//!   The visit ends when the page's address starts with `CAREID_TEST_BROWSER_UNTIL`, when an
//!   element matching `CAREID_TEST_BROWSER_UNTIL_ELEMENT` is there, or by default when it is the
//!   provider's answer at the app's loopback listener (`127.0.0.1` with a `code`, `state` or
//!   `error`).
//!
//!   With `CAREID_TEST_BROWSER_WEBAUTHN=1` it also has a virtual WebAuthn authenticator (W3C
//!   WebAuthn §11, the WebDriver extension chromedriver implements; it needs a `localhost` page,
//!   not `127.0.0.1`): CTAP2, transport `CAREID_TEST_BROWSER_WEBAUTHN_TRANSPORT` (default
//!   `internal`, a platform authenticator such as Windows Hello; `usb` for a security key), and
//!   user verification as `CAREID_TEST_BROWSER_WEBAUTHN_UV` says: `verified` (default),
//!   `failing` (the authenticator can verify, and the user fails) or `none` (it cannot: a key
//!   without a PIN). `CAREID_TEST_BROWSER_WEBAUTHN_CREDENTIALS` names a file holding the
//!   authenticator's credentials (private keys included: test keys only), loaded before the
//!   visit and written after, so that one key can be used again in a later visit and two files
//!   are two keys. `CAREID_TEST_BROWSER_WEBAUTHN_REMOVE=1` removes every credential from the
//!   authenticator before the visit, as a user deleting them from the key.
//!
//! `CAREID_TEST_BROWSER_VISITS` names a file with one line per visit, each a JSON object of the
//! settings above for that visit alone (`{"CAREID_TEST_BROWSER_CLICKS": "...",
//! "CAREID_TEST_BROWSER_WEBAUTHN_UV": "none"}`): a run of sign-ins, one visit each, with the
//! clicks and authenticator each case needs. Each visit takes (and removes) the first line;
//! with none left, a visit has the environment's settings.
//!
//! careid gives the browser a one-time link on its loopback listener that redirects to the
//! provider. Like a snap or flatpak browser, this one opens no local (`file:`) page.
//! `CAREID_TEST_BROWSER_LOG`, when set, names a file that gets each opened URL on a line (for
//! the HTTP client, where the link led), so a test can check what the app opened, and
//! `<log>.argv` gets what was on the command line. The final URL and status go to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use careid_e2e::forms;
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

/// This visit's line of `CAREID_TEST_BROWSER_VISITS`, its settings set for this process.
fn take_visit_settings() -> anyhow::Result<()> {
    let Some(file) = std::env::var_os("CAREID_TEST_BROWSER_VISITS") else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&file).context("reading the visits file")?;
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let Some(first) = lines.next() else {
        return Ok(());
    };
    let settings: serde_json::Map<String, Value> =
        serde_json::from_str(first).with_context(|| format!("a visit's settings: {first}"))?;
    let rest: Vec<&str> = lines.collect();
    std::fs::write(&file, rest.join("\n")).context("writing the visits file")?;
    for (name, value) in settings {
        let value = value
            .as_str()
            .with_context(|| format!("{name}: a visit's setting is a string"))?;
        std::env::set_var(name, value);
    }
    Ok(())
}

fn run() -> anyhow::Result<()> {
    take_visit_settings()?;
    let given = std::env::args().nth(1).context("usage: test-browser URL")?;
    // As a snap or flatpak browser (Firefox on Ubuntu is a snap), no local file is opened: such
    // browsers cannot read hidden folders, where a page for the browser would have to be.
    if given.starts_with("file:") {
        bail!("cannot open {given}: this browser, like a confined one, opens no local files");
    }
    let mode = std::env::var("CAREID_TEST_BROWSER").unwrap_or_else(|_| "http".to_owned());
    // careid hands the sign-in over as a one-time link on its loopback listener, which answers
    // with a redirect to the provider. The HTTP client follows it here, so the log names where
    // it led; Chromium follows it itself, so its log names the link.
    let url = match mode.as_str() {
        "http" => launch_target(&given)?.unwrap_or_else(|| given.clone()),
        _ => given.clone(),
    };
    if let Some(log) = std::env::var_os("CAREID_TEST_BROWSER_LOG") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        writeln!(file, "{url}")?;
        // What was on the browser's command line, for tests of what other users could see.
        let mut argv_log = log;
        argv_log.push(".argv");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(argv_log)?;
        writeln!(file, "{given}")?;
    }
    match mode.as_str() {
        "http" => visit_with_http_client(&url),
        "chromium" => visit_with_chromium(&url),
        other => bail!("unknown CAREID_TEST_BROWSER {other:?}: use http or chromium"),
    }
}

/// Where careid's one-time launch link (`http://127.0.0.1:PORT/launch/...`) redirects, visited
/// once as a browser would: `None` for any other address (a provider on loopback included).
fn launch_target(given: &str) -> anyhow::Result<Option<String>> {
    let url = url::Url::parse(given)?;
    if url.scheme() != "http"
        || url.host_str() != Some("127.0.0.1")
        || !url.path().starts_with("/launch/")
    {
        return Ok(None);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let answer = agent
        .get(given)
        .call()
        .with_context(|| format!("visiting {given}"))?;
    if !answer.status().is_redirection() {
        bail!("{given} answered {}, not a redirect", answer.status());
    }
    let location = answer
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .context("a redirect without a Location")?;
    Ok(Some(url.join(location)?.to_string()))
}

/// Misbehaves at the app's loopback listener just before the real callback, as a stray local
/// program or an attacker might: `CAREID_TEST_BROWSER_FIRST` = `wrong_path` (a request to another
/// path), `oversized` (a 64 KiB request line), `slow` (a connection that never sends a request,
/// left open), `no_state` (a forged callback with a code but another state) or `rebound` (the
/// same under another host name, as DNS rebinding sends it). `callback` is
/// the address the provider redirected to (with a pushed request, the opened URL has no
/// `redirect_uri` to learn it from).
fn misbehave_first(callback: &url::Url) -> anyhow::Result<Option<std::net::TcpStream>> {
    use std::io::{Read as _, Write as _};
    let Ok(mode) = std::env::var("CAREID_TEST_BROWSER_FIRST") else {
        return Ok(None);
    };
    let redirect = callback;
    let address = format!(
        "{}:{}",
        redirect.host_str().unwrap_or("127.0.0.1"),
        redirect.port().unwrap_or(80)
    );
    let mut stream = std::net::TcpStream::connect(&address)?;
    let request = match mode.as_str() {
        "wrong_path" => {
            format!("GET /not-the-callback?code=x&state=y HTTP/1.1\r\nHost: {address}\r\n\r\n")
        }
        "oversized" => format!(
            "GET {}?code={} HTTP/1.1\r\nHost: {address}\r\n\r\n",
            redirect.path(),
            "A".repeat(64 * 1024)
        ),
        "no_state" => format!(
            "GET {}?code=forged&state=forged HTTP/1.1\r\nHost: {address}\r\n\r\n",
            redirect.path()
        ),
        // A page of another site whose DNS name was rebound to 127.0.0.1: the browser sends the
        // site's own name.
        "rebound" => format!(
            "GET {}?code=forged&state=forged HTTP/1.1\r\nHost: attacker.example:{}\r\n\r\n",
            redirect.path(),
            redirect.port().unwrap_or(80)
        ),
        // Holds a connection open without a request: the listener must not wait on it.
        "slow" => return Ok(Some(stream)),
        other => bail!("unknown CAREID_TEST_BROWSER_FIRST {other:?}"),
    };
    // The listener may answer and close before reading everything: that is its right.
    let _ = stream.write_all(request.as_bytes());
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    eprintln!(
        "test-browser: first ({mode}): {}",
        answer.lines().next().unwrap_or("(no answer)")
    );
    Ok(None)
}

/// Whether `url` is the provider's redirect to the app's loopback listener.
fn is_callback(url: &url::Url) -> bool {
    url.scheme() == "http"
        && url.host_str() == Some("127.0.0.1")
        && url
            .query_pairs()
            .any(|(name, _)| name == "state" || name == "code" || name == "error")
}

/// Follows redirects by hand (at most 20), so the misbehaviour can come just before the
/// callback reaches the listener. `held_open` keeps a `slow` connection for the whole visit.
fn follow(
    agent: &ureq::Agent,
    mut response: ureq::http::Response<ureq::Body>,
    held_open: &mut Option<Option<std::net::TcpStream>>,
) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
    for _ in 0..20 {
        if !response.status().is_redirection() {
            return Ok(response);
        }
        let here = url::Url::parse(&response.get_uri().to_string())?;
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .context("a redirect without a Location")?;
        let next = here.join(location)?;
        if is_callback(&next) && held_open.is_none() {
            *held_open = Some(misbehave_first(&next)?);
        }
        response = agent
            .get(next.as_str())
            .call()
            .with_context(|| format!("visiting {next}"))?;
    }
    bail!("more than 20 redirects")
}

fn visit_with_http_client(url: &str) -> anyhow::Result<()> {
    let mut held_open = None;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        // A browser shows error pages; it does not fail on them.
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let until = std::env::var("CAREID_TEST_BROWSER_UNTIL").ok();
    let login = std::env::var("CAREID_TEST_BROWSER_LOGIN").unwrap_or_else(|_| "tester".to_owned());
    let password =
        std::env::var("CAREID_TEST_BROWSER_PASSWORD").unwrap_or_else(|_| "password".to_owned());
    let first = agent
        .get(url)
        .call()
        .with_context(|| format!("visiting {url}"))?;
    let mut response = follow(&agent, first, &mut held_open)?;
    for _ in 0..MAX_FORMS {
        let here = response.get_uri().to_string();
        eprintln!("test-browser: {} {here}", response.status());
        if until
            .as_deref()
            .is_some_and(|until| here.starts_with(until))
        {
            return Ok(());
        }
        let is_html = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
        if !is_html {
            return Ok(());
        }
        let page = response.body_mut().read_to_string()?;
        let Some(form) = forms::forms(&page).into_iter().find(is_sign_in_form) else {
            return Ok(());
        };
        let action = url::Url::parse(&here)?
            .join(&form.action)
            .with_context(|| format!("the form's action {:?}", form.action))?;
        let fields = form.submission(|name| match name {
            "login" => Some(login.clone()),
            "password" => Some(password.clone()),
            _ => None,
        });
        let prompt = form
            .field("prompt")
            .map_or("", |field| field.value.as_str());
        eprintln!("test-browser: submitting the {prompt} form to {action}");
        let pairs = fields.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let submitted = if form.method == "post" {
            agent.post(action.as_str()).send_form(pairs)
        } else {
            let mut action = action.clone();
            action.query_pairs_mut().clear().extend_pairs(pairs);
            agent.get(action.as_str()).call()
        }
        .with_context(|| format!("submitting a form to {action}"))?;
        response = follow(&agent, submitted, &mut held_open)?;
    }
    bail!("still on a form after {MAX_FORMS} pages")
}

/// At most this many forms in one visit: a page that comes back again and again (a refused
/// password) must end the visit, not loop.
const MAX_FORMS: usize = 8;

/// The forms the HTTP browser completes: a sign-in page (a `login` field), a consent page (a
/// hidden `prompt` field) and node oidc-provider's sign-out pages (a hidden `xsrf` field: the
/// confirmation, or the page a browser with JavaScript submits at once). Other forms (the mock's
/// pages) are left alone, so the visit ends on them as it always did.
fn is_sign_in_form(form: &forms::Form) -> bool {
    ["login", "prompt", "xsrf"]
        .iter()
        .any(|name| form.field(name).is_some())
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
    let chromedriver_process = KillOnDrop(driver);
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

    let driver = Driver {
        agent: &agent,
        session: &session_url,
    };
    let visited = (|| {
        let authenticator = if std::env::var("CAREID_TEST_BROWSER_WEBAUTHN").as_deref() == Ok("1") {
            Some(VirtualAuthenticator::add(&driver)?)
        } else {
            None
        };
        driver.post("url", json!({ "url": url }))?;
        let clicks = std::env::var("CAREID_TEST_BROWSER_CLICKS").unwrap_or_default();
        for selector in clicks.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            driver.click(selector)?;
        }
        // The visit is over when the page reaches the app's loopback listener with the
        // provider's answer (the launch link the visit began on is there too, but is no answer).
        let until = std::env::var("CAREID_TEST_BROWSER_UNTIL").ok();
        let until_element = std::env::var("CAREID_TEST_BROWSER_UNTIL_ELEMENT").ok();
        let mut current = String::new();
        let arrived = wait_for(wait_limit(), || {
            if let Some(selector) = &until_element {
                return Ok(driver.find(selector)?.is_some());
            }
            current = driver.get("url")?.as_str().unwrap_or_default().to_owned();
            Ok(match &until {
                Some(until) => current.starts_with(until),
                None => url::Url::parse(&current).is_ok_and(|url| is_callback(&url)),
            })
        });
        eprintln!("test-browser: chromium at {current}");
        if until_element.is_some() {
            driver.record_page();
        }
        if let Some(authenticator) = authenticator {
            authenticator.keep(&driver)?;
        }
        let waited_for = until_element
            .or(until)
            .unwrap_or_else(|| "the app's loopback listener".to_owned());
        arrived.with_context(|| format!("waiting for {waited_for}, last at {current}"))
    })();
    let _ = agent.delete(&session_url).call();
    drop(chromedriver_process);
    visited
}

/// One WebDriver session of chromedriver's.
struct Driver<'a> {
    agent: &'a ureq::Agent,
    session: &'a str,
}

/// WebDriver's key for an element reference in JSON (W3C WebDriver §12.1).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver<'_> {
    fn get(&self, command: &str) -> anyhow::Result<Value> {
        let mut answer = self
            .agent
            .get(format!("{}/{command}", self.session))
            .config()
            .http_status_as_error(false)
            .build()
            .call()?;
        let status = answer.status();
        let body: Value = answer.body_mut().read_json()?;
        if !status.is_success() {
            bail!("{command}: {}", body["value"]["error"]);
        }
        Ok(body["value"].clone())
    }

    fn post(&self, command: &str, body: Value) -> anyhow::Result<Value> {
        let mut answer = self
            .agent
            .post(format!("{}/{command}", self.session))
            .config()
            .http_status_as_error(false)
            .build()
            .send_json(&body)?;
        let status = answer.status();
        let body: Value = answer.body_mut().read_json()?;
        if !status.is_success() {
            bail!(
                "{command}: {} {}",
                body["value"]["error"],
                body["value"]["message"]
            );
        }
        Ok(body["value"].clone())
    }

    fn delete(&self, command: &str) -> anyhow::Result<()> {
        self.agent
            .delete(format!("{}/{command}", self.session))
            .call()?;
        Ok(())
    }

    /// The first element `selector` matches, when there is one.
    fn find(&self, selector: &str) -> anyhow::Result<Option<String>> {
        let found = self.post(
            "elements",
            json!({ "using": "css selector", "value": selector }),
        )?;
        Ok(found
            .as_array()
            .and_then(|elements| elements.first())
            .and_then(|element| element[ELEMENT_KEY].as_str())
            .map(str::to_owned))
    }

    /// Waits for an enabled element `selector` matches, records the page and clicks it; after
    /// a button, waits until the page it was on is gone (a form sent, a ceremony finished).
    fn click(&self, selector: &str) -> anyhow::Result<()> {
        let mut element = None;
        wait_for(wait_limit(), || {
            element = self.find(selector)?;
            Ok(match &element {
                Some(id) => self.get(&format!("element/{id}/enabled"))? == json!(true),
                None => false,
            })
        })
        .with_context(|| format!("waiting for {selector:?} on {}", self.describe()))?;
        let id = element.context("an element")?;
        self.record_page();
        let tag = self.get(&format!("element/{id}/name"))?;
        eprintln!("test-browser: clicking {selector}");
        self.post(&format!("element/{id}/click"), json!({}))?;
        if tag == json!("button") {
            // A stale element (an error answer) means the page was replaced.
            wait_for(wait_limit(), || {
                Ok(self.get(&format!("element/{id}/name")).is_err())
            })
            .with_context(|| format!("waiting for the page to change after {selector:?}"))?;
        }
        Ok(())
    }

    /// The page's title and its error summary, if any.
    fn describe(&self) -> String {
        let title = self.get("title").unwrap_or_default();
        let error = self
            .find(".nhsuk-error-summary")
            .ok()
            .flatten()
            .and_then(|id| self.get(&format!("element/{id}/text")).ok())
            .and_then(|text| text.as_str().map(|text| text.replace('\n', " ")));
        match error {
            Some(error) => format!("{} [{error}]", title.as_str().unwrap_or_default()),
            None => title.as_str().unwrap_or_default().to_owned(),
        }
    }

    /// Appends the page's description to `<log>.pages`, for a test to read what was shown.
    fn record_page(&self) {
        let page = self.describe();
        eprintln!("test-browser: page: {page}");
        if let Some(log) = std::env::var_os("CAREID_TEST_BROWSER_LOG") {
            let mut pages = log;
            pages.push(".pages");
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(pages)
            {
                let _ = writeln!(file, "{page}");
            }
        }
    }
}

/// A virtual WebAuthn authenticator (WebAuthn §11.2), with its credentials file when set.
struct VirtualAuthenticator {
    id: String,
    file: Option<PathBuf>,
}

impl VirtualAuthenticator {
    fn add(driver: &Driver<'_>) -> anyhow::Result<Self> {
        let transport = std::env::var("CAREID_TEST_BROWSER_WEBAUTHN_TRANSPORT")
            .unwrap_or_else(|_| "internal".to_owned());
        let uv = std::env::var("CAREID_TEST_BROWSER_WEBAUTHN_UV")
            .unwrap_or_else(|_| "verified".to_owned());
        let (has_uv, verified) = match uv.as_str() {
            "verified" => (true, true),
            "failing" => (true, false),
            "none" => (false, false),
            other => bail!(
                "unknown CAREID_TEST_BROWSER_WEBAUTHN_UV {other:?}: use verified, failing or none"
            ),
        };
        let options = json!({
            "protocol": "ctap2", "transport": transport, "hasResidentKey": true,
            "hasUserVerification": has_uv, "isUserVerified": verified,
            "isUserConsenting": true,
        });
        let id = driver
            .post("webauthn/authenticator", options)?
            .as_str()
            .context("no authenticator id from chromedriver")?
            .to_owned();
        let file = std::env::var_os("CAREID_TEST_BROWSER_WEBAUTHN_CREDENTIALS").map(PathBuf::from);
        let authenticator = Self { id, file };
        if let Some(file) = authenticator.file.as_ref().filter(|file| file.exists()) {
            let kept: Vec<Value> = serde_json::from_slice(&std::fs::read(file)?)
                .with_context(|| format!("the credentials in {}", file.display()))?;
            for credential in kept {
                driver.post(&authenticator.command("credential"), credential)?;
            }
        }
        if std::env::var("CAREID_TEST_BROWSER_WEBAUTHN_REMOVE").as_deref() == Ok("1") {
            driver.delete(&authenticator.command("credentials"))?;
        }
        Ok(authenticator)
    }

    fn command(&self, command: &str) -> String {
        format!("webauthn/authenticator/{}/{command}", self.id)
    }

    /// Writes the authenticator's credentials to its file, for the next visit.
    fn keep(&self, driver: &Driver<'_>) -> anyhow::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let credentials = driver.get(&self.command("credentials"))?;
        std::fs::write(file, serde_json::to_vec(&credentials)?)?;
        Ok(())
    }
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    let mut last_error = None;
    while Instant::now() < deadline {
        match done() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => last_error = Some(error),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    match last_error {
        Some(error) => bail!("gave up after {limit:?} (last: {error:#})"),
        None => bail!("gave up after {limit:?}"),
    }
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
