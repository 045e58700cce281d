use promptsales_platform::{Store, StoreUrl};

/// Settings of the ads subgraph (flags or environment).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "promptsales-ads", about = "PromptAds subgraph")]
pub struct Config {
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 4002)]
    pub port: u16,
    /// The PromptAds store: postgres:// (local twin) or mssql:// (SQL Server, prescribed).
    #[arg(long = "ads-url", env = "PROMPTSALES_ADS_URL", value_name = "URL")]
    pub ads_url: Option<StoreUrl>,
    /// Serve a GraphiQL page at /graphiql that signs its own claims (local debugging only).
    #[arg(long, env = "PROMPTSALES_DEV_GRAPHIQL", default_value_t = false)]
    pub dev_graphiql: bool,
}

impl Config {
    pub fn store_url(&self) -> StoreUrl {
        self.ads_url
            .clone()
            .unwrap_or_else(|| StoreUrl::local_default(Store::Ads))
    }
}
