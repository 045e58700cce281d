//! `…UpdatedSince` feeds for the ETL and the ads reference sync: every row changed after a time,
//! tombstones included, oldest change first, keyset-paged on `(updated_at, id)` (each table has
//! that index), so a page boundary is stable while rows keep changing.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, postgres::PgRow};
use uuid::Uuid;

use super::{catalog, limit, page, split};
use crate::store::{After, Page, Result};

/// A table with a change feed.
pub(super) struct Feed {
    table: &'static str,
    columns: &'static str,
    /// The column that names the row's tenant.
    tenant_column: &'static str,
}

pub(super) const ORGANIZATIONS: Feed = Feed {
    table: "sales.organizations",
    columns: catalog::ORG_COLUMNS,
    tenant_column: "id",
};
pub(super) const BRANDS: Feed = Feed {
    table: "sales.brands",
    columns: catalog::BRAND_COLUMNS,
    tenant_column: "organization_id",
};
pub(super) const PRODUCTS: Feed = Feed {
    table: "sales.products",
    columns: catalog::PRODUCT_COLUMNS,
    tenant_column: "organization_id",
};

pub(super) async fn updated_since<T>(
    pool: &PgPool,
    feed: &Feed,
    tenant: Option<Uuid>,
    since: DateTime<Utc>,
    after: Option<After<DateTime<Utc>>>,
    first: usize,
) -> Result<Page<T>>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let (after_at, after_id) = split(after);
    let Feed {
        table,
        columns,
        tenant_column,
    } = feed;
    let condition = format!("updated_at > $1 AND ($2::uuid IS NULL OR {tenant_column} = $2)");
    let sql = format!(
        "SELECT {columns} FROM {table}
         WHERE {condition} AND ($3::timestamptz IS NULL OR (updated_at, id) > ($3, $4::uuid))
         ORDER BY updated_at, id LIMIT $5"
    );
    let items = sqlx::query_as::<_, T>(&sql)
        .bind(since)
        .bind(tenant)
        .bind(after_at)
        .bind(after_id)
        .bind(limit(first))
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {condition}"))
        .bind(since)
        .bind(tenant)
        .fetch_one(pool)
        .await?;
    Ok(page(items, first, total))
}
