//! The PromptCrm subgraph: customers (PII encrypted at rest, opened per request and masked unless
//! the caller holds `crm:pii`), leads, interactions and sales, and the crm side of a Campaign. A
//! library (schema, store, router) plus a thin binary, so tests drive it in-process.

mod config;
pub mod schema;
pub mod store;

use std::sync::Arc;

use axum::Router;
pub use config::Config;
use promptsales_platform::{
    claims::ClaimsKey,
    crypto::Keyring,
    gql::{SubgraphHttp, subgraph_router},
};
pub use schema::{CrmSchema, build_schema};
use store::CrmStore;

/// What the subgraph needs to serve.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn CrmStore>,
    pub claims_key: ClaimsKey,
    /// Unwraps the customers' data keys and computes blind indexes for lookups.
    pub keyring: Arc<Keyring>,
}

/// Connects to the store the configuration names (PostgreSQL or SQL Server, by URL scheme) and
/// loads the keys.
pub async fn connect(config: &Config) -> anyhow::Result<AppState> {
    let url = config.store_url();
    url.check_for(promptsales_platform::Store::Crm)?;
    let store = store::connect(&url).await?;
    let claims_key = ClaimsKey::from_env()?;
    let keyring = Keyring::from_env()?;
    tracing::info!(store = %url, kek = keyring.active_kek(), "crm subgraph configured");
    Ok(AppState {
        store,
        claims_key,
        keyring: Arc::new(keyring),
    })
}

/// The HTTP front: `/graphql`, `/graphiql` (dev), `/healthz`, `/readyz`, `/metrics`.
pub fn app(state: AppState, config: &Config) -> Router {
    let store = state.store.clone();
    let ready = Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.ping().await.map_err(|e| e.to_string()) }) as _
    });
    subgraph_router(
        build_schema(state.store.clone(), state.keyring.clone()),
        SubgraphHttp {
            name: "crm",
            claims_key: state.claims_key,
            dev_graphiql: config.dev_graphiql,
            ready,
            per_request: schema::per_request(state.store.clone(), state.keyring.clone()),
        },
    )
}
