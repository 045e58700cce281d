//! The ads store on PostgreSQL (sqlx), the local twin of the SQL Server store. Every query binds
//! its parameters; tenant filtering is `($n::uuid IS NULL OR organization_id = $n)` so one
//! statement serves staff and tenants. Reads of campaigns and reference data are here; reports
//! and the ETL feeds are in `facts.rs`, the stored-procedure calls in `write.rs`.

mod facts;
mod write;

use std::{collections::HashMap, str::FromStr, time::Duration};

use chrono::{DateTime, NaiveDate, Utc};
use promptsales_platform::StoreUrl;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

use super::{
    Ad, AdResult, AdResultKey, AdsStore, ByFollowers, ByPolarity, ByStart, ByUpdate, Campaign, CampaignChannel,
    CampaignFilter, CampaignMarket, Channel, ChannelTotals, Created, DayRange, DayTotals, Influencer, LinkKey, Market,
    MarketTotals, NegativeAd, NegativeSentimentRow, NewCampaign, Page, Placement, Result, SentimentKey,
    SentimentSample, Totals, WriteError, group,
};

pub struct PgStore {
    pool: PgPool,
}

pub(super) const CAMPAIGN_COLUMNS: &str = "c.id, c.organization_id, c.brand_id, c.product_id, c.name, c.description, \
     c.objective, c.status, c.budget, c.currency::text AS currency, c.starts_at, c.ends_at, c.version, c.created_by, \
     c.created_at, c.updated_at, c.deleted_at";
const CHANNEL_COLUMNS: &str = "ch.id, ch.code, ch.name, ch.kind, ch.default_cost_model";
const MARKET_COLUMNS: &str = "m.id, m.code, m.country_code::text AS country_code, m.region, m.name, \
     m.currency::text AS currency, m.timezone";
const AD_COLUMNS: &str = "a.id, a.campaign_id, a.name, a.format, a.headline, a.body, a.call_to_action, a.landing_url, \
     a.content_image_id, a.status, a.created_at, a.updated_at";
const INFLUENCER_COLUMNS: &str =
    "i.id, i.channel_id, i.handle, i.display_name, i.followers, i.niche, i.country_code::text AS country_code";

/// The list filter; `$1` tenant, `$2`…`$8` the criteria of [`CampaignFilter`].
const CAMPAIGN_FILTER: &str = "c.deleted_at IS NULL
      AND ($1::uuid IS NULL OR c.organization_id = $1)
      AND ($2::text IS NULL OR c.status = $2)
      AND ($3::uuid IS NULL OR c.brand_id = $3)
      AND ($4::text IS NULL OR EXISTS (
            SELECT 1 FROM ads.campaign_channels cc JOIN ads.channels ch ON ch.id = cc.channel_id
            WHERE cc.campaign_id = c.id AND cc.deleted_at IS NULL AND ch.code = $4))
      AND ($5::text IS NULL OR EXISTS (
            SELECT 1 FROM ads.campaign_markets cm JOIN ads.markets m ON m.id = cm.market_id
            WHERE cm.campaign_id = c.id AND cm.deleted_at IS NULL AND m.code = $5))
      AND ($6::timestamptz IS NULL OR c.starts_at >= $6)
      AND ($7::timestamptz IS NULL OR c.starts_at < $7)
      AND ($8::text IS NULL OR c.name ILIKE $8 ESCAPE '\\')";

impl PgStore {
    /// A pool on the store `url` names (connections opened lazily).
    pub fn connect(url: &StoreUrl) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url.expose().as_str())?.application_name("promptsales-ads");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        Ok(PgStore { pool })
    }

    /// A store over an existing pool (tests).
    pub fn from_pool(pool: PgPool) -> PgStore {
        PgStore { pool }
    }

    async fn campaigns_by(&self, column: &str, tenant: Option<Uuid>, keys: &[Uuid]) -> Result<Vec<Campaign>> {
        // `column` is one of our own constants, never caller text.
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM ads.campaigns c
             WHERE c.{column} = ANY($1) AND c.deleted_at IS NULL AND ($2::uuid IS NULL OR c.organization_id = $2)
             ORDER BY c.starts_at DESC, c.id DESC"
        );
        Ok(sqlx::query_as::<_, Campaign>(&sql)
            .bind(keys)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[async_trait::async_trait]
impl AdsStore for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn campaigns(
        &self,
        tenant: Option<Uuid>,
        filter: &CampaignFilter,
        after: Option<ByStart>,
        first: usize,
    ) -> Result<Page<Campaign>> {
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM ads.campaigns c
             WHERE {CAMPAIGN_FILTER}
               AND ($9::timestamptz IS NULL OR (c.starts_at, c.id) < ($9, $10::uuid))
             ORDER BY c.starts_at DESC, c.id DESC LIMIT $11"
        );
        let pattern = filter.search_pattern();
        let items = sqlx::query_as::<_, Campaign>(&sql)
            .bind(tenant)
            .bind(&filter.status)
            .bind(filter.brand_id)
            .bind(&filter.channel)
            .bind(&filter.market)
            .bind(filter.started_after)
            .bind(filter.started_before)
            .bind(&pattern)
            .bind(after.map(|a| a.starts_at))
            .bind(after.map(|a| a.id))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ads.campaigns c WHERE {CAMPAIGN_FILTER}"))
            .bind(tenant)
            .bind(&filter.status)
            .bind(filter.brand_id)
            .bind(&filter.channel)
            .bind(&filter.market)
            .bind(filter.started_after)
            .bind(filter.started_before)
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    async fn campaigns_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Campaign>> {
        let rows = self.campaigns_by("id", tenant, ids).await?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }

    async fn campaigns_by_brand(&self, tenant: Option<Uuid>, brands: &[Uuid]) -> Result<HashMap<Uuid, Vec<Campaign>>> {
        let rows = self.campaigns_by("brand_id", tenant, brands).await?;
        Ok(group(rows, |c| c.brand_id))
    }

    async fn campaigns_by_product(
        &self,
        tenant: Option<Uuid>,
        products: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Campaign>>> {
        let rows = self.campaigns_by("product_id", tenant, products).await?;
        Ok(group(rows, |c| c.product_id.unwrap_or_default()))
    }

    async fn channels_of_campaigns(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignChannel>>> {
        let sql = format!(
            "SELECT cc.campaign_id, cc.budget_share, cc.updated_at AS link_updated_at,
                    cc.deleted_at AS link_deleted_at, {CHANNEL_COLUMNS}
             FROM ads.campaign_channels cc
             JOIN ads.channels ch ON ch.id = cc.channel_id
             JOIN ads.campaigns c ON c.id = cc.campaign_id
             WHERE cc.campaign_id = ANY($1) AND cc.deleted_at IS NULL
               AND ($2::uuid IS NULL OR c.organization_id = $2)
             ORDER BY cc.campaign_id, cc.budget_share DESC, ch.code"
        );
        let rows = sqlx::query_as::<_, CampaignChannel>(&sql)
            .bind(campaigns)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |l| l.campaign_id))
    }

    async fn markets_of_campaigns(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignMarket>>> {
        let sql = format!(
            "SELECT cm.campaign_id, cm.updated_at AS link_updated_at, cm.deleted_at AS link_deleted_at, {MARKET_COLUMNS}
             FROM ads.campaign_markets cm
             JOIN ads.markets m ON m.id = cm.market_id
             JOIN ads.campaigns c ON c.id = cm.campaign_id
             WHERE cm.campaign_id = ANY($1) AND cm.deleted_at IS NULL
               AND ($2::uuid IS NULL OR c.organization_id = $2)
             ORDER BY cm.campaign_id, m.code"
        );
        let rows = sqlx::query_as::<_, CampaignMarket>(&sql)
            .bind(campaigns)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |l| l.campaign_id))
    }

    async fn ads_of_campaigns(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<Ad>>> {
        let sql = format!(
            "SELECT {AD_COLUMNS} FROM ads.ads a JOIN ads.campaigns c ON c.id = a.campaign_id
             WHERE a.campaign_id = ANY($1) AND a.deleted_at IS NULL AND ($2::uuid IS NULL OR c.organization_id = $2)
             ORDER BY a.campaign_id, a.name, a.id"
        );
        let rows = sqlx::query_as::<_, Ad>(&sql)
            .bind(campaigns)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |a| a.campaign_id))
    }

    async fn ads_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Ad>> {
        let sql = format!(
            "SELECT {AD_COLUMNS} FROM ads.ads a JOIN ads.campaigns c ON c.id = a.campaign_id
             WHERE a.id = ANY($1) AND a.deleted_at IS NULL AND c.deleted_at IS NULL
               AND ($2::uuid IS NULL OR c.organization_id = $2)"
        );
        let rows = sqlx::query_as::<_, Ad>(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|a| (a.id, a)).collect())
    }

    async fn placements_of_ads(&self, tenant: Option<Uuid>, ads: &[Uuid]) -> Result<HashMap<Uuid, Vec<Placement>>> {
        let rows = sqlx::query_as::<_, Placement>(
            "SELECT p.id, p.ad_id, p.channel_id, p.influencer_id, p.cost_model, p.unit_cost, p.starts_at, p.ends_at
             FROM ads.ad_placements p
             JOIN ads.ads a ON a.id = p.ad_id
             JOIN ads.campaigns c ON c.id = a.campaign_id
             WHERE p.ad_id = ANY($1) AND p.deleted_at IS NULL AND ($2::uuid IS NULL OR c.organization_id = $2)
             ORDER BY p.ad_id, p.channel_id, p.id",
        )
        .bind(ads)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(group(rows, |p| p.ad_id))
    }

    async fn channels(&self) -> Result<Vec<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM ads.channels ch WHERE ch.deleted_at IS NULL ORDER BY ch.code");
        Ok(sqlx::query_as::<_, Channel>(&sql).fetch_all(&self.pool).await?)
    }

    async fn markets(&self) -> Result<Vec<Market>> {
        let sql = format!("SELECT {MARKET_COLUMNS} FROM ads.markets m WHERE m.deleted_at IS NULL ORDER BY m.code");
        Ok(sqlx::query_as::<_, Market>(&sql).fetch_all(&self.pool).await?)
    }

    async fn channels_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Channel>> {
        let sql =
            format!("SELECT {CHANNEL_COLUMNS} FROM ads.channels ch WHERE ch.id = ANY($1) AND ch.deleted_at IS NULL");
        let rows = sqlx::query_as::<_, Channel>(&sql)
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }

    async fn markets_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Market>> {
        let sql = format!("SELECT {MARKET_COLUMNS} FROM ads.markets m WHERE m.id = ANY($1) AND m.deleted_at IS NULL");
        let rows = sqlx::query_as::<_, Market>(&sql)
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|m| (m.id, m)).collect())
    }

    async fn influencers(
        &self,
        channel: Option<&str>,
        after: Option<ByFollowers>,
        first: usize,
    ) -> Result<Page<Influencer>> {
        const FILTER: &str = "i.deleted_at IS NULL AND ($1::text IS NULL OR EXISTS (
            SELECT 1 FROM ads.channels ch WHERE ch.id = i.channel_id AND ch.code = $1))";
        let sql = format!(
            "SELECT {INFLUENCER_COLUMNS} FROM ads.influencers i
             WHERE {FILTER}
               AND ($2::bigint IS NULL OR i.followers < $2 OR (i.followers = $2 AND i.id > $3::uuid))
             ORDER BY i.followers DESC, i.id LIMIT $4"
        );
        let items = sqlx::query_as::<_, Influencer>(&sql)
            .bind(channel)
            .bind(after.map(|a| a.followers))
            .bind(after.map(|a| a.id))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ads.influencers i WHERE {FILTER}"))
            .bind(channel)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    async fn influencers_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Influencer>> {
        let sql =
            format!("SELECT {INFLUENCER_COLUMNS} FROM ads.influencers i WHERE i.id = ANY($1) AND i.deleted_at IS NULL");
        let rows = sqlx::query_as::<_, Influencer>(&sql)
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|i| (i.id, i)).collect())
    }

    async fn ad_results_by_key(
        &self,
        tenant: Option<Uuid>,
        keys: &[AdResultKey],
    ) -> Result<HashMap<AdResultKey, AdResult>> {
        self.ad_results_by_key_impl(tenant, keys).await
    }

    async fn sentiment_by_key(
        &self,
        tenant: Option<Uuid>,
        keys: &[SentimentKey],
    ) -> Result<HashMap<SentimentKey, SentimentSample>> {
        self.sentiment_by_key_impl(tenant, keys).await
    }

    async fn results_totals(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Totals>> {
        self.results_totals_impl(tenant, campaigns, range).await
    }

    async fn results_daily(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<DayTotals>>> {
        self.results_daily_impl(tenant, campaigns, range).await
    }

    async fn results_by_channel(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<ChannelTotals>>> {
        self.results_by_channel_impl(tenant, campaigns, range).await
    }

    async fn results_by_market(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<MarketTotals>>> {
        self.results_by_market_impl(tenant, campaigns, range).await
    }

    async fn negative_sentiment_ads(
        &self,
        tenant: Option<Uuid>,
        since: NaiveDate,
        after: Option<ByPolarity>,
        first: usize,
    ) -> Result<Page<NegativeAd>> {
        self.negative_sentiment_ads_impl(tenant, since, after, first).await
    }

    async fn negative_sentiment_report(
        &self,
        tenant: Option<Uuid>,
        brand: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NegativeSentimentRow>> {
        self.negative_sentiment_report_impl(tenant, brand, from, to).await
    }

    async fn create_campaign(&self, tenant: Option<Uuid>, input: &NewCampaign) -> Result<Created, WriteError> {
        self.create_campaign_impl(tenant, input).await
    }

    async fn update_campaign_status(
        &self,
        tenant: Option<Uuid>,
        id: Uuid,
        status: &str,
        expected_version: i32,
    ) -> Result<Campaign, WriteError> {
        self.update_campaign_status_impl(tenant, id, status, expected_version)
            .await
    }

    async fn campaigns_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<Uuid>>,
        first: usize,
    ) -> Result<Page<Campaign>> {
        self.campaigns_updated_since_impl(tenant, since, after, first).await
    }

    async fn campaign_channels_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignChannel>> {
        let sql = format!(
            "SELECT cc.campaign_id, cc.budget_share, cc.updated_at AS link_updated_at,
                    cc.deleted_at AS link_deleted_at, {CHANNEL_COLUMNS}
             FROM ads.campaign_channels cc JOIN ads.channels ch ON ch.id = cc.channel_id
             WHERE {LINK_SINCE}
               AND ($3::timestamptz IS NULL OR (cc.updated_at, cc.campaign_id, cc.channel_id) > ($3, $4::uuid, $5::uuid))
             ORDER BY cc.updated_at, cc.campaign_id, cc.channel_id LIMIT $6",
            LINK_SINCE = link_since("cc")
        );
        let items = sqlx::query_as::<_, CampaignChannel>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.updated_at))
            .bind(after.map(|a| a.key.0))
            .bind(after.map(|a| a.key.1))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total = self
            .count_since("ads.campaign_channels cc", &link_since("cc"), since, tenant)
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    async fn campaign_markets_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignMarket>> {
        let sql = format!(
            "SELECT cm.campaign_id, cm.updated_at AS link_updated_at, cm.deleted_at AS link_deleted_at, {MARKET_COLUMNS}
             FROM ads.campaign_markets cm JOIN ads.markets m ON m.id = cm.market_id
             WHERE {LINK_SINCE}
               AND ($3::timestamptz IS NULL OR (cm.updated_at, cm.campaign_id, cm.market_id) > ($3, $4::uuid, $5::uuid))
             ORDER BY cm.updated_at, cm.campaign_id, cm.market_id LIMIT $6",
            LINK_SINCE = link_since("cm")
        );
        let items = sqlx::query_as::<_, CampaignMarket>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.updated_at))
            .bind(after.map(|a| a.key.0))
            .bind(after.map(|a| a.key.1))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total = self
            .count_since("ads.campaign_markets cm", &link_since("cm"), since, tenant)
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    async fn ad_results_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<AdResultKey>>,
        first: usize,
    ) -> Result<Page<AdResult>> {
        self.ad_results_updated_since_impl(tenant, since, after, first).await
    }

    async fn sentiment_samples_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<SentimentKey>>,
        first: usize,
    ) -> Result<Page<SentimentSample>> {
        self.sentiment_samples_updated_since_impl(tenant, since, after, first)
            .await
    }
}

/// `$1` since, `$2` tenant, for a table with `updated_at` and `campaign_id` aliased `alias`. Rows
/// of any campaign state are included: the ETL must see tombstones.
pub(super) fn link_since(alias: &str) -> String {
    format!(
        "{alias}.updated_at > $1 AND ($2::uuid IS NULL OR EXISTS (
            SELECT 1 FROM ads.campaigns c WHERE c.id = {alias}.campaign_id AND c.organization_id = $2))"
    )
}

impl PgStore {
    /// Count of rows changed after `$1` (the list's `totalCount`).
    pub(super) async fn count_since(
        &self,
        table: &str,
        filter: &str,
        since: DateTime<Utc>,
        tenant: Option<Uuid>,
    ) -> Result<i64> {
        Ok(
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {filter}"))
                .bind(since)
                .bind(tenant)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
