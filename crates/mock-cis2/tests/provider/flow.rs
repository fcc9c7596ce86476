//! The whole code flow driven by the `openidconnect` crate: discovery, PKCE, token exchange, ID
//! token verification (signature, `iss`, `aud`, nonce) and UserInfo; then refresh and revocation.

use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA512};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mock_cis2::{MockCis2, TokenKind};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthType, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken,
    Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::support::*;

/// The CIS2 claims beyond the standard ones that these tests read from UserInfo.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct Cis2UserInfo {
    uid: Option<String>,
    nhsid_nrbac_roles: Option<Vec<Value>>,
    nhsid_user_orgs: Option<Vec<Value>>,
}

impl AdditionalClaims for Cis2UserInfo {}

struct SignedIn {
    access_token: String,
    refresh_token: Option<String>,
    id_token_payload: Value,
}

/// Runs discovery, authorize (redirect read by hand), token and ID token verification.
async fn sign_in(
    mock: &mock_cis2::RunningMock,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[&str],
) -> (SignedIn, CoreClient_) {
    let http = no_redirects();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(mock.issuer().to_owned()).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let registered = client(client_id);
    let auth_type = match registered.token_endpoint_auth_method {
        mock_cis2::ClientAuthMethod::ClientSecretPost => AuthType::RequestBody,
        _ => AuthType::BasicAuth,
    };
    let oidc = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        registered.client_secret.clone().map(ClientSecret::new),
    )
    .set_auth_type(auth_type)
    .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = oidc
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state, nonce) = request.url();

    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302, "authorize redirects");
    let query = location_query(&response).unwrap();
    assert_eq!(param(&query, "state"), Some(state.secret().as_str()));
    assert_eq!(param(&query, "iss"), Some(mock.issuer()), "RFC 9207 iss");
    let code = param(&query, "code").expect("a code").to_owned();

    let tokens = oidc
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let id_token_verifier = oidc.id_token_verifier().set_allowed_algs(vec![
        openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    ]);
    let claims = id_token
        .claims(&id_token_verifier, &nonce)
        .expect("the ID token verifies");
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_token_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash), "at_hash");
    drop(id_token_verifier);

    let signed_in = SignedIn {
        access_token: tokens.access_token().secret().clone(),
        refresh_token: tokens.refresh_token().map(|token| token.secret().clone()),
        id_token_payload: jwt_payload(&id_token.to_string()),
    };
    (signed_in, oidc)
}

type CoreClient_ = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

#[tokio::test]
async fn openidconnect_client_completes_the_code_flow_with_cis2_claims() {
    let mock = start_auto_login("555057900101:smartcard:555057900303").await;
    let (signed_in, oidc) = sign_in(
        &mock,
        BASIC_CLIENT,
        LOOPBACK_REDIRECT,
        &[
            "profile",
            "nationalrbacaccess",
            "associatedorgs",
            "selectedrole",
        ],
    )
    .await;

    let claims = &signed_in.id_token_payload;
    assert_eq!(claims["iss"], mock.issuer());
    assert_eq!(claims["sub"], "555057900101");
    assert_eq!(claims["aud"], BASIC_CLIENT);
    assert_eq!(claims["azp"], BASIC_CLIENT);
    assert_eq!(claims["acr"], "AAL3_ANY");
    assert_eq!(claims["amr"], serde_json::json!(["N3_SMARTCARD"]));
    assert_eq!(claims["id_assurance_level"], "3");
    assert_eq!(claims["authentication_assurance_level"], "3");
    assert_eq!(claims["selected_roleid"], "555057900303");
    for name in [
        "sid",
        "auth_time",
        "at_hash",
        "c_hash",
        "s_hash",
        "auditTrackingId",
    ] {
        assert!(!claims[name].is_null(), "{name} is present");
    }
    assert_eq!(claims["tokenName"], "id_token");
    assert_eq!(claims["realm"], "/NHSIdentity/Healthcare");

    let access = jwt_payload(&signed_in.access_token);
    assert_eq!(access["iss"], mock.issuer());
    assert!(
        access.get("aud").is_none(),
        "CIS2 access tokens have no aud"
    );

    let info: UserInfoClaims<Cis2UserInfo, CoreGenderClaim> = oidc
        .user_info(
            openidconnect::AccessToken::new(signed_in.access_token.clone()),
            Some(openidconnect::SubjectIdentifier::new("555057900101".into())),
        )
        .unwrap()
        .request_async(&no_redirects())
        .await
        .expect("UserInfo");
    assert_eq!(info.subject().as_str(), "555057900101");
    assert_eq!(
        info.additional_claims().uid.as_deref(),
        Some("555057900101")
    );
    let roles = info.additional_claims().nhsid_nrbac_roles.as_ref().unwrap();
    assert_eq!(roles.len(), 3);
    assert!(roles
        .iter()
        .any(|role| role["person_roleid"] == "555057900303"
            && role["role_code"] == "S8001:G8005:R8015"
            && role["org_code"] == "A9A5A"));
    assert_eq!(
        info.additional_claims()
            .nhsid_user_orgs
            .as_ref()
            .unwrap()
            .len(),
        2
    );
    assert!(info.email().is_none(), "email needs the email scope");
    mock.shutdown().await;
}

#[tokio::test]
async fn client_secret_post_client_gets_rs512_id_token_and_no_refresh_token() {
    let mock = start_auto_login(NURSE).await;
    let (signed_in, _) = sign_in(&mock, POST_CLIENT, "http://127.0.0.1:8765/callback", &[]).await;
    assert_eq!(signed_in.id_token_payload["sub"], NURSE);
    assert!(
        signed_in.refresh_token.is_none(),
        "the client is registered without refresh"
    );
    assert!(
        signed_in.id_token_payload.get("selected_roleid").is_none(),
        "no selectedrole scope"
    );

    // This client is registered for signed UserInfo, RS512: a JWT with iss and no aud, signed
    // with the RS512 key the JWKS publishes.
    let response = userinfo(&mock, &no_redirects(), &signed_in.access_token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jwt");
    let jwt = response.text().await.unwrap();
    let payload = jwt_payload(&jwt);
    assert_eq!(payload["sub"], NURSE);
    assert_eq!(payload["iss"], mock.issuer());
    assert!(payload.get("aud").is_none());
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(signed.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS512", "{header}");
    let jwks = mock.jwks();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .expect("the UserInfo kid is published");
    let member = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    RsaPublicKeyComponents {
        n: member("n"),
        e: member("e"),
    }
    .verify(
        &RSA_PKCS1_2048_8192_SHA512,
        signed.as_bytes(),
        &URL_SAFE_NO_PAD.decode(signature).unwrap(),
    )
    .expect("RS512 verifies");
    let recorded = mock
        .issued_tokens()
        .into_iter()
        .find(|token| token.kind == TokenKind::SignedUserInfo)
        .expect("the signed UserInfo is recorded");
    assert_eq!(recorded.alg.as_deref(), Some("RS512"));
    assert_eq!(recorded.client_id, POST_CLIENT);
    assert_eq!(recorded.claims, payload);

    // The default client's signed UserInfo, when registered, is RS256.
    let registered = mock.clients().get(BASIC_CLIENT).unwrap();
    assert_eq!(registered.userinfo_signed_response_alg.as_str(), "RS256");
}

#[tokio::test]
async fn assurance_levels_can_be_numbers() {
    let mock = MockCis2::new()
        .auto_login("555057930104:authenticator_app".parse().unwrap())
        .assurance_levels_as_numbers(true)
        .start()
        .await
        .unwrap();
    let (signed_in, _) = sign_in(&mock, BASIC_CLIENT, LOOPBACK_REDIRECT, &[]).await;
    let claims = &signed_in.id_token_payload;
    assert_eq!(claims["authentication_assurance_level"], 2);
    assert_eq!(claims["id_assurance_level"], 3);
    assert_eq!(claims["acr"], "AAL2_ANY");
    assert_eq!(claims["amr"], serde_json::json!(["TOTP"]));
}

#[tokio::test]
async fn refresh_rotates_and_revocation_ends_the_grant() {
    let mock = start_auto_login(NURSE).await;
    let (signed_in, oidc) = sign_in(&mock, BASIC_CLIENT, LOOPBACK_REDIRECT, &["profile"]).await;
    let http = no_redirects();
    let first = signed_in.refresh_token.expect("a refresh token");

    let refreshed = oidc
        .exchange_refresh_token(&RefreshToken::new(first.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let second = refreshed
        .refresh_token()
        .expect("a rotated refresh token")
        .secret()
        .clone();
    assert_ne!(first, second);
    let new_access = refreshed.access_token().secret().clone();
    assert_eq!(userinfo(&mock, &http, &new_access).await.status(), 200);

    let revoke = http
        .post(format!("{}/token/revoke", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[
            ("token", second.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(userinfo(&mock, &http, &new_access).await.status(), 401);
    assert_eq!(
        userinfo(&mock, &http, &signed_in.access_token)
            .await
            .status(),
        401,
        "the grant's earlier access token goes too"
    );
}

#[tokio::test]
async fn revoking_an_access_token_leaves_others_alone() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let (one, _) = sign_in(&mock, BASIC_CLIENT, LOOPBACK_REDIRECT, &[]).await;
    let (two, _) = sign_in(&mock, BASIC_CLIENT, LOOPBACK_REDIRECT, &[]).await;
    let revoke = http
        .post(format!("{}/token/revoke", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[("token", one.access_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(
        userinfo(&mock, &http, &one.access_token).await.status(),
        401
    );
    assert_eq!(
        userinfo(&mock, &http, &two.access_token).await.status(),
        200
    );
}

/// RFC 6749 §3.2 holds at revocation as at the token endpoint: which of two tokens would go?
#[tokio::test]
async fn a_revocation_with_a_repeated_parameter_is_refused_and_revokes_nothing() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let (one, _) = sign_in(&mock, BASIC_CLIENT, LOOPBACK_REDIRECT, &[]).await;
    let (two, _) = sign_in(&mock, BASIC_CLIENT, LOOPBACK_REDIRECT, &[]).await;
    let revoke = http
        .post(format!("{}/token/revoke", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(secret(BASIC_CLIENT)))
        .form(&[
            ("token", one.access_token.as_str()),
            ("token", two.access_token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 400);
    let body: serde_json::Value = revoke.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
    for token in [&one.access_token, &two.access_token] {
        assert_eq!(userinfo(&mock, &http, token).await.status(), 200);
    }
}
