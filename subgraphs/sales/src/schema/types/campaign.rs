//! The sales side of a campaign (owned by the ads subgraph): its plan, sign-off and calendar, and
//! the read models the ETL loads.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Approval, Brand, CampaignPlan, CampaignStatus, Organization, Product, ScheduledTask, id};
use crate::schema::{loader, loaders};
use crate::store::{self, DayRange};

pub struct Campaign {
    pub id: Uuid,
}

/// A marketing campaign (owned by the ads subgraph); this subgraph adds its plan, sign-off and
/// calendar, and its results across stores. Every field but the key is nullable
/// (docs/schema-rules.md): when this subgraph fails, or the caller lacks `sales:read`, only these
/// fields are null, never the campaign.
#[Object]
impl Campaign {
    /// The campaign id, the same in every store.
    async fn id(&self) -> ID {
        id(self.id)
    }
    /// Totals across stores, refreshed by the ETL every 11 minutes; null until the first load.
    #[graphql(requires_scopes = "sales:read")]
    async fn summary(&self, ctx: &Context<'_>) -> Result<Option<CampaignSummary>> {
        Ok(loader(ctx)
            .load_one(loaders::SummaryOf(self.id))
            .await?
            .map(CampaignSummary))
    }
    /// Results per UTC day (all ads, channels and markets), oldest first, loaded by the ETL.
    #[graphql(requires_scopes = "sales:read")]
    async fn daily_metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day included; open when omitted.")] from: Option<NaiveDate>,
        #[graphql(desc = "Last day included; open when omitted. Not before `from`.")] to: Option<NaiveDate>,
    ) -> Result<Option<Vec<DailyMetric>>> {
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(promptsales_platform::gql::bad_input(
                "to",
                "not_before_from",
                "must not be before `from`",
            ));
        }
        let key = loaders::MetricsOf {
            campaign: self.id,
            range: DayRange { from, to },
        };
        Ok(Some(
            loader(ctx)
                .load_one(key)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(DailyMetric)
                .collect(),
        ))
    }
    /// The campaign's plan in PromptSales; null when it was not planned here.
    #[graphql(requires_scopes = "sales:read")]
    async fn plan(&self, ctx: &Context<'_>) -> Result<Option<CampaignPlan>> {
        Ok(loader(ctx).load_one(loaders::PlanOf(self.id)).await?.map(CampaignPlan))
    }
    /// The sign-off steps of the campaign's plan, in order.
    #[graphql(requires_scopes = "sales:read")]
    async fn approvals(&self, ctx: &Context<'_>) -> Result<Option<Vec<Approval>>> {
        Ok(Some(
            loader(ctx)
                .load_one(loaders::ApprovalsOf(self.id))
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(Approval)
                .collect(),
        ))
    }
    /// The campaign's calendar: its tasks by due time, each with its reminders.
    #[graphql(requires_scopes = "sales:read")]
    async fn schedule(&self, ctx: &Context<'_>) -> Result<Option<Vec<ScheduledTask>>> {
        Ok(Some(
            loader(ctx)
                .load_one(loaders::TasksOf(self.id))
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(ScheduledTask)
                .collect(),
        ))
    }
}

pub struct CampaignSummary(pub store::CampaignSummary);

/// A campaign's results across PromptAds and PromptCrm, as last loaded by the ETL.
#[Object(requires_scopes = "sales:read")]
impl CampaignSummary {
    /// The campaign summarised (its PromptAds fields resolve through the gateway; null when ads
    /// cannot complete it).
    async fn campaign(&self) -> Option<Campaign> {
        Some(Campaign { id: self.0.campaign_id })
    }
    /// The campaign's name, as of the last load.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The campaign's status, as of the last load.
    async fn status(&self) -> Result<CampaignStatus> {
        CampaignStatus::from_db(&self.0.status)
    }
    /// The campaign's start, as of the last load.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// The campaign's end, as of the last load.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Audience reached (unique people shown an ad).
    async fn reach(&self) -> i64 {
        self.0.reach
    }
    /// Customers of the CRM linked to the campaign and reached; never above `reach`.
    async fn customers_reached(&self) -> i64 {
        self.0.customers_reached
    }
    /// Impressions / views of its ads.
    async fn views(&self) -> i64 {
        self.0.views
    }
    /// Interactions with its ads (clicks, comments, shares, …).
    async fn interactions(&self) -> i64 {
        self.0.interactions
    }
    /// Reactions: likes.
    async fn likes(&self) -> i64 {
        self.0.likes
    }
    /// Positive and negative reactions measured by sentiment sampling.
    async fn positive_reactions(&self) -> i64 {
        self.0.positive_reactions
    }
    /// Negative reactions measured by sentiment sampling.
    async fn negative_reactions(&self) -> i64 {
        self.0.negative_reactions
    }
    /// Number of sales attributed to the campaign.
    async fn sales_count(&self) -> i64 {
        self.0.sales_count
    }
    /// Revenue in USD.
    async fn revenue(&self) -> Decimal {
        self.0.revenue
    }
    /// Spend in USD.
    async fn cost(&self) -> Decimal {
        self.0.cost
    }
    /// Budget in USD.
    async fn budget(&self) -> Decimal {
        self.0.budget
    }
    /// (revenue − cost) / cost; null when nothing was spent.
    async fn roi(&self) -> Option<Decimal> {
        self.0.roi
    }
    /// Sales per customer reached; null when nobody was reached.
    async fn success_rate(&self) -> Option<Decimal> {
        self.0.success_rate
    }
    /// Channel codes the campaign ran on.
    async fn channels(&self) -> &[String] {
        &self.0.channels
    }
    /// Market codes the campaign ran in.
    async fn markets(&self) -> &[String] {
        &self.0.markets
    }
    /// When the ETL last refreshed this summary.
    async fn refreshed_at(&self) -> DateTime<Utc> {
        self.0.refreshed_at
    }
    /// The organization running the campaign.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(loader(ctx)
            .load_one(loaders::OrgId(self.0.organization_id))
            .await?
            .map(Organization))
    }
    /// The brand promoted.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Option<Brand>> {
        Ok(loader(ctx)
            .load_one(loaders::BrandId(self.0.brand_id))
            .await?
            .map(Brand))
    }
    /// The product promoted; null for a brand-level campaign.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        let Some(product) = self.0.product_id else {
            return Ok(None);
        };
        Ok(loader(ctx).load_one(loaders::ProductId(product)).await?.map(Product))
    }
}

pub struct DailyMetric(pub store::DailyMetric);

/// A campaign's results on one UTC day, summed over its ads, channels and markets.
#[Object(requires_scopes = "sales:read")]
impl DailyMetric {
    /// The UTC day.
    async fn day(&self) -> NaiveDate {
        self.0.day
    }
    /// Audience reached that day.
    async fn reach(&self) -> i64 {
        self.0.reach
    }
    /// Impressions / views that day.
    async fn views(&self) -> i64 {
        self.0.views
    }
    /// Interactions that day.
    async fn interactions(&self) -> i64 {
        self.0.interactions
    }
    /// Likes that day.
    async fn likes(&self) -> i64 {
        self.0.likes
    }
    /// Sales attributed that day.
    async fn sales_count(&self) -> i64 {
        self.0.sales_count
    }
    /// Revenue in USD.
    async fn revenue(&self) -> Decimal {
        self.0.revenue
    }
    /// Spend in USD.
    async fn cost(&self) -> Decimal {
        self.0.cost
    }
}
