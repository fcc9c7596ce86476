//! Redirect URIs as a provider registers them exactly (REFERENCE §2): a `localhost` redirect URI
//! signs in while the listener binds `127.0.0.1`, and a pushed request refused for its redirect
//! URI fails at once, naming the URI to register.

use std::sync::Arc;
use std::time::{Duration, Instant};

use careid_core::discovery::ProviderCache;
use careid_core::http::{HttpClient, HttpSettings};
use careid_core::signin::{Client, ErrorClass, LoginOptions, SignInError};
use careid_core::{
    ClientAuth, ClientCredential, ClientSecret, Keychain, ProfileEntry, Profiles, RedirectHost,
    SessionStore,
};
use mock_cis2::{ClientRegistry, MockCis2, PushedRequests, RunningMock};

const CLIENT_ID: &str = "555000000090.apps.local";
const SECRET: &str = "0f7a3c2e-9d41-4b6a-8e15-c2d3e4f5a6b7";

/// A free port on 127.0.0.1 a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// A mock whose one client has exactly `redirect_uri` registered, no other.
async fn mock_registering(redirect_uri: &str, pushed: PushedRequests) -> RunningMock {
    let clients = serde_json::json!({ "clients": [{
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": [redirect_uri],
        "pkce_required": true,
        "loopback_any_port": false,
        "refresh_tokens": true
    }]});
    MockCis2::new()
        .clients(ClientRegistry::from_json(&clients.to_string(), "test clients").expect("valid"))
        .auto_login("555057896106".parse().expect("auto-login"))
        .pushed_requests(pushed)
        .start()
        .await
        .expect("mock starts")
}

struct Fixture {
    client: Client,
    _dir: tempfile::TempDir,
}

fn client_for(mock: &RunningMock, port: u16, host: RedirectHost) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut profiles = Profiles::load(dir.path()).expect("profiles");
    let profile = profiles
        .add(
            "exact",
            ProfileEntry {
                issuer: Some(mock.issuer().to_owned()),
                client_id: Some(CLIENT_ID.to_owned()),
                client_auth: Some(ClientAuth::ClientSecretBasic),
                redirect_ports: Some(vec![port]),
                redirect_host: Some(host),
                ..ProfileEntry::default()
            },
        )
        .expect("a valid profile");
    let keychain = Keychain::in_memory();
    let client = Client::new(
        profile,
        crate::issuer_url(mock.issuer()),
        ClientCredential::Secret(ClientSecret::new(SECRET.into())),
        HttpClient::new(HttpSettings::default()).expect("http"),
        Arc::new(ProviderCache::new(Duration::from_secs(3600))),
        SessionStore::new(keychain, dir.path().join("state")),
    )
    .expect("client");
    Fixture { client, _dir: dir }
}

/// The browser: the link careid hands over, the authorization URL, the provider's redirect.
async fn browse(url: &str) {
    let browser = crate::http()
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .expect("client");
    let _ = browser.get(url).send().await;
}

#[tokio::test]
async fn a_localhost_redirect_uri_registered_exactly_signs_in_on_127_0_0_1() {
    for pushed in [PushedRequests::Offered, PushedRequests::Off] {
        let port = free_port();
        let registered = format!("http://localhost:{port}/callback");
        let mock = mock_registering(&registered, pushed).await;
        let fixture = client_for(&mock, port, RedirectHost::Localhost);
        let pending = fixture
            .client
            .begin_login(LoginOptions::default())
            .await
            .expect("begin");
        assert_eq!(pending.redirect_uri().as_str(), registered, "{pushed:?}");
        assert_eq!(
            pending.redirect_uri_accepted(),
            pushed == PushedRequests::Offered
        );
        // Bound to the IPv4 loopback address, whatever `localhost` resolves to.
        let bound = std::net::TcpListener::bind(("127.0.0.1", port));
        assert!(
            bound.is_err(),
            "{pushed:?}: the listener holds 127.0.0.1:{port}"
        );
        let address = pending.launch_links().issue().expect("a link");
        let browser = tokio::spawn(async move { browse(&address).await });
        let session = pending
            .finish(
                &fixture.client,
                Duration::from_secs(20),
                std::future::pending(),
            )
            .await
            .unwrap_or_else(|error| panic!("{pushed:?}: {error}"));
        browser.await.expect("browser");
        assert_eq!(session.facts.sub, "555057896106");
        mock.shutdown().await;
    }
}

#[tokio::test]
async fn a_pushed_request_refused_for_its_redirect_uri_fails_at_once_naming_it() {
    let port = free_port();
    // Registered as `localhost`; the profile sends the IP literal, which an exact match refuses.
    let mock = mock_registering(
        &format!("http://localhost:{port}/callback"),
        PushedRequests::Offered,
    )
    .await;
    let fixture = client_for(&mock, port, RedirectHost::Ipv4Loopback);
    let started = Instant::now();
    let error = fixture
        .client
        .begin_login(LoginOptions::default())
        .await
        .expect_err("the provider refuses the redirect URI");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(error, SignInError::RedirectUriRefused { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "redirect_uri_refused");
    assert_eq!(error.class(), ErrorClass::Provider);
    let text = error.to_string();
    assert!(
        text.contains(&format!("http://127.0.0.1:{port}/callback"))
            && text.contains("register it")
            && text.contains("careid doctor"),
        "{text}"
    );
    // The listener is closed again: the port is free for the next try.
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
    mock.shutdown().await;
}
