//! A broker's configuration as `broker.toml` text, for the broker's tests and benches and the
//! end-to-end tests alike (this crate cannot name the broker's types; the text is its interface).

use std::path::Path;

/// The parts of a `broker.toml` that vary between tests; both listeners run behind a proxy
/// (plain HTTP) and the broker relays for one redirect URI.
#[derive(Debug, Clone)]
pub struct BrokerToml<'a> {
    /// `127.0.0.1:0` unless a test runs the broker's program on ports it chose.
    pub public_listen: &'a str,
    /// The public listener's URL (what the provider reaches).
    pub public_url: &'a str,
    pub internal_listen: &'a str,
    /// The internal listener's URL (what careid reaches).
    pub internal_url: &'a str,
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// `client_secret_basic`, `private_key_jwt`, ...
    pub client_auth: &'a str,
    pub credential_file: &'a Path,
    pub assertion_algorithm: Option<&'a str>,
    pub redirect_uri: &'a str,
}

impl<'a> BrokerToml<'a> {
    pub fn new(
        public_url: &'a str,
        internal_url: &'a str,
        issuer: &'a str,
        client_id: &'a str,
        client_auth: &'a str,
        credential_file: &'a Path,
        redirect_uri: &'a str,
    ) -> Self {
        Self {
            public_listen: "127.0.0.1:0",
            public_url,
            internal_listen: "127.0.0.1:0",
            internal_url,
            issuer,
            client_id,
            client_auth,
            credential_file,
            assertion_algorithm: None,
            redirect_uri,
        }
    }

    /// The configuration's text, ending with `tables` (its `[store]`, `[limits]`, ...). Its
    /// handle key is [`HANDLE_KEY_HEX`] in a file beside the credential, written here when
    /// missing.
    pub fn with_tables(&self, tables: &str) -> String {
        let handle_key = self.credential_file.with_file_name("handle-key");
        if !handle_key.exists() {
            crate::files::owner_only_file(
                handle_key.parent().expect("the credential's folder"),
                "handle-key",
                HANDLE_KEY_HEX,
            );
        }
        let assertion_algorithm = self
            .assertion_algorithm
            .map(|alg| format!("assertion_algorithm = \"{alg}\"\n"))
            .unwrap_or_default();
        format!(
            r#"[public]
listen = "{public_listen}"
url = "{public_url}"
tls = {{ mode = "behind_proxy" }}
[internal]
listen = "{internal_listen}"
url = "{internal_url}"
tls = {{ mode = "behind_proxy" }}
[provider]
issuer = "{issuer}"
client_id = "{client_id}"
client_auth = "{client_auth}"
credential_file = "{credential_file}"
{assertion_algorithm}[clients]
redirect_uris = ["{redirect_uri}"]
[handles]
key_files = ["{handle_key}"]
{tables}
"#,
            public_listen = self.public_listen,
            public_url = self.public_url,
            internal_listen = self.internal_listen,
            internal_url = self.internal_url,
            issuer = self.issuer,
            client_id = self.client_id,
            client_auth = self.client_auth,
            credential_file = self.credential_file.display(),
            redirect_uri = self.redirect_uri,
            handle_key = handle_key.display(),
        )
    }
}

/// The test brokers' handle key: 32 bytes in hex.
pub const HANDLE_KEY_HEX: &str = "5c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162738495a6b7c8d9eafb";

/// An embedded store kept in the file at `path`, as a `[store]` table.
pub fn embedded_store(path: &Path) -> String {
    format!(
        "[store]\nkind = \"embedded\"\npath = \"{}\"",
        path.display()
    )
}
