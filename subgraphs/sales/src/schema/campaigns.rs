//! Queries for dashboards: campaign summaries and AI usage.

use std::str::FromStr;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use promptsales_platform::gql::{decode_cursor, encode_cursor, internal, page_size};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    AiUsage, CampaignStatus, CampaignSummary, CampaignSummaryOrder, Conn, DEFAULT_PAGE, MAX_PAGE, after_time,
    bad_cursor, connection, parse_id, store, tenant, time_cursor,
};
use crate::store::{After, SummaryFilter, SummaryKey, SummaryOrder};

#[derive(Default)]
pub struct CampaignQuery;

fn order_of(order: CampaignSummaryOrder) -> (SummaryOrder, &'static str) {
    match order {
        CampaignSummaryOrder::Revenue => (SummaryOrder::Revenue, "revenue"),
        CampaignSummaryOrder::Roi => (SummaryOrder::Roi, "roi"),
        CampaignSummaryOrder::StartsAt => (SummaryOrder::StartsAt, "starts_at"),
    }
}

/// A summary cursor names its order, so a cursor of one order is refused by another.
fn summary_cursor(order: &str, key: &SummaryKey, id: Uuid) -> String {
    let key = match key {
        SummaryKey::Amount(a) => a.to_string(),
        SummaryKey::Time(t) => t.to_rfc3339(),
    };
    encode_cursor(&[order, &key, &id.to_string()])
}

fn after_summary(after: Option<String>, order: SummaryOrder, code: &str) -> Result<Option<After<SummaryKey>>> {
    let Some(cursor) = after else {
        return Ok(None);
    };
    let parts = decode_cursor(&cursor, 3)?;
    if parts[0] != code {
        return Err(bad_cursor());
    }
    let key = match order {
        SummaryOrder::StartsAt => DateTime::parse_from_rfc3339(&parts[1])
            .map(|t| SummaryKey::Time(t.with_timezone(&Utc)))
            .map_err(|_| bad_cursor())?,
        SummaryOrder::Revenue | SummaryOrder::Roi => {
            SummaryKey::Amount(Decimal::from_str(&parts[1]).map_err(|_| bad_cursor())?)
        }
    };
    let id = Uuid::parse_str(&parts[2]).map_err(|_| bad_cursor())?;
    Ok(Some(After { key, id }))
}

#[Object]
impl CampaignQuery {
    /// Campaign results for dashboards, top first in the chosen order. A token bound to an
    /// organization sees only its own campaigns.
    #[graphql(requires_scopes = "sales:read")]
    async fn campaign_summaries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page (of the same order).")] after: Option<String>,
        #[graphql(desc = "Only the campaigns of this organization.")] organization_id: Option<ID>,
        #[graphql(desc = "Only campaigns in this status.")] status: Option<CampaignStatus>,
        #[graphql(desc = "Sort order, descending.", default_with = "CampaignSummaryOrder::StartsAt")]
        order_by: CampaignSummaryOrder,
    ) -> Result<Conn<CampaignSummary>> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let filter = SummaryFilter {
            organization: organization_id.map(|id| parse_id("organizationId", &id)).transpose()?,
            status: status.map(|s| s.as_db().to_owned()),
        };
        let (order, code) = order_of(order_by);
        let after = after_summary(after, order, code)?;
        let page = store(ctx)
            .campaign_summaries(tenant(ctx), &filter, order, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(
            page,
            |s| summary_cursor(code, &order.key_of(s), s.campaign_id),
            CampaignSummary,
        ))
    }

    /// AI calls (MCP tools and portal features), newest first: tokens, cost, latency and
    /// validation. Needs `sales:read` or `admin`; a token bound to an organization sees only the
    /// calls made for it, staff see all. The `prompt` and `result` texts need `admin`.
    #[graphql(requires_scopes = "admin", requires_scopes = "sales:read")]
    async fn ai_usage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only calls at or after this time.")] since: Option<DateTime<Utc>>,
    ) -> Result<Conn<AiUsage>> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let page = store(ctx)
            .ai_usage(tenant(ctx), since, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |u| time_cursor(u.occurred_at, u.id), AiUsage))
    }
}
