//! Tenants and their catalogue: organizations, brands, products, contacts.

use sqlx::PgPool;
use uuid::Uuid;

use super::{ById, ByParent, group, limit, page, split};
use crate::store::{After, Brand, Contact, Organization, Page, Product, ProductFilter, Result};

pub(super) const ORG_COLUMNS: &str =
    "id, name, legal_name, country_code::text AS country_code, industry, status, created_at, updated_at, deleted_at";
pub(super) const BRAND_COLUMNS: &str =
    "id, organization_id, name, description, website, created_at, updated_at, deleted_at";
pub(super) const PRODUCT_COLUMNS: &str = "id, brand_id, organization_id, sku, name, description, category, unit_price, \
     currency::text AS currency, active, created_at, updated_at, deleted_at";
const CONTACT_COLUMNS: &str = "id, organization_id, full_name, job_title, email_enc, phone_enc, pii_key_id, is_primary";

pub(super) async fn organizations(
    pool: &PgPool,
    tenant: Option<Uuid>,
    after: Option<After>,
    first: usize,
) -> Result<Page<Organization>> {
    let (after_name, after_id) = split(after);
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
        .bind(limit(first))
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sales.organizations WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id = $1)",
    )
    .bind(tenant)
    .fetch_one(pool)
    .await?;
    Ok(page(items, first, total))
}

pub(super) async fn organizations_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Organization> {
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM sales.organizations
         WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR id = $2)"
    );
    let rows = sqlx::query_as::<_, Organization>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|o| (o.id, o)).collect())
}

pub(super) async fn brands(
    pool: &PgPool,
    tenant: Option<Uuid>,
    organization: Option<Uuid>,
    after: Option<After>,
    first: usize,
) -> Result<Page<Brand>> {
    let (after_name, after_id) = split(after);
    let filter = "deleted_at IS NULL AND ($1::uuid IS NULL OR organization_id = $1)
                  AND ($2::uuid IS NULL OR organization_id = $2)";
    let sql = format!(
        "SELECT {BRAND_COLUMNS} FROM sales.brands
         WHERE {filter} AND ($3::text IS NULL OR (name, id) > ($3, $4::uuid))
         ORDER BY name, id LIMIT $5"
    );
    let items = sqlx::query_as::<_, Brand>(&sql)
        .bind(tenant)
        .bind(organization)
        .bind(after_name)
        .bind(after_id)
        .bind(limit(first))
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM sales.brands WHERE {filter}"))
        .bind(tenant)
        .bind(organization)
        .fetch_one(pool)
        .await?;
    Ok(page(items, first, total))
}

pub(super) async fn brands_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Brand> {
    let sql = format!(
        "SELECT {BRAND_COLUMNS} FROM sales.brands
         WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
    );
    let rows = sqlx::query_as::<_, Brand>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

pub(super) async fn brands_by_organization(pool: &PgPool, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Brand> {
    let sql = format!(
        "SELECT {BRAND_COLUMNS} FROM sales.brands
         WHERE organization_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
         ORDER BY name, id"
    );
    let rows = sqlx::query_as::<_, Brand>(&sql)
        .bind(orgs)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(group(rows, |b| b.organization_id))
}

/// `%text%` for ILIKE, with the pattern characters of `text` matched literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub(super) async fn products(
    pool: &PgPool,
    tenant: Option<Uuid>,
    filter: &ProductFilter,
    after: Option<After>,
    first: usize,
) -> Result<Page<Product>> {
    let (after_name, after_id) = split(after);
    let pattern = filter.search.as_deref().map(contains_pattern);
    // No trigram index: the search runs within one tenant's (or one brand's) catalogue, which the
    // (organization_id, brand_id) index narrows to a few hundred rows.
    let condition = "deleted_at IS NULL AND ($1::uuid IS NULL OR organization_id = $1)
                     AND ($2::uuid IS NULL OR brand_id = $2)
                     AND ($3::text IS NULL OR name ILIKE $3 ESCAPE '\\' OR sku ILIKE $3 ESCAPE '\\')";
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM sales.products
         WHERE {condition} AND ($4::text IS NULL OR (name, id) > ($4, $5::uuid))
         ORDER BY name, id LIMIT $6"
    );
    let items = sqlx::query_as::<_, Product>(&sql)
        .bind(tenant)
        .bind(filter.brand)
        .bind(&pattern)
        .bind(after_name)
        .bind(after_id)
        .bind(limit(first))
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM sales.products WHERE {condition}"))
        .bind(tenant)
        .bind(filter.brand)
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
    Ok(page(items, first, total))
}

pub(super) async fn products_by_id(pool: &PgPool, tenant: Option<Uuid>, ids: &[Uuid]) -> ById<Product> {
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM sales.products
         WHERE id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)"
    );
    let rows = sqlx::query_as::<_, Product>(&sql)
        .bind(ids)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

pub(super) async fn products_by_brand(pool: &PgPool, tenant: Option<Uuid>, brands: &[Uuid]) -> ByParent<Product> {
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM sales.products
         WHERE brand_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
         ORDER BY name, id"
    );
    let rows = sqlx::query_as::<_, Product>(&sql)
        .bind(brands)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(group(rows, |p| p.brand_id))
}

pub(super) async fn contacts_by_organization(pool: &PgPool, tenant: Option<Uuid>, orgs: &[Uuid]) -> ByParent<Contact> {
    let sql = format!(
        "SELECT {CONTACT_COLUMNS} FROM sales.contacts
         WHERE organization_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
         ORDER BY is_primary DESC, full_name, id"
    );
    let rows = sqlx::query_as::<_, Contact>(&sql)
        .bind(orgs)
        .bind(tenant)
        .fetch_all(pool)
        .await?;
    Ok(group(rows, |c| c.organization_id))
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn should_match_pattern_characters_literally() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern("cola"), "%cola%");
    }
}
