//! The provider cache's folder: discovery documents and key sets kept as files, so another
//! careid process reuses them within the hour. Public documents only, never a token or secret.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use careid_oidc::discovery::{
    discovery_document_name, jwks_document_name, DocumentShelf, ProviderCache,
    MAX_KEPT_DOCUMENT_BYTES,
};

use crate::files;

/// A folder of cached provider documents. A folder or file another user could write to is never
/// read (it could hold keys that are not the provider's), and nothing is written to such a folder.
#[derive(Debug, Clone)]
pub struct CacheFolder {
    dir: PathBuf,
}

impl CacheFolder {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// A provider cache whose documents live `max_age` in memory and in this folder.
    pub fn provider_cache(self, max_age: Duration) -> ProviderCache {
        ProviderCache::with_shelf(Some(Arc::new(self)), max_age)
    }

    /// Where an issuer's discovery document is kept.
    pub fn discovery_file(&self, issuer: &str) -> PathBuf {
        self.dir.join(discovery_document_name(issuer))
    }

    /// Where an issuer's key set is kept.
    pub fn jwks_file(&self, issuer: &str) -> PathBuf {
        self.dir.join(jwks_document_name(issuer))
    }

    fn is_private(&self) -> bool {
        files::check_private(&self.dir).is_ok()
    }
}

impl DocumentShelf for CacheFolder {
    fn read(&self, name: &str) -> Option<Vec<u8>> {
        let path = self.dir.join(name);
        if !self.is_private() || files::check_private(&path).is_err() {
            return None;
        }
        if std::fs::metadata(&path).ok()?.len() > MAX_KEPT_DOCUMENT_BYTES {
            return None;
        }
        std::fs::read(&path).ok()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        // Nothing is written where it would not be read back.
        if self.is_private() {
            let _ = files::write_atomically(&self.dir.join(name), bytes);
        }
    }

    fn remove(&self, name: &str) {
        let _ = std::fs::remove_file(self.dir.join(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A discovery document or key set from a folder another user can write to is never
    /// trusted, however fresh, and nothing is written there.
    #[cfg(unix)]
    #[test]
    fn cache_files_others_can_write_are_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        use std::path::Path;
        let issuer = "https://h";
        let text = format!(r#"{{"issuer":"{issuer}","fetched_at":1800000000}}"#);
        let set_mode = |path: &Path, mode| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = CacheFolder::new(dir.path().join("cache"));
        let path = folder.discovery_file(issuer);
        files::write_atomically(&path, text.as_bytes()).expect("written");
        let name = discovery_document_name(issuer);
        assert!(folder.read(&name).is_some(), "private");

        set_mode(&dir.path().join("cache"), 0o777);
        assert!(folder.read(&name).is_none(), "shared folder");
        let other = jwks_document_name(issuer);
        folder.write(&other, b"{}");
        assert!(
            !folder.jwks_file(issuer).exists(),
            "nothing written to a shared folder"
        );

        set_mode(&dir.path().join("cache"), 0o700);
        set_mode(&path, 0o622);
        assert!(folder.read(&name).is_none(), "shared file");
    }
}
