//! `promptsales cache invalidate --type T [--id X]…`: drops the gateway's cached responses that
//! hold objects of a type, or those entities, straight in Redis (the same tag sets the gateway's
//! `POST /cache/invalidate` drops). For the ETL and for operators after a manual data fix.

use anyhow::Context;
use promptsales_platform::redis::{DEFAULT_PREFIX, Redis, RedisOptions, URL_ENV, masked};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Drop the cached responses that hold objects of a type (or only those entities).
    Invalidate(Invalidate),
}

#[derive(Debug, clap::Args)]
struct Invalidate {
    /// The object type as the supergraph names it (`Campaign`).
    #[arg(long = "type")]
    type_name: String,
    /// Entity ids (repeatable); none: every response holding any object of the type.
    #[arg(long = "id")]
    ids: Vec<String>,
    /// Redis; the password may be in the URL.
    #[arg(long, env = URL_ENV, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// The key prefix the gateway's `cache.redis.prefix` sets.
    #[arg(long, default_value = DEFAULT_PREFIX)]
    prefix: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let Command::Invalidate(args) = args.command;
    // An operator's command: wait for Redis longer than a request would.
    let options = RedisOptions {
        url: Some(args.redis_url.clone()),
        prefix: args.prefix,
        timeout_ms: 5000,
        connect_timeout_ms: 5000,
        ..RedisOptions::default()
    };
    let redis = Redis::new(&options).context("the Redis options")?;
    let tags = redis.keys().invalidation_tags(&args.type_name, &args.ids);
    let dropped = redis
        .drop_tagged(&tags)
        .await
        .with_context(|| format!("dropping cached responses in {}", masked(&args.redis_url)))?;
    println!("dropped {dropped} cached responses holding {}", args.type_name);
    Ok(())
}
