//! The testers' view: its setting, and what it copies or exports (the access token, the
//! sign-in record).

use careid_core::AccessToken;

use super::{Desk, Outcome, Phase};
use crate::error::not_signed_in;
use crate::ipc::{CommandError, TesterRecord};

impl Desk {
    pub async fn set_testers_view(&self, enabled: bool) -> Outcome {
        let mut inner = self.inner.lock().await;
        inner.preferences.testers_view = enabled;
        self.save_preferences(&inner);
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
}
