//! Change feeds for the ETL and the ads reference sync (`etl:run`): every row changed after a
//! time, deletions included (`deletedAt` set), oldest change first, keyset-paged on
//! `(updatedAt, id)` so a page boundary holds while rows keep changing.

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use promptsales_platform::gql::{internal, page_size};

use super::{
    Brand, Conn, MAX_FEED_PAGE, MAX_PAGE, Organization, Product, after_time, connection, store, tenant, time_cursor,
};

#[derive(Default)]
pub struct FeedQuery;

#[Object]
impl FeedQuery {
    /// Organizations changed (or deleted) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn organizations_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Organization>> {
        let first = page_size(first, MAX_PAGE, MAX_FEED_PAGE)?;
        let page = store(ctx)
            .organizations_updated_since(tenant(ctx), since, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |o| time_cursor(o.updated_at, o.id), Organization))
    }

    /// Brands changed (or deleted) after `since`, oldest change first: for the ETL and the
    /// reference copy PromptAds keeps.
    #[graphql(requires_scopes = "etl:run")]
    async fn brands_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Brand>> {
        let first = page_size(first, MAX_PAGE, MAX_FEED_PAGE)?;
        let page = store(ctx)
            .brands_updated_since(tenant(ctx), since, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |b| time_cursor(b.updated_at, b.id), Brand))
    }

    /// Products changed (or deleted) after `since`, oldest change first: for the ETL and the
    /// reference copy PromptAds keeps (id, brand, organization, name, unit price, currency).
    #[graphql(requires_scopes = "etl:run")]
    async fn products_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (default 100, at most 1000).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Product>> {
        let first = page_size(first, MAX_PAGE, MAX_FEED_PAGE)?;
        let page = store(ctx)
            .products_updated_since(tenant(ctx), since, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |p| time_cursor(p.updated_at, p.id), Product))
    }
}
