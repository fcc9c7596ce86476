//! Errors the CLI raises itself, and the documented exit code for any error: one table, reached
//! through one trait ([`Outcome`]).

use std::fmt;

use careid_core::discovery::DiscoveryError;
use careid_core::history::HistoryError;
use careid_core::http::HttpError;
use careid_core::signin::{ErrorClass, SignInError};
use careid_core::{KeychainError, ProfileError, SessionError};
use careid_host::HostError;

use crate::show::{self, GivenProfile};

/// A mistake in the command line or in what the user supplied: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// At least one check failed: a response was found unsuitable (exit 3).
#[derive(Debug)]
pub struct DoctorFailed;

impl std::fmt::Display for DoctorFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the provider fails at least one check (see FAIL above)")
    }
}

impl std::error::Error for DoctorFailed {}

/// `careid run` ran and the run failed: a case failed, or an expected failure did not happen or
/// was never used (exit 9, apart from failing to run at all).
#[derive(Debug)]
pub struct RunFailed {
    pub problems: usize,
}

impl fmt::Display for RunFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the run failed ({} problem{}; see the report)",
            self.problems,
            if self.problems == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for RunFailed {}

/// The exit code of a run that failed.
pub const RUN_FAILED: u8 = 9;

/// The error and its causes on one line, each cause once (many errors already name their
/// cause in their own message), and what to run next when a command fixes it.
pub fn describe(error: &anyhow::Error, profile: &str, given: &GivenProfile) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text += ": ";
            }
            text += &part;
        }
    }
    if let Some(hint) = hint(error, profile, given) {
        text += "; ";
        text += &hint;
    }
    text
}

/// What to do when the keychain cannot keep a session.
const KEYCHAIN_FIX: &str = if cfg!(target_os = "linux") {
    "careid keeps a session's tokens in the OS keychain: on Linux that needs a D-Bus session \
     bus (DBUS_SESSION_BUS_ADDRESS) and a Secret Service such as gnome-keyring or KWallet, \
     unlocked; `careid keychain check` tests it"
} else {
    "careid keeps a session's tokens in the OS keychain; `careid keychain check` tests it"
};

/// What to run next, for the errors a command line can fix.
fn hint(error: &anyhow::Error, profile: &str, given: &GivenProfile) -> Option<String> {
    // However the keychain's failure reached here (exit 7), how to mend it.
    if error.chain().find_map(outcome_of) == Some(ErrorClass::Keychain) {
        return Some(KEYCHAIN_FIX.to_owned());
    }
    let error = error.chain().find_map(sign_in_error)?;
    match error {
        SignInError::NotSignedIn { .. } | SignInError::EndedByProvider { .. } => {
            Some(format!("run {}", given.command("login")))
        }
        SignInError::CredentialMissing { profile, .. } => {
            Some(format!("run `careid profile secret set {profile}`"))
        }
        SignInError::ProfileNotReady { .. } => Some(format!(
            "run `careid profile set {profile} --client-id ID ...`"
        )),
        SignInError::Claims(careid_core::ClaimsError::SelectedRoleConflict { .. }) => {
            Some(format!(
            "sign in without --role to work in the role chosen in CIS2, or choose another there \
             with {}",
            given.command("role select ID")
        ))
        }
        _ => None,
    }
}

/// The sign-in error in `cause`, also when the host wraps it (transparently, so the chain
/// does not list it on its own).
fn sign_in_error<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a SignInError> {
    match cause.downcast_ref::<HostError>() {
        Some(HostError::SignIn(error)) => Some(error),
        _ => cause.downcast_ref::<SignInError>(),
    }
}

/// The documented exit code for an error, chosen by its type, never by its text: the first
/// cause in its chain that says its [`Outcome`], by the one table of exit codes.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    // Not a class of error but an outcome of its own: the run ran, and what it tested failed.
    if error.chain().any(|cause| cause.is::<RunFailed>()) {
        return RUN_FAILED;
    }
    match error
        .chain()
        .find_map(outcome_of)
        .unwrap_or(ErrorClass::Other)
    {
        ErrorClass::Other => 1,
        ErrorClass::Usage => 2,
        ErrorClass::Rejected => 3,
        ErrorClass::Provider => 4,
        ErrorClass::Unreachable => 5,
        ErrorClass::Cancelled => 6,
        ErrorClass::Keychain => 7,
        ErrorClass::NotSignedIn => 8,
    }
}

/// Which documented outcome an error is: the one question [`exit_code`] asks of each cause.
trait Outcome {
    fn outcome(&self) -> ErrorClass;
}

/// The outcome `cause` says, if it is an error careid knows.
fn outcome_of(cause: &(dyn std::error::Error + 'static)) -> Option<ErrorClass> {
    fn of<T: Outcome + std::error::Error + 'static>(
        cause: &(dyn std::error::Error + 'static),
    ) -> Option<ErrorClass> {
        cause.downcast_ref::<T>().map(Outcome::outcome)
    }
    let known = [
        of::<SignInError>,
        of::<HostError>,
        of::<DiscoveryError>,
        of::<HttpError>,
        of::<KeychainError>,
        of::<ProfileError>,
        of::<SessionError>,
        of::<UsageError>,
        of::<DoctorFailed>,
        of::<HistoryError>,
        of::<mock_cis2::DataError>,
        of::<mock_cis2::UnknownFault>,
        of::<mock_cis2::StartError>,
    ];
    known.iter().find_map(|of| of(cause))
}

impl Outcome for SignInError {
    fn outcome(&self) -> ErrorClass {
        self.class()
    }
}

impl Outcome for HostError {
    fn outcome(&self) -> ErrorClass {
        match self {
            HostError::SignIn(error) => error.class(),
            HostError::Profile(error) => error.outcome(),
            HostError::Mock(error) if error.is_usage() => ErrorClass::Usage,
            _ => ErrorClass::Other,
        }
    }
}

impl Outcome for DiscoveryError {
    fn outcome(&self) -> ErrorClass {
        reached(self.is_transient())
    }
}

impl Outcome for HttpError {
    fn outcome(&self) -> ErrorClass {
        reached(self.is_transient())
    }
}

/// A provider that could not be reached now, or whose answer careid found unsuitable.
fn reached(transient: bool) -> ErrorClass {
    if transient {
        ErrorClass::Unreachable
    } else {
        ErrorClass::Rejected
    }
}

impl Outcome for KeychainError {
    fn outcome(&self) -> ErrorClass {
        ErrorClass::Keychain
    }
}

impl Outcome for ProfileError {
    fn outcome(&self) -> ErrorClass {
        match self {
            ProfileError::File { .. } => ErrorClass::Other,
            _ => ErrorClass::Usage,
        }
    }
}

impl Outcome for SessionError {
    fn outcome(&self) -> ErrorClass {
        self.class()
    }
}

impl Outcome for HistoryError {
    fn outcome(&self) -> ErrorClass {
        match self {
            HistoryError::NotFound { .. } | HistoryError::KeepOutOfRange { .. } => {
                ErrorClass::Usage
            }
            HistoryError::Damaged { .. } | HistoryError::Io(_) => ErrorClass::Other,
        }
    }
}

impl Outcome for UsageError {
    fn outcome(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Outcome for DoctorFailed {
    fn outcome(&self) -> ErrorClass {
        ErrorClass::Rejected
    }
}

/// Arguments or files the user gave that the mock cannot use are usage errors.
impl Outcome for mock_cis2::DataError {
    fn outcome(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Outcome for mock_cis2::UnknownFault {
    fn outcome(&self) -> ErrorClass {
        ErrorClass::Usage
    }
}

impl Outcome for mock_cis2::StartError {
    fn outcome(&self) -> ErrorClass {
        use mock_cis2::StartError::{AutoLogin, Data, InvalidIssuer};
        if matches!(self, AutoLogin(_) | Data(_) | InvalidIssuer { .. }) {
            ErrorClass::Usage
        } else {
            ErrorClass::Other
        }
    }
}

/// What just happened to the session a command prints.
#[derive(Debug, Clone, Copy)]
pub enum SessionNews {
    SignedIn,
    RoleChanged,
    /// Nothing: the session as it is (`userinfo`).
    AsItIs,
}

/// A signed-in session for people, or as JSON with `--json`. Never a token.
pub fn print_session(
    context: &crate::context::Context,
    session: &careid_core::signin::Session,
    news: SessionNews,
) -> anyhow::Result<()> {
    use careid_core::RoleChoice;

    if context.args.json {
        return crate::json::print(&crate::json::SessionJson::from(session));
    }
    let user = session.facts.user();
    let profile = &session.profile;
    println!(
        "{}",
        match news {
            SessionNews::SignedIn => format!("Signed in to profile {profile} as {user}"),
            SessionNews::RoleChanged => format!("Role changed for {user} on profile {profile}"),
            SessionNews::AsItIs => format!("Signed in to profile {profile} as {user}"),
        }
    );
    let role = match (&session.role, session.identity.as_ref()) {
        (Some(choice), Some(identity)) => match choice.role() {
            Some(role) => show::role(role, identity),
            None if matches!(choice, RoleChoice::NoRoles) => "none: your Care Identity holds no \
                roles, so you are signed in with nothing to act as; ask your registration \
                authority if you expected one"
                .to_owned(),
            None => format!(
                "not chosen yet: {} lists them, {} chooses",
                context.given_profile().command("roles"),
                context.given_profile().command("role select ID")
            ),
        },
        _ => "none chosen".to_owned(),
    };
    println!("{}", show::line("Role", role));
    if let Some(level) = session.facts.assurance_level {
        println!("{}", show::line("Assurance level", show::level(level)));
    }
    if let Some(claims) = &session.id_token {
        if let Some(acr) = &claims.acr {
            println!("{}", show::line("acr", acr));
        }
        if !claims.amr.is_empty() {
            println!("{}", show::line("amr", claims.amr.join(", ")));
        }
    }
    println!(
        "{}",
        show::line("Signed in at", show::time(session.facts.auth_time))
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    /// A keychain that cannot be read is exit 7 however it reaches the CLI, never "not signed
    /// in" (8), which would tell the user to sign in again for a fault that passes.
    #[test]
    fn keychain_faults_exit_7() {
        use careid_core::signin::SignInError;
        use careid_core::{KeychainError, SessionError};
        let unreadable = || KeychainError::Unreadable {
            account: "session/mock/555/refresh-token".to_owned(),
        };
        let cases: Vec<(&str, anyhow::Error)> = vec![
            ("bare", unreadable().into()),
            (
                "from the store",
                SessionError::Keychain(unreadable()).into(),
            ),
            (
                "from a sign-in",
                SignInError::Session(SessionError::Keychain(unreadable())).into(),
            ),
            (
                "from the client",
                SignInError::Keychain(unreadable()).into(),
            ),
        ];
        for (name, error) in cases {
            assert_eq!(super::exit_code(&error), 7, "{name}");
            let text = super::describe(&error, "mock", &crate::show::GivenProfile::default());
            assert!(text.contains("try again"), "{name}: {text}");
        }
    }

    /// Each kind of error the CLI meets has its documented code, through the one table, also
    /// behind context the commands add.
    #[test]
    fn every_known_error_has_its_documented_exit_code() {
        use anyhow::Context as _;
        let context =
            |error: anyhow::Error| Err::<(), _>(error).context("while testing").unwrap_err();
        let cases: Vec<(&str, anyhow::Error, u8)> = vec![
            ("usage", super::UsageError("bad flag".into()).into(), 2),
            ("doctor", super::DoctorFailed.into(), 3),
            (
                "session lock timeout",
                careid_core::SessionError::LockTimeout {
                    profile: "p".into(),
                    waited: std::time::Duration::from_secs(30),
                }
                .into(),
                6,
            ),
            (
                "session lock timeout in a sign-in",
                careid_core::signin::SignInError::Session(careid_core::SessionError::LockTimeout {
                    profile: "p".into(),
                    waited: std::time::Duration::from_secs(30),
                })
                .into(),
                6,
            ),
            (
                "profile",
                careid_core::ProfileError::Invalid("no".into()).into(),
                2,
            ),
            (
                "keychain",
                careid_core::KeychainError::Unavailable("no bus".into()).into(),
                7,
            ),
            (
                "sign-in usage",
                careid_core::signin::SignInError::ProfileNotReady {
                    profile: "p".into(),
                    missing: "a client id".into(),
                }
                .into(),
                2,
            ),
            ("unknown", anyhow::anyhow!("something else"), 1),
        ];
        for (name, error, code) in cases {
            assert_eq!(super::exit_code(&error), code, "{name}");
            assert_eq!(
                super::exit_code(&context(error)),
                code,
                "{name} behind context"
            );
        }
    }
}
