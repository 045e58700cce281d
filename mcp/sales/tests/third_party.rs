//! The server driven by a real third-party MCP client, the official Python SDK (`mcp` on PyPI,
//! pinned in scripts/requirements-tools.txt and installed into `.tools/venv` by
//! scripts/dev-services.sh): once over stdio (the SDK starts the server binary), once over
//! streamable HTTP at `/mcp` with a bearer token. A missing SDK fails the test with what to do.

mod common;

use std::{path::PathBuf, process::Command};

use common::*;
use promptsales_mcp_kit::{McpArgs, serve};
use promptsales_mcp_sales::SalesServer;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// The Python of the repository's tool venv, checked to have the MCP SDK.
fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("PROMPTSALES_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools/venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import mcp.client.streamable_http, mcp.client.stdio"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the Python MCP SDK is not installed at {}: run scripts/dev-services.sh (it installs \
         scripts/requirements-tools.txt into .tools/venv), or set PROMPTSALES_PYTHON to a Python with `mcp` installed",
        python.display()
    );
    python
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py")
}

async fn run_client(mut cmd: tokio::process::Command) -> Value {
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("the Python client finishes within two minutes")
        .expect("the Python client runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python client failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

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
    // The server state has no stdio token: over HTTP each request's own token is used.
    let state = {
        let s = shared(&stack, "unused", None);
        let kit = promptsales_mcp_kit::Kit {
            stdio_token: None,
            ..s.kit.clone()
        };
        promptsales_mcp_sales::Shared::new(kit, promptsales_mcp_sales::Clock::Fixed(TODAY.parse().expect("date")))
    };
    let mut args = McpArgs::local(0);
    args.gateway_url = stack.gateway_url().parse().expect("url");
    let cancel = CancellationToken::new();
    let router = serve::http_router(
        "mcp-sales",
        &args,
        state.kit.gateway.clone(),
        move || SalesServer::new(state.clone()),
        cancel.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
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
