//! The GraphQL schema of the sales subgraph (Federation v2).

mod loaders;
mod types;

use std::sync::Arc;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema,
    connection::{Connection, Edge},
    dataloader::DataLoader,
};
use chrono::{DateTime, Utc};
pub use loaders::Loaders;
use promptsales_platform::{
    claims::Claims,
    gql::{self, bad_input, decode_cursor, encode_cursor, internal, page_size},
};
pub use types::*;
use uuid::Uuid;

use crate::store::{After, SalesStore};

pub type SalesSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Most items one page may hold.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 20;

/// Builds the schema over a store, with depth and complexity limits.
pub fn build_schema(store: Arc<dyn SalesStore>) -> SalesSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .limit_depth(12)
        .limit_complexity(5_000)
        .data(store)
        .finish()
}

/// Request-scoped data: DataLoaders bound to the caller's organization.
pub fn per_request(store: Arc<dyn SalesStore>) -> gql::PerRequest {
    Arc::new(move |claims: &Claims, request| {
        request.data(DataLoader::new(
            Loaders {
                store: store.clone(),
                tenant: claims.org,
            },
            tokio::spawn,
        ))
    })
}

pub(crate) fn store<'a>(ctx: &'a Context<'_>) -> &'a Arc<dyn SalesStore> {
    ctx.data_unchecked::<Arc<dyn SalesStore>>()
}

pub(crate) fn tenant(ctx: &Context<'_>) -> Option<Uuid> {
    ctx.data_opt::<Claims>().and_then(|c| c.org)
}

pub(crate) fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<Loaders> {
    ctx.data_unchecked::<DataLoader<Loaders>>()
}

pub(crate) fn parse_id(field: &str, id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| bad_input(field, "uuid", "must be a UUID"))
}

fn after_cursor(after: Option<String>) -> Result<Option<After>> {
    after
        .map(|c| {
            let parts = decode_cursor(&c, 2)?;
            let id = Uuid::parse_str(&parts[1])
                .map_err(|_| bad_input("after", "cursor", "not a cursor this API returned"))?;
            Ok(After {
                key: parts[0].clone(),
                id,
            })
        })
        .transpose()
}

/// Extra fields of a connection.
#[derive(async_graphql::SimpleObject)]
pub struct ConnectionFields {
    /// How many items the whole list holds (all pages).
    pub total_count: i64,
}

pub struct Query;

/// Read access to the central store: tenants and their catalogue, and campaign read models.
#[Object]
impl Query {
    /// Organizations (our customers), by name. A token bound to an organization sees only its own.
    #[graphql(requires_scopes = "sales:read")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Connection<String, Organization, ConnectionFields>> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let page = store(ctx)
            .organizations(tenant(ctx), after_cursor(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        let mut connection = Connection::with_additional_fields(
            false,
            page.has_more,
            ConnectionFields {
                total_count: page.total,
            },
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|o| Edge::new(encode_cursor(&[&o.name, &o.id.to_string()]), Organization(o))),
        );
        Ok(connection)
    }

    /// One organization, or null when it does not exist or is not visible to the caller.
    #[graphql(requires_scopes = "sales:read")]
    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organization>> {
        let id = parse_id("id", &id)?;
        loader(ctx)
            .load_one(loaders::OrgId(id))
            .await
            .map(|o| o.map(Organization))
    }

    /// Organizations changed (or deleted) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn organizations_updated_since(
        &self,
        ctx: &Context<'_>,
        since: DateTime<Utc>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Organization, ConnectionFields>> {
        let first = page_size(first, MAX_PAGE, 1_000)?;
        let page = store(ctx)
            .organizations_updated_since(since, after_cursor(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        let mut connection = Connection::with_additional_fields(
            false,
            page.has_more,
            ConnectionFields {
                total_count: page.total,
            },
        );
        connection.edges.extend(page.items.into_iter().map(|o| {
            Edge::new(
                encode_cursor(&[&o.updated_at.to_rfc3339(), &o.id.to_string()]),
                Organization(o),
            )
        }));
        Ok(connection)
    }

    /// Federation: resolves an Organization reference.
    #[graphql(entity)]
    async fn find_organization_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organization>> {
        let id = parse_id("id", &id)?;
        loader(ctx)
            .load_one(loaders::OrgId(id))
            .await
            .map(|o| o.map(Organization))
    }

    /// Federation: resolves a Brand reference.
    #[graphql(entity)]
    async fn find_brand_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Brand>> {
        let id = parse_id("id", &id)?;
        loader(ctx).load_one(loaders::BrandId(id)).await.map(|b| b.map(Brand))
    }

    /// Federation: resolves a Product reference.
    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        let id = parse_id("id", &id)?;
        loader(ctx)
            .load_one(loaders::ProductId(id))
            .await
            .map(|p| p.map(Product))
    }

    /// Federation: the sales side of a Campaign (owned by the ads subgraph).
    #[graphql(entity)]
    async fn find_campaign_by_id(&self, id: ID) -> Result<Campaign> {
        let id = parse_id("id", &id)?;
        Ok(Campaign { id })
    }
}
