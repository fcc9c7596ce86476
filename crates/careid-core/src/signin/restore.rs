//! Restoring a stored session after sign-in: the kept tokens or a refresh (OIDC Core §12), the
//! session's limits enforced on the way ([`Client::load_active`]), and what each restore stores.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::discovery::ProviderMetadata;
use crate::id_token::{OriginalIdToken, DEFAULT_CLOCK_SKEW};
use crate::secret::AccessToken;
use crate::session::{
    end_due, inactivity_minutes, EndReason, SessionEnd, SessionFacts, SignInRecord,
    ACTIVITY_WRITE_EVERY,
};
use crate::signin::login::{Assurance, IdTokenFrom};
use crate::signin::token::Revocable;
use crate::signin::{
    blocking, BrokerCheck, Client, ErrorClass, Session, SignInError, Timing, Tokens,
};
use crate::time::unix_seconds;
use crate::{choose_role, Identity, Loaded, Restored, RoleChoice, SessionLock, SignedOutReason};

/// How long before its expiry a kept access token is refreshed rather than reused: the clock
/// skew tolerated on the provider's times.
const REUSE_MARGIN: Duration = DEFAULT_CLOCK_SKEW;

/// What a restore does besides bringing back the tokens.
#[derive(Debug, Clone, Copy)]
pub(super) struct Restore {
    /// Fetch UserInfo (identity and roles).
    userinfo: bool,
    /// Count the call as the user's activity.
    activity: bool,
    /// Refresh even while the kept access token is valid.
    refresh: bool,
    /// Read the kept ID token when the kept access token is used (a refresh brings its own).
    id_token: bool,
}

/// Whether [`Client::load_active`] reads the refresh token from the keychain at once, or leaves
/// it until a refresh needs it (a use of the kept access token then reads one entry, not two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadRefreshToken {
    Now,
    WhenNeeded,
}

/// Whether the kept access token of `loaded` may be used at `now` without asking the provider:
/// until the skew before its expiry, or, with no refresh token to renew it, until it expires.
pub(super) fn kept_token_usable(loaded: &Loaded, now: SystemTime) -> bool {
    let margin = if loaded.refresh_token_stored {
        REUSE_MARGIN.as_secs()
    } else {
        0
    };
    loaded
        .access_token_expires_at
        .is_some_and(|expires_at| expires_at > unix_seconds(now).saturating_add(margin))
}

/// Whether the provider refused the access token itself (RFC 6750 §3.1: 401, `invalid_token`):
/// a refresh may cure that.
pub(super) fn access_token_refused(error: &SignInError) -> bool {
    matches!(
        error,
        SignInError::OAuth {
            endpoint: "userinfo",
            status: 401,
            ..
        } | SignInError::UnexpectedStatus {
            endpoint: "userinfo",
            status: 401,
        }
    )
}

impl Client {
    /// The user uses the session (a command, a role change): one UserInfo request with the
    /// kept access token (a refresh first when it nears its expiry, or after the provider
    /// refused it), recorded as activity, which moves the inactivity limit on.
    pub async fn use_session(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: true,
            activity: true,
            refresh: false,
            id_token: true,
        })
        .await
    }

    /// Tokens for the user to use (`careid token`): the kept access token while it is valid
    /// beyond the skew, with no request at all, else one refresh; no UserInfo, and no kept ID
    /// token read; recorded as activity.
    pub async fn tokens_for_use(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: false,
            activity: true,
            refresh: false,
            id_token: false,
        })
        .await
    }

    /// [`Client::tokens_for_use`] with the kept ID token too (`careid token --id`).
    pub async fn id_token_for_use(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: false,
            activity: true,
            refresh: false,
            id_token: true,
        })
        .await
    }

    /// [`Client::tokens_for_use`] with a refresh however long the kept token has left
    /// (`careid token --refresh`).
    pub async fn fresh_tokens_for_use(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: false,
            activity: true,
            refresh: true,
            id_token: true,
        })
        .await
    }

    /// The session brought back without the user doing anything (the app at start): one
    /// UserInfo request (and a refresh when the kept access token needs one), not activity.
    pub async fn resume(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: true,
            activity: false,
            refresh: false,
            id_token: true,
        })
        .await
    }

    /// New tokens before the old ones expire, in the background: one refresh, no UserInfo, not
    /// activity.
    pub async fn refresh_quietly(&self) -> Result<Session, SignInError> {
        self.restore(Restore {
            userinfo: false,
            activity: false,
            refresh: true,
            id_token: true,
        })
        .await
    }

    /// Restores the session: from the kept tokens while the access token is usable (no request
    /// unless UserInfo is asked for), else, or when the provider refused the kept token, with
    /// exactly one refresh; and, when asked, one UserInfo request (discovery and the JWKS come
    /// from the cache when it is fresh). A session with no refresh token ends when its tokens
    /// can no longer be used.
    pub(super) async fn restore(&self, parts: Restore) -> Result<Session, SignInError> {
        let lock = self.session_lock().await?;
        // Read under the lock only: another process may have rotated the token, or signed out,
        // while this one waited (each keychain read is a D-Bus round trip on Linux).
        let (mut loaded, _) = self
            .load_active(&lock, ReadRefreshToken::WhenNeeded)
            .await?;
        let mut usable = kept_token_usable(&loaded, self.clock.now());
        if usable && !parts.refresh {
            let kept = blocking(|| self.store.load_access_token(&loaded))?;
            if let Some(access_token) = kept {
                match self
                    .with_kept_tokens(&lock, &loaded, access_token, parts)
                    .await
                {
                    Ok(session) => return Ok(session),
                    Err(error) if access_token_refused(&error) => {
                        tracing::info!("the provider refused the kept access token: refreshing");
                        blocking(|| self.store.replace_access_token(&lock, &loaded.facts, None))?;
                        usable = false;
                    }
                    Err(error) => {
                        return Err(self.end_on_rejection(&lock, &loaded.facts, error));
                    }
                }
            } else {
                usable = false;
            }
        }
        if let Some(reason) = blocking(|| self.store.read_refresh_token(&mut loaded))? {
            return Err(self.signed_out(reason));
        }
        let Some(refresh_token) = loaded.refresh_token.clone() else {
            if usable {
                return Err(SignInError::NoRefreshToken {
                    profile: self.profile.name.clone(),
                });
            }
            // Nothing left to use: the provider refused the access token, or it is gone.
            let end = self
                .end_now(EndReason::TokensExpiredWithoutRefresh, &loaded.facts)
                .with_detail(
                    "the provider issued no refresh token, and no longer accepts its access token",
                );
            blocking(|| self.store.end(&lock, &end))?;
            return Err(SignInError::SessionEnded {
                profile: self.profile.name.clone(),
                end,
            });
        };
        let mut timings = Vec::new();
        let started = Instant::now();
        let metadata = self.metadata().await?;
        let tokens = match self.refresh_grant(&metadata, &refresh_token).await {
            Ok(tokens) => tokens,
            Err(SignInError::OAuth { error, .. }) if error == "invalid_grant" => {
                let end = self
                    .end_now(EndReason::RefreshRejected, &loaded.facts)
                    .with_detail(format!(
                        "the provider no longer accepts the stored session ({error})"
                    ));
                blocking(|| self.store.end(&lock, &end))?;
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
        let facts = loaded.facts.clone();
        let rotated = tokens.refresh_token.is_some();
        match self
            .complete_restore(&lock, &metadata, loaded, tokens, parts, timings)
            .await
        {
            Ok(session) => {
                self.note_on_timeline(
                    &facts.sub,
                    "refreshed",
                    if rotated {
                        "a new refresh token replaced the old one (rotation)"
                    } else {
                        "the refresh token was kept"
                    },
                );
                Ok(session)
            }
            // A rejected answer is never kept, and neither is the refresh token that came with
            // it.
            Err(error) => Err(self.end_on_rejection(&lock, &facts, error)),
        }
    }

    /// A restore's failure: a rejected answer ends the session ([`EndReason::ResponseRejected`],
    /// reported as [`SignInError::Ended`] around the rejection); anything else keeps it.
    pub(super) fn end_on_rejection(
        &self,
        lock: &SessionLock,
        facts: &SessionFacts,
        error: SignInError,
    ) -> SignInError {
        if error.class() != ErrorClass::Rejected {
            return error;
        }
        let end = self
            .end_now(EndReason::ResponseRejected, facts)
            .with_detail(error.to_string());
        match blocking(|| self.store.end(lock, &end)) {
            Ok(()) => SignInError::Ended {
                reason: EndReason::ResponseRejected,
                source: Box::new(error),
            },
            Err(stored) => stored.into(),
        }
    }

    /// The end of the session of `facts` for `reason`, now by the client's clock.
    pub(super) fn end_now(&self, reason: EndReason, facts: &SessionFacts) -> SessionEnd {
        SessionEnd::new(reason, facts, self.clock.now())
    }

    /// No session to use: the end careid recorded of the last one, or plainly not signed in.
    pub(super) fn signed_out(&self, reason: SignedOutReason) -> SignInError {
        match reason {
            SignedOutReason::Ended(end) => SignInError::SessionEnded {
                profile: self.profile.name.clone(),
                end,
            },
            reason => SignInError::NotSignedIn {
                profile: self.profile.name.clone(),
                reason,
            },
        }
    }

    // One caller, which hands over everything the restore has so far; a struct for it would
    // only rename the arguments.

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn complete_restore(
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
                            acr_values: record.acr_values.as_ref(),
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
        // The new access token is kept in place of the old one, for the next use.
        let tokens = Tokens::from_response(tokens, self.clock.now()).expiring_with(claims.as_ref());
        blocking(|| self.store.replace_access_token(lock, &facts, tokens.kept()))?;
        let (userinfo, identity, role) = if parts.userinfo {
            let selected = claims
                .as_ref()
                .and_then(|claims| claims.selected_roleid.as_deref());
            let (userinfo, identity, role) = self
                .userinfo_and_role(
                    metadata,
                    &tokens.access_token,
                    &mut facts,
                    selected,
                    &mut timings,
                )
                .await?;
            (Some(userinfo), Some(identity), Some(role))
        } else {
            (None, None, None)
        };
        self.store_use(lock, &mut facts, parts)?;
        Ok(Session {
            profile: self.profile.name.clone(),
            issuer: metadata.issuer.clone(),
            tokens,
            id_token: claims,
            userinfo,
            identity,
            role,
            facts,
            refreshable: true,
            timings,
            stray_callbacks: 0,
            attempt_id: None,
        })
    }

    /// The session from its kept tokens, with no refresh: no request at all unless UserInfo is
    /// asked for, which is made with the kept access token.
    pub(super) async fn with_kept_tokens(
        &self,
        lock: &SessionLock,
        loaded: &Loaded,
        access_token: AccessToken,
        parts: Restore,
    ) -> Result<Session, SignInError> {
        let mut facts = loaded.facts.clone();
        let mut timings = Vec::new();
        let id_token = if parts.id_token {
            blocking(|| self.store.load_id_token(&facts))?
        } else {
            None
        };
        let (issuer, userinfo, identity, role) = if parts.userinfo {
            let metadata = self.metadata().await?;
            let (userinfo, identity, role) = self
                .userinfo_and_role(&metadata, &access_token, &mut facts, None, &mut timings)
                .await?;
            (
                metadata.issuer.clone(),
                Some(userinfo),
                Some(identity),
                Some(role),
            )
        } else {
            (self.issuer.clone(), None, None, None)
        };
        self.store_use(lock, &mut facts, parts)?;
        Ok(Session {
            profile: self.profile.name.clone(),
            issuer,
            tokens: Tokens {
                access_token,
                id_token,
                expires_at: loaded
                    .access_token_expires_at
                    .and_then(|at| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(at))),
                scope: None,
            },
            id_token: None,
            userinfo,
            identity,
            role,
            facts,
            refreshable: loaded.refresh_token_stored,
            timings,
            stray_callbacks: 0,
            attempt_id: None,
        })
    }

    /// UserInfo with `access_token` (`sub` must be the session's), the identity read from it
    /// and the role chosen: `selected` (CIS2's `selected_roleid`), else the session's.
    pub(super) async fn userinfo_and_role(
        &self,
        metadata: &ProviderMetadata,
        access_token: &AccessToken,
        facts: &mut SessionFacts,
        selected: Option<&str>,
        timings: &mut Vec<Timing>,
    ) -> Result<
        (
            serde_json::Map<String, serde_json::Value>,
            Identity,
            RoleChoice,
        ),
        SignInError,
    > {
        let started = Instant::now();
        let userinfo = self.userinfo(metadata, access_token, &facts.sub).await?;
        timings.push(Timing::since("userinfo", started));
        let identity = Identity::from_userinfo(&serde_json::Value::Object(userinfo.clone()))?;
        let role = choose_role(&identity, selected, None, facts.selected_role_id.as_deref())?;
        facts.set_role(role.role(), &identity);
        facts.name = crate::person_name(&identity);
        Ok((userinfo, identity, role))
    }

    /// Writes what a use of the session changed: the time, and the activity when it counts.
    /// Activity alone is written at most every [`ACTIVITY_WRITE_EVERY`], as the app does: a
    /// script calling `careid token` in a loop then costs no file write (and sync) per call, and
    /// the inactivity limit can only come that much early.
    pub(super) fn store_use(
        &self,
        lock: &SessionLock,
        facts: &mut SessionFacts,
        parts: Restore,
    ) -> Result<(), SignInError> {
        let now = unix_seconds(self.clock.now());
        let stored = facts.clone();
        if parts.activity {
            facts.last_activity = now;
        }
        facts.stored_at = now;
        let only_times_changed = SessionFacts {
            last_activity: stored.last_activity,
            stored_at: stored.stored_at,
            ..facts.clone()
        } == stored;
        let activity_written_recently = now >= stored.last_activity
            && now - stored.last_activity < ACTIVITY_WRITE_EVERY.as_secs();
        if only_times_changed && activity_written_recently {
            *facts = stored;
            return Ok(());
        }
        blocking(|| self.store.update_facts(lock, facts))?;
        Ok(())
    }

    /// What a session stored by a careid that did not keep its sign-in record is held to: the
    /// facts it did keep, and the single audience and azp CIS2 always sends. A refresh that
    /// differs is refused and the user signs in again, which stores a full record.
    pub(super) fn record_of_earlier_careid(
        &self,
        metadata: &ProviderMetadata,
        facts: &SessionFacts,
    ) -> SignInRecord {
        SignInRecord {
            id_token: OriginalIdToken {
                iss: metadata.issuer.clone(),
                sub: facts.sub.clone(),
                aud: vec![self.client_id.to_string()],
                azp: Some(self.client_id.to_string()),
                auth_time: Some(facts.auth_time),
                nonce: None,
            },
            acr_values: self.profile.acr_values.clone(),
            min_id_assurance_level: self.profile.min_id_assurance_level,
        }
    }

    /// The stored session, if it is within its limits and, through a broker, the provider has
    /// not ended it. One past a limit is ended (refresh token revoked when possible, then
    /// deleted, the end recorded) and reported with the limit that ended it; one the provider
    /// ended is deleted and reported as [`SignInError::EndedByProvider`]. A broker that cannot
    /// be asked ends nothing: the check says so.
    pub(super) async fn load_active(
        &self,
        lock: &SessionLock,
        refresh_token: ReadRefreshToken,
    ) -> Result<(Loaded, BrokerCheck), SignInError> {
        let loaded = self.load_within_limits(lock, refresh_token).await?;
        match self.ask_broker(&loaded.facts).await {
            Ok(check) => Ok((loaded, check)),
            Err(error @ SignInError::EndedByProvider { .. }) => {
                let end = self.end_now(EndReason::EndedByProvider, &loaded.facts);
                blocking(|| self.store.end(lock, &end))?;
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// The stored session, if it is within its limits (see [`Client::load_active`]).
    pub(super) async fn load_within_limits(
        &self,
        lock: &SessionLock,
        refresh_token: ReadRefreshToken,
    ) -> Result<Loaded, SignInError> {
        let mut loaded = match blocking(|| self.store.load_state(&self.profile.name))? {
            Restored::Session(loaded) => loaded,
            Restored::SignedOut(reason) => return Err(self.signed_out(reason)),
        };
        if refresh_token == ReadRefreshToken::Now {
            if let Some(reason) = blocking(|| self.store.read_refresh_token(&mut loaded))? {
                return Err(self.signed_out(reason));
            }
        }
        let now = self.clock.now();
        let policy = &self.profile.session;
        // A session without a refresh token lives as long as its access token.
        let Some(reason) = end_due(
            &loaded.facts,
            policy,
            loaded.refresh_token_stored,
            loaded.access_token_expires_at,
            now,
        ) else {
            return Ok(*loaded);
        };
        let end = SessionEnd::new(reason, &loaded.facts, now);
        let end = match reason {
            EndReason::Inactivity => end.with_detail(format!(
                "no activity for {} minutes",
                inactivity_minutes(&loaded.facts, policy)
            )),
            EndReason::AbsoluteLimit => end.with_detail(format!(
                "it reached its {}-hour limit since sign-in",
                policy.absolute_hours
            )),
            _ => end,
        };
        if let Err(error) = blocking(|| self.store.read_refresh_token(&mut loaded)) {
            tracing::warn!("could not read the ended session's refresh token: {error}");
        }
        if let Some(token) = loaded.refresh_token.clone() {
            // Best effort: the session ends locally whether or not the provider can be told.
            match self.metadata().await {
                Ok(metadata) => {
                    if let Err(error) = self.revoke(&metadata, &Revocable::Refresh(token)).await {
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
        blocking(|| self.store.end(lock, &end))?;
        Err(SignInError::SessionEnded {
            profile: self.profile.name.clone(),
            end,
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
