//! The whole stack in-process (four seeded subgraphs, the content one with the real embedding
//! model, and the gateway requiring real bearer tokens) and the content MCP server in front of
//! it, reached by an rmcp client over an in-memory pipe, as a stdio client reaches it.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::{sync::Arc, time::Duration};

use promptsales_e2e::TestStack;
use promptsales_mcp_content::{ContentServer, MODEL, Shared, generate::LlmCache};
use promptsales_mcp_kit::{
    AnswerCache, GatewayClient, Kit,
    rmcp::{
        RoleClient, ServiceExt,
        model::{CallToolRequestParams, CallToolResult},
        service::RunningService,
    },
};
use promptsales_platform::Secret;
use serde_json::Value;
use uuid::Uuid;

/// What a marketer's assistant needs: read and write content, and `sales:write` to record calls.
pub const SCOPES: &[&str] = &["content:read", "content:write", "ads:read", "sales:read", "sales:write"];

pub async fn stack() -> TestStack {
    // The content subgraph's first search embeds every seeded description and builds the index:
    // seconds in a debug build, longer on a busy machine; the default 5 s would cut it off.
    TestStack::builder()
        .with_auth()
        .subgraph_timeout(Duration::from_secs(60))
        .start()
        .await
}

/// A campaign of the seed and its organization.
pub async fn campaign(stack: &TestStack) -> (Uuid, Uuid) {
    sqlx::query_as("SELECT id, organization_id FROM ads.campaigns WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
        .fetch_one(stack.stores.ads.pool())
        .await
        .expect("a seeded campaign")
}

/// A portal user's token of `org` (a UUID subject: content requests name their requester).
pub fn user_token(stack: &TestStack, org: Uuid, scopes: &[&str]) -> (String, String) {
    let subject = Uuid::new_v4().to_string();
    let token = stack.token(&subject, scopes, Some(&org.to_string()));
    (subject, token)
}

/// Server state over `stack`'s gateway, calling as `token` over the pipe; no caches.
pub fn shared(stack: &TestStack, token: &str) -> Arc<Shared> {
    let gateway = GatewayClient::new(stack.gateway_url().parse().expect("a URL"), Duration::from_secs(60))
        .expect("a gateway client");
    let kit = Kit {
        gateway,
        cache: AnswerCache::off(),
        stdio_token: Some(Secret::new(token.to_owned())),
        model: MODEL,
    };
    Arc::new(Shared {
        kit,
        llm: None,
        llm_cache: LlmCache::new(None),
    })
}

pub type Client = RunningService<RoleClient, ()>;

/// An rmcp client connected to a fresh server over an in-memory pipe.
pub async fn client(shared: Arc<Shared>) -> Client {
    let (server_end, client_end) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = ContentServer::new(shared).serve(server_end).await {
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

/// The text of a tool error.
pub fn error_text(result: &CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a tool error: {:?}",
        result.structured_content
    );
    format!("{:?}", result.content)
}
