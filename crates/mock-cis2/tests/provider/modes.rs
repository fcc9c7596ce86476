//! Modes: one table row per mode asserting its observable effect on a whole flow, and that it
//! stays until switched off; lean discovery's endpoints; error redirects without `iss`; the
//! JSON admin endpoint and the admin page's forms.

use std::time::{SystemTime, UNIX_EPOCH};

use mock_cis2::{MockCis2, Mode, RunningMock};
use serde_json::{json, Value};

use crate::admin::{admin_page, form_token, post_admin, post_with_token};
use crate::faults::{run_flow, Flow};
use crate::support::*;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn role(flow: &Flow) -> Value {
    flow.json("userinfo")["nhsid_nrbac_roles"][0].clone()
}

type Effect = fn(&Flow) -> bool;

/// Each mode, and how a client sees it. Every effect is false for a flow without modes.
/// `errors_without_iss` changes only error redirects: it has a test of its own.
const CASES: &[(&str, Effect)] = &[
    ("lean_discovery", |f| {
        let discovery = f.json("discovery");
        discovery
            .get("pushed_authorization_request_endpoint")
            .is_none()
            && discovery.get("revocation_endpoint").is_none()
            && discovery
                .get("authorization_response_iss_parameter_supported")
                .is_none()
            && discovery["grant_types_supported"] == json!(["authorization_code"])
            && f.callback("code").is_some()
            && f.callback("iss").is_none()
            && f.status("token") == 200
            && f.json("token").get("refresh_token").is_none()
    }),
    ("amr_as_string", |f| f.id_claims()["amr"] == "N3_SMARTCARD"),
    ("roles_as_object", |f| {
        f.json("userinfo")["nhsid_nrbac_roles"]["person_roleid"] == "555057898108"
    }),
    ("role_ids_as_numbers", |f| {
        role(f)["person_roleid"] == 555_057_898_108_u64
            && role(f)["person_orgid"].is_u64()
            && role(f)["org_code"].is_string()
    }),
    ("role_fields_missing", |f| {
        role(f).get("activities").is_none()
            && role(f).get("activity_codes").is_none()
            && role(f)["role_code"].is_string()
    }),
    ("role_fields_missing=org_code,role_name", |f| {
        role(f).get("org_code").is_none()
            && role(f).get("role_name").is_none()
            && role(f)["activities"].is_array()
    }),
    ("assurance_levels_as_numbers", |f| {
        f.id_claims()["authentication_assurance_level"] == 3
            && f.id_claims()["id_assurance_level"] == 3
    }),
    // Every time the provider writes, ten minutes ahead; auth_time stays before iat.
    ("clock_skew=600", |f| {
        let claims = f.id_claims();
        let iat = claims["iat"].as_u64().unwrap_or(0);
        let auth_time = claims["auth_time"].as_u64().unwrap_or(0);
        let access = jwt_payload(
            f.json("token")["access_token"]
                .as_str()
                .unwrap_or("a.e30.b"),
        );
        iat >= unix_now() + 590
            && auth_time >= unix_now() + 590
            && auth_time <= iat
            && access["iat"].as_u64().unwrap_or(0) >= unix_now() + 590
    }),
    // Two hours behind: the ID token reads as expired an hour ago.
    ("clock_skew=-7200", |f| {
        f.id_claims()["exp"].as_u64().unwrap_or(u64::MAX) + 3_500 < unix_now()
    }),
];

#[tokio::test]
async fn each_mode_has_its_effect_until_switched_off() {
    let mock = start_auto_login(NURSE).await;
    let plain = run_flow(&mock).await;
    assert_eq!(
        plain.status("userinfo"),
        200,
        "a flow without modes completes"
    );
    for (name, effect) in CASES {
        assert!(
            !effect(&plain),
            "{name}: a flow without modes does not show the effect"
        );
        let mode: Mode = name.parse().unwrap();
        mock.switch_on(mode.clone());
        for _ in 0..2 {
            let flow = run_flow(&mock).await;
            assert!(effect(&flow), "{name}: the mode shows, and stays: {flow:?}");
        }
        assert_eq!(mock.modes(), std::slice::from_ref(&mode));
        assert!(mock.switch_off(mode.name()));
        assert!(!effect(&run_flow(&mock).await), "{name}: gone when off");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn lean_discovery_has_no_pushed_requests_revocation_or_refresh() {
    let mock = MockCis2::new()
        .auto_login(NURSE.parse().unwrap())
        .mode(Mode::LeanDiscovery)
        .start()
        .await
        .unwrap();
    let http = no_redirects();
    let secret = secret(BASIC_CLIENT);
    for endpoint in ["par", "token/revoke"] {
        let response = http
            .post(format!("{}/{endpoint}", mock.issuer()))
            .basic_auth(BASIC_CLIENT, Some(&secret))
            .form(&[("token", "anything")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{endpoint}");
    }
    let refresh = http
        .post(format!("{}/access_token", mock.issuer()))
        .basic_auth(BASIC_CLIENT, Some(&secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "any")])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 400);
    let refused: Value = refresh.json().await.unwrap();
    assert_eq!(refused["error"], "unauthorized_client");
    mock.shutdown().await;
}

#[tokio::test]
async fn errors_without_iss_drop_iss_from_error_redirects_only() {
    let mock = MockCis2::new()
        .auto_login(NURSE.parse().unwrap())
        .mode(Mode::ErrorsWithoutIss)
        .start()
        .await
        .unwrap();
    let success = run_flow(&mock).await;
    assert_eq!(success.callback("iss"), Some(mock.issuer()));
    assert_eq!(
        success.json("discovery")["authorization_response_iss_parameter_supported"],
        true,
        "discovery still advertises iss"
    );
    mock.arm_fault("authorize_access_denied".parse().unwrap(), Some(1));
    let refused = run_flow(&mock).await;
    assert_eq!(refused.callback("error"), Some("access_denied"));
    assert_eq!(refused.callback("state"), Some("state-123"));
    assert_eq!(refused.callback("iss"), None);
    mock.shutdown().await;
}

#[tokio::test]
async fn the_admin_endpoint_switches_modes_from_loopback() {
    let mock = start_auto_login(NURSE).await;
    let http = no_redirects();
    let post = |body: Value| http.post(mock.admin_modes_url()).json(&body).send();

    let response = post(json!({ "name": "clock_skew=300" })).await.unwrap();
    assert_eq!(response.status(), 200);
    let listed: Value = response.json().await.unwrap();
    assert_eq!(listed["modes"], json!(["clock_skew=300"]));
    post(json!({ "name": "amr_as_string" })).await.unwrap();
    let replaced: Value = post(json!({ "name": "clock_skew=-30" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        replaced["modes"],
        json!(["amr_as_string", "clock_skew=-30"])
    );
    let off: Value = post(json!({ "name": "clock_skew", "on": false }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(off["modes"], json!(["amr_as_string"]));
    let listed: Value = http
        .get(mock.admin_modes_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["modes"], json!(["amr_as_string"]));
    let cleared = http.delete(mock.admin_modes_url()).send().await.unwrap();
    assert_eq!(cleared.status(), 200);
    assert!(mock.modes().is_empty());

    for (body, error) in [
        (json!({ "name": "no_such_mode" }), "unknown_mode"),
        (json!({ "name": "clock_skew=soon" }), "unknown_mode"),
        (
            json!({ "name": "no_such_mode", "on": false }),
            "unknown_mode",
        ),
        (json!({ "mode": "amr_as_string" }), "invalid_request"),
    ] {
        let response = post(body.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], error, "{body}");
    }
    assert!(mock.modes().is_empty());
    mock.shutdown().await;
}

#[tokio::test]
async fn modes_are_switched_with_the_page_forms() {
    let mock: RunningMock = start_auto_login(NURSE).await;
    let http = no_redirects();
    assert!(admin_page(&mock, &http).await.contains("lean_discovery"));

    post_with_token(
        &mock,
        &http,
        "modes/on",
        &[("name", "role_fields_missing=org_code")],
        "mode-on",
    )
    .await;
    assert_eq!(
        mock.modes(),
        ["role_fields_missing=org_code".parse().unwrap()]
    );
    assert!(admin_page(&mock, &http)
        .await
        .contains("On: <code>role_fields_missing=org_code</code>"));

    let token = form_token(&admin_page(&mock, &http).await);
    for name in ["no_such_mode", "clock_skew", "role_fields_missing=nickname"] {
        let response = post_admin(
            &mock,
            &http,
            "modes/on",
            &[("form_token", &token), ("name", name)],
        )
        .await;
        assert_eq!(response.status(), 422, "{name}");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("Enter a mode from the list"));
    }
    let refused = post_admin(&mock, &http, "modes/on", &[("name", "amr_as_string")]).await;
    assert_eq!(refused.status(), 403, "no form token");

    post_with_token(
        &mock,
        &http,
        "modes/off",
        &[("name", "role_fields_missing")],
        "mode-off",
    )
    .await;
    assert!(mock.modes().is_empty());
    mock.shutdown().await;
}
