//! What every PromptSales MCP server needs, written once (the sales server and, later, the
//! content server use it):
//!
//! - [`config`]: the settings deployments give (`PROMPTSALES_MCP_*`, `PROMPTSALES_GATEWAY_URL`,
//!   `PORT`, `PROMPTSALES_REDIS_URL`), as clap arguments with environment fallbacks;
//! - [`caller`]: who is calling — the bearer token of the HTTP request (rmcp hands the request's
//!   `http::request::Parts` to the handler in the request context's extensions), or over stdio the
//!   token given in `PROMPTSALES_MCP_TOKEN`;
//! - [`gateway`]: a GraphQL client of the gateway that forwards that token unchanged, so scopes,
//!   tenancy and PII masking apply to an assistant exactly as to a person. MCP servers never open
//!   a database;
//! - [`cache`]: answers kept in Redis under `ps:mcp:v1:{tool}:{hash}`, the hash covering the
//!   caller's token (see the module for why the token and not its claims);
//! - [`usage`]: every tool call recorded in `sales.ai_usage` through the gateway's
//!   `recordAiUsage` mutation;
//! - [`tool`]: the one path a tool call takes through cache, computation and usage record;
//! - [`serve`]: stdio, or streamable HTTP at `/mcp` beside `/healthz`, `/readyz` and `/metrics`.

pub mod cache;
pub mod caller;
pub mod config;
pub mod gateway;
pub mod serve;
pub mod tool;
pub mod usage;

pub use cache::AnswerCache;
pub use caller::Caller;
pub use config::{McpArgs, Transport};
pub use gateway::{GatewayClient, GatewayError};
pub use tool::{Kit, ToolCall, ToolError, ToolOutcome};

/// rmcp, as the kit builds on it (servers use the same version through this re-export).
pub use rmcp;
