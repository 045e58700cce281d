//! TLS for every PromptSales listener and the trust of their clients.
//!
//! A process serves HTTPS when `PROMPTSALES_TLS_CERT` and `PROMPTSALES_TLS_KEY` name a PEM
//! certificate chain and its private key, and plain HTTP when neither is set. Only TLS 1.3 is
//! offered: every client of ours (the gateway, reqwest, browsers, curl) speaks it, and dropping
//! 1.2 removes its weaker cipher suites and renegotiation-era options from the attack surface.
//! The crypto provider is named explicitly (ring) rather than taken from crate features, because
//! two providers are compiled into this workspace and rustls refuses to guess between them.
//!
//! Clients (the gateway's subgraph and JWKS fetchers) trust the web roots plus the PEM bundle
//! named by `PROMPTSALES_TLS_CA`, so a private CA (`promptsales certs`) works without ever
//! turning verification off.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Semaphore, mpsc},
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

/// The certificate chain (PEM) a process serves.
pub const CERT_ENV: &str = "PROMPTSALES_TLS_CERT";
/// The private key (PEM, PKCS#8, SEC1 or PKCS#1) of that certificate.
pub const KEY_ENV: &str = "PROMPTSALES_TLS_KEY";
/// Extra trusted CA certificates (PEM bundle) for the clients, beside the web roots.
pub const CA_ENV: &str = "PROMPTSALES_TLS_CA";

/// A client gets this long to finish its handshake; a stalled one must not hold a slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; more connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 1024;

/// Why TLS could not be set up. Each says which file and what was wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{CERT_ENV} is set but {KEY_ENV} is not: set both (or neither, for plain HTTP)")]
    MissingKey,
    #[error("{KEY_ENV} is set but {CERT_ENV} is not: set both (or neither, for plain HTTP)")]
    MissingCert,
    #[error("reading {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{} holds no PEM certificate", .0.display())]
    NoCertificate(PathBuf),
    #[error("{} holds no PEM private key (PKCS#8, SEC1 or PKCS#1)", .0.display())]
    NoKey(PathBuf),
    #[error("{path} is not valid PEM: {why}", path = .0.display(), why = .1)]
    Pem(PathBuf, String),
    #[error("the certificate {} and the key {} cannot be served together: {why}", cert.display(), key.display())]
    Pair { cert: PathBuf, key: PathBuf, why: String },
}

/// Where a server's certificate and key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// From `PROMPTSALES_TLS_CERT` / `PROMPTSALES_TLS_KEY`: `None` when neither is set (plain
    /// HTTP), an error when only one is, so a half-done configuration never silently serves
    /// plain text.
    pub fn from_env() -> Result<Option<TlsFiles>, TlsError> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        match (var(CERT_ENV), var(KEY_ENV)) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(TlsError::MissingKey),
            (None, Some(_)) => Err(TlsError::MissingCert),
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        }
    }

    /// Reads both files and checks that they belong together.
    pub fn load(&self) -> Result<ServerTls, TlsError> {
        server_config(&self.cert, &self.key).map(ServerTls)
    }
}

/// A loaded TLS 1.3 server configuration.
#[derive(Clone)]
pub struct ServerTls(Arc<ServerConfig>);

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls(TLS 1.3)")
    }
}

impl ServerTls {
    /// The TLS settings of this process from the environment (see [`TlsFiles::from_env`]),
    /// loaded: `None` for plain HTTP.
    pub fn from_env() -> Result<Option<ServerTls>, TlsError> {
        TlsFiles::from_env()?.map(|files| files.load()).transpose()
    }

    pub fn config(&self) -> Arc<ServerConfig> {
        self.0.clone()
    }
}

/// The crypto provider of every TLS configuration made here.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Every certificate of a PEM file, in order; an error when it holds none.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read("the certificate file", path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(path.to_owned(), e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

/// A TLS 1.3-only server configuration for the chain in `cert` and the key in `key`, which must
/// be the chain's first certificate's key. HTTP/2 and HTTP/1.1 are offered by ALPN.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_certificates(cert)?;
    let key_pem = read("the key file", key)?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey(key.to_owned()),
        other => TlsError::Pem(key.to_owned(), other.to_string()),
    })?;
    let pair = |why: String| TlsError::Pair {
        cert: cert.to_owned(),
        key: key.to_owned(),
        why,
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| pair(e.to_string()))?
        .with_no_client_auth()
        // Checks that the key is the certificate's (rustls compares the public keys).
        .with_single_cert(chain, private)
        .map_err(|e| pair(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The extra trusted CA certificates named by `PROMPTSALES_TLS_CA` (none when it is unset).
pub fn extra_roots_from_env() -> Result<Vec<CertificateDer<'static>>, TlsError> {
    match std::env::var_os(CA_ENV).filter(|v| !v.is_empty()) {
        None => Ok(Vec::new()),
        Some(path) => read_certificates(Path::new(&path)),
    }
}

/// [`extra_roots_from_env`] for places that cannot fail: a bundle that cannot be read is logged
/// and left out, so such a client trusts less (its TLS fetches fail), never more. Processes call
/// [`extra_roots_from_env`] at startup first, so a broken bundle stops them there.
pub fn extra_roots_or_none() -> Vec<CertificateDer<'static>> {
    extra_roots_from_env().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the extra CA bundle cannot be used; only the web roots are trusted");
        Vec::new()
    })
}

/// A listener that hands out connections whose TLS handshake has completed. Handshakes run in
/// their own tasks (bounded, with a timeout), so one slow or hostile client cannot hold up the
/// others; a failed handshake (a TLS 1.2-only client, plain HTTP on the TLS port) is logged at
/// debug level and dropped.
pub struct TlsListener {
    connections: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, tls: &ServerTls) -> io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, connections) = mpsc::channel(64);
        let acceptor = tokio::spawn(accept_loop(listener, TlsAcceptor::from(tls.config()), tx));
        Ok(TlsListener {
            connections,
            local,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // The server stopped accepting (graceful shutdown): so does the TCP listener.
        self.acceptor.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = tx.closed() => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = tx.send((stream, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.connections.recv().await {
            Some(connection) => connection,
            // The accept task only ends when this listener is dropped or aborted it.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
