//! Results and sentiment: the daily facts as entities (for the ETL and the gateway), and the
//! reports over them. Every figure here is aggregated by the store in SQL.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    loader, loaders,
    scalars::{Date, NegativeSentimentType, known},
    types::{Ad, Campaign, Channel, Market},
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
