//! The sales store behind one trait, so the GraphQL layer never sees SQL. PostgreSQL is the only
//! engine of this store (ARCHITECTURE.md); the trait still keeps the schema testable and the
//! queries in one place. Every call that reads tenant data takes the caller's organization: `Some`
//! filters to that tenant, `None` (staff) sees all.

mod model;
mod pg;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
pub use model::*;
pub use pg::PgStore;
use rust_decimal::Decimal;
use uuid::Uuid;

/// A store failure. Its text goes to the log, never to a client.
#[derive(Debug, thiserror::Error)]
#[error("sales store: {0}")]
pub struct StoreError(#[from] pub sqlx::Error);

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Keyset position in a list ordered by `(sort key, id)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct After<K = String> {
    pub key: K,
    pub id: Uuid,
}

/// One page of a list, with the total count of the list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
    pub total: i64,
}

/// Filters of the product list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub brand: Option<Uuid>,
    /// Case-insensitive substring of the name or the SKU (matched literally: `%` and `_` are not wildcards).
    pub search: Option<String>,
}

/// Filters of the campaign summary list.
#[derive(Debug, Clone, Default)]
pub struct SummaryFilter {
    pub organization: Option<Uuid>,
    /// Campaign status as stored (`active`, …).
    pub status: Option<String>,
}

/// Orders of the campaign summary list, all descending (dashboards show the top first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryOrder {
    Revenue,
    /// Campaigns without an ROI (nothing spent yet) come last.
    Roi,
    StartsAt,
}

impl SummaryOrder {
    /// The sort key of `summary` in this order, as a cursor keeps it. A missing ROI sorts as -2,
    /// below every real ROI (`roi >= -1`).
    pub fn key_of(self, summary: &CampaignSummary) -> SummaryKey {
        match self {
            SummaryOrder::Revenue => SummaryKey::Amount(summary.revenue),
            SummaryOrder::Roi => SummaryKey::Amount(summary.roi.unwrap_or(Decimal::from(-2))),
            SummaryOrder::StartsAt => SummaryKey::Time(summary.starts_at),
        }
    }
}

/// The sort key of a summary in a given order (the keyset position of a cursor).
#[derive(Debug, Clone, PartialEq)]
pub enum SummaryKey {
    Amount(Decimal),
    Time(DateTime<Utc>),
}

/// Days of a daily report, both ends included; `None` leaves that end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DayRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Who makes a change or reads personal data, as the audit log records it.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub subject: String,
    pub organization: Option<Uuid>,
    pub scopes: Vec<String>,
    pub request_id: Option<String>,
}

/// An AI call to append to the usage log; who made it comes from the caller's claims ([`Actor`]).
#[derive(Debug, Clone)]
pub struct NewAiUsage {
    pub tool: String,
    pub model: String,
    pub prompt: Option<String>,
    pub result: Option<String>,
    /// As stored (`none`, `schema`, `human`, `rule`, `llm_judge`).
    pub validation_method: String,
    pub validated: Option<bool>,
    pub tokens_in: i32,
    pub tokens_out: i32,
    pub cache_hit: bool,
    pub latency_ms: i32,
    pub cost_usd: Decimal,
}

/// A decision on one approval step.
#[derive(Debug, Clone)]
pub struct Decision {
    pub approval: Uuid,
    /// `approved`, `rejected` or `changes_requested` (validated by the caller).
    pub decision: String,
    pub comment: Option<String>,
    pub expected_version: Option<i32>,
}

/// Plaintext personal data handed to a caller: one audit row per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PiiRead {
    /// `portal_user` or `contact`.
    pub target_type: &'static str,
    pub target_id: Uuid,
}

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// No such row, or not visible to the caller's tenant.
    #[error("not found")]
    NotFound,
    /// The row is not in a state that allows the change (or not in the expected version).
    #[error("{message}")]
    Conflict {
        field: &'static str,
        rule: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Store(StoreError(e))
    }
}

type ById<T> = Result<HashMap<Uuid, T>>;
type ByParent<T> = Result<HashMap<Uuid, Vec<T>>>;

#[async_trait::async_trait]
pub trait SalesStore: Send + Sync + 'static {
    /// Answers when the store can serve (readiness).
    async fn ping(&self) -> Result<()>;

    // --- Tenants and catalogue -------------------------------------------------------------------
    /// Live organizations by name, then id.
    async fn organizations(
        &self,
        tenant: Option<Uuid>,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Organization>>;
    async fn organizations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Organization>;
    /// Live brands by name, then id, optionally of one organization.
    async fn brands(
        &self,
        tenant: Option<Uuid>,
        organization: Option<Uuid>,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Brand>>;
    async fn brands_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Brand>;
    async fn brands_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Brand>;
    /// Live products by name, then id.
    async fn products(
        &self,
        tenant: Option<Uuid>,
        filter: &ProductFilter,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Product>>;
    async fn products_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Product>;
    async fn products_by_brand(&self, tenant: Option<Uuid>, brands: &[Uuid]) -> ByParent<Product>;
    /// Live contacts of organizations, primary first, then by name.
    async fn contacts_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Contact>;

    // --- Plans, subscriptions, portal users ------------------------------------------------------
    /// The active price list (public reference data: no tenant filter).
    async fn subscription_plans(&self) -> Result<Vec<SubscriptionPlan>>;
    /// Plans by id, retired ones included (old subscriptions still name them).
    async fn subscription_plans_by_id(&self, ids: &[Uuid]) -> ById<SubscriptionPlan>;
    async fn subscriptions_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Subscription>;
    /// Subscriptions of organizations (history included), newest first.
    async fn subscriptions_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Subscription>;
    /// Portal users by id: a tenant sees its own users and PromptSales staff (who sign off plans).
    async fn portal_users_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<PortalUser>;
    /// One page of each organization's live portal users, by display name then id.
    async fn portal_users_by_organization(
        &self,
        tenant: Option<Uuid>,
        orgs: &[Uuid],
        after: Option<After>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<PortalUser>>>;

    // --- Campaign planning -----------------------------------------------------------------------
    async fn campaign_plans_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<CampaignPlan>;
    /// The live plan of each campaign (keyed by campaign id).
    async fn campaign_plans_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> ById<CampaignPlan>;
    async fn approvals_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Approval>;
    /// The approval steps of each campaign's live plan, by step (keyed by campaign id).
    async fn approvals_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> ByParent<Approval>;
    async fn tasks_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<ScheduledTask>;
    /// Live tasks of each campaign, by due time (keyed by campaign id).
    async fn tasks_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> ByParent<ScheduledTask>;
    /// Reminders of tasks, by time (keyed by task id).
    async fn reminders_by_task(&self, tenant: Option<Uuid>, tasks: &[Uuid]) -> ByParent<TaskReminder>;

    // --- Campaign read models (ETL) --------------------------------------------------------------
    async fn summaries_by_campaign(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<CampaignSummary>;
    /// Live summaries in `order` (descending), then campaign id.
    async fn campaign_summaries(
        &self,
        tenant: Option<Uuid>,
        filter: &SummaryFilter,
        order: SummaryOrder,
        after: Option<After<SummaryKey>>,
        first: usize,
    ) -> Result<Page<CampaignSummary>>;
    /// Daily metrics of campaigns within `range`, by day (keyed by campaign id).
    async fn daily_metrics(&self, tenant: Option<Uuid>, campaigns: &[Uuid], range: DayRange) -> ByParent<DailyMetric>;

    // --- AI usage --------------------------------------------------------------------------------
    /// AI calls at or after `since`, newest first.
    async fn ai_usage(
        &self,
        tenant: Option<Uuid>,
        since: Option<DateTime<Utc>>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<AiUsage>>;
    async fn ai_usage_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<AiUsage>;
    /// Appends one AI call made by `actor` (its subject, organization and request id are the
    /// record's); returns the record's id.
    async fn record_ai_usage(&self, actor: &Actor, usage: &NewAiUsage) -> Result<Uuid>;

    // --- Changes for the ETL and the ads reference sync (tombstones included, oldest first) ------
    async fn organizations_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Organization>>;
    async fn brands_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Brand>>;
    async fn products_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Product>>;

    // --- Writes (each in one transaction, audited in it) -----------------------------------------
    /// Decides a pending approval step and moves its plan (see the rule in `pg::planning`).
    async fn decide_approval(
        &self,
        tenant: Option<Uuid>,
        actor: &Actor,
        decision: &Decision,
    ) -> Result<Approval, WriteError>;
    /// Marks a task done (idempotent) and drops its unsent reminders.
    async fn complete_task(&self, tenant: Option<Uuid>, actor: &Actor, task: Uuid)
    -> Result<ScheduledTask, WriteError>;
    /// Records that plaintext personal data of these records was handed to `actor`.
    async fn record_pii_reads(&self, actor: &Actor, reads: &[PiiRead]) -> Result<()>;
    /// The newest `limit` audit rows whose target is `target_id` (any target type: the gateway
    /// names targets by root field), newest first; a tenant sees only its own actors' rows.
    async fn audit_trail(&self, tenant: Option<Uuid>, target_id: &str, limit: usize) -> Result<Vec<AuditEntry>>;
}
