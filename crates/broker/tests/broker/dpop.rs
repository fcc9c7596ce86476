//! DPoP between careid and the broker (RFC 9449), over real HTTP to the mock provider: every
//! relay request carries a proof of the desktop's key; the broker hands out refresh handles
//! bound to that key, never the provider's refresh token; a handle shown with another key or
//! with no proof is refused and audited, and the rightful key still works.

use std::sync::Arc;
use std::time::SystemTime;

use crate::support::relay_world::{
    authorization_code, code_exchange, desktop_key, dpop_nonce, no_redirects, proof, proof_of,
    world, World, REDIRECT, VERIFIER,
};
use careid_broker::connections::{Peer, PlainListener};
use careid_broker::server::{Broker, Side};
use careid_broker::{BrokerCredential, HandleKeys, Store};
use careid_oidc::{DpopKey, HttpClient, HttpSettings};
use mock_cis2::BROKER_CLIENT_ID;
use serde_json::Value;

/// A token request through the broker with `dpop` as its `DPoP` header (none when `None`).
async fn token(
    world: &World,
    dpop: Option<String>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    token_at(world, &world.token_url(), dpop, form).await
}

async fn token_at(
    world: &World,
    url: &str,
    dpop: Option<String>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = no_redirects()
        .post(url)
        .header("CareID-Issuer", world.mock.issuer());
    if let Some(dpop) = dpop {
        request = request.header("DPoP", dpop);
    }
    let answer = request.form(form).send().await.unwrap();
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    (status, headers, answer.json().await.unwrap_or(Value::Null))
}

/// Signs in through the broker with the test desktop's key: the token answer.
async fn signed_in(world: &World) -> Value {
    let code = authorization_code(&world.mock, &no_redirects()).await;
    let answer = code_exchange(
        &no_redirects(),
        &world.token_url(),
        world.mock.issuer(),
        &code,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

fn refresh(handle: &str) -> [(&str, &str); 2] {
    [("grant_type", "refresh_token"), ("refresh_token", handle)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_provider_refresh_token_reaches_the_desktop_only_a_handle_bound_to_its_key() {
    let world = world(60).await;
    let tokens = signed_in(&world).await;
    let handle = tokens["refresh_token"].as_str().expect("a refresh handle");
    assert!(handle.starts_with("cr1."), "{handle}");
    // The handle is nothing to the provider: shown there directly, it is refused.
    let direct = no_redirects()
        .post(format!("{}/access_token", world.mock.issuer()))
        .basic_auth(BROKER_CLIENT_ID, Some("unused"))
        .form(&refresh(handle))
        .send()
        .await
        .unwrap();
    assert_ne!(direct.status(), 200);
    // What it holds is the provider's refresh token, which the broker redeems for the desktop.
    let (status, _, refreshed) =
        token(&world, Some(proof(&world.token_url())), &refresh(handle)).await;
    assert_eq!(status, 200, "{refreshed}");
    let next = refreshed["refresh_token"]
        .as_str()
        .expect("the next handle");
    assert!(next.starts_with("cr1.") && next != handle, "{next}");
    assert!(refreshed["access_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_shown_with_another_key_or_no_proof_is_refused_and_the_rightful_key_still_works() {
    let log = crate::relay::captured_log();
    let world = world(60).await;
    let tokens = signed_in(&world).await;
    let handle = tokens["refresh_token"].as_str().unwrap();
    let before = world.mock_requests("/access_token");

    let thief = DpopKey::generate().unwrap();
    let (status, _, refused) = token(
        &world,
        Some(proof_of(&thief, &world.token_url())),
        &refresh(handle),
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, refused) = token(&world, None, &refresh(handle)).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    assert_eq!(
        world.mock_requests("/access_token"),
        before,
        "nothing reached the provider"
    );
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let thumbprint = thief.thumbprint();
    assert!(
        text.lines()
            .any(|line| line.contains("careid_broker::audit")
                && line.contains("wrong_binding")
                && line.contains(thumbprint.as_str())),
        "the stolen handle's use is audited with the thief's key: {text}"
    );
    assert!(
        text.lines().any(
            |line| line.contains("careid_broker::audit") && line.contains("DPoP proof missing")
        ),
        "{text}"
    );

    let (status, _, refreshed) =
        token(&world, Some(proof(&world.token_url())), &refresh(handle)).await;
    assert_eq!(status, 200, "the rightful key: {refreshed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_proof_rule_holds_before_the_provider_is_asked() {
    let world = world(60).await;
    let url = world.token_url();
    let code_form = |code: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ]
    };
    // No nonce: the broker answers with one (RFC 9449 §8), and the proof made with it passes.
    let without_nonce = desktop_key()
        .proof("POST", &url, None, None, SystemTime::now())
        .unwrap();
    let (status, headers, body) = token(
        &world,
        Some(without_nonce.as_str().to_owned()),
        &code_form("x"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce"))
    );
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();
    let with_nonce = desktop_key()
        .proof("POST", &url, Some(&nonce), None, SystemTime::now())
        .unwrap();
    let dpop = with_nonce.as_str().to_owned();
    let (status, _, body) = token(&world, Some(dpop.clone()), &code_form("unknown-code")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "past the proof, the provider's answer to an unknown code"
    );
    assert_eq!(world.mock_requests("/access_token"), 1);
    // The same proof again: a replay.
    let (status, _, body) = token(&world, Some(dpop), &code_form("unknown-code")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    // Made for another URL (the Host a client chose is never what counts), another method, a
    // nonce of the broker's own making but stale or forged, or two proofs at once.
    let elsewhere = proof(&format!("{}/revoke", world.url));
    let wrong_method = desktop_key()
        .proof("GET", &url, Some(&dpop_nonce()), None, SystemTime::now())
        .unwrap();
    let forged_nonce = desktop_key()
        .proof(
            "POST",
            &url,
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None,
            SystemTime::now(),
        )
        .unwrap();
    for (what, dpop, error) in [
        ("another URL", elsewhere, "invalid_dpop_proof"),
        (
            "another method",
            wrong_method.as_str().to_owned(),
            "invalid_dpop_proof",
        ),
        (
            "a forged nonce",
            forged_nonce.as_str().to_owned(),
            "use_dpop_nonce",
        ),
        ("not a JWT", "not.a.jwt".to_owned(), "invalid_dpop_proof"),
        ("not ASCII", "é.é.é".to_owned(), "invalid_dpop_proof"),
    ] {
        let (status, headers, body) = token(&world, Some(dpop), &code_form("x")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{what}"
        );
        assert!(
            headers.contains_key("dpop-nonce"),
            "{what}: a nonce to go on with"
        );
    }
    let two = no_redirects()
        .post(&url)
        .header("CareID-Issuer", world.mock.issuer())
        .header("DPoP", proof(&url))
        .header("DPoP", proof(&url))
        .form(&code_form("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(two.status(), 400);
    assert_eq!(
        world.mock_requests("/access_token"),
        1,
        "no refused proof reached the provider"
    );
    // What is not a JWS is counted as malformed, whatever its bytes.
    let metrics = no_redirects()
        .get(format!("{}/metrics", world.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("careid_broker_dpop_refusals_total{reason=\"malformed\"} 2"),
        "{metrics}"
    );
    assert!(!metrics.contains("reason=\"too_large\""), "{metrics}");
}

/// RFC 9449 §10: the pushed request names the key (`dpop_jkt`), which must be the proof's; the
/// code it leads to is redeemed with that key only; `dpop_jkt` never reaches the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_is_bound_to_its_key_at_the_pushed_request() {
    let world = world(60).await;
    let par = format!("{}/par", world.url);
    let key = DpopKey::generate().unwrap();
    let other = DpopKey::generate().unwrap();
    let verifier = "a-verifier-of-its-own-for-the-bound-sign-in-0123456789";
    let challenge = careid_oidc::secret::s256_challenge(verifier);
    let issuer = world.mock.issuer().to_owned();
    let push = |dpop: String, jkt: String| {
        let challenge = challenge.clone();
        let par = par.clone();
        let issuer = issuer.clone();
        async move {
            let answer = no_redirects()
                .post(&par)
                .header("CareID-Issuer", issuer)
                .header("DPoP", dpop)
                .form(&[
                    ("response_type", "code"),
                    ("client_id", BROKER_CLIENT_ID),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid"),
                    ("state", "s"),
                    ("nonce", "n"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("dpop_jkt", jkt.as_str()),
                ])
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            (status, answer.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = push(proof_of(&other, &par), key.thumbprint().as_str().to_owned()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    assert_eq!(world.mock_requests("/par"), 0);
    let (status, pushed) = push(proof_of(&key, &par), key.thumbprint().as_str().to_owned()).await;
    assert_eq!(status, 201, "{pushed}");
    let request_uri = pushed["request_uri"].as_str().unwrap();

    let authorize = url::Url::parse_with_params(
        &format!("{}/authorize", world.mock.issuer()),
        &[
            ("client_id", BROKER_CLIENT_ID),
            ("request_uri", request_uri),
        ],
    )
    .unwrap();
    let answer = no_redirects().get(authorize).send().await.unwrap();
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(name, _)| name == "code")
        .expect("a code")
        .1
        .into_owned();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let (status, _, refused) = token(
        &world,
        Some(proof_of(&other, &world.token_url())),
        &exchange,
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "the code's key is the pushed request's"
    );
    assert_eq!(world.mock_requests("/access_token"), 0);
    let (status, _, tokens) =
        token(&world, Some(proof_of(&key, &world.token_url())), &exchange).await;
    assert_eq!(status, 200, "{tokens}");
}

/// A proof of the test desktop's key for `url` with a nonce of a broker holding `keys`.
fn proof_for(keys: &HandleKeys, url: &str) -> String {
    let nonce =
        careid_broker::NonceIssuer::new(keys, careid_broker::dpop_nonce::DEFAULT_NONCE_PERIOD)
            .issue(SystemTime::now());
    desktop_key()
        .proof("POST", url, Some(&nonce), None, SystemTime::now())
        .unwrap()
        .as_str()
        .to_owned()
}

/// A broker with the same configuration but `keys`, served on a listener of its own (its
/// proofs still name the configured URL).
async fn with_keys(world: &World, keys: HandleKeys) -> String {
    let config = world.broker.config().clone();
    let credential = BrokerCredential::load(&config.provider).unwrap();
    let http = HttpClient::new(HttpSettings::default()).unwrap();
    let broker = Arc::new(Broker::new(
        config,
        credential,
        keys,
        http,
        Arc::new(Store::Embedded(careid_broker::EmbeddedStore::open(None))),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let caps = broker.caps(Side::Internal);
    let app = Side::Internal
        .router(broker)
        .into_make_service_with_connect_info::<Peer>();
    tokio::spawn(async move { axum::serve(PlainListener::new(listener, caps), app).await });
    url
}

/// Rotating the handle key: with the new key first and the old after it, a handle sealed under
/// the old one still refreshes and comes back sealed under the new; once the old key is gone,
/// the old handle is refused and the new one works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_handle_key_re_seals_handles_as_they_come_back() {
    let world = world(60).await;
    let (old, new) = ([7u8; 32], [9u8; 32]);
    let keys_before = || HandleKeys::from_secrets(&old, &[]);
    let keys_during = || HandleKeys::from_secrets(&new, &[old]);
    let keys_after = || HandleKeys::from_secrets(&new, &[]);
    let proof = |keys: HandleKeys| Some(proof_for(&keys, &world.token_url()));
    let before = with_keys(&world, keys_before()).await;
    let code = authorization_code(&world.mock, &no_redirects()).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, _, tokens) = token_at(&world, &before, proof(keys_before()), &form).await;
    assert_eq!(status, 200, "{tokens}");
    let old_handle = tokens["refresh_token"].as_str().unwrap().to_owned();

    let during = with_keys(&world, keys_during()).await;
    let (status, _, refreshed) =
        token_at(&world, &during, proof(keys_during()), &refresh(&old_handle)).await;
    assert_eq!(status, 200, "{refreshed}");
    let new_handle = refreshed["refresh_token"].as_str().unwrap().to_owned();
    let key_id = |handle: &str| handle.split('.').nth(1).unwrap().to_owned();
    assert_ne!(
        key_id(&new_handle),
        key_id(&old_handle),
        "sealed under the new key"
    );

    let after = with_keys(&world, keys_after()).await;
    let (status, _, refused) =
        token_at(&world, &after, proof(keys_after()), &refresh(&old_handle)).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, refreshed) =
        token_at(&world, &after, proof(keys_after()), &refresh(&new_handle)).await;
    assert_eq!(status, 200, "{refreshed}");
}

/// Revocation through the broker takes the handle, with the key's proof, and revokes the
/// provider's refresh token it holds; with another key it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_is_revoked_at_the_provider_with_its_key_only() {
    let world = world(60).await;
    let tokens = signed_in(&world).await;
    let handle = tokens["refresh_token"].as_str().unwrap();
    let revoke = format!("{}/revoke", world.url);
    let thief = DpopKey::generate().unwrap();
    let form = [("token", handle), ("token_type_hint", "refresh_token")];
    let (status, _, refused) =
        token_at(&world, &revoke, Some(proof_of(&thief, &revoke)), &form).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(world.mock_requests("/token/revoke"), 0);
    let (status, _, _) = token_at(&world, &revoke, Some(proof(&revoke)), &form).await;
    assert_eq!(status, 200);
    assert_eq!(world.mock_requests("/token/revoke"), 1);
    let (status, _, refused) =
        token(&world, Some(proof(&world.token_url())), &refresh(handle)).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "revoked at the provider"
    );
}

/// `GET /metrics` on the internal listener (never the public one) counts relays by outcome,
/// DPoP refusals by reason, replays and the provider's answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_count_relays_refusals_replays_and_the_providers_answers() {
    let world = world(60).await;
    let tokens = signed_in(&world).await;
    let handle = tokens["refresh_token"].as_str().unwrap();
    let thief = DpopKey::generate().unwrap();
    token(
        &world,
        Some(proof_of(&thief, &world.token_url())),
        &refresh(handle),
    )
    .await;
    let replayed = proof(&world.token_url());
    token(&world, Some(replayed.clone()), &refresh(handle)).await;
    token(&world, Some(replayed), &refresh(handle)).await;

    let public = no_redirects()
        .get(format!("{}/metrics", world.public_url))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "not on the side the provider reaches");
    let answer = no_redirects()
        .get(format!("{}/metrics", world.url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = answer.text().await.unwrap();
    for line in [
        "careid_broker_relay_requests_total{endpoint=\"token\",outcome=\"relayed\"} 2",
        "careid_broker_relay_requests_total{endpoint=\"token\",outcome=\"refused\"} 2",
        "careid_broker_dpop_refusals_total{reason=\"wrong_binding\"} 1",
        "careid_broker_replays_total{kind=\"dpop_proof\"} 1",
        "careid_broker_provider_requests_total{endpoint=\"token\",status=\"2xx\"} 2",
        "careid_broker_open_listeners 0",
    ] {
        assert!(
            text.lines().any(|present| present == line),
            "{line}\n{text}"
        );
    }
    assert!(text.contains("careid_broker_provider_latency_seconds_count{endpoint=\"token\"} 2"));
}

/// A user's refreshes have a budget of their own across devices: the handle carries the user
/// the provider named, so the budget is counted before anything reaches the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_refreshes_from_several_devices_share_a_budget() {
    let world = crate::support::relay_world::world_with_limits(
        "requests_per_minute_per_source = 100\nrequests_per_minute_per_user = 3",
    )
    .await;
    let laptop = DpopKey::generate().unwrap();
    let tablet = DpopKey::generate().unwrap();
    let mut handles = Vec::new();
    for key in [&laptop, &tablet] {
        let code = authorization_code(&world.mock, &no_redirects()).await;
        let (status, _, tokens) = token(
            &world,
            Some(proof_of(key, &world.token_url())),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!(status, 200, "{tokens}");
        handles.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }
    let mut statuses = Vec::new();
    for round in 0..4 {
        let (key, handle) = if round % 2 == 0 {
            (&laptop, &mut handles[0])
        } else {
            (&tablet, &mut handles[1])
        };
        let (status, _, refreshed) = token(
            &world,
            Some(proof_of(key, &world.token_url())),
            &refresh(handle),
        )
        .await;
        if let Some(next) = refreshed["refresh_token"].as_str() {
            *handle = next.to_owned();
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429],
        "three a minute for the nurse"
    );
    let refreshes = world.mock_requests("/access_token");
    assert_eq!(refreshes, 2 + 3, "the fourth never reached the provider");
}
