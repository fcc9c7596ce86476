//! Signing in: the listener, the authorization URL and the browser, the wait for the callback,
//! and the waiting screen's commands.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use careid_core::signin::{LoginOptions, Session, SignInError, REDIRECT_HINT_AFTER};
use careid_core::time::unix_seconds;
use careid_core::{AcrValues, LoopbackError, SecretString};
use careid_host::Connection;
use tokio::sync::oneshot;

use super::{lock, Desk, Outcome, Phase, Waiting};
use crate::error::{info, not_waiting, notice_of};
use crate::ipc::{CommandError, LoginOverrides, NoticeClass, WaitingView};

impl Desk {
    /// "Log in with my Care Identity": the listener, the authorization URL and the browser.
    pub async fn sign_in(self: &Arc<Self>, overrides: Option<LoginOverrides>) -> Outcome {
        self.begin(overrides.unwrap_or_default(), false).await
    }

    pub(super) async fn begin(
        self: &Arc<Self>,
        overrides: LoginOverrides,
        change_role: bool,
    ) -> Outcome {
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
            label: None,
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
        let launch_links = pending.launch_links();
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
            launch_links,
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
            if let Err(error) = self.open_launch_link(waiting) {
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
                let mut notice = match &error {
                    SignInError::Loopback(LoopbackError::Cancelled) => info("cancelled"),
                    _ => notice_of(&error),
                };
                // What was asked decides which authenticators the words suggest, and tells a
                // tester what CIS2 was refusing.
                notice.acr_values = requested.acr_values;
                inner.notice = Some(notice);
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
        self.open_launch_link(waiting)
            .map_err(|error| CommandError::new("browser_failed", NoticeClass::Other, &error))
    }

    /// Opens the browser on a new one-time link to the sign-in (each link works once).
    fn open_launch_link(&self, waiting: &Waiting) -> Result<(), String> {
        let link = waiting
            .launch_links
            .issue()
            .map_err(|error| error.to_string())?;
        (self.hooks.open_browser)(&link)
    }

    /// The authorization URL, for the clipboard (never for the UI).
    pub async fn sign_in_link(&self) -> Result<SecretString, CommandError> {
        let inner = self.inner.lock().await;
        match &inner.phase {
            Phase::Waiting(waiting) => Ok(waiting.url.clone()),
            _ => Err(not_waiting()),
        }
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
