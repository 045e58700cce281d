//! The gateway binary over TLS: it serves https (TLS 1.3) with the configured certificate,
//! fetches subgraphs over https trusting the CA of `PROMPTSALES_TLS_CA`, and refuses a subgraph
//! whose certificate comes from a CA it does not trust (a fetch error, partial data), never
//! falling back to an unverified connection.

mod fixtures;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use async_graphql_axum::GraphQL;
use axum::Router;
use promptsales_platform::{dev_certs, service, tls::TlsFiles};
use serde_json::{Value, json};

/// Writes a fresh CA and certificates for `services` into `dir`; returns the CA's path.
fn write_pki(dir: &Path, services: &[&str]) -> std::path::PathBuf {
    let pki = dev_certs::generate(services, &dev_certs::LOOPBACK_NAMES).expect("certificates");
    std::fs::create_dir_all(dir).expect("dir");
    for s in &pki.services {
        std::fs::write(dir.join(format!("{}.pem", s.name)), &s.cert_pem).expect("write");
        std::fs::write(dir.join(format!("{}-key.pem", s.name)), &s.key_pem).expect("write");
    }
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).expect("write");
    dir.join("ca.pem")
}

/// Serves a fixture subgraph over TLS on a free port; its URL.
async fn subgraph(router: Router, dir: &Path, name: &str) -> String {
    let tls = TlsFiles {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}-key.pem")),
    }
    .load()
    .expect("a usable pair");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(service::serve_until(
        listener,
        router,
        Some(tls),
        std::future::pending(),
    ));
    format!("https://localhost:{port}/graphql")
}

/// The gateway binary, killed when dropped.
struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_gateway(config: &Path, envs: &[(&str, &Path)]) -> Gateway {
    let supergraph = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/supergraph.graphql");
    let mut command = Command::new(env!("CARGO_BIN_EXE_promptsales-gateway"));
    command
        .arg("--supergraph")
        .arg(supergraph)
        .arg("--config")
        .arg(config)
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("PROMPTSALES_TLS_CERT")
        .env_remove("PROMPTSALES_TLS_KEY")
        .env_remove("PROMPTSALES_TLS_CA")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start the gateway");
    let stderr = child.stderr.take().expect("piped");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the gateway stopped before it listened")
            .expect("a log line");
        let Ok(entry) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "listening" {
            let address = entry["fields"]["address"].as_str().expect("address");
            assert_eq!(entry["fields"]["scheme"], "https", "{line}");
            break address.parse::<SocketAddr>().expect("a socket address");
        }
    };
    // Keep draining the log so the gateway never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Gateway { child, addr }
}

#[tokio::test]
async fn should_fetch_trusted_subgraphs_over_tls_and_refuse_one_from_an_unknown_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trusted = dir.path().join("trusted");
    let ca = write_pki(&trusted, &["gateway", "accounts"]);
    let stranger = dir.path().join("stranger");
    write_pki(&stranger, &["products"]);

    let accounts = subgraph(
        Router::new().route_service("/graphql", GraphQL::new(fixtures::accounts::schema())),
        &trusted,
        "accounts",
    )
    .await;
    let products = subgraph(
        Router::new().route_service("/graphql", GraphQL::new(fixtures::products::schema())),
        &stranger,
        "products",
    )
    .await;
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            "gateway:\n  subgraph_urls:\n    accounts: {accounts}\n    products: {products}\n\
             supergraph:\n  reload_interval_secs: 0\nhttp:\n  anonymous_scopes: []\n"
        ),
    )
    .expect("config");
    let gateway = start_gateway(
        &config,
        &[
            ("PROMPTSALES_TLS_CERT", &trusted.join("gateway.pem")),
            ("PROMPTSALES_TLS_KEY", &trusted.join("gateway-key.pem")),
            ("PROMPTSALES_TLS_CA", &ca),
        ],
    );

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).expect("ca")).expect("pem"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let port = gateway.addr.port();
    let body: Value = client
        .post(format!("https://localhost:{port}/graphql"))
        .json(&json!({ "query": "{ me { username } topProducts { upc } }" }))
        .send()
        .await
        .expect("the gateway answers over https")
        .json()
        .await
        .expect("json");
    // accounts' certificate is from the trusted CA: its data arrives.
    assert_eq!(body["data"]["me"], json!({ "username": "ada" }), "{body}");
    // products' is from a CA the gateway does not trust: refused, as a fetch error.
    assert_eq!(body["data"]["topProducts"], Value::Null, "{body}");
    let errors = body["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains("products"))),
        "{body}"
    );
}

#[test]
fn should_refuse_to_start_with_an_unusable_certificate_or_ca_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("gateway.yaml");
    std::fs::write(&config, "supergraph:\n  reload_interval_secs: 0\n").expect("config");
    let supergraph = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/supergraph.graphql");
    let missing = dir.path().join("missing.pem");
    for (envs, expected) in [
        (vec![("PROMPTSALES_TLS_CA", &missing)], "missing.pem"),
        (vec![("PROMPTSALES_TLS_CERT", &missing)], "PROMPTSALES_TLS_KEY is not"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_promptsales-gateway"));
        command
            .arg("--supergraph")
            .arg(&supergraph)
            .arg("--config")
            .arg(&config)
            .env("PORT", "0")
            .env_remove("PROMPTSALES_TLS_CERT")
            .env_remove("PROMPTSALES_TLS_KEY")
            .env_remove("PROMPTSALES_TLS_CA");
        for (name, value) in &envs {
            command.env(name, value);
        }
        let out = command.output().expect("run the gateway");
        assert!(!out.status.success(), "it started with {envs:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{envs:?}: {stderr}");
    }
}

/// An ES256 key: its encoding key and its public JWK.
fn es256_key(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use p256::{elliptic_curve::sec1::ToEncodedPoint, pkcs8::EncodePrivateKey};
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let der = secret.to_pkcs8_der().expect("PKCS#8");
    let point = secret.public_key().to_encoded_point(false);
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")), "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
    });
    (jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()), jwk)
}

fn access_token(key: &jsonwebtoken::EncodingKey, kid: &str, issuer: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("at+jwt".to_owned());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let claims = json!({ "iss": issuer, "aud": "api", "sub": "user-1", "exp": now + 300, "scope": "" });
    jsonwebtoken::encode(&header, &claims, key).expect("signs")
}

#[tokio::test]
async fn should_fetch_the_jwks_over_tls_only_from_an_identity_provider_with_a_trusted_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trusted = dir.path().join("trusted");
    let ca = write_pki(&trusted, &["gateway", "accounts", "idp"]);
    let stranger = dir.path().join("stranger");
    write_pki(&stranger, &["idp"]);
    let accounts = subgraph(
        Router::new().route_service("/graphql", GraphQL::new(fixtures::accounts::schema())),
        &trusted,
        "accounts",
    )
    .await;
    // Two identity providers with the same key: one behind a trusted certificate, one not.
    let (key, jwk) = es256_key("k1");
    let jwks = Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let jwk = jwk.clone();
            async move { axum::Json(json!({ "keys": [jwk] })) }
        }),
    );
    let good_jwks = subgraph(jwks.clone(), &trusted, "idp")
        .await
        .replace("/graphql", "/jwks");
    let bad_jwks = subgraph(jwks, &stranger, "idp").await.replace("/graphql", "/jwks");
    // Unique issuers: the gateway shares fetched keys through Redis by issuer.
    let run = uuid::Uuid::new_v4();
    let (good, bad) = (format!("https://good-{run}.test/"), format!("https://bad-{run}.test/"));
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            "gateway:\n  subgraph_urls:\n    accounts: {accounts}\nsupergraph:\n  reload_interval_secs: 0\n\
             auth:\n  issuers:\n\
             \x20   - {{issuer: \"{good}\", audiences: [api], jwks_url: \"{good_jwks}\", algorithms: [ES256]}}\n\
             \x20   - {{issuer: \"{bad}\", audiences: [api], jwks_url: \"{bad_jwks}\", algorithms: [ES256]}}\n"
        ),
    )
    .expect("config");
    let gateway = start_gateway(
        &config,
        &[
            ("PROMPTSALES_TLS_CERT", &trusted.join("gateway.pem")),
            ("PROMPTSALES_TLS_KEY", &trusted.join("gateway-key.pem")),
            ("PROMPTSALES_TLS_CA", &ca),
        ],
    );
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).expect("ca")).expect("pem"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let url = format!("https://localhost:{}/graphql", gateway.addr.port());
    let send = |token: String| {
        client
            .post(&url)
            .bearer_auth(token)
            .json(&json!({ "query": "{ me { username } }" }))
            .send()
    };
    // The gateway fetches the keys in the background at start; a token that arrives while that
    // fetch is in flight is refused, so wait for it.
    let mut ok = send(access_token(&key, "k1", &good)).await.expect("answers");
    for _ in 0..100 {
        if ok.status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        ok = send(access_token(&key, "k1", &good)).await.expect("answers");
    }
    assert_eq!(ok.status(), 200, "{:?}", ok.headers().get("www-authenticate"));
    let body: Value = ok.json().await.expect("json");
    assert_eq!(body["data"]["me"], json!({ "username": "ada" }), "{body}");
    // The other provider's keys never arrive: its certificate is not from a trusted CA.
    let refused = send(access_token(&key, "k1", &bad)).await.expect("answers");
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(challenge.contains("signing key is unknown"), "{challenge}");
}
