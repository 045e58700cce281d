//! The PromptAds subgraph: campaigns (owned here, extended by crm, sales and content), the
//! channels and markets they run on, their ads, placements and influencers, the daily results and
//! audience sentiment, the reports over them, and the feeds the ETL reads. A library (schema,
//! store, router) plus a thin binary, so tests drive it in-process.
//!
//! The store is SQL Server in production and PostgreSQL locally; the scheme of
//! `PROMPTSALES_ADS_URL` picks the adapter.

mod config;
pub mod schema;
pub mod store;

use std::sync::Arc;

use axum::Router;
pub use config::Config;
use promptsales_platform::{
    claims::ClaimsKey,
    gql::{SubgraphHttp, subgraph_router},
};
pub use schema::{AdsSchema, build_schema};
use store::AdsStore;

/// What the subgraph needs to serve.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn AdsStore>,
    pub claims_key: ClaimsKey,
}

/// Connects to the store the configuration names (PostgreSQL or SQL Server, by URL scheme).
pub async fn connect(config: &Config) -> anyhow::Result<AppState> {
    let store = store::connect(&config.store_url()).await?;
    let claims_key = ClaimsKey::from_env()?;
    Ok(AppState { store, claims_key })
}

/// The HTTP front: `/graphql`, `/graphiql` (dev), `/healthz`, `/readyz`, `/metrics`.
pub fn app(state: AppState, config: &Config) -> Router {
    let store = state.store.clone();
    let ready = Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.ping().await.map_err(|e| e.to_string()) }) as _
    });
    subgraph_router(
        build_schema(state.store.clone()),
        SubgraphHttp {
            name: "ads",
            claims_key: state.claims_key,
            dev_graphiql: config.dev_graphiql,
            ready,
            per_request: schema::per_request(state.store.clone()),
        },
    )
}
