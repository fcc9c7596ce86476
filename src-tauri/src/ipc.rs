//! The only types that cross to the web UI. TypeScript declarations are generated from them into
//! `ui/src/generated/ipc.ts` (ts-rs); the shell's test `generated_ipc_types_are_current` fails when
//! that file is stale. Tokens, codes, the authorization URL and secrets never appear here: a
//! token leaves Rust only through the clipboard, on the user's explicit click.
//!
//! Times are Unix seconds (`number` in TypeScript), as in the tokens.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the footer shows about this build.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    /// `debug` or `release`: testers must know which build they are checking.
    pub build_profile: String,
}

impl AppInfo {
    pub fn current() -> Self {
        Self {
            name: "careid".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            build_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .into(),
        }
    }
}

/// Everything the UI renders, sent whole with every change (the `state-changed` event) and
/// returned by `current_state`. The UI keeps only navigation of its own (which page or tab).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppState {
    pub app: AppInfo,
    /// The profile in use.
    pub profile: ProfileView,
    pub profiles: Vec<ProfileView>,
    pub screen: Screen,
    /// Something to tell the user on the screen shown: why a session ended, an error.
    pub notice: Option<Notice>,
    pub preferences: Preferences,
    /// The last sign-in's record for the testers' view, while signed in.
    pub tester: Option<TesterRecord>,
    /// The built-in mock's test users and authenticators, for the home screen's help.
    pub mock_guide: MockGuide,
    /// The run under way or last finished (the Runs screen).
    pub run: Option<RunView>,
}

/// Settings remembered across launches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Preferences {
    /// The testers' view tab is shown (off by default).
    pub testers_view: bool,
}

/// Where the sign-in stands.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Screen {
    /// A stored session is being restored at start ("Signing you back in").
    Restoring,
    /// Signed out: the profile and the sign-in button.
    Home,
    /// The browser is open at the provider's sign-in page.
    Waiting(WaitingView),
    /// Signed in; the user holds several roles and chooses one.
    ChooseRole(RoleChoiceView),
    /// Signed in, but the user holds no role: nothing can be done until one is granted.
    NoRoles(NoRolesView),
    SignedIn(SignedInView),
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WaitingView {
    #[ts(type = "number")]
    pub started_at: u64,
    /// When the wait gives up.
    #[ts(type = "number")]
    pub deadline: u64,
    /// After this long with nothing back, the UI says what usually causes it.
    pub hint_after_seconds: u32,
    /// The loopback address the provider sends the browser back to.
    pub redirect_uri: String,
    /// The provider has accepted the redirect URI already (a pushed request); when false, a
    /// browser that never comes back may be showing the provider's refusal of it.
    pub redirect_uri_accepted: bool,
    /// This sign-in is to change role (CIS2's picker).
    pub changing_role: bool,
}

/// Who is signed in. `label` is how careid names the user to people everywhere (the CLI's
/// `login` and `status` too): "Flo Nurse (555057896106)", or the user id alone without a name.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// The person's name, when the provider gave one.
    pub name: Option<String>,
    /// The 12-digit CIS2 user id (UUID).
    pub user_id: String,
    /// The name and id together, as careid names the user in sentences and the header.
    pub label: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationView {
    pub name: String,
    /// The ODS code.
    pub code: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    /// `person_roleid`: what the user chooses by.
    pub id: String,
    /// The job role's name, the last part of `role_name` ("Nurse Access Role").
    pub name: String,
    /// `role_code`, `S####:G####:R####`.
    pub code: String,
    /// The job role's R-code.
    pub job_role_code: String,
    pub organisation: OrganisationView,
    pub activities: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoleGroupView {
    pub organisation: OrganisationView,
    pub roles: Vec<RoleView>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoleChoiceView {
    pub user: UserView,
    pub groups: Vec<RoleGroupView>,
    /// The role chosen last time (or the session's current one), preselected.
    pub preselected: Option<String>,
    /// The user is changing the role of a live session (Cancel goes back to it).
    pub changing: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NoRolesView {
    pub user: UserView,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignedInView {
    pub user: UserView,
    pub role: Option<RoleView>,
    /// `authentication_assurance_level` (2 or 3), when the ID token said.
    pub assurance_level: Option<u8>,
    /// The absolute limit.
    #[ts(type = "number")]
    pub ends_at: u64,
    /// When inactivity ends the session, if nothing happens before.
    #[ts(type = "number")]
    pub idle_ends_at: u64,
    pub inactivity_minutes: u32,
    pub absolute_hours: u32,
    /// Inactivity will end the session within a minute: the UI warns.
    pub inactivity_warning: bool,
    /// The user holds more than one role, or CIS2 hosts the choice.
    pub can_change_role: bool,
    /// A refresh token is kept, so the session outlives its access token.
    pub refreshable: bool,
}

/// Something to tell the user. The UI chooses its sentence by `code` (and `class` when it does
/// not know the code), and by `provider_error` when the provider refused; `detail` is technical
/// and shown folded away with the reference and the time. It never holds a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub code: String,
    pub class: NoticeClass,
    pub detail: Option<String>,
    /// The OAuth `error` the provider sent back (for example `access_denied`), if it refused.
    pub provider_error: Option<String>,
    /// The provider's own words (`error_description`), cleaned and capped; shown as its words.
    pub provider_description: Option<String>,
    /// The `acr_values` the failed sign-in asked for, when the notice is about a sign-in: which
    /// authenticators the words suggest, and what the technical detail says was asked.
    pub acr_values: Option<String>,
    /// A short reference for the service desk, made once for this notice and logged with it.
    pub reference: String,
    /// When it happened, in Unix milliseconds.
    #[ts(type = "number")]
    pub at: u64,
}

/// What kind of thing a notice tells: a failure's class (the core's `ErrorClass`), or `info` for
/// news that is not a failure (signed out, session ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum NoticeClass {
    Usage,
    Rejected,
    Provider,
    Unreachable,
    Cancelled,
    Keychain,
    NotSignedIn,
    Other,
    Info,
}

/// Why a session ended: the `code` of the notice the app shows when it learns that the session
/// ended, one per reason (the core's `EndReason`), whichever way it learnt it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SessionEndCode {
    Inactivity,
    AbsoluteLimit,
    SignedOutHere,
    EndedByProvider,
    TokensExpiredWithoutRefresh,
    RefreshRejected,
    ResponseRejected,
    KeychainCleared,
    KeychainDamaged,
}

/// A profile as the UI lists and edits it. Never a secret: `credential` says only whether one
/// is stored.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub name: String,
    pub description: String,
    pub built_in: bool,
    /// `None` for the built-in mock (its address is chosen at start).
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_auth: String,
    pub assertion_algorithm: Option<String>,
    /// `notNeeded`, `stored` or `missing`.
    pub credential: String,
    /// What the profile still needs before it can sign in, in words.
    pub missing: Vec<String>,
    pub scopes: Vec<String>,
    pub acr_values: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<u32>,
    /// `app` or `cis2`.
    pub role_selection: String,
    /// Empty for an ephemeral port.
    pub redirect_ports: Vec<u16>,
    /// The redirect URIs the client must have registered, exactly as sent; empty for an
    /// ephemeral port.
    pub redirect_uris: Vec<String>,
    /// What to register, in one sentence (also for an ephemeral port).
    pub redirect_register: String,
    pub inactivity_minutes: u32,
    pub absolute_hours: u32,
}

/// A custom profile, or settings for a built-in one, as the profile form sends it.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    pub name: String,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_auth: Option<String>,
    pub assertion_algorithm: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub acr_values: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<u32>,
    pub role_selection: Option<String>,
    pub redirect_ports: Option<Vec<u16>>,
    pub inactivity_minutes: Option<u32>,
    pub absolute_hours: Option<u32>,
}

/// Per-sign-in overrides from the testers' view; empty fields keep the profile's values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct LoginOverrides {
    pub acr_values: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<u32>,
    pub scopes: Option<Vec<String>>,
}

/// How long one step took.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TimingView {
    pub step: String,
    pub millis: u32,
}

/// What the testers' view shows of the last sign-in, and what its export writes: claims and
/// timings, never a token.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TesterRecord {
    pub profile: String,
    pub issuer: String,
    #[ts(type = "number")]
    pub signed_in_at: u64,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// `authentication_assurance_level` as it arrived (a string or a number in CIS2).
    pub authentication_assurance_level: Option<String>,
    pub id_assurance_level: Option<String>,
    /// Unix seconds, as in the token.
    #[ts(type = "number | null")]
    pub auth_time: Option<u64>,
    pub sid: Option<String>,
    pub selected_roleid: Option<String>,
    /// What this sign-in asked for (the profile's values with the overrides applied).
    pub requested: LoginOverrides,
    #[ts(type = "Record<string, unknown>")]
    pub id_token_claims: serde_json::Value,
    /// The access token's claims when it is a JWT (CIS2's are); its signature is not shown.
    #[ts(type = "Record<string, unknown> | null")]
    pub access_token_claims: Option<serde_json::Value>,
    #[ts(type = "Record<string, unknown> | null")]
    pub userinfo: Option<serde_json::Value>,
    #[ts(type = "Record<string, unknown>")]
    pub discovery: serde_json::Value,
    pub timings: Vec<TimingView>,
    /// Callbacks with another `state` refused while the sign-in waited (a web page firing them,
    /// an older sign-in's tab).
    pub stray_callbacks: u32,
}

/// One attempt in the history's list (the testers' view).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttemptSummaryView {
    pub id: String,
    #[ts(type = "number")]
    pub started_at: u64,
    pub profile: String,
    pub label: Option<String>,
    /// `signed_in`, `no_roles`, `refused`, `provider_error`, `cancelled`, `timed_out`, `failed`.
    pub verdict: String,
    pub error_code: Option<String>,
    /// `authentication_assurance_level` as it came back.
    pub level: Option<String>,
    /// The `amr` values, named where careid knows them.
    pub authenticators: Vec<String>,
    /// The rules of the checks that failed.
    pub failed_checks: Vec<String>,
}

/// One attempt in full: what was asked beside what came back, each check, the steps.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    pub summary: AttemptSummaryView,
    pub error_message: Option<String>,
    pub asked: Vec<AskedView>,
    pub returned: Vec<NamedValue>,
    pub checks: Vec<CheckView>,
    pub headers: Vec<NamedValue>,
    pub times: Vec<NamedValue>,
    pub timings: Vec<TimingView>,
    pub timeline: Vec<NamedValue>,
    /// The record as exported (claims, no token).
    #[ts(type = "Record<string, unknown>")]
    pub record: serde_json::Value,
}

/// A value the request carried and where it came from (`profile`, `overridden`, `careid`,
/// `not_sent`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AskedView {
    pub name: String,
    pub value: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NamedValue {
    pub name: String,
    pub value: String,
}

/// One check and its outcome: `passed`, `failed`, `not_applicable` or `not_run`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CheckView {
    pub rule: String,
    pub description: String,
    pub outcome: String,
    pub detail: Option<String>,
}

/// How attempts are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ExportKind {
    Json,
    Html,
}

/// The plans the Runs screen offers: the examples careid ships, the plan files in the plans
/// folder, and any the tester opened this time.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RunPlansView {
    /// Where careid looks for plan files (`*.toml`).
    pub folder: String,
    pub plans: Vec<RunPlanView>,
}

/// A plan, read (or not) from its file.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RunPlanView {
    /// What `start_run` takes: only plans listed here can run.
    pub id: String,
    /// `example`, `folder` or `opened`.
    pub origin: String,
    /// The file's name (an example's: its name in the docs).
    pub file: String,
    /// `None` when the plan cannot be read (then `problem` says why).
    pub name: Option<String>,
    pub description: Option<String>,
    pub profile: Option<String>,
    pub cases: u32,
    /// The built-in mock signs each case in without a page.
    pub unattended: bool,
    /// How many known deviations its expected-failures file lists.
    pub expected_failures: u32,
    pub problem: Option<String>,
}

/// The run under way or last finished.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub plan: String,
    pub profile: String,
    pub label: String,
    /// `running`, `passed`, `failed` or `cancelled`.
    pub state: String,
    /// The case under way, from 1.
    pub current: Option<u32>,
    /// What the tester uses for the case under way ("Use your FIDO2 security key").
    pub instruction: Option<String>,
    /// A step only a person can confirm, waiting for the tester's answer.
    pub question: Option<RunQuestionView>,
    pub cases: Vec<RunCaseView>,
    /// "2 passed, 1 failed ..." once finished.
    pub summary: Option<String>,
    /// Why the run failed, in words.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RunQuestionView {
    pub case: String,
    pub step: String,
}

/// One case of a run.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RunCaseView {
    pub id: String,
    /// The authenticator's name in words.
    pub authenticator: String,
    /// `pending`, `running`, or the result: `passed`, `warning`, `failed`, `skipped`, `review`.
    pub status: String,
    /// The attempt's verdict (`signed_in`, `refused` ...), once run.
    pub verdict: Option<String>,
    pub note: Option<String>,
    /// The attempt in the history, to open it.
    pub attempt: Option<String>,
    /// Each failure, warning, step left for review and expected failure.
    pub findings: Vec<RunFindingView>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RunFindingView {
    pub aspect: String,
    /// How it reads: `FAILED`, `WARNING`, `REVIEW`, `expected failure (why)`.
    pub shown: String,
    pub expected: String,
    pub actual: String,
    pub detail: Option<String>,
}

/// The tester's answer to a step only a person can confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RunAnswer {
    Confirmed,
    Denied,
    /// Leave it for review.
    Later,
}

/// A run's report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RunReportKind {
    Json,
    Junit,
    Html,
}

/// The built-in mock's users and authenticators, for the home screen's help.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MockGuide {
    pub users: Vec<MockUserView>,
    pub authenticators: Vec<MockAuthenticatorView>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MockUserView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub roles: u32,
    /// Authenticator ids, strongest first.
    pub authenticators: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MockAuthenticatorView {
    pub id: String,
    pub label: String,
    pub assurance_level: u8,
    pub amr: String,
}

/// One line of a `doctor` report for a profile's issuer.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DoctorLine {
    pub name: String,
    pub status: DoctorStatus,
    pub detail: String,
}

/// A `doctor` check's outcome (the core's `CheckStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum DoctorStatus {
    Pass,
    Warn,
    Fail,
    Info,
}

/// A command's failure as the UI receives it: it chooses its sentence by `code`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandError {
    pub code: String,
    pub class: NoticeClass,
    /// Technical detail, never a token or secret.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ts_rs::TS;

    use super::*;

    /// The TypeScript declarations of every type above, as `ui/src/generated/ipc.ts` holds them.
    fn typescript() -> String {
        use ts_rs::Config;
        let config = Config::new().with_large_int("number");
        let declarations = [
            AppInfo::decl(&config),
            AppState::decl(&config),
            Preferences::decl(&config),
            Screen::decl(&config),
            WaitingView::decl(&config),
            UserView::decl(&config),
            OrganisationView::decl(&config),
            RoleView::decl(&config),
            RoleGroupView::decl(&config),
            RoleChoiceView::decl(&config),
            NoRolesView::decl(&config),
            SignedInView::decl(&config),
            Notice::decl(&config),
            NoticeClass::decl(&config),
            SessionEndCode::decl(&config),
            ProfileView::decl(&config),
            ProfileInput::decl(&config),
            LoginOverrides::decl(&config),
            TimingView::decl(&config),
            TesterRecord::decl(&config),
            AttemptSummaryView::decl(&config),
            AttemptView::decl(&config),
            AskedView::decl(&config),
            NamedValue::decl(&config),
            CheckView::decl(&config),
            ExportKind::decl(&config),
            RunPlansView::decl(&config),
            RunPlanView::decl(&config),
            RunView::decl(&config),
            RunQuestionView::decl(&config),
            RunCaseView::decl(&config),
            RunFindingView::decl(&config),
            RunAnswer::decl(&config),
            RunReportKind::decl(&config),
            MockGuide::decl(&config),
            MockUserView::decl(&config),
            MockAuthenticatorView::decl(&config),
            DoctorLine::decl(&config),
            DoctorStatus::decl(&config),
            CommandError::decl(&config),
        ];
        let mut text = String::from(
            "// Generated from src-tauri/src/ipc.rs by ts-rs: do not edit. `cargo xtask test` fails when stale;\n\
             // regenerate with CAREID_UPDATE_IPC=1 cargo test -p careid-desktop generated_ipc_types_are_current.\n",
        );
        for declaration in declarations {
            text.push_str("\nexport ");
            text.push_str(&declaration);
            text.push('\n');
        }
        let names: Vec<String> = crate::commands::COMMANDS
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect();
        text.push_str(&format!(
            "\n/**\n * Every command the shell registers (src-tauri/src/command_list.rs).\n */\n\
             export type Command = {};\n",
            names.join(" | ")
        ));
        let codes: Vec<String> = crate::error::codes::all()
            .iter()
            .map(|code| format!("  \"{code}\",\n"))
            .collect();
        text.push_str(&format!(
            "\n/**\n * Every code the shell can put in a Notice or a CommandError (src-tauri/src/error.rs,\n \
             * `codes::all`): each needs its words in ui/src/notices.ts.\n */\n\
             export const NOTICE_CODES = [\n{}] as const;\n\n\
             export type NoticeCode = (typeof NOTICE_CODES)[number];\n",
            codes.concat()
        ));
        text
    }

    #[test]
    fn generated_ipc_types_are_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/generated/ipc.ts");
        let expected = typescript();
        if std::env::var_os("CAREID_UPDATE_IPC").is_some() {
            std::fs::write(&path, &expected).expect("write the generated types");
            return;
        }
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            found == expected,
            "ui/src/generated/ipc.ts is stale: run `CAREID_UPDATE_IPC=1 cargo test -p \
             careid-desktop generated_ipc_types_are_current` and commit it"
        );
    }
}
