//! Token introspection (RFC 7662 §2): a client's own current tokens are described, and every
//! other token (unknown, revoked, ended with the session, another client's) is only
//! `{"active": false}`; the endpoint authenticates the client like the token endpoint does.

use serde_json::{json, Value};

use crate::support::*;

async fn introspect(
    mock: &mock_cis2::RunningMock,
    client_id: &str,
    token: &str,
) -> reqwest::Response {
    let http = no_redirects();
    let request = http.post(format!("{}/introspect", mock.issuer()));
    // Each built-in client authenticates its own registered way.
    let request = if client_id == POST_CLIENT {
        request.form(&[
            ("token", token),
            ("client_id", client_id),
            ("client_secret", &secret(client_id)),
        ])
    } else {
        request
            .basic_auth(client_id, Some(secret(client_id)))
            .form(&[("token", token)])
    };
    request.send().await.expect("the mock answers")
}

async fn answer(mock: &mock_cis2::RunningMock, client_id: &str, token: &str) -> Value {
    let response = introspect(mock, client_id, token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

async fn tokens(mock: &mock_cis2::RunningMock) -> Value {
    let http = no_redirects();
    let (code, verifier) = code_for_basic_client(mock, &http).await;
    let response = exchange_code(mock, &http, &code, &verifier, &secret(BASIC_CLIENT)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn revoke(mock: &mock_cis2::RunningMock, token: &str) {
    let response = no_redirects()
        .post(format!("{}/token/revoke", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn active_tokens_are_described() {
    let mock = start_auto_login(NURSE).await;
    let tokens = tokens(&mock).await;
    let access = tokens["access_token"].as_str().unwrap();
    let claims = jwt_payload(access);

    let described = answer(&mock, BASIC_CLIENT, access).await;
    assert_eq!(
        described,
        json!({
            "active": true,
            "scope": "openid profile nationalrbacaccess",
            "client_id": BASIC_CLIENT,
            "sub": NURSE,
            "exp": claims["exp"],
            "iat": claims["iat"],
            "iss": mock.issuer(),
            "token_type": "Bearer",
        })
    );

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let described = answer(&mock, BASIC_CLIENT, refresh).await;
    assert_eq!(described["active"], true);
    assert_eq!(described["client_id"], BASIC_CLIENT);
    assert_eq!(described["sub"], NURSE);
    assert_eq!(described["token_type"], "refresh_token");
    assert!(described["exp"].as_u64().unwrap() > described["iat"].as_u64().unwrap());
}

#[tokio::test]
async fn inactive_tokens_reveal_nothing() {
    let mock = start_auto_login(NURSE).await;
    let inactive = json!({ "active": false });

    let other = tokens(&mock).await;
    let other_access = other["access_token"].as_str().unwrap();
    assert_eq!(
        answer(&mock, POST_CLIENT, other_access).await,
        inactive,
        "another client's access token"
    );
    let other_refresh = other["refresh_token"].as_str().unwrap();
    assert_eq!(
        answer(&mock, POST_CLIENT, other_refresh).await,
        inactive,
        "another client's refresh token"
    );
    assert_eq!(answer(&mock, BASIC_CLIENT, "never-issued").await, inactive);

    let revoked = tokens(&mock).await;
    let access = revoked["access_token"].as_str().unwrap();
    revoke(&mock, access).await;
    assert_eq!(
        answer(&mock, BASIC_CLIENT, access).await,
        inactive,
        "revoked access token"
    );

    let family = tokens(&mock).await;
    revoke(&mock, family["refresh_token"].as_str().unwrap()).await;
    for name in ["refresh_token", "access_token"] {
        let token = family[name].as_str().unwrap();
        assert_eq!(
            answer(&mock, BASIC_CLIENT, token).await,
            inactive,
            "{name} of a revoked refresh token's grant"
        );
    }

    let ended = tokens(&mock).await;
    let sid = jwt_payload(ended["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(mock.end_session(&sid));
    let access = ended["access_token"].as_str().unwrap();
    assert_eq!(
        answer(&mock, BASIC_CLIENT, access).await,
        inactive,
        "session ended"
    );
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    let mock = start_auto_login(NURSE).await;
    let tokens = tokens(&mock).await;
    let access = tokens["access_token"].as_str().unwrap();
    let cases = [
        ("wrong secret", Some("not-the-secret")),
        ("no authentication", None),
    ];
    for (case, secret) in cases {
        let request = no_redirects().post(format!("{}/introspect", mock.issuer()));
        let request = match secret {
            Some(secret) => request.basic_auth(BASIC_CLIENT, Some(secret)),
            None => request,
        };
        let response = request.form(&[("token", access)]).send().await.unwrap();
        assert_eq!(response.status(), 401, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{case}");
    }
    let missing = no_redirects()
        .post(format!("{}/introspect", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400, "token is missing");
}
