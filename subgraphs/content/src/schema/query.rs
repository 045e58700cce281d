//! Read access to PromptContent: the image library, the hashtag vocabulary, content requests,
//! campaign logs and integrations; entity resolvers; and the ETL's `…UpdatedSince` feeds.

use async_graphql::{Context, ID, Object, Result, connection::Connection};
use chrono::{DateTime, Utc};
use promptsales_platform::gql::{ErrorCode, bad_input, error, internal, page_size};

use super::ImageSearch;
use super::{
    Campaign, CampaignLog, ConnectionFields, ContentRequest, ContentRequestStatus, DEFAULT_PAGE, Hashtag, Image,
    Integration, MAX_PAGE, after_count, after_name, after_time, connection, count_cursor, loader, loaders, name_cursor,
    parse_id, store, tenant, time_cursor,
};
use crate::{
    search::{SearchError, SearchService},
    store::RequestFilter,
};

/// Largest page of an ETL feed.
const MAX_FEED_PAGE: usize = 1_000;

type Page<N> = Result<Connection<String, N, ConnectionFields>>;

pub struct Query;

/// Read access to the content store. A token bound to an organization sees only that
/// organization's documents (and, for images, the shared stock library).
#[Object]
impl Query {
    /// Images of the library, newest first: the caller's own and the shared stock library.
    #[graphql(requires_scopes = "content:read")]
    async fn images(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only images carrying this hashtag (lowercase, without `#`).")] hashtag: Option<String>,
    ) -> Page<Image> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let hashtag = hashtag.map(|h| h.trim_start_matches('#').to_owned());
        let page = store(ctx)
            .images(tenant(ctx), hashtag.as_deref(), after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |i| time_cursor(i.created_at, i.id), Image))
    }

    /// One image, or null when it does not exist, was deleted or is not visible to the caller.
    #[graphql(requires_scopes = "content:read")]
    async fn image(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Image>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::ImageId(id)).await?.map(Image))
    }

    /// Images whose description and hashtags match a text by meaning, best first: the text is
    /// embedded with the sentence-embedding model all-MiniLM-L6-v2 (English), an approximate
    /// nearest-neighbour index proposes the closest images the caller may see, and images carrying
    /// the given hashtags, or hashtags the text spells, get a boost.
    #[graphql(requires_scopes = "content:read")]
    async fn search_images(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "What the images should show, in words (at most 1000 characters), e.g. \"a coffee cup with steam for a winter campaign\"."
        )]
        text: String,
        #[graphql(desc = "How many images (1 to 50).", default = 10)] first: i32,
        #[graphql(
            desc = "Hashtags to favour (lowercase, `#` optional, at most 10), e.g. `[\"coffee\"]`.",
            default
        )]
        hashtags: Vec<String>,
    ) -> Result<ImageSearch> {
        let first = usize::try_from(first).unwrap_or(0);
        let search = ctx.data_unchecked::<std::sync::Arc<SearchService>>();
        match search.search(tenant(ctx), &text, first, &hashtags).await {
            Ok(outcome) => Ok(ImageSearch(outcome)),
            Err(SearchError::Input { field, message }) => Err(bad_input(field, "search", message)),
            Err(e @ SearchError::Model(promptsales_embed::Error::MissingModel { .. })) => {
                tracing::error!(error = %e, "searchImages cannot run");
                Err(error(
                    ErrorCode::Internal,
                    "image search is unavailable: the embedding model is not installed on the server",
                ))
            }
            Err(e) => Err(internal(ctx, e)),
        }
    }

    /// The hashtag vocabulary, most used first (shared by every organization).
    #[graphql(requires_scopes = "content:read")]
    async fn hashtags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only hashtags of this category (e.g. `season`).")] category: Option<String>,
    ) -> Page<Hashtag> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let page = store(ctx)
            .hashtags(category.as_deref(), after_count(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |h| count_cursor(h.usage_count, h.id), Hashtag))
    }

    /// Content requests, newest first.
    #[graphql(requires_scopes = "content:read")]
    async fn content_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only the requests of this campaign.")] campaign_id: Option<ID>,
        #[graphql(desc = "Only requests in this status.")] status: Option<ContentRequestStatus>,
    ) -> Page<ContentRequest> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let filter = RequestFilter {
            campaign_id: campaign_id.map(|c| parse_id("campaignId", &c)).transpose()?,
            status: status.map(|s| s.as_str().to_owned()),
        };
        let page = store(ctx)
            .content_requests(tenant(ctx), &filter, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |r| time_cursor(r.created_at, r.id), ContentRequest))
    }

    /// One content request, or null when it does not exist or is not visible to the caller.
    #[graphql(requires_scopes = "content:read")]
    async fn content_request(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ContentRequest>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::RequestId(id)).await?.map(ContentRequest))
    }

    /// Campaign logs (messages sent per population and channel), newest first.
    #[graphql(requires_scopes = "content:read")]
    async fn campaign_logs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only the logs of this campaign.")] campaign_id: Option<ID>,
    ) -> Page<CampaignLog> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let campaign_id = campaign_id.map(|c| parse_id("campaignId", &c)).transpose()?;
        let page = store(ctx)
            .campaign_logs(tenant(ctx), campaign_id, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |l| time_cursor(l.created_at, l.id), CampaignLog))
    }

    /// The organization's integrations with outside services, by name (credentials never shown).
    #[graphql(requires_scopes = "content:read")]
    async fn integrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Page<Integration> {
        let first = page_size(first, DEFAULT_PAGE, MAX_PAGE)?;
        let page = store(ctx)
            .integrations(tenant(ctx), after_name(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |n| name_cursor(&n.name, n.id), Integration))
    }

    /// Images changed (or deleted) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn images_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000, default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Page<Image> {
        let first = page_size(first, MAX_PAGE, MAX_FEED_PAGE)?;
        let page = store(ctx)
            .images_updated_since(tenant(ctx), since, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |i| time_cursor(i.updated_at, i.id), Image))
    }

    /// Content requests changed (or deleted) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn content_requests_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000, default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Page<ContentRequest> {
        let first = page_size(first, MAX_PAGE, MAX_FEED_PAGE)?;
        let page = store(ctx)
            .content_requests_updated_since(tenant(ctx), since, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |r| time_cursor(r.updated_at, r.id), ContentRequest))
    }

    /// Campaign logs changed (or deleted) after `since`, oldest change first: for the ETL.
    #[graphql(requires_scopes = "etl:run")]
    async fn campaign_logs_updated_since(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Changes strictly after this time.")] since: DateTime<Utc>,
        #[graphql(desc = "Page size (at most 1000, default 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page.")] after: Option<String>,
    ) -> Page<CampaignLog> {
        let first = page_size(first, MAX_PAGE, MAX_FEED_PAGE)?;
        let page = store(ctx)
            .campaign_logs_updated_since(tenant(ctx), since, after_time(after)?, first)
            .await
            .map_err(|e| internal(ctx, e))?;
        Ok(connection(page, |l| time_cursor(l.updated_at, l.id), CampaignLog))
    }

    /// Federation: resolves an Image reference (e.g. an ad's content image).
    #[graphql(entity)]
    async fn find_image_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Image>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::ImageId(id)).await?.map(Image))
    }

    /// Federation: resolves a Hashtag reference.
    #[graphql(entity)]
    async fn find_hashtag_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Hashtag>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::HashtagId(id)).await?.map(Hashtag))
    }

    /// Federation: resolves a ContentRequest reference.
    #[graphql(entity)]
    async fn find_content_request_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ContentRequest>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::RequestId(id)).await?.map(ContentRequest))
    }

    /// Federation: resolves a CampaignLog reference.
    #[graphql(entity)]
    async fn find_campaign_log_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CampaignLog>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::LogId(id)).await?.map(CampaignLog))
    }

    /// Federation: resolves an Integration reference.
    #[graphql(entity)]
    async fn find_integration_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Integration>> {
        let id = parse_id("id", &id)?;
        Ok(loader(ctx).load_one(loaders::IntegrationId(id)).await?.map(Integration))
    }

    /// Federation: the content side of a Campaign (owned by the ads subgraph).
    #[graphql(entity)]
    async fn find_campaign_by_id(&self, id: ID) -> Result<Campaign> {
        let id = parse_id("id", &id)?;
        Ok(Campaign { id })
    }
}
