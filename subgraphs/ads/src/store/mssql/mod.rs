//! The ads store on SQL Server (tiberius over a bb8 pool), the prescribed production store. The
//! T-SQL mirrors the PostgreSQL adapter statement by statement, with the same semantics:
//!
//! - parameters are always bound (`@P1`…); the only text formatted into statements is our own
//!   constants and placeholder names;
//! - id lists travel as one JSON parameter read with `OPENJSON … WITH (k UNIQUEIDENTIFIER '$')`
//!   (T-SQL has no arrays; one parameter keeps the plan cache to one plan per statement);
//! - keysets are spelled out (`a > @x OR (a = @x AND b > @y)`), T-SQL having no row comparison,
//!   and pages are `TOP (@n)`;
//! - catch-all list filters (`@P IS NULL OR …`) use `OPTION (RECOMPILE)` so each call gets a plan
//!   for the criteria it actually has.
//!
//! Note: SQL Server orders UNIQUEIDENTIFIER by its own byte order, not PostgreSQL's, so rows tied
//! on the leading sort key come out in another (still stable) order than on PostgreSQL.

mod facts;
mod rows;
mod write;

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use promptsales_platform::{StoreUrl, mssql};
use rust_decimal::Decimal;
use tiberius::{Query, Row};
use uuid::Uuid;

use super::{
    Ad, AdResult, AdResultKey, AdsStore, ByFollowers, ByPolarity, ByStart, ByUpdate, Campaign, CampaignChannel,
    CampaignFilter, CampaignMarket, Channel, ChannelTotals, Created, DayRange, DayTotals, Influencer, LinkKey, Market,
    MarketTotals, NegativeAd, NegativeSentimentRow, NewCampaign, Page, Placement, Result, SentimentKey,
    SentimentSample, StoreError, Totals, WriteError, group,
};

/// Opens pooled connections with the platform's SQL Server connector.
pub struct Manager {
    url: StoreUrl,
    database: String,
}

impl bb8::ManageConnection for Manager {
    type Connection = mssql::Client;
    type Error = mssql::ConnectError;

    async fn connect(&self) -> Result<Self::Connection, Self::Error> {
        mssql::connect(&self.url, &self.database, "promptsales-ads").await
    }

    async fn is_valid(&self, conn: &mut Self::Connection) -> Result<(), Self::Error> {
        conn.simple_query("SELECT 1").await?.into_row().await?;
        Ok(())
    }

    fn has_broken(&self, _conn: &mut Self::Connection) -> bool {
        // tiberius cannot tell without a round trip; `is_valid` runs on checkout instead.
        false
    }
}

pub struct MssqlStore {
    pool: bb8::Pool<Manager>,
}

/// A bound parameter. Times go as DATETIMEOFFSET (UTC) to match the columns' type exactly.
#[derive(Debug, Clone)]
pub(super) enum P {
    Uuid(Option<Uuid>),
    Str(Option<String>),
    I32(Option<i32>),
    I64(Option<i64>),
    Dec(Option<Decimal>),
    Time(Option<DateTime<FixedOffset>>),
    Date(Option<NaiveDate>),
}

impl P {
    pub fn time(t: Option<DateTime<Utc>>) -> P {
        P::Time(t.map(|t| t.fixed_offset()))
    }

    pub fn str(s: Option<&str>) -> P {
        P::Str(s.map(str::to_owned))
    }

    /// A list of ids as the JSON array `OPENJSON` reads.
    pub fn ids(ids: &[Uuid]) -> P {
        P::Str(Some(serde_json::to_string(ids).expect("UUIDs serialise")))
    }

    fn bind(self, q: &mut Query<'_>) {
        match self {
            P::Uuid(v) => q.bind(v),
            P::Str(v) => q.bind(v),
            P::I32(v) => q.bind(v),
            P::I64(v) => q.bind(v),
            P::Dec(v) => q.bind(v),
            P::Time(v) => q.bind(v),
            P::Date(v) => q.bind(v),
        }
    }
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.organization_id, c.brand_id, c.product_id, c.name, c.description, \
     c.objective, c.status, c.budget, c.currency, c.starts_at, c.ends_at, c.version, c.created_by, c.created_at, \
     c.updated_at, c.deleted_at";
const CHANNEL_COLUMNS: &str = "ch.id, ch.code, ch.name, ch.kind, ch.default_cost_model";
const MARKET_COLUMNS: &str = "m.id, m.code, m.country_code, m.region, m.name, m.currency, m.timezone";
const AD_COLUMNS: &str = "a.id, a.campaign_id, a.name, a.format, a.headline, a.body, a.call_to_action, a.landing_url, \
     a.content_image_id, a.status, a.created_at, a.updated_at";
const INFLUENCER_COLUMNS: &str = "i.id, i.channel_id, i.handle, i.display_name, i.followers, i.niche, i.country_code";
/// The ids of `@P1` as a table `k(k)`.
const KEYS: &str = "OPENJSON(@P1) WITH (k UNIQUEIDENTIFIER '$') AS k";

/// The list filter; `@P1` tenant, `@P2`…`@P8` the criteria of [`CampaignFilter`]. Parameters
/// compared with VARCHAR columns are cast so the columns keep their indexes. The name search is
/// case-insensitive whatever the database collation, like ILIKE on PostgreSQL.
const CAMPAIGN_FILTER: &str = "c.deleted_at IS NULL
      AND (@P1 IS NULL OR c.organization_id = @P1)
      AND (@P2 IS NULL OR c.status = CAST(@P2 AS VARCHAR(16)))
      AND (@P3 IS NULL OR c.brand_id = @P3)
      AND (@P4 IS NULL OR EXISTS (
            SELECT 1 FROM ads.campaign_channels AS cc INNER JOIN ads.channels AS ch ON cc.channel_id = ch.id
            WHERE cc.campaign_id = c.id AND cc.deleted_at IS NULL AND ch.code = CAST(@P4 AS VARCHAR(40))))
      AND (@P5 IS NULL OR EXISTS (
            SELECT 1 FROM ads.campaign_markets AS cm INNER JOIN ads.markets AS m ON cm.market_id = m.id
            WHERE cm.campaign_id = c.id AND cm.deleted_at IS NULL AND m.code = CAST(@P5 AS VARCHAR(8))))
      AND (@P6 IS NULL OR c.starts_at >= @P6)
      AND (@P7 IS NULL OR c.starts_at < @P7)
      AND (@P8 IS NULL OR c.name COLLATE Latin1_General_100_CI_AS LIKE @P8 ESCAPE '\\')";

impl MssqlStore {
    /// A pool on the database `url` names (connections opened lazily, checked on checkout).
    pub fn connect(url: &StoreUrl) -> Result<MssqlStore> {
        let database = url
            .database()
            .ok_or_else(|| StoreError::Pool("the SQL Server URL names no database".into()))?
            .to_owned();
        let manager = Manager {
            url: url.clone(),
            database,
        };
        let pool = bb8::Pool::builder()
            .max_size(16)
            .connection_timeout(Duration::from_secs(5))
            .build_unchecked(manager);
        Ok(MssqlStore { pool })
    }

    /// All rows of the first result of `sql`.
    pub(super) async fn rows(&self, sql: &str, params: Vec<P>) -> Result<Vec<Row>> {
        let mut conn = self.pool.get().await.map_err(|e| StoreError::Pool(e.to_string()))?;
        let mut query = Query::new(sql);
        for p in params {
            p.bind(&mut query);
        }
        Ok(query.query(&mut conn).await?.into_first_result().await?)
    }

    /// Rows decoded with `decode`.
    pub(super) async fn fetch<T>(&self, sql: &str, params: Vec<P>, decode: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
        self.rows(sql, params).await?.iter().map(decode).collect()
    }

    /// The single BIGINT of a `SELECT COUNT_BIG(*) AS total …`.
    pub(super) async fn count(&self, sql: &str, params: Vec<P>) -> Result<i64> {
        let rows = self.rows(sql, params).await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Decode("count returned no row".into()))?;
        rows::Cols(row).i64("total")
    }

    async fn campaigns_by(&self, column: &str, tenant: Option<Uuid>, keys: &[Uuid]) -> Result<Vec<Campaign>> {
        // `column` is one of our own constants, never caller text.
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM ads.campaigns AS c INNER JOIN {KEYS} ON c.{column} = k.k
             WHERE c.deleted_at IS NULL AND (@P2 IS NULL OR c.organization_id = @P2)
             ORDER BY c.starts_at DESC, c.id DESC"
        );
        self.fetch(&sql, vec![P::ids(keys), P::Uuid(tenant)], rows::campaign)
            .await
    }
}

fn filter_params(tenant: Option<Uuid>, f: &CampaignFilter) -> Vec<P> {
    vec![
        P::Uuid(tenant),
        P::Str(f.status.clone()),
        P::Uuid(f.brand_id),
        P::Str(f.channel.clone()),
        P::Str(f.market.clone()),
        P::time(f.started_after),
        P::time(f.started_before),
        P::Str(f.search_pattern()),
    ]
}

#[async_trait::async_trait]
impl AdsStore for MssqlStore {
    async fn ping(&self) -> Result<()> {
        self.rows("SELECT 1 AS one", vec![]).await.map(drop)
    }

    async fn campaigns(
        &self,
        tenant: Option<Uuid>,
        filter: &CampaignFilter,
        after: Option<ByStart>,
        first: usize,
    ) -> Result<Page<Campaign>> {
        let sql = format!(
            "SELECT TOP (@P11) {CAMPAIGN_COLUMNS} FROM ads.campaigns AS c
             WHERE {CAMPAIGN_FILTER}
               AND (@P9 IS NULL OR c.starts_at < @P9 OR (c.starts_at = @P9 AND c.id < @P10))
             ORDER BY c.starts_at DESC, c.id DESC
             OPTION (RECOMPILE)"
        );
        let mut params = filter_params(tenant, filter);
        params.extend([
            P::time(after.map(|a| a.starts_at)),
            P::Uuid(after.map(|a| a.id)),
            P::I64(Some(first as i64 + 1)),
        ]);
        let items = self.fetch(&sql, params, rows::campaign).await?;
        let total = self
            .count(
                &format!(
                    "SELECT COUNT_BIG(*) AS total FROM ads.campaigns AS c WHERE {CAMPAIGN_FILTER} OPTION (RECOMPILE)"
                ),
                filter_params(tenant, filter),
            )
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
             FROM ads.campaign_channels AS cc
             INNER JOIN {KEYS} ON cc.campaign_id = k.k
             INNER JOIN ads.channels AS ch ON cc.channel_id = ch.id
             INNER JOIN ads.campaigns AS c ON cc.campaign_id = c.id
             WHERE cc.deleted_at IS NULL AND (@P2 IS NULL OR c.organization_id = @P2)
             ORDER BY cc.campaign_id, cc.budget_share DESC, ch.code"
        );
        let rows = self
            .fetch(&sql, vec![P::ids(campaigns), P::Uuid(tenant)], rows::campaign_channel)
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
             FROM ads.campaign_markets AS cm
             INNER JOIN {KEYS} ON cm.campaign_id = k.k
             INNER JOIN ads.markets AS m ON cm.market_id = m.id
             INNER JOIN ads.campaigns AS c ON cm.campaign_id = c.id
             WHERE cm.deleted_at IS NULL AND (@P2 IS NULL OR c.organization_id = @P2)
             ORDER BY cm.campaign_id, m.code"
        );
        let rows = self
            .fetch(&sql, vec![P::ids(campaigns), P::Uuid(tenant)], rows::campaign_market)
            .await?;
        Ok(group(rows, |l| l.campaign_id))
    }

    async fn ads_of_campaigns(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<Ad>>> {
        let sql = format!(
            "SELECT {AD_COLUMNS} FROM ads.ads AS a
             INNER JOIN {KEYS} ON a.campaign_id = k.k
             INNER JOIN ads.campaigns AS c ON a.campaign_id = c.id
             WHERE a.deleted_at IS NULL AND (@P2 IS NULL OR c.organization_id = @P2)
             ORDER BY a.campaign_id, a.name, a.id"
        );
        let rows = self
            .fetch(&sql, vec![P::ids(campaigns), P::Uuid(tenant)], rows::ad)
            .await?;
        Ok(group(rows, |a| a.campaign_id))
    }

    async fn ads_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Ad>> {
        let sql = format!(
            "SELECT {AD_COLUMNS} FROM ads.ads AS a
             INNER JOIN {KEYS} ON a.id = k.k
             INNER JOIN ads.campaigns AS c ON a.campaign_id = c.id
             WHERE a.deleted_at IS NULL AND c.deleted_at IS NULL AND (@P2 IS NULL OR c.organization_id = @P2)"
        );
        let rows = self.fetch(&sql, vec![P::ids(ids), P::Uuid(tenant)], rows::ad).await?;
        Ok(rows.into_iter().map(|a| (a.id, a)).collect())
    }

    async fn placements_of_ads(&self, tenant: Option<Uuid>, ads: &[Uuid]) -> Result<HashMap<Uuid, Vec<Placement>>> {
        let sql = format!(
            "SELECT p.id, p.ad_id, p.channel_id, p.influencer_id, p.cost_model, p.unit_cost, p.starts_at, p.ends_at
             FROM ads.ad_placements AS p
             INNER JOIN {KEYS} ON p.ad_id = k.k
             INNER JOIN ads.ads AS a ON p.ad_id = a.id
             INNER JOIN ads.campaigns AS c ON a.campaign_id = c.id
             WHERE p.deleted_at IS NULL AND (@P2 IS NULL OR c.organization_id = @P2)
             ORDER BY p.ad_id, p.channel_id, p.id"
        );
        let rows = self
            .fetch(&sql, vec![P::ids(ads), P::Uuid(tenant)], rows::placement)
            .await?;
        Ok(group(rows, |p| p.ad_id))
    }

    async fn channels(&self) -> Result<Vec<Channel>> {
        let sql =
            format!("SELECT {CHANNEL_COLUMNS} FROM ads.channels AS ch WHERE ch.deleted_at IS NULL ORDER BY ch.code");
        self.fetch(&sql, vec![], rows::channel).await
    }

    async fn markets(&self) -> Result<Vec<Market>> {
        let sql = format!("SELECT {MARKET_COLUMNS} FROM ads.markets AS m WHERE m.deleted_at IS NULL ORDER BY m.code");
        self.fetch(&sql, vec![], rows::market).await
    }

    async fn channels_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Channel>> {
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM ads.channels AS ch INNER JOIN {KEYS} ON ch.id = k.k
             WHERE ch.deleted_at IS NULL"
        );
        let rows = self.fetch(&sql, vec![P::ids(ids)], rows::channel).await?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }

    async fn markets_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Market>> {
        let sql = format!(
            "SELECT {MARKET_COLUMNS} FROM ads.markets AS m INNER JOIN {KEYS} ON m.id = k.k WHERE m.deleted_at IS NULL"
        );
        let rows = self.fetch(&sql, vec![P::ids(ids)], rows::market).await?;
        Ok(rows.into_iter().map(|m| (m.id, m)).collect())
    }

    async fn influencers(
        &self,
        channel: Option<&str>,
        after: Option<ByFollowers>,
        first: usize,
    ) -> Result<Page<Influencer>> {
        const FILTER: &str = "i.deleted_at IS NULL AND (@P1 IS NULL OR EXISTS (
            SELECT 1 FROM ads.channels AS ch WHERE ch.id = i.channel_id AND ch.code = CAST(@P1 AS VARCHAR(40))))";
        let sql = format!(
            "SELECT TOP (@P4) {INFLUENCER_COLUMNS} FROM ads.influencers AS i
             WHERE {FILTER}
               AND (@P2 IS NULL OR i.followers < @P2 OR (i.followers = @P2 AND i.id > @P3))
             ORDER BY i.followers DESC, i.id
             OPTION (RECOMPILE)"
        );
        let params = vec![
            P::str(channel),
            P::I64(after.map(|a| a.followers)),
            P::Uuid(after.map(|a| a.id)),
            P::I64(Some(first as i64 + 1)),
        ];
        let items = self.fetch(&sql, params, rows::influencer).await?;
        let total = self
            .count(
                &format!("SELECT COUNT_BIG(*) AS total FROM ads.influencers AS i WHERE {FILTER} OPTION (RECOMPILE)"),
                vec![P::str(channel)],
            )
            .await?;
        Ok(Page::from_rows(items, first, total))
    }

    async fn influencers_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Influencer>> {
        let sql = format!(
            "SELECT {INFLUENCER_COLUMNS} FROM ads.influencers AS i INNER JOIN {KEYS} ON i.id = k.k
             WHERE i.deleted_at IS NULL"
        );
        let rows = self.fetch(&sql, vec![P::ids(ids)], rows::influencer).await?;
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
        self.campaign_channels_updated_since_impl(tenant, since, after, first)
            .await
    }

    async fn campaign_markets_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignMarket>> {
        self.campaign_markets_updated_since_impl(tenant, since, after, first)
            .await
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
