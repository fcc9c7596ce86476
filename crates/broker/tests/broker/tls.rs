//! `tls.mode = "files"`: the broker serves over rustls from PEM files, and a client trusting the
//! certificate relays a code exchange through it.

use std::path::Path;

use crate::support::relay_world::{authorization_code, code_exchange_at, no_redirects, world};
use careid_broker::run::serve_tls;
use careid_broker::server::Side;
use careid_broker::tls::acceptor;
use careid_test_fixtures::files::file_with_mode as private_file;
use serde_json::Value;

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn certificate() -> (String, String) {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (cert.pem(), key_pair.serialize_pem())
}

/// A sign-in's code exchange with `client` at the broker's TLS listener at `base` (the proof
/// names the broker's configured URL).
async fn sign_in_over(
    world: &crate::support::relay_world::World,
    client: &reqwest::Client,
    base: &str,
) -> reqwest::Response {
    let code = authorization_code(&world.mock, &no_redirects()).await;
    code_exchange_at(
        client,
        &format!("{base}/token"),
        &world.token_url(),
        world.mock.issuer(),
        &code,
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_serves_over_tls_from_pem_files() {
    let world = world(60).await;
    let (cert_pem, key_pem) = certificate();
    let cert = private_file(world.dir.path(), "cert.pem", &cert_pem, 0o644);
    let key = private_file(world.dir.path(), "key.pem", &key_pem, 0o600);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(serve_tls(
        listener,
        Side::Internal,
        acceptor(&cert, &key, None).unwrap(),
        world.broker.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    let trusting = crate::support::http()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://127.0.0.1:{}", address.port());
    let health = trusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let answer = sign_in_over(&world, &trusting, &base).await;
    assert_eq!(answer.status(), 200);
    let tokens: Value = answer.json().await.unwrap();
    assert!(tokens["id_token"].is_string());

    // A client that does not trust the certificate gets no answer; plain HTTP gets none either.
    let untrusting = crate::support::http().build().unwrap();
    assert!(untrusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err());
    let plain = format!("http://127.0.0.1:{}/healthz", address.port());
    assert!(untrusting.get(plain).send().await.is_err());
    // careid's own client (rustls on aws-lc-rs, Mozilla's roots) reaches the certificate check
    // and refuses the self-signed certificate, saying so.
    let careid = careid_oidc::HttpClient::new(careid_oidc::HttpSettings::default()).unwrap();
    let error = careid
        .get(&format!("{base}/healthz"), "application/json")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unreachable", "{error}");
    assert!(error.to_string().contains("certificate"), "{error}");
    // The broker still serves after the failed handshakes.
    let again = trusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), serving)
        .await
        .expect("stops on shutdown")
        .unwrap()
        .unwrap();
}

#[test]
fn a_tls_key_others_can_read_or_a_file_without_a_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_pem, key_pem) = certificate();
    let cert = private_file(dir.path(), "cert.pem", &cert_pem, 0o644);
    let open_key = private_file(dir.path(), "open-key.pem", &key_pem, 0o644);
    let refused = |cert: &Path, key: &Path| match acceptor(cert, key, None) {
        Ok(_) => panic!("{} and {} were taken", cert.display(), key.display()),
        Err(error) => error.to_string(),
    };
    let error = refused(&cert, &open_key);
    assert!(error.contains("chmod 600"), "{error}");
    let key = private_file(dir.path(), "key.pem", &key_pem, 0o600);
    let error = refused(&key, &key);
    assert!(error.contains("holds no certificate"), "{error}");
    let error = refused(
        &cert,
        &private_file(dir.path(), "cert-as-key.pem", &cert_pem, 0o600),
    );
    assert!(error.contains("no usable private key"), "{error}");
    assert!(acceptor(&cert, &key, None).is_ok());
}

/// redis builds its rediss:// configuration with `rustls::ClientConfig::builder()`, which takes
/// the process's default provider or, with none installed, the one rustls's features name: that
/// works only while aws-lc-rs is the one provider compiled in (with ring too, it panics).
#[test]
fn rustls_features_name_aws_lc_rs_alone() {
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let groups = |provider: &rustls::crypto::CryptoProvider| {
        provider
            .kx_groups
            .iter()
            .map(|group| group.name())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        groups(config.crypto_provider()),
        groups(&rustls::crypto::aws_lc_rs::default_provider())
    );
}

/// A CA and a certificate it issued for a device: (CA PEM, device certificate and key PEM).
fn device_ca_and_certificate(device: &str) -> (String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Example Trust Device CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let device_key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![device.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, device);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Example NHS Trust");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let device_cert = params.signed_by(&device_key, &ca_cert, &ca_key).unwrap();
    (
        ca_cert.pem(),
        format!("{}{}", device_cert.pem(), device_key.serialize_pem()),
    )
}

/// With a device CA, the internal listener takes only devices whose certificate chains to it:
/// no certificate, or one from another CA, never completes the handshake; a device's relay
/// request is audited with its certificate's subject.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_internal_listener_takes_only_the_trusts_devices_under_mutual_tls() {
    let log = crate::relay::captured_log();
    let world = world(60).await;
    let (cert_pem, key_pem) = certificate();
    let cert = private_file(world.dir.path(), "cert.pem", &cert_pem, 0o644);
    let key = private_file(world.dir.path(), "key.pem", &key_pem, 0o600);
    let (ca_pem, device) = device_ca_and_certificate("LAPTOP-0042");
    let (_, stranger) = device_ca_and_certificate("LAPTOP-ELSEWHERE");
    let ca = private_file(world.dir.path(), "device-ca.pem", &ca_pem, 0o644);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(serve_tls(
        listener,
        Side::Internal,
        acceptor(&cert, &key, Some(&ca)).unwrap(),
        world.broker.clone(),
        std::future::pending(),
    ));
    let client = |identity: Option<&str>| {
        let mut builder = crate::support::http()
            .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = identity {
            builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
        }
        builder.build().unwrap()
    };

    let no_certificate = client(None).get(format!("{base}/healthz")).send().await;
    assert!(no_certificate.is_err(), "{no_certificate:?}");
    let other_ca = client(Some(&stranger))
        .get(format!("{base}/healthz"))
        .send()
        .await;
    assert!(other_ca.is_err(), "{other_ca:?}");

    let laptop = client(Some(&device));
    let answer = sign_in_over(&world, &laptop, &base).await;
    assert_eq!(answer.status(), 200);
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let audit = text
        .lines()
        .find(|line| line.contains("careid_broker::audit") && line.contains("LAPTOP-0042"))
        .unwrap_or_else(|| panic!("no audit line names the device: {text}"));
    assert!(audit.contains("O=Example NHS Trust"), "{audit}");
    assert!(!text.contains("LAPTOP-ELSEWHERE"), "{text}");
}

/// One address holding its whole allowance of connections is answered 503 with Retry-After
/// on the next one; another address is still served, and a closed connection frees its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_connection_cap_is_answered_503_with_retry_after() {
    use careid_broker::connections::{Caps, PlainListener};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let world = world(60).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let tls = careid_broker::config::TlsConfig::Files {
        certificate: "unused".into(),
        key: "unused".into(),
        device_ca: None,
    };
    let limits = careid_broker::config::Limits {
        max_connections_per_address: 2,
        max_handshakes_per_address: 2,
        ..Default::default()
    };
    let caps = Caps::new(&tls, &limits);
    let app = Side::Internal
        .router(world.broker.clone())
        .into_make_service_with_connect_info::<careid_broker::connections::Peer>();
    tokio::spawn(async move { axum::serve(PlainListener::new(listener, caps), app).await });

    let health = "GET /healthz HTTP/1.1\r\nHost: broker\r\n\r\n";
    let ask = |mut stream: tokio::net::TcpStream| async move {
        stream.write_all(health.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 1024];
        let read = stream.read(&mut answer).await.unwrap();
        (
            stream,
            String::from_utf8_lossy(&answer[..read]).into_owned(),
        )
    };
    let (first, answer) = ask(tokio::net::TcpStream::connect(address).await.unwrap()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (_second, answer) = ask(tokio::net::TcpStream::connect(address).await.unwrap()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (_, refused) = ask(tokio::net::TcpStream::connect(address).await.unwrap()).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("Retry-After: 10"), "{refused}");
    assert!(refused.contains("temporarily_unavailable"), "{refused}");
    // Loopback's other addresses are other sources.
    let elsewhere = tokio::net::TcpSocket::new_v4().unwrap();
    elsewhere.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let (_, answer) = ask(elsewhere.connect(address).await.unwrap()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, answer) = ask(tokio::net::TcpStream::connect(address).await.unwrap()).await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never freed: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Over the broker's own TLS the client is the peer: an `X-Forwarded-For` a client writes is
/// never read, so a flood that names a new address in each request is limited all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_forwarded_for_changes_nothing_over_the_brokers_own_tls() {
    use crate::support::relay_world::proof;
    let world = world(2).await;
    let (cert_pem, key_pem) = certificate();
    let cert = private_file(world.dir.path(), "cert.pem", &cert_pem, 0o644);
    let key = private_file(world.dir.path(), "key.pem", &key_pem, 0o600);
    let mut config = world.broker.config().clone();
    config.internal.tls = careid_broker::config::TlsConfig::Files {
        certificate: cert.clone(),
        key: key.clone(),
        device_ca: None,
    };
    let credential = careid_broker::BrokerCredential::load(&config.provider).unwrap();
    let handles = careid_broker::HandleKeys::load(&config.handles.key_files).unwrap();
    let broker = std::sync::Arc::new(careid_broker::server::Broker::new(
        config,
        credential,
        handles,
        careid_oidc::HttpClient::new(careid_oidc::HttpSettings::default()).unwrap(),
        std::sync::Arc::new(careid_broker::Store::Embedded(
            careid_broker::EmbeddedStore::open(None),
        )),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(serve_tls(
        listener,
        Side::Internal,
        acceptor(&cert, &key, None).unwrap(),
        broker,
        std::future::pending(),
    ));
    let client = crate::support::http()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let mut statuses = Vec::new();
    for n in 0..4 {
        let answer = client
            .post(format!("{base}/token"))
            .header("CareID-Issuer", world.mock.issuer())
            .header("X-Forwarded-For", format!("203.0.113.{n}"))
            .header("DPoP", proof(&world.token_url()))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    assert_eq!(
        statuses,
        [400, 400, 429, 429],
        "one source, whatever it wrote"
    );
}

/// An address with its allowance of TLS handshakes in progress (connections that never finish
/// theirs) has its next connection closed unanswered; a handshake that completes is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_handshake_cap_is_closed_and_finished_handshakes_are_served() {
    use tokio::io::AsyncReadExt as _;
    let world = world(60).await;
    let (cert_pem, key_pem) = certificate();
    let cert = private_file(world.dir.path(), "cert.pem", &cert_pem, 0o644);
    let key = private_file(world.dir.path(), "key.pem", &key_pem, 0o600);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let limits = careid_broker::config::Limits {
        max_handshakes_per_address: 2,
        ..Default::default()
    };
    let tls = careid_broker::config::TlsConfig::Files {
        certificate: cert.clone(),
        key: key.clone(),
        device_ca: None,
    };
    let caps = careid_broker::connections::Caps::new(&tls, &limits);
    let tls_listener =
        careid_broker::tls::TlsListener::new(listener, acceptor(&cert, &key, None).unwrap(), caps)
            .unwrap();
    let app = Side::Internal
        .router(world.broker.clone())
        .into_make_service_with_connect_info::<careid_broker::connections::Peer>();
    tokio::spawn(async move { axum::serve(tls_listener, app).await });

    // Two connections that never start their handshake hold the address's two places.
    let _stalled = [
        tokio::net::TcpStream::connect(address).await.unwrap(),
        tokio::net::TcpStream::connect(address).await.unwrap(),
    ];
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut third = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), third.read(&mut byte))
        .await
        .expect("closed at once, not left hanging");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    // Another address (loopback has many) still completes its handshake and is served.
    let client = crate::support::http()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let health = client
        .get(format!("https://127.0.0.1:{}/healthz", address.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
