//! What the portal reads, and how the gateway resolves references to this subgraph's entities.

use async_graphql::{Context, ID, InputObject, Object, Result, connection::Connection};
use chrono::{DateTime, Duration, Utc};
use promptsales_platform::gql::{bad_input, encode_cursor, internal};

use super::{
    ConnectionFields, Date, cursor, loader, loaders, page_size, parse_id, part, part_time,
    reports::{AdResult, NegativeSentimentAd, NegativeSentimentReport, SentimentSample},
    scalars::CampaignStatus,
    store, tenant,
    types::{Ad, Brand, Campaign, Channel, Influencer, Market, Product},
};
use crate::store::{AdResultKey, ByFollowers, ByPolarity, ByStart, CampaignFilter, SentimentKey};

/// Longest period the negative-sentiment report accepts (a leap year).
const MAX_REPORT_DAYS: i64 = 366;

/// Criteria of the campaign list; all given criteria must hold.
#[derive(InputObject, Default)]
#[graphql(name = "CampaignFilter")]
pub struct CampaignFilterInput {
    /// Campaigns in this status.
    pub status: Option<CampaignStatus>,
    /// Campaigns of this brand.
    pub brand_id: Option<ID>,
    /// Channel code (e.g. `instagram`): campaigns running on it.
    pub channel: Option<String>,
    /// Market code (e.g. `MX`): campaigns targeting it.
    pub market: Option<String>,
    /// Campaigns starting at or after this time.
    pub started_after: Option<DateTime<Utc>>,
    /// Campaigns starting before this time.
    pub started_before: Option<DateTime<Utc>>,
    /// Text the campaign name contains (case-insensitive).
    pub search: Option<String>,
}

impl CampaignFilterInput {
    fn into_store(self) -> Result<CampaignFilter> {
        Ok(CampaignFilter {
            status: self.status.map(|s| s.as_db().to_owned()),
            brand_id: self
                .brand_id
                .as_ref()
                .map(|b| parse_id("filter.brandId", b))
                .transpose()?,
            channel: self.channel.map(|c| c.trim().to_lowercase()),
            market: self.market.map(|m| m.trim().to_uppercase()),
            started_after: self.started_after,
            started_before: self.started_before,
            search: self.search.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        })
    }
}

#[derive(Default)]
pub struct CatalogQuery;

/// Campaigns, their ads and results, and the reference data they use.
#[Object]
impl CatalogQuery {
    /// Live campaigns, newest start first. A token bound to an organization sees only its own.
    #[graphql(requires_scopes = "ads:read")]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Criteria the campaigns must meet.")] filter: Option<CampaignFilterInput>,
    ) -> Result<Connection<String, Campaign, ConnectionFields>> {
        let first = page_size(first)?;
        let filter = filter.unwrap_or_default().into_store()?;
        let after = cursor(after, 2)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByStart {
                    starts_at: part_time(&p, 0)?,
                    id: part(&p, 1)?,
                })
            })
            .transpose()?;
        let page = store(ctx)
            .campaigns(tenant(ctx), &filter, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |c| encode_cursor(&[&c.starts_at.to_rfc3339(), &c.id.to_string()]),
            Campaign,
        ))
    }

    /// One campaign, or null when it does not exist or is not visible to the caller.
    #[graphql(requires_scopes = "ads:read")]
    async fn campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign id.")] id: ID,
    ) -> Result<Option<Campaign>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::CampaignId(id)).await?.map(Campaign))
    }

    /// One ad, or null.
    #[graphql(requires_scopes = "ads:read")]
    async fn ad(&self, ctx: &Context<'_>, #[graphql(desc = "The ad id.")] id: ID) -> Result<Option<Ad>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::AdId(id)).await?.map(Ad))
    }

    /// Every live channel, by code.
    #[graphql(requires_scopes = "ads:read")]
    async fn channels(&self, ctx: &Context<'_>) -> Result<Vec<Channel>> {
        let rows = store(ctx).channels().await.map_err(|e| internal(ctx, e))?;
        Ok(rows.into_iter().map(Channel).collect())
    }

    /// Every live market, by code.
    #[graphql(requires_scopes = "ads:read")]
    async fn markets(&self, ctx: &Context<'_>) -> Result<Vec<Market>> {
        let rows = store(ctx).markets().await.map_err(|e| internal(ctx, e))?;
        Ok(rows.into_iter().map(Market).collect())
    }

    /// Influencers, most followed first, optionally only those of one home channel.
    #[graphql(requires_scopes = "ads:read")]
    async fn influencers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Home channel code, e.g. `instagram`.")] channel: Option<String>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, Influencer, ConnectionFields>> {
        let first = page_size(first)?;
        let after = cursor(after, 2)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByFollowers {
                    followers: part(&p, 0)?,
                    id: part(&p, 1)?,
                })
            })
            .transpose()?;
        let channel = channel.map(|c| c.trim().to_lowercase());
        let page = store(ctx)
            .influencers(channel.as_deref(), after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |i| encode_cursor(&[&i.followers.to_string(), &i.id.to_string()]),
            Influencer,
        ))
    }

    /// Ads whose audience turned against them: net sentiment since `since` below zero, most
    /// negative first, with the dominant negative type and how influencer reactions dropped
    /// against the 28 days before.
    #[graphql(requires_scopes = "ads:read")]
    async fn negative_sentiment_ads(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the recent window (default: 14 days ago).")] since: Option<Date>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, NegativeSentimentAd, ConnectionFields>> {
        let first = page_size(first)?;
        let since = since.map_or_else(|| (Utc::now() - Duration::days(14)).date_naive(), |d| d.0);
        let after = cursor(after, 2)?
            .map(|p| {
                Ok::<_, async_graphql::Error>(ByPolarity {
                    polarity: part(&p, 0)?,
                    ad_id: part(&p, 1)?,
                })
            })
            .transpose()?;
        let page = store(ctx)
            .negative_sentiment_ads(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(super::connection(
            page,
            |n| encode_cursor(&[&n.polarity_since.to_string(), &n.ad_id.to_string()]),
            NegativeSentimentAd,
        ))
    }

    /// The report the business asked for: the brand's ads that caused negative sentiment on social
    /// networks between `from` and `to` (both included) and whose influencer reaction dropped
    /// against the previous period of the same length, per channel, with the influencers, the
    /// negative type and the percentage drop. A brand the caller cannot see has no rows.
    #[graphql(requires_scopes = "ads:read")]
    async fn negative_sentiment_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The brand whose campaigns are reported.")] brand_id: ID,
        #[graphql(desc = "First day of the period (included).")] from: Date,
        #[graphql(desc = "Last day of the period (included); the period has at most 366 days.")] to: Date,
    ) -> Result<NegativeSentimentReport> {
        let brand = parse_id("brandId", &brand_id)?;
        let (from, to) = (from.0, to.0);
        if to < from {
            return Err(bad_input(
                "to",
                "after_from",
                "the period must not end before it starts",
            ));
        }
        if (to - from).num_days() >= MAX_REPORT_DAYS {
            return Err(bad_input("to", "max_days", "the period has at most 366 days"));
        }
        let rows = store(ctx)
            .negative_sentiment_report(tenant(ctx), brand, from, to)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(NegativeSentimentReport {
            brand_id: brand,
            from,
            to,
            rows,
        })
    }

    /// Federation: resolves a Campaign reference (null when not visible to the caller).
    #[graphql(entity)]
    async fn find_campaign_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Campaign>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::CampaignId(id)).await?.map(Campaign))
    }

    /// Federation: resolves a Channel reference.
    #[graphql(entity)]
    async fn find_channel_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Channel>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::ChannelId(id)).await?.map(Channel))
    }

    /// Federation: resolves a Market reference.
    #[graphql(entity)]
    async fn find_market_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Market>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::MarketId(id)).await?.map(Market))
    }

    /// Federation: resolves an Ad reference.
    #[graphql(entity)]
    async fn find_ad_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Ad>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::AdId(id)).await?.map(Ad))
    }

    /// Federation: resolves an Influencer reference.
    #[graphql(entity)]
    async fn find_influencer_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Influencer>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::InfluencerId(id)).await?.map(Influencer))
    }

    /// Federation: resolves an AdResult reference by its natural key.
    #[graphql(entity)]
    async fn find_ad_result(
        &self,
        ctx: &Context<'_>,
        ad_id: ID,
        channel_id: ID,
        market_id: ID,
        day: Date,
    ) -> Result<Option<AdResult>> {
        let key = AdResultKey {
            ad_id: parse_id("adId", &ad_id)?,
            channel_id: parse_id("channelId", &channel_id)?,
            market_id: parse_id("marketId", &market_id)?,
            day: day.0,
        };
        Ok(loader(ctx).load_one(loaders::AdResultId(key)).await?.map(AdResult))
    }

    /// Federation: resolves a SentimentSample reference by its natural key.
    #[graphql(entity)]
    async fn find_sentiment_sample(
        &self,
        ctx: &Context<'_>,
        ad_id: ID,
        channel_id: ID,
        day: Date,
    ) -> Result<Option<SentimentSample>> {
        let key = SentimentKey {
            ad_id: parse_id("adId", &ad_id)?,
            channel_id: parse_id("channelId", &channel_id)?,
            day: day.0,
        };
        Ok(loader(ctx).load_one(loaders::SampleId(key)).await?.map(SentimentSample))
    }

    /// Federation: the ads side of a Brand (owned by the sales subgraph).
    #[graphql(entity)]
    async fn find_brand_by_id(&self, id: ID) -> Result<Brand> {
        Ok(Brand {
            id: parse_id("id", &id)?,
        })
    }

    /// Federation: the ads side of a Product (owned by the sales subgraph).
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Result<Product> {
        Ok(Product {
            id: parse_id("id", &id)?,
        })
    }
}
