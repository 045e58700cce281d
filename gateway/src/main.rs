//! `promptsales-gateway`: the GraphQL gateway in front of the four subgraphs (port 4000).

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use promptsales_gateway::{
    Gateway,
    config::{Args, FileConfig},
    server,
};
use promptsales_platform::{claims::ClaimsKey, service, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("info");
    let args = Args::parse();
    let config = FileConfig::load(args.config.as_ref())?;
    let sdl = std::fs::read_to_string(&args.supergraph)
        .with_context(|| format!("reading the supergraph {}", args.supergraph.display()))?;
    let gateway = Gateway::new(&sdl, config.gateway)?;
    for (name, url) in gateway.subgraphs() {
        tracing::info!(subgraph = name, url, "subgraph");
    }
    let key = ClaimsKey::from_env()?;
    let app = server::router(Arc::new(gateway), key, config.http);
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", args.port)).await?;
    service::serve(listener, app).await?;
    Ok(())
}
