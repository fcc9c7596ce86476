//! The system clipboard, written from Rust so that a token or the sign-in link never passes
//! through the webview, and the webview needs no clipboard permission of its own (a notice's
//! technical detail, which is no secret, comes to Rust to be copied too). On X11 the
//! clipboard's content is served by the process that set it, so one handle lives as long as
//! the app.

use std::sync::Mutex;

use careid_core::SecretString;

use crate::ipc::{CommandError, NoticeClass};

#[derive(Default)]
pub struct Clipboard {
    handle: Mutex<Option<arboard::Clipboard>>,
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard").finish_non_exhaustive()
    }
}

impl Clipboard {
    pub fn write(&self, value: &SecretString) -> Result<(), CommandError> {
        self.write_text(value.expose_secret())
    }

    /// Text that is no secret (a notice's technical detail).
    pub fn write_text(&self, text: &str) -> Result<(), CommandError> {
        let failed = |error: arboard::Error| {
            // arboard's errors describe the clipboard, never the text.
            CommandError::new(
                "clipboard_failed",
                NoticeClass::Other,
                &format!("the clipboard refused: {error}"),
            )
        };
        let mut handle = self
            .handle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if handle.is_none() {
            *handle = Some(arboard::Clipboard::new().map_err(failed)?);
        }
        handle
            .as_mut()
            .expect("made above")
            .set_text(text)
            .map_err(failed)
    }
}
