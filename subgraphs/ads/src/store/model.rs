//! Rows of the ads store, as the GraphQL layer reads them. Enumerations stay the store's lowercase
//! text here; the schema maps them to GraphQL enums.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Campaign {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub brand_id: Uuid,
    pub product_id: Option<Uuid>,
    pub name: String,
    pub description: Option<String>,
    pub objective: String,
    pub status: String,
    pub budget: Decimal,
    pub currency: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Channel {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub default_cost_model: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Market {
    pub id: Uuid,
    pub code: String,
    pub country_code: String,
    pub region: String,
    pub name: String,
    pub currency: String,
    pub timezone: String,
}

/// A campaign's link to a channel, with the channel itself.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CampaignChannel {
    pub campaign_id: Uuid,
    pub budget_share: Decimal,
    pub link_updated_at: DateTime<Utc>,
    pub link_deleted_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub channel: Channel,
}

/// A campaign's link to a market, with the market itself.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CampaignMarket {
    pub campaign_id: Uuid,
    pub link_updated_at: DateTime<Utc>,
    pub link_deleted_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub market: Market,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Ad {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    pub format: String,
    pub headline: Option<String>,
    pub body: Option<String>,
    pub call_to_action: Option<String>,
    pub landing_url: Option<String>,
    pub content_image_id: Option<Uuid>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Placement {
    pub id: Uuid,
    pub ad_id: Uuid,
    pub channel_id: Uuid,
    pub influencer_id: Option<Uuid>,
    pub cost_model: String,
    pub unit_cost: Decimal,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Influencer {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub followers: i64,
    pub niche: Option<String>,
    pub country_code: Option<String>,
}

/// The key of a daily result: one ad on one channel in one market on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdResultKey {
    pub ad_id: Uuid,
    pub channel_id: Uuid,
    pub market_id: Uuid,
    pub day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AdResult {
    pub campaign_id: Uuid,
    pub ad_id: Uuid,
    pub channel_id: Uuid,
    pub market_id: Uuid,
    pub day: NaiveDate,
    pub likes: i64,
    pub views: i64,
    pub interactions: i64,
    pub sales: i64,
    pub exposure_hours: Decimal,
    pub reach: i64,
    pub cost: Decimal,
    pub revenue: Decimal,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl AdResult {
    pub fn key(&self) -> AdResultKey {
        AdResultKey {
            ad_id: self.ad_id,
            channel_id: self.channel_id,
            market_id: self.market_id,
            day: self.day,
        }
    }
}

/// The key of a sentiment sample: one ad on one channel on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SentimentKey {
    pub ad_id: Uuid,
    pub channel_id: Uuid,
    pub day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SentimentSample {
    pub campaign_id: Uuid,
    pub ad_id: Uuid,
    pub channel_id: Uuid,
    pub day: NaiveDate,
    pub polarity: Decimal,
    pub positive_count: i32,
    pub neutral_count: i32,
    pub negative_count: i32,
    pub negative_type: Option<String>,
    pub influencer_reactions: i32,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl SentimentSample {
    pub fn key(&self) -> SentimentKey {
        SentimentKey {
            ad_id: self.ad_id,
            channel_id: self.channel_id,
            day: self.day,
        }
    }
}

/// Sums of daily results over a set of rows.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Totals {
    pub views: i64,
    pub interactions: i64,
    pub likes: i64,
    pub sales: i64,
    pub reach: i64,
    pub exposure_hours: Decimal,
    pub cost: Decimal,
    pub revenue: Decimal,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DayTotals {
    pub campaign_id: Uuid,
    pub day: NaiveDate,
    #[sqlx(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChannelTotals {
    pub campaign_id: Uuid,
    pub channel_id: Uuid,
    #[sqlx(flatten)]
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MarketTotals {
    pub campaign_id: Uuid,
    pub market_id: Uuid,
    #[sqlx(flatten)]
    pub totals: Totals,
}

/// An ad whose audience turned against it: its sentiment since a day against the four weeks
/// before, and what influencers did.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NegativeAd {
    pub ad_id: Uuid,
    pub campaign_id: Uuid,
    /// Net polarity since the day: (positive − negative) / all mentions, 4 decimals.
    pub polarity_since: Decimal,
    /// The same over the 28 days before; `None` when there were no mentions then.
    pub polarity_before: Option<Decimal>,
    pub positive_since: i64,
    pub neutral_since: i64,
    pub negative_since: i64,
    /// The negative type with the most negative mentions since the day.
    pub dominant_negative_type: Option<String>,
    /// Mean influencer reactions per ad, channel and day, before and since (2 decimals).
    pub reactions_before: Option<Decimal>,
    pub reactions_since: Decimal,
    /// (before − since) / before, 4 decimals; `None` without reactions before.
    pub reaction_drop: Option<Decimal>,
}

/// One row of the negative-sentiment report (`ads.pradsfn_negative_sentiment_report`, migration
/// 0004): an ad on a social channel with net negative sentiment in the asked period whose
/// influencer reactions dropped against the previous period of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeSentimentRow {
    pub ad_id: Uuid,
    pub campaign_id: Uuid,
    pub channel_id: Uuid,
    /// Influencers placed with the ad on that channel, by id (empty on channels without them).
    pub influencer_ids: Vec<Uuid>,
    /// The negative type with the most negative mentions in the period.
    pub negative_type: Option<String>,
    pub positive_mentions: i64,
    pub neutral_mentions: i64,
    pub negative_mentions: i64,
    /// Net polarity in the period: (positive − negative) / all mentions, 4 decimals; below zero.
    pub polarity: Decimal,
    /// Mean daily influencer reactions in the previous and the asked period (2 decimals).
    pub reactions_previous: Decimal,
    pub reactions_current: Decimal,
    /// 100 × (previous − current) / previous, 2 decimals; above zero.
    pub reaction_drop_pct: Decimal,
}

impl NegativeSentimentRow {
    /// The report's order on every engine: largest drop first, then by ad and channel id (engines
    /// order UUIDs differently, so the adapters sort in Rust).
    pub fn sort(rows: &mut [NegativeSentimentRow]) {
        rows.sort_by(|a, b| {
            b.reaction_drop_pct
                .cmp(&a.reaction_drop_pct)
                .then(a.ad_id.cmp(&b.ad_id))
                .then(a.channel_id.cmp(&b.channel_id))
        });
    }
}
