//! The careid desktop shell: a thin Tauri layer over `careid-core`, composed by `careid-host`
//! exactly as the CLI is, so the two share one session.
//!
//! [`run`] starts the real app (WebView, single instance, remembered window state, logging).
//! [`run_app`] holds everything that does not depend on the runtime, so the shell's tests build
//! the same app on Tauri's mock runtime. The [`desk::Desk`] holds the sign-in state; commands
//! hand over to it, and it publishes the whole state to the UI as one event.

mod activity;
mod clipboard;
mod commands;
mod desk;
mod export;
pub mod ipc;
mod logging;
mod preferences;
mod views;
mod window_state;

use std::sync::Arc;
use std::time::Duration;

use careid_host::{Host, HostOptions};
use tauri::{AppHandle, Emitter, Manager, Runtime};

pub use desk::{Desk, DeskSettings, Hooks};

/// The label of the one window, as declared in `tauri.conf.json` and the capability.
pub const MAIN_WINDOW: &str = "main";

/// The event that carries the whole [`ipc::AppState`] to the UI.
pub const STATE_EVENT: &str = "state-changed";

/// The default wait for the browser to come back (PRODUCT step 4).
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

/// Builds the app on any runtime: commands, the desk and the clipboard; nothing platform-bound.
/// `hooks` is `None` for the real hooks (the window, the event, the system browser).
pub fn run_app<R: Runtime>(
    builder: tauri::Builder<R>,
    context: tauri::Context<R>,
    host: Host,
    settings: DeskSettings,
    hooks: Option<Hooks>,
) -> tauri::Result<tauri::App<R>> {
    let app = builder
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            commands::current_state,
            commands::sign_in,
            commands::cancel_sign_in,
            commands::open_sign_in_page_again,
            commands::copy_sign_in_link,
            commands::choose_role,
            commands::change_role,
            commands::keep_current_role,
            commands::sign_out,
            commands::stay_signed_in,
            commands::note_activity,
            commands::use_profile,
            commands::set_testers_view,
            commands::dismiss_notice,
            commands::copy_access_token,
            commands::export_sign_in_record,
            commands::save_profile,
            commands::remove_profile,
            commands::store_credential,
            commands::check_profile,
        ])
        .build(context)?;
    let hooks = hooks.unwrap_or_else(|| real_hooks(app.handle().clone()));
    let desk = Desk::new(host, settings, hooks);
    app.manage(Arc::clone(&desk));
    app.manage(clipboard::Clipboard::default());
    desk.start();
    Ok(app)
}

/// The window, the event and the system browser (`webbrowser`, which honours `BROWSER`).
fn real_hooks<R: Runtime>(app: AppHandle<R>) -> Hooks {
    let front = app.clone();
    Hooks {
        publish: Box::new(move |state| {
            if let Err(error) = app.emit(STATE_EVENT, state) {
                tracing::warn!("could not send the state to the window: {error}");
            }
        }),
        bring_to_front: Box::new(move || focus_main_window(&front)),
        open_browser: Box::new(|url| webbrowser::open(url).map_err(|error| error.to_string())),
    }
}

/// The settings from the environment: `CAREID_SIGN_IN_TIMEOUT` (seconds to wait for the
/// browser) and `CAREID_MOCK_AUTO_LOGIN` (the built-in mock signs a test user in without a
/// page), as the CLI reads them.
pub fn settings_from_env(host: &Host) -> DeskSettings {
    let sign_in_timeout = std::env::var("CAREID_SIGN_IN_TIMEOUT")
        .ok()
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map_or(SIGN_IN_TIMEOUT, Duration::from_secs);
    let mock_auto_login = std::env::var("CAREID_MOCK_AUTO_LOGIN")
        .ok()
        .filter(|text| !text.is_empty())
        .and_then(|text| match text.parse() {
            Ok(auto_login) => Some(auto_login),
            Err(error) => {
                tracing::warn!("CAREID_MOCK_AUTO_LOGIN is ignored: {error}");
                None
            }
        });
    DeskSettings {
        sign_in_timeout,
        mock_auto_login,
        preferences_path: host.config_dir().join("desktop.json"),
    }
}

/// Starts the desktop app and blocks until it exits.
pub fn run() {
    let builder = tauri::Builder::default()
        // Registered first, as the plugin asks: a second launch hands over and exits before
        // anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("second launch: focusing the existing window");
            focus_main_window(app);
        }))
        .plugin(window_state::plugin())
        .on_window_event(window_state::on_window_event);

    let context = tauri::generate_context!();
    let host = match Host::new(HostOptions::from_env()) {
        Ok(host) => host,
        Err(error) => {
            eprintln!("careid: the desktop app could not start: {error}");
            std::process::exit(1);
        }
    };
    let settings = settings_from_env(&host);
    let app = match run_app(builder, context, host, settings, None) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("careid: the desktop app could not start: {error}");
            std::process::exit(1);
        }
    };
    let _log_guard = logging::init(app.path().app_log_dir().ok());
    // The window is made hidden so the remembered size and place are applied before anyone
    // sees it (no flash of the default size).
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.show();
    }
    let info = ipc::AppInfo::current();
    tracing::info!(
        version = info.version,
        build = info.build_profile,
        "careid started"
    );
    app.run(|_, _| {});
}

/// Unminimise, show, focus: each may fail on a platform that refuses (GNOME's focus-stealing
/// prevention, Wayland); the others still help, and none fails a sign-in.
fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
