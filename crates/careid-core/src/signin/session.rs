//! A stored session after sign-in: its status, restore by refresh, role changes, the policy
//! that ends it, and sign-out.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::discovery::ProviderMetadata;
use crate::id_token::OriginalIdToken;
use crate::session::{check, unix_seconds, SessionFacts, SignInRecord, Verdict};
use crate::signin::login::{Assurance, IdTokenFrom};
use crate::signin::{
    blocking, with_query, Client, ErrorClass, Session, SignInError, Timing, Tokens,
};
use crate::{choose_role, Identity, Loaded, Restored, SecretString, SessionLock};

/// What `careid status` reports: the stored session, without asking the provider anything.
#[derive(Debug, Clone, Serialize)]
pub struct SessionStatus {
    pub facts: SessionFacts,
    /// When the absolute limit ends the session (seconds since the epoch).
    pub ends_at: u64,
    /// When inactivity ends it, unless there is activity first.
    pub idle_ends_at: u64,
    /// Whether a refresh token is kept in the keychain.
    pub refreshable: bool,
}

/// What a restore does besides the refresh.
#[derive(Debug, Clone, Copy)]
struct Restore {
    /// Fetch UserInfo (identity and roles).
    userinfo: bool,
    /// Count the call as the user's activity.
    activity: bool,
}

/// How a sign-out went.
#[derive(Debug, Clone, Serialize)]
pub struct LogoutOutcome {
    /// The user id of the session that was ended, if there was one.
    pub signed_out: Option<String>,
    /// `revoked`, `not_advertised`, `no_refresh_token`, `no_session` or `failed`.
    pub revocation: &'static str,
    /// Why revocation failed, in words (the local session is deleted regardless).
    pub revocation_error: Option<String>,
    /// The provider's end-session URL, to end its browser session (OIDC RP-Initiated Logout).
    pub end_session_url: Option<String>,
}

impl Client {
    /// The stored session and its limits. A session past a limit is ended here (revoked and
    /// deleted) and reported as [`SignInError::SessionEnded`].
    pub async fn status(&self) -> Result<SessionStatus, SignInError> {
        let lock = self.session_lock().await?;
        let loaded = self.load_active(&lock).await?;
        let Verdict::Active {
            ends_at,
            idle_ends_at,
        } = check(&loaded.facts, &self.profile.session, self.clock.now())
        else {
            unreachable!("load_active ends sessions past their limits")
        };
        Ok(SessionStatus {
            refreshable: loaded.refresh_token.is_some(),
            facts: loaded.facts,
            ends_at,
            idle_ends_at,
        })
    }

    /// The user uses the session (a command, a role change): one refresh and one UserInfo
    /// request, recorded as activity, which moves the inactivity limit on.
    pub async fn use_session(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: true,
            activity: true,
        })
        .await
    }

    /// Fresh tokens for the user to use (`careid token`): one refresh, no UserInfo, recorded
    /// as activity.
    pub async fn tokens_for_use(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: false,
            activity: true,
        })
        .await
    }

    /// The session brought back without the user doing anything (the app at start): one
    /// refresh and one UserInfo request, not activity.
    pub async fn resume(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: true,
            activity: false,
        })
        .await
    }

    /// New tokens before the old ones expire, in the background: one refresh, no UserInfo, not
    /// activity. Also how sign-out gets a current ID token for `id_token_hint`.
    pub async fn refresh_quietly(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: false,
            activity: false,
        })
        .await
    }

    /// Restores the session with exactly one refresh and, when asked, one UserInfo request
    /// (discovery and the JWKS come from the cache when it is fresh).
    async fn restore(&self, parts: Restore) -> Result<Session, SignInError> {
        let mut timings = Vec::new();
        let started = Instant::now();
        let metadata = self.metadata().await?;
        let lock = self.session_lock().await?;
        // Read under the lock only: another process may have rotated the token, or signed out,
        // while this one waited (each keychain read is a D-Bus round trip on Linux).
        let loaded = self.load_active(&lock).await?;
        let Some(refresh_token) = loaded.refresh_token.clone() else {
            return Err(SignInError::NotSignedIn {
                profile: self.profile.name.clone(),
                reason: "the provider issued no refresh token, so the session ended with its \
                         tokens"
                    .into(),
            });
        };
        let tokens = match self.refresh_grant(&metadata, &refresh_token).await {
            Ok(tokens) => tokens,
            Err(SignInError::OAuth { error, .. }) if error == "invalid_grant" => {
                blocking(|| self.store.clear(&lock))?;
                return Err(SignInError::RefreshRejected { error });
            }
            // Anything else keeps the stored token: the provider may be back later.
            Err(error) => return Err(error),
        };
        // The provider has spent the old token: store the new one before anything can fail.
        if let Some(rotated) = &tokens.refresh_token {
            blocking(|| {
                self.store
                    .replace_refresh_token(&lock, &loaded.facts, rotated)
            })?;
        }
        timings.push(Timing::since("refresh", started));
        match self
            .complete_restore(&lock, &metadata, loaded, tokens, parts, timings)
            .await
        {
            Ok(session) => Ok(session),
            Err(error) => {
                // A rejected answer is never kept, and neither is the refresh token that came
                // with it.
                if error.class() == ErrorClass::Rejected {
                    blocking(|| self.store.clear(&lock))?;
                }
                Err(error)
            }
        }
    }

    // One caller, which hands over everything the restore has so far; a struct for it would
    // only rename the arguments.
    #[allow(clippy::too_many_arguments)]
    async fn complete_restore(
        &self,
        lock: &SessionLock,
        metadata: &Arc<ProviderMetadata>,
        loaded: Loaded,
        tokens: super::token::TokenResponse,
        parts: Restore,
        mut timings: Vec<Timing>,
    ) -> Result<Session, SignInError> {
        let mut facts = loaded.facts;
        let mut tokens = tokens;
        let record = loaded.sign_in.map_or_else(
            || self.record_of_earlier_careid(metadata, &facts),
            |record| *record,
        );
        let claims = match &tokens.id_token {
            Some(id_token) => {
                let started = Instant::now();
                let jwks = self
                    .providers
                    .jwks(&self.http, metadata, self.clock.now())
                    .await?;
                // OIDC Core §12.2, and the assurance the sign-in asked for, not the profile's
                // current acr_values.
                let claims = self
                    .validate_id_token(
                        metadata,
                        jwks,
                        id_token,
                        &tokens.access_token,
                        Assurance {
                            acr_values: record.acr_values.as_deref(),
                            min_id_assurance_level: record.min_id_assurance_level,
                        },
                        IdTokenFrom::Refresh {
                            original: &record.id_token,
                        },
                    )
                    .await?;
                blocking(|| self.store.replace_id_token(lock, &facts, id_token))?;
                timings.push(Timing::since("id_token", started));
                Some(claims)
            }
            None => {
                // §12.2 allows a refresh without an ID token: the last valid one stays in use.
                tokens.id_token =
                    blocking(|| self.store.load_id_token(&facts)).unwrap_or_else(|error| {
                        tracing::warn!("could not read the session's last ID token: {error}");
                        None
                    });
                None
            }
        };
        let (userinfo, identity, role) = if parts.userinfo {
            let started = Instant::now();
            let userinfo = self
                .userinfo(metadata, &tokens.access_token, &facts.sub)
                .await?;
            timings.push(Timing::since("userinfo", started));
            let identity = Identity::from_userinfo(&serde_json::Value::Object(userinfo.clone()))?;
            let selected = claims
                .as_ref()
                .and_then(|claims| claims.selected_roleid.as_deref());
            let role = choose_role(&identity, selected, None, facts.selected_role_id.as_deref())?;
            facts.selected_role_id = role.role().map(|role| role.person_roleid.clone());
            (Some(userinfo), Some(identity), Some(role))
        } else {
            (None, None, None)
        };
        let now = unix_seconds(self.clock.now());
        if parts.activity {
            facts.last_activity = now;
        }
        facts.stored_at = now;
        blocking(|| self.store.update_facts(lock, &facts))?;
        Ok(Session {
            profile: self.profile.name.clone(),
            issuer: metadata.issuer.clone(),
            tokens: Tokens::from_response(tokens, self.clock.now()),
            id_token: claims,
            userinfo,
            identity,
            role,
            facts,
            refreshable: true,
            timings,
        })
    }

    /// What a session stored by a careid that did not keep its sign-in record is held to: the
    /// facts it did keep, and the single audience and azp CIS2 always sends. A refresh that
    /// differs is refused and the user signs in again, which stores a full record.
    fn record_of_earlier_careid(
        &self,
        metadata: &ProviderMetadata,
        facts: &SessionFacts,
    ) -> SignInRecord {
        SignInRecord {
            id_token: OriginalIdToken {
                iss: metadata.issuer.clone(),
                sub: facts.sub.clone(),
                aud: vec![self.client_id.clone()],
                azp: Some(self.client_id.clone()),
                auth_time: Some(facts.auth_time),
                nonce: None,
            },
            acr_values: self.profile.acr_values.clone(),
            min_id_assurance_level: self.profile.min_id_assurance_level,
        }
    }

    /// Chooses `role_id` (a `person_roleid` of the user's) as the session's role and remembers
    /// it for the next sign-in. Restores the session first to check the role is the user's.
    pub async fn select_role(&self, role_id: &str) -> Result<Session, SignInError> {
        let mut session = self.use_session().await?;
        self.apply_role(&mut session, role_id).await?;
        Ok(session)
    }

    /// Chooses `role_id` for a session that holds UserInfo (just signed in or restored), and
    /// remembers it for the next sign-in. A session whose ID token carries CIS2's choice
    /// (`selected_roleid`) keeps it: another role is refused naming both (change it in CIS2).
    pub async fn apply_role(
        &self,
        session: &mut Session,
        role_id: &str,
    ) -> Result<(), SignInError> {
        if let (Some(selected), Some(identity)) = (
            session
                .id_token
                .as_ref()
                .and_then(|claims| claims.selected_roleid.as_deref())
                .filter(|id| !id.trim().is_empty()),
            session.identity.as_ref(),
        ) {
            crate::check_requested_role(identity, selected, role_id)?;
        }
        let role = session
            .identity
            .as_ref()
            .and_then(|identity| identity.role(role_id))
            .cloned()
            .ok_or_else(|| SignInError::UnknownRole(role_id.to_owned()))?;
        let lock = self.session_lock().await?;
        session.facts = blocking(|| {
            self.store
                .change_facts(&lock, Some(&session.facts.sub), |facts| {
                    facts.selected_role_id = Some(role.person_roleid.clone())
                })
        })?;
        blocking(|| {
            self.remembered_roles()
                .set(&lock, &session.facts.sub, &role.person_roleid)
        });
        drop(lock);
        session.role = Some(crate::RoleChoice::Selected(role));
        Ok(())
    }

    /// Records the user's activity now, which moves the inactivity limit on. Waits for a
    /// refresh in another process to finish first, so neither change is lost.
    pub async fn record_activity(&self) -> Result<SessionFacts, SignInError> {
        let lock = self.session_lock().await?;
        Ok(blocking(|| {
            self.store.record_activity(&lock, self.clock.now())
        })?)
    }

    /// Signs out: revokes the refresh token when the provider offers revocation, deletes the
    /// session whatever the provider says, and gives the end-session URL (with `id_token_hint`
    /// when the caller still holds the ID token).
    pub async fn logout(
        &self,
        id_token: Option<&SecretString>,
    ) -> Result<LogoutOutcome, SignInError> {
        // Held across revocation too: a refresh in another process must not rotate the token
        // being revoked, nor store a new one after the session is cleared.
        let lock = self.session_lock().await?;
        // The stored session; or, when none can be loaded (its state file is damaged, say), any
        // refresh token the keychain still holds for the profile: signing out revokes it too.
        let (signed_out, refresh_tokens): (Option<String>, Vec<SecretString>) =
            match blocking(|| self.store.load(&self.profile.name))? {
                Restored::Session(loaded) => (
                    Some(loaded.facts.sub),
                    loaded.refresh_token.into_iter().collect(),
                ),
                Restored::SignedOut(_) => {
                    let orphans = blocking(|| self.store.orphaned_refresh_tokens(&lock))?;
                    let sub = orphans.first().map(|(sub, _)| sub.clone());
                    (sub, orphans.into_iter().map(|(_, token)| token).collect())
                }
            };
        let metadata = self.metadata().await;
        let mut outcome = LogoutOutcome {
            revocation: match (&signed_out, refresh_tokens.is_empty()) {
                (None, _) => "no_session",
                (Some(_), true) => "no_refresh_token",
                (Some(_), false) => "revoked",
            },
            signed_out,
            revocation_error: None,
            end_session_url: None,
        };
        for token in &refresh_tokens {
            let failed = match &metadata {
                Ok(metadata) => match self.revoke(metadata, token, "refresh_token").await {
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
        blocking(|| self.store.clear(&lock))?;
        drop(lock);
        if let Ok(metadata) = &metadata {
            outcome.end_session_url = metadata.end_session_endpoint.as_deref().map(|endpoint| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("client_id", &self.client_id);
                if let Some(id_token) = id_token {
                    query.append_pair("id_token_hint", id_token.expose_secret());
                }
                with_query(endpoint, &query.finish())
            });
        }
        Ok(outcome)
    }

    /// The stored session, if it is within its limits. One past a limit is ended (refresh token
    /// revoked when possible, then deleted) and reported with the limit that ended it.
    async fn load_active(&self, lock: &SessionLock) -> Result<Loaded, SignInError> {
        let loaded = match blocking(|| self.store.load(&self.profile.name))? {
            Restored::Session(loaded) => loaded,
            Restored::SignedOut(reason) => {
                return Err(SignInError::NotSignedIn {
                    profile: self.profile.name.clone(),
                    reason: reason.to_string(),
                })
            }
        };
        let why = match check(&loaded.facts, &self.profile.session, self.clock.now()) {
            Verdict::Active { .. } => return Ok(loaded),
            Verdict::EndedInactive => format!(
                "no activity for {} minutes",
                crate::session::inactivity_minutes(&loaded.facts, &self.profile.session)
            ),
            Verdict::EndedAbsolute => format!(
                "it reached its {}-hour limit since sign-in",
                self.profile.session.absolute_hours
            ),
        };
        if let Some(token) = &loaded.refresh_token {
            // Best effort: the session ends locally whether or not the provider can be told.
            match self.metadata().await {
                Ok(metadata) => {
                    if let Err(error) = self.revoke(&metadata, token, "refresh_token").await {
                        tracing::warn!(
                            "could not revoke the ended session's refresh token: {error}"
                        );
                    }
                }
                Err(error) => {
                    tracing::warn!("could not revoke the ended session's refresh token: {error}")
                }
            }
        }
        blocking(|| self.store.clear(lock))?;
        Err(SignInError::SessionEnded {
            profile: self.profile.name.clone(),
            why,
        })
    }

    /// The profile's [`SessionLock`], taken off the async threads: it may wait for another
    /// process's refresh.
    pub(super) async fn session_lock(&self) -> Result<SessionLock, SignInError> {
        let (state_dir, profile, timeout) = (
            self.store.state_dir().to_owned(),
            self.profile.name.clone(),
            self.options.lock_timeout,
        );
        tokio::task::spawn_blocking(move || SessionLock::acquire(&state_dir, &profile, timeout))
            .await
            .map_err(|error| SignInError::InvalidResponse {
                endpoint: "lock",
                problem: error.to_string(),
            })?
            .map_err(SignInError::from)
    }
}
