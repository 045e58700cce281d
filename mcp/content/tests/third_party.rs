//! The server driven by a real third-party MCP client, the official Python SDK (`mcp` on PyPI,
//! pinned in scripts/requirements-tools.txt and installed into `.tools/venv` by
//! scripts/dev-services.sh): once over stdio (the SDK starts the server binary), once over
//! streamable HTTP at `/mcp` with a bearer token. The SDK offers sampling, so the brief's
//! messages come from the client's "model". A missing SDK fails the test with what to do.

mod common;

use std::{path::PathBuf, process::Command};

use common::*;
use promptsales_mcp_content::ContentServer;
use promptsales_mcp_kit::{McpArgs, serve};
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
    let out = tokio::time::timeout(std::time::Duration::from_secs(180), cmd.output())
        .await
        .expect("the Python client finishes within three minutes")
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
    assert_eq!(
        out["tools"],
        serde_json::json!(["draftCampaignMessages", "getContent"]),
        "{out}"
    );
    assert_eq!(out["found_error"], false, "{out}");
    assert_eq!(out["found"]["images"].as_array().map(Vec::len), Some(3), "{out}");
    assert_eq!(out["bad_error"], true, "{out}");
    assert!(
        out["bad_text"][0].as_str().is_some_and(|t| t.contains("description")),
        "{out}"
    );
    assert_eq!(out["brief_error"], false, "{out}");
    assert_eq!(out["sampled"], 1, "the client's model was asked once: {out}");
    let population = &out["brief"]["populations"][0];
    assert_eq!(population["source"], "mcp-sampling", "{out}");
    assert_eq!(population["model"], "mcp-sampling:python-sdk-test-model", "{out}");
    assert_eq!(population["status"], "PENDING_APPROVAL", "{out}");
    assert!(
        population["messages"][2]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Compra hoy")),
        "{out}"
    );
}

async fn recorded_subjects(stack: &promptsales_e2e::TestStack) -> Vec<String> {
    sqlx::query_scalar("SELECT DISTINCT actor_subject FROM sales.ai_usage")
        .fetch_all(stack.stores.sales.pool())
        .await
        .expect("usage")
}

#[tokio::test]
async fn should_serve_the_python_sdk_over_stdio() {
    let python = python();
    let stack = stack().await;
    let (campaign, org) = campaign(&stack).await;
    let (subject, token) = user_token(&stack, org, SCOPES);
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script())
        .arg("stdio")
        .arg(env!("CARGO_BIN_EXE_promptsales-mcp-content"))
        .arg(campaign.to_string())
        .env("PROMPTSALES_MCP_TRANSPORT", "stdio")
        .env("PROMPTSALES_GATEWAY_URL", stack.gateway_url())
        .env("PROMPTSALES_MCP_TOKEN", &token)
        .env("PROMPTSALES_MCP_CACHE_TTL_SECS", "0")
        .env_remove("PROMPTSALES_LLM_URL")
        .env("RUST_LOG", "warn");
    let out = run_client(cmd).await;
    check(&out);
    assert_eq!(recorded_subjects(&stack).await, [subject]);
}

#[tokio::test]
async fn should_serve_the_python_sdk_over_streamable_http_with_its_bearer_token() {
    let python = python();
    let stack = stack().await;
    let (campaign, org) = campaign(&stack).await;
    let (subject, token) = user_token(&stack, org, SCOPES);
    // The server state has no stdio token: over HTTP each request's own token is used.
    let state = {
        let s = shared(&stack, "unused");
        std::sync::Arc::new(promptsales_mcp_content::Shared {
            kit: promptsales_mcp_kit::Kit {
                stdio_token: None,
                ..s.kit.clone()
            },
            llm: None,
            llm_cache: promptsales_mcp_content::generate::LlmCache::new(None),
        })
    };
    let mut args = McpArgs::local(0);
    args.gateway_url = stack.gateway_url().parse().expect("url");
    let cancel = CancellationToken::new();
    let router = serve::http_router(
        "mcp-content",
        &args,
        state.kit.gateway.clone(),
        move || ContentServer::new(state.clone()),
        cancel.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("http://{addr}/mcp");

    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(script())
        .arg("http")
        .arg(&url)
        .arg(&token)
        .arg(campaign.to_string());
    let out = run_client(cmd).await;
    check(&out);
    cancel.cancel();
    assert_eq!(
        recorded_subjects(&stack).await,
        [subject],
        "recorded as the HTTP caller"
    );
}
