//! The server driven by a real third-party MCP client, the official Python SDK (`mcp` on PyPI,
//! pinned in scripts/requirements-tools.txt and installed into `.tools/venv` by
//! scripts/dev-services.sh): once over stdio (the SDK starts the server binary), once over
//! streamable HTTP at `/mcp` with a bearer token, and once over https (the server binary with a
//! certificate, TLS 1.3). A missing SDK fails the test with what to do.

mod common;

use common::*;
use serde_json::Value;

fn check(out: &Value) {
    let tools: Vec<&str> = out["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(tools.contains(&"ask") && tools.contains(&"top_campaigns"), "{tools:?}");
    assert_eq!(out["is_error"], false, "{out}");
    let answer = &out["structured"];
    assert_eq!(answer["understood"]["language"], "es", "{out}");
    assert_eq!(answer["interpretation"]["period"]["from"], "2025-09-01", "{out}");
    assert!(
        answer["answer"]["totals"]["sales"].as_i64().is_some_and(|s| s > 0),
        "{out}"
    );
    assert!(out["text"][0].as_str().is_some_and(|t| t.contains("ventas")), "{out}");
}

#[tokio::test]
async fn should_serve_the_python_sdk_over_stdio() {
    let python = python();
    let stack = stack().await;
    let token = stack.token("stdio-user", SCOPES, None);
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script())
        .arg("stdio")
        .arg(env!("CARGO_BIN_EXE_promptsales-mcp-sales"))
        .env("PROMPTSALES_MCP_TRANSPORT", "stdio")
        .env("PROMPTSALES_GATEWAY_URL", stack.gateway_url())
        .env("PROMPTSALES_MCP_TOKEN", &token)
        .env("PROMPTSALES_MCP_TODAY", TODAY)
        .env("PROMPTSALES_MCP_CACHE_TTL_SECS", "0")
        .env("RUST_LOG", "warn");
    let out = run_client(cmd).await;
    check(&out);
    let subjects: Vec<(String,)> = sqlx::query_as("SELECT actor_subject FROM sales.ai_usage")
        .fetch_all(stack.stores.sales.pool())
        .await
        .expect("usage");
    assert_eq!(subjects, [("stdio-user".to_owned(),)]);
}

#[tokio::test]
async fn should_serve_the_python_sdk_over_streamable_http_with_its_bearer_token() {
    let python = python();
    let stack = stack().await;
    let token = stack.token("http-user", SCOPES, None);
    let (addr, cancel) = serve_http(&stack).await;
    let url = format!("http://{addr}/mcp");

    // Without a token: 401 with a bearer challenge, before any MCP processing.
    let refused = reqwest_free_post(&url).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("www-authenticate: bearer"),
        "{refused}"
    );

    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script()).arg("http").arg(&url).arg(&token);
    let out = run_client(cmd).await;
    check(&out);
    cancel.cancel();
    let subjects: Vec<(String,)> = sqlx::query_as("SELECT actor_subject FROM sales.ai_usage")
        .fetch_all(stack.stores.sales.pool())
        .await
        .expect("usage");
    assert_eq!(
        subjects,
        [("http-user".to_owned(),)],
        "the call was recorded as the HTTP caller"
    );
}

/// The server binary over https: `PROMPTSALES_TLS_CERT`/`KEY` name a certificate of a fresh CA,
/// the Python SDK trusts only that CA and accepts nothing older than TLS 1.3, and the whole
/// session (initialize, tools, a question) goes over it. A client that does not trust the CA is
/// refused at the handshake: there is no plain-text fallback on that port.
#[tokio::test]
async fn should_serve_the_python_sdk_over_tls_from_the_server_binary() {
    let python = python();
    let stack = stack().await;
    let token = stack.token("tls-user", SCOPES, None);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let pki =
        promptsales_platform::dev_certs::generate(&["mcp-sales"], &promptsales_platform::dev_certs::LOOPBACK_NAMES)
            .expect("certificates");
    let (cert, key, ca) = (
        dir.path().join("mcp.pem"),
        dir.path().join("mcp-key.pem"),
        dir.path().join("ca.pem"),
    );
    std::fs::write(&cert, &pki.services[0].cert_pem).expect("write");
    std::fs::write(&key, &pki.services[0].key_pem).expect("write");
    std::fs::write(&ca, &pki.ca_pem).expect("write");

    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_promptsales-mcp-sales"));
    server
        .env("PROMPTSALES_MCP_TRANSPORT", "http")
        .env("PORT", "0")
        .env("PROMPTSALES_TLS_CERT", &cert)
        .env("PROMPTSALES_TLS_KEY", &key)
        .env_remove("PROMPTSALES_TLS_CA")
        .env("PROMPTSALES_GATEWAY_URL", stack.gateway_url())
        .env("PROMPTSALES_MCP_TODAY", TODAY)
        .env("PROMPTSALES_MCP_CACHE_TTL_SECS", "0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut server = server.spawn().expect("start the server binary");
    let port = listening_port(&mut server).await;
    let url = format!("https://localhost:{port}/mcp");

    // A client without our CA cannot even complete the handshake.
    let stranger = reqwest::Client::builder()
        .use_rustls_tls()
        .build()
        .expect("a client")
        .post(&url)
        .bearer_auth(&token)
        .send()
        .await;
    assert!(stranger.is_err(), "an unknown CA must be refused: {stranger:?}");

    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script())
        .arg("http")
        .arg(&url)
        .arg(&token)
        .env("MCP_CA_FILE", &ca);
    let out = run_client(cmd).await;
    check(&out);
    let subjects: Vec<(String,)> = sqlx::query_as("SELECT actor_subject FROM sales.ai_usage")
        .fetch_all(stack.stores.sales.pool())
        .await
        .expect("usage");
    assert_eq!(subjects, [("tls-user".to_owned(),)]);
}

/// Reads the server's JSON log until it says where it listens (over https); the port. The rest of
/// the log is drained so the server never blocks on a full pipe.
async fn listening_port(server: &mut tokio::process::Child) -> u16 {
    use tokio::io::AsyncBufReadExt;
    let stderr = server.stderr.take().expect("piped");
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let port = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            let line = lines
                .next_line()
                .await
                .expect("the server's log")
                .expect("the server stopped before it listened");
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if entry["fields"]["message"] == "listening" {
                assert_eq!(entry["fields"]["scheme"], "https", "{line}");
                let address: std::net::SocketAddr = entry["fields"]["address"]
                    .as_str()
                    .expect("an address")
                    .parse()
                    .expect("a socket address");
                return address.port();
            }
        }
    })
    .await
    .expect("the server listens within a minute");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    port
}

/// A POST to `url` without credentials, over a plain TCP connection; returns the raw response head.
async fn reqwest_free_post(url: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("authority")
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&authority).await.expect("connect");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    out
}
