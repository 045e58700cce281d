//! The sales store behind one trait, so the GraphQL layer never sees SQL. PostgreSQL is the only
//! engine of this store (ARCHITECTURE.md); the trait still keeps the schema testable and the
//! queries in one place. Every call takes the caller's organization: `Some` filters to that
//! tenant, `None` (staff) sees all.

mod model;
mod pg;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
pub use model::*;
pub use pg::PgStore;
use uuid::Uuid;

/// A store failure. Its text goes to the log, never to a client.
#[derive(Debug, thiserror::Error)]
#[error("sales store: {0}")]
pub struct StoreError(#[from] pub sqlx::Error);

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Keyset position in a list ordered by `(sort key, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub key: String,
    pub id: Uuid,
}

/// One page of a list, with the total count of the list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    pub total: i64,
}

#[async_trait::async_trait]
pub trait SalesStore: Send + Sync + 'static {
    /// Answers when the store can serve (readiness).
    async fn ping(&self) -> Result<()>;
    /// Organizations by name, then id.
    async fn organizations(
        &self,
        tenant: Option<Uuid>,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Organization>>;
    async fn organizations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Organization>>;
    async fn brands_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Brand>>;
    async fn brands_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> Result<HashMap<Uuid, Vec<Brand>>>;
    async fn products_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Product>>;
    async fn products_by_brand(&self, tenant: Option<Uuid>, brands: &[Uuid]) -> Result<HashMap<Uuid, Vec<Product>>>;
    async fn summaries_by_campaign(&self, tenant: Option<Uuid>, ids: &[Uuid])
    -> Result<HashMap<Uuid, CampaignSummary>>;
    /// Organizations changed (or deleted) after `since`, oldest change first, for the ETL.
    async fn organizations_updated_since(
        &self,
        since: DateTime<Utc>,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Organization>>;
}
