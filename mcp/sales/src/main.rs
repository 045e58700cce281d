//! `promptsales-mcp-sales`: the PromptSales MCP server (streamable HTTP on :4102 at `/mcp`, or stdio).

use clap::Parser;
use promptsales_mcp_kit::serve;
use promptsales_mcp_sales::{Config, PORT, SalesServer, shared};
use promptsales_platform::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: over stdio, stdout carries the protocol.
    let _telemetry = telemetry::init("mcp-sales", "info")?;
    let config = Config::parse();
    // A broken extra CA bundle stops the start here, not at the first gateway call.
    promptsales_platform::tls::extra_roots_from_env()?;
    let state = shared(&config)?;
    let gateway = state.kit.gateway.clone();
    serve::run("mcp-sales", PORT, &config.mcp, gateway, move || {
        SalesServer::new(state.clone())
    })
    .await?;
    Ok(())
}
