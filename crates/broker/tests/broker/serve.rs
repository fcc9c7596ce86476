//! `careid-broker serve --config broker.toml` as a process: it reads the configuration and its
//! credential, serves the broker for the mock provider (which registered it as CIS2 would), logs
//! JSON lines, and stops cleanly on SIGTERM.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use careid_test_fixtures::broker_toml::{embedded_store, BrokerToml};
use careid_test_fixtures::files::owner_only_file;
use careid_test_fixtures::keys::RSA_PRIVATE_KEY_PEM;
use mock_cis2::{MockCis2, BROKER_CLIENT_ID};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_serve_runs_from_its_configuration_until_sigterm() {
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (public_port, port) = (free_port(), free_port());
    let public_url = format!("http://127.0.0.1:{public_port}");
    let url = format!("http://127.0.0.1:{port}");
    let mock = MockCis2::new().broker(&public_url).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = owner_only_file(dir.path(), "client-key.pem", RSA_PRIVATE_KEY_PEM);
    let config = dir.path().join("broker.toml");
    let (public_listen, listen) = (
        format!("127.0.0.1:{public_port}"),
        format!("127.0.0.1:{port}"),
    );
    let toml = BrokerToml {
        public_listen: &public_listen,
        internal_listen: &listen,
        ..BrokerToml::new(
            &public_url,
            &url,
            mock.issuer(),
            BROKER_CLIENT_ID,
            "private_key_jwt",
            &key,
            "http://127.0.0.1:23741/callback",
        )
    };
    let store = embedded_store(&dir.path().join("store.json"));
    std::fs::write(&config, toml.with_tables(&store)).unwrap();
    let mut broker = Command::new(env!("CARGO_BIN_EXE_careid-broker"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let http = crate::support::http().build().unwrap();
    let started = Instant::now();
    let document: serde_json::Value = loop {
        match http
            .get(format!("{url}/.well-known/careid-broker"))
            .send()
            .await
        {
            Ok(answer) if answer.status() == 200 => break answer.json().await.unwrap(),
            _ if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => {
                let _ = broker.kill();
                panic!("the broker did not come up: {other:?}");
            }
        }
    };
    assert_eq!(document["issuer"], mock.issuer());
    assert_eq!(document["jwks_uri"], format!("{public_url}/jwks"));
    let jwks = careid_test_fixtures::http::get_json(&http, format!("{public_url}/jwks")).await;
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    // Each listener serves its own side only: the relays and the broker's document are never
    // on the public one, the provider's endpoints never on the internal one.
    for path in [
        "/token",
        "/par",
        "/revoke",
        "/sessions/status",
        "/sessions/events",
        "/.well-known/careid-broker",
        "/readyz",
    ] {
        let get = http
            .get(format!("{public_url}{path}"))
            .send()
            .await
            .unwrap();
        let post = http
            .post(format!("{public_url}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (get.status().as_u16(), post.status().as_u16()),
            (404, 404),
            "public {path}"
        );
    }
    for path in ["/backchannel-logout", "/jwks"] {
        let get = http.get(format!("{url}{path}")).send().await.unwrap();
        let post = http.post(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(
            (get.status().as_u16(), post.status().as_u16()),
            (404, 404),
            "internal {path}"
        );
    }
    for base in [&public_url, &url] {
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200, "{base}");
    }

    let terminated = Command::new("kill")
        .args(["-TERM", &broker.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = broker.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut log = String::new();
    broker
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(status.success(), "{status}: {log}");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["fields"]["message"].as_str())
        .collect();
    let listening: Vec<&str> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "the careid broker is listening")
        .filter_map(|line| line["fields"]["side"].as_str())
        .collect();
    assert_eq!(listening, ["public", "internal"], "{log}");
    assert!(messages.contains(&"the careid broker stopped"), "{log}");
}

#[test]
fn broker_serve_names_a_broken_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("broker.toml");
    std::fs::write(&config, "[public]\nlisten = \"everywhere\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_careid-broker"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("broker.toml"), "{log}");
}

#[test]
fn broker_prints_its_version_and_refuses_a_missing_config() {
    let output = Command::new(env!("CARGO_BIN_EXE_careid-broker"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("careid-broker {}", env!("CARGO_PKG_VERSION"))
    );
    let output = Command::new(env!("CARGO_BIN_EXE_careid-broker"))
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("--config"), "{said}");
}

/// Two free loopback ports: the public and internal listeners' of a broker about to start.
struct Ports {
    public: u16,
    internal: u16,
}

impl Ports {
    fn free() -> Self {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        Self {
            public: free(),
            internal: free(),
        }
    }

    fn public_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.public)
    }

    fn internal_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.internal)
    }
}

/// A `careid-broker serve` process for `issuer`, with its `broker.toml` under `dir`: killed
/// when dropped.
struct BrokerProcess {
    child: std::process::Child,
    config: std::path::PathBuf,
    public_url: String,
    url: String,
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BrokerProcess {
    async fn start(dir: &std::path::Path, ports: &Ports, issuer: &str) -> Self {
        let (public_url, url) = (ports.public_url(), ports.internal_url());
        let key = owner_only_file(dir, "client-key.pem", RSA_PRIVATE_KEY_PEM);
        let (public_listen, listen) = (
            format!("127.0.0.1:{}", ports.public),
            format!("127.0.0.1:{}", ports.internal),
        );
        let toml = BrokerToml {
            public_listen: &public_listen,
            internal_listen: &listen,
            assertion_algorithm: Some("RS256"),
            ..BrokerToml::new(
                &public_url,
                &url,
                issuer,
                BROKER_CLIENT_ID,
                "private_key_jwt",
                &key,
                crate::support::relay_world::REDIRECT,
            )
        };
        let config = dir.join("broker.toml");
        std::fs::write(
            &config,
            toml.with_tables(&embedded_store(&dir.join("store.json"))),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_careid-broker"))
            .args(["serve", "--config"])
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let process = Self {
            child,
            config,
            public_url,
            url,
        };
        let http = crate::support::http().build().unwrap();
        let started = Instant::now();
        while !http
            .get(format!("{}/healthz", process.url))
            .send()
            .await
            .is_ok_and(|answer| answer.status() == 200)
        {
            assert!(started.elapsed() < Duration::from_secs(20), "never came up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        process
    }

    /// Edits `broker.toml` and sends SIGHUP, then waits until `/jwks` shows what `published`
    /// wants.
    async fn reload(
        &self,
        edit: impl FnOnce(String) -> String,
        published: impl Fn(&[String]) -> bool,
    ) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(&self.config, edit(text)).unwrap();
        let sent = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let http = crate::support::http().build().unwrap();
        let started = Instant::now();
        while !published(&self.kids(&http).await) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the JWKS never changed as it should"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn kids(&self, http: &reqwest::Client) -> Vec<String> {
        let jwks =
            careid_test_fixtures::http::get_json(http, format!("{}/jwks", self.public_url)).await;
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// A token request through the broker, with a proof of the test desktop's key.
    async fn token(&self, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let url = format!("{}/token", self.url);
        let answer = crate::support::relay_world::no_redirects()
            .post(&url)
            .header("CareID-Issuer", self.issuer())
            .header("DPoP", crate::support::relay_world::proof(&url))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or_default())
    }

    async fn refresh(&self, handle: &str) -> (u16, serde_json::Value) {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", handle)])
            .await
    }

    fn issuer(&self) -> String {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let config = careid_broker::BrokerConfig::parse(&text).unwrap();
        config.provider.issuer.as_str().to_owned()
    }
}

/// Every key changes on SIGHUP (`systemctl reload`), with no restart and no request refused:
/// the client key's successor is published before it signs, then signs while the old one stays
/// published; a new handle key seals new handles while the old one still opens the handles it
/// sealed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_change_on_sighup_without_a_restart() {
    use crate::support::relay_world::{authorization_code, no_redirects, REDIRECT, VERIFIER};
    let dir = tempfile::tempdir().unwrap();
    let ports = Ports::free();
    let mock = MockCis2::new()
        .broker(ports.public_url())
        .auto_login(crate::support::relay_world::NURSE.parse().unwrap())
        .start()
        .await
        .unwrap();
    let broker = BrokerProcess::start(dir.path(), &ports, mock.issuer()).await;
    let http = crate::support::http().build().unwrap();
    let first = broker.kids(&http).await;
    assert_eq!(first.len(), 1);
    let code = authorization_code(&mock, &no_redirects()).await;
    let (status, tokens) = broker
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(status, 200, "{tokens}");
    let old_handle = tokens["refresh_token"].as_str().unwrap().to_owned();

    // The next client key, published before its first use; the current one still signs.
    let next = careid_test_fixtures::keys::RsaTestKey::generate();
    let next_file = owner_only_file(dir.path(), "client-key.next.pem", &next.private_pem());
    let key_file = dir.path().join("client-key.pem");
    let next_line = format!("next_credential_file = \"{}\"\n", next_file.display());
    broker
        .reload(
            |text| text.replacen("[clients]", &format!("{next_line}[clients]"), 1),
            |kids| kids.len() == 2 && kids[0] == first[0],
        )
        .await;
    let next_kid = broker.kids(&http).await[1].clone();
    let (status, refreshed) = broker.refresh(&old_handle).await;
    assert_eq!(status, 200, "{refreshed}");
    let handle = refreshed["refresh_token"].as_str().unwrap().to_owned();

    // The next key signs, the old one stays published; a new handle key seals.
    let handle_file = dir.path().join("handle-key");
    let new_handle_file = owner_only_file(
        dir.path(),
        "handle-key.new",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    );
    broker
        .reload(
            |text| {
                text.replace(&next_line, "")
                    .replacen(
                        &format!("credential_file = \"{}\"", key_file.display()),
                        &format!(
                            "credential_file = \"{}\"\nprevious_credential_file = \"{}\"",
                            next_file.display(),
                            key_file.display()
                        ),
                        1,
                    )
                    .replacen(
                        &format!("key_files = [\"{}\"]", handle_file.display()),
                        &format!(
                            "key_files = [\"{}\", \"{}\"]",
                            new_handle_file.display(),
                            handle_file.display()
                        ),
                        1,
                    )
            },
            |kids| kids == [next_kid.clone(), first[0].clone()],
        )
        .await;
    let (status, refreshed) = broker.refresh(&handle).await;
    assert_eq!(
        status, 200,
        "a handle the old key sealed, relayed with the new client key: {refreshed}"
    );
    let resealed = refreshed["refresh_token"].as_str().unwrap();
    let key_id = |handle: &str| handle.split('.').nth(1).unwrap().to_owned();
    assert_ne!(
        key_id(resealed),
        key_id(&handle),
        "sealed under the new handle key"
    );
    // A broken edit changes nothing: the keys in use stay.
    broker
        .reload(
            |text| text.replacen("key_files = [", "key_files = [\"/nonexistent\", ", 1),
            |kids| kids == [next_kid.clone(), first[0].clone()],
        )
        .await;
    // The JWKS was already so: give the broker the moment it takes to read the files.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        broker.kids(&http).await,
        [next_kid.clone(), first[0].clone()]
    );
    let (status, refreshed) = broker.refresh(resealed).await;
    assert_eq!(status, 200, "{refreshed}");
}
