//! `promptsales-gateway`: the GraphQL gateway in front of the four subgraphs (port 4000).

use std::{sync::Arc, time::Duration};

use clap::Parser;
use promptsales_gateway::{
    config::{Args, FileConfig},
    server::{self, Reloader},
};
use promptsales_platform::{claims::ClaimsKey, service, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("info");
    let args = Args::parse();
    let config = FileConfig::load(args.config.as_ref())?;
    let reloader = Arc::new(Reloader::load(&args.supergraph, config.gateway).await?);
    for (name, url) in reloader.gateway().current().subgraphs() {
        tracing::info!(subgraph = name, url, "subgraph");
    }
    // A new supergraph is picked up without a restart: on a timer and on SIGHUP.
    if config.supergraph.reload_interval_secs > 0 {
        let every = Duration::from_secs(config.supergraph.reload_interval_secs);
        reloader.clone().watch(every);
    }
    #[cfg(unix)]
    reloader.clone().reload_on_hangup()?;
    let key = ClaimsKey::from_env()?;
    let app = server::router(reloader.gateway(), key, config.http);
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", args.port)).await?;
    service::serve(listener, app).await?;
    Ok(())
}
