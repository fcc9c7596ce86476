//! Files the testers' view writes where the user chooses in the platform's save dialog: the
//! sign-in record, the history's attempts and a run's reports (claims and timings, never a
//! token); and the plan file a tester opens. `CAREID_EXPORT_PATH` and `CAREID_OPEN_PATH` name
//! the file instead, for automation that cannot drive a native dialog.

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

use crate::ipc::{CommandError, NoticeClass};

/// What to save and how the dialog offers it.
pub struct Export<'a> {
    pub title: &'a str,
    pub file_name: &'a str,
    /// The filter's name and extension (`JSON`, `json`).
    pub kind: (&'a str, &'a str),
    pub bytes: &'a [u8],
}

/// Writes `export` to the file the user chooses: the path written, or `None` when they cancelled.
pub async fn save<R: Runtime>(
    app: &AppHandle<R>,
    export: Export<'_>,
) -> Result<Option<String>, CommandError> {
    let chosen = match std::env::var_os("CAREID_EXPORT_PATH").filter(|path| !path.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            let dialog = app
                .dialog()
                .file()
                .set_title(export.title)
                .set_file_name(export.file_name)
                .add_filter(export.kind.0, &[export.kind.1]);
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
    careid_core::files::write_atomically(&path, export.bytes).map_err(|error| {
        CommandError::new(
            "export_failed",
            NoticeClass::Other,
            &format!("cannot write {}: {error}", path.display()),
        )
    })?;
    Ok(Some(path.display().to_string()))
}

/// The file the user chooses to open, with `filter` (name, extension); `None` when they
/// cancelled.
pub async fn open<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    filter: (&str, &str),
) -> Result<Option<PathBuf>, CommandError> {
    if let Some(path) = std::env::var_os("CAREID_OPEN_PATH").filter(|path| !path.is_empty()) {
        return Ok(Some(PathBuf::from(path)));
    }
    let dialog = app
        .dialog()
        .file()
        .set_title(title)
        .add_filter(filter.0, &[filter.1]);
    // The dialog waits for the user: off the async threads.
    Ok(
        tokio::task::spawn_blocking(move || dialog.blocking_pick_file())
            .await
            .map_err(|error| {
                CommandError::new("open_failed", NoticeClass::Other, &error.to_string())
            })?
            .and_then(|path| path.into_path().ok()),
    )
}
