//! Faults on demand: one table row per fault asserting its observable effect on a whole flow
//! (discovery, JWKS, authorize, token, UserInfo, refresh), and that a fault armed for one request
//! is gone on the next; the loopback admin endpoint; key rotation (OpenID Connect Core 1.0
//! §10.1.1).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{
    RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA512,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mock_cis2::{Fault, MockCis2, RunningMock};
use serde_json::{json, Value};

use crate::support::*;

/// What one flow produced at each step, recorded without judging it.
#[derive(Debug, Default)]
pub(crate) struct Flow {
    issuer: String,
    /// Status, body and duration per step: discovery, jwks, token, userinfo, refresh.
    steps: HashMap<&'static str, (u16, Vec<u8>, Duration)>,
    callback: Vec<(String, String)>,
    /// The JWKS fetched before the flow, as a client would have cached it.
    cached_jwks: Value,
}

impl Flow {
    pub(crate) fn status(&self, step: &str) -> u16 {
        self.steps.get(step).map_or(0, |(status, _, _)| *status)
    }

    pub(crate) fn json(&self, step: &str) -> Value {
        self.steps
            .get(step)
            .and_then(|(_, body, _)| serde_json::from_slice(body).ok())
            .unwrap_or(Value::Null)
    }

    fn len(&self, step: &str) -> usize {
        self.steps.get(step).map_or(0, |(_, body, _)| body.len())
    }

    fn took(&self, step: &str) -> Duration {
        self.steps
            .get(step)
            .map_or(Duration::ZERO, |(_, _, took)| *took)
    }

    pub(crate) fn id_token(&self) -> Option<String> {
        self.json("token")["id_token"].as_str().map(str::to_owned)
    }

    pub(crate) fn id_claims(&self) -> Value {
        self.id_token()
            .map_or(Value::Null, |token| jwt_payload(&token))
    }

    fn id_header(&self) -> Value {
        self.id_token()
            .and_then(|token| {
                let header = token.split('.').next()?.to_owned();
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()
            })
            .unwrap_or(Value::Null)
    }

    pub(crate) fn callback(&self, name: &str) -> Option<&str> {
        param(&self.callback, name)
    }
}

async fn step(
    flow: &mut Flow,
    name: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<Value> {
    let started = Instant::now();
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.bytes().await.ok()?.to_vec();
    flow.steps
        .insert(name, (status, body.clone(), started.elapsed()));
    serde_json::from_slice(&body).ok()
}

/// Runs one whole flow for the basic client and records every answer.
pub(crate) async fn run_flow(mock: &RunningMock) -> Flow {
    let http = no_redirects();
    let issuer = mock.issuer();
    let mut flow = Flow {
        issuer: issuer.to_owned(),
        cached_jwks: mock.jwks(),
        ..Flow::default()
    };
    step(
        &mut flow,
        "discovery",
        http.get(format!("{issuer}/.well-known/openid-configuration")),
    )
    .await;
    step(
        &mut flow,
        "jwks",
        http.get(format!("{issuer}/connect/jwk_uri")),
    )
    .await;
    let (verifier, challenge) = pkce_pair("faults");
    let request = valid_request(&challenge);
    let params: Vec<(&str, &str)> = request.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = authorize(mock, &http, &params).await;
    flow.callback = location_query(&response).unwrap_or_default();
    let Some(code) = flow.callback("code").map(str::to_owned) else {
        return flow;
    };
    let secret = secret(BASIC_CLIENT);
    let token_request = http
        .post(format!("{issuer}/access_token"))
        .basic_auth(BASIC_CLIENT, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", LOOPBACK_REDIRECT),
            ("code_verifier", &verifier),
        ]);
    let Some(tokens) = step(&mut flow, "token", token_request).await else {
        return flow;
    };
    if let Some(access) = tokens["access_token"].as_str() {
        let request = http.get(format!("{issuer}/userinfo")).bearer_auth(access);
        step(&mut flow, "userinfo", request).await;
    }
    if let Some(refresh) = tokens["refresh_token"].as_str() {
        let request = http
            .post(format!("{issuer}/access_token"))
            .basic_auth(BASIC_CLIENT, Some(&secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
        step(&mut flow, "refresh", request).await;
    }
    flow
}

/// Whether `token` verifies against a key of `jwks` named by its `kid`.
fn verifies(jwks: &Value, token: &str) -> bool {
    let mut parts = token.rsplitn(2, '.');
    let (Some(signature), Some(signed)) = (parts.next(), parts.next()) else {
        return false;
    };
    let header: Value = signed
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|h| serde_json::from_slice(&h).ok())
        .unwrap_or(Value::Null);
    let parameters = match header["alg"].as_str() {
        Some("RS256") => &RSA_PKCS1_2048_8192_SHA256,
        Some("RS512") => &RSA_PKCS1_2048_8192_SHA512,
        _ => return false,
    };
    let Some(key) = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|key| key["kid"] == header["kid"])
    else {
        return false;
    };
    let part = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    let public = RsaPublicKeyComponents {
        n: part("n"),
        e: part("e"),
    };
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    public
        .verify(parameters, signed.as_bytes(), &signature)
        .is_ok()
}

fn kids(jwks: &Value) -> Vec<Value> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].clone())
        .collect()
}

type Effect = fn(&Flow) -> bool;

/// Each fault, and how a client would see it. Every effect is false for a healthy flow.
const CASES: &[(&str, Effect)] = &[
    ("wrong_issuer", |f| {
        f.id_claims()["iss"] != f.json("discovery")["issuer"]
    }),
    ("wrong_audience", |f| f.id_claims()["aud"] != BASIC_CLIENT),
    ("missing_azp", |f| {
        f.id_claims().get("azp").is_none() && !f.id_claims().is_null()
    }),
    ("wrong_azp", |f| {
        f.id_claims()["azp"] != BASIC_CLIENT && !f.id_claims()["azp"].is_null()
    }),
    ("wrong_nonce", |f| f.id_claims()["nonce"] != "nonce-456"),
    ("bad_signature", |f| {
        f.id_header()["kid"].is_string() && !verifies(&f.json("jwks"), &f.id_token().unwrap())
    }),
    ("unknown_kid", |f| {
        !kids(&f.json("jwks")).contains(&f.id_header()["kid"])
    }),
    ("alg_none", |f| {
        f.id_header()["alg"] == "none" && f.id_token().unwrap().ends_with('.')
    }),
    ("hs256_with_public_key", |f| {
        f.id_header()["alg"] == "HS256" && kids(&f.json("jwks")).contains(&f.id_header()["kid"])
    }),
    ("expired_id_token", |f| {
        f.id_claims()["exp"].as_u64().unwrap() < f.id_claims()["auth_time"].as_u64().unwrap()
    }),
    ("iat_in_future", |f| {
        f.id_claims()["iat"].as_u64().unwrap() > f.id_claims()["auth_time"].as_u64().unwrap() + 600
    }),
    ("missing_sub", |f| {
        f.id_claims().get("sub").is_none() && !f.id_claims().is_null()
    }),
    ("missing_acr", |f| {
        f.id_claims().get("acr").is_none() && f.id_claims()["authentication_assurance_level"] == "3"
    }),
    // The nurse signs in with a smartcard (AAL3): the token states AAL2, as a string still.
    ("assurance_level_lowered", |f| {
        f.id_claims()["authentication_assurance_level"] == "2" && f.id_claims()["acr"].is_string()
    }),
    ("userinfo_sub_mismatch", |f| {
        f.json("userinfo")["sub"] != f.id_claims()["sub"]
    }),
    ("missing_iss_in_callback", |f| {
        f.callback("code").is_some() && f.callback("iss").is_none()
    }),
    ("wrong_iss_in_callback", |f| {
        f.callback("iss").is_some_and(|iss| iss != f.issuer)
    }),
    ("wrong_state", |f| f.callback("state") != Some("state-123")),
    ("authorize_access_denied", |f| {
        f.callback("error") == Some("access_denied")
    }),
    ("authorize_login_required", |f| {
        f.callback("error") == Some("login_required")
    }),
    ("authorize_invalid_scope", |f| {
        f.callback("error") == Some("invalid_scope")
    }),
    ("authorize_server_error", |f| {
        f.callback("error") == Some("server_error")
    }),
    ("token_invalid_grant", |f| {
        f.status("token") == 400 && f.json("token")["error"] == "invalid_grant"
    }),
    ("token_invalid_client", |f| {
        f.status("token") == 401 && f.json("token")["error"] == "invalid_client"
    }),
    ("refresh_revoked", |f| {
        f.status("token") == 200 && f.json("refresh")["error"] == "invalid_grant"
    }),
    ("slow_endpoint@token=1500", |f| {
        f.took("token") >= Duration::from_millis(1500)
    }),
    ("http_500@userinfo", |f| f.status("userinfo") == 500),
    ("http_503@discovery", |f| f.status("discovery") == 503),
    ("malformed_json@jwks", |f| {
        f.status("jwks") == 200 && f.json("jwks").is_null()
    }),
    ("oversized_response@discovery", |f| {
        f.len("discovery") >= 16 * 1024 * 1024
    }),
    // The ID token's kid is in neither the JWKS cached before nor the one fetched during the flow.
    ("jwks_rotated_without_notice", |f| {
        f.id_header()["alg"] == "RS256"
            && !kids(&f.cached_jwks).contains(&f.id_header()["kid"])
            && !kids(&f.json("jwks")).contains(&f.id_header()["kid"])
    }),
];

#[tokio::test]
async fn each_fault_has_its_effect_for_its_count_of_requests() {
    let mock = start_auto_login(NURSE).await;
    let healthy = run_flow(&mock).await;
    assert_eq!(healthy.status("userinfo"), 200, "a healthy flow completes");
    for (name, effect) in CASES {
        assert!(
            !effect(&healthy),
            "{name}: a healthy flow does not show the effect"
        );
        let fault: Fault = name.parse().unwrap();
        mock.arm_fault(fault, Some(1));
        // JWKS before the flow is what a client cached; the rotation fault changes it mid-flow.
        let faulty = run_flow(&mock).await;
        assert!(effect(&faulty), "{name}: the fault shows");
        assert!(
            mock.armed_faults().is_empty(),
            "{name}: spent after one request"
        );
        let after = run_flow(&mock).await;
        assert!(!effect(&after), "{name}: gone on the next request");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn faults_until_cleared_last_until_cleared() {
    let mock = start_auto_login(NURSE).await;
    mock.arm_fault("http_503@token".parse().unwrap(), None);
    for _ in 0..3 {
        assert_eq!(run_flow(&mock).await.status("token"), 503);
    }
    mock.clear_faults();
    assert_eq!(run_flow(&mock).await.status("token"), 200);
    mock.shutdown().await;
}

#[tokio::test]
async fn the_admin_endpoint_arms_and_clears_faults_from_loopback() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let arm = |body: Value| http.post(mock.admin_faults_url()).json(&body).send();

    let response = arm(json!({ "name": "wrong_issuer", "count": 2 }))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let listed: Value = response.json().await.unwrap();
    assert_eq!(
        listed["faults"],
        json!([{ "name": "wrong_issuer", "count": 2 }])
    );
    assert_ne!(run_flow(&mock).await.id_claims()["iss"], mock.issuer());

    let cleared = http.delete(mock.admin_faults_url()).send().await.unwrap();
    assert_eq!(cleared.status(), 200);
    assert!(mock.armed_faults().is_empty());
    assert_eq!(run_flow(&mock).await.id_claims()["iss"], mock.issuer());

    let cases = [
        (json!({ "name": "no_such_fault" }), "unknown_fault"),
        (
            json!({ "name": "wrong_issuer", "count": 0 }),
            "invalid_request",
        ),
        (json!({ "fault": "wrong_issuer" }), "invalid_request"),
    ];
    for (body, error) in cases {
        let response = arm(body.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], error, "{body}");
    }
    mock.shutdown().await;
}

/// A web page the tester has open can POST to 127.0.0.1 without asking the mock, but only as
/// a "simple" request (text/plain, a form): the admin endpoints that change the mock take JSON
/// alone, so such a page can arm no fault and switch on no mode.
#[tokio::test]
async fn a_cross_site_simple_post_changes_nothing() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    for (url, body) in [
        (mock.admin_faults_url(), r#"{"name": "wrong_issuer"}"#),
        (mock.admin_modes_url(), r#"{"name": "amr_as_string"}"#),
    ] {
        for kind in ["text/plain", "application/x-www-form-urlencoded", ""] {
            let mut request = http.post(&url).body(body);
            if !kind.is_empty() {
                request = request.header("content-type", kind);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 415, "{url} as {kind:?}");
        }
    }
    assert!(mock.armed_faults().is_empty());
    assert!(mock.modes().is_empty(), "{:?}", mock.modes());
    mock.shutdown().await;
}

#[tokio::test]
async fn faults_armed_at_start_apply_from_the_first_request() {
    let mock = MockCis2::new()
        .auto_login(NURSE.parse().unwrap())
        .fault("missing_iss_in_callback:1".parse().unwrap())
        .start()
        .await
        .unwrap();
    let first = run_flow(&mock).await;
    assert!(first.callback("code").is_some() && first.callback("iss").is_none());
    assert_eq!(run_flow(&mock).await.callback("iss"), Some(mock.issuer()));
    mock.shutdown().await;
}

#[tokio::test]
async fn rotated_keys_keep_old_tokens_verifiable_until_retired() {
    let mock = start_auto_login(NURSE).await;
    let before = run_flow(&mock).await.id_token().unwrap();
    let old_kid = jwt_header_kid(&before);
    mock.rotate_keys().await.unwrap();

    let after = run_flow(&mock).await;
    let new_token = after.id_token().unwrap();
    assert_ne!(jwt_header_kid(&new_token), old_kid, "a new kid is current");
    let published = after.json("jwks");
    assert!(verifies(&published, &before), "old tokens still verify");
    assert!(verifies(&published, &new_token));

    mock.retire_old_keys();
    let retired = run_flow(&mock).await.json("jwks");
    assert!(
        !verifies(&retired, &before),
        "retired keys no longer verify"
    );
    assert!(verifies(&retired, &new_token));
    mock.shutdown().await;
}

fn jwt_header_kid(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].clone()
}
