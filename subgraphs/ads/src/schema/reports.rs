//! Results and sentiment: the daily facts as entities (for the ETL and the gateway), and the
//! reports over them. Every figure here is aggregated by the store in SQL.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    loader, loaders,
    scalars::{Date, NegativeSentimentType, known},
    types::{Ad, Campaign, Channel, Influencer, Market},
};
use crate::store;

fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

/// A campaign's results over a day range; each part is loaded only when asked for.
pub struct CampaignResults {
    pub key: loaders::Ranged,
}

/// What a campaign achieved over a range of days.
#[Object(requires_scopes = "ads:read")]
impl CampaignResults {
    /// Sums over the range (zeros when there are no results).
    async fn totals(&self, ctx: &Context<'_>) -> Result<CampaignResultTotals> {
        Ok(CampaignResultTotals(
            loader(ctx)
                .load_one(loaders::TotalsOf(self.key))
                .await?
                .unwrap_or_default(),
        ))
    }
    /// One entry per day with results, oldest first (days without results are left out).
    async fn daily(&self, ctx: &Context<'_>) -> Result<Vec<CampaignDayResult>> {
        Ok(loader(ctx)
            .load_one(loaders::DailyOf(self.key))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CampaignDayResult)
            .collect())
    }
    /// One entry per channel, highest cost first.
    async fn by_channel(&self, ctx: &Context<'_>) -> Result<Vec<CampaignChannelResult>> {
        Ok(loader(ctx)
            .load_one(loaders::ByChannelOf(self.key))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CampaignChannelResult)
            .collect())
    }
    /// One entry per market, highest cost first.
    async fn by_market(&self, ctx: &Context<'_>) -> Result<Vec<CampaignMarketResult>> {
        Ok(loader(ctx)
            .load_one(loaders::ByMarketOf(self.key))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CampaignMarketResult)
            .collect())
    }
}

pub struct CampaignResultTotals(pub store::Totals);

/// Sums of daily results.
#[Object(requires_scopes = "ads:read")]
impl CampaignResultTotals {
    /// Impressions.
    async fn views(&self) -> i64 {
        self.0.views
    }
    /// Clicks, likes, comments, shares … (a like is an interaction).
    async fn interactions(&self) -> i64 {
        self.0.interactions
    }
    /// Likes (counted among the interactions).
    async fn likes(&self) -> i64 {
        self.0.likes
    }
    /// Sales attributed to the ads.
    async fn sales(&self) -> i64 {
        self.0.sales
    }
    /// Sum of each day's distinct people reached (a person reached on two days counts twice).
    async fn reach(&self) -> i64 {
        self.0.reach
    }
    /// Hours the ads were on screen.
    async fn exposure_hours(&self) -> Decimal {
        self.0.exposure_hours
    }
    /// Spend in USD.
    async fn cost(&self) -> Decimal {
        self.0.cost
    }
    /// Attributed revenue in USD.
    async fn revenue(&self) -> Decimal {
        self.0.revenue
    }
}

pub struct CampaignDayResult(pub store::DayTotals);

/// A campaign's results on one day.
#[Object(requires_scopes = "ads:read")]
impl CampaignDayResult {
    /// The day.
    async fn day(&self) -> Date {
        Date(self.0.day)
    }
    /// Sums over the day.
    async fn totals(&self) -> CampaignResultTotals {
        CampaignResultTotals(self.0.totals.clone())
    }
}

pub struct CampaignChannelResult(pub store::ChannelTotals);

/// A campaign's results on one channel.
#[Object(requires_scopes = "ads:read")]
impl CampaignChannelResult {
    /// The channel.
    async fn channel(&self, ctx: &Context<'_>) -> Result<Option<Channel>> {
        Ok(loader(ctx)
            .load_one(loaders::ChannelId(self.0.channel_id))
            .await?
            .map(Channel))
    }
    /// Sums over the channel's results.
    async fn totals(&self) -> CampaignResultTotals {
        CampaignResultTotals(self.0.totals.clone())
    }
}

pub struct CampaignMarketResult(pub store::MarketTotals);

/// A campaign's results in one market.
#[Object(requires_scopes = "ads:read")]
impl CampaignMarketResult {
    /// The market.
    async fn market(&self, ctx: &Context<'_>) -> Result<Option<Market>> {
        Ok(loader(ctx)
            .load_one(loaders::MarketId(self.0.market_id))
            .await?
            .map(Market))
    }
    /// Sums over the market's results.
    async fn totals(&self) -> CampaignResultTotals {
        CampaignResultTotals(self.0.totals.clone())
    }
}

pub struct AdResult(pub store::AdResult);

/// What one ad did on one channel in one market on one day (the grain of the results).
#[Object(requires_scopes = "ads:read")]
impl AdResult {
    /// The ad (key part).
    async fn ad_id(&self) -> ID {
        id(self.0.ad_id)
    }
    /// The channel (key part).
    async fn channel_id(&self) -> ID {
        id(self.0.channel_id)
    }
    /// The market (key part).
    async fn market_id(&self) -> ID {
        id(self.0.market_id)
    }
    /// The market's calendar day.
    async fn day(&self) -> Date {
        Date(self.0.day)
    }
    /// The ad's campaign.
    async fn campaign_id(&self) -> ID {
        id(self.0.campaign_id)
    }
    /// The ad.
    async fn ad(&self, ctx: &Context<'_>) -> Result<Option<Ad>> {
        Ok(loader(ctx).load_one(loaders::AdId(self.0.ad_id)).await?.map(Ad))
    }
    /// The channel.
    async fn channel(&self, ctx: &Context<'_>) -> Result<Option<Channel>> {
        Ok(loader(ctx)
            .load_one(loaders::ChannelId(self.0.channel_id))
            .await?
            .map(Channel))
    }
    /// The market.
    async fn market(&self, ctx: &Context<'_>) -> Result<Option<Market>> {
        Ok(loader(ctx)
            .load_one(loaders::MarketId(self.0.market_id))
            .await?
            .map(Market))
    }
    /// Likes (counted among the interactions).
    async fn likes(&self) -> i64 {
        self.0.likes
    }
    /// Impressions; at least `interactions`, which are at least `sales`.
    async fn views(&self) -> i64 {
        self.0.views
    }
    /// Clicks, likes, comments, shares …
    async fn interactions(&self) -> i64 {
        self.0.interactions
    }
    /// Sales attributed to the ad.
    async fn sales(&self) -> i64 {
        self.0.sales
    }
    /// Hours the ad was on screen.
    async fn exposure_hours(&self) -> Decimal {
        self.0.exposure_hours
    }
    /// Distinct people who saw the ad that day.
    async fn reach(&self) -> i64 {
        self.0.reach
    }
    /// Spend in USD.
    async fn cost(&self) -> Decimal {
        self.0.cost
    }
    /// Attributed revenue in USD.
    async fn revenue(&self) -> Decimal {
        self.0.revenue
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the row was retracted (e.g. fraud); only in `adResultsUpdatedSince`.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct SentimentSample(pub store::SentimentSample);

/// How the audience felt about one ad on one channel on one day.
#[Object(requires_scopes = "ads:read")]
impl SentimentSample {
    /// The ad (key part).
    async fn ad_id(&self) -> ID {
        id(self.0.ad_id)
    }
    /// The channel (key part).
    async fn channel_id(&self) -> ID {
        id(self.0.channel_id)
    }
    /// The day (key part).
    async fn day(&self) -> Date {
        Date(self.0.day)
    }
    /// The ad's campaign.
    async fn campaign_id(&self) -> ID {
        id(self.0.campaign_id)
    }
    /// The ad.
    async fn ad(&self, ctx: &Context<'_>) -> Result<Option<Ad>> {
        Ok(loader(ctx).load_one(loaders::AdId(self.0.ad_id)).await?.map(Ad))
    }
    /// The channel.
    async fn channel(&self, ctx: &Context<'_>) -> Result<Option<Channel>> {
        Ok(loader(ctx)
            .load_one(loaders::ChannelId(self.0.channel_id))
            .await?
            .map(Channel))
    }
    /// Net sentiment in [-1, 1].
    async fn polarity(&self) -> Decimal {
        self.0.polarity
    }
    /// Positive mentions.
    async fn positive_count(&self) -> i32 {
        self.0.positive_count
    }
    /// Neutral mentions.
    async fn neutral_count(&self) -> i32 {
        self.0.neutral_count
    }
    /// Negative mentions.
    async fn negative_count(&self) -> i32 {
        self.0.negative_count
    }
    /// The dominant negative type; set whenever polarity is negative.
    async fn negative_type(&self) -> Result<Option<NegativeSentimentType>> {
        self.0
            .negative_type
            .as_deref()
            .map(|t| known(t, NegativeSentimentType::from_db))
            .transpose()
    }
    /// Posts and replies by influencers about the ad that day.
    async fn influencer_reactions(&self) -> i32 {
        self.0.influencer_reactions
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the sample was retracted; only in `sentimentSamplesUpdatedSince`.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct NegativeSentimentAd(pub store::NegativeAd);

/// An ad whose audience turned against it: its sentiment since the asked day compared with the
/// 28 days before, why people object, and whether influencers walked away.
#[Object(requires_scopes = "ads:read")]
impl NegativeSentimentAd {
    /// The ad.
    async fn ad(&self, ctx: &Context<'_>) -> Result<Option<Ad>> {
        Ok(loader(ctx).load_one(loaders::AdId(self.0.ad_id)).await?.map(Ad))
    }
    /// The ad's campaign.
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<Campaign>> {
        Ok(loader(ctx)
            .load_one(loaders::CampaignId(self.0.campaign_id))
            .await?
            .map(Campaign))
    }
    /// Net polarity since the day: (positive − negative) / all mentions; below zero here.
    async fn polarity_since(&self) -> Decimal {
        self.0.polarity_since
    }
    /// Net polarity over the 28 days before; null when nobody mentioned the ad then.
    async fn polarity_before(&self) -> Option<Decimal> {
        self.0.polarity_before
    }
    /// Positive mentions since the day.
    async fn positive_mentions(&self) -> i64 {
        self.0.positive_since
    }
    /// Neutral mentions since the day.
    async fn neutral_mentions(&self) -> i64 {
        self.0.neutral_since
    }
    /// Negative mentions since the day.
    async fn negative_mentions(&self) -> i64 {
        self.0.negative_since
    }
    /// The negative type with the most negative mentions since the day.
    async fn dominant_negative_type(&self) -> Result<Option<NegativeSentimentType>> {
        self.0
            .dominant_negative_type
            .as_deref()
            .map(|t| known(t, NegativeSentimentType::from_db))
            .transpose()
    }
    /// Mean influencer reactions per channel and day over the 28 days before.
    async fn influencer_reactions_before(&self) -> Option<Decimal> {
        self.0.reactions_before
    }
    /// Mean influencer reactions per channel and day since the day.
    async fn influencer_reactions_since(&self) -> Decimal {
        self.0.reactions_since
    }
    /// Relative drop of influencer reactions, (before − since) / before: 0.75 means three
    /// quarters fewer; negative when they rose; null without reactions before.
    async fn influencer_reaction_drop(&self) -> Option<Decimal> {
        self.0.reaction_drop
    }
}

/// The negative-sentiment report of a brand: the asked period and the previous one it is
/// compared with, and the ads (per channel) that qualify.
pub struct NegativeSentimentReport {
    pub brand_id: Uuid,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub rows: Vec<store::NegativeSentimentRow>,
}

/// Ads of a brand that caused negative sentiment on social networks (net polarity below zero in
/// the period, on channels of kind social, professional or influencer) while the influencers'
/// reaction to them dropped against the previous period of equal length.
#[Object(requires_scopes = "ads:read")]
impl NegativeSentimentReport {
    /// The brand asked about.
    async fn brand_id(&self) -> ID {
        id(self.brand_id)
    }
    /// First day of the period (included).
    async fn from(&self) -> Date {
        Date(self.from)
    }
    /// Last day of the period (included).
    async fn to(&self) -> Date {
        Date(self.to)
    }
    /// First day of the previous period, which has the same number of days and ends the day
    /// before `from`.
    async fn previous_from(&self) -> Date {
        Date(self.from - (self.to - self.from) - chrono::Duration::days(1))
    }
    /// Last day of the previous period: the day before `from`.
    async fn previous_to(&self) -> Date {
        Date(self.from - chrono::Duration::days(1))
    }
    /// The ads and channels that qualify, largest reaction drop first.
    async fn rows(&self) -> Vec<NegativeSentimentReportRow> {
        self.rows.iter().cloned().map(NegativeSentimentReportRow).collect()
    }
}

/// One ad on one channel in the negative-sentiment report.
pub struct NegativeSentimentReportRow(pub store::NegativeSentimentRow);

/// An ad on a social channel whose audience turned against it in the period while influencers
/// reacted less than in the previous period.
#[Object(requires_scopes = "ads:read")]
impl NegativeSentimentReportRow {
    /// The ad.
    async fn ad(&self, ctx: &Context<'_>) -> Result<Option<Ad>> {
        Ok(loader(ctx).load_one(loaders::AdId(self.0.ad_id)).await?.map(Ad))
    }
    /// The ad's campaign.
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<Campaign>> {
        Ok(loader(ctx)
            .load_one(loaders::CampaignId(self.0.campaign_id))
            .await?
            .map(Campaign))
    }
    /// The social channel where it happened.
    async fn channel(&self, ctx: &Context<'_>) -> Result<Option<Channel>> {
        Ok(loader(ctx)
            .load_one(loaders::ChannelId(self.0.channel_id))
            .await?
            .map(Channel))
    }
    /// The influencers the ad was placed with on that channel (empty where none was).
    async fn influencers(&self, ctx: &Context<'_>) -> Result<Vec<Influencer>> {
        let found = loader(ctx)
            .load_many(self.0.influencer_ids.iter().copied().map(loaders::InfluencerId))
            .await?;
        Ok(self
            .0
            .influencer_ids
            .iter()
            .filter_map(|i| found.get(&loaders::InfluencerId(*i)).cloned().map(Influencer))
            .collect())
    }
    /// Why people objected: the negative type with the most negative mentions in the period.
    async fn negative_type(&self) -> Result<Option<NegativeSentimentType>> {
        self.0
            .negative_type
            .as_deref()
            .map(|t| known(t, NegativeSentimentType::from_db))
            .transpose()
    }
    /// Net polarity in the period, (positive − negative) / all mentions; below zero here.
    async fn polarity(&self) -> Decimal {
        self.0.polarity
    }
    /// Positive mentions in the period.
    async fn positive_mentions(&self) -> i64 {
        self.0.positive_mentions
    }
    /// Neutral mentions in the period.
    async fn neutral_mentions(&self) -> i64 {
        self.0.neutral_mentions
    }
    /// Negative mentions in the period.
    async fn negative_mentions(&self) -> i64 {
        self.0.negative_mentions
    }
    /// Mean daily influencer reactions in the previous period.
    async fn influencer_reactions_previous(&self) -> Decimal {
        self.0.reactions_previous
    }
    /// Mean daily influencer reactions in the period.
    async fn influencer_reactions_current(&self) -> Decimal {
        self.0.reactions_current
    }
    /// How much the influencer reactions fell, in percent of the previous period's:
    /// 100 × (previous − current) / previous. 60 means 60% fewer.
    async fn influencer_reaction_drop_percent(&self) -> Decimal {
        self.0.reaction_drop_pct
    }
}
