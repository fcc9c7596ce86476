//! From the core's and the host's errors to what the UI is told: a [`Notice`] (chosen by code,
//! then class) or a command's [`CommandError`]. An error that says a session ended is told as
//! that end, through [`crate::session_events`], so each end has one code however it was learnt.

use careid_core::signin::{ErrorClass, SignInError};
use careid_core::LoopbackError;
use careid_host::HostError;

use crate::ipc::{CommandError, Notice, NoticeClass};
use crate::session_events;

/// News that is not a failure (signed out, cancelled), under `code`.
pub fn info(code: &str) -> Notice {
    Notice {
        code: code.to_owned(),
        class: NoticeClass::Info,
        detail: None,
        provider_error: None,
        provider_description: None,
    }
}

pub fn not_signed_in() -> CommandError {
    CommandError::new("not_signed_in", NoticeClass::NotSignedIn, "not signed in")
}

pub fn not_waiting() -> CommandError {
    CommandError::new(
        "not_waiting",
        NoticeClass::Usage,
        "no sign-in is waiting for the browser",
    )
}

/// What to tell the user about a failure: its code and class, the technical detail, and the
/// provider's own error when it refused. A failure that ended the session is that end.
pub fn notice_of(error: &SignInError) -> Notice {
    if let Some(reason) = error.end_reason() {
        let detail = match error {
            SignInError::SessionEnded { end, .. } => end.detail.clone(),
            _ => error.to_string(),
        };
        return session_events::end_notice(reason, Some(detail));
    }
    let (provider_error, provider_description) = match error {
        SignInError::Loopback(LoopbackError::Provider { error, description }) => {
            (Some(error.clone()), description.clone())
        }
        SignInError::OAuth {
            error, description, ..
        }
        | SignInError::RedirectUriRefused {
            error, description, ..
        } => (Some(error.clone()), description.clone()),
        _ => (None, None),
    };
    Notice {
        code: error.code().to_owned(),
        class: error.class().into(),
        detail: Some(error.to_string()),
        provider_error,
        provider_description,
    }
}

impl CommandError {
    pub fn new(code: &str, class: NoticeClass, message: &str) -> Self {
        Self {
            code: code.to_owned(),
            class,
            message: message.to_owned(),
        }
    }

    pub fn into_notice(self) -> Notice {
        Notice {
            code: self.code,
            class: self.class,
            detail: Some(self.message),
            provider_error: None,
            provider_description: None,
        }
    }
}

impl From<ErrorClass> for NoticeClass {
    fn from(class: ErrorClass) -> Self {
        match class {
            ErrorClass::Usage => NoticeClass::Usage,
            ErrorClass::Rejected => NoticeClass::Rejected,
            ErrorClass::Provider => NoticeClass::Provider,
            ErrorClass::Unreachable => NoticeClass::Unreachable,
            ErrorClass::Cancelled => NoticeClass::Cancelled,
            ErrorClass::Keychain => NoticeClass::Keychain,
            ErrorClass::NotSignedIn => NoticeClass::NotSignedIn,
            ErrorClass::Other => NoticeClass::Other,
        }
    }
}

impl From<&SignInError> for CommandError {
    fn from(error: &SignInError) -> Self {
        Self::new(error.code(), error.class().into(), &error.to_string())
    }
}

impl From<HostError> for CommandError {
    fn from(error: HostError) -> Self {
        match &error {
            HostError::SignIn(error) => Self::from(error),
            HostError::Profile(_) => {
                Self::new(error.code(), NoticeClass::Usage, &error.to_string())
            }
            HostError::Mock(mock) if mock.is_usage() => {
                Self::new(error.code(), NoticeClass::Usage, &error.to_string())
            }
            _ => Self::new(error.code(), NoticeClass::Other, &error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ipc::NoticeClass;
    use careid_core::session::{EndReason, SessionEnd, SessionFacts};
    use careid_core::signin::SignInError;

    use super::notice_of;

    fn facts() -> SessionFacts {
        SessionFacts {
            profile: "mock".into(),
            sub: "555057896106".into(),
            auth_time: 1_750_000_000,
            last_activity: 1_750_000_000,
            selected_role_id: None,
            sid: None,
            assurance_level: Some(3),
            stored_at: 1_750_000_000,
        }
    }

    /// However an end reaches the desk as an error (a restore, a refresh, a command), the
    /// notice has the end's one code: the same as the watcher's event gives.
    #[test]
    fn an_error_that_ended_the_session_is_told_as_that_end() {
        for reason in EndReason::ALL {
            let end = SessionEnd::new(reason, &facts(), std::time::SystemTime::now());
            let error = SignInError::SessionEnded {
                profile: "mock".into(),
                end: end.clone(),
            };
            let notice = notice_of(&error);
            assert_eq!(
                notice,
                crate::session_events::ended_notice(&end),
                "{reason:?}"
            );
            assert_eq!(notice.code, reason.code(), "{reason:?}");
        }
        let cases = [
            (
                SignInError::EndedByProvider {
                    profile: "mock".into(),
                },
                "ended_by_provider",
            ),
            (
                SignInError::RefreshRejected {
                    error: "invalid_grant".into(),
                },
                "refresh_rejected",
            ),
            (
                SignInError::Ended {
                    reason: EndReason::ResponseRejected,
                    source: Box::new(SignInError::UserInfo("sub differs".into())),
                },
                "response_rejected",
            ),
        ];
        for (error, code) in cases {
            assert_eq!(notice_of(&error).code, code, "{error}");
        }
        // A failure that ended nothing keeps its own code.
        let not_ended = SignInError::UserInfo("sub differs".into());
        assert_eq!(notice_of(&not_ended).code, "userinfo_rejected");
        assert_eq!(notice_of(&not_ended).class, NoticeClass::Rejected);
    }
}
