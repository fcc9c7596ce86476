//! The built-in mock provider, one per user rather than one per process, and one that outlives
//! whichever process started it.
//!
//! A mock provider holds live state: grants, rotated refresh tokens and the reuse detection that
//! revokes a grant whose old refresh token comes back. Two processes each running a mock from a
//! state file read once would drift apart, and one could revoke the other's live session. So the
//! first careid process that needs the mock (the app, or a CLI command) serves it, on a thread
//! of its own, and records its address in the state folder (`mock-provider.run.json`, under the
//! `mock-provider.lock` file lock); every other process connects to that one.
//!
//! The hand-over: a process that serves the mock and ends takes the lock, stops listening,
//! finishes the requests under way (each writes the state file, `mock-provider.json`, before it
//! answers), and only then lets the lock go. A request to the mock that then finds nobody there
//! ([`MockHost::take_over`], the [`Revival`] every mock connection's HTTP client has) takes the
//! lock, serves the mock in its own process on the same port from that state file, so the
//! issuer, grants and sessions carry on, and is sent once more. Whoever of several got the lock
//! first serves it; the others find it answering. A port another program has taken meanwhile is
//! a clear error ([`SharedMockError::PortTaken`]), never a move to another issuer.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use careid_core::http::{HttpClient, Revival};
use careid_core::runs::{Case, MockSignIn};
use careid_core::IssuerUrl;
use mock_cis2::{AutoLogin, ClientRegistry, MockCis2, RunningMock};
use serde::{Deserialize, Serialize};

/// The record of the running mock, beside its state file.
const RECORD_FILE: &str = "mock-provider.run.json";
/// Held while a process reads the record and, if need be, starts the mock and writes it.
const LOCK_FILE: &str = "mock-provider.lock";
/// The mock's own state: keys, grants, tokens, SSO sessions.
const STATE_FILE: &str = "mock-provider.json";

/// How long a running mock may take to answer its discovery document before it is taken for
/// gone: it is on loopback, so a live one answers in milliseconds.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait for another process that is starting the mock, or handing it over.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a process that ends waits for the mock's requests under way to finish; well
/// within [`LOCK_TIMEOUT`], so the process taking over is still waiting.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the user's mock provider could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SharedMockError {
    #[error("the built-in mock provider did not start: {0}")]
    Start(#[from] mock_cis2::StartError),
    #[error(
        "the built-in mock provider's port {port} is in use by another program, so its issuer \
         {issuer} cannot be served again; stop that program, or delete {state_file} to start the \
         mock afresh on another port (its sessions end)"
    )]
    PortTaken {
        port: u16,
        issuer: String,
        state_file: PathBuf,
    },
    #[error(
        "the built-in mock provider came back at {now}, not {was}: its state was lost, so its \
         sessions are gone; sign in again"
    )]
    Moved { was: String, now: String },
    #[error("the built-in mock provider's thread could not run: {0}")]
    Thread(String),
    #[error("cannot keep the built-in mock provider's record in {path}: {source}")]
    Record {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another careid process took more than {0:?} to start the built-in mock provider")]
    LockTimeout(Duration),
    #[error("the built-in mock provider (pid {pid}) could not change its auto-login: {detail}")]
    AutoLoginRefused {
        pid: u32,
        detail: String,
        /// Refused for what was asked (an unknown user, authenticator or role), not a fault.
        usage: bool,
    },
    #[error(
        "the built-in mock provider is already running in another careid process (pid {pid}) \
         {running}; it cannot also sign {requested} in without a page"
    )]
    AutoLoginMismatch {
        pid: u32,
        running: String,
        requested: String,
    },
}

impl SharedMockError {
    pub fn code(&self) -> &'static str {
        match self {
            SharedMockError::Start(_) | SharedMockError::Thread(_) => "mock_start_failed",
            SharedMockError::PortTaken { .. } => "mock_port_taken",
            SharedMockError::Moved { .. } => "mock_moved",
            SharedMockError::Record { .. } => "mock_record_failed",
            SharedMockError::LockTimeout(_) => "mock_lock_timeout",
            SharedMockError::AutoLoginMismatch { .. } => "mock_auto_login_mismatch",
            SharedMockError::AutoLoginRefused { .. } => "mock_auto_login_refused",
        }
    }

    /// A usage error (a request the running mock cannot honour), as opposed to a failure.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            SharedMockError::AutoLoginMismatch { .. }
                | SharedMockError::AutoLoginRefused { usage: true, .. }
                | SharedMockError::Start(
                    mock_cis2::StartError::AutoLogin(_)
                        | mock_cis2::StartError::Data(_)
                        | mock_cis2::StartError::InvalidIssuer { .. }
                )
        )
    }
}

/// What the record says about the running mock. Nothing secret: the mock's address and the
/// process that serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    pid: u32,
    issuer: String,
    /// The auto-login it was started with (`USER[:AUTHENTICATOR[:ROLE]]`), if any.
    auto_login: Option<String>,
}

/// The user's mock provider as one process sees it: served here, or by another process.
#[derive(Debug, Clone)]
pub struct SharedMock {
    issuer: IssuerUrl,
    pid: u32,
    /// Set when this process serves it (its [`MockHost`] keeps it running).
    hosted: Option<Arc<RunningMock>>,
}

impl SharedMock {
    pub fn issuer(&self) -> &IssuerUrl {
        &self.issuer
    }

    /// The process that serves the mock.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether this process serves it.
    pub fn is_hosted_here(&self) -> bool {
        self.hosted.is_some()
    }

    /// The running mock, when this process serves it (tests arm faults through it).
    pub fn running(&self) -> Option<&RunningMock> {
        self.hosted.as_deref()
    }

    /// Signs `auto_login` in without a page from the next sign-in on (`None`: the sign-in pages
    /// again), whichever process serves the mock: through its admin endpoint when another does.
    /// Returns the auto-login it replaced, for the caller to put back. Every process using this
    /// mock signs in that way meanwhile: it is one provider.
    pub async fn set_auto_login(
        &self,
        http: &HttpClient,
        auto_login: Option<&AutoLogin>,
    ) -> Result<Option<AutoLogin>, SharedMockError> {
        let refused = |detail: String, usage: bool| SharedMockError::AutoLoginRefused {
            pid: self.pid,
            detail,
            usage,
        };
        if let Some(running) = &self.hosted {
            return running
                .set_auto_login(auto_login.cloned())
                .map_err(|error| refused(error.to_string(), true));
        }
        #[derive(Deserialize)]
        struct Setting {
            auto_login: Option<String>,
        }
        let url = format!(
            "{}/admin/auto-login",
            self.issuer.as_str().trim_end_matches('/')
        );
        let read = |response: &careid_core::http::HttpResponse| -> Result<Option<AutoLogin>, SharedMockError> {
            let setting: Setting = response
                .json()
                .map_err(|error| refused(error.to_string(), false))?;
            setting
                .auto_login
                .map(|text| text.parse::<AutoLogin>())
                .transpose()
                .map_err(|problem| refused(format!("it answered an auto-login that {problem}"), false))
        };
        let before = http
            .get(&url, "application/json")
            .await
            .map_err(|error| refused(error.to_string(), false))?;
        if !before.is_success() {
            return Err(refused(
                format!("its admin endpoint answered {}", before.status),
                false,
            ));
        }
        let previous = read(&before)?;
        let body = serde_json::json!({ "auto_login": auto_login.map(ToString::to_string) });
        let after = http
            .put_json(&url, &body, "application/json")
            .await
            .map_err(|error| refused(error.to_string(), false))?;
        if !after.is_success() {
            let detail = careid_core::oauth_error(&after).map_or_else(
                || format!("its admin endpoint answered {}", after.status),
                |error| error.error_description.unwrap_or(error.error),
            );
            return Err(refused(detail, after.status == 400));
        }
        Ok(previous)
    }

    /// For a run's case on this mock (a plan with `[mock] user`): signs the plan's user in
    /// without a page with the case's authenticator, and the plan's role on CIS2's picker.
    /// Returns the auto-login it replaced, as [`Self::set_auto_login`] does.
    pub async fn sign_in_case(
        &self,
        http: &HttpClient,
        sign_in: &MockSignIn,
        case: &Case,
    ) -> Result<Option<AutoLogin>, SharedMockError> {
        let auto_login = AutoLogin {
            user_id: sign_in.user.clone(),
            authenticator: Some(case.authenticator.name().parse().map_err(
                |error: mock_cis2::UnknownAuthenticator| SharedMockError::AutoLoginRefused {
                    pid: self.pid,
                    detail: error.to_string(),
                    usage: true,
                },
            )?),
            role_id: sign_in.role.clone(),
            changed_role_id: None,
        };
        self.set_auto_login(http, Some(&auto_login)).await
    }

    /// The registered test client's secret. The mock's clients are its built-in registry
    /// whichever process serves it (only `careid mock serve` takes another, and it keeps no
    /// record), and their secrets are public test values.
    pub fn client_secret(&self, client_id: &str) -> Option<String> {
        match &self.hosted {
            Some(running) => running.clients().get(client_id)?.client_secret.clone(),
            None => ClientRegistry::builtin()
                .get(client_id)?
                .client_secret
                .clone(),
        }
    }
}

/// Finds, starts or takes over the user's mock provider; holds the one this process serves, and
/// hands it over when dropped.
#[derive(Debug)]
pub struct MockHost {
    state_dir: PathBuf,
    hosted: tokio::sync::Mutex<Option<Hosted>>,
}

impl MockHost {
    pub fn new(state_dir: PathBuf) -> Self {
        Self {
            state_dir,
            hosted: tokio::sync::Mutex::new(None),
        }
    }

    /// The user's mock: the one this process serves, the one another careid process serves
    /// (if it still answers), or a new one served here.
    pub async fn resolve(
        &self,
        http: &HttpClient,
        auto_login: Option<&AutoLogin>,
    ) -> Result<SharedMock, SharedMockError> {
        let mut hosted = self.hosted.lock().await;
        let requested = auto_login.map(ToString::to_string);
        if let Some(here) = hosted.as_ref() {
            check_auto_login(std::process::id(), &here.auto_login, &requested)?;
            return Ok(here.shared());
        }
        let _lock = self.lock_record().await?;
        if let Some((issuer, record)) = self.live_record(http).await {
            check_auto_login(record.pid, &record.auto_login, &requested)?;
            return Ok(SharedMock {
                issuer,
                pid: record.pid,
                hosted: None,
            });
        }
        self.serve_here(&mut hosted, auto_login).await
    }

    /// A request to the mock at `gone` found nobody there: the process that served it has
    /// ended. Serves it here, on the same port from its state file and with the auto-login it
    /// had, unless another process has taken it over meanwhile. `Ok` when the mock answers at
    /// `gone` again.
    pub async fn take_over(
        &self,
        http: &HttpClient,
        gone: &IssuerUrl,
    ) -> Result<(), SharedMockError> {
        let mut hosted = self.hosted.lock().await;
        let shared = match hosted.as_ref() {
            Some(here) => here.shared(),
            None => {
                let _lock = self.lock_record().await?;
                let recorded = read_record(&self.state_dir.join(RECORD_FILE));
                match self.live_record(http).await {
                    Some((issuer, record)) => SharedMock {
                        issuer,
                        pid: record.pid,
                        hosted: None,
                    },
                    None => {
                        // The mock as it was: a sign-in under way with an auto-login carries on.
                        let auto_login = recorded
                            .and_then(|record| record.auto_login)
                            .and_then(|text| text.parse::<AutoLogin>().ok());
                        let shared = self.serve_here(&mut hosted, auto_login.as_ref()).await?;
                        tracing::info!(issuer = %shared.issuer.as_str(), "took over the built-in mock provider from a careid process that ended");
                        shared
                    }
                }
            }
        };
        if shared.issuer.matches(gone.as_str()) {
            Ok(())
        } else {
            Err(SharedMockError::Moved {
                was: gone.as_str().to_owned(),
                now: shared.issuer.as_str().to_owned(),
            })
        }
    }

    /// What a connection to the mock at `issuer` does when a request finds nobody there:
    /// [`Self::take_over`], then the request once more.
    pub fn revival(self: &Arc<Self>, http: &HttpClient, issuer: &IssuerUrl) -> Revival {
        let (host, http, gone) = (Arc::clone(self), http.clone(), issuer.clone());
        Revival::new(issuer.as_str(), move || {
            let (host, http, gone) = (Arc::clone(&host), http.clone(), gone.clone());
            async move {
                host.take_over(&http, &gone)
                    .await
                    .map_err(|error| error.to_string())
            }
        })
        .expect("the mock's issuer is an http URL")
    }

    /// The recorded mock, if it answers (from this process or another).
    async fn live_record(&self, http: &HttpClient) -> Option<(IssuerUrl, Record)> {
        // A record naming no issuer is damaged, and replaced like one whose mock is gone.
        let record = read_record(&self.state_dir.join(RECORD_FILE))?;
        let issuer = IssuerUrl::new(record.issuer.as_str()).ok()?;
        answers(http, &issuer).await.then_some((issuer, record))
    }

    /// Starts the mock in this process from its state file (on its last port, if it had one)
    /// and records it. Called with the record's lock held.
    async fn serve_here(
        &self,
        hosted: &mut Option<Hosted>,
        auto_login: Option<&AutoLogin>,
    ) -> Result<SharedMock, SharedMockError> {
        let state_file = self.state_dir.join(STATE_FILE);
        let mut mock = MockCis2::new().state_file(&state_file);
        if let Some(auto_login) = auto_login {
            mock = mock.auto_login(auto_login.clone());
        }
        let auto_login = auto_login.map(ToString::to_string);
        let here = Hosted::start(mock, auto_login.clone())
            .await
            .map_err(|error| match error {
                SharedMockError::Start(mock_cis2::StartError::PortTaken { port }) => {
                    SharedMockError::PortTaken {
                        port,
                        issuer: format!("http://127.0.0.1:{port}"),
                        state_file,
                    }
                }
                error => error,
            })?;
        let record = Record {
            pid: std::process::id(),
            issuer: here.running.issuer().to_owned(),
            auto_login,
        };
        write_record(&self.state_dir.join(RECORD_FILE), &record)?;
        tracing::info!(issuer = %record.issuer, "serving the built-in mock provider for this user");
        let shared = here.shared();
        *hosted = Some(here);
        Ok(shared)
    }

    async fn lock_record(&self) -> Result<File, SharedMockError> {
        let state_dir = self.state_dir.clone();
        tokio::task::spawn_blocking(move || lock_record(&state_dir))
            .await
            .map_err(|error| SharedMockError::Thread(error.to_string()))?
    }
}

impl Drop for MockHost {
    /// The hand-over: the mock served here stops under the record's lock, after the requests
    /// under way are answered and its state written, so whoever takes it over next carries on
    /// from exactly that state. (A crash skips this; the next request then finds the port
    /// closed and takes over from the state last written.) The record stays: its issuer is
    /// where the mock is found again.
    fn drop(&mut self) {
        let Some(mut here) = self.hosted.get_mut().take() else {
            return;
        };
        let lock = lock_record(&self.state_dir);
        if let Err(error) = &lock {
            tracing::warn!(%error, "handing the built-in mock provider over without its lock");
        }
        here.stop();
        drop(lock);
    }
}

/// The mock served by this process, on a thread with a runtime of its own: it outlives the
/// runtime of the command that started it, and stops only when handed over.
#[derive(Debug)]
struct Hosted {
    running: Arc<RunningMock>,
    /// The auto-login it was started with (`USER[:AUTHENTICATOR[:ROLE]]`), if any.
    auto_login: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: std::sync::mpsc::Receiver<()>,
}

impl Hosted {
    async fn start(mock: MockCis2, auto_login: Option<String>) -> Result<Self, SharedMockError> {
        let (ready, started) = tokio::sync::oneshot::channel();
        let (stop, stop_asked) = tokio::sync::oneshot::channel::<()>();
        let (done, stopped) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("careid-mock".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready.send(Err(SharedMockError::Thread(error.to_string())));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let running = match mock.start().await {
                        Ok(running) => Arc::new(running),
                        Err(error) => {
                            let _ = ready.send(Err(error.into()));
                            return;
                        }
                    };
                    if ready.send(Ok(Arc::clone(&running))).is_ok() {
                        // Asked, or the handle dropped.
                        let _ = stop_asked.await;
                    }
                    running.stop().await;
                });
                let _ = done.send(());
            })
            .map_err(|error| SharedMockError::Thread(error.to_string()))?;
        let running = started
            .await
            .map_err(|_| SharedMockError::Thread("it ended before the mock started".into()))??;
        Ok(Self {
            running,
            auto_login,
            stop: Some(stop),
            stopped,
        })
    }

    fn shared(&self) -> SharedMock {
        SharedMock {
            issuer: issuer_of(&self.running),
            pid: std::process::id(),
            hosted: Some(Arc::clone(&self.running)),
        }
    }

    /// Stops listening, lets the requests under way finish (for at most [`DRAIN_TIMEOUT`]) and
    /// writes the state.
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if self.stopped.recv_timeout(DRAIN_TIMEOUT).is_err() {
            tracing::warn!(
                "the built-in mock provider's requests under way did not finish in time"
            );
        }
    }
}

/// A process asking for an auto-login the running mock was not started with cannot have it:
/// the mock signs everyone in the same way, and changing that under another process would
/// change its sign-ins too.
fn check_auto_login(
    pid: u32,
    running: &Option<String>,
    requested: &Option<String>,
) -> Result<(), SharedMockError> {
    match requested {
        Some(wanted) if running.as_ref() != Some(wanted) => {
            Err(SharedMockError::AutoLoginMismatch {
                pid,
                running: match running {
                    Some(user) => format!("signing {user} in without a page"),
                    None => "with its sign-in pages".into(),
                },
                requested: wanted.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// Whether a mock answers at `issuer` with that very issuer: the process may have ended, and
/// another program may have the port now.
async fn answers(http: &HttpClient, issuer: &IssuerUrl) -> bool {
    #[derive(Deserialize)]
    struct Discovery {
        issuer: String,
    }
    let url = careid_core::discovery_url(issuer);
    match tokio::time::timeout(PROBE_TIMEOUT, http.get(&url, "application/json")).await {
        Ok(Ok(response)) if response.is_success() => response
            .json::<Discovery>()
            .is_ok_and(|document| issuer.matches(&document.issuer)),
        _ => false,
    }
}

/// The issuer of a mock served here: always `http://127.0.0.1:PORT`, as `MockCis2` starts it.
fn issuer_of(running: &RunningMock) -> IssuerUrl {
    IssuerUrl::new(running.issuer()).expect("the mock serves http on 127.0.0.1")
}

fn lock_record(state_dir: &Path) -> Result<File, SharedMockError> {
    let path = state_dir.join(LOCK_FILE);
    careid_core::files::lock_file(&path, LOCK_TIMEOUT)
        .map_err(|source| SharedMockError::Record { path, source })?
        .ok_or(SharedMockError::LockTimeout(LOCK_TIMEOUT))
}

/// The record, or `None` when there is none or it cannot be read (it is then replaced).
fn read_record(path: &Path) -> Option<Record> {
    let bytes = fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Written the one way careid writes files: a reader never sees half a record.
fn write_record(path: &Path, record: &Record) -> Result<(), SharedMockError> {
    let record_error = |source| SharedMockError::Record {
        path: path.to_owned(),
        source,
    };
    let text = serde_json::to_vec_pretty(record)
        .map_err(std::io::Error::other)
        .map_err(record_error)?;
    careid_core::files::write_atomically(path, &text).map_err(record_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use careid_core::http::HttpSettings;

    fn http() -> HttpClient {
        HttpClient::new(HttpSettings::default()).expect("http client")
    }

    fn record_at(dir: &Path) -> Option<Record> {
        read_record(&dir.join(RECORD_FILE))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_first_process_serves_the_mock_and_records_it() {
        let dir = tempfile::tempdir().unwrap();
        let host = MockHost::new(dir.path().to_owned());
        let first = host.resolve(&http(), None).await.unwrap();
        assert!(first.is_hosted_here());
        let record = record_at(dir.path()).expect("recorded");
        assert_eq!(record.pid, std::process::id());
        assert_eq!(record.issuer, first.issuer().as_str());
        let again = host.resolve(&http(), None).await.unwrap();
        assert_eq!(again.issuer(), first.issuer(), "one mock per process too");
        assert!(first.client_secret("555000000001.apps.local").is_some());
        let issuer = first.issuer().clone();
        drop((first, again));
        drop(host);
        assert_eq!(
            record_at(dir.path()).map(|record| record.issuer),
            Some(issuer.as_str().to_owned()),
            "the record stays: its issuer is where the mock is found again"
        );
        assert!(!answers(&http(), &issuer).await, "handed over: stopped");
    }

    /// Another process's view of the user's mock: its own host, and an HTTP client that takes
    /// the mock over when it finds it gone.
    async fn other_process(dir: &Path, issuer: &IssuerUrl) -> (Arc<MockHost>, HttpClient) {
        let host = Arc::new(MockHost::new(dir.to_owned()));
        let http = http().reviving(host.revival(&http(), issuer));
        (host, http)
    }

    async fn discovery_issuer(http: &HttpClient, issuer: &IssuerUrl) -> Result<String, String> {
        let response = http
            .get(&careid_core::discovery_url(issuer), "application/json")
            .await
            .map_err(|error| error.to_string())?;
        assert!(response.is_success(), "{}", response.status);
        let document: serde_json::Value = response.json().map_err(|error| error.to_string())?;
        Ok(document["issuer"].as_str().unwrap_or_default().to_owned())
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_request_that_finds_the_mock_gone_takes_it_over_on_the_same_port_and_is_sent_again() {
        let dir = tempfile::tempdir().unwrap();
        let first = MockHost::new(dir.path().to_owned());
        let served = first.resolve(&http(), None).await.unwrap();
        let issuer = served.issuer().clone();
        let keys = served.running().unwrap().jwks();
        let (second, second_http) = other_process(dir.path(), &issuer).await;
        let (third, third_http) = other_process(dir.path(), &issuer).await;
        assert!(!second
            .resolve(&http(), None)
            .await
            .unwrap()
            .is_hosted_here());
        drop(served);
        drop(first); // the process that served it ends

        // Both find it gone at once: one takes it over, the other finds it answering again.
        let (from_second, from_third) = tokio::join!(
            discovery_issuer(&second_http, &issuer),
            discovery_issuer(&third_http, &issuer)
        );
        assert_eq!(from_second.as_deref(), Ok(issuer.as_str()));
        assert_eq!(from_third.as_deref(), Ok(issuer.as_str()));
        let now = [
            second.resolve(&http(), None).await.unwrap(),
            third.resolve(&http(), None).await.unwrap(),
        ];
        assert_eq!(
            now.iter().filter(|mock| mock.is_hosted_here()).count(),
            1,
            "served by one of them"
        );
        let serving = now.iter().find(|mock| mock.is_hosted_here()).unwrap();
        assert_eq!(
            serving.issuer(),
            &issuer,
            "the same port, so the same issuer"
        );
        assert_eq!(
            serving.running().unwrap().jwks(),
            keys,
            "reloaded from the state file"
        );
        assert_eq!(record_at(dir.path()).unwrap().issuer, issuer.as_str());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_process_that_ends_answers_the_requests_under_way_before_it_hands_over() {
        let dir = tempfile::tempdir().unwrap();
        let first = MockHost::new(dir.path().to_owned());
        let served = first.resolve(&http(), None).await.unwrap();
        let issuer = served.issuer().clone();
        served
            .running()
            .unwrap()
            .arm_fault("slow_endpoint@discovery=1000".parse().unwrap(), Some(1));
        let (_second, second_http) = other_process(dir.path(), &issuer).await;
        let under_way = tokio::spawn({
            let (http, issuer) = (second_http.clone(), issuer.clone());
            async move { discovery_issuer(&http, &issuer).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await; // the request is under way
        let started = std::time::Instant::now();
        drop(served);
        tokio::task::spawn_blocking(move || drop(first))
            .await
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(500),
            "the hand-over waited for the request"
        );
        assert_eq!(
            under_way.await.unwrap().as_deref(),
            Ok(issuer.as_str()),
            "answered, not cut off"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_port_another_program_took_meanwhile_is_a_clear_error_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = MockHost::new(dir.path().to_owned());
        let served = first.resolve(&http(), None).await.unwrap();
        let (issuer, port) = (served.issuer().clone(), served.running().unwrap().port());
        drop((served, first));
        // Another program: it takes connections and never answers.
        let _taken = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();

        let second = MockHost::new(dir.path().to_owned());
        let started = std::time::Instant::now();
        let refused = second.resolve(&http(), None).await.unwrap_err();
        assert_eq!(refused.code(), "mock_port_taken", "{refused}");
        let message = refused.to_string();
        assert!(message.contains(&port.to_string()), "{message}");
        assert!(message.contains(STATE_FILE), "the way out: {message}");
        let refused = second.take_over(&http(), &issuer).await.unwrap_err();
        assert_eq!(refused.code(), "mock_port_taken", "{refused}");
        assert!(
            started.elapsed() < PROBE_TIMEOUT * 3,
            "no hang: {:?}",
            started.elapsed()
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn another_process_mock_that_answers_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let running = MockCis2::new().start().await.unwrap();
        let other = Record {
            pid: std::process::id().wrapping_add(1),
            issuer: running.issuer().to_owned(),
            auto_login: None,
        };
        write_record(&dir.path().join(RECORD_FILE), &other).unwrap();
        let host = MockHost::new(dir.path().to_owned());
        let shared = host.resolve(&http(), None).await.unwrap();
        assert!(!shared.is_hosted_here());
        assert_eq!(shared.issuer().as_str(), running.issuer());
        assert_eq!(shared.pid(), other.pid);
        assert_eq!(
            shared.client_secret("555000000001.apps.local"),
            running
                .clients()
                .get("555000000001.apps.local")
                .and_then(|client| client.client_secret.clone()),
            "the same registry whichever process serves it"
        );

        // It signs people in with its pages: it cannot also sign a test user in without one.
        let auto_login: AutoLogin = "555057896106".parse().unwrap();
        let refused = host.resolve(&http(), Some(&auto_login)).await.unwrap_err();
        assert_eq!(refused.code(), "mock_auto_login_mismatch");
        assert!(refused.is_usage());
        assert!(refused.to_string().contains("555057896106"), "{refused}");
        drop(host);
        assert_eq!(record_at(dir.path()), Some(other), "not ours to remove");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn auto_login_is_changed_on_the_mock_whichever_process_serves_it() {
        let nurse: AutoLogin = "555057896106:smartcard".parse().unwrap();
        let app_user: AutoLogin = "555057930104:authenticator_app".parse().unwrap();
        let unknown: AutoLogin = "999999999999".parse().unwrap();

        // Served here: changed on the running mock itself.
        let dir = tempfile::tempdir().unwrap();
        let host = MockHost::new(dir.path().to_owned());
        let here = host.resolve(&http(), None).await.unwrap();
        assert_eq!(
            here.set_auto_login(&http(), Some(&nurse)).await.unwrap(),
            None
        );
        assert_eq!(here.running().unwrap().auto_login(), Some(nurse.clone()));
        assert_eq!(
            here.set_auto_login(&http(), None).await.unwrap(),
            Some(nurse.clone())
        );
        // A run's case: the plan's user and role, the case's authenticator.
        let plan = careid_core::runs::Plan::parse(
            "name = \"p\"\nprofile = \"mock\"\n[mock]\nuser = \"555057900101\"\n\
             role = \"555057900303\"\n[matrix]\nauthenticator = [\"security_key\"]\n",
            "p.toml",
        )
        .unwrap();
        let sign_in = plan.mock.as_ref().unwrap();
        here.sign_in_case(&http(), sign_in, &plan.cases[0])
            .await
            .unwrap();
        assert_eq!(
            here.running()
                .unwrap()
                .auto_login()
                .map(|auto| auto.to_string()),
            Some("555057900101:security_key:555057900303".to_owned())
        );

        // Served by another process: through its admin endpoint.
        let running = MockCis2::new().start().await.unwrap();
        let other = tempfile::tempdir().unwrap();
        let record = Record {
            pid: std::process::id().wrapping_add(1),
            issuer: running.issuer().to_owned(),
            auto_login: None,
        };
        write_record(&other.path().join(RECORD_FILE), &record).unwrap();
        let host = MockHost::new(other.path().to_owned());
        let there = host.resolve(&http(), None).await.unwrap();
        assert!(!there.is_hosted_here());
        assert_eq!(
            there
                .set_auto_login(&http(), Some(&app_user))
                .await
                .unwrap(),
            None
        );
        assert_eq!(running.auto_login(), Some(app_user.clone()));
        let refused = there
            .set_auto_login(&http(), Some(&unknown))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "mock_auto_login_refused");
        assert!(refused.is_usage(), "{refused}");
        assert!(refused.to_string().contains("999999999999"), "{refused}");
        assert_eq!(running.auto_login(), Some(app_user.clone()), "unchanged");
        assert_eq!(
            there.set_auto_login(&http(), None).await.unwrap(),
            Some(app_user)
        );
        assert_eq!(running.auto_login(), None);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stale_or_foreign_record_is_replaced() {
        for stale_issuer in [
            // Nobody listens there: the process that served it has ended.
            "http://127.0.0.1:9/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare",
            // Something answers, but as another issuer: another program has the port now.
            "not even a url",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let stale = Record {
                pid: std::process::id().wrapping_add(1),
                issuer: stale_issuer.to_owned(),
                auto_login: None,
            };
            write_record(&dir.path().join(RECORD_FILE), &stale).unwrap();
            let host = MockHost::new(dir.path().to_owned());
            let shared = host.resolve(&http(), None).await.unwrap();
            assert!(shared.is_hosted_here(), "{stale_issuer}");
            assert_eq!(record_at(dir.path()).unwrap().pid, std::process::id());
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_damaged_record_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(RECORD_FILE), b"{ not json").unwrap();
        let host = MockHost::new(dir.path().to_owned());
        assert!(host.resolve(&http(), None).await.unwrap().is_hosted_here());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(RECORD_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
