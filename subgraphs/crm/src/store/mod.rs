//! The crm store behind one trait, so the GraphQL layer never sees SQL. Two adapters implement it
//! with the same semantics: PostgreSQL (`PgStore`, sqlx; local default and tests) and SQL Server
//! (`MssqlStore`, tiberius over a bb8 pool; the prescribed store). The scheme of the store URL
//! picks one ([`connect`]).
//!
//! Every call takes the caller's organization: `Some` filters to that tenant, `None` (staff) sees
//! all. Lists skip tombstones (`deleted_at` set); by-id lookups return them (the schema decides
//! whether a deleted row may be shown) and `…_updated_since` returns them on purpose (the ETL must
//! see deletions). The store never sees plaintext PII: lookups by e-mail or national id come in as
//! blind indexes computed by the caller.

mod model;
mod mssql;
mod pg;
mod pg_privacy;

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
pub use model::*;
pub use mssql::MssqlStore;
pub use pg::PgStore;
use promptsales_platform::{Backend, StoreUrl, crypto::WrappedKey};
use uuid::Uuid;

/// A store failure. Its text goes to the log, never to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("crm store (PostgreSQL): {0}")]
    Pg(#[from] sqlx::Error),
    #[error("crm store (SQL Server): {0}")]
    Mssql(#[from] tiberius::error::Error),
    #[error("crm store (SQL Server pool): {0}")]
    Pool(String),
    #[error("crm store (SQL Server): column `{0}` is NULL or of an unexpected type")]
    Decode(&'static str),
    #[error("crm store: {0}")]
    Config(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What an erased customer's first and last name become: the columns are NOT NULL (lists sort
/// by them), and a fixed word carries nothing about the person.
pub const ERASED_NAME: &str = "Erased";

/// Opens the adapter the URL's scheme names (PostgreSQL or SQL Server).
pub async fn connect(url: &StoreUrl) -> Result<Arc<dyn CrmStore>> {
    match url.backend() {
        Backend::Postgres => Ok(Arc::new(PgStore::connect(url).await?)),
        Backend::Mssql => Ok(Arc::new(MssqlStore::connect(url).await?)),
        other => Err(StoreError::Config(format!("no {other} adapter for the crm store"))),
    }
}

/// Keyset position in the customer list, ordered by `(last_name, first_name, id)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameAfter {
    pub last_name: String,
    pub first_name: String,
    pub id: Uuid,
}

/// Keyset position in a list ordered by `(time, id)`: newest first for timelines, oldest first
/// for `…_updated_since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeAfter {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// Keyset position in `campaign_customers_updated_since`, ordered by
/// `(updated_at, campaign_id, customer_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkAfter {
    pub at: DateTime<Utc>,
    pub campaign_id: Uuid,
    pub customer_id: Uuid,
}

/// One page of a list, with the total count of the list (all pages).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    pub total: i64,
}

impl<T> Page<T> {
    /// An empty list.
    pub fn empty() -> Page<T> {
        Page {
            items: Vec::new(),
            has_more: false,
            total: 0,
        }
    }

    /// `items` fetched with `LIMIT first + 1`: the extra row only says there is more.
    pub(crate) fn from_probe(mut items: Vec<T>, first: usize, total: i64) -> Page<T> {
        let has_more = items.len() > first;
        items.truncate(first);
        Page { items, has_more, total }
    }
}

/// Which customers a list shows. Every condition present must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: Option<String>,
    /// City, compared case-insensitively.
    pub city: Option<String>,
    /// Segment (`new`, `occasional`, `loyal`, `vip`, `at_risk`, `churned`).
    pub segment: Option<String>,
    /// Words that must each appear (case-insensitively) in the first or the last name.
    pub name_words: Vec<String>,
    /// Blind index of the normalised e-mail (exact lookup without decrypting).
    pub email_bidx: Option<Vec<u8>>,
    /// Blind index of the normalised national id.
    pub national_id_bidx: Option<Vec<u8>>,
}

#[async_trait::async_trait]
pub trait CrmStore: Send + Sync + 'static {
    /// Answers when the store can serve (readiness).
    async fn ping(&self) -> Result<()>;

    /// Live customers matching `filter`, by `(last_name, first_name, id)`.
    async fn customers(
        &self,
        tenant: Option<Uuid>,
        filter: &CustomerFilter,
        after: Option<NameAfter>,
        first: usize,
    ) -> Result<Page<Customer>>;
    /// Customers by id, tombstones included.
    async fn customers_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Customer>>;
    /// The wrapped data keys of customers (one query for the whole batch).
    async fn customer_keys(&self, tenant: Option<Uuid>, customers: &[Uuid]) -> Result<HashMap<Uuid, WrappedKey>>;
    /// Leads by id, tombstones included.
    async fn leads_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Lead>>;
    /// Interactions by id, tombstones included.
    async fn interactions_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Interaction>>;
    /// Sales by id, tombstones (refunds) included.
    async fn sales_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Sale>>;

    /// Live customer links of each campaign, newest link first (`(linked_at, customer_id)` desc).
    async fn campaign_customers(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<CampaignCustomer>>>;
    /// Live leads of each campaign, optionally of one status, newest first (`(created_at, id)` desc).
    async fn campaign_leads(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        status: Option<&str>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Lead>>>;
    /// Live interactions of each campaign, newest first (`(occurred_at, id)` desc).
    async fn campaign_interactions(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Interaction>>>;
    /// Live interactions of each customer, newest first (`(occurred_at, id)` desc).
    async fn customer_interactions(
        &self,
        tenant: Option<Uuid>,
        customers: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Interaction>>>;
    /// Live (not refunded) purchases of each customer, newest first (`(sold_at, id)` desc).
    async fn customer_sales(
        &self,
        tenant: Option<Uuid>,
        customers: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Sale>>>;

    /// Live sales of each campaign per (channel, market): count, units and USD amount. Campaigns
    /// without sales are absent.
    async fn campaign_sales(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<SalesCell>>>;
    /// Customer and lead counts of each campaign. Campaigns without links or leads are absent.
    async fn campaign_funnels(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Funnel>>;

    /// Customers changed (or deleted, or erased) after `since`, oldest change first.
    async fn customers_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Customer>>;
    /// Leads changed (or deleted) after `since`, oldest change first.
    async fn leads_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Lead>>;
    /// Interactions changed (or deleted) after `since`, oldest change first.
    async fn interactions_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Interaction>>;
    /// Sales changed (or refunded) after `since`, oldest change first.
    async fn sales_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Sale>>;
    /// Campaign–customer links changed (or unlinked) after `since`, oldest change first.
    async fn campaign_customers_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<LinkAfter>,
        first: usize,
    ) -> Result<Page<CampaignCustomer>>;

    /// Everything held on one customer (tombstones, refunds and deleted rows included), read in one
    /// consistent snapshot; `None` when no such customer is visible to `tenant`.
    async fn customer_record(&self, tenant: Option<Uuid>, customer: Uuid) -> Result<Option<CustomerRecord>>;
    /// Erases a customer's personal data in one transaction (see [`ERASED_NAME`]): deletes the data
    /// key (crypto-shredding), clears ciphertext, blind indexes, birth date, location and consent,
    /// replaces the names, drops free-text interaction notes and appends an `erased` event. Sales,
    /// leads, interactions and campaign links stay, attached to the now pseudonymous id, so every
    /// total still holds. Idempotent; `None` when no such customer is visible to `tenant`.
    async fn erase_customer(&self, tenant: Option<Uuid>, customer: Uuid, actor: &str) -> Result<Option<Erasure>>;
}
