//! The crm store on SQL Server (tiberius over a bb8 pool): the same semantics as the PostgreSQL
//! adapter, in T-SQL. Every value is a bound parameter (`@P1`…); SQL text is assembled only from
//! the static table descriptions below. Lists of ids travel as one JSON array parameter, opened
//! with `OPENJSON … WITH (id UNIQUEIDENTIFIER '$')` (SQL Server 2016+), so a batch of any size is
//! one statement with a fixed shape (one cached plan). A page and its count are one batch with two
//! result sets: one round trip.
//!
//! Differences from PostgreSQL kept in mind: no row-value comparison (keysets are spelled out),
//! `TOP (@n)` instead of `LIMIT`, `COUNT_BIG` for 64-bit counts, and `uniqueidentifier` sorts in
//! its own byte order; cursors only ever go back to the engine that issued them, so each engine's
//! order is self-consistent.

mod pool;
mod privacy;
mod rows;

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, FixedOffset, Utc};
use promptsales_platform::{StoreUrl, crypto::WrappedKey};
use tiberius::{Row, ToSql};
use uuid::Uuid;

use self::rows::{FromTds, all, req};
use super::{
    CampaignCustomer, CrmStore, Customer, CustomerFilter, CustomerRecord, Erasure, Funnel, Interaction, Lead,
    LinkAfter, NameAfter, Page, Result, Sale, SalesCell, StoreError, TimeAfter, pg::group_pages,
};

pub struct MssqlStore {
    pool: bb8::Pool<pool::Manager>,
}

const CUSTOMER_COLUMNS: &str = "id, organization_id, first_name, last_name, birth_date, segment, country_code, \
     region, city, latitude, longitude, preferred_language, national_id_enc, email_enc, phone_enc, \
     marketing_consent, consent_updated_at, created_at, updated_at, deleted_at, erased_at";
const LINK_COLUMNS: &str =
    "campaign_id, customer_id, organization_id, channel_id, linked_at, reached, updated_at, deleted_at";
const LEAD_COLUMNS: &str = "id, organization_id, campaign_id, customer_id, source_channel_id, score, status, \
     purchase_intent, created_at, converted_at, updated_at, deleted_at";
const INTERACTION_COLUMNS: &str = "id, organization_id, customer_id, campaign_id, channel_id, kind, actor, sentiment, \
     occurred_at, note, created_at, updated_at, deleted_at";
const SALE_COLUMNS: &str = "id, organization_id, customer_id, campaign_id, channel_id, market_id, product_id, ad_id, \
     quantity, amount_usd, original_amount, original_currency, fx_rate_to_usd, sold_at, created_at, updated_at, \
     deleted_at";

/// The ids of a JSON array parameter, as a derived table with one `id` column.
const IDS_P1: &str = "OPENJSON(@P1) WITH (id UNIQUEIDENTIFIER '$')";

/// A list that hangs off a parent row (see the PostgreSQL adapter).
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

/// Conditions of a customer list; `@P1` tenant, `@P2`…`@P7` the filter's values. City and name
/// words compare through LOWER so the result does not depend on the database collation (the
/// PostgreSQL twin does the same).
const CUSTOMER_FILTER: &str = "deleted_at IS NULL AND (@P1 IS NULL OR organization_id = @P1)
    AND (@P2 IS NULL OR country_code = @P2)
    AND (@P3 IS NULL OR LOWER(city) = LOWER(@P3))
    AND (@P4 IS NULL OR segment = @P4)
    AND NOT EXISTS (SELECT 1 FROM OPENJSON(@P5) WITH (pattern NVARCHAR(400) '$') AS w
                    WHERE NOT (LOWER(first_name) LIKE LOWER(w.pattern) ESCAPE '\\'
                               OR LOWER(last_name) LIKE LOWER(w.pattern) ESCAPE '\\'))
    AND (@P6 IS NULL OR email_bidx = @P6)
    AND (@P7 IS NULL OR national_id_bidx = @P7)";

/// Ids as the JSON array `OPENJSON` reads.
fn json_ids(ids: &[Uuid]) -> String {
    serde_json::to_string(ids).expect("a list of UUIDs serialises to JSON")
}

/// `%word%` for LIKE … ESCAPE '\', with T-SQL's pattern characters (`%`, `_`, `[`) escaped.
fn contains_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '\\' | '%' | '_' | '[') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A time parameter as `datetimeoffset` (tiberius sends `DateTime<Utc>` as `datetime2`).
fn dto(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

fn count(rows: &[Row]) -> Result<i64> {
    rows.first().map_or(Ok(0), |r| req::<i64>(r, "total"))
}

impl MssqlStore {
    /// A pool on the database `url` names (connections opened on first use, so the process
    /// starts while the server is still coming up; `/readyz` tells when it answers).
    pub async fn connect(url: &StoreUrl) -> Result<MssqlStore> {
        let pool = bb8::Pool::builder()
            .max_size(16)
            .connection_timeout(Duration::from_secs(5))
            .build_unchecked(pool::Manager::new(url)?);
        Ok(MssqlStore { pool })
    }

    /// Runs one batch and returns every result set.
    async fn run(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<Vec<Row>>> {
        let mut conn = self.pool.get().await.map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(conn.query(sql, params).await?.into_results().await?)
    }

    /// The first result set of a batch.
    async fn rows(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<Row>> {
        Ok(self.run(sql, params).await?.into_iter().next().unwrap_or_default())
    }

    async fn by_id<T: FromTds>(
        &self,
        table: &str,
        columns: &str,
        tenant: Option<Uuid>,
        ids: &[Uuid],
    ) -> Result<Vec<T>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {columns} FROM {table}
             WHERE id IN (SELECT id FROM {IDS_P1}) AND (@P2 IS NULL OR organization_id = @P2)"
        );
        all(&self.rows(&sql, &[&json_ids(ids), &tenant]).await?)
    }

    /// One page per parent (newest first) and each parent's total, in one batch.
    #[allow(clippy::too_many_arguments)]
    async fn pages<T: FromTds>(
        &self,
        rel: &Relation,
        parents: &[Uuid],
        tenant: Option<Uuid>,
        status: Option<&str>,
        after: Option<TimeAfter>,
        first: usize,
        parent_of: fn(&T) -> Uuid,
    ) -> Result<HashMap<Uuid, Page<T>>> {
        if parents.is_empty() {
            return Ok(HashMap::new());
        }
        let Relation {
            table,
            columns,
            parent,
            time,
            id,
        } = rel;
        let (status_page, status_count) = match status {
            Some(_) => ("AND t.status = @P6", "AND status = @P6"),
            None => ("", ""),
        };
        let sql = format!(
            "SELECT r.* FROM OPENJSON(@P1) WITH (parent_id UNIQUEIDENTIFIER '$') AS p
             CROSS APPLY (
                 SELECT TOP (@P5) {columns} FROM {table} AS t
                 WHERE t.{parent} = p.parent_id AND t.deleted_at IS NULL
                   AND (@P2 IS NULL OR t.organization_id = @P2)
                   AND (@P3 IS NULL OR t.{time} < @P3 OR (t.{time} = @P3 AND t.{id} < @P4))
                   {status_page}
                 ORDER BY t.{time} DESC, t.{id} DESC
             ) AS r;
             SELECT {parent} AS parent_id, COUNT_BIG(*) AS total FROM {table}
             WHERE {parent} IN (SELECT id FROM {IDS_P1}) AND deleted_at IS NULL
               AND (@P2 IS NULL OR organization_id = @P2)
               {status_count}
             GROUP BY {parent};"
        );
        let ids = json_ids(parents);
        let after_at = after.map(|a| dto(a.at));
        let after_id = after.map(|a| a.id);
        let limit = first as i64 + 1;
        let status = status.map(str::to_owned);
        let mut params: Vec<&dyn ToSql> = vec![&ids, &tenant, &after_at, &after_id, &limit];
        if status.is_some() {
            params.push(&status);
        }
        let mut sets = self.run(&sql, &params).await?.into_iter();
        let rows: Vec<T> = all(&sets.next().unwrap_or_default())?;
        let totals = sets
            .next()
            .unwrap_or_default()
            .iter()
            .map(|r| Ok((req::<Uuid>(r, "parent_id")?, req::<i64>(r, "total")?)))
            .collect::<Result<HashMap<Uuid, i64>>>()?;
        Ok(group_pages(rows, parent_of, first, &totals))
    }

    /// Rows of `table` changed after `since`, keyset-paged by `(updated_at, id)`.
    async fn updated_since<T: FromTds>(
        &self,
        table: &str,
        columns: &str,
        tenant: Option<Uuid>,
        since: DateTime<Utc>,
        after: Option<TimeAfter>,
        first: usize,
    ) -> Result<Page<T>> {
        let sql = format!(
            "SELECT TOP (@P5) {columns} FROM {table}
             WHERE updated_at > @P1 AND (@P2 IS NULL OR organization_id = @P2)
               AND (@P3 IS NULL OR updated_at > @P3 OR (updated_at = @P3 AND id > @P4))
             ORDER BY updated_at, id;
             SELECT COUNT_BIG(*) AS total FROM {table}
             WHERE updated_at > @P1 AND (@P2 IS NULL OR organization_id = @P2);"
        );
        let since = dto(since);
        let after_at = after.map(|a| dto(a.at));
        let after_id = after.map(|a| a.id);
        let limit = first as i64 + 1;
        let mut sets = self
            .run(&sql, &[&since, &tenant, &after_at, &after_id, &limit])
            .await?
            .into_iter();
        let items = all(&sets.next().unwrap_or_default())?;
        let total = count(&sets.next().unwrap_or_default())?;
        Ok(Page::from_probe(items, first, total))
    }
}

#[async_trait::async_trait]
impl CrmStore for MssqlStore {
    async fn ping(&self) -> Result<()> {
        self.rows("SELECT 1 AS ok", &[]).await?;
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
        let patterns = serde_json::to_string(&patterns).expect("a list of strings serialises to JSON");
        let sql = format!(
            "SELECT TOP (@P11) {CUSTOMER_COLUMNS} FROM crm.customers
             WHERE {CUSTOMER_FILTER}
               AND (@P8 IS NULL
                    OR last_name > @P8
                    OR (last_name = @P8 AND (first_name > @P9 OR (first_name = @P9 AND id > @P10))))
             ORDER BY last_name, first_name, id;
             SELECT COUNT_BIG(*) AS total FROM crm.customers WHERE {CUSTOMER_FILTER};"
        );
        let (after_last, after_first, after_id) = match after {
            Some(a) => (Some(a.last_name), Some(a.first_name), Some(a.id)),
            None => (None, None, None),
        };
        let limit = first as i64 + 1;
        let mut sets = self
            .run(
                &sql,
                &[
                    &tenant,
                    &filter.country_code,
                    &filter.city,
                    &filter.segment,
                    &patterns,
                    &filter.email_bidx,
                    &filter.national_id_bidx,
                    &after_last,
                    &after_first,
                    &after_id,
                    &limit,
                ],
            )
            .await?
            .into_iter();
        let items = all(&sets.next().unwrap_or_default())?;
        let total = count(&sets.next().unwrap_or_default())?;
        Ok(Page::from_probe(items, first, total))
    }

    async fn customers_by_id(&self, tenant: Option<Uuid>, ids: &[Uuid]) -> Result<HashMap<Uuid, Customer>> {
        let rows: Vec<Customer> = self.by_id("crm.customers", CUSTOMER_COLUMNS, tenant, ids).await?;
        Ok(rows.into_iter().map(|c| (c.id, c)).collect())
    }

    async fn customer_keys(&self, tenant: Option<Uuid>, customers: &[Uuid]) -> Result<HashMap<Uuid, WrappedKey>> {
        if customers.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT k.customer_id, k.key_id, k.wrapped_dek
             FROM crm.customer_keys AS k INNER JOIN crm.customers AS c ON c.id = k.customer_id
             WHERE k.customer_id IN (SELECT id FROM {IDS_P1}) AND (@P2 IS NULL OR c.organization_id = @P2)"
        );
        self.rows(&sql, &[&json_ids(customers), &tenant])
            .await?
            .iter()
            .map(|r| {
                let wrapped = WrappedKey {
                    kek_id: req::<&str>(r, "key_id")?.to_owned(),
                    sealed: req::<&[u8]>(r, "wrapped_dek")?.to_vec(),
                };
                Ok((req::<Uuid>(r, "customer_id")?, wrapped))
            })
            .collect()
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
        if campaigns.is_empty() {
            return Ok(HashMap::new());
        }
        // Covered by sales_campaign_id_channel_id_market_id_idx (INCLUDE amount_usd, quantity,
        // deleted_at). quantity is summed as BIGINT: SUM(INT) is INT and could overflow.
        let sql = format!(
            "SELECT campaign_id, channel_id, market_id, COUNT_BIG(*) AS sales_count,
                    SUM(CAST(quantity AS BIGINT)) AS quantity, SUM(amount_usd) AS amount_usd
             FROM crm.sales
             WHERE campaign_id IN (SELECT id FROM {IDS_P1}) AND deleted_at IS NULL
               AND (@P2 IS NULL OR organization_id = @P2)
             GROUP BY campaign_id, channel_id, market_id"
        );
        let rows: Vec<SalesCell> = all(&self.rows(&sql, &[&json_ids(campaigns), &tenant]).await?)?;
        let mut map: HashMap<Uuid, Vec<SalesCell>> = HashMap::new();
        for row in rows {
            map.entry(row.campaign_id).or_default().push(row);
        }
        // Same order as the PostgreSQL adapter (uuid byte order), whatever SQL Server's GUID order.
        for cells in map.values_mut() {
            cells.sort_by_key(|c| (c.channel_id, c.market_id));
        }
        Ok(map)
    }

    async fn campaign_funnels(&self, tenant: Option<Uuid>, campaigns: &[Uuid]) -> Result<HashMap<Uuid, Funnel>> {
        if campaigns.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT campaign_id, COUNT_BIG(*) AS linked,
                    SUM(CASE WHEN reached = 1 THEN CAST(1 AS BIGINT) ELSE 0 END) AS reached
             FROM crm.campaign_customers
             WHERE campaign_id IN (SELECT id FROM {IDS_P1}) AND deleted_at IS NULL
               AND (@P2 IS NULL OR organization_id = @P2)
             GROUP BY campaign_id;
             SELECT campaign_id, COUNT_BIG(*) AS leads,
                    SUM(CASE WHEN status = 'converted' THEN CAST(1 AS BIGINT) ELSE 0 END) AS converted
             FROM crm.leads
             WHERE campaign_id IN (SELECT id FROM {IDS_P1}) AND deleted_at IS NULL
               AND (@P2 IS NULL OR organization_id = @P2)
             GROUP BY campaign_id;"
        );
        let mut sets = self.run(&sql, &[&json_ids(campaigns), &tenant]).await?.into_iter();
        let mut map: HashMap<Uuid, Funnel> = HashMap::new();
        for r in sets.next().unwrap_or_default() {
            let f = map.entry(req::<Uuid>(&r, "campaign_id")?).or_default();
            f.customers_linked = req::<i64>(&r, "linked")?;
            f.customers_reached = req::<i64>(&r, "reached")?;
        }
        for r in sets.next().unwrap_or_default() {
            let f = map.entry(req::<Uuid>(&r, "campaign_id")?).or_default();
            f.leads = req::<i64>(&r, "leads")?;
            f.converted_leads = req::<i64>(&r, "converted")?;
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
            "SELECT TOP (@P6) {LINK_COLUMNS} FROM crm.campaign_customers
             WHERE updated_at > @P1 AND (@P2 IS NULL OR organization_id = @P2)
               AND (@P3 IS NULL
                    OR updated_at > @P3
                    OR (updated_at = @P3
                        AND (campaign_id > @P4 OR (campaign_id = @P4 AND customer_id > @P5))))
             ORDER BY updated_at, campaign_id, customer_id;
             SELECT COUNT_BIG(*) AS total FROM crm.campaign_customers
             WHERE updated_at > @P1 AND (@P2 IS NULL OR organization_id = @P2);"
        );
        let since = dto(since);
        let after_at = after.map(|a| dto(a.at));
        let after_campaign = after.map(|a| a.campaign_id);
        let after_customer = after.map(|a| a.customer_id);
        let limit = first as i64 + 1;
        let mut sets = self
            .run(
                &sql,
                &[&since, &tenant, &after_at, &after_campaign, &after_customer, &limit],
            )
            .await?
            .into_iter();
        let items = all(&sets.next().unwrap_or_default())?;
        let total = count(&sets.next().unwrap_or_default())?;
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
    fn should_escape_tsql_like_wildcards_and_brackets() {
        assert_eq!(contains_pattern("a[b]%_"), "%a\\[b]\\%\\_%");
    }

    #[test]
    fn should_pass_id_lists_as_a_json_array_of_strings() {
        let id = Uuid::nil();
        assert_eq!(json_ids(&[id]), format!("[\"{id}\"]"));
    }
}
