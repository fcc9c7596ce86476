//! Running the broker from its configuration: the credential, the store and the TLS files read
//! (each mistake named before anything listens), then the service on `listen` until the
//! shutdown future completes, over TLS (`tls.mode = "files"`) or plain HTTP behind a proxy.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::ListenerExt as _;
use careid_oidc::{HttpClient, HttpSettings};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::{BrokerConfig, TlsConfig};
use crate::credential::{BrokerCredential, CredentialError};
use crate::server::{router, serve, Broker};
use crate::store::Store;
use crate::tls::{self, TlsError, TlsListener};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[from] careid_oidc::HttpError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("the service stopped: {0}")]
    Serve(std::io::Error),
}

/// Reads what `config` names and serves until `shutdown` completes.
pub async fn run(
    config: BrokerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let credential = BrokerCredential::load(&config.provider)?;
    let store = Store::open(&config.store).await?;
    let acceptor = match &config.tls {
        TlsConfig::Files { certificate, key } => Some(tls::acceptor(certificate, key)?),
        TlsConfig::BehindProxy { .. } => None,
    };
    let http = HttpClient::new(HttpSettings::default())?;
    let address = config.listen;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| RunError::Listen { address, source })?;
    let public_url = config.public_url.clone();
    let broker = Arc::new(Broker::new(config, credential, http, Arc::new(store)));
    tracing::info!(
        %address,
        public_url,
        tls = acceptor.is_some(),
        "the careid broker is listening"
    );
    match acceptor {
        Some(acceptor) => serve_tls(listener, acceptor, broker, shutdown).await,
        None => serve(listener, broker, shutdown).await,
    }
    .map_err(RunError::Serve)?;
    tracing::info!("the careid broker stopped");
    Ok(())
}

/// Serves `broker` over TLS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    broker: Arc<Broker>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // `tap_io` gives the TLS listener the peer address as connect info, as the plain one has.
    let listener = TlsListener::new(listener, acceptor)?.tap_io(|_| {});
    let app = router(broker).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
