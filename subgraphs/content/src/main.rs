//! `promptsales-content`: the PromptContent subgraph (port 4001).

use clap::Parser;
use promptsales_content::{Config, app, connect};
use promptsales_platform::{service, telemetry, tls::ServerTls};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("content", "info,sqlx=warn,mongodb=warn")?;
    let config = Config::parse();
    // Before connecting: a bad certificate or key stops the start with a clear error.
    let tls = ServerTls::from_env()?;
    let state = connect(&config).await?;
    // Load the model and bring the image index up to date in the background: the first search
    // then finds them ready, and a missing model is reported now, not at the first search.
    let search = state.search.clone();
    tokio::spawn(async move {
        match search.warm_up().await {
            Ok(()) => tracing::info!("image search ready"),
            Err(e) => tracing::error!(error = %e, "image search unavailable"),
        }
    });
    let listener = tokio::net::TcpListener::bind((service::listen_address()?, config.port)).await?;
    service::serve(listener, app(state, &config), tls).await?;
    Ok(())
}
