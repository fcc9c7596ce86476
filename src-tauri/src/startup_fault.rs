//! A fault that stops careid before its desk can start: a folder another user of the computer
//! can change, no config folder. It is shown in careid's own window, with what to do, rather
//! than written to a stderr no desktop user sees: the window asks for its state as always, and
//! is answered with the fault (the UI's "careid could not start" page: the sentence for its
//! code, and the technical detail).

use careid_host::HostError;
use tauri::{App, Builder, Context, Runtime};

use crate::ipc::{CommandError, NoticeClass};

/// Why careid could not start, as the window is told.
#[derive(Debug, Clone)]
pub struct StartupFault(CommandError);

impl StartupFault {
    pub fn new(error: &HostError) -> Self {
        Self(CommandError::new(
            error.code(),
            NoticeClass::Other,
            &error.to_string(),
        ))
    }
}

/// The app that only shows `fault` in careid's window.
pub fn app<R: Runtime>(
    builder: Builder<R>,
    context: Context<R>,
    fault: StartupFault,
) -> tauri::Result<App<R>> {
    // Every command the window sends (it asks `current_state` first) is answered with the
    // fault: there is nothing to act on.
    builder
        .invoke_handler(move |invoke: tauri::ipc::Invoke<R>| {
            invoke.resolver.reject(fault.0.clone());
            true
        })
        .build(context)
}
