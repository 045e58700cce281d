//! `promptsales-ads`: the PromptAds subgraph (port 4002).

use clap::Parser;
use promptsales_ads::{Config, app, connect};
use promptsales_platform::{service, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("info,sqlx=warn,tiberius=warn");
    let config = Config::parse();
    let state = connect(&config).await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", config.port)).await?;
    service::serve(listener, app(state, &config)).await?;
    Ok(())
}
