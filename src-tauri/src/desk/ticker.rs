//! The once-a-second ticker: a session another process started, a restore tried again, the
//! user's activity written to the session and the inactivity warning, whose start asks for the
//! user's attention ([`Hooks::attention`](super::Hooks)).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use careid_core::session::ACTIVITY_WRITE_EVERY;
use careid_core::time::unix_seconds;

use super::{lock, Desk, Inner, Live, Outcome, Phase};
use crate::activity;
use crate::ipc::Screen;

/// What the system notification says when the inactivity warning starts and careid's window is
/// not in front.
pub(crate) const INACTIVITY_ATTENTION: &str = "You will be signed out of careid in about a minute \
     because this device has not been used. Open careid and choose \u{201c}Stay signed in\u{201d} \
     to carry on.";

impl Desk {
    /// Once a second: from the home screen, a session another process started (or a restore to
    /// try again); signed in, the user's activity and the inactivity warning. The session's
    /// changes and ends are the watcher's ([`Desk::follow_session`]).
    pub(super) async fn tick(&self) {
        let mut inner = self.inner.lock().await;
        if matches!(inner.phase, Phase::Home) {
            // A run's cases sign in one after another: its sessions are the run's, not the
            // app's, until it ends.
            if super::lock(&self.runs).running() {
                return;
            }
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
        if !matches!(inner.phase, Phase::Live(_)) {
            return;
        }
        // The user's input on the device, or in this window, is activity.
        self.write_activity_if_due(&mut inner).await;

        // The warning comes and goes with time and activity: each change is published, and its
        // start asks for the user's attention, who may be working in another application.
        let Phase::Live(live) = &mut inner.phase else {
            return;
        };
        let warning = self.inactivity_warning(live);
        if warning == live.warned {
            return;
        }
        live.warned = warning;
        self.publish(&inner);
        drop(inner);
        if warning {
            (self.hooks.attention)(INACTIVITY_ATTENTION);
        }
    }

    fn inactivity_warning(&self, live: &Live) -> bool {
        matches!(self.live_screen(live), Screen::SignedIn(view) if view.inactivity_warning)
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
