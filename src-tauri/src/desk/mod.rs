//! The desk: the app's one sign-in state. It holds the profile in use, the sign-in under way,
//! the live session (its tokens stay here, in Rust) and what to tell the user, and renders all of
//! it as one [`AppState`] for the UI after every change. Commands call it. The core's watcher
//! ([`SessionWatch`](careid_core::signin::SessionWatch)) keeps the live session (refresh before
//! expiry, the limits, changes and ends made elsewhere, the broker's end) and says what happened;
//! the desk applies each [`SessionEvent`](careid_core::signin::SessionEvent)
//! ([`Desk::on_session_event`]), every end told through [`session_events`](crate::session_events).
//! A ticker records the user's activity, shows the inactivity warning (and asks for the user's
//! attention when it starts) and, from the home screen, takes up a session the CLI started.
//!
//! It knows nothing of Tauri: the window, the browser and the event are [`Hooks`], so the
//! shell's tests drive it on Tauri's mock runtime with hooks of their own.
//!
//! This file holds the state and what every use case shares (the connection, the live session
//! made from a sign-in or restore, the home screen, publishing); each use case is an `impl Desk`
//! of its own file.

mod follow;
mod profiles;
mod render;
mod restore;
mod roles;
mod runs;
mod sign_in;
mod sign_out;
mod testers;
mod ticker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use careid_core::signin::Session;
use careid_core::{RoleChoice, RoleSelection, SecretString};
use careid_host::{Connection, Host, HostError};
use mock_cis2::AutoLogin;
use tokio::sync::oneshot;

use crate::ipc::{
    AppState, CommandError, LoginOverrides, Notice, Preferences, TesterRecord, WaitingView,
};
use crate::preferences::PreferencesFile;
use crate::views;

/// How long the ticker sleeps between looks at the session.
const TICK: Duration = Duration::from_secs(1);

/// Opens a URL in the system browser; the error is in words.
pub type OpenBrowser = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// How the desk reaches the world outside Rust's own state.
pub struct Hooks {
    /// Sends the whole state to the UI.
    pub publish: Box<dyn Fn(&AppState) + Send + Sync>,
    /// Brings the window to the front (best effort: never fails a sign-in).
    pub bring_to_front: Box<dyn Fn() + Send + Sync>,
    /// The inactivity warning has started: asks the user's attention with `message` if the
    /// window is not in front (best effort).
    pub attention: Box<dyn Fn(&str) + Send + Sync>,
    /// Opens a URL in the system browser.
    pub open_browser: OpenBrowser,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").finish_non_exhaustive()
    }
}

/// Settings read once at start.
#[derive(Debug, Clone)]
pub struct DeskSettings {
    /// How long to wait for the browser to come back.
    pub sign_in_timeout: Duration,
    /// The built-in mock signs this test user in without a page (demos and tests).
    pub mock_auto_login: Option<AutoLogin>,
    /// Where the desktop's preferences live.
    pub preferences_path: PathBuf,
    /// How long a copied access token stays on the clipboard.
    pub secret_on_clipboard_for: Duration,
}

/// Where the sign-in stands.
enum Phase {
    Restoring,
    Home,
    Waiting(Waiting),
    Live(Box<Live>),
}

struct Waiting {
    view: WaitingView,
    /// The authorization URL: kept in Rust, for "copy the link".
    url: SecretString,
    /// One-time loopback links to it, what the browser is given (a new one for "open again"):
    /// a command line shows only the link.
    launch_links: Arc<careid_core::LaunchLinks>,
    cancel: Option<oneshot::Sender<()>>,
}

/// A signed-in session, in memory.
struct Live {
    session: Session,
    /// Which live session this is (each sign-in or restore is a new one): what the watcher's
    /// events are for.
    serial: u64,
    /// The role screen is up: `Some(true)` when changing the role of a working session.
    choosing: Option<bool>,
    tester: TesterRecord,
    /// The inactivity warning is showing, as last published.
    warned: bool,
}

struct Inner {
    profile: String,
    phase: Phase,
    notice: Option<Notice>,
    preferences: Preferences,
    connection: Option<Connection>,
    /// The session's state file as last seen from the home screen: when it appears or changes
    /// (the CLI signed in), the app takes the session up.
    home_seen: Option<SystemTime>,
    /// A restore that failed for want of the provider is tried again at this time.
    restore_again_at: Option<Instant>,
    /// Bumped whenever a sign-in starts or the session goes, so a late answer to an earlier
    /// request is dropped.
    generation: u64,
}

/// The desk. Shared by every command and the ticker.
pub struct Desk {
    host: Host,
    settings: DeskSettings,
    hooks: Hooks,
    inner: tokio::sync::Mutex<Inner>,
    /// The last state published, for `current_state` without waiting on a request under way.
    published: Mutex<Option<AppState>>,
    /// The last input the app's own window saw.
    window_activity: Mutex<Instant>,
    last_activity_write: Mutex<Instant>,
    mock_guide: crate::ipc::MockGuide,
    /// The next live session's serial.
    serials: AtomicU64,
    /// The Runs screen: plans opened, the run under way or last finished.
    runs: Mutex<runs::RunBoard>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

type Outcome = Result<(), CommandError>;
impl Desk {
    pub fn new(host: Host, settings: DeskSettings, hooks: Hooks) -> Arc<Self> {
        let preferences = PreferencesFile::new(settings.preferences_path.clone()).load();
        let profile = preferences
            .profile
            .clone()
            .filter(|name| host.profile(name).is_ok())
            .unwrap_or_else(|| host.default_profile_name());
        Arc::new(Self {
            host,
            hooks,
            inner: tokio::sync::Mutex::new(Inner {
                profile,
                phase: Phase::Restoring,
                notice: None,
                preferences: preferences.shown,
                connection: None,
                home_seen: None,
                restore_again_at: None,
                generation: 0,
            }),
            published: Mutex::new(None),
            window_activity: Mutex::new(Instant::now()),
            last_activity_write: Mutex::new(Instant::now()),
            mock_guide: views::mock_guide(),
            serials: AtomicU64::new(1),
            runs: Mutex::default(),
            settings,
        })
    }

    /// Restores the stored session in the background, then runs the ticker; and follows the
    /// live session with the core's watcher.
    pub fn start(self: &Arc<Self>) {
        let desk = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            desk.restore().await;
            loop {
                tokio::time::sleep(TICK).await;
                desk.tick().await;
            }
        });
        let desk = Arc::clone(self);
        tauri::async_runtime::spawn(async move { desk.follow_session().await });
    }

    /// The state as last published (or built now, before the first publication).
    pub async fn state(&self) -> AppState {
        if let Some(state) = lock(&self.published).clone() {
            return state;
        }
        let inner = self.inner.lock().await;
        self.render(&inner)
    }

    fn publish(&self, inner: &Inner) {
        let state = self.render(inner);
        (self.hooks.publish)(&state);
        *lock(&self.published) = Some(state);
    }

    /// The connection to the profile in use, made now if there is none. (The built-in mock's
    /// connection stays good when the process that served it ends: it takes the mock over.)
    async fn connection<'a>(&self, inner: &'a mut Inner) -> Result<&'a Connection, CommandError> {
        let stale = inner
            .connection
            .as_ref()
            .is_some_and(|connection| connection.client.profile().name != inner.profile);
        if stale {
            inner.connection = None;
        }
        if inner.connection.is_none() {
            let profile = self.host.profile(&inner.profile).map_err(HostError::from)?;
            let connection = self
                .host
                .connect(profile, self.settings.mock_auto_login.as_ref())
                .await?;
            inner.connection = Some(connection);
        }
        Ok(inner.connection.as_ref().expect("just made"))
    }

    /// The provider's discovery document as published, for the testers' view (cached: no
    /// request after a sign-in or restore, which just fetched it).
    async fn discovery(inner: &Inner) -> serde_json::Value {
        match inner.connection.as_ref() {
            Some(connection) => connection
                .client
                .metadata()
                .await
                .map_or(serde_json::Value::Null, |metadata| metadata.raw.clone()),
            None => serde_json::Value::Null,
        }
    }

    async fn live(
        &self,
        inner: &Inner,
        session: Session,
        requested: Option<LoginOverrides>,
    ) -> Live {
        let discovery = Self::discovery(inner).await;
        // A fresh sign-in asks for the role again, with the last choice preselected; a restore
        // keeps the session's role.
        let fresh_sign_in = requested.is_some();
        let requested = requested.unwrap_or_else(|| {
            let profile = self.host.profile(&session.profile).ok();
            LoginOverrides {
                acr_values: profile
                    .as_ref()
                    .and_then(|p| p.acr_values.clone().map(String::from)),
                prompt: profile.as_ref().and_then(|p| p.prompt.clone()),
                max_age: profile.as_ref().and_then(|p| p.max_age),
                scopes: profile.as_ref().map(|p| p.scopes.clone()),
            }
        });
        let tester = views::tester_record(&session, requested, discovery);
        let choosing = match &session.role {
            Some(RoleChoice::Ask(_)) => Some(false),
            Some(RoleChoice::Remembered(_)) if fresh_sign_in => Some(false),
            _ => None,
        };
        Live {
            session,
            serial: self.serials.fetch_add(1, Ordering::Relaxed),
            choosing,
            tester,
            warned: false,
        }
    }

    /// Back to the home screen, remembering the state file as it is now.
    fn go_home(&self, inner: &mut Inner) {
        inner.phase = Phase::Home;
        inner.home_seen = self.state_file_time(&inner.profile);
    }

    fn state_file_time(&self, profile: &str) -> Option<SystemTime> {
        let path = self.host.session_store().state_path(profile).ok()?;
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    }

    fn role_selection_of(&self, profile: &str) -> RoleSelection {
        self.host
            .profile(profile)
            .map(|profile| profile.role_selection)
            .unwrap_or_default()
    }

    fn policy_of(&self, profile: &str) -> careid_core::SessionPolicy {
        self.host
            .profile(profile)
            .map(|profile| profile.session)
            .unwrap_or_default()
    }

    fn save_preferences(&self, inner: &Inner) {
        let file = PreferencesFile::new(self.settings.preferences_path.clone());
        if let Err(error) = file.save(&inner.preferences, &inner.profile) {
            tracing::warn!("could not remember the preferences: {error}");
        }
    }

    pub async fn dismiss_notice(&self) -> Outcome {
        let mut inner = self.inner.lock().await;
        inner.notice = None;
        self.publish(&inner);
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
