use promptsales_platform::{Store, StoreUrl};

/// Settings of the sales subgraph (flags or environment).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "promptsales-sales", about = "PromptSales central subgraph")]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 4004)]
    pub port: u16,
    /// The PromptSales store (PostgreSQL).
    #[arg(long = "sales-url", env = "PROMPTSALES_SALES_URL", value_name = "URL")]
    pub sales_url: Option<StoreUrl>,
    /// Serve a GraphiQL page at /graphiql that signs its own claims (local debugging only).
    #[arg(long, env = "PROMPTSALES_DEV_GRAPHIQL", default_value_t = false)]
    pub dev_graphiql: bool,
    /// How long (milliseconds) a DataLoader gathers keys before its one store call. Longer gathers
    /// more keys per call when resolving is slow, at that much latency per level of the query.
    #[arg(long, env = "PROMPTSALES_LOADER_DELAY_MS", default_value_t = 1)]
    pub loader_delay_ms: u64,
}

impl Config {
    pub fn loader_delay(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.loader_delay_ms)
    }

    pub fn store_url(&self) -> StoreUrl {
        self.sales_url
            .clone()
            .unwrap_or_else(|| StoreUrl::local_default(Store::Sales))
    }
}
