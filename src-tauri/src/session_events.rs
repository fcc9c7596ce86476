//! Where the app learns that the live session changed or ended, told to the UI one way: the
//! core's watcher ([`careid_core::signin::SessionWatch`]) says what happened as a
//! [`careid_core::signin::SessionEvent`], the desk applies it, and every end becomes one
//! [`Notice`] whose code is its [`EndReason`]'s (`SessionEndCode` in the UI's types), whichever
//! path it came by: the watcher, a restore, or a command's error ([`crate::error::notice_of`]).

use careid_core::session::{EndReason, SessionEnd};

use crate::ipc::{Notice, NoticeClass};

/// The notice for a session that ended for `reason`: its code, and `info` (news, not a failure
/// of the user's), except an answer careid rejected as unsafe, which is told as such.
pub fn end_notice(reason: EndReason, detail: Option<String>) -> Notice {
    let class = match reason {
        EndReason::ResponseRejected => NoticeClass::Rejected,
        _ => NoticeClass::Info,
    };
    Notice::new(reason.code(), class, detail).logged()
}

/// The notice for `end`, with its words as the technical detail.
pub fn ended_notice(end: &SessionEnd) -> Notice {
    end_notice(end.reason, Some(end.detail.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::SessionEndCode;

    /// The UI's name for each end: a match with no wildcard, so a new [`EndReason`] cannot miss
    /// its name in the UI's types.
    fn end_code(reason: EndReason) -> SessionEndCode {
        match reason {
            EndReason::Inactivity => SessionEndCode::Inactivity,
            EndReason::AbsoluteLimit => SessionEndCode::AbsoluteLimit,
            EndReason::SignedOutHere => SessionEndCode::SignedOutHere,
            EndReason::EndedByProvider => SessionEndCode::EndedByProvider,
            EndReason::TokensExpiredWithoutRefresh => SessionEndCode::TokensExpiredWithoutRefresh,
            EndReason::RefreshRejected => SessionEndCode::RefreshRejected,
            EndReason::ResponseRejected => SessionEndCode::ResponseRejected,
            EndReason::KeychainCleared => SessionEndCode::KeychainCleared,
            EndReason::KeychainDamaged => SessionEndCode::KeychainDamaged,
        }
    }

    /// Each end reaches the UI under one code: the core's, which is also the UI type's spelling
    /// and what `careid status --json` prints as `ended.reason`.
    #[test]
    fn each_end_has_one_code_in_the_ui() {
        let mut codes = std::collections::HashSet::new();
        for reason in EndReason::ALL {
            let notice = end_notice(reason, None);
            assert_eq!(notice.code, reason.code(), "{reason:?}");
            assert_eq!(
                serde_json::to_value(end_code(reason)).expect("serialises"),
                serde_json::Value::from(reason.code()),
                "{reason:?}"
            );
            assert!(codes.insert(notice.code), "{reason:?}");
        }
    }
}
