//! The desk: the app's one sign-in state. It holds the profile in use, the sign-in under way,
//! the live session (its tokens stay here, in Rust) and what to tell the user, and renders all of
//! it as one [`AppState`] for the UI after every change. Commands call it. The core's watcher
//! ([`SessionWatch`]) keeps the live session (refresh before expiry, the limits, changes and
//! ends made elsewhere, the broker's end) and says what happened; the desk applies each
//! [`SessionEvent`] ([`Desk::on_session_event`]), every end told through [`session_events`]. A
//! ticker records the user's activity, shows the inactivity warning and, from the home screen,
//! takes up a session the CLI started.
//!
//! It knows nothing of Tauri: the window, the browser and the event are [`Hooks`], so the
//! shell's tests drive it on Tauri's mock runtime with hooks of their own.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use careid_core::session::{check, SessionFacts, Verdict, ACTIVITY_WRITE_EVERY};
use careid_core::signin::{
    Client, LoginOptions, Session, SessionEvent, SessionWatch, SignInError, REDIRECT_HINT_AFTER,
};
use careid_core::time::unix_seconds;
use careid_core::AccessToken;
use careid_core::{AcrValues, LoopbackError, RoleChoice, RoleSelection, SecretString};
use careid_host::{Connection, CredentialError, Host, HostError};
use mock_cis2::AutoLogin;
use tokio::sync::oneshot;

use crate::error::{info, not_signed_in, not_waiting, notice_of};
use crate::ipc::{
    AppInfo, AppState, CommandError, DoctorLine, DoctorStatus, LoginOverrides, Notice, NoticeClass,
    Preferences, ProfileInput, RoleChoiceView, Screen, SignedInView, TesterRecord, WaitingView,
};
use crate::preferences::PreferencesFile;
use crate::{activity, session_events, views};

/// How long the ticker sleeps between looks at the session.
const TICK: Duration = Duration::from_secs(1);
/// The inactivity warning shows this long before the limit.
const WARN_BEFORE: Duration = Duration::from_secs(60);
/// How soon a restore that could not reach the provider is tried again.
const RESTORE_RETRY: Duration = Duration::from_secs(15);
/// How long the private sign-out page (it holds the ID token) is kept for the browser.
const SIGN_OUT_PAGE_KEPT: Duration = Duration::from_secs(60);

/// Opens a URL in the system browser; the error is in words.
pub type OpenBrowser = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// How the desk reaches the world outside Rust's own state.
pub struct Hooks {
    /// Sends the whole state to the UI.
    pub publish: Box<dyn Fn(&AppState) + Send + Sync>,
    /// Brings the window to the front (best effort: never fails a sign-in).
    pub bring_to_front: Box<dyn Fn() + Send + Sync>,
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
    /// The private page that redirects to it, what the browser is given (also for "open
    /// again"): a command line shows only its path.
    browser_url: String,
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
            .unwrap_or_else(|| "mock".to_owned());
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

    /// The one place the app learns that the live session changed or ended: a
    /// [`SessionWatch`] per live session (a new one for each sign-in or restore), its events
    /// applied by [`Desk::on_session_event`].
    async fn follow_session(self: Arc<Self>) {
        let mut watching: Option<(u64, SessionWatch)> = None;
        loop {
            let watched = watching.as_ref().map(|(serial, _)| *serial);
            let Some((serial, client, new_watch)) = self.live_to_watch(watched).await else {
                watching = None;
                tokio::time::sleep(TICK).await;
                continue;
            };
            if let Some(watch) = new_watch {
                watching = Some((serial, watch));
            }
            let Some((serial, watch)) = watching.as_mut() else {
                continue;
            };
            if let Some(event) = watch.next(&client).await {
                self.on_session_event(*serial, event).await;
            }
        }
    }

    /// The live session's serial and client (the connection made again if it went stale),
    /// with a watch over it when it is not the one `watched`.
    async fn live_to_watch(
        &self,
        watched: Option<u64>,
    ) -> Option<(u64, Arc<Client>, Option<SessionWatch>)> {
        let mut inner = self.inner.lock().await;
        let Phase::Live(live) = &inner.phase else {
            return None;
        };
        let serial = live.serial;
        let new_watch = (watched != Some(serial)).then(|| SessionWatch::new(&live.session));
        match self.connection(&mut inner).await {
            Ok(connection) => Some((serial, Arc::clone(&connection.client), new_watch)),
            Err(error) => {
                tracing::info!(code = error.code, "cannot watch the session now");
                None
            }
        }
    }

    /// What the watcher saw of live session `serial`, applied (nothing, once that session is
    /// no longer the one shown), then published.
    async fn on_session_event(&self, serial: u64, event: SessionEvent) {
        let mut inner = self.inner.lock().await;
        if !matches!(&inner.phase, Phase::Live(live) if live.serial == serial) {
            return;
        }
        match event {
            SessionEvent::Ended(end) => {
                inner.generation += 1;
                self.go_home(&mut inner);
                inner.notice = Some(session_events::ended_notice(&end));
            }
            SessionEvent::RefreshFailed(error) => {
                inner.generation += 1;
                self.go_home(&mut inner);
                inner.notice = Some(notice_of(&error));
            }
            SessionEvent::Refreshed(session) => {
                if let Phase::Live(live) = &mut inner.phase {
                    live.session.tokens = session.tokens;
                    live.session.facts = session.facts;
                }
            }
            SessionEvent::Changed(facts) => {
                if let Phase::Live(live) = &mut inner.phase {
                    take_facts(live, facts);
                }
            }
            // Another user signed in with the CLI: take up that session.
            SessionEvent::Replaced => self.take_up_stored_session(&mut inner).await,
        }
        self.publish(&inner);
    }

    /// Shows the session stored now (another process signed it in) in place of the live one.
    async fn take_up_stored_session(&self, inner: &mut Inner) {
        let resumed = match self.connection(inner).await {
            Ok(connection) => connection.client.resume().await,
            Err(error) => {
                self.go_home(inner);
                inner.notice = Some(error.into_notice());
                return;
            }
        };
        match resumed {
            Ok(session) => {
                let live = self.live(inner, session, None).await;
                inner.phase = Phase::Live(Box::new(live));
            }
            Err(error) => {
                self.go_home(inner);
                inner.notice = Some(notice_of(&error));
            }
        }
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

    fn render(&self, inner: &Inner) -> AppState {
        let profiles = self.host.profiles().and_then(|profiles| profiles.list());
        let profiles: Vec<_> = profiles
            .unwrap_or_default()
            .iter()
            .map(|profile| views::profile(profile, self.host.credential_stored(profile)))
            .collect();
        let profile = profiles
            .iter()
            .find(|profile| profile.name == inner.profile)
            .cloned()
            .or_else(|| profiles.first().cloned())
            .unwrap_or_else(|| views::profile(&careid_core::profile::built_in_mock(), None));
        let (screen, tester) = match &inner.phase {
            Phase::Restoring => (Screen::Restoring, None),
            Phase::Home => (Screen::Home, None),
            Phase::Waiting(waiting) => (Screen::Waiting(waiting.view.clone()), None),
            Phase::Live(live) => (self.live_screen(live), Some(live.tester.clone())),
        };
        AppState {
            app: AppInfo::current(),
            profile,
            profiles,
            screen,
            notice: inner.notice.clone(),
            preferences: inner.preferences.clone(),
            tester,
            mock_guide: self.mock_guide.clone(),
        }
    }

    fn live_screen(&self, live: &Live) -> Screen {
        let session = &live.session;
        let user = views::user(session);
        let identity = session.identity.as_ref();
        if identity.is_some_and(|identity| identity.roles.is_empty()) {
            return Screen::NoRoles(crate::ipc::NoRolesView { user });
        }
        if let (Some(changing), Some(identity)) = (live.choosing, identity) {
            let current = session.facts.selected_role_id.clone();
            return Screen::ChooseRole(RoleChoiceView {
                user,
                groups: views::role_groups(identity),
                preselected: current,
                changing,
            });
        }
        let now = SystemTime::now();
        let policy = self.policy_of(&session.profile);
        let (ends_at, idle_ends_at) = match check(&session.facts, &policy, now) {
            Verdict::Active {
                ends_at,
                idle_ends_at,
            } => (ends_at, idle_ends_at),
            _ => (unix_seconds(now), unix_seconds(now)),
        };
        let idle_left = idle_ends_at.saturating_sub(unix_seconds(now));
        Screen::SignedIn(SignedInView {
            user,
            role: session
                .role
                .as_ref()
                .and_then(RoleChoice::role)
                .map(|role| {
                    views::role(
                        role,
                        identity.map(|identity| identity.organisation(&role.org_code)),
                    )
                }),
            assurance_level: session.facts.assurance_level,
            ends_at,
            idle_ends_at,
            inactivity_minutes: careid_core::session::inactivity_minutes(&session.facts, &policy),
            absolute_hours: policy.absolute_hours,
            inactivity_warning: idle_left <= WARN_BEFORE.as_secs(),
            can_change_role: identity.is_some_and(|identity| identity.roles.len() > 1)
                || self.role_selection_of(&session.profile) == RoleSelection::Cis2,
            refreshable: session.refreshable,
        })
    }

    fn policy_of(&self, profile: &str) -> careid_core::SessionPolicy {
        self.host
            .profile(profile)
            .map(|profile| profile.session)
            .unwrap_or_default()
    }

    fn role_selection_of(&self, profile: &str) -> RoleSelection {
        self.host
            .profile(profile)
            .map(|profile| profile.role_selection)
            .unwrap_or_default()
    }

    /// The connection to the profile in use, made now if there is none. For the built-in mock
    /// it is made again when the mock it used has gone (another careid process served it).
    async fn connection<'a>(&self, inner: &'a mut Inner) -> Result<&'a Connection, CommandError> {
        let stale = inner.connection.as_ref().is_some_and(|connection| {
            connection.client.profile().name != inner.profile
                || connection
                    .mock()
                    .is_some_and(|mock| !mock.is_hosted_here() && !process_alive(mock.pid()))
        });
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

    /// At start, and after a change of profile: the stored session, silently, or the home
    /// screen. A session the CLI started shows as signed in.
    async fn restore(&self) {
        let mut inner = self.inner.lock().await;
        inner.restore_again_at = None;
        // Signed out (no state file): the home screen at once. No provider is needed to say
        // so, and starting the built-in mock (its signing keys, on a first start) would take
        // the CPU from the window while it opens; the connection is made at sign-in.
        if self.state_file_time(&inner.profile).is_none() {
            self.go_home(&mut inner);
            self.publish(&inner);
            return;
        }
        inner.phase = Phase::Restoring;
        self.publish(&inner);
        let outcome = match self.connection(&mut inner).await {
            Ok(connection) => {
                let client = &connection.client;
                // The state file alone says whether there is a session: no request is made
                // for a profile that is signed out.
                match client.end_if_over_limit().await {
                    Ok(_) => Some(client.resume().await),
                    Err(error) => Some(Err(error)),
                }
            }
            Err(error) => {
                inner.notice = Some(error.into_notice());
                None
            }
        };
        self.go_home(&mut inner);
        match outcome {
            Some(Ok(session)) => {
                let live = self.live(&inner, session, None).await;
                inner.phase = Phase::Live(Box::new(live));
            }
            Some(Err(SignInError::NotSignedIn { .. })) => {}
            Some(Err(error)) => {
                // The provider could not be reached: the session is kept, and tried again
                // from the home screen until it can be.
                if error.is_transient() {
                    inner.restore_again_at = Some(Instant::now() + RESTORE_RETRY);
                }
                inner.notice = Some(notice_of(&error));
            }
            None => {}
        }
        self.publish(&inner);
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

    /// "Log in with my Care Identity": the listener, the authorization URL and the browser.
    pub async fn sign_in(self: &Arc<Self>, overrides: Option<LoginOverrides>) -> Outcome {
        self.begin(overrides.unwrap_or_default(), false).await
    }

    async fn begin(self: &Arc<Self>, overrides: LoginOverrides, change_role: bool) -> Outcome {
        let mut inner = self.inner.lock().await;
        if matches!(inner.phase, Phase::Waiting(_)) {
            return Err(CommandError::new(
                "sign_in_under_way",
                NoticeClass::Usage,
                "a sign-in is already waiting for the browser",
            ));
        }
        inner.notice = None;
        inner.restore_again_at = None;
        inner.generation += 1;
        let generation = inner.generation;
        let options = LoginOptions {
            acr_values: non_empty(overrides.acr_values.clone()).map(AcrValues::from),
            prompt: non_empty(overrides.prompt.clone()),
            max_age: overrides.max_age,
            scopes: overrides.scopes.clone().filter(|scopes| !scopes.is_empty()),
            login_hint: None,
            change_role,
            role: None,
        };
        let pending = match self.connection(&mut inner).await {
            Ok(connection) => connection.client.begin_login(options).await,
            Err(error) => {
                inner.notice = Some(error.into_notice());
                self.publish(&inner);
                return Ok(());
            }
        };
        let pending = match pending {
            Ok(pending) => pending,
            Err(error) => {
                inner.notice = Some(notice_of(&error));
                self.publish(&inner);
                return Ok(());
            }
        };
        let url = SecretString::new(pending.authorization_url().to_owned());
        let browser_url = pending.browser_url().to_owned();
        let started = SystemTime::now();
        let timeout = self.settings.sign_in_timeout;
        let (cancel, cancelled) = oneshot::channel::<()>();
        let requested = self.requested(&inner.profile, &overrides);
        inner.phase = Phase::Waiting(Waiting {
            view: WaitingView {
                started_at: unix_seconds(started),
                deadline: unix_seconds(started + timeout),
                hint_after_seconds: hint_after(timeout),
                redirect_uri: pending.redirect_uri().to_string(),
                redirect_uri_accepted: pending.redirect_uri_accepted(),
                changing_role: change_role,
            },
            url,
            browser_url,
            cancel: Some(cancel),
        });
        let desk = Arc::clone(self);
        let connection = inner
            .connection
            .take()
            .expect("connection made above for this sign-in");
        // The listener is bound already; the wait starts before the browser opens, so even a
        // browser that answers at once is heard.
        tauri::async_runtime::spawn(async move {
            let result = pending
                .finish(&connection.client, timeout, async {
                    let _ = cancelled.await;
                })
                .await;
            desk.finish(generation, connection, result, requested).await;
        });
        self.publish(&inner);
        if let Phase::Waiting(waiting) = &inner.phase {
            if let Err(error) = (self.hooks.open_browser)(&waiting.browser_url) {
                // The link is still there to copy; the wait goes on.
                tracing::warn!("could not open the browser: {error}");
            }
        }
        Ok(())
    }

    /// What a sign-in asks for: the profile's values with the tester's overrides applied.
    fn requested(&self, profile: &str, overrides: &LoginOverrides) -> LoginOverrides {
        let profile = self.host.profile(profile).ok();
        LoginOverrides {
            acr_values: non_empty(overrides.acr_values.clone()).or_else(|| {
                profile
                    .as_ref()
                    .and_then(|p| p.acr_values.clone().map(String::from))
            }),
            prompt: non_empty(overrides.prompt.clone())
                .or_else(|| profile.as_ref().and_then(|p| p.prompt.clone())),
            max_age: overrides
                .max_age
                .or_else(|| profile.as_ref().and_then(|p| p.max_age)),
            scopes: overrides
                .scopes
                .clone()
                .filter(|scopes| !scopes.is_empty())
                .or_else(|| profile.as_ref().map(|p| p.scopes.clone())),
        }
    }

    async fn finish(
        &self,
        generation: u64,
        connection: Connection,
        result: Result<Session, SignInError>,
        requested: LoginOverrides,
    ) {
        let mut inner = self.inner.lock().await;
        if inner.generation != generation {
            return;
        }
        inner.connection = Some(connection);
        match result {
            Ok(session) => {
                let live = self.live(&inner, session, Some(requested)).await;
                inner.phase = Phase::Live(Box::new(live));
                inner.notice = None;
                *lock(&self.window_activity) = Instant::now();
            }
            Err(error) => {
                self.go_home(&mut inner);
                inner.notice = Some(match &error {
                    SignInError::Loopback(LoopbackError::Cancelled) => info("cancelled"),
                    _ => notice_of(&error),
                });
            }
        }
        self.publish(&inner);
        drop(inner);
        (self.hooks.bring_to_front)();
    }

    pub async fn cancel_sign_in(&self) -> Outcome {
        let mut inner = self.inner.lock().await;
        if let Phase::Waiting(waiting) = &mut inner.phase {
            if let Some(cancel) = waiting.cancel.take() {
                let _ = cancel.send(());
            }
        }
        Ok(())
    }

    pub async fn open_sign_in_page_again(&self) -> Outcome {
        let inner = self.inner.lock().await;
        let Phase::Waiting(waiting) = &inner.phase else {
            return Err(not_waiting());
        };
        (self.hooks.open_browser)(&waiting.browser_url)
            .map_err(|error| CommandError::new("browser_failed", NoticeClass::Other, &error))
    }

    /// The authorization URL, for the clipboard (never for the UI).
    pub async fn sign_in_link(&self) -> Result<SecretString, CommandError> {
        let inner = self.inner.lock().await;
        match &inner.phase {
            Phase::Waiting(waiting) => Ok(waiting.url.clone()),
            _ => Err(not_waiting()),
        }
    }

    pub async fn choose_role(&self, role_id: String) -> Outcome {
        let mut inner = self.inner.lock().await;
        let Inner {
            phase, connection, ..
        } = &mut *inner;
        let (Phase::Live(live), Some(connection)) = (phase, connection.as_ref()) else {
            return Err(not_signed_in());
        };
        match connection
            .client
            .apply_role(&mut live.session, &role_id)
            .await
        {
            Ok(()) => live.choosing = None,
            Err(error) => {
                let error = CommandError::from(&error);
                self.publish(&inner);
                return Err(error);
            }
        }
        self.publish(&inner);
        Ok(())
    }

    /// Change role: the app's own choice, or CIS2's picker again for profiles that let CIS2
    /// choose.
    pub async fn change_role(self: &Arc<Self>) -> Outcome {
        let mut inner = self.inner.lock().await;
        let Phase::Live(live) = &mut inner.phase else {
            return Err(not_signed_in());
        };
        if self.role_selection_of(&live.session.profile) == RoleSelection::Cis2 {
            drop(inner);
            return self.begin(LoginOverrides::default(), true).await;
        }
        if live.session.identity.is_none() {
            let fresh = match inner.connection.as_ref() {
                Some(connection) => connection.client.use_session().await,
                None => return Err(not_signed_in()),
            };
            match fresh {
                Ok(session) => {
                    if let Phase::Live(live) = &mut inner.phase {
                        live.session.identity = session.identity;
                    }
                }
                Err(error) => return Err(CommandError::from(&error)),
            }
        }
        if let Phase::Live(live) = &mut inner.phase {
            live.choosing = Some(true);
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn keep_current_role(&self) -> Outcome {
        let mut inner = self.inner.lock().await;
        if let Phase::Live(live) = &mut inner.phase {
            if live.choosing == Some(true) {
                live.choosing = None;
            }
        }
        self.publish(&inner);
        Ok(())
    }

    /// Signs out: revokes and deletes the session, and opens the provider's end-session page
    /// so the CIS2 browser session can end there too: through a private page, since its
    /// `id_token_hint` is the ID token and a command line is readable by other users.
    pub async fn sign_out(&self) -> Outcome {
        let mut inner = self.inner.lock().await;
        inner.generation += 1;
        let id_token = match &mut inner.phase {
            Phase::Live(live) => live.session.tokens.id_token.take(),
            // A sign-in still waiting for the browser stops listening too.
            Phase::Waiting(waiting) => {
                if let Some(cancel) = waiting.cancel.take() {
                    let _ = cancel.send(());
                }
                None
            }
            _ => None,
        };
        let outcome = match self.connection(&mut inner).await {
            Ok(connection) => connection.client.logout(id_token.as_ref()).await,
            Err(error) => {
                inner.notice = Some(error.into_notice());
                self.publish(&inner);
                return Ok(());
            }
        };
        self.go_home(&mut inner);
        match outcome {
            Ok(outcome) => {
                inner.notice = Some(info("signed_out"));
                let page = inner
                    .connection
                    .as_ref()
                    .map(|connection| connection.client.end_session_page(&outcome));
                match page {
                    Some(Ok(Some(page))) => {
                        if let Err(error) = (self.hooks.open_browser)(page.file_url()) {
                            tracing::warn!("could not open the end-session page: {error}");
                        }
                        // The browser reads it at once; then it goes.
                        tokio::spawn(async move {
                            tokio::time::sleep(SIGN_OUT_PAGE_KEPT).await;
                            drop(page);
                        });
                    }
                    Some(Err(error)) => {
                        tracing::warn!("could not write the end-session page: {error}")
                    }
                    _ => {}
                }
            }
            Err(error) => inner.notice = Some(notice_of(&error)),
        }
        self.publish(&inner);
        Ok(())
    }

    /// Input in the app's window: the user is here.
    pub fn note_activity(&self) {
        *lock(&self.window_activity) = Instant::now();
    }

    /// "Stay signed in" on the inactivity warning: activity now, written at once.
    pub async fn stay_signed_in(&self) -> Outcome {
        self.note_activity();
        let mut inner = self.inner.lock().await;
        self.write_activity(&mut inner).await;
        self.publish(&inner);
        Ok(())
    }

    pub async fn use_profile(&self, name: String) -> Outcome {
        self.host.profile(&name).map_err(HostError::from)?;
        {
            let mut inner = self.inner.lock().await;
            if matches!(inner.phase, Phase::Waiting(_)) {
                return Err(CommandError::new(
                    "sign_in_under_way",
                    NoticeClass::Usage,
                    "cancel the sign-in before changing profile",
                ));
            }
            inner.generation += 1;
            inner.profile = name;
            inner.connection = None;
            inner.notice = None;
            self.save_preferences(&inner);
        }
        self.restore().await;
        Ok(())
    }

    pub async fn set_testers_view(&self, enabled: bool) -> Outcome {
        let mut inner = self.inner.lock().await;
        inner.preferences.testers_view = enabled;
        self.save_preferences(&inner);
        self.publish(&inner);
        Ok(())
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

    /// The live access token, for the clipboard on the user's explicit request.
    pub async fn access_token(&self) -> Result<AccessToken, CommandError> {
        let inner = self.inner.lock().await;
        match &inner.phase {
            Phase::Live(live) => Ok(live.session.tokens.access_token.clone()),
            _ => Err(not_signed_in()),
        }
    }

    /// The last sign-in's record (claims and timings, no token), for the export.
    pub async fn sign_in_record(&self) -> Result<TesterRecord, CommandError> {
        let inner = self.inner.lock().await;
        match &inner.phase {
            Phase::Live(live) => Ok(live.tester.clone()),
            _ => Err(not_signed_in()),
        }
    }

    pub async fn save_profile(&self, input: ProfileInput) -> Outcome {
        let mut profiles = self.host.profiles().map_err(HostError::from)?;
        let name = input.name.clone();
        let entry = views::profile_entry(input)?;
        profiles.add(&name, entry).map_err(HostError::from)?;
        profiles.save().map_err(HostError::from)?;
        let mut inner = self.inner.lock().await;
        if inner.profile == name {
            inner.connection = None;
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn remove_profile(&self, name: String) -> Outcome {
        let mut inner = self.inner.lock().await;
        if inner.profile == name && !matches!(inner.phase, Phase::Home) {
            return Err(CommandError::new(
                "profile_in_use",
                NoticeClass::Usage,
                "sign out of this profile, or use another, before removing it",
            ));
        }
        careid_core::signin::blocking(|| self.host.remove_profile(&name))?;
        if inner.profile == name {
            inner.profile = "mock".into();
            inner.connection = None;
            self.save_preferences(&inner);
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn store_credential(&self, name: String, value: SecretString) -> Outcome {
        let stored = careid_core::signin::blocking(|| self.host.store_credential(&name, value))?;
        stored.map_err(|refused: CredentialError| {
            CommandError::new(refused.code(), NoticeClass::Usage, &refused.to_string())
        })?;
        let mut inner = self.inner.lock().await;
        if inner.profile == name {
            inner.connection = None;
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn check_profile(&self, name: String) -> Result<Vec<DoctorLine>, CommandError> {
        let profile = self.host.profile(&name).map_err(HostError::from)?;
        let diagnosis = self.host.diagnose_profile(&profile).await?;
        let mut lines = views::doctor_lines(&diagnosis.report);
        if let Some(error) = diagnosis.jwks_error {
            lines.push(DoctorLine {
                name: "jwks".into(),
                status: DoctorStatus::Fail,
                detail: format!("the JWKS could not be fetched: {error}"),
            });
        }
        Ok(lines)
    }

    /// Once a second: from the home screen, a session another process started (or a restore to
    /// try again); signed in, the user's activity and the inactivity warning. The session's
    /// changes and ends are the watcher's ([`Desk::follow_session`]).
    async fn tick(&self) {
        let mut inner = self.inner.lock().await;
        if matches!(inner.phase, Phase::Home) {
            let seen = self.state_file_time(&inner.profile);
            // A session appeared (the CLI signed in), or the provider may be back.
            let appeared = seen.is_some() && seen != inner.home_seen;
            let retry = inner
                .restore_again_at
                .is_some_and(|at| Instant::now() >= at && seen.is_some());
            if appeared || retry {
                inner.home_seen = seen;
                drop(inner);
                self.restore().await;
            }
            return;
        }
        let Phase::Live(live) = &inner.phase else {
            return;
        };
        let warned_before = self.inactivity_warning(live);

        // The user's input on the device, or in this window, is activity.
        self.write_activity_if_due(&mut inner).await;

        if let Phase::Live(live) = &inner.phase {
            if self.inactivity_warning(live) != warned_before {
                self.publish(&inner);
            }
        }
    }

    fn inactivity_warning(&self, live: &Live) -> bool {
        matches!(self.live_screen(live), Screen::SignedIn(view) if view.inactivity_warning)
    }

    /// Writes activity to the state file when the user has been active since it was last
    /// written, at most every [`ACTIVITY_WRITE_EVERY`].
    async fn write_activity_if_due(&self, inner: &mut Inner) {
        let idle = activity::idle_time(*lock(&self.window_activity));
        let Phase::Live(live) = &inner.phase else {
            return;
        };
        let active_at = unix_seconds(SystemTime::now().checked_sub(idle).unwrap_or(UNIX_EPOCH));
        let recorded = live.session.facts.last_activity;
        let written_recently = lock(&self.last_activity_write).elapsed() < ACTIVITY_WRITE_EVERY;
        if active_at > recorded && !written_recently {
            self.write_activity(inner).await;
        }
    }

    async fn write_activity(&self, inner: &mut Inner) {
        *lock(&self.last_activity_write) = Instant::now();
        let Some(connection) = inner.connection.as_ref() else {
            return;
        };
        match connection.client.record_activity().await {
            Ok(facts) => {
                if let Phase::Live(live) = &mut inner.phase {
                    live.session.facts.last_activity = facts.last_activity;
                }
            }
            Err(error) => tracing::warn!("could not record activity: {error}"),
        }
    }
}

/// The stored facts as they are now (activity, the role, a new sign-in of the same user): a
/// role chosen elsewhere shows here too.
fn take_facts(live: &mut Live, facts: SessionFacts) {
    let role_changed = facts.selected_role_id != live.session.facts.selected_role_id;
    live.session.facts = facts;
    if !role_changed {
        return;
    }
    let role = live.session.facts.selected_role_id.clone().and_then(|id| {
        live.session
            .identity
            .as_ref()
            .and_then(|identity| identity.role(&id).cloned())
    });
    if let Some(role) = role {
        live.session.role = Some(RoleChoice::Selected(role));
        live.choosing = None;
    }
}

/// After this long with nothing back, the waiting screen says what usually causes it (an
/// unregistered redirect URI first): the core's delay, or half a shorter timeout.
fn hint_after(timeout: Duration) -> u32 {
    let after = REDIRECT_HINT_AFTER.min(timeout / 2).as_secs().max(1);
    u32::try_from(after).unwrap_or(u32::MAX)
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a process still runs. Only used to notice that the process serving the shared mock
/// has gone; where it cannot be told, the connection is kept until a request fails.
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waiting_hint_comes_after_the_cores_delay_or_half_a_shorter_timeout() {
        let core = u32::try_from(REDIRECT_HINT_AFTER.as_secs()).expect("small");
        for (timeout, expected) in [(300, core), (60, core.min(30)), (30, 15), (4, 2), (1, 1)] {
            assert_eq!(
                hint_after(Duration::from_secs(timeout)),
                expected,
                "{timeout} s"
            );
        }
    }
}
