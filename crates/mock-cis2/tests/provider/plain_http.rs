//! The "done when" check: with auto-login, a plain HTTP client that follows redirects
//! completes authorize, callback, token and UserInfo, and gets CIS2-shaped answers. Also the
//! sign-in page for when auto-login is off.

use mock_cis2::MockCis2;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

/// A one-shot loopback redirect target: answers the first request and returns its target.
async fn callback_listener() -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect_uri = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr().unwrap().port()
    );
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0; 8192];
        let mut read = 0;
        while !buffer[..read]
            .windows(4)
            .any(|window| window == b"\r\n\r\n")
        {
            let n = stream.read(&mut buffer[read..]).await.unwrap();
            assert!(n > 0, "the request ended early");
            read += n;
        }
        let request = String::from_utf8_lossy(&buffer[..read]).into_owned();
        let target = request.split(' ').nth(1).unwrap().to_owned();
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nsigned in",
            )
            .await
            .unwrap();
        target
    });
    (redirect_uri, task)
}

#[tokio::test]
async fn plain_http_client_completes_a_whole_flow_with_auto_login() {
    let mock = start_auto_login(NURSE).await;
    let (redirect_uri, callback) = callback_listener().await;
    let (verifier, challenge) = pkce_pair("plain-http");
    let authorize_url = url::Url::parse_with_params(
        &format!("{}/authorize", mock.issuer()),
        &[
            ("response_type", "code"),
            ("client_id", BASIC_CLIENT),
            ("redirect_uri", redirect_uri.as_str()),
            (
                "scope",
                "openid profile email nhsperson associatedorgs nationalrbacaccess selectedrole",
            ),
            ("state", "xyz"),
            ("nonce", "n-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();

    // Like `curl -sL`: follow the redirect to the callback.
    let http = http().build().unwrap();
    let page = http.get(authorize_url).send().await.unwrap();
    assert_eq!(page.text().await.unwrap(), "signed in");
    let target = callback.await.unwrap();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(target.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(param(&query, "state"), Some("xyz"));
    assert_eq!(param(&query, "iss"), Some(mock.issuer()));
    let code = param(&query, "code").unwrap();

    let response = http
        .post(format!("{}/access_token", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3599);
    assert_eq!(tokens["nonce"], "n-1");
    let id_token = jwt_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["sub"], NURSE);
    assert_eq!(id_token["nonce"], "n-1");
    assert_eq!(
        id_token["selected_roleid"], "555057898108",
        "one role is chosen automatically"
    );

    let info: Value = userinfo(&mock, &http, tokens["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    // Every scope's claims, compared with the shared data file rather than repeated here.
    let users: Value = serde_json::from_str(mock_cis2::BUILTIN_USERS_JSON).unwrap();
    let nurse = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["claims"]["sub"] == NURSE)
        .unwrap();
    for claim in [
        "sub",
        "uid",
        "name",
        "given_name",
        "family_name",
        "email",
        "nhsid_useruid",
        "title",
        "idassurancelevel",
        "initials",
        "display_name",
        "nhsid_user_orgs",
        "nhsid_nrbac_roles",
    ] {
        assert_eq!(info[claim], nurse["claims"][claim], "{claim}");
    }
    assert!(info.get("nhsid_org_memberships").is_none(), "not asked for");
    assert!(
        info.get("nmc_id").is_none(),
        "professionalmemberships not asked for"
    );
    assert_eq!(
        info["nhsid_nrbac_roles"][0]["role_code"],
        "S8000:G8000:R8001"
    );
}

#[tokio::test]
async fn sign_in_page_lists_test_users_and_completes_with_the_chosen_one() {
    let mock = MockCis2::new().start().await.unwrap();
    let browser = crate::browser::Browser::new();
    let page = browser.authorize(&mock, &[]).await;
    assert_eq!(page.status(), 200);
    let html = page.page();
    assert!(html.contains("555057896106") && html.contains("656005750104"));
    assert!(!html.contains("<script"), "works without JavaScript");
    let pending = page.pending();

    let signed_in = browser
        .sign_in(
            &mock,
            &page,
            "555057910105",
            "windows_hello",
            &[("confirm", "1")],
        )
        .await;
    let query = signed_in.redirect();
    assert!(param(query, "code").is_some());
    assert_eq!(param(query, "state"), Some("state-123"));

    let again = browser
        .submit(&mock, &pending, &[("step", "user"), ("user", NURSE)])
        .await;
    assert_eq!(again.status(), 400, "a pending sign-in completes once");
}
