//! Queries over tenants, their catalogue and the price list.

use async_graphql::{Context, ID, Object, Result};
use promptsales_platform::gql::{bad_input, internal, page_size};

use super::{
    Brand, Conn, DEFAULT_PAGE, MAX_PAGE, Organization, Product, SubscriptionPlan, after_text, connection, loader,
    loaders, parse_id, store, tenant, text_cursor,
};
use crate::store::ProductFilter;

/// Longest product search text.
const MAX_SEARCH: usize = 100;

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Organizations (our customers), by name. A token bound to an organization sees only its own.
    #[graphql(requires_scopes = "sales:read")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Organization>> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let page = store(ctx)
            .organizations(tenant(ctx), after_text(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |o| text_cursor(&o.name, o.id), Organization))
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

    /// Brands, by name: all the caller may see, or those of one organization.
    #[graphql(requires_scopes = "sales:read")]
    async fn brands(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only the brands of this organization.")] organization_id: Option<ID>,
    ) -> Result<Conn<Brand>> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let organization = organization_id.map(|id| parse_id("organizationId", &id)).transpose()?;
        let page = store(ctx)
            .brands(tenant(ctx), organization, after_text(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |b| text_cursor(&b.name, b.id), Brand))
    }

    /// Products, by name: all the caller may see, those of one brand, or those whose name or SKU
    /// contains a text.
    #[graphql(requires_scopes = "sales:read")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only the products of this brand.")] brand_id: Option<ID>,
        #[graphql(desc = "Case-insensitive text the name or the SKU contains (1 to 100 characters; \
                          `%` and `_` match themselves).")]
        search: Option<String>,
    ) -> Result<Conn<Product>> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let brand = brand_id.map(|id| parse_id("brandId", &id)).transpose()?;
        let search = search
            .map(|s| {
                let s = s.trim().to_owned();
                match s.chars().count() {
                    0 => Err(bad_input("search", "min_length", "must not be blank")),
                    n if n > MAX_SEARCH => Err(bad_input(
                        "search",
                        "max_length",
                        format!("at most {MAX_SEARCH} characters"),
                    )),
                    _ => Ok(s),
                }
            })
            .transpose()?;
        let filter = ProductFilter { brand, search };
        let page = store(ctx)
            .products(tenant(ctx), &filter, after_text(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |p| text_cursor(&p.name, p.id), Product))
    }

    /// The price list: every plan on sale, by subsidiary and tier. The same for every caller.
    #[graphql(requires_scopes = "sales:read")]
    async fn subscription_plans(&self, ctx: &Context<'_>) -> Result<Vec<SubscriptionPlan>> {
        let plans = store(ctx).subscription_plans().await.map_err(|e| internal(ctx, e))?;
        Ok(plans.into_iter().map(SubscriptionPlan).collect())
    }
}
