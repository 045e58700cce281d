//! `promptsales-worker`: the agenda worker (see the library) with `/healthz`, `/readyz` and
//! `/metrics` on its port.

use std::{str::FromStr, sync::Arc, time::Duration};

use anyhow::Context;
use clap::Parser;
use promptsales_platform::{service, telemetry, tls::ServerTls};
use promptsales_worker::{
    Config, Worker,
    gateway::Gateway,
    sender::{HttpSink, LogSink, Sink},
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = telemetry::init("worker", "info,sqlx=warn")?;
    let config = Config::parse();
    // The recorder first: the worker's gauges and counters are recorded from its first tick.
    service::metrics();
    let tls = ServerTls::from_env()?;
    let owner = format!(
        "{}:{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into()),
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let settings = config.settings(owner)?;
    let url = config.store_url();
    url.check_for(promptsales_platform::Store::Sales)?;
    let options = PgConnectOptions::from_str(url.expose().as_str())?.application_name("promptsales-worker");
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from(config.concurrency + 4).unwrap_or(32))
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let sink = match config.sink.as_str() {
        "log" => Sink::Log(LogSink),
        url => Sink::Http(HttpSink::new(
            reqwest::Url::parse(url).with_context(|| format!("--sink {url:?} is neither `log` nor a URL"))?,
            config.call_timeout(),
        )?),
    };
    let gateway = match config.client_credentials()? {
        Some(client) => Some(Arc::new(Gateway::new(
            config.gateway_url.clone(),
            client,
            config.call_timeout(),
        )?)),
        None => {
            tracing::warn!("no PROMPTSALES_WORKER_CLIENT_SECRET: approved steps will not run");
            None
        }
    };
    let worker = Arc::new(Worker::new(pool.clone(), sink, gateway, settings));

    let ready = Arc::new(move || {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&pool)
                .await
                .map(|_| ())
                .map_err(|e| format!("sales store: {e}"))
        }) as _
    });
    let listener = tokio::net::TcpListener::bind((service::listen_address()?, config.port)).await?;
    let server = tokio::spawn(service::serve(listener, service::operational_routes(ready), tls));
    tracing::info!(port = config.port, "agenda worker started");
    worker.run(service::shutdown_signal()).await;
    server.abort();
    Ok(())
}
