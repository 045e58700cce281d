//! The PromptSales MCP server: campaign performance for AI assistants, answered from the graph.
//!
//! Typed tools (performance, rankings, comparisons, trend, best weekday, channel mix, cost per
//! sale, negative sentiment) and `ask`, a free question in Spanish or English parsed offline into
//! the same structured [`query::Plan`]. Every number comes from GraphQL queries to the gateway
//! made with the caller's own token ([`promptsales_mcp_kit`]); answers are cached in Redis and
//! every call is recorded in `sales.ai_usage` through the gateway.

pub mod answer;
pub mod ask;
pub mod catalog;
pub mod dates;
pub mod engine;
pub mod lexicon;
pub mod query;
pub mod results;
pub mod server;
pub mod text;
pub mod tools;

use std::sync::Arc;

use chrono::NaiveDate;
use promptsales_mcp_kit::{AnswerCache, GatewayClient, Kit, McpArgs};
pub use server::{Clock, SalesServer, Shared};

/// The port of the HTTP transport (ARCHITECTURE.md).
pub const PORT: u16 = 4102;
/// Recorded as the `model` of every call: the answers come from the offline parser and the graph.
pub const MODEL: &str = "promptsales-offline-parser";

/// Settings of the sales MCP server (flags or environment).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "promptsales-mcp-sales",
    about = "PromptSales MCP server (campaign performance)"
)]
pub struct Config {
    #[command(flatten)]
    pub mcp: McpArgs,
    /// "Today" for relative dates in questions (YYYY-MM-DD); the system clock when absent.
    #[arg(long, env = "PROMPTSALES_MCP_TODAY")]
    pub today: Option<NaiveDate>,
}

/// The shared state of a server built from `config`.
pub fn shared(config: &Config) -> anyhow::Result<Arc<Shared>> {
    let gateway = GatewayClient::new(config.mcp.gateway_url.clone(), config.mcp.gateway_timeout())?;
    let cache = AnswerCache::new(
        config.mcp.redis_url.as_ref().map(|u| u.expose().as_str()),
        &config.mcp.cache_prefix,
        config.mcp.cache_ttl(),
    )?;
    let kit = Kit {
        gateway,
        cache,
        stdio_token: config.mcp.token.clone(),
        model: MODEL,
    };
    let clock = config.today.map_or(Clock::System, Clock::Fixed);
    Ok(Shared::new(kit, clock))
}
