//! The PromptContent subgraph: the image library (metadata, hashtags, usage rights, and the bytes
//! served at `/images/{id}`), the hashtag vocabulary, content requests, campaign logs and
//! integrations, over MongoDB (prescribed) or its PostgreSQL jsonb twin. A library (schema,
//! store, router) plus a thin binary, so tests drive it in-process.

mod config;
pub mod images;
pub mod schema;
pub mod search;
pub mod store;

use std::{sync::Arc, time::Duration};

use anyhow::bail;
use axum::Router;
pub use config::Config;
use promptsales_platform::{
    Backend, Store,
    claims::ClaimsKey,
    gql::{SubgraphHttp, subgraph_router},
    service,
};
pub use schema::{ContentSchema, ImageLinks, build_schema};
use search::{SearchOptions, SearchService};
use store::{ContentStore, MongoStore, PgStore};

/// What the subgraph needs to serve.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn ContentStore>,
    pub claims_key: ClaimsKey,
    /// `searchImages`: the embedding model and the image index, loaded on first use.
    pub search: Arc<SearchService>,
}

impl AppState {
    /// A state over `store` whose search uses the model and index folders of `config` (no
    /// embedding cache: [`connect`] adds Redis).
    pub fn new(store: Arc<dyn ContentStore>, claims_key: ClaimsKey, config: &Config) -> AppState {
        let options = search_options(config, None);
        AppState {
            search: Arc::new(SearchService::new(store.clone(), options)),
            store,
            claims_key,
        }
    }
}

fn search_options(config: &Config, redis: Option<promptsales_platform::redis::Redis>) -> SearchOptions {
    let defaults = SearchOptions::default();
    SearchOptions {
        model_dir: config.model_dir.clone().unwrap_or(defaults.model_dir),
        index_dir: config.index_dir.clone(),
        redis,
        ..defaults
    }
}

/// Connects to the store the configuration names, with the adapter its URL scheme picks.
pub async fn connect(config: &Config) -> anyhow::Result<AppState> {
    let url = config.store_url();
    url.check_for(Store::Content)?;
    let store: Arc<dyn ContentStore> = match url.backend() {
        Backend::Postgres => Arc::new(PgStore::connect(&url).await?),
        Backend::Mongo => Arc::new(MongoStore::connect(&url).await?),
        Backend::Mssql => bail!("the content store has no SQL Server adapter"),
    };
    let claims_key = ClaimsKey::from_env()?;
    let redis = if config.embedding_cache {
        Some(promptsales_platform::redis::Redis::new(
            &promptsales_platform::redis::RedisOptions::default(),
        )?)
    } else {
        None
    };
    let search = Arc::new(SearchService::new(store.clone(), search_options(config, redis)));
    Ok(AppState {
        store,
        claims_key,
        search,
    })
}

/// The HTTP front: `/graphql`, `/graphiql` (dev), `/images/{id}`, `/healthz`, `/readyz`, `/metrics`.
pub fn app(state: AppState, config: &Config) -> Router {
    let store = state.store.clone();
    let ready = Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.ping().await.map_err(|e| e.to_string()) }) as _
    });
    let links = ImageLinks::new(config.public_url.as_deref());
    let graphql = subgraph_router(
        build_schema(state.store.clone(), links, state.search.clone()),
        SubgraphHttp {
            name: "content",
            claims_key: state.claims_key.clone(),
            dev_graphiql: config.dev_graphiql,
            ready,
            per_request: schema::per_request(state.store.clone()),
        },
    );
    // Image bytes take longer than a GraphQL answer on a slow link; GETs carry no body worth a limit.
    let images = service::with_standard_layers(
        images::router(state.store, state.claims_key),
        "content",
        Duration::from_secs(60),
        1024,
    );
    graphql.merge(images)
}
