//! The stored session taken up silently, at start and after a change of profile.

use std::time::{Duration, Instant};

use careid_core::signin::SignInError;

use super::{Desk, Phase};
use crate::error::notice_of;

/// How soon a restore that could not reach the provider is tried again.
const RESTORE_RETRY: Duration = Duration::from_secs(15);

impl Desk {
    /// At start, and after a change of profile: the stored session, silently, or the home
    /// screen. A session the CLI started shows as signed in.
    pub(super) async fn restore(&self) {
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
}
