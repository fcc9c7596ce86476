//! "Export sign-in record": the testers' record (claims and timings, never a token) as JSON, to
//! a file the user chooses in the platform's save dialog. `CAREID_EXPORT_PATH` names the file
//! instead, for automation that cannot drive a native dialog.

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

use crate::ipc::{CommandError, NoticeClass, TesterRecord};

pub async fn save<R: Runtime>(
    app: &AppHandle<R>,
    record: &TesterRecord,
) -> Result<Option<String>, CommandError> {
    let chosen = match std::env::var_os("CAREID_EXPORT_PATH").filter(|path| !path.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            let dialog = app
                .dialog()
                .file()
                .set_title("Export sign-in record")
                .set_file_name("careid-sign-in.json")
                .add_filter("JSON", &["json"]);
            // The dialog waits for the user: off the async threads.
            tokio::task::spawn_blocking(move || dialog.blocking_save_file())
                .await
                .map_err(|error| {
                    CommandError::new("export_failed", NoticeClass::Other, &error.to_string())
                })?
                .and_then(|path| path.into_path().ok())
        }
    };
    let Some(path) = chosen else {
        return Ok(None);
    };
    let failed = |error: std::io::Error| {
        CommandError::new(
            "export_failed",
            NoticeClass::Other,
            &format!("cannot write {}: {error}", path.display()),
        )
    };
    let bytes = serde_json::to_vec_pretty(record).map_err(|error| failed(error.into()))?;
    careid_core::files::write_atomically(&path, &bytes).map_err(failed)?;
    Ok(Some(path.display().to_string()))
}
