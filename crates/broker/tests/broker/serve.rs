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
