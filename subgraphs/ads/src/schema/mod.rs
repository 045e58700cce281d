//! The GraphQL schema of the ads subgraph (Federation v2).

mod etl;
mod loaders;
mod mutation;
mod query;
mod reports;
mod scalars;
mod types;

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_graphql::{
    Context, EmptySubscription, ID, MergedObject, OutputType, Result, Schema,
    connection::{Connection, Edge},
    dataloader::DataLoader,
};
use chrono::{DateTime, Utc};
pub use loaders::Loaders;
pub use mutation::Mutation;
use promptsales_platform::{
    claims::Claims,
    gql::{self, bad_input, decode_cursor},
};
pub use reports::*;
pub use scalars::*;
pub use types::*;
use uuid::Uuid;

use crate::store::{AdsStore, Page};

/// The ads subgraph's schema.
pub type AdsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Every query field: the portal's reads, the ETL's feeds and the federation entry points.
#[derive(MergedObject, Default)]
pub struct Query(query::CatalogQuery, etl::EtlQuery);

/// Most items one page may hold.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 20;
/// Pages of the ETL feeds may be larger.
const MAX_ETL_PAGE: usize = 1_000;

/// The schema's types, federation and limits: everything but the request data, so the SDL can
/// be exported without a store.
fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation, EmptySubscription)
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

/// Builds the schema over a store, with depth and complexity limits.
pub fn build_schema(store: Arc<dyn AdsStore>) -> AdsSchema {
    builder().data(store).finish()
}

/// How long a DataLoader batch waits for more keys once the request has gone quiet.
const LOADER_DELAY: Duration = Duration::from_millis(1);
/// Scheduler rounds without a new load that count as quiet.
const QUIET_ROUNDS: usize = 2;
/// Upper bound on the rounds a batch waits for quiet (a request that never settles still loads).
const MAX_ROUNDS: usize = 10_000;

/// Counts the loads a request has asked for, so that a batch can wait until the request stops
/// asking (see [`settle`]).
#[derive(Clone, Default)]
pub(crate) struct LoaderActivity(Arc<AtomicUsize>);

/// Waits until the request has gone a few scheduler rounds without asking any loader for a key.
///
/// A batch that relied on wall time alone (DataLoader's delay) splits a 50-item page in several
/// when resolving the page takes longer than the delay, as it does in an unoptimised build or on
/// a loaded machine: async-graphql resolves a long list over several polls of the request task
/// (FuturesUnordered yields every 32 items). Waiting for quiet makes one batch per relation and
/// page whatever the speed; the delay after it covers the multi-threaded runtime, where the
/// request may be between two polls on another worker.
async fn settle(activity: &AtomicUsize) {
    let mut seen = activity.load(Ordering::Acquire);
    let mut quiet = 0;
    for _ in 0..MAX_ROUNDS {
        tokio::task::yield_now().await;
        let now = activity.load(Ordering::Acquire);
        if now == seen {
            quiet += 1;
            if quiet >= QUIET_ROUNDS {
                return;
            }
        } else {
            quiet = 0;
            seen = now;
        }
    }
}

/// Request-scoped data: DataLoaders bound to the caller's organization.
pub fn per_request(store: Arc<dyn AdsStore>) -> gql::PerRequest {
    Arc::new(move |claims: &Claims, request| {
        let activity = LoaderActivity::default();
        let watched = activity.0.clone();
        let loaders = DataLoader::new(
            Loaders {
                store: store.clone(),
                tenant: claims.org,
            },
            move |batch| {
                let watched = watched.clone();
                tokio::spawn(async move {
                    settle(&watched).await;
                    batch.await;
                })
            },
        )
        .delay(LOADER_DELAY);
        request.data(loaders).data(activity)
    })
}

pub(crate) fn store<'a>(ctx: &'a Context<'_>) -> &'a Arc<dyn AdsStore> {
    ctx.data_unchecked::<Arc<dyn AdsStore>>()
}

pub(crate) fn tenant(ctx: &Context<'_>) -> Option<Uuid> {
    ctx.data_opt::<Claims>().and_then(|c| c.org)
}

/// The request's loaders; every use counts as activity (see [`settle`]).
pub(crate) fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<Loaders> {
    if let Some(activity) = ctx.data_opt::<LoaderActivity>() {
        activity.0.fetch_add(1, Ordering::Release);
    }
    ctx.data_unchecked::<DataLoader<Loaders>>()
}

/// A UUID argument; anything else is refused naming the argument.
pub(crate) fn parse_id(field: &str, id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| bad_input(field, "uuid", "must be a UUID"))
}

fn bad_cursor() -> async_graphql::Error {
    bad_input("after", "cursor", "not a cursor this API returned")
}

/// The parts of an `after` cursor, when one was given.
pub(crate) fn cursor(after: Option<String>, parts: usize) -> Result<Option<Vec<String>>> {
    after.map(|c| decode_cursor(&c, parts)).transpose()
}

/// One part of a cursor, parsed.
pub(crate) fn part<T: FromStr>(parts: &[String], i: usize) -> Result<T> {
    parts.get(i).and_then(|p| p.parse().ok()).ok_or_else(bad_cursor)
}

pub(crate) fn part_time(parts: &[String], i: usize) -> Result<DateTime<Utc>> {
    parts
        .get(i)
        .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(bad_cursor)
}

/// Extra fields of a connection.
#[derive(async_graphql::SimpleObject)]
pub struct ConnectionFields {
    /// How many items the whole list holds (all pages).
    pub total_count: i64,
}

/// A connection from a store page: each item's cursor, and its GraphQL node.
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

/// Page size of the portal's lists.
pub(crate) fn page_size(first: Option<i32>) -> Result<usize> {
    gql::page_size(first, DEFAULT_PAGE, MAX_PAGE)
}

/// Page size of the ETL feeds.
pub(crate) fn etl_page_size(first: Option<i32>) -> Result<usize> {
    gql::page_size(first, MAX_PAGE, MAX_ETL_PAGE)
}
