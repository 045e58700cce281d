//! The whole stack in-process (four seeded subgraphs and the gateway requiring real bearer
//! tokens) and the sales MCP server in front of it, reached by an rmcp client over an in-memory
//! pipe, as a stdio client reaches it.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::{path::PathBuf, process::Command, sync::Arc, time::Duration};

use promptsales_e2e::TestStack;
use promptsales_mcp_kit::{
    AnswerCache, GatewayClient, Kit,
    rmcp::{
        RoleClient, ServiceExt,
        model::{CallToolRequestParams, CallToolResult},
        service::RunningService,
    },
};
use promptsales_mcp_sales::{Clock, MODEL, SalesServer, Shared};
use promptsales_platform::Secret;
use serde_json::Value;

/// The seeded data's "today".
pub const TODAY: &str = "2025-10-31";

/// Every scope a marketer's assistant needs: reads, and `sales:write` to record its calls.
pub const SCOPES: &[&str] = &["ads:read", "content:read", "crm:read", "sales:read", "sales:write"];

pub fn redis_url() -> String {
    std::env::var("PROMPTSALES_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A key prefix of this test's own in Redis.
pub fn prefix() -> String {
    format!("ps:test-{}:", uuid::Uuid::new_v4())
}

pub async fn stack() -> TestStack {
    TestStack::builder().with_auth().start().await
}

/// Server state over `stack`'s gateway, calling as `token`, caching under `prefix` (no cache when `None`).
pub fn shared(stack: &TestStack, token: &str, prefix: Option<&str>) -> Arc<Shared> {
    let gateway = GatewayClient::new(stack.gateway_url().parse().expect("a URL"), Duration::from_secs(30))
        .expect("a gateway client");
    let cache = match prefix {
        Some(p) => AnswerCache::new(Some(&redis_url()), p, Duration::from_secs(300)).expect("a cache"),
        None => AnswerCache::off(),
    };
    let kit = Kit {
        gateway,
        cache,
        stdio_token: Some(Secret::new(token.to_owned())),
        model: MODEL,
    };
    Shared::new(kit, Clock::Fixed(TODAY.parse().expect("a date")))
}

pub type Client = RunningService<RoleClient, ()>;

/// An rmcp client connected to a fresh server over an in-memory pipe.
pub async fn client(shared: Arc<Shared>) -> Client {
    let (server_end, client_end) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = SalesServer::new(shared).serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_end).await.expect("the client connects")
}

/// Calls `tool` with `arguments`; returns the result.
pub async fn call(client: &Client, tool: &'static str, arguments: Value) -> CallToolResult {
    let Value::Object(args) = arguments else {
        panic!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The structured answer of a successful call.
pub fn structured(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "tool error: {:?}", result.content);
    result.structured_content.clone().expect("a structured answer")
}

pub fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string, got {v}"))
        .parse()
        .expect("a decimal")
}

/// The Python of the repository's tool venv, checked to have the MCP SDK.
pub fn python() -> PathBuf {
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

pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py")
}

pub async fn run_client(mut cmd: tokio::process::Command) -> Value {
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

/// The sales MCP server over streamable HTTP on a free local port, in front of `stack`'s gateway,
/// with no stdio token (each request brings its own); its address, and what stops its sessions.
pub async fn serve_http(stack: &TestStack) -> (std::net::SocketAddr, tokio_util::sync::CancellationToken) {
    let state = {
        let s = shared(stack, "unused", None);
        let kit = Kit {
            stdio_token: None,
            ..s.kit.clone()
        };
        Shared::new(kit, Clock::Fixed(TODAY.parse().expect("a date")))
    };
    let mut args = promptsales_mcp_kit::McpArgs::local(0);
    args.gateway_url = stack.gateway_url().parse().expect("url");
    let cancel = tokio_util::sync::CancellationToken::new();
    let router = promptsales_mcp_kit::serve::http_router(
        "mcp-sales",
        &args,
        state.kit.gateway.clone(),
        move || SalesServer::new(state.clone()),
        cancel.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, cancel)
}
