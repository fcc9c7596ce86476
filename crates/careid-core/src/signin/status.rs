//! A stored session's status, a pure query, and the operation that ends a session that must end
//! (recorded with its [`EndReason`], [`crate::SessionStore::end`]); activity moves the inactivity
//! limit on.

use serde::Serialize;

use crate::session::{check, end_due, EndReason, SessionFacts, Verdict};
use crate::signin::restore::ReadRefreshToken;
use crate::signin::{blocking, BrokerCheck, Client, SignInError};
use crate::{Restored, SignedOutReason};

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
    /// Without a refresh token, when the session's tokens expire and it ends with them.
    pub tokens_end_at: Option<u64>,
    /// Through a broker: whether it could be asked if the provider ended the session.
    pub broker: BrokerCheck,
}

/// What the state file and the policy say of the stored session, asking no one and changing
/// nothing ([`Client::session_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredStatus {
    /// Boxed: a session is far larger than a reason for none.
    Session(Box<StoredSession>),
    /// No session; [`SignedOutReason::Ended`] when careid ended the last one, and why.
    SignedOut(SignedOutReason),
}

/// A stored session as its state file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub facts: SessionFacts,
    /// Whether the state file says a refresh token is kept (the keychain is not read).
    pub refreshable: bool,
    /// When the kept access token expires (seconds since the epoch), when one is kept.
    pub access_token_expires_at: Option<u64>,
    /// Set when the session must end now, and why: [`Client::end_if_over_limit`] ends it.
    pub due: Option<EndReason>,
}

impl Client {
    /// The stored session, from the state file and the policy alone: no lock, no keychain, no
    /// request, nothing deleted. A session that must end is reported as due, not ended.
    pub fn session_status(&self) -> Result<StoredStatus, SignInError> {
        let loaded = match blocking(|| self.store.load_state(&self.profile.name))? {
            Restored::Session(loaded) => loaded,
            Restored::SignedOut(reason) => return Ok(StoredStatus::SignedOut(reason)),
        };
        let due = end_due(
            &loaded.facts,
            &self.profile.session,
            loaded.refresh_token_stored,
            loaded.access_token_expires_at,
            self.clock.now(),
        );
        Ok(StoredStatus::Session(Box::new(StoredSession {
            facts: loaded.facts,
            refreshable: loaded.refresh_token_stored,
            access_token_expires_at: loaded.access_token_expires_at,
            due,
        })))
    }

    /// Ends the stored session if it must end, and says why; otherwise its status and limits.
    /// Past a limit, or out of tokens without a refresh token, it is revoked when it can be and
    /// deleted ([`SignInError::SessionEnded`]); gone from the keychain, it is deleted; through
    /// a broker, the broker is asked whether the provider ended it, and if so it is deleted
    /// ([`SignInError::EndedByProvider`]). Each end is recorded with its [`EndReason`].
    pub async fn end_if_over_limit(&self) -> Result<SessionStatus, SignInError> {
        let lock = self.session_lock().await?;
        let (loaded, broker) = self.load_active(&lock, ReadRefreshToken::Now).await?;
        let Verdict::Active {
            ends_at,
            idle_ends_at,
        } = check(&loaded.facts, &self.profile.session, self.clock.now())
        else {
            unreachable!("load_active ends sessions past their limits")
        };
        Ok(SessionStatus {
            refreshable: loaded.refresh_token.is_some(),
            tokens_end_at: loaded
                .access_token_expires_at
                .filter(|_| loaded.refresh_token.is_none()),
            facts: loaded.facts,
            ends_at,
            idle_ends_at,
            broker,
        })
    }

    /// Records the user's activity now, which moves the inactivity limit on. Waits for a
    /// refresh in another process to finish first, so neither change is lost.
    pub async fn record_activity(&self) -> Result<SessionFacts, SignInError> {
        let lock = self.session_lock().await?;
        Ok(blocking(|| {
            self.store.record_activity(&lock, self.clock.now())
        })?)
    }
}
