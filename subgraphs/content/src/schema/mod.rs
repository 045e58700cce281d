//! The GraphQL schema of the content subgraph (Federation v2).

mod loaders;
mod mutation;
mod query;
mod types;

use std::{sync::Arc, time::Duration};

use async_graphql::{
    Context, EmptySubscription, OutputType, Result, Schema,
    connection::{Connection, Edge},
    dataloader::DataLoader,
};
use chrono::{DateTime, SecondsFormat, Utc};
pub use loaders::Loaders;
pub use mutation::{Mutation, NewCampaignLogInput, NewContentRequestInput, NewLogMessageInput, TargetAudienceInput};
use promptsales_platform::{
    claims::Claims,
    gql::{self, bad_input, decode_cursor, encode_cursor},
};
pub use query::Query;
pub use types::*;
use uuid::Uuid;

use crate::{
    search::SearchService,
    store::{After, ContentStore, Page},
};

pub type ContentSchema = Schema<Query, Mutation, EmptySubscription>;

/// Most items one page may hold.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 20;

/// Where clients fetch image bytes: `{base}/images/{id}`.
#[derive(Debug, Clone, Default)]
pub struct ImageLinks {
    /// Base URL without a trailing slash; empty for relative links.
    pub base: String,
}

impl ImageLinks {
    pub fn new(base: Option<&str>) -> ImageLinks {
        ImageLinks {
            base: base.unwrap_or_default().trim_end_matches('/').to_owned(),
        }
    }

    pub fn url(&self, id: Uuid) -> String {
        format!("{}/images/{id}", self.base)
    }
}

/// The schema's types, federation and limits: everything but the request data, so the SDL can
/// be exported without a store.
fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .limit_depth(12)
        .limit_complexity(5_000)
}

/// The Federation v2 SDL this subgraph serves at `_service { sdl }` (what the composer reads).
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}

/// Builds the schema over a store and the image search, with depth and complexity limits.
pub fn build_schema(store: Arc<dyn ContentStore>, links: ImageLinks, search: Arc<SearchService>) -> ContentSchema {
    builder().data(store).data(links).data(search).finish()
}

/// How long a DataLoader gathers keys before it calls the store. The resolvers of a 100-item page
/// register their keys over several polls (the executor yields between chunks of a long list);
/// the default 1 ms splits such a page into several store calls on a busy machine, a few ms more
/// keeps it to one at the cost of that latency once per nesting level.
const BATCH_WINDOW: Duration = Duration::from_millis(4);

/// Request-scoped data: DataLoaders bound to the caller's organization.
pub fn per_request(store: Arc<dyn ContentStore>) -> gql::PerRequest {
    Arc::new(move |claims: &Claims, request| {
        let loaders = Loaders {
            store: store.clone(),
            tenant: claims.org,
        };
        request.data(DataLoader::new(loaders, tokio::spawn).delay(BATCH_WINDOW))
    })
}

pub(crate) fn store<'a>(ctx: &'a Context<'_>) -> &'a Arc<dyn ContentStore> {
    ctx.data_unchecked::<Arc<dyn ContentStore>>()
}

pub(crate) fn tenant(ctx: &Context<'_>) -> Option<Uuid> {
    ctx.data_opt::<Claims>().and_then(|c| c.org)
}

pub(crate) fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<Loaders> {
    ctx.data_unchecked::<DataLoader<Loaders>>()
}

pub(crate) fn parse_id(field: &str, id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| bad_input(field, "uuid", "must be a UUID"))
}

fn bad_cursor() -> async_graphql::Error {
    bad_input("after", "cursor", "not a cursor this API returned")
}

/// A cursor part for a time, exact to the store's precision (microseconds or milliseconds).
fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Cursor of a list ordered by a time and id.
pub(crate) fn time_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    encode_cursor(&[&time_text(at), &id.to_string()])
}

pub(crate) fn after_time(after: Option<String>) -> Result<Option<After<DateTime<Utc>>>> {
    after
        .map(|c| {
            let parts = decode_cursor(&c, 2)?;
            let at = DateTime::parse_from_rfc3339(&parts[0]).map_err(|_| bad_cursor())?;
            let id = Uuid::parse_str(&parts[1]).map_err(|_| bad_cursor())?;
            Ok(After {
                key: at.with_timezone(&Utc),
                id,
            })
        })
        .transpose()
}

/// Cursor of the hashtag list (usage count, id).
pub(crate) fn count_cursor(count: i64, id: Uuid) -> String {
    encode_cursor(&[&count.to_string(), &id.to_string()])
}

pub(crate) fn after_count(after: Option<String>) -> Result<Option<After<i64>>> {
    after
        .map(|c| {
            let parts = decode_cursor(&c, 2)?;
            let key = parts[0].parse().map_err(|_| bad_cursor())?;
            let id = Uuid::parse_str(&parts[1]).map_err(|_| bad_cursor())?;
            Ok(After { key, id })
        })
        .transpose()
}

/// Cursor of a list ordered by name; the name is hex-encoded, as it may hold the separator.
pub(crate) fn name_cursor(name: &str, id: Uuid) -> String {
    encode_cursor(&[&crate::store::document::hex(name.as_bytes()), &id.to_string()])
}

pub(crate) fn after_name(after: Option<String>) -> Result<Option<After<String>>> {
    after
        .map(|c| {
            let parts = decode_cursor(&c, 2)?;
            let hex = &parts[0];
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(bad_cursor)?;
            let key = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
            let id = Uuid::parse_str(&parts[1]).map_err(|_| bad_cursor())?;
            Ok(After { key, id })
        })
        .transpose()
}

/// Extra fields of a connection.
#[derive(async_graphql::SimpleObject)]
pub struct ConnectionFields {
    /// How many items the whole list holds (all pages).
    pub total_count: i64,
}

/// A connection from a store page: `cursor` says where each item is, `node` wraps it.
pub(crate) fn connection<T, N: OutputType>(
    page: Page<T>,
    cursor: impl Fn(&T) -> String,
    node: impl Fn(T) -> N,
) -> Connection<String, N, ConnectionFields> {
    let mut connection = Connection::with_additional_fields(
        false,
        page.has_more,
        ConnectionFields {
            total_count: page.total,
        },
    );
    connection
        .edges
        .extend(page.items.into_iter().map(|item| Edge::new(cursor(&item), node(item))));
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_link_images_under_the_public_base_or_relatively() {
        let id = Uuid::nil();
        assert_eq!(ImageLinks::new(None).url(id), format!("/images/{id}"));
        assert_eq!(
            ImageLinks::new(Some("https://api.example.com/content/")).url(id),
            format!("https://api.example.com/content/images/{id}")
        );
    }

    #[test]
    fn should_round_trip_name_cursors_holding_the_separator() {
        let id = Uuid::new_v4();
        let after = after_name(Some(name_cursor("a|b ñ", id)))
            .expect("valid")
            .expect("some");
        assert_eq!((after.key.as_str(), after.id), ("a|b ñ", id));
        assert!(after_name(Some(encode_cursor(&["zz", &id.to_string()]))).is_err());
    }
}
