//! Tauri commands: thin entry points the UI calls through `ui/src/api.ts`. Each hands over to
//! the [`Desk`]; the state that follows reaches the UI as the `state-changed` event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use careid_core::SecretString;
use tauri::State;

use crate::clipboard::{Clipboard, Copied};
use crate::desk::Desk;
use crate::ipc::{
    AppState, AttemptSummaryView, AttemptView, CommandError, DoctorLine, ExportKind,
    LoginOverrides, NoticeClass, ProfileInput, RunAnswer, RunPlanView, RunPlansView, RunReportKind,
    Screen,
};

/// Defines, from the one list in `command_list.rs`, [`COMMANDS`] (the names) and [`handler`]
/// (what `run_app` registers), so the two cannot differ.
macro_rules! app_commands {
    ($($name:ident),* $(,)?) => {
        /// Every command the UI may call, by name, as registered.
        #[cfg(test)]
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// The invoke handler for exactly [`COMMANDS`].
        pub fn handler<R: tauri::Runtime>(
        ) -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }
    };
}
include!("command_list.rs");

type Outcome = Result<(), CommandError>;
type DeskState<'a> = State<'a, Arc<Desk>>;

/// Set by the first `current_state` answer, which is logged once.
static FIRST_STATE_ANSWERED: AtomicBool = AtomicBool::new(false);

#[tauri::command]
pub async fn current_state(desk: DeskState<'_>) -> Result<AppState, CommandError> {
    let state = desk.state().await;
    // The UI asks once its page is loaded and listening, and draws the answer at once, so this
    // line is how `cargo xtask bench desktop` sees from outside when the first screen is usable.
    if !FIRST_STATE_ANSWERED.swap(true, Ordering::Relaxed) {
        tracing::info!(
            home = matches!(state.screen, Screen::Home),
            "first state answered"
        );
    }
    Ok(state)
}

#[tauri::command]
pub async fn sign_in(desk: DeskState<'_>, overrides: Option<LoginOverrides>) -> Outcome {
    desk.sign_in(overrides).await
}

#[tauri::command]
pub async fn cancel_sign_in(desk: DeskState<'_>) -> Outcome {
    desk.cancel_sign_in().await
}

#[tauri::command]
pub async fn open_sign_in_page_again(desk: DeskState<'_>) -> Outcome {
    desk.open_sign_in_page_again().await
}

/// The sign-in link goes to the clipboard from Rust: it never enters the webview.
#[tauri::command]
pub async fn copy_sign_in_link(desk: DeskState<'_>, clipboard: State<'_, Clipboard>) -> Outcome {
    clipboard.write(&desk.sign_in_link().await?, Copied::Link)
}

#[tauri::command]
pub async fn choose_role(desk: DeskState<'_>, role_id: String) -> Outcome {
    desk.choose_role(role_id).await
}

#[tauri::command]
pub async fn change_role(desk: DeskState<'_>) -> Outcome {
    desk.change_role().await
}

#[tauri::command]
pub async fn keep_current_role(desk: DeskState<'_>) -> Outcome {
    desk.keep_current_role().await
}

#[tauri::command]
pub async fn sign_out(desk: DeskState<'_>) -> Outcome {
    desk.sign_out().await
}

#[tauri::command]
pub async fn stay_signed_in(desk: DeskState<'_>) -> Outcome {
    desk.stay_signed_in().await
}

#[tauri::command]
pub fn note_activity(desk: DeskState<'_>) {
    desk.note_activity();
}

#[tauri::command]
pub async fn use_profile(desk: DeskState<'_>, name: String) -> Outcome {
    desk.use_profile(name).await
}

#[tauri::command]
pub async fn set_testers_view(desk: DeskState<'_>, enabled: bool) -> Outcome {
    desk.set_testers_view(enabled).await
}

#[tauri::command]
pub async fn dismiss_notice(desk: DeskState<'_>) -> Outcome {
    desk.dismiss_notice().await
}

/// The most of a notice's technical detail the clipboard is given: far more than a notice has.
const NOTICE_DETAILS_MAX: usize = 16 * 1024;

/// "Copy details" on a notice: its technical detail as the UI shows it (a reference, times,
/// codes and CIS2's words; the UI never holds a token), written from Rust as every copy is.
#[tauri::command]
pub async fn copy_notice_details(clipboard: State<'_, Clipboard>, text: String) -> Outcome {
    let mut end = text.len().min(NOTICE_DETAILS_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    clipboard.write_text(&text[..end])
}

/// Only on the user's explicit click, and only to the clipboard, from Rust.
#[tauri::command]
pub async fn copy_access_token(desk: DeskState<'_>, clipboard: State<'_, Clipboard>) -> Outcome {
    clipboard.write(desk.access_token().await?.as_secret(), Copied::Secret)
}

/// Writes the sign-in record (claims and timings, no token) to a file the user chooses; the
/// path written, or `None` when the user cancelled.
#[tauri::command]
pub async fn export_sign_in_record<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desk: DeskState<'_>,
) -> Result<Option<String>, CommandError> {
    let record = desk.sign_in_record().await?;
    let bytes = serde_json::to_vec_pretty(&record).map_err(|error| {
        CommandError::new("export_failed", NoticeClass::Other, &error.to_string())
    })?;
    let export = crate::export::Export {
        title: "Export sign-in record",
        file_name: "careid-sign-in.json",
        kind: ("JSON", "json"),
        bytes: &bytes,
    };
    crate::export::save(&app, export).await
}

/// Every sign-in attempt, newest first (claims and checks, never a token).
#[tauri::command]
pub fn list_attempts(desk: DeskState<'_>) -> Vec<AttemptSummaryView> {
    desk.attempts()
}

/// How many attempts the history keeps (200 until the tester says).
#[tauri::command]
pub fn history_keep(desk: DeskState<'_>) -> u32 {
    desk.history_keep()
}

#[tauri::command]
pub fn set_history_keep(desk: DeskState<'_>, keep: u32) -> Outcome {
    desk.set_history_keep(keep)
}

#[tauri::command]
pub fn attempt_details(desk: DeskState<'_>, id: String) -> Result<AttemptView, CommandError> {
    desk.attempt(&id)
}

/// Writes the chosen attempts as JSON or as a self-contained HTML page, where the user chooses.
#[tauri::command]
pub async fn export_attempts<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desk: DeskState<'_>,
    ids: Vec<String>,
    kind: ExportKind,
) -> Result<Option<String>, CommandError> {
    use careid_core::history::{export_file_name, to_html, to_json, ExportFormat};
    let attempts = ids
        .iter()
        .map(|id| desk.attempt_record(id))
        .collect::<Result<Vec<_>, _>>()?;
    let (format, text, kind_name) = match kind {
        ExportKind::Json => (ExportFormat::Json, to_json(&attempts), "JSON"),
        ExportKind::Html => (
            ExportFormat::Html,
            to_html(&attempts, "careid sign-in attempts"),
            "Web page",
        ),
    };
    let file_name = export_file_name(&attempts, format);
    let export = crate::export::Export {
        title: "Export sign-in attempts",
        file_name: &file_name,
        kind: (kind_name, format.extension()),
        bytes: text.as_bytes(),
    };
    crate::export::save(&app, export).await
}

/// "Sign in again with these settings": the attempt's profile and what it sent.
#[tauri::command]
pub async fn sign_in_again(desk: DeskState<'_>, id: String) -> Outcome {
    desk.sign_in_again(&id).await
}

/// The plans the Runs screen offers: the examples, the plans folder's, the ones opened.
#[tauri::command]
pub async fn list_run_plans(desk: DeskState<'_>) -> Result<RunPlansView, CommandError> {
    Ok(desk.run_plans().await)
}

/// Adds a plan file the user chooses in the platform's open dialog; `None` when they cancelled.
#[tauri::command]
pub async fn open_run_plan<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desk: DeskState<'_>,
) -> Result<Option<RunPlanView>, CommandError> {
    let chosen = crate::export::open(&app, "Open a run plan", ("Run plan", "toml")).await?;
    Ok(chosen.map(|path| desk.open_run_plan(path)))
}

/// Runs a listed plan; its progress arrives with the state.
#[tauri::command]
pub async fn start_run(desk: DeskState<'_>, plan: String, label: Option<String>) -> Outcome {
    desk.start_run(&plan, label).await
}

#[tauri::command]
pub async fn answer_run_step(desk: DeskState<'_>, answer: RunAnswer) -> Outcome {
    desk.answer_run_step(answer).await
}

#[tauri::command]
pub fn cancel_run(desk: DeskState<'_>) -> Outcome {
    desk.cancel_run()
}

/// Back to the plans once the run has finished.
#[tauri::command]
pub async fn close_run(desk: DeskState<'_>) -> Outcome {
    desk.close_run().await
}

/// Writes the finished run's report (JSON, JUnit XML or a web page; no token) where the user
/// chooses.
#[tauri::command]
pub async fn export_run_report<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desk: DeskState<'_>,
    kind: RunReportKind,
) -> Result<Option<String>, CommandError> {
    let (text, file_name) = desk.run_report(kind)?;
    let kind = match kind {
        RunReportKind::Json => ("JSON", "json"),
        RunReportKind::Junit => ("JUnit XML", "xml"),
        RunReportKind::Html => ("Web page", "html"),
    };
    let export = crate::export::Export {
        title: "Export the run's report",
        file_name: &file_name,
        kind,
        bytes: text.as_bytes(),
    };
    crate::export::save(&app, export).await
}

#[tauri::command]
pub async fn save_profile(desk: DeskState<'_>, profile: ProfileInput) -> Outcome {
    desk.save_profile(profile).await
}

#[tauri::command]
pub async fn remove_profile(desk: DeskState<'_>, name: String) -> Outcome {
    desk.remove_profile(name).await
}

/// The value arrives once, from the user's own input, and goes straight to the keychain.
#[tauri::command]
pub async fn store_credential(desk: DeskState<'_>, name: String, value: String) -> Outcome {
    desk.store_credential(name, SecretString::new(value)).await
}

#[tauri::command]
pub async fn check_profile(
    desk: DeskState<'_>,
    name: String,
) -> Result<Vec<DoctorLine>, CommandError> {
    desk.check_profile(name).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::COMMANDS;

    /// The capability grants exactly the registered commands, besides listening to the state
    /// event and letting the notification plugin's page script ask whether notifications are
    /// allowed (they are sent from Rust, never from the page); the permissions `build.rs` wrote
    /// are those commands', none left from an old one.
    #[test]
    fn the_capability_grants_exactly_the_registered_commands() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let capability = std::fs::read_to_string(root.join("capabilities/main-window.json"))
            .expect("the capability");
        let capability: serde_json::Value = serde_json::from_str(&capability).expect("json");
        let (core, granted): (BTreeSet<&str>, BTreeSet<&str>) = capability["permissions"]
            .as_array()
            .expect("a permission list")
            .iter()
            .map(|permission| permission.as_str().expect("a plain permission name"))
            .partition(|permission| permission.contains(':'));
        assert_eq!(
            core,
            BTreeSet::from([
                "core:event:allow-listen",
                "core:event:allow-unlisten",
                "notification:allow-is-permission-granted",
            ])
        );
        let expected: BTreeSet<String> = COMMANDS
            .iter()
            .map(|name| format!("allow-{}", name.replace('_', "-")))
            .collect();
        let granted: BTreeSet<String> = granted.into_iter().map(str::to_owned).collect();
        assert_eq!(granted, expected, "capabilities/main-window.json");

        let generated: BTreeSet<String> = std::fs::read_dir(root.join("permissions/autogenerated"))
            .expect("the generated permissions")
            .map(|entry| entry.expect("an entry").path())
            .filter_map(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
            .collect();
        let names: BTreeSet<String> = COMMANDS.iter().map(|name| (*name).to_owned()).collect();
        assert_eq!(generated, names, "permissions/autogenerated");
    }
}
