//! GraphQL object types of the sales subgraph. Each wraps a store row; relations go through the
//! request's DataLoaders.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{loader, loaders};
use crate::store;

pub struct Organization(pub store::Organization);

/// A customer organization of PromptSales (a tenant).
#[Object(requires_scopes = "sales:read")]
impl Organization {
    /// Stable id, the same in every store.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Trading name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Registered legal name.
    async fn legal_name(&self) -> Option<&str> {
        self.0.legal_name.as_deref()
    }
    /// ISO 3166-1 alpha-2 country of registration.
    async fn country_code(&self) -> &str {
        &self.0.country_code
    }
    /// Industry, free text (e.g. `retail`).
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }
    /// `active`, `suspended` (unpaid: read-only portal) or `closed`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// When the organization became a customer.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the organization was deleted (only visible through `…UpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    /// The organization's brands, by name.
    async fn brands(&self, ctx: &Context<'_>) -> Result<Vec<Brand>> {
        Ok(loader(ctx)
            .load_one(loaders::BrandsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Brand)
            .collect())
    }
}

pub struct Brand(pub store::Brand);

/// A brand of an organization.
#[Object(requires_scopes = "sales:read")]
impl Brand {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the brand stands for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Public web site (http or https URL).
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// The organization that owns the brand.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        Ok(loader(ctx)
            .load_one(loaders::OrgId(self.0.organization_id))
            .await?
            .map(Organization))
    }
    /// The brand's products, by name.
    async fn products(&self, ctx: &Context<'_>) -> Result<Vec<Product>> {
        Ok(loader(ctx)
            .load_one(loaders::ProductsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Product)
            .collect())
    }
}

pub struct Product(pub store::Product);

/// A product of a brand, with its list price.
#[Object(requires_scopes = "sales:read")]
impl Product {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Stock-keeping unit, unique within the organization.
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Catalogue category (e.g. `beverages`).
    async fn category(&self) -> Option<&str> {
        self.0.category.as_deref()
    }
    /// List price per unit, in `currency`.
    async fn unit_price(&self) -> Decimal {
        self.0.unit_price
    }
    /// ISO 4217 currency of the price.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// Whether the product is on sale.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The brand the product belongs to.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Option<Brand>> {
        Ok(loader(ctx)
            .load_one(loaders::BrandId(self.0.brand_id))
            .await?
            .map(Brand))
    }
}

pub struct Campaign {
    pub id: Uuid,
}

/// A marketing campaign (owned by the ads subgraph); this subgraph adds its central read model.
#[Object]
impl Campaign {
    /// The campaign id, the same in every store.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    /// Totals across stores, refreshed by the ETL every 11 minutes; null until the first load.
    #[graphql(requires_scopes = "sales:read")]
    async fn summary(&self, ctx: &Context<'_>) -> Result<Option<CampaignSummary>> {
        Ok(loader(ctx)
            .load_one(loaders::SummaryOf(self.id))
            .await?
            .map(CampaignSummary))
    }
}

pub struct CampaignSummary(pub store::CampaignSummary);

/// A campaign's results across PromptAds and PromptCrm, as last loaded by the ETL.
#[Object(requires_scopes = "sales:read")]
impl CampaignSummary {
    /// Audience reached (unique people shown an ad).
    async fn reach(&self) -> i64 {
        self.0.reach
    }
    /// Customers of the CRM linked to the campaign and reached; never above `reach`.
    async fn customers_reached(&self) -> i64 {
        self.0.customers_reached
    }
    async fn views(&self) -> i64 {
        self.0.views
    }
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
}
