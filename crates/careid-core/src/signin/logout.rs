//! Signing out here: revocation (RFC 7009), the session deleted whatever the provider says, and
//! the provider's end-session URL (OpenID Connect RP-Initiated Logout).

use std::time::Duration;

use serde::Serialize;

use crate::loopback::SignOutLaunch;
use crate::secret::IdToken;
use crate::session::EndReason;
use crate::signin::token::Revocable;
use crate::signin::{blocking, with_query, Client, SignInError};
use crate::{Restored, SecretString};

/// How a sign-out went.
#[derive(Debug, Clone, Serialize)]
pub struct LogoutOutcome {
    /// The user id of the session that was ended, if there was one.
    pub signed_out: Option<String>,
    /// That user as people are told who it was.
    #[serde(skip)]
    pub user: Option<crate::UserName>,
    /// `revoked`, `not_advertised`, `no_refresh_token`, `no_session` or `failed`.
    pub revocation: &'static str,
    /// Why revocation failed, in words (the local session is deleted regardless).
    pub revocation_error: Option<String>,
    /// The provider's end-session URL, to end its browser session (OIDC RP-Initiated Logout),
    /// without `id_token_hint`: it may be printed.
    pub end_session_url: Option<String>,
    /// Whether the session's ID token was at hand as `id_token_hint`: then only the page of
    /// [`Client::end_session_page`] carries it.
    pub id_token_hint: bool,
    /// The end-session URL with `id_token_hint`: a secret, never serialised or shown.
    #[serde(skip)]
    pub end_session_with_hint: Option<SecretString>,
}

impl Client {
    /// Signs out: revokes the refresh token (or, without one, the kept access token) when the
    /// provider offers revocation, deletes the
    /// session whatever the provider says, and gives the end-session URL: without
    /// `id_token_hint` to show, and with it (the ID token the caller holds, else the kept one)
    /// only as a secret for [`Client::end_session_page`].
    pub async fn logout(&self, id_token: Option<&IdToken>) -> Result<LogoutOutcome, SignInError> {
        // Held across revocation too: a refresh in another process must not rotate the token
        // being revoked, nor store a new one after the session is cleared.
        let lock = self.session_lock().await?;
        // The stored session; or, when none can be loaded (its state file is damaged, say), any
        // refresh token the keychain still holds for the profile: signing out revokes it too.
        let mut hint = id_token.cloned();
        // What the store keeps of the end: signed out here; or, with no session to sign out of,
        // the end careid recorded of the last one, kept.
        let end;
        // What to revoke: the refresh tokens (their grants take the access tokens with them,
        // RFC 7009 §2.1), or, for a session without one, its kept access token.
        let (signed_out, revocable): (Option<crate::UserName>, Vec<Revocable>) =
            match blocking(|| self.store.load(&self.profile.name))? {
                Restored::Session(loaded) => {
                    end = Some(self.end_now(EndReason::SignedOutHere, &loaded.facts));
                    if hint.is_none() {
                        // The last valid ID token, kept for this (a session without a refresh
                        // token included); one that cannot be read only loses the hint.
                        hint = blocking(|| self.store.load_id_token(&loaded.facts)).unwrap_or_else(
                            |error| {
                                tracing::warn!("could not read the session's ID token: {error}");
                                None
                            },
                        );
                    }
                    let revocable = match loaded.refresh_token {
                        Some(refresh_token) => vec![Revocable::Refresh(refresh_token)],
                        None => blocking(|| self.store.load_access_token(&loaded))
                            .unwrap_or_else(|error| {
                                tracing::warn!(
                                    "could not read the session's access token: {error}"
                                );
                                None
                            })
                            .map(Revocable::Access)
                            .into_iter()
                            .collect(),
                    };
                    (Some(loaded.facts.user()), revocable)
                }
                Restored::SignedOut(reason) => {
                    end = reason.end().cloned();
                    let orphans = blocking(|| self.store.orphaned_refresh_tokens(&lock))?;
                    let user = orphans.first().map(|(sub, _)| crate::UserName {
                        name: None,
                        user_id: sub.clone(),
                    });
                    let revocable = orphans
                        .into_iter()
                        .map(|(_, token)| Revocable::Refresh(token))
                        .collect();
                    (user, revocable)
                }
            };
        let metadata = self.metadata().await;
        let mut outcome = LogoutOutcome {
            revocation: match (&signed_out, revocable.is_empty()) {
                (None, _) => "no_session",
                (Some(_), true) => "no_refresh_token",
                (Some(_), false) => "revoked",
            },
            signed_out: signed_out.as_ref().map(|user| user.user_id.clone()),
            user: signed_out,
            revocation_error: None,
            end_session_url: None,
            id_token_hint: false,
            end_session_with_hint: None,
        };
        for token in &revocable {
            let failed = match &metadata {
                Ok(metadata) => match self.revoke(metadata, token).await {
                    Ok(true) => None,
                    Ok(false) => {
                        outcome.revocation = "not_advertised";
                        None
                    }
                    Err(error) => Some(error.to_string()),
                },
                Err(error) => Some(error.to_string()),
            };
            if let Some(error) = failed {
                outcome.revocation = "failed";
                outcome.revocation_error = Some(error);
            }
        }
        match &end {
            Some(end) => blocking(|| self.store.end(&lock, end))?,
            None => blocking(|| self.store.clear(&lock))?,
        }
        drop(lock);
        let endpoint = metadata
            .as_ref()
            .ok()
            .and_then(|metadata| metadata.end_session_endpoint.as_deref());
        if let Some(endpoint) = endpoint {
            let query = |hint: Option<&IdToken>| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("client_id", self.client_id.as_str());
                if let Some(id_token) = hint {
                    query.append_pair("id_token_hint", id_token.expose_secret());
                }
                with_query(endpoint, &query.finish())
            };
            outcome.end_session_url = Some(query(None));
            if let Some(id_token) = &hint {
                outcome.id_token_hint = true;
                outcome.end_session_with_hint = Some(SecretString::new(query(Some(id_token))));
            }
        }
        Ok(outcome)
    }

    /// A one-time loopback link to the provider's end-session URL of `outcome`, with
    /// `id_token_hint` when there was one: what a browser is given, so the ID token is never on
    /// a command line. `None` when the provider publishes no end-session endpoint. Its listener
    /// stops once the browser has come for it, after `within`, or when it is dropped: keep it
    /// until then ([`SignOutLaunch::wait_until_read`]).
    pub async fn end_session_launch(
        &self,
        outcome: &LogoutOutcome,
        within: Duration,
    ) -> Result<Option<SignOutLaunch>, SignInError> {
        let url = match (&outcome.end_session_with_hint, &outcome.end_session_url) {
            (Some(hinted), _) => hinted.clone(),
            (None, Some(plain)) => SecretString::new(plain.clone()),
            (None, None) => return Ok(None),
        };
        SignOutLaunch::start(url, within)
            .await
            .map(Some)
            .map_err(SignInError::Launch)
    }
}
