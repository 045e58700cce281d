//! Daily results and sentiment on PostgreSQL: entity lookups, the per-campaign reports (all
//! aggregated in SQL) and the ETL feeds.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{CAMPAIGN_COLUMNS, PgStore, link_since};
use crate::store::{
    AdResult, AdResultKey, ByPolarity, ByUpdate, Campaign, ChannelTotals, DayRange, DayTotals, MarketTotals,
    NegativeAd, NegativeSentimentRow, Page, Result, SentimentKey, SentimentSample, Totals, group,
};

const RESULT_COLUMNS: &str = "r.campaign_id, r.ad_id, r.channel_id, r.market_id, r.day, r.likes, r.views, \
     r.interactions, r.sales, r.exposure_hours, r.reach, r.cost, r.revenue, r.updated_at, r.deleted_at";
const SAMPLE_COLUMNS: &str = "s.campaign_id, s.ad_id, s.channel_id, s.day, s.polarity, s.positive_count, \
     s.neutral_count, s.negative_count, s.negative_type, s.influencer_reactions, s.updated_at, s.deleted_at";
/// `sum(bigint)` is numeric in PostgreSQL; the casts keep the counts integers.
const SUMS: &str = "sum(r.views)::bigint AS views, sum(r.interactions)::bigint AS interactions, \
     sum(r.likes)::bigint AS likes, sum(r.sales)::bigint AS sales, sum(r.reach)::bigint AS reach, \
     sum(r.exposure_hours) AS exposure_hours, sum(r.cost) AS cost, sum(r.revenue) AS revenue";
/// `$1` campaigns, `$2`/`$3` the day range, `$4` tenant.
const RESULTS_WHERE: &str = "r.campaign_id = ANY($1) AND r.deleted_at IS NULL
      AND ($2::date IS NULL OR r.day >= $2) AND ($3::date IS NULL OR r.day <= $3)
      AND ($4::uuid IS NULL OR EXISTS (
            SELECT 1 FROM ads.campaigns c WHERE c.id = r.campaign_id AND c.organization_id = $4))";
/// `$1` tenant (facts belong to the tenant of their campaign).
const FACT_TENANT: &str = "($1::uuid IS NULL OR EXISTS (SELECT 1 FROM ads.campaigns c WHERE c.id = {a}.campaign_id AND c.organization_id = $1))";

/// Per-ad sentiment since `$1` and over the 28 days before, for live ads of live campaigns (`$2`
/// tenant). Net polarity is (positive − negative) / all mentions, the aggregate of the daily
/// polarity; the dominant negative type is the one with the most negative mentions since `$1`.
const NEGATIVE_CTE: &str = "
WITH s AS (
    SELECT s.ad_id, s.campaign_id, s.day, s.positive_count, s.neutral_count, s.negative_count,
           s.negative_type, s.influencer_reactions
    FROM ads.sentiment_samples s
    JOIN ads.campaigns c ON c.id = s.campaign_id AND c.deleted_at IS NULL
    JOIN ads.ads a ON a.id = s.ad_id AND a.deleted_at IS NULL
    WHERE s.deleted_at IS NULL AND s.day >= $1::date - 28 AND ($2::uuid IS NULL OR c.organization_id = $2)
), per_ad AS (
    SELECT ad_id, campaign_id,
           sum(positive_count) FILTER (WHERE day >= $1) AS pos_since,
           sum(neutral_count) FILTER (WHERE day >= $1) AS neu_since,
           sum(negative_count) FILTER (WHERE day >= $1) AS neg_since,
           sum(positive_count) FILTER (WHERE day < $1) AS pos_before,
           sum(neutral_count) FILTER (WHERE day < $1) AS neu_before,
           sum(negative_count) FILTER (WHERE day < $1) AS neg_before,
           avg(influencer_reactions) FILTER (WHERE day >= $1) AS reactions_since,
           avg(influencer_reactions) FILTER (WHERE day < $1) AS reactions_before
    FROM s GROUP BY ad_id, campaign_id
), negative AS (
    SELECT *,
           round((pos_since - neg_since)::numeric / NULLIF(pos_since + neu_since + neg_since, 0), 4)
               AS polarity_since,
           round((pos_before - neg_before)::numeric / NULLIF(pos_before + neu_before + neg_before, 0), 4)
               AS polarity_before
    FROM per_ad
), dominant AS (
    SELECT DISTINCT ON (ad_id) ad_id, negative_type
    FROM s WHERE day >= $1 AND negative_type IS NOT NULL
    GROUP BY ad_id, negative_type
    ORDER BY ad_id, sum(negative_count) DESC, negative_type
), listed AS (
    SELECT n.*, d.negative_type AS dominant_negative_type FROM negative n LEFT JOIN dominant d ON d.ad_id = n.ad_id
    WHERE n.polarity_since < 0
)";

impl PgStore {
    pub(super) async fn ad_results_by_key_impl(
        &self,
        tenant: Option<Uuid>,
        keys: &[AdResultKey],
    ) -> Result<HashMap<AdResultKey, AdResult>> {
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM ads.ad_results r
             JOIN unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::date[]) AS k(ad_id, channel_id, market_id, day)
               ON r.ad_id = k.ad_id AND r.channel_id = k.channel_id AND r.market_id = k.market_id AND r.day = k.day
             WHERE r.deleted_at IS NULL AND {}",
            FACT_TENANT.replace("{a}", "r")
        );
        let rows = sqlx::query_as::<_, AdResult>(&sql)
            .bind(tenant)
            .bind(keys.iter().map(|k| k.ad_id).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.channel_id).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.market_id).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.day).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| (r.key(), r)).collect())
    }

    pub(super) async fn sentiment_by_key_impl(
        &self,
        tenant: Option<Uuid>,
        keys: &[SentimentKey],
    ) -> Result<HashMap<SentimentKey, SentimentSample>> {
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM ads.sentiment_samples s
             JOIN unnest($2::uuid[], $3::uuid[], $4::date[]) AS k(ad_id, channel_id, day)
               ON s.ad_id = k.ad_id AND s.channel_id = k.channel_id AND s.day = k.day
             WHERE s.deleted_at IS NULL AND {}",
            FACT_TENANT.replace("{a}", "s")
        );
        let rows = sqlx::query_as::<_, SentimentSample>(&sql)
            .bind(tenant)
            .bind(keys.iter().map(|k| k.ad_id).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.channel_id).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.day).collect::<Vec<_>>())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|s| (s.key(), s)).collect())
    }

    pub(super) async fn results_totals_impl(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Totals>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            campaign_id: Uuid,
            #[sqlx(flatten)]
            totals: Totals,
        }
        let sql =
            format!("SELECT r.campaign_id, {SUMS} FROM ads.ad_results r WHERE {RESULTS_WHERE} GROUP BY r.campaign_id");
        let rows = sqlx::query_as::<_, Row>(&sql)
            .bind(campaigns)
            .bind(range.from)
            .bind(range.to)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| (r.campaign_id, r.totals)).collect())
    }

    pub(super) async fn results_daily_impl(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<DayTotals>>> {
        let sql = format!(
            "SELECT r.campaign_id, r.day, {SUMS} FROM ads.ad_results r WHERE {RESULTS_WHERE}
             GROUP BY r.campaign_id, r.day ORDER BY r.campaign_id, r.day"
        );
        let rows = sqlx::query_as::<_, DayTotals>(&sql)
            .bind(campaigns)
            .bind(range.from)
            .bind(range.to)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |r| r.campaign_id))
    }

    pub(super) async fn results_by_channel_impl(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<ChannelTotals>>> {
        let sql = format!(
            "SELECT r.campaign_id, r.channel_id, {SUMS} FROM ads.ad_results r WHERE {RESULTS_WHERE}
             GROUP BY r.campaign_id, r.channel_id ORDER BY r.campaign_id, sum(r.cost) DESC, r.channel_id"
        );
        let rows = sqlx::query_as::<_, ChannelTotals>(&sql)
            .bind(campaigns)
            .bind(range.from)
            .bind(range.to)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |r| r.campaign_id))
    }

    pub(super) async fn results_by_market_impl(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<MarketTotals>>> {
        let sql = format!(
            "SELECT r.campaign_id, r.market_id, {SUMS} FROM ads.ad_results r WHERE {RESULTS_WHERE}
             GROUP BY r.campaign_id, r.market_id ORDER BY r.campaign_id, sum(r.cost) DESC, r.market_id"
        );
        let rows = sqlx::query_as::<_, MarketTotals>(&sql)
            .bind(campaigns)
            .bind(range.from)
            .bind(range.to)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |r| r.campaign_id))
    }

    pub(super) async fn negative_sentiment_ads_impl(
        &self,
        tenant: Option<Uuid>,
        since: NaiveDate,
        after: Option<ByPolarity>,
        first: usize,
    ) -> Result<Page<NegativeAd>> {
        let sql = format!(
            "{NEGATIVE_CTE}
             SELECT ad_id, campaign_id, polarity_since, polarity_before,
                    pos_since::bigint AS positive_since, neu_since::bigint AS neutral_since,
                    neg_since::bigint AS negative_since, dominant_negative_type,
                    round(reactions_before, 2) AS reactions_before, round(reactions_since, 2) AS reactions_since,
                    CASE WHEN reactions_before > 0
                         THEN round((reactions_before - reactions_since) / reactions_before, 4) END AS reaction_drop
             FROM listed
             WHERE ($3::numeric IS NULL OR (polarity_since, ad_id) > ($3, $4::uuid))
             ORDER BY polarity_since, ad_id LIMIT $5"
        );
        let items = sqlx::query_as::<_, NegativeAd>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.polarity))
            .bind(after.map(|a| a.ad_id))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("{NEGATIVE_CTE} SELECT count(*) FROM listed"))
            .bind(since)
            .bind(tenant)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    /// Migration 0004's `ads.pradsfn_negative_sentiment_report`: the whole report is that SQL.
    pub(super) async fn negative_sentiment_report_impl(
        &self,
        tenant: Option<Uuid>,
        brand: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NegativeSentimentRow>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            ad_id: Uuid,
            campaign_id: Uuid,
            channel_id: Uuid,
            influencer_ids: Vec<Uuid>,
            negative_type: Option<String>,
            positive_mentions: i64,
            neutral_mentions: i64,
            negative_mentions: i64,
            polarity: rust_decimal::Decimal,
            reactions_previous: rust_decimal::Decimal,
            reactions_current: rust_decimal::Decimal,
            reaction_drop_pct: rust_decimal::Decimal,
        }
        let rows =
            sqlx::query_as::<_, Row>("SELECT r.* FROM ads.pradsfn_negative_sentiment_report($1, $2, $3, $4) AS r")
                .bind(brand)
                .bind(tenant)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
        let mut rows: Vec<_> = rows
            .into_iter()
            .map(|r| NegativeSentimentRow {
                ad_id: r.ad_id,
                campaign_id: r.campaign_id,
                channel_id: r.channel_id,
                influencer_ids: r.influencer_ids,
                negative_type: r.negative_type,
                positive_mentions: r.positive_mentions,
                neutral_mentions: r.neutral_mentions,
                negative_mentions: r.negative_mentions,
                polarity: r.polarity,
                reactions_previous: r.reactions_previous,
                reactions_current: r.reactions_current,
                reaction_drop_pct: r.reaction_drop_pct,
            })
            .collect();
        NegativeSentimentRow::sort(&mut rows);
        Ok(rows)
    }

    pub(super) async fn campaigns_updated_since_impl(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<Uuid>>,
        first: usize,
    ) -> Result<Page<Campaign>> {
        const SINCE: &str = "c.updated_at > $1 AND ($2::uuid IS NULL OR c.organization_id = $2)";
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM ads.campaigns c
             WHERE {SINCE} AND ($3::timestamptz IS NULL OR (c.updated_at, c.id) > ($3, $4::uuid))
             ORDER BY c.updated_at, c.id LIMIT $5"
        );
        let items = sqlx::query_as::<_, Campaign>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.updated_at))
            .bind(after.map(|a| a.key))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total = self.count_since("ads.campaigns c", SINCE, since, tenant).await?;
        Ok(Page::from_rows(items, first, total))
    }

    pub(super) async fn ad_results_updated_since_impl(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<AdResultKey>>,
        first: usize,
    ) -> Result<Page<AdResult>> {
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM ads.ad_results r
             WHERE {SINCE}
               AND ($3::timestamptz IS NULL
                    OR (r.updated_at, r.ad_id, r.channel_id, r.market_id, r.day) > ($3, $4::uuid, $5::uuid, $6::uuid, $7::date))
             ORDER BY r.updated_at, r.ad_id, r.channel_id, r.market_id, r.day LIMIT $8",
            SINCE = link_since("r")
        );
        let k = after.map(|a| a.key);
        let items = sqlx::query_as::<_, AdResult>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.updated_at))
            .bind(k.map(|k| k.ad_id))
            .bind(k.map(|k| k.channel_id))
            .bind(k.map(|k| k.market_id))
            .bind(k.map(|k| k.day))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total = self
            .count_since("ads.ad_results r", &link_since("r"), since, tenant)
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    pub(super) async fn sentiment_samples_updated_since_impl(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<SentimentKey>>,
        first: usize,
    ) -> Result<Page<SentimentSample>> {
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM ads.sentiment_samples s
             WHERE {SINCE}
               AND ($3::timestamptz IS NULL
                    OR (s.updated_at, s.ad_id, s.channel_id, s.day) > ($3, $4::uuid, $5::uuid, $6::date))
             ORDER BY s.updated_at, s.ad_id, s.channel_id, s.day LIMIT $7",
            SINCE = link_since("s")
        );
        let k = after.map(|a| a.key);
        let items = sqlx::query_as::<_, SentimentSample>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.updated_at))
            .bind(k.map(|k| k.ad_id))
            .bind(k.map(|k| k.channel_id))
            .bind(k.map(|k| k.day))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total = self
            .count_since("ads.sentiment_samples s", &link_since("s"), since, tenant)
            .await?;
        Ok(Page::from_rows(items, first, total))
    }
}
