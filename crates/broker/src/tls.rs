//! TLS for `tls.mode = "files"`: rustls on aws-lc-rs from a PEM certificate chain and key, served
//! through axum like the plain listener, with mutual TLS against a device CA where one is
//! configured (required, never optional). Handshakes run side by side (a client that never
//! finishes one holds up no one) with a time limit, a cap on how many are in flight, and a cap
//! per address ([`Caps`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::connections::{refuse_busy, Caps, Counted, Peer, Refused};
use crate::credential::read_private;

/// The longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The most handshakes in progress at once; more connections wait to be accepted.
const MAX_HANDSHAKES: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate file {path}: {source}")]
    ReadCertificate {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate file {path} holds no certificate")]
    NoCertificate { path: PathBuf },
    #[error(transparent)]
    ReadKey(#[from] crate::CredentialError),
    #[error("the TLS key file {path} holds no usable private key")]
    Key { path: PathBuf },
    #[error("the TLS certificate and key cannot be used: {0}")]
    Config(#[from] rustls::Error),
    #[error("the device CA file {path} cannot be used: {message}")]
    DeviceCa { path: PathBuf, message: String },
}

/// Reads every certificate in a PEM file.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let read_error = |source| TlsError::ReadCertificate {
        path: path.to_path_buf(),
        source,
    };
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(read_error)?
        .collect::<Result<_, _>>()
        .map_err(read_error)?;
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certificates)
}

/// A TLS acceptor for the certificate chain in `certificate` (the server's certificate first)
/// and the private key in `key` (PKCS#8, PKCS#1 or SEC1 PEM), which only the broker's user may
/// read. With `device_ca`, every client must present a certificate that chains to one of the
/// CA certificates in that PEM file. HTTP/1.1 only, TLS 1.2 and 1.3 with rustls' safe defaults.
pub fn acceptor(
    certificate: &Path,
    key: &Path,
    device_ca: Option<&Path>,
) -> Result<TlsAcceptor, TlsError> {
    let chain = read_certificates(certificate)?;
    let pem = read_private(key)?;
    let private = PrivateKeyDer::from_pem_slice(pem.expose_secret().as_bytes()).map_err(|_| {
        TlsError::Key {
            path: key.to_path_buf(),
        }
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match device_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let invalid = |message: String| TlsError::DeviceCa {
                path: path.to_path_buf(),
                message,
            };
            let mut roots = rustls::RootCertStore::empty();
            for ca in read_certificates(path)? {
                roots.add(ca).map_err(|error| invalid(error.to_string()))?;
            }
            // Required: a connection without a certificate that chains to the CA never
            // completes its handshake.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| invalid(error.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, private)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener whose connections have finished their TLS handshake, for `axum::serve`.
#[derive(Debug)]
pub struct TlsListener {
    ready: mpsc::Receiver<(Counted<TlsStream<TcpStream>>, Peer)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor, caps: Caps) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(64);
        let permits = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        let accepting = tokio::spawn(async move {
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Some(handshaking) = caps.admit_handshake(peer.ip()) else {
                    tracing::warn!(%peer, "too many TLS handshakes from this address: closed");
                    continue;
                };
                let (acceptor, sender, caps) = (acceptor.clone(), sender.clone(), caps.clone());
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    drop((permit, handshaking));
                    match handshake {
                        Ok(Ok(stream)) => {
                            let slot = match caps.admit_connection(peer.ip()) {
                                Ok(slot) => slot,
                                Err(Refused) => return refuse_busy(stream, peer),
                            };
                            let device = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(<[_]>::first)
                                .map(|certificate| Arc::from(subject_of(certificate)));
                            let peer = Peer {
                                address: peer,
                                device,
                            };
                            let _ = sender.send((Counted::new(stream, slot), peer)).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self {
            ready,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Counted<TlsStream<TcpStream>>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task ended only if the runtime is going away.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(Peer::new(self.local))
    }
}

/// A certificate's subject for the audit log, as `CN=..., O=...` in the certificate's order;
/// `(unreadable subject)` when it cannot be read (the chain was verified: this is the record).
pub fn subject_of(certificate: &CertificateDer<'_>) -> String {
    read_subject(certificate.as_ref()).unwrap_or_else(|| "(unreadable subject)".to_owned())
}

fn read_subject(der: &[u8]) -> Option<String> {
    let (_, certificate, _) = der_item(der)?;
    let (_, mut tbs, _) = der_item(certificate)?;
    // tbsCertificate: [0] version (optional), serial, signature, issuer, validity, subject.
    if tbs.first() == Some(&0xa0) {
        tbs = der_item(tbs)?.2;
    }
    for _ in 0..4 {
        tbs = der_item(tbs)?.2;
    }
    let (_, mut name, _) = der_item(tbs)?;
    let mut parts = Vec::new();
    while !name.is_empty() {
        let (_, mut set, rest) = der_item(name)?;
        name = rest;
        while !set.is_empty() {
            let (_, attribute, rest) = der_item(set)?;
            set = rest;
            let (_, oid, value) = der_item(attribute)?;
            let (tag, value, _) = der_item(value)?;
            let label = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x05] => "serialNumber",
                [0x55, 0x04, 0x06] => "C",
                [0x55, 0x04, 0x07] => "L",
                [0x55, 0x04, 0x08] => "ST",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                _ => continue,
            };
            // UTF8String, PrintableString, IA5String, TeletexString: as text, no controls.
            if matches!(tag, 0x0c | 0x13 | 0x16 | 0x14) {
                let text: String = String::from_utf8_lossy(value)
                    .chars()
                    .take(200)
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect();
                parts.push(format!("{label}={text}"));
            }
        }
    }
    Some(parts.join(", "))
}

/// One DER item: its tag, its contents and what follows it.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificates_subject_is_read_for_the_audit_log() {
        let mut params =
            rcgen::CertificateParams::new(vec!["device-1.trust.example".into()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "LAPTOP-0042\nforged");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example NHS Trust");
        let key = rcgen::KeyPair::generate().expect("key");
        let certificate = params.self_signed(&key).expect("certificate");
        let subject = subject_of(certificate.der());
        assert!(subject.contains("CN=LAPTOP-0042 forged"), "{subject}");
        assert!(subject.contains("O=Example NHS Trust"), "{subject}");
        assert_eq!(
            subject_of(&CertificateDer::from(vec![0x30, 0x84, 0xff])),
            "(unreadable subject)"
        );
        assert_eq!(
            subject_of(&CertificateDer::from(Vec::new())),
            "(unreadable subject)"
        );
    }
}
