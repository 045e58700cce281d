//! The GraphQL schema of the crm subgraph (Federation v2): customers with their PII sealed at rest
//! (opened per request, masked unless the caller holds `crm:pii`), leads, interactions and sales,
//! and the crm side of a Campaign (owned by ads).

mod campaign;
mod cursor;
mod enums;
mod loaders;
pub mod pii;
pub mod privacy;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, ID, MergedObject, Result, Schema,
    connection::{Connection, ConnectionNameType, Edge, EdgeNameType, EmptyFields},
    dataloader::DataLoader,
};
pub use campaign::*;
pub use enums::*;
pub use loaders::Loaders;
use promptsales_platform::{
    claims::Claims,
    crypto::Keyring,
    gql::{self, bad_input},
};
pub use types::*;
use uuid::Uuid;

use crate::store::{CrmStore, Page};

pub type CrmSchema = Schema<Query, Mutation, EmptySubscription>;

/// Read access to PromptCrm: customers (with their PII protected), leads, interactions and sales,
/// and the export of one customer's data.
#[derive(MergedObject, Default)]
pub struct Query(query::CrmQuery, privacy::PrivacyQuery);

/// The writes of PromptCrm: erasure of a customer's personal data.
#[derive(MergedObject, Default)]
pub struct Mutation(privacy::PrivacyMutation);

/// Most items one page may hold.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 20;
/// `…UpdatedSince` pages are bigger: the ETL reads them in bulk.
const ETL_PAGE: usize = 100;
const MAX_ETL_PAGE: usize = 1_000;

/// The schema's types, federation and limits: everything but the request data, so the SDL can
/// be exported without a store.
fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
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

/// Builds the schema over a store and the keyring that opens the customers' PII, with depth and
/// complexity limits and the extension that flags responses holding decrypted PII.
pub fn build_schema(store: Arc<dyn CrmStore>, keyring: Arc<Keyring>) -> CrmSchema {
    builder()
        .extension(pii::MarkPiiResponses)
        .data(store)
        .data(keyring)
        .finish()
}

/// How long a DataLoader batch waits for more keys before it queries.
const LOADER_DELAY: std::time::Duration = std::time::Duration::from_millis(2);
/// Scheduler rounds a batch lets pass before its delay starts. async-graphql resolves the items
/// of a list (and the fields of each item) with futures' FuturesUnordered, which hands control
/// back to the runtime after every couple of items that yield themselves, so the request task
/// needs about one scheduler round per two items of a page to ask for all their keys. A batch
/// that relied on wall time alone would split a 50-item page into several queries whenever the
/// machine is busy; yielding first lets the request task enqueue every key it can (in order, on a
/// single-threaded runtime, whatever the load), and costs microseconds. Pages hold at most 100
/// items; 128 rounds cover them, and `_entities` batches beyond that still meet the delay.
const LOADER_YIELDS: usize = 128;

/// Request-scoped data: DataLoaders bound to the caller's organization, and the flag raised when a
/// PII value leaves in clear.
pub fn per_request(store: Arc<dyn CrmStore>, keyring: Arc<Keyring>) -> gql::PerRequest {
    Arc::new(move |claims: &Claims, request| {
        request
            .data(
                DataLoader::new(
                    Loaders {
                        store: store.clone(),
                        keyring: keyring.clone(),
                        tenant: claims.org,
                    },
                    |batch| {
                        tokio::spawn(async move {
                            for _ in 0..LOADER_YIELDS {
                                tokio::task::yield_now().await;
                            }
                            batch.await;
                        })
                    },
                )
                .delay(LOADER_DELAY),
            )
            .data(pii::PiiFlag::default())
    })
}

pub(crate) fn store<'a>(ctx: &'a Context<'_>) -> &'a Arc<dyn CrmStore> {
    ctx.data_unchecked::<Arc<dyn CrmStore>>()
}

pub(crate) fn keyring<'a>(ctx: &'a Context<'_>) -> &'a Keyring {
    ctx.data_unchecked::<Arc<Keyring>>()
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

/// Extra fields of a connection.
#[derive(async_graphql::SimpleObject)]
pub struct ConnectionFields {
    /// How many items the whole list holds (all pages).
    pub total_count: i64,
}

/// A connection with a total count, named after its node (`CustomerConnection`, …).
pub type Conn<
    T,
    E = EmptyFields,
    C = async_graphql::connection::DefaultConnectionName,
    D = async_graphql::connection::DefaultEdgeName,
> = Connection<String, T, ConnectionFields, E, C, D>;

/// A store page as a connection: `cursor` gives each item's cursor, `node` its GraphQL value.
pub(crate) fn connection<T, N, C, D>(
    page: Page<T>,
    had_cursor: bool,
    cursor: impl Fn(&T) -> String,
    node: impl Fn(T) -> N,
) -> Conn<N, EmptyFields, C, D>
where
    N: async_graphql::OutputType,
    C: ConnectionNameType,
    D: EdgeNameType,
{
    let mut conn = Connection::with_additional_fields(
        had_cursor,
        page.has_more,
        ConnectionFields {
            total_count: page.total,
        },
    );
    conn.edges
        .extend(page.items.into_iter().map(|item| Edge::new(cursor(&item), node(item))));
    conn
}
