//! GraphQL object types of campaigns and what they run on. Each wraps a store row; relations go
//! through the request's DataLoaders.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use promptsales_platform::gql::cache_control;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    loader, loaders,
    reports::CampaignResults,
    scalars::{AdFormat, AdStatus, CampaignObjective, CampaignStatus, ChannelKind, CostModel, Date, known},
};
use crate::store::{self, DayRange};

fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

pub struct Campaign(pub store::Campaign);

/// An advertising campaign: a budget spent on ads in some channels and markets between two
/// dates. Owned by the ads subgraph; crm, sales and content add their own fields.
// Scopes sit on the fields, not the type: the type is shared with the other subgraphs, whose
// fields need their own scopes, not ads:read.
#[Object]
impl Campaign {
    /// Stable id, the same in every store.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Name shown in the portal (up to 200 characters).
    #[graphql(requires_scopes = "ads:read")]
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the campaign is about (up to 4000 characters).
    #[graphql(requires_scopes = "ads:read")]
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// What the campaign is meant to achieve.
    #[graphql(requires_scopes = "ads:read")]
    async fn objective(&self) -> Result<CampaignObjective> {
        known(&self.0.objective, CampaignObjective::from_db)
    }
    /// Where the campaign is in its life; changed with `updateCampaignStatus`.
    #[graphql(requires_scopes = "ads:read")]
    async fn status(&self) -> Result<CampaignStatus> {
        known(&self.0.status, CampaignStatus::from_db)
    }
    /// Total budget, in `currency`.
    #[graphql(requires_scopes = "ads:read")]
    async fn budget(&self) -> Decimal {
        self.0.budget
    }
    /// ISO 4217 currency of the budget.
    #[graphql(requires_scopes = "ads:read")]
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// When the campaign starts.
    #[graphql(requires_scopes = "ads:read")]
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When the campaign ends (after it starts).
    #[graphql(requires_scopes = "ads:read")]
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Optimistic-concurrency version: pass it as `expectedVersion` when changing the campaign.
    #[graphql(requires_scopes = "ads:read")]
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The organization that runs the campaign (resolved by the sales subgraph; null when sales
    /// cannot answer or the caller lacks `sales:read`).
    #[graphql(requires_scopes = "ads:read")]
    async fn organization(&self) -> Option<Organization> {
        Some(Organization {
            id: id(self.0.organization_id),
        })
    }
    /// The brand advertised (its details come from the sales subgraph; null when sales cannot
    /// answer or the caller lacks `sales:read`).
    #[graphql(requires_scopes = "ads:read")]
    async fn brand(&self) -> Option<Brand> {
        Some(Brand { id: self.0.brand_id })
    }
    /// The product advertised, if the campaign is about one (details from the sales subgraph).
    #[graphql(requires_scopes = "ads:read")]
    async fn product(&self) -> Option<Product> {
        self.0.product_id.map(|id| Product { id })
    }
    /// Portal user who created the campaign (a PromptSales user id).
    #[graphql(requires_scopes = "ads:read")]
    async fn created_by(&self) -> Option<ID> {
        self.0.created_by.map(id)
    }
    /// When the campaign was created.
    #[graphql(requires_scopes = "ads:read")]
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    #[graphql(requires_scopes = "ads:read")]
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the campaign was deleted (only visible through `campaignsUpdatedSince`).
    #[graphql(requires_scopes = "ads:read")]
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    /// The channels the campaign runs on and their share of its budget, largest share first.
    #[graphql(requires_scopes = "ads:read")]
    async fn channels(&self, ctx: &Context<'_>) -> Result<Vec<CampaignChannel>> {
        Ok(loader(ctx)
            .load_one(loaders::ChannelsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(CampaignChannel)
            .collect())
    }
    /// The markets the campaign targets, by code.
    #[graphql(requires_scopes = "ads:read")]
    async fn markets(&self, ctx: &Context<'_>) -> Result<Vec<Market>> {
        Ok(loader(ctx)
            .load_one(loaders::MarketsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|l| Market(l.market))
            .collect())
    }
    /// The campaign's ads, by name.
    #[graphql(requires_scopes = "ads:read")]
    async fn ads(&self, ctx: &Context<'_>) -> Result<Vec<Ad>> {
        Ok(loader(ctx)
            .load_one(loaders::AdsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Ad)
            .collect())
    }
    /// What the campaign achieved between two days (inclusive; open ends are unbounded): totals,
    /// a daily series, and the split by channel and by market. Computed from the daily results.
    #[graphql(requires_scopes = "ads:read")]
    async fn results(
        &self,
        #[graphql(desc = "First day included (default: the first day with results).")] from: Option<Date>,
        #[graphql(desc = "Last day included (default: the last day with results).")] to: Option<Date>,
    ) -> Result<CampaignResults> {
        if let (Some(f), Some(t)) = (from, to)
            && t.0 < f.0
        {
            return Err(promptsales_platform::gql::bad_input(
                "to",
                "after_from",
                "`to` must not be before `from`",
            ));
        }
        Ok(CampaignResults {
            key: loaders::Ranged {
                campaign: self.0.id,
                range: DayRange {
                    from: from.map(|d| d.0),
                    to: to.map(|d| d.0),
                },
            },
        })
    }
}

pub struct CampaignChannel(pub store::CampaignChannel);

/// A channel a campaign runs on, with the share of the campaign's budget it gets.
#[Object(requires_scopes = "ads:read")]
impl CampaignChannel {
    /// The campaign.
    async fn campaign_id(&self) -> ID {
        id(self.0.campaign_id)
    }
    /// The channel.
    async fn channel(&self) -> Channel {
        Channel(self.0.channel.clone())
    }
    /// Fraction of the campaign budget, in (0, 1]; a campaign's shares add up to at most 1.
    async fn budget_share(&self) -> Decimal {
        self.0.budget_share
    }
    /// Last change of the link, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.link_updated_at
    }
    /// Set when the channel was removed from the campaign (only in `campaignChannelsUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.link_deleted_at
    }
}

pub struct CampaignMarket(pub store::CampaignMarket);

/// A market a campaign targets (the ETL's view of the link).
#[Object(requires_scopes = "etl:run")]
impl CampaignMarket {
    /// The campaign.
    async fn campaign_id(&self) -> ID {
        id(self.0.campaign_id)
    }
    /// The market.
    async fn market(&self) -> Market {
        Market(self.0.market.clone())
    }
    /// Last change of the link, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.link_updated_at
    }
    /// Set when the market was removed from the campaign.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.link_deleted_at
    }
}

pub struct Channel(pub store::Channel);

/// A media channel ads run on (Instagram, e-mail …). Shared reference data: the id is UUIDv5 of
/// the code, the same in every store. Changes about never: cached for an hour.
#[Object(requires_scopes = "ads:read", directive = cache_control::apply(3600))]
impl Channel {
    /// UUIDv5 of the code, the same in every store.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Lowercase code, e.g. `instagram`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Display name, e.g. `Instagram`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What kind of channel it is.
    async fn kind(&self) -> Result<ChannelKind> {
        known(&self.0.kind, ChannelKind::from_db)
    }
    /// Cost model proposed for new placements on this channel.
    async fn default_cost_model(&self) -> Result<CostModel> {
        known(&self.0.default_cost_model, CostModel::from_db)
    }
}

pub struct Market(pub store::Market);

/// A target market (a country or part of one). Shared reference data: the id is UUIDv5 of the code.
/// Changes about never: cached for an hour.
#[Object(requires_scopes = "ads:read", directive = cache_control::apply(3600))]
impl Market {
    /// UUIDv5 of the code, the same in every store.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Uppercase code, e.g. `MX`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country_code(&self) -> &str {
        &self.0.country_code
    }
    /// Reporting region, e.g. `LATAM`.
    async fn region(&self) -> &str {
        &self.0.region
    }
    /// Display name, e.g. `Mexico`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Local ISO 4217 currency.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// IANA time zone: where the market's day starts.
    async fn timezone(&self) -> &str {
        &self.0.timezone
    }
}

pub struct Ad(pub store::Ad);

/// A creative of a campaign.
#[Object(requires_scopes = "ads:read")]
impl Ad {
    /// Stable id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The campaign the ad belongs to.
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<Campaign>> {
        Ok(loader(ctx)
            .load_one(loaders::CampaignId(self.0.campaign_id))
            .await?
            .map(Campaign))
    }
    /// Internal name (up to 200 characters).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The creative form.
    async fn format(&self) -> Result<AdFormat> {
        known(&self.0.format, AdFormat::from_db)
    }
    /// Title line (up to 200 characters).
    async fn headline(&self) -> Option<&str> {
        self.0.headline.as_deref()
    }
    /// Main text (up to 2000 characters).
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    /// Button text, e.g. `Buy now` (up to 60 characters).
    async fn call_to_action(&self) -> Option<&str> {
        self.0.call_to_action.as_deref()
    }
    /// Where the ad leads (http or https).
    async fn landing_url(&self) -> Option<&str> {
        self.0.landing_url.as_deref()
    }
    /// The PromptContent image the ad shows (resolved by the content subgraph).
    async fn image(&self) -> Option<Image> {
        self.0.content_image_id.map(|i| Image { id: id(i) })
    }
    /// Whether the ad is running.
    async fn status(&self) -> Result<AdStatus> {
        known(&self.0.status, AdStatus::from_db)
    }
    /// Where the ad runs: channels, optionally through influencers.
    async fn placements(&self, ctx: &Context<'_>) -> Result<Vec<AdPlacement>> {
        Ok(loader(ctx)
            .load_one(loaders::PlacementsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(AdPlacement)
            .collect())
    }
    /// When the ad was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct AdPlacement(pub store::Placement);

/// Where an ad runs: a channel, optionally through an influencer, and what it costs there.
#[Object(requires_scopes = "ads:read")]
impl AdPlacement {
    /// Stable id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The channel the ad runs on.
    async fn channel(&self, ctx: &Context<'_>) -> Result<Option<Channel>> {
        Ok(loader(ctx)
            .load_one(loaders::ChannelId(self.0.channel_id))
            .await?
            .map(Channel))
    }
    /// The influencer the ad is placed with, if any.
    async fn influencer(&self, ctx: &Context<'_>) -> Result<Option<Influencer>> {
        match self.0.influencer_id {
            Some(i) => Ok(loader(ctx).load_one(loaders::InfluencerId(i)).await?.map(Influencer)),
            None => Ok(None),
        }
    }
    /// How the placement is paid for.
    async fn cost_model(&self) -> Result<CostModel> {
        known(&self.0.cost_model, CostModel::from_db)
    }
    /// USD per unit of `costModel` (per 1000 views, click, sale, or the whole placement).
    async fn unit_cost(&self) -> Decimal {
        self.0.unit_cost
    }
    /// Null: from the campaign's start.
    async fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.0.starts_at
    }
    /// Null: until the campaign's end.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
}

pub struct Influencer(pub store::Influencer);

/// Someone with an audience that ads can be placed with, on a home channel.
#[Object(requires_scopes = "ads:read")]
impl Influencer {
    /// Stable id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Lowercase handle without the leading `@`; unique on its channel.
    async fn handle(&self) -> &str {
        &self.0.handle
    }
    /// Name as shown on the channel.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Audience size on the home channel.
    async fn followers(&self) -> i64 {
        self.0.followers
    }
    /// Topic, e.g. `fitness`.
    async fn niche(&self) -> Option<&str> {
        self.0.niche.as_deref()
    }
    /// ISO 3166-1 alpha-2 country.
    async fn country_code(&self) -> Option<&str> {
        self.0.country_code.as_deref()
    }
    /// The channel the influencer publishes on.
    async fn home_channel(&self, ctx: &Context<'_>) -> Result<Option<Channel>> {
        Ok(loader(ctx)
            .load_one(loaders::ChannelId(self.0.channel_id))
            .await?
            .map(Channel))
    }
}

pub struct Brand {
    pub id: Uuid,
}

/// A brand (owned by the sales subgraph); this subgraph adds the brand's campaigns.
#[Object]
impl Brand {
    /// The brand id, the same in every store.
    async fn id(&self) -> ID {
        id(self.id)
    }
    /// The brand's live campaigns, newest start first (null when this subgraph cannot answer or
    /// the caller lacks `ads:read`).
    #[graphql(requires_scopes = "ads:read")]
    async fn campaigns(&self, ctx: &Context<'_>) -> Result<Option<Vec<Campaign>>> {
        Ok(Some(
            loader(ctx)
                .load_one(loaders::CampaignsOfBrand(self.id))
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(Campaign)
                .collect(),
        ))
    }
}

pub struct Product {
    pub id: Uuid,
}

/// A product (owned by the sales subgraph); this subgraph adds the product's campaigns.
#[Object]
impl Product {
    /// The product id, the same in every store.
    async fn id(&self) -> ID {
        id(self.id)
    }
    /// The product's live campaigns, newest start first (null when this subgraph cannot answer or
    /// the caller lacks `ads:read`).
    #[graphql(requires_scopes = "ads:read")]
    async fn campaigns(&self, ctx: &Context<'_>) -> Result<Option<Vec<Campaign>>> {
        Ok(Some(
            loader(ctx)
                .load_one(loaders::CampaignsOfProduct(self.id))
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(Campaign)
                .collect(),
        ))
    }
}

/// A customer organization (owned and resolved by the sales subgraph).
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Organization {
    /// The organization id, the same in every store.
    pub id: ID,
}

/// An image of the PromptContent library (owned and resolved by the content subgraph).
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Image {
    /// The image id.
    pub id: ID,
}
