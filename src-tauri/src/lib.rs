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
mod error;
mod export;
pub mod ipc;
mod logging;
mod preferences;
mod session_events;
mod startup_fault;
mod views;
mod window_state;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use careid_host::{Host, HostOptions};
use tauri::{AppHandle, Emitter, Manager, Runtime, UserAttentionType};
use tauri_plugin_notification::NotificationExt;

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
        // Sent from Rust only (the inactivity warning, when the window is not in front).
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(commands::handler())
        .build(context)?;
    let hooks = hooks.unwrap_or_else(|| real_hooks(app.handle().clone()));
    let clipboard = clipboard::Clipboard::keeping_secrets_for(settings.secret_on_clipboard_for);
    let desk = Desk::new(host, settings, hooks);
    app.manage(Arc::clone(&desk));
    app.manage(clipboard);
    Ok(app)
}

/// Starts the desk's work: the silent restore, then the ticker. The app calls it once its event
/// loop runs, so restoring (which may start the built-in mock and make its keys) does not compete
/// with the window and WebKit for the processor before the window is on screen.
pub fn start_desk<R: Runtime>(app: &AppHandle<R>) {
    app.state::<Arc<Desk>>().start();
}

/// The window, the event, the system browser (`webbrowser`, which honours `BROWSER`) and the
/// system's notifications.
fn real_hooks<R: Runtime>(app: AppHandle<R>) -> Hooks {
    let front = app.clone();
    let attention = app.clone();
    let home_published = AtomicBool::new(false);
    Hooks {
        publish: Box::new(move |state| {
            if let Err(error) = app.emit(STATE_EVENT, state) {
                tracing::warn!("could not send the state to the window: {error}");
            }
            // With the first `current_state` answer (`commands.rs`), how the desktop bench sees
            // from outside when the home screen reaches a UI that asked while restoring.
            if matches!(state.screen, ipc::Screen::Home)
                && !home_published.swap(true, Ordering::Relaxed)
            {
                tracing::info!("home screen published");
            }
        }),
        bring_to_front: Box::new(move || focus_main_window(&front)),
        attention: Box::new(move |message| ask_for_attention(&attention, message)),
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
        secret_on_clipboard_for: clipboard::SECRET_KEPT_FOR,
    }
}

/// Starts the desktop app and blocks until it exits.
pub fn run() {
    let context = tauri::generate_context!();
    let host = match Host::new(HostOptions::from_env()) {
        Ok(host) => host,
        Err(error) => {
            eprintln!("careid: the desktop app could not start: {error}");
            show_startup_fault(context, &error);
            std::process::exit(1);
        }
    };
    let builder = tauri::Builder::default()
        // Registered first, as the plugin asks: a second launch hands over and exits before
        // anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(single_instance_id(&host))
                .callback(|app, _argv, _cwd| {
                    tracing::info!("second launch: focusing the existing window");
                    focus_main_window(app);
                })
                .build(),
        )
        .plugin(window_state::plugin())
        .on_window_event(window_state::on_window_event);

    let settings = settings_from_env(&host);
    let app = match run_app(builder, context, host, settings, None) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("careid: the desktop app could not start: {error}");
            std::process::exit(1);
        }
    };
    let _log_guard = logging::init(app.path().app_log_dir().ok());
    // The window is made visible: the window-state plugin applies the remembered size and place
    // as the window is built, before the event loop first turns and maps it, so nothing flashes
    // at the default size. Making it hidden and showing it here cost 150 ms of launch (the bench).
    let info = ipc::AppInfo::current();
    tracing::info!(
        version = info.version,
        build = info.build_profile,
        "careid started"
    );
    app.run(|handle, event| {
        if let tauri::RunEvent::Ready = event {
            start_desk(handle);
        }
    });
}

/// Shows why careid could not start in its window until the user closes it (a desktop user sees
/// no stderr).
fn show_startup_fault(context: tauri::Context<tauri::Wry>, error: &careid_host::HostError) {
    let fault = startup_fault::StartupFault::new(error);
    match startup_fault::app(tauri::Builder::default(), context, fault) {
        Ok(app) => {
            app.run_return(|_, _| {});
        }
        Err(error) => eprintln!("careid: the window could not open either: {error}"),
    }
}

/// The single-instance name (a D-Bus name on Linux; the plugin uses the app identifier elsewhere):
/// one app per session, that is per configuration folder and keychain service. Two launches on
/// the same session hand over; a launch on another folder (a second profile set, a test's own
/// home) is a separate app, and a stuck one cannot swallow it.
fn single_instance_id(host: &Host) -> String {
    // FNV-1a: stable across builds and platforms, unlike std's hasher; not a secret.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let session = [
        host.config_dir().as_os_str().as_encoded_bytes(),
        host.keychain().service().as_bytes(),
    ];
    for byte in session.join(&0u8) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("org.careid.desktop.s{hash:016x}")
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

/// The inactivity warning has started. A clinician is usually in their clinical system, not in
/// careid's window: when the window is not in front, it asks for attention (the taskbar button
/// flashes on Windows, the window is marked urgent on Linux) and a system notification says
/// why. Each is best effort.
fn ask_for_attention<R: Runtime>(app: &AppHandle<R>, message: &str) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        return;
    };
    let in_front = window.is_focused().unwrap_or(false)
        && !window.is_minimized().unwrap_or(false)
        && window.is_visible().unwrap_or(true);
    if in_front {
        return;
    }
    if let Err(error) = window.request_user_attention(Some(UserAttentionType::Critical)) {
        tracing::warn!("could not ask for attention: {error}");
    }
    if let Err(error) = app
        .notification()
        .builder()
        .title("careid")
        .body(message)
        .show()
    {
        tracing::warn!("could not show a notification: {error}");
    }
    tracing::info!("inactivity warning: asked for attention");
}

#[cfg(test)]
mod tests;
