//! Redirect URIs registered exactly, as CIS2 (ForgeRock AM) matches them by default: a
//! `localhost` registration signs in, a redirect URI the provider refuses is said at once (pushed
//! request) or after a short while (a provider that only shows its error in the browser), and
//! `doctor` and `profile show` say which URIs to register.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use careid_e2e::net::free_port;
use careid_e2e::{CliWorld, MockHost};
use mock_cis2::{ClientRegistry, MockCis2, PushedRequests};

const CLIENT_ID: &str = "555000000091.apps.local";
const SECRET: &str = "5e8b1c3d-7a2f-4d69-b0e4-1f2a3b4c5d6e";

/// A mock whose one client has exactly `redirect_uri` registered, signing the nurse in.
fn mock_registering(redirect_uri: &str, pushed: PushedRequests) -> MockHost {
    let clients = serde_json::json!({ "clients": [{
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": [redirect_uri],
        "pkce_required": true,
        "loopback_any_port": false,
        "refresh_tokens": true
    }]});
    let clients = ClientRegistry::from_json(&clients.to_string(), "test clients").expect("valid");
    MockHost::start(
        MockCis2::new()
            .clients(clients)
            .auto_login("555057896106".parse().expect("auto-login"))
            .pushed_requests(pushed),
    )
    .expect("the mock starts")
}

/// A world with profile `t` for the mock's test client, with `extra` settings.
fn world_for(mock: &MockHost, extra: &[&str]) -> CliWorld {
    let world = CliWorld::new().expect("a test home");
    world.add_secret_profile("t", mock.mock().issuer(), CLIENT_ID, SECRET, extra);
    world
}

#[test]
fn redirect_host_localhost_signs_in_against_an_exact_localhost_registration() {
    for pushed in [PushedRequests::Offered, PushedRequests::Off] {
        let port = free_port().expect("a port").to_string();
        let registered = format!("http://localhost:{port}/callback");
        let mock = mock_registering(&registered, pushed);
        let world = world_for(
            &mock,
            &["--redirect-port", &port, "--redirect-host", "localhost"],
        );
        let shown = world.ok(&["profile", "show", "t", "--json"]).json();
        assert_eq!(shown["redirect_uris"], serde_json::json!([registered]));
        let login = world.ok(&["--profile", "t", "login", "--json"]);
        assert_eq!(login.json()["user"]["id"], "555057896106", "{pushed:?}");
        // The refresh, ID and access tokens.
        assert_eq!(world.stored_sessions().len(), 3, "{pushed:?}");
    }
}

#[test]
fn redirect_uri_refused_by_a_pushed_request_fails_at_once_naming_it_with_exit_4() {
    let port = free_port().expect("a port").to_string();
    // Registered as `localhost`: the IP literal the profile sends is another URI to the mock.
    let mock = mock_registering(
        &format!("http://localhost:{port}/callback"),
        PushedRequests::Offered,
    );
    let world = world_for(&mock, &["--redirect-port", &port]);
    let started = Instant::now();
    let run = world
        .run(&["--profile", "t", "login", "--timeout", "60"])
        .expect("runs");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, Some(4), "{}", run.text());
    let sent = format!("http://127.0.0.1:{port}/callback");
    assert!(
        run.stderr
            .contains(&format!("refused the redirect URI {sent}"))
            && run.stderr.contains("register it")
            && run.stderr.contains("careid doctor"),
        "{}",
        run.text()
    );
    assert!(world.stored_sessions().is_empty());
    assert!(
        !std::path::Path::new(&world.browser_log()).exists(),
        "no browser was opened"
    );
}

#[test]
fn redirect_uri_refused_without_pushed_requests_is_hinted_on_stderr_within_the_delay() {
    let port = free_port().expect("a port").to_string();
    // The client has another port registered: the mock shows an error page and never redirects.
    let mock = mock_registering(
        &format!("http://127.0.0.1:{}/callback", free_port().expect("a port")),
        PushedRequests::Off,
    );
    let world = world_for(&mock, &["--redirect-port", &port]);
    let mut child = world
        .command(&[
            "--profile",
            "t",
            "login",
            "--hint-after",
            "1",
            "--timeout",
            "8",
        ])
        .expect("command")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let started = Instant::now();
    let stderr = child.stderr.take().expect("piped");
    // Each line of stderr with the time it arrived.
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .map(|line| (started.elapsed(), line))
            .collect::<Vec<_>>()
    });
    let status = child.wait().expect("ends");
    let lines = reader.join().expect("stderr read");
    let text: String = lines
        .iter()
        .map(|(at, line)| format!("{at:?} {line}\n"))
        .collect();
    let sent = format!("http://127.0.0.1:{port}/callback");
    let hint = lines
        .iter()
        .find(|(_, line)| line.contains("still waiting for the browser"))
        .unwrap_or_else(|| panic!("no hint:\n{text}"));
    assert!(
        hint.1.contains(&format!("register {sent} with CIS2"))
            && hint.1.contains("error about the redirect URI")
            && hint.1.contains("careid doctor"),
        "{text}"
    );
    // Said after the short delay, long before the wait gives up.
    assert!(
        hint.0 >= Duration::from_secs(1) && hint.0 < Duration::from_secs(6),
        "{text}"
    );
    assert_eq!(status.code(), Some(6), "{text}");
    assert!(text.contains("no answer from the browser"), "{text}");
    // The browser did visit the provider, which refused to send it back.
    let opened = std::fs::read_to_string(world.browser_log()).expect("the browser was opened");
    assert!(opened.contains("/authorize?"), "{opened}");
    assert!(world.stored_sessions().is_empty());
}

#[test]
fn redirect_uris_to_register_are_shown_by_doctor_and_profile_show() {
    let mock = MockHost::start(MockCis2::new()).expect("mock");
    let world = CliWorld::new().expect("home");
    // The built-in CIS2 profiles: the registered port list.
    let int = world.ok(&["profile", "show", "int", "--json"]).json();
    let expected = serde_json::json!([
        "http://127.0.0.1:23741/callback",
        "http://127.0.0.1:23742/callback",
        "http://127.0.0.1:23743/callback"
    ]);
    assert_eq!(int["redirect_uris"], expected, "{int:#}");
    assert_eq!(int["redirect_any_port"], false);
    let text = world.ok(&["profile", "show", "live"]);
    assert!(
        text.stdout
            .contains("register every one of these redirect URIs")
            && text.stdout.contains("http://127.0.0.1:23743/callback"),
        "{}",
        text.text()
    );

    // A profile of the mock with a port list and localhost: doctor names each URI.
    world.add_mock_profile(
        "t",
        mock.mock().issuer(),
        &[
            "--redirect-port",
            "8765",
            "--redirect-port",
            "8766",
            "--redirect-host",
            "localhost",
        ],
    );
    let report = world.ok(&["--profile", "t", "doctor", "--json"]).json();
    assert_eq!(
        report["redirect"]["uris"],
        serde_json::json!([
            "http://localhost:8765/callback",
            "http://localhost:8766/callback"
        ]),
        "{report:#}"
    );
    let line = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|check| check["name"] == "Redirect URIs")
        .unwrap_or_else(|| panic!("no redirect line: {report:#}"));
    assert_eq!(line["status"], "info");
    let text = world.ok(&["--profile", "t", "doctor"]);
    assert!(
        text.stdout.contains("INFO  Redirect URIs")
            && text.stdout.contains("http://localhost:8766/callback"),
        "{}",
        text.text()
    );

    // The built-in mock listens on any port: the provider must accept any loopback port.
    let report = world.ok(&["doctor", "--json"]).json();
    assert_eq!(report["redirect"]["any_port"], true, "{report:#}");
    assert_eq!(
        report["redirect"]["any_port_uri"],
        "http://127.0.0.1/callback"
    );
    // A bare issuer has no profile, so no redirect URIs to name.
    let bare = world
        .ok(&["doctor", "--issuer", mock.mock().issuer(), "--json"])
        .json();
    assert!(bare.get("redirect").is_none(), "{bare:#}");
}

#[test]
fn redirect_hint_after_a_pushed_request_does_not_blame_the_accepted_redirect_uri() {
    // The mock's default client takes any loopback port and the request is pushed: the provider
    // has accepted the redirect URI, so the hint names the other causes.
    let mock = MockHost::start(MockCis2::new()).expect("mock");
    let world = CliWorld::new().expect("home");
    world.add_mock_profile("t", mock.mock().issuer(), &[]);
    let run = world
        .run(&[
            "--profile",
            "t",
            "login",
            "--no-browser",
            "--hint-after",
            "1",
            "--timeout",
            "3",
        ])
        .expect("runs");
    assert_eq!(run.code, Some(6), "{}", run.text());
    assert!(
        run.stderr.contains("still waiting for the browser")
            && run
                .stderr
                .contains("browser you use for your Care Identity"),
        "{}",
        run.text()
    );
    assert!(
        !run.stderr.contains("error about the redirect URI"),
        "{}",
        run.text()
    );
}
