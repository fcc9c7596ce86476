//! The relays over real HTTP: careid's requests go through the broker to the mock provider,
//! which knows the broker as a `private_key_jwt` client with a `jwks_uri` at the broker. The
//! broker holds the key; the client sends none.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::support::relay_world::{
    authorization_code, code_exchange, exchange, no_redirects, relay, world, REDIRECT, VERIFIER,
};
use careid_test_fixtures::http::get_json;
use careid_test_fixtures::jwt::claims;
use mock_cis2::BROKER_CLIENT_ID;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_exchange_through_the_broker_is_authenticated_with_its_key_from_its_jwks() {
    let world = world(60).await;
    let http = no_redirects();
    let code = authorization_code(&world.mock, &http).await;
    assert_eq!(world.jwks_fetches.load(Ordering::SeqCst), 0);

    let answer = code_exchange(&http, &world.token_url(), world.mock.issuer(), &code)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    assert!(answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let tokens: Value = answer.json().await.unwrap();
    for member in ["access_token", "refresh_token", "id_token"] {
        assert!(tokens[member].is_string(), "{member}: {tokens}");
    }
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], BROKER_CLIENT_ID);
    assert_eq!(id["sub"], crate::support::relay_world::NURSE);
    // The mock has no key for the broker but its jwks_uri: it fetched the broker's JWKS to
    // check the broker's assertion, and took it.
    assert!(world.jwks_fetches.load(Ordering::SeqCst) >= 1);
    let token_requests: Vec<u16> = world
        .mock
        .request_log()
        .iter()
        .filter(|logged| logged.endpoint == "/access_token")
        .map(|logged| logged.status)
        .collect();
    assert_eq!(token_requests, [200]);
    // A second exchange of the same code: the provider's refusal comes back as it gave it.
    let (status, again) = exchange(&world, &http, &code).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_revocation_go_through_the_broker() {
    let world = world(60).await;
    let http = no_redirects();
    let code = authorization_code(&world.mock, &http).await;
    let (status, tokens) = exchange(&world, &http, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let issuer = world.mock.issuer();

    let (status, headers, refreshed) = relay(
        &http,
        &world.token_url(),
        issuer,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(refreshed["access_token"].is_string());
    let current = refreshed["refresh_token"].as_str().unwrap_or(refresh_token);

    let revoke = format!("{}/revoke", world.url);
    let (status, headers, _) = relay(
        &http,
        &revoke,
        issuer,
        &[("token", current), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(world.mock_requests("/token/revoke"), 1);

    let (status, _, refused) = relay(
        &http,
        &world.token_url(),
        issuer,
        &[("grant_type", "refresh_token"), ("refresh_token", current)],
    )
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "a revoked refresh token, refused by the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_request_goes_through_with_s256_only() {
    let world = world(60).await;
    let http = no_redirects();
    let par = format!("{}/par", world.url);
    let challenge = crate::support::relay_world::challenge(VERIFIER);
    let form = |method: &'static str| {
        vec![
            ("response_type", "code"),
            ("client_id", BROKER_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "s"),
            ("nonce", "n"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", method),
        ]
    };
    let (status, _, refused) = relay(&http, &par, world.mock.issuer(), &form("plain")).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(
        world.mock_requests("/par"),
        0,
        "nothing reached the provider"
    );

    let (status, headers, pushed) = relay(&http, &par, world.mock.issuer(), &form("S256")).await;
    assert_eq!(status, 201, "{pushed}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(pushed["request_uri"]
        .as_str()
        .unwrap()
        .starts_with("urn:ietf:params:oauth:request_uri:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_says_what_it_brokers() {
    let world = world(60).await;
    let document = get_json(
        &crate::support::http().build().unwrap(),
        format!("{}/.well-known/careid-broker", world.url),
    )
    .await;
    assert_eq!(document["issuer"], world.mock.issuer());
    assert_eq!(document["client_id"], BROKER_CLIENT_ID);
    assert_eq!(document["token_endpoint"], format!("{}/token", world.url));
    assert_eq!(
        document["revocation_endpoint"],
        format!("{}/revoke", world.url)
    );
    assert_eq!(
        document["pushed_authorization_request_endpoint"],
        format!("{}/par", world.url),
        "the mock offers PAR"
    );
    assert_eq!(document["jwks_uri"], format!("{}/jwks", world.public_url));
    assert_eq!(document["redirect_uris"], serde_json::json!([REDIRECT]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_redirect_uri_is_refused_and_the_provider_sees_nothing() {
    let world = world(60).await;
    let http = no_redirects();
    let code = authorization_code(&world.mock, &http).await;
    for redirect_uri in [
        "http://127.0.0.1:23742/callback",
        "http://127.0.0.1:23741/callback/",
        "http://localhost:23741/callback",
        "https://attacker.example/callback",
    ] {
        let (status, headers, body) = relay(
            &http,
            &world.token_url(),
            world.mock.issuer(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{redirect_uri}"
        );
        assert_eq!(headers["cache-control"], "no-store");
    }
    // Without PKCE's verifier, too.
    let (status, _, _) = relay(
        &http,
        &world.token_url(),
        world.mock.issuer(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        world.mock_requests("/access_token"),
        0,
        "the mock saw nothing"
    );
    // The code was not spent: the real exchange still works.
    assert_eq!(exchange(&world, &http, &code).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_issuer_is_refused() {
    let world = world(60).await;
    let http = no_redirects();
    let code = authorization_code(&world.mock, &http).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let other = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
    let with_slash = format!("{}/", world.mock.issuer());
    for issuer in [other, with_slash.as_str()] {
        let (status, _, body) = relay(&http, &world.token_url(), issuer, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{issuer}"
        );
    }
    // No header at all.
    let answer = http
        .post(world.token_url())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    assert_eq!(world.mock_requests("/access_token"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_sent_credentials_are_refused() {
    let world = world(60).await;
    let http = no_redirects();
    let code = authorization_code(&world.mock, &http).await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let with = |extra: (&'static str, &'static str)| {
        let mut form = base.to_vec();
        form.push(extra);
        form
    };
    let forms = [
        ("a client secret", with(("client_secret", "8f2d5c1e"))),
        (
            "a client assertion",
            with(("client_assertion", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")),
        ),
        (
            "an assertion type",
            with((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )),
        ),
        (
            "another client",
            with(("client_id", "555000000005.apps.national")),
        ),
    ];
    for (what, form) in &forms {
        let (status, _, body) = relay(&http, &world.token_url(), world.mock.issuer(), form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{what}"
        );
    }
    let answer = http
        .post(world.token_url())
        .header("CareID-Issuer", world.mock.issuer())
        .basic_auth(
            "555000000001.apps.local",
            Some("8f2d5c1e-4b7a-4e39-9c06-2a1b3d4e5f60"),
        )
        .form(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400, "an Authorization header");
    assert_eq!(world.mock_requests("/access_token"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_source_is_limited_while_another_source_passes() {
    let world = world(5).await;
    let http = no_redirects();
    let flood = |source: &'static str| {
        code_exchange(&http, &world.token_url(), world.mock.issuer(), "unknown")
            .header("X-Forwarded-For", format!("198.51.100.200, {source}"))
    };
    for _ in 0..5 {
        let answer = flood("192.0.2.1").send().await.unwrap();
        assert_eq!(
            answer.status(),
            400,
            "the provider's answer to an unknown code"
        );
    }
    let limited = flood("192.0.2.1").send().await.unwrap();
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(limited.headers()["cache-control"], "no-store");
    assert_eq!(
        world.mock_requests("/access_token"),
        5,
        "the sixth never reached it"
    );

    // Another source, the real exchange: unaffected.
    let code = authorization_code(&world.mock, &http).await;
    let answer = code_exchange(&http, &world.token_url(), world.mock.issuer(), &code)
        .header("X-Forwarded-For", "192.0.2.2")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// More made-up sources than the rate limits remember, one request each, pipelined through the
/// trusted proxy (loopback): none is refused for being new, and afterwards a source seen before
/// the flood and a new one both still sign in, while a source past its budget is still stopped.
/// (A full table forgets its oldest windows rather than refuse a newcomer.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_new_sources_locks_out_no_one() {
    let world = world(5).await;
    let http = no_redirects();
    let sign_in_from = |source: &'static str| {
        let (http, world) = (&http, &world);
        async move {
            let code = authorization_code(&world.mock, http).await;
            code_exchange(http, &world.token_url(), world.mock.issuer(), &code)
                .header("X-Forwarded-For", source)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(sign_in_from("192.0.2.1").await, 200, "before the flood");

    let sources = careid_broker::rate_limit::MAX_SOURCES + 5_000;
    let statuses = pipelined_flood(&world.token_url(), world.mock.issuer(), sources).await;
    assert_eq!(statuses.values().sum::<usize>(), sources, "{statuses:?}");
    assert!(
        !statuses.contains_key(&429) && !statuses.keys().any(|status| *status >= 500),
        "no made-up source was refused for being one too many: {statuses:?}"
    );

    assert_eq!(
        sign_in_from("192.0.2.1").await,
        200,
        "known before the flood"
    );
    assert_eq!(sign_in_from("192.0.2.2").await, 200, "new after it");
    let mut last = 0;
    for _ in 0..6 {
        last = sign_in_from("192.0.2.3").await.as_u16();
    }
    assert_eq!(last, 429, "a source past its budget is still stopped");
}

/// Sends one refused relay (no DPoP proof) from each of `sources` made-up addresses in 10/8,
/// named in `X-Forwarded-For`, pipelined on a few connections: how many answers had each status.
async fn pipelined_flood(token_url: &str, issuer: &str, sources: usize) -> BTreeMap<u16, usize> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    const CONNECTIONS: usize = 4;
    let url = url::Url::parse(token_url).unwrap();
    let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut connections = tokio::task::JoinSet::new();
    for connection in 0..CONNECTIONS {
        let (address, path, issuer) = (address.clone(), url.path().to_owned(), issuer.to_owned());
        let share: Vec<u32> = (connection..sources)
            .step_by(CONNECTIONS)
            .map(|n| u32::try_from(n).unwrap())
            .collect();
        connections.spawn(async move {
            let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            let (mut reader, mut writer) = stream.into_split();
            let expected = share.len();
            let writing = tokio::spawn(async move {
                let body = "grant_type=authorization_code&code=x";
                let mut batch = Vec::new();
                for n in share {
                    let source = std::net::Ipv4Addr::from(0x0a00_0000 + n);
                    write!(
                        batch,
                        "POST {path} HTTP/1.1\r\nHost: {address}\r\nCareID-Issuer: {issuer}\r\n\
                         X-Forwarded-For: {source}\r\n\
                         Content-Type: application/x-www-form-urlencoded\r\n\
                         Content-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .unwrap();
                    if batch.len() >= 64 * 1024 {
                        writer.write_all(&batch).await.unwrap();
                        batch.clear();
                    }
                }
                writer.write_all(&batch).await.unwrap();
                writer
            });
            let mut statuses = BTreeMap::new();
            let (mut seen, mut unread, mut chunk) = (0, Vec::new(), vec![0u8; 64 * 1024]);
            const STATUS_LINE: &[u8] = b"HTTP/1.1 ";
            while seen < expected {
                let read = tokio::time::timeout(Duration::from_secs(60), reader.read(&mut chunk))
                    .await
                    .expect("answers keep coming")
                    .unwrap();
                assert!(read > 0, "closed after {seen} of {expected} answers");
                unread.extend_from_slice(&chunk[..read]);
                let mut scanned = 0;
                while let Some(at) = unread[scanned..]
                    .windows(STATUS_LINE.len())
                    .position(|window| window == STATUS_LINE)
                {
                    let code_at = scanned + at + STATUS_LINE.len();
                    let Some(code) = unread.get(code_at..code_at + 3) else {
                        break;
                    };
                    let code: u16 = std::str::from_utf8(code).unwrap().parse().unwrap();
                    *statuses.entry(code).or_insert(0) += 1;
                    seen += 1;
                    scanned = code_at + 3;
                }
                // Keep what could be the start of a status line cut by the read.
                let keep_from = scanned.max(unread.len().saturating_sub(STATUS_LINE.len() + 3));
                unread.drain(..keep_from);
            }
            drop(writing.await.unwrap());
            statuses
        });
    }
    let mut statuses = BTreeMap::new();
    while let Some(counted) = connections.join_next().await {
        for (status, count) in counted.unwrap() {
            *statuses.entry(status).or_insert(0) += count;
        }
    }
    statuses
}

/// Everything logged in this process, by the broker and careid-oidc, at every level.
pub(crate) fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "careid_broker=trace,careid_oidc=trace",
            ))
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .init();
        log
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_the_broker_logs_contains_a_token() {
    let log = captured_log();
    let world = world(60).await;
    let http = no_redirects();
    let issuer = world.mock.issuer();
    let code = authorization_code(&world.mock, &http).await;
    let (status, tokens) = exchange(&world, &http, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, _, refreshed) = relay(
        &http,
        &world.token_url(),
        issuer,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let new_refresh = refreshed["refresh_token"]
        .as_str()
        .unwrap_or(&refresh_token)
        .to_owned();
    relay(
        &http,
        &format!("{}/revoke", world.url),
        issuer,
        &[("token", &new_refresh)],
    )
    .await;
    // Refusals log too: a client secret and a code with a foreign redirect URI.
    relay(
        &http,
        &world.token_url(),
        issuer,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("client_secret", "a-client-secret-value"),
        ],
    )
    .await;
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("careid_broker::audit") && text.contains(crate::support::relay_world::NURSE),
        "the audit lines are there, with the user: {text}"
    );
    assert!(
        text.contains("grant_type=\"authorization_code\"")
            || text.contains("grant_type=authorization_code"),
        "{text}"
    );
    let sid = claims(tokens["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains(&sid), "the session id is recorded: {text}");
    let key_line = world.key_pem.lines().nth(1).unwrap().to_owned();
    let secrets = [
        ("the code", code.as_str()),
        ("the verifier", VERIFIER),
        ("the access token", tokens["access_token"].as_str().unwrap()),
        ("the refresh token", refresh_token.as_str()),
        ("the ID token", tokens["id_token"].as_str().unwrap()),
        (
            "the refreshed access token",
            refreshed["access_token"].as_str().unwrap(),
        ),
        ("the new refresh token", new_refresh.as_str()),
        ("a client secret", "a-client-secret-value"),
        ("the private key", key_line.as_str()),
        // Every JWT (an ID token, the broker's assertion) begins with a base64url '{"'.
        ("a JWT", "eyJ"),
    ];
    for (what, secret) in secrets {
        assert!(!text.contains(secret), "{what} is in the log:\n{text}");
    }
}

/// Refusals count apart, against a smaller budget: a source guessing handles is stopped long
/// before its budget for requests is spent, while another source is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_spend_a_budget_of_their_own() {
    let world = crate::support::relay_world::world_with_limits(
        "requests_per_minute_per_source = 100\nfailures_per_minute_per_source = 3",
    )
    .await;
    let http = no_redirects();
    let guess = |source: &'static str| {
        let url = world.token_url();
        let proof = crate::support::relay_world::proof(&url);
        http.post(url)
            .header("CareID-Issuer", world.mock.issuer())
            .header("X-Forwarded-For", source)
            .header("DPoP", proof)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "cr1.guessed.handle"),
            ])
    };
    for _ in 0..3 {
        assert_eq!(guess("192.0.2.1").send().await.unwrap().status(), 400);
    }
    let stopped = guess("192.0.2.1").send().await.unwrap();
    assert_eq!(stopped.status(), 429, "three refusals, then no more tries");
    assert!(stopped.headers().contains_key("retry-after"));
    // A real sign-in from the same source is held too; another source is not.
    let code = authorization_code(&world.mock, &http).await;
    let held = code_exchange(&http, &world.token_url(), world.mock.issuer(), &code)
        .header("X-Forwarded-For", "192.0.2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), 429);
    let answer = code_exchange(&http, &world.token_url(), world.mock.issuer(), &code)
        .header("X-Forwarded-For", "192.0.2.2")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// One DPoP key (one careid install) has a budget of its own wherever it comes from; an
/// allowance raises a trust's egress network's per-source budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_key_has_its_budget_and_an_egress_network_its_allowance() {
    let world = crate::support::relay_world::world_with_limits(
        "requests_per_minute_per_source = 2\nrequests_per_minute_per_key = 4\n\
         failures_per_minute_per_source = 100\n\
         [[limits.allowances]]\nnetwork = \"198.51.100.0/24\"\ntimes = 10",
    )
    .await;
    let http = no_redirects();
    let key = careid_oidc::DpopKey::generate().unwrap();
    let ask = |source: String| {
        let url = world.token_url();
        let proof = crate::support::relay_world::proof_of(&key, &url);
        http.post(url)
            .header("CareID-Issuer", world.mock.issuer())
            .header("X-Forwarded-For", source)
            .header("DPoP", proof)
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
    };
    // Two a minute from an address outside the allowance.
    for _ in 0..2 {
        assert_eq!(ask("192.0.2.9".into()).await.unwrap().status(), 400);
    }
    assert_eq!(ask("192.0.2.9".into()).await.unwrap().status(), 429);
    // The same key from addresses in the egress network: twenty a minute each, but the key's
    // own four (two spent above) stop it.
    for n in 0..2 {
        let answer = ask(format!("198.51.100.{n}")).await.unwrap();
        assert_eq!(answer.status(), 400, "within the key's budget");
    }
    let over = ask("198.51.100.7".into()).await.unwrap();
    assert_eq!(over.status(), 429, "the key's budget, from any address");
    // Another key from the egress network: its allowance holds where one address would stop.
    for _ in 0..4 {
        let url = world.token_url();
        let answer = http
            .post(&url)
            .header("CareID-Issuer", world.mock.issuer())
            .header("X-Forwarded-For", "198.51.100.8")
            .header("DPoP", crate::support::relay_world::proof(&url))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "ten times the source's budget");
    }
}
