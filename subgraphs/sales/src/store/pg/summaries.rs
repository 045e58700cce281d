//! Read models the ETL fills (campaign summaries and daily metrics) and the AI usage log.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ById, ByParent, group, limit, page, split};
use crate::store::{
    Actor, After, AiUsage, CampaignSummary, DailyMetric, DayRange, NewAiUsage, Page, Result, SummaryFilter, SummaryKey,
    SummaryOrder,
};

const SUMMARY_COLUMNS: &str = "campaign_id, organization_id, brand_id, product_id, name, status, starts_at, ends_at, \
     budget, reach, customers_reached, views, interactions, likes, sales_count, revenue, cost, roi, success_rate, \
     positive_reactions, negative_reactions, channels, markets, refreshed_at";
const AI_USAGE_COLUMNS: &str = "id, occurred_at, actor_subject, organization_id, tool, model, prompt, result, \
     validation_method, validated, tokens_in, tokens_out, cache_hit, latency_ms, cost_usd, request_id";

pub(super) async fn by_campaign(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<CampaignSummary> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM sales.campaign_summaries
         WHERE campaign_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
    );
    let rows = sqlx::query_as::<_, CampaignSummary>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|s| (s.campaign_id, s)).collect())
}

/// The sort expression of an order. ROI is NULL until money is spent; since `roi >= -1` (a CHECK),
/// -2 puts those campaigns after every real ROI in a descending list.
fn sort_key(order: SummaryOrder) -> &'static str {
    match order {
        SummaryOrder::Revenue => "revenue",
        SummaryOrder::Roi => "coalesce(roi, -2)",
        SummaryOrder::StartsAt => "starts_at",
    }
}

pub(super) async fn list(
    pool: &PgPool,
    tenant: Option<Uuid>,
    filter: &SummaryFilter,
    order: SummaryOrder,
    after: Option<After<SummaryKey>>,
    first: usize,
) -> Result<Page<CampaignSummary>> {
    let (key, after_id) = split(after);
    let (after_amount, after_time) = match key {
        Some(SummaryKey::Amount(a)) => (Some(a), None),
        Some(SummaryKey::Time(t)) => (None, Some(t)),
        None => (None, None),
    };
    let sort = sort_key(order);
    // The key parameter of this order: $4 for amounts, $5 for times.
    let key_param = if order == SummaryOrder::StartsAt {
        "$5::timestamptz"
    } else {
        "$4::numeric"
    };
    let condition = "deleted_at IS NULL AND ($1::uuid IS NULL OR organization_id = $1)
                     AND ($2::uuid IS NULL OR organization_id = $2) AND ($3::text IS NULL OR status = $3)";
    // Descending key, ascending id as the tie-break.
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM sales.campaign_summaries
         WHERE {condition}
           AND ($6::uuid IS NULL OR {sort} < {key_param} OR ({sort} = {key_param} AND campaign_id > $6))
         ORDER BY {sort} DESC, campaign_id LIMIT $7"
    );
    let items = sqlx::query_as::<_, CampaignSummary>(&sql)
        .bind(tenant)
        .bind(filter.organization)
        .bind(&filter.status)
        .bind(after_amount)
        .bind(after_time)
        .bind(after_id)
        .bind(limit(first))
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM sales.campaign_summaries WHERE {condition}"
    ))
    .bind(tenant)
    .bind(filter.organization)
    .bind(&filter.status)
    .fetch_one(pool)
    .await?;
    Ok(page(items, first, total))
}

pub(super) async fn daily_metrics(
    pool: &PgPool,
    tenant: Option<Uuid>,
    campaigns: &[Uuid],
    range: DayRange,
) -> ByParent<DailyMetric> {
    let rows = sqlx::query_as::<_, DailyMetric>(
        "SELECT campaign_id, day, reach, views, interactions, likes, sales_count, revenue, cost
         FROM sales.campaign_daily_metrics
         WHERE campaign_id = ANY($1) AND ($2::uuid IS NULL OR organization_id = $2)
           AND ($3::date IS NULL OR day >= $3) AND ($4::date IS NULL OR day <= $4)
         ORDER BY campaign_id, day",
    )
    .bind(campaigns)
    .bind(tenant)
    .bind(range.from)
    .bind(range.to)
    .fetch_all(pool)
    .await?;
    Ok(group(rows, |m| m.campaign_id))
}

pub(super) async fn ai_usage(
    pool: &PgPool,
    tenant: Option<Uuid>,
    since: Option<DateTime<Utc>>,
    after: Option<After<DateTime<Utc>>>,
    first: usize,
) -> Result<Page<AiUsage>> {
    let (after_at, after_id) = split(after);
    let condition = "($1::uuid IS NULL OR organization_id = $1) AND ($2::timestamptz IS NULL OR occurred_at >= $2)";
    let sql = format!(
        "SELECT {AI_USAGE_COLUMNS} FROM sales.ai_usage
         WHERE {condition} AND ($3::timestamptz IS NULL OR (occurred_at, id) < ($3, $4::uuid))
         ORDER BY occurred_at DESC, id DESC LIMIT $5"
    );
    let items = sqlx::query_as::<_, AiUsage>(&sql)
        .bind(tenant)
        .bind(since)
        .bind(after_at)
        .bind(after_id)
        .bind(limit(first))
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM sales.ai_usage WHERE {condition}"))
        .bind(tenant)
        .bind(since)
        .fetch_one(pool)
        .await?;
    Ok(page(items, first, total))
}

pub(super) async fn ai_usage_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<AiUsage> {
    let sql = format!(
        "SELECT {AI_USAGE_COLUMNS} FROM sales.ai_usage WHERE id = ANY($1) AND ($2::uuid IS NULL OR organization_id = $2)"
    );
    let rows = sqlx::query_as::<_, AiUsage>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|u| (u.id, u)).collect())
}

/// Appends one AI call (the table is append-only: a trigger refuses UPDATE and DELETE).
pub(super) async fn record_ai_usage(pool: &PgPool, actor: &Actor, usage: &NewAiUsage) -> Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO sales.ai_usage (id, actor_subject, organization_id, tool, model, prompt, result,
             validation_method, validated, tokens_in, tokens_out, cache_hit, latency_ms, cost_usd, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(id)
    .bind(&actor.subject)
    .bind(actor.organization)
    .bind(&usage.tool)
    .bind(&usage.model)
    .bind(&usage.prompt)
    .bind(&usage.result)
    .bind(&usage.validation_method)
    .bind(usage.validated)
    .bind(usage.tokens_in)
    .bind(usage.tokens_out)
    .bind(usage.cache_hit)
    .bind(usage.latency_ms)
    .bind(usage.cost_usd)
    .bind(&actor.request_id)
    .execute(pool)
    .await?;
    Ok(id)
}
