//! The session loop: the core's [`SessionWatch`] over the live session, and each
//! [`SessionEvent`] it reports applied to the desk.

use std::sync::Arc;

use careid_core::session::SessionFacts;
use careid_core::signin::{Client, SessionEvent, SessionWatch};
use careid_core::RoleChoice;

use super::{Desk, Inner, Live, Phase, TICK};
use crate::error::notice_of;
use crate::session_events;

impl Desk {
    /// The one place the app learns that the live session changed or ended: a
    /// [`SessionWatch`] per live session (a new one for each sign-in or restore), its events
    /// applied by [`Desk::on_session_event`].
    pub(super) async fn follow_session(self: Arc<Self>) {
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
