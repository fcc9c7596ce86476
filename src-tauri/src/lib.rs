//! The careid desktop shell: a thin Tauri layer over `careid-core`.
//!
//! [`run`] starts the real app (WebView, single instance, remembered window state, logging).
//! [`run_app`] holds everything that does not depend on the runtime, so the shell's tests build
//! the same app on Tauri's mock runtime.

mod commands;
mod ipc;
mod logging;
mod window_state;

use tauri::{AppHandle, Manager, Runtime};

/// The label of the one window, as declared in `tauri.conf.json` and the capability.
pub const MAIN_WINDOW: &str = "main";

/// Builds the app on any runtime: commands and state, nothing platform-bound.
pub fn run_app<R: Runtime>(
    builder: tauri::Builder<R>,
    context: tauri::Context<R>,
) -> tauri::Result<tauri::App<R>> {
    builder
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .build(context)
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

    let app = match run_app(builder, tauri::generate_context!()) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("careid: the desktop app could not start: {error}");
            std::process::exit(1);
        }
    };
    let _log_guard = logging::init(app.path().app_log_dir().ok());
    let info = ipc::AppInfo::current();
    tracing::info!(
        version = info.version,
        build = info.build_profile,
        "careid started"
    );
    app.run(|_, _| {});
}

fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        // Each call may fail on a platform that lacks it; the others still bring the window forward.
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindowBuilder;

    fn invoke(command: &str) -> Result<serde_json::Value, serde_json::Value> {
        let app = run_app(mock_builder(), mock_context(noop_assets())).expect("app builds");
        let window = WebviewWindowBuilder::new(&app, MAIN_WINDOW, Default::default())
            .build()
            .expect("window builds");
        get_ipc_response(
            &window,
            InvokeRequest {
                cmd: command.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().expect("valid url"),
                body: tauri::ipc::InvokeBody::default(),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<serde_json::Value>().expect("json body"))
    }

    #[test]
    fn app_info_reports_name_version_and_build_profile() {
        let info = invoke("app_info").expect("app_info answers");
        assert_eq!(info["name"], "careid");
        assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
        let expected_profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        assert_eq!(info["buildProfile"], expected_profile);
    }

    #[test]
    fn unknown_command_is_refused() {
        assert!(invoke("open_anything").is_err());
    }
}
