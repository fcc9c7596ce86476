//! An independent OpenID provider for interoperability tests: node `oidc-provider` (pinned in
//! `tests/oidc-provider/package.json`, installed by `cargo xtask test`) running
//! `tests/oidc-provider/provider.mjs`, configured as close to CIS2 as it allows.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use careid_e2e::{OidcProvider, OidcProviderOptions};
//! let provider = OidcProvider::start(OidcProviderOptions::default())?;
//! println!("{} {}", provider.issuer(), provider.secret_client_id());
//! # Ok(()) }
//! ```
//!
//! Two confidential clients are registered, both with loopback redirect URIs on any port
//! (`http://127.0.0.1/callback`, `http://[::1]/callback`) and post-logout URIs
//! `http://127.0.0.1/signed-out` and `http://127.0.0.1/callback`:
//! - [`OidcProvider::secret_client_id`]: `client_secret_basic` with [`OidcProvider::client_secret`]
//!   (a fresh GUID per start);
//! - [`OidcProvider::key_client_id`]: `private_key_jwt` (RS256 or RS512) with
//!   [`OidcProvider::private_key_pem`], an RSA 2048 key in PKCS#8 PEM generated per start, whose
//!   public key the provider gets as a file. Its key id is the RFC 7638 thumbprint, which is what
//!   `careid_core::PrivateKey` puts in assertions by default.
//!
//! Their ID tokens are signed RS256. Three more `client_secret_basic` clients, with the same
//! secret, get theirs signed with another of [`ID_TOKEN_ALGORITHMS`]
//! ([`OidcProvider::client_for_id_token_alg`]); the JWKS holds one key per algorithm.
//!
//! The node process runs in a process group of its own and is ended on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use careid_test_fixtures::keys::RsaTestKey;
use serde_json::Value;

use crate::binaries::{find_program, workspace_root};
use crate::process::{in_own_group, kill_group};

/// The algorithms the provider signs ID tokens with, CIS2's default first.
pub const ID_TOKEN_ALGORITHMS: [&str; 4] = ["RS256", "RS512", "PS256", "ES256"];

/// How the provider is started. The defaults are CIS2-like: consent given without a page, an
/// hour for access and ID tokens, 12 hours for refresh tokens.
#[derive(Debug, Clone, Default)]
pub struct OidcProviderOptions {
    /// The port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// Show oidc-provider's consent page after the login page.
    pub consent: bool,
    pub access_token_ttl: Option<Duration>,
    pub id_token_ttl: Option<Duration>,
    pub refresh_token_ttl: Option<Duration>,
}

#[derive(Debug)]
pub struct OidcProvider {
    child: Child,
    issuer: String,
    port: u16,
    secret_client_id: String,
    client_secret: String,
    key_client_id: String,
    private_key_pem: String,
    /// `(alg, client id)` of the `client_secret_basic` clients, one per ID token algorithm.
    alg_clients: Vec<(String, String)>,
    /// Holds the private_key_jwt client's public key file while the provider runs.
    _keys: tempfile::TempDir,
}

/// How long the provider may take to print its READY line.
const START_LIMIT: Duration = Duration::from_secs(30);

impl OidcProvider {
    /// The folder holding `provider.mjs`, `package.json` and (once installed) `node_modules`.
    pub fn folder() -> PathBuf {
        workspace_root().join("tests").join("oidc-provider")
    }

    /// Starts the provider and waits until it listens.
    pub fn start(options: OidcProviderOptions) -> anyhow::Result<Self> {
        let folder = Self::folder();
        anyhow::ensure!(
            folder
                .join("node_modules/oidc-provider/package.json")
                .is_file(),
            "oidc-provider is not installed in {}: run `cargo xtask test` (or `npm ci` there)",
            folder.display()
        );
        let node = find_program(if cfg!(windows) { "node.exe" } else { "node" })
            .context("node is not installed (Node.js 20 or later)")?;

        let key = RsaTestKey::generate();
        let (private_key_pem, public_key_pem) = (key.private_pem(), key.public_pem());
        let keys = tempfile::Builder::new()
            .prefix("careid-oidc-provider-")
            .tempdir()?;
        let public_key_file = keys.path().join("client-public-key.pem");
        std::fs::write(&public_key_file, public_key_pem)?;

        let mut command = Command::new(node);
        command
            .arg(folder.join("provider.mjs"))
            .arg("--port")
            .arg(options.port.to_string())
            .arg("--client-jwks")
            .arg(&public_key_file)
            .current_dir(&folder)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // The provider's request log goes to the test's own output.
            .stderr(Stdio::inherit());
        if options.consent {
            command.arg("--consent");
        }
        for (flag, ttl) in [
            ("--access-token-ttl", options.access_token_ttl),
            ("--id-token-ttl", options.id_token_ttl),
            ("--refresh-token-ttl", options.refresh_token_ttl),
        ] {
            if let Some(ttl) = ttl {
                command.arg(flag).arg(ttl.as_secs().max(1).to_string());
            }
        }
        let mut child = in_own_group(&mut command)
            .spawn()
            .context("starting node provider.mjs")?;

        let stdout = child.stdout.take().context("the provider's stdout")?;
        let (lines, ready) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(json) = line.strip_prefix("READY ") {
                    let _ = lines.send(json.to_owned());
                }
            }
        });
        let ready = match ready.recv_timeout(START_LIMIT) {
            Ok(ready) => ready,
            Err(_) => {
                kill_group(&mut child);
                bail!("the OpenID provider did not print READY within {START_LIMIT:?}");
            }
        };
        let ready: Value = serde_json::from_str(&ready).context("the READY line")?;
        let client = |method: &str| -> anyhow::Result<&Value> {
            ready["clients"]
                .as_array()
                .and_then(|clients| {
                    clients
                        .iter()
                        .find(|client| client["token_endpoint_auth_method"] == method)
                })
                .with_context(|| format!("no {method} client in {ready}"))
        };
        let text = |value: &Value, what: &str| -> anyhow::Result<String> {
            value
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no {what} in {ready}"))
        };
        let secret_client = client("client_secret_basic")?;
        let alg_clients = ready["clients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|client| client["token_endpoint_auth_method"] == "client_secret_basic")
            .filter_map(|client| {
                Some((
                    client["id_token_signed_response_alg"].as_str()?.to_owned(),
                    client["client_id"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let provider = Self {
            issuer: text(&ready["issuer"], "issuer")?,
            port: ready["port"]
                .as_u64()
                .and_then(|port| u16::try_from(port).ok())
                .context("no port in READY")?,
            secret_client_id: text(&secret_client["client_id"], "client id")?,
            client_secret: text(&secret_client["client_secret"], "client secret")?,
            key_client_id: text(&client("private_key_jwt")?["client_id"], "client id")?,
            private_key_pem,
            alg_clients,
            child,
            _keys: keys,
        };
        Ok(provider)
    }

    /// The issuer, exactly as the provider publishes it:
    /// `http://127.0.0.1:PORT/openam/oauth2/realms/root/realms/oidc`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The discovery document's address.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `client_secret_basic` client.
    pub fn secret_client_id(&self) -> &str {
        &self.secret_client_id
    }

    /// The secret of [`OidcProvider::secret_client_id`].
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The `private_key_jwt` client.
    pub fn key_client_id(&self) -> &str {
        &self.key_client_id
    }

    /// The `client_secret_basic` client whose ID tokens are signed with `alg` (one of
    /// [`ID_TOKEN_ALGORITHMS`]), authenticating with [`OidcProvider::client_secret`].
    pub fn client_for_id_token_alg(&self, alg: &str) -> Option<&str> {
        self.alg_clients
            .iter()
            .find(|(client_alg, _)| client_alg == alg)
            .map(|(_, client_id)| client_id.as_str())
    }

    /// The private key of [`OidcProvider::key_client_id`]: RSA 2048, PKCS#8 PEM.
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}
