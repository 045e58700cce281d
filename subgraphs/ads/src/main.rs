//! `promptsales-ads`: the PromptAds subgraph (port 4002).

use clap::Parser;
use promptsales_ads::{Config, app, connect};
use promptsales_platform::{service, telemetry, tls::ServerTls};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("ads", "info,sqlx=warn,tiberius=warn")?;
    let config = Config::parse();
    // Before connecting: a bad certificate or key stops the start with a clear error.
    let tls = ServerTls::from_env()?;
    let state = connect(&config).await?;
    let listener = tokio::net::TcpListener::bind((service::listen_address()?, config.port)).await?;
    service::serve(listener, app(state, &config), tls).await?;
    Ok(())
}
