//! Why a session ended, as one enum every front end maps its own way ([`EndReason`]), and the
//! record careid keeps of the last end ([`SessionEnd`], `<profile>.ended.json` beside the state
//! file), so that a process that finds the session gone learns why, whichever process ended it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::session::SessionFacts;
use crate::time::unix_seconds;

/// Why a session ended. Each has a stable [`EndReason::code`], the same in every front end:
/// the app's notice and `careid status --json` (`ended.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// No activity for longer than the inactivity limit.
    Inactivity,
    /// The absolute limit after sign-in (`auth_time`) passed, however active the user was.
    AbsoluteLimit,
    /// Signed out with careid on this computer: the app or `careid logout`.
    SignedOutHere,
    /// The provider ended it: signed out elsewhere, or ended at CIS2 (the broker said so).
    EndedByProvider,
    /// The provider issued no refresh token, and the session's tokens expired (or the provider
    /// no longer accepts them).
    TokensExpiredWithoutRefresh,
    /// The provider no longer accepts the refresh token (`invalid_grant`).
    RefreshRejected,
    /// careid rejected the provider's answer to a refresh as invalid or unsafe.
    ResponseRejected,
    /// The refresh token vanished from the keychain (deleted outside careid, or the keychain
    /// was reset).
    KeychainCleared,
    /// The refresh token in the keychain was damaged; it was deleted.
    KeychainDamaged,
}

impl EndReason {
    /// Every reason, for tables and tests.
    pub const ALL: [EndReason; 9] = [
        EndReason::Inactivity,
        EndReason::AbsoluteLimit,
        EndReason::SignedOutHere,
        EndReason::EndedByProvider,
        EndReason::TokensExpiredWithoutRefresh,
        EndReason::RefreshRejected,
        EndReason::ResponseRejected,
        EndReason::KeychainCleared,
        EndReason::KeychainDamaged,
    ];

    /// A stable code for callers to branch on, as serde writes it.
    pub fn code(self) -> &'static str {
        match self {
            EndReason::Inactivity => "inactivity",
            EndReason::AbsoluteLimit => "absolute_limit",
            EndReason::SignedOutHere => "signed_out_here",
            EndReason::EndedByProvider => "ended_by_provider",
            EndReason::TokensExpiredWithoutRefresh => "tokens_expired_without_refresh",
            EndReason::RefreshRejected => "refresh_rejected",
            EndReason::ResponseRejected => "response_rejected",
            EndReason::KeychainCleared => "keychain_cleared",
            EndReason::KeychainDamaged => "keychain_damaged",
        }
    }

    /// In words, when nothing more particular is known (see [`SessionEnd::detail`]).
    pub fn describe(self) -> &'static str {
        match self {
            EndReason::Inactivity => "no activity for longer than the inactivity limit",
            EndReason::AbsoluteLimit => "it reached its limit since sign-in",
            EndReason::SignedOutHere => "signed out with careid on this computer",
            EndReason::EndedByProvider => crate::broker::ENDED_BY_PROVIDER,
            EndReason::TokensExpiredWithoutRefresh => {
                "the provider issued no refresh token, and its tokens have expired"
            }
            EndReason::RefreshRejected => "the provider no longer accepts the stored session",
            EndReason::ResponseRejected => "the provider's answer to a refresh was rejected",
            EndReason::KeychainCleared => "the stored refresh token is no longer in the keychain",
            EndReason::KeychainDamaged => {
                "the stored refresh token was damaged and has been deleted"
            }
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The end of one session: why, when, and whose. Kept in `<profile>.ended.json` until the next
/// sign-in. Nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnd {
    pub reason: EndReason,
    /// When careid ended it (seconds since the epoch).
    pub at: u64,
    /// The user whose session it was (`sub`).
    pub sub: String,
    /// When that user had signed in (`auth_time`): with `sub`, which sign-in ended.
    pub auth_time: u64,
    /// In words, for people and logs: the limit that passed, or the provider's answer. Never a
    /// token; never to branch on.
    pub detail: String,
}

impl SessionEnd {
    /// The end of the session of `facts`, for `reason`, at `now`, in the reason's own words.
    pub fn new(reason: EndReason, facts: &SessionFacts, now: std::time::SystemTime) -> Self {
        Self {
            reason,
            at: unix_seconds(now),
            sub: facts.sub.clone(),
            auth_time: facts.auth_time,
            detail: reason.describe().to_owned(),
        }
    }

    /// The same end, in more particular words.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Whether this is the end of the session of `facts` (not of an earlier sign-in).
    pub fn ends(&self, facts: &SessionFacts) -> bool {
        self.sub == facts.sub && self.auth_time == facts.auth_time
    }
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes are what serde writes: one spelling in the app, the CLI's JSON and the record.
    #[test]
    fn each_code_is_its_serde_name_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for reason in EndReason::ALL {
            assert_eq!(
                serde_json::to_value(reason).expect("serialises"),
                serde_json::Value::from(reason.code())
            );
            let back: EndReason =
                serde_json::from_value(serde_json::Value::from(reason.code())).expect("parses");
            assert_eq!(back, reason);
            assert!(seen.insert(reason.code()), "{reason:?}");
        }
    }
}
