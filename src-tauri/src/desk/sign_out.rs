//! Signing out: the session revoked and deleted, and the provider's end-session page opened.

use std::time::Duration;

use super::{Desk, Outcome, Phase};
use crate::error::{info, notice_of};

/// How long the one-time sign-out link (it leads to the ID token) is answered for the browser.
const SIGN_OUT_LINK_KEPT: Duration = Duration::from_secs(60);

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
                // Signed out here either way; a provider without revocation keeps the session's
                // tokens valid until they expire, and the user is told so.
                inner.notice = Some(match outcome.revocation {
                    "not_advertised" => info("signed_out_not_revoked"),
                    _ => info("signed_out"),
                });
                let launch = match inner.connection.as_ref() {
                    Some(connection) => {
                        connection
                            .client
                            .end_session_launch(&outcome, SIGN_OUT_LINK_KEPT)
                            .await
                    }
                    None => Ok(None),
                };
                match launch {
                    Ok(Some(launch)) => {
                        if let Err(error) = (self.hooks.open_browser)(launch.url()) {
                            tracing::warn!("could not open the end-session link: {error}");
                        }
                        // Answered until the browser has come for it, for at most a minute.
                        tokio::spawn(async move {
                            launch.wait_until_read(SIGN_OUT_LINK_KEPT).await;
                        });
                    }
                    Err(error) => {
                        tracing::warn!("could not make the end-session link: {error}")
                    }
                    Ok(None) => {}
                }
            }
            Err(error) => inner.notice = Some(notice_of(&error)),
        }
        self.publish(&inner);
        Ok(())
    }
}
