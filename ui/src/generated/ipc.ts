// Generated from src-tauri/src/ipc.rs by ts-rs: do not edit. `cargo xtask test` fails when stale;
// regenerate with CAREID_UPDATE_IPC=1 cargo test -p careid-desktop generated_ipc_types_are_current.

export type AppInfo = { name: string, version: string, 
/**
 * `debug` or `release`: testers must know which build they are checking.
 */
buildProfile: string, };

export type AppState = { app: AppInfo, 
/**
 * The profile in use.
 */
profile: ProfileView, profiles: Array<ProfileView>, screen: Screen, 
/**
 * Something to tell the user on the screen shown: why a session ended, an error.
 */
notice: Notice | null, preferences: Preferences, 
/**
 * The last sign-in's record for the testers' view, while signed in.
 */
tester: TesterRecord | null, 
/**
 * The built-in mock's test users and authenticators, for the home screen's help.
 */
mockGuide: MockGuide, 
/**
 * The run under way or last finished (the Runs screen).
 */
run: RunView | null, };

export type Preferences = { 
/**
 * The testers' view tab is shown (off by default).
 */
testersView: boolean, };

export type Screen = { "kind": "restoring" } | { "kind": "home" } | { "kind": "waiting" } & WaitingView | { "kind": "chooseRole" } & RoleChoiceView | { "kind": "noRoles" } & NoRolesView | { "kind": "signedIn" } & SignedInView;

export type WaitingView = { startedAt: number, 
/**
 * When the wait gives up.
 */
deadline: number, 
/**
 * After this long with nothing back, the UI says what usually causes it.
 */
hintAfterSeconds: number, 
/**
 * The loopback address the provider sends the browser back to.
 */
redirectUri: string, 
/**
 * The provider has accepted the redirect URI already (a pushed request); when false, a
 * browser that never comes back may be showing the provider's refusal of it.
 */
redirectUriAccepted: boolean, 
/**
 * This sign-in is to change role (CIS2's picker).
 */
changingRole: boolean, };

export type UserView = { 
/**
 * The person's name, when the provider gave one.
 */
name: string | null, 
/**
 * The 12-digit CIS2 user id (UUID).
 */
userId: string, 
/**
 * The name and id together, as careid names the user in sentences and the header.
 */
label: string, };

export type OrganisationView = { name: string, 
/**
 * The ODS code.
 */
code: string, };

export type RoleView = { 
/**
 * `person_roleid`: what the user chooses by.
 */
id: string, 
/**
 * The job role's name, the last part of `role_name` ("Nurse Access Role").
 */
name: string, 
/**
 * `role_code`, `S####:G####:R####`.
 */
code: string, 
/**
 * The job role's R-code.
 */
jobRoleCode: string, organisation: OrganisationView, activities: Array<string>, };

export type RoleGroupView = { organisation: OrganisationView, roles: Array<RoleView>, };

export type RoleChoiceView = { user: UserView, groups: Array<RoleGroupView>, 
/**
 * The role chosen last time (or the session's current one), preselected.
 */
preselected: string | null, 
/**
 * The user is changing the role of a live session (Cancel goes back to it).
 */
changing: boolean, };

export type NoRolesView = { user: UserView, };

export type SignedInView = { user: UserView, role: RoleView | null, 
/**
 * `authentication_assurance_level` (2 or 3), when the ID token said.
 */
assuranceLevel: number | null, 
/**
 * The absolute limit.
 */
endsAt: number, 
/**
 * When inactivity ends the session, if nothing happens before.
 */
idleEndsAt: number, inactivityMinutes: number, absoluteHours: number, 
/**
 * Inactivity will end the session within a minute: the UI warns.
 */
inactivityWarning: boolean, 
/**
 * The user holds more than one role, or CIS2 hosts the choice.
 */
canChangeRole: boolean, 
/**
 * A refresh token is kept, so the session outlives its access token.
 */
refreshable: boolean, };

export type Notice = { code: string, class: NoticeClass, detail: string | null, 
/**
 * The OAuth `error` the provider sent back (for example `access_denied`), if it refused.
 */
providerError: string | null, 
/**
 * The provider's own words (`error_description`), cleaned and capped; shown as its words.
 */
providerDescription: string | null, 
/**
 * The `acr_values` the failed sign-in asked for, when the notice is about a sign-in: which
 * authenticators the words suggest, and what the technical detail says was asked.
 */
acrValues: string | null, 
/**
 * A short reference for the service desk, made once for this notice and logged with it.
 */
reference: string, 
/**
 * When it happened, in Unix milliseconds.
 */
at: number, };

export type NoticeClass = "usage" | "rejected" | "provider" | "unreachable" | "cancelled" | "keychain" | "notSignedIn" | "other" | "info";

export type SessionEndCode = "inactivity" | "absolute_limit" | "signed_out_here" | "ended_by_provider" | "tokens_expired_without_refresh" | "refresh_rejected" | "response_rejected" | "keychain_cleared" | "keychain_damaged";

export type ProfileView = { name: string, description: string, builtIn: boolean, 
/**
 * `None` for the built-in mock (its address is chosen at start).
 */
issuer: string | null, clientId: string | null, clientAuth: string, assertionAlgorithm: string | null, 
/**
 * `notNeeded`, `stored` or `missing`.
 */
credential: string, 
/**
 * What the profile still needs before it can sign in, in words.
 */
missing: Array<string>, scopes: Array<string>, acrValues: string | null, prompt: string | null, maxAge: number | null, 
/**
 * `app` or `cis2`.
 */
roleSelection: string, 
/**
 * Empty for an ephemeral port.
 */
redirectPorts: Array<number>, 
/**
 * The redirect URIs the client must have registered, exactly as sent; empty for an
 * ephemeral port.
 */
redirectUris: Array<string>, 
/**
 * What to register, in one sentence (also for an ephemeral port).
 */
redirectRegister: string, inactivityMinutes: number, absoluteHours: number, };

export type ProfileInput = { name: string, issuer: string | null, clientId: string | null, clientAuth: string | null, assertionAlgorithm: string | null, scopes: Array<string> | null, acrValues: string | null, prompt: string | null, maxAge: number | null, roleSelection: string | null, redirectPorts: Array<number> | null, inactivityMinutes: number | null, absoluteHours: number | null, };

export type LoginOverrides = { acrValues: string | null, prompt: string | null, maxAge: number | null, scopes: Array<string> | null, };

export type TimingView = { step: string, millis: number, };

export type TesterRecord = { profile: string, issuer: string, signedInAt: number, acr: string | null, amr: Array<string>, 
/**
 * `authentication_assurance_level` as it arrived (a string or a number in CIS2).
 */
authenticationAssuranceLevel: string | null, idAssuranceLevel: string | null, 
/**
 * Unix seconds, as in the token.
 */
authTime: number | null, sid: string | null, selectedRoleid: string | null, 
/**
 * What this sign-in asked for (the profile's values with the overrides applied).
 */
requested: LoginOverrides, idTokenClaims: Record<string, unknown>, 
/**
 * The access token's claims when it is a JWT (CIS2's are); its signature is not shown.
 */
accessTokenClaims: Record<string, unknown> | null, userinfo: Record<string, unknown> | null, discovery: Record<string, unknown>, timings: Array<TimingView>, 
/**
 * Callbacks with another `state` refused while the sign-in waited (a web page firing them,
 * an older sign-in's tab).
 */
strayCallbacks: number, };

export type AttemptSummaryView = { id: string, startedAt: number, profile: string, label: string | null, 
/**
 * `signed_in`, `no_roles`, `refused`, `provider_error`, `cancelled`, `timed_out`, `failed`.
 */
verdict: string, errorCode: string | null, 
/**
 * `authentication_assurance_level` as it came back.
 */
level: string | null, 
/**
 * The `amr` values, named where careid knows them.
 */
authenticators: Array<string>, 
/**
 * The rules of the checks that failed.
 */
failedChecks: Array<string>, };

export type AttemptView = { summary: AttemptSummaryView, errorMessage: string | null, asked: Array<AskedView>, returned: Array<NamedValue>, checks: Array<CheckView>, headers: Array<NamedValue>, times: Array<NamedValue>, timings: Array<TimingView>, timeline: Array<NamedValue>, 
/**
 * The record as exported (claims, no token).
 */
record: Record<string, unknown>, };

export type AskedView = { name: string, value: string | null, source: string, };

export type NamedValue = { name: string, value: string, };

export type CheckView = { rule: string, description: string, outcome: string, detail: string | null, };

export type ExportKind = "json" | "html";

export type RunPlansView = { 
/**
 * Where careid looks for plan files (`*.toml`).
 */
folder: string, plans: Array<RunPlanView>, };

export type RunPlanView = { 
/**
 * What `start_run` takes: only plans listed here can run.
 */
id: string, 
/**
 * `example`, `folder` or `opened`.
 */
origin: string, 
/**
 * The file's name (an example's: its name in the docs).
 */
file: string, 
/**
 * `None` when the plan cannot be read (then `problem` says why).
 */
name: string | null, description: string | null, profile: string | null, cases: number, 
/**
 * The built-in mock signs each case in without a page.
 */
unattended: boolean, 
/**
 * How many known deviations its expected-failures file lists.
 */
expectedFailures: number, problem: string | null, };

export type RunView = { plan: string, profile: string, label: string, 
/**
 * `running`, `passed`, `failed` or `cancelled`.
 */
state: string, 
/**
 * The case under way, from 1.
 */
current: number | null, 
/**
 * What the tester uses for the case under way ("Use your FIDO2 security key").
 */
instruction: string | null, 
/**
 * A step only a person can confirm, waiting for the tester's answer.
 */
question: RunQuestionView | null, cases: Array<RunCaseView>, 
/**
 * "2 passed, 1 failed ..." once finished.
 */
summary: string | null, 
/**
 * Why the run failed, in words.
 */
problems: Array<string>, };

export type RunQuestionView = { case: string, step: string, };

export type RunCaseView = { id: string, 
/**
 * The authenticator's name in words.
 */
authenticator: string, 
/**
 * `pending`, `running`, or the result: `passed`, `warning`, `failed`, `skipped`, `review`.
 */
status: string, 
/**
 * The attempt's verdict (`signed_in`, `refused` ...), once run.
 */
verdict: string | null, note: string | null, 
/**
 * The attempt in the history, to open it.
 */
attempt: string | null, 
/**
 * Each failure, warning, step left for review and expected failure.
 */
findings: Array<RunFindingView>, };

export type RunFindingView = { aspect: string, 
/**
 * How it reads: `FAILED`, `WARNING`, `REVIEW`, `expected failure (why)`.
 */
shown: string, expected: string, actual: string, detail: string | null, };

export type RunAnswer = "confirmed" | "denied" | "later";

export type RunReportKind = "json" | "junit" | "html";

export type MockGuide = { users: Array<MockUserView>, authenticators: Array<MockAuthenticatorView>, };

export type MockUserView = { id: string, name: string, description: string, roles: number, 
/**
 * Authenticator ids, strongest first.
 */
authenticators: Array<string>, };

export type MockAuthenticatorView = { id: string, label: string, assuranceLevel: number, amr: string, };

export type DoctorLine = { name: string, status: DoctorStatus, detail: string, };

export type DoctorStatus = "pass" | "warn" | "fail" | "info";

export type CommandError = { code: string, class: NoticeClass, 
/**
 * Technical detail, never a token or secret.
 */
message: string, };

/**
 * Every command the shell registers (src-tauri/src/command_list.rs).
 */
export type Command = "current_state" | "sign_in" | "cancel_sign_in" | "open_sign_in_page_again" | "copy_sign_in_link" | "choose_role" | "change_role" | "keep_current_role" | "sign_out" | "stay_signed_in" | "note_activity" | "use_profile" | "set_testers_view" | "dismiss_notice" | "copy_notice_details" | "copy_access_token" | "export_sign_in_record" | "list_attempts" | "history_keep" | "set_history_keep" | "attempt_details" | "export_attempts" | "sign_in_again" | "list_run_plans" | "open_run_plan" | "start_run" | "answer_run_step" | "cancel_run" | "close_run" | "export_run_report" | "save_profile" | "remove_profile" | "store_credential" | "check_profile";

/**
 * Every code the shell can put in a Notice or a CommandError (src-tauri/src/error.rs,
 * `codes::all`): each needs its words in ui/src/notices.ts.
 */
export const NOTICE_CODES = [
  "absolute_limit",
  "assurance_invalid",
  "assurance_missing",
  "assurance_too_low",
  "attempt_damaged",
  "attempt_not_found",
  "broker_invalid",
  "broker_mismatch",
  "broker_proof_refused",
  "broker_unavailable",
  "broker_unexpected_status",
  "broker_unreachable",
  "browser_failed",
  "cancelled",
  "client_auth_not_offered",
  "client_credential_mismatch",
  "client_credential_missing",
  "clipboard_failed",
  "clock_invalid",
  "code_missing",
  "credential_empty",
  "credential_held_by_broker",
  "credential_key_for_secret",
  "credential_key_not_for_profile",
  "credential_missing",
  "credential_not_a_key",
  "credential_not_needed",
  "ended_by_provider",
  "export_failed",
  "folder_other_owner",
  "folder_uncheckable",
  "folder_writable_by_others",
  "history_io",
  "history_keep_out_of_range",
  "http_client",
  "http_status",
  "id_assurance_invalid",
  "id_assurance_missing",
  "id_assurance_too_low",
  "id_token_auth_time_in_future",
  "id_token_auth_time_too_old",
  "id_token_expired",
  "id_token_invalid_claim",
  "id_token_issued_in_future",
  "id_token_missing_auth_time",
  "id_token_missing_azp",
  "id_token_missing_sub",
  "id_token_not_yet_valid",
  "id_token_past_session_limit",
  "id_token_refresh_mismatch",
  "id_token_untrusted_audience",
  "id_token_wrong_at_hash",
  "id_token_wrong_audience",
  "id_token_wrong_azp",
  "id_token_wrong_c_hash",
  "id_token_wrong_issuer",
  "id_token_wrong_nonce",
  "inactivity",
  "insecure_endpoint",
  "interrupted",
  "invalid_document",
  "invalid_header",
  "invalid_json",
  "invalid_response",
  "invalid_url",
  "issuer_mismatch",
  "issuer_missing",
  "jwks_malformed",
  "jws_alg_none",
  "jws_alg_not_allowed",
  "jws_alg_unknown",
  "jws_bad_signature",
  "jws_crit_unsupported",
  "jws_encrypted",
  "jws_header_unsupported",
  "jws_kid_required",
  "jws_malformed",
  "jws_no_matching_key",
  "jws_unknown_kid",
  "jws_wrong_type",
  "keychain_cleared",
  "keychain_corrupt",
  "keychain_damaged",
  "keychain_failed",
  "keychain_unavailable",
  "keychain_unreadable",
  "keychain_value_too_long",
  "launch_failed",
  "listener_failed",
  "mock_auto_login_mismatch",
  "mock_auto_login_refused",
  "mock_lock_timeout",
  "mock_moved",
  "mock_port_taken",
  "mock_record_failed",
  "mock_start_failed",
  "no_config_folder",
  "no_refresh_token",
  "not_signed_in",
  "not_waiting",
  "oauth_error",
  "open_failed",
  "par_not_offered",
  "par_required",
  "plan_mock_on_other_provider",
  "ports_taken",
  "private_key_encrypted",
  "private_key_malformed",
  "private_key_unsupported",
  "profile_built_in",
  "profile_exists",
  "profile_file",
  "profile_file_invalid",
  "profile_in_use",
  "profile_invalid",
  "profile_not_found",
  "profile_not_ready",
  "provider_error",
  "provider_error_unverified",
  "provider_unavailable",
  "redirect_uri_refused",
  "refresh_rejected",
  "response_rejected",
  "roles_incomplete",
  "run_in_progress",
  "run_needs_sign_out",
  "run_no_question",
  "run_not_found",
  "run_plan_invalid",
  "run_plan_unknown",
  "run_plan_unreadable",
  "selected_role_conflict",
  "selected_role_incomplete",
  "selected_role_unknown",
  "session_ended",
  "session_invalid_profile",
  "session_lock_failed",
  "session_lock_timeout",
  "session_signed_out",
  "session_state_file",
  "session_wrong_lock",
  "sign_in_under_way",
  "signed_out",
  "signed_out_here",
  "signed_out_not_revoked",
  "signing_algorithm_mismatch",
  "signing_algorithm_not_for_cis2",
  "signing_algorithm_unknown",
  "signing_failed",
  "timed_out",
  "timeout",
  "token_endpoint_missing",
  "tokens_expired_without_refresh",
  "too_large",
  "unexpected_status",
  "unknown_role",
  "unreachable",
  "userinfo_invalid_claim",
  "userinfo_not_json",
  "userinfo_not_object",
  "userinfo_rejected",
  "userinfo_sub_missing",
  "userinfo_wrong_audience",
  "userinfo_wrong_issuer",
] as const;

export type NoticeCode = (typeof NOTICE_CODES)[number];
