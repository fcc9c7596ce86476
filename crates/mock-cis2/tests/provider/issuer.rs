//! The issuer string is kept exactly as configured (REFERENCE §1, the `:443` trap): in
//! discovery, in every endpoint URL, in the RFC 9207 `iss` parameter and in tokens.

use mock_cis2::{MockCis2, CIS2_REALM_PATH};
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn explicit_default_port_in_the_issuer_survives_everywhere() {
    // The issuer says :80 while the mock listens on an ephemeral port, exactly as CIS2's says
    // :443 while being reached without a port.
    let issuer = format!("http://localhost:80{CIS2_REALM_PATH}");
    let mock = MockCis2::new()
        .issuer(issuer.clone())
        .auto_login(NURSE.parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(mock.issuer(), issuer);
    let base = format!("http://127.0.0.1:{}{CIS2_REALM_PATH}", mock.port());
    let http = no_redirects();

    let discovery: Value =
        get_json(&http, format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(
        discovery["token_endpoint"],
        format!("{issuer}/access_token")
    );

    let (verifier, challenge) = pkce_pair("issuer");
    let request = valid_request(&challenge);
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = url::Url::parse_with_params(&format!("{base}/authorize"), &params).unwrap();
    let response = http.get(url).send().await.unwrap();
    let query = location_query(&response).unwrap();
    assert_eq!(param(&query, "iss"), Some(issuer.as_str()));

    let tokens: Value = http
        .post(format!("{base}/access_token"))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", param(&query, "code").unwrap()),
            ("redirect_uri", LOOPBACK_REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwt_payload(tokens["id_token"].as_str().unwrap())["iss"],
        issuer.as_str()
    );
    assert_eq!(
        jwt_payload(tokens["access_token"].as_str().unwrap())["iss"],
        issuer.as_str()
    );
}

#[tokio::test]
async fn trailing_slash_issuer_is_served_and_verified_by_openidconnect() {
    use openidconnect::core::CoreProviderMetadata;
    use openidconnect::IssuerUrl;

    let mock = MockCis2::new()
        .issuer("http://localhost:{port}/realms/Healthcare/")
        .start()
        .await
        .unwrap();
    assert_eq!(
        mock.issuer(),
        format!("http://localhost:{}/realms/Healthcare/", mock.port())
    );
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(mock.issuer().to_owned()).unwrap(),
        &no_redirects(),
    )
    .await
    .expect("discovery matches the issuer exactly");
    assert_eq!(metadata.issuer().as_str(), mock.issuer());
    let jwks = metadata.jwks().keys();
    assert_eq!(jwks.len(), 2, "an RS256 and an RS512 key");
}

#[tokio::test]
async fn answers_on_ipv4_and_ipv6_loopback() {
    let mock = MockCis2::new().start().await.unwrap();
    assert!(mock.addresses().iter().any(|address| address.is_ipv4()));
    let client = http().build().unwrap();
    for address in mock.addresses() {
        let url = format!("http://{address}{CIS2_REALM_PATH}/connect/jwk_uri");
        let jwks: Value = client.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{address}");
    }
    let port = mock.port();
    mock.shutdown().await;
    assert!(
        client
            .get(format!(
                "http://127.0.0.1:{port}{CIS2_REALM_PATH}/connect/jwk_uri"
            ))
            .send()
            .await
            .is_err(),
        "nothing answers after shutdown"
    );
}
