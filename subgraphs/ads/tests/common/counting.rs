//! A store decorator that counts calls and delegates: the N+1 tests assert on its count.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use chrono::{DateTime, NaiveDate, Utc};
use promptsales_ads::store::*;
use uuid::Uuid;

pub struct CountingStore {
    inner: Arc<dyn AdsStore>,
    calls: AtomicUsize,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn AdsStore>) -> CountingStore {
        CountingStore {
            inner,
            calls: AtomicUsize::new(0),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
    }

    fn bump(&self) -> &dyn AdsStore {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.as_ref()
    }
}

#[async_trait::async_trait]
impl AdsStore for CountingStore {
    async fn ping(&self) -> Result<()> {
        self.bump().ping().await
    }
    async fn campaigns(
        &self,
        tenant: Option<Uuid>,
        filter: &CampaignFilter,
        after: Option<ByStart>,
        first: usize,
    ) -> Result<Page<Campaign>> {
        self.bump().campaigns(tenant, filter, after, first).await
    }
    async fn campaigns_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Campaign>> {
        self.bump().campaigns_by_id(tenant, ids).await
    }
    async fn campaigns_by_brand(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Campaign>>> {
        self.bump().campaigns_by_brand(tenant, ids).await
    }
    async fn campaigns_by_product(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Campaign>>> {
        self.bump().campaigns_by_product(tenant, ids).await
    }
    async fn channels_of_campaigns(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignChannel>>> {
        self.bump().channels_of_campaigns(tenant, ids).await
    }
    async fn markets_of_campaigns(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<CampaignMarket>>> {
        self.bump().markets_of_campaigns(tenant, ids).await
    }
    async fn ads_of_campaigns(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Ad>>> {
        self.bump().ads_of_campaigns(tenant, ids).await
    }
    async fn ads_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Ad>> {
        self.bump().ads_by_id(tenant, ids).await
    }
    async fn placements_of_ads(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Placement>>> {
        self.bump().placements_of_ads(tenant, ids).await
    }
    async fn channels(&self) -> Result<Vec<Channel>> {
        self.bump().channels().await
    }
    async fn markets(&self) -> Result<Vec<Market>> {
        self.bump().markets().await
    }
    async fn channels_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Channel>> {
        self.bump().channels_by_id(ids).await
    }
    async fn markets_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Market>> {
        self.bump().markets_by_id(ids).await
    }
    async fn influencers(
        &self,
        channel: Option<&str>,
        after: Option<ByFollowers>,
        first: usize,
    ) -> Result<Page<Influencer>> {
        self.bump().influencers(channel, after, first).await
    }
    async fn influencers_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Influencer>> {
        self.bump().influencers_by_id(ids).await
    }
    async fn ad_results_by_key(
        &self,
        tenant: Option<Uuid>,
        keys: &[AdResultKey],
    ) -> Result<HashMap<AdResultKey, AdResult>> {
        self.bump().ad_results_by_key(tenant, keys).await
    }
    async fn sentiment_by_key(
        &self,
        tenant: Option<Uuid>,
        keys: &[SentimentKey],
    ) -> Result<HashMap<SentimentKey, SentimentSample>> {
        self.bump().sentiment_by_key(tenant, keys).await
    }
    async fn results_totals(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Totals>> {
        self.bump().results_totals(tenant, ids, range).await
    }
    async fn results_daily(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<DayTotals>>> {
        self.bump().results_daily(tenant, ids, range).await
    }
    async fn results_by_channel(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<ChannelTotals>>> {
        self.bump().results_by_channel(tenant, ids, range).await
    }
    async fn results_by_market(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
        range: DayRange,
    ) -> Result<HashMap<Uuid, Vec<MarketTotals>>> {
        self.bump().results_by_market(tenant, ids, range).await
    }
    async fn negative_sentiment_ads(
        &self,
        tenant: Option<Uuid>,
        since: NaiveDate,
        after: Option<ByPolarity>,
        first: usize,
    ) -> Result<Page<NegativeAd>> {
        self.bump().negative_sentiment_ads(tenant, since, after, first).await
    }
    async fn negative_sentiment_report(
        &self,
        tenant: Option<Uuid>,
        brand: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NegativeSentimentRow>> {
        self.bump().negative_sentiment_report(tenant, brand, from, to).await
    }
    async fn create_campaign(&self, tenant: Option<Uuid>, input: &NewCampaign) -> Result<Created, WriteError> {
        self.bump().create_campaign(tenant, input).await
    }
    async fn update_campaign_status(
        &self,
        tenant: Option<Uuid>,
        id: Uuid,
        status: &str,
        expected_version: i32,
    ) -> Result<Campaign, WriteError> {
        self.bump()
            .update_campaign_status(tenant, id, status, expected_version)
            .await
    }
    async fn campaigns_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<Uuid>>,
        first: usize,
    ) -> Result<Page<Campaign>> {
        self.bump().campaigns_updated_since(tenant, since, after, first).await
    }
    async fn campaign_channels_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignChannel>> {
        self.bump()
            .campaign_channels_updated_since(tenant, since, after, first)
            .await
    }
    async fn campaign_markets_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<LinkKey>>,
        first: usize,
    ) -> Result<Page<CampaignMarket>> {
        self.bump()
            .campaign_markets_updated_since(tenant, since, after, first)
            .await
    }
    async fn ad_results_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<AdResultKey>>,
        first: usize,
    ) -> Result<Page<AdResult>> {
        self.bump().ad_results_updated_since(tenant, since, after, first).await
    }
    async fn sentiment_samples_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<ByUpdate<SentimentKey>>,
        first: usize,
    ) -> Result<Page<SentimentSample>> {
        self.bump()
            .sentiment_samples_updated_since(tenant, since, after, first)
            .await
    }
}
