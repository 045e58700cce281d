//! The PromptSales central subgraph: tenants (organizations), their brands and products, plans and
//! subscriptions, portal users, campaign plans with approvals and schedules, and the campaign
//! summaries the ETL fills. A library (schema, store, router) plus a thin binary, so tests drive
//! it in-process.

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
pub use schema::{SalesSchema, build_schema};
use store::{PgStore, SalesStore};

/// What the subgraph needs to serve.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn SalesStore>,
    pub claims_key: ClaimsKey,
    /// Opens the personal data of portal users and contacts.
    pub keyring: Arc<Keyring>,
}

/// Connects to the store the configuration names; the claims key and the keyring come from the
/// environment (`PROMPTSALES_CLAIMS_KEY`, `PROMPTSALES_KEKS`, `PROMPTSALES_BLIND_INDEX_KEY`).
pub async fn connect(config: &Config) -> anyhow::Result<AppState> {
    let url = config.store_url();
    url.check_for(promptsales_platform::Store::Sales)?;
    let store = PgStore::connect(&url).await?;
    let claims_key = ClaimsKey::from_env()?;
    let keyring = Keyring::from_env()?;
    Ok(AppState {
        store: Arc::new(store),
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
            name: "sales",
            claims_key: state.claims_key,
            dev_graphiql: config.dev_graphiql,
            ready,
            per_request: schema::per_request(state.store.clone(), config.loader_delay()),
        },
    )
}
