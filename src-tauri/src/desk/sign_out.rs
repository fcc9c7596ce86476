//! Signing out: the session revoked and deleted, and the provider's end-session page opened.

use std::time::Duration;

use super::{Desk, Outcome, Phase};
use crate::error::{info, notice_of};

/// How long the private sign-out page (it holds the ID token) is kept for the browser.
const SIGN_OUT_PAGE_KEPT: Duration = Duration::from_secs(60);

impl Desk {
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
}
