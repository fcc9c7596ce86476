//! careid with a broker: the built `careid` (and the desktop app) signing in through a careid
//! broker that holds the `private_key_jwt` key, against the mock provider in this process, which
//! has the broker registered as CIS2 would (its JWKS URI and back-channel logout URI). The
//! client holds no credential; the mock ending the session reaches careid through the broker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use careid_broker::run::{serve_broker, SideListener};
use careid_broker::server::{Broker, Side};
use careid_broker::{BrokerConfig, BrokerCredential, EmbeddedStore, Store};
use careid_core::{HttpClient, HttpSettings};
use careid_e2e::{CliWorld, Desktop, MockHost, TestHome};
use careid_test_fixtures::broker_toml::{embedded_store, BrokerToml};
use careid_test_fixtures::files::owner_only_file;
use careid_test_fixtures::keys::RSA_PRIVATE_KEY_PEM;
use mock_cis2::{AutoLogin, MockCis2, BROKER_CLIENT_ID};
use serde_json::{json, Value};

const NURSE: &str = "555057896106";
/// The broker's registration with the mock (`private_key_jwt`, the broker's JWKS URI).
const CLIENT: &str = BROKER_CLIENT_ID;
const ENDED: &str = "Your CIS2 session was ended, for example by signing out elsewhere";

/// A broker serving in the mock's runtime, until dropped.
struct RunningBroker {
    /// The internal listener's URL: what careid's profile names.
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl RunningBroker {
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for RunningBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A free port on 127.0.0.1, for the redirect URI the broker registers.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The mock with the broker at `broker_url` registered as CIS2 would register it (its JWKS
/// URI and back-channel logout URI), signing the nurse in without a page.
fn mock_for_broker(broker_url: &str) -> MockHost {
    let auto_login: AutoLogin = NURSE.parse().expect("auto-login syntax");
    MockHost::start(MockCis2::new().broker(broker_url).auto_login(auto_login))
        .expect("the mock starts")
}

/// Starts a broker on `listener` (in `mock`'s runtime) for `issuer` and [`CLIENT`], accepting
/// `redirect_uri`. Its key is the mock's public test key: the mock knows the broker's keys only
/// from the broker's JWKS.
fn start_broker(
    mock: &MockHost,
    public: std::net::TcpListener,
    issuer: &str,
    redirect_uri: &str,
) -> RunningBroker {
    let public_url = format!("http://{}", public.local_addr().expect("bound"));
    let internal = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", internal.local_addr().expect("bound"));
    let dir = tempfile::tempdir().expect("dir");
    let key = owner_only_file(dir.path(), "client-key.pem", RSA_PRIVATE_KEY_PEM);
    let toml = BrokerToml {
        assertion_algorithm: Some("RS256"),
        ..BrokerToml::new(
            &public_url,
            &url,
            issuer,
            CLIENT,
            "private_key_jwt",
            &key,
            redirect_uri,
        )
    };
    let store = embedded_store(&dir.path().join("store.json"));
    let config =
        BrokerConfig::parse(&toml.with_tables(&store)).expect("a valid broker configuration");
    let handle_files = config.handles.key_files.clone();
    let credential = BrokerCredential::load(&config.provider).expect("the key");
    let http = HttpClient::new(HttpSettings::default()).expect("http");
    let broker = Arc::new(Broker::new(
        config,
        credential,
        careid_broker::HandleKeys::load(&handle_files).unwrap(),
        http,
        Arc::new(Store::Embedded(EmbeddedStore::open(None))),
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    mock.block_on(async move {
        let sides = [(Side::Public, public), (Side::Internal, internal)]
            .into_iter()
            .map(|(side, listener)| {
                listener.set_nonblocking(true).expect("non-blocking");
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                SideListener::plain(side, listener)
            })
            .collect();
        tokio::spawn(async move {
            let _ = serve_broker(broker, sides, async move {
                let _ = stopped.await;
            })
            .await;
        });
    });
    RunningBroker {
        url,
        stop: Some(stop),
        _dir: dir,
    }
}

/// A mock, a broker for it, and a tester's machine with profile `trust` naming the broker.
struct BrokerWorld {
    world: CliWorld,
    broker: RunningBroker,
    // Dropped last: the broker serves in its runtime.
    mock: MockHost,
}

impl BrokerWorld {
    fn new() -> Self {
        Self::in_home(TestHome::new().expect("a test home"))
    }

    fn in_home(home: TestHome) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let broker_url = format!("http://{}", listener.local_addr().expect("bound"));
        let mock = mock_for_broker(&broker_url);
        let port = free_port();
        let redirect_uri = format!("http://127.0.0.1:{port}/callback");
        let broker = start_broker(&mock, listener, &mock.issuer(), &redirect_uri);
        let world = CliWorld::in_home(home);
        world.ok(&[
            "profile",
            "add",
            "trust",
            "--issuer",
            &mock.issuer(),
            "--client-id",
            CLIENT,
            "--broker",
            &broker.url,
            "--redirect-port",
            &port.to_string(),
        ]);
        Self {
            world,
            broker,
            mock,
        }
    }

    fn careid(&self, args: &[&str]) -> careid_e2e::cli_world::Run {
        let mut all = vec!["--profile", "trust"];
        all.extend_from_slice(args);
        self.world.run(&all).expect("careid runs")
    }

    fn ok(&self, args: &[&str]) -> careid_e2e::cli_world::Run {
        let run = self.careid(args);
        assert_eq!(run.code, Some(0), "careid {args:?}:\n{}", run.text());
        run
    }

    /// Ends the signed-in session at the provider, as signing out elsewhere would: the mock
    /// posts its logout token to the broker.
    fn end_at_the_provider(&self) {
        let status = self.ok(&["status", "--json"]).json();
        let sid = status["sid"].as_str().expect("the session's sid");
        // In the mock's runtime: its logout token is posted from a task spawned there.
        let ended = self
            .mock
            .block_on(async { self.mock.mock().end_session(sid) });
        assert!(ended, "the mock ended {sid}");
    }

    /// The endpoints the mock answered, in order.
    fn mock_endpoints(&self) -> Vec<String> {
        self.mock
            .mock()
            .request_log()
            .iter()
            .map(|request| request.endpoint.clone())
            .collect()
    }
}

/// Signs in, refreshes and restores through the broker with `private_key_jwt`, the client
/// holding no key: nothing but the session is in the keychain, the profile names no credential,
/// and the token requests reached the provider (with the broker's assertion, checked against
/// the broker's JWKS: the mock has no other key for the client).
#[test]
fn signs_in_refreshes_and_restores_through_the_broker_holding_no_credential() {
    let broker = BrokerWorld::new();
    let profile = broker
        .world
        .ok(&["profile", "show", "trust", "--json"])
        .json();
    assert_eq!(profile["broker"], json!(broker.broker.url));
    assert_eq!(profile["credential"], Value::Null);
    assert_eq!(profile["client_auth"], json!("by the broker"));

    let login = broker.ok(&["login", "--json"]).json();
    assert_eq!(login["user"]["id"], json!(NURSE));
    let accounts = broker.world.keychain_accounts();
    assert!(
        !accounts.is_empty()
            && accounts.iter().all(|account| {
                account.starts_with("session/") || account == careid_core::signin::DPOP_KEY_ACCOUNT
            }),
        "only the session and the install's DPoP key are kept, no client credential: {accounts:?}"
    );
    // The refresh token careid holds is the broker's handle, sealed to the install's DPoP key:
    // CIS2's own refresh token never reached the desktop.
    let handles: Vec<String> = broker
        .world
        .keychain_secrets()
        .into_iter()
        .filter(|secret| secret.starts_with("cr1."))
        .collect();
    assert_eq!(handles.len(), 1, "one refresh handle");
    let endpoints = broker.mock_endpoints();
    assert!(
        endpoints.iter().any(|endpoint| endpoint == "/access_token"),
        "the code was redeemed at the provider through the broker: {endpoints:?}"
    );

    // A refresh through the broker: a new access token.
    let first = broker.ok(&["token"]).stdout;
    let refreshed = broker.ok(&["token", "--refresh"]).stdout;
    assert_ne!(
        first.trim(),
        refreshed.trim(),
        "the refresh gave a new token"
    );
    // A restore in a new process: UserInfo with the kept token, the broker asked.
    let userinfo = broker.ok(&["userinfo", "--json"]).json();
    assert_eq!(userinfo["sub"], json!(NURSE));
    let status = broker.ok(&["status", "--json"]).json();
    assert_eq!(status["broker"]["state"], json!("active"), "{status}");

    // Sign-out revokes through the broker and deletes the session.
    let logout = broker.ok(&["logout", "--json"]).json();
    assert_eq!(logout["revocation"], json!("revoked"), "{logout}");
    assert_eq!(
        broker.mock_endpoints().last().map(String::as_str),
        Some("/token/revoke"),
        "revoked at the provider through the broker"
    );
    // Nothing of the session is left; the install's DPoP key stays for the next sign-in.
    assert_eq!(
        broker.world.keychain_accounts(),
        [careid_core::signin::DPOP_KEY_ACCOUNT]
    );
}

/// The provider ends the session (back-channel logout to the broker): within 2 s `careid
/// status` exits 8 saying why, in words and as data, and the refresh token is gone.
#[test]
fn the_provider_ending_the_session_ends_it_here_within_2_s() {
    let broker = BrokerWorld::new();
    broker.ok(&["login"]);
    assert!(broker
        .world
        .stored_sessions()
        .iter()
        .any(|account| account.ends_with("/refresh-token")));
    broker.end_at_the_provider();
    let ended_at = Instant::now();
    let mut runs = Vec::new();
    let status = loop {
        let status = broker.careid(&["status", "--json"]);
        runs.push(ended_at.elapsed());
        if status.code != Some(0) || ended_at.elapsed() > Duration::from_secs(2) {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        ended_at.elapsed() <= Duration::from_secs(2),
        "ended within 2 s; runs ended at {runs:?}:\n{}",
        status.text()
    );
    assert_eq!(status.code, Some(8), "{}", status.text());
    assert!(status.stderr.contains(ENDED), "{}", status.text());
    let data = status.json();
    assert_eq!(data["reason"], json!("ended_by_provider"));
    assert_eq!(
        data["ended"]["reason"],
        json!("ended_by_provider"),
        "{data:#}"
    );
    assert_eq!(data["signed_in"], json!(false));
    assert!(
        broker.world.stored_sessions().is_empty(),
        "refresh, access and ID tokens deleted: {:?}",
        broker.world.keychain_accounts()
    );
    // Said again to whoever asks next, from the record of the end: no broker asked.
    let again = broker.careid(&["status", "--json"]);
    assert_eq!(again.code, Some(8), "{}", again.text());
    assert_eq!(again.json()["ended"]["reason"], json!("ended_by_provider"));
}

/// A broker that cannot be reached is no end: the session stays, and `status` says the broker
/// could not be asked.
#[test]
fn an_unreachable_broker_ends_nothing() {
    let mut broker = BrokerWorld::new();
    broker.ok(&["login"]);
    broker.broker.stop();
    // The server stops accepting once its shutdown signal is seen.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(broker.broker.url.trim_start_matches("http://")).is_ok()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = broker.ok(&["status", "--json"]).json();
    assert_eq!(status["signed_in"], json!(true));
    assert_eq!(status["broker"]["state"], json!("not_asked"), "{status}");
    let text = broker.ok(&["status"]).stdout;
    assert!(text.contains("could not ask the broker"), "{text}");
    assert!(broker
        .world
        .stored_sessions()
        .iter()
        .any(|account| account.ends_with("/refresh-token")));
}

/// A broker that brokers another issuer is refused at sign-in, before the browser opens,
/// naming both issuers; `careid doctor` fails its broker check. The right broker passes.
#[test]
fn a_broker_of_another_issuer_is_refused_at_sign_in_and_by_doctor() {
    let broker = BrokerWorld::new();
    let doctor = broker.careid(&["doctor", "--json"]).json();
    let check = |report: &Value, name: &str| -> Value {
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|check| check["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} check in {report}"))
    };
    for name in ["Broker", "Broker brokers", "Broker JWKS"] {
        assert_eq!(check(&doctor, name)["status"], json!("pass"), "{doctor}");
    }

    // Another provider, whose profile points at the first one's broker.
    let other = MockHost::start(MockCis2::new()).expect("another mock");
    broker.world.ok(&[
        "profile",
        "add",
        "other",
        "--issuer",
        &other.issuer(),
        "--client-id",
        CLIENT,
        "--broker",
        &broker.broker.url,
    ]);
    let login = broker
        .world
        .run(&["--profile", "other", "login"])
        .expect("runs");
    assert_eq!(login.code, Some(3), "{}", login.text());
    assert!(
        login.stderr.contains(&other.issuer()) && login.stderr.contains(&broker.mock.issuer()),
        "names both issuers: {}",
        login.text()
    );
    assert!(
        !broker.world.browser_log().exists(),
        "refused before the browser opened"
    );
    let doctor = broker
        .world
        .run(&["--profile", "other", "doctor", "--json"])
        .expect("runs");
    assert_eq!(doctor.code, Some(3), "{}", doctor.text());
    let report = doctor.json();
    assert_eq!(check(&report, "Broker")["status"], json!("pass"));
    let brokers = check(&report, "Broker brokers");
    assert_eq!(brokers["status"], json!("fail"), "{report}");
    assert!(brokers["detail"]
        .as_str()
        .is_some_and(|detail| detail.contains(&other.issuer())));
}

/// A profile with a broker holds no credential: a client authentication method with
/// `--broker` is refused, and so is storing a secret or key for it or asking for its JWKS; a
/// plain http broker off loopback is refused too. Nothing reaches the keychain.
#[test]
fn a_broker_profile_refuses_a_client_secret_or_private_key() {
    let world = CliWorld::new().expect("a test home");
    let issuer = "https://am.example.nhs.uk:443/openam/oauth2/realms/root/realms/x";
    for (method, extra) in [
        ("client_secret_basic", None),
        ("private_key_jwt", Some(["--assertion-alg", "RS512"])),
    ] {
        let mut args = vec![
            "profile",
            "add",
            "trust",
            "--issuer",
            issuer,
            "--client-id",
            CLIENT,
            "--broker",
            "https://broker.example.nhs.uk",
            "--client-auth",
            method,
        ];
        if let Some(extra) = &extra {
            args.extend_from_slice(extra);
        }
        let run = world.run(&args).expect("runs");
        assert_eq!(run.code, Some(2), "{method}: {}", run.text());
        assert!(
            run.stderr.contains("broker") && run.stderr.contains("client_auth"),
            "{}",
            run.text()
        );
    }
    let http = world
        .run(&[
            "profile",
            "add",
            "trust",
            "--issuer",
            issuer,
            "--client-id",
            CLIENT,
            "--broker",
            "http://broker.example.nhs.uk",
        ])
        .expect("runs");
    assert_eq!(http.code, Some(2), "{}", http.text());
    assert!(http.stderr.contains("https"), "{}", http.text());

    world.ok(&[
        "profile",
        "add",
        "trust",
        "--issuer",
        issuer,
        "--client-id",
        CLIENT,
        "--broker",
        "https://broker.example.nhs.uk",
    ]);
    for input in [
        "a-client-secret-of-some-length",
        "-----BEGIN PRIVATE KEY-----\n",
    ] {
        let run = world
            .run_with_input(&["profile", "secret", "set", "trust"], input)
            .expect("runs");
        assert_eq!(run.code, Some(2), "{}", run.text());
        assert!(
            run.stderr.contains("broker") && run.stderr.contains("holds the client"),
            "{}",
            run.text()
        );
    }
    // The broker publishes the JWKS of its key; the profile has none to print.
    let jwks = world.run(&["profile", "jwks", "trust"]).expect("runs");
    assert_eq!(jwks.code, Some(2), "{}", jwks.text());
    assert!(
        jwks.stderr.contains("broker") && jwks.stdout.is_empty(),
        "{}",
        jwks.text()
    );
    assert!(world.keychain_accounts().is_empty());
}

const SCREEN_NOTICE: &str = "[data-testid=notice]";

/// The desktop app signed in through the broker (the session the CLI started, restored through
/// it) listens to the broker: when the provider ends the session, the app shows the home screen
/// with the reason within 2 s, and the refresh token is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_app_shows_the_session_ended_by_the_provider_within_2_s() -> anyhow::Result<()> {
    let home = TestHome::new()?;
    let broker = tokio::task::block_in_place(|| {
        let broker = BrokerWorld::in_home(home.clone());
        broker.ok(&["login"]);
        broker
    });
    std::fs::write(
        home.config_dir().join("desktop.json"),
        json!({ "profile": "trust" }).to_string(),
    )?;
    let app = Desktop::launch_on_mock(home, None, &[]).await?;
    app.wait_for_screen_within("signedIn", Duration::from_secs(20))
        .await?;
    // The listener is up once the app has asked the broker; give it a moment to subscribe.
    tokio::time::sleep(Duration::from_secs(2)).await;
    tokio::task::block_in_place(|| broker.end_at_the_provider());
    let ended_at = Instant::now();
    app.wait_for_screen_within("home", Duration::from_secs(2))
        .await?;
    assert!(ended_at.elapsed() <= Duration::from_secs(2));
    let notice = app.text(SCREEN_NOTICE).await?;
    assert!(notice.contains(ENDED), "{notice}");
    assert_eq!(
        app.attribute(SCREEN_NOTICE, "data-notice-code").await?,
        "ended_by_provider"
    );
    assert!(
        broker.world.stored_sessions().is_empty(),
        "{:?}",
        broker.world.keychain_accounts()
    );
    app.close().await?;
    // The mock's runtime is ended off the async threads.
    tokio::task::block_in_place(|| drop(broker));
    Ok(())
}
