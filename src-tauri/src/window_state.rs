//! Remembering the window's size and position. The window-state plugin saves on a clean close;
//! this also saves shortly after the user stops moving or resizing, so the place survives a
//! crash, a forced end at shutdown or a killed process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::{Manager, Runtime, Window, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// Quiet time after the last move or resize before saving: a drag sends many events.
const SAVE_AFTER: Duration = Duration::from_millis(400);

static LAST_CHANGE: AtomicU64 = AtomicU64::new(0);

/// The plugin, restoring everything it saved (size, position, maximised, ...).
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_window_state::Builder::default()
        .with_state_flags(StateFlags::all())
        .build()
}

/// Call from `on_window_event`: schedules a save once moves and resizes have settled.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if !matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
        return;
    }
    let change = LAST_CHANGE.fetch_add(1, Ordering::SeqCst) + 1;
    let app = window.app_handle().clone();
    tauri::async_runtime::spawn(async move {
        // Tauri's async runtime is tokio, with its timer enabled.
        tokio::time::sleep(SAVE_AFTER).await;
        if LAST_CHANGE.load(Ordering::SeqCst) == change {
            if let Err(error) = app.save_window_state(StateFlags::all()) {
                tracing::warn!(%error, "could not save the window's size and position");
            }
        }
    });
}
