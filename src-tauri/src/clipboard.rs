//! The system clipboard, written from Rust so that a token or the sign-in link never passes
//! through the webview, and the webview needs no clipboard permission of its own (a notice's
//! technical detail, which is no secret, comes to Rust to be copied too). On X11 the
//! clipboard's content is served by the process that set it, so one handle lives as long as the
//! app.
//!
//! A copied access token is handled with care: it is marked for clipboard managers to leave out
//! of their history (Windows: clipboard history, cloud clipboard and monitoring; KDE and others
//! on Linux: the password-manager hint; macOS: the concealed type), and cleared after
//! [`SECRET_KEPT_FOR`] if the clipboard still holds it, so a clipboard synced to another
//! machine (Citrix, Remote Desktop) or read later does not keep it. Something the user copied
//! since is left alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use careid_core::SecretString;

use crate::ipc::{CommandError, NoticeClass};

/// How long a copied secret stays on the clipboard (the UI says so beside the button).
pub const SECRET_KEPT_FOR: Duration = Duration::from_secs(30);

pub struct Clipboard {
    handle: Arc<Mutex<Option<arboard::Clipboard>>>,
    /// Counts what careid puts on the clipboard: a clearing is for the last copy only.
    copies: Arc<AtomicU64>,
    secret_kept_for: Duration,
}

impl Default for Clipboard {
    fn default() -> Self {
        Self::keeping_secrets_for(SECRET_KEPT_FOR)
    }
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard").finish_non_exhaustive()
    }
}

/// What is copied, and so how carefully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    /// A secret (the access token): out of clipboard history, and cleared after a while.
    Secret,
    /// Something to paste into a browser (the sign-in link): out of clipboard history, kept.
    Link,
    /// No secret (a notice's technical detail, for the service desk): copied as it is.
    Text,
}

impl Clipboard {
    /// A clipboard that clears a copied secret after `kept_for` (tests use a short one).
    pub fn keeping_secrets_for(kept_for: Duration) -> Self {
        Self {
            handle: Arc::default(),
            copies: Arc::default(),
            secret_kept_for: kept_for,
        }
    }

    /// Text that is no secret (a notice's technical detail).
    pub fn write_text(&self, text: &str) -> Result<(), CommandError> {
        self.write(&SecretString::new(text.to_owned()), Copied::Text)
    }

    pub fn write(&self, value: &SecretString, copied: Copied) -> Result<(), CommandError> {
        let copy = {
            let mut handle = self.handle.lock().unwrap_or_else(PoisonError::into_inner);
            if handle.is_none() {
                *handle = Some(arboard::Clipboard::new().map_err(failed)?);
            }
            let clipboard = handle.as_mut().expect("made above");
            let set = match copied {
                Copied::Secret | Copied::Link => without_history(clipboard.set()),
                Copied::Text => clipboard.set(),
            };
            set.text(value.expose_secret()).map_err(failed)?;
            self.copies.fetch_add(1, Ordering::AcqRel) + 1
        };
        if copied == Copied::Secret {
            let (handle, copies, value) = (
                Arc::clone(&self.handle),
                Arc::clone(&self.copies),
                value.clone(),
            );
            let kept_for = self.secret_kept_for;
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(kept_for).await;
                clear_if_still(&handle, &copies, copy, &value);
            });
        }
        Ok(())
    }
}

/// Clears the clipboard if it still holds `value` from careid's copy number `copy`.
fn clear_if_still(
    handle: &Mutex<Option<arboard::Clipboard>>,
    copies: &AtomicU64,
    copy: u64,
    value: &SecretString,
) {
    if copies.load(Ordering::Acquire) != copy {
        return;
    }
    let mut handle = handle.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(clipboard) = handle.as_mut() else {
        return;
    };
    let still = clipboard
        .get_text()
        .is_ok_and(|text| text == value.expose_secret());
    if still {
        if let Err(error) = clipboard.clear() {
            tracing::warn!("could not clear the copied access token from the clipboard: {error}");
        }
    }
}

/// The set-up that asks the system's clipboard managers to keep this copy out of their history.
fn without_history(set: arboard::Set<'_>) -> arboard::Set<'_> {
    #[cfg(windows)]
    {
        use arboard::SetExtWindows as _;
        // Monitoring covers history and the cloud clipboard; each is named too, for systems
        // that honour one format and not another.
        set.exclude_from_monitoring()
            .exclude_from_history()
            .exclude_from_cloud()
    }
    #[cfg(target_os = "macos")]
    {
        use arboard::SetExtApple as _;
        set.exclude_from_history()
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        use arboard::SetExtLinux as _;
        set.exclude_from_history()
    }
}

fn failed(error: arboard::Error) -> CommandError {
    // arboard's errors describe the clipboard, never the text.
    CommandError::new(
        "clipboard_failed",
        NoticeClass::Other,
        &format!("the clipboard refused: {error}"),
    )
}
