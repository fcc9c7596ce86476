//! The page the browser is opened on. A browser is started with its address as a command-line
//! argument, and on a shared machine (terminal servers) every user can read every process's
//! command line (`/proc/*/cmdline`, `ps`). So the authorization URL is written into a small HTML
//! page that redirects to it, in an owner-only folder, and the browser is given the page's
//! `file://` address: other users see only a path they cannot open.
//!
//! The page is removed when the [`LaunchPage`] is dropped (the sign-in ended); pages left by a
//! process that died are removed by the next sign-in once they are a day old.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::files::write_atomically;

/// Pages older than this are left over from a process that ended without removing its own.
const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

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
        remove_stale_pages(dir);
        let mut name = [0u8; 16];
        SystemRandom::new()
            .fill(&mut name)
            .map_err(|_| std::io::Error::other("the system random source failed"))?;
        let name: String = name.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = dir.join(format!("sign-in-{name}.html"));
        let file_url = url::Url::from_file_path(&path)
            .map_err(|()| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the sign-in page folder is not an absolute path",
                )
            })?
            .to_string();
        write_atomically(&path, redirect_page(url).as_bytes())?;
        Ok(Self { path, file_url })
    }

    /// The page's `file://` address, for the browser's command line.
    pub fn file_url(&self) -> &str {
        &self.file_url
    }

    pub fn path(&self) -> &Path {
        &self.path
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
fn redirect_page(url: &str) -> String {
    let url = escape(url);
    format!(
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta http-equiv=\"refresh\" content=\"0; url={url}\">\
         <title>Opening the sign-in page - careid</title></head>\
         <body><main><h1>Opening the sign-in page</h1>\
         <p><a href=\"{url}\">Continue to sign in</a></p></main></body></html>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Removes this folder's pages older than a day: a running sign-in's page is never that old.
fn remove_stale_pages(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name.to_string_lossy().starts_with("sign-in-");
        let stale = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| {
                now.duration_since(modified)
                    .is_ok_and(|age| age > STALE_AFTER)
            });
        if ours && stale {
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
    fn a_relative_folder_is_refused() {
        let error = LaunchPage::write(Path::new("relative/pages"), "https://x").unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(!Path::new("relative").exists());
    }
}
