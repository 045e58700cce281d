//! `promptsales`: the operator's command line. Each subcommand lives in its own module.

mod auth;
mod cache;
mod certs;
mod compose;
mod etl;
mod migrate;
mod reencrypt;
mod roles;
mod secrets;
mod seed;
mod token;

use clap::{Parser, Subcommand};
use promptsales_platform::telemetry;

#[derive(Debug, Parser)]
#[command(name = "promptsales", version, about = "Operate the PromptSales platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply each store's DDL (tracked by version; running it again changes nothing).
    Migrate(migrate::Args),
    /// Compose the subgraph SDLs into the supergraph the gateway serves.
    Compose(compose::Args),
    /// Fill the four stores with deterministic, consistent generated data (`--profile small|full`).
    Seed(seed::Args),
    /// Run the dev OAuth2 authorization server, or manage its clients and signing keys.
    Auth(auth::Args),
    /// Print an access token from the dev authorization server (client credentials grant).
    Token(token::Args),
    /// Re-wrap every stored data key under the active key-encryption key (KEK rotation).
    Reencrypt(reencrypt::Args),
    /// Create, update or drop the least-privilege PostgreSQL role of each service.
    Roles(roles::Args),
    /// Write a local CA and a TLS certificate per service, to run the stack over https.
    Certs(certs::Args),
    /// Drop the gateway's cached responses by type or entity (`cache invalidate --type T`).
    Cache(cache::Args),
    /// Seal a secret (an API key, a client secret) for configuration: `secrets seal --purpose P`.
    Secrets(secrets::Args),
    /// The ETL pipeline (the n8n workflow in etl/): `install` it into n8n, or `run-once` now.
    // Boxed: its arguments are several times larger than every other command's.
    Etl(Box<etl::Args>),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Seeding rebuilds indexes for seconds on purpose: sqlx's slow-statement warnings are noise here.
    let _telemetry = telemetry::init("promptsales", "info,sqlx=warn,sqlx::query=error")?;
    match Cli::parse().command {
        Command::Migrate(args) => migrate::run(args).await,
        Command::Seed(args) => seed::run(args).await,
        Command::Compose(args) => compose::run(args).await,
        Command::Auth(args) => auth::run(args).await,
        Command::Token(args) => token::run(args).await,
        Command::Reencrypt(args) => reencrypt::run(args).await,
        Command::Roles(args) => roles::run(args).await,
        Command::Certs(args) => certs::run(args),
        Command::Cache(args) => cache::run(args).await,
        Command::Secrets(args) => secrets::run(args),
        Command::Etl(args) => etl::run(*args).await,
    }
}
