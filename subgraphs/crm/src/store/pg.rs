//! The crm store on PostgreSQL (sqlx). Every query binds its parameters; tenant filtering is
//! `($n::uuid IS NULL OR organization_id = $n)` so one statement serves staff and tenants. SQL
//! text is assembled only from the static table descriptions below, never from values.
//!
//! Per-parent pages (the customers of each of 50 campaigns, say) are one `LATERAL` query over the
//! batch of parent ids, each side using its `(parent, time)` index, plus one grouped count.

use std::{collections::HashMap, str::FromStr, time::Duration};

use chrono::{DateTime, Utc};
use promptsales_platform::{StoreUrl, crypto::WrappedKey};
use sqlx::{
    FromRow, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions, PgRow},
};
use uuid::Uuid;

use super::{
    CampaignCustomer, CrmStore, Customer, CustomerFilter, CustomerRecord, Erasure, Funnel, Interaction, Lead,
    LinkAfter, NameAfter, Page, Result, Sale, SalesCell, TimeAfter,
};

pub struct PgStore {
    pool: PgPool,
}

pub(super) const CUSTOMER_COLUMNS: &str = "id, organization_id, first_name, last_name, birth_date, segment, \
     country_code::text AS country_code, region, city, latitude, longitude, preferred_language, national_id_enc, \
     email_enc, phone_enc, marketing_consent, consent_updated_at, created_at, updated_at, deleted_at, erased_at";
pub(super) const LINK_COLUMNS: &str =
    "campaign_id, customer_id, organization_id, channel_id, linked_at, reached, updated_at, deleted_at";
pub(super) const LEAD_COLUMNS: &str = "id, organization_id, campaign_id, customer_id, source_channel_id, score, status, \
     purchase_intent, created_at, converted_at, updated_at, deleted_at";
pub(super) const INTERACTION_COLUMNS: &str = "id, organization_id, customer_id, campaign_id, channel_id, kind, actor, sentiment, \
     occurred_at, note, created_at, updated_at, deleted_at";
pub(super) const SALE_COLUMNS: &str = "id, organization_id, customer_id, campaign_id, channel_id, market_id, product_id, ad_id, \
     quantity, amount_usd, original_amount, original_currency::text AS original_currency, fx_rate_to_usd, sold_at, \
     created_at, updated_at, deleted_at";

/// A list that hangs off a parent row: which table, which columns, ordered by which time.
struct Relation {
    table: &'static str,
    columns: &'static str,
    parent: &'static str,
    time: &'static str,
    id: &'static str,
}

const CAMPAIGN_CUSTOMERS: Relation = Relation {
    table: "crm.campaign_customers",
    columns: LINK_COLUMNS,
    parent: "campaign_id",
    time: "linked_at",
    id: "customer_id",
};
const CAMPAIGN_LEADS: Relation = Relation {
    table: "crm.leads",
    columns: LEAD_COLUMNS,
    parent: "campaign_id",
    time: "created_at",
    id: "id",
};
const CAMPAIGN_INTERACTIONS: Relation = Relation {
    table: "crm.interactions",
    columns: INTERACTION_COLUMNS,
    parent: "campaign_id",
    time: "occurred_at",
    id: "id",
};
const CUSTOMER_INTERACTIONS: Relation = Relation {
    parent: "customer_id",
    ..CAMPAIGN_INTERACTIONS
};
const CUSTOMER_SALES: Relation = Relation {
    table: "crm.sales",
    columns: SALE_COLUMNS,
    parent: "customer_id",
    time: "sold_at",
    id: "id",
};

impl PgStore {
    /// A pool on the store `url` names (connections opened lazily, so the process starts even while
    /// the database is still coming up; `/readyz` tells when it answers).
    pub async fn connect(url: &StoreUrl) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url.expose().as_str())?.application_name("promptsales-crm");
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

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn by_id<T>(&self, table: &str, columns: &str, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let sql =
            format!("SELECT {columns} FROM {table} WHERE id = ANY($1) AND ($2::uuid IS NULL OR organization_id = $2)");
        Ok(sqlx::query_as::<_, T>(&sql)
            .bind(ids)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?)
    }

    /// One page per parent (newest first) and each parent's total, in two statements.
    #[allow(clippy::too_many_arguments)]
    async fn pages<T>(
        &self,
        rel: &Relation,
        parents: &[Uuid],
        tenant: Option<Uuid>,
        status: Option<&str>,
        after: Option<TimeAfter>,
        first: usize,
        parent_of: fn(&T) -> Uuid,
    ) -> Result<HashMap<Uuid, Page<T>>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let Relation {
            table,
            columns,
            parent,
            time,
            id,
        } = rel;
        let status_page = if status.is_some() { "AND t.status = $6" } else { "" };
        let status_count = if status.is_some() { "AND status = $3" } else { "" };
        let sql = format!(
            "SELECT r.* FROM unnest($1::uuid[]) AS p(parent_id)
             CROSS JOIN LATERAL (
                 SELECT {columns} FROM {table} t
                 WHERE t.{parent} = p.parent_id AND t.deleted_at IS NULL
                   AND ($2::uuid IS NULL OR t.organization_id = $2)
                   AND ($3::timestamptz IS NULL OR (t.{time}, t.{id}) < ($3, $4::uuid))
                   {status_page}
                 ORDER BY t.{time} DESC, t.{id} DESC
                 LIMIT $5
             ) r"
        );
        let mut query = sqlx::query_as::<_, T>(&sql)
            .bind(parents)
            .bind(tenant)
            .bind(after.map(|a| a.at))
            .bind(after.map(|a| a.id))
            .bind(first as i64 + 1);
        if let Some(s) = status {
            query = query.bind(s);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let count_sql = format!(
            "SELECT {parent} AS parent_id, count(*) AS total FROM {table}
             WHERE {parent} = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
               {status_count}
             GROUP BY {parent}"
        );
        let mut count = sqlx::query_as::<_, (Uuid, i64)>(&count_sql).bind(parents).bind(tenant);
        if let Some(s) = status {
            count = count.bind(s);
        }
        let totals: HashMap<Uuid, i64> = count.fetch_all(&self.pool).await?.into_iter().collect();
        Ok(group_pages(rows, parent_of, first, &totals))
    }

    /// Rows of `table` changed after `since`, keyset-paged by `(updated_at, id)`.
    async fn updated_since<T>(
        &self,
        table: &str,
        columns: &str,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<T>>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        // Keyset on (updated_at, id): stable while rows keep changing, and tombstones included.
        let sql = format!(
            "SELECT {columns} FROM {table}
             WHERE updated_at > $1 AND ($2::uuid IS NULL OR organization_id = $2)
               AND ($3::timestamptz IS NULL OR (updated_at, id) > ($3, $4::uuid))
             ORDER BY updated_at, id LIMIT $5"
        );
        let items = sqlx::query_as::<_, T>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.at))
            .bind(after.map(|a| a.id))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let count_sql = format!(
            "SELECT count(*) FROM {table} WHERE updated_at > $1 AND ($2::uuid IS NULL OR organization_id = $2)"
        );
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(since)
            .bind(tenant)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_probe(items, first, total))
    }
}

/// Splits rows fetched for several parents (each parent's rows in page order, at most `first + 1`)
/// into one page per parent. Parents with no rows are absent.
pub(crate) fn group_pages<T>(
    rows: Vec<T>,
    parent_of: fn(&T) -> Uuid,
    first: usize,
    totals: &HashMap<Uuid, i64>,
) -> HashMap<Uuid, Page<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(parent_of(&row)).or_default().push(row);
    }
    let mut pages: HashMap<Uuid, Page<T>> = grouped
        .into_iter()
        .map(|(parent, items)| {
            let total = totals.get(&parent).copied().unwrap_or(0);
            (parent, Page::from_probe(items, first, total))
        })
        .collect();
    // A parent whose page is empty (cursor past its end, or `first: 0`) still has its total.
    for (parent, total) in totals {
        pages.entry(*parent).or_insert_with(|| Page {
            items: Vec::new(),
            has_more: false,
            total: *total,
        });
    }
    pages
}

/// `%word%` for ILIKE, with the pattern characters of the word escaped.
fn contains_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Conditions of a customer list after `$1` (tenant); `$2`…`$7` are the filter's values.
const CUSTOMER_FILTER: &str = "deleted_at IS NULL AND ($1::uuid IS NULL OR organization_id = $1)
     AND ($2::text IS NULL OR country_code = $2)
     AND ($3::text IS NULL OR lower(city) = lower($3))
     AND ($4::text IS NULL OR segment = $4)
     AND NOT EXISTS (SELECT 1 FROM unnest($5::text[]) AS w(pattern)
                     WHERE NOT (first_name ILIKE w.pattern ESCAPE '\\' OR last_name ILIKE w.pattern ESCAPE '\\'))
     AND ($6::bytea IS NULL OR email_bidx = $6)
     AND ($7::bytea IS NULL OR national_id_bidx = $7)";

#[async_trait::async_trait]
impl CrmStore for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn customers(
        &self,
        tenant: Option<Uuid>,
        filter: &CustomerFilter,
        after: Option<NameAfter>,
        first: usize,
    ) -> Result<Page<Customer>> {
        let patterns: Vec<String> = filter.name_words.iter().map(|w| contains_pattern(w)).collect();
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM crm.customers
             WHERE {CUSTOMER_FILTER}
               AND ($8::text IS NULL OR (last_name, first_name, id) > ($8, $9, $10::uuid))
             ORDER BY last_name, first_name, id LIMIT $11"
        );
        let (after_last, after_first, after_id) = match after {
            Some(a) => (Some(a.last_name), Some(a.first_name), Some(a.id)),
            None => (None, None, None),
        };
        let items = sqlx::query_as::<_, Customer>(&sql)
            .bind(tenant)
            .bind(&filter.country_code)
            .bind(&filter.city)
            .bind(&filter.segment)
            .bind(&patterns)
            .bind(&filter.email_bidx)
            .bind(&filter.national_id_bidx)
            .bind(after_last)
            .bind(after_first)
            .bind(after_id)
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM crm.customers WHERE {CUSTOMER_FILTER}"))
            .bind(tenant)
            .bind(&filter.country_code)
            .bind(&filter.city)
            .bind(&filter.segment)
            .bind(&patterns)
            .bind(&filter.email_bidx)
            .bind(&filter.national_id_bidx)
            .fetch_one(&self.pool)
            .await?;
        Ok(Page::from_probe(items, first, total))
    }

    async fn customers_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Customer>> {
        let rows: Vec<Customer> = self.by_id("crm.customers", CUSTOMER_COLUMNS, tenant, ids).await?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }

    async fn customer_keys(&self, tenant: Option<Uuid>, customers: &[Uuid]) -> Result<HashMap<Uuid, WrappedKey>> {
        let rows = sqlx::query_as::<_, (Uuid, String, Vec<u8>)>(
            "SELECT k.customer_id, k.key_id, k.wrapped_dek
             FROM crm.customer_keys k JOIN crm.customers c ON c.id = k.customer_id
             WHERE k.customer_id = ANY($1) AND ($2::uuid IS NULL OR c.organization_id = $2)",
        )
        .bind(customers)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, kek_id, sealed)| (id, WrappedKey { kek_id, sealed }))
            .collect())
    }

    async fn leads_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Lead>> {
        let rows: Vec<Lead> = self.by_id("crm.leads", LEAD_COLUMNS, tenant, ids).await?;
        Ok(rows.into_iter().map(|l| (l.id, l)).collect())
    }

    async fn interactions_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Interaction>> {
        let rows: Vec<Interaction> = self.by_id("crm.interactions", INTERACTION_COLUMNS, tenant, ids).await?;
        Ok(rows.into_iter().map(|i| (i.id, i)).collect())
    }

    async fn sales_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Sale>> {
        let rows: Vec<Sale> = self.by_id("crm.sales", SALE_COLUMNS, tenant, ids).await?;
        Ok(rows.into_iter().map(|s| (s.id, s)).collect())
    }

    async fn campaign_customers(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<CampaignCustomer>>> {
        self.pages(
            &CAMPAIGN_CUSTOMERS,
            campaigns,
            tenant,
            None,
            after,
            first,
            |l: &CampaignCustomer| l.campaign_id,
        )
        .await
    }

    async fn campaign_leads(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        status: Option<&str>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Lead>>> {
        self.pages(&CAMPAIGN_LEADS, campaigns, tenant, status, after, first, |l: &Lead| {
            l.campaign_id
        })
        .await
    }

    async fn campaign_interactions(
        &self,
        tenant: Option<Uuid>,
        campaigns: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Interaction>>> {
        // Every row of a campaign's page has that campaign id (the query matched on it).
        self.pages(
            &CAMPAIGN_INTERACTIONS,
            campaigns,
            tenant,
            None,
            after,
            first,
            |i: &Interaction| i.campaign_id.unwrap_or_default(),
        )
        .await
    }

    async fn customer_interactions(
        &self,
        tenant: Option<Uuid>,
        customers: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Interaction>>> {
        self.pages(
            &CUSTOMER_INTERACTIONS,
            customers,
            tenant,
            None,
            after,
            first,
            |i: &Interaction| i.customer_id,
        )
        .await
    }

    async fn customer_sales(
        &self,
        tenant: Option<Uuid>,
        customers: &[Uuid],
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<HashMap<Uuid, Page<Sale>>> {
        self.pages(&CUSTOMER_SALES, customers, tenant, None, after, first, |s: &Sale| {
            s.customer_id
        })
        .await
    }

    async fn campaign_sales(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Vec<SalesCell>>> {
        // Answered from sales_campaign_id_channel_id_market_id_idx (amount, quantity and
        // deleted_at are INCLUDEd), refunds excluded.
        let rows = sqlx::query_as::<_, SalesCell>(
            "SELECT campaign_id, channel_id, market_id, count(*) AS sales_count,
                    sum(quantity)::bigint AS quantity, sum(amount_usd) AS amount_usd
             FROM crm.sales
             WHERE campaign_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
             GROUP BY campaign_id, channel_id, market_id
             ORDER BY campaign_id, channel_id, market_id",
        )
        .bind(campaigns)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        let mut map: HashMap<Uuid, Vec<SalesCell>> = HashMap::new();
        for row in rows {
            map.entry(row.campaign_id).or_default().push(row);
        }
        Ok(map)
    }

    async fn campaign_funnels(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Funnel>> {
        let links = sqlx::query_as::<_, (Uuid, i64, i64)>(
            "SELECT campaign_id, count(*), count(*) FILTER (WHERE reached)
             FROM crm.campaign_customers
             WHERE campaign_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
             GROUP BY campaign_id",
        )
        .bind(campaigns)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        let leads = sqlx::query_as::<_, (Uuid, i64, i64)>(
            "SELECT campaign_id, count(*), count(*) FILTER (WHERE status = 'converted')
             FROM crm.leads
             WHERE campaign_id = ANY($1) AND deleted_at IS NULL AND ($2::uuid IS NULL OR organization_id = $2)
             GROUP BY campaign_id",
        )
        .bind(campaigns)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        let mut map: HashMap<Uuid, Funnel> = HashMap::new();
        for (campaign, linked, reached) in links {
            let f = map.entry(campaign).or_default();
            f.customers_linked = linked;
            f.customers_reached = reached;
        }
        for (campaign, all, converted) in leads {
            let f = map.entry(campaign).or_default();
            f.leads = all;
            f.converted_leads = converted;
        }
        Ok(map)
    }

    async fn customers_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Customer>> {
        self.updated_since("crm.customers", CUSTOMER_COLUMNS, tenant, since, after, first)
            .await
    }

    async fn leads_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Lead>> {
        self.updated_since("crm.leads", LEAD_COLUMNS, tenant, since, after, first)
            .await
    }

    async fn interactions_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Interaction>> {
        self.updated_since("crm.interactions", INTERACTION_COLUMNS, tenant, since, after, first)
            .await
    }

    async fn sales_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<Sale>> {
        self.updated_since("crm.sales", SALE_COLUMNS, tenant, since, after, first)
            .await
    }

    async fn campaign_customers_updated_since(
        &self,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<LinkAfter>,
        first: usize,
    ) -> Result<Page<CampaignCustomer>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM crm.campaign_customers
             WHERE updated_at > $1 AND ($2::uuid IS NULL OR organization_id = $2)
               AND ($3::timestamptz IS NULL OR (updated_at, campaign_id, customer_id) > ($3, $4::uuid, $5::uuid))
             ORDER BY updated_at, campaign_id, customer_id LIMIT $6"
        );
        let items = sqlx::query_as::<_, CampaignCustomer>(&sql)
            .bind(since)
            .bind(tenant)
            .bind(after.map(|a| a.at))
            .bind(after.map(|a| a.campaign_id))
            .bind(after.map(|a| a.customer_id))
            .bind(first as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM crm.campaign_customers
             WHERE updated_at > $1 AND ($2::uuid IS NULL OR organization_id = $2)",
        )
        .bind(since)
        .bind(tenant)
        .fetch_one(&self.pool)
        .await?;
        Ok(Page::from_probe(items, first, total))
    }

    async fn customer_record(&self, tenant: Option<Uuid>, customer: Uuid) -> Result<Option<CustomerRecord>> {
        self.record_of(tenant, customer).await
    }

    async fn erase_customer(&self, tenant: Option<Uuid>, customer: Uuid, actor: &str) -> Result<Option<Erasure>> {
        self.erase(tenant, customer, actor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_escape_like_wildcards_in_search_words() {
        assert_eq!(contains_pattern("ana"), "%ana%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
