use promptsales_platform::{Store, StoreUrl};

/// Settings of the crm subgraph (flags or environment). The keys that open the customers' PII come
/// from `PROMPTSALES_KEKS` and `PROMPTSALES_BLIND_INDEX_KEY` (platform::crypto::Keyring::from_env).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "promptsales-crm", about = "PromptCrm subgraph")]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 4003)]
    pub port: u16,
    /// The PromptCrm store: postgres:// (local twin) or mssql:// / sqlserver:// (SQL Server).
    #[arg(long = "crm-url", env = "PROMPTSALES_CRM_URL", value_name = "URL")]
    pub crm_url: Option<StoreUrl>,
    /// Serve a GraphiQL page at /graphiql that signs its own claims (local debugging only).
    #[arg(long, env = "PROMPTSALES_DEV_GRAPHIQL", default_value_t = false)]
    pub dev_graphiql: bool,
}

impl Config {
    pub fn store_url(&self) -> StoreUrl {
        self.crm_url
            .clone()
            .unwrap_or_else(|| StoreUrl::local_default(Store::Crm))
    }
}
