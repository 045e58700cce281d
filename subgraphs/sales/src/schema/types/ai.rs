//! The AI usage log: one record per AI call (MCP tool or portal feature).

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Organization, ValidationMethod, id};
use promptsales_platform::gql;

use crate::schema::{has_scope, loader, loaders};
use crate::store;

/// The gateway enforces `@requiresScopes`; the texts are checked here as well, so a subgraph
/// reached by a caller without `admin` never returns them.
fn admin_only(ctx: &Context<'_>) -> Result<()> {
    if has_scope(ctx, "admin") {
        Ok(())
    } else {
        Err(gql::error(
            gql::ErrorCode::Forbidden,
            "prompt and result texts need the admin scope",
        ))
    }
}

pub struct AiUsage(pub store::AiUsage);

/// One AI call: which tool and model, tokens, cost, latency and how its output was validated.
/// Readable with `sales:read` (a tenant sees its own calls) or `admin`; the prompt and result texts
/// need `admin`.
#[Object(requires_scopes = "admin", requires_scopes = "sales:read")]
impl AiUsage {
    /// Stable id of the call record.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// When the call was made.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Subject of the caller's token (a user or a client id).
    async fn actor_subject(&self) -> &str {
        &self.0.actor_subject
    }
    /// MCP tool name or product feature that made the call.
    async fn tool(&self) -> &str {
        &self.0.tool
    }
    /// Model called.
    async fn model(&self) -> &str {
        &self.0.model
    }
    /// The prompt as sent (already redacted of personal data by the caller).
    #[graphql(requires_scopes = "admin")]
    async fn prompt(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        admin_only(ctx)?;
        Ok(self.0.prompt.as_deref())
    }
    /// What the model returned.
    #[graphql(requires_scopes = "admin")]
    async fn result(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        admin_only(ctx)?;
        Ok(self.0.result.as_deref())
    }
    /// How the output was checked.
    async fn validation_method(&self) -> Result<ValidationMethod> {
        ValidationMethod::from_db(&self.0.validation_method)
    }
    /// Verdict of the validation; null when not validated (yet).
    async fn validated(&self) -> Option<bool> {
        self.0.validated
    }
    /// Prompt tokens billed.
    async fn tokens_in(&self) -> i32 {
        self.0.tokens_in
    }
    /// Completion tokens billed.
    async fn tokens_out(&self) -> i32 {
        self.0.tokens_out
    }
    /// Served from the LLM cache: no tokens billed.
    async fn cache_hit(&self) -> bool {
        self.0.cache_hit
    }
    /// Time the call took, in milliseconds.
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    /// Provider cost in USD (six decimals: per-token prices are fractions of a cent).
    async fn cost_usd(&self) -> Decimal {
        self.0.cost_usd
    }
    /// Request id of the call, to find its logs.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// The organization the call was made for; null for staff calls.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        let Some(org) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(loader(ctx).load_one(loaders::OrgId(org)).await?.map(Organization))
    }
}
