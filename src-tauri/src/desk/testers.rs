//! The testers' view: its setting, what it copies or exports (the access token, the sign-in
//! record), and the history of every attempt.

use std::sync::Arc;

use careid_core::history::{Attempt, AttemptId, History, HistoryError};
use careid_core::AccessToken;

use super::{Desk, Outcome, Phase};
use crate::error::not_signed_in;
use crate::ipc::{
    AttemptSummaryView, AttemptView, CommandError, LoginOverrides, NoticeClass, TesterRecord,
};

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

    fn history(&self) -> History {
        History::in_state_dir(self.host.state_dir())
    }

    /// Every attempt, newest first.
    pub fn attempts(&self) -> Vec<AttemptSummaryView> {
        let history = self.history();
        careid_core::signin::blocking(|| history.list().0)
            .iter()
            .map(crate::views::attempt_summary)
            .collect()
    }

    /// How many attempts the history keeps.
    pub fn history_keep(&self) -> u32 {
        u32::try_from(self.history().keep()).unwrap_or(u32::MAX)
    }

    /// Keeps the newest `keep` attempts from now on (older ones go at once).
    pub fn set_history_keep(&self, keep: u32) -> Outcome {
        let history = self.history();
        careid_core::signin::blocking(|| history.set_keep(keep as usize))
            .map_err(|error| history_error(&error))
    }

    pub fn attempt(&self, id: &str) -> Result<AttemptView, CommandError> {
        Ok(crate::views::attempt_view(&self.attempt_record(id)?))
    }

    pub fn attempt_record(&self, id: &str) -> Result<Attempt, CommandError> {
        let id = AttemptId::parse(id).ok_or_else(|| {
            CommandError::new("attempt_not_found", NoticeClass::Other, "not an attempt id")
        })?;
        let history = self.history();
        careid_core::signin::blocking(|| history.get(&id)).map_err(|error| history_error(&error))
    }

    /// "Sign in again with these settings": the attempt's profile, with what it sent.
    pub async fn sign_in_again(self: &Arc<Self>, id: &str) -> Outcome {
        let attempt = self.attempt_record(id)?;
        if self.inner.lock().await.profile != attempt.profile.name {
            self.use_profile(attempt.profile.name.clone()).await?;
        }
        // The core's one rule for what a repeat sends; an acr_values not sent stays unsent
        // only where the profile asks for none too (the overrides cannot send "none").
        let options = careid_core::signin::LoginOptions::repeating(&attempt.asked);
        let overrides = LoginOverrides {
            acr_values: options.acr_values.map(String::from),
            prompt: options.prompt,
            max_age: options.max_age,
            scopes: options.scopes,
        };
        self.sign_in(Some(overrides)).await
    }
}

fn history_error(error: &HistoryError) -> CommandError {
    CommandError::new(error.code(), NoticeClass::Other, &error.to_string())
}
