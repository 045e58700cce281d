//! Daily results and sentiment on SQL Server: entity lookups, the per-campaign reports (all
//! aggregated in T-SQL) and the ETL feeds. Twin of `pg/facts.rs`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{CAMPAIGN_COLUMNS, CHANNEL_COLUMNS, MARKET_COLUMNS, MssqlStore, P, rows};
use crate::store::{
    AdResult, AdResultKey, ByPolarity, ByUpdate, Campaign, CampaignChannel, CampaignMarket, ChannelTotals, DayRange,
    DayTotals, LinkKey, MarketTotals, NegativeAd, NegativeSentimentRow, Page, Result, SentimentKey, SentimentSample,
    Totals, group,
};

const RESULT_COLUMNS: &str = "r.campaign_id, r.ad_id, r.channel_id, r.market_id, r.day, r.likes, r.views, \
     r.interactions, r.sales, r.exposure_hours, r.reach, r.cost, r.revenue, r.updated_at, r.deleted_at";
const SAMPLE_COLUMNS: &str = "s.campaign_id, s.ad_id, s.channel_id, s.day, s.polarity, s.positive_count, \
     s.neutral_count, s.negative_count, s.negative_type, s.influencer_reactions, s.updated_at, s.deleted_at";
const SUMS: &str = "SUM(r.views) AS views, SUM(r.interactions) AS interactions, SUM(r.likes) AS likes, \
     SUM(r.sales) AS sales, SUM(r.reach) AS reach, SUM(r.exposure_hours) AS exposure_hours, \
     SUM(r.cost) AS cost, SUM(r.revenue) AS revenue";
/// `@P1` campaigns (joined as `k`), `@P2`/`@P3` the day range, `@P4` tenant.
const RESULTS_FROM: &str = "ads.ad_results AS r INNER JOIN OPENJSON(@P1) WITH (k UNIQUEIDENTIFIER '$') AS k
        ON r.campaign_id = k.k
      WHERE r.deleted_at IS NULL
        AND (@P2 IS NULL OR r.day >= @P2) AND (@P3 IS NULL OR r.day <= @P3)
        AND (@P4 IS NULL OR EXISTS (
              SELECT 1 FROM ads.campaigns AS c WHERE c.id = r.campaign_id AND c.organization_id = @P4))";

/// Twin of the PostgreSQL `NEGATIVE_CTE` (`@P1` since, `@P2` tenant). Counts are summed as
/// BIGINT and averages taken over DECIMAL, as T-SQL's SUM and AVG of INT stay INT.
const NEGATIVE_CTE: &str = "
WITH s AS (
    SELECT s.ad_id, s.campaign_id, s.day, s.positive_count, s.neutral_count, s.negative_count,
           s.negative_type, s.influencer_reactions
    FROM ads.sentiment_samples AS s
    INNER JOIN ads.campaigns AS c ON s.campaign_id = c.id AND c.deleted_at IS NULL
    INNER JOIN ads.ads AS a ON s.ad_id = a.id AND a.deleted_at IS NULL
    WHERE s.deleted_at IS NULL AND s.day >= DATEADD(DAY, -28, @P1) AND (@P2 IS NULL OR c.organization_id = @P2)
), per_ad AS (
    SELECT ad_id, campaign_id,
           SUM(CASE WHEN day >= @P1 THEN CAST(positive_count AS BIGINT) END) AS pos_since,
           SUM(CASE WHEN day >= @P1 THEN CAST(neutral_count AS BIGINT) END) AS neu_since,
           SUM(CASE WHEN day >= @P1 THEN CAST(negative_count AS BIGINT) END) AS neg_since,
           SUM(CASE WHEN day < @P1 THEN CAST(positive_count AS BIGINT) END) AS pos_before,
           SUM(CASE WHEN day < @P1 THEN CAST(neutral_count AS BIGINT) END) AS neu_before,
           SUM(CASE WHEN day < @P1 THEN CAST(negative_count AS BIGINT) END) AS neg_before,
           AVG(CASE WHEN day >= @P1 THEN CAST(influencer_reactions AS DECIMAL(18, 6)) END) AS reactions_since,
           AVG(CASE WHEN day < @P1 THEN CAST(influencer_reactions AS DECIMAL(18, 6)) END) AS reactions_before
    FROM s GROUP BY ad_id, campaign_id
), negative AS (
    SELECT *,
           CAST(ROUND(CAST(pos_since - neg_since AS DECIMAL(38, 12))
                      / NULLIF(pos_since + neu_since + neg_since, 0), 4) AS DECIMAL(9, 4)) AS polarity_since,
           CAST(ROUND(CAST(pos_before - neg_before AS DECIMAL(38, 12))
                      / NULLIF(pos_before + neu_before + neg_before, 0), 4) AS DECIMAL(9, 4)) AS polarity_before
    FROM per_ad
), dominant AS (
    SELECT ad_id, negative_type,
           ROW_NUMBER() OVER (PARTITION BY ad_id
                              ORDER BY SUM(CAST(negative_count AS BIGINT)) DESC, negative_type) AS rn
    FROM s WHERE day >= @P1 AND negative_type IS NOT NULL
    GROUP BY ad_id, negative_type
), listed AS (
    SELECT n.*, d.negative_type AS dominant_negative_type
    FROM negative AS n LEFT JOIN dominant AS d ON n.ad_id = d.ad_id AND d.rn = 1
    WHERE n.polarity_since < 0
)";

/// `@P1` since, `@P2` tenant, for a table aliased `alias` with `updated_at` and `campaign_id`.
fn since_filter(alias: &str) -> String {
    format!(
        "{alias}.updated_at > @P1 AND (@P2 IS NULL OR EXISTS (
            SELECT 1 FROM ads.campaigns AS c WHERE c.id = {alias}.campaign_id AND c.organization_id = @P2))"
    )
}

fn since_params(since: DateTime<Utc>, tenant: Option<Uuid>) -> Vec<P> {
    vec![P::time(Some(since)), P::Uuid(tenant)]
}

impl MssqlStore {
    pub(super) async fn ad_results_by_key_impl(
        &self,
        tenant: Option<Uuid>,
        keys: &[AdResultKey],
    ) -> Result<HashMap<AdResultKey, AdResult>> {
        let json: Vec<_> = keys
            .iter()
            .map(|k| json!({ "a": k.ad_id, "c": k.channel_id, "m": k.market_id, "d": k.day }))
            .collect();
        let sql = format!(
            "SELECT {RESULT_COLUMNS} FROM ads.ad_results AS r
             INNER JOIN OPENJSON(@P1) WITH (ad_id UNIQUEIDENTIFIER '$.a', channel_id UNIQUEIDENTIFIER '$.c',
                                            market_id UNIQUEIDENTIFIER '$.m', day DATE '$.d') AS k
               ON r.ad_id = k.ad_id AND r.channel_id = k.channel_id AND r.market_id = k.market_id AND r.day = k.day
             WHERE r.deleted_at IS NULL AND (@P2 IS NULL OR EXISTS (
                   SELECT 1 FROM ads.campaigns AS c WHERE c.id = r.campaign_id AND c.organization_id = @P2))"
        );
        let params = vec![P::Str(Some(serde_json::Value::from(json).to_string())), P::Uuid(tenant)];
        let rows = self.fetch(&sql, params, rows::ad_result).await?;
        Ok(rows.into_iter().map(|r| (r.key(), r)).collect())
    }

    pub(super) async fn sentiment_by_key_impl(
        &self,
        tenant: Option<Uuid>,
        keys: &[SentimentKey],
    ) -> Result<HashMap<SentimentKey, SentimentSample>> {
        let json: Vec<_> = keys
            .iter()
            .map(|k| json!({ "a": k.ad_id, "c": k.channel_id, "d": k.day }))
            .collect();
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM ads.sentiment_samples AS s
             INNER JOIN OPENJSON(@P1) WITH (ad_id UNIQUEIDENTIFIER '$.a', channel_id UNIQUEIDENTIFIER '$.c',
                                            day DATE '$.d') AS k
               ON s.ad_id = k.ad_id AND s.channel_id = k.channel_id AND s.day = k.day
             WHERE s.deleted_at IS NULL AND (@P2 IS NULL OR EXISTS (
                   SELECT 1 FROM ads.campaigns AS c WHERE c.id = s.campaign_id AND c.organization_id = @P2))"
        );
        let params = vec![P::Str(Some(serde_json::Value::from(json).to_string())), P::Uuid(tenant)];
        let rows = self.fetch(&sql, params, rows::sentiment).await?;
        Ok(rows.into_iter().map(|s| (s.key(), s)).collect())
    }

    fn results_params(tenant: Option<Uuid>, campaigns: &[Uuid], range: DayRange) -> Vec<P> {
        vec![
            P::ids(campaigns),
            P::Date(range.from),
            P::Date(range.to),
            P::Uuid(tenant),
        ]
    }

    pub(super) async fn results_totals_impl(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Totals>> {
        let sql = format!("SELECT r.campaign_id, {SUMS} FROM {RESULTS_FROM} GROUP BY r.campaign_id");
        let rows = self.rows(&sql, Self::results_params(tenant, campaigns, range)).await?;
        rows.iter()
            .map(|r| Ok((rows::Cols(r).uuid("campaign_id")?, rows::totals(r)?)))
            .collect()
    }

    pub(super) async fn results_daily_impl(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<DayTotals>>> {
        let sql = format!(
            "SELECT r.campaign_id, r.day, {SUMS} FROM {RESULTS_FROM}
             GROUP BY r.campaign_id, r.day ORDER BY r.campaign_id, r.day"
        );
        let rows = self
            .fetch(&sql, Self::results_params(tenant, campaigns, range), rows::day_totals)
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
            "SELECT r.campaign_id, r.channel_id, {SUMS} FROM {RESULTS_FROM}
             GROUP BY r.campaign_id, r.channel_id ORDER BY r.campaign_id, SUM(r.cost) DESC, r.channel_id"
        );
        let rows = self
            .fetch(
                &sql,
                Self::results_params(tenant, campaigns, range),
                rows::channel_totals,
            )
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
            "SELECT r.campaign_id, r.market_id, {SUMS} FROM {RESULTS_FROM}
             GROUP BY r.campaign_id, r.market_id ORDER BY r.campaign_id, SUM(r.cost) DESC, r.market_id"
        );
        let rows = self
            .fetch(
                &sql,
                Self::results_params(tenant, campaigns, range),
                rows::market_totals,
            )
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
             SELECT TOP (@P5) ad_id, campaign_id, polarity_since, polarity_before,
                    pos_since AS positive_since, neu_since AS neutral_since, neg_since AS negative_since,
                    dominant_negative_type,
                    CAST(ROUND(reactions_before, 2) AS DECIMAL(18, 2)) AS reactions_before,
                    CAST(ROUND(reactions_since, 2) AS DECIMAL(18, 2)) AS reactions_since,
                    CASE WHEN reactions_before > 0
                         THEN CAST(ROUND((reactions_before - reactions_since) / reactions_before, 4) AS DECIMAL(18, 4))
                    END AS reaction_drop
             FROM listed
             WHERE @P3 IS NULL OR polarity_since > @P3 OR (polarity_since = @P3 AND ad_id > @P4)
             ORDER BY polarity_since, ad_id"
        );
        let params = vec![
            P::Date(Some(since)),
            P::Uuid(tenant),
            P::Dec(after.map(|a| a.polarity)),
            P::Uuid(after.map(|a| a.ad_id)),
            P::I64(Some(first as i64 + 1)),
        ];
        let items = self.fetch(&sql, params, rows::negative_ad).await?;
        let total = self
            .count(
                &format!("{NEGATIVE_CTE} SELECT COUNT_BIG(*) AS total FROM listed"),
                vec![P::Date(Some(since)), P::Uuid(tenant)],
            )
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    /// Migration 0004's `ads.PRADSFN_NegativeSentimentReport`: the whole report is that SQL.
    pub(super) async fn negative_sentiment_report_impl(
        &self,
        tenant: Option<Uuid>,
        brand: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NegativeSentimentRow>> {
        let params = vec![
            P::Uuid(Some(brand)),
            P::Uuid(tenant),
            P::Date(Some(from)),
            P::Date(Some(to)),
        ];
        let mut rows = self
            .fetch(
                "SELECT r.* FROM ads.PRADSFN_NegativeSentimentReport(@P1, @P2, @P3, @P4) AS r",
                params,
                rows::negative_sentiment_row,
            )
            .await?;
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
        const SINCE: &str = "c.updated_at > @P1 AND (@P2 IS NULL OR c.organization_id = @P2)";
        let sql = format!(
            "SELECT TOP (@P5) {CAMPAIGN_COLUMNS} FROM ads.campaigns AS c
             WHERE {SINCE} AND (@P3 IS NULL OR c.updated_at > @P3 OR (c.updated_at = @P3 AND c.id > @P4))
             ORDER BY c.updated_at, c.id"
        );
        let mut params = since_params(since, tenant);
        params.extend([
            P::time(after.map(|a| a.updated_at)),
            P::Uuid(after.map(|a| a.key)),
            P::I64(Some(first as i64 + 1)),
        ]);
        let items = self.fetch(&sql, params, rows::campaign).await?;
        let total = self
            .count(
                &format!("SELECT COUNT_BIG(*) AS total FROM ads.campaigns AS c WHERE {SINCE}"),
                since_params(since, tenant),
            )
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    pub(super) async fn campaign_channels_updated_since_impl(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignChannel>> {
        let sql = format!(
            "SELECT TOP (@P6) cc.campaign_id, cc.budget_share, cc.updated_at AS link_updated_at,
                    cc.deleted_at AS link_deleted_at, {CHANNEL_COLUMNS}
             FROM ads.campaign_channels AS cc INNER JOIN ads.channels AS ch ON cc.channel_id = ch.id
             WHERE {SINCE}
               AND (@P3 IS NULL OR cc.updated_at > @P3
                    OR (cc.updated_at = @P3 AND (cc.campaign_id > @P4 OR (cc.campaign_id = @P4 AND cc.channel_id > @P5))))
             ORDER BY cc.updated_at, cc.campaign_id, cc.channel_id",
            SINCE = since_filter("cc")
        );
        let mut params = since_params(since, tenant);
        params.extend([
            P::time(after.map(|a| a.updated_at)),
            P::Uuid(after.map(|a| a.key.0)),
            P::Uuid(after.map(|a| a.key.1)),
            P::I64(Some(first as i64 + 1)),
        ]);
        let items = self.fetch(&sql, params, rows::campaign_channel).await?;
        let total = self
            .count(
                &format!(
                    "SELECT COUNT_BIG(*) AS total FROM ads.campaign_channels AS cc WHERE {}",
                    since_filter("cc")
                ),
                since_params(since, tenant),
            )
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    pub(super) async fn campaign_markets_updated_since_impl(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignMarket>> {
        let sql = format!(
            "SELECT TOP (@P6) cm.campaign_id, cm.updated_at AS link_updated_at, cm.deleted_at AS link_deleted_at,
                    {MARKET_COLUMNS}
             FROM ads.campaign_markets AS cm INNER JOIN ads.markets AS m ON cm.market_id = m.id
             WHERE {SINCE}
               AND (@P3 IS NULL OR cm.updated_at > @P3
                    OR (cm.updated_at = @P3 AND (cm.campaign_id > @P4 OR (cm.campaign_id = @P4 AND cm.market_id > @P5))))
             ORDER BY cm.updated_at, cm.campaign_id, cm.market_id",
            SINCE = since_filter("cm")
        );
        let mut params = since_params(since, tenant);
        params.extend([
            P::time(after.map(|a| a.updated_at)),
            P::Uuid(after.map(|a| a.key.0)),
            P::Uuid(after.map(|a| a.key.1)),
            P::I64(Some(first as i64 + 1)),
        ]);
        let items = self.fetch(&sql, params, rows::campaign_market).await?;
        let total = self
            .count(
                &format!(
                    "SELECT COUNT_BIG(*) AS total FROM ads.campaign_markets AS cm WHERE {}",
                    since_filter("cm")
                ),
                since_params(since, tenant),
            )
            .await?;
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
            "SELECT TOP (@P8) {RESULT_COLUMNS} FROM ads.ad_results AS r
             WHERE {SINCE}
               AND (@P3 IS NULL OR r.updated_at > @P3 OR (r.updated_at = @P3 AND (
                      r.ad_id > @P4 OR (r.ad_id = @P4 AND (
                      r.channel_id > @P5 OR (r.channel_id = @P5 AND (
                      r.market_id > @P6 OR (r.market_id = @P6 AND r.day > @P7))))))))
             ORDER BY r.updated_at, r.ad_id, r.channel_id, r.market_id, r.day",
            SINCE = since_filter("r")
        );
        let k = after.map(|a| a.key);
        let mut params = since_params(since, tenant);
        params.extend([
            P::time(after.map(|a| a.updated_at)),
            P::Uuid(k.map(|k| k.ad_id)),
            P::Uuid(k.map(|k| k.channel_id)),
            P::Uuid(k.map(|k| k.market_id)),
            P::Date(k.map(|k| k.day)),
            P::I64(Some(first as i64 + 1)),
        ]);
        let items = self.fetch(&sql, params, rows::ad_result).await?;
        let total = self
            .count(
                &format!(
                    "SELECT COUNT_BIG(*) AS total FROM ads.ad_results AS r WHERE {}",
                    since_filter("r")
                ),
                since_params(since, tenant),
            )
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
            "SELECT TOP (@P7) {SAMPLE_COLUMNS} FROM ads.sentiment_samples AS s
             WHERE {SINCE}
               AND (@P3 IS NULL OR s.updated_at > @P3 OR (s.updated_at = @P3 AND (
                      s.ad_id > @P4 OR (s.ad_id = @P4 AND (
                      s.channel_id > @P5 OR (s.channel_id = @P5 AND s.day > @P6))))))
             ORDER BY s.updated_at, s.ad_id, s.channel_id, s.day",
            SINCE = since_filter("s")
        );
        let k = after.map(|a| a.key);
        let mut params = since_params(since, tenant);
        params.extend([
            P::time(after.map(|a| a.updated_at)),
            P::Uuid(k.map(|k| k.ad_id)),
            P::Uuid(k.map(|k| k.channel_id)),
            P::Date(k.map(|k| k.day)),
            P::I64(Some(first as i64 + 1)),
        ]);
        let items = self.fetch(&sql, params, rows::sentiment).await?;
        let total = self
            .count(
                &format!(
                    "SELECT COUNT_BIG(*) AS total FROM ads.sentiment_samples AS s WHERE {}",
                    since_filter("s")
                ),
                since_params(since, tenant),
            )
            .await?;
        Ok(Page::from_rows(items, first, total))
    }
}
