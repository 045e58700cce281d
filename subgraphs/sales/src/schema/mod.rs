//! The GraphQL schema of the sales subgraph (Federation v2).
//!
//! `Query` merges one object per area (catalogue, campaigns, ETL feeds, federation entities);
//! `Mutation` holds the planning writes. Relations resolve through the request's DataLoaders.

mod campaigns;
mod catalog;
mod entities;
mod feeds;
mod loaders;
mod mutation;
mod pii;
mod privacy;
mod types;

use std::{sync::Arc, time::Duration};

use async_graphql::{
    Context, EmptySubscription, ID, MergedObject, OutputType, Result, Schema,
    connection::{Connection, Edge},
    dataloader::{DataLoader, HashMapCache},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
pub use loaders::Loaders;
pub use mutation::Mutation;
use promptsales_platform::{
    claims::Claims,
    crypto::Keyring,
    gql::{self, bad_input, decode_cursor, encode_cursor},
};
pub use types::*;
use uuid::Uuid;

use crate::store::{Actor, After, Page, SalesStore};

pub type SalesSchema = Schema<Query, Mutation, EmptySubscription>;

/// Most items one page may hold.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 20;
/// Most items one page of an ETL feed may hold (the ETL reads in bulk).
const MAX_FEED_PAGE: usize = 1_000;

/// Read access to the central store: tenants and their catalogue, price list and subscriptions,
/// portal users, campaign planning and the campaign read models.
#[derive(MergedObject, Default)]
pub struct Query(
    catalog::CatalogQuery,
    campaigns::CampaignQuery,
    feeds::FeedQuery,
    entities::EntityQuery,
    privacy::PrivacyEntities,
);

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

/// Builds the schema over a store and the keyring that opens its personal data, with depth and
/// complexity limits.
pub fn build_schema(store: Arc<dyn SalesStore>, keyring: Arc<Keyring>) -> SalesSchema {
    builder()
        .extension(pii::AuditPiiResponses)
        .data(store)
        .data(keyring)
        .finish()
}

/// Request-scoped data: DataLoaders bound to the caller's organization, with a per-request cache
/// (a row reached along two paths is fetched once), and the record of personal data read in plain
/// text. `loader_delay` is how long a loader gathers keys before its one store call.
pub fn per_request(store: Arc<dyn SalesStore>, loader_delay: Duration) -> gql::PerRequest {
    Arc::new(move |claims: &Claims, request| {
        let loaders = Loaders {
            store: store.clone(),
            tenant: claims.org,
        };
        request
            .data(DataLoader::with_cache(loaders, tokio::spawn, HashMapCache::default()).delay(loader_delay))
            .data(pii::PiiReads::default())
    })
}

/// The caller, for the audit trail; the request id is the gateway's (`x-request-id`, or an older
/// gateway's claims).
pub(crate) fn actor_of(claims: &Claims, request_id: Option<&gql::RequestId>) -> Actor {
    Actor {
        subject: claims.sub.clone(),
        organization: claims.org,
        scopes: claims.scopes.clone(),
        request_id: claims
            .rid
            .clone()
            .or_else(|| request_id.map(|r| r.0.clone()).filter(|r| r != "-")),
    }
}

pub(crate) fn store<'a>(ctx: &'a Context<'_>) -> &'a Arc<dyn SalesStore> {
    ctx.data_unchecked::<Arc<dyn SalesStore>>()
}

pub(crate) fn tenant(ctx: &Context<'_>) -> Option<Uuid> {
    ctx.data_opt::<Claims>().and_then(|c| c.org)
}

/// Whether the caller holds `scope`.
pub(crate) fn has_scope(ctx: &Context<'_>, scope: &str) -> bool {
    ctx.data_opt::<Claims>().is_some_and(|c| c.has_scope(scope))
}

pub(crate) fn actor(ctx: &Context<'_>) -> Actor {
    ctx.data_opt::<Claims>()
        .map(|c| actor_of(c, ctx.data_opt::<gql::RequestId>()))
        .unwrap_or_default()
}

pub(crate) fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<Loaders, HashMapCache> {
    ctx.data_unchecked::<DataLoader<Loaders, HashMapCache>>()
}

pub(crate) fn parse_id(field: &str, id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| bad_input(field, "uuid", "must be a UUID"))
}

fn bad_cursor() -> async_graphql::Error {
    bad_input("after", "cursor", "not a cursor this API returned")
}

/// Cursor of a list ordered by a text key (a name) and the id. The text is base64-encoded inside
/// the cursor, so a name holding the cursor's separator cannot break it.
fn text_cursor(key: &str, id: Uuid) -> String {
    encode_cursor(&[&URL_SAFE_NO_PAD.encode(key), &id.to_string()])
}

fn after_text(after: Option<String>) -> Result<Option<After>> {
    after
        .map(|c| {
            let parts = decode_cursor(&c, 2)?;
            let key = URL_SAFE_NO_PAD
                .decode(&parts[0])
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(bad_cursor)?;
            let id = Uuid::parse_str(&parts[1]).map_err(|_| bad_cursor())?;
            Ok(After { key, id })
        })
        .transpose()
}

/// Cursor of a list ordered by a time and the id.
fn time_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    encode_cursor(&[&at.to_rfc3339(), &id.to_string()])
}

fn after_time(after: Option<String>) -> Result<Option<After<DateTime<Utc>>>> {
    after
        .map(|c| {
            let parts = decode_cursor(&c, 2)?;
            let key = DateTime::parse_from_rfc3339(&parts[0])
                .map_err(|_| bad_cursor())?
                .with_timezone(&Utc);
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

pub type Conn<N> = Connection<String, N, ConnectionFields>;

/// A connection from a store page: `cursor` gives each row's cursor, `node` its GraphQL object.
fn connection<T, N: OutputType>(page: Page<T>, cursor: impl Fn(&T) -> String, node: impl Fn(T) -> N) -> Conn<N> {
    let mut connection = Connection::with_additional_fields(
        false,
        page.has_more,
        ConnectionFields {
            total_count: page.total,
        },
    );
    connection
        .edges
        .extend(page.items.into_iter().map(|row| Edge::new(cursor(&row), node(row))));
    connection
}
