//! The page the browser is opened on. A browser is started with its address as a command-line
//! argument, and on a shared machine (terminal servers) every user can read every process's
//! command line (`/proc/*/cmdline`, `ps`). So the authorization URL is written into a small HTML
//! page that redirects to it, in an owner-only folder, and the browser is given the page's
//! `file://` address: other users see only a path they cannot open.
//!
//! Sign-out uses the same kind of page for the provider's end-session URL, whose
//! `id_token_hint` is the ID token itself.
//!
//! The page is removed when the [`LaunchPage`] is dropped (the sign-in ended; the browser read
//! the sign-out page); pages left by a process that died are removed by the next page written,
//! sign-in pages once they are a day old, sign-out pages after two minutes.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::files::write_atomically;

/// Pages older than this are left over from a process that ended without removing its own.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);
/// A sign-out page is read by the browser at once; one this old was left behind.
const SIGN_OUT_STALE_AFTER: Duration = Duration::from_secs(120);

/// What a page leads to: its file name and words.
#[derive(Debug, Clone, Copy)]
enum Purpose {
    SignIn,
    SignOut,
}

impl Purpose {
    fn prefix(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign-in-",
            Purpose::SignOut => "sign-out-",
        }
    }
}

/// A redirect page on disk, removed on drop.
#[derive(Debug)]
pub struct LaunchPage {
    path: PathBuf,
    file_url: String,
}

impl LaunchPage {
    /// Writes a page that sends the browser on to `url`, under `dir` (created owner-only when
    /// missing; it must be an absolute path).
    pub fn write(dir: &Path, url: &str) -> std::io::Result<Self> {
        Self::write_for(dir, url, Purpose::SignIn)
    }

    /// A page that sends the browser on to the provider's end-session `url`.
    pub fn write_sign_out(dir: &Path, url: &str) -> std::io::Result<Self> {
        Self::write_for(dir, url, Purpose::SignOut)
    }

    fn write_for(dir: &Path, url: &str, purpose: Purpose) -> std::io::Result<Self> {
        remove_stale_pages(dir);
        let mut name = [0u8; 16];
        SystemRandom::new()
            .fill(&mut name)
            .map_err(|_| std::io::Error::other("the system random source failed"))?;
        let name: String = name.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = dir.join(format!("{}{name}.html", purpose.prefix()));
        let file_url = url::Url::from_file_path(&path)
            .map_err(|()| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the sign-in page folder is not an absolute path",
                )
            })?
            .to_string();
        write_atomically(&path, redirect_page(url, purpose).as_bytes())?;
        Ok(Self { path, file_url })
    }

    /// The page's `file://` address, for the browser's command line.
    pub fn file_url(&self) -> &str {
        &self.file_url
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits, up to `timeout`, until the page has been read (its access time passes its
    /// modification time), so a caller about to end does not remove it before the browser
    /// opened it. Returns whether it saw the read; on a file system that keeps no access
    /// times it waits the whole `timeout`.
    pub fn wait_until_read(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let read = std::fs::metadata(&self.path).is_ok_and(|meta| {
                match (meta.accessed(), meta.modified()) {
                    (Ok(accessed), Ok(modified)) => accessed > modified,
                    _ => false,
                }
            });
            if read {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The address a launch page at `file_url` sends the browser on to: what a stand-in browser
/// in tests does instead of following the meta refresh. `None` when there is no such page.
pub fn read_target(file_url: &str) -> Option<String> {
    let path = url::Url::parse(file_url).ok()?.to_file_path().ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    let (_, rest) = text.split_once("<a href=\"")?;
    let (escaped, _) = rest.split_once('"')?;
    Some(
        escaped
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

impl Drop for LaunchPage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A page that goes on to `url` at once (meta refresh), with a link for a browser that does not
/// follow it. No script: it works with JavaScript off, and the page sends no referrer on.
fn redirect_page(url: &str, purpose: Purpose) -> String {
    let url = escape(url);
    let (title, link) = match purpose {
        Purpose::SignIn => ("Opening the sign-in page", "Continue to sign in"),
        Purpose::SignOut => ("Opening the sign-out page", "Continue to sign out"),
    };
    format!(
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta http-equiv=\"refresh\" content=\"0; url={url}\">\
         <title>{title} - careid</title></head>\
         <body><main><h1>{title}</h1>\
         <p><a href=\"{url}\">{link}</a></p></main></body></html>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Removes this folder's pages left behind: sign-in pages older than a day (a running
/// sign-in's page is never that old), sign-out pages older than two minutes.
fn remove_stale_pages(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let after = if name.starts_with(Purpose::SignIn.prefix()) {
            STALE_AFTER
        } else if name.starts_with(Purpose::SignOut.prefix()) {
            SIGN_OUT_STALE_AFTER
        } else {
            continue;
        };
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|age| age > after));
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_private_redirects_and_goes_with_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("pages");
        let url = "https://am.example:443/authorize?client_id=a&request_uri=urn%3Ax&x=\"<'>";
        let page = LaunchPage::write(&folder, url).unwrap();
        assert!(
            page.file_url().starts_with("file:///"),
            "{}",
            page.file_url()
        );
        assert!(!page.file_url().contains("request_uri"));
        let text = std::fs::read_to_string(page.path()).unwrap();
        let escaped = "https://am.example:443/authorize?client_id=a&amp;request_uri=urn%3Ax&amp;x=&quot;&lt;&#39;&gt;";
        assert!(
            text.contains(&format!("content=\"0; url={escaped}\"")),
            "{text}"
        );
        assert!(text.contains(&format!("<a href=\"{escaped}\">")), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(page.path()), 0o600);
            assert_eq!(mode(&folder), 0o700);
        }
        assert_eq!(read_target(page.file_url()).as_deref(), Some(url));
        let path = page.path().to_owned();
        drop(page);
        assert!(!path.exists(), "removed when the sign-in ends");
    }

    #[test]
    fn a_sign_out_page_is_private_waits_for_its_reader_and_goes() {
        let dir = tempfile::tempdir().unwrap();
        let url = "https://am.example/connect/endSession?client_id=a&id_token_hint=eyJ.x.y";
        let page = LaunchPage::write_sign_out(dir.path(), url).unwrap();
        assert!(!page.file_url().contains("id_token_hint"));
        let name = page
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("sign-out-"), "{name}");
        let text = std::fs::read_to_string(page.path()).unwrap();
        assert!(text.contains("Continue to sign out"), "{text}");
        assert_eq!(read_target(page.file_url()).as_deref(), Some(url));
        let path = page.path().to_owned();
        drop(page);
        assert!(!path.exists());
    }

    #[test]
    fn a_relative_folder_is_refused() {
        let error = LaunchPage::write(Path::new("relative/pages"), "https://x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(!Path::new("relative").exists());
    }
}
