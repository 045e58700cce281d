//! Root fields: the customer list and lookups, the ETL feeds (`…UpdatedSince`) and the federation
//! entity resolvers.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use promptsales_platform::{
    crypto::{normalize_email, normalize_national_id},
    gql::{bad_input, internal, page_size},
};

use super::{
    Campaign, CampaignCustomerLink, Conn, Customer, CustomerSegment, DEFAULT_PAGE, ETL_PAGE, Interaction, Lead,
    MAX_ETL_PAGE, MAX_PAGE, Sale, connection,
    cursor::{link_after, link_cursor, name_after, name_cursor, time_after, time_cursor},
    keyring, loader, loaders, parse_id,
    pii::{self, Column},
    store, tenant,
};
use crate::store::CustomerFilter as StoreFilter;

/// Most words a name search may hold.
const MAX_SEARCH_WORDS: usize = 5;

/// Conditions on the customer list; every condition given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "CustomerFilter")]
pub struct CustomerFilterInput {
    /// ISO 3166-1 alpha-2 country (`MX`; case-insensitive).
    pub country_code: Option<String>,
    /// City, compared case-insensitively (`Guadalajara`).
    pub city: Option<String>,
    /// Only customers in this segment.
    pub segment: Option<CustomerSegment>,
    /// Name search: every word (up to 5) must appear in the first or the last name, ignoring case
    /// (accents count: `lopez` does not find `López`).
    pub search: Option<String>,
    /// Exact e-mail (case and surrounding spaces ignored), looked up through its blind index: the
    /// store never decrypts to search. Needs `crm:pii`.
    pub email: Option<String>,
    /// Exact national id (only letters and digits count: `12.345.678-9` = `123456789`), looked up
    /// through its blind index. Needs `crm:pii`.
    pub national_id: Option<String>,
}

impl CustomerFilterInput {
    /// Checks the filter and turns contact data into blind indexes.
    fn into_store(self, ctx: &Context<'_>) -> Result<StoreFilter> {
        let country_code = self
            .country_code
            .map(|c| {
                let c = c.trim().to_ascii_uppercase();
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(c)
                } else {
                    Err(bad_input(
                        "filter.countryCode",
                        "iso3166",
                        "must be two letters (ISO 3166-1 alpha-2)",
                    ))
                }
            })
            .transpose()?;
        let city = self
            .city
            .map(|c| {
                let c = c.trim().to_owned();
                if c.is_empty() || c.chars().count() > 100 {
                    Err(bad_input("filter.city", "length", "must be 1 to 100 characters"))
                } else {
                    Ok(c)
                }
            })
            .transpose()?;
        let name_words = match self.search {
            None => Vec::new(),
            Some(s) => {
                let words: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
                if words.is_empty() {
                    return Err(bad_input("filter.search", "min", "must hold at least one word"));
                }
                if words.len() > MAX_SEARCH_WORDS || words.iter().any(|w| w.chars().count() > 100) {
                    return Err(bad_input(
                        "filter.search",
                        "max",
                        format!("at most {MAX_SEARCH_WORDS} words of at most 100 characters"),
                    ));
                }
                words
            }
        };
        if self.email.is_some() {
            pii::require_for_lookup(ctx, "filter.email")?;
        }
        if self.national_id.is_some() {
            pii::require_for_lookup(ctx, "filter.nationalId")?;
        }
        let ring = keyring(ctx);
        let email_bidx = self
            .email
            .map(|e| {
                let e = normalize_email(&e);
                match e.split_once('@') {
                    Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                        Ok(ring.blind_index(Column::Email.purpose(), &e).to_vec())
                    }
                    _ => Err(bad_input("filter.email", "email", "must be an e-mail address")),
                }
            })
            .transpose()?;
        let national_id_bidx = self
            .national_id
            .map(|n| {
                let n = normalize_national_id(&n);
                if n.is_empty() {
                    Err(bad_input("filter.nationalId", "format", "must hold letters or digits"))
                } else {
                    Ok(ring.blind_index(Column::NationalId.purpose(), &n).to_vec())
                }
            })
            .transpose()?;
        Ok(StoreFilter {
            country_code,
            city,
            segment: self.segment.map(|s| s.as_db().to_owned()),
            name_words,
            email_bidx,
            national_id_bidx,
        })
    }
}

fn etl_first(first: Option<i32>) -> Result<usize> {
    page_size(first, ETL_PAGE, MAX_ETL_PAGE)
}

#[derive(Default)]
pub struct CrmQuery;

/// Read access to PromptCrm: customers (with their PII protected), leads, interactions and sales.
#[Object]
impl CrmQuery {
    /// Live customers, by last name, first name and id. A token bound to an organization sees only
    /// its own customers.
    #[graphql(requires_scopes = "crm:read")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Conditions on the list.")] filter: Option<CustomerFilterInput>,
    ) -> Result<Conn<Customer>> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let after = name_after(after)?;
        let had_cursor = after.is_some();
        let filter = filter.unwrap_or_default().into_store(ctx)?;
        let page = store(ctx)
            .customers(tenant(ctx), &filter, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(
            page,
            had_cursor,
            |c| name_cursor(&c.last_name, &c.first_name, c.id),
            Customer,
        ))
    }

    /// One live customer, or null when it does not exist, was deleted or is not visible to the
    /// caller.
    #[graphql(requires_scopes = "crm:read")]
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        live_customer(ctx, parse_id("id", &id)?).await
    }

    /// Customers changed (or deleted, or erased) after `since`, oldest change first: for the ETL.
    /// PII is masked unless the caller also holds `crm:pii`.
    #[graphql(requires_scopes = "etl:run")]
    async fn customers_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Customer>> {
        let (first, after) = (etl_first(first)?, time_after(after)?);
        let page = store(ctx)
            .customers_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(
            page,
            after.is_some(),
            |c| time_cursor(c.updated_at, c.id),
            Customer,
        ))
    }

    /// Leads changed (or deleted) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn leads_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Lead>> {
        let (first, after) = (etl_first(first)?, time_after(after)?);
        let page = store(ctx)
            .leads_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(
            page,
            after.is_some(),
            |l| time_cursor(l.updated_at, l.id),
            Lead,
        ))
    }

    /// Interactions changed (or deleted) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn interactions_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Interaction>> {
        let (first, after) = (etl_first(first)?, time_after(after)?);
        let page = store(ctx)
            .interactions_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(
            page,
            after.is_some(),
            |i| time_cursor(i.updated_at, i.id),
            Interaction,
        ))
    }

    /// Sales changed (or refunded: `deletedAt` set) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn sales_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Sale>> {
        let (first, after) = (etl_first(first)?, time_after(after)?);
        let page = store(ctx)
            .sales_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(
            page,
            after.is_some(),
            |s| time_cursor(s.updated_at, s.id),
            Sale,
        ))
    }

    /// Campaign–customer links changed (or unlinked) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn campaign_customers_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<CampaignCustomerLink>> {
        let (first, after) = (etl_first(first)?, link_after(after)?);
        let page = store(ctx)
            .campaign_customers_updated_since(tenant(ctx), since, after, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(
            page,
            after.is_some(),
            |l| link_cursor(l.updated_at, l.campaign_id, l.customer_id),
            CampaignCustomerLink,
        ))
    }

    /// Federation: resolves a Customer reference (null when deleted or not visible).
    #[graphql(entity)]
    async fn find_customer_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        live_customer(ctx, parse_id("id", &id)?).await
    }

    /// Federation: resolves a Lead reference (null when deleted or not visible).
    #[graphql(entity)]
    async fn find_lead_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Lead>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx)
            .load_one(loaders::LeadId(id))
            .await?
            .filter(|l| l.deleted_at.is_none())
            .map(Lead))
    }

    /// Federation: resolves an Interaction reference (null when deleted or not visible).
    #[graphql(entity)]
    async fn find_interaction_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Interaction>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx)
            .load_one(loaders::InteractionId(id))
            .await?
            .filter(|i| i.deleted_at.is_none())
            .map(Interaction))
    }

    /// Federation: resolves a Sale reference (null when refunded or not visible).
    #[graphql(entity)]
    async fn find_sale_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Sale>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx)
            .load_one(loaders::SaleId(id))
            .await?
            .filter(|s| s.deleted_at.is_none())
            .map(Sale))
    }

    /// Federation: the crm side of a Campaign (owned by the ads subgraph).
    #[graphql(entity)]
    async fn find_campaign_by_id(&self, id: ID) -> Result<Campaign> {
        let id = parse_id("id", &id)?;
        Ok(Campaign { id })
    }
}

async fn live_customer(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<Customer>> {
    Ok(loader(ctx)
        .load_one(loaders::CustomerId(id))
        .await?
        .filter(|c| c.deleted_at.is_none())
        .map(Customer))
}
