//! Tenants and their catalogue.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Contact, PlanSubscription, PortalUser, id};
use crate::schema::{Conn, MAX_PAGE, after_text, connection, loader, loaders, text_cursor};
use crate::store;

pub struct Organization(pub store::Organization);

/// A customer organization of PromptSales (a tenant).
#[Object(requires_scopes = "sales:read")]
impl Organization {
    /// Stable id, the same in every store.
    async fn id(&self) -> ID {
        id(self.0.id)
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
    /// The organization's subscriptions, newest first, cancelled and expired ones included (history).
    async fn subscriptions(&self, ctx: &Context<'_>) -> Result<Vec<PlanSubscription>> {
        Ok(loader(ctx)
            .load_one(loaders::SubscriptionsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PlanSubscription)
            .collect())
    }
    /// The organization's portal users, by display name.
    async fn portal_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<PortalUser>> {
        let first = promptsales_platform::gql::page_size(first, 20, MAX_PAGE)?;
        let key = loaders::UsersOf {
            org: self.0.id,
            first,
            after: after_text(after)?,
        };
        let page = loader(ctx).load_one(key).await?.unwrap_or(store::Page {
            items: Vec::new(),
            has_more: false,
            total: 0,
        });
        Ok(connection(page, |u| text_cursor(&u.display_name, u.id), PortalUser))
    }
    /// People to talk to at the organization (billing, marketing), the primary contact first.
    async fn contacts(&self, ctx: &Context<'_>) -> Result<Vec<Contact>> {
        Ok(loader(ctx)
            .load_one(loaders::ContactsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Contact)
            .collect())
    }
}

pub struct Brand(pub store::Brand);

/// A brand of an organization. PromptAds keeps a reference copy (id, organization, name), synced
/// through `brandsUpdatedSince`.
#[Object(requires_scopes = "sales:read")]
impl Brand {
    /// Stable id, the same in every store.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Brand name, unique within the organization.
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
    /// Id of the organization that owns the brand (also for brands of deleted organizations).
    async fn organization_id(&self) -> ID {
        id(self.0.organization_id)
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
    /// When the brand was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the brand was deleted (only visible through `brandsUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

pub struct Product(pub store::Product);

/// A product of a brand, with its list price. PromptAds keeps a reference copy (id, organization,
/// brand, name, unit price, currency), synced through `productsUpdatedSince`.
#[Object(requires_scopes = "sales:read")]
impl Product {
    /// Stable id, the same in every store.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Stock-keeping unit, unique within the organization.
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    /// Product name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the product is.
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
    /// Id of the brand the product belongs to.
    async fn brand_id(&self) -> ID {
        id(self.0.brand_id)
    }
    /// Id of the organization that owns the product (always the brand's).
    async fn organization_id(&self) -> ID {
        id(self.0.organization_id)
    }
    /// The brand the product belongs to.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Option<Brand>> {
        Ok(loader(ctx)
            .load_one(loaders::BrandId(self.0.brand_id))
            .await?
            .map(Brand))
    }
    /// When the product was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change, set by the store.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set when the product was deleted (only visible through `productsUpdatedSince`).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}
