//! Signing out: end-session with `id_token_hint`, `post_logout_redirect_uri` and `state`
//! (OpenID Connect RP-Initiated Logout 1.0 §2, §3), and back-channel logout tokens on every end
//! of a session (Back-Channel Logout 1.0 §2.4 to §2.8), received by a local client endpoint
//! and verified against the published JWKS independently of the mock's own code.

use std::time::Duration;

use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mock_cis2::{
    ClientRegistry, DeliveryOutcome, MockCis2, RunningMock, SessionEndReason, BUILTIN_CLIENTS_JSON,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::browser::*;
use crate::support::*;

/// Where the basic client asks to be sent after signing out; registered in these tests.
const SIGNED_OUT: &str = "http://127.0.0.1:49152/signed-out";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The client's back-channel logout endpoint: answers 200 and hands each POST to the test.
struct ClientEndpoint {
    uri: String,
    posts: mpsc::UnboundedReceiver<(HeaderMap, String)>,
}

impl ClientEndpoint {
    async fn listen() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let uri = format!(
            "http://{}/backchannel-logout",
            listener.local_addr().unwrap()
        );
        let (sender, posts) = mpsc::unbounded_channel();
        let app = Router::new().route(
            "/backchannel-logout",
            post(move |headers: HeaderMap, body: String| {
                let sender = sender.clone();
                async move {
                    let _ = sender.send((headers, body));
                    StatusCode::OK
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { uri, posts }
    }

    /// The next logout token POSTed, after checking the POST's form encoding (§2.5).
    async fn logout_token(&mut self) -> String {
        let (headers, body) = tokio::time::timeout(Duration::from_secs(10), self.posts.recv())
            .await
            .expect("a back-channel logout within 10 s")
            .expect("the endpoint is listening");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(form.len(), 1, "only logout_token: {body}");
        param(&form, "logout_token")
            .expect("a logout_token")
            .to_owned()
    }

    /// Whether anything else was POSTed within half a second.
    async fn nothing_more(&mut self) -> bool {
        tokio::time::timeout(Duration::from_millis(500), self.posts.recv())
            .await
            .is_err()
    }
}

/// The built-in clients, with the basic client registered for back-channel logout at
/// `backchannel` and for one post-logout redirect URI.
fn clients_with_logout(backchannel: &str) -> ClientRegistry {
    let mut file: Value = serde_json::from_str(BUILTIN_CLIENTS_JSON).unwrap();
    for client in file["clients"].as_array_mut().unwrap() {
        if client["client_id"] == BASIC_CLIENT {
            client["backchannel_logout_uri"] = json!(backchannel);
            client["post_logout_redirect_uris"] = json!([SIGNED_OUT]);
        }
    }
    ClientRegistry::from_json(&file.to_string(), "test clients").expect("valid clients")
}

async fn start(
    endpoint: &ClientEndpoint,
    configure: impl FnOnce(MockCis2) -> MockCis2,
) -> RunningMock {
    configure(
        MockCis2::new()
            .clients(clients_with_logout(&endpoint.uri))
            .auto_login(NURSE.parse().unwrap()),
    )
    .start()
    .await
    .expect("the mock starts")
}

/// Signs the nurse in (auto-login) and returns the token response.
async fn tokens(mock: &RunningMock, http: &reqwest::Client) -> Value {
    let (code, verifier) = code_for_basic_client(mock, http).await;
    let response = exchange_code(mock, http, &code, &verifier, &secret(BASIC_CLIENT)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn id_token(tokens: &Value) -> &str {
    tokens["id_token"].as_str().expect("an ID token")
}

async fn end_session(mock: &RunningMock, params: &[(&str, &str)]) -> reqwest::Response {
    let url = url::Url::parse_with_params(&format!("{}/connect/endSession", mock.issuer()), params)
        .unwrap();
    no_redirects()
        .get(url)
        .send()
        .await
        .expect("the mock answers")
}

async fn refresh(mock: &RunningMock, http: &reqwest::Client, token: &str) -> reqwest::Response {
    http.post(format!("{}/access_token", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap()
}

/// Verifies a logout token's RS256 signature with the key its `kid` names in the JWKS fetched
/// from the mock (aws-lc-rs with the JWK's `n` and `e`), and returns its header and claims.
async fn verified_logout_token(mock: &RunningMock, token: &str) -> (Value, Value) {
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    let header = decode(parts[0]);
    let jwks: Value = get_json(
        &no_redirects(),
        format!("{}/connect/jwk_uri", mock.issuer()),
    )
    .await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .expect("the kid is published");
    let component = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let (n, e) = (component("n"), component("e"));
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        )
        .expect("the logout token's signature verifies");
    (header, decode(parts[1]))
}

/// The checks of Back-Channel Logout 1.0 §2.6 that a client makes, for the session of `id_token`.
async fn assert_logout_token_for(mock: &RunningMock, token: &str, id_token: &str) {
    let (header, claims) = verified_logout_token(mock, token).await;
    let session = jwt_payload(id_token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["iss"], mock.issuer(), "iss exactly the issuer");
    assert_eq!(claims["aud"], BASIC_CLIENT);
    assert_eq!(claims["sub"], NURSE);
    assert_eq!(claims["sid"], session["sid"]);
    assert!(claims["sid"].as_str().is_some_and(|sid| !sid.is_empty()));
    assert_eq!(claims["events"], json!({ EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "a logout token has no nonce");
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 16));
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(exp > iat && exp - iat <= 300, "short-lived: {iat}..{exp}");
}

/// The deliveries once `count` have finished; sends are asynchronous.
async fn deliveries(mock: &RunningMock, count: usize) -> Vec<mock_cis2::BackchannelDelivery> {
    for _ in 0..100 {
        let deliveries = mock.backchannel_deliveries();
        if deliveries.len() >= count {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "fewer than {count} deliveries: {:?}",
        mock.backchannel_deliveries()
    );
}

#[tokio::test]
async fn end_session_ends_the_session_and_revokes_its_tokens() {
    let mut endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    let http = no_redirects();
    let tokens = tokens(&mock, &http).await;
    let sid = jwt_payload(id_token(&tokens))["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(mock.sessions().iter().any(|session| session.sid == sid));

    let response = end_session(&mock, &[("id_token_hint", id_token(&tokens))]).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("mock_cis2_session=;"), "{cookie}");
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("You have signed out"));

    assert!(!mock.sessions().iter().any(|session| session.sid == sid));
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&mock, &http, access).await.status(), 401);
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let refreshed = refresh(&mock, &http, refresh_token).await;
    assert_eq!(refreshed.status(), 400);
    assert_eq!(
        refreshed.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // The back-channel token is this test's business too: it must not linger unread.
    endpoint.logout_token().await;
}

#[tokio::test]
async fn end_session_by_post_form_is_accepted() {
    let mut endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    let tokens = tokens(&mock, &no_redirects()).await;
    let response = no_redirects()
        .post(format!("{}/connect/endSession", mock.issuer()))
        .form(&[
            ("id_token_hint", id_token(&tokens)),
            ("client_id", BASIC_CLIENT),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "bye-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        location_query(&response).unwrap(),
        [("state".to_owned(), "bye-1".to_owned())]
    );
    assert!(mock.sessions().is_empty());
    endpoint.logout_token().await;
}

#[tokio::test]
async fn after_end_session_the_browser_must_sign_in_again() {
    let endpoint = ClientEndpoint::listen().await;
    let mock = MockCis2::new()
        .clients(clients_with_logout(&endpoint.uri))
        .start()
        .await
        .unwrap();
    let browser = Browser::new();
    let first = browser.authorize(&mock, &[]).await;
    let pin = user_field(NURSE, "smartcard_pin");
    let signed_in = browser
        .sign_in(&mock, &first, NURSE, "smartcard", &[("pin", &pin)])
        .await;
    let code = param(signed_in.redirect(), "code").unwrap().to_owned();
    let (verifier, _) = pkce_pair("browser");
    let http = no_redirects();
    let response = exchange_code(&mock, &http, &code, &verifier, &secret(BASIC_CLIENT)).await;
    let tokens: Value = response.json().await.unwrap();

    let ended = end_session(&mock, &[("id_token_hint", id_token(&tokens))]).await;
    assert_eq!(ended.status(), 200);
    // The browser still holds its old cookie; the session it named is gone all the same.
    let silent = browser.authorize(&mock, &[("prompt", "none")]).await;
    assert_eq!(param(silent.redirect(), "error"), Some("login_required"));
    let page = browser.authorize(&mock, &[]).await;
    assert!(page.page().contains("Sign in with a test user"));
}

#[tokio::test]
async fn registered_post_logout_redirect_uri_gets_the_browser_back_with_state() {
    let endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    let tokens = tokens(&mock, &no_redirects()).await;
    let response = end_session(
        &mock,
        &[
            ("id_token_hint", id_token(&tokens)),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "after-sign-out"),
        ],
    )
    .await;
    assert_eq!(response.status(), 302);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(location, format!("{SIGNED_OUT}?state=after-sign-out"));
}

#[tokio::test]
async fn unregistered_post_logout_redirect_uri_shows_the_page_instead() {
    let endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    let tokens = tokens(&mock, &no_redirects()).await;
    let sid = jwt_payload(id_token(&tokens))["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    for uri in [
        "https://attacker.example/",
        "http://127.0.0.1:49152/callback",
    ] {
        let response = end_session(
            &mock,
            &[
                ("id_token_hint", id_token(&tokens)),
                ("post_logout_redirect_uri", uri),
                ("state", "s"),
            ],
        )
        .await;
        assert_eq!(response.status(), 200, "{uri}");
        assert!(response.headers().get(header::LOCATION).is_none(), "{uri}");
        let page = response.text().await.unwrap();
        assert!(page.contains("<h1>You have signed out</h1>"), "{page}");
        assert!(page.contains("<html lang=\"en\">"));
    }
    assert!(!mock.sessions().iter().any(|session| session.sid == sid));
}

#[tokio::test]
async fn bad_hints_are_refused_with_invalid_request() {
    let endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    let other_mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let tokens = tokens(&mock, &http).await;
    let foreign = self::tokens(&other_mock, &http).await;
    let hint = id_token(&tokens);
    let mut tampered = hint.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let access = tokens["access_token"].as_str().unwrap();

    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        ("no hint", vec![]),
        ("not a JWT", vec![("id_token_hint", "not-a-token")]),
        ("tampered signature", vec![("id_token_hint", &tampered)]),
        (
            "another provider's ID token",
            vec![("id_token_hint", id_token(&foreign))],
        ),
        ("an access token", vec![("id_token_hint", access)]),
        (
            "client_id not the hint's audience",
            vec![("id_token_hint", hint), ("client_id", POST_CLIENT)],
        ),
    ];
    for (case, params) in cases {
        let response = end_session(&mock, &params).await;
        assert_eq!(response.status(), 400, "{case}");
        assert!(response.headers().get(header::LOCATION).is_none(), "{case}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("<code id=\"error\">invalid_request</code>"),
            "{case}: {page}"
        );
    }
    assert_eq!(
        mock.sessions().len(),
        1,
        "no refused request ended the session"
    );
}

#[tokio::test]
async fn an_expired_hint_is_still_accepted() {
    let endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| {
        mock.token_lifetime(Duration::from_secs(1))
    })
    .await;
    let tokens = tokens(&mock, &no_redirects()).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let claims = jwt_payload(id_token(&tokens));
    assert!(
        claims["exp"].as_u64().unwrap() < now(),
        "the hint has expired"
    );
    let response = end_session(&mock, &[("id_token_hint", id_token(&tokens))]).await;
    assert_eq!(response.status(), 200);
    assert!(mock.sessions().is_empty());
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn end_session_sends_a_verified_logout_token() {
    let mut endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    let tokens = tokens(&mock, &no_redirects()).await;
    end_session(&mock, &[("id_token_hint", id_token(&tokens))]).await;

    let logout_token = endpoint.logout_token().await;
    assert_logout_token_for(&mock, &logout_token, id_token(&tokens)).await;
    assert!(endpoint.nothing_more().await, "one token for one client");
    let delivered = deliveries(&mock, 1).await;
    assert_eq!(delivered[0].client_id, BASIC_CLIENT);
    assert_eq!(delivered[0].reason, SessionEndReason::SignedOut);
    assert_eq!(
        delivered[0].outcome,
        DeliveryOutcome::Delivered { status: 200 }
    );
}

#[tokio::test]
async fn ending_a_session_through_the_library_sends_a_logout_token() {
    let mut endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    let tokens = tokens(&mock, &no_redirects()).await;
    let sid = jwt_payload(id_token(&tokens))["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    assert!(mock.end_session(&sid));
    let logout_token = endpoint.logout_token().await;
    assert_logout_token_for(&mock, &logout_token, id_token(&tokens)).await;
    let delivered = deliveries(&mock, 1).await;
    assert_eq!(delivered[0].sid, sid);
    assert_eq!(delivered[0].reason, SessionEndReason::Ended);
    assert_eq!(delivered[0].uri, endpoint.uri);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&mock, &no_redirects(), access).await.status(), 401);
}

#[tokio::test]
async fn session_expiry_sends_a_logout_token() {
    let mut endpoint = ClientEndpoint::listen().await;
    // The sweeper is held off so that the test decides when expiry is found.
    let mock = start(&endpoint, |mock| {
        mock.session_lifetime(Duration::from_secs(1))
            .sweep_interval(Duration::from_secs(3600))
    })
    .await;
    let tokens = tokens(&mock, &no_redirects()).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(endpoint.nothing_more().await, "nothing before the sweep");

    mock.sweep_now();
    let logout_token = endpoint.logout_token().await;
    assert_logout_token_for(&mock, &logout_token, id_token(&tokens)).await;
    assert_eq!(
        deliveries(&mock, 1).await[0].reason,
        SessionEndReason::Expired
    );
}

#[tokio::test]
async fn sessions_without_tokens_for_the_client_send_nothing() {
    let mut endpoint = ClientEndpoint::listen().await;
    let mock = start(&endpoint, |mock| mock).await;
    // A code issued but never redeemed: the client received no tokens in this session.
    code_for_basic_client(&mock, &no_redirects()).await;
    let sid = mock.sessions()[0].sid.clone();
    assert!(mock.end_session(&sid));
    assert!(endpoint.nothing_more().await);
    assert!(mock.backchannel_deliveries().is_empty());
}

#[tokio::test]
async fn an_unreachable_client_is_logged_as_failed() {
    // A port that was free a moment ago: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/backchannel-logout", closed.local_addr().unwrap());
    drop(closed);
    let mock = MockCis2::new()
        .clients(clients_with_logout(&uri))
        .auto_login(NURSE.parse().unwrap())
        .start()
        .await
        .unwrap();
    let tokens = tokens(&mock, &no_redirects()).await;
    let response = end_session(&mock, &[("id_token_hint", id_token(&tokens))]).await;
    assert_eq!(
        response.status(),
        200,
        "signing out never waits on a client"
    );
    let delivered = deliveries(&mock, 1).await;
    assert!(
        matches!(delivered[0].outcome, DeliveryOutcome::Failed { .. }),
        "{:?}",
        delivered[0]
    );
}

#[tokio::test]
async fn discovery_advertises_back_channel_logout_with_sid() {
    let mock = start_auto_login(NURSE).await;
    let document: Value = get_json(
        &no_redirects(),
        format!("{}/.well-known/openid-configuration", mock.issuer()),
    )
    .await;
    assert_eq!(document["backchannel_logout_supported"], true);
    assert_eq!(document["backchannel_logout_session_supported"], true);
    assert_eq!(
        document["end_session_endpoint"],
        format!("{}/connect/endSession", mock.issuer())
    );
}
