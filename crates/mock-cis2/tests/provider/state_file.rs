//! The state file (`MockCis2::state_file`): a provider started later on the same file (on its
//! last port, or under another configured issuer) carries on where the first stopped, as the CLI's `careid login`
//! and a later `careid token` need. Refresh rotation, reuse detection, revocation, sessions
//! and signing keys all survive the restart.

use std::path::Path;
use std::time::Duration;

use aws_lc_rs::signature::{
    RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA512,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mock_cis2::{ClientRegistry, MockCis2, RunningMock, BUILTIN_CLIENTS_JSON};
use serde_json::{json, Value};

use crate::support::*;

fn with_state(path: &Path) -> MockCis2 {
    MockCis2::new()
        .auto_login(NURSE.parse().expect("valid auto-login"))
        .state_file(path)
}

async fn start_on(path: &Path) -> RunningMock {
    with_state(path).start().await.expect("the mock starts")
}

/// Another issuer than the first run's, as a restart on another port would have.
async fn restart_on(path: &Path, name: &str) -> RunningMock {
    with_state(path)
        .issuer(format!("http://127.0.0.1:{{port}}/{name}"))
        .start()
        .await
        .expect("the mock starts again")
}

/// Signs the nurse in (auto-login) for the basic client and returns the token response.
async fn login(mock: &RunningMock, http: &reqwest::Client) -> Value {
    let (code, verifier) = code_for_basic_client(mock, http).await;
    let response = exchange_code(mock, http, &code, &verifier, &secret(BASIC_CLIENT)).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("a token response")
}

async fn refresh(mock: &RunningMock, http: &reqwest::Client, token: &str) -> reqwest::Response {
    http.post(format!("{}/access_token", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .expect("the mock answers")
}

async fn assert_invalid_grant(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 400, "{what}");
    let body: Value = response.json().await.expect("a JSON error");
    assert_eq!(body["error"], "invalid_grant", "{what}: {body}");
}

fn text<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {value}"))
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("a JWK Set")
        .iter()
        .map(|key| text(key, "kid").to_owned())
        .collect()
}

fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("JSON")
}

/// Whether `token` verifies with the key its header names in `jwks`: checked here, not by the
/// mock's own code.
fn verifies_with(jwks: &Value, token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let header = jwt_header(token);
    let Some(jwk) = jwks["keys"]
        .as_array()
        .expect("a JWK Set")
        .iter()
        .find(|key| key["kid"] == header["kid"])
    else {
        return false;
    };
    let algorithm = match header["alg"].as_str() {
        Some("RS256") => &RSA_PKCS1_2048_8192_SHA256,
        Some("RS512") => &RSA_PKCS1_2048_8192_SHA512,
        _ => return false,
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).expect("base64url");
    let (n, e) = (decode(text(jwk, "n")), decode(text(jwk, "e")));
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            algorithm,
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &decode(parts[2]),
        )
        .is_ok()
}

#[tokio::test]
async fn refresh_rotation_and_reuse_detection_survive_restarts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("nested").join("mock-state.json");
    let http = no_redirects();

    let first = start_on(&path).await;
    assert_eq!(first.state_file(), Some(path.as_path()));
    let tokens = login(&first, &http).await;
    let first_issuer = first.issuer().to_owned();
    let first_kids = kids(&first.jwks());
    first.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path)
            .expect("the state file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the file holds live tokens");
    }

    let second = restart_on(&path, "second").await;
    assert_ne!(second.issuer(), first_issuer);
    assert_eq!(kids(&second.jwks()), first_kids, "the same keys, same kids");
    let id_token = text(&tokens, "id_token");
    assert!(
        verifies_with(&second.jwks(), id_token),
        "an ID token of the first run verifies with the second run's JWKS"
    );
    let claims = userinfo(&second, &http, text(&tokens, "access_token")).await;
    assert_eq!(claims.status(), 200, "an earlier access token still works");
    assert_eq!(claims.json::<Value>().await.unwrap()["sub"], NURSE);

    let first_refresh = text(&tokens, "refresh_token");
    let refreshed = refresh(&second, &http, first_refresh).await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    let second_refresh = text(&refreshed, "refresh_token").to_owned();
    assert_ne!(second_refresh, first_refresh, "rotated");
    let before = jwt_payload(id_token);
    let after = jwt_payload(text(&refreshed, "id_token"));
    assert_eq!(after["iss"], second.issuer(), "minted under the new issuer");
    for claim in [
        "sub",
        "aud",
        "sid",
        "auth_time",
        "acr",
        "amr",
        "selected_roleid",
        "id_assurance_level",
        "authentication_assurance_level",
    ] {
        assert_eq!(after[claim], before[claim], "{claim}");
    }
    assert!(after.get("nonce").is_none());
    assert!(verifies_with(&second.jwks(), text(&refreshed, "id_token")));
    let later_access = text(&refreshed, "access_token").to_owned();
    second.shutdown().await;

    let third = start_on(&path).await;
    assert_invalid_grant(
        refresh(&third, &http, first_refresh).await,
        "a rotated refresh token, reused after a restart",
    )
    .await;
    assert_invalid_grant(
        refresh(&third, &http, &second_refresh).await,
        "the current token of a family whose rotated token was reused",
    )
    .await;
    assert_eq!(
        userinfo(&third, &http, &later_access).await.status(),
        401,
        "reuse revoked the whole grant"
    );
    third.shutdown().await;
}

#[tokio::test]
async fn revoked_tokens_stay_revoked_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let http = no_redirects();

    let first = start_on(&path).await;
    let revoked = login(&first, &http).await;
    let kept = login(&first, &http).await;
    let answer = http
        .post(format!("{}/token/revoke", first.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[("token", text(&revoked, "refresh_token"))])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    first.shutdown().await;

    let second = restart_on(&path, "after-revocation").await;
    assert_invalid_grant(
        refresh(&second, &http, text(&revoked, "refresh_token")).await,
        "revoked before the restart",
    )
    .await;
    assert_eq!(
        userinfo(&second, &http, text(&revoked, "access_token"))
            .await
            .status(),
        401
    );
    assert_eq!(
        refresh(&second, &http, text(&kept, "refresh_token"))
            .await
            .status(),
        200,
        "the other grant was not revoked"
    );
    second.shutdown().await;
}

#[tokio::test]
async fn rotated_and_retired_keys_are_kept_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let http = no_redirects();

    let first = start_on(&path).await;
    let tokens = login(&first, &http).await;
    first.rotate_keys().await.expect("new keys");
    let rotated = first.jwks();
    assert_eq!(kids(&rotated).len(), 4);
    first.shutdown().await;

    let second = restart_on(&path, "second").await;
    assert_eq!(second.jwks(), rotated, "old and current keys, in order");
    let refreshed: Value = refresh(&second, &http, text(&tokens, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    let header = jwt_header(text(&refreshed, "id_token"));
    let current = rotated["keys"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|key| key["alg"] == header["alg"])
        .unwrap();
    assert_eq!(header["kid"], current["kid"], "signed with the current key");
    second.retire_old_keys();
    second.shutdown().await;

    let third = start_on(&path).await;
    assert_eq!(
        kids(&third.jwks()),
        kids(&rotated)[2..],
        "retired stay retired"
    );
    assert!(!verifies_with(&third.jwks(), text(&tokens, "id_token")));
    third.shutdown().await;
}

#[tokio::test]
async fn a_damaged_or_foreign_file_means_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let http = no_redirects();
    let foreign = json!({ "version": 999, "keys": "whatever" }).to_string();
    for content in ["{ not json", foreign.as_str(), ""] {
        std::fs::write(&path, content).unwrap();
        let mock = start_on(&path).await;
        assert_eq!(kids(&mock.jwks()).len(), 2, "fresh keys");
        assert_eq!(mock.store_counts(), Default::default());
        complete_login(&mock, &http, &secret(BASIC_CLIENT))
            .await
            .expect("a fresh mock works");
        mock.shutdown().await;
        let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .expect("the damaged file was replaced");
        assert_eq!(written["version"], 1);
    }
}

#[tokio::test]
async fn expired_state_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let http = no_redirects();
    let short = Duration::from_secs(1);

    let first = with_state(&path)
        .token_lifetime(short)
        .refresh_token_lifetime(short)
        .code_lifetime(short)
        .session_lifetime(short)
        .start()
        .await
        .unwrap();
    let tokens = login(&first, &http).await;
    first.shutdown().await;
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let second = start_on(&path).await;
    assert_eq!(second.store_counts(), Default::default());
    assert!(second.sessions().is_empty());
    assert_invalid_grant(
        refresh(&second, &http, text(&tokens, "refresh_token")).await,
        "expired before the restart",
    )
    .await;
    second.shutdown().await;
    let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written["store"]["grants"], json!({}));
    assert_eq!(written["sessions"], json!([]));
}

/// The basic client, registered for back-channel logout at a port nobody listens on, so that
/// each notice is recorded as failed.
fn clients_with_unreachable_logout() -> ClientRegistry {
    let mut file: Value = serde_json::from_str(BUILTIN_CLIENTS_JSON).unwrap();
    for client in file["clients"].as_array_mut().unwrap() {
        if client["client_id"] == BASIC_CLIENT {
            client["backchannel_logout_uri"] = json!("http://127.0.0.1:1/backchannel-logout");
        }
    }
    ClientRegistry::from_json(&file.to_string(), "test clients").expect("valid clients")
}

#[tokio::test]
async fn end_session_after_a_restart_takes_the_earlier_id_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let http = no_redirects();
    let configured = || with_state(&path).clients(clients_with_unreachable_logout());

    let first = configured().start().await.unwrap();
    let tokens = login(&first, &http).await;
    first.shutdown().await;

    let second = configured()
        .issuer("http://127.0.0.1:{port}/second")
        .start()
        .await
        .unwrap();
    let id_token = text(&tokens, "id_token");
    let sid = text(&jwt_payload(id_token), "sid").to_owned();
    assert!(second.sessions().iter().any(|session| session.sid == sid));

    let url = url::Url::parse_with_params(
        &format!("{}/connect/endSession", second.issuer()),
        &[("id_token_hint", id_token)],
    )
    .unwrap();
    let answer = http.get(url).send().await.unwrap();
    assert_eq!(
        answer.status(),
        200,
        "a hint minted under the earlier issuer"
    );
    assert!(second.sessions().is_empty());
    assert_invalid_grant(
        refresh(&second, &http, text(&tokens, "refresh_token")).await,
        "the session's tokens are revoked",
    )
    .await;
    // The session's clients were kept, so the client that redeemed a code is told.
    for _ in 0..100 {
        if !second.backchannel_deliveries().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deliveries = second.backchannel_deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].client_id, BASIC_CLIENT);
    assert_eq!(deliveries[0].sid, sid);
    second.shutdown().await;

    let third = start_on(&path).await;
    assert!(third.sessions().is_empty(), "ended stays ended");
    third.shutdown().await;
}

#[tokio::test]
async fn a_restart_comes_back_on_its_last_port_and_issuer_or_refuses_to_move() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");

    let first = start_on(&path).await;
    let (issuer, port) = (first.issuer().to_owned(), first.port());
    first.shutdown().await;

    let second = start_on(&path).await;
    assert_eq!(second.port(), port, "the port it last used");
    assert_eq!(
        second.issuer(),
        issuer,
        "so the issuer its tokens carry stays"
    );
    second.shutdown().await;

    // Another program has the port now (on either loopback address): moving would change the
    // issuer its tokens carry, so it does not start, and says why.
    for address in [
        std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)),
        std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
    ] {
        let Ok(taken) = std::net::TcpListener::bind(address) else {
            continue; // no IPv6 loopback here
        };
        let refused = with_state(&path).start().await.unwrap_err();
        assert_eq!(refused.code(), "port_taken", "{address}: {refused}");
        assert!(refused.to_string().contains(&port.to_string()), "{refused}");
        drop(taken);
    }
    let fourth = start_on(&path).await;
    assert_eq!(fourth.issuer(), issuer, "once the port is free again");
    fourth.shutdown().await;
}
