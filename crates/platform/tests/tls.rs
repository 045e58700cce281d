//! The TLS listeners of `platform::service::serve`: TLS 1.3 only, a GraphQL request over https
//! with a client that trusts the generated CA, the peer address for handlers, clear start-up
//! errors for unusable files, and graceful shutdown.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use async_graphql_axum::GraphQL;
use axum::{Router, extract::ConnectInfo, routing::get};
use promptsales_platform::{
    dev_certs::{self, LOOPBACK_NAMES},
    service,
    tls::{TlsError, TlsFiles},
};
use rustls::{
    ClientConfig, RootCertStore,
    pki_types::{CertificateDer, ServerName, pem::PemObject},
};
use tokio::{net::TcpStream, sync::oneshot};
use tokio_rustls::TlsConnector;

struct Query;

#[Object]
impl Query {
    async fn greeting(&self) -> &str {
        "hello over tls"
    }
}

/// Certificate files in a temporary directory: the CA, and `a` and `b` signed by it.
struct Files {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl Files {
    fn new() -> Files {
        let pki = dev_certs::generate(&["a", "b"], &LOOPBACK_NAMES).expect("generate");
        let dir = tempfile::tempdir().expect("tempdir");
        for s in &pki.services {
            std::fs::write(dir.path().join(format!("{}.pem", s.name)), &s.cert_pem).expect("write");
            std::fs::write(dir.path().join(format!("{}-key.pem", s.name)), &s.key_pem).expect("write");
        }
        Files {
            dir,
            ca_pem: pki.ca_pem,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn files(&self, cert: &str, key: &str) -> TlsFiles {
        TlsFiles {
            cert: self.path(cert),
            key: self.path(key),
        }
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(cert.expect("pem")).expect("a CA certificate");
        }
        roots
    }
}

struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(files: &Files) -> Server {
    let tls = files.files("a.pem", "a-key.pem").load().expect("a usable pair");
    let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
    let router = Router::new().route_service("/graphql", GraphQL::new(schema)).route(
        "/peer",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(service::serve_until(listener, router, Some(tls), async {
        let _ = stopped.await;
    }));
    Server { addr, stop, task }
}

fn client_config(files: &Files, versions: &[&'static rustls::SupportedProtocolVersion]) -> Arc<ClientConfig> {
    Arc::new(
        ClientConfig::builder_with_provider(promptsales_platform::tls::provider())
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(files.roots())
            .with_no_client_auth(),
    )
}

async fn handshake(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
}

#[tokio::test]
async fn should_serve_graphql_over_tls_1_3_to_a_client_trusting_the_ca() {
    let files = Files::new();
    let server = start(&files).await;

    let stream = handshake(
        server.addr,
        client_config(&files, &[&rustls::version::TLS13, &rustls::version::TLS12]),
    )
    .await
    .expect("a TLS 1.3 handshake");
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );

    let ca = reqwest::Certificate::from_pem(files.ca_pem.as_bytes()).expect("ca");
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let port = server.addr.port();
    let response = client
        .post(format!("https://localhost:{port}/graphql"))
        .json(&serde_json::json!({ "query": "{ greeting }" }))
        .send()
        .await
        .expect("an https request");
    // ALPN offers h2 and the client takes it.
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body, serde_json::json!({ "data": { "greeting": "hello over tls" } }));

    // Handlers still see who connected (the gateway's audit log reads it).
    let peer = client
        .get(format!("https://127.0.0.1:{port}/peer"))
        .send()
        .await
        .expect("by IP address too")
        .text()
        .await
        .expect("text");
    assert_eq!(peer, "127.0.0.1");

    // Graceful shutdown still ends the server.
    let _ = server.stop.send(());
    server.task.await.expect("joined").expect("a clean stop");
}

#[tokio::test]
async fn should_refuse_a_client_limited_to_tls_1_2() {
    let files = Files::new();
    let server = start(&files).await;
    let refused = handshake(server.addr, client_config(&files, &[&rustls::version::TLS12])).await;
    let error = refused.expect_err("TLS 1.2 is not offered").to_string();
    assert!(error.to_lowercase().contains("protocolversion"), "{error}");
    // One refused client does not stop the listener.
    handshake(server.addr, client_config(&files, &[&rustls::version::TLS13]))
        .await
        .expect("TLS 1.3 still works");
}

#[tokio::test]
async fn should_refuse_a_client_that_does_not_trust_the_ca() {
    let files = Files::new();
    let server = start(&files).await;
    let other = Files::new();
    let refused = handshake(server.addr, client_config(&other, &[&rustls::version::TLS13])).await;
    let error = refused
        .expect_err("another CA's client refuses the certificate")
        .to_string();
    // Both CAs carry the same name, so the client finds "its" CA and the signature fails.
    assert!(error.contains("invalid peer certificate"), "{error}");
}

#[test]
fn should_say_which_file_is_wrong_and_how() {
    let files = Files::new();
    let missing = files.files("nope.pem", "a-key.pem").load().expect_err("missing");
    assert!(matches!(missing, TlsError::Read { .. }), "{missing}");
    assert!(missing.to_string().contains("nope.pem"), "{missing}");

    std::fs::write(files.path("junk.pem"), "not a certificate").expect("write");
    let junk = files.files("junk.pem", "a-key.pem").load().expect_err("junk");
    assert!(matches!(junk, TlsError::NoCertificate(_)), "{junk}");

    // A certificate where the key should be.
    let no_key = files.files("a.pem", "a.pem").load().expect_err("no key");
    assert!(matches!(no_key, TlsError::NoKey(_)), "{no_key}");

    // b's key with a's certificate.
    let mismatch = files.files("a.pem", "b-key.pem").load().expect_err("not a pair");
    assert!(matches!(mismatch, TlsError::Pair { .. }), "{mismatch}");
    assert!(
        mismatch.to_string().contains("a.pem") && mismatch.to_string().contains("b-key.pem"),
        "{mismatch}"
    );

    files.files("b.pem", "b-key.pem").load().expect("b's pair is fine");
}
