//! The sales store on PostgreSQL (sqlx). Every query binds its parameters; tenant filtering is
//! `($1::uuid IS NULL OR organization_id = $1)` so one statement serves staff and tenants.

use std::{collections::HashMap, str::FromStr, time::Duration};

use chrono::{DateTime, Utc};
use promptsales_platform::StoreUrl;
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use uuid::Uuid;

use super::{After, Brand, CampaignSummary, Organization, Page, Product, Result, SalesStore};

pub struct PgStore {
    pool: PgPool,
}

const ORG_COLUMNS: &str =
    "id, name, legal_name, country_code::text AS country_code, industry, status, created_at, updated_at, deleted_at";
const BRAND_COLUMNS: &str = "id, organization_id, name, description, website, updated_at";
const PRODUCT_COLUMNS: &str = "id, brand_id, organization_id, sku, name, description, category, unit_price, \
     currency::text AS currency, active, updated_at";

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

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut map: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

fn page<T>(mut items: Vec<T>, first: usize, total: i64) -> Page<T> {
    let has_more = items.len() > first;
    items.truncate(first);
    Page { items, has_more, total }
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
        let (after_name, after_id) = after.map(|a| (Some(a.key), Some(a.id))).unwrap_or_default();
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM sales.organizations
             WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id = $1)
               AND ($2::text IS NULL OR (name, id) > ($2, $3::uuid))
             ORDER BY name, id LIMIT $4"
        );
        let items = sqlx::query_as::<_, Organization>(&sql)
            .bind(tenant)
            .bind(after_name)
            .bind(after_id)
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sales.organizations WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id = $1)",
        )
        .bind(tenant)
        .fetch_one(&self.pool)
        .await?;
        Ok(page(items, first, total))
    }

    async fn organizations_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Organization>> {
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM sales.organizations
             WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR id = $2)"
        );
        let rows = sqlx::query_as::<_, Organization>(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|o| (o.id, o)).collect())
    }

    async fn brands_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Brand>> {
        let sql = format!(
            "SELECT {BRAND_COLUMNS} FROM sales.brands
             WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
        );
        let rows = sqlx::query_as::<_, Brand>(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|b| (b.id, b)).collect())
    }

    async fn brands_by_organization(&self, tenant: Option<Uuid>, orgs: &[Uuid]) -> Result<HashMap<Uuid, Vec<Brand>>> {
        let sql = format!(
            "SELECT {BRAND_COLUMNS} FROM sales.brands
             WHERE organization_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
             ORDER BY name, id"
        );
        let rows = sqlx::query_as::<_, Brand>(&sql)
            .bind(orgs)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |b| b.organization_id))
    }

    async fn products_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Product>> {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM sales.products
             WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
        );
        let rows = sqlx::query_as::<_, Product>(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }

    async fn products_by_brand(&self, tenant: Option<Uuid>, brands: &[Uuid]) -> Result<HashMap<Uuid, Vec<Product>>> {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM sales.products
             WHERE brand_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
             ORDER BY name, id"
        );
        let rows = sqlx::query_as::<_, Product>(&sql)
            .bind(brands)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(group(rows, |p| p.brand_id))
    }

    async fn summaries_by_campaign(
        &self,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, CampaignSummary>> {
        let rows = sqlx::query_as::<_, CampaignSummary>(
            "SELECT campaign_id, organization_id, name, status, starts_at, ends_at, budget, reach, customers_reached,
                    views, interactions, likes, sales_count, revenue, cost, roi, success_rate, positive_reactions,
                    negative_reactions, channels, markets, refreshed_at
             FROM sales.campaign_summaries
             WHERE campaign_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)",
        )
        .bind(ids)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|s| (s.campaign_id, s)).collect())
    }

    async fn organizations_updated_since(
        &self,
        since: DateTime<Utc>,
        after: Option<After>,
        first: usize,
    ) -> Result<Page<Organization>> {
        // Keyset on (updated_at, id): stable while rows keep changing, and tombstones included.
        let (after_at, after_id) = match after {
            Some(a) => (
                Some(DateTime::parse_from_rfc3339(&a.key).map(|t| t.with_timezone(&Utc)).ok()),
                Some(a.id),
            ),
            None => (None, None),
        };
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM sales.organizations
             WHERE updated_at > $1 AND ($2::timestamptz IS NULL OR (updated_at, id) > ($2, $3::uuid))
             ORDER BY updated_at, id LIMIT $4"
        );
        let items = sqlx::query_as::<_, Organization>(&sql)
            .bind(since)
            .bind(after_at.flatten())
            .bind(after_id)
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM sales.organizations WHERE updated_at > $1")
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(page(items, first, total))
    }
}
