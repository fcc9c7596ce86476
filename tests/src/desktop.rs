//! The desktop app under WebDriver: `tauri-driver` starts WebKitWebDriver, which starts the built
//! app; tests read the DOM, never screenshots. A failed WebDriver command is a [`WebDriverFailure`],
//! told in full.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::{binaries, net, TestHome};

/// How long the app may take to start and render; generous for a cold debug build on 2 cores.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long one attempt to open a WebDriver session (which starts the app) may take before it is
/// abandoned and tried again on new ports.
const SESSION_TIMEOUT: Duration = Duration::from_secs(45);

/// How long one launched app may run before the harness ends it and says where it was: short of
/// the test runner's own limit (300 s), which kills the test with no word and no clean-up.
const WATCHDOG: Duration = Duration::from_secs(240);

/// How long closing the session (which ends the app) may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many lines of the driver's and the app's logs a failure quotes.
const LOG_TAIL_LINES: usize = 30;

/// True once the window has loaded the app and the UI has drawn its first screen (every screen,
/// and the start failure, is drawn in `[data-testid=screen]`).
const READY_SCRIPT: &str = "return document.readyState === 'complete' \
     && document.querySelector('[data-testid=screen]') !== null;";

/// How to start the app.
#[derive(Debug, Default)]
pub struct DesktopOptions {
    /// Extra command-line arguments for the app.
    pub args: Vec<String>,
    /// Extra environment for the app (for example `BROWSER`), on top of the isolated home.
    pub env: Vec<(String, OsString)>,
    /// A home to reuse (to restart the app on the same files and profiles); a fresh one if `None`.
    pub home: Option<TestHome>,
}

/// A running desktop app and its WebDriver session. Dropping it ends both.
#[derive(Debug)]
pub struct Desktop {
    client: Option<Client>,
    driver: Child,
    _group: crate::process::GroupRecord,
    _watchdog: Watchdog,
    home: TestHome,
    args: Vec<String>,
    env: Vec<(String, OsString)>,
}

impl Desktop {
    /// Starts the built app in its own home folder and connects a WebDriver session to it.
    pub async fn launch(options: DesktopOptions) -> anyhow::Result<Self> {
        let application = binaries::desktop_app()?;
        let tauri_driver = binaries::find_program("tauri-driver")
            .context("tauri-driver is not installed: run `cargo xtask test`")?;
        let native_driver = binaries::find_program("WebKitWebDriver")
            .context("WebKitWebDriver is not installed (Debian package webkit2gtk-driver)")?;
        let home = match options.home {
            Some(home) => home,
            None => TestHome::new()?,
        };
        let env = full_env(&home, options.env);
        crate::process::reap_orphaned_groups();

        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": application, "args": options.args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        // The driver's two ports are picked free, then bound by tauri-driver: in between, another
        // test's process (a loopback listener, a mock) can take one. Such a launch fails at the
        // first request, so it is tried again on new ports.
        let mut attempt = 1;
        let (driver, group, client) = loop {
            match start_driver(&tauri_driver, &native_driver, &home, &env, &capabilities).await {
                Ok(started) => break started,
                Err(error) if attempt < 3 => {
                    eprintln!(
                        "desktop: launch attempt {attempt} failed, trying new ports: {error:#}"
                    );
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        };
        let watchdog = Watchdog::start(driver.id(), home.path().to_path_buf());
        let app = Self {
            client: Some(client),
            driver,
            _group: group,
            _watchdog: watchdog,
            home,
            args: options.args,
            env,
        };
        app.wait_until_ready().await?;
        Ok(app)
    }

    /// Waits until the window has loaded the app and drawn its first screen. WebKitWebDriver
    /// answers the new session once the WebView exists, which can be before its page has loaded:
    /// a test's first command would then meet an empty document. Only a "not yet" is waited out;
    /// an error answer is real (no WebDriver error means "loading") and fails the launch in full.
    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let ready = self
                .client()
                .execute(READY_SCRIPT, vec![])
                .await
                .map_err(|error| self.failed("the check that the window is ready", error))?;
            if ready == json!(true) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "the window did not load the app and draw a screen within {START_TIMEOUT:?}\n{}",
                    self.diagnostics()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The app on the built-in mock, with the `test-browser` stand-in as its system browser (each
    /// URL it opens is logged in `browser.log` in the home). With `auto_login` the mock signs that
    /// test user in without a page; without, it shows its sign-in page, where the visit stops.
    pub async fn launch_on_mock(
        home: TestHome,
        auto_login: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let mut env = vec![
            (
                "BROWSER".to_owned(),
                binaries::test_browser()?.into_os_string(),
            ),
            (
                "CAREID_TEST_BROWSER_LOG".to_owned(),
                home.path().join("browser.log").into_os_string(),
            ),
        ];
        if let Some(user) = auto_login {
            env.push(("CAREID_MOCK_AUTO_LOGIN".to_owned(), user.into()));
        }
        env.extend(
            extra_env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), OsString::from(value))),
        );
        Self::launch(DesktopOptions {
            env,
            home: Some(home),
            ..Default::default()
        })
        .await
    }

    pub fn home(&self) -> &TestHome {
        &self.home
    }

    pub fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the session is open until close()")
    }

    /// Runs one WebDriver call that has no deadline of its own (a window resize, a script),
    /// failing with the logs if it has not answered within [`START_TIMEOUT`].
    pub async fn within<T>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = Result<T, CmdError>>,
    ) -> anyhow::Result<T> {
        match tokio::time::timeout(START_TIMEOUT, call).await {
            Ok(answer) => answer.map_err(|error| self.failed(what, error)),
            Err(_) => anyhow::bail!(
                "{what}: no answer within {START_TIMEOUT:?}; still running:\n{}\n{}",
                crate::process::describe_group(self.driver.id()),
                self.diagnostics()
            ),
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let found = match self.client().find(Locator::Css(css)).await {
                Ok(found) => found,
                // Replaced by a redraw while it was being found (see `find_now`): find again.
                Err(error) if Instant::now() < deadline && is_stale(&error) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                Err(error) => return Err(self.failed(format!("find {css:?}"), error)),
            };
            match found.text().await {
                Ok(text) => return Ok(text),
                // Drawn again since it was found: read the new one.
                Err(error) if Instant::now() < deadline && is_stale(&error) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => return Err(self.failed(format!("read the text of {css:?}"), error)),
            }
        }
    }

    /// Attribute `name` of the first element matching `css` (empty when it has none): the
    /// notice's `data-notice-code`, say, the code the UI chose its words by.
    pub async fn attribute(&self, css: &str, name: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let found = self.wait_for(css).await?;
            match found.attr(name).await {
                Ok(value) => return Ok(value.unwrap_or_default()),
                Err(error) if Instant::now() < deadline && is_stale(&error) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => {
                    return Err(self.failed(format!("read attribute {name:?} of {css:?}"), error))
                }
            }
        }
    }

    /// Waits until the element matching `css` exists and its text contains `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last_seen = String::new();
        loop {
            if let Some(element) = self.find_now(css).await? {
                match element.text().await {
                    Ok(text) => last_seen = text,
                    // Drawn again since it was found: read the new one next time round.
                    Err(error) if is_stale(&error) => {}
                    Err(error) => {
                        return Err(self.failed(format!("read the text of {css:?}"), error))
                    }
                }
                if last_seen.contains(expected) {
                    return Ok(last_seen);
                }
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "timed out after {START_TIMEOUT:?} waiting for {css:?} to contain {expected:?}; \
                     last text seen: {last_seen:?}\n{}",
                    self.diagnostics()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the first element matching `css`, once it is there.
    /// The UI draws a screen again when a new state arrives, so an element found a moment ago
    /// may be gone by the click: it is found again, as a person's click lands on what is there.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let element = self.wait_for(css).await?;
            match element.click().await {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() < deadline && is_stale(&error) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => return Err(self.failed(format!("click {css:?}"), error)),
            }
        }
    }

    /// Types `text` into the first element matching `css` (found again if the UI drew it anew
    /// before the keys were sent, as [`Desktop::click`] does).
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let element = self.wait_for(css).await?;
            match element.send_keys(text).await {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() < deadline && is_stale(&error) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => return Err(self.failed(format!("type into {css:?}"), error)),
            }
        }
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(element) = self.find_now(css).await? {
                return Ok(element);
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "timed out after {START_TIMEOUT:?} waiting for {css:?}\n{}",
                    self.diagnostics()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first element matching `css`, if there is one now. Of the errors a find can answer,
    /// two mean "not yet": the WebDriver spec's "no such element" (Find Element itself waits out
    /// the session's implicit wait timeout on it), and "stale element reference", which
    /// WebKitWebDriver answers when the element it found was replaced by a redraw before it made
    /// its handle ("Stale element found when trying to create the node handle"). Any other error
    /// is real, and fails in full.
    async fn find_now(&self, css: &str) -> anyhow::Result<Option<Element>> {
        match self.client().find(Locator::Css(css)).await {
            Ok(element) => Ok(Some(element)),
            Err(error) if error.is_no_such_element() || is_stale(&error) => Ok(None),
            Err(error) => Err(self.failed(format!("find {css:?}"), error)),
        }
    }

    /// Waits until the screen shown is `kind` (`home`, `waiting`, `chooseRole`, `noRoles`,
    /// `signedIn`, `restoring`, or the pages `profiles` and `help`), within `timeout`.
    pub async fn wait_for_screen_within(
        &self,
        kind: &str,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last_seen = None;
        loop {
            if let Some(element) = self.find_now("[data-testid=screen]").await? {
                match element.attr("data-screen").await {
                    Ok(screen) => last_seen = screen,
                    // Drawn again since it was found: look at the new one next time round.
                    Err(error) if is_stale(&error) => {}
                    Err(error) => return Err(self.failed("read the screen shown", error)),
                }
                if last_seen.as_deref() == Some(kind) {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                let notice = self.text("[data-testid=notice]").await.unwrap_or_default();
                anyhow::bail!(
                    "timed out after {timeout:?} waiting for the {kind:?} screen; last screen \
                     {last_seen:?}, notice {notice:?}\n{}",
                    self.diagnostics()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn wait_for_screen(&self, kind: &str) -> anyhow::Result<()> {
        self.wait_for_screen_within(kind, START_TIMEOUT).await
    }

    /// How many windows the app has open.
    pub async fn window_count(&self) -> anyhow::Result<usize> {
        let windows = self.client().windows().await;
        Ok(windows
            .map_err(|error| self.failed("list the windows", error))?
            .len())
    }

    /// Starts the app binary a second time, directly, with the same home and environment, and
    /// waits for it to exit (a single-instance app hands over to the first and exits).
    pub async fn launch_again(&self) -> anyhow::Result<ExitStatus> {
        let mut second = Command::new(binaries::desktop_app()?);
        second
            .args(&self.args)
            .envs(self.env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(self.home.path().join("second-launch.log"))?);
        let mut second = crate::process::in_own_group(&mut second).spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = second.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                crate::process::kill_group(&mut second);
                anyhow::bail!("the second launch did not exit within 20 s: it opened a second app");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The app's log file contents (the daily file in the platform log folder).
    pub fn log_text(&self) -> anyhow::Result<String> {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.home.desktop_log_dir())? {
            text.push_str(&std::fs::read_to_string(entry?.path())?);
        }
        Ok(text)
    }

    /// The ends of the driver's and the app's logs, for a failure message: what CI shows of a
    /// failed run is all there is to go on.
    pub fn diagnostics(&self) -> String {
        diagnostics_of(self.home.path())
    }

    /// `error`, the answer to `command`, told in full with the logs as they are now.
    pub fn failed(&self, command: impl Into<String>, error: CmdError) -> anyhow::Error {
        anyhow::Error::new(WebDriverFailure {
            command: command.into(),
            error,
            logs: self.diagnostics(),
        })
    }

    /// Ends the WebDriver session (which ends the app) and tauri-driver; returns the home so a
    /// test can start the app again on the same files.
    pub async fn close(mut self) -> anyhow::Result<TestHome> {
        if let Some(client) = self.client.take() {
            match tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await {
                Ok(closed) => closed.map_err(|error| self.failed("close the session", error))?,
                Err(_) => {
                    let running = crate::process::describe_group(self.driver.id());
                    let diagnostics = self.diagnostics();
                    self.stop_driver();
                    anyhow::bail!(
                        "closing the session did not end the app within {CLOSE_TIMEOUT:?}; \
                         still running:\n{running}\n{diagnostics}"
                    );
                }
            }
        }
        self.stop_driver();
        let home = std::mem::replace(&mut self.home, TestHome::new()?);
        Ok(home)
    }

    fn stop_driver(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            crate::process::kill_group(&mut self.driver);
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

/// Launches the app with `launch` and sizes its window to `width` × `height`. WebKitWebDriver
/// under Xvfb (no window manager) now and then never answers a resize: such a launch is ended
/// (dropping it stops its driver and app) and made again, up to [`RESIZE_LAUNCHES`] times.
pub async fn launch_resized<F, Fut>(launch: F, width: u32, height: u32) -> anyhow::Result<Desktop>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Desktop>>,
{
    for attempt in 1..=RESIZE_LAUNCHES {
        let app = launch().await?;
        match tokio::time::timeout(RESIZE_WAIT, app.client().set_window_size(width, height)).await {
            Ok(resized) => {
                resized.map_err(|error| {
                    app.failed(format!("resize the window to {width}×{height}"), error)
                })?;
                return Ok(app);
            }
            Err(_) => eprintln!(
                "no answer to the window resize in {} s (launch {attempt}); launching again",
                RESIZE_WAIT.as_secs()
            ),
        }
    }
    anyhow::bail!("the window resize never answered in {RESIZE_LAUNCHES} launches")
}

const RESIZE_WAIT: Duration = Duration::from_secs(20);
pub const RESIZE_LAUNCHES: u32 = 3;

/// Starts tauri-driver on free ports and opens a WebDriver session through it; on failure the
/// driver's process group is ended.
async fn start_driver(
    tauri_driver: &std::path::Path,
    native_driver: &std::path::Path,
    home: &TestHome,
    env: &[(String, OsString)],
    capabilities: &serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<(Child, crate::process::GroupRecord, Client)> {
    let port = net::free_port()?;
    let native_port = net::free_port()?;
    let log = File::options()
        .create(true)
        .append(true)
        .open(driver_log_path(home))?;
    let mut driver = Command::new(tauri_driver);
    driver
        .arg("--port")
        .arg(port.to_string())
        .arg("--native-port")
        .arg(native_port.to_string())
        .arg("--native-driver")
        .arg(native_driver)
        .envs(env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // Its own process group, so ending it also ends WebKitWebDriver and the app.
    let mut driver = crate::process::in_own_group(&mut driver)
        .spawn()
        .context("starting tauri-driver")?;
    let group = crate::process::record_group(&driver)?;
    let connected = async {
        // tauri-driver listens at once but starts WebKitWebDriver beside it, and forwards the
        // new-session request straight to it: sent before WebKitWebDriver listens, it fails
        // with "connection refused" (seen often under load). Wait for both.
        net::wait_for_port(port, Duration::from_secs(20)).await?;
        net::wait_for_port(native_port, Duration::from_secs(20))
            .await
            .context("WebKitWebDriver did not start listening")?;
        // WebKitWebDriver also picks a port for the app's inspector server by binding and
        // releasing it; if another process takes it in between, the session can stall rather
        // than fail, so an attempt is bounded.
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities.clone());
        let address = format!("http://127.0.0.1:{port}");
        tokio::time::timeout(SESSION_TIMEOUT, builder.connect(&address))
            .await
            .map_err(|_| anyhow::anyhow!("no session within {SESSION_TIMEOUT:?}"))?
            .map_err(anyhow::Error::from)
    }
    .await;
    match connected {
        Ok(client) => Ok((driver, group, client)),
        Err(error) => {
            crate::process::kill_group(&mut driver);
            Err(error.context(format!(
                "starting the app through tauri-driver on port {port}\n{}",
                driver_log_tail(home.path())
            )))
        }
    }
}

/// A WebDriver command that failed, told in full: what was asked, the error code and the status
/// the spec gives it, the message, and any stack trace or data. WebKitWebDriver often answers with
/// an empty message (an automation error with no details, such as a node that is gone), which
/// fantoccini shows as a bare "webdriver returned error: ": the code and the command say what
/// happened.
#[derive(Debug)]
pub struct WebDriverFailure {
    /// What the harness asked, in words (`click "[data-testid=sign-in]"`).
    pub command: String,
    pub error: CmdError,
    /// The ends of the driver's and the app's logs when it failed.
    logs: String,
}

impl std::fmt::Display for WebDriverFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let command = &self.command;
        match &self.error {
            CmdError::Standard(answer) => {
                write!(
                    f,
                    "WebDriver: {command}: error {:?} (status {}), message {:?}",
                    answer.error(),
                    answer.http_status(),
                    answer.message
                )?;
                if !answer.stacktrace.is_empty() {
                    write!(f, ", stack trace {:?}", answer.stacktrace)?;
                }
                if let Some(data) = &answer.data {
                    write!(f, ", data {data}")?;
                }
            }
            CmdError::NotW3C(answer) => write!(
                f,
                "WebDriver: {command}: an answer outside the protocol: {answer}"
            )?,
            CmdError::NotJson(body) => write!(
                f,
                "WebDriver: {command}: an answer that is not JSON: {body:?}"
            )?,
            other => write!(f, "WebDriver: {command}: {other}")?,
        }
        if !self.logs.is_empty() {
            write!(f, "\n{}", self.logs)?;
        }
        Ok(())
    }
}

impl std::error::Error for WebDriverFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// An element that was replaced between finding it and using it: the UI draws the whole screen
/// again for each new state. The WebDriver spec's "stale element reference" (the element is no
/// longer connected to the document) is the one error on a found element that finding it again
/// cures. It is told by its code: WebKitWebDriver sends it with an empty message. Some answers
/// word it in the message instead.
fn is_stale(error: &CmdError) -> bool {
    if error.is_stale_element_reference() {
        return true;
    }
    let text = error.to_string();
    text.contains("stale element") || text.contains("was not found")
}

fn driver_log_path(home: &TestHome) -> std::path::PathBuf {
    home.path().join(DRIVER_LOG)
}

const DRIVER_LOG: &str = "tauri-driver.log";

/// The end of tauri-driver's log, which also holds WebKitWebDriver's and the app's own output.
fn driver_log_tail(home: &Path) -> String {
    let tail = std::fs::read(home.join(DRIVER_LOG))
        .map(|bytes| last_lines(&String::from_utf8_lossy(&bytes), LOG_TAIL_LINES))
        .unwrap_or_else(|error| format!("(unreadable: {error})"));
    format!("--- tauri-driver log (last lines) ---\n{tail}")
}

/// The ends of the driver's and the app's logs in the home at `home`.
fn diagnostics_of(home: &Path) -> String {
    let app_log = std::fs::read_dir(TestHome::desktop_log_dir_in(home))
        .and_then(|entries| {
            let mut text = String::new();
            for entry in entries {
                text.push_str(&std::fs::read_to_string(entry?.path())?);
            }
            Ok(text)
        })
        .map(|text| last_lines(&text, LOG_TAIL_LINES))
        .unwrap_or_else(|error| format!("(unreadable: {error})"));
    format!(
        "{}\n--- app log (last lines) ---\n{app_log}",
        driver_log_tail(home)
    )
}

/// Ends a launched app that runs past [`WATCHDOG`], first printing what was running and the
/// logs: a test stuck in a WebDriver call then fails at once, with that on record, instead of
/// being killed silently with its app left running.
#[derive(Debug)]
struct Watchdog {
    stop: Option<std::sync::mpsc::Sender<()>>,
}

impl Watchdog {
    fn start(group: u32, home: PathBuf) -> Self {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(WATCHDOG)
            {
                eprintln!(
                    "desktop: the app has run for {WATCHDOG:?}; ending it. Still running:\n{}\n{}",
                    crate::process::describe_group(group),
                    diagnostics_of(&home)
                );
                crate::process::kill_group_id(&group.to_string());
            }
        });
        Self { stop: Some(stop) }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

fn full_env(home: &TestHome, extra: Vec<(String, OsString)>) -> Vec<(String, OsString)> {
    let mut env: Vec<(String, OsString)> = home
        .env()
        .into_iter()
        .map(|(key, value)| (key.to_owned(), OsString::from(value)))
        .collect();
    env.push((
        "CAREID_KEYCHAIN_SERVICE".into(),
        home.keychain_service().into(),
    ));
    env.extend(extra);
    env
}

#[cfg(test)]
mod tests {
    use fantoccini::error::{CmdError, ErrorStatus, WebDriver};

    use super::{is_stale, WebDriverFailure};

    fn answer(code: ErrorStatus, message: &'static str) -> CmdError {
        CmdError::Standard(WebDriver::new(code, message))
    }

    #[test]
    fn an_error_with_an_empty_message_is_told_by_its_command_code_and_status() {
        let failure = WebDriverFailure {
            command: "click \"[data-testid=profiles-link]\"".into(),
            error: answer(ErrorStatus::StaleElementReference, ""),
            logs: String::new(),
        };
        assert_eq!(
            failure.to_string(),
            "WebDriver: click \"[data-testid=profiles-link]\": error \"stale element reference\" \
             (status 404 Not Found), message \"\""
        );
    }

    #[test]
    fn only_a_replaced_element_is_found_again() {
        let cases = [
            (answer(ErrorStatus::StaleElementReference, ""), true),
            (
                answer(ErrorStatus::UnknownError, "stale element reference"),
                true,
            ),
            (answer(ErrorStatus::NoSuchElement, ""), false),
            (answer(ErrorStatus::ElementNotInteractable, ""), false),
            (answer(ErrorStatus::JavascriptError, "boom"), false),
            (answer(ErrorStatus::InvalidSessionId, ""), false),
        ];
        for (error, stale) in cases {
            assert_eq!(is_stale(&error), stale, "{error:?}");
        }
    }
}
