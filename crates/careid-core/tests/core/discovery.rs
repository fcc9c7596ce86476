//! Discovery and JWKS fetching against the mock provider and hand-made servers: the request log
//! proves what the caches saved, faults prove the failures are clean.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::issuer_url;
use careid_core::{
    discovery_url, oauth_error, CacheFolder, DiscoveryError, HttpClient, HttpError, HttpSettings,
    ProviderCache, SecretString, JWKS_REFETCH_COOLDOWN,
};
use careid_test_fixtures::CIS2_INT_ISSUER;
use mock_cis2::{MockCis2, RunningMock};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const DISCOVERY: &str = "/.well-known/openid-configuration";
const JWKS: &str = "/connect/jwk_uri";
const HOUR: Duration = Duration::from_secs(3600);

fn http() -> HttpClient {
    HttpClient::new(HttpSettings::default()).expect("an HTTP client")
}

async fn mock() -> RunningMock {
    MockCis2::new().start().await.expect("the mock starts")
}

/// How many requests the mock answered on `endpoint`.
fn requests(mock: &RunningMock, endpoint: &str) -> usize {
    mock.request_log()
        .iter()
        .filter(|request| request.endpoint == endpoint)
        .count()
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// A server on 127.0.0.1 that answers every request with `respond(request head)` and counts
/// them. Its base URL is `http://127.0.0.1:{port}`.
async fn serve<F>(respond: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(&str) -> Vec<u8> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let (respond, counter) = (Arc::new(respond), Arc::clone(&count));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (respond, counter) = (Arc::clone(&respond), Arc::clone(&counter));
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let response = respond(&String::from_utf8_lossy(&head));
                let _ = stream.write_all(&response).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base, count)
}

fn respond(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A CIS2-shaped document for `issuer` whose endpoints live on CIS2 INT's host, `:443` and all.
fn cis2_document(issuer: &str) -> Value {
    let int = CIS2_INT_ISSUER;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{int}/authorize"),
        "token_endpoint": format!("{int}/access_token"),
        "userinfo_endpoint": format!("{int}/userinfo"),
        "jwks_uri": format!("{int}/connect/jwk_uri"),
        "end_session_endpoint": format!("{int}/connect/endSession"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "authorization_response_iss_parameter_supported": true,
        "x_vendor_extension": {"anything": [1, 2, 3]}
    })
}

/// A server whose discovery document is `document(issuer)`, the issuer being its own base URL
/// plus `/realm`.
async fn serve_document(document: fn(&str) -> Value) -> (String, Arc<AtomicUsize>) {
    // The issuer names the server's port, which is known only once it is bound.
    let slot: Arc<std::sync::OnceLock<String>> = Arc::new(std::sync::OnceLock::new());
    let issuer_slot = Arc::clone(&slot);
    let (base, count) = serve(move |_head| {
        let issuer = issuer_slot.get().expect("issuer set").clone();
        respond(200, &document(&issuer).to_string())
    })
    .await;
    let issuer = format!("{base}/realm");
    slot.set(issuer.clone()).unwrap();
    (issuer, count)
}

fn assert_code(error: &DiscoveryError, code: &str) {
    assert_eq!(error.code(), code, "{error}");
}

#[tokio::test]
async fn metadata_is_fetched_once_and_kept_in_memory() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    let http = http();

    let first = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    let second = cache
        .metadata(
            &http,
            &issuer_url(mock.issuer()),
            now() + Duration::from_secs(59 * 60),
        )
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(requests(&mock, DISCOVERY), 1);
    assert_eq!(first.issuer.as_str(), mock.issuer());
    assert_eq!(
        first.token_endpoint,
        format!("{}/access_token", mock.issuer())
    );
    assert_eq!(first.raw["issuer"], mock.issuer());

    let jwks = cache.jwks(&http, &first, now()).await.unwrap();
    let again = cache.jwks(&http, &first, now()).await.unwrap();
    assert!(Arc::ptr_eq(&jwks, &again));
    assert_eq!(requests(&mock, JWKS), 1);
    assert_eq!(*jwks, mock.jwks());
}

#[tokio::test]
async fn callers_asking_at_once_cause_one_request() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    let http = http();
    let issuer = issuer_url(mock.issuer());
    let (a, b, c) = tokio::join!(
        cache.metadata(&http, &issuer, now()),
        cache.metadata(&http, &issuer, now()),
        cache.metadata(&http, &issuer, now()),
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert!(Arc::ptr_eq(&a, &b) && Arc::ptr_eq(&b, &c));
    assert_eq!(requests(&mock, DISCOVERY), 1);
}

#[tokio::test]
async fn a_second_cache_on_the_same_folder_makes_no_request() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let http = http();

    let first = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    let metadata = first
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    first.jwks(&http, &metadata, now()).await.unwrap();
    assert_eq!((requests(&mock, DISCOVERY), requests(&mock, JWKS)), (1, 1));

    let file = CacheFolder::new(dir.path().to_owned()).discovery_file(mock.issuer());
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("discovery-") && name.len() == "discovery-.json".len() + 16,
        "{name}"
    );
    let stored: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(stored["issuer"], mock.issuer());
    assert_eq!(stored["fetched_at"], 1_767_225_600u64);
    assert_eq!(stored["document"], metadata.raw);

    let second = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    let later = now() + Duration::from_secs(30 * 60);
    let cached = second
        .metadata(&http, &issuer_url(mock.issuer()), later)
        .await
        .unwrap();
    let jwks = second.jwks(&http, &cached, later).await.unwrap();
    assert_eq!((requests(&mock, DISCOVERY), requests(&mock, JWKS)), (1, 1));
    assert_eq!(*cached, *metadata);
    assert_eq!(*jwks, mock.jwks());

    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn documents_older_than_an_hour_are_fetched_again() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let http = http();
    let cache = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    cache.jwks(&http, &metadata, now()).await.unwrap();

    let later = now() + Duration::from_secs(61 * 60);
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), later)
        .await
        .unwrap();
    cache.jwks(&http, &metadata, later).await.unwrap();
    assert_eq!((requests(&mock, DISCOVERY), requests(&mock, JWKS)), (2, 2));

    // A second process at the same moment finds the refreshed files.
    let other = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    other
        .metadata(&http, &issuer_url(mock.issuer()), later)
        .await
        .unwrap();
    assert_eq!(requests(&mock, DISCOVERY), 2);

    // A longer max_age than an hour is cut to an hour.
    let lax = ProviderCache::new(Duration::from_secs(86_400));
    lax.metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    lax.metadata(&http, &issuer_url(mock.issuer()), now() + HOUR)
        .await
        .unwrap();
    assert_eq!(requests(&mock, DISCOVERY), 4);
}

#[tokio::test]
async fn refetch_jwks_bypasses_the_cache_and_replaces_it() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let http = http();
    let cache = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    let before = cache.jwks(&http, &metadata, now()).await.unwrap();

    mock.rotate_keys().await.unwrap();
    mock.retire_old_keys();
    assert_eq!(*cache.jwks(&http, &metadata, now()).await.unwrap(), *before);
    assert_eq!(requests(&mock, JWKS), 1);

    let refetched = cache.refetch_jwks(&http, &metadata, now()).await.unwrap();
    assert_eq!(requests(&mock, JWKS), 2);
    assert_eq!(*refetched, mock.jwks());
    assert_ne!(*refetched, *before);
    // The new copy replaced the old one, in memory and on disk.
    assert_eq!(
        *cache.jwks(&http, &metadata, now()).await.unwrap(),
        *refetched
    );
    let other = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    assert_eq!(
        *other.jwks(&http, &metadata, now()).await.unwrap(),
        *refetched
    );
    assert_eq!(requests(&mock, JWKS), 2);

    // A later call within the cooldown takes the last refetch's answer; after it, one request.
    cache.refetch_jwks(&http, &metadata, now()).await.unwrap();
    assert_eq!(requests(&mock, JWKS), 2);
    cache
        .refetch_jwks(&http, &metadata, now() + JWKS_REFETCH_COOLDOWN)
        .await
        .unwrap();
    assert_eq!(requests(&mock, JWKS), 3);
}

/// Tokens with made-up `kid`s, one after another (a flood of forged logout tokens at the
/// broker), make one request to the provider per cooldown, not one each.
#[tokio::test]
async fn refetches_one_after_another_make_one_request_per_cooldown() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    let http = http();
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    let start = now();
    for second in 0..100 {
        cache
            .refetch_jwks(
                &http,
                &metadata,
                start + Duration::from_millis(300 * second),
            )
            .await
            .unwrap();
    }
    // 30 s of refetches asked every 0.3 s: the first, and the one at the cooldown.
    assert_eq!(requests(&mock, JWKS), 1);
    cache
        .refetch_jwks(&http, &metadata, start + JWKS_REFETCH_COOLDOWN)
        .await
        .unwrap();
    assert_eq!(requests(&mock, JWKS), 2);
    // A clock that went back does not hold a refetch up.
    cache
        .refetch_jwks(&http, &metadata, start - HOUR)
        .await
        .unwrap();
    assert_eq!(requests(&mock, JWKS), 3);
}

#[tokio::test]
async fn refetches_asked_at_once_share_one_request() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    let http = http();
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        cache.refetch_jwks(&http, &metadata, now()),
        cache.refetch_jwks(&http, &metadata, now()),
    );
    assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
    assert_eq!(requests(&mock, JWKS), 1);
}

#[tokio::test]
async fn damaged_stale_or_foreign_cache_files_are_refetched_without_error() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let http = http();
    let cache = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    let path = CacheFolder::new(dir.path().to_owned()).discovery_file(mock.issuer());
    let document = mock_cis2::Issuer::exact(mock.issuer()).discovery_document();
    let fetched_at = 1_767_225_600u64;
    let damaged: [Vec<u8>; 6] = [
        b"{\"issuer\": \"http://trunc".to_vec(),
        vec![0xff, 0xfe, 0x00],
        // Another issuer's file under this name.
        serde_json::to_vec(&json!({"issuer": "https://other", "fetched_at": fetched_at, "document": document})).unwrap(),
        // From the future: a clock that was set back.
        serde_json::to_vec(&json!({"issuer": mock.issuer(), "fetched_at": fetched_at + 600, "document": document})).unwrap(),
        // Stale.
        serde_json::to_vec(&json!({"issuer": mock.issuer(), "fetched_at": fetched_at - 3601, "document": document})).unwrap(),
        // A document whose own issuer differs.
        serde_json::to_vec(&json!({"issuer": mock.issuer(), "fetched_at": fetched_at, "document": {"issuer": "https://evil", "authorization_endpoint": "https://evil/a", "token_endpoint": "https://evil/t", "jwks_uri": "https://evil/k"}})).unwrap(),
    ];
    for (index, contents) in damaged.iter().enumerate() {
        std::fs::write(&path, contents).unwrap();
        let fresh = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
        let metadata = fresh
            .metadata(&http, &issuer_url(mock.issuer()), now())
            .await
            .unwrap_or_else(|error| panic!("case {index}: {error}"));
        assert_eq!(metadata.issuer.as_str(), mock.issuer());
        assert_eq!(requests(&mock, DISCOVERY), index + 1, "case {index}");
        let rewritten: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(rewritten["fetched_at"], fetched_at, "case {index}");
    }

    // A damaged key set file too.
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    std::fs::write(
        CacheFolder::new(dir.path().to_owned()).jwks_file(mock.issuer()),
        b"[1, 2",
    )
    .unwrap();
    cache.jwks(&http, &metadata, now()).await.unwrap();
    assert_eq!(requests(&mock, JWKS), 1);
}

#[tokio::test]
async fn forget_drops_memory_and_files() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let http = http();
    let cache = CacheFolder::new(dir.path().to_owned()).provider_cache(HOUR);
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    cache.jwks(&http, &metadata, now()).await.unwrap();
    let files = [
        CacheFolder::new(dir.path().to_owned()).discovery_file(mock.issuer()),
        CacheFolder::new(dir.path().to_owned()).jwks_file(mock.issuer()),
    ];
    assert!(files.iter().all(|file| file.exists()));

    cache.forget(&issuer_url(mock.issuer()));
    assert!(files.iter().all(|file| !file.exists()));
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    cache.jwks(&http, &metadata, now()).await.unwrap();
    assert_eq!((requests(&mock, DISCOVERY), requests(&mock, JWKS)), (2, 2));
    cache.forget(&issuer_url("https://never-cached.example"));
}

#[tokio::test]
async fn server_errors_are_reported_and_not_cached() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    let http = http();

    mock.arm_fault("http_500@discovery".parse().unwrap(), Some(1));
    let error = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Status { status: 500, .. }),
        "{error}"
    );
    assert_code(&error, "http_status");
    assert!(error.is_transient());
    let metadata = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();

    mock.arm_fault("http_503@jwks".parse().unwrap(), Some(1));
    let error = cache.jwks(&http, &metadata, now()).await.unwrap_err();
    match &error {
        DiscoveryError::Status {
            status: 503,
            retry_after,
            url,
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(1)));
            assert_eq!(url, &metadata.jwks_uri);
        }
        other => panic!("expected 503, got {other}"),
    }
    assert!(error.is_transient());
    cache.jwks(&http, &metadata, now()).await.unwrap();
    assert_eq!((requests(&mock, DISCOVERY), requests(&mock, JWKS)), (2, 2));
}

#[tokio::test]
async fn malformed_json_is_a_parse_error_without_content() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    mock.arm_fault("malformed_json@discovery".parse().unwrap(), Some(1));
    let error = cache
        .metadata(&http(), &issuer_url(mock.issuer()), now())
        .await
        .unwrap_err();
    assert_code(&error, "invalid_json");
    assert!(!error.is_transient());
    let message = error.to_string();
    assert!(message.contains("line"), "{message}");
    assert!(
        !message.contains("authorization_endpoint") && !message.contains("scopes"),
        "{message}"
    );
}

#[tokio::test]
async fn an_oversized_answer_stops_at_the_limit_quickly() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    mock.arm_fault("oversized_response@discovery".parse().unwrap(), Some(1));
    let started = Instant::now();
    let error = cache
        .metadata(&http(), &issuer_url(mock.issuer()), now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            DiscoveryError::Http(HttpError::TooLarge {
                limit: 1_048_576,
                ..
            })
        ),
        "{error}"
    );
    assert_code(&error, "too_large");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_without_a_length_is_cut_at_the_limit() {
    // No Content-Length: the limit must hold while streaming.
    let (base, _) = serve(|_| {
        let mut response =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n["
                .to_vec();
        response.extend(std::iter::repeat_n(b' ', 3 * 1024 * 1024));
        response.push(b']');
        response
    })
    .await;
    let http = HttpClient::new(HttpSettings {
        max_body_bytes: 64 * 1024,
        ..HttpSettings::default()
    })
    .unwrap();
    let error = http.get(&base, "application/json").await.unwrap_err();
    assert!(
        matches!(error, HttpError::TooLarge { limit: 65_536, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let mock = mock().await;
    let cache = ProviderCache::new(HOUR);
    let http = HttpClient::new(HttpSettings {
        timeout: Duration::from_millis(500),
        ..HttpSettings::default()
    })
    .unwrap();
    mock.arm_fault("slow_endpoint@discovery=3000".parse().unwrap(), Some(1));
    let started = Instant::now();
    let error = cache
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Http(HttpError::Timeout { .. })),
        "{error}"
    );
    assert!(error.is_transient());
    assert!(started.elapsed() < Duration::from_millis(2500));
}

#[tokio::test]
async fn an_unreachable_provider_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let issuer = format!("http://127.0.0.1:{port}/realm");
    let error = ProviderCache::new(HOUR)
        .metadata(&http(), &issuer_url(&issuer), now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, DiscoveryError::Http(HttpError::Unreachable { .. })),
        "{error}"
    );
    assert_code(&error, "unreachable");
    assert!(error.is_transient());
    assert!(error.to_string().contains(&issuer), "{error}");
}

#[tokio::test]
async fn the_issuer_must_match_exactly() {
    // The same server under two spellings of its address.
    let mock = MockCis2::new()
        .issuer("http://127.0.0.1:{port}/realm")
        .start()
        .await
        .unwrap();
    let asked = format!("http://localhost:{}/realm", mock.port());
    let error = ProviderCache::new(HOUR)
        .metadata(&http(), &issuer_url(&asked), now())
        .await
        .unwrap_err();
    match &error {
        DiscoveryError::IssuerMismatch { expected, found } => {
            assert_eq!(expected, &asked);
            assert_eq!(found, mock.issuer());
        }
        other => panic!("expected an issuer mismatch, got {other}"),
    }
    assert_code(&error, "issuer_mismatch");

    // A trailing slash is a different issuer too.
    let error = ProviderCache::new(HOUR)
        .metadata(&http(), &issuer_url(&format!("{}/", mock.issuer())), now())
        .await
        .unwrap_err();
    assert_code(&error, "issuer_mismatch");
}

#[tokio::test]
async fn every_url_is_kept_exactly_as_published() {
    let (issuer, count) = serve_document(cis2_document).await;
    let metadata = ProviderCache::new(HOUR)
        .metadata(&http(), &issuer_url(&issuer), now())
        .await
        .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(metadata.raw, cis2_document(&issuer));
    let int = CIS2_INT_ISSUER;
    assert_eq!(metadata.token_endpoint, format!("{int}/access_token"));
    assert_eq!(metadata.authorization_endpoint, format!("{int}/authorize"));
    assert_eq!(metadata.jwks_uri, format!("{int}/connect/jwk_uri"));
    assert_eq!(
        metadata.end_session_endpoint.as_deref(),
        Some(format!("{int}/connect/endSession").as_str())
    );
    assert!(metadata.authorization_response_iss_parameter_supported);
    assert_eq!(metadata.revocation_endpoint, None);
    assert_eq!(metadata.raw["x_vendor_extension"]["anything"][2], 3);
    assert_eq!(
        discovery_url(&issuer_url(&format!("{int}/"))),
        format!("{int}/.well-known/openid-configuration")
    );
}

#[tokio::test]
async fn insecure_endpoints_and_missing_members_are_refused() {
    let (issuer, _) = serve_document(|issuer| {
        let mut document = cis2_document(issuer);
        document["token_endpoint"] = json!("http://am.example.nhs.uk/access_token?x=1");
        document
    })
    .await;
    let error = ProviderCache::new(HOUR)
        .metadata(&http(), &issuer_url(&issuer), now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            DiscoveryError::InsecureEndpoint { member: "token_endpoint", url }
                if url == "http://am.example.nhs.uk/access_token"
        ),
        "{error}"
    );
    assert_code(&error, "insecure_endpoint");

    let (issuer, _) = serve_document(|issuer| {
        let mut document = cis2_document(issuer);
        document.as_object_mut().unwrap().remove("jwks_uri");
        document
    })
    .await;
    let error = ProviderCache::new(HOUR)
        .metadata(&http(), &issuer_url(&issuer), now())
        .await
        .unwrap_err();
    assert_code(&error, "invalid_document");
    assert!(
        error.to_string().contains("`jwks_uri` is missing"),
        "{error}"
    );

    // A plain-http issuer off loopback is not an issuer: no request can be made for it.
    assert!(careid_core::IssuerUrl::new("http://cis2.invalid/realm").is_err());
}

#[tokio::test]
async fn a_key_set_must_have_a_keys_list() {
    let (base, _) = serve(|_| respond(200, r#"{"not_keys": []}"#)).await;
    let mut metadata = careid_core::ProviderMetadata::from_document(
        cis2_document(&format!("{base}/realm")),
        "test",
    )
    .unwrap();
    metadata.jwks_uri = format!("{base}/jwks");
    let error = ProviderCache::new(HOUR)
        .jwks(&http(), &metadata, now())
        .await
        .unwrap_err();
    assert_code(&error, "invalid_document");
    assert!(error.to_string().contains("`keys` is missing"), "{error}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (base, count) = serve(|_| {
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
    })
    .await;
    let response = http().get(&format!("{base}/x"), "*/*").await.unwrap();
    assert_eq!(response.status, 302);
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn post_form_carries_a_sensitive_authorization_and_reads_oauth_errors() {
    let mock = mock().await;
    let http = http();
    let metadata = ProviderCache::new(HOUR)
        .metadata(&http, &issuer_url(mock.issuer()), now())
        .await
        .unwrap();
    // "nobody:wrong", Basic-encoded: an unknown client.
    let authorization = SecretString::new("Basic bm9ib2R5Ondyb25n".to_owned());
    let response = http
        .post_form(
            &metadata.token_endpoint,
            &[("grant_type", "authorization_code"), ("code", "not-a-code")],
            Some(&authorization),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(response.status, 401, "{response:?}");
    assert!(response.is_json());
    let error = oauth_error(&response).expect("an OAuth error");
    assert_eq!(error.error, "invalid_client");
    let printed = format!("{response:?} {error:?}");
    assert!(!printed.contains("bm9ib2R5"), "{printed}");
}
