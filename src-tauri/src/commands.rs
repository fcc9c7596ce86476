//! Tauri commands: thin entry points the UI calls through `ui/src/api.ts`.

use crate::ipc::AppInfo;

/// Name, version and build profile, shown on the home screen.
#[tauri::command]
pub fn app_info() -> AppInfo {
    AppInfo::current()
}
