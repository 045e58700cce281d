//! `promptsales`: the operator's command line. Each subcommand lives in its own module.

mod compose;
mod migrate;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("info,sqlx=warn");
    match Cli::parse().command {
        Command::Migrate(args) => migrate::run(args).await,
        Command::Compose(args) => compose::run(args),
    }
}
