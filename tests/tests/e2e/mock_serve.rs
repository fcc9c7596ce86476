//! `careid mock serve`, used as a tester would: start it, read the banner, complete a sign-in
//! with `curl -sL` following the redirect, then call the token and UserInfo endpoints.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_e2e::binaries;
use serde_json::Value;

const NURSE: &str = "555057896106";
const CLIENT: &str = "555000000001.apps.local";

/// The running `careid mock serve` and the banner lines it printed before "Press Ctrl-C".
struct Serve {
    child: Child,
    banner: Vec<String>,
}

impl Serve {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(binaries::cli().expect("careid is built"))
            .args(["mock", "serve"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("careid mock serve starts");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut banner = Vec::new();
        for line in stdout.lines() {
            let line = line.expect("banner text");
            let done = line.starts_with("Press Ctrl-C");
            banner.push(line);
            if done {
                break;
            }
        }
        Self { child, banner }
    }

    /// The value after `label` on the first banner line that starts with it.
    fn value(&self, label: &str) -> String {
        self.banner
            .iter()
            .find_map(|line| line.trim_start().strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label:?} in the banner: {:#?}", self.banner))
            .trim()
            .to_owned()
    }

    /// The secret printed under `client_id`.
    fn secret_of(&self, client_id: &str) -> String {
        let start = self
            .banner
            .iter()
            .position(|line| line.trim() == format!("client_id:     {client_id}"))
            .expect("the client is listed");
        self.banner[start + 1..]
            .iter()
            .take_while(|line| !line.trim_start().starts_with("client_id:"))
            .find_map(|line| line.trim_start().strip_prefix("secret:"))
            .expect("a secret for a confidential client")
            .trim()
            .to_owned()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-shot loopback callback: returns its redirect URI and a thread yielding the query.
fn callback_listener() -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let redirect_uri = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr().expect("addr").port()
    );
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("the browser arrives");
        let mut request = Vec::new();
        let mut buffer = [0; 4096];
        while !request.windows(4).any(|window| window == b"\r\n\r\n") {
            let read = stream.read(&mut buffer).expect("read");
            assert!(read > 0, "the request ended early");
            request.extend_from_slice(&buffer[..read]);
        }
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nsigned in",
            )
            .expect("answer");
        let request = String::from_utf8_lossy(&request).into_owned();
        let target = request
            .split(' ')
            .nth(1)
            .expect("a request target")
            .to_owned();
        target
            .split_once('?')
            .map(|(_, query)| query.to_owned())
            .unwrap_or_default()
    });
    (redirect_uri, thread)
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a compact JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

#[test]
fn mock_serve_with_auto_login_completes_a_flow_driven_by_curl() {
    let serve = Serve::start(&["--port", "0", "--auto-login", NURSE]);
    let issuer = serve.value("issuer:");
    assert!(
        issuer.ends_with("/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"),
        "{issuer}"
    );
    assert!(issuer.starts_with("http://localhost:"), "{issuer}");
    assert!(serve.value("admin:").contains("(loopback only)"));
    let secret = serve.secret_of(CLIENT);

    let verifier = "careid-e2e-mock-serve-pkce-verifier-0123456789abcdef";
    let challenge = URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    let (redirect_uri, callback) = callback_listener();
    let authorize = url::Url::parse_with_params(
        &format!("{issuer}/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", &redirect_uri),
            (
                "scope",
                "openid profile nhsperson associatedorgs nationalrbacaccess selectedrole",
            ),
            ("state", "state-from-curl"),
            ("nonce", "nonce-from-curl"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("an authorize URL");
    let curl = Command::new("curl")
        .args(["-sL", "-o", "/dev/null", authorize.as_str()])
        .status()
        .expect("curl runs");
    assert!(curl.success(), "curl failed: {curl}");

    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(callback.join().expect("the callback").as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(param("state").as_deref(), Some("state-from-curl"));
    assert_eq!(
        param("iss").as_deref(),
        Some(issuer.as_str()),
        "RFC 9207 iss is the exact issuer"
    );
    let code = param("code").expect("a code in the callback");

    let discovery: Value = ureq::get(format!("{issuer}/.well-known/openid-configuration"))
        .call()
        .expect("discovery")
        .body_mut()
        .read_json()
        .expect("discovery JSON");
    let token_endpoint = discovery["token_endpoint"]
        .as_str()
        .expect("a token endpoint");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:{secret}"));
    let tokens: Value = ureq::post(token_endpoint)
        .header("Authorization", format!("Basic {basic}"))
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
        ])
        .expect("the token endpoint answers 200")
        .body_mut()
        .read_json()
        .expect("token JSON");
    assert_eq!(
        tokens["token_type"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("bearer")
    );

    let id_token = jwt_claims(tokens["id_token"].as_str().expect("an ID token"));
    assert_eq!(id_token["iss"], issuer.as_str());
    assert_eq!(id_token["sub"], NURSE);
    assert_eq!(id_token["aud"], CLIENT);
    assert_eq!(id_token["azp"], CLIENT);
    assert_eq!(id_token["nonce"], "nonce-from-curl");
    assert_eq!(id_token["authentication_assurance_level"], "3");
    assert_eq!(id_token["amr"], serde_json::json!(["N3_SMARTCARD"]));
    assert!(id_token["selected_roleid"].is_string(), "{id_token}");
    let access_token = tokens["access_token"].as_str().expect("an access token");
    let access_claims = jwt_claims(access_token);
    assert_eq!(access_claims["iss"], issuer.as_str());
    assert!(
        access_claims.get("aud").is_none(),
        "CIS2 access tokens carry no aud: {access_claims}"
    );

    let userinfo: Value = ureq::get(
        discovery["userinfo_endpoint"]
            .as_str()
            .expect("a UserInfo endpoint"),
    )
    .header("Authorization", format!("Bearer {access_token}"))
    .call()
    .expect("UserInfo answers 200")
    .body_mut()
    .read_json()
    .expect("UserInfo JSON");
    assert_eq!(userinfo["sub"], NURSE);
    let roles = userinfo["nhsid_nrbac_roles"]
        .as_array()
        .expect("national RBAC roles");
    assert!(
        roles.iter().any(|role| role["org_code"] == "A9A5A"
            && role["role_code"]
                .as_str()
                .is_some_and(|code| code.split(':').count() == 3)),
        "{userinfo}"
    );
    assert_eq!(roles[0]["person_roleid"], id_token["selected_roleid"]);
}

#[test]
fn mock_serve_refuses_an_unknown_auto_login_user() {
    let output = Command::new(binaries::cli().expect("careid is built"))
        .args([
            "mock",
            "serve",
            "--port",
            "0",
            "--auto-login",
            "999999999999",
        ])
        .output()
        .expect("careid runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown user is a usage error"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("999999999999"), "{stderr}");
}

#[test]
fn mock_serve_arms_faults_from_the_command_line() {
    let serve = Serve::start(&["--port", "0", "--fault", "http_503@discovery:1"]);
    assert!(
        serve.value("FAULTS:").contains("http_503"),
        "{:#?}",
        serve.banner
    );
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        serve.value("issuer:")
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let first = agent.get(&discovery).call().expect("answers");
    assert_eq!(
        first.status(),
        503,
        "the armed fault answers the first request"
    );
    let second = agent.get(&discovery).call().expect("answers");
    assert_eq!(
        second.status(),
        200,
        "a count of 1 is spent after one request"
    );

    let output = Command::new(binaries::cli().expect("careid is built"))
        .args(["mock", "serve", "--port", "0", "--fault", "no_such_fault"])
        .output()
        .expect("careid runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown fault is a usage error"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("no_such_fault"));
}

#[test]
fn mock_serve_switches_modes_on_from_the_command_line() {
    let serve = Serve::start(&[
        "--port",
        "0",
        "--mode",
        "lean_discovery",
        "--mode",
        "clock_skew=-30",
    ]);
    assert_eq!(
        serve.value("modes:"),
        "lean_discovery, clock_skew=-30",
        "{:#?}",
        serve.banner
    );
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        serve.value("issuer:")
    );
    let document: serde_json::Value = ureq::get(&discovery)
        .call()
        .expect("answers")
        .body_mut()
        .read_json()
        .expect("JSON");
    assert!(
        document
            .get("pushed_authorization_request_endpoint")
            .is_none()
            && document.get("revocation_endpoint").is_none(),
        "{document:#}"
    );

    let output = Command::new(binaries::cli().expect("careid is built"))
        .args(["mock", "serve", "--port", "0", "--mode", "clock_skew=soon"])
        .output()
        .expect("careid runs");
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown mode is a usage error"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("clock_skew=soon"));
}
