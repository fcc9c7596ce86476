//! From the core's and the host's errors to what the UI is told: a [`Notice`] (chosen by code,
//! then class) or a command's [`CommandError`]. An error that says a session ended is told as
//! that end, through [`crate::session_events`], so each end has one code however it was learnt.
//! Each notice gets a short reference and its time when it is made, and is logged under that
//! reference, so the service desk can find in the log what the user reads out to them.
//!
//! The words for every code are the UI's (`ui/src/notices.ts`, one table); the tests below list
//! every code the shell can tell the UI, and that list is exported to the UI's types
//! (`NOTICE_CODES` in `ui/src/generated/ipc.ts`), so a code without words does not type-check.

use std::time::{SystemTime, UNIX_EPOCH};

use careid_core::signin::{ErrorClass, SignInError};
use careid_core::LoopbackError;
use careid_host::HostError;

use crate::ipc::{CommandError, Notice, NoticeClass};
use crate::session_events;

/// The letters of a reference: Crockford's base 32, without I, L, O and U, so that it can be
/// read out over the telephone without confusion.
const REFERENCE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// How many characters a reference has (40 random bits).
const REFERENCE_LENGTH: usize = 8;

impl Notice {
    /// A notice made now, under `code`: its own reference and time.
    pub fn new(code: &str, class: NoticeClass, detail: Option<String>) -> Self {
        Self {
            code: code.to_owned(),
            class,
            detail,
            provider_error: None,
            provider_description: None,
            acr_values: None,
            reference: reference(),
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| {
                    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
                }),
        }
    }

    /// Writes the notice to the log under its reference (the detail never holds a token).
    pub fn logged(self) -> Self {
        let detail = self.detail.as_deref().unwrap_or("");
        let provider_error = self.provider_error.as_deref().unwrap_or("");
        if self.class == NoticeClass::Info {
            tracing::info!(reference = %self.reference, code = %self.code, detail, "notice");
        } else {
            tracing::warn!(
                reference = %self.reference,
                code = %self.code,
                class = ?self.class,
                provider_error,
                detail,
                "notice"
            );
        }
        self
    }
}

/// A new reference: [`REFERENCE_LENGTH`] characters of [`REFERENCE_ALPHABET`]. Not a secret:
/// it only has to differ from the other notices the service desk hears about.
fn reference() -> String {
    let mut bytes = [0u8; 5];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness from the OS (never seen): the clock's nanoseconds still tell notices
        // apart.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        bytes.copy_from_slice(&nanos.to_le_bytes()[..5]);
    }
    let bits = bytes
        .iter()
        .fold(0u64, |bits, byte| (bits << 8) | u64::from(*byte));
    (0..REFERENCE_LENGTH)
        .map(|i| {
            let index = (bits >> (5 * (REFERENCE_LENGTH - 1 - i))) & 0x1f;
            char::from(REFERENCE_ALPHABET[usize::try_from(index).unwrap_or(0)])
        })
        .collect()
}

/// News that is not a failure (signed out, cancelled), under `code`.
pub fn info(code: &str) -> Notice {
    Notice::new(code, NoticeClass::Info, None).logged()
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
        SignInError::Loopback(
            LoopbackError::Provider { error, description }
            | LoopbackError::UnverifiedProvider { error, description },
        ) => (Some(error.clone()), description.clone()),
        SignInError::OAuth {
            error, description, ..
        }
        | SignInError::RedirectUriRefused {
            error, description, ..
        } => (Some(error.clone()), description.clone()),
        _ => (None, None),
    };
    let mut notice = Notice::new(error.code(), error.class().into(), Some(error.to_string()));
    notice.provider_error = provider_error;
    notice.provider_description = provider_description;
    notice.logged()
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
        Notice::new(&self.code, self.class, Some(self.message)).logged()
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
    use crate::ipc::{Notice, NoticeClass};
    use careid_core::session::{EndReason, SessionEnd, SessionFacts};
    use careid_core::signin::SignInError;

    use super::{notice_of, REFERENCE_ALPHABET, REFERENCE_LENGTH};

    /// The notice without what is made afresh for each one (its reference and time).
    fn unstamped(notice: Notice) -> Notice {
        Notice {
            reference: String::new(),
            at: 0,
            ..notice
        }
    }

    fn facts() -> SessionFacts {
        SessionFacts {
            profile: "mock".into(),
            sub: "555057896106".into(),
            name: None,
            auth_time: 1_750_000_000,
            last_activity: 1_750_000_000,
            selected_role_id: None,
            role: None,
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
                unstamped(notice.clone()),
                unstamped(crate::session_events::ended_notice(&end)),
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

    /// Each notice has its own reference, eight characters that can be read out without
    /// confusion, and the time it was made.
    #[test]
    fn each_notice_has_its_own_reference_and_time() {
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let notices: Vec<Notice> = (0..200).map(|_| super::info("signed_out")).collect();
        let references: std::collections::HashSet<&str> =
            notices.iter().map(|n| n.reference.as_str()).collect();
        assert_eq!(references.len(), notices.len(), "references repeat");
        for notice in &notices {
            assert_eq!(
                notice.reference.len(),
                REFERENCE_LENGTH,
                "{}",
                notice.reference
            );
            assert!(
                notice
                    .reference
                    .bytes()
                    .all(|b| REFERENCE_ALPHABET.contains(&b)),
                "{}",
                notice.reference
            );
            assert!(u128::from(notice.at) >= before, "{}", notice.at);
        }
        // A failure keeps CIS2's own words beside its code.
        let refused = notice_of(&SignInError::Loopback(
            careid_core::LoopbackError::Provider {
                error: "access_denied".into(),
                description: Some("the user cancelled the sign-in".into()),
            },
        ));
        assert_eq!(refused.code, "provider_error");
        assert_eq!(refused.provider_error.as_deref(), Some("access_denied"));
        assert_eq!(
            refused.provider_description.as_deref(),
            Some("the user cancelled the sign-in")
        );
        assert_eq!(refused.reference.len(), REFERENCE_LENGTH);
        // Without the iss the provider always sends, the same words, under a code of their own.
        let unverified = notice_of(&SignInError::Loopback(
            careid_core::LoopbackError::UnverifiedProvider {
                error: "access_denied".into(),
                description: None,
            },
        ));
        assert_eq!(unverified.code, "provider_error_unverified");
        assert_eq!(unverified.class, NoticeClass::Provider);
        assert_eq!(unverified.provider_error.as_deref(), Some("access_denied"));
    }

    /// The list of codes is what the sources say: a sample of each kind is in it, and nothing
    /// that is not a code.
    #[test]
    fn every_code_the_ui_may_be_told_is_listed() {
        let codes = super::codes::all();
        for code in [
            // SignInError's own, and each error it wraps.
            "profile_not_ready",
            "oauth_error",
            "redirect_uri_refused",
            "launch_failed",
            "client_credential_missing",
            "keychain_unreadable",
            "session_lock_timeout",
            "invalid_document",
            "unreachable",
            "timed_out",
            "provider_error",
            "jws_bad_signature",
            "id_token_wrong_nonce",
            "assurance_too_low",
            "broker_proof_refused",
            // The host's, and the desk's own.
            "profile_not_found",
            "credential_empty",
            "mock_start_failed",
            "folder_other_owner",
            "no_config_folder",
            "sign_in_under_way",
            "not_waiting",
            "clipboard_failed",
            "signed_out",
            // Each end.
            "inactivity",
            "keychain_damaged",
        ] {
            assert!(codes.iter().any(|c| c == code), "{code} is missing");
        }
        for code in &codes {
            assert!(
                !code.is_empty()
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{code:?} is not a code"
            );
        }
        // A pattern's string (IdTokenError's `claim: "c_hash"`) is not a code.
        assert!(!codes.iter().any(|c| c == "c_hash"));
    }
}

/// Every code the shell can put in a [`Notice`] or a [`CommandError`], read from the sources:
/// each error type's `code()` (the ones [`SignInError`] and [`HostError`] wrap, and the host's
/// own), the desk's own codes (`CommandError::new("...")`, `info("...")`), and each session end
/// ([`careid_core::session::EndReason`]). The list becomes `NOTICE_CODES` in the UI's types.
///
/// An error type newly wrapped by `SignInError` or `HostError` joins [`codes::SOURCES`].
#[cfg(test)]
pub(crate) mod codes {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Each error type whose `code()` reaches the UI, and the file it is in, from the
    /// workspace root.
    pub const SOURCES: &[(&str, &str)] = &[
        ("crates/careid-core/src/signin/error.rs", "SignInError"),
        ("crates/careid-core/src/loopback.rs", "LoopbackError"),
        ("crates/careid-core/src/keychain/mod.rs", "KeychainError"),
        ("crates/careid-core/src/session/mod.rs", "SessionError"),
        ("crates/careid-core/src/broker.rs", "BrokerError"),
        ("crates/careid-core/src/profile/mod.rs", "ProfileError"),
        ("crates/oidc/src/client_auth.rs", "ClientAuthError"),
        ("crates/oidc/src/discovery.rs", "DiscoveryError"),
        ("crates/oidc/src/http.rs", "HttpError"),
        ("crates/oidc/src/id_token.rs", "IdTokenError"),
        ("crates/oidc/src/jose.rs", "JoseError"),
        ("crates/oidc/src/claims.rs", "ClaimsError"),
        ("crates/host/src/lib.rs", "HostError"),
        ("crates/host/src/lib.rs", "CredentialError"),
        ("crates/host/src/shared_mock.rs", "SharedMockError"),
        ("crates/files/src/lib.rs", "NotPrivate"),
        ("crates/careid-core/src/history/mod.rs", "HistoryError"),
        ("crates/careid-core/src/runs/files.rs", "PlanReadError"),
        ("crates/host/src/run_cases.rs", "RunSetupError"),
    ];

    /// Sorted, each once.
    pub fn all() -> Vec<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut codes = BTreeSet::new();
        for (file, type_name) in SOURCES {
            let text = std::fs::read_to_string(root.join(file))
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            let found = code_fn_literals(&text, type_name);
            assert!(
                !found.is_empty(),
                "no `impl {type_name}` with a code() in {file}"
            );
            codes.extend(found);
        }
        for file in rust_files(&root.join("src-tauri/src")) {
            let text = std::fs::read_to_string(&file).expect("a source file");
            codes.extend(literal_arguments(&text, "CommandError::new("));
            codes.extend(literal_arguments(&text, "info("));
        }
        for reason in careid_core::session::EndReason::ALL {
            codes.insert(reason.code().to_owned());
        }
        codes.into_iter().collect()
    }

    /// The string literals `impl <type_name>`'s `fn code` returns (after `=>`, alone or in a
    /// block): not those in its patterns.
    fn code_fn_literals(text: &str, type_name: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (start, header) in text.match_indices(&format!("impl {type_name} {{")) {
            let implementation = braced(&text[start + header.len() - 1..]);
            let Some(code_fn) = implementation.find("fn code(&self)") else {
                continue;
            };
            let signature = &implementation[code_fn..];
            let Some(open) = signature.find('{') else {
                continue;
            };
            let body = braced(&signature[open..]);
            for (arrow, _) in body.match_indices("=>") {
                let after = body[arrow + 2..].trim_start();
                let after = after.strip_prefix('{').map_or(after, str::trim_start);
                found.extend(leading_literal(after));
            }
        }
        found
    }

    /// The block `text` opens with its first character, `{`, to its matching `}`.
    fn braced(text: &str) -> &str {
        let mut depth = 0usize;
        for (i, c) in text.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return &text[..=i];
                    }
                }
                _ => {}
            }
        }
        text
    }

    /// The first argument of each call to `call` that is a string literal, outside comments
    /// (`call` not the end of a longer name).
    fn literal_arguments(text: &str, call: &str) -> Vec<String> {
        text.match_indices(call)
            .filter(|(at, _)| {
                let before = &text[..*at];
                let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
                !line.trim_start().starts_with("//")
                    && before
                        .chars()
                        .next_back()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            })
            .filter_map(|(at, _)| leading_literal(text[at + call.len()..].trim_start()))
            .collect()
    }

    /// The string literal `text` starts with, when it ends on the same line.
    fn leading_literal(text: &str) -> Option<String> {
        let inner = text.strip_prefix('"')?;
        let end = inner.find('"')?;
        let literal = &inner[..end];
        (!literal.contains('\n')).then(|| literal.to_owned())
    }

    fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                files.extend(rust_files(&path));
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
        files.sort();
        files
    }
}
