//! Running the broker from its configuration: the credential, the store and the TLS files read
//! (each mistake named before anything listens), then the service on `listen` until the
//! shutdown future completes, over TLS (`tls.mode = "files"`) or plain HTTP behind a proxy.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use careid_oidc::{HttpClient, HttpSettings};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::{BrokerConfig, TlsConfig};
use crate::connections::serve_http1;
use crate::credential::{BrokerCredential, CredentialError};
use crate::handle::HandleKeys;
use crate::server::{serve, Broker, Side};
use crate::store::Store;
use crate::tls::{self, TlsError, TlsListener};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Handles(#[from] crate::handle::HandleError),
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

/// Reads the configuration at `path`, and what it names, and serves both listeners until
/// `shutdown` completes. On SIGHUP (`systemctl reload`) the key files are read again from the
/// configuration as it is then, and put in use without a restart (see [`reload_keys`]).
pub async fn run_from_file(
    path: &Path,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let config = BrokerConfig::load(path)?;
    serve_config(config, Some(path.to_path_buf()), shutdown).await
}

/// Reads what `config` names and serves both listeners until `shutdown` completes.
pub async fn run(
    config: BrokerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    serve_config(config, None, shutdown).await
}

/// Reads the key files the configuration at `path` names now (the client credential with its
/// next and previous keys, the handles' keys) and puts them in use; on any error the keys in use
/// stay. Settings other than keys take a restart: said in the log when they changed.
pub fn reload_keys(broker: &Broker, path: &Path) -> Result<(), RunError> {
    let config = BrokerConfig::load(path)?;
    let credential = BrokerCredential::load(&config.provider)?;
    let handles = HandleKeys::load(&config.handles.key_files)?;
    let ids = handles.key_ids().collect::<Vec<_>>().join(", ");
    let mut others = config.clone();
    others.provider = broker.config().provider.clone();
    others.handles = broker.config().handles.clone();
    if &others != broker.config() {
        tracing::warn!("settings other than the keys changed: they take a restart");
    }
    broker.replace_keys(credential, handles);
    tracing::info!(handle_keys = ids, "the keys were read again and are in use");
    Ok(())
}

async fn serve_config(
    config: BrokerConfig,
    reload_from: Option<PathBuf>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let credential = BrokerCredential::load(&config.provider)?;
    let handles = HandleKeys::load(&config.handles.key_files)?;
    tracing::info!(
        keys = handles.key_ids().collect::<Vec<_>>().join(", "),
        "refresh handles sealed under the first key, opened under any"
    );
    let store = Store::open(&config.store).await?;
    let acceptors = [
        acceptor_for(&config.public.tls)?,
        acceptor_for(&config.internal.tls)?,
    ];
    let http = HttpClient::new(HttpSettings::default())?;
    let mut listeners = Vec::new();
    for listener in [&config.public, &config.internal] {
        let address = listener.listen;
        listeners.push(
            TcpListener::bind(address)
                .await
                .map_err(|source| RunError::Listen { address, source })?,
        );
    }
    let broker = Arc::new(Broker::new(
        config,
        credential,
        handles,
        http,
        Arc::new(store),
    ));
    if let Some(path) = reload_from {
        reload_on_hangup(Arc::clone(&broker), path)?;
    }
    let sides = [Side::Public, Side::Internal]
        .into_iter()
        .zip(listeners)
        .zip(acceptors)
        .map(|((side, listener), acceptor)| SideListener {
            side,
            listener,
            acceptor,
        })
        .collect();
    serve_broker(broker, sides, shutdown)
        .await
        .map_err(RunError::Serve)?;
    tracing::info!("the careid broker stopped");
    Ok(())
}

/// One side of the broker on a bound listener: over TLS with an acceptor, else plain HTTP.
pub struct SideListener {
    pub side: Side,
    pub listener: TcpListener,
    pub acceptor: Option<TlsAcceptor>,
}

impl std::fmt::Debug for SideListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideListener")
            .field("side", &self.side)
            .field("listener", &self.listener)
            .field("tls", &self.acceptor.is_some())
            .finish()
    }
}

impl SideListener {
    /// A plain-HTTP side (behind a proxy, or a test's).
    pub fn plain(side: Side, listener: TcpListener) -> Self {
        Self {
            side,
            listener,
            acceptor: None,
        }
    }
}

/// Serves each side of `broker` until `shutdown` completes (all stop together) or one fails.
pub async fn serve_broker(
    broker: Arc<Broker>,
    sides: Vec<SideListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    let on_shutdown = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = on_shutdown.send(true);
    });
    let mut serving = tokio::task::JoinSet::new();
    for SideListener {
        side,
        listener,
        acceptor,
    } in sides
    {
        let settings = broker.listener(side);
        tracing::info!(
            side = side.as_str(),
            address = %listener.local_addr()?,
            url = settings.url,
            tls = acceptor.is_some(),
            mutual_tls = matches!(settings.tls, TlsConfig::Files { device_ca: Some(_), .. }),
            "the careid broker is listening"
        );
        let mut stopped = stopped.clone();
        let until_stopped = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let broker = broker.clone();
        serving.spawn(async move {
            match acceptor {
                Some(acceptor) => serve_tls(listener, side, acceptor, broker, until_stopped).await,
                None => serve(listener, side, broker, until_stopped).await,
            }
        });
    }
    let mut outcome = Ok(());
    while let Some(served) = serving.join_next().await {
        // One side failing stops the other: a broker half up would look healthy to one side.
        if let Ok(Err(error)) = served {
            let _ = stop.send(true);
            outcome = outcome.and(Err(error));
        }
    }
    outcome
}

#[cfg(unix)]
fn reload_on_hangup(broker: Arc<Broker>, path: PathBuf) -> Result<(), RunError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup()).map_err(RunError::Serve)?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            if let Err(error) = reload_keys(&broker, &path) {
                tracing::error!(%error, "the keys were not read again: the ones in use stay");
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn reload_on_hangup(_: Arc<Broker>, _: PathBuf) -> Result<(), RunError> {
    Ok(())
}

fn acceptor_for(tls: &TlsConfig) -> Result<Option<TlsAcceptor>, TlsError> {
    match tls {
        TlsConfig::Files {
            certificate,
            key,
            device_ca,
        } => tls::acceptor(certificate, key, device_ca.as_deref()).map(Some),
        TlsConfig::BehindProxy { .. } => Ok(None),
    }
}

/// Serves one side of `broker` over TLS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: TcpListener,
    side: Side,
    acceptor: TlsAcceptor,
    broker: Arc<Broker>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = TlsListener::new(listener, acceptor, broker.caps(side))?;
    serve_http1(listener, side.router(broker), side.stream_paths(), shutdown).await
}
