//! The independent OpenID provider (node `oidc-provider`, configured like CIS2) and the scripted
//! browser against it: discovery, the authorization code flow with PKCE for both confidential
//! clients, refresh with rotation, UserInfo, revocation and RP-initiated logout. The careid CLI is
//! not involved here: these tests prove the peer and the browser that careid's own
//! interoperability tests rely on.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_core::{
    authenticate, ClientAuth, ClientCredential, ClientSecret, PrivateKey, SigningAlgorithm,
};
use careid_e2e::{OidcProvider, OidcProviderOptions, ID_TOKEN_ALGORITHMS};
use serde_json::Value;

/// The login name the browser types in; the provider makes it the subject.
const LOGIN: &str = "555000000042";

fn random() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).expect("random bytes");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn get_json(url: &str) -> Value {
    let mut response = agent().get(url).call().expect("GET");
    assert_eq!(response.status(), 200, "{url}");
    response.body_mut().read_json().expect("JSON")
}

/// A one-shot redirect target on an ephemeral loopback port: the first request to `path` has its
/// query string sent back; the tab gets a small page.
fn loopback(path: &'static str) -> (u16, mpsc::Receiver<Vec<(String, String)>>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let target = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let url = url::Url::parse(&format!("http://127.0.0.1{target}")).expect("target");
            let matched = url.path() == path;
            let body = if matched { "signed in" } else { "not here" };
            let response = format!(
                "HTTP/1.1 {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                if matched { "200 OK" } else { "404 Not Found" },
                body.len()
            );
            let _ = reader.get_mut().write_all(response.as_bytes());
            if matched {
                let _ = send.send(url.query_pairs().into_owned().collect());
                return;
            }
        }
    });
    (port, receive)
}

/// Runs the scripted browser the way careid runs `BROWSER`: a process given the URL. Returns its
/// log (the pages it visited and the forms it submitted).
fn browse(url: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_test-browser"))
        .arg(url)
        .env("CAREID_TEST_BROWSER", "http")
        .env("CAREID_TEST_BROWSER_LOGIN", LOGIN)
        .output()
        .expect("test-browser runs");
    let log = String::from_utf8_lossy(&output.stderr);
    eprintln!("{log}");
    assert!(output.status.success(), "test-browser failed: {log}");
    log.into_owned()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// A client as the tests use it: its id, how it authenticates, and its credential.
struct Client {
    id: String,
    method: ClientAuth,
    credential: ClientCredential,
}

impl Client {
    fn secret(provider: &OidcProvider) -> Self {
        Self {
            id: provider.secret_client_id().to_owned(),
            method: ClientAuth::ClientSecretBasic,
            credential: ClientCredential::Secret(ClientSecret::new(
                provider.client_secret().to_owned(),
            )),
        }
    }

    fn key(provider: &OidcProvider, algorithm: SigningAlgorithm) -> Self {
        let key = PrivateKey::from_pem(provider.private_key_pem())
            .expect("the harness key reads")
            .with_algorithm(algorithm)
            .expect("an RSA algorithm");
        Self {
            id: provider.key_client_id().to_owned(),
            method: ClientAuth::PrivateKeyJwt,
            credential: ClientCredential::PrivateKey(key),
        }
    }

    /// POSTs `form` to `endpoint` with this client's authentication (`aud` = the token endpoint).
    fn post(
        &self,
        discovery: &Value,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> (u16, Option<Value>) {
        let token_endpoint = discovery["token_endpoint"]
            .as_str()
            .expect("token endpoint");
        let auth = authenticate(
            self.method,
            &careid_core::ClientId::new(self.id.as_str()),
            &self.credential,
            token_endpoint,
            SystemTime::now(),
        )
        .expect("client authentication");
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        pairs.extend(auth.form_pairs());
        let mut request = agent().post(discovery[endpoint].as_str().expect("endpoint"));
        if let Some(basic) = &auth.basic_authorization {
            request = request.header("Authorization", basic.expose_secret());
        }
        let mut response = request.send_form(pairs).expect("POST");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().expect("body");
        (status, serde_json::from_str(&body).ok())
    }
}

fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// Checks an RS256 ID token's signature against the provider's JWKS.
fn verify_id_token(discovery: &Value, id_token: &str) -> Value {
    let header = jwt_part(id_token, 0);
    assert_eq!(header["alg"], "RS256", "CIS2 signs ID tokens RS256");
    let jwks = get_json(discovery["jwks_uri"].as_str().expect("jwks_uri"));
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .expect("the ID token's kid is in the JWKS");
    let decode = |member: &str| {
        URL_SAFE_NO_PAD
            .decode(key[member].as_str().expect("RSA member"))
            .expect("base64url")
    };
    let (signed, signature) = id_token.rsplit_once('.').expect("a signed JWT");
    RsaPublicKeyComponents {
        n: decode("n"),
        e: decode("e"),
    }
    .verify(
        &RSA_PKCS1_2048_8192_SHA256,
        signed.as_bytes(),
        &URL_SAFE_NO_PAD.decode(signature).expect("base64url"),
    )
    .expect("the ID token's signature verifies");
    jwt_part(id_token, 1)
}

/// Authorization code + PKCE through the scripted browser, then the token endpoint, a refresh,
/// UserInfo and revocation. `consent` says whether the provider shows its consent page. Returns
/// the ID token.
fn full_flow(
    provider: &OidcProvider,
    client: &Client,
    refresh_client: &Client,
    consent: bool,
) -> String {
    let discovery = get_json(&provider.discovery_url());
    let (port, callback) = loopback("/callback");
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let verifier = random();
    let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    let state = random();
    let nonce = random();
    let mut authorize = url::Url::parse(
        discovery["authorization_endpoint"]
            .as_str()
            .expect("authorize"),
    )
    .expect("URL");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "openid profile nhsperson nationalrbacaccess")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("prompt", "login")
        .append_pair("max_age", "300");
    let log = browse(authorize.as_str());
    assert!(log.contains("submitting the login form"), "{log}");
    assert_eq!(
        log.contains("submitting the consent form"),
        consent,
        "{log}"
    );

    let answer = callback
        .recv_timeout(Duration::from_secs(10))
        .expect("the browser reached the loopback listener");
    assert_eq!(param(&answer, "state"), Some(state.as_str()));
    assert_eq!(
        param(&answer, "iss"),
        Some(provider.issuer()),
        "RFC 9207 iss, exact"
    );
    assert_eq!(param(&answer, "error"), None, "{answer:?}");
    let code = param(&answer, "code").expect("a code");

    let (status, tokens) = client.post(
        &discovery,
        "token_endpoint",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ],
    );
    let tokens = tokens.expect("a JSON token response");
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let access_token = tokens["access_token"].as_str().expect("an access token");
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token");
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let claims = verify_id_token(&discovery, id_token);
    assert_eq!(claims["iss"], provider.issuer());
    assert_eq!(claims["aud"], client.id.as_str());
    assert_eq!(claims["sub"], LOGIN);
    assert_eq!(claims["nonce"], nonce.as_str());
    assert!(claims["auth_time"].is_number(), "{claims}");
    assert_eq!(claims["authentication_assurance_level"], "3");

    let userinfo = |token: &str| {
        let mut response = agent()
            .get(discovery["userinfo_endpoint"].as_str().expect("userinfo"))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .expect("GET userinfo");
        let status = response.status().as_u16();
        (status, response.body_mut().read_json::<Value>().ok())
    };
    let (status, info) = userinfo(access_token);
    let info = info.expect("UserInfo JSON");
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], LOGIN);
    assert_eq!(info["nhsid_useruid"], LOGIN);
    assert_eq!(
        info["nhsid_nrbac_roles"][0]["role_code"],
        "S8001:G8005:R8015"
    );

    // Refresh: a new refresh token every time, and the old one is spent.
    let (status, refreshed) = refresh_client.post(
        &discovery,
        "token_endpoint",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    );
    let refreshed = refreshed.expect("JSON");
    assert_eq!(status, 200, "{refreshed}");
    let rotated = refreshed["refresh_token"]
        .as_str()
        .expect("a new refresh token");
    assert_ne!(rotated, refresh_token, "refresh tokens rotate");
    let new_access_token = refreshed["access_token"].as_str().expect("access token");
    assert_eq!(userinfo(new_access_token).0, 200);

    // Revocation (RFC 7009) ends the refresh token and its access tokens.
    let (status, _) = client.post(
        &discovery,
        "revocation_endpoint",
        &[("token", rotated), ("token_type_hint", "refresh_token")],
    );
    assert_eq!(status, 200);
    let (status, after) = client.post(
        &discovery,
        "token_endpoint",
        &[("grant_type", "refresh_token"), ("refresh_token", rotated)],
    );
    assert_eq!(status, 400);
    assert_eq!(after.expect("JSON")["error"], "invalid_grant");
    assert_eq!(userinfo(new_access_token).0, 401, "revoked with its grant");

    // A code is single use (a second try also revokes what it gave, so this comes last).
    let (status, reused) = client.post(
        &discovery,
        "token_endpoint",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ],
    );
    assert_eq!(status, 400);
    assert_eq!(reused.expect("JSON")["error"], "invalid_grant");
    id_token.to_owned()
}

#[test]
fn oidc_provider_publishes_a_cis2_like_discovery_document() {
    let provider = OidcProvider::start(OidcProviderOptions::default()).expect("provider starts");
    let issuer = provider.issuer();
    assert_eq!(
        issuer,
        format!(
            "http://127.0.0.1:{}/openam/oauth2/realms/root/realms/oidc",
            provider.port()
        )
    );
    let discovery = get_json(&provider.discovery_url());
    assert_eq!(discovery["issuer"], issuer, "the issuer, exact");
    assert_eq!(
        discovery["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        discovery["response_modes_supported"],
        serde_json::json!(["query"])
    );
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        discovery["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let methods = discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("auth methods");
    assert!(methods.contains(&"private_key_jwt".into()));
    assert!(methods.contains(&"client_secret_basic".into()));
    assert!(
        !methods.contains(&"none".into()),
        "confidential clients only"
    );
    for (name, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/access_token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/connect/jwk_uri"),
        ("end_session_endpoint", "/connect/endSession"),
        ("revocation_endpoint", "/token/revoke"),
    ] {
        assert_eq!(discovery[name], format!("{issuer}{path}"), "{name}");
    }
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(ID_TOKEN_ALGORITHMS)
    );
    let jwks = get_json(discovery["jwks_uri"].as_str().expect("jwks"));
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    let keys: Vec<(&str, &str)> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| {
            (
                key["alg"].as_str().expect("alg"),
                key["kty"].as_str().expect("kty"),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("RS256", "RSA"),
            ("RS512", "RSA"),
            ("PS256", "RSA"),
            ("ES256", "EC")
        ],
        "one key per ID token algorithm"
    );
    for alg in ID_TOKEN_ALGORITHMS {
        let client = provider.client_for_id_token_alg(alg);
        assert!(client.is_some(), "a client for {alg}");
        assert_eq!(alg == "RS256", client == Some(provider.secret_client_id()));
    }
}

#[test]
fn oidc_provider_signs_in_a_client_secret_basic_client_and_logs_out() {
    let provider = OidcProvider::start(OidcProviderOptions::default()).expect("provider starts");
    let client = Client::secret(&provider);
    let id_token = full_flow(&provider, &client, &client, false);

    // RP-initiated logout: the browser confirms the provider's sign-out page and lands on the
    // loopback post-logout URI, any port.
    let discovery = get_json(&provider.discovery_url());
    let (port, signed_out) = loopback("/signed-out");
    let mut end_session = url::Url::parse(
        discovery["end_session_endpoint"]
            .as_str()
            .expect("end_session"),
    )
    .expect("URL");
    end_session
        .query_pairs_mut()
        .append_pair("id_token_hint", &id_token)
        .append_pair(
            "post_logout_redirect_uri",
            &format!("http://127.0.0.1:{port}/signed-out"),
        )
        .append_pair("state", "bye");
    browse(end_session.as_str());
    let answer = signed_out
        .recv_timeout(Duration::from_secs(10))
        .expect("the browser came back from sign-out");
    assert_eq!(param(&answer, "state"), Some("bye"));
}

#[test]
fn oidc_provider_signs_in_a_private_key_jwt_client_through_the_consent_page() {
    // Consent on: the browser also gets through oidc-provider's consent form.
    let provider = OidcProvider::start(OidcProviderOptions {
        consent: true,
        ..OidcProviderOptions::default()
    })
    .expect("provider starts");
    let rs256 = Client::key(&provider, SigningAlgorithm::Rs256);
    let rs512 = Client::key(&provider, SigningAlgorithm::Rs512);
    full_flow(&provider, &rs256, &rs512, true);
}

#[test]
fn oidc_provider_refuses_an_authorization_request_without_pkce() {
    let provider = OidcProvider::start(OidcProviderOptions::default()).expect("provider starts");
    let discovery = get_json(&provider.discovery_url());
    let (port, callback) = loopback("/callback");
    let mut authorize = url::Url::parse(
        discovery["authorization_endpoint"]
            .as_str()
            .expect("authorize"),
    )
    .expect("URL");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", provider.secret_client_id())
        .append_pair("redirect_uri", &format!("http://127.0.0.1:{port}/callback"))
        .append_pair("scope", "openid")
        .append_pair("state", "s1");
    browse(authorize.as_str());
    let answer = callback
        .recv_timeout(Duration::from_secs(10))
        .expect("an error comes back to the redirect URI");
    assert_eq!(
        param(&answer, "error"),
        Some("invalid_request"),
        "{answer:?}"
    );
    assert_eq!(param(&answer, "state"), Some("s1"));
    assert_eq!(param(&answer, "iss"), Some(provider.issuer()));
}
