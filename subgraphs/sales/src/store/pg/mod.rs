//! The sales store on PostgreSQL (sqlx). Every query binds its parameters; tenant filtering is
//! `($1::uuid IS NULL OR organization_id = $1)` so one statement serves staff and tenants. The
//! queries live in one file per area; this file holds the pool and the trait's dispatch.

mod audit;
mod catalog;
mod changes;
mod people;
mod planning;
mod summaries;

use std::{collections::HashMap, str::FromStr, time::Duration};

use chrono::{DateTime, Utc};
use promptsales_platform::StoreUrl;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

use super::*;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// A pool on the store `url` names (connections opened lazily, so the process starts even while
    /// the database is still coming up; `/readyz` tells when it answers).
    pub async fn connect(url: &StoreUrl) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url.expose().as_str())?.application_name("promptsales-sales");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        Ok(PgStore { pool })
    }

    /// A store over an existing pool (tests).
    pub fn from_pool(pool: PgPool) -> PgStore {
        PgStore { pool }
    }
}

/// Rows grouped by a parent id, in the order the query returned them.
fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut map: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// A page from `first + 1` fetched rows: the extra row only says there is more.
fn page<T>(mut items: Vec<T>, first: usize, total: i64) -> Page<T> {
    let has_more = items.len() > first;
    items.truncate(first);
    Page { items, has_more, total }
}

/// The two bind values of a keyset position (both NULL on the first page).
fn split<K>(after: Option<After<K>>) -> (Option<K>, Option<Uuid>) {
    after.map(|a| (Some(a.key), Some(a.id))).unwrap_or((None, None))
}

/// `LIMIT` of a page query: one more row than the page, to know whether another page follows.
fn limit(first: usize) -> i64 {
    first as i64 + 1
}

#[async_trait::async_trait]
impl SalesStore for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn organizations(
        &self,
        tenant: Option<Uuid>,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Organization>> {
        catalog::organizations(&self.pool, tenant, after, first).await
    }
    async fn organizations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Organization> {
        catalog::organizations_by_id(&self.pool, tenant, ids).await
    }
    async fn brands(
        &self,
        tenant: Option<Uuid>,
        organization: Option<Uuid>,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Brand>> {
        catalog::brands(&self.pool, tenant, organization, after, first).await
    }
    async fn brands_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Brand> {
        catalog::brands_by_id(&self.pool, tenant, ids).await
    }
    async fn brands_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Brand> {
        catalog::brands_by_organization(&self.pool, tenant, orgs).await
    }
    async fn products(
        &self,
        tenant: Option<Uuid>,
        filter: &ProductFilter,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Product>> {
        catalog::products(&self.pool, tenant, filter, after, first).await
    }
    async fn products_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Product> {
        catalog::products_by_id(&self.pool, tenant, ids).await
    }
    async fn products_by_brand(&self, tenant: Option<Uuid>, brands: &[Uuid]) -> ByParent<Product> {
        catalog::products_by_brand(&self.pool, tenant, brands).await
    }
    async fn contacts_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Contact> {
        catalog::contacts_by_organization(&self.pool, tenant, orgs).await
    }

    async fn subscription_plans(&self) -> Result<Vec<SubscriptionPlan>> {
        people::subscription_plans(&self.pool).await
    }
    async fn subscription_plans_by_id(&self, ids: &[Uuid]) -> ById<SubscriptionPlan> {
        people::subscription_plans_by_id(&self.pool, ids).await
    }
    async fn subscriptions_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Subscription> {
        people::subscriptions_by_id(&self.pool, tenant, ids).await
    }
    async fn subscriptions_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Subscription> {
        people::subscriptions_by_organization(&self.pool, tenant, orgs).await
    }
    async fn portal_users_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<PortalUser> {
        people::portal_users_by_id(&self.pool, tenant, ids).await
    }
    async fn portal_users_by_organization(
        &self,
        tenant: Option<Uuid>,
        orgs: &[Uuid],
        after: Option<After>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<PortalUser>>> {
        people::portal_users_by_organization(&self.pool, tenant, orgs, after, first).await
    }

    async fn campaign_plans_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<CampaignPlan> {
        planning::plans_by_id(&self.pool, tenant, ids).await
    }
    async fn campaign_plans_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> ById<CampaignPlan> {
        planning::plans_by_campaign(&self.pool, tenant, campaigns).await
    }
    async fn approvals_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Approval> {
        planning::approvals_by_id(&self.pool, tenant, ids).await
    }
    async fn approvals_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> ByParent<Approval> {
        planning::approvals_by_campaign(&self.pool, tenant, campaigns).await
    }
    async fn tasks_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<ScheduledTask> {
        planning::tasks_by_id(&self.pool, tenant, ids).await
    }
    async fn tasks_by_campaign(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> ByParent<ScheduledTask> {
        planning::tasks_by_campaign(&self.pool, tenant, campaigns).await
    }
    async fn reminders_by_task(&self, tenant: Option<Uuid>, tasks: &[Uuid]) -> ByParent<TaskReminder> {
        planning::reminders_by_task(&self.pool, tenant, tasks).await
    }

    async fn summaries_by_campaign(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<CampaignSummary> {
        summaries::by_campaign(&self.pool, tenant, ids).await
    }
    async fn campaign_summaries(
        &self,
        tenant: Option<Uuid>,
        filter: &SummaryFilter,
        order: SummaryOrder,
        after: Option<After<SummaryKey>>,
        first: usize,
    ) -> Result<Page<CampaignSummary>> {
        summaries::list(&self.pool, tenant, filter, order, after, first).await
    }
    async fn daily_metrics(&self, tenant: Option<Uuid>, campaigns: &[Uuid], range: DayRange) -> ByParent<DailyMetric> {
        summaries::daily_metrics(&self.pool, tenant, campaigns, range).await
    }

    async fn ai_usage(
        &self,
        tenant: Option<Uuid>,
        since: Option<DateTime<Utc>>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<AiUsage>> {
        summaries::ai_usage(&self.pool, tenant, since, after, first).await
    }
    async fn ai_usage_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<AiUsage> {
        summaries::ai_usage_by_id(&self.pool, tenant, ids).await
    }

    async fn organizations_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Organization>> {
        changes::updated_since(&self.pool, &changes::ORGANIZATIONS, tenant, since, after, first).await
    }
    async fn brands_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Brand>> {
        changes::updated_since(&self.pool, &changes::BRANDS, tenant, since, after, first).await
    }
    async fn products_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<After<DateTime<Utc>>>,
        first: usize,
    ) -> Result<Page<Product>> {
        changes::updated_since(&self.pool, &changes::PRODUCTS, tenant, since, after, first).await
    }

    async fn decide_approval(
        &self,
        tenant: Option<Uuid>,
        actor: &Actor,
        decision: &Decision,
    ) -> Result<Approval, WriteError> {
        planning::decide_approval(&self.pool, tenant, actor, decision).await
    }
    async fn complete_task(
        &self,
        tenant: Option<Uuid>,
        actor: &Actor,
        task: Uuid,
    ) -> Result<ScheduledTask, WriteError> {
        planning::complete_task(&self.pool, tenant, actor, task).await
    }
    async fn record_ai_usage(&self, actor: &Actor, usage: &NewAiUsage) -> Result<Uuid> {
        summaries::record_ai_usage(&self.pool, actor, usage).await
    }
    async fn record_pii_reads(&self, actor: &Actor, reads: &[PiiRead]) -> Result<()> {
        audit::record_pii_reads(&self.pool, actor, reads).await
    }
    async fn audit_trail(&self, tenant: Option<Uuid>, target_id: &str, limit: usize) -> Result<Vec<AuditEntry>> {
        audit::trail(&self.pool, tenant, target_id, limit).await
    }
}
