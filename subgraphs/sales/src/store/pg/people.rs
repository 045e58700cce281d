//! The price list, subscriptions and portal users.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::{ById, ByParent, group, split};
use crate::store::{After, Page, PortalUser, Result, Subscription, SubscriptionPlan};

const PLAN_COLUMNS: &str = "id, code, subsidiary, tier, name, monthly_price, annual_price, limits, active";
const SUBSCRIPTION_COLUMNS: &str =
    "id, organization_id, plan_id, status, started_at, current_period_end, cancelled_at, seats";
const USER_COLUMNS: &str =
    "id, organization_id, email_enc, pii_key_id, display_name, role, status, last_login_at, created_at";

pub(super) async fn subscription_plans(pool: &PgPool) -> Result<Vec<SubscriptionPlan>> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS} FROM sales.subscription_plans WHERE active
         ORDER BY subsidiary, array_position(ARRAY['starter', 'growth', 'enterprise'], tier), code"
    );
    Ok(sqlx::query_as::<_, SubscriptionPlan>(&sql).fetch_all(pool).await?)
}

pub(super) async fn subscription_plans_by_id(pool: &PgPool, ids: &[Uuid]) -> ById<SubscriptionPlan> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM sales.subscription_plans WHERE id = ANY($1)");
    let rows = sqlx::query_as::<_, SubscriptionPlan>(&sql)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

pub(super) async fn subscriptions_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Subscription> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM sales.subscriptions
         WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
    );
    let rows = sqlx::query_as::<_, Subscription>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

pub(super) async fn subscriptions_by_organization(
    pool: &PgPool,
    tenant: Option<Uuid>,
    orgs: &[Uuid],
) -> ByParent<Subscription> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM sales.subscriptions
         WHERE organization_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
         ORDER BY started_at DESC, id"
    );
    let rows = sqlx::query_as::<_, Subscription>(&sql)
        .bind(orgs)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(group(rows, |s| s.organization_id))
}

pub(super) async fn portal_users_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<PortalUser> {
    // Staff rows (no organization) stay visible to tenants: staff sign off big plans, and a
    // tenant's approval list names them.
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM sales.portal_users
         WHERE id = ANY($1) AND deleted_at IS NULL
           AND ($2::uuid IS NULL OR organization_id = $2 OR organization_id IS NULL)"
    );
    let rows = sqlx::query_as::<_, PortalUser>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|u| (u.id, u)).collect())
}

/// One page per organization in one statement: `row_number()` over each organization's users
/// after the keyset position keeps `first + 1` of each; a second statement counts them all.
pub(super) async fn portal_users_by_organization(
    pool: &PgPool,
    tenant: Option<Uuid>,
    orgs: &[Uuid],
    after: Option<After>,
    first: usize,
) -> Result<HashMap<Uuid, Page<PortalUser>>> {
    let (after_name, after_id) = split(after);
    let filter = "organization_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)";
    let sql = format!(
        "SELECT * FROM (
             SELECT {USER_COLUMNS},
                    row_number() OVER (PARTITION BY organization_id ORDER BY display_name, id) AS rn
             FROM sales.portal_users
             WHERE {filter} AND ($3::text IS NULL OR (display_name, id) > ($3, $4::uuid))
         ) u
         WHERE rn <= $5
         ORDER BY organization_id, display_name, id"
    );
    let rows = sqlx::query_as::<_, PortalUser>(&sql)
        .bind(orgs)
        .bind(tenant)
        .bind(after_name)
        .bind(after_id)
        .bind(super::limit(first))
        .fetch_all(pool)
        .await?;
    let totals: Vec<(Uuid, i64)> = sqlx::query_as(&format!(
        "SELECT organization_id, count(*) FROM sales.portal_users WHERE {filter} GROUP BY organization_id"
    ))
    .bind(orgs)
    .bind(tenant)
    .fetch_all(pool)
    .await?;
    let mut grouped = group(rows, |u| u.organization_id.unwrap_or_default());
    Ok(totals
        .into_iter()
        .map(|(org, total)| {
            let items = grouped.remove(&org).unwrap_or_default();
            (org, super::page(items, first, total))
        })
        .collect())
}
