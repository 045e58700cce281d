//! The ads store behind one trait, so the GraphQL layer never sees SQL. Two adapters implement
//! it with the same semantics: [`PgStore`] (PostgreSQL, sqlx; the local default) and
//! [`MssqlStore`] (SQL Server, tiberius over a bb8 pool; the prescribed store). The scheme of the
//! store URL picks one ([`connect`]).
//!
//! Every call that reads tenant data takes the caller's organization: `Some` filters to that
//! tenant, `None` (staff) sees all. Channels, markets and influencers are shared reference data.

mod input;
mod model;
pub mod mssql;
pub mod pg;

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, NaiveDate, Utc};
pub use input::*;
pub use model::*;
pub use mssql::MssqlStore;
pub use pg::PgStore;
use promptsales_platform::{Backend, StoreUrl};
use uuid::Uuid;

/// A store failure. Its text goes to the log, never to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("ads store (PostgreSQL): {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("ads store (SQL Server): {0}")]
    Mssql(#[from] tiberius::error::Error),
    #[error("ads store (SQL Server pool): {0}")]
    Pool(String),
    #[error("ads store: unexpected row shape: {0}")]
    Decode(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One page of a list, with the total count of the list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    pub total: i64,
}

impl<T> Page<T> {
    /// A page from up to `first + 1` fetched rows (the extra row only says there is more).
    pub fn from_rows(mut items: Vec<T>, first: usize, total: i64) -> Page<T> {
        let has_more = items.len() > first;
        items.truncate(first);
        Page { items, has_more, total }
    }
}

/// Key of a campaign's link to a channel or market: (campaign, channel or market).
pub type LinkKey = (Uuid, Uuid);

#[async_trait::async_trait]
pub trait AdsStore: Send + Sync + 'static {
    /// Answers when the store can serve (readiness).
    async fn ping(&self) -> Result<()>;

    // ---- Campaigns and what hangs off them -----------------------------------------------------
    /// Live campaigns matching `filter`, newest start first (then id, descending).
    async fn campaigns(
        &self,
        tenant: Option<Uuid>,
        filter: &CampaignFilter,
        after: Option<ByStart>,
        first: usize,
    ) -> Result<Page<Campaign>>;
    async fn campaigns_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Campaign>>;
    /// Live campaigns of each brand, newest start first.
    async fn campaigns_by_brand(&self, tenant: Option<Uuid>, brands: &[Uuid]) -> Result<HashMap<Uuid, Vec<Campaign>>>;
    /// Live campaigns of each product, newest start first.
    async fn campaigns_by_product(
        &self,
        tenant: Option<Uuid>,
        products: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Campaign>>>;
    /// Live channel links of each campaign, largest budget share first.
    async fn channels_of_campaigns(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignChannel>>>;
    /// Live market links of each campaign, by market code.
    async fn markets_of_campaigns(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignMarket>>>;
    /// Live ads of each campaign, by name then id.
    async fn ads_of_campaigns(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<Ad>>>;
    async fn ads_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Ad>>;
    /// Live placements of each ad.
    async fn placements_of_ads(&self, tenant: Option<Uuid>, ads: &[Uuid]) -> Result<HashMap<Uuid, Vec<Placement>>>;

    // ---- Reference data -------------------------------------------------------------------------
    /// Live channels by code.
    async fn channels(&self) -> Result<Vec<Channel>>;
    /// Live markets by code.
    async fn markets(&self) -> Result<Vec<Market>>;
    async fn channels_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Channel>>;
    async fn markets_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Market>>;
    /// Live influencers, most followed first, optionally of one home channel (by code).
    async fn influencers(
        &self,
        channel: Option<&str>,
        after: Option<ByFollowers>,
        first: usize,
    ) -> Result<Page<Influencer>>;
    async fn influencers_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Influencer>>;

    // ---- Facts and reports ----------------------------------------------------------------------
    async fn ad_results_by_key(
        &self,
        tenant: Option<Uuid>,
        keys: &[AdResultKey],
    ) -> Result<HashMap<AdResultKey, AdResult>>;
    async fn sentiment_by_key(
        &self,
        tenant: Option<Uuid>,
        keys: &[SentimentKey],
    ) -> Result<HashMap<SentimentKey, SentimentSample>>;
    /// Sums of each campaign's live daily results in `range` (campaigns without rows are absent).
    async fn results_totals(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Totals>>;
    /// Per day, oldest first; days without rows are absent.
    async fn results_daily(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<DayTotals>>>;
    /// Per channel, highest spend first.
    async fn results_by_channel(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<ChannelTotals>>>;
    /// Per market, highest spend first.
    async fn results_by_market(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<MarketTotals>>>;
    /// Live ads whose net sentiment since `since` is negative, most negative first.
    async fn negative_sentiment_ads(
        &self,
        tenant: Option<Uuid>,
        since: NaiveDate,
        after: Option<ByPolarity>,
        first: usize,
    ) -> Result<Page<NegativeAd>>;

    /// The negative-sentiment report of a brand over `from..=to` against the previous period of
    /// equal length (see [`NegativeSentimentRow`]), largest drop first. `from <= to` is the caller's
    /// to check.
    async fn negative_sentiment_report(
        &self,
        tenant: Option<Uuid>,
        brand: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NegativeSentimentRow>>;

    // ---- Writes (stored procedures) ---------------------------------------------------------------
    /// Creates a campaign with its channels, markets and ads in one transaction, or finds the one
    /// an identical earlier request with the same idempotency key created.
    async fn create_campaign(&self, tenant: Option<Uuid>, input: &NewCampaign) -> Result<Created, WriteError>;
    /// Moves a campaign to `status` when the transition is allowed and `expected_version` is current.
    async fn update_campaign_status(
        &self,
        tenant: Option<Uuid>,
        id: Uuid,
        status: &str,
        expected_version: i32,
    ) -> Result<Campaign, WriteError>;

    // ---- ETL: changes (tombstones included) after `since`, oldest change first -------------------
    async fn campaigns_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<Uuid>>,
        first: usize,
    ) -> Result<Page<Campaign>>;
    async fn campaign_channels_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignChannel>>;
    async fn campaign_markets_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignMarket>>;
    async fn ad_results_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<AdResultKey>>,
        first: usize,
    ) -> Result<Page<AdResult>>;
    async fn sentiment_samples_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<SentimentKey>>,
        first: usize,
    ) -> Result<Page<SentimentSample>>;
}

/// The adapter for the engine the URL's scheme names. Connections open lazily: the process starts
/// while the database is still coming up, and `/readyz` tells when it answers.
pub async fn connect(url: &StoreUrl) -> anyhow::Result<Arc<dyn AdsStore>> {
    url.check_for(promptsales_platform::Store::Ads)?;
    Ok(match url.backend() {
        Backend::Postgres => Arc::new(PgStore::connect(url)?),
        Backend::Mssql => Arc::new(MssqlStore::connect(url)?),
        Backend::Mongo => anyhow::bail!("the ads store has no MongoDB adapter"),
    })
}

/// Groups rows by a key, keeping their order.
pub(crate) fn group<K: std::hash::Hash + Eq, T>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// Parses a validation error raised by a procedure, `field|rule|text`.
pub(crate) fn parse_invalid(message: &str) -> Invalid {
    let mut parts = message.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(field), Some(rule), Some(text)) => Invalid::new(field, rule, text),
        _ => Invalid::new("input", "invalid", message),
    }
}
